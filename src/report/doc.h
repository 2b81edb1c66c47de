/* doc.h - the report document: what every metric family emits and every
 * output format renders (report layer).
 *
 * A document is a list of sections (one per metric family, or per family
 * and breakdown group); a section holds parameters (as-of, period, window,
 * the definition used), scalar metrics and tables, in the order emitted.
 * Every metric and table has a stable id ("purchases.aov") that names its
 * definition in METRICS.md, a label for people and a unit. A value that
 * could not be computed because its inputs are absent is "no data" (NAN),
 * never zero. Renderers: text (fits 100 columns), JSON (one document,
 * docs/report.schema.json) and CSV (one file per table in a folder).
 *
 * Errors are sticky so that emitting code stays flat: a call that runs out
 * of memory, or misuses the document (an id emitted twice in a family and
 * group, an id with other characters than A-Z a-z 0-9 _ . -, a cell before
 * rp_row or past the last column), marks the document failed with a message
 * naming the id, and later calls do nothing; rp_doc_status reports it once
 * at the end. Strings passed in are copied. */
#ifndef REPORT_DOC_H
#define REPORT_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crmscope.h"

enum rp_unit {
	RP_COUNT = 0,   /* integer count */
	RP_NUMBER,      /* plain decimal */
	RP_MONEY,       /* currency units (emit from money with mx_money) */
	RP_PERCENT,     /* 0..100 */
	RP_RATIO,       /* x:1 */
	RP_DAYS, RP_HOURS, RP_SECONDS, RP_MONTHS,
	RP_SCORE,       /* a score on the metric's own scale (NPS, CES, 0-100) */
	RP_TEXT,        /* string cell */
	RP_DATE         /* a time (s since epoch), printed as YYYY-MM-DD */
};

struct rp_doc;
struct rp_section;
struct rp_table;

struct rp_doc *rp_doc_new(void);                 /* NULL when out of memory */
void rp_doc_free(struct rp_doc *d);
/* CRM_OK, or the first failure of any call on d (CRM_ENOMEM ...). */
int rp_doc_status(const struct rp_doc *d, struct crm_err *err);

/* Document-wide parameters (source, as-of, period, breakdown), "name: value". */
void rp_doc_param(struct rp_doc *d, const char *name, const char *value);

/* A new section at the end. family is the id prefix ("purchases", a-z 0-9
 * _); group is the breakdown group ("country=DE") or NULL; title is for
 * people (NULL: the family). A family may emit several sections; ids stay
 * unique across them. The section belongs to d. Returns NULL only when d
 * has failed (every call accepts a NULL section and does nothing). */
struct rp_section *rp_section_new(struct rp_doc *d, const char *family,
				  const char *group, const char *title);
void rp_param(struct rp_section *s, const char *name, const char *value);
/* A scalar metric; v NAN is "no data" (an infinity too). id is relative to
 * the family ("aov" in family "purchases" is "purchases.aov"); label NULL
 * is the id; unit is any enum rp_unit but RP_TEXT (RP_DATE: v is a time). */
void rp_value(struct rp_section *s, const char *id, const char *label, int unit,
	      double v);
/* A free line of text (a formula, a definition, a caveat). */
void rp_note(struct rp_section *s, const char *text);

struct rp_col {
	const char *name;   /* column header, also the CSV header */
	int unit;           /* enum rp_unit of its cells */
};
/* A table with n_cols columns (1..4096; cols are copied); rows are added
 * with rp_row and filled left to right with rp_cell_* (one call per
 * column; cells not filled are no data). Its id shares the family's name
 * space with no other table. The table belongs to the section. */
struct rp_table *rp_table_new(struct rp_section *s, const char *id,
			      const char *title, const struct rp_col *cols,
			      size_t n_cols);
void rp_row(struct rp_table *t);
void rp_cell_num(struct rp_table *t, double v);       /* NAN: no data */
void rp_cell_str(struct rp_table *t, const char *s);  /* NULL: no data */

/* Reading back (tests and renderers). Full ids: "purchases.aov". A value
 * of a breakdown section is found with group ("country=DE"), else NULL.
 * Returns NAN when the value is absent or no data; *found (may be NULL)
 * tells the two apart. rp_table_num is NAN for a text cell or one out of
 * range; rp_table_str is NULL for a number cell, no data or out of range,
 * else borrowed from d (valid until rp_doc_free). */
double rp_get(const struct rp_doc *d, const char *group, const char *id, int *found);
const struct rp_table *rp_table_get(const struct rp_doc *d, const char *group,
				    const char *id);
size_t rp_table_rows(const struct rp_table *t);
size_t rp_table_cols(const struct rp_table *t);
double rp_table_num(const struct rp_table *t, size_t row, size_t col);
const char *rp_table_str(const struct rp_table *t, size_t row, size_t col);

/* Renderers. CRM_OK or CRM_EIO naming the path. */
int rp_render_text(const struct rp_doc *d, FILE *f, struct crm_err *err);
int rp_render_json(const struct rp_doc *d, FILE *f, struct crm_err *err);
/* One CSV per table in dir (created): "<family>.<id>[.<group>].csv", and
 * values.csv with every scalar (id, group, label, unit, value). */
int rp_render_csv(const struct rp_doc *d, const char *dir, struct crm_err *err);

#endif
