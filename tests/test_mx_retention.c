/* test_mx_retention.c - the retention family (src/metrics/retention.c):
 * churn rate over P, cohorts (classic and unbounded, revenue, LTV curves),
 * lifecycle stages and their transitions, spend band migration and the
 * tier field, on a hand-made shop whose every number is worked out below;
 * the absent-input case; the CDNOW cohorts; and the paths large data takes
 * (band cuts from value buckets, days to move up past their histogram, a
 * first_at later than the orders, pass 2 without the status column). */
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
#include "metrics/mx.h"
#include "metrics/retention.h"
#include "report/doc.h"
#include "support.h"

/* The shop. A = 2024-06-30T23:59:59Z, P = [2024-01-01, 2024-07-01), so
 * start(P) = 2023-12-31T23:59:59 (day 2023-12-31) and end(P) = A.
 * W = 365, new 90, growing 365, at risk 2 x median gap / 180 days.
 * Customers (dense ids in byte order): a 0, b 1, c 2, d 3, e 4, f 5, g 6,
 * h 7, i 8, j 9.
 *   a: 2023-10-05 100, 2023-10-20 50, 2024-01-15 80, 2024-03-10 40
 *      returned, 2024-05-02 70 (channel store; the others web); tier gold
 *   b: 2023-10-12 40 (one order); tier silver
 *   c: 2024-06-20 30 (one order)
 *   d: signed up 2023-11-01, no order
 *   e: 2023-12-03 20 and 10 (one day), 2024-02-15 60 cancelled, 2024-04-01 25
 *   f: 2023-11-20 200, 2024-01-05 -15 (a return by its sign), 2024-06-25 90; tier gold
 *   g: lead 2024-02-20 (converted 2024-03-01), signed up 2024-03-01, no order
 *   h: 2022-05-10 50, 2023-01-10 50, 2024-05-10 50; tier silver
 *   i: 2023-03-01 10 (one order)
 *   j: 2024-01-10 10, 2024-01-20 10, 2024-02-01 10
 * and leads without a customer created 2024-04-01 and 2024-08-01 (after A). */
static void cust(struct ds_builder *b, const char *id, const char *signup, const char *tier)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 0);
	struct crm_err err;
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	if (signup)
		set_i(&r, CRM_C_SIGNUP_AT, ts(signup));
	if (tier)
		set_s(&r, CRM_C_TIER, tier);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static void order(struct ds_builder *b, const char *id, const char *cust_id, const char *at,
		  const char *amount, const char *status, const char *channel)
{
	struct ent_record r = rec(CRM_ORDERS, 0);
	struct crm_err err;
	int64_t a = 0;
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust_id);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	cr_assert_eq(money_parse(amount, strlen(amount), '.', &a), 0);
	set_i(&r, CRM_O_AMOUNT, a);
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	set_s(&r, CRM_O_CHANNEL, channel);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static void lead(struct ds_builder *b, const char *id, const char *created,
		 const char *converted, const char *cust_id)
{
	struct ent_record r = rec(CRM_LEADS, 0);
	struct crm_err err;
	set_s(&r, CRM_L_LEAD_ID, id);
	set_i(&r, CRM_L_CREATED_AT, ts(created));
	if (converted)
		set_i(&r, CRM_L_CONVERTED_AT, ts(converted));
	if (cust_id)
		set_s(&r, CRM_L_CUSTOMER_ID, cust_id);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static struct crm_dataset *shop(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cust(b, "a", NULL, "gold");
	cust(b, "b", NULL, "silver");
	cust(b, "d", "2023-11-01", NULL);
	cust(b, "f", NULL, "gold");
	cust(b, "g", "2024-03-01", NULL);
	cust(b, "h", NULL, "silver");
	order(b, "a1", "a", "2023-10-05T10:00:00Z", "100", NULL, "web");
	order(b, "a2", "a", "2023-10-20T10:00:00Z", "50", "completed", "web");
	order(b, "a3", "a", "2024-01-15T10:00:00Z", "80", NULL, "web");
	order(b, "a4", "a", "2024-03-10T10:00:00Z", "40", "returned", "web");
	order(b, "a5", "a", "2024-05-02T10:00:00Z", "70", NULL, "store");
	order(b, "b1", "b", "2023-10-12T10:00:00Z", "40", NULL, "web");
	order(b, "c1", "c", "2024-06-20T10:00:00Z", "30", NULL, "web");
	order(b, "e1", "e", "2023-12-03T09:00:00Z", "20", NULL, "web");
	order(b, "e2", "e", "2023-12-03T18:00:00Z", "10", NULL, "web");
	order(b, "e3", "e", "2024-02-15T10:00:00Z", "60", "cancelled", "web");
	order(b, "e4", "e", "2024-04-01T10:00:00Z", "25", NULL, "web");
	order(b, "f1", "f", "2023-11-20T10:00:00Z", "200", NULL, "web");
	order(b, "f2", "f", "2024-01-05T10:00:00Z", "-15", NULL, "web");
	order(b, "f3", "f", "2024-06-25T10:00:00Z", "90", NULL, "web");
	order(b, "h1", "h", "2022-05-10T10:00:00Z", "50", NULL, "web");
	order(b, "h2", "h", "2023-01-10T10:00:00Z", "50", NULL, "web");
	order(b, "h3", "h", "2024-05-10T10:00:00Z", "50", NULL, "web");
	order(b, "i1", "i", "2023-03-01T10:00:00Z", "10", NULL, "web");
	order(b, "j1", "j", "2024-01-10T10:00:00Z", "10", NULL, "web");
	order(b, "j2", "j", "2024-01-20T10:00:00Z", "10", NULL, "web");
	order(b, "j3", "j", "2024-02-01T10:00:00Z", "10", NULL, "web");
	lead(b, "L1", "2024-02-20T10:00:00Z", "2024-03-01T00:00:00Z", "g");
	lead(b, "L2", "2024-04-01T10:00:00Z", NULL, NULL);
	lead(b, "L3", "2024-08-01T10:00:00Z", NULL, NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 10);
	return ds;
}

static void context(struct mx_ctx *ctx, const struct crm_dataset *ds, int cohort)
{
	struct mx_opts o;
	struct crm_err err;
	mx_opts_default(&o);
	o.as_of = ts("2024-06-30T23:59:59Z");
	o.p_start = ts("2024-01-01T00:00:00Z");
	o.p_end = ts("2024-07-01T00:00:00Z");
	o.cohort = cohort;
	cr_assert_eq(mx_ctx_init(ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
}

#define A_ 0
#define B_ 1
#define C_ 2
#define D_ 3
#define E_ 4
#define F_ 5
#define G_ 6
#define H_ 7
#define I_ 8
#define J_ 9

Test(retention, stages_at_a)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	uint8_t st[10];
	context(&ctx, ds, MX_COHORT_CLASSIC);
	cr_assert_eq(mx_lifecycle_stages(&ctx, st, &err), CRM_OK, "%s", err.msg);
	/* a: order days 10-05, 10-20, 01-15, 05-02 (03-10 is a return): gaps
	 * 15, 87, 108, median 87, limit 174; 59 days since 05-02; first order
	 * 269 days before A (<= 365): growing */
	cr_assert_eq(st[A_], MX_STAGE_GROWING);
	/* b: one order 262 days ago: > 180, <= 365 */
	cr_assert_eq(st[B_], MX_STAGE_AT_RISK);
	/* c: one order 10 days ago */
	cr_assert_eq(st[C_], MX_STAGE_NEW);
	/* d, g: no order */
	cr_assert_eq(st[D_], MX_STAGE_PROSPECT);
	cr_assert_eq(st[G_], MX_STAGE_PROSPECT);
	/* e: days 12-03 (two orders) and 04-01: one gap of 120, limit 240, 90
	 * days since; first 210 days ago */
	cr_assert_eq(st[E_], MX_STAGE_GROWING);
	/* f: 11-20 and 06-25 (01-05 is a return): gap 218, 5 days since,
	 * first 223 days ago */
	cr_assert_eq(st[F_], MX_STAGE_GROWING);
	/* h: gaps 245 and 487, median 366, 51 days since, first 2022-05-10
	 * (782 days > 365) */
	cr_assert_eq(st[H_], MX_STAGE_MATURE);
	/* i: last order 2023-03-01, 487 days > 365 */
	cr_assert_eq(st[I_], MX_STAGE_CHURNED);
	/* j: gaps 10 and 12, median 11, limit 22; 150 days since 02-01 */
	cr_assert_eq(st[J_], MX_STAGE_AT_RISK);
	cr_assert_str_eq(mx_stage_name(MX_STAGE_AT_RISK), "at_risk");
	cr_assert_str_eq(mx_stage_name(MX_STAGE_NOT_YET), "not_yet");
	crm_dataset_free(ds);
}

Test(retention, stages_at_another_date)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	uint8_t st[10];
	context(&ctx, ds, MX_COHORT_CLASSIC);
	cr_assert_eq(mx_lifecycle_stages_at(&ctx, ts("2023-12-31T23:59:59Z"), st, &err), CRM_OK);
	/* a: 10-05, 10-20: gap 15, limit 30, 72 days since 10-20 */
	cr_assert_eq(st[A_], MX_STAGE_AT_RISK);
	/* b: one order 80 days before */
	cr_assert_eq(st[B_], MX_STAGE_NEW);
	/* c: first known at its order 2024-06-20; j at 2024-01-10; g at its
	 * lead 2024-02-20 (before its signup 03-01) */
	cr_assert_eq(st[C_], MX_STAGE_NOT_YET);
	cr_assert_eq(st[J_], MX_STAGE_NOT_YET);
	cr_assert_eq(st[G_], MX_STAGE_NOT_YET);
	/* d: signed up 2023-11-01 */
	cr_assert_eq(st[D_], MX_STAGE_PROSPECT);
	/* e: two orders on one day: no gap, the 180-day limit; 28 days since;
	 * 2 orders, first 28 days before: growing */
	cr_assert_eq(st[E_], MX_STAGE_GROWING);
	/* f: one order 41 days before */
	cr_assert_eq(st[F_], MX_STAGE_NEW);
	/* h: gap 245, limit 490, 355 days since (<= 365), first 600 days before */
	cr_assert_eq(st[H_], MX_STAGE_MATURE);
	/* i: one order 305 days before */
	cr_assert_eq(st[I_], MX_STAGE_AT_RISK);
	crm_dataset_free(ds);
}

Test(retention, churn_and_stage_table)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	struct mx_retention *r;
	context(&ctx, ds, MX_COHORT_CLASSIC);
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	/* not churned at start (with an order): a, b, e, f, h, i = 6; of them
	 * churned at end: i. CCR = 1/6 */
	cr_assert_eq(r->churn_base, 6);
	cr_assert_eq(r->churn_lost, 1);
	cr_assert_float_eq(r->ccr, 1.0 / 6, 1e-12);
	cr_assert_float_eq(r->retention, 5.0 / 6, 1e-12);
	/* first order in P: c (06-20), j (01-10) */
	cr_assert_eq(r->new_in_p, 2);
	/* with an order, not churned at end: a b c e f h j */
	cr_assert_eq(r->alive_end, 7);
	/* stages at A: prospect d g; new c; growing a e f; mature h; at risk
	 * b j; churned i */
	size_t want[MX_N_STAGES] = { 2, 1, 3, 1, 2, 1 };
	for (int k = 0; k < MX_N_STAGES; k++)
		cr_assert_eq(r->stage_n[k], want[k], "stage %s", mx_stage_name(k));
	/* the same as the per-customer stages */
	uint8_t st[10];
	size_t n_st[MX_N_STAGES] = { 0 };
	cr_assert_eq(mx_lifecycle_stages(&ctx, st, &err), CRM_OK);
	for (int c = 0; c < 10; c++)
		n_st[st[c]]++;
	cr_assert_eq(memcmp(n_st, r->stage_n, sizeof n_st), 0);
	/* net revenue to A: a 100+50+80-40+70 = 260, b 40, c 30, e 20+10+25 =
	 * 55, f 200-15+90 = 275, h 150, i 10, j 30: growing 590, mature 150,
	 * at risk 70, new 30, churned 10 */
	int64_t rev[MX_N_STAGES] = { 0, 300000, 5900000, 1500000, 700000, 100000 };
	/* in P: a 80-40+70 = 110, c 30, e 25, f -15+90 = 75, h 50, j 30:
	 * growing 210, mature 50, at risk 30, new 30 */
	int64_t rev_p[MX_N_STAGES] = { 0, 300000, 2100000, 500000, 300000, 0 };
	for (int k = 0; k < MX_N_STAGES; k++) {
		cr_assert_eq(r->stage_revenue[k], rev[k], "stage %s", mx_stage_name(k));
		cr_assert_eq(r->stage_revenue_p[k], rev_p[k], "stage %s", mx_stage_name(k));
	}
	cr_assert_eq(r->new_recent, 1);     /* c: 10 days */
	cr_assert_eq(r->not_yet, 0);
	cr_assert_eq(r->prospect_leads, 1); /* L2; L3 is after A */
	/* transitions start -> end: a at_risk -> growing, b new -> at_risk,
	 * c not_yet -> new, d prospect -> prospect, e growing -> growing,
	 * f new -> growing, g not_yet -> prospect, h mature -> mature, i
	 * at_risk -> churned, j not_yet -> at_risk */
	cr_assert_eq(r->transition[MX_STAGE_AT_RISK][MX_STAGE_GROWING], 1);
	cr_assert_eq(r->transition[MX_STAGE_NEW][MX_STAGE_AT_RISK], 1);
	cr_assert_eq(r->transition[MX_N_STAGES][MX_STAGE_NEW], 1);
	cr_assert_eq(r->transition[MX_STAGE_PROSPECT][MX_STAGE_PROSPECT], 1);
	cr_assert_eq(r->transition[MX_STAGE_GROWING][MX_STAGE_GROWING], 1);
	cr_assert_eq(r->transition[MX_STAGE_NEW][MX_STAGE_GROWING], 1);
	cr_assert_eq(r->transition[MX_N_STAGES][MX_STAGE_PROSPECT], 1);
	cr_assert_eq(r->transition[MX_STAGE_MATURE][MX_STAGE_MATURE], 1);
	cr_assert_eq(r->transition[MX_STAGE_AT_RISK][MX_STAGE_CHURNED], 1);
	cr_assert_eq(r->transition[MX_N_STAGES][MX_STAGE_AT_RISK], 1);
	size_t sum = 0;
	for (int f = 0; f <= MX_N_STAGES; f++)
		for (int k = 0; k < MX_N_STAGES; k++)
			sum += r->transition[f][k];
	cr_assert_eq(sum, 10);
	mx_retention_free(r);
	crm_dataset_free(ds);
}

Test(retention, cohorts)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	struct mx_retention *r;
	context(&ctx, ds, MX_COHORT_CLASSIC);
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	/* cohorts 2022-05 (h) .. 2024-06 (A's month): 8 + 12 + 6 = 26 */
	char label[8];
	mx_month_label(r->cohort_first, label);
	cr_assert_str_eq(label, "2022-05");
	cr_assert_eq(r->n_cohorts, 26);
	size_t n = r->n_cohorts;
	/* sizes: 2022-05 h (0), 2023-03 i (10), 2023-10 a b (17), 2023-11 f
	 * (18), 2023-12 e (19), 2024-01 j (20), 2024-06 c (25); the other
	 * months are empty */
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += r->cohort_size[i];
	cr_assert_eq(total, 8);
	cr_assert_eq(r->cohort_size[0], 1);
	cr_assert_eq(r->cohort_size[1], 0);
	cr_assert_eq(r->cohort_size[10], 1);
	cr_assert_eq(r->cohort_size[17], 2);
	cr_assert_eq(r->cohort_size[25], 1);
	/* 2023-10 (a, b): a orders in months k 0 (twice), 3, 7 and returns in
	 * 5; b in 0. Classic: k0 2, k3 1, k5 0, k7 1. Unbounded: a's last
	 * month is 7, b's 0: k0 2, k1..k7 1, k8 0. Revenue: k0 100 + 50 + 40
	 * = 190, k3 80, k5 -40, k7 70 */
	const size_t *act = r->cohort_active + 17 * n, *unb = r->cohort_active_unb + 17 * n;
	const int64_t *rev = r->cohort_revenue + 17 * n;
	size_t want_act[9] = { 2, 0, 0, 1, 0, 0, 0, 1, 0 };
	size_t want_unb[9] = { 2, 1, 1, 1, 1, 1, 1, 1, 0 };
	int64_t want_rev[9] = { 1900000, 0, 0, 800000, 0, -400000, 0, 700000, 0 };
	for (size_t k = 0; k < 9; k++) {
		cr_assert_eq(act[k], want_act[k], "k %zu", k);
		cr_assert_eq(unb[k], want_unb[k], "k %zu", k);
		cr_assert_eq(rev[k], want_rev[k], "k %zu", k);
	}
	/* 2023-11 (f): the return of 2024-01 in k2 */
	cr_assert_eq(r->cohort_revenue[18 * n + 2], -150000);
	cr_assert_eq(r->cohort_active[18 * n + 2], 0);
	cr_assert_eq(r->cohort_active[18 * n + 7], 1);
	/* 2023-12 (e): two orders of k0 count one customer; the cancelled
	 * order of 2024-02 (k2) nothing */
	cr_assert_eq(r->cohort_active[19 * n + 0], 1);
	cr_assert_eq(r->cohort_revenue[19 * n + 0], 300000);
	cr_assert_eq(r->cohort_active[19 * n + 2], 0);
	cr_assert_eq(r->cohort_revenue[19 * n + 2], 0);
	cr_assert_eq(r->cohort_active[19 * n + 4], 1);
	/* 2022-05 (h): k0, k8 (2023-01), k24 (2024-05) */
	cr_assert_eq(r->cohort_active[0 * n + 8], 1);
	cr_assert_eq(r->cohort_active[0 * n + 24], 1);
	cr_assert_eq(r->cohort_active_unb[0 * n + 24], 1);
	cr_assert_eq(r->cohort_active_unb[0 * n + 25], 0);
	mx_retention_free(r);
	crm_dataset_free(ds);
}

Test(retention, bands_and_tiers)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	struct mx_retention *r;
	context(&ctx, ds, MX_COHORT_CLASSIC);
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	/* net revenue at end(P) of the 8 buyers, sorted: 10 30 30 40 55 150
	 * 260 275. Type 7, h = 7p: p .2: h 1.4 -> 30 + .4 (30 - 30) = 30 (a
	 * tie); p .4: h 2.8 -> 30 + .8 x 10 = 38; p .6: h 4.2 -> 55 + .2 x 95
	 * = 74; p .8: h 5.6 -> 150 + .6 x 110 = 216 */
	cr_assert_eq(r->n_bands, 5);
	cr_assert_float_eq(r->band_cut[0], 300000, 1e-6);
	cr_assert_float_eq(r->band_cut[1], 380000, 1e-6);
	cr_assert_float_eq(r->band_cut[2], 740000, 1e-6);
	cr_assert_float_eq(r->band_cut[3], 2160000, 1e-6);
	/* bands (1 + cuts below): at start a 150 -> 4, b 40 -> 3, e 30 -> 1
	 * (30 is not above the cut 30), f 200 -> 4, h 100 -> 4, i 10 -> 1, c d
	 * g j none; at end a 260 -> 5, b 3, c 30 -> 1, e 55 -> 3, f 275 -> 5,
	 * h 150 -> 4, i 1, j 30 -> 1, d g none */
	size_t nb1 = 6;
	const size_t *m = r->band_migration;
	cr_assert_eq(m[4 * nb1 + 5], 2);   /* a, f */
	cr_assert_eq(m[3 * nb1 + 3], 1);   /* b */
	cr_assert_eq(m[0 * nb1 + 1], 2);   /* c, j */
	cr_assert_eq(m[0 * nb1 + 0], 2);   /* d, g */
	cr_assert_eq(m[1 * nb1 + 3], 1);   /* e */
	cr_assert_eq(m[4 * nb1 + 4], 1);   /* h */
	cr_assert_eq(m[1 * nb1 + 1], 1);   /* i */
	/* moves up in P, days in the band left: a 4 -> 5 on 2024-01-15 after
	 * entering 4 on 2023-10-05: 102; down to 4 by the return of 03-10, up
	 * again on 05-02: 53; e 1 -> 3 on 04-01 (in 1 since 2023-12-03): 120;
	 * f 4 -> 5 on 06-25 (since 2023-11-20, the return kept it in 4): 218;
	 * h moved 3 -> 4 on 2023-01-10, before P; c and j entered from none.
	 * Median of 53 102 120 218 = (102 + 120) / 2 = 111 */
	cr_assert_eq(r->n_moves_up, 4);
	cr_assert_float_eq(r->median_days_up, 111.0, 1e-12);
	/* tiers: gold a f, silver b h, none the other 6 */
	const struct crm_column *tier = &ds->t[CRM_CUSTOMERS].col[CRM_C_TIER];
	uint32_t gold = tier->cat[A_], silver = tier->cat[B_];
	cr_assert_eq(r->tier_n[gold], 2);
	cr_assert_eq(r->tier_n[silver], 2);
	cr_assert_eq(r->tier_n[0], 6);
	/* medians of net revenue: gold (260, 275) 267.50, silver (40, 150) 95,
	 * none (0 0 10 30 30 55) (10 + 30) / 2 = 20 */
	cr_assert_float_eq(r->tier_median_net[gold], 2675000, 1e-6);
	cr_assert_float_eq(r->tier_median_net[silver], 950000, 1e-6);
	cr_assert_float_eq(r->tier_median_net[0], 200000, 1e-6);
	cr_assert_eq(r->tier_band[gold * nb1 + 5], 2);
	cr_assert_eq(r->tier_band[silver * nb1 + 3], 1);
	cr_assert_eq(r->tier_band[silver * nb1 + 4], 1);
	cr_assert_eq(r->tier_band[0 * nb1 + 0], 2);
	cr_assert_eq(r->tier_band[0 * nb1 + 1], 3);
	cr_assert_eq(r->tier_band[0 * nb1 + 3], 1);
	mx_retention_free(r);
	crm_dataset_free(ds);
}

Test(retention, customer_filter_and_order_channel)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	struct mx_retention *r;
	uint8_t st[10];
	context(&ctx, ds, MX_COHORT_CLASSIC);
	/* only a and i: base a i (both alive at start), lost i: CCR 1/2 */
	uint8_t in[10] = { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	ctx.in = in;
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(r->churn_base, 2);
	cr_assert_eq(r->churn_lost, 1);
	cr_assert_float_eq(r->ccr, 0.5, 1e-12);
	cr_assert_eq(r->prospect_leads, 0);   /* leads without a customer do not count */
	/* cohorts 2023-03 (i) .. 2024-06 */
	cr_assert_eq(r->n_cohorts, 16);
	mx_retention_free(r);
	cr_assert_eq(mx_lifecycle_stages(&ctx, st, &err), CRM_OK);
	cr_assert_eq(st[B_], MX_STAGE_OUT);
	cr_assert_eq(st[I_], MX_STAGE_CHURNED);

	/* only store orders: a's 2024-05-02 order, 59 days before A: new */
	ctx.in = NULL;
	const struct crm_column *ch = &ds->t[CRM_ORDERS].col[CRM_O_CHANNEL];
	for (uint32_t k = 1; k < ch->dict.n; k++)
		if (strcmp(ch->dict.bytes + ch->dict.off[k], "store") == 0)
			ctx.order_channel = k;
	cr_assert_neq(ctx.order_channel, 0);
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(r->stage_n[MX_STAGE_NEW], 1);
	cr_assert_eq(r->new_recent, 1);
	/* the others have no order: prospects (g is known from its lead) */
	cr_assert_eq(r->stage_n[MX_STAGE_PROSPECT], 9);
	cr_assert_eq(r->churn_base, 0);
	cr_assert(isnan(r->ccr));
	/* cohorts 2024-05 (a) and 2024-06 (empty) */
	cr_assert_eq(r->n_cohorts, 2);
	cr_assert_eq(r->cohort_size[0], 1);
	cr_assert_eq(r->cohort_size[1], 0);
	cr_assert_eq(r->cohort_revenue[0], 700000);
	mx_retention_free(r);
	crm_dataset_free(ds);
}

Test(retention, report)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	int found = 0;
	context(&ctx, ds, MX_COHORT_UNBOUNDED);
	struct rp_doc *d = rp_doc_new();
	cr_assert_not_null(d);
	cr_assert_eq(mx_retention_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, NULL, "retention.churn_rate", &found), 100.0 / 6, 1e-9);
	cr_assert(found);
	cr_assert_float_eq(rp_get(d, NULL, "retention.retention_rate", NULL), 500.0 / 6, 1e-9);
	cr_assert_eq(rp_get(d, NULL, "retention.customers_start", NULL), 6);
	cr_assert_eq(rp_get(d, NULL, "retention.median_days_up", NULL), 111);
	/* unbounded retention of 2023-10 (row 17): k1 = 1 of 2 = 50%; k8 0%;
	 * k9 is after A: no data; its LTV curve: 95 95 95 135 135 115 115 150 */
	const struct rp_table *t = rp_table_get(d, NULL, "retention.cohort_retention");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 26);
	cr_assert_eq(rp_table_cols(t), 28);
	cr_assert_str_eq(rp_table_str(t, 17, 0), "2023-10");
	cr_assert_eq(rp_table_num(t, 17, 1), 2);
	cr_assert_float_eq(rp_table_num(t, 17, 2 + 1), 50.0, 1e-9);
	cr_assert_float_eq(rp_table_num(t, 17, 2 + 8), 0.0, 1e-9);
	cr_assert(isnan(rp_table_num(t, 17, 2 + 9)));
	/* an empty cohort: no data */
	cr_assert_eq(rp_table_num(t, 1, 1), 0);
	cr_assert(isnan(rp_table_num(t, 1, 2)));
	t = rp_table_get(d, NULL, "retention.cohort_ltv");
	double ltv[9] = { 95, 95, 95, 135, 135, 115, 115, 150, 150 };
	for (size_t k = 0; k < 9; k++)
		cr_assert_float_eq(rp_table_num(t, 17, 2 + k), ltv[k], 1e-9, "k %zu", k);
	t = rp_table_get(d, NULL, "retention.stages");
	cr_assert_eq(rp_table_rows(t), MX_N_STAGES);
	cr_assert_str_eq(rp_table_str(t, MX_STAGE_GROWING, 0), "growing");
	cr_assert_eq(rp_table_num(t, MX_STAGE_GROWING, 1), 3);
	cr_assert_float_eq(rp_table_num(t, MX_STAGE_GROWING, 2), 30.0, 1e-9);
	cr_assert_float_eq(rp_table_num(t, MX_STAGE_GROWING, 3), 590.0, 1e-9);
	t = rp_table_get(d, NULL, "retention.stage_transitions");
	cr_assert_eq(rp_table_rows(t), MX_N_STAGES + 1);
	cr_assert_str_eq(rp_table_str(t, MX_N_STAGES, 0), "not_yet");
	cr_assert_eq(rp_table_num(t, MX_N_STAGES, 1 + MX_N_STAGES), 3);   /* c g j */
	t = rp_table_get(d, NULL, "retention.tiers");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 3);
	t = rp_table_get(d, NULL, "retention.band_migration");
	cr_assert_eq(rp_table_rows(t), 6);
	cr_assert_float_eq(rp_table_num(t, 4, 1 + 5), 2, 1e-9);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* Customers with many order days: the median gap is selected, not sorted.
 * A = 2024-12-31T23:59:59Z, factor 2: at risk when the days since the
 * last order exceed 2 x the median gap.
 *   k, l: 40 gaps alternating 1 and 10 days: median (1 + 10) / 2 = 5.5,
 *         limit 11; k's last order 12 days before A (at risk), l's 11
 *         (not: 220 + 11 days after the first order, growing)
 *   n, q: 21 gaps, ten of 8 and ten of 3 alternating with one of 5 in the
 *         middle: median 5, limit 10; n 11 days before A (at risk), q 10
 *         (growing) */
static void many_orders(struct ds_builder *b, const char *cust_id, const int *gaps, size_t n_gaps,
			int since)
{
	int64_t last = ts("2024-12-31T12:00:00Z") - (int64_t)since * 86400, t = last;
	for (size_t i = 0; i < n_gaps; i++)
		t -= gaps[i] * 86400;
	char id[32], at[32];
	for (size_t i = 0; i <= n_gaps; i++) {
		snprintf(id, sizeof id, "%s%02zu", cust_id, i);
		ts_format(t, 0, at);
		order(b, id, cust_id, at, "1", NULL, "web");
		if (i < n_gaps)
			t += gaps[i] * 86400;
	}
	cr_assert_eq(t, last);
}

/* Customers k, l, n and q of the comment above many_orders. */
static struct crm_dataset *gap_dataset(void)
{
	int alt[40], mixed[21];
	for (int i = 0; i < 40; i++)
		alt[i] = i % 2 ? 10 : 1;
	for (int i = 0; i < 21; i++)
		mixed[i] = i == 10 ? 5 : (i % 2 ? 3 : 8);
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	many_orders(b, "k", alt, 40, 12);
	many_orders(b, "l", alt, 40, 11);
	many_orders(b, "n", mixed, 21, 11);
	many_orders(b, "q", mixed, 21, 10);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

Test(retention, median_gap_of_many_orders)
{
	struct crm_dataset *ds = gap_dataset();
	struct crm_err err;
	struct mx_ctx ctx;
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts("2024-12-31T23:59:59Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	uint8_t st[4];
	cr_assert_eq(mx_lifecycle_stages(&ctx, st, &err), CRM_OK);
	cr_assert_eq(st[0], MX_STAGE_AT_RISK);   /* k */
	cr_assert_eq(st[1], MX_STAGE_GROWING);   /* l */
	cr_assert_eq(st[2], MX_STAGE_AT_RISK);   /* n */
	cr_assert_eq(st[3], MX_STAGE_GROWING);   /* q */
	crm_dataset_free(ds);
}

/* No orders at all: every customer a prospect, the churn numbers no data. */
Test(retention, no_orders_is_no_data)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	struct mx_ctx ctx;
	struct mx_opts o;
	struct mx_retention *r;
	int found = 0;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cust(b, "x", "2024-01-01", NULL);
	cust(b, "y", "2024-02-01", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	mx_opts_default(&o);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(r->stage_n[MX_STAGE_PROSPECT], 2);
	cr_assert_eq(r->n_cohorts, 0);
	cr_assert_null(r->band_cut);
	cr_assert(isnan(r->ccr));
	cr_assert(isnan(r->median_days_up));
	mx_retention_free(r);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_retention_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert(isnan(rp_get(d, NULL, "retention.churn_rate", &found)));
	cr_assert(found);
	cr_assert(isnan(rp_get(d, NULL, "retention.customers_start", &found)));
	cr_assert(found);
	cr_assert_eq(rp_table_rows(rp_table_get(d, NULL, "retention.cohort_retention")), 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* CDNOW: all 23,570 customers bought first in 1997-01..03. Worked out
 * from the file with:
 *   python3 -c "
 *   first = {}
 *   for l in open('CDNOW_master.txt'):
 *       f = l.split()
 *       if f[0].isdigit() and (f[0] not in first or f[1] < first[f[0]]): first[f[0]] = f[1]
 *   from collections import Counter; print(Counter(d[:6] for d in first.values()))"
 * -> 199701 7846, 199702 8476, 199703 7248. The same script extended with
 * each customer's months: classic 1997-01 k1 1157, k12 528; 1997-03 k15
 * 457; unbounded 1997-01 k17 498, 1997-02 k3 3337; net revenue of
 * 1997-02 in k0 318,548.34 and of 1997-01 in k17 27,252.08. */
Test(retention, cdnow_cohorts)
{
	static const char *const maps[] = { "customer_id=#1", "ordered_at=#2", "items=#3",
					    "amount=#4" };
	struct ds_file f;
	memset(&f, 0, sizeof f);
	f.path = "../shared/data/cdnow/CDNOW_master.txt";
	f.ing.entity = CRM_ORDERS;
	f.ing.csv.mode = ING_DELIM_WS;
	f.ing.maps = maps;
	f.ing.n_maps = 4;
	f.ing.date_format = "%Y%m%d";
	f.ing.decimal = '.';
	struct ing_summary sum;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 23570);
	struct mx_ctx ctx;
	struct mx_opts o;
	mx_opts_default(&o);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	struct mx_retention *r;
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	char label[8];
	mx_month_label(r->cohort_first, label);
	cr_assert_str_eq(label, "1997-01");
	cr_assert_eq(r->n_cohorts, 18);   /* 1997-01 .. 1998-06 */
	size_t n = r->n_cohorts;
	cr_assert_eq(r->cohort_size[0], 7846);
	cr_assert_eq(r->cohort_size[1], 8476);
	cr_assert_eq(r->cohort_size[2], 7248);
	for (size_t i = 3; i < n; i++)
		cr_assert_eq(r->cohort_size[i], 0);
	cr_assert_eq(r->cohort_active[0 * n + 1], 1157);
	cr_assert_eq(r->cohort_active[0 * n + 12], 528);
	cr_assert_eq(r->cohort_active[2 * n + 15], 457);
	cr_assert_eq(r->cohort_active_unb[0 * n + 17], 498);
	cr_assert_eq(r->cohort_active_unb[1 * n + 3], 3337);
	cr_assert_eq(r->cohort_revenue[1 * n + 0], 3185483400LL);
	cr_assert_eq(r->cohort_revenue[0 * n + 17], 272520800LL);
	mx_retention_free(r);
	crm_dataset_free(ds);
}

/* A dataset with nothing in it: every count 0, every rate no data. */
Test(retention, empty_dataset)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	context(&ctx, ds, MX_COHORT_CLASSIC);
	struct mx_retention *r;
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(r->n_cohorts, 0);
	cr_assert(isnan(r->ccr));
	mx_retention_free(r);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_retention_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* ------------------------------------------- large data paths (retention.c) */

/* An order of a whole amount in ten-thousandths (status NULL: none). */
static void order_i(struct ds_builder *b, const char *id, const char *cust_id, int64_t at,
		    int64_t amount, const char *status)
{
	struct ent_record r = rec(CRM_ORDERS, 0);
	struct crm_err err;
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust_id);
	set_i(&r, CRM_O_ORDERED_AT, at);
	set_i(&r, CRM_O_AMOUNT, amount);
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

/* The band cuts are found from a histogram of value buckets (256 per
 * power of two, negative values mirrored) and a selection among the
 * values of the buckets that hold the wanted ranks. 3001 customers, each
 * with one order on 2024-02-01 (in P, before end(P) = A), and for every
 * 7th a return on 2024-03-01 of the amount + 0.05 (net -0.05): tiny
 * amounts below 256 ten-thousandths (their own buckets), many ties, powers
 * of two (bucket edges) up to 2^49, squares. The cuts must be, to the bit,
 * mx_quantile's type 7 over the same net revenues sorted as doubles. */
Test(retention, band_cuts_of_many_customers)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	enum { N = 3001 };
	double *net = malloc(N * sizeof *net), *sorted = malloc(N * sizeof *sorted);
	char id[32], oid[32];
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	for (int k = 0; k < N; k++) {
		int64_t a;
		switch (k % 5) {
		case 0: a = k % 200; break;
		case 1: a = 1000 * (k % 37); break;
		case 2: a = (int64_t)k * k * 13; break;
		case 3: a = (int64_t)1 << (20 + k % 30); break;
		default: a = 5000000; break;
		}
		snprintf(id, sizeof id, "c%05d", k);
		snprintf(oid, sizeof oid, "o%05d", k);
		order_i(b, oid, id, ts("2024-02-01T10:00:00Z"), a, NULL);
		net[k] = (double)a;
		if (k % 7 == 0) {
			snprintf(oid, sizeof oid, "r%05d", k);
			order_i(b, oid, id, ts("2024-03-01T10:00:00Z"), a + 500, "returned");
			net[k] = -500;
		}
	}
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	static const int bands[] = { 5, 7, 100 };
	for (size_t t = 0; t < sizeof bands / sizeof bands[0]; t++) {
		struct mx_ctx ctx;
		struct mx_retention *r;
		context(&ctx, ds, MX_COHORT_CLASSIC);
		ctx.o.spend_bands = bands[t];
		cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
		for (int k = 0; k < bands[t] - 1; k++) {
			memcpy(sorted, net, N * sizeof *net);
			double want = mx_quantile(sorted, N, (double)(k + 1) / bands[t]);
			cr_assert(r->band_cut[k] == want, "%d bands, cut %d: %.17g, want %.17g",
				  bands[t], k, r->band_cut[k], want);
		}
		mx_retention_free(r);
	}
	free(net);
	free(sorted);
	crm_dataset_free(ds);
}

/* Four customers (ids w 0, x 1, y 2, z 3), two spend bands, A =
 * 2024-06-30T23:59:59Z, P = [2024-01-01, 2024-07-01):
 *   w: 2024-01-10 50, 2024-04-10 200     net at end(P) 250
 *   x: 1930-01-01 10, 2024-03-01 1000    1010
 *   y: 2024-02-01 100                    100
 *   z: 2024-02-01 5                      5
 * The cut is the type-7 median of 5 100 250 1010: 100 + .5 x 150 = 175.
 * x is in band 1 since 1930-01-01 and moves up on 2024-03-01, 34393 days
 * later (94 years with 23 leap days, then January and a leap February):
 * past the histogram of days (32768), so it is listed. w enters band 1
 * from none (an acquisition, not a move) and moves up on 2024-04-10 after
 * 21 + 29 + 31 + 10 = 91 days. Median of 91 and 34393: 17242. x's cohort
 * 1930-01 is more than 600 months before A: older. */
static struct crm_dataset *long_history(const char *status, int cancelled)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	order_i(b, "w1", "w", ts("2024-01-10T10:00:00Z"), 500000, status);
	order_i(b, "w2", "w", ts("2024-04-10T10:00:00Z"), 2000000, status);
	order_i(b, "x1", "x", ts("1930-01-01T10:00:00Z"), 100000, status);
	order_i(b, "x2", "x", ts("2024-03-01T10:00:00Z"), 10000000, status);
	if (cancelled)
		order_i(b, "x3", "x", ts("2024-05-01T10:00:00Z"), 99990000, "cancelled");
	order_i(b, "y1", "y", ts("2024-02-01T10:00:00Z"), 1000000, status);
	order_i(b, "z1", "z", ts("2024-02-01T10:00:00Z"), 50000, status);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

static struct mx_retention *two_bands(const struct crm_dataset *ds)
{
	struct mx_ctx ctx;
	struct mx_retention *r;
	struct crm_err err;
	context(&ctx, ds, MX_COHORT_CLASSIC);
	ctx.o.spend_bands = 2;
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	return r;
}

/* Asserts that two results hold the same numbers. */
static void same_retention(const struct mx_retention *a, const struct mx_retention *b)
{
	cr_assert_eq(a->churn_base, b->churn_base);
	cr_assert_eq(a->churn_lost, b->churn_lost);
	cr_assert_eq(a->new_in_p, b->new_in_p);
	cr_assert_eq(a->alive_end, b->alive_end);
	cr_assert_eq(a->n_cohorts, b->n_cohorts);
	cr_assert_eq(a->cohort_first, b->cohort_first);
	cr_assert_eq(a->cohort_older, b->cohort_older);
	size_t n = a->n_cohorts;
	cr_assert_arr_eq(a->cohort_size, b->cohort_size, n * sizeof *a->cohort_size);
	cr_assert_arr_eq(a->cohort_active, b->cohort_active, n * n * sizeof *a->cohort_active);
	cr_assert_arr_eq(a->cohort_active_unb, b->cohort_active_unb,
			 n * n * sizeof *a->cohort_active_unb);
	cr_assert_arr_eq(a->cohort_revenue, b->cohort_revenue, n * n * sizeof *a->cohort_revenue);
	cr_assert_arr_eq(a->stage_n, b->stage_n, sizeof a->stage_n);
	cr_assert_arr_eq(a->stage_revenue, b->stage_revenue, sizeof a->stage_revenue);
	cr_assert_arr_eq(a->stage_revenue_p, b->stage_revenue_p, sizeof a->stage_revenue_p);
	cr_assert_arr_eq(a->transition, b->transition, sizeof a->transition);
	cr_assert_eq(a->n_bands, b->n_bands);
	for (int k = 0; k < a->n_bands - 1; k++)
		cr_assert(a->band_cut[k] == b->band_cut[k]);
	size_t nb1 = (size_t)a->n_bands + 1;
	cr_assert_arr_eq(a->band_migration, b->band_migration,
			 nb1 * nb1 * sizeof *a->band_migration);
	cr_assert_eq(a->n_moves_up, b->n_moves_up);
	cr_assert(a->median_days_up == b->median_days_up);
}

Test(retention, moves_up_after_ninety_years)
{
	struct crm_dataset *ds = long_history(NULL, 0);
	struct mx_retention *r = two_bands(ds);
	cr_assert(r->band_cut[0] == 1750000.0);
	size_t nb1 = 3;
	cr_assert_eq(r->band_migration[1 * nb1 + 2], 1);   /* x */
	cr_assert_eq(r->band_migration[0 * nb1 + 2], 1);   /* w */
	cr_assert_eq(r->band_migration[0 * nb1 + 1], 2);   /* y, z */
	cr_assert_eq(days_from_civil(2024, 3, 1) - days_from_civil(1930, 1, 1), 34393);
	cr_assert_eq(r->n_moves_up, 2);
	cr_assert(r->median_days_up == 17242.0);
	/* cohorts: the 600 months 1974-07 .. 2024-06; w in 2024-01 (row 594),
	 * y and z in 2024-02 (595); x older */
	char label[8];
	mx_month_label(r->cohort_first, label);
	cr_assert_str_eq(label, "1974-07");
	cr_assert_eq(r->n_cohorts, 600);
	cr_assert_eq(r->cohort_older, 1);
	cr_assert_eq(r->cohort_size[594], 1);
	cr_assert_eq(r->cohort_size[595], 2);
	mx_retention_free(r);
	crm_dataset_free(ds);
}

/* Pass 1 counts the cohorts from the month of the dataset's first event
 * (first_at), which no order can precede; should first_at be off, the
 * numbers must not change: set to 2024-01-01, every cohort month is after
 * it but x's, which is older anyway (the cohort table then starts before
 * the counted months); set to 2024-02-15, w's first month is before it
 * and pass 1 runs again over all 600 months. */
Test(retention, first_at_later_than_the_orders)
{
	struct crm_dataset *ds = long_history(NULL, 0);
	struct mx_retention *want = two_bands(ds);
	ds->first_at = ts("2024-01-01T00:00:00Z");
	struct mx_retention *r = two_bands(ds);
	same_retention(r, want);
	mx_retention_free(r);
	ds->first_at = ts("2024-02-15T00:00:00Z");
	r = two_bands(ds);
	same_retention(r, want);
	mx_retention_free(r);
	mx_retention_free(want);
	crm_dataset_free(ds);
}

/* Pass 2 reads no status codes when pass 1 saw only "none" and
 * "completed"; with a cancelled order among them it reads them. Either
 * way the numbers are those of the data without a status. */
Test(retention, status_codes_read_or_not)
{
	struct crm_dataset *none = long_history(NULL, 0);
	struct crm_dataset *completed = long_history("completed", 0);
	struct crm_dataset *cancelled = long_history("completed", 1);
	struct mx_retention *want = two_bands(none), *r = two_bands(completed);
	same_retention(r, want);
	mx_retention_free(r);
	r = two_bands(cancelled);
	same_retention(r, want);
	mx_retention_free(r);
	mx_retention_free(want);
	crm_dataset_free(none);
	crm_dataset_free(completed);
	crm_dataset_free(cancelled);
}

/* The stages of median_gap_of_many_orders again, as pass 1 takes them
 * (at A, start(P) and end(P) in one scan of each customer's orders): k and
 * n at risk, l and q growing. */
Test(retention, median_gap_in_the_pass)
{
	struct crm_dataset *ds = gap_dataset();
	struct crm_err err;
	struct mx_ctx ctx;
	struct mx_opts o;
	struct mx_retention *r;
	mx_opts_default(&o);
	o.as_of = ts("2024-12-31T23:59:59Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(mx_retention_compute(&ctx, &r, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(r->stage_n[MX_STAGE_AT_RISK], 2);
	cr_assert_eq(r->stage_n[MX_STAGE_GROWING], 2);
	mx_retention_free(r);
	crm_dataset_free(ds);
}
