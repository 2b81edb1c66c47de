/* tstamp.h - dates and times as int64 seconds since the epoch, UTC (core).
 * Parsing of ISO 8601 and of declared strptime-style formats, without the C
 * library's locale and time zone state, so it is fast and reentrant. */
#ifndef CORE_TSTAMP_H
#define CORE_TSTAMP_H

#include <stddef.h>
#include <stdint.h>

#define SECS_PER_DAY 86400

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of day z since 1970-01-01. */
void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Floor division of t by a day: the day number of timestamp t. Inline:
 * the row loops of the summary, the metrics and the writers call it per row. */
static inline int64_t ts_day(int64_t t)
{
	/* floor without negating t, which overflows for INT64_MIN */
	int64_t q = t / SECS_PER_DAY;
	return t % SECS_PER_DAY < 0 ? q - 1 : q;
}

/* Parses ISO 8601: YYYY-MM-DD, optionally followed by 'T' or ' ' and
 * HH:MM[:SS[.frac]], optionally followed by 'Z' or +HH[:MM] / -HH[:MM]
 * (the offset is subtracted to give UTC). Surrounding spaces are allowed.
 * Returns 0, or -1 with *why set to a static reason. */
int ts_parse_iso(const char *s, size_t n, int64_t *out, const char **why);

/* Parses s by fmt, a strptime-style format of literal characters and
 * %Y %y %m %d %e %H %M %S %f (fraction, ignored) %b %B (English month
 * names) %p %I %z %T (%H:%M:%S) %F (%Y-%m-%d) %%. The whole of s must be
 * used. Returns 0, or -1 with *why set. */
int ts_parse_fmt(const char *fmt, const char *s, size_t n, int64_t *out,
		 const char **why);

/* Checks a format string: 0 if every directive is known, else -1. */
int ts_check_fmt(const char *fmt);

/* Writes t as "YYYY-MM-DD" (date_only) or "YYYY-MM-DDTHH:MM:SSZ" into buf
 * (at least 32 bytes). Returns the length. */
size_t ts_format(int64_t t, int date_only, char *buf);

/* Days in month m (1-12) of year y of the proleptic Gregorian calendar. */
int ts_days_in_month(int64_t y, unsigned m);

#endif
