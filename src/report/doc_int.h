/* doc_int.h - the inside of the report document, for doc.c and the
 * renderers (report layer). Nothing outside src/report/ includes it: metric
 * families build documents through doc.h only. */
#ifndef REPORT_DOC_INT_H
#define REPORT_DOC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/strmap.h"
#include "report/doc.h"

enum rp_item_kind { RP_ITEM_PARAM = 0, RP_ITEM_VALUE, RP_ITEM_NOTE, RP_ITEM_TABLE };

/* One thing in a section, in the order emitted. Strings are owned. */
struct rp_item {
	int kind;                 /* enum rp_item_kind */
	char *id;                 /* VALUE: relative id; PARAM: name; NOTE: NULL */
	char *label;              /* VALUE: label; PARAM: value; NOTE: the text */
	int unit;                 /* VALUE: enum rp_unit */
	double v;                 /* VALUE: the number, NAN for no data */
	struct rp_table *table;   /* TABLE: owned */
};

struct rp_cell {
	double v;                 /* a number cell; NAN: no data */
	int64_t s;                /* a string cell: offset in the table's pool, -1 none */
};

struct rp_table {
	struct rp_doc *doc;       /* for sticky errors */
	char *id;                 /* relative to the family */
	char *title;
	char *family, *group;     /* borrowed from the section */
	size_t n_cols;
	char **col_name;          /* n_cols, owned */
	int *col_unit;            /* n_cols */
	size_t n_rows;
	size_t filled;            /* cells of the last row filled so far */
	struct rp_cell *cells;    /* n_rows * n_cols, row-major */
	size_t cap_cells;
	struct buf pool;          /* string cells, each NUL-terminated */
};

struct rp_kv {
	char *name, *value;       /* owned */
};

struct rp_section {
	struct rp_doc *doc;
	char *family;             /* [a-z0-9_]+ */
	char *group;              /* NULL: not a breakdown */
	char *title;
	struct rp_item *items;
	size_t n_items, cap_items;
};

struct rp_doc {
	int status;               /* CRM_OK, or the first failure (sticky) */
	struct crm_err err;       /* its message */
	struct rp_kv *params;     /* document parameters, in order */
	size_t n_params, cap_params;
	struct rp_section **sections;
	size_t n_sections, cap_sections;
	struct strmap ids;        /* "family.id\x1fgroup" of values and tables ->
	                             1 value, 2 table: ids are unique in a group */
};

/* The full id of a value or table ("purchases.aov") into out; the length. */
size_t rp_full_id(const char *family, const char *id, char *out, size_t cap);

/* The text of a unit for JSON and CSV ("money", "percent" ...). */
const char *rp_unit_name(int unit);

/* A number as the text renderer shows it in a table cell or beside a
 * label (no unit suffix): grouped, rounded for the unit; "no data" for NAN.
 * out has at least 64 bytes. */
void rp_format_number(double v, int unit, char *out, size_t cap);

/* The suffix a unit gets in text ("%", " d", ":1"...), "" for none. */
const char *rp_unit_suffix(int unit);

#endif
