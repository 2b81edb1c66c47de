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

/* E-mail: surrounding spaces and "mailto:" removed, lower case; for
 * providers known to ignore them (gmail.com and googlemail.com: dots in the
 * local part and "+tag"; outlook/hotmail/live/msn under .com or a country
 * suffix, icloud/me/mac, fastmail, proton: the "+tag" only; yahoo, ymail,
 * rocketmail: the "-tag" only, per each provider's documented rules) the
 * local part is reduced; googlemail.com becomes gmail.com; a final dot of
 * the domain goes. Not an address (no single @, an empty side, a space
 * inside): empty. */
int cl_norm_email(const char *s, size_t n, struct buf *out);

/* Phone to E.164 ("+380671234567"): digits only; a leading "+" or "00" is
 * an international prefix; otherwise the number is national and takes the
 * calling code of `country` (ISO 3166-1 alpha-2, e.g. "UA"; the country's
 * trunk prefix such as 0 or 1 is dropped). Unknown country and no
 * international prefix: the digits alone prefixed "?". Fewer than 6
 * digits: empty.
 * Refinements (tables in norm_tables.c): the country's own international
 * prefix also counts ("011" in the US, "010" in Japan); a trunk prefix
 * written after the calling code is dropped ("+44 (0)20 ..." and
 * "+380 067 ..."); a national number that already starts with the calling
 * code and has the right length for it is taken as international
 * ("380671234567" with UA); a letter after the first digit ends the number
 * (extensions: "x12", "ext. 12", "доб. 12"); full-width digits count;
 * Mexico's prefixes abolished in 2019 (01, 044, 045, "+52 1") and Brazil's
 * carrier codes after the trunk 0 are dropped. `country` may be NULL, or an
 * alpha-3 code or English name in ASCII ("UKR", "Ukraine"). */
int cl_norm_phone(const char *s, size_t n, const char *country, struct buf *out);

/* Name for comparison: Unicode NFKC case folding (utf8proc), accents
 * (combining marks) removed, punctuation turned into spaces, Greek final
 * sigma folded, runs of spaces to one, tokens sorted by byte order so that
 * "Ivanenko Olena" equals "Olena Ivanenko". A name in a script written
 * without spaces (CJK) is one token: a space between two Han, kana or
 * Hangul characters is dropped ("山田 太郎" -> "山田太郎"). Apostrophes
 * (' ’ ʼ `) are dropped, not spaces, so that "O'Brien" equals "OBrien" and
 * "Мар'яна" equals "Марʼяна". Letters and digits of every script are kept;
 * everything else separates tokens. */
int cl_norm_name(const char *s, size_t n, struct buf *out);

/* The same folding without sorting tokens (for a single name part). */
int cl_norm_text(const char *s, size_t n, struct buf *out);

/* Street address: folded as cl_norm_text, common street-type words
 * abbreviated to one form per script ("street", "str", "st." -> "st";
 * "avenue", "avenida" -> "ave"; "road" -> "rd"; "strasse"/"straße"/"straat"
 * -> "st", also as the end of a compound: "Hauptstraße" and "Hauptstr." ->
 * "hauptst"; "calle" -> "c"; "вулиця" -> "вул"; "οδός" -> "οδ"; "rue"
 * stays...; table in norm_tables.c), the house number kept as a token. */
int cl_norm_address(const char *s, size_t n, struct buf *out);

/* Postcode: upper case, spaces and dashes removed ("SW1A 2AB" -> "SW1A2AB"). */
int cl_norm_postcode(const char *s, size_t n, struct buf *out);

/* Country to ISO 3166-1 alpha-2 upper case where it is a known code or
 * English name ("Ukraine", "ua", "UKR" -> "UA"); otherwise folded text. */
int cl_norm_country(const char *s, size_t n, struct buf *out);

/* Jaro-Winkler similarity of two UTF-8 strings, compared by code point,
 * prefix scale 0.1 over at most 4 code points (Winkler 1990). 1.0 for two
 * equal strings, 0.0 when either is empty (both empty too: a missing field
 * is no evidence). Matching window floor(max(len) / 2) - 1; no boost
 * threshold. Never allocates for strings of up to 256 code points; beyond
 * that it allocates, and if that fails compares the first 256 of each. */
double cl_jaro_winkler(const char *a, size_t na, const char *b, size_t nb);

/* Birth dates (the dataset's int64 times: seconds since 1970-01-01 UTC of
 * the day's start; CRM_NA when missing), compared:
 * CL_DATE_EXACT, CL_DATE_SWAPPED (day and month swapped, both <= 12 and
 * different), CL_DATE_DIFFERENT or CL_DATE_MISSING. */
enum cl_date_cmp { CL_DATE_MISSING = 0, CL_DATE_EXACT, CL_DATE_SWAPPED, CL_DATE_DIFFERENT };
int cl_date_compare(int64_t a, int64_t b);

/* ------------------------------------------- lookup tables (norm_tables.c) */

/* The one form of a street-type word w[0..n) (folded as cl_norm_text gives
 * it: "straße" arrives as "strasse"), or NULL when w is no such word.
 * Static storage. */
const char *cl_street_type(const char *w, size_t n);

/* ISO 3166-1 alpha-2 code (upper case, static) of a folded alpha-2 or
 * alpha-3 code, English or native name ("ua", "ukr", "ukraine", "україна"
 * folded), or NULL when unknown. */
const char *cl_country_code(const char *w, size_t n);

/* The telephone numbering plan of one country (ITU-T E.164 assignments;
 * trunk and international prefixes from the national plans). */
struct cl_phone_plan {
	char iso2[3];      /* ISO 3166-1 alpha-2, upper case */
	char cc[4];        /* country calling code digits, "1" .. "998" */
	char trunk[3];     /* national trunk prefix digits; "" when none */
	char idd[5];       /* international prefix other than "00"; "" when none */
	uint8_t nsn_min;   /* digits of a national significant number; */
	uint8_t nsn_max;   /* 0 and 0 when not fixed enough to rely on */
};

/* The plan of a country by alpha-2 code (any case), or NULL. */
const struct cl_phone_plan *cl_phone_plan(const char *iso2);

/* The plan whose calling code starts digits d[0..n) (calling codes are
 * prefix-free), or NULL. A code shared by several countries ("1": CA, US;
 * "7": KZ, RU) gives the first of them by alpha-2: their plans agree on
 * everything but the country. */
const struct cl_phone_plan *cl_phone_plan_cc(const char *d, size_t n);

/* Key i of a table in its order of search (byte order; the phone plans by
 * alpha-2), NULL past the end: for the tests, which check the order and
 * that every key is folded. */
enum cl_table { CL_TABLE_STREET, CL_TABLE_COUNTRY, CL_TABLE_PHONE };
const char *cl_table_key(int table, size_t i);

#endif
