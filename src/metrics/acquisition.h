/* acquisition.h - the acquisition family of METRICS.md (metrics layer):
 * lead conversion by source and campaign, CAC by channel and campaign with
 * LTV:CAC and payback months, CAC payback per acquisition cohort and
 * channel, time to purchase, and the value of each acquisition channel.
 * The choices METRICS.md leaves open are in docs/METRICS-NOTES.md,
 * "Acquisition".
 *
 * A customer's channel is their acquisition_channel, else the source of the
 * lead that converted into them (their first lead with a converted_at, else
 * their first lead); their campaign is acquisition_campaign, else that
 * lead's campaign. Channels and campaigns are matched to spend rows by
 * name. A new customer of P is one whose first completed order (of those
 * counting in the context) is in P. Historic value and gross profit follow
 * the value family (value.h): net revenue to A, and net revenue minus the
 * costs of the completed orders, unknown for a customer when one of their
 * completed orders has no cost. */
#ifndef METRICS_ACQUISITION_H
#define METRICS_ACQUISITION_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/mx.h"

struct rp_doc;

/* Lead conversion of one lead source or campaign (a code of the leads'
 * source or campaign column; 0: leads without one). */
struct mx_lead_group {
	uint32_t code;
	size_t leads;           /* leads created in P */
	size_t converted;       /* of them, converted by A */
	double rate;            /* converted / leads, %; NAN: no leads */
	double median_days;     /* median days from created_at to converted_at over
	                           the converted ones with a converted_at; NAN: none */
};

/* One acquisition channel, or all of them (struct mx_acquisition.all). */
struct mx_acq_channel {
	const char *name;       /* borrowed from the dataset; "(none)": no channel */
	int has_spend;          /* spend rows of the channel dated in P */
	int64_t spend;          /* their amounts, money */
	size_t new_customers;   /* first completed order in P */
	double cac;             /* spend / new_customers, currency units; NAN without
	                           spend rows or new customers */
	size_t buyers;          /* customers with a completed order by A */
	size_t orders;          /* their completed orders to A */
	int64_t revenue;        /* the amounts of those orders, money */
	double aov;             /* revenue / orders, currency units; NAN: no orders */
	int64_t historic;       /* the buyers' net revenue to A, money */
	double ltv;             /* historic / buyers, currency units (historic value) */
	double ltv_cac;         /* ltv / cac; NAN when either is */
	size_t gp_buyers;       /* buyers whose gross profit is known */
	int64_t gross_profit;   /* their gross profit to A, money */
	double gp_per_buyer;    /* gross_profit / gp_buyers, currency units; NAN: none */
	double gp_month;        /* monthly gross profit per new customer: the gross
	                           profit to A of P's new customers (known ones) /
	                           their months from first order to A; NAN: none */
	double payback_months;  /* cac / gp_month; NAN when either is or gp_month <= 0 */
	size_t churn_base;      /* buyers not churned at start(P) (retention.h) */
	size_t churn_lost;      /* of them, churned at end(P) */
	double retention;       /* 1 - churn_lost / churn_base, %; NAN: base 0 */
};

/* CAC of one (channel, campaign) in P. */
struct mx_acq_campaign {
	size_t channel;         /* index into mx_acquisition.channels */
	const char *name;       /* borrowed; "(none)" */
	int has_spend;
	int64_t spend;          /* money */
	size_t new_customers;
	double cac;             /* currency units; NAN as in mx_acq_channel */
};

/* One acquisition cohort: the customers of a channel whose first completed
 * order is in a month in which the channel has spend rows. */
struct mx_acq_cohort {
	int64_t month;          /* mx_month_of */
	size_t channel;         /* index into mx_acquisition.channels */
	int64_t spend;          /* spend of the channel dated in the month, money */
	size_t new_customers;
	double cac;             /* spend / new_customers; NAN without new customers */
	size_t gp_customers;    /* new customers whose gross profit is known */
	double gp_per_customer; /* their gross profit to A / gp_customers */
	double payback_months;  /* the first k (0 = the cohort's month) at which the
	                           cumulative gross profit per customer through
	                           month + k reaches CAC; NAN: not yet by A, or
	                           unknown */
};

/* Time to purchase: buckets of days from first contact to first order. */
#define MX_TTP_BUCKETS 6    /* [0,1) [1,7) [7,30) [30,90) [90,365) [365,...) */

struct mx_acquisition {
	int64_t as_of, p_start, p_end;

	/* lead conversion */
	int has_leads;          /* the dataset has leads */
	struct mx_lead_group leads; /* all leads created in P (code 0) */
	struct mx_lead_group *by_source;   /* one per source code with leads in P */
	size_t n_sources;
	struct mx_lead_group *by_campaign; /* one per campaign code with leads in P */
	size_t n_lead_campaigns;

	/* CAC, LTV:CAC, payback, channel value */
	int spend_split;        /* 0: a customer filter or order channel is set, so
	                           spend (not per customer) cannot be divided: every
	                           spend figure is no data */
	int costs_known;        /* some counted completed order has a cost */
	struct mx_acq_channel all;
	struct mx_acq_channel *channels;   /* by name; only those with spend in P,
	                                      new customers or buyers */
	size_t n_channels;
	struct mx_acq_campaign *campaigns; /* by channel then campaign name */
	size_t n_campaigns;
	int campaigns_skipped;  /* 1: too many channel x campaign names to tabulate */
	struct mx_acq_cohort *cohorts;     /* by month, then channel */
	size_t n_cohorts;

	/* time to purchase, over P's new customers */
	size_t ttp_n;           /* new customers with a first contact */
	size_t ttp_no_contact;  /* new customers without any */
	double ttp_mean;        /* days; NAN: none */
	double ttp_median;      /* days; NAN: none */
	size_t ttp_bucket[MX_TTP_BUCKETS];
};

/* The lower bounds of the time-to-purchase buckets, in days. */
extern const double mx_ttp_bucket_lo[MX_TTP_BUCKETS];

/* Computes the family over ctx. *out is the caller's, freed with
 * mx_acquisition_free. CRM_OK, CRM_ENOMEM, or CRM_ERANGE (a money sum
 * overflows int64). */
int mx_acquisition_compute(const struct mx_ctx *ctx, struct mx_acquisition **out,
			   struct crm_err *err);
void mx_acquisition_free(struct mx_acquisition *a);

/* Computes and emits the "acquisition" section into d. */
int mx_acquisition_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
