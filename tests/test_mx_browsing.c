/* test_mx_browsing.c - the browsing family (src/metrics/browsing.c): sessions
 * by session_id and by the 30-minute rule across a login, a session of one
 * event, ties in time, the three bounce definitions on the same data, dwell
 * time, entry and exit pages, paths, the funnel, the customer filter, an
 * empty period, no web events at all, the report section, and the demo
 * business against a count made here from its CSV. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/entity.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "data/load.h"
#include "demo/demo.h"
#include "metrics/browsing.h"
#include "metrics/mx.h"
#include "report/doc.h"
#include "support.h"

#define EPS 1e-9

static long seq_no;

/* One web event; NULL for a field not given. */
static void web(struct ds_builder *b, const char *sid, const char *at, const char *page,
		const char *cust, const char *vis, const char *event)
{
	struct ent_record r = rec(CRM_WEB_EVENTS, ++seq_no);
	struct crm_err err;
	r.seq = seq_no;
	if (sid)
		set_s(&r, CRM_W_SESSION_ID, sid);
	set_i(&r, CRM_W_OCCURRED_AT, ts(at));
	set_s(&r, CRM_W_PAGE, page);
	if (cust)
		set_s(&r, CRM_W_CUSTOMER_ID, cust);
	if (vis)
		set_s(&r, CRM_W_VISITOR_ID, vis);
	if (event)
		set_s(&r, CRM_W_EVENT, event);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

/* The shop's web events, all on 2024-05-01 unless said (customers a, b, c,
 * d: dense ids 0..3). Nine sessions count as of 2024-06-01T00:00:00Z with
 * the default period [2023-06-01T00:00:01Z, 2024-06-01T00:00:01Z):
 *   S1  a          view /              10:00:00                 one event
 *   S2  anonymous  add_to_cart /p/1    10:00:00                 one event, no view
 *   S3  b          view / 11:00:00, scroll / 11:00:05
 *   S4  anonymous (visitor Vb) view / 12:00:00, then logged in as b:
 *                  view /p/1 12:00:30, add_to_cart /p/1 12:00:40,
 *                  view /cart 12:01:40, purchase /cart 12:03:40
 *   S5  c          view /p/1 13:00:00, view /p/2 13:00:00 (a tie: /p/1
 *                  sorts first), add_to_cart /p/2 13:00:30
 *   S6  c          add_to_cart /p/3 14:00:00 and view /p/3 14:00:00 (a
 *                  tie: add_to_cart sorts first), purchase /cart 14:00:09
 *   S11 anonymous, no visitor: view /help 09:00:00, click /help 09:00:09
 *   no session_id, visitor V7: view / 15:00:00 (anonymous), view /p/1
 *                  15:30:00 (as d; 1800 s later: same session G1), view
 *                  /p/2 16:00:01 (as d; 1801 s later: a new session G2)
 * and two that do not: S8 (a, 2024-06-02: after the as-of) and S9 (a,
 * 2023-01-01: starts before the period). */
static struct crm_dataset *shop(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	web(b, "S1", "2024-05-01T10:00:00Z", "/", "a", "Va", "view");
	web(b, "S2", "2024-05-01T10:00:00Z", "/p/1", NULL, "V2", "add_to_cart");
	web(b, "S3", "2024-05-01T11:00:00Z", "/", "b", "Vb", "view");
	web(b, "S3", "2024-05-01T11:00:05Z", "/", "b", "Vb", "scroll");
	web(b, "S4", "2024-05-01T12:00:00Z", "/", NULL, "Vb", "view");
	web(b, "S4", "2024-05-01T12:00:30Z", "/p/1", "b", "Vb", "view");
	web(b, "S4", "2024-05-01T12:00:40Z", "/p/1", "b", "Vb", "add_to_cart");
	web(b, "S4", "2024-05-01T12:01:40Z", "/cart", "b", "Vb", "view");
	web(b, "S4", "2024-05-01T12:03:40Z", "/cart", "b", "Vb", "purchase");
	web(b, "S5", "2024-05-01T13:00:00Z", "/p/2", "c", NULL, "view");
	web(b, "S5", "2024-05-01T13:00:00Z", "/p/1", "c", NULL, "view");
	web(b, "S5", "2024-05-01T13:00:30Z", "/p/2", "c", NULL, "add_to_cart");
	web(b, "S6", "2024-05-01T14:00:00Z", "/p/3", "c", NULL, "view");
	web(b, "S6", "2024-05-01T14:00:00Z", "/p/3", "c", NULL, "add_to_cart");
	web(b, "S6", "2024-05-01T14:00:09Z", "/cart", "c", NULL, "purchase");
	web(b, "S11", "2024-05-01T09:00:00Z", "/help", NULL, NULL, "view");
	web(b, "S11", "2024-05-01T09:00:09Z", "/help", NULL, NULL, "click");
	web(b, NULL, "2024-05-01T15:00:00Z", "/", NULL, "V7", "view");
	web(b, NULL, "2024-05-01T15:30:00Z", "/p/1", "d", "V7", "view");
	web(b, NULL, "2024-05-01T16:00:01Z", "/p/2", "d", "V7", NULL);   /* no event: a view */
	web(b, "S8", "2024-06-02T00:00:00Z", "/", "a", "Va", "view");
	web(b, "S9", "2023-01-01T00:00:00Z", "/", "a", "Va", "view");
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 4);
	return ds;
}

static void ctx_of(struct mx_ctx *ctx, const struct crm_dataset *ds, int bounce,
		   const char *as_of)
{
	struct mx_opts o;
	struct crm_err err;
	mx_opts_default(&o);
	o.bounce = bounce;
	if (as_of)
		o.as_of = ts(as_of);
	cr_assert_eq(mx_ctx_init(ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
}

static void compute(const struct mx_ctx *ctx, struct mx_browsing *r)
{
	struct crm_err err;
	cr_assert_eq(mx_browsing_compute(ctx, r, &err), CRM_OK, "%s", err.msg);
}

static const char *page_of(const struct crm_dataset *ds, uint32_t code)
{
	const struct crm_column *c = &ds->t[CRM_WEB_EVENTS].col[CRM_W_PAGE];
	return c->dict.bytes + c->dict.off[code];
}

static void expect_page(const struct crm_dataset *ds, const struct mx_brow_page *p,
			const char *text)
{
	cr_expect_str_eq(page_of(ds, p->page), text);
}

Test(browsing, sessions_durations_views_and_bounce_matomo)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct mx_browsing r;
	ctx_of(&ctx, ds, MX_BOUNCE_MATOMO, "2024-06-01T00:00:00Z");
	compute(&ctx, &r);
	cr_assert(r.has_input);
	/* S1 S2 S3 S4 S5 S6 S11 by session_id, G1 G2 by the 30-minute rule */
	cr_expect_eq(r.sessions, 9);
	cr_expect_eq(r.sessions_by_id, 7);
	cr_expect_eq(r.sessions_by_gap, 2);
	/* events 1 + 1 + 2 + 5 + 3 + 3 + 2 + 2 + 1 = 20; page views (view or
	 * no event) 1 + 0 + 1 + 3 + 2 + 1 + 1 + 2 + 1 = 12 */
	cr_expect_eq(r.events, 20);
	cr_expect_eq(r.page_views, 12);
	cr_expect_float_eq(r.views_per_session, 12.0 / 9, EPS);
	cr_expect_float_eq(r.events_per_session, 20.0 / 9, EPS);
	/* durations S1 0, S2 0, S3 5, S4 220, S5 30, S6 9, S11 9, G1 1800,
	 * G2 0: sorted 0 0 0 5 9 9 30 220 1800, median the 5th = 9; mean
	 * 2073 / 9 */
	cr_expect_float_eq(r.duration_median_s, 9.0, EPS);
	cr_expect_float_eq(r.duration_mean_s, 2073.0 / 9, EPS);
	/* matomo (exactly one event): S1, S2, G2 = 3 of 9
	 * ga4 (< 10 s, <= 1 view, no add_to_cart/purchase): S1, S3 (5 s, one
	 *   view and a scroll), S11 (9 s, one view and a click), G2 = 4; not S2
	 *   (an add_to_cart), S6 (9 s but an add_to_cart), G1 (1800 s)
	 * posthog (one view, no other event, < 10 s): S1, G2 = 2; not S2 (no
	 *   view), S3 and S11 (another event) */
	cr_expect_eq(r.bounced[MX_BOUNCE_MATOMO], 3);
	cr_expect_eq(r.bounced[MX_BOUNCE_GA4], 4);
	cr_expect_eq(r.bounced[MX_BOUNCE_POSTHOG], 2);
	cr_expect_float_eq(r.bounce_rate[MX_BOUNCE_MATOMO], 300.0 / 9, EPS);
	cr_expect_float_eq(r.bounce_rate[MX_BOUNCE_GA4], 400.0 / 9, EPS);
	cr_expect_float_eq(r.bounce_rate[MX_BOUNCE_POSTHOG], 200.0 / 9, EPS);
	cr_expect_eq(r.bounce_def, MX_BOUNCE_MATOMO);
	crm_dataset_free(ds);
}

Test(browsing, dwell_time_per_page_view)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct mx_browsing r;
	ctx_of(&ctx, ds, MX_BOUNCE_MATOMO, "2024-06-01T00:00:00Z");
	compute(&ctx, &r);
	/* a page view's dwell = time to the next event of its session; a
	 * session's last event has none:
	 *   S3 / 5;  S4 / 30, /p/1 10 (to the add_to_cart), /cart 120 (to the
	 *   purchase);  S5 /p/1 0 (the tie), /p/2 30;  S6 /p/3 9 (its view
	 *   sorts after the add_to_cart at the same second: to the purchase);
	 *   S11 /help 9;  G1 / 1800.  S1, S2, G2 and the last views of G1 none.
	 * 9 times: sorted 0 5 9 9 10 30 30 120 1800, median 10, mean 2013 / 9 */
	cr_expect_eq(r.n_dwell, 9);
	cr_expect_float_eq(r.dwell_median_s, 10.0, EPS);
	cr_expect_float_eq(r.dwell_mean_s, 2013.0 / 9, EPS);
	/* most viewed: / 4 (S1 S3 S4 G1), /p/1 3 (S4 S5 G1), /p/2 2 (S5 G2),
	 * then one view each in byte order: /cart, /help, /p/3 */
	cr_assert_eq(r.n_pages, 6);
	const char *order[] = { "/", "/p/1", "/p/2", "/cart", "/help", "/p/3" };
	const size_t views[] = { 4, 3, 2, 1, 1, 1 }, n_dwell[] = { 3, 2, 1, 1, 1, 1 };
	/* /: 5, 30, 1800: mean 611.67, median 30;  /p/1: 10, 0: mean 5,
	 * median 5;  /p/2 30;  /cart 120;  /help 9;  /p/3 9 */
	const double mean[] = { 1835.0 / 3, 5, 30, 120, 9, 9 }, median[] = { 30, 5, 30, 120, 9, 9 };
	for (size_t i = 0; i < 6; i++) {
		expect_page(ds, &r.pages[i], order[i]);
		cr_expect_eq(r.pages[i].views, views[i], "%s", order[i]);
		cr_expect_eq(r.pages[i].n_dwell, n_dwell[i], "%s", order[i]);
		cr_expect_float_eq(r.pages[i].dwell_mean_s, mean[i], EPS, "%s", order[i]);
		cr_expect_float_eq(r.pages[i].dwell_median_s, median[i], EPS, "%s", order[i]);
	}
	crm_dataset_free(ds);
}

Test(browsing, entry_and_exit_pages)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct mx_browsing r;
	ctx_of(&ctx, ds, MX_BOUNCE_MATOMO, "2024-06-01T00:00:00Z");
	compute(&ctx, &r);
	/* entry = page of the first event: / S1 S3 S4 G1 (bounced: S1),
	 * /p/1 S2 S5 (bounced: S2), then one each: /help S11, /p/2 G2
	 * (bounced), /p/3 S6 (its first event is the add_to_cart) */
	cr_assert_eq(r.n_entry, 5);
	const char *entry[] = { "/", "/p/1", "/help", "/p/2", "/p/3" };
	const size_t entries[] = { 4, 2, 1, 1, 1 }, bounces[] = { 1, 1, 0, 1, 0 };
	for (size_t i = 0; i < 5; i++) {
		expect_page(ds, &r.entry[i], entry[i]);
		cr_expect_eq(r.entry[i].entries, entries[i], "%s", entry[i]);
		cr_expect_eq(r.entry[i].bounces, bounces[i], "%s", entry[i]);
	}
	/* exit = page of the last event: / S1 S3, /cart S4 S6, /p/1 S2 G1,
	 * /p/2 S5 G2 (2 each, in byte order), /help S11; sessions with an
	 * event on the page: / 4 (S1 S3 S4 G1), /cart 2 (S4 S6), /p/1 4 (S2
	 * S4 S5 G1), /p/2 2 (S5 G2), /help 1 */
	cr_assert_eq(r.n_exit, 5);
	const char *exit_p[] = { "/", "/cart", "/p/1", "/p/2", "/help" };
	const size_t exits[] = { 2, 2, 2, 2, 1 }, visits[] = { 4, 2, 4, 2, 1 };
	for (size_t i = 0; i < 5; i++) {
		expect_page(ds, &r.exit[i], exit_p[i]);
		cr_expect_eq(r.exit[i].exits, exits[i], "%s", exit_p[i]);
		cr_expect_eq(r.exit[i].visits, visits[i], "%s", exit_p[i]);
	}
	/* with ga4, entry / has 2 bounces (S1, S3) */
	ctx_of(&ctx, ds, MX_BOUNCE_GA4, "2024-06-01T00:00:00Z");
	compute(&ctx, &r);
	expect_page(ds, &r.entry[0], "/");
	cr_expect_eq(r.entry[0].bounces, 2);
	crm_dataset_free(ds);
}

Test(browsing, paths_and_funnel)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct mx_browsing r;
	ctx_of(&ctx, ds, MX_BOUNCE_MATOMO, "2024-06-01T00:00:00Z");
	compute(&ctx, &r);
	/* first three page views: S1 /, S3 /, S4 / > /p/1 > /cart, S5 /p/1 >
	 * /p/2, S6 /p/3, S11 /help, G1 / > /p/1, G2 /p/2 (S2 has no view):
	 * "/" twice, the others once in order of their page texts */
	cr_assert_eq(r.n_paths, 7);
	const char *paths[7][3] = {
		{ "/" }, { "/", "/p/1" }, { "/", "/p/1", "/cart" }, { "/help" },
		{ "/p/1", "/p/2" }, { "/p/2" }, { "/p/3" },
	};
	const size_t len[] = { 1, 2, 3, 1, 2, 1, 1 }, sessions[] = { 2, 1, 1, 1, 1, 1, 1 };
	for (size_t i = 0; i < 7; i++) {
		cr_expect_eq(r.paths[i].n_pages, len[i], "path %zu", i);
		cr_expect_eq(r.paths[i].sessions, sessions[i], "path %zu", i);
		for (size_t k = 0; k < len[i] && k < r.paths[i].n_pages; k++)
			cr_expect_str_eq(page_of(ds, r.paths[i].page[k]), paths[i][k], "path %zu", i);
	}
	/* funnel: a view in 8 sessions (not S2); an add_to_cart not before the
	 * first view in S4, S5 and S6 (the same second as its view); a
	 * purchase not before it in S4 and S6 */
	cr_expect_eq(r.funnel[MX_FUNNEL_VIEW], 8);
	cr_expect_eq(r.funnel[MX_FUNNEL_ADD], 3);
	cr_expect_eq(r.funnel[MX_FUNNEL_PURCHASE], 2);
	cr_expect_float_eq(r.funnel_pct[MX_FUNNEL_VIEW], 800.0 / 9, EPS);
	cr_expect_float_eq(r.funnel_pct[MX_FUNNEL_ADD], 37.5, EPS);
	cr_expect_float_eq(r.funnel_pct[MX_FUNNEL_PURCHASE], 200.0 / 3, EPS);
	cr_expect_float_eq(r.funnel_drop_pct[MX_FUNNEL_ADD], 62.5, EPS);
	cr_expect_float_eq(r.funnel_drop_pct[MX_FUNNEL_PURCHASE], 100.0 / 3, EPS);
	cr_expect_float_eq(r.conversion_pct, 25.0, EPS);
	crm_dataset_free(ds);
}

Test(browsing, timeout_option_and_customer_filter)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct mx_browsing r;
	struct crm_err err;
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts("2024-06-01T00:00:00Z");
	/* 1799 s: V7's first two events, 1800 s apart, are two sessions too */
	o.session_timeout_s = 1799;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	cr_expect_eq(r.sessions, 10);
	cr_expect_eq(r.sessions_by_gap, 3);
	/* one hour: V7's three events are one session */
	o.session_timeout_s = 3600;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	cr_expect_eq(r.sessions, 8);
	cr_expect_eq(r.sessions_by_gap, 1);

	/* customer b only (id 1): S3, and S4 whose first event is anonymous
	 * but whose first customer is b: 2 sessions, 7 events, duration 5 and
	 * 220 */
	uint8_t in[4] = { 0, 1, 0, 0 };
	ctx_of(&ctx, ds, MX_BOUNCE_GA4, "2024-06-01T00:00:00Z");
	ctx.in = in;
	compute(&ctx, &r);
	cr_expect_eq(r.sessions, 2);
	cr_expect_eq(r.events, 7);
	cr_expect_float_eq(r.duration_median_s, 112.5, EPS);
	cr_expect_eq(r.bounced[MX_BOUNCE_GA4], 1);   /* S3 */
	/* customer d (id 3): G1 (its first event anonymous) and G2 */
	memcpy(in, (uint8_t[4]){ 0, 0, 0, 1 }, 4);
	compute(&ctx, &r);
	cr_expect_eq(r.sessions, 2);
	cr_expect_eq(r.sessions_by_gap, 2);
	cr_expect_eq(r.page_views, 3);

	/* sessions per customer in the whole of May: a 1 (S1), b 2, c 2, d 2 */
	uint32_t n[4];
	cr_assert_eq(mx_browsing_sessions_per_customer(&ctx, ts("2024-05-01T00:00:00Z"),
						       ts("2024-06-01T00:00:00Z"), n, &err), CRM_OK);
	cr_expect_eq(n[0], 1);
	cr_expect_eq(n[1], 2);
	cr_expect_eq(n[2], 2);
	cr_expect_eq(n[3], 2);
	crm_dataset_free(ds);
}

/* Sessions of a day or more (a session_id is never cut): medians over
 * values beyond 18 hours as well as short ones. */
Test(browsing, long_sessions_and_dwell_medians)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* L1: views at 0, 10 s and 100,000 s (dwell 10 and 99,990 on /x);
	 * L2: views 0 and 200,000 s (dwell 200,000 on /x); L3: one view */
	web(b, "L1", "2024-03-01T00:00:00Z", "/x", NULL, NULL, "view");
	web(b, "L1", "2024-03-01T00:00:10Z", "/x", NULL, NULL, "view");
	web(b, "L1", "2024-03-02T03:46:40Z", "/y", NULL, NULL, "view");
	web(b, "L2", "2024-03-01T00:00:00Z", "/x", NULL, NULL, "view");
	web(b, "L2", "2024-03-03T07:33:20Z", "/y", NULL, NULL, "view");
	web(b, "L3", "2024-03-05T00:00:00Z", "/y", NULL, NULL, "view");
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	struct mx_browsing r;
	ctx_of(&ctx, ds, MX_BOUNCE_MATOMO, NULL);
	compute(&ctx, &r);
	/* durations 100,000, 200,000, 0: median 100,000, mean 100,000 */
	cr_expect_eq(r.sessions, 3);
	cr_expect_float_eq(r.duration_median_s, 100000.0, EPS);
	cr_expect_float_eq(r.duration_mean_s, 100000.0, EPS);
	/* dwell 10, 99,990, 200,000: median 99,990 */
	cr_expect_eq(r.n_dwell, 3);
	cr_expect_float_eq(r.dwell_median_s, 99990.0, EPS);
	/* /x is both the most viewed page and the first entry page: its
	 * median (of 10, 99,990, 200,000) is the same in both lists */
	expect_page(ds, &r.pages[0], "/x");
	expect_page(ds, &r.entry[0], "/x");
	cr_expect_float_eq(r.pages[0].dwell_median_s, 99990.0, EPS);
	cr_expect_float_eq(r.entry[0].dwell_median_s, 99990.0, EPS);
	cr_expect_float_eq(r.pages[0].dwell_mean_s, 300000.0 / 3, EPS);
	/* with L3 out of the period: durations 100,000 and 200,000, median
	 * 150,000; as of 03-02T12:00 L2 has one event left: durations 100,000
	 * and 0, median 50,000 */
	struct mx_opts o;
	mx_opts_default(&o);
	o.p_end = ts("2024-03-04T00:00:00Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	cr_expect_float_eq(r.duration_median_s, 150000.0, EPS);
	o.as_of = ts("2024-03-02T12:00:00Z");
	o.p_end = CRM_NA;
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	cr_expect_eq(r.sessions, 2);
	cr_expect_float_eq(r.duration_median_s, 50000.0, EPS);
	crm_dataset_free(ds);
}

Test(browsing, empty_period_is_zero_sessions_and_no_rates)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct mx_browsing r;
	struct crm_err err;
	struct mx_opts o;
	mx_opts_default(&o);
	o.as_of = ts("2024-06-01T00:00:00Z");
	o.p_start = ts("2024-02-01T00:00:00Z");
	o.p_end = ts("2024-03-01T00:00:00Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	cr_expect(r.has_input);
	cr_expect_eq(r.sessions, 0);
	cr_expect(isnan(r.views_per_session));
	cr_expect(isnan(r.duration_median_s));
	cr_expect(isnan(r.bounce_rate[MX_BOUNCE_MATOMO]));
	cr_expect(isnan(r.dwell_median_s));
	cr_expect(isnan(r.funnel_pct[MX_FUNNEL_VIEW]));
	cr_expect(isnan(r.conversion_pct));
	cr_expect_eq(r.n_entry + r.n_exit + r.n_pages + r.n_paths, 0);

	/* the report: 0 sessions (a count), the rates no data */
	struct rp_doc *d = rp_doc_new();
	cr_assert_not_null(d);
	cr_assert_eq(mx_browsing_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	int found;
	cr_expect_float_eq(rp_get(d, NULL, "browsing.sessions", &found), 0.0, EPS);
	cr_expect(found);
	cr_expect(isnan(rp_get(d, NULL, "browsing.bounce_rate", &found)));
	cr_expect(found);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(browsing, no_web_events_is_no_data)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_order(b, "o1", "a", "2024-01-01", "10.00", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	struct mx_browsing r;
	ctx_of(&ctx, ds, MX_BOUNCE_POSTHOG, NULL);
	compute(&ctx, &r);
	cr_expect_eq(r.has_input, 0);
	cr_expect_eq(r.sessions, 0);
	cr_expect(isnan(r.bounce_rate[MX_BOUNCE_POSTHOG]));
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_browsing_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	int found;
	const char *ids[] = { "browsing.sessions", "browsing.page_views", "browsing.bounce_rate",
			      "browsing.duration_median", "browsing.dwell_median", "browsing.conversion" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		cr_expect(isnan(rp_get(d, NULL, ids[i], &found)), "%s", ids[i]);
		cr_expect(found, "%s", ids[i]);
	}
	cr_expect_eq(rp_doc_status(d, &err), CRM_OK);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* The text of the report of ds (caller frees). */
static char *report_text(const struct mx_ctx *ctx)
{
	struct crm_err err;
	struct rp_doc *d = rp_doc_new();
	cr_assert_not_null(d);
	cr_assert_eq(mx_browsing_report(ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(rp_render_text(d, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	rp_doc_free(d);
	return text;
}

Test(browsing, report_names_the_bounce_definition)
{
	struct crm_dataset *ds = shop();
	struct mx_ctx ctx;
	struct crm_err err;
	const char *names[] = { "matomo", "ga4", "posthog" };
	const double rates[] = { 300.0 / 9, 400.0 / 9, 200.0 / 9 };
	for (int def = 0; def < 3; def++) {
		ctx_of(&ctx, ds, def, "2024-06-01T00:00:00Z");
		char *text = report_text(&ctx);
		char want[64];
		snprintf(want, sizeof want, "bounce rate (%s)", names[def]);
		cr_expect_not_null(strstr(text, want), "%s not in:\n%s", want, text);
		free(text);
		struct rp_doc *d = rp_doc_new();
		cr_assert_eq(mx_browsing_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
		cr_expect_float_eq(rp_get(d, NULL, "browsing.bounce_rate", NULL), rates[def], EPS);
		cr_expect_float_eq(rp_get(d, NULL, "browsing.sessions", NULL), 9.0, EPS);
		/* funnel table: sessions 9, view 8, add_to_cart 3 (lost 5, drop
		 * 62.5 %), purchase 2 */
		const struct rp_table *t = rp_table_get(d, NULL, "browsing.funnel");
		cr_assert_not_null(t);
		cr_assert_eq(rp_table_rows(t), 4);
		cr_expect_str_eq(rp_table_str(t, 2, 0), "add_to_cart");
		cr_expect_float_eq(rp_table_num(t, 2, 1), 3.0, EPS);
		cr_expect_float_eq(rp_table_num(t, 2, 3), 5.0, EPS);
		cr_expect_float_eq(rp_table_num(t, 2, 4), 62.5, EPS);
		t = rp_table_get(d, NULL, "browsing.paths");
		cr_assert_not_null(t);
		cr_expect_str_eq(rp_table_str(t, 2, 0), "/ > /p/1 > /cart");
		t = rp_table_get(d, NULL, "browsing.exit_pages");
		cr_assert_not_null(t);
		cr_expect_str_eq(rp_table_str(t, 1, 0), "/cart");
		cr_expect_float_eq(rp_table_num(t, 1, 3), 100.0, EPS);
		rp_doc_free(d);
	}
	/* an order channel breakdown: a note, no values */
	ctx.order_channel = 1;
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_browsing_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	int found = 1;
	rp_get(d, NULL, "browsing.sessions", &found);
	cr_expect_eq(found, 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------ the demo */

/* A web event row of the demo CSV, as far as the count below needs it. */
struct wrow {
	char sid[16], vis[16];
	int64_t at;
};

static int cmp_wrow_vis(const void *pa, const void *pb)
{
	const struct wrow *a = pa, *b = pb;
	int c = strcmp(a->vis, b->vis);
	if (c)
		return c;
	return (a->at > b->at) - (a->at < b->at);
}

static int cmp_wrow_sid(const void *pa, const void *pb)
{
	const struct wrow *a = pa, *b = pb;
	int c = strcmp(a->sid, b->sid);
	if (c)
		return c;
	return (a->at > b->at) - (a->at < b->at);
}

/* Reads web_events.csv the simple way (no field of the demo's holds a
 * comma or a quote): the rows the importer keeps (a session_id, a time
 * that parses, a page). */
static struct wrow *read_web(const char *path, size_t *n)
{
	size_t len;
	char *text = read_file(path, &len);
	cr_assert_not_null(text);
	size_t cap = count_lines(path), k = 0;
	struct wrow *w = calloc(cap, sizeof *w);
	char *save = NULL, *line = strtok_r(text, "\n", &save);
	cr_assert_str_eq(line, "session_id,occurred_at,page,customer_id,visitor_id,event,referrer,channel");
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *f[8];
		size_t nf = 0;
		for (char *p = line; nf < 8; ) {
			f[nf++] = p;
			char *c = strchr(p, ',');
			if (!c)
				break;
			*c = '\0';
			p = c + 1;
		}
		cr_assert_eq(nf, 8, "%s", line);
		const char *why;
		int64_t at;
		if (!f[0][0] || !f[2][0] || ts_parse_iso(f[1], strlen(f[1]), &at, &why) != 0)
			continue;
		snprintf(w[k].sid, sizeof w[k].sid, "%s", f[0]);
		snprintf(w[k].vis, sizeof w[k].vis, "%s", f[4]);
		w[k].at = at;
		k++;
	}
	free(text);
	*n = k;
	return w;
}

/* Sessions starting in [from, to), counted from the rows here: by
 * session_id (by_sid) or by visitor with the 30-minute rule. */
static size_t count_sessions(struct wrow *w, size_t n, int by_sid, int64_t from, int64_t to)
{
	qsort(w, n, sizeof *w, by_sid ? cmp_wrow_sid : cmp_wrow_vis);
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		int starts = i == 0 || (by_sid ? strcmp(w[i].sid, w[i - 1].sid) != 0
					       : strcmp(w[i].vis, w[i - 1].vis) != 0 ||
						 w[i].at - w[i - 1].at > 1800);
		if (starts && w[i].at >= from && w[i].at < to)
			count++;
	}
	return count;
}

Test(browsing, demo_sessions_match_a_count_from_the_csv)
{
	char dir[256], path[512];
	tmpdir_make(dir, sizeof dir);
	struct demo_opts dopt = { 5000, 42, dir };
	struct demo_counts dc;
	struct crm_err err;
	cr_assert_eq(demo_generate(&dopt, &dc, &err), CRM_OK, "%s", err.msg);
	snprintf(path, sizeof path, "%s/web_events.csv", dir);
	size_t n;
	struct wrow *w = read_web(path, &n);

	struct ds_file f;
	memset(&f, 0, sizeof f);
	f.path = path;
	f.ing.entity = CRM_WEB_EVENTS;
	struct ing_summary sum;
	struct crm_dataset *ds;
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq((size_t)sum.stored, n);

	/* every session up to the last event (a period from 2000) */
	struct mx_opts o;
	struct mx_ctx ctx;
	struct mx_browsing r;
	mx_opts_default(&o);
	o.p_start = ts("2000-01-01T00:00:00Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	size_t all = count_sessions(w, n, 1, ctx.o.p_start, ctx.o.p_end);
	cr_expect_eq(r.sessions, all);
	cr_expect_eq(r.sessions_by_id, all);
	cr_expect_gt(all, 17000);
	cr_expect_lt(all, 20000);
	cr_expect_eq(r.events, n);

	/* default settings: sessions starting in the 12 months before A */
	mx_opts_default(&o);
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	cr_expect_eq(r.sessions, count_sessions(w, n, 1, ctx.o.p_start, ctx.o.p_end));
	/* the demo's shape (src/demo/activity.c): sessions without an order
	 * bounce with probability 0.35 and a bounce is one view */
	cr_expect_gt(r.bounce_rate[MX_BOUNCE_MATOMO], 20.0);
	cr_expect_lt(r.bounce_rate[MX_BOUNCE_MATOMO], 35.0);
	cr_expect_eq(r.bounced[MX_BOUNCE_MATOMO], r.bounced[MX_BOUNCE_POSTHOG]);
	cr_expect_gt(r.funnel[MX_FUNNEL_PURCHASE], 0);
	crm_dataset_free(ds);

	/* without the session_id column: the 30-minute rule by visitor */
	f.ing.fields = ING_FIELD(CRM_W_OCCURRED_AT) | ING_FIELD(CRM_W_PAGE) |
		       ING_FIELD(CRM_W_VISITOR_ID) | ING_FIELD(CRM_W_EVENT);
	cr_assert_eq(ds_load_files(&f, 1, &sum, &ds, &err), CRM_OK, "%s", err.msg);
	mx_opts_default(&o);
	o.p_start = ts("2000-01-01T00:00:00Z");
	cr_assert_eq(mx_ctx_init(&ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
	compute(&ctx, &r);
	size_t by_gap = count_sessions(w, n, 0, ctx.o.p_start, ctx.o.p_end);
	cr_expect_eq(r.sessions, by_gap);
	cr_expect_eq(r.sessions_by_gap, by_gap);
	crm_dataset_free(ds);
	free(w);
	tmpdir_remove(dir);
}
