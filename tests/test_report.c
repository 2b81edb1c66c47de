/* test_report.c - the report framework: the shared metric helpers
 * (src/metrics/mx.c), the report document (src/report/doc.c), its three
 * renderers (render*.c: text within 100 columns, JSON of the schema's
 * structure, CSV files), the family registry and the report runner with
 * its breakdowns (report.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <utf8proc.h>

#include "core/err.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "metrics/families.h"
#include "metrics/mx.h"
#include "metrics/retention.h"
#include "report/customers.h"
#include "report/doc.h"
#include "report/render.h"
#include "report/report.h"
#include "support.h"

/* ------------------------------------------------------------ mx helpers */

Test(mx, quantile_type7_and_mean)
{
	/* v = 1 2 3 4 (sorted). Type 7: h = (n - 1) p.
	 * p 0.5: h = 1.5 -> 2 + 0.5 (3 - 2) = 2.5; p 0.9: h = 2.7 -> 3 + 0.7 = 3.7;
	 * p 0 -> 1, p 1 -> 4. numpy.quantile([1,2,3,4], 0.9) = 3.7 as well. */
	double v[] = { 4, 1, 3, 2 };
	cr_assert_float_eq(mx_quantile(v, 4, 0.5), 2.5, 1e-12);
	cr_assert_float_eq(mx_quantile(v, 4, 0.9), 3.7, 1e-12);
	cr_assert_float_eq(mx_quantile(v, 4, 0.0), 1.0, 1e-12);
	cr_assert_float_eq(mx_quantile(v, 4, 1.0), 4.0, 1e-12);
	/* sorted in place */
	cr_assert(v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 4);
	/* one value; none */
	double one = 7;
	cr_assert_float_eq(mx_median(&one, 1), 7.0, 0);
	cr_assert(isnan(mx_median(NULL, 0)));
	/* ties and an odd count: 5 5 5 9 -> median 5; mean (1 + 2 + 3 + 4) / 4 = 2.5 */
	double t[] = { 5, 9, 5, 5 };
	cr_assert_float_eq(mx_median(t, 4), 5.0, 0);
	cr_assert_float_eq(mx_mean(v, 4), 2.5, 1e-15);
	cr_assert(isnan(mx_mean(NULL, 0)));
}

Test(mx, quantile_large_radix_path)
{
	/* n = 10001 values 5000, 4999, ..., -5000 shuffled by a multiplier prime
	 * to n: sorted they are -5000..5000, median 0, p 0.25 at h = 2500:
	 * -2500, p 0.9 at h = 9000: 4000. -0.0 and 0.0 compare equal. */
	size_t n = 10001;
	double *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[(i * 7919) % n] = 5000.0 - (double)i;
	cr_assert_float_eq(mx_quantile(v, n, 0.5), 0.0, 0);
	for (size_t i = 1; i < n; i++)
		cr_assert(v[i - 1] <= v[i], "not sorted at %zu", i);
	cr_assert_float_eq(mx_quantile(v, n, 0.25), -2500.0, 0);
	cr_assert_float_eq(mx_quantile(v, n, 0.9), 4000.0, 0);
	/* fractions survive the key transform: 0.1 * k */
	for (size_t i = 0; i < n; i++)
		v[i] = 0.1 * (double)((i * 7919) % n);
	/* sorted: 0.1 k for k = 0..10000; median k = 5000 */
	cr_assert_float_eq(mx_median(v, n), 500.0, 1e-9);
	free(v);
}

Test(mx, months_and_days)
{
	/* 2024-03-15 is month (2024 - 1970) * 12 + 2 = 650 */
	cr_assert_eq(mx_month_of(ts("2024-03-15T12:00:00Z")), 650);
	cr_assert_eq(mx_month_start(650), ts("2024-03-01"));
	char b[8];
	mx_month_label(650, b);
	cr_assert_str_eq(b, "2024-03");
	/* before 1970: 1969-12 is month -1 */
	cr_assert_eq(mx_month_of(ts("1969-12-31T23:59:59Z")), -1);
	cr_assert_eq(mx_month_start(-1), ts("1969-12-01"));
	mx_month_label(-1, b);
	cr_assert_str_eq(b, "1969-12");
	cr_assert_eq(mx_month_start(-13), ts("1968-12-01"));
	/* days: 1970-01-02 00:00 is day 1; a second before 1970 is day -1 */
	cr_assert_eq(ts_day(86400), 1);
	cr_assert_eq(ts_day(-1), -1);
}

/* Two customers a, b; orders (sorted by customer, time):
 *   a: 2024-01-10 100.00 web; 2024-02-01 -20.00 (a return) web;
 *      2024-03-01 50.00 cancelled shop
 *   b: 2024-06-30 10.00 returned shop; 2024-12-31 30.00 (no status) shop */
static struct crm_dataset *two_customers(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	const char *rows[][6] = {
		{ "1", "a", "2024-01-10", "100.00", NULL, "web" },
		{ "2", "a", "2024-02-01", "-20.00", NULL, "web" },
		{ "3", "a", "2024-03-01", "50.00", "cancelled", "shop" },
		{ "4", "b", "2024-06-30", "10.00", "returned", "shop" },
		{ "5", "b", "2024-12-31", "30.00", NULL, "shop" },
	};
	for (size_t i = 0; i < 5; i++) {
		struct ent_record r = rec(CRM_ORDERS, (long)i + 2);
		set_s(&r, CRM_O_ORDER_ID, rows[i][0]);
		set_s(&r, CRM_O_CUSTOMER_ID, rows[i][1]);
		set_i(&r, CRM_O_ORDERED_AT, ts(rows[i][2]));
		set_i(&r, CRM_O_AMOUNT, (int64_t)(atof(rows[i][3]) * 10000));
		if (rows[i][4])
			set_s(&r, CRM_O_STATUS, rows[i][4]);
		set_s(&r, CRM_O_CHANNEL, rows[i][5]);
		cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	}
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

Test(mx, order_kinds_and_counting)
{
	struct crm_dataset *ds = two_customers();
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	cr_assert_eq(o->n, 5);
	/* rows are in the order above (customer a < b, then time) */
	cr_assert_eq(mx_order_kind(o, 0), MX_COMPLETED);
	cr_assert_eq(mx_order_kind(o, 1), MX_RETURN);     /* negative amount */
	cr_assert_eq(mx_order_kind(o, 2), MX_CANCELLED);
	cr_assert_eq(mx_order_kind(o, 3), MX_RETURN);     /* status returned */
	cr_assert_eq(mx_order_kind(o, 4), MX_COMPLETED);  /* no status */

	struct mx_opts op;
	struct mx_ctx ctx;
	struct crm_err err;
	mx_opts_default(&op);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_OK, "%s", err.msg);
	/* as-of defaults to the last event, 2024-12-31 00:00; the period to
	 * [2024-12-31 00:00:01 - 12 months, 2024-12-31 00:00:01) */
	cr_assert_eq(ctx.o.as_of, ts("2024-12-31"));
	cr_assert_eq(ctx.o.p_end, ts("2024-12-31") + 1);
	cr_assert_eq(ctx.o.p_start, ts("2023-12-31") + 1);
	cr_assert_eq(ctx.o.churn_window_days, 365);
	for (size_t r = 0; r < 5; r++)
		cr_assert(mx_order_counts(&ctx, r));
	/* only customer b (dense id 1) */
	uint8_t in[2] = { 0, 1 };
	ctx.in = in;
	cr_assert(!mx_order_counts(&ctx, 0) && mx_order_counts(&ctx, 3));
	cr_assert(!mx_counts(&ctx, CRM_NO_CUSTOMER));
	/* only the channel "web" */
	ctx.in = NULL;
	const struct crm_column *ch = &o->col[CRM_O_CHANNEL];
	uint32_t web = 0;
	for (uint32_t k = 1; k < ch->dict.n; k++)
		if (strcmp(ch->dict.bytes + ch->dict.off[k], "web") == 0)
			web = k;
	cr_assert_neq(web, 0);
	ctx.order_channel = web;
	cr_assert(mx_order_counts(&ctx, 0) && mx_order_counts(&ctx, 1));
	cr_assert(!mx_order_counts(&ctx, 2) && !mx_order_counts(&ctx, 4));
	crm_dataset_free(ds);
}

Test(mx, ctx_periods_and_bad_options)
{
	struct crm_dataset *ds = two_customers();
	struct mx_opts op;
	struct mx_ctx ctx;
	struct crm_err err;
	mx_opts_default(&op);
	/* as-of 2024-02-29 23:59:59: P = [2023-03-01, 2024-03-01) */
	op.as_of = ts("2024-02-29T23:59:59Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_OK);
	cr_assert_eq(ctx.o.p_start, ts("2023-03-01"));
	cr_assert_eq(ctx.o.p_end, ts("2024-03-01"));
	/* a 29 February end: 12 months back is 28 February */
	op.as_of = ts("2024-02-29") - 1;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_OK);
	cr_assert_eq(ctx.o.p_start, ts("2023-02-28"));
	/* a given period is kept */
	op.p_start = ts("2024-01-01");
	op.p_end = ts("2024-02-01");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_OK);
	cr_assert_eq(ctx.o.p_start, ts("2024-01-01"));
	cr_assert_eq(ctx.o.p_end, ts("2024-02-01"));
	/* reversed */
	op.p_start = ts("2024-03-01");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "period"), "%s", err.msg);
	mx_opts_default(&op);
	op.bounce = 7;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_EINVAL);
	mx_opts_default(&op);
	op.churn_window_days = 0;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_EINVAL);
	crm_dataset_free(ds);
	/* an empty dataset without an as-of */
	struct ds_builder *b;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	mx_opts_default(&op);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "as-of"), "%s", err.msg);
	op.as_of = ts("2024-01-01");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &op, &err), CRM_OK);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------ documents */

/* A document of two sections, the second a breakdown group, with every
 * kind of item, a table with a text, a number, a date, a no-data cell and
 * a UTF-8 label of double-width characters. */
static struct rp_doc *sample_doc(void)
{
	struct rp_doc *d = rp_doc_new();
	cr_assert_not_null(d);
	rp_doc_param(d, "source", "demo.db");
	rp_doc_param(d, "as-of", "2024-12-31");
	struct rp_section *s = rp_section_new(d, "purchases", NULL, "Purchases");
	rp_param(s, "period", "2024-01-01..2024-12-31");
	rp_value(s, "orders", "orders", RP_COUNT, 1234567);
	rp_value(s, "aov", "AOV (average order value)", RP_MONEY, 45.678);
	rp_value(s, "bounce", "bounce rate (matomo)", RP_PERCENT, 41.25);
	rp_value(s, "missing", "inter-purchase time, median", RP_DAYS, NAN);
	rp_note(s, "AOV = revenue of completed orders / completed orders (METRICS.md, Purchases).");
	struct rp_col cols[] = { { "channel", RP_TEXT }, { "orders", RP_COUNT },
				 { "revenue", RP_MONEY }, { "first", RP_DATE }, { "share", RP_PERCENT } };
	struct rp_table *t = rp_table_new(s, "channel_mix", "Channel mix", cols, 5);
	rp_row(t);
	rp_cell_str(t, "web, \"direct\"");
	rp_cell_num(t, 10);
	rp_cell_num(t, 1000.5);
	rp_cell_num(t, (double)ts("2024-03-05"));
	rp_cell_num(t, 62.5);
	rp_row(t);
	rp_cell_str(t, "商店");
	rp_cell_num(t, 6);
	rp_cell_num(t, NAN);  /* no data */
	rp_cell_num(t, (double)ts("2024-01-01"));
	/* the last cell is not filled: no data */
	struct rp_section *g = rp_section_new(d, "purchases", "country=DE", "Purchases");
	rp_value(g, "orders", "orders", RP_COUNT, 3);
	return d;
}

Test(doc, emit_and_read_back)
{
	struct rp_doc *d = sample_doc();
	struct crm_err err;
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	int found = 0;
	cr_assert_float_eq(rp_get(d, NULL, "purchases.aov", &found), 45.678, 1e-12);
	cr_assert(found);
	cr_assert_float_eq(rp_get(d, NULL, "purchases.orders", NULL), 1234567, 0);
	cr_assert_float_eq(rp_get(d, "country=DE", "purchases.orders", NULL), 3, 0);
	/* no data: found, NAN */
	cr_assert(isnan(rp_get(d, NULL, "purchases.missing", &found)) && found);
	/* absent: not found */
	cr_assert(isnan(rp_get(d, NULL, "purchases.nope", &found)) && !found);
	cr_assert(isnan(rp_get(d, "country=FR", "purchases.orders", &found)) && !found);
	cr_assert(isnan(rp_get(d, NULL, "orders", &found)) && !found);
	const struct rp_table *t = rp_table_get(d, NULL, "purchases.channel_mix");
	cr_assert_not_null(t);
	cr_assert_null(rp_table_get(d, "country=DE", "purchases.channel_mix"));
	cr_assert_eq(rp_table_rows(t), 2);
	cr_assert_eq(rp_table_cols(t), 5);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "web, \"direct\"");
	cr_assert_null(rp_table_str(t, 0, 1));
	cr_assert_float_eq(rp_table_num(t, 0, 2), 1000.5, 0);
	cr_assert(isnan(rp_table_num(t, 1, 2)));
	cr_assert(isnan(rp_table_num(t, 1, 4)));
	cr_assert(isnan(rp_table_num(t, 0, 0)));   /* a text cell has no number */
	cr_assert(isnan(rp_table_num(t, 2, 0)));   /* out of range */
	cr_assert_null(rp_table_str(t, 0, 9));
	rp_doc_free(d);
	rp_doc_free(NULL);
}

Test(doc, sticky_errors)
{
	struct rp_doc *d = rp_doc_new();
	struct crm_err err;
	struct rp_section *s = rp_section_new(d, "purchases", NULL, "Purchases");
	rp_value(s, "orders", "orders", RP_COUNT, 1);
	rp_value(s, "orders", "orders again", RP_COUNT, 2);   /* a repeated id */
	cr_assert_eq(rp_doc_status(d, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "purchases.orders") && strstr(err.msg, "twice"), "%s", err.msg);
	/* later calls do nothing, and a NULL section is accepted */
	rp_value(s, "aov", "AOV", RP_MONEY, 3);
	cr_assert(isnan(rp_get(d, NULL, "purchases.aov", NULL)));
	cr_assert_null(rp_section_new(d, "value", NULL, "Value"));
	rp_value(NULL, "x", "x", RP_COUNT, 1);
	rp_param(NULL, "x", "y");
	rp_note(NULL, "x");
	rp_row(NULL);
	rp_cell_num(NULL, 1);
	rp_cell_str(NULL, "x");
	cr_assert_null(rp_table_new(NULL, "t", "t", NULL, 0));
	/* the renderers refuse a failed document with its message */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rp_render_text(d, f, &err), CRM_EINVAL);
	cr_assert_eq(rp_render_json(d, f, &err), CRM_EINVAL);
	fclose(f);
	free(text);
	rp_doc_free(d);

	/* the same id in two groups is fine; a bad family, id or cell is not */
	d = rp_doc_new();
	rp_value(rp_section_new(d, "purchases", "tier=gold", NULL), "orders", NULL, RP_COUNT, 1);
	rp_value(rp_section_new(d, "purchases", "tier=silver", NULL), "orders", NULL, RP_COUNT, 2);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, "tier=silver", "purchases.orders", NULL), 2, 0);
	rp_doc_free(d);
	d = rp_doc_new();
	cr_assert_null(rp_section_new(d, "Purchases!", NULL, NULL));
	cr_assert_eq(rp_doc_status(d, &err), CRM_EINVAL);
	rp_doc_free(d);
	d = rp_doc_new();
	rp_value(rp_section_new(d, "purchases", NULL, NULL), "a b", NULL, RP_COUNT, 1);
	cr_assert_eq(rp_doc_status(d, &err), CRM_EINVAL);
	rp_doc_free(d);
	d = rp_doc_new();
	struct rp_col c1[] = { { "x", RP_COUNT } };
	struct rp_table *t = rp_table_new(rp_section_new(d, "purchases", NULL, NULL), "t", "T", c1, 1);
	rp_cell_num(t, 1);   /* before any row */
	cr_assert_eq(rp_doc_status(d, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "before rp_row"), "%s", err.msg);
	rp_doc_free(d);
	d = rp_doc_new();
	t = rp_table_new(rp_section_new(d, "purchases", NULL, NULL), "t", "T", c1, 1);
	rp_row(t);
	rp_cell_num(t, 1);
	rp_cell_num(t, 2);   /* one too many */
	cr_assert_eq(rp_doc_status(d, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "more cells"), "%s", err.msg);
	rp_doc_free(d);
}

Test(doc, many_rows_and_params_replace)
{
	/* 10,000 rows of (k, k * 0.5): the table grows; the row sum
	 * sum k = 9999 * 10000 / 2 = 49,995,000 */
	struct rp_doc *d = rp_doc_new();
	struct rp_col cols[] = { { "k", RP_COUNT }, { "half", RP_NUMBER } };
	struct rp_table *t = rp_table_new(rp_section_new(d, "value", NULL, "Value"), "big", "Big",
					  cols, 2);
	for (int k = 0; k < 10000; k++) {
		rp_row(t);
		rp_cell_num(t, k);
		rp_cell_num(t, k * 0.5);
	}
	rp_doc_param(d, "as-of", "2024-01-01");
	rp_doc_param(d, "as-of", "2024-02-01");   /* replaces */
	struct crm_err err;
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK);
	double sum = 0;
	for (size_t r = 0; r < rp_table_rows(t); r++)
		sum += rp_table_num(t, r, 0);
	cr_assert_float_eq(sum, 49995000.0, 0);
	cr_assert_float_eq(rp_table_num(t, 9999, 1), 4999.5, 0);
	json_t *j = rp_doc_json(d, &err);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "params"), "as-of")),
			 "2024-02-01");
	cr_assert_eq(json_object_size(json_object_get(j, "params")), 1);
	json_decref(j);
	rp_doc_free(d);
}

/* ------------------------------------------------------------ renderers */

static char *render_text(const struct rp_doc *d)
{
	char *text = NULL;
	size_t len = 0;
	struct crm_err err;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(rp_render_text(d, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	return text;
}

/* Display columns of one line (utf8proc widths). */
static size_t line_width(const char *p, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p + i,
						      (utf8proc_ssize_t)(n - i), &cp);
		cr_assert_gt(k, 0, "text output is not UTF-8");
		int cw = utf8proc_charwidth(cp);
		w += cw > 0 ? (size_t)cw : 0;
		i += (size_t)k;
	}
	return w;
}

static void assert_fits_100(const char *text)
{
	size_t line = 1;
	for (const char *p = text; *p; line++) {
		const char *e = strchr(p, '\n');
		cr_assert_not_null(e, "the text does not end in a line break");
		size_t w = line_width(p, (size_t)(e - p));
		cr_assert_leq(w, 100, "line %zu is %zu columns: %.*s", line, w, (int)(e - p), p);
		p = e + 1;
	}
}

Test(render, text_values_units_and_tables)
{
	struct rp_doc *d = sample_doc();
	char *text = render_text(d);
	assert_fits_100(text);
	/* units and definition names; grouped numbers; no data said so */
	cr_assert(strstr(text, "source: demo.db"), "%s", text);
	cr_assert(strstr(text, "== Purchases ===="), "%s", text);
	cr_assert(strstr(text, "== Purchases [country=DE] ="), "%s", text);
	cr_assert(strstr(text, "1,234,567\n"), "%s", text);
	cr_assert(strstr(text, "45.68\n"), "%s", text);              /* 45.678 money -> 2 places */
	cr_assert(strstr(text, "bounce rate (matomo)"), "%s", text);
	cr_assert(strstr(text, "41.3%\n") || strstr(text, "41.2%\n"), "%s", text);
	cr_assert(strstr(text, "no data\n"), "%s", text);
	cr_assert(strstr(text, "period: 2024-01-01..2024-12-31"), "%s", text);
	/* the table: header with units, the date, the double-width text, "-" */
	cr_assert(strstr(text, "   share\n") && strstr(text, "    (%)\n"), "%s", text);
	cr_assert(strstr(text, "2024-03-05"), "%s", text);
	cr_assert(strstr(text, "1,000.50"), "%s", text);
	cr_assert(strstr(text, "商店"), "%s", text);
	free(text);
	rp_doc_free(d);
}

Test(render, text_wide_tables_and_long_labels_fit)
{
	/* a cohort-like table of 40 number columns and 80 rows, a label of 150
	 * characters, a note of 400 and a word of 130: every line <= 100 */
	struct rp_doc *d = rp_doc_new();
	struct rp_section *s = rp_section_new(d, "retention", NULL, "Customers over time");
	char label[200], note[800], word[140];
	memset(label, 'x', 150);
	label[150] = '\0';
	for (int i = 0; i < 80; i++)
		memcpy(note + i * 5, "abcd ", 5);
	memset(word, 'w', 130);
	word[130] = '\0';
	memcpy(note + 400, word, 131);
	rp_value(s, "long", label, RP_PERCENT, 12.5);
	rp_note(s, note);
	struct rp_col cols[41];
	char names[41][16];
	cols[0] = (struct rp_col){ "cohort (a long header name)", RP_TEXT };
	for (int c = 1; c < 41; c++) {
		snprintf(names[c], sizeof names[c], "m%d", c - 1);
		cols[c] = (struct rp_col){ names[c], RP_PERCENT };
	}
	struct rp_table *t = rp_table_new(s, "cohort_retention", "Cohort retention (classic)", cols, 41);
	for (int r = 0; r < 80; r++) {
		rp_row(t);
		rp_cell_str(t, "2023-01 with a very long row name that is cut");
		for (int c = 1; c < 41; c++)
			rp_cell_num(t, c + r < 50 ? 100.0 / (c + 1) : NAN);
	}
	char *text = render_text(d);
	assert_fits_100(text);
	/* chunks name their columns; rows past 60 are counted, not shown */
	cr_assert(strstr(text, "(columns "), "%s", text);
	cr_assert(strstr(text, "20 more rows"), "%s", text);
	cr_assert(strstr(text, "\xe2\x80\xa6"), "a cut text ends in an ellipsis");
	free(text);
	rp_doc_free(d);
}

/* A validator for the part of JSON Schema (2020-12) that
 * docs/report.schema.json uses: type, const, enum, required, properties,
 * additionalProperties, items, minItems, pattern (POSIX extended regular
 * expressions), oneOf and local $ref. No validator is a Debian package for
 * C, and the test must check the real schema file, not a copy of it. */
static int schema_ok(json_t *root, json_t *schema, json_t *v, char *why, size_t cap);

static int type_is(const char *t, json_t *v)
{
	if (strcmp(t, "object") == 0) return json_is_object(v);
	if (strcmp(t, "array") == 0) return json_is_array(v);
	if (strcmp(t, "string") == 0) return json_is_string(v);
	if (strcmp(t, "number") == 0) return json_is_number(v);
	if (strcmp(t, "integer") == 0) return json_is_integer(v);
	if (strcmp(t, "null") == 0) return json_is_null(v);
	if (strcmp(t, "boolean") == 0) return json_is_boolean(v);
	return 0;
}

static int schema_ok(json_t *root, json_t *schema, json_t *v, char *why, size_t cap)
{
	json_t *x;
	if ((x = json_object_get(schema, "$ref"))) {
		/* "#/$defs/name" */
		const char *ref = json_string_value(x);
		cr_assert(ref && strncmp(ref, "#/$defs/", 8) == 0, "unsupported $ref");
		json_t *target = json_object_get(json_object_get(root, "$defs"), ref + 8);
		cr_assert_not_null(target, "no definition %s", ref);
		return schema_ok(root, target, v, why, cap);
	}
	if ((x = json_object_get(schema, "type"))) {
		int ok = 0;
		if (json_is_string(x)) {
			ok = type_is(json_string_value(x), v);
		} else {
			size_t i;
			json_t *t;
			json_array_foreach(x, i, t) ok |= type_is(json_string_value(t), v);
		}
		if (!ok) {
			snprintf(why, cap, "wrong type");
			return 0;
		}
	}
	if ((x = json_object_get(schema, "const")) && !json_equal(x, v)) {
		snprintf(why, cap, "not the constant");
		return 0;
	}
	if ((x = json_object_get(schema, "enum"))) {
		int ok = 0;
		size_t i;
		json_t *e;
		json_array_foreach(x, i, e) ok |= json_equal(e, v);
		if (!ok) {
			snprintf(why, cap, "not one of the enum");
			return 0;
		}
	}
	if ((x = json_object_get(schema, "pattern")) && json_is_string(v)) {
		regex_t re;
		cr_assert_eq(regcomp(&re, json_string_value(x), REG_EXTENDED | REG_NOSUB), 0);
		int m = regexec(&re, json_string_value(v), 0, NULL, 0);
		regfree(&re);
		if (m != 0) {
			snprintf(why, cap, "'%s' does not match %s", json_string_value(v),
				 json_string_value(x));
			return 0;
		}
	}
	if ((x = json_object_get(schema, "oneOf"))) {
		size_t i, n = 0;
		json_t *alt;
		char sub[256];
		json_array_foreach(x, i, alt) n += (size_t)schema_ok(root, alt, v, sub, sizeof sub);
		if (n != 1) {
			snprintf(why, cap, "matches %zu of oneOf", n);
			return 0;
		}
	}
	if (json_is_object(v)) {
		json_t *props = json_object_get(schema, "properties");
		json_t *addl = json_object_get(schema, "additionalProperties");
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(schema, "required"), i, r) {
			if (!json_object_get(v, json_string_value(r))) {
				snprintf(why, cap, "missing %s", json_string_value(r));
				return 0;
			}
		}
		const char *k;
		json_t *pv;
		json_object_foreach(v, k, pv) {
			json_t *ps = props ? json_object_get(props, k) : NULL;
			if (!ps && addl && json_is_false(addl)) {
				snprintf(why, cap, "unexpected key %s", k);
				return 0;
			}
			if (!ps && addl && json_is_object(addl))
				ps = addl;
			if (ps && !schema_ok(root, ps, pv, why, cap)) {
				size_t n = strlen(why);
				snprintf(why + n, cap - n, " (in %s)", k);
				return 0;
			}
		}
	}
	if (json_is_array(v)) {
		json_t *min = json_object_get(schema, "minItems");
		if (min && json_array_size(v) < (size_t)json_integer_value(min)) {
			snprintf(why, cap, "fewer than %lld items", (long long)json_integer_value(min));
			return 0;
		}
		json_t *items = json_object_get(schema, "items");
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (items && !schema_ok(root, items, e, why, cap)) {
				size_t n = strlen(why);
				snprintf(why + n, cap - n, " (item %zu)", i);
				return 0;
			}
		}
	}
	return 1;
}

/* Validates j against docs/report.schema.json, and what the schema cannot
 * say: a value's id starts with its section's family, a table's rows have
 * as many cells as it has columns. */
static void assert_report_structure(json_t *j)
{
	json_error_t je;
	json_t *schema = json_load_file("docs/report.schema.json", 0, &je);
	cr_assert_not_null(schema, "docs/report.schema.json: %s (line %d)", je.text, je.line);
	char why[512] = "";
	cr_assert(schema_ok(schema, schema, j, why, sizeof why), "not valid: %s", why);
	json_decref(schema);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(j, "sections"), i, s) {
		const char *fam = json_string_value(json_object_get(s, "family"));
		size_t m;
		json_t *val;
		json_array_foreach(json_object_get(s, "values"), m, val) {
			const char *id = json_string_value(json_object_get(val, "id"));
			cr_assert(strncmp(id, fam, strlen(fam)) == 0 && id[strlen(fam)] == '.', "%s", id);
		}
		json_t *tb;
		json_array_foreach(json_object_get(s, "tables"), m, tb) {
			size_t r, n_cols = json_array_size(json_object_get(tb, "columns"));
			json_t *row;
			json_array_foreach(json_object_get(tb, "rows"), r, row)
				cr_assert_eq(json_array_size(row), n_cols);
		}
	}
}

Test(render, schema_validator_refuses)
{
	/* the validator itself: documents that break the schema are refused */
	json_error_t je;
	json_t *schema = json_load_file("docs/report.schema.json", 0, &je);
	cr_assert_not_null(schema);
	const char *bad[] = {
		"{}",
		"{\"format\":\"crmscope-report\",\"version\":2,\"params\":{},\"sections\":[]}",
		"{\"format\":\"crmscope-report\",\"version\":1,\"params\":{\"a\":1},\"sections\":[]}",
		"{\"format\":\"crmscope-report\",\"version\":1,\"params\":{},\"sections\":[{\"family\":\"x\","
		"\"group\":null,\"title\":\"X\",\"params\":{},\"values\":[{\"id\":\"x.a\",\"label\":\"a\","
		"\"unit\":\"furlongs\",\"value\":1}],\"tables\":[],\"notes\":[]}]}",
		"{\"format\":\"crmscope-report\",\"version\":1,\"params\":{},\"sections\":[{\"family\":\"x\","
		"\"group\":null,\"title\":\"X\",\"params\":{},\"values\":[{\"id\":\"noprefix\",\"label\":\"a\","
		"\"unit\":\"count\",\"value\":1}],\"tables\":[],\"notes\":[]}]}",
	};
	const char *good = "{\"format\":\"crmscope-report\",\"version\":1,\"params\":{},\"sections\":[]}";
	char why[512];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i], 0, &je);
		cr_assert_not_null(j, "%zu: %s", i, je.text);
		cr_assert(!schema_ok(schema, schema, j, why, sizeof why), "bad document %zu passed", i);
		json_decref(j);
	}
	json_t *j = json_loads(good, 0, &je);
	cr_assert(schema_ok(schema, schema, j, why, sizeof why), "%s", why);
	json_decref(j);
	json_decref(schema);
}

Test(render, json_structure_and_values)
{
	struct rp_doc *d = sample_doc();
	char *text = NULL;
	size_t len = 0;
	struct crm_err err;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rp_render_json(d, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s at line %d", je.text, je.line);
	assert_report_structure(j);
	json_t *sections = json_object_get(j, "sections");
	cr_assert_eq(json_array_size(sections), 2);
	json_t *s0 = json_array_get(sections, 0);
	cr_assert(json_is_null(json_object_get(s0, "group")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(s0, "params"), "period")),
			 "2024-01-01..2024-12-31");
	json_t *vals = json_object_get(s0, "values");
	/* values in order: orders (an integer count), aov, bounce, missing (null) */
	json_t *orders = json_array_get(vals, 0);
	cr_assert_str_eq(json_string_value(json_object_get(orders, "id")), "purchases.orders");
	cr_assert(json_is_integer(json_object_get(orders, "value")));
	cr_assert_eq(json_integer_value(json_object_get(orders, "value")), 1234567);
	cr_assert_float_eq(json_number_value(json_object_get(json_array_get(vals, 1), "value")),
			   45.678, 1e-12);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(vals, 1), "unit")), "money");
	cr_assert(json_is_null(json_object_get(json_array_get(vals, 3), "value")));
	json_t *tb = json_array_get(json_object_get(s0, "tables"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(tb, "id")), "purchases.channel_mix");
	json_t *row0 = json_array_get(json_object_get(tb, "rows"), 0);
	json_t *row1 = json_array_get(json_object_get(tb, "rows"), 1);
	cr_assert_str_eq(json_string_value(json_array_get(row0, 0)), "web, \"direct\"");
	cr_assert_str_eq(json_string_value(json_array_get(row0, 3)), "2024-03-05");
	cr_assert_str_eq(json_string_value(json_array_get(row1, 0)), "商店");
	cr_assert(json_is_null(json_array_get(row1, 2)) && json_is_null(json_array_get(row1, 4)));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sections, 1), "group")),
			 "country=DE");
	json_decref(j);
	free(text);
	rp_doc_free(d);
}

Test(render, json_replaces_bytes_that_are_not_utf8)
{
	struct rp_doc *d = rp_doc_new();
	struct rp_section *s = rp_section_new(d, "service", "city=M\xfcnchen", "Service");
	rp_value(s, "open", "open tickets", RP_COUNT, 2);
	struct crm_err err;
	json_t *j = rp_doc_json(d, &err);
	cr_assert_not_null(j, "%s", err.msg);
	json_t *sec = json_array_get(json_object_get(j, "sections"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(sec, "group")), "city=M\xef\xbf\xbdnchen");
	json_decref(j);
	rp_doc_free(d);
}

Test(render, csv_files)
{
	struct rp_doc *d = sample_doc();
	/* a table in a group whose label needs cleaning for a file name, twice */
	struct rp_col c1[] = { { "k", RP_COUNT } };
	struct rp_table *t = rp_table_new(rp_section_new(d, "value", "city=a/b", "Value"), "deciles",
					  "Deciles", c1, 1);
	rp_row(t);
	rp_cell_num(t, 1);
	t = rp_table_new(rp_section_new(d, "value", "city=a_b", "Value"), "deciles", "Deciles", c1, 1);
	rp_row(t);
	rp_cell_num(t, 2);
	char dir[256], sub[300], path[400];
	tmpdir_make(dir, sizeof dir);
	snprintf(sub, sizeof sub, "%s/out", dir);
	struct crm_err err;
	cr_assert_eq(rp_render_csv(d, sub, &err), CRM_OK, "%s", err.msg);
	/* values.csv: 5 values and the header */
	snprintf(path, sizeof path, "%s/values.csv", sub);
	char *v = read_file(path, NULL);
	cr_assert_not_null(v);
	cr_assert_str_eq(v,
		"id,group,label,unit,value\n"
		"purchases.orders,,orders,count,1234567\n"
		"purchases.aov,,AOV (average order value),money,45.678\n"
		"purchases.bounce,,bounce rate (matomo),percent,41.25\n"
		"purchases.missing,,\"inter-purchase time, median\",days,\n"
		"purchases.orders,country=DE,orders,count,3\n");
	free(v);
	snprintf(path, sizeof path, "%s/purchases.channel_mix.csv", sub);
	v = read_file(path, NULL);
	cr_assert_not_null(v);
	cr_assert_str_eq(v,
		"channel,orders,revenue,first,share\n"
		"\"web, \"\"direct\"\"\",10,1000.5,2024-03-05,62.5\n"
		"商店,6,,2024-01-01,\n");
	free(v);
	snprintf(path, sizeof path, "%s/params.csv", sub);
	v = read_file(path, NULL);
	cr_assert_str_eq(v,
		"family,group,name,value\n"
		",,source,demo.db\n"
		",,as-of,2024-12-31\n"
		"purchases,,period,2024-01-01..2024-12-31\n");
	free(v);
	/* "a/b" and "a_b" both clean to a_b: the second gets ~2 */
	snprintf(path, sizeof path, "%s/value.deciles.city=a_b.csv", sub);
	v = read_file(path, NULL);
	cr_assert_str_eq(v, "k\n1\n");
	free(v);
	snprintf(path, sizeof path, "%s/value.deciles.city=a_b~2.csv", sub);
	v = read_file(path, NULL);
	cr_assert_not_null(v);
	cr_assert_str_eq(v, "k\n2\n");
	free(v);
	tmpdir_remove(sub);
	/* a folder that cannot be made */
	snprintf(sub, sizeof sub, "%s/no/such/dir", dir);
	cr_assert_eq(rp_render_csv(d, sub, &err), CRM_EIO);
	cr_assert(strstr(err.msg, "no/such/dir"), "%s", err.msg);
	tmpdir_remove(dir);
	rp_doc_free(d);
}

/* ------------------------------------------------------- the report runner */

/* A stand-in family: completed orders that count, their revenue, and the
 * customers with one; "fail" fails on the group "country=FR". */
static int fake_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	const struct crm_table *o = &ctx->ds->t[CRM_ORDERS];
	double orders = 0, revenue = 0, customers = 0;
	for (size_t c = 0; c < ctx->ds->n_customers; c++) {
		int any = 0;
		for (uint64_t r = o->by_customer[c]; r < o->by_customer[c + 1]; r++) {
			if (!mx_order_counts(ctx, r) || mx_order_kind(o, r) != MX_COMPLETED)
				continue;
			orders++;
			revenue += mx_money(o->col[CRM_O_AMOUNT].i64[r]);
			any = 1;
		}
		customers += any;
	}
	struct rp_section *s = rp_section_new(d, "fake", ctx->group, "Fake");
	rp_value(s, "orders", "orders", RP_COUNT, orders);
	rp_value(s, "revenue", "revenue", RP_MONEY, revenue);
	rp_value(s, "customers", "customers", RP_COUNT, customers);
	(void)err;
	return CRM_OK;
}

static int failing_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	(void)d;
	if (ctx->group && strcmp(ctx->group, "country=FR") == 0)
		return crm_err_set(err, CRM_EIO, "lexicon unreadable");
	return CRM_OK;
}

static const struct mx_family fake_families[] = {
	{ "fake", "Fake", fake_report },
	{ "failing", "Failing", failing_report },
	{ NULL, NULL, NULL },
};

/* Customers a (DE, born 1990-06-15), b (FR, born 1950-01-01), c (no country,
 * no birth date). Orders: a 100.00 web, 50.00 web; b 30.00 shop; c 20.00 web. */
static struct crm_dataset *three_countries(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	const char *cust[][3] = { { "a", "DE", "1990-06-15" }, { "b", "FR", "1950-01-01" },
				  { "c", NULL, NULL } };
	for (int i = 0; i < 3; i++) {
		struct ent_record r = rec(CRM_CUSTOMERS, i + 2);
		set_s(&r, CRM_C_CUSTOMER_ID, cust[i][0]);
		if (cust[i][1])
			set_s(&r, CRM_C_COUNTRY, cust[i][1]);
		if (cust[i][2])
			set_i(&r, CRM_C_BIRTH_DATE, ts(cust[i][2]));
		cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	}
	const char *ord[][5] = { { "1", "a", "2024-03-01", "100.00", "web" },
				 { "2", "a", "2024-04-01", "50.00", "web" },
				 { "3", "b", "2024-05-01", "30.00", "shop" },
				 { "4", "c", "2024-12-31", "20.00", "web" } };
	for (int i = 0; i < 4; i++) {
		struct ent_record r = rec(CRM_ORDERS, i + 2);
		set_s(&r, CRM_O_ORDER_ID, ord[i][0]);
		set_s(&r, CRM_O_CUSTOMER_ID, ord[i][1]);
		set_i(&r, CRM_O_ORDERED_AT, ts(ord[i][2]));
		set_i(&r, CRM_O_AMOUNT, (int64_t)(atof(ord[i][3]) * 10000));
		set_s(&r, CRM_O_CHANNEL, ord[i][4]);
		cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	}
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

Test(runner, age_bands)
{
	int64_t a = ts("2024-12-31");
	cr_assert_eq(rpt_age_band(ts("2000-01-01"), a), 1);       /* 24 */
	cr_assert_eq(rpt_age_band(ts("1999-12-31"), a), 2);       /* 25 on the day */
	cr_assert_eq(rpt_age_band(ts("2000-01-01"), ts("2025-01-01")), 2);
	cr_assert_eq(rpt_age_band(ts("1990-06-15"), a), 2);       /* 34 */
	cr_assert_eq(rpt_age_band(ts("1989-12-31"), a), 3);       /* 35 */
	cr_assert_eq(rpt_age_band(ts("1960-01-01"), a), 5);       /* 64 */
	cr_assert_eq(rpt_age_band(ts("1960-01-02"), a), 5);       /* 64 */
	cr_assert_eq(rpt_age_band(ts("1959-12-31"), a), 6);       /* 65 */
	cr_assert_eq(rpt_age_band(CRM_NA, a), RPT_AGE_UNKNOWN);
	cr_assert_eq(rpt_age_band(ts("2030-01-01"), a), RPT_AGE_UNKNOWN);
	cr_assert_str_eq(rpt_age_band_name(5), "55-64");
	cr_assert_eq(rpt_by_parse("acquisition_channel"), RPT_BY_ACQ_CHANNEL);
	cr_assert_eq(rpt_by_parse("age"), RPT_BY_AGE);
	cr_assert_eq(rpt_by_parse("shoe_size"), -1);
}

static struct rp_doc *run(const struct crm_dataset *ds, const char *only, int by, int want_rc,
			  struct rpt_result *res)
{
	struct rpt_opts o;
	struct crm_err err;
	rpt_opts_default(&o);
	o.mx.as_of = ts("2024-12-31T23:59:59Z");
	o.only = only;
	o.by = by;
	o.measure = 1;
	o.source = "test";
	struct rp_doc *d = rp_doc_new();
	int rc = rpt_report_families(ds, &o, fake_families, d, res, &err);
	cr_assert_eq(rc, want_rc, "%s", err.msg);
	if (rc != CRM_OK) {
		rp_doc_free(d);
		return NULL;
	}
	return d;
}

Test(runner, overall_and_by_country)
{
	struct crm_dataset *ds = three_countries();
	struct rpt_result res;
	struct rp_doc *d = run(ds, "fake", RPT_BY_COUNTRY, CRM_OK, &res);
	/* overall: 4 orders, 100 + 50 + 30 + 20 = 200.00, 3 customers */
	cr_assert_float_eq(rp_get(d, NULL, "fake.orders", NULL), 4, 0);
	cr_assert_float_eq(rp_get(d, NULL, "fake.revenue", NULL), 200.0, 1e-9);
	cr_assert_float_eq(rp_get(d, NULL, "fake.customers", NULL), 3, 0);
	/* DE = a: 2 orders, 150.00; FR = b: 1, 30.00; unknown = c: 1, 20.00 */
	cr_assert_float_eq(rp_get(d, "country=DE", "fake.orders", NULL), 2, 0);
	cr_assert_float_eq(rp_get(d, "country=DE", "fake.revenue", NULL), 150.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "country=FR", "fake.revenue", NULL), 30.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "country=unknown", "fake.customers", NULL), 1, 0);
	cr_assert_eq(res.n_families, 1);
	cr_assert_eq(res.n_groups, 3);
	cr_assert_str_eq(res.t[0].family, "fake");
	cr_assert_geq(res.t[0].seconds, 0);
	cr_assert_gt(res.t[0].peak, 0);
	/* the document's parameters: period = the 12 months before A */
	json_t *j = rp_doc_json(d, NULL);
	json_t *p = json_object_get(j, "params");
	cr_assert_str_eq(json_string_value(json_object_get(p, "as-of")), "2024-12-31");
	cr_assert_str_eq(json_string_value(json_object_get(p, "period")), "2024-01-01..2024-12-31");
	cr_assert_str_eq(json_string_value(json_object_get(p, "churn window")), "365 days");
	cr_assert_str_eq(json_string_value(json_object_get(p, "breakdown")), "country (3 groups)");
	cr_assert_str_eq(json_string_value(json_object_get(p, "families")), "fake");
	/* sections: overall, then DE, FR, unknown (one customer each: by label) */
	json_t *secs = json_object_get(j, "sections");
	cr_assert_eq(json_array_size(secs), 4);
	cr_assert(json_is_null(json_object_get(json_array_get(secs, 0), "group")));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(secs, 1), "group")), "country=DE");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(secs, 3), "group")),
			 "country=unknown");
	json_decref(j);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(runner, by_age_and_by_order_channel)
{
	struct crm_dataset *ds = three_countries();
	struct rp_doc *d = run(ds, NULL, RPT_BY_AGE, CRM_OK, NULL);
	/* at 2024-12-31: a is 34 (25-34), b 74 (65+), c unknown */
	cr_assert_float_eq(rp_get(d, "age=25-34", "fake.revenue", NULL), 150.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "age=65+", "fake.revenue", NULL), 30.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "age=unknown", "fake.revenue", NULL), 20.0, 1e-9);
	rp_doc_free(d);
	d = run(ds, "fake", RPT_BY_CHANNEL, CRM_OK, NULL);
	/* web: orders 1, 2, 4 = 170.00 of customers a and c; shop: 30.00 of b */
	cr_assert_float_eq(rp_get(d, "channel=web", "fake.orders", NULL), 3, 0);
	cr_assert_float_eq(rp_get(d, "channel=web", "fake.revenue", NULL), 170.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "channel=web", "fake.customers", NULL), 2, 0);
	cr_assert_float_eq(rp_get(d, "channel=shop", "fake.revenue", NULL), 30.0, 1e-9);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(runner, small_groups_merge_into_other)
{
	/* at most 1 group: DE, FR and unknown have one customer each; by label
	 * DE comes first, FR and unknown form "country=other": b 30.00 + c 20.00 */
	struct crm_dataset *ds = three_countries();
	struct rpt_opts o;
	struct crm_err err;
	struct rpt_result res;
	rpt_opts_default(&o);
	o.by = RPT_BY_COUNTRY;
	o.max_groups = 1;
	o.only = "fake";
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(rpt_report_families(ds, &o, fake_families, d, &res, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(res.n_groups, 2);
	cr_assert_float_eq(rp_get(d, "country=DE", "fake.revenue", NULL), 150.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "country=other", "fake.revenue", NULL), 50.0, 1e-9);
	cr_assert_float_eq(rp_get(d, "country=other", "fake.customers", NULL), 2, 0);
	int found;
	rp_get(d, "country=FR", "fake.revenue", &found);
	cr_assert(!found);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(runner, unknown_family_and_failing_family)
{
	struct crm_dataset *ds = three_countries();
	struct crm_err err;
	struct rpt_opts o;
	rpt_opts_default(&o);
	o.only = "fake,nope";
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(rpt_report_families(ds, &o, fake_families, d, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "'nope'") && strstr(err.msg, "fake, failing"), "%s", err.msg);
	rp_doc_free(d);
	/* the failure names the family and the group */
	o.only = "failing";
	o.by = RPT_BY_COUNTRY;
	d = rp_doc_new();
	cr_assert_eq(rpt_report_families(ds, &o, fake_families, d, NULL, &err), CRM_EIO);
	cr_assert_str_eq(err.msg, "report: failing country=FR: lexicon unreadable");
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(runner, registry_lookup)
{
	/* every registered family has an id, a title and an entry point, and
	 * is found by its id */
	for (size_t i = 0; i < mx_family_count(); i++) {
		cr_assert_not_null(mx_families[i].title);
		cr_assert_not_null(mx_families[i].report);
		cr_assert_eq(mx_family_find(mx_families[i].id), &mx_families[i]);
	}
	cr_assert_null(mx_family_find("nope"));
	cr_assert_null(mx_family_find(NULL));
}

Test(render, golden_file_follows_the_schema)
{
	/* the golden demo report (test_report_golden.c) is a real document of
	 * every registered family: it must follow docs/report.schema.json */
	json_error_t je;
	json_t *j = json_load_file("tests/data/golden/demo_report.json", 0, &je);
	cr_assert_not_null(j, "%s (line %d)", je.text, je.line);
	assert_report_structure(j);
	json_decref(j);
}

/* ------------------------------------------------------------- the command */

static char cli_dir[256];
static void cli_setup(void) { tmpdir_make(cli_dir, sizeof cli_dir); }
static void cli_teardown(void)
{
	char sub[300];
	snprintf(sub, sizeof sub, "%s/csv", cli_dir);
	tmpdir_remove(sub);
	tmpdir_remove(cli_dir);
}

/* Runs a shell command line in cli_dir with the binary as $B; returns the
 * exit status and the output (stdout and stderr) in *out (caller frees). */
static int run_cli(char **out, const char *line)
{
	const char *b = getenv("CRMSCOPE_BIN");
	char cmd[8192];
	if (!b)
		b = "build/crmscope";
	snprintf(cmd, sizeof cmd, "cd %s && B=%s%s; %s 2>&1", cli_dir, b[0] == '/' ? "" : "$OLDPWD/",
		 b, line);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 1 << 20, n = 0, k;
	char *buf = malloc(cap);
	while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0)
		n += k;
	buf[n] = '\0';
	int st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TestSuite(report_cli, .init = cli_setup, .fini = cli_teardown);

Test(report_cli, usage_errors)
{
	char *o;
	cr_assert_eq(run_cli(&o, "$B report"), 2);
	cr_assert(strstr(o, "report needs DB or FILE"), "%s", o);
	free(o);
	cr_assert_eq(run_cli(&o, "$B report orders.csv --by shoe_size"), 2);
	cr_assert(strstr(o, "--by shoe_size"), "%s", o);
	free(o);
	cr_assert_eq(run_cli(&o, "$B report orders.csv --format csv"), 2);
	cr_assert(strstr(o, "needs --out DIR"), "%s", o);
	free(o);
	cr_assert_eq(run_cli(&o, "$B report orders.csv --period 2024-02-01..2024-01-01"), 2);
	cr_assert(strstr(o, "ends before it starts"), "%s", o);
	free(o);
	cr_assert_eq(run_cli(&o, "$B report orders.csv --bounce sometimes"), 2);
	free(o);
	cr_assert_eq(run_cli(&o, "$B report orders.csv --window 0"), 2);
	free(o);
	cr_assert_eq(run_cli(&o, "$B report orders.csv --frobnicate"), 2);
	free(o);
}

Test(report_cli, files_by_name_in_three_formats)
{
	char *o, path[512];
	write_file(cli_dir, "orders_2024.csv",
		   "order_id,customer_id,ordered_at,amount,channel\n"
		   "1,a,2024-03-01,100.00,web\n"
		   "2,a,2024-04-01,50.00,web\n"
		   "3,b,2024-05-01,30.00,shop\n", path, sizeof path);
	write_file(cli_dir, "people.csv", "customer_id,country\na,DE\nb,FR\n", path, sizeof path);
	/* a file whose entity its name does not tell */
	cr_assert_eq(run_cli(&o, "$B report orders_2024.csv people.csv"), 1);
	cr_assert(strstr(o, "people.csv: which entity is it?"), "%s", o);
	free(o);
	/* ENTITY=PATH tells it; text by default */
	cr_assert_eq(run_cli(&o, "$B report orders_2024.csv customers=people.csv --as-of 2024-12-31 "
			      "--by country"), 0, "%s", o);
	cr_assert(strstr(o, "as-of: 2024-12-31"), "%s", o);
	cr_assert(strstr(o, "period: 2024-01-01..2024-12-31"), "%s", o);
	cr_assert(strstr(o, "breakdown: country (2 groups)"), "%s", o);
	free(o);
	/* JSON on stdout parses and follows the schema */
	cr_assert_eq(run_cli(&o, "$B report orders_2024.csv --as-of 2024-12-31 --period "
			      "2024-03-01..2024-04-30 --format json --window 90 --out r.json"), 0, "%s", o);
	free(o);
	snprintf(path, sizeof path, "%s/r.json", cli_dir);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	assert_report_structure(j);
	json_t *p = json_object_get(j, "params");
	cr_assert_str_eq(json_string_value(json_object_get(p, "period")), "2024-03-01..2024-04-30");
	cr_assert_str_eq(json_string_value(json_object_get(p, "churn window")), "90 days");
	cr_assert_str_eq(json_string_value(json_object_get(p, "source")), "orders_2024.csv");
	json_decref(j);
	/* CSV into a folder: values.csv and params.csv at least */
	cr_assert_eq(run_cli(&o, "$B report orders_2024.csv --format csv --out csv --timings"), 0,
		     "%s", o);
	cr_assert(strstr(o, "timings: wall s"), "%s", o);
	free(o);
	snprintf(path, sizeof path, "%s/csv/params.csv", cli_dir);
	char *text = read_file(path, NULL);
	cr_assert_not_null(text);
	cr_assert(strncmp(text, "family,group,name,value\n,,source,orders_2024.csv\n", 49) == 0, "%s",
		  text);
	free(text);
	snprintf(path, sizeof path, "%s/csv/values.csv", cli_dir);
	text = read_file(path, NULL);
	cr_assert_not_null(text);
	cr_assert(strncmp(text, "id,group,label,unit,value\n", 26) == 0);
	free(text);
	/* an unknown family is named with the known ones */
	cr_assert_eq(run_cli(&o, "$B report orders_2024.csv --only nope"), 1);
	cr_assert(strstr(o, "unknown family 'nope'"), "%s", o);
	free(o);
}

/* ------------------------------------------ the customers table, wide */

Test(customers_wide, columns_selection_and_order)
{
	/* three_countries: a 150.00 (2 orders), b 30.00, c 20.00; the family
	 * columns are given by hand here (their values are the families' tests'
	 * business): stages a at_risk, b churned, c new; engagement a 12.25
	 * (rounds half away to 12.3), b none, c 80; values with a cost for a
	 * only and a service cost for b only */
	struct crm_dataset *ds = three_countries();
	struct crm_summary_opts so = { ts("2024-12-31"), CRM_NA, CRM_UNIT_DAY };
	struct crm_customer_summary *sum;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, &so, &sum, &err), CRM_OK);
	uint8_t stage[3] = { MX_STAGE_AT_RISK, MX_STAGE_CHURNED, MX_STAGE_NEW };
	double eng[3] = { 12.25, NAN, 80 };
	struct mx_customer_value val[3] = {
		{ 1500000, 600000, CRM_NA, 600000 },
		{ 300000, CRM_NA, 125000, CRM_NA },
		{ 200000, CRM_NA, CRM_NA, CRM_NA },
	};
	struct rpt_customer_extra x = { stage, eng, val };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_table_csv(ds, sum, &so, &x, NULL, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	/* a: first 03-01, repeat 04-01: x 1, t_x 31, T 305 (2024 is a leap year:
	 * 03-01 .. 12-31 is 305 days), mean repeat 50.00 */
	cr_assert_str_eq(text,
		"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue,"
		"stage,engagement,historic_value,gross_profit,service_cost,profit\n"
		"a,1,31,305,50.00,2024-03-01,2024-04-01,2,150.00,at_risk,12.3,150.00,60.00,,60.00\n"
		"b,0,0,244,0.00,2024-05-01,2024-05-01,1,30.00,churned,,30.00,,12.50,\n"
		"c,0,0,0,0.00,2024-12-31,2024-12-31,1,20.00,new,80.0,20.00,,,\n");
	free(text);
	/* sorted by net revenue, largest first, limit 2: a, b; ascending: c, b */
	struct rpt_customer_rows sel;
	cr_assert_eq(rpt_customers_select(ds, sum, &x, -1, "net_revenue", 0, 2, &sel, &err), CRM_OK);
	cr_assert_eq(sel.n_rows, 2);
	cr_assert(sel.rows[0] == 0 && sel.rows[1] == 1);
	free(sel.rows);
	cr_assert_eq(rpt_customers_select(ds, sum, &x, -1, "net_revenue", 1, 2, &sel, &err), CRM_OK);
	cr_assert(sel.rows[0] == 2 && sel.rows[1] == 1);
	free(sel.rows);
	/* by engagement: c 80, a 12.25, then b (unknown) last */
	cr_assert_eq(rpt_customers_select(ds, sum, &x, -1, "engagement", 0, 0, &sel, &err), CRM_OK);
	cr_assert_eq(sel.n_rows, 3);
	cr_assert(sel.rows[0] == 2 && sel.rows[1] == 0 && sel.rows[2] == 1);
	/* written in that order, as JSON with nulls */
	f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_table_json(ds, sum, &so, &x, &sel, f, &err), CRM_OK);
	fclose(f);
	free(sel.rows);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	cr_assert_eq(json_array_size(j), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "customer_id")), "c");
	json_t *b = json_array_get(j, 2);
	cr_assert_str_eq(json_string_value(json_object_get(b, "stage")), "churned");
	cr_assert(json_is_null(json_object_get(b, "engagement")));
	cr_assert(json_is_null(json_object_get(b, "profit")));
	cr_assert_float_eq(json_number_value(json_object_get(b, "service_cost")), 12.5, 1e-9);
	json_decref(j);
	free(text);
	/* only the churned */
	cr_assert_eq(rpt_customers_select(ds, sum, &x, MX_STAGE_CHURNED, NULL, 0, 0, &sel, &err), CRM_OK);
	cr_assert(sel.n_rows == 1 && sel.rows[0] == 1);
	free(sel.rows);
	/* an unknown column; a family column without them */
	cr_assert_eq(rpt_customers_select(ds, sum, &x, -1, "shoe_size", 0, 0, &sel, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "shoe_size"), "%s", err.msg);
	cr_assert_eq(rpt_customers_select(ds, sum, NULL, -1, "profit", 0, 0, &sel, &err), CRM_EINVAL);
	cr_assert_eq(rpt_customers_select(ds, sum, NULL, MX_STAGE_NEW, NULL, 0, 0, &sel, &err),
		     CRM_EINVAL);
	/* without extra columns and rows, the summary's bytes as before */
	f = open_memstream(&text, &len);
	cr_assert_eq(rpt_customers_table_csv(ds, sum, &so, NULL, NULL, f, &err), CRM_OK);
	fclose(f);
	cr_assert(strncmp(text, "customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,"
			  "net_revenue\na,1,31,305,50.00,", 90) == 0, "%s", text);
	free(text);
	free(sum);
	crm_dataset_free(ds);
}

Test(report_cli, customers_from_a_database_are_wide)
{
	/* the families' stages at 2024-12-31 (METRICS.md, defaults W 365, at
	 * risk 2 x own median gap or 180 days for one order, new 90 days):
	 *   a: orders 03-01 and 04-01, gap 31 d; none for 274 d > 62: at_risk
	 *   b: one order 05-01, 244 d ago > 180: at_risk
	 *   c: one order 12-31: new */
	char *o, path[512];
	write_file(cli_dir, "orders.csv",
		   "order_id,customer_id,ordered_at,amount\n"
		   "1,a,2024-03-01,100.00\n2,a,2024-04-01,50.00\n"
		   "3,b,2024-05-01,30.00\n4,c,2024-12-31,20.00\n", path, sizeof path);
	cr_assert_eq(run_cli(&o, "$B import d.db orders orders.csv"), 0, "%s", o);
	free(o);
	cr_assert_eq(run_cli(&o, "$B customers d.db --as-of 2024-12-31 --sort net_revenue:asc"), 0,
		     "%s", o);
	cr_assert_str_eq(o,
		"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue,"
		"stage,engagement,historic_value,gross_profit,service_cost,profit\n"
		"c,0,0,0,0.00,2024-12-31,2024-12-31,1,20.00,new,,20.00,,,\n"
		"b,0,0,244,0.00,2024-05-01,2024-05-01,1,30.00,at_risk,,30.00,,,\n"
		"a,1,31,305,50.00,2024-03-01,2024-04-01,2,150.00,at_risk,,150.00,,,\n");
	free(o);
	cr_assert_eq(run_cli(&o, "$B customers d.db --as-of 2024-12-31 --stage new"), 0, "%s", o);
	cr_assert(strstr(o, "\nc,") && !strstr(o, "\na,") && !strstr(o, "\nb,"), "%s", o);
	free(o);
	cr_assert_eq(run_cli(&o, "$B customers d.db --stage sleepy"), 2);
	free(o);
	/* files stay narrow unless --wide */
	cr_assert_eq(run_cli(&o, "$B customers orders.csv --as-of 2024-12-31 --limit 1"), 0, "%s", o);
	cr_assert_str_eq(o, "customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,"
			    "net_revenue\na,1,31,305,50.00,2024-03-01,2024-04-01,2,150.00\n");
	free(o);
}
