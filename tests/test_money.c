/* test_money.c - exact decimal parsing and printing (src/core/money.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/money.h"

static int64_t parse(const char *s, char dec)
{
	int64_t v = 0;
	cr_assert_eq(money_parse(s, strlen(s), dec, &v), 0, "parse %s", s);
	return v;
}

static int parse_rc(const char *s)
{
	int64_t v;
	return money_parse(s, strlen(s), '.', &v);
}

Test(money, parses_exact_ten_thousandths)
{
	cr_assert_eq(parse("11.77", '.'), 117700);
	cr_assert_eq(parse("0.001", '.'), 10);      /* a three-decimal unit price */
	cr_assert_eq(parse("-53594.36", '.'), -535943600);
	cr_assert_eq(parse(" 12 ", '.'), 120000);
	cr_assert_eq(parse("+3.5", '.'), 35000);
	cr_assert_eq(parse(".5", '.'), 5000);
	cr_assert_eq(parse("7.", '.'), 70000);
	cr_assert_eq(parse("1,234.5", '.'), 12345000);
	cr_assert_eq(parse("1.234,56", ','), 12345600);
	cr_assert_eq(parse("12,5", ','), 125000);
}

Test(money, rounds_half_away_from_zero_past_four_decimals)
{
	cr_assert_eq(parse("0.00005", '.'), 1);
	cr_assert_eq(parse("0.00004999", '.'), 0);
	cr_assert_eq(parse("-0.00005", '.'), -1);
	cr_assert_eq(parse("2.71828", '.'), 27183);
}

Test(money, rejects_non_numbers_and_overflow)
{
	cr_assert_eq(parse_rc(""), -1);
	cr_assert_eq(parse_rc("-"), -1);
	cr_assert_eq(parse_rc("12a"), -1);
	cr_assert_eq(parse_rc("1.2.3"), -1);
	cr_assert_eq(parse_rc("1,23.4"), -1);    /* groups must be of three */
	cr_assert_eq(parse_rc("1e5"), -1);
	cr_assert_eq(parse_rc("922337203685477.5807"), 0);
	cr_assert_eq(parse_rc("9223372036854775807"), -2);
	cr_assert_eq(parse_rc("99999999999999999999999"), -2);
}

Test(money, formats)
{
	char b[32];
	money_format(25003156300, 2, b);
	cr_assert_str_eq(b, "2500315.63");
	money_format(-10, 2, b);
	cr_assert_str_eq(b, "0.00");     /* rounds to zero: no minus sign */
	money_format(-50, 2, b);
	cr_assert_str_eq(b, "-0.01");
	money_format(INT64_MIN, 0, b);
	cr_assert_str_eq(b, "-922337203685478");
	money_format_exact(83482085740, b);
	cr_assert_str_eq(b, "8348208.574");
	money_format_exact(0, b);
	cr_assert_str_eq(b, "0");
}

Test(money, integers)
{
	int64_t v;
	cr_assert_eq(int_parse("12", 2, &v), 0);
	cr_assert_eq(v, 12);
	cr_assert_eq(int_parse("-96", 3, &v), 0);
	cr_assert_eq(v, -96);
	cr_assert_eq(int_parse("3.0", 3, &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(int_parse("3.5", 3, &v), -1);
	cr_assert_eq(int_parse("1,000", 5, &v), -1);
}

/* The plain shape ('-'?, 1-14 digits, then '.' and 1-4 digits) is parsed
 * by a fast path; everything next to its limits goes the general way and
 * must give the same values and errors. */
Test(money, plain_shape_at_its_limits)
{
	/* 14 digits and 4 decimals: 99999999999999.9999 = 999999999999999999 e-4 */
	cr_assert_eq(parse("99999999999999.9999", '.'), 999999999999999999LL);
	cr_assert_eq(parse("-99999999999999.9999", '.'), -999999999999999999LL);
	cr_assert_eq(parse("-12345678901234.5678", '.'), -123456789012345678LL); /* 20 bytes */
	/* 15 digits: the general way; INT64_MAX / 1e4 = 922337203685477.5807 */
	cr_assert_eq(parse("123456789012345", '.'), 1234567890123450000LL);
	cr_assert_eq(parse("922337203685477", '.'), 9223372036854770000LL);
	cr_assert_eq(parse_rc("922337203685478"), -2);
	cr_assert_eq(parse_rc("1234567890123456"), -2);             /* 16 digits */
	cr_assert_eq(parse_rc("-1234567890123456.5"), -2);
	/* leading zeros count as digits but not toward overflow */
	cr_assert_eq(parse("00000000000000000001", '.'), 10000);     /* 20 digits */
	cr_assert_eq(parse("007.50", '.'), 75000);
	/* a fifth decimal rounds half away from zero: 1.2345|5 -> 1.2346 */
	cr_assert_eq(parse("1.23455", '.'), 12346);
	cr_assert_eq(parse("-1.23455", '.'), -12346);
	cr_assert_eq(parse("1.23454", '.'), 12345);
	cr_assert_eq(parse("12345678901234.56780", '.'), 123456789012345678LL);
	/* zeros, and a decimal point at either end */
	cr_assert_eq(parse("-0.00", '.'), 0);
	cr_assert_eq(parse("-0", '.'), 0);
	cr_assert_eq(parse("0", '.'), 0);
	cr_assert_eq(parse(".5", '.'), 5000);
	cr_assert_eq(parse("-.5", '.'), -5000);
	cr_assert_eq(parse("5.", '.'), 50000);
	cr_assert_eq(parse("-5.", '.'), -50000);
	cr_assert_eq(parse("29.55", '.'), 295500);
	cr_assert_eq(parse("0.0001", '.'), 1);
	/* not numbers */
	cr_assert_eq(parse_rc("."), -1);
	cr_assert_eq(parse_rc("-."), -1);
	cr_assert_eq(parse_rc("--1"), -1);
	cr_assert_eq(parse_rc("1-"), -1);
	cr_assert_eq(parse_rc("1..2"), -1);
	cr_assert_eq(parse_rc("1.2a"), -1);
	cr_assert_eq(parse_rc("1 2"), -1);
	cr_assert_eq(parse_rc("12,34"), -1);   /* a group of two */
	/* spaces, '+' and groups are the general way's, with the same answers */
	cr_assert_eq(parse(" 1.5", '.'), 15000);
	cr_assert_eq(parse("1.5\t", '.'), 15000);
	cr_assert_eq(parse("+1.5", '.'), 15000);
	cr_assert_eq(parse("12,345.6789", '.'), 123456789);
}

Test(money, plain_shape_with_a_decimal_comma)
{
	cr_assert_eq(parse("12,34", ','), 123400);
	cr_assert_eq(parse("-0,5", ','), -5000);
	cr_assert_eq(parse("1.234,5", ','), 12345000);   /* '.' groups */
	int64_t v;
	cr_assert_eq(money_parse("12.34", 5, ',', &v), -1);   /* "12.34": a group of two */
}

Test(money, integers_plain_and_general)
{
	int64_t v = 0;
	cr_assert_eq(int_parse("12345678901234", 14, &v), 0);   /* 14 digits */
	cr_assert_eq(v, 12345678901234LL);
	cr_assert_eq(int_parse("-12345678901234", 15, &v), 0);
	cr_assert_eq(v, -12345678901234LL);
	cr_assert_eq(int_parse("123456789012345", 15, &v), 0);  /* 15: the general way */
	cr_assert_eq(v, 123456789012345LL);
	cr_assert_eq(int_parse("922337203685478", 15, &v), -2); /* x 1e4 overflows */
	cr_assert_eq(int_parse("007", 3, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(int_parse("-0", 2, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(int_parse(" 5", 2, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(int_parse("+5", 2, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(int_parse("", 0, &v), -1);
	cr_assert_eq(int_parse("-", 1, &v), -1);
	cr_assert_eq(int_parse("5-", 2, &v), -1);
	cr_assert_eq(int_parse("1,000", 5, &v), -1);
}

/* ------------------------------------------ the short paths (issue: SWAR)
 *
 * money_parse reads amounts of up to 8 bytes after an optional '-' with
 * two decimals, one or none 8 bytes at once, and 1 to 3 digits one by one;
 * everything else goes the plain loop or the general way. Each shape next
 * to the edges of those paths, with its value worked out by hand. */
Test(money, short_paths_at_their_edges)
{
	/* zeros */
	cr_assert_eq(parse("0", '.'), 0);
	cr_assert_eq(parse("0.00", '.'), 0);
	cr_assert_eq(parse("-0.00", '.'), 0);
	cr_assert_eq(parse("00000000", '.'), 0);
	cr_assert_eq(parse("-0.01", '.'), -100);
	/* two decimals, 4 to 8 bytes after the sign: 1 to 5 digits before */
	cr_assert_eq(parse("1.00", '.'), 10000);
	cr_assert_eq(parse("29.55", '.'), 295500);
	cr_assert_eq(parse("-3.20", '.'), -32000);
	cr_assert_eq(parse("12345.67", '.'), 123456700);
	cr_assert_eq(parse("-99999.99", '.'), -999999900);
	cr_assert_eq(parse("123456.78", '.'), 1234567800);     /* 9 bytes: the loop */
	cr_assert_eq(parse("-123456.78", '.'), -1234567800);
	/* one decimal, and none */
	cr_assert_eq(parse("1234.5", '.'), 12345000);
	cr_assert_eq(parse("-1234567.8", '.'), -12345678000);  /* 9 bytes after '-' */
	cr_assert_eq(parse("7", '.'), 70000);
	cr_assert_eq(parse("42", '.'), 420000);
	cr_assert_eq(parse("999", '.'), 9990000);
	cr_assert_eq(parse("-7", '.'), -70000);
	cr_assert_eq(parse("1000", '.'), 10000000);
	cr_assert_eq(parse("12345678", '.'), 123456780000LL);
	cr_assert_eq(parse("-12345678", '.'), -123456780000LL);
	cr_assert_eq(parse("123456789", '.'), 1234567890000LL);
	/* three and four decimals: the loop; nothing is rounded */
	cr_assert_eq(parse("1.005", '.'), 10050);
	cr_assert_eq(parse("29.555", '.'), 295550);
	cr_assert_eq(parse("1234.5678", '.'), 12345678);
	cr_assert_eq(parse("-3.2001", '.'), -32001);
	/* a fifth decimal rounds half away from zero: 1.0000|5 -> 1.0001 */
	cr_assert_eq(parse("1.00005", '.'), 10001);
	cr_assert_eq(parse("1.00004", '.'), 10000);
	cr_assert_eq(parse("-1.00005", '.'), -10001);
	/* 14 digits before the point: the loop; 15: the general way */
	cr_assert_eq(parse("12345678901234.56", '.'), 123456789012345600LL);
	cr_assert_eq(parse("123456789012345.67", '.'), 1234567890123456700LL);
	/* INT64_MAX = 922337203685477.5807 e4; one more overflows, either sign */
	cr_assert_eq(parse("922337203685477.5807", '.'), INT64_MAX);
	cr_assert_eq(parse("-922337203685477.5807", '.'), -INT64_MAX);
	cr_assert_eq(parse_rc("922337203685477.5808"), -2);
	cr_assert_eq(parse_rc("-922337203685477.5808"), -2);
	cr_assert_eq(parse_rc("922337203685477.58075"), -2);   /* rounds up past it */
	/* a sign, spaces and groups go the general way */
	cr_assert_eq(parse("+29.55", '.'), 295500);
	cr_assert_eq(parse(" 29.55", '.'), 295500);
	cr_assert_eq(parse("29.55 ", '.'), 295500);
	cr_assert_eq(parse("\t-3.20", '.'), -32000);
	cr_assert_eq(parse("1,234.56", '.'), 12345600);
	cr_assert_eq(parse("1.234,56", ','), 12345600);
	cr_assert_eq(parse("29,55", ','), 295500);
	cr_assert_eq(parse("-3,2", ','), -32000);
	/* a point first or last is a number to the general way */
	cr_assert_eq(parse(".55", '.'), 5500);
	cr_assert_eq(parse("-.55", '.'), -5500);
	cr_assert_eq(parse("1234.", '.'), 12340000);
	/* bytes next to the digits ('/' 0x2f, ':' 0x3a), a second point, a
	 * point where the other separator belongs, high bytes: not numbers */
	cr_assert_eq(parse_rc("12/4.56"), -1);
	cr_assert_eq(parse_rc("12:4.56"), -1);
	cr_assert_eq(parse_rc("29.5/"), -1);
	cr_assert_eq(parse_rc("29.:5"), -1);
	cr_assert_eq(parse_rc("1.2.34"), -1);
	cr_assert_eq(parse_rc("12..45"), -1);
	cr_assert_eq(parse_rc("12.34.5"), -1);
	cr_assert_eq(parse_rc("\xff" "234.56"), -1);
	cr_assert_eq(parse_rc("1234.5\xb9"), -1);
	cr_assert_eq(parse_rc("12 4.56"), -1);
	cr_assert_eq(parse_rc("--3.20"), -1);
	cr_assert_eq(parse_rc("3-.20"), -1);
	cr_assert_eq(parse_rc("7a"), -1);
	int64_t v;
	cr_assert_eq(money_parse("29.55", 5, ',', &v), -1);   /* '.' groups: one of two */
	cr_assert_eq(money_parse("1.234", 5, ',', &v), 0);    /* '.' groups: 1234 */
	cr_assert_eq(v, 12340000);
}

/* Every short text the fast paths see must get the general way's answer:
 * a leading space sends the same text down the general parser, which is
 * the definition of money_parse (money.h). All texts of up to 5 bytes
 * from digits, both separators, signs, a space and a letter, and all of
 * 6 to 9 bytes from "09.-", with both decimal separators. */
Test(money, short_paths_agree_with_the_general_parser)
{
	static const char alpha5[] = "0159.,-+ a", alpha9[] = "09.-";
	char s[16], t[17];
	size_t n_checked = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *alpha = pass ? alpha9 : alpha5;
		size_t na = strlen(alpha), lo = pass ? 6 : 0, hi = pass ? 9 : 5;
		for (size_t len = lo; len <= hi; len++) {
			size_t total = 1;
			for (size_t i = 0; i < len; i++)
				total *= na;
			for (size_t x = 0; x < total; x++) {
				size_t y = x;
				for (size_t i = 0; i < len; i++, y /= na)
					s[i] = alpha[y % na];
				t[0] = ' ';
				memcpy(t + 1, s, len);
				for (int d = 0; d < 2; d++) {
					char dec = d ? ',' : '.';
					int64_t a = 1, b = 2;
					int ra = money_parse(s, len, dec, &a), rb = money_parse(t, len + 1, dec, &b);
					cr_assert_eq(ra, rb, "'%.*s' dec %c: %d vs %d", (int)len, s, dec, ra, rb);
					if (ra == 0)
						cr_assert_eq(a, b, "'%.*s' dec %c: %lld vs %lld", (int)len, s, dec,
							     (long long)a, (long long)b);
					n_checked++;
				}
			}
		}
	}
	/* 10^0 + .. + 10^5 texts of alpha5, 4^6 + .. + 4^9 of alpha9, twice */
	cr_assert_eq(n_checked, 2 * (111111 + 4096 + 16384 + 65536 + 262144));
}

Test(money, formats_the_extremes)
{
	char b[32];
	/* INT64_MAX = 922337203685477.5807 e4 */
	cr_assert_eq(money_format(INT64_MAX, 4, b), 20);
	cr_assert_str_eq(b, "922337203685477.5807");
	money_format(INT64_MAX, 3, b);
	cr_assert_str_eq(b, "922337203685477.581");    /* .5807 -> .581 */
	money_format(INT64_MAX, 2, b);
	cr_assert_str_eq(b, "922337203685477.58");     /* .5807 -> .58 */
	money_format(INT64_MAX, 1, b);
	cr_assert_str_eq(b, "922337203685477.6");
	money_format(INT64_MAX, 0, b);
	cr_assert_str_eq(b, "922337203685478");
	/* INT64_MIN = -922337203685477.5808 e4: its magnitude is not an int64 */
	cr_assert_eq(money_format(INT64_MIN, 4, b), 21);
	cr_assert_str_eq(b, "-922337203685477.5808");
	money_format(INT64_MIN, 3, b);
	cr_assert_str_eq(b, "-922337203685477.581");
	money_format(INT64_MIN, 2, b);
	cr_assert_str_eq(b, "-922337203685477.58");
	money_format(INT64_MIN, 1, b);
	cr_assert_str_eq(b, "-922337203685477.6");
	money_format_exact(INT64_MIN, b);
	cr_assert_str_eq(b, "-922337203685477.5808");
	/* places outside 0..4 are clamped */
	money_format(12345, -1, b);
	cr_assert_str_eq(b, "1");          /* 1.2345 -> 1 */
	money_format(12345, 9, b);
	cr_assert_str_eq(b, "1.2345");
	/* leading zeros of the decimals */
	money_format(10005, 4, b);
	cr_assert_str_eq(b, "1.0005");
	money_format(10050, 3, b);
	cr_assert_str_eq(b, "1.005");
	money_format(10500, 2, b);
	cr_assert_str_eq(b, "1.05");
	money_format(0, 4, b);
	cr_assert_str_eq(b, "0.0000");
	money_format(0, 0, b);
	cr_assert_str_eq(b, "0");
	/* half away from zero, either sign: 1.005 -> 1.01, -1.005 -> -1.01 */
	money_format(10050, 2, b);
	cr_assert_str_eq(b, "1.01");
	money_format(-10050, 2, b);
	cr_assert_str_eq(b, "-1.01");
	money_format(10049, 2, b);
	cr_assert_str_eq(b, "1.00");
	money_format(99995, 2, b);
	cr_assert_str_eq(b, "10.00");      /* 9.9995 carries into the whole part */
	/* a negative that rounds to zero has no sign; one that does not has */
	money_format(-49, 2, b);
	cr_assert_str_eq(b, "0.00");       /* -0.0049 */
	money_format(-4, 3, b);
	cr_assert_str_eq(b, "0.000");      /* -0.0004 */
	money_format(-5, 3, b);
	cr_assert_str_eq(b, "-0.001");     /* -0.0005 */
	money_format(-4999, 0, b);
	cr_assert_str_eq(b, "0");          /* -0.4999 */
	money_format(-5000, 0, b);
	cr_assert_str_eq(b, "-1");         /* -0.5 */
	money_format(-1, 4, b);
	cr_assert_str_eq(b, "-0.0001");
}

/* The integer writer against printf: 0, every power of ten and its
 * neighbours up to 10^19, the largest value, and a spread of others. */
Test(money, digits_are_written_as_printf_writes_them)
{
	uint64_t vals[200];
	size_t n = 0;
	vals[n++] = 0;
	vals[n++] = UINT64_MAX;
	for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
		vals[n++] = p;
		vals[n++] = p - 1;
		vals[n++] = p + 1;
		if (i < 19)
			vals[n++] = p * 10 - 1;
	}
	for (uint64_t x = 12345; n < 200; x = x * 6364136223846793005ull + 1442695040888963407ull)
		vals[n++] = x >> (x % 64);
	for (size_t i = 0; i < n; i++) {
		char want[32], got[32];
		snprintf(want, sizeof want, "%llu", (unsigned long long)vals[i]);
		char *end = money_put_digits(got, vals[i]);
		*end = '\0';
		cr_assert_str_eq(got, want);
	}
}
