/* csv.c - the CSV reader and the input mapping shared by the readers (ingest
 * layer). Records are split in place over a mapped file: fields point into
 * the input, and only a quoted field with doubled quotes is copied, into a
 * scratch buffer owned by the reader. RFC 4180, plus runs-of-blanks mode.
 * A record with no quote takes a fast path that walks the bits of masks of
 * delimiters and line ends, made 64 bytes at a time and kept from record
 * to record; every other record the general path. */
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
#if defined(__x86_64__) && defined(__GNUC__) && !defined(ING_CSV_NO_AVX2)
#define CSV_AVX2 1   /* slide_avx2 too, chosen at run time */
#include <immintrin.h>
#endif
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
#define WIN 64              /* bytes in the fast path's window: the bits of a uint64_t */

struct ing_csv {
	struct ing_input in;       /* owned input (ing_csv_open), or empty */
	const char *d;             /* the bytes read from, borrowed or in.data */
	size_t len;                /* bytes in d */
	size_t pos;                /* offset of the next record (or blank line) */
	long line;                 /* 1-based line number of d[pos] */
	size_t drop_at;            /* when pos reaches it, the pages read are given
				    * back (ing_csv_give_back); SIZE_MAX: never */
	size_t dropped;            /* d[0, dropped) holds no page still mapped */
	size_t full_len;           /* ing_csv_limit: the bytes there are, of which len
				    * hold the records to read; else len */
	char delim;                /* the delimiter; ' ' in ws mode */
	int ws;                    /* 1: fields separated by runs of spaces/tabs */
	int plain;                 /* 1: the fast path may read records: not ws, and
				    * the delimiter is no stop to classify (0x02, '*') */
	char *name;                /* for messages, owned */
	struct ing_field *fields;  /* cap_fields slots; missing is 0 in all, set when
				    * they are allocated, so the fast path leaves it */
	size_t *soff;              /* cap_fields: offset in scratch of a field whose p is NULL */
	size_t cap_fields;
	struct ing_field *last;    /* fields + min(cap_fields, MAX_FIELDS) - 1: the fast path's last slot */
	char *scratch;             /* unescaped quoted fields of the current record */
	size_t scratch_len, scratch_cap;
	/* the fast path's window: masks of d[wbase, wbase + 2 WIN), two words
	 * each (word 1 for the second WIN bytes); bits past the input are 0 */
	size_t wbase;              /* offset in d of the window's first byte */
	size_t wlen;               /* min(WIN, len - wbase): a record starting at
				    * wbase + k, k < wlen, has WIN bytes in the window */
	uint64_t wdelim[2];        /* bit k: d[wbase + k] is the delimiter */
	uint64_t wstop[2];         /* bit k: d[wbase + k] | 0x28 == 0x2A (see classify) */
	unsigned char bytes[3][32]; /* for classify: the delimiter, 0x28 and 0x2A,
				     * 32 times each (loaded, not made in registers) */
	int (*slide)(struct ing_csv *c);   /* slide_sse2 or slide_avx2 */
	char tail[2 * WIN];        /* the last n = min(len, WIN) bytes of d at
				    * tail[WIN - n, WIN), zeros around them */
};

/* Sets c->last after c->fields or c->cap_fields changed. */
static void set_last(struct ing_csv *c)
{
	c->last = c->fields + (c->cap_fields < MAX_FIELDS ? c->cap_fields : MAX_FIELDS) - 1;
}

static int slide_sse2(struct ing_csv *c);
#ifdef CSV_AVX2
__attribute__((target("avx2"))) static int slide_avx2(struct ing_csv *c);
#endif

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

/* The last WIN bytes of d[0..len) at tail (see struct ing_csv). */
static void set_tail(struct ing_csv *c)
{
	size_t n_tail = c->len < WIN ? c->len : WIN;
	memset(c->tail, 0, sizeof c->tail);
	if (n_tail)
		memcpy(c->tail + WIN - n_tail, c->d + c->len - n_tail, n_tail);
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
	c->drop_at = SIZE_MAX;
	if (mode == ING_DELIM_WS) {
		c->ws = 1;
		c->delim = ' ';
	} else if (mode == ING_DELIM_CHAR) {
		c->delim = opts->delim;
	} else {
		c->delim = detect_delim(c->d, c->len, c->pos);
	}
	c->plain = !c->ws && (c->delim | 0x28) != 0x2A;
	c->slide = slide_sse2;
#ifdef CSV_AVX2
	if (__builtin_cpu_supports("avx2"))
		c->slide = slide_avx2;
#endif
	memset(c->bytes[0], (unsigned char)c->delim, sizeof c->bytes[0]);
	memset(c->bytes[1], 0x28, sizeof c->bytes[1]);
	memset(c->bytes[2], 0x2A, sizeof c->bytes[2]);
	c->full_len = c->len;
	set_tail(c);
	/* more than WIN slots, so that the fast path checks for room once per
	 * window, not once per field */
	c->cap_fields = 2 * WIN;
	c->fields = calloc(c->cap_fields, sizeof *c->fields);
	c->soff = xmallocn(c->cap_fields, sizeof *c->soff);
	if (!c->fields || !c->soff) {
		rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", name);
		goto done;
	}
	set_last(c);
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

long ing_csv_line(const struct ing_csv *c)
{
	return c->line;
}

void ing_csv_limit(struct ing_csv *c, size_t n)
{
	c->pos = 0;   /* a slice's first bytes are no byte order mark */
	if (n < c->len) {
		c->len = n;
		set_tail(c);
	}
}

int ing_csv_mapped(const struct ing_csv *c)
{
	return c->in.map != NULL;
}

/* Bytes read between two givings back, and bytes behind the reader kept
 * mapped: the rows of a batch still waiting to be made (ING_BATCH short
 * lines) are far fewer. */
#define DROP_STEP ((size_t)8 << 20)
#define DROP_LAG ((size_t)1 << 20)

void ing_csv_give_back(struct ing_csv *c)
{
	c->dropped = 0;
	c->drop_at = c->pos + DROP_STEP + DROP_LAG;
}

/* Gives back the pages of d wholly before pos - DROP_LAG not given back
 * yet. MADV_DONTNEED on a private mapping of a file that was never written
 * drops the page table entries only: the page cache keeps the bytes, and a
 * page read again is mapped again with the same bytes, so a row kept
 * longer than DROP_LAG still reads right. */
__attribute__((noinline, cold)) static void drop_behind(struct ing_csv *c)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = ((uintptr_t)c->d + c->dropped + page - 1) & ~(page - 1);
	uintptr_t to = ((uintptr_t)c->d + c->pos - DROP_LAG) & ~(page - 1);
	if (to > from) {
		(void)madvise((void *)from, (size_t)(to - from), MADV_DONTNEED);
		c->dropped = (size_t)(to - (uintptr_t)c->d);
	}
	c->drop_at = c->pos + DROP_STEP;
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
	memset(f + c->cap_fields, 0, (cap - c->cap_fields) * sizeof *f);
	c->fields = f;
	set_last(c);
	size_t *s = xreallocn(c->soff, cap, sizeof *s);
	if (!s)
		return -1;
	c->soff = s;
	c->cap_fields = cap;
	set_last(c);
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

/* Why this loop is ours and not a library's: reading is a large part of
 * every import (callgrind, `crmscope customers` on 1M orders: ~250
 * instructions a record before this path, ~120 with it), and the fields
 * must point into the mapped input, follow next_general's exact rules ('\r'
 * before a line end, a quote anywhere diverting the whole record, the
 * field cap) and hand a record back to next_general untouched. So the
 * reader classifies the input WIN bytes at a time into two bit masks,
 * delimiters and stops (line feeds and quotes), keeps the masks of 2 WIN
 * bytes in struct ing_csv from one record to the next, and walks their set
 * bits: each byte is classified once, a record of fewer than WIN bytes
 * takes no loop but one over its fields, and there is no call per field. */

/* The masks of p[0..WIN): bit k of delims for p[k] == delim, of stops for
 * p[k] | 0x28 == 0x2A. That is a line feed (0x0A) or a quote (0x22),
 * found with one compare instead of two, and also 0x02 and '*' (0x2A),
 * which the fast path steps over. SSE2 compares sixteen bytes at once;
 * elsewhere, or built with -DING_CSV_PORTABLE (to check that the two
 * agree), a byte loop gives the same masks. */
struct masks {
	uint64_t delims, stops;
};

#if defined(__SSE2__) && !defined(ING_CSV_PORTABLE)
__attribute__((always_inline))
static inline uint64_t movemask(__m128i x, unsigned k)
{
	return (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (16 * k);
}

__attribute__((always_inline))
static inline struct masks classify(const char *p, const unsigned char bytes[3][32])
{
	const __m128i vd = _mm_loadu_si128((const __m128i *)(const void *)bytes[0]),
		      v28 = _mm_loadu_si128((const __m128i *)(const void *)bytes[1]),
		      v2a = _mm_loadu_si128((const __m128i *)(const void *)bytes[2]);
	const __m128i *const v = (const __m128i *)(const void *)p;
	const __m128i x0 = _mm_loadu_si128(v), x1 = _mm_loadu_si128(v + 1),
		      x2 = _mm_loadu_si128(v + 2), x3 = _mm_loadu_si128(v + 3);
	struct masks m;
	m.delims = movemask(_mm_cmpeq_epi8(x0, vd), 0) | movemask(_mm_cmpeq_epi8(x1, vd), 1) |
		   movemask(_mm_cmpeq_epi8(x2, vd), 2) | movemask(_mm_cmpeq_epi8(x3, vd), 3);
	m.stops = movemask(_mm_cmpeq_epi8(_mm_or_si128(x0, v28), v2a), 0) |
		  movemask(_mm_cmpeq_epi8(_mm_or_si128(x1, v28), v2a), 1) |
		  movemask(_mm_cmpeq_epi8(_mm_or_si128(x2, v28), v2a), 2) |
		  movemask(_mm_cmpeq_epi8(_mm_or_si128(x3, v28), v2a), 3);
	return m;
}
#else
static inline struct masks classify(const char *p, const unsigned char bytes[3][32])
{
	struct masks m = { 0, 0 };
	for (unsigned k = 0; k < WIN; k++) {
		unsigned char b = (unsigned char)p[k];
		m.delims |= (uint64_t)(b == bytes[0][0]) << k;
		m.stops |= (uint64_t)((b | 0x28) == 0x2A) << k;
	}
	return m;
}
#endif

#ifdef CSV_AVX2
/* classify with AVX2, thirty-two bytes at once, for the CPUs that have it:
 * half the instructions. Only slide_avx2 uses it, built for AVX2 by its
 * attribute alone, so the library keeps the x86-64 baseline. */
__attribute__((target("avx2"), always_inline))
static inline struct masks classify_avx2(const char *p, const unsigned char bytes[3][32])
{
	const __m256i vd = _mm256_loadu_si256((const __m256i *)(const void *)bytes[0]),
		      v28 = _mm256_loadu_si256((const __m256i *)(const void *)bytes[1]),
		      v2a = _mm256_loadu_si256((const __m256i *)(const void *)bytes[2]);
	const __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)p),
		      x1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	struct masks m;
	m.delims = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x0, vd)) |
		   (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x1, vd)) << 32;
	m.stops = (uint64_t)(uint32_t)_mm256_movemask_epi8(
			  _mm256_cmpeq_epi8(_mm256_or_si256(x0, v28), v2a)) |
		  (uint64_t)(uint32_t)_mm256_movemask_epi8(
			  _mm256_cmpeq_epi8(_mm256_or_si256(x1, v28), v2a)) << 32;
	return m;
}
#endif

/* The masks of the WIN bytes of the input from offset at, of which fewer
 * or none remain near its end. Those are read from c->tail, the input's
 * last bytes followed by zeros, so that nothing past the input is read and
 * there is no copy per call; the bits of the zeros are cleared (a NUL
 * delimiter would match them). */
__attribute__((always_inline))
static inline struct masks masks_at(const struct ing_csv *c, size_t at)
{
	size_t n = at < c->len ? c->len - at : 0;
	if (n >= WIN)
		return classify(c->d + at, c->bytes);
	uint64_t keep = ((uint64_t)1 << n) - 1;
	struct masks m = classify(c->tail + WIN - n, c->bytes);
	m.delims &= keep;
	m.stops &= keep;
	return m;
}

/* Slides the window on by WIN: its second WIN bytes become the first.
 * Needs c->wlen == WIN, so that those are all in the input. Returns the
 * offset of the new second WIN bytes, whose masks slide_end stores, and
 * whether those are all in the input. */
__attribute__((always_inline))
static inline int slide_begin(struct ing_csv *c, size_t *at)
{
	*at = c->wbase + 2 * WIN;
	c->wbase += WIN;
	c->wdelim[0] = c->wdelim[1];
	c->wstop[0] = c->wstop[1];
	return *at + WIN <= c->len;
}

__attribute__((always_inline))
static inline void slide_end(struct ing_csv *c, struct masks m)
{
	c->wdelim[1] = m.delims;
	c->wstop[1] = m.stops;
}

/* The window's last slide: the bytes left at the input's end take
 * masks_at, which reads no further. */
static void slide_last(struct ing_csv *c, size_t at)
{
	slide_end(c, masks_at(c, at));
	c->wlen = c->len - c->wbase < WIN ? c->len - c->wbase : WIN;
}

/* Slides the window on (see slide_begin); returns CRM_OK, as ing_csv_next
 * ends in a tail call to it about once per WIN bytes. c->slide is this or
 * slide_avx2. */
__attribute__((noinline))
static int slide_sse2(struct ing_csv *c)
{
	size_t at;
	if (slide_begin(c, &at))
		slide_end(c, classify(c->d + at, c->bytes));
	else
		slide_last(c, at);
	return CRM_OK;
}

#ifdef CSV_AVX2
__attribute__((target("avx2"), noinline))
static int slide_avx2(struct ing_csv *c)
{
	size_t at;
	if (slide_begin(c, &at))
		slide_end(c, classify_avx2(c->d + at, c->bytes));
	else
		slide_last(c, at);
	return CRM_OK;
}
#endif

/* Makes the window anew at offset at (<= c->len). */
static void window_at(struct ing_csv *c, size_t at)
{
	struct masks m0 = masks_at(c, at), m1 = masks_at(c, at + WIN);
	c->wbase = at;
	c->wdelim[0] = m0.delims;
	c->wstop[0] = m0.stops;
	c->wdelim[1] = m1.delims;
	c->wstop[1] = m1.stops;
	c->wlen = c->len - at < WIN ? c->len - at : WIN;
}

/* Moves the window so that offset at (<= c->len) lies in its first WIN
 * bytes: by WIN when it lies in the second ones, else made anew at at. */
__attribute__((noinline))
static void window_to(struct ing_csv *c, size_t at)
{
	size_t o = at - c->wbase;   /* wraps when at < wbase */
	if (o >= WIN && o < 2 * WIN && c->wlen == WIN)
		(void)c->slide(c);
	else
		window_at(c, at);
}

/* The offset of the lowest set bit of m, which is not 0. GCC 12 makes
 * three instructions of __builtin_ctzll used as an offset (a zeroing xor,
 * tzcnt, a sign extension); bsf is one, and this runs once per field. */
static inline size_t low_bit(uint64_t m)
{
#if defined(__x86_64__) && defined(__GNUC__)
	size_t i;
	__asm__("bsfq %1, %0" : "=r"(i) : "rm"(m) : "cc");
	return i;
#else
	return (size_t)__builtin_ctzll(m);
#endif
}

/* Whether the fields ending at the set bits of delims fit in room more. */
static int fits(uint64_t delims, size_t room)
{
	for (; delims; delims &= delims - 1)
		if (room-- == 0)
			return 0;
	return 1;
}

/* Stores at f the fields that end at the set bits of delims, where bit k
 * is for from[k], and sets *fromp past the last of them (or to from);
 * returns f past them. Each field is as long as the offset of the lowest
 * bit, and the mask moves on past it: eight instructions a field. */
__attribute__((always_inline))
static inline struct ing_field *cut(struct ing_field *f, const char **fromp, const char *from,
				    uint64_t delims)
{
	while (delims) {
		const size_t n = low_bit(delims);
		f->p = from;
		f->n = n;
		f++;
		from += n + 1;
		delims = delims >> n >> 1;
	}
	*fromp = from;
	return f;
}

/* Bits k of the masks m for the bytes d[wbase + o + k], k < WIN (o < WIN):
 * the two words shifted right by o as one. On x86-64 that is one shrd,
 * which GCC 12 does not make of either C spelling once this is inlined. */
static inline uint64_t span(const uint64_t m[2], size_t o)
{
#if defined(__x86_64__) && defined(__GNUC__)
	uint64_t lo = m[0];
	__asm__("shrdq %%cl, %1, %0" : "+r"(lo) : "r"(m[1]), "c"(o) : "cc");
	return lo;
#else
	/* m[1] << (WIN - o) in two steps, as a shift by 64 is undefined */
	return m[0] >> o | m[1] << 1 << (WIN - 1 - o);
#endif
}

/* The fast path reads a record that holds no quote, in delimited mode,
 * starting in the window's first WIN bytes (c->pos - c->wbase < c->wlen,
 * so c->pos < c->len). Such a record is its line cut at each delimiter,
 * with a '\r' before the line end dropped: what next_general gives for it.
 * The set bits of the window's masks from c->pos on are the field ends and
 * the line end; a record longer than WIN bytes moves the window on. The
 * fast path gives way, with c->pos and c->line where they were, when the
 * record has a quote, more fields than the array holds (next_general then
 * reads it, from its start, and grows the array) or is a blank line
 * (skip_blank_lines' work). The window only caches the masks of the bytes
 * that it covers, so whatever moves c->pos, the next call finds it valid
 * or makes it anew.
 *
 * It is cut in three so that the common record, of fewer than WIN bytes,
 * runs through ing_csv_next alone, which makes no call but tail calls and
 * so saves few registers: first_stretch, then finish, or else rest. */

/* Stores the fields of the record at c->pos that end before the first stop
 * in its first WIN bytes, sets *f past them and *from at the start of the
 * next field; returns the stops of those WIN bytes (bit k for d[pos + k]).
 * Every field fits: there are WIN slots or more (see set_last). */
__attribute__((always_inline))
static inline uint64_t first_stretch(const struct ing_csv *c, struct ing_field **fp,
				     const char **fromp)
{
	const size_t o = c->pos - c->wbase;
	const char *const start = c->d + c->pos;
	struct ing_field *const f = c->fields;
	uint64_t stops = span(c->wstop, o);
	/* the delimiters before the first stop, all when there is none (no
	 * delimiter is a stop, see plain) */
	uint64_t delims = span(c->wdelim, o) & (stops - 1);
	*fp = cut(f, fromp, start, delims);
	return stops;
}

/* Ends the record at eol (a line feed, or the end of the input when
 * at_end), its last field starting at from and stored at *f. Returns 1
 * with row filled and the reader moved on, or 0 for a blank line. */
__attribute__((always_inline))
static inline int finish(struct ing_csv *c, struct ing_row *row, struct ing_field *f,
			 const char *from, const char *eol, int at_end)
{
	const char *const d = c->d, *const start = d + c->pos;
	if (eol == start)
		return 0;   /* a blank line */
	/* a '\r' before the line end is not a delimiter, so the last field
	 * holds it */
	size_t cr = eol[-1] == '\r', raw_n = (size_t)(eol - start) - cr;
	if (raw_n == 0)
		return 0;   /* a blank line, "\r\n" or a last "\r" */
	f->p = from;
	f->n = (size_t)(eol - from) - cr;
	row->n_fields = (size_t)(f - c->fields) + 1;
	row->fields = c->fields;
	row->names = NULL;
	row->line = c->line;
	row->raw = start;
	row->raw_n = raw_n;
	row->scratch = 0;
	if (at_end) {
		c->pos = c->len;
	} else {
		c->pos = (size_t)(eol - d) + 1;
		c->line++;
	}
	return 1;
}

/* The record after first_stretch when its first stop (of stops) is not a
 * line feed, or it has none: on through 0x02 and '*' (see classify) and
 * past its first WIN bytes. Returns 1 with row filled and the window moved
 * to the next record, or 0 to give way. */
static int rest(struct ing_csv *c, struct ing_row *row, struct ing_field *f,
		const char *from, uint64_t stops)
{
	size_t q = c->pos;   /* the stretch: WIN bytes from d[q], bit k for d[q + k] */
	const char *eol;
	int at_end = 0;
	for (;;) {
		uint64_t delims;
		if (stops) {
			eol = c->d + q + low_bit(stops);
			if (*eol == '\n')
				break;
			if (*eol == '"')
				return 0;
			/* on with the delimiters from there, as it may be one */
			delims = span(c->wdelim, q - c->wbase) & (0 - (stops & (0 - stops)));
			stops &= stops - 1;
		} else if (c->len - q > WIN) {
			q += WIN;
			if (q - c->wbase >= WIN)
				window_to(c, q);
			delims = span(c->wdelim, q - c->wbase);
			stops = span(c->wstop, q - c->wbase);
		} else {
			eol = c->d + c->len;
			at_end = 1;
			break;
		}
		delims &= stops - 1;   /* those before the next stop */
		if (c->last - f < WIN && !fits(delims, (size_t)(c->last - f)))
			return 0;
		if (delims) {
			/* the field that ends first may have started before the
			 * stretch; the others are cut as in first_stretch */
			const size_t k = low_bit(delims);
			f->p = from;
			f->n = (size_t)(c->d + q + k - from);
			f = cut(f + 1, &from, c->d + q + k + 1, delims >> k >> 1);
		}
	}
	if (!finish(c, row, f, from, eol, at_end))
		return 0;
	if (c->pos - c->wbase >= WIN)
		window_to(c, c->pos);
	return 1;
}

/* The whole fast path: 1 with row filled, or 0 to give way. */
static int next_plain(struct ing_csv *c, struct ing_row *row)
{
	struct ing_field *f;
	const char *from, *const start = c->d + c->pos;
	uint64_t stops = first_stretch(c, &f, &from);
	if (stops && start[low_bit(stops)] == '\n') {
		if (!finish(c, row, f, from, start + low_bit(stops), 0))
			return 0;
		if (c->pos - c->wbase >= WIN)
			window_to(c, c->pos);
		return 1;
	}
	return rest(c, row, f, from, stops);
}

/* -------------------------------------------------- the general path */

static int next_general(struct ing_csv *c, struct ing_row *row, struct crm_err *err);

/* The record at start (line start_line) of a reader limited by
 * ing_csv_limit, whose quoted field goes on past the limit: read again
 * with all the bytes, and the reader's input ends after it. */
__attribute__((noinline, cold))
static int past_limit(struct ing_csv *c, struct ing_row *row, size_t start, long start_line,
		      struct crm_err *err)
{
	c->len = c->full_len;
	c->pos = start;
	c->line = start_line;
	int rc = next_general(c, row, err);
	/* no window holds what is left: the next call reads the end */
	c->len = c->pos;
	c->wbase = 0;
	c->wlen = 0;
	set_tail(c);
	return rc;
}

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
		row->scratch = 0;
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
			if (!closed && len < c->full_len)
				return past_limit(c, row, start, start_line, err);
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
	row->scratch = used_scratch;
	if (n_all > MAX_FIELDS)
		return crm_err_set(err, CRM_EPARSE, "%s:%ld: too many fields (%zu, at most %d)",
				   c->name, start_line, n_all, MAX_FIELDS);
	if (fault)
		return crm_err_set(err, CRM_EPARSE, "%s:%ld: field %zu: %s", c->name,
				   start_line, fault_field + 1, fault);
	return CRM_OK;
}

/* ing_csv_next when the window does not hold c->pos (the first call, in
 * runs-of-blanks mode, after next_general, at the end) or the fast path
 * gave way: blank lines first, then the fast path or the general one. */
__attribute__((noinline))
static int next_slow(struct ing_csv *c, struct ing_row *row, struct crm_err *err)
{
	if (c->plain && skip_blank_lines(c) == 0) {
		if (c->pos - c->wbase >= c->wlen)
			window_to(c, c->pos);
		if (next_plain(c, row))
			return CRM_OK;
	}
	return next_general(c, row, err);
}

/* ing_csv_next for a record that goes on past its first stop. When the
 * fast path gives way the general path reads the record (it skips blank
 * lines too), so that a long record is not scanned twice. */
__attribute__((noinline))
static int next_rest(struct ing_csv *c, struct ing_row *row, struct crm_err *err,
		     struct ing_field *f, const char *from, uint64_t stops)
{
	if (rest(c, row, f, from, stops))
		return CRM_OK;
	return next_general(c, row, err);
}

int ing_csv_next(struct ing_csv *c, struct ing_row *row, struct crm_err *err)
{
	/* most records start in the window's first WIN bytes, hold no quote
	 * and end before WIN more; the window is never made in runs-of-blanks
	 * mode. This is finish, written out for a line feed at start[k]. */
	const size_t pos = c->pos, o = pos - c->wbase;
	if (__builtin_expect(pos >= c->drop_at, 0))
		drop_behind(c);
	if (o < c->wlen) {
		struct ing_field *f;
		const char *from, *const start = c->d + pos;
		uint64_t stops = first_stretch(c, &f, &from);
		size_t k;
		if (!stops || start[k = low_bit(stops)] != '\n')
			return next_rest(c, row, err, f, from, stops);
		if (k > 0) {
			size_t raw_n = k;   /* without a '\r' before the line end */
			if (start[k - 1] == '\r')
				raw_n--;
			if (raw_n > 0) {
				f->p = from;
				f->n = (size_t)(start + raw_n - from);
				row->n_fields = (size_t)(f - c->fields) + 1;
				row->fields = c->fields;
				row->names = NULL;
				row->line = c->line++;
				row->raw = start;
				row->raw_n = raw_n;
				row->scratch = 0;
				c->pos = pos + k + 1;
				if (o + k + 1 >= WIN)   /* < 2 WIN, as k < WIN */
					return c->slide(c);
				return CRM_OK;
			}
		}
	}
	return next_slow(c, row, err);
}
