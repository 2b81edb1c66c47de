/* lexicon.c - sentiment lexicons and stop words read from data files, and
 * the tokenizer they share (metrics layer). See lexicon.h for the rules and
 * data/lexicon/README.md for the file formats. A lexicon is a hash map
 * from a folded word or phrase to its entry; scoring a text is one pass over
 * its tokens with one lookup per token (two or three more only after a
 * token that starts a phrase). */
#include "lexicon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "core/err.h"
#include "core/strmap.h"

#define NEG_SCOPE 3          /* tokens after a negator whose sign it flips */
#define MAX_PHRASE 3         /* words in a phrase entry */
#define SCORE_MAX 5          /* entries score -5..5 */

struct lex_entry {
	int8_t score;            /* -5..5, not 0; 0 for negators and heads */
	uint8_t word;            /* 1: the key is an entry of the file */
	uint8_t negator;         /* 1: a negator */
	uint8_t phrase_head;     /* 1: a phrase entry starts with this word */
};

struct mx_lexicon {
	struct strmap words;     /* folded word or phrase -> index into ent */
	struct lex_entry *ent;   /* n_ent entries (cap_ent allocated) */
	size_t n_ent, cap_ent;
	size_t n_file;           /* entries of the file (heads not counted) */
	struct strmap stop;      /* stop words (values unused) */
	char path[1024];         /* the lexicon file read */
};

/* ------------------------------------------------------------- tokenizer */

enum { CH_OTHER = 0, CH_WORD, CH_APOS, CH_HYPHEN, CH_BREAK };

static int char_class(int32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
			return CH_WORD;
		switch (cp) {
		case '\'': return CH_APOS;
		case '-': return CH_HYPHEN;
		case '.': case ',': case ';': case ':': case '!': case '?': case '\n':
			return CH_BREAK;
		default: return CH_OTHER;
		}
	}
	switch (cp) {
	case 0x2019: case 0x02BC: return CH_APOS;     /* right single quote, modifier apostrophe */
	case 0x2010: case 0x2011: return CH_HYPHEN;   /* hyphen, non-breaking hyphen */
	case 0x2026: case 0x037E: case 0x00A1: case 0x00BF: case 0x3001: case 0x3002:
	case 0xFF01: case 0xFF0C: case 0xFF0E: case 0xFF1A: case 0xFF1B: case 0xFF1F:
	case 0x2028: case 0x2029:
		return CH_BREAK;  /* ellipsis, Greek ";", inverted ! ?, CJK and full-width marks */
	default:
		break;
	}
	int cat = (int)utf8proc_category(cp);
	if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO)
		return CH_WORD;   /* letters, marks, numbers */
	return CH_OTHER;
}

void mx_tokens_init(struct mx_tokens *tk)
{
	buf_init(&tk->text);
	tk->v = NULL;
	tk->n = tk->cap = 0;
}

void mx_tokens_fini(struct mx_tokens *tk)
{
	buf_fini(&tk->text);
	free(tk->v);
	tk->v = NULL;
	tk->n = tk->cap = 0;
}

/* Decodes the code point at s[0..n): its length (>= 1), or 0 when the
 * bytes are not valid UTF-8 (then *cp is -1). */
static size_t decode(const char *s, size_t n, int32_t *cp)
{
	unsigned char b = (unsigned char)s[0];
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	utf8proc_int32_t c;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s,
					      (utf8proc_ssize_t)(n < 8 ? n : 8), &c);
	if (k <= 0) {
		*cp = -1;
		return 0;
	}
	*cp = c;
	return (size_t)k;
}

int mx_tokenize(struct mx_tokens *tk, const char *s, size_t n)
{
	tk->n = 0;
	tk->text.len = 0;
	/* folding a code point can lengthen it by half (2 -> 3 bytes), and each
	 * token adds one separator: 2 n + 8 bytes always suffice */
	if (n > (SIZE_MAX - 16) / 2 || buf_reserve(&tk->text, 2 * n + 8) != 0)
		return -1;
	char *out = tk->text.p;
	size_t len = 0;
	int in_tok = 0, brk = 0;
	struct mx_token *cur = NULL;
	size_t i = 0;
	while (i < n) {
		int32_t cp;
		size_t k = decode(s + i, n - i, &cp);
		int cls = k ? char_class(cp) : CH_OTHER;
		if (k == 0)
			k = 1;
		if (cls == CH_APOS || cls == CH_HYPHEN) {
			/* inside a word only when a word character follows */
			int32_t next = -1;
			if (in_tok && i + k < n && decode(s + i + k, n - i - k, &next) > 0 &&
			    char_class(next) == CH_WORD) {
				out[len++] = cls == CH_APOS ? '\'' : '-';
				i += k;
				continue;
			}
			cls = CH_OTHER;
		}
		if (cls != CH_WORD) {
			if (in_tok) {
				cur->len = len - cur->off;
				in_tok = 0;
			}
			if (cls == CH_BREAK)
				brk = 1;
			i += k;
			continue;
		}
		if (!in_tok) {
			if (tk->n == tk->cap) {
				size_t cap = tk->cap ? tk->cap * 2 : 16;
				struct mx_token *v = xreallocn(tk->v, cap, sizeof *v);
				if (!v)
					return -1;
				tk->v = v;
				tk->cap = cap;
			}
			if (tk->n > 0)
				out[len++] = ' ';
			cur = &tk->v[tk->n++];
			cur->off = len;
			cur->len = 0;
			cur->brk = brk;
			brk = 0;
			in_tok = 1;
		}
		if (cp < 0x80) {
			out[len++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
		} else {
			utf8proc_int32_t lo = utf8proc_tolower(cp);
			len += (size_t)utf8proc_encode_char(lo, (utf8proc_uint8_t *)out + len);
		}
		i += k;
	}
	if (in_tok)
		cur->len = len - cur->off;
	tk->text.len = len;
	out[len] = '\0';
	return 0;
}

/* --------------------------------------------------------------- lookups */

static const struct lex_entry *find(const struct mx_lexicon *lx, const char *p, size_t n)
{
	long k = strmap_find(&lx->words, p, n);
	return k < 0 ? NULL : &lx->ent[k];
}

double mx_lex_score(const struct mx_lexicon *lx, const struct mx_tokens *tk,
		    size_t *matched)
{
	const char *text = tk->text.p;
	double sum = 0;
	size_t m = 0, neg_end = 0;   /* tokens i < neg_end are in a negator's scope */
	size_t i = 0;
	while (i < tk->n) {
		const struct mx_token *t = &tk->v[i];
		if (t->brk)
			neg_end = 0;
		const struct lex_entry *e = find(lx, text + t->off, t->len), *hit = NULL;
		size_t len = 1;
		if (e && e->phrase_head) {
			for (size_t l = MAX_PHRASE; l >= 2 && !hit; l--) {
				if (i + l > tk->n)
					continue;
				int same_clause = 1;
				for (size_t j = i + 1; j < i + l; j++)
					same_clause &= !tk->v[j].brk;
				if (!same_clause)
					continue;
				const struct mx_token *last = &tk->v[i + l - 1];
				const struct lex_entry *ph = find(lx, text + t->off,
								  last->off + last->len - t->off);
				if (ph && ph->word) {
					hit = ph;
					len = l;
				}
			}
		}
		if (!hit && e && e->word)
			hit = e;
		if (!hit) {
			i++;
			continue;
		}
		if (hit->negator) {
			neg_end = i + 1 + NEG_SCOPE;
			i++;
			continue;
		}
		sum += i < neg_end ? -(double)hit->score : (double)hit->score;
		m++;
		i += len;
	}
	if (matched)
		*matched = m;
	return m ? sum / (double)m : NAN;
}

int mx_lex_is_stop(const struct mx_lexicon *lx, const char *w, size_t n)
{
	return lx->stop.n > 0 && strmap_find(&lx->stop, w, n) >= 0;
}

int mx_lex_is_term(const struct mx_lexicon *lx, const struct mx_tokens *tk, size_t i)
{
	const char *w = tk->text.p + tk->v[i].off;
	size_t n = tk->v[i].len;
	if (n == 1 && (unsigned char)w[0] < 0x80)
		return 0;
	size_t digits = 0;
	while (digits < n && w[digits] >= '0' && w[digits] <= '9')
		digits++;
	return digits < n && !mx_lex_is_stop(lx, w, n);
}

const char *mx_lex_path(const struct mx_lexicon *lx)
{
	return lx->path;
}

size_t mx_lex_size(const struct mx_lexicon *lx)
{
	return lx->n_file;
}

/* --------------------------------------------------------------- loading */

void mx_lex_free(struct mx_lexicon *lx)
{
	if (!lx)
		return;
	strmap_fini(&lx->words);
	strmap_fini(&lx->stop);
	free(lx->ent);
	free(lx);
}

/* Reads the whole file at path into b. 0; -1 when it cannot be opened
 * (errno tells), -2 on a read error, -3 out of memory. */
static int slurp(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	int rc = 0;
	b->len = 0;
	for (;;) {
		if (buf_reserve(b, 65536) != 0) {
			rc = -3;
			break;
		}
		size_t k = fread(b->p + b->len, 1, 65536, f);
		b->len += k;
		b->p[b->len] = '\0';
		if (k < 65536) {
			if (ferror(f))
				rc = -2;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* The entry of key p[0..n), inserted blank when new. NULL when out of memory. */
static struct lex_entry *entry_of(struct mx_lexicon *lx, const char *p, size_t n, int *added)
{
	size_t k;
	if (strmap_put(&lx->words, p, n, 0, &k, added) != 0)
		return NULL;
	if (*added) {
		if (lx->n_ent == lx->cap_ent) {
			size_t cap = lx->cap_ent ? lx->cap_ent * 2 : 256;
			struct lex_entry *v = xreallocn(lx->ent, cap, sizeof *v);
			if (!v)
				return NULL;
			lx->ent = v;
			lx->cap_ent = cap;
		}
		memset(&lx->ent[lx->n_ent++], 0, sizeof *lx->ent);
	}
	return &lx->ent[k];
}

/* Parses the score field s[0..n): "negate" (*neg = 1) or an integer
 * -5..5 other than 0. 0, or -1 with *why set. */
static int parse_score(const char *s, size_t n, int *score, int *neg, const char **why)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*neg = 0;
	*score = 0;
	if (n == 6 && memcmp(s, "negate", 6) == 0) {
		*neg = 1;
		return 0;
	}
	int sign = 1;
	size_t i = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		sign = s[i++] == '-' ? -1 : 1;
	if (i + 1 != n || s[i] < '0' || s[i] > '9') {
		*why = "the score is not an integer from -5 to 5 or \"negate\"";
		return -1;
	}
	int v = sign * (s[i] - '0');
	if (v < -SCORE_MAX || v > SCORE_MAX) {
		*why = "the score is outside -5..5";
		return -1;
	}
	if (v == 0) {
		*why = "a score of 0 adds nothing: leave the word out";
		return -1;
	}
	*score = v;
	return 0;
}

/* The line of text[0..size) at *pos into *s and *n (without its '\n'),
 * *pos moved past it; 0 when no line is left. */
static int next_line(const char *text, size_t size, size_t *pos, const char **s, size_t *n)
{
	if (*pos >= size)
		return 0;
	*s = text + *pos;
	const char *nl = memchr(*s, '\n', size - *pos);
	*n = nl ? (size_t)(nl - *s) : size - *pos;
	*pos += *n + (nl ? 1 : 0);
	return 1;
}

/* 1 when s[0..n) is only spaces and tabs, or a comment ('#' after them). */
static int blank_or_comment(const char *s, size_t n)
{
	size_t lead = 0;
	while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
		lead++;
	return lead == n || s[lead] == '#';
}

static int load_lexicon(struct mx_lexicon *lx, const char *text, size_t size,
			struct mx_tokens *tk, struct crm_err *err)
{
	long line = 0;
	size_t pos = 0, n;
	const char *s;
	while (next_line(text, size, &pos, &s, &n)) {
		line++;
		if (n && s[n - 1] == '\r')
			n--;
		if (blank_or_comment(s, n))
			continue;
		const char *tab = memchr(s, '\t', n);
		const char *why = NULL;
		int score = 0, neg = 0;
		if (!tab)
			why = "no tab between the word and its score";
		else if (parse_score(tab + 1, n - (size_t)(tab + 1 - s), &score, &neg, &why) == 0) {
			if (mx_tokenize(tk, s, (size_t)(tab - s)) != 0)
				return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", lx->path);
			if (tk->n == 0)
				why = "no word before the tab";
			else if (tk->n > MAX_PHRASE)
				why = "a phrase has at most 3 words";
			else if (neg && tk->n > 1)
				why = "a negator is one word";
			for (size_t j = 1; j < tk->n && !why; j++)
				if (tk->v[j].brk)
					why = "a phrase holds no punctuation";
		}
		if (why)
			return crm_err_set(err, CRM_EPARSE, "%s:%ld: %s", lx->path, line, why);
		int added;
		struct lex_entry *e = entry_of(lx, tk->text.p, tk->text.len, &added);
		if (!e)
			return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", lx->path);
		if (e->word)
			return crm_err_set(err, CRM_EPARSE, "%s:%ld: \"%s\" is listed twice",
					   lx->path, line, tk->text.p);
		e->word = 1;
		e->negator = (uint8_t)neg;
		e->score = (int8_t)score;
		lx->n_file++;
		if (tk->n > 1) {
			/* the first word marks that a phrase may start here */
			struct lex_entry *h = entry_of(lx, tk->text.p, tk->v[0].len, &added);
			if (!h)
				return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", lx->path);
			h->phrase_head = 1;
		}
	}
	if (lx->n_file == 0)
		return crm_err_set(err, CRM_EPARSE, "%s: no entries", lx->path);
	return CRM_OK;
}

static int load_stop(struct mx_lexicon *lx, const char *path, const char *text,
		     size_t size, struct mx_tokens *tk, struct crm_err *err)
{
	size_t pos = 0, n;
	const char *s;
	while (next_line(text, size, &pos, &s, &n)) {
		if (blank_or_comment(s, n))
			continue;
		if (mx_tokenize(tk, s, n) != 0)
			return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
		for (size_t j = 0; j < tk->n; j++) {
			size_t k;
			int added;
			if (strmap_put(&lx->stop, tk->text.p + tk->v[j].off, tk->v[j].len, 0,
				       &k, &added) != 0)
				return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
		}
	}
	return CRM_OK;
}

static int lang_ok(const char *lang)
{
	size_t n = strlen(lang);
	if (n == 0 || n > 15)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = lang[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Fills dirs with the default places to look (see lexicon.h); returns how many. */
static size_t default_dirs(char dirs[4][1024])
{
	size_t k = 0;
#ifdef CRM_DATA_DIR
	snprintf(dirs[k++], 1024, "%s/lexicon", CRM_DATA_DIR);
#endif
	snprintf(dirs[k++], 1024, "data/lexicon");
	char exe[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			static const char *const rel[] = { "../data/lexicon", "../share/crmscope/lexicon" };
			*slash = '\0';
			for (size_t i = 0; i < 2; i++) {
				char cand[1100];
				snprintf(cand, sizeof cand, "%.900s/%s", exe, rel[i]);
				/* the folder without "..", for the messages, when it exists */
				char *real = realpath(cand, NULL);
				snprintf(dirs[k++], 1024, "%.1000s", real ? real : cand);
				free(real);
			}
		}
	}
	return k;
}

int mx_lex_load(const char *dir, const char *lang, struct mx_lexicon **out,
		struct crm_err *err)
{
	struct mx_lexicon *lx = NULL;
	struct buf file;
	struct mx_tokens tk;
	char dirs[4][1024];
	size_t n_dirs;
	int rc = CRM_OK, got = -1;
	buf_init(&file);
	mx_tokens_init(&tk);
	*out = NULL;
	if (!lang)
		lang = "en";
	if (!lang_ok(lang)) {
		rc = crm_err_set(err, CRM_EINVAL,
				 "lexicon: language \"%.40s\" is not 1 to 15 of a-z, 0-9, _ and -", lang);
		goto done;
	}
	if (!(lx = calloc(1, sizeof *lx)) || strmap_init(&lx->words, 512) != 0 ||
	    strmap_init(&lx->stop, 256) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "lexicon: out of memory");
		goto done;
	}
	if (dir) {
		snprintf(dirs[0], sizeof dirs[0], "%.1000s", dir);
		n_dirs = 1;
	} else {
		n_dirs = default_dirs(dirs);
	}
	for (size_t i = 0; i < n_dirs && got != 0; i++) {
		snprintf(lx->path, sizeof lx->path, "%.990s/%s.tsv", dirs[i], lang);
		got = slurp(lx->path, &file);
		if (got == -2) {
			rc = crm_err_set(err, CRM_EIO, "%s: read error", lx->path);
			goto done;
		}
		if (got == -3) {
			rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", lx->path);
			goto done;
		}
	}
	if (got != 0) {
		char tried[CRM_ERR_MSG / 2];
		size_t at = 0;
		tried[0] = '\0';
		for (size_t i = 0; i < n_dirs && at + 1 < sizeof tried; i++) {
			int w = snprintf(tried + at, sizeof tried - at, "%s%s/%s.tsv",
					 i ? ", " : "", dirs[i], lang);
			if (w < 0)
				break;
			at += (size_t)w;
		}
		rc = crm_err_set(err, CRM_ENOTFOUND,
				 "lexicon: no sentiment lexicon for language \"%s\" (tried %s)",
				 lang, tried);
		goto done;
	}
	if ((rc = load_lexicon(lx, file.p, file.len, &tk, err)) != CRM_OK)
		goto done;
	/* the stop words beside it, if any */
	char stop_path[1100];
	size_t dl = strlen(lx->path) - strlen(lang) - 4;   /* the path up to "LANG.tsv" */
	snprintf(stop_path, sizeof stop_path, "%.*s%s.stop.txt", (int)dl, lx->path, lang);
	int sg = slurp(stop_path, &file);
	if (sg == -2 || sg == -3) {
		rc = crm_err_set(err, sg == -2 ? CRM_EIO : CRM_ENOMEM, "%s: %s", stop_path,
				 sg == -2 ? "read error" : "out of memory");
		goto done;
	}
	if (sg == 0 && (rc = load_stop(lx, stop_path, file.p, file.len, &tk, err)) != CRM_OK)
		goto done;
	*out = lx;
	lx = NULL;
done:
	mx_lex_free(lx);
	buf_fini(&file);
	mx_tokens_fini(&tk);
	return rc;
}
