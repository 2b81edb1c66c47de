/* test_strmap.c - the string hash map (src/core/strmap.c): inserts, finds,
 * growth, many keys, keys with NUL bytes, keys sharing their first 8
 * bytes, long keys, the empty key, and values changed in place. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/strmap.h"

/* strmap_put that must succeed; returns the key index */
static size_t put(struct strmap *m, const char *p, size_t n, uint32_t v, int expect_added)
{
	size_t ix = (size_t)-1;
	int added = -1;
	cr_assert_eq(strmap_put(m, p, n, v, &ix, &added), 0, "put of %zu bytes", n);
	cr_assert_eq(added, expect_added, "put of '%.*s': added %d", (int)n, p, added);
	return ix;
}

Test(strmap, inserts_and_finds_in_insertion_order)
{
	struct strmap m;
	cr_assert_eq(strmap_init(&m, 4), 0);
	cr_assert_eq(strmap_find(&m, "a", 1), -1);
	cr_assert_eq(put(&m, "alpha", 5, 10, 1), 0);
	cr_assert_eq(put(&m, "beta", 4, 20, 1), 1);
	cr_assert_eq(put(&m, "gamma", 5, 30, 1), 2);
	/* a found key keeps its index and its value (20, not 99) */
	cr_assert_eq(put(&m, "beta", 4, 99, 0), 1);
	cr_assert_eq(m.n, 3);
	cr_assert_eq(m.values[1], 20);
	cr_assert_eq(strmap_find(&m, "alpha", 5), 0);
	cr_assert_eq(strmap_find(&m, "gamma", 5), 2);
	/* prefixes and extensions of stored keys are other keys */
	cr_assert_eq(strmap_find(&m, "alph", 4), -1);
	cr_assert_eq(strmap_find(&m, "alphab", 6), -1);
	cr_assert_eq(strmap_find(&m, "Alpha", 5), -1);
	size_t len = 0;
	const char *k = strs_get(&m.keys, 2, &len);
	cr_assert_eq(len, 5);
	cr_assert_str_eq(k, "gamma");
	strmap_fini(&m);
}

Test(strmap, values_changed_in_place_are_kept)
{
	struct strmap m;
	cr_assert_eq(strmap_init(&m, 0), 0);
	size_t ix = put(&m, "k", 1, 0, 1);
	for (int i = 0; i < 5; i++)
		m.values[put(&m, "k", 1, 7, 0)]++;
	cr_assert_eq(m.values[ix], 5);
	strmap_fini(&m);
}

Test(strmap, the_empty_key_and_nul_bytes_are_keys)
{
	struct strmap m;
	cr_assert_eq(strmap_init(&m, 0), 0);
	/* "", "\0", "\0\0", "a\0" and "a" are five keys: lengths differ, or the
	 * bytes do (zero padding of the slot's 8-byte head must not join them) */
	static const struct { const char *p; size_t n; } keys[] = {
		{ "", 0 }, { "\0", 1 }, { "\0\0", 2 }, { "a\0", 2 }, { "a", 1 },
		{ "12345678\0", 9 }, { "12345678", 8 }, { "1234567\0", 8 },
	};
	size_t nk = sizeof keys / sizeof keys[0];
	for (size_t i = 0; i < nk; i++)
		cr_assert_eq(put(&m, keys[i].p, keys[i].n, (uint32_t)(100 + i), 1), i);
	for (size_t i = 0; i < nk; i++) {
		cr_assert_eq(strmap_find(&m, keys[i].p, keys[i].n), (long)i, "key %zu", i);
		cr_assert_eq(m.values[i], 100 + i);
		size_t len;
		const char *k = strs_get(&m.keys, i, &len);
		cr_assert_eq(len, keys[i].n);
		cr_assert_eq(memcmp(k, keys[i].p, len), 0);
	}
	cr_assert_eq(strmap_find(&m, "\0\0\0", 3), -1);
	strmap_fini(&m);
}

Test(strmap, long_keys_sharing_their_head_differ_by_their_tail)
{
	struct strmap m;
	char a[300], b[300];
	cr_assert_eq(strmap_init(&m, 0), 0);
	/* 9 to 299 bytes: lengths past 254 share the slot's length code (255),
	 * so 260 and 299 bytes of the same head are told apart by the pool */
	memset(a, 'x', sizeof a);
	memcpy(b, a, sizeof b);
	b[298] = 'y';
	size_t lens[] = { 9, 16, 254, 255, 260, 299 };
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(put(&m, a, lens[i], (uint32_t)i, 1), i);
	/* b differs from a only in its last byte (299th) */
	cr_assert_eq(put(&m, b, 299, 6, 1), 6);
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(strmap_find(&m, a, lens[i]), (long)i);
	cr_assert_eq(strmap_find(&m, b, 299), 6);
	cr_assert_eq(strmap_find(&m, b, 298), -1);
	cr_assert_eq(strmap_find(&m, a, 261), -1);
	strmap_fini(&m);
}

Test(strmap, grows_from_the_smallest_size_and_keeps_every_key)
{
	struct strmap m;
	char k[32];
	cr_assert_eq(strmap_init(&m, 0), 0);
	size_t cap0 = m.cap;
	cr_assert_eq(cap0, 16);
	/* 100,000 keys: "c0".."c99999" and every fourth as a 20-byte key; the
	 * table stays at most 3/4 full, so it grew to 2^18 = 262,144 slots
	 * (2^17 = 131,072 holds at most 98,304) */
	for (uint32_t i = 0; i < 100000; i++) {
		int n = i % 4 ? snprintf(k, sizeof k, "c%u", i) : snprintf(k, sizeof k, "long-key-%011u", i);
		cr_assert_eq(put(&m, k, (size_t)n, i * 3, 1), i);
	}
	cr_assert_eq(m.n, 100000);
	cr_assert_eq(m.cap, (size_t)1 << 18);
	for (uint32_t i = 0; i < 100000; i++) {
		int n = i % 4 ? snprintf(k, sizeof k, "c%u", i) : snprintf(k, sizeof k, "long-key-%011u", i);
		cr_assert_eq(strmap_find(&m, k, (size_t)n), (long)i, "key %s", k);
		cr_assert_eq(m.values[i], i * 3);
	}
	/* keys never put: "c100000".."c100999" and "long-key-" of an odd number */
	for (uint32_t i = 100000; i < 101000; i++) {
		int n = snprintf(k, sizeof k, "c%u", i);
		cr_assert_eq(strmap_find(&m, k, (size_t)n), -1);
	}
	int n = snprintf(k, sizeof k, "long-key-%011u", 3u);
	cr_assert_eq(strmap_find(&m, k, (size_t)n), -1);
	strmap_fini(&m);
}

Test(strmap, sized_for_many_keys_it_does_not_grow)
{
	struct strmap m;
	char k[16];
	/* expect 5,000: the smallest power of two >= 10,000 slots is 16,384 */
	cr_assert_eq(strmap_init(&m, 5000), 0);
	cr_assert_eq(m.cap, 16384);
	for (uint32_t i = 0; i < 5000; i++) {
		int n = snprintf(k, sizeof k, "%u", i * 7919u);
		put(&m, k, (size_t)n, i, 1);
	}
	cr_assert_eq(m.cap, 16384);
	cr_assert_eq(strmap_find(&m, "39595", 5), 5);   /* 5 x 7919 */
	cr_assert_eq(strmap_find(&m, "39596", 5), -1);
	strmap_fini(&m);
}

Test(strmap, a_finished_map_finds_nothing_and_fini_twice_is_harmless)
{
	struct strmap m;
	cr_assert_eq(strmap_init(&m, 1), 0);
	put(&m, "x", 1, 1, 1);
	strmap_fini(&m);
	cr_assert_eq(strmap_find(&m, "x", 1), -1);
	size_t ix;
	int added;
	cr_assert_eq(strmap_put(&m, "x", 1, 1, &ix, &added), -1);
	strmap_fini(&m);
}

Test(strmap, the_hash_is_stable_and_depends_on_length)
{
	/* the same bytes give the same hash; a NUL byte more gives another;
	 * 0 is never returned (it would mark an empty slot elsewhere) */
	cr_assert_eq(strmap_hash("abc", 3), strmap_hash("abc", 3));
	cr_assert_neq(strmap_hash("abc", 3), strmap_hash("abc\0", 4));
	cr_assert_neq(strmap_hash("", 0), 0);
}

/* Found by fuzz_import: an empty text value arrives as (NULL, 0); hashing
 * and finding it must not pass NULL to memcpy (UBSan). */
Test(strmap, the_empty_key_may_come_as_a_null_pointer)
{
	struct strmap m;
	size_t ix, ix2;
	int added;
	cr_assert_eq(strmap_init(&m, 4), 0);
	cr_assert_eq(strmap_hash(NULL, 0), strmap_hash("", 0));
	cr_assert_eq(strmap_put(&m, NULL, 0, 7, &ix, &added), 0);
	cr_assert_eq(added, 1);
	cr_assert_eq(strmap_put(&m, "", 0, 8, &ix2, &added), 0);
	cr_assert_eq(added, 0);
	cr_assert_eq(ix2, ix);
	cr_assert_eq(strmap_find(&m, NULL, 0), (long)ix);
	strmap_fini(&m);
}

Test(strmap, numbers_are_read_as_people_write_them)
{
	/* 1 to 9 digits, no leading zero but "0" itself */
	cr_assert_eq(strmap_number("0", 1), 0);
	cr_assert_eq(strmap_number("7", 1), 7);
	cr_assert_eq(strmap_number("17", 2), 17);
	cr_assert_eq(strmap_number("305", 3), 305);
	cr_assert_eq(strmap_number("1234", 4), 1234);
	cr_assert_eq(strmap_number("90210", 5), 90210);
	cr_assert_eq(strmap_number("12345678", 8), 12345678);
	cr_assert_eq(strmap_number("123456789", 9), 123456789);
	cr_assert_eq(strmap_number("999999999", 9), 999999999);
	cr_assert_eq(strmap_number("100000000", 9), 100000000);
	/* not numbers of that form */
	cr_assert_eq(strmap_number("", 0), -1);
	cr_assert_eq(strmap_number("1234567890", 10), -1);
	cr_assert_eq(strmap_number("0100", 4), -1);
	cr_assert_eq(strmap_number("00", 2), -1);
	cr_assert_eq(strmap_number("12a4", 4), -1);
	cr_assert_eq(strmap_number("1234567a9", 9), -1);  /* in the 8-byte part */
	cr_assert_eq(strmap_number("a23456789", 9), -1);  /* the ninth digit */
	cr_assert_eq(strmap_number("12/4", 4), -1);       /* '/' is '0' - 1 */
	cr_assert_eq(strmap_number("12:4", 4), -1);       /* ':' is '9' + 1 */
	cr_assert_eq(strmap_number("1 3", 3), -1);
	cr_assert_eq(strmap_number("-12", 3), -1);
	cr_assert_eq(strmap_number("\xb1\xb2\xb3\xb4\xb5", 5), -1);
	/* only the n bytes given are read: "12" of "1234" */
	cr_assert_eq(strmap_number("1234", 2), 12);
}

/* The 8-bytes-at-once reading agrees with reading a digit at a time on
 * every string of up to 11 bytes drawn from digits and the bytes next to
 * them ('/', ':', and bytes with the top bit set), 200,000 of them. */
Test(strmap, numbers_agree_with_a_digit_at_a_time)
{
	static const char alphabet[] = "0123456789/:\xb0\xb9 ";
	uint64_t x = 88172645463325252ull;   /* xorshift64 */
	for (int k = 0; k < 200000; k++) {
		char s[12];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t n = (size_t)(x % 12);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* mostly digits, so that many strings are numbers */
			s[i] = alphabet[(x >> 8) % 4 ? (x >> 16) % 10 : (x >> 16) % (sizeof alphabet - 1)];
		}
		int64_t want = -1;
		if (n >= 1 && n <= 9 && !(s[0] == '0' && n > 1)) {
			want = 0;
			for (size_t i = 0; i < n && want >= 0; i++)
				want = s[i] >= '0' && s[i] <= '9' ? want * 10 + (s[i] - '0') : -1;
		}
		cr_assert_eq(strmap_number(s, n), want, "'%.*s'", (int)n, s);
	}
}
