/* demo_int.h - internals shared by the files of the demo generator (demo layer).
 * demo.c builds the customers and their purchases, activity.c the other
 * entities, names.c the names, places and phone numbers, csvw.c writes CSV
 * rows and plants bad rows, truth.c writes truth.json. Only src/demo/ may
 * include this header; other modules use demo.h. */
#ifndef DEMO_DEMO_INT_H
#define DEMO_DEMO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#include "core/buf.h"
#include "core/strmap.h"
#include "demo/demo.h"

/* ------------------------------------------------------------ time frame */

/* The business runs from 2022-07-01 to 2025-06-30 inclusive (three years). */
#define DEMO_START_Y 2022
#define DEMO_START_M 7
#define DEMO_END_Y 2025     /* end is exclusive: 2025-07-01T00:00:00Z */
#define DEMO_END_M 7
#define DEMO_N_MONTHS 36

/* Independent random streams, one per part of the business, so that a change
 * in one part does not shift the draws of the others. */
enum demo_stream {
	DS_IDENTITY = 1, DS_PURCHASE, DS_ORDER, DS_DUPLICATE, DS_TICKET,
	DS_INTERACTION, DS_FEEDBACK, DS_WEB, DS_LEAD, DS_SPEND, DS_BAD
};

/* A mt19937 generator for stream s of seed (gsl_rng_mt19937); NULL on ENOMEM.
 * Caller frees with gsl_rng_free. */
gsl_rng *demo_rng(uint64_t seed, int stream);

/* --------------------------------------------------------- channels */

enum demo_channel { DC_SEARCH, DC_SOCIAL, DC_REFERRAL, DC_EMAIL, DC_AFFILIATE, DC_N };

#define DEMO_MAX_CAMPAIGNS 3

/* The true parameters of one acquisition channel (written to truth.json). */
struct demo_channel_params {
	const char *name;
	double share;              /* of customers */
	double r, alpha, a, b;     /* BG/NBD, time in days (FHL 2005) */
	double p, q, gamma;        /* Gamma-Gamma, money in EUR (FHL 2005, JMR) */
	double cac;                /* EUR of marketing spend per new customer */
	double lead_share;         /* customers who came through a lead record */
	double lead_conversion;    /* P(a lead of this source converts) */
	size_t n_campaigns;
	const char *campaigns[DEMO_MAX_CAMPAIGNS];
};

extern const struct demo_channel_params demo_channels[DC_N];

/* ------------------------------------------------ names and places (names.c) */

enum demo_script { SCRIPT_LATIN, SCRIPT_CYRILLIC, SCRIPT_GREEK, SCRIPT_CJK };

/* The text of a new person, built by demo_identity_make. */
struct demo_identity {
	int country, city, gender;     /* gender 0 female, 1 male */
	char given[64], family[128];   /* native script */
	char given_lat[64], family_lat[128]; /* Latin transliteration, lower case ASCII */
	char email[128];               /* unique is checked by the caller */
	char phone[24];                /* national significant number, digits */
	int phone_fmt;                 /* how it is written (demo_phone_write) */
	char address[192];
	char postcode[16];
};

size_t demo_n_countries(void);
const char *demo_country_code(int country);
int demo_country_script(int country);
double demo_country_share(int country);
const char *demo_city_name(int country, int city);
const char *demo_city_region(int country, int city);

/* Draws a person: country by its share, name, contact and address. */
void demo_identity_make(gsl_rng *rng, struct demo_identity *id);

/* Number of ways phones of country are written. */
int demo_phone_n_formats(int country);

/* Writes the national number digits of country in format fmt into out (cap
 * bytes). Returns the length. */
size_t demo_phone_write(int country, const char *digits, int fmt, char *out, size_t cap);

/* The display name: "given family", or "familygiven" for CJK scripts;
 * swapped gives the other order (a duplicate's variation). */
void demo_name_join(int country, const char *given, const char *family, int swapped,
		    char *out, size_t cap);

/* Copies s into out (cap bytes) without the diacritics this generator uses
 * (Latin accents, Greek tonos). Returns 1 if something was dropped. */
int demo_strip_accents(const char *s, char *out, size_t cap);

/* A short social media post in the language of country's script, with its
 * sentiment sign (+1 or -1); NULL when the script has none (Latin). */
const char *demo_native_post(gsl_rng *rng, int country, int positive);

/* ------------------------------------------------------ CSV writing (csvw.c) */

struct demo_cell {
	const char *p;     /* borrowed text, or NULL for an empty field */
	size_t n;
};

/* A row being built: the cells and scratch space for formatted numbers. */
struct demo_row {
	struct demo_cell c[CRM_MAX_FIELDS];
	char scratch[CRM_MAX_FIELDS][40];
};

void demo_row_clear(struct demo_row *r);
void demo_cell_str(struct demo_row *r, int f, const char *s);
void demo_cell_time(struct demo_row *r, int f, int64_t t);    /* ISO date-time, Z */
void demo_cell_date(struct demo_row *r, int f, int64_t t);    /* YYYY-MM-DD */
void demo_cell_money(struct demo_row *r, int f, int64_t v);   /* 2 decimals */
void demo_cell_int(struct demo_row *r, int f, int64_t v);
void demo_cell_dec1(struct demo_row *r, int f, int64_t v);    /* 1 decimal */
void demo_cell_idnum(struct demo_row *r, int f, char prefix, int width, uint64_t n);

/* Writes t as YYYY-MM-DDTHH:MM:SSZ (date_only: YYYY-MM-DD) into out (>= 24
 * bytes); returns the length. */
size_t demo_fmt_time(int64_t t, int date_only, char *out);

/* How a bad row is broken. */
enum demo_fault_kind {
	FK_VALUE,       /* field := value */
	FK_EMPTY,       /* field := "" */
	FK_BEFORE       /* field := the time of field `other` minus 2 hours */
};

struct demo_fault {
	int field;            /* the field at fault */
	int kind;             /* enum demo_fault_kind */
	const char *value;    /* FK_VALUE */
	int other;            /* FK_BEFORE: the field it must not precede */
	int field2;           /* a second field set for the fault to mean something, or -1 */
	const char *value2;   /* its value (feedback: the kind of the score) */
	const char *reason;   /* the importer's reject reason code (docs/IMPORT.md) */
	const char *why;      /* a sentence for truth.json */
};

/* A planted bad row, as listed in truth.json. */
struct demo_bad {
	long line;            /* 1-based line of the file where the row starts */
	const struct demo_fault *fault;
	char value[48];       /* the text written into the field at fault */
};

struct demo_badlist {
	struct demo_bad *v;
	size_t n, cap;
};

/* One CSV file being written. Bad rows are copies of real rows with one
 * field broken, inserted before the real row at chosen positions. */
struct demo_csv {
	FILE *f;
	char path[1024];
	int entity;
	struct buf out;               /* bytes not yet written */
	long line;                    /* lines written so far */
	size_t n_rows;                /* data rows written, bad ones included */
	size_t real_i;                /* real rows written so far */
	const struct demo_fault *faults; /* the entity's faults */
	size_t n_faults;
	size_t pos[16];               /* fault k goes before real row pos[k] */
	size_t next_bad_id;           /* id number of the next copied bad row */
	char id_prefix;
	int id_width;
	struct demo_badlist *bad;     /* where planted rows are recorded */
	int failed;                   /* 0, or why writing failed (I/O, memory) */
};

/* Opens dir/<entity>.csv and writes the header. n_real real rows will
 * follow; when rng is not NULL, the entity's faults (demo_faults) are
 * planted among them at positions drawn from rng, their ids numbered from
 * first_bad_id.
 * Returns CRM_OK or CRM_EIO/CRM_ENOMEM with err set. */
int demo_csv_open(struct demo_csv *w, const char *dir, int entity, size_t n_real,
		  gsl_rng *rng, char id_prefix, int id_width, size_t first_bad_id,
		  struct demo_badlist *bad, struct crm_err *err);

/* Writes a real row (planting any bad copies due before it). */
void demo_csv_row(struct demo_csv *w, const struct demo_row *r);

/* Writes row r broken by fault f (for bad rows that are not copies). */
void demo_csv_bad_row(struct demo_csv *w, const struct demo_row *r, const struct demo_fault *f);

/* Flushes and closes the file and frees the writer's buffer. Returns CRM_OK,
 * or CRM_EIO / CRM_ENOMEM naming the file. The row count is in w->n_rows. */
int demo_csv_close(struct demo_csv *w, struct crm_err *err);

/* ------------------------------------------------------- the business */

/* Status codes of orders as generated (same order as the schema's list). */
enum { OS_COMPLETED = 1, OS_RETURNED, OS_CANCELLED };

/* One customers.csv record: a real person, a planted duplicate of one, or a
 * planted bad row. String fields are indexes into world.pool. */
struct demo_cust {
	int64_t signup_at;          /* s since epoch */
	int64_t birth_day;          /* days since epoch, or INT64_MIN when missing */
	uint32_t person;            /* the real person, or UINT32_MAX for bad rows */
	uint32_t dup_of;            /* record of the original, or UINT32_MAX */
	uint32_t id_num;            /* C%06u: rank by signup time, from 1 */
	uint32_t s_given, s_family, s_name, s_email, s_phone, s_address, s_postcode;
	uint32_t s_given_lat, s_family_lat;
	uint32_t variations;        /* duplicates: bits of enum demo_variation */
	int64_t revenue;            /* completed order amounts, money */
	uint8_t country, city, gender, channel, campaign, tier, phone_fmt;
	int8_t fault;               /* bad rows: index into the customers' faults; else -1 */
};

enum demo_variation {
	DV_EMAIL_CASE = 1 << 0, DV_EMAIL_TYPO = 1 << 1, DV_PHONE_FORMAT = 1 << 2,
	DV_NAME_SWAP = 1 << 3, DV_MISSING_EMAIL = 1 << 4, DV_MISSING_PHONE = 1 << 5,
	DV_MISSING_ADDRESS = 1 << 6, DV_MISSING_BIRTH_DATE = 1 << 7,
	DV_ACCENT_DROPPED = 1 << 8, DV_TRANSLITERATED = 1 << 9, DV_N = 10
};

/* The hidden truth of a real customer. */
struct demo_person {
	double lambda;              /* purchases per day while alive */
	double p;                   /* dropout probability after each repeat purchase */
	double nu;                  /* Gamma-Gamma scale: order value ~ Gamma(p, nu) */
	int64_t first_at;           /* first purchase time, or INT64_MIN (never bought) */
	int64_t death_at;           /* the purchase after which they dropped out, or INT64_MIN */
	uint32_t rec;               /* their original customers record */
	uint32_t first_order, n_orders; /* their orders in generation order (before sorting) */
	uint32_t visitor;           /* web visitor number */
	uint8_t channel, campaign;  /* acquisition */
	uint8_t category;           /* favourite category */
	uint8_t has_lead;           /* came through a lead */
};

struct demo_order {
	int64_t at;                 /* ordered_at, s */
	int64_t amount, cost;       /* money (ten-thousandths), whole cents */
	uint32_t rec;               /* customers record */
	uint32_t person;
	uint32_t seq;               /* generation order: ties */
	uint16_t items;
	uint8_t status;             /* OS_* */
	uint8_t channel;            /* index into demo_order_channels */
	uint8_t category;
	uint8_t moved;              /* moved to the person's duplicate record */
};

/* Everything generated, shared by the writers. */
struct demo_world {
	uint64_t seed;
	size_t n_persons;
	struct demo_person *persons;
	size_t n_recs;
	struct demo_cust *recs;         /* in creation order */
	uint32_t *rec_rank;             /* record indexes sorted by signup (file order) */
	size_t n_orders;
	struct demo_order *orders;      /* sorted by time: order id = index + 1 */
	struct crm_strings pool;        /* the customers' text */
	int64_t start, end;             /* s since epoch; end exclusive */
	double month_mult[12];          /* seasonality of purchase timing, day-weighted mean 1 */
	double hour_mult[24];           /* time of day, mean 1 */
	double *day_mult;               /* per day from start: that day's month_mult */
	size_t n_days;
	double max_mult;                /* max of month_mult * hour_mult */
	struct demo_badlist bad[CRM_N_ENTITIES];
	size_t rows[CRM_N_ENTITIES];
	size_t n_duplicates;
	size_t n_alive;                 /* buyers alive at the end */
	size_t n_buyers;
	const char *dir;
};

extern const char *const demo_order_channels[];   /* web, app, store, phone */
extern const char *const demo_categories[];       /* NULL-terminated */
#define DEMO_N_CATEGORIES 8

/* The customer id text of record r ("C000123") into out (>= 16 bytes). */
size_t demo_cust_id(const struct demo_world *w, uint32_t rec, char *out);

/* The month multiplier at time t (seasonality times time of day). */
double demo_mult_at(const struct demo_world *w, int64_t t);

/* A random time of day weighted by hour_mult, added to day start d0 (s). */
int64_t demo_time_in_day(const struct demo_world *w, gsl_rng *rng, int64_t d0);

/* Writers of the other entities (activity.c). Each returns CRM_OK or an
 * error with err set, and fills w->rows[e] and w->bad[e]. */
int demo_write_tickets(struct demo_world *w, struct crm_err *err);
int demo_write_interactions(struct demo_world *w, struct crm_err *err);
int demo_write_feedback(struct demo_world *w, struct crm_err *err);
int demo_write_leads(struct demo_world *w, struct crm_err *err);
int demo_write_spend(struct demo_world *w, struct crm_err *err);
int demo_write_web(struct demo_world *w, struct crm_err *err);

/* truth.json (truth.c). */
int demo_write_truth(const struct demo_world *w, struct crm_err *err);

/* Fault lists per entity (csvw.c), for the writers and truth.json. */
const struct demo_fault *demo_faults(int entity, size_t *n);

/* The parameters of tickets, interactions, feedback, leads, spend and web
 * events as a JSON object for truth.json (activity.c); NULL on ENOMEM. */
struct json_t;
struct json_t *demo_activity_truth(const struct demo_world *w);

/* A time in [start, end) with the density of signups: growing over the
 * period (1 + 1.5 x its elapsed share) and seasonal (demo_mult_at). */
int64_t demo_draw_time(const struct demo_world *w, gsl_rng *rng);

#endif
