/* cmd_dedupe.c - `crmscope dedupe DB`: find duplicate customers, review
 * them, merge them, undo a merge (cli layer, issue 3). The finding is
 * clean/dedupe.h's, the merging store/merge.h's; this file reads the
 * options, prints and saves the run's watermark. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clean/dedupe.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "store/merge.h"
#include "store/store.h"

struct dd_args {
	const char *db;
	const char *review;
	int apply, list, full;
	int64_t undo;            /* merge id, or 0 */
	struct cln_dedupe_opts o;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_prob(const char *opt, const char *v, double *out)
{
	char *end = NULL;
	double p = strtod(v, &end);
	if (!*v || *end || !(p > 0 && p <= 1)) {
		fprintf(stderr, "crmscope: dedupe: %s takes a probability in (0, 1], not '%s'\n", opt, v);
		return -1;
	}
	*out = p;
	return 0;
}

static int parse_count(const char *opt, const char *v, unsigned long long lo,
		       unsigned long long hi, unsigned long long *out)
{
	char *end = NULL;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || v[0] == '-' || n < lo || n > hi) {
		fprintf(stderr, "crmscope: dedupe: %s takes a whole number from %llu to %llu, not '%s'\n",
			opt, lo, hi, v);
		return -1;
	}
	*out = n;
	return 0;
}

/* 0, or the exit status of a usage error (its message printed). */
static int parse_args(int argc, char **argv, struct dd_args *a)
{
	memset(a, 0, sizeof *a);
	cln_dedupe_opts_init(&a->o);
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long n;
		if (strcmp(o, "--apply") == 0) {
			a->apply = 1;
			continue;
		}
		if (strcmp(o, "--list") == 0) {
			a->list = 1;
			continue;
		}
		if (strcmp(o, "--full") == 0) {
			a->full = 1;
			continue;
		}
		if (o[0] == '-' && o[1]) {
			if (!v) {
				fprintf(stderr, "crmscope: dedupe: %s needs a value\n", o);
				return usage(NULL);
			}
			i++;
			if (strcmp(o, "--threshold") == 0) {
				if (parse_prob(o, v, &a->o.threshold))
					return EXIT_USAGE;
			} else if (strcmp(o, "--review-threshold") == 0) {
				if (parse_prob(o, v, &a->o.review_threshold))
					return EXIT_USAGE;
			} else if (strcmp(o, "--review") == 0) {
				a->review = v;
			} else if (strcmp(o, "--country") == 0) {
				if (strlen(v) != 2) {
					fprintf(stderr, "crmscope: dedupe: --country takes an ISO 3166"
						" two-letter code, not '%s'\n", v);
					return EXIT_USAGE;
				}
				a->o.country = v;
			} else if (strcmp(o, "--undo") == 0) {
				if (parse_count(o, v, 1, INT64_MAX, &n))
					return EXIT_USAGE;
				a->undo = (int64_t)n;
			} else if (strcmp(o, "--block-cap") == 0) {
				if (parse_count(o, v, 2, 1000000, &n))
					return EXIT_USAGE;
				a->o.block_cap = (size_t)n;
			} else if (strcmp(o, "--window") == 0) {
				if (parse_count(o, v, 1, 1000, &n))
					return EXIT_USAGE;
				a->o.window = (size_t)n;
			} else if (strcmp(o, "--threads") == 0) {
				if (parse_count(o, v, 1, 16, &n))
					return EXIT_USAGE;
				a->o.threads = (int)n;
			} else {
				return usage("dedupe: unknown option");
			}
			continue;
		}
		if (a->db)
			return usage("dedupe takes one DB");
		a->db = o;
	}
	if (!a->db)
		return usage("dedupe needs DB");
	if (a->undo && (a->apply || a->list))
		return usage("dedupe: --undo goes alone");
	return 0;
}

static int do_list(struct st_db *db, struct crm_err *err)
{
	struct st_merge_info *m = NULL;
	size_t n = 0;
	int rc = st_merge_list(db, &m, &n, err);
	if (rc)
		return rc;
	printf("%8s  %-20s  %-20s  %10s  %6s  %s\n", "merge_id", "merged_at", "kept", "kept_cid",
	       "merged", "state");
	for (size_t k = 0; k < n; k++) {
		char when[32];
		ts_format(m[k].merged_at, 0, when);
		printf("%8lld  %-20s  %-20s  %10lld  %6zu  %s\n", (long long)m[k].merge_id, when,
		       m[k].kept_id, (long long)m[k].kept_cid, m[k].n_merged,
		       m[k].undone ? "undone" : "applied");
	}
	if (n == 0)
		printf("no merges yet\n");
	free(m);
	return CRM_OK;
}

static void print_count(const char *label, uint64_t n, const char *rest)
{
	char b[32];
	int_format_grouped((int64_t)n, b);
	printf("  %-16s %12s%s%s\n", label, b, rest[0] ? " " : "", rest);
}

/* What EM fitted: the sessions, lambda, and m, u and the weight per level. */
static void print_model(const struct cln_dedupe_result *r)
{
	char line[256];
	snprintf(line, sizeof line, "pairs agreeing on an e-mail, phone or address: %d"
		 " iterations, matches among them %.3f", r->em_iterations[0], r->train_lambda[0]);
	print_count("EM m session A", r->n_train_pairs[0], line);
	snprintf(line, sizeof line, "namesakes born the same day or at one postcode: %d"
		 " iterations, matches among them %.3f", r->em_iterations[1], r->train_lambda[1]);
	print_count("EM m session B", r->n_train_pairs[1], line);
	snprintf(line, sizeof line, "pairs (compared or not): %d iterations%s; lambda %.3g,"
		 " %.0f matches expected", r->scope_iterations,
		 r->em_converged ? "" : " (a fit did NOT converge)", r->lambda,
		 r->lambda * r->n_scope_pairs);
	print_count("EM u, lambda on", (uint64_t)r->n_scope_pairs, line);
	printf("  %-10s %s\n", "field", "per level: m  u  weight log2(m/u)");
	for (int f = 0; f < CLN_F_N; f++) {
		printf("  %-10s", cln_field_name(f));
		for (int l = 1; l < CLN_N_LEVELS; l++) {
			if (r->m[f][l] <= 0)
				continue;
			printf("  %s %.3g %.3g %+.1f", cln_level_name(f, l), r->m[f][l], r->u[f][l],
			       log2(r->m[f][l]) - log2(r->u[f][l]));
		}
		printf("\n");
	}
}

static void print_summary(const struct dd_args *a, const struct cln_customers *cs,
			  const struct cln_dedupe_result *r, int64_t watermark, int full)
{
	char b[32], c[32], line[256];
	int_format_grouped((int64_t)cs->n, b);
	printf("dedupe %s: %s customers", a->db, b);
	if (cs->n_stubs) {
		int_format_grouped((int64_t)cs->n_stubs, c);
		printf(" (%s stubs without fields left out)", c);
	}
	printf("\n");
	int_format_grouped((int64_t)r->n_new, b);
	if (full || cs->n_old == 0) {
		snprintf(line, sizeof line, "new: all compared with all%s",
			 full && watermark > 0 ? " (--full, or pairs were left pending)" : "");
	} else {
		int_format_grouped((int64_t)cs->n_old, c);
		snprintf(line, sizeof line, "new (cid > %lld) compared with all; %s old ones not"
			 " with each other again", (long long)watermark, c);
	}
	print_count("compared", r->n_new, line);
	int_format_grouped((int64_t)r->n_capped, b);
	int_format_grouped((int64_t)r->n_capped_records, c);
	snprintf(line, sizeof line, "of two or more; %s above the cap of %zu (%s records),"
		 " each record meeting %zu neighbours each side", b, a->o.block_cap, c, a->o.window);
	print_count("blocks", r->n_blocks, line);
	print_count("pairs compared", r->n_pairs, r->n_pairs ? "" : "(nothing to score)");
	if (r->n_pairs)
		print_model(r);
	int_format_grouped((int64_t)r->n_clusters, b);
	snprintf(line, sizeof line, "pairs with probability >= %.2f, in %s clusters", r->threshold, b);
	print_count("matches", r->n_matches, line);
	if (a->review) {
		snprintf(line, sizeof line, "pairs with probability >= %.2f written to %s",
			 r->review_threshold, a->review);
		print_count("review", r->n_review, line);
	}
}

int cmd_dedupe(int argc, char **argv)
{
	struct dd_args a;
	int st = parse_args(argc, argv, &a);
	if (st)
		return st;
	struct crm_err err;
	struct st_db *db = NULL;
	struct cln_customers *cs = NULL;
	struct cln_dedupe_result *r = NULL;
	struct st_merge_group *g = NULL;
	int64_t *merge_ids = NULL;
	int status = 1;
	double t0 = now_s();
	crm_err_clear(&err);
	if (st_open(a.db, ST_OPEN_WRITE, &db, &err) != CRM_OK)
		goto done;
	if (a.undo) {
		if (st_merge_undo(db, a.undo, &err) != CRM_OK)
			goto done;
		printf("merge %lld undone\n", (long long)a.undo);
		status = 0;
		goto done;
	}
	if (a.list) {
		if (do_list(db, &err) == CRM_OK)
			status = 0;
		goto done;
	}

	int64_t watermark = 0, pending = 0;
	if (st_dedupe_state_get(db, &watermark, &pending, &err) != CRM_OK)
		goto done;
	/* pairs a run found but did not merge are among old customers: compare
	 * them again, or --apply after a review would find nothing */
	int full = a.full || pending > 0;
	if (cln_dedupe_load(db, full ? 0 : watermark, &cs, &err) != CRM_OK)
		goto done;
	double t_read = now_s() - t0;
	a.o.n_old = cs->n_old;
	if (cln_dedupe_run(cs->recs, cs->n, &a.o, &r, &err) != CRM_OK)
		goto done;
	print_summary(&a, cs, r, watermark, full);
	if (a.review && cln_review_write(a.review, cs->recs, r, &err) != CRM_OK)
		goto done;
	int64_t left = (int64_t)r->n_matches, next_wm = cs->next_watermark;
	if (a.apply && r->n_clusters) {
		merge_ids = xmallocn(r->n_clusters, sizeof *merge_ids);
		if (!merge_ids) {
			crm_err_set(&err, CRM_ENOMEM, "dedupe: out of memory");
			goto done;
		}
		if (cln_merge_groups(cs->recs, r, &g, &err) != CRM_OK ||
		    st_merge_apply(db, g, r->n_clusters, merge_ids, &err) != CRM_OK)
			goto done;
		size_t merged = r->cluster_start[r->n_clusters] - r->n_clusters;
		printf("  merged %zu customers into %zu: merge ids %lld", merged, r->n_clusters,
		       (long long)merge_ids[0]);
		if (r->n_clusters > 1)
			printf(" to %lld", (long long)merge_ids[r->n_clusters - 1]);
		printf(" (crmscope dedupe %s --list; --undo MERGE_ID)\n", a.db);
		left = 0;
		/* SQLite gives a new row the largest cid + 1: when a merge removed
		 * the largest, the next customer would get a cid under the
		 * watermark and never be compared. Below the largest left, no. */
		int64_t lo, hi;
		if (st_key_bounds(db, CRM_CUSTOMERS, &lo, &hi, &err) != CRM_OK)
			goto done;
		if (hi < next_wm)
			next_wm = hi > 0 ? hi : 0;
	} else if (a.apply) {
		printf("  nothing to merge\n");
		left = 0;
	} else if (left) {
		printf("  pending          %lld pairs: review them (--review FILE), then merge with --apply\n",
		       (long long)left);
	}
	if (st_dedupe_state_set(db, next_wm, left, &err) != CRM_OK)
		goto done;
	printf("  time             %.2f s (reading %.2f, normalising %.2f, blocking %.2f,"
	       " comparing %.2f, EM %.2f, scoring %.2f)\n", now_s() - t0, t_read,
	       r->seconds[CLN_T_NORMALISE], r->seconds[CLN_T_BLOCK], r->seconds[CLN_T_COMPARE],
	       r->seconds[CLN_T_FIT], r->seconds[CLN_T_SCORE]);
	status = 0;
done:
	if (status)
		fail(&err);
	free(merge_ids);
	if (g)
		cln_merge_groups_free(g, r->n_clusters);
	cln_dedupe_result_free(r);
	cln_customers_free(cs);
	st_close(db);
	return status;
}
