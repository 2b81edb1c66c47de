/* merge.c - merging duplicate customers in the store and undoing it (store
 * layer). A merge moves rows to the kept customer, fills its blanks, turns
 * the merged customers' ids into aliases, and logs each of these steps in
 * the tables of migration 2 (schema.c) so that st_merge_undo can take them
 * back one by one. The rules are in docs/CLEAN.md, "Merging and undo". */
#include "merge.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "schema.h"
#include "store_int.h"

/* The statements of one apply, prepared once for all its groups. */
enum {
	Q_FIND,           /* cid, signup_at of a customer_id */
	Q_ALIAS_OF,       /* the customer_id that an alias points at */
	Q_NEW_MERGE,      /* a merges row */
	Q_ROW,            /* a customer's fillable columns, then is_stub */
	Q_SAVE_CUST,      /* a merged customer's row into merge_customers */
	Q_FILL_LOG,       /* merge_fills row */
	Q_SAVE_ALIASES,   /* the aliases of a merged customer into merge_aliases */
	Q_MOVE_ALIASES,   /* ... and pointed at the kept one */
	Q_DEL_CUST,       /* the merged customer's row */
	Q_ADD_ALIAS,      /* its customer_id as an alias */
	Q_OWN_ALIAS_LOG,  /* ... logged */
	Q_N
};

struct mctx {
	sqlite3 *db;
	const char *path;                     /* for messages (borrowed) */
	int in_txn;
	sqlite3_stmt *q[Q_N];
	sqlite3_stmt *log_rows[CRM_N_ENTITIES]; /* merge_rows of a customer's rows */
	sqlite3_stmt *move[CRM_N_ENTITIES];     /* those rows to the kept customer */
	sqlite3_stmt *set_col[CRM_MAX_FIELDS + 1]; /* UPDATE customers SET column c */
};

/* A customer of a group. */
struct member {
	int64_t cid;
	int64_t signup_at;
	int has_signup;
	const char *id;          /* the group's text (borrowed) */
};

/* A merged customer being restored by an undo. */
struct restored {
	int64_t old_cid, new_cid;
};

/* An alias logged by a merge. */
struct logged_alias {
	char *alias;             /* owned */
	int64_t from_cid;
	int own;
};

static int status_of(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_NOMEM: return CRM_ENOMEM;
	case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN: return CRM_EIO;
	default: return CRM_EDB;
	}
}

static int fail(const struct mctx *m, int src, const char *what, struct crm_err *err)
{
	return crm_err_set(err, status_of(src), "%s: %s: %s", m->path, what,
			   sqlite3_errmsg(m->db));
}

static int prep(struct mctx *m, const char *sql, sqlite3_stmt **st, struct crm_err *err)
{
	int src = sqlite3_prepare_v3(m->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (src != SQLITE_OK)
		return crm_err_set(err, status_of(src), "%s: preparing \"%.200s\": %s",
				   m->path, sql, sqlite3_errmsg(m->db));
	return CRM_OK;
}

/* Steps a bound statement that returns no row, and resets it. */
static int run(struct mctx *m, sqlite3_stmt *st, const char *what, struct crm_err *err)
{
	int src = sqlite3_step(st);
	int rc = src == SQLITE_DONE ? CRM_OK : fail(m, src, what, err);
	sqlite3_reset(st);
	return rc;
}

/* Runs sql (no parameters, no rows). */
static int exec(struct mctx *m, const char *sql, struct crm_err *err)
{
	int src = sqlite3_exec(m->db, sql, NULL, NULL, NULL);
	return src == SQLITE_OK ? CRM_OK : fail(m, src, sql, err);
}

/* One integer from st, its ?1 bound to a unless bind_a is 0 (bound by the
 * caller, or none); *found 0 when it returns no row. */
static int one_i64(struct mctx *m, sqlite3_stmt *st, int bind_a, int64_t a, int64_t *out,
		   int *found, struct crm_err *err)
{
	if (bind_a)
		sqlite3_bind_int64(st, 1, a);
	int src = sqlite3_step(st);
	*found = src == SQLITE_ROW;
	if (src == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? CRM_OK :
		fail(m, src, "reading the merge log", err);
}

static int begin(struct mctx *m, struct st_db *s, struct crm_err *err)
{
	memset(m, 0, sizeof *m);
	int rc = st_db_conn(s, 1, &m->db, &m->path, err);
	if (rc)
		return rc;
	rc = exec(m, "BEGIN IMMEDIATE", err);
	m->in_txn = rc == CRM_OK;
	return rc;
}

/* Commits when rc is CRM_OK, else rolls back; frees the statements. */
static int end(struct mctx *m, int rc, struct crm_err *err)
{
	if (rc == CRM_OK && m->in_txn) {
		rc = exec(m, "COMMIT", err);
		m->in_txn = rc != CRM_OK;
	}
	if (m->in_txn)
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
	m->in_txn = 0;
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize(m->q[i]);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		sqlite3_finalize(m->log_rows[e]);
		sqlite3_finalize(m->move[e]);
	}
	for (size_t c = 0; c <= CRM_MAX_FIELDS; c++)
		sqlite3_finalize(m->set_col[c]);
	return rc;
}

/* The customers columns copied to and from merge_customers, after cid:
 * every field, is_stub, import_id. 0, or -1 on ENOMEM. */
static int customer_cols(struct buf *b)
{
	const struct ent_desc *d = ent_get(CRM_CUSTOMERS);
	for (size_t f = 0; f < d->n_fields; f++)
		if (st_put_ident(b, st_col_name(d, f)) || buf_puts(b, ", "))
			return -1;
	return buf_puts(b, "is_stub, import_id");
}

/* The fillable columns of customers: every field but customer_id, then
 * is_stub (column n - 1). Static name of column c, or NULL past them. */
static const char *fill_col(size_t c)
{
	const struct ent_desc *d = ent_get(CRM_CUSTOMERS);
	size_t f = c + (c >= (size_t)d->id_field);   /* skip customer_id */
	if (f < d->n_fields)
		return d->fields[f].name;
	return f == d->n_fields ? "is_stub" : NULL;
}

#define N_FILL_COLS CRM_C_N   /* n_fields - 1 fields + is_stub */

/* The UPDATE of fillable column c of customer ?2 to ?1, where ?3 is NULL
 * or the column still holds ?4. Prepared on first use, kept in m. */
static int set_col_stmt(struct mctx *m, size_t c, sqlite3_stmt **out, struct crm_err *err)
{
	struct buf sql;
	int rc = CRM_OK;
	if (m->set_col[c]) {
		*out = m->set_col[c];
		return CRM_OK;
	}
	buf_init(&sql);
	if (buf_puts(&sql, "UPDATE customers SET ") || st_put_ident(&sql, fill_col(c)) ||
	    buf_puts(&sql, " = ?1 WHERE cid = ?2 AND (?3 IS NULL OR ") ||
	    st_put_ident(&sql, fill_col(c)) || buf_puts(&sql, " IS ?4)"))
		rc = crm_err_set(err, CRM_ENOMEM, "%s: merge: out of memory", m->path);
	if (!rc)
		rc = prep(m, sql.p, &m->set_col[c], err);
	buf_fini(&sql);
	*out = m->set_col[c];
	return rc;
}

/* ---------------------------------------------------------------- apply */

static int prepare_apply(struct mctx *m, struct crm_err *err)
{
	const struct ent_desc *cd = ent_get(CRM_CUSTOMERS);
	struct buf sql;
	int rc = CRM_OK;
	buf_init(&sql);
	static const struct { int q; const char *sql; } fixed[] = {
		{ Q_FIND, "SELECT cid, signup_at FROM customers WHERE customer_id = ?1" },
		{ Q_ALIAS_OF, "SELECT c.customer_id FROM customer_aliases a JOIN customers c"
		  " USING(cid) WHERE a.alias = ?1" },
		{ Q_NEW_MERGE, "INSERT INTO merges(kept_cid, merged_at, prob, evidence, kept_id)"
		  " VALUES(?1, ?2, ?3, ?4, ?5)" },
		{ Q_FILL_LOG, "INSERT INTO merge_fills(merge_id, field, old, new)"
		  " VALUES(?1, ?2, ?3, ?4)" },
		{ Q_SAVE_ALIASES, "INSERT INTO merge_aliases(merge_id, alias, from_cid, own)"
		  " SELECT ?1, alias, cid, 0 FROM customer_aliases WHERE cid = ?2" },
		{ Q_MOVE_ALIASES, "UPDATE customer_aliases SET cid = ?1 WHERE cid = ?2" },
		{ Q_DEL_CUST, "DELETE FROM customers WHERE cid = ?1" },
		{ Q_ADD_ALIAS, "INSERT INTO customer_aliases(alias, cid) VALUES(?1, ?2)" },
		{ Q_OWN_ALIAS_LOG, "INSERT INTO merge_aliases(merge_id, alias, from_cid, own)"
		  " VALUES(?1, ?2, ?3, 1)" },
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && !rc; i++)
		rc = prep(m, fixed[i].sql, &m->q[fixed[i].q], err);
	if (rc)
		goto done;

	/* Q_ROW: the fillable columns in fill_col order */
	if (buf_puts(&sql, "SELECT "))
		goto oom;
	for (size_t c = 0; fill_col(c); c++)
		if ((c && buf_puts(&sql, ", ")) || st_put_ident(&sql, fill_col(c)))
			goto oom;
	if (buf_puts(&sql, " FROM customers WHERE cid = ?1"))
		goto oom;
	rc = prep(m, sql.p, &m->q[Q_ROW], err);
	if (rc)
		goto done;

	sql.len = 0;
	if (buf_puts(&sql, "INSERT INTO merge_customers(merge_id, cid, ") ||
	    customer_cols(&sql) || buf_puts(&sql, ") SELECT ?1, cid, ") ||
	    customer_cols(&sql) || buf_puts(&sql, " FROM customers WHERE cid = ?2"))
		goto oom;
	rc = prep(m, sql.p, &m->q[Q_SAVE_CUST], err);

	for (int e = 0; e < CRM_N_ENTITIES && !rc; e++) {
		const struct ent_desc *d = ent_get(e);
		if (d->customer_field < 0 || d == cd)
			continue;
		sql.len = 0;
		if (buf_printf(&sql, "INSERT INTO merge_rows(merge_id, entity, rid, from_cid)"
			       " SELECT ?1, '%s', rid, cid FROM ", d->name) ||
		    st_put_ident(&sql, d->name) || buf_puts(&sql, " WHERE cid = ?2"))
			goto oom;
		rc = prep(m, sql.p, &m->log_rows[e], err);
		sql.len = 0;
		if (!rc && (buf_puts(&sql, "UPDATE ") || st_put_ident(&sql, d->name) ||
			    buf_puts(&sql, " SET cid = ?1 WHERE cid = ?2")))
			goto oom;
		if (!rc)
			rc = prep(m, sql.p, &m->move[e], err);
	}
	goto done;
oom:
	rc = crm_err_set(err, CRM_ENOMEM, "%s: merge: out of memory", m->path);
done:
	buf_fini(&sql);
	return rc;
}

/* Oldest first: a signup_at before none, earlier before later, then the
 * smaller cid. */
static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	if (a->has_signup != b->has_signup)
		return a->has_signup ? -1 : 1;
	if (a->has_signup && a->signup_at != b->signup_at)
		return a->signup_at < b->signup_at ? -1 : 1;
	return (a->cid > b->cid) - (a->cid < b->cid);
}

/* Finds the group's customers and orders them oldest first. */
static int find_members(struct mctx *m, const struct st_merge_group *g,
			struct member *mem, struct crm_err *err)
{
	sqlite3_stmt *st = m->q[Q_FIND];
	for (size_t i = 0; i < g->n; i++) {
		const char *id = g->ids[i];
		if (!id)
			return crm_err_set(err, CRM_EINVAL, "%s: merge: customer_id %zu of a"
					   " group is missing", m->path, i + 1);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		int src = sqlite3_step(st);
		if (src == SQLITE_ROW) {
			mem[i].cid = sqlite3_column_int64(st, 0);
			mem[i].has_signup = sqlite3_column_type(st, 1) != SQLITE_NULL;
			mem[i].signup_at = sqlite3_column_int64(st, 1);
			mem[i].id = id;
		}
		sqlite3_reset(st);
		if (src != SQLITE_ROW && src != SQLITE_DONE)
			return fail(m, src, "finding a customer", err);
		if (src == SQLITE_DONE) {
			/* say what it is, if it is an alias */
			char of[128] = "";
			sqlite3_stmt *as = m->q[Q_ALIAS_OF];
			sqlite3_bind_text(as, 1, id, -1, SQLITE_STATIC);
			if (sqlite3_step(as) == SQLITE_ROW)
				snprintf(of, sizeof of, " (it is an alias of customer %s, merged"
					 " earlier)", (const char *)sqlite3_column_text(as, 0));
			sqlite3_reset(as);
			return crm_err_set(err, CRM_ENOTFOUND, "%s: merge: customer_id %s is not"
					   " a stored customer%s", m->path, id, of);
		}
		for (size_t j = 0; j < i; j++)
			if (mem[j].cid == mem[i].cid)
				return crm_err_set(err, CRM_EINVAL, "%s: merge: customer_id %s is"
						   " twice in one group", m->path, id);
	}
	qsort(mem, g->n, sizeof *mem, member_cmp);
	return CRM_OK;
}

static int is_blank(sqlite3_value *v)
{
	int t = sqlite3_value_type(v);
	return t == SQLITE_NULL || (t == SQLITE_TEXT && sqlite3_value_bytes(v) == 0);
}

/* Fills the kept customer's blank columns from the merged ones, oldest
 * first, and logs each fill. A stub kept customer (is_stub 1) takes 0 from
 * a merged customer that is not a stub. */
static int fill_blanks(struct mctx *m, int64_t merge_id, const struct member *mem,
		       size_t n, struct crm_err *err)
{
	sqlite3_value *kept[N_FILL_COLS] = { 0 }, *fill[N_FILL_COLS] = { 0 };
	sqlite3_stmt *row = m->q[Q_ROW];
	const size_t stub_col = N_FILL_COLS - 1;
	int rc = CRM_OK, src;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_bind_int64(row, 1, mem[i].cid);
		src = sqlite3_step(row);
		if (src != SQLITE_ROW) {
			rc = fail(m, src, "reading a customer", err);
			break;
		}
		for (size_t c = 0; c < N_FILL_COLS && !rc; c++) {
			sqlite3_value *v = sqlite3_column_value(row, (int)c);
			int takes = i == 0 || (!fill[c] && (c == stub_col ?
				sqlite3_value_int64(kept[c]) == 1 && sqlite3_value_int64(v) == 0 :
				is_blank(kept[c]) && !is_blank(v)));
			if (takes && !(*(i == 0 ? &kept[c] : &fill[c]) = sqlite3_value_dup(v)))
				rc = crm_err_set(err, CRM_ENOMEM, "%s: merge: out of memory", m->path);
		}
		sqlite3_reset(row);
	}
	sqlite3_stmt *log = m->q[Q_FILL_LOG];
	for (size_t c = 0; c < N_FILL_COLS && !rc; c++) {
		sqlite3_stmt *set = NULL;
		if (!fill[c])
			continue;
		rc = set_col_stmt(m, c, &set, err);
		if (rc)
			break;
		sqlite3_bind_value(set, 1, fill[c]);
		sqlite3_bind_int64(set, 2, mem[0].cid);
		sqlite3_bind_null(set, 3);   /* no guard */
		rc = run(m, set, "filling a blank field of the kept customer", err);
		sqlite3_bind_int64(log, 1, merge_id);
		sqlite3_bind_text(log, 2, fill_col(c), -1, SQLITE_STATIC);
		sqlite3_bind_value(log, 3, kept[c]);
		sqlite3_bind_value(log, 4, fill[c]);
		if (!rc)
			rc = run(m, log, "logging a filled field", err);
	}
	for (size_t c = 0; c < N_FILL_COLS; c++) {
		sqlite3_value_free(kept[c]);
		sqlite3_value_free(fill[c]);
	}
	return rc;
}

/* Merges customer mem (not the kept one) into kept: logs its row, moves
 * and logs its rows and aliases, deletes it, and makes its id an alias. */
static int absorb(struct mctx *m, int64_t merge_id, const struct member *kept,
		  const struct member *mem, struct crm_err *err)
{
	sqlite3_stmt *st = m->q[Q_SAVE_CUST];
	sqlite3_bind_int64(st, 1, merge_id);
	sqlite3_bind_int64(st, 2, mem->cid);
	int rc = run(m, st, "saving a merged customer", err);
	for (int e = 0; e < CRM_N_ENTITIES && !rc; e++) {
		if (!m->move[e])
			continue;
		sqlite3_bind_int64(m->log_rows[e], 1, merge_id);
		sqlite3_bind_int64(m->log_rows[e], 2, mem->cid);
		rc = run(m, m->log_rows[e], "logging moved rows", err);
		if (rc)
			break;
		sqlite3_bind_int64(m->move[e], 1, kept->cid);
		sqlite3_bind_int64(m->move[e], 2, mem->cid);
		int src = sqlite3_step(m->move[e]);
		if (src != SQLITE_DONE && (src & 0xff) == SQLITE_CONSTRAINT)
			rc = crm_err_set(err, CRM_EINVAL, "%s: merge: %s of customer %s cannot"
					 " move to customer %s: one would have two rows of the"
					 " same natural key (%s); nothing merged", m->path,
					 ent_get(e)->name, mem->id, kept->id, sqlite3_errmsg(m->db));
		else if (src != SQLITE_DONE)
			rc = fail(m, src, "moving rows to the kept customer", err);
		sqlite3_reset(m->move[e]);
	}
	if (rc)
		return rc;
	st = m->q[Q_SAVE_ALIASES];
	sqlite3_bind_int64(st, 1, merge_id);
	sqlite3_bind_int64(st, 2, mem->cid);
	rc = run(m, st, "logging aliases", err);
	st = m->q[Q_MOVE_ALIASES];
	sqlite3_bind_int64(st, 1, kept->cid);
	sqlite3_bind_int64(st, 2, mem->cid);
	if (!rc)
		rc = run(m, st, "pointing aliases at the kept customer", err);
	st = m->q[Q_DEL_CUST];
	sqlite3_bind_int64(st, 1, mem->cid);
	if (!rc)
		rc = run(m, st, "deleting a merged customer", err);
	if (rc)
		return rc;
	st = m->q[Q_ADD_ALIAS];
	sqlite3_bind_text(st, 1, mem->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, kept->cid);
	int src = sqlite3_step(st);
	sqlite3_reset(st);
	if ((src & 0xff) == SQLITE_CONSTRAINT)
		return crm_err_set(err, CRM_EINVAL, "%s: merge: customer_id %s is both a"
				   " customer and an alias; nothing merged", m->path, mem->id);
	if (src != SQLITE_DONE)
		return fail(m, src, "adding an alias", err);
	st = m->q[Q_OWN_ALIAS_LOG];
	sqlite3_bind_int64(st, 1, merge_id);
	sqlite3_bind_text(st, 2, mem->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, mem->cid);
	return run(m, st, "logging an alias", err);
}

static int merge_group(struct mctx *m, const struct st_merge_group *g, int64_t now,
		       int64_t *merge_id, struct crm_err *err)
{
	struct member *mem = xmallocn(g->n, sizeof *mem);
	int rc;
	if (!mem)
		return crm_err_set(err, CRM_ENOMEM, "%s: merge: out of memory", m->path);
	rc = find_members(m, g, mem, err);
	if (rc)
		goto done;
	sqlite3_stmt *st = m->q[Q_NEW_MERGE];
	sqlite3_bind_int64(st, 1, mem[0].cid);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_double(st, 3, g->prob);
	if (g->evidence)
		sqlite3_bind_text(st, 4, g->evidence, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, mem[0].id, -1, SQLITE_STATIC);
	rc = run(m, st, "recording a merge", err);
	if (rc)
		goto done;
	*merge_id = sqlite3_last_insert_rowid(m->db);
	rc = fill_blanks(m, *merge_id, mem, g->n, err);
	for (size_t i = 1; i < g->n && !rc; i++)
		rc = absorb(m, *merge_id, &mem[0], &mem[i], err);
done:
	free(mem);
	return rc;
}

int st_merge_apply(struct st_db *s, const struct st_merge_group *g, size_t n,
		   int64_t *merge_ids, struct crm_err *err)
{
	struct mctx m;
	if (n > 0 && !g)
		return crm_err_set(err, CRM_EINVAL, "st_merge_apply: no groups");
	for (size_t i = 0; i < n; i++)
		if (g[i].n < 2 || !g[i].ids)
			return crm_err_set(err, CRM_EINVAL, "merge: group %zu has %zu customer"
					   " ids; a merge needs two or more", i + 1,
					   g[i].ids ? g[i].n : 0);
	int rc = begin(&m, s, err);
	if (!rc)
		rc = prepare_apply(&m, err);
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t id = 0;
		rc = merge_group(&m, &g[i], now, &id, err);
		if (merge_ids)
			merge_ids[i] = id;
	}
	return end(&m, rc, err);
}

/* ----------------------------------------------------------------- undo */

/* Refuses an undo of merge_id (kept customer kept_id) that a later merge,
 * still standing, depends on: one that kept or merged the same customer
 * (named by customer_id: the one name that a customer keeps through
 * merges and undos). */
static int check_later(struct mctx *m, int64_t merge_id, const char *kept_id,
		       struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(m, "SELECT l.merge_id FROM merges l WHERE l.merge_id > ?1 AND"
		      " l.undone_at IS NULL AND (l.kept_id = ?2 OR EXISTS (SELECT 1 FROM"
		      " merge_customers c WHERE c.merge_id = l.merge_id AND"
		      " c.customer_id = ?2)) ORDER BY l.merge_id DESC LIMIT 1", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, merge_id);
	sqlite3_bind_text(st, 2, kept_id, -1, SQLITE_STATIC);
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		long long later = sqlite3_column_int64(st, 0);
		rc = crm_err_set(err, CRM_EINVAL, "%s: merge %lld cannot be undone before"
				 " merge %lld, which merged its kept customer %s again;"
				 " undo merge %lld first", m->path, (long long)merge_id, later,
				 kept_id, later);
	} else if (src != SQLITE_DONE) {
		rc = fail(m, src, "looking for later merges", err);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Puts the merged customers of merge_id back, each under its old cid when
 * it is free, else under a new one; res gets the cids (n_res of them). */
static int restore_customers(struct mctx *m, int64_t merge_id, struct restored **res,
			     size_t *n_res, struct crm_err *err)
{
	sqlite3_stmt *list = NULL, *id_used = NULL, *cid_used = NULL, *max_cid = NULL,
		*ins = NULL;
	struct buf sql;
	size_t cap = 0;
	int rc, src;
	buf_init(&sql);
	*res = NULL;
	*n_res = 0;
	if (buf_puts(&sql, "INSERT INTO customers(cid, ") || customer_cols(&sql) ||
	    buf_puts(&sql, ") SELECT ?1, ") || customer_cols(&sql) ||
	    buf_puts(&sql, " FROM merge_customers WHERE merge_id = ?2 AND cid = ?3")) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: undo: out of memory", m->path);
		goto done;
	}
	rc = prep(m, sql.p, &ins, err);
	if (!rc)
		rc = prep(m, "SELECT cid, customer_id FROM merge_customers WHERE merge_id = ?1"
			  " ORDER BY cid", &list, err);
	if (!rc)
		rc = prep(m, "SELECT cid FROM customers WHERE customer_id = ?1", &id_used, err);
	if (!rc)
		rc = prep(m, "SELECT 1 FROM customers WHERE cid = ?1", &cid_used, err);
	if (!rc)
		rc = prep(m, "SELECT coalesce(max(cid), 0) + 1 FROM customers", &max_cid, err);
	if (rc)
		goto done;
	sqlite3_bind_int64(list, 1, merge_id);
	while ((src = sqlite3_step(list)) == SQLITE_ROW) {
		int64_t old_cid = sqlite3_column_int64(list, 0), new_cid = old_cid, other = 0;
		const char *id = (const char *)sqlite3_column_text(list, 1);
		int found = 0;
		sqlite3_bind_text(id_used, 1, id ? id : "", -1, SQLITE_TRANSIENT);
		rc = one_i64(m, id_used, 0, 0, &other, &found, err);
		if (!rc && found) {
			rc = crm_err_set(err, CRM_EINVAL, "%s: undo of merge %lld: customer_id %s"
					 " is stored again (customer row %lld); nothing undone",
					 m->path, (long long)merge_id, id ? id : "", (long long)other);
		}
		if (!rc)
			rc = one_i64(m, cid_used, 1, old_cid, &other, &found, err);
		if (!rc && found)   /* reused by a customer stored since */
			rc = one_i64(m, max_cid, 0, 0, &new_cid, &found, err);
		if (rc)
			goto done;
		sqlite3_bind_int64(ins, 1, new_cid);
		sqlite3_bind_int64(ins, 2, merge_id);
		sqlite3_bind_int64(ins, 3, old_cid);
		rc = run(m, ins, "restoring a merged customer", err);
		if (rc)
			goto done;
		if (*n_res == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct restored *p = xreallocn(*res, ncap, sizeof *p);
			if (!p) {
				rc = crm_err_set(err, CRM_ENOMEM, "%s: undo: out of memory", m->path);
				goto done;
			}
			*res = p;
			cap = ncap;
		}
		(*res)[*n_res].old_cid = old_cid;
		(*res)[(*n_res)++].new_cid = new_cid;
	}
	if (src != SQLITE_DONE)
		rc = fail(m, src, "reading merged customers", err);
done:
	sqlite3_finalize(list);
	sqlite3_finalize(id_used);
	sqlite3_finalize(cid_used);
	sqlite3_finalize(max_cid);
	sqlite3_finalize(ins);
	buf_fini(&sql);
	return rc;
}

/* The cid that old_cid came back under, or -1. */
static int64_t restored_cid(const struct restored *res, size_t n, int64_t old_cid)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].old_cid == old_cid)
			return res[i].new_cid;
	return -1;
}

/* Gives rows of the kept customer back to customer new_cid, in every
 * entity with a customer: those still the kept customer's whose rid
 * sel_fmt selects. sel_fmt is a SELECT of rids with '%s' for the entity's
 * name and parameters ?3 (alias when not NULL, else merge_id) and,
 * optionally, ?4 (from_cid). */
static int move_back(struct mctx *m, const char *sel_fmt, int64_t new_cid, int64_t kept,
		     int64_t merge_id, const char *alias, int64_t from_cid,
		     struct crm_err *err)
{
	struct buf sql;
	int rc = CRM_OK;
	buf_init(&sql);
	for (int e = 0; e < CRM_N_ENTITIES && !rc; e++) {
		const struct ent_desc *d = ent_get(e);
		sqlite3_stmt *st = NULL;
		if (d->customer_field < 0)
			continue;
		sql.len = 0;
		if (buf_puts(&sql, "UPDATE ") || st_put_ident(&sql, d->name) ||
		    buf_puts(&sql, " SET cid = ?1 WHERE cid = ?2 AND rid IN (") ||
		    buf_printf(&sql, sel_fmt, d->name) || buf_putc(&sql, ')')) {
			rc = crm_err_set(err, CRM_ENOMEM, "%s: undo: out of memory", m->path);
			break;
		}
		rc = prep(m, sql.p, &st, err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, new_cid);
		sqlite3_bind_int64(st, 2, kept);
		if (alias)
			sqlite3_bind_text(st, 3, alias, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, 3, merge_id);
		if (sqlite3_bind_parameter_count(st) >= 4)
			sqlite3_bind_int64(st, 4, from_cid);
		rc = run(m, st, "moving rows back", err);
		sqlite3_finalize(st);
	}
	buf_fini(&sql);
	return rc;
}

/* The aliases merge_id logged (*out, n of them: the caller frees with
 * free_aliases). */
static int read_aliases(struct mctx *m, int64_t merge_id, struct logged_alias **out,
			size_t *n, struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = prep(m, "SELECT alias, from_cid, own FROM merge_aliases WHERE merge_id = ?1"
		      " ORDER BY alias", &st, err), src;
	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, merge_id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct logged_alias *p = xreallocn(*out, ncap, sizeof *p);
			if (!p)
				break;
			*out = p;
			cap = ncap;
		}
		struct logged_alias *la = &(*out)[*n];
		if (!(la->alias = strdup(a ? a : "")))
			break;
		la->from_cid = sqlite3_column_int64(st, 1);
		la->own = sqlite3_column_int(st, 2);
		(*n)++;
	}
	if (src == SQLITE_ROW)
		rc = crm_err_set(err, CRM_ENOMEM, "%s: undo: out of memory", m->path);
	else if (src != SQLITE_DONE)
		rc = fail(m, src, "reading logged aliases", err);
	sqlite3_finalize(st);
	return rc;
}

static void free_aliases(struct logged_alias *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].alias);
	free(a);
}

/* Puts the aliases back and, with them, the rows imports stored through
 * them since the merge. */
static int restore_aliases(struct mctx *m, int64_t merge_id, int64_t kept,
			   const struct restored *res, size_t n_res, struct crm_err *err)
{
	struct logged_alias *al = NULL;
	size_t n = 0;
	sqlite3_stmt *del_notes = NULL, *del = NULL, *repoint = NULL;
	int rc = read_aliases(m, merge_id, &al, &n, err);
	if (!rc)
		rc = prep(m, "DELETE FROM alias_rows WHERE alias = ?1", &del_notes, err);
	if (!rc)
		rc = prep(m, "DELETE FROM customer_aliases WHERE alias = ?1 AND cid = ?2",
			  &del, err);
	if (!rc)
		rc = prep(m, "UPDATE customer_aliases SET cid = ?1 WHERE alias = ?2 AND cid = ?3",
			  &repoint, err);
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t to = restored_cid(res, n_res, al[i].from_cid);
		if (to < 0) {
			rc = crm_err_set(err, CRM_EDB, "%s: undo of merge %lld: alias %s points"
					 " at customer row %lld, which the merge did not merge",
					 m->path, (long long)merge_id, al[i].alias,
					 (long long)al[i].from_cid);
			break;
		}
		rc = move_back(m, "SELECT rid FROM alias_rows WHERE entity = '%s' AND alias = ?3",
			       to, kept, merge_id, al[i].alias, 0, err);
		if (rc)
			break;
		if (al[i].own) {
			/* the customer's own id again: its rows need no note */
			sqlite3_bind_text(del_notes, 1, al[i].alias, -1, SQLITE_STATIC);
			rc = run(m, del_notes, "forgetting rows stored through an alias", err);
			sqlite3_bind_text(del, 1, al[i].alias, -1, SQLITE_STATIC);
			sqlite3_bind_int64(del, 2, kept);
			if (!rc)
				rc = run(m, del, "removing an alias", err);
		} else {
			sqlite3_bind_int64(repoint, 1, to);
			sqlite3_bind_text(repoint, 2, al[i].alias, -1, SQLITE_STATIC);
			sqlite3_bind_int64(repoint, 3, kept);
			rc = run(m, repoint, "pointing an alias back", err);
		}
	}
	sqlite3_finalize(del_notes);
	sqlite3_finalize(del);
	sqlite3_finalize(repoint);
	free_aliases(al, n);
	return rc;
}

/* Empties the kept customer's filled columns that still hold what the
 * merge put there. */
static int restore_fills(struct mctx *m, int64_t merge_id, int64_t kept,
			 struct crm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(m, "SELECT field, old, new FROM merge_fills WHERE merge_id = ?1",
		      &st, err), src;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, merge_id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *field = (const char *)sqlite3_column_text(st, 0);
		size_t c = 0;
		sqlite3_stmt *set = NULL;
		while (fill_col(c) && (!field || strcmp(fill_col(c), field) != 0))
			c++;
		if (!fill_col(c)) {
			rc = crm_err_set(err, CRM_EDB, "%s: undo of merge %lld: logged field"
					 " %s is not a customers column", m->path,
					 (long long)merge_id, field ? field : "(null)");
			break;
		}
		rc = set_col_stmt(m, c, &set, err);
		if (rc)
			break;
		sqlite3_bind_value(set, 1, sqlite3_column_value(st, 1));
		sqlite3_bind_int64(set, 2, kept);
		sqlite3_bind_int(set, 3, 1);   /* guarded */
		sqlite3_bind_value(set, 4, sqlite3_column_value(st, 2));
		rc = run(m, set, "emptying a filled field", err);
		if (rc)
			break;
	}
	if (!rc && src != SQLITE_DONE)
		rc = fail(m, src, "reading filled fields", err);
	sqlite3_finalize(st);
	return rc;
}

int st_merge_undo(struct st_db *s, int64_t merge_id, struct crm_err *err)
{
	struct mctx m;
	struct restored *res = NULL;
	size_t n_res = 0;
	sqlite3_stmt *st = NULL;
	int64_t kept = 0;
	char *kept_id = NULL;
	int rc = begin(&m, s, err), src = SQLITE_DONE, found = 0;
	if (rc)
		goto done;
	rc = prep(&m, "SELECT kept_id, undone_at FROM merges WHERE merge_id = ?1", &st, err);
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, merge_id);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = crm_err_set(err, CRM_ENOTFOUND, "%s: there is no merge %lld", m.path,
				 (long long)merge_id);
		goto done;
	}
	if (src != SQLITE_ROW) {
		rc = fail(&m, src, "reading a merge", err);
		goto done;
	}
	const char *k = (const char *)sqlite3_column_text(st, 0);
	if (!(kept_id = strdup(k ? k : ""))) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: undo: out of memory", m.path);
		goto done;
	}
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		rc = crm_err_set(err, CRM_EINVAL, "%s: merge %lld was undone already", m.path,
				 (long long)merge_id);
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;

	rc = check_later(&m, merge_id, kept_id, err);
	if (!rc)
		rc = prep(&m, "SELECT cid FROM customers WHERE customer_id = ?1", &st, err);
	if (!rc) {
		sqlite3_bind_text(st, 1, kept_id, -1, SQLITE_STATIC);
		rc = one_i64(&m, st, 0, 0, &kept, &found, err);
	}
	if (!rc && !found)
		rc = crm_err_set(err, CRM_EDB, "%s: undo of merge %lld: its kept customer %s"
				 " is not stored", m.path, (long long)merge_id, kept_id);
	sqlite3_finalize(st);
	st = NULL;
	if (!rc)
		rc = restore_customers(&m, merge_id, &res, &n_res, err);
	for (size_t i = 0; i < n_res && !rc; i++)
		rc = move_back(&m, "SELECT rid FROM merge_rows WHERE merge_id = ?3 AND"
			       " entity = '%s' AND from_cid = ?4", res[i].new_cid, kept,
			       merge_id, NULL, res[i].old_cid, err);
	if (!rc)
		rc = restore_aliases(&m, merge_id, kept, res, n_res, err);
	if (!rc)
		rc = restore_fills(&m, merge_id, kept, err);
	if (!rc)
		rc = prep(&m, "UPDATE merges SET undone_at = ?1 WHERE merge_id = ?2", &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
		sqlite3_bind_int64(st, 2, merge_id);
		rc = run(&m, st, "recording the undo", err);
	}
done:
	sqlite3_finalize(st);
	free(res);
	free(kept_id);
	return end(&m, rc, err);
}

/* ----------------------------------------------------------------- reads */

int st_merge_list(struct st_db *s, struct st_merge_info **out, size_t *n,
		  struct crm_err *err)
{
	struct mctx m = { 0 };
	sqlite3_stmt *st = NULL;
	struct st_merge_info *list = NULL;
	size_t cap = 0, len = 0;
	int rc, src;
	*out = NULL;
	*n = 0;
	rc = st_db_conn(s, 0, &m.db, &m.path, err);
	if (!rc)
		rc = prep(&m, "SELECT merge_id, merged_at, kept_cid, (SELECT count(*) FROM"
			  " merge_customers c WHERE c.merge_id = m.merge_id),"
			  " undone_at IS NOT NULL, kept_id FROM merges m ORDER BY merge_id",
			  &st, err);
	if (rc)
		return rc;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct st_merge_info *p = xreallocn(list, ncap, sizeof *p);
			if (!p) {
				rc = crm_err_set(err, CRM_ENOMEM, "%s: merges: out of memory", m.path);
				goto done;
			}
			list = p;
			cap = ncap;
		}
		list[len].merge_id = sqlite3_column_int64(st, 0);
		list[len].merged_at = sqlite3_column_int64(st, 1);
		list[len].kept_cid = sqlite3_column_int64(st, 2);
		list[len].n_merged = (size_t)sqlite3_column_int64(st, 3);
		list[len].undone = sqlite3_column_int(st, 4);
		const char *k = (const char *)sqlite3_column_text(st, 5);
		snprintf(list[len++].kept_id, sizeof list[0].kept_id, "%s", k ? k : "");
	}
	if (src != SQLITE_DONE)
		rc = fail(&m, src, "reading merges", err);
done:
	sqlite3_finalize(st);
	if (rc) {
		free(list);
		return rc;
	}
	*out = list;
	*n = len;
	return CRM_OK;
}

int st_dedupe_state_get(struct st_db *s, int64_t *cid, int64_t *pending,
			struct crm_err *err)
{
	struct mctx m = { 0 };
	sqlite3_stmt *st = NULL;
	*cid = 0;
	*pending = 0;
	int rc = st_db_conn(s, 0, &m.db, &m.path, err);
	if (!rc)
		rc = prep(&m, "SELECT max_cid, pending FROM dedupe_state WHERE id = 1", &st, err);
	if (rc)
		return rc;
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*cid = sqlite3_column_int64(st, 0);
		*pending = sqlite3_column_int64(st, 1);
	} else if (src != SQLITE_DONE) {
		rc = fail(&m, src, "reading the dedupe state", err);
	}
	sqlite3_finalize(st);
	return rc;
}

int st_dedupe_state_set(struct st_db *s, int64_t cid, int64_t pending,
			struct crm_err *err)
{
	struct mctx m = { 0 };
	sqlite3_stmt *st = NULL;
	if (cid < 0 || pending < 0)
		return crm_err_set(err, CRM_EINVAL, "dedupe state: negative watermark %lld or"
				   " pending count %lld", (long long)cid, (long long)pending);
	int rc = st_db_conn(s, 1, &m.db, &m.path, err);
	if (!rc)
		rc = prep(&m, "INSERT INTO dedupe_state(id, max_cid, pending) VALUES(1, ?1, ?2)"
			  " ON CONFLICT(id) DO UPDATE SET max_cid = excluded.max_cid,"
			  " pending = excluded.pending", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, pending);
	rc = run(&m, st, "saving the dedupe state", err);
	sqlite3_finalize(st);
	return rc;
}
