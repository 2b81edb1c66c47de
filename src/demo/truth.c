/* truth.c - truth.json: the true parameters of the demo business and the
 * faults planted in it, so that tests can check what the analyses recover
 * and what cleaning finds (demo layer). docs/DEMO.md lists the fields. */
#include "demo/demo_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/entity.h"
#include "core/err.h"
#include "core/tstamp.h"

static const char *const variation_names[DV_N] = {
	"email_case", "email_typo", "phone_format", "name_swap", "missing_email",
	"missing_phone", "missing_address", "missing_birth_date", "accent_dropped",
	"transliterated"
};

static json_t *reals(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static json_t *channels_json(const struct demo_world *w)
{
	size_t customers[DC_N] = { 0 }, buyers[DC_N] = { 0 };
	for (size_t i = 0; i < w->n_persons; i++) {
		customers[w->persons[i].channel]++;
		buyers[w->persons[i].channel] += w->persons[i].first_at != INT64_MIN;
	}
	json_t *o = json_object();
	for (int c = 0; c < DC_N; c++) {
		const struct demo_channel_params *p = &demo_channels[c];
		json_t *camp = json_array();
		for (size_t k = 0; k < p->n_campaigns; k++)
			json_array_append_new(camp, json_string(p->campaigns[k]));
		json_object_set_new(o, p->name, json_pack(
			"{s:f, s:{s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f}, s:f, s:f, s:I, s:I, s:o}",
			"share", p->share,
			"bgnbd", "r", p->r, "alpha", p->alpha, "a", p->a, "b", p->b,
			"gamma_gamma", "p", p->p, "q", p->q, "gamma", p->gamma,
			"mean_order_value", p->p * p->gamma / (p->q - 1.0),
			"cac", p->cac,
			"customers", (json_int_t)customers[c],
			"buyers", (json_int_t)buyers[c],
			"campaigns", camp));
	}
	return o;
}

static json_t *purchases_json(const struct demo_world *w)
{
	size_t n_status[4] = { 0 };
	for (size_t k = 0; k < w->n_orders; k++)
		n_status[w->orders[k].status]++;
	return json_pack(
		"{s:s, s:f, s:s, s:f, s:f, s:{s:o, s:o, s:s}, s:{s:f, s:f, s:s}, s:I, s:I, s:I, s:I, s:I, s:I}",
		"model", "BG/NBD (Fader, Hardie & Lee 2005) for completed orders: the first order at "
			 "time 0, then Poisson(lambda * multiplier(t)) purchases while alive, dropout "
			 "with probability p after each repeat purchase; lambda ~ Gamma(r, alpha) per "
			 "day, p ~ Beta(a, b). Order value ~ Gamma(p, nu), nu ~ Gamma(q, gamma) "
			 "(Gamma-Gamma, rate parametrisation), rounded to cents",
		"never_buy_share", 0.08,
		"first_order_delay", "after signup_at: with probability 0.5 uniform 2-30 minutes, "
				     "else exponential with mean 5 days; none if after as_of",
		"returned_per_purchase", 0.04,
		"cancelled_per_purchase", 0.015,
		"seasonality",
		"month_multiplier", reals(w->month_mult, 12),
		"hour_multiplier", reals(w->hour_mult, 24),
		"note", "the purchase rate at time t is lambda * month_multiplier[month] * "
			"hour_multiplier[hour UTC]; month multipliers have a day-weighted mean of 1 "
			"over a common year and hour multipliers a mean of 1, so any 365-day window "
			"holds lambda * 365 expected purchases of a live customer",
		"tiers", "silver_from", 300.0, "gold_from", 1000.0,
		"basis", "sum of the record's completed order amounts up to as_of",
		"persons", (json_int_t)w->n_persons,
		"buyers", (json_int_t)w->n_buyers,
		"alive_at_as_of", (json_int_t)w->n_alive,
		"completed_orders", (json_int_t)n_status[OS_COMPLETED],
		"returned_orders", (json_int_t)n_status[OS_RETURNED],
		"cancelled_orders", (json_int_t)n_status[OS_CANCELLED]);
}

static json_t *duplicates_json(const struct demo_world *w)
{
	json_t *list = json_array();
	json_t **moved = calloc(w->n_recs ? w->n_recs : 1, sizeof *moved);
	char a[16], b[16], oid[32];
	if (!moved)
		return NULL;
	for (size_t k = 0; k < w->n_recs; k++)
		if (w->recs[k].dup_of != UINT32_MAX)
			moved[k] = json_array();
	for (size_t k = 0; k < w->n_orders; k++)
		if (w->orders[k].moved) {
			snprintf(oid, sizeof oid, "O%07zu", k + 1);
			json_array_append_new(moved[w->orders[k].rec], json_string(oid));
		}
	/* in the order of the duplicates' ids */
	for (size_t r = 0; r < w->n_recs; r++) {
		uint32_t k = w->rec_rank[r];
		const struct demo_cust *c = &w->recs[k];
		if (c->dup_of == UINT32_MAX)
			continue;
		json_t *vars = json_array();
		for (int v = 0; v < DV_N; v++)
			if (c->variations & (1u << v))
				json_array_append_new(vars, json_string(variation_names[v]));
		demo_cust_id(w, c->dup_of, a);
		demo_cust_id(w, k, b);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o}", "original", a,
						      "duplicate", b, "variations", vars,
						      "moved_orders", moved[k]));
		moved[k] = NULL;
	}
	free(moved);
	return list;
}

static json_t *bad_rows_json(const struct demo_world *w)
{
	json_t *o = json_object();
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct ent_desc *d = ent_get(e);
		char name[64];
		json_t *list = json_array();
		for (size_t k = 0; k < w->bad[e].n; k++) {
			const struct demo_bad *x = &w->bad[e].v[k];
			json_array_append_new(list, json_pack(
				"{s:I, s:s, s:s, s:s, s:s}", "line", (json_int_t)x->line,
				"field", d->fields[x->fault->field].name, "reason", x->fault->reason,
				"value", x->value, "why", x->fault->why));
		}
		snprintf(name, sizeof name, "%s.csv", d->name);
		json_object_set_new(o, name, list);
	}
	return o;
}

int demo_write_truth(const struct demo_world *w, struct crm_err *err)
{
	char path[1024], as_of[32], start[32], end[32];
	int rc = CRM_OK;
	FILE *f = NULL;
	json_t *files = json_object(), *countries = json_object();
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		char name[64];
		snprintf(name, sizeof name, "%s.csv", ent_get(e)->name);
		json_object_set_new(files, name, json_integer((json_int_t)w->rows[e]));
	}
	for (size_t c = 0; c < demo_n_countries(); c++)
		json_object_set_new(countries, demo_country_code((int)c),
				    json_real(demo_country_share((int)c)));
	demo_fmt_time(w->start, 1, start);
	demo_fmt_time(w->end - SECS_PER_DAY, 1, as_of);
	demo_fmt_time(w->end, 0, end);
	json_t *root = json_pack(
		"{s:s, s:i, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}",
		"generator", "crmscope demo",
		"format_version", 1,
		"seed", (json_int_t)w->seed,
		"customers", (json_int_t)w->n_persons,
		"start", start,
		"as_of", as_of,
		"end_exclusive", end,
		"currency", "EUR",
		"time_unit", "days",
		"rows", files,
		"countries", countries,
		"channels", channels_json(w),
		"purchases", purchases_json(w),
		"duplicates", duplicates_json(w),
		"duplicates_planted", (json_int_t)w->n_duplicates,
		"bad_rows", bad_rows_json(w),
		"activity", demo_activity_truth(w));
	if (!root) {
		rc = crm_err_set(err, CRM_ENOMEM, "demo: out of memory building truth.json");
		goto done;
	}
	snprintf(path, sizeof path, "%s/truth.json", w->dir);
	f = fopen(path, "wb");
	if (!f) {
		rc = crm_err_set(err, CRM_EIO, "%s: cannot create: %s", path, strerror(errno));
		goto done;
	}
	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) != 0 ||
	    fputc('\n', f) == EOF) {
		rc = crm_err_set(err, CRM_EIO, "%s: write failed", path);
		goto done;
	}
done:
	if (f && fclose(f) != 0 && rc == CRM_OK)
		rc = crm_err_set(err, CRM_EIO, "%s: write failed: %s", path, strerror(errno));
	json_decref(root);
	return rc;
}
