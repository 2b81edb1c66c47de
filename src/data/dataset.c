/* dataset.c - loading, reading and freeing the columnar dataset (data layer).
 * The dataset comes from the SQLite store through st_scan, record by record
 * into the builder (builder.c), which lays it out; analyses then read the
 * arrays of struct crm_dataset directly. */
#include <stdlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "crmscope.h"
#include "data/builder.h"
#include "store/store.h"

void crm_dataset_free(struct crm_dataset *ds)
{
	if (!ds)
		return;
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		struct crm_table *t = &ds->t[e];
		free(t->customer);
		free(t->by_customer);
		for (int f = 0; f < CRM_MAX_FIELDS; f++) {
			free(t->col[f].i64);
			free(t->col[f].cat);
			strs_fini(&t->col[f].dict);
			strs_fini(&t->col[f].str);
		}
	}
	free(ds->is_stub);
	free(ds);
}

const char *crm_cell_str(const struct crm_table *t, int field, size_t row)
{
	if (!t || field < 0 || field >= CRM_MAX_FIELDS || row >= t->n)
		return "";
	const struct crm_column *c = &t->col[field];
	if (c->kind == CRM_COL_CAT && c->cat)
		return strs_get(&c->dict, c->cat[row], NULL);
	if (c->kind == CRM_COL_STR)
		return strs_get(&c->str, row, NULL);
	return "";
}

struct load_ctx {
	struct ds_builder *b;
	struct crm_err err;       /* the builder's error, kept apart from the store's */
};

static int load_row(void *ctx, const struct ent_record *rec, int is_stub)
{
	struct load_ctx *lc = ctx;
	return ds_builder_add(lc->b, rec, is_stub, NULL, &lc->err);
}

int crm_dataset_load_db(const char *db_path, struct crm_dataset **out,
			struct crm_err *err)
{
	struct st_db *db = NULL;
	struct load_ctx lc = { NULL, { CRM_OK, "" } };
	int rc;
	*out = NULL;
	rc = st_open(db_path, ST_OPEN_READ, &db, err);
	if (rc != CRM_OK)
		goto done;
	rc = ds_builder_new(&lc.b, err);
	if (rc != CRM_OK)
		goto done;
	/* customers first, so that their records (and stub flags) are known
	 * before the events that refer to them */
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		rc = st_scan(db, e, load_row, &lc, err);
		if (rc != CRM_OK) {
			if (lc.err.code != CRM_OK)
				*err = lc.err;
			goto done;
		}
	}
	rc = ds_builder_finish(lc.b, out, err);
	lc.b = NULL;
done:
	ds_builder_free(lc.b);
	st_close(db);
	return rc;
}
