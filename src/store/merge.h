/* merge.h - merging duplicate customers in the store, and undoing it
 * (store layer). The decisions (which customers are one person) are the
 * clean layer's (clean/dedupe.h); this module only carries them out, each
 * merge in a form that can be undone exactly.
 *
 * Tables (migration 2, schema.c): merges (one row per merge: merge_id,
 * kept customer_id and cid, when, probability, evidence, undone_at); what
 * each merge changed, kept after an undo as its history: merge_customers
 * (the merged customers' rows as they were, every column), merge_rows
 * (which row of which entity moved from which cid), merge_fills (the kept
 * customer's blank fields that were filled: before and after),
 * merge_aliases (the aliases added or pointed at the kept customer);
 * alias_rows (rows that imports stored through an alias, kept by store.c's
 * writer); and dedupe_state (the largest cid compared by a finished dedupe
 * run, and the candidate pairs it left pending review). docs/CLEAN.md,
 * "Merging and undo", has the rules. */
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

/* Merges each group into its oldest customer (earliest signup_at; customers
 * without one come after those with one; ties and the rest by the smallest
 * cid, the first stored): every row of orders, interactions, tickets,
 * leads, feedback and web_events of the others moves to it; a field blank
 * (NULL or empty text) in the kept customer is filled from the merged ones
 * (the oldest first), and a kept stub stops being one when a merged
 * customer is not; the merged customer rows are deleted and their
 * customer_ids (and any aliases pointing at them) become aliases of the
 * kept customer, so later imports of an old id land on the merged customer.
 * All groups in one transaction: on error nothing has changed. merge_ids
 * (may be NULL) gets each group's merge_id. An id that is not a stored
 * customer (an alias included: give its customer's id) is CRM_ENOTFOUND
 * naming it; a group of fewer than two, or an id twice, CRM_EINVAL. A
 * moved row that would give the kept customer two rows of one natural key
 * (possible only for a key that includes the customer, which no entity's
 * key does today) fails it all with CRM_EINVAL naming the entity. The
 * handle must be writable, with no writer open on it. */
int st_merge_apply(struct st_db *db, const struct st_merge_group *g, size_t n,
		   int64_t *merge_ids, struct crm_err *err);

/* Undoes one merge exactly, in one transaction: the merged customers come
 * back with their cids and fields, their rows move back, the kept
 * customer's filled fields and the aliases are as before. What happened
 * since the merge is kept: rows that imports stored through one of the
 * merge's aliases go to the customer the alias was (or pointed at) before
 * the merge; rows stored under the kept customer's own id stay; a filled
 * field that an import has changed since keeps the new value; a row that
 * an upsert has given to another customer stays there. A merged
 * customer's cid taken meanwhile by a new customer (SQLite gives the
 * largest cid + 1, so a merge that removed the largest frees it) is the
 * one thing not restored: the customer comes back under a new cid (the
 * log names kept customers by customer_id, so earlier merges still find
 * it). A merge not found is CRM_ENOTFOUND; one already undone, or one that
 * a later merge still standing depends on (one that kept or merged its
 * kept customer; the message names it: undo that first), is CRM_EINVAL. */
int st_merge_undo(struct st_db *db, int64_t merge_id, struct crm_err *err);

struct st_merge_info {
	int64_t merge_id;
	int64_t merged_at;        /* s since epoch */
	int64_t kept_cid;         /* the kept customer's cid when merged */
	char kept_id[128];        /* its customer_id (cut to 127 bytes) */
	size_t n_merged;          /* customers merged into the kept one */
	int undone;
};

/* The merges so far, oldest first, undone ones included; *out (n rows, NULL
 * when none) is the caller's: free(). */
int st_merge_list(struct st_db *db, struct st_merge_info **out, size_t *n,
		  struct crm_err *err);

/* The dedupe watermark: every customer with cid <= *cid has been compared
 * with all (0 before the first run), and the candidate pairs the last run
 * left pending review (0 before the first run). set is called at the end
 * of a dedupe run and replaces both; negative values are CRM_EINVAL. */
int st_dedupe_state_get(struct st_db *db, int64_t *cid, int64_t *pending,
			struct crm_err *err);
int st_dedupe_state_set(struct st_db *db, int64_t cid, int64_t pending,
			struct crm_err *err);

#endif
