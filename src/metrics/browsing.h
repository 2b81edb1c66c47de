/* browsing.h - web sessions, bounce rate, dwell time, paths, exit pages and
 * the view -> add_to_cart -> purchase funnel (metrics layer).
 *
 * METRICS.md "Browsing" defines the numbers; docs/METRICS-NOTES.md
 * ("Browsing") writes down what it leaves open: which events are page
 * views, entry and exit pages, ties in time, the funnel's order. */
#ifndef METRICS_BROWSING_H
#define METRICS_BROWSING_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/mx.h"

#define MX_BROW_TOP 10      /* rows of the top-N tables */
#define MX_BROW_PATH_LEN 3  /* pages of a path: the first three page views */

/* One page (a code of the web_events page column's dictionary; 0 is a
 * missing page) in a top list, over the counted sessions. */
struct mx_brow_page {
	uint32_t page;           /* page code; its text is crm_cell_str's */
	size_t views;            /* page views of it */
	size_t visits;           /* sessions with at least one event on it */
	size_t entries;          /* sessions whose first event is on it */
	size_t bounces;          /* of those, bounced (the chosen definition) */
	size_t exits;            /* sessions whose last event is on it */
	size_t n_dwell;          /* page views of it with a dwell time */
	double dwell_mean_s;     /* mean dwell time of those, s; NAN when n_dwell = 0 */
	double dwell_median_s;   /* median (type 7), s; NAN when n_dwell = 0 */
};

/* A path: the pages of the first page views of a session, in order. */
struct mx_brow_path {
	uint32_t page[MX_BROW_PATH_LEN]; /* page codes; n_pages of them */
	size_t n_pages;          /* 1..3: shorter when the session has fewer views */
	size_t sessions;         /* sessions that start with exactly this path */
};

enum mx_funnel_step { MX_FUNNEL_VIEW = 0, MX_FUNNEL_ADD, MX_FUNNEL_PURCHASE, MX_FUNNEL_N };

/* Everything the browsing family reports. Sessions are formed from the web
 * events up to A (as-of); a session counts when it starts in P and its
 * customer counts (mx_counts; a session's customer is the first customer
 * among its events, anonymous sessions count only without a customer
 * filter). Values that need a session are NAN when none counts. */
struct mx_browsing {
	int has_input;           /* 1: the dataset has web events (with times) */
	int bounce_def;          /* enum mx_bounce used for bounces and per-page bounces */
	size_t sessions;         /* counted sessions */
	size_t sessions_by_id;   /* of those, given by a session_id */
	size_t sessions_by_gap;  /* ... formed by the timeout rule (no session_id) */
	size_t events;           /* events of the counted sessions */
	size_t page_views;       /* of those, page views (event view or none) */
	double views_per_session;   /* page_views / sessions */
	double events_per_session;  /* events / sessions */
	double duration_median_s;   /* session duration (last - first event), median, s */
	double duration_mean_s;     /* ... mean, s (single-event sessions count 0 s) */
	size_t bounced[3];       /* bounced sessions by enum mx_bounce */
	double bounce_rate[3];   /* bounced / sessions x 100, by enum mx_bounce */
	size_t n_dwell;          /* page views with a dwell time */
	double dwell_median_s;   /* dwell time over all of them, median, s */
	double dwell_mean_s;     /* ... mean, s */
	size_t funnel[MX_FUNNEL_N]; /* sessions reaching each step in order */
	double funnel_pct[MX_FUNNEL_N];  /* step / previous step x 100 (view: / sessions);
	                                    NAN when the previous is 0 */
	double funnel_drop_pct[MX_FUNNEL_N]; /* 100 - funnel_pct: the share lost at the step */
	double conversion_pct;   /* funnel[PURCHASE] / funnel[VIEW] x 100 */
	size_t n_entry, n_exit, n_pages, n_paths;  /* rows filled in the lists below */
	struct mx_brow_page entry[MX_BROW_TOP]; /* most entries first (then page text) */
	struct mx_brow_page exit[MX_BROW_TOP];  /* most exits first (then page text) */
	struct mx_brow_page pages[MX_BROW_TOP]; /* most views first (then page text) */
	struct mx_brow_path paths[MX_BROW_TOP]; /* most sessions first (then page texts) */
};

/* Computes r over ctx. The order channel of ctx does not apply to web
 * events (they are not orders): with ctx->order_channel set, r is computed
 * as without it, and mx_browsing_report says so instead of reporting.
 * CRM_OK, or CRM_ENOMEM / CRM_ERANGE (more than 2^31 events) with err set.
 * r holds no heap memory: nothing to free. */
int mx_browsing_compute(const struct mx_ctx *ctx, struct mx_browsing *r,
			struct crm_err *err);

/* Sessions per customer: n[c] = sessions of customer c (the first customer
 * among the session's events) that start in [from, to), from the web events
 * up to ctx's as-of, for every customer of ctx->ds (ctx->in is not applied).
 * n has ds->n_customers entries, filled by the call (for the engagement
 * score: sessions in the last 90 days). CRM_OK or CRM_ENOMEM / CRM_ERANGE. */
int mx_browsing_sessions_per_customer(const struct mx_ctx *ctx, int64_t from, int64_t to,
				      uint32_t *n, struct crm_err *err);

/* The name of a bounce definition ("matomo", "ga4", "posthog"); NULL when
 * out of range. */
const char *mx_browsing_bounce_name(int def);

/* The family's entry point (mx_report_fn): computes and emits the section
 * "browsing" into d. */
int mx_browsing_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
