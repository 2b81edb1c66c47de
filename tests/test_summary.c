/* test_summary.c - the per-customer purchase summary (src/data/summary.c):
 * same-day orders, one-order customers, returns and cancellations, a
 * calibration end before the as-of date, days and weeks, and the published
 * CDNOW summary reproduced row by row. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "support.h"



/* Customers a..f (dense ids 0..5, as "a" < "b" < ... in byte order). */
static struct crm_dataset *shop(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* a: two orders on 01-01 (one without status: a purchase too), two on
	 * 01-08, one on 01-15; a return, a cancellation, a negative amount;
	 * one order after the calibration end and one after the as-of date */
	add_order(b, "a10", "a", "2024-03-05", "50.00", "completed");
	add_order(b, "a01", "a", "2024-01-01T10:00:00Z", "10.00", "completed");
	add_order(b, "a02", "a", "2024-01-01T15:00:00Z", "5.00", NULL);
	add_order(b, "a03", "a", "2024-01-08T09:00:00Z", "20.00", "completed");
	add_order(b, "a04", "a", "2024-01-08T20:00:00Z", "1.00", "completed");
	add_order(b, "a05", "a", "2024-01-15T12:00:00Z", "30.00", "completed");
	add_order(b, "a06", "a", "2024-01-20", "4.00", "returned");
	add_order(b, "a07", "a", "2024-01-21", "99.00", "cancelled");
	add_order(b, "a08", "a", "2024-01-22", "-2.50", "completed");
	add_order(b, "a09", "a", "2024-02-01", "40.00", "completed");
	/* b: one order */
	add_order(b, "b01", "b", "2024-01-20T08:00:00Z", "8.00", NULL);
	/* c: nothing bought: a cancellation (also one of negative amount) and
	 * a return given with a negative amount */
	add_order(b, "c01", "c", "2024-01-10", "15.00", "cancelled");
	add_order(b, "c02", "c", "2024-01-12", "-3.00", "returned");
	add_order(b, "c03", "c", "2024-01-13", "-7.00", "cancelled");
	/* d: a customer without orders */
	struct ent_record r;
	memset(&r, 0, sizeof r);
	r.entity = CRM_CUSTOMERS;
	r.v[CRM_C_CUSTOMER_ID] = (struct ent_value){ "d", 1, 0, 1 };
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK);
	/* e: first bought after the calibration end */
	add_order(b, "e01", "e", "2024-02-10", "12.00", NULL);
	/* f: repeat days of 0.0001 and 0.0002: their mean, 1.5 ten-thousandths,
	 * rounds half away from zero to 2 */
	add_order(b, "f01", "f", "2024-01-02", "5.00", NULL);
	add_order(b, "f02", "f", "2024-01-03", "0.0001", NULL);
	add_order(b, "f03", "f", "2024-01-04", "0.0002", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	cr_assert_eq(ds->n_customers, 6);
	return ds;
}

static struct crm_customer_summary *summarize(const struct crm_dataset *ds, const char *as_of,
					       const char *cal_end, int unit)
{
	struct crm_summary_opts o = { as_of ? ts(as_of) : CRM_NA,
				      cal_end ? ts(cal_end) : CRM_NA, unit };
	struct crm_customer_summary *s = NULL;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK, "%s", err.msg);
	return s;
}

Test(summary, calibration_end_before_as_of_in_days)
{
	struct crm_dataset *ds = shop();
	struct crm_customer_summary *s = summarize(ds, "2024-02-29", "2024-01-31", CRM_UNIT_DAY);
	/* a: purchase days up to 01-31: 01-01 (10 + 5 = 15), 01-08 (20 + 1 =
	 * 21), 01-15 (30): x = 2; t_x = 14; T = 01-31 - 01-01 = 30;
	 * mean_repeat = (21 + 30) / 2 = 25.50. Completed up to 02-29: a01..a05
	 * and a09 = 6 orders (a08's negative amount is a return); net =
	 * 10 + 5 + 20 + 1 + 30 + 40 - 4 - 2.50 = 99.50; a10 (03-05) is after. */
	cr_assert_eq(s[0].x, 2);
	cr_assert_eq(s[0].t_x, 14);
	cr_assert_eq(s[0].T, 30);
	cr_assert_eq(s[0].mean_repeat, 255000);
	cr_assert_eq(s[0].first_at, ts("2024-01-01T10:00:00Z"));
	cr_assert_eq(s[0].last_at, ts("2024-01-15T12:00:00Z"));
	cr_assert_eq(s[0].n_orders, 6);
	cr_assert_eq(s[0].net_revenue, 995000);
	/* b: one order on 01-20: x = 0, t_x = 0, T = 31 - 20 = 11 days */
	cr_assert_eq(s[1].x, 0);
	cr_assert_eq(s[1].t_x, 0);
	cr_assert_eq(s[1].T, 11);
	cr_assert_eq(s[1].mean_repeat, 0);
	cr_assert_eq(s[1].first_at, ts("2024-01-20T08:00:00Z"));
	cr_assert_eq(s[1].last_at, ts("2024-01-20T08:00:00Z"));
	cr_assert_eq(s[1].n_orders, 1);
	cr_assert_eq(s[1].net_revenue, 80000);
	/* c: cancelled orders count nowhere, the return of -3.00 by its size */
	cr_assert_eq(s[2].x, 0);
	cr_assert_eq(s[2].T, 0);
	cr_assert_eq(s[2].first_at, CRM_NA);
	cr_assert_eq(s[2].last_at, CRM_NA);
	cr_assert_eq(s[2].n_orders, 0);
	cr_assert_eq(s[2].net_revenue, -30000);
	/* d: no orders */
	cr_assert_eq(s[3].x, 0);
	cr_assert_eq(s[3].T, 0);
	cr_assert_eq(s[3].first_at, CRM_NA);
	cr_assert_eq(s[3].n_orders, 0);
	cr_assert_eq(s[3].net_revenue, 0);
	/* e: bought 02-10, after the calibration end but before as-of */
	cr_assert_eq(s[4].x, 0);
	cr_assert_eq(s[4].T, 0);
	cr_assert_eq(s[4].first_at, CRM_NA);
	cr_assert_eq(s[4].n_orders, 1);
	cr_assert_eq(s[4].net_revenue, 120000);
	/* f: days 01-02, 01-03, 01-04: x = 2, t_x = 2, T = 29, mean of 1 and 2
	 * ten-thousandths = 1.5 -> 2; net 5.0003 */
	cr_assert_eq(s[5].x, 2);
	cr_assert_eq(s[5].t_x, 2);
	cr_assert_eq(s[5].T, 29);
	cr_assert_eq(s[5].mean_repeat, 2);
	cr_assert_eq(s[5].n_orders, 3);
	cr_assert_eq(s[5].net_revenue, 50003);
	free(s);
	crm_dataset_free(ds);
}

Test(summary, weeks_are_days_over_seven)
{
	struct crm_dataset *ds = shop();
	struct crm_customer_summary *s = summarize(ds, "2024-02-29", "2024-01-31", CRM_UNIT_WEEK);
	cr_assert_eq(s[0].x, 2);
	cr_assert_float_eq(s[0].t_x, 2.0, 1e-12);          /* 14 / 7 */
	cr_assert_float_eq(s[0].T, 30.0 / 7, 1e-12);       /* 4.2857 */
	cr_assert_float_eq(s[1].T, 11.0 / 7, 1e-12);
	cr_assert_float_eq(s[5].t_x, 2.0 / 7, 1e-12);
	cr_assert_float_eq(s[5].T, 29.0 / 7, 1e-12);
	cr_assert_eq(s[0].mean_repeat, 255000);            /* money does not change */
	free(s);
	crm_dataset_free(ds);
}

Test(summary, defaults_to_the_last_event)
{
	struct crm_dataset *ds = shop();
	/* as-of = calibration end = the last event, a10 on 2024-03-05 */
	cr_assert_eq(ds->last_at, ts("2024-03-05"));
	struct crm_customer_summary *s = NULL;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, NULL, &s, &err), CRM_OK);
	/* a: days 01-01, 01-08, 01-15, 02-01, 03-05: x = 4; t_x = T = 31 + 29 +
	 * 4 = 64 days; mean_repeat = (21 + 30 + 40 + 50) / 4 = 35.25; 7
	 * completed orders; net = 99.50 + 50 = 149.50 */
	cr_assert_eq(s[0].x, 4);
	cr_assert_eq(s[0].t_x, 64);
	cr_assert_eq(s[0].T, 64);
	cr_assert_eq(s[0].mean_repeat, 352500);
	cr_assert_eq(s[0].n_orders, 7);
	cr_assert_eq(s[0].net_revenue, 1495000);
	cr_assert_eq(s[0].last_at, ts("2024-03-05"));
	/* e: first bought 02-10: T = 19 + 5 = 24 days */
	cr_assert_eq(s[4].x, 0);
	cr_assert_eq(s[4].T, 24);
	cr_assert_eq(s[4].first_at, ts("2024-02-10"));
	free(s);
	crm_dataset_free(ds);
}

Test(summary, rejects_bad_options)
{
	struct crm_dataset *ds = shop();
	struct crm_customer_summary *s = NULL;
	struct crm_err err;
	struct crm_summary_opts o = { ts("2024-01-31"), ts("2024-02-29"), CRM_UNIT_DAY };
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_EINVAL);
	cr_assert_null(s);
	cr_assert(strstr(err.msg, "calibration end"), "%s", err.msg);
	o = (struct crm_summary_opts){ CRM_NA, CRM_NA, 9 };
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_EINVAL);
	crm_dataset_free(ds);
}

Test(summary, two_threads_give_every_customer_its_own_numbers)
{
	/* 20000 customers "u00000".."u19999" (byte order = number order);
	 * customer k buys m = 1 + k % 25 times, every s = 1 + k % 3 days from
	 * day 19000 + k % 7 (2022-01-08 + k % 7), the j-th order (j = 0..m-1)
	 * for j + 1 units. 260,000 orders in all: past the size where the
	 * summary splits the customers over two threads. Expected, with the
	 * calibration end and as-of on day 19200:
	 *   x = m - 1, t_x = (m - 1) s, T = 19200 - first day,
	 *   mean_repeat = (2 + ... + m) / (m - 1) = (m + 2) / 2 units,
	 *   orders = m, net = m (m + 1) / 2 units. */
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	char cust[32], oid[32];
	size_t n_orders = 0;
	for (int k = 0; k < 20000; k++) {
		int m = 1 + k % 25, step = 1 + k % 3;
		snprintf(cust, sizeof cust, "u%05d", k);
		for (int j = 0; j < m; j++) {
			struct ent_record r;
			memset(&r, 0, sizeof r);
			r.entity = CRM_ORDERS;
			snprintf(oid, sizeof oid, "%d-%d", k, j);
			r.v[CRM_O_ORDER_ID] = (struct ent_value){ oid, strlen(oid), 0, 1 };
			r.v[CRM_O_CUSTOMER_ID] = (struct ent_value){ cust, strlen(cust), 0, 1 };
			int64_t day = 19000 + k % 7 + (int64_t)j * step;
			r.v[CRM_O_ORDERED_AT] = (struct ent_value){ NULL, 0, day * SECS_PER_DAY + 3600, 1 };
			r.v[CRM_O_AMOUNT] = (struct ent_value){ NULL, 0, (int64_t)(j + 1) * MONEY_SCALE, 1 };
			cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK);
			n_orders++;
		}
	}
	cr_assert_eq(n_orders, 260000);
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	struct crm_summary_opts o = { 19200 * (int64_t)SECS_PER_DAY, CRM_NA, CRM_UNIT_DAY };
	struct crm_customer_summary *s;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK);
	for (int k = 0; k < 20000; k++) {
		int64_t m = 1 + k % 25, step = 1 + k % 3, first = 19000 + k % 7;
		cr_assert_eq(s[k].x, (double)(m - 1), "customer %d", k);
		cr_assert_eq(s[k].t_x, (double)((m - 1) * step), "customer %d", k);
		cr_assert_eq(s[k].T, (double)(19200 - first), "customer %d", k);
		cr_assert_eq(s[k].mean_repeat, m > 1 ? (m + 2) * MONEY_SCALE / 2 : 0, "customer %d", k);
		cr_assert_eq(s[k].n_orders, m);
		cr_assert_eq(s[k].net_revenue, m * (m + 1) / 2 * MONEY_SCALE);
		cr_assert_eq(s[k].first_at, first * SECS_PER_DAY + 3600);
	}
	free(s);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------- CDNOW */

#define CDNOW "../shared/data/cdnow/"

/* Builds the dataset of CDNOW_sample.txt: one order per line (master id,
 * sample id, YYYYMMDD, CDs, dollars), customer_id = the sample id without
 * its leading zeros (the ID of the published summaries). */
static struct crm_dataset *cdnow_sample(void)
{
	FILE *f = fopen(CDNOW "CDNOW_sample.txt", "r");
	cr_assert_not_null(f, "open CDNOW_sample.txt");
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	char line[256], dollars[32], cust[24], oid[24];
	long master, sample, cds;
	unsigned ymd;
	long n = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%ld %ld %u %ld %31s", &master, &sample, &ymd, &cds, dollars) != 5)
			continue;
		n++;
		snprintf(cust, sizeof cust, "%ld", sample);
		snprintf(oid, sizeof oid, "%ld", n);
		struct ent_record r;
		memset(&r, 0, sizeof r);
		r.entity = CRM_ORDERS;
		r.line = n;
		r.v[CRM_O_ORDER_ID] = (struct ent_value){ oid, strlen(oid), 0, 1 };
		r.v[CRM_O_CUSTOMER_ID] = (struct ent_value){ cust, strlen(cust), 0, 1 };
		int64_t day = days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100);
		r.v[CRM_O_ORDERED_AT] = (struct ent_value){ NULL, 0, day * SECS_PER_DAY, 1 };
		int64_t a;
		cr_assert_eq(money_parse(dollars, strlen(dollars), '.', &a), 0, "line %ld", n);
		r.v[CRM_O_AMOUNT] = (struct ent_value){ NULL, 0, a, 1 };
		cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	}
	fclose(f);
	cr_assert_eq(n, 6919);
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	return ds;
}

/* The dense id of customer_id text `id` (customers are in byte order). */
static size_t find_customer(const struct crm_dataset *ds, const char *id)
{
	size_t lo = 0, hi = ds->n_customers;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		int c = strcmp(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, m), id);
		if (c == 0)
			return m;
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	cr_assert_fail("customer %s not found", id);
	return 0;
}

Test(summary, cdnow_reproduces_the_published_summary)
{
	struct crm_dataset *ds = cdnow_sample();
	cr_assert_eq(ds->n_customers, 2357);
	/* data/README.md: calibration 1997-01-01 .. 1997-09-30, in weeks */
	struct crm_customer_summary *s = summarize(ds, "1997-09-30", "1997-09-30", CRM_UNIT_WEEK);

	FILE *f = fopen(CDNOW "cdnow_customers_summary.csv", "r");
	cr_assert_not_null(f);
	char line[256];
	cr_assert_not_null(fgets(line, sizeof line, f));
	line[strcspn(line, "\r\n")] = '\0';
	cr_assert_str_eq(line, "ID,frequency,recency,T");
	size_t rows = 0, repeaters = 0;
	char id[24];
	double x, t_x, T;
	while (fgets(line, sizeof line, f)) {
		cr_assert_eq(sscanf(line, "%23[^,],%lf,%lf,%lf", id, &x, &t_x, &T), 4, "%s", line);
		size_t c = find_customer(ds, id);
		/* the file rounds to two decimals; days / 7 is never a half
		 * hundredth, so ours must be within 0.005 */
		cr_assert_eq(s[c].x, x, "customer %s x %g vs %g", id, s[c].x, x);
		cr_assert_leq(fabs(s[c].t_x - t_x), 0.005, "customer %s t_x %g vs %g", id, s[c].t_x, t_x);
		cr_assert_leq(fabs(s[c].T - T), 0.005, "customer %s T %g vs %g", id, s[c].T, T);
		rows++;
	}
	fclose(f);
	cr_assert_eq(rows, 2357);
	for (size_t c = 0; c < ds->n_customers; c++)
		repeaters += s[c].x > 0;
	cr_assert_eq(repeaters, 946);
	/* customer 1 (data/README.md): first bought 1997-01-01, T = 272 / 7 */
	size_t one = find_customer(ds, "1");
	cr_assert_float_eq(s[one].T, 272.0 / 7, 1e-12);
	free(s);
	crm_dataset_free(ds);
}

Test(summary, cdnow_mean_repeat_is_zbar_to_the_cent)
{
	struct crm_dataset *ds = cdnow_sample();
	struct crm_customer_summary *s = summarize(ds, "1997-09-30", "1997-09-30", CRM_UNIT_WEEK);
	FILE *f = fopen(CDNOW "cdnow_customers_summary_with_transactions.csv", "r");
	cr_assert_not_null(f);
	char line[256], id[24], zbar[32];
	double x, t_x, T;
	cr_assert_not_null(fgets(line, sizeof line, f));
	line[strcspn(line, "\r\n")] = '\0';   /* this file has CRLF line ends */
	cr_assert_str_eq(line, "ID,x,t_x,T,zbar");
	size_t rows = 0;
	while (fgets(line, sizeof line, f)) {
		cr_assert_eq(sscanf(line, "%23[^,],%lf,%lf,%lf,%31s", id, &x, &t_x, &T, zbar), 5);
		size_t c = find_customer(ds, id);
		int64_t want;
		cr_assert_eq(money_parse(zbar, strlen(zbar), '.', &want), 0);
		/* to the cent: ours rounded half away from zero to two decimals */
		char ours[32];
		money_format(s[c].mean_repeat, 2, ours);
		int64_t got;
		cr_assert_eq(money_parse(ours, strlen(ours), '.', &got), 0);
		cr_assert_eq(got, want, "customer %s: mean_repeat %s, zbar %s", id, ours, zbar);
		rows++;
	}
	fclose(f);
	cr_assert_eq(rows, 2357);
	/* customer 1: repeat days 1997-01-18 (29.73) and 1997-08-02 (14.96):
	 * (29.73 + 14.96) / 2 = 22.345 exactly, published as 22.35 */
	cr_assert_eq(s[find_customer(ds, "1")].mean_repeat, 223450);
	free(s);
	crm_dataset_free(ds);
}
