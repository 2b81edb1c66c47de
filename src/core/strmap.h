/* strmap.h - a hash map from byte strings to uint32 values (core layer).
 * Open addressing with linear probing; keys are copied into the map's own
 * pool. Used to give text identifiers dense ids (customers, categories). */
#ifndef CORE_STRMAP_H
#define CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"

struct strmap {
	uint64_t *hashes;          /* cap slots; 0 = empty */
	uint32_t *slot_key;        /* cap slots: index of the key in keys */
	uint32_t *values;          /* n values, by key index */
	struct crm_strings keys;   /* n keys in insertion order */
	size_t n, cap;             /* cap is a power of two */
};

uint64_t strmap_hash(const char *p, size_t n);

int strmap_init(struct strmap *m, size_t expect);
void strmap_fini(struct strmap *m);

/* Finds key p[0..n). Returns its key index (insertion order) or -1. */
long strmap_find(const struct strmap *m, const char *p, size_t n);

/* Finds key p[0..n) or inserts it with value v. *index is its key index,
 * *added 1 when it was inserted. Returns 0, or -1 on ENOMEM. */
int strmap_put(struct strmap *m, const char *p, size_t n, uint32_t v,
	       size_t *index, int *added);

#endif
