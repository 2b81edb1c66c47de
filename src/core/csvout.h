/* csvout.h - writing CSV text (core layer): the one quoting rule of every
 * CSV file crmscope writes (the report's tables, the dedupe review file,
 * rejects files, the demo business), RFC 4180 with LF line ends. */
#ifndef CORE_CSVOUT_H
#define CORE_CSVOUT_H

#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

/* 1 when p[0..n) must be written between double quotes: it holds a comma,
 * a quote, CR or LF, or starts or ends with a space (crmscope's reader
 * trims blanks at a field's edges, so only quotes keep them). */
int csv_needs_quotes(const char *p, size_t n);

/* Appends p[0..n) to b as one CSV field: as it is, or quoted with its
 * quotes doubled when csv_needs_quotes. 0, or -1 on ENOMEM (b then holds
 * a part of the field). */
int csv_put_field_buf(struct buf *b, const char *p, size_t n);

/* Writes the NUL-terminated s to f as one CSV field, by the same rule.
 * Write errors are left in f's error flag (ferror, fclose). */
void csv_put_field(FILE *f, const char *s);

#endif
