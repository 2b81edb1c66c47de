/* strmap.h - a hash map from byte strings to uint32 values (core layer).
 * Open addressing with linear probing; keys are copied into the map's own
 * pool. Used to give text identifiers dense ids (customers, categories).
 * A slot holds a key's first 8 bytes and a tag of its hash and length, so
 * finding a key of up to 8 bytes reads one slot and no pool. */
#ifndef CORE_STRMAP_H
#define CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"
#include "core/digits.h"

struct strmap_slot {
	uint64_t head;             /* the key's first 8 bytes, zero-padded */
	uint32_t tag;              /* hash bits 40..63 << 8 | min(length, 255); 0: empty */
	uint32_t key;              /* key index (in keys and values) */
};

struct strmap {
	struct strmap_slot *slots; /* cap slots */
	uint32_t *values;          /* n values, by key index (values_cap allocated);
	                              users may change them in place */
	struct crm_strings keys;   /* n keys in insertion order */
	size_t n, cap;             /* cap is a power of two; n <= cap * 3 / 4 */
	size_t values_cap;         /* allocated values */
};

/* A 64-bit hash of p[0..n), never 0. The same in every process. */
uint64_t strmap_hash(const char *p, size_t n);

/* The value of p[0..n) when it is a decimal number as people write it: 1 to
 * 9 digits, no leading zero but in "0" itself; else -1. Two keys with a
 * value are equal exactly when their values are, so maps of identifiers
 * may keep such keys by value (in an array or a bitmap) and every other
 * key by hash. */
static inline int64_t strmap_number(const char *p, size_t n)
{
	if (n == 0 || n > 9 || (p[0] == '0' && n > 1))
		return -1;
	return digits_value(p, n);
}

/* An empty map with room for about expect keys before it grows.
 * 0, or -1 on ENOMEM (then m needs no strmap_fini, which is harmless). */
int strmap_init(struct strmap *m, size_t expect);
void strmap_fini(struct strmap *m);

/* Finds key p[0..n) (any bytes, NUL included). Returns its key index
 * (insertion order) or -1. */
long strmap_find(const struct strmap *m, const char *p, size_t n);

/* strmap_find with h = strmap_hash(p, n) already computed. */
long strmap_find_hashed(const struct strmap *m, const char *p, size_t n, uint64_t h);

/* Starts fetching the slot where a key of hash h is looked for first, so
 * that a lookup a little later finds it in the cache while the caller does
 * other work (a lookup at random in a big map waits for memory). */
void strmap_prefetch(const struct strmap *m, uint64_t h);

/* Finds key p[0..n) or inserts it with value v (a found key keeps its
 * value). *index is its key index, *added 1 when it was inserted.
 * Returns 0, or -1 on ENOMEM or when the map holds UINT32_MAX - 1 keys. */
int strmap_put(struct strmap *m, const char *p, size_t n, uint32_t v,
	       size_t *index, int *added);

#endif
