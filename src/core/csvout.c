/* csvout.c - writing CSV text (core layer): a field quoted as RFC 4180
 * says, when it must be. */
#include "core/csvout.h"

#include <string.h>

int csv_needs_quotes(const char *p, size_t n)
{
	if (n > 0 && (p[0] == ' ' || p[n - 1] == ' '))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

int csv_put_field_buf(struct buf *b, const char *p, size_t n)
{
	if (!csv_needs_quotes(p, n))
		return buf_append(b, p, n);
	if (buf_reserve(b, 2 * n + 2) != 0)
		return -1;
	char *o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			*o++ = '"';
		*o++ = p[i];
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
	return 0;
}

void csv_put_field(FILE *f, const char *s)
{
	size_t n = strlen(s);
	if (!csv_needs_quotes(s, n)) {
		fwrite(s, 1, n, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
