/* test_builder.c - the columnar dataset builder (src/data/builder.c,
 * src/data/dataset.c): dense customer ids, stubs, sort order and offsets,
 * rows without a customer, dictionaries, enum codes and missing values. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/money.h"
#include "core/strmap.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "store/store.h"
#include "support.h"





static int64_t money(const char *s)
{
	int64_t v = 0;
	cr_assert_eq(money_parse(s, strlen(s), '.', &v), 0, "money %s", s);
	return v;
}

/* Records given to add() while `logging`: the load_db test stores them. */
static struct ent_record logged[64];
static int logged_stub[64];
static size_t n_logged;
static int logging;

static int add(struct ds_builder *b, const struct ent_record *r, int is_stub)
{
	struct crm_err err;
	if (logging && n_logged < 64) {
		logged[n_logged] = *r;
		logged_stub[n_logged++] = is_stub;
	}
	int stub = -1;
	int rc = ds_builder_add(b, r, is_stub, &stub, &err);
	cr_assert_eq(rc, CRM_OK, "line %ld: %s", r->line, err.msg);
	return stub;
}

static int add_full_order(struct ds_builder *b, long line, const char *id, const char *cust,
		     const char *at, const char *amount, const char *status,
		     const char *channel)
{
	struct ent_record r = rec(CRM_ORDERS, line);
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	set_i(&r, CRM_O_AMOUNT, money(amount));
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	if (channel)
		set_s(&r, CRM_O_CHANNEL, channel);
	return add(b, &r, 0);
}

static void add_lead(struct ds_builder *b, long line, const char *id, const char *cust,
		     const char *created)
{
	struct ent_record r = rec(CRM_LEADS, line);
	set_s(&r, CRM_L_LEAD_ID, id);
	set_i(&r, CRM_L_CREATED_AT, ts(created));
	if (cust)
		set_s(&r, CRM_L_CUSTOMER_ID, cust);
	if (strcmp(id, "L2") == 0)
		set_i(&r, CRM_L_CONVERTED_AT, ts("2024-02-15"));
	add(b, &r, 0);
}

static void add_web(struct ds_builder *b, long line, const char *session, const char *cust,
		    const char *at, const char *page, int64_t seq, const char *referrer)
{
	struct ent_record r = rec(CRM_WEB_EVENTS, line);
	set_s(&r, CRM_W_SESSION_ID, session);
	set_i(&r, CRM_W_OCCURRED_AT, ts(at));
	set_s(&r, CRM_W_PAGE, page);
	if (cust)
		set_s(&r, CRM_W_CUSTOMER_ID, cust);
	if (referrer)
		set_s(&r, CRM_W_REFERRER, referrer);
	r.seq = seq;
	add(b, &r, 0);
}

/* The hand-made dataset of the layout tests, its records deliberately out
 * of order. customer_ids in byte order: "a1" < "b5" < "c10" < "c2" < "zz",
 * so the dense ids are a1 = 0, b5 = 1, c10 = 2, c2 = 3, zz = 4. */
static struct crm_dataset *small_dataset(void)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);

	/* c10 is mentioned by an order before its customers row: a stub then */
	cr_assert_eq(add_full_order(b, 1, "o3", "c10", "2024-03-01T09:00:00Z", "5.50", NULL, "shop"), 1);
	struct ent_record r = rec(CRM_CUSTOMERS, 2);
	set_s(&r, CRM_C_CUSTOMER_ID, "c2");
	set_s(&r, CRM_C_NAME, "Ελένη");
	set_s(&r, CRM_C_COUNTRY, "GR");
	set_i(&r, CRM_C_SIGNUP_AT, ts("2024-01-05T08:00:00Z"));
	set_i(&r, CRM_C_BIRTH_DATE, ts("1990-05-01"));   /* not an event: not in first_at */
	cr_assert_eq(add(b, &r, 0), 0);
	cr_assert_eq(add_full_order(b, 3, "o5", "c2", "2024-03-02T10:00:00Z", "10.00", "completed", "web"), 0);
	cr_assert_eq(add_full_order(b, 4, "o1", "c2", "2024-03-01T12:00:00Z", "20.00", "returned", "web"), 0);
	/* the same time as o1: the tie goes by order_id, "o1" < "o4" */
	r = rec(CRM_ORDERS, 5);
	set_s(&r, CRM_O_ORDER_ID, "o4");
	set_s(&r, CRM_O_CUSTOMER_ID, "c2");
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-03-01T12:00:00Z"));
	set_i(&r, CRM_O_AMOUNT, money("7.25"));
	set_i(&r, CRM_O_ITEMS, 3);
	set_s(&r, CRM_O_CHANNEL, "");                      /* empty category = missing */
	cr_assert_eq(add(b, &r, 0), 0);
	r = rec(CRM_ORDERS, 6);
	set_s(&r, CRM_O_ORDER_ID, "o2");
	set_s(&r, CRM_O_CUSTOMER_ID, "b5");                /* never gets a customers row */
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-02-01"));
	set_i(&r, CRM_O_AMOUNT, money("3"));
	set_s(&r, CRM_O_STATUS, "cancelled");
	set_s(&r, CRM_O_CURRENCY, "EUR");
	cr_assert_eq(add(b, &r, 0), 1);
	r = rec(CRM_CUSTOMERS, 7);
	set_s(&r, CRM_C_CUSTOMER_ID, "c10");
	set_s(&r, CRM_C_NAME, "Зоя");
	set_s(&r, CRM_C_COUNTRY, "UA");
	cr_assert_eq(add(b, &r, 0), 0);                    /* c10 is a customer now */
	r = rec(CRM_CUSTOMERS, 8);
	set_s(&r, CRM_C_CUSTOMER_ID, "a1");
	set_s(&r, CRM_C_COUNTRY, "UA");
	set_s(&r, CRM_C_TIER, "gold");
	add(b, &r, 0);
	r = rec(CRM_CUSTOMERS, 9);
	set_s(&r, CRM_C_CUSTOMER_ID, "zz");                /* a stub as the store keeps it */
	add(b, &r, 1);
	add_lead(b, 10, "L1", NULL, "2024-01-10");
	add_lead(b, 11, "L2", "c2", "2024-01-03");
	add_lead(b, 12, "L3", NULL, "2024-01-02");
	add_lead(b, 13, "L0", "zz", "2024-01-20");
	r = rec(CRM_SPEND, 14);
	set_i(&r, CRM_S_DATE, ts("2024-01-15"));
	set_s(&r, CRM_S_CHANNEL, "search");
	set_i(&r, CRM_S_AMOUNT, money("100"));
	add(b, &r, 0);
	r = rec(CRM_SPEND, 15);
	set_i(&r, CRM_S_DATE, ts("2024-01-01"));           /* the earliest event of all */
	set_s(&r, CRM_S_CHANNEL, "social");
	set_i(&r, CRM_S_AMOUNT, money("50"));
	add(b, &r, 0);
	r = rec(CRM_TICKETS, 16);
	set_s(&r, CRM_T_TICKET_ID, "T1");
	set_s(&r, CRM_T_CUSTOMER_ID, "a1");
	set_i(&r, CRM_T_OPENED_AT, ts("2024-03-08T08:00:00Z"));
	set_i(&r, CRM_T_FIRST_RESPONSE_AT, ts("2024-03-08T09:00:00Z"));
	set_i(&r, CRM_T_RESOLVED_AT, ts("2024-03-10T08:00:00Z")); /* the latest event */
	add(b, &r, 0);
	/* two events of one session at one time on one page: seq decides */
	add_web(b, 17, "s1", "c2", "2024-03-05T10:00:00Z", "/a", 2, "x");
	add_web(b, 18, "s1", "c2", "2024-03-05T10:00:00Z", "/a", 1, "y");
	add_web(b, 19, "s9", NULL, "2024-03-04T10:00:00Z", "/b", 1, NULL);

	struct crm_dataset *ds = NULL;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

Test(builder, customers_dense_ids_in_byte_order_with_stubs)
{
	struct crm_dataset *ds = small_dataset();
	const struct crm_table *c = &ds->t[CRM_CUSTOMERS];
	cr_assert_eq(ds->n_customers, 5);
	cr_assert_eq(c->n, 5);
	const char *ids[] = { "a1", "b5", "c10", "c2", "zz" };
	/* b5: only an order; zz: a customers row flagged stub; c10: an order
	 * first, then its customers row, so no longer a stub */
	const uint8_t stub[] = { 0, 1, 0, 0, 1 };
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(crm_cell_str(c, CRM_C_CUSTOMER_ID, i), ids[i]);
		cr_assert_eq(ds->is_stub[i], stub[i], "customer %zu", i);
		cr_assert_eq(c->customer[i], i);
	}
	cr_assert_null(c->by_customer);
	cr_assert_eq(c->col[CRM_C_NAME].kind, CRM_COL_STR);
	cr_assert_str_eq(crm_cell_str(c, CRM_C_NAME, 2), "Зоя");
	cr_assert_str_eq(crm_cell_str(c, CRM_C_NAME, 3), "Ελένη");
	/* missing text has length 0 */
	cr_assert_eq(c->col[CRM_C_NAME].str.off[1] - c->col[CRM_C_NAME].str.off[0], 1);
	cr_assert_str_eq(crm_cell_str(c, CRM_C_NAME, 1), "");
	/* country dictionary in byte order: "" (missing), "GR", "UA" */
	const struct crm_column *country = &c->col[CRM_C_COUNTRY];
	cr_assert_eq(country->kind, CRM_COL_CAT);
	cr_assert_eq(country->dict.n, 3);
	cr_assert_str_eq(strs_get(&country->dict, 1, NULL), "GR");
	cr_assert_str_eq(strs_get(&country->dict, 2, NULL), "UA");
	const uint32_t country_code[] = { 2, 0, 2, 1, 0 };
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(country->cat[i], country_code[i], "customer %zu", i);
	cr_assert_str_eq(crm_cell_str(c, CRM_C_TIER, 0), "gold");
	cr_assert_eq(c->col[CRM_C_TIER].cat[3], 0);
	/* a column nobody set: all missing, dictionary of just "" */
	cr_assert_eq(c->col[CRM_C_CITY].dict.n, 1);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(c->col[CRM_C_CITY].cat[i], 0);
	cr_assert_eq(c->col[CRM_C_SIGNUP_AT].kind, CRM_COL_I64);
	cr_assert_eq(c->col[CRM_C_SIGNUP_AT].i64[3], ts("2024-01-05T08:00:00Z"));
	cr_assert_eq(c->col[CRM_C_SIGNUP_AT].i64[0], CRM_NA);
	/* 1990-05-01 = day 7425 since 1970-01-01 (20 years of 365 days + 5 leap
	 * days = 7305, + 120 days of January..April) */
	cr_assert_eq(c->col[CRM_C_BIRTH_DATE].i64[3], (int64_t)7425 * 86400);
	/* earliest event: spend of 2024-01-01 (birth dates do not count);
	 * latest: the ticket resolved 2024-03-10 08:00 */
	cr_assert_eq(ds->first_at, ts("2024-01-01"));
	cr_assert_eq(ds->last_at, ts("2024-03-10T08:00:00Z"));
	crm_dataset_free(ds);
}

Test(builder, orders_sorted_by_customer_time_and_key)
{
	struct crm_dataset *ds = small_dataset();
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	cr_assert_eq(o->n, 5);
	/* b5: o2; c10: o3; c2: o1, o4 (same time, key order), o5; a1 and zz none */
	const uint64_t by[] = { 0, 0, 1, 2, 5, 5 };
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(o->by_customer[i], by[i], "by_customer[%zu]", i);
	const char *id[] = { "o2", "o3", "o1", "o4", "o5" };
	const uint32_t cust[] = { 1, 2, 3, 3, 3 };
	const char *at[] = { "2024-02-01", "2024-03-01T09:00:00Z", "2024-03-01T12:00:00Z",
			     "2024-03-01T12:00:00Z", "2024-03-02T10:00:00Z" };
	const int64_t amount[] = { 30000, 55000, 200000, 72500, 100000 };
	/* enum codes: cancelled 3, unset 0, returned 2, unset 0, completed 1 */
	const uint32_t status[] = { CRM_STATUS_CANCELLED, CRM_STATUS_NA, CRM_STATUS_RETURNED,
				    CRM_STATUS_NA, CRM_STATUS_COMPLETED };
	/* channel dictionary "", "shop", "web" */
	const uint32_t channel[] = { 0, 1, 2, 0, 2 };
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(crm_cell_str(o, CRM_O_ORDER_ID, i), id[i]);
		cr_assert_eq(o->customer[i], cust[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_ORDERED_AT].i64[i], ts(at[i]), "row %zu", i);
		cr_assert_eq(o->col[CRM_O_AMOUNT].i64[i], amount[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_STATUS].cat[i], status[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_CHANNEL].cat[i], channel[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_COST].i64[i], CRM_NA);   /* never given */
		cr_assert_eq(o->col[CRM_O_CATEGORY].cat[i], 0);
	}
	/* the status dictionary is the enum's list, whatever came first */
	const struct crm_column *st = &o->col[CRM_O_STATUS];
	cr_assert_eq(st->dict.n, 4);
	cr_assert_str_eq(strs_get(&st->dict, CRM_STATUS_COMPLETED, NULL), "completed");
	cr_assert_str_eq(strs_get(&st->dict, CRM_STATUS_RETURNED, NULL), "returned");
	cr_assert_str_eq(strs_get(&st->dict, CRM_STATUS_CANCELLED, NULL), "cancelled");
	cr_assert_str_eq(crm_cell_str(o, CRM_O_STATUS, 0), "cancelled");
	cr_assert_str_eq(crm_cell_str(o, CRM_O_STATUS, 1), "");
	cr_assert_str_eq(crm_cell_str(o, CRM_O_CHANNEL, 4), "web");
	cr_assert_str_eq(crm_cell_str(o, CRM_O_CURRENCY, 0), "EUR");
	cr_assert_eq(o->col[CRM_O_CURRENCY].cat[1], 0);
	cr_assert_eq(o->col[CRM_O_ITEMS].i64[3], 3);
	cr_assert_eq(o->col[CRM_O_ITEMS].i64[2], CRM_NA);
	/* the customer_id field is the customer[] array, not a column */
	cr_assert_eq(o->col[CRM_O_CUSTOMER_ID].kind, CRM_COL_NONE);
	cr_assert_null(o->col[CRM_O_CUSTOMER_ID].i64);
	/* numbers have no text; out-of-range asks get "" */
	cr_assert_str_eq(crm_cell_str(o, CRM_O_AMOUNT, 0), "");
	cr_assert_str_eq(crm_cell_str(o, CRM_O_ORDER_ID, 5), "");
	cr_assert_str_eq(crm_cell_str(o, 40, 0), "");
	crm_dataset_free(ds);
}

Test(builder, rows_without_customer_come_last_by_time)
{
	struct crm_dataset *ds = small_dataset();
	const struct crm_table *l = &ds->t[CRM_LEADS];
	/* c2 (3): L2; zz (4): L0; then no customer: L3 (01-02), L1 (01-10) */
	const uint64_t by[] = { 0, 0, 0, 0, 1, 2 };
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(l->by_customer[i], by[i]);
	cr_assert_eq(l->n, 4);
	const char *id[] = { "L2", "L0", "L3", "L1" };
	const uint32_t cust[] = { 3, 4, CRM_NO_CUSTOMER, CRM_NO_CUSTOMER };
	for (size_t i = 0; i < 4; i++) {
		cr_assert_str_eq(crm_cell_str(l, CRM_L_LEAD_ID, i), id[i]);
		cr_assert_eq(l->customer[i], cust[i]);
	}
	cr_assert_eq(l->col[CRM_L_CONVERTED_AT].i64[0], ts("2024-02-15"));
	cr_assert_eq(l->col[CRM_L_CONVERTED_AT].i64[1], CRM_NA);

	/* spend has no customer at all: no offsets, rows by date */
	const struct crm_table *s = &ds->t[CRM_SPEND];
	cr_assert_eq(s->n, 2);
	cr_assert_null(s->by_customer);
	cr_assert_str_eq(crm_cell_str(s, CRM_S_CHANNEL, 0), "social");
	cr_assert_str_eq(crm_cell_str(s, CRM_S_CHANNEL, 1), "search");
	cr_assert_eq(s->col[CRM_S_CHANNEL].cat[0], 2);   /* "", "search", "social" */
	cr_assert_eq(s->col[CRM_S_AMOUNT].i64[0], 500000);
	cr_assert_eq(s->customer[0], CRM_NO_CUSTOMER);

	/* web events: c2's two events at one time ordered by seq (1 then 2);
	 * the anonymous one after by_customer[5] = 2 */
	const struct crm_table *w = &ds->t[CRM_WEB_EVENTS];
	cr_assert_eq(w->n, 3);
	cr_assert_eq(w->by_customer[3], 0);
	cr_assert_eq(w->by_customer[4], 2);
	cr_assert_eq(w->by_customer[5], 2);
	cr_assert_str_eq(crm_cell_str(w, CRM_W_REFERRER, 0), "y");
	cr_assert_str_eq(crm_cell_str(w, CRM_W_REFERRER, 1), "x");
	cr_assert_str_eq(crm_cell_str(w, CRM_W_SESSION_ID, 2), "s9");
	cr_assert_eq(w->customer[2], CRM_NO_CUSTOMER);

	/* tickets: one of a1; entities with no rows still have offsets */
	const struct crm_table *t = &ds->t[CRM_TICKETS];
	cr_assert_eq(t->by_customer[1], 1);
	cr_assert_eq(t->by_customer[5], 1);
	const struct crm_table *in = &ds->t[CRM_INTERACTIONS];
	cr_assert_eq(in->n, 0);
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(in->by_customer[i], 0);
	crm_dataset_free(ds);
}

Test(builder, rejects_bad_records_without_changing_anything)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_full_order(b, 1, "o1", "k1", "2024-01-01", "1", "completed", NULL);

	struct ent_record r = rec(CRM_ORDERS, 7);
	set_s(&r, CRM_O_ORDER_ID, "o2");
	set_i(&r, CRM_O_ORDERED_AT, 0);
	set_i(&r, CRM_O_AMOUNT, 0);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "line 7") && strstr(err.msg, "customer_id"), "%s", err.msg);

	r = rec(CRM_ORDERS, 8);
	set_s(&r, CRM_O_ORDER_ID, "o3");
	set_s(&r, CRM_O_CUSTOMER_ID, "new");
	set_i(&r, CRM_O_ORDERED_AT, 0);
	set_i(&r, CRM_O_AMOUNT, 0);
	set_s(&r, CRM_O_STATUS, "lost");
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "line 8") && strstr(err.msg, "status") && strstr(err.msg, "lost"),
		  "%s", err.msg);

	r = rec(CRM_CUSTOMERS, 9);
	set_s(&r, CRM_C_NAME, "no id");
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);
	r = rec(99, 10);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);

	/* an enum given as its code (no text) is taken as it is */
	r = rec(CRM_ORDERS, 11);
	set_s(&r, CRM_O_ORDER_ID, "o4");
	set_s(&r, CRM_O_CUSTOMER_ID, "k1");
	set_i(&r, CRM_O_ORDERED_AT, 10);
	set_i(&r, CRM_O_AMOUNT, 5);
	set_i(&r, CRM_O_STATUS, CRM_STATUS_RETURNED);
	add(b, &r, 0);
	r.v[CRM_O_STATUS].i = 4;   /* past the list */
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);

	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	/* the rejected order of "new" made no customer */
	cr_assert_eq(ds->n_customers, 1);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 2);
	/* o4 (at t = 10 s) sorts before o1 (2024) */
	cr_assert_str_eq(crm_cell_str(&ds->t[CRM_ORDERS], CRM_O_ORDER_ID, 0), "o4");
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_STATUS].cat[0], CRM_STATUS_RETURNED);
	crm_dataset_free(ds);
}

Test(builder, empty)
{
	struct ds_builder *b;
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	cr_assert_eq(ds->n_customers, 0);
	cr_assert_eq(ds->first_at, CRM_NA);
	cr_assert_eq(ds->last_at, CRM_NA);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 0);
	cr_assert_eq(ds->t[CRM_ORDERS].by_customer[0], 0);
	crm_dataset_free(ds);
	crm_dataset_free(NULL);
	ds_builder_free(NULL);
	/* a builder dropped without finishing frees what it holds */
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add_full_order(b, 1, "o1", "k1", "2024-01-01", "1", NULL, "web");
	ds_builder_free(b);
}

/* A deterministic pseudo-random generator for the shuffled test. */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

Test(builder, shuffled_rows_come_out_sorted_and_complete)
{
	/* 6000 orders of 60 customers (some with hundreds of rows, so both the
	 * small and the large in-range sorts run), many on the same hour so
	 * that ties fall to order_id; 500 leads, half without customer. */
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	uint64_t seed = 42, sum_amount = 0, sum_id = 0;
	char id[32], cust[32];
	for (int i = 0; i < 6000; i++) {
		unsigned k = (unsigned)(lcg(&seed) % 60);
		if (k >= 50)
			k = (unsigned)(lcg(&seed) % 3);   /* customers 0..2 get many */
		snprintf(cust, sizeof cust, "k%u", k);
		unsigned oid = (unsigned)((i * 7919) % 6000);
		snprintf(id, sizeof id, "x%05u", oid);
		struct ent_record r = rec(CRM_ORDERS, i + 1);
		set_s(&r, CRM_O_ORDER_ID, id);
		set_s(&r, CRM_O_CUSTOMER_ID, cust);
		set_i(&r, CRM_O_ORDERED_AT, (int64_t)(lcg(&seed) % 40) * 3600);
		set_i(&r, CRM_O_AMOUNT, (int64_t)oid * 10);
		add(b, &r, 0);
		sum_amount += oid * 10;
		sum_id += oid;
	}
	for (int i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "L%03d", (i * 37) % 500);
		struct ent_record r = rec(CRM_LEADS, i + 1);
		set_s(&r, CRM_L_LEAD_ID, id);
		set_i(&r, CRM_L_CREATED_AT, (int64_t)(lcg(&seed) % 30) * 86400);
		if (i % 2) {
			snprintf(cust, sizeof cust, "k%u", (unsigned)(lcg(&seed) % 50));
			set_s(&r, CRM_L_CUSTOMER_ID, cust);
		}
		add(b, &r, 0);
	}
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	cr_assert_eq(ds->n_customers, 50);
	for (size_t c = 1; c < ds->n_customers; c++)
		cr_assert_lt(strcmp(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c - 1),
				    crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c)), 0);
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	cr_assert_eq(o->n, 6000);
	cr_assert_eq(o->by_customer[0], 0);
	cr_assert_eq(o->by_customer[ds->n_customers], 6000);
	uint64_t got_amount = 0, got_id = 0;
	for (size_t c = 0; c < ds->n_customers; c++) {
		for (uint64_t i = o->by_customer[c]; i < o->by_customer[c + 1]; i++) {
			cr_assert_eq(o->customer[i], c);
			/* the order's id says which amount came with it */
			unsigned oid = (unsigned)atoi(crm_cell_str(o, CRM_O_ORDER_ID, i) + 1);
			cr_assert_eq(o->col[CRM_O_AMOUNT].i64[i], (int64_t)oid * 10);
			got_amount += (uint64_t)o->col[CRM_O_AMOUNT].i64[i];
			got_id += oid;
			if (i == o->by_customer[c])
				continue;
			int64_t t0 = o->col[CRM_O_ORDERED_AT].i64[i - 1], t1 = o->col[CRM_O_ORDERED_AT].i64[i];
			cr_assert(t0 < t1 || (t0 == t1 && strcmp(crm_cell_str(o, CRM_O_ORDER_ID, i - 1),
							       crm_cell_str(o, CRM_O_ORDER_ID, i)) < 0),
				  "row %llu out of order", (unsigned long long)i);
		}
	}
	cr_assert_eq(got_amount, sum_amount);
	cr_assert_eq(got_id, sum_id);
	/* "k0" (dense 0) is one of the three that got the extra rows */
	cr_assert_gt(o->by_customer[1] - o->by_customer[0], 100);

	const struct crm_table *l = &ds->t[CRM_LEADS];
	cr_assert_eq(l->n, 500);
	cr_assert_eq(l->by_customer[ds->n_customers], 250);
	for (size_t i = 251; i < 500; i++) {
		int64_t t0 = l->col[CRM_L_CREATED_AT].i64[i - 1], t1 = l->col[CRM_L_CREATED_AT].i64[i];
		cr_assert_eq(l->customer[i], CRM_NO_CUSTOMER);
		cr_assert(t0 < t1 || (t0 == t1 && strcmp(crm_cell_str(l, CRM_L_LEAD_ID, i - 1),
						       crm_cell_str(l, CRM_L_LEAD_ID, i)) < 0));
	}
	crm_dataset_free(ds);
}


Test(builder, load_db_gives_what_the_builder_gives)
{
	char dir[256], path[512];
	tmpdir_make(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/crm.db", dir);
	logging = 1;
	struct crm_dataset *direct = small_dataset();
	logging = 0;

	/* the same records through the store, one import per entity, customers
	 * first; "zz" is not put as a customers row: the store makes the stub
	 * itself when lead L0 names it */
	struct st_db *db;
	struct crm_err err;
	cr_assert_eq(st_open(path, ST_OPEN_CREATE, &db, &err), CRM_OK, "%s", err.msg);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		struct st_writer_opts o = { 0, 0, 0, "test", e };
		struct st_writer *w;
		cr_assert_eq(st_writer_new(db, &o, &w, &err), CRM_OK, "%s", err.msg);
		for (size_t i = 0; i < n_logged; i++) {
			if (logged[i].entity != e || logged_stub[i])
				continue;
			int outcome;
			cr_assert_eq(st_put(w, &logged[i], &outcome, NULL, &err), CRM_OK,
				     "record %zu: %s", i, err.msg);
			cr_assert_eq(outcome, ST_INSERTED, "record %zu", i);
		}
		cr_assert_eq(st_writer_finish(w, NULL, &err), CRM_OK, "%s", err.msg);
	}
	st_close(db);

	struct crm_dataset *loaded = NULL;
	cr_assert_eq(crm_dataset_load_db(path, &loaded, &err), CRM_OK, "%s", err.msg);
	assert_same_dataset(direct, loaded);
	crm_dataset_free(direct);
	crm_dataset_free(loaded);

	/* a database that is not there */
	snprintf(path, sizeof path, "%s/none/crm.db", dir);
	cr_assert_neq(crm_dataset_load_db(path, &loaded, &err), CRM_OK);
	cr_assert_null(loaded);
	tmpdir_remove(dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

Test(builder, long_ids_with_a_common_prefix_sort_in_byte_order)
{
	/* ids past 8 bytes that share their first 14 (the radix key then
	 * starts after the common prefix) and some that tie on the 8 bytes
	 * after it, so the full comparison decides; expected: strcmp order */
	const char *ids[] = { "customer-0000000010", "customer-000000001", "customer-0000000100",
			      "customer-00000002", "customer-0000000010x", "customer-0000000010\xff",
			      "customer-0000000010\x01", "customer-00000", "customer-0000000011" };
	const size_t n = sizeof ids / sizeof ids[0];
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* two orders each: the second finds the long id already mapped */
	for (size_t i = 0; i < 2 * n; i++) {
		char oid[24];
		snprintf(oid, sizeof oid, "o%02zu", i);
		add_full_order(b, (long)i, oid, ids[i % n], "2024-01-01", "1", NULL, NULL);
	}
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	const char *want[sizeof ids / sizeof ids[0]];
	memcpy(want, ids, sizeof ids);
	qsort(want, n, sizeof want[0], cmp_str);
	cr_assert_eq(ds->n_customers, n);
	for (size_t c = 0; c < n; c++) {
		cr_assert_str_eq(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c), want[c]);
		/* each customer's two orders landed on it */
		cr_assert_eq(ds->t[CRM_ORDERS].by_customer[c], 2 * c);
		cr_assert_eq(ds->t[CRM_ORDERS].customer[2 * c + 1], c);
	}
	crm_dataset_free(ds);
}

/* Customer i's customer_id: every 7th one longer than the 12 bytes that
 * the store keeps inline when it turns cids back into text. */
static void cust_id(char *out, size_t cap, int i)
{
	if (i % 7 == 0)
		snprintf(out, cap, "customer-with-a-long-id-%08d", i);
	else
		snprintf(out, cap, "c%d", i);
}

/* The old way of crm_dataset_load_db: every table in one st_scan on one
 * thread into one builder. */
static int scan_into(void *ctx, const struct ent_record *r, int is_stub)
{
	struct crm_err err;
	int rc = ds_builder_add(ctx, r, is_stub, NULL, &err);
	cr_assert_eq(rc, CRM_OK, "%s", err.msg);
	return rc;
}

Test(builder, load_db_in_two_key_ranges_on_two_threads_gives_the_one_thread_dataset)
{
	/* 40,000 customers rows (every third one with its email NULL, cids
	 * 1..40000), 70,000 orders of customers c0..c51999: those past c39999
	 * become 12,000 stubs (cids 40001..52000), so customers (52,000 keys)
	 * and orders (70,000) are both past SPLIT_MIN_ROWS = 50,000 and read in
	 * two halves, each half with real customers and stubs; 900 tickets (one
	 * thread). Orders have NULL status, channel and currency by turns.
	 * Every 7th customer_id is long (see cust_id). */
	enum { N_CUST = 40000, N_REF = 52000, N_ORD = 70000, N_TIC = 900 };
	static const char *const status[] = { NULL, "completed", "returned", "cancelled" };
	static const char *const channel[] = { "web", NULL, "store" };
	char dir[256], path[512], id[32], cust[48], email[48];
	tmpdir_make(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/crm.db", dir);
	struct st_db *db;
	struct crm_err err;
	struct ds_builder *direct_b;   /* the same records, given to a builder */
	cr_assert_eq(ds_builder_new(&direct_b, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(st_open(path, ST_OPEN_CREATE, &db, &err), CRM_OK, "%s", err.msg);
	for (int e = CRM_CUSTOMERS; e <= CRM_TICKETS; e++) {
		if (e == CRM_INTERACTIONS)
			continue;
		struct st_writer_opts o = { 0, 0, 0, "test", e };
		struct st_writer *w;
		cr_assert_eq(st_writer_new(db, &o, &w, &err), CRM_OK, "%s", err.msg);
		int n = e == CRM_CUSTOMERS ? N_CUST : e == CRM_ORDERS ? N_ORD : N_TIC;
		for (int i = 0; i < n; i++) {
			struct ent_record r = rec(e, i + 2);
			if (e == CRM_CUSTOMERS) {
				cust_id(cust, sizeof cust, i);
				snprintf(email, sizeof email, "c%d@example.com", i);
				set_s(&r, CRM_C_CUSTOMER_ID, cust);
				if (i % 3)
					set_s(&r, CRM_C_EMAIL, email);
				set_i(&r, CRM_C_SIGNUP_AT, 1600000000 + i);
			} else if (e == CRM_ORDERS) {
				/* customers in a scattered order: 7919 is prime to 52000 */
				snprintf(id, sizeof id, "o%d", i);
				cust_id(cust, sizeof cust, (int)((int64_t)i * 7919 % N_REF));
				set_s(&r, CRM_O_ORDER_ID, id);
				set_s(&r, CRM_O_CUSTOMER_ID, cust);
				set_i(&r, CRM_O_ORDERED_AT, 1650000000 + (i % 5000) * 3600);
				set_i(&r, CRM_O_AMOUNT, 10000 * (i % 97) + 5);
				if (status[i % 4])
					set_s(&r, CRM_O_STATUS, status[i % 4]);
				if (channel[i % 3])
					set_s(&r, CRM_O_CHANNEL, channel[i % 3]);
				if (i % 5 == 0)
					set_s(&r, CRM_O_CURRENCY, "EUR");
			} else {
				snprintf(id, sizeof id, "t%d", i);
				cust_id(cust, sizeof cust, i * 53);
				set_s(&r, CRM_T_TICKET_ID, id);
				set_s(&r, CRM_T_CUSTOMER_ID, cust);
				set_i(&r, CRM_T_OPENED_AT, 1660000000 + i * 60);
				if (i % 2)
					set_i(&r, CRM_T_RESOLVED_AT, 1660000000 + i * 60 + 7200);
			}
			int outcome;
			cr_assert_eq(st_put(w, &r, &outcome, NULL, &err), CRM_OK, "%d: %s", i, err.msg);
			cr_assert_eq(outcome, ST_INSERTED, "%d", i);
			cr_assert_eq(ds_builder_add(direct_b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
		}
		cr_assert_eq(st_writer_finish(w, NULL, &err), CRM_OK, "%s", err.msg);
	}
	int64_t lo, hi;
	cr_assert_eq(st_key_bounds(db, CRM_CUSTOMERS, &lo, &hi, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(lo, 1);
	cr_assert_eq(hi, N_REF);
	cr_assert_eq(st_key_bounds(db, CRM_INTERACTIONS, &lo, &hi, &err), CRM_OK, "%s", err.msg);
	cr_assert(lo > hi, "an empty table has no key range");

	/* one thread, one scan per table */
	struct ds_builder *b;
	struct crm_dataset *old = NULL, *loaded = NULL;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK, "%s", err.msg);
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		cr_assert_eq(st_scan(db, e, scan_into, b, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds_builder_finish(b, &old, &err), CRM_OK, "%s", err.msg);
	st_close(db);
	cr_assert_eq(old->n_customers, N_REF);
	cr_assert_eq(old->t[CRM_ORDERS].n, N_ORD);
	cr_assert_eq(old->t[CRM_TICKETS].n, N_TIC);

	cr_assert_eq(crm_dataset_load_db(path, &loaded, &err), CRM_OK, "%s", err.msg);
	assert_same_dataset(old, loaded);
	/* and both are what the records give, long customer_ids too */
	struct crm_dataset *direct = NULL;
	cr_assert_eq(ds_builder_finish(direct_b, &direct, &err), CRM_OK, "%s", err.msg);
	assert_same_dataset(direct, loaded);
	crm_dataset_free(direct);
	/* the stub flags are compared by assert_same_dataset; their number is
	 * that of the customers known only from orders: 52,000 - 40,000 */
	size_t n_stub = 0;
	for (size_t c = 0; c < loaded->n_customers; c++)
		n_stub += loaded->is_stub[c] != 0;
	cr_assert_eq(n_stub, N_REF - N_CUST);
	crm_dataset_free(old);
	crm_dataset_free(loaded);

	/* the last order (rid 70,000, in the upper half: the other thread's)
	 * names a customer row that is not there: the load fails with the
	 * store's message and leaks nothing */
	sqlite3 *raw;
	cr_assert_eq(sqlite3_open(path, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "PRAGMA foreign_keys = OFF;"
				  " UPDATE orders SET cid = 999999 WHERE rid = 70000",
				  NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(raw));
	sqlite3_close(raw);
	cr_assert_eq(crm_dataset_load_db(path, &loaded, &err), CRM_EDB);
	cr_assert_null(loaded);
	cr_assert(strstr(err.msg, "orders row 70000: customer row 999999 does not exist"),
		  "%s", err.msg);
	tmpdir_remove(dir);
}

/* ------------------------------------ narrow columns, the fast way, memory */

/* The fields of orders kept by `crmscope customers` and items: numbers and
 * an enum only, so records without stub_created take the fast way. */
#define KEEP_NUMBERS (1u << CRM_O_CUSTOMER_ID | 1u << CRM_O_ORDERED_AT | \
		      1u << CRM_O_AMOUNT | 1u << CRM_O_ITEMS | 1u << CRM_O_STATUS)

static void add_nocheck(struct ds_builder *b, const struct ent_record *r)
{
	struct crm_err err;
	cr_assert_eq(ds_builder_add(b, r, 0, NULL, &err), CRM_OK, "line %ld: %s", r->line, err.msg);
}

Test(builder, narrow_numbers_widen_when_a_value_does_not_fit)
{
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_keep(b, CRM_ORDERS, KEEP_NUMBERS, &err), CRM_OK);
	const char *const *status = ent_get(CRM_ORDERS)->fields[CRM_O_STATUS].values;
	char returned[] = "returned";   /* the text, not the list's own pointer */

	/* rows 0 and 1 fit in 32 bits; row 2 has a time past 2038-01-19
	 * (2^31 s), an amount of 1,000,000 units (1e10 ten-thousandths) and
	 * the first items, INT32_MIN (the narrow columns' mark of a missing
	 * value): the items column is made, and all three columns widen, rows
	 * 0 and 1 (a missing amount among them) moved into 64 bits */
	struct ent_record r = rec(CRM_ORDERS, 1);
	set_s(&r, CRM_O_CUSTOMER_ID, "1");
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-01-01"));
	set_i(&r, CRM_O_AMOUNT, 125000);
	set_s(&r, CRM_O_STATUS, status[0]);   /* as ingest gives it: text and code */
	r.v[CRM_O_STATUS].i = CRM_STATUS_COMPLETED;
	add_nocheck(b, &r);
	r = rec(CRM_ORDERS, 2);
	set_s(&r, CRM_O_CUSTOMER_ID, "2");
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-01-02"));
	add_nocheck(b, &r);
	r = rec(CRM_ORDERS, 3);
	set_s(&r, CRM_O_CUSTOMER_ID, "1");
	set_i(&r, CRM_O_ORDERED_AT, ts("2040-01-01"));
	set_i(&r, CRM_O_AMOUNT, INT64_C(10000000000));
	set_i(&r, CRM_O_ITEMS, INT32_MIN);
	set_i(&r, CRM_O_STATUS, CRM_STATUS_RETURNED);   /* the code alone */
	add_nocheck(b, &r);
	/* rejected the fast way as the general way rejects them, and nothing
	 * of them stays */
	r = rec(CRM_ORDERS, 4);
	set_s(&r, CRM_O_CUSTOMER_ID, "9");
	set_i(&r, CRM_O_ORDERED_AT, 0);
	set_s(&r, CRM_O_STATUS, "lost");
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);
	cr_assert(strstr(err.msg, "line 4") && strstr(err.msg, "lost"), "%s", err.msg);
	r.v[CRM_O_STATUS].s = NULL;
	r.v[CRM_O_STATUS].i = 4;   /* past the list */
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);
	r = rec(CRM_ORDERS, 5);
	set_s(&r, CRM_O_CUSTOMER_ID, "3");
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-01-03"));
	set_i(&r, CRM_O_AMOUNT, -50000);
	set_i(&r, CRM_O_ITEMS, CRM_NA);   /* given, but missing */
	set_s(&r, CRM_O_STATUS, returned);
	add_nocheck(b, &r);
	r = rec(CRM_ORDERS, 6);
	set_s(&r, CRM_O_CUSTOMER_ID, "2");
	set_i(&r, CRM_O_ORDERED_AT, ts("2023-12-31"));
	set_i(&r, CRM_O_AMOUNT, INT32_MAX);
	set_i(&r, CRM_O_ITEMS, INT32_MIN + 1);
	add_nocheck(b, &r);
	/* no customer: rejected; a customer id longer than the 48 bytes held
	 * back: looked up at once */
	r = rec(CRM_ORDERS, 7);
	set_i(&r, CRM_O_ORDERED_AT, 0);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_EINVAL);
	char long_id[61];
	memset(long_id, 'x', 60);
	long_id[0] = 'L';
	long_id[60] = '\0';
	r = rec(CRM_ORDERS, 8);
	set_s(&r, CRM_O_CUSTOMER_ID, long_id);
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-01-04"));
	set_i(&r, CRM_O_AMOUNT, 7);
	add_nocheck(b, &r);

	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 4);   /* "9" was rejected with its order */
	cr_assert_str_eq(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, 3), long_id);
	/* customers "1", "2", "3", "Lxx..."; rows by customer, then time:
	 * "1": line 1 (2024-01-01), line 3 (2040-01-01);
	 * "2": line 6 (2023-12-31), line 2 (2024-01-02); "3": line 5;
	 * "Lxx...": line 8 */
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	cr_assert_eq(o->n, 6);
	const uint64_t by[] = { 0, 2, 4, 5, 6 };
	for (size_t c = 0; c <= 4; c++)
		cr_assert_eq(o->by_customer[c], by[c]);
	const int64_t at[] = { ts("2024-01-01"), ts("2040-01-01"), ts("2023-12-31"),
			       ts("2024-01-02"), ts("2024-01-03"), ts("2024-01-04") };
	const int64_t amount[] = { 125000, INT64_C(10000000000), INT32_MAX, CRM_NA, -50000, 7 };
	const int64_t items[] = { CRM_NA, INT32_MIN, INT32_MIN + 1, CRM_NA, CRM_NA, CRM_NA };
	const uint32_t st[] = { CRM_STATUS_COMPLETED, CRM_STATUS_RETURNED, 0, 0,
				CRM_STATUS_RETURNED, 0 };
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(o->col[CRM_O_ORDERED_AT].i64[i], at[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_AMOUNT].i64[i], amount[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_ITEMS].i64[i], items[i], "row %zu", i);
		cr_assert_eq(o->col[CRM_O_STATUS].cat[i], st[i], "row %zu", i);
	}
	/* 2040-01-01 is 2,208,988,800 s: past INT32_MAX, kept whole */
	cr_assert_eq(ds->first_at, 1703980800);
	cr_assert_eq(ds->last_at, INT64_C(2208988800));
	crm_dataset_free(ds);
}

/* Record k of the merge test: numeric and text customer ids, one amount
 * (k = 1200) and one time (k = 3500) too large for 32 bits. */
static struct ent_record widening_order(int k, char bufs[2][32])
{
	struct ent_record r = rec(CRM_ORDERS, k + 1);
	if (k % 11 == 0)
		snprintf(bufs[0], 32, "t%d", k % 13);
	else
		snprintf(bufs[0], 32, "%d", k % 97);
	snprintf(bufs[1], 32, "o%d", k);
	set_s(&r, CRM_O_ORDER_ID, bufs[1]);
	set_s(&r, CRM_O_CUSTOMER_ID, bufs[0]);
	set_i(&r, CRM_O_ORDERED_AT, k == 3500 ? INT64_C(2200000000)
					      : 1600000000 + (int64_t)(k * 7919 % 100000) * 60);
	set_i(&r, CRM_O_AMOUNT, k == 1200 ? INT64_C(5000000000000) : (int64_t)k * 100 - 250000);
	if (k % 5)
		set_i(&r, CRM_O_ITEMS, k);
	if (k % 4 == 0 && k < 1000)   /* (a status in the first part only) */
		set_i(&r, CRM_O_STATUS, 1 + k % 3);
	return r;
}

Test(builder, narrow_and_wide_parts_merge_as_one_builder)
{
	/* variants: numbers only, merged as segments and laid out from them;
	 * numbers only, a record added after the merge (the segments copied
	 * in); every field (order_id text: the tables are copied at merge) */
	const int n = 5000, cuts[] = { 0, 1000, 3000, n };
	struct crm_err err;
	char bufs[2][32];
	for (int variant = 0; variant < 3; variant++) {
		uint32_t keep = variant < 2 ? KEEP_NUMBERS : UINT32_MAX;
		int extra = variant >= 1;
		struct ds_builder *one, *parts[3];
		cr_assert_eq(ds_builder_new(&one, &err), CRM_OK);
		cr_assert_eq(ds_builder_keep(one, CRM_ORDERS, keep, &err), CRM_OK);
		for (int k = 0; k < n + extra; k++) {
			struct ent_record r = widening_order(k, bufs);
			add_nocheck(one, &r);
		}
		struct crm_dataset *ds_one, *ds_merged;
		cr_assert_eq(ds_builder_finish(one, &ds_one, &err), CRM_OK, "%s", err.msg);

		/* part 0 only narrow values, part 1 a wide amount, part 2 a
		 * wide time */
		cr_assert_eq(ds_builder_new(&parts[0], &err), CRM_OK);
		cr_assert_eq(ds_builder_keep(parts[0], CRM_ORDERS, keep, &err), CRM_OK);
		for (int p = 1; p < 3; p++)
			cr_assert_eq(ds_builder_fork(parts[0], &parts[p], &err), CRM_OK);
		for (int p = 0; p < 3; p++)
			for (int k = cuts[p]; k < cuts[p + 1]; k++) {
				struct ent_record r = widening_order(k, bufs);
				add_nocheck(parts[p], &r);
			}
		for (int p = 1; p < 3; p++)
			cr_assert_eq(ds_builder_merge(parts[0], parts[p], NULL, &err), CRM_OK, "%s",
				     err.msg);
		if (extra) {
			struct ent_record r = widening_order(n, bufs);
			add_nocheck(parts[0], &r);
		}
		cr_assert_eq(ds_builder_finish(parts[0], &ds_merged, &err), CRM_OK, "%s", err.msg);
		assert_same_dataset(ds_one, ds_merged);
		/* the wide values, where their orders went: k = 1200 is
		 * customer "36" (1200 % 97), k = 3500 customer "8" */
		const struct crm_table *o = &ds_merged->t[CRM_ORDERS];
		int seen = 0;
		for (size_t i = 0; i < o->n; i++) {
			seen += o->col[CRM_O_AMOUNT].i64[i] == INT64_C(5000000000000);
			seen += o->col[CRM_O_ORDERED_AT].i64[i] == INT64_C(2200000000);
		}
		cr_assert_eq(seen, 2, "variant %d", variant);
		cr_assert_eq(ds_merged->last_at, INT64_C(2200000000));
		crm_dataset_free(ds_one);
		crm_dataset_free(ds_merged);
	}
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Tables of 600,000 rows in two builders, laid out on several threads in
 * memory the builder's columns leave (blocks of more than 1 MB): every
 * customer's rows and amounts, worked out here from the formulas. */
Test(builder, large_tables_come_out_whole)
{
	enum { N = 600000, N_CUST = 50000 };
	static int64_t sum[N_CUST + 1];
	static uint32_t count[N_CUST + 1];
	struct crm_err err;
	char cust[32], id[32];
	for (int text = 0; text < 2; text++) {
		/* text = 0: numbers only (segments scattered); 1: with order ids
		 * (perm, gathered) */
		struct ds_builder *b[2];
		cr_assert_eq(ds_builder_new(&b[0], &err), CRM_OK);
		if (!text)
			cr_assert_eq(ds_builder_keep(b[0], CRM_ORDERS, KEEP_NUMBERS, &err), CRM_OK);
		cr_assert_eq(ds_builder_fork(b[0], &b[1], &err), CRM_OK);
		memset(sum, 0, sizeof sum);
		memset(count, 0, sizeof count);
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (int k = 0; k < N; k++) {
			int c = (int)((int64_t)k * 7 % N_CUST) + 1;
			int64_t at = 1700000000 + (int64_t)(k % 1000) * 86400 - k / 1000;
			/* one amount too large for 32 bits, in the second builder */
			int64_t amount = k == 450000 ? INT64_C(100000000000) + k : k;
			snprintf(cust, sizeof cust, "%d", c);
			snprintf(id, sizeof id, "o%d", k);
			struct ent_record r = rec(CRM_ORDERS, k + 1);
			set_s(&r, CRM_O_ORDER_ID, id);
			set_s(&r, CRM_O_CUSTOMER_ID, cust);
			set_i(&r, CRM_O_ORDERED_AT, at);
			set_i(&r, CRM_O_AMOUNT, amount);
			add_nocheck(b[k >= N / 2], &r);
			sum[c] += amount;
			count[c]++;
			lo = at < lo ? at : lo;
			hi = at > hi ? at : hi;
		}
		cr_assert_eq(ds_builder_merge(b[0], b[1], NULL, &err), CRM_OK, "%s", err.msg);
		struct crm_dataset *ds;
		cr_assert_eq(ds_builder_finish(b[0], &ds, &err), CRM_OK, "%s", err.msg);
		cr_assert_eq(ds->n_customers, N_CUST);
		cr_assert_eq(ds->first_at, lo);
		cr_assert_eq(ds->last_at, hi);
		/* customers in byte order of their ids: those of 1..N_CUST sorted */
		static char texts[N_CUST][12];
		static const char *sorted[N_CUST];
		for (int c = 0; c < N_CUST; c++) {
			snprintf(texts[c], sizeof texts[c], "%d", c + 1);
			sorted[c] = texts[c];
		}
		qsort(sorted, N_CUST, sizeof sorted[0], cmp_cstr);
		const struct crm_table *o = &ds->t[CRM_ORDERS];
		cr_assert_eq(o->n, N);
		for (size_t c = 0; c < N_CUST; c++) {
			const char *cid = crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c);
			cr_assert_str_eq(cid, sorted[c]);
			int num = atoi(cid);
			cr_assert_eq(o->by_customer[c + 1] - o->by_customer[c], count[num]);
			int64_t got = 0;
			for (uint64_t i = o->by_customer[c]; i < o->by_customer[c + 1]; i++) {
				cr_assert_eq(o->customer[i], c);
				got += o->col[CRM_O_AMOUNT].i64[i];
				if (i > o->by_customer[c])
					cr_assert_leq(o->col[CRM_O_ORDERED_AT].i64[i - 1],
						      o->col[CRM_O_ORDERED_AT].i64[i]);
				if (text) {
					/* the order's id says which amount and time */
					int k = atoi(crm_cell_str(o, CRM_O_ORDER_ID, i) + 1);
					cr_assert_eq(o->col[CRM_O_AMOUNT].i64[i],
						     k == 450000 ? INT64_C(100000000000) + k : k);
					cr_assert_eq(o->col[CRM_O_ORDERED_AT].i64[i],
						     1700000000 + (int64_t)(k % 1000) * 86400 - k / 1000);
				}
			}
			cr_assert_eq(got, sum[num], "customer %s", cid);
		}
		crm_dataset_free(ds);
	}
}

/* Order k of the batch test: customer ids that are numbers (some new, some
 * seen), texts, "007" (not a number as people write it), one longer than
 * the references held back; amounts that do not fit 32 bits, missing ones
 * and statuses, placed so that runs of the short way stop inside batches. */
static struct ent_record batch_order(int k, char bufs[2][64])
{
	struct ent_record r = rec(CRM_ORDERS, k + 2);
	if (k % 23 == 5)
		snprintf(bufs[0], 64, "t%d", k % 9);
	else if (k == 77)
		snprintf(bufs[0], 64, "007");
	else if (k == 150)
		snprintf(bufs[0], 64, "L%060d", k);
	else
		snprintf(bufs[0], 64, "%d", (k * 37) % 211);
	snprintf(bufs[1], 64, "o%d", k);
	set_s(&r, CRM_O_ORDER_ID, bufs[1]);
	set_s(&r, CRM_O_CUSTOMER_ID, bufs[0]);
	set_i(&r, CRM_O_ORDERED_AT, ts("2024-01-01") + (int64_t)(k % 50) * 86400);
	if (k % 31 != 3)
		set_i(&r, CRM_O_AMOUNT, k == 90 ? INT64_C(5000000000) : (int64_t)k * 1000 - 7000);
	if (k % 10 == 0) {
		set_s(&r, CRM_O_STATUS, ent_get(CRM_ORDERS)->fields[CRM_O_STATUS].values[1]);
		r.v[CRM_O_STATUS].i = 2;
	}
	return r;
}

Test(builder, batches_give_what_records_one_at_a_time_give)
{
	enum { N = 300 };
	static char bufs[N][2][64];
	static struct ent_record r[N];
	for (int k = 0; k < N; k++) {
		r[k] = batch_order(k, bufs[k]);
		/* as ingest gives them: the reference's number in i */
		r[k].v[CRM_O_CUSTOMER_ID].i = strmap_number(r[k].v[CRM_O_CUSTOMER_ID].s,
							    r[k].v[CRM_O_CUSTOMER_ID].n);
	}
	struct crm_err err;
	struct ds_builder *one, *many;
	cr_assert_eq(ds_builder_new(&one, &err), CRM_OK);
	cr_assert_eq(ds_builder_new(&many, &err), CRM_OK);
	cr_assert_eq(ds_builder_keep(one, CRM_ORDERS, KEEP_NUMBERS, &err), CRM_OK);
	cr_assert_eq(ds_builder_keep(many, CRM_ORDERS, KEEP_NUMBERS, &err), CRM_OK);
	for (int k = 0; k < N; k++)
		cr_assert_eq(ds_builder_add(one, &r[k], 0, NULL, &err), CRM_OK, "%s", err.msg);
	/* the same records in runs of many lengths, some one at a time (held in
	 * the ring, still held when the next run comes), numbered or not */
	static const size_t runs[] = { 1, 1, 1, 70, 2, 64, 5, 1, 17, 100, 1, 37 };
	size_t at = 0;
	for (size_t j = 0; j < sizeof runs / sizeof runs[0]; j++) {
		size_t added = 0;
		cr_assert_eq(ds_builder_add_many(many, &r[at], runs[j], j % 3 != 2, &added, &err),
			     CRM_OK, "%s", err.msg);
		cr_assert_eq(added, runs[j]);
		at += runs[j];
	}
	cr_assert_eq(at, (size_t)N);
	int64_t s1, s2;
	cr_assert_eq(ds_builder_flush(one, &s1, &err), CRM_OK);
	cr_assert_eq(ds_builder_flush(many, &s2, &err), CRM_OK);
	/* the stubs told are the same either way */
	cr_assert_eq(s1, s2);
	struct crm_dataset *d1, *d2;
	cr_assert_eq(ds_builder_finish(one, &d1, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds_builder_finish(many, &d2, &err), CRM_OK, "%s", err.msg);
	/* the customers: the 211 numbers 0..210 (k * 37 % 211 takes each
	 * once in 211 k, 37 being prime to 211; k < 300 takes them all but for
	 * those met only at k = 77, 150 or k % 23 == 5), t0..t8, "007" and
	 * "L0..0150"; counted here by their ids */
	size_t n_num = 0;
	for (int v = 0; v < 211; v++) {
		int met = 0;
		for (int k = 0; k < N && !met; k++)
			met = (k * 37) % 211 == v && k % 23 != 5 && k != 77 && k != 150;
		n_num += (size_t)met;
	}
	cr_assert_eq(d1->n_customers, n_num + 9 + 2);
	cr_assert_eq(d1->t[CRM_ORDERS].n, (size_t)N);
	assert_same_dataset(d1, d2);
	/* the amount of 5e9 ten-thousandths widened its column; k = 3 has none */
	const struct crm_table *o = &d2->t[CRM_ORDERS];
	int seen_wide = 0, seen_na = 0;
	for (size_t i = 0; i < o->n; i++) {
		seen_wide += o->col[CRM_O_AMOUNT].i64[i] == INT64_C(5000000000);
		seen_na += o->col[CRM_O_AMOUNT].i64[i] == CRM_NA;
	}
	cr_assert_eq(seen_wide, 1);
	cr_assert_eq(seen_na, 10);   /* k % 31 == 3: k = 3, 34, ..., 282 */
	crm_dataset_free(d1);
	crm_dataset_free(d2);
}
