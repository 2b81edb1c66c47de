/* test_csvout.c - the CSV field writer (src/core/csvout.c): which fields
 * are quoted and how quotes inside them are doubled (RFC 4180, 2.6-2.7). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csvout.h"

/* The bytes csv_put_field writes for s (caller frees). */
static char *field_text(const char *s)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);
	cr_assert(f != NULL);
	csv_put_field(f, s);
	cr_assert_eq(fclose(f), 0);
	return p;
}

static void assert_field(const char *s, const char *want)
{
	char *got = field_text(s);
	cr_assert_str_eq(got, want, "field of [%s]", s);
	free(got);
}

Test(csvout, plain_fields_as_they_are)
{
	assert_field("", "");
	assert_field("C000123", "C000123");
	assert_field("Anne-Marie O'Neil; 12.5 %", "Anne-Marie O'Neil; 12.5 %");
	assert_field("Zoë", "Zoë");
}

Test(csvout, quoted_when_they_must_be)
{
	assert_field("a,b", "\"a,b\"");
	assert_field("say \"hi\"", "\"say \"\"hi\"\"\"");
	assert_field("\"", "\"\"\"\"");
	assert_field("two\nlines", "\"two\nlines\"");
	assert_field("cr\r", "\"cr\r\"");
	assert_field(",", "\",\"");
}

/* crmscope's reader trims blanks at a field's edges, so a space there is
 * kept only between quotes; a space inside needs none. */
Test(csvout, edge_spaces_are_quoted)
{
	assert_field(" leading", "\" leading\"");
	assert_field("trailing ", "\"trailing \"");
	assert_field(" ", "\" \"");
	assert_field("in side", "in side");
	cr_assert_eq(csv_needs_quotes("a b", 3), 0);
	cr_assert_eq(csv_needs_quotes(" a", 2), 1);
	cr_assert_eq(csv_needs_quotes("", 0), 0);
}

/* The buffer form writes the same bytes, takes a length (a NUL inside is
 * data) and leaves the buffer NUL-terminated. */
Test(csvout, buffer_form_matches)
{
	const char *cases[] = { "", "plain", "a,b", "say \"hi\"", " edge", "two\nlines" };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b);
		cr_assert_eq(csv_put_field_buf(&b, cases[i], strlen(cases[i])), 0);
		char *want = field_text(cases[i]);
		cr_assert_eq(b.len, strlen(want), "[%s]", cases[i]);
		cr_assert_eq(memcmp(b.p ? b.p : "", want, b.len), 0, "[%s]", cases[i]);
		cr_assert(b.p == NULL || b.p[b.len] == '\0');
		free(want);
		buf_fini(&b);
	}
	struct buf b;
	buf_init(&b);
	cr_assert_eq(csv_put_field_buf(&b, "a\0b", 3), 0);
	cr_assert_eq(b.len, 3);
	cr_assert_eq(memcmp(b.p, "a\0b", 3), 0);
	buf_fini(&b);
}
