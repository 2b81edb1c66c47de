/* test_mx.c - what the metric families share (src/metrics/mx.c): selection
 * and medians on int64 and double values against a sort, type 7 quantiles
 * of sorted values, the split of the customers for two threads, the names
 * of CAT codes, shares and counts that are no data, the as-of and period
 * parameters. Expected values are worked out in the comments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "crmscope.h"
#include "data/dataset.h"
#include "metrics/mx.h"
#include "report/doc.h"

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

/* After mx_select_i64(v, n, k): v[k] is want, nothing before it is larger
 * and nothing after it smaller. */
static void assert_selected(const int64_t *v, size_t n, size_t k, int64_t want)
{
	cr_assert_eq(v[k], want, "k = %zu: %lld, want %lld", k, (long long)v[k], (long long)want);
	for (size_t i = 0; i < k; i++)
		cr_assert_leq(v[i], v[k], "k = %zu: v[%zu] is larger", k, i);
	for (size_t i = k + 1; i < n; i++)
		cr_assert_geq(v[i], v[k], "k = %zu: v[%zu] is smaller", k, i);
}

Test(mx, select_i64_small)
{
	/* sorted: -3 0 2 5 7 9 9 */
	static const int64_t in[7] = { 5, -3, 9, 9, 0, 2, 7 };
	static const int64_t sorted[7] = { -3, 0, 2, 5, 7, 9, 9 };
	for (size_t k = 0; k < 7; k++) {
		int64_t v[7];
		memcpy(v, in, sizeof v);
		cr_assert_eq(mx_select_i64(v, 7, k), sorted[k]);
		assert_selected(v, 7, k, sorted[k]);
	}
	int64_t one[1] = { 42 };
	cr_assert_eq(mx_select_i64(one, 1, 0), 42);
}

Test(mx, select_i64_large_against_a_sort)
{
	/* 1,000 values of a linear congruential sequence (Knuth's MMIX
	 * constants) folded to -500..499, so there are many ties, and the
	 * Hoare partition (ranges of 16 values and more) does the work */
	enum { N = 1000 };
	int64_t *in = malloc(N * sizeof *in), *sorted = malloc(N * sizeof *sorted),
		*v = malloc(N * sizeof *v);
	uint64_t x = 12345;
	for (size_t i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		in[i] = (int64_t)(x >> 33) % 1000 - 500;
	}
	memcpy(sorted, in, N * sizeof *in);
	qsort(sorted, N, sizeof *sorted, cmp_i64);
	static const size_t ks[] = { 0, 1, 15, 16, 17, 250, 499, 500, 501, 998, 999 };
	for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
		memcpy(v, in, N * sizeof *in);
		cr_assert_eq(mx_select_i64(v, N, ks[j]), sorted[ks[j]]);
		assert_selected(v, N, ks[j], sorted[ks[j]]);
	}
	/* the median, type 7: N even, the mean of sorted[499] and sorted[500] */
	memcpy(v, in, N * sizeof *in);
	cr_assert_float_eq(mx_select_median_i64(v, N),
			   ((double)sorted[499] + (double)sorted[500]) / 2, 0);
	/* ascending and descending input (the worst orders of naive pivots) */
	for (size_t i = 0; i < N; i++)
		v[i] = (int64_t)i;
	cr_assert_eq(mx_select_i64(v, N, 700), 700);
	for (size_t i = 0; i < N; i++)
		v[i] = (int64_t)(N - i);
	cr_assert_eq(mx_select_i64(v, N, 0), 1);
	free(in);
	free(sorted);
	free(v);
}

Test(mx, select_median_i64)
{
	int64_t odd[3] = { 3, 1, 2 };       /* 1 2 3: the middle one, 2 */
	int64_t even[4] = { 4, 1, 3, 2 };   /* 1 2 3 4: (2 + 3) / 2 = 2.5 */
	int64_t same[4] = { 7, 7, 7, 7 };
	int64_t two[2] = { -10, 25 };       /* (-10 + 25) / 2 = 7.5 */
	cr_assert_float_eq(mx_select_median_i64(odd, 3), 2.0, 0);
	cr_assert_float_eq(mx_select_median_i64(even, 4), 2.5, 0);
	cr_assert_float_eq(mx_select_median_i64(same, 4), 7.0, 0);
	cr_assert_float_eq(mx_select_median_i64(two, 2), 7.5, 0);
	cr_assert(isnan(mx_select_median_i64(two, 0)));
	/* the same values as doubles give the same medians */
	double d_odd[3] = { 3, 1, 2 }, d_even[4] = { 4, 1, 3, 2 };
	cr_assert_float_eq(mx_select_median(d_odd, 3), 2.0, 0);
	cr_assert_float_eq(mx_select_median(d_even, 4), 2.5, 0);
}

Test(mx, quantile_sorted_type_7)
{
	/* v = 1 2 3 4, h = (n - 1) p = 3p: p 0.25 -> h 0.75 -> 1 + 0.75 (2 - 1)
	 * = 1.75; p 0.5 -> 2.5; p 0.9 -> h 2.7 -> 3 + 0.7 = 3.7; p 1 -> 4 */
	const double v[4] = { 1, 2, 3, 4 };
	cr_assert_float_eq(mx_quantile_sorted(v, 4, 0.0), 1.0, 0);
	cr_assert_float_eq(mx_quantile_sorted(v, 4, 0.25), 1.75, 0);
	cr_assert_float_eq(mx_quantile_sorted(v, 4, 0.5), 2.5, 0);
	cr_assert_float_eq(mx_quantile_sorted(v, 4, 0.9), 3.7, 1e-12);
	cr_assert_float_eq(mx_quantile_sorted(v, 4, 1.0), 4.0, 0);
	/* p outside [0, 1] is clamped; NaN p or no values is no data */
	cr_assert_float_eq(mx_quantile_sorted(v, 4, -1.0), 1.0, 0);
	cr_assert_float_eq(mx_quantile_sorted(v, 4, 2.0), 4.0, 0);
	cr_assert(isnan(mx_quantile_sorted(v, 4, NAN)));
	cr_assert(isnan(mx_quantile_sorted(v, 0, 0.5)));
	cr_assert_float_eq(mx_quantile_sorted(v, 1, 0.5), 1.0, 0);
	/* mx_quantile is the same after its sort */
	double u[4] = { 4, 1, 3, 2 };
	cr_assert_float_eq(mx_quantile(u, 4, 0.25), 1.75, 0);
	cr_assert_float_eq(u[0], 1.0, 0);
	cr_assert_float_eq(u[3], 4.0, 0);
}

Test(mx, split_customers)
{
	struct crm_dataset *ds = calloc(1, sizeof *ds);
	uint64_t off[5] = { 0, 50000, 100000, 150000, 200000 };
	ds->n_customers = 4;
	ds->t[CRM_ORDERS].n = 200000;
	ds->t[CRM_ORDERS].by_customer = off;
	/* half of 200,000 rows is 100,000: customer 2 is the first to start
	 * there, so [0, 2) and [2, 4) hold 100,000 rows each */
	cr_assert_eq(ds_split_customers(ds), 2);
	/* customer 1 holds 150,000 rows: customer 1 starts at 30,000 < 100,000,
	 * customer 2 at 180,000, so the cut is before customer 2 */
	off[1] = 30000;
	off[2] = 180000;
	off[3] = 190000;
	cr_assert_eq(ds_split_customers(ds), 2);
	/* the last customer holds every row: none starts at 100,000 or after,
	 * so there is no cut (n_customers) */
	off[1] = off[2] = off[3] = 0;
	cr_assert_eq(ds_split_customers(ds), 4);
	/* below DS_THREAD_MIN_ORDERS rows, no cut */
	ds->t[CRM_ORDERS].n = DS_THREAD_MIN_ORDERS - 1;
	off[1] = 50000;
	off[2] = 100000;
	off[3] = 150000;
	off[4] = DS_THREAD_MIN_ORDERS - 1;
	cr_assert_eq(ds_split_customers(ds), 4);
	free(ds);
}

Test(mx, code_name)
{
	struct crm_column col;
	memset(&col, 0, sizeof col);
	col.kind = CRM_COL_CAT;
	strs_init(&col.dict);
	cr_assert_eq(strs_push(&col.dict, "", 0), 0);
	cr_assert_eq(strs_push(&col.dict, "web", 3), 0);
	cr_assert_eq(strs_push(&col.dict, "store", 5), 0);
	cr_assert_str_eq(mx_code_name(&col, 1, "(none)"), "web");
	cr_assert_str_eq(mx_code_name(&col, 2, ""), "store");
	cr_assert_str_eq(mx_code_name(&col, 0, "(none)"), "(none)");
	cr_assert_str_eq(mx_code_name(&col, 3, ""), "");       /* off the dictionary */
	col.kind = CRM_COL_I64;
	cr_assert_str_eq(mx_code_name(&col, 1, "(none)"), "(none)");
	strs_fini(&col.dict);
}

Test(mx, shares_and_counts)
{
	cr_assert_float_eq(mx_pct(1, 4), 25.0, 0);
	cr_assert_float_eq(mx_pct(3, 3), 100.0, 0);
	cr_assert_float_eq(mx_pct(0, 7), 0.0, 0);
	cr_assert(isnan(mx_pct(0, 0)));
	cr_assert_float_eq(mx_count_or_nan(1, 12), 12.0, 0);
	cr_assert_float_eq(mx_count_or_nan(1, 0), 0.0, 0);
	cr_assert(isnan(mx_count_or_nan(0, 12)));
}

/* The text rendering of a section holding mx_param_period's parameters. */
static char *period_text(int64_t as_of, int64_t p_start, int64_t p_end, int day_dates,
			 const char *note)
{
	struct rp_doc *d = rp_doc_new();
	struct crm_err err;
	char *p = NULL;
	size_t n = 0;
	cr_assert(d != NULL);
	mx_param_period(rp_section_new(d, "purchases", NULL, NULL), as_of, p_start, p_end,
			day_dates, note);
	FILE *f = open_memstream(&p, &n);
	cr_assert(f != NULL);
	cr_assert_eq(rp_render_text(d, f, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(fclose(f), 0);
	rp_doc_free(d);
	return p;
}

Test(mx, param_period)
{
	/* A = 2024-06-30 00:00:00 UTC = 19,904 days x 86,400 s = 1,719,705,600;
	 * P = [2023-07-01, 2024-07-01): 1,688,169,600 and 1,719,792,000 */
	int64_t a = 1719705600, ps = 1688169600, pe = 1719792000;
	char *full = period_text(a, ps, pe, 0, NULL);
	cr_assert(strstr(full, "as-of: 2024-06-30T00:00:00Z\n"), "%s", full);
	cr_assert(strstr(full, "period: [2023-07-01T00:00:00Z, 2024-07-01T00:00:00Z)\n"), "%s",
		  full);
	char *days = period_text(a, ps, pe, 1, ": sessions starting in it");
	cr_assert(strstr(days, "as-of: 2024-06-30\n"), "%s", days);
	cr_assert(strstr(days, "period: [2023-07-01, 2024-07-01): sessions starting in it\n"),
		  "%s", days);
	/* a time not at midnight keeps its time of day even with day_dates */
	char *mixed = period_text(a + 86399, ps, pe, 1, NULL);
	cr_assert(strstr(mixed, "as-of: 2024-06-30T23:59:59Z\n"), "%s", mixed);
	cr_assert(strstr(mixed, "period: [2023-07-01, 2024-07-01)\n"), "%s", mixed);
	free(full);
	free(days);
	free(mixed);
}
