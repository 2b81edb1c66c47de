/* test_dedupe.c - the duplicate finder (src/clean/dedupe.c, dedupe_db.c)
 * and the `crmscope dedupe` command: blocking and clustering on hand-made
 * sets, EM on a synthetic set with known truth, precision and recall on the
 * demo business, incremental runs, review file and merge groups. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clean/dedupe.h"
#include "core/tstamp.h"
#include "data/load.h"
#include "demo/demo.h"
#include "store/merge.h"
#include "store/store.h"
#include "support.h"

/* ------------------------------------------------------- synthetic sets */

#define TXT 80

/* Records with their text stored alongside. */
struct set {
	struct cln_customer *recs;
	char (*text)[CLN_T_N][TXT];
	uint32_t *orig;          /* the record each one duplicates, or itself */
	size_t n, cap;
};

static void set_init(struct set *s, size_t cap)
{
	s->recs = calloc(cap, sizeof *s->recs);
	s->text = calloc(cap, sizeof *s->text);
	s->orig = calloc(cap, sizeof *s->orig);
	s->n = 0;
	s->cap = cap;
	cr_assert(s->recs && s->text && s->orig);
}

static void set_fini(struct set *s)
{
	free(s->recs);
	free(s->text);
	free(s->orig);
}

/* Adds a record: fields as id, name, given, family, email, phone, address,
 * postcode, city, country, gender (NULL: missing), and a birth date
 * ("YYYY-MM-DD" or NULL). Returns its index. */
static size_t add(struct set *s, const char *const *f, const char *birth)
{
	cr_assert(s->n < s->cap);
	size_t i = s->n++;
	for (int k = 0; k < CLN_T_N; k++) {
		s->recs[i].text[k] = NULL;
		if (f[k]) {
			snprintf(s->text[i][k], TXT, "%s", f[k]);
			s->recs[i].text[k] = s->text[i][k];
		}
	}
	s->recs[i].birth_date = birth ? ts(birth) : CRM_NA;
	s->orig[i] = (uint32_t)i;
	return i;
}

/* snprintf into a TXT field (through va_list: the lengths are ours to keep
 * short, and gcc's truncation warning cannot see that) */
static void put(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(char *dst, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, TXT, fmt, ap);
	va_end(ap);
}

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: a fixed sequence for a fixed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)(((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n);
}

static const char *const syl[] = { "ka", "lo", "mi", "ren", "to", "sa", "vel", "dor",
				   "bri", "nak", "zu", "pe", "gan", "hol", "fi", "ster" };
static const char *const streets[] = { "oak", "mill", "church", "station", "park", "high",
				       "green", "king", "queen", "castle", "bridge", "west" };

/* n_base people, then n_dup duplicates of evenly spread ones. Each field of
 * a duplicate is missing with probability 0.1, changed with 0.1, else the
 * same: so among the pairs where both have it, a field agrees exactly with
 * probability 0.8 / 0.9 = 0.889 in a true pair. The changes: half of them
 * two letters of the family name swapped, half another name (as a name
 * written in another script); half a letter dropped from the e-mail
 * (one edit), half another address; the phone's last digit (one edit);
 * another house number; another postcode and its city; day and month
 * swapped where both are <= 12, else another year; the other gender. */
static void synth(struct set *s, size_t n_base, size_t n_dup, uint64_t seed)
{
	rng_state = seed;
	char f[CLN_T_N][TXT];
	const char *fp[CLN_T_N];
	char birth[16];
	for (size_t i = 0; i < n_base + n_dup; i++) {
		int dup = i >= n_base;
		size_t o = dup ? (i - n_base) * (n_base / n_dup) : i;
		if (!dup) {
			char given[32], family[32];
			uint32_t g = rnd(40), fa = rnd(60);
			snprintf(given, sizeof given, "%s%s", syl[g % 16], syl[(g / 16 + 3 * g) % 16]);
			snprintf(family, sizeof family, "%s%s%s", syl[fa % 16], syl[(fa * 7 + 1) % 16],
				 syl[(fa / 16 + 5) % 16]);
			given[0] = (char)(given[0] - 32);
			family[0] = (char)(family[0] - 32);
			put(f[CLN_T_ID], "S%06zu", i);
			put(f[CLN_T_NAME], "%s %s", given, family);
			put(f[CLN_T_GIVEN], "%s", given);
			put(f[CLN_T_FAMILY], "%s", family);
			put(f[CLN_T_EMAIL], "%s.%s%zu@example.org", given, family, i);
			put(f[CLN_T_PHONE], "+44 7700 %06zu", (i * 7919) % 1000000);
			put(f[CLN_T_ADDRESS], "%u %s street", 1 + rnd(150), streets[rnd(12)]);
			uint32_t pc = rnd(400);
			put(f[CLN_T_POSTCODE], "P%03u", pc);
			put(f[CLN_T_CITY], "City%u", pc % 10);
			put(f[CLN_T_COUNTRY], "GB");
			put(f[CLN_T_GENDER], "%s", rnd(2) ? "female" : "male");
			int64_t y;
			unsigned mo, d;
			civil_from_days(days_from_civil(1950, 1, 1) + rnd(18000), &y, &mo, &d);
			snprintf(birth, sizeof birth, "%04lld-%02u-%02u", (long long)y, mo, d);
		} else {
			const struct cln_customer *c = &s->recs[o];
			for (int k = 0; k < CLN_T_N; k++)
				snprintf(f[k], TXT, "%s", c->text[k] ? c->text[k] : "");
			put(f[CLN_T_ID], "S%06zu", i);
			ts_format(c->birth_date, 1, birth);
			/* fields: 0 name, 1 email, 2 phone, 3 address, 4 postcode+city,
			 * 5 birth date, 6 gender */
			for (int k = 0; k < 7; k++) {
				uint32_t r = rnd(100);
				if (r >= 20)
					continue;
				int miss = r < 10;
				size_t n;
				switch (k) {
				case 0:
					if (miss) {
						f[CLN_T_NAME][0] = f[CLN_T_GIVEN][0] = f[CLN_T_FAMILY][0] = '\0';
						break;
					}
					if (rnd(2)) {
						uint32_t g = rnd(40);
						put(f[CLN_T_GIVEN], "Z%s%s", syl[g % 16], syl[(g + 5) % 16]);
						put(f[CLN_T_FAMILY], "Q%s", syl[rnd(16)]);
						put(f[CLN_T_NAME], "%s %s", f[CLN_T_GIVEN], f[CLN_T_FAMILY]);
						break;
					}
					n = strlen(f[CLN_T_FAMILY]);   /* two letters swapped */
					char t = f[CLN_T_FAMILY][n / 2];
					f[CLN_T_FAMILY][n / 2] = f[CLN_T_FAMILY][n / 2 + 1];
					f[CLN_T_FAMILY][n / 2 + 1] = t;
					put(f[CLN_T_NAME], "%s %s", f[CLN_T_GIVEN], f[CLN_T_FAMILY]);
					break;
				case 1:
					if (miss)
						f[CLN_T_EMAIL][0] = '\0';
					else if (rnd(2))
						put(f[CLN_T_EMAIL], "other%zu@example.net", i);
					else
						memmove(f[CLN_T_EMAIL] + 2, f[CLN_T_EMAIL] + 3,
							strlen(f[CLN_T_EMAIL] + 3) + 1);
					break;
				case 2:
					n = strlen(f[CLN_T_PHONE]);
					if (miss)
						f[CLN_T_PHONE][0] = '\0';
					else
						f[CLN_T_PHONE][n - 1] = f[CLN_T_PHONE][n - 1] == '9' ? '0'
							: (char)(f[CLN_T_PHONE][n - 1] + 1);
					break;
				case 3:
					if (miss)
						f[CLN_T_ADDRESS][0] = '\0';
					else
						put(f[CLN_T_ADDRESS], "%u %s street", 151 + rnd(100),
							 streets[rnd(12)]);
					break;
				case 4:
					if (miss) {
						f[CLN_T_POSTCODE][0] = '\0';
					} else {
						uint32_t pc = 400 + rnd(400);
						put(f[CLN_T_POSTCODE], "P%03u", pc);
						put(f[CLN_T_CITY], "City%u", pc % 10);
					}
					break;
				case 5:
					if (miss) {
						birth[0] = '\0';
					} else if (birth[8] <= '1' && (birth[8] != '1' || birth[9] <= '2') &&
						   memcmp(birth + 5, birth + 8, 2) != 0) {
						/* YYYY-0M-DD with DD <= 12: day and month swapped */
						char mm[2] = { birth[5], birth[6] };
						birth[5] = birth[8];
						birth[6] = birth[9];
						birth[8] = mm[0];
						birth[9] = mm[1];
					} else {
						birth[3] = birth[3] == '9' ? '0' : (char)(birth[3] + 1);
					}
					break;
				default:
					if (miss)
						f[CLN_T_GENDER][0] = '\0';
					else
						put(f[CLN_T_GENDER], "%s",
							 f[CLN_T_GENDER][0] == 'f' ? "male" : "female");
				}
			}
		}
		for (int k = 0; k < CLN_T_N; k++)
			fp[k] = f[k][0] ? f[k] : NULL;
		size_t at = add(s, fp, birth[0] ? birth : NULL);
		s->orig[at] = (uint32_t)o;
	}
}

static struct cln_dedupe_result *run(const struct set *s, size_t n_old)
{
	struct cln_dedupe_opts o;
	struct cln_dedupe_result *r = NULL;
	struct crm_err err = { 0, "" };
	cln_dedupe_opts_init(&o);
	o.n_old = n_old;
	cr_assert_eq(cln_dedupe_run(s->recs, s->n, &o, &r, &err), CRM_OK, "%s", err.msg);
	return r;
}

/* The cluster of record i (its index), or -1. */
static long cluster_of(const struct cln_dedupe_result *r, uint32_t i)
{
	for (size_t c = 0; c < r->n_clusters; c++)
		for (size_t k = r->cluster_start[c]; k < r->cluster_start[c + 1]; k++)
			if (r->cluster_member[k] == i)
				return (long)c;
	return -1;
}

static const struct cln_pair *find_pair(const struct cln_dedupe_result *r, uint32_t a, uint32_t b)
{
	for (size_t k = 0; k < r->n_review; k++)
		if (r->pairs[k].a == a && r->pairs[k].b == b)
			return &r->pairs[k];
	return NULL;
}

/* ----------------------------------------------------------- hand-made */

Test(dedupe, blocking_counts_on_a_hand_made_set)
{
	/* r0 and r1 share an e-mail once normalised (case, spaces); r2 has only
	 * a phone. Keys: r0 and r1 each E "anna@x.org" (the local part "anna"
	 * is an L key too: 4 letters); r2 P "+447700900123". No name key: no
	 * city, postcode or birth date. So two blocks of two, {r0, r1} twice,
	 * and one distinct candidate pair. */
	struct set s;
	set_init(&s, 4);
	add(&s, (const char *[]){ "a", "Anna Berg", NULL, NULL, "anna@x.org", NULL, NULL, NULL,
				  NULL, NULL, NULL }, NULL);
	add(&s, (const char *[]){ "b", "Anna Berg", NULL, NULL, " ANNA@X.org ", NULL, NULL, NULL,
				  NULL, NULL, NULL }, NULL);
	add(&s, (const char *[]){ "c", "Carl Dahl", NULL, NULL, NULL, "07700 900123", NULL, NULL,
				  NULL, "GB", NULL }, NULL);
	struct cln_dedupe_result *r = run(&s, 0);
	cr_expect_eq(r->n_records, 3);
	cr_expect_eq(r->n_new, 3);
	cr_expect_eq(r->n_blocks, 2);
	cr_expect_eq(r->n_capped, 0);
	cr_expect_eq(r->n_pairs, 1);
	/* all 3 pairs are in scope; EM saw the one compared */
	cr_expect_eq(r->n_scope_pairs, 3.0);
	cln_dedupe_result_free(r);
	set_fini(&s);
}

Test(dedupe, errors)
{
	struct set s;
	struct cln_dedupe_opts o;
	struct cln_dedupe_result *r = NULL;
	struct crm_err err = { 0, "" };
	set_init(&s, 2);
	add(&s, (const char *[]){ "a", "Anna", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }, NULL);
	add(&s, (const char *[]){ NULL, "Anna", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }, NULL);
	cln_dedupe_opts_init(&o);
	cr_expect_eq(cln_dedupe_run(s.recs, 2, &o, &r, &err), CRM_EINVAL);
	cr_expect(strstr(err.msg, "customer 2: field customer_id: missing") != NULL, "%s", err.msg);
	cr_expect_null(r);
	o.threshold = 1.5;
	cr_expect_eq(cln_dedupe_run(s.recs, 1, &o, &r, &err), CRM_EINVAL);
	cln_dedupe_opts_init(&o);
	o.n_old = 3;
	cr_expect_eq(cln_dedupe_run(s.recs, 1, &o, &r, &err), CRM_EINVAL);
	/* no records: nothing to do, not an error */
	cln_dedupe_opts_init(&o);
	cr_assert_eq(cln_dedupe_run(s.recs, 0, &o, &r, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(r->n_pairs, 0);
	cr_expect_eq(r->n_clusters, 0);
	cr_expect_eq(cln_review_write("/nonexistent-dir/r.csv", s.recs, r, &err), CRM_EIO);
	cr_expect(strstr(err.msg, "/nonexistent-dir/r.csv") != NULL, "%s", err.msg);
	cln_dedupe_result_free(r);
	cln_dedupe_result_free(NULL);
	set_fini(&s);
}

/* A background of 2,000 people with 200 duplicates gives EM its data; the
 * hand-made records are Olena Ivanenko written four ways. */
Test(dedupe, transitive_cluster_and_a_pair_found_only_by_phone)
{
	struct set s;
	set_init(&s, 2300);
	synth(&s, 2000, 200, 11);
	size_t x1 = add(&s, (const char *[]){ "X1", "Olena Ivanenko", "Olena", "Ivanenko",
		"olena.ivanenko@ukr.net", "+380 67 123 4567", "вул. Хрещатик, 4", "01001", "Київ",
		"UA", "female" }, "1985-03-04");
	/* X2: the name transposed, the e-mail in capitals, no phone */
	size_t x2 = add(&s, (const char *[]){ "X2", NULL, "Ivanenko", "Olena",
		"OLENA.IVANENKO@ukr.net", NULL, "вул. Хрещатик, 4", "01001", "Київ", "UA", "female" },
		"1985-03-04");
	/* X3: in Cyrillic, another e-mail, no address, the phone written the
	 * national way: only the phone (and birth date, postcode) link it */
	size_t x3 = add(&s, (const char *[]){ "X3", NULL, "Олена", "Іваненко",
		"o.ivanenko85@gmail.com", "067 123 45 67", NULL, "01001", "Київ", "UA", "female" },
		"1985-03-04");
	/* X4: a namesake in the same city, nothing else shared */
	size_t x4 = add(&s, (const char *[]){ "X4", NULL, "Olena", "Ivanenko",
		"olena.i@gmail.com", "+380 50 765 4321", "вул. Шевченка, 10", "01032", "Київ", "UA",
		"female" }, "1990-07-12");
	/* X5, X6: a Japanese name with its parts in the wrong fields */
	size_t x5 = add(&s, (const char *[]){ "X5", "加藤拓也", "拓也", "加藤",
		"katotakuya@docomo.ne.jp", "+81 70-6148-7622", "緑町9丁目5-14", "460-0981", "名古屋",
		"JP", "male" }, "1972-08-14");
	size_t x6 = add(&s, (const char *[]){ "X6", "拓也加藤", "加藤", "拓也",
		"katotakuya@docomo.ne.jp", "070-6148-7622", "緑町9丁目5-14", "460-0981", "名古屋",
		"JP", "male" }, "1972-08-14");
	struct cln_dedupe_result *r = run(&s, 0);
	const struct cln_pair *p56 = find_pair(r, (uint32_t)x5, (uint32_t)x6);
	cr_assert_not_null(p56);
	cr_expect_eq(p56->level[CLN_F_NAME], CLN_L_EXACT);
	cr_expect_eq(p56->level[CLN_F_PHONE], CLN_L_EXACT);
	cr_expect_geq(p56->prob, 0.9);
	const struct cln_pair *p13 = find_pair(r, (uint32_t)x1, (uint32_t)x3);
	cr_assert_not_null(p13, "X1-X3 was not a candidate");
	cr_expect_eq(p13->level[CLN_F_PHONE], CLN_L_EXACT);
	cr_expect_eq(p13->level[CLN_F_NAME], CLN_L_DIFFERENT);
	cr_expect_eq(p13->level[CLN_F_EMAIL], CLN_L_DIFFERENT);
	cr_expect_eq(p13->level[CLN_F_ADDRESS], CLN_L_MISSING);
	cr_expect_geq(p13->prob, 0.9, "X1-X3 p %g", p13->prob);
	const struct cln_pair *p12 = find_pair(r, (uint32_t)x1, (uint32_t)x2);
	cr_assert_not_null(p12);
	cr_expect_eq(p12->level[CLN_F_NAME], CLN_L_EXACT);   /* tokens sorted */
	cr_expect_eq(p12->level[CLN_F_EMAIL], CLN_L_EXACT);  /* case folded */
	cr_expect_eq(p12->level[CLN_F_POSTCODE], CLN_L_IMPLIED);
	cr_expect_eq(p12->level[CLN_F_CITY], CLN_L_IMPLIED);
	/* X2 and X3 share no e-mail, phone or name: joined only through X1 */
	const struct cln_pair *p23 = find_pair(r, (uint32_t)x2, (uint32_t)x3);
	cr_expect(p23 == NULL || p23->prob < 0.9);
	long c = cluster_of(r, (uint32_t)x1);
	cr_assert_geq(c, 0);
	cr_expect_eq(cluster_of(r, (uint32_t)x2), c);
	cr_expect_eq(cluster_of(r, (uint32_t)x3), c);
	cr_expect_eq(r->cluster_start[c + 1] - r->cluster_start[c], 3);
	cr_expect_eq(cluster_of(r, (uint32_t)x4), -1);
	cr_expect_geq(r->cluster_prob[c], 0.9);
	cln_dedupe_result_free(r);
	set_fini(&s);
}

/* --------------------------------------------------- EM on known truth */

static void pairs_vs_truth(const struct set *s, const struct cln_dedupe_result *r,
			   double *precision, double *recall)
{
	size_t tp = 0, pred = 0, truth = 0;
	for (size_t i = 0; i < s->n; i++)
		truth += s->orig[i] != i;
	for (size_t k = 0; k < r->n_review; k++) {
		const struct cln_pair *p = &r->pairs[k];
		if (p->prob < r->threshold)
			continue;
		pred++;
		tp += s->orig[p->b] == p->a || s->orig[p->a] == p->b;
	}
	*precision = pred ? (double)tp / (double)pred : 0;
	*recall = truth ? (double)tp / (double)truth : 0;
}

Test(dedupe, em_recovers_known_m_and_u)
{
	struct set s;
	set_init(&s, 4400);
	synth(&s, 4000, 400, 7);
	struct cln_dedupe_result *r = run(&s, 0);
	double precision, recall;
	pairs_vs_truth(&s, r, &precision, &recall);
	fprintf(stderr, "dedupe synthetic: %zu pairs compared, EM %d+%d+%d iterations, lambda %.3g"
		" (%.0f matches expected of 400), precision %.4f recall %.4f\n",
		(size_t)r->n_pairs, r->em_iterations[0], r->em_iterations[1], r->scope_iterations,
		r->lambda, r->lambda * r->n_scope_pairs, precision, recall);
	cr_expect_geq(precision, 0.95);
	cr_expect_geq(recall, 0.95);
	cr_expect(r->em_converged);
	/* 400 true pairs among 4400 * 4399 / 2 = 9,677,800 */
	cr_expect(fabs(r->lambda * r->n_scope_pairs - 400) < 20, "%g", r->lambda * r->n_scope_pairs);
	/* m of exact agreement: 0.8 / 0.9 = 0.889 by construction (see synth);
	 * tolerance 0.05 (400 pairs: the binomial sd is 0.016) */
	int fields[] = { CLN_F_NAME, CLN_F_EMAIL, CLN_F_PHONE, CLN_F_ADDRESS, CLN_F_BIRTH_DATE,
			 CLN_F_GENDER };
	for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
		int f = fields[k];
		cr_expect(fabs(r->m[f][CLN_L_EXACT] - 0.8 / 0.9) < 0.05, "m %s exact %g",
			  cln_field_name(f), r->m[f][CLN_L_EXACT]);
	}
	/* the postcode is compared only where the street addresses differ (an
	 * equal one says it: level implied): of a true pair's levels, exact is
	 * postcode same and address not exact 0.8 * 0.2 = 0.16, different is
	 * postcode changed 0.1, so m(exact) = 0.16 / 0.26 = 0.615 (about 104
	 * pairs: sd 0.05; tolerance 0.12) */
	cr_expect(fabs(r->m[CLN_F_POSTCODE][CLN_L_EXACT] - 0.16 / 0.26) < 0.12, "m postcode exact %g",
		  r->m[CLN_F_POSTCODE][CLN_L_EXACT]);
	/* the changes land on known levels: a letter dropped from the e-mail
	 * (half the changes) and the phone's last digit are one edit */
	cr_expect(fabs(r->m[CLN_F_EMAIL][CLN_L_CLOSE] - 0.05 / 0.9) < 0.03, "%g",
		  r->m[CLN_F_EMAIL][CLN_L_CLOSE]);
	cr_expect(fabs(r->m[CLN_F_EMAIL][CLN_L_DIFFERENT] - 0.05 / 0.9) < 0.03, "%g",
		  r->m[CLN_F_EMAIL][CLN_L_DIFFERENT]);
	cr_expect(fabs(r->m[CLN_F_PHONE][CLN_L_CLOSE] - 0.1 / 0.9) < 0.05, "%g",
		  r->m[CLN_F_PHONE][CLN_L_CLOSE]);
	/* u: random pairs agree on gender half the time; on a birth date drawn
	 * from 18,000 days about 1/18,000 (5.6e-5); on a city of 10 1/10 */
	cr_expect(fabs(r->u[CLN_F_GENDER][CLN_L_EXACT] - 0.5) < 0.02, "%g",
		  r->u[CLN_F_GENDER][CLN_L_EXACT]);
	cr_expect(r->u[CLN_F_BIRTH_DATE][CLN_L_EXACT] > 3e-5 && r->u[CLN_F_BIRTH_DATE][CLN_L_EXACT] < 9e-5,
		  "%g", r->u[CLN_F_BIRTH_DATE][CLN_L_EXACT]);
	cr_expect(fabs(r->u[CLN_F_CITY][CLN_L_EXACT] - 0.1) < 0.01, "%g",
		  r->u[CLN_F_CITY][CLN_L_EXACT]);
	/* e-mail addresses are unique to a person: u of an exact one is tiny */
	cr_expect_lt(r->u[CLN_F_EMAIL][CLN_L_EXACT], 1e-5);
	cln_dedupe_result_free(r);
	set_fini(&s);
}

Test(dedupe, capped_blocks_are_windowed_and_reported)
{
	struct set s;
	set_init(&s, 2200);
	synth(&s, 2000, 200, 3);
	struct cln_dedupe_opts o;
	struct cln_dedupe_result *r = NULL, *full = NULL;
	struct crm_err err = { 0, "" };
	cln_dedupe_opts_init(&o);
	cr_assert_eq(cln_dedupe_run(s.recs, s.n, &o, &full, &err), CRM_OK, "%s", err.msg);
	o.block_cap = 4;
	o.window = 2;
	cr_assert_eq(cln_dedupe_run(s.recs, s.n, &o, &r, &err), CRM_OK, "%s", err.msg);
	cr_expect_gt(r->n_capped, 0);
	cr_expect_gt(r->n_capped_records, 4 * r->n_capped);
	cr_expect_lt(r->n_pairs, full->n_pairs);
	double precision, recall;
	pairs_vs_truth(&s, r, &precision, &recall);
	cr_expect_geq(precision, 0.95);
	cr_expect_geq(recall, 0.9);
	cln_dedupe_result_free(r);
	cln_dedupe_result_free(full);
	set_fini(&s);
}

Test(dedupe, same_result_on_one_thread_and_two)
{
	struct set s;
	set_init(&s, 2200);
	synth(&s, 2000, 200, 5);
	struct cln_dedupe_opts o;
	struct cln_dedupe_result *r1 = NULL, *r2 = NULL;
	struct crm_err err = { 0, "" };
	cln_dedupe_opts_init(&o);
	o.threads = 1;
	cr_assert_eq(cln_dedupe_run(s.recs, s.n, &o, &r1, &err), CRM_OK, "%s", err.msg);
	o.threads = 2;
	cr_assert_eq(cln_dedupe_run(s.recs, s.n, &o, &r2, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(r1->n_pairs, r2->n_pairs);
	cr_assert_eq(r1->n_review, r2->n_review);
	cr_expect_eq(r1->lambda, r2->lambda);
	for (size_t k = 0; k < r1->n_review; k++) {
		cr_assert_eq(r1->pairs[k].a, r2->pairs[k].a);
		cr_assert_eq(r1->pairs[k].b, r2->pairs[k].b);
		cr_assert_eq(r1->pairs[k].prob, r2->pairs[k].prob);
	}
	cln_dedupe_result_free(r1);
	cln_dedupe_result_free(r2);
	set_fini(&s);
}

/* ------------------------------------------------------- with the store */

static char dir[256];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void import_customers(const char *db, const char *csv)
{
	struct ds_import_opts io;
	struct ing_summary sum;
	struct crm_err err = { 0, "" };
	memset(&io, 0, sizeof io);
	io.ing.decimal = '.';
	io.ing.entity = CRM_CUSTOMERS;
	cr_assert_eq(ds_import(db, csv, &io, &sum, &err), CRM_OK, "%s", err.msg);
}

/* The demo business of 5,000 customers (seed 42) in dir/demo. */
static void demo_make(void)
{
	char out[512];
	snprintf(out, sizeof out, "%s/demo", dir);
	struct demo_opts o = { 5000, 42, out };
	struct crm_err err = { 0, "" };
	cr_assert_eq(demo_generate(&o, NULL, &err), CRM_OK, "%s", err.msg);
}

/* The planted duplicate pairs of truth.json, as "original duplicate" lines. */
static char **truth_pairs(size_t *n)
{
	char path[512];
	json_error_t je;
	snprintf(path, sizeof path, "%s/demo/truth.json", dir);
	json_t *t = json_load_file(path, 0, &je);
	cr_assert_not_null(t, "%s", je.text);
	json_t *d = json_object_get(t, "duplicates");
	cr_assert(json_is_array(d));
	*n = json_array_size(d);
	char **out = calloc(*n, sizeof *out);
	for (size_t k = 0; k < *n; k++) {
		json_t *x = json_array_get(d, k);
		const char *a = json_string_value(json_object_get(x, "original"));
		const char *b = json_string_value(json_object_get(x, "duplicate"));
		cr_assert(a && b);
		out[k] = malloc(strlen(a) + strlen(b) + 2);
		sprintf(out[k], "%s %s", strcmp(a, b) < 0 ? a : b, strcmp(a, b) < 0 ? b : a);
	}
	json_decref(t);
	return out;
}

static void free_strs(char **s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(s[k]);
	free(s);
}

static int has(char **s, size_t n, const char *x)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(s[k], x) == 0)
			return 1;
	return 0;
}

/* The pairs inside the clusters of r, as "id id" lines (smaller id first). */
static char **cluster_pairs(const struct cln_customer *recs, const struct cln_dedupe_result *r,
			    size_t *n)
{
	size_t cap = 16, m = 0;
	char **out = malloc(cap * sizeof *out);
	for (size_t c = 0; c < r->n_clusters; c++)
		for (size_t i = r->cluster_start[c]; i < r->cluster_start[c + 1]; i++)
			for (size_t j = i + 1; j < r->cluster_start[c + 1]; j++) {
				const char *a = recs[r->cluster_member[i]].text[CLN_T_ID];
				const char *b = recs[r->cluster_member[j]].text[CLN_T_ID];
				if (m == cap)
					out = realloc(out, (cap *= 2) * sizeof *out);
				out[m] = malloc(strlen(a) + strlen(b) + 2);
				sprintf(out[m++], "%s %s", strcmp(a, b) < 0 ? a : b, strcmp(a, b) < 0 ? b : a);
			}
	*n = m;
	return out;
}

TestSuite(dedupe_db, .init = setup, .fini = teardown);

Test(dedupe_db, demo_precision_and_recall)
{
	char db[512], csv[512], review[512];
	struct st_db *sdb = NULL;
	struct cln_customers *cs = NULL;
	struct cln_dedupe_result *r = NULL;
	struct cln_dedupe_opts o;
	struct crm_err err = { 0, "" };
	demo_make();
	snprintf(db, sizeof db, "%s/crm.db", dir);
	snprintf(csv, sizeof csv, "%s/demo/customers.csv", dir);
	import_customers(db, csv);
	cr_assert_eq(st_open(db, ST_OPEN_WRITE, &sdb, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cln_dedupe_load(sdb, 0, &cs, &err), CRM_OK, "%s", err.msg);
	/* 5,000 people, 100 planted duplicates, 3 of the 31 bad rows are
	 * customers rows rejected on import: 5,100 stored */
	cr_expect_eq(cs->n, 5100);
	cr_expect_eq(cs->n_old, 0);
	cr_expect_eq(cs->max_cid, 5100);
	cr_expect_eq(cs->next_watermark, 5100);
	cln_dedupe_opts_init(&o);
	cr_assert_eq(cln_dedupe_run(cs->recs, cs->n, &o, &r, &err), CRM_OK, "%s", err.msg);
	size_t n_truth, n_pred, tp = 0;
	char **truth = truth_pairs(&n_truth);
	char **pred = cluster_pairs(cs->recs, r, &n_pred);
	for (size_t k = 0; k < n_pred; k++)
		tp += (size_t)has(truth, n_truth, pred[k]);
	double precision = n_pred ? (double)tp / (double)n_pred : 0;
	double recall = (double)tp / (double)n_truth;
	fprintf(stderr, "dedupe demo (5,000 customers, seed 42): %zu pairs compared, %zu clusters,"
		" %zu pairs predicted, %zu planted: precision %.4f recall %.4f\n",
		(size_t)r->n_pairs, r->n_clusters, n_pred, n_truth, precision, recall);
	cr_expect_eq(n_truth, 100);
	cr_expect_geq(precision, 0.95);
	cr_expect_geq(recall, 0.95);

	/* the review file: a header and one row per pair of the result */
	snprintf(review, sizeof review, "%s/review.csv", dir);
	cr_assert_eq(cln_review_write(review, cs->recs, r, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(count_lines(review), r->n_review + 1);
	char *text = read_file(review, NULL);
	const char *head = "customer_id_a,customer_id_b,probability,match_weight,name_level,"
			   "name_weight,email_level,";
	cr_expect(strncmp(text, head, strlen(head)) == 0, "%.120s", text);
	free(text);

	/* merge groups: the clusters' ids with their evidence */
	struct st_merge_group *g = NULL;
	cr_assert_eq(cln_merge_groups(cs->recs, r, &g, &err), CRM_OK, "%s", err.msg);
	for (size_t c = 0; c < r->n_clusters; c++) {
		cr_expect_eq(g[c].n, r->cluster_start[c + 1] - r->cluster_start[c]);
		cr_expect_eq(g[c].prob, r->cluster_prob[c]);
		cr_expect(strncmp(g[c].evidence, "dedupe: ", 8) == 0);
		cr_expect(strstr(g[c].evidence, g[c].ids[0]) != NULL, "%s", g[c].evidence);
	}
	cln_merge_groups_free(g, r->n_clusters);
	free_strs(truth, n_truth);
	free_strs(pred, n_pred);
	cln_dedupe_result_free(r);
	cln_customers_free(cs);
	st_close(sdb);
}

/* Copies the header and rows [from, to) of the CSV src (no line breaks in
 * fields) to dst. */
static void csv_part(const char *src, const char *dst, size_t from, size_t to)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	char line[4096];
	size_t row = 0;
	cr_assert(in && out);
	cr_assert_not_null(fgets(line, sizeof line, in));
	fputs(line, out);
	while (fgets(line, sizeof line, in)) {
		if (row >= from && row < to)
			fputs(line, out);
		row++;
	}
	fclose(in);
	fclose(out);
}

/* Merges the "a b" pairs into components and returns them as sorted
 * "a b c" lines, sorted. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **components(char **pairs, size_t n, size_t *n_out)
{
	/* ids: the distinct ones, sorted; then union-find over their indexes */
	char **ids = malloc((2 * n + 1) * sizeof *ids);
	size_t ni = 0;
	for (size_t k = 0; k < n; k++) {
		char *sp = strchr(pairs[k], ' ');
		ids[ni++] = strndup(pairs[k], (size_t)(sp - pairs[k]));
		ids[ni++] = strdup(sp + 1);
	}
	qsort(ids, ni, sizeof *ids, cmp_str);
	size_t u = 0;
	for (size_t k = 0; k < ni; k++) {
		if (u && strcmp(ids[u - 1], ids[k]) == 0) {
			free(ids[k]);
			continue;
		}
		ids[u++] = ids[k];
	}
	size_t *parent = malloc((u + 1) * sizeof *parent);
	for (size_t k = 0; k < u; k++)
		parent[k] = k;
	for (size_t k = 0; k < n; k++) {
		char *sp = strchr(pairs[k], ' '), a[64];
		snprintf(a, sizeof a, "%.*s", (int)(sp - pairs[k]), pairs[k]);
		const char *b = sp + 1;
		char **pa = bsearch(&(const char *){ a }, ids, u, sizeof *ids, cmp_str);
		char **pb = bsearch(&b, ids, u, sizeof *ids, cmp_str);
		size_t x = (size_t)(pa - ids), y = (size_t)(pb - ids);
		while (parent[x] != x)
			x = parent[x];
		while (parent[y] != y)
			y = parent[y];
		if (x != y)
			parent[x > y ? x : y] = x < y ? x : y;
	}
	char **out = calloc(u + 1, sizeof *out);
	size_t m = 0;
	for (size_t k = 0; k < u; k++) {
		size_t x = k;
		while (parent[x] != x)
			x = parent[x];
		if (x != k)
			continue;
		char line[1024] = "";
		for (size_t j = k; j < u; j++) {
			size_t y = j;
			while (parent[y] != y)
				y = parent[y];
			if (y == k)
				snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s",
					 line[0] ? " " : "", ids[j]);
		}
		out[m++] = strdup(line);
	}
	qsort(out, m, sizeof *out, cmp_str);
	for (size_t k = 0; k < u; k++)
		free(ids[k]);
	free(ids);
	free(parent);
	*n_out = m;
	return out;
}

Test(dedupe_db, incremental_compares_new_with_all_and_finds_the_same_clusters)
{
	char db[512], full_db[512], csv[512], h1[512], h2[512];
	struct st_db *sdb = NULL;
	struct cln_customers *cs = NULL;
	struct cln_dedupe_result *r = NULL;
	struct cln_dedupe_opts o;
	struct crm_err err = { 0, "" };
	demo_make();
	snprintf(csv, sizeof csv, "%s/demo/customers.csv", dir);
	snprintf(h1, sizeof h1, "%s/h1.csv", dir);
	snprintf(h2, sizeof h2, "%s/h2.csv", dir);
	csv_part(csv, h1, 0, 2550);
	csv_part(csv, h2, 2550, 100000);

	/* all at once */
	snprintf(full_db, sizeof full_db, "%s/full.db", dir);
	import_customers(full_db, csv);
	cr_assert_eq(st_open(full_db, ST_OPEN_WRITE, &sdb, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(cln_dedupe_load(sdb, 0, &cs, &err), CRM_OK, "%s", err.msg);
	cln_dedupe_opts_init(&o);
	cr_assert_eq(cln_dedupe_run(cs->recs, cs->n, &o, &r, &err), CRM_OK, "%s", err.msg);
	size_t n_full_pairs, n_full;
	char **full_pairs = cluster_pairs(cs->recs, r, &n_full_pairs);
	char **full = components(full_pairs, n_full_pairs, &n_full);
	uint64_t pairs_all = r->n_pairs;
	cln_dedupe_result_free(r);
	cln_customers_free(cs);
	st_close(sdb);

	/* half, dedupe, the rest, dedupe again */
	snprintf(db, sizeof db, "%s/crm.db", dir);
	import_customers(db, h1);
	cr_assert_eq(st_open(db, ST_OPEN_WRITE, &sdb, &err), CRM_OK, "%s", err.msg);
	int64_t wm = -1, pending = -1;
	cr_assert_eq(st_dedupe_state_get(sdb, &wm, &pending, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(wm, 0);
	cr_assert_eq(cln_dedupe_load(sdb, wm, &cs, &err), CRM_OK, "%s", err.msg);
	size_t n_first = cs->n;
	cln_dedupe_opts_init(&o);
	cr_assert_eq(cln_dedupe_run(cs->recs, cs->n, &o, &r, &err), CRM_OK, "%s", err.msg);
	size_t n1;
	char **p1 = cluster_pairs(cs->recs, r, &n1);
	cr_assert_eq(st_dedupe_state_set(sdb, cs->next_watermark, 0, &err), CRM_OK, "%s", err.msg);
	uint64_t pairs_first = r->n_pairs;
	cln_dedupe_result_free(r);
	cln_customers_free(cs);
	st_close(sdb);

	import_customers(db, h2);
	cr_assert_eq(st_open(db, ST_OPEN_WRITE, &sdb, &err), CRM_OK, "%s", err.msg);
	cr_assert_eq(st_dedupe_state_get(sdb, &wm, &pending, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(wm, (int64_t)n_first);
	cr_assert_eq(cln_dedupe_load(sdb, wm, &cs, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(cs->n_old, n_first);
	cr_expect_eq(cs->n, 5100);
	cln_dedupe_opts_init(&o);
	o.n_old = cs->n_old;
	cr_assert_eq(cln_dedupe_run(cs->recs, cs->n, &o, &r, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(r->n_new, 5100 - n_first);
	/* only pairs with a new record: together the two runs compared what
	 * the run over all did */
	for (size_t k = 0; k < r->n_review; k++)
		cr_expect_geq(r->pairs[k].b, cs->n_old);
	cr_expect_eq(pairs_first + r->n_pairs, pairs_all, "%llu + %llu vs %llu",
		     (unsigned long long)pairs_first, (unsigned long long)r->n_pairs,
		     (unsigned long long)pairs_all);
	size_t n2;
	char **p2 = cluster_pairs(cs->recs, r, &n2);
	char **both = malloc((n1 + n2 + 1) * sizeof *both);
	memcpy(both, p1, n1 * sizeof *both);
	memcpy(both + n1, p2, n2 * sizeof *both);
	size_t n_inc;
	char **inc = components(both, n1 + n2, &n_inc);
	cr_expect_eq(n_inc, n_full);
	for (size_t k = 0; k < n_inc && k < n_full; k++)
		cr_expect_str_eq(inc[k], full[k]);
	fprintf(stderr, "dedupe incremental: %llu + %llu pairs compared (all at once %llu),"
		" %zu clusters either way\n", (unsigned long long)pairs_first,
		(unsigned long long)r->n_pairs, (unsigned long long)pairs_all, n_inc);
	free(both);
	free_strs(p1, n1);
	free_strs(p2, n2);
	free_strs(inc, n_inc);
	free_strs(full, n_full);
	free_strs(full_pairs, n_full_pairs);
	cln_dedupe_result_free(r);
	cln_customers_free(cs);
	st_close(sdb);
}

/* ------------------------------------------------------------ the command */

static int sh(char **out, const char *fmt, ...)
{
	char cmd[4096], line[3072];
	const char *b = getenv("CRMSCOPE_BIN");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	b = b ? b : "build/crmscope";
	snprintf(cmd, sizeof cmd, "cd %s && B=%s%s; %s 2>&1", dir, b[0] == '/' ? "" : "$OLDPWD/", b,
		 line);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 1 << 16, n = 0, k;
	char *buf = malloc(cap);
	while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0)
		n += k;
	buf[n] = '\0';
	int st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(dedupe_db, command_review_apply_list_undo)
{
	char *o;
	cr_assert_eq(sh(&o, "$B dedupe"), 2);
	free(o);
	cr_assert_eq(sh(&o, "$B dedupe x.db --threshold 2"), 2);
	cr_expect(strstr(o, "--threshold takes a probability") != NULL, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B dedupe missing.db"), 1);
	free(o);
	demo_make();
	cr_assert_eq(sh(&o, "$B import crm.db customers demo/customers.csv"), 0, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B dedupe crm.db --review review.csv"), 0, "%s", o);
	cr_expect(strstr(o, "dedupe crm.db: 5,100 customers") != NULL, "%s", o);
	cr_expect(strstr(o, "  matches                   100 pairs with probability >= 0.90,"
			    " in 100 clusters") != NULL, "%s", o);
	cr_expect(strstr(o, "pending          100 pairs") != NULL, "%s", o);
	free(o);
	/* pairs were left pending: the next run compares all again, and merges */
	cr_assert_eq(sh(&o, "$B dedupe crm.db --apply"), 0, "%s", o);
	cr_expect(strstr(o, "new: all compared with all") != NULL, "%s", o);
	cr_expect(strstr(o, "merged 100 customers into 100: merge ids 1 to 100") != NULL, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B stats crm.db"), 0);
	cr_expect(strstr(o, "customers             5,000") != NULL, "%s", o);
	free(o);
	/* nothing new since: nothing compared */
	cr_assert_eq(sh(&o, "$B dedupe crm.db"), 0, "%s", o);
	cr_expect(strstr(o, "pairs compared              0 (nothing to score)") != NULL, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B dedupe crm.db --list"), 0, "%s", o);
	cr_expect(strstr(o, "applied") != NULL, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B dedupe crm.db --undo 7"), 0, "%s", o);
	cr_expect(strstr(o, "merge 7 undone") != NULL, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B stats crm.db"), 0);
	cr_expect(strstr(o, "customers             5,001") != NULL, "%s", o);
	free(o);
	cr_assert_eq(sh(&o, "$B dedupe crm.db --undo 7"), 1, "%s", o);
	free(o);
}
