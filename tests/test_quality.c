/* test_quality.c - the data-quality checks and score on a hand-made
 * dataset, worked out by hand below, and the command on a database. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean/quality.h"
#include "core/err.h"
#include "data/builder.h"
#include "report/doc.h"
#include "support.h"

static void add_customer(struct ds_builder *b, const char *id, const char *email,
			 const char *birth, const char *signup)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 0);
	struct crm_err err;
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	if (email)
		set_s(&r, CRM_C_EMAIL, email);
	if (birth)
		set_i(&r, CRM_C_BIRTH_DATE, ts(birth));
	if (signup)
		set_i(&r, CRM_C_SIGNUP_AT, ts(signup));
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

/* Customers C1..C3 and a stub S9 (known only from an order):
 *   C1 signup 2024-01-10, born 1990-05-05, e-mail
 *   C2 signup 2024-03-01, born 2030-01-01 (after A: birth_date_range)
 *   C3 signup 2025-02-01 (after A: signup_future), no birth date
 * Orders, A = 2025-01-31 23:59:59:
 *   O1 C1 2024-01-09  10   the day before C1's signup: orders_before_signup
 *   O2 C1 2024-02-01  12
 *   O3 C1 2024-03-01  14
 *   O4 C2 2024-03-05  16
 *   O5 C2 2024-04-01  1000 outlier (below)
 *   O6 C2 2024-05-01  -5   no status: negative_not_return
 *   O7 C2 2024-05-02  -7   returned: fine
 *   O8 S9 2024-06-01  11   orders_of_stubs
 *   O9 C1 2025-02-15  13   after A: future
 * Completed amounts 10 11 12 13 14 16 1000: median 13; absolute
 * deviations 3 2 1 0 1 3 987, sorted 0 1 1 2 3 3 987: MAD 2; threshold
 * 13 + 10 x 2 = 33, so only O5 is an outlier. */
static struct crm_dataset *make(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_customer(b, "C1", "a@x.org", "1990-05-05", "2024-01-10T12:00:00Z");
	add_customer(b, "C2", NULL, "2030-01-01", "2024-03-01T00:00:00Z");
	add_customer(b, "C3", NULL, NULL, "2025-02-01T00:00:00Z");
	add_order(b, "O1", "C1", "2024-01-09T23:00:00Z", "10", NULL);
	add_order(b, "O2", "C1", "2024-02-01T10:00:00Z", "12", NULL);
	add_order(b, "O3", "C1", "2024-03-01T10:00:00Z", "14", NULL);
	add_order(b, "O4", "C2", "2024-03-05T10:00:00Z", "16", NULL);
	add_order(b, "O5", "C2", "2024-04-01T10:00:00Z", "1000", NULL);
	add_order(b, "O6", "C2", "2024-05-01T10:00:00Z", "-5", NULL);
	add_order(b, "O7", "C2", "2024-05-02T10:00:00Z", "-7", "returned");
	add_order(b, "O8", "S9", "2024-06-01T10:00:00Z", "11", NULL);
	add_order(b, "O9", "C1", "2025-02-15T10:00:00Z", "13", NULL);
	/* tickets: handling 1,500.5 minutes (over 24 h: long_handling) and 30 */
	const char *tk[2][2] = { { "T1", "C1" }, { "T2", "C2" } };
	const int64_t minutes[2] = { 15005000, 300000 };   /* ten-thousandths */
	for (int i = 0; i < 2; i++) {
		struct ent_record r = rec(CRM_TICKETS, 0);
		set_s(&r, CRM_T_TICKET_ID, tk[i][0]);
		set_s(&r, CRM_T_CUSTOMER_ID, tk[i][1]);
		set_i(&r, CRM_T_OPENED_AT, ts("2024-05-01T10:00:00Z"));
		set_i(&r, CRM_T_HANDLING_MINUTES, minutes[i]);
		cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	}
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

Test(quality, checks_counted_by_hand)
{
	struct crm_dataset *ds = make();
	struct cl_quality q;
	struct crm_err err;
	cr_assert_eq(cl_quality_compute(ds, ts("2025-01-31T23:59:59Z"), &q, &err), CRM_OK, "%s",
		     err.msg);
	cr_assert_eq(q.median_amount, 13 * 10000);
	cr_assert_eq(q.mad, 2 * 10000);
	cr_assert_eq(q.outlier_threshold, 33 * 10000);
	cr_assert_eq(q.check[CL_OUTLIER], 1);
	cr_assert_eq(q.n_top, 1);
	cr_assert_eq(q.top[0].amount, 1000 * 10000);
	cr_assert_str_eq(crm_cell_str(&ds->t[CRM_ORDERS], CRM_O_ORDER_ID, q.top[0].row), "O5");
	cr_assert_eq(q.check[CL_FUTURE], 1);
	cr_assert_eq(q.check[CL_BEFORE_SIGNUP], 1);
	cr_assert_eq(q.check[CL_STUB_ORDER], 1);
	cr_assert_eq(q.check[CL_NEG_NOT_RETURN], 1);
	cr_assert_eq(q.check[CL_BIRTH_RANGE], 1);
	cr_assert_eq(q.check[CL_SIGNUP_FUTURE], 1);
	cr_assert_eq(q.check[CL_COST_RANGE], 0);
	cr_assert_eq(q.check[CL_LONG_HANDLING], 1);
	cr_assert_eq(q.e[CRM_TICKETS].flagged, 1);
	cr_assert_eq(q.stub_customers, 1);
	cr_assert_eq(q.pending_pairs, CRM_NA);
	cr_assert_eq(q.e[CRM_ORDERS].rejected, CRM_NA);

	/* orders: 9 rows, flagged O1 O5 O6 O8 O9 = 5, consistency 4/9; of the
	 * optional fields only status holds a value (O7): 1 of 9 filled, the
	 * others were never collected; score 100 x (0.5 x 1/9 + 0.5 x 4/9) =
	 * 27.78 */
	const struct cl_entity_quality *o = &q.e[CRM_ORDERS];
	cr_assert_eq(o->rows, 9);
	cr_assert_eq(o->flagged, 5);
	cr_assert_eq(o->collected_fields, 1);
	cr_assert_eq(o->missing[CRM_O_STATUS], 8);
	cr_assert_eq(o->missing[CRM_O_CURRENCY], 9);
	cr_assert_eq(o->missing[CRM_O_CUSTOMER_ID], -1);
	cr_assert_float_eq(o->completeness, 1.0 / 9, 1e-12);
	cr_assert_float_eq(o->consistency, 4.0 / 9, 1e-12);
	cr_assert_float_eq(o->score, 100.0 * 5 / 18, 1e-9);

	/* customers (the stub left out): 3 rows, flagged C2 C3; collected
	 * e-mail (1 of 3), birth_date (2 of 3), signup_at (3 of 3): 6 of 9;
	 * score 100 x (0.5 x 2/3 + 0.5 x 1/3) = 50 */
	const struct cl_entity_quality *c = &q.e[CRM_CUSTOMERS];
	cr_assert_eq(c->rows, 3);
	cr_assert_eq(c->flagged, 2);
	cr_assert_eq(c->collected_fields, 3);
	cr_assert_eq(c->missing[CRM_C_EMAIL], 2);
	cr_assert_eq(c->missing[CRM_C_PHONE], 3);
	cr_assert_float_eq(c->score, 50.0, 1e-9);

	/* no leads: no rows, no score */
	cr_assert_eq(q.e[CRM_LEADS].rows, 0);
	cr_assert(isnan(q.e[CRM_LEADS].score));

	/* the report section carries the same numbers */
	struct rp_doc *d = rp_doc_new();
	cl_quality_emit(&q, ds, NULL, d);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK);
	int found = 0;
	cr_assert_float_eq(rp_get(d, NULL, "quality.orders_before_signup", &found), 1.0, 1e-12);
	cr_assert(found);
	cr_assert_float_eq(rp_get(d, NULL, "quality.outlier_threshold", NULL), 33.0, 1e-12);
	cr_assert(isnan(rp_get(d, NULL, "quality.pending_pairs", &found)));
	cr_assert(found);
	const struct rp_table *t = rp_table_get(d, NULL, "quality.outliers");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 1);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "O5");
	cr_assert_str_eq(rp_table_str(t, 0, 1), "C2");
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(quality, with_no_as_of_checks_use_the_last_event)
{
	struct crm_dataset *ds = make();
	struct cl_quality q;
	struct crm_err err;
	/* A = the last event, O9 on 2025-02-15: nothing is in the future, and
	 * C3's signup (2025-02-01) is not after A */
	cr_assert_eq(cl_quality_compute(ds, CRM_NA, &q, &err), CRM_OK);
	cr_assert_eq(q.as_of, ds->last_at);
	cr_assert_eq(q.check[CL_FUTURE], 0);
	cr_assert_eq(q.check[CL_SIGNUP_FUTURE], 0);
	cr_assert_eq(q.check[CL_BIRTH_RANGE], 1);
	crm_dataset_free(ds);
}

/* The command on a database: rejects so far come from the imports. Two
 * orders rows are rejected (a bad date, a missing amount), one is stored,
 * for customer Z (a stub). */
Test(quality, command_reads_rejects_from_the_database)
{
	char dir[256], csv[512], cmd[2048];
	tmpdir_make(dir, sizeof dir);
	write_file(dir, "o.csv",
		   "order_id,customer_id,ordered_at,amount\n"
		   "A,Z,2024-01-01,10\n"
		   "B,Z,not a date,10\n"
		   "C,Z,2024-01-02,\n", csv, sizeof csv);
	const char *env = getenv("CRMSCOPE_BIN");
	char *bin = realpath(env ? env : "build/crmscope", NULL);
	cr_assert_not_null(bin);
	snprintf(cmd, sizeof cmd,
		 "cd %s && %s import q.db orders o.csv > /dev/null 2>&1;"
		 " %s quality q.db --format json --out q.json && %s quality q.db > q.txt",
		 dir, bin, bin, bin);
	free(bin);
	cr_assert_eq(system(cmd), 0);
	char path[512];
	snprintf(path, sizeof path, "%s/q.json", dir);
	char *json = read_file(path, NULL);
	cr_assert_not_null(json);
	cr_assert_not_null(strstr(json, "\"bad_date\""));
	cr_assert_not_null(strstr(json, "orders_of_stubs"));
	free(json);
	snprintf(path, sizeof path, "%s/q.txt", dir);
	char *text = read_file(path, NULL);
	cr_assert_not_null(strstr(text, "missing"));
	free(text);
	tmpdir_remove(dir);
}
