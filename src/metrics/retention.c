/* retention.c - customers over time (metrics layer): churn and retention
 * over P, cohorts, lifecycle stages and their transitions, spend band
 * migration (METRICS.md "Customers over time", retention.h for the rules).
 *
 * Two passes over the order rows, customer by customer, without a
 * per-customer allocation. The first reads each customer's rows once and
 * takes every fact as they go by: the stages at start(P), end(P) and A are
 * snapshots of a running state as the rows pass those dates, and churn,
 * cohorts and the net revenue that the spend band cuts are quantiles of
 * come from the same rows. The cuts are found from a histogram of bucket
 * keys made on the way and a selection among the few values of the
 * buckets that hold them; the second pass walks the cumulative net revenue
 * of the customers with orders in P through the bands, counting the days
 * to a move up in a histogram. The row loops avoid branches whose outcome
 * the data decides, as those mispredict a few times a customer. On large
 * data each pass runs on two threads over two customer ranges (as
 * crm_summary_compute). */
#include "metrics/retention.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "data/dataset.h"
#include "report/doc.h"

static const char *const stage_names[MX_N_STAGES] = {
	"prospect", "new", "growing", "mature", "at_risk", "churned"
};

const char *mx_stage_name(int stage)
{
	if (stage >= 0 && stage < MX_N_STAGES)
		return stage_names[stage];
	if (stage == MX_STAGE_NOT_YET)
		return "not_yet";
	if (stage == MX_STAGE_OUT)
		return "out";
	return "?";
}

/* ------------------------------------------------------------ order rows */

/* The order columns the row loops read, and which rows count: a row counts
 * when it has a time, is of the chosen order channel (if any) and is not
 * cancelled (mx_order_counts, mx_kind_of; the customer is checked once per
 * customer with mx_counts). */
struct rows {
	const uint64_t *bc;         /* by_customer; NULL: no row counts */
	const int64_t *at, *amount;
	const uint32_t *status;     /* NULL: no status column */
	const uint32_t *chan;       /* channel codes (read only when channel != 0) */
	uint32_t channel;           /* ctx->order_channel; 0: every channel */
};

static void rows_init(struct rows *rw, const struct mx_ctx *ctx)
{
	const struct crm_table *t = &ctx->ds->t[CRM_ORDERS];
	const struct crm_column *ch = &t->col[CRM_O_CHANNEL];
	memset(rw, 0, sizeof *rw);
	rw->channel = ctx->order_channel;
	rw->chan = ch->kind == CRM_COL_CAT ? ch->cat : NULL;
	/* no time or amount column: nothing counts (a row without an amount is
	 * cancelled); a chosen channel without the column: no row is of it */
	if (t->n == 0 || !t->by_customer || !t->col[CRM_O_ORDERED_AT].i64 ||
	    !t->col[CRM_O_AMOUNT].i64 || (rw->channel && !rw->chan))
		return;
	rw->bc = t->by_customer;
	rw->at = t->col[CRM_O_ORDERED_AT].i64;
	rw->amount = t->col[CRM_O_AMOUNT].i64;
	rw->status = t->col[CRM_O_STATUS].cat;
}

/* The kind of row r (mx_kind_of; MX_CANCELLED also for a row of another
 * channel than the chosen one), and for the others its signed net effect
 * in *amt: the amount of a completed order, minus the absolute value of a
 * return. The columns are arguments so that the passes can have the
 * compiler make a copy of their loop for the usual case of no status
 * column and no channel chosen (status NULL, channel 0 as constants). */
__attribute__((always_inline))
static inline int kind_of(const uint32_t *status, const int64_t *amount, const uint32_t *chan,
			  uint32_t channel, uint64_t r, int64_t *amt)
{
	if (channel && chan[r] != channel)
		return MX_CANCELLED;
	int64_t a = amount[r];
	uint32_t st = status ? status[r] : CRM_STATUS_NA;
	if (st <= CRM_STATUS_COMPLETED && a >= 0) {   /* the usual row; CRM_NA is < 0 */
		*amt = a;
		return MX_COMPLETED;
	}
	if (st == CRM_STATUS_CANCELLED || a == CRM_NA)
		return MX_CANCELLED;   /* as mx_kind_of */
	if (st == CRM_STATUS_RETURNED || a < 0) {
		*amt = a < 0 ? a : -a;
		return MX_RETURN;
	}
	*amt = a;
	return MX_COMPLETED;
}

static inline int row_kind(const struct rows *rw, uint64_t r, int64_t *amt)
{
	return kind_of(rw->status, rw->amount, rw->chan, rw->channel, r, amt);
}

/* 1 when customer c has a counted completed order among rows [from, to). */
static int completed_from(const struct rows *rw, uint64_t from, uint64_t to)
{
	int64_t amt;
	for (uint64_t r = from; r < to; r++)
		if (rw->at[r] != CRM_NA && row_kind(rw, r, &amt) == MX_COMPLETED)
			return 1;
	return 0;
}

/* The earlier of customer c's signup_at and their first lead's created_at
 * (the lead rows are in time order), or CRM_NA. With the first completed
 * order, this is when the customer became known. */
static int64_t known_from(const struct crm_dataset *ds, size_t c)
{
	int64_t e = CRM_NA;
	const struct crm_table *cu = &ds->t[CRM_CUSTOMERS];
	if (cu->col[CRM_C_SIGNUP_AT].i64)
		e = cu->col[CRM_C_SIGNUP_AT].i64[c];
	const struct crm_table *l = &ds->t[CRM_LEADS];
	if (l->n && l->by_customer && l->col[CRM_L_CREATED_AT].i64 &&
	    l->by_customer[c] < l->by_customer[c + 1]) {
		int64_t t = l->col[CRM_L_CREATED_AT].i64[l->by_customer[c]];
		if (t != CRM_NA && (e == CRM_NA || t < e))
			e = t;
	}
	return e;
}

/* The stage at d of a customer without a completed order by d: not yet
 * known when they became known after d (known: known_from; has_order: they
 * have a counted completed order at all, which is after d), else a
 * prospect. */
static int stage_without_order(int64_t known, int has_order, int64_t d)
{
	if (known != CRM_NA)
		return known > d ? MX_STAGE_NOT_YET : MX_STAGE_PROSPECT;
	return has_order ? MX_STAGE_NOT_YET : MX_STAGE_PROSPECT;
}

/* ---------------------------------------------------------------- stages */

/* What the stage at a date is decided from: a customer's completed orders
 * up to the date, added one by one in time order. */
struct stage_scan {
	size_t n, n_gaps;         /* completed orders; gaps in gaps[0 .. n_gaps) */
	int64_t first_day, last_day;
	int64_t min_gap, max_gap; /* of the gaps, when n_gaps > 0 */
};

/* Adds a completed order of day `day` (not before the last) to sc; gaps
 * has room for one value per completed order. */
static inline void scan_add(struct stage_scan *sc, int64_t day, int64_t *gaps)
{
	if (sc->n++ == 0) {
		sc->first_day = sc->last_day = day;
		return;
	}
	if (day == sc->last_day)
		return;
	int64_t g = day - sc->last_day;
	sc->min_gap = sc->n_gaps == 0 || g < sc->min_gap ? g : sc->min_gap;
	sc->max_gap = sc->n_gaps == 0 || g > sc->max_gap ? g : sc->max_gap;
	gaps[sc->n_gaps++] = g;
	sc->last_day = day;
}

/* 1 when since > f x the median (type 7) of gaps[0..n) (n > 0), as
 * (double)since > f * mx_select_median_i64(gaps, n) decides it, without
 * finding the median: "since > f x g" holds for the gaps below some limit
 * (f > 0), so it holds for the median of an odd n when it holds for more
 * than half of them; for an even n, when it holds for more than half (both
 * middle gaps) or fewer than half (neither), and else the two middle gaps
 * are the largest gap it holds for and the smallest it does not. One pass
 * without branches (the gaps come in any order), gaps not reordered. */
static int beyond_median(const int64_t *gaps, size_t n, int64_t since, double f)
{
	size_t below = 0;   /* gaps g with since > f x g */
	int64_t lower = INT64_MIN, upper = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		int64_t g = gaps[i];
		int holds = (double)since > f * (double)g;
		int64_t mask = -(int64_t)holds;   /* all ones when it holds */
		int64_t as_lower = (g & mask) | (INT64_MIN & ~mask);
		int64_t as_upper = (INT64_MAX & mask) | (g & ~mask);
		below += (size_t)holds;
		lower = as_lower > lower ? as_lower : lower;
		upper = as_upper < upper ? as_upper : upper;
	}
	if (n % 2 || below != n / 2)
		return below > n / 2;
	return (double)since > f * (((double)lower + (double)upper) / 2);
}

/* The stage on day `today` of a customer whose completed orders up to then
 * (at least one: such a customer is known) are in sc. */
static int stage_of(const struct stage_scan *sc, int64_t today, const struct mx_opts *o,
		    const int64_t *gaps)
{
	int64_t since = today - sc->last_day;
	if (since > o->churn_window_days)
		return MX_STAGE_CHURNED;
	/* one order day (also 2+ orders all on one day): the fixed limit; else
	 * factor x the median gap */
	double f = o->at_risk_factor;
	int at_risk;
	if (sc->n_gaps == 0)
		at_risk = since > o->at_risk_one_order_days;
	else if ((double)since <= f * (double)sc->min_gap)   /* the median lies between */
		at_risk = 0;
	else if ((double)since > f * (double)sc->max_gap)
		at_risk = 1;
	else
		at_risk = beyond_median(gaps, sc->n_gaps, since, f);
	if (at_risk)
		return MX_STAGE_AT_RISK;
	if (sc->n == 1)
		return MX_STAGE_NEW;
	return today - sc->first_day <= o->growing_days ? MX_STAGE_GROWING : MX_STAGE_MATURE;
}

/* Grows *gaps to hold at least n values; 0, or -1 on ENOMEM. */
static int gaps_reserve(int64_t **gaps, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	size_t want = *cap ? *cap : 64;
	while (want < n)
		want *= 2;
	int64_t *g = xreallocn(*gaps, want, sizeof *g);
	if (!g)
		return -1;
	*gaps = g;
	*cap = want;
	return 0;
}

static int stages_at(const struct mx_ctx *ctx, int64_t at, uint8_t *stage, struct crm_err *err)
{
	struct rows rw;
	int64_t *gaps = NULL, today = ts_day(at);
	size_t cap = 0;
	rows_init(&rw, ctx);
	for (size_t c = 0; c < ctx->ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c)) {
			stage[c] = MX_STAGE_OUT;
			continue;
		}
		struct stage_scan sc = { 0, 0, 0, 0, 0, 0 };
		uint64_t r = rw.bc ? rw.bc[c] : 0, end = rw.bc ? rw.bc[c + 1] : 0;
		if (gaps_reserve(&gaps, &cap, (size_t)(end - r)) != 0) {
			free(gaps);
			return crm_err_set(err, CRM_ENOMEM,
					   "retention: out of memory for %zu orders of a customer",
					   (size_t)(end - r));
		}
		for (; r < end; r++) {
			int64_t when = rw.at[r], amt;
			if (when == CRM_NA)
				continue;
			if (when > at)
				break;   /* rows are in time order */
			if (row_kind(&rw, r, &amt) == MX_COMPLETED)
				scan_add(&sc, ts_day(when), gaps);
		}
		if (sc.n) {
			stage[c] = (uint8_t)stage_of(&sc, today, &ctx->o, gaps);
		} else {
			int64_t known = known_from(ctx->ds, c);
			int has = known == CRM_NA && rw.bc && completed_from(&rw, r, rw.bc[c + 1]);
			stage[c] = (uint8_t)stage_without_order(known, has, at);
		}
	}
	free(gaps);
	return CRM_OK;
}

int mx_lifecycle_stages(const struct mx_ctx *ctx, uint8_t *stage, struct crm_err *err)
{
	return stages_at(ctx, ctx->o.as_of, stage, err);
}

int mx_lifecycle_stages_at(const struct mx_ctx *ctx, int64_t at, uint8_t *stage,
			   struct crm_err *err)
{
	return stages_at(ctx, at, stage, err);
}

void mx_retention_free(struct mx_retention *r)
{
	if (!r)
		return;
	free(r->cohort_size);
	free(r->cohort_active);
	free(r->cohort_active_unb);
	free(r->cohort_revenue);
	free(r->band_cut);
	free(r->band_migration);
	free(r->tier_n);
	free(r->tier_median_net);
	free(r->tier_band);
	free(r);
}

/* ------------------------------------------------------------- quantiles */

/* The rank lo of the type-7 quantile p of n > 0 sorted values (Hyndman &
 * Fan 1996, as mx_quantile_sorted: h = (n - 1) p, clamped p) and the
 * fraction of the way to the next into *frac (0 at the last value). */
static size_t type7_rank(size_t n, double p, double *frac)
{
	double h = (double)(n - 1) * (p < 0 ? 0 : p > 1 ? 1 : p);
	size_t lo = (size_t)floor(h);
	*frac = h - (double)lo;
	if (lo >= n - 1) {
		*frac = 0;
		return n - 1;
	}
	return lo;
}

/* mx_quantile_sorted's interpolation between order statistics x (rank
 * lo) and y (rank lo + 1; not read when frac is 0). */
static double type7(int64_t x, int64_t y, double frac)
{
	if (frac == 0)
		return (double)x;
	return (double)x + frac * ((double)y - (double)x);
}

/* Moves the order statistics ranks[a .. b) (ascending, distinct, within
 * [lo, hi)) of v[lo .. hi) into place: each v[rank] is then the (rank+1)-th
 * smallest of v[lo .. hi), the values before it no larger and those after
 * no smaller. Selects the middle rank, then each side's ranks in its side. */
static void select_ranks(int64_t *v, size_t lo, size_t hi, const size_t *ranks, size_t a,
			 size_t b)
{
	while (a < b) {
		size_t m = a + (b - a) / 2, k = ranks[m];
		mx_select_i64(v + lo, hi - lo, k - lo);
		select_ranks(v, lo, k, ranks, a, m);
		lo = k + 1;
		a = m + 1;
	}
}

/* The type-7 quantile p of v[0..n) by selection: what mx_quantile gives
 * on the values as doubles, to the bit (the conversion keeps their
 * order); NAN when n = 0. v is reordered. */
static double quantile_i64(int64_t *v, size_t n, double p)
{
	double frac;
	if (n == 0)
		return NAN;
	size_t lo = type7_rank(n, p, &frac);
	int64_t x = mx_select_i64(v, n, lo), y = x;
	if (frac != 0) {   /* the next: the least of those after lo */
		y = v[lo + 1];
		for (size_t i = lo + 2; i < n; i++)
			y = v[i] < y ? v[i] : y;
	}
	return type7(x, y, frac);
}

/* Money values (net revenue per customer) fall into VB_N buckets of a key
 * in their order: a value below 256 is its own bucket, a larger one's
 * bucket is its bit length and the 8 bits after its leading one (256 per
 * power of two, so a bucket spans at most 1/256 of its values), negative
 * values mirrored below the others. A histogram of the keys, kept as the
 * values are made, tells which buckets hold the quantiles, and only their
 * values are selected among: a pass over 2-byte keys instead of a sort,
 * or a selection, of millions of values. */
#define VB_HALF 14336               /* buckets of the values >= 0: 256 + 54 x 256 */
#define VB_N (2 * VB_HALF)

/* The bucket of v in [0, VB_HALF) for 0 <= v < 2^63. */
static inline uint32_t vb_mag(uint64_t v)
{
	if (v < 256)
		return (uint32_t)v;
	int shift = 64 - __builtin_clzll(v) - 9;   /* bit length - 9: 0 .. 54 */
	return (uint32_t)shift * 256 + (uint32_t)(v >> shift);   /* v >> shift: 256 .. 511 */
}

/* The bucket key of v: a < b whenever key(a) < key(b). */
static inline uint16_t vb_key(int64_t v)
{
	if (v >= 0)
		return (uint16_t)(VB_HALF + vb_mag((uint64_t)v));
	return (uint16_t)(VB_HALF - 1 - vb_mag((uint64_t)~v));   /* ~v = -v - 1 >= 0 */
}

/* The type-7 quantiles at the ascending p[0..k) (k <= 100) of v[0..n)
 * (n > 0) into out, as quantile_i64 gives each: key[i] = vb_key(v[i]),
 * hist[b] the number of keys b. v is overwritten. */
static void bucket_quantiles(int64_t *v, const uint16_t *key, size_t n, const uint32_t *hist,
			     const double *p, size_t k, double *out)
{
	size_t lo[100], want[200], sel[200] = { 0 }, n_want = 0;
	double frac[100];
	uint8_t take[VB_N];
	/* the ranks wanted: each quantile's and, to interpolate, the next */
	for (size_t j = 0; j < k; j++) {
		lo[j] = type7_rank(n, p[j], &frac[j]);
		for (size_t r = lo[j]; r <= lo[j] + (frac[j] != 0); r++)
			if (n_want == 0 || want[n_want - 1] < r)
				want[n_want++] = r;
	}
	/* the bucket of each, and its rank among the taken buckets' values:
	 * buckets are ranges of values in order, so that is its rank minus
	 * the values of the buckets before it not taken */
	memset(take, 0, sizeof take);
	size_t below = 0, taken = 0;
	for (size_t b = 0, i = 0; b < VB_N && i < n_want; b++) {
		size_t cnt = hist[b];
		if (want[i] < below + cnt) {
			take[b] = 1;
			for (; i < n_want && want[i] < below + cnt; i++)
				sel[i] = want[i] - below + taken;
			taken += cnt;
		}
		below += cnt;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (take[key[i]])
			v[m++] = v[i];
	select_ranks(v, 0, m, sel, 0, n_want);
	for (size_t j = 0, i = 0; j < k; j++) {
		while (want[i] != lo[j])
			i++;
		out[j] = type7(v[sel[i]], frac[j] != 0 ? v[sel[i + 1]] : 0, frac[j]);
	}
}

/* Days in a band before a move up (pass 2): counted per day below
 * DAYS_HIST (some 90 years), longer ones listed. Days are never negative:
 * a customer's rows are in time order. */
#define DAYS_HIST 32768

/* The k-th smallest (0-based) of the days counted in hist[DAYS_HIST]
 * (n_hist of them) and listed in big[0..n_big) (all >= DAYS_HIST; big is
 * reordered). */
static int64_t days_kth(const size_t *hist, size_t n_hist, int64_t *big, size_t n_big, size_t k)
{
	if (k >= n_hist)
		return mx_select_i64(big, n_big, k - n_hist);
	size_t cum = 0, d = 0;
	while ((cum += hist[d]) <= k)
		d++;
	return (int64_t)d;
}

/* Their median (type 7); NAN when there is none. */
static double days_median(const size_t *hist, size_t n_hist, int64_t *big, size_t n_big)
{
	size_t n = n_hist + n_big;
	double frac;
	if (n == 0)
		return NAN;
	size_t lo = type7_rank(n, 0.5, &frac);
	int64_t x = days_kth(hist, n_hist, big, n_big, lo);
	int64_t y = frac != 0 ? days_kth(hist, n_hist, big, n_big, lo + 1) : x;
	return type7(x, y, frac);
}

/* ------------------------------------------------------------------ passes */

/* The month of each day of a range: a table lookup instead of
 * mx_month_of's calendar arithmetic for every order. */
struct month_tab {
	int64_t day0;             /* the first day covered */
	uint64_t t0;              /* its first second, as unsigned */
	size_t n;                 /* days covered (0: none, mx_month_of is used) */
	int32_t *month;           /* n months (mx_month_of) */
};

/* At most this many days are tabulated (some 350 years). */
#define MONTH_TAB_MAX ((size_t)1 << 17)

/* Tabulates the days of times t0 .. t1 (t1 not CRM_NA; t0 CRM_NA: none),
 * and makes the day of t0 (else of t1) day0, which the passes count days
 * from. -1 on ENOMEM. */
static int month_tab_init(struct month_tab *mt, int64_t t0, int64_t t1)
{
	mt->n = 0;
	mt->month = NULL;
	mt->day0 = ts_day(t0 != CRM_NA && t0 <= t1 ? t0 : t1);
	mt->t0 = (uint64_t)(mt->day0 * SECS_PER_DAY);
	if (t0 == CRM_NA || t1 < t0)
		return 0;
	int64_t d0 = mt->day0, d1 = ts_day(t1);
	if ((uint64_t)(d1 - d0) >= MONTH_TAB_MAX)
		return 0;
	size_t n = (size_t)(d1 - d0 + 1);
	mt->month = xmallocn(n, sizeof *mt->month);
	if (!mt->month)
		return -1;
	mt->n = n;
	for (int64_t m = mx_month_of(t0), d = d0; d <= d1; m++) {
		int64_t next = mx_month_start(m + 1) / SECS_PER_DAY;
		for (; d < next && d <= d1; d++)
			mt->month[d - d0] = (int32_t)m;
	}
	return 0;
}

/* The day of t counted from mt->day0 (ts_day(t) - day0) and its month
 * (mx_month_of) into *month: one unsigned division and a lookup for the
 * days of the table (a time before it wraps around to a large k). */
static inline int64_t day_month(const struct month_tab *mt, int64_t t, int64_t *month)
{
	uint64_t k = ((uint64_t)t - mt->t0) / SECS_PER_DAY;
	if (k < mt->n) {
		*month = mt->month[k];
		return (int64_t)k;
	}
	*month = mx_month_of(t);
	return ts_day(t) - mt->day0;
}

/* The band of net revenue v (retention.h): 1 + the cuts below v (they
 * ascend). Few cuts (4 by default) are counted, more searched; neither
 * way branches on v, which would mispredict. */
static inline int band_of(const double *cut, int n_cuts, int64_t v)
{
	double x = (double)v;
	int n = n_cuts, below = 0;
	if (n <= 8) {
		for (int i = 0; i < n; i++)
			below += cut[i] < x;
		return 1 + below;
	}
	const double *b = cut;
	while (n > 1) {   /* the cuts before b are below x */
		int half = n / 2;
		b = b[half] < x ? b + half : b;
		n -= half;
	}
	return 1 + (int)(b - cut) + (b[0] < x);
}

/* Adds b to *a, remembering an overflow in *ovf. */
static inline void add_money(int64_t *a, int64_t b, int *ovf)
{
	*ovf |= __builtin_add_overflow(*a, b, a);
}

/* The dates pass 1 takes the stages at: A, start(P) and end(P), distinct
 * and ascending, with a sentinel after them. */
struct dates {
	int n;                    /* distinct dates, 1 .. 3 */
	int64_t d[4];             /* d[0 .. n) ascending, d[n] = INT64_MAX */
	int64_t day[3];           /* their days, counted from the month table's day0 */
	int ia, is, ie;           /* the index of A, start(P), end(P) in d */
};

static void dates_init(struct dates *dt, int64_t a, int64_t start, int64_t end, int64_t day0)
{
	const int64_t v[3] = { a, start, end };
	int *at[3] = { &dt->ia, &dt->is, &dt->ie };
	dt->n = 0;
	for (int i = 0; i < 3; i++) {
		int k = 0;
		while (k < dt->n && dt->d[k] < v[i])
			k++;
		if (k == dt->n || dt->d[k] != v[i]) {
			for (int j = dt->n; j > k; j--)
				dt->d[j] = dt->d[j - 1];
			dt->d[k] = v[i];
			dt->n++;
		}
	}
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < dt->n; k++)
			if (dt->d[k] == v[i])
				*at[i] = k;
	for (int k = 0; k < dt->n; k++)
		dt->day[k] = ts_day(dt->d[k]) - day0;
	dt->d[dt->n] = INT64_MAX;
}

/* Per customer, what pass 1 leaves for the spend bands of pass 2. */
#define F_START 1   /* a completed order by start(P) */
#define F_END 2     /* a completed order by end(P) */
#define F_IN_P 4    /* an order or return in P */

/* A stage pass 1 leaves to be decided after the customer's rows: no
 * completed order by the date (prospect or not yet known). */
#define STAGE_NO_ORDER 0xFD

/* One customer range [c_lo, c_hi) of the work, run on a thread of its own:
 * its own scratch and sums, merged when both ranges are done. No global
 * state (DESIGN.md). */
struct part {
	const struct mx_ctx *ctx;
	const struct rows *rows;
	const struct month_tab *mt;
	const struct dates *dt;
	size_t c_lo, c_hi;
	int step;                   /* 1: pass 1; 2: pass 2 */
	int rc;                     /* CRM_OK or CRM_ENOMEM */
	int ovf;                    /* a money sum overflowed */
	int64_t *gaps;              /* scratch: gaps between order days */
	size_t cap_gaps;
	uint32_t status_or;         /* the status codes pass 1 read, or-ed: when only
	                               0 and 1, pass 2 need not read them */
	/* pass 1 sums: churn, stages, transitions, and cohorts in r's shape but
	 * from month acc.cohort_first over acc.n_cohorts months (to month(A)) */
	struct mx_retention acc;
	int64_t cohort_lim;         /* cohorts before this month are "older" */
	int64_t min_first;          /* the earliest cohort month seen; INT64_MAX none */
	int below_base;             /* a cohort month fell before acc.cohort_first */
	/* shared per-customer arrays: each part writes its own range */
	int64_t *net_end;           /* net revenue at end(P) */
	int64_t *net_a;             /* net revenue at A; NULL: not kept */
	uint8_t *flags;             /* F_* */
	int64_t *vals;              /* from vals + c_lo: net_end of the customers with
	                               F_END, n_vals of them */
	uint16_t *keys;             /* from keys + c_lo: their vb_key */
	size_t n_vals;
	uint32_t *hist;             /* VB_N: how many of them per key */
	/* pass 2 */
	const double *cut;
	int n_cuts;
	const uint32_t *tier_of;    /* customers' tier codes, or NULL */
	size_t *band_migration;     /* (n_bands + 1)^2 */
	size_t *tier_band;          /* n_tiers x (n_bands + 1) */
	size_t *days_hist;          /* DAYS_HIST: moves up after so many days in the band */
	size_t n_days_hist;         /* their sum */
	int64_t *days_big;          /* the moves after more days, n_days_big of them */
	size_t n_days_big, cap_days_big;
};

/* Pass 1 over the customers of pt, with the status and channel columns of
 * kind_of. A customer's rows are read in two loops: up to the first
 * completed order (returns before it count in the cohort's first month),
 * then the rest, for the stages, the net revenue and the cohort cells at
 * once. Days are counted from the month table's day0. */
__attribute__((always_inline))
static inline void pass1_body(struct part *pt, const uint32_t *status, uint32_t channel)
{
	const struct mx_ctx *ctx = pt->ctx;
	const struct mx_opts *o = &ctx->o;
	const struct rows *rw = pt->rows;
	const int64_t *at = rw->at, *amount = rw->amount;
	const uint32_t *chan = rw->chan;
	const struct dates *dt = pt->dt;
	const struct month_tab *mt = pt->mt;
	const int64_t A = o->as_of, upto = dt->d[dt->n - 1], day_a = dt->day[dt->ia];
	const int ia = dt->ia, is = dt->is, ie = dt->ie;
	struct mx_retention *r = &pt->acc;
	const size_t n0 = r->n_cohorts;
	const int64_t base = r->cohort_first, lim = pt->cohort_lim;
	int64_t *gaps = pt->gaps;
	uint32_t status_or = 0;
	int ovf = 0;
	for (size_t c = pt->c_lo; c < pt->c_hi; c++) {
		pt->flags[c] = 0;
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		uint64_t row = rw->bc ? rw->bc[c] : 0, row_end = rw->bc ? rw->bc[c + 1] : 0;
		if (row_end - row > pt->cap_gaps) {
			if (gaps_reserve(&pt->gaps, &pt->cap_gaps, (size_t)(row_end - row)) != 0) {
				pt->rc = CRM_ENOMEM;
				break;
			}
			gaps = pt->gaps;
		}
		/* the state at each date: stage, completed orders, returns, net */
		int st[3];
		size_t n_done[3], n_ret_at[3];
		int64_t net_at[3];
		int slot = 0;
		int64_t next_d = dt->d[0];
		/* the running state: completed orders (n), gaps between their days
		 * (n_gaps), the first and last day; returns; net revenue */
		size_t n = 0, n_gaps = 0, n_ret = 0;
		int64_t first_day = 0, last_day = 0, cum = 0, first_t = CRM_NA, when = 0, amt = 0;
		int64_t min_gap = INT64_MAX, max_gap = 0;
#define SNAPSHOT()                                                                              \
	do {                                                                                    \
		if (n) {                                                                        \
			struct stage_scan sc_ = { n, n_gaps, first_day, last_day, min_gap,      \
						  max_gap };                                    \
			st[slot] = stage_of(&sc_, dt->day[slot], o, gaps);                      \
		} else {                                                                        \
			st[slot] = STAGE_NO_ORDER;                                              \
		}                                                                               \
		n_done[slot] = n;                                                               \
		n_ret_at[slot] = n_ret;                                                         \
		net_at[slot] = cum;                                                             \
		next_d = dt->d[++slot];                                                         \
	} while (0)
		/* the cohort cells of the customer (see below) */
		size_t *act = NULL, ci = 0;
		int64_t *rev = NULL, month = 0, first_month = 0, last_month = 0;
		int64_t coh_until = INT64_MIN;
		/* up to the first completed order; returns before it count in the
		 * cohort's first month */
		int64_t pre = 0;
		for (; row < row_end; row++) {
			when = at[row];
			if (when > next_d) {
				if (when > upto)
					goto rows_read;   /* rows are in time order */
				do
					SNAPSHOT();
				while (when > next_d);
			}
			if (when == CRM_NA)
				continue;
			if (status)
				status_or |= status[row];
			int kind = kind_of(status, amount, chan, channel, row, &amt);
			if (kind == MX_CANCELLED)
				continue;
			if (__builtin_add_overflow(cum, amt, &cum))
				ovf = 1;
			if (kind == MX_COMPLETED)
				break;
			n_ret++;
			if (when <= A && __builtin_add_overflow(pre, amt, &pre))
				ovf = 1;
		}
		if (row == row_end)
			goto rows_read;
		/* the first completed order: the customer's cohort is its month,
		 * counted in cohort row ci (act, rev) for the orders up to
		 * coh_until (A; INT64_MIN: not counted) */
		first_t = when;
		first_day = last_day = day_month(mt, when, &first_month);
		last_month = first_month;
		n = 1;
		if (when <= A) {
			if (first_month < pt->min_first)
				pt->min_first = first_month;
			if (first_month < lim) {
				r->cohort_older++;
			} else if (first_month < base) {
				pt->below_base = 1;
			} else {
				ci = (size_t)(first_month - base);
				act = r->cohort_active + ci * n0;
				rev = r->cohort_revenue + ci * n0;
				r->cohort_size[ci]++;
				act[0]++;
				if (__builtin_add_overflow(rev[0], pre, &rev[0]) ||
				    __builtin_add_overflow(rev[0], amt, &rev[0]))
					ovf = 1;
				coh_until = A;
			}
		}
		/* the rest; the cells and gaps are written without branches, as
		 * the months and days come */
		for (row++; row < row_end; row++) {
			when = at[row];
			if (when > next_d) {
				if (when > upto)
					break;
				do
					SNAPSHOT();
				while (when > next_d);
			}
			if (when == CRM_NA)
				continue;
			if (status)
				status_or |= status[row];
			int kind = kind_of(status, amount, chan, channel, row, &amt);
			if (kind == MX_CANCELLED)
				continue;
			if (__builtin_add_overflow(cum, amt, &cum))
				ovf = 1;
			int64_t day = day_month(mt, when, &month);
			int done = kind == MX_COMPLETED;
			if (done) {
				int64_t g = day - last_day, g_new = g ? g : INT64_MAX;
				n++;
				gaps[n_gaps] = g;   /* kept when the day is new */
				n_gaps += g != 0;
				min_gap = g_new < min_gap ? g_new : min_gap;
				max_gap = g > max_gap ? g : max_gap;
				last_day = day;
			} else {
				n_ret++;
			}
			if (when <= coh_until) {
				size_t k = (size_t)(month - first_month);
				if (__builtin_add_overflow(rev[k], amt, &rev[k]))
					ovf = 1;
				act[k] += (size_t)(done & (month != last_month));
				last_month = done ? month : last_month;
			}
		}
rows_read:
		while (slot < dt->n)
			SNAPSHOT();
#undef SNAPSHOT
		if (coh_until != INT64_MIN)
			/* unbounded: counted in every month up to the last active one;
			 * marked at the last and summed from the right at the end */
			r->cohort_active_unb[ci * n0 + (size_t)(last_month - first_month)]++;
		if (st[0] == STAGE_NO_ORDER) {   /* the earliest date has no order */
			int64_t known = known_from(ctx->ds, c);
			int has = known == CRM_NA &&
				  (first_t != CRM_NA || (rw->bc && completed_from(rw, row, row_end)));
			for (int k = 0; k < dt->n && st[k] == STAGE_NO_ORDER; k++)
				st[k] = stage_without_order(known, has, dt->d[k]);
		}

		int st_a = st[ia], st_s = st[is], st_e = st[ie];
		int64_t net_a = net_at[ia], net_e = net_at[ie], net_p;
		if (__builtin_sub_overflow(net_e, net_at[is], &net_p))
			ovf = 1;
		int in_p = n_done[ie] + n_ret_at[ie] > n_done[is] + n_ret_at[is];
		pt->flags[c] = (uint8_t)((n_done[is] ? F_START : 0) | (n_done[ie] ? F_END : 0) |
					 (in_p ? F_IN_P : 0));
		pt->net_end[c] = net_e;
		if (pt->net_a)
			pt->net_a[c] = net_a;
		if (n_done[ie]) {
			uint16_t key = vb_key(net_e);
			pt->keys[pt->n_vals] = key;
			pt->vals[pt->n_vals++] = net_e;
			pt->hist[key]++;
		}

		/* lifecycle at A */
		if (st_a == MX_STAGE_NOT_YET) {
			r->not_yet++;
		} else {
			r->stage_n[st_a]++;
			add_money(&r->stage_revenue[st_a], net_a, &ovf);
			add_money(&r->stage_revenue_p[st_a], net_p, &ovf);
			if (st_a == MX_STAGE_NEW && day_a - first_day <= o->new_days)
				r->new_recent++;
		}
		if (st_e != MX_STAGE_NOT_YET)
			r->transition[st_s == MX_STAGE_NOT_YET ? MX_N_STAGES : st_s][st_e]++;

		/* churn over P */
		int alive_s = st_s != MX_STAGE_PROSPECT && st_s != MX_STAGE_CHURNED &&
			      st_s != MX_STAGE_NOT_YET;
		int alive_e = st_e != MX_STAGE_PROSPECT && st_e != MX_STAGE_CHURNED &&
			      st_e != MX_STAGE_NOT_YET;
		if (alive_s) {
			r->churn_base++;
			r->churn_lost += st_e == MX_STAGE_CHURNED;
		}
		r->alive_end += (size_t)alive_e;
		if (first_t != CRM_NA && first_t >= o->p_start && first_t < o->p_end)
			r->new_in_p++;
	}
	pt->ovf |= ovf;
	pt->status_or = status_or;
}

static void pass1(struct part *pt)
{
	if (!pt->rows->status && !pt->rows->channel)
		pass1_body(pt, NULL, 0);
	else
		pass1_body(pt, pt->rows->status, pt->rows->channel);
}

/* Counts a move up after `days` (>= 0) days in the band; 0, or -1 on
 * ENOMEM. */
static int count_days(struct part *pt, int64_t days)
{
	if ((uint64_t)days < DAYS_HIST) {
		pt->days_hist[days]++;
		pt->n_days_hist++;
		return 0;
	}
	if (pt->n_days_big == pt->cap_days_big) {
		size_t cap = pt->cap_days_big ? pt->cap_days_big * 2 : 64;
		int64_t *g = xreallocn(pt->days_big, cap, sizeof *g);
		if (!g)
			return -1;
		pt->days_big = g;
		pt->cap_days_big = cap;
	}
	pt->days_big[pt->n_days_big++] = days;
	return 0;
}

/* Pass 2 over the customers of pt, with the status and channel columns of
 * kind_of. */
__attribute__((always_inline))
static inline void pass2_body(struct part *pt, const uint32_t *status, uint32_t channel)
{
	const struct mx_ctx *ctx = pt->ctx;
	const struct rows *rw = pt->rows;
	const int64_t *at = rw->at, *amount = rw->amount;
	const uint32_t *chan = rw->chan;
	const int64_t start = ctx->o.p_start - 1, end = ctx->o.p_end - 1;
	const size_t nb1 = (size_t)pt->acc.n_bands + 1;
	const double *cut = pt->cut;
	const int n_cuts = pt->n_cuts;
	for (size_t c = pt->c_lo; c < pt->c_hi; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		uint8_t fl = pt->flags[c];
		int band_start, band;
		if (!(fl & F_IN_P)) {
			/* nothing in P: the band at end(P) is the band at start(P) */
			band_start = band = fl & F_END ? band_of(cut, n_cuts, pt->net_end[c]) : 0;
		} else {
			/* walk the cumulative net revenue through the bands; while it
			 * stays within the band's bounds (lo, hi] the band holds */
			int has = 0;
			int64_t cum = 0, entered_day = 0;
			double lo = INFINITY, hi = -INFINITY;   /* band 0: left at the first order */
			band = 0;
			band_start = -1;
			for (uint64_t row = rw->bc[c], row_end = rw->bc[c + 1]; row < row_end; row++) {
				int64_t when = at[row], amt;
				if (when == CRM_NA)
					continue;
				if (when > end)
					break;
				int kind = kind_of(status, amount, chan, channel, row, &amt);
				if (kind == MX_CANCELLED)
					continue;
				int first_in_p = (when > start) & (band_start < 0);
				band_start = first_in_p ? band : band_start;
				cum += amt;   /* cannot overflow: pass 1's sums to end(P) did not */
				has |= kind == MX_COMPLETED;
				double x = (double)cum;
				if (((x > lo) & (x <= hi)) | !has)
					continue;   /* the band holds (or still none) */
				int nb = band_of(cut, n_cuts, cum);
				if (nb == band)
					continue;
				int64_t day = ts_day(when);
				if (when > start && band >= 1 && nb > band &&
				    count_days(pt, day - entered_day) != 0) {
					pt->rc = CRM_ENOMEM;
					return;
				}
				band = nb;
				entered_day = day;
				lo = nb >= 2 ? cut[nb - 2] : -INFINITY;
				hi = nb <= n_cuts ? cut[nb - 1] : INFINITY;
			}
			if (band_start < 0)
				band_start = band;
		}
		pt->band_migration[(size_t)band_start * nb1 + (size_t)band]++;
		if (pt->tier_of)
			pt->tier_band[(size_t)pt->tier_of[c] * nb1 + (size_t)band]++;
	}
}

static void pass2(struct part *pt)
{
	/* codes 0 (none) and 1 (completed) count as no status column */
	if ((!pt->rows->status || pt->status_or <= CRM_STATUS_COMPLETED) && !pt->rows->channel)
		pass2_body(pt, NULL, 0);
	else
		pass2_body(pt, pt->rows->status, pt->rows->channel);
}

static void *run_part(void *arg)
{
	struct part *pt = arg;
	if (pt->step == 1)
		pass1(pt);
	else
		pass2(pt);
	return NULL;
}

/* Runs step on both parts, the second on a thread of its own when there is
 * one and the work is large enough. */
static void run_parts(struct part pt[2], int step, int threads)
{
	pthread_t th;
	pt[0].step = pt[1].step = step;
	int threaded = threads && pt[1].c_lo < pt[1].c_hi &&
		       pthread_create(&th, NULL, run_part, &pt[1]) == 0;
	run_part(&pt[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		run_part(&pt[1]);
}

/* Frees a part's pass 1 sums and zeroes them. */
static void part_sums_fini(struct part *pt)
{
	free(pt->acc.cohort_size);
	free(pt->acc.cohort_active);
	free(pt->acc.cohort_active_unb);
	free(pt->acc.cohort_revenue);
	memset(&pt->acc, 0, sizeof pt->acc);
	pt->min_first = INT64_MAX;
	pt->below_base = 0;
	pt->ovf = 0;
	pt->n_vals = 0;
	if (pt->hist)
		memset(pt->hist, 0, VB_N * sizeof *pt->hist);
}

/* Zeroed pass 1 sums for a part, with cohort arrays for the months base ..
 * month_a (none when month_a < base). */
static int part_sums_init(struct part *pt, int64_t base, int64_t month_a, int n_bands,
			  struct crm_err *err)
{
	size_t n = month_a >= base ? (size_t)(month_a - base + 1) : 0;
	part_sums_fini(pt);
	pt->acc.n_cohorts = n;
	pt->acc.cohort_first = base;
	pt->acc.n_bands = n_bands;
	pt->acc.cohort_size = calloc(n ? n : 1, sizeof *pt->acc.cohort_size);
	pt->acc.cohort_active = calloc(n ? n * n : 1, sizeof *pt->acc.cohort_active);
	pt->acc.cohort_active_unb = calloc(n ? n * n : 1, sizeof *pt->acc.cohort_active_unb);
	pt->acc.cohort_revenue = calloc(n ? n * n : 1, sizeof *pt->acc.cohort_revenue);
	if (!pt->acc.cohort_size || !pt->acc.cohort_active || !pt->acc.cohort_active_unb ||
	    !pt->acc.cohort_revenue)
		return crm_err_set(err, CRM_ENOMEM, "retention: out of memory for %zu cohorts", n);
	return CRM_OK;
}

static void part_fini(struct part *pt)
{
	part_sums_fini(pt);
	free(pt->gaps);
	free(pt->hist);
	free(pt->band_migration);
	free(pt->tier_band);
	free(pt->days_hist);
	free(pt->days_big);
}

/* Adds the pass 1 sums of a part into r, its cohorts (from month
 * pt->acc.cohort_first) into r's (from r->cohort_first, not earlier). */
static void merge_pass1(struct mx_retention *r, const struct part *pt, int *ovf)
{
	const struct mx_retention *a = &pt->acc;
	size_t n = r->n_cohorts, n0 = a->n_cohorts;
	*ovf |= pt->ovf;
	r->churn_base += a->churn_base;
	r->churn_lost += a->churn_lost;
	r->new_in_p += a->new_in_p;
	r->alive_end += a->alive_end;
	r->cohort_older += a->cohort_older;
	r->new_recent += a->new_recent;
	r->not_yet += a->not_yet;
	for (int k = 0; k < MX_N_STAGES; k++) {
		r->stage_n[k] += a->stage_n[k];
		add_money(&r->stage_revenue[k], a->stage_revenue[k], ovf);
		add_money(&r->stage_revenue_p[k], a->stage_revenue_p[k], ovf);
	}
	for (int f = 0; f <= MX_N_STAGES; f++)
		for (int k = 0; k < MX_N_STAGES; k++)
			r->transition[f][k] += a->transition[f][k];
	for (size_t i = 0; i < n; i++) {
		/* the part's row of the same month: none before its first month
		 * (then no customer has it: pass 1 would have said below_base) */
		int64_t row = r->cohort_first + (int64_t)i - a->cohort_first;
		if (row < 0)
			continue;
		size_t src = (size_t)row * n0, dst = i * n;   /* n - i = n0 - row */
		r->cohort_size[i] += a->cohort_size[row];
		for (size_t k = 0; k < n - i; k++) {   /* later cells are 0 */
			r->cohort_active[dst + k] += a->cohort_active[src + k];
			r->cohort_active_unb[dst + k] += a->cohort_active_unb[src + k];
			add_money(&r->cohort_revenue[dst + k], a->cohort_revenue[src + k], ovf);
		}
	}
}

static int cohorts_alloc(struct mx_retention *r, int64_t first_month, int64_t last_month,
			 struct crm_err *err)
{
	if (last_month - first_month + 1 > MX_COHORT_MAX_MONTHS)
		first_month = last_month - MX_COHORT_MAX_MONTHS + 1;
	r->cohort_first = first_month;
	r->n_cohorts = (size_t)(last_month - first_month + 1);
	size_t n = r->n_cohorts;
	r->cohort_size = calloc(n, sizeof *r->cohort_size);
	r->cohort_active = calloc(n * n, sizeof *r->cohort_active);
	r->cohort_active_unb = calloc(n * n, sizeof *r->cohort_active_unb);
	r->cohort_revenue = calloc(n * n, sizeof *r->cohort_revenue);
	if (!r->cohort_size || !r->cohort_active || !r->cohort_active_unb || !r->cohort_revenue)
		return crm_err_set(err, CRM_ENOMEM, "retention: out of memory for %zu cohorts", n);
	return CRM_OK;
}

int mx_retention_compute(const struct mx_ctx *ctx, struct mx_retention **out,
			 struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct mx_opts *o = &ctx->o;
	const int64_t A = o->as_of, end = o->p_end - 1;
	const size_t nc = ds->n_customers, alloc_nc = nc ? nc : 1;
	struct mx_retention *r = NULL;
	struct month_tab mt = { 0, 0, 0, NULL };
	struct rows rw;
	struct dates dt;
	struct part pt[2];
	int64_t *net_end = NULL, *net_a = NULL, *vals = NULL, *days_big = NULL;
	uint16_t *keys = NULL;
	uint8_t *flags = NULL;
	size_t *tier_off = NULL;
	int rc = CRM_OK, ovf = 0;

	memset(pt, 0, sizeof pt);
	*out = NULL;
	r = calloc(1, sizeof *r);
	if (!r) {
		rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
		goto done;
	}
	r->window_days = o->churn_window_days;
	r->n_bands = o->spend_bands;
	r->median_days_up = NAN;
	size_t nb1 = (size_t)r->n_bands + 1;
	rows_init(&rw, ctx);

	/* the tier field, when any counted customer has a tier */
	const struct crm_column *tier = &ds->t[CRM_CUSTOMERS].col[CRM_C_TIER];
	const uint32_t *tier_of = NULL;
	if (tier->kind == CRM_COL_CAT && tier->cat && tier->dict.n > 1)
		for (size_t c = 0; c < nc && !tier_of; c++)
			if (mx_counts(ctx, (uint32_t)c) && tier->cat[c] != 0)
				tier_of = tier->cat;

	net_end = xmallocn(alloc_nc, sizeof *net_end);
	flags = xmallocn(alloc_nc, sizeof *flags);
	vals = xmallocn(alloc_nc, sizeof *vals);
	keys = xmallocn(alloc_nc, sizeof *keys);
	if (tier_of && A != end)
		net_a = xmallocn(alloc_nc, sizeof *net_a);
	r->band_migration = calloc(nb1 * nb1, sizeof *r->band_migration);
	if (!net_end || !flags || !vals || !keys || (tier_of && A != end && !net_a) ||
	    !r->band_migration || month_tab_init(&mt, ds->first_at, A > end ? A : end) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory for %zu customers", nc);
		goto done;
	}
	dates_init(&dt, A, o->p_start - 1, end, mt.day0);

	/* two customer ranges of about equal order rows */
	size_t mid = ds_split_customers(ds);
	int threads = mid < nc;
	const int64_t month_a = mx_month_of(A), lim = month_a - MX_COHORT_MAX_MONTHS + 1;
	for (int k = 0; k < 2; k++) {
		pt[k].ctx = ctx;
		pt[k].rows = &rw;
		pt[k].mt = &mt;
		pt[k].dt = &dt;
		pt[k].c_lo = k ? mid : 0;
		pt[k].c_hi = k ? nc : mid;
		pt[k].net_end = net_end;
		pt[k].net_a = tier_of ? (net_a ? net_a : net_end) : NULL;
		pt[k].flags = flags;
		pt[k].vals = vals + pt[k].c_lo;
		pt[k].keys = keys + pt[k].c_lo;
		pt[k].cohort_lim = lim;
		pt[k].hist = calloc(VB_N, sizeof *pt[k].hist);
		pt[k].band_migration = calloc(nb1 * nb1, sizeof *pt[k].band_migration);
		pt[k].days_hist = calloc(DAYS_HIST, sizeof *pt[k].days_hist);
		if (!pt[k].hist || !pt[k].band_migration || !pt[k].days_hist) {
			rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
			goto done;
		}
	}

	/* ---- pass 1: stages, churn, cohorts, net revenue per customer. The
	 * cohort sums start at the month of the dataset's first event, which
	 * no first order can precede; should one (a dataset whose first_at is
	 * off), the pass runs again over all MX_COHORT_MAX_MONTHS months. */
	int64_t base = lim;
	if (ds->first_at != CRM_NA && mx_month_of(ds->first_at) > lim)
		base = mx_month_of(ds->first_at);
	for (;;) {
		for (int k = 0; k < 2; k++)
			if ((rc = part_sums_init(&pt[k], base, month_a, r->n_bands, err)) != CRM_OK)
				goto done;
		run_parts(pt, 1, threads);
		if (pt[0].rc != CRM_OK || pt[1].rc != CRM_OK) {
			rc = crm_err_set(err, CRM_ENOMEM,
					 "retention: out of memory for the orders of a customer");
			goto done;
		}
		if (!pt[0].below_base && !pt[1].below_base)
			break;
		base = lim;
	}
	int64_t fm = pt[0].min_first < pt[1].min_first ? pt[0].min_first : pt[1].min_first;
	if (fm != INT64_MAX && (rc = cohorts_alloc(r, fm, month_a, err)) != CRM_OK)
		goto done;
	for (int k = 0; k < 2; k++)
		merge_pass1(r, &pt[k], &ovf);
	if (ovf) {
		rc = crm_err_set(err, CRM_ERANGE, "retention: money sums overflow int64");
		goto done;
	}
	size_t ncoh = r->n_cohorts;
	for (size_t ci = 0; ci < ncoh; ci++)
		for (size_t k = ncoh - 1; k > 0; k--)
			r->cohort_active_unb[ci * ncoh + k - 1] += r->cohort_active_unb[ci * ncoh + k];
	if (ctx->in == NULL) {
		/* leads without a customer, created by A: prospects too */
		const struct crm_table *l = &ds->t[CRM_LEADS];
		const int64_t *created = l->col[CRM_L_CREATED_AT].i64;
		if (l->n && l->by_customer && created)
			for (uint64_t i = l->by_customer[nc]; i < l->n; i++)
				r->prospect_leads += created[i] != CRM_NA && created[i] <= A;
	}

	/* ---- spend band cuts: quantiles k / n_bands of net revenue at end(P) */
	int n_cuts = r->n_bands - 1;
	size_t n_vals = pt[0].n_vals + pt[1].n_vals;
	if (pt[1].n_vals && pt[1].vals != vals + pt[0].n_vals) {
		memmove(vals + pt[0].n_vals, pt[1].vals, pt[1].n_vals * sizeof *vals);
		memmove(keys + pt[0].n_vals, pt[1].keys, pt[1].n_vals * sizeof *keys);
	}
	for (size_t b = 0; b < VB_N; b++)
		pt[0].hist[b] += pt[1].hist[b];
	if (n_vals > 0) {
		double p[100];
		r->band_cut = xmallocn(n_cuts > 0 ? (size_t)n_cuts : 1, sizeof *r->band_cut);
		if (!r->band_cut) {
			rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
			goto done;
		}
		for (int k = 0; k < n_cuts; k++)
			p[k] = (double)(k + 1) / r->n_bands;
		if (n_cuts > 0)
			bucket_quantiles(vals, keys, n_vals, pt[0].hist, p, (size_t)n_cuts, r->band_cut);
	}

	/* ---- the tier field: customers and median net revenue per tier */
	if (tier_of) {
		size_t nt = tier->dict.n;
		const int64_t *net = pt[0].net_a;
		r->n_tiers = nt;
		r->tier_n = calloc(nt, sizeof *r->tier_n);
		r->tier_median_net = xmallocn(nt, sizeof *r->tier_median_net);
		r->tier_band = calloc(nt * nb1, sizeof *r->tier_band);
		tier_off = calloc(nt + 1, sizeof *tier_off);
		if (!r->tier_n || !r->tier_median_net || !r->tier_band || !tier_off) {
			rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory for tiers");
			goto done;
		}
		/* a counting sort of the customers' net revenue by tier */
		for (size_t c = 0; c < nc; c++)
			if (mx_counts(ctx, (uint32_t)c))
				r->tier_n[tier_of[c]]++;
		for (size_t k = 0; k < nt; k++)
			tier_off[k + 1] = tier_off[k] + r->tier_n[k];
		for (size_t c = 0; c < nc; c++)
			if (mx_counts(ctx, (uint32_t)c))
				vals[tier_off[tier_of[c]]++] = net[c];
		for (size_t k = 0; k < nt; k++) {
			size_t lo = tier_off[k] - r->tier_n[k];
			r->tier_median_net[k] = quantile_i64(vals + lo, r->tier_n[k], 0.5);
		}
	}

	/* ---- pass 2: bands at start(P) and end(P), moves up in P */
	for (int k = 0; k < 2; k++) {
		pt[k].cut = r->band_cut;
		pt[k].n_cuts = r->band_cut ? n_cuts : 0;
		pt[k].tier_of = tier_of;
		if (tier_of && !(pt[k].tier_band = calloc(r->n_tiers * nb1, sizeof *pt[k].tier_band))) {
			rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
			goto done;
		}
	}
	run_parts(pt, 2, threads);
	size_t n_big = pt[0].n_days_big + pt[1].n_days_big;
	days_big = xmallocn(n_big ? n_big : 1, sizeof *days_big);
	if (pt[0].rc != CRM_OK || pt[1].rc != CRM_OK || !days_big) {
		rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
		goto done;
	}
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < nb1 * nb1; i++)
			r->band_migration[i] += pt[k].band_migration[i];
		for (size_t i = 0; tier_of && i < r->n_tiers * nb1; i++)
			r->tier_band[i] += pt[k].tier_band[i];
		if (pt[k].n_days_big)
			memcpy(days_big + (k ? pt[0].n_days_big : 0), pt[k].days_big,
			       pt[k].n_days_big * sizeof *days_big);
	}
	for (size_t d = 0; d < DAYS_HIST; d++)
		pt[0].days_hist[d] += pt[1].days_hist[d];
	size_t n_hist = pt[0].n_days_hist + pt[1].n_days_hist;
	r->n_moves_up = n_hist + n_big;
	r->median_days_up = days_median(pt[0].days_hist, n_hist, days_big, n_big);

	r->ccr = r->churn_base ? (double)r->churn_lost / (double)r->churn_base : NAN;
	r->retention = r->churn_base ? 1.0 - r->ccr : NAN;
done:
	part_fini(&pt[0]);
	part_fini(&pt[1]);
	free(mt.month);
	free(net_end);
	free(net_a);
	free(flags);
	free(vals);
	free(keys);
	free(days_big);
	free(tier_off);
	if (rc != CRM_OK) {
		mx_retention_free(r);
		r = NULL;
	}
	*out = r;
	return rc;
}

/* ------------------------------------------------------------------ report */

/* Room for a generated column name ("m123", "b12"). */
#define NAME_W 24

/* A cohort table: "cohort", "customers", then m0 .. m(n-1) of unit. */
static struct rp_table *cohort_table(struct rp_section *sec, const char *id, const char *title,
				     size_t n, int unit, struct crm_err *err, int *rc)
{
	struct rp_col *cols = xmallocn(n + 2, sizeof *cols);
	char *names = xmallocn(n + 2, NAME_W);
	struct rp_table *t = NULL;
	if (!cols || !names) {
		*rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
		goto done;
	}
	cols[0] = (struct rp_col){ "cohort", RP_TEXT };
	cols[1] = (struct rp_col){ "customers", RP_COUNT };
	for (size_t k = 0; k < n; k++) {
		snprintf(names + NAME_W * k, NAME_W, "m%zu", k);
		cols[k + 2] = (struct rp_col){ names + NAME_W * k, unit };
	}
	t = rp_table_new(sec, id, title, cols, n + 2);
done:
	free(cols);
	free(names);
	return t;
}

static void emit_cohorts(const struct mx_ctx *ctx, const struct mx_retention *r,
			 struct rp_section *sec, struct crm_err *err, int *rc)
{
	size_t n = r->n_cohorts;
	char label[8], line[256];
	snprintf(line, sizeof line,
		 "Cohort = month of the first completed order; cell m<k> = share of the cohort "
		 "with a completed order in month cohort + k%s. Months after A have no data.",
		 ctx->o.cohort == MX_COHORT_UNBOUNDED ? " or later (unbounded)" : " (classic)");
	rp_note(sec, line);
	if (r->cohort_older) {
		snprintf(line, sizeof line, "%zu customers of cohorts more than %d months before A "
			 "are not shown.", r->cohort_older, MX_COHORT_MAX_MONTHS);
		rp_note(sec, line);
	}
	const size_t *act = ctx->o.cohort == MX_COHORT_UNBOUNDED ? r->cohort_active_unb
								 : r->cohort_active;
	struct rp_table *ret = cohort_table(sec, "cohort_retention", "Cohort retention (%)", n ? n : 1,
					    RP_PERCENT, err, rc);
	struct rp_table *rev = cohort_table(sec, "cohort_revenue", "Cohort net revenue per month",
					    n ? n : 1, RP_MONEY, err, rc);
	struct rp_table *ltv = cohort_table(sec, "cohort_ltv",
					    "Cumulative net revenue per customer (revenue LTV curve)",
					    n ? n : 1, RP_MONEY, err, rc);
	for (size_t i = 0; i < n; i++) {
		size_t size = r->cohort_size[i];
		mx_month_label(r->cohort_first + (int64_t)i, label);
		rp_row(ret);
		rp_row(rev);
		rp_row(ltv);
		rp_cell_str(ret, label);
		rp_cell_str(rev, label);
		rp_cell_str(ltv, label);
		rp_cell_num(ret, (double)size);
		rp_cell_num(rev, (double)size);
		rp_cell_num(ltv, (double)size);
		int64_t cum = 0;
		for (size_t k = 0; k < n; k++) {
			int seen = k + i < n;   /* month i + k is not after A */
			const size_t cell = i * n + k;
			rp_cell_num(ret, seen ? mx_pct(act[cell], size) : NAN);
			rp_cell_num(rev, seen && size ? mx_money(r->cohort_revenue[cell]) : NAN);
			if (seen)
				cum += r->cohort_revenue[cell];   /* the row's total did not overflow */
			rp_cell_num(ltv, seen && size ? mx_money(cum) / (double)size : NAN);
		}
	}
}

static void emit_stages(const struct mx_ctx *ctx, const struct mx_retention *r,
			struct rp_section *sec)
{
	const struct mx_opts *o = &ctx->o;
	char line[512];
	snprintf(line, sizeof line,
		 "Lifecycle at A: prospect = no completed order; churned = last order more than %d "
		 "days ago; at_risk = no order for more than %g x the customer's median gap between "
		 "order days (%d days with one order day); new = one order, not at risk (one-order "
		 "customers older than %d days stay new until at risk: METRICS.md leaves them open); "
		 "growing / mature = 2+ orders, first order within / more than %d days ago.",
		 o->churn_window_days, o->at_risk_factor, o->at_risk_one_order_days, o->new_days,
		 o->growing_days);
	rp_note(sec, line);
	static const struct rp_col cols[] = {
		{ "stage", RP_TEXT }, { "customers", RP_COUNT }, { "share", RP_PERCENT },
		{ "net_revenue_to_date", RP_MONEY }, { "net_revenue_in_p", RP_MONEY },
		{ "net_revenue_per_customer", RP_MONEY },
	};
	size_t total = 0;
	for (int k = 0; k < MX_N_STAGES; k++)
		total += r->stage_n[k];
	struct rp_table *t = rp_table_new(sec, "stages", "Lifecycle stages at A", cols,
					  sizeof cols / sizeof cols[0]);
	for (int k = 0; k < MX_N_STAGES; k++) {
		rp_row(t);
		rp_cell_str(t, stage_names[k]);
		rp_cell_num(t, (double)r->stage_n[k]);
		rp_cell_num(t, mx_pct(r->stage_n[k], total));
		rp_cell_num(t, mx_money(r->stage_revenue[k]));
		rp_cell_num(t, mx_money(r->stage_revenue_p[k]));
		rp_cell_num(t, r->stage_n[k] ? mx_money(r->stage_revenue[k]) / (double)r->stage_n[k]
					     : NAN);
	}
	snprintf(line, sizeof line, "New customers whose order is within %d days of A", o->new_days);
	rp_value(sec, "new_recent", line, RP_COUNT, (double)r->new_recent);
	rp_value(sec, "not_yet", "Customers first known after A (left out)", RP_COUNT,
		 (double)r->not_yet);
	rp_value(sec, "prospect_leads", "Leads without a customer record, created by A",
		 RP_COUNT, ctx->in ? NAN : (double)r->prospect_leads);

	struct rp_col tc[MX_N_STAGES + 2];
	tc[0] = (struct rp_col){ "from", RP_TEXT };
	for (int k = 0; k < MX_N_STAGES; k++)
		tc[k + 1] = (struct rp_col){ stage_names[k], RP_COUNT };
	tc[MX_N_STAGES + 1] = (struct rp_col){ "total", RP_COUNT };
	t = rp_table_new(sec, "stage_transitions",
			 "Stage at start(P) (rows) to stage at end(P) (columns)", tc,
			 MX_N_STAGES + 2);
	for (int f = 0; f <= MX_N_STAGES; f++) {
		size_t sum = 0;
		rp_row(t);
		rp_cell_str(t, f < MX_N_STAGES ? stage_names[f] : "not_yet");
		for (int k = 0; k < MX_N_STAGES; k++) {
			rp_cell_num(t, (double)r->transition[f][k]);
			sum += r->transition[f][k];
		}
		rp_cell_num(t, (double)sum);
	}
}

static void emit_bands(const struct mx_ctx *ctx, const struct mx_retention *r,
		       struct rp_section *sec, struct crm_err *err, int *rc)
{
	int nb = r->n_bands;
	size_t nb1 = (size_t)nb + 1;
	char line[512];
	struct rp_col *cols = xmallocn(nb1 + 3, sizeof *cols);
	char *names = xmallocn(nb1, NAME_W);
	if (!cols || !names) {
		*rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
		goto done;
	}
	rp_note(sec, "Tier migration: the dataset keeps only each customer's current tier, so the "
		     "tier at start(P) is unknown; METRICS.md's fallback is used at both dates: the "
		     "spend band of the customer's net revenue to that date. Band cuts are the "
		     "quantiles of net revenue at end(P) of customers with an order by then, the same "
		     "cuts at both dates; band none = no order yet.");
	static const struct rp_col bc[] = {
		{ "band", RP_TEXT }, { "above", RP_MONEY }, { "up_to", RP_MONEY },
	};
	struct rp_table *t = rp_table_new(sec, "spend_bands", "Spend bands (net revenue to date)",
					  bc, 3);
	for (int b = 1; b <= nb && r->band_cut; b++) {
		snprintf(line, sizeof line, "b%d", b);
		rp_row(t);
		rp_cell_str(t, line);
		rp_cell_num(t, b > 1 ? r->band_cut[b - 2] / 10000.0 : NAN);
		rp_cell_num(t, b < nb ? r->band_cut[b - 1] / 10000.0 : NAN);
	}
	cols[0] = (struct rp_col){ "from", RP_TEXT };
	for (size_t b = 0; b < nb1; b++) {
		if (b == 0)
			snprintf(names, NAME_W, "none");
		else
			snprintf(names + NAME_W * b, NAME_W, "b%zu", b);
		cols[b + 1] = (struct rp_col){ names + NAME_W * b, RP_COUNT };
	}
	cols[nb1 + 1] = (struct rp_col){ "total", RP_COUNT };
	t = rp_table_new(sec, "band_migration",
			 "Spend band at start(P) (rows) to spend band at end(P) (columns)", cols, nb1 + 2);
	for (size_t f = 0; f < nb1; f++) {
		size_t sum = 0;
		rp_row(t);
		rp_cell_str(t, names + NAME_W * f);
		for (size_t b = 0; b < nb1; b++) {
			rp_cell_num(t, (double)r->band_migration[f * nb1 + b]);
			sum += r->band_migration[f * nb1 + b];
		}
		rp_cell_num(t, (double)sum);
	}
	rp_value(sec, "moves_up", "Moves to a higher spend band in P", RP_COUNT,
		 (double)r->n_moves_up);
	rp_value(sec, "median_days_up", "Median days in a band before moving up", RP_DAYS,
		 r->median_days_up);
	if (r->n_tiers) {
		const struct crm_table *cu = &ctx->ds->t[CRM_CUSTOMERS];
		cols[0] = (struct rp_col){ "tier", RP_TEXT };
		cols[1] = (struct rp_col){ "customers", RP_COUNT };
		cols[2] = (struct rp_col){ "median_net_revenue", RP_MONEY };
		for (size_t b = 0; b < nb1; b++)
			cols[b + 3] = (struct rp_col){ names + NAME_W * b, RP_COUNT };
		t = rp_table_new(sec, "tiers",
				 "Current tier (the tier field) by spend band at end(P)", cols, nb1 + 3);
		for (size_t k = 0; k < r->n_tiers; k++) {
			if (!r->tier_n[k])
				continue;
			rp_row(t);
			rp_cell_str(t, k ? strs_get(&cu->col[CRM_C_TIER].dict, k, NULL) : "(none)");
			rp_cell_num(t, (double)r->tier_n[k]);
			rp_cell_num(t, r->tier_median_net[k] / 10000.0);
			for (size_t b = 0; b < nb1; b++)
				rp_cell_num(t, (double)r->tier_band[k * nb1 + b]);
		}
	}
done:
	free(cols);
	free(names);
}

int mx_retention_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	struct mx_retention *r = NULL;
	int rc = mx_retention_compute(ctx, &r, err);
	if (rc != CRM_OK)
		return rc;
	const struct mx_opts *o = &ctx->o;
	char line[256];
	struct rp_section *sec = rp_section_new(d, "retention", ctx->group, "Customers over time");
	mx_param_period(sec, o->as_of, o->p_start, o->p_end, 1, NULL);
	snprintf(line, sizeof line, "%d days", o->churn_window_days);
	rp_param(sec, "churn window W", line);
	rp_param(sec, "cohort retention",
		 o->cohort == MX_COHORT_UNBOUNDED ? "unbounded" : "classic");
	snprintf(line, sizeof line, "%d quantile bands of net revenue to date", o->spend_bands);
	rp_param(sec, "tier", line);

	int has_orders = ctx->ds->t[CRM_ORDERS].n > 0;
	rp_value(sec, "customers_start", "Customers not churned at start(P)", RP_COUNT,
		 has_orders ? (double)r->churn_base : NAN);
	rp_value(sec, "churned", "Of them, churned at end(P)", RP_COUNT,
		 has_orders ? (double)r->churn_lost : NAN);
	rp_value(sec, "churn_rate", "Churn rate CCR", RP_PERCENT, 100.0 * r->ccr);
	rp_value(sec, "retention_rate", "Retention rate (1 - CCR)", RP_PERCENT,
		 100.0 * r->retention);
	rp_value(sec, "new_customers", "New customers in P (first order in P)", RP_COUNT,
		 has_orders ? (double)r->new_in_p : NAN);
	rp_value(sec, "active_end", "Customers not churned at end(P)", RP_COUNT,
		 has_orders ? (double)r->alive_end : NAN);
	snprintf(line, sizeof line,
		 "CCR = customers not churned at start(P) who are churned at end(P) / customers not "
		 "churned at start(P); churned at d = last completed order more than %d days before d.",
		 o->churn_window_days);
	rp_note(sec, line);
	rp_note(sec, "Predictive churn risk (1 - P(alive), BG/NBD) belongs to the models.");

	emit_cohorts(ctx, r, sec, err, &rc);
	if (rc == CRM_OK)
		emit_stages(ctx, r, sec);
	if (rc == CRM_OK)
		emit_bands(ctx, r, sec, err, &rc);
	mx_retention_free(r);
	if (rc != CRM_OK)
		return rc;
	return rp_doc_status(d, err);
}
