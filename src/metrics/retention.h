/* retention.h - customers over time (metrics layer): churn rate and
 * retention for a period, the cohort retention matrix with cohort revenue
 * and revenue LTV curves, the lifecycle stage of every customer with the
 * stage transitions over a period, and tier (spend band) migration
 * (METRICS.md "Customers over time"; the choices METRICS.md leaves open are
 * in docs/METRICS-NOTES.md, "Retention").
 *
 * An "order" here is a completed order of mx_order_kind that counts in the
 * context (mx_counts, mx_order_counts) with a time <= the date looked at;
 * net revenue subtracts returns by their absolute value; cancelled orders
 * count nowhere. The state "at start(P)" is the state at p_start - 1 s
 * (everything before P), "at end(P)" the state at p_end - 1 s (A with the
 * default period). Days are UTC calendar days: a gap is the difference of
 * day numbers. */
#ifndef METRICS_RETENTION_H
#define METRICS_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/mx.h"

/* Lifecycle stages at a date d (METRICS.md), with W = churn_window_days:
 *   prospect  no order by d (a customer record, or a lead);
 *   churned   the last order more than W days before d;
 *   at_risk   not churned, and no order for more than at_risk_factor x the
 *             median gap between the customer's distinct order days (2+
 *             order days), or more than at_risk_one_order_days (one order
 *             day);
 *   new       exactly one order, not at risk: within new_days, or older
 *             (METRICS.md leaves one-order customers between new_days and
 *             the at-risk limit without a stage; they still await their
 *             second order, so they stay "new");
 *   growing   2+ orders, first order at most growing_days before d;
 *   mature    2+ orders, first order more than growing_days before d.
 * The first rule that holds, in the order churned, at risk, then the rest. */
enum mx_stage {
	MX_STAGE_PROSPECT, MX_STAGE_NEW, MX_STAGE_GROWING, MX_STAGE_MATURE,
	MX_STAGE_AT_RISK, MX_STAGE_CHURNED
};
#define MX_N_STAGES 6
/* Two more values a stage array may hold: */
#define MX_STAGE_NOT_YET 0xFE  /* not yet known at d: the earliest of signup_at,
                                  first lead and first order is after d */
#define MX_STAGE_OUT 0xFF      /* the customer does not count in the context */

/* "prospect", "new", "growing", "mature", "at_risk", "churned"; "not_yet"
 * and "out" for the two values above; "?" for anything else. */
const char *mx_stage_name(int stage);

/* The stage of every customer at ctx->o.as_of into stage[0 .. n_customers).
 * CRM_OK, or CRM_ENOMEM. */
int mx_lifecycle_stages(const struct mx_ctx *ctx, uint8_t *stage, struct crm_err *err);

/* The same at the date at (s since epoch; orders with time <= at count). */
int mx_lifecycle_stages_at(const struct mx_ctx *ctx, int64_t at, uint8_t *stage,
			   struct crm_err *err);

/* Cohorts kept at most: the cohort tables cover the last this many months
 * up to A; customers of older cohorts are counted in cohort_older. */
#define MX_COHORT_MAX_MONTHS 600

/* Everything the retention family reports; filled by mx_retention_compute. */
struct mx_retention {
	/* churn over P (METRICS.md: CCR) */
	int window_days;            /* W */
	size_t churn_base;          /* customers not churned at start(P): an order
	                               before P, the last within W days */
	size_t churn_lost;          /* of them, churned at end(P) */
	double ccr;                 /* churn_lost / churn_base, 0..1; NAN when the base is 0 */
	double retention;           /* 1 - ccr; NAN with it */
	size_t new_in_p;            /* customers whose first order is in P */
	size_t alive_end;           /* customers with an order, not churned at end(P) */

	/* cohorts: cohort = month of the first order at A; cohort i is month
	 * cohort_first + i, i < n_cohorts (through month(A)); cell (i, k) of a
	 * matrix is [i * n_cohorts + k], defined for k <= n_cohorts - 1 - i
	 * (later cells are 0) */
	int64_t cohort_first;       /* month index (mx_month_of) of cohort 0 */
	size_t n_cohorts;           /* 0 when nobody has an order by A */
	size_t cohort_older;        /* customers of cohorts before cohort_first
	                               (only when the span exceeds MX_COHORT_MAX_MONTHS) */
	size_t *cohort_size;        /* n_cohorts: customers */
	size_t *cohort_active;      /* classic: with an order in month i + k */
	size_t *cohort_active_unb;  /* unbounded: with an order in month i + k or later */
	int64_t *cohort_revenue;    /* net revenue in month i + k, money; returns
	                               before the first order count in k = 0 */

	/* lifecycle at A */
	size_t stage_n[MX_N_STAGES];          /* customers per stage */
	int64_t stage_revenue[MX_N_STAGES];   /* their net revenue up to A, money */
	int64_t stage_revenue_p[MX_N_STAGES]; /* their net revenue in P, money */
	size_t new_recent;          /* of "new": the order within new_days of A */
	size_t not_yet;             /* customers not yet known at A */
	size_t prospect_leads;      /* leads without a customer created by A (only
	                               when no customer filter is set) */
	/* stage at start(P) (rows; row MX_N_STAGES: not yet known) x stage at
	 * end(P) (columns; customers not yet known at end(P) are left out) */
	size_t transition[MX_N_STAGES + 1][MX_N_STAGES];

	/* tier migration by spend band: band b (1..n_bands) of a customer at d
	 * holds their net revenue up to d above band_cut[b - 2] and at most
	 * band_cut[b - 1]; band 0 is "no order by d". The cuts are the type-7
	 * quantiles k / n_bands of the net revenue up to end(P) of the customers
	 * with an order by then, and are the same at both dates. */
	int n_bands;                /* ctx->o.spend_bands */
	double *band_cut;           /* n_bands - 1 cuts, money ten-thousandths; NULL
	                               when nobody has an order by end(P) */
	size_t *band_migration;     /* (n_bands + 1)^2: [from * (n_bands + 1) + to] */
	size_t n_moves_up;          /* moves to a higher band (from band >= 1) in P */
	double median_days_up;      /* median days in the band left, over those moves;
	                               NAN when there is none */

	/* the tier field (current tier only) beside the bands */
	size_t n_tiers;             /* the tier column's dictionary size (code 0 is
	                               "no tier"); 0 when no customer has a tier */
	size_t *tier_n;             /* n_tiers: customers per tier code */
	double *tier_median_net;    /* n_tiers: median net revenue up to A, money
	                               ten-thousandths; NAN with no customer */
	size_t *tier_band;          /* n_tiers x (n_bands + 1): customers per tier
	                               and band at end(P) */
};

/* Computes everything above over ctx. *out is the caller's, freed with
 * mx_retention_free. CRM_OK, or CRM_ENOMEM / CRM_ERANGE (money sums
 * overflow). */
int mx_retention_compute(const struct mx_ctx *ctx, struct mx_retention **out,
			 struct crm_err *err);
void mx_retention_free(struct mx_retention *r);

/* Computes and emits the "retention" section into d. */
int mx_retention_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
