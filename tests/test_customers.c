/* test_customers.c - the customer summary as CSV and JSON
 * (src/report/customers.c): exact bytes of a tiny table in weeks and days. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "report/customers.h"
#include "support.h"



/* Three customers, in byte order "a,b" < "q\"1" < "z":
 *   a,b  no orders
 *   q"1  2024-01-01 10.00, 2024-01-08 12.345 (a three-decimal amount)
 *   z    2024-01-05 7.00 returned
 * as of 2024-01-10, calibration end the same. */
static struct crm_dataset *tiny(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	struct ent_record r;
	memset(&r, 0, sizeof r);
	r.entity = CRM_CUSTOMERS;
	r.v[CRM_C_CUSTOMER_ID] = (struct ent_value){ "a,b", 3, 0, 1 };
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK);
	add_order(b, "1", "q\"1", "2024-01-01T09:30:00Z", "10.00", NULL);
	add_order(b, "2", "q\"1", "2024-01-08", "12.345", "completed");
	add_order(b, "3", "z", "2024-01-05", "7.00", "returned");
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	return ds;
}

/* Runs the summary and one writer into memory; returns the bytes (free). */
static char *render(int unit, int json)
{
	struct crm_dataset *ds = tiny();
	struct crm_summary_opts o = { ts("2024-01-10"), CRM_NA, unit };
	struct crm_customer_summary *s;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	int rc = json ? rpt_customers_json(ds, s, &o, f, &err) : rpt_customers_csv(ds, s, &o, f, &err);
	cr_assert_eq(rc, CRM_OK, "%s", err.msg);
	fclose(f);
	if (!json) {
		/* the summary made while writing gives the same bytes */
		char *made = NULL;
		size_t made_len = 0;
		f = open_memstream(&made, &made_len);
		cr_assert_not_null(f);
		cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_OK, "%s", err.msg);
		fclose(f);
		cr_assert_str_eq(made, text);
		free(made);
	}
	free(s);
	crm_dataset_free(ds);
	return text;
}

/* Without a summary, the writer checks the options as crm_summary_compute
 * does, before writing a byte, and will not choose rows without one. */
Test(customers, csv_without_a_summary_refuses_what_the_summary_refuses)
{
	struct crm_dataset *ds = tiny();
	struct crm_summary_opts o = { ts("2024-01-10"), ts("2024-01-11"), CRM_UNIT_DAY };
	struct crm_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "calibration end") != NULL, "%s", err.msg);
	o.calibration_end = CRM_NA;
	o.unit = 99;
	cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_EINVAL);
	uint32_t one = 0;
	struct rpt_customer_rows sel = { &one, 1 };
	o.unit = CRM_UNIT_DAY;
	cr_assert_eq(rpt_customers_table_csv(ds, NULL, &o, NULL, &sel, f, &err), CRM_EINVAL);
	fclose(f);
	cr_assert_eq(len, 0);
	free(text);
	crm_dataset_free(ds);
}

Test(customers, csv_in_weeks)
{
	/* q"1: days 01-01 and 01-08: x = 1, t_x = 7 / 7 = 1.00, T = 9 / 7 =
	 * 1.2857 -> 1.29; mean_repeat = 12.345 -> 12.35 (half away from zero);
	 * 2 orders; net 22.345 shown exactly. z: a return of 7.00, no
	 * purchase: net -7.00. "a,b" and q"1 are quoted. */
	char *csv = render(CRM_UNIT_WEEK, 0);
	cr_assert_str_eq(csv,
		"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
		"\"a,b\",0,0.00,0.00,0.00,,,0,0.00\n"
		"\"q\"\"1\",1,1.00,1.29,12.35,2024-01-01,2024-01-08,2,22.345\n"
		"z,0,0.00,0.00,0.00,,,0,-7.00\n");
	free(csv);
}

Test(customers, csv_in_days)
{
	char *csv = render(CRM_UNIT_DAY, 0);
	cr_assert_str_eq(csv,
		"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
		"\"a,b\",0,0,0,0.00,,,0,0.00\n"
		"\"q\"\"1\",1,7,9,12.35,2024-01-01,2024-01-08,2,22.345\n"
		"z,0,0,0,0.00,,,0,-7.00\n");
	free(csv);
}

Test(customers, json_has_the_same_values)
{
	char *text = render(CRM_UNIT_WEEK, 1);
	/* one object per line between the brackets, keys in column order,
	 * numbers with the CSV's text */
	cr_assert_str_eq(text,
		"[\n"
		"{\"customer_id\":\"a,b\",\"x\":0,\"t_x\":0.00,\"T\":0.00,\"mean_repeat\":0.00,"
		"\"first_purchase\":null,\"last_purchase\":null,\"orders\":0,\"net_revenue\":0.00},\n"
		"{\"customer_id\":\"q\\\"1\",\"x\":1,\"t_x\":1.00,\"T\":1.29,\"mean_repeat\":12.35,"
		"\"first_purchase\":\"2024-01-01\",\"last_purchase\":\"2024-01-08\",\"orders\":2,"
		"\"net_revenue\":22.345},\n"
		"{\"customer_id\":\"z\",\"x\":0,\"t_x\":0.00,\"T\":0.00,\"mean_repeat\":0.00,"
		"\"first_purchase\":null,\"last_purchase\":null,\"orders\":0,\"net_revenue\":-7.00}\n"
		"]\n");
	json_error_t je;
	json_t *a = json_loads(text, 0, &je);
	cr_assert_not_null(a, "%s", je.text);
	cr_assert_eq(json_array_size(a), 3);
	json_t *q = json_array_get(a, 1);
	cr_assert_str_eq(json_string_value(json_object_get(q, "customer_id")), "q\"1");
	cr_assert_eq(json_integer_value(json_object_get(q, "x")), 1);
	cr_assert_float_eq(json_real_value(json_object_get(q, "t_x")), 1.0, 1e-12);
	cr_assert_float_eq(json_real_value(json_object_get(q, "T")), 1.29, 1e-12);
	cr_assert_float_eq(json_real_value(json_object_get(q, "mean_repeat")), 12.35, 1e-12);
	cr_assert_str_eq(json_string_value(json_object_get(q, "first_purchase")), "2024-01-01");
	cr_assert_str_eq(json_string_value(json_object_get(q, "last_purchase")), "2024-01-08");
	cr_assert_eq(json_integer_value(json_object_get(q, "orders")), 2);
	cr_assert_float_eq(json_real_value(json_object_get(q, "net_revenue")), 22.345, 1e-12);
	json_t *z = json_array_get(a, 2);
	cr_assert(json_is_null(json_object_get(z, "first_purchase")));
	cr_assert_float_eq(json_real_value(json_object_get(z, "net_revenue")), -7.0, 1e-12);
	json_decref(a);
	free(text);

	/* days are integers */
	text = render(CRM_UNIT_DAY, 1);
	a = json_loads(text, 0, &je);
	cr_assert_not_null(a);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(a, 1), "T")), 9);
	json_decref(a);
	free(text);
}

Test(customers, json_text_is_escaped_and_valid)
{
	/* a quote, a backslash, a tab, a Greek letter, and a stray byte that
	 * is not UTF-8 (0xff), which becomes U+FFFD */
	static const char id[] = "a\"\\\t\xce\xb1\xff";
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_order(b, "1", id, "2024-01-01", "1", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	struct crm_customer_summary *s;
	cr_assert_eq(crm_summary_compute(ds, NULL, &s, &err), CRM_OK);
	json_t *o = rpt_customer_json(ds, 0, s, NULL);
	cr_assert_not_null(o);
	cr_assert_str_eq(json_string_value(json_object_get(o, "customer_id")),
			 "a\"\\\t\xce\xb1\xef\xbf\xbd");
	cr_assert_eq(json_integer_value(json_object_get(o, "T")), 0);
	cr_assert_float_eq(json_real_value(json_object_get(o, "net_revenue")), 1.0, 1e-12);
	json_decref(o);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_json(ds, s, NULL, f, &err), CRM_OK);
	fclose(f);
	cr_assert_not_null(strstr(text, "\"customer_id\":\"a\\\"\\\\\\u0009\xce\xb1\xef\xbf\xbd\""), "%s", text);
	free(text);
	free(s);
	crm_dataset_free(ds);
}

Test(customers, empty_table)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	struct crm_customer_summary *s;
	cr_assert_eq(crm_summary_compute(ds, NULL, &s, &err), CRM_OK);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_json(ds, s, NULL, f, &err), CRM_OK);
	cr_assert_eq(rpt_customers_csv(ds, s, NULL, f, &err), CRM_OK);
	fclose(f);
	cr_assert_str_eq(text, "[\n]\ncustomer_id,x,t_x,T,mean_repeat,first_purchase,"
			 "last_purchase,orders,net_revenue\n");
	free(text);
	free(s);
	crm_dataset_free(ds);
}

Test(customers, write_failure_is_eio)
{
	struct crm_dataset *ds = tiny();
	struct crm_customer_summary *s;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, NULL, &s, &err), CRM_OK);
	FILE *f = fopen("/dev/full", "w");
	cr_assert_not_null(f);
	cr_assert_eq(rpt_customers_csv(ds, s, NULL, f, &err), CRM_EIO);
	cr_assert_eq(rpt_customers_json(ds, s, NULL, f, &err), CRM_EIO);
	fclose(f);
	free(s);
	crm_dataset_free(ds);
}

/* The mean of repeat days is rounded to the cent once, from the exact total:
 * days 01-02 and 01-03 after a first day: (52.0249 + 52.0250) / 2 =
 * 52.02495 -> 52.02. Rounding the 1e-4 mean (52.0250) again gave 52.03. */
Test(customers, mean_repeat_is_rounded_once)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_order(b, "1", "m", "2024-01-01", "10.00", NULL);
	add_order(b, "2", "m", "2024-01-02", "52.0249", NULL);
	add_order(b, "3", "m", "2024-01-03", "52.0250", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	struct crm_summary_opts o = { ts("2024-01-03"), CRM_NA, CRM_UNIT_DAY };
	struct crm_customer_summary *s;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK);
	cr_assert_eq(s[0].mean_repeat, 520250);     /* 52.02495 to 1e-4, half away from zero */
	cr_assert_eq(s[0].repeat_total, 1040499);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_csv(ds, s, &o, f, &err), CRM_OK);
	fclose(f);
	cr_assert_str_eq(text, "customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
			       "m,2,2,2,52.02,2024-01-01,2024-01-03,3,114.0499\n");
	free(text);
	free(s);
	crm_dataset_free(ds);
}

/* ------------------------------------------------ the writer's fast paths
 *
 * Ids of 1 to 17 bytes with and without bytes that CSV quotes, at either
 * end of the 4- and 8-byte words the writer reads them in, and numbers at
 * the edges of the hand-written formatting: the summaries are set here,
 * not computed, so the expected text follows from them alone. */

static const char *const edge_ids[] = {
	" x",                   /* below '-': looked at byte by byte; an edge space is
	                           kept only between quotes (core/csvout.h) */
	"\"",                   /* a quote alone: """" */
	"+1",
	"-5",                   /* '-' itself: the fast path, not quoted */
	"0",
	"1234567",              /* 7 bytes: two 4-byte words */
	"12345678,",            /* 9 bytes, the comma in the last 8-byte word */
	"ABCDEFGHIJKLMNO\r",    /* 16 bytes, CR last */
	"ABCDEFGHIJKLMNOP",     /* 16 bytes */
	"ABCDEFGHIJKLMNOPQ",    /* 17 bytes: byte by byte */
	"a\nb",
	"ab,cd",
	"h\xc3\xa9llo",         /* UTF-8: bytes above 0x7f need no quotes */
};
#define N_EDGE (sizeof edge_ids / sizeof edge_ids[0])

/* A dataset of the edge ids alone (dense ids in byte order). */
static struct crm_dataset *edge_dataset(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	for (size_t i = 0; i < N_EDGE; i++) {
		struct ent_record r;
		memset(&r, 0, sizeof r);
		r.entity = CRM_CUSTOMERS;
		r.v[CRM_C_CUSTOMER_ID] = (struct ent_value){ edge_ids[i], strlen(edge_ids[i]), 0, 1 };
		cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	}
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	cr_assert_eq(ds->n_customers, N_EDGE);
	return ds;
}

/* The summary row of customer c of ds: the row of rows[] whose id it has,
 * else nothing bought. */
struct edge_row {
	const char *id;
	struct crm_customer_summary s;
};

static struct crm_customer_summary *edge_summaries(const struct crm_dataset *ds,
						   const struct edge_row *rows, size_t n_rows)
{
	struct crm_customer_summary *sum = calloc(ds->n_customers, sizeof *sum);
	cr_assert_not_null(sum);
	for (size_t c = 0; c < ds->n_customers; c++) {
		size_t n;
		const char *id = strs_get(&ds->t[CRM_CUSTOMERS].col[CRM_C_CUSTOMER_ID].str, c, &n);
		sum[c].first_at = sum[c].last_at = CRM_NA;
		for (size_t i = 0; i < n_rows; i++)
			if (strlen(rows[i].id) == n && memcmp(rows[i].id, id, n) == 0)
				sum[c] = rows[i].s;
	}
	return sum;
}

static char *edge_render(const struct edge_row *rows, size_t n_rows, int unit, int json)
{
	struct crm_dataset *ds = edge_dataset();
	struct crm_customer_summary *sum = edge_summaries(ds, rows, n_rows);
	struct crm_summary_opts o = { CRM_NA, CRM_NA, unit };
	struct crm_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	int rc = json ? rpt_customers_json(ds, sum, &o, f, &err) : rpt_customers_csv(ds, sum, &o, f, &err);
	cr_assert_eq(rc, CRM_OK, "%s", err.msg);
	fclose(f);
	free(sum);
	crm_dataset_free(ds);
	return text;
}

#define DAY(d) ((int64_t)(d) * SECS_PER_DAY)

Test(customers, csv_fast_paths_at_their_edges)
{
	/* day 19723 is 2024-01-01 and 19723 + 1024 = 20747 is 2026-10-21: the
	 * same slot of the date cache, so each must replace the other */
	const struct edge_row rows[] = {
		/* mean: 1234567 e-4 / 3 = 41.15223 -> 41.15; -43200 s is noon of
		 * 1969-12-31 (the floor of the day, not the truncation) */
		{ "0", { 3, 1234, 98765, 0, 1234567, ts("2024-02-29T23:59:59Z"), -43200,
			 UINT32_MAX, INT64_MAX } },
		/* 2.5 and -2.5 days round half away from zero; -0.015 a repeat
		 * day -> -0.02 */
		{ "1234567", { 1, 2.5, -2.5, 0, -150, DAY(19723) + 5, DAY(20747), 0, INT64_MIN } },
		/* -0.0001 / 2 rounds to zero: no sign; net -0.001 has 3 places */
		{ "12345678,", { 2, 0, 0, 0, -1, DAY(20747), DAY(19723), 7, -10 } },
		/* 1234567891.2345 / 1e6 = 1234.5678912345 -> 1234.57; a year
		 * past 9999 goes through ts_format; year 0 has four digits */
		{ "-5", { 1e6, 99999999999.0, 100, 0, 12345678912345LL,
			  DAY(days_from_civil(10000, 3, 1)), DAY(days_from_civil(0, 1, 1)), 100, 12345 } },
		{ "+1", { 0, 0, 0, 0, 0, CRM_NA, CRM_NA, 0, -100 } },
	};
	char *csv = edge_render(rows, sizeof rows / sizeof rows[0], CRM_UNIT_DAY, 0);
	cr_assert_str_eq(csv,
		"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
		"\" x\",0,0,0,0.00,,,0,0.00\n"
		"\"\"\"\",0,0,0,0.00,,,0,0.00\n"
		"+1,0,0,0,0.00,,,0,-0.01\n"
		"-5,1000000,99999999999,100,1234.57,10000-03-01,0000-01-01,100,1.2345\n"
		"0,3,1234,98765,41.15,2024-02-29,1969-12-31,4294967295,922337203685477.5807\n"
		"1234567,1,3,-3,-0.02,2024-01-01,2026-10-21,0,-922337203685477.5808\n"
		"\"12345678,\",2,0,0,0.00,2026-10-21,2024-01-01,7,-0.001\n"
		"\"ABCDEFGHIJKLMNO\r\",0,0,0,0.00,,,0,0.00\n"
		"ABCDEFGHIJKLMNOP,0,0,0,0.00,,,0,0.00\n"
		"ABCDEFGHIJKLMNOPQ,0,0,0,0.00,,,0,0.00\n"
		"\"a\nb\",0,0,0,0.00,,,0,0.00\n"
		"\"ab,cd\",0,0,0,0.00,,,0,0.00\n"
		"h\xc3\xa9llo,0,0,0,0.00,,,0,0.00\n");
	free(csv);

	/* the JSON writer shares the number text */
	char *json = edge_render(rows, sizeof rows / sizeof rows[0], CRM_UNIT_DAY, 1);
	cr_assert_not_null(strstr(json,
		"{\"customer_id\":\"0\",\"x\":3,\"t_x\":1234,\"T\":98765,\"mean_repeat\":41.15,"
		"\"first_purchase\":\"2024-02-29\",\"last_purchase\":\"1969-12-31\","
		"\"orders\":4294967295,\"net_revenue\":922337203685477.5807}"), "%s", json);
	cr_assert_not_null(strstr(json,
		"{\"customer_id\":\"+1\",\"x\":0,\"t_x\":0,\"T\":0,\"mean_repeat\":0.00,"
		"\"first_purchase\":null,\"last_purchase\":null,\"orders\":0,\"net_revenue\":-0.01}"),
		"%s", json);
	free(json);
}

Test(customers, csv_weeks_at_their_edges)
{
	/* hundredths of a week, half away from zero: 1.285714 -> 1.29,
	 * 1e6 / 7 = 142857.142857 -> 142857.14, -0.125 -> -12.5 -> -0.13,
	 * -0.004 -> -0.4 -> 0: no sign */
	const struct edge_row rows[] = {
		{ "0", { 0, 1.285714, -0.125, 0, 0, CRM_NA, CRM_NA, 0, 0 } },
		{ "1234567", { 0, 1e6 / 7, -0.004, 0, 0, CRM_NA, CRM_NA, 0, 0 } },
		{ "-5", { 0, 7, 1e6, 0, 0, CRM_NA, CRM_NA, 0, 0 } },
	};
	char *csv = edge_render(rows, sizeof rows / sizeof rows[0], CRM_UNIT_WEEK, 0);
	const char *zero = ",0,0.00,0.00,0.00,,,0,0.00\n";
	char want[2048];
	snprintf(want, sizeof want,
		 "customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
		 "\" x\"%s\"\"\"\"%s+1%s"
		 "-5,0,7.00,1000000.00,0.00,,,0,0.00\n"
		 "0,0,1.29,-0.13,0.00,,,0,0.00\n"
		 "1234567,0,142857.14,0.00,0.00,,,0,0.00\n"
		 "\"12345678,\"%s\"ABCDEFGHIJKLMNO\r\"%sABCDEFGHIJKLMNOP%sABCDEFGHIJKLMNOPQ%s"
		 "\"a\nb\"%s\"ab,cd\"%sh\xc3\xa9llo%s",
		 zero, zero, zero, zero, zero, zero, zero, zero, zero, zero);
	cr_assert_str_eq(csv, want);
	free(csv);
}

/* A table of more customers than a block of the writer's (8192): customer
 * k is "c%05d", with k % 3 + 1 orders from 2024-01-01 on, of k cents and
 * more. */
#define MANY 20000

static struct crm_dataset *many_customers(const char *overflow_id)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	char id[32], cust[16], day[16], amount[32];
	for (int k = 0, n = 0; k < MANY; k++) {
		snprintf(cust, sizeof cust, "c%05d", k);
		for (int j = 0; j <= k % 3; j++) {
			snprintf(id, sizeof id, "o%d", n++);
			snprintf(day, sizeof day, "2024-01-%02d", 1 + j * 3 + k % 5);
			snprintf(amount, sizeof amount, "%d.%02d", k / 100 + j, k % 100);
			/* two amounts whose sum is past int64 (money's 1e-4 units) */
			if (overflow_id && strcmp(cust, overflow_id) == 0)
				snprintf(amount, sizeof amount, "900000000000000.00");
			add_order(b, id, cust, day, amount, NULL);
		}
	}
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, MANY);
	return ds;
}

/* The large table is made in blocks on worker threads and written in
 * order: its bytes are those of the same rows written a few at a time on
 * the calling thread (selections of at most a block), with the summary
 * made first or while writing. */
Test(customers, a_table_of_many_blocks_is_written_in_customer_order)
{
	struct crm_dataset *ds = many_customers(NULL);
	struct crm_summary_opts o = { ts("2024-02-01"), CRM_NA, CRM_UNIT_DAY };
	struct crm_customer_summary *s;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK);
	char *whole = NULL, *made = NULL, *parts = NULL;
	size_t whole_len = 0, made_len = 0, parts_len = 0;
	FILE *f = open_memstream(&whole, &whole_len);
	cr_assert_eq(rpt_customers_csv(ds, s, &o, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	f = open_memstream(&made, &made_len);
	cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	/* the reference: runs of 1000 rows, each with its own header, which
	 * is left out after the first */
	uint32_t *rows = malloc(MANY * sizeof *rows);
	cr_assert_not_null(rows);
	for (uint32_t i = 0; i < MANY; i++)
		rows[i] = i;
	f = open_memstream(&parts, &parts_len);
	const size_t header_len = strlen("customer_id,x,t_x,T,mean_repeat,first_purchase,"
					 "last_purchase,orders,net_revenue\n");
	for (size_t lo = 0; lo < MANY; lo += 1000) {
		char *one = NULL;
		size_t one_len = 0;
		FILE *g = open_memstream(&one, &one_len);
		struct rpt_customer_rows sel = { rows + lo, 1000 };
		cr_assert_eq(rpt_customers_table_csv(ds, s, &o, NULL, &sel, g, &err), CRM_OK);
		fclose(g);
		fputs(lo == 0 ? one : one + header_len, f);
		free(one);
	}
	fclose(f);
	cr_assert_eq(whole_len, parts_len);
	cr_assert_str_eq(whole, parts);
	cr_assert_str_eq(made, whole);
	/* spot checks worked out by hand: c00000 one order of 0.00 on 01-01;
	 * c19999 (k % 3 = 1, k % 5 = 4) orders on 01-05 and 01-08 of 199.99
	 * and 200.99, as of 02-01 */
	cr_assert(strstr(whole, "\nc00000,0,0,31,0.00,2024-01-01,2024-01-01,1,0.00\n"));
	cr_assert(strstr(whole, "\nc19999,1,3,27,200.99,2024-01-05,2024-01-08,2,400.98\n"));
	free(rows);
	free(whole);
	free(made);
	free(parts);
	free(s);
	crm_dataset_free(ds);
}

/* A block that fails stops the table there: a summary the writer makes
 * refuses a customer of the third block, and a full device fails a large
 * table as it does a small one. */
Test(customers, a_failing_block_stops_a_large_table)
{
	struct crm_dataset *ds = many_customers("c17000");
	struct crm_summary_opts o = { ts("2024-02-01"), CRM_NA, CRM_UNIT_DAY };
	struct crm_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_ERANGE);
	cr_assert(strstr(err.msg, "c17000") != NULL, "%s", err.msg);
	fclose(f);
	/* what was written is the blocks before the failing one, whole */
	cr_assert(len > 0);
	cr_assert_eq(text[len - 1], '\n');
	cr_assert(strstr(text, "\nc16383,") != NULL);
	cr_assert(strstr(text, "\nc16384,") == NULL);
	free(text);
	crm_dataset_free(ds);
	ds = many_customers(NULL);
	struct crm_customer_summary *s;
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK);
	f = fopen("/dev/full", "w");
	cr_assert_not_null(f);
	cr_assert_eq(rpt_customers_csv(ds, s, &o, f, &err), CRM_EIO);
	cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_EIO);
	fclose(f);
	free(s);
	crm_dataset_free(ds);
}
