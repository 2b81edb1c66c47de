/* schema.c - the store's tables, generated from the entity schema, and the
 * ordered list of migrations that build them (store layer).
 *
 * Migration 1 is generated from core/entity.c as it stands. When a field is
 * added there later, migration 1 must first be frozen (its SQL pasted here as
 * text, as generated before the change), and a new migration must add the
 * column with ALTER TABLE: databases made by older builds have only the old
 * columns, and the writer's generated SQL names every field. Migration 2
 * (merges) copies the customers' columns into merge_customers the same way:
 * a customer field added later needs its ALTER TABLE on both tables, and
 * migration 2 frozen too. */
#include "schema.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "store.h"

const char *st_col_name(const struct ent_desc *d, size_t f)
{
	return d->fields[f].type == FT_REF ? "cid" : d->fields[f].name;
}

int st_put_ident(struct buf *b, const char *s)
{
	/* entity and field names are lower_snake_case: no quote to double */
	return buf_printf(b, "\"%s\"", s);
}

int st_key_expr(struct buf *b, const struct ent_desc *d, size_t f)
{
	if (d->fields[f].required)
		return st_put_ident(b, st_col_name(d, f));
	if (buf_puts(b, "coalesce(") != 0 || st_put_ident(b, st_col_name(d, f)) != 0)
		return -1;
	return buf_puts(b, ", '')");
}

int st_has_index(const struct ent_desc *d)
{
	return d->customer_field >= 0 && d->time_field >= 0;
}

int st_index_sql(struct buf *b, const struct ent_desc *d, int if_not_exists)
{
	if (!st_has_index(d))
		return 0;
	/* per-customer histories in time order, for analyses and merges */
	return buf_printf(b, "CREATE INDEX %s\"%s_cid_time\" ON \"%s\"(cid, \"%s\");\n",
			  if_not_exists ? "IF NOT EXISTS " : "", d->name, d->name,
			  d->fields[d->time_field].name);
}

int st_key_index_sql(struct buf *b, const struct ent_desc *d, int if_not_exists)
{
	if (ent_get(CRM_CUSTOMERS) == d)
		return 0;   /* customers: the UNIQUE constraint of customer_id */
	if (buf_printf(b, "CREATE UNIQUE INDEX %s\"%s_key\" ON ",
		       if_not_exists ? "IF NOT EXISTS " : "", d->name) ||
	    st_put_ident(b, d->name) || buf_putc(b, '('))
		return -1;
	for (size_t k = 0; d->key[k] >= 0; k++)
		if ((k && buf_puts(b, ", ")) || st_key_expr(b, d, (size_t)d->key[k]))
			return -1;
	if ((d->key_has_seq && buf_puts(b, ", seq")) || buf_puts(b, ");\n"))
		return -1;
	return 0;
}

static const char *sql_type(int type)
{
	switch (type) {
	case FT_ID: case FT_TEXT: case FT_CAT: case FT_ENUM:
		return "TEXT";   /* FT_ENUM as its value's text, not its code */
	default:
		return "INTEGER";
	}
}

/* CREATE TABLE and its indexes for entity e. */
static int entity_sql(struct buf *b, int e)
{
	const struct ent_desc *d = ent_get(e);
	int is_customers = e == CRM_CUSTOMERS;

	if (buf_puts(b, "CREATE TABLE ") || st_put_ident(b, d->name) ||
	    buf_puts(b, is_customers ? "(cid INTEGER PRIMARY KEY" :
		     "(rid INTEGER PRIMARY KEY"))
		return -1;
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_field *fd = &d->fields[f];
		if (buf_puts(b, ", ") || st_put_ident(b, st_col_name(d, f)))
			return -1;
		if (fd->type == FT_REF) {
			if (buf_puts(b, " INTEGER") ||
			    (d->customer_required && buf_puts(b, " NOT NULL")) ||
			    buf_puts(b, " REFERENCES customers(cid)"))
				return -1;
			continue;
		}
		if (buf_printf(b, " %s", sql_type(fd->type)) ||
		    (fd->required && buf_puts(b, " NOT NULL")) ||
		    (is_customers && (int)f == d->id_field && buf_puts(b, " UNIQUE")))
			return -1;
	}
	if (d->key_has_seq && buf_puts(b, ", seq INTEGER NOT NULL"))
		return -1;
	if (is_customers && buf_puts(b, ", is_stub INTEGER NOT NULL DEFAULT 0"))
		return -1;
	if (buf_puts(b, ", import_id INTEGER);\n"))
		return -1;

	/* the natural key: what makes re-running an import store nothing twice */
	if (!is_customers && st_key_index_sql(b, d, 0))
		return -1;
	return st_index_sql(b, d, 0);
}

/* Migration 1: every table. */
static int migration_1(struct buf *b)
{
	if (buf_printf(b, "PRAGMA application_id = %d;\n", ST_APPLICATION_ID) ||
	    buf_puts(b,
		     "CREATE TABLE imports(import_id INTEGER PRIMARY KEY,"
		     " entity TEXT NOT NULL, source TEXT, started_at INTEGER NOT NULL,"
		     " finished_at INTEGER, read INTEGER, stored INTEGER,"
		     " updated INTEGER, duplicates INTEGER, rejected INTEGER,"
		     " stubs INTEGER);\n"
		     "CREATE TABLE import_rejects(import_id INTEGER NOT NULL"
		     " REFERENCES imports(import_id), reason TEXT NOT NULL,"
		     " n INTEGER NOT NULL, PRIMARY KEY(import_id, reason))"
		     " WITHOUT ROWID;\n"))
		return -1;
	if (entity_sql(b, CRM_CUSTOMERS))
		return -1;
	/* old customer_ids of merged customers, routed to the one kept */
	if (buf_puts(b, "CREATE TABLE customer_aliases(alias TEXT PRIMARY KEY,"
		     " cid INTEGER NOT NULL REFERENCES customers(cid)) WITHOUT ROWID;\n"
		     "CREATE INDEX customer_aliases_cid ON customer_aliases(cid);\n"))
		return -1;
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		if (e != CRM_CUSTOMERS && entity_sql(b, e))
			return -1;
	return 0;
}

/* Migration 2: merging duplicate customers and undoing it (store/merge.c,
 * issue 3). Only new tables, so it is quick on a database of any size.
 * No foreign key points at customers: a kept customer may itself be merged
 * later, and the log keeps it. The log names the kept customer by its
 * customer_id: a cid freed by a merge can be given to a new customer. */
static int migration_2(struct buf *b)
{
	const struct ent_desc *d = ent_get(CRM_CUSTOMERS);
	if (buf_puts(b,
		     /* one row per merge of a group; undone_at set by its undo */
		     "CREATE TABLE merges(merge_id INTEGER PRIMARY KEY,"
		     " kept_id TEXT NOT NULL, kept_cid INTEGER NOT NULL,"
		     " merged_at INTEGER NOT NULL, prob REAL, evidence TEXT,"
		     " undone_at INTEGER);\n"
		     "CREATE INDEX merges_kept ON merges(kept_id);\n"
		     /* the merged customers' rows as they were: every column */
		     "CREATE TABLE merge_customers(merge_id INTEGER NOT NULL"
		     " REFERENCES merges(merge_id), cid INTEGER NOT NULL"))
		return -1;
	for (size_t f = 0; f < d->n_fields; f++)
		if (buf_puts(b, ", ") || st_put_ident(b, st_col_name(d, f)) ||
		    buf_printf(b, " %s", sql_type(d->fields[f].type)))
			return -1;
	return buf_puts(b,
			", is_stub INTEGER NOT NULL, import_id INTEGER,"
			" PRIMARY KEY(merge_id, cid));\n"
			"CREATE INDEX merge_customers_id ON merge_customers(customer_id);\n"
			/* the rows a merge moved: entity table, row, the cid it had */
			"CREATE TABLE merge_rows(merge_id INTEGER NOT NULL"
			" REFERENCES merges(merge_id), entity TEXT NOT NULL,"
			" rid INTEGER NOT NULL, from_cid INTEGER NOT NULL,"
			" PRIMARY KEY(merge_id, entity, rid)) WITHOUT ROWID;\n"
			/* the kept customer's blank fields that a merge filled */
			"CREATE TABLE merge_fills(merge_id INTEGER NOT NULL"
			" REFERENCES merges(merge_id), field TEXT NOT NULL, old, new,"
			" PRIMARY KEY(merge_id, field)) WITHOUT ROWID;\n"
			/* aliases a merge added (own: a merged customer's own
			 * customer_id) or pointed at the kept customer (own = 0:
			 * an alias of a merged customer, from_cid) */
			"CREATE TABLE merge_aliases(merge_id INTEGER NOT NULL"
			" REFERENCES merges(merge_id), alias TEXT NOT NULL,"
			" from_cid INTEGER NOT NULL, own INTEGER NOT NULL,"
			" PRIMARY KEY(merge_id, alias)) WITHOUT ROWID;\n"
			/* rows an import stored through an alias (store.c) */
			"CREATE TABLE alias_rows(entity TEXT NOT NULL, rid INTEGER NOT NULL,"
			" alias TEXT NOT NULL, PRIMARY KEY(entity, rid)) WITHOUT ROWID;\n"
			"CREATE INDEX alias_rows_alias ON alias_rows(alias);\n"
			/* the dedupe watermark: one row */
			"CREATE TABLE dedupe_state(id INTEGER PRIMARY KEY CHECK(id = 1),"
			" max_cid INTEGER NOT NULL, pending INTEGER NOT NULL);\n");
}

/* The migrations in order: migrations[k - 1] makes schema version k. */
static int (*const migrations[])(struct buf *) = { migration_1, migration_2 };
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int st_schema_version(void)
{
	return (int)N_MIGRATIONS;
}

static int db_error(sqlite3 *db, const char *path, const char *what,
		    struct crm_err *err)
{
	return crm_err_set(err, CRM_EDB, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static int pragma_int(sqlite3 *db, const char *path, const char *sql, int *out,
		      struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = CRM_OK;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = db_error(db, path, sql, err);
		goto done;
	}
	*out = sqlite3_column_int(st, 0);
done:
	sqlite3_finalize(st);
	return rc;
}

/* Checks that the database is a crmscope one (or empty). */
static int check_identity(sqlite3 *db, const char *path, int version,
			  struct crm_err *err)
{
	int app_id = 0, n_objects = 0;
	int rc = pragma_int(db, path, "PRAGMA application_id", &app_id, err);
	if (rc)
		return rc;
	if (version > 0 && app_id != ST_APPLICATION_ID)
		return crm_err_set(err, CRM_ESCHEMA,
				   "%s: not a crmscope database (application_id %d,"
				   " user_version %d)", path, app_id, version);
	if (version == 0) {
		rc = pragma_int(db, path, "SELECT count(*) FROM sqlite_master",
				&n_objects, err);
		if (rc)
			return rc;
		if (n_objects > 0)
			return crm_err_set(err, CRM_ESCHEMA,
					   "%s: not a crmscope database: it has %d schema"
					   " objects but no schema version", path, n_objects);
	}
	return CRM_OK;
}

/* Applies migration k in its own transaction, unless another connection did
 * it meanwhile. */
static int apply(sqlite3 *db, const char *path, int k, struct crm_err *err)
{
	struct buf sql;
	int rc = CRM_OK, in_txn = 0, now = 0;
	buf_init(&sql);

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(db, path, "starting a migration", err);
		goto done;
	}
	in_txn = 1;
	rc = pragma_int(db, path, "PRAGMA user_version", &now, err);
	if (rc)
		goto done;
	if (now < k) {
		if (migrations[k - 1](&sql) ||
		    buf_printf(&sql, "PRAGMA user_version = %d;\n", k)) {
			rc = crm_err_set(err, CRM_ENOMEM, "%s: migration %d: out of memory",
					 path, k);
			goto done;
		}
		if (sqlite3_exec(db, sql.p, NULL, NULL, NULL) != SQLITE_OK) {
			char what[64];
			snprintf(what, sizeof what, "migration %d", k);
			rc = db_error(db, path, what, err);
			goto done;
		}
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(db, path, "committing a migration", err);
		goto done;
	}
	in_txn = 0;
done:
	if (in_txn)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	buf_fini(&sql);
	return rc;
}

int st_migrate(sqlite3 *db, const char *path, int read_only, int *version,
	       struct crm_err *err)
{
	int v = 0, latest = st_schema_version();
	int rc = pragma_int(db, path, "PRAGMA user_version", &v, err);
	if (rc)
		return rc;
	rc = check_identity(db, path, v, err);
	if (rc)
		return rc;
	if (v > latest)
		return crm_err_set(err, CRM_ESCHEMA,
				   "%s: database schema version %d is newer than version"
				   " %d of this build of crmscope; use a newer crmscope",
				   path, v, latest);
	if (v < latest && read_only)
		return crm_err_set(err, CRM_ESCHEMA,
				   v == 0 ? "%s: empty database (schema version %d), not"
				   " created by crmscope import; expected version %d" :
				   "%s: database schema version %d is older than version %d;"
				   " open it for writing (crmscope import) to migrate it",
				   path, v, latest);
	for (int k = v + 1; k <= latest; k++) {
		rc = apply(db, path, k, err);
		if (rc)
			return rc;
	}
	if (v < latest) {
		rc = pragma_int(db, path, "PRAGMA user_version", &v, err);
		if (rc)
			return rc;
	}
	*version = v;
	return CRM_OK;
}

int st_ensure_indexes(sqlite3 *db, const char *path, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	struct buf sql;
	int rc = CRM_OK;
	buf_init(&sql);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
			       " AND name = ?1", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, path, "looking for indexes", err);
		goto done;
	}
	/* k = 0: the natural key index (first: it is the one that matters for
	 * correctness), k = 1: the (cid, time) index */
	for (int k = 0; k < 2; k++) {
		for (int e = 0; e < CRM_N_ENTITIES; e++) {
			const struct ent_desc *d = ent_get(e);
			char name[64];
			if (k == 0 ? e == CRM_CUSTOMERS : !st_has_index(d))
				continue;
			snprintf(name, sizeof name, k == 0 ? "%s_key" : "%s_cid_time", d->name);
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			int src = sqlite3_step(st);
			int exists = src == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
			sqlite3_reset(st);
			if (src != SQLITE_ROW) {
				rc = db_error(db, path, "looking for indexes", err);
				goto done;
			}
			if (!exists && (k == 0 ? st_key_index_sql(&sql, d, 1) :
					st_index_sql(&sql, d, 1)) != 0) {
				rc = crm_err_set(err, CRM_ENOMEM, "%s: indexes: out of memory", path);
				goto done;
			}
		}
	}
	if (sql.len && sqlite3_exec(db, sql.p, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(db, path, "rebuilding an index", err);
done:
	sqlite3_finalize(st);
	buf_fini(&sql);
	return rc;
}
