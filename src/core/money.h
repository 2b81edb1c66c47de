/* money.h - exact decimal parsing and printing (core layer).
 * Money and decimals are int64 counts of ten-thousandths (1e-4), never
 * binary floating point (DESIGN.md). */
#ifndef CORE_MONEY_H
#define CORE_MONEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MONEY_SCALE 10000

/* Parses s[0..n) as a decimal number into ten-thousandths: optional spaces,
 * optional sign, digits with optional group separators in threes, optional
 * decimal separator (dec: '.' or ',') and digits. Digits past the fourth
 * decimal round half away from zero. Returns 0, -1 if not a number, -2 if
 * it overflows int64. */
int money_parse(const char *s, size_t n, char dec, int64_t *out);

/* Writes v as a decimal with exactly `places` decimals (0..4), rounding half
 * away from zero, into buf (at least 32 bytes). Returns the length. */
size_t money_format(int64_t v, int places, char *buf);

/* "00" "01" .. "99": the two digits of each number below 100, for
 * formatting two digits per division. */
extern const char money_digit_pairs[201];

/* money_put_digits for v of five digits or more. */
char *money_put_long_digits(char *p, uint64_t v);

/* Writes the decimal digits of v at p (no sign, no NUL, at most 20 bytes);
 * returns their end. The one integer writer of hot output paths. Inline for
 * the numbers of up to four digits that most cells of a table hold (counts,
 * days, whole units of money): a call was 5% of the customers table's CPU
 * time (perf, 10M orders). */
static inline char *money_put_digits(char *p, uint64_t v)
{
	if (v >= 10000)
		return money_put_long_digits(p, v);
	if (v >= 100) {
		if (v >= 1000) {
			memcpy(p, money_digit_pairs + 2 * (v / 100), 2);
			p += 2;
		} else {
			*p++ = (char)('0' + v / 100);
		}
		memcpy(p, money_digit_pairs + 2 * (v % 100), 2);
		return p + 2;
	}
	if (v >= 10) {
		memcpy(p, money_digit_pairs + 2 * v, 2);
		return p + 2;
	}
	*p = (char)('0' + v);
	return p + 1;
}

/* Writes v with the fewest decimals (0..4) that show it exactly. */
size_t money_format_exact(int64_t v, char *buf);

/* Parses a whole number with optional sign and spaces; a decimal part of
 * zeros (as "12.0") is accepted. Returns 0, -1 not an integer, -2 overflow. */
int int_parse(const char *s, size_t n, int64_t *out);

/* q / d rounded half away from zero; d > 0. */
int64_t money_div_round(int64_t q, int64_t d);

/* Writes the whole number n with thousands separators ("-1,234,567") into
 * buf (at least 32 bytes). Returns the length. */
size_t int_format_grouped(int64_t n, char *buf);

#endif
