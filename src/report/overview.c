/* overview.c - the dataset overview as text (report layer). */
#include "report/overview.h"

#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"

int rpt_overview_text(const struct ds_overview *o, FILE *f, struct crm_err *err)
{
	char a[32], b[32], c[32];
	int_format_grouped((int64_t)o->customers, a);
	int_format_grouped((int64_t)o->stubs, b);
	fprintf(f, "dataset: %s customers (%s known only from references)", a, b);
	if (o->first_at != CRM_NA) {
		ts_format(o->first_at, 1, a);
		ts_format(o->last_at, 1, b);
		fprintf(f, ", events from %s to %s", a, b);
	}
	fprintf(f, "\n  %-14s %12s %16s %18s\n", "entity", "rows", "customers with", "rows w/o customer");
	for (int e = 1; e < CRM_N_ENTITIES; e++) {
		int_format_grouped((int64_t)o->rows[e], a);
		int_format_grouped((int64_t)o->with_rows[e], b);
		int_format_grouped((int64_t)o->without_customer[e], c);
		fprintf(f, "  %-14s %12s %16s %18s\n", ent_get(e)->name, a,
			e == CRM_SPEND ? "-" : b, e == CRM_SPEND ? "-" : c);
	}
	if (ferror(f))
		return crm_err_set(err, CRM_EIO, "cannot write the overview");
	return CRM_OK;
}
