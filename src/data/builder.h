/* builder.h - building the in-memory dataset (data layer).
 * Records arrive in any order, from the store (crm_dataset_load_db) or
 * straight from files through the importer; ds_builder_finish gives
 * customers dense ids (ascending customer_id), sorts each entity by
 * customer then time and computes the per-customer offsets (crmscope.h). */
#ifndef DATA_BUILDER_H
#define DATA_BUILDER_H

#include "core/entity.h"
#include "crmscope.h"

struct ds_builder;

/* *out is the caller's: ds_builder_finish or ds_builder_free. */
int ds_builder_new(struct ds_builder **out, struct crm_err *err);
void ds_builder_free(struct ds_builder *b);

/* Adds one record (any entity). A customer referred to before (or without)
 * its customers row gets a stub row, flagged in is_stub unless a customers
 * record for it arrives. Text is copied. *stub_created tells whether this
 * record created a stub (may be NULL). */
int ds_builder_add(struct ds_builder *b, const struct ent_record *rec,
		   int is_stub, int *stub_created, struct crm_err *err);

/* Sorts and lays out the dataset; frees b in all cases. *out is the caller's
 * (crm_dataset_free). */
int ds_builder_finish(struct ds_builder *b, struct crm_dataset **out,
		      struct crm_err *err);

#endif
