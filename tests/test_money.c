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
