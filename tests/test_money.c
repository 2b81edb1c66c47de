/* test_money.c - exact decimal parsing and printing (src/core/money.c). */
#include <criterion/criterion.h>
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
