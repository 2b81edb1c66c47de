/* test_import.c - the import pipeline (src/ingest/import.c, src/ingest/map.c,
 * src/data/load.c): mapping, types, validation rules, quarantine, order
 * lines, the accounting identity, idempotence, a killed import, and the two
 * real data sets. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/strmap.h"
#include "core/tstamp.h"
#include "data/load.h"
#include "ingest/import.h"
#include "ingest/map.h"
#include "store/store.h"
#include "support.h"

/* A sink that renders every record as "field=value;..." lines. */
struct capture {
	struct buf out;
	size_t n;
	int outcome;   /* what to answer */
};

static void capture_one(struct capture *c, const struct ent_record *rec)
{
	const struct ent_desc *d = ent_get(rec->entity);
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ent_value *v = &rec->v[i];
		/* a field not set is as in a cleared record, whatever the row
		 * before held (the importer reuses its record) */
		if (!v->set) {
			cr_assert(v->s == NULL && v->n == 0 && v->i == 0,
				  "%s: unset but not zero", d->fields[i].name);
			continue;
		}
		buf_printf(&c->out, "%s=", d->fields[i].name);
		int t = d->fields[i].type;
		/* ids and references carry their number (see ing_sink) */
		if (t == FT_ID || t == FT_REF)
			cr_assert_eq(v->i, strmap_number(v->s, v->n), "%s: i %lld for '%.*s'",
				     d->fields[i].name, (long long)v->i, (int)v->n, v->s);
		if (t == FT_ID || t == FT_REF || t == FT_TEXT || t == FT_CAT || t == FT_ENUM)
			buf_append(&c->out, v->s, v->n);
		else if (t == FT_TIME || t == FT_DATE) {
			char ts[32];
			buf_append(&c->out, ts, ts_format(v->i, 0, ts));
		} else if (t == FT_MONEY || t == FT_DECIMAL) {
			char m[32];
			buf_append(&c->out, m, money_format_exact(v->i, m));
		} else
			buf_printf(&c->out, "%lld", (long long)v->i);
		buf_putc(&c->out, ';');
	}
	if (rec->seq)
		buf_printf(&c->out, "seq=%lld;", (long long)rec->seq);
	buf_putc(&c->out, '\n');
	c->n++;
}

static int capture_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	struct capture *c = ctx;
	(void)err;
	cr_assert(b->n >= 1 && b->n <= ING_BATCH, "batch of %zu", b->n);
	for (size_t k = 0; k < b->n; k++) {
		capture_one(c, &b->rec[k]);
		b->outcome[k] = c->outcome;
	}
	b->taken = b->n;
	b->stubs = 0;
	return CRM_OK;
}

static char dir[256];

static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

/* Imports text, written to the file name (its extension gives the
 * format), as entity into a capture sink; returns the rendered records. */
static char *run_file(const char *name, int entity, const char *text, struct ing_opts *o,
		      struct ing_summary *sum, int expect_rc)
{
	char path[512], rej[512];
	struct capture c = { { NULL, 0, 0 }, 0, ING_INSERTED };
	struct ing_sink sink = { .ctx = &c, .put = capture_put };
	struct crm_err err = { 0, "" };
	write_file(dir, name, text, path, sizeof path);
	snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
	unlink(rej);
	o->entity = entity;
	o->rejects_path = rej;
	int rc = ing_import(path, o, &sink, sum, &err);
	cr_assert_eq(rc, expect_rc, "rc %d: %s", rc, err.msg);
	cr_assert_eq(sum->read, sum->stored + sum->updated + sum->duplicates + sum->rejected,
		     "accounting identity");
	if (!c.out.p)
		buf_append(&c.out, "", 0);
	return c.out.p;
}

/* run_file of a CSV file. */
static char *run(int entity, const char *text, struct ing_opts *o, struct ing_summary *sum,
		 int expect_rc)
{
	return run_file("in.csv", entity, text, o, sum, expect_rc);
}

static struct ing_opts defaults(void)
{
	struct ing_opts o;
	memset(&o, 0, sizeof o);
	o.decimal = '.';
	return o;
}

TestSuite(import, .init = setup, .fini = teardown);

Test(import, maps_aliases_and_parses_types)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run(CRM_ORDERS,
		"Invoice;Customer ID;InvoiceDate;Total;Qty;Status;Note\n"
		"A1;c1;2024-03-01T10:00:00+02:00;12.5;3;Paid;x\n"
		"A2;c2;2024-03-02;0.001;1;refunded;y\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"order_id=A1;customer_id=c1;ordered_at=2024-03-01T08:00:00Z;amount=12.5;items=3;status=completed;\n"
		"order_id=A2;customer_id=c2;ordered_at=2024-03-02T00:00:00Z;amount=0.001;items=1;status=returned;\n");
	cr_assert_eq(s.delim, ';');
	cr_assert_eq(s.read, 2);
	cr_assert_eq(s.stored, 2);
	cr_assert(strstr(s.mapping, "order_id<-Invoice") != NULL, "%s", s.mapping);
	cr_assert(strstr(s.mapping, "customer_id<-Customer ID") != NULL, "%s", s.mapping);
	cr_assert(strstr(s.mapping, "items<-Qty") != NULL, "%s", s.mapping);
	cr_assert(strstr(s.mapping, "ignored: Note") != NULL, "%s", s.mapping);
	free(out);
}

Test(import, explicit_maps_by_name_and_number)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	const char *maps[] = { "customer_id=#2", "ordered_at=#3", "amount=#5" };
	o.maps = maps;
	o.n_maps = 3;
	o.no_header = 1;
	o.csv.mode = ING_DELIM_WS;
	o.date_format = "%Y%m%d";
	char *out = run(CRM_ORDERS, " 00004 0001 19970101  2   29.33\n 00004 0001 19970101  1   1.00\n",
			&o, &s, CRM_OK);
	/* no order id column: ids from customer, day and occurrence */
	cr_assert_str_eq(out,
		"order_id=0001@1997-01-01#1;customer_id=0001;ordered_at=1997-01-01T00:00:00Z;amount=29.33;\n"
		"order_id=0001@1997-01-01#2;customer_id=0001;ordered_at=1997-01-01T00:00:00Z;amount=1;\n");
	cr_assert_eq(s.synthetic_ids, 2);
	free(out);
}

Test(import, unknown_map_field_or_column_is_an_error)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	const char *maps[] = { "colour=a" };
	o.maps = maps;
	o.n_maps = 1;
	free(run(CRM_ORDERS, "a,b\n1,2\n", &o, &s, CRM_EINVAL));
	const char *maps2[] = { "amount=nope" };
	o.maps = maps2;
	free(run(CRM_ORDERS, "order_id,customer_id,ordered_at,x\n1,2,2024-01-01,3\n", &o, &s, CRM_EINVAL));
	/* a required field with no column at all */
	o.n_maps = 0;
	free(run(CRM_ORDERS, "order_id,customer_id,ordered_at\n1,2,2024-01-01\n", &o, &s, CRM_EINVAL));
}

/* One row per rule; each must be quarantined with its reason and nothing
 * else lost: read 14 = stored 2 + rejected 12. */
Test(import, every_rule_rejects_with_its_reason)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run(CRM_TICKETS,
		"ticket_id,customer_id,opened_at,first_response_at,resolved_at,satisfaction,effort,handling_minutes\n"
		"t1,c1,2024-01-01T10:00:00Z,2024-01-01T11:00:00Z,,5,2,12.5\n"       /* good */
		"t2,c1,2024-01-01T10:00:00Z,2024-01-01T09:00:00Z,,,,\n"             /* time_order */
		"t3,c1,2024-01-01T10:00:00Z,,2024-01-01T09:59:59Z,,,\n"             /* time_order */
		"t4,c1,2024-02-30,,,,,\n"                                         /* bad_date */
		"t5,c1,2024-01-01,,,6,,\n"                                        /* out_of_range */
		"t6,c1,2024-01-01,,,0,,\n"                                        /* out_of_range */
		"t7,c1,2024-01-01,,,,8,\n"                                        /* out_of_range */
		"t8,c1,2024-01-01,,,,,-1\n"                                       /* out_of_range */
		"t9,c1,2024-01-01,,,x,,\n"                                        /* bad_number */
		",c1,2024-01-01,,,,,\n"                                           /* missing */
		"t11,,2024-01-01,,,,,\n"                                          /* missing */
		"t12,c\xff,2024-01-01,,,,,\n"                                     /* bad_utf8 */
		"t13,c1,2024-01-01\n"                                             /* field_count */
		"\"t14,c1,2024-01-01,,,,,\n", &o, &s, CRM_OK);                   /* syntax */
	cr_assert_eq(s.read, 14);
	cr_assert_eq(s.stored, 1);
	cr_assert_eq(s.rejected, 13);
	cr_assert_eq(s.reasons[R_TIME_ORDER], 2);
	cr_assert_eq(s.reasons[R_BAD_DATE], 1);
	cr_assert_eq(s.reasons[R_OUT_OF_RANGE], 4);
	cr_assert_eq(s.reasons[R_BAD_NUMBER], 1);
	cr_assert_eq(s.reasons[R_MISSING], 2);
	cr_assert_eq(s.reasons[R_BAD_UTF8], 1);
	cr_assert_eq(s.reasons[R_FIELD_COUNT], 1);
	cr_assert_eq(s.reasons[R_SYNTAX], 1);
	cr_assert_str_eq(out, "ticket_id=t1;customer_id=c1;opened_at=2024-01-01T10:00:00Z;"
		"first_response_at=2024-01-01T11:00:00Z;satisfaction=5;effort=2;handling_minutes=12.5;\n");
	/* the rejects file: a header and one line per reject, with line and raw row */
	char rej[512];
	snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
	cr_assert_eq(count_lines(rej), 14);
	char *text = read_file(rej, NULL);
	/* raw rows are CSV-quoted in their column */
	cr_assert(strstr(text, "line,reason,field,message,raw\n") == text);
	cr_assert(strstr(text, "3,time_order,first_response_at,first_response_at is before opened_at,"
			       "\"t2,c1,2024-01-01T10:00:00Z,2024-01-01T09:00:00Z,,,,\"\n") != NULL, "%s", text);
	cr_assert(strstr(text, "6,out_of_range,satisfaction,satisfaction: 6 is off the scale 1-5,") != NULL, "%s", text);
	cr_assert(strstr(text, "14,field_count,,3 fields where the header has 8,\"t13,c1,2024-01-01\"\n") != NULL, "%s", text);
	free(text);
	free(out);
}

Test(import, feedback_scales_depend_on_kind)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run(CRM_FEEDBACK,
		"response_id,customer_id,answered_at,kind,score\n"
		"r1,c1,2024-01-01,nps,0\n"
		"r2,c1,2024-01-01,NPS,10\n"
		"r3,c1,2024-01-01,nps,11\n"
		"r4,c1,2024-01-01,csat,0\n"
		"r5,c1,2024-01-01,csat,5\n"
		"r6,c1,2024-01-01,ces,7\n"
		"r7,c1,2024-01-01,ces,8\n"
		"r8,c1,2024-01-01,stars,3\n", &o, &s, CRM_OK);
	cr_assert_eq(s.stored, 4);
	cr_assert_eq(s.reasons[R_OUT_OF_RANGE], 3);
	cr_assert_eq(s.reasons[R_BAD_VALUE], 1);
	cr_assert(strstr(out, "response_id=r2;customer_id=c1;answered_at=2024-01-01T00:00:00Z;kind=nps;score=10;") != NULL);
	free(out);
}

Test(import, order_lines_fold_into_orders)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	o.currency = "GBP";
	/* worked out: order 1 = 12 x 6.95 + 2 x 0.001 = 83.402; C2 = -1 x 6.95;
	 * 3 is anonymous (rejected); 4 has a negative price (rejected), a zero
	 * price line (kept at 0) and a line of another customer (rejected) */
	char *out = run(CRM_ORDERS,
		"Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID,Country\n"
		"1,a,12,2009-12-01 07:45:00,6.95,13085,UK\n"
		"1,b,2,2009-12-01 07:45:00,0.001,13085,UK\n"
		"C2,a,-1,2009-12-02 08:00:00,6.95,13085,UK\n"
		"3,a,5,2009-12-03 09:00:00,1.00,,UK\n"
		"4,a,1,2009-12-04 10:00:00,-5,13086,UK\n"
		"4,b,3,2009-12-04 09:00:00,0,13086,UK\n"
		"4,c,1,2009-12-04 10:00:00,2.5,13087,UK\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"order_id=1;customer_id=13085;ordered_at=2009-12-01T07:45:00Z;amount=83.402;currency=GBP;items=14;status=completed;\n"
		"order_id=C2;customer_id=13085;ordered_at=2009-12-02T08:00:00Z;amount=-6.95;currency=GBP;items=-1;status=returned;\n"
		"order_id=4;customer_id=13086;ordered_at=2009-12-04T09:00:00Z;amount=0;currency=GBP;items=3;status=completed;\n");
	cr_assert_eq(s.line_level, 1);
	cr_assert_eq(s.read, 7);
	cr_assert_eq(s.stored, 4);      /* lines */
	cr_assert_eq(s.rejected, 3);
	cr_assert_eq(s.orders_made, 3);
	cr_assert_eq(s.reasons[R_NO_CUSTOMER], 1);
	cr_assert_eq(s.reasons[R_NEGATIVE_PRICE], 1);
	cr_assert_eq(s.reasons[R_ORDER_CONFLICT], 1);
	cr_assert_eq(s.cancel_lines, 1);
	cr_assert_eq(s.zero_price_lines, 1);
	free(out);
}

Test(import, json_lines)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run_file("in.jsonl", CRM_CUSTOMERS,
		"{\"CustomerID\": \"u1\", \"name\": \"Олена Іваненко\", \"signup_at\": \"2024-01-05\", \"extra\": [1,2]}\n"
		"{\"customer_id\": 42, \"name\": \"王伟\", \"tier\": null}\n"
		"not json\n"
		"{\"name\": \"Γιώργος\"}\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"customer_id=u1;name=Олена Іваненко;signup_at=2024-01-05T00:00:00Z;\n"
		"customer_id=42;name=王伟;\n");
	cr_assert_eq(s.read, 4);
	cr_assert_eq(s.reasons[R_SYNTAX], 1);
	cr_assert_eq(s.reasons[R_MISSING], 1);
	free(out);
}

Test(import, decimal_comma_and_date_format)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	o.decimal = ',';
	o.date_format = "%d/%m/%Y %H:%M";
	char *out = run(CRM_SPEND, "date;channel;amount\n01/02/2024 00:00;search;1.234,56\n",
			&o, &s, CRM_OK);
	cr_assert_str_eq(out, "date=2024-02-01T00:00:00Z;channel=search;amount=1234.56;\n");
	free(out);
}

/* ------------------------------------------------------- with the store */

static void import_db(const char *db, int entity, const char *path, struct ing_opts *o,
		      int upsert, size_t batch, struct ing_summary *s)
{
	struct ds_import_opts io;
	struct crm_err err = { 0, "" };
	io.ing = *o;
	io.ing.entity = entity;
	io.upsert = upsert;
	io.batch_rows = batch;
	cr_assert_eq(ds_import(db, path, &io, s, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(s->read, s->stored + s->updated + s->duplicates + s->rejected);
}

Test(import, idempotent_and_upsert)
{
	char db[512], path[512];
	struct ing_opts o = defaults();
	struct ing_summary s;
	snprintf(db, sizeof db, "%s/crm.db", dir);
	write_file(dir, "o.csv", "order_id,customer_id,ordered_at,amount\n"
		   "1,a,2024-01-01,10\n2,b,2024-01-02,20\n2,b,2024-01-02,21\n", path, sizeof path);
	import_db(db, CRM_ORDERS, path, &o, 0, 0, &s);
	cr_assert_eq(s.stored, 2);
	cr_assert_eq(s.reasons[R_DUP_IN_FILE], 1);
	cr_assert_eq(s.stubs, 2);
	import_db(db, CRM_ORDERS, path, &o, 0, 0, &s);
	cr_assert_eq(s.stored, 0);
	cr_assert_eq(s.duplicates, 2);
	cr_assert_eq(s.reasons[R_DUP_IN_FILE], 1);
	cr_assert_eq(s.stubs, 0);
	import_db(db, CRM_ORDERS, path, &o, 1, 0, &s);
	cr_assert_eq(s.updated, 3);
	/* the last row of key 2 wins: 10 + 21 */
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(crm_dataset_load_db(db, &ds, &err), CRM_OK, "%s", err.msg);
	const struct crm_table *t = &ds->t[CRM_ORDERS];
	cr_assert_eq(t->n, 2);
	cr_assert_eq(t->col[CRM_O_AMOUNT].i64[0] + t->col[CRM_O_AMOUNT].i64[1], 310000);
	crm_dataset_free(ds);
}

Test(import, strict_rejects_unknown_customers)
{
	char db[512], path[512];
	struct ing_opts o = defaults();
	struct ing_summary s;
	snprintf(db, sizeof db, "%s/crm.db", dir);
	write_file(dir, "c.csv", "customer_id,name\na,Ann\n", path, sizeof path);
	import_db(db, CRM_CUSTOMERS, path, &o, 0, 0, &s);
	write_file(dir, "o.csv", "order_id,customer_id,ordered_at,amount\n1,a,2024-01-01,10\n2,zz,2024-01-02,20\n",
		   path, sizeof path);
	o.strict = 1;
	import_db(db, CRM_ORDERS, path, &o, 0, 0, &s);
	cr_assert_eq(s.stored, 1);
	cr_assert_eq(s.reasons[R_UNKNOWN_CUSTOMER], 1);
}

/* A killed import keeps whole batches only; running it again completes it
 * and counts the stored ones as duplicates. */
Test(import, killed_import_loses_and_doubles_nothing)
{
	char db[512], path[512];
	const size_t n_rows = 300000, batch = 5000;
	snprintf(db, sizeof db, "%s/crm.db", dir);
	snprintf(path, sizeof path, "%s/orders.csv", dir);
	FILE *f = fopen(path, "w");
	fputs("order_id,customer_id,ordered_at,amount\n", f);
	for (size_t i = 0; i < n_rows; i++)
		fprintf(f, "o%zu,c%zu,2024-01-%02zu,%zu.%02zu\n", i, i % 5000, 1 + i % 28, i % 100, i % 97);
	fclose(f);
	struct ing_opts o = defaults();
	/* create the schema first so the parent can watch the row count */
	struct st_db *sdb;
	struct crm_err err;
	cr_assert_eq(st_open(db, ST_OPEN_CREATE, &sdb, &err), CRM_OK, "%s", err.msg);
	st_close(sdb);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct ds_import_opts io;
		struct ing_summary s;
		io.ing = o;
		io.ing.entity = CRM_ORDERS;
		io.upsert = 0;
		io.batch_rows = batch;
		ds_import(db, path, &io, &s, &err);
		_exit(0);
	}
	int64_t n = 0;
	for (int k = 0; k < 20000 && n < (int64_t)(2 * batch); k++) {
		usleep(1000);
		if (st_open(db, ST_OPEN_READ, &sdb, &err) == CRM_OK) {
			st_count(sdb, CRM_ORDERS, &n, &err);
			st_close(sdb);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(st_open(db, ST_OPEN_READ, &sdb, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(st_count(sdb, CRM_ORDERS, &n, &err), CRM_OK);
	st_close(sdb);
	cr_assert(n > 0 && n < (int64_t)n_rows, "killed after %lld rows: not in the middle", (long long)n);
	cr_assert_eq(n % (int64_t)batch, 0, "%lld rows: a half batch survived", (long long)n);
	struct ing_summary s;
	import_db(db, CRM_ORDERS, path, &o, 0, batch, &s);
	cr_assert_eq(s.read, (int64_t)n_rows);
	cr_assert_eq(s.duplicates, n);
	cr_assert_eq(s.stored, (int64_t)n_rows - n);
	cr_assert_eq(st_open(db, ST_OPEN_READ, &sdb, &err), CRM_OK);
	cr_assert_eq(st_count(sdb, CRM_ORDERS, &n, &err), CRM_OK);
	st_close(sdb);
	cr_assert_eq(n, (int64_t)n_rows);
}

/* ../shared/data/README.md: 69,659 rows, 23,570 customers, $2,500,315.63. */
Test(import, cdnow_master)
{
	char db[512];
	const char *path = "../shared/data/cdnow/CDNOW_master.txt";
	struct ing_opts o = defaults();
	o.csv.mode = ING_DELIM_WS;
	o.date_format = "%Y%m%d";
	o.currency = "USD";
	struct ing_summary s;
	snprintf(db, sizeof db, "%s/cdnow.db", dir);
	import_db(db, CRM_ORDERS, path, &o, 0, 0, &s);
	cr_assert_eq(s.read, 69659);
	cr_assert_eq(s.stored, 69659);
	cr_assert_eq(s.rejected, 0);
	cr_assert_eq(s.stubs, 23570);
	cr_assert_eq(s.synthetic_ids, 69659);
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(crm_dataset_load_db(db, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 23570);
	int64_t total = 0;
	for (size_t i = 0; i < ds->t[CRM_ORDERS].n; i++)
		total += ds->t[CRM_ORDERS].col[CRM_O_AMOUNT].i64[i];
	cr_assert_eq(total, 25003156300LL);  /* 2,500,315.63 exactly */
	crm_dataset_free(ds);
	/* a second import doubles nothing */
	import_db(db, CRM_ORDERS, path, &o, 0, 0, &s);
	cr_assert_eq(s.stored, 0);
	cr_assert_eq(s.duplicates, 69659);
}

/* ../shared/data/README.md facts, every line accounted for (docs/IMPORT.md). */
Test(import, online_retail_ii)
{
	char db[512];
	const char *path = "../shared/data/online_retail_ii/online_retail_II_2009_2010.csv";
	struct ing_opts o = defaults();
	o.currency = "GBP";
	struct ing_summary s;
	snprintf(db, sizeof db, "%s/retail.db", dir);
	import_db(db, CRM_ORDERS, path, &o, 0, 0, &s);
	cr_assert_eq(s.line_level, 1);
	cr_assert_eq(s.read, 525461);
	cr_assert_eq(s.reasons[R_NO_CUSTOMER], 107927);   /* lines with a blank Customer ID */
	cr_assert_eq(s.rejected, 107927);
	cr_assert_eq(s.stored, 525461 - 107927);
	cr_assert_eq(s.orders_made, 23587);               /* invoices with a customer */
	cr_assert_eq(s.stubs, 4383);                      /* distinct customers */
	cr_assert_eq(s.cancel_lines, 9839);               /* cancellation lines with a customer */
	cr_assert_eq(s.zero_price_lines, 31);
	struct crm_dataset *ds;
	struct crm_err err;
	cr_assert_eq(crm_dataset_load_db(db, &ds, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(ds->n_customers, 4383);
	int64_t total = 0;
	for (size_t i = 0; i < ds->t[CRM_ORDERS].n; i++)
		total += ds->t[CRM_ORDERS].col[CRM_O_AMOUNT].i64[i];
	cr_assert_eq(total, 83482085740LL);  /* 8,348,208.574: the facts' sum over lines with a customer */
	crm_dataset_free(ds);
}

/* The row loop takes common values inline (an ASCII text, a time whose text
 * repeats, a money amount, none with blanks to trim) and leaves the rest to
 * the general parser: both give the same values and the same faults. Rows
 * after one with cost and category must not keep them (capture_put checks
 * that a field not set is zero). */
Test(import, inline_and_general_paths_agree)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run(CRM_ORDERS,
		"order_id,customer_id,ordered_at,amount,channel,cost,category\n"
		"A1,c1,2024-03-01,12.5,web,1,books\n"              /* all inline */
		" A2 ,c1\t, 2024-03-01 ,  12.5 ,caf\xc3\xa9,,\n"   /* trimmed; UTF-8 */
		"A3,c2,2024-03-01\t,1x,web,,\n"                    /* bad amount */
		"A4,c2,2024-03-01,3,w\xff,,\n"                     /* bad UTF-8 */
		"A5,c2,2024-03-02,7.25,,,\n"                       /* a new day */
		"A6,c2,2024-03-02,2,web,,x\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"order_id=A1;customer_id=c1;ordered_at=2024-03-01T00:00:00Z;amount=12.5;channel=web;cost=1;category=books;\n"
		"order_id=A2;customer_id=c1;ordered_at=2024-03-01T00:00:00Z;amount=12.5;channel=caf\xc3\xa9;\n"
		"order_id=A5;customer_id=c2;ordered_at=2024-03-02T00:00:00Z;amount=7.25;\n"
		"order_id=A6;customer_id=c2;ordered_at=2024-03-02T00:00:00Z;amount=2;channel=web;category=x;\n");
	cr_assert_eq(s.read, 6);
	cr_assert_eq(s.stored, 4);
	cr_assert_eq(s.reasons[R_BAD_NUMBER], 1);
	cr_assert_eq(s.reasons[R_BAD_UTF8], 1);
	char rej[512];
	snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
	char *text = read_file(rej, NULL);
	cr_assert(strstr(text, "4,bad_number,amount,amount: '1x' is not a decimal number,") != NULL,
		  "%s", text);
	cr_assert(strstr(text, "5,bad_utf8,channel,channel: not valid UTF-8,") != NULL, "%s", text);
	free(text);
	free(out);
}

/* A blank time before any time was parsed is blank, not the (empty) text
 * of the last time parsed; a date field given a date-time takes its day,
 * whether parsed or taken from the last time parsed. */
Test(import, blank_first_time_and_days_from_the_last_time)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run(CRM_SPEND,
		"date,channel,amount\n"
		",search,1\n"
		"2024-01-01T10:00:00Z,search,2\n"
		"2024-01-01T10:00:00Z,social,3\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"date=2024-01-01T00:00:00Z;channel=search;amount=2;\n"
		"date=2024-01-01T00:00:00Z;channel=social;amount=3;\n");
	cr_assert_eq(s.reasons[R_MISSING], 1);
	free(out);
	out = run(CRM_CUSTOMERS,
		"customer_id,signup_at,birth_date\n"
		"c1,,\n"
		"c2,2024-01-01,1990-05-05T23:00:00Z\n"
		"c3,,\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"customer_id=c1;\n"
		"customer_id=c2;birth_date=1990-05-05T00:00:00Z;signup_at=2024-01-01T00:00:00Z;\n"
		"customer_id=c3;\n");
	free(out);
}

/* Fields without a column that the importer still writes (an id made up,
 * the default currency) are right on every row, a rejected one between.
 * Worked out: c1's rows on 2024-01-01 are the first and second kept there
 * (the rejected one takes no number). */
Test(import, made_up_ids_and_default_currency_every_row)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	o.currency = "EUR";
	char *out = run(CRM_ORDERS,
		"customer_id,ordered_at,amount\n"
		"c1,2024-01-01,1\n"
		"c1,2024-01-01,x\n"
		"c1,2024-01-01,2\n"
		"c2,2024-01-02,3\n", &o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"order_id=c1@2024-01-01#1;customer_id=c1;ordered_at=2024-01-01T00:00:00Z;amount=1;currency=EUR;\n"
		"order_id=c1@2024-01-01#2;customer_id=c1;ordered_at=2024-01-01T00:00:00Z;amount=2;currency=EUR;\n"
		"order_id=c2@2024-01-02#1;customer_id=c2;ordered_at=2024-01-02T00:00:00Z;amount=3;currency=EUR;\n");
	cr_assert_eq(s.synthetic_ids, 3);
	cr_assert_eq(s.rejected, 1);
	free(out);
}

/* JSON Lines: the first key that gives a field wins, a null gives nothing,
 * and a field a line lacks is not the line before's. */
Test(import, json_lines_first_key_wins_and_nothing_carries_over)
{
	struct ing_opts o = defaults();
	struct ing_summary s;
	char *out = run_file("in.jsonl", CRM_ORDERS,
		"{\"order_id\": \"1\", \"customer_id\": null, \"Customer ID\": \"c9\", "
		"\"ordered_at\": \"2024-01-01\", \"amount\": 1}\n"
		"{\"order_id\": \"2\", \"customer_id\": \"c1\", \"Customer ID\": \"c9\", "
		"\"ordered_at\": \"2024-01-01\", \"amount\": \"2.50\", \"channel\": \"web\"}\n"
		"{\"order_id\": \"3\", \"customer_id\": \"c1\", \"ordered_at\": \" 2024-01-01\", \"amount\": 3}\n",
		&o, &s, CRM_OK);
	cr_assert_str_eq(out,
		"order_id=1;customer_id=c9;ordered_at=2024-01-01T00:00:00Z;amount=1;\n"
		"order_id=2;customer_id=c1;ordered_at=2024-01-01T00:00:00Z;amount=2.5;channel=web;\n"
		"order_id=3;customer_id=c1;ordered_at=2024-01-01T00:00:00Z;amount=3;\n");
	cr_assert_eq(s.stored, 3);
	free(out);
}

/* ------------------------------------------------------------ batches */

/* A sink that answers ING_DUP_IN_FILE for the order ids listed in dup
 * (numbers of "o<N>"), fails with CRM_EIO at its fail_at-th record (1-based;
 * 0 never), and logs the ids of the records it takes and its batch sizes. */
struct picky {
	const int *dup;
	size_t n_dup;
	size_t fail_at;
	size_t seen;              /* records given to put so far */
	size_t max_batch;
	size_t n_calls;
	struct buf ids;           /* "id," of every record taken */
};

static int picky_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	struct picky *p = ctx;
	p->n_calls++;
	if (b->n > p->max_batch)
		p->max_batch = b->n;
	cr_assert(b->n >= 1 && b->n <= ING_BATCH);
	for (size_t k = 0; k < b->n; k++) {
		const struct ent_value *id = &b->rec[k].v[CRM_O_ORDER_ID];
		if (++p->seen == p->fail_at)
			return crm_err_set(err, CRM_EIO, "line %ld: the sink fails", b->rec[k].line);
		int n = atoi(id->s + 1);
		b->outcome[k] = ING_INSERTED;
		for (size_t j = 0; j < p->n_dup; j++)
			if (p->dup[j] == n)
				b->outcome[k] = ING_DUP_IN_FILE;
		buf_append(&p->ids, id->s, id->n);
		buf_putc(&p->ids, ',');
		b->taken = k + 1;
	}
	return CRM_OK;
}

/* 200 orders o1..o200 on lines 2..201, with faults the importer finds and
 * outcomes the sink gives placed around the ends of the batches (ING_BATCH
 * is 64): rows 1..64; 65..99, ended by row 100 of too few fields; 101..130,
 * ended by row 130, whose channel the reader unescapes into its scratch;
 * 131..194; 195..200, ended by the end of the file. */
static void write_batch_orders(const char *path)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("order_id,customer_id,order_date,amount,channel\n", f);
	for (int i = 1; i <= 200; i++) {
		const char *date = "2024-03-01", *amount = "12.50", *channel = "web";
		if (i == 1 || i == 64 || i == 65 || i == 129 || i == 200)
			date = "2024-02-30";
		if (i == 63)
			amount = "1x";
		if (i == 130)
			channel = "\"we\"\"b\"";
		if (i == 100) {
			fprintf(f, "o%d,%d,%s\n", i, i % 17, date);
			continue;
		}
		fprintf(f, "o%d,%d,%s,%s,%s\n", i, i % 17, date, amount, channel);
	}
	fclose(f);
}

Test(import, batches_keep_rejects_and_outcomes_in_line_order)
{
	char path[512], rej[512];
	snprintf(path, sizeof path, "%s/batch.csv", dir);
	snprintf(rej, sizeof rej, "%s/batch.rejects.csv", dir);
	write_batch_orders(path);
	static const int dup[] = { 2, 66, 99, 101, 130, 131, 194, 195, 199 };
	struct picky p = { dup, sizeof dup / sizeof dup[0], 0, 0, 0, 0, { NULL, 0, 0 } };
	struct ing_sink sink = { .ctx = &p, .put = picky_put };
	struct ing_opts o = defaults();
	o.entity = CRM_ORDERS;
	o.rejects_path = rej;
	struct ing_summary s;
	struct crm_err err = { 0, "" };
	cr_assert_eq(ing_import(path, &o, &sink, &s, &err), CRM_OK, "%s", err.msg);
	/* 200 rows: 5 bad dates, 1 bad amount, 1 field count (found here), 9
	 * repeats (told by the sink): 16 rejected, 184 stored. Rows 131..194
	 * go to the sink as one batch of 64 */
	cr_assert_eq(s.read, 200);
	cr_assert_eq(s.rejected, 16);
	cr_assert_eq(s.stored, 184);
	cr_assert_eq(s.reasons[R_BAD_DATE], 5);
	cr_assert_eq(s.reasons[R_BAD_NUMBER], 1);
	cr_assert_eq(s.reasons[R_FIELD_COUNT], 1);
	cr_assert_eq(s.reasons[R_DUP_IN_FILE], 9);
	cr_assert_eq(p.max_batch, (size_t)ING_BATCH);
	/* every record the sink took, in file order: all but the 7 made bad */
	struct buf want;
	buf_init(&want);
	for (int i = 1; i <= 200; i++)
		if (!(i == 1 || i == 63 || i == 64 || i == 65 || i == 100 || i == 129 || i == 200))
			buf_printf(&want, "o%d,", i);
	cr_assert_str_eq(p.ids.p, want.p);
	/* the rejects by line (row i is on line i + 1), in line order, the
	 * importer's and the sink's mixed */
	static const int rej_rows[] = { 1, 2, 63, 64, 65, 66, 99, 100, 101, 129, 130, 131, 194,
					195, 199, 200 };
	char *text = read_file(rej, NULL);
	cr_assert_not_null(text);
	char *line = strchr(text, '\n') + 1;
	for (size_t k = 0; k < sizeof rej_rows / sizeof rej_rows[0]; k++) {
		cr_assert_eq(atol(line), rej_rows[k] + 1, "reject %zu: %.50s", k, line);
		line = strchr(line, '\n') + 1;
	}
	cr_assert_eq(*line, '\0');
	cr_assert(strstr(text, "67,duplicate_in_file,order_id,order_id 'o66' appeared earlier"),
		  "%s", text);
	free(text);
	buf_fini(&want);
	buf_fini(&p.ids);
}

Test(import, a_failing_sink_stops_the_counts_at_its_record)
{
	/* the sink fails at its 70th record. Taken before it: o2..o62 and
	 * o66..o74 (rows 1, 63, 64, 65 rejected by the importer): 61 + 9 = 70,
	 * so the 70th is o74, row 74. As when records went one at a time,
	 * read counts the rows up to it (74), stored the 69 before it,
	 * rejected the 4 rows before it; rows 75.. are not counted */
	char path[512], rej[512];
	snprintf(path, sizeof path, "%s/batch.csv", dir);
	snprintf(rej, sizeof rej, "%s/batch.rejects.csv", dir);
	write_batch_orders(path);
	struct picky p = { NULL, 0, 70, 0, 0, 0, { NULL, 0, 0 } };
	struct ing_sink sink = { .ctx = &p, .put = picky_put };
	struct ing_opts o = defaults();
	o.entity = CRM_ORDERS;
	o.rejects_path = rej;
	struct ing_summary s;
	struct crm_err err = { 0, "" };
	cr_assert_eq(ing_import(path, &o, &sink, &s, &err), CRM_EIO);
	cr_assert(strstr(err.msg, "line 75: the sink fails"), "%s", err.msg);
	cr_assert_eq(s.read, 74);
	cr_assert_eq(s.stored, 69);
	cr_assert_eq(s.rejected, 4);
	cr_assert_eq(count_lines(rej), 5);   /* header and rows 1, 63, 64, 65 */
	buf_fini(&p.ids);
}
