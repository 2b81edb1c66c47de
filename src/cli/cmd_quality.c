/* cmd_quality.c - `crmscope quality DB`: the data-quality report (cli layer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean/quality.h"
#include "cli/cli.h"
#include "core/err.h"
#include "report/doc.h"

int cmd_quality(int argc, char **argv)
{
	const char *db_path = NULL, *out_path = NULL;
	int json = 0;
	int64_t as_of = CRM_NA;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--format") == 0 && v) {
			if (strcmp(v, "json") == 0)
				json = 1;
			else if (strcmp(v, "text") != 0)
				return usage("quality: --format is text or json");
			i++;
		} else if (strcmp(o, "--as-of") == 0 && v) {
			if (parse_date_arg(o, v, &as_of) != 0)
				return EXIT_USAGE;
			i++;
		} else if (strcmp(o, "--out") == 0 && v) {
			out_path = v;
			i++;
		} else if (o[0] == '-' && o[1]) {
			return usage("quality: unknown option");
		} else if (!db_path) {
			db_path = o;
		} else {
			return usage("quality takes one DB");
		}
	}
	if (!db_path)
		return usage("quality needs DB");
	struct crm_err err;
	crm_err_clear(&err);
	struct cl_quality *q = malloc(sizeof *q);
	struct rp_doc *d = rp_doc_new();
	struct crm_dataset *ds = NULL;
	FILE *out = stdout;
	int status = 1;
	if (!q || !d) {
		crm_err_set(&err, CRM_ENOMEM, "out of memory");
		goto done;
	}
	if (!is_sqlite(db_path)) {
		crm_err_set(&err, CRM_EINVAL, "%s: not a crmscope database (import files first)",
			    db_path);
		goto done;
	}
	if (cl_quality_from_db(db_path, as_of, q, &ds, &err) != CRM_OK)
		goto done;
	rp_doc_param(d, "source", db_path);
	cl_quality_emit(q, ds, NULL, d);
	if (rp_doc_status(d, &err) != CRM_OK)
		goto done;
	if (open_output(out_path, &out, &err) != CRM_OK)
		goto done;
	if ((json ? rp_render_json(d, out, &err) : rp_render_text(d, out, &err)) == CRM_OK)
		status = 0;
done:
	status = close_output(out, out_path, status, &err);
	crm_dataset_free(ds);
	rp_doc_free(d);
	free(q);
	return status;
}
