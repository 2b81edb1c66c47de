/* value.h - the value family of METRICS.md (metrics layer): historic value
 * (net revenue per customer to A) and gross profit where order costs are
 * given, simple CLV (AOV x purchases per year x expected lifetime) for all
 * customers and per acquisition channel, and customer profitability with
 * service cost: deciles, the profit share of the top 20% and the
 * unprofitable customers. Decisions: docs/METRICS-NOTES.md, "value". */
#ifndef METRICS_VALUE_H
#define METRICS_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/mx.h"
#include "metrics/purchases.h"

struct rp_doc;

/* One customer's value to A (money; CRM_NA when unknown). */
struct mx_customer_value {
	int64_t historic;       /* net revenue: completed orders - |returns| */
	int64_t gross_profit;   /* historic - costs of the completed orders; CRM_NA when
	                           the data has no order costs or one of this
	                           customer's completed orders has none */
	int64_t service_cost;   /* tickets opened up to A, costed by the options;
	                           CRM_NA when no cost option is set or the data
	                           has no tickets */
	int64_t profit;         /* gross_profit - service_cost (service cost taken as
	                           0 when unknown); CRM_NA when gross_profit is */
};

/* Fills out[0..ds->n_customers) for ctx (orders of ctx->order_channel only;
 * tickets of every channel). Customers that do not count in ctx get CRM_NA
 * everywhere. Returns CRM_OK, CRM_ERANGE (a sum overflows int64) or
 * CRM_EINVAL (the orders table is not laid out). */
int mx_customer_values(const struct mx_ctx *ctx, struct mx_customer_value *out,
		       struct crm_err *err);

/* Simple CLV over a group of customers, in Y = the 12 calendar months
 * before A: [A + 1 s - 12 months, A + 1 s). */
struct mx_clv {
	size_t base;            /* customers not churned at start(Y): a completed
	                           order before it, the last within W days */
	size_t churned;         /* of them, churned at end(Y): last completed order
	                           more than W days before it */
	double churn;           /* churned / base, % (annual churn rate); NAN: base 0 */
	double lifetime;        /* 1 / churn rate in years, capped at 10 */
	size_t active;          /* customers with >= 1 completed order in Y */
	size_t orders;          /* completed orders in Y */
	int64_t revenue;        /* their amounts, money */
	double aov;             /* revenue / orders, currency units */
	double per_year;        /* orders / active */
	double clv;             /* aov x per_year x lifetime, currency units */
	size_t buyers;          /* customers with >= 1 completed order to A */
	int64_t historic;       /* their net revenue to A, money (all customers of
	                           the group, buyers or not) */
};

struct mx_value {
	int64_t as_of;
	int64_t y_start, y_end;  /* Y of struct mx_clv */
	int has_orders;          /* 0: the dataset has no orders: no data */

	/* historic value */
	size_t buyers;           /* counted customers with >= 1 completed order to A */
	int64_t historic_total;  /* net revenue to A of all counted customers, money */
	double historic_mean;    /* historic_total / buyers, currency units */
	double historic_median;  /* median historic value of the buyers */
	int costs_known;         /* 1: some counted completed order has a cost */
	size_t cost_orders;      /* completed orders to A with a cost */
	size_t comp_orders;      /* completed orders to A */
	size_t gp_customers;     /* buyers whose gross profit is known */
	int64_t gross_profit;    /* sum of their gross profit, money; CRM_NA: none */

	/* simple CLV: all customers, and per acquisition channel code (index =
	 * code of the customers' acquisition_channel column, 0: none) */
	struct mx_clv all;
	struct mx_clv *by_channel;
	size_t n_codes;          /* entries of by_channel */

	/* profitability: buyers with a known profit, ranked by profit */
	int service_known;       /* a cost option is set and the data has tickets */
	size_t tickets;          /* counted tickets opened up to A */
	size_t tickets_uncosted; /* of them, costed at 0: cost_per_minute given, no
	                            handling minutes and no cost_per_ticket */
	int64_t service_total;   /* service cost of the counted customers, money */
	size_t n_profit;         /* customers ranked */
	int64_t profit_total;    /* their profit, money */
	struct mx_band deciles[10]; /* band 0 the most profitable */
	double top20_share;      /* profit share of the top 20%, % (Lorenz curve);
	                            NAN when the total profit is <= 0 */
	size_t n_unprofitable;   /* ranked customers with profit < 0 */
	uint32_t *loss_list;     /* up to 100 of them (dense ids), largest loss first,
	                            ties by customer id */
	struct mx_customer_value *loss_values; /* their values, in the same order */
	size_t n_loss_list;
};

/* Computes the family over ctx into *out (zeroed first). CRM_OK, CRM_ENOMEM,
 * CRM_ERANGE or CRM_EINVAL. The arrays in *out are the caller's, freed with
 * mx_value_fini (safe after a failure too). */
int mx_value_compute(const struct mx_ctx *ctx, struct mx_value *out, struct crm_err *err);
void mx_value_fini(struct mx_value *v);

/* Computes and emits section "value" into d (see mx.h). */
int mx_value_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
