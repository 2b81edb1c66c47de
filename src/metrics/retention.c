/* retention.c - customers over time (metrics layer): churn and retention
 * over P, cohorts, lifecycle stages and their transitions, spend band
 * migration (METRICS.md "Customers over time", retention.h for the rules).
 *
 * Two passes over the customers, each reading a customer's order rows
 * once into a small scratch list of its counted orders (time, day, month,
 * signed amount), from which every per-customer fact is taken: the first
 * pass gives stages (at A, start(P) and end(P) in one scan), churn, cohorts
 * and the net revenue that the spend band cuts are quantiles of; the
 * second walks the cumulative net revenue of the customers with orders in
 * P through the bands. No per-customer allocation; on large data each pass
 * runs on two threads over two customer ranges (as crm_summary_compute). */
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

/* One counted order of a customer: a completed order (amount >= 0) or a
 * return (amount < 0, its absolute value subtracted). */
struct ev {
	int64_t t;        /* ordered_at */
	int64_t day;      /* mx_day_of(t) */
	int64_t month;    /* mx_month_of(t) */
	int64_t amount;   /* signed net effect, money */
	int completed;    /* 1: a completed order, 0: a return */
};

/* Scratch shared by the per-customer steps, sized for the customer with
 * the most order rows. */
struct scratch {
	struct ev *ev;
	int64_t *gaps;    /* days between distinct order days */
	size_t cap;
};

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

/* The most order rows any customer has (0 when orders are not laid out). */
static size_t max_rows(const struct crm_dataset *ds)
{
	const struct crm_table *t = &ds->t[CRM_ORDERS];
	size_t m = 0;
	if (t->n == 0 || !t->by_customer)
		return 0;
	for (size_t c = 0; c < ds->n_customers; c++) {
		size_t n = (size_t)(t->by_customer[c + 1] - t->by_customer[c]);
		if (n > m)
			m = n;
	}
	return m;
}

static int scratch_init(struct scratch *s, const struct crm_dataset *ds, struct crm_err *err)
{
	s->cap = max_rows(ds);
	size_t n = s->cap ? s->cap : 1;
	s->ev = xmallocn(n, sizeof *s->ev);
	s->gaps = xmallocn(n, sizeof *s->gaps);
	if (!s->ev || !s->gaps) {
		free(s->ev);
		free(s->gaps);
		s->ev = NULL;
		s->gaps = NULL;
		return crm_err_set(err, CRM_ENOMEM, "retention: out of memory for %zu orders of a customer",
				   s->cap);
	}
	return CRM_OK;
}

static void scratch_fini(struct scratch *s)
{
	free(s->ev);
	free(s->gaps);
}

/* The month of each day of a range: a table lookup instead of
 * mx_month_of's calendar arithmetic for every order. */
struct month_tab {
	int64_t day0;             /* the first day covered */
	size_t n;                 /* days covered (0: none, mx_month_of is used) */
	int32_t *month;           /* n months (mx_month_of) */
};

/* At most this many days are tabulated (some 350 years). */
#define MONTH_TAB_MAX ((size_t)1 << 17)

/* Tabulates the days of times t0 .. t1 (CRM_NA: nothing). -1 on ENOMEM. */
static int month_tab_init(struct month_tab *mt, int64_t t0, int64_t t1)
{
	mt->n = 0;
	mt->month = NULL;
	if (t0 == CRM_NA || t1 == CRM_NA || t1 < t0)
		return 0;
	int64_t d0 = mx_day_of(t0), d1 = mx_day_of(t1);
	if ((uint64_t)(d1 - d0) >= MONTH_TAB_MAX)
		return 0;
	size_t n = (size_t)(d1 - d0 + 1);
	mt->month = xmallocn(n, sizeof *mt->month);
	if (!mt->month)
		return -1;
	mt->day0 = d0;
	mt->n = n;
	for (int64_t m = mx_month_of(t0), d = d0; d <= d1; m++) {
		int64_t next = mx_month_start(m + 1) / SECS_PER_DAY;
		for (; d < next && d <= d1; d++)
			mt->month[d - d0] = (int32_t)m;
	}
	return 0;
}

static int64_t month_at(const struct month_tab *mt, int64_t t, int64_t day)
{
	int64_t k = day - (mt ? mt->day0 : 0);
	if (mt && k >= 0 && (uint64_t)k < mt->n)
		return mt->month[k];
	return mx_month_of(t);
}

/* Reads customer c's counted orders with time <= upto into ev (time
 * order); returns how many. Rows without a time are skipped. The months
 * are filled only when months is set (a table, or NULL for none). */
static size_t gather(const struct mx_ctx *ctx, size_t c, int64_t upto,
		     const struct month_tab *months, struct ev *ev)
{
	const struct crm_table *t = &ctx->ds->t[CRM_ORDERS];
	const int64_t *at = t->col[CRM_O_ORDERED_AT].i64, *amount = t->col[CRM_O_AMOUNT].i64;
	size_t n = 0;
	if (t->n == 0 || !t->by_customer || !at || !amount)
		return 0;
	for (uint64_t r = t->by_customer[c], end = t->by_customer[c + 1]; r < end; r++) {
		int64_t when = at[r];
		if (when == CRM_NA)
			continue;
		if (when > upto)
			break;   /* rows are in time order */
		if (ctx->order_channel && !mx_order_counts(ctx, (size_t)r))
			continue;
		int kind = mx_order_kind(t, (size_t)r);
		if (kind == MX_CANCELLED)
			continue;
		int64_t a = amount[r];   /* not CRM_NA: that is MX_CANCELLED */
		ev[n].t = when;
		ev[n].day = mx_day_of(when);
		ev[n].month = months ? month_at(months, when, ev[n].day) : 0;
		ev[n].amount = kind == MX_COMPLETED ? a : (a < 0 ? a : -a);
		ev[n].completed = kind == MX_COMPLETED;
		n++;
	}
	return n;
}

/* The time of customer c's first counted completed order (at any time),
 * or CRM_NA. */
static int64_t first_order_time(const struct mx_ctx *ctx, size_t c)
{
	const struct crm_table *t = &ctx->ds->t[CRM_ORDERS];
	const int64_t *at = t->col[CRM_O_ORDERED_AT].i64;
	if (t->n == 0 || !t->by_customer || !at)
		return CRM_NA;
	for (uint64_t r = t->by_customer[c], end = t->by_customer[c + 1]; r < end; r++) {
		if (at[r] == CRM_NA || (ctx->order_channel && !mx_order_counts(ctx, (size_t)r)))
			continue;
		if (mx_order_kind(t, (size_t)r) == MX_COMPLETED)
			return at[r];
	}
	return CRM_NA;
}

/* When customer c became known: the earliest of signup_at, their first
 * lead's created_at and their first counted completed order; CRM_NA when
 * none. */
static int64_t entry_time(const struct mx_ctx *ctx, size_t c)
{
	const struct crm_dataset *ds = ctx->ds;
	int64_t e = first_order_time(ctx, c);
	const struct crm_table *cu = &ds->t[CRM_CUSTOMERS];
	if (cu->col[CRM_C_SIGNUP_AT].i64) {
		int64_t t = cu->col[CRM_C_SIGNUP_AT].i64[c];
		if (t != CRM_NA && (e == CRM_NA || t < e))
			e = t;
	}
	const struct crm_table *l = &ds->t[CRM_LEADS];
	if (l->n && l->by_customer && l->col[CRM_L_CREATED_AT].i64 &&
	    l->by_customer[c] < l->by_customer[c + 1]) {
		int64_t t = l->col[CRM_L_CREATED_AT].i64[l->by_customer[c]];
		if (t != CRM_NA && (e == CRM_NA || t < e))
			e = t;
	}
	return e;
}

/* What the stage at a date is decided from: a customer's completed orders
 * up to the date, read incrementally (stats_to), so that the stages at
 * several ascending dates take one scan. */
struct stage_scan {
	size_t i;                 /* next event of ev to read */
	size_t n, n_gaps;         /* completed orders; gaps in gaps[0 .. n_gaps) */
	int64_t first_day, last_day;
	int64_t min_gap, max_gap; /* of the gaps, when n_gaps > 0 */
};

/* Reads the events of ev[0..m) with time <= d into sc. */
static void stats_to(const struct ev *ev, size_t m, int64_t d, struct stage_scan *sc,
		     int64_t *gaps)
{
	for (; sc->i < m && ev[sc->i].t <= d; sc->i++) {
		const struct ev *e = &ev[sc->i];
		if (!e->completed)
			continue;
		if (sc->n++ == 0) {
			sc->first_day = sc->last_day = e->day;
		} else if (e->day != sc->last_day) {
			int64_t g = e->day - sc->last_day;
			if (sc->n_gaps == 0 || g < sc->min_gap)
				sc->min_gap = g;
			if (sc->n_gaps == 0 || g > sc->max_gap)
				sc->max_gap = g;
			gaps[sc->n_gaps++] = g;
			sc->last_day = e->day;
		}
	}
}

/* The stage at d (retention.h; today is its day) of a customer known from
 * entry whose orders up to d are in sc. Reorders gaps[0 .. sc->n_gaps), which later scans may
 * extend: the median does not depend on the order. */
static int stage_of(const struct stage_scan *sc, int64_t d, int64_t today, int64_t entry,
		    const struct mx_opts *o, int64_t *gaps)
{
	if (entry != CRM_NA && entry > d)
		return MX_STAGE_NOT_YET;
	if (sc->n == 0)
		return MX_STAGE_PROSPECT;
	int64_t since = today - sc->last_day;
	if (since > o->churn_window_days)
		return MX_STAGE_CHURNED;
	/* one order day (also 2+ orders all on one day): the fixed limit; else
	 * factor x the median gap, which lies between the smallest and the
	 * largest gap: only when since falls between those limits is the
	 * median needed */
	double f = o->at_risk_factor;
	int at_risk;
	if (sc->n_gaps == 0)
		at_risk = since > o->at_risk_one_order_days;
	else if ((double)since <= f * (double)sc->min_gap)
		at_risk = 0;
	else if ((double)since > f * (double)sc->max_gap)
		at_risk = 1;
	else
		at_risk = (double)since > f * mx_select_median_i64(gaps, sc->n_gaps);
	if (at_risk)
		return MX_STAGE_AT_RISK;
	if (sc->n == 1)
		return MX_STAGE_NEW;
	return today - sc->first_day <= o->growing_days ? MX_STAGE_GROWING : MX_STAGE_MATURE;
}

/* The stage at d of a customer with orders ev[0..m) known from entry.
 * gaps is scratch of m values. */
static int stage_at(const struct ev *ev, size_t m, int64_t d, int64_t entry,
		    const struct mx_opts *o, int64_t *gaps)
{
	struct stage_scan sc = { 0, 0, 0, 0, 0, 0, 0 };
	stats_to(ev, m, d, &sc, gaps);
	return stage_of(&sc, d, mx_day_of(d), entry, o, gaps);
}

/* The stages at dates d[0..3) (any order; days[i] is the day of d[i])
 * into st, in one scan. */
static void stages3(const struct ev *ev, size_t m, const int64_t d[3], const int64_t days[3],
		    int64_t entry, const struct mx_opts *o, int64_t *gaps, int st[3])
{
	int ord[3] = { 0, 1, 2 };
	for (int i = 1; i < 3; i++)
		for (int j = i; j > 0 && d[ord[j - 1]] > d[ord[j]]; j--) {
			int t = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	struct stage_scan sc = { 0, 0, 0, 0, 0, 0, 0 };
	for (int k = 0; k < 3; k++) {
		int x = ord[k];
		if (k > 0 && d[x] == d[ord[k - 1]]) {
			st[x] = st[ord[k - 1]];
			continue;
		}
		stats_to(ev, m, d[x], &sc, gaps);
		st[x] = stage_of(&sc, d[x], days[x], entry, o, gaps);
	}
}

static int stages_at(const struct mx_ctx *ctx, int64_t at, uint8_t *stage, struct crm_err *err)
{
	struct scratch s;
	int rc = scratch_init(&s, ctx->ds, err);
	if (rc != CRM_OK)
		return rc;
	for (size_t c = 0; c < ctx->ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c)) {
			stage[c] = MX_STAGE_OUT;
			continue;
		}
		size_t m = gather(ctx, c, at, NULL, s.ev);
		int64_t entry = entry_time(ctx, c);
		stage[c] = (uint8_t)stage_at(s.ev, m, at, entry, &ctx->o, s.gaps);
	}
	scratch_fini(&s);
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

/* The band of net revenue v (retention.h): 1 + the cuts below v. */
static int band_of(const double *cut, int n_cuts, int64_t v)
{
	int lo = 0, hi = n_cuts;
	double x = (double)v;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (cut[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 1 + lo;
}

/* Adds b to *a, remembering an overflow in *ovf. */
static void add_money(int64_t *a, int64_t b, int *ovf)
{
	*ovf |= __builtin_add_overflow(*a, b, a);
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

/* The earliest month of a first order by A among counted customers, or
 * CRM_NA. Rows are time-sorted, so only each customer's first counted
 * completed row is read. */
static int64_t first_cohort_month(const struct mx_ctx *ctx)
{
	const struct crm_table *t = &ctx->ds->t[CRM_ORDERS];
	const int64_t *at = t->col[CRM_O_ORDERED_AT].i64;
	int64_t best = CRM_NA;
	if (t->n == 0 || !t->by_customer || !at || !t->col[CRM_O_AMOUNT].i64)
		return CRM_NA;
	for (size_t c = 0; c < ctx->ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		for (uint64_t r = t->by_customer[c]; r < t->by_customer[c + 1]; r++) {
			if (at[r] == CRM_NA)
				continue;
			if (at[r] > ctx->o.as_of || (best != CRM_NA && at[r] >= best))
				break;
			if (ctx->order_channel && !mx_order_counts(ctx, (size_t)r))
				continue;
			if (mx_order_kind(t, (size_t)r) != MX_COMPLETED)
				continue;
			best = at[r];
			break;
		}
	}
	return best == CRM_NA ? CRM_NA : mx_month_of(best);
}

/* Per customer, what pass 1 leaves for the spend bands of pass 2. */
#define F_START 1   /* a completed order by start(P) */
#define F_END 2     /* a completed order by end(P) */
#define F_IN_P 4    /* an order or return in P */

/* One customer range [c_lo, c_hi) of the work, run on a thread of its own:
 * its own scratch and sums, merged when both ranges are done. No global
 * state (DESIGN.md). */
struct part {
	const struct mx_ctx *ctx;
	const struct month_tab *mt;
	size_t c_lo, c_hi;
	int step;                   /* 1: pass 1; 2: pass 2 */
	int rc;                     /* CRM_OK or CRM_ENOMEM */
	int ovf;                    /* a money sum overflowed */
	struct scratch s;
	struct mx_retention acc;    /* pass 1 sums: churn, stages, transitions, cohorts
	                               (own arrays, r's shape) */
	/* shared per-customer arrays: each part writes its own range */
	int64_t *net_start, *net_end, *net_a;
	uint8_t *flags;
	/* pass 2 */
	const double *cut;
	int n_cuts;
	const uint32_t *tier_of;    /* customers' tier codes, or NULL */
	size_t n_tiers;
	size_t *band_migration;     /* (n_bands + 1)^2 */
	size_t *tier_band;          /* n_tiers x (n_bands + 1) */
	double *days_up;
	size_t n_days_up, cap_days_up;
};

static void pass1(struct part *pt)
{
	const struct mx_ctx *ctx = pt->ctx;
	const struct mx_opts *o = &ctx->o;
	const int64_t A = o->as_of, start = o->p_start - 1, end = o->p_end - 1;
	const int64_t upto = A > end ? A : end, day_a = mx_day_of(A);
	const int64_t dates[3] = { A, start, end };
	const int64_t days[3] = { day_a, mx_day_of(start), mx_day_of(end) };
	struct mx_retention *r = &pt->acc;
	size_t ncoh = r->n_cohorts;
	int *ovf = &pt->ovf;
	for (size_t c = pt->c_lo; c < pt->c_hi; c++) {
		pt->net_start[c] = pt->net_end[c] = pt->net_a[c] = 0;
		pt->flags[c] = 0;
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		size_t m = gather(ctx, c, upto, pt->mt, pt->s.ev);
		int64_t entry = entry_time(ctx, c);
		int st[3];
		stages3(pt->s.ev, m, dates, days, entry, o, pt->s.gaps, st);
		int st_a = st[0], st_s = st[1], st_e = st[2];

		int64_t net_a = 0, net_p = 0, net_s = 0, net_e = 0, first_t = CRM_NA;
		int64_t first_month = 0, last_active_month = INT64_MIN;
		size_t n_a = 0;
		uint8_t fl = 0;
		for (size_t i = 0; i < m; i++) {
			const struct ev *e = &pt->s.ev[i];
			if (e->completed && first_t == CRM_NA) {
				first_t = e->t;
				first_month = e->month;
			}
			if (e->t <= start) {
				add_money(&net_s, e->amount, ovf);
				fl |= (uint8_t)(e->completed ? F_START : 0);
			}
			if (e->t <= end) {
				add_money(&net_e, e->amount, ovf);
				fl |= (uint8_t)(e->completed ? F_END : 0);
			}
			if (e->t >= o->p_start && e->t < o->p_end) {
				add_money(&net_p, e->amount, ovf);
				fl |= F_IN_P;
			}
			if (e->t > A)
				continue;
			add_money(&net_a, e->amount, ovf);
			n_a += (size_t)e->completed;
		}
		pt->net_start[c] = net_s;
		pt->net_end[c] = net_e;
		pt->net_a[c] = net_a;
		pt->flags[c] = fl;

		/* lifecycle at A */
		if (st_a == MX_STAGE_NOT_YET) {
			r->not_yet++;
		} else {
			r->stage_n[st_a]++;
			add_money(&r->stage_revenue[st_a], net_a, ovf);
			add_money(&r->stage_revenue_p[st_a], net_p, ovf);
			if (st_a == MX_STAGE_NEW && day_a - mx_day_of(first_t) <= o->new_days)
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

		/* cohorts (orders up to A) */
		if (n_a == 0 || ncoh == 0)
			continue;
		if (first_month < r->cohort_first) {
			r->cohort_older++;
			continue;
		}
		size_t ci = (size_t)(first_month - r->cohort_first);
		r->cohort_size[ci]++;
		size_t *row = r->cohort_active + ci * ncoh;
		int64_t *rev = r->cohort_revenue + ci * ncoh;
		for (size_t i = 0; i < m && pt->s.ev[i].t <= A; i++) {
			const struct ev *e = &pt->s.ev[i];
			int64_t k = e->month - first_month;
			if (k < 0)
				k = 0;   /* a return before the first order */
			add_money(&rev[k], e->amount, ovf);
			if (e->completed && e->month != last_active_month) {
				row[k]++;
				last_active_month = e->month;
			}
		}
		/* unbounded: counted in every month up to the last active one;
		 * marked at the last and summed from the right at the end */
		r->cohort_active_unb[ci * ncoh + (size_t)(last_active_month - first_month)]++;
	}
}

/* Appends v to pt->days_up; 0, or -1 on ENOMEM. */
static int push_day(struct part *pt, double v)
{
	if (pt->n_days_up == pt->cap_days_up) {
		size_t cap = pt->cap_days_up ? pt->cap_days_up * 2 : 1024;
		double *g = xreallocn(pt->days_up, cap, sizeof *g);
		if (!g)
			return -1;
		pt->days_up = g;
		pt->cap_days_up = cap;
	}
	pt->days_up[pt->n_days_up++] = v;
	return 0;
}

static void pass2(struct part *pt)
{
	const struct mx_ctx *ctx = pt->ctx;
	const struct mx_opts *o = &ctx->o;
	const int64_t start = o->p_start - 1, end = o->p_end - 1;
	const size_t nb1 = (size_t)pt->acc.n_bands + 1;
	for (size_t c = pt->c_lo; c < pt->c_hi; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		uint8_t fl = pt->flags[c];
		int band_start = fl & F_START ? band_of(pt->cut, pt->n_cuts, pt->net_start[c]) : 0;
		int band = band_start;
		if (fl & F_IN_P) {
			/* walk the cumulative net revenue through the bands */
			size_t m = gather(ctx, c, end, NULL, pt->s.ev);
			int has = 0;
			int64_t cum = 0, entered_day = 0;
			band = 0;
			for (size_t i = 0; i < m; i++) {
				const struct ev *e = &pt->s.ev[i];
				cum += e->amount;   /* cannot overflow: the sum up to end(P) did not */
				has |= e->completed;
				int nb = has ? band_of(pt->cut, pt->n_cuts, cum) : 0;
				if (nb == band)
					continue;
				if (e->t > start && band >= 1 && nb > band &&
				    push_day(pt, (double)(e->day - entered_day)) != 0) {
					pt->rc = CRM_ENOMEM;
					return;
				}
				band = nb;
				entered_day = e->day;
			}
		}
		pt->band_migration[(size_t)band_start * nb1 + (size_t)band]++;
		if (pt->tier_of)
			pt->tier_band[(size_t)pt->tier_of[c] * nb1 + (size_t)band]++;
	}
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

/* The sums of a part with r's shape (zeroed; cohort arrays of r's size). */
static int part_init(struct part *pt, const struct mx_retention *r, const struct crm_dataset *ds,
		     struct crm_err *err)
{
	size_t n = r->n_cohorts, nb1 = (size_t)r->n_bands + 1;
	int rc = scratch_init(&pt->s, ds, err);
	if (rc != CRM_OK)
		return rc;
	pt->acc.n_cohorts = n;
	pt->acc.cohort_first = r->cohort_first;
	pt->acc.n_bands = r->n_bands;
	pt->acc.cohort_size = calloc(n ? n : 1, sizeof *pt->acc.cohort_size);
	pt->acc.cohort_active = calloc(n ? n * n : 1, sizeof *pt->acc.cohort_active);
	pt->acc.cohort_active_unb = calloc(n ? n * n : 1, sizeof *pt->acc.cohort_active_unb);
	pt->acc.cohort_revenue = calloc(n ? n * n : 1, sizeof *pt->acc.cohort_revenue);
	pt->band_migration = calloc(nb1 * nb1, sizeof *pt->band_migration);
	if (!pt->acc.cohort_size || !pt->acc.cohort_active || !pt->acc.cohort_active_unb ||
	    !pt->acc.cohort_revenue || !pt->band_migration)
		return crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
	return CRM_OK;
}

static void part_fini(struct part *pt)
{
	scratch_fini(&pt->s);
	free(pt->acc.cohort_size);
	free(pt->acc.cohort_active);
	free(pt->acc.cohort_active_unb);
	free(pt->acc.cohort_revenue);
	free(pt->band_migration);
	free(pt->tier_band);
	free(pt->days_up);
}

/* Adds the pass 1 sums of a part into r. */
static void merge_pass1(struct mx_retention *r, const struct part *pt, int *ovf)
{
	const struct mx_retention *a = &pt->acc;
	size_t n = r->n_cohorts;
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
	for (size_t i = 0; i < n; i++)
		r->cohort_size[i] += a->cohort_size[i];
	for (size_t i = 0; i < n * n; i++) {
		r->cohort_active[i] += a->cohort_active[i];
		r->cohort_active_unb[i] += a->cohort_active_unb[i];
		add_money(&r->cohort_revenue[i], a->cohort_revenue[i], ovf);
	}
}

int mx_retention_compute(const struct mx_ctx *ctx, struct mx_retention **out,
			 struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct mx_opts *o = &ctx->o;
	const int64_t A = o->as_of, end = o->p_end - 1;
	const size_t nc = ds->n_customers, alloc_nc = nc ? nc : 1;
	struct mx_retention *r = NULL;
	struct month_tab mt = { 0, 0, NULL };
	struct part pt[2];
	int64_t *net_start = NULL, *net_end = NULL, *net_a = NULL;
	uint8_t *flags = NULL;
	double *vals = NULL, *days_up = NULL;
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
	net_start = xmallocn(alloc_nc, sizeof *net_start);
	net_end = xmallocn(alloc_nc, sizeof *net_end);
	net_a = xmallocn(alloc_nc, sizeof *net_a);
	flags = xmallocn(alloc_nc, sizeof *flags);
	vals = xmallocn(alloc_nc, sizeof *vals);
	r->band_migration = calloc(nb1 * nb1, sizeof *r->band_migration);
	if (!net_start || !net_end || !net_a || !flags || !vals || !r->band_migration ||
	    month_tab_init(&mt, ds->first_at, A > end ? A : end) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory for %zu customers", nc);
		goto done;
	}
	int64_t fm = first_cohort_month(ctx);
	if (fm != CRM_NA && (rc = cohorts_alloc(r, fm, mx_month_of(A), err)) != CRM_OK)
		goto done;

	/* two customer ranges of about equal order rows */
	size_t mid = ds_split_customers(ds);
	int threads = mid < nc;
	for (int k = 0; k < 2; k++) {
		pt[k].ctx = ctx;
		pt[k].mt = &mt;
		pt[k].c_lo = k ? mid : 0;
		pt[k].c_hi = k ? nc : mid;
		pt[k].net_start = net_start;
		pt[k].net_end = net_end;
		pt[k].net_a = net_a;
		pt[k].flags = flags;
		if ((rc = part_init(&pt[k], r, ds, err)) != CRM_OK)
			goto done;
	}

	/* ---- pass 1: stages, churn, cohorts, net revenue per customer */
	run_parts(pt, 1, threads);
	for (int k = 0; k < 2; k++)
		merge_pass1(r, &pt[k], &ovf);
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
	size_t n_vals = 0;
	for (size_t c = 0; c < nc; c++)
		if (flags[c] & F_END)
			vals[n_vals++] = (double)net_end[c];
	if (n_vals > 0) {
		r->band_cut = xmallocn(n_cuts > 0 ? (size_t)n_cuts : 1, sizeof *r->band_cut);
		if (!r->band_cut) {
			rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
			goto done;
		}
		if (n_cuts > 0) {
			r->band_cut[0] = mx_quantile(vals, n_vals, 1.0 / r->n_bands);
			for (int k = 1; k < n_cuts; k++)
				r->band_cut[k] = mx_quantile_sorted(vals, n_vals,
								 (double)(k + 1) / r->n_bands);
		}
	}

	/* ---- the tier field: customers and median net revenue per tier */
	const struct crm_column *tier = &ds->t[CRM_CUSTOMERS].col[CRM_C_TIER];
	const uint32_t *tier_of = NULL;
	if (tier->kind == CRM_COL_CAT && tier->cat && tier->dict.n > 1) {
		size_t nt = tier->dict.n, any = 0;
		for (size_t c = 0; c < nc; c++)
			any += mx_counts(ctx, (uint32_t)c) && tier->cat[c] != 0;
		if (any) {
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
					r->tier_n[tier->cat[c]]++;
			for (size_t k = 0; k < nt; k++)
				tier_off[k + 1] = tier_off[k] + r->tier_n[k];
			for (size_t c = 0; c < nc; c++)
				if (mx_counts(ctx, (uint32_t)c))
					vals[tier_off[tier->cat[c]]++] = (double)net_a[c];
			for (size_t k = 0; k < nt; k++) {
				size_t lo = tier_off[k] - r->tier_n[k];
				r->tier_median_net[k] = mx_median(vals + lo, r->tier_n[k]);
			}
			tier_of = tier->cat;
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
	size_t n_days = pt[0].n_days_up + pt[1].n_days_up;
	days_up = xmallocn(n_days ? n_days : 1, sizeof *days_up);
	if (pt[0].rc != CRM_OK || pt[1].rc != CRM_OK || !days_up) {
		rc = crm_err_set(err, CRM_ENOMEM, "retention: out of memory");
		goto done;
	}
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < nb1 * nb1; i++)
			r->band_migration[i] += pt[k].band_migration[i];
		for (size_t i = 0; tier_of && i < r->n_tiers * nb1; i++)
			r->tier_band[i] += pt[k].tier_band[i];
		if (pt[k].n_days_up)
			memcpy(days_up + (k ? pt[0].n_days_up : 0), pt[k].days_up,
			       pt[k].n_days_up * sizeof *days_up);
	}
	r->n_moves_up = n_days;
	r->median_days_up = mx_median(days_up, n_days);

	r->ccr = r->churn_base ? (double)r->churn_lost / (double)r->churn_base : NAN;
	r->retention = r->churn_base ? 1.0 - r->ccr : NAN;
	if (ovf)
		rc = crm_err_set(err, CRM_ERANGE, "retention: money sums overflow int64");
done:
	part_fini(&pt[0]);
	part_fini(&pt[1]);
	free(mt.month);
	free(net_start);
	free(net_end);
	free(net_a);
	free(flags);
	free(vals);
	free(days_up);
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
