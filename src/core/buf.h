/* buf.h - growable byte buffers and string pools (core layer).
 * A struct buf is embedded by its owner (buf_init / buf_fini) and changed
 * only through a pointer to it. */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"

struct buf {
	char *p;      /* bytes, always NUL-terminated when cap > 0 */
	size_t len;   /* bytes used, not counting the NUL */
	size_t cap;   /* bytes allocated */
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
/* Ensures room for `more` bytes past len (plus a NUL). 0, or -1 on ENOMEM. */
int buf_reserve(struct buf *b, size_t more);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* String pools (struct crm_strings of crmscope.h). */
void strs_init(struct crm_strings *s);
void strs_fini(struct crm_strings *s);
/* Appends a copy of p[0..n); 0, or -1 on ENOMEM. */
int strs_push(struct crm_strings *s, const char *p, size_t n);
/* Makes room for `more` strings of `bytes` bytes in all (their NULs
 * included) past those s holds, so that they can be written in place
 * (bytes from off[n] on, then off[n + 1..]); 0, or -1 on ENOMEM. */
int strs_reserve(struct crm_strings *s, size_t more, size_t bytes);
/* String i (borrowed; NUL-terminated) and its length. */
const char *strs_get(const struct crm_strings *s, size_t i, size_t *len);

#endif
