/* builder.c - building the in-memory columnar dataset (data layer).
 * Records are appended to growable columns as they come; customers get a
 * provisional id in order of first mention. ds_builder_finish renumbers the
 * customers in byte order of customer_id, sorts each event entity by
 * (customer, time, natural key) with a counting sort by customer and a small
 * sort inside each customer's range, and moves the columns into place one at
 * a time so that the temporaries stay near the size of one column. */
#include "data/builder.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strmap.h"

#define NO_ROW UINT32_MAX
#define MAX_ROWS ((size_t)UINT32_MAX - 1)

/* Customer states, by provisional id: how the customer came to exist. */
enum { CUST_REFERENCED = 0, CUST_STUB_RECORD, CUST_RECORD };

/* One column while building. Storage is allocated when the first value is
 * set (columns that are missing everywhere cost nothing until finish). */
struct bcol {
	int kind;                 /* enum crm_col_kind; NONE: not kept */
	const struct ent_field *field;
	int present;              /* storage exists for rows 0..n-1 */
	int64_t *i64;             /* CRM_COL_I64: cap values */
	uint32_t *cat;            /* CRM_COL_CAT: cap codes (FT_CAT: key index + 1) */
	struct crm_strings str;   /* CRM_COL_STR: n strings */
	struct strmap dict;       /* FT_CAT: text -> key index, once present */
};

struct btable {
	const struct ent_desc *d;
	size_t n, cap;            /* rows, allocated rows */
	uint32_t *cust;           /* cap provisional customer ids, or CRM_NO_CUSTOMER */
	int64_t *seq;             /* cap occurrence numbers (key_has_seq only) */
	struct bcol col[CRM_MAX_FIELDS];
};

/* The customer map: customer_id -> provisional id. Not core/strmap: it is
 * hit once per record at random over millions of customers, so a slot
 * holds the first 8 bytes of its key and a tag of hash and length, and a
 * lookup of an id of up to 8 bytes touches one cache line, not three. */
struct cslot {
	uint64_t k8;              /* the key's first 8 bytes, zero padded */
	uint32_t tag;             /* high hash bits | min(len, 255); 0 = empty */
	uint32_t pid;             /* provisional id = index in keys */
};

struct cmap {
	struct cslot *slots;      /* cap slots, cap a power of two */
	size_t cap, n;            /* n keys; n <= cap * 7 / 10 */
	struct crm_strings keys;  /* key of provisional id i, in arrival order */
};

struct ds_builder {
	struct cmap cust;         /* customer_id -> provisional id */
	uint8_t *cust_state;      /* by provisional id: CUST_* */
	uint32_t *cust_row;       /* by provisional id: last customers row, or NO_ROW */
	size_t cap_cust;          /* allocated entries of cust_state, cust_row */
	struct btable t[CRM_N_ENTITIES];
	int64_t first_at, last_at;/* range of event times seen, CRM_NA if none */
};

int ds_builder_new(struct ds_builder **out, struct crm_err *err)
{
	*out = NULL;
	struct ds_builder *b = calloc(1, sizeof *b);
	if (b) {
		b->cust.cap = 1024;
		b->cust.slots = calloc(b->cust.cap, sizeof *b->cust.slots);
	}
	if (!b || !b->cust.slots) {
		free(b);
		return crm_err_set(err, CRM_ENOMEM, "dataset builder: out of memory");
	}
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		struct btable *t = &b->t[e];
		t->d = ent_get(e);
		for (size_t f = 0; f < t->d->n_fields; f++) {
			t->col[f].field = &t->d->fields[f];
			t->col[f].kind = ent_col_kind(t->d->fields[f].type);
		}
		/* the customers' own id is the customer map's key, not a column */
		if (e == CRM_CUSTOMERS)
			t->col[CRM_C_CUSTOMER_ID].kind = CRM_COL_NONE;
	}
	b->first_at = b->last_at = CRM_NA;
	*out = b;
	return CRM_OK;
}

static void bcol_fini(struct bcol *c)
{
	free(c->i64);
	free(c->cat);
	c->i64 = NULL;
	c->cat = NULL;
	strs_fini(&c->str);
	strmap_fini(&c->dict);
	c->present = 0;
}

static void btable_fini(struct btable *t)
{
	free(t->cust);
	free(t->seq);
	t->cust = NULL;
	t->seq = NULL;
	for (int f = 0; f < CRM_MAX_FIELDS; f++)
		bcol_fini(&t->col[f]);
}

void ds_builder_free(struct ds_builder *b)
{
	if (!b)
		return;
	free(b->cust.slots);
	strs_fini(&b->cust.keys);
	free(b->cust_state);
	free(b->cust_row);
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		btable_fini(&b->t[e]);
	free(b);
}

/* ------------------------------------------------------------- adding */

static uint64_t load8(const char *p, size_t n)
{
	uint64_t k = 0;
	memcpy(&k, p, n < 8 ? n : 8);
	return k;
}

static uint32_t cmap_tag(uint64_t h, size_t n)
{
	return (uint32_t)(h >> 32) << 8 | (uint32_t)(n < 255 ? n : 255);
}

static int cmap_grow(struct cmap *m)
{
	size_t cap = m->cap * 2;
	struct cslot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].tag)
			continue;
		size_t len;
		const char *k = strs_get(&m->keys, m->slots[i].pid, &len);
		size_t j = strmap_hash(k, len) & (cap - 1);
		while (slots[j].tag)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* Finds or adds customer_id p[0..n) (n > 0); *pid is its provisional id. */
static int customer_ref(struct ds_builder *b, const char *p, size_t n,
			uint32_t *pid, int *added)
{
	struct cmap *m = &b->cust;
	uint64_t h = strmap_hash(p, n), k8 = load8(p, n);
	uint32_t tag = cmap_tag(h, n);
	size_t mask = m->cap - 1, i;
	*added = 0;
	for (i = h & mask; m->slots[i].tag; i = (i + 1) & mask) {
		const struct cslot *sl = &m->slots[i];
		if (sl->tag != tag || sl->k8 != k8)
			continue;
		if (n > 8) {
			size_t len;
			const char *k = strs_get(&m->keys, sl->pid, &len);
			if (len != n || memcmp(k + 8, p + 8, n - 8) != 0)
				continue;
		}
		*pid = sl->pid;
		return 0;
	}
	if (m->n >= MAX_ROWS)
		return -1;
	if ((m->n + 1) * 10 > m->cap * 7) {
		if (cmap_grow(m) != 0)
			return -1;
		mask = m->cap - 1;
		for (i = h & mask; m->slots[i].tag; i = (i + 1) & mask)
			;
	}
	size_t idx = m->n;
	if (idx >= b->cap_cust) {
		size_t cap = b->cap_cust ? b->cap_cust * 2 : 1024;
		uint8_t *st = realloc(b->cust_state, cap);
		if (!st)
			return -1;
		b->cust_state = st;
		uint32_t *row = xreallocn(b->cust_row, cap, sizeof *row);
		if (!row)
			return -1;
		b->cust_row = row;
		b->cap_cust = cap;
	}
	if (strs_push(&m->keys, p, n) != 0)
		return -1;
	m->slots[i].k8 = k8;
	m->slots[i].tag = tag;
	m->slots[i].pid = (uint32_t)idx;
	m->n++;
	b->cust_state[idx] = CUST_REFERENCED;
	b->cust_row[idx] = NO_ROW;
	*pid = (uint32_t)idx;
	*added = 1;
	return 0;
}

/* Makes room for one more row. */
static int btable_grow(struct btable *t)
{
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 1024;
	if (cap > MAX_ROWS + 1)
		cap = MAX_ROWS + 1;
	uint32_t *cust = xreallocn(t->cust, cap, sizeof *cust);
	if (!cust)
		return -1;
	t->cust = cust;
	if (t->d->key_has_seq) {
		int64_t *seq = xreallocn(t->seq, cap, sizeof *seq);
		if (!seq)
			return -1;
		t->seq = seq;
	}
	for (size_t f = 0; f < t->d->n_fields; f++) {
		struct bcol *c = &t->col[f];
		if (!c->present)
			continue;
		if (c->kind == CRM_COL_I64) {
			int64_t *v = xreallocn(c->i64, cap, sizeof *v);
			if (!v)
				return -1;
			c->i64 = v;
		} else if (c->kind == CRM_COL_CAT) {
			uint32_t *v = xreallocn(c->cat, cap, sizeof *v);
			if (!v)
				return -1;
			c->cat = v;
		}
	}
	t->cap = cap;
	return 0;
}

/* Gives column c storage, with rows 0..n-1 missing. On failure c is left
 * without storage, as it was. */
static int bcol_materialize(struct bcol *c, size_t n, size_t cap)
{
	if (c->kind == CRM_COL_I64) {
		c->i64 = xmallocn(cap, sizeof *c->i64);
		if (!c->i64)
			goto fail;
		for (size_t i = 0; i < n; i++)
			c->i64[i] = CRM_NA;
	} else if (c->kind == CRM_COL_CAT) {
		c->cat = calloc(cap ? cap : 1, sizeof *c->cat);
		if (!c->cat)
			goto fail;
		if (c->field->type == FT_CAT && strmap_init(&c->dict, 16) != 0)
			goto fail;
	} else if (c->kind == CRM_COL_STR) {
		for (size_t i = 0; i < n; i++)
			if (strs_push(&c->str, "", 0) != 0)
				goto fail;
	}
	c->present = 1;
	return 0;
fail:
	bcol_fini(c);
	return -1;
}

static int is_event_time(const struct ent_desc *d, size_t f)
{
	return d->fields[f].type == FT_TIME || (int)f == d->time_field;
}

int ds_builder_add(struct ds_builder *b, const struct ent_record *rec,
		   int is_stub, int *stub_created, struct crm_err *err)
{
	if (stub_created)
		*stub_created = 0;
	const struct ent_desc *d = ent_get(rec->entity);
	if (!d)
		return crm_err_set(err, CRM_EINVAL, "line %ld: unknown entity %d",
				   rec->line, rec->entity);
	struct btable *t = &b->t[rec->entity];
	if (t->n >= MAX_ROWS)
		return crm_err_set(err, CRM_ERANGE, "line %ld: %s: more than %zu rows",
				   rec->line, d->name, MAX_ROWS);

	/* validate everything before changing anything: a rejected record
	 * leaves the builder as it was */
	uint32_t codes[CRM_MAX_FIELDS] = { 0 };
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_field *fd = &d->fields[f];
		const struct ent_value *v = &rec->v[f];
		if (fd->type != FT_ENUM || !v->set || (v->s && v->n == 0))
			continue;
		int n_values = 0;
		while (fd->values[n_values])
			n_values++;
		/* the text when there is one, else the code ingest put in i */
		int64_t code = v->s ? ent_enum_code(fd, v->s, v->n) : v->i;
		if (code <= 0 || code > n_values)
			return crm_err_set(err, CRM_EINVAL, "line %ld: %s: field %s: '%.*s' is not one of its values",
					   rec->line, d->name, fd->name,
					   v->s ? (int)(v->n > 64 ? 64 : v->n) : 0, v->s ? v->s : "");
		codes[f] = (uint32_t)code;
	}
	const struct ent_value *ref = NULL;
	if (rec->entity == CRM_CUSTOMERS)
		ref = &rec->v[CRM_C_CUSTOMER_ID];
	else if (d->customer_field >= 0)
		ref = &rec->v[d->customer_field];
	int has_ref = ref && ref->set && ref->n > 0;
	if (!has_ref && (rec->entity == CRM_CUSTOMERS || d->customer_required))
		return crm_err_set(err, CRM_EINVAL, "line %ld: %s: field customer_id: missing",
				   rec->line, d->name);

	if (btable_grow(t) != 0)
		goto nomem;
	size_t row = t->n;
	for (size_t f = 0; f < d->n_fields; f++) {
		struct bcol *c = &t->col[f];
		const struct ent_value *v = &rec->v[f];
		if (c->kind == CRM_COL_NONE)
			continue;
		int has;
		if (c->field->type == FT_ENUM)
			has = codes[f] != 0;
		else if (c->kind == CRM_COL_I64)
			has = v->set;
		else
			has = v->set && v->s && v->n > 0;
		if (!c->present) {
			if (!has)
				continue;
			if (bcol_materialize(c, row, t->cap) != 0)
				goto nomem;
		}
		if (c->kind == CRM_COL_I64) {
			c->i64[row] = has ? v->i : CRM_NA;
		} else if (c->kind == CRM_COL_CAT) {
			uint32_t code = 0;
			if (has && c->field->type == FT_ENUM) {
				code = codes[f];
			} else if (has) {
				size_t idx;
				int added;
				if (strmap_put(&c->dict, v->s, v->n, 0, &idx, &added) != 0)
					goto nomem;
				code = (uint32_t)idx + 1;
			}
			c->cat[row] = code;
		} else {
			if (strs_push(&c->str, has ? v->s : "", has ? v->n : 0) != 0)
				goto nomem;
		}
	}

	uint32_t pid = CRM_NO_CUSTOMER;
	if (has_ref) {
		int added = 0;
		if (customer_ref(b, ref->s, ref->n, &pid, &added) != 0)
			goto nomem;
		if (rec->entity == CRM_CUSTOMERS) {
			/* a customer given twice keeps its last record */
			uint8_t st = is_stub ? CUST_STUB_RECORD : CUST_RECORD;
			if (b->cust_state[pid] < st)
				b->cust_state[pid] = st;
			b->cust_row[pid] = (uint32_t)row;
		} else if (added && stub_created) {
			*stub_created = 1;
		}
	}
	t->cust[row] = pid;
	if (t->seq)
		t->seq[row] = rec->seq;
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_value *v = &rec->v[f];
		if (v->set && t->col[f].kind == CRM_COL_I64 && is_event_time(d, f)) {
			if (b->first_at == CRM_NA || v->i < b->first_at)
				b->first_at = v->i;
			if (b->last_at == CRM_NA || v->i > b->last_at)
				b->last_at = v->i;
		}
	}
	t->n++;
	return CRM_OK;
nomem:
	/* take back the strings this record pushed, so that the builder stays
	 * whole and the caller may go on or free it */
	for (size_t f = 0; f < d->n_fields; f++)
		if (t->col[f].kind == CRM_COL_STR && t->col[f].present && t->col[f].str.n > t->n)
			t->col[f].str.n = t->n;
	return crm_err_set(err, CRM_ENOMEM, "line %ld: %s: out of memory building the dataset",
			   rec->line, d->name);
}

/* ------------------------------------------------------------ sorting */

struct kv {
	uint64_t key;
	uint32_t val;
};

/* Sorts a[0..n) by key, stably, with an LSD radix sort over the bytes that
 * differ; tmp has room for n. */
static void radix_sort_kv(struct kv *a, struct kv *tmp, size_t n)
{
	uint64_t all_or = 0, all_and = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		all_or |= a[i].key;
		all_and &= a[i].key;
	}
	uint64_t differ = all_or ^ all_and;
	struct kv *src = a, *dst = tmp;
	for (int shift = 0; shift < 64; shift += 8) {
		if (((differ >> shift) & 0xff) == 0)
			continue;
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((src[i].key >> shift) & 0xff) + 1]++;
		for (int k = 0; k < 256; k++)
			count[k + 1] += count[k];
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
		struct kv *sw = src;
		src = dst;
		dst = sw;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

/* 8 bytes of s from offset `from`, big-endian, zero padded. */
static uint64_t prefix_key(const char *s, size_t n, size_t from)
{
	uint64_t k = 0;
	for (size_t i = 0; i < 8; i++)
		k = (k << 8) | (from + i < n ? (uint8_t)s[from + i] : 0);
	return k;
}

static int cmp_pool_idx(const void *a, const void *b, void *ctx)
{
	const struct crm_strings *s = ctx;
	uint32_t x = ((const struct kv *)a)->val, y = ((const struct kv *)b)->val;
	size_t nx, ny;
	const char *px = strs_get(s, x, &nx), *py = strs_get(s, y, &ny);
	return cmp_bytes(px, nx, py, ny);
}

/* order[k] = index of the k-th string of pool s in byte order. A radix sort
 * on 8 bytes after the common prefix, then a full comparison inside runs
 * of equal keys. */
static int sort_strings(const struct crm_strings *s, uint32_t *order)
{
	size_t n = s->n;
	if (n == 0)
		return 0;
	struct kv *a = xmallocn(n, sizeof *a), *tmp = xmallocn(n, sizeof *tmp);
	if (!a || !tmp) {
		free(a);
		free(tmp);
		return -1;
	}
	size_t n0;
	const char *s0 = strs_get(s, 0, &n0);
	size_t lcp = n0;
	for (size_t i = 1; i < n && lcp > 0; i++) {
		size_t ni;
		const char *si = strs_get(s, i, &ni);
		size_t k = 0;
		while (k < lcp && k < ni && si[k] == s0[k])
			k++;
		lcp = k;
	}
	for (size_t i = 0; i < n; i++) {
		size_t ni;
		const char *si = strs_get(s, i, &ni);
		a[i].key = prefix_key(si, ni, lcp);
		a[i].val = (uint32_t)i;
	}
	radix_sort_kv(a, tmp, n);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && a[j].key == a[i].key)
			j++;
		if (j - i > 1)
			qsort_r(a + i, j - i, sizeof *a, cmp_pool_idx, (void *)s);
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = a[i].val;
	free(a);
	free(tmp);
	return 0;
}

/* Replaces the insertion-order dictionary of an FT_CAT column by one in
 * byte order (so codes compare like their text and do not depend on the
 * order records came in) and recodes the column; fills out->dict. */
static int finish_dict(struct bcol *c, size_t n, struct crm_column *out)
{
	if (strs_push(&out->dict, "", 0) != 0)
		return -1;
	if (c->field->type == FT_ENUM) {
		for (int k = 0; c->field->values[k]; k++)
			if (strs_push(&out->dict, c->field->values[k],
				      strlen(c->field->values[k])) != 0)
				return -1;
		return 0;
	}
	if (!c->present || c->dict.n == 0)
		return 0;
	size_t nk = c->dict.n;
	uint32_t *order = xmallocn(nk, sizeof *order);
	uint32_t *recode = xmallocn(nk + 1, sizeof *recode);
	int rc = -1;
	if (!order || !recode || sort_strings(&c->dict.keys, order) != 0)
		goto done;
	recode[0] = 0;
	for (size_t k = 0; k < nk; k++) {
		size_t len;
		const char *s = strs_get(&c->dict.keys, order[k], &len);
		if (strs_push(&out->dict, s, len) != 0)
			goto done;
		recode[order[k] + 1] = (uint32_t)k + 1;
	}
	for (size_t i = 0; i < n; i++)
		c->cat[i] = recode[c->cat[i]];
	strmap_fini(&c->dict);
	rc = 0;
done:
	free(order);
	free(recode);
	return rc;
}

/* How far ahead the gathers prefetch: their reads are at random rows. */
#define AHEAD 16

/* Moves column c into out in the row order src (n_out rows; NO_ROW gives a
 * missing value) and releases c's storage. `permutation`: src is a
 * permutation of all of c's rows (no NO_ROW). */
static int gather_col(struct bcol *c, const uint32_t *src, size_t n_out,
		      int permutation, struct crm_column *out)
{
	out->kind = c->kind;
	if (c->kind == CRM_COL_I64) {
		int64_t *v = xmallocn(n_out, sizeof *v);
		if (!v)
			return -1;
		if (!c->present) {
			for (size_t i = 0; i < n_out; i++)
				v[i] = CRM_NA;
		} else if (permutation) {
			for (size_t i = 0; i < n_out; i++) {
				if (i + AHEAD < n_out)
					__builtin_prefetch(&c->i64[src[i + AHEAD]]);
				v[i] = c->i64[src[i]];
			}
		} else {
			for (size_t i = 0; i < n_out; i++)
				v[i] = src[i] == NO_ROW ? CRM_NA : c->i64[src[i]];
		}
		out->i64 = v;
	} else if (c->kind == CRM_COL_CAT) {
		/* calloc: a column missing everywhere stays untouched zero pages */
		uint32_t *v = calloc(n_out ? n_out : 1, sizeof *v);
		if (!v)
			return -1;
		if (c->present && permutation) {
			for (size_t i = 0; i < n_out; i++) {
				if (i + AHEAD < n_out)
					__builtin_prefetch(&c->cat[src[i + AHEAD]]);
				v[i] = c->cat[src[i]];
			}
		} else if (c->present) {
			for (size_t i = 0; i < n_out; i++)
				v[i] = src[i] == NO_ROW ? 0 : c->cat[src[i]];
		}
		out->cat = v;
	} else if (c->kind == CRM_COL_STR) {
		const uint64_t *off = c->str.off;
		const char *bytes = c->str.bytes;
		size_t total = 0;
		if (!c->present) {
			total = n_out;
		} else if (permutation) {
			total = off ? (size_t)off[c->str.n] : 0;
		} else {
			for (size_t i = 0; i < n_out; i++)
				total += src[i] == NO_ROW ? 1 : (size_t)(off[src[i] + 1] - off[src[i]]);
		}
		struct crm_strings *s = &out->str;
		/* all empty: n NULs, from calloc's untouched zero pages */
		s->bytes = c->present ? malloc(total ? total : 1) : calloc(total ? total : 1, 1);
		s->off = xmallocn(n_out + 1, sizeof *s->off);
		if (!s->bytes || !s->off)
			return -1;
		s->cap_bytes = total ? total : 1;
		s->cap_n = n_out + 1;
		s->n = n_out;
		s->off[0] = 0;
		if (!c->present) {
			for (size_t i = 0; i < n_out; i++)
				s->off[i + 1] = i + 1;
		} else {
			uint64_t pos = 0;
			for (size_t i = 0; i < n_out; i++) {
				/* the offset AHEAD rows on, then the bytes it points to */
				if (i + 2 * AHEAD < n_out && src[i + 2 * AHEAD] != NO_ROW)
					__builtin_prefetch(&off[src[i + 2 * AHEAD]]);
				if (i + AHEAD < n_out && src[i + AHEAD] != NO_ROW)
					__builtin_prefetch(bytes + off[src[i + AHEAD]]);
				uint32_t r = src[i];
				if (r == NO_ROW) {
					s->bytes[pos++] = '\0';
				} else {
					size_t len = (size_t)(off[r + 1] - off[r]);   /* with its NUL */
					memcpy(s->bytes + pos, bytes + off[r], len);
					pos += len;
				}
				s->off[i + 1] = pos;
			}
		}
	}
	bcol_fini(c);
	return 0;
}

/* The natural-key comparison of two rows of a table whose times are equal:
 * the key fields (text in byte order, categories by their sorted codes,
 * numbers), then the occurrence number, then the arrival order. */
static int cmp_rows_key(const struct btable *t, uint32_t x, uint32_t y)
{
	for (const int *k = t->d->key; *k >= 0; k++) {
		const struct bcol *c = &t->col[*k];
		if (!c->present)
			continue;
		if (c->kind == CRM_COL_STR) {
			size_t nx, ny;
			const char *px = strs_get(&c->str, x, &nx);
			const char *py = strs_get(&c->str, y, &ny);
			int r = cmp_bytes(px, nx, py, ny);
			if (r)
				return r;
		} else if (c->kind == CRM_COL_CAT) {
			if (c->cat[x] != c->cat[y])
				return c->cat[x] < c->cat[y] ? -1 : 1;
		} else if (c->kind == CRM_COL_I64) {
			if (c->i64[x] != c->i64[y])
				return c->i64[x] < c->i64[y] ? -1 : 1;
		}
	}
	if (t->seq && t->seq[x] != t->seq[y])
		return t->seq[x] < t->seq[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* A row's time and index, the unit of the sort inside a customer's range. */
struct trow {
	int64_t t;
	uint32_t row;
};

static int cmp_trow(const void *a, const void *b, void *ctx)
{
	const struct trow *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return cmp_rows_key(ctx, x->row, y->row);
}

/* Sorts perm[0..n) (rows of one customer) by (time, key). tmp holds n. */
static void sort_range(const struct btable *t, const int64_t *time, uint32_t *perm,
		       size_t n, struct trow *tmp)
{
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		tmp[i].t = time ? time[perm[i]] : 0;
		tmp[i].row = perm[i];
	}
	/* most input comes in time order: then there is nothing to do */
	size_t i = 1;
	while (i < n && cmp_trow(&tmp[i - 1], &tmp[i], (void *)t) < 0)
		i++;
	if (i == n)
		return;
	if (n <= 24) {
		for (i = 1; i < n; i++) {
			struct trow x = tmp[i];
			size_t j = i;
			while (j > 0 && cmp_trow(&tmp[j - 1], &x, (void *)t) > 0) {
				tmp[j] = tmp[j - 1];
				j--;
			}
			tmp[j] = x;
		}
	} else {
		qsort_r(tmp, n, sizeof *tmp, cmp_trow, (void *)t);
	}
	for (i = 0; i < n; i++)
		perm[i] = tmp[i].row;
}

/* Sorts event table bt into out: customer ids (already dense in bt->cust),
 * then time, then key. */
static int finish_events(struct btable *bt, size_t n_customers,
			 struct crm_table *out)
{
	size_t n = bt->n;
	const struct ent_desc *d = bt->d;
	int has_customer = d->customer_field >= 0;
	uint32_t *perm = xmallocn(n, sizeof *perm);
	uint64_t *pos = NULL;
	struct trow *tmp = NULL;
	int rc = -1;
	out->n = n;
	if (!perm)
		goto done;
	for (size_t f = 0; f < d->n_fields; f++)
		if (bt->col[f].kind == CRM_COL_CAT &&
		    finish_dict(&bt->col[f], n, &out->col[f]) != 0)
			goto done;

	/* counting sort by customer; rows without one go last */
	pos = calloc(n_customers + 2, sizeof *pos);
	if (!pos)
		goto done;
	if (has_customer) {
		for (size_t i = 0; i < n; i++) {
			uint32_t c = bt->cust[i];
			pos[(c == CRM_NO_CUSTOMER ? n_customers : c) + 1]++;
		}
	} else {
		pos[n_customers + 1] = n;
	}
	for (size_t c = 0; c <= n_customers; c++)
		pos[c + 1] += pos[c];
	if (has_customer) {
		out->by_customer = xmallocn(n_customers + 1, sizeof *out->by_customer);
		if (!out->by_customer)
			goto done;
		memcpy(out->by_customer, pos, (n_customers + 1) * sizeof *pos);
	}
	size_t max_range = 0;
	for (size_t c = 0; c <= n_customers; c++)
		if (pos[c + 1] - pos[c] > max_range)
			max_range = (size_t)(pos[c + 1] - pos[c]);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = has_customer ? bt->cust[i] : CRM_NO_CUSTOMER;
		perm[pos[c == CRM_NO_CUSTOMER ? n_customers : c]++] = (uint32_t)i;
	}
	/* pos[c] is now the end of range c, i.e. the start of range c + 1 */
	tmp = xmallocn(max_range ? max_range : 1, sizeof *tmp);
	if (!tmp)
		goto done;
	const int64_t *time = NULL;
	if (d->time_field >= 0 && bt->col[d->time_field].present)
		time = bt->col[d->time_field].i64;
	uint64_t lo = 0;
	for (size_t c = 0; c <= n_customers; c++) {
		sort_range(bt, time, perm + lo, (size_t)(pos[c] - lo), tmp);
		lo = pos[c];
	}
	free(tmp);
	tmp = NULL;
	free(pos);
	pos = NULL;

	out->customer = xmallocn(n, sizeof *out->customer);
	if (!out->customer)
		goto done;
	for (size_t i = 0; i < n; i++)
		out->customer[i] = has_customer ? bt->cust[perm[i]] : CRM_NO_CUSTOMER;
	free(bt->cust);
	bt->cust = NULL;
	free(bt->seq);
	bt->seq = NULL;
	/* columns with values first, then (with perm freed) the ones missing
	 * everywhere, so that the peak is the data plus one column's copy */
	int missing[CRM_MAX_FIELDS];
	for (size_t f = 0; f < d->n_fields; f++)
		missing[f] = bt->col[f].kind != CRM_COL_NONE && !bt->col[f].present;
	for (size_t f = 0; f < d->n_fields; f++)
		if (bt->col[f].present &&
		    gather_col(&bt->col[f], perm, n, 1, &out->col[f]) != 0)
			goto done;
	free(perm);
	perm = NULL;
	for (size_t f = 0; f < d->n_fields; f++)
		if (missing[f] && gather_col(&bt->col[f], NULL, n, 1, &out->col[f]) != 0)
			goto done;
	rc = 0;
done:
	free(perm);
	free(pos);
	free(tmp);
	return rc;
}

/* Lays out the customers table: row c is dense customer c. */
static int finish_customers(struct ds_builder *b, const uint32_t *order,
			    struct crm_dataset *ds)
{
	size_t n = ds->n_customers;
	struct btable *bt = &b->t[CRM_CUSTOMERS];
	struct crm_table *out = &ds->t[CRM_CUSTOMERS];
	uint32_t *src = xmallocn(n ? n : 1, sizeof *src);
	struct bcol ids;
	int rc = -1;
	memset(&ids, 0, sizeof ids);
	out->n = n;
	out->customer = xmallocn(n, sizeof *out->customer);
	ds->is_stub = malloc(n ? n : 1);
	if (!src || !out->customer || !ds->is_stub)
		goto done;
	for (size_t c = 0; c < n; c++) {
		src[c] = b->cust_row[order[c]];
		out->customer[c] = (uint32_t)c;
		ds->is_stub[c] = b->cust_state[order[c]] != CUST_RECORD;
	}
	/* customer_id comes from the customer map, so stubs have theirs too */
	ids.kind = CRM_COL_STR;
	ids.field = &bt->d->fields[CRM_C_CUSTOMER_ID];
	ids.present = 1;
	ids.str = b->cust.keys;
	strs_init(&b->cust.keys);
	if (gather_col(&ids, order, n, 1, &out->col[CRM_C_CUSTOMER_ID]) != 0)
		goto done;
	for (size_t f = 0; f < bt->d->n_fields; f++) {
		struct bcol *c = &bt->col[f];
		if (c->kind == CRM_COL_CAT && finish_dict(c, bt->n, &out->col[f]) != 0)
			goto done;
		if (c->kind != CRM_COL_NONE && gather_col(c, src, n, 0, &out->col[f]) != 0)
			goto done;
	}
	rc = 0;
done:
	bcol_fini(&ids);
	free(src);
	return rc;
}

int ds_builder_finish(struct ds_builder *b, struct crm_dataset **out,
		      struct crm_err *err)
{
	*out = NULL;
	struct crm_dataset *ds = calloc(1, sizeof *ds);
	uint32_t *order = NULL, *rank = NULL;
	size_t n = b->cust.n;
	int rc = CRM_ENOMEM;
	/* the map's slots are not needed past here: its keys are */
	free(b->cust.slots);
	b->cust.slots = NULL;
	if (!ds)
		goto done;
	ds->n_customers = n;
	ds->first_at = b->first_at;
	ds->last_at = b->last_at;
	order = xmallocn(n ? n : 1, sizeof *order);
	rank = xmallocn(n ? n : 1, sizeof *rank);
	if (!order || !rank || sort_strings(&b->cust.keys, order) != 0)
		goto done;
	for (size_t c = 0; c < n; c++)
		rank[order[c]] = (uint32_t)c;
	if (finish_customers(b, order, ds) != 0)
		goto done;
	free(order);
	order = NULL;
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		if (e == CRM_CUSTOMERS)
			continue;
		struct btable *bt = &b->t[e];
		for (size_t i = 0; i < bt->n; i++)
			if (bt->cust[i] != CRM_NO_CUSTOMER)
				bt->cust[i] = rank[bt->cust[i]];
		if (finish_events(bt, n, &ds->t[e]) != 0)
			goto done;
		btable_fini(bt);
	}
	rc = CRM_OK;
done:
	free(order);
	free(rank);
	ds_builder_free(b);
	if (rc != CRM_OK) {
		crm_dataset_free(ds);
		return crm_err_set(err, rc, "dataset: out of memory laying out %zu customers",
				   n);
	}
	*out = ds;
	return CRM_OK;
}
