/* reader.h - rows of text fields from CSV or JSON Lines (ingest layer).
 * A reader yields one record at a time as borrowed fields; the importer maps
 * them onto an entity. Both formats share struct ing_row so that mapping and
 * validation do not care where a row came from. */
#ifndef INGEST_READER_H
#define INGEST_READER_H

#include <stddef.h>

#include "crmscope.h"

struct ing_field {
	const char *p;   /* bytes, borrowed: valid until the next call on the reader */
	size_t n;        /* length */
	int missing;     /* JSON null or an absent key (CSV: always 0) */
};

struct ing_row {
	size_t n_fields;
	struct ing_field *fields;   /* n_fields, borrowed */
	const struct ing_field *names; /* JSON Lines: the key of each field; CSV: NULL */
	long line;                  /* 1-based line of the file where the record starts */
	const char *raw;            /* the record's bytes as in the file (no line end) */
	size_t raw_n;
};

enum ing_delim_mode {
	ING_DELIM_AUTO = 0,  /* the most frequent of , ; TAB on the first line */
	ING_DELIM_CHAR,      /* opts.delim */
	ING_DELIM_WS         /* runs of spaces and tabs; leading ones ignored (CDNOW) */
};

struct ing_csv_opts {
	int mode;            /* enum ing_delim_mode */
	char delim;          /* ING_DELIM_CHAR: the delimiter */
};

struct ing_csv;

/* Opens path ("-": standard input, read whole) for CSV reading. Files are
 * mapped, not copied. *out is the caller's, closed with ing_csv_close. */
int ing_csv_open(const char *path, const struct ing_csv_opts *opts,
		 struct ing_csv **out, struct crm_err *err);

/* Reads from data[0..len), borrowed for the reader's life. name is used in
 * messages. */
int ing_csv_open_mem(const char *data, size_t len, const char *name,
		     const struct ing_csv_opts *opts, struct ing_csv **out,
		     struct crm_err *err);

void ing_csv_close(struct ing_csv *c);

/* The delimiter in use (after detection); ' ' for ING_DELIM_WS. */
char ing_csv_delim(const struct ing_csv *c);

/* The whole input (for splitting work across threads), borrowed. */
const char *ing_csv_data(const struct ing_csv *c, size_t *len);

/* Next record per RFC 4180: quoted fields, doubled quotes, line breaks in
 * quotes, CRLF or LF, a UTF-8 BOM skipped, blank lines skipped. Returns
 * CRM_OK with *row filled, CRM_EOF at the end, or CRM_EPARSE for a record
 * that is malformed (unterminated quote, text after a closing quote): then
 * row->line/raw still name the record, err says why, and the next call goes
 * on after it, so a caller can quarantine it and continue. */
int ing_csv_next(struct ing_csv *c, struct ing_row *row, struct crm_err *err);

struct ing_jsonl;

/* JSON Lines: one JSON object per line; blank lines skipped. */
int ing_jsonl_open(const char *path, struct ing_jsonl **out, struct crm_err *err);
int ing_jsonl_open_mem(const char *data, size_t len, const char *name,
		       struct ing_jsonl **out, struct crm_err *err);
void ing_jsonl_close(struct ing_jsonl *j);

/* Next object as fields with names: strings as their UTF-8 text, numbers as
 * written (reals with up to 15 significant digits are exact), true/false as
 * text, null as missing, nested arrays and objects as compact JSON text.
 * Returns CRM_OK, CRM_EOF, or CRM_EPARSE for a line that is not a JSON
 * object (the row still names it; the next call goes on). */
int ing_jsonl_next(struct ing_jsonl *j, struct ing_row *row, struct crm_err *err);

#endif
