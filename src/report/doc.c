/* doc.c - the report document (report layer): sections of parameters,
 * values, notes and tables that the metric families emit, read back by the
 * tests and the renderers. Failures are sticky (doc.h): the first one is
 * kept in the document and every later call does nothing. */
#include "report/doc_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Marks d failed with the first failure only. */
static void doc_fail(struct rp_doc *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void doc_fail(struct rp_doc *d, int code, const char *fmt, ...)
{
	if (!d || d->status != CRM_OK)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err.msg, sizeof d->err.msg, fmt, ap);
	va_end(ap);
	d->err.code = code;
	d->status = code;
}

static char *dup_str(struct rp_doc *d, const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(n + 1);
	if (!p) {
		doc_fail(d, CRM_ENOMEM, "report: out of memory");
		return NULL;
	}
	memcpy(p, s, n + 1);
	return p;
}

/* Grows *arr of *cap elements of size so that n + 1 fit; 0, or -1 (d failed). */
static int grow(struct rp_doc *d, void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *p = xreallocn(*arr, c, size);
	if (!p) {
		doc_fail(d, CRM_ENOMEM, "report: out of memory");
		return -1;
	}
	*arr = p;
	*cap = c;
	return 0;
}

/* Ids are [A-Za-z0-9_.-]+, not starting or ending with '.': they name CSV
 * files and JSON keys. Families are [a-z0-9_]+. */
static int id_ok(const char *id, int family)
{
	if (!id || !id[0])
		return 0;
	size_t n = strlen(id);
	if (!family && (id[0] == '.' || id[n - 1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
		if (!family)
			ok |= (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
		if (!ok)
			return 0;
	}
	return 1;
}

struct rp_doc *rp_doc_new(void)
{
	struct rp_doc *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	if (strmap_init(&d->ids, 256) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

static void table_free(struct rp_table *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->title);
	for (size_t i = 0; i < t->n_cols; i++)
		free(t->col_name ? t->col_name[i] : NULL);
	free(t->col_name);
	free(t->col_unit);
	free(t->cells);
	buf_fini(&t->pool);
	free(t);
}

static void section_free(struct rp_section *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_items; i++) {
		free(s->items[i].id);
		free(s->items[i].label);
		table_free(s->items[i].table);
	}
	free(s->items);
	free(s->family);
	free(s->group);
	free(s->title);
	free(s);
}

void rp_doc_free(struct rp_doc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_params; i++) {
		free(d->params[i].name);
		free(d->params[i].value);
	}
	free(d->params);
	for (size_t i = 0; i < d->n_sections; i++)
		section_free(d->sections[i]);
	free(d->sections);
	strmap_fini(&d->ids);
	free(d);
}

int rp_doc_status(const struct rp_doc *d, struct crm_err *err)
{
	if (!d)
		return crm_err_set(err, CRM_ENOMEM, "report: out of memory");
	if (d->status == CRM_OK)
		return CRM_OK;
	if (err)
		*err = d->err;
	return d->status;
}

void rp_doc_param(struct rp_doc *d, const char *name, const char *value)
{
	if (!d || d->status != CRM_OK)
		return;
	if (!name || !name[0]) {
		doc_fail(d, CRM_EINVAL, "report: a document parameter without a name");
		return;
	}
	for (size_t i = 0; i < d->n_params; i++) {
		if (strcmp(d->params[i].name, name) == 0) { /* a later value replaces */
			char *v = dup_str(d, value ? value : "");
			if (v) {
				free(d->params[i].value);
				d->params[i].value = v;
			}
			return;
		}
	}
	if (grow(d, (void **)&d->params, &d->cap_params, d->n_params, sizeof *d->params) != 0)
		return;
	char *n = dup_str(d, name), *v = dup_str(d, value ? value : "");
	if (!n || !v) {
		free(n);
		free(v);
		return;
	}
	d->params[d->n_params].name = n;
	d->params[d->n_params++].value = v;
}

struct rp_section *rp_section_new(struct rp_doc *d, const char *family,
				  const char *group, const char *title)
{
	if (!d || d->status != CRM_OK)
		return NULL;
	if (!id_ok(family, 1)) {
		doc_fail(d, CRM_EINVAL, "report: family id '%s': use a-z, 0-9 and _",
			 family ? family : "(null)");
		return NULL;
	}
	if (group && !group[0])
		group = NULL;
	if (grow(d, (void **)&d->sections, &d->cap_sections, d->n_sections,
		 sizeof *d->sections) != 0)
		return NULL;
	struct rp_section *s = calloc(1, sizeof *s);
	if (!s) {
		doc_fail(d, CRM_ENOMEM, "report: out of memory");
		return NULL;
	}
	s->doc = d;
	s->family = dup_str(d, family);
	s->group = group ? dup_str(d, group) : NULL;
	s->title = dup_str(d, title ? title : family);
	if (!s->family || (group && !s->group) || !s->title) {
		section_free(s);
		return NULL;
	}
	d->sections[d->n_sections++] = s;
	return s;
}

/* A new item at the end of s, zeroed; NULL when d failed. */
static struct rp_item *add_item(struct rp_section *s, int kind)
{
	if (grow(s->doc, (void **)&s->items, &s->cap_items, s->n_items, sizeof *s->items) != 0)
		return NULL;
	struct rp_item *it = &s->items[s->n_items];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->v = NAN;
	return it;
}

size_t rp_full_id(const char *family, const char *id, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s.%s", family, id);
	return n < 0 ? 0 : (size_t)n;
}

/* The key of id in the ids map: "v|t family.id \x1f group". */
static int id_key(const struct rp_section *s, char kind, const char *id, struct buf *b)
{
	if (buf_putc(b, kind) != 0 || buf_puts(b, s->family) != 0 || buf_putc(b, '.') != 0 ||
	    buf_puts(b, id) != 0)
		return -1;
	if (s->group && (buf_putc(b, '\x1f') != 0 || buf_puts(b, s->group) != 0))
		return -1;
	return 0;
}

/* Claims the id of a new value (kind 'v') or table ('t') in s: 0, or -1
 * with d failed (a bad or repeated id, out of memory). */
static int claim_id(struct rp_section *s, char kind, const char *id)
{
	struct rp_doc *d = s->doc;
	if (!id_ok(id, 0)) {
		doc_fail(d, CRM_EINVAL, "report: %s: %s id '%s': use A-Z, a-z, 0-9, '_', '-', '.'",
			 s->family, kind == 'v' ? "value" : "table", id ? id : "(null)");
		return -1;
	}
	struct buf b;
	buf_init(&b);
	int rc = -1;
	size_t index;
	int added;
	if (id_key(s, kind, id, &b) != 0 || strmap_put(&d->ids, b.p, b.len, 1, &index, &added) != 0) {
		doc_fail(d, CRM_ENOMEM, "report: out of memory");
		goto done;
	}
	if (!added) {
		doc_fail(d, CRM_EINVAL, "report: %s %s.%s%s%s emitted twice",
			 kind == 'v' ? "value" : "table", s->family, id,
			 s->group ? " of group " : "", s->group ? s->group : "");
		goto done;
	}
	rc = 0;
done:
	buf_fini(&b);
	return rc;
}

void rp_param(struct rp_section *s, const char *name, const char *value)
{
	if (!s || s->doc->status != CRM_OK)
		return;
	if (!name || !name[0]) {
		doc_fail(s->doc, CRM_EINVAL, "report: %s: a parameter without a name", s->family);
		return;
	}
	struct rp_item *it = add_item(s, RP_ITEM_PARAM);
	if (!it)
		return;
	it->id = dup_str(s->doc, name);
	it->label = dup_str(s->doc, value ? value : "");
	if (!it->id || !it->label) {
		free(it->id);
		free(it->label);
		return;
	}
	s->n_items++;
}

void rp_value(struct rp_section *s, const char *id, const char *label, int unit,
	      double v)
{
	if (!s || s->doc->status != CRM_OK)
		return;
	if (unit < RP_COUNT || unit > RP_DATE || unit == RP_TEXT) {
		doc_fail(s->doc, CRM_EINVAL, "report: %s.%s: unit %d is not one for a number",
			 s->family, id ? id : "(null)", unit);
		return;
	}
	if (claim_id(s, 'v', id) != 0)
		return;
	struct rp_item *it = add_item(s, RP_ITEM_VALUE);
	if (!it)
		return;
	it->id = dup_str(s->doc, id);
	it->label = dup_str(s->doc, label ? label : id);
	if (!it->id || !it->label) {
		free(it->id);
		free(it->label);
		return;
	}
	it->unit = unit;
	it->v = isinf(v) ? NAN : v; /* an infinity is no number to report */
	s->n_items++;
}

void rp_note(struct rp_section *s, const char *text)
{
	if (!s || s->doc->status != CRM_OK)
		return;
	struct rp_item *it = add_item(s, RP_ITEM_NOTE);
	if (!it)
		return;
	if (!(it->label = dup_str(s->doc, text ? text : "")))
		return;
	s->n_items++;
}

struct rp_table *rp_table_new(struct rp_section *s, const char *id,
			      const char *title, const struct rp_col *cols,
			      size_t n_cols)
{
	if (!s || s->doc->status != CRM_OK)
		return NULL;
	struct rp_doc *d = s->doc;
	if (n_cols == 0 || !cols || n_cols > 4096) {
		doc_fail(d, CRM_EINVAL, "report: %s.%s: a table needs 1 to 4096 columns",
			 s->family, id ? id : "(null)");
		return NULL;
	}
	for (size_t i = 0; i < n_cols; i++) {
		if (!cols[i].name || cols[i].unit < RP_COUNT || cols[i].unit > RP_DATE) {
			doc_fail(d, CRM_EINVAL, "report: %s.%s: column %zu has no name or a bad unit",
				 s->family, id ? id : "(null)", i + 1);
			return NULL;
		}
	}
	if (claim_id(s, 't', id) != 0)
		return NULL;
	struct rp_table *t = calloc(1, sizeof *t);
	struct rp_item *it = NULL;
	if (!t) {
		doc_fail(d, CRM_ENOMEM, "report: out of memory");
		return NULL;
	}
	t->doc = d;
	t->family = s->family;
	t->group = s->group;
	buf_init(&t->pool);
	t->id = dup_str(d, id);
	t->title = dup_str(d, title ? title : id);
	t->col_name = calloc(n_cols, sizeof *t->col_name);
	t->col_unit = xmallocn(n_cols, sizeof *t->col_unit);
	if (!t->col_name || !t->col_unit)
		doc_fail(d, CRM_ENOMEM, "report: out of memory");
	else
		t->n_cols = n_cols;
	for (size_t i = 0; i < t->n_cols; i++) {
		t->col_name[i] = dup_str(d, cols[i].name);
		t->col_unit[i] = cols[i].unit;
	}
	if (d->status != CRM_OK || !(it = add_item(s, RP_ITEM_TABLE))) {
		table_free(t);
		return NULL;
	}
	it->table = t;
	s->n_items++;
	return t;
}

void rp_row(struct rp_table *t)
{
	if (!t || t->doc->status != CRM_OK)
		return;
	size_t need;
	if (size_mul(t->n_rows + 1, t->n_cols, &need) != 0) {
		doc_fail(t->doc, CRM_ENOMEM, "report: %s.%s: too many rows", t->family, t->id);
		return;
	}
	if (need > t->cap_cells) {
		size_t cap = t->cap_cells ? t->cap_cells * 2 : t->n_cols * 16;
		while (cap < need)
			cap *= 2;
		struct rp_cell *c = xreallocn(t->cells, cap, sizeof *c);
		if (!c) {
			doc_fail(t->doc, CRM_ENOMEM, "report: out of memory");
			return;
		}
		t->cells = c;
		t->cap_cells = cap;
	}
	struct rp_cell *row = t->cells + t->n_rows * t->n_cols;
	for (size_t i = 0; i < t->n_cols; i++) {
		row[i].v = NAN;
		row[i].s = -1;
	}
	t->n_rows++;
	t->filled = 0;
}

/* The next cell of the last row, or NULL (d failed: no row, or the row full). */
static struct rp_cell *next_cell(struct rp_table *t)
{
	if (!t || t->doc->status != CRM_OK)
		return NULL;
	if (t->n_rows == 0 || t->filled == t->n_cols) {
		doc_fail(t->doc, CRM_EINVAL, "report: %s.%s: %s", t->family, t->id,
			 t->n_rows == 0 ? "a cell before rp_row" : "more cells than columns in a row");
		return NULL;
	}
	return &t->cells[(t->n_rows - 1) * t->n_cols + t->filled++];
}

void rp_cell_num(struct rp_table *t, double v)
{
	struct rp_cell *c = next_cell(t);
	if (c)
		c->v = isinf(v) ? NAN : v;
}

void rp_cell_str(struct rp_table *t, const char *s)
{
	struct rp_cell *c = next_cell(t);
	if (!c || !s)
		return;
	int64_t off = (int64_t)t->pool.len;
	if (buf_append(&t->pool, s, strlen(s) + 1) != 0) {
		doc_fail(t->doc, CRM_ENOMEM, "report: out of memory");
		return;
	}
	c->s = off;
}

/* ---------------------------------------------------------------- reading */

/* The item of full id (family.id) in group, of kind VALUE or TABLE, or NULL. */
static const struct rp_item *find_item(const struct rp_doc *d, const char *group,
				       const char *full_id, int kind)
{
	if (!d || !full_id)
		return NULL;
	if (group && !group[0])
		group = NULL;
	const char *dot = strchr(full_id, '.');
	if (!dot)
		return NULL;
	size_t fam_len = (size_t)(dot - full_id);
	for (size_t i = 0; i < d->n_sections; i++) {
		const struct rp_section *s = d->sections[i];
		if (strlen(s->family) != fam_len || memcmp(s->family, full_id, fam_len) != 0)
			continue;
		if ((group == NULL) != (s->group == NULL) || (group && strcmp(group, s->group) != 0))
			continue;
		for (size_t k = 0; k < s->n_items; k++) {
			const struct rp_item *it = &s->items[k];
			if (it->kind == kind &&
			    strcmp(kind == RP_ITEM_TABLE ? it->table->id : it->id, dot + 1) == 0)
				return it;
		}
	}
	return NULL;
}

double rp_get(const struct rp_doc *d, const char *group, const char *id, int *found)
{
	const struct rp_item *it = find_item(d, group, id, RP_ITEM_VALUE);
	if (found)
		*found = it != NULL;
	return it ? it->v : NAN;
}

const struct rp_table *rp_table_get(const struct rp_doc *d, const char *group,
				    const char *id)
{
	const struct rp_item *it = find_item(d, group, id, RP_ITEM_TABLE);
	return it ? it->table : NULL;
}

size_t rp_table_rows(const struct rp_table *t)
{
	return t ? t->n_rows : 0;
}

size_t rp_table_cols(const struct rp_table *t)
{
	return t ? t->n_cols : 0;
}

double rp_table_num(const struct rp_table *t, size_t row, size_t col)
{
	if (!t || row >= t->n_rows || col >= t->n_cols)
		return NAN;
	return t->cells[row * t->n_cols + col].v;
}

const char *rp_table_str(const struct rp_table *t, size_t row, size_t col)
{
	if (!t || row >= t->n_rows || col >= t->n_cols)
		return NULL;
	int64_t off = t->cells[row * t->n_cols + col].s;
	return off < 0 ? NULL : t->pool.p + off;
}

/* ------------------------------------------------------------------ units */

const char *rp_unit_name(int unit)
{
	static const char *const names[] = {
		"count", "number", "money", "percent", "ratio", "days", "hours",
		"seconds", "months", "score", "text", "date",
	};
	if (unit < 0 || unit > RP_DATE)
		return "number";
	return names[unit];
}

const char *rp_unit_suffix(int unit)
{
	switch (unit) {
	case RP_PERCENT: return "%";
	case RP_RATIO: return ":1";
	case RP_DAYS: return " d";
	case RP_HOURS: return " h";
	case RP_SECONDS: return " s";
	case RP_MONTHS: return " mo";
	default: return "";
	}
}
