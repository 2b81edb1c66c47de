/* merge.h - merging duplicate customers in the store, and undoing it
 * (store layer). The decisions (which customers are one person) are the
 * clean layer's (clean/dedupe.h); this module only carries them out, each
 * merge in a form that can be undone exactly.
 *
 * Tables (migration 2, schema.c): merges (one row per merge: merge_id,
 * kept cid, when, probability, evidence, undone_at), merge_rows (what each
 * merge changed: the merged customers' rows as they were, which rows of
 * which entity moved from which cid, the kept customer's fields before any
 * blank was filled, the aliases added) and dedupe_state (the largest cid
 * compared by a finished dedupe run, and the candidate pairs it left
 * pending review). */
#ifndef STORE_MERGE_H
#define STORE_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "store/store.h"

/* One group of customer_ids found to be one person. */
struct st_merge_group {
	const char *const *ids;   /* n customer_id texts (stored ids, not aliases) */
	size_t n;                 /* >= 2 */
	double prob;              /* the smallest match probability joining the group */
	const char *evidence;     /* a line of text saying why (saved with the merge) */
};

/* Merges each group into its oldest customer (earliest signup_at; without
 * one, the smallest cid): every row of orders, interactions, tickets,
 * leads, feedback and web_events of the others moves to it; a field blank
 * in the kept customer is filled from the merged ones (the oldest first);
 * the merged customer rows are deleted and their customer_ids (and any
 * aliases pointing at them) become aliases of the kept customer, so later
 * imports of an old id land on the merged customer. All groups in one
 * transaction: on error nothing has changed. merge_ids (may be NULL) gets
 * each group's merge_id. An id that is not a stored customer is
 * CRM_ENOTFOUND naming it. */
int st_merge_apply(struct st_db *db, const struct st_merge_group *g, size_t n,
		   int64_t *merge_ids, struct crm_err *err);

/* Undoes one merge exactly: the merged customers come back with their
 * cids and fields, their rows move back, the kept customer's fields and the
 * aliases are as before. A merge already undone, or one that a later merge
 * of the same customers depends on (undo that first), is CRM_EINVAL. */
int st_merge_undo(struct st_db *db, int64_t merge_id, struct crm_err *err);

struct st_merge_info {
	int64_t merge_id;
	int64_t merged_at;        /* s since epoch */
	int64_t kept_cid;
	size_t n_merged;          /* customers merged into the kept one */
	int undone;
};

/* The merges so far, oldest first; *out (n rows) is the caller's: free(). */
int st_merge_list(struct st_db *db, struct st_merge_info **out, size_t *n,
		  struct crm_err *err);

/* The dedupe watermark: every customer with cid <= *cid has been compared
 * with all (0 before the first run), and the candidate pairs the last run
 * left pending review. set is called at the end of a dedupe run. */
int st_dedupe_state_get(struct st_db *db, int64_t *cid, int64_t *pending,
			struct crm_err *err);
int st_dedupe_state_set(struct st_db *db, int64_t cid, int64_t pending,
			struct crm_err *err);

#endif
