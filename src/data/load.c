/* load.c - imports into the store and files into the dataset (data layer).
 * Reading files into a dataset uses the builder as a sink that can be cut
 * into parts, one per thread (ing_import), merged back in file order. */
#include "data/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/money.h"
#include "core/strmap.h"
#include "core/trace.h"
#include "data/builder.h"
#include "store/store.h"

/* The store as a sink: st_put record by record (its writer batches the
 * rows into transactions). */
static int store_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	for (size_t k = 0; k < b->n; k++) {
		int stub = 0;
		/* enum ing_outcome and enum st_outcome have the same values */
		int rc = st_put(ctx, &b->rec[k], &b->outcome[k], &stub, err);
		if (rc != CRM_OK)
			return rc;
		b->stubs += stub;
		b->taken = k + 1;
	}
	return CRM_OK;
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

/* ------------------------------------------------------- repeated keys
 *
 * Importing into the store finds a natural key repeated within the files
 * through the store's unique index. Read straight into a dataset, the first
 * pass keeps only a 64-bit hash of each record's key (8 bytes a row and no
 * lookups, so rows go on at full speed on every core). When two hashes are
 * equal once the files are read (a repeated key, or, about once in a
 * million loads of 10M rows, two keys with the same hash), the files are
 * read again on one thread: a record whose key hash is one of those
 * candidates has its exact key looked up among the earlier ones, and a
 * repeat is told to the importer as a duplicate within the load
 * (ING_DUP_IN_FILE: counted as rejected duplicate_in_file, in lines for
 * order lines) and left out. So the rows kept are those the store would
 * keep, the first of each key, and clean files pay only the hashing.
 * Standard input cannot be read twice: with "-" among the files every key
 * is checked exactly in the one pass. Records with no key of their own
 * (an id the file does not have and the load did not ask to make up) are
 * not checked: made-up ids are unique by construction. */

struct keylog {
	uint64_t *h;
	size_t n, cap;
};

/* Keys that are numbers (strmap_number) below NUMSET_BITS, by value: a bit
 * each instead of a hash of 8 bytes, and a repeat is known when it is met.
 * The words are allocated zeroed and whole on the first number; pages no
 * key touches are never backed (ids 1..10M touch 1.25 MB). Whether a key is
 * kept here or hashed depends on the key alone, so a key is always met in
 * the same place. */
#define NUMSET_BITS ((size_t)1 << 28)

struct numset {
	uint64_t *w;              /* NUMSET_BITS / 64 words, or NULL */
	size_t lo, hi;            /* the words touched: [lo, hi) */
	struct keylog rep;        /* values met again (a value met k times: k - 1) */
};

struct loader {
	struct keylog log[CRM_N_ENTITIES]; /* pass 1: every key's hash, by entity */
	struct numset nums[CRM_N_ENTITIES]; /* pass 1: keys that are numbers, by entity */
	const uint64_t *cand;     /* exact pass: sorted candidate hashes */
	size_t n_cand;
	int exact_all;            /* exact pass over every key (standard input) */
	struct strmap seen;       /* exact pass: keys (entity byte + key) so far */
};

/* A sink for one thread: a builder and, in the first pass, its part of the
 * key log. */
struct lsink {
	struct ds_builder *b;
	struct loader *l;
	struct keylog log;        /* pass 1 parts: hashes of this part's keys */
	struct numset nums;       /* pass 1 parts: this part's keys that are numbers */
	int entity;
	int unique;               /* the file's keys are unique by construction (an
	                             entity keyed by occurrence, read without the
	                             numbers): not checked */
	int part;                 /* 1: a fork (its log is joined into the parent's) */
	struct buf key;           /* scratch for the key bytes */
};

/* The bytes of rec's natural key (entity byte first) in b; 0 when the
 * record has no key of its own, 1 when it has, -1 on ENOMEM. */
static int key_bytes(const struct ent_record *rec, struct buf *b)
{
	const struct ent_desc *d = ent_get(rec->entity);
	b->len = 0;
	if (d->id_field >= 0 && !rec->v[d->id_field].set)
		return 0;
	if (buf_putc(b, (char)rec->entity))
		return -1;
	for (const int *f = d->key; *f >= 0; f++) {
		const struct ent_value *v = &rec->v[*f];
		int bad = 0;
		if (v->set && v->s)
			bad = buf_append(b, v->s, v->n);
		else if (v->set)
			bad = buf_append(b, &v->i, sizeof v->i);
		if (bad || buf_putc(b, v->set ? '\x1f' : '\x1e'))
			return -1;
	}
	if (d->key_has_seq && buf_append(b, &rec->seq, sizeof rec->seq))
		return -1;
	return 1;
}

/* The record's key when it is the entity's id alone (every entity with an
 * id), else NULL. */
static const struct ent_value *id_key(const struct ent_record *rec)
{
	const struct ent_desc *d = ent_get(rec->entity);
	if (d->id_field >= 0 && d->key[0] == d->id_field && d->key[1] < 0 && !d->key_has_seq)
		return &rec->v[d->id_field];
	return NULL;
}

/* The hash of an id key p[0..n) of entity e, never 0: the entity mixed in,
 * as the same id in two entities is no repeat. */
static uint64_t id_hash(int e, const char *p, size_t n)
{
	uint64_t x = strmap_hash(p, n) ^ ((uint64_t)(e + 1) * UINT64_C(0x9E3779B97F4A7C15));
	return x ? x : 1;
}

/* The hash of rec's natural key in *h (never 0), as key_hash gives it for
 * every record of the entity. A key of one text field (every entity with
 * an id) is hashed as it stands, without copying; b is then left empty,
 * else it holds the key bytes. Returns as key_bytes. */
static int key_hash(const struct ent_record *rec, struct buf *b, uint64_t *h)
{
	const struct ent_value *v = id_key(rec);
	if (v) {
		b->len = 0;
		if (!v->set)
			return 0;
		*h = id_hash(rec->entity, v->s, v->n);
		return 1;
	}
	int has = key_bytes(rec, b);
	if (has > 0)
		*h = strmap_hash(b->p, b->len);
	return has;
}

static int keylog_push(struct keylog *g, uint64_t h)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4096;
		uint64_t *p = xreallocn(g->h, cap, sizeof *p);
		if (!p)
			return -1;
		g->h = p;
		g->cap = cap;
	}
	g->h[g->n++] = h;
	return 0;
}

static int keylog_append(struct keylog *dst, const struct keylog *src)
{
	if (src->n == 0)
		return 0;
	if (dst->cap - dst->n < src->n) {
		size_t cap = dst->n + src->n;
		uint64_t *p = xreallocn(dst->h, cap, sizeof *p);
		if (!p)
			return -1;
		dst->h = p;
		dst->cap = cap;
	}
	memcpy(dst->h + dst->n, src->h, src->n * sizeof *src->h);
	dst->n += src->n;
	return 0;
}

/* Makes sure g has its words. 0, or -1 on ENOMEM. */
static int numset_ready(struct numset *g)
{
	if (!g->w) {
		if (!(g->w = calloc(NUMSET_BITS / 64, sizeof *g->w)))
			return -1;
		g->lo = SIZE_MAX;
	}
	return 0;
}

/* Adds number v (< NUMSET_BITS) to g. 0, or -1 on ENOMEM. */
static int numset_add(struct numset *g, uint64_t v)
{
	if (numset_ready(g))
		return -1;
	size_t k = (size_t)(v >> 6);
	uint64_t bit = UINT64_C(1) << (v & 63);
	if (k < g->lo)
		g->lo = k;
	if (k >= g->hi)
		g->hi = k + 1;
	if (g->w[k] & bit)
		return keylog_push(&g->rep, v);
	g->w[k] |= bit;
	return 0;
}

static void numset_fini(struct numset *g)
{
	free(g->w);
	free(g->rep.h);
	*g = (struct numset){ 0 };
}

/* Adds src's numbers to dst (src left empty): the values in both are
 * repeats. 0, or -1 on ENOMEM. */
static int numset_merge(struct numset *dst, struct numset *src)
{
	int rc = 0;
	if (!src->w) {
		rc = keylog_append(&dst->rep, &src->rep);
	} else if (!dst->w) {
		struct keylog rep = dst->rep;
		*dst = *src;
		*src = (struct numset){ 0 };
		src->rep = rep;       /* dst's earlier repeats, if any, follow */
		rc = keylog_append(&dst->rep, &src->rep);
	} else {
		for (size_t k = src->lo; k < src->hi && rc == 0; k++) {
			for (uint64_t r = dst->w[k] & src->w[k]; r && rc == 0; r &= r - 1)
				rc = keylog_push(&dst->rep, (uint64_t)k << 6 | (uint64_t)__builtin_ctzll(r));
			dst->w[k] |= src->w[k];
		}
		if (src->lo < dst->lo)
			dst->lo = src->lo;
		if (src->hi > dst->hi)
			dst->hi = src->hi;
		if (rc == 0)
			rc = keylog_append(&dst->rep, &src->rep);
	}
	numset_fini(src);
	return rc;
}

static int is_candidate(const struct loader *l, uint64_t h)
{
	size_t lo = 0, hi = l->n_cand;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->cand[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n_cand && l->cand[lo] == h;
}

/* Adds the records rec[from..to) of b to the builder; b->taken is then
 * how many of b's records were dealt with (to, or on failure the index of
 * the record the builder refused). */
static int lsink_add(struct lsink *s, struct ing_batch *b, size_t from, size_t to,
		     struct crm_err *err)
{
	size_t added = 0;
	/* ingest's records come with their ids' numbers (see ing_sink) */
	int rc = from < to ? ds_builder_add_many(s->b, b->rec + from, to - from, 1, &added, err)
			   : CRM_OK;
	b->taken = from + added;
	return rc;
}

/* The key check of record rec, whose id key is id (NULL: its key is not
 * an id alone), in the first pass or not: 0, with *dup 1 when the exact
 * pass met the key before; -1 when out of memory. */
static inline int check_key(struct lsink *s, const struct ent_record *rec,
			    const struct ent_value *id, int first, int *dup)
{
	struct loader *l = s->l;
	uint64_t h;
	*dup = 0;
	if (id && first) {
		int64_t num = id->set ? id->i : -1;   /* strmap_number (see ing_sink) */
		if (num >= 0 && (size_t)num < NUMSET_BITS)
			return numset_add(&s->nums, (uint64_t)num);
	}
	int has = key_hash(rec, &s->key, &h);
	if (has <= 0)
		return has;
	if (first)
		return keylog_push(&s->log, h);
	if (l->exact_all || is_candidate(l, h)) {
		size_t ix;
		int added;
		if (s->key.len == 0 && key_bytes(rec, &s->key) < 0)
			return -1;
		if (strmap_put(&l->seen, s->key.p, s->key.len, 0, &ix, &added))
			return -1;
		*dup = !added;
	}
	return 0;
}

/* The builder as a sink. The builder is not asked which record made a
 * stub customer (ds_builder_add_many), so the stubs are told by flush and
 * join. A part for another thread is a builder of its own, merged in file
 * order.
 *
 * The key check runs over the batch first, and the records whose keys pass
 * go to the builder together: a run at a time, broken only where the exact
 * pass finds a repeat, which is left out. What is the same for every record
 * of the batch (the entity's id field, which pass this is) is worked out
 * once, so that the usual record, an event whose id is a number (ingest
 * gives its value) in the first pass, costs a bit set. */
static int lsink_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	struct lsink *s = ctx;
	const struct ent_record *rec = b->rec;
	size_t n = b->n, run = 0;  /* rec[run..k) passed the check, not yet added */
	int rc = CRM_OK;
	for (size_t k = 0; k < n; k++)
		b->outcome[k] = ING_INSERTED;
	b->taken = 0;
	if (rec[0].entity == CRM_CUSTOMERS || s->unique)
		return lsink_add(s, b, 0, n, err);
	/* the id's offset among a record's values when the key is the id alone:
	 * the same for every record of the batch (one entity) */
	const struct ent_value *id0 = id_key(&rec[0]);
	size_t id_at = id0 ? (size_t)(id0 - rec[0].v) : 0;
	int first = !s->l->cand && !s->l->exact_all;
	size_t k = 0;
	if (id0 && first && rec[0].v[id_at].set && (uint64_t)rec[0].v[id_at].i < NUMSET_BITS &&
	    numset_ready(&s->nums) == 0) {
		/* the usual batch: ids that are numbers, a bit each. The loop
		 * is numset_add kept to that (the range of words touched in
		 * registers, set once after; calling numset_add per id cost 15
		 * instructions a record more, callgrind on the 1M anchor file),
		 * and stops at the first other id for check_key */
		struct numset *g = &s->nums;
		size_t lo = g->lo, hi = g->hi;
		for (; k < n; k++) {
			const struct ent_value *id = &rec[k].v[id_at];
			if (!id->set || (uint64_t)id->i >= NUMSET_BITS)
				break;
			size_t w = (size_t)((uint64_t)id->i >> 6);
			uint64_t bit = UINT64_C(1) << (id->i & 63);
			lo = w < lo ? w : lo;
			hi = w >= hi ? w + 1 : hi;
			if (g->w[w] & bit) {
				g->lo = lo;
				g->hi = hi;
				if (keylog_push(&g->rep, (uint64_t)id->i))
					goto nomem;
			}
			g->w[w] |= bit;
		}
		g->lo = lo;
		g->hi = hi;
	}
	for (; k < n; k++) {
		int dup;
		if (check_key(s, &rec[k], id0 ? &rec[k].v[id_at] : NULL, first, &dup) != 0)
			goto nomem;
		if (dup) {
			/* a repeat: told to the importer, not added */
			if ((rc = lsink_add(s, b, run, k, err)) != CRM_OK)
				return rc;
			b->outcome[k] = ING_DUP_IN_FILE;
			run = k + 1;
		}
	}
	if ((rc = lsink_add(s, b, run, n, err)) == CRM_OK)
		b->taken = n;
	return rc;
nomem:
	/* record k failed: those before it are added, as they were checked */
	if ((rc = lsink_add(s, b, run, k, err)) == CRM_OK)
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
	return rc;
}

static void lsink_free(struct lsink *s)
{
	if (!s)
		return;
	free(s->log.h);
	numset_fini(&s->nums);
	buf_fini(&s->key);
	if (s->part)
		ds_builder_free(s->b);
	free(s);
}

static int lsink_fork(void *ctx, void **part, struct crm_err *err)
{
	struct lsink *s = ctx, *p = calloc(1, sizeof *p);
	if (!p)
		return crm_err_set(err, CRM_ENOMEM, "out of memory starting a thread");
	p->l = s->l;
	p->entity = s->entity;
	p->unique = s->unique;
	p->part = 1;
	buf_init(&p->key);
	int rc = ds_builder_fork(s->b, &p->b, err);
	if (rc != CRM_OK) {
		lsink_free(p);
		return rc;
	}
	*part = p;
	return CRM_OK;
}

static int lsink_join(void *ctx, void *part, int64_t *stubs, struct crm_err *err)
{
	struct lsink *s = ctx, *p = part;
	int rc = CRM_OK;
	if (s->log.n == 0) {
		/* the first part: take its log whole */
		free(s->log.h);
		s->log = p->log;
		p->log = (struct keylog){ 0 };
	} else if (keylog_append(&s->log, &p->log))
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
	if (rc == CRM_OK && numset_merge(&s->nums, &p->nums))
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
	struct ds_builder *b = p->b;
	p->b = NULL;
	if (rc == CRM_OK)
		rc = ds_builder_merge(s->b, b, stubs, err);  /* takes b in all cases */
	else
		ds_builder_free(b);
	lsink_free(p);
	return rc;
}

static void lsink_drop(void *part)
{
	lsink_free(part);
}

static int lsink_flush(void *ctx, int64_t *stubs, struct crm_err *err)
{
	struct lsink *s = ctx;
	return ds_builder_flush(s->b, stubs, err);
}

/* The hashes that occur more than once in g (reordering g), sorted, in
 * *out (the caller's) and *n_out. g is partitioned in place by the hashes'
 * top bits into 4096 buckets (American flag sort: no second array, as the
 * log is the largest thing alive then), and each bucket, small enough for
 * the cache, is checked with a table of its own: no sort. */
#define TOP_BITS 12
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int find_repeats(struct keylog *g, uint64_t **out, size_t *n_out)
{
	size_t nb = (size_t)1 << TOP_BITS, *start = calloc(2 * nb + 1, sizeof *start);
	uint64_t *table = NULL;
	struct keylog rep = { 0 };
	int rc = -1;
	if (!start)
		goto done;
	size_t *next = start + nb + 1;
	for (size_t i = 0; i < g->n; i++)
		start[(g->h[i] >> (64 - TOP_BITS)) + 1]++;
	for (size_t k = 0; k < nb; k++)
		start[k + 1] += start[k];
	memcpy(next, start, nb * sizeof *next);
	for (size_t k = 0; k < nb; k++) {
		while (next[k] < start[k + 1]) {
			uint64_t v = g->h[next[k]];
			size_t b = (size_t)(v >> (64 - TOP_BITS));
			if (b == k) {
				next[k]++;
			} else {
				g->h[next[k]] = g->h[next[b]];
				g->h[next[b]++] = v;
			}
		}
	}
	size_t table_cap = 0;
	for (size_t k = 0; k < nb; k++) {
		size_t lo = start[k], hi = start[k + 1], cap = 16;
		while (cap < 2 * (hi - lo))
			cap *= 2;
		if (cap > table_cap) {
			free(table);
			if (!(table = xmallocn(cap, sizeof *table)))
				goto done;
			table_cap = cap;
		}
		/* hashes are never 0: 0 marks an empty slot */
		memset(table, 0, cap * sizeof *table);
		for (size_t i = lo; i < hi; i++) {
			uint64_t h = g->h[i];
			size_t j = (size_t)h & (cap - 1);
			while (table[j] && table[j] != h)
				j = (j + 1) & (cap - 1);
			if (table[j] == h) {
				if (keylog_push(&rep, h))
					goto done;
			} else {
				table[j] = h;
			}
		}
	}
	rc = 0;
done:
	free(start);
	free(table);
	if (rc) {
		free(rep.h);
		return rc;
	}
	/* a hash seen three times is listed twice: sort and drop repeats */
	if (rep.n > 1)
		qsort(rep.h, rep.n, sizeof *rep.h, cmp_u64);
	size_t m = 0;
	for (size_t i = 0; i < rep.n; i++)
		if (m == 0 || rep.h[m - 1] != rep.h[i])
			rep.h[m++] = rep.h[i];
	*out = rep.h;
	*n_out = m;
	return 0;
}

/* The candidates of every entity's log in one sorted list in l (the logs
 * freed): hashes are of keys that start with, or mix in, the entity, so a
 * hash names one entity's key but for collisions, which the exact pass
 * settles. */
static int gather_candidates(struct loader *l, struct crm_err *err)
{
	struct keylog all = { 0 };
	int rc = CRM_OK;
	for (int e = 0; e < CRM_N_ENTITIES && rc == CRM_OK; e++) {
		uint64_t *cand = NULL;
		size_t n = 0;
		if (find_repeats(&l->log[e], &cand, &n) ||
		    keylog_append(&all, &(struct keylog){ cand, n, n }))
			rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
		/* a number met again: the hash its text has in the exact pass */
		const struct keylog *rep = &l->nums[e].rep;
		for (size_t i = 0; i < rep->n && rc == CRM_OK; i++) {
			char text[24];
			size_t len = (size_t)(money_put_digits(text, rep->h[i]) - text);
			if (keylog_push(&all, id_hash(e, text, len)))
				rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
		}
		numset_fini(&l->nums[e]);
		free(cand);
		free(l->log[e].h);
		l->log[e] = (struct keylog){ 0 };
	}
	if (rc != CRM_OK) {
		free(all.h);
		return rc;
	}
	if (all.n > 1)
		qsort(all.h, all.n, sizeof *all.h, cmp_u64);
	l->cand = all.h;
	l->n_cand = all.n;
	if (all.n == 0) {
		free(all.h);
		l->cand = NULL;
	}
	return CRM_OK;
}

/* One pass over the files into a new dataset. The first (not exact) pass
 * finds the candidate repeats before laying out the dataset, and when
 * there are any, stops there: *out stays NULL and l->cand is set. */
static int load_pass(const struct ds_file *files, size_t n_files, const uint32_t *keep,
		     int projected, struct loader *l, int one_thread,
		     struct ing_summary *sums, struct crm_dataset **out, struct crm_err *err)
{
	struct lsink top = { 0 };
	int first = !l->cand && !l->exact_all;
	top.l = l;
	buf_init(&top.key);
	*out = NULL;
	int rc = ds_builder_new(&top.b, err);
	if (rc != CRM_OK)
		goto done;
	for (int e = 0; e < CRM_N_ENTITIES && projected; e++)
		if ((rc = ds_builder_keep(top.b, e, keep[e], err)) != CRM_OK)
			goto done;
	struct ing_sink sink = {
		.ctx = &top, .put = lsink_put, .fork = one_thread ? NULL : lsink_fork,
		.join = lsink_join, .drop = lsink_drop, .flush = lsink_flush,
	};
	size_t of_entity[CRM_N_ENTITIES] = { 0 };
	for (size_t i = 0; i < n_files; i++)
		of_entity[files[i].ing.entity]++;
	for (size_t i = 0; i < n_files; i++) {
		struct ing_opts o = files[i].ing;
		const struct ent_desc *d = ent_get(o.entity);
		/* an entity keyed by occurrence (web events) in one file: the
		 * numbers would only repeat the file's order, which the layout
		 * keeps, and make each key unique, so the file is read without
		 * them, on every core, and its keys are not checked. With two
		 * files the numbers find the rows the second repeats, as the
		 * store does: they are kept. */
		o.no_occurrences = d->key_has_seq && of_entity[o.entity] == 1;
		top.unique = o.no_occurrences;
		/* the key is read to be checked even where it is not kept (an id
		 * is required, so read whenever the file has it; asking for it
		 * would make one up where the file has none) */
		if (o.fields)
			for (const int *f = d->key; *f >= 0; f++)
				if (*f != d->id_field)
					o.fields |= ING_FIELD(*f);
		top.entity = o.entity;
		if ((rc = ing_import(files[i].path, &o, &sink, &sums[i], err)) != CRM_OK)
			goto done;
		struct keylog *g = &l->log[o.entity];
		if (g->n == 0) {
			/* the usual case, one file per entity: take it whole */
			free(g->h);
			*g = top.log;
			top.log = (struct keylog){ 0 };
		} else if (keylog_append(g, &top.log)) {
			rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
			goto done;
		}
		top.log.n = 0;
		if (numset_merge(&l->nums[o.entity], &top.nums)) {
			rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
			goto done;
		}
	}
	if (first) {
		/* before the layout, whose copies are the peak of memory */
		if ((rc = gather_candidates(l, err)) != CRM_OK || l->cand)
			goto done;
		crm_trace("joined, keys checked");
	}
	rc = ds_builder_finish(top.b, out, err);
	top.b = NULL;
done:
	ds_builder_free(top.b);
	free(top.log.h);
	numset_fini(&top.nums);
	buf_fini(&top.key);
	return rc;
}

int ds_load_files(const struct ds_file *files, size_t n_files,
		  struct ing_summary *sums, struct crm_dataset **out,
		  struct crm_err *err)
{
	uint32_t keep[CRM_N_ENTITIES] = { 0 };
	int projected = 0, stdin_used = 0;
	struct loader l;
	memset(&l, 0, sizeof l);
	*out = NULL;
	/* the columns kept: the fields some file of the entity reads; with a
	 * projection, none of an entity no file feeds (docs/IMPORT.md) */
	for (size_t i = 0; i < n_files; i++) {
		const struct ent_desc *d = ent_get(files[i].ing.entity);
		if (!d)
			return crm_err_set(err, CRM_EINVAL, "%s: unknown entity %d", files[i].path,
					   files[i].ing.entity);
		uint32_t all = (uint32_t)((1ULL << d->n_fields) - 1);
		keep[files[i].ing.entity] |= files[i].ing.fields ? files[i].ing.fields & all : all;
		projected |= files[i].ing.fields != 0;
		stdin_used |= strcmp(files[i].path, "-") == 0;
	}
	int rc, seen = 0;
	if (stdin_used) {
		l.exact_all = 1;
	} else {
		rc = load_pass(files, n_files, keep, projected, &l, 0, sums, out, err);
		if (rc != CRM_OK || !l.cand)
			goto done;
		/* a repeat (or a hash collision): read again, those exactly */
	}
	if (strmap_init(&l.seen, l.n_cand * 2 + 1024)) {
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory checking keys");
		goto done;
	}
	seen = 1;
	rc = load_pass(files, n_files, keep, projected, &l, 1, sums, out, err);
done:
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		free(l.log[e].h);
		numset_fini(&l.nums[e]);
	}
	free((void *)l.cand);
	if (seen)
		strmap_fini(&l.seen);
	if (rc != CRM_OK) {
		crm_dataset_free(*out);
		*out = NULL;
	}
	return rc;
}
