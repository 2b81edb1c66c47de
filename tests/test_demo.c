/* test_demo.c - the synthetic demo business (src/demo/).
 * Each test generates 2,000 customers into a temporary folder (a fraction of
 * a second) and reads the files back with a small RFC 4180 reader of its
 * own, so that what is checked does not depend on the project's reader. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/entity.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "demo/demo.h"
#include "ingest/import.h"
#include "support.h"

#define N_CUST 2000
#define YEAR_S (365 * 86400)

/* ------------------------------------------------------------ CSV reading */

#define MAX_F 24

struct trow {
	long line;          /* where the record starts, header = 1 */
	int nf;
	char *f[MAX_F];     /* unquoted, NUL-terminated, into table.buf */
};

struct table {
	char *buf;
	struct trow *rows;  /* rows[0] is the header */
	size_t n;           /* records, header included */
};

/* Parses a whole CSV file (RFC 4180, LF line ends) in place. */
static void table_read(struct table *t, const char *path)
{
	size_t len;
	t->buf = read_file(path, &len);
	cr_assert_not_null(t->buf, "cannot read %s", path);
	size_t cap = 1024;
	t->rows = malloc(cap * sizeof *t->rows);
	t->n = 0;
	char *p = t->buf, *end = t->buf + len;
	long line = 1;
	while (p < end) {
		if (t->n == cap) {
			cap *= 2;
			t->rows = realloc(t->rows, cap * sizeof *t->rows);
		}
		struct trow *r = &t->rows[t->n++];
		r->line = line;
		r->nf = 0;
		for (;;) {
			char *out = p, *start = p;
			cr_assert_lt(r->nf, MAX_F, "%s:%ld: too many fields", path, r->line);
			if (*p == '"') {
				p++;
				for (;;) {
					cr_assert_lt(p, end, "%s:%ld: unterminated quote", path, r->line);
					if (*p == '"' && p + 1 < end && p[1] == '"') {
						*out++ = '"';
						p += 2;
					} else if (*p == '"') {
						p++;
						break;
					} else {
						if (*p == '\n')
							line++;
						*out++ = *p++;
					}
				}
			} else {
				while (p < end && *p != ',' && *p != '\n')
					p++;
				out = p;
			}
			char sep = p < end ? *p : '\n';
			*out = '\0';
			r->f[r->nf++] = start;
			p++;
			if (sep == '\n') {
				line++;
				break;
			}
			cr_assert_eq(sep, ',', "%s:%ld: text after a closing quote", path, r->line);
		}
	}
}

static void table_free(struct table *t)
{
	free(t->buf);
	free(t->rows);
}

static int col(const struct table *t, const char *name)
{
	for (int i = 0; i < t->rows[0].nf; i++)
		if (strcmp(t->rows[0].f[i], name) == 0)
			return i;
	cr_assert_fail("no column %s", name);
	return -1;
}

static void read_entity(struct table *t, const char *dir, int e)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s.csv", dir, ent_get(e)->name);
	table_read(t, path);
}


/* ---------------------------------------------------------------- helpers */

static void generate(char *dir, size_t cap, uint64_t seed, struct demo_counts *c)
{
	tmpdir_make(dir, cap);
	struct demo_opts o = { N_CUST, seed, dir };
	struct crm_err err = { 0, "" };
	cr_assert_eq(demo_generate(&o, c, &err), CRM_OK, "%s", err.msg);
}

static json_t *truth_load(const char *dir)
{
	char path[512];
	json_error_t je;
	snprintf(path, sizeof path, "%s/truth.json", dir);
	json_t *t = json_load_file(path, 0, &je);
	cr_assert_not_null(t, "truth.json: %s", je.text);
	return t;
}

static double jnum(json_t *o, const char *path)
{
	/* a dotted path: "channels.search.bgnbd.r" */
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *v = o;
	for (char *k = strtok(buf, "."); k; k = strtok(NULL, "."))
		v = json_object_get(v, k);
	cr_assert(json_is_number(v), "truth.json has no number %s", path);
	return json_number_value(v);
}

/* The planted bad lines of a file, from truth.json: line -> reason. */
static size_t truth_bad(json_t *truth, const char *file, long *lines, const char **reasons,
			size_t cap)
{
	json_t *list = json_object_get(json_object_get(truth, "bad_rows"), file);
	cr_assert(json_is_array(list), "bad_rows has no %s", file);
	size_t n = json_array_size(list);
	cr_assert_leq(n, cap);
	for (size_t k = 0; k < n; k++) {
		json_t *x = json_array_get(list, k);
		lines[k] = (long)json_integer_value(json_object_get(x, "line"));
		reasons[k] = json_string_value(json_object_get(x, "reason"));
	}
	return n;
}

static int is_bad_line(const long *lines, size_t n, long line)
{
	for (size_t k = 0; k < n; k++)
		if (lines[k] == line)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ determinism */

static int same_file(const char *a, const char *b)
{
	size_t na, nb;
	char *pa = read_file(a, &na), *pb = read_file(b, &nb);
	int same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return same;
}

Test(demo, same_seed_gives_identical_bytes_other_seed_differs)
{
	char d1[256], d2[256], d3[256], a[512], b[512], c[512];
	struct demo_counts c1, c2, c3;
	generate(d1, sizeof d1, 7, &c1);
	generate(d2, sizeof d2, 7, &c2);
	generate(d3, sizeof d3, 8, &c3);
	const char *files[] = { "customers.csv", "orders.csv", "interactions.csv", "tickets.csv",
				"leads.csv", "spend.csv", "feedback.csv", "web_events.csv",
				"truth.json" };
	for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
		snprintf(a, sizeof a, "%s/%s", d1, files[k]);
		snprintf(b, sizeof b, "%s/%s", d2, files[k]);
		snprintf(c, sizeof c, "%s/%s", d3, files[k]);
		cr_expect(same_file(a, b), "%s differs between two runs of seed 7", files[k]);
		cr_expect(!same_file(a, c), "%s is the same for seeds 7 and 8", files[k]);
	}
	cr_expect_eq(memcmp(&c1, &c2, sizeof c1), 0);
	tmpdir_remove(d1);
	tmpdir_remove(d2);
	tmpdir_remove(d3);
}

/* ----------------------------------------------------- headers and counts */

Test(demo, headers_and_row_counts)
{
	char dir[256];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	size_t bad_total = 0;
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const struct ent_desc *d = ent_get(e);
		struct table t;
		read_entity(&t, dir, e);
		/* the header is the canonical field names in schema order */
		cr_assert_eq((size_t)t.rows[0].nf, d->n_fields, "%s header", d->name);
		for (size_t i = 0; i < d->n_fields; i++)
			cr_expect_str_eq(t.rows[0].f[i], d->fields[i].name);
		for (size_t r = 1; r < t.n; r++)
			cr_assert_eq((size_t)t.rows[r].nf, d->n_fields, "%s line %ld", d->name,
				     t.rows[r].line);
		cr_expect_eq(t.n - 1, c.rows[e], "%s: %zu records, counts say %zu", d->name,
			     t.n - 1, c.rows[e]);
		char name[64];
		snprintf(name, sizeof name, "%s.csv", d->name);
		cr_expect_eq((size_t)json_integer_value(json_object_get(json_object_get(truth, "rows"), name)),
			     c.rows[e]);
		cr_expect_gt(c.rows[e], 0, "%s is empty", d->name);
		bad_total += json_array_size(json_object_get(json_object_get(truth, "bad_rows"), name));
		table_free(&t);
	}
	/* 2% of 2,000 customers are written twice; the fault lists of csvw.c
	 * plant 3 + 5 + 4 + 4 + 4 + 3 + 5 + 3 = 31 bad rows */
	cr_expect_eq(c.duplicates_planted, 40);
	cr_expect_eq(json_array_size(json_object_get(truth, "duplicates")), 40);
	cr_expect_eq(c.bad_rows_planted, 31);
	cr_expect_eq(bad_total, 31);
	/* customers.csv: the people, their duplicates and the 3 bad rows */
	cr_expect_eq(c.rows[CRM_CUSTOMERS], N_CUST + 40 + 3);
	cr_expect_str_eq(json_string_value(json_object_get(truth, "as_of")), "2025-06-30");
	json_decref(truth);
	tmpdir_remove(dir);
}

/* ------------------------------------------------------------- bad rows */

/* Why a record must be quarantined, by the rules of docs/IMPORT.md applied
 * to the schema of core/entity.h; NULL when it is fine. */
static const char *row_fault(int e, const struct trow *r)
{
	const struct ent_desc *d = ent_get(e);
	int64_t v[CRM_MAX_FIELDS];
	int set[CRM_MAX_FIELDS];
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ent_field *fd = &d->fields[i];
		const char *s = r->f[i];
		size_t n = strlen(s);
		const char *why;
		set[i] = n > 0;
		v[i] = 0;
		if (n == 0) {
			if (fd->required)
				return "missing";
			continue;
		}
		switch (fd->type) {
		case FT_ENUM:
			if (!ent_enum_code(fd, s, n))
				return "bad_value";
			v[i] = ent_enum_code(fd, s, n);
			break;
		case FT_TIME: case FT_DATE:
			if (ts_parse_iso(s, n, &v[i], &why) != 0)
				return "bad_date";
			break;
		case FT_MONEY: case FT_DECIMAL:
			if (money_parse(s, n, '.', &v[i]) != 0)
				return "bad_number";
			break;
		case FT_INT: case FT_SCORE:
			if (int_parse(s, n, &v[i]) != 0)
				return "bad_number";
			break;
		default:
			break;
		}
		if ((fd->type == FT_INT || fd->type == FT_SCORE || fd->type == FT_DECIMAL) &&
		    fd->hi >= fd->lo && (v[i] < fd->lo || v[i] > fd->hi))
			return "out_of_range";
	}
	if (e == CRM_TICKETS && ((set[CRM_T_FIRST_RESPONSE_AT] && v[CRM_T_FIRST_RESPONSE_AT] < v[CRM_T_OPENED_AT]) ||
				 (set[CRM_T_RESOLVED_AT] && v[CRM_T_RESOLVED_AT] < v[CRM_T_OPENED_AT])))
		return "time_order";
	if (e == CRM_LEADS && set[CRM_L_CONVERTED_AT] && v[CRM_L_CONVERTED_AT] < v[CRM_L_CREATED_AT])
		return "time_order";
	if (e == CRM_FEEDBACK) {
		/* the scale is the kind's: NPS 0-10, CSAT 1-5, CES 1-7 */
		static const int64_t lo[] = { 0, 0, 1, 1 }, hi[] = { 0, 10, 5, 7 };
		int64_t k = v[CRM_F_KIND], s = v[CRM_F_SCORE];
		if (s < lo[k] || s > hi[k])
			return "out_of_range";
	}
	return NULL;
}

Test(demo, every_invalid_row_is_a_listed_planted_row)
{
	char dir[256];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		struct table t;
		long lines[32];
		const char *reasons[32];
		char name[64];
		snprintf(name, sizeof name, "%s.csv", ent_get(e)->name);
		size_t nb = truth_bad(truth, name, lines, reasons, 32);
		size_t found = 0;
		read_entity(&t, dir, e);
		for (size_t r = 1; r < t.n; r++) {
			const char *why = row_fault(e, &t.rows[r]);
			if (!why)
				continue;
			found++;
			size_t k = 0;
			while (k < nb && lines[k] != t.rows[r].line)
				k++;
			cr_expect_lt(k, nb, "%s:%ld is invalid (%s) but not listed", name,
				     t.rows[r].line, why);
			if (k < nb)
				cr_expect_str_eq(why, reasons[k], "%s:%ld", name, t.rows[r].line);
		}
		cr_expect_eq(found, nb, "%s: %zu invalid rows, %zu listed", name, found, nb);
		cr_expect_geq(nb, 3, "%s: only %zu bad rows", name, nb);
		table_free(&t);
	}
	json_decref(truth);
	tmpdir_remove(dir);
}

/* The project's importer, given the demo files, quarantines exactly the
 * planted rows, at the listed lines and for the listed reasons. */
static int count_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	(void)err;
	*(size_t *)ctx += b->n;
	for (size_t k = 0; k < b->n; k++)
		b->outcome[k] = ING_INSERTED;
	b->taken = b->n;
	b->stubs = 0;
	return CRM_OK;
}

Test(demo, importer_rejects_exactly_the_planted_rows)
{
	char dir[256], path[512], rej[512];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	for (int e = 0; e < CRM_N_ENTITIES; e++) {
		const char *name = ent_get(e)->name;
		char file[64];
		long lines[32];
		const char *reasons[32];
		size_t stored = 0;
		snprintf(file, sizeof file, "%s.csv", name);
		snprintf(path, sizeof path, "%s/%s", dir, file);
		snprintf(rej, sizeof rej, "%s/%s.rejects", dir, name);
		size_t nb = truth_bad(truth, file, lines, reasons, 32);
		struct ing_opts o;
		memset(&o, 0, sizeof o);
		o.entity = e;
		o.rejects_path = rej;
		struct ing_sink sink = { .ctx = &stored, .put = count_put };
		struct ing_summary s;
		struct crm_err err = { 0, "" };
		cr_assert_eq(ing_import(path, &o, &sink, &s, &err), CRM_OK, "%s", err.msg);
		cr_expect_eq((size_t)s.read, c.rows[e], "%s read", file);
		cr_expect_eq((size_t)s.rejected, nb, "%s: %lld rejected, %zu planted", file,
			     (long long)s.rejected, nb);
		cr_expect_eq(stored, c.rows[e] - nb, "%s stored", file);
		struct table t;
		table_read(&t, rej);
		int lc = col(&t, "line"), rc = col(&t, "reason");
		for (size_t r = 1; r < t.n; r++) {
			long line = atol(t.rows[r].f[lc]);
			size_t k = 0;
			while (k < nb && lines[k] != line)
				k++;
			cr_expect_lt(k, nb, "%s:%ld rejected (%s) but not planted", file, line,
				     t.rows[r].f[rc]);
			if (k < nb)
				cr_expect_str_eq(t.rows[r].f[rc], reasons[k], "%s:%ld", file, line);
		}
		table_free(&t);
	}
	json_decref(truth);
	tmpdir_remove(dir);
}

/* ---------------------------------------------------------------- scripts */

enum { S_LATIN, S_CYRILLIC, S_GREEK, S_CJK };

/* The script of a name by its first byte in UTF-8: Cyrillic U+0400-04FF is
 * D0-D3 xx, Greek U+0370-03FF is CD-CF xx, CJK ideographs U+4E00-9FFF are
 * E4-E9 xx xx. */
static int script_of(const char *s)
{
	unsigned char b = (unsigned char)s[0];
	if (b >= 0xD0 && b <= 0xD3)
		return S_CYRILLIC;
	if (b >= 0xCD && b <= 0xCF)
		return S_GREEK;
	if (b >= 0xE4 && b <= 0xE9)
		return S_CJK;
	return S_LATIN;
}

Test(demo, names_in_four_scripts_match_their_countries)
{
	char dir[256];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	json_t *dups = json_object_get(truth, "duplicates");
	struct table t;
	read_entity(&t, dir, CRM_CUSTOMERS);
	int ic = col(&t, "customer_id"), in = col(&t, "name"), ico = col(&t, "country");
	size_t n = 0, by[4] = { 0 };
	int seen_olena = 0;
	for (size_t r = 1; r < t.n; r++) {
		const char *id = t.rows[r].f[ic];
		int dup = 0;
		for (size_t k = 0; k < json_array_size(dups); k++)
			dup |= strcmp(id, json_string_value(json_object_get(json_array_get(dups, k),
									    "duplicate"))) == 0;
		if (dup || id[0] == '\0')
			continue;
		const char *name = t.rows[r].f[in], *cc = t.rows[r].f[ico];
		int s = script_of(name);
		int want = strcmp(cc, "UA") == 0 ? S_CYRILLIC : strcmp(cc, "GR") == 0 ? S_GREEK
			 : strcmp(cc, "CN") == 0 || strcmp(cc, "JP") == 0 ? S_CJK : S_LATIN;
		cr_expect_eq(s, want, "%s: name %s in country %s", id, name, cc);
		by[s]++;
		n++;
		/* "Олена" in UTF-8 */
		seen_olena |= strstr(name, "\xd0\x9e\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xb0") != NULL;
	}
	/* shares (names.c): UA 0.14, GR 0.10, CN + JP 0.26; each observed share
	 * within 5 binomial standard deviations, sqrt(s (1 - s) / n) */
	double share[4] = { 0.50, 0.14, 0.10, 0.26 };
	for (int s = 1; s < 4; s++) {
		double obs = (double)by[s] / (double)n;
		double tol = 5 * sqrt(share[s] * (1 - share[s]) / (double)n);
		cr_expect(fabs(obs - share[s]) < tol, "script %d: share %.3f, expected %.2f +- %.3f",
			  s, obs, share[s], tol);
	}
	cr_expect(seen_olena, "no Olena among %zu Ukrainian customers", by[S_CYRILLIC]);
	table_free(&t);
	json_decref(truth);
	tmpdir_remove(dir);
}

/* ------------------------------------------------------------- duplicates */

static const struct trow *find_customer(const struct table *t, int ic, const char *id)
{
	for (size_t r = 1; r < t->n; r++)
		if (strcmp(t->rows[r].f[ic], id) == 0)
			return &t->rows[r];
	return NULL;
}

static int has_variation(json_t *pair, const char *v)
{
	json_t *a = json_object_get(pair, "variations");
	for (size_t k = 0; k < json_array_size(a); k++)
		if (strcmp(json_string_value(json_array_get(a, k)), v) == 0)
			return 1;
	return 0;
}

static void digits_of(const char *s, char *out)
{
	for (; *s; s++)
		if (*s >= '0' && *s <= '9')
			*out++ = *s;
	*out = '\0';
}

Test(demo, duplicates_are_the_same_person_with_the_listed_variations)
{
	char dir[256];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	json_t *dups = json_object_get(truth, "duplicates");
	struct table t, o;
	read_entity(&t, dir, CRM_CUSTOMERS);
	read_entity(&o, dir, CRM_ORDERS);
	int ic = col(&t, "customer_id"), ie = col(&t, "email"), ip = col(&t, "phone"),
	    ig = col(&t, "given_name"), ifam = col(&t, "family_name"), ipc = col(&t, "postcode"),
	    isu = col(&t, "signup_at");
	size_t kinds = 0;
	for (size_t k = 0; k < json_array_size(dups); k++) {
		json_t *pair = json_array_get(dups, k);
		const char *a = json_string_value(json_object_get(pair, "original"));
		const char *b = json_string_value(json_object_get(pair, "duplicate"));
		const struct trow *ra = find_customer(&t, ic, a), *rb = find_customer(&t, ic, b);
		cr_assert(ra && rb, "pair %s %s not in customers.csv", a, b);
		cr_expect_str_neq(a, b);
		cr_expect_str_eq(ra->f[ipc], rb->f[ipc], "%s/%s postcode", a, b);
		cr_expect_lt(ts(ra->f[isu]), ts(rb->f[isu]), "%s signed up again before", b);
		if (has_variation(pair, "email_case")) {
			cr_expect_str_neq(ra->f[ie], rb->f[ie]);
			cr_expect_eq(strcasecmp(ra->f[ie], rb->f[ie]), 0, "%s/%s", ra->f[ie], rb->f[ie]);
			kinds |= 1;
		}
		if (has_variation(pair, "phone_format")) {
			char da[32], db[32];
			digits_of(ra->f[ip], da);
			digits_of(rb->f[ip], db);
			cr_expect_str_neq(ra->f[ip], rb->f[ip]);
			/* the same number, perhaps with the country code or trunk 0 */
			size_t la = strlen(da), lb = strlen(db), m = la < lb ? la : lb;
			cr_expect_str_eq(da + la - (m - 1), db + lb - (m - 1), "%s vs %s", ra->f[ip], rb->f[ip]);
			kinds |= 2;
		}
		if (has_variation(pair, "name_swap")) {
			cr_expect_str_eq(rb->f[ig], ra->f[ifam]);
			cr_expect_str_eq(rb->f[ifam], ra->f[ig]);
			kinds |= 4;
		}
		if (has_variation(pair, "missing_email"))
			cr_expect_str_eq(rb->f[ie], "");
		if (has_variation(pair, "email_typo")) {
			cr_expect_str_neq(ra->f[ie], rb->f[ie]);
			kinds |= 8;
		}
		/* at least one contact field still links them */
		char da[32], db[32];
		digits_of(ra->f[ip], da);
		digits_of(rb->f[ip], db);
		int link = (ra->f[ie][0] && strcasecmp(ra->f[ie], rb->f[ie]) == 0) ||
			   (da[0] && db[0] && strcmp(da + strlen(da) - 7, db + strlen(db) - 7) == 0);
		cr_expect(link, "%s/%s share neither e-mail nor phone", a, b);
		/* moved orders are the duplicate's in orders.csv */
		json_t *moved = json_object_get(pair, "moved_orders");
		int oi = col(&o, "order_id"), oc = col(&o, "customer_id");
		for (size_t m = 0; m < json_array_size(moved); m++) {
			const struct trow *ro = find_customer(&o, oi, json_string_value(json_array_get(moved, m)));
			cr_assert_not_null(ro);
			cr_expect_str_eq(ro->f[oc], b);
		}
	}
	cr_expect_eq(kinds, 15, "not every kind of variation was planted: %zx", kinds);
	table_free(&t);
	table_free(&o);
	json_decref(truth);
	tmpdir_remove(dir);
}

/* ------------------------------------------------ the models' true values */

/* Completed orders per person (duplicates merged into their originals), the
 * planted bad rows left out, and each person's acquisition channel. */
struct person {
	char id[16];
	int channel;             /* index into chan_names */
	int64_t first_at;        /* first completed order, or INT64_MAX */
	double first_amount;
	int64_t t[64];           /* completed order times (the first 64) */
	size_t n;
};

static const char *const chan_names[] = { "search", "social", "referral", "email", "affiliate" };

static int person_cmp(const void *a, const void *b)
{
	return strcmp(((const struct person *)a)->id, ((const struct person *)b)->id);
}

static struct person *people_load(const char *dir, json_t *truth, size_t *n_out)
{
	struct table t, o;
	long lines[32];
	const char *reasons[32];
	read_entity(&t, dir, CRM_CUSTOMERS);
	read_entity(&o, dir, CRM_ORDERS);
	json_t *dups = json_object_get(truth, "duplicates");
	struct person *p = calloc(t.n, sizeof *p);
	size_t n = 0;
	size_t nb = truth_bad(truth, "customers.csv", lines, reasons, 32);
	int ic = col(&t, "customer_id"), ich = col(&t, "acquisition_channel");
	for (size_t r = 1; r < t.n; r++) {
		const char *id = t.rows[r].f[ic];
		int dup = 0;
		for (size_t k = 0; k < json_array_size(dups); k++)
			dup |= strcmp(id, json_string_value(json_object_get(json_array_get(dups, k), "duplicate"))) == 0;
		if (dup || is_bad_line(lines, nb, t.rows[r].line))
			continue;
		snprintf(p[n].id, sizeof p[n].id, "%s", id);
		p[n].channel = -1;
		for (int k = 0; k < 5; k++)
			if (strcmp(t.rows[r].f[ich], chan_names[k]) == 0)
				p[n].channel = k;
		cr_assert_geq(p[n].channel, 0);
		p[n].first_at = INT64_MAX;
		n++;
	}
	qsort(p, n, sizeof *p, person_cmp);
	nb = truth_bad(truth, "orders.csv", lines, reasons, 32);
	int oc = col(&o, "customer_id"), ot = col(&o, "ordered_at"), oa = col(&o, "amount"),
	    os = col(&o, "status");
	for (size_t r = 1; r < o.n; r++) {
		const struct trow *row = &o.rows[r];
		if (is_bad_line(lines, nb, row->line) || strcmp(row->f[os], "completed") != 0)
			continue;
		const char *id = row->f[oc];
		for (size_t k = 0; k < json_array_size(dups); k++) {
			json_t *pair = json_array_get(dups, k);
			if (strcmp(id, json_string_value(json_object_get(pair, "duplicate"))) == 0)
				id = json_string_value(json_object_get(pair, "original"));
		}
		struct person key;
		snprintf(key.id, sizeof key.id, "%s", id);
		struct person *q = bsearch(&key, p, n, sizeof *p, person_cmp);
		cr_assert_not_null(q, "order of unknown customer %s", id);
		int64_t at = ts(row->f[ot]);
		/* orders.csv is in time order, so the first seen is the first */
		if (q->n == 0) {
			q->first_at = at;
			q->first_amount = atof(row->f[oa]);
		}
		if (q->n < 64)
			q->t[q->n] = at;
		q->n++;
	}
	table_free(&t);
	table_free(&o);
	*n_out = n;
	return p;
}

/* E[X(t)] of BG/NBD: given lambda and p, E[X(t)] = (1 - exp(-lambda p t)) / p
 * (Fader, Hardie & Lee 2005, the step before their eq. 9); over lambda ~
 * Gamma(r, alpha) the exponential's mean is (alpha / (alpha + p t))^r, and
 * the mean over p ~ Beta(a, b) is integrated numerically: the midpoint rule
 * on p = u^4, which makes the integrand smooth at 0 for a > 1/4. */
static double bgnbd_mean_x(double r, double alpha, double a, double b, double t)
{
	const int n = 20000;
	double lbeta = lgamma(a) + lgamma(b) - lgamma(a + b), sum = 0;
	for (int i = 0; i < n; i++) {
		double u = (i + 0.5) / n, p = u * u * u * u;
		double dens = exp((a - 1) * log(p) + (b - 1) * log1p(-p) - lbeta);
		sum += (1 - pow(alpha / (alpha + p * t), r)) / p * dens * 4 * u * u * u / n;
	}
	return sum;
}

Test(demo, purchase_rate_and_order_value_match_the_true_parameters)
{
	char dir[256];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	size_t n;
	struct person *p = people_load(dir, truth, &n);
	int64_t end = ts(json_string_value(json_object_get(truth, "end_exclusive")));
	json_t *ch = json_object_get(truth, "channels");

	/* (1) No repeat purchase within 365 days of the first. A live customer
	 * with rate lambda makes none with probability exp(-365 lambda): the
	 * seasonal multipliers average 1 over any 365-day window (truth.json,
	 * purchases.seasonality), and BG/NBD has no dropout before the first
	 * repeat purchase. Over lambda ~ Gamma(r, alpha): P0 = (alpha / (alpha
	 * + 365))^r. Customers are independent Bernoulli trials, so the
	 * tolerance is 4 standard deviations, sqrt(sum_c n_c P0_c (1 - P0_c)) / n.
	 * (2) The mean number of repeat purchases in those 365 days against
	 * E[X(365)] above, within 4 standard errors of the sample mean.
	 * (3) The first order's value: Gamma-Gamma gives E[z] = p gamma / (q - 1)
	 * and Var[z] = p (p + 1) gamma^2 / ((q - 1)(q - 2)) - E[z]^2 (from
	 * E[1/nu] = gamma / (q - 1), E[1/nu^2] = gamma^2 / ((q - 1)(q - 2))),
	 * independent across customers: 4 standard deviations of the mean. */
	double n0 = 0, n_cohort = 0, p0_sum = 0, p0_var = 0;
	double x_sum = 0, x_sq = 0, ex_sum = 0;
	double z_sum = 0, mu_sum = 0, z_var = 0, n_buyers = 0;
	double p0_c[5], ex_c[5], mu_c[5], var_c[5];
	for (int k = 0; k < 5; k++) {
		json_t *bg = json_object_get(json_object_get(ch, chan_names[k]), "bgnbd");
		json_t *gg = json_object_get(json_object_get(ch, chan_names[k]), "gamma_gamma");
		double r = jnum(bg, "r"), al = jnum(bg, "alpha"), a = jnum(bg, "a"), b = jnum(bg, "b");
		double pp = jnum(gg, "p"), q = jnum(gg, "q"), g = jnum(gg, "gamma");
		p0_c[k] = pow(al / (al + 365.0), r);
		ex_c[k] = bgnbd_mean_x(r, al, a, b, 365.0);
		mu_c[k] = pp * g / (q - 1);
		var_c[k] = pp * (pp + 1) * g * g / ((q - 1) * (q - 2)) - mu_c[k] * mu_c[k];
	}
	for (size_t i = 0; i < n; i++) {
		const struct person *q = &p[i];
		if (q->n == 0)
			continue;
		int k = q->channel;
		n_buyers++;
		z_sum += q->first_amount;
		mu_sum += mu_c[k];
		z_var += var_c[k];
		if (q->first_at > end - YEAR_S)
			continue;
		double x = 0;
		for (size_t j = 1; j < q->n && j < 64; j++)
			x += q->t[j] < q->first_at + YEAR_S;
		n_cohort++;
		n0 += x == 0;
		p0_sum += p0_c[k];
		p0_var += p0_c[k] * (1 - p0_c[k]);
		x_sum += x;
		x_sq += x * x;
		ex_sum += ex_c[k];
	}
	cr_assert_gt(n_cohort, 800, "only %.0f customers bought a year before the end", n_cohort);
	double p0 = n0 / n_cohort, p0_true = p0_sum / n_cohort, p0_tol = 4 * sqrt(p0_var) / n_cohort;
	cr_expect(fabs(p0 - p0_true) < p0_tol, "P(no repeat in 365 d) %.4f, true %.4f +- %.4f",
		  p0, p0_true, p0_tol);
	double xm = x_sum / n_cohort, x_true = ex_sum / n_cohort;
	double x_tol = 4 * sqrt((x_sq / n_cohort - xm * xm) / n_cohort);
	cr_expect(fabs(xm - x_true) < x_tol, "repeat purchases in 365 d %.4f, true %.4f +- %.4f",
		  xm, x_true, x_tol);
	double zm = z_sum / n_buyers, z_true = mu_sum / n_buyers, z_tol = 4 * sqrt(z_var) / n_buyers;
	cr_expect(fabs(zm - z_true) < z_tol, "first order value %.3f, true %.3f +- %.3f",
		  zm, z_true, z_tol);
	/* the tolerances are tight enough to mean something: a rate or value
	 * 20% off would fail them */
	cr_expect_lt(z_tol, 0.2 * z_true);
	cr_expect_lt(x_tol, 0.2 * x_true);
	free(p);
	json_decref(truth);
	tmpdir_remove(dir);
}

/* Marketing spend per channel over the customers whose first order fell in
 * the spend's month is the channel's true CAC: each month's spend is
 * cac x new x Gamma(50, 1/50), so the ratio is cac x a weighted mean of
 * noise terms with sd 1/sqrt(50) = 0.14; with 36 months or more per channel
 * 15% is over 4 standard deviations. Converted leads convert before the
 * first order. */
Test(demo, spend_gives_the_true_cac_and_leads_convert_before_ordering)
{
	char dir[256];
	struct demo_counts c;
	generate(dir, sizeof dir, 42, &c);
	json_t *truth = truth_load(dir);
	size_t n;
	struct person *p = people_load(dir, truth, &n);
	double spend[5] = { 0 }, new_c[5] = { 0 };
	struct table s, l;
	long lines[32];
	const char *reasons[32];
	read_entity(&s, dir, CRM_SPEND);
	size_t nb = truth_bad(truth, "spend.csv", lines, reasons, 32);
	int sc = col(&s, "channel"), sa = col(&s, "amount");
	for (size_t r = 1; r < s.n; r++) {
		if (is_bad_line(lines, nb, s.rows[r].line))
			continue;
		for (int k = 0; k < 5; k++)
			if (strcmp(s.rows[r].f[sc], chan_names[k]) == 0)
				spend[k] += atof(s.rows[r].f[sa]);
	}
	for (size_t i = 0; i < n; i++)
		new_c[p[i].channel] += p[i].n > 0;
	for (int k = 0; k < 5; k++) {
		char key[64];
		snprintf(key, sizeof key, "%s.cac", chan_names[k]);
		double cac = jnum(json_object_get(truth, "channels"), key);
		double got = spend[k] / new_c[k];
		cr_expect(fabs(got / cac - 1) < 0.15, "%s: CAC %.2f, true %.2f", chan_names[k], got, cac);
	}
	read_entity(&l, dir, CRM_LEADS);
	nb = truth_bad(truth, "leads.csv", lines, reasons, 32);
	int lc = col(&l, "customer_id"), lv = col(&l, "converted_at"), lcr = col(&l, "created_at");
	size_t converted = 0;
	for (size_t r = 1; r < l.n; r++) {
		const struct trow *row = &l.rows[r];
		if (is_bad_line(lines, nb, row->line) || row->f[lc][0] == '\0')
			continue;
		struct person key, *q;
		snprintf(key.id, sizeof key.id, "%s", row->f[lc]);
		q = bsearch(&key, p, n, sizeof *p, person_cmp);
		cr_assert_not_null(q, "lead of unknown customer %s", key.id);
		cr_expect_leq(ts(row->f[lcr]), ts(row->f[lv]));
		if (q->n)
			cr_expect_lt(ts(row->f[lv]), q->first_at, "%s converted after ordering", key.id);
		converted++;
	}
	cr_expect_gt(converted, N_CUST / 3);
	cr_expect_gt(l.n - 1, 2 * converted, "too few leads that never convert");
	table_free(&s);
	table_free(&l);
	free(p);
	json_decref(truth);
	tmpdir_remove(dir);
}

/* ----------------------------------------------------------------- errors */

Test(demo, rejects_bad_options)
{
	char dir[256], file[512];
	struct crm_err err = { 0, "" };
	struct demo_opts o = { 10, 1, NULL };
	cr_expect_eq(demo_generate(&o, NULL, &err), CRM_EINVAL);
	tmpdir_make(dir, sizeof dir);
	write_file(dir, "plain", "x", file, sizeof file);
	o.out_dir = file;         /* a file where a folder should be */
	cr_expect_eq(demo_generate(&o, NULL, &err), CRM_EIO);
	cr_expect(strstr(err.msg, "plain") != NULL, "%s", err.msg);
	o.out_dir = dir;
	o.customers = 50000000;
	cr_expect_eq(demo_generate(&o, NULL, &err), CRM_EINVAL);
	/* a tiny business still has every file and its faults */
	o.customers = 1;
	struct demo_counts c;
	cr_expect_eq(demo_generate(&o, &c, &err), CRM_OK, "%s", err.msg);
	cr_expect_eq(c.rows[CRM_CUSTOMERS], 1 + 0 + 3);
	tmpdir_remove(dir);
}
