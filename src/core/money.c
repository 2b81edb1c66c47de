/* money.c - exact decimal parsing and printing (core layer).
 * Hand-written rather than strtod: binary floating point cannot hold 0.1, and
 * this parser runs once per amount on the import hot path. */
#include "money.h"

#include <stdio.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Powers of ten that scale a fraction of k digits (k 0..4) to 1e-4. */
static const int64_t frac_scale[] = { 10000, 1000, 100, 10, 1 };

/* The plain shape of most amounts in files: an optional '-', 1 to 14
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

int money_parse(const char *s, size_t n, char dec, int64_t *out)
{
	if (money_plain(s, n, dec, out) == 0)
		return 0;
	return money_parse_general(s, n, dec, out);
}

size_t money_format(int64_t v, int places, char *buf)
{
	static const int64_t pow10[] = { 1, 10, 100, 1000, 10000 };
	if (places < 0)
		places = 0;
	if (places > 4)
		places = 4;
	int neg = v < 0;
	/* magnitude as unsigned so INT64_MIN does not overflow */
	uint64_t m = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t div = (uint64_t)pow10[4 - places];
	uint64_t q = m / div, r = m % div;
	if (div > 1 && r * 2 >= div)
		q++;
	uint64_t ip = q / (uint64_t)pow10[places], fp = q % (uint64_t)pow10[places];
	char tmp[32];
	size_t n = 0;
	if (places > 0) {
		for (int k = 0; k < places; k++) {
			tmp[n++] = (char)('0' + fp % 10);
			fp /= 10;
		}
		tmp[n++] = '.';
	}
	do {
		tmp[n++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	size_t len = 0;
	if (neg && q != 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
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
