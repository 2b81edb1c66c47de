/* value.c - the value family of METRICS.md (metrics layer).
 * One pass over each customer's orders and tickets up to A gives their
 * historic value, gross profit, service cost and profit, and the counts of
 * the simple CLV (churn base, orders in the last 12 months); then the
 * profitable and unprofitable customers are ranked with the radix sort of
 * purchases.h. Definitions: METRICS.md "Value", docs/METRICS-NOTES.md. */
#include "metrics/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "report/doc.h"

#define LIFETIME_CAP_YEARS 10.0  /* METRICS.md: expected lifetime capped at 10 years */
#define LOSS_LIST_MAX 100        /* unprofitable customers listed */

/* The columns and options one customer's pass reads. */
struct vin {
	const struct mx_ctx *ctx;
	int64_t A, W, ys;               /* as-of, churn window (s), start of Y */
	int64_t per_minute, per_ticket;
	int service_known;              /* a cost option is set and the data has tickets */
	const uint64_t *bc, *tbc;       /* order and ticket rows per customer (NULL: none) */
	const int64_t *at, *amount, *cost, *opened, *minutes;
	const uint32_t *status, *chan;
};

/* One customer's sums up to A. */
struct one {
	int64_t net;            /* historic value, money */
	int64_t costs;          /* costs of the completed orders with one, money */
	int cost_missing;       /* a completed order without a cost */
	int64_t service;        /* service cost, money (0 when unknown) */
	size_t n_comp, n_cost;  /* completed orders, of them with a cost */
	size_t y_orders;        /* completed orders in Y */
	int64_t y_revenue;      /* their amounts, money */
	int64_t last, last_before; /* last completed order to A, and before Y; CRM_NA */
	size_t tickets, uncosted;  /* tickets opened to A; of them costed at 0 */
	int ovf;                /* a sum overflowed */
};

static int vin_init(struct vin *in, const struct mx_ctx *ctx, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_ORDERS], *tk = &ds->t[CRM_TICKETS];
	memset(in, 0, sizeof *in);
	if (t->n > 0 && (!t->by_customer || !t->col[CRM_O_ORDERED_AT].i64 ||
			 !t->col[CRM_O_AMOUNT].i64))
		return crm_err_set(err, CRM_EINVAL, "value: the orders table is not laid out");
	if (tk->n > 0 && (!tk->by_customer || !tk->col[CRM_T_OPENED_AT].i64))
		return crm_err_set(err, CRM_EINVAL, "value: the tickets table is not laid out");
	in->ctx = ctx;
	in->A = ctx->o.as_of;
	in->W = (int64_t)ctx->o.churn_window_days * SECS_PER_DAY;
	in->ys = mx_year_before(ctx->o.as_of + 1);
	in->per_minute = ctx->o.cost_per_minute;
	in->per_ticket = ctx->o.cost_per_ticket;
	in->service_known = (in->per_minute > 0 || in->per_ticket > 0) && tk->n > 0;
	in->bc = t->n ? t->by_customer : NULL;
	in->tbc = tk->n ? tk->by_customer : NULL;
	in->at = t->col[CRM_O_ORDERED_AT].i64;
	in->amount = t->col[CRM_O_AMOUNT].i64;
	in->cost = t->col[CRM_O_COST].i64;
	in->status = t->col[CRM_O_STATUS].cat;
	in->chan = t->col[CRM_O_CHANNEL].cat;
	in->opened = tk->col[CRM_T_OPENED_AT].i64;
	in->minutes = tk->col[CRM_T_HANDLING_MINUTES].i64;
	return CRM_OK;
}

/* The service cost of one ticket (see value.h and METRICS-NOTES.md): its
 * handling minutes (ten-thousandths) x cost_per_minute when that is set and
 * the minutes are known, else cost_per_ticket; *uncosted = 1 when that is
 * 0 too. Returns 1 on overflow. */
static int ticket_cost(int64_t minutes, int64_t per_minute, int64_t per_ticket, int64_t *cost,
		       size_t *uncosted)
{
	*cost = per_ticket;
	if (per_minute > 0 && minutes != CRM_NA && minutes >= 0) {
		int64_t q;
		if (__builtin_mul_overflow(minutes, per_minute, &q))
			return 1;
		*cost = money_div_round(q, MONEY_SCALE);
	} else {
		*uncosted += per_ticket == 0;
	}
	return 0;
}

/* Sums customer c's orders (of ctx's order channel) and tickets up to A. */
static void one_customer(const struct vin *in, size_t c, struct one *o)
{
	memset(o, 0, sizeof *o);
	o->last = o->last_before = CRM_NA;
	const uint32_t want = in->ctx->order_channel;
	int ovf = 0;
	for (uint64_t r = in->bc ? in->bc[c] : 0, end = in->bc ? in->bc[c + 1] : 0; r < end; r++) {
		int64_t when = in->at[r];
		if (when > in->A)
			break;   /* rows are in time order */
		if (when == CRM_NA || (want && (!in->chan || in->chan[r] != want)))
			continue;
		int kind = mx_kind_of(in->status, in->amount, r);
		int64_t a = in->amount[r];
		if (kind == MX_CANCELLED)
			continue;
		if (kind == MX_RETURN) {
			ovf |= __builtin_sub_overflow(o->net, a < 0 ? -a : a, &o->net);
			continue;
		}
		ovf |= __builtin_add_overflow(o->net, a, &o->net);
		o->n_comp++;
		if (in->cost && in->cost[r] != CRM_NA) {
			ovf |= __builtin_add_overflow(o->costs, in->cost[r], &o->costs);
			o->n_cost++;
		} else {
			o->cost_missing = 1;
		}
		if (when < in->ys) {
			o->last_before = when;
		} else {
			o->y_orders++;
			ovf |= __builtin_add_overflow(o->y_revenue, a, &o->y_revenue);
		}
		o->last = when;
	}
	for (uint64_t r = in->tbc ? in->tbc[c] : 0, end = in->tbc ? in->tbc[c + 1] : 0; r < end; r++) {
		if (in->opened[r] > in->A)
			break;
		if (in->opened[r] == CRM_NA)
			continue;
		o->tickets++;
		if (!in->service_known)
			continue;
		int64_t tc;
		ovf |= ticket_cost(in->minutes ? in->minutes[r] : CRM_NA, in->per_minute,
				   in->per_ticket, &tc, &o->uncosted);
		ovf |= __builtin_add_overflow(o->service, tc, &o->service);
	}
	o->ovf = ovf;
}

/* The customer's values (value.h) from its sums; costs_exist: some counted
 * completed order has a cost, so that gross profit can be known. */
static int values_of(const struct vin *in, const struct one *o, int costs_exist,
		     struct mx_customer_value *v)
{
	v->historic = o->net;
	v->gross_profit = v->profit = CRM_NA;
	v->service_cost = in->service_known ? o->service : CRM_NA;
	if (!costs_exist || o->cost_missing)
		return 0;
	return __builtin_sub_overflow(o->net, o->costs, &v->gross_profit) |
	       __builtin_sub_overflow(v->gross_profit, o->service, &v->profit);
}

int mx_customer_values(const struct mx_ctx *ctx, struct mx_customer_value *out,
		       struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	struct vin in;
	struct one o;
	int rc = vin_init(&in, ctx, err), ovf = 0;
	if (rc != CRM_OK)
		return rc;
	size_t cost_orders = 0;
	for (size_t c = 0; c < ds->n_customers; c++) {
		struct mx_customer_value *v = &out[c];
		if (!mx_counts(ctx, (uint32_t)c)) {
			v->historic = v->gross_profit = v->service_cost = v->profit = CRM_NA;
			continue;
		}
		one_customer(&in, c, &o);
		cost_orders += o.n_cost;
		ovf |= o.ovf | values_of(&in, &o, 1, v);
	}
	if (ovf)
		return crm_err_set(err, CRM_ERANGE, "value: a sum of money overflows int64");
	/* with no cost among the counted orders gross profit is unknown for
	 * everyone (a customer without orders would otherwise show 0) */
	for (size_t c = 0; c < ds->n_customers && cost_orders == 0; c++)
		out[c].gross_profit = out[c].profit = CRM_NA;
	return CRM_OK;
}

static void clv_add(struct mx_clv *x, const struct one *o, int64_t ye, int64_t W, int base,
		    int *ovf)
{
	x->base += (size_t)base;
	x->churned += (size_t)(base && ye - o->last > W);
	x->active += o->y_orders > 0;
	x->orders += o->y_orders;
	*ovf |= __builtin_add_overflow(x->revenue, o->y_revenue, &x->revenue);
	x->buyers += o->n_comp > 0;
	*ovf |= __builtin_add_overflow(x->historic, o->net, &x->historic);
}

static void clv_finish(struct mx_clv *v)
{
	v->churn = v->base ? 100.0 * (double)v->churned / (double)v->base : NAN;
	v->lifetime = NAN;
	if (v->base)
		v->lifetime = v->churned && (double)v->base / (double)v->churned < LIFETIME_CAP_YEARS
			      ? (double)v->base / (double)v->churned : LIFETIME_CAP_YEARS;
	v->aov = v->orders ? mx_money(v->revenue) / (double)v->orders : NAN;
	v->per_year = v->active ? (double)v->orders / (double)v->active : NAN;
	v->clv = v->aov * v->per_year * v->lifetime;
}

void mx_value_fini(struct mx_value *v)
{
	if (!v)
		return;
	free(v->by_channel);
	free(v->loss_list);
	free(v->loss_values);
	v->by_channel = NULL;
	v->loss_list = NULL;
	v->loss_values = NULL;
}

int mx_value_compute(const struct mx_ctx *ctx, struct mx_value *out, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_column *acq = &ds->t[CRM_CUSTOMERS].col[CRM_C_ACQ_CHANNEL];
	const uint32_t *acq_code = acq->kind == CRM_COL_CAT ? acq->cat : NULL;
	struct mx_ranked *ranked = NULL, *scratch = NULL;
	double *hist = NULL;
	struct vin in;
	struct one o;
	int rc = CRM_OK, ovf = 0;

	memset(out, 0, sizeof *out);
	out->as_of = ctx->o.as_of;
	out->y_end = ctx->o.as_of + 1;
	out->y_start = mx_year_before(out->y_end);
	out->historic_mean = out->historic_median = out->top20_share = NAN;
	out->gross_profit = CRM_NA;
	out->has_orders = ds->t[CRM_ORDERS].n > 0;
	for (int b = 0; b < 10; b++) {
		out->deciles[b].min = out->deciles[b].max = CRM_NA;
		out->deciles[b].share = NAN;
	}
	if ((rc = vin_init(&in, ctx, err)) != CRM_OK)
		return rc;
	out->service_known = in.service_known;
	out->n_codes = acq_code && acq->dict.n ? acq->dict.n : 1;
	out->by_channel = calloc(out->n_codes, sizeof *out->by_channel);
	ranked = xmallocn(ds->n_customers, sizeof *ranked);
	hist = xmallocn(ds->n_customers, sizeof *hist);
	if (!out->by_channel || !ranked || !hist)
		goto nomem;

	/* one pass: historic value over every counted customer; the means,
	 * gross profit and the profit ranking over the buyers (a completed
	 * order to A); a buyer's profit is known when all of their completed
	 * orders have a cost, so with no costs in the data nobody is ranked */
	int64_t gp = 0;
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (!mx_counts(ctx, (uint32_t)c))
			continue;
		one_customer(&in, c, &o);
		ovf |= o.ovf;
		out->comp_orders += o.n_comp;
		out->cost_orders += o.n_cost;
		out->tickets += o.tickets;
		out->tickets_uncosted += o.uncosted;
		ovf |= __builtin_add_overflow(out->historic_total, o.net, &out->historic_total);
		ovf |= __builtin_add_overflow(out->service_total, o.service, &out->service_total);
		int base = o.last_before != CRM_NA && in.ys - o.last_before <= in.W;
		clv_add(&out->all, &o, out->y_end, in.W, base, &ovf);
		uint32_t code = acq_code ? acq_code[c] : 0;
		clv_add(&out->by_channel[code < out->n_codes ? code : 0], &o, out->y_end, in.W, base,
			&ovf);
		if (!o.n_comp)
			continue;
		hist[out->buyers++] = mx_money(o.net);
		struct mx_customer_value v;
		ovf |= values_of(&in, &o, 1, &v);
		if (v.gross_profit == CRM_NA)
			continue;
		out->gp_customers++;
		ovf |= __builtin_add_overflow(gp, v.gross_profit, &gp);
		ranked[out->n_profit].v = v.profit;
		ranked[out->n_profit++].id = (uint32_t)c;
		ovf |= __builtin_add_overflow(out->profit_total, v.profit, &out->profit_total);
		out->n_unprofitable += v.profit < 0;
	}
	if (ovf)
		goto range;
	out->costs_known = out->cost_orders > 0;
	if (out->gp_customers)
		out->gross_profit = gp;
	if (out->buyers) {
		out->historic_mean = mx_money(out->historic_total) / (double)out->buyers;
		out->historic_median = mx_select_median(hist, out->buyers);
	}
	clv_finish(&out->all);
	for (size_t k = 0; k < out->n_codes; k++)
		clv_finish(&out->by_channel[k]);

	/* profit deciles (as SQL's NTILE(10)), top 20% share, the loss list */
	scratch = xmallocn(out->n_profit, sizeof *scratch);
	if (!scratch)
		goto nomem;
	mx_rank_desc(ranked, scratch, out->n_profit);
	if ((rc = mx_bands_fill(ranked, out->n_profit, 10, out->deciles, err)) != CRM_OK)
		goto done;
	out->top20_share = mx_top_share(ranked, out->n_profit, 20);
	size_t n_list = out->n_unprofitable < LOSS_LIST_MAX ? out->n_unprofitable : LOSS_LIST_MAX;
	out->loss_list = xmallocn(n_list, sizeof *out->loss_list);
	out->loss_values = xmallocn(n_list, sizeof *out->loss_values);
	if (!out->loss_list || !out->loss_values)
		goto nomem;
	/* the unprofitable are the tail of the ranking: walk it from the largest
	 * loss, each run of equal profits in its (ascending id) order */
	size_t lo = out->n_profit - out->n_unprofitable, i = out->n_profit;
	while (i > lo && out->n_loss_list < n_list) {
		size_t k = i - 1;
		while (k > lo && ranked[k - 1].v == ranked[i - 1].v)
			k--;
		for (size_t x = k; x < i && out->n_loss_list < n_list; x++) {
			uint32_t c = ranked[x].id;
			one_customer(&in, c, &o);
			values_of(&in, &o, 1, &out->loss_values[out->n_loss_list]);
			out->loss_list[out->n_loss_list++] = c;
		}
		i = k;
	}
	goto done;
range:
	rc = crm_err_set(err, CRM_ERANGE, "value: a sum of money overflows int64");
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "value: out of memory (%zu customers)", ds->n_customers);
done:
	free(ranked);
	free(scratch);
	free(hist);
	if (rc != CRM_OK)
		mx_value_fini(out);
	return rc;
}

/* ------------------------------------------------------------ the report */

/* v (money) in currency units, NAN when CRM_NA or when there is no data. */
static double money_known(int ok, int64_t v)
{
	return ok && v != CRM_NA ? mx_money(v) : NAN;
}

static void emit_clv_table(struct rp_section *s, const struct mx_value *v,
			   const struct crm_column *acq)
{
	static const struct rp_col cols[] = {
		{ "acquisition channel", RP_TEXT }, { "buyers", RP_COUNT },
		{ "historic per buyer", RP_MONEY }, { "churn base", RP_COUNT },
		{ "churned", RP_COUNT }, { "annual churn", RP_PERCENT },
		{ "lifetime years", RP_NUMBER }, { "active in Y", RP_COUNT }, { "AOV", RP_MONEY },
		{ "purchases per year", RP_NUMBER }, { "simple CLV", RP_MONEY },
	};
	struct rp_table *tb = rp_table_new(s, "clv_by_channel",
					   "Simple CLV per acquisition channel", cols,
					   sizeof cols / sizeof cols[0]);
	for (size_t k = 0; k < v->n_codes; k++) {
		const struct mx_clv *c = &v->by_channel[k];
		if (!c->buyers && !c->base && !c->active)
			continue;
		rp_row(tb);
		rp_cell_str(tb, mx_code_name(acq, (uint32_t)k, "(none)"));
		rp_cell_num(tb, (double)c->buyers);
		rp_cell_num(tb, c->buyers ? mx_money(c->historic) / (double)c->buyers : NAN);
		rp_cell_num(tb, (double)c->base);
		rp_cell_num(tb, (double)c->churned);
		rp_cell_num(tb, c->churn);
		rp_cell_num(tb, c->lifetime);
		rp_cell_num(tb, (double)c->active);
		rp_cell_num(tb, c->aov);
		rp_cell_num(tb, c->per_year);
		rp_cell_num(tb, c->clv);
	}
}

static void emit_profit_tables(struct rp_section *s, const struct mx_value *v,
			       const struct crm_dataset *ds)
{
	static const struct rp_col dcols[] = {
		{ "decile", RP_TEXT }, { "customers", RP_COUNT }, { "lowest", RP_MONEY },
		{ "highest", RP_MONEY }, { "profit", RP_MONEY }, { "share", RP_PERCENT },
		{ "mean per customer", RP_MONEY },
	};
	static const struct rp_col lcols[] = {
		{ "customer_id", RP_TEXT }, { "net revenue", RP_MONEY }, { "direct cost", RP_MONEY },
		{ "service cost", RP_MONEY }, { "profit", RP_MONEY },
	};
	struct rp_table *dt = rp_table_new(s, "profit_deciles", "Customer profit deciles "
					   "(1 = most profitable)", dcols,
					   sizeof dcols / sizeof dcols[0]);
	char name[16];
	for (int b = 0; b < 10 && v->n_profit; b++) {
		const struct mx_band *band = &v->deciles[b];
		snprintf(name, sizeof name, "%d", b + 1);
		rp_row(dt);
		rp_cell_str(dt, name);
		rp_cell_num(dt, (double)band->customers);
		rp_cell_num(dt, money_known(band->customers > 0, band->min));
		rp_cell_num(dt, money_known(band->customers > 0, band->max));
		rp_cell_num(dt, mx_money(band->total));
		rp_cell_num(dt, band->share);
		rp_cell_num(dt, band->customers ? mx_money(band->total) / (double)band->customers
						: NAN);
	}
	struct rp_table *lt = rp_table_new(s, "unprofitable", "Unprofitable customers, largest "
					   "loss first (at most 100)", lcols,
					   sizeof lcols / sizeof lcols[0]);
	for (size_t i = 0; i < v->n_loss_list; i++) {
		uint32_t c = v->loss_list[i];
		const struct mx_customer_value *cv = &v->loss_values[i];
		rp_row(lt);
		rp_cell_str(lt, crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID, c));
		rp_cell_num(lt, mx_money(cv->historic));
		rp_cell_num(lt, mx_money(cv->historic - cv->gross_profit));
		rp_cell_num(lt, money_known(1, cv->service_cost));
		rp_cell_num(lt, mx_money(cv->profit));
	}
}

int mx_value_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	struct mx_value v;
	int rc = mx_value_compute(ctx, &v, err);
	if (rc != CRM_OK)
		return rc;
	struct rp_section *s = rp_section_new(d, "value", ctx->group, "Customer value");
	char a[32], b[32], line[512];
	const int ok = v.has_orders;
	const double nan_unless = ok ? 0 : NAN;   /* added to counts: NAN without orders */

	ts_format(v.as_of, 0, a);
	rp_param(s, "as-of", a);
	ts_format(v.y_start, 0, a);
	ts_format(v.y_end, 0, b);
	snprintf(line, sizeof line, "[%s, %s) (the 12 months before A)", a, b);
	rp_param(s, "CLV year Y", line);
	snprintf(line, sizeof line, "%d days", ctx->o.churn_window_days);
	rp_param(s, "churn window W", line);
	if (ctx->order_channel)
		rp_param(s, "order channel",
			 mx_code_name(&ds->t[CRM_ORDERS].col[CRM_O_CHANNEL], ctx->order_channel,
				      "(none)"));
	if (ctx->o.cost_per_minute > 0) {
		money_format(ctx->o.cost_per_minute, 2, a);
		money_format(ctx->o.cost_per_ticket, 2, b);
		snprintf(line, sizeof line, "%s per handling minute (tickets without minutes: %s "
			 "per ticket)", a, b);
	} else if (ctx->o.cost_per_ticket > 0) {
		money_format(ctx->o.cost_per_ticket, 2, a);
		snprintf(line, sizeof line, "%s per ticket", a);
	} else {
		snprintf(line, sizeof line, "not counted (no cost per minute or per ticket given)");
	}
	if ((ctx->o.cost_per_minute > 0 || ctx->o.cost_per_ticket > 0) && !v.service_known)
		snprintf(line, sizeof line, "not counted (the data has no tickets)");
	rp_param(s, "service cost", line);

	rp_value(s, "buyers", "Customers with a completed order to A", RP_COUNT,
		 (double)v.buyers + nan_unless);
	rp_value(s, "historic_total", "Historic value: net revenue to A", RP_MONEY,
		 money_known(ok, v.historic_total));
	rp_value(s, "historic_mean", "Historic value per buyer, mean", RP_MONEY, v.historic_mean);
	rp_value(s, "historic_median", "Historic value per buyer, median", RP_MONEY,
		 v.historic_median);
	rp_value(s, "cost_coverage", "Completed orders with a cost", RP_PERCENT,
		 v.comp_orders ? 100.0 * (double)v.cost_orders / (double)v.comp_orders : NAN);
	rp_value(s, "gross_profit", "Gross profit to A (buyers whose orders all have costs)",
		 RP_MONEY, money_known(ok, v.gross_profit));
	rp_value(s, "gross_profit_customers", "Buyers with a known gross profit", RP_COUNT,
		 v.costs_known ? (double)v.gp_customers : NAN);

	rp_value(s, "clv_base", "Customers not churned at the start of Y", RP_COUNT,
		 (double)v.all.base + nan_unless);
	rp_value(s, "clv_churned", "... of them churned at the end of Y", RP_COUNT,
		 (double)v.all.churned + nan_unless);
	rp_value(s, "annual_churn", "Annual churn rate (CCR over Y)", RP_PERCENT, v.all.churn);
	rp_value(s, "lifetime_years", "Expected lifetime, years (1 / churn, at most 10)",
		 RP_NUMBER, v.all.lifetime);
	rp_value(s, "clv_aov", "AOV in Y", RP_MONEY, v.all.aov);
	rp_value(s, "purchases_per_year", "Purchases per active customer in Y", RP_NUMBER,
		 v.all.per_year);
	rp_value(s, "clv", "Simple CLV", RP_MONEY, v.all.clv);

	rp_value(s, "tickets", "Tickets opened up to A", RP_COUNT,
		 ds->t[CRM_TICKETS].n ? (double)v.tickets : NAN);
	rp_value(s, "service_cost", "Service cost to A", RP_MONEY,
		 money_known(v.service_known, v.service_total));
	rp_value(s, "profit_customers", "Buyers with a known profit", RP_COUNT,
		 v.costs_known ? (double)v.n_profit : NAN);
	rp_value(s, "profit_total", "Customer profit to A", RP_MONEY,
		 money_known(v.costs_known, v.profit_total));
	rp_value(s, "top20_profit_share", "Profit share of the top 20% of customers", RP_PERCENT,
		 v.top20_share);
	rp_value(s, "unprofitable", "Unprofitable customers", RP_COUNT,
		 v.costs_known ? (double)v.n_unprofitable : NAN);
	rp_value(s, "unprofitable_share", "Share of customers unprofitable", RP_PERCENT,
		 v.n_profit ? 100.0 * (double)v.n_unprofitable / (double)v.n_profit : NAN);

	rp_note(s, "Historic value = net revenue to A (completed orders - returns by absolute "
		"value; cancelled orders count nowhere); gross profit = historic value - the costs "
		"of the completed orders, for customers whose completed orders all have a cost.");
	rp_note(s, "Simple CLV = AOV x purchases per year x expected lifetime, over Y = the 12 "
		"months before A: AOV = revenue of completed orders in Y / their number, purchases "
		"per year = completed orders in Y / customers with one; expected lifetime = 1 / "
		"annual churn rate, at most 10 years.");
	snprintf(line, sizeof line, "Annual churn rate is computed here from the orders as "
		 "METRICS.md's CCR for Y with W = %d days: customers not churned at start(Y) (a "
		 "completed order before it, the last at most W days before) who are churned at "
		 "end(Y) (no completed order in the W days before it) / customers not churned at "
		 "start(Y).", ctx->o.churn_window_days);
	rp_note(s, line);
	rp_note(s, "Profit = net revenue - direct costs (order cost) - service cost; deciles "
		"(equal counts, as SQL's NTILE) and the top 20% share (Lorenz curve, fractions "
		"interpolated) are over buyers with a known profit; unprofitable = profit < 0.");
	if (v.tickets_uncosted) {
		snprintf(line, sizeof line, "%zu tickets have no handling minutes and no cost per "
			 "ticket is given: they are costed at 0.", v.tickets_uncosted);
		rp_note(s, line);
	}
	if (ctx->order_channel && v.service_known)
		rp_note(s, "Service cost counts every ticket of the customer, whatever the order "
			"channel.");

	emit_clv_table(s, &v, &ds->t[CRM_CUSTOMERS].col[CRM_C_ACQ_CHANNEL]);
	emit_profit_tables(s, &v, ds);
	mx_value_fini(&v);
	return CRM_OK;
}
