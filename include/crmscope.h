/* crmscope.h - the public contract of libcrmscope, the CRM analytics engine.
 *
 * Everything an embedder (and the crmscope command) may call is declared here
 * with the prefix crm_. Errors are values: every fallible call returns a
 * status (CRM_OK is 0) and fills a caller-supplied struct crm_err.
 * Money is int64 ten-thousandths of the currency unit; timestamps are int64
 * seconds since 1970-01-01 UTC. See docs/ARCHITECTURE.md for the tour. */
#ifndef CRMSCOPE_H
#define CRMSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

enum crm_status {
	CRM_OK = 0,
	CRM_ENOMEM,   /* allocation failed */
	CRM_EIO,      /* a file could not be opened, read or written */
	CRM_EPARSE,   /* input is not of the expected form */
	CRM_EINVAL,   /* an argument or option is wrong */
	CRM_EDB,      /* SQLite reported an error */
	CRM_ENOTFOUND,/* a named thing (file, column, customer) does not exist */
	CRM_ERANGE,   /* a number does not fit or is outside its scale */
	CRM_ESCHEMA,  /* the database is of a newer or unknown schema */
	CRM_EREJECT,  /* rows were rejected and --strict asked to fail on that */
	CRM_EOF       /* end of input: not an error for readers */
};

#define CRM_ERR_MSG 512

/* Details of the last failure. The message names the file, line, field and
 * reason where they apply. Fixed-size so that out-of-memory can be told. */
struct crm_err {
	int code;                 /* enum crm_status */
	char msg[CRM_ERR_MSG];    /* NUL-terminated, empty when code == CRM_OK */
};

/* Returns a static English name of a status ("out of memory", ...). */
const char *crm_status_str(int code);

/* ------------------------------------------------------------- entities */

/* The eight entities of DESIGN.md. */
enum crm_entity {
	CRM_CUSTOMERS = 0,
	CRM_ORDERS,
	CRM_INTERACTIONS,
	CRM_TICKETS,
	CRM_LEADS,
	CRM_SPEND,
	CRM_FEEDBACK,
	CRM_WEB_EVENTS,
	CRM_N_ENTITIES
};

/* Canonical fields per entity, in the order of the schema table
 * (src/core/entity.c). The same index names the column of the dataset
 * table and of the SQLite table. */
enum crm_customer_field {
	CRM_C_CUSTOMER_ID, CRM_C_NAME, CRM_C_GIVEN_NAME, CRM_C_FAMILY_NAME,
	CRM_C_EMAIL, CRM_C_PHONE, CRM_C_ADDRESS, CRM_C_POSTCODE, CRM_C_CITY,
	CRM_C_REGION, CRM_C_COUNTRY, CRM_C_GENDER, CRM_C_BIRTH_DATE,
	CRM_C_SIGNUP_AT, CRM_C_TIER, CRM_C_ACQ_CHANNEL, CRM_C_ACQ_CAMPAIGN,
	CRM_C_N
};
enum crm_order_field {
	CRM_O_ORDER_ID, CRM_O_CUSTOMER_ID, CRM_O_ORDERED_AT, CRM_O_AMOUNT,
	CRM_O_CURRENCY, CRM_O_CHANNEL, CRM_O_COST, CRM_O_ITEMS, CRM_O_STATUS,
	CRM_O_CATEGORY,
	CRM_O_N
};
enum crm_interaction_field {
	CRM_I_INTERACTION_ID, CRM_I_CUSTOMER_ID, CRM_I_OCCURRED_AT, CRM_I_CHANNEL,
	CRM_I_KIND, CRM_I_CAMPAIGN, CRM_I_DURATION_S, CRM_I_SATISFACTION,
	CRM_I_TEXT,
	CRM_I_N
};
enum crm_ticket_field {
	CRM_T_TICKET_ID, CRM_T_CUSTOMER_ID, CRM_T_OPENED_AT,
	CRM_T_FIRST_RESPONSE_AT, CRM_T_RESOLVED_AT, CRM_T_CHANNEL, CRM_T_TOPIC,
	CRM_T_PRIORITY, CRM_T_SATISFACTION, CRM_T_EFFORT, CRM_T_HANDLING_MINUTES,
	CRM_T_N
};
enum crm_lead_field {
	CRM_L_LEAD_ID, CRM_L_CREATED_AT, CRM_L_SOURCE, CRM_L_CAMPAIGN,
	CRM_L_CONVERTED_AT, CRM_L_CUSTOMER_ID, CRM_L_EXPECTED_VALUE,
	CRM_L_N
};
enum crm_spend_field {
	CRM_S_DATE, CRM_S_CHANNEL, CRM_S_AMOUNT, CRM_S_CAMPAIGN,
	CRM_S_N
};
enum crm_feedback_field {
	CRM_F_RESPONSE_ID, CRM_F_CUSTOMER_ID, CRM_F_ANSWERED_AT, CRM_F_KIND,
	CRM_F_SCORE, CRM_F_TOPIC, CRM_F_CHANNEL, CRM_F_COMMENT,
	CRM_F_N
};
enum crm_web_field {
	CRM_W_SESSION_ID, CRM_W_OCCURRED_AT, CRM_W_PAGE, CRM_W_CUSTOMER_ID,
	CRM_W_VISITOR_ID, CRM_W_EVENT, CRM_W_REFERRER, CRM_W_CHANNEL,
	CRM_W_N
};

#define CRM_MAX_FIELDS 17  /* the largest of the CRM_*_N above */

/* Order status codes kept in the dataset's status column (a CAT column whose
 * dictionary is fixed to these, in this order). */
enum crm_order_status {
	CRM_STATUS_NA = 0, CRM_STATUS_COMPLETED, CRM_STATUS_RETURNED,
	CRM_STATUS_CANCELLED
};

/* ------------------------------------------------------------- dataset */

/* The in-memory columnar dataset: the one interface every analysis reads.
 *
 * Customers have dense ids 0..n_customers-1, in ascending order of their
 * customer_id text (byte order), so the same data always gives the same ids.
 * Every other entity is a table of columns, one per canonical field (the
 * enums above), with rows sorted by customer then by the entity's time
 * (ordered_at, occurred_at, opened_at, created_at, answered_at), ties by
 * the natural key. by_customer[c] .. by_customer[c + 1] are the rows of
 * customer c; rows without a customer (leads not converted, anonymous web
 * events, all of spend) come after by_customer[n_customers], sorted by time.
 *
 * Column kinds (struct crm_column.kind):
 *   CRM_COL_I64  int64 values: times (s since epoch, UTC), money and
 *                decimals (ten-thousandths), counts, scores. Missing values
 *                are CRM_NA.
 *   CRM_COL_CAT  uint32 codes into the column's dictionary; 0 is missing,
 *                code k names dict.str(k).
 *   CRM_COL_STR  free text (ids, names, comments) in one pool; a missing
 *                value has length 0.
 *   CRM_COL_NONE no column: a field not loaded, and, in a load that reads
 *                only some fields (files read straight in, ds_load_files
 *                with ing.fields), a number or category field of an event
 *                table that no file has a value for. Analyses treat it as
 *                all missing.
 * The dataset owns all of its memory; free it with crm_dataset_free. */

#define CRM_NA INT64_MIN
#define CRM_NO_CUSTOMER UINT32_MAX

enum crm_col_kind { CRM_COL_NONE = 0, CRM_COL_I64, CRM_COL_CAT, CRM_COL_STR };

/* A pool of strings: string i starts at bytes + off[i], is NUL-terminated,
 * and its length is off[i+1] - off[i] - 1. */
struct crm_strings {
	char *bytes;        /* all strings, each followed by a NUL */
	uint64_t *off;      /* n + 1 offsets into bytes; off[0] = 0 */
	size_t n;           /* number of strings */
	size_t cap_bytes;   /* allocated bytes (internal) */
	size_t cap_n;       /* allocated offsets (internal) */
};

struct crm_column {
	int kind;                 /* enum crm_col_kind */
	int64_t *i64;             /* CRM_COL_I64: n values */
	uint32_t *cat;            /* CRM_COL_CAT: n codes */
	struct crm_strings dict;  /* CRM_COL_CAT: string 0 is "" (missing) */
	struct crm_strings str;   /* CRM_COL_STR: n strings */
};

struct crm_table {
	size_t n;                         /* rows */
	uint32_t *customer;               /* n dense customer ids, or CRM_NO_CUSTOMER */
	uint64_t *by_customer;            /* n_customers + 1 row offsets (NULL for customers and spend) */
	struct crm_column col[CRM_MAX_FIELDS]; /* indexed by the entity's field enum */
};

struct crm_dataset {
	size_t n_customers;
	struct crm_table t[CRM_N_ENTITIES]; /* t[CRM_CUSTOMERS] row c is customer c */
	uint8_t *is_stub;         /* n_customers flags: created by an order of an unknown customer */
	int64_t first_at;         /* earliest timestamp of any event, or CRM_NA */
	int64_t last_at;          /* latest timestamp of any event: the default as-of */
};

/* Loads every entity of the SQLite database at db_path into a new dataset.
 * On success *out is the caller's, freed with crm_dataset_free. */
int crm_dataset_load_db(const char *db_path, struct crm_dataset **out,
			struct crm_err *err);

void crm_dataset_free(struct crm_dataset *ds);

/* Returns the string of a CAT or STR cell (borrowed from ds; "" when missing). */
const char *crm_cell_str(const struct crm_table *t, int field, size_t row);

/* ------------------------------------------- per-customer purchase summary */

enum crm_time_unit { CRM_UNIT_DAY = 0, CRM_UNIT_WEEK };

struct crm_summary_opts {
	int64_t as_of;            /* end of observation, s since epoch; CRM_NA = ds->last_at */
	int64_t calibration_end;  /* purchases after it are not counted in x, t_x, T; CRM_NA = as_of */
	int unit;                 /* enum crm_time_unit for t_x and T */
};

/* One row per customer, following the lifetimes / Fader-Hardie convention:
 * purchases on the same calendar day (UTC) count once with their amounts
 * summed; only completed orders (amount >= 0, status completed or
 * unset)
 * are purchases. Customers with no purchase up to the calibration end have
 * x = t_x = T = 0 and first_at = CRM_NA. */
struct crm_customer_summary {
	double x;                 /* repeat purchase days: distinct purchase days - 1 */
	double t_x;               /* first to last purchase day, in unit */
	double T;                 /* first purchase day to the calibration end, in unit */
	int64_t mean_repeat;      /* mean of the daily totals over repeat days, money
	                             (rounded to 1e-4); 0 when x = 0 */
	int64_t repeat_total;     /* sum of those daily totals, money: the exact mean is
	                             repeat_total / x, for rounding to fewer places */
	int64_t first_at;         /* first purchase time, or CRM_NA */
	int64_t last_at;          /* last purchase time up to the calibration end, or CRM_NA */
	uint32_t n_orders;        /* completed orders up to as_of */
	int64_t net_revenue;      /* completed - |returns| up to as_of, money */
};

/* Computes the summary of every customer of ds. *out (ds->n_customers rows,
 * indexed by dense customer id) is the caller's, freed with free(). */
int crm_summary_compute(const struct crm_dataset *ds,
			const struct crm_summary_opts *opts,
			struct crm_customer_summary **out, struct crm_err *err);

#ifdef __cplusplus
}
#endif
#endif
