/* test_jsonl.c - the JSON Lines reader (src/ingest/jsonl.c): value types as
 * text, null, nested values, Unicode, bad lines and recovery, line ends. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/reader.h"

static struct ing_jsonl *open_s(const char *s)
{
	struct ing_jsonl *j = NULL;
	struct crm_err e;
	cr_assert_eq(ing_jsonl_open_mem(s, strlen(s), "t.jsonl", &j, &e), CRM_OK, "%s", e.msg);
	return j;
}

static void next_ok(struct ing_jsonl *j, struct ing_row *r, long line, size_t n)
{
	struct crm_err e;
	int rc = ing_jsonl_next(j, r, &e);
	cr_assert_eq(rc, CRM_OK, "rc %d: %s", rc, e.msg);
	cr_assert_eq(r->line, line, "line %ld, want %ld", r->line, line);
	cr_assert_eq(r->n_fields, n, "%zu fields, want %zu", r->n_fields, n);
	cr_assert_not_null(r->names);
}

/* Field i is named name and holds exactly want (not missing). */
static void expect_field(const struct ing_row *r, size_t i, const char *name, const char *want)
{
	const struct ing_field *k = &r->names[i], *f = &r->fields[i];
	cr_assert(k->n == strlen(name) && memcmp(k->p, name, k->n) == 0,
		  "name %zu: '%.*s', want '%s'", i, (int)k->n, k->p, name);
	cr_assert(!f->missing, "%s is missing", name);
	cr_assert(f->n == strlen(want) && memcmp(f->p, want, f->n) == 0,
		  "%s: '%.*s', want '%s'", name, (int)f->n, f->p, want);
}

static void expect_bad(struct ing_jsonl *j, long line, const char *raw, const char *msg)
{
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_jsonl_next(j, &r, &e), CRM_EPARSE, "line %ld should fail", line);
	cr_assert_eq(e.code, CRM_EPARSE);
	cr_assert_eq(r.line, line);
	cr_assert_eq(r.n_fields, 0);
	cr_assert(r.raw_n == strlen(raw) && memcmp(r.raw, raw, r.raw_n) == 0,
		  "raw '%.*s'", (int)r.raw_n, r.raw);
	cr_assert_str_eq(e.msg, msg);
}

static void expect_eof(struct ing_jsonl *j)
{
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_jsonl_next(j, &r, &e), CRM_EOF);
	cr_assert_eq(r.n_fields, 0);
	cr_assert_eq(ing_jsonl_next(j, &r, &e), CRM_EOF);
}

Test(jsonl, value_types_as_text)
{
	struct ing_jsonl *j = open_s(
		"{\"id\":\"c1\",\"n\":42,\"neg\":-7,\"amount\":11.77,\"pi\":3.14159265358979,"
		"\"t\":true,\"f\":false,\"z\":null,\"big\":9007199254740993,\"exp\":1e3,"
		"\"one\":1.0,\"small\":0.1,\"huge\":1e300,\"sixteen\":123456789012345.6}\n");
	struct ing_row r;
	next_ok(j, &r, 1, 14);
	expect_field(&r, 0, "id", "c1");
	expect_field(&r, 1, "n", "42");
	expect_field(&r, 2, "neg", "-7");
	expect_field(&r, 3, "amount", "11.77");             /* %.15g gives it back */
	expect_field(&r, 4, "pi", "3.14159265358979");      /* 15 significant digits */
	expect_field(&r, 5, "t", "true");
	expect_field(&r, 6, "f", "false");
	cr_assert(r.names[7].n == 1 && r.names[7].p[0] == 'z');
	cr_assert_eq(r.fields[7].missing, 1);
	cr_assert_eq(r.fields[7].n, 0);
	cr_assert_not_null(r.fields[7].p);
	expect_field(&r, 8, "big", "9007199254740993");     /* integers are exact (2^53 + 1) */
	expect_field(&r, 9, "exp", "1000");                 /* a real, printed by %.15g */
	expect_field(&r, 10, "one", "1");
	expect_field(&r, 11, "small", "0.1");
	expect_field(&r, 12, "huge", "1e+300");
	/* 16 significant digits are rounded to 15: the documented limit */
	expect_field(&r, 13, "sixteen", "123456789012346");
	expect_eof(j);
	ing_jsonl_close(j);
}

Test(jsonl, nested_values_as_compact_json)
{
	struct ing_jsonl *j = open_s(
		"{\"o\": {\"k\": [1, 2, {\"x\": \"y\"}], \"e\": {}}, \"a\": [ ], \"s\": \"after\","
		" \"u\": [\"Київ\", null, true, 2.5]}\n");
	struct ing_row r;
	next_ok(j, &r, 1, 4);
	expect_field(&r, 0, "o", "{\"k\":[1,2,{\"x\":\"y\"}],\"e\":{}}");
	expect_field(&r, 1, "a", "[]");
	expect_field(&r, 2, "s", "after");
	expect_field(&r, 3, "u", "[\"Київ\",null,true,2.5]");
	expect_eof(j);
	ing_jsonl_close(j);
}

Test(jsonl, many_printed_values_survive_buffer_growth)
{
	/* 200 keys k0..k199 alternating integers and arrays: the text buffer
	 * grows several times while the row is filled */
	char *s = malloc(16000), *p = s;
	p += sprintf(p, "{");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, i % 2 ? "%s\"k%d\":[%d,\"x\"]" : "%s\"k%d\":%d", i ? "," : "", i, i * 1000);
	sprintf(p, "}\n");
	struct ing_jsonl *j = open_s(s);
	struct ing_row r;
	next_ok(j, &r, 1, 200);
	for (int i = 0; i < 200; i++) {
		char name[16], want[32];
		snprintf(name, sizeof name, "k%d", i);
		snprintf(want, sizeof want, i % 2 ? "[%d,\"x\"]" : "%d", i * 1000);
		expect_field(&r, (size_t)i, name, want);
	}
	ing_jsonl_close(j);
	free(s);
}

Test(jsonl, unicode_strings)
{
	struct ing_jsonl *j = open_s(
		"{\"місто\":\"Київ\",\"greeting\":\"Привіт, світе\"}\n"
		"{\"城市\":\"北京\",\"name\":\"王小明\"}\n"
		"{\"πόλη\":\"Αθήνα\",\"esc\":\"\\u0391\\u03b8\\u03ae\\u03bd\\u03b1\",\"smile\":\"\\ud83d\\ude00\"}\n"
		"{\"q\":\"a\\\"b\\\\c\\n\\t/\\/\"}\n");
	struct ing_row r;
	next_ok(j, &r, 1, 2);
	expect_field(&r, 0, "місто", "Київ");
	cr_assert_eq(r.fields[0].n, 8);                 /* four two-byte letters */
	expect_field(&r, 1, "greeting", "Привіт, світе");
	next_ok(j, &r, 2, 2);
	expect_field(&r, 0, "城市", "北京");
	cr_assert_eq(r.fields[0].n, 6);                 /* two three-byte characters */
	expect_field(&r, 1, "name", "王小明");
	next_ok(j, &r, 3, 3);
	expect_field(&r, 0, "πόλη", "Αθήνα");
	expect_field(&r, 1, "esc", "Αθήνα");            /* \u escapes decode to UTF-8 */
	expect_field(&r, 2, "smile", "\xF0\x9F\x98\x80"); /* U+1F600 from a surrogate pair */
	next_ok(j, &r, 4, 1);
	expect_field(&r, 0, "q", "a\"b\\c\n\t//");
	expect_eof(j);
	ing_jsonl_close(j);
}

Test(jsonl, bad_lines_are_reported_and_skipped)
{
	struct ing_jsonl *j = open_s(
		"{\"a\":1}\n"
		"{\"a\":1\n"
		"[1,2]\n"
		"\"text\"\n"
		"{\"a\":1} x\n"
		"{\"a\":1,\"a\":2}\n"
		"{\"a\":\"\xff\"}\n"
		"{\"a\":99999999999999999999}\n"
		"{\"b\":2}\n");
	struct ing_row r;
	next_ok(j, &r, 1, 1);
	expect_field(&r, 0, "a", "1");
	/* the messages: file, line, jansson's column and reason */
	expect_bad(j, 2, "{\"a\":1", "t.jsonl:2: column 6: '}' expected near end of file");
	expect_bad(j, 3, "[1,2]", "t.jsonl:3: not a JSON object but an array");
	expect_bad(j, 4, "\"text\"", "t.jsonl:4: column 6: '[' or '{' expected near '\"text\"'");
	expect_bad(j, 5, "{\"a\":1} x", "t.jsonl:5: column 9: end of file expected near 'x'");
	expect_bad(j, 6, "{\"a\":1,\"a\":2}", "t.jsonl:6: column 10: duplicate object key near '\"a\"'");
	expect_bad(j, 7, "{\"a\":\"\xff\"}", "t.jsonl:7: column 6: unable to decode byte 0xff near '\"'");
	expect_bad(j, 8, "{\"a\":99999999999999999999}",
		   "t.jsonl:8: column 25: too big integer near '99999999999999999999'");
	next_ok(j, &r, 9, 1);
	expect_field(&r, 0, "b", "2");
	expect_eof(j);
	ing_jsonl_close(j);
}

Test(jsonl, blank_lines_crlf_and_bom)
{
	struct ing_jsonl *j = open_s("\xEF\xBB\xBF{\"a\":\"x\"}\r\n\r\n   \t\n\n{\"b\":null}\r\n{}");
	struct ing_row r;
	next_ok(j, &r, 1, 1);
	cr_assert(r.raw_n == 9 && memcmp(r.raw, "{\"a\":\"x\"}", 9) == 0);
	expect_field(&r, 0, "a", "x");
	next_ok(j, &r, 5, 1);
	cr_assert(r.raw_n == 10 && memcmp(r.raw, "{\"b\":null}", 10) == 0);
	cr_assert_eq(r.fields[0].missing, 1);
	next_ok(j, &r, 6, 0);                 /* an empty object, no final newline */
	expect_eof(j);
	ing_jsonl_close(j);
}

Test(jsonl, empty_inputs)
{
	struct ing_jsonl *j = open_s("");
	expect_eof(j);
	ing_jsonl_close(j);
	j = open_s("\n\r\n  \n");
	expect_eof(j);
	ing_jsonl_close(j);
	j = open_s("\xEF\xBB\xBF");
	expect_eof(j);
	ing_jsonl_close(j);
	ing_jsonl_close(NULL);
}

Test(jsonl, files_and_standard_input)
{
	char path[] = "/tmp/crmscope_jsonl_XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char *s = "{\"id\":1,\"name\":\"Ann\"}\n{\"id\":2,\"name\":\"Bob\"}\n";
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);

	struct ing_jsonl *j;
	struct crm_err e;
	struct ing_row r;
	cr_assert_eq(ing_jsonl_open(path, &j, &e), CRM_OK, "%s", e.msg);
	next_ok(j, &r, 1, 2);
	expect_field(&r, 1, "name", "Ann");
	next_ok(j, &r, 2, 2);
	expect_field(&r, 0, "id", "2");
	expect_eof(j);
	ing_jsonl_close(j);

	cr_assert_not_null(freopen(path, "r", stdin));
	cr_assert_eq(ing_jsonl_open("-", &j, &e), CRM_OK, "%s", e.msg);
	next_ok(j, &r, 1, 2);
	expect_field(&r, 1, "name", "Ann");
	ing_jsonl_close(j);
	unlink(path);

	cr_assert_eq(ing_jsonl_open("tests/no/such.jsonl", &j, &e), CRM_ENOTFOUND);
	cr_assert_null(j);
}
