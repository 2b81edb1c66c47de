/* dataset.h - what the data layer offers over a laid-out dataset beyond
 * include/crmscope.h (data layer): helpers analyses share. */
#ifndef DATA_DATASET_H
#define DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"

/* Passes over the orders that split the customers in two and run the
 * halves on two threads do so from this many order rows: below it a second
 * thread costs more than it saves. */
#define DS_THREAD_MIN_ORDERS 200000

/* Where the customers of ds split into two ranges of about equal order
 * rows: the first customer whose orders start at or after half of the order
 * rows (ds->t[CRM_ORDERS].by_customer), so [0, mid) and [mid, n_customers).
 * ds->n_customers (no split) below DS_THREAD_MIN_ORDERS order rows. */
size_t ds_split_customers(const struct crm_dataset *ds);

/* The per-customer purchase summary (crm_summary_compute) of any range of
 * customers: the options checked and resolved once (ds_summary_plan), then
 * ranges computed into the caller's rows (ds_summary_range), so that a
 * writer can make and write a block at a time without a table of all
 * customers. */
struct ds_summary_plan {
	const struct crm_dataset *ds;
	int64_t as_of, cal_end, cal_day;  /* as_of CRM_NA: an empty dataset */
	double per_unit;                  /* days in one unit */
};

/* CRM_OK, or CRM_EINVAL for options crm_summary_compute refuses. */
int ds_summary_plan(const struct crm_dataset *ds, const struct crm_summary_opts *opts,
		    struct ds_summary_plan *p, struct crm_err *err);

/* Customers [lo, hi) into out[0 .. hi - lo). CRM_OK, or CRM_ERANGE naming
 * the customer whose money sums overflow (the rows after it are still
 * written). */
int ds_summary_range(const struct ds_summary_plan *p, size_t lo, size_t hi,
		     struct crm_customer_summary *out, struct crm_err *err);

#endif
