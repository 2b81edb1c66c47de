/* fuzz_norm.c - libFuzzer target for the field normalisers and comparisons
 * of duplicate detection (src/clean/norm.c). Every normaliser and
 * Jaro-Winkler get arbitrary bytes. Checks: no crash or UB; outputs are
 * valid UTF-8 of the promised shape (single spaces, sorted name tokens,
 * phones of "+" or "?" and digits, one "@" in an e-mail); folding twice
 * changes nothing (text, e-mail); Jaro-Winkler stays in [0, 1], is 1 for equal non-empty
 * strings and is symmetric. */
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#include "clean/norm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_utf8(const struct buf *b)
{
	for (size_t i = 0; i < b->len;) {
		int32_t u;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)b->p + i,
						      (utf8proc_ssize_t)(b->len - i), &u);
		CHECK(k > 0);
		i += (size_t)k;
	}
	CHECK(b->len == 0 || b->p[b->len] == '\0');
}

/* Words separated by single spaces, none at the ends. */
static void check_words(const struct buf *b)
{
	check_utf8(b);
	if (b->len == 0)
		return;
	CHECK(b->p[0] != ' ' && b->p[b->len - 1] != ' ');
	CHECK(!memmem(b->p, b->len, "  ", 2));
}

static void check_sorted(const struct buf *b)
{
	const char *prev = NULL;
	size_t prev_n = 0, from = 0;
	for (size_t i = 0; i <= b->len && b->len; i++)
		if (i == b->len || b->p[i] == ' ') {
			const char *w = b->p + from;
			size_t n = i - from;
			if (prev) {
				int c = memcmp(prev, w, prev_n < n ? prev_n : n);
				CHECK(c < 0 || (c == 0 && prev_n <= n));
			}
			prev = w;
			prev_n = n;
			from = i + 1;
		}
}

/* f(f(x)) == f(x) for the folding normalisers. */
static void check_stable(int (*f)(const char *, size_t, struct buf *), const struct buf *once,
			 struct buf *twice)
{
	CHECK(f(once->p, once->len, twice) == 0);
	CHECK(twice->len == once->len);
	CHECK(once->len == 0 || memcmp(once->p, twice->p, once->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);

	CHECK(cl_norm_name(s, size, &a) == 0);
	check_words(&a);
	check_sorted(&a);
	/* (not stable as a whole: sorting can bring two CJK words together,
	 * which a second folding would join) */

	CHECK(cl_norm_text(s, size, &a) == 0);
	check_words(&a);
	check_stable(cl_norm_text, &a, &b);
	/* the name is the text's words sorted: as long as the text */
	CHECK(cl_norm_name(s, size, &b) == 0);
	CHECK(b.len == a.len);

	CHECK(cl_norm_address(s, size, &a) == 0);
	check_words(&a);

	CHECK(cl_norm_postcode(s, size, &a) == 0);
	check_utf8(&a);
	CHECK(!memchr(a.p ? a.p : "", ' ', a.len));

	CHECK(cl_norm_country(s, size, &a) == 0);
	check_words(&a);

	CHECK(cl_norm_email(s, size, &a) == 0);
	check_utf8(&a);
	if (a.len) {
		const char *at = memchr(a.p, '@', a.len);
		CHECK(at && at > a.p && at < a.p + a.len - 1);
		CHECK(!memchr(at + 1, '@', (size_t)(a.p + a.len - at - 1)));
		/* a normalised address normalises to itself */
		CHECK(cl_norm_email(a.p, a.len, &b) == 0);
		CHECK(b.len == a.len && memcmp(a.p, b.p, a.len) == 0);
	}

	static const char *const countries[] = { NULL, "UA", "US", "GB", "BR", "MX", "RU", "AU", "IT", "Ukraine" };
	for (size_t c = 0; c < sizeof countries / sizeof countries[0]; c++) {
		CHECK(cl_norm_phone(s, size, countries[c], &a) == 0);
		if (a.len == 0)
			continue;
		CHECK(a.p[0] == '+' || a.p[0] == '?');
		CHECK(a.len >= 2);
		for (size_t i = 1; i < a.len; i++)
			CHECK(a.p[i] >= '0' && a.p[i] <= '9');
		/* E.164 in, the same E.164 out */
		if (a.p[0] == '+') {
			CHECK(cl_norm_phone(a.p, a.len, countries[c], &b) == 0);
			CHECK(b.len <= a.len);
		}
	}

	/* Jaro-Winkler of the two halves, split at the first byte's value */
	size_t cut = size ? data[0] % (size + 1) : 0;
	const char *x = s, *y = s + cut;
	size_t nx = cut, ny = size - cut;
	double j = cl_jaro_winkler(x, nx, y, ny);
	CHECK(j >= 0.0 && j <= 1.0);
	CHECK(j == cl_jaro_winkler(y, ny, x, nx));
	double self = cl_jaro_winkler(s, size, s, size);
	CHECK(self == 0.0 || self == 1.0);

	int64_t t1 = 0, t2 = 0;
	if (size >= 16) {
		memcpy(&t1, data, 8);
		memcpy(&t2, data + 8, 8);
	}
	int d = cl_date_compare(t1, t2);
	CHECK(d >= CL_DATE_MISSING && d <= CL_DATE_DIFFERENT);
	CHECK(cl_date_compare(t2, t1) == d);

	buf_fini(&a);
	buf_fini(&b);
	return 0;
}
