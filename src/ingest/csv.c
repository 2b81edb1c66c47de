/* csv.c - the CSV reader and the input mapping shared by the readers (ingest
 * layer). Records are split in place over a mapped file: fields point into
 * the input, and only a quoted field with doubled quotes is copied, into a
 * scratch buffer owned by the reader. RFC 4180, plus runs-of-blanks mode.
 * A record with no quote takes a fast path that splits its line in one
 * pass, sixteen bytes at a time; every other record the general path. */
#include "ingest/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

#if defined(__SSE2__) && !defined(ING_CSV_PORTABLE)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ the input */

/* Reads fd to its end into a heap buffer. */
static int read_whole(int fd, const char *path, struct ing_input *in,
		      struct crm_err *err)
{
	size_t cap = 1 << 16, len = 0;
	char *p = malloc(cap);
	if (!p)
		return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
	for (;;) {
		if (len == cap) {
			if (cap > SIZE_MAX / 2) {
				free(p);
				return crm_err_set(err, CRM_ENOMEM, "%s: input too large", path);
			}
			char *np = realloc(p, cap * 2);
			if (!np) {
				free(p);
				return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
			}
			p = np;
			cap *= 2;
		}
		ssize_t got = read(fd, p + len, cap - len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(p);
			return crm_err_set(err, CRM_EIO, "%s: cannot read: %s", path, strerror(e));
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	in->heap = p;
	in->data = p;
	in->len = len;
	return CRM_OK;
}

int ing_input_open(const char *path, struct ing_input *in, struct crm_err *err)
{
	int rc = CRM_OK, fd = -1;
	memset(in, 0, sizeof *in);
	in->data = "";
	if (strcmp(path, "-") == 0)
		return read_whole(STDIN_FILENO, "<stdin>", in, err);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		rc = crm_err_set(err, e == ENOENT ? CRM_ENOTFOUND : CRM_EIO,
				 "%s: cannot open: %s", path, strerror(e));
		goto done;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		rc = crm_err_set(err, CRM_EIO, "%s: cannot stat: %s", path, strerror(errno));
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = crm_err_set(err, CRM_EIO, "%s: is a directory", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = read_whole(fd, path, in, err);
		goto done;
	}
	if (st.st_size == 0)
		goto done;
	if ((uintmax_t)st.st_size > SIZE_MAX) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: file too large to map", path);
		goto done;
	}
	size_t size = (size_t)st.st_size;
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		/* some file systems cannot map: read it instead */
		rc = read_whole(fd, path, in, err);
		goto done;
	}
	(void)madvise(map, size, MADV_SEQUENTIAL);
	in->map = map;
	in->map_len = size;
	in->data = map;
	in->len = size;
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

void ing_input_close(struct ing_input *in)
{
	if (!in)
		return;
	if (in->map)
		munmap(in->map, in->map_len);
	free(in->heap);
	memset(in, 0, sizeof *in);
	in->data = "";
}

/* ------------------------------------------------------------ the reader */

#define MAX_FIELDS 100000   /* a record with more is refused, not grown into */

struct ing_csv {
	struct ing_input in;       /* owned input (ing_csv_open), or empty */
	const char *d;             /* the bytes read from, borrowed or in.data */
	size_t len;                /* bytes in d */
	size_t pos;                /* offset of the next record (or blank line) */
	long line;                 /* 1-based line number of d[pos] */
	char delim;                /* the delimiter; ' ' in ws mode */
	int ws;                    /* 1: fields separated by runs of spaces/tabs */
	char *name;                /* for messages, owned */
	struct ing_field *fields;  /* cap_fields slots */
	size_t *soff;              /* cap_fields: offset in scratch of a field whose p is NULL */
	size_t cap_fields;
	char *scratch;             /* unescaped quoted fields of the current record */
	size_t scratch_len, scratch_cap;
};

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Skips a UTF-8 byte order mark at the start of the data. */
static size_t bom_len(const char *d, size_t len)
{
	return len >= 3 && (unsigned char)d[0] == 0xEF && (unsigned char)d[1] == 0xBB &&
	       (unsigned char)d[2] == 0xBF ? 3 : 0;
}

/* The most frequent of , ; TAB outside quotes on the first non-empty line;
 * ',' when none occurs, and ties go to the earlier of , ; TAB. */
static char detect_delim(const char *d, size_t len, size_t i)
{
	size_t n_comma = 0, n_semi = 0, n_tab = 0;
	int quoted = 0;
	while (i < len && (d[i] == '\n' || d[i] == '\r'))
		i++;
	for (; i < len; i++) {
		char ch = d[i];
		if (ch == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (ch == '\n')
			break;
		else if (ch == ',')
			n_comma++;
		else if (ch == ';')
			n_semi++;
		else if (ch == '\t')
			n_tab++;
	}
	if (n_semi > n_comma && n_semi >= n_tab)
		return ';';
	if (n_tab > n_comma && n_tab > n_semi)
		return '\t';
	return ',';
}

int ing_csv_open_mem(const char *data, size_t len, const char *name,
		     const struct ing_csv_opts *opts, struct ing_csv **out,
		     struct crm_err *err)
{
	int rc = CRM_OK;
	struct ing_csv *c = NULL;
	*out = NULL;
	if (!name)
		name = "<memory>";
	int mode = opts ? opts->mode : ING_DELIM_AUTO;
	if (mode == ING_DELIM_CHAR &&
	    (opts->delim == '"' || opts->delim == '\n' || opts->delim == '\r')) {
		rc = crm_err_set(err, CRM_EINVAL, "%s: the delimiter cannot be a quote or a line break",
				 name);
		goto done;
	}
	if (mode != ING_DELIM_AUTO && mode != ING_DELIM_CHAR && mode != ING_DELIM_WS) {
		rc = crm_err_set(err, CRM_EINVAL, "%s: unknown delimiter mode %d", name, mode);
		goto done;
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->name = strdup(name))) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", name);
		goto done;
	}
	c->in.data = "";
	c->d = data ? data : "";
	c->len = data ? len : 0;
	c->pos = bom_len(c->d, c->len);
	c->line = 1;
	if (mode == ING_DELIM_WS) {
		c->ws = 1;
		c->delim = ' ';
	} else if (mode == ING_DELIM_CHAR) {
		c->delim = opts->delim;
	} else {
		c->delim = detect_delim(c->d, c->len, c->pos);
	}
	c->cap_fields = 16;
	c->fields = xmallocn(c->cap_fields, sizeof *c->fields);
	c->soff = xmallocn(c->cap_fields, sizeof *c->soff);
	if (!c->fields || !c->soff) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", name);
		goto done;
	}
	*out = c;
	c = NULL;
done:
	ing_csv_close(c);
	return rc;
}

int ing_csv_open(const char *path, const struct ing_csv_opts *opts,
		 struct ing_csv **out, struct crm_err *err)
{
	struct ing_input in;
	*out = NULL;
	int rc = ing_input_open(path, &in, err);
	if (rc != CRM_OK)
		return rc;
	rc = ing_csv_open_mem(in.data, in.len, strcmp(path, "-") == 0 ? "<stdin>" : path,
			      opts, out, err);
	if (rc != CRM_OK) {
		ing_input_close(&in);
		return rc;
	}
	(*out)->in = in;
	return CRM_OK;
}

void ing_csv_close(struct ing_csv *c)
{
	if (!c)
		return;
	ing_input_close(&c->in);
	free(c->name);
	free(c->fields);
	free(c->soff);
	free(c->scratch);
	free(c);
}

char ing_csv_delim(const struct ing_csv *c)
{
	return c->delim;
}

const char *ing_csv_data(const struct ing_csv *c, size_t *len)
{
	*len = c->len;
	return c->d;
}

size_t ing_csv_offset(const struct ing_csv *c)
{
	return c->pos;
}

void ing_csv_set_line(struct ing_csv *c, long line)
{
	c->line = line;
}

/* Offset of the first '\n' at or after i, or len. */
static size_t line_end(const char *d, size_t len, size_t i)
{
	const char *r = i < len ? memchr(d + i, '\n', len - i) : NULL;
	return r ? (size_t)(r - d) : len;
}

static long count_newlines(const char *d, size_t from, size_t to)
{
	long k = 0;
	while (from < to) {
		const char *r = memchr(d + from, '\n', to - from);
		if (!r)
			break;
		k++;
		from = (size_t)(r - d) + 1;
	}
	return k;
}

/* Makes room for field number nf. 0, or -1 on ENOMEM. */
static int grow_fields(struct ing_csv *c, size_t nf)
{
	if (nf < c->cap_fields)
		return 0;
	size_t cap = c->cap_fields * 2;
	if (cap > MAX_FIELDS + 1)
		cap = MAX_FIELDS + 1;
	struct ing_field *f = xreallocn(c->fields, cap, sizeof *f);
	if (!f)
		return -1;
	c->fields = f;
	size_t *s = xreallocn(c->soff, cap, sizeof *s);
	if (!s)
		return -1;
	c->soff = s;
	c->cap_fields = cap;
	return 0;
}

/* Copies the quoted content d[from..to) into scratch with each doubled
 * quote made single; returns the offset in scratch and sets *n. */
static int unescape(struct ing_csv *c, size_t from, size_t to, size_t *off, size_t *n)
{
	size_t need = to - from;
	if (need > c->scratch_cap - c->scratch_len) {
		size_t cap = c->scratch_cap ? c->scratch_cap : 256;
		while (cap - c->scratch_len < need) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		char *s = realloc(c->scratch, cap);
		if (!s)
			return -1;
		c->scratch = s;
		c->scratch_cap = cap;
	}
	char *o = c->scratch + c->scratch_len;
	size_t k = 0;
	while (from < to) {
		const char *q = memchr(c->d + from, '"', to - from);
		size_t upto = q ? (size_t)(q - c->d) + 1 : to;   /* keep one quote */
		memcpy(o + k, c->d + from, upto - from);
		k += upto - from;
		from = q ? upto + 1 : to;                      /* skip its twin */
	}
	*off = c->scratch_len;
	*n = k;
	c->scratch_len += k;
	return 0;
}

/* Skips blank lines at c->pos (empty, or in ws mode only blanks); returns 0
 * at a record, -1 at the end. */
static int skip_blank_lines(struct ing_csv *c)
{
	const char *d = c->d;
	size_t len = c->len, i = c->pos;
	while (i < len) {
		size_t j = i;
		if (c->ws)
			while (j < len && is_blank(d[j]))
				j++;
		if (j < len && d[j] == '\r' && (j + 1 == len || d[j + 1] == '\n'))
			j++;
		if (j == len) {
			i = len;
			break;
		}
		if (d[j] != '\n')
			break;
		i = j + 1;
		c->line++;
	}
	c->pos = i;
	return i < len ? 0 : -1;
}

/* ------------------------------------------- the fast path: no quotes */

/* The bytes among p[0..16) that matter to a record without quotes, as one
 * mask: bit k for p[k] a delimiter, bit 16 + k for a line feed or a quote.
 * SSE2 compares sixteen bytes at once; elsewhere, or built with
 * -DING_CSV_PORTABLE (so that the tests can check it too), a byte loop
 * gives the same mask. struct splat holds the delimiter as the comparison
 * wants it, made once per record. */
#if defined(__SSE2__) && !defined(ING_CSV_PORTABLE)
struct splat { __m128i delim, lf, quote; };

static inline struct splat splat_of(char delim)
{
	struct splat v = { _mm_set1_epi8(delim), _mm_set1_epi8('\n'), _mm_set1_epi8('"') };
	return v;
}

static inline uint32_t mask16(const char *p, const struct splat *v)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	uint32_t delims = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v->delim));
	uint32_t stops = (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, v->lf),
								  _mm_cmpeq_epi8(x, v->quote)));
	return delims | stops << 16;
}
#else
struct splat { char delim; };

static inline struct splat splat_of(char delim)
{
	struct splat v = { delim };
	return v;
}

static inline uint32_t mask16(const char *p, const struct splat *v)
{
	uint32_t m = 0;
	for (unsigned k = 0; k < 16; k++) {
		m |= (uint32_t)(p[k] == v->delim) << k;
		m |= (uint32_t)(p[k] == '\n' || p[k] == '"') << (16 + k);
	}
	return m;
}
#endif

/* mask16 of the last n < 16 bytes of the input, copied first so that
 * nothing past the input is read; the bits of the bytes from n on are 0. */
__attribute__((noinline))
static uint32_t mask_tail(const char *p, size_t n, char delim)
{
	char tail[16] = { 0 };
	const struct splat v = splat_of(delim);
	uint32_t keep = (1u << n) - 1;
	memcpy(tail, p, n);
	return mask16(tail, &v) & (keep | keep << 16);
}

/* Reads the record at c->pos (delimited mode, not a blank line) when it
 * holds no quote. Such a record is its line cut at each delimiter, with a
 * '\r' before the line end dropped: what next_general gives for it. The
 * line is read sixteen bytes at a time, and the set bits of the mask are
 * the field ends, so there is no call per field. Returns 1 with row filled
 * and the reader moved on, or 0 with the reader where it was when the
 * record has a quote or more fields than the array holds (next_general
 * then reads it, from its start, and grows the array). */
static int next_plain(struct ing_csv *c, struct ing_row *row)
{
	const char *const end = c->d + c->len, *const start = c->d + c->pos;
	const struct splat v = splat_of(c->delim);
	/* room for every field but the last, which always fits after them */
	struct ing_field *f = c->fields, *const last =
		c->fields + (c->cap_fields < MAX_FIELDS ? c->cap_fields : MAX_FIELDS) - 1;
	const char *block = start, *from = start, *eol;

	for (;;) {
		uint32_t m = end - block >= 16 ? mask16(block, &v)
					       : mask_tail(block, (size_t)(end - block), c->delim);
		uint32_t delims = m & 0xFFFF, stops = m >> 16;
		if (stops)
			delims &= (stops & (0u - stops)) - 1;   /* those before the first */
		while (delims) {
			const char *at = block + (unsigned)__builtin_ctz(delims);
			delims &= delims - 1;
			if (f == last)
				return 0;
			f->p = from;
			f->n = (size_t)(at - from);
			f->missing = 0;
			f++;
			from = at + 1;
		}
		if (stops) {
			eol = block + (unsigned)__builtin_ctz(stops);
			if (*eol == '"')
				return 0;
			break;
		}
		block += 16;
		if (block >= end) {
			eol = end;
			break;
		}
	}
	/* eol > start, as the line is not blank; a '\r' there is not a delimiter,
	 * so the last field holds it */
	size_t cr = eol[-1] == '\r';
	f->p = from;
	f->n = (size_t)(eol - from) - cr;
	f->missing = 0;
	row->n_fields = (size_t)(f - c->fields) + 1;
	row->fields = c->fields;
	row->names = NULL;
	row->line = c->line;
	row->raw = start;
	row->raw_n = (size_t)(eol - start) - cr;
	if (eol < end) {
		c->pos = (size_t)(eol - c->d) + 1;
		c->line++;
	} else {
		c->pos = c->len;
	}
	return 1;
}

/* -------------------------------------------------- the general path */

/* Any record: quoted fields, runs of blanks, malformed records (see
 * ing_csv_next). Kept out of line so that the fast path's calls do not pay
 * for its registers. */
__attribute__((noinline))
static int next_general(struct ing_csv *c, struct ing_row *row, struct crm_err *err)
{
	const char *d = c->d;
	const size_t len = c->len;
	const char delim = c->delim;
	const int ws = c->ws;

	if (skip_blank_lines(c) != 0) {
		row->n_fields = 0;
		row->fields = c->fields;
		row->names = NULL;
		row->line = c->line;
		row->raw = d + len;
		row->raw_n = 0;
		return crm_err_set(err, CRM_EOF, "%s: end of input", c->name);
	}

	size_t start = c->pos, i = start, le = line_end(d, len, i);
	size_t nf = 0, n_all = 0;      /* fields stored, fields seen */
	size_t rec_end, next;          /* end of the record's bytes; start of what follows */
	const char *fault = NULL;      /* the first malformation */
	size_t fault_field = 0;
	long start_line = c->line, extra_lines = 0;
	int used_scratch = 0;
	c->scratch_len = 0;

	if (ws)
		while (i < le && is_blank(d[i]))
			i++;
	for (;;) {
		const char *fp;
		size_t fn, soff = 0;
		int at_end = 0;
		if (i < len && d[i] == '"') {
			/* quoted: find the closing quote, stepping over doubled ones */
			size_t q = i + 1;
			int doubled = 0, closed = 0;
			for (;;) {
				const char *r = q < len ? memchr(d + q, '"', len - q) : NULL;
				if (!r)
					break;
				size_t ri = (size_t)(r - d);
				if (ri + 1 < len && d[ri + 1] == '"') {
					doubled = 1;
					q = ri + 2;
					continue;
				}
				q = ri;
				closed = 1;
				break;
			}
			if (!closed)
				q = len;
			if (q > le) {
				extra_lines += count_newlines(d, i + 1, q);
				le = line_end(d, len, q);
			}
			fp = d + i + 1;
			fn = q - i - 1;
			if (doubled) {
				if (unescape(c, i + 1, q, &soff, &fn) != 0)
					return crm_err_set(err, CRM_ENOMEM, "%s:%ld: out of memory",
							   c->name, start_line);
				fp = NULL;
				used_scratch = 1;
			}
			if (!closed) {
				if (!fault) {
					fault = "unterminated quoted field";
					fault_field = n_all;
				}
				i = len;
				at_end = 1;
			} else {
				i = q + 1;
				if (i >= len || d[i] == '\n' ||
				    (d[i] == '\r' && (i + 1 == len || d[i + 1] == '\n'))) {
					at_end = 1;
				} else if (ws ? is_blank(d[i]) : d[i] == delim) {
					i++;
				} else {
					if (!fault) {
						fault = "text after the closing quote";
						fault_field = n_all;
					}
					/* resync: drop the rest of this field */
					size_t s = i;
					if (ws)
						while (s < le && !is_blank(d[s]))
							s++;
					else {
						const char *r = memchr(d + i, delim, le - i);
						s = r ? (size_t)(r - d) : le;
					}
					if (s < le)
						i = s + 1;
					else {
						i = le;
						at_end = 1;
					}
				}
			}
		} else {
			/* unquoted: up to the next delimiter on this line */
			size_t s;
			if (ws) {
				s = i;
				while (s < le && !is_blank(d[s]))
					s++;
			} else {
				const char *r = memchr(d + i, delim, le - i);
				s = r ? (size_t)(r - d) : le;
			}
			fp = d + i;
			if (s < le) {
				fn = s - i;
				i = s + 1;
			} else {
				fn = le - i;
				if (fn > 0 && d[le - 1] == '\r')
					fn--;
				i = le;
				at_end = 1;
			}
		}
		if (!at_end && ws) {
			/* a run of blanks is one separator; trailing ones end the record */
			while (i < le && is_blank(d[i]))
				i++;
			if (i == le || (d[i] == '\r' && i + 1 == le))
				at_end = 1;
		}
		if (n_all < MAX_FIELDS) {
			if (grow_fields(c, nf) != 0)
				return crm_err_set(err, CRM_ENOMEM, "%s:%ld: out of memory",
						   c->name, start_line);
			c->fields[nf].p = fp;
			c->fields[nf].n = fn;
			c->fields[nf].missing = 0;
			c->soff[nf] = soff;
			nf++;
		}
		n_all++;
		if (at_end)
			break;
	}

	/* the record ends at i: at a line end (maybe "\r\n") or at the end */
	if (i > len)
		i = len;
	rec_end = i < le ? i : le;
	if (le < len) {
		next = le + 1;
		if (rec_end == le && rec_end > start && d[rec_end - 1] == '\r')
			rec_end--;
	} else {
		next = len;
		if (rec_end > start && d[rec_end - 1] == '\n')
			rec_end--;   /* an unterminated quote ran to a final line end */
		if (rec_end > start && d[rec_end - 1] == '\r')
			rec_end--;
	}
	if (rec_end < start)
		rec_end = start;
	c->pos = next;
	c->line = start_line + extra_lines + (le < len ? 1 : 0);

	if (used_scratch)
		for (size_t k = 0; k < nf; k++)
			if (!c->fields[k].p)
				c->fields[k].p = c->scratch + c->soff[k];
	row->n_fields = nf;
	row->fields = c->fields;
	row->names = NULL;
	row->line = start_line;
	row->raw = d + start;
	row->raw_n = rec_end - start;
	if (n_all > MAX_FIELDS)
		return crm_err_set(err, CRM_EPARSE, "%s:%ld: too many fields (%zu, at most %d)",
				   c->name, start_line, n_all, MAX_FIELDS);
	if (fault)
		return crm_err_set(err, CRM_EPARSE, "%s:%ld: field %zu: %s", c->name,
				   start_line, fault_field + 1, fault);
	return CRM_OK;
}

int ing_csv_next(struct ing_csv *c, struct ing_row *row, struct crm_err *err)
{
	/* most records start on a line that is not blank and hold no quote */
	if (!c->ws &&
	    ((c->pos < c->len && c->d[c->pos] != '\n' && c->d[c->pos] != '\r') ||
	     skip_blank_lines(c) == 0) &&
	    next_plain(c, row))
		return CRM_OK;
	return next_general(c, row, err);
}
