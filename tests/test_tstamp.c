/* test_tstamp.c - dates and times (src/core/tstamp.c). Expected timestamps
 * were worked out with Python's datetime (UTC), e.g.
 * int(datetime(2024,3,1,8,tzinfo=timezone.utc).timestamp()) = 1709280000. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/tstamp.h"

static int64_t iso(const char *s)
{
	int64_t t = 0;
	const char *why = NULL;
	cr_assert_eq(ts_parse_iso(s, strlen(s), &t, &why), 0, "%s: %s", s, why);
	return t;
}

static int iso_fails(const char *s)
{
	int64_t t = 0;
	const char *why = NULL;
	int rc = ts_parse_iso(s, strlen(s), &t, &why);
	if (rc != 0)
		cr_assert_not_null(why);
	return rc != 0;
}

static int64_t fmt(const char *f, const char *s)
{
	int64_t t = 0;
	const char *why = NULL;
	cr_assert_eq(ts_parse_fmt(f, s, strlen(s), &t, &why), 0, "%s by %s: %s", s, f, why);
	return t;
}

static int fmt_fails(const char *f, const char *s)
{
	int64_t t = 0;
	const char *why = NULL;
	return ts_parse_fmt(f, s, strlen(s), &t, &why) != 0;
}

Test(tstamp, iso_dates)
{
	cr_assert_eq(iso("1970-01-01"), 0);
	cr_assert_eq(iso("1997-01-01"), 852076800);
	cr_assert_eq(iso("2024-02-29"), 1709164800);        /* leap day */
	cr_assert_eq(iso(" 2019-09-05 "), 1567641600);      /* surrounding spaces */
	cr_assert_eq(iso("1969-12-31"), -86400);
}

Test(tstamp, iso_date_times_and_offsets)
{
	cr_assert_eq(iso("2009-12-01 07:45:00"), 1259653500);
	cr_assert_eq(iso("2009-12-01T07:45:00Z"), 1259653500);
	cr_assert_eq(iso("2009-12-01T07:45"), 1259653500);
	cr_assert_eq(iso("2024-03-01T08:00:00Z"), 1709280000);
	/* 10:00 at +02:00 is 08:00Z */
	cr_assert_eq(iso("2024-03-01T10:00:00+02:00"), 1709280000);
	cr_assert_eq(iso("2024-03-01T10:00:00+0200"), 1709280000);
	cr_assert_eq(iso("2024-03-01T10:00:00+02"), 1709280000);
	cr_assert_eq(iso("2024-03-01T10:00:00 +02:00"), 1709280000);
	/* 10:00 at -05:30 is 15:30Z */
	cr_assert_eq(iso("2024-03-01T10:00:00-05:30"), 1709307000);
	/* an offset can cross midnight: 2024-03-01 01:00+02:00 = 2024-02-29 23:00Z */
	cr_assert_eq(iso("2024-03-01T01:00+02:00"), 1709164800 + 23 * 3600);
	cr_assert_eq(iso("2023-12-31T23:59:59z"), 1704067199);
}

Test(tstamp, iso_fractional_seconds_are_dropped)
{
	cr_assert_eq(iso("2024-03-01T08:00:00.5Z"), 1709280000);
	cr_assert_eq(iso("2024-03-01T08:00:00,999"), 1709280000);
	cr_assert_eq(iso("2024-03-01T10:00:00.123456789012+02:00"), 1709280000);
	cr_assert(iso_fails("2024-03-01T08:00:00."));
}

Test(tstamp, iso_rejects_invalid_dates)
{
	cr_assert(iso_fails("2023-02-29"));      /* 2023 is not a leap year */
	cr_assert(iso_fails("1900-02-29"));      /* divisible by 100, not by 400 */
	cr_assert_eq(iso("2000-02-29"), 11016 * 86400LL);  /* 2000-03-01 is day 11017 */
	cr_assert(iso_fails("2024-13-01"));
	cr_assert(iso_fails("2024-00-10"));
	cr_assert(iso_fails("2024-04-31"));
	cr_assert(iso_fails("2024-04-00"));
	cr_assert(iso_fails("2024-03-01T24:00"));
	cr_assert(iso_fails("2024-03-01T10:60"));
	cr_assert(iso_fails("2024-03-01T10"));
	cr_assert(iso_fails("2024-03-01T"));
	cr_assert(iso_fails("2024-3-1"));
	cr_assert(iso_fails("24-03-01"));
	cr_assert(iso_fails("2024-03-01x"));
	cr_assert(iso_fails("2024-03-01T10:00+19:00"));
	cr_assert(iso_fails(""));
	cr_assert(iso_fails("   "));
}

Test(tstamp, iso_offset_colon_needs_minutes)
{
	/* failed before the fix: "+02:" was taken as +02:00 */
	cr_assert(iso_fails("2024-03-01T10:00:00+02:"));
	cr_assert(iso_fails("2024-03-01T10:00:00+02:0"));
}

Test(tstamp, formats)
{
	cr_assert_eq(fmt("%Y%m%d", "19970101"), 852076800);       /* CDNOW dates */
	cr_assert_eq(fmt("%d/%m/%Y %H:%M", "01/12/2009 07:45"), 1259653500);
	cr_assert_eq(fmt("%d/%m/%Y %H:%M", "1/12/2009 7:45"), 1259653500);
	cr_assert_eq(fmt("%m/%d/%y %H:%M", "12/9/10 20:01"), 1291924860);
	cr_assert_eq(fmt("%F %T", "2009-12-01 07:45:00"), 1259653500);
	cr_assert_eq(fmt("%Y-%m-%dT%H:%M:%S%z", "2024-03-01T10:00:00+02:00"), 1709280000);
	cr_assert_eq(fmt("%Y-%m-%d %H:%M:%S.%f", "2024-03-01 08:00:00.250"), 1709280000);
	cr_assert_eq(fmt("%e %b %Y", " 5 Sep 2019"), 1567641600);
	cr_assert_eq(fmt("100%% %Y", "100% 1970"), 0);
	cr_assert_eq(fmt("%y", "69"), days_from_civil(1969, 1, 1) * 86400);
	cr_assert_eq(fmt("%y", "68"), days_from_civil(2068, 1, 1) * 86400);
}

Test(tstamp, month_names)
{
	cr_assert_eq(fmt("%d %b %Y", "29 Feb 2024"), 1709164800);
	cr_assert_eq(fmt("%d %B %Y", "29 february 2024"), 1709164800);
	cr_assert_eq(fmt("%b %d, %Y", "SEPTEMBER 5, 2019"), 1567641600);
	cr_assert_eq(fmt("%b %d, %Y", "Sept 5, 2019"), 1567641600);   /* failed before the fix */
	cr_assert_eq(fmt("%b%d", "Jan1"), 0);
	cr_assert(fmt_fails("%b %Y", "Ja 2019"));
	cr_assert(fmt_fails("%b %Y", "Sepx 2019"));
	cr_assert(fmt_fails("%b %Y", "Foo 2019"));
}

Test(tstamp, twelve_hour_clock)
{
	cr_assert_eq(fmt("%Y-%m-%d %I:%M %p", "2021-07-04 03:30 PM"), 1625412600);
	cr_assert_eq(fmt("%Y-%m-%d %I:%M %p", "2021-07-04 3:30 pm"), 1625412600);
	cr_assert_eq(fmt("%Y-%m-%d %I:%M%p", "2021-07-04 12:05am"), 1625357100);  /* 00:05 */
	cr_assert_eq(fmt("%Y-%m-%d %I:%M %p", "2021-07-04 12:05 PM"), 1625400300); /* 12:05 */
	cr_assert(fmt_fails("%Y-%m-%d %I:%M %p", "2021-07-04 13:05 PM"));
	cr_assert(fmt_fails("%Y-%m-%d %I:%M %p", "2021-07-04 00:05 AM"));
	cr_assert(fmt_fails("%Y-%m-%d %I:%M %p", "2021-07-04 10:05 XM"));
}

Test(tstamp, formats_reject_bad_input)
{
	cr_assert(fmt_fails("%Y%m%d", "20230229"));
	cr_assert(fmt_fails("%Y%m%d", "20241301"));
	cr_assert(fmt_fails("%Y%m%d", "19970101x"));
	cr_assert(fmt_fails("%Y-%m-%d", "1997/01/01"));
	cr_assert(fmt_fails("%Y %q", "1997 1"));
	cr_assert(fmt_fails("%Y%", "1997"));
	/* %f skips digits past nanoseconds (failed before the fix) */
	cr_assert_eq(fmt("%F %T.%f", "2024-03-01 08:00:00.1234567890123"), 1709280000);
}

Test(tstamp, check_fmt)
{
	cr_assert_eq(ts_check_fmt("%Y-%m-%d %H:%M:%S"), 0);
	cr_assert_eq(ts_check_fmt("%d/%m/%Y %I:%M %p %z %% %T %F %e %b %B %y %f"), 0);
	cr_assert_eq(ts_check_fmt("plain"), 0);
	cr_assert_eq(ts_check_fmt("%Q"), -1);
	cr_assert_eq(ts_check_fmt("%Y%"), -1);
}

Test(tstamp, civil_days)
{
	/* day numbers from Python: (date(y,m,d) - date(1970,1,1)).days */
	cr_assert_eq(days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(days_from_civil(1969, 12, 31), -1);
	cr_assert_eq(days_from_civil(2000, 3, 1), 11017);
	cr_assert_eq(days_from_civil(1900, 3, 1), -25508);
	cr_assert_eq(days_from_civil(1, 1, 1), -719162);
	cr_assert_eq(days_from_civil(9999, 12, 31), 2932896);
	int64_t y;
	unsigned m, d;
	civil_from_days(-719162, &y, &m, &d);
	cr_assert(y == 1 && m == 1 && d == 1);
	civil_from_days(11016, &y, &m, &d);
	cr_assert(y == 2000 && m == 2 && d == 29);
	/* round trip over every day from 1600-01-01 to 2400-12-31, and the
	 * dates advance one day at a time */
	int64_t prev_y = 1599;
	unsigned prev_m = 12, prev_d = 31;
	for (int64_t z = days_from_civil(1600, 1, 1); z <= days_from_civil(2400, 12, 31); z++) {
		civil_from_days(z, &y, &m, &d);
		cr_assert_eq(days_from_civil(y, m, d), z);
		int next_day = d == prev_d + 1 && m == prev_m && y == prev_y;
		int next_month = d == 1 && ((m == prev_m + 1 && y == prev_y) ||
					    (m == 1 && prev_m == 12 && y == prev_y + 1));
		cr_assert(next_day || next_month, "%lld-%u-%u", (long long)y, m, d);
		prev_y = y;
		prev_m = m;
		prev_d = d;
	}
}

Test(tstamp, day_of_negative_times)
{
	cr_assert_eq(ts_day(0), 0);
	cr_assert_eq(ts_day(86399), 0);
	cr_assert_eq(ts_day(86400), 1);
	cr_assert_eq(ts_day(-1), -1);
	cr_assert_eq(ts_day(-86400), -1);
	cr_assert_eq(ts_day(-86401), -2);
	cr_assert_eq(ts_day(-301233600), -3487);   /* 1960-06-15 12:00 */
	/* failed before the fix: -t overflowed */
	cr_assert_eq(ts_day(INT64_MIN), INT64_MIN / 86400 - 1);
	cr_assert_eq(ts_day(INT64_MAX), INT64_MAX / 86400);
}

Test(tstamp, format)
{
	char b[32];
	cr_assert_eq(ts_format(0, 0, b), 20);
	cr_assert_str_eq(b, "1970-01-01T00:00:00Z");
	ts_format(1709280000, 1, b);
	cr_assert_str_eq(b, "2024-03-01");
	ts_format(1709280000 + 3599, 0, b);
	cr_assert_str_eq(b, "2024-03-01T08:59:59Z");
	ts_format(-1, 0, b);
	cr_assert_str_eq(b, "1969-12-31T23:59:59Z");
	ts_format(-301233600, 0, b);
	cr_assert_str_eq(b, "1960-06-15T12:00:00Z");
	ts_format(days_from_civil(1, 1, 1) * 86400, 1, b);
	cr_assert_str_eq(b, "0001-01-01");
	/* what is formatted parses back */
	ts_format(1291924860, 0, b);
	cr_assert_eq(iso(b), 1291924860);
}

/* Exactly "YYYY-MM-DD" takes a fast path; the values below were worked out
 * with Python's datetime (UTC) as in the header, year 0 as 0001-01-01 less
 * the 366 days of the leap year 0 (proleptic Gregorian). */
Test(tstamp, iso_plain_dates)
{
	cr_assert_eq(iso("2024-12-31"), 1735603200);
	cr_assert_eq(iso("2000-02-29"), 951782400);     /* divisible by 400: leap */
	cr_assert_eq(iso("1600-02-29"), -11670998400);
	cr_assert_eq(iso("1970-01-02"), 86400);
	cr_assert_eq(iso("2024-03-01"), 1709251200);
	cr_assert_eq(iso("0001-01-01"), -62135596800);
	cr_assert_eq(iso("0000-01-01"), -62167219200);
	cr_assert_eq(iso("9999-12-31"), 253402214400);
	/* the same dates by the general way: spaces, a time of midnight */
	cr_assert_eq(iso("2024-12-31 "), 1735603200);
	cr_assert_eq(iso("2024-12-31T00:00"), 1735603200);
	cr_assert_eq(iso("2024-12-31T00:00:00Z"), 1735603200);
	/* ten bytes that are not a valid date, each with the general reason */
	const char *const bad[] = { "2024-01-0a", "2024/01/01", "2024-01-32", "2024-02-30",
				    "2023-02-29", "1900-02-29", "2024-00-01", "2024-13-01",
				    "2024-01-00", "-024-01-01", "2024-1-001", "2024-01-1\xff" };
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
		cr_assert(iso_fails(bad[k]), "%s", bad[k]);
	int64_t t;
	const char *why;
	cr_assert_eq(ts_parse_iso("2024-13-01", 10, &t, &why), -1);
	cr_assert_str_eq(why, "month out of range");
	cr_assert_eq(ts_parse_iso("2023-02-29", 10, &t, &why), -1);
	cr_assert_str_eq(why, "day out of range for the month");
	cr_assert_eq(ts_parse_iso("2024-01-0a", 10, &t, &why), -1);
	cr_assert_str_eq(why, "not an ISO 8601 date (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])");
}
