/* norm.c - normalising and comparing customer fields for duplicate
 * detection (clean layer): Unicode folding of names, addresses, postcodes
 * and countries (utf8proc), e-mail provider rules, phone numbers to E.164,
 * Jaro-Winkler similarity and birth-date comparison. Short input needs no
 * allocation beyond the caller's output buffer. */
#include "clean/norm.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"
#include "core/tstamp.h"

/* ------------------------------------------------------------ code points */

/* Reads one code point of s[i..n) into *cp (-1 for an invalid or truncated
 * sequence) and returns the bytes it took (at least 1). */
static size_t next_cp(const char *s, size_t n, size_t i, int32_t *cp)
{
	size_t left = n - i;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
					      (utf8proc_ssize_t)(left < 4 ? left : 4), cp);
	if (k <= 0) {
		*cp = -1;
		return 1;
	}
	return (size_t)k;
}

/* Appends code point u (valid) to b; 0, or -1 when out of memory. */
static int put_cp(struct buf *b, int32_t u)
{
	if (buf_reserve(b, 4) != 0)
		return -1;
	utf8proc_ssize_t k = utf8proc_encode_char(u, (utf8proc_uint8_t *)b->p + b->len);
	b->len += (size_t)k;
	b->p[b->len] = '\0';
	return 0;
}

static void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* A code point array that lives in the caller's stack array `local` and
 * moves to the heap only for long input. */
struct cps {
	int32_t *p;
	size_t len, cap;
	int32_t *local;    /* not freed */
};

static int cps_grow(struct cps *c, size_t need)
{
	size_t cap = c->cap;
	while (cap < need) {
		if (cap > SIZE_MAX / 2 / sizeof(int32_t))
			return -1;
		cap *= 2;
	}
	int32_t *p = c->p == c->local ? xmallocn(cap, sizeof *p)
				      : xreallocn(c->p, cap, sizeof *p);
	if (!p)
		return -1;
	if (c->p == c->local)
		memcpy(p, c->local, c->len * sizeof *p);
	c->p = p;
	c->cap = cap;
	return 0;
}

static void cps_fini(struct cps *c)
{
	if (c->p != c->local)
		free(c->p);
}

/* ---------------------------------------------------------------- folding */

/* NFKC with full case folding and default ignorables removed (close to
 * NFKC_Casefold of Unicode UAX #44), combining marks stripped while
 * decomposing, before composition. */
#define FOLD_OPTS (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | \
		   UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE)
#define LOCAL_CPS 512

/* Apostrophes and the marks typed for them: dropped inside words
 * (Ukrainian writes the apostrophe inside words: "Мар'яна"). */
static int is_apostrophe(int32_t u)
{
	switch (u) {
	case 0x0027: case 0x0060: case 0x00B4: case 0x02B9: case 0x02BB:
	case 0x02BC: case 0x02BD: case 0x2018: case 0x2019: case 0xFF07:
		return 1;
	default:
		return 0;
	}
}

/* Scripts written without spaces between the parts of a name: Han, kana,
 * Hangul (Unicode blocks). */
static int is_cjk(int32_t u)
{
	return (u >= 0x2E80 && u <= 0x2FDF) || (u >= 0x3005 && u <= 0x3007) ||
	       (u >= 0x3040 && u <= 0x30FF) || (u >= 0x31F0 && u <= 0x31FF) ||
	       (u >= 0x3400 && u <= 0x4DBF) || (u >= 0x4E00 && u <= 0x9FFF) ||
	       (u >= 0xAC00 && u <= 0xD7AF) || (u >= 0xF900 && u <= 0xFAFF) ||
	       (u >= 0x20000 && u <= 0x3FFFF);
}

/* Letters, marks and numbers make words; everything else separates them. */
static int is_word_cp(int32_t u)
{
	if (u < 0x80)
		return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9');
	utf8proc_category_t c = utf8proc_category(u);
	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO);
}

/* Canonical ordering of combining marks (The Unicode Standard, section
 * 3.11), as utf8proc's own decomposition does, for the few characters of
 * non-zero combining class that STRIPMARK leaves. */
static void canonical_order(int32_t *p, size_t n)
{
	size_t i = 0;
	while (i + 1 < n) {
		if (p[i + 1] < 0x300) {   /* below the first combining mark */
			i++;
			continue;
		}
		int c1 = utf8proc_get_property(p[i])->combining_class;
		int c2 = utf8proc_get_property(p[i + 1])->combining_class;
		if (c1 > c2 && c2 > 0) {
			int32_t t = p[i];
			p[i] = p[i + 1];
			p[i + 1] = t;
			if (i > 0)
				i--;
		} else {
			i++;
		}
	}
}

/* Appends the folded form of s[0..n) to out: words separated by one space,
 * no space at either end, none between two CJK characters. 0, or -1 when
 * out of memory. */
static int fold_append(const char *s, size_t n, struct buf *out)
{
	int32_t local[LOCAL_CPS];
	struct cps c = { local, 0, LOCAL_CPS, local };
	int rc = -1;
	for (size_t i = 0; i < n;) {
		int32_t u;
		i += next_cp(s, n, i, &u);
		if (u < 0 || is_apostrophe(u))
			continue;
		if (u < 0x80) {
			/* ASCII is its own NFKC form; case folding maps A-Z only */
			if (c.len == c.cap && cps_grow(&c, c.len + 1) != 0)
				goto done;
			c.p[c.len++] = u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u;
			continue;
		}
		for (;;) {
			int bound = 0;
			utf8proc_ssize_t k = utf8proc_decompose_char(u, c.p + c.len,
				(utf8proc_ssize_t)(c.cap - c.len), FOLD_OPTS, &bound);
			if (k < 0)
				break;   /* not a character: dropped */
			if ((size_t)k <= c.cap - c.len) {
				c.len += (size_t)k;
				break;
			}
			if (cps_grow(&c, c.len + (size_t)k) != 0)
				goto done;
		}
	}
	canonical_order(c.p, c.len);
	utf8proc_ssize_t m = utf8proc_normalize_utf32(c.p, (utf8proc_ssize_t)c.len, FOLD_OPTS);
	if (m < 0)
		m = 0;
	size_t start = out->len;
	int32_t prev = 0;
	int space = 0;
	for (size_t k = 0; k < (size_t)m; k++) {
		int32_t u = c.p[k];
		if (is_apostrophe(u))
			continue;   /* also as a decomposition: U+0374 -> U+02B9 */
		if (!is_word_cp(u)) {
			space = 1;
			continue;
		}
		if (u == 0x03C2)   /* final sigma; case folding gives σ already */
			u = 0x03C3;
		if (space && out->len > start && !(is_cjk(prev) && is_cjk(u)) &&
		    buf_putc(out, ' ') != 0)
			goto done;
		space = 0;
		if (u < 0x80) {
			if (buf_putc(out, (char)u) != 0)
				goto done;
		} else if (put_cp(out, u) != 0) {
			goto done;
		}
		prev = u;
	}
	rc = 0;
done:
	cps_fini(&c);
	return rc;
}

int cl_norm_text(const char *s, size_t n, struct buf *out)
{
	buf_clear(out);
	if (fold_append(s, n, out) != 0) {
		buf_clear(out);
		return -1;
	}
	return 0;
}

struct tok {
	const char *p;
	size_t n;
};

static int tok_cmp(const void *a, const void *b)
{
	const struct tok *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
	if (c != 0)
		return c;
	return (x->n > y->n) - (x->n < y->n);
}

int cl_norm_name(const char *s, size_t n, struct buf *out)
{
	struct tok local[32], *t = local;
	int rc = -1;
	if (cl_norm_text(s, n, out) != 0)
		return -1;
	size_t len = out->len, n_tok = 1;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n_tok += out->p[i] == ' ';
	if (n_tok == 1)
		return 0;
	/* the sorted copy is built after the text, then moved down */
	if (buf_reserve(out, len) != 0)
		goto done;
	if (n_tok > sizeof local / sizeof local[0] && !(t = xmallocn(n_tok, sizeof *t)))
		goto done;
	size_t k = 0, from = 0;
	for (size_t i = 0; i <= len; i++)
		if (i == len || out->p[i] == ' ') {
			t[k].p = out->p + from;
			t[k++].n = i - from;
			from = i + 1;
		}
	qsort(t, n_tok, sizeof *t, tok_cmp);
	char *w = out->p + len;
	for (k = 0; k < n_tok; k++) {
		if (k)
			*w++ = ' ';
		memcpy(w, t[k].p, t[k].n);
		w += t[k].n;
	}
	memmove(out->p, out->p + len, len);
	out->p[len] = '\0';
	rc = 0;
done:
	if (t != local)
		free(t);
	if (rc != 0)
		buf_clear(out);
	return rc;
}

/* ---------------------------------------------------------------- address */

/* Endings of compound street names (German, Dutch): "hauptstrasse",
 * "hauptstr" -> "hauptst"; "marktplatz" -> "marktpl". */
static const struct { const char *end, *form; } street_ends[] = {
	{ "strasse", "st" }, { "straat", "st" }, { "str", "st" },
	{ "platz", "pl" }, { "plein", "pl" },
};

/* Bytes a word can grow by: no form of the street tables is longer
 * (tests/test_clean_norm.c checks). */
#define STREET_FORM_MAX 16

/* The replacement of word w[0..n): *form (static) and how many bytes of w
 * are kept before it (*keep); 0 when the word stays as it is. */
static int street_word(const char *w, size_t n, const char **form, size_t *keep)
{
	const char *f = cl_street_type(w, n);
	if (f) {
		*form = f;
		*keep = 0;
		return 1;
	}
	if (n < 5)
		return 0;
	for (size_t i = 0; i < sizeof street_ends / sizeof street_ends[0]; i++) {
		size_t e = strlen(street_ends[i].end);
		if (n >= e + 2 && memcmp(w + n - e, street_ends[i].end, e) == 0) {
			*form = street_ends[i].form;
			*keep = n - e;
			return 1;
		}
	}
	return 0;
}

int cl_norm_address(const char *s, size_t n, struct buf *out)
{
	if (cl_norm_text(s, n, out) != 0)
		return -1;
	size_t len = out->len, n_tok = 1, room;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n_tok += out->p[i] == ' ';
	/* the result is built after the text, then moved down */
	if (size_mul(n_tok, STREET_FORM_MAX, &room) != 0 || room > SIZE_MAX - len - 1 ||
	    buf_reserve(out, len + room) != 0) {
		buf_clear(out);
		return -1;
	}
	char *w = out->p + len;
	for (size_t from = 0, i = 0; i <= len; i++)
		if (i == len || out->p[i] == ' ') {
			const char *word = out->p + from, *form;
			size_t wn = i - from, keep;
			if (street_word(word, wn, &form, &keep)) {
				size_t fn = strlen(form);
				memcpy(w, word, keep);
				memcpy(w + keep, form, fn);
				w += keep + fn;
			} else {
				memcpy(w, word, wn);
				w += wn;
			}
			if (i < len)
				*w++ = ' ';
			from = i + 1;
		}
	size_t new_len = (size_t)(w - (out->p + len));
	memmove(out->p, out->p + len, new_len);
	out->len = new_len;
	out->p[new_len] = '\0';
	return 0;
}

/* ------------------------------------------------------ postcode, country */

int cl_norm_postcode(const char *s, size_t n, struct buf *out)
{
	if (cl_norm_text(s, n, out) != 0)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < out->len; i++) {
		char c = out->p[i];
		if (c == ' ')
			continue;
		out->p[k++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	out->len = k;
	if (out->p)
		out->p[k] = '\0';
	return 0;
}

int cl_norm_country(const char *s, size_t n, struct buf *out)
{
	if (cl_norm_text(s, n, out) != 0)
		return -1;
	const char *code = cl_country_code(out->p, out->len);
	if (code) {
		buf_clear(out);
		if (buf_append(out, code, 2) != 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ e-mail */

/* Whether d[0..n) is a provider's public suffix: "com", a country code
 * ("de"), or "co.xx" / "com.xx" ("co.uk", "com.br"). */
static int provider_suffix(const char *d, size_t n)
{
	if (n == 3 && memcmp(d, "com", 3) == 0)
		return 1;
	if (n == 2)
		return 1;
	return (n == 5 && memcmp(d, "co.", 3) == 0) || (n == 6 && memcmp(d, "com.", 4) == 0);
}

/* Whether the domain d[0..n) is `label` under a provider suffix. */
static int provider_is(const char *d, size_t n, const char *label)
{
	size_t l = strlen(label);
	return n > l + 1 && memcmp(d, label, l) == 0 && d[l] == '.' &&
	       provider_suffix(d + l + 1, n - l - 1);
}

static int domain_is(const char *d, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(d, name, n) == 0;
}

enum { TAG_NONE, TAG_PLUS, TAG_DASH, TAG_GMAIL };

/* The sub-addressing rule of a mail domain: Gmail (dots and "+tag" ignored:
 * Google Account Help "Dots don't matter in Gmail addresses"), Microsoft
 * and Apple, Fastmail, Proton ("+tag": each provider's help pages on plus
 * addressing), Yahoo ("-keyword" disposable addresses). */
static int domain_rule(const char *d, size_t n)
{
	static const char *const plus_exact[] = {
		"icloud.com", "me.com", "mac.com", "fastmail.com", "fastmail.fm",
		"protonmail.com", "protonmail.ch", "proton.me", "pm.me",
	};
	static const char *const plus_labels[] = { "outlook", "hotmail", "live", "msn" };
	if (domain_is(d, n, "gmail.com") || domain_is(d, n, "googlemail.com"))
		return TAG_GMAIL;
	for (size_t i = 0; i < sizeof plus_exact / sizeof plus_exact[0]; i++)
		if (domain_is(d, n, plus_exact[i]))
			return TAG_PLUS;
	for (size_t i = 0; i < sizeof plus_labels / sizeof plus_labels[0]; i++)
		if (provider_is(d, n, plus_labels[i]))
			return TAG_PLUS;
	if (provider_is(d, n, "yahoo") || domain_is(d, n, "ymail.com") ||
	    domain_is(d, n, "rocketmail.com"))
		return TAG_DASH;
	return TAG_NONE;
}

int cl_norm_email(const char *s, size_t n, struct buf *out)
{
	buf_clear(out);
	if (!s || n == 0)
		return 0;
	/* valid code points, lower case (ASCII, else Unicode's simple mapping),
	 * every space or control as one ' ' */
	if (buf_reserve(out, n) != 0)
		return -1;
	for (size_t i = 0; i < n;) {
		int32_t u;
		i += next_cp(s, n, i, &u);
		if (u < 0)
			continue;
		if (u <= 0x20 || u == 0x7F || (u >= 0x80 && u <= 0x9F) ||
		    (u >= 0x80 && utf8proc_category(u) == UTF8PROC_CATEGORY_ZS))
			u = ' ';
		else if (u >= 'A' && u <= 'Z')
			u = u - 'A' + 'a';
		else if (u >= 0x80)
			u = utf8proc_tolower(u);
		if (put_cp(out, u) != 0) {
			buf_clear(out);
			return -1;
		}
	}
	/* surrounding spaces and "mailto:" go; a space inside is no address */
	char *p = out->p;
	size_t a = 0, z = out->len;
	for (;;) {
		while (a < z && p[a] == ' ')
			a++;
		if (z - a >= 7 && memcmp(p + a, "mailto:", 7) == 0)
			a += 7;
		else
			break;
	}
	while (z > a && p[z - 1] == ' ')
		z--;
	size_t n_at = 0, at = 0;
	for (size_t i = a; i < z; i++) {
		if (p[i] == ' ')
			goto bad;
		if (p[i] == '@') {
			n_at++;
			at = i;
		}
	}
	if (n_at != 1)
		goto bad;
	size_t dom = at + 1, dn = z - dom;
	while (dn > 0 && p[dom + dn - 1] == '.')   /* "example.com." */
		dn--;
	if (at == a || dn == 0)
		goto bad;
	int rule = domain_rule(p + dom, dn);
	size_t ln = 0;
	for (size_t i = a; i < at; i++) {
		char c = p[i];
		if ((rule == TAG_GMAIL || rule == TAG_PLUS) && c == '+')
			break;
		if (rule == TAG_DASH && c == '-')
			break;
		if (rule == TAG_GMAIL && c == '.')
			continue;
		p[ln++] = c;
	}
	if (ln == 0)
		goto bad;
	p[ln++] = '@';
	if (rule == TAG_GMAIL) {
		memcpy(p + ln, "gmail.com", 9);
		ln += 9;
	} else {
		memmove(p + ln, p + dom, dn);
		ln += dn;
	}
	out->len = ln;
	p[ln] = '\0';
	return 0;
bad:
	buf_clear(out);
	return 0;
}

/* ------------------------------------------------------------------ phone */

static int starts_with(const char *d, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return k > 0 && k <= n && memcmp(d, pre, k) == 0;
}

/* Whether a national significant number of n digits fits plan p (any length
 * fits a plan whose lengths are not known). */
static int nsn_fits(const struct cl_phone_plan *p, size_t n)
{
	return p->nsn_min == 0 || (n >= p->nsn_min && n <= p->nsn_max);
}

/* Bytes of a trunk prefix to drop from the national digits d[0..n): its
 * length when d starts with it, unless d fits the plan as it is and would
 * not without it ("812 ..." in Russia is St Petersburg, not trunk 8). */
static size_t trunk_len(const struct cl_phone_plan *p, const char *d, size_t n)
{
	if (!starts_with(d, n, p->trunk))
		return 0;
	size_t t = strlen(p->trunk);
	if (p->nsn_min && nsn_fits(p, n) && !nsn_fits(p, n - t))
		return 0;
	return t;
}

/* How many of the national digits d[0..n) of plan p come before the
 * national significant number (trunk prefix, carrier code). */
static size_t national_skip(const struct cl_phone_plan *p, const char *d, size_t n)
{
	size_t t = trunk_len(p, d, n);
	if (strcmp(p->iso2, "BR") == 0 && t && n - t >= 12 && n - t <= 13)
		t += 2;   /* carrier selection code after the trunk 0 (Anatel) */
	if (strcmp(p->iso2, "MX") == 0 && !t) {
		/* long-distance and mobile prefixes abolished in August 2019 (IFT) */
		if (n == 12 && starts_with(d, n, "01"))
			t = 2;
		else if (n == 13 && (starts_with(d, n, "044") || starts_with(d, n, "045")))
			t = 3;
	}
	return t;
}

/* Plan of the `country` argument of cl_norm_phone: alpha-2, or an alpha-3
 * code or English name (ASCII) through the country table. */
static const struct cl_phone_plan *home_plan(const char *country)
{
	if (!country)
		return NULL;
	const struct cl_phone_plan *p = cl_phone_plan(country);
	if (p)
		return p;
	char low[64];
	size_t k = 0;
	for (; country[k] && k < sizeof low; k++) {
		char c = country[k];
		low[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	if (k == sizeof low)
		return NULL;
	const char *code = cl_country_code(low, k);
	return code ? cl_phone_plan(code) : NULL;
}

int cl_norm_phone(const char *s, size_t n, const char *country, struct buf *out)
{
	enum { ROOM = 8 };   /* "+" and a calling code fit before the digits */
	buf_clear(out);
	if (!s || n == 0)
		return 0;
	if (buf_reserve(out, n + ROOM) != 0)
		return -1;
	char *d = out->p + ROOM;
	size_t nd = 0;
	int plus = 0;
	for (size_t i = 0; i < n;) {
		int32_t u;
		i += next_cp(s, n, i, &u);
		if (u >= 0xFF10 && u <= 0xFF19)   /* full-width digits */
			u = u - 0xFF10 + '0';
		if (u >= '0' && u <= '9')
			d[nd++] = (char)u;
		else if ((u == '+' || u == 0xFF0B) && nd == 0)
			plus = 1;
		else if (nd > 0 && u >= 0 && utf8proc_category(u) >= UTF8PROC_CATEGORY_LU &&
			 utf8proc_category(u) <= UTF8PROC_CATEGORY_LO)
			break;   /* an extension follows */
	}
	if (nd < 6) {
		buf_clear(out);
		return 0;
	}
	const struct cl_phone_plan *home = home_plan(country), *p = NULL;
	size_t off = 0;          /* digits before the calling code */
	int intl = plus;
	if (!intl && home && starts_with(d, nd, home->idd)) {
		intl = 1;   /* before "00": Australia's is "0011" */
		off = strlen(home->idd);
	} else if (!intl && starts_with(d, nd, "00")) {
		intl = 1;
		off = 2;
	} else if (!intl && home && home->nsn_min && starts_with(d, nd, home->cc)) {
		/* the calling code written without "+" */
		size_t cl = strlen(home->cc);
		if (nsn_fits(home, nd - cl) &&
		    !nsn_fits(home, nd - national_skip(home, d, nd)))
			intl = 1;
	}
	const char *cc;
	size_t rest;             /* start of the national significant number */
	if (intl) {
		p = cl_phone_plan_cc(d + off, nd - off);
		if (!p) {
			out->p[0] = '+';
			memmove(out->p + 1, d + off, nd - off);
			out->len = 1 + nd - off;
			out->p[out->len] = '\0';
			return 0;
		}
		cc = p->cc;
		rest = off + strlen(cc);
		/* a trunk prefix written after the calling code: "+44 (0)20" */
		if (p->trunk[0] == '0')
			rest += trunk_len(p, d + rest, nd - rest);
		if (strcmp(p->iso2, "MX") == 0 && nd - rest == 11 && d[rest] == '1')
			rest++;   /* "+52 1" mobile prefix, abolished 2019 */
	} else if (home) {
		cc = home->cc;
		rest = national_skip(home, d, nd);
	} else {
		out->p[0] = '?';
		memmove(out->p + 1, d, nd);
		out->len = 1 + nd;
		out->p[out->len] = '\0';
		return 0;
	}
	size_t cl = strlen(cc);
	out->p[0] = '+';
	memcpy(out->p + 1, cc, cl);
	memmove(out->p + 1 + cl, d + rest, nd - rest);
	out->len = 1 + cl + nd - rest;
	out->p[out->len] = '\0';
	return 0;
}

/* ------------------------------------------------------------ Jaro-Winkler */

#define JW_LOCAL 256

/* Decodes s[0..n) into at most cap code points of u; returns how many
 * there are in all (may exceed cap, then only cap are stored). */
static size_t decode_cps(const char *s, size_t n, int32_t *u, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		int32_t c;
		i += next_cp(s, n, i, &c);
		if (c < 0)
			continue;
		if (k < cap)
			u[k] = c;
		k++;
	}
	return k;
}

/* Jaro (1989) similarity of code points a[0..na) and b[0..nb), both
 * non-empty; ma and mb are zeroed flags of na and nb bytes. */
static double jaro(const int32_t *a, size_t na, const int32_t *b, size_t nb,
		   unsigned char *ma, unsigned char *mb)
{
	size_t longer = na > nb ? na : nb;
	size_t window = longer / 2 > 0 ? longer / 2 - 1 : 0;
	size_t m = 0;
	for (size_t i = 0; i < na; i++) {
		size_t lo = i > window ? i - window : 0;
		size_t hi = i + window + 1 < nb ? i + window + 1 : nb;
		for (size_t j = lo; j < hi; j++)
			if (!mb[j] && a[i] == b[j]) {
				ma[i] = mb[j] = 1;
				m++;
				break;
			}
	}
	if (m == 0)
		return 0.0;
	/* matched characters in different order: half of them are the
	 * transpositions t */
	size_t half = 0;
	for (size_t i = 0, j = 0; i < na; i++) {
		if (!ma[i])
			continue;
		while (!mb[j])
			j++;
		half += a[i] != b[j];
		j++;
	}
	double dm = (double)m;
	return (dm / (double)na + dm / (double)nb + (dm - (double)half / 2.0) / dm) / 3.0;
}

double cl_jaro_winkler(const char *a, size_t na, const char *b, size_t nb)
{
	int32_t la[JW_LOCAL], lb[JW_LOCAL];
	unsigned char fa[JW_LOCAL], fb[JW_LOCAL];
	int32_t *ua = la, *ub = lb, *heap = NULL;
	unsigned char *ma = fa, *mb = fb;
	if (!a || !b)
		return 0.0;
	size_t ca = decode_cps(a, na, la, JW_LOCAL);
	size_t cb = decode_cps(b, nb, lb, JW_LOCAL);
	if (ca == 0 || cb == 0)
		return 0.0;
	if (ca > JW_LOCAL || cb > JW_LOCAL) {
		/* one block: code points of a and b, then the flags */
		size_t cells;
		if (size_mul(ca + cb, sizeof(int32_t) + 1, &cells) == 0 &&
		    (heap = malloc(cells)) != NULL) {
			ua = heap;
			ub = heap + ca;
			ma = (unsigned char *)(heap + ca + cb);
			mb = ma + ca;
			decode_cps(a, na, ua, ca);
			decode_cps(b, nb, ub, cb);
		} else {
			/* out of memory: the first JW_LOCAL code points of each */
			ca = ca < JW_LOCAL ? ca : JW_LOCAL;
			cb = cb < JW_LOCAL ? cb : JW_LOCAL;
		}
	}
	memset(ma, 0, ca);
	memset(mb, 0, cb);
	double j = jaro(ua, ca, ub, cb, ma, mb);
	/* Winkler (1990): common prefix l of at most 4, scale p = 0.1 */
	size_t l = 0;
	while (l < 4 && l < ca && l < cb && ua[l] == ub[l])
		l++;
	free(heap);
	return j + (double)l * 0.1 * (1.0 - j);
}

/* ------------------------------------------------------------ birth dates */

int cl_date_compare(int64_t a, int64_t b)
{
	if (a == CRM_NA || b == CRM_NA)
		return CL_DATE_MISSING;
	int64_t da = ts_day(a), db = ts_day(b);
	if (da == db)
		return CL_DATE_EXACT;
	int64_t ya, yb;
	unsigned ma, mb, dya, dyb;
	civil_from_days(da, &ya, &ma, &dya);
	civil_from_days(db, &yb, &mb, &dyb);
	/* a day that could be read as a month: 1 .. 12 */
	if (ya == yb && ma == dyb && dya == mb && dya <= 12 && ma <= 12)
		return CL_DATE_SWAPPED;
	return CL_DATE_DIFFERENT;
}
