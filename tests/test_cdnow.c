/* test_cdnow.c - end to end on the CDNOW sample: the file read by the real
 * importer (runs of spaces, no header, columns by number, %Y%m%d dates)
 * straight into a dataset, then the purchase summary as of 1997-09-30 in
 * weeks, against the published summaries in ../shared/data/cdnow
 * (data/README.md: all 2,357 rows equal to 0.01; 946 customers with x > 0). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tstamp.h"
#include "data/load.h"

Test(cdnow, sample_summary_equals_the_published_one)
{
	static const char *const maps[] = { "customer_id=#2", "ordered_at=#3", "items=#4", "amount=#5" };
	struct ds_file f;
	memset(&f, 0, sizeof f);
	f.path = "../shared/data/cdnow/CDNOW_sample.txt";
	f.ing.entity = CRM_ORDERS;
	f.ing.csv.mode = ING_DELIM_WS;
	f.ing.no_header = 1;
	f.ing.maps = maps;
	f.ing.n_maps = 4;
	f.ing.date_format = "%Y%m%d";
	f.ing.decimal = '.';
	struct ing_summary sum;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(sum.read, 6919);
	cr_assert_eq(sum.rejected, 0);
	cr_assert_eq(ds->n_customers, 2357);

	/* as of the end of 1997-09-30, the calibration period's last day */
	struct crm_summary_opts o = { days_from_civil(1997, 9, 30) * SECS_PER_DAY + SECS_PER_DAY - 1,
				      CRM_NA, CRM_UNIT_WEEK };
	struct crm_customer_summary *s;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK, "%s", err.msg);

	/* customer ids in the sample are "0001".."2357"; the summary's ID is the number */
	size_t *by_id = calloc(2358, sizeof *by_id);
	for (size_t c = 0; c < ds->n_customers; c++) {
		long id = strtol(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c), NULL, 10);
		cr_assert(id >= 1 && id <= 2357);
		by_id[id] = c + 1;
	}
	FILE *in = fopen("../shared/data/cdnow/cdnow_customers_summary_with_transactions.csv", "r");
	cr_assert_not_null(in);
	char line[256];
	cr_assert_not_null(fgets(line, sizeof line, in));   /* header */
	size_t rows = 0, repeaters = 0;
	while (fgets(line, sizeof line, in)) {
		long id;
		double x, t_x, T, zbar;
		cr_assert_eq(sscanf(line, "%ld,%lf,%lf,%lf,%lf", &id, &x, &t_x, &T, &zbar), 5, "%s", line);
		cr_assert(by_id[id], "customer %ld missing", id);
		const struct crm_customer_summary *r = &s[by_id[id] - 1];
		cr_assert_float_eq(r->x, x, 1e-9, "customer %ld: x %g vs %g", id, r->x, x);
		cr_assert_float_eq(r->t_x, t_x, 0.005 + 1e-9, "customer %ld: t_x %g vs %g", id, r->t_x, t_x);
		cr_assert_float_eq(r->T, T, 0.005 + 1e-9, "customer %ld: T %g vs %g", id, r->T, T);
		/* zbar: the mean dollar value of the repeat purchases, to the cent */
		cr_assert(fabs((double)r->mean_repeat / 10000.0 - zbar) <= 0.005 + 1e-9,
			  "customer %ld: mean_repeat %lld vs zbar %g", id, (long long)r->mean_repeat, zbar);
		rows++;
		repeaters += x > 0;
	}
	fclose(in);
	cr_assert_eq(rows, 2357);
	cr_assert_eq(repeaters, 946);
	free(by_id);
	free(s);
	crm_dataset_free(ds);
}
