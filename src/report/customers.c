/* customers.c - the per-customer purchase summary as CSV and JSON (report
 * layer). Numbers are formatted by hand rather than with printf or
 * jansson's dumper: the tables of 1.5 million customers are on the
 * benchmark's path (printf and jansson's reals cost microseconds a row),
 * and the rules of customers.h (two decimals for weeks, exact money) are
 * easier to keep exactly with integers than with %f. JSON and CSV share the
 * number text, so they agree to the byte. */
#include "report/customers.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/csvout.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "data/dataset.h"
#include "metrics/retention.h"

#define FLUSH_AT 65536

static const char header[] =
	"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n";
static const char wide_header[] =
	"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue,"
	"stage,engagement,historic_value,gross_profit,service_cost,profit\n";

/* ------------------------------------------------------ number text
 *
 * The fmt_ functions write at p, which has room (the row's buf_reserve),
 * and return the end of what they wrote; no NUL. The put_ functions do
 * the same at the end of b, whose room the caller has reserved. */

static inline char *fmt_pair(char *p, unsigned v)
{
	memcpy(p, money_digit_pairs + 2 * v, 2);
	return p + 2;
}

/* The magnitude of v, INT64_MIN included. */
static inline uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static inline char *fmt_i64(char *p, int64_t v)
{
	if (v < 0)
		*p++ = '-';
	return money_put_digits(p, magnitude(v));
}

static void put_i64(struct buf *b, int64_t v)
{
	b->len = (size_t)(fmt_i64(b->p + b->len, v) - b->p);
}

/* llround(v), without the call for the whole numbers the summary mostly
 * holds (counts of days). */
static int64_t round_i64(double v)
{
	if (v > -1e15 && v < 1e15) {
		int64_t t = (int64_t)v;
		if ((double)t == v)
			return t;
	}
	return (int64_t)llround(v);
}

/* A time in the unit, as text: days are whole, weeks have two decimals. */
static inline char *fmt_duration(char *p, double v, int unit)
{
	if (unit == CRM_UNIT_DAY)
		return fmt_i64(p, round_i64(v));
	int64_t h = round_i64(v * 100.0);
	uint64_t m = magnitude(h);
	if (h < 0)
		*p++ = '-';
	p = money_put_digits(p, m / 100);
	*p++ = '.';
	return fmt_pair(p, (unsigned)(m % 100));
}

static void put_duration(struct buf *b, double v, int unit)
{
	b->len = (size_t)(fmt_duration(b->p + b->len, v, unit) - b->p);
}

/* Money v exactly, with two decimals, or three or four when it has them:
 * the text of money_format(v, places) for the fewest places (at least two)
 * that need no rounding. */
static inline char *fmt_money(char *p, int64_t v)
{
	uint64_t m = magnitude(v);
	unsigned frac = (unsigned)(m % MONEY_SCALE);
	if (v < 0)
		*p++ = '-';
	p = money_put_digits(p, m / MONEY_SCALE);
	*p++ = '.';
	p = fmt_pair(p, frac / 100);
	if (frac % 100 == 0)
		return p;
	if (frac % 10 == 0) {
		*p = (char)('0' + frac / 10 % 10);
		return p + 1;
	}
	return fmt_pair(p, frac % 100);
}

static void put_money(struct buf *b, int64_t v)
{
	b->len = (size_t)(fmt_money(b->p + b->len, v) - b->p);
}

/* mean_repeat to the cent from the exact total: rounding the 1e-4 mean
 * again would round twice (52.02495 -> 52.0250 -> 52.03). The text is
 * money_format(cents * 100, 2)'s: a '-' only when not zero. */
static inline char *fmt_mean(char *p, const struct crm_customer_summary *s)
{
	int64_t cents = s->x > 0 ? money_div_round(s->repeat_total, (int64_t)s->x * 100) : 0;
	uint64_t m = magnitude(cents);
	if (cents < 0)
		*p++ = '-';
	p = money_put_digits(p, m / 100);
	*p++ = '.';
	return fmt_pair(p, (unsigned)(m % 100));
}

static void put_mean(struct buf *b, const struct crm_customer_summary *s)
{
	b->len = (size_t)(fmt_mean(b->p + b->len, s) - b->p);
}

/* Recently written dates by day number, so that most rows do not work
 * the calendar out again (a table's dates fall on a few thousand days). */
#define DATE_SLOTS 1024

struct date_cache {
	int64_t day[DATE_SLOTS];       /* the day a slot holds, or CRM_NA */
	char text[DATE_SLOTS][10];     /* its YYYY-MM-DD */
};

static void date_cache_init(struct date_cache *dc)
{
	for (size_t i = 0; i < DATE_SLOTS; i++)
		dc->day[i] = CRM_NA;
}

/* YYYY-MM-DD of time t, or nothing when t is CRM_NA. dc may be NULL. */
static inline char *fmt_date(char *p, int64_t t, struct date_cache *dc)
{
	if (t == CRM_NA)
		return p;
	int64_t day = ts_day(t);
	size_t slot = (size_t)((uint64_t)day % DATE_SLOTS);
	if (dc && dc->day[slot] == day) {
		memcpy(p, dc->text[slot], 10);
		return p + 10;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	if (y < 0 || y > 9999)
		return p + ts_format(t, 1, p);
	p = fmt_pair(p, (unsigned)(y / 100));
	p = fmt_pair(p, (unsigned)(y % 100));
	*p++ = '-';
	p = fmt_pair(p, m);
	*p++ = '-';
	p = fmt_pair(p, d);
	if (dc) {
		memcpy(dc->text[slot], p - 10, 10);
		dc->day[slot] = day;
	}
	return p;
}

static void put_date(struct buf *b, int64_t t, struct date_cache *dc)
{
	b->len = (size_t)(fmt_date(b->p + b->len, t, dc) - b->p);
}

/* Whether a byte of x is below 0x2d ('-'): every byte that CSV quotes
 * (',' 0x2c, '"' 0x22, LF, CR) is. Exact as a yes or no (Anderson, "Bit
 * Twiddling Hacks": hasless(x, n) for n <= 128). */
static inline int has_low_byte(uint64_t x)
{
	return ((x - 0x2d2d2d2d2d2d2d2dull) & ~x & 0x8080808080808080ull) != 0;
}

/* An id of 1 to 16 bytes that needs no quotes, copied with overlapping
 * loads and stores that stay inside s[0..n) and p[0..n); 0 when it has a
 * byte below '-' (then csv_put_field_buf decides). */
static inline int put_short_id(char *p, const char *s, size_t n)
{
	if (n >= 8) {
		uint64_t a, z;
		memcpy(&a, s, 8);
		memcpy(&z, s + n - 8, 8);
		if (has_low_byte(a) || has_low_byte(z))
			return 0;
		memcpy(p, &a, 8);
		memcpy(p + n - 8, &z, 8);
		return 1;
	}
	if (n >= 4) {
		uint32_t a, z;
		memcpy(&a, s, 4);
		memcpy(&z, s + n - 4, 4);
		if (has_low_byte((uint64_t)a << 32 | z))
			return 0;
		memcpy(p, &a, 4);
		memcpy(p + n - 4, &z, 4);
		return 1;
	}
	unsigned char a = (unsigned char)s[0], m = (unsigned char)s[n / 2],
		      z = (unsigned char)s[n - 1];
	if (a < 0x2d || m < 0x2d || z < 0x2d)
		return 0;
	p[0] = (char)a;
	p[n / 2] = (char)m;
	p[n - 1] = (char)z;
	return 1;
}

static int flush(FILE *f, struct buf *b)
{
	if (b->len && fwrite(b->p, 1, b->len, f) != b->len)
		return -1;
	b->len = 0;
	return 0;
}

/* The time unit of opts (days when NULL). */
static int unit_of(const struct crm_summary_opts *opts)
{
	return opts && opts->unit == CRM_UNIT_WEEK ? CRM_UNIT_WEEK : CRM_UNIT_DAY;
}

/* The rows of a table: sel's customers in its order when it has them (*rows
 * set), else every customer (*rows NULL: row i is customer i). */
static size_t table_rows(const struct crm_dataset *ds, const struct rpt_customer_rows *sel,
			 const uint32_t **rows)
{
	*rows = sel ? sel->rows : NULL;
	return sel && sel->rows ? sel->n_rows : ds->n_customers;
}

/* Money, or nothing when CRM_NA. */
static void put_money_na(struct buf *b, int64_t v)
{
	if (v != CRM_NA)
		put_money(b, v);
}

/* A score with one decimal, rounded half away from zero; nothing for NAN. */
static void put_score(struct buf *b, double v)
{
	if (isnan(v) || isinf(v))
		return;
	int64_t t = (int64_t)llround(v * 10.0);
	if (t < 0) {
		b->p[b->len++] = '-';
		t = -t;
	}
	put_i64(b, t / 10);
	b->p[b->len++] = '.';
	b->p[b->len++] = (char)('0' + t % 10);
}

/* The stage's name, or NULL when there is no stage column. */
static const char *stage_text(const struct rpt_customer_extra *x, size_t c)
{
	return x && x->stage ? mx_stage_name(x->stage[c]) : NULL;
}

/* Appends s at the end of b, whose room the caller has reserved. */
static void put_text(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* The money columns of the family extras, in the order of the header:
 * historic_value, gross_profit, service_cost, profit (CRM_NA: none). */
#define N_EXTRA_MONEY 4

static void extra_money(const struct rpt_customer_extra *x, size_t c,
			int64_t money[N_EXTRA_MONEY])
{
	const struct mx_customer_value *v = x->value ? &x->value[c] : NULL;
	money[0] = v ? v->historic : CRM_NA;
	money[1] = v ? v->gross_profit : CRM_NA;
	money[2] = v ? v->service_cost : CRM_NA;
	money[3] = v ? v->profit : CRM_NA;
}

/* Appends the family columns of customer c (",stage,...,profit"), CSV. */
static int put_csv_extra(struct buf *b, const struct rpt_customer_extra *x, size_t c)
{
	const char *st = stage_text(x, c);
	int64_t money[N_EXTRA_MONEY];
	if (buf_reserve(b, 200 + (st ? strlen(st) : 0)) != 0)
		return -1;
	b->p[b->len++] = ',';
	if (st)
		put_text(b, st);
	b->p[b->len++] = ',';
	if (x->engagement)
		put_score(b, x->engagement[c]);
	extra_money(x, c, money);
	for (int i = 0; i < N_EXTRA_MONEY; i++) {
		b->p[b->len++] = ',';
		put_money_na(b, money[i]);
	}
	b->p[b->len] = '\0';
	return 0;
}

/* Appends customer c's CSV line (with the family columns when x). */
static int put_csv_row(struct buf *b, const struct crm_dataset *ds, size_t c,
		       const struct crm_customer_summary *s, int unit, struct date_cache *dc,
		       const struct rpt_customer_extra *x)
{
	/* strs_get, inline: string c of the pool (crmscope.h) */
	const struct crm_strings *ids = &ds->t[CRM_CUSTOMERS].col[CRM_C_CUSTOMER_ID].str;
	const char *id = "";
	size_t idn = 0;
	if (c < ids->n) {
		id = ids->bytes + ids->off[c];
		idn = (size_t)(ids->off[c + 1] - ids->off[c]) - 1;
	}
	/* the id, quoted with its quotes doubled at worst, then at most 8
	 * numbers of < 32 bytes, the commas and the line end */
	if (idn > SIZE_MAX / 4 || buf_reserve(b, 2 * idn + 2 + 320) != 0)
		return -1;
	if (idn - 1 < 16 && put_short_id(b->p + b->len, id, idn))
		b->len += idn;
	else
		csv_put_field_buf(b, id, idn);
	char *p = b->p + b->len;
	*p++ = ',';
	p = fmt_i64(p, round_i64(s->x));
	*p++ = ',';
	p = fmt_duration(p, s->t_x, unit);
	*p++ = ',';
	p = fmt_duration(p, s->T, unit);
	*p++ = ',';
	p = fmt_mean(p, s);
	*p++ = ',';
	p = fmt_date(p, s->first_at, dc);
	*p++ = ',';
	p = fmt_date(p, s->last_at, dc);
	*p++ = ',';
	p = money_put_digits(p, s->n_orders);
	*p++ = ',';
	p = fmt_money(p, s->net_revenue);
	if (x) {
		b->len = (size_t)(p - b->p);
		if (put_csv_extra(b, x, c) != 0)
			return -1;
		p = b->p + b->len;     /* put_csv_extra kept room for one more byte */
	}
	*p++ = '\n';
	*p = '\0';
	b->len = (size_t)(p - b->p);
	return 0;
}

/* Large tables are formatted in blocks of BLOCK customers by one worker
 * thread per core but one, which take the blocks in order, each into one
 * of a ring of RING buffers, while the calling thread writes each block as
 * soon as it and those before it are formatted (the bytes are those of one
 * thread), and formats blocks itself while the next one is not ready. The
 * workers live for the whole table and take the next block when they are
 * done (blocks of customers with many orders take longer), so neither
 * waits for the other at every step. */
#define BLOCK 8192
#define MAX_THREADS 8
#define RING (2 * MAX_THREADS)

struct csv_job {
	const struct crm_dataset *ds;
	const struct crm_customer_summary *sum;   /* by customer, or NULL: made
	                             here a block at a time (plan, into blk) */
	const struct ds_summary_plan *plan;
	struct crm_customer_summary *blk;         /* BLOCK rows, with plan */
	struct crm_err err;       /* rc -2: what the summary refused */
	const struct rpt_customer_extra *extra;
	const uint32_t *rows;     /* the rows' customers, or NULL: row i is customer i */
	int unit;
	size_t lo, hi;            /* rows [lo, hi) */
	struct buf out;           /* their lines */
	int rc;                   /* 0, -1 when out of memory, -2 (err) */
	struct date_cache dates;
};

static void format_block(struct csv_job *j)
{
	j->out.len = 0;
	j->rc = 0;
	if (j->plan && j->hi > j->lo &&
	    ds_summary_range(j->plan, j->lo, j->hi, j->blk, &j->err) != CRM_OK) {
		j->rc = -2;
		return;
	}
	for (size_t i = j->lo; i < j->hi && j->rc == 0; i++) {
		size_t c = j->rows ? j->rows[i] : i;
		const struct crm_customer_summary *s = j->plan ? &j->blk[i - j->lo] : &j->sum[c];
		j->rc = put_csv_row(&j->out, j->ds, c, s, j->unit, &j->dates, j->extra);
	}
}

/* The blocks of a table between the workers and the writer. Block b is
 * formatted in slot b % n_slots once block b - n_slots is written. */
struct csv_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* a block formatted, or one written */
	struct csv_job *slot;
	uint8_t ready[RING];      /* by slot: its block is formatted */
	size_t n_slots, n_rows, n_blocks;
	size_t next;              /* the next block a worker takes */
	size_t written;           /* blocks written (or given up) */
	int stop;                 /* the writer gave up: take no more */
};

/* With q->mu held: whether a block is left to take and its slot is free
 * (struct csv_pipe). */
static int can_take(const struct csv_pipe *q)
{
	return q->next < q->n_blocks && q->next < q->written + q->n_slots;
}

/* With q->mu held, and released while it works: takes the next block,
 * formats it in its slot and marks it ready. */
static void format_next(struct csv_pipe *q)
{
	size_t b = q->next++;
	struct csv_job *j = &q->slot[b % q->n_slots];
	pthread_mutex_unlock(&q->mu);
	j->lo = b * BLOCK;
	j->hi = j->lo + BLOCK < q->n_rows ? j->lo + BLOCK : q->n_rows;
	format_block(j);
	pthread_mutex_lock(&q->mu);
	q->ready[b % q->n_slots] = 1;
}

/* A worker: formats blocks until none is left or the writer gives up. */
static void *csv_worker(void *arg)
{
	struct csv_pipe *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->next < q->n_blocks && !can_take(q))
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop || q->next >= q->n_blocks)
			break;
		format_next(q);
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Writes the blocks of q in order as they come: 0, or the failure of the
 * first block that failed (its rc, or -3 when writing failed); *bad is
 * then that block's job. While the next block to write is not ready, the
 * writer formats the next block to take itself, so that with one worker
 * fewer than cores no core waits and none is shared (with a worker on
 * every core, the writer took a core from a worker whenever it ran). With
 * no worker, every block is formatted here. */
static int csv_write_blocks(struct csv_pipe *q, FILE *f, const struct csv_job **bad)
{
	int failed = 0;
	for (size_t b = 0; b < q->n_blocks && !failed; b++) {
		struct csv_job *j = &q->slot[b % q->n_slots];
		pthread_mutex_lock(&q->mu);
		while (!q->ready[b % q->n_slots]) {
			if (can_take(q))
				format_next(q);
			else
				pthread_cond_wait(&q->cv, &q->mu);
		}
		pthread_mutex_unlock(&q->mu);
		failed = j->rc != 0 ? j->rc : flush(f, &j->out) != 0 ? -3 : 0;
		*bad = j;
		pthread_mutex_lock(&q->mu);
		q->ready[b % q->n_slots] = 0;
		q->written = b + 1;
		q->stop = failed != 0;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
	}
	return failed;
}

static size_t n_cores(void)
{
	long k = sysconf(_SC_NPROCESSORS_ONLN);
	return k < 1 ? 1 : k > MAX_THREADS ? MAX_THREADS : (size_t)k;
}

int rpt_customers_csv(const struct crm_dataset *ds,
		      const struct crm_customer_summary *sum,
		      const struct crm_summary_opts *opts, FILE *f,
		      struct crm_err *err)
{
	return rpt_customers_table_csv(ds, sum, opts, NULL, NULL, f, err);
}

int rpt_customers_table_csv(const struct crm_dataset *ds,
			    const struct crm_customer_summary *sum,
			    const struct crm_summary_opts *opts,
			    const struct rpt_customer_extra *extra,
			    const struct rpt_customer_rows *sel, FILE *f,
			    struct crm_err *err)
{
	int unit = unit_of(opts);
	const uint32_t *rows;
	size_t n = table_rows(ds, sel, &rows), k = n_cores(), n_workers = 0;
	struct csv_pipe q = { .n_slots = 2 * k, .n_rows = n, .n_blocks = (n + BLOCK - 1) / BLOCK };
	pthread_t th[MAX_THREADS];
	struct ds_summary_plan plan;
	struct crm_customer_summary *own = NULL;      /* sum made here, small tables */
	struct buf b;
	int rc = CRM_OK, sync = 0;
	buf_init(&b);
	if (!sum && (sel || extra))
		return crm_err_set(err, CRM_EINVAL, "customers csv: a choice of rows or family"
				   " columns needs the summary made first");
	if (!sum && (rc = ds_summary_plan(ds, opts, &plan, err)) != CRM_OK)
		return rc;
	q.slot = calloc(q.n_slots, sizeof *q.slot);
	if (!q.slot || buf_puts(&b, extra ? wide_header : header) != 0)
		goto nomem;
	for (size_t s = 0; s < q.n_slots; s++) {
		struct csv_job *j = &q.slot[s];
		j->ds = ds;
		j->sum = sum;
		j->plan = sum ? NULL : &plan;
		j->extra = extra;
		j->rows = rows;
		j->unit = unit;
		buf_init(&j->out);
		date_cache_init(&j->dates);
		crm_err_clear(&j->err);
	}
	if (n <= BLOCK) {
		if (!sum) {
			if (!(own = xmallocn(n ? n : 1, sizeof *own)))
				goto nomem;
			if ((rc = ds_summary_range(&plan, 0, n, own, err)) != CRM_OK)
				goto done;
			sum = own;
		}
		for (size_t i = 0; i < n; i++) {
			size_t c = rows ? rows[i] : i;
			if (put_csv_row(&b, ds, c, &sum[c], unit, &q.slot[0].dates, extra) != 0)
				goto nomem;
			if (b.len >= FLUSH_AT && flush(f, &b) != 0)
				goto io;
		}
		if (flush(f, &b) != 0 || fflush(f) != 0)
			goto io;
		goto done;
	}
	for (size_t s = 0; !sum && s < q.n_slots; s++)
		if (!(q.slot[s].blk = xmallocn(BLOCK, sizeof *q.slot[s].blk)))
			goto nomem;
	if (flush(f, &b) != 0)
		goto io;
	if (pthread_mutex_init(&q.mu, NULL) != 0)
		goto nomem;
	if (pthread_cond_init(&q.cv, NULL) != 0) {
		pthread_mutex_destroy(&q.mu);
		goto nomem;
	}
	sync = 1;
	/* the writer is the k-th worker (csv_write_blocks) */
	while (n_workers + 1 < k && pthread_create(&th[n_workers], NULL, csv_worker, &q) == 0)
		n_workers++;
	const struct csv_job *bad = NULL;
	int failed = csv_write_blocks(&q, f, &bad);
	for (size_t w = 0; w < n_workers; w++)
		pthread_join(th[w], NULL);
	if (failed == -1)
		goto nomem;
	if (failed == -2) {
		rc = crm_err_set(err, bad->err.code, "%s", bad->err.msg);
		goto done;
	}
	if (failed == -3 || fflush(f) != 0)
		goto io;
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "customers csv: out of memory");
	goto done;
io:
	rc = crm_err_set(err, CRM_EIO, "customers csv: write failed");
done:
	if (sync) {
		pthread_cond_destroy(&q.cv);
		pthread_mutex_destroy(&q.mu);
	}
	for (size_t s = 0; q.slot && s < q.n_slots; s++) {
		buf_fini(&q.slot[s].out);
		free(q.slot[s].blk);
	}
	free(q.slot);
	free(own);
	buf_fini(&b);
	return rc;
}

/* The length of the valid UTF-8 sequence at p[0..n), or 0 (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Appends s[0..n) as the contents of a JSON string (without the quotes):
 * quotes, backslashes and control characters escaped, bytes that are not
 * UTF-8 replaced by U+FFFD, so the output is always valid JSON. */
static int put_json_text(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(p + i, n - i);
		int rc;
		if (len == 0) {
			rc = buf_append(b, "\xef\xbf\xbd", 3);
			len = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			char e[2] = { '\\', (char)p[i] };
			rc = buf_append(b, e, 2);
		} else if (p[i] < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[p[i] >> 4], hex[p[i] & 15] };
			rc = buf_append(b, e, 6);
		} else {
			rc = buf_append(b, s + i, len);
		}
		if (rc != 0)
			return -1;
		i += len;
	}
	return 0;
}

/* Appends the date of time t as a JSON string, or null when t is CRM_NA;
 * b has room. */
static void put_json_date(struct buf *b, int64_t t, struct date_cache *dc)
{
	if (t == CRM_NA) {
		put_text(b, "null");
		return;
	}
	b->p[b->len++] = '"';
	put_date(b, t, dc);
	b->p[b->len++] = '"';
}

/* Appends one customer's JSON object (no separator, no line end). */
static int put_json_row(struct buf *b, const struct crm_dataset *ds, size_t c,
			const struct crm_customer_summary *s, int unit, struct date_cache *dc,
			const struct rpt_customer_extra *x)
{
	size_t idn;
	const char *id = strs_get(&ds->t[CRM_CUSTOMERS].col[CRM_C_CUSTOMER_ID].str, c, &idn);
	if (buf_puts(b, "{\"customer_id\":\"") != 0 || put_json_text(b, id, idn) != 0 ||
	    buf_reserve(b, 1024) != 0)
		return -1;
	/* the numbers are the CSV's text, which is valid JSON as it is */
#define KEY(k) (memcpy(b->p + b->len, k, sizeof k - 1), b->len += sizeof k - 1)
	KEY("\",\"x\":");
	put_i64(b, round_i64(s->x));
	KEY(",\"t_x\":");
	put_duration(b, s->t_x, unit);
	KEY(",\"T\":");
	put_duration(b, s->T, unit);
	KEY(",\"mean_repeat\":");
	put_mean(b, s);
	KEY(",\"first_purchase\":");
	put_json_date(b, s->first_at, dc);
	KEY(",\"last_purchase\":");
	put_json_date(b, s->last_at, dc);
	KEY(",\"orders\":");
	put_i64(b, s->n_orders);
	KEY(",\"net_revenue\":");
	put_money(b, s->net_revenue);
	if (x) {
		const char *st = stage_text(x, c);
		int64_t money[N_EXTRA_MONEY];
		static const char *const keys[N_EXTRA_MONEY] = {
			",\"historic_value\":", ",\"gross_profit\":", ",\"service_cost\":",
			",\"profit\":",
		};
		KEY(",\"stage\":");
		if (st) {
			b->p[b->len++] = '"';
			put_text(b, st);
			b->p[b->len++] = '"';
		} else {
			KEY("null");
		}
		KEY(",\"engagement\":");
		if (x->engagement && !isnan(x->engagement[c]) && !isinf(x->engagement[c]))
			put_score(b, x->engagement[c]);
		else
			KEY("null");
		extra_money(x, c, money);
		for (int i = 0; i < N_EXTRA_MONEY; i++) {
			put_text(b, keys[i]);
			if (money[i] == CRM_NA)
				KEY("null");
			else
				put_money(b, money[i]);
		}
	}
	KEY("}");
#undef KEY
	b->p[b->len] = '\0';
	return 0;
}

json_t *rpt_customer_json(const struct crm_dataset *ds, size_t c,
			  const struct crm_customer_summary *s,
			  const struct crm_summary_opts *opts)
{
	struct buf b;
	json_t *o = NULL;
	buf_init(&b);
	/* one formatter for both: the object is parsed from the file's text */
	if (put_json_row(&b, ds, c, s, unit_of(opts), NULL, NULL) == 0)
		o = json_loadb(b.p, b.len, 0, NULL);
	buf_fini(&b);
	return o;
}

int rpt_customers_json(const struct crm_dataset *ds,
		       const struct crm_customer_summary *sum,
		       const struct crm_summary_opts *opts, FILE *f,
		       struct crm_err *err)
{
	return rpt_customers_table_json(ds, sum, opts, NULL, NULL, f, err);
}

int rpt_customers_table_json(const struct crm_dataset *ds,
			     const struct crm_customer_summary *sum,
			     const struct crm_summary_opts *opts,
			     const struct rpt_customer_extra *extra,
			     const struct rpt_customer_rows *sel, FILE *f,
			     struct crm_err *err)
{
	int unit = unit_of(opts);
	const uint32_t *rows;
	size_t n = table_rows(ds, sel, &rows);
	struct buf b;
	struct date_cache *dc = malloc(sizeof *dc);
	int rc = CRM_OK;
	buf_init(&b);
	if (!dc || buf_puts(&b, "[\n") != 0)
		goto nomem;
	date_cache_init(dc);
	for (size_t i = 0; i < n; i++) {
		size_t c = rows ? rows[i] : i;
		if (put_json_row(&b, ds, c, &sum[c], unit, dc, extra) != 0)
			goto nomem;
		if (buf_puts(&b, i + 1 < n ? ",\n" : "\n") != 0)
			goto nomem;
		if (b.len >= FLUSH_AT && flush(f, &b) != 0)
			goto io;
	}
	if (buf_puts(&b, "]\n") != 0)
		goto nomem;
	if (flush(f, &b) != 0 || fflush(f) != 0)
		goto io;
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "customers json: out of memory");
	goto done;
io:
	rc = crm_err_set(err, CRM_EIO, "customers json: write failed");
done:
	free(dc);
	buf_fini(&b);
	return rc;
}

/* ------------------------------------------------------- choosing rows */

struct sort_ctx {
	const double *key;        /* by customer; NAN: unknown, last */
	int asc;
};

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *sc = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	double kx = sc->key[x], ky = sc->key[y];
	int nx = isnan(kx), ny = isnan(ky);
	if (nx || ny) {
		if (nx != ny)
			return nx - ny;
	} else if (kx != ky) {
		int lt = kx < ky;
		return sc->asc ? (lt ? -1 : 1) : (lt ? 1 : -1);
	}
	return (x > y) - (x < y);
}

static double na_or(int64_t v)
{
	return v == CRM_NA ? NAN : (double)v;
}

/* The sort key of customer c under column col (an index of wide_header's
 * columns), NAN when unknown. */
static double column_key(const struct crm_customer_summary *s,
			 const struct rpt_customer_extra *x, int col, size_t c)
{
	const struct mx_customer_value *v = x && x->value ? &x->value[c] : NULL;
	switch (col) {
	case 0: return (double)c;                  /* customer_id: ids are in byte order */
	case 1: return s->x;
	case 2: return s->t_x;
	case 3: return s->T;
	case 4: return (double)s->mean_repeat;
	case 5: return na_or(s->first_at);
	case 6: return na_or(s->last_at);
	case 7: return (double)s->n_orders;
	case 8: return (double)s->net_revenue;
	case 9: return x && x->stage && x->stage[c] < MX_N_STAGES ? (double)x->stage[c] : NAN;
	case 10: return x && x->engagement ? x->engagement[c] : NAN;
	case 11: return v ? na_or(v->historic) : NAN;
	case 12: return v ? na_or(v->gross_profit) : NAN;
	case 13: return v ? na_or(v->service_cost) : NAN;
	default: return v ? na_or(v->profit) : NAN;
	}
}

int rpt_customers_select(const struct crm_dataset *ds,
			 const struct crm_customer_summary *sum,
			 const struct rpt_customer_extra *extra, int stage,
			 const char *sort, int asc, size_t limit,
			 struct rpt_customer_rows *out, struct crm_err *err)
{
	static const char *const cols[] = {
		"customer_id", "x", "t_x", "T", "mean_repeat", "first_purchase", "last_purchase",
		"orders", "net_revenue", "stage", "engagement", "historic_value", "gross_profit",
		"service_cost", "profit",
	};
	const size_t n_cols = sizeof cols / sizeof cols[0];
	size_t n = ds->n_customers, k = 0;
	int col = -1;
	double *key = NULL;
	uint32_t *rows = NULL;
	int rc = CRM_OK;
	out->rows = NULL;
	out->n_rows = 0;
	if (sort) {
		for (size_t i = 0; i < n_cols; i++)
			if (strcmp(sort, cols[i]) == 0)
				col = (int)i;
		if (col < 0 || (col >= 9 && !extra))
			return crm_err_set(err, CRM_EINVAL, "customers: --sort %s: no such column%s", sort,
					   col >= 9 ? " without the family columns (give --wide)" : "");
	}
	if (stage >= 0 && !(extra && extra->stage))
		return crm_err_set(err, CRM_EINVAL, "customers: --stage needs the lifecycle stages");
	rows = xmallocn(n ? n : 1, sizeof *rows);
	if (!rows)
		goto nomem;
	for (size_t c = 0; c < n; c++)
		if (stage < 0 || extra->stage[c] == stage)
			rows[k++] = (uint32_t)c;
	if (col >= 0) {
		if (!(key = xmallocn(n ? n : 1, sizeof *key)))
			goto nomem;
		for (size_t i = 0; i < k; i++)
			key[rows[i]] = column_key(&sum[rows[i]], extra, col, rows[i]);
		struct sort_ctx sc = { key, asc };
		qsort_r(rows, k, sizeof *rows, cmp_rows, &sc);
	}
	if (limit && k > limit)
		k = limit;
	out->rows = rows;
	out->n_rows = k;
	rows = NULL;
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "customers: out of memory");
done:
	free(rows);
	free(key);
	return rc;
}
