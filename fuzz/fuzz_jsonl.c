/* fuzz_jsonl.c - libFuzzer target for the JSON Lines reader
 * (src/ingest/jsonl.c). Reads every line and checks that rows name lines
 * in order, raw bytes lie inside the input, and every field and name can
 * be read whole; also compares each row's count with jansson's own. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "ingest/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static volatile unsigned sink;

static unsigned touch(const struct ing_field *f, size_t size)
{
	unsigned sum = 0;
	CHECK(f->p != NULL);
	(void)size;
	for (size_t k = 0; k < f->n; k++)
		sum += (unsigned char)f->p[k];
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct ing_jsonl *j;
	struct crm_err e;
	if (ing_jsonl_open_mem(d, size, "fuzz", &j, &e) != CRM_OK)
		__builtin_trap();
	const char *prev_end = d;
	long prev_line = 0;
	size_t calls = 0;
	struct ing_row r;
	int rc;
	while ((rc = ing_jsonl_next(j, &r, &e)) != CRM_EOF) {
		CHECK(++calls <= size + 1);
		CHECK(rc == CRM_OK || rc == CRM_EPARSE);
		CHECK(rc == CRM_OK || (e.msg[0] != '\0' && r.n_fields == 0));
		CHECK(r.raw >= prev_end && r.raw + r.raw_n <= d + size && r.raw_n > 0);
		CHECK(!memchr(r.raw, '\n', r.raw_n));
		CHECK(r.line > prev_line);
		prev_end = r.raw + r.raw_n;
		prev_line = r.line;
		CHECK(r.names != NULL && r.n_fields <= size);
		unsigned sum = 0;
		for (size_t i = 0; i < r.n_fields; i++) {
			sum += touch(&r.fields[i], size) + touch(&r.names[i], size);
			CHECK(!r.fields[i].missing || r.fields[i].n == 0);
		}
		sink = sum;
		if (rc == CRM_OK) {
			/* the line parses alone to an object of as many members */
			json_t *o = json_loadb(r.raw, r.raw_n, 0, NULL);
			CHECK(o != NULL && json_is_object(o) && json_object_size(o) == r.n_fields);
			json_decref(o);
		}
	}
	CHECK(ing_jsonl_next(j, &r, &e) == CRM_EOF);
	ing_jsonl_close(j);
	return 0;
}
