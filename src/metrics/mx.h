/* mx.h - what every metric family shares (metrics layer).
 *
 * A metric family (purchases.c, retention.c, ...) computes from the
 * in-memory dataset (crmscope.h) into its own result struct, which its tests
 * check, and emits that struct into a report document (report/doc.h). Every
 * family takes the same context: the dataset, the resolved options of
 * METRICS.md (as-of date A, period P, window W ...), and which customers
 * and order channel to count, so that the report can break any metric down
 * by a customer attribute or order channel without the family knowing.
 *
 * Times are the dataset's (s since epoch, UTC). An event counts "at A" when
 * its time is <= as_of, and "in P" when p_start <= time < p_end. */
#ifndef METRICS_MX_H
#define METRICS_MX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"

enum mx_bounce { MX_BOUNCE_MATOMO = 0, MX_BOUNCE_GA4, MX_BOUNCE_POSTHOG };
enum mx_cohort { MX_COHORT_CLASSIC = 0, MX_COHORT_UNBOUNDED };

struct mx_opts {
	int64_t as_of;              /* A; CRM_NA: the dataset's last_at */
	int64_t p_start, p_end;     /* P = [p_start, p_end); CRM_NA: the 12 months
	                               before A (p_end = A + 1 s) */
	int churn_window_days;      /* W: 365 */
	int no_second_days;         /* "no second order" age: 90 */
	int new_days;               /* lifecycle "new": 90 */
	int growing_days;           /* lifecycle "growing" / "mature" split: 365 */
	double at_risk_factor;      /* lifecycle at risk: 2 x own median gap */
	int at_risk_one_order_days; /* ... or 180 days for one-order customers */
	int spend_bands;            /* quantile bands of net revenue: 5 */
	double sla_hours;           /* first-response target: 24 */
	int64_t cost_per_minute;    /* service cost per handling minute, money; 0 none */
	int64_t cost_per_ticket;    /* service cost per ticket, money; 0 none */
	int session_timeout_s;      /* web sessions without session_id: 1800 */
	int bounce;                 /* enum mx_bounce: matomo */
	int cohort;                 /* enum mx_cohort: classic */
	int activity_window_days;   /* loyalty uplift window: 90 */
	const char *lexicon_dir;    /* sentiment lexicons (data/lexicon); NULL: built in path */
	const char *language;       /* lexicon language: "en" */
};

/* Fills o with the defaults above (as_of and period CRM_NA). */
void mx_opts_default(struct mx_opts *o);

/* What a family computes over. */
struct mx_ctx {
	const struct crm_dataset *ds;
	struct mx_opts o;           /* resolved: as_of, p_start, p_end set */
	const uint8_t *in;          /* n_customers flags: only these customers count
	                               (NULL: all customers, and rows without one) */
	uint32_t order_channel;     /* only orders of this code of the orders' channel
	                               column count (0: all) */
	const char *group;          /* the breakdown group's label ("country=DE") for
	                               rp_section_new, or NULL */
};

/* Every family has one entry point of this type, mx_FAMILY_report (family
 * ids: purchases, retention, value, acquisition, service, surveys,
 * browsing): it computes over ctx and emits its section(s) into d with
 * rp_section_new(d, "FAMILY", ctx->group, ...). A family whose inputs are
 * absent emits its section with "no data" values, not zeros, and returns
 * CRM_OK; only real failures (out of memory, a lexicon file unreadable) are
 * errors. */
struct rp_doc;
typedef int (*mx_report_fn)(const struct mx_ctx *ctx, struct rp_doc *d,
			    struct crm_err *err);

/* Emits the parameters every family's section opens with: "as-of" (A) and
 * "period" ("[start, end)" then note, when not NULL). Times are written in
 * full (YYYY-MM-DDTHH:MM:SSZ), or as their date when at midnight and
 * day_dates is 1. */
struct rp_section;
void mx_param_period(struct rp_section *sec, int64_t as_of, int64_t p_start, int64_t p_end,
		     int day_dates, const char *note);

/* Resolves o against ds into ctx (in = NULL, order_channel = 0, group NULL): as_of
 * defaults to ds->last_at, the period to the 12 calendar months before A
 * ([A + 1 s - 12 months, A + 1 s); a 29 February start becomes the 28th);
 * only p_start given: it ends at A + 1 s; only p_end: it starts 12 months
 * before. A period that ends before it starts, an empty dataset with no
 * as-of given, or an option off its range (days < 0, churn window < 1,
 * spend bands outside 1..100, factors and hours not positive, negative
 * costs, an unknown bounce or cohort definition) is CRM_EINVAL with the
 * option named. */
int mx_ctx_init(struct mx_ctx *ctx, const struct crm_dataset *ds,
		const struct mx_opts *o, struct crm_err *err);

/* 1 when customer c counts in ctx. */
static inline int mx_counts(const struct mx_ctx *ctx, uint32_t c)
{
	return ctx->in == NULL || (c != CRM_NO_CUSTOMER && ctx->in[c]);
}

/* 1 when order row r (of ds->t[CRM_ORDERS]) counts in ctx: its customer
 * counts and, when an order channel is chosen, it is of that channel. */
int mx_order_counts(const struct mx_ctx *ctx, size_t r);

/* Order kinds of METRICS.md: a completed order (status completed or unset,
 * amount >= 0), a return (status returned, or a negative amount; counts by
 * its absolute value), a cancelled order (neither). As crm_summary_compute:
 * status cancelled wins over a negative amount, and a row without an amount
 * (or without the column) is MX_CANCELLED, counted nowhere. */
enum mx_order_kind { MX_COMPLETED = 0, MX_RETURN, MX_CANCELLED };

/* The rule on the columns themselves, for row loops that hold them
 * (status may be NULL): as crm_summary_compute, cancelled first, and a row
 * without an amount counts nowhere. */
static inline int mx_kind_of(const uint32_t *status, const int64_t *amount, size_t r)
{
	uint32_t st = status ? status[r] : CRM_STATUS_NA;
	int64_t a = amount ? amount[r] : CRM_NA;
	if (st == CRM_STATUS_CANCELLED || a == CRM_NA)
		return MX_CANCELLED;
	if (st == CRM_STATUS_RETURNED || a < 0)
		return MX_RETURN;
	return MX_COMPLETED;
}

static inline int mx_order_kind(const struct crm_table *orders, size_t r)
{
	return mx_kind_of(orders->col[CRM_O_STATUS].cat, orders->col[CRM_O_AMOUNT].i64, r);
}

/* The text of code of a CAT column (borrowed from its dictionary), or none
 * for code 0, a code off the dictionary, or a column that is not CAT. */
const char *mx_code_name(const struct crm_column *col, uint32_t code, const char *none);

/* Calendar helpers (UTC). Month index: months since 1970-01 (0 = 1970-01). */
/* t moved back by twelve calendar months, same time of day; a day past the
 * end of the earlier month (29 February) becomes its last day. The rule of
 * the default period. */
int64_t mx_year_before(int64_t t);
int64_t mx_month_of(int64_t t);
int64_t mx_month_start(int64_t month);          /* first second of that month */
void mx_month_label(int64_t month, char out[8]); /* "2024-03" */

/* Quantile of v[0..n) with linear interpolation between closest ranks
 * (Hyndman & Fan type 7, as numpy and R's default); sorts v in place
 * (ascending, NaNs last: do not pass them). p is clamped to [0, 1].
 * n = 0 gives NAN. */
double mx_quantile(double *v, size_t n, double p);
static inline double mx_median(double *v, size_t n) { return mx_quantile(v, n, 0.5); }
/* The same on v[0..n) already sorted ascending (not changed). */
double mx_quantile_sorted(const double *v, size_t n, double p);
double mx_mean(const double *v, size_t n);      /* NAN when n = 0 */

/* Selection in linear time without sorting or allocating (Hoare's FIND with
 * median-of-three pivots), for medians of a value per customer where
 * mx_quantile's sort would cost more. */

/* Reorders v[0..n) (k < n) so that v[k] is its (k+1)-th smallest, the values
 * before it no larger and those after no smaller, and returns v[k]. */
int64_t mx_select_i64(int64_t *v, size_t n, size_t k);

/* The median of v[0..n) (the middle value, or the mean of the two middle
 * ones: mx_quantile's type 7 at 0.5); v is reordered. NAN when n = 0. */
double mx_select_median(double *v, size_t n);
double mx_select_median_i64(int64_t *v, size_t n);

/* Money (ten-thousandths) as a double in currency units. */
static inline double mx_money(int64_t m) { return (double)m / 10000.0; }

/* 100 num / den: a share in per cent, NAN (no data) when den is 0. */
static inline double mx_pct(size_t num, size_t den)
{
	return den ? 100.0 * (double)num / (double)den : NAN;
}

/* A count as a report value: NAN (no data) when the family has no input. */
static inline double mx_count_or_nan(int has, size_t n)
{
	return has ? (double)n : NAN;
}

#endif
