/* overview.h - what a dataset holds, in counts (data layer). */
#ifndef DATA_OVERVIEW_H
#define DATA_OVERVIEW_H

#include <stdint.h>

#include "crmscope.h"

struct ds_overview {
	size_t customers;                       /* rows of the customers table */
	size_t stubs;                           /* of them, known only from references */
	size_t rows[CRM_N_ENTITIES];            /* rows per entity */
	size_t with_rows[CRM_N_ENTITIES];       /* customers with at least one row */
	size_t without_customer[CRM_N_ENTITIES];/* rows belonging to no customer */
	int64_t first_at, last_at;              /* event range, CRM_NA when empty */
};

/* Counts what ds holds into *o. */
void ds_overview(const struct crm_dataset *ds, struct ds_overview *o);

#endif
