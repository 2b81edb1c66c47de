/* test_merge.c - merging duplicate customers and undoing it
 * (src/store/merge.c, migration 2 in schema.c, alias notes in store.c):
 * exact restore compared on a dump of every table, three-customer and
 * chained merges, alias routing before and after an undo, rows imported
 * through an alias, natural key collisions, a reused cid, the dedupe state
 * and the migration of a version-1 database. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/merge.h"
#include "store/store.h"
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

TestSuite(merge, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

static struct st_db *open_db(int mode)
{
	struct st_db *db = NULL;
	struct crm_err err = { 0 };
	cr_assert_eq(st_open(db_path, mode, &db, &err), CRM_OK, "st_open: %s", err.msg);
	return db;
}

static void assert_sql_text(const char *sql, const char *expected)
{
	char got[2048];
	sql_text(db_path, sql, got, sizeof got);
	cr_assert_str_eq(got, expected, "%s\n got: %s\nwant: %s", sql, got, expected);
}

/* PRAGMA integrity_check and foreign_key_check are clean. */
static void assert_sound(void)
{
	assert_sql_text("PRAGMA integrity_check", "ok");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

/* The merge log: recorded for history and kept after an undo, so the
 * exact-restore comparisons leave these tables out (and say so). */
static const char *const merge_log[] = {
	"merges", "merge_customers", "merge_rows", "merge_fills", "merge_aliases", NULL
};
/* The tables that migration 2 adds. */
static const char *const v2_tables[] = {
	"merges", "merge_customers", "merge_rows", "merge_fills", "merge_aliases",
	"alias_rows", "dedupe_state", NULL
};

static int listed(const char *name, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* Appends every row of st, each column tagged with its storage class
 * (N null, i integer, f real, t'text', x blob in hex), to b. */
static void dump_rows(struct buf *b, const char *table, sqlite3_stmt *st)
{
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		buf_puts(b, table);
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			buf_putc(b, '|');
			switch (sqlite3_column_type(st, c)) {
			case SQLITE_NULL:
				buf_putc(b, 'N');
				break;
			case SQLITE_INTEGER:
				buf_printf(b, "i%lld", (long long)sqlite3_column_int64(st, c));
				break;
			case SQLITE_FLOAT:
				buf_printf(b, "f%.17g", sqlite3_column_double(st, c));
				break;
			case SQLITE_TEXT:
				buf_puts(b, "t'");
				buf_append(b, sqlite3_column_text(st, c),
					   (size_t)sqlite3_column_bytes(st, c));
				buf_putc(b, '\'');
				break;
			default: {
				const unsigned char *p = sqlite3_column_blob(st, c);
				buf_putc(b, 'x');
				for (int k = 0; k < sqlite3_column_bytes(st, c); k++)
					buf_printf(b, "%02x", p[k]);
			}
			}
		}
		buf_putc(b, '\n');
	}
	cr_assert_eq(src, SQLITE_DONE);
}

/* The whole database as text: its schema (sqlite_master by name), then
 * every row of every table in primary-key order with all its columns;
 * tables named in skip (and their indexes) left out. The caller frees. */
static char *dump_all(const char *const *skip)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *rows = NULL;
	struct buf b, sql;
	char names[64][64];
	size_t n = 0;
	buf_init(&b);
	buf_init(&sql);
	buf_puts(&b, "");
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master"
					" ORDER BY name", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *tbl = (const char *)sqlite3_column_text(st, 2);
		const char *text = (const char *)sqlite3_column_text(st, 3);
		if (listed(tbl, skip))
			continue;
		buf_printf(&b, "schema|%s|%s|%s\n", type, name, text ? text : "N");
		if (strcmp(type, "table") == 0 && strncmp(name, "sqlite_", 7) != 0) {
			cr_assert_lt(n, 64u);
			snprintf(names[n++], sizeof names[0], "%s", name);
		}
	}
	sqlite3_finalize(st);
	for (size_t t = 0; t < n; t++) {
		char order[256];
		cr_assert_eq(sqlite3_prepare_v2(db, "SELECT group_concat(name, ', ') FROM (SELECT"
						" name FROM pragma_table_info(?1) WHERE pk > 0"
						" ORDER BY pk)", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_text(st, 1, names[t], -1, SQLITE_STATIC);
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		const char *pk = (const char *)sqlite3_column_text(st, 0);
		snprintf(order, sizeof order, "%s", pk ? pk : "rowid");
		sqlite3_finalize(st);
		sql.len = 0;
		buf_printf(&sql, "SELECT * FROM \"%s\" ORDER BY %s", names[t], order);
		cr_assert_eq(sqlite3_prepare_v2(db, sql.p, -1, &rows, NULL), SQLITE_OK, "%s", sql.p);
		dump_rows(&b, names[t], rows);
		sqlite3_finalize(rows);
	}
	sqlite3_close(db);
	buf_fini(&sql);
	return b.p;
}

static void assert_same_dump(const char *before, const char *after)
{
	cr_assert_str_eq(after, before, "the database differs:\n--- before\n%s\n--- after\n%s",
			 before, after);
}

static struct st_writer *writer(struct st_db *db, int entity, int upsert)
{
	struct st_writer_opts o = { upsert, 0, 0, "test.csv", entity };
	struct st_writer *w = NULL;
	struct crm_err err = { 0 };
	cr_assert_eq(st_writer_new(db, &o, &w, &err), CRM_OK, "st_writer_new: %s", err.msg);
	return w;
}

static int put(struct st_writer *w, const struct ent_record *r)
{
	int outcome = -1;
	struct crm_err err = { 0 };
	cr_assert_eq(st_put(w, r, &outcome, NULL, &err), CRM_OK, "st_put: %s", err.msg);
	return outcome;
}

static void finish(struct st_writer *w)
{
	struct crm_err err = { 0 };
	cr_assert_eq(st_writer_finish(w, NULL, &err), CRM_OK, "finish: %s", err.msg);
}

static struct ent_record customer(const char *id, const char *name, const char *signup)
{
	struct ent_record r = rec(CRM_CUSTOMERS, 1);
	set_s(&r, CRM_C_CUSTOMER_ID, id);
	if (name)
		set_s(&r, CRM_C_NAME, name);
	if (signup)
		set_i(&r, CRM_C_SIGNUP_AT, ts(signup));
	return r;
}

static struct ent_record order(const char *id, const char *cust, const char *at)
{
	struct ent_record r = rec(CRM_ORDERS, 1);
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	set_i(&r, CRM_O_AMOUNT, 100000);
	return r;
}

/* Stores one order (a one-row import). */
static int put_order(struct st_db *db, const char *id, const char *cust, const char *at,
		     int upsert)
{
	struct st_writer *w = writer(db, CRM_ORDERS, upsert);
	struct ent_record o = order(id, cust, at);
	int out = put(w, &o);
	finish(w);
	return out;
}

static int64_t apply1(struct st_db *db, const char *const *ids, size_t n)
{
	struct st_merge_group g = { ids, n, 0.97, "same e-mail" };
	struct crm_err err = { 0 };
	int64_t id = -1;
	cr_assert_eq(st_merge_apply(db, &g, 1, &id, &err), CRM_OK, "merge: %s", err.msg);
	return id;
}

static void undo(struct st_db *db, int64_t merge_id)
{
	struct crm_err err = { 0 };
	cr_assert_eq(st_merge_undo(db, merge_id, &err), CRM_OK, "undo %lld: %s",
		     (long long)merge_id, err.msg);
}

/* "order_id:customer_id" of every order, by rid. */
#define ORDERS_BY_CUSTOMER "SELECT group_concat(x, ' ') FROM (SELECT o.order_id || ':' ||" \
	" c.customer_id AS x FROM orders o JOIN customers c USING(cid) ORDER BY o.rid)"

/* A business with three records of one person (A1, A2, A3), another
 * customer, a stub, and rows of every entity. */
static void build_business(struct st_db *db)
{
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record a2 = customer("A2", "Anna Bell", "2021-03-01");
	set_s(&a2, CRM_C_PHONE, "+447700900001");
	struct ent_record a1 = customer("A1", "Anna Bell", "2020-01-05");
	set_s(&a1, CRM_C_EMAIL, "anna@example.com");
	set_s(&a1, CRM_C_COUNTRY, "GB");
	set_s(&a1, CRM_C_CITY, "");   /* empty text: blank, filled by a merge */
	struct ent_record a3 = customer("A3", "A. Bell", NULL);
	set_s(&a3, CRM_C_TIER, "gold");
	set_s(&a3, CRM_C_CITY, "London");
	set_s(&a3, CRM_C_PHONE, "+447700900003");
	struct ent_record b1 = customer("B1", "Богдан Коваль", "2019-07-15");
	put(w, &a2);   /* cid 1 */
	put(w, &a1);   /* cid 2 */
	put(w, &a3);   /* cid 3 */
	put(w, &b1);   /* cid 4 */
	finish(w);

	w = writer(db, CRM_ORDERS, 0);
	const char *o[][3] = { { "O1", "A1", "2021-01-02" }, { "O2", "A2", "2021-04-02" },
			       { "O3", "A3", "2021-05-03" }, { "O4", "B1", "2021-05-04" },
			       { "O5", "S9", "2021-06-01" } };   /* S9: a stub, cid 5 */
	for (size_t i = 0; i < 5; i++) {
		struct ent_record r = order(o[i][0], o[i][1], o[i][2]);
		set_s(&r, CRM_O_CURRENCY, "GBP");
		put(w, &r);
	}
	finish(w);

	w = writer(db, CRM_TICKETS, 0);
	struct ent_record t = rec(CRM_TICKETS, 1);
	set_s(&t, CRM_T_TICKET_ID, "T1");
	set_s(&t, CRM_T_CUSTOMER_ID, "A2");
	set_i(&t, CRM_T_OPENED_AT, ts("2021-04-05"));
	set_s(&t, CRM_T_TOPIC, "delivery");
	put(w, &t);
	finish(w);

	w = writer(db, CRM_INTERACTIONS, 0);
	struct ent_record in = rec(CRM_INTERACTIONS, 1);
	set_s(&in, CRM_I_INTERACTION_ID, "I1");
	set_s(&in, CRM_I_CUSTOMER_ID, "A3");
	set_i(&in, CRM_I_OCCURRED_AT, ts("2021-02-01"));
	set_s(&in, CRM_I_CHANNEL, "email");
	put(w, &in);
	finish(w);

	w = writer(db, CRM_LEADS, 0);
	struct ent_record l1 = rec(CRM_LEADS, 1), l2 = rec(CRM_LEADS, 2);
	set_s(&l1, CRM_L_LEAD_ID, "L1");
	set_i(&l1, CRM_L_CREATED_AT, ts("2020-12-01"));
	set_s(&l1, CRM_L_CUSTOMER_ID, "A2");
	set_s(&l2, CRM_L_LEAD_ID, "L2");
	set_i(&l2, CRM_L_CREATED_AT, ts("2020-12-02"));
	put(w, &l1);
	put(w, &l2);
	finish(w);

	w = writer(db, CRM_FEEDBACK, 0);
	struct ent_record f = rec(CRM_FEEDBACK, 1);
	set_s(&f, CRM_F_RESPONSE_ID, "F1");
	set_s(&f, CRM_F_CUSTOMER_ID, "A3");
	set_i(&f, CRM_F_ANSWERED_AT, ts("2021-04-10"));
	set_s(&f, CRM_F_KIND, "nps");
	set_i(&f, CRM_F_SCORE, 9);
	put(w, &f);
	finish(w);

	w = writer(db, CRM_WEB_EVENTS, 0);
	for (int k = 0; k < 3; k++) {
		struct ent_record e = rec(CRM_WEB_EVENTS, k + 1);
		set_s(&e, CRM_W_SESSION_ID, k < 2 ? "W1" : "W2");
		set_i(&e, CRM_W_OCCURRED_AT, ts("2021-04-01T10:00:00Z"));
		set_s(&e, CRM_W_PAGE, "/home");
		set_s(&e, CRM_W_EVENT, "view");
		if (k < 2)
			set_s(&e, CRM_W_CUSTOMER_ID, "A2");
		e.seq = k < 2 ? k + 1 : 1;   /* W1 twice: occurrences 1 and 2 */
		put(w, &e);
	}
	finish(w);

	w = writer(db, CRM_SPEND, 0);
	struct ent_record sp = rec(CRM_SPEND, 1);
	set_i(&sp, CRM_S_DATE, ts("2021-01-01"));
	set_s(&sp, CRM_S_CHANNEL, "ads");
	set_i(&sp, CRM_S_AMOUNT, 1000000);
	put(w, &sp);
	finish(w);
}

/* ------------------------------------------------ apply and exact undo */

Test(merge, three_customers_merge_into_the_oldest_and_undo_restores_every_table)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	build_business(db);
	/* an alias of A2 from before (an older id of hers) */
	sql_exec(db_path, "INSERT INTO customer_aliases(alias, cid) VALUES('OLDA2', 1)");
	char *before = dump_all(merge_log);

	/* given in no particular order; A1 signed up first (2020-01-05), A2 in
	 * 2021, A3 never: A1 (cid 2) is kept, A2 then A3 fill its blanks */
	const char *ids[] = { "A3", "A1", "A2" };
	int64_t m = apply1(db, ids, 3);
	cr_assert_eq(m, 1);
	assert_sound();

	assert_sql_text("SELECT group_concat(customer_id, ' ') FROM (SELECT customer_id"
			" FROM customers ORDER BY cid)", "A1 B1 S9");
	/* kept: name and e-mail its own; phone from A2 (older than A3's); city
	 * was '' (blank) and tier NULL: both from A3, the only one with them */
	assert_sql_text("SELECT quote(name) || ',' || quote(email) || ',' || quote(phone) ||"
			" ',' || quote(city) || ',' || quote(tier) || ',' || quote(country) ||"
			" ',' || signup_at || ',' || is_stub FROM customers WHERE cid = 2",
			"'Anna Bell','anna@example.com','+447700900001','London','gold','GB',"
			"1578182400,0");
	assert_sql_text(ORDERS_BY_CUSTOMER, "O1:A1 O2:A1 O3:A1 O4:B1 O5:S9");
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM tickets WHERE ticket_id = 'T1'"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM interactions WHERE interaction_id = 'I1'"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM leads WHERE lead_id = 'L1'"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT cid IS NULL FROM leads WHERE lead_id = 'L2'"), 1);
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM feedback WHERE response_id = 'F1'"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM web_events WHERE cid = 2"), 2);
	/* the old ids, and the alias that pointed at A2, now name A1 */
	assert_sql_text("SELECT group_concat(alias || '>' || cid, ' ') FROM (SELECT * FROM"
			" customer_aliases ORDER BY alias)", "A2>2 A3>2 OLDA2>2");
	/* the log: two customers, the 8 rows that moved (O2, O3, T1, I1, L1, F1
	 * and two web events), 3 fills, 3 aliases */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM merge_customers WHERE merge_id = 1"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM merge_rows WHERE merge_id = 1"), 8);
	assert_sql_text("SELECT group_concat(field || '=' || quote(old) || '>' || quote(new), ' ')"
			" FROM (SELECT * FROM merge_fills ORDER BY field)",
			"city=''>'London' phone=NULL>'+447700900001' tier=NULL>'gold'");
	assert_sql_text("SELECT group_concat(alias || ':' || from_cid || ':' || own, ' ') FROM"
			" (SELECT * FROM merge_aliases ORDER BY alias)",
			"A2:1:1 A3:3:1 OLDA2:1:0");

	struct st_merge_info *list = NULL;
	size_t n = 0;
	struct crm_err err = { 0 };
	cr_assert_eq(st_merge_list(db, &list, &n, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].merge_id, 1);
	cr_assert_eq(list[0].kept_cid, 2);
	cr_assert_eq(list[0].n_merged, 2);
	cr_assert_eq(list[0].undone, 0);
	free(list);

	undo(db, m);
	assert_sound();
	char *after = dump_all(merge_log);
	assert_same_dump(before, after);
	cr_assert_eq(sql_int(db_path, "SELECT undone_at IS NOT NULL FROM merges WHERE merge_id = 1"), 1);
	cr_assert_eq(st_merge_list(db, &list, &n, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].undone, 1);
	free(list);

	/* a second undo of the same merge, and a merge that does not exist */
	cr_assert_eq(st_merge_undo(db, m, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "merge 1 was undone already"), "%s", err.msg);
	cr_assert_eq(st_merge_undo(db, 99, &err), CRM_ENOTFOUND);
	cr_assert(strstr(err.msg, "no merge 99"), "%s", err.msg);
	char *again = dump_all(merge_log);
	assert_same_dump(before, again);
	free(before);
	free(after);
	free(again);
	st_close(db);
}

Test(merge, a_kept_stub_takes_the_fields_and_the_undo_makes_it_a_stub_again)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	/* S1 is a stub (an order of an unknown customer), cid 1; R1 a record
	 * without signup_at, cid 2: neither has a signup, so the smaller cid,
	 * the stub, is kept, and is a stub no more */
	cr_assert_eq(put_order(db, "O1", "S1", "2021-01-01", 0), ST_INSERTED);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record r1 = customer("R1", "Rita", NULL);
	set_s(&r1, CRM_C_EMAIL, "rita@example.com");
	put(w, &r1);
	finish(w);
	char *before = dump_all(merge_log);

	const char *ids[] = { "R1", "S1" };
	int64_t m = apply1(db, ids, 2);
	assert_sql_text("SELECT customer_id || ',' || name || ',' || email || ',' || is_stub"
			" FROM customers", "S1,Rita,rita@example.com,0");
	assert_sql_text("SELECT group_concat(field, ' ') FROM (SELECT field FROM merge_fills"
			" ORDER BY field)", "email is_stub name");
	assert_sound();
	undo(db, m);
	char *after = dump_all(merge_log);
	assert_same_dump(before, after);
	free(before);
	free(after);
	st_close(db);
}

/* -------------------------------------------------- chains and order */

Test(merge, chained_merges_undo_only_latest_first)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record z = customer("Z", "Zoe", "2018-01-01");    /* cid 1 */
	struct ent_record a = customer("A", "Zoe A", "2019-01-01");  /* cid 2 */
	struct ent_record b = customer("B", "Zoe B", "2020-01-01");  /* cid 3 */
	put(w, &z);
	put(w, &a);
	put(w, &b);
	finish(w);
	put_order(db, "OZ", "Z", "2021-01-01", 0);
	put_order(db, "OA", "A", "2021-01-02", 0);
	put_order(db, "OB", "B", "2021-01-03", 0);
	char *initial = dump_all(merge_log);

	/* merge 1: B into A; merge 2: A (holding B's order) into Z */
	const char *ab[] = { "A", "B" }, *za[] = { "A", "Z" };
	int64_t m1 = apply1(db, ab, 2);
	char *after_m1 = dump_all(merge_log);
	int64_t m2 = apply1(db, za, 2);
	cr_assert_eq(m1, 1);
	cr_assert_eq(m2, 2);
	assert_sound();
	assert_sql_text(ORDERS_BY_CUSTOMER, "OZ:Z OA:Z OB:Z");
	/* B's alias follows A into Z */
	assert_sql_text("SELECT group_concat(alias || '>' || cid, ' ') FROM (SELECT * FROM"
			" customer_aliases ORDER BY alias)", "A>1 B>1");
	/* a merged customer's id is not a stored customer */
	struct crm_err err = { 0 };
	const char *bz[] = { "B", "Z" };
	struct st_merge_group g = { bz, 2, 0.9, NULL };
	cr_assert_eq(st_merge_apply(db, &g, 1, NULL, &err), CRM_ENOTFOUND);
	cr_assert(strstr(err.msg, "customer_id B is not a stored customer (it is an alias of"
			 " customer Z"), "%s", err.msg);

	/* merge 1 depends on nothing later but merge 2 merged its kept A */
	cr_assert_eq(st_merge_undo(db, m1, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "merge 1 cannot be undone before merge 2, which merged its"
			 " kept customer A again; undo merge 2 first"), "%s", err.msg);
	undo(db, m2);
	char *after_undo2 = dump_all(merge_log);
	assert_same_dump(after_m1, after_undo2);
	undo(db, m1);
	char *after_undo1 = dump_all(merge_log);
	assert_same_dump(initial, after_undo1);
	assert_sound();

	struct st_merge_info *list = NULL;
	size_t n = 0;
	cr_assert_eq(st_merge_list(db, &list, &n, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].kept_cid, 2);
	cr_assert_str_eq(list[0].kept_id, "A");
	cr_assert_eq(list[1].kept_cid, 1);
	cr_assert_str_eq(list[1].kept_id, "Z");
	cr_assert(list[0].undone && list[1].undone);
	cr_assert_eq(list[0].n_merged, 1);
	free(list);
	free(initial);
	free(after_m1);
	free(after_undo2);
	free(after_undo1);
	st_close(db);
}

Test(merge, a_later_merge_that_kept_the_same_customer_also_comes_first)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record a = customer("A", NULL, "2019-01-01");
	struct ent_record b = customer("B", NULL, "2020-01-01");
	struct ent_record c = customer("C", NULL, "2021-01-01");
	put(w, &a);
	put(w, &b);
	put(w, &c);
	finish(w);
	const char *ab[] = { "A", "B" }, *ac[] = { "C", "A" };
	int64_t m1 = apply1(db, ab, 2), m2 = apply1(db, ac, 2);
	struct crm_err err = { 0 };
	cr_assert_eq(st_merge_undo(db, m1, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "undo merge 2 first"), "%s", err.msg);
	undo(db, m2);
	undo(db, m1);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customers"), 3);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customer_aliases"), 0);
	st_close(db);
}

Test(merge, groups_of_one_apply_get_their_merge_ids_in_order)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	const char *names[] = { "P", "Q", "R", "S", "T" };
	for (int i = 0; i < 5; i++) {
		struct ent_record c = customer(names[i], NULL, NULL);
		put(w, &c);
	}
	finish(w);
	const char *qp[] = { "Q", "P" }, *rst[] = { "T", "S", "R" };
	struct st_merge_group g[2] = { { qp, 2, 0.91, "phone" }, { rst, 3, 0.88, "name" } };
	int64_t ids[2] = { 0, 0 };
	struct crm_err err = { 0 };
	cr_assert_eq(st_merge_apply(db, g, 2, ids, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ids[0], 1);
	cr_assert_eq(ids[1], 2);
	/* no signups: the smallest cid is kept, P (1) and R (3) */
	assert_sql_text("SELECT group_concat(x, ' ') FROM (SELECT merge_id || ':' || kept_id ||"
			" ':' || prob || ':' || evidence AS x FROM merges ORDER BY merge_id)",
			"1:P:0.91:phone 2:R:0.88:name");
	assert_sql_text("SELECT group_concat(x, ' ') FROM (SELECT alias || '>' || cid AS x"
			" FROM customer_aliases ORDER BY alias)", "Q>1 S>3 T>3");
	struct st_merge_info *list = NULL;
	size_t n = 0;
	cr_assert_eq(st_merge_list(db, &list, &n, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[1].n_merged, 2);
	cr_assert_str_eq(list[1].kept_id, "R");
	free(list);
	/* independent merges undo in any order */
	undo(db, ids[0]);
	undo(db, ids[1]);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customers"), 5);
	assert_sound();
	st_close(db);
}

/* ------------------------------------------------------ alias routing */

Test(merge, imports_after_a_merge_use_the_aliases_and_undo_gives_their_rows_back)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record a = customer("A", "Ann", "2019-01-01");   /* cid 1 */
	struct ent_record b = customer("B", "Ann B", "2020-01-01"); /* cid 2 */
	put(w, &a);
	put(w, &b);
	finish(w);
	put_order(db, "O1", "A", "2021-01-01", 0);
	put_order(db, "O2", "B", "2021-01-02", 0);
	const char *ab[] = { "B", "A" };
	int64_t m = apply1(db, ab, 2);

	/* an order for the old id lands on the kept customer, noted */
	cr_assert_eq(put_order(db, "O3", "B", "2021-02-01", 0), ST_INSERTED);
	cr_assert_eq(put_order(db, "O4", "A", "2021-02-02", 0), ST_INSERTED);
	/* O5 came through the alias, then an upsert gave it to A by name */
	cr_assert_eq(put_order(db, "O5", "B", "2021-02-03", 0), ST_INSERTED);
	cr_assert_eq(put_order(db, "O5", "A", "2021-02-03", 1), ST_UPDATED);
	/* O6 came by A's id, then an upsert named B: now noted */
	cr_assert_eq(put_order(db, "O6", "A", "2021-02-04", 0), ST_INSERTED);
	cr_assert_eq(put_order(db, "O6", "B", "2021-02-04", 1), ST_UPDATED);
	assert_sql_text(ORDERS_BY_CUSTOMER, "O1:A O2:A O3:A O4:A O5:A O6:A");
	assert_sql_text("SELECT group_concat(x, ' ') FROM (SELECT entity || ':' || rid || ':' ||"
			" alias AS x FROM alias_rows ORDER BY entity, rid)",
			"orders:3:B orders:6:B");
	/* a ticket through the alias too */
	w = writer(db, CRM_TICKETS, 0);
	struct ent_record t = rec(CRM_TICKETS, 1);
	set_s(&t, CRM_T_TICKET_ID, "T1");
	set_s(&t, CRM_T_CUSTOMER_ID, "B");
	set_i(&t, CRM_T_OPENED_AT, ts("2021-02-05"));
	cr_assert_eq(put(w, &t), ST_INSERTED);
	finish(w);
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM tickets"), 1);

	/* the merged customer's own record is a duplicate, upsert or not */
	for (int upsert = 0; upsert <= 1; upsert++) {
		w = writer(db, CRM_CUSTOMERS, upsert);
		struct ent_record b2 = customer("B", "Ann B again", NULL);
		cr_assert_eq(put(w, &b2), ST_DUPLICATE);
		cr_assert_eq(put(w, &b2), ST_DUP_IN_FILE);
		finish(w);
	}
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customers"), 1);
	assert_sound();

	/* undo: B's rows, the ones merged and the ones imported through "B",
	 * go back to B; those named A (O4, O5) stay */
	undo(db, m);
	assert_sound();
	assert_sql_text(ORDERS_BY_CUSTOMER, "O1:A O2:B O3:B O4:A O5:A O6:B");
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM tickets"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM alias_rows"), 0);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customer_aliases"), 0);
	assert_sql_text("SELECT name FROM customers WHERE customer_id = 'B'", "Ann B");

	/* B is its own customer again */
	cr_assert_eq(put_order(db, "O7", "B", "2021-03-01", 0), ST_INSERTED);
	assert_sql_text("SELECT c.customer_id FROM orders o JOIN customers c USING(cid)"
			" WHERE order_id = 'O7'", "B");
	w = writer(db, CRM_CUSTOMERS, 1);
	struct ent_record b3 = customer("B", "Ann Bell", "2020-01-01");
	cr_assert_eq(put(w, &b3), ST_UPDATED);
	finish(w);
	assert_sql_text("SELECT name FROM customers WHERE customer_id = 'B'", "Ann Bell");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM alias_rows"), 0);
	st_close(db);
}

Test(merge, rows_imported_through_an_alias_in_a_chain_go_back_step_by_step)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record z = customer("Z", NULL, "2018-01-01");   /* cid 1 */
	struct ent_record a = customer("A", NULL, "2019-01-01");   /* cid 2 */
	struct ent_record b = customer("B", NULL, "2020-01-01");   /* cid 3 */
	put(w, &z);
	put(w, &a);
	put(w, &b);
	finish(w);
	const char *ab[] = { "A", "B" }, *za[] = { "Z", "A" };
	int64_t m1 = apply1(db, ab, 2);
	put_order(db, "O1", "B", "2021-01-01", 0);   /* B -> A */
	int64_t m2 = apply1(db, za, 2);
	put_order(db, "O2", "B", "2021-01-02", 0);   /* B -> Z */
	put_order(db, "O3", "A", "2021-01-03", 0);   /* A -> Z */
	assert_sql_text(ORDERS_BY_CUSTOMER, "O1:Z O2:Z O3:Z");
	undo(db, m2);
	/* B and A pointed at A before merge 2 */
	assert_sql_text(ORDERS_BY_CUSTOMER, "O1:A O2:A O3:A");
	assert_sql_text("SELECT group_concat(alias || '>' || cid, ' ') FROM (SELECT * FROM"
			" customer_aliases ORDER BY alias)", "B>2");
	undo(db, m1);
	assert_sql_text(ORDERS_BY_CUSTOMER, "O1:B O2:B O3:A");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM alias_rows"), 0);
	assert_sound();
	st_close(db);
}

Test(merge, a_bulk_import_notes_rows_through_an_alias_while_piping)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record a = customer("A", NULL, "2019-01-01");
	struct ent_record b = customer("B", NULL, "2020-01-01");
	put(w, &a);
	put(w, &b);
	finish(w);
	const char *ab[] = { "A", "B" };
	int64_t m = apply1(db, ab, 2);
	/* past 20,000 rows inserted a bulk import drops its key index and pipes
	 * its INSERTs (store.c); the last 10 rows name the old id B */
	struct st_writer_opts o = { 0, 0, 1000, "bulk.csv", CRM_ORDERS };
	struct crm_err err = { 0 };
	w = NULL;
	cr_assert_eq(st_writer_new(db, &o, &w, &err), CRM_OK, "%s", err.msg);
	char id[32];
	for (int i = 1; i <= 20010; i++) {
		snprintf(id, sizeof id, "O%05d", i);
		struct ent_record r = order(id, i > 20000 ? "B" : "A", "2021-01-01");
		cr_assert_eq(put(w, &r), ST_INSERTED);
	}
	finish(w);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM alias_rows WHERE entity = 'orders' AND"
			     " alias = 'B' AND rid > 20000"), 10);
	undo(db, m);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders o JOIN customers c USING(cid)"
			     " WHERE c.customer_id = 'B'"), 10);
	cr_assert_eq(sql_int(db_path, "SELECT min(rid) FROM orders WHERE cid = 2"), 20001);
	assert_sound();
	st_close(db);
}

/* ---------------------------------------------------- keys and errors */

Test(merge, no_natural_key_includes_the_customer)
{
	/* so moving a row to another customer cannot collide with a row the
	 * kept customer has: the store's keys are ids (and web events' session,
	 * time, page, event and occurrence) */
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct ent_desc *d = ent_get(e);
		for (size_t k = 0; d->key[k] >= 0; k++)
			cr_assert_neq(d->key[k], d->customer_field, "%s", d->name);
	}
}

Test(merge, a_move_that_would_repeat_a_natural_key_fails_every_group)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	const char *names[] = { "A", "B", "C", "D" };
	for (int i = 0; i < 4; i++) {
		struct ent_record c = customer(names[i], NULL, NULL);
		put(w, &c);
	}
	finish(w);
	put_order(db, "O1", "A", "2021-01-01", 0);
	put_order(db, "O2", "B", "2021-01-01", 0);
	put_order(db, "O3", "C", "2021-01-01", 0);
	/* a key that includes the customer, as a future schema might have */
	sql_exec(db_path, "CREATE UNIQUE INDEX orders_customer_day ON orders(cid, ordered_at)");
	char *before = dump_all(merge_log);
	const char *cd[] = { "C", "D" }, *ab[] = { "A", "B" };
	struct st_merge_group g[2] = { { cd, 2, 0.9, NULL }, { ab, 2, 0.9, NULL } };
	int64_t ids[2] = { 0, 0 };
	struct crm_err err = { 0 };
	cr_assert_eq(st_merge_apply(db, g, 2, ids, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "orders of customer B cannot move to customer A: one would"
			 " have two rows of the same natural key"), "%s", err.msg);
	char *after = dump_all(merge_log);
	assert_same_dump(before, after);
	/* nothing logged either: the first group went with the second */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM merges"), 0);
	free(before);
	free(after);
	st_close(db);
}

Test(merge, refuses_unknown_ids_small_groups_and_busy_or_read_only_handles)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record a = customer("A", NULL, NULL), b = customer("B", NULL, NULL);
	put(w, &a);
	put(w, &b);
	finish(w);
	char *before = dump_all(NULL);
	struct crm_err err = { 0 };
	const char *unknown[] = { "A", "NOPE" }, *one[] = { "A" }, *twice[] = { "A", "B", "A" };
	struct st_merge_group g = { unknown, 2, 0.5, NULL };
	cr_assert_eq(st_merge_apply(db, &g, 1, NULL, &err), CRM_ENOTFOUND);
	cr_assert(strstr(err.msg, "customer_id NOPE is not a stored customer"), "%s", err.msg);
	cr_assert(strstr(err.msg, db_path), "%s", err.msg);
	g.ids = one;
	g.n = 1;
	cr_assert_eq(st_merge_apply(db, &g, 1, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "group 1 has 1 customer ids"), "%s", err.msg);
	g.ids = twice;
	g.n = 3;
	cr_assert_eq(st_merge_apply(db, &g, 1, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "customer_id A is twice in one group"), "%s", err.msg);

	/* a writer holds the handle */
	g.ids = twice;
	g.n = 2;
	w = writer(db, CRM_ORDERS, 0);
	cr_assert_eq(st_merge_apply(db, &g, 1, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "a writer is open"), "%s", err.msg);
	cr_assert_eq(st_dedupe_state_set(db, 1, 1, &err), CRM_EINVAL);
	st_writer_abort(w);
	char *after = dump_all(NULL);
	/* the writer recorded its import run; the rest is as it was */
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM imports"), 2);
	sql_exec(db_path, "DELETE FROM imports WHERE import_id = 2");
	free(after);
	after = dump_all(NULL);
	assert_same_dump(before, after);
	st_close(db);

	db = open_db(ST_OPEN_READ);
	cr_assert_eq(st_merge_apply(db, &g, 1, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "read-only"), "%s", err.msg);
	cr_assert_eq(st_merge_undo(db, 1, &err), CRM_EINVAL);
	struct st_merge_info *list = (struct st_merge_info *)1;
	size_t n = 9;
	cr_assert_eq(st_merge_list(db, &list, &n, &err), CRM_OK, "%s", err.msg);
	cr_assert_null(list);
	cr_assert_eq(n, 0);
	st_close(db);
	free(before);
	free(after);
}

Test(merge, a_reused_cid_brings_the_customer_back_under_a_new_one)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct st_writer *w = writer(db, CRM_CUSTOMERS, 0);
	struct ent_record k = customer("K", NULL, "2018-01-01");   /* cid 1 */
	struct ent_record d = customer("D", NULL, "2019-01-01");   /* cid 2 */
	struct ent_record e = customer("E", NULL, "2020-01-01");   /* cid 3 */
	struct ent_record f = customer("F", NULL, "2021-01-01");   /* cid 4 */
	put(w, &k);
	put(w, &d);
	put(w, &e);
	put(w, &f);
	finish(w);
	put_order(db, "OD", "D", "2021-01-01", 0);
	put_order(db, "OE", "E", "2021-01-02", 0);
	put_order(db, "OF", "F", "2021-01-03", 0);
	const char *df[] = { "D", "F" }, *de[] = { "D", "E" }, *kd[] = { "K", "D" };
	int64_t m1 = apply1(db, df, 2);   /* F (cid 4) into D */
	int64_t m2 = apply1(db, de, 2);   /* E (cid 3) into D */
	int64_t m3 = apply1(db, kd, 2);   /* D (cid 2) into K */
	/* the largest cid is 1 now: SQLite gives a new customer cid 2 */
	cr_assert_eq(put_order(db, "ON", "N", "2021-02-01", 0), ST_INSERTED);
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM customers WHERE customer_id = 'N'"), 2);
	assert_sql_text(ORDERS_BY_CUSTOMER, "OD:K OE:K OF:K ON:N");

	undo(db, m3);
	/* D comes back as cid 3 (the largest, N's 2, + 1) with its rows */
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM customers WHERE customer_id = 'D'"), 3);
	assert_sql_text(ORDERS_BY_CUSTOMER, "OD:D OE:D OF:D ON:N");
	undo(db, m2);
	/* E's cid 3 is D's now: E is 4; merges 1 and 2 kept D by its id, so
	 * they find it under its new cid */
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM customers WHERE customer_id = 'E'"), 4);
	assert_sql_text(ORDERS_BY_CUSTOMER, "OD:D OE:E OF:D ON:N");
	undo(db, m1);
	cr_assert_eq(sql_int(db_path, "SELECT cid FROM customers WHERE customer_id = 'F'"), 5);
	assert_sql_text(ORDERS_BY_CUSTOMER, "OD:D OE:E OF:F ON:N");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM customer_aliases"), 0);
	/* the log keeps the cids as they were when merged */
	assert_sql_text("SELECT group_concat(x, ' ') FROM (SELECT kept_id || ':' || kept_cid"
			" AS x FROM merges ORDER BY merge_id)", "D:2 D:2 K:1");
	assert_sound();
	st_close(db);
}

/* ------------------------------------------------------- dedupe state */

Test(merge, dedupe_state_is_saved_and_read_back)
{
	struct st_db *db = open_db(ST_OPEN_CREATE);
	struct crm_err err = { 0 };
	int64_t cid = -1, pending = -1;
	cr_assert_eq(st_dedupe_state_get(db, &cid, &pending, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cid, 0);
	cr_assert_eq(pending, 0);
	cr_assert_eq(st_dedupe_state_set(db, 42, 7, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(st_dedupe_state_set(db, 50, 3, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(st_dedupe_state_set(db, -1, 3, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "negative"), "%s", err.msg);
	st_close(db);
	db = open_db(ST_OPEN_READ);
	cr_assert_eq(st_dedupe_state_get(db, &cid, &pending, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cid, 50);
	cr_assert_eq(pending, 3);
	cr_assert_eq(st_dedupe_state_set(db, 60, 0, &err), CRM_EINVAL);
	st_close(db);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM dedupe_state"), 1);
}

/* ---------------------------------------------------------- migration */

Test(merge, a_version_1_database_is_migrated_and_merges)
{
	/* tests/data/store_v1.sql: a database made by the build before
	 * migration 2 (see its header) */
	char *script = read_file("tests/data/store_v1.sql", NULL);
	cr_assert_not_null(script);
	sqlite3 *raw = NULL;
	char *msg = NULL;
	cr_assert_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, script, NULL, NULL, &msg), SQLITE_OK, "%s", msg);
	sqlite3_close(raw);
	free(script);
	cr_assert_eq(sql_int(db_path, "PRAGMA user_version"), 1);
	char *v1 = dump_all(NULL);

	/* reading does not migrate */
	struct st_db *db = NULL;
	struct crm_err err = { 0 };
	cr_assert_eq(st_open(db_path, ST_OPEN_READ, &db, &err), CRM_ESCHEMA);
	cr_assert(strstr(err.msg, "schema version 1 is older than version 2"), "%s", err.msg);

	db = open_db(ST_OPEN_WRITE);
	cr_assert_eq(sql_int(db_path, "PRAGMA user_version"), 2);
	cr_assert_eq(st_schema_version(), 2);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			     " ('merges', 'merge_customers', 'merge_rows', 'merge_fills',"
			     " 'merge_aliases', 'alias_rows', 'dedupe_state')"), 7);
	/* every table and row of version 1 as it was */
	char *v2 = dump_all(v2_tables);
	assert_same_dump(v1, v2);
	assert_sound();

	/* the fixture: A1 (cid 1, signup 2020-01-05, alias A0) and A2 (cid 2,
	 * 2021-03-01) are one person; A2 has O2, T1, L1, F1 and two web events */
	const char *ids[] = { "A2", "A1" };
	int64_t m = apply1(db, ids, 2);
	assert_sql_text("SELECT group_concat(alias || '>' || cid, ' ') FROM (SELECT * FROM"
			" customer_aliases ORDER BY alias)", "A0>1 A2>1");
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM orders WHERE cid = 1"), 2);
	cr_assert_eq(sql_int(db_path, "SELECT count(*) FROM merge_rows"), 6);
	assert_sound();
	undo(db, m);
	free(v2);
	v2 = dump_all(v2_tables);
	assert_same_dump(v1, v2);
	assert_sound();
	st_close(db);
	free(v1);
	free(v2);
}
