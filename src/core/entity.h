/* entity.h - the schema of the eight entities (core layer).
 * One table describes every canonical field: its type, whether it is
 * required, its range. Ingest validates by it, the store creates its tables
 * from it and the dataset lays out its columns by it, so a field is added
 * in one place. Field indexes are the enums of crmscope.h. */
#ifndef CORE_ENTITY_H
#define CORE_ENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "crmscope.h"

enum ent_type {
	FT_ID,      /* the entity's own identifier: text, unique */
	FT_REF,     /* a customer_id: text referring to customers */
	FT_TEXT,    /* free text, kept per row */
	FT_CAT,     /* a category: text from a small set (channel, country...) */
	FT_ENUM,    /* a category from a fixed list (ent_field.values) */
	FT_TIME,    /* date or date-time, int64 s since epoch UTC */
	FT_DATE,    /* a calendar date, int64 s since epoch at 00:00 UTC */
	FT_MONEY,   /* int64 ten-thousandths of the currency unit */
	FT_DECIMAL, /* a non-money decimal, int64 ten-thousandths */
	FT_INT,     /* an integer count */
	FT_SCORE    /* an integer on a scale [lo, hi] */
};

struct ent_field {
	const char *name;            /* canonical name, lower_snake_case */
	int type;                    /* enum ent_type */
	int required;                /* 1: a row without it is rejected */
	int64_t lo, hi;              /* FT_SCORE/FT_INT/FT_DECIMAL range (hi < lo: none) */
	const char *const *values;   /* FT_ENUM: NULL-terminated list; code = index + 1 */
};

struct ent_desc {
	const char *name;            /* "orders": the CLI word and the SQL table */
	size_t n_fields;
	const struct ent_field *fields;
	int id_field;                /* FT_ID field, or -1 (spend, web_events) */
	int customer_field;          /* FT_REF field, or -1 (spend) */
	int time_field;              /* the event time that rows sort by, or -1 */
	int customer_required;       /* 1: every row belongs to a customer */
	const int *key;              /* fields forming the natural key, -1 terminated */
	int key_has_seq;             /* 1: the key also has an occurrence number,
	                                for rows with no id of their own */
};

/* The descriptor of entity e (enum crm_entity); NULL when out of range. */
const struct ent_desc *ent_get(int e);

/* The entity named s ("orders", "web_events"...), or -1. */
int ent_by_name(const char *s);

/* The index of field name in entity d, or -1. */
int ent_field_index(const struct ent_desc *d, const char *name);

/* FT_ENUM: the code (1-based) of value s of length n, or 0 if not listed. */
int ent_enum_code(const struct ent_field *f, const char *s, size_t n);

/* Dataset column kind for a field type (enum crm_col_kind). */
int ent_col_kind(int type);



/* One row of an entity after parsing, before storing: ingest fills it, the
 * store and the dataset builder take it. Text is borrowed from the reader
 * (valid until its next row). */
struct ent_value {
	const char *s;      /* FT_ID, FT_REF, FT_TEXT, FT_CAT, FT_ENUM: the text */
	size_t n;           /* length of s */
	int64_t i;          /* numeric types: the value; FT_ENUM: its code */
	uint8_t set;        /* 0: missing */
};

struct ent_record {
	int entity;                            /* enum crm_entity */
	struct ent_value v[CRM_MAX_FIELDS];    /* by the entity's field enum; entries
	                                          past its n_fields are unspecified */
	int64_t seq;                           /* occurrence number when key_has_seq */
	long line;                             /* source line, for messages */
};
#endif
