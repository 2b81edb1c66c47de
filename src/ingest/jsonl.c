/* jsonl.c - the JSON Lines reader (ingest layer).
 * Each line is parsed with jansson into an object whose members become
 * named text fields, so that the importer maps them like CSV columns.
 * Strings are borrowed from the parsed object; other values are printed
 * into a text buffer owned by the reader. */
#include "ingest/reader.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

struct ing_jsonl {
	struct ing_input in;       /* owned input (ing_jsonl_open), or empty */
	const char *d;             /* the bytes read from */
	size_t len;
	size_t pos;                /* offset of the next line */
	long line;                 /* 1-based line number of d[pos] */
	char *name;                /* for messages, owned */
	json_t *root;              /* the current object; owns the strings fields point at */
	struct ing_field *fields;  /* cap slots */
	struct ing_field *names;   /* cap slots: the keys */
	size_t *toff;              /* cap: offset in text of a field whose p is NULL */
	size_t cap;
	struct buf text;           /* numbers, booleans, nested values of the current row */
};

static int grow(struct ing_jsonl *j, size_t n);

int ing_jsonl_open_mem(const char *data, size_t len, const char *name,
		       struct ing_jsonl **out, struct crm_err *err)
{
	int rc = CRM_OK;
	struct ing_jsonl *j = NULL;
	*out = NULL;
	if (!name)
		name = "<memory>";
	j = calloc(1, sizeof *j);
	if (!j || !(j->name = strdup(name))) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", name);
		goto done;
	}
	j->in.data = "";
	j->d = data ? data : "";
	j->len = data ? len : 0;
	if (j->len >= 3 && (unsigned char)j->d[0] == 0xEF &&
	    (unsigned char)j->d[1] == 0xBB && (unsigned char)j->d[2] == 0xBF)
		j->pos = 3;
	j->line = 1;
	buf_init(&j->text);
	if (grow(j, 16) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", name);
		goto done;
	}
	*out = j;
	j = NULL;
done:
	ing_jsonl_close(j);
	return rc;
}

int ing_jsonl_open(const char *path, struct ing_jsonl **out, struct crm_err *err)
{
	struct ing_input in;
	*out = NULL;
	int rc = ing_input_open(path, &in, err);
	if (rc != CRM_OK)
		return rc;
	rc = ing_jsonl_open_mem(in.data, in.len, strcmp(path, "-") == 0 ? "<stdin>" : path,
				out, err);
	if (rc != CRM_OK) {
		ing_input_close(&in);
		return rc;
	}
	(*out)->in = in;
	return CRM_OK;
}

void ing_jsonl_close(struct ing_jsonl *j)
{
	if (!j)
		return;
	json_decref(j->root);
	ing_input_close(&j->in);
	free(j->name);
	free(j->fields);
	free(j->names);
	free(j->toff);
	buf_fini(&j->text);
	free(j);
}

/* Makes room for n fields. 0, or -1 on ENOMEM. */
static int grow(struct ing_jsonl *j, size_t n)
{
	if (n <= j->cap)
		return 0;
	size_t cap = j->cap ? j->cap : 16;
	while (cap < n)
		cap *= 2;
	struct ing_field *f = xreallocn(j->fields, cap, sizeof *f);
	if (!f)
		return -1;
	j->fields = f;
	f = xreallocn(j->names, cap, sizeof *f);
	if (!f)
		return -1;
	j->names = f;
	size_t *t = xreallocn(j->toff, cap, sizeof *t);
	if (!t)
		return -1;
	j->toff = t;
	j->cap = cap;
	return 0;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	default: return "an object";
	}
}

/* Prints a non-string value at the end of j->text. 0, or -1 on ENOMEM. */
static int print_value(struct ing_jsonl *j, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		return buf_printf(&j->text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return buf_printf(&j->text, "%.15g", json_real_value(v));
	case JSON_TRUE:
		return buf_puts(&j->text, "true");
	case JSON_FALSE:
		return buf_puts(&j->text, "false");
	default: {
		char *s = json_dumps(v, JSON_COMPACT);
		if (!s)
			return -1;
		json_free_t jfree;
		json_get_alloc_funcs(NULL, &jfree);
		int r = buf_puts(&j->text, s);
		jfree(s);
		return r;
	}
	}
}

/* Fills row from the object root (kept by j until the next call). */
static int fill_row(struct ing_jsonl *j, struct ing_row *row, struct crm_err *err)
{
	json_t *root = j->root, *v;
	const char *key;
	size_t nf = 0;
	int used_text = 0;
	if (grow(j, json_object_size(root)) != 0)
		return crm_err_set(err, CRM_ENOMEM, "%s:%ld: out of memory", j->name, row->line);
	json_object_foreach(root, key, v) {
		struct ing_field *f = &j->fields[nf];
		j->names[nf].p = key;
		j->names[nf].n = strlen(key);
		j->names[nf].missing = 0;
		f->missing = 0;
		if (json_is_string(v)) {
			f->p = json_string_value(v);
			f->n = json_string_length(v);
		} else if (json_is_null(v)) {
			f->p = "";
			f->n = 0;
			f->missing = 1;
		} else {
			size_t at = j->text.len;
			if (print_value(j, v) != 0)
				return crm_err_set(err, CRM_ENOMEM, "%s:%ld: out of memory",
						   j->name, row->line);
			j->toff[nf] = at;
			f->p = NULL;       /* set below: the buffer may still move */
			f->n = j->text.len - at;
			used_text = 1;
		}
		nf++;
	}
	if (used_text)
		for (size_t k = 0; k < nf; k++)
			if (!j->fields[k].p)
				j->fields[k].p = j->text.p + j->toff[k];
	row->n_fields = nf;
	row->fields = j->fields;
	row->names = j->names;
	return CRM_OK;
}

int ing_jsonl_next(struct ing_jsonl *j, struct ing_row *row, struct crm_err *err)
{
	const char *d = j->d;
	size_t len = j->len;
	json_decref(j->root);
	j->root = NULL;
	j->text.len = 0;
	row->n_fields = 0;
	row->fields = j->fields;
	row->names = j->names;
	row->scratch = 1;

	for (;;) {
		if (j->pos >= len) {
			row->line = j->line;
			row->raw = d + len;
			row->raw_n = 0;
			return crm_err_set(err, CRM_EOF, "%s: end of input", j->name);
		}
		size_t start = j->pos;
		const char *nl = memchr(d + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - d) : len;
		j->pos = nl ? end + 1 : len;
		long line = j->line++;
		if (end > start && d[end - 1] == '\r')
			end--;
		size_t k = start;
		while (k < end && (d[k] == ' ' || d[k] == '\t' || d[k] == '\r'))
			k++;
		if (k == end)
			continue;          /* a blank line */

		row->line = line;
		row->raw = d + start;
		row->raw_n = end - start;
		json_error_t jerr;
		j->root = json_loadb(d + start, end - start, JSON_REJECT_DUPLICATES, &jerr);
		if (!j->root)
			return crm_err_set(err, CRM_EPARSE, "%s:%ld: column %d: %s", j->name, line,
					   jerr.column, jerr.text);
		if (!json_is_object(j->root)) {
			const char *what = type_name(j->root);
			json_decref(j->root);
			j->root = NULL;
			return crm_err_set(err, CRM_EPARSE, "%s:%ld: not a JSON object but %s",
					   j->name, line, what);
		}
		return fill_row(j, row, err);
	}
}
