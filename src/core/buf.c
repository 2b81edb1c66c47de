/* buf.c - growable byte buffers and string pools (core layer). */
#include "buf.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

void buf_fini(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

int buf_reserve(struct buf *b, size_t more)
{
	if (more > SIZE_MAX / 2 - b->len)
		return -1;
	size_t need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void strs_init(struct crm_strings *s)
{
	memset(s, 0, sizeof *s);
}

void strs_fini(struct crm_strings *s)
{
	free(s->bytes);
	free(s->off);
	strs_init(s);
}

int strs_reserve(struct crm_strings *s, size_t more, size_t bytes)
{
	if (more > SIZE_MAX / 4 - s->n || bytes > SIZE_MAX / 4)
		return -1;
	if (s->n + more + 1 > s->cap_n) {
		size_t cap = s->cap_n ? s->cap_n * 2 : 64;
		while (cap < s->n + more + 1)
			cap *= 2;
		uint64_t *off = xreallocn(s->off, cap, sizeof *off);
		if (!off)
			return -1;
		if (s->cap_n == 0)
			off[0] = 0;
		s->off = off;
		s->cap_n = cap;
	}
	size_t used = (size_t)s->off[s->n];
	if (used + bytes > s->cap_bytes) {
		size_t cap = s->cap_bytes ? s->cap_bytes : 256;
		while (cap < used + bytes)
			cap *= 2;
		char *b = realloc(s->bytes, cap);
		if (!b)
			return -1;
		s->bytes = b;
		s->cap_bytes = cap;
	}
	return 0;
}

int strs_push(struct crm_strings *s, const char *p, size_t n)
{
	if (n > SIZE_MAX / 4 || strs_reserve(s, 1, n + 1) != 0)
		return -1;
	size_t used = (size_t)s->off[s->n];
	if (n)
		memcpy(s->bytes + used, p, n);
	s->bytes[used + n] = '\0';
	s->n++;
	s->off[s->n] = used + n + 1;
	return 0;
}

const char *strs_get(const struct crm_strings *s, size_t i, size_t *len)
{
	if (i >= s->n) {
		if (len)
			*len = 0;
		return "";
	}
	if (len)
		*len = (size_t)(s->off[i + 1] - s->off[i]) - 1;
	return s->bytes + s->off[i];
}
