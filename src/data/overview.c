/* overview.c - counts of what a dataset holds (data layer). */
#include "data/overview.h"

#include <string.h>

void ds_overview(const struct crm_dataset *ds, struct ds_overview *o)
{
	memset(o, 0, sizeof *o);
	o->customers = ds->n_customers;
	for (size_t c = 0; c < ds->n_customers; c++)
		o->stubs += ds->is_stub && ds->is_stub[c];
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct crm_table *t = &ds->t[e];
		o->rows[e] = t->n;
		if (!t->by_customer)
			continue;
		for (size_t c = 0; c < ds->n_customers; c++)
			o->with_rows[e] += t->by_customer[c + 1] > t->by_customer[c];
		o->without_customer[e] = t->n - (size_t)t->by_customer[ds->n_customers];
	}
	o->first_at = ds->first_at;
	o->last_at = ds->last_at;
}
