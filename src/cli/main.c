/* main.c - the crmscope command (cli layer).
 * Parses the command line, calls the library, prints, and alone decides the
 * exit status: 0 ok, 1 error, 2 usage, 3 rows rejected under --strict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/trace.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/dataset.h"
#include "data/load.h"
#include "demo/demo.h"
#include "metrics/mx.h"
#include "metrics/retention.h"
#include "metrics/service.h"
#include "metrics/value.h"
#include "data/overview.h"
#include "report/customers.h"
#include "report/overview.h"
#include "store/store.h"

#include "cli/cli.h"


static void print_count(const char *label, int64_t n, const char *unit)
{
	char b[32];
	int_format_grouped(n, b);
	printf("  %-12s %12s%s%s\n", label, b, unit[0] ? " " : "", unit);
}

static void print_summary(const char *entity, const struct ing_summary *s)
{
	const char *unit = s->line_level ? "lines" : "";
	char b[32], c[32];
	printf("import %s from %s (%s", entity, s->source, s->format == ING_FMT_JSONL ? "JSON Lines" : "CSV");
	if (s->format != ING_FMT_JSONL)
		printf(", delimiter %s", s->delim == ' ' ? "runs of spaces" : s->delim == '\t' ? "tab"
			: s->delim == ',' ? "','" : s->delim == ';' ? "';'" : "other");
	printf("%s)\n", s->line_level ? ", order lines folded into orders" : "");
	printf("  mapping: %s\n", s->mapping);
	print_count("read", s->read, unit);
	print_count("stored", s->stored, unit);
	if (s->line_level) {
		int_format_grouped(s->orders_stored, b);
		int_format_grouped(s->orders_made, c);
		printf("  %-12s %12s orders stored of %s formed\n", "", b, c);
	}
	print_count("updated", s->updated, unit);
	print_count("duplicates", s->duplicates, unit);
	print_count("rejected", s->rejected, unit);
	for (int r = 0; r < R_N; r++) {
		if (!s->reasons[r])
			continue;
		int_format_grouped(s->reasons[r], b);
		printf("    %-22s %12s\n", ing_reason_name(r), b);
	}
	if (s->rejects_path[0])
		printf("  rejects written to %s\n", s->rejects_path);
	if (s->stubs)
		print_count("stubs", s->stubs, "customers created from references");
	if (s->synthetic_ids)
		print_count("made ids", s->synthetic_ids, "records without an id of their own");
	if (s->line_level) {
		int_format_grouped(s->cancel_lines, b);
		printf("  line rules: %s cancellation lines (their orders stored as returned)", b);
		int_format_grouped(s->negative_qty_lines, b);
		printf(", %s negative-quantity lines kept", b);
		int_format_grouped(s->zero_price_lines, b);
		printf(", %s zero-price lines kept at 0\n", b);
	}
	int64_t total = s->stored + s->updated + s->duplicates + s->rejected;
	printf("  read = stored + updated + duplicates + rejected: %s\n",
	       total == s->read ? "holds" : "DOES NOT HOLD");
}

static int cmd_import(int argc, char **argv)
{
	struct read_args a;
	const char *pos[3 + 256];
	int n_pos = 0;
	int st = gather_args(&a, argc, argv, "import", pos, (int)(sizeof pos / sizeof pos[0]), &n_pos);
	if (st)
		return st;
	if (n_pos < 3)
		return usage("import needs DB ENTITY FILE...");
	int entity = ent_by_name(pos[1]);
	if (entity < 0) {
		fprintf(stderr, "crmscope: import: unknown entity '%s'\n", pos[1]);
		return usage(NULL);
	}
	if (a.rejects && n_pos > 3) {
		fprintf(stderr, "crmscope: --rejects names one file: import one input at a time with it\n");
		return EXIT_USAGE;
	}
	int status = 0;
	for (int f = 2; f < n_pos; f++) {
		struct ds_import_opts o;
		struct ing_summary sum;
		struct crm_err err;
		char rejects[1024];
		crm_err_clear(&err);
		o.ing = a.ing;
		o.ing.entity = entity;
		o.upsert = a.upsert;
		o.batch_rows = a.batch;
		if (a.rejects)
			snprintf(rejects, sizeof rejects, "%s", a.rejects);
		else
			ds_default_rejects_path(pos[0], pos[f], rejects, sizeof rejects);
		o.ing.rejects_path = rejects;
		int rc = ds_import(pos[0], pos[f], &o, &sum, &err);
		if (sum.read || rc == CRM_OK)
			print_summary(pos[1], &sum);
		if (rc != CRM_OK)
			return fail(&err);
		if (a.ing.strict && sum.rejected)
			status = EXIT_REJECTS;
	}
	return status;
}

/* -------------------------------------------------------------- customers */

/* The family columns of the wide table (report/customers.h): stages,
 * engagement and values at the summary's as-of date. The arrays are the
 * caller's (free each). */
static int customer_extras(const struct crm_dataset *ds, int64_t as_of, uint8_t **stage,
			   double **engagement, struct mx_customer_value **value,
			   struct crm_err *err)
{
	struct mx_opts mo;
	struct mx_ctx ctx;
	size_t n = ds->n_customers ? ds->n_customers : 1;
	mx_opts_default(&mo);
	mo.as_of = as_of;
	int rc = mx_ctx_init(&ctx, ds, &mo, err);
	if (rc != CRM_OK)
		return rc;
	*stage = xmallocn(n, sizeof **stage);
	*engagement = xmallocn(n, sizeof **engagement);
	*value = xmallocn(n, sizeof **value);
	if (!*stage || !*engagement || !*value)
		return crm_err_set(err, CRM_ENOMEM, "customers: out of memory");
	if ((rc = mx_lifecycle_stages(&ctx, *stage, err)) != CRM_OK ||
	    (rc = mx_engagement_scores(&ctx, *engagement, err)) != CRM_OK ||
	    (rc = mx_customer_values(&ctx, *value, err)) != CRM_OK)
		return rc;
	return CRM_OK;
}

/* The stage named s ("at_risk" or "at-risk"), or -1. */
static int stage_by_name(const char *s)
{
	for (int k = 0; k < MX_N_STAGES; k++) {
		const char *name = mx_stage_name(k);
		size_t i = 0;
		while (name[i] && (s[i] == name[i] || (s[i] == '-' && name[i] == '_')))
			i++;
		if (!name[i] && !s[i])
			return k;
	}
	return -1;
}

static int cmd_customers(int argc, char **argv)
{
	struct read_args a;
	read_args_init(&a);
	const char *inputs[MAX_INPUTS];
	int n_in = 0;
	const char *out_path = NULL, *sort = NULL;
	int json = 0, wide = 0, stage = -1, asc = 0;
	size_t limit = 0;
	struct crm_summary_opts so = { CRM_NA, CRM_NA, CRM_UNIT_DAY };
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		/* here --format is the output's; inputs are told apart by name */
		if (strcmp(o, "--format") == 0 && v && (strcmp(v, "json") == 0 || strcmp(v, "csv") == 0)) {
			json = strcmp(v, "json") == 0;
			i++;
			continue;
		}
		int r = read_option(&a, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(o, "--as-of") == 0 || strcmp(o, "--calibration-end") == 0) {
			if (!v)
				return usage("a date option needs a value");
			if (parse_date_arg(o, v, o[2] == 'a' ? &so.as_of : &so.calibration_end) != 0)
				return EXIT_USAGE;
			i++;
		} else if (strcmp(o, "--unit") == 0 && v) {
			if (strcmp(v, "day") == 0)
				so.unit = CRM_UNIT_DAY;
			else if (strcmp(v, "week") == 0)
				so.unit = CRM_UNIT_WEEK;
			else
				return usage("--unit is day or week");
			i++;
		} else if (strcmp(o, "--out") == 0 && v) {
			out_path = v;
			i++;
		} else if (strcmp(o, "--wide") == 0) {
			wide = 1;
		} else if (strcmp(o, "--stage") == 0 && v) {
			if ((stage = stage_by_name(v)) < 0)
				return usage("--stage is prospect, new, growing, mature, at_risk or churned");
			i++;
		} else if (strcmp(o, "--sort") == 0 && v) {
			/* FIELD (largest first) or FIELD:asc / FIELD:desc */
			static char field[64];
			const char *colon = strchr(v, ':');
			size_t len = colon ? (size_t)(colon - v) : strlen(v);
			if (len >= sizeof field || (colon && strcmp(colon, ":asc") != 0 &&
						   strcmp(colon, ":desc") != 0))
				return usage("--sort FIELD[:asc|:desc]");
			memcpy(field, v, len);
			field[len] = '\0';
			sort = field;
			asc = colon && strcmp(colon, ":asc") == 0;
			i++;
		} else if (strcmp(o, "--limit") == 0 && v) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end || end == v || n < 1)
				return usage("--limit takes a positive number of rows");
			limit = (size_t)n;
			i++;
		} else if (o[0] == '-' && o[1]) {
			return usage("customers: unknown option");
		} else if (n_in < MAX_INPUTS) {
			inputs[n_in++] = o;
		}
	}
	if (n_in == 0)
		return usage("customers needs DB or FILE...");
	/* a database holds what the family columns need: they come with it */
	if (n_in == 1 && is_sqlite(inputs[0]))
		wide = 1;
	struct crm_err err;
	crm_err_clear(&err);
	struct crm_dataset *ds = NULL;
	struct crm_customer_summary *sum = NULL;
	uint8_t *stages = NULL;
	double *engagement = NULL;
	struct mx_customer_value *values = NULL;
	struct rpt_customer_rows sel = { NULL, 0 };
	FILE *out = stdout;
	int status = 1;
	crm_trace("start");
	if (load_dataset(inputs, n_in, &a, &ds, &err) != CRM_OK)
		goto done;
	crm_trace("loaded");
	int need = wide || stage >= 0 || sort || limit;
	/* the plain CSV table makes the summary as it writes (rpt_customers_csv);
	 * its options are checked before the output is opened all the same */
	struct ds_summary_plan plan;
	if ((need || json) ? crm_summary_compute(ds, &so, &sum, &err) != CRM_OK
			   : ds_summary_plan(ds, &so, &plan, &err) != CRM_OK)
		goto done;
	crm_trace("summary");
	struct rpt_customer_extra extra = { NULL, NULL, NULL };
	if (wide || stage >= 0) {
		if (customer_extras(ds, so.as_of, &stages, &engagement, &values, &err) != CRM_OK)
			goto done;
		extra = (struct rpt_customer_extra){ stages, engagement, values };
	}
	if (need && rpt_customers_select(ds, sum, stages ? &extra : NULL, stage, sort, asc, limit,
					 &sel, &err) != CRM_OK)
		goto done;
	if (open_output(out_path, &out, &err) != CRM_OK)
		goto done;
	const struct rpt_customer_extra *x = wide ? &extra : NULL;
	int rc = json ? rpt_customers_table_json(ds, sum, &so, x, need ? &sel : NULL, out, &err)
		      : rpt_customers_table_csv(ds, sum, &so, x, need ? &sel : NULL, out, &err);
	crm_trace("written");
	if (rc == CRM_OK)
		status = 0;
done:
	status = close_output(out, out_path, status, &err);
	free(sel.rows);
	free(stages);
	free(engagement);
	free(values);
	free(sum);
	crm_dataset_free(ds);
	crm_trace("freed");
	return status;
}

/* --------------------------------------------------------------- overview */

static int cmd_overview(int argc, char **argv)
{
	struct read_args a;
	const char *inputs[MAX_INPUTS];
	int n_in = 0;
	int st = gather_args(&a, argc, argv, "overview", inputs, MAX_INPUTS, &n_in);
	if (st)
		return st;
	if (n_in == 0)
		return usage("overview needs DB or FILE...");
	struct crm_err err;
	struct crm_dataset *ds = NULL;
	struct ds_overview o;
	crm_err_clear(&err);
	if (load_dataset(inputs, n_in, &a, &ds, &err) != CRM_OK)
		return fail(&err);
	ds_overview(ds, &o);
	crm_dataset_free(ds);
	if (rpt_overview_text(&o, stdout, &err) != CRM_OK)
		return fail(&err);
	return 0;
}

/* ------------------------------------------------------------------ stats */

static int cmd_stats(int argc, char **argv)
{
	if (argc != 1)
		return usage("stats needs DB");
	struct crm_err err;
	struct st_db *db = NULL;
	struct st_stats s;
	crm_err_clear(&err);
	if (st_open(argv[0], ST_OPEN_READ, &db, &err) != CRM_OK)
		return fail(&err);
	int rc = st_stats(db, &s, &err);
	st_close(db);
	if (rc != CRM_OK)
		return fail(&err);
	char b[32], d1[32], d2[32];
	printf("database %s (schema %d)\n", argv[0], s.schema_version);
	printf("  %-14s %12s  %-10s  %-10s\n", "entity", "rows", "from", "to");
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		int_format_grouped(s.e[e].rows, b);
		if (s.e[e].first_at != CRM_NA) {
			ts_format(s.e[e].first_at, 1, d1);
			ts_format(s.e[e].last_at, 1, d2);
		} else {
			strcpy(d1, "-");
			strcpy(d2, "-");
		}
		printf("  %-14s %12s  %-10s  %-10s\n", ent_get(e)->name, b, d1, d2);
	}
	int_format_grouped(s.customers_with_orders, b);
	printf("  customers with orders: %s\n", b);
	int_format_grouped(s.stub_customers, b);
	printf("  stub customers (known only from references): %s\n", b);
	printf("  currencies: %s\n", s.currencies[0] ? s.currencies : "none given");
	int_format_grouped(s.imports, b);
	printf("  imports: %s\n", b);
	int_format_grouped(s.rejected, b);
	printf("  rows rejected so far: %s\n", b);
	for (size_t r = 0; r < s.n_reasons; r++) {
		int_format_grouped(s.reason_n[r], b);
		printf("    %-22s %12s\n", s.reason[r], b);
	}
	return 0;
}

/* ------------------------------------------------------------------- demo */

static int cmd_demo(int argc, char **argv)
{
	struct demo_opts o = { 5000, 42, "demo" };
	for (int i = 0; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		if (!v)
			return usage("demo: option needs a value");
		if (strcmp(argv[i], "--customers") == 0) {
			unsigned long long n = strtoull(v, &end, 10);
			if (*end || n < 1 || n > 10000000)
				return usage("demo: --customers takes 1 to 10,000,000");
			o.customers = (size_t)n;
		} else if (strcmp(argv[i], "--seed") == 0) {
			o.seed = strtoull(v, &end, 10);
			if (*end)
				return usage("demo: --seed takes a number");
		} else if (strcmp(argv[i], "--out") == 0) {
			o.out_dir = v;
		} else {
			return usage("demo: unknown option");
		}
		i++;
	}
	struct demo_counts c;
	struct crm_err err;
	crm_err_clear(&err);
	if (demo_generate(&o, &c, &err) != CRM_OK)
		return fail(&err);
	char b[32];
	printf("demo business written to %s/ (seed %llu)\n", o.out_dir, (unsigned long long)o.seed);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		int_format_grouped((int64_t)c.rows[e], b);
		printf("  %-14s %10s rows\n", ent_get(e)->name, b);
	}
	printf("  planted: %zu duplicate customers, %zu bad rows (see %s/truth.json)\n",
	       c.duplicates_planted, c.bad_rows_planted, o.out_dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(NULL);
	const char *cmd = argv[1];
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc - 2, argv + 2);
	if (strcmp(cmd, "customers") == 0)
		return cmd_customers(argc - 2, argv + 2);
	if (strcmp(cmd, "dedupe") == 0)
		return cmd_dedupe(argc - 2, argv + 2);
	if (strcmp(cmd, "quality") == 0)
		return cmd_quality(argc - 2, argv + 2);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc - 2, argv + 2);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(argc - 2, argv + 2);
	if (strcmp(cmd, "overview") == 0)
		return cmd_overview(argc - 2, argv + 2);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 2, argv + 2);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage("unknown command");
}
