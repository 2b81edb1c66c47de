/* store.h - the SQLite system of record (store layer).
 * One database file: schema versioned by migrations (PRAGMA user_version),
 * WAL, foreign keys on. Tables follow the entity schema of core/entity.h:
 * one table per entity named like it, one column per canonical field named
 * like it, FT_REF fields stored as the integer `cid` of customers(cid), so
 * orders.customer_id is the column `cid INTEGER NOT NULL REFERENCES
 * customers(cid)`. customers has `cid INTEGER PRIMARY KEY` and `is_stub`;
 * every other entity table has `rid INTEGER PRIMARY KEY` and a UNIQUE index
 * on its natural key (ent_desc.key, plus `seq` for entities with
 * key_has_seq), where a missing optional key field (spend.campaign,
 * web_events.event) counts as one value. Every entity table has
 * `import_id` (which import stored the row). Also: imports (one row per
 * import run, with its counts), import_rejects (import_id, reason, n) and
 * customer_aliases (alias, cid): old customer_ids of merged customers.
 * A struct st_db is used by one thread at a time.
 *
 * Writes go through a writer that commits every batch_rows rows in one
 * transaction, so a killed import keeps every committed batch and no half
 * batch; natural keys are unique, so re-running it stores nothing twice. */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/entity.h"
#include "crmscope.h"

struct st_db;

enum st_open_mode { ST_OPEN_READ = 0, ST_OPEN_WRITE, ST_OPEN_CREATE };

/* Opens (and with ST_OPEN_CREATE creates) the database at path and applies
 * pending migrations. A database of a newer schema, or another program's
 * SQLite file, is CRM_ESCHEMA; a missing file (READ, WRITE) CRM_ENOTFOUND.
 * ST_OPEN_READ applies no migration: an older schema is CRM_ESCHEMA. Opening
 * for writing also rebuilds a natural key or (cid, time) index that a killed
 * bulk import had dropped (see st_writer_new). *out is the caller's: st_close. */
int st_open(const char *path, int mode, struct st_db **out, struct crm_err *err);
void st_close(struct st_db *db);

/* The schema version this build writes. */
int st_schema_version(void);

/* What happened to a record given to st_put. A customers record whose
 * customer_id is a stub fills the stub in (is_stub becomes 0) and is
 * ST_INSERTED: its record is stored for the first time. A customers record
 * whose customer_id is an alias of a merged customer is ST_DUPLICATE (the
 * customer is stored under its kept id), even with upsert, and
 * ST_DUP_IN_FILE when repeated in the same import. */
enum st_outcome {
	ST_INSERTED = 0,
	ST_UPDATED,         /* upsert replaced a stored record with the same key */
	ST_DUPLICATE,       /* the key was stored by an earlier import: nothing written */
	ST_DUP_IN_FILE,     /* the key came earlier in this same import (stored by it,
	                       or already there: reported ST_DUPLICATE the first time) */
	ST_UNKNOWN_REF      /* strict: the customer does not exist; nothing written */
};

struct st_writer_opts {
	int upsert;          /* 1: replace records whose key is stored */
	int strict;          /* 1: unknown customers are ST_UNKNOWN_REF, not stubs */
	size_t batch_rows;   /* rows per transaction (0: 10000) */
	const char *source;  /* file name, recorded in imports */
	int entity;          /* enum crm_entity being imported */
};

struct st_writer;

/* Starts an import run: records it in imports and loads the customer_id -> cid
 * map. *out is the caller's, ended with st_writer_finish or st_writer_abort;
 * one writer per handle at a time, and not on a ST_OPEN_READ handle.
 * A bulk import (20,000 rows inserted, and at least half the table's size)
 * drops the entity's (cid, time) index and rebuilds it when it finishes or
 * is aborted: a sort is much faster than a random index insert per row.
 * When the natural key is one text field it drops that UNIQUE index too,
 * finds repeated keys in memory (exactly: a match is checked against the
 * stored row), and, unless upsert, hands its INSERTs to a second thread of
 * its own, so that st_put still answers at once; writes of other
 * connections seen at a batch's start end this (see store.c). */
int st_writer_new(struct st_db *db, const struct st_writer_opts *opts,
		  struct st_writer **out, struct crm_err *err);

/* Stores one record (of opts.entity). FT_REF values are customer_id text,
 * looked up among customers and customer_aliases (an alias lands on the
 * merged customer); an unknown customer becomes a stub customer
 * (is_stub = 1) unless strict, and *stub_created tells. A missing optional
 * FT_REF is stored as NULL. Commits when the batch is full (every record
 * given counts towards batch_rows, whatever its outcome). A record that the
 * database would refuse (a required field missing, text over INT_MAX bytes)
 * is CRM_EINVAL/CRM_ERANGE with nothing written, and the writer goes on; a
 * database error makes the writer failed: every later call fails and only
 * st_writer_abort (or finish, which then rolls back) is left. An INSERT that
 * a bulk import's second thread could not do (after st_put answered) fails
 * a later st_put of the same batch, or finish. outcome and stub_created may
 * be NULL. */
int st_put(struct st_writer *w, const struct ent_record *rec, int *outcome,
	   int *stub_created, struct crm_err *err);

/* The counts of an import, saved with it. */
struct st_import_counts {
	int64_t read, stored, updated, duplicates, rejected, stubs;
	size_t n_reasons;
	const char *const *reason;   /* n_reasons reason codes */
	const int64_t *reason_n;     /* rows rejected for each */
};

/* Commits the last batch and saves the counts in the same transaction, and
 * frees w in all cases. counts NULL: the writer's own tallies are saved
 * (read = records given, stored = inserted, duplicates = both kinds,
 * rejected = unknown references). */
int st_writer_finish(struct st_writer *w, const struct st_import_counts *counts,
		     struct crm_err *err);

/* The import_id of w's run (the imports row, and import_id of its rows). */
int64_t st_writer_import_id(const struct st_writer *w);

/* Rolls back the open batch and frees w (committed batches stay). */
void st_writer_abort(struct st_writer *w);

/* Calls fn for every row of entity, in primary-key order (cid, rid: the
 * order rows were first stored); FT_REF values come as text (the
 * customer's customer_id), FT_ENUM as text with its code in .i, so records
 * round-trip; rec->line is 0; is_stub is 0 but for stub customers. fn
 * returns CRM_OK to go on; any other status stops the scan and is returned
 * as is. Text is borrowed until fn returns. One read snapshot. */
typedef int (*st_row_fn)(void *ctx, const struct ent_record *rec, int is_stub);
int st_scan(struct st_db *db, int entity, st_row_fn fn, void *ctx,
	    struct crm_err *err);

/* st_scan of only the rows whose primary key (cid for customers, rid for
 * the others) is in [lo, hi]. Scans of disjoint ranges on different
 * handles (one per thread) cover the table between them; each is its own
 * read snapshot, so they agree only while no one writes (crm_dataset_load_db
 * scans a table in two ranges on two threads this way). */
int st_scan_range(struct st_db *db, int entity, int64_t lo, int64_t hi,
		  st_row_fn fn, void *ctx, struct crm_err *err);

/* The smallest and largest primary key of entity's table (cid or rid), in
 * one snapshot; an empty table gives *lo = 1, *hi = 0. */
int st_key_bounds(struct st_db *db, int entity, int64_t *lo, int64_t *hi,
		  struct crm_err *err);

/* Row count of an entity's table. */
int st_count(struct st_db *db, int entity, int64_t *n, struct crm_err *err);

struct st_entity_stats {
	int64_t rows;
	int64_t first_at, last_at;   /* range of the entity's time field, CRM_NA if none */
	int64_t rejected;            /* rows of this entity rejected by imports so far */
	int64_t read;                /* rows read by its imports so far (lines for order
	                                lines: the unit of rejected) */
};

struct st_stats {
	int schema_version;
	struct st_entity_stats e[CRM_N_ENTITIES];
	int64_t customers_with_orders;
	int64_t stub_customers;
	char currencies[256];        /* distinct order currencies in byte order, comma-separated
	                                ("" none set; ",..." ends a list cut short) */
	int64_t imports;             /* import runs recorded */
	int64_t rejected;            /* rows rejected by all imports so far */
	size_t n_reasons;
	char reason[32][32];         /* reject reason codes so far, most frequent first
	                                (ties by name; cut to 31 bytes) */
	int64_t reason_n[32];
};

int st_stats(struct st_db *db, struct st_stats *out, struct crm_err *err);

#endif
