/* test_mx_service.c - the service and interactions family
 * (src/metrics/service.c) on hand-made data whose every number is worked
 * out in the comments: first response and resolution times with ties, SLA
 * with a pending ticket, open and never-answered tickets, the breakdowns;
 * interaction channels, social media per month with empty months and the
 * sentiment of posts; feedback topics; campaign participants and loyalty
 * uplift with its windows; the engagement score with ties and missing
 * components; the customer filter; absent inputs ("no data"); and the demo
 * business, whose response times differ by channel as planted. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "data/load.h"
#include "demo/demo.h"
#include "metrics/mx.h"
#include "metrics/service.h"
#include "report/doc.h"
#include "support.h"

#define H 3600

static void add(struct ds_builder *b, struct ent_record *r)
{
	struct crm_err err;
	cr_assert_eq(ds_builder_add(b, r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

static void add_customer(struct ds_builder *b, const char *id)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 0);
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	add(b, &r);
}

/* A ticket opened at `opened`, answered and resolved so many hours later
 * (< 0: never), optional channel, topic, priority, satisfaction (0: none). */
static void add_ticket(struct ds_builder *b, const char *id, const char *cust, const char *opened,
		       double first_h, double resolved_h, const char *channel, const char *topic,
		       const char *priority, int sat)
{
	struct ent_record r = rec(CRM_TICKETS, 0);
	int64_t o = ts(opened);
	set_s(&r, CRM_T_TICKET_ID, id);
	set_s(&r, CRM_T_CUSTOMER_ID, cust);
	set_i(&r, CRM_T_OPENED_AT, o);
	if (first_h >= 0)
		set_i(&r, CRM_T_FIRST_RESPONSE_AT, o + (int64_t)(first_h * H));
	if (resolved_h >= 0)
		set_i(&r, CRM_T_RESOLVED_AT, o + (int64_t)(resolved_h * H));
	if (channel)
		set_s(&r, CRM_T_CHANNEL, channel);
	if (topic)
		set_s(&r, CRM_T_TOPIC, topic);
	if (priority)
		set_s(&r, CRM_T_PRIORITY, priority);
	if (sat)
		set_i(&r, CRM_T_SATISFACTION, sat);
	add(b, &r);
}

static void add_ia(struct ds_builder *b, const char *id, const char *cust, const char *at,
		   const char *channel, const char *campaign, int sat, const char *text)
{
	struct ent_record r = rec(CRM_INTERACTIONS, 0);
	set_s(&r, CRM_I_INTERACTION_ID, id);
	set_s(&r, CRM_I_CUSTOMER_ID, cust);
	set_i(&r, CRM_I_OCCURRED_AT, ts(at));
	set_s(&r, CRM_I_CHANNEL, channel);
	if (campaign)
		set_s(&r, CRM_I_CAMPAIGN, campaign);
	if (sat)
		set_i(&r, CRM_I_SATISFACTION, sat);
	if (text)
		set_s(&r, CRM_I_TEXT, text);
	add(b, &r);
}

static void add_web(struct ds_builder *b, const char *session, const char *cust, const char *at)
{
	struct ent_record r = rec(CRM_WEB_EVENTS, 0);
	set_s(&r, CRM_W_SESSION_ID, session);
	set_s(&r, CRM_W_CUSTOMER_ID, cust);
	set_i(&r, CRM_W_OCCURRED_AT, ts(at));
	set_s(&r, CRM_W_PAGE, "/");
	add(b, &r);
}

static void add_fb(struct ds_builder *b, const char *id, const char *cust, const char *at,
		   const char *kind, int score, const char *topic)
{
	struct ent_record r = rec(CRM_FEEDBACK, 0);
	set_s(&r, CRM_F_RESPONSE_ID, id);
	set_s(&r, CRM_F_CUSTOMER_ID, cust);
	set_i(&r, CRM_F_ANSWERED_AT, ts(at));
	set_s(&r, CRM_F_KIND, kind);
	set_i(&r, CRM_F_SCORE, score);
	if (topic)
		set_s(&r, CRM_F_TOPIC, topic);
	add(b, &r);
}

static struct crm_dataset *finish(struct ds_builder *b)
{
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

static struct ds_builder *builder(void)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	return b;
}

static void ctx_for(struct mx_ctx *ctx, const struct crm_dataset *ds, const char *as_of,
		    const char *p_start, const char *p_end)
{
	struct mx_opts o;
	struct crm_err err;
	mx_opts_default(&o);
	o.as_of = ts(as_of);
	o.p_start = ts(p_start);
	o.p_end = ts(p_end);
	o.lexicon_dir = "data/lexicon";
	cr_assert_eq(mx_ctx_init(ctx, ds, &o, &err), CRM_OK, "%s", err.msg);
}

static struct mx_service compute(const struct mx_ctx *ctx)
{
	struct mx_service s;
	struct crm_err err;
	cr_assert_eq(mx_service_compute(ctx, &s, &err), CRM_OK, "%s", err.msg);
	return s;
}

static const struct mx_ticket_stats *group(const struct mx_service *s, int by, const char *name)
{
	for (size_t i = 0; i < s->n_by[by]; i++)
		if (strcmp(s->by[by][i].name, name) == 0)
			return &s->by[by][i].s;
	cr_assert_fail("no group %s", name);
	return NULL;
}

#define EQ(a, b) cr_assert_float_eq((a), (b), 1e-9)

/* ---------------------------------------------------------------- tickets */

/* A = 2024-06-30T12:00Z, P = [2024-01-01, 2024-07-01), SLA 24 h.
 *  T1  a 01-10 email  delivery high    answered +2 h, resolved +10 h, sat 5
 *  T2  a 02-10 email  returns  normal  +30 h, +50 h, sat 2
 *  T3  b 03-01 chat   delivery normal  +1 h, +4 h, sat 4
 *  T4  b 03-02 chat   delivery low     +1 h (a tie with T3), never resolved
 *  T5  c 04-01 email  (none)   normal  never answered: older than 24 h at A
 *  T6  c 06-30T06 phone returns urgent never answered, 6 h old at A: pending
 *  T7  d 2023-12-31T12 email: before P, open: only in the backlog
 *  T8  d 06-29T12 chat returns normal  answered 06-30T18, after A: unanswered
 *      at A, exactly 24 h old: past the target
 *  T9  e 05-01 phone  delivery normal  +5 h, +20 h, sat 3
 *  T10 e 07-05: after A, nowhere */
static struct crm_dataset *ticket_set(void)
{
	struct ds_builder *b = builder();
	add_ticket(b, "T1", "a", "2024-01-10", 2, 10, "email", "delivery", "high", 5);
	add_ticket(b, "T2", "a", "2024-02-10", 30, 50, "email", "returns", "normal", 2);
	add_ticket(b, "T3", "b", "2024-03-01", 1, 4, "chat", "delivery", "normal", 4);
	add_ticket(b, "T4", "b", "2024-03-02", 1, -1, "chat", "delivery", "low", 0);
	add_ticket(b, "T5", "c", "2024-04-01", -1, -1, "email", NULL, "normal", 0);
	add_ticket(b, "T6", "c", "2024-06-30T06:00:00Z", -1, -1, "phone", "returns", "urgent", 0);
	add_ticket(b, "T7", "d", "2023-12-31T12:00:00Z", -1, -1, "email", "returns", "normal", 0);
	add_ticket(b, "T8", "d", "2024-06-29T12:00:00Z", 30, -1, "chat", "returns", "normal", 0);
	add_ticket(b, "T9", "e", "2024-05-01", 5, 20, "phone", "delivery", "normal", 3);
	add_ticket(b, "T10", "e", "2024-07-05", 1, 2, "phone", "delivery", "normal", 5);
	return finish(b);
}

Test(service, tickets_by_hand)
{
	struct crm_dataset *ds = ticket_set();
	struct mx_ctx ctx;
	ctx_for(&ctx, ds, "2024-06-30T12:00:00Z", "2024-01-01", "2024-07-01");
	struct mx_service s = compute(&ctx);
	const struct mx_ticket_stats *t = &s.tickets;
	cr_assert(s.has_tickets);
	/* in P: T1 T2 T3 T4 T5 T6 T8 T9; answered by A: T1 T2 T3 T4 T9 */
	cr_assert_eq(t->tickets, 8);
	cr_assert_eq(t->answered, 5);
	cr_assert_eq(t->never_answered, 3);
	/* resolved by A: T1 T2 T3 T9; open: T4 T5 T6 T8 */
	cr_assert_eq(t->resolved, 4);
	cr_assert_eq(t->open, 4);
	/* backlog: T4 T5 T6 T7 T8 */
	cr_assert_eq(s.backlog, 5);
	/* first response hours 1 1 2 5 30: median 2, mean 39/5 = 7.8, p90 at
	 * h = 4 x 0.9 = 3.6: 5 + 0.6 (30 - 5) = 20 */
	EQ(t->frt_median, 2.0);
	EQ(t->frt_mean, 7.8);
	EQ(t->frt_p90, 20.0);
	/* resolution 4 10 20 50: median (10 + 20) / 2 = 15, mean 21, p90 at
	 * h = 2.7: 20 + 0.7 x 30 = 41 */
	EQ(t->res_median, 15.0);
	EQ(t->res_mean, 21.0);
	EQ(t->res_p90, 41.0);
	/* SLA: within 24 h T1 T3 T4 T9 = 4; base: 5 answered + T5 + T8 (24 h
	 * old at A: the target has passed) = 7; T6 pending. 4/7 */
	cr_assert_eq(t->sla_met, 4);
	cr_assert_eq(t->sla_base, 7);
	cr_assert_eq(s.sla_pending, 1);
	EQ(t->sla_pct, 400.0 / 7.0);
	/* satisfaction 5 2 4 3: 2 of 4 */
	EQ(t->sat_pct, 50.0);

	/* email T1 T2 T5: FRT 2, 30: median 16, mean 16, p90 2 + 0.9 x 28 =
	 * 27.2; SLA T1 of T1 T2 T5: 1/3; resolution 10, 50: p90 46; open T5 */
	const struct mx_ticket_stats *e = group(&s, MX_BY_CHANNEL, "email");
	cr_assert_eq(e->tickets, 3);
	EQ(e->frt_median, 16.0);
	EQ(e->frt_mean, 16.0);
	EQ(e->frt_p90, 27.2);
	EQ(e->sla_pct, 100.0 / 3.0);
	EQ(e->res_median, 30.0);
	EQ(e->res_p90, 46.0);
	cr_assert_eq(e->open, 1);
	cr_assert_eq(e->never_answered, 1);
	EQ(e->sat_pct, 50.0);
	/* chat T3 T4 T8: FRT 1, 1 (tie): 1 everywhere; SLA 2/3; resolution T3
	 * 4 h; open T4 T8; unanswered T8; satisfaction T3 4: 100% */
	const struct mx_ticket_stats *c = group(&s, MX_BY_CHANNEL, "chat");
	cr_assert_eq(c->tickets, 3);
	EQ(c->frt_median, 1.0);
	EQ(c->frt_p90, 1.0);
	EQ(c->sla_pct, 200.0 / 3.0);
	EQ(c->res_median, 4.0);
	cr_assert_eq(c->open, 2);
	cr_assert_eq(c->never_answered, 1);
	EQ(c->sat_pct, 100.0);
	/* phone T6 T9: FRT 5; SLA 1/1 (T6 pending); satisfaction 3: 0% */
	const struct mx_ticket_stats *p = group(&s, MX_BY_CHANNEL, "phone");
	cr_assert_eq(p->tickets, 2);
	EQ(p->frt_median, 5.0);
	EQ(p->sla_pct, 100.0);
	EQ(p->sat_pct, 0.0);
	cr_assert_eq(s.n_by[MX_BY_CHANNEL], 3);
	/* topics: delivery T1 T3 T4 T9: FRT 1 1 2 5: median 1.5, mean 2.25,
	 * p90 at h = 2.7: 2 + 0.7 x 3 = 4.1; returns T2 T6 T8: FRT 30; none:
	 * T5, never answered: no data */
	const struct mx_ticket_stats *dl = group(&s, MX_BY_TOPIC, "delivery");
	cr_assert_eq(dl->tickets, 4);
	EQ(dl->frt_median, 1.5);
	EQ(dl->frt_mean, 2.25);
	EQ(dl->frt_p90, 4.1);
	EQ(group(&s, MX_BY_TOPIC, "returns")->frt_median, 30.0);
	const struct mx_ticket_stats *nt = group(&s, MX_BY_TOPIC, "");
	cr_assert_eq(nt->tickets, 1);
	cr_assert(isnan(nt->frt_median) && isnan(nt->frt_mean) && isnan(nt->res_p90));
	EQ(nt->sla_pct, 0.0);
	/* priorities: normal T2 T3 T5 T8 T9: FRT 1 5 30: median 5, mean 12,
	 * p90 at h = 1.8: 5 + 0.8 x 25 = 25 */
	const struct mx_ticket_stats *nm = group(&s, MX_BY_PRIORITY, "normal");
	cr_assert_eq(nm->tickets, 5);
	EQ(nm->frt_median, 5.0);
	EQ(nm->frt_mean, 12.0);
	EQ(nm->frt_p90, 25.0);
	cr_assert_eq(group(&s, MX_BY_PRIORITY, "urgent")->tickets, 1);
	cr_assert(isnan(group(&s, MX_BY_PRIORITY, "urgent")->sla_pct));  /* only T6, pending */
	mx_service_fini(&s);

	/* a shorter target, 1.5 h: within it T3 T4 (1 h); base: 5 answered +
	 * T5 T6 (6 h old) T8 = 8 -> 25% */
	ctx.o.sla_hours = 1.5;
	s = compute(&ctx);
	EQ(s.tickets.sla_pct, 25.0);
	cr_assert_eq(s.sla_pending, 0);
	mx_service_fini(&s);
	crm_dataset_free(ds);
}

Test(service, tickets_report_and_filter)
{
	struct crm_dataset *ds = ticket_set();
	struct mx_ctx ctx;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-06-30T12:00:00Z", "2024-01-01", "2024-07-01");
	/* customers a and b only (dense ids 0, 1): T1 T2 T3 T4: FRT 2 30 1 1
	 * -> sorted 1 1 2 30: median 1.5, mean 34/4 = 8.5 */
	uint8_t in[5] = { 1, 1, 0, 0, 0 };
	ctx.in = in;
	ctx.group = "g";
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_service_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, "g", "service.tickets", NULL), 4.0, 0);
	cr_assert_float_eq(rp_get(d, "g", "service.frt_median", NULL), 1.5, 1e-12);
	cr_assert_float_eq(rp_get(d, "g", "service.frt_mean", NULL), 8.5, 1e-12);
	cr_assert_float_eq(rp_get(d, "g", "service.tickets_open", NULL), 1.0, 0);
	const struct rp_table *t = rp_table_get(d, "g", "service.tickets_by_channel");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 2);
	cr_assert_eq(rp_table_cols(t), 12);
	/* no interactions, feedback or web events: no data */
	int found = 0;
	cr_assert(isnan(rp_get(d, "g", "service.interactions", &found)));
	cr_assert(found);
	cr_assert(isnan(rp_get(d, "g", "service.social_share", NULL)));
	cr_assert(isnan(rp_get(d, "g", "service.responses", NULL)));
	/* the engagement score has one component, the ticket satisfaction in
	 * P: a (5 and 2: 3.5) ranks 25, b (4) 75 among the 2; mean 50 */
	cr_assert_float_eq(rp_get(d, "g", "service.engagement_customers", NULL), 2.0, 0);
	cr_assert_float_eq(rp_get(d, "g", "service.engagement_mean", NULL), 50.0, 1e-12);
	cr_assert_eq(rp_table_rows(rp_table_get(d, "g", "service.social_by_month")), 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* ----------------------------------------------------------- interactions */

/* A = 2024-06-30T12:00Z, P = [2024-01-01, 2024-07-01).
 *  I1  a 01-05 email sat 5
 *  I2  a 02-10 social "Love this shop, great prices"      love +3, great +3: 3
 *  I3  a 02-20 social "Still waiting, terrible service"  waiting -1, terrible -4: -2.5
 *  I4  b 02-15 phone sat 4
 *  I5  b 03-01 email sat 2
 *  I6  b 04-01 social "Привіт"                            no entry: not scored
 *  I7  c 2023-11-01 social "awful": before P
 *  I8  c 05-01 store
 *  I9  d 06-30T13 email: after A
 *  I10 d 02-01 Facebook (a social network), no text
 * Feedback topics: F1 a nps 10 delivery, F2 b nps 5 delivery, F3 c csat 4
 * product, F4 d ces 6 product, F5 d ces 3 (none), F6 a nps 9 delivery in
 * 2023 (before P). */
static struct crm_dataset *interaction_set(void)
{
	struct ds_builder *b = builder();
	add_ia(b, "I1", "a", "2024-01-05", "email", NULL, 5, NULL);
	add_ia(b, "I2", "a", "2024-02-10", "social", NULL, 0, "Love this shop, great prices");
	add_ia(b, "I3", "a", "2024-02-20", "social", NULL, 0, "Still waiting, terrible service");
	add_ia(b, "I4", "b", "2024-02-15", "phone", NULL, 4, NULL);
	add_ia(b, "I5", "b", "2024-03-01", "email", NULL, 2, NULL);
	add_ia(b, "I6", "b", "2024-04-01", "social", NULL, 0, "Привіт");
	add_ia(b, "I7", "c", "2023-11-01", "social", NULL, 0, "awful");
	add_ia(b, "I8", "c", "2024-05-01", "store", NULL, 0, NULL);
	add_ia(b, "I9", "d", "2024-06-30T13:00:00Z", "email", NULL, 0, NULL);
	add_ia(b, "I10", "d", "2024-02-01", "Facebook", NULL, 0, NULL);
	add_fb(b, "F1", "a", "2024-03-01", "nps", 10, "delivery");
	add_fb(b, "F2", "b", "2024-03-02", "nps", 5, "delivery");
	add_fb(b, "F3", "c", "2024-03-03", "csat", 4, "product");
	add_fb(b, "F4", "d", "2024-03-04", "ces", 6, "product");
	add_fb(b, "F5", "d", "2024-03-05", "ces", 3, NULL);
	add_fb(b, "F6", "a", "2023-03-01", "nps", 9, "delivery");
	return finish(b);
}

static const struct mx_ia_channel *channel(const struct mx_service *s, const char *name)
{
	for (size_t i = 0; i < s->n_channels; i++)
		if (strcmp(s->channels[i].name, name) == 0)
			return &s->channels[i];
	cr_assert_fail("no channel %s", name);
	return NULL;
}

Test(service, interaction_channels_social_and_topics)
{
	struct crm_dataset *ds = interaction_set();
	struct mx_ctx ctx;
	ctx_for(&ctx, ds, "2024-06-30T12:00:00Z", "2024-01-01", "2024-07-01");
	struct mx_service s = compute(&ctx);
	/* in P: I1 I2 I3 I4 I5 I6 I8 I10 = 8, customers a b c d */
	cr_assert(s.has_interactions);
	cr_assert_eq(s.interactions, 8);
	cr_assert_eq(s.interaction_customers, 4);
	cr_assert_eq(s.n_channels, 5);
	/* email I1 I5: 25%, customers a b: 1 per customer, rated 5 and 2: 50% */
	const struct mx_ia_channel *e = channel(&s, "email");
	cr_assert_eq(e->interactions, 2);
	EQ(e->share_pct, 25.0);
	cr_assert_eq(e->customers, 2);
	EQ(e->per_customer, 1.0);
	EQ(e->sat_pct, 50.0);
	cr_assert(!e->social);
	/* social I2 I3 I6: 37.5%, customers a b: 1.5 each; no rating */
	const struct mx_ia_channel *so = channel(&s, "social");
	cr_assert_eq(so->interactions, 3);
	EQ(so->share_pct, 37.5);
	EQ(so->per_customer, 1.5);
	cr_assert(isnan(so->sat_pct));
	cr_assert(so->social);
	/* phone I4: 12.5%, rated 4: 100%; Facebook counts as social */
	EQ(channel(&s, "phone")->sat_pct, 100.0);
	EQ(channel(&s, "phone")->share_pct, 12.5);
	cr_assert(channel(&s, "Facebook")->social);

	/* social media: I2 I3 I6 I10 = 4 of 8 (50%), customers a b d */
	cr_assert_eq(s.social, 4);
	cr_assert_eq(s.social_customers, 3);
	EQ(s.social_share_pct, 50.0);
	/* months of P that can hold data: 2024-01 .. 2024-06 (A), empty ones
	 * included: Feb I2 I3 (a) I10 (d): 3, customers 2; Apr I6: 1, 1 */
	cr_assert_eq(s.month0, mx_month_of(ts("2024-01-01")));
	cr_assert_eq(s.n_months, 6);
	static const size_t want_n[6] = { 0, 3, 0, 1, 0, 0 }, want_c[6] = { 0, 2, 0, 1, 0, 0 };
	for (size_t m = 0; m < 6; m++) {
		cr_expect_eq(s.social_month[m], want_n[m], "month %zu", m);
		cr_expect_eq(s.social_month_customers[m], want_c[m], "month %zu", m);
	}
	/* texts I2 (3), I3 (-2.5), I6 (not scored): mean 0.25; 1 of 3
	 * positive, 1 negative */
	cr_assert_eq(s.social_sentiment.texts, 3);
	cr_assert_eq(s.social_sentiment.scored, 2);
	EQ(s.social_sentiment.mean, 0.25);
	EQ(s.social_sentiment.positive_pct, 100.0 / 3.0);
	EQ(s.social_sentiment.negative_pct, 100.0 / 3.0);
	cr_assert_str_eq(s.lexicon_path, "data/lexicon/en.tsv");

	/* feedback topics in P: delivery F1 F2 (2 of 5: 40%), satisfied: F1
	 * (NPS 10) of 2: 50%; product F3 (CSAT 4) F4 (CES 6): 40%, 100%;
	 * none F5 (CES 3): 20%, 0% */
	cr_assert(s.has_feedback);
	cr_assert_eq(s.responses, 5);
	cr_assert_eq(s.n_topics, 3);
	for (size_t i = 0; i < s.n_topics; i++) {
		const struct mx_fb_topic *x = &s.topics[i];
		if (strcmp(x->name, "delivery") == 0) {
			cr_assert_eq(x->responses, 2);
			EQ(x->share_pct, 40.0);
			EQ(x->sat_pct, 50.0);
		} else if (strcmp(x->name, "product") == 0) {
			EQ(x->share_pct, 40.0);
			EQ(x->sat_pct, 100.0);
		} else {
			cr_assert_eq(x->code, 0);
			EQ(x->share_pct, 20.0);
			EQ(x->sat_pct, 0.0);
		}
	}
	mx_service_fini(&s);

	/* a period with no interaction at all: counts 0 (the entity has rows),
	 * shares and per-customer values no data, months all 0 */
	ctx_for(&ctx, ds, "2024-06-30T12:00:00Z", "2022-01-01", "2022-04-01");
	ctx.o.lexicon_dir = "/nonexistent";   /* no text to score: not read */
	s = compute(&ctx);
	cr_assert_eq(s.interactions, 0);
	cr_assert_eq(s.social, 0);
	cr_assert(isnan(s.social_share_pct));
	cr_assert(isnan(s.social_sentiment.mean));
	cr_assert_eq(s.n_channels, 0);
	cr_assert_eq(s.n_months, 0);   /* before the first event: no month can hold data */
	mx_service_fini(&s);
	crm_dataset_free(ds);
}

/* -------------------------------------------------------------- campaigns */

static void add_customer_order(struct ds_builder *b, const char *id, const char *cust,
			       const char *at, const char *status)
{
	add_order(b, id, cust, at, "10.00", status);
}

/* A = 2024-12-31T00:00Z, P = 2024, W = 30 days.
 * spring: a 03-01 (first) and 03-02 (sat 5), b 03-03 (sat 2), c 03-05.
 *   date = median of the first times 03-01, 03-03, 03-05 = 03-03.
 *   a: bought 01-10, again 03-15 in [03-01, 03-31): base, repeat
 *   b: bought 02-01, next 04-10 after [03-03, 04-02): base, no repeat
 *   c: first bought 03-10: no purchase before 03-05: not in the base
 *   -> participants 3, base 2, repeat 1: 50%; satisfaction 1 of 2: 50%.
 *   others, window [03-03, 04-02):
 *   d (a participant of "late" only): 02-01, 05-01: base, no repeat
 *   e: 01-05, 03-20: base, repeat
 *   f: 02-15, then a return on 03-20 (not a purchase): base, no repeat
 *   g: first bought 03-03T00:00, the window's start: not before: no base
 *   h: 01-01, 04-02T00:00 = the window's end (excluded): base, no repeat
 *   -> base 4, repeat 1: 25%; uplift 50 - 25 = 25 points.
 * late: d 12-20: its window ends after A: rates no data.
 * old: a 2023-06-01: its date is outside P: not reported. */
static struct crm_dataset *campaign_set(void)
{
	struct ds_builder *b = builder();
	add_ia(b, "C1", "a", "2024-03-01", "email", "spring", 0, NULL);
	add_ia(b, "C2", "a", "2024-03-02", "email", "spring", 5, NULL);
	add_ia(b, "C3", "b", "2024-03-03", "email", "spring", 2, NULL);
	add_ia(b, "C4", "c", "2024-03-05", "email", "spring", 0, NULL);
	add_ia(b, "C5", "d", "2024-12-20", "email", "late", 0, NULL);
	add_ia(b, "C6", "a", "2023-06-01", "email", "old", 0, NULL);
	add_customer_order(b, "a1", "a", "2024-01-10", NULL);
	add_customer_order(b, "a2", "a", "2024-03-15", NULL);
	add_customer_order(b, "b1", "b", "2024-02-01", NULL);
	add_customer_order(b, "b2", "b", "2024-04-10", NULL);
	add_customer_order(b, "c1", "c", "2024-03-10", NULL);
	add_customer_order(b, "d1", "d", "2024-02-01", NULL);
	add_customer_order(b, "d2", "d", "2024-05-01", NULL);
	add_customer_order(b, "e1", "e", "2024-01-05", NULL);
	add_customer_order(b, "e2", "e", "2024-03-20", "completed");
	add_customer_order(b, "f1", "f", "2024-02-15", NULL);
	add_customer_order(b, "f2", "f", "2024-03-20", "returned");
	add_customer_order(b, "g1", "g", "2024-03-03", NULL);
	add_customer_order(b, "h1", "h", "2024-01-01", NULL);
	add_customer_order(b, "h2", "h", "2024-04-02", NULL);
	return finish(b);
}

Test(service, campaign_uplift_windows)
{
	struct crm_dataset *ds = campaign_set();
	struct mx_ctx ctx;
	ctx_for(&ctx, ds, "2024-12-31T00:00:00Z", "2024-01-01", "2025-01-01");
	ctx.o.activity_window_days = 30;
	struct mx_service s = compute(&ctx);
	cr_assert_eq(s.n_campaigns, 2);   /* spring, late (by date) */
	const struct mx_campaign *sp = &s.campaigns[0], *lt = &s.campaigns[1];
	cr_assert_str_eq(sp->name, "spring");
	cr_assert_eq(sp->date, ts("2024-03-03"));
	cr_assert_eq(sp->participants, 3);
	cr_assert_eq(sp->rated, 2);
	EQ(sp->sat_pct, 50.0);
	cr_assert_eq(sp->part_base, 2);
	cr_assert_eq(sp->part_repeat, 1);
	EQ(sp->part_rate, 50.0);
	cr_assert_eq(sp->non_base, 4);
	cr_assert_eq(sp->non_repeat, 1);
	EQ(sp->non_rate, 25.0);
	EQ(sp->uplift, 25.0);
	cr_assert_str_eq(lt->name, "late");
	cr_assert_eq(lt->participants, 1);
	cr_assert_eq(lt->part_base, 0);
	cr_assert_eq(lt->non_base, 0);
	cr_assert(isnan(lt->part_rate) && isnan(lt->non_rate) && isnan(lt->uplift));
	cr_assert(isnan(lt->sat_pct));
	mx_service_fini(&s);

	/* only the orders of another channel count: nobody bought before, no
	 * base (the dataset's orders have no channel) */
	ctx.order_channel = 1;
	s = compute(&ctx);
	cr_assert_eq(s.campaigns[0].part_base, 0);
	cr_assert(isnan(s.campaigns[0].uplift));
	mx_service_fini(&s);
	ctx.order_channel = 0;

	/* the report under an order-channel breakdown: only the campaigns,
	 * whose uplift counts orders; the rest is not about orders */
	struct crm_err err;
	struct rp_doc *d = rp_doc_new();
	ctx.order_channel = 1;
	ctx.group = "channel=web";
	cr_assert_eq(mx_service_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	int found = 1;
	(void)rp_get(d, "channel=web", "service.tickets", &found);
	cr_assert(!found);
	cr_assert_eq(rp_table_rows(rp_table_get(d, "channel=web", "service.campaigns")), 2);
	cr_assert_null(rp_table_get(d, "channel=web", "service.interaction_channels"));
	rp_doc_free(d);
	ctx.order_channel = 0;
	ctx.group = NULL;

	/* the customer filter: e and f out (dense ids 4, 5): others d g h:
	 * base d h, no repeat: 0%; uplift 50 points */
	uint8_t in[8] = { 1, 1, 1, 1, 0, 0, 1, 1 };
	ctx.in = in;
	s = compute(&ctx);
	cr_assert_eq(s.campaigns[0].non_base, 2);
	EQ(s.campaigns[0].uplift, 50.0);
	mx_service_fini(&s);
	crm_dataset_free(ds);
}

/* ------------------------------------------------------------- engagement */

/* A = 2024-06-30T00:00Z, P = [2024-01-01, 2024-07-01); web: the 90 days
 * (2024-04-01, A].
 *   a: interactions 06-20 (sat 5), 06-25: frequency 2, 5 days ago;
 *      sessions S1 (twice), S2: 2
 *   b: interaction 03-01 (sat 3): frequency 1, 121 days; session S3 on
 *      03-15, before the 90 days: 0
 *   c: interaction 2023-12-01, before P: frequency 0, 212 days; S4: 1
 *   d: no interaction (recency: the worst); no session; a ticket with
 *      satisfaction 4 in P
 * Percentile ranks 100 (below + equal / 2) / N:
 *   frequency 2 1 0 0 (N 4):  a 87.5, b 62.5, c 25, d 25
 *   recency  5 121 212 none:  a 87.5, b 62.5, c 37.5, d 12.5
 *   sessions 2 0 1 0:         a 87.5, b 25, c 62.5, d 25
 *   satisfaction 5 3 - 4 (N 3): a 250/3, b 50/3, d 50
 * Scores: a (262.5 + 250/3) / 4 = 86.458333, b (150 + 50/3) / 4 = 41.666667,
 * c (25 + 37.5 + 62.5) / 3 = 41.666667 (no satisfaction: three parts; a
 * tie with b), d (25 + 12.5 + 25 + 50) / 4 = 28.125. */
static struct crm_dataset *engagement_set(void)
{
	struct ds_builder *b = builder();
	add_ia(b, "E1", "a", "2024-06-20", "email", NULL, 5, NULL);
	add_ia(b, "E2", "a", "2024-06-25", "chat", NULL, 0, NULL);
	add_ia(b, "E3", "b", "2024-03-01", "phone", NULL, 3, NULL);
	add_ia(b, "E4", "c", "2023-12-01", "email", NULL, 0, NULL);
	add_customer(b, "d");
	add_web(b, "S1", "a", "2024-06-01T10:00:00Z");
	add_web(b, "S1", "a", "2024-06-01T10:01:00Z");
	add_web(b, "S2", "a", "2024-06-10T10:00:00Z");
	add_web(b, "S3", "b", "2024-03-15T10:00:00Z");
	add_web(b, "S4", "c", "2024-06-29T10:00:00Z");
	add_ticket(b, "K1", "d", "2024-05-01", 1, 2, "email", NULL, NULL, 4);
	return finish(b);
}

Test(service, engagement_by_hand)
{
	struct crm_dataset *ds = engagement_set();
	struct mx_ctx ctx;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-06-30T00:00:00Z", "2024-01-01", "2024-07-01");
	double score[4];
	cr_assert_eq(ds->n_customers, 4);
	cr_assert_eq(mx_engagement_scores(&ctx, score, &err), CRM_OK, "%s", err.msg);
	EQ(score[0], (262.5 + 250.0 / 3.0) / 4.0);
	EQ(score[1], (150.0 + 50.0 / 3.0) / 4.0);
	EQ(score[2], 125.0 / 3.0);
	EQ(score[3], 28.125);
	cr_assert_eq(score[1], score[2]);   /* the tie is exact */

	struct mx_service s = compute(&ctx);
	cr_assert_eq(s.eng_customers, 4);
	cr_assert_eq(s.eng_parts[MX_ENG_FREQUENCY], 4);
	cr_assert_eq(s.eng_parts[MX_ENG_WEB], 4);
	cr_assert_eq(s.eng_parts[MX_ENG_SATISFACTION], 3);
	/* bands: d in [20,30), b c in [40,50), a in [80,90) */
	static const size_t band[10] = { 0, 0, 1, 0, 2, 0, 0, 0, 1, 0 };
	for (int k = 0; k < 10; k++)
		cr_expect_eq(s.eng_band[k], band[k], "band %d", k);
	/* mean (86.458333 + 2 x 41.666667 + 28.125) / 4; median of 28.125,
	 * 41.67, 41.67, 86.46: 41.666667; p25 at h = 0.75: 28.125 + 0.75 x
	 * (125/3 - 28.125) */
	EQ(s.eng_mean, (score[0] + score[1] + score[2] + score[3]) / 4.0);
	EQ(s.eng_median, 125.0 / 3.0);
	EQ(s.eng_p25, 28.125 + 0.75 * (125.0 / 3.0 - 28.125));
	mx_service_fini(&s);

	/* a and b only: each component ranks a above b: 75 and 25 (N 2:
	 * a: (1 + 1/2) / 2, b: (0 + 1/2) / 2) */
	uint8_t in[4] = { 1, 1, 0, 0 };
	ctx.in = in;
	cr_assert_eq(mx_engagement_scores(&ctx, score, &err), CRM_OK, "%s", err.msg);
	EQ(score[0], 75.0);
	EQ(score[1], 25.0);
	cr_assert(isnan(score[2]) && isnan(score[3]));
	crm_dataset_free(ds);

	/* no input: a dataset of orders only: every score no data */
	struct ds_builder *b = builder();
	add_order(b, "o1", "a", "2024-03-01", "10.00", NULL);
	add_order(b, "o2", "b", "2024-03-02", "10.00", NULL);
	ds = finish(b);
	ctx_for(&ctx, ds, "2024-06-30T00:00:00Z", "2024-01-01", "2024-07-01");
	cr_assert_eq(mx_engagement_scores(&ctx, score, &err), CRM_OK, "%s", err.msg);
	cr_assert(isnan(score[0]) && isnan(score[1]));
	s = compute(&ctx);
	cr_assert(!s.has_tickets && !s.has_interactions && !s.has_feedback);
	cr_assert_eq(s.eng_customers, 0);
	cr_assert(isnan(s.eng_mean) && isnan(s.eng_median));
	cr_assert(isnan(s.tickets.frt_median) && isnan(s.tickets.sla_pct));
	mx_service_fini(&s);
	/* a customer with one order and web sessions only: web alone ranks */
	crm_dataset_free(ds);
	b = builder();
	add_order(b, "o1", "a", "2024-03-01", "10.00", NULL);
	add_web(b, "W1", "a", "2024-06-01T10:00:00Z");
	add_customer(b, "b");
	ds = finish(b);
	ctx_for(&ctx, ds, "2024-06-30T00:00:00Z", "2024-01-01", "2024-07-01");
	cr_assert_eq(mx_engagement_scores(&ctx, score, &err), CRM_OK, "%s", err.msg);
	/* sessions 1, 0 (N 2): a 75, b 25 */
	EQ(score[0], 75.0);
	EQ(score[1], 25.0);
	crm_dataset_free(ds);
}

/* Web sessions are the browsing family's (mx_browsing_sessions_per_customer):
 * counted when they start in (A - 90 days, A], A = 2024-06-30T00:00Z, so
 * from 2024-04-01T00:00:01Z. x's session S1 starts 2024-03-31T23:50 and
 * goes on past midnight: it started before the window, 0 sessions. y's S2
 * starts 04-15: 1. Web is the only component: ranks (N 2) x 25, y 75. */
Test(service, engagement_counts_sessions_by_their_start)
{
	struct ds_builder *b = builder();
	add_web(b, "S1", "x", "2024-03-31T23:50:00Z");
	add_web(b, "S1", "x", "2024-04-01T00:10:00Z");
	add_web(b, "S2", "y", "2024-04-15T10:00:00Z");
	struct crm_dataset *ds = finish(b);
	struct mx_ctx ctx;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-06-30T00:00:00Z", "2024-01-01", "2024-07-01");
	double score[2];
	cr_assert_eq(ds->n_customers, 2);
	cr_assert_eq(mx_engagement_scores(&ctx, score, &err), CRM_OK, "%s", err.msg);
	EQ(score[0], 25.0);
	EQ(score[1], 75.0);
	crm_dataset_free(ds);
}

Test(service, absent_inputs_report_no_data)
{
	struct ds_builder *b = builder();
	add_order(b, "o1", "a", "2024-03-01", "10.00", NULL);
	struct crm_dataset *ds = finish(b);
	struct mx_ctx ctx;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-06-30T00:00:00Z", "2024-01-01", "2024-07-01");
	ctx.o.lexicon_dir = "/nonexistent";
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_service_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	static const char *const ids[] = {
		"service.tickets", "service.frt_median", "service.sla_attainment",
		"service.tickets_backlog", "service.interactions", "service.social_interactions",
		"service.social_share", "service.social_sentiment", "service.responses",
		"service.engagement_mean",
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		int found = 0;
		cr_expect(isnan(rp_get(d, NULL, ids[i], &found)), "%s", ids[i]);
		cr_expect(found, "%s", ids[i]);
	}
	static const char *const tables[] = {
		"service.tickets_by_channel", "service.interaction_channels", "service.feedback_topics",
		"service.campaigns", "service.social_by_month", "service.engagement_distribution",
	};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		const struct rp_table *t = rp_table_get(d, NULL, tables[i]);
		cr_expect_not_null(t, "%s", tables[i]);
		cr_expect_eq(rp_table_rows(t), 0, "%s", tables[i]);
	}
	rp_doc_free(d);
	crm_dataset_free(ds);
}

/* -------------------------------------------------------------------- demo */

/* The demo business of docs/DEMO.md with 5,000 customers: first response
 * times are lognormal per channel with these medians and sigmas. */
Test(service, demo_response_times_by_channel)
{
	static const int ents[] = { CRM_CUSTOMERS, CRM_ORDERS, CRM_TICKETS, CRM_INTERACTIONS,
				    CRM_WEB_EVENTS };
	static const struct { const char *channel; double median_h, sigma; } truth[] = {
		{ "email", 6.0, 1.0 }, { "chat", 90.0 / 3600, 0.8 },
		{ "phone", 45.0 / 3600, 0.6 }, { "social", 3.0, 1.2 },
	};
	char dir[256], paths[5][512];
	struct demo_opts o = { 5000, 42, NULL };
	struct demo_counts counts;
	struct crm_err err;
	struct ds_file f[5];
	struct ing_summary sums[5];
	struct crm_dataset *ds;
	tmpdir_make(dir, sizeof dir);
	o.out_dir = dir;
	cr_assert_eq(demo_generate(&o, &counts, &err), CRM_OK, "%s", err.msg);
	memset(f, 0, sizeof f);
	for (size_t i = 0; i < 5; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s.csv", dir, ent_get(ents[i])->name);
		f[i].path = paths[i];
		f[i].ing.entity = ents[i];
	}
	cr_assert_eq(ds_load_files(f, 5, sums, &ds, &err), CRM_OK, "%s", err.msg);
	struct mx_ctx ctx;
	ctx_for(&ctx, ds, "2025-06-30T23:59:59Z", "2022-07-01", "2025-07-01");
	struct mx_service s = compute(&ctx);
	/* every stored ticket was opened in the shop's life */
	cr_assert_eq(s.tickets.tickets, ds->t[CRM_TICKETS].n);
	cr_assert_eq(s.tickets.tickets, (size_t)sums[2].stored);
	for (size_t k = 0; k < 4; k++) {
		const struct mx_ticket_stats *g = group(&s, MX_BY_CHANNEL, truth[k].channel);
		/* The sample median of a lognormal has a log standard error of about
		 * sqrt(pi / 2) sigma / sqrt(n) (the median's asymptotic variance
		 * 1 / (4 n f(m)^2) for the normal log); allow 4 of them. The planted
		 * time is the drawn one plus 1 s, truncated to seconds: the phone's
		 * 45 s median moves by about 1%, well inside. */
		double se = sqrt(acos(-1.0) / 2.0) * truth[k].sigma / sqrt((double)g->answered);
		double ratio = g->frt_median / truth[k].median_h;
		cr_expect(fabs(log(ratio)) < 4 * se, "%s: median %.4f h, truth %.4f h (n %zu, "
			  "tolerance x%.2f)", truth[k].channel, g->frt_median, truth[k].median_h,
			  g->answered, exp(4 * se));
		/* a lognormal's p90 is above its median, its mean too */
		cr_expect_gt(g->frt_p90, g->frt_median);
		cr_expect_gt(g->frt_mean, g->frt_median);
	}
	/* chat and phone answer within 24 h essentially always; e-mail in
	 * Phi(ln 4 / 1.0) = 92% of answered tickets; never-answered ones are
	 * breaches, so e-mail attains less than chat */
	cr_expect_lt(group(&s, MX_BY_CHANNEL, "email")->sla_pct,
		     group(&s, MX_BY_CHANNEL, "chat")->sla_pct);

	/* Campaigns: participation is more likely for customers still buying
	 * (0.30 against 0.10) while campaigns do nothing to purchasing, so the
	 * naive uplift is positive on average: selection, as the demo plants. */
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < s.n_campaigns; i++) {
		if (isnan(s.campaigns[i].uplift))
			continue;
		sum += s.campaigns[i].uplift;
		n++;
	}
	cr_assert_gt(n, 5);
	cr_expect_gt(sum / (double)n, 0.0, "mean uplift %.2f points over %zu campaigns",
		     sum / (double)n, n);
	/* Social posts: the channel is "social"; English posts are positive
	 * or negative by design, so every scored post is one or the other,
	 * and more are positive (70% while the customer still buys) */
	cr_assert_gt(s.social, 100);
	cr_expect_eq(s.social_sentiment.positive + s.social_sentiment.negative,
		     s.social_sentiment.scored);
	cr_expect_gt(s.social_sentiment.positive, s.social_sentiment.negative);
	/* the engagement score: every customer has frequency and recency (the
	 * dataset has interactions); scores are within 0-100 and, each
	 * component's percentile ranks averaging 50, near 50 on average */
	cr_assert_eq(s.eng_customers, ds->n_customers);
	for (size_t c = 0; c < ds->n_customers; c++)
		cr_assert(s.engagement[c] >= 0 && s.engagement[c] <= 100);
	cr_expect(s.eng_mean > 40 && s.eng_mean < 60, "mean %.2f", s.eng_mean);
	mx_service_fini(&s);
	crm_dataset_free(ds);
	tmpdir_remove(dir);
}
