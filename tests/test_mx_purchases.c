/* test_mx_purchases.c - the purchases family (src/metrics/purchases.c) on
 * small hand-made shops whose every number is worked out in the comments:
 * P's totals, AOV, frequency, repeat rate, no second order, inter-purchase
 * time, the channel mix, spend bands with a tie, the monthly trends with
 * empty months, seasonality (24 months and fewer), category movers, the
 * filters of the context, no orders at all, and the ranking helpers; then
 * the CDNOW log and Online Retail II against the facts of data/README.md,
 * and the demo business against sums made here with mx_order_kind; and the
 * paths large data takes (the median gap from buckets, the radix ranking
 * over a span, a customer in every channel). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "data/load.h"
#include "demo/demo.h"
#include "metrics/mx.h"
#include "metrics/purchases.h"
#include "report/doc.h"
#include "support.h"

#define EPS 1e-9

/* An order with the optional fields the family reads (NULL: missing). */
static void order(struct ds_builder *b, const char *id, const char *cust, const char *at,
		  const char *amount, const char *status, const char *channel,
		  const char *category)
{
	struct ent_record r = rec(CRM_ORDERS, 0);
	struct crm_err err;
	int64_t a = 0;
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	cr_assert_eq(money_parse(amount, strlen(amount), '.', &a), 0);
	set_i(&r, CRM_O_AMOUNT, a);
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	if (channel)
		set_s(&r, CRM_O_CHANNEL, channel);
	if (category)
		set_s(&r, CRM_O_CATEGORY, category);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static void customer(struct ds_builder *b, const char *id)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 0);
	struct crm_err err;
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static struct crm_dataset *finish(struct ds_builder *b)
{
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

static struct mx_ctx context(const struct crm_dataset *ds, const char *as_of)
{
	struct mx_opts o;
	struct mx_ctx ctx;
	struct crm_err err;
	mx_opts_default(&o);
	if (as_of)
		o.as_of = ts(as_of);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	return ctx;
}

static struct mx_purchases compute(const struct mx_ctx *ctx)
{
	struct mx_purchases p;
	struct crm_err err;
	cr_assert_eq(mx_purchases_compute(ctx, &p, &err), CRM_OK, "%s", err.msg);
	return p;
}

/* The code of text s in a CAT column's dictionary (0 if absent). */
static uint32_t code_of(const struct crm_column *col, const char *s)
{
	for (size_t k = 1; k < col->dict.n; k++)
		if (strcmp(col->dict.bytes + col->dict.off[k], s) == 0)
			return (uint32_t)k;
	return 0;
}

static const struct mx_channel_mix *mix_of(const struct mx_purchases *p,
					   const struct crm_dataset *ds, const char *name)
{
	uint32_t code = code_of(&ds->t[CRM_ORDERS].col[CRM_O_CHANNEL], name);
	for (size_t i = 0; i < p->n_channels; i++)
		if (p->channels[i].code == code)
			return &p->channels[i];
	cr_assert_fail("channel %s not in the mix", name);
	return NULL;
}

/* ------------------------------------------------------------ the shop */

#define A_SHOP "2024-06-30T23:59:59Z"

/* As of A_SHOP the default P is [2023-07-01, 2024-07-01) (12 calendar
 * months before A + 1 s), and the last complete month is 2024-06. */
static struct crm_dataset *shop(void)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* a: one order before P, two on one day in P (web and app), a return
	 * and a cancellation in P */
	order(b, "a1", "a", "2023-05-10T12:00:00Z", "100.00", "completed", "web", "books");
	order(b, "a2", "a", "2023-08-01T09:00:00Z", "50.00", "completed", "web", "books");
	order(b, "a3", "a", "2023-08-01T15:00:00Z", "30.00", NULL, "app", "toys");
	order(b, "a4", "a", "2024-01-15T10:00:00Z", "20.00", "returned", "web", "books");
	order(b, "a5", "a", "2024-03-01T10:00:00Z", "99.00", "cancelled", "web", NULL);
	/* b: one order, 141 days before A */
	order(b, "b1", "b", "2024-02-10T08:00:00Z", "80.00", "completed", "app", "toys");
	/* c: one order 10 days before A */
	order(b, "c1", "c", "2024-06-20T08:00:00Z", "40.00", "completed", "web", "books");
	/* d: a customer without orders */
	customer(b, "d");
	/* e: the first order at the first second of P, and one after A */
	order(b, "e1", "e", "2023-07-01T00:00:00Z", "10.00", "completed", "store", NULL);
	order(b, "e2", "e", "2023-10-01T11:00:00Z", "10.00", "completed", "store", "books");
	order(b, "e3", "e", "2024-04-01T11:00:00Z", "10.00", "completed", "web", "books");
	order(b, "e4", "e", "2024-07-01T00:00:00Z", "500.00", "completed", "web", "books");
	/* f: only a return, given as a negative amount without status */
	order(b, "f1", "f", "2024-05-05T10:00:00Z", "-15.00", NULL, "web", "toys");
	/* g: two orders two days apart, net revenue 80 like b's (a tie) */
	order(b, "g1", "g", "2024-06-01T10:00:00Z", "40.00", "completed", "web", "books");
	order(b, "g2", "g", "2024-06-03T10:00:00Z", "40.00", "completed", "web", "books");
	struct crm_dataset *ds = finish(b);
	cr_assert_eq(ds->n_customers, 7);   /* a..g = ids 0..6 */
	return ds;
}

Test(mx_purchases, period_totals)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	cr_assert_eq(ctx.o.p_start, ts("2023-07-01T00:00:00Z"));
	cr_assert_eq(ctx.o.p_end, ts("2024-07-01T00:00:00Z"));
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.has_orders, 1);
	/* completed in P: a2 50, a3 30, b1 80, c1 40, e1 10, e2 10, e3 10,
	 * g1 40, g2 40 = 9 orders, 310.00 (a1 is before P, e4 after A, a5
	 * cancelled); returns: a4 20 and f1 15 = 2, 35.00; net 275.00 */
	cr_assert_eq(p.orders, 9);
	cr_assert_eq(p.revenue, 3100000);
	cr_assert_eq(p.return_orders, 2);
	cr_assert_eq(p.returns, 350000);
	cr_assert_eq(p.net_revenue, 2750000);
	/* active: a (2), b (1), c (1), e (3), g (2) = 5, f only returned;
	 * repeaters a, e, g = 3 */
	cr_assert_eq(p.customers, 5);
	cr_assert_eq(p.repeaters, 3);
	cr_assert_float_eq(p.aov, 310.0 / 9, EPS);            /* 34.444 */
	cr_assert_float_eq(p.net_per_order, 275.0 / 9, EPS);  /* 30.556 */
	cr_assert_float_eq(p.frequency, 9.0 / 5, EPS);        /* 1.8 */
	cr_assert_float_eq(p.repeat_rate, 60.0, EPS);
	/* to A: buyers a (a1-a3), b, c, e (e1-e3), g; 3 with 2 or more */
	cr_assert_eq(p.buyers, 5);
	cr_assert_eq(p.buyers_repeat, 3);
	cr_assert_float_eq(p.repeat_rate_to_date, 60.0, EPS);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, no_second_order_and_inter_purchase_time)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct mx_purchases p = compute(&ctx);
	/* first completed order more than 90 days before A: a (2023-05-10),
	 * b (2024-02-10: 141 days), e (2023-07-01); c (10 days) and g (29)
	 * are too young. Of the three only b has exactly one order. */
	cr_assert_eq(p.ns_eligible, 3);
	cr_assert_eq(p.ns_one, 1);
	cr_assert_float_eq(p.ns_share, 100.0 / 3, EPS);
	/* purchase days: a 2023-05-10 and 2023-08-01 (a2 and a3 on one day):
	 * 83 days, one gap of 83; e 2023-07-01, 2023-10-01, 2024-04-01: 275
	 * days (2024 is a leap year), mean gap 137.5; g 2024-06-01, 06-03: 2.
	 * Median of 2, 83, 137.5 = 83; mean 222.5 / 3; first to last
	 * (83 + 275 + 2) / 3 = 120. */
	cr_assert_eq(p.ipt_customers, 3);
	cr_assert_float_eq(p.ipt_median, 83.0, EPS);
	cr_assert_float_eq(p.ipt_mean, 222.5 / 3, EPS);
	cr_assert_float_eq(p.span_mean, 120.0, EPS);
	mx_purchases_fini(&p);

	/* an age of 200 days leaves a and e (b is 141 days old): none with one */
	struct mx_opts o = ctx.o;
	o.no_second_days = 200;
	struct crm_err err;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK);
	p = compute(&ctx);
	cr_assert_eq(p.ns_eligible, 2);
	cr_assert_eq(p.ns_one, 0);
	cr_assert_float_eq(p.ns_share, 0.0, EPS);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, channel_mix)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.n_channels, 3);
	/* web: a2 50, c1 40, e3 10, g1 40, g2 40 = 5 orders, 180.00; returns a4
	 * 20 + f1 15 = 35; net 145; customers a, c, e, g; repeaters g (two web
	 * orders; a and e have one each here) = 25%; AOV 36 */
	const struct mx_channel_mix *m = mix_of(&p, ds, "web");
	cr_assert_eq(m->orders, 5);
	cr_assert_eq(m->revenue, 1800000);
	cr_assert_eq(m->returns, 350000);
	cr_assert_eq(m->net_revenue, 1450000);
	cr_assert_eq(m->customers, 4);
	cr_assert_eq(m->repeaters, 1);
	cr_assert_float_eq(m->aov, 36.0, EPS);
	cr_assert_float_eq(m->repeat_rate, 25.0, EPS);
	/* app: a3 30, b1 80: 2 orders, 110, customers a, b, no repeater, AOV 55 */
	m = mix_of(&p, ds, "app");
	cr_assert_eq(m->orders, 2);
	cr_assert_eq(m->revenue, 1100000);
	cr_assert_eq(m->customers, 2);
	cr_assert_eq(m->repeaters, 0);
	cr_assert_float_eq(m->aov, 55.0, EPS);
	cr_assert_float_eq(m->repeat_rate, 0.0, EPS);
	/* store: e1, e2: 2 orders of 10, customer e twice: 100% */
	m = mix_of(&p, ds, "store");
	cr_assert_eq(m->orders, 2);
	cr_assert_eq(m->revenue, 200000);
	cr_assert_eq(m->customers, 1);
	cr_assert_float_eq(m->repeat_rate, 100.0, EPS);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, spend_bands_with_a_tie)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct mx_purchases p = compute(&ctx);
	/* net revenue in P of the active customers: a 50 + 30 - 20 = 60, b 80,
	 * c 40, e 30, g 80 (f is not active: its return is in P's net revenue,
	 * in no band). Descending: 80 (b), 80 (g), 60, 40, 30; total 290.
	 * Quintiles of 5 customers: one each. */
	cr_assert_eq(p.band_customers, 5);
	cr_assert_eq(p.n_bands, 5);
	static const int64_t want[5] = { 800000, 800000, 600000, 400000, 300000 };
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(p.bands[i].customers, 1);
		cr_assert_eq(p.bands[i].total, want[i], "band %d", i);
		cr_assert_eq(p.bands[i].min, want[i]);
		cr_assert_eq(p.bands[i].max, want[i]);
		cr_assert_float_eq(p.bands[i].share, 100.0 * (double)want[i] / 2900000, EPS);
	}
	/* top 20% of 5 = exactly 1 customer: 80 / 290 */
	cr_assert_float_eq(p.top20_share, 8000.0 / 290, EPS);
	mx_purchases_fini(&p);

	/* two bands: NTILE gives 3 + 2: {80, 80, 60} = 220, {40, 30} = 70 */
	struct mx_opts o = ctx.o;
	o.spend_bands = 2;
	struct crm_err err;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK);
	p = compute(&ctx);
	cr_assert_eq(p.bands[0].customers, 3);
	cr_assert_eq(p.bands[0].total, 2200000);
	cr_assert_eq(p.bands[0].min, 600000);
	cr_assert_eq(p.bands[0].max, 800000);
	cr_assert_eq(p.bands[1].customers, 2);
	cr_assert_eq(p.bands[1].total, 700000);
	cr_assert_float_eq(p.bands[0].share, 22000.0 / 290, EPS);   /* 75.86 */
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, monthly_trends_with_empty_months)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct mx_purchases p = compute(&ctx);
	/* from 2023-05 (a1) to 2024-06: 14 months, all complete */
	cr_assert_eq(p.n_months, 14);
	cr_assert_eq(p.months[0].month, mx_month_of(ts("2023-05-01")));
	struct {
		size_t orders;
		int64_t revenue, returns;
		size_t active, new_c;
	} want[14] = {
		{ 1, 1000000, 0, 1, 1 },   /* 2023-05 a1 100, a new */
		{ 0, 0, 0, 0, 0 },         /* 2023-06 */
		{ 1, 100000, 0, 1, 1 },    /* 2023-07 e1 10, e new */
		{ 2, 800000, 0, 1, 0 },    /* 2023-08 a2 50 + a3 30, a returning */
		{ 0, 0, 0, 0, 0 },         /* 2023-09 */
		{ 1, 100000, 0, 1, 0 },    /* 2023-10 e2 */
		{ 0, 0, 0, 0, 0 },         /* 2023-11 */
		{ 0, 0, 0, 0, 0 },         /* 2023-12 */
		{ 0, 0, 200000, 0, 0 },    /* 2024-01 a4 returned 20 */
		{ 1, 800000, 0, 1, 1 },    /* 2024-02 b1 80, b new */
		{ 0, 0, 0, 0, 0 },         /* 2024-03 a5 cancelled: nothing */
		{ 1, 100000, 0, 1, 0 },    /* 2024-04 e3 */
		{ 0, 0, 150000, 0, 0 },    /* 2024-05 f1 -15 */
		{ 3, 1200000, 0, 2, 2 },   /* 2024-06 c1, g1, g2: c and g new */
	};
	for (int i = 0; i < 14; i++) {
		const struct mx_month *m = &p.months[i];
		cr_assert_eq(m->orders, want[i].orders, "month %d", i);
		cr_assert_eq(m->revenue, want[i].revenue, "month %d", i);
		cr_assert_eq(m->returns, want[i].returns, "month %d", i);
		cr_assert_eq(m->net_revenue, want[i].revenue - want[i].returns, "month %d", i);
		cr_assert_eq(m->active, want[i].active, "month %d", i);
		cr_assert_eq(m->new_customers, want[i].new_c, "month %d", i);
		cr_assert_eq(m->returning, want[i].active - want[i].new_c, "month %d", i);
		cr_assert_eq(m->complete, 1);
	}
	/* MoM: 2023-06 0 / 100 - 1 = -100%; 2023-07 after an empty month: no
	 * data; 2023-08 80 / 10 - 1 = +700%; the first month has none */
	cr_assert(isnan(p.months[0].mom));
	cr_assert_float_eq(p.months[1].mom, -100.0, EPS);
	cr_assert(isnan(p.months[2].mom));
	cr_assert_float_eq(p.months[3].mom, 700.0, EPS);
	/* YoY: 2024-05 against 2023-05: 0 / 100 - 1 = -100%; 2024-06 against
	 * the empty 2023-06: no data; earlier months have no year before */
	cr_assert_float_eq(p.months[12].yoy, -100.0, EPS);
	cr_assert(isnan(p.months[13].yoy));
	for (int i = 0; i < 12; i++)
		cr_assert(isnan(p.months[i].yoy));
	/* 14 months: too few for seasonality */
	cr_assert_eq(p.season_months, 14);
	for (int k = 0; k < 12; k++)
		cr_assert(isnan(p.season[k]));
	mx_purchases_fini(&p);

	/* as of the middle of June, June is partial and only 13 months count
	 * as complete */
	ctx = context(ds, "2024-06-15T00:00:00Z");
	p = compute(&ctx);
	cr_assert_eq(p.n_months, 14);
	cr_assert_eq(p.months[13].complete, 0);
	cr_assert_eq(p.months[13].orders, 2);   /* g1 and g2; c1 is after A */
	cr_assert_eq(p.months[12].complete, 1);
	cr_assert_eq(p.season_months, 13);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, customer_and_channel_filters)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	/* customers a and f only (ids 0 and 5) */
	uint8_t in[7] = { 1, 0, 0, 0, 0, 1, 0 };
	ctx.in = in;
	struct mx_purchases p = compute(&ctx);
	/* a: a2 50 + a3 30 completed in P, a4 20 returned; f: 15 returned */
	cr_assert_eq(p.orders, 2);
	cr_assert_eq(p.revenue, 800000);
	cr_assert_eq(p.returns, 350000);
	cr_assert_eq(p.net_revenue, 450000);
	cr_assert_eq(p.customers, 1);
	cr_assert_eq(p.repeaters, 1);
	cr_assert_eq(p.buyers, 1);
	cr_assert_eq(p.ipt_customers, 1);
	cr_assert_float_eq(p.ipt_median, 83.0, EPS);
	mx_purchases_fini(&p);

	/* all customers, app orders only: a3 30 and b1 80; a's first app
	 * order is a3 (2023-08-01, more than 90 days old), b's b1: both have
	 * one app order, so both count as no second order */
	ctx.in = NULL;
	ctx.order_channel = code_of(&ds->t[CRM_ORDERS].col[CRM_O_CHANNEL], "app");
	cr_assert_neq(ctx.order_channel, 0);
	p = compute(&ctx);
	cr_assert_eq(p.orders, 2);
	cr_assert_eq(p.revenue, 1100000);
	cr_assert_eq(p.returns, 0);
	cr_assert_eq(p.customers, 2);
	cr_assert_eq(p.repeaters, 0);
	cr_assert_eq(p.n_channels, 1);
	cr_assert_eq(p.ns_eligible, 2);
	cr_assert_eq(p.ns_one, 2);
	cr_assert_eq(p.ipt_customers, 0);
	cr_assert(isnan(p.ipt_median));
	/* trends start at 2023-08 (a3), the first app order */
	cr_assert_eq(p.months[0].month, mx_month_of(ts("2023-08-01")));
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, report_section)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct rp_doc *d = rp_doc_new();
	struct crm_err err;
	cr_assert_eq(mx_purchases_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	int found = 0;
	cr_assert_float_eq(rp_get(d, NULL, "purchases.orders", &found), 9.0, EPS);
	cr_assert(found);
	cr_assert_float_eq(rp_get(d, NULL, "purchases.revenue", NULL), 310.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "purchases.net_revenue", NULL), 275.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "purchases.aov", NULL), 310.0 / 9, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "purchases.no_second_order", NULL), 1.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "purchases.ipt_median", NULL), 83.0, EPS);
	/* no seasonality with 14 months: no data, not 0 */
	const struct rp_table *t = rp_table_get(d, NULL, "purchases.seasonality");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 12);
	cr_assert(isnan(rp_table_num(t, 0, 1)));
	/* the channel mix in code order, net revenue share of web 145 / 275 */
	t = rp_table_get(d, NULL, "purchases.channel_mix");
	cr_assert_eq(rp_table_rows(t), 3);
	int web = -1;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(rp_table_str(t, i, 0), "web") == 0)
			web = (int)i;
	cr_assert_geq(web, 0);
	cr_assert_float_eq(rp_table_num(t, (size_t)web, 5), 14500.0 / 275, EPS);
	/* trends: 14 rows, the labels are months */
	t = rp_table_get(d, NULL, "purchases.trends");
	cr_assert_eq(rp_table_rows(t), 14);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "2023-05");
	cr_assert_float_eq(rp_table_num(t, 8, 4), -20.0, EPS);   /* 2024-01 net revenue */
	/* spend bands: 5 rows, band 1 = 80 */
	t = rp_table_get(d, NULL, "purchases.spend_bands");
	cr_assert_eq(rp_table_rows(t), 5);
	cr_assert_float_eq(rp_table_num(t, 0, 4), 80.0, EPS);
	rp_doc_free(d);

	/* a breakdown group gets its own section */
	d = rp_doc_new();
	ctx.group = "tier=gold";
	cr_assert_eq(mx_purchases_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, "tier=gold", "purchases.orders", NULL), 9.0, EPS);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------ no orders */

Test(mx_purchases, no_orders_is_no_data)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	customer(b, "x");
	struct ent_record r = rec(CRM_TICKETS, 0);
	set_s(&r, CRM_T_TICKET_ID, "t1");
	set_s(&r, CRM_T_CUSTOMER_ID, "x");
	set_i(&r, CRM_T_OPENED_AT, ts("2024-01-01T00:00:00Z"));
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
	struct crm_dataset *ds = finish(b);
	struct mx_ctx ctx = context(ds, NULL);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.has_orders, 0);
	cr_assert(isnan(p.aov));
	cr_assert(isnan(p.top20_share));
	cr_assert_eq(p.n_months, 0);
	mx_purchases_fini(&p);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_purchases_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	int found = 0;
	/* every value is no data: present, but NAN, not 0 */
	static const char *const ids[] = { "purchases.orders", "purchases.revenue",
					   "purchases.customers", "purchases.aov",
					   "purchases.net_revenue", "purchases.frequency",
					   "purchases.repeat_rate", "purchases.no_second_order",
					   "purchases.ipt_median", "purchases.top20_share" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		cr_assert(isnan(rp_get(d, NULL, ids[i], &found)), "%s", ids[i]);
		cr_assert(found, "%s", ids[i]);
	}
	cr_assert_eq(rp_table_rows(rp_table_get(d, NULL, "purchases.trends")), 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* Orders exist but none in P: counts are real zeros, ratios no data. */
Test(mx_purchases, an_empty_period_counts_zero)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	order(b, "o1", "x", "2020-01-10T00:00:00Z", "10.00", NULL, NULL, NULL);
	struct crm_dataset *ds = finish(b);
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts(A_SHOP);
	struct mx_ctx ctx;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.orders, 0);
	cr_assert_eq(p.customers, 0);
	cr_assert(isnan(p.aov));
	cr_assert(isnan(p.frequency));
	cr_assert(isnan(p.repeat_rate));
	cr_assert_eq(p.bands[0].customers, 0);
	cr_assert(isnan(p.top20_share));
	/* the one-order customer: first order years before A, one order */
	cr_assert_eq(p.ns_eligible, 1);
	cr_assert_eq(p.ns_one, 1);
	cr_assert_float_eq(p.ns_share, 100.0, EPS);
	/* 2020-01 .. 2024-06: 54 months, only the first with an order */
	cr_assert_eq(p.n_months, 54);
	/* no channel column: the mix is empty, the one order had channel 0 */
	cr_assert_eq(p.n_channels, 0);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------ seasonality */

/* One customer buying on the 15th of every month from 2021-01 for n months,
 * amount = factor of the month of year (1 .. 12) x 10. */
static struct crm_dataset *monthly(int n, int partial_extra)
{
	struct ds_builder *b;
	struct crm_err err;
	char id[16], at[32], amount[16];
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	for (int i = 0; i < n + partial_extra; i++) {
		int y = 2021 + i / 12, m = i % 12 + 1;
		snprintf(id, sizeof id, "o%d", i);
		snprintf(at, sizeof at, "%04d-%02d-15T12:00:00Z", y, m);
		snprintf(amount, sizeof amount, "%d.00", 10 * m);
		order(b, id, "s", at, amount, NULL, NULL, NULL);
	}
	return finish(b);
}

Test(mx_purchases, seasonality_of_a_periodic_series)
{
	/* 24 months 2021-01 .. 2022-12, as of the end of 2022-12. For a series
	 * of period 12 the centred 2x12 moving average is the mean over one
	 * period (the two half weights fall on equal months): 10 x 6.5 = 65.
	 * The ratios (months 7 .. 18 of the series, one per month of year) are
	 * 10 m / 65, whose mean is 1, so the index of month m is m / 6.5. */
	struct crm_dataset *ds = monthly(24, 0);
	struct mx_ctx ctx = context(ds, "2022-12-31T23:59:59Z");
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.season_months, 24);
	for (int k = 0; k < 12; k++) {
		cr_assert_float_eq(p.season[k], (k + 1) / 6.5, 1e-12, "month %d: %g", k + 1,
				   p.season[k]);
		cr_assert_eq(p.season_ratios[k], 1);
	}
	mx_purchases_fini(&p);
	crm_dataset_free(ds);

	/* 23 complete months and a partial 24th (as of 2022-12-20): no data */
	ds = monthly(23, 1);
	ctx = context(ds, "2022-12-20T00:00:00Z");
	p = compute(&ctx);
	cr_assert_eq(p.n_months, 24);
	cr_assert_eq(p.season_months, 23);
	for (int k = 0; k < 12; k++)
		cr_assert(isnan(p.season[k]));
	mx_purchases_fini(&p);
	crm_dataset_free(ds);

	/* 36 months: each month of year has two ratios (series months 6 .. 29),
	 * all equal to m / 6.5 again */
	ds = monthly(36, 0);
	ctx = context(ds, "2023-12-31T23:59:59Z");
	p = compute(&ctx);
	for (int k = 0; k < 12; k++) {
		cr_assert_float_eq(p.season[k], (k + 1) / 6.5, 1e-12);
		cr_assert_eq(p.season_ratios[k], 2);
	}
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------ velocity */

Test(mx_purchases, category_velocity_and_movers)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* as of the end of 2024-06: last 3 = 2024-04 .. 06, prev 3 = 2024-01 .. 03 */
	order(b, "v01", "v", "2023-12-05T10:00:00Z", "999.00", NULL, NULL, "books"); /* outside */
	order(b, "v02", "v", "2024-01-05T10:00:00Z", "100.00", NULL, NULL, "books");
	order(b, "v03", "v", "2024-03-05T10:00:00Z", "100.00", NULL, NULL, "books");
	order(b, "v04", "v", "2024-05-05T10:00:00Z", "300.00", NULL, NULL, "books");
	order(b, "v05", "v", "2024-02-05T10:00:00Z", "100.00", NULL, NULL, "toys");
	order(b, "v06", "v", "2024-04-05T10:00:00Z", "400.00", NULL, NULL, "toys");
	order(b, "v07", "v", "2024-04-06T10:00:00Z", "50.00", "returned", NULL, "toys");
	order(b, "v08", "v", "2024-01-10T10:00:00Z", "200.00", NULL, NULL, "games");
	order(b, "v09", "v", "2024-06-10T10:00:00Z", "100.00", NULL, NULL, "games");
	order(b, "v10", "v", "2024-06-11T10:00:00Z", "50.00", NULL, NULL, "music");
	order(b, "v11", "v", "2024-03-11T10:00:00Z", "100.00", NULL, NULL, "films");
	order(b, "v12", "v", "2024-06-11T10:00:00Z", "100.00", NULL, NULL, "films");
	order(b, "v13", "v", "2024-02-11T10:00:00Z", "100.00", NULL, NULL, "maps");
	order(b, "v14", "v", "2024-04-11T10:00:00Z", "150.00", NULL, NULL, "maps");
	order(b, "v15", "v", "2024-07-02T10:00:00Z", "800.00", NULL, NULL, "games"); /* after A */
	struct crm_dataset *ds = finish(b);
	const struct crm_column *catcol = &ds->t[CRM_ORDERS].col[CRM_O_CATEGORY];
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.has_categories, 1);
	cr_assert_eq(p.last3_first, mx_month_of(ts("2024-04-01")));
	/* growth: toys 400 / 100 = +300% (the return does not count), books
	 * 300 / 200 = +50%, maps 150 / 100 = +50% (a tie: by code), films 0%,
	 * games 100 / 200 = -50%, music new: no growth, last */
	cr_assert_eq(p.n_movers, 6);
	cr_assert_eq(p.n_growth, 5);
	uint32_t books = code_of(catcol, "books"), maps = code_of(catcol, "maps");
	cr_assert_eq(p.movers[0].code, code_of(catcol, "toys"));
	cr_assert_float_eq(p.movers[0].growth, 300.0, EPS);
	cr_assert_eq(p.movers[0].orders_prev, 1);
	cr_assert_eq(p.movers[0].orders_last, 1);
	cr_assert_eq(p.movers[0].revenue_last, 4000000);
	cr_assert_eq(p.movers[1].code, books < maps ? books : maps);
	cr_assert_eq(p.movers[2].code, books < maps ? maps : books);
	cr_assert_float_eq(p.movers[1].growth, 50.0, EPS);
	cr_assert_float_eq(p.movers[2].growth, 50.0, EPS);
	cr_assert_eq(p.movers[3].code, code_of(catcol, "films"));
	cr_assert_float_eq(p.movers[3].growth, 0.0, EPS);
	cr_assert_eq(p.movers[4].code, code_of(catcol, "games"));
	cr_assert_float_eq(p.movers[4].growth, -50.0, EPS);
	cr_assert_eq(p.movers[5].code, code_of(catcol, "music"));
	cr_assert(isnan(p.movers[5].growth));
	cr_assert_eq(p.movers[5].revenue_prev, 0);
	cr_assert_eq(p.movers[5].revenue_last, 500000);
	/* P = 2023-07 .. 2024-06, but the data starts in 2023-12: 7 months;
	 * books in 2023-12 = 999, in 2024-05 = 300 */
	cr_assert_eq(p.n_vmonths, 7);
	cr_assert_eq(p.vm_first, mx_month_of(ts("2023-12-01")));
	cr_assert_eq(p.cat_revenue[books * 7 + 0], 9990000);
	cr_assert_eq(p.cat_orders[books * 7 + 0], 1);
	cr_assert_eq(p.cat_revenue[books * 7 + 5], 3000000);
	cr_assert_eq(p.cat_orders[books * 7 + 6], 0);
	mx_purchases_fini(&p);

	/* in the report: fastest toys first, slowest games first */
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_purchases_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	const struct rp_table *t = rp_table_get(d, NULL, "purchases.movers_fastest");
	cr_assert_eq(rp_table_rows(t), 5);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "toys");
	t = rp_table_get(d, NULL, "purchases.movers_slowest");
	cr_assert_str_eq(rp_table_str(t, 0, 0), "games");
	cr_assert_str_eq(rp_table_str(t, 1, 0), "films");
	/* velocity: 6 categories with orders in P x 7 months; books (1499 in
	 * P) first */
	t = rp_table_get(d, NULL, "purchases.velocity");
	cr_assert_eq(rp_table_rows(t), 6 * 7);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "books");
	cr_assert_str_eq(rp_table_str(t, 0, 1), "2023-12");
	cr_assert_float_eq(rp_table_num(t, 0, 3), 999.0, EPS);
	cr_assert_float_eq(rp_table_num(t, 5, 3), 300.0, EPS);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(mx_purchases, no_categories_is_no_data)
{
	struct crm_dataset *ds = monthly(3, 0);
	struct mx_ctx ctx = context(ds, NULL);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.has_categories, 0);
	cr_assert_eq(p.n_movers, 0);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------ helpers */

Test(mx_purchases, ranking_helpers)
{
	/* ties keep their input order; negative values sort below zero */
	struct mx_ranked r[6] = { { 5, 0 }, { -3, 1 }, { 5, 2 }, { 0, 3 }, { INT64_MAX, 4 },
				  { INT64_MIN + 1, 5 } };
	struct mx_ranked tmp[6];
	mx_rank_desc(r, tmp, 6);
	static const uint32_t order_ids[6] = { 4, 0, 2, 3, 1, 5 };
	for (int i = 0; i < 6; i++)
		cr_assert_eq(r[i].id, order_ids[i], "rank %d: id %u", i, r[i].id);
	/* NTILE(4) of 6: 2, 2, 1, 1 */
	struct mx_ranked v[6] = { { 60, 0 }, { 50, 1 }, { 40, 2 }, { 30, 3 }, { 20, 4 }, { 10, 5 } };
	struct mx_band band[4];
	struct crm_err err;
	cr_assert_eq(mx_bands_fill(v, 6, 4, band, &err), CRM_OK);
	cr_assert_eq(band[0].customers, 2);
	cr_assert_eq(band[0].total, 110);
	cr_assert_eq(band[1].customers, 2);
	cr_assert_eq(band[1].total, 70);
	cr_assert_eq(band[2].customers, 1);
	cr_assert_eq(band[3].total, 10);
	cr_assert_float_eq(band[0].share, 11000.0 / 210, EPS);
	/* more bands than values: the last ones are empty */
	cr_assert_eq(mx_bands_fill(v, 2, 4, band, &err), CRM_OK);
	cr_assert_eq(band[2].customers, 0);
	cr_assert_eq(band[2].min, CRM_NA);
	/* Lorenz: top 20% of 3 values 50, 30, 20 = 0.6 of the first = 30 of 100 */
	struct mx_ranked w[3] = { { 50, 0 }, { 30, 1 }, { 20, 2 } };
	cr_assert_float_eq(mx_top_share(w, 3, 20), 30.0, EPS);
	/* of 6 values: the first and 0.2 of the second: (60 + 10) / 210 */
	cr_assert_float_eq(mx_top_share(v, 6, 20), 7000.0 / 210, EPS);
	cr_assert_float_eq(mx_top_share(v, 6, 100), 100.0, EPS);
	cr_assert(isnan(mx_top_share(v, 0, 20)));
	struct mx_ranked neg[2] = { { 10, 0 }, { -20, 1 } };
	cr_assert(isnan(mx_top_share(neg, 2, 20)));   /* total <= 0 */
}

/* ------------------------------------------------------------ real data */

static struct crm_dataset *cdnow_master(void)
{
	struct ds_file f;
	memset(&f, 0, sizeof f);
	f.path = "../shared/data/cdnow/CDNOW_master.txt";
	f.ing.entity = CRM_ORDERS;
	f.ing.csv.mode = ING_DELIM_WS;
	f.ing.date_format = "%Y%m%d";
	f.ing.decimal = '.';
	struct ing_summary sum;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(sum.read, 69659);
	cr_assert_eq(sum.rejected, 0);
	return ds;
}

/* data/README.md: 69,659 rows, 23,570 customers, $2,500,315.63; 11,516
 * customers bought on 2 or more distinct days; every customer made the
 * first purchase in the first quarter of 1997. */
Test(mx_purchases, cdnow_master_facts)
{
	struct crm_dataset *ds = cdnow_master();
	cr_assert_eq(ds->n_customers, 23570);
	struct mx_opts o;
	mx_opts_default(&o);
	o.p_start = ts("1997-01-01T00:00:00Z");
	o.p_end = ts("1998-07-01T00:00:00Z");
	struct mx_ctx ctx;
	struct crm_err err;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.orders, 69659);
	cr_assert_eq(p.revenue, 25003156300LL);
	cr_assert_eq(p.net_revenue, 25003156300LL);
	cr_assert_eq(p.customers, 23570);
	cr_assert_eq(p.buyers, 23570);
	cr_assert_eq(p.ipt_customers, 11516);
	/* 1997-01 .. 1998-06: 18 months whose sums are the totals; new
	 * customers only in 1997-01 .. 03 */
	cr_assert_eq(p.n_months, 18);
	size_t orders = 0, new_c = 0;
	int64_t revenue = 0;
	for (size_t i = 0; i < p.n_months; i++) {
		orders += p.months[i].orders;
		revenue += p.months[i].revenue;
		new_c += p.months[i].new_customers;
		if (i >= 3)
			cr_assert_eq(p.months[i].new_customers, 0, "month %zu", i);
	}
	cr_assert_eq(orders, 69659);
	cr_assert_eq(revenue, 25003156300LL);
	cr_assert_eq(new_c, 23570);
	/* A is the last order's time, 1998-06-30 00:00: June is not complete */
	cr_assert_eq(p.season_months, 17);
	cr_assert(isnan(p.season[0]));
	/* the bands hold every customer and all of the revenue */
	size_t in_bands = 0;
	int64_t band_sum = 0;
	for (int b = 0; b < p.n_bands; b++) {
		in_bands += p.bands[b].customers;
		band_sum += p.bands[b].total;
		cr_assert(b == 0 || p.bands[b].max <= p.bands[b - 1].min);
	}
	cr_assert_eq(in_bands, 23570);
	cr_assert_eq(band_sum, 25003156300LL);
	/* no channel column: one mix row for the orders without a channel */
	cr_assert_eq(p.n_channels, 1);
	cr_assert_eq(p.channels[0].code, 0);
	cr_assert_eq(p.channels[0].orders, 69659);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

/* ../shared/data/README.md and docs/IMPORT.md: the lines with a customer
 * fold into 23,587 orders of 4,383 customers, summing to 8,348,208.574;
 * cancellation invoices are returns with their negative amounts, so net
 * revenue over all time is that sum. */
Test(mx_purchases, online_retail_totals)
{
	struct ds_file f;
	memset(&f, 0, sizeof f);
	f.path = "../shared/data/online_retail_ii/online_retail_II_2009_2010.csv";
	f.ing.entity = CRM_ORDERS;
	f.ing.decimal = '.';
	f.ing.currency = "GBP";
	struct ing_summary sum;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 4383);
	struct mx_opts o;
	mx_opts_default(&o);
	o.p_start = ts("2009-01-01T00:00:00Z");
	struct mx_ctx ctx;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	struct mx_purchases p = compute(&ctx);
	cr_assert_eq(p.orders + p.return_orders, 23587);
	cr_assert_eq(p.net_revenue, 83482085740LL);
	/* the months from 2009-12 to 2010-12 add up to the same */
	cr_assert_eq(p.n_months, 13);
	int64_t net = 0;
	size_t new_c = 0;
	for (size_t i = 0; i < p.n_months; i++) {
		net += p.months[i].net_revenue;
		new_c += p.months[i].new_customers;
	}
	cr_assert_eq(net, 83482085740LL);
	cr_assert_eq(new_c, p.buyers);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

/* The demo business (docs/DEMO.md): 3 years of orders with channels and
 * categories, a November-December peak. Totals against sums made here row
 * by row with mx_order_kind and mx_order_counts. */
Test(mx_purchases, demo_business)
{
	char dir[256], path[512];
	tmpdir_make(dir, sizeof dir);
	struct demo_opts dopt = { 3000, 42, dir };
	struct crm_err err;
	cr_assert_eq(demo_generate(&dopt, NULL, &err), CRM_OK, "%s", err.msg);
	snprintf(path, sizeof path, "%s/orders.csv", dir);
	struct ds_file f;
	memset(&f, 0, sizeof f);
	f.path = path;
	f.ing.entity = CRM_ORDERS;
	f.ing.decimal = '.';
	struct ing_summary sum;
	struct crm_dataset *ds;
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	/* the demo's as-of: the end of 2025-06-30 (its last event is earlier) */
	struct mx_ctx ctx = context(ds, "2025-06-30T23:59:59Z");
	uint32_t web = code_of(&ds->t[CRM_ORDERS].col[CRM_O_CHANNEL], "web");
	cr_assert_neq(web, 0);
	for (int pass = 0; pass < 2; pass++) {
		ctx.order_channel = pass ? web : 0;
		struct mx_purchases p = compute(&ctx);
		const struct crm_table *t = &ds->t[CRM_ORDERS];
		size_t orders = 0, returns_n = 0;
		int64_t revenue = 0, returns = 0;
		for (size_t r = 0; r < t->n; r++) {
			int64_t when = t->col[CRM_O_ORDERED_AT].i64[r];
			if (!mx_order_counts(&ctx, r) || when < ctx.o.p_start || when >= ctx.o.p_end)
				continue;
			int64_t a = t->col[CRM_O_AMOUNT].i64[r];
			switch (mx_order_kind(t, r)) {
			case MX_COMPLETED: orders++; revenue += a; break;
			case MX_RETURN: returns_n++; returns += a < 0 ? -a : a; break;
			default: break;
			}
		}
		cr_assert_gt(orders, 1000);
		cr_assert_eq(p.orders, orders);
		cr_assert_eq(p.revenue, revenue);
		cr_assert_eq(p.return_orders, returns_n);
		cr_assert_eq(p.returns, returns);
		/* the channel mix and the bands add up to P */
		size_t mix_orders = 0;
		int64_t mix_net = 0, band_net = 0;
		for (size_t i = 0; i < p.n_channels; i++) {
			mix_orders += p.channels[i].orders;
			mix_net += p.channels[i].net_revenue;
		}
		cr_assert_eq(mix_orders, orders);
		cr_assert_eq(mix_net, p.net_revenue);
		size_t in_bands = 0;
		for (int b = 0; b < p.n_bands; b++) {
			band_net += p.bands[b].total;
			in_bands += p.bands[b].customers;
		}
		cr_assert_eq(in_bands, p.customers);
		cr_assert_leq(band_net, p.net_revenue + p.returns);
		/* 2022-07 .. 2025-06: 36 complete months; the peak of the demo's
		 * seasonality (raw multipliers Nov 1.45, Dec 1.60, Feb 0.80) shows */
		cr_assert_eq(p.season_months, 36, "%zu months from %lld", p.season_months,
			     (long long)p.months[0].month);
		double sum_index = 0;
		for (int k = 0; k < 12; k++)
			sum_index += p.season[k];
		cr_assert_float_eq(sum_index, 12.0, 1e-9);
		cr_assert_gt(p.season[11], 1.25, "December index %g", p.season[11]);
		cr_assert_gt(p.season[10], 1.15, "November index %g", p.season[10]);
		cr_assert_lt(p.season[1], 0.95, "February index %g", p.season[1]);
		cr_assert_eq(p.has_categories, 1);
		cr_assert_gt(p.n_movers, 3);
		mx_purchases_fini(&p);
	}
	crm_dataset_free(ds);
	/* the demo folder holds one level of files */
	tmpdir_remove(dir);
}

/* ------------------------------------------------------------ large */

static int cmp_i64_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x < y) - (x > y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* 20000 customers "u00000".."u19999"; customer k buys m = 1 + k % 25 times,
 * every s = 1 + k % 3 days from 2022-01-08 + k % 7 days, the j-th order
 * (j = 0..m-1) for j + 1 units, on the app when j is even, else the web:
 * 260,000 orders, past the size where the pass runs on two threads. The
 * expected numbers are counted here straight from k. */
Test(mx_purchases, two_threads_match_a_direct_count)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	char cust[32], oid[32];
	int64_t day0 = days_from_civil(2022, 1, 8);
	for (int k = 0; k < 20000; k++) {
		int m = 1 + k % 25, step = 1 + k % 3;
		snprintf(cust, sizeof cust, "u%05d", k);
		for (int j = 0; j < m; j++) {
			struct ent_record r = rec(CRM_ORDERS, 0);
			snprintf(oid, sizeof oid, "%d-%d", k, j);
			set_s(&r, CRM_O_ORDER_ID, oid);
			set_s(&r, CRM_O_CUSTOMER_ID, cust);
			set_i(&r, CRM_O_ORDERED_AT, (day0 + k % 7 + (int64_t)j * step) * SECS_PER_DAY + 3600);
			set_i(&r, CRM_O_AMOUNT, (int64_t)(j + 1) * MONEY_SCALE);
			set_s(&r, CRM_O_CHANNEL, j % 2 ? "web" : "app");
			cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK);
		}
	}
	struct crm_dataset *ds = finish(b);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 260000);
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts("2022-12-31T23:59:59Z");
	o.p_start = ts("2022-01-01T00:00:00Z");
	struct mx_ctx ctx;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	struct mx_purchases p = compute(&ctx);

	size_t repeaters = 0, web_orders = 0, web_customers = 0, app_rep = 0, web_rep = 0;
	int64_t revenue = 0, span = 0;
	int64_t *net = malloc(20000 * sizeof *net);
	double *gaps = malloc(20000 * sizeof *gaps);
	size_t n_gaps = 0;
	double gap_sum = 0;
	for (int k = 0; k < 20000; k++) {
		int64_t m = 1 + k % 25, step = 1 + k % 3;
		revenue += m * (m + 1) / 2 * MONEY_SCALE;
		net[k] = m * (m + 1) / 2 * MONEY_SCALE;
		repeaters += m >= 2;
		web_orders += (size_t)(m / 2);
		web_customers += m >= 2;
		app_rep += (m + 1) / 2 >= 2;
		web_rep += m / 2 >= 2;
		if (m >= 2) {
			gaps[n_gaps++] = (double)step;
			gap_sum += (double)step;
			span += (m - 1) * step;
		}
	}
	cr_assert_eq(p.orders, 260000);
	cr_assert_eq(p.revenue, revenue);
	cr_assert_eq(p.customers, 20000);
	cr_assert_eq(p.repeaters, repeaters);
	cr_assert_eq(p.buyers, 20000);
	/* inter-purchase time: each repeat customer's gap is its step */
	qsort(gaps, n_gaps, sizeof *gaps, cmp_double);
	cr_assert_eq(p.ipt_customers, n_gaps);
	cr_assert_float_eq(p.ipt_median, n_gaps % 2 ? gaps[n_gaps / 2]
				       : (gaps[n_gaps / 2 - 1] + gaps[n_gaps / 2]) / 2, EPS);
	cr_assert_float_eq(p.ipt_mean, gap_sum / (double)n_gaps, 1e-12);
	cr_assert_float_eq(p.span_mean, (double)span / (double)n_gaps, 1e-12);
	/* channels */
	const struct mx_channel_mix *web = mix_of(&p, ds, "web"), *app = mix_of(&p, ds, "app");
	cr_assert_eq(web->orders, web_orders);
	cr_assert_eq(app->orders, 260000 - web_orders);
	cr_assert_eq(web->customers, web_customers);
	cr_assert_eq(app->customers, 20000);
	cr_assert_eq(web->repeaters, web_rep);
	cr_assert_eq(app->repeaters, app_rep);
	/* spend bands: NTILE(5) of the sorted net revenues, 4000 each */
	qsort(net, 20000, sizeof *net, cmp_i64_desc);
	for (int band = 0; band < 5; band++) {
		int64_t sum = 0;
		for (int i = band * 4000; i < (band + 1) * 4000; i++)
			sum += net[i];
		cr_assert_eq(p.bands[band].customers, 4000);
		cr_assert_eq(p.bands[band].total, sum, "band %d", band);
		cr_assert_eq(p.bands[band].max, net[band * 4000]);
		cr_assert_eq(p.bands[band].min, net[band * 4000 + 3999]);
	}
	/* months: their orders add up, and every customer is new once */
	size_t orders = 0, new_c = 0;
	for (size_t i = 0; i < p.n_months; i++) {
		orders += p.months[i].orders;
		new_c += p.months[i].new_customers;
	}
	cr_assert_eq(orders, 260000);
	cr_assert_eq(new_c, 20000);
	cr_assert_eq(p.months[0].new_customers, 20000);   /* all began in 2022-01 */
	free(net);
	free(gaps);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}

Test(mx_purchases, radix_sort_and_median_of_many)
{
	/* 100,003 values (the 16-bit digit path) from a fixed LCG, with many
	 * ties and negatives: the order must equal a stable sort */
	size_t n = 100003;
	struct mx_ranked *r = malloc(n * sizeof *r), *tmp = malloc(n * sizeof *tmp);
	double *d = malloc(n * sizeof *d), *e = malloc(n * sizeof *e);
	uint64_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		r[i].v = (int64_t)(x >> 40) % 5000 - 1000;
		r[i].id = (uint32_t)i;
		d[i] = e[i] = (double)((x >> 33) % 1000) / 7.0;
	}
	mx_rank_desc(r, tmp, n);
	for (size_t i = 1; i < n; i++) {
		cr_assert_geq(r[i - 1].v, r[i].v, "rank %zu", i);
		if (r[i - 1].v == r[i].v)
			cr_assert_lt(r[i - 1].id, r[i].id, "ties keep their order at rank %zu", i);
	}
	/* the median by selection equals mx_quantile's type 7 at 0.5, for an
	 * odd and an even count */
	cr_assert_float_eq(mx_select_median(d, n), mx_quantile(e, n, 0.5), 0);
	for (size_t i = 0; i < n; i++)
		d[i] = e[i];
	cr_assert_float_eq(mx_select_median(d, n - 1), mx_quantile(e, n - 1, 0.5), 0);
	double same[4] = { 2, 2, 2, 2 }, two[2] = { 5, 1 };
	cr_assert_float_eq(mx_select_median(same, 4), 2.0, 0);
	cr_assert_float_eq(mx_select_median(two, 2), 3.0, 0);
	cr_assert(isnan(mx_select_median(two, 0)));
	free(r);
	free(tmp);
	free(d);
	free(e);
}

/* ---------------------------------------- large data paths (purchases.c) */

/* The median of the mean gaps comes from a histogram of gap buckets (the
 * double's exponent and 8 bits of mantissa) and a sort of the one or two
 * buckets holding the middle ranks. Customers and their purchase days
 * (from 2020-01-01), mean gap = (last - first) / (days - 1):
 *   a: 0 1 -> 1;  b: 0 1000 -> 1000;  c: 0 3 7 -> 3.5;  d: 0 7 -> 7;
 *   e: 0 2 -> 2;  f: 0 100 -> 100;  g: 0 100 200 300 401 -> 100.25.
 * 3.5 (1.75 x 2) and 7 (1.75 x 4) are in different buckets, 100 and
 * 100.25 (1.5625 and 1.56640625 x 64, 8 bits of mantissa alike) in one. */
static struct crm_dataset *gap_shop(const char *custs)
{
	static const struct { const char *c; int days[5]; } plan[] = {
		{ "a", { 0, 1, -1 } }, { "b", { 0, 1000, -1 } }, { "c", { 0, 3, 7, -1 } },
		{ "d", { 0, 7, -1 } }, { "e", { 0, 2, -1 } }, { "f", { 0, 100, -1 } },
		{ "g", { 0, 100, 200, 300, 401 } },
	};
	struct ds_builder *b;
	struct crm_err err;
	char id[32], at[32];
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
		if (!strchr(custs, plan[i].c[0]))
			continue;
		for (int j = 0; j < 5 && plan[i].days[j] >= 0; j++) {
			snprintf(id, sizeof id, "%s%d", plan[i].c, j);
			ts_format((days_from_civil(2020, 1, 1) + plan[i].days[j]) * SECS_PER_DAY + 3600,
				  0, at);
			order(b, id, plan[i].c, at, "10.00", NULL, "web", NULL);
		}
	}
	return finish(b);
}

Test(mx_purchases, median_gap_across_buckets)
{
	static const struct { const char *custs; double median; } cases[] = {
		{ "abcd", 5.25 },     /* 1 3.5 7 1000: (3.5 + 7) / 2, two buckets */
		{ "abcde", 3.5 },     /* 1 2 3.5 7 1000 */
		{ "abfg", 100.125 },  /* 1 100 100.25 1000: one bucket */
		{ "b", 1000 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct crm_dataset *ds = gap_shop(cases[i].custs);
		struct mx_ctx ctx = context(ds, "2023-12-31T23:59:59Z");
		struct mx_purchases p = compute(&ctx);
		cr_assert_eq(p.ipt_customers, strlen(cases[i].custs));
		cr_assert(p.ipt_median == cases[i].median, "%s: %.17g", cases[i].custs, p.ipt_median);
		mx_purchases_fini(&p);
		crm_dataset_free(ds);
	}
}

static int cmp_ranked_desc(const void *a, const void *b)
{
	const struct mx_ranked *x = a, *y = b;
	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* mx_rank_desc on 70,001 values (the large path: digits of at most 11 bits
 * over the keys' span) spanning all of int64, INT64_MIN and INT64_MAX
 * among them, with ties: the order of a stable sort, which qsort by (value
 * descending, id) gives; and 65,536 equal values stay in their order. */
Test(mx_purchases, rank_desc_of_wide_keys)
{
	size_t n = 70001;
	struct mx_ranked *r = calloc(n, sizeof *r), *want = calloc(n, sizeof *want);
	struct mx_ranked *tmp = calloc(n, sizeof *tmp);
	uint64_t x = 99;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		r[i].v = (int64_t)x;
		if (i % 3 == 0)
			r[i].v = 7;
		if (i % 1000 == 1)
			r[i].v = i % 2000 == 1 ? INT64_MIN : INT64_MAX;
		r[i].id = (uint32_t)i;
	}
	memcpy(want, r, n * sizeof *r);
	qsort(want, n, sizeof *want, cmp_ranked_desc);
	mx_rank_desc(r, tmp, n);
	for (size_t i = 0; i < n; i++)
		cr_assert(r[i].v == want[i].v && r[i].id == want[i].id, "rank %zu", i);
	for (size_t i = 0; i < 65536; i++) {
		r[i].v = -3;
		r[i].id = (uint32_t)i;
	}
	mx_rank_desc(r, tmp, 65536);
	for (size_t i = 0; i < 65536; i++)
		cr_assert_eq(r[i].id, i);
	free(r);
	free(want);
	free(tmp);
}

/* One customer buys in P through every code of the channel column (web,
 * app, store, and none), web twice, the last order after all four: the
 * per-customer list of channels is written one ahead. b buys once on the
 * app. As of 2024-06-30: web 2 orders, 1 customer, a repeater; app 2, 2,
 * none; store 1, 1; (none) 1, 1. */
Test(mx_purchases, every_channel_of_one_customer)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	order(b, "a1", "a", "2024-02-01T10:00:00Z", "10.00", NULL, "web", NULL);
	order(b, "a2", "a", "2024-02-02T10:00:00Z", "10.00", NULL, "app", NULL);
	order(b, "a3", "a", "2024-02-03T10:00:00Z", "10.00", NULL, "store", NULL);
	order(b, "a4", "a", "2024-02-04T10:00:00Z", "10.00", NULL, NULL, NULL);
	order(b, "a5", "a", "2024-02-05T10:00:00Z", "10.00", NULL, "web", NULL);
	order(b, "b1", "b", "2024-03-01T10:00:00Z", "20.00", NULL, "app", NULL);
	struct crm_dataset *ds = finish(b);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_CHANNEL].dict.n, 4);
	struct mx_ctx ctx = context(ds, A_SHOP);
	struct mx_purchases p = compute(&ctx);
	const struct mx_channel_mix *web = mix_of(&p, ds, "web"), *app = mix_of(&p, ds, "app");
	const struct mx_channel_mix *store = mix_of(&p, ds, "store");
	cr_assert_eq(p.n_channels, 4);
	cr_assert_eq(p.channels[0].code, 0);   /* (none) */
	cr_assert_eq(p.channels[0].orders, 1);
	cr_assert_eq(p.channels[0].customers, 1);
	cr_assert_eq(web->orders, 2);
	cr_assert_eq(web->customers, 1);
	cr_assert_eq(web->repeaters, 1);
	cr_assert_eq(app->orders, 2);
	cr_assert_eq(app->customers, 2);
	cr_assert_eq(app->repeaters, 0);
	cr_assert_eq(store->orders, 1);
	cr_assert_eq(store->customers, 1);
	cr_assert_eq(p.customers, 2);
	cr_assert_eq(p.repeaters, 1);
	mx_purchases_fini(&p);
	crm_dataset_free(ds);
}
