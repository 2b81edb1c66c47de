/* builder.h - building the in-memory dataset (data layer).
 * Records arrive in any order, from the store (crm_dataset_load_db) or
 * straight from files through the importer, possibly into several builders
 * filled on threads of their own and merged in order; ds_builder_finish
 * gives customers dense ids (ascending customer_id), sorts each entity by
 * customer then time and computes the per-customer offsets (crmscope.h). */
#ifndef DATA_BUILDER_H
#define DATA_BUILDER_H

#include <stdint.h>

#include "core/entity.h"
#include "crmscope.h"

struct ds_builder;

/* *out is the caller's: ds_builder_finish or ds_builder_free. */
int ds_builder_new(struct ds_builder **out, struct crm_err *err);
void ds_builder_free(struct ds_builder *b);

/* Keeps only the fields of entity whose bit is set in fields (bit f for
 * field f of the entity's enum); the others are not copied and their
 * dataset columns are CRM_COL_NONE. The customer reference is always kept
 * (the layout is by customer). Call it before the entity's first record:
 * later is CRM_EINVAL. By default every field is kept. */
int ds_builder_keep(struct ds_builder *b, int entity, uint32_t fields,
		    struct crm_err *err);

/* Adds one record (any entity). A customer referred to before (or without)
 * its customers row gets a stub row, flagged in is_stub unless a customers
 * record for it arrives. Text is copied. *stub_created tells whether this
 * record created a stub. stub_created may be NULL: then the builder may
 * look the customer up a few records later (which is faster: the lookups
 * overlap), and the stubs so made are told by ds_builder_flush. */
int ds_builder_add(struct ds_builder *b, const struct ent_record *rec,
		   int is_stub, int *stub_created, struct crm_err *err);

/* Adds rec[0..n) in order, as many calls of ds_builder_add with is_stub 0
 * and stub_created NULL would, but faster: the usual events of a large file
 * go into the columns a batch at a time. numbered: the i of each customer
 * reference that is set holds strmap_number of its text, as ing_import
 * gives it, and is used instead of parsing the text again. *added is the
 * number of records added: n, or on failure the index of the one that
 * failed. */
int ds_builder_add_many(struct ds_builder *b, const struct ent_record *rec, size_t n,
			int numbered, size_t *added, struct crm_err *err);

/* Looks up the customers of the records added so far; *stubs is the number
 * of stubs that records added with a NULL stub_created made since the last
 * flush. */
int ds_builder_flush(struct ds_builder *b, int64_t *stubs, struct crm_err *err);

/* A new empty builder that keeps the fields b keeps, to be filled on
 * another thread than b and merged into b with ds_builder_merge. *out is the
 * caller's (ds_builder_merge or ds_builder_free). */
int ds_builder_fork(const struct ds_builder *b, struct ds_builder **out,
		    struct crm_err *err);

/* Appends the records of src after those of dst, with the same result as if
 * they had been added to dst in src's order, and frees src in all cases.
 * *stubs (may be NULL) is the number of customers new to dst that src knew
 * only from references: the stubs that adding the records to dst would have
 * reported. On failure dst is whole but may miss src's records. */
int ds_builder_merge(struct ds_builder *dst, struct ds_builder *src,
		     int64_t *stubs, struct crm_err *err);

/* Sorts and lays out the dataset, on one thread per core when the tables
 * are large; frees b in all cases. *out is the caller's (crm_dataset_free). */
int ds_builder_finish(struct ds_builder *b, struct crm_dataset **out,
		      struct crm_err *err);

#endif
