/* strmap.c - string hash map with dense key indexes (core layer).
 * Written here rather than taken from a library because the importer and the
 * dataset loader look up one key per row on their hot paths. */
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
	memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}

int strmap_init(struct strmap *m, size_t expect)
{
	memset(m, 0, sizeof *m);
	size_t cap = 16;
	while (cap < expect * 2)
		cap *= 2;
	m->hashes = calloc(cap, sizeof *m->hashes);
	m->slot_key = xmallocn(cap, sizeof *m->slot_key);
	if (!m->hashes || !m->slot_key) {
		strmap_fini(m);
		return -1;
	}
	m->cap = cap;
	strs_init(&m->keys);
	return 0;
}

void strmap_fini(struct strmap *m)
{
	free(m->hashes);
	free(m->slot_key);
	free(m->values);
	strs_fini(&m->keys);
	memset(m, 0, sizeof *m);
}

static int key_eq(const struct strmap *m, uint32_t k, const char *p, size_t n)
{
	size_t len;
	const char *s = strs_get(&m->keys, k, &len);
	return len == n && memcmp(s, p, n) == 0;
}

long strmap_find(const struct strmap *m, const char *p, size_t n)
{
	uint64_t h = strmap_hash(p, n);
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (m->hashes[i] == 0)
			return -1;
		if (m->hashes[i] == h && key_eq(m, m->slot_key[i], p, n))
			return (long)m->slot_key[i];
	}
}

static int grow(struct strmap *m)
{
	size_t cap = m->cap * 2;
	uint64_t *hashes = calloc(cap, sizeof *hashes);
	uint32_t *slot_key = xmallocn(cap, sizeof *slot_key);
	if (!hashes || !slot_key) {
		free(hashes);
		free(slot_key);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->hashes[i] == 0)
			continue;
		size_t j = m->hashes[i] & (cap - 1);
		while (hashes[j])
			j = (j + 1) & (cap - 1);
		hashes[j] = m->hashes[i];
		slot_key[j] = m->slot_key[i];
	}
	free(m->hashes);
	free(m->slot_key);
	m->hashes = hashes;
	m->slot_key = slot_key;
	m->cap = cap;
	return 0;
}

int strmap_put(struct strmap *m, const char *p, size_t n, uint32_t v,
	       size_t *index, int *added)
{
	uint64_t h = strmap_hash(p, n);
	size_t mask = m->cap - 1, i;
	*added = 0;
	for (i = h & mask; m->hashes[i]; i = (i + 1) & mask) {
		if (m->hashes[i] == h && key_eq(m, m->slot_key[i], p, n)) {
			*index = m->slot_key[i];
			return 0;
		}
	}
	if (m->n >= UINT32_MAX - 1)
		return -1;
	if ((m->n + 1) * 4 > m->cap * 3) {
		if (grow(m) != 0)
			return -1;
		return strmap_put(m, p, n, v, index, added);
	}
	if (m->n % 1024 == 0) {
		uint32_t *values = xreallocn(m->values, m->n + 1024, sizeof *values);
		if (!values)
			return -1;
		m->values = values;
	}
	if (strs_push(&m->keys, p, n) != 0)
		return -1;
	m->values[m->n] = v;
	m->hashes[i] = h;
	m->slot_key[i] = (uint32_t)m->n;
	*index = m->n++;
	*added = 1;
	return 0;
}
