/* service.c - the "service and interactions" family of METRICS.md (metrics
 * layer): tickets (first response, resolution, SLA), interaction channels,
 * feedback topics, campaign effect on repeat purchase, social media and the
 * engagement score. Each entity is read in one pass over its rows, customer
 * by customer (rows are sorted by customer, then time); quantiles come from
 * mx_quantile on one array per breakdown. The decisions where METRICS.md is
 * silent are in docs/METRICS-NOTES.md, "Service and interactions". */
#include "metrics/service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/tstamp.h"
#include "metrics/browsing.h"
#include "metrics/lexicon.h"
#include "report/doc.h"

#define HOUR 3600.0
#define WEB_DAYS 90             /* engagement: web sessions in the last 90 days */
#define RECENCY_MAX_DAYS 36525  /* engagement recency: 100 years and more tie */

/* ---------------------------------------------------------------- columns */

static const int64_t *i64_col(const struct crm_table *t, int f)
{
	return t->col[f].kind == CRM_COL_I64 ? t->col[f].i64 : NULL;
}

static const uint32_t *cat_col(const struct crm_table *t, int f)
{
	return t->col[f].kind == CRM_COL_CAT ? t->col[f].cat : NULL;
}

/* Codes of a CAT column (1 when it is absent: every row has code 0). */
static size_t n_codes(const struct crm_table *t, int f)
{
	return t->col[f].kind == CRM_COL_CAT && t->col[f].dict.n > 0 ? t->col[f].dict.n : 1;
}

/* The rows of customer c in t: [*lo, *hi). */
static void rows_of(const struct crm_table *t, size_t c, uint64_t *lo, uint64_t *hi)
{
	if (t->n == 0 || !t->by_customer) {
		*lo = *hi = 0;
		return;
	}
	*lo = t->by_customer[c];
	*hi = t->by_customer[c + 1];
}

static int in_p(const struct mx_ctx *ctx, int64_t t)
{
	return t != CRM_NA && t >= ctx->o.p_start && t < ctx->o.p_end && t <= ctx->o.as_of;
}

/* A growable array of doubles. */
struct dvec {
	double *v;
	size_t n, cap;
};

static int dvec_push(struct dvec *a, double x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		double *v = xreallocn(a->v, cap, sizeof *v);
		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

/* ---------------------------------------------------------------- tickets */

/* Durations (hours) of answered or resolved tickets with the ticket's
 * breakdown codes beside them. */
struct durations {
	struct dvec h;                   /* hours */
	uint32_t *code[MX_N_BY];         /* h.cap codes per breakdown */
	size_t cap_code;
	int64_t *secs;                   /* h.cap seconds, for exact sums */
};

static int dur_push(struct durations *d, int64_t secs, const uint32_t code[MX_N_BY])
{
	if (dvec_push(&d->h, (double)secs / HOUR) != 0)
		return -1;
	if (d->cap_code < d->h.cap) {
		for (int b = 0; b < MX_N_BY; b++) {
			uint32_t *v = xreallocn(d->code[b], d->h.cap, sizeof *v);
			if (!v)
				return -1;
			d->code[b] = v;
		}
		int64_t *s = xreallocn(d->secs, d->h.cap, sizeof *s);
		if (!s)
			return -1;
		d->secs = s;
		d->cap_code = d->h.cap;
	}
	for (int b = 0; b < MX_N_BY; b++)
		d->code[b][d->h.n - 1] = code[b];
	d->secs[d->h.n - 1] = secs;
	return 0;
}

static void dur_fini(struct durations *d)
{
	free(d->h.v);
	for (int b = 0; b < MX_N_BY; b++)
		free(d->code[b]);
	free(d->secs);
	memset(d, 0, sizeof *d);
}

/* Median, mean and p90 of v[0..n) (sorted in place); secs sum exact. */
static void dur_summary(double *v, size_t n, int64_t sum_secs, double *median, double *mean,
			double *p90)
{
	*median = mx_quantile(v, n, 0.5);   /* sorts v */
	*p90 = mx_quantile_sorted(v, n, 0.9);
	*mean = n ? (double)sum_secs / (double)n / HOUR : NAN;
}

/* Fills the duration statistics (first response: which 0, resolution: 1)
 * of the overall stats and of every group of every breakdown. count holds
 * the largest number of groups + 1, gsum as many, scratch d->h.n. */
static void dur_stats(struct durations *d, int which, struct mx_ticket_stats *all,
		      struct mx_ticket_stats *groups[MX_N_BY], const size_t n_groups[MX_N_BY],
		      size_t *count, int64_t *gsum, double *scratch)
{
	size_t n = d->h.n;
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += d->secs[i];
	for (int b = 0; b < MX_N_BY; b++) {
		/* group the hours by code (a counting pass), then each group's summary */
		size_t ng = n_groups[b];
		memset(count, 0, (ng + 1) * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[d->code[b][i] + 1]++;
		for (size_t g = 0; g < ng; g++)
			count[g + 1] += count[g];
		memset(gsum, 0, ng * sizeof *gsum);
		for (size_t i = 0; i < n; i++) {
			uint32_t g = d->code[b][i];
			scratch[count[g]++] = d->h.v[i];
			gsum[g] += d->secs[i];
		}
		/* count[g] now ends group g */
		size_t start = 0;
		for (size_t g = 0; g < ng; g++) {
			size_t end = count[g], k = end - start;
			struct mx_ticket_stats *s = &groups[b][g];
			double *med = which ? &s->res_median : &s->frt_median;
			double *mean = which ? &s->res_mean : &s->frt_mean;
			double *p90 = which ? &s->res_p90 : &s->frt_p90;
			dur_summary(scratch + start, k, gsum[g], med, mean, p90);
			start = end;
		}
	}
	if (which)
		dur_summary(d->h.v, n, sum, &all->res_median, &all->res_mean, &all->res_p90);
	else
		dur_summary(d->h.v, n, sum, &all->frt_median, &all->frt_mean, &all->frt_p90);
}

static void stats_finish(struct mx_ticket_stats *s)
{
	s->never_answered = s->tickets - s->answered;
	s->open = s->tickets - s->resolved;
	s->sla_pct = mx_pct(s->sla_met, s->sla_base);
	s->sat_pct = mx_pct(s->satisfied, s->rated);
}

static void stats_nan(struct mx_ticket_stats *s)
{
	s->frt_median = s->frt_mean = s->frt_p90 = NAN;
	s->res_median = s->res_mean = s->res_p90 = NAN;
	s->sla_pct = s->sat_pct = NAN;
}

static int compute_tickets(const struct mx_ctx *ctx, struct mx_service *out, struct crm_err *err)
{
	static const int by_field[MX_N_BY] = { CRM_T_CHANNEL, CRM_T_TOPIC, CRM_T_PRIORITY };
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_TICKETS];
	const int64_t *opened = i64_col(t, CRM_T_OPENED_AT);
	const int64_t *first = i64_col(t, CRM_T_FIRST_RESPONSE_AT);
	const int64_t *resolved = i64_col(t, CRM_T_RESOLVED_AT);
	const int64_t *sat = i64_col(t, CRM_T_SATISFACTION);
	const uint32_t *codes[MX_N_BY];
	struct mx_ticket_stats *groups[MX_N_BY] = { NULL, NULL, NULL };
	size_t ng[MX_N_BY], max_ng = 1;
	struct durations frt, res;
	size_t *count = NULL;
	int64_t *gsum = NULL;
	double *scratch = NULL;
	int rc = CRM_OK;
	memset(&frt, 0, sizeof frt);
	memset(&res, 0, sizeof res);
	stats_nan(&out->tickets);
	out->has_tickets = t->n > 0 && opened != NULL;
	if (!out->has_tickets)
		return CRM_OK;
	for (int b = 0; b < MX_N_BY; b++) {
		codes[b] = cat_col(t, by_field[b]);
		ng[b] = n_codes(t, by_field[b]);
		if (ng[b] > max_ng)
			max_ng = ng[b];
		if (!(groups[b] = calloc(ng[b], sizeof *groups[b]))) {
			rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for ticket groups");
			goto done;
		}
		for (size_t g = 0; g < ng[b]; g++)
			stats_nan(&groups[b][g]);
	}
	const int64_t as_of = ctx->o.as_of;
	const double target = ctx->o.sla_hours * HOUR;
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		uint64_t lo, hi;
		rows_of(t, c, &lo, &hi);
		for (uint64_t r = lo; r < hi; r++) {
			int64_t o = opened[r];
			if (o == CRM_NA || o > as_of)
				continue;
			int64_t f = first ? first[r] : CRM_NA, z = resolved ? resolved[r] : CRM_NA;
			/* a response or resolution before the opening is not one (the
			 * importer rejects such rows) */
			int answered = f != CRM_NA && f <= as_of && f >= o;
			int done_ = z != CRM_NA && z <= as_of && z >= o;
			if (!done_)
				out->backlog++;
			if (!in_p(ctx, o))
				continue;
			uint32_t code[MX_N_BY];
			struct mx_ticket_stats *s[MX_N_BY + 1];
			for (int b = 0; b < MX_N_BY; b++) {
				code[b] = codes[b] ? codes[b][r] : 0;
				s[b] = &groups[b][code[b]];
			}
			s[MX_N_BY] = &out->tickets;
			int met = answered && (double)(f - o) <= target;
			int base = answered || (double)(as_of - o) >= target;
			int64_t sc = sat ? sat[r] : CRM_NA;
			int rated = sc != CRM_NA && sc >= 1 && sc <= 5;
			for (int b = 0; b <= MX_N_BY; b++) {
				s[b]->tickets++;
				s[b]->answered += (size_t)answered;
				s[b]->resolved += (size_t)done_;
				s[b]->sla_met += (size_t)met;
				s[b]->sla_base += (size_t)base;
				s[b]->rated += (size_t)rated;
				s[b]->satisfied += (size_t)(rated && sc >= 4);
			}
			if (!base)
				out->sla_pending++;
			if ((answered && dur_push(&frt, f - o, code) != 0) ||
			    (done_ && dur_push(&res, z - o, code) != 0)) {
				rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for ticket times");
				goto done;
			}
		}
	}
	size_t n_scratch = frt.h.n > res.h.n ? frt.h.n : res.h.n;
	count = xmallocn(max_ng + 1, sizeof *count);
	gsum = xmallocn(max_ng, sizeof *gsum);
	scratch = xmallocn(n_scratch ? n_scratch : 1, sizeof *scratch);
	if (!count || !gsum || !scratch) {
		rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for ticket times");
		goto done;
	}
	dur_stats(&frt, 0, &out->tickets, groups, ng, count, gsum, scratch);
	dur_stats(&res, 1, &out->tickets, groups, ng, count, gsum, scratch);
	stats_finish(&out->tickets);
	for (int b = 0; b < MX_N_BY; b++) {
		size_t k = 0;
		for (size_t g = 0; g < ng[b]; g++)
			k += groups[b][g].tickets > 0;
		if (!(out->by[b] = calloc(k ? k : 1, sizeof *out->by[b]))) {
			rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for ticket groups");
			goto done;
		}
		for (size_t g = 0; g < ng[b]; g++) {
			if (groups[b][g].tickets == 0)
				continue;
			struct mx_ticket_group *x = &out->by[b][out->n_by[b]++];
			x->code = (uint32_t)g;
			x->name = mx_code_name(&t->col[by_field[b]], (uint32_t)g, "");
			x->s = groups[b][g];
			stats_finish(&x->s);
		}
	}
done:
	for (int b = 0; b < MX_N_BY; b++)
		free(groups[b]);
	dur_fini(&frt);
	dur_fini(&res);
	free(count);
	free(gsum);
	free(scratch);
	return rc;
}

/* ----------------------------------------------------------- interactions */

/* 1 when an interaction channel's name means social media: it starts with
 * "social" (social, social_media, "Social Media") or names a network. */
static int social_name(const char *s)
{
	static const char *const networks[] = {
		"facebook", "instagram", "twitter", "x", "tiktok", "linkedin", "youtube",
		"pinterest", "reddit", "mastodon", "threads", "bluesky", "snapchat", "vk",
		"weibo", "wechat", "douyin", "xiaohongshu", NULL
	};
	char low[32];
	size_t n = 0;
	for (; s[n] && n < sizeof low - 1; n++)
		low[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] + ('a' - 'A') : s[n]);
	low[n] = '\0';
	if (strncmp(low, "social", 6) == 0)
		return 1;
	for (size_t i = 0; networks[i]; i++)
		if (strcmp(low, networks[i]) == 0)
			return 1;
	return 0;
}

/* One participation: customer c's first interaction of campaign k. */
struct participation {
	uint32_t k, c;
	int64_t t;
};

struct ia_scratch {
	uint8_t *is_social;        /* by channel code */
	size_t *per_code;          /* channel accumulators, by code: interactions */
	size_t *cust_code;         /* ... distinct customers */
	size_t *rated_code, *sat_code;
	uint32_t *last_cust;       /* by channel code: last customer counted + 1 */
	uint32_t *camp_seen;       /* by campaign code: last customer seen + 1 */
	size_t *camp_rated, *camp_sat;
	struct participation *parts;
	size_t n_parts, cap_parts;
	uint64_t *social_rows;     /* rows of social interactions in P with text */
	size_t n_social_rows, cap_social_rows;
};

static void ia_scratch_fini(struct ia_scratch *s)
{
	free(s->is_social);
	free(s->per_code);
	free(s->cust_code);
	free(s->rated_code);
	free(s->sat_code);
	free(s->last_cust);
	free(s->camp_seen);
	free(s->camp_rated);
	free(s->camp_sat);
	free(s->parts);
	free(s->social_rows);
}

static int push_part(struct ia_scratch *s, uint32_t k, uint32_t c, int64_t t)
{
	if (s->n_parts == s->cap_parts) {
		size_t cap = s->cap_parts ? s->cap_parts * 2 : 256;
		struct participation *v = xreallocn(s->parts, cap, sizeof *v);
		if (!v)
			return -1;
		s->parts = v;
		s->cap_parts = cap;
	}
	s->parts[s->n_parts++] = (struct participation){ k, c, t };
	return 0;
}

static int push_social_row(struct ia_scratch *s, uint64_t r)
{
	if (s->n_social_rows == s->cap_social_rows) {
		size_t cap = s->cap_social_rows ? s->cap_social_rows * 2 : 256;
		uint64_t *v = xreallocn(s->social_rows, cap, sizeof *v);
		if (!v)
			return -1;
		s->social_rows = v;
		s->cap_social_rows = cap;
	}
	s->social_rows[s->n_social_rows++] = r;
	return 0;
}

/* The months of P that can hold data: from the later of P's start and the
 * first event to the earlier of P's end and A. */
static void months_of_p(const struct mx_ctx *ctx, int64_t *month0, size_t *n)
{
	int64_t lo = ctx->o.p_start, hi = ctx->o.p_end - 1;
	if (ctx->ds->first_at != CRM_NA && ctx->ds->first_at > lo)
		lo = ctx->ds->first_at;
	if (ctx->o.as_of < hi)
		hi = ctx->o.as_of;
	*month0 = mx_month_of(lo);
	*n = lo <= hi ? (size_t)(mx_month_of(hi) - *month0 + 1) : 0;
}

/* Scores the texts of the rows in rows[0..n) of column f of table t. */
static int score_texts(const struct mx_ctx *ctx, const struct crm_table *t, int f,
		       const uint64_t *rows, size_t n, struct mx_sentiment *out,
		       char *path, size_t path_cap, struct crm_err *err)
{
	struct mx_lexicon *lx = NULL;
	struct mx_tokens tk;
	int rc;
	double sum = 0;
	mx_tokens_init(&tk);
	out->mean = out->positive_pct = out->negative_pct = NAN;
	if (n == 0)
		return CRM_OK;
	if ((rc = mx_lex_load(ctx->o.lexicon_dir, ctx->o.language, &lx, err)) != CRM_OK)
		goto done;
	snprintf(path, path_cap, "%s", mx_lex_path(lx));
	const struct crm_strings *str = &t->col[f].str;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rows[i];
		const char *s = str->bytes + str->off[r];
		size_t len = (size_t)(str->off[r + 1] - str->off[r] - 1);
		if (mx_tokenize(&tk, s, len) != 0) {
			rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory scoring texts");
			goto done;
		}
		size_t m;
		double v = mx_lex_score(lx, &tk, &m);
		out->texts++;
		if (m == 0)
			continue;
		out->scored++;
		sum += v;
		out->positive += v > 0;
		out->negative += v < 0;
	}
	out->mean = out->scored ? sum / (double)out->scored : NAN;
	out->positive_pct = mx_pct(out->positive, out->texts);
	out->negative_pct = mx_pct(out->negative, out->texts);
	rc = CRM_OK;
done:
	mx_lex_free(lx);
	mx_tokens_fini(&tk);
	return rc;
}

/* Completed, counted orders of customer c up to A, their times into *v. */
static int completed_times(const struct mx_ctx *ctx, size_t c, int64_t **v, size_t *cap,
			   size_t *n)
{
	const struct crm_table *o = &ctx->ds->t[CRM_ORDERS];
	const int64_t *at = i64_col(o, CRM_O_ORDERED_AT);
	uint64_t lo, hi;
	*n = 0;
	rows_of(o, c, &lo, &hi);
	if (!at)
		return 0;
	for (uint64_t r = lo; r < hi; r++) {
		if (at[r] == CRM_NA || at[r] > ctx->o.as_of)
			continue;
		if (mx_order_kind(o, r) != MX_COMPLETED || !mx_order_counts(ctx, r))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			int64_t *nv = xreallocn(*v, nc, sizeof *nv);
			if (!nv)
				return -1;
			*v = nv;
			*cap = nc;
		}
		(*v)[(*n)++] = at[r];
	}
	return 0;
}

/* In the sorted times v[0..n): *before = one is < s; *within = one is in
 * [s, e). */
static void window_of(const int64_t *v, size_t n, int64_t s, int64_t e, int *before, int *within)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {   /* first time >= s */
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	*before = lo > 0;
	*within = lo < n && v[lo] < e;
}

static int cmp_campaign(const void *pa, const void *pb)
{
	const struct mx_campaign *a = pa, *b = pb;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return (a->code > b->code) - (a->code < b->code);
}

/* The campaigns: participants, satisfaction, dates and repeat purchase. */
static int compute_campaigns(const struct mx_ctx *ctx, struct mx_service *out,
			     struct ia_scratch *sc, size_t n_camp, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_INTERACTIONS];
	size_t *start = NULL, *fill = NULL;
	double *times = NULL;
	int64_t *part_t = NULL, *otimes = NULL, *date = NULL;
	size_t ocap = 0, n_rep = 0;
	int rc = CRM_OK;
	if (sc->n_parts == 0)
		return CRM_OK;
	/* participants' first times grouped by campaign (a counting pass) */
	start = calloc(n_camp + 1, sizeof *start);
	fill = xmallocn(n_camp, sizeof *fill);
	times = xmallocn(sc->n_parts, sizeof *times);
	part_t = xmallocn(n_camp, sizeof *part_t);
	date = xmallocn(n_camp, sizeof *date);
	if (!start || !fill || !times || !part_t || !date)
		goto oom;
	for (size_t i = 0; i < sc->n_parts; i++)
		start[sc->parts[i].k + 1]++;
	for (size_t k = 0; k < n_camp; k++)
		start[k + 1] += start[k];
	memcpy(fill, start, n_camp * sizeof *fill);
	for (size_t i = 0; i < sc->n_parts; i++)
		times[fill[sc->parts[i].k]++] = (double)sc->parts[i].t;
	/* a campaign's date: the median first participation; it reports when in P */
	for (size_t k = 0; k < n_camp; k++) {
		size_t n = start[k + 1] - start[k];
		date[k] = CRM_NA;
		if (k == 0 || n == 0)
			continue;
		int64_t d = (int64_t)floor(mx_quantile(times + start[k], n, 0.5));
		if (d >= ctx->o.p_start && d < ctx->o.p_end) {
			date[k] = d;
			n_rep++;
		}
	}
	if (n_rep == 0)
		goto done;
	if (!(out->campaigns = calloc(n_rep, sizeof *out->campaigns)))
		goto oom;
	for (size_t k = 1; k < n_camp; k++) {
		if (date[k] == CRM_NA)
			continue;
		struct mx_campaign *x = &out->campaigns[out->n_campaigns++];
		x->code = (uint32_t)k;
		x->name = mx_code_name(&t->col[CRM_I_CAMPAIGN], (uint32_t)k, "");
		x->date = date[k];
		x->participants = start[k + 1] - start[k];
		x->rated = sc->camp_rated[k];
		x->satisfied = sc->camp_sat[k];
		x->sat_pct = mx_pct(x->satisfied, x->rated);
	}
	/* repeat purchase in the windows, one pass over the customers */
	const int64_t w = (int64_t)ctx->o.activity_window_days * SECS_PER_DAY;
	const int64_t last_start = ctx->o.as_of - w + 1;   /* a window [s, s + w) ends by A */
	for (size_t k = 0; k < n_camp; k++)
		part_t[k] = CRM_NA;
	size_t p = 0;   /* parts are in customer order */
	for (size_t c = 0; c < ds->n_customers; c++) {
		size_t p0 = p;
		while (p < sc->n_parts && sc->parts[p].c == c) {
			part_t[sc->parts[p].k] = sc->parts[p].t;
			p++;
		}
		if (mx_counts(ctx, (uint32_t)c)) {
			size_t n_o;
			if (completed_times(ctx, c, &otimes, &ocap, &n_o) != 0)
				goto oom;
			for (size_t j = 0; j < out->n_campaigns && n_o > 0; j++) {
				struct mx_campaign *x = &out->campaigns[j];
				int64_t s = part_t[x->code];
				int part = s != CRM_NA;
				if (!part)
					s = x->date;
				if (s > last_start)
					continue;
				int before, within;
				window_of(otimes, n_o, s, s + w, &before, &within);
				if (!before)
					continue;
				if (part) {
					x->part_base++;
					x->part_repeat += (size_t)within;
				} else {
					x->non_base++;
					x->non_repeat += (size_t)within;
				}
			}
		}
		for (size_t q = p0; q < p; q++)
			part_t[sc->parts[q].k] = CRM_NA;
	}
	for (size_t j = 0; j < out->n_campaigns; j++) {
		struct mx_campaign *x = &out->campaigns[j];
		x->part_rate = mx_pct(x->part_repeat, x->part_base);
		x->non_rate = mx_pct(x->non_repeat, x->non_base);
		x->uplift = x->part_rate - x->non_rate;   /* NAN when either is */
	}
	qsort(out->campaigns, out->n_campaigns, sizeof *out->campaigns, cmp_campaign);
	goto done;
oom:
	rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for campaigns");
done:
	free(start);
	free(fill);
	free(times);
	free(part_t);
	free(date);
	free(otimes);
	return rc;
}

static int compute_interactions(const struct mx_ctx *ctx, struct mx_service *out,
				struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_INTERACTIONS];
	const int64_t *at = i64_col(t, CRM_I_OCCURRED_AT);
	const uint32_t *chan = cat_col(t, CRM_I_CHANNEL);
	const uint32_t *camp = cat_col(t, CRM_I_CAMPAIGN);
	const int64_t *sat = i64_col(t, CRM_I_SATISFACTION);
	const struct crm_strings *text = t->col[CRM_I_TEXT].kind == CRM_COL_STR
					 ? &t->col[CRM_I_TEXT].str : NULL;
	struct ia_scratch sc;
	size_t n_ch = n_codes(t, CRM_I_CHANNEL), n_camp = n_codes(t, CRM_I_CAMPAIGN);
	int rc = CRM_OK;
	memset(&sc, 0, sizeof sc);
	out->social_share_pct = NAN;
	out->social_sentiment.mean = out->social_sentiment.positive_pct =
		out->social_sentiment.negative_pct = NAN;
	out->has_interactions = t->n > 0 && at != NULL;
	months_of_p(ctx, &out->month0, &out->n_months);
	if (!out->has_interactions)
		return CRM_OK;
	sc.is_social = calloc(n_ch, 1);
	sc.per_code = calloc(n_ch, sizeof *sc.per_code);
	sc.cust_code = calloc(n_ch, sizeof *sc.cust_code);
	sc.rated_code = calloc(n_ch, sizeof *sc.rated_code);
	sc.sat_code = calloc(n_ch, sizeof *sc.sat_code);
	sc.last_cust = calloc(n_ch, sizeof *sc.last_cust);
	sc.camp_seen = calloc(n_camp, sizeof *sc.camp_seen);
	sc.camp_rated = calloc(n_camp, sizeof *sc.camp_rated);
	sc.camp_sat = calloc(n_camp, sizeof *sc.camp_sat);
	out->social_month = calloc(out->n_months ? out->n_months : 1, sizeof *out->social_month);
	out->social_month_customers = calloc(out->n_months ? out->n_months : 1,
					     sizeof *out->social_month_customers);
	if (!sc.is_social || !sc.per_code || !sc.cust_code || !sc.rated_code || !sc.sat_code ||
	    !sc.last_cust || !sc.camp_seen || !sc.camp_rated || !sc.camp_sat ||
	    !out->social_month || !out->social_month_customers)
		goto oom;
	for (size_t k = 1; k < n_ch; k++)
		sc.is_social[k] = (uint8_t)social_name(mx_code_name(&t->col[CRM_I_CHANNEL],
								    (uint32_t)k, ""));
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		uint64_t lo, hi;
		rows_of(t, c, &lo, &hi);
		int any = 0, any_social = 0;
		int64_t last_month = INT64_MIN;
		for (uint64_t r = lo; r < hi; r++) {
			int64_t when = at[r];
			if (when == CRM_NA || when > ctx->o.as_of)
				continue;
			uint32_t k = camp ? camp[r] : 0;
			int64_t s = sat ? sat[r] : CRM_NA;
			int rated = s != CRM_NA && s >= 1 && s <= 5;
			if (k != 0) {
				if (sc.camp_seen[k] != (uint32_t)c + 1) {
					sc.camp_seen[k] = (uint32_t)c + 1;
					if (push_part(&sc, k, (uint32_t)c, when) != 0)
						goto oom;
				}
				sc.camp_rated[k] += (size_t)rated;
				sc.camp_sat[k] += (size_t)(rated && s >= 4);
			}
			if (!in_p(ctx, when))
				continue;
			uint32_t ch = chan ? chan[r] : 0;
			out->interactions++;
			any = 1;
			sc.per_code[ch]++;
			if (sc.last_cust[ch] != (uint32_t)c + 1) {
				sc.last_cust[ch] = (uint32_t)c + 1;
				sc.cust_code[ch]++;
			}
			sc.rated_code[ch] += (size_t)rated;
			sc.sat_code[ch] += (size_t)(rated && s >= 4);
			if (!sc.is_social[ch])
				continue;
			out->social++;
			any_social = 1;
			int64_t m = mx_month_of(when) - out->month0;
			if (m >= 0 && (size_t)m < out->n_months) {
				out->social_month[m]++;
				if (m != last_month) {
					out->social_month_customers[m]++;
					last_month = m;
				}
			}
			if (text && text->off[r + 1] - text->off[r] > 1 &&
			    push_social_row(&sc, r) != 0)
				goto oom;
		}
		out->interaction_customers += (size_t)any;
		out->social_customers += (size_t)any_social;
	}
	out->social_share_pct = mx_pct(out->social, out->interactions);
	size_t k = 0;
	for (size_t ch = 0; ch < n_ch; ch++)
		k += sc.per_code[ch] > 0;
	if (!(out->channels = calloc(k ? k : 1, sizeof *out->channels)))
		goto oom;
	for (size_t ch = 0; ch < n_ch; ch++) {
		if (sc.per_code[ch] == 0)
			continue;
		struct mx_ia_channel *x = &out->channels[out->n_channels++];
		x->code = (uint32_t)ch;
		x->name = mx_code_name(&t->col[CRM_I_CHANNEL], (uint32_t)ch, "");
		x->interactions = sc.per_code[ch];
		x->customers = sc.cust_code[ch];
		x->rated = sc.rated_code[ch];
		x->satisfied = sc.sat_code[ch];
		x->share_pct = mx_pct(x->interactions, out->interactions);
		x->per_customer = x->customers ? (double)x->interactions / (double)x->customers : NAN;
		x->sat_pct = mx_pct(x->satisfied, x->rated);
		x->social = sc.is_social[ch];
	}
	if ((rc = compute_campaigns(ctx, out, &sc, n_camp, err)) != CRM_OK)
		goto done;
	rc = score_texts(ctx, t, CRM_I_TEXT, sc.social_rows, sc.n_social_rows,
			 &out->social_sentiment, out->lexicon_path, sizeof out->lexicon_path, err);
	goto done;
oom:
	rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for interactions");
done:
	ia_scratch_fini(&sc);
	return rc;
}

/* --------------------------------------------------------------- feedback */

/* The survey kinds by the feedback kind column's text. */
enum { FB_NONE = 0, FB_NPS, FB_CSAT, FB_CES };

static int fb_kind(const char *s)
{
	return strcmp(s, "nps") == 0 ? FB_NPS : strcmp(s, "csat") == 0 ? FB_CSAT
	       : strcmp(s, "ces") == 0 ? FB_CES : FB_NONE;
}

static int compute_topics(const struct mx_ctx *ctx, struct mx_service *out, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_FEEDBACK];
	const int64_t *at = i64_col(t, CRM_F_ANSWERED_AT);
	const int64_t *score = i64_col(t, CRM_F_SCORE);
	const uint32_t *kind = cat_col(t, CRM_F_KIND), *topic = cat_col(t, CRM_F_TOPIC);
	size_t n_top = n_codes(t, CRM_F_TOPIC), n_kind = n_codes(t, CRM_F_KIND);
	struct mx_fb_topic *acc = NULL;
	uint8_t kinds[64];
	int rc = CRM_OK;
	out->has_feedback = t->n > 0 && at != NULL;
	if (!out->has_feedback)
		return CRM_OK;
	for (size_t k = 0; k < 64; k++)
		kinds[k] = (uint8_t)(k < n_kind ?
				     fb_kind(mx_code_name(&t->col[CRM_F_KIND], (uint32_t)k, "")) :
				     FB_NONE);
	if (!(acc = calloc(n_top, sizeof *acc)))
		return crm_err_set(err, CRM_ENOMEM, "service: out of memory for feedback topics");
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		uint64_t lo, hi;
		rows_of(t, c, &lo, &hi);
		for (uint64_t r = lo; r < hi; r++) {
			if (!in_p(ctx, at[r]))
				continue;
			struct mx_fb_topic *x = &acc[topic ? topic[r] : 0];
			out->responses++;
			x->responses++;
			int64_t v = score ? score[r] : CRM_NA;
			uint32_t kc = kind ? kind[r] : 0;
			int kd = kc < 64 ? kinds[kc] : FB_NONE;
			int ok = v != CRM_NA && ((kd == FB_NPS && v >= 0 && v <= 10) ||
						 (kd == FB_CSAT && v >= 1 && v <= 5) ||
						 (kd == FB_CES && v >= 1 && v <= 7));
			if (!ok)
				continue;
			x->scored++;
			x->satisfied += (size_t)((kd == FB_NPS && v >= 9) || (kd == FB_CSAT && v >= 4) ||
						 (kd == FB_CES && v >= 5));
		}
	}
	size_t k = 0;
	for (size_t g = 0; g < n_top; g++)
		k += acc[g].responses > 0;
	if (!(out->topics = calloc(k ? k : 1, sizeof *out->topics))) {
		rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for feedback topics");
		goto done;
	}
	for (size_t g = 0; g < n_top; g++) {
		if (acc[g].responses == 0)
			continue;
		struct mx_fb_topic *x = &out->topics[out->n_topics++];
		*x = acc[g];
		x->code = (uint32_t)g;
		x->name = mx_code_name(&t->col[CRM_F_TOPIC], (uint32_t)g, "");
		x->share_pct = mx_pct(x->responses, out->responses);
		x->sat_pct = mx_pct(x->satisfied, x->scored);
	}
done:
	free(acc);
	return rc;
}

/* ------------------------------------------------------------- engagement */

/* Percentile ranks from a histogram: hist[v] customers have value v (higher
 * is better), v in [0, n); pr[v] = 100 (below + equal / 2) / total. */
static void hist_ranks(const size_t *hist, size_t n, size_t total, double *pr)
{
	size_t below = 0;
	for (size_t v = 0; v < n; v++) {
		pr[v] = total ? 100.0 * ((double)below + (double)hist[v] / 2.0) / (double)total : NAN;
		below += hist[v];
	}
}

/* Customer c's satisfaction scores (1-5) in P from interactions and
 * tickets: their sum and number. */
static void sat_of(const struct mx_ctx *ctx, size_t c, int64_t *sum, int64_t *n)
{
	static const int tables[2] = { CRM_INTERACTIONS, CRM_TICKETS };
	static const int time_f[2] = { CRM_I_OCCURRED_AT, CRM_T_OPENED_AT };
	static const int sat_f[2] = { CRM_I_SATISFACTION, CRM_T_SATISFACTION };
	*sum = *n = 0;
	for (int k = 0; k < 2; k++) {
		const struct crm_table *t = &ctx->ds->t[tables[k]];
		const int64_t *at = i64_col(t, time_f[k]), *sat = i64_col(t, sat_f[k]);
		uint64_t lo, hi;
		if (!at || !sat)
			continue;
		rows_of(t, c, &lo, &hi);
		for (uint64_t r = lo; r < hi; r++) {
			if (!in_p(ctx, at[r]) || sat[r] == CRM_NA || sat[r] < 1 || sat[r] > 5)
				continue;
			*sum += sat[r];
			(*n)++;
		}
	}
}

/* In the sorted v[0..n): the number of values < x (upper 0) or <= x (upper 1). */
static size_t count_below(const double *v, size_t n, double x, int upper)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x || (upper && v[mid] == x))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The engagement scores (mx_engagement_scores), and in parts[] the number
 * of customers with each component. */
static int engagement(const struct mx_ctx *ctx, double *score, size_t parts[MX_ENG_N],
		      struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const size_t n = ds->n_customers;
	const struct crm_table *ia = &ds->t[CRM_INTERACTIONS];
	const int64_t *ia_at = i64_col(ia, CRM_I_OCCURRED_AT);
	const int has_ia = ia->n > 0 && ia_at != NULL;
	const int has_web = ds->t[CRM_WEB_EVENTS].n > 0 &&
			    i64_col(&ds->t[CRM_WEB_EVENTS], CRM_W_OCCURRED_AT) != NULL;
	const int64_t as_of = ctx->o.as_of;
	uint32_t *freq = NULL, *rec = NULL, *web = NULL;
	double *sat = NULL, *sorted = NULL, *pr_f = NULL, *pr_r = NULL, *pr_w = NULL;
	size_t *hist = NULL;
	uint32_t max_f = 0, max_r = 0, max_w = 0;
	size_t counted = 0, n_sat = 0;
	int rc = CRM_OK;
	memset(parts, 0, MX_ENG_N * sizeof *parts);
	for (size_t c = 0; c < n; c++)
		score[c] = NAN;
	/* satisfaction comes from interactions and tickets */
	const int64_t *ia_sat = i64_col(ia, CRM_I_SATISFACTION);
	const int64_t *tk_sat = i64_col(&ds->t[CRM_TICKETS], CRM_T_SATISFACTION);
	int has_sat = (ia->n > 0 && ia_sat) || (ds->t[CRM_TICKETS].n > 0 && tk_sat);
	if (n == 0 || (!has_ia && !has_web && !has_sat))
		return CRM_OK;
	freq = calloc(n, sizeof *freq);
	rec = calloc(n, sizeof *rec);
	web = calloc(n, sizeof *web);
	sat = xmallocn(n, sizeof *sat);
	if (!freq || !rec || !web || !sat)
		goto oom;
	/* web sessions as the browsing family makes them (the session id, or
	 * the inactivity rule without one; a session is its first customer's)
	 * that start in (A - 90 days, A] */
	if (has_web &&
	    (rc = mx_browsing_sessions_per_customer(ctx, as_of - (int64_t)WEB_DAYS * SECS_PER_DAY + 1,
						    as_of + 1, web, err)) != CRM_OK)
		goto done;
	/* the components; recency is kept as a key where higher is better:
	 * 0 for no interaction by A, else 1 + (the largest day count - days) */
	int64_t first_day = ds->first_at != CRM_NA ? ts_day(ds->first_at) : ts_day(as_of);
	int64_t span = ts_day(as_of) - first_day;
	if (span < 0)
		span = 0;
	if (span > RECENCY_MAX_DAYS)
		span = RECENCY_MAX_DAYS;   /* older interactions tie at the cap */
	for (size_t c = 0; c < n; c++) {
		sat[c] = NAN;
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		counted++;
		if (has_ia) {
			uint64_t lo, hi;
			int64_t last = CRM_NA;
			rows_of(ia, c, &lo, &hi);
			for (uint64_t r = lo; r < hi; r++) {
				int64_t when = ia_at[r];
				if (when == CRM_NA || when > as_of)
					continue;
				freq[c] += (uint32_t)in_p(ctx, when);
				if (last == CRM_NA || when > last)
					last = when;
			}
			if (last != CRM_NA) {
				int64_t days = (as_of - last) / SECS_PER_DAY;
				if (days > span)
					days = span;
				rec[c] = (uint32_t)(1 + span - days);
			}
			if (freq[c] > max_f)
				max_f = freq[c];
			if (rec[c] > max_r)
				max_r = rec[c];
		}
		if (has_web && web[c] > max_w)
			max_w = web[c];
		int64_t ssum = 0, sn = 0;
		if (has_sat)
			sat_of(ctx, c, &ssum, &sn);
		if (sn > 0) {
			sat[c] = (double)ssum / (double)sn;
			n_sat++;
		}
	}
	/* percentile ranks of the integer components from histograms */
	size_t hmax = (size_t)max_f + 1;
	if ((size_t)max_r + 1 > hmax)
		hmax = (size_t)max_r + 1;
	if ((size_t)max_w + 1 > hmax)
		hmax = (size_t)max_w + 1;
	hist = xmallocn(hmax, sizeof *hist);
	pr_f = xmallocn((size_t)max_f + 1, sizeof *pr_f);
	pr_r = xmallocn((size_t)max_r + 1, sizeof *pr_r);
	pr_w = xmallocn((size_t)max_w + 1, sizeof *pr_w);
	sorted = xmallocn(n_sat ? n_sat : 1, sizeof *sorted);
	if (!hist || !pr_f || !pr_r || !pr_w || !sorted)
		goto oom;
	const uint32_t *comp[3] = { freq, rec, web };
	double *prs[3] = { pr_f, pr_r, pr_w };
	const uint32_t maxes[3] = { max_f, max_r, max_w };
	for (int k = 0; k < 3; k++) {
		size_t m = (size_t)maxes[k] + 1;
		memset(hist, 0, m * sizeof *hist);
		for (size_t c = 0; c < n; c++)
			if (mx_counts(ctx, (uint32_t)c))
				hist[comp[k][c]]++;
		hist_ranks(hist, m, counted, prs[k]);
	}
	size_t j = 0;
	for (size_t c = 0; c < n; c++)
		if (!isnan(sat[c]))
			sorted[j++] = sat[c];
	if (n_sat)
		(void)mx_quantile(sorted, n_sat, 0.5);   /* sorts */
	parts[MX_ENG_FREQUENCY] = parts[MX_ENG_RECENCY] = has_ia ? counted : 0;
	parts[MX_ENG_WEB] = has_web ? counted : 0;
	parts[MX_ENG_SATISFACTION] = n_sat;
	for (size_t c = 0; c < n; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		double sum = 0;
		int k = 0;
		if (has_ia) {
			sum += pr_f[freq[c]] + pr_r[rec[c]];
			k += 2;
		}
		if (has_web) {
			sum += pr_w[web[c]];
			k++;
		}
		if (!isnan(sat[c])) {
			size_t below = count_below(sorted, n_sat, sat[c], 0);
			size_t upto = count_below(sorted, n_sat, sat[c], 1);
			sum += 100.0 * ((double)below + (double)(upto - below) / 2.0) / (double)n_sat;
			k++;
		}
		if (k)
			score[c] = sum / k;
	}
	goto done;
oom:
	rc = crm_err_set(err, CRM_ENOMEM, "service: out of memory for engagement scores of %zu "
			 "customers", n);
done:
	free(freq);
	free(rec);
	free(web);
	free(sat);
	free(sorted);
	free(hist);
	free(pr_f);
	free(pr_r);
	free(pr_w);
	return rc;
}

int mx_engagement_scores(const struct mx_ctx *ctx, double *score, struct crm_err *err)
{
	size_t parts[MX_ENG_N];
	return engagement(ctx, score, parts, err);
}

static int compute_engagement(const struct mx_ctx *ctx, struct mx_service *out,
			      struct crm_err *err)
{
	size_t n = ctx->ds->n_customers;
	double *v = NULL;
	int rc;
	out->eng_mean = out->eng_median = out->eng_p25 = out->eng_p75 = NAN;
	out->n_customers = n;
	if (!(out->engagement = xmallocn(n ? n : 1, sizeof *out->engagement)))
		return crm_err_set(err, CRM_ENOMEM, "service: out of memory for engagement scores");
	if ((rc = engagement(ctx, out->engagement, out->eng_parts, err)) != CRM_OK)
		return rc;
	if (!(v = xmallocn(n ? n : 1, sizeof *v)))
		return crm_err_set(err, CRM_ENOMEM, "service: out of memory for engagement scores");
	size_t k = 0;
	for (size_t c = 0; c < n; c++) {
		double s = out->engagement[c];
		if (isnan(s))
			continue;
		v[k++] = s;
		size_t band = s >= 100 ? 9 : (size_t)(s / 10);
		out->eng_band[band > 9 ? 9 : band]++;
	}
	out->eng_customers = k;
	if (k) {
		out->eng_mean = mx_mean(v, k);
		out->eng_median = mx_quantile(v, k, 0.5);   /* sorts */
		out->eng_p25 = mx_quantile_sorted(v, k, 0.25);
		out->eng_p75 = mx_quantile_sorted(v, k, 0.75);
	}
	free(v);
	return CRM_OK;
}

/* ------------------------------------------------------------------ entry */

int mx_service_compute(const struct mx_ctx *ctx, struct mx_service *out,
		       struct crm_err *err)
{
	int rc;
	memset(out, 0, sizeof *out);
	out->as_of = ctx->o.as_of;
	out->p_start = ctx->o.p_start;
	out->p_end = ctx->o.p_end;
	out->sla_hours = ctx->o.sla_hours;
	out->window_days = ctx->o.activity_window_days;
	out->has_orders = ctx->ds->t[CRM_ORDERS].n > 0;
	out->has_web = ctx->ds->t[CRM_WEB_EVENTS].n > 0;
	if ((rc = compute_tickets(ctx, out, err)) != CRM_OK ||
	    (rc = compute_interactions(ctx, out, err)) != CRM_OK ||
	    (rc = compute_topics(ctx, out, err)) != CRM_OK ||
	    (rc = compute_engagement(ctx, out, err)) != CRM_OK) {
		mx_service_fini(out);
		return rc;
	}
	return CRM_OK;
}

void mx_service_fini(struct mx_service *s)
{
	for (int b = 0; b < MX_N_BY; b++)
		free(s->by[b]);
	free(s->channels);
	free(s->topics);
	free(s->campaigns);
	free(s->social_month);
	free(s->social_month_customers);
	free(s->engagement);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ report */

static void ticket_table(struct rp_section *sec, const char *id, const char *title,
			 const char *key, const struct mx_ticket_group *g, size_t n)
{
	const struct rp_col cols[] = {
		{ key, RP_TEXT }, { "tickets", RP_COUNT }, { "FRT median", RP_HOURS },
		{ "FRT mean", RP_HOURS }, { "FRT p90", RP_HOURS }, { "SLA %", RP_PERCENT },
		{ "res. median", RP_HOURS }, { "res. mean", RP_HOURS }, { "res. p90", RP_HOURS },
		{ "open", RP_COUNT }, { "unanswered", RP_COUNT }, { "sat. %", RP_PERCENT },
	};
	struct rp_table *t = rp_table_new(sec, id, title, cols, sizeof cols / sizeof cols[0]);
	for (size_t i = 0; i < n; i++) {
		const struct mx_ticket_stats *s = &g[i].s;
		rp_row(t);
		rp_cell_str(t, g[i].code ? g[i].name : "(none)");
		rp_cell_num(t, (double)s->tickets);
		rp_cell_num(t, s->frt_median);
		rp_cell_num(t, s->frt_mean);
		rp_cell_num(t, s->frt_p90);
		rp_cell_num(t, s->sla_pct);
		rp_cell_num(t, s->res_median);
		rp_cell_num(t, s->res_mean);
		rp_cell_num(t, s->res_p90);
		rp_cell_num(t, (double)s->open);
		rp_cell_num(t, (double)s->never_answered);
		rp_cell_num(t, s->sat_pct);
	}
}

/* The campaigns table and its note. */
static void emit_campaigns(struct rp_section *sec, const struct mx_service *s)
{
	static const struct rp_col cols[] = {
		{ "campaign", RP_TEXT }, { "date", RP_DATE }, { "participants", RP_COUNT },
		{ "satisfaction %", RP_PERCENT }, { "part. base", RP_COUNT },
		{ "part. repeat %", RP_PERCENT }, { "others base", RP_COUNT },
		{ "others repeat %", RP_PERCENT }, { "uplift pts", RP_NUMBER },
	};
	char line[640];
	struct rp_table *tb = rp_table_new(sec, "campaigns", "Activity effect: campaigns", cols,
					   sizeof cols / sizeof cols[0]);
	for (size_t i = 0; i < s->n_campaigns; i++) {
		const struct mx_campaign *x = &s->campaigns[i];
		rp_row(tb);
		rp_cell_str(tb, x->name);
		rp_cell_num(tb, (double)x->date);
		rp_cell_num(tb, (double)x->participants);
		rp_cell_num(tb, x->sat_pct);
		rp_cell_num(tb, (double)x->part_base);
		rp_cell_num(tb, x->part_rate);
		rp_cell_num(tb, (double)x->non_base);
		rp_cell_num(tb, x->non_rate);
		rp_cell_num(tb, x->uplift);
	}
	snprintf(line, sizeof line, "Loyalty uplift = repeat purchase rate of participants minus "
		 "that of non-participants, in points, over W = %d days. A participant's window "
		 "starts at their first interaction of the campaign; the others' at the campaign's "
		 "date (the median of those first interactions). Repeat purchase rate = share of "
		 "customers who bought before the window that buy again in it. Windows that end "
		 "after A are left out. Participants choose themselves: the uplift is not causal.",
		 s->window_days);
	rp_note(sec, line);
}

static void emit(const struct mx_ctx *ctx, const struct mx_service *s, struct rp_doc *d)
{
	char line[512];
	struct rp_section *sec = rp_section_new(d, "service", ctx->group, "Service and interactions");
	mx_param_period(sec, s->as_of, s->p_start, s->p_end, 0, NULL);
	snprintf(line, sizeof line, "%g h", s->sla_hours);
	rp_param(sec, "SLA target", line);
	snprintf(line, sizeof line, "%d days", s->window_days);
	rp_param(sec, "activity window", line);
	rp_param(sec, "tickets", "opened in P; a response or resolution counts when it is at or "
		 "before A, so later ones leave the ticket unanswered or open");
	if (ctx->order_channel) {
		rp_note(sec, "Tickets, interactions, feedback and web sessions are not orders: under "
			"an order-channel breakdown only the loyalty uplift of campaigns, which "
			"counts the orders of the channel, is broken down.");
		emit_campaigns(sec, s);
		return;
	}
	if (s->lexicon_path[0])
		rp_param(sec, "lexicon", s->lexicon_path);

	/* tickets */
	int ht = s->has_tickets;
	const struct mx_ticket_stats *t = &s->tickets;
	rp_value(sec, "tickets", "Tickets opened in P", RP_COUNT, mx_count_or_nan(ht, t->tickets));
	rp_value(sec, "tickets_answered", "... answered by A", RP_COUNT,
		 mx_count_or_nan(ht, t->answered));
	rp_value(sec, "tickets_never_answered", "... never answered (no first response by A)",
		 RP_COUNT, mx_count_or_nan(ht, t->never_answered));
	rp_value(sec, "tickets_open", "... open (not resolved by A)", RP_COUNT,
		 mx_count_or_nan(ht, t->open));
	rp_value(sec, "tickets_backlog", "All tickets open at A (opened any time)", RP_COUNT,
		 mx_count_or_nan(ht, s->backlog));
	rp_value(sec, "frt_median", "First response time, median", RP_HOURS, t->frt_median);
	rp_value(sec, "frt_mean", "First response time, mean", RP_HOURS, t->frt_mean);
	rp_value(sec, "frt_p90", "First response time, 90th percentile", RP_HOURS, t->frt_p90);
	rp_value(sec, "resolution_median", "Resolution time, median", RP_HOURS, t->res_median);
	rp_value(sec, "resolution_mean", "Resolution time, mean", RP_HOURS, t->res_mean);
	rp_value(sec, "resolution_p90", "Resolution time, 90th percentile", RP_HOURS, t->res_p90);
	snprintf(line, sizeof line, "SLA attainment: answered within %g h", s->sla_hours);
	rp_value(sec, "sla_attainment", line, RP_PERCENT, ht ? t->sla_pct : NAN);
	rp_value(sec, "sla_pending", "Unanswered tickets still within the target at A", RP_COUNT,
		 mx_count_or_nan(ht, s->sla_pending));
	rp_value(sec, "ticket_satisfaction", "Ticket satisfaction (% of 4-5 on 1-5)", RP_PERCENT,
		 ht ? t->sat_pct : NAN);
	snprintf(line, sizeof line, "First response time = first_response_at - opened_at; "
		 "resolution time = resolved_at - opened_at; in hours; median and 90th "
		 "percentile by Hyndman & Fan type 7. SLA attainment = tickets answered within "
		 "%g h / (answered tickets + unanswered tickets older than %g h at A).",
		 s->sla_hours, s->sla_hours);
	rp_note(sec, line);
	ticket_table(sec, "tickets_by_channel", "Tickets by channel", "channel", s->by[MX_BY_CHANNEL],
		     s->n_by[MX_BY_CHANNEL]);
	ticket_table(sec, "tickets_by_topic", "Tickets by topic", "topic", s->by[MX_BY_TOPIC],
		     s->n_by[MX_BY_TOPIC]);
	ticket_table(sec, "tickets_by_priority", "Tickets by priority", "priority",
		     s->by[MX_BY_PRIORITY], s->n_by[MX_BY_PRIORITY]);

	/* interaction channels */
	int hi = s->has_interactions;
	rp_value(sec, "interactions", "Interactions in P", RP_COUNT,
		 mx_count_or_nan(hi, s->interactions));
	rp_value(sec, "interaction_customers", "Customers with an interaction in P", RP_COUNT,
		 mx_count_or_nan(hi, s->interaction_customers));
	{
		const struct rp_col cols[] = {
			{ "channel", RP_TEXT }, { "interactions", RP_COUNT }, { "share %", RP_PERCENT },
			{ "customers", RP_COUNT }, { "per customer", RP_NUMBER }, { "rated", RP_COUNT },
			{ "satisfaction %", RP_PERCENT },
		};
		struct rp_table *tb = rp_table_new(sec, "interaction_channels", "Interaction channels",
						   cols, sizeof cols / sizeof cols[0]);
		for (size_t i = 0; i < s->n_channels; i++) {
			const struct mx_ia_channel *x = &s->channels[i];
			rp_row(tb);
			rp_cell_str(tb, x->code ? x->name : "(none)");
			rp_cell_num(tb, (double)x->interactions);
			rp_cell_num(tb, x->share_pct);
			rp_cell_num(tb, (double)x->customers);
			rp_cell_num(tb, x->per_customer);
			rp_cell_num(tb, (double)x->rated);
			rp_cell_num(tb, x->sat_pct);
		}
	}
	rp_note(sec, "Interaction channels: share = interactions of the channel / all interactions "
		"in P; per customer = interactions / customers who used the channel in P; "
		"satisfaction = % of rated interactions scoring 4 or 5 on 1-5.");

	/* feedback topics */
	int hf = s->has_feedback;
	rp_value(sec, "responses", "Feedback responses in P", RP_COUNT,
		 mx_count_or_nan(hf, s->responses));
	{
		const struct rp_col cols[] = {
			{ "topic", RP_TEXT }, { "responses", RP_COUNT }, { "share %", RP_PERCENT },
			{ "scored", RP_COUNT }, { "satisfied %", RP_PERCENT },
		};
		struct rp_table *tb = rp_table_new(sec, "feedback_topics", "Feedback topics", cols,
						   sizeof cols / sizeof cols[0]);
		for (size_t i = 0; i < s->n_topics; i++) {
			const struct mx_fb_topic *x = &s->topics[i];
			rp_row(tb);
			rp_cell_str(tb, x->code ? x->name : "(none)");
			rp_cell_num(tb, (double)x->responses);
			rp_cell_num(tb, x->share_pct);
			rp_cell_num(tb, (double)x->scored);
			rp_cell_num(tb, x->sat_pct);
		}
	}
	rp_note(sec, "Feedback topics: share = responses on the topic / all responses in P; "
		"satisfied = % of scored responses at the top of their survey's scale: NPS 9-10, "
		"CSAT 4-5, CES 5-7 (7 = easiest).");

	emit_campaigns(sec, s);

	/* social media */
	rp_value(sec, "social_interactions", "Social media interactions in P", RP_COUNT,
		 mx_count_or_nan(hi, s->social));
	rp_value(sec, "social_customers", "Customers engaged on social media in P", RP_COUNT,
		 mx_count_or_nan(hi, s->social_customers));
	rp_value(sec, "social_share", "Share of all interactions", RP_PERCENT,
		 hi ? s->social_share_pct : NAN);
	rp_value(sec, "social_texts", "Social interactions with text", RP_COUNT,
		 mx_count_or_nan(hi, s->social_sentiment.texts));
	rp_value(sec, "social_sentiment", "Mean sentiment of their text (-5..5)", RP_SCORE,
		 s->social_sentiment.mean);
	rp_value(sec, "social_positive", "Texts positive", RP_PERCENT, s->social_sentiment.positive_pct);
	rp_value(sec, "social_negative", "Texts negative", RP_PERCENT, s->social_sentiment.negative_pct);
	{
		const struct rp_col cols[] = {
			{ "month", RP_TEXT }, { "interactions", RP_COUNT }, { "customers", RP_COUNT },
		};
		struct rp_table *tb = rp_table_new(sec, "social_by_month", "Social media per month",
						   cols, 3);
		for (size_t m = 0; hi && m < s->n_months; m++) {
			char label[8];
			mx_month_label(s->month0 + (int64_t)m, label);
			rp_row(tb);
			rp_cell_str(tb, label);
			rp_cell_num(tb, (double)s->social_month[m]);
			rp_cell_num(tb, (double)s->social_month_customers[m]);
		}
	}
	rp_note(sec, "Social media: interactions whose channel starts with \"social\" or names a "
		"network (facebook, instagram, twitter, x, tiktok, linkedin, youtube, ...). "
		"Sentiment: the mean lexicon score of the words found in a text (-5..5, negators "
		"flip the next 3 words); positive > 0, negative < 0, shares of all texts.");

	/* engagement */
	int he = s->eng_customers > 0;
	rp_value(sec, "engagement_customers", "Customers with an engagement score", RP_COUNT,
		 mx_count_or_nan(he, s->eng_customers));
	rp_value(sec, "engagement_mean", "Engagement score, mean (0-100)", RP_SCORE, s->eng_mean);
	rp_value(sec, "engagement_p25", "Engagement score, 25th percentile", RP_SCORE, s->eng_p25);
	rp_value(sec, "engagement_median", "Engagement score, median", RP_SCORE, s->eng_median);
	rp_value(sec, "engagement_p75", "Engagement score, 75th percentile", RP_SCORE, s->eng_p75);
	{
		const struct rp_col cols[] = {
			{ "score", RP_TEXT }, { "customers", RP_COUNT }, { "share %", RP_PERCENT },
		};
		struct rp_table *tb = rp_table_new(sec, "engagement_distribution",
						   "Engagement score distribution", cols, 3);
		for (int k = 0; he && k < 10; k++) {
			char label[16];
			if (k < 9)
				snprintf(label, sizeof label, "[%d,%d)", k * 10, k * 10 + 10);
			else
				snprintf(label, sizeof label, "[90,100]");
			rp_row(tb);
			rp_cell_str(tb, label);
			rp_cell_num(tb, (double)s->eng_band[k]);
			rp_cell_num(tb, mx_pct(s->eng_band[k], s->eng_customers));
		}
	}
	rp_note(sec, "Engagement score (0-100) = mean of the percentile ranks of the components a "
		"customer has: interactions in P, days since the last interaction (fewer ranks "
		"higher; none ranks lowest), web sessions in the 90 days to A, and mean "
		"satisfaction (1-5) of their interactions and tickets in P. Percentile rank of x "
		"among N customers = 100 x (customers below x + customers equal to x / 2) / N. "
		"Frequency and recency need interaction data, web sessions web data; a customer "
		"without a satisfaction score has the other components only.");
	snprintf(line, sizeof line, "Components present: frequency and recency %zu, web %zu, "
		 "satisfaction %zu customers.", s->eng_parts[MX_ENG_FREQUENCY],
		 s->eng_parts[MX_ENG_WEB], s->eng_parts[MX_ENG_SATISFACTION]);
	rp_note(sec, line);
}

int mx_service_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	struct mx_service s;
	int rc = mx_service_compute(ctx, &s, err);
	if (rc != CRM_OK)
		return rc;
	emit(ctx, &s, d);
	mx_service_fini(&s);
	return CRM_OK;
}
