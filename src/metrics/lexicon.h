/* lexicon.h - lexicon-based sentiment of short texts (metrics layer).
 *
 * Survey comments (surveys.c) and social media posts (service.c) are scored
 * with a word list per language read from a data file, LANG.tsv, and their
 * frequent terms counted without the language's stop words, LANG.stop.txt
 * (formats: data/lexicon/README.md). Text is UTF-8; it is split into
 * tokens of letters, marks and digits (an apostrophe or hyphen between two
 * of them stays inside: "don't", "e-mail") folded to lower case; clause
 * punctuation (. , ; : ! ? and their CJK forms, a line break) separates
 * clauses. A comment's sentiment is the mean score of the lexicon entries
 * found in it, -5..5, a negator ("not", "never", "no") flipping the sign of
 * entries that start within the next 3 tokens of its clause. */
#ifndef METRICS_LEXICON_H
#define METRICS_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crmscope.h"

/* One token of a text: bytes text.p[off .. off + len) of its mx_tokens. */
struct mx_token {
	size_t off, len;            /* into mx_tokens.text */
	int brk;                    /* 1: a clause break comes before it */
};

/* The tokens of one text, folded to lower case and kept one space apart in
 * text, so that tokens i..j are the bytes text.p[v[i].off .. v[j].off +
 * v[j].len). Reused from text to text without allocating again. */
struct mx_tokens {
	struct buf text;            /* folded tokens separated by one space */
	struct mx_token *v;         /* n tokens (cap allocated) */
	size_t n, cap;
};

void mx_tokens_init(struct mx_tokens *tk);
void mx_tokens_fini(struct mx_tokens *tk);

/* Splits s[0..n) (UTF-8; invalid bytes count as spaces) into tk, replacing
 * what it held. 0, or -1 when out of memory. */
int mx_tokenize(struct mx_tokens *tk, const char *s, size_t n);

/* The sentiment of a set of texts, as the families report it. */
struct mx_sentiment {
	size_t texts;            /* non-empty texts */
	size_t scored;           /* ... with a lexicon entry */
	size_t positive, negative; /* ... of sentiment > 0, < 0 */
	double mean;             /* mean sentiment of the scored texts, -5..5; NAN: none */
	double positive_pct;     /* 100 positive / texts; NAN when texts = 0 */
	double negative_pct;     /* 100 negative / texts */
};

struct mx_lexicon;

/* Reads dir/LANG.tsv and, when present, dir/LANG.stop.txt. dir NULL: the
 * first of these that holds LANG.tsv: CRM_DATA_DIR "/lexicon" when the
 * library was compiled with -DCRM_DATA_DIR=..., "data/lexicon" under the
 * current directory (the source tree), and beside the executable
 * (/proc/self/exe): ../data/lexicon (a build folder of the source tree) and
 * ../share/crmscope/lexicon (an installed prefix). lang NULL is "en"; it
 * must be 1 to 15 of [a-z0-9_-]. *out is the caller's (mx_lex_free).
 * Errors: CRM_EINVAL (bad lang), CRM_ENOTFOUND (no lexicon file: the
 * message names the paths tried), CRM_EIO, CRM_EPARSE (file:line: reason),
 * CRM_ENOMEM. */
int mx_lex_load(const char *dir, const char *lang, struct mx_lexicon **out,
		struct crm_err *err);

void mx_lex_free(struct mx_lexicon *lx);

/* The file the lexicon was read from (borrowed from lx). */
const char *mx_lex_path(const struct mx_lexicon *lx);

/* Number of entries (words and phrases, negators included). */
size_t mx_lex_size(const struct mx_lexicon *lx);

/* The sentiment of tk: the mean of the scores of the lexicon entries found
 * (-5..5; a phrase of 2 or 3 words is matched before its words), each
 * negated when it starts within 3 tokens after a negator of the same
 * clause. NAN when no entry is found. *matched (may be NULL) gets the
 * number of entries found. */
double mx_lex_score(const struct mx_lexicon *lx, const struct mx_tokens *tk,
		    size_t *matched);

/* 1 when w[0..n) (a folded token) is a stop word of lx. */
int mx_lex_is_stop(const struct mx_lexicon *lx, const char *w, size_t n);

/* 1 when token i of tk is worth counting as a term: not a stop word, not
 * all digits, and not a single ASCII character. */
int mx_lex_is_term(const struct mx_lexicon *lx, const struct mx_tokens *tk, size_t i);

#endif
