/* test_parallel.c - reading files straight into a dataset on several
 * threads and with a projection (src/ingest/import.c, src/data/load.c,
 * src/data/builder.c), and the parallel summary CSV writer
 * (src/report/customers.c): every path gives what one thread gives. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/entity.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/builder.h"
#include "data/load.h"
#include "report/customers.h"
#include "support.h"

static char dir[256];

static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

TestSuite(parallel, .init = setup, .fini = teardown);


static void assert_same_counts(const struct ing_summary *a, const struct ing_summary *b)
{
	cr_assert_eq(a->read, b->read);
	cr_assert_eq(a->stored, b->stored);
	cr_assert_eq(a->updated, b->updated);
	cr_assert_eq(a->duplicates, b->duplicates);
	cr_assert_eq(a->rejected, b->rejected);
	cr_assert_eq(a->stubs, b->stubs);
	for (int r = 0; r < R_N; r++)
		cr_assert_eq(a->reasons[r], b->reasons[r], "reason %s", ing_reason_name(r));
	cr_assert_str_eq(a->mapping, b->mapping);
}

/* Loads path as orders on `threads` threads; rejects go to rejects_path. */
static struct crm_dataset *load(const char *path, int threads, uint32_t fields,
				const char *rejects_path, struct ing_summary *sum)
{
	struct ds_file f;
	struct crm_dataset *ds = NULL;
	struct crm_err err = { 0, "" };
	memset(&f, 0, sizeof f);
	f.path = path;
	f.ing.entity = CRM_ORDERS;
	f.ing.decimal = '.';
	f.ing.threads = threads;
	f.ing.fields = fields;
	f.ing.rejects_path = rejects_path;
	if (rejects_path)
		unlink(rejects_path);
	cr_assert_eq(ds_load_files(&f, 1, sum, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

/* The summary CSV of ds as of 2024-12-31, as text (caller frees). */
static char *summary_csv(const struct crm_dataset *ds, const char *name)
{
	char path[512];
	struct crm_customer_summary *s = NULL;
	struct crm_summary_opts o = { CRM_NA, CRM_NA, CRM_UNIT_DAY };
	struct crm_err err;
	const char *why;
	cr_assert_eq(ts_parse_iso("2024-12-31T23:59:59Z", 20, &o.as_of, &why), 0);
	cr_assert_eq(crm_summary_compute(ds, &o, &s, &err), CRM_OK, "%s", err.msg);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(rpt_customers_csv(ds, s, &o, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	free(s);
	char *text = read_file(path, NULL);
	cr_assert_not_null(text);
	/* the summary made while writing, a block at a time on the writer's
	 * threads, gives the same bytes */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(rpt_customers_csv(ds, NULL, &o, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	char *made = read_file(path, NULL);
	cr_assert_not_null(made);
	cr_assert_str_eq(made, text);
	free(made);
	return text;
}

static char *summary_text(const struct crm_dataset *ds)
{
	return summary_csv(ds, "db.csv");
}

/* text_of the dataset loaded from database db (caller frees). */
static char *db_text(const char *db, char *(*text_of)(const struct crm_dataset *))
{
	struct crm_dataset *ds = NULL;
	struct crm_err err;
	cr_assert_eq(crm_dataset_load_db(db, &ds, &err), CRM_OK, "%s", err.msg);
	char *text = text_of(ds);
	crm_dataset_free(ds);
	return text;
}

#define N_ROWS 50000

/* The bad rows of the big file, by row number (0-based, data rows), with
 * what makes them bad and the reason expected. Some sit at and around the
 * middle, where two threads cut the file. */
static const struct {
	int row;
	const char *text;    /* the line as written (no line end) */
	const char *reason;
} bad[] = {
	{ 3, "o3,17,2023-13-01,10.00,web", "bad_date" },
	{ 4999, "o4999,17,2023-02-01,,web", "missing" },
	{ 12500, "o12500,17,2023-02-01,12.3.4,web", "bad_number" },
	{ 24999, "o24999,17,2023-02-01,1.00,web,extra", "field_count" },
	{ 25000, "o25000,,2023-02-01,1.00,web", "missing" },
	{ 25001, "o25001,\xff\xfe,2023-02-01,1.00,web", "bad_utf8" },
	{ 33333, "o33333,17,2023-02-01,1.00", "field_count" },
	{ 49999, "o49999,17,yesterday,1.00,shop", "bad_date" },
};
#define N_BAD (sizeof bad / sizeof bad[0])

/* Writes the big order file: 50,000 data rows of 3,000 customers (numbers
 * and, every seventh row, text ids), dates rising a day per 50 rows, some
 * with a time; CRLF on every 11th line; a blank line before row 20000;
 * the bad rows above. Fills line_of[k], the line in the file of bad row k.
 * quoted: one good row has a quoted field holding a line end. */
static void write_orders(const char *path, int quoted, long *line_of)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputs("order_id,customer_id,order_date,amount,channel\n", f);
	long line = 2;
	size_t k = 0;
	for (int i = 0; i < N_ROWS; i++) {
		if (i == 20000) {
			fputs("\n", f);
			line++;
		}
		if (k < N_BAD && bad[k].row == i) {
			fputs(bad[k].text, f);
			line_of[k++] = line;
		} else if (quoted && i == 30000) {
			fputs("o30000,\"17\",2023-06-01,\"5.00\",\"web\nshop\"", f);
			line++;   /* the quoted field holds a line end */
		} else {
			unsigned c = (unsigned)((i * 7919) % 3000 + 1);
			char cust[16];
			if (i % 7 == 0)
				snprintf(cust, sizeof cust, "c%u", c);
			else
				snprintf(cust, sizeof cust, "%u", c);
			int day = i / 50;
			int64_t t = days_from_civil(2022, 1, 1) + day;
			int64_t y;
			unsigned m, d;
			civil_from_days(t, &y, &m, &d);
			fprintf(f, "o%d,%s,%04lld-%02u-%02u%s,%d.%02d,%s", i, cust, (long long)y, m, d,
				i % 13 == 0 ? "T10:30:00Z" : "", (i * 37) % 500, i % 100,
				i % 3 ? "web" : "shop");
		}
		fputs(i % 11 == 0 ? "\r\n" : "\n", f);
		line++;
	}
	fclose(f);
}

/* The lines of the rejects file (past its header) are the bad rows, in
 * order, with their reasons. */
static void assert_rejects(const char *path, const long *line_of)
{
	char *text = read_file(path, NULL);
	cr_assert_not_null(text, "no rejects file");
	char *p = strchr(text, '\n');
	cr_assert_not_null(p);
	p++;
	for (size_t k = 0; k < N_BAD; k++) {
		char want[64];
		snprintf(want, sizeof want, "%ld,%s,", line_of[k], bad[k].reason);
		cr_assert_eq(strncmp(p, want, strlen(want)), 0, "reject %zu: want %s, got %.40s", k,
			     want, p);
		/* the raw row is the line's last field, quoted when it must be */
		char *end = strchr(p, '\n');
		cr_assert_not_null(end);
		p = end + 1;
	}
	cr_assert_eq(*p, '\0', "more rejects than planted: %.60s", p);
	free(text);
}

/* Loads path on `threads` threads, rejects to rejn: the counts, the
 * dataset and the rejects are those of one thread (s1, one, rejects text
 * rtext1). Returns the dataset (caller frees). */
static struct crm_dataset *load_as_one(const char *path, int threads, const char *rejn,
				       const struct ing_summary *s1,
				       const struct crm_dataset *one, const char *rtext1)
{
	struct ing_summary sn;
	struct crm_dataset *many = load(path, threads, 0, rejn, &sn);
	cr_assert_eq(sn.threads, threads);
	assert_same_counts(s1, &sn);
	assert_same_dataset(one, many);
	char *rtextn = read_file(rejn, NULL);
	cr_assert_str_eq(rtext1, rtextn, "%d threads: rejects differ", threads);
	free(rtextn);
	return many;
}

Test(parallel, threads_give_what_one_thread_gives)
{
	char path[512], rej1[512], rejn[512];
	long line_of[N_BAD];
	snprintf(path, sizeof path, "%s/orders.csv", dir);
	snprintf(rej1, sizeof rej1, "%s/one.rejects.csv", dir);
	snprintf(rejn, sizeof rejn, "%s/many.rejects.csv", dir);
	write_orders(path, 0, line_of);

	struct ing_summary s1, sn;
	struct crm_dataset *one = load(path, 1, 0, rej1, &s1);
	cr_assert_eq(s1.threads, 1);
	cr_assert_eq(s1.read, N_ROWS);
	cr_assert_eq(s1.rejected, (int64_t)N_BAD);
	cr_assert_eq(s1.stored, N_ROWS - (int64_t)N_BAD);
	cr_assert_eq(s1.reasons[R_BAD_DATE], 2);
	cr_assert_eq(s1.reasons[R_MISSING], 2);
	cr_assert_eq(s1.reasons[R_FIELD_COUNT], 2);
	/* 3,000 numbers and the text ids of the rows with i % 7 == 0: every
	 * customer is a stub (no customers file) */
	cr_assert_eq(s1.stubs, (int64_t)one->n_customers);
	assert_rejects(rej1, line_of);
	char *csv1 = summary_csv(one, "one.csv");
	char *rtext1 = read_file(rej1, NULL);

	/* 2 threads cut at the middle; 3 and 5 cut elsewhere */
	const int threads[] = { 2, 3, 5 };
	for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
		struct crm_dataset *many = load_as_one(path, threads[t], rejn, &s1, one, rtext1);
		char *csvn = summary_csv(many, "many.csv");
		cr_assert_str_eq(csv1, csvn, "%d threads: summaries differ", threads[t]);
		free(csvn);
		crm_dataset_free(many);
	}

	/* with the projection of the customers command, the same summary */
	const uint32_t fields = ING_FIELD(CRM_O_CUSTOMER_ID) | ING_FIELD(CRM_O_ORDERED_AT) |
				ING_FIELD(CRM_O_AMOUNT) | ING_FIELD(CRM_O_STATUS);
	struct crm_dataset *proj = load(path, 2, fields, rejn, &sn);
	cr_assert_eq(sn.threads, 2);
	assert_same_counts(&s1, &sn);
	char *csvp = summary_csv(proj, "proj.csv");
	cr_assert_str_eq(csv1, csvp);
	free(csvp);
	crm_dataset_free(proj);

	free(rtext1);
	free(csv1);
	crm_dataset_free(one);
}

Test(parallel, a_quoted_file_is_cut_too)
{
	char path[512], rej1[512], rejn[512];
	long line_of[N_BAD];
	snprintf(path, sizeof path, "%s/orders.csv", dir);
	snprintf(rej1, sizeof rej1, "%s/one.rejects.csv", dir);
	snprintf(rejn, sizeof rejn, "%s/many.rejects.csv", dir);
	write_orders(path, 1, line_of);
	/* the quoted row spans two lines: the bad rows after it are one line on
	 * (write_orders counted it) */
	struct ing_summary s1;
	struct crm_dataset *one = load(path, 1, 0, rej1, &s1);
	assert_rejects(rej1, line_of);
	char *rtext1 = read_file(rej1, NULL);
	const int threads[] = { 2, 3, 5 };
	for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
		struct crm_dataset *many = load_as_one(path, threads[t], rejn, &s1, one, rtext1);
		/* the quoted field is read whole: "web\nshop" */
		int found = 0;
		const struct crm_table *o = &many->t[CRM_ORDERS];
		for (size_t i = 0; i < o->n; i++)
			found += strcmp(crm_cell_str(o, CRM_O_CHANNEL, i), "web\nshop") == 0;
		cr_assert_eq(found, 1);
		crm_dataset_free(many);
	}
	free(rtext1);
	crm_dataset_free(one);
}

/* A file where a cut falls inside a quoted field holding line ends: rows
 * of about 30 bytes, and one row (data row BIG_ROW) whose channel holds
 * BIG_LINES lines, from about 30 % to 70 % of the file. Two threads cut
 * inside it; three cut inside it twice (the middle part is then empty);
 * five cut before it, inside it twice, and after it (that part is read
 * as first read). Bad rows in every stretch, a blank line, CRLF ends and
 * ids after a byte order mark; the file ends with an unterminated quote,
 * which runs to its end. */
#define BIG_ROWS 3000
#define BIG_ROW 900
#define BIG_LINES 4000

static void write_quoted(const char *path, long *line_of_last)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputs("order_id,customer_id,order_date,amount,channel\n", f);
	long line = 2;
	for (int i = 0; i < BIG_ROWS; i++) {
		if (i % 500 == 250) {
			fputs("o-bad,17,2023-13-01,1.00,web\n", f);   /* bad_date */
			line++;
		}
		if (i == 1500) {
			fputs("\n", f);
			line++;
		}
		/* every fifth id starts with what looks like a byte order mark,
		 * the one right after the big row too: a part starting there
		 * keeps it */
		fprintf(f, "%so%d,%d,2023-%02d-%02d,%d.%02d,", i % 5 == 1 ? "\xef\xbb\xbf" : "",
			i, i % 40 + 1, i % 12 + 1, i % 28 + 1, i % 90, i % 100);
		if (i == BIG_ROW) {
			fputc('"', f);
			for (int k = 0; k < BIG_LINES; k++)
				fprintf(f, "x%d\n", k % 10);
			fputs("end\"", f);
			line += BIG_LINES;
		} else {
			fputs(i % 3 ? "web" : "\"sh\"\"op\"", f);
		}
		fputs(i % 7 == 0 ? "\r\n" : "\n", f);
		line++;
	}
	*line_of_last = line;
	fputs("o-last,17,2024-01-01,1.00,\"web\nnever closed\n", f);
	fclose(f);
}

Test(parallel, a_cut_inside_a_quoted_field_is_read_again_from_its_end)
{
	char path[512], rej1[512], rejn[512];
	long last_line;
	snprintf(path, sizeof path, "%s/quoted.csv", dir);
	snprintf(rej1, sizeof rej1, "%s/one.rejects.csv", dir);
	snprintf(rejn, sizeof rejn, "%s/many.rejects.csv", dir);
	write_quoted(path, &last_line);
	struct ing_summary s1;
	struct crm_dataset *one = load(path, 1, 0, rej1, &s1);
	/* 3,000 rows, 6 bad dates and the unterminated last record */
	cr_assert_eq(s1.read, BIG_ROWS + 6 + 1);
	cr_assert_eq(s1.stored, BIG_ROWS);
	cr_assert_eq(s1.reasons[R_BAD_DATE], 6);
	cr_assert_eq(s1.reasons[R_SYNTAX], 1);
	char *rtext1 = read_file(rej1, NULL);
	/* the first bad row is on line 2 + 250, the last record on its line */
	cr_assert_not_null(strstr(rtext1, "\n252,bad_date,"), "%.200s", rtext1);
	char want[80];
	snprintf(want, sizeof want, "\n%ld,syntax,,field 5: unterminated quoted field,", last_line);
	cr_assert_not_null(strstr(rtext1, want), "no %s in %.300s", want + 1, rtext1);
	/* the big field is one value of BIG_LINES lines */
	const struct crm_table *o = &one->t[CRM_ORDERS];
	size_t big = 0;
	for (size_t i = 0; i < o->n; i++)
		if (strncmp(crm_cell_str(o, CRM_O_CHANNEL, i), "x0\nx1\n", 6) == 0)
			big++;
	cr_assert_eq(big, 1);
	cr_assert_str_eq(crm_cell_str(o, CRM_O_ORDER_ID, 0), "o0");
	size_t marked = 0;
	for (size_t i = 0; i < o->n; i++)
		marked += strncmp(crm_cell_str(o, CRM_O_ORDER_ID, i), "\xef\xbb\xbfo", 4) == 0;
	cr_assert_eq(marked, BIG_ROWS / 5);
	const int threads[] = { 2, 3, 5, 7 };
	for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
		struct crm_dataset *many = load_as_one(path, threads[t], rejn, &s1, one, rtext1);
		crm_dataset_free(many);
	}
	free(rtext1);
	crm_dataset_free(one);
}

/* A part's rejects past 16 MB wait in a temporary file (keep_reject):
 * they come back in order, numbered as the file's lines. Every row is
 * bad (a month 13) and about 1 KB long, so that the second half's rejects
 * overflow memory once. */
Test(parallel, many_rejects_of_a_part_wait_in_a_file)
{
	char path[512], rej1[512], rejn[512];
	snprintf(path, sizeof path, "%s/bad.csv", dir);
	snprintf(rej1, sizeof rej1, "%s/one.rejects.csv", dir);
	snprintf(rejn, sizeof rejn, "%s/many.rejects.csv", dir);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	char pad[1001];
	memset(pad, 'w', 1000);
	pad[1000] = '\0';
	fputs("order_id,customer_id,order_date,amount,channel\n", f);
	const int n = 36000;
	for (int i = 0; i < n; i++)
		fprintf(f, "o%d,17,2023-13-01,1.00,%s\n", i, pad);
	fclose(f);
	struct ing_summary s1, sn;
	struct crm_dataset *one = load(path, 1, 0, rej1, &s1);
	cr_assert_eq(s1.rejected, n);
	struct crm_dataset *two = load(path, 2, 0, rejn, &sn);
	cr_assert_eq(sn.threads, 2);
	assert_same_counts(&s1, &sn);
	size_t n1, n2;
	char *t1 = read_file(rej1, &n1), *t2 = read_file(rejn, &n2);
	cr_assert_gt(n2, (size_t)36 << 20, "the rejects are smaller than planned: %zu", n2);
	cr_assert_eq(n1, n2);
	cr_assert_eq(memcmp(t1, t2, n1), 0, "the rejects differ");
	/* the last reject is that of the last line */
	char want[32];
	snprintf(want, sizeof want, "\n%d,bad_date,", n + 1);
	cr_assert_not_null(strstr(t2 + n2 - 3000, want));
	free(t1);
	free(t2);
	crm_dataset_free(one);
	crm_dataset_free(two);
}

/* A sink that keeps nothing and fails on the record of customer "boom",
 * naming its line, in any part. */
static int boom_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	(void)ctx;
	for (size_t i = 0; i < b->n; i++) {
		const struct ent_value *v = &b->rec[i].v[CRM_O_CUSTOMER_ID];
		if (v->n == 4 && memcmp(v->s, "boom", 4) == 0) {
			b->taken = i;
			return crm_err_set(err, CRM_EINVAL, "line %ld: boom", b->rec[i].line);
		}
		b->outcome[i] = ING_INSERTED;
	}
	b->taken = b->n;
	return CRM_OK;
}

static int boom_fork(void *ctx, void **part, struct crm_err *err)
{
	(void)ctx;
	(void)err;
	*part = malloc(1);
	return *part ? CRM_OK : CRM_ENOMEM;
}

static int boom_join(void *ctx, void *part, int64_t *stubs, struct crm_err *err)
{
	(void)ctx;
	(void)err;
	free(part);
	*stubs = 0;
	return CRM_OK;
}

static void boom_drop(void *part) { free(part); }

/* The error of a part past the first names the file's line, as one
 * thread's does: that part is read again with the lines before it counted. */
Test(parallel, an_error_in_a_later_part_names_the_files_line)
{
	char path[512];
	snprintf(path, sizeof path, "%s/boom.csv", dir);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputs("order_id,customer_id,order_date,amount\n", f);
	for (int i = 0; i < 3000; i++)
		fprintf(f, "o%d,%s,2023-01-01,1.00\n%s", i, i == 2500 ? "boom" : "c1",
			i == 100 ? "\n\n" : "");
	fclose(f);
	/* line 1 the header, rows from line 2, two blank lines after row 100 */
	const long want_line = 2 + 2500 + 2;
	char want[64];
	snprintf(want, sizeof want, "line %ld: boom", want_line);
	struct ing_sink sink = { .ctx = NULL, .put = boom_put, .fork = boom_fork,
				 .join = boom_join, .drop = boom_drop };
	for (int threads = 1; threads <= 4; threads++) {
		struct ing_opts o;
		struct ing_summary sum;
		struct crm_err err = { 0, "" };
		memset(&o, 0, sizeof o);
		o.entity = CRM_ORDERS;
		o.threads = threads;
		cr_assert_eq(ing_import(path, &o, &sink, &sum, &err), CRM_EINVAL);
		cr_assert_eq(sum.threads, threads);
		cr_assert_str_eq(err.msg, want, "%d threads", threads);
	}
}

Test(parallel, small_files_and_stdin_like_inputs_stay_on_one_thread)
{
	char path[512];
	/* threads 0 (one per core) reads a file under ING_PAR_MIN_BYTES on one */
	write_file(dir, "small.csv", "order_id,customer_id,ordered_at,amount\n"
		   "1,a,2024-01-01,10\n2,b,2024-01-02,20\n", path, sizeof path);
	struct ing_summary s;
	struct crm_dataset *ds = load(path, 0, 0, NULL, &s);
	cr_assert_eq(s.threads, 1);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 2);
	crm_dataset_free(ds);
	/* asked for four threads, three rows are cut into four parts, some
	 * empty, and nothing is lost or doubled */
	ds = load(path, 4, 0, NULL, &s);
	cr_assert_eq(s.threads, 4);
	cr_assert_eq(s.read, 2);
	cr_assert_eq(s.stored, 2);
	cr_assert_eq(s.stubs, 2);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 2);
	cr_assert_eq(ds->n_customers, 2);
	crm_dataset_free(ds);
	/* order lines are folded in file order: one thread */
	write_file(dir, "lines.csv", "Invoice,Customer ID,InvoiceDate,Quantity,Price\n"
		   "1,a,2024-01-01,2,1.50\n1,a,2024-01-01,1,2.00\n", path, sizeof path);
	ds = load(path, 4, 0, NULL, &s);
	cr_assert_eq(s.threads, 1);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 1);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_AMOUNT].i64[0], 50000);   /* 2 x 1.50 + 2.00 */
	crm_dataset_free(ds);
	/* no order_id column: ids are made in file order, one thread; not
	 * needed (a projection without order_id), none are made and the file
	 * can be cut */
	write_file(dir, "noid.csv", "customer_id,ordered_at,amount\na,2024-01-01,1\na,2024-01-01,2\n",
		   path, sizeof path);
	ds = load(path, 4, 0, NULL, &s);
	cr_assert_eq(s.threads, 1);
	cr_assert_eq(s.synthetic_ids, 2);
	cr_assert_str_eq(crm_cell_str(&ds->t[CRM_ORDERS], CRM_O_ORDER_ID, 1), "a@2024-01-01#2");
	crm_dataset_free(ds);
	ds = load(path, 4, ING_FIELD(CRM_O_AMOUNT), NULL, &s);
	cr_assert_eq(s.threads, 4);
	cr_assert_eq(s.synthetic_ids, 0);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_ORDER_ID].kind, CRM_COL_NONE);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 2);
	crm_dataset_free(ds);
}

/* A category a projection asks for that no file has (status, channel of
 * the anchor order logs) is left out like such a number, not laid out as a
 * column of code 0: analyses read it as all missing. By hand: a has orders
 * on 2024-01-01 (10) and 2024-01-03 (20 + 5, the same day): x = 1, net 35,
 * mean repeat 25; b one order of 7. */
Test(parallel, projection_leaves_out_categories_no_file_has)
{
	char path[512];
	write_file(dir, "nocat.csv", "order_id,customer_id,ordered_at,amount\n"
		   "1,a,2024-01-01,10\n2,b,2024-01-02,7\n3,a,2024-01-03,20\n4,a,2024-01-03,5\n",
		   path, sizeof path);
	const uint32_t fields = ING_FIELD(CRM_O_CUSTOMER_ID) | ING_FIELD(CRM_O_ORDERED_AT) |
				ING_FIELD(CRM_O_AMOUNT) | ING_FIELD(CRM_O_STATUS) |
				ING_FIELD(CRM_O_CHANNEL);
	struct ing_summary s;
	struct crm_dataset *ds = load(path, 1, fields, NULL, &s);
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	cr_assert_eq(o->n, 4);
	cr_assert_eq(o->col[CRM_O_STATUS].kind, CRM_COL_NONE);
	cr_assert_null(o->col[CRM_O_STATUS].cat);
	cr_assert_eq(o->col[CRM_O_STATUS].dict.n, 0);
	cr_assert_eq(o->col[CRM_O_CHANNEL].kind, CRM_COL_NONE);
	cr_assert_str_eq(crm_cell_str(o, CRM_O_STATUS, 0), "");
	struct crm_summary_opts so = { .as_of = CRM_NA, .calibration_end = CRM_NA,
				       .unit = CRM_UNIT_DAY };
	struct crm_customer_summary *sum = NULL;
	struct crm_err err;
	cr_assert_eq(crm_summary_compute(ds, &so, &sum, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(sum[0].x, 1);
	cr_assert_eq(sum[0].n_orders, 3);
	cr_assert_eq(sum[0].net_revenue, 350000);
	cr_assert_eq(sum[0].mean_repeat, 250000);
	cr_assert_eq(sum[1].x, 0);
	cr_assert_eq(sum[1].net_revenue, 70000);
	free(sum);
	crm_dataset_free(ds);
}

Test(parallel, projection_leaves_columns_out_and_still_checks_required_fields)
{
	char path[512], rej[512];
	snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
	write_file(dir, "o.csv",
		   "order_id,customer_id,ordered_at,amount,channel,items,status,cost\n"
		   "1,a,2024-01-01,10,web,2,completed,4\n"
		   ",a,2024-01-02,11,web,1,completed,4\n"        /* order_id missing */
		   "3,b,2024-01-03,12,shop,x,completed,4\n"      /* items not a number */
		   "4,b,2024-01-04,13,shop,1,lost,4\n"           /* status not known */
		   "5,c,2024-01-05,,shop,1,completed,4\n"        /* amount missing */
		   "6,c,2024-01-06,14,\xff,1,returned,zz\n",     /* channel, cost bad */
		   path, sizeof path);
	const uint32_t fields = ING_FIELD(CRM_O_CUSTOMER_ID) | ING_FIELD(CRM_O_ORDERED_AT) |
				ING_FIELD(CRM_O_AMOUNT) | ING_FIELD(CRM_O_STATUS);
	struct ing_summary s;
	struct crm_dataset *ds = load(path, 1, fields, rej, &s);
	/* rejected: the missing order_id (required, though not read into the
	 * dataset), the unknown status and the missing amount (needed); kept:
	 * rows 1, 3 and 6, whose faults are in fields left out */
	cr_assert_eq(s.read, 6);
	cr_assert_eq(s.rejected, 3);
	cr_assert_eq(s.reasons[R_MISSING], 2);
	cr_assert_eq(s.reasons[R_BAD_VALUE], 1);
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	cr_assert_eq(o->n, 3);
	cr_assert_eq(o->col[CRM_O_ORDER_ID].kind, CRM_COL_NONE);
	cr_assert_eq(o->col[CRM_O_CHANNEL].kind, CRM_COL_NONE);
	cr_assert_eq(o->col[CRM_O_ITEMS].kind, CRM_COL_NONE);
	cr_assert_eq(o->col[CRM_O_COST].kind, CRM_COL_NONE);
	cr_assert_eq(o->col[CRM_O_CURRENCY].kind, CRM_COL_NONE);
	cr_assert_eq(o->col[CRM_O_CATEGORY].kind, CRM_COL_NONE);
	cr_assert_eq(o->col[CRM_O_ORDERED_AT].kind, CRM_COL_I64);
	cr_assert_eq(o->col[CRM_O_AMOUNT].kind, CRM_COL_I64);
	cr_assert_eq(o->col[CRM_O_STATUS].kind, CRM_COL_CAT);
	/* a, b, c: rows 1, 3, 6 in customer order */
	cr_assert_eq(o->col[CRM_O_AMOUNT].i64[0], 100000);
	cr_assert_eq(o->col[CRM_O_AMOUNT].i64[1], 120000);
	cr_assert_eq(o->col[CRM_O_AMOUNT].i64[2], 140000);
	cr_assert_str_eq(crm_cell_str(o, CRM_O_STATUS, 2), "returned");
	/* no customers file: only the customers' ids are laid out */
	const struct crm_table *c = &ds->t[CRM_CUSTOMERS];
	cr_assert_eq(ds->n_customers, 3);
	cr_assert_eq(c->col[CRM_C_CUSTOMER_ID].kind, CRM_COL_STR);
	cr_assert_eq(c->col[CRM_C_NAME].kind, CRM_COL_NONE);
	cr_assert_eq(c->col[CRM_C_SIGNUP_AT].kind, CRM_COL_NONE);
	cr_assert_str_eq(crm_cell_str(c, CRM_C_CUSTOMER_ID, 2), "c");
	crm_dataset_free(ds);

	/* without a projection every field is read and checked: rows 3 (items)
	 * and 6 (channel and cost) are rejected too, at their first bad field */
	ds = load(path, 1, 0, rej, &s);
	cr_assert_eq(s.rejected, 5);
	cr_assert_eq(s.reasons[R_BAD_NUMBER], 1);
	cr_assert_eq(s.reasons[R_BAD_UTF8], 1);
	cr_assert_eq(ds->t[CRM_ORDERS].n, 1);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_ORDER_ID].kind, CRM_COL_STR);
	cr_assert_eq(ds->t[CRM_CUSTOMERS].col[CRM_C_NAME].kind, CRM_COL_STR);
	crm_dataset_free(ds);
}

/* ---------------------------------------------------- builder: fork and merge */




/* Record k of a mixed sequence: orders (number and text customer ids, the
 * numbers below `spread`, some of customers that never get a record;
 * channels, some statuses), customers records (some as stubs), leads with
 * and without customers and web events with occurrence numbers. Text lives
 * in bufs. */
static struct ent_record mixed(int k, int spread, char bufs[4][32])
{
	struct ent_record r;
	int kind = k % 10;
	snprintf(bufs[0], 32, "%d", (k * 131) % spread);
	snprintf(bufs[1], 32, "id%05d", k);
	snprintf(bufs[2], 32, "ch%d", k % 5);
	snprintf(bufs[3], 32, "k%d", (k * 7) % 41);
	const char *cust = k % 3 ? bufs[0] : bufs[3];
	if (kind == 5)
		snprintf(bufs[3], 32, "x%d", k % 13);    /* never gets a customers record */
	if (kind < 6) {
		r = rec(CRM_ORDERS, k + 2);
		set_s(&r, CRM_O_ORDER_ID, bufs[1]);
		set_s(&r, CRM_O_CUSTOMER_ID, cust);
		set_i(&r, CRM_O_ORDERED_AT, (int64_t)((k * 7) % 50) * 3600);
		set_i(&r, CRM_O_AMOUNT, k * 100);
		if (kind != 2)
			set_s(&r, CRM_O_CHANNEL, bufs[2]);
		if (kind == 4)
			set_s(&r, CRM_O_STATUS, "returned");
	} else if (kind < 8) {
		r = rec(CRM_CUSTOMERS, k + 2);
		set_s(&r, CRM_C_CUSTOMER_ID, cust);
		set_s(&r, CRM_C_COUNTRY, kind == 6 ? "UA" : "GR");
		set_i(&r, CRM_C_SIGNUP_AT, k * 60);
	} else if (kind == 8) {
		r = rec(CRM_LEADS, k + 2);
		set_s(&r, CRM_L_LEAD_ID, bufs[1]);
		set_i(&r, CRM_L_CREATED_AT, (int64_t)(k % 30) * 86400);
		if (k % 4)
			set_s(&r, CRM_L_CUSTOMER_ID, cust);
	} else {
		r = rec(CRM_WEB_EVENTS, k + 2);
		set_s(&r, CRM_W_SESSION_ID, "s1");
		set_i(&r, CRM_W_OCCURRED_AT, (int64_t)(k % 3) * 60);
		set_s(&r, CRM_W_PAGE, "/p");
		r.seq = k;
	}
	return r;
}

static void add(struct ds_builder *b, const struct ent_record *r, int is_stub)
{
	struct crm_err err;
	cr_assert_eq(ds_builder_add(b, r, is_stub, NULL, &err), CRM_OK, "%s", err.msg);
}

/* The records mixed(0..cuts[3]) in one builder, and cut at cuts[1],
 * cuts[2] into three merged in order, give the same dataset and stubs. */
static void merge_matches_one(const int cuts[4], int spread)
{
	const int n = cuts[3];
	char bufs[4][32];
	struct crm_err err;
	struct ds_builder *one;
	struct crm_dataset *ds_one;
	int64_t stubs_one = 0;
	cr_assert_eq(ds_builder_new(&one, &err), CRM_OK);
	for (int k = 0; k < n; k++) {
		struct ent_record r = mixed(k, spread, bufs);
		add(one, &r, k % 70 == 6);
	}
	cr_assert_eq(ds_builder_flush(one, &stubs_one, &err), CRM_OK);
	cr_assert_eq(ds_builder_finish(one, &ds_one, &err), CRM_OK, "%s", err.msg);

	/* the same records cut in three parts at uneven points, each part in a
	 * builder of its own, merged in order */
	struct ds_builder *main_b, *parts[3];
	cr_assert_eq(ds_builder_new(&main_b, &err), CRM_OK);
	parts[0] = main_b;
	for (int p = 1; p < 3; p++)
		cr_assert_eq(ds_builder_fork(main_b, &parts[p], &err), CRM_OK);
	for (int p = 0; p < 3; p++)
		for (int k = cuts[p]; k < cuts[p + 1]; k++) {
			struct ent_record r = mixed(k, spread, bufs);
			add(parts[p], &r, k % 70 == 6);
		}
	int64_t stubs = 0, s;
	cr_assert_eq(ds_builder_flush(main_b, &s, &err), CRM_OK);
	stubs += s;
	for (int p = 1; p < 3; p++) {
		cr_assert_eq(ds_builder_merge(main_b, parts[p], &s, &err), CRM_OK, "%s", err.msg);
		stubs += s;
	}
	struct crm_dataset *ds_merged;
	cr_assert_eq(ds_builder_finish(main_b, &ds_merged, &err), CRM_OK, "%s", err.msg);
	assert_same_dataset(ds_one, ds_merged);
	cr_assert_eq(stubs, stubs_one);
	/* stubs: customers first met in an order or a lead; those with a
	 * customers record (not given as a stub) are no stubs in the end */
	size_t flagged = 0;
	for (size_t c = 0; c < ds_one->n_customers; c++)
		flagged += ds_one->is_stub[c];
	cr_assert_lt(flagged, ds_one->n_customers);
	cr_assert_gt(flagged, 0);
	crm_dataset_free(ds_one);
	crm_dataset_free(ds_merged);
}

Test(parallel, merged_builders_give_what_one_builder_gives)
{
	const int cuts[] = { 0, 7, 1999, 3000 };
	merge_matches_one(cuts, 97);
}

/* With number ids over a range of 60,000, the merge takes the customers of
 * a part's array part on every core (merge_numbers): the same again, with
 * most customers in more than one part. */
Test(parallel, merged_builders_of_many_numbers_give_what_one_builder_gives)
{
	const int cuts[] = { 0, 20000, 50000, 90000 };
	merge_matches_one(cuts, 60001);
}

Test(parallel, keep_is_set_before_records)
{
	struct ds_builder *b;
	struct crm_err err;
	char bufs[4][32];
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	cr_assert_eq(ds_builder_keep(b, CRM_ORDERS, ING_FIELD(CRM_O_AMOUNT), &err), CRM_OK);
	struct ent_record r = mixed(0, 97, bufs);
	add(b, &r, 0);
	cr_assert_eq(ds_builder_keep(b, CRM_ORDERS, 0, &err), CRM_EINVAL);
	cr_assert_eq(ds_builder_keep(b, 99, 0, &err), CRM_EINVAL);
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_AMOUNT].kind, CRM_COL_I64);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_ORDERED_AT].kind, CRM_COL_NONE);
	cr_assert_eq(ds->t[CRM_ORDERS].col[CRM_O_CHANNEL].kind, CRM_COL_NONE);
	cr_assert_eq(ds->t[CRM_ORDERS].customer[0], 0);
	crm_dataset_free(ds);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Customer ids that are numbers are found by value (the array part of the
 * customer map), the rest by hash; either way the dense ids follow the byte
 * order of the text: "0" < "007" < "1" < "10" < "100" < "9" ... */
Test(parallel, number_and_text_ids_sort_in_byte_order)
{
	static const char *ids[] = {
		"10", "9", "0", "007", "7", "100", "1000000000", "999999999", "abc", "-1",
		"1048576", "1048575", "5000000", "12", "1", "0x10", " 5", "99", "101", "10a",
	};
	const size_t n = sizeof ids / sizeof ids[0];
	struct ds_builder *b;
	struct crm_err err;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* each id twice, the second time after all the others */
	for (size_t rep = 0; rep < 2; rep++)
		for (size_t i = 0; i < n; i++) {
			struct ent_record r = rec(CRM_ORDERS, (long)i);
			set_s(&r, CRM_O_ORDER_ID, "o");
			set_s(&r, CRM_O_CUSTOMER_ID, ids[i]);
			set_i(&r, CRM_O_ORDERED_AT, (int64_t)rep);
			set_i(&r, CRM_O_AMOUNT, (int64_t)i);
			add(b, &r, 0);
		}
	int64_t stubs;
	cr_assert_eq(ds_builder_flush(b, &stubs, &err), CRM_OK);
	cr_assert_eq(stubs, (int64_t)n);
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	const char *sorted[sizeof ids / sizeof ids[0]];
	memcpy(sorted, ids, sizeof sorted);
	qsort(sorted, n, sizeof sorted[0], cmp_str);
	cr_assert_eq(ds->n_customers, n);
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	for (size_t c = 0; c < n; c++) {
		cr_assert_str_eq(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c), sorted[c]);
		/* both rows of the customer, and its amount is its index in ids */
		cr_assert_eq(o->by_customer[c + 1] - o->by_customer[c], 2);
		int64_t i = o->col[CRM_O_AMOUNT].i64[o->by_customer[c]];
		cr_assert_str_eq(ids[i], sorted[c]);
	}
	crm_dataset_free(ds);
}

/* 200,000 numeric ids arriving from the top down, then the low ones, so the
 * array part starts in the hash part and grows past it; and ids past the
 * array's reach. Every id keeps its rows. */
Test(parallel, many_numbers_keep_their_rows)
{
	const int n = 200000;
	struct ds_builder *b;
	struct crm_err err;
	char id[32];
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	for (int i = 0; i < 2 * n; i++) {
		int v = i < n ? 3 * n - i : i - n;          /* 600000..400001, then 0..199999 */
		if (i % 1000 == 0)
			v = 900000000 + i;                  /* far beyond: the hash part */
		snprintf(id, sizeof id, "%d", v);
		struct ent_record r = rec(CRM_ORDERS, i);
		set_s(&r, CRM_O_ORDER_ID, "o");
		set_s(&r, CRM_O_CUSTOMER_ID, id);
		set_i(&r, CRM_O_ORDERED_AT, 0);
		set_i(&r, CRM_O_AMOUNT, v);
		add(b, &r, 0);
	}
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	cr_assert_eq(ds->n_customers, (size_t)(2 * n));
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	for (size_t c = 0; c < ds->n_customers; c++) {
		const char *cid = crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c);
		if (c > 0)
			cr_assert_lt(strcmp(crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c - 1),
					    cid), 0);
		cr_assert_eq(o->by_customer[c + 1] - o->by_customer[c], 1);
		cr_assert_eq(o->col[CRM_O_AMOUNT].i64[c], atoll(cid));
		/* known only from orders; the customers table row of each is its own */
		cr_assert_eq(ds->is_stub[c], 1);
		cr_assert_eq(ds->t[CRM_CUSTOMERS].customer[c], c);
	}
	crm_dataset_free(ds);
}

/* Rows in time order in file order are laid out without sorting each
 * customer's; the layout must still sort when a part of the file, or the
 * step from one part to the next, goes back in time. Here the first half
 * of the file is 2023, the second 2022, each rising a day per 100 rows:
 * on one thread or two (wherever the cut falls, some part or step goes
 * back), every customer's rows come out in time order, the same both ways. */
Test(parallel, rows_out_of_time_order_across_parts_are_sorted)
{
	char path[512];
	snprintf(path, sizeof path, "%s/backwards.csv", dir);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputs("customer_id,order_date,amount\n", f);
	const int n = 40000;
	for (int i = 0; i < n; i++) {
		int half = i < n / 2;
		int64_t day = days_from_civil(half ? 2023 : 2022, 1, 1) + (i % (n / 2)) / 100;
		int64_t y;
		unsigned m, d;
		civil_from_days(day, &y, &m, &d);
		fprintf(f, "%d,%04lld-%02u-%02u,%d.00\n", i % 997, (long long)y, m, d, i % 50);
	}
	fclose(f);
	const uint32_t fields = ING_FIELD(CRM_O_CUSTOMER_ID) | ING_FIELD(CRM_O_ORDERED_AT) |
				ING_FIELD(CRM_O_AMOUNT);
	struct ing_summary s1, s2;
	struct crm_dataset *one = load(path, 1, fields, NULL, &s1);
	struct crm_dataset *two = load(path, 2, fields, NULL, &s2);
	cr_assert_eq(s2.threads, 2);
	assert_same_dataset(one, two);
	const struct crm_table *o = &two->t[CRM_ORDERS];
	cr_assert_eq(o->n, (size_t)n);
	cr_assert_eq(two->n_customers, 997);
	size_t down = 0;
	for (size_t c = 0; c < two->n_customers; c++)
		for (uint64_t r = o->by_customer[c] + 1; r < o->by_customer[c + 1]; r++)
			down += o->col[CRM_O_ORDERED_AT].i64[r] < o->col[CRM_O_ORDERED_AT].i64[r - 1];
	cr_assert_eq(down, 0);
	/* customer 0 (rows 0, 997, ...): its first row is its first of 2022,
	 * row 20937 (= 21 x 997, the first multiple from 20000), day 9 of 2022 */
	uint64_t r0 = o->by_customer[0];
	cr_assert_eq(o->col[CRM_O_ORDERED_AT].i64[r0],
		     (days_from_civil(2022, 1, 1) + (20937 - 20000) / 100) * SECS_PER_DAY);
	crm_dataset_free(one);
	crm_dataset_free(two);
}

/* The summary CSV of more customers than one thread formats at a time
 * (customers.c BLOCK): every line as worked out here. */
Test(parallel, csv_of_many_customers_is_written_in_order)
{
	const int n = 70001;
	struct ds_builder *b;
	struct crm_err err;
	char id[32];
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	/* customer c%06d buys once, on day i % 365 of 2024, for (i % 1000).25 */
	int64_t jan1 = days_from_civil(2024, 1, 1) * SECS_PER_DAY;
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "c%06d", i);
		struct ent_record r = rec(CRM_ORDERS, i);
		set_s(&r, CRM_O_ORDER_ID, id);
		set_s(&r, CRM_O_CUSTOMER_ID, id);
		set_i(&r, CRM_O_ORDERED_AT, jan1 + (int64_t)(i % 365) * SECS_PER_DAY);
		set_i(&r, CRM_O_AMOUNT, (int64_t)(i % 1000) * 10000 + 2500);
		add(b, &r, 0);
	}
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK);
	char *text = summary_csv(ds, "many.csv");
	char *p = strchr(text, '\n') + 1;
	for (int i = 0; i < n; i++) {
		/* one purchase: x = t_x = 0, mean 0.00, T = days to 2024-12-31 */
		char want[128], date[32];
		int64_t day = days_from_civil(2024, 1, 1) + i % 365;
		ts_format(day * SECS_PER_DAY, 1, date);
		snprintf(want, sizeof want, "c%06d,0,0,%lld,0.00,%s,%s,1,%d.25\n", i,
			 (long long)(days_from_civil(2024, 12, 31) - day), date, date, i % 1000);
		cr_assert_eq(strncmp(p, want, strlen(want)), 0, "line %d: want %s got %.60s", i, want, p);
		p += strlen(want);
	}
	cr_assert_eq(*p, '\0');
	free(text);
	crm_dataset_free(ds);
}

/* A key repeated within the files read straight into a dataset is
 * quarantined as the store would: the first row is kept, the repeat is
 * rejected as duplicate_in_file with its line, on any number of threads,
 * and the dataset equals the one loaded from a database the same files
 * were imported into. The big file gets two repeats at its end: o100 under
 * another customer and amount, and o20001 exactly; a second file repeats
 * o7 and adds o-new. */
Test(parallel, repeated_keys_are_quarantined_as_in_the_store)
{
	char path[512], path2[512], rej[512], db[512];
	long line_of[N_BAD];
	snprintf(path, sizeof path, "%s/orders.csv", dir);
	snprintf(rej, sizeof rej, "%s/rep.rejects.csv", dir);
	snprintf(db, sizeof db, "%s/rep.db", dir);
	write_orders(path, 0, line_of);
	FILE *f = fopen(path, "ab");
	cr_assert_not_null(f);
	fputs("o100,999,2023-01-01,1.00,web\no20001,17,2023-02-01,3.00,web\n", f);
	fclose(f);
	long first_repeat = (long)count_lines(path) - 1;
	write_file(dir, "more.csv", "order_id,customer_id,order_date,amount,channel\n"
		   "o7,5,2022-01-01,9.99,web\no-new,5,2022-01-02,1.00,web\n", path2, sizeof path2);

	const int threads[] = { 1, 2 };
	char *csv[2];
	for (size_t t = 0; t < 2; t++) {
		struct ing_summary s;
		struct crm_dataset *ds = load(path, threads[t], 0, rej, &s);
		cr_assert_eq(s.read, N_ROWS + 2);
		cr_assert_eq(s.reasons[R_DUP_IN_FILE], 2);
		cr_assert_eq(s.rejected, (int64_t)N_BAD + 2);
		cr_assert_eq(s.stored, N_ROWS - (int64_t)N_BAD);
		cr_assert_eq(ds->t[CRM_ORDERS].n, (size_t)(N_ROWS - (int64_t)N_BAD));
		char *text = read_file(rej, NULL);
		char want[64];
		snprintf(want, sizeof want, "\n%ld,duplicate_in_file,", first_repeat);
		cr_assert_not_null(strstr(text, want), "no reject at line %ld", first_repeat);
		free(text);
		csv[t] = summary_csv(ds, "rep.csv");
		crm_dataset_free(ds);
	}
	cr_assert_str_eq(csv[0], csv[1]);

	/* the same files into the store, then loaded: the same summary */
	struct ds_import_opts io;
	memset(&io, 0, sizeof io);
	io.ing.entity = CRM_ORDERS;
	io.ing.decimal = '.';
	struct ing_summary si;
	struct crm_err err;
	cr_assert_eq(ds_import(db, path, &io, &si, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(si.reasons[R_DUP_IN_FILE], 2);
	char *csv_db = db_text(db, summary_text);
	cr_assert_str_eq(csv[0], csv_db);
	free(csv_db);

	/* across two files: the second file's o7 is the repeat */
	struct ds_file files[2];
	struct ing_summary sums[2];
	memset(files, 0, sizeof files);
	files[0].path = path;
	files[1].path = path2;
	for (int i = 0; i < 2; i++) {
		files[i].ing.entity = CRM_ORDERS;
		files[i].ing.decimal = '.';
		files[i].ing.fields = ING_FIELD(CRM_O_CUSTOMER_ID) | ING_FIELD(CRM_O_ORDERED_AT) |
				      ING_FIELD(CRM_O_AMOUNT);
	}
	struct crm_dataset *both = NULL;
	cr_assert_eq(ds_load_files(files, 2, sums, &both, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(sums[0].reasons[R_DUP_IN_FILE], 2);
	cr_assert_eq(sums[1].reasons[R_DUP_IN_FILE], 1);
	cr_assert_eq(sums[1].stored, 1);
	cr_assert_eq(both->t[CRM_ORDERS].n, (size_t)(N_ROWS - (int64_t)N_BAD) + 1);
	crm_dataset_free(both);
	free(csv[0]);
	free(csv[1]);
}

/* Ids that are numbers are checked by value (a bit each, load.c), others
 * by hash; the two never meet, as a number's text is one exact spelling.
 * 20,000 orders with ids 1..20000 on one and on two threads, then at the
 * end: "100" again (a repeat met in another part than its first, on two
 * threads), "0100" (not "100": a key of its own), "300000000" twice (a
 * number above the bitmap's range, checked by hash: the second is the
 * repeat) and "20000" three times more (three repeats). Expected: read
 * 20,000 + 7 = 20,007; duplicate_in_file 1 + 1 + 3 = 5; stored 20,002. */
Test(parallel, number_ids_are_checked_by_value)
{
	char path[512], rej[512];
	snprintf(path, sizeof path, "%s/numbers.csv", dir);
	snprintf(rej, sizeof rej, "%s/numbers.rejects.csv", dir);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputs("order_id,customer_id,order_date,amount,channel\n", f);
	for (int i = 1; i <= 20000; i++)
		fprintf(f, "%d,%d,2023-%02d-%02d,%d.%02d,web\n", i, i % 997, 1 + i % 12, 1 + i % 28,
			i % 50, i % 100);
	fputs("100,5,2024-01-01,1.00,web\n0100,5,2024-01-02,1.00,web\n"
	      "300000000,6,2024-01-03,2.00,web\n300000000,6,2024-01-04,2.00,web\n"
	      "20000,7,2024-01-05,3.00,web\n20000,7,2024-01-06,3.00,web\n"
	      "20000,8,2024-01-07,3.00,web\n", f);
	fclose(f);
	const int threads[] = { 1, 2 };
	for (size_t t = 0; t < 2; t++) {
		struct ing_summary s;
		struct crm_dataset *ds = load(path, threads[t], 0, rej, &s);
		cr_assert_eq(s.read, 20007);
		cr_assert_eq(s.reasons[R_DUP_IN_FILE], 5, "threads %d: %lld", threads[t],
			     (long long)s.reasons[R_DUP_IN_FILE]);
		cr_assert_eq(s.stored, 20002);
		cr_assert_eq(ds->t[CRM_ORDERS].n, (size_t)20002);
		/* the repeats are the later lines: 20,002 is "100" again (the
		 * header is line 1, order i line i + 1; "0100" is 20,003), 20,005
		 * the second "300000000", 20,006-20,008 the three "20000"s */
		char *text = read_file(rej, NULL);
		const long lines[] = { 20002, 20005, 20006, 20007, 20008 };
		for (size_t k = 0; k < 5; k++) {
			char want[64];
			snprintf(want, sizeof want, "\n%ld,duplicate_in_file,", lines[k]);
			cr_assert_not_null(strstr(text, want), "threads %d: no reject at line %ld",
					   threads[t], lines[k]);
		}
		free(text);
		crm_dataset_free(ds);
	}
}

/* The rows of web_events in ds, one line each in the dataset's order:
 * session, time, page, event and customer (caller frees). */
static char *web_rows(const struct crm_dataset *ds)
{
	const struct crm_table *t = &ds->t[CRM_WEB_EVENTS];
	struct buf b;
	buf_init(&b);
	for (size_t r = 0; r < t->n; r++) {
		uint32_t c = t->customer[r];
		buf_printf(&b, "%s|%lld|%s|%s|%s\n", crm_cell_str(t, CRM_W_SESSION_ID, r),
			   (long long)t->col[CRM_W_OCCURRED_AT].i64[r],
			   crm_cell_str(t, CRM_W_PAGE, r), crm_cell_str(t, CRM_W_EVENT, r),
			   c == CRM_NO_CUSTOMER ? "-" :
			   crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c));
	}
	return b.p ? b.p : calloc(1, 1);
}

/* Web events have no id: the store numbers the rows that share a key
 * (session, time, page, event) in file order. One file read straight into
 * a dataset does without the numbers (they would only repeat the file's
 * order, and make every key unique), so it is read on two threads. 30,000
 * events in 3,000 sessions, every 10th row given twice (the same click
 * logged twice): nothing is a repeat, and on 1 and 2 threads the web table
 * equals, row for row, the one loaded from a database the file was
 * imported into. Two files, the second repeating the first's first 100
 * rows: those are repeats, as in the store (rows 1..100 of the second file
 * get the numbers 1 of their keys, which the first file's rows have). */
Test(parallel, web_events_of_one_file_on_two_threads)
{
	char path[512], path2[512], db[512];
	snprintf(path, sizeof path, "%s/web_events.csv", dir);
	snprintf(path2, sizeof path2, "%s/web_events2.csv", dir);
	snprintf(db, sizeof db, "%s/web.db", dir);
	FILE *f = fopen(path, "wb"), *g = fopen(path2, "wb");
	cr_assert(f && g);
	const char *head = "session_id,occurred_at,page,customer_id,event\n";
	fputs(head, f);
	fputs(head, g);
	int rows = 0;
	for (int i = 0; i < 30000; i++) {
		char line[160];
		int s = i / 10;
		snprintf(line, sizeof line, "S%05d,2023-%02d-%02dT10:%02d:%02dZ,/p/%d,%s,%s\n", s,
			 1 + s % 12, 1 + s % 28, i % 60, (i * 7) % 60, i % 5,
			 s % 3 ? "" : "C1", i % 4 ? "view" : "add_to_cart");
		fputs(line, f);
		rows++;
		if (i % 10 == 0) {
			fputs(line, f);
			rows++;
		}
		if (i < 100)
			fputs(line, g);
	}
	fclose(f);
	fclose(g);

	char *text[2];
	const int threads[] = { 1, 2 };
	for (size_t t = 0; t < 2; t++) {
		struct ds_file file;
		struct ing_summary s;
		struct crm_dataset *ds = NULL;
		struct crm_err err;
		memset(&file, 0, sizeof file);
		file.path = path;
		file.ing.entity = CRM_WEB_EVENTS;
		file.ing.threads = threads[t];
		cr_assert_eq(ds_load_files(&file, 1, &s, &ds, &err), CRM_OK, "%s", err.msg);
		cr_assert_eq(s.read, rows);
		cr_assert_eq(s.rejected, 0);
		cr_assert_eq(s.threads, threads[t]);
		cr_assert_eq(ds->t[CRM_WEB_EVENTS].n, (size_t)rows);
		text[t] = web_rows(ds);
		crm_dataset_free(ds);
	}
	cr_assert_str_eq(text[0], text[1]);

	struct ds_import_opts io;
	memset(&io, 0, sizeof io);
	io.ing.entity = CRM_WEB_EVENTS;
	struct ing_summary si;
	struct crm_err err;
	cr_assert_eq(ds_import(db, path, &io, &si, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(si.stored, rows);
	char *text_db = db_text(db, web_rows);
	cr_assert_str_eq(text[0], text_db);
	free(text_db);

	struct ds_file files[2];
	struct ing_summary sums[2];
	memset(files, 0, sizeof files);
	files[0].path = path;
	files[1].path = path2;
	files[0].ing.entity = files[1].ing.entity = CRM_WEB_EVENTS;
	struct crm_dataset *both = NULL;
	cr_assert_eq(ds_load_files(files, 2, sums, &both, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(sums[1].read, 100);
	cr_assert_eq(sums[1].reasons[R_DUP_IN_FILE], 100);
	cr_assert_eq(both->t[CRM_WEB_EVENTS].n, (size_t)rows);
	crm_dataset_free(both);
	free(text[0]);
	free(text[1]);
}
