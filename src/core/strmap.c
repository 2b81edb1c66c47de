/* strmap.c - string hash map with dense key indexes (core layer).
 * Written here rather than taken from a library because the importer, the
 * store's writer and the dataset loader look up one key per row on their
 * hot paths, at random over millions of keys: a lookup costs its cache
 * misses. A slot (16 bytes, four to a cache line) holds the key's first 8
 * bytes and a tag of hash and length, so a key of up to 8 bytes is found
 * or refused on the slot's line alone; longer keys compare their tail in
 * the pool only when head and tag match. The previous layout (hash array,
 * slot -> key array, pool offsets, pool bytes) took four dependent misses. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

uint64_t strmap_hash(const char *p, size_t n)
{
	/* 64-bit FNV-1a over 8-byte words, then a final avalanche (splitmix64) */
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	uint64_t w = 0;
	if (n > i)   /* p may be NULL for the empty key */
		memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}

/* The slot tag of a key: hash bits independent of the probe position
 * (which uses the low bits) and the length up to 254 (255: longer). Never
 * 0, the empty slot's tag. */
static uint32_t tag_of(uint64_t h, size_t n)
{
	uint32_t t = (uint32_t)(h >> 40) << 8 | (uint32_t)(n < 255 ? n : 255);
	return t ? t : 0x100;
}

/* The first 8 bytes of a key, zero-padded: with the length in the tag, a
 * key of up to 8 bytes is equal to a slot's exactly when head and tag are. */
static uint64_t head_of(const char *p, size_t n)
{
	uint64_t w = 0;
	if (n)
		memcpy(&w, p, n < 8 ? n : 8);
	return w;
}

/* Whether the stored key k, whose head and tag matched, is p[0..n). */
static int tail_eq(const struct strmap *m, uint32_t k, const char *p, size_t n)
{
	size_t len;
	const char *s;
	if (n <= 8)
		return 1;
	s = strs_get(&m->keys, k, &len);
	return len == n && memcmp(s + 8, p + 8, n - 8) == 0;
}

int strmap_init(struct strmap *m, size_t expect)
{
	memset(m, 0, sizeof *m);
	size_t cap = 16;
	if (expect > SIZE_MAX / 4 / sizeof *m->slots)
		return -1;
	while (cap < expect * 2)
		cap *= 2;
	m->slots = calloc(cap, sizeof *m->slots);
	if (!m->slots) {
		strmap_fini(m);
		return -1;
	}
	m->cap = cap;
	strs_init(&m->keys);
	return 0;
}

void strmap_fini(struct strmap *m)
{
	free(m->slots);
	free(m->values);
	strs_fini(&m->keys);
	memset(m, 0, sizeof *m);
}

long strmap_find(const struct strmap *m, const char *p, size_t n)
{
	return strmap_find_hashed(m, p, n, strmap_hash(p, n));
}

void strmap_prefetch(const struct strmap *m, uint64_t h)
{
	if (m->cap)
		__builtin_prefetch(&m->slots[h & (m->cap - 1)]);
}

long strmap_find_hashed(const struct strmap *m, const char *p, size_t n, uint64_t h)
{
	if (m->cap == 0)
		return -1;
	uint64_t head = head_of(p, n);
	uint32_t tag = tag_of(h, n);
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct strmap_slot *s = &m->slots[i];
		if (s->tag == 0)
			return -1;
		if (s->tag == tag && s->head == head && tail_eq(m, s->key, p, n))
			return (long)s->key;
	}
}

/* Puts key k (in the pool) into an empty slot of slots[0..cap). */
static void place(struct strmap_slot *slots, size_t cap, const char *p, size_t n,
		  uint32_t k)
{
	uint64_t h = strmap_hash(p, n);
	size_t i = h & (cap - 1);
	while (slots[i].tag)
		i = (i + 1) & (cap - 1);
	slots[i].head = head_of(p, n);
	slots[i].tag = tag_of(h, n);
	slots[i].key = k;
}

/* Doubles the slots. The keys are hashed again from the pool, in
 * insertion order (the pool is read front to back). */
static int grow(struct strmap *m)
{
	size_t cap = m->cap * 2;
	if (cap > SIZE_MAX / sizeof *m->slots)
		return -1;
	struct strmap_slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t k = 0; k < m->n; k++) {
		size_t len;
		const char *s = strs_get(&m->keys, k, &len);
		place(slots, cap, s, len, (uint32_t)k);
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int strmap_put(struct strmap *m, const char *p, size_t n, uint32_t v,
	       size_t *index, int *added)
{
	*added = 0;
	if (m->cap == 0)
		return -1;
	uint64_t h = strmap_hash(p, n), head = head_of(p, n);
	uint32_t tag = tag_of(h, n);
	size_t mask = m->cap - 1, i;
	for (i = h & mask; m->slots[i].tag; i = (i + 1) & mask) {
		const struct strmap_slot *s = &m->slots[i];
		if (s->tag == tag && s->head == head && tail_eq(m, s->key, p, n)) {
			*index = s->key;
			return 0;
		}
	}
	if (m->n >= UINT32_MAX - 1)
		return -1;
	if ((m->n + 1) * 4 > m->cap * 3) {
		if (grow(m) != 0)
			return -1;
		mask = m->cap - 1;
		for (i = h & mask; m->slots[i].tag; i = (i + 1) & mask)
			;
	}
	if (m->n == m->values_cap) {
		size_t cap = m->values_cap ? m->values_cap * 2 : 1024;
		uint32_t *values = xreallocn(m->values, cap, sizeof *values);
		if (!values)
			return -1;
		m->values = values;
		m->values_cap = cap;
	}
	if (strs_push(&m->keys, p, n) != 0)
		return -1;
	m->values[m->n] = v;
	m->slots[i].head = head;
	m->slots[i].tag = tag;
	m->slots[i].key = (uint32_t)m->n;
	*index = m->n++;
	*added = 1;
	return 0;
}
