/* dedupe.h - finding duplicate customers (clean layer, issue 3).
 *
 * The engine works on an array of customer records in memory: it normalises
 * every field once (clean/norm.h), forms candidate pairs only inside shared
 * blocks (e-mail, phone, name tokens with birth year or postcode, ...),
 * scores them in the Fellegi-Sunter framework with match and non-match
 * probabilities estimated by EM on the candidate pairs themselves, and joins
 * the pairs above a threshold into clusters. It neither reads nor writes the
 * store: cln_dedupe_load reads the records of a database, and the caller
 * hands the clusters to st_merge_apply (store/merge.h). docs/CLEAN.md,
 * "Blocking and scoring", walks through the method. */
#ifndef CLEAN_DEDUPE_H
#define CLEAN_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "store/merge.h"
#include "store/store.h"

/* ------------------------------------------------------------ records */

/* The text fields of a customer record the engine reads. */
enum cln_text_field {
	CLN_T_ID = 0,      /* customer_id (required: names the record in results) */
	CLN_T_NAME,        /* the whole name, used when given and family are both missing */
	CLN_T_GIVEN,
	CLN_T_FAMILY,
	CLN_T_EMAIL,
	CLN_T_PHONE,
	CLN_T_ADDRESS,
	CLN_T_POSTCODE,
	CLN_T_CITY,
	CLN_T_COUNTRY,     /* the phone's default country when opts.country is NULL */
	CLN_T_GENDER,
	CLN_T_N
};

/* One customer as the engine sees it: the customers entity's fields
 * (core/entity.c) that help to tell a person. (Its store row id, cid, is
 * not here: st_scan gives rows without it, so cln_dedupe_load tells old
 * from new by scanning the two cid ranges.) */
struct cln_customer {
	int64_t birth_date;           /* s since epoch at 00:00 UTC, or CRM_NA */
	const char *text[CLN_T_N];    /* NUL-terminated UTF-8, borrowed; NULL or ""
	                                 when missing */
};

/* ------------------------------------------------------ fields compared */

/* The fields compared for each candidate pair. */
enum cln_field {
	CLN_F_NAME = 0,    /* given + family (or name), tokens sorted */
	CLN_F_EMAIL,
	CLN_F_PHONE,       /* E.164 */
	CLN_F_ADDRESS,
	CLN_F_POSTCODE,
	CLN_F_CITY,
	CLN_F_BIRTH_DATE,
	CLN_F_GENDER,
	CLN_F_N
};

/* Comparison levels, the same codes for every field; a field uses the ones
 * listed in docs/CLEAN.md. MISSING (either side blank) and IMPLIED weigh 0. */
enum cln_level {
	CLN_L_MISSING = 0,
	CLN_L_EXACT,       /* equal after normalising */
	CLN_L_CLOSE,       /* text: Jaro-Winkler >= 0.92; e-mail and phone: one edit
	                      apart; birth date: day and month swapped */
	CLN_L_SIMILAR,     /* text: Jaro-Winkler >= 0.85 */
	CLN_L_DIFFERENT,
	CLN_L_IMPLIED,     /* postcode when the street addresses are equal, city when
	                      the addresses or the postcodes are: said already, so it
	                      weighs 0 (the three are far from independent) */
	CLN_N_LEVELS
};

/* "name", "email"...; "" out of range. */
const char *cln_field_name(int field);
/* "missing", "exact", "jw>=0.92", "swapped"...: the level's meaning for field. */
const char *cln_level_name(int field, int level);

/* ---------------------------------------------------------- the engine */

struct cln_dedupe_opts {
	double threshold;         /* clusters join pairs with probability >= it (0.9) */
	double review_threshold;  /* pairs from this probability are kept in the
	                             result for review (0.5; at most threshold) */
	const char *country;      /* ISO 3166-1 alpha-2 for phones written without a
	                             country code; NULL: each record's own country */
	size_t n_old;             /* records [0, n_old) were compared with each other
	                             by an earlier run: only pairs with a record
	                             >= n_old are compared (incremental mode) */
	size_t block_cap;         /* a block of more records is sub-blocked (50) */
	size_t window;            /* a record of a sub-blocked block meets this many
	                             neighbours each side in the block's order (5) */
	int threads;              /* worker threads (2) */
};

/* Fills o with the defaults above. */
void cln_dedupe_opts_init(struct cln_dedupe_opts *o);

/* A candidate pair with its score and evidence. */
struct cln_pair {
	uint32_t a, b;                 /* record indexes, a < b */
	double prob;                   /* match probability */
	double weight;                 /* sum of the field weights, log2 (the prior
	                                  log2(lambda / (1 - lambda)) not included) */
	uint8_t level[CLN_F_N];        /* enum cln_level per field */
	float field_weight[CLN_F_N];   /* log2(m / u) of that level, with the
	                                  term-frequency adjustment; 0 when missing */
};

/* The engine's phases, for timings. */
enum cln_phase {
	CLN_T_NORMALISE = 0,      /* normalising, keys, term frequencies */
	CLN_T_BLOCK,              /* sorting keys into blocks */
	CLN_T_COMPARE,            /* comparing the candidate pairs */
	CLN_T_FIT,                /* the EM sample, random pairs, EM */
	CLN_T_SCORE,              /* weights, probabilities, clusters */
	CLN_N_PHASES
};

struct cln_dedupe_result {
	double threshold;              /* the options' thresholds, as used */
	double review_threshold;
	size_t n_records;              /* records given */
	size_t n_new;                  /* of them compared with all (n - n_old) */
	size_t n_blocks;               /* blocks of two or more records */
	size_t n_capped;               /* blocks above the cap, sub-blocked */
	size_t n_capped_records;       /* records in them, counted once per block */
	uint64_t n_pairs;              /* distinct candidate pairs compared */
	uint64_t n_em_pairs;           /* compared pairs EM saw: n_pairs, plus pairs
	                                  of a sample of old records when the new
	                                  ones gave fewer than 50,000 */
	double n_scope_pairs;          /* all the pairs EM was fitted on: those of
	                                  n_em_pairs and the pairs not compared
	                                  (non-matches by the blocking assumption) */
	uint64_t n_train_pairs[2];     /* compared pairs of the two EM sessions that
	                                  fit m (docs/CLEAN.md): A, agreeing on an
	                                  e-mail, phone or address, fits the other
	                                  fields; B, namesakes born the same day or
	                                  at one postcode, fits those three */
	double train_lambda[2];        /* the share of matches each session found */
	int em_iterations[2];          /* of each session */
	int em_converged;              /* 1: every fit moved less than 1e-6 at the end */
	int scope_iterations;          /* of the fit of lambda and u over all the
	                                  pairs in scope, m held */
	double lambda;                 /* estimated share of matches among the
	                                  n_scope_pairs (the prior) */
	double m[CLN_F_N][CLN_N_LEVELS]; /* P(level | match); 0 for levels unused */
	double u[CLN_F_N][CLN_N_LEVELS]; /* P(level | non-match) */
	size_t n_review;               /* pairs with prob >= review threshold */
	struct cln_pair *pairs;        /* n_review of them, by (a, b) */
	size_t n_matches;              /* of them with prob >= threshold */
	size_t n_clusters;             /* connected components of the matches */
	size_t *cluster_start;         /* n_clusters + 1 offsets into cluster_member */
	uint32_t *cluster_member;      /* record indexes, ascending in a cluster;
	                                  clusters in order of their first member */
	double *cluster_prob;          /* n_clusters: the smallest probability of a
	                                  match pair inside the cluster */
	double seconds[CLN_N_PHASES];  /* wall time of each phase */
};

/* Finds the duplicates among recs[0..n) (n < 2^32 - 1). Records
 * [0, o->n_old) count as compared before (see opts). recs is only read, and
 * may be freed when this returns. On success *out is the caller's, freed with
 * cln_dedupe_result_free. Fails with CRM_EINVAL for a record without an id
 * or a threshold outside (0, 1], CRM_ENOMEM when out of memory. */
int cln_dedupe_run(const struct cln_customer *recs, size_t n,
		   const struct cln_dedupe_opts *o, struct cln_dedupe_result **out,
		   struct crm_err *err);

void cln_dedupe_result_free(struct cln_dedupe_result *r);

/* --------------------------------------------------- with the store */

/* The customers of a database, split at a watermark for incremental runs. */
struct cln_customers {
	struct cln_customer *recs;     /* n records: cid <= watermark first (the
	                                  old ones, n_old), then the new, each part
	                                  in cid order; stubs left out */
	size_t n, n_old;
	size_t n_stubs;                /* stub customers skipped (no fields) */
	int64_t max_cid;               /* the largest cid read, 0 if none */
	int64_t next_watermark;        /* what the run may save: every customer up
	                                  to it was read and was not a stub. max_cid,
	                                  or less when a stub was read (a stub filled
	                                  in later keeps its cid, and must count as
	                                  new then) */
	void *text;                    /* the records' text (internal) */
};

/* Reads every customer of db; those with cid <= watermark are the old ones
 * (watermark 0: all are new). *out is the caller's: cln_customers_free. */
int cln_dedupe_load(struct st_db *db, int64_t watermark, struct cln_customers **out,
		    struct crm_err *err);
void cln_customers_free(struct cln_customers *c);

/* Writes the review file: one CSV row per pair of r (header first): both
 * customer_ids, probability, match weight, and per field its level and
 * weight. Errors name the path. */
int cln_review_write(const char *path, const struct cln_customer *recs,
		     const struct cln_dedupe_result *r, struct crm_err *err);

/* The clusters of r as merge groups for st_merge_apply, each with its
 * evidence text (the cluster's pairs, up to a few, with their per-field
 * levels). *groups (r->n_clusters) and everything it points to are the
 * caller's, freed with cln_merge_groups_free(*groups, r->n_clusters). */
int cln_merge_groups(const struct cln_customer *recs, const struct cln_dedupe_result *r,
		     struct st_merge_group **groups, struct crm_err *err);
void cln_merge_groups_free(struct st_merge_group *groups, size_t n);

#endif
