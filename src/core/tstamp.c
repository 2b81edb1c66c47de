/* tstamp.c - date and time parsing and formatting, UTC (core layer).
 * The civil-date conversions follow Howard Hinnant's public-domain
 * algorithms ("chrono-Compatible Low-Level Date Algorithms"). */
#include "tstamp.h"

#include <stdio.h>
#include <string.h>

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int ts_days_in_month(int64_t y, unsigned m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Reads exactly `width` digits at s[*i]; returns -1 if there are fewer. */
static int fixed_digits(const char *s, size_t n, size_t *i, int width, int *out)
{
	int v = 0;
	for (int k = 0; k < width; k++) {
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[(*i)++] - '0');
	}
	*out = v;
	return 0;
}

/* Reads 1..max digits. */
static int some_digits(const char *s, size_t n, size_t *i, int max, int *out)
{
	int v = 0, k = 0;
	while (k < max && *i < n && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[(*i)++] - '0');
		k++;
	}
	if (k == 0)
		return -1;
	*out = v;
	return 0;
}

struct parts {
	int y, mo, d, h, mi, sec;
	int pm;          /* -1 none, 0 am, 1 pm */
	int off_s;       /* offset east of UTC in seconds */
};

static int assemble(const struct parts *p, int64_t *out, const char **why)
{
	int h = p->h;
	if (p->pm >= 0) {
		if (h < 1 || h > 12) {
			*why = "hour out of range for %I";
			return -1;
		}
		h = h % 12 + (p->pm ? 12 : 0);
	}
	if (p->mo < 1 || p->mo > 12) {
		*why = "month out of range";
		return -1;
	}
	if (p->d < 1 || p->d > ts_days_in_month(p->y, (unsigned)p->mo)) {
		*why = "day out of range for the month";
		return -1;
	}
	if (h > 23 || p->mi > 59 || p->sec > 60) {
		*why = "time of day out of range";
		return -1;
	}
	int64_t days = days_from_civil(p->y, (unsigned)p->mo, (unsigned)p->d);
	*out = days * SECS_PER_DAY + h * 3600 + p->mi * 60 + p->sec - p->off_s;
	return 0;
}

/* Parses Z, +HH, +HHMM or +HH:MM at s[*i]. */
static int parse_offset(const char *s, size_t n, size_t *i, int *off_s)
{
	if (*i < n && (s[*i] == 'Z' || s[*i] == 'z')) {
		(*i)++;
		*off_s = 0;
		return 0;
	}
	if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
		return -1;
	int sign = s[(*i)++] == '-' ? -1 : 1, hh, mm = 0;
	if (fixed_digits(s, n, i, 2, &hh) != 0)
		return -1;
	if (*i < n && s[*i] == ':') {
		(*i)++;                       /* a colon must be followed by minutes */
		if (fixed_digits(s, n, i, 2, &mm) != 0)
			return -1;
	} else if (*i < n && s[*i] >= '0' && s[*i] <= '9' &&
		   fixed_digits(s, n, i, 2, &mm) != 0) {
		return -1;
	}
	if (hh > 18 || mm > 59)
		return -1;
	*off_s = sign * (hh * 3600 + mm * 60);
	return 0;
}

/* The digit s[k] as a number, or a value above 9 for any other byte. */
static inline unsigned digit_at(const char *s, size_t k)
{
	return (unsigned)((unsigned char)s[k] - '0');
}

/* Exactly "YYYY-MM-DD", a valid date: the shape of most date columns.
 * Returns 0 with *out set as ts_parse_iso would, or 1 for anything else
 * (spaces, a time, a bad month or day), which the general parser decides. */
static inline int iso_date_plain(const char *s, size_t n, int64_t *out)
{
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return 1;
	unsigned y0 = digit_at(s, 0), y1 = digit_at(s, 1), y2 = digit_at(s, 2),
		 y3 = digit_at(s, 3), m0 = digit_at(s, 5), m1 = digit_at(s, 6),
		 d0 = digit_at(s, 8), d1 = digit_at(s, 9);
	if (y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9)
		return 1;
	unsigned y = ((y0 * 10 + y1) * 10 + y2) * 10 + y3, m = m0 * 10 + m1, d = d0 * 10 + d1;
	if (m < 1 || m > 12 || d < 1 || d > (unsigned)ts_days_in_month(y, m))
		return 1;
	*out = days_from_civil(y, m, d) * SECS_PER_DAY;
	return 0;
}

int ts_parse_iso(const char *s, size_t n, int64_t *out, const char **why)
{
	if (iso_date_plain(s, n, out) == 0)
		return 0;
	struct parts p = { 0, 0, 0, 0, 0, 0, -1, 0 };
	size_t i = 0;
	while (i < n && s[i] == ' ')
		i++;
	while (n > i && s[n - 1] == ' ')
		n--;
	*why = "not an ISO 8601 date (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])";
	if (fixed_digits(s, n, &i, 4, &p.y) != 0 || i >= n || s[i++] != '-' ||
	    fixed_digits(s, n, &i, 2, &p.mo) != 0 || i >= n || s[i++] != '-' ||
	    fixed_digits(s, n, &i, 2, &p.d) != 0)
		return -1;
	if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
		i++;
		if (fixed_digits(s, n, &i, 2, &p.h) != 0 || i >= n || s[i++] != ':' ||
		    fixed_digits(s, n, &i, 2, &p.mi) != 0)
			return -1;
		if (i < n && s[i] == ':') {
			i++;
			if (fixed_digits(s, n, &i, 2, &p.sec) != 0)
				return -1;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				int frac;
				if (some_digits(s, n, &i, 9, &frac) != 0)
					return -1;
				while (i < n && s[i] >= '0' && s[i] <= '9')
					i++;
			}
		}
		if (i < n && s[i] == ' ')
			i++;
		if (i < n && parse_offset(s, n, &i, &p.off_s) != 0)
			return -1;
	}
	if (i != n)
		return -1;
	return assemble(&p, out, why);
}

static const char *const month_names[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"
};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* %b / %B: a full English month name or a prefix of it of at least three
 * letters ("Sep", "Sept") not followed by another letter. */
static int parse_month_name(const char *s, size_t n, size_t *i, int *mo)
{
	for (int m = 0; m < 12; m++) {
		const char *name = month_names[m];
		size_t len = strlen(name), k = 0;
		while (k < len && *i + k < n && lower(s[*i + k]) == name[k])
			k++;
		int more = *i + k < n && lower(s[*i + k]) >= 'a' && lower(s[*i + k]) <= 'z';
		if (k == len || (k >= 3 && !more)) {
			*i += k;
			*mo = m + 1;
			return 0;
		}
	}
	return -1;
}

static int fmt_directive(char c)
{
	return strchr("YymdeHMSfbBpIzTF%", c) != NULL;
}

int ts_check_fmt(const char *fmt)
{
	for (const char *f = fmt; *f; f++)
		if (*f == '%' && (!f[1] || !fmt_directive(*++f)))
			return -1;
	return 0;
}

int ts_parse_fmt(const char *fmt, const char *s, size_t n, int64_t *out,
		 const char **why)
{
	struct parts p = { 1970, 1, 1, 0, 0, 0, -1, 0 };
	size_t i = 0;
	int frac;
	while (i < n && s[i] == ' ')
		i++;
	while (n > i && s[n - 1] == ' ')
		n--;
	*why = "does not match the date format";
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			if (*f == ' ') {      /* a space matches any run of spaces */
				while (i < n && s[i] == ' ')
					i++;
				continue;
			}
			if (i >= n || s[i] != *f)
				return -1;
			i++;
			continue;
		}
		int r = 0;
		switch (*++f) {
		case 'Y': r = fixed_digits(s, n, &i, 4, &p.y); break;
		case 'y':
			r = fixed_digits(s, n, &i, 2, &p.y);
			p.y += p.y < 69 ? 2000 : 1900; /* POSIX strptime's pivot */
			break;
		case 'm': r = some_digits(s, n, &i, 2, &p.mo); break;
		case 'd': case 'e':
			while (*f == 'e' && i < n && s[i] == ' ')
				i++;
			r = some_digits(s, n, &i, 2, &p.d);
			break;
		case 'H': r = some_digits(s, n, &i, 2, &p.h); break;
		case 'I': r = some_digits(s, n, &i, 2, &p.h); if (p.pm < 0) p.pm = 0; break;
		case 'M': r = some_digits(s, n, &i, 2, &p.mi); break;
		case 'S': r = some_digits(s, n, &i, 2, &p.sec); break;
		case 'f':
			r = some_digits(s, n, &i, 9, &frac);
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;          /* digits past nanoseconds, as in ISO */
			break;
		case 'b': case 'B': r = parse_month_name(s, n, &i, &p.mo); break;
		case 'p':
			if (i + 2 <= n && (lower(s[i]) == 'a' || lower(s[i]) == 'p') && lower(s[i + 1]) == 'm') {
				p.pm = lower(s[i]) == 'p';
				i += 2;
			} else {
				r = -1;
			}
			break;
		case 'z': r = parse_offset(s, n, &i, &p.off_s); break;
		case 'T':
			r = some_digits(s, n, &i, 2, &p.h);
			if (!r && i < n && s[i] == ':') { i++; r = some_digits(s, n, &i, 2, &p.mi); } else r = -1;
			if (!r && i < n && s[i] == ':') { i++; r = some_digits(s, n, &i, 2, &p.sec); } else r = -1;
			break;
		case 'F':
			r = fixed_digits(s, n, &i, 4, &p.y);
			if (!r && i < n && s[i] == '-') { i++; r = some_digits(s, n, &i, 2, &p.mo); } else r = -1;
			if (!r && i < n && s[i] == '-') { i++; r = some_digits(s, n, &i, 2, &p.d); } else r = -1;
			break;
		case '%':
			if (i >= n || s[i] != '%')
				r = -1;
			else
				i++;
			break;
		default:
			*why = "unknown directive in the date format";
			return -1;
		}
		if (r != 0)
			return -1;
	}
	if (i != n)
		return -1;
	return assemble(&p, out, why);
}

size_t ts_format(int64_t t, int date_only, char *buf)
{
	int64_t day = ts_day(t), y;
	int64_t sod = t - day * SECS_PER_DAY;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	int len;
	if (date_only)
		len = snprintf(buf, 32, "%04lld-%02u-%02u", (long long)y, m, d);
	else
		len = snprintf(buf, 32, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
			       (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	return len < 0 ? 0 : (size_t)len;
}
