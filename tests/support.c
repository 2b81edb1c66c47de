/* support.c - helpers shared by the tests. */
#include "support.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/money.h"
#include "core/tstamp.h"

void tmpdir_make(char *out, size_t cap)
{
	char tmpl[] = "/tmp/crmscope-test-XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(out, cap, "%s", tmpl);
}

void tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[1024];
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void write_file(const char *dir, const char *name, const char *text, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", dir, name);
	FILE *f = fopen(out, "wb");
	cr_assert_not_null(f, "cannot write %s", out);
	fputs(text, f);
	fclose(f);
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	size_t got = fread(p, 1, (size_t)n, f);
	p[got] = '\0';
	fclose(f);
	if (len)
		*len = got;
	return p;
}

size_t count_lines(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = 0;
	int c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int64_t ts(const char *iso)
{
	int64_t t = 0;
	const char *why;
	cr_assert_eq(ts_parse_iso(iso, strlen(iso), &t, &why), 0, "time %s", iso);
	return t;
}

struct ent_record rec(int entity, long line)
{
	struct ent_record r;
	memset(&r, 0, sizeof r);
	r.entity = entity;
	r.line = line;
	return r;
}

void set_s(struct ent_record *r, int f, const char *s)
{
	r->v[f].s = s;
	r->v[f].n = strlen(s);
	r->v[f].set = 1;
}

void set_i(struct ent_record *r, int f, int64_t v)
{
	r->v[f].i = v;
	r->v[f].set = 1;
}

void add_order(struct ds_builder *b, const char *id, const char *cust,
	       const char *at, const char *amount, const char *status)
{
	struct ent_record r = rec(CRM_ORDERS, 0);
	struct crm_err err;
	int64_t a = 0;
	set_s(&r, CRM_O_ORDER_ID, id);
	set_s(&r, CRM_O_CUSTOMER_ID, cust);
	set_i(&r, CRM_O_ORDERED_AT, ts(at));
	cr_assert_eq(money_parse(amount, strlen(amount), '.', &a), 0);
	set_i(&r, CRM_O_AMOUNT, a);
	if (status)
		set_s(&r, CRM_O_STATUS, status);
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

/* Asserts that two datasets hold the same rows in the same order, column
 * by column (kinds, values, dictionaries through the cell text). */
void assert_same_dataset(const struct crm_dataset *a, const struct crm_dataset *b)
{
	cr_assert_eq(a->n_customers, b->n_customers);
	cr_assert_eq(memcmp(a->is_stub, b->is_stub, a->n_customers), 0);
	cr_assert_eq(a->first_at, b->first_at);
	cr_assert_eq(a->last_at, b->last_at);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct crm_table *x = &a->t[e], *y = &b->t[e];
		const struct ent_desc *d = ent_get(e);
		cr_assert_eq(x->n, y->n, "%s", d->name);
		if (x->n)
			cr_assert_eq(memcmp(x->customer, y->customer, x->n * sizeof *x->customer), 0,
				     "%s", d->name);
		cr_assert_eq(!x->by_customer, !y->by_customer, "%s", d->name);
		if (x->by_customer)
			cr_assert_eq(memcmp(x->by_customer, y->by_customer,
					    (a->n_customers + 1) * sizeof *x->by_customer), 0,
				     "%s", d->name);
		for (size_t f = 0; f < d->n_fields; f++) {
			const struct crm_column *cx = &x->col[f], *cy = &y->col[f];
			cr_assert_eq(cx->kind, cy->kind, "%s.%s", d->name, d->fields[f].name);
			for (size_t i = 0; i < x->n; i++) {
				if (cx->kind == CRM_COL_I64)
					cr_assert_eq(cx->i64[i], cy->i64[i], "%s.%s row %zu", d->name,
						     d->fields[f].name, i);
				else if (cx->kind != CRM_COL_NONE)
					cr_assert_str_eq(crm_cell_str(x, (int)f, i), crm_cell_str(y, (int)f, i),
							 "%s.%s row %zu", d->name, d->fields[f].name, i);
			}
		}
	}
}

/* One integer from the database at path, through a connection of its own
 * (read-only), so the code under test sees nothing of the test's reads. */
int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void sql_text(const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	const char *t = (const char *)sqlite3_column_text(st, 0);
	snprintf(out, cap, "%s", t ? t : "(null)");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}
