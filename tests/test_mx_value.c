/* test_mx_value.c - the value family (src/metrics/value.c) on a small
 * hand-made shop with order costs, tickets and acquisition channels, every
 * number worked out in the comments: historic value, gross profit (a
 * customer with an order without cost), service cost by the minute and by
 * the ticket, profit deciles, the top 20% share, unprofitable customers with
 * a tie, the simple CLV with its annual churn per acquisition channel (the
 * 10-year cap); the filters; absent costs and tickets as no data; then the
 * CDNOW log and the demo business. */
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
#include "metrics/value.h"
#include "report/doc.h"
#include "support.h"

#define EPS 1e-9
#define M(units) ((int64_t)((units) * 10000))   /* whole or .25 units as money */

static int64_t money(const char *s)
{
	int64_t a = 0;
	cr_assert_eq(money_parse(s, strlen(s), '.', &a), 0, "%s", s);
	return a;
}

static void order(struct ds_builder *b, const char *id, const char *cust, const char *at,
		  const char *amount, const char *cost, const char *status, const char *channel)
{
	struct ent_record r = rec(CRM_ORDERS, 0);
	struct crm_err err;
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	set_i(&r, CRM_O_AMOUNT, money(amount));
	if (cost)
		set_i(&r, CRM_O_COST, money(cost));
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	if (channel)
		set_s(&r, CRM_O_CHANNEL, channel);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static void customer(struct ds_builder *b, const char *id, const char *acq)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 0);
	struct crm_err err;
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	if (acq)
		set_s(&r, CRM_C_ACQ_CHANNEL, acq);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static void ticket(struct ds_builder *b, const char *id, const char *cust, const char *at,
		   const char *minutes)
{
	struct ent_record r = rec(CRM_TICKETS, 0);
	struct crm_err err;
	set_s(&r, CRM_T_TICKET_ID, id);
	set_s(&r, CRM_T_CUSTOMER_ID, cust);
	set_i(&r, CRM_T_OPENED_AT, ts(at));
	if (minutes)
		set_i(&r, CRM_T_HANDLING_MINUTES, money(minutes));
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static uint32_t code_of(const struct crm_column *col, const char *s)
{
	for (size_t k = 1; k < col->dict.n; k++)
		if (strcmp(col->dict.bytes + col->dict.off[k], s) == 0)
			return (uint32_t)k;
	return 0;
}

#define A_SHOP "2024-06-30T23:59:59Z"

/* As of A_SHOP, Y = [2023-07-01, 2024-07-01); W = 365 days. Customers p..x
 * are dense ids 0..7. */
static struct crm_dataset *shop(void)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	customer(b, "p", "search");
	customer(b, "q", "search");
	customer(b, "r", "social");
	customer(b, "s", NULL);
	customer(b, "t", "social");
	customer(b, "u", NULL);
	customer(b, "w", "social");
	customer(b, "x", "search");
	/* p: 100 (cost 60) before Y, 200 (cost 120) in Y, a return of 50 whose
	 * cost does not count: historic 250, gross 250 - 180 = 70 */
	order(b, "p1", "p", "2023-03-01T10:00:00Z", "100.00", "60.00", NULL, "web");
	order(b, "p2", "p", "2023-09-01T10:00:00Z", "200.00", "120.00", "completed", "web");
	order(b, "p3", "p", "2024-05-01T10:00:00Z", "50.00", "30.00", "returned", "web");
	/* q: one order 426 days before Y starts: churned before Y */
	order(b, "q1", "q", "2022-05-01T10:00:00Z", "50.00", "20.00", NULL, "app");
	/* r: the second order has no cost: gross profit unknown */
	order(b, "r1", "r", "2022-12-01T10:00:00Z", "80.00", "50.00", NULL, "web");
	order(b, "r2", "r", "2023-01-15T10:00:00Z", "40.00", NULL, NULL, "web");
	/* s: 300 (cost 100) and a cancelled order that counts nowhere */
	order(b, "s1", "s", "2024-01-10T10:00:00Z", "300.00", "100.00", NULL, "web");
	order(b, "s2", "s", "2024-02-10T10:00:00Z", "500.00", "1.00", "cancelled", "web");
	/* t: no order, a ticket */
	/* u: a loss-making order before Y, one in Y */
	order(b, "u1", "u", "2023-06-15T10:00:00Z", "60.00", "70.00", NULL, "app");
	order(b, "u2", "u", "2024-06-20T10:00:00Z", "40.00", "10.00", NULL, "web");
	/* w: gross -5; x: gross -30 */
	order(b, "w1", "w", "2024-04-01T10:00:00Z", "10.00", "15.00", NULL, "web");
	order(b, "x1", "x", "2024-05-01T10:00:00Z", "20.00", "50.00", NULL, "web");
	/* tickets, at 0.50 per minute or 2.00 per ticket without minutes */
	ticket(b, "k1", "p", "2024-01-01T10:00:00Z", "30");      /* 15.00 */
	ticket(b, "k2", "p", "2024-02-01T10:00:00Z", NULL);      /* 2.00 */
	ticket(b, "k3", "s", "2024-03-01T10:00:00Z", "12.5");    /* 6.25 */
	ticket(b, "k4", "u", "2024-06-25T10:00:00Z", "50");      /* 25.00 */
	ticket(b, "k5", "t", "2024-03-01T10:00:00Z", "10");      /* 5.00 */
	ticket(b, "k6", "q", "2024-08-01T10:00:00Z", "100");     /* after A */
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 8);
	return ds;
}

static struct mx_ctx context(const struct crm_dataset *ds, const char *as_of,
			     const char *per_minute, const char *per_ticket)
{
	struct mx_opts o;
	struct mx_ctx ctx;
	struct crm_err err;
	mx_opts_default(&o);
	if (as_of)
		o.as_of = ts(as_of);
	if (per_minute)
		o.cost_per_minute = money(per_minute);
	if (per_ticket)
		o.cost_per_ticket = money(per_ticket);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	return ctx;
}

static struct mx_value compute(const struct mx_ctx *ctx)
{
	struct mx_value v;
	struct crm_err err;
	cr_assert_eq(mx_value_compute(ctx, &v, &err), CRM_OK, "%s", err.msg);
	return v;
}

Test(mx_value, customer_values)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP, "0.50", "2.00");
	struct mx_customer_value cv[8];
	struct crm_err err;
	cr_assert_eq(mx_customer_values(&ctx, cv, &err), CRM_OK, "%s", err.msg);
	/* historic, gross profit, service cost, profit = gross - service */
	const struct mx_customer_value want[8] = {
		{ M(250), M(70), M(17), M(53) },          /* p: service 15 + 2 */
		{ M(50), M(30), 0, M(30) },               /* q: its ticket is after A */
		{ M(120), CRM_NA, 0, CRM_NA },            /* r: an order without cost */
		{ M(300), M(200), M(6.25), M(193.75) },   /* s */
		{ 0, 0, M(5), M(-5) },                    /* t: no order, a ticket */
		{ M(100), M(20), M(25), M(-5) },          /* u: 60 + 40 - 70 - 10 */
		{ M(10), M(-5), 0, M(-5) },               /* w */
		{ M(20), M(-30), 0, M(-30) },             /* x */
	};
	for (int c = 0; c < 8; c++) {
		cr_assert_eq(cv[c].historic, want[c].historic, "customer %d", c);
		cr_assert_eq(cv[c].gross_profit, want[c].gross_profit, "customer %d", c);
		cr_assert_eq(cv[c].service_cost, want[c].service_cost, "customer %d", c);
		cr_assert_eq(cv[c].profit, want[c].profit, "customer %d", c);
	}

	/* without a cost option service cost is unknown and profit = gross */
	ctx = context(ds, A_SHOP, NULL, NULL);
	cr_assert_eq(mx_customer_values(&ctx, cv, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cv[0].service_cost, CRM_NA);
	cr_assert_eq(cv[0].profit, M(70));
	cr_assert_eq(cv[4].profit, 0);
	/* per ticket only: p 2 tickets = 4.00, u 1 = 2.00 */
	ctx = context(ds, A_SHOP, NULL, "2.00");
	cr_assert_eq(mx_customer_values(&ctx, cv, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cv[0].service_cost, M(4));
	cr_assert_eq(cv[5].service_cost, M(2));
	cr_assert_eq(cv[5].profit, M(18));
	/* only customers p and s: the others are NA */
	ctx = context(ds, A_SHOP, "0.50", "2.00");
	uint8_t in[8] = { 1, 0, 0, 1, 0, 0, 0, 0 };
	ctx.in = in;
	cr_assert_eq(mx_customer_values(&ctx, cv, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cv[0].profit, M(53));
	cr_assert_eq(cv[1].historic, CRM_NA);
	cr_assert_eq(cv[1].profit, CRM_NA);
	crm_dataset_free(ds);
}

Test(mx_value, historic_value_and_profitability)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP, "0.50", "2.00");
	struct mx_value v = compute(&ctx);
	/* buyers: p, q, r, s, u, w, x (t has no order) */
	cr_assert_eq(v.buyers, 7);
	/* 250 + 50 + 120 + 300 + 0 + 100 + 10 + 20 = 850; mean over 7 buyers;
	 * median of 10, 20, 50, 100, 120, 250, 300 = 100 */
	cr_assert_eq(v.historic_total, M(850));
	cr_assert_float_eq(v.historic_mean, 850.0 / 7, EPS);
	cr_assert_float_eq(v.historic_median, 100.0, EPS);
	/* completed orders to A: p 2, q 1, r 2, s 1, u 2, w 1, x 1 = 10; 9 with
	 * a cost; gross profit known for p, q, s, u, w, x: 70 + 30 + 200 + 20 -
	 * 5 - 30 = 285 */
	cr_assert_eq(v.costs_known, 1);
	cr_assert_eq(v.comp_orders, 10);
	cr_assert_eq(v.cost_orders, 9);
	cr_assert_eq(v.gp_customers, 6);
	cr_assert_eq(v.gross_profit, M(285));
	/* tickets up to A: k1..k5; service 17 + 6.25 + 25 + 5 = 53.25 */
	cr_assert_eq(v.service_known, 1);
	cr_assert_eq(v.tickets, 5);
	cr_assert_eq(v.tickets_uncosted, 0);
	cr_assert_eq(v.service_total, M(53.25));
	/* profits of the buyers with one: s 193.75, p 53, q 30, u -5, w -5,
	 * x -30; total 236.75 */
	cr_assert_eq(v.n_profit, 6);
	cr_assert_eq(v.profit_total, M(236.75));
	/* deciles of 6 (NTILE(10)): one each in deciles 1..6, 7..10 empty */
	static const double dec[6] = { 193.75, 53, 30, -5, -5, -30 };
	for (int b = 0; b < 10; b++) {
		cr_assert_eq(v.deciles[b].customers, b < 6 ? 1u : 0u, "decile %d", b + 1);
		if (b < 6) {
			cr_assert_eq(v.deciles[b].total, M(dec[b]));
			cr_assert_float_eq(v.deciles[b].share, 100 * dec[b] / 236.75, EPS);
		}
	}
	/* top 20% of 6 = 1.2 customers: 193.75 + 0.2 x 53 = 204.35 of 236.75 */
	cr_assert_float_eq(v.top20_share, 100 * 204.35 / 236.75, 1e-9);
	/* unprofitable: u, w, x; listed by loss: x (-30), then the tie u, w by id */
	cr_assert_eq(v.n_unprofitable, 3);
	cr_assert_eq(v.n_loss_list, 3);
	cr_assert_eq(v.loss_list[0], 7);
	cr_assert_eq(v.loss_list[1], 5);
	cr_assert_eq(v.loss_list[2], 6);
	mx_value_fini(&v);
	crm_dataset_free(ds);
}

Test(mx_value, simple_clv_and_channels)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP, "0.50", "2.00");
	struct mx_value v = compute(&ctx);
	cr_assert_eq(v.y_start, ts("2023-07-01T00:00:00Z"));
	cr_assert_eq(v.y_end, ts("2024-07-01T00:00:00Z"));
	/* not churned at the start of Y (last completed order before it at most
	 * 365 days earlier): p (2023-03-01, 122 days), r (2023-01-15, 167 days),
	 * u (2023-06-15, 16 days); q's 2022-05-01 is 426 days before. Churned
	 * at the end of Y (2024-07-01): r, whose last order is 533 days before;
	 * p's last is 2023-09-01 (304 days), u's 2024-06-20. CCR = 1 / 3. */
	cr_assert_eq(v.all.base, 3);
	cr_assert_eq(v.all.churned, 1);
	cr_assert_float_eq(v.all.churn, 100.0 / 3, EPS);
	cr_assert_float_eq(v.all.lifetime, 3.0, EPS);
	/* completed orders in Y: p2 200, s1 300, u2 40, w1 10, x1 20: 5 orders
	 * of 5 customers, 570; AOV 114, 1 purchase a year; CLV 114 x 1 x 3 */
	cr_assert_eq(v.all.active, 5);
	cr_assert_eq(v.all.orders, 5);
	cr_assert_eq(v.all.revenue, M(570));
	cr_assert_float_eq(v.all.aov, 114.0, EPS);
	cr_assert_float_eq(v.all.per_year, 1.0, EPS);
	cr_assert_float_eq(v.all.clv, 342.0, EPS);
	const struct crm_column *acq = &ds->t[CRM_CUSTOMERS].col[CRM_C_ACQ_CHANNEL];
	/* search: p, q, x. Base p, none churned: lifetime capped at 10 years;
	 * Y: p2 200 and x1 20: AOV 110, 1 a year: CLV 1100. Historic 320. */
	const struct mx_clv *c = &v.by_channel[code_of(acq, "search")];
	cr_assert_eq(c->buyers, 3);
	cr_assert_eq(c->historic, M(320));
	cr_assert_eq(c->base, 1);
	cr_assert_eq(c->churned, 0);
	cr_assert_float_eq(c->churn, 0.0, EPS);
	cr_assert_float_eq(c->lifetime, 10.0, EPS);
	cr_assert_float_eq(c->aov, 110.0, EPS);
	cr_assert_float_eq(c->clv, 1100.0, EPS);
	/* social: r, t, w. Base r, churned: 100%, lifetime 1 year; Y: w1 10 */
	c = &v.by_channel[code_of(acq, "social")];
	cr_assert_eq(c->buyers, 2);
	cr_assert_eq(c->historic, M(130));
	cr_assert_float_eq(c->churn, 100.0, EPS);
	cr_assert_float_eq(c->lifetime, 1.0, EPS);
	cr_assert_float_eq(c->clv, 10.0, EPS);
	/* none: s, u. Base u, not churned: 10 years; Y: s1 300, u2 40: AOV 170 */
	c = &v.by_channel[0];
	cr_assert_eq(c->buyers, 2);
	cr_assert_eq(c->active, 2);
	cr_assert_float_eq(c->aov, 170.0, EPS);
	cr_assert_float_eq(c->clv, 1700.0, EPS);
	mx_value_fini(&v);

	/* a churn window of 150 days: at the start of Y only p (122 days) and
	 * u (16) are not churned; at the end, p's last order is 304 days
	 * before: churned. CCR 1 / 2, lifetime 2 years */
	struct mx_opts o = ctx.o;
	o.churn_window_days = 150;
	struct crm_err err;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK);
	v = compute(&ctx);
	cr_assert_eq(v.all.base, 2);
	cr_assert_eq(v.all.churned, 1);
	cr_assert_float_eq(v.all.lifetime, 2.0, EPS);
	cr_assert_float_eq(v.all.clv, 228.0, EPS);
	mx_value_fini(&v);
	crm_dataset_free(ds);
}

Test(mx_value, order_channel_filter)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP, "0.50", "2.00");
	ctx.order_channel = code_of(&ds->t[CRM_ORDERS].col[CRM_O_CHANNEL], "app");
	struct mx_value v = compute(&ctx);
	/* app orders: q1 50 (cost 20), u1 60 (cost 70); buyers q, u; historic
	 * 110; u's profit = -10 - 25 (its ticket counts whatever the channel) */
	cr_assert_eq(v.buyers, 2);
	cr_assert_eq(v.historic_total, M(110));
	cr_assert_eq(v.n_unprofitable, 1);
	cr_assert_eq(v.n_loss_list, 1);
	cr_assert_eq(v.loss_list[0], 5);
	cr_assert_eq(v.loss_values[0].profit, M(-35));
	cr_assert_eq(v.loss_values[0].service_cost, M(25));
	struct mx_customer_value cv[8];
	struct crm_err err;
	cr_assert_eq(mx_customer_values(&ctx, cv, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cv[5].profit, M(-35));
	cr_assert_eq(cv[0].historic, 0);           /* p bought on the web only */
	cr_assert_eq(cv[0].service_cost, M(17));
	/* Y: no app order in Y; base u (2023-06-15), churned at the end (no app
	 * order since): 100% */
	cr_assert_eq(v.all.orders, 0);
	cr_assert(isnan(v.all.aov));
	cr_assert(isnan(v.all.clv));
	cr_assert_eq(v.all.base, 1);
	cr_assert_eq(v.all.churned, 1);
	mx_value_fini(&v);
	crm_dataset_free(ds);
}

Test(mx_value, report_section)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx = context(ds, A_SHOP, "0.50", "2.00");
	struct rp_doc *d = rp_doc_new();
	struct crm_err err;
	cr_assert_eq(mx_value_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, NULL, "value.historic_total", NULL), 850.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.gross_profit", NULL), 285.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.cost_coverage", NULL), 90.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.clv", NULL), 342.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.annual_churn", NULL), 100.0 / 3, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.service_cost", NULL), 53.25, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.profit_total", NULL), 236.75, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.unprofitable", NULL), 3.0, EPS);
	cr_assert_float_eq(rp_get(d, NULL, "value.unprofitable_share", NULL), 50.0, EPS);
	const struct rp_table *t = rp_table_get(d, NULL, "value.unprofitable");
	cr_assert_eq(rp_table_rows(t), 3);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "x");
	cr_assert_float_eq(rp_table_num(t, 0, 1), 20.0, EPS);    /* net revenue */
	cr_assert_float_eq(rp_table_num(t, 0, 2), 50.0, EPS);    /* direct cost */
	cr_assert_float_eq(rp_table_num(t, 0, 3), 0.0, EPS);     /* service cost */
	cr_assert_float_eq(rp_table_num(t, 0, 4), -30.0, EPS);
	cr_assert_str_eq(rp_table_str(t, 1, 0), "u");
	cr_assert_float_eq(rp_table_num(t, 1, 3), 25.0, EPS);
	t = rp_table_get(d, NULL, "value.profit_deciles");
	cr_assert_eq(rp_table_rows(t), 10);
	cr_assert_float_eq(rp_table_num(t, 0, 4), 193.75, EPS);
	cr_assert(isnan(rp_table_num(t, 9, 2)));   /* an empty decile has no lowest */
	t = rp_table_get(d, NULL, "value.clv_by_channel");
	cr_assert_eq(rp_table_rows(t), 3);         /* (none), search, social */
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* No costs, no tickets: gross profit, service cost and profit are no data. */
Test(mx_value, absent_costs_and_tickets_are_no_data)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	order(b, "o1", "a", "2024-01-10T10:00:00Z", "10.00", NULL, NULL, NULL);
	order(b, "o2", "b", "2024-02-10T10:00:00Z", "30.00", NULL, NULL, NULL);
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx = context(ds, A_SHOP, "0.50", NULL);
	struct mx_value v = compute(&ctx);
	cr_assert_eq(v.costs_known, 0);
	cr_assert_eq(v.service_known, 0);
	cr_assert_eq(v.gross_profit, CRM_NA);
	struct mx_customer_value cv[2];
	cr_assert_eq(mx_customer_values(&ctx, cv, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cv[0].historic, M(10));
	cr_assert_eq(cv[0].gross_profit, CRM_NA);
	cr_assert_eq(cv[0].service_cost, CRM_NA);
	cr_assert_eq(cv[0].profit, CRM_NA);
	cr_assert_eq(v.n_profit, 0);
	cr_assert(isnan(v.top20_share));
	/* historic value is known: 10 and 30 */
	cr_assert_eq(v.historic_total, M(40));
	cr_assert_float_eq(v.historic_median, 20.0, EPS);
	/* nobody ordered before Y: no churn base, so no lifetime and no CLV */
	cr_assert_eq(v.all.base, 0);
	cr_assert(isnan(v.all.churn));
	cr_assert(isnan(v.all.clv));
	cr_assert_float_eq(v.all.aov, 20.0, EPS);
	mx_value_fini(&v);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_value_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	int found = 0;
	static const char *const ids[] = { "value.gross_profit", "value.service_cost",
					   "value.profit_total", "value.top20_profit_share",
					   "value.unprofitable", "value.clv", "value.tickets" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		cr_assert(isnan(rp_get(d, NULL, ids[i], &found)), "%s", ids[i]);
		cr_assert(found, "%s", ids[i]);
	}
	cr_assert_float_eq(rp_get(d, NULL, "value.historic_total", NULL), 40.0, EPS);
	cr_assert_eq(rp_table_rows(rp_table_get(d, NULL, "value.profit_deciles")), 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(mx_value, no_orders_is_no_data)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	customer(b, "a", "search");
	ticket(b, "k1", "a", "2024-01-01T10:00:00Z", "10");
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx = context(ds, NULL, "1.00", NULL);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_value_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	cr_assert(isnan(rp_get(d, NULL, "value.buyers", NULL)));
	cr_assert(isnan(rp_get(d, NULL, "value.historic_total", NULL)));
	cr_assert(isnan(rp_get(d, NULL, "value.historic_mean", NULL)));
	cr_assert(isnan(rp_get(d, NULL, "value.clv", NULL)));
	/* the ticket is costed: 10 minutes at 1.00 */
	cr_assert_float_eq(rp_get(d, NULL, "value.service_cost", NULL), 10.0, EPS);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* data/README.md: the CDNOW log is $2,500,315.63 of 23,570 customers and has
 * no costs. */
Test(mx_value, cdnow_master_historic_value)
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
	struct mx_ctx ctx = context(ds, NULL, NULL, NULL);
	struct mx_value v = compute(&ctx);
	cr_assert_eq(v.buyers, 23570);
	cr_assert_eq(v.historic_total, 25003156300LL);
	cr_assert_float_eq(v.historic_mean, 2500315.63 / 23570, 1e-9);
	cr_assert_eq(v.costs_known, 0);
	cr_assert_eq(v.n_profit, 0);
	/* Y = [1997-06-30, 1998-06-30): every customer bought first in 1997-Q1,
	 * so all are in the churn base (W = 365 days) unless their last order
	 * before Y is more than a year before it, which none can be */
	cr_assert_eq(v.all.base, 23570);
	cr_assert_lt(v.all.churned, 23570);
	cr_assert_eq(v.all.base, v.by_channel[0].base);
	/* per year: orders in Y over customers active in Y */
	cr_assert_float_eq(v.all.per_year, (double)v.all.orders / (double)v.all.active, EPS);
	mx_value_fini(&v);
	crm_dataset_free(ds);
}

/* The demo business: orders with costs, tickets with handling minutes and
 * five acquisition channels. Historic value adds up to the net revenue of
 * the purchases family over all time; profit = gross - service per customer. */
Test(mx_value, demo_business)
{
	char dir[256], path[CRM_N_ENTITIES][512];
	tmpdir_make(dir, sizeof dir);
	struct demo_opts dopt = { 2000, 7, dir };
	struct crm_err err;
	cr_assert_eq(demo_generate(&dopt, NULL, &err), CRM_OK, "%s", err.msg);
	struct ds_file f[3];
	memset(f, 0, sizeof f);
	static const int ent[3] = { CRM_CUSTOMERS, CRM_ORDERS, CRM_TICKETS };
	for (int i = 0; i < 3; i++) {
		snprintf(path[i], sizeof path[i], "%s/%s.csv", dir, ent_get(ent[i])->name);
		f[i].path = path[i];
		f[i].ing.entity = ent[i];
		f[i].ing.decimal = '.';
	}
	struct ing_summary sum[3];
	struct crm_dataset *ds;
	cr_assert_eq(ds_load_files(f, 3, sum, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts("2025-06-30T23:59:59Z");
	o.p_start = ts("2022-01-01T00:00:00Z");
	o.cost_per_minute = money("0.80");
	struct mx_ctx ctx;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	struct mx_value v = compute(&ctx);
	struct mx_purchases p;
	cr_assert_eq(mx_purchases_compute(&ctx, &p, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(v.historic_total, p.net_revenue);
	cr_assert_eq(v.buyers, p.buyers);
	cr_assert_eq(v.comp_orders, p.orders);
	cr_assert_eq(v.costs_known, 1);
	cr_assert_eq(v.service_known, 1);
	cr_assert_gt(v.tickets, 100);
	struct mx_customer_value *all = calloc(ds->n_customers, sizeof *all);
	cr_assert_eq(mx_customer_values(&ctx, all, &err), CRM_OK, "%s", err.msg);
	int64_t service = 0, profit = 0;
	size_t ranked = 0, unprofitable = 0;
	for (size_t c = 0; c < ds->n_customers; c++) {
		const struct mx_customer_value *cv = &all[c];
		cr_assert_neq(cv->service_cost, CRM_NA);
		if (cv->gross_profit != CRM_NA)
			cr_assert_eq(cv->profit, cv->gross_profit - cv->service_cost);
		else
			cr_assert_eq(cv->profit, CRM_NA);
		service += cv->service_cost;
		/* the ranked customers: a completed order to A and a known profit */
		const struct crm_table *t = &ds->t[CRM_ORDERS];
		int buyer = 0;
		for (uint64_t r = t->by_customer[c]; r < t->by_customer[c + 1]; r++)
			buyer |= mx_order_kind(t, r) == MX_COMPLETED &&
				 t->col[CRM_O_ORDERED_AT].i64[r] <= ctx.o.as_of;
		if (cv->profit != CRM_NA && buyer) {
			profit += cv->profit;
			ranked++;
			unprofitable += cv->profit < 0;
		}
	}
	free(all);
	cr_assert_eq(service, v.service_total);
	cr_assert_eq(ranked, v.n_profit);
	cr_assert_eq(profit, v.profit_total);
	cr_assert_eq(unprofitable, v.n_unprofitable);
	for (size_t i = 1; i < v.n_loss_list; i++)
		cr_assert_leq(v.loss_values[i - 1].profit, v.loss_values[i].profit);
	/* the deciles partition the ranked customers and their profit */
	size_t n = 0;
	int64_t dsum = 0;
	for (int b = 0; b < 10; b++) {
		n += v.deciles[b].customers;
		dsum += v.deciles[b].total;
	}
	cr_assert_eq(n, v.n_profit);
	cr_assert_eq(dsum, v.profit_total);
	cr_assert_gt(v.top20_share, 20.0);
	/* five acquisition channels with a CLV each; their buyers add up */
	size_t buyers = 0, with_clv = 0;
	for (size_t k = 0; k < v.n_codes; k++) {
		buyers += v.by_channel[k].buyers;
		with_clv += isnan(v.by_channel[k].clv) ? 0u : 1u;
	}
	cr_assert_eq(buyers, v.buyers);
	cr_assert_eq(with_clv, 5);
	cr_assert(v.all.lifetime > 0 && v.all.lifetime <= 10);
	mx_purchases_fini(&p);
	mx_value_fini(&v);
	crm_dataset_free(ds);
	tmpdir_remove(dir);
}
