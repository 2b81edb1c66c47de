/* render_csv.c - the report document as CSV files in a folder (report
 * layer): one file per table, "<family>.<id>[.<group>].csv" (RFC 4180, LF
 * line ends, a header of the column names), values.csv with every scalar
 * and params.csv with every parameter. Numbers are written with up to 15
 * significant digits (whole counts as integers), dates as YYYY-MM-DD, no
 * data as an empty field. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/csvout.h"
#include "core/err.h"
#include "core/strmap.h"
#include "core/tstamp.h"
#include "report/doc_int.h"

static void put_num(FILE *f, double v, int unit)
{
	if (isnan(v) || isinf(v))
		return;
	if (unit == RP_DATE) {
		char b[32];
		if (fabs(v) <= 1e15) {
			ts_format((int64_t)floor(v), 1, b);
			fputs(b, f);
		}
		return;
	}
	if (v == nearbyint(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v == 0 ? 0.0 : v);
	else
		fprintf(f, "%.15g", v);
}

/* A file name part from a group label: bytes other than letters, digits,
 * "._=+-" and UTF-8 become '_' (no '/', spaces or control characters). */
static void name_part(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s && n + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c >= 0x80 || strchr("._=+-", c);
		out[n++] = ok ? (char)c : '_';
	}
	out[n] = '\0';
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, cap, "_");
}

/* Opens dir/name for writing; NULL with err set. */
static FILE *open_in(const char *dir, const char *name, char *path, size_t cap,
		     struct crm_err *err)
{
	snprintf(path, cap, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		crm_err_set(err, CRM_EIO, "%s: %s", path, strerror(errno));
	return f;
}

static int close_file(FILE *f, const char *path, struct crm_err *err)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return crm_err_set(err, CRM_EIO, "%s: writing failed: %s", path, strerror(errno));
	return CRM_OK;
}

static void write_table(FILE *f, const struct rp_table *t)
{
	for (size_t c = 0; c < t->n_cols; c++) {
		if (c)
			fputc(',', f);
		csv_put_field(f, t->col_name[c]);
	}
	fputc('\n', f);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			if (c)
				fputc(',', f);
			const char *s = rp_table_str(t, r, c);
			if (s)
				csv_put_field(f, s);
			else
				put_num(f, rp_table_num(t, r, c), t->col_unit[c]);
		}
		fputc('\n', f);
	}
}

int rp_render_csv(const struct rp_doc *d, const char *dir, struct crm_err *err)
{
	char path[4096], name[1024], part[512];
	FILE *f = NULL;
	struct strmap used;
	int rc = rp_doc_status(d, err);
	if (rc != CRM_OK)
		return rc;
	if (strmap_init(&used, 64) != 0)
		return crm_err_set(err, CRM_ENOMEM, "report: out of memory");
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		rc = crm_err_set(err, CRM_EIO, "%s: cannot create the folder: %s", dir, strerror(errno));
		goto done;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = crm_err_set(err, CRM_EIO, "%s: not a folder", dir);
		goto done;
	}
	/* values.csv: every scalar */
	if (!(f = open_in(dir, "values.csv", path, sizeof path, err))) {
		rc = CRM_EIO;
		goto done;
	}
	fputs("id,group,label,unit,value\n", f);
	for (size_t s = 0; s < d->n_sections; s++) {
		const struct rp_section *sec = d->sections[s];
		for (size_t k = 0; k < sec->n_items; k++) {
			const struct rp_item *it = &sec->items[k];
			if (it->kind != RP_ITEM_VALUE)
				continue;
			rp_full_id(sec->family, it->id, name, sizeof name);
			csv_put_field(f, name);
			fputc(',', f);
			csv_put_field(f, sec->group ? sec->group : "");
			fputc(',', f);
			csv_put_field(f, it->label);
			fprintf(f, ",%s,", rp_unit_name(it->unit));
			put_num(f, it->v, it->unit);
			fputc('\n', f);
		}
	}
	rc = close_file(f, path, err);
	f = NULL;
	if (rc != CRM_OK)
		goto done;
	/* params.csv: the document's (family empty) and every section's */
	if (!(f = open_in(dir, "params.csv", path, sizeof path, err))) {
		rc = CRM_EIO;
		goto done;
	}
	fputs("family,group,name,value\n", f);
	for (size_t i = 0; i < d->n_params; i++) {
		fputs(",,", f);
		csv_put_field(f, d->params[i].name);
		fputc(',', f);
		csv_put_field(f, d->params[i].value);
		fputc('\n', f);
	}
	for (size_t s = 0; s < d->n_sections; s++) {
		const struct rp_section *sec = d->sections[s];
		for (size_t k = 0; k < sec->n_items; k++) {
			const struct rp_item *it = &sec->items[k];
			if (it->kind != RP_ITEM_PARAM)
				continue;
			csv_put_field(f, sec->family);
			fputc(',', f);
			csv_put_field(f, sec->group ? sec->group : "");
			fputc(',', f);
			csv_put_field(f, it->id);
			fputc(',', f);
			csv_put_field(f, it->label);
			fputc('\n', f);
		}
	}
	rc = close_file(f, path, err);
	f = NULL;
	if (rc != CRM_OK)
		goto done;
	/* a file per table */
	for (size_t s = 0; s < d->n_sections; s++) {
		const struct rp_section *sec = d->sections[s];
		for (size_t k = 0; k < sec->n_items; k++) {
			const struct rp_item *it = &sec->items[k];
			if (it->kind != RP_ITEM_TABLE)
				continue;
			int len;
			if (sec->group) {
				name_part(sec->group, part, sizeof part);
				len = snprintf(name, sizeof name, "%s.%s.%s", sec->family, it->table->id, part);
			} else {
				len = snprintf(name, sizeof name, "%s.%s", sec->family, it->table->id);
			}
			if (len < 0 || (size_t)len + 16 >= sizeof name) {
				rc = crm_err_set(err, CRM_EINVAL, "report: table %s.%s: its file name is too long",
						 sec->family, it->table->id);
				goto done;
			}
			/* two groups whose labels differ only in replaced bytes get ~2, ~3... */
			size_t base = (size_t)len, index;
			int added = 0;
			for (unsigned n = 2; !added; n++) {
				if (strmap_put(&used, name, strlen(name), 0, &index, &added) != 0) {
					rc = crm_err_set(err, CRM_ENOMEM, "report: out of memory");
					goto done;
				}
				if (!added)
					snprintf(name + base, sizeof name - base, "~%u", n);
			}
			snprintf(name + strlen(name), sizeof name - strlen(name), ".csv");
			if (!(f = open_in(dir, name, path, sizeof path, err))) {
				rc = CRM_EIO;
				goto done;
			}
			write_table(f, it->table);
			rc = close_file(f, path, err);
			f = NULL;
			if (rc != CRM_OK)
				goto done;
		}
	}
done:
	if (f)
		fclose(f);
	strmap_fini(&used);
	return rc;
}
