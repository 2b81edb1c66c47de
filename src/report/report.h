/* report.h - running the metric families over a dataset into a report
 * document (report layer): the choice of families (--only), breakdowns by a
 * customer attribute or by order channel (--by), and the time and peak
 * memory of each family for the benchmark. */
#ifndef REPORT_REPORT_H
#define REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "metrics/mx.h"
#include "report/doc.h"

/* What a report is broken down by (--by). */
enum rpt_by {
	RPT_BY_NONE = 0,
	RPT_BY_COUNTRY, RPT_BY_CITY, RPT_BY_GENDER, RPT_BY_TIER, RPT_BY_ACQ_CHANNEL,
	RPT_BY_AGE,             /* age band at A from birth_date */
	RPT_BY_CHANNEL,         /* the orders' channel */
	RPT_BY_N
};

/* The --by value of b ("country", "age", "channel"...; "" for none). */
const char *rpt_by_name(int b);
/* The enum rpt_by of a --by value ("acq_channel" and "acquisition_channel"
 * both name the customers' acquisition channel; "age_band" = "age"), or -1. */
int rpt_by_parse(const char *s);

/* Age bands of METRICS.md's demographic breakdowns: <25, 25-34, 35-44,
 * 45-54, 55-64, 65+, and "unknown" without a birth date (or one after A). */
enum { RPT_AGE_UNKNOWN = 0, RPT_AGE_N = 7 };
/* The band (1..6, or RPT_AGE_UNKNOWN) of a birth date at as_of. */
int rpt_age_band(int64_t birth, int64_t as_of);
const char *rpt_age_band_name(int band);  /* "<25" ... "65+", "unknown" */

/* The fields of entity e (ING_FIELD bits of its enum, for ing_opts.fields)
 * that the report reads, so that files read straight into a report keep
 * nothing else (docs/IMPORT.md, "Reading files straight into a report"):
 * every field but the customers' names and contact details and the ids of
 * orders, interactions, tickets and leads, which no metric reads. A family
 * that starts reading one of those must take it out of the list in
 * report.c (test_report_golden.c compares the report of the files read
 * this way with that of the same data loaded whole from SQLite). */
uint32_t rpt_fields(int e);

struct rpt_opts {
	struct mx_opts mx;         /* the options of METRICS.md */
	const char *only;          /* "purchases,value": these families; NULL or "": all;
	                              "none": none (the document's parameters alone) */
	int by;                    /* enum rpt_by */
	size_t max_groups;         /* customer attributes: the largest groups kept, the
	                              others merged into "ATTRIBUTE=other" (0: all);
	                              default 20 */
	int measure;               /* 1: time and peak memory per family (Linux: resets
	                              the process's peak resident counter before
	                              each family, so getrusage's ru_maxrss and
	                              GNU time see only the peak since) */
	const char *source;        /* names the input in the document ("demo.db"), or NULL */
};

/* Fills o with the defaults: every family, no breakdown, at most 20
 * breakdown groups, no measuring. */
void rpt_opts_default(struct rpt_opts *o);

#define RPT_MAX_FAMILIES 32

/* The cost of one family (over every breakdown group). */
struct rpt_timing {
	const char *family;        /* its id (static) */
	double seconds;            /* wall time */
	int64_t rss_before;        /* resident bytes when it started */
	int64_t peak;              /* the process's peak resident bytes while it ran
	                              (Linux: VmHWM reset before it), -1 unknown */
};

struct rpt_result {
	size_t n_families;         /* families run */
	struct rpt_timing t[RPT_MAX_FAMILIES];
	size_t n_groups;           /* breakdown groups (0: no breakdown) */
};

/* Runs the chosen families over ds with o into d (rp_doc_new), in the
 * order of the registry (metrics/families.c): first over everything, then,
 * with a breakdown, once per group of customers (or per order channel),
 * sections labelled "country=DE". Groups come in descending order of their
 * customers (orders for channels), ties by label; customers without the
 * attribute form the group "country=unknown"; past o->max_groups the rest
 * form "country=other"; a value spelt like those gets " (N)" added. The document's parameters
 * name the source, as-of, period, window, definitions and breakdown.
 * res (may be NULL) gets the timings. Returns CRM_OK, CRM_EINVAL for an
 * unknown family in o->only or a bad option (named), or a family's
 * failure (the family named in the message). */
int rpt_report(const struct crm_dataset *ds, const struct rpt_opts *o,
	       struct rp_doc *d, struct rpt_result *res, struct crm_err *err);

/* rpt_report over another table of families than the registry's (ended by
 * an entry whose id is NULL), for tests. */
struct mx_family;
int rpt_report_families(const struct crm_dataset *ds, const struct rpt_opts *o,
			const struct mx_family *fams, struct rp_doc *d,
			struct rpt_result *res, struct crm_err *err);

#endif
