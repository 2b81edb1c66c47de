/* surveys.h - the "surveys" family of METRICS.md (metrics layer): NPS with
 * its 95% margin of error, CSAT, the Customer Effort Score, the sentiment of
 * comments (lexicon.h) and the most frequent terms of negative comments,
 * overall and per feedback topic. The feedback kind column says which
 * survey a score belongs to: "nps" (0-10), "csat" (1-5), "ces" (1-7, the
 * CES 2.0 agreement scale, 7 = easiest). Responses count in P by
 * answered_at, for the customers of ctx->in; under an order-channel
 * breakdown the report emits a note only. The decisions where METRICS.md is silent are in
 * docs/METRICS-NOTES.md ("Surveys"). */
#ifndef METRICS_SURVEYS_H
#define METRICS_SURVEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/lexicon.h"
#include "metrics/mx.h"

struct rp_doc;

#define MX_TOP_TERMS 5          /* terms of negative comments listed per topic */
#define MX_WORST_COMMENTS 10    /* most negative comments listed */

/* Survey scores of a set of responses. */
struct mx_survey_scores {
	size_t nps_n;               /* NPS responses with a score 0-10 */
	size_t promoters, passives, detractors;  /* 9-10, 7-8, 0-6 */
	double nps;                 /* 100 (promoters - detractors) / nps_n, -100..100;
	                               NAN when nps_n = 0 */
	double nps_moe;             /* 95% margin of error of nps, points (see surveys.c) */
	double promoters_pct, detractors_pct;  /* of nps_n */
	size_t csat_n, csat_satisfied;         /* CSAT responses 1-5; of 4-5 */
	double csat;                /* 100 csat_satisfied / csat_n; NAN when 0 */
	size_t ces_n, ces_easy;     /* CES responses 1-7; of 5-7 */
	int64_t ces_sum;            /* sum of their scores */
	double ces_mean;            /* ces_sum / ces_n, 1..7; NAN when 0 */
	double ces_easy_pct;        /* 100 ces_easy / ces_n */
	size_t unscored;            /* responses of no known kind, or with a score
	                               missing or outside their kind's scale */
};

/* A term of negative comments: in how many of them it occurs. */
struct mx_term {
	const char *term;           /* folded token (owned by the mx_surveys) */
	size_t comments;            /* negative comments of the topic holding it */
};

/* One feedback topic in P. */
struct mx_survey_topic {
	uint32_t code;              /* code of the feedback topic column; 0: none */
	const char *name;           /* borrowed from the dataset; "" for code 0 */
	size_t responses;           /* responses in P */
	struct mx_survey_scores scores;
	struct mx_sentiment comments;  /* sentiment of its comments */
	struct mx_term terms[MX_TOP_TERMS];  /* most frequent terms of its negative
	                               comments, by count then byte order */
	size_t n_terms;
};

/* A comment, for the list of the most negative ones. */
struct mx_comment {
	size_t row;                 /* row of ds->t[CRM_FEEDBACK] */
	double sentiment;           /* -5..5 */
};

struct mx_surveys {
	int64_t as_of, p_start, p_end;  /* A and P, from ctx */
	int has_feedback;           /* 0: the dataset has no feedback: all no data */
	size_t responses;           /* responses in P */
	struct mx_survey_scores all;
	struct mx_sentiment comments;   /* every comment in P */
	struct mx_survey_topic *topics; /* topics with responses in P, by code */
	size_t n_topics;
	double *sentiment;          /* n_rows: the sentiment of each feedback row's
	                               comment when the row counts (P, ctx->in) and
	                               its comment is scored; NAN otherwise */
	size_t n_rows;              /* ds->t[CRM_FEEDBACK].n */
	struct mx_comment worst[MX_WORST_COMMENTS];  /* most negative first; ties by row */
	size_t n_worst;
	char lexicon_path[256];     /* the lexicon read ("" when no comment needed it) */
	struct crm_strings pool;    /* the terms' text */
};

/* Computes the family over ctx into *out (zeroed first). On success the
 * caller frees it with mx_surveys_fini; on failure nothing is left to
 * free. Errors: CRM_ENOMEM, and when there are comments to score, those of
 * mx_lex_load (CRM_ENOTFOUND, CRM_EPARSE, CRM_EIO, CRM_EINVAL). */
int mx_surveys_compute(const struct mx_ctx *ctx, struct mx_surveys *out,
		       struct crm_err *err);

/* Frees what *s holds; s itself is the caller's. Harmless on a zeroed struct. */
void mx_surveys_fini(struct mx_surveys *s);

/* The 95% margin of error of an NPS from promoters and detractors among n
 * responses, in points: 1.96 x sqrt((p + d - (p - d)^2) / n) x 100 with
 * p, d the shares. NAN when n = 0. */
double mx_nps_moe(size_t promoters, size_t detractors, size_t n);

/* Computes and emits the family's section "surveys" into d. */
int mx_surveys_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
