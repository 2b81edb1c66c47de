/* fuzz_csv.c - libFuzzer target for the CSV reader (src/ingest/csv.c).
 * Reads every record of the input in the three delimiter modes and checks
 * the reader's invariants: raw bytes inside the input and in order, sane
 * field counts, termination, and for a record without quotes that its
 * fields joined by the delimiter give back its raw bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static volatile unsigned sink;

static void read_all(const char *d, size_t size, int mode, char delim)
{
	struct ing_csv_opts o = { mode, delim };
	struct ing_csv *c;
	struct crm_err e;
	if (ing_csv_open_mem(d, size, "fuzz", &o, &c, &e) != CRM_OK) {
		CHECK(e.code == CRM_EINVAL && mode == ING_DELIM_CHAR);
		return;
	}
	char dl = ing_csv_delim(c);
	const char *prev_end = d;
	long prev_line = 0;
	size_t calls = 0;
	struct ing_row r;
	int rc;
	while ((rc = ing_csv_next(c, &r, &e)) != CRM_EOF) {
		CHECK(++calls <= size + 1);
		CHECK(rc == CRM_OK || rc == CRM_EPARSE);
		CHECK(rc == CRM_OK || e.msg[0] != '\0');
		CHECK(r.raw >= prev_end && r.raw_n <= size && r.raw + r.raw_n <= d + size);
		CHECK(r.line > prev_line);
		prev_end = r.raw + r.raw_n;
		prev_line = r.line;
		CHECK(r.n_fields <= size + 1 && r.n_fields <= 100000);
		CHECK(rc == CRM_EPARSE || r.n_fields >= 1);
		CHECK(r.names == NULL);
		unsigned sum = 0;
		size_t joined = 0;
		for (size_t i = 0; i < r.n_fields; i++) {
			const struct ing_field *f = &r.fields[i];
			CHECK(f->p != NULL && f->n <= size && !f->missing);
			for (size_t k = 0; k < f->n; k++)
				sum += (unsigned char)f->p[k];
			joined += f->n + (i > 0);
		}
		sink = sum;
		int no_quotes = rc == CRM_OK && !memchr(r.raw, '"', r.raw_n);
		if (no_quotes && mode == ING_DELIM_WS) {
			/* no quotes: non-empty fields of no blanks, in order inside raw */
			const char *at = r.raw;
			for (size_t i = 0; i < r.n_fields; i++) {
				const struct ing_field *f = &r.fields[i];
				CHECK(f->n > 0 && f->p >= at && f->p + f->n <= r.raw + r.raw_n);
				CHECK(!memchr(f->p, ' ', f->n) && !memchr(f->p, '\t', f->n) &&
				      !memchr(f->p, '\n', f->n));
				at = f->p + f->n;
			}
		}
		if (no_quotes && mode != ING_DELIM_WS) {
			/* no quotes: the fields are the raw bytes cut at the delimiters */
			CHECK(joined == r.raw_n);
			size_t at = 0;
			for (size_t i = 0; i < r.n_fields; i++) {
				if (i > 0)
					CHECK(r.raw[at++] == dl);
				CHECK(r.fields[i].p == r.raw + at);
				at += r.fields[i].n;
			}
		}
	}
	CHECK(ing_csv_next(c, &r, &e) == CRM_EOF);
	ing_csv_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	read_all(d, size, ING_DELIM_AUTO, 0);
	read_all(d, size, ING_DELIM_WS, 0);
	/* a given delimiter: the first byte when there is one, else ';' */
	read_all(d, size, ING_DELIM_CHAR, size ? d[0] : ';');
	return 0;
}
