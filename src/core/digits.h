/* digits.h - decimal digits eight bytes at once (core layer).
 * SWAR (SIMD within a register) for the short numbers every row of a file
 * holds: amounts (money.c) and numeric identifiers (strmap_number). The
 * digit test is the classic bytewise one; joining the digits in pairs,
 * fours and eights by three multiplications is D. Lemire's, "Quickly
 * parsing eight digits" (2018), as simdjson's parse_eight_digits_unrolled.
 * Only bytes inside the text are read: two 4-byte loads that may overlap. */
#ifndef CORE_DIGITS_H
#define CORE_DIGITS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HAVE_DIGITS_SWAR 1

/* Whether every byte of d is 0..9: no byte has its top bit set, before or
 * after adding 0x76 (9 + 0x76 = 0x7f, 10 + 0x76 = 0x80). A carry out of a
 * byte comes only from a byte that fails by itself. */
static inline int digits_all(uint64_t d)
{
	return ((d | (d + 0x7676767676767676ull)) & 0x8080808080808080ull) == 0;
}

/* The number whose digit values are the bytes of d (the most significant
 * in the lowest byte; zero bytes below the digits are leading zeros),
 * times `times`. d * 10 + (d >> 8) makes pairs in the even bytes; the two
 * products put p0 * 1e6 + p1 * 1e4 + p2 * 100 + p3 in their upper halves,
 * so a factor of 100 fits in the same constants as long as the result
 * stays below 2^32 (7 digits times 100 does: 999999900). */
static inline uint64_t digits_join(uint64_t d, uint64_t times)
{
	d = d * 10 + (d >> 8);
	return ((d & 0x000000ff000000ffull) * (times * (100 + (1000000ull << 32))) +
		((d >> 16) & 0x000000ff000000ffull) * (times * (1 + (10000ull << 32)))) >> 32;
}

/* p[0..k), 4 <= k <= 8, as the top k bytes of a word with zero bytes
 * below them, each byte turned into its digit value if it was one (bytes
 * that were not digits fail digits_all). */
static inline uint64_t digits_load(const char *p, size_t k)
{
	uint32_t lo, hi;
	memcpy(&lo, p, 4);
	memcpy(&hi, p + k - 4, 4);
	/* sh = 64 - 8k (mod 64: C wants < 64) */
	unsigned sh = (unsigned)(0 - 8 * k) & 63;
	return ((uint64_t)hi << 32 | (uint64_t)lo << sh) ^ 0x3030303030303030ull << sh;
}
#endif

/* The value of the n digits p[0..n), 1 <= n <= 9, or -1 when a byte is not
 * a digit. Leading zeros are allowed here (the callers decide). */
static inline int64_t digits_value(const char *p, size_t n)
{
#ifdef HAVE_DIGITS_SWAR
	if (n >= 4) {
		int64_t top = 0;
		if (n == 9) {
			unsigned dg = (unsigned)(unsigned char)p[0] - '0';
			if (dg > 9)
				return -1;
			top = (int64_t)dg * 100000000;
			p++;
			n--;
		}
		uint64_t d = digits_load(p, n);
		return digits_all(d) ? top + (int64_t)digits_join(d, 1) : -1;
	}
#endif
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)(unsigned char)p[i] - '0';
		if (dg > 9)
			return -1;
		v = v * 10 + dg;
	}
	return v;
}

#endif
