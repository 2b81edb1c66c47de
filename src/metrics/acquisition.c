/* acquisition.c - lead conversion, CAC, LTV:CAC, payback, cohort payback,
 * time to purchase and channel value (metrics layer; acquisition.h for the
 * rules).
 *
 * Channel and campaign names come from three dictionaries (customers'
 * acquisition channel and campaign, leads' source and campaign, spend's
 * channel and campaign); each dictionary code is mapped once to a channel
 * index and a campaign name index, so that the passes over spend rows,
 * customers and leads work on integers. One pass over each customer's
 * order rows gives every per-customer fact; no per-customer allocation. */
#include "metrics/acquisition.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strmap.h"
#include "core/tstamp.h"
#include "report/doc.h"

const double mx_ttp_bucket_lo[MX_TTP_BUCKETS] = { 0, 1, 7, 30, 90, 365 };

/* Days in an average Gregorian month (365.2425 / 12), for "months". */
#define DAYS_PER_MONTH 30.436875
/* Acquisition cohorts kept at most (months before A's month). */
#define COHORT_MAX_MONTHS 600
/* The largest channel x campaign-name or month x channel grid tabulated. */
#define GRID_MAX ((size_t)1 << 24)

static const char none_name[] = "(none)";

/* A dictionary of names (channels, or campaign names) gathered from
 * several dictionary columns of the dataset; index 0 is "" (none). */
struct names {
	struct strmap map;      /* name -> index */
	const char **name;      /* by index; borrowed from the dataset */
	size_t n, cap;
};

static int names_init(struct names *nm)
{
	memset(nm, 0, sizeof *nm);
	if (strmap_init(&nm->map, 16) != 0)
		return -1;
	nm->cap = 16;
	nm->name = xmallocn(nm->cap, sizeof *nm->name);
	if (!nm->name)
		return -1;
	size_t idx;
	int added;
	if (strmap_put(&nm->map, "", 0, 0, &idx, &added) != 0)
		return -1;
	nm->name[0] = "";
	nm->n = 1;
	return 0;
}

static void names_fini(struct names *nm)
{
	strmap_fini(&nm->map);
	free(nm->name);
}

/* Maps every code of a CAT column's dictionary to a name index into *out
 * (dict.n entries, caller frees; NULL when the column is absent: every code
 * is then 0). 0, or -1 on ENOMEM. */
static int names_map(struct names *nm, const struct crm_column *col, uint32_t **out)
{
	*out = NULL;
	if (col->kind != CRM_COL_CAT || !col->cat || col->dict.n == 0)
		return 0;
	uint32_t *m = xmallocn(col->dict.n, sizeof *m);
	if (!m)
		return -1;
	for (size_t k = 0; k < col->dict.n; k++) {
		size_t len, idx;
		int added;
		const char *s = strs_get(&col->dict, k, &len);
		if (strmap_put(&nm->map, s, len, (uint32_t)nm->n, &idx, &added) != 0) {
			free(m);
			return -1;
		}
		if (added) {
			if (nm->n == nm->cap) {
				const char **g = xreallocn(nm->name, nm->cap * 2, sizeof *g);
				if (!g) {
					free(m);
					return -1;
				}
				nm->name = g;
				nm->cap *= 2;
			}
			nm->name[nm->n++] = s;
		}
		m[k] = nm->map.values[idx];
	}
	*out = m;
	return 0;
}

/* The code of row r of a CAT column, 0 when the column is absent. */
static uint32_t cat_at(const struct crm_column *col, size_t r)
{
	return col->kind == CRM_COL_CAT && col->cat ? col->cat[r] : 0;
}

static uint32_t mapped(const uint32_t *map, uint32_t code)
{
	return map ? map[code] : 0;
}

/* Per channel, beside struct mx_acq_channel: what the ratios are made of. */
struct ch_acc {
	double gp_new;          /* gross profit to A of P's new customers (known), units */
	double months_new;      /* their months from first order to A */
};

/* One acquisition cohort cell while it is filled. */
struct cell {
	int64_t month;
	uint32_t channel;
	int64_t spend;
	size_t new_customers, gp_customers;
	size_t off, len;        /* its gross profit curve in curves[off .. off + len) */
};

/* One (channel, campaign name) pair while it is filled. */
struct pair {
	uint32_t channel, campaign;
	int has_spend;
	int64_t spend;
	size_t new_customers;
};

/* An order of the customer being looked at. */
struct ord {
	int64_t t;
	int64_t gp;             /* completed: amount - cost; return: -|amount| */
};

/* Everything the compute step holds, freed in one place. */
struct work {
	struct names ch, camp;
	uint32_t *spend_ch, *spend_camp, *cust_ch, *cust_camp, *lead_ch, *lead_camp;
	struct ch_acc *acc;
	int32_t *pair_of;       /* n_ch x n_camp -> pair index, -1 none; NULL: skipped */
	struct pair *pairs;
	size_t n_pairs, cap_pairs;
	int32_t *cell_of;       /* n_months x n_ch -> cell index, -1 none; NULL: no cohorts */
	int64_t cell_first;     /* month of row 0 of cell_of */
	size_t n_months;
	struct cell *cells;
	size_t n_cells, cap_cells;
	int64_t *curves;        /* gross profit per cell and month offset, money */
	struct ord *ord;        /* scratch: one customer's orders */
	double *ttp;            /* TTP of new customers, days */
	double *lead_days;      /* days to convert, grouped by code */
	uint32_t *lead_code;
	size_t *grp_off;
	uint32_t *order;        /* channel indexes sorted by name */
	uint32_t *rank;         /* channel index -> position in order */
};

static void work_fini(struct work *w)
{
	names_fini(&w->ch);
	names_fini(&w->camp);
	free(w->spend_ch);
	free(w->spend_camp);
	free(w->cust_ch);
	free(w->cust_camp);
	free(w->lead_ch);
	free(w->lead_camp);
	free(w->acc);
	free(w->pair_of);
	free(w->pairs);
	free(w->cell_of);
	free(w->cells);
	free(w->curves);
	free(w->ord);
	free(w->ttp);
	free(w->lead_days);
	free(w->lead_code);
	free(w->grp_off);
	free(w->order);
	free(w->rank);
}

void mx_acquisition_free(struct mx_acquisition *a)
{
	if (!a)
		return;
	free(a->by_source);
	free(a->by_campaign);
	free(a->channels);
	free(a->campaigns);
	free(a->cohorts);
	free(a);
}

static void add_money(int64_t *a, int64_t b, int *ovf)
{
	*ovf |= __builtin_add_overflow(*a, b, a);
}

/* The pair (channel, campaign) of the grid, created on first use; NULL when
 * the grid is skipped or out of memory (*oom set). */
static struct pair *pair_get(struct work *w, uint32_t ch, uint32_t camp, int *oom)
{
	if (!w->pair_of)
		return NULL;
	int32_t *slot = &w->pair_of[(size_t)ch * w->camp.n + camp];
	if (*slot < 0) {
		if (w->n_pairs == w->cap_pairs) {
			size_t cap = w->cap_pairs ? w->cap_pairs * 2 : 64;
			struct pair *g = xreallocn(w->pairs, cap, sizeof *g);
			if (!g) {
				*oom = 1;
				return NULL;
			}
			w->pairs = g;
			w->cap_pairs = cap;
		}
		struct pair *p = &w->pairs[w->n_pairs];
		memset(p, 0, sizeof *p);
		p->channel = ch;
		p->campaign = camp;
		*slot = (int32_t)w->n_pairs++;
	}
	return &w->pairs[*slot];
}

/* Customer c's lead that converted into them: the first with a converted_at,
 * else the first; the row, or -1. */
static int64_t customer_lead(const struct crm_dataset *ds, size_t c)
{
	const struct crm_table *l = &ds->t[CRM_LEADS];
	if (l->n == 0 || !l->by_customer || l->by_customer[c] == l->by_customer[c + 1])
		return -1;
	const int64_t *conv = l->col[CRM_L_CONVERTED_AT].i64;
	for (uint64_t r = l->by_customer[c]; conv && r < l->by_customer[c + 1]; r++)
		if (conv[r] != CRM_NA)
			return (int64_t)r;
	return (int64_t)l->by_customer[c];
}

/* The first time of customer c's rows in table e (rows are time-sorted),
 * or CRM_NA. */
static int64_t first_time(const struct crm_dataset *ds, int e, int field, size_t c)
{
	const struct crm_table *t = &ds->t[e];
	if (t->n == 0 || !t->by_customer || !t->col[field].i64)
		return CRM_NA;
	for (uint64_t r = t->by_customer[c]; r < t->by_customer[c + 1]; r++)
		if (t->col[field].i64[r] != CRM_NA)
			return t->col[field].i64[r];
	return CRM_NA;
}

static int64_t min_time(int64_t a, int64_t b)
{
	if (a == CRM_NA)
		return b;
	if (b == CRM_NA)
		return a;
	return a < b ? a : b;
}

/* Customer c's first contact (METRICS.md TTP): the earliest of their leads'
 * created_at, signup_at, first interaction and first web event; CRM_NA. */
static int64_t first_contact(const struct crm_dataset *ds, size_t c)
{
	const struct crm_column *signup = &ds->t[CRM_CUSTOMERS].col[CRM_C_SIGNUP_AT];
	int64_t t = min_time(first_time(ds, CRM_LEADS, CRM_L_CREATED_AT, c),
			     first_time(ds, CRM_INTERACTIONS, CRM_I_OCCURRED_AT, c));
	t = min_time(t, first_time(ds, CRM_WEB_EVENTS, CRM_W_OCCURRED_AT, c));
	if (signup->i64)
		t = min_time(t, signup->i64[c]);
	return t;
}

/* ------------------------------------------------------------------ leads */

/* Fills one lead group table (by source, or by campaign) from the leads
 * created in P: col is the grouping column. all (may be NULL) gets the
 * totals, and all_days (with it) the days to convert of every lead. */
static int lead_groups(const struct mx_ctx *ctx, struct work *w, const struct crm_column *col,
		       struct mx_lead_group **out, size_t *n_out, struct mx_lead_group *all,
		       double *all_days, struct crm_err *err)
{
	const struct crm_table *l = &ctx->ds->t[CRM_LEADS];
	const int64_t *created = l->col[CRM_L_CREATED_AT].i64, *conv = l->col[CRM_L_CONVERTED_AT].i64;
	size_t n_codes = col->kind == CRM_COL_CAT && col->cat && col->dict.n ? col->dict.n : 1;
	size_t n_days = 0;
	struct mx_lead_group *g = calloc(n_codes, sizeof *g);
	free(w->grp_off);
	w->grp_off = calloc(n_codes + 1, sizeof *w->grp_off);
	if (!g || !w->grp_off) {
		free(g);
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory for leads");
	}
	/* count per code, then place the days to convert by code (a counting
	 * sort): group k is lead_days[start(k) .. end(k)) */
	for (int step = 0; step < 2; step++) {
		for (size_t r = 0; r < l->n; r++) {
			if (!mx_counts(ctx, l->customer[r]) || created[r] == CRM_NA ||
			    created[r] < ctx->o.p_start || created[r] >= ctx->o.p_end)
				continue;
			uint32_t code = cat_at(col, r);
			int64_t cv = conv ? conv[r] : CRM_NA;
			/* converted by A; a lead tied to a customer without a
			 * converted_at converted at an unknown time */
			int converted = cv != CRM_NA ? cv <= ctx->o.as_of
						     : l->customer[r] != CRM_NO_CUSTOMER;
			int has_days = converted && cv != CRM_NA;
			if (step == 0) {
				g[code].leads++;
				g[code].converted += (size_t)converted;
				w->grp_off[code + 1] += (size_t)has_days;
			} else if (has_days) {
				double days = (double)(cv - created[r]) / SECS_PER_DAY;
				w->lead_days[w->grp_off[code]++] = days;
				if (all_days)
					all_days[n_days++] = days;
			}
		}
		if (step == 0)
			for (size_t k = 0; k < n_codes; k++)
				w->grp_off[k + 1] += w->grp_off[k];
	}
	size_t n = 0;
	for (size_t k = 0; k < n_codes; k++) {
		size_t lo = k ? w->grp_off[k - 1] : 0, hi = w->grp_off[k];
		if (all) {
			all->leads += g[k].leads;
			all->converted += g[k].converted;
		}
		if (!g[k].leads)
			continue;
		g[n] = g[k];
		g[n].code = (uint32_t)k;
		g[n].rate = 100.0 * (double)g[k].converted / (double)g[k].leads;
		g[n].median_days = mx_median(w->lead_days + lo, hi - lo);
		n++;
	}
	if (all)
		all->median_days = mx_median(all_days, n_days);
	*out = g;
	*n_out = n;
	return CRM_OK;
}

static int compute_leads(const struct mx_ctx *ctx, struct mx_acquisition *a, struct work *w,
			 struct crm_err *err)
{
	const struct crm_table *l = &ctx->ds->t[CRM_LEADS];
	int rc;
	a->leads.rate = a->leads.median_days = NAN;
	a->has_leads = l->n > 0 && l->col[CRM_L_CREATED_AT].i64 != NULL;
	if (!a->has_leads)
		return CRM_OK;
	double *all_days = xmallocn(l->n, sizeof *all_days);
	w->lead_days = xmallocn(l->n, sizeof *w->lead_days);
	if (!w->lead_days || !all_days) {
		free(all_days);
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory for %zu leads", l->n);
	}
	rc = lead_groups(ctx, w, &l->col[CRM_L_SOURCE], &a->by_source, &a->n_sources, &a->leads,
			 all_days, err);
	if (rc == CRM_OK)
		rc = lead_groups(ctx, w, &l->col[CRM_L_CAMPAIGN], &a->by_campaign,
				 &a->n_lead_campaigns, NULL, NULL, err);
	free(all_days);
	if (a->leads.leads)
		a->leads.rate = 100.0 * (double)a->leads.converted / (double)a->leads.leads;
	return rc;
}

/* ------------------------------------------------------------------ setup */

static int build_names(const struct crm_dataset *ds, struct work *w)
{
	const struct crm_table *cu = &ds->t[CRM_CUSTOMERS], *l = &ds->t[CRM_LEADS],
			       *sp = &ds->t[CRM_SPEND];
	if (names_init(&w->ch) != 0 || names_init(&w->camp) != 0)
		return -1;
	if (names_map(&w->ch, &sp->col[CRM_S_CHANNEL], &w->spend_ch) != 0 ||
	    names_map(&w->ch, &cu->col[CRM_C_ACQ_CHANNEL], &w->cust_ch) != 0 ||
	    names_map(&w->ch, &l->col[CRM_L_SOURCE], &w->lead_ch) != 0 ||
	    names_map(&w->camp, &sp->col[CRM_S_CAMPAIGN], &w->spend_camp) != 0 ||
	    names_map(&w->camp, &cu->col[CRM_C_ACQ_CAMPAIGN], &w->cust_camp) != 0 ||
	    names_map(&w->camp, &l->col[CRM_L_CAMPAIGN], &w->lead_camp) != 0)
		return -1;
	return 0;
}

/* Channel indexes by name, "(none)" (index 0) last; ctx is the names. */
static int cmp_channel(const void *x, const void *y, void *ctx)
{
	const struct names *nm = ctx;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	if (a == 0 || b == 0)
		return (a == 0) - (b == 0);
	return strcmp(nm->name[a], nm->name[b]);
}

/* Spend rows: in P per channel and pair; up to A per cohort cell. */
static int spend_pass(const struct mx_ctx *ctx, struct mx_acquisition *a, struct work *w,
		      int *ovf, struct crm_err *err)
{
	const struct crm_table *sp = &ctx->ds->t[CRM_SPEND];
	const int64_t *date = sp->col[CRM_S_DATE].i64, *amount = sp->col[CRM_S_AMOUNT].i64;
	int oom = 0;
	if (sp->n == 0 || !date || !amount)
		return CRM_OK;
	/* the cohort grid: months from the first spend up to A's month */
	int64_t first = CRM_NA, last_month = mx_month_of(ctx->o.as_of);
	for (size_t r = 0; r < sp->n; r++)
		if (date[r] != CRM_NA && amount[r] != CRM_NA && date[r] <= ctx->o.as_of &&
		    (first == CRM_NA || date[r] < first))
			first = date[r];
	if (first != CRM_NA) {
		int64_t fm = mx_month_of(first);
		if (last_month - fm + 1 > COHORT_MAX_MONTHS)
			fm = last_month - COHORT_MAX_MONTHS + 1;
		w->cell_first = fm;
		w->n_months = (size_t)(last_month - fm + 1);
		size_t n;
		if (size_mul(w->n_months, w->ch.n, &n) == 0 && n <= GRID_MAX) {
			w->cell_of = xmallocn(n, sizeof *w->cell_of);
			if (!w->cell_of)
				return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
			memset(w->cell_of, 0xff, n * sizeof *w->cell_of);
		}
	}
	for (size_t r = 0; r < sp->n; r++) {
		if (date[r] == CRM_NA || amount[r] == CRM_NA)
			continue;
		uint32_t ch = mapped(w->spend_ch, cat_at(&sp->col[CRM_S_CHANNEL], r));
		if (date[r] >= ctx->o.p_start && date[r] < ctx->o.p_end) {
			a->all.has_spend = 1;
			add_money(&a->all.spend, amount[r], ovf);
			a->channels[ch].has_spend = 1;
			add_money(&a->channels[ch].spend, amount[r], ovf);
			struct pair *p = pair_get(w, ch, mapped(w->spend_camp,
							       cat_at(&sp->col[CRM_S_CAMPAIGN], r)), &oom);
			if (p) {
				p->has_spend = 1;
				add_money(&p->spend, amount[r], ovf);
			}
		}
		int64_t m = mx_month_of(date[r]);
		if (!w->cell_of || date[r] > ctx->o.as_of || m < w->cell_first)
			continue;
		int32_t *slot = &w->cell_of[(size_t)(m - w->cell_first) * w->ch.n + ch];
		if (*slot < 0) {
			if (w->n_cells == w->cap_cells) {
				size_t cap = w->cap_cells ? w->cap_cells * 2 : 64;
				struct cell *g = xreallocn(w->cells, cap, sizeof *g);
				if (!g)
					return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
				w->cells = g;
				w->cap_cells = cap;
			}
			struct cell *cl = &w->cells[w->n_cells];
			memset(cl, 0, sizeof *cl);
			cl->month = m;
			cl->channel = ch;
			cl->len = (size_t)(last_month - m + 1);
			*slot = (int32_t)w->n_cells++;
		}
		add_money(&w->cells[*slot].spend, amount[r], ovf);
	}
	if (oom)
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
	/* the gross profit curves of the cells */
	size_t total = 0;
	for (size_t k = 0; k < w->n_cells; k++) {
		w->cells[k].off = total;
		total += w->cells[k].len;
	}
	w->curves = calloc(total ? total : 1, sizeof *w->curves);
	if (!w->curves)
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
	return CRM_OK;
}

/* ------------------------------------------------------------- customers */

static int customer_pass(const struct mx_ctx *ctx, struct mx_acquisition *a, struct work *w,
			 int *ovf, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct mx_opts *o = &ctx->o;
	const struct crm_table *t = &ds->t[CRM_ORDERS], *cu = &ds->t[CRM_CUSTOMERS],
			       *l = &ds->t[CRM_LEADS];
	const int64_t *at = t->col[CRM_O_ORDERED_AT].i64, *amount = t->col[CRM_O_AMOUNT].i64,
		      *cost = t->col[CRM_O_COST].i64;
	const int64_t A = o->as_of, start = o->p_start - 1, end = o->p_end - 1;
	const int64_t upto = A > end ? A : end;
	const int64_t day_start = ts_day(start), day_end = ts_day(end);
	int laid_out = t->n > 0 && t->by_customer && at && amount;
	int oom = 0;
	size_t n_ttp = 0;

	size_t cap = 1;
	if (laid_out)
		for (size_t c = 0; c < ds->n_customers; c++)
			if (t->by_customer[c + 1] - t->by_customer[c] > cap)
				cap = (size_t)(t->by_customer[c + 1] - t->by_customer[c]);
	w->ord = xmallocn(cap, sizeof *w->ord);
	w->ttp = xmallocn(ds->n_customers ? ds->n_customers : 1, sizeof *w->ttp);
	if (!w->ord || !w->ttp)
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory for %zu customers",
				   ds->n_customers);

	for (size_t c = 0; c < ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		/* channel and campaign */
		uint32_t ch = mapped(w->cust_ch, cat_at(&cu->col[CRM_C_ACQ_CHANNEL], c));
		uint32_t camp = mapped(w->cust_camp, cat_at(&cu->col[CRM_C_ACQ_CAMPAIGN], c));
		int64_t lr = -1;
		if (ch == 0 || camp == 0)
			lr = customer_lead(ds, c);
		if (lr >= 0) {
			uint32_t lch = mapped(w->lead_ch, cat_at(&l->col[CRM_L_SOURCE], (size_t)lr));
			if (ch == 0) {
				ch = lch;
				if (camp == 0)
					camp = mapped(w->lead_camp,
						      cat_at(&l->col[CRM_L_CAMPAIGN], (size_t)lr));
			} else if (camp == 0 && lch == ch) {
				/* the lead of the same channel gives the campaign */
				camp = mapped(w->lead_camp, cat_at(&l->col[CRM_L_CAMPAIGN], (size_t)lr));
			}
		}
		struct mx_acq_channel *cs = &a->channels[ch];

		/* the orders */
		size_t m = 0, orders = 0;
		int64_t first = CRM_NA, last_s = CRM_NA, last_e = CRM_NA, revenue = 0, net = 0, gp = 0;
		int gp_known = 1;
		for (uint64_t r = laid_out ? t->by_customer[c] : 0,
			      re = laid_out ? t->by_customer[c + 1] : 0; r < re; r++) {
			int64_t when = at[r];
			if (when == CRM_NA)
				continue;
			if (when > upto)
				break;
			if (ctx->order_channel && !mx_order_counts(ctx, (size_t)r))
				continue;
			int kind = mx_order_kind(t, (size_t)r);
			if (kind == MX_CANCELLED)
				continue;
			if (kind == MX_COMPLETED) {
				if (first == CRM_NA)
					first = when;
				if (when <= start)
					last_s = when;
				if (when <= end)
					last_e = when;
			}
			if (when > A)
				continue;
			int64_t v = amount[r], g;
			if (kind == MX_COMPLETED) {
				orders++;
				add_money(&revenue, v, ovf);
				add_money(&net, v, ovf);
				if (cost && cost[r] != CRM_NA) {
					a->costs_known = 1;
					*ovf |= __builtin_sub_overflow(v, cost[r], &g);
				} else {
					gp_known = 0;
					g = 0;
				}
			} else {
				g = v < 0 ? v : -v;
				add_money(&net, g, ovf);
			}
			add_money(&gp, g, ovf);
			w->ord[m].t = when;
			w->ord[m].gp = g;
			m++;
		}

		/* channel value (to A) and retention over P */
		if (orders) {
			cs->buyers++;
			cs->orders += orders;
			add_money(&cs->revenue, revenue, ovf);
			add_money(&cs->historic, net, ovf);
			if (gp_known) {
				cs->gp_buyers++;
				add_money(&cs->gross_profit, gp, ovf);
			}
		}
		if (last_s != CRM_NA && day_start - ts_day(last_s) <= o->churn_window_days) {
			cs->churn_base++;
			cs->churn_lost += day_end - ts_day(last_e) > o->churn_window_days;
		}

		/* new in P: CAC, payback, campaigns, time to purchase */
		if (first != CRM_NA && first >= o->p_start && first < o->p_end) {
			cs->new_customers++;
			struct pair *p = pair_get(w, ch, camp, &oom);
			if (p)
				p->new_customers++;
			if (gp_known && first <= A) {
				w->acc[ch].gp_new += (double)gp / 10000.0;
				w->acc[ch].months_new += (double)(A - first) / SECS_PER_DAY /
							 DAYS_PER_MONTH;
			}
			int64_t contact = first_contact(ds, c);
			if (contact == CRM_NA) {
				a->ttp_no_contact++;
			} else {
				/* a first contact after the first order (a guest
				 * order, then a signup) is the order itself: 0 days */
				double days = contact < first ? (double)(first - contact) / SECS_PER_DAY
							      : 0.0;
				w->ttp[n_ttp++] = days;
				int b = MX_TTP_BUCKETS - 1;
				while (b > 0 && days < mx_ttp_bucket_lo[b])
					b--;
				a->ttp_bucket[b]++;
			}
		}

		/* acquisition cohort: a month in which the channel has spend */
		if (first == CRM_NA || first > A || !w->cell_of)
			continue;
		int64_t fm = mx_month_of(first);
		if (fm < w->cell_first)
			continue;
		int32_t k = w->cell_of[(size_t)(fm - w->cell_first) * w->ch.n + ch];
		if (k < 0)
			continue;
		struct cell *cl = &w->cells[k];
		cl->new_customers++;
		if (!gp_known)
			continue;
		cl->gp_customers++;
		/* months only here: a cohort's customers are a few of all */
		for (size_t i = 0; i < m && w->ord[i].t <= A; i++) {
			int64_t off = mx_month_of(w->ord[i].t) - fm;
			add_money(&w->curves[cl->off + (size_t)(off < 0 ? 0 : off)], w->ord[i].gp, ovf);
		}
	}
	if (oom)
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
	a->ttp_n = n_ttp;
	a->ttp_mean = mx_mean(w->ttp, n_ttp);
	a->ttp_median = mx_median(w->ttp, n_ttp);
	return CRM_OK;
}

/* ---------------------------------------------------------------- results */

static void channel_ratios(struct mx_acq_channel *cs, const struct ch_acc *acc, int split)
{
	if (!split) {
		cs->has_spend = 0;
		cs->spend = 0;
	}
	cs->cac = cs->has_spend && cs->new_customers
			  ? (double)cs->spend / 10000.0 / (double)cs->new_customers : NAN;
	cs->aov = cs->orders ? (double)cs->revenue / 10000.0 / (double)cs->orders : NAN;
	cs->ltv = cs->buyers ? (double)cs->historic / 10000.0 / (double)cs->buyers : NAN;
	cs->ltv_cac = cs->cac > 0 ? cs->ltv / cs->cac : NAN;
	cs->gp_per_buyer = cs->gp_buyers ? (double)cs->gross_profit / 10000.0 / (double)cs->gp_buyers
					 : NAN;
	cs->gp_month = acc->months_new > 0 ? acc->gp_new / acc->months_new : NAN;
	cs->payback_months = cs->gp_month > 0 ? cs->cac / cs->gp_month : NAN;
	cs->retention = cs->churn_base ? 100.0 * (1.0 - (double)cs->churn_lost /
						 (double)cs->churn_base) : NAN;
}

/* What the sorts of pairs and cohorts compare by. */
struct sort_ctx {
	const uint32_t *kept;       /* channel index -> position among the kept ones */
	const struct names *camp;
};

static int cmp_pair(const void *x, const void *y, void *ctx)
{
	const struct sort_ctx *sc = ctx;
	const struct pair *a = x, *b = y;
	if (a->channel != b->channel)
		return sc->kept[a->channel] < sc->kept[b->channel] ? -1 : 1;
	if (a->campaign == 0 || b->campaign == 0)
		return (a->campaign == 0) - (b->campaign == 0);
	return strcmp(sc->camp->name[a->campaign], sc->camp->name[b->campaign]);
}

static int cmp_cohort(const void *x, const void *y)
{
	const struct mx_acq_cohort *a = x, *b = y;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	return (a->channel > b->channel) - (a->channel < b->channel);
}

/* Channels by name into a->channels (those with spend in P, new customers
 * or buyers), the total into a->all; w->rank[i] becomes the position of
 * channel i among the kept ones, or UINT32_MAX. */
static int finish_channels(struct mx_acquisition *a, struct work *w, int *ovf,
			   struct crm_err *err)
{
	size_t nch = w->ch.n, n = 0;
	struct ch_acc all_acc = { 0, 0 };
	struct mx_acq_channel *kept = calloc(nch, sizeof *kept);
	w->order = xmallocn(nch, sizeof *w->order);
	w->rank = xmallocn(nch, sizeof *w->rank);
	if (!kept || !w->order || !w->rank) {
		free(kept);
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
	}
	for (size_t k = 0; k < nch; k++)
		w->order[k] = (uint32_t)k;
	qsort_r(w->order, nch, sizeof *w->order, cmp_channel, &w->ch);
	struct mx_acq_channel *al = &a->all;
	al->name = "all";
	for (size_t k = 0; k < nch; k++) {
		uint32_t i = w->order[k];
		struct mx_acq_channel *cs = &a->channels[i];
		al->has_spend |= cs->has_spend;
		al->new_customers += cs->new_customers;
		al->buyers += cs->buyers;
		al->orders += cs->orders;
		add_money(&al->revenue, cs->revenue, ovf);
		add_money(&al->historic, cs->historic, ovf);
		al->gp_buyers += cs->gp_buyers;
		add_money(&al->gross_profit, cs->gross_profit, ovf);
		al->churn_base += cs->churn_base;
		al->churn_lost += cs->churn_lost;
		all_acc.gp_new += w->acc[i].gp_new;
		all_acc.months_new += w->acc[i].months_new;
		channel_ratios(cs, &w->acc[i], a->spend_split);
		cs->name = i ? w->ch.name[i] : none_name;
		w->rank[i] = UINT32_MAX;
		if (!cs->has_spend && !cs->new_customers && !cs->buyers)
			continue;
		w->rank[i] = (uint32_t)n;
		kept[n++] = *cs;
	}
	/* al->spend was summed over every spend row in P, channels or not */
	channel_ratios(al, &all_acc, a->spend_split);
	free(a->channels);
	a->channels = kept;
	a->n_channels = n;
	return CRM_OK;
}

/* Campaigns: the pairs with spend or new customers in P, by channel then
 * campaign name. */
static int finish_campaigns(struct mx_acquisition *a, struct work *w, struct crm_err *err)
{
	struct sort_ctx sc = { w->rank, &w->camp };
	if (!w->n_pairs)
		return CRM_OK;
	a->campaigns = calloc(w->n_pairs, sizeof *a->campaigns);
	if (!a->campaigns)
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
	qsort_r(w->pairs, w->n_pairs, sizeof *w->pairs, cmp_pair, &sc);
	for (size_t k = 0; k < w->n_pairs; k++) {
		const struct pair *p = &w->pairs[k];
		int spend = p->has_spend && a->spend_split;
		if (w->rank[p->channel] == UINT32_MAX || (!spend && !p->new_customers))
			continue;
		struct mx_acq_campaign *cp = &a->campaigns[a->n_campaigns++];
		cp->channel = w->rank[p->channel];
		cp->name = p->campaign ? w->camp.name[p->campaign] : none_name;
		cp->has_spend = spend;
		cp->spend = spend ? p->spend : 0;
		cp->new_customers = p->new_customers;
		cp->cac = spend && p->new_customers
				  ? (double)p->spend / 10000.0 / (double)p->new_customers : NAN;
	}
	return CRM_OK;
}

/* Acquisition cohorts of the kept channels, by month then channel. */
static int finish_cohorts(struct mx_acquisition *a, struct work *w, struct crm_err *err)
{
	if (!w->n_cells || !a->spend_split)
		return CRM_OK;
	a->cohorts = calloc(w->n_cells, sizeof *a->cohorts);
	if (!a->cohorts)
		return crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
	for (size_t k = 0; k < w->n_cells; k++) {
		const struct cell *cl = &w->cells[k];
		if (w->rank[cl->channel] == UINT32_MAX)
			continue;   /* spend before P only, and no buyer: not tabulated */
		struct mx_acq_cohort *co = &a->cohorts[a->n_cohorts++];
		co->month = cl->month;
		co->channel = w->rank[cl->channel];
		co->spend = cl->spend;
		co->new_customers = cl->new_customers;
		co->cac = cl->new_customers ? (double)cl->spend / 10000.0 / (double)cl->new_customers
					    : NAN;
		co->gp_customers = cl->gp_customers;
		co->gp_per_customer = NAN;
		co->payback_months = NAN;
		if (!cl->gp_customers)
			continue;
		double cum = 0;   /* currency units: partial sums need not fit int64 */
		for (size_t i = 0; i < cl->len; i++) {
			cum += (double)w->curves[cl->off + i] / 10000.0;
			double per = cum / (double)cl->gp_customers;
			if (isnan(co->payback_months) && !isnan(co->cac) && per >= co->cac)
				co->payback_months = (double)i;
		}
		co->gp_per_customer = cum / (double)cl->gp_customers;
	}
	qsort(a->cohorts, a->n_cohorts, sizeof *a->cohorts, cmp_cohort);
	return CRM_OK;
}

int mx_acquisition_compute(const struct mx_ctx *ctx, struct mx_acquisition **out,
			   struct crm_err *err)
{
	struct mx_acquisition *a = NULL;
	struct work w;
	int rc = CRM_OK, ovf = 0;
	memset(&w, 0, sizeof w);
	*out = NULL;
	a = calloc(1, sizeof *a);
	if (!a) {
		rc = crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
		goto done;
	}
	a->as_of = ctx->o.as_of;
	a->p_start = ctx->o.p_start;
	a->p_end = ctx->o.p_end;
	a->spend_split = ctx->in == NULL && ctx->order_channel == 0;
	a->ttp_mean = a->ttp_median = NAN;
	if (build_names(ctx->ds, &w) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory for names");
		goto done;
	}
	a->channels = calloc(w.ch.n, sizeof *a->channels);
	w.acc = calloc(w.ch.n, sizeof *w.acc);
	if (!a->channels || !w.acc) {
		rc = crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
		goto done;
	}
	size_t grid;
	if (size_mul(w.ch.n, w.camp.n, &grid) == 0 && grid <= GRID_MAX) {
		w.pair_of = xmallocn(grid, sizeof *w.pair_of);
		if (!w.pair_of) {
			rc = crm_err_set(err, CRM_ENOMEM, "acquisition: out of memory");
			goto done;
		}
		memset(w.pair_of, 0xff, grid * sizeof *w.pair_of);
	} else {
		a->campaigns_skipped = 1;
	}
	if ((rc = compute_leads(ctx, a, &w, err)) != CRM_OK ||
	    (rc = spend_pass(ctx, a, &w, &ovf, err)) != CRM_OK ||
	    (rc = customer_pass(ctx, a, &w, &ovf, err)) != CRM_OK ||
	    (rc = finish_channels(a, &w, &ovf, err)) != CRM_OK ||
	    (rc = finish_campaigns(a, &w, err)) != CRM_OK ||
	    (rc = finish_cohorts(a, &w, err)) != CRM_OK)
		goto done;
	if (ovf)
		rc = crm_err_set(err, CRM_ERANGE, "acquisition: money sums overflow int64");
done:
	work_fini(&w);
	if (rc != CRM_OK) {
		mx_acquisition_free(a);
		a = NULL;
	}
	*out = a;
	return rc;
}

/* ------------------------------------------------------------------ report */

/* Money as currency units, NAN when absent. */
static double money_or_nan(int has, int64_t m)
{
	return has ? (double)m / 10000.0 : NAN;
}

static void emit_leads(const struct mx_ctx *ctx, const struct mx_acquisition *a,
		       struct rp_section *sec)
{
	const struct crm_table *l = &ctx->ds->t[CRM_LEADS];
	int has = a->has_leads;
	rp_value(sec, "leads", "Leads created in P", RP_COUNT, has ? (double)a->leads.leads : NAN);
	rp_value(sec, "leads_converted", "Of them, converted by A", RP_COUNT,
		 has ? (double)a->leads.converted : NAN);
	rp_value(sec, "lead_conversion_rate", "Lead conversion rate", RP_PERCENT, a->leads.rate);
	rp_value(sec, "days_to_convert", "Median days to convert", RP_DAYS, a->leads.median_days);
	rp_note(sec, "Lead conversion rate = leads created in P that converted by A / leads "
		     "created in P x 100%; a lead converted when its converted_at is by A (or it "
		     "names a customer but has no converted_at).");
	static const struct rp_col cols[] = {
		{ "source", RP_TEXT }, { "leads", RP_COUNT }, { "converted", RP_COUNT },
		{ "rate", RP_PERCENT }, { "median_days", RP_DAYS },
	};
	for (int by = 0; by < 2; by++) {
		struct rp_col c[5];
		memcpy(c, cols, sizeof c);
		if (by)
			c[0].name = "campaign";
		const struct crm_column *col = &l->col[by ? CRM_L_CAMPAIGN : CRM_L_SOURCE];
		const struct mx_lead_group *g = by ? a->by_campaign : a->by_source;
		size_t n = by ? a->n_lead_campaigns : a->n_sources;
		struct rp_table *t = rp_table_new(sec, by ? "leads_by_campaign" : "leads_by_source",
						  by ? "Lead conversion by campaign"
						     : "Lead conversion by source", c, 5);
		for (size_t k = 0; k < n; k++) {
			rp_row(t);
			rp_cell_str(t, g[k].code ? strs_get(&col->dict, g[k].code, NULL) : none_name);
			rp_cell_num(t, (double)g[k].leads);
			rp_cell_num(t, (double)g[k].converted);
			rp_cell_num(t, g[k].rate);
			rp_cell_num(t, g[k].median_days);
		}
	}
}

static void emit_cac(const struct mx_acquisition *a, struct rp_section *sec)
{
	const struct mx_acq_channel *al = &a->all;
	char label[8];
	rp_value(sec, "spend", "Sales and marketing spend in P", RP_MONEY,
		 money_or_nan(al->has_spend, al->spend));
	rp_value(sec, "new_customers", "New customers in P (first order in P)", RP_COUNT,
		 (double)al->new_customers);
	rp_value(sec, "cac", "CAC (spend / new customers)", RP_MONEY, al->cac);
	rp_value(sec, "ltv", "LTV: historic net revenue per customer", RP_MONEY, al->ltv);
	rp_value(sec, "ltv_cac", "LTV:CAC", RP_RATIO, al->ltv_cac);
	rp_value(sec, "gp_month", "Monthly gross profit per new customer", RP_MONEY, al->gp_month);
	rp_value(sec, "payback_months", "CAC payback", RP_MONTHS, al->payback_months);
	rp_note(sec, "CAC = spend dated in P / customers whose first completed order is in P; a "
		     "customer's channel is acquisition_channel, else the source of the lead that "
		     "converted into them (spend rows are matched by channel name).");
	rp_note(sec, "LTV here = historic value: net revenue to A per customer of the channel "
		     "with an order (the value family's definition); simple and predictive CLV are "
		     "in the value family. Payback months = CAC / monthly gross profit per new "
		     "customer, the gross profit to A of P's new customers over their months from "
		     "first order to A (gross profit = net revenue - order costs; unknown for a "
		     "customer with an order without cost).");
	if (!a->spend_split)
		rp_note(sec, "Spend is not per customer, so with a customer filter or an order "
			     "channel it cannot be divided: spend, CAC, LTV:CAC and payback are no data.");

	static const struct rp_col cols[] = {
		{ "channel", RP_TEXT }, { "spend", RP_MONEY }, { "new_customers", RP_COUNT },
		{ "cac", RP_MONEY }, { "ltv", RP_MONEY }, { "ltv_cac", RP_RATIO },
		{ "gp_month", RP_MONEY }, { "payback_months", RP_MONTHS },
	};
	struct rp_table *t = rp_table_new(sec, "cac_by_channel", "CAC, LTV:CAC and payback by channel",
					  cols, sizeof cols / sizeof cols[0]);
	for (size_t k = 0; k <= a->n_channels; k++) {
		const struct mx_acq_channel *cs = k < a->n_channels ? &a->channels[k] : al;
		rp_row(t);
		rp_cell_str(t, cs->name);
		rp_cell_num(t, money_or_nan(cs->has_spend, cs->spend));
		rp_cell_num(t, (double)cs->new_customers);
		rp_cell_num(t, cs->cac);
		rp_cell_num(t, cs->ltv);
		rp_cell_num(t, cs->ltv_cac);
		rp_cell_num(t, cs->gp_month);
		rp_cell_num(t, cs->payback_months);
	}
	static const struct rp_col ccols[] = {
		{ "channel", RP_TEXT }, { "campaign", RP_TEXT }, { "spend", RP_MONEY },
		{ "new_customers", RP_COUNT }, { "cac", RP_MONEY },
	};
	t = rp_table_new(sec, "cac_by_campaign", "CAC by channel and campaign", ccols,
			 sizeof ccols / sizeof ccols[0]);
	for (size_t k = 0; k < a->n_campaigns; k++) {
		const struct mx_acq_campaign *cp = &a->campaigns[k];
		rp_row(t);
		rp_cell_str(t, a->channels[cp->channel].name);
		rp_cell_str(t, cp->name);
		rp_cell_num(t, money_or_nan(cp->has_spend, cp->spend));
		rp_cell_num(t, (double)cp->new_customers);
		rp_cell_num(t, cp->cac);
	}
	if (a->campaigns_skipped)
		rp_note(sec, "Too many channel and campaign names to tabulate CAC by campaign.");

	static const struct rp_col pcols[] = {
		{ "cohort", RP_TEXT }, { "channel", RP_TEXT }, { "spend", RP_MONEY },
		{ "new_customers", RP_COUNT }, { "cac", RP_MONEY },
		{ "gp_per_customer", RP_MONEY }, { "payback_months", RP_MONTHS },
	};
	t = rp_table_new(sec, "cohort_payback", "CAC payback per acquisition cohort and channel",
			 pcols, sizeof pcols / sizeof pcols[0]);
	for (size_t k = 0; k < a->n_cohorts; k++) {
		const struct mx_acq_cohort *co = &a->cohorts[k];
		mx_month_label(co->month, label);
		rp_row(t);
		rp_cell_str(t, label);
		rp_cell_str(t, a->channels[co->channel].name);
		rp_cell_num(t, (double)co->spend / 10000.0);
		rp_cell_num(t, (double)co->new_customers);
		rp_cell_num(t, co->cac);
		rp_cell_num(t, co->gp_per_customer);
		rp_cell_num(t, co->payback_months);
	}
	rp_note(sec, "Cohort payback: the customers of a channel whose first order is in a month "
		     "with that channel's spend; CAC = the month's spend / them; payback = months "
		     "after the cohort's month (0: the same month) until their cumulative gross "
		     "profit per customer reaches CAC (no data: not yet by A).");
}

static void emit_ttp(const struct mx_acquisition *a, struct rp_section *sec)
{
	static const char *const bucket[MX_TTP_BUCKETS] = {
		"under 1 day", "1-7 days", "7-30 days", "30-90 days", "90-365 days", "365 days or more"
	};
	rp_value(sec, "ttp_customers", "New customers in P with a first contact", RP_COUNT,
		 (double)a->ttp_n);
	rp_value(sec, "ttp_no_contact", "New customers in P without a recorded first contact",
		 RP_COUNT, (double)a->ttp_no_contact);
	rp_value(sec, "ttp_mean", "Time to purchase, mean", RP_DAYS, a->ttp_mean);
	rp_value(sec, "ttp_median", "Time to purchase, median", RP_DAYS, a->ttp_median);
	rp_note(sec, "TTP = days from first contact (the earliest of lead created_at, signup_at, "
		     "first interaction, first web event) to the first completed order, over P's new "
		     "customers; a first contact after the first order counts 0 days.");
	static const struct rp_col cols[] = {
		{ "days", RP_TEXT }, { "customers", RP_COUNT }, { "share", RP_PERCENT },
	};
	struct rp_table *t = rp_table_new(sec, "ttp_distribution", "Time to purchase", cols, 3);
	for (int b = 0; b < MX_TTP_BUCKETS && a->ttp_n; b++) {
		rp_row(t);
		rp_cell_str(t, bucket[b]);
		rp_cell_num(t, (double)a->ttp_bucket[b]);
		rp_cell_num(t, 100.0 * (double)a->ttp_bucket[b] / (double)a->ttp_n);
	}
}

static void emit_channel_value(const struct mx_acquisition *a, struct rp_section *sec)
{
	static const struct rp_col cols[] = {
		{ "channel", RP_TEXT }, { "customers", RP_COUNT }, { "aov", RP_MONEY },
		{ "retention", RP_PERCENT }, { "net_revenue_per_customer", RP_MONEY },
		{ "gross_profit_per_customer", RP_MONEY },
	};
	struct rp_table *t = rp_table_new(sec, "channel_value", "Value per acquisition channel",
					  cols, sizeof cols / sizeof cols[0]);
	for (size_t k = 0; k <= a->n_channels; k++) {
		const struct mx_acq_channel *cs = k < a->n_channels ? &a->channels[k] : &a->all;
		rp_row(t);
		rp_cell_str(t, cs->name);
		rp_cell_num(t, (double)cs->buyers);
		rp_cell_num(t, cs->aov);
		rp_cell_num(t, cs->retention);
		rp_cell_num(t, cs->ltv);
		rp_cell_num(t, cs->gp_per_buyer);
	}
	rp_note(sec, "Channel value: per acquisition channel, the customers with an order by A, "
		     "their AOV and net revenue and gross profit per customer to A, and retention = "
		     "1 - CCR over P (churn window W). Predicted CLV per channel comes with the "
		     "predictive models (a later issue).");
}

int mx_acquisition_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	struct mx_acquisition *a = NULL;
	int rc = mx_acquisition_compute(ctx, &a, err);
	if (rc != CRM_OK)
		return rc;
	char line[128];
	struct rp_section *sec = rp_section_new(d, "acquisition", ctx->group, "Acquisition");
	mx_param_period(sec, ctx->o.as_of, ctx->o.p_start, ctx->o.p_end, 1, NULL);
	snprintf(line, sizeof line, "%d days", ctx->o.churn_window_days);
	rp_param(sec, "churn window W", line);
	rp_param(sec, "channel", "acquisition_channel, else the converting lead's source");
	rp_param(sec, "LTV", "historic net revenue per customer");
	emit_leads(ctx, a, sec);
	emit_cac(a, sec);
	emit_ttp(a, sec);
	emit_channel_value(a, sec);
	mx_acquisition_free(a);
	return rp_doc_status(d, err);
}
