/* store.c - the SQLite system of record: opening, batched writes, scans and
 * statistics (store layer). The schema and its migrations are in schema.c;
 * every statement here is generated from the entity schema as well, so a
 * field is named in one place (core/entity.c). A bulk import drops its
 * indexes, finds repeated keys itself and hands its INSERTs to a second
 * thread ("pipelined writes" below); everything else is row by row. */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strmap.h"
#include "core/trace.h"
#include "schema.h"
#include "store_int.h"

#define BUSY_TIMEOUT_MS 10000
#define DEFAULT_BATCH_ROWS 10000
#define CACHE_KIB 131072        /* page cache up to 128 MiB: bulk inserts stay in memory */
/* New databases: 16 KiB pages made bulk order inserts about 15% faster than
 * 4 KiB ones (fewer pages per row appended, shallower B-trees). */
#define NEW_DB_PAGE_SIZE 16384
/* A bulk import drops the (cid, time) index once it has inserted this many
 * rows, and at least half as many as the table had, and rebuilds it in its
 * last transaction: one sort instead of a B-tree insert at a random place
 * per row. Measured on 1M orders of 150k customers: about 170k rows/s with
 * the index kept up, 340k rows/s with the rebuild. */
#define DEFER_INDEX_MIN_ROWS 20000
/* The page cache while an index is built. SQLite's sorter sorts runs of
 * the cache's size in memory and merges them: small runs stay in the CPU
 * caches, and 4 MiB made CREATE INDEX on 10M orders 4x faster than 128 MiB
 * (4.4 s against 17 s). For the same reason temp_store stays FILE: with
 * MEMORY the sorter's runs live in slow in-memory journals. */
#define INDEX_BUILD_CACHE_KIB 4096
/* Helper threads of SQLite's sorter while indexes are built at the end of a
 * bulk import, when the pipe's thread (below) is idle. Measured on two
 * cores, both indexes of 10M orders: 6.4-6.6 s against 8.8-10.7 s with
 * none; on 1M orders the difference is within the noise. */
#define INDEX_BUILD_THREADS 2
/* The same bulk import also drops the natural key's UNIQUE index when the
 * key is one text field (orders, interactions, tickets, leads, feedback),
 * finds repeated keys itself (see struct keyset) and builds the index again
 * at the end. Measured on 1M orders: the index insert, with its conflict
 * check, cost about 0.5 us a row (0.9 us at 10M rows), the build at the end
 * 0.25 us. Row ids must then fit in 32 bits; past that the index is built
 * again at once and kept up row by row. */

/* FK_BY_MAP: a writer of an entity that names customers turns SQLite's
 * foreign key checks off while it alone has written since it loaded its
 * customer map. Every cid it stores comes from that map (customers it
 * loaded, or stubs it inserted in the same transaction), and each batch
 * holds the write lock from the check of PRAGMA data_version at its start
 * to its commit, so no reference can point nowhere; the check SQLite would
 * make is a B-tree lookup per row that finds what the map already found.
 * Once another connection has committed (a merge may have removed a
 * customer the map still names), the writer commits the batch it just
 * began, turns the checks on and goes on with SQLite checking every row,
 * as before. Measured on 1M orders of 157k customers: 2.0-2.8 s with the
 * checks, 1.7-1.8 s without. */
#define FK_BY_MAP 1

struct st_db {
	sqlite3 *db;
	char *path;       /* for messages */
	int read_only;    /* opened with ST_OPEN_READ */
	int writing;      /* 1 while a writer is open on it */
};

/* ------------------------------------------------------------- helpers */

static int status_of(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_NOMEM: return CRM_ENOMEM;
	case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN: return CRM_EIO;
	case SQLITE_NOTADB: return CRM_ESCHEMA;
	default: return CRM_EDB;
	}
}

/* Reports the connection's last SQLite error, saying what was being done. */
static int db_fail(const struct st_db *s, int sqlite_rc, const char *what,
		   struct crm_err *err)
{
	return crm_err_set(err, status_of(sqlite_rc), "%s: %s: %s", s->path, what,
			   sqlite3_errmsg(s->db));
}

static int prepare(struct st_db *s, const char *sql, sqlite3_stmt **st,
		   struct crm_err *err)
{
	int src = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (src != SQLITE_OK)
		return crm_err_set(err, status_of(src), "%s: preparing \"%.200s\": %s",
				   s->path, sql, sqlite3_errmsg(s->db));
	return CRM_OK;
}

/* Runs a statement that returns one row and reads its first n columns as
 * integers into out (NULL gives na). */
static int query_row_i64(struct st_db *s, const char *sql, int64_t na, int64_t *out,
			 int n, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, sql, &st, err);
	if (rc)
		goto done;
	int src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = db_fail(s, src, sql, err);
		goto done;
	}
	for (int i = 0; i < n; i++)
		out[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? na : sqlite3_column_int64(st, i);
done:
	sqlite3_finalize(st);
	return rc;
}

/* Runs a statement that returns one integer (NULL gives na). */
static int query_i64(struct st_db *s, const char *sql, int64_t na, int64_t *out,
		     struct crm_err *err)
{
	return query_row_i64(s, sql, na, out, 1, err);
}

static int exec(struct st_db *s, const char *sql, struct crm_err *err)
{
	int src = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return src == SQLITE_OK ? CRM_OK : db_fail(s, src, sql, err);
}

/* --------------------------------------------------------------- open */

/* SQLite counts every allocation under a global mutex unless told not to
 * before it initializes; the count serves sqlite3_memory_used() and heap
 * limits, which crmscope does not use. Measured: 5-8% of the time of the
 * thread that inserts. Too late (SQLite already initialized by the program)
 * is harmless. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int st_open(const char *path, int mode, struct st_db **out, struct crm_err *err)
{
	struct st_db *s = NULL;
	int rc = CRM_OK, version = 0;
	*out = NULL;
	if (!path || mode < ST_OPEN_READ || mode > ST_OPEN_CREATE)
		return crm_err_set(err, CRM_EINVAL, "st_open: no path or unknown mode %d", mode);
	if (mode != ST_OPEN_CREATE) {
		struct stat sb;
		if (stat(path, &sb) != 0)
			return crm_err_set(err, errno == ENOENT ? CRM_ENOTFOUND : CRM_EIO,
					   "%s: %s", path, strerror(errno));
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	s->read_only = mode == ST_OPEN_READ;
	pthread_once(&sqlite_once, sqlite_setup);
	/* a handle is used by one thread at a time (a writer's own second thread
	 * takes turns with it): no SQLite mutexes */
	int flags = SQLITE_OPEN_NOMUTEX |
		(s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		(mode == ST_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
	int src = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (src != SQLITE_OK) {
		rc = s->db ? db_fail(s, src, "opening", err) :
			crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	char pragmas[160];
	snprintf(pragmas, sizeof pragmas,
		 "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
		 " PRAGMA cache_size = -%d;", CACHE_KIB);
	rc = exec(s, pragmas, err);
	if (rc)
		goto done;
	/* takes effect only on a new, empty database (before any table) */
	if (mode == ST_OPEN_CREATE) {
		snprintf(pragmas, sizeof pragmas, "PRAGMA page_size = %d", NEW_DB_PAGE_SIZE);
		rc = exec(s, pragmas, err);
		if (rc)
			goto done;
	}
	rc = st_migrate(s->db, path, s->read_only, &version, err);
	if (rc)
		goto done;
	/* after the identity check, so that another program's file is not
	 * turned to WAL; a database stays in WAL once set */
	if (!s->read_only)
		rc = exec(s, "PRAGMA journal_mode = WAL", err);
	/* an index dropped by a bulk import that was killed */
	if (!rc && !s->read_only)
		rc = st_ensure_indexes(s->db, path, err);
done:
	if (rc) {
		st_close(s);
		return rc;
	}
	*out = s;
	return CRM_OK;
}

int st_db_conn(struct st_db *s, int for_write, sqlite3 **db, const char **path,
	       struct crm_err *err)
{
	if (!s)
		return crm_err_set(err, CRM_EINVAL, "no database");
	if (for_write && s->read_only)
		return crm_err_set(err, CRM_EINVAL, "%s: opened read-only: cannot change it",
				   s->path);
	if (for_write && s->writing)
		return crm_err_set(err, CRM_EINVAL, "%s: a writer is open on this handle",
				   s->path);
	*db = s->db;
	*path = s->path;
	return CRM_OK;
}

void st_close(struct st_db *s)
{
	if (!s)
		return;
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

/* ------------------------------------------------------------- writer */

/* Parameter numbers shared by the writer's statements, so that one bind
 * function serves them all: field f is ?(f + 1), then these. */
#define P_SEQ(d) ((int)(d)->n_fields + 1)
#define P_IMPORT(d) ((int)(d)->n_fields + 2)
#define P_ROW(d) ((int)(d)->n_fields + 3)

/* flags of a customer_id in the map; ID_SEEN: an alias given as a customers
 * record in this import */
enum { ID_ALIAS = 1, ID_STUB = 2, ID_SEEN = 4 };

/* The natural keys of a table whose key index is dropped, so that a
 * repeated key is still found: open addressing over 64-bit slots holding
 * 32 bits of the key's hash (strmap_hash >> 32; the low bits of those pick
 * the home slot) and the 32-bit row id of the row with that key; 0 is an
 * empty slot (row ids start at 1). A slot whose hash bits match is checked
 * against the row's stored key, so the answer is exact; 8 bytes a key
 * (at most 16 with the table half full), against the B-tree insert per row
 * that the index costs. */
struct keyset {
	uint64_t *slot;             /* cap slots */
	size_t n, cap;              /* keys; cap a power of two, n <= cap * 3 / 4 */
};

struct pipe;

struct st_writer {
	struct st_db *s;
	const struct ent_desc *d;
	int entity;
	int upsert, strict;
	int64_t import_id;          /* imports row of this run */
	char source[256];           /* the input's name, for messages */
	size_t batch_rows;          /* rows per transaction */
	size_t in_batch;            /* rows given since the last commit */
	int in_txn;                 /* a batch transaction is open */
	int failed;                 /* a database error happened: only abort is left */
	int index_dropped;          /* the (cid, time) index is dropped until finish */
	int key_field;              /* the natural key's one text field, or -1: not deferrable */
	int key_deferred;           /* the natural key index is dropped until finish, and
	                               keys holds the key of every row of the table */
	struct keyset keys;
	int64_t keys_max_rid;       /* largest row id in keys */
	int64_t keys_rows;          /* rows of the table as keys knows them */
	int64_t data_version;       /* PRAGMA data_version when the customer map was
	                               loaded, then at the last batch's start */
	int key_checked;            /* check_others looked for the key index once */
	int64_t rows_at_start;      /* max row id when the writer began: the table's size */
	sqlite3_stmt *begin, *commit;
	sqlite3_stmt *ins;          /* INSERT ... ON CONFLICT DO NOTHING */
	sqlite3_stmt *find;         /* row id and import_id by natural key */
	sqlite3_stmt *upd;          /* UPDATE by row id (upsert; a stub filled) */
	sqlite3_stmt *stub;         /* INSERT a stub customer */
	sqlite3_stmt *find_cust;    /* cid and is_stub by customer_id */
	sqlite3_stmt *key_of;       /* natural key and import_id by row id (key_field >= 0) */
	sqlite3_stmt *data_ver;     /* PRAGMA data_version */
	int has_ids;                /* ids is loaded (entities that name customers) */
	int has_aliases;            /* ids holds an alias: rows stored through one are
	                               noted in alias_rows (see note_alias) */
	sqlite3_stmt *alias_note;   /* alias_rows: this row came through this alias */
	sqlite3_stmt *alias_forget; /* alias_rows: it no longer does (upsert) */
	struct strmap ids;          /* customer_id and aliases -> cid */
	uint8_t *id_flags;          /* ID_ALIAS | ID_STUB by key index of ids */
	int ids_sparse;             /* 0: the cid of key index k is k + 1 (customers
	                               loaded and made in cid order, no gap, no
	                               alias), so a lookup need not read values */
	size_t id_flags_cap;
	uint8_t *dup_seen;          /* bit per row id: reported ST_DUPLICATE in this import */
	size_t dup_seen_bytes;
	int64_t n_out[ST_UNKNOWN_REF + 1]; /* outcomes so far */
	int64_t n_stubs;            /* stub customers created */
	struct pipe *pipe;          /* the writing thread, once started (see pipe_start) */
	int piped;                  /* records go through the pipe now */
	int fk_off;                 /* foreign keys are off on the connection (see
	                               FK_BY_MAP); writer_free turns them on again */
	int others_wrote;           /* another connection committed since the customer
	                               map was loaded: it may lack customers, so no
	                               piping (a stub's cid must be max + 1) */
	int64_t next_rid;           /* piped: the row id of the next row */
	int64_t next_cid;           /* piped: the cid of the next stub customer */
};

static int is_text(int type)
{
	return type == FT_ID || type == FT_TEXT || type == FT_CAT || type == FT_ENUM;
}

/* The text to store for value v of field fd, or NULL for SQL NULL. */
static const char *value_text(const struct ent_field *fd, const struct ent_value *v,
			      size_t *n)
{
	if (fd->type == FT_ENUM && v->n == 0 && fd->values && v->i >= 1) {
		/* a code without its text: the list gives it */
		for (int64_t k = 0; fd->values[k]; k++)
			if (k == v->i - 1) {
				*n = strlen(fd->values[k]);
				return fd->values[k];
			}
		return NULL;
	}
	*n = v->n;
	return v->s ? v->s : "";
}

/* Binds the record's values to every parameter st has: ?(f+1) field f (the
 * FT_REF field as cid, -1 for NULL), then seq, import_id and row id. Text is
 * SQLITE_STATIC: the statement is stepped and reset before rec changes. */
static int bind_record(struct st_writer *w, sqlite3_stmt *st,
		       const struct ent_record *rec, int64_t cid, int64_t row_id)
{
	const struct ent_desc *d = w->d;
	int np = sqlite3_bind_parameter_count(st), src = SQLITE_OK;
	for (size_t f = 0; f < d->n_fields && (int)f < np && src == SQLITE_OK; f++) {
		const struct ent_field *fd = &d->fields[f];
		const struct ent_value *v = &rec->v[f];
		int p = (int)f + 1;
		if (fd->type == FT_REF) {
			src = cid < 0 ? sqlite3_bind_null(st, p) : sqlite3_bind_int64(st, p, cid);
		} else if (!v->set) {
			src = sqlite3_bind_null(st, p);
		} else if (is_text(fd->type)) {
			size_t n = 0;
			const char *t = value_text(fd, v, &n);
			/* lengths were checked against INT_MAX by check_record */
			src = t ? sqlite3_bind_text(st, p, t, (int)n, SQLITE_STATIC) :
				sqlite3_bind_null(st, p);
		} else {
			src = sqlite3_bind_int64(st, p, v->i);
		}
	}
	if (src == SQLITE_OK && P_SEQ(d) <= np)
		src = sqlite3_bind_int64(st, P_SEQ(d), rec->seq);
	if (src == SQLITE_OK && P_IMPORT(d) <= np)
		src = sqlite3_bind_int64(st, P_IMPORT(d), w->import_id);
	if (src == SQLITE_OK && P_ROW(d) <= np)
		src = sqlite3_bind_int64(st, P_ROW(d), row_id);
	return src;
}

/* Runs a bound statement that returns no row, and resets it. */
static int run(struct st_writer *w, sqlite3_stmt *st, int bind_rc, const char *what,
	       struct crm_err *err)
{
	int src = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
	sqlite3_reset(st);
	if (src != SQLITE_DONE && src != SQLITE_OK)
		return db_fail(w->s, src, what, err);
	return CRM_OK;
}

/* ----------------------------------------------------- pipelined writes
 * A bulk import with its key index dropped knows each record's outcome
 * without asking SQLite: keys finds repeated keys, the customer map finds
 * customers, and the row ids of new rows and cids of new stubs are the
 * table's max + 1 onwards, as SQLite would give them (the batch holds the
 * write lock, and a batch that finds another connection's writes stops
 * piping). So st_put answers at once and hands the INSERTs to a second
 * thread through a ring of copied records, while the caller's thread reads
 * and checks the next rows: on two cores the import takes about the time
 * of SQLite's inserts alone. The connection is used by one thread at a
 * time: the caller's thread uses it only when the ring is empty (to start
 * and commit batches, and to check a key against a stored row). A failed
 * INSERT is reported by the next st_put, or by finish, and the writer is
 * then failed as after any database error: the open batch is rolled back. */

enum { OP_ROW, OP_STUB };

#define RING_OPS 1024           /* records in flight (a power of two) */
#define OP_TEXT 160             /* text bytes a slot holds; more go to big */
/* Rows name only the fields they have, so that absent ones cost neither a
 * bind nor a VDBE instruction: an INSERT per set of fields, a few kept. */
#define PIPE_STMTS 4

struct op {
	int kind;                   /* OP_ROW: a row of the entity; OP_STUB: a stub customer */
	uint32_t mask;              /* OP_ROW: the fields it has (bit f: field f) */
	int64_t id;                 /* its row id (rid, or cid of the stub) */
	int64_t cid;                /* OP_ROW: the customer's cid, -1 for NULL */
	struct ent_record rec;      /* OP_ROW: the record (n_fields values), its text in
	                               text or big; OP_STUB: v[0] is the customer_id */
	char *big;                  /* text that does not fit in text (owned, kept for reuse) */
	size_t big_cap;
	char text[OP_TEXT];
};

struct pipe {
	pthread_t thread;
	pthread_mutex_t mu;         /* only for sleeping and waking */
	pthread_cond_t work;        /* the worker waits for records */
	pthread_cond_t room;        /* the caller waits for free slots */
	struct op *ops;             /* RING_OPS slots: record k is in ops[k % RING_OPS] */
	_Atomic size_t head;        /* records handed over (the caller writes it) */
	_Atomic size_t tail;        /* records done (the worker writes it) */
	_Atomic int worker_waits;   /* the worker sleeps on work */
	_Atomic size_t caller_wants; /* the caller sleeps on room until this many
	                               slots are free (0: it does not sleep) */
	_Atomic int stop;           /* the worker ends once the ring is empty */
	_Atomic int failed;         /* an INSERT failed (err says why): the rest are skipped */
	struct crm_err err;         /* written by the worker before failed */
	struct {
		uint32_t mask;          /* the fields it names (bit f: field f) */
		sqlite3_stmt *st;       /* INSERT of those fields, import_id bound */
		uint64_t used;          /* clock at its last use */
	} ins[PIPE_STMTS];          /* the worker's INSERTs, by the fields a row has */
	uint64_t clock;
	sqlite3_stmt *stub;         /* INSERT of a stub customer, import_id bound */
};

/* The worker's INSERT of the fields in mask, prepared on first use (the
 * least recently used of PIPE_STMTS goes). NULL: *src says why. */
static sqlite3_stmt *pipe_ins(struct st_writer *w, uint32_t mask, int *src)
{
	const struct ent_desc *d = w->d;
	struct pipe *p = w->pipe;
	struct buf sql;
	size_t lru = 0;
	p->clock++;
	for (size_t i = 0; i < PIPE_STMTS; i++) {
		if (p->ins[i].st && p->ins[i].mask == mask) {
			p->ins[i].used = p->clock;
			return p->ins[i].st;
		}
		if (p->ins[i].used < p->ins[lru].used)
			lru = i;
	}
	sqlite3_finalize(p->ins[lru].st);
	p->ins[lru].st = NULL;
	p->ins[lru].used = p->clock;
	p->ins[lru].mask = mask;
	buf_init(&sql);
	*src = SQLITE_NOMEM;
	if (buf_puts(&sql, "INSERT INTO ") || st_put_ident(&sql, d->name) || buf_putc(&sql, '('))
		goto done;
	for (size_t f = 0; f < d->n_fields; f++)
		if ((mask >> f & 1) && (st_put_ident(&sql, st_col_name(d, f)) || buf_puts(&sql, ", ")))
			goto done;
	if (buf_puts(&sql, "import_id) VALUES("))
		goto done;
	for (size_t f = 0; f < d->n_fields; f++)
		if ((mask >> f & 1) && buf_printf(&sql, "?%zu, ", f + 1))
			goto done;
	if (buf_printf(&sql, "?%d)", P_IMPORT(d)))
		goto done;
	*src = sqlite3_prepare_v3(w->s->db, sql.p, -1, SQLITE_PREPARE_PERSISTENT,
				  &p->ins[lru].st, NULL);
	if (*src == SQLITE_OK)
		*src = sqlite3_bind_int64(p->ins[lru].st, P_IMPORT(d), w->import_id);
done:
	buf_fini(&sql);
	return *src == SQLITE_OK ? p->ins[lru].st : NULL;
}

/* Binds the fields of row o that its INSERT names. */
static int bind_row(const struct st_writer *w, sqlite3_stmt *st, const struct op *o)
{
	const struct ent_desc *d = w->d;
	int src = SQLITE_OK;
	for (size_t f = 0; f < d->n_fields && src == SQLITE_OK; f++) {
		const struct ent_field *fd = &d->fields[f];
		const struct ent_value *v = &o->rec.v[f];
		int prm = (int)f + 1;
		size_t n = 0;
		if (!(o->mask >> f & 1))
			continue;
		if (fd->type == FT_REF)
			src = sqlite3_bind_int64(st, prm, o->cid);
		else if (is_text(fd->type)) {
			const char *t = value_text(fd, v, &n);
			src = sqlite3_bind_text(st, prm, t, (int)n, SQLITE_STATIC);
		} else
			src = sqlite3_bind_int64(st, prm, v->i);
	}
	return src;
}

/* Runs one record's INSERT (on the worker). SQLite gives the row id (or
 * cid) that the caller's thread already gave out: max + 1, checked. */
static void op_run(struct st_writer *w, struct op *o)
{
	struct pipe *p = w->pipe;
	sqlite3_stmt *st = p->stub;
	int src = SQLITE_OK;
	if (o->kind == OP_ROW) {
		st = pipe_ins(w, o->mask, &src);
		if (st)
			src = bind_row(w, st, o);
	} else {
		src = sqlite3_bind_text(st, 1, o->rec.v[0].s, (int)o->rec.v[0].n, SQLITE_STATIC);
	}
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		crm_err_set(&p->err, status_of(src), "%s: %s:%ld: %s: %s", w->s->path, w->source,
			    o->rec.line, o->kind == OP_ROW ? "inserting" : "creating a stub customer",
			    sqlite3_errmsg(w->s->db));
		atomic_store(&p->failed, 1);
	} else if (sqlite3_last_insert_rowid(w->s->db) != o->id) {
		crm_err_set(&p->err, CRM_EDB, "%s: %s:%ld: %s: stored as row %lld, not %lld as"
			    " expected", w->s->path, w->source, o->rec.line,
			    o->kind == OP_ROW ? w->d->name : "customers",
			    (long long)sqlite3_last_insert_rowid(w->s->db), (long long)o->id);
		atomic_store(&p->failed, 1);
	}
	if (st)
		sqlite3_reset(st);
}

static void *pipe_worker(void *arg)
{
	struct st_writer *w = arg;
	struct pipe *p = w->pipe;
	size_t t = atomic_load(&p->tail);
	for (;;) {
		if (t == atomic_load(&p->head)) {
			pthread_mutex_lock(&p->mu);
			atomic_store(&p->worker_waits, 1);
			while (t == atomic_load(&p->head) && !atomic_load(&p->stop))
				pthread_cond_wait(&p->work, &p->mu);
			atomic_store(&p->worker_waits, 0);
			int end = t == atomic_load(&p->head);
			pthread_mutex_unlock(&p->mu);
			if (end)
				return NULL;
		}
		if (!atomic_load_explicit(&p->failed, memory_order_relaxed))
			op_run(w, &p->ops[t & (RING_OPS - 1)]);
		atomic_store(&p->tail, ++t);
		size_t want = atomic_load(&p->caller_wants);
		if (want && RING_OPS - (atomic_load(&p->head) - t) >= want) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->room);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* Waits until want slots of the ring are free (RING_OPS: it is empty, and
 * the connection is the caller's again). */
static void pipe_wait(struct pipe *p, size_t want)
{
	size_t h = atomic_load_explicit(&p->head, memory_order_relaxed);
	if (RING_OPS - (h - atomic_load(&p->tail)) >= want)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->caller_wants, want);
	while (RING_OPS - (h - atomic_load(&p->tail)) < want)
		pthread_cond_wait(&p->room, &p->mu);
	atomic_store(&p->caller_wants, 0);
	pthread_mutex_unlock(&p->mu);
}

/* Empties the ring; a failed INSERT is then the writer's error. */
static int pipe_drain(struct st_writer *w, struct crm_err *err)
{
	struct pipe *p = w->pipe;
	if (!p)
		return CRM_OK;
	pipe_wait(p, RING_OPS);
	if (!atomic_load(&p->failed))
		return CRM_OK;
	if (err)
		*err = p->err;
	return p->err.code ? p->err.code : CRM_EDB;
}

/* Skips the records not written yet and waits for the worker to stop
 * using the connection (the open batch is to be rolled back). */
static void pipe_cancel(struct st_writer *w)
{
	if (!w->pipe)
		return;
	atomic_store(&w->pipe->failed, 1);
	pipe_wait(w->pipe, RING_OPS);
	w->piped = 0;
}

/* The slot of the next record, once free. */
static struct op *pipe_slot(struct pipe *p)
{
	size_t h = atomic_load_explicit(&p->head, memory_order_relaxed);
	if (h - atomic_load(&p->tail) == RING_OPS)
		pipe_wait(p, RING_OPS / 2);
	return &p->ops[h & (RING_OPS - 1)];
}

/* Hands the record in pipe_slot's slot to the worker. */
static void pipe_push(struct pipe *p)
{
	atomic_store(&p->head, atomic_load_explicit(&p->head, memory_order_relaxed) + 1);
	if (atomic_load(&p->worker_waits)) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_signal(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Ends the worker (after the records handed over) and frees the pipe. */
static void pipe_free(struct st_writer *w)
{
	struct pipe *p = w->pipe;
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	for (size_t i = 0; i < PIPE_STMTS; i++)
		sqlite3_finalize(p->ins[i].st);
	sqlite3_finalize(p->stub);
	for (size_t i = 0; i < RING_OPS; i++)
		free(p->ops[i].big);
	free(p->ops);
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
	w->pipe = NULL;
	w->piped = 0;
}

/* The row id and stub cid that come next, as SQLite would give them: max + 1. */
static int pipe_next_ids(struct st_writer *w, struct crm_err *err)
{
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT max(rid) FROM \"%s\"", w->d->name);
	int rc = query_i64(w->s, sql, 0, &w->next_rid, err);
	if (!rc)
		rc = query_i64(w->s, "SELECT max(cid) FROM customers", 0, &w->next_cid, err);
	w->next_rid++;
	w->next_cid++;
	return rc;
}

/* Starts piping (in a batch, the ring empty): the ring, the stub INSERT
 * and the worker. A pipe that cannot start (no memory, no thread) leaves
 * the writer writing row by row. */
static void pipe_start(struct st_writer *w)
{
	struct pipe *p = calloc(1, sizeof *p);
	int made = 0;
	if (!p || !(p->ops = calloc(RING_OPS, sizeof *p->ops)))
		goto done;
	if (prepare(w->s, "INSERT INTO customers(customer_id, is_stub, import_id)"
		    " VALUES(?1, 1, ?2)", &p->stub, NULL) != CRM_OK ||
	    sqlite3_bind_int64(p->stub, 2, w->import_id) != SQLITE_OK ||
	    pipe_next_ids(w, NULL) != CRM_OK)
		goto done;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto done;
	made = 1;
	if (pthread_cond_init(&p->work, NULL) != 0)
		goto done;
	made = 2;
	if (pthread_cond_init(&p->room, NULL) != 0)
		goto done;
	made = 3;
	w->pipe = p;
	if (pthread_create(&p->thread, NULL, pipe_worker, w) != 0) {
		w->pipe = NULL;
		goto done;
	}
	w->piped = 1;
	p = NULL;
done:
	if (p) {
		sqlite3_finalize(p->stub);
		if (made >= 3)
			pthread_cond_destroy(&p->room);
		if (made >= 2)
			pthread_cond_destroy(&p->work);
		if (made >= 1)
			pthread_mutex_destroy(&p->mu);
		free(p->ops);
		free(p);
	}
}

/* Builds again what the writer dropped: the natural key index (key) and
 * the (cid, time) index (cid_time), with the page cache that the sorter
 * likes (see INDEX_BUILD_CACHE_KIB). An index that exists is left as is. */
static int rebuild_indexes(struct st_writer *w, int key, int cid_time, struct crm_err *err)
{
	struct buf sql;
	int rc;
	buf_init(&sql);
	if (buf_printf(&sql, "PRAGMA threads = %d; PRAGMA cache_size = -%d;\n",
		       INDEX_BUILD_THREADS, INDEX_BUILD_CACHE_KIB) ||
	    (key && st_key_index_sql(&sql, w->d, 1) != 0) ||
	    (cid_time && st_index_sql(&sql, w->d, 1) != 0))
		rc = crm_err_set(err, CRM_ENOMEM, "%s: index: out of memory", w->s->path);
	else
		rc = exec(w->s, sql.p, err);
	char restore[64];
	snprintf(restore, sizeof restore, "PRAGMA threads = 0; PRAGMA cache_size = -%d",
		 CACHE_KIB);
	sqlite3_exec(w->s->db, restore, NULL, NULL, NULL);
	buf_fini(&sql);
	return rc;
}

/* ------------------------------------------------- deferred key index */

static uint32_t key_hash(const char *p, size_t n)
{
	return (uint32_t)(strmap_hash(p, n) >> 32);
}

static void keys_fini(struct keyset *ks)
{
	free(ks->slot);
	memset(ks, 0, sizeof *ks);
}

/* Empty keys with room for about expect keys. 0, or -1 on ENOMEM. */
static int keys_init(struct keyset *ks, size_t expect)
{
	size_t cap = (size_t)1 << 16;
	memset(ks, 0, sizeof *ks);
	while (cap / 2 < expect && cap < SIZE_MAX / 16)
		cap *= 2;
	ks->slot = calloc(cap, sizeof *ks->slot);
	if (!ks->slot)
		return -1;
	ks->cap = cap;
	return 0;
}

/* Adds the key of hash bits h at row id rid (not in ks yet). 0, or -1 on
 * ENOMEM. */
static int keys_add(struct keyset *ks, uint32_t h, uint32_t rid)
{
	if ((ks->n + 1) * 4 > ks->cap * 3) {
		size_t cap = ks->cap * 2;
		uint64_t *slot = cap < SIZE_MAX / 16 ? calloc(cap, sizeof *slot) : NULL;
		if (!slot)
			return -1;
		for (size_t i = 0; i < ks->cap; i++) {
			uint64_t e = ks->slot[i];
			if (!e)
				continue;
			size_t j = (size_t)(e >> 32) & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = e;
		}
		free(ks->slot);
		ks->slot = slot;
		ks->cap = cap;
	}
	size_t mask = ks->cap - 1, i = h & mask;
	while (ks->slot[i])
		i = (i + 1) & mask;
	ks->slot[i] = (uint64_t)h << 32 | rid;
	ks->n++;
	return CRM_OK;
}

/* Adds the key of every row whose row id is from first on to w->keys. *ok
 * is 0 when a row id does not fit in 32 bits: keys cannot stand for the
 * index then. */
static int keys_load(struct st_writer *w, int64_t first, int *ok, struct crm_err *err)
{
	struct buf sql;
	sqlite3_stmt *st = NULL;
	int rc, src = SQLITE_DONE;
	*ok = 1;
	buf_init(&sql);
	if (buf_puts(&sql, "SELECT rid, ") ||
	    st_put_ident(&sql, st_col_name(w->d, (size_t)w->key_field)) ||
	    buf_puts(&sql, " FROM ") || st_put_ident(&sql, w->d->name) ||
	    buf_puts(&sql, " WHERE rid >= ?1")) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: keys: out of memory", w->s->path);
		goto done;
	}
	rc = prepare(w->s, sql.p, &st, err);
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, first);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(st, 0);
		const void *k = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (rid < 1 || rid > (int64_t)UINT32_MAX) {
			*ok = 0;
			goto done;
		}
		if (keys_add(&w->keys, key_hash(k ? k : "", n), (uint32_t)rid) != 0) {
			rc = crm_err_set(err, CRM_ENOMEM, "%s: keys: out of memory", w->s->path);
			goto done;
		}
		w->keys_rows++;
		if (rid > w->keys_max_rid)
			w->keys_max_rid = rid;
	}
	if (src != SQLITE_DONE)
		rc = db_fail(w->s, src, "reading natural keys", err);
done:
	sqlite3_finalize(st);
	buf_fini(&sql);
	return rc;
}

/* Goes back to keeping the natural key index up row by row: builds it
 * (if no one did) and forgets the keys, for the rest of the import. */
static int keep_key_index(struct st_writer *w, struct crm_err *err)
{
	int rc = w->key_deferred ? rebuild_indexes(w, 1, 0, err) : CRM_OK;
	keys_fini(&w->keys);
	w->key_deferred = 0;
	w->key_field = -1;
	return rc;
}

/* Loads the keys of the whole table into w->keys and drops the natural key
 * index, in the open batch's transaction (so that a kill keeps the index or
 * loses it with committed rows only, and st_open builds a lost one). */
static int defer_key_index(struct st_writer *w, struct crm_err *err)
{
	int ok = 1, rc;
	w->keys_rows = 0;
	w->keys_max_rid = 0;
	if (keys_init(&w->keys, (size_t)(w->rows_at_start + w->n_out[ST_INSERTED])) != 0)
		return crm_err_set(err, CRM_ENOMEM, "%s: keys: out of memory", w->s->path);
	rc = keys_load(w, INT64_MIN, &ok, err);
	if (rc == CRM_OK && ok) {
		char sql[96];
		snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"%s_key\"", w->d->name);
		rc = exec(w->s, sql, err);
		if (rc == CRM_OK)
			w->key_deferred = 1;
	}
	if (!w->key_deferred)
		keep_key_index(w, NULL);
	return rc;
}

/* Whether the index named "<entity>_<suffix>" exists. */
static int index_exists(struct st_writer *w, const char *suffix, int *exists,
			struct crm_err *err)
{
	char sql[160];
	int64_t n = 0;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
		 " AND name = '%s_%s'", w->d->name, suffix);
	int rc = query_i64(w->s, sql, 0, &n, err);
	*exists = n > 0;
	return rc;
}

/* PRAGMA data_version: it changes when another connection commits. */
static int data_version(struct st_writer *w, int64_t *v, struct crm_err *err)
{
	int src = sqlite3_step(w->data_ver), rc = CRM_OK;
	if (src == SQLITE_ROW)
		*v = sqlite3_column_int64(w->data_ver, 0);
	else
		rc = db_fail(w->s, src, "reading the data version", err);
	sqlite3_reset(w->data_ver);
	return rc;
}

/* At a batch's start, with the write lock: what other connections did since
 * the last batch (or since the writer began, for the first). A writer keeping its key index up builds it if it is
 * missing (another writer's bulk import dropped it), since its INSERT relies
 * on it to refuse repeated keys. A writer with the index dropped goes back
 * to keeping it up if another built it, and else learns the keys of the
 * rows others added (or all keys again if rows went away). */
static int check_others(struct st_writer *w, struct crm_err *err)
{
	int64_t v = 0;
	int rc = data_version(w, &v, err), exists = 1, ok = 1;
	if (rc)
		return rc;
	int changed = v != w->data_version;
	w->data_version = v;
	w->others_wrote |= changed;
	if (w->entity == CRM_CUSTOMERS || (!changed && w->key_checked))
		return CRM_OK;
	w->key_checked = 1;
	rc = index_exists(w, "key", &exists, err);
	if (rc)
		return rc;
	if (!w->key_deferred)
		return exists ? CRM_OK : rebuild_indexes(w, 1, 0, err);
	if (exists) {
		keys_fini(&w->keys);
		w->key_deferred = 0;
		w->key_field = -1;
		return CRM_OK;
	}
	int64_t rows = 0;
	rc = keys_load(w, w->keys_max_rid + 1, &ok, err);
	if (rc == CRM_OK && ok) {
		char sql[96];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", w->d->name);
		rc = query_i64(w->s, sql, 0, &rows, err);
	}
	if (rc == CRM_OK && ok && rows != w->keys_rows) {
		/* rows went away: every key again */
		keys_fini(&w->keys);
		w->keys_rows = 0;
		w->keys_max_rid = 0;
		if (keys_init(&w->keys, (size_t)rows) != 0)
			return crm_err_set(err, CRM_ENOMEM, "%s: keys: out of memory", w->s->path);
		rc = keys_load(w, INT64_MIN, &ok, err);
	}
	if (rc == CRM_OK && !ok)
		rc = keep_key_index(w, err);
	return rc;
}

static int commit_batch(struct st_writer *w, struct crm_err *err);

/* Starts a batch's transaction. may_drop: a bulk import may drop the
 * indexes now (not when the last batch is finishing). */
static int begin_batch(struct st_writer *w, int may_drop, struct crm_err *err)
{
	if (w->in_txn)
		return CRM_OK;
	int rc = run(w, w->begin, SQLITE_OK, "starting a batch", err);
	if (rc)
		return rc;
	w->in_txn = 1;
	rc = check_others(w, err);
	if (rc)
		return rc;
	if (w->fk_off && w->others_wrote) {
		/* the map may name customers another connection removed: from
		 * here on SQLite checks every reference (FK_BY_MAP); the pragma
		 * takes effect only outside a transaction */
		if ((rc = commit_batch(w, err)) != CRM_OK)
			return rc;
		if ((rc = exec(w->s, "PRAGMA foreign_keys = ON", err)) != CRM_OK)
			return rc;
		w->fk_off = 0;
		return begin_batch(w, may_drop, err);
	}
	if (w->piped && (!w->key_deferred || w->others_wrote))
		w->piped = 0;   /* the ids it would give may be taken: no more piping */
	else if (w->piped)
		rc = pipe_next_ids(w, err);
	if (rc)
		return rc;
	int64_t n = w->n_out[ST_INSERTED];
	int bulk = may_drop && n >= DEFER_INDEX_MIN_ROWS && n >= w->rows_at_start / 2;
	if (bulk && !w->index_dropped && st_has_index(w->d)) {
		/* in the batch's transaction: a kill keeps the index or loses it with
		 * committed rows, and st_open rebuilds a lost one */
		char sql[96];
		snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"%s_cid_time\"", w->d->name);
		rc = exec(w->s, sql, err);
		if (rc == CRM_OK)
			w->index_dropped = 1;
	}
	if (rc == CRM_OK && bulk && !w->key_deferred && w->key_field >= 0) {
		rc = defer_key_index(w, err);
		if (rc == CRM_OK && w->key_deferred && !w->upsert && !w->others_wrote &&
		    !w->pipe)
			pipe_start(w);
	}
	return rc;
}

static int commit_batch(struct st_writer *w, struct crm_err *err)
{
	if (!w->in_txn)
		return CRM_OK;
	int rc = pipe_drain(w, err);
	if (rc)
		return rc;
	rc = run(w, w->commit, SQLITE_OK, "committing a batch", err);
	if (rc == CRM_OK) {
		w->in_txn = 0;
		w->in_batch = 0;
	}
	return rc;
}

/* Adds customer_id p[0..n) -> cid to the map with flags; an existing entry
 * is overwritten (an alias wins over a row of the same id). */
static int map_add(struct st_writer *w, const char *p, size_t n, int64_t cid,
		   uint8_t flags, struct crm_err *err)
{
	size_t idx;
	int added;
	if (cid < 0 || cid > (int64_t)UINT32_MAX)
		return crm_err_set(err, CRM_ERANGE, "%s: customer row id %lld out of range",
				   w->s->path, (long long)cid);
	if (strmap_put(&w->ids, p, n, (uint32_t)cid, &idx, &added) != 0)
		return crm_err_set(err, CRM_ENOMEM, "%s: customer map: out of memory", w->s->path);
	if (idx >= w->id_flags_cap) {
		size_t cap = w->id_flags_cap ? w->id_flags_cap * 2 : 1024;
		while (cap <= idx)
			cap *= 2;
		uint8_t *f = xreallocn(w->id_flags, cap, 1);
		if (!f)
			return crm_err_set(err, CRM_ENOMEM, "%s: customer map: out of memory",
					   w->s->path);
		w->id_flags = f;
		w->id_flags_cap = cap;
	}
	w->ids.values[idx] = (uint32_t)cid;
	w->id_flags[idx] = flags;
	if (cid != (int64_t)idx + 1)
		w->ids_sparse = 1;
	return CRM_OK;
}

/* Loads every customer_id and alias into the map. */
static int load_ids(struct st_writer *w, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int rc = query_i64(w->s, "SELECT (SELECT count(*) FROM customers) +"
			   " (SELECT count(*) FROM customer_aliases)", 0, &n, err);
	if (rc)
		return rc;
	if (strmap_init(&w->ids, (size_t)n) != 0)
		return crm_err_set(err, CRM_ENOMEM, "%s: customer map: out of memory", w->s->path);
	w->has_ids = 1;
	static const char *const sql[2] = {
		"SELECT cid, customer_id, is_stub FROM customers",
		"SELECT cid, alias, 0 FROM customer_aliases",
	};
	for (int q = 0; q < 2 && rc == CRM_OK; q++) {
		rc = prepare(w->s, sql[q], &st, err);
		if (rc)
			break;
		int src = SQLITE_DONE;
		while (rc == CRM_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 1);
			size_t len = (size_t)sqlite3_column_bytes(st, 1);
			uint8_t flags = q == 1 ? ID_ALIAS : sqlite3_column_int(st, 2) ? ID_STUB : 0;
			rc = map_add(w, id ? id : "", len, sqlite3_column_int64(st, 0), flags, err);
			w->has_aliases |= q == 1;
		}
		if (rc == CRM_OK && src != SQLITE_DONE)
			rc = db_fail(w->s, src, sql[q], err);
		sqlite3_finalize(st);
		st = NULL;
	}
	return rc;
}

/* Generates and prepares the entity's INSERT, key lookup and UPDATE. */
static int prepare_rows(struct st_writer *w, struct crm_err *err)
{
	const struct ent_desc *d = w->d;
	int cust = w->entity == CRM_CUSTOMERS;
	const char *row_id = cust ? "cid" : "rid";
	struct buf ins, find, upd, key_of;
	int rc = CRM_ENOMEM, is_key[CRM_MAX_FIELDS] = { 0 };
	buf_init(&ins);
	buf_init(&find);
	buf_init(&upd);
	buf_init(&key_of);
	for (size_t k = 0; d->key[k] >= 0; k++)
		is_key[d->key[k]] = 1;

	if (buf_puts(&ins, "INSERT INTO ") || st_put_ident(&ins, d->name) ||
	    buf_putc(&ins, '('))
		goto done;
	for (size_t f = 0; f < d->n_fields; f++)
		if (st_put_ident(&ins, st_col_name(d, f)) || buf_puts(&ins, ", "))
			goto done;
	if ((d->key_has_seq && buf_puts(&ins, "seq, ")) ||
	    buf_puts(&ins, "import_id) VALUES("))
		goto done;
	for (size_t f = 0; f < d->n_fields; f++)
		if (buf_printf(&ins, "?%zu, ", f + 1))
			goto done;
	if ((d->key_has_seq && buf_printf(&ins, "?%d, ", P_SEQ(d))) ||
	    buf_printf(&ins, "?%d) ON CONFLICT DO NOTHING", P_IMPORT(d)))
		goto done;

	/* the lookup repeats the key index's expressions so that it is used */
	if (buf_printf(&find, "SELECT %s, import_id FROM ", row_id) ||
	    st_put_ident(&find, d->name) || buf_puts(&find, " WHERE "))
		goto done;
	for (size_t k = 0; d->key[k] >= 0; k++) {
		size_t f = (size_t)d->key[k];
		if ((k && buf_puts(&find, " AND ")) || st_key_expr(&find, d, f))
			goto done;
		if (d->fields[f].required ? buf_printf(&find, " = ?%zu", f + 1) :
		    buf_printf(&find, " = coalesce(?%zu, '')", f + 1))
			goto done;
	}
	if (d->key_has_seq && buf_printf(&find, " AND seq = ?%d", P_SEQ(d)))
		goto done;

	/* upsert: every field but the key; a customers row is no stub after */
	if (buf_puts(&upd, "UPDATE ") || st_put_ident(&upd, d->name) ||
	    buf_puts(&upd, " SET "))
		goto done;
	for (size_t f = 0; f < d->n_fields; f++)
		if (!is_key[f] && (st_put_ident(&upd, st_col_name(d, f)) ||
				   buf_printf(&upd, " = ?%zu, ", f + 1)))
			goto done;
	if ((cust && buf_puts(&upd, "is_stub = 0, ")) ||
	    buf_printf(&upd, "import_id = ?%d WHERE %s = ?%d", P_IMPORT(d), row_id, P_ROW(d)))
		goto done;

	/* a deferred key's row by row id */
	if (w->key_field >= 0 &&
	    (buf_puts(&key_of, "SELECT ") ||
	     st_put_ident(&key_of, st_col_name(d, (size_t)w->key_field)) ||
	     buf_puts(&key_of, ", import_id FROM ") || st_put_ident(&key_of, d->name) ||
	     buf_puts(&key_of, " WHERE rid = ?1")))
		goto done;

	rc = prepare(w->s, ins.p, &w->ins, err);
	if (!rc)
		rc = prepare(w->s, find.p, &w->find, err);
	if (!rc)
		rc = prepare(w->s, upd.p, &w->upd, err);
	if (!rc && w->key_field >= 0)
		rc = prepare(w->s, key_of.p, &w->key_of, err);
done:
	if (rc == CRM_ENOMEM)
		crm_err_set(err, rc, "%s: writer: out of memory", w->s->path);
	buf_fini(&ins);
	buf_fini(&find);
	buf_fini(&upd);
	buf_fini(&key_of);
	return rc;
}

static void writer_free(struct st_writer *w)
{
	if (!w)
		return;
	pipe_free(w);
	sqlite3_finalize(w->begin);
	sqlite3_finalize(w->commit);
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->find);
	sqlite3_finalize(w->upd);
	sqlite3_finalize(w->stub);
	sqlite3_finalize(w->find_cust);
	sqlite3_finalize(w->key_of);
	sqlite3_finalize(w->data_ver);
	sqlite3_finalize(w->alias_note);
	sqlite3_finalize(w->alias_forget);
	keys_fini(&w->keys);
	if (w->fk_off)
		sqlite3_exec(w->s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (w->has_ids)
		strmap_fini(&w->ids);
	free(w->id_flags);
	free(w->dup_seen);
	w->s->writing = 0;
	free(w);
}

int st_writer_new(struct st_db *s, const struct st_writer_opts *opts,
		  struct st_writer **out, struct crm_err *err)
{
	struct st_writer *w = NULL;
	sqlite3_stmt *st = NULL;
	int rc = CRM_OK;
	*out = NULL;
	if (!s || !opts || !ent_get(opts->entity))
		return crm_err_set(err, CRM_EINVAL, "st_writer_new: no database, options"
				   " or entity");
	if (s->read_only)
		return crm_err_set(err, CRM_EINVAL, "%s: opened read-only: cannot import",
				   s->path);
	if (s->writing)
		return crm_err_set(err, CRM_EINVAL, "%s: a writer is already open", s->path);
	w = calloc(1, sizeof *w);
	if (!w)
		return crm_err_set(err, CRM_ENOMEM, "%s: writer: out of memory", s->path);
	w->s = s;
	s->writing = 1;
	w->entity = opts->entity;
	w->d = ent_get(opts->entity);
	w->upsert = opts->upsert;
	w->strict = opts->strict;
	w->batch_rows = opts->batch_rows ? opts->batch_rows : DEFAULT_BATCH_ROWS;
	w->key_field = -1;
	if (w->entity != CRM_CUSTOMERS && w->d->key[0] >= 0 && w->d->key[1] < 0 &&
	    !w->d->key_has_seq) {
		const struct ent_field *kf = &w->d->fields[w->d->key[0]];
		if (kf->required && (kf->type == FT_ID || kf->type == FT_TEXT))
			w->key_field = w->d->key[0];
	}
	snprintf(w->source, sizeof w->source, "%s", opts->source ? opts->source : "(input)");

	if (FK_BY_MAP && w->d->customer_field >= 0 && sqlite3_get_autocommit(s->db)) {
		rc = exec(s, "PRAGMA foreign_keys = OFF", err);
		w->fk_off = rc == CRM_OK;
	}
	if (!rc)
		rc = prepare(s, "BEGIN IMMEDIATE", &w->begin, err);
	if (!rc)
		rc = prepare(s, "COMMIT", &w->commit, err);
	if (!rc)
		rc = prepare(s, "INSERT INTO customers(customer_id, is_stub, import_id)"
			     " VALUES(?1, 1, ?2) ON CONFLICT DO NOTHING", &w->stub, err);
	if (!rc)
		rc = prepare(s, "SELECT cid, is_stub FROM customers WHERE customer_id = ?1",
			     &w->find_cust, err);
	if (!rc)
		rc = prepare(s, "PRAGMA data_version", &w->data_ver, err);
	if (!rc)
		rc = prepare_rows(w, err);
	/* before the map: a commit by another connection from now on is seen */
	if (!rc)
		rc = data_version(w, &w->data_version, err);
	if (!rc && (w->entity == CRM_CUSTOMERS || w->d->customer_field >= 0))
		rc = load_ids(w, err);
	if (!rc && w->has_aliases && w->entity != CRM_CUSTOMERS) {
		rc = prepare(s, "INSERT OR REPLACE INTO alias_rows(entity, rid, alias)"
			     " VALUES(?1, ?2, ?3)", &w->alias_note, err);
		if (!rc)
			rc = prepare(s, "DELETE FROM alias_rows WHERE entity = ?1 AND rid = ?2",
				     &w->alias_forget, err);
	}
	if (!rc && (st_has_index(w->d) || w->key_field >= 0)) {
		char sql[96];
		snprintf(sql, sizeof sql, "SELECT max(rid) FROM \"%s\"", w->d->name);
		rc = query_i64(s, sql, 0, &w->rows_at_start, err);
	}
	if (rc)
		goto done;
	/* the run is recorded at once (committed), so a killed import shows
	 * as one that never finished */
	rc = prepare(s, "INSERT INTO imports(entity, source, started_at) VALUES(?1, ?2, ?3)",
		     &st, err);
	if (rc)
		goto done;
	sqlite3_bind_text(st, 1, w->d->name, -1, SQLITE_STATIC);
	if (opts->source)
		sqlite3_bind_text(st, 2, opts->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
	int src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "recording the import", err);
		goto done;
	}
	w->import_id = sqlite3_last_insert_rowid(s->db);
done:
	sqlite3_finalize(st);
	if (rc) {
		writer_free(w);
		return rc;
	}
	*out = w;
	return CRM_OK;
}

int64_t st_writer_import_id(const struct st_writer *w)
{
	return w->import_id;
}

/* Checks what the database would refuse, before anything is written, so
 * that a bad record is an error for it alone. */
static int check_record(const struct st_writer *w, const struct ent_record *rec,
			struct crm_err *err)
{
	const struct ent_desc *d = w->d;
	if (rec->entity != w->entity)
		return crm_err_set(err, CRM_EINVAL, "%s:%ld: a %s record given to a"
				   " writer of %s", w->source, rec->line,
				   ent_get(rec->entity) ? ent_get(rec->entity)->name : "(unknown)",
				   d->name);
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_field *fd = &d->fields[f];
		const struct ent_value *v = &rec->v[f];
		int present = v->set && (fd->type != FT_REF || v->n > 0);
		if (present && (is_text(fd->type) || fd->type == FT_REF) && !v->s && v->n > 0)
			return crm_err_set(err, CRM_EINVAL, "%s:%ld: field %s: %zu bytes of text"
					   " without a pointer", w->source, rec->line, fd->name, v->n);
		if (!present && (fd->required || (fd->type == FT_REF && d->customer_required)))
			return crm_err_set(err, CRM_EINVAL, "%s:%ld: field %s: required"
					   " value missing", w->source, rec->line, fd->name);
		if (present && (is_text(fd->type) || fd->type == FT_REF) && v->n > INT_MAX)
			return crm_err_set(err, CRM_ERANGE, "%s:%ld: field %s: text of %zu"
					   " bytes is too long", w->source, rec->line, fd->name, v->n);
	}
	return CRM_OK;
}

/* Marks row_id as reported ST_DUPLICATE in this import; *was_set tells
 * whether it had been already. Row ids are SQLite's, max + 1 on insert, so
 * a bitmap up to the largest one is small (1 MiB per 8M rows). */
static int dup_mark(struct st_writer *w, int64_t row_id, int *was_set,
		    struct crm_err *err)
{
	if (row_id < 0 || row_id >= ((int64_t)1 << 36))
		return crm_err_set(err, CRM_ERANGE, "%s: %s: row id %lld out of range",
				   w->s->path, w->d->name, (long long)row_id);
	size_t byte = (size_t)(row_id >> 3);
	if (byte >= w->dup_seen_bytes) {
		size_t cap = w->dup_seen_bytes ? w->dup_seen_bytes : 4096;
		while (cap <= byte)
			cap *= 2;
		uint8_t *p = realloc(w->dup_seen, cap);
		if (!p)
			return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", w->s->path);
		memset(p + w->dup_seen_bytes, 0, cap - w->dup_seen_bytes);
		w->dup_seen = p;
		w->dup_seen_bytes = cap;
	}
	uint8_t bit = (uint8_t)(1u << (row_id & 7));
	*was_set = (w->dup_seen[byte] & bit) != 0;
	w->dup_seen[byte] |= bit;
	return CRM_OK;
}

/* The record's key is stored at row_id, by import stored_by: upsert
 * updates the row; else a key met earlier in this import (stored by it, or
 * found stored by an earlier one) is ST_DUP_IN_FILE, so that a file's own
 * repeats are told the same way whether or not it was imported before. */
static int stored_row(struct st_writer *w, const struct ent_record *rec, int64_t cid,
		      int64_t row_id, int64_t stored_by, int *outcome, struct crm_err *err)
{
	if (w->upsert) {
		*outcome = ST_UPDATED;
		return run(w, w->upd, bind_record(w, w->upd, rec, cid, row_id), "updating", err);
	}
	if (stored_by == w->import_id) {
		*outcome = ST_DUP_IN_FILE;
		return CRM_OK;
	}
	int again = 0;
	int rc = dup_mark(w, row_id, &again, err);
	*outcome = again ? ST_DUP_IN_FILE : ST_DUPLICATE;
	return rc;
}

/* Whether row rid exists with the natural key p[0..n) (the bytes that the
 * index would compare); *stored_by is then its import_id. */
static int key_at(struct st_writer *w, int64_t rid, const char *p, size_t n,
		  int *match, int64_t *stored_by, struct crm_err *err)
{
	int src = sqlite3_bind_int64(w->key_of, 1, rid);
	*match = 0;
	if (src == SQLITE_OK)
		src = sqlite3_step(w->key_of);
	if (src == SQLITE_ROW) {
		const void *k = sqlite3_column_blob(w->key_of, 0);
		size_t len = (size_t)sqlite3_column_bytes(w->key_of, 0);
		*match = len == n && (n == 0 || memcmp(k, p, n) == 0);
		*stored_by = sqlite3_column_int64(w->key_of, 1);
		src = SQLITE_DONE;
	}
	sqlite3_reset(w->key_of);
	return src == SQLITE_DONE ? CRM_OK : db_fail(w->s, src, "finding a stored key", err);
}

/* put_row with the natural key index dropped: w->keys finds the key. */
static int put_row_deferred(struct st_writer *w, const struct ent_record *rec,
			    int64_t cid, int *outcome, int64_t *row_id, struct crm_err *err)
{
	sqlite3 *db = w->s->db;
	struct keyset *ks = &w->keys;
	size_t n = 0;
	const char *p = value_text(&w->d->fields[w->key_field], &rec->v[w->key_field], &n);
	uint32_t h = key_hash(p ? p : "", n);
	int rc;
	for (size_t i = h & (ks->cap - 1); ks->slot[i]; i = (i + 1) & (ks->cap - 1)) {
		int match = 0;
		int64_t stored_by = 0, rid = (int64_t)(uint32_t)ks->slot[i];
		if ((uint32_t)(ks->slot[i] >> 32) != h)
			continue;
		rc = key_at(w, rid, p ? p : "", n, &match, &stored_by, err);
		if (rc)
			return rc;
		if (match) {
			*row_id = rid;
			return stored_row(w, rec, cid, rid, stored_by, outcome, err);
		}
	}
	rc = run(w, w->ins, bind_record(w, w->ins, rec, cid, 0), "inserting", err);
	if (rc)
		return rc;
	if (sqlite3_changes(db) == 0)
		return crm_err_set(err, CRM_EDB, "%s: %s:%ld: %s: a row was refused, and no"
				   " stored row has its key", w->s->path, w->source, rec->line,
				   w->d->name);
	*outcome = ST_INSERTED;
	*row_id = sqlite3_last_insert_rowid(db);
	if (*row_id < 1 || *row_id > (int64_t)UINT32_MAX)
		return keep_key_index(w, err);
	if (keys_add(ks, h, (uint32_t)*row_id) != 0)
		return crm_err_set(err, CRM_ENOMEM, "%s: keys: out of memory", w->s->path);
	w->keys_rows++;
	if (*row_id > w->keys_max_rid)
		w->keys_max_rid = *row_id;
	return CRM_OK;
}

/* Makes room for need text bytes in slot o; where they go. NULL on ENOMEM. */
static char *op_text(struct op *o, size_t need)
{
	if (need <= OP_TEXT)
		return o->text;
	if (need > o->big_cap) {
		char *big = realloc(o->big, need);
		if (!big)
			return NULL;
		o->big = big;
		o->big_cap = need;
	}
	return o->big;
}

/* Hands a stub customer with customer_id id[0..n) and cid to the worker. */
static int pipe_stub(struct st_writer *w, const char *id, size_t n, int64_t cid,
		     long line, struct crm_err *err)
{
	struct op *o = pipe_slot(w->pipe);
	char *t = op_text(o, n);
	if (!t)
		return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", w->s->path);
	memcpy(t, id, n);
	o->kind = OP_STUB;
	o->id = cid;
	o->cid = cid;
	o->rec.line = line;
	o->rec.v[0].s = t;
	o->rec.v[0].n = n;
	pipe_push(w->pipe);
	return CRM_OK;
}

/* Hands row rid of record rec (customer cid) to the worker: a copy of its
 * values and text. */
static int pipe_row(struct st_writer *w, const struct ent_record *rec, int64_t cid,
		    int64_t rid, struct crm_err *err)
{
	const struct ent_desc *d = w->d;
	struct op *o = pipe_slot(w->pipe);
	size_t need = 0;
	for (size_t f = 0; f < d->n_fields; f++)
		if (rec->v[f].set && rec->v[f].s && is_text(d->fields[f].type))
			need += rec->v[f].n;
	char *t = op_text(o, need);
	if (!t)
		return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", w->s->path);
	o->kind = OP_ROW;
	o->mask = 0;
	o->id = rid;
	o->cid = cid;
	o->rec.entity = rec->entity;
	o->rec.seq = rec->seq;
	o->rec.line = rec->line;
	memcpy(o->rec.v, rec->v, d->n_fields * sizeof rec->v[0]);
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_field *fd = &d->fields[f];
		struct ent_value *v = &o->rec.v[f];
		size_t len;
		if (fd->type == FT_REF) {
			v->s = NULL;   /* bound as cid */
			o->mask |= (uint32_t)(cid >= 0) << f;
			continue;
		}
		if (!v->set || (is_text(fd->type) && !value_text(fd, v, &len)))
			continue;   /* NULL: not named by the INSERT */
		o->mask |= (uint32_t)1 << f;
		if (v->s && is_text(fd->type)) {
			memcpy(t, v->s, v->n);
			v->s = t;
			t += v->n;
		}
	}
	pipe_push(w->pipe);
	return CRM_OK;
}

/* Keeps alias_rows (migration 2) up: a row inserted or updated through an
 * alias of a merged customer (alias not NULL) is noted with the alias's
 * text, and an updated row no longer stored through one loses its note, so
 * that undoing the merge (store/merge.c) gives such rows back to the
 * customer that the alias was. Other outcomes wrote nothing. Only when the
 * writer's map holds an alias: without one there is no note to keep (undo
 * removes an alias's notes with it). */
static int note_alias(struct st_writer *w, int64_t rid, const struct ent_value *alias,
		      int outcome, struct crm_err *err)
{
	sqlite3_stmt *st = alias ? w->alias_note : w->alias_forget;
	if (!w->has_aliases || w->entity == CRM_CUSTOMERS ||
	    !(outcome == ST_UPDATED || (outcome == ST_INSERTED && alias)))
		return CRM_OK;
	int src = sqlite3_bind_text(st, 1, w->d->name, -1, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 2, rid);
	if (src == SQLITE_OK && alias)
		src = sqlite3_bind_text(st, 3, alias->s ? alias->s : "", (int)alias->n,
					SQLITE_STATIC);
	return run(w, st, src, "noting a row stored through an alias", err);
}

/* st_put of a record that is not a customer, piped. The record's key is
 * looked up in keys and its customer in the map at once: both are lookups
 * at random in big tables, so both slots are fetched before either is
 * read, and the customer's cid while keys is probed. A key found in keys
 * is checked against its row once the ring is empty; a new row takes the
 * next row id, a new stub customer the next cid. */
static int put_piped(struct st_writer *w, const struct ent_record *rec, int *outcome,
		     int *stub_created, struct crm_err *err)
{
	struct keyset *ks = &w->keys;
	const struct ent_value *cv = w->d->customer_field >= 0 ?
		&rec->v[w->d->customer_field] : NULL;
	const char *cust = cv && cv->s ? cv->s : "";
	int has_cust = cv && cv->set && cv->n > 0, rc, found = 0, via_alias = 0;
	size_t n = 0;
	const char *key = value_text(&w->d->fields[w->key_field], &rec->v[w->key_field], &n);
	int64_t cid = -1, rid = 0, stored_by = 0;
	uint32_t h = key_hash(key ? key : "", n);
	uint64_t hc = has_cust ? strmap_hash(cust, cv->n) : 0;
	long idx = -1;
	key = key ? key : "";
	__builtin_prefetch(&ks->slot[h & (ks->cap - 1)]);
	if (has_cust) {
		strmap_prefetch(&w->ids, hc);
		idx = strmap_find_hashed(&w->ids, cust, cv->n, hc);
		if (idx >= 0 && w->ids_sparse)
			__builtin_prefetch(&w->ids.values[idx]);
	}
	for (size_t i = h & (ks->cap - 1); ks->slot[i] && !found; i = (i + 1) & (ks->cap - 1)) {
		int match = 0;
		if ((uint32_t)(ks->slot[i] >> 32) != h)
			continue;
		rid = (int64_t)(uint32_t)ks->slot[i];
		rc = pipe_drain(w, err);
		if (!rc)
			rc = key_at(w, rid, key, n, &match, &stored_by, err);
		if (rc)
			return rc;
		found = match;
	}
	if (idx >= 0) {
		cid = w->ids_sparse ? w->ids.values[idx] : idx + 1;
		via_alias = (w->id_flags[idx] & ID_ALIAS) != 0;
	} else if (has_cust && w->strict) {
		*outcome = ST_UNKNOWN_REF;
		return CRM_OK;
	} else if (has_cust) {
		cid = w->next_cid;
		rc = map_add(w, cust, cv->n, cid, ID_STUB, err);
		if (!rc)
			rc = pipe_stub(w, cust, cv->n, cid, rec->line, err);
		if (rc)
			return rc;
		w->next_cid++;
		*stub_created = 1;
		w->n_stubs++;
	}
	if (found)
		return stored_row(w, rec, cid, rid, stored_by, outcome, err);
	rid = w->next_rid;
	rc = keys_add(ks, h, (uint32_t)rid) != 0 ?
		crm_err_set(err, CRM_ENOMEM, "%s: keys: out of memory", w->s->path) :
		pipe_row(w, rec, cid, rid, err);
	if (rc)
		return rc;
	w->next_rid++;
	w->keys_rows++;
	w->keys_max_rid = rid;
	*outcome = ST_INSERTED;
	/* rare (an old id of a merged customer): the connection is needed */
	if (via_alias && w->has_aliases) {
		rc = pipe_drain(w, err);
		if (!rc)
			rc = note_alias(w, rid, cv, ST_INSERTED, err);
	}
	return rc;
}

/* Inserts the row, or deals with the stored row of the same key (see
 * stored_row). */
static int put_row(struct st_writer *w, const struct ent_record *rec, int64_t cid,
		   int *outcome, int64_t *row_id, struct crm_err *err)
{
	sqlite3 *db = w->s->db;
	if (w->key_deferred)
		return put_row_deferred(w, rec, cid, outcome, row_id, err);
	int rc = run(w, w->ins, bind_record(w, w->ins, rec, cid, 0), "inserting", err);
	if (rc)
		return rc;
	if (sqlite3_changes(db) > 0) {
		*outcome = ST_INSERTED;
		*row_id = sqlite3_last_insert_rowid(db);
		return CRM_OK;
	}
	int src = bind_record(w, w->find, rec, cid, 0);
	if (src == SQLITE_OK)
		src = sqlite3_step(w->find);
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ?
			crm_err_set(err, CRM_EDB, "%s: %s:%ld: %s: a conflicting row"
				    " not found by its key", w->s->path, w->source, rec->line,
				    w->d->name) :
			db_fail(w->s, src, "finding a stored row", err);
		sqlite3_reset(w->find);
		return rc;
	}
	*row_id = sqlite3_column_int64(w->find, 0);
	int64_t stored_by = sqlite3_column_int64(w->find, 1);
	sqlite3_reset(w->find);
	return stored_row(w, rec, cid, *row_id, stored_by, outcome, err);
}

/* A customers record: an alias of a merged customer is a duplicate; a stub
 * of the same id is filled in (reported as ST_INSERTED: the customer's
 * record is stored for the first time). */
static int put_customer(struct st_writer *w, const struct ent_record *rec,
			int *outcome, struct crm_err *err)
{
	const struct ent_value *v = &rec->v[w->d->id_field];
	const char *id = v->s ? v->s : "";
	long idx = strmap_find(&w->ids, id, v->n);
	int64_t cid;
	int rc;
	if (idx >= 0 && (w->id_flags[idx] & ID_ALIAS)) {
		*outcome = w->id_flags[idx] & ID_SEEN ? ST_DUP_IN_FILE : ST_DUPLICATE;
		w->id_flags[idx] |= ID_SEEN;
		return CRM_OK;
	}
	if (idx >= 0 && (w->id_flags[idx] & ID_STUB)) {
		cid = w->ids.values[idx];
		rc = run(w, w->upd, bind_record(w, w->upd, rec, -1, cid),
			 "filling a stub customer", err);
		if (rc == CRM_OK) {
			w->id_flags[idx] &= (uint8_t)~ID_STUB;
			*outcome = ST_INSERTED;
		}
		return rc;
	}
	rc = put_row(w, rec, -1, outcome, &cid, err);
	if (rc == CRM_OK && *outcome == ST_INSERTED)
		rc = map_add(w, id, v->n, cid, 0, err);
	return rc;
}

/* The cid of the record's customer; a stub is made for an unknown one unless
 * strict (then *cid is -1 and *unknown 1). *via_alias: v is an alias of a
 * merged customer. */
static int resolve(struct st_writer *w, const struct ent_value *v, int64_t *cid,
		   int *unknown, int *via_alias, int *stub_created, struct crm_err *err)
{
	const char *id = v->s ? v->s : "";
	long idx = strmap_find(&w->ids, id, v->n);
	if (idx >= 0) {
		*cid = w->ids.values[idx];
		*via_alias = (w->id_flags[idx] & ID_ALIAS) != 0;
		return CRM_OK;
	}
	if (w->strict) {
		*unknown = 1;
		return CRM_OK;
	}
	int src = sqlite3_bind_text(w->stub, 1, id, (int)v->n, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(w->stub, 2, w->import_id);
	int rc = run(w, w->stub, src, "creating a stub customer", err);
	if (rc)
		return rc;
	if (sqlite3_changes(w->s->db) == 0) {
		/* another connection stored the customer after the map was loaded */
		src = sqlite3_bind_text(w->find_cust, 1, id, (int)v->n, SQLITE_STATIC);
		if (src == SQLITE_OK)
			src = sqlite3_step(w->find_cust);
		if (src != SQLITE_ROW) {
			rc = db_fail(w->s, src, "finding a customer", err);
			sqlite3_reset(w->find_cust);
			return rc;
		}
		*cid = sqlite3_column_int64(w->find_cust, 0);
		uint8_t flags = sqlite3_column_int(w->find_cust, 1) ? ID_STUB : 0;
		sqlite3_reset(w->find_cust);
		return map_add(w, id, v->n, *cid, flags, err);
	}
	*cid = sqlite3_last_insert_rowid(w->s->db);
	rc = map_add(w, id, v->n, *cid, ID_STUB, err);
	if (rc == CRM_OK) {
		*stub_created = 1;
		w->n_stubs++;
	}
	return rc;
}

int st_put(struct st_writer *w, const struct ent_record *rec, int *outcome,
	   int *stub_created, struct crm_err *err)
{
	int out = ST_INSERTED, made = 0, unknown = 0, via_alias = 0, rc;
	int64_t cid = -1, row_id = 0;
	if (outcome)
		*outcome = ST_INSERTED;
	if (stub_created)
		*stub_created = 0;
	if (!w || !rec)
		return crm_err_set(err, CRM_EINVAL, "st_put: no writer or record");
	if (w->failed)
		return crm_err_set(err, CRM_EINVAL, "%s: the writer failed earlier;"
				   " only st_writer_abort is left", w->s->path);
	rc = check_record(w, rec, err);
	if (rc)
		return rc;    /* nothing written: the writer goes on */

	rc = begin_batch(w, 1, err);
	if (rc)
		goto done;
	if (w->piped && w->next_rid > (int64_t)UINT32_MAX) {
		/* row ids past 32 bits: keys cannot hold them */
		rc = pipe_drain(w, err);
		w->piped = 0;
		if (!rc)
			rc = keep_key_index(w, err);
		if (rc)
			goto done;
	}
	if (w->piped) {
		if (atomic_load(&w->pipe->failed))
			rc = pipe_drain(w, err);
		else
			rc = put_piped(w, rec, &out, &made, err);
	} else if (w->entity == CRM_CUSTOMERS) {
		rc = put_customer(w, rec, &out, err);
	} else {
		int cf = w->d->customer_field;
		if (cf >= 0 && rec->v[cf].set && rec->v[cf].n > 0)
			rc = resolve(w, &rec->v[cf], &cid, &unknown, &via_alias, &made, err);
		if (rc == CRM_OK && unknown)
			out = ST_UNKNOWN_REF;
		else if (rc == CRM_OK)
			rc = put_row(w, rec, cid, &out, &row_id, err);
		if (rc == CRM_OK)
			rc = note_alias(w, row_id, via_alias ? &rec->v[cf] : NULL, out, err);
	}
	if (rc)
		goto done;
	w->n_out[out]++;
	if (++w->in_batch >= w->batch_rows)
		rc = commit_batch(w, err);
done:
	if (rc) {
		w->failed = 1;
		return rc;
	}
	if (outcome)
		*outcome = out;
	if (stub_created)
		*stub_created = made;
	return CRM_OK;
}

/* Records the counts of the run in imports and import_rejects. */
static int save_counts(struct st_writer *w, const struct st_import_counts *c,
		       struct crm_err *err)
{
	struct st_db *s = w->s;
	sqlite3_stmt *st = NULL;
	struct st_import_counts own = { 0 };
	int rc;
	if (!c) {
		for (int o = 0; o <= ST_UNKNOWN_REF; o++)
			own.read += w->n_out[o];
		own.stored = w->n_out[ST_INSERTED];
		own.updated = w->n_out[ST_UPDATED];
		own.duplicates = w->n_out[ST_DUPLICATE] + w->n_out[ST_DUP_IN_FILE];
		own.rejected = w->n_out[ST_UNKNOWN_REF];
		own.stubs = w->n_stubs;
		c = &own;
	}
	rc = prepare(s, "UPDATE imports SET finished_at = ?1, read = ?2, stored = ?3,"
		     " updated = ?4, duplicates = ?5, rejected = ?6, stubs = ?7"
		     " WHERE import_id = ?8", &st, err);
	if (rc)
		goto done;
	const int64_t v[7] = { (int64_t)time(NULL), c->read, c->stored, c->updated,
			       c->duplicates, c->rejected, c->stubs };
	for (int i = 0; i < 7; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	sqlite3_bind_int64(st, 8, w->import_id);
	rc = run(w, st, SQLITE_OK, "saving the import's counts", err);
	sqlite3_finalize(st);
	st = NULL;
	if (rc || c->n_reasons == 0)
		goto done;
	rc = prepare(s, "INSERT INTO import_rejects(import_id, reason, n) VALUES(?1, ?2, ?3)"
		     " ON CONFLICT(import_id, reason) DO UPDATE SET n = n + excluded.n", &st, err);
	for (size_t i = 0; rc == CRM_OK && i < c->n_reasons; i++) {
		if (!c->reason || !c->reason_n || !c->reason[i] || c->reason_n[i] == 0)
			continue;
		sqlite3_bind_int64(st, 1, w->import_id);
		sqlite3_bind_text(st, 2, c->reason[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, c->reason_n[i]);
		rc = run(w, st, SQLITE_OK, "saving reject counts", err);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

int st_writer_finish(struct st_writer *w, const struct st_import_counts *counts,
		     struct crm_err *err)
{
	int rc;
	if (!w)
		return crm_err_set(err, CRM_EINVAL, "st_writer_finish: no writer");
	if (w->failed) {
		rc = crm_err_set(err, CRM_EINVAL, "%s: the writer failed earlier; its open"
				 " batch is rolled back", w->s->path);
		goto done;
	}
	/* the last batch, the index and the counts commit together */
	rc = pipe_drain(w, err);
	crm_trace("rows inserted");
	if (!rc)
		rc = begin_batch(w, 0, err);
	if (!rc && (w->key_deferred || w->index_dropped))
		rc = rebuild_indexes(w, w->key_deferred, w->index_dropped, err);
	crm_trace("indexes built");
	if (!rc)
		rc = save_counts(w, counts, err);
	if (!rc)
		rc = commit_batch(w, err);
	crm_trace("committed");
done:
	pipe_cancel(w);
	if (rc && w->in_txn)
		sqlite3_exec(w->s->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc && (w->key_deferred || w->index_dropped))   /* best effort: st_open rebuilds them too */
		rebuild_indexes(w, w->key_deferred, w->index_dropped, NULL);
	writer_free(w);
	return rc;
}

void st_writer_abort(struct st_writer *w)
{
	if (!w)
		return;
	pipe_cancel(w);
	if (w->in_txn)
		sqlite3_exec(w->s->db, "ROLLBACK", NULL, NULL, NULL);
	if (w->key_deferred || w->index_dropped)   /* best effort: st_open rebuilds them too */
		rebuild_indexes(w, w->key_deferred, w->index_dropped, NULL);
	writer_free(w);
}

/* --------------------------------------------------------------- reads */

/* customer_id by cid, for turning stored cids back into text. A scan looks
 * one up per row, at random in an array larger than the CPU caches: an id
 * of up to ID_INLINE bytes is kept in its 16-byte entry, so that the row
 * costs one cache miss, not one for the entry and one for the text
 * (measured on 10M orders of 1.57M customers: the text's miss was about a
 * tenth of the load's time). */
#define ID_INLINE 12

struct id_name {
	union {
		char text[ID_INLINE]; /* the id when len <= ID_INLINE (no NUL) */
		uint32_t off;         /* else its offset in id_names.bytes */
	} u;
	uint32_t len;         /* bytes; UINT32_MAX for no customer */
};

struct id_names {
	struct buf bytes;     /* the customer_ids longer than ID_INLINE, back to back */
	struct id_name *by_cid; /* n entries */
	size_t n;             /* max cid + 1 */
};

static void names_fini(struct id_names *nm)
{
	buf_fini(&nm->bytes);
	free(nm->by_cid);
}

static int names_load(struct st_db *s, struct id_names *nm, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t max_cid = 0;
	int rc = query_i64(s, "SELECT max(cid) FROM customers", -1, &max_cid, err);
	if (rc)
		return rc;
	if (max_cid >= (int64_t)UINT32_MAX)
		return crm_err_set(err, CRM_ERANGE, "%s: customer row id %lld out of range",
				   s->path, (long long)max_cid);
	nm->n = (size_t)(max_cid + 1);
	nm->by_cid = xmallocn(nm->n, sizeof *nm->by_cid);
	if (!nm->by_cid)
		return crm_err_set(err, CRM_ENOMEM, "%s: customer ids: out of memory", s->path);
	memset(nm->by_cid, 0xff, nm->n * sizeof *nm->by_cid);
	rc = prepare(s, "SELECT cid, customer_id FROM customers", &st, err);
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(st, 0);
		const void *p = sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		if (cid < 0 || cid > max_cid)
			continue;
		if (len <= ID_INLINE) {
			memcpy(nm->by_cid[cid].u.text, p ? p : "", len);
			nm->by_cid[cid].len = (uint32_t)len;
			continue;
		}
		if (nm->bytes.len + len >= UINT32_MAX) {
			rc = crm_err_set(err, CRM_ERANGE, "%s: customer ids past 4 GiB in all",
					 s->path);
			goto done;
		}
		nm->by_cid[cid].u.off = (uint32_t)nm->bytes.len;
		nm->by_cid[cid].len = (uint32_t)len;
		if (buf_append(&nm->bytes, p ? p : "", len) != 0) {
			rc = crm_err_set(err, CRM_ENOMEM, "%s: customer ids: out of memory", s->path);
			goto done;
		}
	}
	if (src != SQLITE_DONE)
		rc = db_fail(s, src, "reading customer ids", err);
done:
	sqlite3_finalize(st);
	return rc;
}

int st_scan(struct st_db *s, int entity, st_row_fn fn, void *ctx, struct crm_err *err)
{
	return st_scan_range(s, entity, INT64_MIN, INT64_MAX, fn, ctx, err);
}

int st_key_bounds(struct st_db *s, int entity, int64_t *lo, int64_t *hi,
		  struct crm_err *err)
{
	const struct ent_desc *d = ent_get(entity);
	char sql[128];
	int rc, own_txn = 0;
	*lo = 1;
	*hi = 0;
	if (!s || !d)
		return crm_err_set(err, CRM_EINVAL, "st_key_bounds: no database or entity %d",
				   entity);
	const char *key = entity == CRM_CUSTOMERS ? "cid" : "rid";
	/* one snapshot for both ends */
	if (sqlite3_get_autocommit(s->db)) {
		rc = exec(s, "BEGIN", err);
		if (rc)
			return rc;
		own_txn = 1;
	}
	/* min() and max() of the primary key are one B-tree descent each */
	snprintf(sql, sizeof sql, "SELECT min(%s) FROM \"%s\"", key, d->name);
	rc = query_i64(s, sql, 1, lo, err);
	if (!rc) {
		snprintf(sql, sizeof sql, "SELECT max(%s) FROM \"%s\"", key, d->name);
		rc = query_i64(s, sql, 0, hi, err);
	}
	if (own_txn)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc || *lo > *hi) {
		*lo = 1;
		*hi = 0;
	}
	return rc;
}

int st_scan_range(struct st_db *s, int entity, int64_t lo, int64_t hi, st_row_fn fn,
		  void *ctx, struct crm_err *err)
{
	const struct ent_desc *d = ent_get(entity);
	struct id_names nm = { 0 };
	struct ent_record rec;
	struct buf sql;
	sqlite3_stmt *st = NULL;
	int rc = CRM_OK, own_txn = 0, cust = entity == CRM_CUSTOMERS;
	buf_init(&sql);
	buf_init(&nm.bytes);
	if (!s || !d || !fn)
		return crm_err_set(err, CRM_EINVAL, "st_scan: no database, entity or callback");

	/* one snapshot for the ids and the rows */
	if (sqlite3_get_autocommit(s->db)) {
		rc = exec(s, "BEGIN", err);
		if (rc)
			goto done;
		own_txn = 1;
	}
	if (d->customer_field >= 0) {
		rc = names_load(s, &nm, err);
		if (rc)
			goto done;
	}
	if (buf_puts(&sql, cust ? "SELECT cid" : "SELECT rid")) {
		rc = CRM_ENOMEM;
		goto done;
	}
	for (size_t f = 0; f < d->n_fields && rc == CRM_OK; f++)
		if (buf_puts(&sql, ", ") || st_put_ident(&sql, st_col_name(d, f)))
			rc = CRM_ENOMEM;
	if (rc == CRM_OK && ((d->key_has_seq && buf_puts(&sql, ", seq")) ||
			     (cust && buf_puts(&sql, ", is_stub")) ||
			     buf_puts(&sql, " FROM ") || st_put_ident(&sql, d->name) ||
			     buf_puts(&sql, cust ? " WHERE cid BETWEEN ?1 AND ?2 ORDER BY cid" :
				      " WHERE rid BETWEEN ?1 AND ?2 ORDER BY rid")))
		rc = CRM_ENOMEM;
	if (rc) {
		crm_err_set(err, rc, "%s: scan: out of memory", s->path);
		goto done;
	}
	rc = prepare(s, sql.p, &st, err);
	if (rc)
		goto done;
	int bsrc = sqlite3_bind_int64(st, 1, lo);
	if (bsrc == SQLITE_OK)
		bsrc = sqlite3_bind_int64(st, 2, hi);
	if (bsrc != SQLITE_OK) {
		rc = db_fail(s, bsrc, "scan: binding the key range", err);
		goto done;
	}

	memset(&rec, 0, sizeof rec);
	rec.entity = entity;
	int last = (int)d->n_fields + 1, src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t f = 0; f < d->n_fields; f++) {
			const struct ent_field *fd = &d->fields[f];
			struct ent_value *v = &rec.v[f];
			int col = (int)f + 1;
			v->s = NULL;
			v->n = 0;
			v->i = 0;
			if (is_text(fd->type)) {
				/* NULL text is a NULL pointer: no column_type call */
				v->s = (const char *)sqlite3_column_text(st, col);
				v->set = v->s != NULL;
				if (!v->set)
					continue;
				v->n = (size_t)sqlite3_column_bytes(st, col);
				if (fd->type == FT_ENUM)
					v->i = ent_enum_code(fd, v->s, v->n);
				continue;
			}
			/* a NULL reads as 0: only a 0 needs the type asked */
			int64_t iv = sqlite3_column_int64(st, col);
			v->set = iv != 0 || sqlite3_column_type(st, col) != SQLITE_NULL;
			if (!v->set)
				continue;
			if (fd->type == FT_REF) {
				int64_t cid = iv;
				if (cid < 0 || (uint64_t)cid >= nm.n || nm.by_cid[cid].len == UINT32_MAX) {
					rc = crm_err_set(err, CRM_EDB, "%s: %s row %lld: customer"
							 " row %lld does not exist", s->path, d->name,
							 (long long)sqlite3_column_int64(st, 0),
							 (long long)cid);
					goto done;
				}
				const struct id_name *id = &nm.by_cid[cid];
				v->s = id->len <= ID_INLINE ? id->u.text : nm.bytes.p + id->u.off;
				v->n = id->len;
			} else {
				v->i = iv;
			}
		}
		rec.seq = d->key_has_seq ? sqlite3_column_int64(st, last) : 0;
		int is_stub = cust ? sqlite3_column_int(st, last) : 0;
		rc = fn(ctx, &rec, is_stub);
		if (rc)
			goto done;
	}
	if (src != SQLITE_DONE)
		rc = db_fail(s, src, "scanning", err);
done:
	sqlite3_finalize(st);
	if (own_txn)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	names_fini(&nm);
	buf_fini(&sql);
	return rc;
}

int st_count(struct st_db *s, int entity, int64_t *n, struct crm_err *err)
{
	const struct ent_desc *d = ent_get(entity);
	char sql[96];
	if (!s || !d)
		return crm_err_set(err, CRM_EINVAL, "st_count: no database or entity %d", entity);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", d->name);
	return query_i64(s, sql, 0, n, err);
}

/* Comma-separated distinct order currencies; ",..." ends a list cut short. */
static int stats_currencies(struct st_db *s, char *out, size_t cap, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc = prepare(s, "SELECT DISTINCT currency FROM orders WHERE currency IS NOT NULL"
			 " ORDER BY currency", &st, err);
	out[0] = '\0';
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (len + (len > 0) + n + 4 >= cap) {
			memcpy(out + len, ",...", 5);
			src = SQLITE_DONE;
			break;
		}
		if (len)
			out[len++] = ',';
		memcpy(out + len, c ? c : "", n);
		len += n;
		out[len] = '\0';
	}
	if (src != SQLITE_DONE)
		rc = db_fail(s, src, "reading currencies", err);
	sqlite3_finalize(st);
	return rc;
}

static int stats_reasons(struct st_db *s, struct st_stats *out, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT reason, sum(n) AS total FROM import_rejects GROUP BY reason"
			 " ORDER BY total DESC, reason LIMIT 32", &st, err);
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW && out->n_reasons < 32) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		snprintf(out->reason[out->n_reasons], sizeof out->reason[0], "%s", r ? r : "");
		out->reason_n[out->n_reasons++] = sqlite3_column_int64(st, 1);
	}
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_fail(s, src, "reading reject reasons", err);
	sqlite3_finalize(st);
	return rc;
}

/* Rows rejected so far per entity (the imports of that entity). */
static int stats_rejected(struct st_db *s, struct st_stats *out, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT i.entity, sum(r.n) FROM import_rejects r"
			 " JOIN imports i USING(import_id) GROUP BY i.entity", &st, err);
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int e = name ? ent_by_name(name) : -1;
		if (e >= 0 && e < CRM_N_ENTITIES)
			out->e[e].rejected += sqlite3_column_int64(st, 1);
	}
	if (src != SQLITE_DONE)
		rc = db_fail(s, src, "reading rejects per entity", err);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	rc = prepare(s, "SELECT entity, sum(read) FROM imports GROUP BY entity", &st, err);
	if (rc)
		return rc;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int e = name ? ent_by_name(name) : -1;
		if (e >= 0 && e < CRM_N_ENTITIES)
			out->e[e].read += sqlite3_column_int64(st, 1);
	}
	if (src != SQLITE_DONE)
		rc = db_fail(s, src, "reading rows read per entity", err);
	sqlite3_finalize(st);
	return rc;
}

int st_stats(struct st_db *s, struct st_stats *out, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = CRM_OK, own_txn = 0;
	int64_t v = 0;
	char sql[160];
	if (!s || !out)
		return crm_err_set(err, CRM_EINVAL, "st_stats: no database or output");
	memset(out, 0, sizeof *out);
	if (sqlite3_get_autocommit(s->db)) {
		rc = exec(s, "BEGIN", err);
		if (rc)
			return rc;
		own_txn = 1;
	}
	rc = query_i64(s, "PRAGMA user_version", 0, &v, err);
	if (rc)
		goto done;
	out->schema_version = (int)v;
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct ent_desc *d = ent_get(e);
		struct st_entity_stats *es = &out->e[e];
		const char *t = d->time_field >= 0 ? d->fields[d->time_field].name : NULL;
		if (t)
			snprintf(sql, sizeof sql, "SELECT count(*), min(\"%s\"), max(\"%s\")"
				 " FROM \"%s\"", t, t, d->name);
		else
			snprintf(sql, sizeof sql, "SELECT count(*), NULL, NULL FROM \"%s\"", d->name);
		int64_t row[3];
		rc = query_row_i64(s, sql, CRM_NA, row, 3, err);
		if (rc)
			goto done;
		es->rows = row[0];   /* count(*) is never NULL */
		es->first_at = row[1];
		es->last_at = row[2];
	}
	rc = query_i64(s, "SELECT count(DISTINCT cid) FROM orders", 0,
		       &out->customers_with_orders, err);
	if (!rc)
		rc = query_i64(s, "SELECT count(*) FROM customers WHERE is_stub = 1", 0,
			       &out->stub_customers, err);
	if (!rc)
		rc = query_i64(s, "SELECT count(*) FROM imports", 0, &out->imports, err);
	if (!rc)
		rc = query_i64(s, "SELECT sum(n) FROM import_rejects", 0, &out->rejected, err);
	if (!rc)
		rc = stats_currencies(s, out->currencies, sizeof out->currencies, err);
	if (!rc)
		rc = stats_reasons(s, out, err);
	if (rc == CRM_OK)
		rc = stats_rejected(s, out, err);
done:
	sqlite3_finalize(st);
	if (own_txn)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
