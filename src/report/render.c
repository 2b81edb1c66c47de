/* render.c - the report document as text for the terminal (report layer):
 * grouped by section, a line per value with its unit, tables cut into
 * column chunks so that no line is wider than 100 columns (display
 * columns: a Chinese character takes two, counted with utf8proc). Also the
 * number formatting the text renderer shares with nobody else: renderers
 * round for people here and do no other arithmetic. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/err.h"
#include "core/tstamp.h"
#include "report/doc_int.h"

#define WIDTH 100          /* the widest line, display columns */
#define LABEL_W 62         /* a value's label column */
#define VALUE_W 22         /* a value's number column */
#define MAX_TEXT_ROWS 60   /* rows of a table shown in text; all in CSV and JSON */
#define TEXT_CELL_W 28     /* a text cell is cut to this */
#define NUM_CELL_W 16

/* Appends the whole-number part of a decimal text with thousands separators. */
static void group_digits(const char *digits, size_t n, char *out, size_t *len, size_t cap)
{
	for (size_t i = 0; i < n && *len + 2 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[(*len)++] = ',';
		out[(*len)++] = digits[i];
	}
	out[*len] = '\0';
}

/* v with `places` decimals and thousands separators; no "-0.00". */
static void format_fixed(double v, int places, char *out, size_t cap)
{
	char tmp[400];
	if (fabs(v) >= 1e18) {
		snprintf(out, cap, "%.3g", v);
		return;
	}
	/* half away from zero, as money_format does (printf rounds the binary
	 * value: 41.25 would print 41.2) */
	double scale = pow(10, places);
	v = round(v * scale) / scale;
	if (v == 0)
		v = 0; /* no "-0.00" */
	snprintf(tmp, sizeof tmp, "%.*f", places, v);
	size_t len = 0;
	const char *p = tmp;
	if (*p == '-') {
		out[len++] = '-';
		p++;
	}
	const char *dot = strchr(p, '.');
	size_t int_len = dot ? (size_t)(dot - p) : strlen(p);
	group_digits(p, int_len, out, &len, cap);
	if (dot)
		snprintf(out + len, cap - len, "%s", dot);
}

void rp_format_number(double v, int unit, char *out, size_t cap)
{
	if (isnan(v)) {
		snprintf(out, cap, "no data");
		return;
	}
	switch (unit) {
	case RP_COUNT:
		format_fixed(v, fabs(v - nearbyint(v)) < 1e-9 ? 0 : 2, out, cap);
		break;
	case RP_MONEY:
	case RP_RATIO:
		format_fixed(v, 2, out, cap);
		break;
	case RP_PERCENT:
	case RP_DAYS:
	case RP_HOURS:
	case RP_SECONDS:
	case RP_MONTHS:
	case RP_SCORE:
		format_fixed(v, 1, out, cap);
		break;
	case RP_DATE: {
		char b[32];
		if (fabs(v) > 1e15) {
			snprintf(out, cap, "?");
			break;
		}
		ts_format((int64_t)floor(v), 1, b);
		snprintf(out, cap, "%s", b);
		break;
	}
	default: /* RP_NUMBER */
		if (v != 0 && fabs(v) < 0.1)
			snprintf(out, cap, "%.3g", v);
		else
			format_fixed(v, 2, out, cap);
		break;
	}
}

/* ------------------------------------------------------------ text width */

/* Display columns of s (a double-width character counts 2; bytes that are
 * not UTF-8 count 1 each). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0) {
			w++;
			p++;
			continue;
		}
		int cw = utf8proc_charwidth(cp);
		w += cw > 0 ? (size_t)cw : 0;
		p += n;
	}
	return w;
}

/* Copies s into out cut to at most `cols` display columns, ending in "…"
 * when it was cut; control characters become spaces. */
static void fit_text(const char *s, size_t cols, char *out, size_t cap)
{
	size_t w = 0, len = 0, total = text_width(s);
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t room = total <= cols ? cols : (cols > 0 ? cols - 1 : 0);
	while (*p && len + 8 < cap) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0) {
			if (w + 1 > room)
				break;
			out[len++] = '?';
			w++;
			p++;
			continue;
		}
		int cw = utf8proc_charwidth(cp);
		size_t add = cw > 0 ? (size_t)cw : 0;
		if (cp < 0x20 || cp == 0x7f) {
			cp = ' ';
			add = 1;
		}
		if (w + add > room)
			break;
		if (cp == ' ' && n == 1)
			out[len++] = ' ';
		else {
			memcpy(out + len, p, (size_t)n);
			len += (size_t)n;
		}
		w += add;
		p += n;
	}
	if (total > cols && cols > 0 && len + 4 < cap) {
		memcpy(out + len, "\xe2\x80\xa6", 3); /* U+2026 */
		len += 3;
	}
	out[len] = '\0';
}

/* Writes s padded with spaces to `cols` display columns, left or right. */
static void put_padded(FILE *f, const char *s, size_t cols, int right)
{
	size_t w = text_width(s);
	size_t pad = w < cols ? cols - w : 0;
	if (right)
		fprintf(f, "%*s%s", (int)pad, "", s);
	else
		fprintf(f, "%s%*s", s, (int)pad, "");
}

/* Writes text wrapped at spaces to lines of at most WIDTH columns, each
 * starting with indent spaces; a line break in text starts a new line, a
 * word wider than a line is cut. */
static void put_wrapped(FILE *f, const char *text, size_t indent)
{
	const size_t room = WIDTH - indent;
	char line[8 * WIDTH], word[8 * WIDTH];
	size_t line_len = 0, line_w = 0;
	const char *p = text;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n') {
			line[line_len] = '\0';
			fprintf(f, "%*s%s\n", (int)indent, "", line);
			line_len = line_w = 0;
			if (*p == '\0')
				break;
			p++;
			continue;
		}
		const char *start = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		size_t n = (size_t)(p - start);
		if (n >= sizeof word)
			n = sizeof word - 1;
		memcpy(word, start, n);
		word[n] = '\0';
		char fitted[8 * WIDTH];
		fit_text(word, room, fitted, sizeof fitted);
		size_t ww = text_width(fitted), fl = strlen(fitted);
		if (line_w > 0 && line_w + 1 + ww > room) {
			line[line_len] = '\0';
			fprintf(f, "%*s%s\n", (int)indent, "", line);
			line_len = line_w = 0;
		}
		if (line_len + fl + 2 >= sizeof line)
			continue; /* cannot happen: a line holds WIDTH columns */
		if (line_w > 0) {
			line[line_len++] = ' ';
			line_w++;
		}
		memcpy(line + line_len, fitted, fl);
		line_len += fl;
		line_w += ww;
	}
}

/* ----------------------------------------------------------------- tables */

/* The text of a cell as shown in a text table ("-" for no data). */
static void cell_text(const struct rp_table *t, size_t r, size_t c, char *out, size_t cap)
{
	int unit = t->col_unit[c];
	const char *s = rp_table_str(t, r, c);
	if (s) {
		fit_text(s, TEXT_CELL_W, out, cap);
		return;
	}
	double v = rp_table_num(t, r, c);
	if (isnan(v)) {
		snprintf(out, cap, "-");
		return;
	}
	char b[400];
	rp_format_number(v, unit == RP_TEXT ? RP_NUMBER : unit, b, sizeof b);
	fit_text(b, NUM_CELL_W, out, cap);
}

/* A column's header in text: the name and its unit ("AOV", "share (%)"),
 * on one line or, when that is wider than the column's cells, cut at the
 * space that makes the wider of two lines narrowest. hdr holds 2 lines of
 * HDR_CAP bytes; returns the header's width. */
#define HDR_CAP 160
static size_t header_lines(const struct rp_table *t, size_t c, size_t cells_w, char *hdr)
{
	const char *suf = rp_unit_suffix(t->col_unit[c]);
	char full[HDR_CAP], best1[HDR_CAP], best2[HDR_CAP];
	size_t cap_w = t->col_unit[c] == RP_TEXT ? TEXT_CELL_W : NUM_CELL_W + 4;
	while (*suf == ' ')
		suf++;
	/* a name that shows its unit already ("SLA %") gets no second one */
	if ((t->col_unit[c] == RP_PERCENT || t->col_unit[c] == RP_RATIO) &&
	    strstr(t->col_name[c], suf))
		suf = "";
	if (*suf)
		snprintf(full, sizeof full, "%s (%s)", t->col_name[c], suf);
	else
		snprintf(full, sizeof full, "%s", t->col_name[c]);
	size_t best = text_width(full);
	snprintf(best1, sizeof best1, "%s", full);
	best2[0] = '\0';
	if (best > cells_w) {
		/* a space goes, an underscore stays at the end of the first line */
		for (const char *sp = full; (sp = strpbrk(sp, " _")) != NULL; sp++) {
			char first[HDR_CAP];
			size_t n1 = (size_t)(sp - full) + (*sp == '_');
			memcpy(first, full, n1);
			first[n1] = '\0';
			size_t w1 = text_width(first), w2 = text_width(sp + 1);
			size_t w = w1 > w2 ? w1 : w2;
			if (w < best && sp[1]) {
				best = w;
				memcpy(best1, first, n1 + 1);
				snprintf(best2, sizeof best2, "%s", sp + 1);
			}
		}
	}
	fit_text(best1, cap_w, hdr, HDR_CAP);
	fit_text(best2, cap_w, hdr + HDR_CAP, HDR_CAP);
	size_t w1 = text_width(hdr), w2 = text_width(hdr + HDR_CAP);
	return w1 > w2 ? w1 : w2;
}

/* 0, or -1 when out of memory. */
static int render_table(const struct rp_table *t, FILE *f)
{
	size_t n_rows = t->n_rows < MAX_TEXT_ROWS ? t->n_rows : MAX_TEXT_ROWS;
	size_t *w = calloc(t->n_cols, sizeof *w);
	char *hdr = calloc(t->n_cols, 2 * HDR_CAP);
	char b[512];
	int two_lines = 0;
	if (!w || !hdr) {
		free(w);
		free(hdr);
		return -1;
	}
	if (t->n_rows == 0) {
		fprintf(f, "\n");
		fit_text(t->title, WIDTH - 2, b, sizeof b);
		fprintf(f, "  %s\n    (no rows: no data)\n", b);
		free(w);
		free(hdr);
		return 0;
	}
	for (size_t c = 0; c < t->n_cols; c++) {
		for (size_t r = 0; r < n_rows; r++) {
			cell_text(t, r, c, b, sizeof b);
			size_t cw = text_width(b);
			if (cw > w[c])
				w[c] = cw;
		}
		size_t hw = header_lines(t, c, w[c], hdr + c * 2 * HDR_CAP);
		if (hw > w[c])
			w[c] = hw;
		two_lines |= hdr[c * 2 * HDR_CAP + HDR_CAP] != '\0';
	}
	fprintf(f, "\n");
	fit_text(t->title, WIDTH - 2, b, sizeof b);
	fprintf(f, "  %s\n", b);
	/* the first column names the rows: it starts every chunk */
	const size_t indent = 4, room = WIDTH - indent;
	size_t c0 = t->n_cols > 1 ? 1 : 0;
	while (c0 < t->n_cols || (t->n_cols == 1 && c0 == 0)) {
		size_t used = w[0], end = c0;
		if (t->n_cols == 1)
			end = 1;
		while (end < t->n_cols && (end == c0 || used + 2 + w[end] <= room)) {
			used += 2 + w[end];
			end++;
		}
		if (c0 > 1 || end < t->n_cols)
			fprintf(f, "    (columns 1 and %zu-%zu of %zu)\n", c0 + 1, end, t->n_cols);
		/* header lines (the first only when some header takes two), rule */
		for (int pass = two_lines ? 0 : 1; pass < 3; pass++) {
			fprintf(f, "%*s", (int)indent, "");
			for (size_t c = 0; c < end; c = (c == 0 && c0 > 0) ? c0 : c + 1) {
				const char *h1 = hdr + c * 2 * HDR_CAP, *h2 = h1 + HDR_CAP;
				int right = t->col_unit[c] != RP_TEXT;
				if (c > 0)
					fprintf(f, "  ");
				if (pass == 0)
					put_padded(f, *h2 ? h1 : "", w[c], right);
				else if (pass == 1)
					put_padded(f, *h2 ? h2 : h1, w[c], right);
				else
					for (size_t k = 0; k < w[c]; k++)
						fputc('-', f);
			}
			fprintf(f, "\n");
		}
		for (size_t r = 0; r < n_rows; r++) {
			fprintf(f, "%*s", (int)indent, "");
			for (size_t c = 0; c < end; c = (c == 0 && c0 > 0) ? c0 : c + 1) {
				if (c > 0)
					fprintf(f, "  ");
				cell_text(t, r, c, b, sizeof b);
				int right = t->col_unit[c] != RP_TEXT && rp_table_str(t, r, c) == NULL;
				put_padded(f, b, w[c], right);
			}
			fprintf(f, "\n");
		}
		if (t->n_cols == 1)
			break;
		c0 = end;
	}
	if (t->n_rows > n_rows)
		fprintf(f, "    ... %zu more rows (all of them in --format csv or json)\n",
			t->n_rows - n_rows);
	free(w);
	free(hdr);
	return 0;
}

/* A rule of '=' under a heading, to WIDTH columns. */
static void put_heading(FILE *f, const char *title, const char *group)
{
	char b[512], fitted[512];
	if (group)
		snprintf(b, sizeof b, "%s [%s]", title, group);
	else
		snprintf(b, sizeof b, "%s", title);
	fit_text(b, WIDTH - 8, fitted, sizeof fitted);
	size_t w = text_width(fitted) + 4;
	fprintf(f, "\n== %s ", fitted);
	for (; w < WIDTH; w++)
		fputc('=', f);
	fputc('\n', f);
}

/* Writes the document into f (a memory stream). 0, or -1 when out of memory. */
static int render_doc(const struct rp_doc *d, FILE *f)
{
	char b[512], v[512];
	fprintf(f, "crmscope report\n");
	for (size_t i = 0; i < d->n_params; i++) {
		snprintf(b, sizeof b, "%s: %s", d->params[i].name, d->params[i].value);
		put_wrapped(f, b, 2);
	}
	fprintf(f, "  (\"no data\" and \"-\": the inputs of a number are absent)\n");
	for (size_t s = 0; s < d->n_sections; s++) {
		const struct rp_section *sec = d->sections[s];
		put_heading(f, sec->title, sec->group);
		for (size_t k = 0; k < sec->n_items; k++) {
			const struct rp_item *it = &sec->items[k];
			switch (it->kind) {
			case RP_ITEM_PARAM:
				snprintf(b, sizeof b, "%s: %s", it->id, it->label);
				put_wrapped(f, b, 2);
				break;
			case RP_ITEM_VALUE: {
				fprintf(f, "  ");
				fit_text(it->label, LABEL_W, b, sizeof b);
				put_padded(f, b, LABEL_W, 0);
				fputc(' ', f);
				rp_format_number(it->v, it->unit, v, sizeof v);
				fit_text(v, VALUE_W, b, sizeof b);
				put_padded(f, b, VALUE_W, 1);
				if (!isnan(it->v))
					fputs(rp_unit_suffix(it->unit), f);
				fputc('\n', f);
				break;
			}
			case RP_ITEM_NOTE:
				put_wrapped(f, it->label, 2);
				break;
			case RP_ITEM_TABLE:
				if (render_table(it->table, f) != 0)
					return -1;
				break;
			}
		}
	}
	return 0;
}

int rp_render_text(const struct rp_doc *d, FILE *f, struct crm_err *err)
{
	int rc = rp_doc_status(d, err);
	if (rc != CRM_OK)
		return rc;
	/* into memory first, so that padding at the ends of lines is cut */
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return crm_err_set(err, CRM_ENOMEM, "report: out of memory");
	int bad = render_doc(d, m);
	if (fclose(m) != 0 || bad || !text) {
		free(text);
		return crm_err_set(err, CRM_ENOMEM, "report: out of memory");
	}
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		size_t k = n;
		while (k > 0 && p[k - 1] == ' ')
			k--;
		if (fwrite(p, 1, k, f) != k || (e && fputc('\n', f) == EOF))
			break;
		p += n + (e != NULL);
	}
	free(text);
	if (fflush(f) != 0 || ferror(f))
		return crm_err_set(err, CRM_EIO, "report: writing the text: %s", strerror(errno));
	return CRM_OK;
}
