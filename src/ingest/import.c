/* import.c - the import pipeline: read, map, parse, validate, fold order
 * lines, quarantine, hand to a sink (ingest layer).
 *
 * The accounting identity read = stored + updated + duplicates + rejected
 * holds for every import: each record (each line, for order-line files)
 * ends in exactly one of those counts, and every rejected one is written to
 * the rejects file with its line, reason, field and raw text.
 *
 * Only the fields the sink needs and the required ones are parsed
 * (ing_opts.fields). Rows are made into records and handed to the sink in
 * batches (struct pending, ING_BATCH rows), each field read down a whole
 * batch at a time; rejects still come in line order, and the counts are
 * those of a record at a time. A large CSV file can be cut at line ends
 * and its parts read by the same row loop (csv_rows) on threads of their
 * own, into parts of the sink; the counts and rejects are gathered in file
 * order, so the outcome is that of one thread (import_parallel). */
#include "ingest/import.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "core/csvout.h"
#include "core/err.h"
#include "core/money.h"
#include "core/strmap.h"
#include "core/trace.h"
#include "core/tstamp.h"
#include "ingest/map.h"

static const char *const reason_names[R_N] = {
	"syntax", "field_count", "missing", "bad_utf8", "bad_date", "bad_number",
	"out_of_range", "bad_value", "time_order", "unknown_customer",
	"duplicate_in_file", "no_customer", "negative_price", "order_conflict",
};

const char *ing_reason_name(int r)
{
	return r >= 0 && r < R_N ? reason_names[r] : "unknown";
}

/* An order formed from order lines, kept until the end of the file. */
struct order_agg {
	uint32_t customer;     /* 1 + index of its text in imp.agg_text_ix */
	uint32_t currency, channel, category; /* likewise, 0 = none */
	int64_t at;            /* earliest line time */
	int64_t amount;        /* sum of line amounts */
	int64_t cost;          /* sum of line costs, CRM_NA if none given */
	int64_t items;         /* sum of quantities */
	int status;            /* explicit status code of the first line, 0 none */
	int cancel;            /* order id has the cancellation prefix */
	long first_line;
	int64_t n_lines;
};

/* How make_batch reads one field of every row of a file, decided once
 * (plan_rows). The kinds with a fast path are the common ones; the rest,
 * and every value the fast path is not sure of, go to parse_value. */
enum step_kind {
	K_GENERAL = 0,  /* parse_value decides */
	K_TEXT,         /* FT_TEXT, FT_CAT: ASCII is valid as it is */
	K_ID,           /* FT_ID, FT_REF: likewise, and i is strmap_number of the
	                   text (see ing_sink), a number being valid as it is */
	K_TIME,         /* FT_TIME: the text of the last time parsed repeats */
	K_DATE,         /* FT_DATE: likewise, then floored to its day */
	K_MONEY         /* FT_MONEY, FT_DECIMAL without a range: money_parse */
};

struct step {
	const struct ent_field *fd; /* the field's entry in the schema */
	int cell;                   /* its text: index among the row's cells */
	uint8_t field;              /* index of the field in the entity */
	uint8_t kind;               /* enum step_kind */
};

struct imp {
	const struct ing_opts *o;
	const struct ent_desc *d;
	const struct ing_sink *sink;
	struct ing_summary *sum;
	struct ing_map map;
	int line_level;
	int synth_id;               /* the entity's id column is absent */
	int make_id;                /* ... and the sink needs ids: make them up */
	uint32_t need;              /* fields the sink needs (ING_FIELD bits) */
	uint32_t want;              /* fields parsed and checked: needed or required */
	int flushed;                /* the sink's flush was called */
	uint8_t fields_read[CRM_MAX_FIELDS]; /* the fields in want, in order */
	size_t n_fields_read;
	char last_time[40];         /* the last time text parsed ... */
	size_t last_time_n;         /* ... its length (0: none) ... */
	int64_t last_time_value;    /* ... and its value */
	struct strmap occurrences;  /* key prefix -> times seen (ids, seq) */
	struct buf key;             /* scratch for a synthetic key */
	FILE *rejects;
	struct buf rej;             /* scratch for a rejects line */
	struct buf *rej_mem;        /* a thread past the first: its rejects, kept
	                               here in line order instead of the file */
	FILE *rej_spill;            /* ... and moved here when they grow large */
	/* order lines */
	struct strmap agg_ids;      /* order id -> index into aggs */
	struct order_agg *aggs;
	size_t n_aggs, cap_aggs;
	struct strmap agg_text_ix;  /* customer, currency, channel, category texts */
	/* JSON Lines: the targets of keys seen so far */
	struct strmap json_keys;    /* key -> target + 1 (0: ignored) */
	/* the row plan (plan_rows): how make_batch reads every row */
	struct step steps[CRM_MAX_FIELDS]; /* the fields read that have a cell,
	                               in field order */
	size_t n_steps;
	uint8_t clear[2];           /* fields read without a cell that are still
	                               written after make_batch (a made-up id,
	                               the default currency): zeroed per row */
	size_t n_clear;
	size_t cell_at[CRM_MAX_FIELDS]; /* by step: steps[k].cell, as a byte offset
	                               among the cells (queue_row) */
	int cell_of[ING_N_TARGETS]; /* where each target's text is among the
	                               cells of a row, -1: nowhere */
	char decimal;               /* the decimal separator of numbers */
	int default_currency;       /* orders take opts.currency when they have none */
	int seq_keys;               /* rows get occurrence numbers */
	int cross_rules;            /* the entity has rules across fields */
};

/* A row's fault: the reason, the field and a message. */
struct fault {
	int reason;
	const char *field;
	char msg[256];
};

/* The text of a field of a row: a cell without its missing flag. */
struct span {
	const char *p;
	size_t n;
};
_Static_assert(offsetof(struct ing_field, p) == offsetof(struct span, p) &&
	       offsetof(struct ing_field, n) == offsetof(struct span, n) &&
	       sizeof(struct span) <= sizeof(struct ing_field),
	       "a span is the head of a field (queue_row copies it whole)");

/* Rows read and waiting to be made into records and handed to the sink,
 * ING_BATCH (or max) at a time. The cells the plan reads are copied out of
 * the reader's row (which it reuses) as they come, a column per step, so
 * that make_batch reads each field of the whole batch in one loop. Each
 * record slot is cleared once, when the batch is made, and then written
 * whole for every row it holds (see make_batch). */
struct pending {
	struct ing_batch b;                /* what the sink is given */
	size_t n;                          /* rows waiting: 0 .. max */
	size_t max;                        /* the batch goes on at this many */
	int64_t units;                     /* what each record counts for: 1, or its
	                                      order's lines (flush_orders) */
	size_t fail;                       /* deliver: the record it stopped at */
	size_t n_bad;                      /* make_batch: rows with a fault */
	int8_t bad[ING_BATCH];             /* make_batch: the step of each row's
	                                      first fault, -1: none */
	const char *raw[ING_BATCH];        /* each row's text, for rejects */
	size_t raw_n[ING_BATCH];
	struct span cell[CRM_MAX_FIELDS][ING_BATCH]; /* by step: each row's text */
	struct ent_record rec[ING_BATCH];  /* the records made, line set by queue_row */
};

/* A new batch of up to max (1 .. ING_BATCH) rows of entity, or NULL when
 * out of memory. The caller frees it. */
static struct pending *pending_new(int entity, size_t max)
{
	struct pending *pd = calloc(1, sizeof *pd);
	if (!pd)
		return NULL;
	pd->max = max;
	pd->units = 1;
	for (size_t k = 0; k < ING_BATCH; k++)
		pd->rec[k].entity = entity;
	return pd;
}

static int set_fault(struct fault *f, int reason, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int set_fault(struct fault *f, int reason, const char *field,
		     const char *fmt, ...)
{
	va_list ap;
	f->reason = reason;
	f->field = field;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof f->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------ rejects */

/* Creates the rejects file at the first reject. */
static int open_rejects(struct imp *im, struct crm_err *err)
{
	if (im->rejects)
		return CRM_OK;
	im->rejects = fopen(im->o->rejects_path, "w");
	if (!im->rejects)
		return crm_err_set(err, CRM_EIO, "%s: cannot write rejects: %s",
				   im->o->rejects_path, strerror(errno));
	fputs("line,reason,field,message,raw\n", im->rejects);
	snprintf(im->sum->rejects_path, sizeof im->sum->rejects_path, "%s",
		 im->o->rejects_path);
	return CRM_OK;
}

/* Rejects kept in memory past this size go to a temporary file. */
#define REJ_MEM_MAX ((size_t)1 << 24)

/* A rejects line kept by a thread past the first, in im->rej_mem (or its
 * spill): this, then the n bytes of the line after its line number. The
 * part's lines are numbered from 1 while it is read (the lines before it
 * are not counted yet): write_kept_rejects numbers them as the file's. */
struct kept_reject {
	long line;
	size_t n;
};

/* Keeps the rejects line in im->rej, without its line number, for later
 * (a thread past the first). */
static int keep_reject(struct imp *im, long line, struct crm_err *err)
{
	struct kept_reject k = { line, im->rej.len };
	if (buf_append(im->rej_mem, &k, sizeof k) != 0 ||
	    buf_append(im->rej_mem, im->rej.p, im->rej.len) != 0)
		return crm_err_set(err, CRM_ENOMEM, "out of memory keeping rejects");
	if (im->rej_mem->len < REJ_MEM_MAX)
		return CRM_OK;
	if (!im->rej_spill && !(im->rej_spill = tmpfile()))
		return crm_err_set(err, CRM_EIO, "cannot make a temporary file for rejects: %s",
				   strerror(errno));
	if (fwrite(im->rej_mem->p, 1, im->rej_mem->len, im->rej_spill) != im->rej_mem->len)
		return crm_err_set(err, CRM_EIO, "cannot write a temporary file for rejects");
	im->rej_mem->len = 0;
	return CRM_OK;
}

/* The reason in a reader's message on the malformed record at `line`,
 * "NAME:LINE: reason": the rejects file has the line in a column of its
 * own, and the reader of a part past the first counts its lines from 1.
 * The record's own line is looked for, so a name with digits between
 * colons is not taken for it. */
static const char *syntax_reason(const char *msg, long line)
{
	char at[32];
	snprintf(at, sizeof at, ":%ld: ", line);
	const char *p = strstr(msg, at);
	return p ? p + strlen(at) : msg;
}

/* Counts a rejected record of n_units (lines) and writes it to the rejects
 * file: line,reason,field,message,raw. */
static int reject(struct imp *im, long line, const struct fault *f,
		  const char *raw, size_t raw_n, int64_t n_units, struct crm_err *err)
{
	im->sum->rejected += n_units;
	im->sum->reasons[f->reason] += n_units;
	if (!im->o->rejects_path)
		return CRM_OK;
	int rc;
	if (!im->rej_mem && (rc = open_rejects(im, err)) != CRM_OK)
		return rc;
	im->rej.len = 0;
	if (!im->rej_mem)
		buf_printf(&im->rej, "%ld,", line);
	buf_printf(&im->rej, "%s,", ing_reason_name(f->reason));
	csv_put_field_buf(&im->rej, f->field ? f->field : "", f->field ? strlen(f->field) : 0);
	buf_putc(&im->rej, ',');
	csv_put_field_buf(&im->rej, f->msg, strlen(f->msg));
	buf_putc(&im->rej, ',');
	csv_put_field_buf(&im->rej, raw ? raw : "", raw ? raw_n : 0);
	buf_putc(&im->rej, '\n');
	if (im->rej_mem && im->rej.p)
		return keep_reject(im, line, err);
	if (!im->rej.p || fwrite(im->rej.p, 1, im->rej.len, im->rejects) != im->rej.len)
		return crm_err_set(err, CRM_EIO, "%s: cannot write rejects", im->o->rejects_path);
	return CRM_OK;
}

/* --------------------------------------------------------- field parsing */

static void trim_slow(const char **p, size_t *n)
{
	while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* Drops leading blanks and trailing blanks and CR. */
static inline void trim(const char **p, size_t *n)
{
	if (*n && ((unsigned char)(*p)[0] <= ' ' || (unsigned char)(*p)[*n - 1] <= ' '))
		trim_slow(p, n);
}

/* 1 if p[0..n) is not blank and has no blanks for trim to drop. */
static inline int unpadded(const char *p, size_t n)
{
	return n != 0 && (unsigned char)p[0] > ' ' && (unsigned char)p[n - 1] > ' ';
}

/* 1 if p[0..n) is ASCII: eight bytes at a time (the last word overlapping
 * the one before it); four-byte halves that may overlap for 4 to 7 bytes;
 * the first, middle and last byte for 1 to 3 (which are all of them). */
static inline int is_ascii(const char *p, size_t n)
{
	uint64_t any, w;
	if (n >= 8) {
		memcpy(&any, p + n - 8, 8);
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, p + i, 8);
			any |= w;
		}
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		any = a | b;
	} else {
		if (n == 0)
			return 1;
		any = (unsigned char)p[0] | (unsigned char)p[n / 2] | (unsigned char)p[n - 1];
	}
	return !(any & 0x8080808080808080ULL);
}

/* 1 if p[0..n) is valid UTF-8: ASCII by is_ascii, the rest by utf8proc. */
static int valid_utf8(const char *p, size_t n)
{
	if (is_ascii(p, n))
		return 1;
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p + i,
						      (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0 || cp < 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

static int lower_eq(const char *p, size_t n, const char *word)
{
	size_t k = strlen(word);
	if (k != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != word[i])
			return 0;
	}
	return 1;
}

/* Order status words of common exports onto the three statuses. */
static int status_code(const char *p, size_t n)
{
	static const char *const completed[] = { "completed", "complete", "paid", "shipped",
		"delivered", "fulfilled", "closed", "ok", NULL };
	static const char *const returned[] = { "returned", "return", "refunded", "refund", NULL };
	static const char *const cancelled[] = { "cancelled", "canceled", "void", "voided", NULL };
	for (int i = 0; completed[i]; i++)
		if (lower_eq(p, n, completed[i]))
			return CRM_STATUS_COMPLETED;
	for (int i = 0; returned[i]; i++)
		if (lower_eq(p, n, returned[i]))
			return CRM_STATUS_RETURNED;
	for (int i = 0; cancelled[i]; i++)
		if (lower_eq(p, n, cancelled[i]))
			return CRM_STATUS_CANCELLED;
	return 0;
}

/* 1 if a[0..n) equals b[0..n) (n > 0): up to 16 bytes as two words that
 * may overlap, longer ones by memcmp. */
static inline int same_text(const char *a, const char *b, size_t n)
{
	uint64_t x0, x1, y0, y1;
	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	memcpy(&x0, a, 8);
	memcpy(&y0, b, 8);
	memcpy(&x1, a + n - 8, 8);
	memcpy(&y1, b + n - 8, 8);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

/* Parses a time. Files in time order repeat the same text row after row
 * (one date for thousands of orders), so the last text parsed and its
 * value are kept and a repeat costs a comparison. */
static int parse_time(struct imp *im, const char *p, size_t n, int64_t *t,
		      const char **why)
{
	if (n > 0 && n == im->last_time_n && same_text(p, im->last_time, n)) {
		*t = im->last_time_value;
		return 0;
	}
	int rc = im->o->date_format ? ts_parse_fmt(im->o->date_format, p, n, t, why)
				    : ts_parse_iso(p, n, t, why);
	if (rc == 0 && n <= sizeof im->last_time) {
		memcpy(im->last_time, p, n);
		im->last_time_n = n;
		im->last_time_value = *t;
	}
	return rc;
}

/* Parses one field's text into v by its type; -1 with f set on a fault. */
static int parse_value(struct imp *im, const struct ent_field *fd, const char *p,
		       size_t n, struct ent_value *v, struct fault *f)
{
	int rc;
	const char *why;
	v->s = p;
	v->n = n;
	v->set = 1;
	switch (fd->type) {
	case FT_ID: case FT_REF: case FT_TEXT: case FT_CAT:
		if (!valid_utf8(p, n))
			return set_fault(f, R_BAD_UTF8, fd->name, "%s: not valid UTF-8", fd->name);
		return 0;
	case FT_ENUM:
		v->i = fd->values == NULL ? 0
			: (im->d == ent_get(CRM_ORDERS) ? status_code(p, n) : 0);
		if (!v->i)
			for (int k = 0; fd->values[k]; k++)
				if (lower_eq(p, n, fd->values[k]))
					v->i = k + 1;
		if (!v->i)
			return set_fault(f, R_BAD_VALUE, fd->name, "%s: '%.*s' is not one of the known values",
					 fd->name, (int)(n > 60 ? 60 : n), p);
		v->s = fd->values[v->i - 1];
		v->n = strlen(v->s);
		return 0;
	case FT_TIME: case FT_DATE:
		if (parse_time(im, p, n, &v->i, &why) != 0)
			return set_fault(f, R_BAD_DATE, fd->name, "%s: '%.*s': %s", fd->name,
					 (int)(n > 60 ? 60 : n), p, why);
		if (fd->type == FT_DATE)
			v->i = ts_day(v->i) * SECS_PER_DAY;
		return 0;
	case FT_MONEY: case FT_DECIMAL:
		rc = money_parse(p, n, im->o->decimal ? im->o->decimal : '.', &v->i);
		break;
	default: /* FT_INT, FT_SCORE */
		rc = int_parse(p, n, &v->i);
		break;
	}
	if (rc == -2)
		return set_fault(f, R_BAD_NUMBER, fd->name, "%s: '%.*s' is too large", fd->name,
				 (int)(n > 60 ? 60 : n), p);
	if (rc != 0)
		return set_fault(f, R_BAD_NUMBER, fd->name, "%s: '%.*s' is not %s", fd->name,
				 (int)(n > 60 ? 60 : n), p,
				 fd->type == FT_MONEY || fd->type == FT_DECIMAL ? "a decimal number"
										 : "a whole number");
	if (fd->hi >= fd->lo && (v->i < fd->lo || v->i > fd->hi)) {
		if (fd->type == FT_DECIMAL)
			return set_fault(f, R_OUT_OF_RANGE, fd->name, "%s: %.*s is below zero",
					 fd->name, (int)(n > 60 ? 60 : n), p);
		if (fd->hi == INT64_MAX)
			return set_fault(f, R_OUT_OF_RANGE, fd->name, "%s: %lld is below %lld",
					 fd->name, (long long)v->i, (long long)fd->lo);
		return set_fault(f, R_OUT_OF_RANGE, fd->name, "%s: %lld is off the scale %lld-%lld",
				 fd->name, (long long)v->i, (long long)fd->lo, (long long)fd->hi);
	}
	return 0;
}

/* Rules across fields of one record (METRICS.md, DESIGN.md validation). */
static int check_record(struct imp *im, struct ent_record *r, struct fault *f)
{
	const struct ent_value *v = r->v;
	switch (r->entity) {
	case CRM_TICKETS:
		if (v[CRM_T_FIRST_RESPONSE_AT].set && v[CRM_T_FIRST_RESPONSE_AT].i < v[CRM_T_OPENED_AT].i)
			return set_fault(f, R_TIME_ORDER, "first_response_at",
					 "first_response_at is before opened_at");
		if (v[CRM_T_RESOLVED_AT].set && v[CRM_T_RESOLVED_AT].i < v[CRM_T_OPENED_AT].i)
			return set_fault(f, R_TIME_ORDER, "resolved_at", "resolved_at is before opened_at");
		break;
	case CRM_LEADS:
		if (v[CRM_L_CONVERTED_AT].set && v[CRM_L_CONVERTED_AT].i < v[CRM_L_CREATED_AT].i)
			return set_fault(f, R_TIME_ORDER, "converted_at", "converted_at is before created_at");
		break;
	case CRM_FEEDBACK: {
		/* the scale is the kind's: NPS 0-10, CSAT 1-5, CES 1-7 (METRICS.md) */
		static const int64_t lo[] = { 0, 0, 1, 1 }, hi[] = { 0, 10, 5, 7 };
		int64_t k = v[CRM_F_KIND].i, s = v[CRM_F_SCORE].i;
		if (k >= 1 && k <= 3 && (s < lo[k] || s > hi[k]))
			return set_fault(f, R_OUT_OF_RANGE, "score", "score: %lld is off the %s scale %lld-%lld",
					 (long long)s, v[CRM_F_KIND].s, (long long)lo[k], (long long)hi[k]);
		break;
	}
	default:
		break;
	}
	(void)im;
	return 0;
}

/* What a field not set holds: what a cleared record holds. */
static const struct ent_value no_value;

/* A field read whose text is blank or absent: -1 with f set when the row
 * cannot go without it, else 0. */
static int blank_field(const struct imp *im, const struct step *s, struct fault *f)
{
	const struct ent_field *fd = s->fd;
	int i = s->field;
	/* order lines: fold_line judges amount and customer by its rules */
	int line_rule = im->line_level && (i == CRM_O_AMOUNT || i == CRM_O_CUSTOMER_ID);
	int needed = fd->required && !line_rule && !(i == im->d->id_field && im->synth_id);
	if (needed)
		return set_fault(f, R_MISSING, fd->name, "%s is required but empty", fd->name);
	return 0;
}

/* Plans how make_batch reads the rows of a file (csv: cells are a CSV
 * record's fields, found through the mapping; else they are by target, as
 * import_jsonl lays them out): a step for each field read that has a cell,
 * in field order, and where the order-line targets are.
 *
 * A field read that has no cell is left out: it could only be blank, and a
 * blank one is never a fault there, for check_required refuses a file
 * without a column for a required field unless it is an id to make up or
 * the amount of order lines, which fold_line judges. Those that are still
 * written after make_batch (a made-up id, the default currency) are
 * cleared per row; the others stay as pending_new cleared them. */
static void plan_rows(struct imp *im, int csv)
{
	const struct ent_desc *d = im->d;
	im->n_steps = 0;
	im->n_clear = 0;
	for (int t = 0; t < ING_N_TARGETS; t++)
		im->cell_of[t] = csv ? im->map.col_of[t] : t;
	for (size_t k = 0; k < im->n_fields_read; k++) {
		int i = im->fields_read[k];
		const struct ent_field *fd = &d->fields[i];
		if (im->cell_of[i] < 0) {
			if (i == d->id_field || (im->default_currency && i == CRM_O_CURRENCY))
				im->clear[im->n_clear++] = (uint8_t)i;
			continue;
		}
		struct step *s = &im->steps[im->n_steps++];
		s->fd = fd;
		s->cell = im->cell_of[i];
		im->cell_at[im->n_steps - 1] = (size_t)s->cell * sizeof(struct ing_field);
		s->field = (uint8_t)i;
		switch (fd->type) {
		case FT_ID: case FT_REF:
			s->kind = K_ID;
			break;
		case FT_TEXT: case FT_CAT:
			s->kind = K_TEXT;
			break;
		case FT_TIME:
			s->kind = K_TIME;
			break;
		case FT_DATE:
			s->kind = K_DATE;
			break;
		case FT_MONEY: case FT_DECIMAL:
			s->kind = fd->hi >= fd->lo ? K_GENERAL : K_MONEY;
			break;
		default:
			s->kind = K_GENERAL;
			break;
		}
	}
}

/* Reads the text p[0..n) of a field of a row into v, the general way:
 * trimmed, blank or parsed by parse_value. -1 with f set on a fault. It is
 * make_batch's slow path (slow_field), and gives the fault of a row again
 * for its reject (refault). */
static int read_field(struct imp *im, const struct step *s, const char *p, size_t n,
		      struct ent_value *v, struct fault *f)
{
	trim(&p, &n);
	*v = no_value;
	if (n == 0)
		return blank_field(im, s, f);
	return parse_value(im, s->fd, p, n, v, f);
}

/* make_batch's slow path for the field of step k of row j: read_field,
 * the one place that says what is valid and why not; a fault marks the
 * row, at its first faulty step (the message is made again for the reject,
 * see refault: read_field depends on nothing but the text). */
static __attribute__((noinline)) void slow_field(struct imp *im, struct pending *pd,
						 size_t k, size_t j)
{
	struct fault f;
	const struct step *s = &im->steps[k];
	const struct span *c = &pd->cell[k][j];
	struct ent_value *v = &pd->rec[j].v[s->field];
	if (read_field(im, s, c->p, c->n, v, &f) != 0) {
		if (pd->bad[j] < 0) {
			pd->bad[j] = (int8_t)k;
			pd->n_bad++;
		}
	} else if (s->kind == K_ID && v->set) {
		v->i = strmap_number(v->s, v->n);
	}
}

/* The fault of row j of pd, which make_batch marked. */
static void refault(struct imp *im, const struct pending *pd, size_t j, struct fault *f)
{
	struct ent_value v;
	size_t k = (size_t)pd->bad[j];
	const struct span *c = &pd->cell[k][j];
	(void)read_field(im, &im->steps[k], c->p, c->n, &v, f);
}

/* Fills the records of the rows waiting in pd from their cells (the plan
 * says which cell holds which field) and marks the rows with a fault (bad,
 * n_bad). Fields the sink does not need and that are not required are left
 * out unread.
 *
 * This is the import's hot path (a file of 10M orders spends most of its
 * time reading), hence its shape. What is the same for every row is decided
 * once per file by plan_rows, and the kind of each field once per batch: a
 * field is read down the whole batch in a loop of its own, which holds few
 * values and no dispatch (read row by row, the test of the kind and the
 * reloads of a loop that kept the whole plan live cost about 35
 * instructions a field; callgrind, bench/work/orders_1m.csv). A record is
 * not cleared per row: each field read is written whole, with its value or
 * zero when blank, so that the sink sees what a cleared record would hold.
 * The common good values are taken inline: an ASCII text, a time whose text
 * repeats (the last one parsed, see parse_time), a money amount, none of
 * them with blanks to trim. Every other value, and any the inline test is
 * not sure of, goes to slow_field. The fields of a row after its first
 * fault are still read (nothing but parse_time's cache notices), so that no
 * loop tests whether its row is still good. */
static void make_batch(struct imp *im, struct pending *pd)
{
	const size_t n = pd->n;
	struct ent_record *const rec = pd->rec;
	memset(pd->bad, -1, n);
	pd->n_bad = 0;
	for (size_t k = 0; k < im->n_clear; k++)
		for (size_t j = 0; j < n; j++)
			rec[j].v[im->clear[k]] = no_value;
	for (size_t k = 0; k < im->n_steps; k++) {
		const struct step *s = &im->steps[k];
		const struct span *cl = pd->cell[k];
		const size_t f = s->field;
		switch (s->kind) {
		case K_ID:
			/* a number is plain ASCII: one test for the usual id */
			for (size_t j = 0; j < n; j++) {
				const char *p = cl[j].p;
				size_t len = cl[j].n;
				int64_t x = strmap_number(p, len);
				if (x >= 0 || (unpadded(p, len) && is_ascii(p, len)))
					rec[j].v[f] = (struct ent_value){ .s = p, .n = len, .i = x, .set = 1 };
				else
					slow_field(im, pd, k, j);
			}
			break;
		case K_TEXT:
			for (size_t j = 0; j < n; j++) {
				const char *p = cl[j].p;
				size_t len = cl[j].n;
				if (unpadded(p, len) && is_ascii(p, len))
					rec[j].v[f] = (struct ent_value){ .s = p, .n = len, .i = 0, .set = 1 };
				else
					slow_field(im, pd, k, j);
			}
			break;
		case K_MONEY:
			for (size_t j = 0; j < n; j++) {
				const char *p = cl[j].p;
				size_t len = cl[j].n;
				struct ent_value *v = &rec[j].v[f];
				if (unpadded(p, len) && money_parse(p, len, im->decimal, &v->i) == 0) {
					v->s = p;
					v->n = len;
					v->set = 1;
				} else {
					slow_field(im, pd, k, j);
				}
			}
			break;
		case K_TIME: case K_DATE: {
			const int day = s->kind == K_DATE;
			for (size_t j = 0; j < n; j++) {
				const char *p = cl[j].p;
				size_t len = cl[j].n;
				/* the text of the last time parsed was trimmed, so one
				 * equal to it has nothing to trim (none parsed yet:
				 * last_time_n 0) */
				if (len != 0 && len == im->last_time_n && same_text(p, im->last_time, len)) {
					int64_t t = im->last_time_value;
					if (day)
						t = ts_day(t) * SECS_PER_DAY;
					rec[j].v[f] = (struct ent_value){ .s = p, .n = len, .i = t, .set = 1 };
				} else {
					slow_field(im, pd, k, j);
				}
			}
			break;
		}
		default:
			for (size_t j = 0; j < n; j++)
				slow_field(im, pd, k, j);
			break;
		}
	}
}

/* The rules a made record must pass that make_batch does not see: the
 * default currency, then the rules across fields; -1 with f set on a
 * fault. */
static int finish_record(struct imp *im, struct ent_record *rec, struct fault *f)
{
	if (im->default_currency && !im->line_level && !rec->v[CRM_O_CURRENCY].set) {
		rec->v[CRM_O_CURRENCY].s = im->o->currency;
		rec->v[CRM_O_CURRENCY].n = strlen(im->o->currency);
		rec->v[CRM_O_CURRENCY].set = 1;
	}
	return im->cross_rules ? check_record(im, rec, f) : 0;
}

/* Counts the occurrence of the key in im->key; returns its number (1, 2...). */
static int occurrence(struct imp *im, int64_t *k, struct crm_err *err)
{
	size_t ix;
	int added;
	if (strmap_put(&im->occurrences, im->key.p, im->key.len, 0, &ix, &added) != 0)
		return crm_err_set(err, CRM_ENOMEM, "out of memory counting keys");
	*k = ++im->occurrences.values[ix];
	return CRM_OK;
}

/* Gives a record without an id of its own a stable one made of its customer,
 * time and occurrence in the file ("00001@1997-01-01#1"), and web events
 * their occurrence number, so re-importing the same file doubles nothing. */
static int synthesize_key(struct imp *im, struct ent_record *rec, struct crm_err *err)
{
	const struct ent_desc *d = im->d;
	char ts[32];
	int64_t k;
	int rc;
	if (d->key_has_seq && !im->o->no_occurrences) {
		im->key.len = 0;
		for (const int *f = d->key; *f >= 0; f++) {
			const struct ent_value *v = &rec->v[*f];
			if (v->s && v->set)
				buf_append(&im->key, v->s, v->n);
			else if (v->set)
				buf_printf(&im->key, "%lld", (long long)v->i);
			buf_putc(&im->key, '\x1f');
		}
		if ((rc = occurrence(im, &k, err)) != CRM_OK)
			return rc;
		rec->seq = k;
	}
	if (!im->make_id || d->id_field < 0)
		return CRM_OK;
	im->key.len = 0;
	if (d->customer_field >= 0 && rec->v[d->customer_field].set)
		buf_append(&im->key, rec->v[d->customer_field].s, rec->v[d->customer_field].n);
	else
		buf_puts(&im->key, d->name);
	const struct ent_value *t = &rec->v[d->time_field];
	size_t tn = ts_format(t->i, t->i % SECS_PER_DAY == 0, ts);
	buf_putc(&im->key, '@');
	buf_append(&im->key, ts, tn);
	if ((rc = occurrence(im, &k, err)) != CRM_OK)
		return rc;
	if (buf_printf(&im->key, "#%lld", (long long)k) != 0)
		return crm_err_set(err, CRM_ENOMEM, "out of memory making an id");
	rec->v[d->id_field].s = im->key.p;
	rec->v[d->id_field].n = im->key.len;
	rec->v[d->id_field].i = strmap_number(im->key.p, im->key.len);   /* see ing_sink */
	rec->v[d->id_field].set = 1;
	im->sum->synthetic_ids++;
	return CRM_OK;
}

/* Counts an outcome of the sink other than ING_INSERTED over n_units, and
 * rejects the record when the outcome says so. */
static int count_outcome(struct imp *im, const struct ent_record *rec, int64_t n_units,
			 const char *raw, size_t raw_n, int outcome, struct crm_err *err)
{
	struct fault f;
	switch (outcome) {
	case ING_UPDATED: im->sum->updated += n_units; break;
	case ING_DUPLICATE: im->sum->duplicates += n_units; break;
	case ING_DUP_IN_FILE:
		set_fault(&f, R_DUP_IN_FILE, im->d->fields[im->d->key[0]].name,
			  "%s '%.*s' appeared earlier in this import", im->d->fields[im->d->key[0]].name,
			  (int)(rec->v[im->d->key[0]].n > 80 ? 80 : rec->v[im->d->key[0]].n),
			  rec->v[im->d->key[0]].s ? rec->v[im->d->key[0]].s : "");
		return reject(im, rec->line, &f, raw, raw_n, n_units, err);
	default: {
		int cf = im->d->customer_field;
		set_fault(&f, R_UNKNOWN_CUSTOMER, "customer_id", "customer_id '%.*s' is not a known customer (--strict)",
			  (int)(rec->v[cf].n > 80 ? 80 : rec->v[cf].n), rec->v[cf].s);
		return reject(im, rec->line, &f, raw, raw_n, n_units, err);
	}
	}
	return CRM_OK;
}

/* Gives records rec[from..to) of pd to the sink in one batch and counts
 * each one's outcome over pd->units, in file order, as a call per record
 * would: the counts and rejects stop at the first failure, and pd->fail is
 * then the record it stopped at. */
static int deliver(struct imp *im, struct pending *pd, size_t from, size_t to,
		   struct crm_err *err)
{
	struct ing_batch *b = &pd->b;
	size_t k = 0;
	if (from == to)
		return CRM_OK;
	b->rec = pd->rec + from;
	b->n = to - from;
	b->taken = 0;
	b->stubs = 0;
	int rc = im->sink->put(im->sink->ctx, b, err);
	im->sum->stubs += b->stubs;
	int64_t stored = 0;
	for (; k < b->taken; k++) {
		if (b->outcome[k] == ING_INSERTED) {
			stored++;
			continue;
		}
		int orc = count_outcome(im, &pd->rec[from + k], pd->units, pd->raw[from + k],
					pd->raw_n[from + k], b->outcome[k], err);
		if (orc != CRM_OK) {
			rc = orc;
			break;
		}
	}
	im->sum->stored += stored * pd->units;
	pd->fail = from + k;
	return rc;
}

/* ---------------------------------------------------------- order lines */

static int agg_text(struct imp *im, const struct ent_value *v, uint32_t *out,
		    struct crm_err *err)
{
	if (!v->set) {
		*out = 0;
		return CRM_OK;
	}
	size_t ix;
	int added;
	if (strmap_put(&im->agg_text_ix, v->s, v->n, 0, &ix, &added) != 0)
		return crm_err_set(err, CRM_ENOMEM, "out of memory folding order lines");
	*out = (uint32_t)ix + 1;  /* 0 means none */
	return CRM_OK;
}

static const char *agg_str(struct imp *im, uint32_t k, size_t *n)
{
	return strs_get(&im->agg_text_ix.keys, k - 1, n);
}

/* Folds one valid order line into its order. Line rules (documented in
 * docs/IMPORT.md): no customer -> rejected no_customer; unit price < 0 ->
 * rejected negative_price; a customer other than the order's -> rejected
 * order_conflict; quantity < 0 outside a cancellation, and price 0, are
 * kept and counted. */
static int fold_line(struct imp *im, const struct ing_field *cells, struct ent_record *rec,
		     const struct ing_row *row, struct crm_err *err)
{
	struct fault f;
	int64_t qty = 1, price = 0, amount;
	const char *p;
	size_t n;
	if (im->cell_of[ING_T_QUANTITY] >= 0) {
		p = cells[im->cell_of[ING_T_QUANTITY]].p;
		n = cells[im->cell_of[ING_T_QUANTITY]].n;
		trim(&p, &n);
		if (n && int_parse(p, n, &qty) != 0) {
			set_fault(&f, R_BAD_NUMBER, "quantity", "quantity: '%.*s' is not a whole number",
				  (int)(n > 60 ? 60 : n), p);
			return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
		}
	}
	int has_price = 0;
	if (im->cell_of[ING_T_UNIT_PRICE] >= 0) {
		p = cells[im->cell_of[ING_T_UNIT_PRICE]].p;
		n = cells[im->cell_of[ING_T_UNIT_PRICE]].n;
		trim(&p, &n);
		if (n && money_parse(p, n, im->o->decimal ? im->o->decimal : '.', &price) != 0) {
			set_fault(&f, R_BAD_NUMBER, "unit_price", "unit_price: '%.*s' is not a decimal number",
				  (int)(n > 60 ? 60 : n), p);
			return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
		}
		has_price = n > 0;
	}
	if (!rec->v[CRM_O_CUSTOMER_ID].set) {
		set_fault(&f, R_NO_CUSTOMER, "customer_id",
			  "order line without a customer (an anonymous sale cannot be attributed)");
		return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
	}
	if (has_price && price < 0) {
		set_fault(&f, R_NEGATIVE_PRICE, "unit_price",
			  "unit_price below zero: an accounting adjustment, not a sale");
		return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
	}
	if (rec->v[CRM_O_AMOUNT].set) {
		amount = rec->v[CRM_O_AMOUNT].i;
	} else if (has_price) {
		if (__builtin_mul_overflow(qty, price, &amount)) {
			set_fault(&f, R_BAD_NUMBER, "unit_price", "quantity x unit_price is too large");
			return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
		}
	} else {
		set_fault(&f, R_MISSING, "amount", "amount is required (or quantity and unit_price)");
		return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
	}
	const struct ent_value *id = &rec->v[CRM_O_ORDER_ID];
	const char *prefix = im->o->cancel_prefix ? im->o->cancel_prefix : "C";
	size_t pn = strlen(prefix);
	int cancel = pn > 0 && id->n >= pn && memcmp(id->s, prefix, pn) == 0;

	size_t ix;
	int added, rc;
	uint32_t cust;
	if ((rc = agg_text(im, &rec->v[CRM_O_CUSTOMER_ID], &cust, err)) != CRM_OK)
		return rc;
	if (strmap_put(&im->agg_ids, id->s, id->n, (uint32_t)im->n_aggs, &ix, &added) != 0)
		return crm_err_set(err, CRM_ENOMEM, "out of memory folding order lines");
	struct order_agg *a;
	if (added) {
		if (im->n_aggs == im->cap_aggs) {
			size_t cap = im->cap_aggs ? im->cap_aggs * 2 : 1024;
			struct order_agg *na = xreallocn(im->aggs, cap, sizeof *na);
			if (!na)
				return crm_err_set(err, CRM_ENOMEM, "out of memory folding order lines");
			im->aggs = na;
			im->cap_aggs = cap;
		}
		a = &im->aggs[im->n_aggs++];
		memset(a, 0, sizeof *a);
		a->customer = cust;
		a->at = rec->v[CRM_O_ORDERED_AT].i;
		a->cost = CRM_NA;
		a->cancel = cancel;
		a->status = rec->v[CRM_O_STATUS].set ? (int)rec->v[CRM_O_STATUS].i : 0;
		a->first_line = row->line;
		if ((rc = agg_text(im, &rec->v[CRM_O_CURRENCY], &a->currency, err)) != CRM_OK ||
		    (rc = agg_text(im, &rec->v[CRM_O_CHANNEL], &a->channel, err)) != CRM_OK ||
		    (rc = agg_text(im, &rec->v[CRM_O_CATEGORY], &a->category, err)) != CRM_OK)
			return rc;
	} else {
		a = &im->aggs[im->agg_ids.values[ix]];
		if (a->customer != cust) {
			size_t n0;
			const char *c0 = agg_str(im, a->customer, &n0);
			set_fault(&f, R_ORDER_CONFLICT, "customer_id",
				  "order '%.*s' belongs to customer '%.*s' on its first line",
				  (int)(id->n > 60 ? 60 : id->n), id->s, (int)(n0 > 60 ? 60 : n0), c0);
			return reject(im, row->line, &f, row->raw, row->raw_n, 1, err);
		}
		if (rec->v[CRM_O_ORDERED_AT].i < a->at)
			a->at = rec->v[CRM_O_ORDERED_AT].i;
	}
	if (__builtin_add_overflow(a->amount, amount, &a->amount) ||
	    __builtin_add_overflow(a->items, qty, &a->items))
		return crm_err_set(err, CRM_ERANGE, "%s:%ld: order total overflows",
				   im->sum->source, row->line);
	if (rec->v[CRM_O_COST].set)
		a->cost = (a->cost == CRM_NA ? 0 : a->cost) + rec->v[CRM_O_COST].i;
	a->n_lines++;
	if (cancel)
		im->sum->cancel_lines++;
	else if (qty < 0)
		im->sum->negative_qty_lines++;
	if (has_price && price == 0)
		im->sum->zero_price_lines++;
	return CRM_OK;
}

/* Hands the folded orders to the sink, in order of first appearance, one
 * at a time (each counts its own lines). */
static int flush_orders(struct imp *im, struct crm_err *err)
{
	struct pending *pd = pending_new(CRM_ORDERS, 1);
	int rc = CRM_OK;
	if (!pd)
		return crm_err_set(err, CRM_ENOMEM, "out of memory folding order lines");
	for (size_t k = 0; k < im->n_aggs; k++) {
		const struct order_agg *a = &im->aggs[k];
		struct ent_record *rec = &pd->rec[0];
		memset(rec, 0, sizeof *rec);
		rec->entity = CRM_ORDERS;
		rec->line = a->first_line;
		struct ent_value *v = rec->v;
		v[CRM_O_ORDER_ID].s = strs_get(&im->agg_ids.keys, k, &v[CRM_O_ORDER_ID].n);
		v[CRM_O_ORDER_ID].i = strmap_number(v[CRM_O_ORDER_ID].s, v[CRM_O_ORDER_ID].n);
		v[CRM_O_ORDER_ID].set = 1;
		v[CRM_O_CUSTOMER_ID].s = agg_str(im, a->customer, &v[CRM_O_CUSTOMER_ID].n);
		v[CRM_O_CUSTOMER_ID].i = strmap_number(v[CRM_O_CUSTOMER_ID].s,
						       v[CRM_O_CUSTOMER_ID].n);
		v[CRM_O_CUSTOMER_ID].set = 1;
		v[CRM_O_ORDERED_AT].i = a->at;
		v[CRM_O_ORDERED_AT].set = 1;
		v[CRM_O_AMOUNT].i = a->amount;
		v[CRM_O_AMOUNT].set = 1;
		v[CRM_O_ITEMS].i = a->items;
		v[CRM_O_ITEMS].set = 1;
		if (a->cost != CRM_NA) {
			v[CRM_O_COST].i = a->cost;
			v[CRM_O_COST].set = 1;
		}
		int status = a->status ? a->status
			: (a->cancel || a->amount < 0) ? CRM_STATUS_RETURNED : CRM_STATUS_COMPLETED;
		const struct ent_field *sf = &ent_get(CRM_ORDERS)->fields[CRM_O_STATUS];
		v[CRM_O_STATUS].i = status;
		v[CRM_O_STATUS].s = sf->values[status - 1];
		v[CRM_O_STATUS].n = strlen(sf->values[status - 1]);
		v[CRM_O_STATUS].set = 1;
		const uint32_t texts[3] = { a->currency, a->channel, a->category };
		const int fields[3] = { CRM_O_CURRENCY, CRM_O_CHANNEL, CRM_O_CATEGORY };
		for (int j = 0; j < 3; j++) {
			if (texts[j]) {
				v[fields[j]].s = agg_str(im, texts[j], &v[fields[j]].n);
				v[fields[j]].set = 1;
			}
		}
		if (!v[CRM_O_CURRENCY].set && im->o->currency) {
			v[CRM_O_CURRENCY].s = im->o->currency;
			v[CRM_O_CURRENCY].n = strlen(im->o->currency);
			v[CRM_O_CURRENCY].set = 1;
		}
		pd->units = a->n_lines;
		pd->raw[0] = NULL;
		pd->raw_n[0] = 0;
		if ((rc = deliver(im, pd, 0, 1, err)) != CRM_OK)
			break;
		im->sum->orders_made++;
		im->sum->orders_stored += pd->b.outcome[0] == ING_INSERTED;
	}
	free(pd);
	return rc;
}

/* ------------------------------------------------------------ one row */

/* Adds a row to the batch: the cells the plan reads, its line and text.
 * Forced inline into the row loops: it runs for every row. */
static inline __attribute__((always_inline)) void
queue_row(const struct imp *im, struct pending *pd, const struct ing_field *cells,
	  const struct ing_row *row)
{
	const size_t j = pd->n++;
	const char *const base = (const char *)cells;
	/* p and n of each cell the plan reads: a field's first 16 bytes, moved
	 * as one (struct span is ing_field's head; plan_rows made the offsets) */
	for (size_t k = 0; k < im->n_steps; k++)
		memcpy(&pd->cell[k][j], base + im->cell_at[k], sizeof(struct span));
	pd->rec[j].line = row->line;
	pd->raw[j] = row->raw;
	pd->raw_n[j] = row->raw_n;
}

/* Makes the records of the rows waiting in pd (make_batch) and hands each
 * on in line order: quarantined, folded into its order, or to the sink, a
 * run of good records at a time (the run before a reject goes first, so
 * that rejects stay in line order). cells and row are the last row's, read
 * only for order lines, which are made one at a time (pd->max 1). `after`
 * rows were read (and counted in sum->read) after the batch's: on a
 * failure, read is made to count the rows up to the one that failed, as
 * when records went one at a time. */
static int run_batch(struct imp *im, struct pending *pd, const struct ing_field *cells,
		     const struct ing_row *row, int64_t after, struct crm_err *err)
{
	const size_t n = pd->n;
	size_t from = 0;   /* rec[from..j) are good and not yet handed on */
	int rc = CRM_OK;
	if (n == 0)
		return CRM_OK;
	make_batch(im, pd);
	if (pd->n_bad == 0 && !(im->default_currency | im->cross_rules | im->line_level |
				im->seq_keys | im->make_id)) {
		/* the usual batch: every record to the sink at once */
		rc = deliver(im, pd, 0, n, err);
		goto done;
	}
	for (size_t j = 0; j < n; j++) {
		struct ent_record *rec = &pd->rec[j];
		struct fault f;
		int bad = pd->bad[j] >= 0;
		if (bad)
			refault(im, pd, j, &f);
		else
			bad = finish_record(im, rec, &f) != 0;
		if (bad || im->line_level) {
			if ((rc = deliver(im, pd, from, j, err)) != CRM_OK)
				goto done;
			from = j + 1;
			rc = bad ? reject(im, rec->line, &f, pd->raw[j], pd->raw_n[j], 1, err)
				 : fold_line(im, cells, rec, row, err);
			if (rc != CRM_OK) {
				pd->fail = j;
				goto done;
			}
			continue;
		}
		if (im->seq_keys || im->make_id) {
			struct crm_err kerr;
			int krc = synthesize_key(im, rec, &kerr);
			if (krc != CRM_OK) {
				/* the records before it go first, as they did */
				if ((rc = deliver(im, pd, from, j, err)) == CRM_OK) {
					*err = kerr;
					rc = krc;
					pd->fail = j;
				}
				goto done;
			}
			if (im->make_id) {
				/* its id is in im->key until the next one is made */
				if ((rc = deliver(im, pd, from, j + 1, err)) != CRM_OK)
					goto done;
				from = j + 1;
			}
		}
	}
	rc = deliver(im, pd, from, n, err);
done:
	pd->n = 0;
	if (rc != CRM_OK)
		im->sum->read -= (int64_t)(n - 1 - pd->fail) + after;
	return rc;
}

static void describe_mapping(struct imp *im, const struct ing_row *header)
{
	struct buf b;
	buf_init(&b);
	for (int t = 0; t < ING_N_TARGETS; t++) {
		int c = im->map.col_of[t];
		if (c < 0)
			continue;
		buf_printf(&b, "%s%s<-", b.len ? ", " : "", ing_target_name(im->map.entity, t));
		if (header && (size_t)c < header->n_fields)
			buf_append(&b, header->fields[c].p, header->fields[c].n);
		else
			buf_printf(&b, "#%d", c + 1);
	}
	if (header) {
		int first = 1;
		for (size_t c = 0; c < header->n_fields; c++) {
			int fed = 0;
			for (int t = 0; t < ING_N_TARGETS; t++)
				fed |= im->map.col_of[t] == (int)c;
			if (fed)
				continue;
			buf_puts(&b, first ? "; ignored: " : ", ");
			buf_append(&b, header->fields[c].p, header->fields[c].n);
			first = 0;
		}
	}
	if (im->make_id)
		buf_printf(&b, "; %s made from customer, time and occurrence",
			   im->d->fields[im->d->id_field].name);
	snprintf(im->sum->mapping, sizeof im->sum->mapping, "%s", b.p ? b.p : "");
	buf_fini(&b);
}

/* Checks that every required field has a column. */
static int check_required(struct imp *im, struct crm_err *err)
{
	const struct ent_desc *d = im->d;
	for (size_t i = 0; i < d->n_fields; i++) {
		if (!d->fields[i].required || im->map.col_of[i] >= 0)
			continue;
		if ((int)i == d->id_field && im->map.entity != CRM_CUSTOMERS) {
			im->synth_id = 1;
			im->make_id = (im->need >> i) & 1;
			continue;
		}
		if (im->d == ent_get(CRM_ORDERS) && (int)i == CRM_O_AMOUNT &&
		    im->map.col_of[ING_T_UNIT_PRICE] >= 0)
			continue;
		return crm_err_set(err, CRM_EINVAL,
			"%s: no column for the required field %s of %s (name a column with --map %s=COLUMN)",
			im->sum->source, d->fields[i].name, d->name, d->fields[i].name);
	}
	return CRM_OK;
}

/* The row loop of the CSV path, from where reader c stands to its end:
 * records of n_cols fields are mapped and processed, others rejected. The
 * one-thread path runs it on the whole file, the other on each part. Rows
 * are made and handed on ING_BATCH at a time (run_batch), order lines one
 * at a time; a row that is rejected here, one whose text the reader will
 * reuse (row.scratch) and the end of the part hand on the batch first. */
static int csv_rows(struct imp *im, struct ing_csv *c, size_t n_cols, struct crm_err *err)
{
	struct ing_row row;
	int rc = CRM_OK;
	struct pending *pd = pending_new(im->map.entity, im->line_level ? 1 : ING_BATCH);
	if (!pd)
		return crm_err_set(err, CRM_ENOMEM, "out of memory reading rows");
	plan_rows(im, 1);
	for (;;) {
		struct crm_err rerr;
		struct fault f;
		rc = ing_csv_next(c, &row, &rerr);
		if (rc != CRM_OK) {
			int brc = run_batch(im, pd, NULL, NULL, 0, err);
			if (brc != CRM_OK || rc == CRM_EOF) {
				rc = brc;
				break;
			}
			im->sum->read++;
			if (rc != CRM_EPARSE) {
				*err = rerr;
				break;
			}
			set_fault(&f, R_SYNTAX, NULL, "%s", syntax_reason(rerr.msg, row.line));
			if ((rc = reject(im, row.line, &f, row.raw, row.raw_n, 1, err)) != CRM_OK)
				break;
			continue;
		}
		im->sum->read++;
		if (row.n_fields != n_cols) {
			if ((rc = run_batch(im, pd, NULL, NULL, 1, err)) != CRM_OK)
				break;
			set_fault(&f, R_FIELD_COUNT, NULL, "%zu fields where the header has %zu",
				  row.n_fields, n_cols);
			if ((rc = reject(im, row.line, &f, row.raw, row.raw_n, 1, err)) != CRM_OK)
				break;
			continue;
		}
		/* the cells are the record's fields: cell_of is the mapping */
		queue_row(im, pd, row.fields, &row);
		if ((pd->n == pd->max || row.scratch) &&
		    (rc = run_batch(im, pd, row.fields, &row, 0, err)) != CRM_OK)
			break;
	}
	free(pd);
	return rc;
}

/* ------------------------------------------------- several threads */

#define MAX_PARTS 16

/* One part of a file read on a thread of its own: the records that start
 * in its bytes (the last may go on past them, ing_csv_limit). */
struct part {
	struct imp *im;             /* the state it runs with: the main one for the
	                               first part, own for the others */
	struct imp own;
	struct ing_summary sum;     /* own: the counts of this part */
	struct ing_sink sink;       /* own: the sink's part */
	struct buf rej_mem;         /* own: rejects in line order */
	const char *data;           /* the bytes of the part: whole lines, and all
	                               the input's bytes after them */
	size_t len;                 /* the part's bytes */
	size_t rest;                /* bytes from data to the input's end */
	long line0;                 /* the line its reader began at: the file's for
	                               the first part, 1 for the others */
	long base;                  /* the file's line of its line 0 (its reader's
	                               line + base is the file's), once gathered */
	struct ing_csv *reader;
	size_t n_cols;
	int rc;
	struct crm_err err;
};

static void *read_part(void *arg)
{
	struct part *pt = arg;
	pt->rc = csv_rows(pt->im, pt->reader, pt->n_cols, &pt->err);
	return NULL;
}

/* Runs fn on parts[0..k), part 0 on the calling thread. */
static void run_parts(void *(*fn)(void *), struct part *parts, size_t k)
{
	pthread_t th[MAX_PARTS];
	int started[MAX_PARTS] = { 0 };
	for (size_t j = 1; j < k; j++)
		started[j] = pthread_create(&th[j], NULL, fn, &parts[j]) == 0;
	fn(&parts[0]);
	for (size_t j = 1; j < k; j++) {
		if (started[j])
			pthread_join(th[j], NULL);
		else
			fn(&parts[j]);
	}
}

/* How many threads read the file (1: the one-thread path). */
static size_t n_threads(const struct imp *im, const char *path, size_t len)
{
	const struct ing_sink *s = im->sink;
	struct stat st;
	if (!s->fork || !s->join || !s->drop || strcmp(path, "-") == 0 || im->line_level ||
	    im->make_id || (im->d->key_has_seq && !im->o->no_occurrences) || im->o->threads == 1)
		return 1;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 1;
	long k = im->o->threads;
	if (k <= 0) {
		if (len < ING_PAR_MIN_BYTES)
			return 1;
		k = sysconf(_SC_NPROCESSORS_ONLN);
	}
	return k < 1 ? 1 : k > MAX_PARTS ? MAX_PARTS : (size_t)k;
}

/* The start of the line after the one holding data[i] (len if none). */
static size_t next_line(const char *data, size_t len, size_t i)
{
	const char *r = i < len ? memchr(data + i, '\n', len - i) : NULL;
	return r ? (size_t)(r - data) + 1 : len;
}

/* Writes the rejects line k (its text after the line number at text) kept
 * by a part whose line 1 is the file's line base + 1. */
static int write_kept(struct imp *im, const struct kept_reject *k, const char *text, long base,
		      struct crm_err *err)
{
	if (fprintf(im->rejects, "%ld,", k->line + base) < 0 ||
	    fwrite(text, 1, k->n, im->rejects) != k->n)
		return crm_err_set(err, CRM_EIO, "%s: cannot write rejects", im->o->rejects_path);
	return CRM_OK;
}

/* Copies the rejects a part kept into the rejects file, after the lines
 * of the parts before it, numbering their lines as the file's: the part's
 * line 1 is the file's line base + 1. */
static int write_kept_rejects(struct imp *im, struct part *pt, long base, struct crm_err *err)
{
	struct imp *own = &pt->own;
	struct kept_reject k;
	int rc = CRM_OK;
	if (!own->rej_spill && pt->rej_mem.len == 0)
		return CRM_OK;
	if ((rc = open_rejects(im, err)) != CRM_OK)
		return rc;
	if (own->rej_spill) {
		/* whole kept lines, as keep_reject moved them; im->rej is free */
		rewind(own->rej_spill);
		while (rc == CRM_OK && fread(&k, sizeof k, 1, own->rej_spill) == 1) {
			im->rej.len = 0;
			if (buf_reserve(&im->rej, k.n + 1) != 0)
				return crm_err_set(err, CRM_ENOMEM, "out of memory copying rejects");
			if (fread(im->rej.p, 1, k.n, own->rej_spill) != k.n)
				return crm_err_set(err, CRM_EIO,
						   "cannot read a temporary file of rejects");
			rc = write_kept(im, &k, im->rej.p, base, err);
		}
		if (rc == CRM_OK && ferror(own->rej_spill))
			return crm_err_set(err, CRM_EIO, "cannot read a temporary file of rejects");
	}
	for (size_t at = 0; rc == CRM_OK && at < pt->rej_mem.len; at += sizeof k + k.n) {
		memcpy(&k, pt->rej_mem.p + at, sizeof k);
		rc = write_kept(im, &k, pt->rej_mem.p + at + sizeof k, base, err);
	}
	return rc;
}

static void add_counts(struct ing_summary *to, const struct ing_summary *from)
{
	to->read += from->read;
	to->stored += from->stored;
	to->updated += from->updated;
	to->duplicates += from->duplicates;
	to->rejected += from->rejected;
	to->stubs += from->stubs;
	for (int r = 0; r < R_N; r++)
		to->reasons[r] += from->reasons[r];
}

/* Lets go the state of its own of part pt (past the first; fork_part),
 * its sink part unjoined. */
static void release_part(const struct imp *im, struct part *pt)
{
	if (!pt->im)
		return;
	if (pt->sink.ctx)
		im->sink->drop(pt->sink.ctx);
	pt->sink.ctx = NULL;
	if (pt->own.rej_spill)
		fclose(pt->own.rej_spill);
	pt->own.rej_spill = NULL;
	buf_fini(&pt->own.key);
	buf_fini(&pt->own.rej);
	buf_fini(&pt->rej_mem);
}

/* Gives part pt (past the first) a state of its own, empty: counts,
 * rejects kept in memory, a part of the sink (the maps of ids and order
 * lines are not used). A state it had is let go first. */
static int fork_part(struct imp *im, struct part *pt, struct crm_err *err)
{
	release_part(im, pt);
	memset(&pt->sum, 0, sizeof pt->sum);
	pt->own = *im;
	pt->own.sum = &pt->sum;
	pt->own.sink = &pt->sink;
	pt->own.rejects = NULL;
	pt->own.rej_mem = &pt->rej_mem;
	pt->own.rej_spill = NULL;
	memset(&pt->own.occurrences, 0, sizeof pt->own.occurrences);
	memset(&pt->own.agg_ids, 0, sizeof pt->own.agg_ids);
	memset(&pt->own.agg_text_ix, 0, sizeof pt->own.agg_text_ix);
	memset(&pt->own.json_keys, 0, sizeof pt->own.json_keys);
	pt->own.aggs = NULL;
	buf_init(&pt->own.key);
	buf_init(&pt->own.rej);
	buf_init(&pt->rej_mem);
	snprintf(pt->sum.source, sizeof pt->sum.source, "%s", im->sum->source);
	pt->im = &pt->own;
	pt->sink.ctx = NULL;
	pt->sink.put = im->sink->put;
	return im->sink->fork(im->sink->ctx, &pt->sink.ctx, err);
}

/* Opens the reader of part pt, its first line numbered `line`. */
static int open_part(struct part *pt, const char *path, const struct ing_csv_opts *copts,
		     int mapped, long line, struct crm_err *err)
{
	ing_csv_close(pt->reader);
	pt->reader = NULL;
	int rc = ing_csv_open_mem(pt->data, pt->rest, path, copts, &pt->reader, err);
	if (rc != CRM_OK)
		return rc;
	ing_csv_limit(pt->reader, pt->len);
	if (mapped)
		ing_csv_give_back(pt->reader);
	ing_csv_set_line(pt->reader, line);
	pt->line0 = line;
	return CRM_OK;
}

/* Reads the rest of the file of reader c (after its header) on k threads,
 * as csv_rows would on one: cut at line ends, every part read at once into
 * a part of the sink, then gathered in file order.
 *
 * A part past the first is read on two guesses, as the lines before it are
 * not read yet: that it starts at a record, and at line 1. The first holds
 * unless the part before it ended inside a quoted field that holds a line
 * end: then its last record went on past the cut (ing_csv_limit), and the
 * part is read again from where that record ended, on this thread, and its
 * sink part made anew (the same for an empty part, which that record went
 * past: it is read as nothing). The second is mended as the parts are
 * gathered: the rejects they kept are numbered as the file's lines then,
 * and a part that failed is read again with the file's lines before its
 * error is told, which names them. */
static int import_parallel(struct imp *im, const char *path, struct ing_csv *c,
			   size_t n_cols, size_t k, struct crm_err *err)
{
	size_t len, start = ing_csv_offset(c);
	const char *data = ing_csv_data(c, &len);
	struct part *parts = calloc(k, sizeof *parts);
	size_t cut[MAX_PARTS + 1];
	int rc = CRM_OK, mapped = ing_csv_mapped(c);
	struct ing_csv_opts copts = { ING_DELIM_CHAR, ing_csv_delim(c) };
	if (im->o->csv.mode == ING_DELIM_WS)
		copts.mode = ING_DELIM_WS;
	if (!parts)
		return crm_err_set(err, CRM_ENOMEM, "out of memory starting the import");

	/* cut at line ends (a part's reader skips no byte order mark) */
	cut[0] = start;
	for (size_t j = 1; j < k; j++) {
		size_t at = start + (len - start) / k * j;
		at = at < cut[j - 1] ? cut[j - 1] : at;
		cut[j] = at > start ? next_line(data, len, at - 1) : at;
	}
	cut[k] = len;
	im->sum->threads = (int)k;
	for (size_t j = 0; j < k && rc == CRM_OK; j++) {
		struct part *pt = &parts[j];
		pt->data = data + cut[j];
		pt->len = cut[j + 1] - cut[j];
		pt->rest = len - cut[j];
		pt->n_cols = n_cols;
		if (j == 0)
			pt->im = im;
		else
			rc = fork_part(im, pt, err);
		if (rc == CRM_OK)
			rc = open_part(pt, path, &copts, mapped, j == 0 ? ing_csv_line(c) : 1, err);
	}
	if (rc != CRM_OK)
		goto done;
	run_parts(read_part, parts, k);
	crm_trace("read parts");

	/* in file order: where each part truly starts (end: where the one
	 * before ended) and its first line; a part read on a wrong guess, or
	 * that failed, is read again from there */
	size_t end = cut[0];
	long line = parts[0].line0;
	size_t n_ok = 0;            /* parts [0, n_ok) read right and without error */
	for (size_t j = 0; j < k; j++) {
		struct part *pt = &parts[j];
		if (j > 0 && (end != cut[j] || pt->rc != CRM_OK)) {
			size_t to = end > cut[j + 1] ? end : cut[j + 1];
			pt->data = data + end;
			pt->len = to - end;
			pt->rest = len - end;
			if ((pt->rc = fork_part(im, pt, &pt->err)) == CRM_OK &&
			    (pt->rc = open_part(pt, path, &copts, mapped, line, &pt->err)) == CRM_OK)
				read_part(pt);
		}
		if (pt->rc != CRM_OK) {
			rc = pt->rc;
			*err = pt->err;
			break;
		}
		n_ok = j + 1;
		pt->base = line - pt->line0;
		end = (size_t)(pt->data - data) + ing_csv_offset(pt->reader);
		line = ing_csv_line(pt->reader) + pt->base;
	}

	/* the counts and the rejects gathered in file order */
	for (size_t j = 1; j < n_ok; j++) {
		int wrc = write_kept_rejects(im, &parts[j], parts[j].base, err);
		if (rc == CRM_OK)
			rc = wrc;
		add_counts(im->sum, &parts[j].sum);
	}
	if (rc == CRM_OK && im->sink->flush) {
		int64_t stubs = 0;
		rc = im->sink->flush(im->sink->ctx, &stubs, err);
		im->sum->stubs += stubs;
	}
	im->flushed = 1;
	for (size_t j = 1; j < k && rc == CRM_OK; j++) {
		int64_t stubs = 0;
		rc = im->sink->join(im->sink->ctx, parts[j].sink.ctx, &stubs, err);
		parts[j].sink.ctx = NULL;
		im->sum->stubs += stubs;
	}
done:
	for (size_t j = 0; j < k; j++) {
		ing_csv_close(parts[j].reader);
		if (j > 0)
			release_part(im, &parts[j]);
	}
	free(parts);
	return rc;
}

static int import_csv(struct imp *im, const char *path, struct crm_err *err)
{
	struct ing_csv *c = NULL;
	struct ing_row row, header;
	struct ing_field *hdr_fields = NULL;
	char *hdr_names = NULL;
	int rc = ing_csv_open(path, &im->o->csv, &c, err);
	if (rc != CRM_OK)
		return rc;
	im->sum->delim = ing_csv_delim(c);
	size_t n_cols = 0;
	if (!im->o->no_header) {
		rc = ing_csv_next(c, &header, err);
		if (rc == CRM_EOF) {
			rc = crm_err_set(err, CRM_EPARSE, "%s: empty file: no header line", im->sum->source);
			goto done;
		}
		if (rc != CRM_OK)
			goto done;
		/* keep the header's fields: the reader's are borrowed until the next row */
		n_cols = header.n_fields;
		hdr_fields = xmallocn(n_cols, sizeof *hdr_fields);
		hdr_names = malloc(header.raw_n + 1);
		if (!hdr_fields || !hdr_names) {
			rc = crm_err_set(err, CRM_ENOMEM, "out of memory reading the header");
			goto done;
		}
		size_t off = 0;
		for (size_t i = 0; i < n_cols; i++) {
			memcpy(hdr_names + off, header.fields[i].p, header.fields[i].n);
			hdr_fields[i].p = hdr_names + off;
			hdr_fields[i].n = header.fields[i].n;
			hdr_fields[i].missing = 0;
			off += header.fields[i].n;
		}
		header.fields = hdr_fields;
		rc = ing_map_build(&im->map, im->map.entity, &header, n_cols, im->o->maps,
				   im->o->n_maps, err);
	} else {
		/* the first record tells the column count; read it, then re-open */
		rc = ing_csv_next(c, &row, err);
		if (rc == CRM_EOF) {
			rc = CRM_OK;
			goto done;
		}
		n_cols = rc == CRM_OK ? row.n_fields : 0;
		ing_csv_close(c);
		c = NULL;
		if ((rc = ing_csv_open(path, &im->o->csv, &c, err)) != CRM_OK)
			goto done;
		rc = ing_map_build(&im->map, im->map.entity, NULL, n_cols, im->o->maps,
				   im->o->n_maps, err);
	}
	if (rc != CRM_OK)
		goto done;
	im->line_level = im->d == ent_get(CRM_ORDERS) &&
		(im->map.col_of[ING_T_UNIT_PRICE] >= 0 || im->o->lines);
	im->sum->line_level = im->line_level;
	if ((rc = check_required(im, err)) != CRM_OK)
		goto done;
	describe_mapping(im, im->o->no_header ? NULL : &header);
	size_t len;
	(void)ing_csv_data(c, &len);
	size_t k = n_threads(im, path, len);
	rc = k > 1 ? import_parallel(im, path, c, n_cols, k, err) : csv_rows(im, c, n_cols, err);
done:
	free(hdr_names);
	free(hdr_fields);
	ing_csv_close(c);
	return rc;
}

static int import_jsonl(struct imp *im, const char *path, struct crm_err *err)
{
	struct ing_jsonl *j = NULL;
	struct ing_row row;
	struct ing_field cells[ING_N_TARGETS]; /* by target; missing: no key gave it */
	struct pending *pd = NULL;   /* one record at a time: the texts are the reader's */
	int rc = ing_map_check_specs(im->map.entity, im->o->maps, im->o->n_maps, err);
	if (rc != CRM_OK)
		return rc;
	if ((rc = ing_jsonl_open(path, &j, err)) != CRM_OK)
		return rc;
	if (!(pd = pending_new(im->map.entity, 1))) {
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory reading rows");
		goto done;
	}
	/* the columns are the keys: the mapping is decided key by key */
	for (int t = 0; t < ING_N_TARGETS; t++)
		im->map.col_of[t] = -1;
	plan_rows(im, 0);
	for (;;) {
		struct crm_err rerr;
		rc = ing_jsonl_next(j, &row, &rerr);
		if (rc == CRM_EOF) {
			rc = CRM_OK;
			break;
		}
		im->sum->read++;
		if (rc == CRM_EPARSE) {
			struct fault f;
			set_fault(&f, R_SYNTAX, NULL, "%s", syntax_reason(rerr.msg, row.line));
			if ((rc = reject(im, row.line, &f, row.raw, row.raw_n, 1, err)) != CRM_OK)
				break;
			continue;
		}
		if (rc != CRM_OK) {
			*err = rerr;
			break;
		}
		for (int t = 0; t < ING_N_TARGETS; t++)
			cells[t] = (struct ing_field){ .p = "", .n = 0, .missing = 1 };
		for (size_t i = 0; i < row.n_fields; i++) {
			const struct ing_field *k = &row.names[i];
			size_t ix;
			int added;
			if (strmap_put(&im->json_keys, k->p, k->n, 0, &ix, &added) != 0) {
				rc = crm_err_set(err, CRM_ENOMEM, "out of memory mapping keys");
				goto done;
			}
			if (added) {
				int t = ing_map_key(im->map.entity, im->o->maps, im->o->n_maps, k->p, k->n);
				im->json_keys.values[ix] = (uint32_t)(t + 1);
				if (t >= 0 && im->map.col_of[t] < 0)
					im->map.col_of[t] = (int)ix;
			}
			int t = (int)im->json_keys.values[ix] - 1;
			if (t < 0 || !cells[t].missing || row.fields[i].missing)
				continue;
			cells[t] = row.fields[i];
		}
		im->line_level = im->d == ent_get(CRM_ORDERS) &&
			(im->map.col_of[ING_T_UNIT_PRICE] >= 0 || im->o->lines);
		im->synth_id = im->d->id_field >= 0 && im->d != ent_get(CRM_CUSTOMERS) &&
			im->map.col_of[im->d->id_field] < 0;
		im->make_id = im->synth_id && ((im->need >> im->d->id_field) & 1);
		queue_row(im, pd, cells, &row);
		if ((rc = run_batch(im, pd, cells, &row, 0, err)) != CRM_OK)
			break;
	}
	im->sum->line_level = im->line_level;
	/* describe the keys as the mapping */
	{
		struct buf b;
		buf_init(&b);
		for (size_t k = 0; k < im->json_keys.n; k++) {
			size_t n;
			const char *key = strs_get(&im->json_keys.keys, k, &n);
			int t = (int)im->json_keys.values[k] - 1;
			if (t >= 0)
				buf_printf(&b, "%s%s<-%.*s", b.len ? ", " : "",
					   ing_target_name(im->map.entity, t), (int)n, key);
		}
		snprintf(im->sum->mapping, sizeof im->sum->mapping, "%s", b.p ? b.p : "");
		buf_fini(&b);
	}
done:
	free(pd);
	ing_jsonl_close(j);
	return rc;
}

static int is_jsonl_name(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0 ||
		       strcmp(dot, ".json") == 0);
}

int ing_import(const char *path, const struct ing_opts *opts,
	       const struct ing_sink *sink, struct ing_summary *sum,
	       struct crm_err *err)
{
	struct imp im;
	int rc;
	memset(&im, 0, sizeof im);
	memset(sum, 0, sizeof *sum);
	snprintf(sum->source, sizeof sum->source, "%s", strcmp(path, "-") == 0 ? "stdin" : path);
	sum->threads = 1;
	im.o = opts;
	im.d = ent_get(opts->entity);
	im.sink = sink;
	im.sum = sum;
	im.map.entity = opts->entity;
	if (!im.d)
		return crm_err_set(err, CRM_EINVAL, "unknown entity %d", opts->entity);
	/* what to read: the fields the sink needs (and always its customer),
	 * and the required ones, which are checked whether needed or not */
	uint32_t all = (uint32_t)((1ULL << im.d->n_fields) - 1);
	im.need = opts->fields ? opts->fields & all : all;
	if (im.d->customer_field >= 0)
		im.need |= ING_FIELD(im.d->customer_field);
	im.want = im.need;
	for (size_t i = 0; i < im.d->n_fields; i++)
		if (im.d->fields[i].required)
			im.want |= ING_FIELD(i);
	for (size_t i = 0; i < im.d->n_fields; i++)
		if ((im.want >> i) & 1)
			im.fields_read[im.n_fields_read++] = (uint8_t)i;
	im.decimal = opts->decimal ? opts->decimal : '.';
	im.default_currency = opts->currency && opts->entity == CRM_ORDERS &&
		(im.need & ING_FIELD(CRM_O_CURRENCY));
	im.seq_keys = im.d->key_has_seq && !opts->no_occurrences;
	im.cross_rules = opts->entity == CRM_TICKETS || opts->entity == CRM_LEADS ||
		opts->entity == CRM_FEEDBACK;
	if (opts->date_format && ts_check_fmt(opts->date_format) != 0)
		return crm_err_set(err, CRM_EINVAL, "--date-format '%s': unknown directive",
				   opts->date_format);
	buf_init(&im.key);
	buf_init(&im.rej);
	if (strmap_init(&im.occurrences, 1024) != 0 || strmap_init(&im.agg_ids, 1024) != 0 ||
	    strmap_init(&im.agg_text_ix, 1024) != 0 || strmap_init(&im.json_keys, 64) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory starting the import");
		goto done;
	}
	int fmt = opts->format;
	if (fmt == ING_FMT_AUTO)
		fmt = is_jsonl_name(path) ? ING_FMT_JSONL : ING_FMT_CSV;
	sum->format = fmt;
	rc = fmt == ING_FMT_JSONL ? import_jsonl(&im, path, err) : import_csv(&im, path, err);
	if (rc == CRM_OK && im.line_level)
		rc = flush_orders(&im, err);
	if (rc == CRM_OK && !im.flushed && sink->flush) {
		int64_t stubs = 0;
		rc = sink->flush(sink->ctx, &stubs, err);
		sum->stubs += stubs;
	}
done:
	if (im.rejects && fclose(im.rejects) != 0 && rc == CRM_OK)
		rc = crm_err_set(err, CRM_EIO, "%s: cannot write rejects", opts->rejects_path);
	strmap_fini(&im.occurrences);
	strmap_fini(&im.agg_ids);
	strmap_fini(&im.agg_text_ix);
	strmap_fini(&im.json_keys);
	free(im.aggs);
	buf_fini(&im.key);
	buf_fini(&im.rej);
	return rc;
}
