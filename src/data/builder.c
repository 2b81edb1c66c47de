/* builder.c - building the in-memory columnar dataset (data layer).
 * Records are appended to growable columns as they come, the usual event
 * of numbers by a short way worked out per table, a batch at a time
 * (ds_builder_add_many); number columns stay in 32 bits while their values
 * fit. Customers get a provisional id in order of first mention, their
 * lookups overlapped: a batch's prefetched together, those of records
 * added one at a time a few records apart (the ring of held ones). Builders
 * filled on other threads are merged in file order (tables of numbers stay
 * where they are, as segments). ds_builder_finish puts the customers in
 * byte order of customer_id (numbers need no sort), places each event
 * table's rows by customer with a counting sort, moves its columns into
 * place one at a time, each in memory the ones before it left, and puts
 * each customer's rows in (time, natural key) order where they are not
 * already, on one thread per core for large tables. */
#include "data/builder.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/money.h"
#include "core/strmap.h"
#include "core/trace.h"

#define NO_ROW UINT32_MAX
#define MAX_ROWS ((size_t)UINT32_MAX - 1)
#define MAX_THREADS 8
#define MAX_PARTS 64         /* the most parts a table's layout is cut into */
#define PAR_MIN_ROWS 32768   /* a table below this is laid out on one thread */

/* Customer states, by provisional id: what is known of the customer (the
 * low bits, CUST_LEVEL), and whether a reference rather than a customers
 * record made it (CUST_BY_REF: a stub was counted for it). */
enum { CUST_REFERENCED = 0, CUST_STUB_RECORD, CUST_RECORD, CUST_LEVEL = 3, CUST_BY_REF = 4 };

#define CAT_RECENT 16

/* A number column is kept in 32 bits while every value fits (NA32 stands
 * for CRM_NA), and widened to 64 bits in place when one does not: times
 * before 2038 and money below 214,748 units fit, and half the bytes are
 * written while building and read while laying out. */
#define NA32 INT32_MIN

/* One column while building. Storage is allocated when the first value is
 * set (columns that are missing everywhere cost nothing until finish). */
struct bcol {
	int kind;                 /* enum crm_col_kind; NONE: not kept */
	const struct ent_field *field;
	int present;              /* storage exists for rows 0..n-1 */
	int64_t *i64;             /* CRM_COL_I64, wide: cap values */
	int32_t *i32;             /* CRM_COL_I64, narrow: cap values (NA32: CRM_NA);
	                             one of i64 and i32 is set when present */
	uint32_t *cat;            /* CRM_COL_CAT: cap codes (FT_CAT: key index + 1) */
	struct crm_strings str;   /* CRM_COL_STR: n strings */
	struct strmap dict;       /* FT_CAT: text -> key index, once present */
	/* FT_CAT: the codes of recent texts of up to 8 bytes by their bytes, so
	 * that the few values a category takes (channels, countries) cost a
	 * compare, not a hash and a map probe, on every row; code 0: empty */
	uint64_t recent_k8[CAT_RECENT];
	uint32_t recent_code[CAT_RECENT];
	uint8_t recent_len[CAT_RECENT];
};

/* What adding a record does to a column with storage (plan_table). */
enum {
	OP_N32,    /* a number, narrow */
	OP_N64,    /* a number, wide */
	OP_T32,    /* an event time (first_at, last_at), narrow */
	OP_T64,    /* an event time, wide */
	OP_ENUM,   /* an FT_ENUM code, checked before */
	OP_CAT,    /* an FT_CAT text */
	OP_STR     /* free text */
};

struct op {
	uint8_t kind;             /* OP_* */
	uint8_t field;
	void *data;               /* the column's i32, i64 or cat (a copy: plan_table
	                             runs again whenever they move) */
};

struct segment;

struct btable {
	const struct ent_desc *d;
	struct segment *segs;     /* rows merged from other builders, after these */
	size_t n, cap;            /* rows, allocated rows (cap <= MAX_ROWS) */
	uint32_t *cust;           /* cap provisional customer ids, or CRM_NO_CUSTOMER */
	int64_t *seq;             /* cap occurrence numbers (key_has_seq only) */
	struct bcol col[CRM_MAX_FIELDS];
	/* what adding a record does, worked out once (plan_table) and again
	 * whenever room is set to 0 */
	size_t room;              /* rows may be added while n < room without
	                             looking at segments, capacity or the plan */
	size_t fast_room;         /* room when the fast way applies (fast), else 0 */
	struct op ops[CRM_MAX_FIELDS];  /* the kept fields with storage */
	uint8_t absent[CRM_MAX_FIELDS]; /* the kept fields without storage yet */
	uint8_t quiet[CRM_MAX_FIELDS];  /* absent ones and enums not kept: fields
	                                   the fast way wants without a value */
	uint8_t enums[CRM_MAX_FIELDS];  /* the FT_ENUM fields, checked kept or not */
	uint8_t n_values[CRM_MAX_FIELDS]; /* by field: an enum's number of values */
	size_t n_ops, n_absent, n_enums, n_quiet;
	size_t n_enum_ops;        /* ops of kind OP_ENUM */
	int fast;                 /* 1: an event table without occurrence numbers
	                             whose columns with storage are all numbers
	                             and enums (ds_builder_add's fast way) */
	int ref_field;            /* the field naming the customer, or -1 */
	int ref_required;         /* 1: a record without it is rejected */
	int projected;            /* fields chosen (ds_builder_keep): a number
	                             column no row has a value in is left out */
};

/* The rows of a table of a merged builder, left where they are: in file
 * order after the table's own rows and the segments before. Copying them
 * would cost about what reading them did. Only tables whose columns are
 * numbers and enums are kept so (see table_simple); others are copied. */
struct segment {
	struct btable t;          /* its rows, columns and provisional ids */
	const uint32_t *pid_of;   /* its provisional ids -> the builder's */
	struct segment *next;
};

/* A map of a merged builder's provisional ids into the builder's, kept
 * while segments use it. */
struct pid_map {
	struct pid_map *next;
	uint32_t id[];            /* by the merged builder's provisional id */
};

/* The customer map: customer_id -> provisional id. It is hit once per
 * record at random over millions of customers, so it has two parts, as Lua's
 * tables do (ltable.c): ids that are decimal numbers as people write them
 * ("17", not "017") are found by value in an array (ARRAY_FREE says how
 * sparse it may be), and every other id in a hash part
 * whose slots hold the first 8 bytes of the key and a tag of hash and
 * length, so that a lookup of an id of up to 8 bytes touches one cache line.
 * Which part holds a key depends only on the key and the array's size, and
 * both parts are rebuilt together when either grows. */
struct cslot {
	uint64_t k8;              /* the key's first 8 bytes, zero padded */
	uint32_t tag;             /* high hash bits | min(len, 255); 0 = empty */
	uint32_t pid;             /* provisional id = index in keys */
};

struct cmap {
	struct cslot *slots;      /* hash part: cap slots, cap a power of two */
	size_t cap, n_hashed;     /* keys in the hash part; n_hashed <= cap * 7 / 10 */
	uint32_t *by_value;       /* array part: pid + 1 of the key that is the number v, 0 none */
	size_t n_values;          /* entries of by_value: 0 or a power of two; every
	                             number key below it is in the array part */
	size_t n_numbers;         /* keys that are numbers, in either part */
	size_t n_numbers_hashed;  /* ... in the hash part */
	size_t n;                 /* keys */
	struct crm_strings keys;  /* key of provisional id i, in arrival order */
};

/* A customer reference held back: records added one at a time (or in
 * runs shorter than HOLD) whose caller does not ask which of them made a
 * stub have their customer looked up HOLD records later, so
 * that the slot it needs, prefetched when the record came, is in the cache
 * by then (a lookup at random over millions of customers otherwise waits
 * for memory on every record). */
#define HOLD 16                   /* a power of two */
#define HOLD_KEY 48               /* longer ids are looked up at once */
_Static_assert((HOLD & (HOLD - 1)) == 0, "HOLD is a power of two");

struct held {
	int64_t v;                /* strmap_number of the key */
	uint64_t h;               /* its hash, when v was not below the array part's
	                             size (which only grows) */
	uint32_t *dst;            /* the customer cell of the row that waits for it
	                             (the customer columns are not moved while
	                             references are held: see make_room) */
	uint8_t n;                /* key length */
	char key[HOLD_KEY];       /* the key, when it is not a number */
};

/* Blocks freed while the dataset is laid out, kept to become the next
 * output columns: pages the process has written are much cheaper to write
 * again than fresh ones (a page fault and the kernel's zeroing each), and
 * glibc gives large blocks back to the kernel when they are freed. Growing
 * such a block with realloc moves its pages, not its bytes (mremap). The
 * builder's columns die as the dataset's are made, so most of the output
 * can live in memory written before; so do the customer maps of the
 * builders merged into this one (struct ds_builder, spare). */
#define BIN_MAX 8
/* Blocks smaller than this are not worth keeping or taking: malloc's own
 * heap reuses them. */
#define BIN_MIN ((size_t)1 << 20)

struct bin {
	void *p[BIN_MAX];
	size_t used[BIN_MAX];      /* bytes written in block i */
	size_t n;
};

/* Puts block p (may be NULL), of which `used` bytes were written, in the
 * bin; when the bin is full, the least written block is freed. */
static void bin_put(struct bin *bin, void *p, size_t used)
{
	if (!p)
		return;
	if (used < BIN_MIN) {
		free(p);
		return;
	}
	if (bin->n < BIN_MAX) {
		bin->p[bin->n] = p;
		bin->used[bin->n++] = used;
		return;
	}
	size_t least = 0;
	for (size_t i = 1; i < bin->n; i++)
		if (bin->used[i] < bin->used[least])
			least = i;
	if (bin->used[least] >= used) {
		free(p);
		return;
	}
	free(bin->p[least]);
	bin->p[least] = p;
	bin->used[least] = used;
}

/* A block of `bytes` (the caller's, freed with free; its contents are not
 * defined): the least written block of the bin that was written as far
 * (resized to bytes), else the most written one (grown), else a new one.
 * NULL when out of memory (the bin is as it was). */
static void *bin_take(struct bin *bin, size_t bytes)
{
	size_t size = bytes ? bytes : 1, pick = bin->n;
	for (size_t i = 0; i < bin->n && bytes >= BIN_MIN; i++) {
		int fits = bin->used[i] >= bytes;
		if (pick == bin->n)
			pick = i;
		else if (bin->used[pick] >= bytes)   /* the smallest that fits */
			pick = fits && bin->used[i] < bin->used[pick] ? i : pick;
		else                                 /* one that fits, or the largest */
			pick = fits || bin->used[i] > bin->used[pick] ? i : pick;
	}
	if (pick == bin->n)
		return malloc(size);
	void *p = realloc(bin->p[pick], size);
	if (!p)
		return NULL;
	bin->n--;
	bin->p[pick] = bin->p[bin->n];
	bin->used[pick] = bin->used[bin->n];
	return p;
}

/* Frees the blocks left in the bin. */
static void bin_free(struct bin *bin)
{
	for (size_t i = 0; i < bin->n; i++)
		free(bin->p[i]);
	bin->n = 0;
}

/* Large blocks are left to the kernel's 4 KB pages. Huge-page advice was
 * measured on this 2-core VM (bench/RESULTS.md, 2026-11-22): a fresh huge
 * page cost 2 to 4 times more to fault in than 512 small ones, and in a
 * process started cold (as a user's is) the whole run was slower with it
 * (10M customers 0.99 s against 0.88 s); its TLB gain did not make up. */
struct ds_builder {
	struct cmap cust;         /* customer_id -> provisional id */
	uint8_t *cust_state;      /* by provisional id: CUST_* */
	uint32_t *cust_row;       /* by provisional id: last customers row, or NO_ROW */
	size_t cap_cust;          /* allocated entries of cust_state, cust_row */
	struct btable t[CRM_N_ENTITIES];
	int64_t lo_at, hi_at;     /* range of event times seen; hi_at = INT64_MIN
	                             (and lo_at = INT64_MAX) if none */
	struct pid_map *pid_maps; /* maps of merged builders' ids, for segments */
	struct held held[HOLD];   /* a ring of references not yet looked up */
	size_t held_first, n_held;
	int64_t held_stubs;       /* stubs made by held references since the last flush */
	struct bin spare;         /* the maps of builders merged into this one, for
	                             ds_builder_finish's output (struct bin) */
};

static int is_event_time(const struct ent_desc *d, size_t f)
{
	return d->fields[f].type == FT_TIME || (int)f == d->time_field;
}

/* Works out what adding a record to t does, after its kinds, storage,
 * widths, capacity or segments changed: the columns with storage (ops), the
 * kept ones without (absent), the enum fields, and the room. */
static void plan_table(struct btable *t)
{
	const struct ent_desc *d = t->d;
	t->n_ops = t->n_absent = t->n_enums = t->n_quiet = t->n_enum_ops = 0;
	t->fast = t->ref_field >= 0 && d != ent_get(CRM_CUSTOMERS) && !d->key_has_seq;
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_field *fd = &d->fields[f];
		const struct bcol *c = &t->col[f];
		if (fd->type == FT_ENUM) {
			int k = 0;
			while (fd->values[k])
				k++;
			t->n_values[f] = (uint8_t)k;
			t->enums[t->n_enums++] = (uint8_t)f;
			if (c->kind == CRM_COL_NONE)
				t->quiet[t->n_quiet++] = (uint8_t)f;
		}
		if (c->kind == CRM_COL_NONE)
			continue;
		if (!c->present) {
			t->absent[t->n_absent++] = (uint8_t)f;
			t->quiet[t->n_quiet++] = (uint8_t)f;
			continue;
		}
		struct op *op = &t->ops[t->n_ops++];
		op->field = (uint8_t)f;
		op->data = c->i32 ? (void *)c->i32 : c->i64 ? (void *)c->i64 : (void *)c->cat;
		if (c->kind == CRM_COL_I64 && is_event_time(d, f))
			op->kind = c->i32 ? OP_T32 : OP_T64;
		else if (c->kind == CRM_COL_I64)
			op->kind = c->i32 ? OP_N32 : OP_N64;
		else if (c->kind == CRM_COL_CAT)
			op->kind = fd->type == FT_ENUM ? OP_ENUM : OP_CAT;
		else
			op->kind = OP_STR;
		if (op->kind == OP_CAT || op->kind == OP_STR)
			t->fast = 0;
		t->n_enum_ops += op->kind == OP_ENUM;
	}
	t->room = t->segs ? 0 : t->cap;
	t->fast_room = t->fast ? t->room : 0;
}

static int flatten(struct btable *t);

static void init_columns(struct ds_builder *b)
{
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
		t->ref_field = e == CRM_CUSTOMERS ? CRM_C_CUSTOMER_ID : t->d->customer_field;
		t->ref_required = e == CRM_CUSTOMERS || t->d->customer_required;
		plan_table(t);
	}
}

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
	init_columns(b);
	b->lo_at = INT64_MAX;
	b->hi_at = INT64_MIN;
	*out = b;
	return CRM_OK;
}

int ds_builder_keep(struct ds_builder *b, int entity, uint32_t fields,
		    struct crm_err *err)
{
	const struct ent_desc *d = ent_get(entity);
	if (!d)
		return crm_err_set(err, CRM_EINVAL, "dataset builder: unknown entity %d", entity);
	struct btable *t = &b->t[entity];
	if (t->n > 0)
		return crm_err_set(err, CRM_EINVAL,
				   "dataset builder: %s: fields chosen after the first record", d->name);
	for (size_t f = 0; f < d->n_fields; f++) {
		int kind = ent_col_kind(d->fields[f].type);
		if (entity == CRM_CUSTOMERS && f == CRM_C_CUSTOMER_ID)
			kind = CRM_COL_NONE;
		t->col[f].kind = (fields >> f) & 1 ? kind : CRM_COL_NONE;
	}
	t->projected = 1;
	plan_table(t);
	return CRM_OK;
}

static void bcol_fini(struct bcol *c)
{
	free(c->i64);
	free(c->i32);
	free(c->cat);
	c->i64 = NULL;
	c->i32 = NULL;
	c->cat = NULL;
	strs_fini(&c->str);
	strmap_fini(&c->dict);
	memset(c->recent_code, 0, sizeof c->recent_code);
	c->present = 0;
}

static void btable_fini(struct btable *t)
{
	free(t->cust);
	free(t->seq);
	t->cust = NULL;
	t->seq = NULL;
	t->room = t->fast_room = 0;
	for (int f = 0; f < CRM_MAX_FIELDS; f++)
		bcol_fini(&t->col[f]);
	while (t->segs) {
		struct segment *sg = t->segs;
		t->segs = sg->next;
		btable_fini(&sg->t);
		free(sg);
	}
}

void ds_builder_free(struct ds_builder *b)
{
	if (!b)
		return;
	free(b->cust.slots);
	free(b->cust.by_value);
	strs_fini(&b->cust.keys);
	free(b->cust_state);
	free(b->cust_row);
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		btable_fini(&b->t[e]);
	while (b->pid_maps) {
		struct pid_map *m = b->pid_maps;
		b->pid_maps = m->next;
		free(m);
	}
	bin_free(&b->spare);
	free(b);
}

int ds_builder_fork(const struct ds_builder *b, struct ds_builder **out,
		    struct crm_err *err)
{
	int rc = ds_builder_new(out, err);
	if (rc != CRM_OK)
		return rc;
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		for (size_t f = 0; f < b->t[e].d->n_fields; f++)
			(*out)->t[e].col[f].kind = b->t[e].col[f].kind;
		plan_table(&(*out)->t[e]);
	}
	return CRM_OK;
}

/* ------------------------------------------------------ the customer map */

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

/* Looks key p[0..n) (hash h) up in the hash part: its provisional id, or -1
 * with *slot the empty slot where it would go. */
static int64_t hash_find(const struct cmap *m, const char *p, size_t n, uint64_t h,
			 size_t *slot)
{
	uint64_t k8 = load8(p, n);
	uint32_t tag = cmap_tag(h, n);
	size_t mask = m->cap - 1, i;
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
		return sl->pid;
	}
	*slot = i;
	return -1;
}

/* Grows the array part to n_values entries and lays the hash part out
 * again in cap slots, without the numbers the array now covers. Only the
 * hash part's keys are visited. On failure the map is left as it was. */
static int cmap_regrow(struct cmap *m, size_t n_values, size_t cap)
{
	/* zeroed by writing, not calloc: pages read as zero before they are
	 * written cost a second fault and a TLB flush on every core */
	int same_hash = cap == m->cap && m->n_numbers_hashed == 0;
	if (!same_hash) {
		/* room for the keys that stay, at most half full */
		size_t stay = 0;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i].tag)
				continue;
			size_t len;
			const char *k = strs_get(&m->keys, m->slots[i].pid, &len);
			int64_t v = strmap_number(k, len);
			stay += !(v >= 0 && (size_t)v < n_values);
		}
		while (cap > 1024 && stay * 4 < cap)
			cap /= 2;
	}
	struct cslot *slots = same_hash ? NULL : xmallocn(cap, sizeof *slots);
	if (!same_hash && !slots)
		return -1;
	if (n_values > m->n_values) {
		uint32_t *by_value = xreallocn(m->by_value, n_values, sizeof *by_value);
		if (!by_value) {
			free(slots);
			return -1;
		}
		memset(by_value + m->n_values, 0, (n_values - m->n_values) * sizeof *by_value);
		m->by_value = by_value;
	}
	m->n_values = n_values;
	if (same_hash)
		return 0;
	memset(slots, 0, cap * sizeof *slots);
	size_t n_hashed = 0, n_numbers_hashed = 0;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].tag)
			continue;
		uint32_t pid = m->slots[i].pid;
		size_t len;
		const char *k = strs_get(&m->keys, pid, &len);
		int64_t v = strmap_number(k, len);
		if (v >= 0 && (size_t)v < n_values) {
			m->by_value[v] = pid + 1;
			continue;
		}
		uint64_t h = strmap_hash(k, len);
		size_t j = h & (cap - 1);
		while (slots[j].tag)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
		n_hashed++;
		n_numbers_hashed += v >= 0;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->n_hashed = n_hashed;
	m->n_numbers_hashed = n_numbers_hashed;
	return 0;
}

/* Numbers below this many are kept in the array part however few they are
 * (up to 4 MB of it); above, while they fill at least about half of it. */
#define ARRAY_FREE ((size_t)1 << 20)

/* Finds key p[0..n) (n > 0), whose strmap_number is v and hash h (0: not
 * computed yet), or adds it as provisional id m->n. Returns 0, or -1 when
 * out of memory or past MAX_ROWS keys (the map unchanged). */
static int cmap_ref(struct cmap *m, const char *p, size_t n, int64_t v, uint64_t h,
		    uint32_t *pid, int *added)
{
	size_t slot = 0;
	*added = 0;
	if (v >= 0 && (size_t)v < m->n_values) {
		if (m->by_value[v]) {
			*pid = m->by_value[v] - 1;
			return 0;
		}
	} else {
		if (!h)
			h = strmap_hash(p, n);
		int64_t found = hash_find(m, p, n, h, &slot);
		if (found >= 0) {
			*pid = (uint32_t)found;
			return 0;
		}
	}
	/* a new key */
	if (m->n >= MAX_ROWS)
		return -1;
	int in_array = v >= 0 && (size_t)v < m->n_values;
	if (v >= 0 && !in_array && (size_t)v < (m->n_numbers + 1) * 2 + ARRAY_FREE) {
		/* numbers are dense enough: grow the array to cover v; the keys
		 * it now covers move over from the hash part */
		size_t nv = m->n_values ? m->n_values * 2 : 1024;
		while (nv <= (size_t)v)
			nv *= 2;
		if (cmap_regrow(m, nv, m->cap) != 0)
			return -1;
		in_array = 1;
	} else if (!in_array && (m->n_hashed + 1) * 10 > m->cap * 7) {
		if (cmap_regrow(m, m->n_values, m->cap * 2) != 0)
			return -1;
		(void)hash_find(m, p, n, h, &slot);
	}
	if (strs_push(&m->keys, p, n) != 0)
		return -1;
	*pid = (uint32_t)m->n;
	if (in_array) {
		m->by_value[v] = *pid + 1;
	} else {
		m->slots[slot].k8 = load8(p, n);
		m->slots[slot].tag = cmap_tag(h, n);
		m->slots[slot].pid = *pid;
		m->n_hashed++;
		m->n_numbers_hashed += v >= 0;
	}
	m->n_numbers += v >= 0;
	m->n++;
	*added = 1;
	return 0;
}

/* Makes room in cust_state and cust_row for `need` provisional ids. */
static int cust_room(struct ds_builder *b, size_t need)
{
	if (need <= b->cap_cust)
		return 0;
	size_t cap = b->cap_cust ? b->cap_cust * 2 : 1024;
	while (cap < need)
		cap *= 2;
	uint8_t *st = realloc(b->cust_state, cap);
	if (!st)
		return -1;
	b->cust_state = st;
	uint32_t *row = xreallocn(b->cust_row, cap, sizeof *row);
	if (!row)
		return -1;
	b->cust_row = row;
	b->cap_cust = cap;
	return 0;
}

/* Makes room in cust_state and cust_row for provisional id b->cust.n. */
static int cust_reserve(struct ds_builder *b)
{
	return cust_room(b, b->cust.n + 1);
}

/* Finds or adds customer_id p[0..n) (n > 0; strmap_number v, hash h or 0);
 * *pid is its provisional id. by_ref: a reference (not a customers record)
 * names it. */
static int customer_ref(struct ds_builder *b, const char *p, size_t n, int64_t v,
			uint64_t h, int by_ref, uint32_t *pid, int *added)
{
	size_t idx = b->cust.n;
	if (cust_reserve(b) != 0)
		return -1;
	if (cmap_ref(&b->cust, p, n, v, h, pid, added) != 0)
		return -1;
	if (*added) {
		b->cust_state[idx] = (uint8_t)(CUST_REFERENCED | (by_ref ? CUST_BY_REF : 0));
		b->cust_row[idx] = NO_ROW;
	}
	return 0;
}

/* Adds the customer whose id is the number v (below the array part's size,
 * not in the map), whose text has n digits; by_ref: a reference names it.
 * customer_ref for the usual new customer of a file of orders: no hash,
 * no probe of the hash part. */
static inline __attribute__((always_inline)) int
customer_number(struct ds_builder *b, uint64_t v, size_t n, int by_ref, uint32_t *pid)
{
	struct cmap *m = &b->cust;
	struct crm_strings *s = &m->keys;
	if (m->n >= MAX_ROWS || (m->n >= b->cap_cust && cust_reserve(b) != 0))
		return -1;
	char text[24];   /* a number's text is its value's: no key to copy */
	(void)money_put_digits(text, v);
	if (strs_push(s, text, n) != 0)
		return -1;
	*pid = (uint32_t)m->n;
	m->by_value[v] = *pid + 1;
	m->n_numbers++;
	m->n++;
	b->cust_state[*pid] = (uint8_t)(CUST_REFERENCED | (by_ref ? CUST_BY_REF : 0));
	b->cust_row[*pid] = NO_ROW;
	return 0;
}

/* Fills x with the reference p[0..n) (n <= HOLD_KEY, strmap_number v) of
 * the row whose customer cell is dst, and prefetches what its lookup will
 * read. */
static inline __attribute__((always_inline)) void hold_fill(const struct cmap *m,
								   struct held *x, uint32_t *dst,
								   const char *p, size_t n, int64_t v)
{
	const uint32_t *by_value = m->by_value;
	size_t n_values = m->n_values;
	x->v = v;
	x->dst = dst;
	x->n = (uint8_t)n;
	if ((uint64_t)v < n_values) {
		__builtin_prefetch(&by_value[v]);   /* (x->h is not read then) */
	} else {
		x->h = strmap_hash(p, n);
		__builtin_prefetch(&m->slots[x->h & (m->cap - 1)]);
		if (v < 0)
			memcpy(x->key, p, n);   /* a number's text is its value's */
	}
}

/* Looks up (or adds) the customer p[0..n) (n <= HOLD_KEY) that a row
 * refers to, whose strmap_number is v and hash h (0: not computed), when
 * it is not a known number of the array part; *dst is the row's customer
 * cell. */
static int resolve_key(struct ds_builder *b, const char *p, size_t n, int64_t v, uint64_t h,
		       uint32_t *dst)
{
	uint32_t pid;
	int added = 0;
	if ((uint64_t)v < b->cust.n_values) {
		/* a number new to the map, in the array part */
		if (customer_number(b, (uint64_t)v, n, 1, &pid) != 0)
			return -1;
		added = 1;
	} else if (customer_ref(b, p, n, v, h, 1, &pid, &added) != 0) {
		return -1;
	}
	*dst = pid;
	b->held_stubs += added;
	return 0;
}

/* resolve for a customer not found in the array part. */
static int resolve_slow(struct ds_builder *b, const struct held *x)
{
	/* a number's text, its n digits, was not kept (hold) */
	char text[HOLD_KEY];
	const char *key = x->key;
	if (x->v >= 0) {
		(void)money_put_digits(text, (uint64_t)x->v);
		key = text;
	}
	return resolve_key(b, key, x->n, x->v, (uint64_t)x->v < b->cust.n_values ? 0 : x->h,
			   x->dst);
}

/* Looks up held reference x and gives its row the customer. */
static inline __attribute__((always_inline)) int resolve(struct ds_builder *b,
							 const struct held *x)
{
	const struct cmap *m = &b->cust;
	uint32_t id;
	if ((uint64_t)x->v < m->n_values && (id = m->by_value[x->v]) != 0) {
		*x->dst = id - 1;    /* the usual case: a known number */
		return 0;
	}
	return resolve_slow(b, x);
}

/* Looks up the oldest held reference. */
static int resolve_one(struct ds_builder *b)
{
	if (resolve(b, &b->held[b->held_first]) != 0)
		return -1;
	b->held_first = (b->held_first + 1) & (HOLD - 1);
	b->n_held--;
	return 0;
}

/* Holds back the reference p[0..n) (n <= HOLD_KEY, strmap_number v) of
 * the row whose customer cell is dst; when the ring is full, the oldest is
 * looked up to make room. */
static inline __attribute__((always_inline)) int hold(struct ds_builder *b, uint32_t *dst,
						      const char *p, size_t n, int64_t v)
{
	struct held *x;
	size_t first = b->held_first;
	if (b->n_held == HOLD) {
		/* the oldest's place is the newest's */
		x = &b->held[first];
		if (resolve(b, x) != 0)
			return -1;
		b->held_first = (first + 1) & (HOLD - 1);
	} else {
		x = &b->held[(first + b->n_held) & (HOLD - 1)];
		b->n_held++;
	}
	hold_fill(&b->cust, x, dst, p, n, v);
	return 0;
}

/* Looks up every held reference. */
static int resolve_held(struct ds_builder *b)
{
	while (b->n_held)
		if (resolve_one(b) != 0)
			return -1;
	return 0;
}

int ds_builder_flush(struct ds_builder *b, int64_t *stubs, struct crm_err *err)
{
	*stubs = 0;
	if (resolve_held(b) != 0)
		return crm_err_set(err, CRM_ENOMEM, "dataset builder: out of memory");
	*stubs = b->held_stubs;
	b->held_stubs = 0;
	return CRM_OK;
}

/* ------------------------------------------------------------- adding */

/* Makes room for `need` rows (need <= MAX_ROWS). */
static int btable_reserve(struct btable *t, size_t need)
{
	if (need <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 1024;
	while (cap < need)
		cap *= 2;
	if (cap > MAX_ROWS)
		cap = MAX_ROWS;
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
		if (c->kind == CRM_COL_I64 && c->i32) {
			int32_t *v = xreallocn(c->i32, cap, sizeof *v);
			if (!v)
				return -1;
			c->i32 = v;
		} else if (c->kind == CRM_COL_I64) {
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
	plan_table(t);
	return 0;
}

/* Gives column c storage, with rows 0..n-1 missing; a number column starts
 * narrow. On failure c is left without storage, as it was. The table's plan
 * is then out of date. */
static int bcol_materialize(struct bcol *c, size_t n, size_t cap)
{
	if (c->kind == CRM_COL_I64) {
		c->i32 = xmallocn(cap ? cap : 1, sizeof *c->i32);
		if (!c->i32)
			goto fail;
		for (size_t i = 0; i < n; i++)
			c->i32[i] = NA32;
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

/* Widens narrow number column c (rows 0..n-1, room for cap) to 64 bits in
 * place: the block grows to cap wide values and each value moves from 4i
 * to 8i, from the last down, so none is overwritten before it is read. On
 * failure c is as it was. The table's plan is then out of date. */
static int bcol_widen(struct bcol *c, size_t n, size_t cap)
{
	unsigned char *p = xreallocn(c->i32, cap ? cap : 1, sizeof(int64_t));
	if (!p)
		return -1;
	for (size_t i = n; i-- > 0;) {
		int32_t x;
		memcpy(&x, p + i * sizeof x, sizeof x);   /* bytes: no aliasing */
		int64_t w = x == NA32 ? CRM_NA : x;
		memcpy(p + i * sizeof w, &w, sizeof w);
	}
	c->i32 = NULL;
	c->i64 = (int64_t *)(void *)p;
	return 0;
}

/* Value i of number column c (CRM_NA when missing). */
static inline int64_t bcol_i64(const struct bcol *c, size_t i)
{
	if (c->i32)
		return c->i32[i] == NA32 ? CRM_NA : c->i32[i];
	return c->i64[i];
}

/* 1 if value x of a number column can be kept narrow: x in INT32_MIN + 1 ..
 * INT32_MAX (so not CRM_NA), with one compare. */
static inline int fits32(int64_t x)
{
	return (uint64_t)x + INT32_MAX < UINT32_MAX;
}

static void widen_range(struct ds_builder *b, int64_t lo, int64_t hi)
{
	if (lo < b->lo_at)
		b->lo_at = lo;
	if (hi > b->hi_at)
		b->hi_at = hi;
}

/* The slow way into ds_builder_add: t's segments are copied in, its
 * capacity grown, its plan worked out again; held references are looked up
 * first, since their rows' customer cells may move. */
static int make_room(struct ds_builder *b, struct btable *t, const struct ent_record *rec,
		     struct crm_err *err)
{
	if (resolve_held(b) != 0 || (t->segs && flatten(t) != 0))
		goto nomem;
	if (t->n >= MAX_ROWS)
		return crm_err_set(err, CRM_ERANGE, "line %ld: %s: more than %zu rows",
				   rec->line, t->d->name, MAX_ROWS);
	if (btable_reserve(t, t->n + 1) != 0)
		goto nomem;
	plan_table(t);
	return CRM_OK;
nomem:
	return crm_err_set(err, CRM_ENOMEM, "line %ld: %s: out of memory building the dataset",
			   rec->line, t->d->name);
}

/* 1 if value v of kept field f (column c; FT_ENUM: its code in codes[f])
 * is a value, not missing. */
static int has_value(const struct bcol *c, const struct ent_value *v, const uint32_t *codes,
		     size_t f)
{
	if (c->field->type == FT_ENUM)
		return codes[f] != 0;
	if (c->kind == CRM_COL_I64)
		return v->set;
	return v->set && v->s && v->n > 0;
}

/* Gives storage to the kept fields without it that rec has a value for
 * (row `row` is the record's), and works out t's plan again. */
static __attribute__((noinline)) int add_absent(struct btable *t, const struct ent_record *rec,
						const uint32_t *codes, size_t row)
{
	int rc = 0, changed = 0;
	for (size_t k = 0; k < t->n_absent; k++) {
		size_t f = t->absent[k];
		const struct ent_value *v = &rec->v[f];
		if (!v->set || !has_value(&t->col[f], v, codes, f))
			continue;
		if (bcol_materialize(&t->col[f], row, t->cap) != 0) {
			rc = -1;
			break;
		}
		changed = 1;
	}
	if (changed)
		plan_table(t);
	return rc;
}

/* Sets a narrow number that does not fit, x, in row `row` of column c:
 * missing, or the column widened. */
static __attribute__((noinline)) int set_wide(struct btable *t, struct bcol *c, size_t row,
					      int64_t x)
{
	if (x == CRM_NA) {
		c->i32[row] = NA32;
		return 0;
	}
	if (bcol_widen(c, row, t->cap) != 0)
		return -1;
	t->room = t->fast_room = 0;   /* plan again at the next record */
	c->i64[row] = x;
	return 0;
}

/* Sets row `row` of FT_CAT column c to text v (not empty). */
static int set_cat(struct bcol *c, size_t row, const struct ent_value *v)
{
	uint32_t code;
	uint64_t k8 = v->n <= 8 ? load8(v->s, v->n) : 0;
	size_t r = (size_t)((k8 * UINT64_C(0x9E3779B97F4A7C15)) >> 60);
	if (v->n <= 8 && c->recent_code[r] && c->recent_len[r] == v->n && c->recent_k8[r] == k8) {
		code = c->recent_code[r];
	} else {
		size_t idx;
		int added;
		if (strmap_put(&c->dict, v->s, v->n, 0, &idx, &added) != 0)
			return -1;
		code = (uint32_t)idx + 1;
		if (v->n <= 8) {
			c->recent_k8[r] = k8;
			c->recent_len[r] = (uint8_t)v->n;
			c->recent_code[r] = code;
		}
	}
	c->cat[row] = code;
	return 0;
}

/* The error of an enum field whose value v is not one of its values. */
static __attribute__((noinline)) int bad_enum(const struct btable *t, const struct ent_record *rec,
					      size_t f, struct crm_err *err)
{
	const struct ent_value *v = &rec->v[f];
	return crm_err_set(err, CRM_EINVAL, "line %ld: %s: field %s: '%.*s' is not one of its values",
			   rec->line, t->d->name, t->d->fields[f].name,
			   v->s ? (int)(v->n > 64 ? 64 : v->n) : 0, v->s ? v->s : "");
}

/* Looks up (or adds) the customer of a record that is not held back, as
 * ds_builder_add tells. */
static int add_customer(struct ds_builder *b, const struct ent_record *rec,
			const struct ent_value *ref, int is_stub, int *stub_created, uint32_t *pid)
{
	int added = 0;
	int by_ref = rec->entity != CRM_CUSTOMERS;
	if (customer_ref(b, ref->s, ref->n, strmap_number(ref->s, ref->n), 0, by_ref, pid,
			 &added) != 0)
		return -1;
	if (rec->entity == CRM_CUSTOMERS) {
		/* a customer given twice keeps its last record */
		uint8_t st = is_stub ? CUST_STUB_RECORD : CUST_RECORD;
		if ((b->cust_state[*pid] & CUST_LEVEL) < st)
			b->cust_state[*pid] = (uint8_t)((b->cust_state[*pid] & ~CUST_LEVEL) | st);
		b->cust_row[*pid] = (uint32_t)b->t[CRM_CUSTOMERS].n;
	} else if (added && stub_created) {
		*stub_created = 1;
	}
	return 0;
}

/* ds_builder_add for any record. */
static __attribute__((noinline)) int add_general(struct ds_builder *b,
						 const struct ent_record *rec, int is_stub,
						 int *stub_created, struct crm_err *err)
{
	if (stub_created)
		*stub_created = 0;
	if ((unsigned)rec->entity >= CRM_N_ENTITIES)
		return crm_err_set(err, CRM_EINVAL, "line %ld: unknown entity %d",
				   rec->line, rec->entity);
	struct btable *t = &b->t[rec->entity];
	int rc;
	if (t->n >= t->room && (rc = make_room(b, t, rec, err)) != CRM_OK)
		return rc;

	/* validate everything before changing anything: a rejected record
	 * leaves the builder as it was */
	uint32_t codes[CRM_MAX_FIELDS];
	for (size_t k = 0; k < t->n_enums; k++) {
		size_t f = t->enums[k];
		const struct ent_value *v = &rec->v[f];
		codes[f] = 0;
		if (!v->set || (v->s && v->n == 0))
			continue;
		/* the text when there is one, else the code ingest put in i */
		int64_t code = v->s ? ent_enum_code(&t->d->fields[f], v->s, v->n) : v->i;
		if (code <= 0 || code > t->n_values[f])
			return bad_enum(t, rec, f, err);
		codes[f] = (uint32_t)code;
	}
	const struct ent_value *ref = t->ref_field >= 0 ? &rec->v[t->ref_field] : NULL;
	int has_ref = ref && ref->set && ref->n > 0;
	if (!has_ref && t->ref_required)
		return crm_err_set(err, CRM_EINVAL, "line %ld: %s: field customer_id: missing",
				   rec->line, t->d->name);

	size_t row = t->n;
	/* the kept fields with no storage yet get it with their first value */
	for (size_t k = 0; k < t->n_absent; k++) {
		if (rec->v[t->absent[k]].set) {
			if (add_absent(t, rec, codes, row) != 0)
				goto nomem;
			break;
		}
	}
	for (size_t k = 0; k < t->n_ops; k++) {
		size_t f = t->ops[k].field;
		struct bcol *c = &t->col[f];
		const struct ent_value *v = &rec->v[f];
		int64_t x = v->set ? v->i : CRM_NA;
		switch (t->ops[k].kind) {
		case OP_N32:
			if (fits32(x))
				c->i32[row] = (int32_t)x;
			else if (set_wide(t, c, row, x) != 0)
				goto nomem;
			break;
		case OP_T32:
			if (fits32(x))
				c->i32[row] = (int32_t)x;
			else if (set_wide(t, c, row, x) != 0)
				goto nomem;
			if (x != CRM_NA)
				widen_range(b, x, x);
			break;
		case OP_N64:
			c->i64[row] = x;
			break;
		case OP_T64:
			c->i64[row] = x;
			if (x != CRM_NA)
				widen_range(b, x, x);
			break;
		case OP_ENUM:
			c->cat[row] = codes[f];
			break;
		case OP_CAT:
			if (!(v->set && v->s && v->n > 0))
				c->cat[row] = 0;
			else if (set_cat(c, row, v) != 0)
				goto nomem;
			break;
		default: {   /* OP_STR */
			int has = v->set && v->s && v->n > 0;
			if (strs_push(&c->str, has ? v->s : "", has ? v->n : 0) != 0)
				goto nomem;
			break;
		}
		}
	}

	/* a reference is held back when the caller does not ask about stubs;
	 * otherwise, and for customers records, what is held is looked up
	 * first, so that stubs are made in the order of the records */
	if (has_ref && !stub_created && rec->entity != CRM_CUSTOMERS && ref->n <= HOLD_KEY) {
		if (hold(b, &t->cust[row], ref->s, ref->n, strmap_number(ref->s, ref->n)) != 0)
			goto nomem;
	} else {
		uint32_t pid = CRM_NO_CUSTOMER;
		if (b->n_held && resolve_held(b) != 0)
			goto nomem;
		if (has_ref && add_customer(b, rec, ref, is_stub, stub_created, &pid) != 0)
			goto nomem;
		t->cust[row] = pid;
	}
	if (t->seq)
		t->seq[row] = rec->seq;
	t->n++;
	return CRM_OK;
nomem:
	/* take back the strings this record pushed, so that the builder stays
	 * whole and the caller may go on or free it */
	for (size_t f = 0; f < t->d->n_fields; f++)
		if (t->col[f].kind == CRM_COL_STR && t->col[f].present && t->col[f].str.n > t->n)
			t->col[f].str.n = t->n;
	return crm_err_set(err, CRM_ENOMEM, "line %ld: %s: out of memory building the dataset",
			   rec->line, t->d->name);
}

int ds_builder_add(struct ds_builder *b, const struct ent_record *rec,
		   int is_stub, int *stub_created, struct crm_err *err)
{
	size_t added;
	if (stub_created || is_stub)
		return add_general(b, rec, is_stub, stub_created, err);
	return ds_builder_add_many(b, rec, 1, 0, &added, err);
}

/* The first of rec[0..m) whose field f is set (m when none is). */
static inline size_t first_set(const struct ent_record *rec, size_t m, size_t f)
{
	size_t j = 0;
	while (j < m && !rec[j].v[f].set)
		j++;
	return j;
}

/* Customers are looked up this many records at a time by add_fast. */
#define RESOLVE_BATCH 64

/* Gives rows row..row+m of t the customers of rec[0..m), as hold would
 * one at a time, but a batch at once: every slot the batch needs is
 * prefetched, then each is read, so that the waits for memory overlap
 * without the ring. In record order: provisional ids are given in order of
 * first mention. Returns -1 when out of memory, with *done the records
 * whose customer was given. */
static int resolve_batch(struct ds_builder *b, struct btable *t, const struct ent_record *rec,
			 size_t row, size_t m, int numbered, size_t *done)
{
	const size_t rf = (size_t)t->ref_field;
	int64_t v[RESOLVE_BATCH];
	uint64_t h[RESOLVE_BATCH];
	*done = 0;
	if (b->n_held && resolve_held(b) != 0)   /* earlier records' come first */
		return -1;
	for (size_t c0 = 0; c0 < m; c0 += RESOLVE_BATCH) {
		const size_t c1 = m - c0 < RESOLVE_BATCH ? m : c0 + RESOLVE_BATCH;
		const struct cmap *cm = &b->cust;
		for (size_t j = c0; j < c1; j++) {
			const struct ent_value *ref = &rec[j].v[rf];
			int64_t x = numbered ? ref->i : strmap_number(ref->s, ref->n);
			v[j - c0] = x;
			if ((uint64_t)x < cm->n_values) {
				__builtin_prefetch(&cm->by_value[x]);
			} else {
				h[j - c0] = strmap_hash(ref->s, ref->n);
				__builtin_prefetch(&cm->slots[h[j - c0] & (cm->cap - 1)]);
			}
		}
		for (size_t j = c0; j < c1; j++) {
			const struct ent_value *ref = &rec[j].v[rf];
			int64_t x = v[j - c0];
			uint32_t id, *dst = &t->cust[row + j];
			/* (the array part may grow on the way: n_values read again) */
			if ((uint64_t)x < b->cust.n_values && (id = b->cust.by_value[x]) != 0)
				*dst = id - 1;    /* the usual case: a known number */
			else if (resolve_key(b, ref->s, ref->n, x,
					     (uint64_t)x < b->cust.n_values ? 0 : h[j - c0], dst) != 0)
				return -1;
			*done = j + 1;
		}
	}
	return 0;
}

/* Adds the longest run rec[0..m) (m <= n) of the usual records of a large
 * file the short way: events of one table whose columns with storage are
 * numbers and enums (t->fast), with room, no new column, a customer id of
 * at most HOLD_KEY bytes, values that fit. *m is how many were added; it
 * stops before the first record that is not such (add_general's) or, with
 * -1, before the one whose customer could not be added (out of memory).
 *
 * This is the builder's hot path, hence its shape: the run is found and
 * the columns written field by field, each in a tight loop down the run
 * with its kind decided once; a narrow number that does not fit only
 * shortens the run (what the loops before wrote past its end is beyond
 * the table's rows, overwritten later). The time range is taken after,
 * from the run's own column (a loop GCC vectorises), and the customers
 * last, a batch at a time (resolve_batch). A record is thus read a column
 * at a time, as the dataset is laid out. */
static int add_fast(struct ds_builder *b, const struct ent_record *rec, size_t n, int numbered,
		    size_t *m)
{
	unsigned e = (unsigned)rec[0].entity;
	*m = 0;
	if (e >= CRM_N_ENTITIES)
		return 0;
	struct btable *t = &b->t[e];
	if (t->n >= t->fast_room)
		return 0;
	size_t run = t->fast_room - t->n < n ? t->fast_room - t->n : n, j;
	size_t rf = (size_t)t->ref_field;
	/* one entity, and a customer id of 1 .. HOLD_KEY bytes */
	for (j = 0; j < run; j++) {
		const struct ent_value *ref = &rec[j].v[rf];
		if ((unsigned)rec[j].entity != e || !ref->set || ref->n - 1 >= HOLD_KEY)
			break;
	}
	run = j;
	/* no value where the fast way has no column */
	for (const uint8_t *q = t->quiet, *q_end = q + t->n_quiet; q < q_end && run; q++)
		run = first_set(rec, run, *q);
	const struct op *op, *op_end = t->ops + t->n_ops;
	if (t->n_enum_ops) {
		for (op = t->ops; op < op_end && run; op++) {
			if (op->kind != OP_ENUM)
				continue;
			/* the code ingest put in i, when its text is none or the
			 * value's own (as ingest gives it), else add_general */
			size_t f = op->field;
			const char *const *names = t->d->fields[f].values;
			uint64_t n_values = t->n_values[f];
			for (j = 0; j < run; j++) {
				const struct ent_value *fv = &rec[j].v[f];
				if (fv->set && ((uint64_t)fv->i - 1 >= n_values ||
						(fv->s && fv->s != names[fv->i - 1])))
					break;
			}
			run = j;
		}
	}
	size_t row = t->n;
	for (op = t->ops; op < op_end && run; op++) {
		size_t f = op->field;
		switch (op->kind) {
		case OP_N32: case OP_T32: {
			int32_t *col = (int32_t *)op->data + row;
			for (j = 0; j < run; j++) {
				const struct ent_value *fv = &rec[j].v[f];
				if (!fv->set || !fits32(fv->i))
					break;   /* missing or wide: add_general's */
				col[j] = (int32_t)fv->i;
			}
			run = j;
			break;
		}
		case OP_N64: case OP_T64: {
			int64_t *col = (int64_t *)op->data + row;
			for (j = 0; j < run; j++)
				col[j] = rec[j].v[f].set ? rec[j].v[f].i : CRM_NA;
			break;
		}
		default: {   /* OP_ENUM, checked above */
			uint32_t *col = (uint32_t *)op->data + row;
			for (j = 0; j < run; j++)
				col[j] = rec[j].v[f].set ? (uint32_t)rec[j].v[f].i : 0;
			break;
		}
		}
	}
	if (run == 0)
		return 0;
	for (op = t->ops; op < op_end; op++) {
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		if (op->kind == OP_T32) {
			const int32_t *col = (const int32_t *)op->data + row;
			int32_t lo32 = INT32_MAX, hi32 = INT32_MIN;
			for (j = 0; j < run; j++) {
				lo32 = col[j] < lo32 ? col[j] : lo32;
				hi32 = col[j] > hi32 ? col[j] : hi32;
			}
			widen_range(b, lo32, hi32);
		} else if (op->kind == OP_T64) {
			const int64_t *col = (const int64_t *)op->data + row;
			for (j = 0; j < run; j++) {
				if (col[j] == CRM_NA)
					continue;
				lo = col[j] < lo ? col[j] : lo;
				hi = col[j] > hi ? col[j] : hi;
			}
			if (lo <= hi)
				widen_range(b, lo, hi);
		}
	}
	/* a few records (a caller adding one at a time): held in the ring,
	 * so that their lookups overlap those of the next calls */
	size_t done = 0;
	int rc = 0;
	if (run < HOLD) {
		for (; done < run && rc == 0; done += rc == 0) {
			const struct ent_value *ref = &rec[done].v[rf];
			rc = hold(b, &t->cust[row + done], ref->s, ref->n,
				  numbered ? ref->i : strmap_number(ref->s, ref->n));
		}
	} else {
		rc = resolve_batch(b, t, rec, row, run, numbered, &done);
	}
	t->n = row + done;
	*m = done;
	return rc;
}

int ds_builder_add_many(struct ds_builder *b, const struct ent_record *rec, size_t n,
			int numbered, size_t *added, struct crm_err *err)
{
	size_t i = 0;
	int rc = CRM_OK;
	while (i < n) {
		size_t m;
		if (add_fast(b, rec + i, n - i, numbered, &m) != 0) {
			i += m;
			rc = crm_err_set(err, CRM_ENOMEM,
					 "line %ld: %s: out of memory building the dataset",
					 rec[i].line, b->t[rec[i].entity].d->name);
			break;
		}
		i += m;
		if (i == n)
			break;
		/* a record the short way does not take, on its own */
		if ((rc = add_general(b, &rec[i], 0, NULL, err)) != CRM_OK)
			break;
		i++;
	}
	*added = i;
	return rc;
}

/* ------------------------------------------------------------ threads */

/* The cores to use: those online, at most MAX_THREADS. */
static size_t n_cores(void)
{
	long k = sysconf(_SC_NPROCESSORS_ONLN);
	return k < 1 ? 1 : k > MAX_THREADS ? MAX_THREADS : (size_t)k;
}

/* Runs fn on each of the n jobs of `size` bytes at jobs, job 0 on the
 * calling thread and the others on threads of their own (on the calling
 * thread when one cannot be started), and returns when all are done. */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
	pthread_t th[MAX_PARTS];
	int started[MAX_PARTS] = { 0 };
	for (size_t k = 1; k < n; k++)
		started[k] = pthread_create(&th[k], NULL, fn, (char *)jobs + k * size) == 0;
	fn(jobs);
	for (size_t k = 1; k < n; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			fn((char *)jobs + k * size);
	}
}

/* ------------------------------------------------------------- merging */

/* Appends src's rows of column f after dst's n0 rows (dst has room for n0 +
 * n1). On failure dst's rows n0.. are not valid. The table's plan is then
 * out of date. */
static int bcol_append(struct bcol *dc, struct bcol *sc, size_t n0, size_t n1, size_t cap)
{
	if (!sc->present) {
		if (!dc->present)
			return 0;
		for (size_t i = n0; i < n0 + n1; i++) {
			if (dc->kind == CRM_COL_I64 && dc->i32)
				dc->i32[i] = NA32;
			else if (dc->kind == CRM_COL_I64)
				dc->i64[i] = CRM_NA;
			else if (dc->kind == CRM_COL_CAT)
				dc->cat[i] = 0;
			else if (strs_push(&dc->str, "", 0) != 0)
				return -1;
		}
		return 0;
	}
	if (!dc->present && bcol_materialize(dc, n0, cap) != 0)
		return -1;
	if (dc->kind == CRM_COL_I64) {
		if (dc->i32 && sc->i32) {
			memcpy(dc->i32 + n0, sc->i32, n1 * sizeof *sc->i32);
			return 0;
		}
		if (dc->i32 && bcol_widen(dc, n0, cap) != 0)
			return -1;
		if (sc->i64)
			memcpy(dc->i64 + n0, sc->i64, n1 * sizeof *sc->i64);
		else
			for (size_t i = 0; i < n1; i++)
				dc->i64[n0 + i] = bcol_i64(sc, i);
	} else if (dc->kind == CRM_COL_CAT && dc->field->type == FT_ENUM) {
		memcpy(dc->cat + n0, sc->cat, n1 * sizeof *sc->cat);
	} else if (dc->kind == CRM_COL_CAT) {
		/* the source's codes in the destination's dictionary */
		size_t nk = sc->dict.n;
		uint32_t *recode = xmallocn(nk + 1, sizeof *recode);
		if (!recode)
			return -1;
		recode[0] = 0;
		for (size_t k = 0; k < nk; k++) {
			size_t len, idx;
			int added;
			const char *s = strs_get(&sc->dict.keys, k, &len);
			if (strmap_put(&dc->dict, s, len, 0, &idx, &added) != 0) {
				free(recode);
				return -1;
			}
			recode[k + 1] = (uint32_t)idx + 1;
		}
		for (size_t i = 0; i < n1; i++)
			dc->cat[n0 + i] = recode[sc->cat[i]];
		free(recode);
	} else {
		for (size_t i = 0; i < n1; i++) {
			size_t len;
			const char *s = strs_get(&sc->str, i, &len);
			if (strs_push(&dc->str, s, len) != 0)
				return -1;
		}
	}
	return 0;
}

/* Appends the rows of st after dt's (st's provisional ids mapped by
 * pid_of, NULL: the same) and releases st's storage. dt has room. On
 * failure dt's rows past its n are not valid. */
static int append_rows(struct btable *dt, struct btable *st, const uint32_t *pid_of)
{
	size_t n0 = dt->n, n1 = st->n;
	dt->room = dt->fast_room = 0;   /* plan again */
	for (size_t f = 0; f < dt->d->n_fields; f++) {
		if (dt->col[f].kind == CRM_COL_NONE)
			continue;
		if (bcol_append(&dt->col[f], &st->col[f], n0, n1, dt->cap) != 0) {
			/* take back what was appended to the string columns */
			for (size_t g = 0; g <= f; g++)
				if (dt->col[g].kind == CRM_COL_STR && dt->col[g].present &&
				    dt->col[g].str.n > n0)
					dt->col[g].str.n = n0;
			return -1;
		}
	}
	for (size_t i = 0; i < n1; i++) {
		uint32_t c = st->cust[i];
		dt->cust[n0 + i] = c == CRM_NO_CUSTOMER || !pid_of ? c : pid_of[c];
	}
	if (dt->seq)
		memcpy(dt->seq + n0, st->seq, n1 * sizeof *st->seq);
	dt->n = n0 + n1;
	btable_fini(st);
	return 0;
}

/* The rows of t and of its segments. */
static size_t all_rows(const struct btable *t)
{
	size_t n = t->n;
	for (const struct segment *sg = t->segs; sg; sg = sg->next)
		n += sg->t.n;
	return n;
}

/* Copies t's segments into t, so that rows can be added after them. */
static int flatten(struct btable *t)
{
	if (t->segs && btable_reserve(t, all_rows(t)) != 0)
		return -1;
	while (t->segs) {
		struct segment *sg = t->segs;
		if (append_rows(t, &sg->t, sg->pid_of) != 0)
			return -1;
		t->segs = sg->next;
		free(sg);
	}
	return 0;
}

/* 1 if t's rows can stay in a segment: every column with values holds
 * numbers or enum codes, and no natural key or occurrence number orders
 * rows of equal time (their position does, see finish_events). */
static int table_simple(const struct btable *t)
{
	if (t->seq)
		return 0;
	for (size_t f = 0; f < t->d->n_fields; f++) {
		const struct bcol *c = &t->col[f];
		if (c->kind == CRM_COL_NONE || !c->present)
			continue;
		if (c->kind == CRM_COL_STR || (c->kind == CRM_COL_CAT && c->field->type != FT_ENUM))
			return 0;
	}
	for (const int *k = t->d->key; *k >= 0; k++)
		if (t->col[*k].kind != CRM_COL_NONE && t->col[*k].present)
			return 0;
	return 1;
}

/* Finds or adds src's customer p (strmap_number v of its id) in dst: *pid
 * is its id in dst; a stub is counted when src knew it only by reference
 * and dst did not know it. */
static inline __attribute__((always_inline)) int
merge_customer(struct ds_builder *dst, const struct ds_builder *src, uint32_t p, int64_t v,
	       uint32_t *pid, int64_t *n_stubs)
{
	const struct cmap *m = &dst->cust;
	if ((uint64_t)v < m->n_values && m->by_value[v]) {
		*pid = m->by_value[v] - 1;   /* known to dst */
		return 0;
	}
	size_t len;
	const char *k = strs_get(&src->cust.keys, p, &len);
	int added = 1;
	int by_ref = (src->cust_state[p] & CUST_BY_REF) != 0;
	if ((uint64_t)v < m->n_values) {
		if (customer_number(dst, (uint64_t)v, len, by_ref, pid) != 0)
			return -1;
	} else if (customer_ref(dst, k, len, v, 0, by_ref, pid, &added) != 0) {
		return -1;
	}
	*n_stubs += added && by_ref;
	return 0;
}

/* A part [lo, hi) of the values of src's array part, for merge_numbers. */
struct num_part {
	struct ds_builder *dst;
	const struct ds_builder *src;
	uint32_t *pid_of;
	size_t lo, hi;
	size_t n_new;              /* its customers new to dst */
	uint64_t bytes;            /* ... and the bytes of their keys */
	uint32_t first_pid;        /* dst's id of its first new customer */
	uint64_t at;               /* where its keys' bytes start in dst's pool */
	int64_t stubs;             /* its new customers named by reference */
};

#define NEW_TO_DST UINT32_MAX

/* Finds the part's customers in dst's array part: their ids in pid_of, or
 * NEW_TO_DST, counted with their keys' bytes. */
static void *num_part_find(void *arg)
{
	struct num_part *p = arg;
	const uint32_t *sv = p->src->cust.by_value, *dv = p->dst->cust.by_value;
	const uint64_t *off = p->src->cust.keys.off;
	for (size_t v = p->lo; v < p->hi; v++) {
		if (!sv[v])
			continue;
		uint32_t q = sv[v] - 1;
		if (dv[v]) {
			p->pid_of[q] = dv[v] - 1;
		} else {
			p->pid_of[q] = NEW_TO_DST;
			p->n_new++;
			p->bytes += off[q + 1] - off[q];
		}
	}
	return NULL;
}

/* Adds the part's new customers to dst, as customer_number would one at a
 * time, in the room merge_numbers made: ids from first_pid on, keys from
 * byte `at` of the pool. */
static void *num_part_add(void *arg)
{
	struct num_part *p = arg;
	struct ds_builder *dst = p->dst;
	const struct ds_builder *src = p->src;
	const uint32_t *sv = src->cust.by_value;
	const struct crm_strings *sk = &src->cust.keys;
	struct crm_strings *dk = &dst->cust.keys;
	uint32_t pid = p->first_pid;
	uint64_t at = p->at;
	for (size_t v = p->lo; v < p->hi; v++) {
		if (!sv[v])
			continue;
		uint32_t q = sv[v] - 1;
		if (p->pid_of[q] != NEW_TO_DST)
			continue;
		size_t len = (size_t)(sk->off[q + 1] - sk->off[q]);   /* with its NUL */
		memcpy(dk->bytes + at, sk->bytes + sk->off[q], len);
		at += len;
		dk->off[pid + 1] = at;
		int by_ref = (src->cust_state[q] & CUST_BY_REF) != 0;
		dst->cust_state[pid] = (uint8_t)(CUST_REFERENCED | (by_ref ? CUST_BY_REF : 0));
		dst->cust_row[pid] = NO_ROW;
		dst->cust.by_value[v] = pid + 1;
		p->pid_of[q] = pid++;
		p->stubs += by_ref;
	}
	return NULL;
}

/* merge_customer for every customer of src's array part, on every core:
 * dst's array part is grown to cover src's; each part of the values finds
 * its customers in dst, the new ones are given ids in order of value (the
 * order the one-thread loop gives them), and each part adds its own. The
 * ids a builder gives are provisional (the layout orders customers by
 * their text), so only their order of arrival differs from a merge in file
 * order. 10M orders on two threads: 1.05M customers, 577k new to dst. */
static int merge_numbers(struct ds_builder *dst, const struct ds_builder *src,
			 uint32_t *pid_of, int64_t *n_stubs)
{
	struct cmap *m = &dst->cust;
	const struct cmap *sm = &src->cust;
	struct num_part parts[MAX_THREADS];
	size_t k = n_cores(), nv = sm->n_values;
	if (nv > m->n_values && cmap_regrow(m, nv, m->cap) != 0)
		return -1;
	for (size_t j = 0; j < k; j++)
		parts[j] = (struct num_part){ dst, src, pid_of, nv * j / k, nv * (j + 1) / k,
					      0, 0, 0, 0, 0 };
	run_jobs(num_part_find, parts, sizeof parts[0], k);
	size_t n_new = 0;
	uint64_t bytes = 0;
	for (size_t j = 0; j < k; j++) {
		n_new += parts[j].n_new;
		bytes += parts[j].bytes;
	}
	if (m->n + n_new > MAX_ROWS || bytes > SIZE_MAX / 4)
		return -1;
	if (cust_room(dst, m->n + n_new) != 0 || strs_reserve(&m->keys, n_new, (size_t)bytes) != 0)
		return -1;
	uint32_t pid = (uint32_t)m->n;
	uint64_t at = m->keys.off[m->keys.n];
	for (size_t j = 0; j < k; j++) {
		parts[j].first_pid = pid;
		parts[j].at = at;
		pid += (uint32_t)parts[j].n_new;
		at += parts[j].bytes;
	}
	run_jobs(num_part_add, parts, sizeof parts[0], k);
	for (size_t j = 0; j < k; j++)
		*n_stubs += parts[j].stubs;
	m->n += n_new;
	m->n_numbers += n_new;
	m->keys.n += n_new;
	return 0;
}

/* Puts the storage of src's customer map, and its spare blocks, in dst's
 * spare bin: src is merged, and its maps are no longer read (pid_of holds
 * what they said). */
static void give_map(struct ds_builder *dst, struct ds_builder *src)
{
	struct cmap *m = &src->cust;
	bin_put(&dst->spare, m->slots, m->cap * sizeof *m->slots);
	bin_put(&dst->spare, m->by_value, m->n_values * sizeof *m->by_value);
	bin_put(&dst->spare, m->keys.bytes, m->keys.off ? (size_t)m->keys.off[m->keys.n] : 0);
	bin_put(&dst->spare, m->keys.off, m->keys.off ? (m->keys.n + 1) * sizeof *m->keys.off : 0);
	bin_put(&dst->spare, src->cust_state, m->n);
	bin_put(&dst->spare, src->cust_row, m->n * sizeof *src->cust_row);
	m->slots = NULL;
	m->by_value = NULL;
	strs_init(&m->keys);
	src->cust_state = NULL;
	src->cust_row = NULL;
	for (size_t i = 0; i < src->spare.n; i++)
		bin_put(&dst->spare, src->spare.p[i], src->spare.used[i]);
	src->spare.n = 0;
}

int ds_builder_merge(struct ds_builder *dst, struct ds_builder *src,
		     int64_t *stubs, struct crm_err *err)
{
	struct pid_map *map = NULL;   /* src provisional id -> dst's */
	int64_t n_stubs = 0;
	int rc = CRM_ENOMEM, kept = 0;
	if (stubs)
		*stubs = 0;
	/* what src made of its held references are stubs of src: counted below */
	size_t n_ids = src->cust.n + src->n_held + 1;
	if (n_ids > (SIZE_MAX - sizeof *map) / sizeof map->id[0])
		goto done;
	map = malloc(sizeof *map + n_ids * sizeof map->id[0]);
	if (!map || resolve_held(dst) != 0 || resolve_held(src) != 0)
		goto done;
	uint32_t *pid_of = map->id;
	/* src's customers in dst: those of its array part by value, so that
	 * dst's array part is read in order too, then those of its hash part */
	const struct cmap *sm = &src->cust;
	size_t from_v = 0;
	if (sm->n_values >= PAR_MIN_ROWS) {
		if (merge_numbers(dst, src, pid_of, &n_stubs) != 0)
			goto done;
		from_v = sm->n_values;
	}
	for (size_t v = from_v; v < sm->n_values; v++) {
		if (!sm->by_value[v])
			continue;
		uint32_t p = sm->by_value[v] - 1;
		if (merge_customer(dst, src, p, (int64_t)v, &pid_of[p], &n_stubs) != 0)
			goto done;
	}
	for (size_t i = 0; i < sm->cap; i++) {
		if (!sm->slots[i].tag)
			continue;
		uint32_t p = sm->slots[i].pid;
		size_t len;
		const char *k = strs_get(&sm->keys, p, &len);
		if (merge_customer(dst, src, p, strmap_number(k, len), &pid_of[p], &n_stubs) != 0)
			goto done;
	}
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		struct btable *dt = &dst->t[e], *st = &src->t[e];
		size_t n0 = dt->n, n1 = st->n;
		if (n1 == 0)
			continue;
		if (all_rows(dt) + n1 > MAX_ROWS) {
			rc = crm_err_set(err, CRM_ERANGE, "%s: more than %zu rows", dt->d->name, MAX_ROWS);
			goto fail;
		}
		if (e != CRM_CUSTOMERS && table_simple(dt) && table_simple(st)) {
			struct segment *sg = malloc(sizeof *sg), **tail = &dt->segs;
			if (!sg || flatten(st) != 0) {
				free(sg);
				goto done;
			}
			sg->t = *st;
			sg->pid_of = pid_of;
			sg->next = NULL;
			memset(st, 0, sizeof *st);
			st->d = dt->d;
			while (*tail)
				tail = &(*tail)->next;
			*tail = sg;
			dt->room = dt->fast_room = 0;   /* adding a record copies the segments in */
			kept = 1;
			continue;
		}
		if (flatten(dt) != 0 || btable_reserve(dt, dt->n + n1) != 0)
			goto done;
		n0 = dt->n;
		if (append_rows(dt, st, pid_of) != 0)
			goto done;
		if (e == CRM_CUSTOMERS) {
			for (size_t p = 0; p < src->cust.n; p++) {
				uint32_t q = pid_of[p];
				uint8_t level = src->cust_state[p] & CUST_LEVEL;
				if ((dst->cust_state[q] & CUST_LEVEL) < level)
					dst->cust_state[q] = (uint8_t)((dst->cust_state[q] & ~CUST_LEVEL) | level);
				if (src->cust_row[p] != NO_ROW)
					dst->cust_row[q] = (uint32_t)n0 + src->cust_row[p];
			}
		}
	}
	widen_range(dst, src->lo_at, src->hi_at);
	if (stubs)
		*stubs = n_stubs;
	rc = CRM_OK;
done:
	if (rc == CRM_ENOMEM)
		rc = crm_err_set(err, CRM_ENOMEM, "dataset builder: out of memory merging");
fail:
	if (map && kept) {
		map->next = dst->pid_maps;
		dst->pid_maps = map;
	} else {
		free(map);
	}
	give_map(dst, src);
	ds_builder_free(src);
	return rc;
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

/* order[k] = index of the k-th string of pool s in byte order, of the n
 * strings which[0..n) (NULL: all of s). A radix sort on 8 bytes after the
 * common prefix, then a full comparison inside runs of equal keys. */
static int sort_strings(const struct crm_strings *s, const uint32_t *which, size_t n,
			uint32_t *order)
{
	if (n == 0)
		return 0;
	struct kv *a = xmallocn(n, sizeof *a), *tmp = xmallocn(n, sizeof *tmp);
	if (!a || !tmp) {
		free(a);
		free(tmp);
		return -1;
	}
	size_t n0;
	const char *s0 = strs_get(s, which ? which[0] : 0, &n0);
	size_t lcp = n0;
	for (size_t i = 1; i < n && lcp > 0; i++) {
		size_t ni;
		const char *si = strs_get(s, which ? which[i] : i, &ni);
		size_t k = 0;
		while (k < lcp && k < ni && si[k] == s0[k])
			k++;
		lcp = k;
	}
	for (size_t i = 0; i < n; i++) {
		size_t ni;
		uint32_t ix = which ? which[i] : (uint32_t)i;
		const char *si = strs_get(s, ix, &ni);
		a[i].key = prefix_key(si, ni, lcp);
		a[i].val = ix;
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

/* order[k] = the provisional id of the k-th customer in byte order of
 * customer_id. The numbers of the array part need no sort: walking 0..N-1
 * in the order of their decimal text (a preorder walk of the tree of digit
 * strings: 0, 1, 10, 100, ..., 101, ..., 11, ...) and keeping those in use
 * gives them in byte order. The hash part's keys are sorted, and the two
 * runs merged. */
static int customer_order(const struct cmap *m, uint32_t *order)
{
	uint32_t *others = xmallocn(m->n_hashed + 1, sizeof *others);
	uint32_t *sorted = xmallocn(m->n_hashed + 1, sizeof *sorted);
	size_t n_others = 0, k = 0, o = 0;
	int rc = -1;
	if (!others || !sorted)
		goto done;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].tag)
			others[n_others++] = m->slots[i].pid;
	if (sort_strings(&m->keys, others, n_others, sorted) != 0)
		goto done;
	size_t nv = m->n_values;
	for (size_t step = 0, v = 0; step < nv; step++) {
		if (m->by_value[v]) {
			uint32_t pid = m->by_value[v] - 1;
			if (o < n_others) {
				/* the hash part's keys that come before this number */
				char text[16];
				size_t tn = 0;
				for (size_t x = v; ; x /= 10) {
					text[tn++] = (char)('0' + x % 10);
					if (x < 10)
						break;
				}
				for (size_t i = 0; i < tn / 2; i++) {
					char t = text[i];
					text[i] = text[tn - 1 - i];
					text[tn - 1 - i] = t;
				}
				for (; o < n_others; o++) {
					size_t len;
					const char *key = strs_get(&m->keys, sorted[o], &len);
					if (cmp_bytes(key, len, text, tn) > 0)
						break;
					order[k++] = sorted[o];
				}
			}
			order[k++] = pid;
		}
		/* the next number in text order below nv */
		if (v == 0)
			v = 1;
		else if (v * 10 < nv)
			v *= 10;
		else {
			if (v + 1 >= nv)
				v /= 10;
			v++;
			while (v % 10 == 0)
				v /= 10;
		}
	}
	while (o < n_others)
		order[k++] = sorted[o++];
	rc = k == m->n ? 0 : -1;
done:
	free(others);
	free(sorted);
	return rc;
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
	if (!order || !recode || sort_strings(&c->dict.keys, NULL, nk, order) != 0)
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

/* Fills out, a column missing everywhere, for n rows. */
static int missing_col(int kind, size_t n, struct crm_column *out)
{
	out->kind = kind;
	if (kind == CRM_COL_I64) {
		out->i64 = xmallocn(n ? n : 1, sizeof *out->i64);
		if (!out->i64)
			return -1;
		for (size_t i = 0; i < n; i++)
			out->i64[i] = CRM_NA;
	} else if (kind == CRM_COL_CAT) {
		/* calloc: untouched zero pages */
		out->cat = calloc(n ? n : 1, sizeof *out->cat);
		if (!out->cat)
			return -1;
	} else if (kind == CRM_COL_STR) {
		struct crm_strings *s = &out->str;
		s->bytes = calloc(n ? n : 1, 1);   /* n NULs */
		s->off = xmallocn(n + 1, sizeof *s->off);
		if (!s->bytes || !s->off)
			return -1;
		s->cap_bytes = n ? n : 1;
		s->cap_n = n + 1;
		s->n = n;
		for (size_t i = 0; i <= n; i++)
			s->off[i] = i;
	}
	return 0;
}

/* A part of the output rows of gather_str: [lo, hi). */
struct str_part {
	const struct crm_strings *in;
	const uint32_t *src;
	struct crm_strings *out;
	size_t lo, hi;
	uint64_t pos;              /* its bytes, then where they start in out */
};

static void *str_part_size(void *arg)
{
	struct str_part *p = arg;
	const uint64_t *off = p->in->off;
	uint64_t total = 0;
	for (size_t i = p->lo; i < p->hi; i++)
		total += p->src[i] == NO_ROW ? 1 : off[p->src[i] + 1] - off[p->src[i]];
	p->pos = total;
	return NULL;
}

static void *str_part_copy(void *arg)
{
	struct str_part *p = arg;
	const uint64_t *off = p->in->off;
	const char *bytes = p->in->bytes;
	const uint32_t *src = p->src;
	char *to = p->out->bytes;
	uint64_t *to_off = p->out->off;
	uint64_t pos = p->pos;
	for (size_t i = p->lo; i < p->hi; i++) {
		/* the offset AHEAD rows on, then the bytes it points to */
		if (i + 2 * AHEAD < p->hi && src[i + 2 * AHEAD] != NO_ROW)
			__builtin_prefetch(&off[src[i + 2 * AHEAD]]);
		if (i + AHEAD < p->hi && src[i + AHEAD] != NO_ROW)
			__builtin_prefetch(bytes + off[src[i + AHEAD]]);
		uint32_t r = src[i];
		if (r == NO_ROW) {
			to[pos++] = '\0';
		} else {
			size_t len = (size_t)(off[r + 1] - off[r]);   /* with its NUL */
			memcpy(to + pos, bytes + off[r], len);
			pos += len;
		}
		to_off[i + 1] = pos;
	}
	return NULL;
}

/* Moves string column c into out in the row order src (n_out rows; NO_ROW
 * gives an empty string; memory from the bin) and releases c's storage.
 * The rows are read at random: a large column is sized, then copied, in
 * parts on every core (10M orders' 1.5M customer ids: 0.012-0.020 s on one
 * core). */
static int gather_str(struct bcol *c, const uint32_t *src, size_t n_out,
		      struct bin *bin, struct crm_column *out)
{
	struct str_part parts[MAX_THREADS];
	size_t k = n_out < PAR_MIN_ROWS ? 1 : n_cores();
	struct crm_strings *s = &out->str;
	out->kind = CRM_COL_STR;
	if (n_out + 1 > SIZE_MAX / sizeof *s->off)
		return -1;
	for (size_t j = 0; j < k; j++)
		parts[j] = (struct str_part){ &c->str, src, s, n_out * j / k, n_out * (j + 1) / k, 0 };
	run_jobs(str_part_size, parts, sizeof parts[0], k);
	uint64_t total = 0;
	for (size_t j = 0; j < k; j++) {
		uint64_t bytes = parts[j].pos;
		parts[j].pos = total;
		total += bytes;
	}
	if (total > SIZE_MAX)
		return -1;
	s->bytes = bin_take(bin, total ? (size_t)total : 1);
	s->off = bin_take(bin, (n_out + 1) * sizeof *s->off);
	if (!s->bytes || !s->off)
		return -1;
	s->cap_bytes = total ? (size_t)total : 1;
	s->cap_n = n_out + 1;
	s->n = n_out;
	s->off[0] = 0;
	run_jobs(str_part_copy, parts, sizeof parts[0], k);
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
			int64_t vx = bcol_i64(c, x), vy = bcol_i64(c, y);
			if (vx != vy)
				return vx < vy ? -1 : 1;
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

/* Sorts perm[0..n) (rows of one customer) by (time, key); time is the
 * table's time column, NULL when it has none. tmp holds n. */
static void sort_range(const struct btable *t, const struct bcol *time, uint32_t *perm,
		       size_t n, struct trow *tmp)
{
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		tmp[i].t = time ? bcol_i64(time, perm[i]) : 0;
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

/* ----------------------------------------------- laying out an event table */

/* A number or category column moved into the output (by pos or by perm). */
struct scol {
	int kind;                  /* CRM_COL_I64 or CRM_COL_CAT */
	int narrow;                /* CRM_COL_I64: src holds int32 (NA32: CRM_NA) */
	const void *src;           /* the builder's values, by builder row; NULL:
	                              missing in this source */
	void *dst;                 /* the output's, by output row */
};

/* One part of a table's layout, run on a thread of its own. The steps:
 * count the rows of each customer in a part of the rows of one source (the
 * table, or one of its segments); place those rows (each row's output row
 * in place of its customer, and perm); scatter a column of those rows to
 * their output rows; put the rows of a part of the customers in order;
 * gather a column by perm for a part of the customers; fill the customer
 * column of a part of the customers. */
struct part {
	struct btable *rows;       /* count, place, scatter: the source of the rows */
	const uint32_t *pid_of;    /* count: its provisional ids -> the builder's, or NULL */
	const struct btable *bt;   /* order: the table (for its keys) */
	size_t lo, hi;             /* rows (count, place, scatter) or buckets (order,
	                              gather, fill) */
	size_t n_customers;        /* bucket and count index n_customers: no customer */
	uint32_t *cnt;             /* count, place: this part's counts by provisional
	                              id, then its next output row */
	uint32_t *perm;            /* output row -> builder row, or NULL */
	struct scol col;           /* scatter, gather: the column moved (src that of
	                              `rows` for scatter, of the table for gather) */
	const struct scol *outs;   /* order without perm: the output columns */
	size_t n_outs;
	const uint64_t *start;     /* order, gather, fill: n_customers + 2 bucket starts */
	const struct bcol *time;   /* order with perm: the builder's time column, or NULL */
	int64_t *out_time;         /* order: the output's time column, or NULL */
	uint32_t *customer;        /* fill: the output customer column */
	int rc;                    /* order: 0, or -1 when out of memory */
	int check_order;           /* scatter: see whether the column's values never
	                              go down in the part's rows (the time column) */
	int in_order;              /* scatter with check_order: 1 when they do not */
	int64_t first_v, last_v;   /* ... the first and last of them */
};

/* Counts the rows of each customer, the customers of a segment turned into
 * the builder's provisional ids (and rows without one into n_customers) in
 * place for place_part. */
static void *count_part(void *arg)
{
	struct part *p = arg;
	uint32_t *cust = p->rows->cust;
	uint32_t none = (uint32_t)p->n_customers;
	/* zeroed by writing, not calloc (see cmap_regrow), and here, so that
	 * the parts' first touches of their counts run side by side */
	memset(p->cnt, 0, ((size_t)none + 1) * sizeof *p->cnt);
	const uint32_t *pid_of = p->pid_of;
	for (size_t i = p->lo; i < p->hi; i++) {
		/* both reads are at random: a customer's final id is fetched two
		 * distances ahead, its count one */
		if (i + 2 * AHEAD < p->hi) {
			uint32_t f = cust[i + 2 * AHEAD], a = cust[i + AHEAD];
			if (pid_of && f != CRM_NO_CUSTOMER)
				__builtin_prefetch(&pid_of[f]);
			if (a != CRM_NO_CUSTOMER)
				__builtin_prefetch(&p->cnt[pid_of ? pid_of[a] : a], 1);
		}
		uint32_t c = cust[i];
		c = c == CRM_NO_CUSTOMER ? none : pid_of ? pid_of[c] : c;
		cust[i] = c;
		p->cnt[c]++;
	}
	return NULL;
}

/* Gives each row its output row, in place of its customer in the source's
 * customer column (for scatter_part), and perm. */
static void *place_part(void *arg)
{
	struct part *p = arg;
	uint32_t *cust = p->rows->cust;
	for (size_t i = p->lo; i < p->hi; i++) {
		/* the counts are read at random: fetch them a few rows ahead */
		if (i + AHEAD < p->hi)
			__builtin_prefetch(&p->cnt[cust[i + AHEAD]], 1);
		uint32_t j = p->cnt[cust[i]]++;
		cust[i] = j;
		if (p->perm)
			p->perm[j] = (uint32_t)i;
	}
	return NULL;
}

/* Copies the part's rows of one column to their output rows. The rows land
 * at random (a repeat customer's next row one place on): the lines written
 * are fetched a few rows ahead. */
static void *scatter_part(void *arg)
{
	struct part *p = arg;
	const uint32_t *pos = p->rows->cust;
	const struct scol *sc = &p->col;
	size_t lo = p->lo, hi = p->hi, ahead = hi > AHEAD ? hi - AHEAD : 0;
	if (sc->kind == CRM_COL_I64) {
		int64_t *dst = sc->dst;
		const int32_t *s32 = sc->narrow ? sc->src : NULL;
		const int64_t *s64 = sc->narrow ? NULL : sc->src;
		int64_t prev = INT64_MIN;
		int down = 0;
		for (size_t i = lo; i < hi; i++) {
			if (i < ahead)
				__builtin_prefetch(&dst[pos[i + AHEAD]], 1);
			int64_t v = s32 ? (s32[i] == NA32 ? CRM_NA : s32[i]) : s64 ? s64[i] : CRM_NA;
			dst[pos[i]] = v;
			down |= v < prev;
			prev = v;
		}
		if (p->check_order && hi > lo) {
			p->in_order = !down;
			p->first_v = s32 ? (s32[lo] == NA32 ? CRM_NA : s32[lo]) : s64 ? s64[lo] : CRM_NA;
			p->last_v = prev;
		}
	} else {
		uint32_t *dst = sc->dst;
		const uint32_t *src = sc->src;
		for (size_t i = lo; i < hi; i++) {
			if (i < ahead)
				__builtin_prefetch(&dst[pos[i + AHEAD]], 1);
			dst[pos[i]] = src ? src[i] : 0;
		}
	}
	return NULL;
}

/* Fills the output rows of the part's customers of one column from the
 * builder rows perm names. */
static void *gather_part(void *arg)
{
	const struct part *p = arg;
	const uint32_t *perm = p->perm;
	const struct scol *sc = &p->col;
	size_t lo = (size_t)p->start[p->lo], hi = (size_t)p->start[p->hi];
	size_t ahead = hi > AHEAD ? hi - AHEAD : 0;
	if (sc->kind == CRM_COL_I64) {
		int64_t *dst = sc->dst;
		const int32_t *s32 = sc->narrow ? sc->src : NULL;
		const int64_t *s64 = sc->narrow ? NULL : sc->src;
		for (size_t j = lo; j < hi; j++) {
			if (s32) {
				if (j < ahead)
					__builtin_prefetch(&s32[perm[j + AHEAD]]);
				dst[j] = s32[perm[j]] == NA32 ? CRM_NA : s32[perm[j]];
			} else if (s64) {
				if (j < ahead)
					__builtin_prefetch(&s64[perm[j + AHEAD]]);
				dst[j] = s64[perm[j]];
			} else {
				dst[j] = CRM_NA;
			}
		}
	} else {
		uint32_t *dst = sc->dst;
		const uint32_t *src = sc->src;
		for (size_t j = lo; j < hi; j++) {
			if (src && j < ahead)
				__builtin_prefetch(&src[perm[j + AHEAD]]);
			dst[j] = src ? src[perm[j]] : 0;
		}
	}
	return NULL;
}

static int cmp_trow_pos(const void *a, const void *b, void *ctx)
{
	const struct trow *x = a, *y = b;
	(void)ctx;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorts output rows lo..lo+n of the output columns by (time, position):
 * without key fields, the position (arrival order, the placing being stable)
 * breaks ties. tmp and scratch hold n. */
static void sort_placed(const struct part *p, size_t lo, size_t n, struct trow *tmp,
			int64_t *scratch)
{
	for (size_t i = 0; i < n; i++) {
		tmp[i].t = p->out_time[lo + i];
		tmp[i].row = (uint32_t)i;
	}
	qsort_r(tmp, n, sizeof *tmp, cmp_trow_pos, NULL);
	for (size_t k = 0; k < p->n_outs; k++) {
		const struct scol *sc = &p->outs[k];
		if (sc->kind == CRM_COL_I64) {
			int64_t *v = (int64_t *)sc->dst + lo;
			for (size_t i = 0; i < n; i++)
				scratch[i] = v[tmp[i].row];
			memcpy(v, scratch, n * sizeof *v);
		} else {
			uint32_t *v = (uint32_t *)sc->dst + lo, *s32 = (uint32_t *)scratch;
			for (size_t i = 0; i < n; i++)
				s32[i] = v[tmp[i].row];
			memcpy(v, s32, n * sizeof *v);
		}
	}
}

/* Puts the rows of each customer (bucket) of the part in (time, key) order.
 * With the time column laid out, most ranges are seen to be in order by
 * reading it straight through; the others are sorted: through perm when
 * there are key fields to compare (and their times laid out again), else
 * the output columns in place. */
static void *order_part(void *arg)
{
	struct part *p = arg;
	const struct btable *bt = p->bt;
	struct trow *tmp = NULL;
	int64_t *scratch = NULL;
	size_t max_range = 0;
	p->rc = 0;
	if (!p->perm && !p->out_time)
		return NULL;   /* no time, no keys: arrival order is the order */
	for (size_t c = p->lo; c < p->hi; c++)
		if (p->start[c + 1] - p->start[c] > max_range)
			max_range = (size_t)(p->start[c + 1] - p->start[c]);
	for (size_t c = p->lo; c < p->hi; c++) {
		size_t lo = (size_t)p->start[c], n = (size_t)(p->start[c + 1] - p->start[c]);
		if (n < 2)
			continue;
		if (p->out_time) {
			const int64_t *t = p->out_time + lo;
			const uint32_t *r = p->perm ? p->perm + lo : NULL;
			size_t i = 1;
			while (i < n && (t[i - 1] < t[i] ||
					 (t[i - 1] == t[i] && (!r || cmp_rows_key(bt, r[i - 1], r[i]) < 0))))
				i++;
			if (i == n)
				continue;
		}
		if (!tmp && !(tmp = xmallocn(max_range, sizeof *tmp))) {
			p->rc = -1;
			break;
		}
		if (!p->perm) {
			if (!scratch && !(scratch = xmallocn(max_range, sizeof *scratch))) {
				p->rc = -1;
				break;
			}
			sort_placed(p, lo, n, tmp, scratch);
			continue;
		}
		sort_range(bt, p->time, p->perm + lo, n, tmp);
		if (p->out_time)
			for (size_t j = lo; j < lo + n; j++)
				p->out_time[j] = bcol_i64(p->time, p->perm[j]);
	}
	free(tmp);
	free(scratch);
	return NULL;
}

static void *fill_part(void *arg)
{
	struct part *p = arg;
	for (size_t c = p->lo; c < p->hi; c++) {
		uint32_t id = c < p->n_customers ? (uint32_t)c : CRM_NO_CUSTOMER;
		for (uint64_t i = p->start[c]; i < p->start[c + 1]; i++)
			p->customer[i] = id;
	}
	return NULL;
}

/* Splits buckets 0..n_buckets-1 (bucket c holds rows start[c]..start[c+1])
 * into k parts of about equal rows: part j is buckets cut[j]..cut[j+1]. */
static void cut_buckets(const uint64_t *start, size_t n_buckets, size_t k, size_t *cut)
{
	uint64_t n = start[n_buckets];
	cut[0] = 0;
	for (size_t j = 1; j < k; j++) {
		uint64_t want = n * j / k;
		size_t lo = cut[j - 1], hi = n_buckets;
		while (lo < hi) {
			size_t m = lo + (hi - lo) / 2;
			if (start[m] < want)
				lo = m + 1;
			else
				hi = m;
		}
		cut[j] = lo;
	}
	cut[k] = n_buckets;
}

/* Lays out an event table without rows. */
static int finish_empty(struct btable *bt, size_t n_customers, struct crm_table *out)
{
	const struct ent_desc *d = bt->d;
	out->n = 0;
	out->customer = malloc(sizeof *out->customer);
	if (!out->customer)
		return -1;
	if (d->customer_field >= 0 &&
	    !(out->by_customer = calloc(n_customers + 1, sizeof *out->by_customer)))
		return -1;
	for (size_t f = 0; f < d->n_fields; f++) {
		struct bcol *c = &bt->col[f];
		/* a category's dictionary: "" and, for an enum, its values */
		if (c->kind == CRM_COL_CAT && finish_dict(c, 0, &out->col[f]) != 0)
			return -1;
		if (c->kind != CRM_COL_NONE && missing_col(c->kind, 0, &out->col[f]) != 0)
			return -1;
	}
	return 0;
}

/* Gives the storage of number or category column f of every source of bt
 * to the bin. */
static void release_column(struct btable *bt, size_t f, struct bin *bin)
{
	struct segment *sg = NULL;
	for (struct btable *t = bt; t; sg = sg ? sg->next : bt->segs, t = sg ? &sg->t : NULL) {
		struct bcol *c = &t->col[f];
		bin_put(bin, c->i64, t->n * sizeof *c->i64);
		bin_put(bin, c->i32, t->n * sizeof *c->i32);
		bin_put(bin, c->cat, t->n * sizeof *c->cat);
		c->i64 = NULL;
		c->i32 = NULL;
		c->cat = NULL;
	}
}

/* Moves number or category column f of the sources of bt into its output
 * column (n rows, memory from the bin): scattered to the rows' output rows
 * (parts over the sources), or gathered by perm (parts over the customers;
 * one source). release: the sources' storage then goes to the bin. */
static int move_column(struct btable *bt, size_t f, size_t n, struct part *parts,
		       size_t n_parts, int by_perm, int release, struct bin *bin,
		       struct crm_table *out)
{
	struct bcol *c = &bt->col[f];
	size_t size = c->kind == CRM_COL_I64 ? sizeof(int64_t) : sizeof(uint32_t);
	void *dst = n <= SIZE_MAX / size ? bin_take(bin, n * size) : NULL;
	if (!dst)
		return -1;
	out->col[f].kind = c->kind;
	if (c->kind == CRM_COL_I64)
		out->col[f].i64 = dst;
	else
		out->col[f].cat = dst;
	for (size_t j = 0; j < n_parts; j++) {
		const struct bcol *sc = by_perm ? c : &parts[j].rows->col[f];
		struct scol *m = &parts[j].col;
		m->kind = c->kind;
		m->narrow = sc->i32 != NULL;
		m->src = !sc->present ? NULL : c->kind == CRM_COL_CAT ? (const void *)sc->cat :
			 sc->i32 ? (const void *)sc->i32 : (const void *)sc->i64;
		m->dst = dst;
	}
	run_jobs(by_perm ? gather_part : scatter_part, parts, sizeof parts[0], n_parts);
	if (release)
		release_column(bt, f, bin);
	return 0;
}

/* Sorts event table bt (its rows, then its segments') into out: customers
 * (in the order `order` gives their provisional ids), then time, then key,
 * on k threads. A counting sort by customer places the rows (stably: in
 * arrival order within a customer); the number and category columns are
 * then moved one at a time, each into the memory of those moved before. */
static int finish_events(struct btable *bt, const uint32_t *order, size_t n_customers,
			 size_t k, struct bin *bin, struct crm_table *out)
{
	size_t nb = n_customers + 1;   /* buckets: customers, then none */
	const struct ent_desc *d = bt->d;
	struct part *parts = NULL;
	size_t cut[MAX_THREADS + 1], n_parts = 0;
	uint32_t *cnt = NULL, *perm = NULL;
	uint64_t *start = NULL;
	struct scol outs[CRM_MAX_FIELDS];
	size_t moved[CRM_MAX_FIELDS], n_moved = 0;
	int rc = -1;

	/* which builder row each output row came from is needed for text
	 * columns and to compare natural keys; without them, the position
	 * stands for the arrival order, and segments can stay apart */
	int need_perm = bt->seq != NULL;
	for (size_t f = 0; f < d->n_fields; f++)
		need_perm |= bt->col[f].kind == CRM_COL_STR && bt->col[f].present;
	for (const int *key = d->key; *key >= 0; key++)
		need_perm |= bt->col[*key].kind != CRM_COL_NONE && bt->col[*key].present;
	if ((need_perm || !table_simple(bt)) && flatten(bt) != 0)
		return -1;
	size_t n = all_rows(bt);
	if (n == 0)
		return finish_empty(bt, n_customers, out);
	out->n = n;
	if (n < PAR_MIN_ROWS)
		k = 1;
	for (size_t f = 0; f < d->n_fields; f++)
		if (bt->col[f].kind == CRM_COL_CAT &&
		    finish_dict(&bt->col[f], bt->n, &out->col[f]) != 0)
			goto done;

	/* the sources of rows, and parts of them: about k parts in all, one
	 * at least for each source. A source's share of k is rounded, not
	 * rounded up: two halves of a file read on two threads, one a row
	 * longer than the other, are two parts, not three (a third count
	 * array to clear and add up, a third thread on two cores). */
	size_t n_src = 1;
	for (struct segment *sg = bt->segs; sg; sg = sg->next)
		n_src++;
	if (k + n_src > MAX_PARTS) {
		if (flatten(bt) != 0)
			goto done;
		n_src = 1;
	}
	parts = xmallocn(k + n_src, sizeof *parts);
	if (!parts)
		goto done;
	struct segment *sg = NULL;
	for (size_t j = 0; j < n_src; j++, sg = sg ? sg->next : bt->segs) {
		struct btable *rows = sg ? &sg->t : bt;
		size_t m = (k * rows->n + n / 2) / n;
		if (m == 0)
			m = 1;
		for (size_t q = 0; q < m; q++) {
			struct part *p = &parts[n_parts++];
			memset(p, 0, sizeof *p);
			p->rows = rows;
			p->pid_of = sg ? sg->pid_of : NULL;
			p->bt = bt;
			p->lo = rows->n * q / m;
			p->hi = rows->n * (q + 1) / m;
			p->n_customers = n_customers;
		}
	}

	/* the columns moved: numbers and categories that have values in some
	 * source; the time column first */
	int tf = d->time_field;
	for (size_t g = 0; g < d->n_fields + 1; g++) {
		size_t f = g == 0 ? (size_t)tf : g - 1;
		if ((g == 0 && tf < 0) || (g > 0 && (int)f == tf))
			continue;
		struct bcol *c = &bt->col[f];
		if (c->kind != CRM_COL_I64 && c->kind != CRM_COL_CAT)
			continue;
		int present = c->present;
		for (const struct segment *h = bt->segs; h; h = h->next)
			present |= h->t.col[f].present;
		if (present)
			moved[n_moved++] = f;
	}
	int with_time = tf >= 0 && n_moved > 0 && moved[0] == (size_t)tf &&
			bt->col[tf].kind == CRM_COL_I64;

	/* count the rows of each customer in each part; turn the counts into
	 * each part's first output row, customers in `order`, parts in file
	 * order; place */
	if (n_parts * nb > SIZE_MAX / sizeof *start || n > SIZE_MAX / sizeof *perm)
		goto done;
	start = bin_take(bin, (nb + 1) * sizeof *start);
	cnt = bin_take(bin, n_parts * nb * sizeof *cnt);
	perm = need_perm ? bin_take(bin, n * sizeof *perm) : NULL;
	if (!cnt || !start || (need_perm && !perm))
		goto done;
	for (size_t j = 0; j < n_parts; j++) {
		parts[j].cnt = cnt + j * nb;
		parts[j].perm = perm;
	}
	run_jobs(count_part, parts, sizeof parts[0], n_parts);
	crm_trace("layout: count_part");
	uint64_t pos = 0;
	for (size_t c = 0; c < nb; c++) {
		size_t id = c < n_customers ? order[c] : n_customers;
		start[c] = pos;
		for (size_t j = 0; j < n_parts; j++) {
			uint32_t x = cnt[j * nb + id];
			cnt[j * nb + id] = (uint32_t)pos;
			pos += x;
		}
	}
	start[nb] = pos;
	run_jobs(place_part, parts, sizeof parts[0], n_parts);
	crm_trace("layout: place_part");
	bin_put(bin, cnt, n_parts * nb * sizeof *cnt);
	cnt = NULL;

	/* without perm, scatter each column, then order the rows of each
	 * customer; with perm, lay out the times, order perm, then gather
	 * each other column in that order */
	size_t first = 0;
	int in_order = 0;   /* every customer's rows are in order as placed */
	if (!perm) {
		for (size_t j = 0; j < n_parts; j++) {
			parts[j].check_order = with_time;
			parts[j].in_order = 1;
		}
		for (size_t i = 0; i < n_moved; i++) {
			if (move_column(bt, moved[i], n, parts, n_parts, 0, 1, bin, out) != 0)
				goto done;
			for (size_t j = 0; j < n_parts; j++)
				parts[j].check_order = 0;
		}
		first = n_moved;
		crm_trace("layout: scatter_part");
		/* times that never go down in file order (a log written as it
		 * happened, as most are) leave each customer's rows, placed in
		 * file order, in time order: nothing to sort or even check. The
		 * parts are in file order; empty ones say nothing. */
		in_order = with_time;
		int64_t last = INT64_MIN;
		for (size_t j = 0; j < n_parts && in_order; j++) {
			if (parts[j].hi == parts[j].lo)
				continue;
			in_order = parts[j].in_order && parts[j].first_v >= last;
			last = parts[j].last_v;
		}
	}
	/* from here, parts are parts of the customers */
	cut_buckets(start, nb, k, cut);
	for (size_t j = 0; j < k; j++) {
		struct part *p = &parts[j];
		p->lo = cut[j];
		p->hi = cut[j + 1];
		p->start = start;
		p->perm = perm;
		p->time = NULL;
		p->out_time = NULL;
	}
	if (perm && with_time) {
		if (move_column(bt, (size_t)tf, n, parts, k, 1, 0, bin, out) != 0)
			goto done;
		first = 1;
	}
	for (size_t i = 0; i < n_moved; i++) {
		outs[i].kind = bt->col[moved[i]].kind;
		outs[i].dst = outs[i].kind == CRM_COL_I64 ? (void *)out->col[moved[i]].i64 :
			      (void *)out->col[moved[i]].cat;
	}
	for (size_t j = 0; j < k; j++) {
		struct part *p = &parts[j];
		p->outs = outs;
		p->n_outs = perm ? 0 : n_moved;
		p->time = perm && with_time ? &bt->col[tf] : NULL;
		p->out_time = with_time ? out->col[tf].i64 : NULL;
	}
	if (!in_order)
		run_jobs(order_part, parts, sizeof parts[0], k);
	crm_trace("layout: order_part");
	for (size_t j = 0; j < k; j++)
		if (parts[j].rc != 0)
			goto done;
	if (perm && with_time)
		release_column(bt, (size_t)tf, bin);
	for (size_t i = first; i < n_moved; i++)
		if (move_column(bt, moved[i], n, parts, k, 1, 1, bin, out) != 0)
			goto done;
	if (perm)
		crm_trace("layout: gather_part");

	/* the rest: text gathered in the final order, columns without values */
	for (size_t f = 0; f < d->n_fields; f++) {
		struct bcol *c = &bt->col[f];
		if (c->kind == CRM_COL_NONE || out->col[f].kind != CRM_COL_NONE)
			continue;
		if (!c->present) {
			/* a projection asked for it, but no file has it: a column of
			 * CRM_NA, or of code 0, would cost 8 or 4 bytes a row for
			 * nothing, and each of its pages a fault when read
			 * (crmscope.h) */
			if (bt->projected && (c->kind == CRM_COL_I64 || c->kind == CRM_COL_CAT)) {
				strs_fini(&out->col[f].dict);
				continue;
			}
			if (missing_col(c->kind, n, &out->col[f]) != 0)
				goto done;
		} else if (c->kind == CRM_COL_STR) {
			if (gather_str(c, perm, n, bin, &out->col[f]) != 0)
				goto done;
		}
	}
	bin_put(bin, perm, n * sizeof *perm);
	perm = NULL;
	for (size_t f = 0; f < d->n_fields; f++)
		bcol_fini(&bt->col[f]);

	/* the customer of each row, from the bucket starts, in the memory of
	 * the builder's customer columns, which are no longer needed */
	struct segment *g = NULL;
	for (struct btable *t = bt; t; g = g ? g->next : bt->segs, t = g ? &g->t : NULL) {
		bin_put(bin, t->cust, t->n * sizeof *t->cust);
		t->cust = NULL;
	}
	out->customer = bin_take(bin, n * sizeof *out->customer);
	if (!out->customer)
		goto done;
	for (size_t j = 0; j < k; j++)
		parts[j].customer = out->customer;
	run_jobs(fill_part, parts, sizeof parts[0], k);
	crm_trace("layout: fill_part");
	if (d->customer_field >= 0) {
		/* the first n_customers + 1 starts are the offsets (crmscope.h) */
		out->by_customer = start;
		start = NULL;
	}
	rc = 0;
done:
	free(parts);
	free(cnt);
	free(perm);
	free(start);
	return rc;
}

/* Moves column c of the customers table into out in the row order src
 * (n_out rows, NO_ROW: missing) and releases c's storage. */
static int gather_rows(struct bcol *c, const uint32_t *src, size_t n_out,
		       struct bin *bin, struct crm_column *out)
{
	if (!c->present)
		return missing_col(c->kind, n_out, out);
	if (c->kind == CRM_COL_STR)
		return gather_str(c, src, n_out, bin, out);
	out->kind = c->kind;
	if (n_out > SIZE_MAX / sizeof(int64_t))
		return -1;
	if (c->kind == CRM_COL_I64) {
		int64_t *v = bin_take(bin, (n_out ? n_out : 1) * sizeof *v);
		if (!v)
			return -1;
		for (size_t i = 0; i < n_out; i++)
			v[i] = src[i] == NO_ROW ? CRM_NA : bcol_i64(c, src[i]);
		out->i64 = v;
	} else {
		uint32_t *v = bin_take(bin, (n_out ? n_out : 1) * sizeof *v);
		if (!v)
			return -1;
		for (size_t i = 0; i < n_out; i++)
			v[i] = src[i] == NO_ROW ? 0 : c->cat[src[i]];
		out->cat = v;
	}
	bcol_fini(c);
	return 0;
}

/* Lays out the customers table: row c is dense customer c. */
/* A part [lo, hi) of the customers of finish_customers. */
struct cust_part {
	const struct ds_builder *b;
	const uint32_t *order;
	uint32_t *src;
	struct crm_dataset *ds;
	size_t lo, hi;
};

/* Each customer's row of the customers table (src), its customer column
 * and whether it is a stub; the builder's state is read at random. */
static void *cust_part_fill(void *arg)
{
	const struct cust_part *p = arg;
	const uint32_t *order = p->order;
	uint32_t *customer = p->ds->t[CRM_CUSTOMERS].customer;
	for (size_t c = p->lo; c < p->hi; c++) {
		if (c + AHEAD < p->hi) {
			__builtin_prefetch(&p->b->cust_row[order[c + AHEAD]]);
			__builtin_prefetch(&p->b->cust_state[order[c + AHEAD]]);
		}
		p->src[c] = p->b->cust_row[order[c]];
		customer[c] = (uint32_t)c;
		p->ds->is_stub[c] = (p->b->cust_state[order[c]] & CUST_LEVEL) != CUST_RECORD;
	}
	return NULL;
}

static int finish_customers(struct ds_builder *b, const uint32_t *order, struct bin *bin,
			    struct crm_dataset *ds)
{
	size_t n = ds->n_customers;
	struct btable *bt = &b->t[CRM_CUSTOMERS];
	struct crm_table *out = &ds->t[CRM_CUSTOMERS];
	uint32_t *src = NULL;
	struct bcol ids;
	int rc = -1;
	memset(&ids, 0, sizeof ids);
	out->n = n;
	if (n > SIZE_MAX / sizeof *src)
		goto done;
	src = bin_take(bin, (n ? n : 1) * sizeof *src);
	out->customer = bin_take(bin, (n ? n : 1) * sizeof *out->customer);
	ds->is_stub = bin_take(bin, n ? n : 1);
	if (!src || !out->customer || !ds->is_stub)
		goto done;
	struct cust_part parts[MAX_THREADS];
	size_t k = n < PAR_MIN_ROWS ? 1 : n_cores();
	for (size_t j = 0; j < k; j++)
		parts[j] = (struct cust_part){ b, order, src, ds, n * j / k, n * (j + 1) / k };
	run_jobs(cust_part_fill, parts, sizeof parts[0], k);
	/* customer_id comes from the customer map, so stubs have theirs too */
	ids.kind = CRM_COL_STR;
	ids.field = &bt->d->fields[CRM_C_CUSTOMER_ID];
	ids.present = 1;
	ids.str = b->cust.keys;
	strs_init(&b->cust.keys);
	if (gather_str(&ids, order, n, bin, &out->col[CRM_C_CUSTOMER_ID]) != 0)
		goto done;
	for (size_t f = 0; f < bt->d->n_fields; f++) {
		struct bcol *c = &bt->col[f];
		if (c->kind == CRM_COL_CAT && finish_dict(c, bt->n, &out->col[f]) != 0)
			goto done;
		if (c->kind != CRM_COL_NONE && gather_rows(c, src, n, bin, &out->col[f]) != 0)
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
	uint32_t *order = NULL;
	struct bin bin = b->spare;   /* the bin starts with the merged maps */
	b->spare.n = 0;
	size_t n = b->cust.n;
	int rc = CRM_ENOMEM;
	if (!ds || resolve_held(b) != 0)
		goto done;
	n = b->cust.n;
	ds->n_customers = n;
	ds->first_at = b->hi_at == INT64_MIN ? CRM_NA : b->lo_at;
	ds->last_at = b->hi_at == INT64_MIN ? CRM_NA : b->hi_at;
	order = xmallocn(n ? n : 1, sizeof *order);
	if (!order || customer_order(&b->cust, order) != 0)
		goto done;
	/* the map's parts are not needed past here (its keys are): their
	 * memory is the first to be used again. The event tables are laid out
	 * before the customers table, so that the customers table is made in
	 * the memory the builder's event columns leave. */
	bin_put(&bin, b->cust.slots, b->cust.cap * sizeof *b->cust.slots);
	b->cust.slots = NULL;
	bin_put(&bin, b->cust.by_value, b->cust.n_values * sizeof *b->cust.by_value);
	b->cust.by_value = NULL;
	size_t k = n_cores();
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		if (e == CRM_CUSTOMERS)
			continue;
		struct btable *bt = &b->t[e];
		if (finish_events(bt, order, n, k, &bin, &ds->t[e]) != 0)
			goto done;
		btable_fini(bt);
	}
	crm_trace("events laid out");
	if (finish_customers(b, order, &bin, ds) != 0)
		goto done;
	crm_trace("customers laid out");
	rc = CRM_OK;
done:
	bin_free(&bin);
	free(order);
	ds_builder_free(b);
	if (rc != CRM_OK) {
		crm_dataset_free(ds);
		return crm_err_set(err, rc, "dataset: out of memory laying out %zu customers",
				   n);
	}
	*out = ds;
	return CRM_OK;
}
