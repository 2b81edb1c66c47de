/* purchases.h - the purchases family of METRICS.md (metrics layer): orders,
 * revenue, customers, AOV, purchase frequency, repeat purchase rate, no
 * second order, inter-purchase time, channel mix, spend bands, monthly
 * trends, seasonality and category velocity, computed in one pass over the
 * orders (rows are by customer, then time). Also the ranking helpers that
 * the value family shares: a radix sort of money and quantile bands.
 * The decisions where METRICS.md is silent are in docs/METRICS-NOTES.md. */
#ifndef METRICS_PURCHASES_H
#define METRICS_PURCHASES_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/mx.h"

struct rp_doc;

/* One order channel (a code of the orders' channel column) in P. */
struct mx_channel_mix {
	uint32_t code;          /* channel code; 0: orders without a channel */
	size_t orders;          /* completed orders */
	int64_t revenue;        /* their amounts, money */
	int64_t returns;        /* |returns| of this channel, money */
	int64_t net_revenue;    /* revenue - returns, money */
	size_t customers;       /* customers with >= 1 completed order here */
	size_t repeaters;       /* ... with >= 2 */
	double aov;             /* revenue / orders, currency units; NAN: no orders */
	double repeat_rate;     /* repeaters / customers, %; NAN: no customers */
};

/* A quantile band of customers ranked by a money value (band 0 the top). */
struct mx_band {
	size_t customers;       /* customers in the band (sizes differ by <= 1) */
	int64_t total;          /* sum of their values, money */
	int64_t min, max;       /* smallest and largest value (CRM_NA: empty band) */
	double share;           /* total / total of all bands, %; NAN when that is <= 0 */
};

/* One calendar month (UTC) of the trends table. */
struct mx_month {
	int64_t month;          /* months since 1970-01 (mx_month_of) */
	size_t orders;          /* completed orders */
	int64_t revenue;        /* their amounts, money */
	int64_t returns;        /* |returns|, money */
	int64_t net_revenue;    /* revenue - returns, money */
	size_t active;          /* customers with >= 1 completed order in the month */
	size_t new_customers;   /* ... whose first completed order (to A) is in it */
	size_t returning;       /* active - new_customers */
	double mom;             /* revenue growth over the month before, %; NAN when
	                           that month's revenue is 0 or the month is absent */
	double yoy;             /* revenue growth over the same month a year before, % */
	int complete;           /* 1: the month ends at or before A */
};

/* One category in the velocity windows: the last 3 complete calendar
 * months up to A, and the 3 before them. */
struct mx_mover {
	uint32_t code;          /* category code of the orders' category column; 0: none */
	size_t orders_prev, orders_last;   /* completed orders */
	int64_t revenue_prev, revenue_last; /* their amounts, money */
	double growth;          /* (revenue_last / revenue_prev - 1) x 100; NAN when
	                           revenue_prev <= 0 */
};

struct mx_purchases {
	int64_t as_of, p_start, p_end;   /* A and P = [p_start, p_end), from ctx */
	int has_orders;         /* 0: the dataset has no orders: every value is no data */

	/* P */
	size_t orders;          /* completed orders in P */
	size_t return_orders;   /* returns in P */
	int64_t revenue;        /* amounts of completed orders in P, money */
	int64_t returns;        /* |returns| in P, money */
	int64_t net_revenue;    /* revenue - returns, money */
	size_t customers;       /* active customers: >= 1 completed order in P */
	size_t repeaters;       /* customers with >= 2 completed orders in P */
	double aov;             /* revenue / orders, currency units; NAN: no orders */
	double net_per_order;   /* net_revenue / orders, currency units */
	double frequency;       /* orders / customers (TPPC); NAN: no customers */
	double repeat_rate;     /* repeaters / customers, % */

	/* to A */
	size_t buyers;          /* customers with >= 1 completed order to A */
	size_t buyers_repeat;   /* ... with >= 2 */
	double repeat_rate_to_date; /* buyers_repeat / buyers, % */
	size_t ns_eligible;     /* first completed order more than no_second_days before A */
	size_t ns_one;          /* ... of them with exactly one completed order to A */
	double ns_share;        /* ns_one / ns_eligible, %; NAN: none eligible */
	size_t ipt_customers;   /* customers with >= 2 distinct purchase days to A */
	double ipt_median;      /* median over them of their mean gap between
	                           consecutive purchase days, days */
	double ipt_mean;        /* mean of the same, days */
	double span_mean;       /* mean days from first to last purchase day, same customers */

	/* channel mix in P, by channel code ascending; only channels with orders
	 * or returns in P */
	struct mx_channel_mix *channels;
	size_t n_channels;

	/* spend bands of the active customers by net revenue in P */
	int n_bands;            /* opts.spend_bands */
	struct mx_band *bands;  /* n_bands, band 0 the highest spending */
	size_t band_customers;  /* customers ranked (= customers) */
	double top20_share;     /* net revenue share of the top 20% of them, % (Lorenz
	                           curve, interpolated); NAN when the total is <= 0 */

	/* monthly trends from the month of the first counted order to A's month */
	struct mx_month *months;
	size_t n_months;

	/* seasonality: classical multiplicative decomposition of monthly revenue
	 * over the complete months; NAN everywhere when fewer than 24 */
	size_t season_months;   /* length of the series used */
	double season[12];      /* index per month of year (0 = January); mean 1 */
	size_t season_ratios[12]; /* ratios averaged into each index */

	/* category velocity */
	int has_categories;     /* 0: no counted order has a category: no data */
	size_t n_categories;    /* codes 0 .. n_categories - 1 (dictionary size) */
	int64_t vm_first;       /* first month of P counted (months since 1970-01) */
	size_t n_vmonths;       /* months intersecting P, up to A */
	size_t *cat_orders;     /* [code * n_vmonths + k]: completed orders in P */
	int64_t *cat_revenue;   /* the same, their amounts, money */
	int64_t last3_first;    /* first month of the last-3 window (the prev-3 window
	                           is the 3 months before it) */
	struct mx_mover *movers; /* categories with orders in either window, by growth
	                            descending (NAN last), ties by code */
	size_t n_movers;
	size_t n_growth;        /* movers with a growth (the first n_growth) */
};

/* Computes the family over ctx into *out (zeroed first). Returns CRM_OK,
 * CRM_ENOMEM, or CRM_ERANGE when a money sum overflows int64. On success
 * the arrays in *out are the caller's, freed with mx_purchases_fini (also
 * safe after a failure). */
int mx_purchases_compute(const struct mx_ctx *ctx, struct mx_purchases *out,
			 struct crm_err *err);
void mx_purchases_fini(struct mx_purchases *p);

/* Computes and emits section "purchases" into d (see mx.h). */
int mx_purchases_report(const struct mx_ctx *ctx, struct rp_doc *d,
			struct crm_err *err);

/* ---------------------------------------- ranking, shared with value.c */

/* A money value of one customer, for ranking. */
struct mx_ranked {
	int64_t v;              /* money */
	uint32_t id;            /* dense customer id */
};

/* Sorts r[0..n) by v descending; stable, so ties keep their input order.
 * tmp is scratch of n entries. A least-significant-digit radix sort: the
 * columns of 10M orders give a million and a half customers, which qsort
 * would take a few tenths of a second for. */
void mx_rank_desc(struct mx_ranked *r, struct mx_ranked *tmp, size_t n);

/* Splits r[0..n) (sorted by mx_rank_desc) into k >= 1 bands by rank, as
 * SQL's NTILE(k): every band has floor(n / k) customers and the first
 * n mod k bands one more; band 0 holds the top values. Fills out[0..k);
 * returns CRM_OK, or CRM_ERANGE when a band's sum overflows int64. */
int mx_bands_fill(const struct mx_ranked *r, size_t n, int k, struct mx_band *out,
		  struct crm_err *err);

/* The share (%) of the total of r[0..n) (sorted descending) held by the top
 * pct percent (1..100) of them, on the Lorenz curve: the first
 * floor(pct n / 100) values plus the fraction (pct n mod 100) / 100 of the
 * next. NAN when n = 0 or the total is <= 0. */
double mx_top_share(const struct mx_ranked *r, size_t n, int pct);

#endif
