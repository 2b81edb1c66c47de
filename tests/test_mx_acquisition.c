/* test_mx_acquisition.c - the acquisition family (src/metrics/acquisition.c):
 * lead conversion, CAC by channel and campaign, LTV:CAC, payback, cohort
 * payback, time to purchase and channel value on a hand-made shop whose
 * every number is worked out below; a customer filter; absent inputs; and
 * the demo business, whose spend was drawn as CAC x new customers. */
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
#include "metrics/acquisition.h"
#include "metrics/mx.h"
#include "report/doc.h"
#include "support.h"

static void add(struct ds_builder *b, struct ent_record *r)
{
	struct crm_err err;
	cr_assert_eq(ds_builder_add(b, r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static int64_t money(const char *s)
{
	int64_t v = 0;
	cr_assert_eq(money_parse(s, strlen(s), '.', &v), 0);
	return v;
}

static void cust(struct ds_builder *b, const char *id, const char *channel,
		 const char *campaign, const char *signup)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 0);
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	if (channel)
		set_s(&r, CRM_C_ACQ_CHANNEL, channel);
	if (campaign)
		set_s(&r, CRM_C_ACQ_CAMPAIGN, campaign);
	if (signup)
		set_i(&r, CRM_C_SIGNUP_AT, ts(signup));
	add(b, &r);
}

static void order(struct ds_builder *b, const char *id, const char *cust_id, const char *at,
		  const char *amount, const char *cost, const char *status)
{
	struct ent_record r = rec(CRM_ORDERS, 0);
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust_id);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	set_i(&r, CRM_O_AMOUNT, money(amount));
	if (cost)
		set_i(&r, CRM_O_COST, money(cost));
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	add(b, &r);
}

static void lead(struct ds_builder *b, const char *id, const char *created, const char *source,
		 const char *campaign, const char *converted, const char *cust_id)
{
	struct ent_record r = rec(CRM_LEADS, 0);
	set_s(&r, CRM_L_LEAD_ID, id);
	set_i(&r, CRM_L_CREATED_AT, ts(created));
	if (source)
		set_s(&r, CRM_L_SOURCE, source);
	if (campaign)
		set_s(&r, CRM_L_CAMPAIGN, campaign);
	if (converted)
		set_i(&r, CRM_L_CONVERTED_AT, ts(converted));
	if (cust_id)
		set_s(&r, CRM_L_CUSTOMER_ID, cust_id);
	add(b, &r);
}

static void spend(struct ds_builder *b, const char *date, const char *channel,
		  const char *campaign, const char *amount)
{
	struct ent_record r = rec(CRM_SPEND, 0);
	set_i(&r, CRM_S_DATE, ts(date));
	set_s(&r, CRM_S_CHANNEL, channel);
	if (campaign)
		set_s(&r, CRM_S_CAMPAIGN, campaign);
	set_i(&r, CRM_S_AMOUNT, money(amount));
	add(b, &r);
}

/* The shop. A = 2024-06-30T23:59:59Z, P = [2024-01-01, 2024-07-01).
 *   a  search/s1, signup 2024-01-05T10; lead L4 (search, s1) created
 *      2024-01-01T10, converted 2024-01-05T10; orders 2024-01-06T10 100
 *      (cost 60), 2024-03-10 50 (cost 30): GP 40 + 20 = 60, net 150
 *   b  search/s2, signup 2024-02-01T00; 2024-02-01T12 80 (cost 50), then
 *      80 returned 2024-02-20: net 0, GP 30 - 80 = -50
 *   c  social, signup 2023-06-01; 2023-06-10 40 (cost 20), 2024-02-10 60
 *      (cost 40): net 100, GP 40; first order before P
 *   d  no channel: lead L1 (email, e1) created 2024-03-01T00, converted
 *      2024-03-05T12; an interaction 2024-02-10; order 2024-03-06 30
 *      without cost: GP unknown
 *   e  search/s1, no contact at all; 2024-04-01T10 100 (cost 30): GP 70;
 *      a cancelled 500 on 2024-05-01
 *   f  social, signup 2022-01-01; 2023-03-01 10 (cost 5): GP 5
 *   g  no channel and no lead, signup 2024-04-01; a web event 2024-03-01;
 *      2024-05-01 25 (cost 5): GP 20
 * Leads without a customer: L2 (search) created 2024-02-01, L3 (email)
 * 2023-12-15 (before P), L5 (email, e1) 2024-06-20.
 * Spend: 2023-12-01 search s1 1000 (before P); 2024-01-01 search s1 50;
 * 2024-02-01 search s2 100; 2024-03-01 email e1 50; 2024-03-01 social 40;
 * 2024-04-01 search s1 60. */
static struct crm_dataset *shop(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cust(b, "a", "search", "s1", "2024-01-05T10:00:00Z");
	cust(b, "b", "search", "s2", "2024-02-01T00:00:00Z");
	cust(b, "c", "social", NULL, "2023-06-01T00:00:00Z");
	cust(b, "d", NULL, NULL, NULL);
	cust(b, "e", "search", "s1", NULL);
	cust(b, "f", "social", NULL, "2022-01-01T00:00:00Z");
	cust(b, "g", NULL, NULL, "2024-04-01T00:00:00Z");
	order(b, "a1", "a", "2024-01-06T10:00:00Z", "100", "60", NULL);
	order(b, "a2", "a", "2024-03-10T10:00:00Z", "50", "30", "completed");
	order(b, "b1", "b", "2024-02-01T12:00:00Z", "80", "50", NULL);
	order(b, "b2", "b", "2024-02-20T12:00:00Z", "80", "50", "returned");
	order(b, "c1", "c", "2023-06-10T10:00:00Z", "40", "20", NULL);
	order(b, "c2", "c", "2024-02-10T10:00:00Z", "60", "40", NULL);
	order(b, "d1", "d", "2024-03-06T00:00:00Z", "30", NULL, NULL);
	order(b, "e1", "e", "2024-04-01T10:00:00Z", "100", "30", NULL);
	order(b, "e2", "e", "2024-05-01T10:00:00Z", "500", "300", "cancelled");
	order(b, "f1", "f", "2023-03-01T10:00:00Z", "10", "5", NULL);
	order(b, "g1", "g", "2024-05-01T00:00:00Z", "25", "5", NULL);
	lead(b, "L1", "2024-03-01T00:00:00Z", "email", "e1", "2024-03-05T12:00:00Z", "d");
	lead(b, "L2", "2024-02-01T00:00:00Z", "search", NULL, NULL, NULL);
	lead(b, "L3", "2023-12-15T00:00:00Z", "email", NULL, NULL, NULL);
	lead(b, "L4", "2024-01-01T10:00:00Z", "search", "s1", "2024-01-05T10:00:00Z", "a");
	lead(b, "L5", "2024-06-20T00:00:00Z", "email", "e1", NULL, NULL);
	struct ent_record r = rec(CRM_INTERACTIONS, 0);
	set_s(&r, CRM_I_INTERACTION_ID, "I1");
	set_s(&r, CRM_I_CUSTOMER_ID, "d");
	set_i(&r, CRM_I_OCCURRED_AT, ts("2024-02-10T00:00:00Z"));
	set_s(&r, CRM_I_CHANNEL, "email");
	add(b, &r);
	r = rec(CRM_WEB_EVENTS, 0);
	set_s(&r, CRM_W_SESSION_ID, "S1");
	set_s(&r, CRM_W_CUSTOMER_ID, "g");
	set_i(&r, CRM_W_OCCURRED_AT, ts("2024-03-01T00:00:00Z"));
	set_s(&r, CRM_W_PAGE, "/");
	add(b, &r);
	spend(b, "2023-12-01", "search", "s1", "1000");
	spend(b, "2024-01-01", "search", "s1", "50");
	spend(b, "2024-02-01", "search", "s2", "100");
	spend(b, "2024-03-01", "email", "e1", "50");
	spend(b, "2024-03-01", "social", NULL, "40");
	spend(b, "2024-04-01", "search", "s1", "60");
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 7);
	return ds;
}

static void context(struct mx_ctx *ctx, const struct crm_dataset *ds)
{
	struct mx_opts o;
	struct crm_err err;
	mx_opts_default(&o);
	o.as_of = ts("2024-06-30T23:59:59Z");
	o.p_start = ts("2024-01-01T00:00:00Z");
	o.p_end = ts("2024-07-01T00:00:00Z");
	cr_assert_eq(mx_ctx_init(ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
}

static struct mx_acquisition *compute(const struct mx_ctx *ctx)
{
	struct mx_acquisition *a;
	struct crm_err err;
	cr_assert_eq(mx_acquisition_compute(ctx, &a, &err), CRM_OK, "%s", err.msg);
	return a;
}

static const struct mx_acq_channel *channel(const struct mx_acquisition *a, const char *name)
{
	for (size_t k = 0; k < a->n_channels; k++)
		if (strcmp(a->channels[k].name, name) == 0)
			return &a->channels[k];
	cr_assert_fail("no channel %s", name);
	return NULL;
}

/* Months from t to A, as the family counts them (days / 30.436875). */
static double months_to_a(const char *t)
{
	return (double)(ts("2024-06-30T23:59:59Z") - ts(t)) / 86400.0 / 30.436875;
}

Test(acquisition, leads)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	context(&ctx, ds);
	struct mx_acquisition *a = compute(&ctx);
	/* created in P: L1 (converted after 4.5 days), L2, L4 (after 4 days),
	 * L5; L3 is before P. 2 of 4: 50%, median days (4 + 4.5) / 2 */
	cr_assert(a->has_leads);
	cr_assert_eq(a->leads.leads, 4);
	cr_assert_eq(a->leads.converted, 2);
	cr_assert_float_eq(a->leads.rate, 50.0, 1e-12);
	cr_assert_float_eq(a->leads.median_days, 4.25, 1e-12);
	/* by source: email L1 L5 (1 converted, 4.5 days), search L2 L4 (1, 4 days) */
	cr_assert_eq(a->n_sources, 2);
	const struct crm_column *src = &ds->t[CRM_LEADS].col[CRM_L_SOURCE];
	for (size_t k = 0; k < a->n_sources; k++) {
		const struct mx_lead_group *g = &a->by_source[k];
		const char *name = src->dict.bytes + src->dict.off[g->code];
		cr_assert_eq(g->leads, 2);
		cr_assert_eq(g->converted, 1);
		cr_assert_float_eq(g->rate, 50.0, 1e-12);
		cr_assert_float_eq(g->median_days, strcmp(name, "email") == 0 ? 4.5 : 4.0, 1e-12,
				   "%s", name);
	}
	/* by campaign: none L2 (0 of 1, no days), e1 L1 L5 (1 of 2), s1 L4 (1 of 1) */
	cr_assert_eq(a->n_lead_campaigns, 3);
	cr_assert_eq(a->by_campaign[0].code, 0);
	cr_assert_eq(a->by_campaign[0].leads, 1);
	cr_assert_eq(a->by_campaign[0].converted, 0);
	cr_assert_float_eq(a->by_campaign[0].rate, 0.0, 1e-12);
	cr_assert(isnan(a->by_campaign[0].median_days));
	mx_acquisition_free(a);
	crm_dataset_free(ds);
}

Test(acquisition, cac_ltv_payback)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	context(&ctx, ds);
	struct mx_acquisition *a = compute(&ctx);
	/* channels by name, "(none)" last: d takes email from its lead; g has none */
	cr_assert_eq(a->n_channels, 4);
	cr_assert_str_eq(a->channels[0].name, "email");
	cr_assert_str_eq(a->channels[1].name, "search");
	cr_assert_str_eq(a->channels[2].name, "social");
	cr_assert_str_eq(a->channels[3].name, "(none)");
	/* new in P: a b e (search), d (email), g (none) = 5; spend in P 50 +
	 * 100 + 50 + 40 + 60 = 300: CAC 60 */
	cr_assert(a->all.has_spend);
	cr_assert_eq(a->all.spend, 3000000);
	cr_assert_eq(a->all.new_customers, 5);
	cr_assert_float_eq(a->all.cac, 60.0, 1e-9);
	/* search: 210 / 3 = 70; email 50 / 1; social 40 and nobody new: no
	 * data; none: new g but no spend: no data */
	const struct mx_acq_channel *se = channel(a, "search"), *em = channel(a, "email"),
				    *so = channel(a, "social"), *no = channel(a, "(none)");
	cr_assert_float_eq(se->cac, 70.0, 1e-9);
	cr_assert_float_eq(em->cac, 50.0, 1e-9);
	cr_assert(so->has_spend && isnan(so->cac));
	cr_assert(!no->has_spend && isnan(no->cac));
	cr_assert_eq(no->new_customers, 1);
	/* LTV = net revenue to A per buyer: search a 150, b 0, e 100: 250 / 3;
	 * all: search 250, email 30, social c 100 + f 10, none 25: 415 / 7 */
	cr_assert_float_eq(se->ltv, 250.0 / 3, 1e-9);
	cr_assert_float_eq(se->ltv_cac, 250.0 / 3 / 70, 1e-9);
	cr_assert_float_eq(em->ltv_cac, 30.0 / 50, 1e-9);
	cr_assert_eq(a->all.buyers, 7);
	cr_assert_float_eq(a->all.ltv, 415.0 / 7, 1e-9);
	cr_assert_float_eq(a->all.ltv_cac, 415.0 / 7 / 60, 1e-9);
	/* monthly gross profit per new customer: search a 60, b -50, e 70 over
	 * their months to A; payback = CAC / that */
	double months = months_to_a("2024-01-06T10:00:00Z") + months_to_a("2024-02-01T12:00:00Z") +
			months_to_a("2024-04-01T10:00:00Z");
	cr_assert_float_eq(se->gp_month, 80.0 / months, 1e-9);
	cr_assert_float_eq(se->payback_months, 70.0 / (80.0 / months), 1e-9);
	/* all: + g 20 since 2024-05-01; d's gross profit is unknown */
	double all_months = months + months_to_a("2024-05-01T00:00:00Z");
	cr_assert_float_eq(a->all.gp_month, 100.0 / all_months, 1e-9);
	cr_assert(isnan(em->gp_month));
	cr_assert(isnan(em->payback_months));
	/* campaigns, by channel then name: email/e1 50 / 1; search/s1 (50 +
	 * 60) / 2 (a, e); search/s2 100 / 1; social/(none) 40, nobody new;
	 * (none)/(none) g, no spend */
	cr_assert_eq(a->n_campaigns, 5);
	const char *want[5][2] = { { "email", "e1" }, { "search", "s1" }, { "search", "s2" },
				   { "social", "(none)" }, { "(none)", "(none)" } };
	double cac[5] = { 50, 55, 100, NAN, NAN };
	for (size_t k = 0; k < 5; k++) {
		const struct mx_acq_campaign *cp = &a->campaigns[k];
		cr_assert_str_eq(a->channels[cp->channel].name, want[k][0], "row %zu", k);
		cr_assert_str_eq(cp->name, want[k][1], "row %zu", k);
		if (isnan(cac[k]))
			cr_assert(isnan(cp->cac), "row %zu", k);
		else
			cr_assert_float_eq(cp->cac, cac[k], 1e-9, "row %zu", k);
	}
	cr_assert_eq(a->campaigns[1].new_customers, 2);
	mx_acquisition_free(a);
	crm_dataset_free(ds);
}

Test(acquisition, cohort_payback)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	context(&ctx, ds);
	struct mx_acquisition *a = compute(&ctx);
	/* cells with spend up to A, by month then channel:
	 *   2023-12 search 1000, nobody new: CAC no data
	 *   2024-01 search 50, a: GP 40 in k0, 20 in k2: 40 < 50, 40, 60 >= 50: 2
	 *   2024-02 search 100, b: GP -50: never
	 *   2024-03 email 50, d: gross profit unknown
	 *   2024-03 social 40, nobody new
	 *   2024-04 search 60, e: 70 in k0: 0 */
	cr_assert_eq(a->n_cohorts, 6);
	const char *month[6] = { "2023-12", "2024-01", "2024-02", "2024-03", "2024-03", "2024-04" };
	const char *chan[6] = { "search", "search", "search", "email", "social", "search" };
	size_t fresh[6] = { 0, 1, 1, 1, 0, 1 };
	double cac[6] = { NAN, 50, 100, 50, NAN, 60 };
	double gp[6] = { NAN, 60, -50, NAN, NAN, 70 };
	double pay[6] = { NAN, 2, NAN, NAN, NAN, 0 };
	for (size_t k = 0; k < 6; k++) {
		const struct mx_acq_cohort *co = &a->cohorts[k];
		char label[8];
		mx_month_label(co->month, label);
		cr_assert_str_eq(label, month[k], "row %zu", k);
		cr_assert_str_eq(a->channels[co->channel].name, chan[k], "row %zu", k);
		cr_assert_eq(co->new_customers, fresh[k], "row %zu", k);
		double got[3] = { co->cac, co->gp_per_customer, co->payback_months };
		double exp[3] = { cac[k], gp[k], pay[k] };
		for (int i = 0; i < 3; i++) {
			if (isnan(exp[i]))
				cr_assert(isnan(got[i]), "row %zu value %d: %g", k, i, got[i]);
			else
				cr_assert_float_eq(got[i], exp[i], 1e-9, "row %zu value %d", k, i);
		}
	}
	cr_assert_eq(a->cohorts[0].spend, 10000000);
	mx_acquisition_free(a);
	crm_dataset_free(ds);
}

Test(acquisition, time_to_purchase_and_channel_value)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	context(&ctx, ds);
	struct mx_acquisition *a = compute(&ctx);
	/* new in P: a lead 2024-01-01T10 -> order 2024-01-06T10: 5 days; b
	 * signup 02-01T00 -> 02-01T12: 0.5; d interaction 02-10 -> 03-06: 25;
	 * e no contact; g web event 03-01 -> 05-01: 61. Mean 91.5 / 4, median
	 * (5 + 25) / 2 */
	cr_assert_eq(a->ttp_n, 4);
	cr_assert_eq(a->ttp_no_contact, 1);
	cr_assert_float_eq(a->ttp_mean, 22.875, 1e-12);
	cr_assert_float_eq(a->ttp_median, 15.0, 1e-12);
	size_t want[MX_TTP_BUCKETS] = { 1, 1, 1, 1, 0, 0 };
	for (int b = 0; b < MX_TTP_BUCKETS; b++)
		cr_assert_eq(a->ttp_bucket[b], want[b], "bucket %d", b);
	/* channel value. search: 4 completed orders 100 50 80 100 = 330: AOV
	 * 82.50; GP 60 - 50 + 70 = 80 over 3. social: c f, orders 40 60 10:
	 * AOV 110 / 3; GP (40 + 5) / 2; retention: c and f were not churned
	 * at 2023-12-31 (204 and 305 days), f is at 2024-06-30 (487 days):
	 * 50% */
	const struct mx_acq_channel *se = channel(a, "search"), *so = channel(a, "social");
	cr_assert_eq(se->orders, 4);
	cr_assert_float_eq(se->aov, 82.5, 1e-9);
	cr_assert_float_eq(se->gp_per_buyer, 80.0 / 3, 1e-9);
	cr_assert(isnan(se->retention));
	cr_assert_eq(so->buyers, 2);
	cr_assert_float_eq(so->aov, 110.0 / 3, 1e-9);
	cr_assert_float_eq(so->gp_per_buyer, 22.5, 1e-9);
	cr_assert_eq(so->churn_base, 2);
	cr_assert_eq(so->churn_lost, 1);
	cr_assert_float_eq(so->retention, 50.0, 1e-9);
	/* email: d's gross profit unknown */
	cr_assert_eq(channel(a, "email")->gp_buyers, 0);
	cr_assert(isnan(channel(a, "email")->gp_per_buyer));
	/* all: 9 orders, 495: AOV 55; GP known for 6 buyers: 80 + 45 + 20 */
	cr_assert_eq(a->all.orders, 9);
	cr_assert_float_eq(a->all.aov, 55.0, 1e-9);
	cr_assert_eq(a->all.gp_buyers, 6);
	cr_assert_float_eq(a->all.gp_per_buyer, 145.0 / 6, 1e-9);
	cr_assert(a->costs_known);
	mx_acquisition_free(a);
	crm_dataset_free(ds);
}

Test(acquisition, customer_filter_leaves_spend_undivided)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	context(&ctx, ds);
	/* only a and d: leads L4 and L1 (both converted), no anonymous ones */
	uint8_t in[7] = { 1, 0, 0, 1, 0, 0, 0 };
	ctx.in = in;
	struct mx_acquisition *a = compute(&ctx);
	cr_assert_eq(a->leads.leads, 2);
	cr_assert_eq(a->leads.converted, 2);
	cr_assert(!a->spend_split);
	cr_assert(!a->all.has_spend);
	cr_assert(isnan(a->all.cac));
	cr_assert_eq(a->all.new_customers, 2);
	cr_assert_eq(a->n_cohorts, 0);
	mx_acquisition_free(a);
	crm_dataset_free(ds);
}

Test(acquisition, report)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	int found = 0;
	context(&ctx, ds);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_acquisition_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, NULL, "acquisition.cac", &found), 60.0, 1e-9);
	cr_assert(found);
	cr_assert_float_eq(rp_get(d, NULL, "acquisition.lead_conversion_rate", NULL), 50.0, 1e-9);
	cr_assert_float_eq(rp_get(d, NULL, "acquisition.ttp_median", NULL), 15.0, 1e-9);
	const struct rp_table *t = rp_table_get(d, NULL, "acquisition.cac_by_channel");
	cr_assert_eq(rp_table_rows(t), 5);   /* 4 channels and "all" */
	cr_assert_str_eq(rp_table_str(t, 1, 0), "search");
	cr_assert_float_eq(rp_table_num(t, 1, 3), 70.0, 1e-9);
	cr_assert_str_eq(rp_table_str(t, 4, 0), "all");
	t = rp_table_get(d, NULL, "acquisition.cohort_payback");
	cr_assert_eq(rp_table_rows(t), 6);
	cr_assert_float_eq(rp_table_num(t, 1, 6), 2.0, 1e-9);
	t = rp_table_get(d, NULL, "acquisition.ttp_distribution");
	cr_assert_eq(rp_table_rows(t), MX_TTP_BUCKETS);
	cr_assert_float_eq(rp_table_num(t, 0, 2), 25.0, 1e-9);
	t = rp_table_get(d, NULL, "acquisition.leads_by_source");
	cr_assert_eq(rp_table_rows(t), 2);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* Orders only: no leads, no spend, no contacts: no data, never zero. */
Test(acquisition, absent_inputs_are_no_data)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	int found = 0;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	order(b, "o1", "x", "2024-03-01T00:00:00Z", "10", NULL, NULL);
	order(b, "o2", "y", "2023-03-01T00:00:00Z", "20", NULL, NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	context(&ctx, ds);
	struct mx_acquisition *a = compute(&ctx);
	cr_assert(!a->has_leads);
	cr_assert(isnan(a->leads.rate));
	cr_assert(!a->all.has_spend);
	cr_assert(isnan(a->all.cac));
	cr_assert(isnan(a->all.gp_per_buyer));   /* no order costs */
	cr_assert(!a->costs_known);
	cr_assert_eq(a->all.new_customers, 1);
	cr_assert_eq(a->ttp_no_contact, 1);
	cr_assert(isnan(a->ttp_median));
	mx_acquisition_free(a);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_acquisition_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert(isnan(rp_get(d, NULL, "acquisition.lead_conversion_rate", &found)));
	cr_assert(found);
	cr_assert(isnan(rp_get(d, NULL, "acquisition.leads", &found)));
	cr_assert(found);
	cr_assert(isnan(rp_get(d, NULL, "acquisition.spend", &found)));
	cr_assert(isnan(rp_get(d, NULL, "acquisition.cac", &found)));
	cr_assert(isnan(rp_get(d, NULL, "acquisition.payback_months", &found)));
	cr_assert_eq(rp_table_rows(rp_table_get(d, NULL, "acquisition.ttp_distribution")), 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* The demo business (docs/DEMO.md): each month's spend of a channel and
 * campaign is CAC x the customers whose first order fell in that month x
 * Gamma(50, 1/50) noise, so spend over P / new customers in P comes back
 * to the channel's CAC (search 42, social 30, referral 15, email 9,
 * affiliate 25). The noise (sd 1/sqrt(50) = 14% a row, over some 12 x 3
 * rows per channel) and the 2% duplicate customers (new customers without
 * spend of their own) keep it within 10%. */
Test(acquisition, demo_cac_by_channel)
{
	char dir[256], paths[3][512];
	tmpdir_make(dir, sizeof dir);
	struct demo_opts dopt = { 3000, 42, dir };
	struct crm_err err;
	cr_assert_eq(demo_generate(&dopt, NULL, &err), CRM_OK, "%s", err.msg);
	const char *names[3] = { "customers.csv", "orders.csv", "spend.csv" };
	int ents[3] = { CRM_CUSTOMERS, CRM_ORDERS, CRM_SPEND };
	struct ds_file f[3];
	memset(f, 0, sizeof f);
	for (int i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
		f[i].path = paths[i];
		f[i].ing.entity = ents[i];
		f[i].ing.decimal = '.';
	}
	struct ing_summary sum[3];
	struct crm_dataset *ds;
	cr_assert_eq(ds_load_files(f, 3, sum, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts("2025-06-30T23:59:59Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	struct mx_acquisition *a = compute(&ctx);
	const char *chan[5] = { "search", "social", "referral", "email", "affiliate" };
	double cac[5] = { 42, 30, 15, 9, 25 };
	for (int i = 0; i < 5; i++) {
		const struct mx_acq_channel *cs = channel(a, chan[i]);
		cr_assert_gt(cs->new_customers, 50, "%s", chan[i]);
		cr_assert(fabs(cs->cac / cac[i] - 1) < 0.10, "%s: CAC %g, drawn %g", chan[i],
			  cs->cac, cac[i]);
	}
	mx_acquisition_free(a);
	crm_dataset_free(ds);
	tmpdir_remove(dir);
}

/* A dataset with nothing in it. */
Test(acquisition, empty_dataset)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	context(&ctx, ds);
	struct mx_acquisition *a = compute(&ctx);
	cr_assert_eq(a->n_channels, 0);
	cr_assert(isnan(a->all.cac));
	cr_assert(isnan(a->ttp_mean));
	mx_acquisition_free(a);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_acquisition_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	rp_doc_free(d);
	crm_dataset_free(ds);
}
