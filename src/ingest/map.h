/* map.h - which input column feeds which canonical field (ingest layer).
 * Names are compared after folding case and dropping everything but ASCII
 * letters and digits ("Customer ID" = "customer_id" = "CustomerID"), and a
 * table of common aliases per field covers CRM and shop exports. */
#ifndef INGEST_MAP_H
#define INGEST_MAP_H

#include <stddef.h>

#include "crmscope.h"
#include "ingest/reader.h"

/* Targets past the entity's fields: order-line columns folded into orders. */
#define ING_T_QUANTITY   CRM_MAX_FIELDS
#define ING_T_UNIT_PRICE (CRM_MAX_FIELDS + 1)
#define ING_N_TARGETS    (CRM_MAX_FIELDS + 2)

struct ing_map {
	int entity;
	int col_of[ING_N_TARGETS];  /* column index feeding each target, or -1 */
	int explicit_of[ING_N_TARGETS]; /* 1: set by --map */
	size_t n_cols;              /* columns in the header (CSV) */
};

/* Folds name to lower-case ASCII letters and digits into out (cap bytes,
 * NUL-terminated, truncated). Returns the length. */
size_t ing_norm_name(const char *p, size_t n, char *out, size_t cap);

/* The target (field index, ING_T_QUANTITY, ING_T_UNIT_PRICE) that a column
 * named p[0..n) feeds in entity, or -1. */
int ing_map_target(int entity, const char *p, size_t n);

/* The name of target t of entity ("amount", "quantity", "unit_price"). */
const char *ing_target_name(int entity, int t);

/* Builds the mapping of a CSV header (NULL with n_cols for a file without a
 * header) given the --map specs ("field=column" or "field=#N", 1-based).
 * Explicit maps win, then exact canonical names, then aliases; a column
 * feeds one field at most. A spec naming an unknown field or column is
 * CRM_EINVAL with a message saying which. */
int ing_map_build(struct ing_map *m, int entity, const struct ing_row *header,
		  size_t n_cols, const char *const *maps, size_t n_maps,
		  struct crm_err *err);

/* Resolves the --map specs that name a column by name, for JSON Lines:
 * *target_for_key is filled by ing_map_key. */
int ing_map_check_specs(int entity, const char *const *maps, size_t n_maps,
			struct crm_err *err);

/* JSON Lines: the target a key feeds, given the --map specs. -1 if none. */
int ing_map_key(int entity, const char *const *maps, size_t n_maps,
		const char *key, size_t n);

#endif
