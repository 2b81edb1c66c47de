/* families.c - the registry of metric families (metrics layer).
 *
 * Each family engineer adds ONE line to the table below when the family's
 * entry point works (and the #include of its header above it), in the order
 * of METRICS.md: purchases, retention, value, acquisition, service,
 * surveys, browsing. Nothing else in the report needs to change: --only,
 * the breakdowns, the renderers and the timings all go through this table. */
#include "metrics/families.h"
#include "metrics/acquisition.h"
#include "metrics/browsing.h"
#include "metrics/purchases.h"
#include "metrics/retention.h"
#include "metrics/service.h"
#include "metrics/surveys.h"
#include "metrics/value.h"

#include <string.h>

const struct mx_family mx_families[] = {
	{ "purchases", "Purchases", mx_purchases_report },
	{ "retention", "Customers over time", mx_retention_report },
	{ "value", "Customer value", mx_value_report },
	{ "acquisition", "Acquisition", mx_acquisition_report },
	{ "service", "Service and interactions", mx_service_report },
	{ "surveys", "Surveys", mx_surveys_report },
	{ "browsing", "Browsing", mx_browsing_report },
	{ NULL, NULL, NULL }
};

size_t mx_family_count(void)
{
	size_t n = 0;
	while (mx_families[n].id)
		n++;
	return n;
}

const struct mx_family *mx_family_find(const char *id)
{
	for (size_t i = 0; id && mx_families[i].id; i++)
		if (strcmp(mx_families[i].id, id) == 0)
			return &mx_families[i];
	return NULL;
}
