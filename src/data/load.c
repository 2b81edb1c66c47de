/* load.c - imports into the store and files into the dataset (data layer).
 * Reading files into a dataset uses the builder as a sink that can be cut
 * into parts, one per thread (ing_import), merged back in file order. */
#include "data/load.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "data/builder.h"
#include "store/store.h"

static int store_put(void *ctx, const struct ent_record *rec, int *outcome,
		     int *stub_created, struct crm_err *err)
{
	/* enum ing_outcome and enum st_outcome have the same values */
	return st_put(ctx, rec, outcome, stub_created, err);
}

void ds_default_rejects_path(const char *db_path, const char *input, char *out,
			     size_t cap)
{
	const char *slash = strrchr(db_path, '/');
	int dir_len = slash ? (int)(slash - db_path + 1) : 0;
	const char *base = strcmp(input, "-") == 0 ? "stdin" : input;
	const char *bs = strrchr(base, '/');
	if (bs)
		base = bs + 1;
	snprintf(out, cap, "%.*s%s.rejects.csv", dir_len, db_path, base);
}

int ds_import(const char *db_path, const char *path, const struct ds_import_opts *o,
	      struct ing_summary *sum, struct crm_err *err)
{
	struct st_db *db = NULL;
	struct st_writer *w = NULL;
	int rc = st_open(db_path, ST_OPEN_CREATE, &db, err);
	if (rc != CRM_OK)
		goto done;
	struct st_writer_opts wo = {
		.upsert = o->upsert, .strict = o->ing.strict, .batch_rows = o->batch_rows,
		.source = strcmp(path, "-") == 0 ? "stdin" : path, .entity = o->ing.entity,
	};
	if ((rc = st_writer_new(db, &wo, &w, err)) != CRM_OK)
		goto done;
	struct ing_sink sink = { .ctx = w, .put = store_put };
	rc = ing_import(path, &o->ing, &sink, sum, err);
	if (rc != CRM_OK)
		goto done;
	const char *names[R_N];
	for (int r = 0; r < R_N; r++)
		names[r] = ing_reason_name(r);
	struct st_import_counts counts = {
		.read = sum->read, .stored = sum->stored, .updated = sum->updated,
		.duplicates = sum->duplicates, .rejected = sum->rejected, .stubs = sum->stubs,
		.n_reasons = R_N, .reason = names, .reason_n = sum->reasons,
	};
	rc = st_writer_finish(w, &counts, err);
	w = NULL;
done:
	if (w)
		st_writer_abort(w);
	st_close(db);
	return rc;
}

/* The builder as a sink: every record is new; a key seen twice in the
 * files is a duplicate within the load. Customers are looked up a few
 * records late (ds_builder_add with no stub_created), so the stubs are
 * told by flush and join. A part for another thread is a builder of its
 * own, merged in file order. */
static int builder_put(void *ctx, const struct ent_record *rec, int *outcome,
		       int *stub_created, struct crm_err *err)
{
	*outcome = ING_INSERTED;
	*stub_created = 0;
	return ds_builder_add(ctx, rec, 0, NULL, err);
}

static int builder_fork(void *ctx, void **part, struct crm_err *err)
{
	return ds_builder_fork(ctx, (struct ds_builder **)part, err);
}

static int builder_join(void *ctx, void *part, int64_t *stubs, struct crm_err *err)
{
	return ds_builder_merge(ctx, part, stubs, err);
}

static void builder_drop(void *part)
{
	ds_builder_free(part);
}

static int builder_flush(void *ctx, int64_t *stubs, struct crm_err *err)
{
	return ds_builder_flush(ctx, stubs, err);
}

int ds_load_files(const struct ds_file *files, size_t n_files,
		  struct ing_summary *sums, struct crm_dataset **out,
		  struct crm_err *err)
{
	struct ds_builder *b = NULL;
	uint32_t keep[CRM_N_ENTITIES] = { 0 };
	int projected = 0;
	*out = NULL;
	int rc = ds_builder_new(&b, err);
	if (rc != CRM_OK)
		return rc;
	/* the columns kept: the fields some file of the entity reads; with a
	 * projection, none of an entity no file feeds (docs/IMPORT.md) */
	for (size_t i = 0; i < n_files; i++) {
		const struct ent_desc *d = ent_get(files[i].ing.entity);
		if (!d) {
			rc = crm_err_set(err, CRM_EINVAL, "%s: unknown entity %d", files[i].path,
					 files[i].ing.entity);
			goto done;
		}
		uint32_t all = (uint32_t)((1ULL << d->n_fields) - 1);
		keep[files[i].ing.entity] |= files[i].ing.fields ? files[i].ing.fields & all : all;
		projected |= files[i].ing.fields != 0;
	}
	for (int e = 0; e < CRM_N_ENTITIES && projected; e++)
		if ((rc = ds_builder_keep(b, e, keep[e], err)) != CRM_OK)
			goto done;
	struct ing_sink sink = {
		.ctx = b, .put = builder_put, .fork = builder_fork, .join = builder_join,
		.drop = builder_drop, .flush = builder_flush,
	};
	for (size_t i = 0; i < n_files; i++)
		if ((rc = ing_import(files[i].path, &files[i].ing, &sink, &sums[i], err)) != CRM_OK)
			goto done;
	rc = ds_builder_finish(b, out, err);
	b = NULL;
done:
	ds_builder_free(b);
	return rc;
}
