/* report.c - runs the registered metric families over a dataset into one
 * report document (report layer): the choice of families, the breakdown
 * groups (customer masks or an order channel handed to the families in
 * struct mx_ctx), the document's parameters, and each family's time and
 * peak memory for the benchmark. */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/entity.h"
#include "core/err.h"
#include "core/tstamp.h"
#include "ingest/import.h"
#include "metrics/families.h"

static const char *const by_names[RPT_BY_N] = {
	"", "country", "city", "gender", "tier", "acq_channel", "age", "channel",
};

const char *rpt_by_name(int b)
{
	return b >= 0 && b < RPT_BY_N ? by_names[b] : "";
}

int rpt_by_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "acquisition_channel") == 0)
		return RPT_BY_ACQ_CHANNEL;
	if (strcmp(s, "age_band") == 0)
		return RPT_BY_AGE;
	if (strcmp(s, "order_channel") == 0)
		return RPT_BY_CHANNEL;
	for (int b = 1; b < RPT_BY_N; b++)
		if (strcmp(s, by_names[b]) == 0)
			return b;
	return -1;
}

int rpt_age_band(int64_t birth, int64_t as_of)
{
	if (birth == CRM_NA || as_of == CRM_NA || birth > as_of)
		return RPT_AGE_UNKNOWN;
	int64_t yb, ya;
	unsigned mb, db, ma, da;
	civil_from_days(ts_day(birth), &yb, &mb, &db);
	civil_from_days(ts_day(as_of), &ya, &ma, &da);
	/* whole years: one less when the birthday is still to come this year */
	int64_t age = ya - yb - ((ma < mb || (ma == mb && da < db)) ? 1 : 0);
	if (age < 25)
		return 1;
	if (age >= 65)
		return 6;
	return (int)((age - 25) / 10) + 2;
}

const char *rpt_age_band_name(int band)
{
	static const char *const names[RPT_AGE_N] = {
		"unknown", "<25", "25-34", "35-44", "45-54", "55-64", "65+",
	};
	return band >= 0 && band < RPT_AGE_N ? names[band] : "unknown";
}

uint32_t rpt_fields(int e)
{
	const struct ent_desc *d = ent_get(e);
	if (!d)
		return 0;
	uint32_t all = (uint32_t)((1ULL << d->n_fields) - 1), unread = 0;
	switch (e) {
	case CRM_CUSTOMERS:
		unread = ING_FIELD(CRM_C_NAME) | ING_FIELD(CRM_C_GIVEN_NAME) |
			 ING_FIELD(CRM_C_FAMILY_NAME) | ING_FIELD(CRM_C_EMAIL) | ING_FIELD(CRM_C_PHONE) |
			 ING_FIELD(CRM_C_ADDRESS) | ING_FIELD(CRM_C_POSTCODE);
		break;
	case CRM_ORDERS: unread = ING_FIELD(CRM_O_ORDER_ID); break;
	case CRM_INTERACTIONS: unread = ING_FIELD(CRM_I_INTERACTION_ID); break;
	case CRM_TICKETS: unread = ING_FIELD(CRM_T_TICKET_ID); break;
	case CRM_LEADS: unread = ING_FIELD(CRM_L_LEAD_ID); break;
	default: break;
	}
	return all & ~unread;
}

void rpt_opts_default(struct rpt_opts *o)
{
	memset(o, 0, sizeof *o);
	mx_opts_default(&o->mx);
	o->max_groups = 20;
}

/* ---------------------------------------------------------------- measuring */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Resident bytes now (Linux /proc/self/statm), or -1. */
static int64_t rss_now(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long long size, resident;
	int64_t r = -1;
	if (!f)
		return -1;
	if (fscanf(f, "%lld %lld", &size, &resident) == 2)
		r = (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
	fclose(f);
	return r;
}

/* Resets the process's peak resident size to the current one (Linux 4.0+:
 * writing 5 to clear_refs); 0, or -1 when it cannot. */
static int peak_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (!f)
		return -1;
	int bad = fputs("5", f) == EOF;
	bad |= fclose(f) != 0;
	return bad ? -1 : 0;
}

/* The peak resident bytes since the last reset (VmHWM), or -1. */
static int64_t peak_now(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int64_t r = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		long long kb;
		if (sscanf(line, "VmHWM: %lld kB", &kb) == 1) {
			r = (int64_t)kb * 1024;
			break;
		}
	}
	fclose(f);
	return r;
}

/* ------------------------------------------------------------------ groups */

struct group {
	char label[256];           /* "country=DE" */
	uint32_t key;              /* the attribute's code (or age band, or channel code) */
	size_t n;                  /* customers (orders for channels) */
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* The customers' field of a --by attribute. */
static int by_field(int by)
{
	switch (by) {
	case RPT_BY_COUNTRY: return CRM_C_COUNTRY;
	case RPT_BY_CITY: return CRM_C_CITY;
	case RPT_BY_GENDER: return CRM_C_GENDER;
	case RPT_BY_TIER: return CRM_C_TIER;
	case RPT_BY_ACQ_CHANNEL: return CRM_C_ACQ_CHANNEL;
	case RPT_BY_AGE: return CRM_C_BIRTH_DATE;
	default: return -1;
	}
}

/* The group key of customer c under a customer attribute. */
static uint32_t customer_key(const struct crm_dataset *ds, int by, int64_t as_of, size_t c)
{
	const struct crm_column *col = &ds->t[CRM_CUSTOMERS].col[by_field(by)];
	if (by == RPT_BY_AGE)
		return (uint32_t)rpt_age_band(col->kind == CRM_COL_I64 && col->i64 ? col->i64[c] : CRM_NA,
					      as_of);
	return col->kind == CRM_COL_CAT && col->cat ? col->cat[c] : 0;
}

/* Builds the groups of the breakdown: *out and *n; for a customer
 * attribute also *gid, each customer's group index (caller frees both).
 * Beyond max_groups (0: no limit) the smaller groups are one more,
 * "ATTRIBUTE=other"; order channels are never merged (a family counts one
 * channel code at a time). */
static int make_groups(const struct crm_dataset *ds, int by, int64_t as_of, size_t max_groups,
		       struct group **out, size_t *n, uint32_t **gid, struct crm_err *err)
{
	size_t n_keys, *count = NULL;
	uint32_t *key_group = NULL;
	const struct crm_column *col;
	int rc = CRM_OK;
	*out = NULL;
	*n = 0;
	*gid = NULL;
	if (by == RPT_BY_CHANNEL) {
		col = &ds->t[CRM_ORDERS].col[CRM_O_CHANNEL];
		n_keys = col->kind == CRM_COL_CAT && col->cat ? col->dict.n : 1;
	} else if (by == RPT_BY_AGE) {
		col = NULL;
		n_keys = RPT_AGE_N;
	} else {
		col = &ds->t[CRM_CUSTOMERS].col[by_field(by)];
		n_keys = col->kind == CRM_COL_CAT && col->cat ? col->dict.n : 1;
	}
	if (n_keys == 0)
		n_keys = 1;
	count = calloc(n_keys, sizeof *count);
	key_group = xmallocn(n_keys, sizeof *key_group);
	struct group *g = xmallocn(n_keys + 1, sizeof *g);
	if (!count || !key_group || !g)
		goto nomem;
	if (by == RPT_BY_CHANNEL) {
		const struct crm_table *o = &ds->t[CRM_ORDERS];
		for (size_t r = 0; n_keys > 1 && r < o->n; r++)
			count[col->cat[r]]++;
		count[0] = 0; /* orders without a channel: no group (0 means every channel) */
	} else {
		for (size_t c = 0; c < ds->n_customers; c++)
			count[customer_key(ds, by, as_of, c)]++;
	}
	for (size_t k = 0; k < n_keys; k++) {
		if (!count[k])
			continue;
		struct group *x = &g[(*n)++];
		const char *name;
		if (by == RPT_BY_AGE)
			name = rpt_age_band_name((int)k);
		else if (k == 0)
			name = "unknown";
		else
			name = strs_get(&col->dict, k, NULL);
		snprintf(x->label, sizeof x->label, "%s=%s", rpt_by_name(by), name);
		x->key = (uint32_t)k;
		x->n = count[k];
	}
	qsort(g, *n, sizeof *g, cmp_group);
	if (by != RPT_BY_CHANNEL) {
		for (size_t k = 0; k < n_keys; k++)
			key_group[k] = UINT32_MAX;
		size_t kept = max_groups && *n > max_groups ? max_groups : *n;
		for (size_t i = 0; i < *n; i++)
			key_group[g[i].key] = (uint32_t)(i < kept ? i : kept);
		if (kept < *n) {
			struct group *other = &g[kept];
			size_t rest = 0;
			for (size_t i = kept; i < *n; i++)
				rest += g[i].n;
			snprintf(other->label, sizeof other->label, "%s=other", rpt_by_name(by));
			other->key = UINT32_MAX;
			other->n = rest;
			*n = kept + 1;
		}
		if (!(*gid = xmallocn(ds->n_customers ? ds->n_customers : 1, sizeof **gid)))
			goto nomem;
		for (size_t c = 0; c < ds->n_customers; c++)
			(*gid)[c] = key_group[customer_key(ds, by, as_of, c)];
	}
	/* a value spelt like one of ours ("unknown", "other") gets a number */
	for (size_t i = 1; i < *n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(g[i].label, g[j].label) == 0) {
				size_t len = strlen(g[i].label);
				snprintf(g[i].label + len, sizeof g[i].label - len, " (%zu)", i + 1);
				break;
			}
	*out = g;
	g = NULL;
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "report: out of memory");
done:
	free(count);
	free(key_group);
	free(g);
	return rc;
}

/* ------------------------------------------------------------------ running */

/* Marks in sel[] (registry order) the families named in only. */
static int choose(const struct mx_family *fams, const char *only, uint8_t *sel, size_t n_fam,
		  struct crm_err *err)
{
	if (!only || !only[0]) {
		memset(sel, 1, n_fam);
		return CRM_OK;
	}
	memset(sel, 0, n_fam);
	if (strcmp(only, "none") == 0)
		return CRM_OK;
	const char *p = only;
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		char name[64];
		size_t len = (size_t)(e - p);
		snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
		const struct mx_family *f = NULL;
		for (size_t i = 0; i < n_fam && !f; i++)
			if (strcmp(fams[i].id, name) == 0)
				f = &fams[i];
		if (!f || len >= sizeof name) {
			char known[512] = "";
			size_t k = 0;
			for (size_t i = 0; i < n_fam; i++)
				k += (size_t)snprintf(known + k, k < sizeof known ? sizeof known - k : 0,
						      "%s%s", i ? ", " : "", fams[i].id);
			return crm_err_set(err, CRM_EINVAL, "--only: unknown family '%s' (families: %s)",
					   name, n_fam ? known : "none yet");
		}
		sel[f - fams] = 1;
		p = e;
	}
	return CRM_OK;
}

/* A time as the document shows it: the date alone at the start or the last
 * second of a day, else the date and time. */
static void time_text(int64_t t, char *out)
{
	int64_t s = t - ts_day(t) * SECS_PER_DAY;
	ts_format(t, s == 0 || s == SECS_PER_DAY - 1, out);
}

static void doc_params(struct rp_doc *d, const struct rpt_opts *o, const struct mx_ctx *ctx,
		       const struct mx_family *fams, const uint8_t *sel, size_t n_groups)
{
	char a[32], b[32], line[512];
	static const char *const bounce[] = { "matomo", "ga4", "posthog" };
	static const char *const cohort[] = { "classic", "unbounded" };
	if (o->source)
		rp_doc_param(d, "source", o->source);
	time_text(ctx->o.as_of, a);
	rp_doc_param(d, "as-of", a);
	time_text(ctx->o.p_start, a);
	/* P is [start, end): the last day in it is the day of end - 1 s */
	time_text(ctx->o.p_end - 1, b);
	snprintf(line, sizeof line, "%s..%s", a, b);
	rp_doc_param(d, "period", line);
	snprintf(line, sizeof line, "%d days", ctx->o.churn_window_days);
	rp_doc_param(d, "churn window", line);
	rp_doc_param(d, "bounce definition", bounce[ctx->o.bounce]);
	rp_doc_param(d, "cohort definition", cohort[ctx->o.cohort]);
	size_t k = 0;
	line[0] = '\0';
	for (size_t i = 0; fams[i].id; i++)
		if (sel[i])
			k += (size_t)snprintf(line + k, k < sizeof line ? sizeof line - k : 0, "%s%s",
					      k ? ", " : "", fams[i].id);
	rp_doc_param(d, "families", k ? line : "none");
	if (o->by != RPT_BY_NONE) {
		snprintf(line, sizeof line, "%s (%zu group%s)", rpt_by_name(o->by), n_groups,
			 n_groups == 1 ? "" : "s");
		rp_doc_param(d, "breakdown", line);
	}
}

int rpt_report(const struct crm_dataset *ds, const struct rpt_opts *o,
	       struct rp_doc *d, struct rpt_result *res, struct crm_err *err)
{
	return rpt_report_families(ds, o, mx_families, d, res, err);
}

int rpt_report_families(const struct crm_dataset *ds, const struct rpt_opts *o,
			const struct mx_family *fams, struct rp_doc *d,
			struct rpt_result *res, struct crm_err *err)
{
	struct mx_ctx ctx;
	struct group *groups = NULL;
	uint32_t *gid = NULL;
	size_t n_groups = 0;
	uint8_t *mask = NULL, sel[RPT_MAX_FAMILIES];
	size_t n_fam = 0;
	struct rpt_result local;
	int rc;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	while (fams[n_fam].id && n_fam <= RPT_MAX_FAMILIES)
		n_fam++;
	if (n_fam > RPT_MAX_FAMILIES)
		return crm_err_set(err, CRM_EINVAL, "report: more than %d families registered",
				   RPT_MAX_FAMILIES);
	if (o->by < RPT_BY_NONE || o->by >= RPT_BY_N)
		return crm_err_set(err, CRM_EINVAL, "--by: unknown breakdown %d", o->by);
	if ((rc = choose(fams, o->only, sel, n_fam, err)) != CRM_OK)
		return rc;
	if ((rc = mx_ctx_init(&ctx, ds, &o->mx, err)) != CRM_OK)
		return rc;
	if (o->by != RPT_BY_NONE) {
		if ((rc = make_groups(ds, o->by, ctx.o.as_of, o->max_groups, &groups, &n_groups,
				      &gid, err)) != CRM_OK)
			goto done;
		if (o->by != RPT_BY_CHANNEL && !(mask = calloc(ds->n_customers ? ds->n_customers : 1, 1))) {
			rc = crm_err_set(err, CRM_ENOMEM, "report: out of memory");
			goto done;
		}
	}
	res->n_groups = n_groups;
	doc_params(d, o, &ctx, fams, sel, n_groups);
	for (size_t i = 0; i < n_fam; i++) {
		if (!sel[i])
			continue;
		const struct mx_family *f = &fams[i];
		struct rpt_timing *tm = &res->t[res->n_families++];
		tm->family = f->id;
		tm->peak = -1;
		if (o->measure) {
			tm->rss_before = rss_now();
			if (peak_reset() != 0)
				tm->peak = -2; /* cannot reset: report the process peak below */
		}
		double t0 = now_s();
		struct mx_ctx c = ctx;
		for (size_t g = 0; g <= n_groups; g++) {
			if (g > 0) {
				const struct group *gr = &groups[g - 1];
				c.group = gr->label;
				if (o->by == RPT_BY_CHANNEL) {
					c.order_channel = gr->key;
				} else {
					for (size_t k = 0; k < ds->n_customers; k++)
						mask[k] = gid[k] == g - 1;
					c.in = mask;
				}
			}
			rc = f->report(&c, d, err);
			if (rc == CRM_OK)
				rc = rp_doc_status(d, err);
			if (rc != CRM_OK) {
				char msg[CRM_ERR_MSG];
				snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
				crm_err_set(err, rc, "report: %s%s%s: %s", f->id, c.group ? " " : "",
					    c.group ? c.group : "", msg);
				goto done;
			}
		}
		tm->seconds = now_s() - t0;
		if (o->measure) {
			if (tm->peak == -2) {
				struct rusage ru;
				tm->peak = getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss * 1024 : -1;
			} else {
				tm->peak = peak_now();
			}
		}
	}
	rc = rp_doc_status(d, err);
done:
	free(groups);
	free(gid);
	free(mask);
	return rc;
}
