/* surveys.c - the "surveys" family of METRICS.md (metrics layer): NPS and
 * its margin of error, CSAT, CES, and comment sentiment with the most
 * frequent terms of negative comments per topic. One pass over the feedback
 * rows of the counted customers gathers the scores and the comments; the
 * comments are then scored with the language's lexicon (lexicon.h), read
 * only when there is a comment. Terms are counted in one hash map keyed by
 * topic and term. Decisions: docs/METRICS-NOTES.md, "Surveys". */
#include "metrics/surveys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strmap.h"
#include "core/tstamp.h"
#include "report/doc.h"

enum { K_NONE = 0, K_NPS, K_CSAT, K_CES };

static int kind_of(const char *s)
{
	return strcmp(s, "nps") == 0 ? K_NPS : strcmp(s, "csat") == 0 ? K_CSAT
	       : strcmp(s, "ces") == 0 ? K_CES : K_NONE;
}

/* The variance of NPS = p - d, the difference of two shares of one
 * multinomial sample of n: Var = (p(1-p) + d(1-d) + 2pd) / n, from
 * Var(share) = s(1-s)/n and Cov(p, d) = -pd/n, which is (p + d - (p - d)^2)
 * / n. The derivation is in the answers to the Cross Validated question "How
 * can I calculate margin of error in a NPS (Net Promoter Score) result?"
 * (stats.stackexchange.com) and in CYBAEA's post on NPS confidence
 * intervals (http://www.cybaea.net/Journal/2016/01/14/NPS-confidence-
 * intervals-stats/). The 95% margin is the Wald one, 1.96 standard errors. */
double mx_nps_moe(size_t promoters, size_t detractors, size_t n)
{
	if (n == 0)
		return NAN;
	double p = (double)promoters / (double)n, d = (double)detractors / (double)n;
	double var = (p + d - (p - d) * (p - d)) / (double)n;
	return 1.96 * sqrt(var > 0 ? var : 0) * 100.0;
}

static void add_score(struct mx_survey_scores *s, int kind, int64_t v)
{
	int ok = v != CRM_NA && ((kind == K_NPS && v >= 0 && v <= 10) ||
				 (kind == K_CSAT && v >= 1 && v <= 5) ||
				 (kind == K_CES && v >= 1 && v <= 7));
	if (!ok) {
		s->unscored++;
		return;
	}
	switch (kind) {
	case K_NPS:
		s->nps_n++;
		if (v >= 9)
			s->promoters++;
		else if (v >= 7)
			s->passives++;
		else
			s->detractors++;
		break;
	case K_CSAT:
		s->csat_n++;
		s->csat_satisfied += (size_t)(v >= 4);
		break;
	default:
		s->ces_n++;
		s->ces_sum += v;
		s->ces_easy += (size_t)(v >= 5);
		break;
	}
}

static void finish_scores(struct mx_survey_scores *s)
{
	s->nps = s->nps_n ? 100.0 * ((double)s->promoters - (double)s->detractors) / (double)s->nps_n
			  : NAN;
	s->nps_moe = mx_nps_moe(s->promoters, s->detractors, s->nps_n);
	s->promoters_pct = mx_pct(s->promoters, s->nps_n);
	s->detractors_pct = mx_pct(s->detractors, s->nps_n);
	s->csat = mx_pct(s->csat_satisfied, s->csat_n);
	s->ces_mean = s->ces_n ? (double)s->ces_sum / (double)s->ces_n : NAN;
	s->ces_easy_pct = mx_pct(s->ces_easy, s->ces_n);
}

static void sentiment_nan(struct mx_sentiment *s)
{
	s->mean = s->positive_pct = s->negative_pct = NAN;
}

/* Adds one comment of sentiment v (NAN: no lexicon entry) to s; sum keeps
 * the sum of the scored ones. */
static void add_sentiment(struct mx_sentiment *s, double *sum, double v)
{
	s->texts++;
	if (isnan(v))
		return;
	s->scored++;
	*sum += v;
	s->positive += (size_t)(v > 0);
	s->negative += (size_t)(v < 0);
}

static void finish_sentiment(struct mx_sentiment *s, double sum)
{
	s->mean = s->scored ? sum / (double)s->scored : NAN;
	s->positive_pct = mx_pct(s->positive, s->texts);
	s->negative_pct = mx_pct(s->negative, s->texts);
}

/* Keeps the MX_WORST_COMMENTS most negative comments, ties by row. */
static void keep_worst(struct mx_surveys *out, size_t row, double v)
{
	size_t n = out->n_worst;
	if (n == MX_WORST_COMMENTS && !(v < out->worst[n - 1].sentiment))
		return;
	size_t i = n < MX_WORST_COMMENTS ? n : n - 1;
	while (i > 0 && out->worst[i - 1].sentiment > v) {
		out->worst[i] = out->worst[i - 1];
		i--;
	}
	out->worst[i] = (struct mx_comment){ row, v };
	if (n < MX_WORST_COMMENTS)
		out->n_worst++;
}

/* The terms of negative comments: a map from (topic code, term) to the
 * number of comments holding it. */
struct terms {
	struct strmap map;          /* 4 bytes of topic code + the term -> count */
	size_t *last;               /* by key index: last comment counted + 1 */
	size_t cap_last;
	struct buf key;
};

static int count_terms(struct terms *tm, const struct mx_lexicon *lx,
		       const struct mx_tokens *tk, uint32_t topic, size_t comment)
{
	for (size_t i = 0; i < tk->n; i++) {
		if (!mx_lex_is_term(lx, tk, i))
			continue;
		tm->key.len = 0;
		if (buf_append(&tm->key, &topic, sizeof topic) != 0 ||
		    buf_append(&tm->key, tk->text.p + tk->v[i].off, tk->v[i].len) != 0)
			return -1;
		size_t k;
		int added;
		if (strmap_put(&tm->map, tm->key.p, tm->key.len, 0, &k, &added) != 0)
			return -1;
		if (k >= tm->cap_last) {
			size_t cap = tm->cap_last ? tm->cap_last * 2 : 1024;
			while (cap <= k)
				cap *= 2;
			size_t *v = xreallocn(tm->last, cap, sizeof *v);
			if (!v)
				return -1;
			memset(v + tm->cap_last, 0, (cap - tm->cap_last) * sizeof *v);
			tm->last = v;
			tm->cap_last = cap;
		}
		if (tm->last[k] == comment + 1)
			continue;   /* counted for this comment already */
		tm->last[k] = comment + 1;
		tm->map.values[k]++;
	}
	return 0;
}

/* 1 when term a (count ca) ranks before term b (count cb). */
static int term_before(size_t ca, const char *a, size_t na, size_t cb, const char *b, size_t nb)
{
	if (ca != cb)
		return ca > cb;
	size_t n = na < nb ? na : nb;
	int c = memcmp(a, b, n);
	return c != 0 ? c < 0 : na < nb;
}

/* Picks each topic's top terms from the map into out (text copied into
 * out->pool). topic_slot maps a topic code to its index in out->topics. */
static int top_terms(struct mx_surveys *out, const struct terms *tm, const size_t *topic_slot,
		     size_t n_codes)
{
	/* candidates: by topic, the key indexes of the best terms so far */
	size_t n = tm->map.n;
	size_t (*best)[MX_TOP_TERMS] = NULL;
	uint64_t *off = NULL;
	int rc = -1;
	if (out->n_topics == 0 || n == 0)
		return 0;
	best = xmallocn(out->n_topics, sizeof *best);
	if (!best)
		goto done;
	for (size_t i = 0; i < out->n_topics; i++)
		out->topics[i].n_terms = 0;
	for (size_t k = 0; k < n; k++) {
		size_t len;
		const char *key = strs_get(&tm->map.keys, k, &len);
		uint32_t code;
		memcpy(&code, key, sizeof code);
		if (code >= n_codes || topic_slot[code] == SIZE_MAX)
			continue;
		struct mx_survey_topic *tp = &out->topics[topic_slot[code]];
		size_t *b = best[topic_slot[code]];
		size_t cnt = tm->map.values[k];
		const char *w = key + sizeof code;
		size_t wn = len - sizeof code;
		size_t pos = tp->n_terms;
		while (pos > 0) {
			size_t o_len;
			const char *o = strs_get(&tm->map.keys, b[pos - 1], &o_len);
			if (!term_before(cnt, w, wn, tm->map.values[b[pos - 1]], o + sizeof code,
					 o_len - sizeof code))
				break;
			pos--;
		}
		if (pos >= MX_TOP_TERMS)
			continue;
		size_t last = tp->n_terms < MX_TOP_TERMS ? tp->n_terms : MX_TOP_TERMS - 1;
		for (size_t j = last; j > pos; j--)
			b[j] = b[j - 1];
		b[pos] = k;
		if (tp->n_terms < MX_TOP_TERMS)
			tp->n_terms++;
	}
	/* copy the winners' text; pointers are set once the pool stops moving */
	size_t total = 0;
	for (size_t i = 0; i < out->n_topics; i++)
		total += out->topics[i].n_terms;
	if (!(off = xmallocn(total ? total : 1, sizeof *off)))
		goto done;
	size_t q = 0;
	for (size_t i = 0; i < out->n_topics; i++) {
		for (size_t j = 0; j < out->topics[i].n_terms; j++) {
			size_t len;
			const char *key = strs_get(&tm->map.keys, best[i][j], &len);
			off[q++] = out->pool.n;
			if (strs_push(&out->pool, key + sizeof(uint32_t), len - sizeof(uint32_t)) != 0)
				goto done;
			out->topics[i].terms[j].comments = tm->map.values[best[i][j]];
		}
	}
	q = 0;
	for (size_t i = 0; i < out->n_topics; i++) {
		for (size_t j = 0; j < out->topics[i].n_terms; j++) {
			size_t len;
			out->topics[i].terms[j].term = strs_get(&out->pool, (size_t)off[q++], &len);
		}
	}
	rc = 0;
done:
	free(best);
	free(off);
	return rc;
}

int mx_surveys_compute(const struct mx_ctx *ctx, struct mx_surveys *out,
		       struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_FEEDBACK];
	const int64_t *at = t->col[CRM_F_ANSWERED_AT].kind == CRM_COL_I64
			    ? t->col[CRM_F_ANSWERED_AT].i64 : NULL;
	const int64_t *score = t->col[CRM_F_SCORE].kind == CRM_COL_I64 ? t->col[CRM_F_SCORE].i64 : NULL;
	const uint32_t *kind = t->col[CRM_F_KIND].kind == CRM_COL_CAT ? t->col[CRM_F_KIND].cat : NULL;
	const uint32_t *topic = t->col[CRM_F_TOPIC].kind == CRM_COL_CAT ? t->col[CRM_F_TOPIC].cat : NULL;
	const struct crm_strings *text = t->col[CRM_F_COMMENT].kind == CRM_COL_STR
					 ? &t->col[CRM_F_COMMENT].str : NULL;
	size_t n_top = topic && t->col[CRM_F_TOPIC].dict.n ? t->col[CRM_F_TOPIC].dict.n : 1;
	size_t n_kind = kind ? t->col[CRM_F_KIND].dict.n : 0;
	struct mx_survey_topic *acc = NULL;
	uint8_t *kinds = NULL;
	size_t *slot = NULL;
	double *sums = NULL, sum_all = 0;
	uint64_t *rows = NULL;
	size_t n_rows = 0, cap_rows = 0;
	struct mx_lexicon *lx = NULL;
	struct mx_tokens tk;
	struct terms tm;
	int rc = CRM_OK;
	memset(out, 0, sizeof *out);
	memset(&tm, 0, sizeof tm);
	mx_tokens_init(&tk);
	buf_init(&tm.key);
	strs_init(&out->pool);
	out->as_of = ctx->o.as_of;
	out->p_start = ctx->o.p_start;
	out->p_end = ctx->o.p_end;
	sentiment_nan(&out->comments);
	finish_scores(&out->all);
	out->has_feedback = t->n > 0 && at != NULL;
	if (!out->has_feedback)
		return CRM_OK;
	out->n_rows = t->n;
	acc = calloc(n_top, sizeof *acc);
	kinds = calloc(n_kind ? n_kind : 1, 1);
	slot = xmallocn(n_top, sizeof *slot);
	sums = calloc(n_top, sizeof *sums);
	out->sentiment = xmallocn(t->n, sizeof *out->sentiment);
	if (!acc || !kinds || !slot || !sums || !out->sentiment)
		goto oom;
	for (size_t k = 0; k < n_kind; k++)
		kinds[k] = (uint8_t)kind_of(mx_code_name(&t->col[CRM_F_KIND], (uint32_t)k, ""));
	for (size_t r = 0; r < t->n; r++)
		out->sentiment[r] = NAN;

	/* the scores, and the rows of the comments to score */
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c) || !t->by_customer)
			continue;
		for (uint64_t r = t->by_customer[c]; r < t->by_customer[c + 1]; r++) {
			int64_t when = at[r];
			if (when == CRM_NA || when < ctx->o.p_start || when >= ctx->o.p_end ||
			    when > ctx->o.as_of)
				continue;
			uint32_t tc = topic ? topic[r] : 0;
			uint32_t kc = kind ? kind[r] : 0;
			int kd = kc < n_kind ? kinds[kc] : K_NONE;
			int64_t v = score ? score[r] : CRM_NA;
			out->responses++;
			acc[tc].responses++;
			add_score(&out->all, kd, v);
			add_score(&acc[tc].scores, kd, v);
			if (!text || text->off[r + 1] - text->off[r] <= 1)
				continue;
			if (n_rows == cap_rows) {
				size_t cap = cap_rows ? cap_rows * 2 : 256;
				uint64_t *nv = xreallocn(rows, cap, sizeof *nv);
				if (!nv)
					goto oom;
				rows = nv;
				cap_rows = cap;
			}
			rows[n_rows++] = r;
		}
	}

	/* the topics with responses, by code */
	size_t k = 0;
	for (size_t g = 0; g < n_top; g++)
		k += acc[g].responses > 0;
	if (!(out->topics = calloc(k ? k : 1, sizeof *out->topics)))
		goto oom;
	for (size_t g = 0; g < n_top; g++) {
		slot[g] = SIZE_MAX;
		if (acc[g].responses == 0)
			continue;
		slot[g] = out->n_topics;
		struct mx_survey_topic *x = &out->topics[out->n_topics++];
		*x = acc[g];
		x->code = (uint32_t)g;
		x->name = mx_code_name(&t->col[CRM_F_TOPIC], (uint32_t)g, "");
		finish_scores(&x->scores);
		sentiment_nan(&x->comments);
	}
	finish_scores(&out->all);

	/* the comments */
	if (n_rows > 0) {
		if ((rc = mx_lex_load(ctx->o.lexicon_dir, ctx->o.language, &lx, err)) != CRM_OK)
			goto done;
		snprintf(out->lexicon_path, sizeof out->lexicon_path, "%s", mx_lex_path(lx));
		if (strmap_init(&tm.map, 1024) != 0)
			goto oom;
		for (size_t i = 0; i < n_rows; i++) {
			uint64_t r = rows[i];
			uint32_t tc = topic ? topic[r] : 0;
			struct mx_survey_topic *x = &out->topics[slot[tc]];
			const char *s = text->bytes + text->off[r];
			size_t len = (size_t)(text->off[r + 1] - text->off[r] - 1);
			if (mx_tokenize(&tk, s, len) != 0)
				goto oom;
			size_t m;
			double v = mx_lex_score(lx, &tk, &m);
			out->sentiment[r] = v;
			add_sentiment(&out->comments, &sum_all, v);
			add_sentiment(&x->comments, &sums[tc], v);
			if (!(v < 0))
				continue;
			keep_worst(out, (size_t)r, v);
			if (count_terms(&tm, lx, &tk, tc, i) != 0)
				goto oom;
		}
		finish_sentiment(&out->comments, sum_all);
		for (size_t g = 0; g < n_top; g++)
			if (slot[g] != SIZE_MAX)
				finish_sentiment(&out->topics[slot[g]].comments, sums[g]);
		if (top_terms(out, &tm, slot, n_top) != 0)
			goto oom;
	}
	goto done;
oom:
	rc = crm_err_set(err, CRM_ENOMEM, "surveys: out of memory");
done:
	free(acc);
	free(kinds);
	free(slot);
	free(sums);
	free(rows);
	mx_lex_free(lx);
	mx_tokens_fini(&tk);
	if (tm.map.slots)
		strmap_fini(&tm.map);
	free(tm.last);
	buf_fini(&tm.key);
	if (rc != CRM_OK)
		mx_surveys_fini(out);
	return rc;
}

void mx_surveys_fini(struct mx_surveys *s)
{
	free(s->topics);
	free(s->sentiment);
	strs_fini(&s->pool);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ report */

static void emit(const struct mx_ctx *ctx, const struct mx_surveys *s, struct rp_doc *d)
{
	const struct crm_table *t = &ctx->ds->t[CRM_FEEDBACK];
	int h = s->has_feedback;
	struct rp_section *sec = rp_section_new(d, "surveys", ctx->group, "Surveys");
	mx_param_period(sec, s->as_of, s->p_start, s->p_end, 0, NULL);
	rp_param(sec, "scales", "kind nps 0-10, csat 1-5, ces 1-7 (CES 2.0 agreement, 7 = easiest)");
	rp_param(sec, "language", ctx->o.language ? ctx->o.language : "en");
	if (s->lexicon_path[0])
		rp_param(sec, "lexicon", s->lexicon_path);

	const struct mx_survey_scores *x = &s->all;
	rp_value(sec, "responses", "Responses in P", RP_COUNT, mx_count_or_nan(h, s->responses));
	rp_value(sec, "nps", "Net Promoter Score", RP_SCORE, x->nps);
	rp_value(sec, "nps_moe", "NPS 95% margin of error (+/- points)", RP_SCORE, x->nps_moe);
	rp_value(sec, "nps_responses", "NPS responses", RP_COUNT, mx_count_or_nan(h, x->nps_n));
	rp_value(sec, "promoters", "Promoters (9-10)", RP_PERCENT, x->promoters_pct);
	rp_value(sec, "detractors", "Detractors (0-6)", RP_PERCENT, x->detractors_pct);
	rp_value(sec, "csat", "CSAT (% of 4-5 on 1-5)", RP_PERCENT, x->csat);
	rp_value(sec, "csat_responses", "CSAT responses", RP_COUNT, mx_count_or_nan(h, x->csat_n));
	rp_value(sec, "ces", "Customer Effort Score (mean on 1-7)", RP_SCORE, x->ces_mean);
	rp_value(sec, "ces_easy", "CES 5-7 (easy)", RP_PERCENT, x->ces_easy_pct);
	rp_value(sec, "ces_responses", "CES responses", RP_COUNT, mx_count_or_nan(h, x->ces_n));
	rp_value(sec, "unscored", "Responses without a score on their scale", RP_COUNT,
		 mx_count_or_nan(h, x->unscored));
	rp_note(sec, "NPS = % promoters (9-10) - % detractors (0-6) of NPS responses in P. "
		"95% margin of error = 1.96 x sqrt((p + d - (p - d)^2) / n) x 100, p and d the "
		"promoter and detractor shares: the variance of a difference of two multinomial "
		"shares (Var = p(1-p)/n, Cov = -pd/n).");
	rp_note(sec, "CSAT = % of CSAT responses of 4 or 5 on 1-5. CES = mean of CES responses "
		"on 1-7, and % of 5-7.");

	const struct mx_sentiment *cm = &s->comments;
	rp_value(sec, "comments", "Comments in P", RP_COUNT, mx_count_or_nan(h, cm->texts));
	rp_value(sec, "comments_scored", "... with a lexicon word", RP_COUNT,
		 mx_count_or_nan(h, cm->scored));
	rp_value(sec, "sentiment", "Mean comment sentiment (-5..5)", RP_SCORE, cm->mean);
	rp_value(sec, "comments_positive", "Comments positive", RP_PERCENT, cm->positive_pct);
	rp_value(sec, "comments_negative", "Comments negative", RP_PERCENT, cm->negative_pct);
	rp_note(sec, "Comment sentiment = mean score (-5..5) of the lexicon words and phrases "
		"found, a negator (not, never, no ...) flipping those within the next 3 words of "
		"its clause; positive > 0, negative < 0, as shares of all comments; a comment "
		"with no lexicon word is not scored. Terms: words of negative comments other "
		"than stop words, counted once per comment.");
	{
		const struct rp_col cols[] = {
			{ "topic", RP_TEXT }, { "responses", RP_COUNT }, { "NPS", RP_SCORE },
			{ "NPS n", RP_COUNT }, { "CSAT %", RP_PERCENT }, { "CES", RP_SCORE },
			{ "comments", RP_COUNT }, { "sentiment", RP_SCORE },
			{ "positive %", RP_PERCENT }, { "negative %", RP_PERCENT },
		};
		struct rp_table *tb = rp_table_new(sec, "topics", "Surveys by topic", cols,
						   sizeof cols / sizeof cols[0]);
		for (size_t i = 0; i < s->n_topics; i++) {
			const struct mx_survey_topic *tp = &s->topics[i];
			rp_row(tb);
			rp_cell_str(tb, tp->code ? tp->name : "(none)");
			rp_cell_num(tb, (double)tp->responses);
			rp_cell_num(tb, tp->scores.nps);
			rp_cell_num(tb, (double)tp->scores.nps_n);
			rp_cell_num(tb, tp->scores.csat);
			rp_cell_num(tb, tp->scores.ces_mean);
			rp_cell_num(tb, (double)tp->comments.texts);
			rp_cell_num(tb, tp->comments.mean);
			rp_cell_num(tb, tp->comments.positive_pct);
			rp_cell_num(tb, tp->comments.negative_pct);
		}
	}
	{
		const struct rp_col cols[] = {
			{ "topic", RP_TEXT }, { "rank", RP_COUNT }, { "term", RP_TEXT },
			{ "comments", RP_COUNT },
		};
		struct rp_table *tb = rp_table_new(sec, "negative_terms",
						   "Most frequent terms of negative comments", cols, 4);
		for (size_t i = 0; i < s->n_topics; i++) {
			const struct mx_survey_topic *tp = &s->topics[i];
			for (size_t j = 0; j < tp->n_terms; j++) {
				rp_row(tb);
				rp_cell_str(tb, tp->code ? tp->name : "(none)");
				rp_cell_num(tb, (double)(j + 1));
				rp_cell_str(tb, tp->terms[j].term);
				rp_cell_num(tb, (double)tp->terms[j].comments);
			}
		}
	}
	{
		const struct rp_col cols[] = {
			{ "response", RP_TEXT }, { "answered", RP_DATE }, { "topic", RP_TEXT },
			{ "sentiment", RP_SCORE }, { "comment", RP_TEXT },
		};
		struct rp_table *tb = rp_table_new(sec, "negative_comments",
						   "Most negative comments", cols, 5);
		for (size_t i = 0; i < s->n_worst; i++) {
			size_t r = s->worst[i].row;
			rp_row(tb);
			rp_cell_str(tb, crm_cell_str(t, CRM_F_RESPONSE_ID, r));
			rp_cell_num(tb, (double)t->col[CRM_F_ANSWERED_AT].i64[r]);
			const char *tn = crm_cell_str(t, CRM_F_TOPIC, r);
			rp_cell_str(tb, tn[0] ? tn : "(none)");
			rp_cell_num(tb, s->worst[i].sentiment);
			rp_cell_str(tb, crm_cell_str(t, CRM_F_COMMENT, r));
		}
	}
}

int mx_surveys_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	struct mx_surveys s;
	if (ctx->order_channel) {
		struct rp_section *sec = rp_section_new(d, "surveys", ctx->group, "Surveys");
		rp_note(sec, "Survey responses are not orders: surveys are not broken down by "
			"order channel.");
		return CRM_OK;
	}
	int rc = mx_surveys_compute(ctx, &s, err);
	if (rc != CRM_OK)
		return rc;
	emit(ctx, &s, d);
	mx_surveys_fini(&s);
	return CRM_OK;
}
