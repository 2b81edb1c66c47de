/* families.h - the registry of metric families (metrics layer): which
 * families `crmscope report` runs, in which order, under which id. */
#ifndef METRICS_FAMILIES_H
#define METRICS_FAMILIES_H

#include <stddef.h>

#include "metrics/mx.h"

struct mx_family {
	const char *id;       /* "purchases": the id prefix of its metrics, --only's name */
	const char *title;    /* for people: "Purchases" */
	mx_report_fn report;  /* its entry point, mx_FAMILY_report */
};

/* The families, in report order, ended by an entry whose id is NULL. */
extern const struct mx_family mx_families[];

/* The number of families in mx_families. */
size_t mx_family_count(void);

/* The family of that id, or NULL. */
const struct mx_family *mx_family_find(const char *id);

#endif
