/* overview.h - the dataset overview as text (report layer). */
#ifndef REPORT_OVERVIEW_H
#define REPORT_OVERVIEW_H

#include <stdio.h>

#include "crmscope.h"
#include "data/overview.h"

/* Writes the overview o as a table that fits 100 columns. CRM_OK or CRM_EIO. */
int rpt_overview_text(const struct ds_overview *o, FILE *f, struct crm_err *err);

#endif
