/* schema.h - the store's SQL schema and its migrations (store layer).
 * The entity tables are generated from the entity schema of core/entity.h;
 * migrations are an ordered list, migration k bringing PRAGMA user_version
 * from k - 1 to k inside one transaction. Only store.c includes this. */
#ifndef STORE_SCHEMA_H
#define STORE_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/entity.h"
#include "crmscope.h"

/* PRAGMA application_id of a crmscope database: "CRMS" as a big-endian
 * 32-bit integer, so that another program's SQLite file is told apart. */
#define ST_APPLICATION_ID 0x43524D53

/* The SQL column of field f of entity d: the field's name, or "cid" for the
 * FT_REF field. Static string. */
const char *st_col_name(const struct ent_desc *d, size_t f);

/* Appends to b the indexed expression of key field f of d: the quoted
 * column, or coalesce("col", '') when the field is optional, so that a
 * missing value is one key value (NULLs are otherwise all distinct in a
 * UNIQUE index). 0, or -1 on ENOMEM. */
int st_key_expr(struct buf *b, const struct ent_desc *d, size_t f);

/* Appends the double-quoted identifier s to b. 0, or -1 on ENOMEM. */
int st_put_ident(struct buf *b, const char *s);

/* 1 when entity d has a secondary index on (cid, time field): the one
 * index a bulk import may drop and rebuild (see store.c). */
int st_has_index(const struct ent_desc *d);

/* Appends the CREATE INDEX statement of d's (cid, time) index, named
 * "<entity>_cid_time", if d has one. 0, or -1 on ENOMEM. */
int st_index_sql(struct buf *b, const struct ent_desc *d, int if_not_exists);

/* Appends the CREATE UNIQUE INDEX statement of d's natural key index,
 * named "<entity>_key" (nothing for customers, whose customer_id is a
 * UNIQUE column). 0, or -1 on ENOMEM. */
int st_key_index_sql(struct buf *b, const struct ent_desc *d, int if_not_exists);

/* Creates every natural key and (cid, time) index that is missing: one a
 * bulk import dropped and did not rebuild because it was killed. */
int st_ensure_indexes(sqlite3 *db, const char *path, struct crm_err *err);

/* Brings the database db (named path in messages) to this build's schema.
 * read_only: no migration may run, so an older schema is CRM_ESCHEMA.
 * A newer schema, another program's database, or a non-empty database
 * without a schema version are CRM_ESCHEMA. *version is the schema version
 * afterwards. */
int st_migrate(sqlite3 *db, const char *path, int read_only, int *version,
	       struct crm_err *err);

#endif
