/* load.c - imports into the store and files into the dataset (data layer). */
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
	struct ing_sink sink = { w, store_put };
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
 * files is a duplicate within the load. */
struct builder_sink {
	struct ds_builder *b;
};

static int builder_put(void *ctx, const struct ent_record *rec, int *outcome,
		       int *stub_created, struct crm_err *err)
{
	struct builder_sink *bs = ctx;
	*outcome = 0;
	return ds_builder_add(bs->b, rec, 0, stub_created, err);
}

int ds_load_files(const struct ds_file *files, size_t n_files,
		  struct ing_summary *sums, struct crm_dataset **out,
		  struct crm_err *err)
{
	struct ds_builder *b = NULL;
	*out = NULL;
	int rc = ds_builder_new(&b, err);
	if (rc != CRM_OK)
		return rc;
	struct builder_sink bs = { b };
	struct ing_sink sink = { &bs, builder_put };
	for (size_t i = 0; i < n_files; i++) {
		rc = ing_import(files[i].path, &files[i].ing, &sink, &sums[i], err);
		if (rc != CRM_OK) {
			ds_builder_free(b);
			return rc;
		}
	}
	return ds_builder_finish(b, out, err);
}
