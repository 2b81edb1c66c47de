/* cmd_report.c - `crmscope report`: every metric family over a database or
 * over files read straight into a dataset, as text, JSON or CSV (cli
 * layer). Parses the options of METRICS.md into struct rpt_opts, loads,
 * runs rpt_report and renders; --timings tells the load and every family's
 * time and peak memory on stderr, for the benchmark. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "data/load.h"
#include "metrics/families.h"
#include "report/customers.h"
#include "report/doc.h"
#include "report/report.h"

enum out_format { OUT_TEXT = 0, OUT_JSON, OUT_CSV };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The entity of an input: "ENTITY=PATH", or from the file's name
 * ("orders_2024.csv" -> orders: the longest entity name it starts with).
 * Sets *path to the path part. -1 when neither tells. */
static int entity_of(const char *arg, const char **path)
{
	const char *eq = strchr(arg, '=');
	*path = arg;
	if (eq) {
		char name[32];
		size_t n = (size_t)(eq - arg);
		if (n < sizeof name) {
			memcpy(name, arg, n);
			name[n] = '\0';
			int e = ent_by_name(name);
			if (e >= 0) {
				*path = eq + 1;
				return e;
			}
		}
	}
	const char *base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	int best = -1;
	size_t best_len = 0;
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const char *name = ent_get(e)->name;
		size_t n = strlen(name);
		if (strncmp(base, name, n) == 0 && n > best_len) {
			best = e;
			best_len = n;
		}
	}
	return best;
}

/* Parses a whole number option in [lo, hi]; 0, or -1 with a message. */
static int int_arg(const char *opt, const char *v, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi) {
		fprintf(stderr, "crmscope: %s %s: give a whole number from %ld to %ld\n", opt, v, lo, hi);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int double_arg(const char *opt, const char *v, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (*end || end == v || !(x > 0) || !isfinite(x)) {
		fprintf(stderr, "crmscope: %s %s: give a positive number\n", opt, v);
		return -1;
	}
	*out = x;
	return 0;
}

static int money_arg(const char *opt, const char *v, int64_t *out)
{
	if (money_parse(v, strlen(v), '.', out) != 0 || *out < 0) {
		fprintf(stderr, "crmscope: %s %s: give an amount of money, 0 or more\n", opt, v);
		return -1;
	}
	return 0;
}

/* --period START..END: a date START starts at its 00:00, a date END takes
 * the whole of that day; date-times are taken as given (END excluded). */
static int period_arg(const char *v, int64_t *start, int64_t *end)
{
	const char *dots = strstr(v, "..");
	const char *why;
	if (!dots) {
		fprintf(stderr, "crmscope: --period %s: give START..END (2024-01-01..2024-12-31)\n", v);
		return -1;
	}
	if (ts_parse_iso(v, (size_t)(dots - v), start, &why) != 0) {
		fprintf(stderr, "crmscope: --period %s: start: %s\n", v, why);
		return -1;
	}
	if (parse_date_arg("--period (end)", dots + 2, end) != 0)
		return -1;
	if (strlen(dots + 2) == 10)
		*end += 1; /* the last second of the day, included */
	if (*end <= *start) {
		fprintf(stderr, "crmscope: --period %s: it ends before it starts\n", v);
		return -1;
	}
	return 0;
}

/* Reads the report's own options at argv[*i]: 1 taken, 0 not ours, -1 bad. */
static int report_option(struct rpt_opts *o, int *fmt, const char **out_path, int *timings,
			 int *summary, int argc, char **argv, int *i)
{
	const char *opt = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	struct mx_opts *m = &o->mx;
	static const char *const with_value[] = {
		"--as-of", "--period", "--by", "--only", "--out", "--window", "--no-second-days",
		"--new-days", "--growing-days", "--at-risk-factor", "--at-risk-days", "--spend-bands",
		"--sla-hours", "--cost-per-minute", "--cost-per-ticket", "--session-minutes",
		"--bounce", "--cohort", "--activity-window", "--lexicon-dir", "--language", "--groups",
		NULL,
	};
	if (strcmp(opt, "--timings") == 0) {
		*timings = 1;
		return 1;
	}
	if (strcmp(opt, "--with-summary") == 0) {
		*summary = 1;
		return 1;
	}
	/* --format is the output's (csv here is not the input format) */
	if (strcmp(opt, "--format") == 0) {
		if (v && strcmp(v, "text") == 0)
			*fmt = OUT_TEXT;
		else if (v && strcmp(v, "json") == 0)
			*fmt = OUT_JSON;
		else if (v && strcmp(v, "csv") == 0)
			*fmt = OUT_CSV;
		else {
			fprintf(stderr, "crmscope: report: --format is text, json or csv\n");
			return -1;
		}
		(*i)++;
		return 1;
	}
	int known = 0;
	for (size_t k = 0; with_value[k]; k++)
		known |= strcmp(opt, with_value[k]) == 0;
	if (!known)
		return 0;
	if (!v) {
		fprintf(stderr, "crmscope: %s needs a value\n", opt);
		return -1;
	}
	(*i)++;
	int r = 0;
	if (strcmp(opt, "--as-of") == 0) {
		r = parse_date_arg(opt, v, &m->as_of);
	} else if (strcmp(opt, "--period") == 0) {
		r = period_arg(v, &m->p_start, &m->p_end);
	} else if (strcmp(opt, "--by") == 0) {
		o->by = rpt_by_parse(v);
		if (o->by < 0) {
			fprintf(stderr, "crmscope: --by %s: give country, city, gender, age, tier, "
				"acq_channel or channel\n", v);
			r = -1;
		}
	} else if (strcmp(opt, "--groups") == 0) {
		int g;
		r = int_arg(opt, v, 0, 100000, &g);
		o->max_groups = (size_t)g;
	} else if (strcmp(opt, "--only") == 0) {
		o->only = v;
	} else if (strcmp(opt, "--out") == 0) {
		*out_path = v;
	} else if (strcmp(opt, "--window") == 0) {
		r = int_arg(opt, v, 1, 36500, &m->churn_window_days);
	} else if (strcmp(opt, "--no-second-days") == 0) {
		r = int_arg(opt, v, 0, 36500, &m->no_second_days);
	} else if (strcmp(opt, "--new-days") == 0) {
		r = int_arg(opt, v, 0, 36500, &m->new_days);
	} else if (strcmp(opt, "--growing-days") == 0) {
		r = int_arg(opt, v, 0, 36500, &m->growing_days);
	} else if (strcmp(opt, "--at-risk-factor") == 0) {
		r = double_arg(opt, v, &m->at_risk_factor);
	} else if (strcmp(opt, "--at-risk-days") == 0) {
		r = int_arg(opt, v, 0, 36500, &m->at_risk_one_order_days);
	} else if (strcmp(opt, "--spend-bands") == 0) {
		r = int_arg(opt, v, 1, 100, &m->spend_bands);
	} else if (strcmp(opt, "--sla-hours") == 0) {
		r = double_arg(opt, v, &m->sla_hours);
	} else if (strcmp(opt, "--cost-per-minute") == 0) {
		r = money_arg(opt, v, &m->cost_per_minute);
	} else if (strcmp(opt, "--cost-per-ticket") == 0) {
		r = money_arg(opt, v, &m->cost_per_ticket);
	} else if (strcmp(opt, "--session-minutes") == 0) {
		int min;
		r = int_arg(opt, v, 1, 1440, &min);
		m->session_timeout_s = min * 60;
	} else if (strcmp(opt, "--bounce") == 0) {
		if (strcmp(v, "matomo") == 0)
			m->bounce = MX_BOUNCE_MATOMO;
		else if (strcmp(v, "ga4") == 0)
			m->bounce = MX_BOUNCE_GA4;
		else if (strcmp(v, "posthog") == 0)
			m->bounce = MX_BOUNCE_POSTHOG;
		else {
			fprintf(stderr, "crmscope: --bounce %s: give matomo, ga4 or posthog\n", v);
			r = -1;
		}
	} else if (strcmp(opt, "--cohort") == 0) {
		if (strcmp(v, "classic") == 0)
			m->cohort = MX_COHORT_CLASSIC;
		else if (strcmp(v, "unbounded") == 0)
			m->cohort = MX_COHORT_UNBOUNDED;
		else {
			fprintf(stderr, "crmscope: --cohort %s: give classic or unbounded\n", v);
			r = -1;
		}
	} else if (strcmp(opt, "--activity-window") == 0) {
		r = int_arg(opt, v, 0, 36500, &m->activity_window_days);
	} else if (strcmp(opt, "--lexicon-dir") == 0) {
		m->lexicon_dir = v;
	} else if (strcmp(opt, "--language") == 0) {
		m->language = v;
	}
	return r < 0 ? -1 : 1;
}

/* Loads the dataset: one SQLite database, or files read straight in, each
 * file's entity from its name. */
static int load(const char **inputs, int n, const struct read_args *a,
		struct crm_dataset **ds, struct crm_err *err)
{
	if (n == 1 && is_sqlite(inputs[0]))
		return crm_dataset_load_db(inputs[0], ds, err);
	struct ds_file files[MAX_INPUTS];
	memset(files, 0, sizeof files);
	for (int i = 0; i < n; i++) {
		if (is_sqlite(inputs[i]))
			return crm_err_set(err, CRM_EINVAL,
					   "%s: a database is reported on alone, without other inputs",
					   inputs[i]);
		int e = entity_of(inputs[i], &files[i].path);
		if (e < 0)
			return crm_err_set(err, CRM_EINVAL,
					   "%s: which entity is it? Name the file after it "
					   "(orders*.csv ...) or write ENTITY=PATH", inputs[i]);
		files[i].ing = a->ing;
		files[i].ing.entity = e;
		files[i].ing.rejects_path = NULL;
		files[i].ing.fields = rpt_fields(e); /* what the families read */
	}
	return load_files(files, n, ds, err);
}

static void print_timings(double load_s, double report_s, double render_s,
			  const struct rpt_result *res)
{
	fprintf(stderr, "timings: wall s; peak resident MB of the process while it ran; MB above "
		"its resident size at its start\n");
	fprintf(stderr, "  %-14s %8.3f\n", "load", load_s);
	for (size_t i = 0; i < res->n_families; i++) {
		const struct rpt_timing *t = &res->t[i];
		double peak = t->peak >= 0 ? (double)t->peak / 1048576.0 : -1.0;
		double above = t->peak >= 0 && t->rss_before >= 0 ?
			(double)(t->peak - t->rss_before) / 1048576.0 : -1.0;
		fprintf(stderr, "  %-14s %8.3f %8.0f %8.0f\n", t->family, t->seconds, peak,
			above < 0 ? 0.0 : above);
	}
	fprintf(stderr, "  %-14s %8.3f\n", "families", report_s);
	fprintf(stderr, "  %-14s %8.3f\n", "render", render_s);
}

/* --with-summary: the per-customer purchase summary of `crmscope customers`
 * at the report's as-of date, as DIR/customer_summary.csv. */
static int write_summary(const struct crm_dataset *ds, const struct rpt_opts *o,
			 const char *dir, struct crm_err *err)
{
	struct crm_summary_opts so = { o->mx.as_of, CRM_NA, CRM_UNIT_DAY };
	char path[4096];
	FILE *f = NULL;
	int rc = CRM_OK;
	snprintf(path, sizeof path, "%s/customer_summary.csv", dir);
	if (!(f = fopen(path, "w"))) {
		rc = crm_err_set(err, CRM_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	rc = rpt_customers_csv(ds, NULL, &so, f, err);   /* the summary made as written */
done:
	if (f && fclose(f) != 0 && rc == CRM_OK)
		rc = crm_err_set(err, CRM_EIO, "%s: %s", path, strerror(errno));
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct read_args a;
	struct rpt_opts o;
	const char *inputs[MAX_INPUTS];
	const char *out_path = NULL;
	int n_in = 0, fmt = OUT_TEXT, timings = 0, summary = 0;
	read_args_init(&a);
	rpt_opts_default(&o);
	for (int i = 0; i < argc; i++) {
		int r = report_option(&o, &fmt, &out_path, &timings, &summary, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		r = read_option(&a, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "crmscope: report: unknown option %s\n", argv[i]);
			return usage(NULL);
		}
		if (n_in == MAX_INPUTS) {
			fprintf(stderr, "crmscope: report: at most %d inputs\n", MAX_INPUTS);
			return EXIT_USAGE;
		}
		inputs[n_in++] = argv[i];
	}
	if (n_in == 0)
		return usage("report needs DB or FILE...");
	if (fmt == OUT_CSV && !out_path)
		return usage("report --format csv needs --out DIR (a file per table goes there)");
	if (summary && fmt != OUT_CSV)
		return usage("report --with-summary goes with --format csv (a file in the folder)");
	o.source = n_in == 1 ? inputs[0] : "files";
	o.measure = timings;

	struct crm_err err;
	struct crm_dataset *ds = NULL;
	struct rp_doc *d = NULL;
	struct rpt_result res;
	FILE *out = stdout;
	int status = 1, rc;
	crm_err_clear(&err);
	double t0 = now_s();
	if (load(inputs, n_in, &a, &ds, &err) != CRM_OK)
		goto done;
	double t1 = now_s();
	if (!(d = rp_doc_new())) {
		crm_err_set(&err, CRM_ENOMEM, "report: out of memory");
		goto done;
	}
	if (rpt_report(ds, &o, d, &res, &err) != CRM_OK)
		goto done;
	double t2 = now_s();
	if (fmt == OUT_CSV) {
		rc = rp_render_csv(d, out_path, &err);
		if (rc == CRM_OK && summary)
			rc = write_summary(ds, &o, out_path, &err);
	} else {
		if (open_output(out_path, &out, &err) != CRM_OK)
			goto done;
		rc = fmt == OUT_JSON ? rp_render_json(d, out, &err) : rp_render_text(d, out, &err);
	}
	if (rc != CRM_OK)
		goto done;
	if (timings)
		print_timings(t1 - t0, t2 - t1, now_s() - t2, &res);
	status = 0;
done:
	status = close_output(out, out_path, status, &err);
	rp_doc_free(d);
	crm_dataset_free(ds);
	return status;
}
