/* customers.h - the per-customer purchase summary as CSV and JSON (report
 * layer). One row per customer in dense id order (ascending customer_id):
 *
 *   customer_id, x, t_x, T, mean_repeat, first_purchase, last_purchase,
 *   orders, net_revenue
 *
 * x (frequency: repeat purchase days) and orders are integers. t_x (recency)
 * and T (age) are integers when the unit is days and have exactly two
 * decimals when it is weeks: days / 7 never ends in a half hundredth, so two
 * decimals say which day it was and match the published CDNOW summaries
 * (38.86 = 272 / 7). mean_repeat (monetary) has two decimals, rounded half
 * away from zero. net_revenue is exact: two decimals, or three or four when
 * the amounts had them (unit prices of 0.001 exist). first_purchase and
 * last_purchase are UTC dates (YYYY-MM-DD), empty in CSV and null in JSON
 * for a customer with no purchase up to the calibration end. The JSON
 * numbers are written with the same text as the CSV's (1.00, 12.35, 9), so
 * the two agree to the byte on every value. */
#ifndef REPORT_CUSTOMERS_H
#define REPORT_CUSTOMERS_H

#include <jansson.h>
#include <stdio.h>

#include "crmscope.h"
#include "metrics/value.h"

/* Writes the header and one line per customer of ds as CSV to f (RFC 4180,
 * LF line ends; customer_id quoted when it holds a comma, quote or line
 * break). sum has ds->n_customers rows from crm_summary_compute with opts
 * (only opts->unit is read then; NULL means days), or is NULL: then the
 * summary is made here with opts a block of customers at a time, on the
 * threads that format them, without a table of all customers (and its
 * errors are crm_summary_compute's). Returns CRM_OK, CRM_EINVAL, CRM_ERANGE,
 * CRM_ENOMEM, or CRM_EIO when writing to f fails. */
int rpt_customers_csv(const struct crm_dataset *ds,
		      const struct crm_customer_summary *sum,
		      const struct crm_summary_opts *opts, FILE *f,
		      struct crm_err *err);

/* Writes the same table as a JSON array with one object per line, keys in
 * column order: [\n{...},\n{...}\n]\n. customer_id bytes that are not UTF-8
 * become U+FFFD. Returns CRM_OK, CRM_ENOMEM or CRM_EIO. */
int rpt_customers_json(const struct crm_dataset *ds,
		       const struct crm_customer_summary *sum,
		       const struct crm_summary_opts *opts, FILE *f,
		       struct crm_err *err);

/* The JSON object of customer c, whose summary row is s, as one line of
 * rpt_customers_json holds it (a new reference: the caller decrefs it), or
 * NULL when out of memory. */
json_t *rpt_customer_json(const struct crm_dataset *ds, size_t c,
			  const struct crm_customer_summary *s,
			  const struct crm_summary_opts *opts);

/* ------------------------------------------------- the wide table (issue 4)
 *
 * `crmscope customers` on a database (or with --wide) adds the columns of
 * the metric families after the summary's, which keep their text:
 *
 *   stage, engagement, historic_value, gross_profit, service_cost, profit
 *
 * stage is the lifecycle stage at A (mx_stage_name: prospect, new, growing,
 * mature, at_risk, churned, not_yet); engagement the 0-100 score with one
 * decimal (mx_engagement_scores); the money columns are exact like
 * net_revenue (mx_customer_values). A value that is not known is an empty
 * CSV field and a JSON null. */
struct rpt_customer_extra {
	const uint8_t *stage;                    /* n_customers stages, or NULL: column empty */
	const double *engagement;                /* n_customers scores (NAN: none), or NULL */
	const struct mx_customer_value *value;   /* n_customers values, or NULL */
};

/* The table's rows: rows[0 .. n_rows) are dense customer ids, in the order
 * written; rows NULL means every customer in id order. */
struct rpt_customer_rows {
	uint32_t *rows;
	size_t n_rows;
};

/* rpt_customers_csv and rpt_customers_json with the family columns (extra
 * NULL: none, the bytes of rpt_customers_csv/json) and a choice of rows
 * (sel NULL: all). */
int rpt_customers_table_csv(const struct crm_dataset *ds,
			    const struct crm_customer_summary *sum,
			    const struct crm_summary_opts *opts,
			    const struct rpt_customer_extra *extra,
			    const struct rpt_customer_rows *sel, FILE *f,
			    struct crm_err *err);
int rpt_customers_table_json(const struct crm_dataset *ds,
			     const struct crm_customer_summary *sum,
			     const struct crm_summary_opts *opts,
			     const struct rpt_customer_extra *extra,
			     const struct rpt_customer_rows *sel, FILE *f,
			     struct crm_err *err);

/* Chooses and orders rows for --stage, --sort and --limit: the customers
 * whose stage is stage (-1: all; needs extra->stage), sorted by the column
 * named sort (NULL: customer id order) descending, or ascending when asc is
 * 1 (unknown values last either way, ties in customer id order), at most
 * limit of them (0: no limit). out->rows is the caller's (free). Returns
 * CRM_OK, CRM_EINVAL for a column that is not in the table (named), or
 * CRM_ENOMEM. */
int rpt_customers_select(const struct crm_dataset *ds,
			 const struct crm_customer_summary *sum,
			 const struct rpt_customer_extra *extra, int stage,
			 const char *sort, int asc, size_t limit,
			 struct rpt_customer_rows *out, struct crm_err *err);

#endif
