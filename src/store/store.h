/* store.h - the SQLite system of record (store layer).
 * One database file: schema versioned by migrations (PRAGMA user_version),
 * WAL, foreign keys on. Tables follow the entity schema of core/entity.h:
 * one table per entity named like it, one column per canonical field named
 * like it, FT_REF fields stored as the integer `cid` of customers(cid), so
 * orders.customer_id is the column `cid INTEGER NOT NULL REFERENCES
 * customers(cid)`. Every entity table has `import_id` (which import stored
 * the row), entities with key_has_seq have `seq`. customers has `is_stub`.
 * Also: imports (one row per import run, with its counts) and
 * import_rejects (import_id, reason, n).
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
 * pending migrations. A database of a newer schema is CRM_ESCHEMA. */
int st_open(const char *path, int mode, struct st_db **out, struct crm_err *err);
void st_close(struct st_db *db);

/* The schema version this build writes. */
int st_schema_version(void);

/* What happened to a record given to st_put. */
enum st_outcome {
	ST_INSERTED = 0,
	ST_UPDATED,         /* upsert replaced a stored record with the same key */
	ST_DUPLICATE,       /* the key was stored by an earlier import: nothing written */
	ST_DUP_IN_FILE,     /* the key was stored earlier in this same import */
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
 * map. *out is the caller's, ended with st_writer_finish or st_writer_abort. */
int st_writer_new(struct st_db *db, const struct st_writer_opts *opts,
		  struct st_writer **out, struct crm_err *err);

/* Stores one record (of opts.entity). FT_REF values are customer_id text;
 * an unknown customer becomes a stub customer (is_stub = 1) unless strict,
 * and *stub_created tells. Commits when the batch is full. */
int st_put(struct st_writer *w, const struct ent_record *rec, int *outcome,
	   int *stub_created, struct crm_err *err);

/* The counts of an import, saved with it. */
struct st_import_counts {
	int64_t read, stored, updated, duplicates, rejected, stubs;
	size_t n_reasons;
	const char *const *reason;   /* n_reasons reason codes */
	const int64_t *reason_n;     /* rows rejected for each */
};

/* Commits the last batch, saves the counts and frees w. */
int st_writer_finish(struct st_writer *w, const struct st_import_counts *counts,
		     struct crm_err *err);

/* Rolls back the open batch and frees w (committed batches stay). */
void st_writer_abort(struct st_writer *w);

/* Calls fn for every row of entity, in primary-key order; FT_REF values come
 * as text (the customer's customer_id), so records round-trip. fn returns
 * CRM_OK to go on. Text is borrowed until fn returns. */
typedef int (*st_row_fn)(void *ctx, const struct ent_record *rec, int is_stub);
int st_scan(struct st_db *db, int entity, st_row_fn fn, void *ctx,
	    struct crm_err *err);

/* Row count of an entity's table. */
int st_count(struct st_db *db, int entity, int64_t *n, struct crm_err *err);

struct st_entity_stats {
	int64_t rows;
	int64_t first_at, last_at;   /* range of the entity's time field, CRM_NA if none */
};

struct st_stats {
	int schema_version;
	struct st_entity_stats e[CRM_N_ENTITIES];
	int64_t customers_with_orders;
	int64_t stub_customers;
	char currencies[256];        /* distinct order currencies, comma-separated ("" none set) */
	int64_t imports;             /* import runs recorded */
	int64_t rejected;            /* rows rejected by all imports so far */
	size_t n_reasons;
	char reason[32][32];         /* reject reason codes so far, most frequent first */
	int64_t reason_n[32];
};

int st_stats(struct st_db *db, struct st_stats *out, struct crm_err *err);

#endif
