/* entity.c - the one table of canonical fields of DESIGN.md (core layer).
 * The order of each array is the order of the field enums in crmscope.h. */
#include "entity.h"

#include <string.h>

#define NORANGE 1, 0
#define REQ(n, t) { n, t, 1, NORANGE, NULL }
#define OPT(n, t) { n, t, 0, NORANGE, NULL }
#define RANGED(n, t, lo, hi) { n, t, 0, lo, hi, NULL }

static const char *const order_status[] = { "completed", "returned", "cancelled", NULL };
static const char *const feedback_kind[] = { "nps", "csat", "ces", NULL };

static const struct ent_field customer_fields[CRM_C_N] = {
	REQ("customer_id", FT_ID),
	OPT("name", FT_TEXT),
	OPT("given_name", FT_TEXT),
	OPT("family_name", FT_TEXT),
	OPT("email", FT_TEXT),
	OPT("phone", FT_TEXT),
	OPT("address", FT_TEXT),
	OPT("postcode", FT_CAT),
	OPT("city", FT_CAT),
	OPT("region", FT_CAT),
	OPT("country", FT_CAT),
	OPT("gender", FT_CAT),
	OPT("birth_date", FT_DATE),
	OPT("signup_at", FT_TIME),
	OPT("tier", FT_CAT),
	OPT("acquisition_channel", FT_CAT),
	OPT("acquisition_campaign", FT_CAT),
};

static const struct ent_field order_fields[CRM_O_N] = {
	REQ("order_id", FT_ID),
	REQ("customer_id", FT_REF),
	REQ("ordered_at", FT_TIME),
	REQ("amount", FT_MONEY),
	OPT("currency", FT_CAT),
	OPT("channel", FT_CAT),
	OPT("cost", FT_MONEY),
	OPT("items", FT_INT),
	{ "status", FT_ENUM, 0, NORANGE, order_status },
	OPT("category", FT_CAT),
};

static const struct ent_field interaction_fields[CRM_I_N] = {
	REQ("interaction_id", FT_ID),
	REQ("customer_id", FT_REF),
	REQ("occurred_at", FT_TIME),
	REQ("channel", FT_CAT),
	OPT("kind", FT_CAT),
	OPT("campaign", FT_CAT),
	RANGED("duration_s", FT_INT, 0, INT64_MAX),
	RANGED("satisfaction", FT_SCORE, 1, 5),
	OPT("text", FT_TEXT),
};

static const struct ent_field ticket_fields[CRM_T_N] = {
	REQ("ticket_id", FT_ID),
	REQ("customer_id", FT_REF),
	REQ("opened_at", FT_TIME),
	OPT("first_response_at", FT_TIME),
	OPT("resolved_at", FT_TIME),
	OPT("channel", FT_CAT),
	OPT("topic", FT_CAT),
	OPT("priority", FT_CAT),
	RANGED("satisfaction", FT_SCORE, 1, 5),
	RANGED("effort", FT_SCORE, 1, 7),
	RANGED("handling_minutes", FT_DECIMAL, 0, INT64_MAX),
};

static const struct ent_field lead_fields[CRM_L_N] = {
	REQ("lead_id", FT_ID),
	REQ("created_at", FT_TIME),
	OPT("source", FT_CAT),
	OPT("campaign", FT_CAT),
	OPT("converted_at", FT_TIME),
	OPT("customer_id", FT_REF),
	OPT("expected_value", FT_MONEY),
};

static const struct ent_field spend_fields[CRM_S_N] = {
	REQ("date", FT_DATE),
	REQ("channel", FT_CAT),
	REQ("amount", FT_MONEY),
	OPT("campaign", FT_CAT),
};

static const struct ent_field feedback_fields[CRM_F_N] = {
	REQ("response_id", FT_ID),
	REQ("customer_id", FT_REF),
	REQ("answered_at", FT_TIME),
	{ "kind", FT_ENUM, 1, NORANGE, feedback_kind },
	/* the scale depends on kind: nps 0-10, csat 1-5, ces 1-7 (ingest checks) */
	{ "score", FT_SCORE, 1, 0, 10, NULL },
	OPT("topic", FT_CAT),
	OPT("channel", FT_CAT),
	OPT("comment", FT_TEXT),
};

static const struct ent_field web_fields[CRM_W_N] = {
	REQ("session_id", FT_TEXT),
	REQ("occurred_at", FT_TIME),
	REQ("page", FT_CAT),
	OPT("customer_id", FT_REF),
	OPT("visitor_id", FT_TEXT),
	OPT("event", FT_CAT),
	OPT("referrer", FT_CAT),
	OPT("channel", FT_CAT),
};

static const int key_customer[] = { CRM_C_CUSTOMER_ID, -1 };
static const int key_order[] = { CRM_O_ORDER_ID, -1 };
static const int key_interaction[] = { CRM_I_INTERACTION_ID, -1 };
static const int key_ticket[] = { CRM_T_TICKET_ID, -1 };
static const int key_lead[] = { CRM_L_LEAD_ID, -1 };
static const int key_spend[] = { CRM_S_DATE, CRM_S_CHANNEL, CRM_S_CAMPAIGN, -1 };
static const int key_feedback[] = { CRM_F_RESPONSE_ID, -1 };
static const int key_web[] = { CRM_W_SESSION_ID, CRM_W_OCCURRED_AT, CRM_W_PAGE, CRM_W_EVENT, -1 };

static const struct ent_desc entities[CRM_N_ENTITIES] = {
	{ "customers", CRM_C_N, customer_fields, CRM_C_CUSTOMER_ID, -1, CRM_C_SIGNUP_AT, 0, key_customer, 0 },
	{ "orders", CRM_O_N, order_fields, CRM_O_ORDER_ID, CRM_O_CUSTOMER_ID, CRM_O_ORDERED_AT, 1, key_order, 0 },
	{ "interactions", CRM_I_N, interaction_fields, CRM_I_INTERACTION_ID, CRM_I_CUSTOMER_ID, CRM_I_OCCURRED_AT, 1, key_interaction, 0 },
	{ "tickets", CRM_T_N, ticket_fields, CRM_T_TICKET_ID, CRM_T_CUSTOMER_ID, CRM_T_OPENED_AT, 1, key_ticket, 0 },
	{ "leads", CRM_L_N, lead_fields, CRM_L_LEAD_ID, CRM_L_CUSTOMER_ID, CRM_L_CREATED_AT, 0, key_lead, 0 },
	{ "spend", CRM_S_N, spend_fields, -1, -1, CRM_S_DATE, 0, key_spend, 0 },
	{ "feedback", CRM_F_N, feedback_fields, CRM_F_RESPONSE_ID, CRM_F_CUSTOMER_ID, CRM_F_ANSWERED_AT, 1, key_feedback, 0 },
	{ "web_events", CRM_W_N, web_fields, -1, CRM_W_CUSTOMER_ID, CRM_W_OCCURRED_AT, 0, key_web, 1 },
};

const struct ent_desc *ent_get(int e)
{
	if (e < 0 || e >= CRM_N_ENTITIES)
		return NULL;
	return &entities[e];
}

int ent_by_name(const char *s)
{
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		if (strcmp(entities[e].name, s) == 0)
			return e;
	return -1;
}

int ent_field_index(const struct ent_desc *d, const char *name)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

int ent_enum_code(const struct ent_field *f, const char *s, size_t n)
{
	if (!f->values)
		return 0;
	for (int i = 0; f->values[i]; i++)
		if (strlen(f->values[i]) == n && strncmp(f->values[i], s, n) == 0)
			return i + 1;
	return 0;
}

int ent_col_kind(int type)
{
	switch (type) {
	case FT_REF: return CRM_COL_NONE; /* the table's customer[] holds it */
	case FT_ID: case FT_TEXT: return CRM_COL_STR;
	case FT_CAT: case FT_ENUM: return CRM_COL_CAT;
	default: return CRM_COL_I64;
	}
}
