/* csvw.c - writing the demo's CSV files and planting bad rows (demo layer).
 * Rows are RFC 4180: comma-delimited, a field quoted when it holds a comma,
 * a quote, a line break or edge spaces, quotes doubled, LF line ends. A bad
 * row is a copy of the real row that follows it with one field broken, so
 * its other fields stay sensible; its line is recorded for truth.json. */
#include "demo/demo_int.h"

#include <errno.h>
#include <string.h>

#include "core/csvout.h"
#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"

/* ------------------------------------------------------------- the faults */

#define NO2 -1, NULL

static const struct demo_fault f_customers[] = {
	{ CRM_C_CUSTOMER_ID, FK_EMPTY, NULL, -1, NO2, "missing", "customer_id is empty" },
	{ CRM_C_SIGNUP_AT, FK_VALUE, "2024-13-05T10:00:00Z", -1, NO2, "bad_date", "signup_at has month 13" },
	{ CRM_C_BIRTH_DATE, FK_VALUE, "1985-02-30", -1, NO2, "bad_date", "birth_date is 30 February" },
};
static const struct demo_fault f_orders[] = {
	{ CRM_O_AMOUNT, FK_VALUE, "1O.50", -1, NO2, "bad_number", "amount has the letter O for a zero" },
	{ CRM_O_ORDERED_AT, FK_VALUE, "31/04/2024 10:15", -1, NO2, "bad_date", "ordered_at is not ISO 8601 (and 31 April does not exist)" },
	{ CRM_O_ORDER_ID, FK_EMPTY, NULL, -1, NO2, "missing", "order_id is empty" },
	{ CRM_O_CUSTOMER_ID, FK_EMPTY, NULL, -1, NO2, "missing", "customer_id is empty" },
	{ CRM_O_STATUS, FK_VALUE, "on hold", -1, NO2, "bad_value", "status is not completed, returned or cancelled" },
};
static const struct demo_fault f_interactions[] = {
	{ CRM_I_INTERACTION_ID, FK_EMPTY, NULL, -1, NO2, "missing", "interaction_id is empty" },
	{ CRM_I_OCCURRED_AT, FK_VALUE, "2024-06-31T09:00:00Z", -1, NO2, "bad_date", "occurred_at is 31 June" },
	{ CRM_I_DURATION_S, FK_VALUE, "-45", -1, NO2, "out_of_range", "duration_s is negative" },
	{ CRM_I_SATISFACTION, FK_VALUE, "6", -1, NO2, "out_of_range", "satisfaction 6 is off the 1-5 scale" },
};
static const struct demo_fault f_tickets[] = {
	{ CRM_T_FIRST_RESPONSE_AT, FK_BEFORE, NULL, CRM_T_OPENED_AT, NO2, "time_order", "first_response_at is 2 hours before opened_at" },
	{ CRM_T_SATISFACTION, FK_VALUE, "0", -1, NO2, "out_of_range", "satisfaction 0 is off the 1-5 scale" },
	{ CRM_T_EFFORT, FK_VALUE, "8", -1, NO2, "out_of_range", "effort 8 is off the 1-7 scale" },
	{ CRM_T_OPENED_AT, FK_VALUE, "2024-02-30T08:00:00Z", -1, NO2, "bad_date", "opened_at is 30 February" },
};
static const struct demo_fault f_leads[] = {
	{ CRM_L_LEAD_ID, FK_EMPTY, NULL, -1, NO2, "missing", "lead_id is empty" },
	{ CRM_L_CREATED_AT, FK_VALUE, "2023-02-29T12:00:00Z", -1, NO2, "bad_date", "created_at is 29 February of a common year" },
	{ CRM_L_EXPECTED_VALUE, FK_VALUE, "n/a", -1, NO2, "bad_number", "expected_value is not a number" },
	{ CRM_L_CONVERTED_AT, FK_BEFORE, NULL, CRM_L_CREATED_AT, NO2, "time_order", "converted_at is 2 hours before created_at" },
};
static const struct demo_fault f_spend[] = {
	{ CRM_S_DATE, FK_VALUE, "2024-04-31", -1, NO2, "bad_date", "date is 31 April" },
	{ CRM_S_CHANNEL, FK_EMPTY, NULL, -1, NO2, "missing", "channel is empty" },
	{ CRM_S_AMOUNT, FK_VALUE, "pending", -1, NO2, "bad_number", "amount is not a number" },
};
static const struct demo_fault f_feedback[] = {
	{ CRM_F_SCORE, FK_VALUE, "11", -1, CRM_F_KIND, "nps", "out_of_range", "NPS score 11 is off the 0-10 scale" },
	{ CRM_F_SCORE, FK_VALUE, "0", -1, CRM_F_KIND, "csat", "out_of_range", "CSAT score 0 is off the 1-5 scale" },
	{ CRM_F_SCORE, FK_VALUE, "8", -1, CRM_F_KIND, "ces", "out_of_range", "CES score 8 is off the 1-7 scale" },
	{ CRM_F_KIND, FK_VALUE, "nsp", -1, NO2, "bad_value", "kind is not nps, csat or ces" },
	{ CRM_F_CUSTOMER_ID, FK_EMPTY, NULL, -1, NO2, "missing", "customer_id is empty" },
};
static const struct demo_fault f_web[] = {
	{ CRM_W_SESSION_ID, FK_EMPTY, NULL, -1, NO2, "missing", "session_id is empty" },
	{ CRM_W_OCCURRED_AT, FK_VALUE, "2025-04-31T12:00:00Z", -1, NO2, "bad_date", "occurred_at is 31 April" },
	{ CRM_W_PAGE, FK_EMPTY, NULL, -1, NO2, "missing", "page is empty" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct demo_fault *demo_faults(int entity, size_t *n)
{
	switch (entity) {
	case CRM_CUSTOMERS: *n = N(f_customers); return f_customers;
	case CRM_ORDERS: *n = N(f_orders); return f_orders;
	case CRM_INTERACTIONS: *n = N(f_interactions); return f_interactions;
	case CRM_TICKETS: *n = N(f_tickets); return f_tickets;
	case CRM_LEADS: *n = N(f_leads); return f_leads;
	case CRM_SPEND: *n = N(f_spend); return f_spend;
	case CRM_FEEDBACK: *n = N(f_feedback); return f_feedback;
	case CRM_WEB_EVENTS: *n = N(f_web); return f_web;
	default: *n = 0; return NULL;
	}
}

/* ------------------------------------------------------------------ cells */

void demo_row_clear(struct demo_row *r)
{
	for (int i = 0; i < CRM_MAX_FIELDS; i++) {
		r->c[i].p = NULL;
		r->c[i].n = 0;
	}
}

void demo_cell_str(struct demo_row *r, int f, const char *s)
{
	r->c[f].p = s;
	r->c[f].n = s ? strlen(s) : 0;
}

static char *two(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

size_t demo_fmt_time(int64_t t, int date_only, char *out)
{
	int64_t day = ts_day(t), y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	unsigned sod = (unsigned)(t - day * SECS_PER_DAY);
	char *p = out;
	unsigned yy = (unsigned)y;
	p = two(p, yy / 100 % 100);
	p = two(p, yy % 100);
	*p++ = '-';
	p = two(p, m);
	*p++ = '-';
	p = two(p, d);
	if (!date_only) {
		*p++ = 'T';
		p = two(p, sod / 3600);
		*p++ = ':';
		p = two(p, sod / 60 % 60);
		*p++ = ':';
		p = two(p, sod % 60);
		*p++ = 'Z';
	}
	*p = '\0';
	return (size_t)(p - out);
}

void demo_cell_time(struct demo_row *r, int f, int64_t t)
{
	r->c[f].n = demo_fmt_time(t, 0, r->scratch[f]);
	r->c[f].p = r->scratch[f];
}

void demo_cell_date(struct demo_row *r, int f, int64_t t)
{
	r->c[f].n = demo_fmt_time(t, 1, r->scratch[f]);
	r->c[f].p = r->scratch[f];
}

void demo_cell_money(struct demo_row *r, int f, int64_t v)
{
	r->c[f].n = money_format(v, 2, r->scratch[f]);
	r->c[f].p = r->scratch[f];
}

void demo_cell_dec1(struct demo_row *r, int f, int64_t v)
{
	r->c[f].n = money_format(v, 1, r->scratch[f]);
	r->c[f].p = r->scratch[f];
}

void demo_cell_int(struct demo_row *r, int f, int64_t v)
{
	char tmp[24];
	size_t n = 0;
	int neg = v < 0;
	uint64_t m = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	char *p = r->scratch[f];
	size_t k = 0;
	if (neg)
		p[k++] = '-';
	while (n)
		p[k++] = tmp[--n];
	p[k] = '\0';
	r->c[f].p = p;
	r->c[f].n = k;
}

void demo_cell_idnum(struct demo_row *r, int f, char prefix, int width, uint64_t n)
{
	char *p = r->scratch[f];
	char tmp[24];
	int k = 0;
	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k < width)
		tmp[k++] = '0';
	size_t len = 0;
	p[len++] = prefix;
	while (k)
		p[len++] = tmp[--k];
	p[len] = '\0';
	r->c[f].p = p;
	r->c[f].n = len;
}

/* ----------------------------------------------------------------- writer */

enum { FAIL_IO = 1, FAIL_NOMEM = 2 };

static int flush(struct demo_csv *w)
{
	if (w->out.len && fwrite(w->out.p, 1, w->out.len, w->f) != w->out.len)
		w->failed = FAIL_IO;
	w->out.len = 0;
	return w->failed ? -1 : 0;
}

static void put_field(struct demo_csv *w, const char *p, size_t n)
{
	if (csv_put_field_buf(&w->out, p, n) != 0)
		w->failed = FAIL_NOMEM;
	/* line breaks inside a quoted field move the file's line on */
	for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))) != NULL; q++)
		w->line++;
}

static void put_row(struct demo_csv *w, const struct demo_row *r)
{
	const struct ent_desc *d = ent_get(w->entity);
	for (size_t i = 0; i < d->n_fields; i++) {
		if (i && buf_putc(&w->out, ',') != 0)
			w->failed = FAIL_NOMEM;
		if (r->c[i].p)
			put_field(w, r->c[i].p, r->c[i].n);
	}
	if (buf_putc(&w->out, '\n') != 0)
		w->failed = FAIL_NOMEM;
	w->line++;
	w->n_rows++;
	if (w->out.len >= (1u << 20))
		flush(w);
}

static void record_bad(struct demo_csv *w, long line, const struct demo_fault *f,
		       const char *value)
{
	struct demo_badlist *b = w->bad;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct demo_bad *v = xreallocn(b->v, cap, sizeof *v);
		if (!v) {
			w->failed = FAIL_NOMEM;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	struct demo_bad *e = &b->v[b->n++];
	e->line = line;
	e->fault = f;
	snprintf(e->value, sizeof e->value, "%s", value ? value : "");
}

void demo_csv_bad_row(struct demo_csv *w, const struct demo_row *r, const struct demo_fault *f)
{
	struct demo_row bad = *r;
	/* the cells of the copy that point into r's scratch must point into bad's */
	for (int i = 0; i < CRM_MAX_FIELDS; i++)
		if (r->c[i].p == r->scratch[i])
			bad.c[i].p = bad.scratch[i];
	switch (f->kind) {
	case FK_EMPTY:
		bad.c[f->field].p = NULL;
		bad.c[f->field].n = 0;
		break;
	case FK_VALUE:
		demo_cell_str(&bad, f->field, f->value);
		break;
	default: { /* FK_BEFORE */
		int64_t t = 0;
		const char *why;
		if (bad.c[f->other].p)
			(void)ts_parse_iso(bad.c[f->other].p, bad.c[f->other].n, &t, &why);
		demo_cell_time(&bad, f->field, t - 7200);
		break;
	}
	}
	if (f->field2 >= 0)
		demo_cell_str(&bad, f->field2, f->value2);
	char value[48];
	size_t n = bad.c[f->field].n < sizeof value - 1 ? bad.c[f->field].n : sizeof value - 1;
	if (n)
		memcpy(value, bad.c[f->field].p, n);
	value[n] = '\0';
	record_bad(w, w->line + 1, f, value);
	put_row(w, &bad);
}

/* A copy of r broken by fault k, with an id of its own. */
static void plant(struct demo_csv *w, const struct demo_row *r, size_t k)
{
	const struct demo_fault *f = &w->faults[k];
	const struct ent_desc *d = ent_get(w->entity);
	struct demo_row copy = *r;
	for (int i = 0; i < CRM_MAX_FIELDS; i++)
		if (r->c[i].p == r->scratch[i])
			copy.c[i].p = copy.scratch[i];
	if (d->id_field >= 0)
		demo_cell_idnum(&copy, d->id_field, w->id_prefix, w->id_width, w->next_bad_id++);
	demo_csv_bad_row(w, &copy, f);
}

int demo_csv_open(struct demo_csv *w, const char *dir, int entity, size_t n_real,
		  gsl_rng *rng, char id_prefix, int id_width, size_t first_bad_id,
		  struct demo_badlist *bad, struct crm_err *err)
{
	const struct ent_desc *d = ent_get(entity);
	size_t n_faults;
	const struct demo_fault *faults = rng ? demo_faults(entity, &n_faults) : NULL;
	memset(w, 0, sizeof *w);
	buf_init(&w->out);
	w->entity = entity;
	w->bad = bad;
	w->id_prefix = id_prefix;
	w->id_width = id_width;
	w->next_bad_id = first_bad_id;
	if (faults && n_real > 0) {
		if (n_faults > N(w->pos))
			n_faults = N(w->pos);
		w->faults = faults;
		w->n_faults = n_faults;
		for (size_t k = 0; k < n_faults; k++)
			w->pos[k] = (size_t)gsl_rng_uniform_int(rng, (unsigned long)n_real);
	}
	snprintf(w->path, sizeof w->path, "%s/%s.csv", dir, d->name);
	w->f = fopen(w->path, "wb");
	if (!w->f)
		return crm_err_set(err, CRM_EIO, "%s: cannot create: %s", w->path, strerror(errno));
	for (size_t i = 0; i < d->n_fields; i++) {
		if (i)
			buf_putc(&w->out, ',');
		buf_puts(&w->out, d->fields[i].name);
	}
	if (buf_putc(&w->out, '\n') != 0)
		w->failed = FAIL_NOMEM;
	w->line = 1;
	return CRM_OK;
}

void demo_csv_row(struct demo_csv *w, const struct demo_row *r)
{
	for (size_t k = 0; k < w->n_faults; k++)
		if (w->pos[k] == w->real_i)
			plant(w, r, k);
	put_row(w, r);
	w->real_i++;
}

int demo_csv_close(struct demo_csv *w, struct crm_err *err)
{
	int rc = CRM_OK;
	if (!w->f)
		goto done;
	flush(w);
	if (fclose(w->f) != 0 && !w->failed)
		w->failed = FAIL_IO;
	w->f = NULL;
	if (w->failed == FAIL_NOMEM)
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", w->path);
	else if (w->failed)
		rc = crm_err_set(err, CRM_EIO, "%s: write failed: %s", w->path, strerror(errno));
done:
	buf_fini(&w->out);
	return rc;
}
