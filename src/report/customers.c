/* customers.c - the per-customer purchase summary as CSV and JSON (report
 * layer). Numbers are formatted by hand rather than with printf or
 * jansson's dumper: the tables of 1.5 million customers are on the
 * benchmark's path (printf and jansson's reals cost microseconds a row),
 * and the rules of customers.h (two decimals for weeks, exact money) are
 * easier to keep exactly with integers than with %f. JSON and CSV share the
 * number text, so they agree to the byte. */
#include "report/customers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"

#define FLUSH_AT 65536

static const char header[] =
	"customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n";

/* Appends the decimal digits of v. */
static void put_i64(struct buf *b, int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	if (v < 0)
		b->p[b->len++] = '-';
	while (n)
		b->p[b->len++] = tmp[--n];
}

/* A time in the unit, as text: days are whole, weeks have two decimals. */
static void put_duration(struct buf *b, double v, int unit)
{
	if (unit == CRM_UNIT_DAY) {
		put_i64(b, (int64_t)llround(v));
		return;
	}
	int64_t h = (int64_t)llround(v * 100.0);
	int64_t m = h < 0 ? -h : h;
	if (h < 0)
		b->p[b->len++] = '-';
	put_i64(b, m / 100);
	b->p[b->len++] = '.';
	b->p[b->len++] = (char)('0' + m / 10 % 10);
	b->p[b->len++] = (char)('0' + m % 10);
}

/* The number of decimals that shows money v exactly, at least two. */
static int exact_places(int64_t v)
{
	if (v % 100 == 0)
		return 2;
	return v % 10 == 0 ? 3 : 4;
}

static void put_money(struct buf *b, int64_t v, int places)
{
	b->len += money_format(v, places, b->p + b->len);
}

/* YYYY-MM-DD of time t, or nothing when t is CRM_NA. */
static void put_date(struct buf *b, int64_t t)
{
	if (t == CRM_NA)
		return;
	int64_t y;
	unsigned m, d;
	civil_from_days(ts_day(t), &y, &m, &d);
	if (y < 0 || y > 9999) {
		b->len += ts_format(t, 1, b->p + b->len);
		return;
	}
	char *p = b->p + b->len;
	p[0] = (char)('0' + y / 1000);
	p[1] = (char)('0' + y / 100 % 10);
	p[2] = (char)('0' + y / 10 % 10);
	p[3] = (char)('0' + y % 10);
	p[4] = '-';
	p[5] = (char)('0' + m / 10);
	p[6] = (char)('0' + m % 10);
	p[7] = '-';
	p[8] = (char)('0' + d / 10);
	p[9] = (char)('0' + d % 10);
	b->len += 10;
}

/* Appends s[0..n) as one CSV field. */
static int put_csv_field(struct buf *b, const char *s, size_t n)
{
	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
	    !memchr(s, '\r', n))
		return buf_append(b, s, n);
	if (buf_putc(b, '"') != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' && buf_putc(b, '"') != 0)
			return -1;
		if (buf_putc(b, s[i]) != 0)
			return -1;
	}
	return buf_putc(b, '"');
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

int rpt_customers_csv(const struct crm_dataset *ds,
		      const struct crm_customer_summary *sum,
		      const struct crm_summary_opts *opts, FILE *f,
		      struct crm_err *err)
{
	int unit = unit_of(opts);
	const struct crm_table *ct = &ds->t[CRM_CUSTOMERS];
	struct buf b;
	int rc = CRM_OK;
	buf_init(&b);
	if (buf_puts(&b, header) != 0)
		goto nomem;
	for (size_t c = 0; c < ds->n_customers; c++) {
		const struct crm_customer_summary *s = &sum[c];
		size_t idn;
		const char *id = strs_get(&ct->col[CRM_C_CUSTOMER_ID].str, c, &idn);
		if (put_csv_field(&b, id, idn) != 0)
			goto nomem;
		/* the rest of the line is at most 8 numbers of < 32 bytes */
		if (buf_reserve(&b, 320) != 0)
			goto nomem;
		b.p[b.len++] = ',';
		put_i64(&b, (int64_t)llround(s->x));
		b.p[b.len++] = ',';
		put_duration(&b, s->t_x, unit);
		b.p[b.len++] = ',';
		put_duration(&b, s->T, unit);
		b.p[b.len++] = ',';
		put_money(&b, s->mean_repeat, 2);
		b.p[b.len++] = ',';
		put_date(&b, s->first_at);
		b.p[b.len++] = ',';
		put_date(&b, s->last_at);
		b.p[b.len++] = ',';
		put_i64(&b, s->n_orders);
		b.p[b.len++] = ',';
		put_money(&b, s->net_revenue, exact_places(s->net_revenue));
		b.p[b.len++] = '\n';
		b.p[b.len] = '\0';
		if (b.len >= FLUSH_AT && flush(f, &b) != 0)
			goto io;
	}
	if (flush(f, &b) != 0 || fflush(f) != 0)
		goto io;
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "customers csv: out of memory");
	goto done;
io:
	rc = crm_err_set(err, CRM_EIO, "customers csv: write failed");
done:
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

/* Appends one customer's JSON object (no separator, no line end). */
static int put_json_row(struct buf *b, const struct crm_dataset *ds, size_t c,
			const struct crm_customer_summary *s, int unit)
{
	size_t idn;
	const char *id = strs_get(&ds->t[CRM_CUSTOMERS].col[CRM_C_CUSTOMER_ID].str, c, &idn);
	if (buf_puts(b, "{\"customer_id\":\"") != 0 || put_json_text(b, id, idn) != 0 ||
	    buf_reserve(b, 512) != 0)
		return -1;
	/* the numbers are the CSV's text, which is valid JSON as it is */
#define KEY(k) (memcpy(b->p + b->len, k, sizeof k - 1), b->len += sizeof k - 1)
	KEY("\",\"x\":");
	put_i64(b, (int64_t)llround(s->x));
	KEY(",\"t_x\":");
	put_duration(b, s->t_x, unit);
	KEY(",\"T\":");
	put_duration(b, s->T, unit);
	KEY(",\"mean_repeat\":");
	put_money(b, s->mean_repeat, 2);
	KEY(",\"first_purchase\":");
	if (s->first_at == CRM_NA) {
		KEY("null");
	} else {
		b->p[b->len++] = '"';
		put_date(b, s->first_at);
		b->p[b->len++] = '"';
	}
	KEY(",\"last_purchase\":");
	if (s->last_at == CRM_NA) {
		KEY("null");
	} else {
		b->p[b->len++] = '"';
		put_date(b, s->last_at);
		b->p[b->len++] = '"';
	}
	KEY(",\"orders\":");
	put_i64(b, s->n_orders);
	KEY(",\"net_revenue\":");
	put_money(b, s->net_revenue, exact_places(s->net_revenue));
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
	if (put_json_row(&b, ds, c, s, unit_of(opts)) == 0)
		o = json_loadb(b.p, b.len, 0, NULL);
	buf_fini(&b);
	return o;
}

int rpt_customers_json(const struct crm_dataset *ds,
		       const struct crm_customer_summary *sum,
		       const struct crm_summary_opts *opts, FILE *f,
		       struct crm_err *err)
{
	int unit = unit_of(opts);
	struct buf b;
	int rc = CRM_OK;
	buf_init(&b);
	if (buf_puts(&b, "[\n") != 0)
		goto nomem;
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (put_json_row(&b, ds, c, &sum[c], unit) != 0)
			goto nomem;
		if (buf_puts(&b, c + 1 < ds->n_customers ? ",\n" : "\n") != 0)
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
	buf_fini(&b);
	return rc;
}
