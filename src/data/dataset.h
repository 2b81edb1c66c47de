/* dataset.h - what the data layer offers over a laid-out dataset beyond
 * include/crmscope.h (data layer): helpers analyses share. */
#ifndef DATA_DATASET_H
#define DATA_DATASET_H

#include <stddef.h>

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

#endif
