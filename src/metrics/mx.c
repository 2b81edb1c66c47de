/* mx.c - what every metric family shares (metrics layer): the options of
 * METRICS.md and their defaults, resolving them against a dataset into a
 * context, which orders count, the order kinds, calendar months, the
 * quantiles and medians every family reports, and small helpers of their
 * passes and reports. */
#include "metrics/mx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/tstamp.h"
#include "report/doc.h"

void mx_opts_default(struct mx_opts *o)
{
	memset(o, 0, sizeof *o);
	o->as_of = CRM_NA;
	o->p_start = CRM_NA;
	o->p_end = CRM_NA;
	o->churn_window_days = 365;
	o->no_second_days = 90;
	o->new_days = 90;
	o->growing_days = 365;
	o->at_risk_factor = 2.0;
	o->at_risk_one_order_days = 180;
	o->spend_bands = 5;
	o->sla_hours = 24.0;
	o->cost_per_minute = 0;
	o->cost_per_ticket = 0;
	o->session_timeout_s = 1800;
	o->bounce = MX_BOUNCE_MATOMO;
	o->cohort = MX_COHORT_CLASSIC;
	o->activity_window_days = 90;
	o->lexicon_dir = NULL;
	o->language = "en";
}

/* t moved back by twelve calendar months, same time of day; a day past the
 * end of the earlier month (29 February) becomes its last day. */
int64_t mx_year_before(int64_t t)
{
	int64_t day = ts_day(t), secs = t - day * SECS_PER_DAY, y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	y -= 1;
	if ((int)d > ts_days_in_month(y, m))
		d = (unsigned)ts_days_in_month(y, m);
	return days_from_civil(y, m, d) * SECS_PER_DAY + secs;
}

/* The times the options may hold: far enough from the int64 ends that
 * adding a second or a year of seconds cannot overflow. */
#define MX_T_MAX ((int64_t)1 << 50)

static int check_time(const char *what, int64_t t, struct crm_err *err)
{
	if (t != CRM_NA && (t > MX_T_MAX || t < -MX_T_MAX))
		return crm_err_set(err, CRM_EINVAL, "options: %s: time %lld is out of range",
				   what, (long long)t);
	return CRM_OK;
}

int mx_ctx_init(struct mx_ctx *ctx, const struct crm_dataset *ds,
		const struct mx_opts *o, struct crm_err *err)
{
	int rc;
	memset(ctx, 0, sizeof *ctx);
	ctx->ds = ds;
	ctx->o = *o;
	if ((rc = check_time("as-of", o->as_of, err)) != CRM_OK ||
	    (rc = check_time("period start", o->p_start, err)) != CRM_OK ||
	    (rc = check_time("period end", o->p_end, err)) != CRM_OK)
		return rc;
	if (ctx->o.as_of == CRM_NA) {
		if (!ds || ds->last_at == CRM_NA)
			return crm_err_set(err, CRM_EINVAL,
					   "options: as-of: the dataset holds no event; give an as-of date");
		ctx->o.as_of = ds->last_at;
		if ((rc = check_time("as-of (the last event)", ctx->o.as_of, err)) != CRM_OK)
			return rc;
	}
	/* P defaults to the 12 calendar months before A: [A + 1 s - 12 months, A + 1 s) */
	if (ctx->o.p_end == CRM_NA)
		ctx->o.p_end = ctx->o.as_of + 1;
	if (ctx->o.p_start == CRM_NA)
		ctx->o.p_start = mx_year_before(ctx->o.p_end);
	if (ctx->o.p_end <= ctx->o.p_start)
		return crm_err_set(err, CRM_EINVAL,
				   "options: period: it ends (%lld) before it starts (%lld)",
				   (long long)ctx->o.p_end, (long long)ctx->o.p_start);
	if (ctx->o.churn_window_days < 1 || ctx->o.no_second_days < 0 ||
	    ctx->o.new_days < 0 || ctx->o.growing_days < 0 || ctx->o.at_risk_one_order_days < 0 ||
	    ctx->o.activity_window_days < 0)
		return crm_err_set(err, CRM_EINVAL,
				   "options: a number of days is negative (or the churn window below 1)");
	if (!(ctx->o.at_risk_factor > 0) || ctx->o.spend_bands < 1 || ctx->o.spend_bands > 100 ||
	    !(ctx->o.sla_hours > 0) || ctx->o.session_timeout_s < 1 ||
	    ctx->o.cost_per_minute < 0 || ctx->o.cost_per_ticket < 0)
		return crm_err_set(err, CRM_EINVAL,
				   "options: at-risk factor, SLA hours and session timeout must be "
				   "positive, spend bands 1..100, costs not negative");
	if (ctx->o.bounce < MX_BOUNCE_MATOMO || ctx->o.bounce > MX_BOUNCE_POSTHOG)
		return crm_err_set(err, CRM_EINVAL, "options: bounce: unknown definition %d",
				   ctx->o.bounce);
	if (ctx->o.cohort < MX_COHORT_CLASSIC || ctx->o.cohort > MX_COHORT_UNBOUNDED)
		return crm_err_set(err, CRM_EINVAL, "options: cohort: unknown definition %d",
				   ctx->o.cohort);
	if (!ctx->o.language)
		ctx->o.language = "en";
	return CRM_OK;
}

const char *mx_code_name(const struct crm_column *col, uint32_t code, const char *none)
{
	if (code == 0 || col->kind != CRM_COL_CAT || code >= col->dict.n)
		return none;
	return strs_get(&col->dict, code, NULL);
}

static void put_time(char *out, int64_t t, int day_dates)
{
	ts_format(t, day_dates && t % SECS_PER_DAY == 0, out);
}

void mx_param_period(struct rp_section *sec, int64_t as_of, int64_t p_start, int64_t p_end,
		     int day_dates, const char *note)
{
	char a[32], b[32], line[160];
	put_time(a, as_of, day_dates);
	rp_param(sec, "as-of", a);
	put_time(a, p_start, day_dates);
	put_time(b, p_end, day_dates);
	snprintf(line, sizeof line, "[%s, %s)%s", a, b, note ? note : "");
	rp_param(sec, "period", line);
}

int mx_order_counts(const struct mx_ctx *ctx, size_t r)
{
	const struct crm_table *t = &ctx->ds->t[CRM_ORDERS];
	if (ctx->in && !mx_counts(ctx, t->customer[r]))
		return 0;
	if (ctx->order_channel) {
		const struct crm_column *ch = &t->col[CRM_O_CHANNEL];
		if (ch->kind != CRM_COL_CAT || !ch->cat || ch->cat[r] != ctx->order_channel)
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- calendar */

int64_t mx_month_of(int64_t t)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(ts_day(t), &y, &m, &d);
	return (y - 1970) * 12 + (int64_t)m - 1;
}

int64_t mx_month_start(int64_t month)
{
	/* floor division, for months before 1970 */
	int64_t y = month >= 0 ? month / 12 : -((-month + 11) / 12);
	unsigned m = (unsigned)(month - y * 12) + 1;
	return days_from_civil(1970 + y, m, 1) * SECS_PER_DAY;
}

void mx_month_label(int64_t month, char out[8])
{
	int64_t y = month >= 0 ? month / 12 : -((-month + 11) / 12);
	int m = (int)(month - y * 12) + 1;
	y += 1970;
	if (y < 0 || y > 9999) {
		memcpy(out, "?", 2);
		return;
	}
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '\0';
}

/* -------------------------------------------------------------- quantiles */

/* A double's bits as an unsigned key in the order of the numbers: negative
 * numbers have all bits flipped, the others only the sign bit. Every NaN
 * becomes the largest key, so NaNs sort last. */
static uint64_t key_of(double v)
{
	uint64_t u;
	if (isnan(v))
		return UINT64_MAX;
	memcpy(&u, &v, sizeof u);
	return (u & ((uint64_t)1 << 63)) ? ~u : u | ((uint64_t)1 << 63);
}

static double value_of(uint64_t k)
{
	uint64_t u = (k & ((uint64_t)1 << 63)) ? k & ~((uint64_t)1 << 63) : ~k;
	double v;
	if (k == UINT64_MAX)
		return NAN;
	memcpy(&v, &u, sizeof v);
	return v;
}

static void insertion_sort(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		uint64_t kx = key_of(x);
		size_t j = i;
		while (j > 0 && key_of(v[j - 1]) > kx) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = key_of(*(const double *)a), y = key_of(*(const double *)b);
	return (x > y) - (x < y);
}

/* Sorts v by key_of: an LSD radix sort on 16-bit digits (four passes over
 * the keys, skipping a pass whose digit is the same everywhere) when it can
 * get the scratch memory, else qsort. Radix because the families sort
 * arrays of a value per customer (1.5 million on the benchmark), where it
 * is several times faster than comparison sorting. */
static void sort_doubles(double *v, size_t n)
{
	if (n < 64) {
		insertion_sort(v, n);
		return;
	}
	uint64_t *a = xmallocn(n, sizeof *a), *b = xmallocn(n, sizeof *b);
	size_t *count = xmallocn(4 * 65536, sizeof *count);
	if (!a || !b || !count) {
		free(a);
		free(b);
		free(count);
		qsort(v, n, sizeof *v, cmp_key);
		return;
	}
	memset(count, 0, 4 * 65536 * sizeof *count);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = key_of(v[i]);
		a[i] = k;
		for (int p = 0; p < 4; p++)
			count[(size_t)p * 65536 + ((k >> (16 * p)) & 0xffff)]++;
	}
	for (int p = 0; p < 4; p++) {
		size_t *c = count + (size_t)p * 65536;
		if (c[(a[0] >> (16 * p)) & 0xffff] == n)
			continue; /* one digit value everywhere: the pass changes nothing */
		size_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t x = c[d];
			c[d] = sum;
			sum += x;
		}
		for (size_t i = 0; i < n; i++)
			b[c[(a[i] >> (16 * p)) & 0xffff]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = value_of(a[i]);
	free(a);
	free(b);
	free(count);
}

double mx_quantile(double *v, size_t n, double p)
{
	if (n == 0 || isnan(p))
		return NAN;
	sort_doubles(v, n);
	return mx_quantile_sorted(v, n, p);
}

double mx_quantile_sorted(const double *v, size_t n, double p)
{
	if (n == 0 || isnan(p))
		return NAN;
	if (p < 0)
		p = 0;
	if (p > 1)
		p = 1;
	/* Hyndman & Fan (1996) type 7: h = (n - 1) p, interpolate between the
	 * order statistics floor(h) and floor(h) + 1 (0-based) */
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	if (lo >= n - 1)
		return v[n - 1];
	double frac = h - (double)lo;
	if (frac == 0)
		return v[lo];
	return v[lo] + frac * (v[lo + 1] - v[lo]);
}

double mx_mean(const double *v, size_t n)
{
	if (n == 0)
		return NAN;
	/* Neumaier's compensated sum: means of a million values stay exact
	 * to the last digits whatever their order */
	double s = 0, c = 0;
	for (size_t i = 0; i < n; i++) {
		double t = s + v[i];
		if (fabs(s) >= fabs(v[i]))
			c += (s - t) + v[i];
		else
			c += (v[i] - t) + s;
		s = t;
	}
	return (s + c) / (double)n;
}

/* -------------------------------------------------------------- selection */

static inline void swap_d(double *v, ptrdiff_t i, ptrdiff_t j)
{
	double x = v[i];
	v[i] = v[j];
	v[j] = x;
}

/* Moves the k-th smallest of v[0..n) (0-based, k < n) to v[k], smaller or
 * equal values before it and larger or equal after (Hoare's FIND with
 * median-of-3 pivots), and returns it. */
static double select_kth(double *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	while (lo < hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap_d(v, lo, mid);
		if (v[hi] < v[lo])
			swap_d(v, lo, hi);
		if (v[hi] < v[mid])
			swap_d(v, mid, hi);
		double pivot = v[mid];
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
				swap_d(v, i++, j--);
		}
		/* now v[lo..j] <= pivot <= v[i..hi], and v[j+1..i-1] == pivot */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

double mx_select_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	double upper = select_kth(v, n, n / 2);
	if (n % 2)
		return upper;
	double lower = v[0];   /* the largest of v[0 .. n/2), all <= upper */
	for (size_t i = 1; i < n / 2; i++)
		if (v[i] > lower)
			lower = v[i];
	return (lower + upper) / 2;
}

static inline void swap_i64(int64_t *v, size_t i, size_t j)
{
	int64_t t = v[i];
	v[i] = v[j];
	v[j] = t;
}

/* As select_kth, with an insertion sort for ranges under 16 values: it
 * runs once per customer on their few gaps between orders. */
int64_t mx_select_i64(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (hi > lo) {
		if (hi - lo < 16) {
			for (size_t i = lo + 1; i <= hi; i++)
				for (size_t j = i; j > lo && v[j - 1] > v[j]; j--)
					swap_i64(v, j - 1, j);
			break;
		}
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		if (v[mid] < v[lo])
			swap_i64(v, lo, mid);
		if (v[hi] < v[lo])
			swap_i64(v, lo, hi);
		if (v[hi] < v[mid])
			swap_i64(v, mid, hi);
		int64_t pivot = v[mid];
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_i64(v, i, j);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		/* v[lo..j] <= pivot, v[i..hi] >= pivot, between them == pivot */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

double mx_select_median_i64(int64_t *v, size_t n)
{
	if (n == 0)
		return NAN;
	int64_t upper = mx_select_i64(v, n, n / 2);
	if (n % 2)
		return (double)upper;
	int64_t lower = v[0];  /* the largest of v[0 .. n/2), all <= upper */
	for (size_t i = 1; i < n / 2; i++)
		if (v[i] > lower)
			lower = v[i];
	return ((double)lower + (double)upper) / 2;
}
