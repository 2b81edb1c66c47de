/* norm.h - normalising and comparing customer fields for duplicate
 * detection (clean layer).
 *
 * Normalisers turn one raw field into the form two records are compared in;
 * each appends its result to a struct buf (core/buf.h) after clearing it,
 * and returns 0, or -1 when out of memory. A field that normalises to
 * nothing (blank, or no usable characters) leaves the buffer empty: the
 * comparison treats it as missing. Input is UTF-8 (the importer has
 * validated it); invalid sequences are dropped, never read past. */
#ifndef CLEAN_NORM_H
#define CLEAN_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* E-mail: surrounding spaces removed, lower case; for providers known to
 * ignore them (gmail.com and googlemail.com: dots in the local part and
 * "+tag"; outlook/hotmail/live, yahoo ("-tag"), icloud/me, fastmail, proton:
 * the "+tag" only, per each provider's documented rules) the local part is
 * reduced; googlemail.com becomes gmail.com. Not an address (no single @,
 * empty side): empty. */
int cl_norm_email(const char *s, size_t n, struct buf *out);

/* Phone to E.164 ("+380671234567"): digits only; a leading "+" or "00" is
 * an international prefix; otherwise the number is national and takes the
 * calling code of `country` (ISO 3166-1 alpha-2, e.g. "UA"; the country's
 * trunk prefix such as 0 or 1 is dropped). Unknown country and no
 * international prefix: the digits alone prefixed "?". Fewer than 6
 * digits: empty. */
int cl_norm_phone(const char *s, size_t n, const char *country, struct buf *out);

/* Name for comparison: Unicode NFKC case folding (utf8proc), accents
 * (combining marks) removed, punctuation turned into spaces, Greek final
 * sigma folded, runs of spaces to one, tokens sorted by byte order so that
 * "Ivanenko Olena" equals "Olena Ivanenko". A name in a script written
 * without spaces (CJK) is one token. */
int cl_norm_name(const char *s, size_t n, struct buf *out);

/* The same folding without sorting tokens (for a single name part). */
int cl_norm_text(const char *s, size_t n, struct buf *out);

/* Street address: folded as cl_norm_text, common street-type words
 * abbreviated to one form per language ("street", "str", "st." -> "st";
 * "avenue" -> "ave"; "road" -> "rd"; "strasse"/"straße" -> "str"; "calle" ->
 * "c"; "rue" stays...), the house number kept as a token. */
int cl_norm_address(const char *s, size_t n, struct buf *out);

/* Postcode: upper case, spaces and dashes removed ("SW1A 2AB" -> "SW1A2AB"). */
int cl_norm_postcode(const char *s, size_t n, struct buf *out);

/* Country to ISO 3166-1 alpha-2 upper case where it is a known code or
 * English name ("Ukraine", "ua", "UKR" -> "UA"); otherwise folded text. */
int cl_norm_country(const char *s, size_t n, struct buf *out);

/* Jaro-Winkler similarity of two UTF-8 strings, compared by code point,
 * prefix scale 0.1 over at most 4 code points (Winkler 1990). 1.0 for two
 * equal strings, 0.0 when either is empty. */
double cl_jaro_winkler(const char *a, size_t na, const char *b, size_t nb);

/* Birth dates (the dataset's int64 times: seconds since 1970-01-01 UTC of
 * the day's start; CRM_NA when missing), compared:
 * CL_DATE_EXACT, CL_DATE_SWAPPED (day and month swapped, both <= 12 and
 * different), CL_DATE_DIFFERENT or CL_DATE_MISSING. */
enum cl_date_cmp { CL_DATE_MISSING = 0, CL_DATE_EXACT, CL_DATE_SWAPPED, CL_DATE_DIFFERENT };
int cl_date_compare(int64_t a, int64_t b);

#endif
