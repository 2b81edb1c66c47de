/* service.h - the "service and interactions" family of METRICS.md (metrics
 * layer): first response and resolution times of tickets and SLA
 * attainment, by channel, topic and priority; the interaction channel
 * table; feedback topics; the effect of interaction campaigns on repeat
 * purchase; social media; and the engagement score per customer.
 * The decisions where METRICS.md is silent are in docs/METRICS-NOTES.md
 * ("Service and interactions"). In short:
 *   - a ticket counts in P by opened_at; a response or resolution counts
 *     when it is at or before A (later ones are not known at A);
 *   - ctx->in restricts every table to those customers; ctx->order_channel
 *     restricts only the orders of the loyalty uplift (and the report then
 *     emits only the campaigns: the rest is not about orders);
 *   - counts are 0 when the entity has rows but none match, and "no data"
 *     (the has_* flags are 0) when the dataset has no rows of the entity. */
#ifndef METRICS_SERVICE_H
#define METRICS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/lexicon.h"
#include "metrics/mx.h"

struct rp_doc;

/* Ticket statistics of a set of tickets opened in P (all of them, or one
 * channel, topic or priority). Hours are (time - opened_at) / 3600. */
struct mx_ticket_stats {
	size_t tickets;          /* opened in P */
	size_t answered;         /* first response at or before A */
	size_t never_answered;   /* no first response by A (tickets - answered) */
	size_t resolved;         /* resolved at or before A */
	size_t open;             /* not resolved by A (tickets - resolved) */
	size_t sla_met;          /* answered within o.sla_hours */
	size_t sla_base;         /* answered, or unanswered past the target at A */
	double frt_median, frt_mean, frt_p90;   /* first response time, hours; NAN: none answered */
	double res_median, res_mean, res_p90;   /* resolution time, hours; NAN: none resolved */
	double sla_pct;          /* 100 sla_met / sla_base; NAN when sla_base = 0 */
	size_t rated;            /* with a satisfaction score (1-5) */
	size_t satisfied;        /* ... of 4 or 5 */
	double sat_pct;          /* 100 satisfied / rated; NAN when rated = 0 */
};

/* One value of a ticket breakdown column (channel, topic or priority). */
struct mx_ticket_group {
	uint32_t code;           /* code of the tickets' column; 0: tickets without one */
	const char *name;        /* its text (borrowed from the dataset); "" for code 0 */
	struct mx_ticket_stats s;
};

enum mx_ticket_by { MX_BY_CHANNEL = 0, MX_BY_TOPIC, MX_BY_PRIORITY, MX_N_BY };

/* One interaction channel in P. */
struct mx_ia_channel {
	uint32_t code;           /* code of the interactions' channel column */
	const char *name;        /* borrowed */
	size_t interactions;     /* in P */
	size_t customers;        /* distinct customers with one of them */
	size_t rated, satisfied; /* with a satisfaction score; of 4-5 */
	double share_pct;        /* 100 interactions / all interactions in P */
	double per_customer;     /* interactions / customers; NAN when 0 customers */
	double sat_pct;          /* 100 satisfied / rated; NAN when rated = 0 */
	int social;              /* 1: counted as social media */
};

/* One feedback topic in P. */
struct mx_fb_topic {
	uint32_t code;           /* code of the feedback topic column; 0: none */
	const char *name;        /* borrowed */
	size_t responses;        /* responses in P */
	size_t scored;           /* ... with a score on their kind's scale */
	size_t satisfied;        /* ... at the top of it: NPS 9-10, CSAT 4-5, CES 5-7 */
	double share_pct;        /* 100 responses / all responses in P */
	double sat_pct;          /* 100 satisfied / scored; NAN when scored = 0 */
};

/* One interaction campaign whose date (below) falls in P. */
struct mx_campaign {
	uint32_t code;           /* code of the interactions' campaign column */
	const char *name;        /* borrowed */
	int64_t date;            /* the campaign's date: the median of its
	                            participants' first participation times */
	size_t participants;     /* customers with an interaction of it at or before A */
	size_t rated, satisfied; /* its interactions with a satisfaction score; of 4-5 */
	double sat_pct;          /* 100 satisfied / rated; NAN when rated = 0 */
	size_t part_base;        /* participants who bought before their first
	                            participation t and whose window [t, t + W) ends by A */
	size_t part_repeat;      /* ... who bought again within their window */
	size_t non_base;         /* other customers who bought before date, when the
	                            window [date, date + W) ends by A (else 0) */
	size_t non_repeat;       /* ... who bought again within that window */
	double part_rate;        /* 100 part_repeat / part_base, %; NAN when 0 */
	double non_rate;         /* 100 non_repeat / non_base, %; NAN when 0 */
	double uplift;           /* part_rate - non_rate, points; NAN when either is */
};

/* Engagement: the four components of a customer's score. */
enum mx_engagement_part { MX_ENG_FREQUENCY = 0, MX_ENG_RECENCY, MX_ENG_WEB, MX_ENG_SATISFACTION,
			  MX_ENG_N };

struct mx_service {
	int64_t as_of, p_start, p_end;   /* A and P, from ctx */
	double sla_hours;                /* the first-response target */
	int window_days;                 /* W, the loyalty uplift window */
	int has_tickets, has_interactions, has_feedback, has_web, has_orders;
	                                 /* 1: the dataset has rows of the entity */

	/* tickets */
	struct mx_ticket_stats tickets;  /* every ticket opened in P */
	size_t sla_pending;              /* unanswered, still within the target at A */
	size_t backlog;                  /* every ticket opened by A and not resolved by A */
	struct mx_ticket_group *by[MX_N_BY]; /* groups with tickets in P, by code */
	size_t n_by[MX_N_BY];

	/* interactions */
	size_t interactions;             /* in P */
	size_t interaction_customers;    /* distinct customers with one in P */
	struct mx_ia_channel *channels;  /* channels with interactions in P, by code */
	size_t n_channels;

	/* feedback topics */
	size_t responses;                /* feedback responses in P */
	struct mx_fb_topic *topics;      /* topics with responses in P, by code */
	size_t n_topics;

	/* campaigns (the interactions' campaign column) */
	struct mx_campaign *campaigns;   /* by date, then code */
	size_t n_campaigns;

	/* social media: interactions in P on a social channel */
	size_t social;                   /* interactions */
	size_t social_customers;         /* distinct customers */
	double social_share_pct;         /* 100 social / interactions; NAN when 0 */
	int64_t month0;                  /* first month of P (mx_month_of) */
	size_t n_months;                 /* months of P */
	size_t *social_month;            /* n_months: social interactions per month */
	size_t *social_month_customers;  /* n_months: distinct customers per month */
	struct mx_sentiment social_sentiment; /* of their text */
	char lexicon_path[256];          /* the lexicon file used ("" when none was needed) */

	/* engagement */
	double *engagement;              /* n_customers scores 0-100; NAN for customers
	                                    not counted or without any component */
	size_t n_customers;
	size_t eng_customers;            /* customers with a score */
	size_t eng_parts[MX_ENG_N];      /* customers with each component */
	size_t eng_band[10];             /* scores in [0,10), [10,20) ... [90,100] */
	double eng_mean, eng_median, eng_p25, eng_p75;  /* NAN when no score */
};

/* Computes the family over ctx into *out (zeroed first). On success the
 * caller frees it with mx_service_fini; on failure nothing is left to
 * free. Errors: CRM_ENOMEM; when social texts are to be scored, the
 * lexicon's (mx_lex_load: CRM_ENOTFOUND, CRM_EPARSE ...). */
int mx_service_compute(const struct mx_ctx *ctx, struct mx_service *out,
		       struct crm_err *err);

/* Frees what *s holds; s itself is the caller's. mx_service_fini on a
 * zeroed struct does nothing. */
void mx_service_fini(struct mx_service *s);

/* The engagement score of every customer (score: ds->n_customers values),
 * 0-100: the mean of the percentile ranks of the components the customer
 * has, among the counted customers: interactions in P (frequency), days
 * from the last interaction to A (recency, fewer is better; none is the
 * worst), web sessions in the 90 days to A, and the mean satisfaction (1-5)
 * of their interactions and tickets in P. The percentile rank of x among N
 * values is 100 (below + equal / 2) / N (ties share it). Frequency and
 * recency need an interactions table, web sessions a web_events table;
 * satisfaction is missing for a customer without a score. NAN for customers
 * not counted or with no component. CRM_OK or CRM_ENOMEM. */
int mx_engagement_scores(const struct mx_ctx *ctx, double *score, struct crm_err *err);

/* Computes and emits the family's section "service" into d. */
int mx_service_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
