/* test_mx_surveys.c - the surveys family (src/metrics/surveys.c) and the
 * sentiment lexicon it shares with the service family (lexicon.c): NPS with
 * its margin of error, CSAT and CES on a hand-made set of responses worked
 * out below, the sentiment of comments and the terms of negative ones,
 * the customer filter, the absent-input case, the tokenizer, negation and
 * phrases, the lexicon file format and its errors, and the demo business
 * (comment sentiment matches the score; leavers answer lower). */
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
#include "metrics/lexicon.h"
#include "metrics/mx.h"
#include "metrics/surveys.h"
#include "report/doc.h"
#include "support.h"

static void add_fb(struct ds_builder *b, const char *id, const char *cust, const char *at,
		   const char *kind, int score, const char *topic, const char *comment)
{
	struct ent_record r = rec(CRM_FEEDBACK, 0);
	struct crm_err err;
	set_s(&r, CRM_F_RESPONSE_ID, id);
	set_s(&r, CRM_F_CUSTOMER_ID, cust);
	set_i(&r, CRM_F_ANSWERED_AT, ts(at));
	set_s(&r, CRM_F_KIND, kind);
	set_i(&r, CRM_F_SCORE, score);
	if (topic)
		set_s(&r, CRM_F_TOPIC, topic);
	if (comment)
		set_s(&r, CRM_F_COMMENT, comment);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

/* Responses of customers a..e. A = 2024-12-31T12:00Z, P = 2024.
 *
 * NPS in P: F01 10, F02 9, F03 9, F04 10, F05 9 (5 promoters), F06 8,
 * F07 7 (2 passives), F08 6, F09 3, F10 0 (3 detractors); n = 10.
 * F20 (before P) and F21 (after A) do not count.
 * CSAT in P: 5, 1, 3, 4 -> 2 of 4 are 4-5: 50%; F22 scores 9, off the
 * 1-5 scale: unscored. CES: 7, 5, 4, 2, 6 -> mean 24 / 5 = 4.8, 5-7: 3 of 5.
 *
 * Comments in P and their sentiment with data/lexicon/en.tsv:
 *  F01 "Fast delivery, great service!"             fast +2, great +3: 2.5
 *  F09 "Delivery was late and the box was damaged"  late -2, damaged -3: -2.5
 *  F10 "Not happy at all. Terrible courier"         happy +3 negated, terrible -4: -3.5
 *  F12 "The product broke after a week"             broke -3: -3
 *  F13 "The box was damaged and late, never again"  -3, -2, "never again" -3: -8/3
 *  F15 "Works perfectly, no problems"               works +1, perfectly +3,
 *                                                   "no problems" +2: 2
 *  F16 "Ordered on Monday"                          no entry: not scored
 *  F17 "Дуже добре"                                 no English entry: not scored */
static struct crm_dataset *survey_set(void)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_fb(b, "F01", "a", "2024-02-01", "nps", 10, "delivery", "Fast delivery, great service!");
	add_fb(b, "F02", "a", "2024-03-01", "nps", 9, "product", NULL);
	add_fb(b, "F03", "b", "2024-03-05", "nps", 9, "delivery", NULL);
	add_fb(b, "F04", "b", "2024-04-01", "nps", 10, NULL, NULL);
	add_fb(b, "F05", "c", "2024-05-01", "nps", 9, "product", NULL);
	add_fb(b, "F06", "c", "2024-05-02", "nps", 8, "delivery", NULL);
	add_fb(b, "F07", "d", "2024-06-01", "nps", 7, "product", NULL);
	add_fb(b, "F08", "d", "2024-06-02", "nps", 6, "product", NULL);
	add_fb(b, "F09", "e", "2024-07-01", "nps", 3, "delivery",
	       "Delivery was late and the box was damaged");
	add_fb(b, "F10", "e", "2024-07-02", "nps", 0, "delivery", "Not happy at all. Terrible courier");
	add_fb(b, "F11", "a", "2024-08-01", "csat", 5, "delivery", NULL);
	add_fb(b, "F12", "b", "2024-08-02", "csat", 1, "product", "The product broke after a week");
	add_fb(b, "F13", "c", "2024-08-03", "csat", 3, "delivery",
	       "The box was damaged and late, never again");
	add_fb(b, "F14", "d", "2024-08-04", "csat", 4, "product", NULL);
	add_fb(b, "F15", "a", "2024-09-01", "ces", 7, "product", "Works perfectly, no problems");
	add_fb(b, "F16", "b", "2024-09-02", "ces", 5, "product", "Ordered on Monday");
	add_fb(b, "F17", "c", "2024-09-03", "ces", 4, "product", "Дуже добре");
	add_fb(b, "F18", "d", "2024-09-04", "ces", 2, "delivery", NULL);
	add_fb(b, "F19", "e", "2024-09-05", "ces", 6, NULL, NULL);
	add_fb(b, "F20", "e", "2023-12-31T23:59:59Z", "nps", 0, "delivery", "Terrible");
	add_fb(b, "F21", "a", "2024-12-31T18:00:00Z", "nps", 0, "product", "Awful");
	add_fb(b, "F22", "b", "2024-10-01", "csat", 9, "product", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 5);
	return ds;
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

static const struct mx_survey_topic *topic_named(const struct mx_surveys *s, const char *name)
{
	for (size_t i = 0; i < s->n_topics; i++)
		if (strcmp(s->topics[i].name, name) == 0)
			return &s->topics[i];
	cr_assert_fail("no topic %s", name);
	return NULL;
}

static size_t row_of(const struct crm_dataset *ds, const char *id)
{
	const struct crm_table *t = &ds->t[CRM_FEEDBACK];
	for (size_t r = 0; r < t->n; r++)
		if (strcmp(crm_cell_str(t, CRM_F_RESPONSE_ID, r), id) == 0)
			return r;
	cr_assert_fail("no response %s", id);
	return 0;
}

Test(surveys, nps_csat_ces_by_hand)
{
	struct crm_dataset *ds = survey_set();
	struct mx_ctx ctx;
	struct mx_surveys s;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-12-31T12:00:00Z", "2024-01-01", "2025-01-01");
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	cr_assert(s.has_feedback);
	cr_assert_eq(s.responses, 20);   /* F01..F19 and F22 */
	const struct mx_survey_scores *x = &s.all;
	cr_assert_eq(x->nps_n, 10);
	cr_assert_eq(x->promoters, 5);
	cr_assert_eq(x->passives, 2);
	cr_assert_eq(x->detractors, 3);
	/* NPS = 50% - 30% = 20. MOE = 1.96 sqrt((0.5 + 0.3 - 0.2^2) / 10) x 100
	 * = 1.96 sqrt(0.076) x 100 = 54.03347; the same from the multinomial
	 * form (0.5 x 0.5 + 0.3 x 0.7 + 2 x 0.5 x 0.3) / 10 = 0.076 */
	cr_assert_float_eq(x->nps, 20.0, 1e-12);
	cr_assert_float_eq(x->nps_moe, 1.96 * sqrt(0.076) * 100.0, 1e-9);
	cr_assert_float_eq(x->nps_moe, 54.0334711, 1e-6);
	cr_assert_float_eq(x->promoters_pct, 50.0, 1e-12);
	cr_assert_float_eq(x->detractors_pct, 30.0, 1e-12);
	cr_assert_eq(x->csat_n, 4);
	cr_assert_float_eq(x->csat, 50.0, 1e-12);
	cr_assert_eq(x->ces_n, 5);
	cr_assert_float_eq(x->ces_mean, 4.8, 1e-12);
	cr_assert_float_eq(x->ces_easy_pct, 60.0, 1e-12);
	cr_assert_eq(x->unscored, 1);    /* F22: CSAT 9 */

	/* delivery: F01 10, F03 9, F06 8, F09 3, F10 0 (NPS: 2 promoters, 2
	 * detractors of 5: 0), F11 5 and F13 3 (CSAT 50%), F18 2 (CES 2) */
	const struct mx_survey_topic *dl = topic_named(&s, "delivery");
	cr_assert_eq(dl->responses, 8);
	cr_assert_float_eq(dl->scores.nps, 0.0, 1e-12);
	cr_assert_eq(dl->scores.nps_n, 5);
	cr_assert_float_eq(dl->scores.csat, 50.0, 1e-12);
	cr_assert_float_eq(dl->scores.ces_mean, 2.0, 1e-12);
	/* product: NPS 9, 9, 7, 6: (2 - 1) / 4 = 25; CSAT 1, 4 (9 unscored):
	 * 50%; CES 7, 5, 4: 16 / 3 */
	const struct mx_survey_topic *pr = topic_named(&s, "product");
	cr_assert_eq(pr->responses, 10);
	cr_assert_float_eq(pr->scores.nps, 25.0, 1e-12);
	cr_assert_float_eq(pr->scores.csat, 50.0, 1e-12);
	cr_assert_float_eq(pr->scores.ces_mean, 16.0 / 3.0, 1e-12);
	cr_assert_eq(pr->scores.unscored, 1);
	/* no topic: F04 NPS 10 alone: NPS 100, margin 0 (p = 1, d = 0: the
	 * variance 1 + 0 - 1 = 0); F19 CES 6 */
	const struct mx_survey_topic *none = topic_named(&s, "");
	cr_assert_eq(none->code, 0);
	cr_assert_eq(none->responses, 2);
	cr_assert_float_eq(none->scores.nps, 100.0, 1e-12);
	cr_assert_float_eq(none->scores.nps_moe, 0.0, 1e-12);
	cr_assert_eq(s.n_topics, 3);
	mx_surveys_fini(&s);
	crm_dataset_free(ds);
}

Test(surveys, comment_sentiment_and_negative_terms)
{
	struct crm_dataset *ds = survey_set();
	struct mx_ctx ctx;
	struct mx_surveys s;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-12-31T12:00:00Z", "2024-01-01", "2025-01-01");
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	cr_assert_str_eq(s.lexicon_path, "data/lexicon/en.tsv");
	/* per comment (see survey_set) */
	cr_assert_float_eq(s.sentiment[row_of(ds, "F01")], 2.5, 1e-12);
	cr_assert_float_eq(s.sentiment[row_of(ds, "F09")], -2.5, 1e-12);
	cr_assert_float_eq(s.sentiment[row_of(ds, "F10")], -3.5, 1e-12);
	cr_assert_float_eq(s.sentiment[row_of(ds, "F12")], -3.0, 1e-12);
	cr_assert_float_eq(s.sentiment[row_of(ds, "F13")], -8.0 / 3.0, 1e-12);
	cr_assert_float_eq(s.sentiment[row_of(ds, "F15")], 2.0, 1e-12);
	cr_assert(isnan(s.sentiment[row_of(ds, "F16")]));
	cr_assert(isnan(s.sentiment[row_of(ds, "F17")]));
	cr_assert(isnan(s.sentiment[row_of(ds, "F20")]));   /* before P */
	cr_assert(isnan(s.sentiment[row_of(ds, "F21")]));   /* after A */
	cr_assert(isnan(s.sentiment[row_of(ds, "F02")]));   /* no comment */
	/* all: 8 comments, 6 scored: 2 positive, 4 negative; mean (2.5 - 2.5
	 * - 3.5 - 3 - 8/3 + 2) / 6 = -43/36 */
	cr_assert_eq(s.comments.texts, 8);
	cr_assert_eq(s.comments.scored, 6);
	cr_assert_eq(s.comments.positive, 2);
	cr_assert_eq(s.comments.negative, 4);
	cr_assert_float_eq(s.comments.mean, -43.0 / 36.0, 1e-12);
	cr_assert_float_eq(s.comments.positive_pct, 25.0, 1e-12);
	cr_assert_float_eq(s.comments.negative_pct, 50.0, 1e-12);
	/* delivery: F01, F09, F10, F13: mean (2.5 - 2.5 - 3.5 - 8/3) / 4 =
	 * -37/24; 1 of 4 positive, 3 negative */
	const struct mx_survey_topic *dl = topic_named(&s, "delivery");
	cr_assert_eq(dl->comments.texts, 4);
	cr_assert_float_eq(dl->comments.mean, -37.0 / 24.0, 1e-12);
	cr_assert_float_eq(dl->comments.positive_pct, 25.0, 1e-12);
	cr_assert_float_eq(dl->comments.negative_pct, 75.0, 1e-12);
	/* its negative comments' terms (stop words was, and, the, not, at, all,
	 * never, again out): F09 delivery late box damaged; F10 happy terrible
	 * courier; F13 box damaged late. Per comment: box 2, damaged 2, late 2,
	 * then 1 each: courier, delivery, happy, terrible -> the top 5 by count,
	 * then byte order: box, damaged, late, courier, delivery */
	static const char *const want[] = { "box", "damaged", "late", "courier", "delivery" };
	static const size_t want_n[] = { 2, 2, 2, 1, 1 };
	cr_assert_eq(dl->n_terms, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_expect_str_eq(dl->terms[i].term, want[i], "term %zu", i);
		cr_expect_eq(dl->terms[i].comments, want_n[i], "term %zu", i);
	}
	/* product: F12 (-3), F15 (2), F16, F17 unscored: mean -0.5, 1 of 4
	 * positive, 1 negative; terms of F12 (the, after, a, week are stop
	 * words): broke, product */
	const struct mx_survey_topic *pr = topic_named(&s, "product");
	cr_assert_eq(pr->comments.texts, 4);
	cr_assert_eq(pr->comments.scored, 2);
	cr_assert_float_eq(pr->comments.mean, -0.5, 1e-12);
	cr_assert_float_eq(pr->comments.negative_pct, 25.0, 1e-12);
	cr_assert_eq(pr->n_terms, 2);
	cr_assert_str_eq(pr->terms[0].term, "broke");
	cr_assert_str_eq(pr->terms[1].term, "product");
	/* no topic: no comments: no sentiment */
	const struct mx_survey_topic *none = topic_named(&s, "");
	cr_assert_eq(none->comments.texts, 0);
	cr_assert(isnan(none->comments.mean));
	cr_assert(isnan(none->comments.positive_pct));
	cr_assert_eq(none->n_terms, 0);
	/* the most negative: F10 -3.5, F12 -3, F13 -8/3, F09 -2.5 */
	cr_assert_eq(s.n_worst, 4);
	cr_assert_eq(s.worst[0].row, row_of(ds, "F10"));
	cr_assert_eq(s.worst[1].row, row_of(ds, "F12"));
	cr_assert_eq(s.worst[2].row, row_of(ds, "F13"));
	cr_assert_eq(s.worst[3].row, row_of(ds, "F09"));
	mx_surveys_fini(&s);
	crm_dataset_free(ds);
}

Test(surveys, customer_filter_and_report)
{
	struct crm_dataset *ds = survey_set();
	struct mx_ctx ctx;
	struct crm_err err;
	ctx_for(&ctx, ds, "2024-12-31T12:00:00Z", "2024-01-01", "2025-01-01");
	/* only customer a (dense id 0): F01 NPS 10, F02 NPS 9 (NPS 100 of 2),
	 * F11 CSAT 5 (100%), F15 CES 7; comments F01 2.5 and F15 2: mean 2.25 */
	uint8_t in[5] = { 1, 0, 0, 0, 0 };
	ctx.in = in;
	ctx.group = "customer=a";
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_surveys_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.responses", NULL), 4.0, 0);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.nps", NULL), 100.0, 1e-12);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.nps_responses", NULL), 2.0, 0);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.csat", NULL), 100.0, 1e-12);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.ces", NULL), 7.0, 1e-12);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.sentiment", NULL), 2.25, 1e-12);
	cr_assert_float_eq(rp_get(d, "customer=a", "surveys.comments_negative", NULL), 0.0, 0);
	const struct rp_table *t = rp_table_get(d, "customer=a", "surveys.topics");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 2);   /* delivery and product */
	t = rp_table_get(d, "customer=a", "surveys.negative_terms");
	cr_assert_not_null(t);
	cr_assert_eq(rp_table_rows(t), 0);
	rp_doc_free(d);

	/* an order-channel breakdown: responses are not orders, a note only */
	ctx.order_channel = 1;
	d = rp_doc_new();
	cr_assert_eq(mx_surveys_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	int found = 1;
	(void)rp_get(d, "customer=a", "surveys.nps", &found);
	cr_assert(!found);
	rp_doc_free(d);
	ctx.order_channel = 0;

	/* all customers: the tables' rows */
	ctx.in = NULL;
	ctx.group = NULL;
	d = rp_doc_new();
	cr_assert_eq(mx_surveys_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(rp_doc_status(d, &err), CRM_OK, "%s", err.msg);
	cr_assert_float_eq(rp_get(d, NULL, "surveys.nps_moe", NULL), 54.0334711, 1e-6);
	t = rp_table_get(d, NULL, "surveys.negative_terms");
	cr_assert_eq(rp_table_rows(t), 7);   /* 5 for delivery, 2 for product */
	t = rp_table_get(d, NULL, "surveys.negative_comments");
	cr_assert_eq(rp_table_rows(t), 4);
	cr_assert_str_eq(rp_table_str(t, 0, 0), "F10");
	cr_assert_str_eq(rp_table_str(t, 0, 4), "Not happy at all. Terrible courier");
	cr_assert_float_eq(rp_table_num(t, 0, 3), -3.5, 1e-12);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(surveys, empty_period_and_absent_feedback)
{
	struct crm_dataset *ds = survey_set();
	struct mx_ctx ctx;
	struct mx_surveys s;
	struct crm_err err;
	/* a period with no response: counts 0, scores no data, and no lexicon
	 * needed (the folder given does not exist) */
	ctx_for(&ctx, ds, "2024-12-31T12:00:00Z", "2022-01-01", "2023-01-01");
	ctx.o.lexicon_dir = "/nonexistent";
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	cr_assert(s.has_feedback);
	cr_assert_eq(s.responses, 0);
	cr_assert(isnan(s.all.nps) && isnan(s.all.nps_moe) && isnan(s.all.csat) &&
		  isnan(s.all.ces_mean));
	cr_assert_eq(s.comments.texts, 0);
	cr_assert_str_eq(s.lexicon_path, "");
	mx_surveys_fini(&s);
	/* comments to score and no lexicon there: an error naming the path */
	ctx_for(&ctx, ds, "2024-12-31T12:00:00Z", "2024-01-01", "2025-01-01");
	ctx.o.lexicon_dir = "/nonexistent";
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_ENOTFOUND);
	cr_assert(strstr(err.msg, "/nonexistent/en.tsv"), "%s", err.msg);
	crm_dataset_free(ds);

	/* a dataset without feedback: every value no data, found in the report */
	struct ds_builder *b;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_order(b, "o1", "a", "2024-03-01", "10.00", NULL);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	ctx_for(&ctx, ds, "2024-12-31T12:00:00Z", "2024-01-01", "2025-01-01");
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	cr_assert(!s.has_feedback);
	mx_surveys_fini(&s);
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(mx_surveys_report(&ctx, d, &err), CRM_OK, "%s", err.msg);
	static const char *const ids[] = { "surveys.responses", "surveys.nps", "surveys.nps_moe",
					   "surveys.csat", "surveys.ces", "surveys.comments",
					   "surveys.sentiment" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		int found = 0;
		cr_expect(isnan(rp_get(d, NULL, ids[i], &found)), "%s", ids[i]);
		cr_expect(found, "%s", ids[i]);
	}
	cr_assert_eq(rp_table_rows(rp_table_get(d, NULL, "surveys.topics")), 0);
	rp_doc_free(d);
	crm_dataset_free(ds);
}

Test(surveys, nps_margin_formula)
{
	/* 40 promoters, 40 detractors of 100: var = (0.8 - 0) / 100, MOE =
	 * 1.96 x sqrt(0.008) x 100 = 17.5308; none: no data */
	cr_assert_float_eq(mx_nps_moe(40, 40, 100), 1.96 * sqrt(0.008) * 100.0, 1e-9);
	cr_assert_float_eq(mx_nps_moe(40, 40, 100), 17.53068, 1e-4);
	cr_assert(isnan(mx_nps_moe(0, 0, 0)));
	cr_assert_float_eq(mx_nps_moe(0, 0, 5), 0.0, 0);   /* all passives */
}

/* ----------------------------------------------------------------- lexicon */

static struct mx_lexicon *en(void)
{
	struct mx_lexicon *lx;
	struct crm_err err;
	cr_assert_eq(mx_lex_load("data/lexicon", "en", &lx, &err), CRM_OK, "%s", err.msg);
	return lx;
}

static double score_of(const struct mx_lexicon *lx, const char *text, size_t *matched)
{
	struct mx_tokens tk;
	mx_tokens_init(&tk);
	cr_assert_eq(mx_tokenize(&tk, text, strlen(text)), 0);
	double v = mx_lex_score(lx, &tk, matched);
	mx_tokens_fini(&tk);
	return v;
}

Test(lexicon, tokenizer)
{
	struct mx_tokens tk;
	mx_tokens_init(&tk);
	/* curly apostrophe folded, case folded (ASCII and Unicode), an em dash
	 * separates, a hyphen inside a word stays, a trailing apostrophe does
	 * not; CJK full stop and '!' break clauses; invalid UTF-8 is a space */
	const char *s = "Don\xE2\x80\x99t LOVE it\xE2\x80\x94" "e-mail \xC3\x84\xC3\x96 "
			"\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x80\x82ok shops' x\xFFy!Z";
	cr_assert_eq(mx_tokenize(&tk, s, strlen(s)), 0);
	static const char *const want[] = { "don't", "love", "it", "e-mail",
					    "\xC3\xA4\xC3\xB6", "\xE6\x9D\xB1\xE4\xBA\xAC", "ok",
					    "shops", "x", "y", "z" };
	static const int brk[] = { 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1 };
	cr_assert_eq(tk.n, 11);
	for (size_t i = 0; i < tk.n; i++) {
		cr_expect_eq(tk.v[i].len, strlen(want[i]), "token %zu", i);
		cr_expect(memcmp(tk.text.p + tk.v[i].off, want[i], tk.v[i].len) == 0, "token %zu", i);
		cr_expect_eq(tk.v[i].brk, brk[i], "token %zu", i);
	}
	/* tokens one space apart: the text is their join */
	cr_assert_str_eq(tk.text.p, "don't love it e-mail \xC3\xA4\xC3\xB6 \xE6\x9D\xB1\xE4\xBA\xAC "
				    "ok shops x y z");
	/* reuse; empty input */
	cr_assert_eq(mx_tokenize(&tk, "", 0), 0);
	cr_assert_eq(tk.n, 0);
	cr_assert_eq(mx_tokenize(&tk, " ...", 4), 0);
	cr_assert_eq(tk.n, 0);
	mx_tokens_fini(&tk);
}

Test(lexicon, random_bytes_and_a_long_text)
{
	/* any bytes: tokens lie inside the folded text, which stays within
	 * 2 n + 8 bytes, and scoring terminates with a mean within -5..5 */
	struct mx_lexicon *lx;
	struct crm_err err;
	cr_assert_eq(mx_lex_load("data/lexicon", "en", &lx, &err), CRM_OK, "%s", err.msg);
	struct mx_tokens tk;
	mx_tokens_init(&tk);
	uint64_t x = 88172645463325252ull;   /* xorshift64, a fixed sequence */
	char buf[256];
	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(round % 200);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* half the time a letter, space or mark from "good not bad." */
			buf[i] = (x & 1) ? "good not bad. "[(x >> 8) % 14] : (char)(x >> 24);
		}
		cr_assert_eq(mx_tokenize(&tk, buf, n), 0);
		cr_assert_leq(tk.text.len, 2 * n + 8);
		for (size_t i = 0; i < tk.n; i++) {
			cr_assert_gt(tk.v[i].len, 0);
			cr_assert_leq(tk.v[i].off + tk.v[i].len, tk.text.len);
		}
		double v = mx_lex_score(lx, &tk, NULL);
		cr_assert(isnan(v) || (v >= -5 && v <= 5));
	}
	/* a long comment: 200,000 x "great " -> one token each, mean 3 */
	size_t n = 200000 * 6;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i += 6)
		memcpy(big + i, "great ", 6);
	size_t m;
	cr_assert_eq(mx_tokenize(&tk, big, n), 0);
	cr_assert_eq(tk.n, 200000);
	cr_assert_float_eq(mx_lex_score(lx, &tk, &m), 3.0, 0);
	cr_assert_eq(m, 200000);
	free(big);
	mx_tokens_fini(&tk);
	mx_lex_free(lx);
}

Test(lexicon, negation_phrases_and_means)
{
	struct mx_lexicon *lx = en();
	size_t m;
	cr_assert_gt(mx_lex_size(lx), 300);
	/* one word: its score */
	cr_assert_float_eq(score_of(lx, "Excellent", &m), 4.0, 0);
	cr_assert_eq(m, 1);
	/* negation within 3 tokens: "not very good" -> -2 */
	cr_assert_float_eq(score_of(lx, "not very good", &m), -2.0, 0);
	/* "didn't" (written with a curly apostrophe) is a negator, but its scope
	 * ends at the comma: "help" is no entry, helpful +3 is not negated */
	cr_assert_float_eq(score_of(lx, "didn\xE2\x80\x99t help at all, helpful", &m), 3.0, 0);
	/* the 4th token after a negator is out of its scope: good +2 */
	cr_assert_float_eq(score_of(lx, "not at all a good", &m), 2.0, 0);
	/* the 3rd is in: -2 */
	cr_assert_float_eq(score_of(lx, "not at a good", &m), -2.0, 0);
	/* a clause break ends the scope */
	cr_assert_float_eq(score_of(lx, "never. good", &m), 2.0, 0);
	/* phrases before their words: "not bad" +1 (not "bad" negated, +3);
	 * "waste of money" -4; "no problems" +2 */
	cr_assert_float_eq(score_of(lx, "Not bad", &m), 1.0, 0);
	cr_assert_eq(m, 1);
	cr_assert_float_eq(score_of(lx, "a waste of money", &m), -4.0, 0);
	cr_assert_float_eq(score_of(lx, "no problems", &m), 2.0, 0);
	/* a phrase does not cross a clause break: "waste. of money" has no entry */
	cr_assert(isnan(score_of(lx, "waste. of money", &m)));
	cr_assert_eq(m, 0);
	/* a phrase inside a negator's scope is negated: "not highly recommend"
	 * -> -4 */
	cr_assert_float_eq(score_of(lx, "I do not highly recommend", &m), -4.0, 0);
	/* mean of the entries: great +3, slow -2 -> 0.5 */
	cr_assert_float_eq(score_of(lx, "Great shop but slow", &m), 0.5, 0);
	cr_assert_eq(m, 2);
	/* stop words and terms */
	cr_assert(mx_lex_is_stop(lx, "the", 3));
	cr_assert(!mx_lex_is_stop(lx, "refund", 6));
	struct mx_tokens tk;
	mx_tokens_init(&tk);
	cr_assert_eq(mx_tokenize(&tk, "the refund 2024 x tv", 20), 0);
	cr_assert(!mx_lex_is_term(lx, &tk, 0));   /* stop word */
	cr_assert(mx_lex_is_term(lx, &tk, 1));
	cr_assert(!mx_lex_is_term(lx, &tk, 2));   /* digits */
	cr_assert(!mx_lex_is_term(lx, &tk, 3));   /* one ASCII letter */
	cr_assert(mx_lex_is_term(lx, &tk, 4));
	mx_tokens_fini(&tk);
	mx_lex_free(lx);
}

Test(lexicon, file_format_and_errors)
{
	char dir[256], path[512];
	struct mx_lexicon *lx = NULL;
	struct crm_err err;
	tmpdir_make(dir, sizeof dir);
	/* a language of its own: comments, a CRLF line, a phrase, a negator,
	 * scores with a sign; stop words with several per line */
	write_file(dir, "zz.tsv", "# test\n\nbueno\t+3\r\nmuy malo\t-4\nno\tnegate\n  # indented\n"
		   "MALO\t-2\n", path, sizeof path);
	write_file(dir, "zz.stop.txt", "# stop\nel la\nde\n", path, sizeof path);
	cr_assert_eq(mx_lex_load(dir, "zz", &lx, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(mx_lex_size(lx), 4);
	/* "no bueno" -3; "muy malo" -4 as a phrase; "malo" -2 */
	cr_assert_float_eq(score_of(lx, "no bueno", NULL), -3.0, 0);
	cr_assert_float_eq(score_of(lx, "Muy malo", NULL), -4.0, 0);
	cr_assert_float_eq(score_of(lx, "malo", NULL), -2.0, 0);
	cr_assert(mx_lex_is_stop(lx, "la", 2));
	cr_assert(mx_lex_is_stop(lx, "de", 2));
	mx_lex_free(lx);

	/* errors name the file and line */
	static const struct { const char *text, *why; long line; } bad[] = {
		{ "ok\t1\nbad 3\n", "no tab", 2 },
		{ "ok\t1\nbad\t6\n", "outside -5..5", 2 },
		{ "ok\t1\n\nbad\t0\n", "score of 0", 3 },
		{ "bad\tx\n", "not an integer", 1 },
		{ "ok\t1\nOK\t2\n", "listed twice", 2 },
		{ "a b c d\t1\n", "at most 3 words", 1 },
		{ "not really\tnegate\n", "negator is one word", 1 },
		{ "a, b\t1\n", "punctuation", 1 },
		{ "\t1\n", "no word", 1 },
		{ "# nothing\n", "no entries", 0 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[600];
		write_file(dir, "yy.tsv", bad[i].text, path, sizeof path);
		cr_expect_eq(mx_lex_load(dir, "yy", &lx, &err), CRM_EPARSE, "case %zu", i);
		cr_expect(strstr(err.msg, bad[i].why), "case %zu: %s", i, err.msg);
		if (bad[i].line)
			snprintf(want, sizeof want, "%s:%ld:", path, bad[i].line);
		else
			snprintf(want, sizeof want, "%s:", path);
		cr_expect(strstr(err.msg, want), "case %zu: %s", i, err.msg);
		cr_expect_null(lx);
	}
	/* no such language; a language name that could leave the folder */
	cr_assert_eq(mx_lex_load(dir, "fr", &lx, &err), CRM_ENOTFOUND);
	cr_assert(strstr(err.msg, "fr.tsv"), "%s", err.msg);
	cr_assert_eq(mx_lex_load(dir, "../en", &lx, &err), CRM_EINVAL);
	cr_assert_eq(mx_lex_load(dir, "", &lx, &err), CRM_EINVAL);
	tmpdir_remove(dir);
	/* the default folder: data/lexicon under the current folder (the tests
	 * run from the repository root) */
	cr_assert_eq(mx_lex_load(NULL, NULL, &lx, &err), CRM_OK, "%s", err.msg);
	cr_assert_str_eq(mx_lex_path(lx), "data/lexicon/en.tsv");
	mx_lex_free(lx);
}

/* -------------------------------------------------------------------- demo */

static struct crm_dataset *demo_set(char *dir, size_t cap, size_t customers)
{
	static const int ents[] = { CRM_CUSTOMERS, CRM_ORDERS, CRM_FEEDBACK };
	struct demo_opts o = { customers, 42, NULL };
	struct crm_err err;
	struct ds_file f[3];
	struct ing_summary sums[3];
	char paths[3][512];
	struct crm_dataset *ds;
	tmpdir_make(dir, cap);
	o.out_dir = dir;
	cr_assert_eq(demo_generate(&o, NULL, &err), CRM_OK, "%s", err.msg);
	memset(f, 0, sizeof f);
	for (size_t i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s.csv", dir, ent_get(ents[i])->name);
		f[i].path = paths[i];
		f[i].ing.entity = ents[i];
	}
	cr_assert_eq(ds_load_files(f, 3, sums, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

Test(surveys, demo_comments_match_scores_and_leavers_answer_lower)
{
	char dir[256];
	struct crm_dataset *ds = demo_set(dir, sizeof dir, 3000);
	struct mx_ctx ctx;
	struct mx_surveys s;
	struct crm_err err;
	/* the whole life of the shop: 2022-07-01 to the end of 2025-06-30 */
	ctx_for(&ctx, ds, "2025-06-30T23:59:59Z", "2022-07-01", "2025-07-01");
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	const struct crm_table *t = &ds->t[CRM_FEEDBACK];
	/* every stored response is in P and on its scale (the importer
	 * rejected the planted out-of-scale rows) */
	cr_assert_eq(s.responses, t->n);
	cr_assert_eq(s.all.nps_n + s.all.csat_n + s.all.ces_n, t->n);
	cr_assert_eq(s.all.unscored, 0);
	/* The demo writes a positive comment for a good score (NPS 9-10, CSAT
	 * 4-5, CES 6-7), a negative one for a bad score (NPS 0-6, CSAT 1-2, CES
	 * 1-3) and a mixed one otherwise (docs/DEMO.md). Every positive and
	 * negative comment of the demo (with or without its "Thanks for
	 * asking." second line) must score on its side. */
	size_t good = 0, good_pos = 0, bad = 0, bad_neg = 0;
	for (size_t r = 0; r < t->n; r++) {
		if (isnan(s.sentiment[r]))
			continue;
		const char *k = crm_cell_str(t, CRM_F_KIND, r);
		int64_t v = t->col[CRM_F_SCORE].i64[r];
		int is_good = strcmp(k, "nps") == 0 ? v >= 9 : strcmp(k, "csat") == 0 ? v >= 4 : v >= 6;
		int is_bad = strcmp(k, "nps") == 0 ? v <= 6 : strcmp(k, "csat") == 0 ? v <= 2 : v <= 3;
		if (is_good) {
			good++;
			good_pos += s.sentiment[r] > 0;
		} else if (is_bad) {
			bad++;
			bad_neg += s.sentiment[r] < 0;
		}
	}
	cr_assert_gt(good, 100);
	cr_assert_gt(bad, 50);
	cr_expect_eq(good_pos, good, "%zu of %zu good comments positive", good_pos, good);
	cr_expect_eq(bad_neg, bad, "%zu of %zu bad comments negative", bad_neg, bad);
	/* all 40% of responses have a comment, all in English: all scored */
	cr_assert_eq(s.comments.scored, s.comments.texts);
	cr_assert_float_eq((double)s.comments.texts / (double)t->n, 0.40, 0.05);
	mx_surveys_fini(&s);

	/* Leavers answer lower (truth: NPS +48 for those who stay, -28 for
	 * those who drop out). Customers whose last completed order is more
	 * than 365 days before A are churned (METRICS.md); their NPS must be
	 * well below the others'. */
	uint8_t *churned = calloc(ds->n_customers, 1), *active = calloc(ds->n_customers, 1);
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	for (size_t c = 0; c < ds->n_customers; c++) {
		int64_t last = CRM_NA;
		for (uint64_t r = o->by_customer[c]; r < o->by_customer[c + 1]; r++)
			if (mx_order_kind(o, r) == MX_COMPLETED)
				last = o->col[CRM_O_ORDERED_AT].i64[r];
		if (last == CRM_NA)
			continue;
		if (ctx.o.as_of - last > 365 * (int64_t)SECS_PER_DAY)
			churned[c] = 1;
		else
			active[c] = 1;
	}
	ctx.in = churned;
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	double nps_churned = s.all.nps, moe_churned = s.all.nps_moe;
	size_t n_churned = s.all.nps_n;
	mx_surveys_fini(&s);
	ctx.in = active;
	cr_assert_eq(mx_surveys_compute(&ctx, &s, &err), CRM_OK, "%s", err.msg);
	double nps_active = s.all.nps, moe_active = s.all.nps_moe;
	size_t n_active = s.all.nps_n;
	mx_surveys_fini(&s);
	cr_assert_gt(n_churned, 50);
	cr_assert_gt(n_active, 50);
	/* the gap must exceed both margins of error combined */
	cr_expect_gt(nps_active - nps_churned, moe_active + moe_churned,
		     "NPS active %.1f (n %zu, +/- %.1f), churned %.1f (n %zu, +/- %.1f)",
		     nps_active, n_active, moe_active, nps_churned, n_churned, moe_churned);
	free(churned);
	free(active);
	crm_dataset_free(ds);
	tmpdir_remove(dir);
}
