/* test_csv.c - the CSV reader (src/ingest/csv.c): exact bytes of every field
 * for the RFC 4180 cases, delimiter detection, the runs-of-blanks mode,
 * malformed records and recovery, and the two real data files. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/reader.h"

#define CDNOW "../shared/data/cdnow/CDNOW_master.txt"
#define RETAIL "../shared/data/online_retail_ii/online_retail_II_2009_2010.csv"

static struct ing_csv *open_n(const char *s, size_t n, int mode, char delim)
{
	struct ing_csv_opts o = { mode, delim };
	struct ing_csv *c = NULL;
	struct crm_err e;
	cr_assert_eq(ing_csv_open_mem(s, n, "t.csv", &o, &c, &e), CRM_OK, "%s", e.msg);
	return c;
}

static struct ing_csv *open_s(const char *s, int mode, char delim)
{
	return open_n(s, strlen(s), mode, delim);
}

static int field_is(const struct ing_field *f, const char *want)
{
	return f->n == strlen(want) && memcmp(f->p, want, f->n) == 0 && !f->missing;
}

/* Reads the next record, expects CRM_OK, the line and exactly the fields. */
static void expect_row(struct ing_csv *c, long line, size_t n, const char *const *want)
{
	struct ing_row r;
	struct crm_err e;
	int rc = ing_csv_next(c, &r, &e);
	cr_assert_eq(rc, CRM_OK, "rc %d: %s", rc, rc ? e.msg : "");
	cr_assert_eq(r.line, line, "line %ld, want %ld", r.line, line);
	cr_assert_eq(r.n_fields, n, "line %ld: %zu fields, want %zu", line, r.n_fields, n);
	cr_assert_null(r.names);
	for (size_t i = 0; i < n; i++)
		cr_assert(field_is(&r.fields[i], want[i]), "line %ld field %zu: '%.*s', want '%s'",
			  line, i, (int)r.fields[i].n, r.fields[i].p, want[i]);
}

#define ROW(c, line, ...)                                                          \
	expect_row((c), (line), sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *), \
		   (const char *[]){ __VA_ARGS__ })

static void expect_raw(struct ing_csv *c, int want_rc, long line, const char *raw)
{
	struct ing_row r;
	struct crm_err e;
	int rc = ing_csv_next(c, &r, &e);
	cr_assert_eq(rc, want_rc, "rc %d want %d: %s", rc, want_rc, e.msg);
	cr_assert_eq(r.line, line, "line %ld, want %ld", r.line, line);
	cr_assert_eq(r.raw_n, strlen(raw), "raw '%.*s', want '%s'", (int)r.raw_n, r.raw, raw);
	cr_assert(memcmp(r.raw, raw, r.raw_n) == 0, "raw '%.*s'", (int)r.raw_n, r.raw);
}

static void expect_eof(struct ing_csv *c)
{
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EOF);
	cr_assert_eq(r.n_fields, 0);
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EOF);   /* and stays there */
}

Test(csv, plain_records)
{
	struct ing_csv *c = open_s("id,name,amount\n1,Ann,11.77\n2,Bob,3\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ',');
	ROW(c, 1, "id", "name", "amount");
	ROW(c, 2, "1", "Ann", "11.77");
	ROW(c, 3, "2", "Bob", "3");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, raw_is_the_record_without_its_line_end)
{
	struct ing_csv *c = open_s("a,b\r\n\"x\ny\",z\r\nlast", 0, 0);
	expect_raw(c, CRM_OK, 1, "a,b");
	expect_raw(c, CRM_OK, 2, "\"x\ny\",z");
	expect_raw(c, CRM_OK, 4, "last");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, quoted_fields_and_doubled_quotes)
{
	struct ing_csv *c = open_s("\"a,b\",\"c\"\"d\",e,\"\"\n"
				   "\"x\"\"y\",\"\"\"\"\"\",\"p\"\"q\"\"r\",\"\"\"\"\n", 0, 0);
	ROW(c, 1, "a,b", "c\"d", "e", "");
	/* "x""y" -> x"y; """""" -> two quotes; "p""q""r" -> p"q"r; """" -> one quote */
	ROW(c, 2, "x\"y", "\"\"", "p\"q\"r", "\"");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, many_unescaped_fields_survive_scratch_growth)
{
	/* 60 quoted fields of 40 bytes with doubled quotes: the scratch buffer
	 * (256 bytes at first) grows several times within one record, so the
	 * fields unescaped before a growth must still read right. */
	char line[8192] = "", want[60][64];
	for (int i = 0; i < 60; i++) {
		char f[64];
		snprintf(f, sizeof f, "\"%02d\"\"abcdefghijklmnopqrstuvwxyz0123456789\"%s", i,
			 i < 59 ? "," : "\n");
		strcat(line, f);
		snprintf(want[i], sizeof want[i], "%02d\"abcdefghijklmnopqrstuvwxyz0123456789", i);
	}
	struct ing_csv *c = open_s(line, ING_DELIM_CHAR, ',');
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
	cr_assert_eq(r.n_fields, 60);
	for (int i = 0; i < 60; i++)
		cr_assert(field_is(&r.fields[i], want[i]), "field %d", i);
	ing_csv_close(c);
}

Test(csv, line_breaks_inside_quotes_and_line_numbers)
{
	struct ing_csv *c = open_s("h1,h2\n"
				   "\"line1\nline2\",x\n"          /* lines 2-3 */
				   "\"a\r\nb\",y\n"                /* lines 4-5 */
				   "\"\n\n\n\",\"q\"\"\nr\"\n"     /* lines 6-10 */
				   "last,z\n", 0, 0);              /* line 11 */
	ROW(c, 1, "h1", "h2");
	ROW(c, 2, "line1\nline2", "x");
	ROW(c, 4, "a\r\nb", "y");
	ROW(c, 6, "\n\n\n", "q\"\nr");
	ROW(c, 11, "last", "z");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, crlf_and_lf)
{
	struct ing_csv *c = open_s("a,b\r\nc,d\ne,\"f\"\r\ng,h\r\n", 0, 0);
	ROW(c, 1, "a", "b");
	ROW(c, 2, "c", "d");
	ROW(c, 3, "e", "f");
	ROW(c, 4, "g", "h");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, a_carriage_return_not_before_a_line_feed_is_data)
{
	struct ing_csv *c = open_s("a\rb,c\nd,e\r", 0, 0);
	ROW(c, 1, "a\rb", "c");
	ROW(c, 2, "d", "e");      /* a final lone CR ends the file's last line */
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, utf8_bom_is_skipped)
{
	struct ing_csv *c = open_s("\xEF\xBB\xBFid;name\n1;\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ';');
	expect_raw(c, CRM_OK, 1, "id;name");
	ROW(c, 2, "1", "Київ");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, blank_lines_are_skipped)
{
	struct ing_csv *c = open_s("\n\na,b\n\n\r\nc,d\n\n", 0, 0);
	ROW(c, 3, "a", "b");
	ROW(c, 6, "c", "d");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, a_line_of_spaces_is_a_field_in_char_mode)
{
	struct ing_csv *c = open_s("a\n  \nb\n", 0, 0);
	ROW(c, 1, "a");
	ROW(c, 2, "  ");
	ROW(c, 3, "b");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, no_final_newline)
{
	struct ing_csv *c = open_s("a,b\nc,d", 0, 0);
	ROW(c, 1, "a", "b");
	ROW(c, 2, "c", "d");
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("a,\"b\"", 0, 0);
	ROW(c, 1, "a", "b");
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("a,", 0, 0);
	ROW(c, 1, "a", "");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, empty_fields_and_trailing_delimiter)
{
	struct ing_csv *c = open_s(",,\na,,b\na,b,\r\n\"\",\n,\n", 0, 0);
	ROW(c, 1, "", "", "");
	ROW(c, 2, "a", "", "b");
	ROW(c, 3, "a", "b", "");
	ROW(c, 4, "", "");
	ROW(c, 5, "", "");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, empty_inputs)
{
	struct ing_csv *c = open_n("", 0, 0, 0);
	expect_eof(c);
	ing_csv_close(c);
	c = open_n(NULL, 0, 0, 0);
	cr_assert_eq(ing_csv_delim(c), ',');
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("\xEF\xBB\xBF", 0, 0);
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("\n\r\n\n", 0, 0);
	expect_eof(c);
	ing_csv_close(c);
	c = open_s(" \t \n  \r\n", ING_DELIM_WS, 0);
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, only_a_header)
{
	struct ing_csv *c = open_s("id,name", 0, 0);
	ROW(c, 1, "id", "name");
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("id,name\r\n", 0, 0);
	ROW(c, 1, "id", "name");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, delimiter_detection)
{
	struct ing_csv *c = open_s("a;b;c\n1;2,5;3\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ';');
	ROW(c, 1, "a", "b", "c");
	ROW(c, 2, "1", "2,5", "3");
	ing_csv_close(c);

	c = open_s("a\tb\tc\n1\t2\t3", 0, 0);
	cr_assert_eq(ing_csv_delim(c), '\t');
	ROW(c, 1, "a", "b", "c");
	ROW(c, 2, "1", "2", "3");
	ing_csv_close(c);

	/* the commas in quotes do not count: 2 semicolons beat 0 commas */
	c = open_s("\"x,y,z\";b;c\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ';');
	ROW(c, 1, "x,y,z", "b", "c");
	ing_csv_close(c);

	/* only the first non-blank line counts */
	c = open_s("\r\na,b;c\n1;2;3;4\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ',');
	ing_csv_close(c);

	/* nothing to count: a comma; a tie goes to the comma */
	c = open_s("single\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ',');
	ing_csv_close(c);
	c = open_s("a,b;c\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ',');
	ing_csv_close(c);
	c = open_s("a;b\tc\n", 0, 0);
	cr_assert_eq(ing_csv_delim(c), ';');
	ing_csv_close(c);
}

Test(csv, given_delimiter)
{
	struct ing_csv *c = open_s("a|b,c|\"d|e\"\n", ING_DELIM_CHAR, '|');
	cr_assert_eq(ing_csv_delim(c), '|');
	ROW(c, 1, "a", "b,c", "d|e");
	ing_csv_close(c);

	struct ing_csv_opts o = { ING_DELIM_CHAR, '"' };
	struct crm_err e;
	cr_assert_eq(ing_csv_open_mem("a", 1, "t.csv", &o, &c, &e), CRM_EINVAL);
	cr_assert_null(c);
	o.delim = '\n';
	cr_assert_eq(ing_csv_open_mem("a", 1, "t.csv", &o, &c, &e), CRM_EINVAL);
	o.mode = 7;
	cr_assert_eq(ing_csv_open_mem("a", 1, "t.csv", &o, &c, &e), CRM_EINVAL);
}

Test(csv, quote_inside_an_unquoted_field_is_literal)
{
	struct ing_csv *c = open_s("5\" disk,ab\"c\"d,x\"\n", 0, 0);
	ROW(c, 1, "5\" disk", "ab\"c\"d", "x\"");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, runs_of_blanks_on_cdnow_lines)
{
	/* the first lines of CDNOW_master.txt, byte for byte (CRLF) */
	struct ing_csv *c = open_s(" customer_id  date number_of_cds  dollar_value\r\n"
				   " 00001 19970101  1   11.77\r\n"
				   " 00002 19970112  1   12.00\r\n"
				   "\r\n"
				   "   \t \r\n"
				   "\t23570\t19970326 2 \t 42.96   \r\n"
				   "x \"a b\"  \"c\"\"d\" \"\"\n", ING_DELIM_WS, 0);
	cr_assert_eq(ing_csv_delim(c), ' ');
	ROW(c, 1, "customer_id", "date", "number_of_cds", "dollar_value");
	ROW(c, 2, "00001", "19970101", "1", "11.77");
	expect_raw(c, CRM_OK, 3, " 00002 19970112  1   12.00");
	ROW(c, 6, "23570", "19970326", "2", "42.96");
	ROW(c, 7, "x", "a b", "c\"d", "");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, unterminated_quote_runs_to_the_end)
{
	struct ing_csv *c = open_s("a,b\n1,\"open\n2,3\n", 0, 0);
	struct ing_row r;
	struct crm_err e;
	ROW(c, 1, "a", "b");
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EPARSE);
	cr_assert_eq(e.code, CRM_EPARSE);
	cr_assert_str_eq(e.msg, "t.csv:2: field 2: unterminated quoted field");
	cr_assert_eq(r.line, 2);
	cr_assert_eq(r.raw_n, strlen("1,\"open\n2,3"));
	cr_assert(memcmp(r.raw, "1,\"open\n2,3", r.raw_n) == 0);
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, text_after_a_closing_quote_is_refused_and_skipped)
{
	struct ing_csv *c = open_s("a,b\n\"x\"y,z\nok,1\n\"p\nq\"r,\"s\nt\"\nnext,2\n\"u\" ,v", 0, 0);
	struct crm_err e;
	ROW(c, 1, "a", "b");
	expect_raw(c, CRM_EPARSE, 2, "\"x\"y,z");
	ROW(c, 3, "ok", "1");
	/* the bad record spans lines 4-6: "p\nq"r, then "s\nt" */
	expect_raw(c, CRM_EPARSE, 4, "\"p\nq\"r,\"s\nt\"");
	ROW(c, 7, "next", "2");
	struct ing_row r;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EPARSE);
	cr_assert_str_eq(e.msg, "t.csv:8: field 1: text after the closing quote");
	cr_assert_eq(r.line, 8);
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, fields_array_grows)
{
	/* 1000 fields "0".."999" */
	char *s = malloc(8000), *p = s;
	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "%d%c", i, i < 999 ? ',' : '\n');
	struct ing_csv *c = open_s(s, 0, 0);
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
	cr_assert_eq(r.n_fields, 1000);
	for (int i = 0; i < 1000; i++) {
		char want[16];
		snprintf(want, sizeof want, "%d", i);
		cr_assert(field_is(&r.fields[i], want), "field %d", i);
	}
	ing_csv_close(c);
	free(s);
}

Test(csv, huge_field_counts_are_refused)
{
	/* 100000 fields pass; 100001 are refused and the next record reads */
	size_t n = 100000 * 2 + 100001 * 2 + 4;
	char *s = malloc(n);
	size_t k = 0;
	for (int i = 0; i < 100000; i++) {
		s[k++] = 'x';
		s[k++] = i < 99999 ? ',' : '\n';
	}
	for (int i = 0; i < 100001; i++) {
		s[k++] = 'y';
		s[k++] = i < 100000 ? ',' : '\n';
	}
	memcpy(s + k, "a,b\n", 4);
	k += 4;
	struct ing_csv *c = open_n(s, k, ING_DELIM_CHAR, ',');
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
	cr_assert_eq(r.n_fields, 100000);
	cr_assert(field_is(&r.fields[99999], "x"));
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EPARSE);
	cr_assert_str_eq(e.msg, "t.csv:2: too many fields (100001, at most 100000)");
	cr_assert_eq(r.line, 2);
	cr_assert_eq(r.raw_n, 100001 * 2 - 1);
	ROW(c, 3, "a", "b");
	expect_eof(c);
	ing_csv_close(c);
	free(s);
}

Test(csv, offset_and_set_line_for_slices)
{
	const char *s = "h\n1\n2\n";
	struct ing_csv *c = open_s(s, 0, 0);
	cr_assert_eq(ing_csv_offset(c), 0);
	ROW(c, 1, "h");
	cr_assert_eq(ing_csv_offset(c), 2);
	ing_csv_set_line(c, 40);
	ROW(c, 40, "1");
	ROW(c, 41, "2");
	size_t len;
	cr_assert_eq(ing_csv_data(c, &len), s);
	cr_assert_eq(len, 6);
	ing_csv_close(c);
}

Test(csv, open_errors)
{
	struct ing_csv *c = (struct ing_csv *)1;
	struct crm_err e;
	cr_assert_eq(ing_csv_open("tests/no/such.csv", NULL, &c, &e), CRM_ENOTFOUND);
	cr_assert_null(c);
	cr_assert(strstr(e.msg, "tests/no/such.csv: cannot open") == e.msg, "%s", e.msg);
	cr_assert_eq(ing_csv_open("tests", NULL, &c, &e), CRM_EIO);
	cr_assert_str_eq(e.msg, "tests: is a directory");
	ing_csv_close(NULL);
}

/* Writes s to a new temporary file; returns its name (static buffer). */
static const char *temp_file(const char *s)
{
	static char path[64];
	strcpy(path, "/tmp/crmscope_csv_XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	size_t n = strlen(s);
	cr_assert_eq(write(fd, s, n), (ssize_t)n);
	close(fd);
	return path;
}

Test(csv, reads_a_mapped_file_and_standard_input)
{
	const char *path = temp_file("id;v\r\n1;\"a\"\"b\"\r\n");
	struct ing_csv *c;
	struct crm_err e;
	cr_assert_eq(ing_csv_open(path, NULL, &c, &e), CRM_OK, "%s", e.msg);
	ROW(c, 1, "id", "v");
	ROW(c, 2, "1", "a\"b");
	expect_eof(c);
	ing_csv_close(c);

	/* "-" reads standard input whole */
	cr_assert_not_null(freopen(path, "r", stdin));
	cr_assert_eq(ing_csv_open("-", NULL, &c, &e), CRM_OK, "%s", e.msg);
	ROW(c, 1, "id", "v");
	ROW(c, 2, "1", "a\"b");
	expect_eof(c);
	ing_csv_close(c);
	unlink(path);

	/* an empty file */
	path = temp_file("");
	cr_assert_eq(ing_csv_open(path, NULL, &c, &e), CRM_OK, "%s", e.msg);
	expect_eof(c);
	ing_csv_close(c);
	unlink(path);
}

/* Dollars "dd.cc" as cents, for the CDNOW total. */
static long cents(const struct ing_field *f)
{
	long v = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->p[i] != '.')
			v = v * 10 + (f->p[i] - '0');
	return v;
}

Test(csv, cdnow_master_whole_file)
{
	struct ing_csv_opts o = { ING_DELIM_WS, 0 };
	struct ing_csv *c;
	struct crm_err e;
	cr_assert_eq(ing_csv_open(CDNOW, &o, &c, &e), CRM_OK, "%s", e.msg);
	ROW(c, 1, "customer_id", "date", "number_of_cds", "dollar_value");
	ROW(c, 2, "00001", "19970101", "1", "11.77");
	ROW(c, 3, "00002", "19970112", "1", "12.00");
	ROW(c, 4, "00002", "19970112", "5", "77.00");
	/* the rest: data/README.md says 69,659 rows after the header, 23,570
	 * customers and $2,500,315.63 in all; the last line is
	 * " 23570 19970326  2   42.96" */
	long n = 4, total = 1177 + 1200 + 7700, last_id = 0;
	struct ing_row r;
	int rc;
	while ((rc = ing_csv_next(c, &r, &e)) == CRM_OK) {
		n++;
		cr_assert_eq(r.n_fields, 4, "line %ld", r.line);
		cr_assert_eq(r.line, n);
		total += cents(&r.fields[3]);
		last_id = strtol(r.fields[0].p, NULL, 10);
	}
	cr_assert_eq(rc, CRM_EOF, "%s", e.msg);
	cr_assert_eq(n, 69660);
	cr_assert_eq(total, 250031563);
	cr_assert_eq(last_id, 23570);
	ing_csv_close(c);
}

Test(csv, online_retail_whole_file)
{
	struct ing_csv *c;
	struct crm_err e;
	cr_assert_eq(ing_csv_open(RETAIL, NULL, &c, &e), CRM_OK, "%s", e.msg);
	cr_assert_eq(ing_csv_delim(c), ',');
	ROW(c, 1, "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
	    "Customer ID", "Country");
	ROW(c, 2, "489434", "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", "12",
	    "2009-12-01 07:45:00", "6.95", "13085", "United Kingdom");
	ROW(c, 3, "489434", "79323P", "PINK CHERRY LIGHTS", "12", "2009-12-01 07:45:00",
	    "6.75", "13085", "United Kingdom");
	ROW(c, 4, "489434", "79323W", " WHITE CHERRY LIGHTS",   /* sic: a leading space */ "12", "2009-12-01 07:45:00",
	    "6.75", "13085", "United Kingdom");
	/* line 5 of the file: 489434,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,... */
	ROW(c, 5, "489434", "22041", "RECORD FRAME 7\" SINGLE SIZE ", "48",
	    "2009-12-01 07:45:00", "2.1", "13085", "United Kingdom");
	/* the rest; data/README.md: 525,461 lines, 107,927 with a blank
	 * Customer ID, 10,206 cancellations (Invoice starting with C) */
	long n = 5, blank_customer = 0, cancellations = 0;
	struct ing_row r;
	const char *last_raw = NULL;   /* raw bytes stay valid until close */
	size_t last_n = 0;
	int rc;
	while ((rc = ing_csv_next(c, &r, &e)) == CRM_OK) {
		n++;
		last_raw = r.raw;
		last_n = r.raw_n;
		cr_assert_eq(r.n_fields, 8, "line %ld", r.line);
		cr_assert_eq(r.line, n);
		if (n == 11)   /* 489435,22349,"DOG BOWL , CHASING BALL DESIGN",12,... */
			cr_assert(field_is(&r.fields[2], "DOG BOWL , CHASING BALL DESIGN"));
		blank_customer += r.fields[6].n == 0;
		cancellations += r.fields[0].n > 0 && r.fields[0].p[0] == 'C';
	}
	cr_assert_eq(rc, CRM_EOF, "%s", e.msg);
	cr_assert_eq(n, 525462);
	cr_assert_eq(blank_customer, 107927);
	cr_assert_eq(cancellations, 10206);
	const char *last = "538171,21931,JUMBO STORAGE BAG SUKI,2,2010-12-09 20:01:00,1.95,"
			   "17530,United Kingdom";
	cr_assert_eq(last_n, strlen(last));
	cr_assert(memcmp(last_raw, last, last_n) == 0);
	ing_csv_close(c);
}

/* ------------------------------------------------------------------------
 * The fast path for records without quotes (first_stretch, rest and
 * ing_csv_next in csv.c) keeps bit masks of the delimiters and of the line
 * ends and quotes of a 128-byte window, made 16 or 32 bytes at a time and
 * moved on 64 bytes at a time; the last bytes of the input are read from a
 * copy. These records put field ends, line ends, quotes and the end of the
 * input at every place in and around those blocks and windows. The
 * expected fields are built first and joined, not split from the text. */

/* s[0..n) in a heap buffer of exactly n bytes, so that the sanitizer
 * reports any read past the input. Caller frees. */
static char *exact_copy(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	cr_assert_not_null(p);
	memcpy(p, s, n);
	return p;
}

/* A line of len bytes "abc,efg,ijk,..." (a ',' at every i % 4 == 3): its
 * fields are ⌊len/4⌋ + 1, field k being line[4k .. min(4k + 3, len)). */
static void pattern_line(char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		line[i] = i % 4 == 3 ? ',' : (char)('a' + i % 26);
}

static void expect_pattern_row(struct ing_csv *c, long line, const char *text, size_t len,
			       const char *ctx)
{
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK, "%s: %s", ctx, e.msg);
	cr_assert_eq(r.line, line, "%s", ctx);
	cr_assert_eq(r.n_fields, len / 4 + 1, "%s: %zu fields", ctx, r.n_fields);
	for (size_t k = 0; k < r.n_fields; k++) {
		size_t n = len - 4 * k < 3 ? len - 4 * k : 3;
		cr_assert_eq(r.fields[k].n, n, "%s: field %zu", ctx, k);
		cr_assert(memcmp(r.fields[k].p, text + 4 * k, n) == 0 && !r.fields[k].missing,
			  "%s: field %zu", ctx, k);
	}
	cr_assert_eq(r.raw_n, len, "%s: raw", ctx);
	cr_assert(memcmp(r.raw, text, len) == 0, "%s: raw", ctx);
}

Test(csv, fast_path_every_length_offset_and_line_end)
{
	/* a header "h" of 0-3 more bytes moves the record against the blocks;
	 * the record, of 1..50 bytes, ends in nothing (the end of the input),
	 * "\r" (a lone CR at the end ends the line), "\n" or "\r\n", and for
	 * the last two a line "z" follows */
	static const char *const ends[] = { "", "\r", "\n", "\r\n" };
	char buf[128], ctx[64];
	for (size_t pre = 0; pre < 4; pre++)
		for (size_t len = 1; len <= 50; len++)
			for (int e = 0; e < 4; e++) {
				size_t n = 0;
				memcpy(buf, "hhhh", pre + 1);
				buf[pre + 1] = '\n';
				n = pre + 2;
				pattern_line(buf + n, len);
				n += len;
				memcpy(buf + n, ends[e], strlen(ends[e]));
				n += strlen(ends[e]);
				if (e >= 2)
					buf[n++] = 'z';
				char *d = exact_copy(buf, n);
				snprintf(ctx, sizeof ctx, "pre %zu len %zu end %d", pre, len, e);
				struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
				struct ing_row r;
				struct crm_err er;
				cr_assert_eq(ing_csv_next(c, &r, &er), CRM_OK);
				cr_assert_eq(r.n_fields, 1);
				cr_assert_eq(r.fields[0].n, pre + 1, "%s", ctx);
				expect_pattern_row(c, 2, d + pre + 2, len, ctx);
				if (e >= 2)
					ROW(c, 3, "z");
				expect_eof(c);
				ing_csv_close(c);
				free(d);
			}
}

Test(csv, fast_path_records_back_to_back)
{
	/* 200 records of 1..200 bytes in one input, LF and CRLF alternating,
	 * the last without a line end: each record starts where the one
	 * before ended, anywhere in a block */
	size_t cap = 200 * 203, n = 0;
	char *buf = malloc(cap);
	for (size_t len = 1; len <= 200; len++) {
		pattern_line(buf + n, len);
		n += len;
		if (len < 200) {
			if (len % 2)
				buf[n++] = '\r';
			buf[n++] = '\n';
		}
	}
	char *d = exact_copy(buf, n);
	struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
	size_t at = 0;
	for (size_t len = 1; len <= 200; len++) {
		char ctx[32];
		snprintf(ctx, sizeof ctx, "record %zu", len);
		expect_pattern_row(c, (long)len, d + at, len, ctx);
		at += len + (len % 2 ? 2 : 1);
	}
	expect_eof(c);
	ing_csv_close(c);
	free(d);
	free(buf);
}

Test(csv, fast_path_gives_way_to_a_quote_anywhere_in_the_line)
{
	/* a quote inside an unquoted field is literal, wherever it falls: the
	 * line "a0a,a0a,..." of 48 bytes with one 'a' made a '"' (never at a
	 * field start), then a line "z" */
	for (size_t q = 0; q < 48; q++) {
		if (q % 4 != 1)
			continue;
		char buf[64];
		pattern_line(buf, 48);
		buf[q] = '"';
		memcpy(buf + 48, "\nz", 2);
		char *d = exact_copy(buf, 50);
		char ctx[16];
		snprintf(ctx, sizeof ctx, "quote at %zu", q);
		struct ing_csv *c = open_n(d, 50, ING_DELIM_CHAR, ',');
		expect_pattern_row(c, 1, d, 48, ctx);
		ROW(c, 2, "z");
		expect_eof(c);
		ing_csv_close(c);
		free(d);
	}
	/* quoted fields after 20 and 40 plain bytes: a delimiter, a doubled
	 * quote and a line break inside them (line 1 spans lines 1-2) */
	struct ing_csv *c = open_s("aaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbbbb,\"c,\"\"d\",\"e\nf\"\r\n"
				   "next,1\n"
				   "cccccccccccccccccccccc,x\"y\",\"q\"\n", 0, 0);
	ROW(c, 1, "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb", "c,\"d", "e\nf");
	ROW(c, 3, "next", "1");
	ROW(c, 4, "cccccccccccccccccccccc", "x\"y\"", "q");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, fast_path_carriage_returns)
{
	/* a CR is data except right before the line end (or the input end) */
	struct ing_csv *c = open_s("a\r,b\r\n\rx,y\n,\r\nlonger_than_sixteen\r,\r\r\n", 0, 0);
	ROW(c, 1, "a\r", "b");
	ROW(c, 2, "\rx", "y");
	ROW(c, 3, "", "");
	ROW(c, 4, "longer_than_sixteen\r", "\r");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, fast_path_nul_delimiter_at_the_end)
{
	/* the last bytes are copied into a zeroed block before they are read:
	 * its padding must not pass for NUL delimiters */
	struct ing_csv *c = open_n("a\0b", 3, ING_DELIM_CHAR, '\0');
	ROW(c, 1, "a", "b");
	expect_eof(c);
	ing_csv_close(c);
	c = open_n("x\ny\0", 4, ING_DELIM_CHAR, '\0');
	ROW(c, 1, "x");
	ROW(c, 2, "y", "");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, fast_path_long_lines_and_other_delimiters)
{
	/* a field of 5000 bytes, then 300 fields of 9 bytes, tab-separated */
	size_t cap = 5000 + 300 * 10 + 16, n = 0;
	char *s = malloc(cap);
	memset(s, 'L', 5000);
	n = 5000;
	memcpy(s + n, "\tend\n", 5);
	n += 5;
	for (int i = 0; i < 300; i++) {
		n += (size_t)sprintf(s + n, "f%08d", i);
		s[n++] = i < 299 ? '\t' : '\n';
	}
	struct ing_csv *c = open_n(s, n, ING_DELIM_CHAR, '\t');
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
	cr_assert_eq(r.n_fields, 2);
	cr_assert_eq(r.fields[0].n, 5000);
	cr_assert(r.fields[0].p[0] == 'L' && r.fields[0].p[4999] == 'L');
	cr_assert(field_is(&r.fields[1], "end"));
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
	cr_assert_eq(r.line, 2);
	cr_assert_eq(r.n_fields, 300);
	for (int i = 0; i < 300; i++) {
		char want[16];
		snprintf(want, sizeof want, "f%08d", i);
		cr_assert(field_is(&r.fields[i], want), "field %d", i);
	}
	expect_eof(c);
	ing_csv_close(c);
	free(s);
	/* ';' and '|' */
	c = open_s("a;b;c\n1;2;3\n", 0, 0);
	ROW(c, 1, "a", "b", "c");
	ROW(c, 2, "1", "2", "3");
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("a|b,c|\n", ING_DELIM_CHAR, '|');
	ROW(c, 1, "a", "b,c", "");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, fast_path_field_counts_around_the_array_size)
{
	/* the fields array holds 128 at first and the fast path counts room
	 * once per 64 bytes: records of one-letter fields ('a' + i % 26) of
	 * 15 to 200 fields, the 129 making the array grow, then 128 again */
	static const size_t counts[] = { 15, 16, 17, 63, 64, 65, 127, 128, 129, 128, 200, 3 };
	const int n_recs = (int)(sizeof counts / sizeof *counts);
	char *s = malloc(2048);
	size_t n = 0;
	for (int rec = 0; rec < n_recs; rec++)
		for (size_t i = 0; i < counts[rec]; i++) {
			s[n++] = (char)('a' + i % 26);
			s[n++] = i + 1 < counts[rec] ? ',' : '\n';
		}
	char *d = exact_copy(s, n);
	struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
	for (int rec = 0; rec < n_recs; rec++) {
		struct ing_row r;
		struct crm_err e;
		cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
		cr_assert_eq(r.line, rec + 1);
		cr_assert_eq(r.n_fields, counts[rec], "record %d", rec);
		for (size_t i = 0; i < counts[rec]; i++)
			cr_assert(r.fields[i].n == 1 && r.fields[i].p[0] == (char)('a' + i % 26),
				  "record %d field %zu", rec, i);
	}
	expect_eof(c);
	ing_csv_close(c);
	free(d);
	free(s);
}

Test(csv, fast_path_at_the_field_limit)
{
	/* once the array has grown to the limit, a record of exactly 100000
	 * fields is read by the fast path, and one of 100001 is still refused */
	size_t n = 100001 * 2 + 2 * 100000 * 2 + 100001 * 2, k = 0;
	char *s = malloc(n);
	for (int i = 0; i < 100001; i++) {    /* refused, and grows the array */
		s[k++] = 'w';
		s[k++] = i < 100000 ? ',' : '\n';
	}
	for (int rec = 0; rec < 2; rec++)
		for (int i = 0; i < 100000; i++) {
			s[k++] = (char)('x' + rec);
			s[k++] = i < 99999 ? ',' : '\n';
		}
	for (int i = 0; i < 100001; i++) {
		s[k++] = 'z';
		s[k++] = i < 100000 ? ',' : '\n';
	}
	cr_assert_eq(k, n);
	struct ing_csv *c = open_n(s, n, ING_DELIM_CHAR, ',');
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EPARSE);
	cr_assert_str_eq(e.msg, "t.csv:1: too many fields (100001, at most 100000)");
	for (int rec = 0; rec < 2; rec++) {
		cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
		cr_assert_eq(r.line, 2 + rec);
		cr_assert_eq(r.n_fields, 100000);
		cr_assert(r.fields[99999].n == 1 && r.fields[99999].p[0] == (char)('x' + rec));
	}
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_EPARSE);
	cr_assert_str_eq(e.msg, "t.csv:4: too many fields (100001, at most 100000)");
	cr_assert_eq(r.raw_n, 100001 * 2 - 1);
	expect_eof(c);
	ing_csv_close(c);
	free(s);
}

/* ------------------------------------------------------------------------
 * Window edges. The window's words hold 64 bytes each and the input is
 * read from its first record on (offset 0 here), so the edges are at 64,
 * 128, 192, ... Each test sweeps across them rather than trusting that. */

/* A record of n one-letter fields, field k being 'a' + k % 26 */
static size_t letters_line(char *line, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		line[k++] = (char)('a' + i % 26);
		if (i + 1 < n)
			line[k++] = ',';
	}
	return k;   /* 2n - 1 bytes */
}

Test(csv, window_records_longer_than_the_window)
{
	/* "h", then a pattern record of len bytes (fields of 3 letters, see
	 * pattern_line), then "z": records of 63 to 1000 bytes, LF and CRLF */
	static const size_t lens[] = { 63, 64, 65, 100, 127, 128, 129, 191, 192, 193, 300, 1000 };
	for (size_t i = 0; i < sizeof lens / sizeof *lens; i++)
		for (int crlf = 0; crlf < 2; crlf++) {
			size_t len = lens[i], n = 0;
			char *buf = malloc(len + 16), ctx[48];
			memcpy(buf, "h\n", 2);
			n = 2;
			pattern_line(buf + n, len);
			n += len;
			if (crlf)
				buf[n++] = '\r';
			memcpy(buf + n, "\nz", 2);
			n += 2;
			char *d = exact_copy(buf, n);
			snprintf(ctx, sizeof ctx, "len %zu crlf %d", len, crlf);
			struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
			ROW(c, 1, "h");
			expect_pattern_row(c, 2, d + 2, len, ctx);
			ROW(c, 3, "z");
			expect_eof(c);
			ing_csv_close(c);
			free(d);
			free(buf);
		}
	/* fields longer than the window: 70 'A', 150 'B', "c", 64 'D' */
	char buf[512];
	size_t n = 0;
	memset(buf + n, 'A', 70), n += 70, buf[n++] = ',';
	memset(buf + n, 'B', 150), n += 150, buf[n++] = ',';
	buf[n++] = 'c', buf[n++] = ',';
	memset(buf + n, 'D', 64), n += 64, buf[n++] = '\n';
	char *d = exact_copy(buf, n);
	struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
	struct ing_row r;
	struct crm_err e;
	cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
	cr_assert_eq(r.n_fields, 4);
	cr_assert(r.fields[0].p == d && r.fields[0].n == 70);
	cr_assert(r.fields[1].p == d + 71 && r.fields[1].n == 150);
	cr_assert(r.fields[2].p == d + 222 && r.fields[2].n == 1);
	cr_assert(r.fields[3].p == d + 224 && r.fields[3].n == 64);   /* 224 + 64 = 288 = n - 1 */
	cr_assert_eq(r.raw_n, n - 1);
	expect_eof(c);
	ing_csv_close(c);
	free(d);
}

Test(csv, window_line_ends_at_every_offset_across_the_edges)
{
	/* a first record of n1 = 1..100 one-letter fields (2 n1 - 1 bytes, so
	 * its line end falls at every odd offset from 1 to 199, and at every
	 * even one with CRLF), then records of 1, 32, 33 and 64 fields, the
	 * last without a line end */
	static const size_t next[] = { 1, 32, 33, 64 };
	char *buf = malloc(4096);
	for (size_t n1 = 1; n1 <= 100; n1++)
		for (int crlf = 0; crlf < 2; crlf++) {
			size_t n = letters_line(buf, n1);
			for (size_t i = 0; i < 4; i++) {
				if (crlf)
					buf[n++] = '\r';
				buf[n++] = '\n';
				n += letters_line(buf + n, next[i]);
			}
			char *d = exact_copy(buf, n);
			struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
			for (size_t i = 0; i < 5; i++) {
				size_t want = i == 0 ? n1 : next[i - 1];
				struct ing_row r;
				struct crm_err e;
				cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK, "n1 %zu crlf %d", n1, crlf);
				cr_assert_eq(r.line, (long)i + 1);
				cr_assert_eq(r.n_fields, want, "n1 %zu crlf %d record %zu", n1, crlf, i);
				cr_assert_eq(r.raw_n, 2 * want - 1, "n1 %zu crlf %d record %zu", n1, crlf, i);
				for (size_t k = 0; k < want; k++)
					cr_assert(r.fields[k].n == 1 && r.fields[k].p[0] == (char)('a' + k % 26),
						  "n1 %zu crlf %d record %zu field %zu", n1, crlf, i, k);
			}
			expect_eof(c);
			ing_csv_close(c);
			free(d);
		}
	free(buf);
}

Test(csv, window_quote_in_the_second_window_of_a_record)
{
	/* a pattern record of 200 bytes with one 'a'..'z' made a '"' at q =
	 * 61..197 (q % 4 == 1: inside a field, so literal), then "z": the
	 * general path reads it, from its start, with the same fields */
	for (size_t q = 61; q < 200; q += 4) {
		char buf[256], ctx[16];
		pattern_line(buf, 200);
		buf[q] = '"';
		memcpy(buf + 200, "\nz", 2);
		char *d = exact_copy(buf, 202);
		snprintf(ctx, sizeof ctx, "quote at %zu", q);
		struct ing_csv *c = open_n(d, 202, ING_DELIM_CHAR, ',');
		expect_pattern_row(c, 1, d, 200, ctx);
		ROW(c, 2, "z");
		expect_eof(c);
		ing_csv_close(c);
		free(d);
	}
	/* a quoted field that starts past the first 64 bytes of its record,
	 * with a delimiter, a doubled quote and a line break in it */
	char line[256];
	memset(line, 'a', 70);
	strcpy(line + 70, ",\"x,\"\"y\nw\",b\nnext,1\n");
	char a70[71];
	memset(a70, 'a', 70);
	a70[70] = '\0';
	struct ing_csv *c = open_s(line, ING_DELIM_CHAR, ',');
	ROW(c, 1, a70, "x,\"y\nw", "b");
	ROW(c, 3, "next", "1");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, window_crlf_split_across_the_edges)
{
	/* a header of h = 1..3 bytes, then records whose "\r\n" straddles
	 * every offset from 60 to 200: a pattern record of len bytes */
	for (size_t h = 1; h <= 3; h++)
		for (size_t len = 50; len <= 200; len++) {
			char buf[256], ctx[32];
			size_t n = 0;
			memset(buf, 'h', h);
			n = h;
			memcpy(buf + n, "\r\n", 2);
			n += 2;
			pattern_line(buf + n, len);
			n += len;
			memcpy(buf + n, "\r\nz\r\n", 5);   /* the '\r' at h + 2 + len */
			n += 5;
			char *d = exact_copy(buf, n);
			snprintf(ctx, sizeof ctx, "h %zu len %zu", h, len);
			struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
			struct ing_row r;
			struct crm_err e;
			cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK);
			cr_assert(r.n_fields == 1 && r.fields[0].n == h && r.raw_n == h, "%s", ctx);
			expect_pattern_row(c, 2, d + h + 2, len, ctx);
			ROW(c, 3, "z");
			expect_eof(c);
			ing_csv_close(c);
			free(d);
		}
}

Test(csv, window_no_final_line_end_at_every_length)
{
	/* "h\n" and a pattern record of len = 1..200 bytes without a line end
	 * (inputs of 3..202 bytes, most not a multiple of 16), or ending in a
	 * lone '\r' (dropped, as before a line end) */
	for (size_t len = 1; len <= 200; len++)
		for (int cr = 0; cr < 2; cr++) {
			char buf[256], ctx[32];
			memcpy(buf, "h\n", 2);
			pattern_line(buf + 2, len);
			size_t n = 2 + len;
			if (cr)
				buf[n++] = '\r';
			char *d = exact_copy(buf, n);
			snprintf(ctx, sizeof ctx, "len %zu cr %d", len, cr);
			struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
			ROW(c, 1, "h");
			expect_pattern_row(c, 2, d + 2, len, ctx);
			cr_assert_eq(ing_csv_offset(c), n, "%s", ctx);
			expect_eof(c);
			ing_csv_close(c);
			free(d);
		}
}

Test(csv, window_many_tiny_records)
{
	/* 5000 records "a", "b", ... (one letter, 'a' + i % 26), every 7th
	 * followed by a blank line, which takes a line number; the last with
	 * no line end. Line of record i: i + 1 + i / 7 (blank lines before
	 * it: one after each of records 6, 13, ..., i.e. i / 7 of them) */
	char *buf = malloc(5000 * 3), *d;
	size_t n = 0;
	for (int i = 0; i < 5000; i++) {
		buf[n++] = (char)('a' + i % 26);
		if (i < 4999) {
			buf[n++] = '\n';
			if (i % 7 == 6)
				buf[n++] = '\n';
		}
	}
	d = exact_copy(buf, n);
	struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
	for (int i = 0; i < 5000; i++) {
		struct ing_row r;
		struct crm_err e;
		cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK, "record %d", i);
		cr_assert_eq(r.line, i + 1 + i / 7, "record %d", i);
		cr_assert(r.n_fields == 1 && r.fields[0].n == 1 && r.raw_n == 1, "record %d", i);
		cr_assert_eq(r.fields[0].p[0], (char)('a' + i % 26), "record %d", i);
	}
	expect_eof(c);
	ing_csv_close(c);
	free(d);
	free(buf);
}

Test(csv, window_star_and_stx_are_data)
{
	/* the fast path finds line feeds and quotes with one compare that
	 * also matches '*' and 0x02: those must read as data wherever they
	 * fall, as the only byte of a field, at its start or end, or a whole
	 * record. A pattern record of 150 bytes with one letter made '*' or
	 * 0x02 at q = 0..149 (q % 4 != 3), then "z". */
	for (int stx = 0; stx < 2; stx++)
		for (size_t q = 0; q < 150; q++) {
			if (q % 4 == 3)
				continue;
			char buf[160], ctx[32];
			pattern_line(buf, 150);
			buf[q] = stx ? '\x02' : '*';
			memcpy(buf + 150, "\nz", 2);
			char *d = exact_copy(buf, 152);
			snprintf(ctx, sizeof ctx, "stx %d at %zu", stx, q);
			struct ing_csv *c = open_n(d, 152, ING_DELIM_CHAR, ',');
			expect_pattern_row(c, 1, d, 150, ctx);
			ROW(c, 2, "z");
			expect_eof(c);
			ing_csv_close(c);
			free(d);
		}
	struct ing_csv *c = open_s("*,\x02\n**\n*a*,b\x02\n", ING_DELIM_CHAR, ',');
	ROW(c, 1, "*", "\x02");
	ROW(c, 2, "**");
	ROW(c, 3, "*a*", "b\x02");
	expect_eof(c);
	ing_csv_close(c);
	/* and as delimiters (then the general path reads every record) */
	c = open_s("a*b*\nc\n", ING_DELIM_CHAR, '*');
	ROW(c, 1, "a", "b", "");
	ROW(c, 2, "c");
	expect_eof(c);
	ing_csv_close(c);
	c = open_s("a\x02" "b\r\n\x02\n", ING_DELIM_CHAR, '\x02');
	ROW(c, 1, "a", "b");
	ROW(c, 2, "", "");
	expect_eof(c);
	ing_csv_close(c);
}

Test(csv, window_plain_records_between_quoted_ones)
{
	/* 300 records: record i is, for i % 3 == 0, "\"q,<i>\"" and a pattern
	 * field of i % 90 + 1 letters ("abc..."); otherwise a pattern record
	 * of i % 150 + 1 bytes. The general path reads the quoted ones, and
	 * the fast path picks up after each, anywhere in its window. */
	char *buf = malloc(300 * 200), *d;
	size_t n = 0;
	for (int i = 0; i < 300; i++) {
		if (i % 3 == 0) {
			n += (size_t)sprintf(buf + n, "\"q,%d\",", i);
			for (int k = 0; k < i % 90 + 1; k++)
				buf[n++] = (char)('a' + k % 26);
		} else {
			pattern_line(buf + n, (size_t)(i % 150 + 1));
			n += (size_t)(i % 150 + 1);
		}
		buf[n++] = '\n';
	}
	d = exact_copy(buf, n);
	struct ing_csv *c = open_n(d, n, ING_DELIM_CHAR, ',');
	const char *at = d;
	for (int i = 0; i < 300; i++) {
		char ctx[32];
		snprintf(ctx, sizeof ctx, "record %d", i);
		const char *eol = memchr(at, '\n', (size_t)(d + n - at));
		if (i % 3 == 0) {
			char q[16], letters[96];
			snprintf(q, sizeof q, "q,%d", i);
			for (int k = 0; k < i % 90 + 1; k++)
				letters[k] = (char)('a' + k % 26);
			letters[i % 90 + 1] = '\0';
			ROW(c, i + 1, q, letters);
		} else {
			expect_pattern_row(c, i + 1, at, (size_t)(i % 150 + 1), ctx);
		}
		cr_assert_eq(ing_csv_offset(c), (size_t)(eol + 1 - d), "%s", ctx);
		at = eol + 1;
	}
	expect_eof(c);
	ing_csv_close(c);
	free(d);
	free(buf);
}

/* Whether the page holding p is mapped in this process: bit 63 of its
 * entry in /proc/self/pagemap (readable without privilege; only the frame
 * numbers need it). */
static int page_mapped(const void *p)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/pagemap", "rb");
	cr_assert_not_null(f);
	uint64_t entry = 0;
	cr_assert_eq(fseek(f, (long)((uintptr_t)p / page * 8), SEEK_SET), 0);
	cr_assert_eq(fread(&entry, sizeof entry, 1, f), 1);
	fclose(f);
	return (int)(entry >> 63);
}

/* A reader of a slice of a mapped file that gives pages back: 1,000,000
 * rows (30 MB) "NNNNNNN,cK,2023-01-01\n" read whole and right, the pages of
 * row 10,000 (about 300 KB in, long behind the last giving back) unmapped
 * after the read, those of the last row (within the 1 MB kept behind the
 * reader) still mapped, and row 10,000's bytes the same when read again,
 * which maps them again. A reader of bytes in memory is not a mapping. */
Test(csv, a_slice_of_a_mapped_file_gives_back_the_pages_it_read)
{
	const int rows = 1000000;
	char path[64];
	strcpy(path, "/tmp/crmscope_csv_XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	cr_assert_not_null(f);
	fputs("id,customer,day\n", f);
	for (int i = 1; i <= rows; i++)
		fprintf(f, "%07d,c%d,2023-01-01\n", i, i % 997);
	cr_assert_eq(fclose(f), 0);

	struct ing_csv *whole, *c;
	struct crm_err e;
	struct ing_row r;
	cr_assert_eq(ing_csv_open(path, NULL, &whole, &e), CRM_OK, "%s", e.msg);
	cr_assert(ing_csv_mapped(whole));
	ROW(whole, 1, "id", "customer", "day");
	size_t len, start = ing_csv_offset(whole);
	const char *data = ing_csv_data(whole, &len);
	struct ing_csv_opts o = { ING_DELIM_CHAR, ',' };
	cr_assert_eq(ing_csv_open_mem(data + start, len - start, path, &o, &c, &e), CRM_OK);
	cr_assert_not(ing_csv_mapped(c));
	ing_csv_give_back(c);
	const char *kept = NULL, *last = NULL;
	for (int i = 1; i <= rows; i++) {
		cr_assert_eq(ing_csv_next(c, &r, &e), CRM_OK, "row %d", i);
		char want[16], cust[16];
		snprintf(want, sizeof want, "%07d", i);
		snprintf(cust, sizeof cust, "c%d", i % 997);
		if (r.n_fields != 3 || !field_is(&r.fields[0], want) ||
		    !field_is(&r.fields[1], cust) || !field_is(&r.fields[2], "2023-01-01"))
			cr_assert_fail("row %d read wrong", i);
		if (i == 10000)
			kept = r.raw;
		last = r.raw;
	}
	expect_eof(c);
	cr_assert_not(page_mapped(kept), "row 10,000's page was not given back");
	cr_assert(page_mapped(last));
	cr_assert_eq(memcmp(kept, "0010000,c30,2023-01-01\n", 23), 0);
	cr_assert(page_mapped(kept));
	ing_csv_close(c);
	ing_csv_close(whole);
	unlink(path);
}
