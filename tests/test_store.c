/* test_store.c - the SQLite store (src/store/store.c, schema.c): schema and
 * migrations, writer outcomes read back row by row, stubs, aliases, natural
 * keys with missing parts, statistics, and aborted and killed imports. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/store.h"
#include "store/store_int.h"
#include "support.h"

static char dir[256];
static char db_path[512];

static void setup(void)
{
	tmpdir_make(dir, sizeof dir);
	snprintf(db_path, sizeof db_path, "%s/crm.db", dir);
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

static struct st_db *open_db(int mode)
{
	struct st_db *db = NULL;
	struct crm_err err = { 0 };
	int rc = st_open(db_path, mode, &db, &err);
	cr_assert_eq(rc, CRM_OK, "st_open: %s", err.msg);
	return db;
}

static void rec_init(struct ent_record *r, int entity)
{
	memset(r, 0, sizeof *r);
	r->entity = entity;
	r->line = 1;
}



static struct st_writer *writer(struct st_db *db, int entity, int upsert, int strict,
				size_t batch_rows)
{
	struct st_writer_opts o = { upsert, strict, batch_rows, "test.csv", entity };
	struct st_writer *w = NULL;
	struct crm_err err = { 0 };
	cr_assert_eq(st_writer_new(db, &o, &w, &err), CRM_OK, "st_writer_new: %s", err.msg);
	return w;
}

/* st_put that must succeed; returns the outcome, *stub (may be NULL) the flag */
static int put(struct st_writer *w, const struct ent_record *r, int *stub)
{
	int outcome = -1, made = -1;
	struct crm_err err = { 0 };
	cr_assert_eq(st_put(w, r, &outcome, &made, &err), CRM_OK, "st_put: %s", err.msg);
	if (stub)
		*stub = made;
	return outcome;
}

static void finish(struct st_writer *w)
{
	struct crm_err err = { 0 };
	cr_assert_eq(st_writer_finish(w, NULL, &err), CRM_OK, "finish: %s", err.msg);
}

static struct ent_record customer(const char *id, const char *name)
{
	struct ent_record r;
	rec_init(&r, CRM_CUSTOMERS);
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	if (name)
		set_s(&r, CRM_C_NAME, name);
	return r;
}

static struct ent_record order(const char *id, const char *cust, int64_t at, int64_t amount,
			       const char *currency)
{
	struct ent_record r;
	rec_init(&r, CRM_ORDERS);
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust);
	set_i(&r, CRM_O_ORDERED_AT, at);
	set_i(&r, CRM_O_AMOUNT, amount);
	if (currency)
		set_s(&r, CRM_O_CURRENCY, currency);
	return r;
}

/* A scanned row as text: fields joined by '|', "~" for missing, FT_ENUM as
 * text:code, then seq for keys with one, then "stub" for stub customers. */
static int dump_row(void *ctx, const struct ent_record *rec, int is_stub)
{
	struct buf *b = ctx;
	const struct ent_desc *d = ent_get(rec->entity);
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct ent_value *v = &rec->v[f];
		int t = d->fields[f].type;
		if (f)
			buf_putc(b, '|');
		if (!v->set)
			buf_putc(b, '~');
		else if (t == FT_ENUM)
			buf_printf(b, "%.*s:%lld", (int)v->n, v->s, (long long)v->i);
		else if (t == FT_ID || t == FT_REF || t == FT_TEXT || t == FT_CAT)
			buf_append(b, v->s, v->n);
		else
			buf_printf(b, "%lld", (long long)v->i);
	}
	if (d->key_has_seq)
		buf_printf(b, "|#%lld", (long long)rec->seq);
	if (is_stub)
		buf_puts(b, "|stub");
	buf_putc(b, '\n');
	return CRM_OK;
}

/* Every row of entity as dump_row text; the caller frees. */
static char *dump(struct st_db *db, int entity)
{
	struct buf b;
	struct crm_err err = { 0 };
	buf_init(&b);
	buf_puts(&b, "");
	cr_assert_eq(st_scan(db, entity, dump_row, &b, &err), CRM_OK, "st_scan: %s", err.msg);
	return b.p;
}

static void assert_rows(struct st_db *db, int entity, const char *expected)
{
	char *got = dump(db, entity);
	cr_assert_str_eq(got, expected, "%s rows:\n%s\nexpected:\n%s",
			 ent_get(entity)->name, got, expected);
	free(got);
}

static int64_t count(struct st_db *db, int entity)
{
	int64_t n = -1;
	struct crm_err err = { 0 };
	cr_assert_eq(st_count(db, entity, &n, &err), CRM_OK, "st_count: %s", err.msg);
	return n;
}

/* ------------------------------------------------------------- schema */

Test(store, creates_and_reopens_at_the_schema_version)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	st_close(db);
	cr_assert_eq(st_schema_version(), 2);
	cr_assert_eq(sql_int(db_path, "PRAGMA user_version"), 2);
	cr_assert_eq(sql_int(db_path, "PRAGMA application_id"), 0x43524D53);
	char mode[16];
	sql_text(db_path, "PRAGMA journal_mode", mode, sizeof mode);
	cr_assert_str_eq(mode, "wal");

	/* orders as generated from the entity table: rid, the ten fields with
	 * customer_id as cid, import_id */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM pragma_table_info('orders')"), 12);
	char cols[512];
	sql_text(db_path, "SELECT group_concat(name || ':' || type || ':' || \"notnull\", ',')"
		 " FROM pragma_table_info('orders')", cols, sizeof cols);
	cr_assert_str_eq(cols, "rid:INTEGER:0,order_id:TEXT:1,cid:INTEGER:1,"
			 "ordered_at:INTEGER:1,amount:INTEGER:1,currency:TEXT:0,"
			 "channel:TEXT:0,cost:INTEGER:0,items:INTEGER:0,status:TEXT:0,"
			 "category:TEXT:0,import_id:INTEGER:0");
	sql_text(db_path, "SELECT \"table\" || '.' || \"to\" || '<-' || \"from\""
		 " FROM pragma_foreign_key_list('orders')", cols, sizeof cols);
	cr_assert_str_eq(cols, "customers.cid<-cid");
	/* leads.customer_id is optional: its cid may be NULL */
	cr_assert_eq(sql_int(db_path, "SELECT \"notnull\" FROM pragma_table_info('leads')"
			     " WHERE name = 'cid'"), 0);
	/* the indexes of every entity with a customer and a time */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
			     " AND name LIKE '%_cid_time'"), 6);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name"
			     " IN ('imports', 'import_rejects', 'customer_aliases')"), 3);

	db = open_db(ST_OPEN_WRITE);
	struct st_stats s;
	struct crm_err err = { 0 };
	cr_assert_eq(st_stats(db, &s, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(s.schema_version, 2);
	st_close(db);
	db = open_db(ST_OPEN_READ);
	cr_assert_eq(count(db, CRM_ORDERS), 0);
	st_close(db);
	cr_assert_eq(sql_int(db_path, "PRAGMA user_version"), 2);
}

Test(store, refuses_newer_foreign_and_missing_databases)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	st_close(db);
	sql_exec(db_path, "PRAGMA user_version = 3");
	struct crm_err err = { 0 };
	for (int mode = ST_OPEN_READ; mode <= ST_OPEN_CREATE; mode++) {
		db = (struct st_db *)1;
		cr_assert_eq(st_open(db_path, mode, &db, &err), CRM_ESCHEMA);
		cr_assert_null(db);
		cr_assert(strstr(err.msg, "schema version 3 is newer than version 2"), "%s", err.msg);
		cr_assert(strstr(err.msg, db_path), "%s", err.msg);
	}
	cr_assert_eq(sql_int(db_path, "PRAGMA user_version"), 3);   /* left as it was */

	/* another program's database */
	snprintf(db_path, sizeof db_path, "%s/other.db", dir);
	sql_exec(db_path, "CREATE TABLE t(x)");
	cr_assert_eq(st_open(db_path, ST_OPEN_WRITE, &db, &err), CRM_ESCHEMA);
	cr_assert(strstr(err.msg, "not a crmscope database"), "%s", err.msg);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master"), 1);

	snprintf(db_path, sizeof db_path, "%s/missing.db", dir);
	cr_assert_eq(st_open(db_path, ST_OPEN_READ, &db, &err), CRM_ENOTFOUND);
	cr_assert_eq(st_open(db_path, ST_OPEN_WRITE, &db, &err), CRM_ENOTFOUND);
	cr_assert_eq(access(db_path, F_OK), -1);
}

Test(store, read_only_handles_refuse_writers)
{
	st_close(open_db(ST_OPEN_CREATE));
	struct st_db *db = open_db(ST_OPEN_READ);
	struct st_writer_opts o = { 0, 0, 0, "x", CRM_ORDERS };
	struct st_writer *w = NULL;
	struct crm_err err = { 0 };
	cr_assert_eq(st_writer_new(db, &o, &w, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "read-only"), "%s", err.msg);
	cr_assert_null(w);
	st_close(db);
}

/* ------------------------------------------------------------ outcomes */

Test(store, inserts_duplicates_and_upserts_with_exact_rows)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c1 = customer("C1", "Олена Коваль"), c2 = customer("C2", "王芳");
	set_i(&c1, CRM_C_SIGNUP_AT, 1000);
	cr_assert_eq(put(w, &c1, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &c2, NULL), ST_INSERTED);
	finish(w);

	/* import 2: two orders and a repeat of the first in the same file */
	w = writer(db, CRM_ORDERS, 0, 0, 0);
	int64_t import2 = st_writer_import_id(w);
	struct ent_record o1 = order("O1", "C1", 5000, 1234500, "GBP");
	set_s(&o1, CRM_O_STATUS, "returned");
	set_i(&o1, CRM_O_ITEMS, 3);
	struct ent_record o2 = order("O2", "C2", 6000, -50000, NULL);
	int stub = -1;
	cr_assert_eq(put(w, &o1, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);
	cr_assert_eq(put(w, &o2, NULL), ST_INSERTED);
	struct ent_record o1_again = order("O1", "C2", 9999, 1, "EUR");
	cr_assert_eq(put(w, &o1_again, NULL), ST_DUP_IN_FILE);
	finish(w);

	/* import 3: O2 was stored by import 2, O3 is new */
	w = writer(db, CRM_ORDERS, 0, 0, 0);
	int64_t import3 = st_writer_import_id(w);
	cr_assert_eq(import3, import2 + 1);
	cr_assert_eq(put(w, &o2, NULL), ST_DUPLICATE);
	/* a repeat in this file of a key stored before is the file's own repeat */
	cr_assert_eq(put(w, &o2, NULL), ST_DUP_IN_FILE);
	struct ent_record o3 = order("O3", "C2", 7000, 10000, "GBP");
	cr_assert_eq(put(w, &o3, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &o3, NULL), ST_DUP_IN_FILE);
	finish(w);

	assert_rows(db, CRM_ORDERS,
		    "O1|C1|5000|1234500|GBP|~|~|3|returned:2|~\n"
		    "O2|C2|6000|-50000|~|~|~|~|~|~\n"
		    "O3|C2|7000|10000|GBP|~|~|~|~|~\n");
	assert_rows(db, CRM_CUSTOMERS,
		    "C1|Олена Коваль|~|~|~|~|~|~|~|~|~|~|~|1000|~|~|~\n"
		    "C2|王芳|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~\n");

	/* import 4, upsert: O1 replaced (all fields, customer too), twice in
	 * the same file; O4 inserted */
	w = writer(db, CRM_ORDERS, 1, 0, 0);
	int64_t import4 = st_writer_import_id(w);
	cr_assert_eq(put(w, &o1_again, NULL), ST_UPDATED);
	struct ent_record o1_third = order("O1", "C1", 5001, 777, "GBP");
	set_s(&o1_third, CRM_O_STATUS, "completed");
	cr_assert_eq(put(w, &o1_third, NULL), ST_UPDATED);
	struct ent_record o4 = order("O4", "C1", 8000, 5, NULL);
	cr_assert_eq(put(w, &o4, NULL), ST_INSERTED);
	finish(w);
	assert_rows(db, CRM_ORDERS,
		    "O1|C1|5001|777|GBP|~|~|~|completed:1|~\n"
		    "O2|C2|6000|-50000|~|~|~|~|~|~\n"
		    "O3|C2|7000|10000|GBP|~|~|~|~|~\n"
		    "O4|C1|8000|5|~|~|~|~|~|~\n");
	char ids[128];
	sql_text(db_path, "SELECT group_concat(import_id, ',') FROM (SELECT import_id FROM orders"
		 " ORDER BY rid)", ids, sizeof ids);
	char want[512];
	snprintf(want, sizeof want, "%lld,%lld,%lld,%lld", (long long)import4,
		 (long long)import2, (long long)import3, (long long)import4);
	cr_assert_str_eq(ids, want);

	/* the writer's own tallies were saved: import 2 read 3, stored 2,
	 * 1 duplicate (in file); import 4 read 3, stored 1, updated 2 */
	char counts[128];
	snprintf(want, sizeof want, "SELECT read || ',' || stored || ',' || updated || ','"
		 " || duplicates || ',' || rejected || ',' || stubs || ',' || entity ||"
		 " ',' || source || ',' || (finished_at >= started_at) FROM imports"
		 " WHERE import_id = %lld", (long long)import2);
	sql_text(db_path, want, counts, sizeof counts);
	cr_assert_str_eq(counts, "3,2,0,1,0,0,orders,test.csv,1");
	snprintf(want, sizeof want, "SELECT read || ',' || stored || ',' || updated || ','"
		 " || duplicates FROM imports WHERE import_id = %lld", (long long)import4);
	sql_text(db_path, want, counts, sizeof counts);
	cr_assert_str_eq(counts, "3,1,2,0");
	st_close(db);
}

Test(store, upsert_of_customers_keeps_the_cid)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c1 = customer("C1", "Ann");
	set_s(&c1, CRM_C_COUNTRY, "GB");
	cr_assert_eq(put(w, &c1, NULL), ST_INSERTED);
	finish(w);
	w = writer(db, CRM_CUSTOMERS, 1, 0, 0);
	struct ent_record c1b = customer("C1", "Ann Smith");
	cr_assert_eq(put(w, &c1b, NULL), ST_UPDATED);
	finish(w);
	/* a replace: country is gone, the row and its cid stay */
	assert_rows(db, CRM_CUSTOMERS, "C1|Ann Smith|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~\n");
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM customers WHERE customer_id = 'C1'"), 1);
	st_close(db);
}

Test(store, bad_records_are_refused_without_stopping_the_writer)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 0);
	struct ent_record o = order("O1", "C1", 5000, 100, NULL);
	o.v[CRM_O_AMOUNT].set = 0;
	o.line = 17;
	struct crm_err err = { 0 };
	int outcome = -1;
	cr_assert_eq(st_put(w, &o, &outcome, NULL, &err), CRM_EINVAL);
	cr_assert_str_eq(err.msg, "test.csv:17: field amount: required value missing");
	struct ent_record no_customer = order("O2", "C1", 5000, 100, NULL);
	no_customer.v[CRM_O_CUSTOMER_ID].set = 0;
	cr_assert_eq(st_put(w, &no_customer, &outcome, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "field customer_id"), "%s", err.msg);
	struct ent_record lead;
	rec_init(&lead, CRM_LEADS);
	cr_assert_eq(st_put(w, &lead, &outcome, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "a leads record given to a writer of orders"), "%s", err.msg);
	o.v[CRM_O_AMOUNT].set = 1;
	cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	finish(w);
	cr_assert_eq(count(db, CRM_ORDERS), 1);
	st_close(db);
}

/* -------------------------------------------------------------- stubs */

Test(store, unknown_customers_become_stubs_unless_strict)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 0);
	struct ent_record o1 = order("O1", "C9", 100, 10, NULL);
	struct ent_record o2 = order("O2", "C9", 200, 20, NULL);
	int stub = -1;
	cr_assert_eq(put(w, &o1, &stub), ST_INSERTED);
	cr_assert_eq(stub, 1);
	cr_assert_eq(put(w, &o2, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);           /* the same stub */
	finish(w);
	cr_assert_eq(sql_int(db_path, "SELECT stubs FROM imports"), 1);
	assert_rows(db, CRM_CUSTOMERS, "C9|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|stub\n");

	/* leads and web events may have no customer: NULL, no stub */
	w = writer(db, CRM_LEADS, 0, 0, 0);
	struct ent_record lead;
	rec_init(&lead, CRM_LEADS);
	set_s(&lead, CRM_L_LEAD_ID, "L1");
	set_i(&lead, CRM_L_CREATED_AT, 50);
	cr_assert_eq(put(w, &lead, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);
	set_s(&lead, CRM_L_LEAD_ID, "L2");
	set_s(&lead, CRM_L_CUSTOMER_ID, "C9");
	set_i(&lead, CRM_L_EXPECTED_VALUE, 990000);
	cr_assert_eq(put(w, &lead, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);
	finish(w);
	assert_rows(db, CRM_LEADS, "L1|50|~|~|~|~|~\nL2|50|~|~|~|C9|990000\n");

	/* the customer's own record fills the stub in: ST_INSERTED */
	w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c9 = customer("C9", "Νίκος");
	cr_assert_eq(put(w, &c9, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &c9, NULL), ST_DUP_IN_FILE);
	finish(w);
	assert_rows(db, CRM_CUSTOMERS, "C9|Νίκος|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~\n");
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM customers WHERE customer_id = 'C9'"), 1);
	cr_assert_eq(sql_int(db_path, "SELECT is_stub FROM customers"), 0);

	/* strict: an unknown customer is refused and nothing is written */
	w = writer(db, CRM_ORDERS, 0, 1, 0);
	struct ent_record o3 = order("O3", "C10", 300, 30, NULL);
	cr_assert_eq(put(w, &o3, &stub), ST_UNKNOWN_REF);
	cr_assert_eq(stub, 0);
	struct ent_record o4 = order("O4", "C9", 400, 40, NULL);
	cr_assert_eq(put(w, &o4, &stub), ST_INSERTED);
	finish(w);
	cr_assert_eq(count(db, CRM_ORDERS), 3);
	cr_assert_eq(count(db, CRM_CUSTOMERS), 1);
	cr_assert_eq(sql_int(db_path, "SELECT rejected FROM imports ORDER BY import_id DESC"), 1);
	assert_rows(db, CRM_ORDERS, "O1|C9|100|10|~|~|~|~|~|~\nO2|C9|200|20|~|~|~|~|~|~\n"
		    "O4|C9|400|40|~|~|~|~|~|~\n");
	st_close(db);
}

Test(store, aliases_route_to_the_merged_customer)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c1 = customer("C1", "Kept"), c2 = customer("C2", "Other");
	put(w, &c1, NULL);
	put(w, &c2, NULL);
	finish(w);
	st_close(db);
	/* as the dedupe merge will leave it: OLD7 was merged into C1 */
	sql_exec(db_path, "INSERT INTO customer_aliases(alias, cid) VALUES('OLD7', 1)");

	db = open_db(ST_OPEN_WRITE);
	w = writer(db, CRM_ORDERS, 0, 1, 0);   /* strict: an alias is no unknown */
	struct ent_record o = order("O1", "OLD7", 100, 10, NULL);
	int stub = -1;
	cr_assert_eq(put(w, &o, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);
	finish(w);
	assert_rows(db, CRM_ORDERS, "O1|C1|100|10|~|~|~|~|~|~\n");

	/* the merged customer's old record does not come back */
	w = writer(db, CRM_CUSTOMERS, 1, 0, 0);
	struct ent_record old = customer("OLD7", "Old");
	cr_assert_eq(put(w, &old, NULL), ST_DUPLICATE);
	cr_assert_eq(put(w, &old, NULL), ST_DUP_IN_FILE);
	cr_assert_eq(put(w, &c1, NULL), ST_UPDATED);
	finish(w);
	cr_assert_eq(count(db, CRM_CUSTOMERS), 2);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customers WHERE customer_id = 'OLD7'"), 0);
	st_close(db);
}

Test(store, a_customer_stored_meanwhile_by_another_connection_is_found)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_db *other = open_db(ST_OPEN_WRITE);
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 0);   /* its map is empty */
	struct st_writer *w2 = writer(other, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c = customer("C1", "Late");
	cr_assert_eq(put(w2, &c, NULL), ST_INSERTED);
	finish(w2);
	struct ent_record o = order("O1", "C1", 100, 10, NULL);
	int stub = -1;
	cr_assert_eq(put(w, &o, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);
	finish(w);
	assert_rows(db, CRM_CUSTOMERS, "C1|Late|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~\n");
	assert_rows(db, CRM_ORDERS, "O1|C1|100|10|~|~|~|~|~|~\n");
	st_close(other);
	st_close(db);
}

/* The writer leaves SQLite's reference checks to its customer map while no
 * other connection writes (FK_BY_MAP in store.c). Here another connection
 * removes C2 after the writer loaded its map (which still names C2, cid 2):
 * the writer must see the change at its batch's start, let SQLite check
 * again, and fail on the foreign key rather than store an order of a
 * customer that is gone. C1's order before the removal is kept, and the
 * store has no dangling reference. After the writer, the connection checks
 * references again: an order naming cid 99 is refused. */
Test(store, a_customer_removed_meanwhile_is_not_referenced)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c1 = customer("C1", "One"), c2 = customer("C2", "Two");
	put(w, &c1, NULL);
	put(w, &c2, NULL);
	finish(w);

	w = writer(db, CRM_ORDERS, 0, 0, 1);   /* a batch per row */
	struct ent_record o1 = order("O1", "C1", 100, 10, NULL);
	cr_assert_eq(put(w, &o1, NULL), ST_INSERTED);
	sql_exec(db_path, "DELETE FROM customers WHERE customer_id = 'C2'");
	struct ent_record o2 = order("O2", "C2", 200, 20, NULL);
	int outcome = -1, made = -1;
	struct crm_err err = { 0 };
	cr_assert_neq(st_put(w, &o2, &outcome, &made, &err), CRM_OK);
	cr_assert_not_null(strstr(err.msg, "FOREIGN KEY"), "%s", err.msg);
	st_writer_abort(w);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders"), 1);

	/* the writer's connection checks references again */
	char *msg = NULL;
	sqlite3 *raw = NULL;
	const char *raw_path = NULL;
	cr_assert_eq(st_db_conn(db, 1, &raw, &raw_path, &err), CRM_OK, "%s", err.msg);
	cr_assert_neq(sqlite3_exec(raw, "INSERT INTO orders(order_id, cid, ordered_at,"
				   " amount) VALUES('O9', 99, 1, 1)", NULL, NULL, &msg), SQLITE_OK);
	sqlite3_free(msg);
	st_close(db);
}

/* ------------------------------------------------------ natural keys */

Test(store, spend_key_treats_a_missing_campaign_as_one_value)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_SPEND, 0, 0, 0);
	struct ent_record s;
	rec_init(&s, CRM_SPEND);
	set_i(&s, CRM_S_DATE, 86400);
	set_s(&s, CRM_S_CHANNEL, "search");
	set_i(&s, CRM_S_AMOUNT, 1000000);
	cr_assert_eq(put(w, &s, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &s, NULL), ST_DUP_IN_FILE);  /* NULL campaign equals NULL */
	struct ent_record sc = s;
	set_s(&sc, CRM_S_CAMPAIGN, "spring");
	cr_assert_eq(put(w, &sc, NULL), ST_INSERTED);
	struct ent_record other_day = s;
	set_i(&other_day, CRM_S_DATE, 2 * 86400);
	cr_assert_eq(put(w, &other_day, NULL), ST_INSERTED);
	finish(w);

	w = writer(db, CRM_SPEND, 0, 0, 0);
	cr_assert_eq(put(w, &s, NULL), ST_DUPLICATE);
	cr_assert_eq(put(w, &sc, NULL), ST_DUPLICATE);
	finish(w);

	w = writer(db, CRM_SPEND, 1, 0, 0);
	set_i(&s, CRM_S_AMOUNT, 1500000);
	cr_assert_eq(put(w, &s, NULL), ST_UPDATED);
	finish(w);
	assert_rows(db, CRM_SPEND, "86400|search|1500000|~\n86400|search|1000000|spring\n"
		    "172800|search|1000000|~\n");
	st_close(db);
}

Test(store, web_events_key_has_an_occurrence_number)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_WEB_EVENTS, 0, 0, 0);
	struct ent_record e;
	rec_init(&e, CRM_WEB_EVENTS);
	set_s(&e, CRM_W_SESSION_ID, "S1");
	set_i(&e, CRM_W_OCCURRED_AT, 1000);
	set_s(&e, CRM_W_PAGE, "/cart");
	set_s(&e, CRM_W_EVENT, "view");
	e.seq = 0;
	int stub = -1;
	cr_assert_eq(put(w, &e, &stub), ST_INSERTED);
	cr_assert_eq(stub, 0);
	e.seq = 1;                     /* the same view again in the same second */
	cr_assert_eq(put(w, &e, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &e, NULL), ST_DUP_IN_FILE);
	struct ent_record anon = e;    /* no event: a key value of its own */
	anon.v[CRM_W_EVENT].set = 0;
	anon.seq = 0;
	cr_assert_eq(put(w, &anon, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &anon, NULL), ST_DUP_IN_FILE);
	struct ent_record known = e;
	known.seq = 2;
	set_s(&known, CRM_W_CUSTOMER_ID, "C5");
	cr_assert_eq(put(w, &known, &stub), ST_INSERTED);
	cr_assert_eq(stub, 1);
	finish(w);
	assert_rows(db, CRM_WEB_EVENTS,
		    "S1|1000|/cart|~|~|view|~|~|#0\n"
		    "S1|1000|/cart|~|~|view|~|~|#1\n"
		    "S1|1000|/cart|~|~|~|~|~|#0\n"
		    "S1|1000|/cart|C5|~|view|~|~|#2\n");
	st_close(db);
}

/* -------------------------------------------------------------- stats */

static int stop_after_one(void *ctx, const struct ent_record *rec, int is_stub)
{
	(void)rec;
	(void)is_stub;
	(*(int *)ctx)++;
	return CRM_ERANGE;
}

Test(store, stats_of_a_small_hand_made_set)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct crm_err err = { 0 };
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	struct ent_record c1 = customer("C1", NULL), c2 = customer("C2", NULL);
	set_i(&c1, CRM_C_SIGNUP_AT, 2000);
	set_i(&c2, CRM_C_SIGNUP_AT, 1000);
	put(w, &c1, NULL);
	put(w, &c2, NULL);
	const char *const reasons1[] = { "missing", "bad_date" };
	const int64_t n1[] = { 1, 2 };
	struct st_import_counts counts = { 5, 2, 0, 0, 3, 0, 2, reasons1, n1 };
	cr_assert_eq(st_writer_finish(w, &counts, &err), CRM_OK, "%s", err.msg);

	/* orders: C1 twice (GBP, EUR), C3 (a stub) once with no currency */
	w = writer(db, CRM_ORDERS, 0, 0, 0);
	struct ent_record o1 = order("O1", "C1", 5000, 10, "GBP");
	struct ent_record o2 = order("O2", "C1", 7000, 10, "EUR");
	struct ent_record o3 = order("O3", "C3", 6000, 10, NULL);
	put(w, &o1, NULL);
	put(w, &o2, NULL);
	put(w, &o3, NULL);
	const char *const reasons2[] = { "bad_date", "bad_number", "out_of_range" };
	const int64_t n2[] = { 1, 0, 1 };
	struct st_import_counts counts2 = { 5, 3, 0, 0, 2, 1, 3, reasons2, n2 };
	cr_assert_eq(st_writer_finish(w, &counts2, &err), CRM_OK, "%s", err.msg);

	struct st_stats s;
	cr_assert_eq(st_stats(db, &s, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(s.schema_version, 2);
	/* customers C1, C2, stub C3 (no signup_at): signups from 1000 to 2000 */
	cr_assert_eq(s.e[CRM_CUSTOMERS].rows, 3);
	cr_assert_eq(s.e[CRM_CUSTOMERS].first_at, 1000);
	cr_assert_eq(s.e[CRM_CUSTOMERS].last_at, 2000);
	cr_assert_eq(s.e[CRM_ORDERS].rows, 3);
	cr_assert_eq(s.e[CRM_ORDERS].first_at, 5000);
	cr_assert_eq(s.e[CRM_ORDERS].last_at, 7000);
	cr_assert_eq(s.e[CRM_TICKETS].rows, 0);
	cr_assert_eq(s.e[CRM_TICKETS].first_at, CRM_NA);
	cr_assert_eq(s.e[CRM_TICKETS].last_at, CRM_NA);
	cr_assert_eq(s.customers_with_orders, 2);   /* C1 and C3 */
	cr_assert_eq(s.stub_customers, 1);
	cr_assert_str_eq(s.currencies, "EUR,GBP");
	cr_assert_eq(s.imports, 2);
	/* rejects: missing 1 + bad_date 2 + bad_date 1 + out_of_range 1 (the
	 * zero count is not recorded) = 5; bad_date 3, then missing 1 and
	 * out_of_range 1 by name */
	cr_assert_eq(s.rejected, 5);
	cr_assert_eq(s.n_reasons, 3);
	cr_assert_str_eq(s.reason[0], "bad_date");
	cr_assert_eq(s.reason_n[0], 3);
	cr_assert_str_eq(s.reason[1], "missing");
	cr_assert_eq(s.reason_n[1], 1);
	cr_assert_str_eq(s.reason[2], "out_of_range");
	cr_assert_eq(s.reason_n[2], 1);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM import_rejects"), 4);

	/* customers scan in cid order; a callback's status stops the scan */
	assert_rows(db, CRM_CUSTOMERS,
		    "C1|~|~|~|~|~|~|~|~|~|~|~|~|2000|~|~|~\n"
		    "C2|~|~|~|~|~|~|~|~|~|~|~|~|1000|~|~|~\n"
		    "C3|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|stub\n");
	int calls = 0;
	cr_assert_eq(st_scan(db, CRM_ORDERS, stop_after_one, &calls, &err), CRM_ERANGE);
	cr_assert_eq(calls, 1);
	st_close(db);
}

Test(store, stats_of_an_empty_database)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_stats s;
	struct crm_err err = { 0 };
	cr_assert_eq(st_stats(db, &s, &err), CRM_OK, "%s", err.msg);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		cr_assert_eq(s.e[e].rows, 0);
		cr_assert_eq(s.e[e].first_at, CRM_NA);
	}
	cr_assert_str_eq(s.currencies, "");
	cr_assert_eq(s.rejected, 0);
	cr_assert_eq(s.n_reasons, 0);
	st_close(db);
}

/* --------------------------------------------- aborted and killed imports */

Test(store, an_aborted_writer_keeps_only_committed_batches)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 100);
	char id[32];
	/* 250 orders of customers U0..U4 (stubs): batches of 100 commit at the
	 * 100th and 200th put; the last 50 are open when it is aborted */
	for (int i = 0; i < 250; i++) {
		char cust[16];
		snprintf(id, sizeof id, "O%d", i);
		snprintf(cust, sizeof cust, "U%d", i < 200 ? i % 3 : 3 + i % 2);
		struct ent_record o = order(id, cust, 1000 + i, 10, NULL);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	st_writer_abort(w);
	cr_assert_eq(count(db, CRM_ORDERS), 200);
	/* U3 and U4 were made in the rolled-back batch */
	assert_rows(db, CRM_CUSTOMERS, "U0|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|stub\n"
		    "U1|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|stub\n"
		    "U2|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|stub\n");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM imports WHERE finished_at IS NULL"), 1);

	/* nothing committed: nothing stored */
	w = writer(db, CRM_ORDERS, 0, 0, 0);
	struct ent_record o = order("X1", "U0", 1, 1, NULL);
	cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	st_writer_abort(w);
	cr_assert_eq(count(db, CRM_ORDERS), 200);
	st_close(db);
}

#define KILL_ORDERS 55000
#define KILL_BATCH 10000

static struct ent_record kill_order(int i, char *id, char *cust)
{
	sprintf(id, "K%06d", i);
	sprintf(cust, "KC%d", i % 997);
	return order(id, cust, 1600000000 + i, 100 + i, "GBP");
}

/* The child: writes all orders, tells the parent after its third commit,
 * and never finishes (the last batch would stay open anyway). */
static void kill_child(int fd)
{
	struct st_db *db = NULL;
	struct st_writer *w = NULL;
	struct crm_err err = { 0 };
	struct st_writer_opts o = { 0, 0, KILL_BATCH, "kill.csv", CRM_ORDERS };
	if (st_open(db_path, ST_OPEN_WRITE, &db, &err) || st_writer_new(db, &o, &w, &err))
		_exit(2);
	for (int i = 0; i < KILL_ORDERS; i++) {
		char id[16], cust[16];
		struct ent_record r = kill_order(i, id, cust);
		int outcome;
		if (st_put(w, &r, &outcome, NULL, &err) || outcome != ST_INSERTED)
			_exit(3);
		if (i + 1 == 3 * KILL_BATCH && write(fd, "c", 1) != 1)
			_exit(4);
	}
	for (;;)
		pause();
}

Test(store, a_killed_writer_leaves_whole_batches_and_a_rerun_completes_it)
{
	st_close(open_db(ST_OPEN_CREATE));
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		kill_child(fds[1]);
	}
	close(fds[1]);
	char c = 0;
	ssize_t got = read(fds[0], &c, 1);
	close(fds[0]);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(got, 1, "the child stopped early (status %d)", status);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* the bulk load into an empty table dropped the (cid, time) and natural
	 * key indexes at its third batch (20,000 rows inserted; store.c
	 * DEFER_INDEX_MIN_ROWS) */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE name ="
			     " 'orders_cid_time'"), 0);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE name ="
			     " 'orders_key'"), 0);

	/* reopening for writing recovers the WAL and rebuilds the (cid, time)
	 * index if the bulk load had dropped it */
	struct st_db *db = open_db(ST_OPEN_WRITE);
	int64_t stored = count(db, CRM_ORDERS);
	cr_assert_geq(stored, 3 * KILL_BATCH);
	cr_assert_leq(stored, 5 * KILL_BATCH);
	cr_assert_eq(stored % KILL_BATCH, 0, "%lld orders: half a batch",
		     (long long)stored);
	char ok[64];
	sql_text(db_path, "PRAGMA integrity_check", ok, sizeof ok);
	cr_assert_str_eq(ok, "ok");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE name ="
			     " 'orders_cid_time'"), 1);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE name ="
			     " 'orders_key'"), 1);
	/* the stored orders are the first ones, whole */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE order_id < 'K030000'"),
		     3 * KILL_BATCH);

	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, KILL_BATCH);
	int64_t n_dup = 0, n_ins = 0;
	for (int i = 0; i < KILL_ORDERS; i++) {
		char id[16], cust[16];
		struct ent_record r = kill_order(i, id, cust);
		int outcome = put(w, &r, NULL);
		cr_assert(outcome == (i < stored ? ST_DUPLICATE : ST_INSERTED),
			  "order %d: outcome %d", i, outcome);
		n_dup += outcome == ST_DUPLICATE;
		n_ins += outcome == ST_INSERTED;
	}
	finish(w);
	cr_assert_eq(n_dup, stored);
	cr_assert_eq(n_ins, KILL_ORDERS - stored);
	cr_assert_eq(count(db, CRM_ORDERS), KILL_ORDERS);
	cr_assert_eq(count(db, CRM_CUSTOMERS), 997);
	cr_assert_eq(sql_int(db_path, "SELECT count(DISTINCT order_id) FROM orders"), KILL_ORDERS);
	/* order K054321: customer KC(54321 mod 997 = 483), amount 100 + 54321 */
	cr_assert_eq(sql_int(db_path, "SELECT amount FROM orders JOIN customers USING (cid)"
			     " WHERE order_id = 'K054321' AND customer_id = 'KC483'"), 54421);
	st_close(db);
	sql_text(db_path, "PRAGMA integrity_check", ok, sizeof ok);
	cr_assert_str_eq(ok, "ok");
}

/* ------------------------------------- bulk imports without the key index */

/* Whether the index of that name exists (through another connection). */
static int64_t has_index(const char *name)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
		 " AND name = '%s'", name);
	return sql_int(db_path, sql);
}

static struct ent_record bulk_order(int i, char *id, char *cust)
{
	sprintf(id, "B%06d", i);
	sprintf(cust, "BC%d", i % 101);
	return order(id, cust, 1700000000 + i, 5 + i, NULL);
}

Test(store, a_bulk_import_finds_repeated_keys_without_its_key_index)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	char id[16], cust[16];
	/* an earlier import: P0..P999 */
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 0);
	for (int i = 0; i < 1000; i++) {
		sprintf(id, "P%d", i);
		struct ent_record o = order(id, "PC", 1000 + i, 1, NULL);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	finish(w);

	/* the bulk import: batches of 5,000; at the start of the 5th batch it has
	 * inserted 20,000 rows (DEFER_INDEX_MIN_ROWS, and more than half of the
	 * 1,000 stored) and drops both indexes */
	w = writer(db, CRM_ORDERS, 0, 0, 5000);
	for (int i = 0; i < 30000; i++) {
		struct ent_record o = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED, "order %d", i);
		if (i == 19999)   /* the 4th batch committed: indexes still there */
			cr_assert_eq(has_index("orders_key"), 1);
	}
	/* 30,000 puts: the 6th batch committed, with the index dropped */
	cr_assert_eq(has_index("orders_key"), 0);
	cr_assert_eq(has_index("orders_cid_time"), 0);
	/* repeats, told apart as with the index: a key of the earlier import is
	 * ST_DUPLICATE the first time and ST_DUP_IN_FILE after; keys stored by
	 * this import before and after the drop are ST_DUP_IN_FILE */
	struct ent_record p5 = order("P5", "PC", 1, 1, NULL);
	cr_assert_eq(put(w, &p5, NULL), ST_DUPLICATE);
	cr_assert_eq(put(w, &p5, NULL), ST_DUP_IN_FILE);
	struct ent_record b10 = bulk_order(10, id, cust);
	cr_assert_eq(put(w, &b10, NULL), ST_DUP_IN_FILE);
	struct ent_record b25000 = bulk_order(25000, id, cust);
	cr_assert_eq(put(w, &b25000, NULL), ST_DUP_IN_FILE);
	/* a key that differs from a stored one by a NUL byte more is new */
	struct ent_record nul = order("P5", "PC", 1, 1, NULL);
	nul.v[CRM_O_ORDER_ID].n = 3;   /* "P5\0" */
	cr_assert_eq(put(w, &nul, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &nul, NULL), ST_DUP_IN_FILE);
	finish(w);

	/* finish built both indexes again */
	cr_assert_eq(has_index("orders_key"), 1);
	cr_assert_eq(has_index("orders_cid_time"), 1);
	/* 1,000 + 30,000 + "P5\0" */
	cr_assert_eq(count(db, CRM_ORDERS), 31001);
	cr_assert_eq(sql_int(db_path, "SELECT count(DISTINCT order_id) FROM orders"), 31001);
	cr_assert_eq(sql_int(db_path, "SELECT stored FROM imports WHERE import_id = 2"), 30001);
	cr_assert_eq(sql_int(db_path, "SELECT duplicates FROM imports WHERE import_id = 2"), 5);
	char ok[64];
	sql_text(db_path, "PRAGMA integrity_check", ok, sizeof ok);
	cr_assert_str_eq(ok, "ok");

	/* a rerun is all duplicates, found through the rebuilt index: nothing is
	 * inserted, so no batch drops it */
	w = writer(db, CRM_ORDERS, 0, 0, 5000);
	for (int i = 0; i < 30000; i++) {
		struct ent_record o = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_DUPLICATE, "order %d", i);
	}
	finish(w);
	cr_assert_eq(count(db, CRM_ORDERS), 31001);
	st_close(db);
}

Test(store, a_bulk_upsert_updates_rows_found_by_the_loaded_keys)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	char id[16], cust[16];
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 5000);
	for (int i = 0; i < 25000; i++) {
		struct ent_record o = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	finish(w);
	/* an upsert of 20,000 new orders, then the 5th batch starts: 20,000
	 * inserted and more than half of the 25,000 stored, so it drops the key
	 * index; B000007 is then found among the loaded keys and updated */
	w = writer(db, CRM_ORDERS, 1, 0, 5000);
	for (int i = 25000; i < 45000; i++) {
		struct ent_record o = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	struct ent_record o = bulk_order(7, id, cust);
	o.v[CRM_O_AMOUNT].i = 777;
	cr_assert_eq(put(w, &o, NULL), ST_UPDATED);
	/* 4,999 more close the batch: its drop is committed */
	for (int i = 45000; i < 49999; i++) {
		struct ent_record n = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &n, NULL), ST_INSERTED);
	}
	cr_assert_eq(has_index("orders_key"), 0);
	finish(w);
	cr_assert_eq(has_index("orders_key"), 1);
	cr_assert_eq(sql_int(db_path, "SELECT amount FROM orders WHERE order_id = 'B000007'"), 777);
	/* B000008 kept its amount 5 + 8 */
	cr_assert_eq(sql_int(db_path, "SELECT amount FROM orders WHERE order_id = 'B000008'"), 13);
	cr_assert_eq(count(db, CRM_ORDERS), 49999);
	st_close(db);
}

Test(store, a_bulk_import_learns_rows_that_another_connection_wrote)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	char id[16], cust[16];
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 5000);
	for (int i = 0; i < 25000; i++) {
		struct ent_record o = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	cr_assert_eq(has_index("orders_key"), 0);
	/* between two batches, another program adds an order (the index is
	 * gone, so nothing stops it) and deletes one this import stored */
	sql_exec(db_path, "INSERT INTO orders(order_id, cid, ordered_at, amount)"
		 " SELECT 'R1', cid, 1, 1 FROM customers LIMIT 1;"
		 " DELETE FROM orders WHERE order_id = 'B000003';");
	/* the next batch starts by learning that: R1 is a duplicate stored by
	 * another import, B000003 is stored again */
	struct ent_record r1 = order("R1", "BC1", 1, 1, NULL);
	cr_assert_eq(put(w, &r1, NULL), ST_DUPLICATE);
	struct ent_record b3 = bulk_order(3, id, cust);
	cr_assert_eq(put(w, &b3, NULL), ST_INSERTED);
	struct ent_record b4 = bulk_order(4, id, cust);
	cr_assert_eq(put(w, &b4, NULL), ST_DUP_IN_FILE);
	finish(w);
	cr_assert_eq(count(db, CRM_ORDERS), 25001);
	cr_assert_eq(sql_int(db_path, "SELECT count(DISTINCT order_id) FROM orders"), 25001);
	st_close(db);
}

Test(store, another_writer_builds_the_dropped_key_index_and_the_bulk_import_keeps_it)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	char id[16], cust[16];
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 5000);
	for (int i = 0; i < 25000; i++) {
		struct ent_record o = bulk_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	cr_assert_eq(has_index("orders_key"), 0);
	/* a second handle (opened before the drop would be the same: its writer
	 * checks at its first batch) writes an order that the bulk import has */
	struct st_db *db2 = NULL;
	struct crm_err err = { 0 };
	cr_assert_eq(st_open(db_path, ST_OPEN_WRITE, &db2, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(has_index("orders_key"), 1, "st_open builds a missing key index");
	sql_exec(db_path, "DROP INDEX orders_key");
	struct st_writer *w2 = writer(db2, CRM_ORDERS, 0, 0, 0);
	struct ent_record b9 = bulk_order(9, id, cust);
	cr_assert_eq(put(w2, &b9, NULL), ST_DUPLICATE);
	struct ent_record n1 = order("N1", "BC1", 1, 1, NULL);
	cr_assert_eq(put(w2, &n1, NULL), ST_INSERTED);
	finish(w2);
	st_close(db2);
	cr_assert_eq(has_index("orders_key"), 1);
	/* the bulk import sees the index back and keeps it up from then on */
	cr_assert_eq(put(w, &n1, NULL), ST_DUPLICATE);
	struct ent_record b30000 = bulk_order(30000, id, cust);
	cr_assert_eq(put(w, &b30000, NULL), ST_INSERTED);
	cr_assert_eq(put(w, &b30000, NULL), ST_DUP_IN_FILE);
	finish(w);
	cr_assert_eq(count(db, CRM_ORDERS), 25002);
	cr_assert_eq(sql_int(db_path, "SELECT count(DISTINCT order_id) FROM orders"), 25002);
	st_close(db);
}

/* ------------------------------------------------ the pipe's second thread */

/* Order i of the piped tests: Q00000.., customer QC(i mod 500), amount i,
 * currency EUR for every third. */
static struct ent_record q_order(int i, char *id, char *cust)
{
	sprintf(id, "Q%05d", i);
	sprintf(cust, "QC%d", i % 500);
	return order(id, cust, 1600000000 + i, i, i % 3 == 0 ? "EUR" : NULL);
}

Test(store, a_piped_bulk_import_gives_every_outcome_at_once_and_stores_in_order)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 5000);
	char id[300], cust[16], category[301];
	int64_t stubs = 0;
	/* 30,000 orders; from the 5th batch (20,000 inserted) they go through
	 * the pipe. Repeats are found whether their row is written or still in
	 * the ring: Q25000 is repeated at once, Q00007 from the 1st batch */
	for (int i = 0; i < 30000; i++) {
		int made = 0;
		struct ent_record o = q_order(i, id, cust);
		if (i == 26000) {
			/* text past what a ring slot holds (160 bytes): 200-byte id,
			 * 300-byte category */
			memset(id + 6, 'z', 194);
			id[200] = '\0';
			o.v[CRM_O_ORDER_ID].n = 200;
			memset(category, 'k', 300);
			category[300] = '\0';
			set_s(&o, CRM_O_CATEGORY, category);
		}
		cr_assert_eq(put(w, &o, &made), ST_INSERTED, "order %d", i);
		stubs += made;
		if (i == 25000 || i == 25001) {
			cr_assert_eq(put(w, &o, &made), ST_DUP_IN_FILE, "order %d again", i);
			cr_assert_eq(made, 0);
		}
	}
	struct ent_record q7 = q_order(7, id, cust);
	cr_assert_eq(put(w, &q7, NULL), ST_DUP_IN_FILE);
	finish(w);
	/* a stub per customer QC0..QC499, told once each */
	cr_assert_eq(stubs, 500);
	cr_assert_eq(count(db, CRM_CUSTOMERS), 500);
	cr_assert_eq(count(db, CRM_ORDERS), 30000);
	cr_assert_eq(sql_int(db_path, "SELECT stored FROM imports"), 30000);
	cr_assert_eq(sql_int(db_path, "SELECT duplicates FROM imports"), 3);
	cr_assert_eq(sql_int(db_path, "SELECT stubs FROM imports"), 500);
	/* row ids in the order given: order i is row i + 1, before and after the
	 * pipe started; cids in the order customers first came: QCk is k + 1 */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE rid = amount + 1"), 30000);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customers"
			     " WHERE customer_id = 'QC' || (cid - 1)"), 500);
	/* every order's customer is QC(i mod 500), with i its amount */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders JOIN customers USING (cid)"
			     " WHERE customer_id = 'QC' || (amount % 500)"), 30000);
	/* EUR on every third: 0, 3, ..., 29997 */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE currency = 'EUR'"
			     " AND amount % 3 = 0"), 10000);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE currency IS NULL"), 20000);
	cr_assert_eq(sql_int(db_path, "SELECT length(order_id) FROM orders WHERE amount = 26000"), 200);
	cr_assert_eq(sql_int(db_path, "SELECT length(category) FROM orders WHERE amount = 26000"), 300);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE category IS NOT NULL"), 1);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE order_id = 'Q26000'"), 0);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	cr_assert_eq(has_index("orders_key"), 1);
	cr_assert_eq(has_index("orders_cid_time"), 1);
	char ok[64];
	sql_text(db_path, "PRAGMA integrity_check", ok, sizeof ok);
	cr_assert_str_eq(ok, "ok");
	st_close(db);
}

Test(store, a_piped_bulk_import_refuses_unknown_customers_when_strict)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	char id[16], cust[16];
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0, 0, 0);
	for (int k = 0; k < 500; k++) {
		sprintf(cust, "QC%d", k);
		struct ent_record c = customer(cust, NULL);
		cr_assert_eq(put(w, &c, NULL), ST_INSERTED);
	}
	finish(w);
	w = writer(db, CRM_ORDERS, 0, 1, 5000);
	for (int i = 0; i < 25000; i++) {
		struct ent_record o = q_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	/* piping now: an unknown customer writes nothing, and the rows after it
	 * keep their row ids */
	struct ent_record u = order("U1", "NOPE", 1, 1, NULL);
	cr_assert_eq(put(w, &u, NULL), ST_UNKNOWN_REF);
	struct ent_record o = q_order(25000, id, cust);
	cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	finish(w);
	cr_assert_eq(count(db, CRM_ORDERS), 25001);
	cr_assert_eq(count(db, CRM_CUSTOMERS), 500);
	cr_assert_eq(sql_int(db_path, "SELECT rid FROM orders WHERE order_id = 'Q25000'"), 25001);
	cr_assert_eq(sql_int(db_path, "SELECT rejected FROM imports WHERE entity = 'orders'"), 1);
	st_close(db);
}

Test(store, a_failed_piped_insert_fails_the_writer_and_keeps_committed_batches)
{
	st_close(open_db(ST_OPEN_CREATE));
	/* a trigger refuses order BAD: SQLite fails its INSERT on the pipe's
	 * thread, after st_put has answered */
	sql_exec(db_path, "CREATE TRIGGER no_bad BEFORE INSERT ON orders WHEN NEW.order_id = 'BAD'"
		 " BEGIN SELECT RAISE(ABORT, 'bad order'); END");
	struct st_db *db = open_db(ST_OPEN_WRITE);
	struct st_writer *w = writer(db, CRM_ORDERS, 0, 0, 5000);
	char id[16], cust[16];
	for (int i = 0; i < 25000; i++) {
		struct ent_record o = q_order(i, id, cust);
		cr_assert_eq(put(w, &o, NULL), ST_INSERTED);
	}
	struct ent_record bad = order("BAD", "QC1", 1, 1, NULL);
	cr_assert_eq(put(w, &bad, NULL), ST_INSERTED);
	/* the failure comes back by a later st_put of the batch, at the latest
	 * the one that commits it (the 5,000th) */
	struct crm_err err = { 0 };
	int rc = CRM_OK, i = 25000, outcome;
	for (; i < 30000 && rc == CRM_OK; i++) {
		struct ent_record o = q_order(i, id, cust);
		rc = st_put(w, &o, &outcome, NULL, &err);
	}
	cr_assert_neq(rc, CRM_OK);
	cr_assert(strstr(err.msg, "bad order") != NULL, "message: %s", err.msg);
	cr_assert(strstr(err.msg, "test.csv") != NULL, "message: %s", err.msg);
	struct ent_record o = q_order(i, id, cust);
	cr_assert_neq(st_put(w, &o, &outcome, NULL, &err), CRM_OK);
	cr_assert(strstr(err.msg, "failed earlier") != NULL, "message: %s", err.msg);
	st_writer_abort(w);
	/* the five committed batches stay, the sixth is rolled back; the
	 * dropped indexes are built again */
	cr_assert_eq(count(db, CRM_ORDERS), 25000);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE order_id = 'BAD'"), 0);
	cr_assert_eq(has_index("orders_key"), 1);
	cr_assert_eq(has_index("orders_cid_time"), 1);
	st_close(db);
}
