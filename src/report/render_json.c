/* render_json.c - the report document as one JSON document (report layer),
 * of the structure docs/report.schema.json describes: the document's
 * parameters, then per section its family, group, title, parameters,
 * values (full id, label, unit, value or null for no data), tables
 * (columns with units, rows of cells) and notes. Dates are "YYYY-MM-DD"
 * strings; counts that are whole numbers are JSON integers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/tstamp.h"
#include "report/doc_int.h"
#include "report/render.h"

/* The version of the document's structure: a change that breaks readers
 * raises it (docs/REPORT.md). */
#define RP_JSON_VERSION 1

json_t *rp_json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	/* not UTF-8 (or out of memory): replace the bad bytes and retry */
	struct buf b;
	buf_init(&b);
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
		int rc;
		if (n <= 0) {
			rc = buf_puts(&b, "\xef\xbf\xbd");
			p++;
		} else {
			rc = buf_append(&b, p, (size_t)n);
			p += n;
		}
		if (rc != 0) {
			buf_fini(&b);
			return NULL;
		}
	}
	j = json_string(b.p ? b.p : "");
	buf_fini(&b);
	return j;
}

/* The JSON of a number of that unit: null for no data, a date string, an
 * integer for a whole count, else a real. */
static json_t *num_json(double v, int unit)
{
	if (isnan(v) || isinf(v))
		return json_null();
	if (unit == RP_DATE) {
		char b[32];
		if (fabs(v) > 1e15)
			return json_null();
		ts_format((int64_t)floor(v), 1, b);
		return json_string(b);
	}
	if (unit == RP_COUNT && v == nearbyint(v) && fabs(v) < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

/* Sets key of o to v (a new reference, stolen); -1 when v is NULL or the
 * set fails. */
static int set_new(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -1;
	return json_object_set_new(o, key, v);
}

static int push_new(json_t *a, json_t *v)
{
	if (!v)
		return -1;
	return json_array_append_new(a, v);
}

static json_t *table_json(const struct rp_table *t)
{
	char full[512];
	json_t *o = json_object(), *cols = json_array(), *rows = json_array();
	if (!o || !cols || !rows)
		goto fail;
	rp_full_id(t->family, t->id, full, sizeof full);
	if (set_new(o, "id", json_string(full)) || set_new(o, "title", rp_json_text(t->title)))
		goto fail;
	for (size_t c = 0; c < t->n_cols; c++) {
		json_t *col = json_object();
		if (push_new(cols, col) || set_new(col, "name", rp_json_text(t->col_name[c])) ||
		    set_new(col, "unit", json_string(rp_unit_name(t->col_unit[c]))))
			goto fail;
	}
	for (size_t r = 0; r < t->n_rows; r++) {
		json_t *row = json_array();
		if (push_new(rows, row))
			goto fail;
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *s = rp_table_str(t, r, c);
			json_t *cell = s ? rp_json_text(s) : num_json(rp_table_num(t, r, c), t->col_unit[c]);
			if (push_new(row, cell))
				goto fail;
		}
	}
	if (set_new(o, "columns", cols)) {
		cols = NULL;
		goto fail;
	}
	cols = NULL;
	if (set_new(o, "rows", rows)) {
		rows = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(o);
	json_decref(cols);
	json_decref(rows);
	return NULL;
}

static json_t *section_json(const struct rp_section *s)
{
	char full[512];
	json_t *o = json_object(), *params = json_object(), *values = json_array(),
	       *tables = json_array(), *notes = json_array();
	if (!o || !params || !values || !tables || !notes)
		goto fail;
	for (size_t k = 0; k < s->n_items; k++) {
		const struct rp_item *it = &s->items[k];
		json_t *v;
		switch (it->kind) {
		case RP_ITEM_PARAM:
			if (set_new(params, it->id, rp_json_text(it->label)))
				goto fail;
			break;
		case RP_ITEM_VALUE:
			v = json_object();
			rp_full_id(s->family, it->id, full, sizeof full);
			if (push_new(values, v) || set_new(v, "id", json_string(full)) ||
			    set_new(v, "label", rp_json_text(it->label)) ||
			    set_new(v, "unit", json_string(rp_unit_name(it->unit))) ||
			    set_new(v, "value", num_json(it->v, it->unit)))
				goto fail;
			break;
		case RP_ITEM_NOTE:
			if (push_new(notes, rp_json_text(it->label)))
				goto fail;
			break;
		case RP_ITEM_TABLE:
			if (push_new(tables, table_json(it->table)))
				goto fail;
			break;
		}
	}
	if (set_new(o, "family", json_string(s->family)) ||
	    set_new(o, "group", s->group ? rp_json_text(s->group) : json_null()) ||
	    set_new(o, "title", rp_json_text(s->title)))
		goto fail;
	json_t *parts[4] = { params, values, tables, notes };
	const char *names[4] = { "params", "values", "tables", "notes" };
	for (int i = 0; i < 4; i++) {
		int bad = json_object_set(o, names[i], parts[i]);
		if (bad)
			goto fail;
	}
	for (int i = 0; i < 4; i++)
		json_decref(parts[i]);
	return o;
fail:
	json_decref(o);
	json_decref(params);
	json_decref(values);
	json_decref(tables);
	json_decref(notes);
	return NULL;
}

json_t *rp_doc_json(const struct rp_doc *d, struct crm_err *err)
{
	int rc = rp_doc_status(d, err);
	if (rc != CRM_OK)
		return NULL;
	json_t *root = json_object(), *params = json_object(), *sections = json_array();
	if (!root || !params || !sections)
		goto fail;
	for (size_t i = 0; i < d->n_params; i++)
		if (set_new(params, d->params[i].name, rp_json_text(d->params[i].value)))
			goto fail;
	for (size_t i = 0; i < d->n_sections; i++)
		if (push_new(sections, section_json(d->sections[i])))
			goto fail;
	if (set_new(root, "format", json_string("crmscope-report")) ||
	    set_new(root, "version", json_integer(RP_JSON_VERSION)) ||
	    json_object_set(root, "params", params) || json_object_set(root, "sections", sections))
		goto fail;
	json_decref(params);
	json_decref(sections);
	return root;
fail:
	json_decref(root);
	json_decref(params);
	json_decref(sections);
	crm_err_set(err, CRM_ENOMEM, "report: out of memory building the JSON");
	return NULL;
}

int rp_render_json(const struct rp_doc *d, FILE *f, struct crm_err *err)
{
	json_t *root = rp_doc_json(d, err);
	if (!root)
		return err ? err->code : CRM_ENOMEM;
	/* 12 significant digits: every figure exactly as computed to far more
	 * than it means, without binary noise in the last places (0.1 + 0.2) */
	int bad = json_dumpf(root, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(root);
	if (bad || fputc('\n', f) == EOF || fflush(f) != 0)
		return crm_err_set(err, CRM_EIO, "report: writing the JSON: %s", strerror(errno));
	return CRM_OK;
}
