/* money.c - exact decimal parsing and printing (core layer).
 * Hand-written rather than strtod: binary floating point cannot hold 0.1, and
 * this parser runs once per amount on the import hot path. */
#include "money.h"

#include <stdio.h>
#include <string.h>

#include "core/digits.h"

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Powers of ten that scale a fraction of k digits (k 0..4) to 1e-4. */
static const int64_t frac_scale[] = { 10000, 1000, 100, 10, 1 };

/* The plain shape of amounts in files: an optional '-', 1 to 14
 * digits, and optionally dec and 1 to 4 digits, nothing else. Returns 0
 * with *out set, as money_parse would, or 1 for any other text (spaces,
 * '+', group separators, a bare or trailing dec, more digits): the general
 * parser then decides. One pass, no overflow check per digit: at most 20
 * bytes are read, and the digits are counted before v is used (14 digits
 * times 1e4 plus 9999 is below 1e18; a longer run may wrap v, unsigned,
 * and is refused). */
static inline int money_plain(const char *s, size_t n, char dec, int64_t *out)
{
	if (n == 0 || n > 20)
		return 1;
	size_t neg = s[0] == '-', dot = 0;   /* dot: the offset of dec, or 0 */
	uint64_t v = 0;
	for (size_t i = neg; i < n; i++) {
		unsigned digit = (unsigned)((unsigned char)s[i] - '0');
		if (digit <= 9)
			v = v * 10 + digit;
		else if (s[i] == dec && !dot && i > 0)
			dot = i;
		else
			return 1;
	}
	size_t n_int = (dot ? dot : n) - neg, n_frac = dot ? n - dot - 1 : 0;
	if (n_int == 0 || n_int > 14 || (dot && (n_frac == 0 || n_frac > 4)))
		return 1;
	int64_t m = (int64_t)v * frac_scale[n_frac];
	*out = neg ? -m : m;
	return 0;
}

#ifdef HAVE_DIGITS_SWAR
/* Short plain amounts, 8 bytes at once (core/digits.h). */

/* p[0..k), 4 <= k <= 8, with f decimals (a constant: 0, 1 or 2), negated
 * when neg: k digits, or digits, the separator (seen by the caller at
 * p[k - 1 - f]) and f digits. Returns 0 with *out set as money_plain would
 * (8 digits at most: no overflow), or 1 when any other byte is not a
 * digit. */
static inline __attribute__((always_inline))
int money_swar(const char *p, size_t k, int f, int neg, int64_t *out)
{
	uint64_t d = digits_load(p, k);
	/* the bytes below the separator move up one over it and a zero comes
	 * in at the bottom: a blend, ((x ^ y) & mask) ^ y */
	if (f == 2)
		d = ((d << 8 ^ d) & 0x0000ffffffffffffull) ^ d;
	else if (f == 1)
		d = ((d << 8 ^ d) & 0x00ffffffffffffffull) ^ d;
	if (!digits_all(d))
		return 1;
	int64_t m = f == 2 ? (int64_t)digits_join(d, 100)
			   : (int64_t)digits_join(d, 1) * (f == 1 ? 1000 : MONEY_SCALE);
	*out = neg ? -m : m;
	return 0;
}

/* p[0..k), 4 <= k <= 8: two decimals, one or none by where dec is. A
 * separator anywhere else is not a digit and fails. */
static inline __attribute__((always_inline))
int money_swar_any(const char *p, size_t k, char dec, int neg, int64_t *out)
{
	if (p[k - 3] == dec)
		return money_swar(p, k, 2, neg, out);
	if (p[k - 2] == dec)
		return money_swar(p, k, 1, neg, out);
	return money_swar(p, k, 0, neg, out);
}
#define HAVE_MONEY_SWAR 1
#endif

/* Any decimal number (see money_parse in money.h). Out of line, so that
 * the plain shape pays nothing for it. */
__attribute__((noinline))
static int money_parse_general(const char *s, size_t n, char dec, int64_t *out)
{
	char group = dec == ',' ? '.' : ',';
	size_t i = 0, end = n;
	int neg = 0, digits = 0, frac_digits = 0, round_up = 0;
	int64_t v = 0;

	while (i < end && is_space(s[i]))
		i++;
	while (end > i && is_space(s[end - 1]))
		end--;
	if (i < end && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	/* integer part, with group separators only between groups of three */
	size_t since_group = 0;
	int seen_group = 0;
	for (; i < end; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			if (v > (INT64_MAX / MONEY_SCALE - (c - '0')) / 10)
				return -2;
			v = v * 10 + (c - '0');
			digits++;
			since_group++;
		} else if (c == group && digits > 0 && (!seen_group ? since_group <= 3 : since_group == 3)) {
			seen_group = 1;
			since_group = 0;
		} else {
			break;
		}
	}
	if (seen_group && since_group != 3)
		return -1;
	v *= MONEY_SCALE;
	if (i < end && s[i] == dec) {
		i++;
		int64_t scale = MONEY_SCALE / 10;
		for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
			frac_digits++;
			if (scale > 0) {
				if (v > INT64_MAX - (s[i] - '0') * scale)
					return -2;
				v += (s[i] - '0') * scale;
				scale /= 10;
			} else if (frac_digits == 5) {
				round_up = s[i] >= '5';
			}
		}
	}
	if (i != end || digits + frac_digits == 0)
		return -1;
	if (round_up) {
		if (v == INT64_MAX)
			return -2;
		v++;
	}
	*out = neg ? -v : v;
	return 0;
}

/* The plain loop, then the general parser. */
__attribute__((noinline))
static int money_parse_long(const char *s, size_t n, char dec, int64_t *out)
{
	if (money_plain(s, n, dec, out) == 0)
		return 0;
	return money_parse_general(s, n, dec, out);
}

/* 1 to 3 digits, a count or a small whole amount, one at a time: 0 with
 * *out set, or 1 for anything else. */
static inline int money_small(const char *s, size_t n, int64_t *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)((unsigned char)s[i] - '0');
		if (d > 9)
			return 1;
		v = v * 10 + d;
	}
	*out = (int64_t)v * MONEY_SCALE;
	return 0;
}

/* What money_parse's first test leaves: money_small, then the plain loop,
 * then the general parser. Out of line, so that the first test keeps its
 * few registers. */
__attribute__((noinline))
static int money_parse_other(const char *s, size_t n, char dec, int64_t *out)
{
	if (n - 1 <= 2 && money_small(s, n, out) == 0)
		return 0;
	return money_parse_long(s, n, dec, out);
}

int money_parse(const char *s, size_t n, char dec, int64_t *out)
{
#ifdef HAVE_MONEY_SWAR
	/* the commonest amounts: 4 to 8 bytes after an optional '-' */
	if (n - 4 <= 4 && s[0] != '-') {
		if (money_swar_any(s, n, dec, 0, out) == 0)
			return 0;
	} else if (n - 5 <= 4 && s[0] == '-') {
		if (money_swar_any(s + 1, n - 1, dec, 1, out) == 0)
			return 0;
	}
#endif
	return money_parse_other(s, n, dec, out);
}

const char money_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *money_put_long_digits(char *p, uint64_t v)
{
	/* the digit count from the bit length: 2^b has about b * 1233 / 4096
	 * decimal digits (log10 2 = 0.30103 ~ 1233 / 4096), one more when v
	 * reaches the next power of ten */
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull
	};
	unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
	unsigned n = bits * 1233 >> 12;
	n += n < 20 && (v | 1) >= pow10[n];   /* 0 has one digit, as 1 */
	char *end = p + n, *q = end;
	while (v >= 100) {
		q -= 2;
		memcpy(q, money_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(q - 2, money_digit_pairs + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return end;
}

/* money_format for a constant places (0..4), so that the divisions are by
 * constants: magnitude m of a value, negative when neg. */
static inline __attribute__((always_inline))
size_t format_places(uint64_t m, int neg, int places, char *buf)
{
	static const uint64_t pow10[] = { 1, 10, 100, 1000, 10000 };
	uint64_t div = pow10[4 - places], q = m / div;
	if (div > 1 && m % div * 2 >= div)   /* half away from zero */
		q++;
	uint64_t ip = q / pow10[places], fp = q % pow10[places];
	char *p = buf;
	if (neg && q != 0)
		*p++ = '-';
	p = money_put_digits(p, ip);
	if (places > 0) {
		*p++ = '.';
		/* fp with its leading zeros: places digits */
		if (places & 1) {
			*p++ = (char)('0' + fp / pow10[places - 1]);
			fp %= pow10[places - 1];
		}
		if (places >= 4) {
			memcpy(p, money_digit_pairs + 2 * (fp / 100), 2);
			p += 2;
			fp %= 100;
		}
		if (places >= 2) {
			memcpy(p, money_digit_pairs + 2 * fp, 2);
			p += 2;
		}
	}
	*p = '\0';
	return (size_t)(p - buf);
}

size_t money_format(int64_t v, int places, char *buf)
{
	/* the magnitude as unsigned, so that INT64_MIN does not overflow */
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int neg = v < 0;
	switch (places < 0 ? 0 : places > 4 ? 4 : places) {
	case 0: return format_places(m, neg, 0, buf);
	case 1: return format_places(m, neg, 1, buf);
	case 2: return format_places(m, neg, 2, buf);
	case 3: return format_places(m, neg, 3, buf);
	default: return format_places(m, neg, 4, buf);
	}
}

size_t money_format_exact(int64_t v, char *buf)
{
	int places = 4;
	int64_t t = v;
	while (places > 0 && t % 10 == 0) {
		t /= 10;
		places--;
	}
	return money_format(v, places, buf);
}

int int_parse(const char *s, size_t n, int64_t *out)
{
	/* the plain shape first: an optional '-' and 1 to 14 digits, which the
	 * general way below takes as they are (14: see money_plain) */
	size_t neg = n > 0 && s[0] == '-', i = neg;
	int64_t v = 0;
	for (; i < n && i - neg < 15 && (unsigned)((unsigned char)s[i] - '0') <= 9; i++)
		v = v * 10 + (s[i] - '0');
	if (i == n && i > neg && i - neg <= 14) {
		*out = neg ? -v : v;
		return 0;
	}
	int rc = money_parse(s, n, '.', &v);
	if (rc != 0)
		return rc;
	if (v % MONEY_SCALE != 0)
		return -1;
	/* reject group separators in counts: "1,000" is ambiguous as a count */
	if (memchr(s, ',', n))
		return -1;
	*out = v / MONEY_SCALE;
	return 0;
}

size_t int_format_grouped(int64_t n, char *buf)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%lld", (long long)n);
	int neg = digits[0] == '-';
	int nd = len - neg;
	size_t k = 0;
	if (neg)
		buf[k++] = '-';
	for (int i = 0; i < nd; i++) {
		buf[k++] = digits[neg + i];
		if ((nd - i - 1) % 3 == 0 && i < nd - 1)
			buf[k++] = ',';
	}
	buf[k] = '\0';
	return k;
}

int64_t money_div_round(int64_t q, int64_t d)
{
	int64_t r = q / d, m = q % d;
	if (m < 0 ? -m >= d - -m : m >= d - m)
		r += q < 0 ? -1 : 1;
	return r;
}
