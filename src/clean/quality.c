/* quality.c - the data-quality report (clean layer). One pass per entity
 * over the dataset's columns; the rules and the score are in docs/CLEAN.md. */
#include "clean/quality.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/entity.h"
#include "core/err.h"
#include "core/tstamp.h"
#include "metrics/mx.h"
#include "report/doc.h"
#include "store/merge.h"
#include "store/store.h"

struct check_desc {
	const char *id, *label;
	int entity;
};

static const struct check_desc checks[CL_N_CHECKS] = {
	{ "future", "dated after the as-of date", -1 },
	{ "orders_before_signup", "orders before their customer's signup day", CRM_ORDERS },
	{ "orders_of_stubs", "orders of customers with no customers row (stubs)", CRM_ORDERS },
	{ "negative_not_return", "negative amounts not marked as returns", CRM_ORDERS },
	{ "order_outliers", "completed orders above median + 10 MAD (flagged, kept)", CRM_ORDERS },
	{ "birth_date_range", "birth dates after the as-of date or over 120 years before", CRM_CUSTOMERS },
	{ "signup_future", "signups after the as-of date", CRM_CUSTOMERS },
	{ "order_cost_range", "order costs below zero or over 10 x the amount", CRM_ORDERS },
	{ "order_items_range", "completed orders with fewer than 1 item", CRM_ORDERS },
	{ "spend_negative", "marketing spend below zero", CRM_SPEND },
	{ "long_handling", "tickets handled, or interactions lasting, over 24 hours", -1 },
};

const char *cl_check_id(int c) { return c >= 0 && c < CL_N_CHECKS ? checks[c].id : "?"; }
const char *cl_check_label(int c) { return c >= 0 && c < CL_N_CHECKS ? checks[c].label : "?"; }
int cl_check_entity(int c) { return c >= 0 && c < CL_N_CHECKS ? checks[c].entity : -1; }

#define YEARS_120 ((int64_t)(120 * 36525 / 100) * SECS_PER_DAY)

/* The median of v[0..n) as the mean of the two middle values for even n
 * (rounded down to a ten-thousandth), reordering v. */
static int64_t median_i64(int64_t *v, size_t n)
{
	int64_t hi = mx_select_i64(v, n, n / 2);
	if (n % 2)
		return hi;
	int64_t lo = mx_select_i64(v, n / 2, n / 2 - 1); /* v[0..n/2) holds the smaller half */
	return lo + (hi - lo) / 2;
}

static int row_counts(const uint8_t *in, const struct crm_table *t, size_t r)
{
	return !in || (t->customer && t->customer[r] != CRM_NO_CUSTOMER && in[t->customer[r]]);
}

static int64_t i64_at(const struct crm_column *c, size_t r)
{
	return c->kind == CRM_COL_I64 ? c->i64[r] : CRM_NA;
}

static int cell_missing(const struct crm_column *c, size_t r)
{
	switch (c->kind) {
	case CRM_COL_I64: return c->i64[r] == CRM_NA;
	case CRM_COL_CAT: return c->cat[r] == 0;
	case CRM_COL_STR: return c->str.off[r + 1] - c->str.off[r] <= 1;
	default: return 0;
	}
}

/* Missing cells per field, and the completeness of the optional fields
 * that hold a value somewhere (a field never filled was not collected and
 * is not held against the entity). Stub customers have no record and are
 * left out of the customers' counts. */
static void count_missing(const struct crm_dataset *ds, int e, const uint8_t *in,
			  struct cl_entity_quality *eq)
{
	const struct crm_table *t = &ds->t[e];
	const struct ent_desc *d = ent_get(e);
	size_t n = e == CRM_CUSTOMERS ? ds->n_customers : t->n;
	int64_t rows = 0;
	for (size_t r = 0; r < n; r++) {
		if (e == CRM_CUSTOMERS ? (ds->is_stub && ds->is_stub[r]) || (in && !in[r])
				       : !row_counts(in, t, r))
			continue;
		rows++;
	}
	eq->rows = rows;
	double filled = 0, cells = 0;
	eq->collected_fields = 0;
	for (size_t f = 0; f < d->n_fields; f++) {
		const struct crm_column *c = &t->col[f];
		if (c->kind == CRM_COL_NONE || (int)f == d->customer_field) {
			eq->missing[f] = -1;
			continue;
		}
		int64_t miss = 0;
		for (size_t r = 0; r < n; r++) {
			if (e == CRM_CUSTOMERS ? (ds->is_stub && ds->is_stub[r]) || (in && !in[r])
					       : !row_counts(in, t, r))
				continue;
			miss += cell_missing(c, r);
		}
		eq->missing[f] = miss;
		if (!d->fields[f].required && miss < rows) {
			eq->collected_fields++;
			filled += (double)(rows - miss);
			cells += (double)rows;
		}
	}
	for (size_t f = d->n_fields; f < CRM_MAX_FIELDS; f++)
		eq->missing[f] = -1;
	eq->completeness = cells > 0 ? filled / cells : (rows > 0 ? 1.0 : NAN);
}

/* Marks row r of entity e failing check c. */
static void flag(struct cl_quality *q, uint8_t *bad, size_t r, int c)
{
	q->check[c]++;
	bad[r] = 1;
}

static void keep_top(struct cl_quality *q, size_t row, int64_t amount)
{
	size_t i = q->n_top < CL_TOP_OUTLIERS ? q->n_top++ : CL_TOP_OUTLIERS;
	if (i == CL_TOP_OUTLIERS) {
		if (amount <= q->top[CL_TOP_OUTLIERS - 1].amount)
			return;
		i = CL_TOP_OUTLIERS - 1;
	}
	while (i > 0 && q->top[i - 1].amount < amount) {
		q->top[i] = q->top[i - 1];
		i--;
	}
	q->top[i] = (struct cl_outlier){ row, amount };
}

/* Median and MAD of the completed orders' amounts that count. */
static int order_spread(const struct crm_dataset *ds, const uint8_t *in, struct cl_quality *q,
			struct crm_err *err)
{
	const struct crm_table *o = &ds->t[CRM_ORDERS];
	q->median_amount = q->mad = q->outlier_threshold = CRM_NA;
	if (o->n == 0 || o->col[CRM_O_AMOUNT].kind != CRM_COL_I64)
		return CRM_OK;
	int64_t *v = xmallocn(o->n, sizeof *v);
	if (!v)
		return crm_err_set(err, CRM_ENOMEM, "out of memory checking order amounts");
	size_t n = 0;
	for (size_t r = 0; r < o->n; r++)
		if (row_counts(in, o, r) && mx_order_kind(o, r) == MX_COMPLETED)
			v[n++] = o->col[CRM_O_AMOUNT].i64[r];
	if (n > 0) {
		int64_t med = median_i64(v, n);
		for (size_t i = 0; i < n; i++)
			v[i] = v[i] > med ? v[i] - med : med - v[i];
		int64_t mad = median_i64(v, n);
		q->median_amount = med;
		q->mad = mad;
		/* with a MAD of 0 (most amounts equal) no threshold is robust */
		if (mad > 0)
			q->outlier_threshold = med + (int64_t)CL_OUTLIER_K * mad;
	}
	free(v);
	return CRM_OK;
}

static void check_rows(const struct crm_dataset *ds, const uint8_t *in, struct cl_quality *q,
		       uint8_t *bad, int e)
{
	const struct crm_table *t = &ds->t[e];
	const struct ent_desc *d = ent_get(e);
	int64_t a = q->as_of;
	if (e == CRM_CUSTOMERS) {
		const struct crm_column *b = &t->col[CRM_C_BIRTH_DATE], *s = &t->col[CRM_C_SIGNUP_AT];
		for (size_t r = 0; r < ds->n_customers; r++) {
			if ((ds->is_stub && ds->is_stub[r]) || (in && !in[r]))
				continue;
			int64_t bd = i64_at(b, r), su = i64_at(s, r);
			if (bd != CRM_NA && (bd > a || bd < a - YEARS_120))
				flag(q, bad, r, CL_BIRTH_RANGE);
			if (su != CRM_NA && su > a)
				flag(q, bad, r, CL_SIGNUP_FUTURE);
		}
		return;
	}
	const struct crm_column *tc = d->time_field >= 0 ? &t->col[d->time_field] : NULL;
	const struct crm_column *signup = &ds->t[CRM_CUSTOMERS].col[CRM_C_SIGNUP_AT];
	for (size_t r = 0; r < t->n; r++) {
		if (!row_counts(in, t, r))
			continue;
		int64_t when = tc ? i64_at(tc, r) : CRM_NA;
		if (when != CRM_NA && when > a)
			flag(q, bad, r, CL_FUTURE);
		uint32_t c = t->customer ? t->customer[r] : CRM_NO_CUSTOMER;
		switch (e) {
		case CRM_ORDERS: {
			int64_t amount = i64_at(&t->col[CRM_O_AMOUNT], r);
			int64_t su = c != CRM_NO_CUSTOMER ? i64_at(signup, c) : CRM_NA;
			if (su != CRM_NA && when != CRM_NA &&
			    ts_day(when) < ts_day(su))
				flag(q, bad, r, CL_BEFORE_SIGNUP);
			if (q->described && c != CRM_NO_CUSTOMER && ds->is_stub && ds->is_stub[c])
				flag(q, bad, r, CL_STUB_ORDER);
			const struct crm_column *st = &t->col[CRM_O_STATUS];
			uint32_t s = st->kind == CRM_COL_CAT ? st->cat[r] : CRM_STATUS_NA;
			if (amount != CRM_NA && amount < 0 && s != CRM_STATUS_RETURNED &&
			    s != CRM_STATUS_CANCELLED)
				flag(q, bad, r, CL_NEG_NOT_RETURN);
			int completed = amount != CRM_NA && mx_order_kind(t, r) == MX_COMPLETED;
			if (completed && q->outlier_threshold != CRM_NA && amount > q->outlier_threshold) {
				flag(q, bad, r, CL_OUTLIER);
				keep_top(q, r, amount);
			}
			int64_t cost = i64_at(&t->col[CRM_O_COST], r);
			if (cost != CRM_NA && amount != CRM_NA &&
			    (cost < 0 || (amount > 0 && cost / 10 > amount)))
				flag(q, bad, r, CL_COST_RANGE);
			int64_t items = i64_at(&t->col[CRM_O_ITEMS], r);
			if (completed && items != CRM_NA && items < 1)
				flag(q, bad, r, CL_ITEMS_RANGE);
			break;
		}
		case CRM_SPEND: {
			int64_t amount = i64_at(&t->col[CRM_S_AMOUNT], r);
			if (amount != CRM_NA && amount < 0)
				flag(q, bad, r, CL_SPEND_NEGATIVE);
			break;
		}
		case CRM_TICKETS: {
			/* a decimal: ten-thousandths of a minute */
			int64_t m = i64_at(&t->col[CRM_T_HANDLING_MINUTES], r);
			if (m != CRM_NA && m > (int64_t)24 * 60 * 10000)
				flag(q, bad, r, CL_LONG_HANDLING);
			break;
		}
		case CRM_INTERACTIONS: {
			int64_t s = i64_at(&t->col[CRM_I_DURATION_S], r);
			if (s != CRM_NA && s > SECS_PER_DAY)
				flag(q, bad, r, CL_LONG_HANDLING);
			break;
		}
		default:
			break;
		}
	}
}

/* The score: 100 x the weighted mean of acceptance (0.4), completeness
 * (0.3) and consistency (0.3); without a rejects history the other two
 * weigh 0.5 each. */
static void score(struct cl_entity_quality *eq)
{
	if (eq->rows == 0) {
		eq->acceptance = eq->rejected > 0 ? 0.0 : NAN;
		eq->consistency = NAN;
		eq->score = eq->rejected > 0 ? 0.0 : NAN;
		return;
	}
	eq->consistency = 1.0 - (double)eq->flagged / (double)eq->rows;
	double c = isnan(eq->completeness) ? 1.0 : eq->completeness;
	if (eq->rejected == CRM_NA) {
		eq->acceptance = NAN;
		eq->score = 100.0 * (0.5 * c + 0.5 * eq->consistency);
	} else {
		/* in the imports' own units (lines for order lines) */
		eq->acceptance = eq->read > 0 ? 1.0 - (double)eq->rejected / (double)eq->read
			       : (double)eq->rows / (double)(eq->rows + eq->rejected);
		eq->score = 100.0 * (0.4 * eq->acceptance + 0.3 * c + 0.3 * eq->consistency);
	}
}

static int compute(const struct crm_dataset *ds, int64_t as_of, const uint8_t *in,
		   struct cl_quality *q, struct crm_err *err)
{
	memset(q, 0, sizeof *q);
	q->as_of = as_of != CRM_NA ? as_of : ds->last_at;
	q->pending_pairs = q->merges = CRM_NA;
	int rc = order_spread(ds, in, q, err);
	if (rc != CRM_OK)
		return rc;
	size_t most = ds->n_customers;
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		if (ds->t[e].n > most)
			most = ds->t[e].n;
	uint8_t *bad = calloc(most ? most : 1, 1);
	if (!bad)
		return crm_err_set(err, CRM_ENOMEM, "out of memory checking rows");
	for (size_t c = 0; c < ds->n_customers; c++) {
		if (ds->is_stub && ds->is_stub[c] && (!in || in[c]))
			q->stub_customers++;
		q->described |= !ds->is_stub || !ds->is_stub[c];
	}
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		struct cl_entity_quality *eq = &q->e[e];
		eq->rejected = eq->read = CRM_NA;
		count_missing(ds, e, in, eq);
		size_t n = e == CRM_CUSTOMERS ? ds->n_customers : ds->t[e].n;
		memset(bad, 0, n);
		if (q->as_of != CRM_NA)
			check_rows(ds, in, q, bad, e);
		for (size_t r = 0; r < n; r++)
			eq->flagged += bad[r];
		score(eq);
	}
	free(bad);
	return CRM_OK;
}

int cl_quality_compute(const struct crm_dataset *ds, int64_t as_of, struct cl_quality *q,
		       struct crm_err *err)
{
	return compute(ds, as_of, NULL, q, err);
}

int cl_quality_from_db(const char *db_path, int64_t as_of, struct cl_quality *q,
		       struct crm_dataset **ds_out, struct crm_err *err)
{
	struct crm_dataset *ds = NULL;
	struct st_db *db = NULL;
	struct st_merge_info *merges = NULL;
	size_t n_merges = 0;
	int rc = crm_dataset_load_db(db_path, &ds, err);
	if (rc != CRM_OK)
		goto done;
	if ((rc = compute(ds, as_of, NULL, q, err)) != CRM_OK)
		goto done;
	if ((rc = st_open(db_path, ST_OPEN_READ, &db, err)) != CRM_OK)
		goto done;
	struct st_stats *s = malloc(sizeof *s);
	if (!s) {
		rc = crm_err_set(err, CRM_ENOMEM, "out of memory reading %s", db_path);
		goto done;
	}
	rc = st_stats(db, s, err);
	if (rc == CRM_OK) {
		for (int e = 0; e < CRM_N_ENTITIES; e++) {
			q->e[e].rejected = s->e[e].rejected;
			q->e[e].read = s->e[e].read;
			score(&q->e[e]);
		}
		q->n_reasons = s->n_reasons < CL_MAX_REASONS ? s->n_reasons : CL_MAX_REASONS;
		for (size_t i = 0; i < q->n_reasons; i++) {
			memcpy(q->reason[i], s->reason[i], sizeof q->reason[i]);
			q->reason_n[i] = s->reason_n[i];
		}
	}
	free(s);
	if (rc != CRM_OK)
		goto done;
	int64_t mark = 0, pending = 0;
	if ((rc = st_dedupe_state_get(db, &mark, &pending, err)) != CRM_OK)
		goto done;
	q->pending_pairs = mark > 0 ? pending : CRM_NA;
	if ((rc = st_merge_list(db, &merges, &n_merges, err)) != CRM_OK)
		goto done;
	q->merges = 0;
	for (size_t i = 0; i < n_merges; i++)
		q->merges += !merges[i].undone;
	if (ds_out) {
		*ds_out = ds;
		ds = NULL;
	}
done:
	free(merges);
	st_close(db);
	crm_dataset_free(ds);
	return rc;
}

/* ------------------------------------------------------------------ emit */

static double pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : NAN;
}

static double count_or_nan(int64_t v)
{
	return v == CRM_NA ? NAN : (double)v;
}

void cl_quality_emit(const struct cl_quality *q, const struct crm_dataset *ds,
		     const char *group, struct rp_doc *d)
{
	struct rp_section *s = rp_section_new(d, "quality", group, "Data quality");
	char date[32];
	if (q->as_of != CRM_NA) {
		ts_format(q->as_of, 1, date);
		rp_param(s, "as_of", date);
	}
	if (!q->described)
		rp_note(s, "no customers were imported: orders of stub customers are not held against"
			   " the orders (data of orders alone, as CDNOW's)");
	rp_note(s, "score per entity = 100 x (0.4 acceptance + 0.3 completeness + 0.3 consistency);"
		   " acceptance = 1 - rejected / read by the imports, completeness = filled share of the"
		   " optional fields collected, consistency = 1 - flagged rows / rows; without a"
		   " rejects history: 0.5 completeness + 0.5 consistency");

	static const struct rp_col ecols[] = {
		{ "entity", RP_TEXT }, { "rows", RP_COUNT }, { "rejected", RP_COUNT },
		{ "flagged", RP_COUNT }, { "acceptance", RP_PERCENT },
		{ "completeness", RP_PERCENT }, { "consistency", RP_PERCENT }, { "score", RP_SCORE },
	};
	struct rp_table *t = rp_table_new(s, "entities", "Quality score per entity", ecols,
					  sizeof ecols / sizeof ecols[0]);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct cl_entity_quality *eq = &q->e[e];
		rp_row(t);
		rp_cell_str(t, ent_get(e)->name);
		rp_cell_num(t, (double)eq->rows);
		rp_cell_num(t, count_or_nan(eq->rejected));
		rp_cell_num(t, (double)eq->flagged);
		rp_cell_num(t, 100.0 * eq->acceptance);
		rp_cell_num(t, 100.0 * eq->completeness);
		rp_cell_num(t, 100.0 * eq->consistency);
		rp_cell_num(t, eq->score);
	}
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		char id[48], label[64];
		snprintf(id, sizeof id, "score_%s", ent_get(e)->name);
		snprintf(label, sizeof label, "quality score of %s", ent_get(e)->name);
		rp_value(s, id, label, RP_SCORE, q->e[e].score);
	}

	int64_t rejected = 0;
	for (size_t i = 0; i < q->n_reasons; i++)
		rejected += q->reason_n[i];
	static const struct rp_col rcols[] = { { "reason", RP_TEXT }, { "rows", RP_COUNT } };
	if (q->e[0].rejected == CRM_NA) {
		rp_value(s, "rejected", "rows rejected by imports so far", RP_COUNT, NAN);
	} else {
		rp_value(s, "rejected", "rows rejected by imports so far", RP_COUNT, (double)rejected);
		t = rp_table_new(s, "rejects", "Rows rejected so far, by reason", rcols, 2);
		for (size_t i = 0; i < q->n_reasons; i++) {
			rp_row(t);
			rp_cell_str(t, q->reason[i]);
			rp_cell_num(t, (double)q->reason_n[i]);
		}
	}

	static const struct rp_col mcols[] = {
		{ "entity", RP_TEXT }, { "field", RP_TEXT }, { "missing", RP_COUNT },
		{ "share", RP_PERCENT },
	};
	t = rp_table_new(s, "missing", "Missing values per field (fields with any)", mcols, 4);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct ent_desc *ed = ent_get(e);
		for (size_t f = 0; f < ed->n_fields; f++) {
			int64_t m = q->e[e].missing[f];
			if (m <= 0)
				continue;
			rp_row(t);
			rp_cell_str(t, ed->name);
			rp_cell_str(t, ed->fields[f].name);
			rp_cell_num(t, (double)m);
			rp_cell_num(t, pct(m, q->e[e].rows));
		}
	}

	static const struct rp_col ccols[] = {
		{ "check", RP_TEXT }, { "entity", RP_TEXT }, { "rows", RP_COUNT },
		{ "share", RP_PERCENT }, { "what", RP_TEXT },
	};
	t = rp_table_new(s, "checks", "Values out of range and inconsistencies", ccols, 5);
	for (int c = 0; c < CL_N_CHECKS; c++) {
		int e = checks[c].entity;
		int64_t whole = 0;
		if (e >= 0) {
			whole = q->e[e].rows;
		} else {
			for (int k = 0; k < CRM_N_ENTITIES; k++)
				whole += k == CRM_CUSTOMERS ? 0 : q->e[k].rows;
		}
		rp_row(t);
		rp_cell_str(t, checks[c].id);
		rp_cell_str(t, e >= 0 ? ent_get(e)->name : "all");
		rp_cell_num(t, (double)q->check[c]);
		rp_cell_num(t, pct(q->check[c], whole));
		rp_cell_str(t, checks[c].label);
		rp_value(s, checks[c].id, checks[c].label, RP_COUNT,
			 q->as_of == CRM_NA ? NAN : (double)q->check[c]);
	}
	rp_value(s, "stub_customers", "stub customers (referred to, never imported)", RP_COUNT,
		 (double)q->stub_customers);
	rp_value(s, "pending_pairs", "duplicate customer pairs pending review", RP_COUNT,
		 count_or_nan(q->pending_pairs));
	rp_value(s, "merges", "customer merges applied", RP_COUNT, count_or_nan(q->merges));

	rp_value(s, "order_median", "median completed order amount", RP_MONEY,
		 q->median_amount == CRM_NA ? NAN : mx_money(q->median_amount));
	rp_value(s, "order_mad", "median absolute deviation of order amounts", RP_MONEY,
		 q->mad == CRM_NA ? NAN : mx_money(q->mad));
	rp_value(s, "outlier_threshold", "outlier threshold (median + 10 MAD)", RP_MONEY,
		 q->outlier_threshold == CRM_NA ? NAN : mx_money(q->outlier_threshold));
	if (q->n_top > 0 && ds) {
		static const struct rp_col ocols[] = {
			{ "order_id", RP_TEXT }, { "customer_id", RP_TEXT },
			{ "ordered_at", RP_DATE }, { "amount", RP_MONEY },
		};
		const struct crm_table *o = &ds->t[CRM_ORDERS];
		t = rp_table_new(s, "outliers", "Largest outlier orders (kept in every metric)",
				 ocols, 4);
		for (size_t i = 0; i < q->n_top; i++) {
			size_t r = q->top[i].row;
			rp_row(t);
			rp_cell_str(t, o->col[CRM_O_ORDER_ID].kind != CRM_COL_NONE
					       ? crm_cell_str(o, CRM_O_ORDER_ID, r) : NULL);
			rp_cell_str(t, o->customer[r] != CRM_NO_CUSTOMER
					       ? crm_cell_str(&ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID,
							      o->customer[r]) : NULL);
			rp_cell_num(t, (double)o->col[CRM_O_ORDERED_AT].i64[r]);
			rp_cell_num(t, mx_money(q->top[i].amount));
		}
	}
}

int cl_quality_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	struct cl_quality *q = malloc(sizeof *q);
	if (!q)
		return crm_err_set(err, CRM_ENOMEM, "out of memory for the quality report");
	int rc = compute(ctx->ds, ctx->o.as_of, ctx->in, q, err);
	if (rc == CRM_OK)
		cl_quality_emit(q, ctx->ds, ctx->group, d);
	free(q);
	return rc;
}
