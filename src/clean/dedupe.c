/* dedupe.c - the duplicate-finding engine (clean layer, issue 3):
 * normalising each record once, blocking, comparison patterns of the
 * candidate pairs on two threads, Fellegi-Sunter weights fitted by EM,
 * term-frequency adjustment, and clusters by union-find. The method and its
 * sources are in docs/CLEAN.md, "Blocking and scoring". */
#include "clean/dedupe.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clean/norm.h"
#include "core/err.h"
#include "core/strmap.h"
#include "core/tstamp.h"

#define DEF_THRESHOLD 0.9
#define DEF_REVIEW 0.5
#define DEF_CAP 50
#define DEF_WINDOW 5
#define DEF_THREADS 2
#define MAX_THREADS 16
#define CHUNK 1024               /* records per unit of pair work */
#define EM_MIN_PAIRS 50000       /* fewer new pairs: EM also sees old pairs */
#define EM_SAMPLE_RECORDS 20000  /* old records whose old pairs EM then sees */
#define EM_MAX_ITER 1000
#define EM_TOL 1e-6
#define EM_PRIOR 1.0             /* pseudo-pairs per class and field (see em_fit) */
#define RANDOM_PAIRS 100000      /* pairs drawn at random for u (all when fewer) */
#define PROB_FLOOR 1e-9          /* m and u are kept in [floor, 1 - floor] */
#define LAMBDA_FLOOR 1e-15       /* and lambda in [floor, 0.5] */
#define NAME_PREFIX_CP 4         /* code points of the sorted name in its city key */

/* The pattern of a pair: its level per field as a number in base
 * CLN_N_LEVELS, field 0 the lowest digit. */
#define N_PATTERNS 1679616u      /* CLN_N_LEVELS ^ CLN_F_N = 6^8 */

/* The levels each field uses (bit per enum cln_level). */
#define LV(l) (1u << (l))
static const unsigned field_levels[CLN_F_N] = {
	[CLN_F_NAME] = LV(CLN_L_EXACT) | LV(CLN_L_CLOSE) | LV(CLN_L_SIMILAR) | LV(CLN_L_DIFFERENT),
	[CLN_F_EMAIL] = LV(CLN_L_EXACT) | LV(CLN_L_CLOSE) | LV(CLN_L_DIFFERENT),
	[CLN_F_PHONE] = LV(CLN_L_EXACT) | LV(CLN_L_CLOSE) | LV(CLN_L_DIFFERENT),
	[CLN_F_ADDRESS] = LV(CLN_L_EXACT) | LV(CLN_L_CLOSE) | LV(CLN_L_SIMILAR) | LV(CLN_L_DIFFERENT),
	[CLN_F_POSTCODE] = LV(CLN_L_EXACT) | LV(CLN_L_DIFFERENT),
	[CLN_F_CITY] = LV(CLN_L_EXACT) | LV(CLN_L_CLOSE) | LV(CLN_L_DIFFERENT),
	[CLN_F_BIRTH_DATE] = LV(CLN_L_EXACT) | LV(CLN_L_CLOSE) | LV(CLN_L_DIFFERENT),
	[CLN_F_GENDER] = LV(CLN_L_EXACT) | LV(CLN_L_DIFFERENT),
};

static const char *const field_names[CLN_F_N] = {
	"name", "email", "phone", "address", "postcode", "city", "birth_date", "gender"
};

const char *cln_field_name(int field)
{
	return field >= 0 && field < CLN_F_N ? field_names[field] : "";
}

const char *cln_level_name(int field, int level)
{
	if (field < 0 || field >= CLN_F_N || level < 0 || level >= CLN_N_LEVELS)
		return "";
	switch (level) {
	case CLN_L_MISSING: return "missing";
	case CLN_L_EXACT: return "exact";
	case CLN_L_CLOSE:
		return field == CLN_F_PHONE || field == CLN_F_EMAIL ? "one-edit"
			: field == CLN_F_BIRTH_DATE ? "swapped" : "jw>=0.92";
	case CLN_L_SIMILAR: return "jw>=0.85";
	case CLN_L_DIFFERENT: return "different";
	default: return "implied";
	}
}

void cln_dedupe_opts_init(struct cln_dedupe_opts *o)
{
	memset(o, 0, sizeof *o);
	o->threshold = DEF_THRESHOLD;
	o->review_threshold = DEF_REVIEW;
	o->block_cap = DEF_CAP;
	o->window = DEF_WINDOW;
	o->threads = DEF_THREADS;
}

/* ------------------------------------------------------------ the state */

/* Normalised text fields of a record, in the pool. */
enum { NT_NAME, NT_EMAIL, NT_PHONE, NT_ADDRESS, NT_POSTCODE, NT_CITY, NT_GENDER, NT_N };

struct span {
	uint32_t off, len;       /* bytes of the pool; len 0: missing */
};

/* The characters of a text field counted in SIG_BUCKETS buckets of code
 * points, for a cheap bound of Jaro-Winkler (jw_bound). */
#define SIG_BUCKETS 32
enum { SIG_NAME, SIG_ADDRESS, SIG_CITY, SIG_N };

struct sig {
	uint8_t c[SIG_BUCKETS];  /* code points per bucket (cp % SIG_BUCKETS) */
	uint16_t len;            /* code points; SIG_NONE: too long to count here */
};
#define SIG_NONE UINT16_MAX

struct nrec {
	struct span t[NT_N];
	int64_t birth;           /* s since epoch, CRM_NA when missing */
	struct sig sig[SIG_N];
};

struct block {
	size_t start;            /* first member in eng.member */
	uint32_t size;           /* >= 2 */
	uint32_t capped;         /* 1: size > cap, members in rank order, windowed */
};

struct memb {
	uint32_t blk;            /* block index */
	uint32_t pos;            /* the record's position among the block's members */
};

struct cpair {
	uint32_t a, b;           /* a < b */
	uint32_t pat;            /* comparison pattern */
};

struct pvec {
	struct cpair *p;
	size_t n, cap;
};

struct eng {
	const struct cln_customer *recs;
	size_t n, n_old;
	struct cln_dedupe_opts o;
	int nt;                  /* threads */

	struct nrec *nr;         /* n normalised records */
	char *pool;              /* their text */
	uint64_t *h_name, *h_city; /* n hashes of the normalised name and city (0: none) */
	float *tf_name, *tf_city;  /* n term-frequency adjustments, log2 */

	uint64_t *key;           /* n_key blocking keys (hashes) */
	uint32_t *key_rec;       /* the record of each */
	size_t n_key;

	struct block *blk;
	size_t n_blk;
	uint32_t *member;        /* block members, block after block */
	size_t *memb_start;      /* n + 1 offsets into memb */
	struct memb *memb;       /* the blocks of each record */

	struct pvec *chunk;      /* the pairs of each chunk of CHUNK records */
	size_t n_chunks;
	uint32_t *sample;        /* old records whose old pairs EM sees */
	size_t n_sample;
	atomic_size_t next;      /* next chunk to take */

	uint64_t *hist;          /* N_PATTERNS: pairs per pattern (EM input) */
	double m[CLN_F_N][CLN_N_LEVELS], u[CLN_F_N][CLN_N_LEVELS], lambda;
	double w[CLN_F_N][CLN_N_LEVELS];  /* log2(m / u) */
};

/* One thread's share of a phase. */
struct task {
	struct eng *e;
	int id;
	size_t lo, hi;           /* records (normalising) */
	int rc;                  /* CRM_OK or CRM_ENOMEM */
	struct buf pool;         /* normalising: this part's text */
	uint64_t *key;           /* normalising: this part's keys */
	uint32_t *key_rec;
	size_t n_key, cap_key;
	uint64_t *hist;          /* pairs: this thread's pattern counts */
	int sample;              /* pairs: 1 for the EM sample of old pairs */
};

/* Runs fn on tasks t[0..nt) on nt threads (the caller's being one of them);
 * a thread that cannot be started runs on the caller's. */
static void run_tasks(void *(*fn)(void *), struct task *t, int nt)
{
	pthread_t th[MAX_THREADS];
	int started[MAX_THREADS] = { 0 };
	for (int k = 1; k < nt; k++)
		started[k] = pthread_create(&th[k], NULL, fn, &t[k]) == 0;
	fn(&t[0]);
	for (int k = 1; k < nt; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			fn(&t[k]);
	}
}

/* ------------------------------------------------------------ sorting */

/* Sorts key[0..n) ascending with val alongside, stably: LSD radix over
 * 16-bit digits, a pass skipped when every key has the same digit.
 * 0, or -1 when out of memory. */
static int radix_sort(uint64_t *key, uint32_t *val, size_t n)
{
	if (n < 2)
		return 0;
	uint64_t *k2 = xmallocn(n, sizeof *k2);
	uint32_t *v2 = xmallocn(n, sizeof *v2);
	size_t *count = xmallocn(65536, sizeof *count);
	int rc = -1;
	if (!k2 || !v2 || !count)
		goto done;
	for (unsigned shift = 0; shift < 64; shift += 16) {
		memset(count, 0, 65536 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(key[i] >> shift) & 0xffff]++;
		if (count[(key[0] >> shift) & 0xffff] == n)
			continue;
		size_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t at = count[(key[i] >> shift) & 0xffff]++;
			k2[at] = key[i];
			v2[at] = val[i];
		}
		memcpy(key, k2, n * sizeof *key);
		memcpy(val, v2, n * sizeof *val);
	}
	rc = 0;
done:
	free(k2);
	free(v2);
	free(count);
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The code point at s[*i] of UTF-8 s[0..n) (the normalisers' output, valid;
 * a sequence cut short ends at n), moving *i past it. */
static inline uint32_t next_cp(const unsigned char *s, uint32_t n, uint32_t *i)
{
	uint32_t c = s[(*i)++];
	if (c < 0x80)
		return c;
	int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
	c &= more == 3 ? 0x07u : more == 2 ? 0x0fu : 0x1fu;
	while (more-- > 0 && *i < n)
		c = c << 6 | (s[(*i)++] & 0x3fu);
	return c;
}

/* Counts the code points of s into *g. */
static void sig_make(const char *s, uint32_t n, struct sig *g)
{
	uint32_t len = 0;
	memset(g, 0, sizeof *g);
	for (uint32_t i = 0; i < n; len++) {
		uint8_t *c = &g->c[next_cp((const unsigned char *)s, n, &i) % SIG_BUCKETS];
		if (*c == UINT8_MAX || len >= SIG_NONE - 1) {
			g->len = SIG_NONE;
			return;
		}
		(*c)++;
	}
	g->len = (uint16_t)len;
}

/* An upper bound of the Jaro-Winkler similarity of two strings of
 * signatures a and b (SIG_NONE: 1, no bound): Jaro's matching characters m
 * are at most the characters the two have in common c (counted by buckets,
 * which can only add), so jaro <= (c/|a| + c/|b| + 1) / 3, and Winkler's
 * prefix adds at most 0.4 (1 - jaro) (Winkler 1990: scale 0.1, four code
 * points). */
static inline double jw_bound(const struct sig *a, const struct sig *b)
{
	if (a->len == SIG_NONE || b->len == SIG_NONE || !a->len || !b->len)
		return 1;
	unsigned common = 0;
	for (int k = 0; k < SIG_BUCKETS; k++)
		common += a->c[k] < b->c[k] ? a->c[k] : b->c[k];
	double j = ((double)common / a->len + (double)common / b->len + 1) / 3;
	return j + 0.4 * (1 - j);
}

/* ------------------------------------------------------- normalising */

/* Text field f of r, "" when missing. */
static const char *txt(const struct cln_customer *r, int f)
{
	return r->text[f] ? r->text[f] : "";
}

/* Words for female and male, folded (cl_norm_text), in the languages of the
 * demo business and its neighbours. */
static const char *const gender_words[][2] = {
	{ "f", "f" }, { "female", "f" }, { "woman", "f" }, { "w", "f" }, { "weiblich", "f" },
	{ "femme", "f" }, { "feminin", "f" }, { "femenino", "f" }, { "mujer", "f" },
	{ "ж", "f" }, { "жінка", "f" }, { "жіноча", "f" }, { "γυναικα", "f" }, { "女", "f" },
	{ "m", "m" }, { "male", "m" }, { "man", "m" }, { "mannlich", "m" }, { "homme", "m" },
	{ "masculin", "m" }, { "masculino", "m" }, { "hombre", "m" }, { "ч", "m" },
	{ "чоловік", "m" }, { "чоловіча", "m" }, { "ανδρας", "m" }, { "男", "m" },
};

/* Gender folded to "f" or "m" where it says so, else the folded text. */
static int norm_gender(const char *s, struct buf *tmp, struct buf *out)
{
	if (cl_norm_text(s, strlen(s), tmp) != 0)
		return -1;
	out->len = 0;
	if (out->p)
		out->p[0] = '\0';
	for (size_t k = 0; k < sizeof gender_words / sizeof gender_words[0]; k++)
		if (strcmp(tmp->p ? tmp->p : "", gender_words[k][0]) == 0)
			return buf_puts(out, gender_words[k][1]);
	return tmp->len ? buf_append(out, tmp->p, tmp->len) : 0;
}

/* Room for one more key in t; 0, or -1 when out of memory. */
static int grow_keys(struct task *t)
{
	if (t->n_key < t->cap_key)
		return 0;
	size_t cap = t->cap_key ? t->cap_key * 2 : 4096;
	uint64_t *k = xreallocn(t->key, cap, sizeof *k);
	if (!k)
		return -1;
	t->key = k;
	uint32_t *r = xreallocn(t->key_rec, cap, sizeof *r);
	if (!r)
		return -1;
	t->key_rec = r;
	t->cap_key = cap;
	return 0;
}

/* Adds the blocking key kb (its bytes) of record i. */
static int add_key(struct task *t, const struct buf *kb, size_t i)
{
	if (grow_keys(t) != 0)
		return -1;
	t->key[t->n_key] = strmap_hash(kb->p, kb->len);
	t->key_rec[t->n_key] = (uint32_t)i;
	t->n_key++;
	return 0;
}

/* kb = tag byte, then the parts. */
static int key_start(struct buf *kb, char tag)
{
	kb->len = 0;
	return buf_putc(kb, tag);
}

/* Bytes of the first cps code points of s[0..n). */
static size_t utf8_prefix(const char *s, size_t n, size_t cps)
{
	size_t i = 0, k = 0;
	while (i < n) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (k == cps)
				break;
			k++;
		}
		i++;
	}
	return i;
}

/* The blocking keys of record i (docs/CLEAN.md, "Blocking"). */
static int record_keys(struct task *t, size_t i, struct buf *kb)
{
	const struct eng *e = t->e;
	const struct nrec *r = &e->nr[i];
	const char *pool = t->pool.p;
	const char *name = pool + r->t[NT_NAME].off, *email = pool + r->t[NT_EMAIL].off;
	const char *phone = pool + r->t[NT_PHONE].off, *addr = pool + r->t[NT_ADDRESS].off;
	const char *post = pool + r->t[NT_POSTCODE].off, *city = pool + r->t[NT_CITY].off;
	size_t nn = r->t[NT_NAME].len, ne = r->t[NT_EMAIL].len, np = r->t[NT_PHONE].len;
	size_t na = r->t[NT_ADDRESS].len, npc = r->t[NT_POSTCODE].len, nc = r->t[NT_CITY].len;
	char year[16];
	int ny = 0;
	if (r->birth != CRM_NA) {
		int64_t y;
		unsigned mo, d;
		civil_from_days(ts_day(r->birth), &y, &mo, &d);
		ny = snprintf(year, sizeof year, "%lld", (long long)y);
	}
	if (ne) {
		if (key_start(kb, 'E') || buf_append(kb, email, ne) || add_key(t, kb, i))
			return -1;
		/* the local part's letters and digits: meets a typo in the domain
		 * and a dot or underscore lost, whatever script the name is in */
		const char *at = memchr(email, '@', ne);
		size_t nl = at ? (size_t)(at - email) : ne, kept = 0;
		if (key_start(kb, 'L'))
			return -1;
		for (size_t k = 0; k < nl; k++) {
			unsigned char c = (unsigned char)email[k];
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
				if (buf_putc(kb, (char)c))
					return -1;
				kept++;
			}
		}
		if (kept >= 4 && add_key(t, kb, i))
			return -1;
	}
	if (np >= 6 && (key_start(kb, 'P') || buf_append(kb, phone, np) || add_key(t, kb, i)))
		return -1;
	if (na && (key_start(kb, 'A') || buf_append(kb, addr, na) || buf_putc(kb, '|') ||
		   buf_append(kb, post, npc) || add_key(t, kb, i)))
		return -1;
	if (nn && nc) {
		size_t pre = utf8_prefix(name, nn, NAME_PREFIX_CP);
		if (key_start(kb, 'N') || buf_append(kb, name, pre) || buf_putc(kb, '|') ||
		    buf_append(kb, city, nc) || add_key(t, kb, i))
			return -1;
	}
	/* each token of the sorted name with the birth year, and with the postcode */
	const char *prev = NULL;
	size_t nprev = 0;
	for (size_t s = 0; s < nn;) {
		size_t q = s;
		while (q < nn && name[q] != ' ')
			q++;
		const char *tok = name + s;
		size_t nt = q - s;
		s = q + 1;
		if (nt < 2 || (prev && nprev == nt && memcmp(prev, tok, nt) == 0))
			continue;
		prev = tok;
		nprev = nt;
		if (ny > 0 && (key_start(kb, 'Y') || buf_append(kb, tok, nt) || buf_putc(kb, '|') ||
			       buf_append(kb, year, (size_t)ny) || add_key(t, kb, i)))
			return -1;
		if (npc && (key_start(kb, 'C') || buf_append(kb, tok, nt) || buf_putc(kb, '|') ||
			    buf_append(kb, post, npc) || add_key(t, kb, i)))
			return -1;
	}
	return 0;
}

/* Appends out to the part's pool as span *sp. */
static int keep(struct task *t, const struct buf *out, struct span *sp)
{
	if (t->pool.len > UINT32_MAX - out->len - 1)
		return -1;
	sp->off = (uint32_t)t->pool.len;
	sp->len = (uint32_t)out->len;
	return out->len ? buf_append(&t->pool, out->p, out->len) : 0;
}

struct scratch {
	struct buf tmp, tmp2, out, cc, kb;
};

/* The token after position *i of a space-separated list s[0..n), moving *i
 * past it; 0 when none is left. */
static size_t next_token(const char *s, size_t n, size_t *i, const char **tok)
{
	while (*i < n && s[*i] == ' ')
		(*i)++;
	size_t start = *i;
	while (*i < n && s[*i] != ' ')
		(*i)++;
	*tok = s + start;
	return *i - start;
}

/* 1 if token a sorts after token b: byte order, a prefix first (as
 * cl_norm_name sorts). */
static int tok_after(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	return c > 0 || (c == 0 && na > nb);
}

/* out = the tokens of the sorted lists a and b in one sorted list. */
static int merge_tokens(const struct buf *a, const struct buf *b, struct buf *out)
{
	size_t ia = 0, ib = 0;
	const char *ta, *tb, *pa = a->len ? a->p : "", *pb = b->len ? b->p : "";
	size_t na = next_token(pa, a->len, &ia, &ta), nb = next_token(pb, b->len, &ib, &tb);
	out->len = 0;
	if (buf_reserve(out, a->len + b->len + 1))
		return -1;
	while (na || nb) {
		int take_b = !na || (nb && tok_after(ta, na, tb, nb));
		if (out->len && buf_putc(out, ' '))
			return -1;
		if (take_b) {
			if (buf_append(out, tb, nb))
				return -1;
			nb = next_token(pb, b->len, &ib, &tb);
		} else {
			if (buf_append(out, ta, na))
				return -1;
			na = next_token(pa, a->len, &ia, &ta);
		}
	}
	out->p[out->len] = '\0';
	return 0;
}

static int norm_record(struct task *t, size_t i, struct scratch *s)
{
	struct eng *e = t->e;
	const struct cln_customer *c = &e->recs[i];
	struct nrec *r = &e->nr[i];
	const char *given = txt(c, CLN_T_GIVEN), *family = txt(c, CLN_T_FAMILY);
	const char *v;
	r->birth = c->birth_date;

	/* the name from its parts when there are parts: "Weiß Maximilian" in
	 * given and family meets "Maximilian Weiß", and a CJK name written
	 * without a space meets its swapped parts */
	if (given[0] || family[0]) {
		/* each part on its own: the normaliser joins the characters of a
		 * CJK name across a space ("加藤 拓也" -> "加藤拓也"), which would
		 * keep the parts' order */
		if (cl_norm_name(given, strlen(given), &s->tmp) ||
		    cl_norm_name(family, strlen(family), &s->tmp2) ||
		    merge_tokens(&s->tmp, &s->tmp2, &s->out))
			return -1;
	} else {
		v = txt(c, CLN_T_NAME);
		if (cl_norm_name(v, strlen(v), &s->out))
			return -1;
	}
	if (keep(t, &s->out, &r->t[NT_NAME]))
		return -1;
	v = txt(c, CLN_T_EMAIL);
	if (cl_norm_email(v, strlen(v), &s->out) || keep(t, &s->out, &r->t[NT_EMAIL]))
		return -1;
	const char *cc = e->o.country;
	if (!cc) {
		v = txt(c, CLN_T_COUNTRY);
		if (cl_norm_country(v, strlen(v), &s->cc))
			return -1;
		cc = s->cc.len ? s->cc.p : "";
	}
	v = txt(c, CLN_T_PHONE);
	if (cl_norm_phone(v, strlen(v), cc, &s->out) || keep(t, &s->out, &r->t[NT_PHONE]))
		return -1;
	v = txt(c, CLN_T_ADDRESS);
	if (cl_norm_address(v, strlen(v), &s->out) || keep(t, &s->out, &r->t[NT_ADDRESS]))
		return -1;
	v = txt(c, CLN_T_POSTCODE);
	if (cl_norm_postcode(v, strlen(v), &s->out) || keep(t, &s->out, &r->t[NT_POSTCODE]))
		return -1;
	v = txt(c, CLN_T_CITY);
	if (cl_norm_text(v, strlen(v), &s->out) || keep(t, &s->out, &r->t[NT_CITY]))
		return -1;
	if (norm_gender(txt(c, CLN_T_GENDER), &s->tmp, &s->out) || keep(t, &s->out, &r->t[NT_GENDER]))
		return -1;
	const char *pool = t->pool.p;
	sig_make(pool + r->t[NT_NAME].off, r->t[NT_NAME].len, &r->sig[SIG_NAME]);
	sig_make(pool + r->t[NT_ADDRESS].off, r->t[NT_ADDRESS].len, &r->sig[SIG_ADDRESS]);
	sig_make(pool + r->t[NT_CITY].off, r->t[NT_CITY].len, &r->sig[SIG_CITY]);
	e->h_name[i] = r->t[NT_NAME].len ? strmap_hash(pool + r->t[NT_NAME].off, r->t[NT_NAME].len) : 0;
	e->h_city[i] = r->t[NT_CITY].len ? strmap_hash(pool + r->t[NT_CITY].off, r->t[NT_CITY].len) : 0;
	return record_keys(t, i, &s->kb);
}

static void *norm_worker(void *arg)
{
	struct task *t = arg;
	struct scratch s;
	buf_init(&s.tmp);
	buf_init(&s.tmp2);
	buf_init(&s.out);
	buf_init(&s.cc);
	buf_init(&s.kb);
	/* spans are offsets, so the pool needs no terminator; reserving makes
	 * t->pool.p valid for an empty part too */
	if (buf_reserve(&t->pool, 256) != 0)
		t->rc = CRM_ENOMEM;
	for (size_t i = t->lo; i < t->hi && t->rc == CRM_OK; i++)
		if (norm_record(t, i, &s) != 0)
			t->rc = CRM_ENOMEM;
	buf_fini(&s.tmp);
	buf_fini(&s.tmp2);
	buf_fini(&s.out);
	buf_fini(&s.cc);
	buf_fini(&s.kb);
	return NULL;
}

/* Normalises every record on e->nt threads, and gathers their text into
 * one pool and their blocking keys into one array (in record order). */
static int normalise_all(struct eng *e, struct crm_err *err)
{
	struct task t[MAX_THREADS];
	int rc = CRM_OK;
	memset(t, 0, sizeof t);
	e->nr = xmallocn(e->n + 1, sizeof *e->nr);
	e->h_name = xmallocn(e->n + 1, sizeof *e->h_name);
	e->h_city = xmallocn(e->n + 1, sizeof *e->h_city);
	if (!e->nr || !e->h_name || !e->h_city)
		return crm_err_set(err, CRM_ENOMEM, "dedupe: normalising %zu customers: out of memory", e->n);
	for (int k = 0; k < e->nt; k++) {
		t[k].e = e;
		t[k].id = k;
		t[k].lo = e->n * (size_t)k / (size_t)e->nt;
		t[k].hi = e->n * (size_t)(k + 1) / (size_t)e->nt;
		buf_init(&t[k].pool);
	}
	run_tasks(norm_worker, t, e->nt);
	size_t total = 0, n_key = 0;
	for (int k = 0; k < e->nt; k++) {
		if (t[k].rc)
			rc = t[k].rc;
		total += t[k].pool.len;
		n_key += t[k].n_key;
	}
	if (rc == CRM_OK && total >= UINT32_MAX)
		rc = CRM_ERANGE;
	if (rc == CRM_OK) {
		e->pool = malloc(total + 1);
		e->key = xmallocn(n_key + 1, sizeof *e->key);
		e->key_rec = xmallocn(n_key + 1, sizeof *e->key_rec);
		if (!e->pool || !e->key || !e->key_rec)
			rc = CRM_ENOMEM;
	}
	if (rc == CRM_OK) {
		size_t base = 0, kb = 0;
		for (int k = 0; k < e->nt; k++) {
			memcpy(e->pool + base, t[k].pool.p, t[k].pool.len);
			for (size_t i = t[k].lo; i < t[k].hi; i++)
				for (int f = 0; f < NT_N; f++)
					e->nr[i].t[f].off += (uint32_t)base;
			base += t[k].pool.len;
			if (t[k].n_key) {
				memcpy(e->key + kb, t[k].key, t[k].n_key * sizeof *e->key);
				memcpy(e->key_rec + kb, t[k].key_rec, t[k].n_key * sizeof *e->key_rec);
			}
			kb += t[k].n_key;
		}
		e->pool[total] = '\0';
		e->n_key = n_key;
	}
	for (int k = 0; k < e->nt; k++) {
		buf_fini(&t[k].pool);
		free(t[k].key);
		free(t[k].key_rec);
	}
	if (rc == CRM_ERANGE)
		return crm_err_set(err, rc, "dedupe: normalised text of %zu customers past 4 GiB", e->n);
	if (rc)
		return crm_err_set(err, rc, "dedupe: normalising %zu customers: out of memory", e->n);
	return CRM_OK;
}

/* ----------------------------------------------- term frequencies */

/* tf[i] = log2(S / f(v)) for record i of value v (hash h[i]; 0: none), where
 * f(v) is v's share among the records that have the field and
 * S = sum over values of f^2 is the chance that two records drawn at random
 * agree: the exact-agreement u of a pair on v is taken as u_exact f(v) / S,
 * which averages to u_exact over random agreeing pairs (the idea of
 * term-frequency adjustment as in splink, Linacre et al. 2022, with u
 * proportional to the frequency of v). */
static int term_freq(const uint64_t *h, size_t n, float *tf)
{
	uint64_t *k = xmallocn(n + 1, sizeof *k);
	uint32_t *v = xmallocn(n + 1, sizeof *v);
	int rc = -1;
	if (!k || !v)
		goto done;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		tf[i] = 0;
		if (h[i]) {
			k[m] = h[i];
			v[m++] = (uint32_t)i;
		}
	}
	if (radix_sort(k, v, m) != 0)
		goto done;
	double sum_c = 0;
	for (size_t s = 0; s < m;) {
		size_t q = s;
		while (q < m && k[q] == k[s])
			q++;
		double c = (double)(q - s);
		sum_c += c * c;
		for (size_t r = s; r < q; r++)
			tf[v[r]] = (float)c;      /* the count, for now */
		s = q;
	}
	for (size_t i = 0; i < n; i++)
		if (h[i])
			tf[i] = (float)log2(sum_c / ((double)m * (double)tf[i]));
	rc = 0;
done:
	free(k);
	free(v);
	return rc;
}

/* ------------------------------------------------------------ blocking */

/* A record's order inside a sub-blocked block: by its sorted name (first 16
 * bytes), then birth date, so that the sorted-neighbourhood window
 * (Hernandez and Stolfo 1995) sees the most alike records side by side. */
struct rank_key {
	uint64_t k1, k2, k3;
	uint32_t rec;
};

static int cmp_rank(const void *pa, const void *pb)
{
	const struct rank_key *a = pa, *b = pb;
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	if (a->k3 != b->k3)
		return a->k3 < b->k3 ? -1 : 1;
	return (a->rec > b->rec) - (a->rec < b->rec);
}

static uint64_t be_bytes(const char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (i < n ? (unsigned char)p[i] : 0u);
	return v;
}

static int make_rank(const struct eng *e, uint32_t *rank)
{
	struct rank_key *rk = xmallocn(e->n, sizeof *rk);
	if (!rk)
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		const struct span *sp = &e->nr[i].t[NT_NAME];
		const char *p = e->pool + sp->off;
		rk[i].k1 = be_bytes(p, sp->len);
		rk[i].k2 = sp->len > 8 ? be_bytes(p + 8, sp->len - 8) : 0;
		rk[i].k3 = (uint64_t)e->nr[i].birth ^ (UINT64_C(1) << 63);
		rk[i].rec = (uint32_t)i;
	}
	qsort(rk, e->n, sizeof *rk, cmp_rank);
	for (size_t i = 0; i < e->n; i++)
		rank[rk[i].rec] = (uint32_t)i;
	free(rk);
	return 0;
}

/* Groups the keys into blocks of two or more records, sub-blocks those
 * above the cap, and lists the blocks of each record. */
static int build_blocks(struct eng *e, struct cln_dedupe_result *res, struct crm_err *err)
{
	uint32_t *rank = NULL;
	uint64_t *tmp = NULL;
	int rc = CRM_ENOMEM;
	if (radix_sort(e->key, e->key_rec, e->n_key) != 0)
		goto done;
	size_t n_blk = 0, n_mem = 0;
	for (size_t s = 0; s < e->n_key;) {
		size_t q = s + 1;
		while (q < e->n_key && e->key[q] == e->key[s])
			q++;
		if (q - s >= 2) {
			n_blk++;
			n_mem += q - s;
		}
		s = q;
	}
	if (n_blk >= UINT32_MAX || n_mem >= UINT32_MAX) {
		rc = CRM_ERANGE;
		goto done;
	}
	e->blk = xmallocn(n_blk + 1, sizeof *e->blk);
	e->member = xmallocn(n_mem + 1, sizeof *e->member);
	e->memb_start = xmallocn(e->n + 1, sizeof *e->memb_start);
	e->memb = xmallocn(n_mem + 1, sizeof *e->memb);
	if (!e->blk || !e->member || !e->memb_start || !e->memb)
		goto done;
	size_t cap = e->o.block_cap, at = 0, max_capped = 0;
	e->n_blk = 0;
	for (size_t s = 0; s < e->n_key;) {
		size_t q = s + 1;
		while (q < e->n_key && e->key[q] == e->key[s])
			q++;
		if (q - s >= 2) {
			struct block *b = &e->blk[e->n_blk++];
			b->start = at;
			b->size = (uint32_t)(q - s);
			b->capped = q - s > cap;
			if (b->capped) {
				res->n_capped++;
				res->n_capped_records += q - s;
				if (q - s > max_capped)
					max_capped = q - s;
			}
			memcpy(e->member + at, e->key_rec + s, (q - s) * sizeof *e->member);
			at += q - s;
		}
		s = q;
	}
	res->n_blocks = e->n_blk;
	free(e->key);
	free(e->key_rec);
	e->key = NULL;
	e->key_rec = NULL;

	if (res->n_capped) {
		rank = xmallocn(e->n, sizeof *rank);
		tmp = xmallocn(max_capped, sizeof *tmp);
		if (!rank || !tmp || make_rank(e, rank) != 0)
			goto done;
		for (size_t b = 0; b < e->n_blk; b++) {
			struct block *bl = &e->blk[b];
			if (!bl->capped)
				continue;
			uint32_t *mm = e->member + bl->start;
			for (size_t k = 0; k < bl->size; k++)
				tmp[k] = (uint64_t)rank[mm[k]] << 32 | mm[k];
			qsort(tmp, bl->size, sizeof *tmp, cmp_u64);
			for (size_t k = 0; k < bl->size; k++)
				mm[k] = (uint32_t)tmp[k];
		}
	}

	/* the blocks of each record, by counting */
	memset(e->memb_start, 0, (e->n + 1) * sizeof *e->memb_start);
	for (size_t k = 0; k < n_mem; k++)
		e->memb_start[e->member[k] + 1]++;
	for (size_t i = 0; i < e->n; i++)
		e->memb_start[i + 1] += e->memb_start[i];
	for (size_t b = 0; b < e->n_blk; b++) {
		const struct block *bl = &e->blk[b];
		for (uint32_t k = 0; k < bl->size; k++) {
			uint32_t r = e->member[bl->start + k];
			struct memb *mb = &e->memb[e->memb_start[r]++];
			mb->blk = (uint32_t)b;
			mb->pos = k;
		}
	}
	for (size_t i = e->n; i > 0; i--)
		e->memb_start[i] = e->memb_start[i - 1];
	e->memb_start[0] = 0;
	rc = CRM_OK;
done:
	free(rank);
	free(tmp);
	if (rc == CRM_ERANGE)
		return crm_err_set(err, rc, "dedupe: more than 2^32 blocking keys");
	if (rc)
		return crm_err_set(err, rc, "dedupe: blocking %zu customers: out of memory", e->n);
	return CRM_OK;
}

/* --------------------------------------------------------- comparing */

/* The level of two texts: exact, else by Jaro-Winkler (jw_levels: 0 none,
 * 1 >= 0.92, 2 also >= 0.85), skipped when the signatures' bound is below. */
static unsigned text_level(const char *a, uint32_t na, const char *b, uint32_t nb, int jw_levels,
			   const struct sig *ga, const struct sig *gb)
{
	if (!na || !nb)
		return CLN_L_MISSING;
	if (na == nb && memcmp(a, b, na) == 0)
		return CLN_L_EXACT;
	if (!jw_levels || (ga && jw_bound(ga, gb) < (jw_levels > 1 ? 0.85 : 0.92)))
		return CLN_L_DIFFERENT;
	double s = cl_jaro_winkler(a, na, b, nb);
	if (s >= 0.92)
		return CLN_L_CLOSE;
	if (jw_levels > 1 && s >= 0.85)
		return CLN_L_SIMILAR;
	return CLN_L_DIFFERENT;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 if a and b (different) are one edit apart: one byte replaced, inserted
 * or dropped, or two adjacent bytes swapped (optimal string alignment
 * distance 1: the usual typing slips). Not when !digits and the edit puts
 * in, takes out or replaces a digit: in e-mail addresses that is mostly
 * the next person of a name ("celine.durand.2@", "celine.durand.3@",
 * "celine.durand@"). */
static int one_edit(const char *a, uint32_t na, const char *b, uint32_t nb, int digits)
{
	if (na + 1 < nb || nb + 1 < na)
		return 0;
	uint32_t k = 0, n = na < nb ? na : nb;
	while (k < n && a[k] == b[k])
		k++;
	if (na == nb) {
		if (k + 1 < na && a[k] == b[k + 1] && a[k + 1] == b[k])   /* swapped */
			return memcmp(a + k + 2, b + k + 2, na - k - 2) == 0;
		if (k >= na || (!digits && (is_digit(a[k]) || is_digit(b[k]))))
			return 0;
		return memcmp(a + k + 1, b + k + 1, na - k - 1) == 0;
	}
	if (na > nb)     /* a has one byte more: drop a[k] */
		return (digits || !is_digit(a[k])) && memcmp(a + k + 1, b + k, nb - k) == 0;
	return (digits || !is_digit(b[k])) && memcmp(a + k, b + k + 1, na - k) == 0;
}

/* Phones: equal, one edit apart (a digit mistyped, dropped or two
 * swapped), or different. */
static unsigned phone_level(const char *a, uint32_t na, const char *b, uint32_t nb)
{
	if (!na || !nb)
		return CLN_L_MISSING;
	if (na == nb && memcmp(a, b, na) == 0)
		return CLN_L_EXACT;
	return one_edit(a, na, b, nb, 1) ? CLN_L_CLOSE : CLN_L_DIFFERENT;
}

/* a[0..n) without dots, underscores and hyphens into out (n bytes). */
static uint32_t strip_punct(const char *a, uint32_t n, char *out)
{
	uint32_t m = 0;
	for (uint32_t k = 0; k < n; k++)
		if (a[k] != '.' && a[k] != '_' && a[k] != '-')
			out[m++] = a[k];
	return m;
}

/* E-mail addresses: equal; close when one typing slip apart (not in a
 * digit: see one_edit), or when the local parts are the same but for dots,
 * underscores and hyphens and the domains are equal or one slip apart
 * ("tkachenkotaras.2@gmial.com": gmail ignores the dot, gmial does not);
 * else different. Jaro-Winkler would call addresses made from the same
 * name alike ("john.brown73@" and "john.brown12@"): two people. */
static unsigned email_level(const char *a, uint32_t na, const char *b, uint32_t nb)
{
	if (!na || !nb)
		return CLN_L_MISSING;
	if (na == nb && memcmp(a, b, na) == 0)
		return CLN_L_EXACT;
	if (one_edit(a, na, b, nb, 0))
		return CLN_L_CLOSE;
	const char *ata = memchr(a, '@', na), *atb = memchr(b, '@', nb);
	char la[256], lb[256];
	if (!ata || !atb || ata - a > 255 || atb - b > 255)
		return CLN_L_DIFFERENT;
	uint32_t ma = strip_punct(a, (uint32_t)(ata - a), la);
	uint32_t mb = strip_punct(b, (uint32_t)(atb - b), lb);
	if (ma != mb || memcmp(la, lb, ma) != 0)
		return CLN_L_DIFFERENT;
	const char *da = ata + 1, *db = atb + 1;
	uint32_t nda = na - (uint32_t)(da - a), ndb = nb - (uint32_t)(db - b);
	if ((nda == ndb && memcmp(da, db, nda) == 0) || one_edit(da, nda, db, ndb, 0))
		return CLN_L_CLOSE;
	return CLN_L_DIFFERENT;
}

/* The name levels of pairs of names met before, by the names' hashes: the
 * common names meet each other again and again (namesakes in the name
 * blocks), and Jaro-Winkler is the costliest part of a comparison. One per
 * thread; direct-mapped, an entry replaced by the next pair that maps to
 * it. */
#define NAME_CACHE 65536
struct name_cache {
	uint64_t a[NAME_CACHE], b[NAME_CACHE];   /* the two hashes (a < b); 0: empty */
	uint8_t level[NAME_CACHE];
};

static unsigned name_level(const struct eng *e, uint32_t i, uint32_t j, struct name_cache *nc)
{
	const struct nrec *x = &e->nr[i], *y = &e->nr[j];
	const char *p = e->pool;
	uint64_t ha = e->h_name[i], hb = e->h_name[j];
	size_t slot = 0;
	if (nc && ha && hb && ha != hb) {
		if (ha > hb) {
			uint64_t t = ha;
			ha = hb;
			hb = t;
		}
		slot = (size_t)((ha * 0x9e3779b97f4a7c15ULL ^ hb) >> 48) % NAME_CACHE;
		if (nc->a[slot] == ha && nc->b[slot] == hb)
			return nc->level[slot];
	} else {
		nc = NULL;
	}
	unsigned l = text_level(p + x->t[NT_NAME].off, x->t[NT_NAME].len, p + y->t[NT_NAME].off,
				y->t[NT_NAME].len, 2, &x->sig[SIG_NAME], &y->sig[SIG_NAME]);
	if (nc) {
		nc->a[slot] = ha;
		nc->b[slot] = hb;
		nc->level[slot] = (uint8_t)l;
	}
	return l;
}

/* The comparison pattern of records i and j (nc: the thread's name cache,
 * or NULL). */
static uint32_t compare(const struct eng *e, uint32_t i, uint32_t j, struct name_cache *nc)
{
	const struct nrec *x = &e->nr[i], *y = &e->nr[j];
	const char *p = e->pool;
#define TL(f, jw, g) text_level(p + x->t[f].off, x->t[f].len, p + y->t[f].off, y->t[f].len, \
				jw, (g) < 0 ? NULL : &x->sig[g], (g) < 0 ? NULL : &y->sig[g])
	unsigned lv[CLN_F_N];
	lv[CLN_F_NAME] = name_level(e, i, j, nc);
	lv[CLN_F_EMAIL] = email_level(p + x->t[NT_EMAIL].off, x->t[NT_EMAIL].len,
				      p + y->t[NT_EMAIL].off, y->t[NT_EMAIL].len);
	lv[CLN_F_PHONE] = phone_level(p + x->t[NT_PHONE].off, x->t[NT_PHONE].len,
				      p + y->t[NT_PHONE].off, y->t[NT_PHONE].len);
	lv[CLN_F_ADDRESS] = TL(NT_ADDRESS, 2, SIG_ADDRESS);
	lv[CLN_F_POSTCODE] = TL(NT_POSTCODE, 0, -1);
	lv[CLN_F_CITY] = TL(NT_CITY, 1, SIG_CITY);
	switch (cl_date_compare(x->birth, y->birth)) {
	case CL_DATE_EXACT: lv[CLN_F_BIRTH_DATE] = CLN_L_EXACT; break;
	case CL_DATE_SWAPPED: lv[CLN_F_BIRTH_DATE] = CLN_L_CLOSE; break;
	case CL_DATE_DIFFERENT: lv[CLN_F_BIRTH_DATE] = CLN_L_DIFFERENT; break;
	default: lv[CLN_F_BIRTH_DATE] = CLN_L_MISSING; break;
	}
	lv[CLN_F_GENDER] = TL(NT_GENDER, 0, -1);
#undef TL
	/* one place, said once: the same street address says the postcode and
	 * the city, the same postcode the city */
	int same_street = lv[CLN_F_ADDRESS] == CLN_L_EXACT;
	int same_postcode = lv[CLN_F_POSTCODE] == CLN_L_EXACT;
	if (same_street && same_postcode)
		lv[CLN_F_POSTCODE] = CLN_L_IMPLIED;
	if (lv[CLN_F_CITY] == CLN_L_EXACT && (same_street || same_postcode))
		lv[CLN_F_CITY] = CLN_L_IMPLIED;
	uint32_t pat = 0;
	for (int f = CLN_F_N - 1; f >= 0; f--)
		pat = pat * CLN_N_LEVELS + lv[f];
	return pat;
}

static unsigned pat_level(uint32_t pat, int f)
{
	for (int k = 0; k < f; k++)
		pat /= CLN_N_LEVELS;
	return pat % CLN_N_LEVELS;
}

/* ------------------------------------------------------ candidate pairs */

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

static int u32_push(struct u32vec *c, uint32_t x)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		uint32_t *v = xreallocn(c->v, cap, sizeof *v);
		if (!v)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = x;
	return 0;
}

/* The records to compare record i with, ascending and distinct: the later
 * members of its blocks (in a sub-blocked block, the ones within the window
 * of it), those >= n_old when i is old. sample: only old records after i
 * (pairs for EM of old records, not stored). */
static int gather(const struct eng *e, uint32_t i, int sample, struct u32vec *c)
{
	const uint32_t n_old = (uint32_t)e->n_old;
	const size_t w = e->o.window;
	c->n = 0;
	for (size_t k = e->memb_start[i]; k < e->memb_start[i + 1]; k++) {
		const struct block *b = &e->blk[e->memb[k].blk];
		const uint32_t *mm = e->member + b->start;
		size_t pos = e->memb[k].pos, q;
		if (!b->capped) {
			q = pos + 1;
			if (!sample && i < n_old) {
				/* members ascend: the first new one by bisection */
				size_t lo = q, hi = b->size;
				while (lo < hi) {
					size_t mid = lo + (hi - lo) / 2;
					if (mm[mid] < n_old)
						lo = mid + 1;
					else
						hi = mid;
				}
				q = lo;
			}
			for (; q < b->size; q++) {
				uint32_t j = mm[q];
				if (sample && j >= n_old)
					break;
				if (j != i && u32_push(c, j))
					return -1;
			}
		} else {
			size_t from = pos > w ? pos - w : 0, to = pos + w < b->size ? pos + w + 1 : b->size;
			for (q = from; q < to; q++) {
				uint32_t j = mm[q];
				if (j <= i)
					continue;
				if (sample ? j >= n_old : (i < n_old && j < n_old))
					continue;
				if (u32_push(c, j))
					return -1;
			}
		}
	}
	if (c->n > 1) {
		qsort(c->v, c->n, sizeof *c->v, cmp_u32);
		size_t m = 1;
		for (size_t k = 1; k < c->n; k++)
			if (c->v[k] != c->v[m - 1])
				c->v[m++] = c->v[k];
		c->n = m;
	}
	return 0;
}

static int pvec_push(struct pvec *v, uint32_t a, uint32_t b, uint32_t pat)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct cpair *p = xreallocn(v->p, cap, sizeof *p);
		if (!p)
			return -1;
		v->p = p;
		v->cap = cap;
	}
	v->p[v->n++] = (struct cpair){ a, b, pat };
	return 0;
}

#define PREFETCH 4           /* candidates fetched ahead */

static void prefetch_rec(const struct eng *e, uint32_t j)
{
	const char *r = (const char *)&e->nr[j];
	__builtin_prefetch(r);
	__builtin_prefetch(r + 64);
	__builtin_prefetch(r + 128);
}

static void *pair_worker(void *arg)
{
	struct task *t = arg;
	struct eng *e = t->e;
	struct u32vec c = { NULL, 0, 0 };
	struct name_cache *nc = calloc(1, sizeof *nc);   /* none: slower, same result */
	size_t n_items = t->sample ? e->n_sample : e->n;
	size_t n_chunks = (n_items + CHUNK - 1) / CHUNK;
	for (;;) {
		size_t ch = atomic_fetch_add(&e->next, 1);
		if (ch >= n_chunks || t->rc)
			break;
		size_t lo = ch * CHUNK, hi = lo + CHUNK < n_items ? lo + CHUNK : n_items;
		for (size_t k = lo; k < hi && t->rc == CRM_OK; k++) {
			uint32_t i = t->sample ? e->sample[k] : (uint32_t)k;
			if (gather(e, i, t->sample, &c) != 0) {
				t->rc = CRM_ENOMEM;
				break;
			}
			/* the candidates lie anywhere in memory: fetch the record and
			 * text of one a few ahead while comparing this one */
			for (size_t q = 0; q < PREFETCH && q < c.n; q++)
				prefetch_rec(e, c.v[q]);
			for (size_t q = 0; q < c.n; q++) {
				if (q + PREFETCH < c.n)
					prefetch_rec(e, c.v[q + PREFETCH]);
				uint32_t pat = compare(e, i, c.v[q], nc);
				t->hist[pat]++;
				if (!t->sample && pvec_push(&e->chunk[ch], i, c.v[q], pat) != 0) {
					t->rc = CRM_ENOMEM;
					break;
				}
			}
		}
	}
	free(c.v);
	free(nc);
	return NULL;
}

/* Compares the candidate pairs on e->nt threads, adding their patterns to
 * e->hist (sample: the EM sample of old pairs, not stored). */
static int pairs_run(struct eng *e, int sample, struct crm_err *err)
{
	struct task t[MAX_THREADS];
	int rc = CRM_OK;
	memset(t, 0, sizeof t);
	atomic_store(&e->next, 0);
	for (int k = 0; k < e->nt; k++) {
		t[k].e = e;
		t[k].id = k;
		t[k].sample = sample;
		t[k].hist = calloc(N_PATTERNS, sizeof *t[k].hist);
		if (!t[k].hist)
			rc = CRM_ENOMEM;
	}
	if (rc == CRM_OK)
		run_tasks(pair_worker, t, e->nt);
	for (int k = 0; k < e->nt; k++) {
		if (t[k].rc)
			rc = t[k].rc;
		if (t[k].hist)
			for (size_t p = 0; p < N_PATTERNS; p++)
				e->hist[p] += t[k].hist[p];
		free(t[k].hist);
	}
	if (rc)
		return crm_err_set(err, rc, "dedupe: comparing pairs: out of memory");
	return CRM_OK;
}

/* ------------------------------------------------------------------- EM */

/* The pairs in scope: every pair of records in a full run; every pair with
 * a new record, plus the EM sample's old pairs, in an incremental one. Step
 * 2 of em_fit fits lambda and u over all of them; those not compared are
 * taken as non-matches (the blocking assumption) whose levels are spread as
 * among random pairs, and enter the M step of u as expected counts. */
struct population {
	double n_all;                          /* pairs in scope */
	double n_cand;                         /* of them compared (EM pattern counts) */
	double rest[CLN_F_N][CLN_N_LEVELS];    /* expected level counts of the others */
	double r[CLN_F_N][CLN_N_LEVELS];       /* level shares among random pairs where
	                                          both have the field: the starting u */
};

static const int field_text[CLN_F_N] = {
	[CLN_F_NAME] = NT_NAME, [CLN_F_EMAIL] = NT_EMAIL, [CLN_F_PHONE] = NT_PHONE,
	[CLN_F_ADDRESS] = NT_ADDRESS, [CLN_F_POSTCODE] = NT_POSTCODE, [CLN_F_CITY] = NT_CITY,
	[CLN_F_BIRTH_DATE] = -1, [CLN_F_GENDER] = NT_GENDER,
};

/* Exact agreement among pairs of distinct records that both have field f:
 * (sum over values of c^2 - P) / (P (P - 1)), c the value's count and P
 * the records with the field (*present); *pairs is the number of such
 * pairs. From the counts, not a sample: a random sample seldom holds two
 * records with one e-mail address. */
static int exact_share(const struct eng *e, int f, double *share, double *pairs, size_t *present)
{
	uint64_t *h = xmallocn(e->n + 1, sizeof *h);
	uint32_t *v = xmallocn(e->n + 1, sizeof *v);
	int rc = -1;
	size_t p = 0;
	if (!h || !v)
		goto done;
	for (size_t i = 0; i < e->n; i++) {
		const struct nrec *r = &e->nr[i];
		if (field_text[f] < 0) {
			if (r->birth == CRM_NA)
				continue;
			h[p] = strmap_hash((const char *)&r->birth, sizeof r->birth);
		} else {
			const struct span *sp = &r->t[field_text[f]];
			if (!sp->len)
				continue;
			h[p] = strmap_hash(e->pool + sp->off, sp->len);
		}
		v[p++] = 0;
	}
	if (radix_sort(h, v, p) != 0)
		goto done;
	double sum = 0;
	for (size_t s = 0; s < p;) {
		size_t q = s + 1;
		while (q < p && h[q] == h[s])
			q++;
		sum += (double)(q - s) * (double)(q - s - 1);
		s = q;
	}
	*share = p > 1 ? sum / ((double)p * (double)(p - 1)) : 0;
	*pairs = sum / 2;
	*present = p;
	rc = 0;
done:
	free(h);
	free(v);
	return rc;
}

static void add_levels(double cnt[CLN_F_N][CLN_N_LEVELS], uint32_t pat, double w)
{
	for (int f = 0; f < CLN_F_N; f++) {
		cnt[f][pat % CLN_N_LEVELS] += w;
		pat /= CLN_N_LEVELS;
	}
}

/* Fills p: the pairs in scope, and the level counts of those not compared,
 * exactly by enumeration when there are few pairs, else from random pairs
 * and the exact-agreement shares. stride: the EM sample's, 0 for none. */
static int population_make(const struct eng *e, size_t stride, struct population *p)
{
	double n = (double)e->n, n_old = (double)e->n_old, n_new = n - n_old;
	double cand[CLN_F_N][CLN_N_LEVELS], cnt[CLN_F_N][CLN_N_LEVELS];
	memset(p, 0, sizeof *p);
	memset(cand, 0, sizeof cand);
	memset(cnt, 0, sizeof cnt);
	p->n_all = n_new * n_old + n_new * (n_new - 1) / 2;
	if (stride)
		for (size_t i = 0; i < e->n_old; i += stride)
			p->n_all += (double)(e->n_old - 1 - i);
	for (uint32_t pat = 0; pat < N_PATTERNS; pat++)
		if (e->hist[pat]) {
			p->n_cand += (double)e->hist[pat];
			add_levels(cand, pat, (double)e->hist[pat]);
		}
	if (p->n_all <= RANDOM_PAIRS) {
		/* few: every pair in scope, and the rest is exactly all minus compared */
		for (uint32_t j = (uint32_t)e->n_old; j < e->n; j++)
			for (uint32_t i = 0; i < j; i++)
				add_levels(cnt, compare(e, i, j, NULL), 1);
		for (uint32_t i = 0; stride && i < e->n_old; i += (uint32_t)stride)
			for (uint32_t j = i + 1; j < e->n_old; j++)
				add_levels(cnt, compare(e, i, j, NULL), 1);
		for (int f = 0; f < CLN_F_N; f++) {
			double tot = 0, nl = 0;
			for (int l = 1; l < CLN_N_LEVELS; l++) {
				if (!(field_levels[f] & LV(l)))
					continue;
				p->rest[f][l] = fmax(0, cnt[f][l] - cand[f][l]);
				tot += cnt[f][l];
				nl++;
			}
			for (int l = 1; l < CLN_N_LEVELS; l++)
				if (field_levels[f] & LV(l))
					p->r[f][l] = (cnt[f][l] + 0.5) / (tot + 0.5 * nl);
		}
		return 0;
	}
	/* many: the levels of random pairs with a new record (xorshift64*, a
	 * fixed seed: the same result every run) */
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	size_t lo = e->n_old < e->n ? e->n_old : 0;
	for (int k = 0; k < RANDOM_PAIRS; k++) {
		uint32_t ij[2];
		for (int h = 0; h < 2; h++) {
			s ^= s >> 12;
			s ^= s << 25;
			s ^= s >> 27;
			uint64_t x = (s * 0x2545f4914f6cdd1dULL) >> 32;
			ij[h] = (uint32_t)(h == 0 ? lo + x % (e->n - lo) : x % e->n);
		}
		if (ij[0] != ij[1])
			add_levels(cnt, compare(e, ij[0], ij[1], NULL), 1);
	}
	/* the pairs not compared: those with the field, less the compared
	 * ones; of them the exact agreements, less the compared ones (pairs
	 * of one e-mail address are all compared: none is left), the rest
	 * spread over the other levels as among the random pairs */
	double all_pairs = n * (n - 1) / 2, scope = all_pairs > 0 ? p->n_all / all_pairs : 0;
	for (int f = 0; f < CLN_F_N; f++) {
		double ex = 0, ex_pairs = 0, tot = 0, nl = 0;
		size_t present = 0;
		if (exact_share(e, f, &ex, &ex_pairs, &present) != 0)
			return -1;
		for (int l = CLN_L_EXACT + 1; l < CLN_N_LEVELS; l++)
			if (field_levels[f] & LV(l)) {
				tot += cnt[f][l];
				nl++;
			}
		double q = (double)present * ((double)present - 1) / (n * (n - 1));
		double cand_present = cand[f][CLN_L_IMPLIED], cand_exact = cand[f][CLN_L_EXACT] +
			cand[f][CLN_L_IMPLIED];
		for (int l = 1; l < CLN_N_LEVELS; l++)
			if (field_levels[f] & LV(l))
				cand_present += cand[f][l];
		double rest = fmax(0, p->n_all * q - cand_present);
		double rest_exact = fmin(rest, fmax(0, ex_pairs * scope - cand_exact));
		p->r[f][CLN_L_EXACT] = ex;
		p->rest[f][CLN_L_EXACT] = rest_exact;
		for (int l = CLN_L_EXACT + 1; l < CLN_N_LEVELS; l++) {
			if (!(field_levels[f] & LV(l)))
				continue;
			double share = (cnt[f][l] + 0.5) / (tot + 0.5 * nl);
			p->r[f][l] = (1 - ex) * share;
			p->rest[f][l] = (rest - rest_exact) * share;
		}
	}
	return 0;
}

/* Starting m: agreement likely among matches (0.9 exact), shared out over
 * the levels field f has. */
static void m_start(double m0[CLN_F_N][CLN_N_LEVELS])
{
	static const double share[CLN_N_LEVELS] = { 0, 0.90, 0.05, 0.02, 0.03 };
	for (int f = 0; f < CLN_F_N; f++) {
		double s = 0;
		for (int l = 1; l < CLN_N_LEVELS; l++)
			if (field_levels[f] & LV(l))
				s += share[l];
		for (int l = 0; l < CLN_N_LEVELS; l++)
			m0[f][l] = field_levels[f] & LV(l) ? share[l] / s : 0;
	}
}

static double clampp(double p)
{
	return p < PROB_FLOOR ? PROB_FLOOR : p > 1 - PROB_FLOOR ? 1 - PROB_FLOOR : p;
}

struct em_pat {
	uint8_t lv[CLN_F_N];
	double n;                /* pairs with this pattern */
};

/* One EM fit of the two-class mixture with the fields independent given
 * the class (Winkler 1988; Jaro 1989, JASA 84:414-420, section 3) over the
 * pattern counts ps[0..n_pat) and, when rest is not NULL, the pairs not
 * compared, taken as non-matches with those expected level counts; n_all
 * is the number of pairs in all. E step: g = lambda prod m / (lambda prod m
 * + (1 - lambda) prod u) for each pattern, in log space, a missing field
 * left out of both products. M step: lambda = sum g / n_all; m[f][l] = sum
 * of g over pairs with level l in f / over pairs with f not missing (when
 * fit_m); u the same with 1 - g; only the fields of the mask fields are
 * updated (the others are missing in ps). Each update of a field adds EM_PRIOR
 * pseudo-pairs spread as m0 and u0 (a Dirichlet prior: MAP EM), so that a
 * level no pair shows keeps a small probability. Stops when no m or u moves
 * by EM_TOL and lambda by EM_TOL of itself; returns 1 if so, 0 after
 * EM_MAX_ITER. */
static int em_run(const struct em_pat *ps, size_t n_pat, double n_all,
		  const double (*rest)[CLN_N_LEVELS], int fit_m, unsigned fields,
		  const double (*m0)[CLN_N_LEVELS], const double (*u0)[CLN_N_LEVELS],
		  double (*m)[CLN_N_LEVELS], double (*u)[CLN_N_LEVELS], double *lambda,
		  double lambda_max, int *iterations)
{
	for (int it = 1; it <= EM_MAX_ITER; it++) {
		double am[CLN_F_N][CLN_N_LEVELS], au[CLN_F_N][CLN_N_LEVELS], g_sum = 0;
		double lm[CLN_F_N][CLN_N_LEVELS], lu[CLN_F_N][CLN_N_LEVELS];
		memset(am, 0, sizeof am);
		memset(au, 0, sizeof au);
		for (int f = 0; f < CLN_F_N; f++)
			for (int l = 0; l < CLN_N_LEVELS; l++) {
				lm[f][l] = l && m[f][l] > 0 ? log(m[f][l]) : 0;
				lu[f][l] = l && u[f][l] > 0 ? log(u[f][l]) : 0;
			}
		double l1 = log(*lambda), l0 = log1p(-*lambda);
		for (size_t k = 0; k < n_pat; k++) {
			double sm = l1, su = l0;
			for (int f = 0; f < CLN_F_N; f++) {
				sm += lm[f][ps[k].lv[f]];
				su += lu[f][ps[k].lv[f]];
			}
			double g = 1 / (1 + exp(su - sm));   /* exp of a large x is inf: g = 0 */
			double ng = ps[k].n * g, nu = ps[k].n - ng;
			g_sum += ng;
			for (int f = 0; f < CLN_F_N; f++) {
				am[f][ps[k].lv[f]] += ng;
				au[f][ps[k].lv[f]] += nu;
			}
		}
		double lam = fmin(lambda_max, fmax(LAMBDA_FLOOR, g_sum / n_all));
		double delta = fabs(lam - *lambda) / *lambda;
		*lambda = lam;
		for (int f = 0; f < CLN_F_N; f++) {
			double sm = EM_PRIOR, su = EM_PRIOR;
			if (!(fields & (1u << f)))
				continue;
			for (int l = 1; l < CLN_N_LEVELS; l++) {
				if (!(field_levels[f] & LV(l)))
					continue;    /* missing and implied: not compared */
				sm += am[f][l];
				su += au[f][l] + (rest ? rest[f][l] : 0);
			}
			for (int l = 1; l < CLN_N_LEVELS; l++) {
				if (!(field_levels[f] & LV(l)))
					continue;
				double mm = clampp((am[f][l] + EM_PRIOR * m0[f][l]) / sm);
				double uu = clampp((au[f][l] + (rest ? rest[f][l] : 0) +
						    EM_PRIOR * u0[f][l]) / su);
				if (fit_m) {
					delta = fmax(delta, fabs(mm - m[f][l]));
					m[f][l] = mm;
				}
				delta = fmax(delta, fabs(uu - u[f][l]));
				u[f][l] = uu;
			}
		}
		*iterations = it;
		if (delta < EM_TOL)
			return 1;
	}
	return 0;
}

#define FB(f) (1u << (f))
#define ALL_FIELDS ((1u << CLN_F_N) - 1)

/* The two sessions that fit m, each on the compared pairs that a rule picks
 * and for the fields the rule does not use (Jaro 1989 leaves the blocking
 * fields out of the fit: picked for agreeing on them, the pairs would teach
 * nothing about them). A: agreement on an identifier teaches the rest;
 * B: namesakes born the same day or living at the same postcode teach the
 * identifiers. */
static int session_a(const uint8_t *lv)
{
	return lv[CLN_F_EMAIL] == CLN_L_EXACT || lv[CLN_F_PHONE] == CLN_L_EXACT ||
	       lv[CLN_F_ADDRESS] == CLN_L_EXACT;
}

static int session_b(const uint8_t *lv)
{
	return (lv[CLN_F_NAME] == CLN_L_EXACT || lv[CLN_F_NAME] == CLN_L_CLOSE) &&
	       (lv[CLN_F_BIRTH_DATE] == CLN_L_EXACT || lv[CLN_F_POSTCODE] == CLN_L_EXACT ||
		lv[CLN_F_POSTCODE] == CLN_L_IMPLIED);
}

static const struct {
	int (*pick)(const uint8_t *lv);
	unsigned fields;          /* the fields it fits */
} sessions[2] = {
	{ session_a, FB(CLN_F_NAME) | FB(CLN_F_POSTCODE) | FB(CLN_F_CITY) |
		     FB(CLN_F_BIRTH_DATE) | FB(CLN_F_GENDER) },
	{ session_b, FB(CLN_F_EMAIL) | FB(CLN_F_PHONE) | FB(CLN_F_ADDRESS) },
};

/* Fits the model (docs/CLEAN.md, "Scoring"):
 * 1. m by EM in two sessions (above), each with a u and lambda of its own
 *    that are not kept. EM finds the two classes where matches are a good
 *    share of the pairs (Winkler 1988 and 1993 block for that): fitted on
 *    all the candidates, most of them namesakes from the name blocks, it
 *    found "same name" instead of "same person" (on 100,000 demo
 *    customers: precision 0.007).
 * 2. lambda and u by EM with m held, over every pair in scope: the
 *    compared ones, and the others as non-matches spread as random pairs
 *    (pop). Fellegi and Sunter (1969) define u over all pairs; splink
 *    takes u from random pairs for the same reason (Linacre et al. 2022). */
static int em_fit(struct eng *e, const struct population *pop, struct cln_dedupe_result *res)
{
	double m0[CLN_F_N][CLN_N_LEVELS], u_s[CLN_F_N][CLN_N_LEVELS];
	size_t n_pat = 0;
	for (size_t p = 0; p < N_PATTERNS; p++)
		if (e->hist[p])
			n_pat++;
	struct em_pat *ps = xmallocn(n_pat + 1, sizeof *ps);
	struct em_pat *sel = xmallocn(n_pat + 1, sizeof *sel);
	if (!ps || !sel) {
		free(ps);
		free(sel);
		return -1;
	}
	n_pat = 0;
	for (uint32_t p = 0; p < N_PATTERNS; p++) {
		if (!e->hist[p])
			continue;
		for (int f = 0; f < CLN_F_N; f++)
			ps[n_pat].lv[f] = (uint8_t)pat_level(p, f);
		ps[n_pat++].n = (double)e->hist[p];
	}
	m_start(m0);
	memcpy(e->m, m0, sizeof m0);
	memcpy(e->u, pop->r, sizeof pop->r);
	res->em_converged = 1;
	e->lambda = 0;
	if (pop->n_cand == 0 || pop->n_all == 0) {
		res->em_converged = 0;
		goto done;
	}
	/* 1: the sessions, each from half its pairs matching */
	double matched = 0;
	for (int s = 0; s < 2; s++) {
		size_t n_sel = 0;
		double pairs = 0;
		for (size_t k = 0; k < n_pat; k++) {
			if (!sessions[s].pick(ps[k].lv))
				continue;
			sel[n_sel] = ps[k];
			for (int f = 0; f < CLN_F_N; f++)
				if (!(sessions[s].fields & FB(f)))
					sel[n_sel].lv[f] = CLN_L_MISSING;
			pairs += ps[k].n;
			n_sel++;
		}
		res->n_train_pairs[s] = (uint64_t)pairs;
		if (pairs == 0)
			continue;      /* m stays at its start */
		double lam = 0.5;
		memcpy(u_s, pop->r, sizeof pop->r);
		res->em_converged &= em_run(sel, n_sel, pairs, NULL, 1, sessions[s].fields, m0,
					    pop->r, e->m, u_s, &lam, 1 - PROB_FLOOR,
					    &res->em_iterations[s]);
		res->train_lambda[s] = lam;
		if (s == 0)
			matched = lam * pairs;
	}
	/* 2: lambda and u over the pairs in scope, m held; a start: as many
	 * matches as session A found */
	e->lambda = fmin(0.5, fmax(LAMBDA_FLOOR, fmax(1, matched) / pop->n_all));
	res->em_converged &= em_run(ps, n_pat, pop->n_all, pop->rest, 0, ALL_FIELDS, m0, pop->r,
				    e->m, e->u, &e->lambda, 0.5, &res->scope_iterations);
done:
	free(ps);
	free(sel);
	return 0;
}

/* ------------------------------------------------------------- clusters */

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];   /* path halving */
		x = parent[x];
	}
	return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = uf_find(parent, a);
	b = uf_find(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

/* The weight of pair pr, with the field weights of its levels
 * (term-frequency adjusted). */
static double pair_weight(const struct eng *e, const struct cpair *pr, float *fw, uint8_t *lv)
{
	double w = 0;
	uint32_t pat = pr->pat;
	for (int f = 0; f < CLN_F_N; f++) {
		unsigned l = pat % CLN_N_LEVELS;
		pat /= CLN_N_LEVELS;
		double x = e->w[f][l];
		if (l == CLN_L_EXACT && f == CLN_F_NAME)
			x += e->tf_name[pr->a];
		else if (l == CLN_L_EXACT && f == CLN_F_CITY)
			x += e->tf_city[pr->a];
		if (fw)
			fw[f] = (float)x;
		if (lv)
			lv[f] = (uint8_t)l;
		w += x;
	}
	return w;
}

/* P(match) from the prior log-odds and the weight, both log2. */
static double prob_of(double prior, double w)
{
	double x = prior + w;
	if (x > 1000)
		return 1;
	return 1 / (1 + exp2(-x));
}

/* Scores every stored pair; keeps those from the review threshold, joins
 * those from the threshold into clusters. */
static int score_and_cluster(struct eng *e, struct cln_dedupe_result *res)
{
	uint32_t *parent = xmallocn(e->n + 1, sizeof *parent);
	uint32_t *cl_of = NULL, *size = NULL;
	int rc = -1;
	if (!parent)
		return -1;
	for (size_t i = 0; i < e->n; i++)
		parent[i] = (uint32_t)i;
	double prior = e->lambda > 0 ? log2(e->lambda) - log2(1 - e->lambda) : -INFINITY;
	double thr = e->o.threshold, rthr = e->o.review_threshold;
	size_t n_rev = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t c = 0; c < e->n_chunks; c++)
			for (size_t k = 0; k < e->chunk[c].n; k++) {
				const struct cpair *pr = &e->chunk[c].p[k];
				if (pass == 0) {
					double p = prob_of(prior, pair_weight(e, pr, NULL, NULL));
					if (p >= rthr)
						n_rev++;
					if (p >= thr) {
						res->n_matches++;
						uf_union(parent, pr->a, pr->b);
					}
					continue;
				}
				struct cln_pair *out = &res->pairs[res->n_review];
				out->weight = pair_weight(e, pr, out->field_weight, out->level);
				out->prob = prob_of(prior, out->weight);
				if (out->prob < rthr)
					continue;
				out->a = pr->a;
				out->b = pr->b;
				res->n_review++;
			}
		if (pass == 0) {
			res->pairs = xmallocn(n_rev + 1, sizeof *res->pairs);
			if (!res->pairs)
				goto done;
		}
	}

	/* clusters: components of two or more, numbered by their first member */
	cl_of = xmallocn(e->n + 1, sizeof *cl_of);
	size = calloc(e->n + 1, sizeof *size);
	if (!cl_of || !size)
		goto done;
	for (size_t i = 0; i < e->n; i++)
		size[uf_find(parent, (uint32_t)i)]++;
	size_t n_cl = 0, n_mem = 0;
	for (size_t i = 0; i < e->n; i++) {
		uint32_t r = uf_find(parent, (uint32_t)i);
		cl_of[i] = UINT32_MAX;
		if (size[r] < 2)
			continue;
		if (r == i)        /* the root is the smallest member: it comes first */
			cl_of[i] = (uint32_t)n_cl++;
		else
			cl_of[i] = cl_of[r];
		n_mem++;
	}
	res->n_clusters = n_cl;
	res->cluster_start = calloc(n_cl + 1, sizeof *res->cluster_start);
	res->cluster_member = xmallocn(n_mem + 1, sizeof *res->cluster_member);
	res->cluster_prob = xmallocn(n_cl + 1, sizeof *res->cluster_prob);
	if (!res->cluster_start || !res->cluster_member || !res->cluster_prob)
		goto done;
	for (size_t i = 0; i < e->n; i++)
		if (cl_of[i] != UINT32_MAX)
			res->cluster_start[cl_of[i] + 1]++;
	for (size_t c = 0; c < n_cl; c++) {
		res->cluster_start[c + 1] += res->cluster_start[c];
		res->cluster_prob[c] = 1;
	}
	for (size_t i = 0; i < e->n; i++)
		if (cl_of[i] != UINT32_MAX)
			res->cluster_member[res->cluster_start[cl_of[i]]++] = (uint32_t)i;
	for (size_t c = n_cl; c > 0; c--)
		res->cluster_start[c] = res->cluster_start[c - 1];
	res->cluster_start[0] = 0;
	for (size_t k = 0; k < res->n_review; k++) {
		const struct cln_pair *p = &res->pairs[k];
		if (p->prob >= thr && p->prob < res->cluster_prob[cl_of[p->a]])
			res->cluster_prob[cl_of[p->a]] = p->prob;
	}
	rc = 0;
done:
	free(parent);
	free(cl_of);
	free(size);
	return rc;
}

/* ------------------------------------------------------------------ run */

/* Seconds since *t0, and *t0 moved to now (CLOCK_MONOTONIC). */
static double lap(struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double s = (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
	*t0 = t;
	return s;
}

static void eng_fini(struct eng *e)
{
	free(e->nr);
	free(e->pool);
	free(e->h_name);
	free(e->h_city);
	free(e->tf_name);
	free(e->tf_city);
	free(e->key);
	free(e->key_rec);
	free(e->blk);
	free(e->member);
	free(e->memb_start);
	free(e->memb);
	if (e->chunk)
		for (size_t c = 0; c < e->n_chunks; c++)
			free(e->chunk[c].p);
	free(e->chunk);
	free(e->sample);
	free(e->hist);
}

void cln_dedupe_result_free(struct cln_dedupe_result *r)
{
	if (!r)
		return;
	free(r->pairs);
	free(r->cluster_start);
	free(r->cluster_member);
	free(r->cluster_prob);
	free(r);
}

int cln_dedupe_run(const struct cln_customer *recs, size_t n,
		   const struct cln_dedupe_opts *o, struct cln_dedupe_result **out,
		   struct crm_err *err)
{
	struct eng e;
	struct cln_dedupe_result *res = NULL;
	int rc = CRM_OK;
	*out = NULL;
	memset(&e, 0, sizeof e);
	if (!o || !(o->threshold > 0 && o->threshold <= 1) ||
	    !(o->review_threshold > 0 && o->review_threshold <= 1))
		return crm_err_set(err, CRM_EINVAL, "dedupe: a threshold is not in (0, 1]");
	if (n >= UINT32_MAX || o->n_old > n)
		return crm_err_set(err, CRM_EINVAL, "dedupe: %zu customers (%zu old): out of range",
				   n, o ? o->n_old : 0);
	for (size_t i = 0; i < n; i++)
		if (!recs[i].text[CLN_T_ID] || !recs[i].text[CLN_T_ID][0])
			return crm_err_set(err, CRM_EINVAL, "dedupe: customer %zu: field customer_id:"
					   " missing", i + 1);
	e.recs = recs;
	e.n = n;
	e.n_old = o->n_old;
	e.o = *o;
	if (e.o.review_threshold > e.o.threshold)
		e.o.review_threshold = e.o.threshold;
	if (!e.o.block_cap)
		e.o.block_cap = DEF_CAP;
	if (e.o.block_cap < 2)
		e.o.block_cap = 2;
	e.nt = o->threads < 1 ? DEF_THREADS : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
	if ((size_t)e.nt > n / 64 + 1)   /* small sets: not worth a thread */
		e.nt = (int)(n / 64 + 1);
	res = calloc(1, sizeof *res);
	e.hist = calloc(N_PATTERNS, sizeof *e.hist);
	e.tf_name = xmallocn(n + 1, sizeof *e.tf_name);
	e.tf_city = xmallocn(n + 1, sizeof *e.tf_city);
	e.n_chunks = (n + CHUNK - 1) / CHUNK;
	e.chunk = calloc(e.n_chunks + 1, sizeof *e.chunk);
	if (!res || !e.hist || !e.tf_name || !e.tf_city || !e.chunk) {
		rc = crm_err_set(err, CRM_ENOMEM, "dedupe: out of memory");
		goto done;
	}
	res->threshold = e.o.threshold;
	res->review_threshold = e.o.review_threshold;
	res->n_records = n;
	res->n_new = n - e.n_old;

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = normalise_all(&e, err);
	if (rc)
		goto done;
	if (term_freq(e.h_name, n, e.tf_name) != 0 || term_freq(e.h_city, n, e.tf_city) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "dedupe: term frequencies: out of memory");
		goto done;
	}
	res->seconds[CLN_T_NORMALISE] = lap(&t0);
	rc = build_blocks(&e, res, err);
	if (rc)
		goto done;
	res->seconds[CLN_T_BLOCK] = lap(&t0);
	rc = pairs_run(&e, 0, err);
	if (rc)
		goto done;
	for (size_t c = 0; c < e.n_chunks; c++)
		res->n_pairs += e.chunk[c].n;
	res->n_em_pairs = res->n_pairs;
	res->seconds[CLN_T_COMPARE] = lap(&t0);

	/* few new pairs: EM also sees the old pairs of a sample of old records
	 * (none: nothing to score, nothing to fit) */
	size_t stride = 0;
	if (res->n_pairs && e.n_old > 1 && res->n_pairs < EM_MIN_PAIRS) {
		stride = e.n_old / EM_SAMPLE_RECORDS + 1;
		e.sample = xmallocn(e.n_old / stride + 1, sizeof *e.sample);
		if (!e.sample) {
			rc = crm_err_set(err, CRM_ENOMEM, "dedupe: out of memory");
			goto done;
		}
		for (size_t i = 0; i < e.n_old; i += stride)
			e.sample[e.n_sample++] = (uint32_t)i;
		rc = pairs_run(&e, 1, err);
		if (rc)
			goto done;
		res->n_em_pairs = 0;
		for (size_t p = 0; p < N_PATTERNS; p++)
			res->n_em_pairs += e.hist[p];
	}
	struct population pop;
	memset(&pop, 0, sizeof pop);
	if (res->n_pairs && (population_make(&e, stride, &pop) != 0 || em_fit(&e, &pop, res) != 0)) {
		rc = crm_err_set(err, CRM_ENOMEM, "dedupe: EM: out of memory");
		goto done;
	}
	res->n_scope_pairs = pop.n_all;
	res->seconds[CLN_T_FIT] = lap(&t0);
	res->lambda = e.lambda;
	for (int f = 0; f < CLN_F_N; f++)
		for (int l = 0; l < CLN_N_LEVELS; l++) {
			int used = l && (field_levels[f] & LV(l));
			res->m[f][l] = used ? e.m[f][l] : 0;
			res->u[f][l] = used ? e.u[f][l] : 0;
			e.w[f][l] = used && e.m[f][l] > 0 && e.u[f][l] > 0
				? log2(e.m[f][l]) - log2(e.u[f][l]) : 0;
		}
	if (score_and_cluster(&e, res) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "dedupe: scoring: out of memory");
		goto done;
	}
	res->seconds[CLN_T_SCORE] = lap(&t0);
	*out = res;
	res = NULL;
done:
	eng_fini(&e);
	cln_dedupe_result_free(res);
	return rc;
}
