/* quality.h - the data-quality report (clean layer).
 *
 * What is wrong with the data, before any number is computed from it: rows
 * rejected so far per reason, missing fields per entity and field, values
 * out of range that imports accept, orders in the future relative to the
 * as-of date or before their customer's signup, orders of stub customers,
 * negative amounts not marked as returns, order amounts above a robust
 * outlier threshold (flagged, never dropped), duplicate customer pairs
 * pending review, and a 0-100 score per entity. docs/CLEAN.md, "Data
 * quality", gives every rule and the score's formula. */
#ifndef CLEAN_QUALITY_H
#define CLEAN_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"

/* The checks counted per row (a row may fail several). */
enum cl_check {
	CL_FUTURE = 0,        /* the entity's time is after the as-of date */
	CL_BEFORE_SIGNUP,     /* an order before its customer's signup_at */
	CL_STUB_ORDER,        /* an order of a stub customer (no customers row) */
	CL_NEG_NOT_RETURN,    /* amount < 0 with a status other than returned */
	CL_OUTLIER,           /* completed order amount above median + k x MAD */
	CL_BIRTH_RANGE,       /* birth date after the as-of date or more than 120 years before */
	CL_SIGNUP_FUTURE,     /* signup_at after the as-of date */
	CL_COST_RANGE,        /* order cost below zero or above 10 x the amount */
	CL_ITEMS_RANGE,       /* order items below 1 */
	CL_SPEND_NEGATIVE,    /* marketing spend below zero */
	CL_LONG_HANDLING,     /* ticket handling over 24 hours, or an interaction over 24 h */
	CL_N_CHECKS
};

/* Static id ("orders_future"...) and label of a check, and its entity. */
const char *cl_check_id(int check);
const char *cl_check_label(int check);
int cl_check_entity(int check);

#define CL_OUTLIER_K 10.0     /* the MAD multiple of the outlier threshold */
#define CL_MAX_REASONS 32
#define CL_TOP_OUTLIERS 10

struct cl_entity_quality {
	int64_t rows;             /* rows in the dataset */
	int64_t rejected;         /* rows rejected by imports so far; CRM_NA unknown (files) */
	int64_t read;             /* rows (lines) read by imports so far; CRM_NA unknown */
	int64_t flagged;          /* rows failing at least one check */
	int64_t missing[CRM_MAX_FIELDS]; /* empty cells per field; -1: no column */
	int64_t collected_fields; /* optional fields with a value in some row */
	double acceptance;        /* 1 - rejected / read by the imports; NAN when unknown */
	double completeness;      /* filled share of the collected optional fields' cells */
	double consistency;       /* 1 - flagged / rows */
	double score;             /* 0-100, NAN when the entity has no rows */
};

struct cl_outlier {
	size_t row;               /* row of the dataset's orders */
	int64_t amount;           /* money */
};

struct cl_quality {
	int64_t as_of;            /* the date the checks are relative to */
	struct cl_entity_quality e[CRM_N_ENTITIES];
	int64_t check[CL_N_CHECKS];      /* rows failing each check */
	int64_t median_amount, mad;      /* of completed order amounts, money; CRM_NA none */
	int64_t outlier_threshold;       /* median + CL_OUTLIER_K x MAD, money; CRM_NA none */
	struct cl_outlier top[CL_TOP_OUTLIERS]; /* the largest outliers, largest first */
	size_t n_top;
	int64_t stub_customers;
	int described;            /* 1: some customer has a customers record; orders of
	                             stubs are flagged only then */
	int64_t pending_pairs;    /* duplicate pairs pending review; CRM_NA unknown */
	int64_t merges;           /* merges applied so far; CRM_NA unknown */
	size_t n_reasons;         /* rejects so far by reason, most first (from a database) */
	char reason[CL_MAX_REASONS][32];
	int64_t reason_n[CL_MAX_REASONS];
};

/* Computes the checks over ds as of as_of (CRM_NA: ds->last_at). The
 * history a database keeps (rejects, pending pairs, merges) is left
 * unknown; cl_quality_from_db fills it. */
int cl_quality_compute(const struct crm_dataset *ds, int64_t as_of,
		       struct cl_quality *q, struct crm_err *err);

/* The same for the database at db_path: loads its dataset and adds the
 * rejects so far, pending duplicate pairs and merges. ds_out (may be NULL)
 * gets the dataset, the caller's (crm_dataset_free), for cl_quality_emit. */
int cl_quality_from_db(const char *db_path, int64_t as_of, struct cl_quality *q,
		       struct crm_dataset **ds_out, struct crm_err *err);

struct rp_doc;
/* Emits q as the section "quality" of d (group may be NULL). */
void cl_quality_emit(const struct cl_quality *q, const struct crm_dataset *ds,
		     const char *group, struct rp_doc *d);

struct mx_ctx;
/* The report's family entry point (mx_report_fn): the checks over the
 * context's dataset at its as-of date; only the context's customers count. */
int cl_quality_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err);

#endif
