/* err.c - status names, error messages and checked allocation (core layer). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *crm_status_str(int code)
{
	switch (code) {
	case CRM_OK: return "ok";
	case CRM_ENOMEM: return "out of memory";
	case CRM_EIO: return "input/output error";
	case CRM_EPARSE: return "parse error";
	case CRM_EINVAL: return "invalid argument";
	case CRM_EDB: return "database error";
	case CRM_ENOTFOUND: return "not found";
	case CRM_ERANGE: return "out of range";
	case CRM_ESCHEMA: return "unknown database schema";
	case CRM_EREJECT: return "rows rejected";
	case CRM_EOF: return "end of input";
	default: return "unknown status";
	}
}

int crm_err_set(struct crm_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void crm_err_clear(struct crm_err *err)
{
	if (err) {
		err->code = CRM_OK;
		err->msg[0] = '\0';
	}
}

int size_mul(size_t a, size_t b, size_t *out)
{
	if (b != 0 && a > SIZE_MAX / b)
		return -1;
	*out = a * b;
	return 0;
}

void *xmallocn(size_t n, size_t size)
{
	size_t bytes;
	if (size_mul(n, size, &bytes) != 0)
		return NULL;
	return malloc(bytes ? bytes : 1);
}

void *xreallocn(void *p, size_t n, size_t size)
{
	size_t bytes;
	if (size_mul(n, size, &bytes) != 0)
		return NULL;
	return realloc(p, bytes ? bytes : 1);
}
