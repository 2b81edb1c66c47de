/* fuzz_import.c - libFuzzer target for the whole import pipeline
 * (src/ingest/import.c with the readers, mapping, type parsing, validation
 * and order-line folding). The first byte picks the entity and options, the
 * rest is the file. Checks: no crash, leak or UB, and the accounting
 * identity read = stored + updated + duplicates + rejected. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/entity.h"
#include "core/strmap.h"
#include "ingest/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

/* Takes every record of the batch, checking what a sink may rely on
 * (import.h): 1..ING_BATCH records; every value of the entity's fields is
 * consistent (a set text value has its bytes); ids and references that are
 * set carry their strmap_number. */
static int null_put(void *ctx, struct ing_batch *b, struct crm_err *err)
{
	(void)ctx;
	(void)err;
	CHECK(b->n >= 1 && b->n <= ING_BATCH);
	for (size_t k = 0; k < b->n; k++) {
		const struct ent_record *rec = &b->rec[k];
		const struct ent_desc *d = ent_get(rec->entity);
		CHECK(d != NULL);
		for (size_t i = 0; i < d->n_fields; i++) {
			const struct ent_value *v = &rec->v[i];
			CHECK(!v->set || v->s != NULL || v->n == 0);
			int t = d->fields[i].type;
			if (v->set && v->s && (t == FT_ID || t == FT_REF))
				CHECK(v->i == strmap_number(v->s, v->n));
		}
		b->outcome[k] = ING_INSERTED;
	}
	b->taken = b->n;
	b->stubs = 0;
	return CRM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	int fd = memfd_create("fuzz_import", 0);
	if (fd < 0)
		return 0;
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	static const char *const maps[] = { "customer_id=#1", "ordered_at=#2", "amount=#3" };
	struct ing_opts o;
	memset(&o, 0, sizeof o);
	o.entity = sel % CRM_N_ENTITIES;
	o.format = (sel >> 3) & 1 ? ING_FMT_JSONL : ING_FMT_CSV;
	o.decimal = (sel >> 4) & 1 ? ',' : '.';
	o.lines = (sel >> 5) & 1;
	if ((sel >> 6) == 1)
		o.date_format = "%Y%m%d";
	if ((sel >> 6) == 2 && o.format == ING_FMT_CSV) {
		o.entity = CRM_ORDERS;
		o.no_header = 1;
		o.csv.mode = ING_DELIM_WS;
		o.maps = maps;
		o.n_maps = 3;
	}
	struct ing_sink sink = { NULL, null_put };
	struct ing_summary sum;
	struct crm_err err;
	int rc = ing_import(path, &o, &sink, &sum, &err);
	if (rc == CRM_OK)
		CHECK(sum.read == sum.stored + sum.updated + sum.duplicates + sum.rejected);
	close(fd);
	return 0;
}
