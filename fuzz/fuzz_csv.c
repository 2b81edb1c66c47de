/* fuzz_csv.c - libFuzzer target for the CSV reader (src/ingest/csv.c).
 * Reads every record of the input in the three delimiter modes and checks
 * the reader's invariants: raw bytes inside the input and in order, sane
 * field counts, termination, and for a record without quotes that its
 * fields joined by the delimiter give back its raw bytes; and that a file
 * read in two slices, as the parallel import reads it, gives the records
 * of one reading. */
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

/* What a record read says, to compare two readings: where its bytes are,
 * its line, status and fields (a hash of their lengths and bytes). */
struct seen {
	size_t raw, raw_n, n_fields;
	long line;
	int rc;
	uint64_t fields;
};

#define MAX_SEEN 4096

/* Reads the records of c (at most MAX_SEEN) into out, from offset base of
 * the input; returns how many. */
static size_t read_seen(struct ing_csv *c, size_t base, struct seen *out)
{
	struct ing_row r;
	struct crm_err e;
	const char *d = ing_csv_data(c, &(size_t){ 0 });
	size_t n = 0;
	int rc;
	while (n < MAX_SEEN && (rc = ing_csv_next(c, &r, &e)) != CRM_EOF) {
		uint64_t h = 1469598103934665603ull;
		for (size_t i = 0; i < r.n_fields; i++) {
			h = (h ^ r.fields[i].n) * 1099511628211ull;
			for (size_t k = 0; k < r.fields[i].n; k++)
				h = (h ^ (unsigned char)r.fields[i].p[k]) * 1099511628211ull;
		}
		out[n++] = (struct seen){ base + (size_t)(r.raw - d), r.raw_n, r.n_fields, r.line, rc, h };
	}
	return n;
}

/* The parallel import's reading (src/ingest/import.c): the records after
 * the first line, read whole, are those read in two slices cut at a line
 * end near the middle, the first limited to the cut (its last record may
 * run past it, ing_csv_limit) and the second read from where the first
 * ended, with the line numbers carried on. */
static void read_sliced(const char *d, size_t size, int mode, char delim)
{
	static struct seen whole[MAX_SEEN], cut[MAX_SEEN];
	struct ing_csv_opts o = { mode, delim };
	struct ing_csv *c, *a, *b;
	struct crm_err e;
	struct ing_row r;
	if (ing_csv_open_mem(d, size, "fuzz", &o, &c, &e) != CRM_OK)
		return;
	/* the first record stands for a header */
	(void)ing_csv_next(c, &r, &e);
	size_t s0 = ing_csv_offset(c);
	long line0 = ing_csv_line(c);
	struct ing_csv_opts po = { mode == ING_DELIM_WS ? ING_DELIM_WS : ING_DELIM_CHAR,
				   ing_csv_delim(c) };
	size_t nw = read_seen(c, 0, whole);
	ing_csv_close(c);
	if (nw == MAX_SEEN)
		return;
	size_t at = s0 + (size - s0) / 2;
	const char *nl = at < size ? memchr(d + at, '\n', size - at) : NULL;
	size_t split = nl ? (size_t)(nl - d) + 1 : size;
	CHECK(ing_csv_open_mem(d + s0, size - s0, "fuzz", &po, &a, &e) == CRM_OK);
	ing_csv_limit(a, split - s0);
	ing_csv_set_line(a, line0);
	size_t na = read_seen(a, s0, cut);
	size_t end = s0 + ing_csv_offset(a);
	CHECK(end >= split && end <= size);
	CHECK(ing_csv_open_mem(d + end, size - end, "fuzz", &po, &b, &e) == CRM_OK);
	ing_csv_limit(b, size - end);
	ing_csv_set_line(b, ing_csv_line(a));
	size_t nb = read_seen(b, end, cut + na);
	CHECK(na + nb == nw);
	for (size_t i = 0; i < nw; i++) {
		CHECK(cut[i].raw == whole[i].raw && cut[i].raw_n == whole[i].raw_n);
		CHECK(cut[i].line == whole[i].line && cut[i].rc == whole[i].rc);
		CHECK(cut[i].n_fields == whole[i].n_fields && cut[i].fields == whole[i].fields);
	}
	ing_csv_close(a);
	ing_csv_close(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	read_all(d, size, ING_DELIM_AUTO, 0);
	read_all(d, size, ING_DELIM_WS, 0);
	/* a given delimiter: the first byte when there is one, else ';' */
	read_all(d, size, ING_DELIM_CHAR, size ? d[0] : ';');
	read_sliced(d, size, ING_DELIM_AUTO, 0);
	read_sliced(d, size, ING_DELIM_WS, 0);
	return 0;
}
