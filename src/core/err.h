/* err.h - setting struct crm_err (core layer).
 * Every fallible function in the library reports through crm_err_set so that
 * messages read alike: "FILE:LINE: field F: reason". */
#ifndef CORE_ERR_H
#define CORE_ERR_H

#include "crmscope.h"

/* Formats the message into err (if err is not NULL), sets err->code and
 * returns code, so that callers can write `return crm_err_set(...)`. */
int crm_err_set(struct crm_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears err to CRM_OK with an empty message. */
void crm_err_clear(struct crm_err *err);

/* Checked multiplication for allocation sizes: returns 0 and sets *out when
 * a * b fits in size_t, else returns -1. */
int size_mul(size_t a, size_t b, size_t *out);

/* malloc/realloc of n elements of size each, NULL on overflow or failure. */
void *xmallocn(size_t n, size_t size);
void *xreallocn(void *p, size_t n, size_t size);

#endif
