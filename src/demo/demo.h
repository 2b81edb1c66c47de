/* demo.h - the synthetic demo business (demo layer, beside ingest).
 * Writes the CSVs of a coherent business for `crmscope demo` and `make demo`,
 * deterministic for a seed, with the true model parameters in truth.json. */
#ifndef DEMO_DEMO_H
#define DEMO_DEMO_H

#include <stdint.h>

#include "crmscope.h"

struct demo_opts {
	size_t customers;     /* default 5000 */
	uint64_t seed;        /* default 42 */
	const char *out_dir;  /* created if missing */
};

/* What was written, for the CLI to print and tests to check. */
struct demo_counts {
	size_t rows[CRM_N_ENTITIES];  /* data rows written per entity file */
	size_t duplicates_planted;    /* customers written twice under two ids */
	size_t bad_rows_planted;      /* rows that must be quarantined on import */
};

int demo_generate(const struct demo_opts *opts, struct demo_counts *counts,
		  struct crm_err *err);

#endif
