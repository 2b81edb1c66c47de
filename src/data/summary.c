/* summary.c - the per-customer purchase summary (data layer).
 * Frequency, recency, age and mean repeat spend in the convention of the
 * lifetimes package and of Fader, Hardie and Lee (2005), plus orders and net
 * revenue, in one pass over each customer's time-sorted order rows. The
 * models (BG/NBD, Pareto/NBD, Gamma-Gamma) and the RFM segments read it.
 *
 * The rules, beyond crmscope.h: a purchase is an order with status
 * completed or unset and amount >= 0; a return is status returned or a
 * negative amount (counted by its absolute value, METRICS.md); cancelled
 * orders count nowhere; rows with a missing time or amount are skipped.
 * Times compare as timestamps: an order at 10:00 on the calibration end's
 * day is after a calibration end of 00:00 that day. Days are UTC calendar
 * days; weeks are days / 7. opts may be NULL (all defaults, unit days); a
 * calibration end after the as-of date is CRM_EINVAL. Large datasets are
 * split into two customer ranges of equal order count run on two threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "crmscope.h"
#include "data/dataset.h"

/* One pass over a range of customers: the plan, the range, where its rows
 * go (out[0] is customer c_lo's). No global state: two threads each run
 * their own over disjoint customer ranges. */
struct sum_job {
	const struct ds_summary_plan *p;
	size_t c_lo, c_hi;               /* customers [c_lo, c_hi) */
	struct crm_customer_summary *out;
	int rc;
	size_t bad_customer;             /* the customer whose sums overflowed */
};

static void *sum_range(void *arg)
{
	struct sum_job *j = arg;
	const struct ds_summary_plan *p = j->p;
	const struct crm_table *t = &p->ds->t[CRM_ORDERS];
	const uint64_t *bc = t->by_customer;
	const int64_t *at = t->col[CRM_O_ORDERED_AT].i64;
	const int64_t *amount = t->col[CRM_O_AMOUNT].i64;
	const uint32_t *status = t->col[CRM_O_STATUS].cat;
	j->rc = CRM_OK;
	for (size_t c = j->c_lo; c < j->c_hi; c++) {
		struct crm_customer_summary *s = &j->out[c - j->c_lo];
		if (p->as_of == CRM_NA) {
			/* an empty dataset: nothing happened, so nothing was bought */
			memset(s, 0, sizeof *s);
			s->first_at = s->last_at = CRM_NA;
			continue;
		}
		int64_t first_day = CRM_NA, last_day = CRM_NA, first_at = CRM_NA, last_at = CRM_NA;
		int64_t days = 0, repeat_sum = 0, net = 0;
		uint32_t n_orders = 0;
		int overflow = 0;
		for (uint64_t r = bc ? bc[c] : 0, end = bc ? bc[c + 1] : 0; r < end; r++) {
			int64_t when = at[r], a = amount[r];
			if (when == CRM_NA || a == CRM_NA)
				continue;
			if (when > p->as_of)
				break;   /* rows are in time order */
			uint32_t st = status ? status[r] : CRM_STATUS_NA;
			if (st == CRM_STATUS_CANCELLED)
				continue;
			if (st == CRM_STATUS_RETURNED || a < 0) {
				/* METRICS.md: a return counts by its absolute value */
				overflow |= __builtin_sub_overflow(net, a < 0 ? -a : a, &net);
				continue;
			}
			n_orders++;
			overflow |= __builtin_add_overflow(net, a, &net);
			if (when > p->cal_end)
				continue;
			int64_t d = ts_day(when);
			if (first_day == CRM_NA) {
				first_day = last_day = d;
				first_at = when;
				days = 1;
			} else if (d != last_day) {
				last_day = d;
				days++;
			}
			if (d != first_day)
				overflow |= __builtin_add_overflow(repeat_sum, a, &repeat_sum);
			last_at = when;
		}
		if (overflow && j->rc == CRM_OK) {
			j->rc = CRM_ERANGE;
			j->bad_customer = c;
		}
		s->n_orders = n_orders;
		s->net_revenue = net;
		s->first_at = first_at;
		s->last_at = last_at;
		if (first_day == CRM_NA) {
			s->x = s->t_x = s->T = 0;
			s->mean_repeat = 0;
			s->repeat_total = 0;
			continue;
		}
		s->x = (double)(days - 1);
		s->t_x = (double)(last_day - first_day) / p->per_unit;
		s->T = (double)(p->cal_day - first_day) / p->per_unit;
		s->mean_repeat = days > 1 ? money_div_round(repeat_sum, days - 1) : 0;
		s->repeat_total = repeat_sum;
	}
	return NULL;
}

int ds_summary_plan(const struct crm_dataset *ds, const struct crm_summary_opts *opts,
		    struct ds_summary_plan *p, struct crm_err *err)
{
	struct crm_summary_opts o = { CRM_NA, CRM_NA, CRM_UNIT_DAY };
	if (opts)
		o = *opts;
	if (o.unit != CRM_UNIT_DAY && o.unit != CRM_UNIT_WEEK)
		return crm_err_set(err, CRM_EINVAL, "summary: unknown time unit %d", o.unit);
	if (o.as_of == CRM_NA)
		o.as_of = ds->last_at;
	if (o.calibration_end == CRM_NA)
		o.calibration_end = o.as_of;
	if (o.as_of != CRM_NA && o.calibration_end > o.as_of)
		return crm_err_set(err, CRM_EINVAL,
				   "summary: calibration end %lld is after the as-of date %lld",
				   (long long)o.calibration_end, (long long)o.as_of);
	const struct crm_table *t = &ds->t[CRM_ORDERS];
	if (t->n > 0 && (!t->by_customer || !t->col[CRM_O_ORDERED_AT].i64 ||
			 !t->col[CRM_O_AMOUNT].i64))
		return crm_err_set(err, CRM_EINVAL, "summary: the orders table is not laid out");
	p->ds = ds;
	p->as_of = o.as_of;
	p->cal_end = o.calibration_end;
	p->cal_day = o.as_of == CRM_NA ? 0 : ts_day(o.calibration_end);
	p->per_unit = o.unit == CRM_UNIT_WEEK ? 7.0 : 1.0;
	return CRM_OK;
}

/* The error of job j, which failed. */
static int job_error(const struct sum_job *j, struct crm_err *err)
{
	return crm_err_set(err, j->rc, "summary: customer %s: money sums overflow int64",
			   crm_cell_str(&j->p->ds->t[CRM_CUSTOMERS], CRM_C_CUSTOMER_ID,
					j->bad_customer));
}

int ds_summary_range(const struct ds_summary_plan *p, size_t lo, size_t hi,
		     struct crm_customer_summary *out, struct crm_err *err)
{
	struct sum_job j = { p, lo, hi, out, CRM_OK, 0 };
	sum_range(&j);
	return j.rc == CRM_OK ? CRM_OK : job_error(&j, err);
}

int crm_summary_compute(const struct crm_dataset *ds,
			const struct crm_summary_opts *opts,
			struct crm_customer_summary **out, struct crm_err *err)
{
	struct ds_summary_plan p;
	struct crm_customer_summary *sum = NULL;
	int rc;
	*out = NULL;
	if ((rc = ds_summary_plan(ds, opts, &p, err)) != CRM_OK)
		return rc;
	sum = xmallocn(ds->n_customers ? ds->n_customers : 1, sizeof *sum);
	if (!sum)
		return crm_err_set(err, CRM_ENOMEM, "summary: out of memory for %zu customers",
				   ds->n_customers);
	size_t mid = ds_split_customers(ds);
	struct sum_job job[2] = { { &p, 0, mid, sum, CRM_OK, 0 },
				  { &p, mid, ds->n_customers, sum + mid, CRM_OK, 0 } };
	pthread_t th;
	int threaded = mid < ds->n_customers &&
		       pthread_create(&th, NULL, sum_range, &job[1]) == 0;
	sum_range(&job[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		sum_range(&job[1]);
	for (int k = 0; k < 2 && rc == CRM_OK; k++)
		if (job[k].rc != CRM_OK)
			rc = job_error(&job[k], err);
	if (rc != CRM_OK) {
		free(sum);
		sum = NULL;
	}
	*out = sum;
	return rc;
}
