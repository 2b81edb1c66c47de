/* dataset.c - loading, reading and freeing the columnar dataset (data layer).
 * The dataset comes from the SQLite store through st_scan_range, record by
 * record into the builder (builder.c; a large table in two halves on two
 * threads), which lays it out; analyses then read the arrays of struct
 * crm_dataset directly. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "crmscope.h"
#include "data/builder.h"
#include "data/dataset.h"
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

/* A table whose primary keys span at least this many is read in two halves
 * of its key range, on two threads with a connection each, into two builders
 * merged in key order: the same dataset, the SQLite decoding and the
 * builder's copying shared between two cores. Smaller tables are not worth
 * a thread. */
#define SPLIT_MIN_ROWS 50000

struct load_ctx {
	struct ds_builder *b;
	struct crm_err err;       /* the builder's error, kept apart from the store's */
};

static int load_row(void *ctx, const struct ent_record *rec, int is_stub)
{
	struct load_ctx *lc = ctx;
	return ds_builder_add(lc->b, rec, is_stub, NULL, &lc->err);
}

/* The upper half of a table, scanned on a thread of its own. */
struct load_part {
	struct st_db *db;         /* the thread's own connection */
	int entity;
	int64_t lo, hi;           /* primary keys scanned */
	struct load_ctx lc;       /* lc.b: a fork of the main builder */
	struct crm_err err;       /* the store's error */
	int rc;
};

static void *load_part_run(void *arg)
{
	struct load_part *p = arg;
	p->rc = st_scan_range(p->db, p->entity, p->lo, p->hi, load_row, &p->lc, &p->err);
	if (p->rc != CRM_OK && p->lc.err.code != CRM_OK)
		p->err = p->lc.err;
	return NULL;
}

/* Scans one entity into lc->b: its lower half on this thread, its upper
 * half on another thread through *db2 (opened on first use; the caller
 * closes it) into a fork merged after. */
static int load_entity(const char *db_path, struct st_db *db, struct st_db **db2,
		       int e, struct load_ctx *lc, struct crm_err *err)
{
	struct load_part part = { 0 };
	pthread_t th;
	int64_t lo = 1, hi = 0;
	int rc;
	rc = st_key_bounds(db, e, &lo, &hi, err);
	if (rc != CRM_OK)
		return rc;
	/* key range, not rows: row ids are dense but for deleted rows */
	if (hi < lo || (uint64_t)hi - (uint64_t)lo < SPLIT_MIN_ROWS)
		goto single;
	if (!*db2) {
		rc = st_open(db_path, ST_OPEN_READ, db2, err);
		if (rc != CRM_OK)
			return rc;
	}
	int64_t mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
	part.db = *db2;
	part.entity = e;
	part.lo = mid + 1;
	part.hi = INT64_MAX;      /* rows stored since the bounds were read too */
	part.lc.err.code = CRM_OK;
	part.lc.err.msg[0] = '\0';
	rc = ds_builder_fork(lc->b, &part.lc.b, err);
	if (rc != CRM_OK)
		return rc;
	if (pthread_create(&th, NULL, load_part_run, &part) != 0) {
		ds_builder_free(part.lc.b);
		part.lc.b = NULL;
		goto single;      /* no thread: all of it here */
	}
	rc = st_scan_range(db, e, INT64_MIN, mid, load_row, lc, err);
	pthread_join(th, NULL);
	if (rc != CRM_OK) {
		if (lc->err.code != CRM_OK)
			*err = lc->err;
		goto done;
	}
	if (part.rc != CRM_OK) {
		rc = part.rc;
		*err = part.err;
		goto done;
	}
	rc = ds_builder_merge(lc->b, part.lc.b, NULL, err);
	part.lc.b = NULL;         /* the merge frees it in all cases */
	goto done;
single:
	rc = st_scan(db, e, load_row, lc, err);
	if (rc != CRM_OK && lc->err.code != CRM_OK)
		*err = lc->err;
done:
	ds_builder_free(part.lc.b);   /* NULL once merged */
	return rc;
}

int crm_dataset_load_db(const char *db_path, struct crm_dataset **out,
			struct crm_err *err)
{
	struct st_db *db = NULL, *db2 = NULL;
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
		rc = load_entity(db_path, db, &db2, e, &lc, err);
		if (rc != CRM_OK)
			goto done;
	}
	rc = ds_builder_finish(lc.b, out, err);
	lc.b = NULL;
done:
	ds_builder_free(lc.b);
	st_close(db2);
	st_close(db);
	return rc;
}

size_t ds_split_customers(const struct crm_dataset *ds)
{
	const struct crm_table *t = &ds->t[CRM_ORDERS];
	if (t->n < DS_THREAD_MIN_ORDERS || !t->by_customer)
		return ds->n_customers;
	size_t lo = 0, hi = ds->n_customers;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (t->by_customer[m] < t->n / 2)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}
