/* test_report_golden.c - the whole report on the demo business (seed 42,
 * 1,000 customers, as of 2025-06-30) against tests/data/golden/
 * demo_report.json, so that no number changes by accident.
 *
 * The demo's CSVs are written to a temporary folder (src/demo), read
 * straight into a dataset (data/load.h, every field) and reported with the
 * families the golden file lists; a family registered later is left out
 * until the golden file is rewritten with it. Numbers compare to 1e-9
 * relative. To rewrite the file after checking that a change is meant:
 *   CRMSCOPE_GOLDEN_WRITE=1 build/crmscope_tests --filter 'report_golden/demo_business'
 * (from the repository root).
 *
 * Also: the same business imported into SQLite and loaded from there gives
 * the same report, number for number, as the files read straight in. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/tstamp.h"
#include "crmscope.h"
#include "data/load.h"
#include "demo/demo.h"
#include "metrics/families.h"
#include "report/doc.h"
#include "report/render.h"
#include "report/report.h"
#include "support.h"

#define GOLDEN "tests/data/golden/demo_report.json"
#define MAX_DIFFS 25

/* The demo business read straight from its CSV files. */
static struct crm_dataset *demo_dataset(char *dir, size_t cap)
{
	struct demo_opts o = { 1000, 42, NULL };
	struct demo_counts counts;
	struct crm_err err;
	tmpdir_make(dir, cap);
	o.out_dir = dir;
	cr_assert_eq(demo_generate(&o, &counts, &err), CRM_OK, "%s", err.msg);
	struct ds_file files[CRM_N_ENTITIES];
	struct ing_summary sums[CRM_N_ENTITIES];
	char paths[CRM_N_ENTITIES][512];
	memset(files, 0, sizeof files);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		snprintf(paths[e], sizeof paths[e], "%s/%s.csv", dir, ent_get(e)->name);
		files[e].path = paths[e];
		files[e].ing.entity = e;
		files[e].ing.decimal = '.';
		files[e].ing.threads = 1;
		files[e].ing.fields = rpt_fields(e); /* as `crmscope report` reads files */
	}
	struct crm_dataset *ds;
	cr_assert_eq(ds_load_files(files, CRM_N_ENTITIES, sums, &ds, &err), CRM_OK, "%s", err.msg);
	return ds;
}

/* The families the golden file was written with ("families" parameter),
 * as an --only list in out; those not registered fail the test. */
static void golden_families(json_t *golden, char *out, size_t cap)
{
	const char *fams = json_string_value(json_object_get(json_object_get(golden, "params"),
							     "families"));
	cr_assert_not_null(fams, GOLDEN " has no families parameter");
	snprintf(out, cap, "%s", strcmp(fams, "none") == 0 ? "" : fams);
	char copy[512];
	snprintf(copy, sizeof copy, "%s", out);
	for (char *tok = strtok(copy, ", "); tok; tok = strtok(NULL, ", "))
		cr_assert_not_null(mx_family_find(tok), GOLDEN " has family %s, which is not registered",
				   tok);
}

/* The report as JSON (full precision), over the families in only (NULL: all). */
static json_t *demo_report(const struct crm_dataset *ds, const char *only)
{
	struct rpt_opts o;
	struct crm_err err;
	rpt_opts_default(&o);
	o.mx.as_of = ts("2025-06-30T23:59:59Z");
	o.only = only;
	o.source = "demo business, seed 42, 1000 customers";
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(rpt_report(ds, &o, d, NULL, &err), CRM_OK, "%s", err.msg);
	json_t *j = rp_doc_json(d, &err);
	cr_assert_not_null(j, "%s", err.msg);
	rp_doc_free(d);
	return j;
}

/* A readable name of element i of array a at path: sections by family and
 * group, values and tables by id. */
static void elem_path(const char *path, json_t *elem, size_t i, char *out, size_t cap)
{
	const char *id = json_string_value(json_object_get(elem, "id"));
	const char *fam = json_string_value(json_object_get(elem, "family"));
	const char *grp = json_string_value(json_object_get(elem, "group"));
	if (id)
		snprintf(out, cap, "%s[%s]", path, id);
	else if (fam)
		snprintf(out, cap, "%s[%s%s%s]", path, fam, grp ? " " : "", grp ? grp : "");
	else
		snprintf(out, cap, "%s[%zu]", path, i);
}

/* Compares now with want; prints each difference (up to MAX_DIFFS) to
 * stderr and counts them in *n. */
static void diff(const char *path, json_t *want, json_t *now, int *n)
{
	char p[1024];
	if (json_is_number(want) && json_is_number(now)) {
		double a = json_number_value(want), b = json_number_value(now);
		double tol = 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
		if (fabs(a - b) > tol && (*n)++ < MAX_DIFFS)
			fprintf(stderr, "  %s: golden %.12g, now %.12g\n", path, a, b);
		return;
	}
	if (json_typeof(want) != json_typeof(now) &&
	    !(json_is_number(want) && json_is_number(now))) {
		if ((*n)++ < MAX_DIFFS) {
			char *a = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
			char *b = json_dumps(now, JSON_ENCODE_ANY | JSON_COMPACT);
			fprintf(stderr, "  %s: golden %.80s, now %.80s\n", path, a ? a : "?", b ? b : "?");
			free(a);
			free(b);
		}
		return;
	}
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		json_object_foreach(want, k, v) {
			snprintf(p, sizeof p, "%s.%s", path, k);
			json_t *w = json_object_get(now, k);
			if (!w) {
				if ((*n)++ < MAX_DIFFS)
					fprintf(stderr, "  %s: in the golden file, not now\n", p);
				continue;
			}
			diff(p, v, w, n);
		}
		json_object_foreach(now, k, v) {
			if (!json_object_get(want, k) && (*n)++ < MAX_DIFFS)
				fprintf(stderr, "  %s.%s: new, not in the golden file\n", path, k);
		}
		return;
	}
	if (json_is_array(want)) {
		size_t nw = json_array_size(want), nn = json_array_size(now);
		for (size_t i = 0; i < nw && i < nn; i++) {
			elem_path(path, json_array_get(want, i), i, p, sizeof p);
			diff(p, json_array_get(want, i), json_array_get(now, i), n);
		}
		if (nw != nn && (*n)++ < MAX_DIFFS) {
			size_t i = nw < nn ? nw : nn;
			json_t *first = json_array_get(nw > nn ? want : now, i);
			elem_path(path, first, i, p, sizeof p);
			fprintf(stderr, "  %s: %zu elements in the golden file, %zu now; first %s: %s\n",
				path, nw, nn, nw > nn ? "missing" : "new", p);
		}
		return;
	}
	if (!json_equal(want, now) && (*n)++ < MAX_DIFFS) {
		char *a = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
		char *b = json_dumps(now, JSON_ENCODE_ANY | JSON_COMPACT);
		fprintf(stderr, "  %s: golden %.80s, now %.80s\n", path, a ? a : "?", b ? b : "?");
		free(a);
		free(b);
	}
}

Test(report_golden, demo_business)
{
	char dir[256];
	struct crm_dataset *ds = demo_dataset(dir, sizeof dir);
	const char *write = getenv("CRMSCOPE_GOLDEN_WRITE");
	if (write && write[0] == '1') {
		/* every registered family, written as rp_render_json prints it */
		struct rpt_opts o;
		struct crm_err err;
		rpt_opts_default(&o);
		o.mx.as_of = ts("2025-06-30T23:59:59Z");
		o.source = "demo business, seed 42, 1000 customers";
		struct rp_doc *d = rp_doc_new();
		cr_assert_eq(rpt_report(ds, &o, d, NULL, &err), CRM_OK, "%s", err.msg);
		FILE *f = fopen(GOLDEN, "w");
		cr_assert_not_null(f, "cannot write " GOLDEN " (run from the repository root)");
		cr_assert_eq(rp_render_json(d, f, &err), CRM_OK, "%s", err.msg);
		fclose(f);
		rp_doc_free(d);
		fprintf(stderr, "report_golden: wrote " GOLDEN "\n");
	}
	json_error_t je;
	json_t *golden = json_load_file(GOLDEN, 0, &je);
	cr_assert_not_null(golden, GOLDEN ": %s (line %d); write it with CRMSCOPE_GOLDEN_WRITE=1",
			   je.text, je.line);
	char only[512];
	golden_families(golden, only, sizeof only);
	json_t *now = demo_report(ds, only[0] ? only : "none");
	int n = 0;
	diff("report", golden, now, &n);
	if (n) {
		fprintf(stderr, "report_golden: %d difference%s from " GOLDEN " (up to %d shown above).\n"
			"  If the change is meant, rewrite the file and commit it with the change:\n"
			"  CRMSCOPE_GOLDEN_WRITE=1 build/crmscope_tests --filter 'report_golden/demo_business'\n",
			n, n == 1 ? "" : "s", MAX_DIFFS);
	}
	cr_assert_eq(n, 0, "the demo report differs from " GOLDEN " (see the differences above)");
	json_decref(golden);
	json_decref(now);
	crm_dataset_free(ds);
	tmpdir_remove(dir);
}

Test(report_golden, database_and_files_agree)
{
	char dir[256], db[300];
	struct crm_dataset *files = demo_dataset(dir, sizeof dir);
	struct crm_dataset *stored = NULL;
	struct crm_err err;
	snprintf(db, sizeof db, "%s/crm.db", dir);
	/* customers first, so that the other entities find them */
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		char path[512], rejects[512];
		struct ds_import_opts io;
		struct ing_summary sum;
		memset(&io, 0, sizeof io);
		snprintf(path, sizeof path, "%s/%s.csv", dir, ent_get(e)->name);
		snprintf(rejects, sizeof rejects, "%s/%s.rejects.csv", dir, ent_get(e)->name);
		io.ing.entity = e;
		io.ing.decimal = '.';
		io.ing.rejects_path = rejects;
		cr_assert_eq(ds_import(db, path, &io, &sum, &err), CRM_OK, "%s", err.msg);
	}
	cr_assert_eq(crm_dataset_load_db(db, &stored, &err), CRM_OK, "%s", err.msg);
	json_t *a = demo_report(files, NULL), *b = demo_report(stored, NULL);
	int n = 0;
	diff("report", a, b, &n);
	cr_assert_eq(n, 0, "the report from the database differs from the files' (above)");
	json_decref(a);
	json_decref(b);
	crm_dataset_free(files);
	crm_dataset_free(stored);
	/* the folder holds the CSVs, the database (and its -wal, -shm) and rejects */
	tmpdir_remove(dir);
}

Test(report_golden, demo_text_fits_100_columns)
{
	/* every registered family's real output, as text, by acquisition
	 * channel: no line wider than 100 display columns */
	char dir[256];
	struct crm_dataset *ds = demo_dataset(dir, sizeof dir);
	struct rpt_opts o;
	struct crm_err err;
	rpt_opts_default(&o);
	o.mx.as_of = ts("2025-06-30T23:59:59Z");
	o.by = RPT_BY_ACQ_CHANNEL;
	struct rp_doc *d = rp_doc_new();
	cr_assert_eq(rpt_report(ds, &o, d, NULL, &err), CRM_OK, "%s", err.msg);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rp_render_text(d, f, &err), CRM_OK, "%s", err.msg);
	fclose(f);
	size_t line = 1;
	for (const char *p = text; *p; line++) {
		const char *e = strchr(p, '\n');
		cr_assert_not_null(e);
		size_t w = 0;
		for (const char *q = p; q < e;) {
			utf8proc_int32_t cp;
			utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)q, e - q, &cp);
			cr_assert_gt(k, 0, "line %zu is not UTF-8", line);
			int cw = utf8proc_charwidth(cp);
			w += cw > 0 ? (size_t)cw : 0;
			q += k;
		}
		cr_assert_leq(w, 100, "line %zu is %zu columns: %.*s", line, w, (int)(e - p), p);
		p = e + 1;
	}
	free(text);
	rp_doc_free(d);
	crm_dataset_free(ds);
	tmpdir_remove(dir);
}
