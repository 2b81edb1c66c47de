/* purchases.c - the purchases family of METRICS.md (metrics layer).
 * One pass over the orders up to A, customer by customer (rows are by
 * customer, then time), fills every counter: the channel mix (whose sums
 * are P's totals), each customer's net revenue in P (for the spend bands),
 * purchase days (inter-purchase time), the calendar-month grid of the
 * trends and the category windows. Large datasets run the pass on two
 * threads over two customer ranges and add the sums up. A day -> month
 * table replaces calendar arithmetic per row, and the row loop avoids
 * branches the data decides; a radix sort ranks the spend, and the median
 * gap comes from a histogram made in the pass. Definitions: METRICS.md and
 * docs/METRICS-NOTES.md. */
#include "metrics/purchases.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/tstamp.h"
#include "data/dataset.h"
#include "report/doc.h"

#define VEL_TOP_CATEGORIES 50   /* categories shown in the velocity table */
#define MOVERS_SHOWN 5          /* rows of the fastest and slowest movers */

/* ------------------------------------------------------------ ranking */

/* The radix key of a ranked value: ascending keys are descending values
 * (the sign bit flipped makes int64 order unsigned order; ~ reverses it). */
static inline uint64_t rank_key(int64_t v)
{
	return ~((uint64_t)v ^ ((uint64_t)1 << 63));
}

/* One LSD radix sort of r by rank_key over digits of `bits` bits (8),
 * counts holding 64 / bits histograms of 2^bits entries, zeroed. All
 * histograms come from one pass; a digit that is the same in every key is
 * skipped (money rarely uses the high bits). */
static void radix_by(struct mx_ranked *r, struct mx_ranked *tmp, size_t n, unsigned bits,
		     size_t *counts)
{
	const unsigned n_digits = 64 / bits;
	const uint64_t mask = ((uint64_t)1 << bits) - 1;
	const size_t size = (size_t)1 << bits;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = rank_key(r[i].v);
		for (unsigned d = 0; d < n_digits; d++)
			counts[d * size + ((key >> (d * bits)) & mask)]++;
	}
	struct mx_ranked *src = r, *dst = tmp;
	for (unsigned d = 0; d < n_digits; d++) {
		size_t *count = counts + d * size;
		if (count[(rank_key(src[0].v) >> (d * bits)) & mask] == n)
			continue;
		size_t pos = 0;
		for (size_t b = 0; b < size; b++) {
			size_t k = count[b];
			count[b] = pos;
			pos += k;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t key = rank_key(src[i].v);
			dst[count[(key >> (d * bits)) & mask]++] = src[i];
		}
		struct mx_ranked *x = src;
		src = dst;
		dst = x;
	}
	if (src != r)
		memcpy(r, src, n * sizeof *r);
}

/* The LSD radix sort of r by rank_key - lo for keys in [lo, lo + span]:
 * digits of at most 11 bits, as few as span needs (net revenue spans some
 * 30 bits: 3 passes). Few buckets a pass keep the scatter's write streams
 * in cache, which 65536 buckets (16-bit digits) do not: a million values
 * sort in half the time. 0, or -1 when the counts cannot be had. */
static int radix_span(struct mx_ranked *r, struct mx_ranked *tmp, size_t n, uint64_t lo,
		      uint64_t span)
{
	unsigned bits = 64 - (unsigned)__builtin_clzll(span);   /* span > 0 */
	unsigned n_digits = (bits + 10) / 11, w = (bits + n_digits - 1) / n_digits;
	const size_t size = (size_t)1 << w;
	const uint64_t mask = size - 1;
	size_t *counts = calloc(n_digits * size, sizeof *counts);
	if (!counts)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = rank_key(r[i].v) - lo;
		for (unsigned d = 0; d < n_digits; d++)
			counts[d * size + ((key >> (d * w)) & mask)]++;
	}
	struct mx_ranked *src = r, *dst = tmp;
	for (unsigned d = 0; d < n_digits; d++) {
		size_t *count = counts + d * size, pos = 0;
		for (size_t b = 0; b < size; b++) {
			size_t k = count[b];
			count[b] = pos;
			pos += k;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t key = rank_key(src[i].v) - lo;
			dst[count[(key >> (d * w)) & mask]++] = src[i];
		}
		struct mx_ranked *x = src;
		src = dst;
		dst = x;
	}
	if (src != r)
		memcpy(r, src, n * sizeof *r);
	free(counts);
	return 0;
}

void mx_rank_desc(struct mx_ranked *r, struct mx_ranked *tmp, size_t n)
{
	if (n < 2)
		return;
	/* large arrays: digits over the keys' span (radix_span); else, or when
	 * its counts cannot be had, 8-bit digits with the counts on the stack */
	if (n >= ((size_t)1 << 16)) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t k = rank_key(r[i].v);
			lo = k < lo ? k : lo;
			hi = k > hi ? k : hi;
		}
		if (hi == lo || radix_span(r, tmp, n, lo, hi - lo) == 0)
			return;   /* all equal: in order already */
	}
	size_t small[8 * 256];
	memset(small, 0, sizeof small);
	radix_by(r, tmp, n, 8, small);
}

int mx_bands_fill(const struct mx_ranked *r, size_t n, int k, struct mx_band *out,
		  struct crm_err *err)
{
	size_t kk = (size_t)k, q = n / kk, extra = n % kk, i = 0;
	int64_t all = 0;
	int ovf = 0;
	for (size_t b = 0; b < kk; b++) {
		struct mx_band *band = &out[b];
		size_t size = q + (b < extra);
		band->customers = size;
		band->total = 0;
		band->min = band->max = CRM_NA;
		if (size) {
			band->max = r[i].v;
			band->min = r[i + size - 1].v;
		}
		for (size_t j = 0; j < size; j++, i++)
			ovf |= __builtin_add_overflow(band->total, r[i].v, &band->total);
		ovf |= __builtin_add_overflow(all, band->total, &all);
	}
	if (ovf)
		return crm_err_set(err, CRM_ERANGE, "bands: a sum of money overflows int64");
	for (size_t b = 0; b < kk; b++)
		out[b].share = all > 0 ? 100.0 * (double)out[b].total / (double)all : NAN;
	return CRM_OK;
}

double mx_top_share(const struct mx_ranked *r, size_t n, int pct)
{
	if (n == 0)
		return NAN;
	/* long double: the sums are exact for any realistic total */
	long double all = 0, top = 0;
	size_t whole = n / 100 * (size_t)pct + n % 100 * (size_t)pct / 100;
	size_t rem = n % 100 * (size_t)pct % 100;   /* (pct n) mod 100 */
	for (size_t i = 0; i < n; i++) {
		all += (long double)r[i].v;
		if (i < whole)
			top += (long double)r[i].v;
	}
	if (whole < n)
		top += (long double)r[whole].v * (long double)rem / 100.0L;
	if (all <= 0)
		return NAN;
	return (double)(100.0L * top / all);
}

/* ------------------------------------------------------------ the pass */

/* The channel half of mx_order_counts (the customer half is checked once per
 * customer with mx_counts). */
static inline int channel_ok(const struct mx_ctx *ctx, const uint32_t *chan, size_t r)
{
	return ctx->order_channel == 0 || (chan && chan[r] == ctx->order_channel);
}

/* Calendar months of the days [d0, d0 + n_days): month[d - d0] is the month
 * of day d minus m0. */
struct month_grid {
	int64_t m0, d0;
	size_t n_days, n_months;
	uint32_t *month;
};

static int grid_init(struct month_grid *g, int64_t from, int64_t to)
{
	g->m0 = mx_month_of(from);
	int64_t m1 = mx_month_of(to);
	g->d0 = ts_day(mx_month_start(g->m0));
	g->n_days = (size_t)(ts_day(to) - g->d0 + 1);
	g->n_months = (size_t)(m1 - g->m0 + 1);
	g->month = xmallocn(g->n_days, sizeof *g->month);
	if (!g->month)
		return -1;
	size_t d = 0;
	for (int64_t m = g->m0; m <= m1; m++) {
		int64_t next = ts_day(mx_month_start(m + 1)) - g->d0;
		for (; d < g->n_days && (int64_t)d < next; d++)
			g->month[d] = (uint32_t)(m - g->m0);
	}
	return 0;
}

/* The classical multiplicative decomposition's seasonal figure (R's
 * stats::decompose): the centred 2x12 moving average, the ratio of each
 * month to it, the mean ratio per month of year, scaled to mean 1. y holds
 * n monthly values from month m_first. */
static void seasonal_index(const double *y, size_t n, int64_t m_first, double season[12],
			   size_t ratios[12])
{
	double sum[12] = { 0 };
	for (int k = 0; k < 12; k++) {
		season[k] = NAN;
		ratios[k] = 0;
	}
	if (n < 24)
		return;
	for (size_t i = 6; i + 6 < n; i++) {
		double ma = (y[i - 6] + y[i + 6]) / 2;
		for (size_t j = i - 5; j <= i + 5; j++)
			ma += y[j];
		ma /= 12;
		if (!(ma > 0))
			continue;   /* no level to compare with */
		size_t moy = (size_t)(((m_first + (int64_t)i) % 12 + 12) % 12);   /* 0 = January */
		sum[moy] += y[i] / ma;
		ratios[moy]++;
	}
	double mean = 0;
	int defined = 0;
	for (int k = 0; k < 12; k++)
		if (ratios[k]) {
			mean += sum[k] / (double)ratios[k];
			defined++;
		}
	if (!defined)
		return;
	mean /= defined;
	for (int k = 0; k < 12; k++)
		if (ratios[k])
			season[k] = sum[k] / (double)ratios[k] / mean;
}

static int mover_cmp(const void *pa, const void *pb)
{
	const struct mx_mover *a = pa, *b = pb;
	int na = isnan(a->growth), nb = isnan(b->growth);
	if (na != nb)
		return na - nb;
	if (!na && a->growth != b->growth)
		return a->growth > b->growth ? -1 : 1;
	return a->code < b->code ? -1 : a->code > b->code;
}

void mx_purchases_fini(struct mx_purchases *p)
{
	if (!p)
		return;
	free(p->channels);
	free(p->bands);
	free(p->months);
	free(p->cat_orders);
	free(p->cat_revenue);
	free(p->movers);
	p->channels = NULL;
	p->bands = NULL;
	p->months = NULL;
	p->cat_orders = NULL;
	p->cat_revenue = NULL;
	p->movers = NULL;
}

/* The median of the customers' mean gaps (a million of them on the
 * benchmark) without sorting or selecting among them all: the gaps fall
 * into GB_N buckets in their order, by the exponent and the first 8 bits
 * of the mantissa of the double (a gap is >= 1 day: no sign; buckets span
 * 1 .. 2^32 days, the ends catch the rest), counted in a histogram as the
 * pass makes them; only the one or two buckets of the middle ranks are
 * then sorted. */
#define GB_N 8192

static inline uint32_t gap_bucket(double g)
{
	uint64_t u;
	memcpy(&u, &g, sizeof u);   /* a positive double's bits are in its order */
	int64_t k = (int64_t)(u >> 44) - ((int64_t)1023 << 8);   /* 1.0 is bucket 0 */
	return k < 0 ? 0 : k >= GB_N ? GB_N - 1 : (uint32_t)k;
}

/* mx_select_median(v, n) (n > 0, the values > 0) to the bit, with hist[b]
 * the number of values of bucket b; v is overwritten. */
static double gap_median(double *v, size_t n, const uint32_t *hist)
{
	/* the middle ranks: equal for an odd n */
	size_t rank[2] = { (n - 1) / 2, n / 2 }, sel[2] = { 0, 0 }, below = 0, taken = 0;
	uint32_t take[2] = { GB_N, GB_N };
	for (size_t b = 0, i = 0; b < GB_N && i < 2; b++) {
		if (rank[i] < below + hist[b]) {
			for (; i < 2 && rank[i] < below + hist[b]; i++) {
				take[i] = (uint32_t)b;
				sel[i] = rank[i] - below + taken;
			}
			taken += hist[b];
		}
		below += hist[b];
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t b = gap_bucket(v[i]);
		if (b == take[0] || b == take[1])
			v[m++] = v[i];
	}
	mx_quantile(v, m, 0);   /* sorts v[0..m): the buckets' values in order */
	if (n % 2)
		return v[sel[1]];
	return (v[sel[0]] + v[sel[1]]) / 2;   /* as mx_select_median */
}

/* What every share of the pass reads. */
struct pass_in {
	const struct mx_ctx *ctx;
	int64_t A, ps, pe, ns_age;      /* as-of, P, the no-second-order age (s) */
	int64_t d0, cat_w0, cat_v0;     /* grid's first day; velocity windows' and
	                                   P's first month, as grid month indexes */
	size_t n_days, n_vm;            /* days of the grid; months of P counted */
	const uint32_t *day_month;      /* grid.month */
	const uint64_t *bc;
	const int64_t *at, *amount;
	const uint32_t *status, *chan, *cat;
};

/* One thread's share of the pass: customers [c_lo, c_hi) and what they add
 * up to. Shares never write the same memory; their sums are added after. */
struct pass {
	const struct pass_in *in;
	size_t c_lo, c_hi;
	struct mx_month *months;        /* grid months */
	struct mx_channel_mix *mix;     /* per channel code */
	uint32_t *cnt, *touched;        /* per channel code, scratch per customer */
	size_t *cat_orders, *win_orders; /* per category x P month / x 6 windows */
	int64_t *cat_revenue, *win_rev;
	struct mx_ranked *ranked;       /* up to c_hi - c_lo: net revenue in P */
	double *gaps;                   /* up to c_hi - c_lo: mean gaps */
	uint32_t *gap_hist;             /* GB_N: mean gaps per gap_bucket */
	size_t n_ranked, n_gaps;
	size_t customers, repeaters, buyers, buyers_repeat, ns_eligible, ns_one;
	size_t return_orders;
	int64_t span_days;
	int any_category, ovf;
	size_t bad_row;                 /* SIZE_MAX, or an order before the grid */
};

/* The kind of row r as mx_kind_of, with the usual row (status none or
 * completed, an amount >= 0) decided by one test. */
static inline int row_kind(const uint32_t *status, const int64_t *amount, size_t r)
{
	uint32_t st = status ? status[r] : CRM_STATUS_NA;
	if (st <= CRM_STATUS_COMPLETED && amount[r] >= 0)   /* CRM_NA is < 0 */
		return MX_COMPLETED;
	return mx_kind_of(status, amount, r);
}

/* The pass over the customers of a share. The row loop avoids branches
 * whose outcome the data decides (a new month, a new day, in P or not, a
 * channel's first order): they would mispredict a few times a customer.
 * Days are counted from the grid's first day: (t - t0) / 86400 unsigned,
 * which a time before the grid wraps around to a day past its end. */
static void *pass_run(void *arg)
{
	struct pass *sh = arg;
	const struct pass_in *in = sh->in;
	const struct mx_ctx *ctx = in->ctx;
	const int64_t A = in->A, ps = in->ps, pe = in->pe;
	const uint64_t t0 = (uint64_t)(in->d0 * SECS_PER_DAY);
	const int64_t *at = in->at, *amount = in->amount;
	const uint32_t *status = in->status, *chan = in->chan, *cat = in->cat;
	const uint32_t *day_month = in->day_month;
	struct mx_month *months = sh->months;
	struct mx_channel_mix *mix = sh->mix;
	uint32_t *cnt = sh->cnt, *touched = sh->touched;
	int ovf = 0, any_category = 0;
	for (size_t c = sh->c_lo; c < sh->c_hi; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		size_t n_comp = 0, n_comp_p = 0, n_days = 0, n_touched = 0;
		int64_t net_p = 0, first_t = 0, first_day = 0, last_day = 0;
		int64_t last_active = -1;
		size_t not_seen = 1;   /* 1 until the first completed order */
		for (uint64_t r = in->bc[c], end = in->bc[c + 1]; r < end; r++) {
			int64_t when = at[r], a = amount[r];
			if (when > A)
				break;   /* rows are in time order */
			if (when == CRM_NA || a == CRM_NA || !channel_ok(ctx, chan, r))
				continue;
			int kind = row_kind(status, amount, r);
			if (kind == MX_CANCELLED)
				continue;
			uint64_t day = ((uint64_t)when - t0) / SECS_PER_DAY;
			if (day >= in->n_days) {
				sh->bad_row = (size_t)r;
				return NULL;
			}
			int64_t mi = day_month[day];
			struct mx_month *mo = &months[mi];
			int in_p = (when >= ps) & (when < pe);
			uint32_t ch = chan ? chan[r] : 0;
			if (kind == MX_RETURN) {
				int64_t v = a < 0 ? -a : a;   /* METRICS.md: by its absolute value */
				ovf |= __builtin_add_overflow(mo->returns, v, &mo->returns);
				if (in_p) {
					sh->return_orders++;
					ovf |= __builtin_sub_overflow(net_p, v, &net_p);
					ovf |= __builtin_add_overflow(mix[ch].returns, v, &mix[ch].returns);
				}
				continue;
			}
			mo->orders++;
			ovf |= __builtin_add_overflow(mo->revenue, a, &mo->revenue);
			mo->active += (size_t)(mi != last_active);
			mo->new_customers += not_seen;   /* the month of the first */
			not_seen = 0;
			last_active = mi;
			if (n_comp++ == 0) {
				first_t = when;
				first_day = last_day = (int64_t)day;
				n_days = 1;
			}
			n_days += (size_t)((int64_t)day != last_day);
			last_day = (int64_t)day;
			if (cat) {
				uint32_t k = cat[r];
				int64_t w = mi - in->cat_w0;
				any_category |= k != 0;
				if (w >= 0 && w < 6) {
					size_t cell = k * 6 + (size_t)w;
					sh->win_orders[cell]++;
					ovf |= __builtin_add_overflow(sh->win_rev[cell], a, &sh->win_rev[cell]);
				}
				if (in_p && in->n_vm) {
					size_t cell = k * in->n_vm + (size_t)(mi - in->cat_v0);
					sh->cat_orders[cell]++;
					ovf |= __builtin_add_overflow(sh->cat_revenue[cell], a,
								      &sh->cat_revenue[cell]);
				}
			}
			/* in P: the amount, else 0 */
			int64_t a_p = a & -(int64_t)in_p;
			n_comp_p += (size_t)in_p;
			ovf |= __builtin_add_overflow(net_p, a_p, &net_p);
			mix[ch].orders += (size_t)in_p;
			ovf |= __builtin_add_overflow(mix[ch].revenue, a_p, &mix[ch].revenue);
			touched[n_touched] = ch;   /* kept at the channel's first order in P */
			n_touched += (size_t)(in_p & (cnt[ch] == 0));
			cnt[ch] += (uint32_t)in_p;
		}
		if (n_comp_p) {
			sh->customers++;
			sh->repeaters += n_comp_p >= 2;
			sh->ranked[sh->n_ranked].v = net_p;
			sh->ranked[sh->n_ranked++].id = (uint32_t)c;
		}
		for (size_t i = 0; i < n_touched; i++) {
			uint32_t ch = touched[i];
			mix[ch].customers++;
			mix[ch].repeaters += cnt[ch] >= 2;
			cnt[ch] = 0;
		}
		if (n_comp) {
			sh->buyers++;
			sh->buyers_repeat += n_comp >= 2;
			if (A - first_t > in->ns_age) {
				sh->ns_eligible++;
				sh->ns_one += n_comp == 1;
			}
		}
		if (n_days >= 2) {
			double g = (double)(last_day - first_day) / (double)(n_days - 1);
			sh->gaps[sh->n_gaps++] = g;
			sh->gap_hist[gap_bucket(g)]++;
			sh->span_days += last_day - first_day;
		}
	}
	sh->any_category = any_category;
	sh->ovf = ovf;
	return NULL;
}

/* Allocates the zeroed accumulators of a share; 0, or -1 (pass_free frees
 * what was had). */
static int pass_alloc(struct pass *p, size_t n_months, size_t n_ch, size_t n_cat, size_t n_vm)
{
	size_t cells = n_cat * (n_vm ? n_vm : 1);
	p->months = calloc(n_months, sizeof *p->months);
	p->cat_orders = n_cat ? calloc(cells, sizeof *p->cat_orders) : NULL;
	p->cat_revenue = n_cat ? calloc(cells, sizeof *p->cat_revenue) : NULL;
	p->mix = calloc(n_ch, sizeof *p->mix);
	p->cnt = calloc(n_ch, sizeof *p->cnt);
	p->touched = xmallocn(n_ch + 1, sizeof *p->touched);   /* + 1: written ahead */
	p->win_orders = n_cat ? calloc(n_cat * 6, sizeof *p->win_orders) : NULL;
	p->win_rev = n_cat ? calloc(n_cat * 6, sizeof *p->win_rev) : NULL;
	p->gap_hist = calloc(GB_N, sizeof *p->gap_hist);
	p->bad_row = SIZE_MAX;
	return p->months && p->mix && p->cnt && p->touched && p->gap_hist &&
	       (!n_cat || (p->cat_orders && p->cat_revenue && p->win_orders && p->win_rev)) ? 0 : -1;
}

static void pass_free(struct pass *p)
{
	free(p->months);
	free(p->cat_orders);
	free(p->cat_revenue);
	free(p->mix);
	free(p->cnt);
	free(p->touched);
	free(p->win_orders);
	free(p->win_rev);
	free(p->gap_hist);
}

/* Adds share b's sums into a (ranked and gaps are joined by the caller). */
static void pass_merge(struct pass *a, const struct pass *b, size_t n_months, size_t n_ch,
		      size_t n_cat, size_t n_vm)
{
	int ovf = 0;
	for (size_t i = 0; i < n_months; i++) {
		struct mx_month *x = &a->months[i];
		const struct mx_month *y = &b->months[i];
		x->orders += y->orders;
		x->active += y->active;
		x->new_customers += y->new_customers;
		ovf |= __builtin_add_overflow(x->revenue, y->revenue, &x->revenue);
		ovf |= __builtin_add_overflow(x->returns, y->returns, &x->returns);
	}
	for (size_t ch = 0; ch < n_ch; ch++) {
		struct mx_channel_mix *x = &a->mix[ch];
		const struct mx_channel_mix *y = &b->mix[ch];
		x->orders += y->orders;
		x->customers += y->customers;
		x->repeaters += y->repeaters;
		ovf |= __builtin_add_overflow(x->revenue, y->revenue, &x->revenue);
		ovf |= __builtin_add_overflow(x->returns, y->returns, &x->returns);
	}
	for (size_t i = 0; i < n_cat * n_vm; i++) {
		a->cat_orders[i] += b->cat_orders[i];
		ovf |= __builtin_add_overflow(a->cat_revenue[i], b->cat_revenue[i], &a->cat_revenue[i]);
	}
	for (size_t i = 0; i < n_cat * 6; i++) {
		a->win_orders[i] += b->win_orders[i];
		ovf |= __builtin_add_overflow(a->win_rev[i], b->win_rev[i], &a->win_rev[i]);
	}
	for (size_t i = 0; i < GB_N; i++)
		a->gap_hist[i] += b->gap_hist[i];
	a->customers += b->customers;
	a->repeaters += b->repeaters;
	a->buyers += b->buyers;
	a->buyers_repeat += b->buyers_repeat;
	a->ns_eligible += b->ns_eligible;
	a->ns_one += b->ns_one;
	a->return_orders += b->return_orders;
	a->span_days += b->span_days;
	a->any_category |= b->any_category;
	a->ovf |= b->ovf | ovf;
	if (a->bad_row == SIZE_MAX)
		a->bad_row = b->bad_row;
}

int mx_purchases_compute(const struct mx_ctx *ctx, struct mx_purchases *out,
			 struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_ORDERS];
	const int64_t A = ctx->o.as_of, ps = ctx->o.p_start, pe = ctx->o.p_end;
	struct month_grid grid = { 0, 0, 0, 0, NULL };
	struct pass part[2];
	struct mx_ranked *ranked = NULL, *scratch = NULL;
	double *gaps = NULL, *series = NULL;
	size_t n_ch = 1, n_cat = 0;
	int rc = CRM_OK, ovf = 0, allocated = 0;

	memset(out, 0, sizeof *out);
	memset(part, 0, sizeof part);
	out->as_of = A;
	out->p_start = ps;
	out->p_end = pe;
	out->aov = out->net_per_order = out->frequency = out->repeat_rate = NAN;
	out->repeat_rate_to_date = out->ns_share = NAN;
	out->ipt_median = out->ipt_mean = out->span_mean = out->top20_share = NAN;
	for (int k = 0; k < 12; k++)
		out->season[k] = NAN;
	out->n_bands = ctx->o.spend_bands;
	if (out->n_bands < 1 || out->n_bands > 100)
		return crm_err_set(err, CRM_EINVAL, "purchases: spend bands %d: must be 1 to 100",
				   out->n_bands);
	if (ctx->o.no_second_days < 0)
		return crm_err_set(err, CRM_EINVAL, "purchases: no-second-order age %d days: "
				   "must not be negative", ctx->o.no_second_days);
	out->bands = calloc((size_t)out->n_bands, sizeof *out->bands);
	if (!out->bands) {
		rc = crm_err_set(err, CRM_ENOMEM, "purchases: out of memory");
		goto done;
	}
	for (int b = 0; b < out->n_bands; b++)
		out->bands[b].min = out->bands[b].max = CRM_NA;
	out->has_orders = t->n > 0;
	if (!out->has_orders || ds->first_at == CRM_NA || ds->first_at > A)
		goto done;   /* nothing bought up to A: every count stays 0 */
	if (!t->by_customer || !t->col[CRM_O_ORDERED_AT].i64 || !t->col[CRM_O_AMOUNT].i64) {
		rc = crm_err_set(err, CRM_EINVAL, "purchases: the orders table is not laid out");
		goto done;
	}

	struct pass_in in;
	memset(&in, 0, sizeof in);
	in.ctx = ctx;
	in.A = A;
	in.ps = ps;
	in.pe = pe;
	in.ns_age = (int64_t)ctx->o.no_second_days * SECS_PER_DAY;
	in.bc = t->by_customer;
	in.at = t->col[CRM_O_ORDERED_AT].i64;
	in.amount = t->col[CRM_O_AMOUNT].i64;
	in.status = t->col[CRM_O_STATUS].cat;
	in.chan = t->col[CRM_O_CHANNEL].cat;
	in.cat = t->col[CRM_O_CATEGORY].cat;
	/* a column whose dictionary holds only "" is all missing (the builder
	 * keeps such columns for absent fields): reading it would only cost */
	if (in.chan && t->col[CRM_O_CHANNEL].dict.n > 1)
		n_ch = t->col[CRM_O_CHANNEL].dict.n;
	else
		in.chan = NULL;
	if (in.cat && t->col[CRM_O_CATEGORY].dict.n > 1)
		n_cat = t->col[CRM_O_CATEGORY].dict.n;
	else
		in.cat = NULL;

	if (grid_init(&grid, ds->first_at, A) != 0)
		goto nomem;
	in.d0 = grid.d0;
	in.n_days = grid.n_days;
	in.day_month = grid.month;
	/* the last complete calendar month (A's own when A is its last second)
	 * and the velocity windows: prev 3 = [lc - 5, lc - 2), last 3 = [lc - 2, lc] */
	int64_t mA = mx_month_of(A);
	int64_t lc = mx_month_start(mA + 1) == A + 1 ? mA : mA - 1;
	out->last3_first = lc - 2;
	in.cat_w0 = lc - 5 - grid.m0;
	/* months of P up to A, not before the grid */
	int64_t p_last = pe - 1 < A ? pe - 1 : A;
	out->vm_first = mx_month_of(ps) > grid.m0 ? mx_month_of(ps) : grid.m0;
	if (ps <= p_last && mx_month_of(p_last) >= out->vm_first)
		out->n_vmonths = (size_t)(mx_month_of(p_last) - out->vm_first + 1);
	in.cat_v0 = out->vm_first - grid.m0;
	in.n_vm = out->n_vmonths;
	out->n_categories = n_cat;

	/* two shares of customers with half of the order rows each, on two
	 * threads when the orders are many (as crm_summary_compute) */
	size_t mid = ds_split_customers(ds);
	ranked = xmallocn(ds->n_customers, sizeof *ranked);
	gaps = xmallocn(ds->n_customers, sizeof *gaps);
	allocated = 1;
	int two = mid > 0 && mid < ds->n_customers;
	if (!ranked || !gaps ||
	    pass_alloc(&part[0], grid.n_months, n_ch, n_cat, out->n_vmonths) != 0 ||
	    (two && pass_alloc(&part[1], grid.n_months, n_ch, n_cat, out->n_vmonths) != 0))
		goto nomem;
	for (int k = 0; k < 2; k++) {
		part[k].in = &in;
		part[k].c_lo = k ? mid : 0;
		part[k].c_hi = k ? ds->n_customers : mid;
		part[k].ranked = ranked + part[k].c_lo;
		part[k].gaps = gaps + part[k].c_lo;
	}
	if (two) {
		pthread_t th;
		int threaded = pthread_create(&th, NULL, pass_run, &part[1]) == 0;
		pass_run(&part[0]);
		if (threaded)
			pthread_join(th, NULL);
		else
			pass_run(&part[1]);
		pass_merge(&part[0], &part[1], grid.n_months, n_ch, n_cat, out->n_vmonths);
		/* thread 1's ranks and gaps follow thread 0's, in customer order */
		memmove(ranked + part[0].n_ranked, part[1].ranked,
			part[1].n_ranked * sizeof *ranked);
		memmove(gaps + part[0].n_gaps, part[1].gaps, part[1].n_gaps * sizeof *gaps);
		part[0].n_ranked += part[1].n_ranked;
		part[0].n_gaps += part[1].n_gaps;
	} else {
		part[0].c_hi = ds->n_customers;
		pass_run(&part[0]);
	}
	struct pass *p0 = &part[0];
	if (p0->bad_row != SIZE_MAX) {
		rc = crm_err_set(err, CRM_EINVAL, "purchases: order row %zu is before the "
				 "dataset's first event", p0->bad_row);
		goto done;
	}
	/* the pass's sums become out's */
	out->months = p0->months;
	out->cat_orders = p0->cat_orders;
	out->cat_revenue = p0->cat_revenue;
	p0->months = NULL;
	p0->cat_orders = NULL;
	p0->cat_revenue = NULL;
	out->customers = p0->customers;
	out->repeaters = p0->repeaters;
	out->buyers = p0->buyers;
	out->buyers_repeat = p0->buyers_repeat;
	out->ns_eligible = p0->ns_eligible;
	out->ns_one = p0->ns_one;
	out->return_orders = p0->return_orders;
	out->has_categories = p0->any_category;
	size_t n_ranked = p0->n_ranked, n_gaps = p0->n_gaps;
	struct mx_channel_mix *mix = p0->mix;
	ovf = p0->ovf;
	/* P's totals are the channels' */
	for (size_t ch = 0; ch < n_ch; ch++) {
		out->orders += mix[ch].orders;
		ovf |= __builtin_add_overflow(out->revenue, mix[ch].revenue, &out->revenue);
		ovf |= __builtin_add_overflow(out->returns, mix[ch].returns, &out->returns);
	}
	if (ovf)
		goto range;

	/* P */
	if (__builtin_sub_overflow(out->revenue, out->returns, &out->net_revenue))
		goto range;
	if (out->orders) {
		out->aov = mx_money(out->revenue) / (double)out->orders;
		out->net_per_order = mx_money(out->net_revenue) / (double)out->orders;
	}
	if (out->customers) {
		out->frequency = (double)out->orders / (double)out->customers;
		out->repeat_rate = 100.0 * (double)out->repeaters / (double)out->customers;
	}
	if (out->buyers)
		out->repeat_rate_to_date = 100.0 * (double)out->buyers_repeat / (double)out->buyers;
	if (out->ns_eligible)
		out->ns_share = 100.0 * (double)out->ns_one / (double)out->ns_eligible;

	/* inter-purchase time */
	out->ipt_customers = n_gaps;
	if (n_gaps) {
		double sum = 0;
		for (size_t i = 0; i < n_gaps; i++)
			sum += gaps[i];
		out->ipt_mean = sum / (double)n_gaps;
		out->ipt_median = gap_median(gaps, n_gaps, p0->gap_hist);
		out->span_mean = (double)p0->span_days / (double)n_gaps;
	}

	/* spend bands */
	out->band_customers = n_ranked;
	scratch = xmallocn(n_ranked, sizeof *scratch);
	if (!scratch)
		goto nomem;
	mx_rank_desc(ranked, scratch, n_ranked);
	if ((rc = mx_bands_fill(ranked, n_ranked, out->n_bands, out->bands, err)) != CRM_OK)
		goto done;
	out->top20_share = mx_top_share(ranked, n_ranked, 20);

	/* channel mix: the channels with orders or returns in P */
	out->channels = xmallocn(n_ch, sizeof *out->channels);
	if (!out->channels)
		goto nomem;
	for (size_t ch = 0; ch < n_ch; ch++) {
		struct mx_channel_mix *m = &mix[ch];
		if (!m->orders && !m->returns)
			continue;
		m->code = (uint32_t)ch;
		if (__builtin_sub_overflow(m->revenue, m->returns, &m->net_revenue))
			goto range;
		m->aov = m->orders ? mx_money(m->revenue) / (double)m->orders : NAN;
		m->repeat_rate = m->customers ? 100.0 * (double)m->repeaters / (double)m->customers
					      : NAN;
		out->channels[out->n_channels++] = *m;
	}

	/* trends: from the first month with a counted order */
	size_t first = 0;
	while (first < grid.n_months && !out->months[first].orders && !out->months[first].returns)
		first++;
	out->n_months = grid.n_months - first;
	memmove(out->months, out->months + first, out->n_months * sizeof *out->months);
	for (size_t i = 0; i < out->n_months; i++) {
		struct mx_month *m = &out->months[i];
		m->month = grid.m0 + (int64_t)(first + i);
		if (__builtin_sub_overflow(m->revenue, m->returns, &m->net_revenue))
			goto range;
		m->returning = m->active - m->new_customers;
		m->complete = m->month <= lc;
		m->mom = i >= 1 && out->months[i - 1].revenue > 0
			 ? 100.0 * ((double)m->revenue / (double)out->months[i - 1].revenue - 1) : NAN;
		m->yoy = i >= 12 && out->months[i - 12].revenue > 0
			 ? 100.0 * ((double)m->revenue / (double)out->months[i - 12].revenue - 1) : NAN;
	}

	/* seasonality over the complete months */
	size_t n_complete = 0;
	while (n_complete < out->n_months && out->months[n_complete].complete)
		n_complete++;
	out->season_months = n_complete;
	if (n_complete) {
		series = xmallocn(n_complete, sizeof *series);
		if (!series)
			goto nomem;
		for (size_t i = 0; i < n_complete; i++)
			series[i] = mx_money(out->months[i].revenue);
		seasonal_index(series, n_complete, out->months[0].month, out->season,
			       out->season_ratios);
	}

	/* category movers */
	if (n_cat && out->has_categories) {
		out->movers = xmallocn(n_cat, sizeof *out->movers);
		if (!out->movers)
			goto nomem;
		for (size_t k = 0; k < n_cat; k++) {
			struct mx_mover mv;
			memset(&mv, 0, sizeof mv);
			mv.code = (uint32_t)k;
			for (size_t w = 0; w < 6; w++) {
				if (w < 3) {
					mv.orders_prev += p0->win_orders[k * 6 + w];
					ovf |= __builtin_add_overflow(mv.revenue_prev, p0->win_rev[k * 6 + w],
								      &mv.revenue_prev);
				} else {
					mv.orders_last += p0->win_orders[k * 6 + w];
					ovf |= __builtin_add_overflow(mv.revenue_last, p0->win_rev[k * 6 + w],
								      &mv.revenue_last);
				}
			}
			if (!mv.orders_prev && !mv.orders_last)
				continue;
			mv.growth = mv.revenue_prev > 0
				    ? 100.0 * ((double)mv.revenue_last / (double)mv.revenue_prev - 1)
				    : NAN;
			out->n_growth += mv.revenue_prev > 0;
			out->movers[out->n_movers++] = mv;
		}
		if (ovf)
			goto range;
		qsort(out->movers, out->n_movers, sizeof *out->movers, mover_cmp);
	}
	goto done;

nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "purchases: out of memory (%zu customers, %zu orders)",
			 ds->n_customers, t->n);
	goto done;
range:
	rc = crm_err_set(err, CRM_ERANGE, "purchases: a sum of money overflows int64");
done:
	free(grid.month);
	if (allocated) {
		pass_free(&part[0]);
		pass_free(&part[1]);
	}
	free(ranked);
	free(scratch);
	free(gaps);
	free(series);
	if (rc != CRM_OK)
		mx_purchases_fini(out);
	return rc;
}

/* ------------------------------------------------------------ the report */

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static double money_or_nan(const struct mx_purchases *p, int64_t v)
{
	return p->has_orders ? mx_money(v) : NAN;
}

static void emit_mix(struct rp_section *s, const struct mx_purchases *p,
		     const struct crm_column *chan)
{
	static const struct rp_col cols[] = {
		{ "channel", RP_TEXT }, { "orders", RP_COUNT }, { "revenue", RP_MONEY },
		{ "returns", RP_MONEY }, { "net revenue", RP_MONEY },
		{ "net revenue share", RP_PERCENT }, { "customers", RP_COUNT },
		{ "AOV", RP_MONEY }, { "repeat rate", RP_PERCENT },
	};
	struct rp_table *tb = rp_table_new(s, "channel_mix", "Channel mix in P (order channel)",
					   cols, sizeof cols / sizeof cols[0]);
	for (size_t i = 0; i < p->n_channels; i++) {
		const struct mx_channel_mix *m = &p->channels[i];
		rp_row(tb);
		rp_cell_str(tb, mx_code_name(chan, m->code, "(none)"));
		rp_cell_num(tb, (double)m->orders);
		rp_cell_num(tb, mx_money(m->revenue));
		rp_cell_num(tb, mx_money(m->returns));
		rp_cell_num(tb, mx_money(m->net_revenue));
		rp_cell_num(tb, p->net_revenue > 0
				? 100.0 * (double)m->net_revenue / (double)p->net_revenue : NAN);
		rp_cell_num(tb, (double)m->customers);
		rp_cell_num(tb, m->aov);
		rp_cell_num(tb, m->repeat_rate);
	}
}

static void emit_bands(struct rp_section *s, const struct mx_purchases *p)
{
	static const struct rp_col cols[] = {
		{ "band", RP_TEXT }, { "customers", RP_COUNT }, { "lowest", RP_MONEY },
		{ "highest", RP_MONEY }, { "net revenue", RP_MONEY }, { "share", RP_PERCENT },
		{ "mean per customer", RP_MONEY },
	};
	struct rp_table *tb = rp_table_new(s, "spend_bands",
					   "Spend bands: active customers by net revenue in P",
					   cols, sizeof cols / sizeof cols[0]);
	char name[16];
	for (int b = 0; b < p->n_bands; b++) {
		const struct mx_band *band = &p->bands[b];
		snprintf(name, sizeof name, "%d", b + 1);
		rp_row(tb);
		rp_cell_str(tb, name);
		rp_cell_num(tb, mx_count_or_nan(p->has_orders, band->customers));
		rp_cell_num(tb, band->customers ? mx_money(band->min) : NAN);
		rp_cell_num(tb, band->customers ? mx_money(band->max) : NAN);
		rp_cell_num(tb, money_or_nan(p, band->total));
		rp_cell_num(tb, band->share);
		rp_cell_num(tb, band->customers ? mx_money(band->total) / (double)band->customers : NAN);
	}
}

static void emit_trends(struct rp_section *s, const struct mx_purchases *p)
{
	static const struct rp_col cols[] = {
		{ "month", RP_TEXT }, { "orders", RP_COUNT }, { "revenue", RP_MONEY },
		{ "returns", RP_MONEY }, { "net revenue", RP_MONEY }, { "active", RP_COUNT },
		{ "new", RP_COUNT }, { "returning", RP_COUNT }, { "revenue MoM", RP_PERCENT },
		{ "revenue YoY", RP_PERCENT },
	};
	struct rp_table *tb = rp_table_new(s, "trends", "Monthly trends (calendar months, UTC)",
					   cols, sizeof cols / sizeof cols[0]);
	char label[8];
	for (size_t i = 0; i < p->n_months; i++) {
		const struct mx_month *m = &p->months[i];
		mx_month_label(m->month, label);
		rp_row(tb);
		rp_cell_str(tb, label);
		rp_cell_num(tb, (double)m->orders);
		rp_cell_num(tb, mx_money(m->revenue));
		rp_cell_num(tb, mx_money(m->returns));
		rp_cell_num(tb, mx_money(m->net_revenue));
		rp_cell_num(tb, (double)m->active);
		rp_cell_num(tb, (double)m->new_customers);
		rp_cell_num(tb, (double)m->returning);
		rp_cell_num(tb, m->mom);
		rp_cell_num(tb, m->yoy);
	}
	if (p->n_months && !p->months[p->n_months - 1].complete) {
		char line[128];
		mx_month_label(p->months[p->n_months - 1].month, label);
		snprintf(line, sizeof line, "The last month, %s, is partial: counted up to A.", label);
		rp_note(s, line);
	}
}

static void emit_season(struct rp_section *s, const struct mx_purchases *p)
{
	static const struct rp_col cols[] = {
		{ "month", RP_TEXT }, { "seasonal index", RP_NUMBER }, { "ratios", RP_COUNT },
	};
	struct rp_table *tb = rp_table_new(s, "seasonality",
					   "Seasonal index of revenue per month of year (1 = average)",
					   cols, sizeof cols / sizeof cols[0]);
	for (int k = 0; k < 12; k++) {
		rp_row(tb);
		rp_cell_str(tb, month_names[k]);
		rp_cell_num(tb, p->season[k]);
		rp_cell_num(tb, (double)p->season_ratios[k]);
	}
	char line[256];
	snprintf(line, sizeof line, "Seasonality: classical multiplicative decomposition (as R's "
		 "decompose): revenue / centred 2x12 moving average, averaged per month of year "
		 "and scaled to mean 1, over %zu complete months%s.", p->season_months,
		 p->season_months < 24 ? "; it needs 24, so no data" : "");
	rp_note(s, line);
}

/* Orders in P per category per month, for the VEL_TOP_CATEGORIES categories
 * with the most revenue in P. */
static int emit_velocity(struct rp_section *s, const struct mx_purchases *p,
			 const struct crm_column *catcol, struct crm_err *err)
{
	static const struct rp_col cols[] = {
		{ "category", RP_TEXT }, { "month", RP_TEXT }, { "orders", RP_COUNT },
		{ "revenue", RP_MONEY },
	};
	static const struct rp_col mcols[] = {
		{ "category", RP_TEXT }, { "revenue prev 3m", RP_MONEY },
		{ "revenue last 3m", RP_MONEY }, { "growth", RP_PERCENT },
		{ "orders prev 3m", RP_COUNT }, { "orders last 3m", RP_COUNT },
	};
	struct rp_table *tb = rp_table_new(s, "velocity", "Orders and revenue in P per category "
					   "and month", cols, sizeof cols / sizeof cols[0]);
	struct rp_table *fast = rp_table_new(s, "movers_fastest", "Fastest movers: revenue growth "
					     "of the last 3 complete months over the 3 before",
					     mcols, sizeof mcols / sizeof mcols[0]);
	struct rp_table *slow = rp_table_new(s, "movers_slowest", "Slowest movers: revenue growth "
					     "of the last 3 complete months over the 3 before",
					     mcols, sizeof mcols / sizeof mcols[0]);
	char line[256], label[8], from[8], to[8];
	if (!p->has_categories) {
		rp_note(s, "Category velocity: no data (no counted order has a category).");
		return CRM_OK;
	}
	size_t n_vm = p->n_vmonths;
	struct mx_ranked *top = xmallocn(p->n_categories, sizeof *top);
	struct mx_ranked *tmp = xmallocn(p->n_categories, sizeof *tmp);
	if (!top || !tmp) {
		free(top);
		free(tmp);
		return crm_err_set(err, CRM_ENOMEM, "purchases: out of memory");
	}
	size_t n_top = 0;
	for (size_t k = 0; k < p->n_categories && n_vm; k++) {
		int64_t rev = 0;
		size_t orders = 0;
		for (size_t j = 0; j < n_vm; j++) {
			rev += p->cat_revenue[k * n_vm + j];   /* within P's checked total */
			orders += p->cat_orders[k * n_vm + j];
		}
		if (orders) {
			top[n_top].v = rev;
			top[n_top++].id = (uint32_t)k;
		}
	}
	mx_rank_desc(top, tmp, n_top);
	size_t shown = n_top < VEL_TOP_CATEGORIES ? n_top : VEL_TOP_CATEGORIES;
	for (size_t i = 0; i < shown; i++) {
		size_t k = top[i].id;
		for (size_t j = 0; j < n_vm; j++) {
			mx_month_label(p->vm_first + (int64_t)j, label);
			rp_row(tb);
			rp_cell_str(tb, mx_code_name(catcol, (uint32_t)k, "(none)"));
			rp_cell_str(tb, label);
			rp_cell_num(tb, (double)p->cat_orders[k * n_vm + j]);
			rp_cell_num(tb, mx_money(p->cat_revenue[k * n_vm + j]));
		}
	}
	free(top);
	free(tmp);
	if (n_top > shown) {
		snprintf(line, sizeof line, "Velocity table: the %zu categories with the most revenue "
			 "in P; %zu more are left out.", shown, n_top - shown);
		rp_note(s, line);
	}
	/* fastest: the first MOVERS_SHOWN with a growth; slowest: the last ones
	 * with a growth, slowest first */
	for (size_t i = 0; i < p->n_growth && i < MOVERS_SHOWN; i++) {
		for (int side = 0; side < 2; side++) {
			const struct mx_mover *m = &p->movers[side ? p->n_growth - 1 - i : i];
			struct rp_table *t = side ? slow : fast;
			rp_row(t);
			rp_cell_str(t, mx_code_name(catcol, m->code, "(none)"));
			rp_cell_num(t, mx_money(m->revenue_prev));
			rp_cell_num(t, mx_money(m->revenue_last));
			rp_cell_num(t, m->growth);
			rp_cell_num(t, (double)m->orders_prev);
			rp_cell_num(t, (double)m->orders_last);
		}
	}
	mx_month_label(p->last3_first - 3, from);
	mx_month_label(p->last3_first + 2, to);
	snprintf(line, sizeof line, "Movers: growth %% = (revenue of the last 3 complete months / "
		 "revenue of the 3 before - 1) x 100, months %s to %s; categories without revenue "
		 "in the earlier 3 months have no growth (%zu of %zu).", from, to,
		 p->n_movers - p->n_growth, p->n_movers);
	rp_note(s, line);
	return CRM_OK;
}

int mx_purchases_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	const struct crm_table *t = &ctx->ds->t[CRM_ORDERS];
	struct mx_purchases p;
	int rc = mx_purchases_compute(ctx, &p, err);
	if (rc != CRM_OK)
		return rc;
	struct rp_section *s = rp_section_new(d, "purchases", ctx->group, "Purchases");
	char line[512];

	mx_param_period(s, p.as_of, p.p_start, p.p_end, 0, NULL);
	if (ctx->order_channel)
		rp_param(s, "order channel",
			 mx_code_name(&t->col[CRM_O_CHANNEL], ctx->order_channel, "(none)"));
	snprintf(line, sizeof line, "%d days", ctx->o.no_second_days);
	rp_param(s, "no second order age", line);
	snprintf(line, sizeof line, "%d quantile bands of net revenue in P", p.n_bands);
	rp_param(s, "spend bands", line);
	rp_param(s, "revenue", "completed orders (status completed or unset, amount >= 0); a "
		 "return (status returned or amount < 0) counts by its absolute value; "
		 "cancelled orders count nowhere");

	rp_value(s, "orders", "Completed orders in P", RP_COUNT,
		 mx_count_or_nan(p.has_orders, p.orders));
	rp_value(s, "return_orders", "Returns in P", RP_COUNT,
		 mx_count_or_nan(p.has_orders, p.return_orders));
	rp_value(s, "revenue", "Revenue of completed orders in P", RP_MONEY,
		 money_or_nan(&p, p.revenue));
	rp_value(s, "returns", "Returns in P (absolute value)", RP_MONEY,
		 money_or_nan(&p, p.returns));
	rp_value(s, "net_revenue", "Net revenue in P", RP_MONEY, money_or_nan(&p, p.net_revenue));
	rp_value(s, "customers", "Active customers in P", RP_COUNT,
		 mx_count_or_nan(p.has_orders, p.customers));
	rp_value(s, "aov", "Average order value (AOV)", RP_MONEY, p.aov);
	rp_value(s, "net_per_order", "Net revenue per completed order", RP_MONEY, p.net_per_order);
	rp_value(s, "frequency", "Purchase frequency (TPPC): orders per active customer in P",
		 RP_NUMBER, p.frequency);
	rp_value(s, "repeat_rate", "Repeat purchase rate in P", RP_PERCENT, p.repeat_rate);
	rp_value(s, "repeat_rate_to_date", "Repeat purchase rate, all orders to A", RP_PERCENT,
		 p.repeat_rate_to_date);
	snprintf(line, sizeof line, "Customers whose first order is over %d days old",
		 ctx->o.no_second_days);
	rp_value(s, "no_second_order_base", line, RP_COUNT,
		 mx_count_or_nan(p.has_orders, p.ns_eligible));
	rp_value(s, "no_second_order", "... of them with no second order", RP_COUNT,
		 mx_count_or_nan(p.has_orders, p.ns_one));
	rp_value(s, "no_second_order_share", "Share with no second order", RP_PERCENT, p.ns_share);
	rp_value(s, "ipt_customers", "Customers with 2 or more purchase days to A", RP_COUNT,
		 mx_count_or_nan(p.has_orders, p.ipt_customers));
	rp_value(s, "ipt_median", "Inter-purchase time, median over customers", RP_DAYS,
		 p.ipt_median);
	rp_value(s, "ipt_mean", "Inter-purchase time, mean over customers", RP_DAYS, p.ipt_mean);
	rp_value(s, "first_to_last", "Mean days from first to last purchase", RP_DAYS, p.span_mean);
	rp_value(s, "top20_share", "Net revenue share of the top 20% of active customers in P",
		 RP_PERCENT, p.top20_share);

	rp_note(s, "AOV = revenue of completed orders / completed orders; net revenue = revenue - "
		"returns; purchase frequency (TPPC) = completed orders / active customers in P; "
		"repeat purchase rate = customers with 2 or more completed orders / customers with "
		"1 or more (in P, and over all orders to A).");
	snprintf(line, sizeof line, "No second order: customers whose first completed order is "
		 "more than %d days before A, and the share of them with exactly one completed "
		 "order to A.", ctx->o.no_second_days);
	rp_note(s, line);
	rp_note(s, "Inter-purchase time: for each customer with 2 or more purchase days to A "
		"(orders on the same UTC day count once), the mean gap between consecutive "
		"purchase days = (last day - first day) / (days - 1); the median and the mean of "
		"that over the customers. First to last: the mean of (last day - first day) over "
		"the same customers.");
	rp_note(s, "Spend bands: active customers in P ranked by net revenue in P, cut into "
		"bands of equal count (as SQL's NTILE; band 1 the highest); the top 20% share is "
		"read off the Lorenz curve (the top 20% of customers, fractions of a customer "
		"interpolated).");
	rp_note(s, "Trends: revenue MoM % = (revenue / revenue of the month before - 1) x 100, "
		"YoY % the same against 12 months before; no data when that month had no revenue. "
		"New = the month of the customer's first completed order; returning = active - new.");

	emit_mix(s, &p, &t->col[CRM_O_CHANNEL]);
	emit_bands(s, &p);
	emit_trends(s, &p);
	emit_season(s, &p);
	rc = emit_velocity(s, &p, &t->col[CRM_O_CATEGORY], err);
	mx_purchases_fini(&p);
	return rc;
}
