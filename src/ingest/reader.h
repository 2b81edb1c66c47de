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
	int scratch;                /* 1: some field (or raw) lies in memory the reader
	                               reuses at its next call (JSON Lines: always; CSV:
	                               a quoted field with doubled quotes); 0: all of
	                               them point into the input, valid for the
	                               reader's life */
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

/* The bytes of an input file, mapped when it is a regular file, else read
 * whole ("-" is standard input). Used by both readers. */
struct ing_input {
	const char *data;  /* len bytes (not NUL-terminated); "" when empty */
	size_t len;
	void *map;         /* the mapping, or NULL */
	size_t map_len;
	char *heap;        /* the buffer read into, or NULL */
};

/* Opens path into *in. Returns CRM_OK, CRM_ENOTFOUND (no such file) or
 * CRM_EIO / CRM_ENOMEM with err naming path. Close with ing_input_close. */
int ing_input_open(const char *path, struct ing_input *in, struct crm_err *err);
void ing_input_close(struct ing_input *in);   /* NULL: nothing */

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

void ing_csv_close(struct ing_csv *c);        /* NULL: nothing */

/* The delimiter in use (after detection); ' ' for ING_DELIM_WS. */
char ing_csv_delim(const struct ing_csv *c);

/* The whole input (for splitting work across threads), borrowed. */
const char *ing_csv_data(const struct ing_csv *c, size_t *len);

/* The offset in ing_csv_data of the next record (or blank line) to read. */
size_t ing_csv_offset(const struct ing_csv *c);

/* Sets the line number of the next record, for a reader opened on a slice
 * of a larger input that starts at that line. */
void ing_csv_set_line(struct ing_csv *c, long line);

/* The line number of the next record; at the end, the line set plus the
 * line ends read. */
long ing_csv_line(const struct ing_csv *c);

/* Makes c read its input as the rest of a larger input from a line start
 * past the first (so no byte order mark is skipped), and only the records
 * (and blank lines) that start in its first n bytes; call before the first
 * record. The last record may go on past n, when n fell inside a quoted
 * field that holds line ends: then the reader ends after it, and
 * ing_csv_offset at the end tells where (n when no record went past). */
void ing_csv_limit(struct ing_csv *c, size_t n);

/* Whether c's input is a file it mapped (ing_csv_open of a regular file). */
int ing_csv_mapped(const struct ing_csv *c);

/* For a reader of a slice of a mapped input (ing_csv_mapped of the reader
 * that opened it, never of bytes in memory that is not a file's): as it
 * reads, the reader gives the pages it is done with back to the kernel, so
 * that a large file is not mapped whole at once (resident memory). Bytes
 * of rows read long before stay readable: the kernel maps them again. */
void ing_csv_give_back(struct ing_csv *c);

/* Next record per RFC 4180: quoted fields, doubled quotes, line breaks in
 * quotes, CRLF or LF, a UTF-8 BOM skipped, blank lines skipped. Returns
 * CRM_OK with *row filled, CRM_EOF at the end, or CRM_EPARSE for a record
 * that is malformed (unterminated quote, text after a closing quote): then
 * row->line/raw still name the record, err says why, and the next call goes
 * on after it, so a caller can quarantine it and continue. In ING_DELIM_WS
 * mode lines of only blanks are blank lines too. A quote inside an unquoted
 * field is literal. A record of more than 100000 fields is CRM_EPARSE.
 * Fields are borrowed until the next call; on CRM_EPARSE they hold what
 * could be split. At the end: CRM_EOF with row->n_fields 0. */
int ing_csv_next(struct ing_csv *c, struct ing_row *row, struct crm_err *err);

struct ing_jsonl;

/* JSON Lines: one JSON object per line; blank lines skipped. */
int ing_jsonl_open(const char *path, struct ing_jsonl **out, struct crm_err *err);
int ing_jsonl_open_mem(const char *data, size_t len, const char *name,
		       struct ing_jsonl **out, struct crm_err *err);
void ing_jsonl_close(struct ing_jsonl *j);    /* NULL: nothing */

/* Next object as fields with names, in the order of the keys in the line:
 * strings as their UTF-8 text, integers as their decimal text, reals printed
 * with "%.15g" (so a real written with up to 15 significant digits comes
 * back as the same decimal number, 11.77 -> "11.77", though not in the same
 * spelling: 1.50 -> "1.5", 1.0 -> "1", 1e3 -> "1000"; more digits are
 * rounded to 15),
 * true/false as text, null as missing (p "" and n 0), nested arrays and
 * objects as compact JSON text. Fields and names are borrowed until the next
 * call. Returns CRM_OK, CRM_EOF, or CRM_EPARSE for a line that is not a
 * JSON object, has a duplicate key or an integer beyond int64 (the row
 * still names it with n_fields 0; the next call goes on). CRLF line ends
 * are tolerated, a UTF-8 BOM at the start is skipped, blank lines (only
 * spaces and tabs) are skipped. */
int ing_jsonl_next(struct ing_jsonl *j, struct ing_row *row, struct crm_err *err);

#endif
