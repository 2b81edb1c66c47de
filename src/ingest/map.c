/* map.c - column names to canonical fields, with the alias table (ingest).
 * The aliases are the column names of common exports: shop platforms, CRM
 * reports, the UCI Online Retail data, the CDNOW log. */
#include "ingest/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/entity.h"
#include "core/err.h"

struct alias {
	int entity;        /* -1: any entity that has the field */
	const char *field; /* canonical field, or "quantity" / "unit_price" */
	const char *names; /* normalised aliases, space-separated */
};

static const struct alias aliases[] = {
	{ -1, "customer_id", "customerid custid customerno customernumber clientid client clientno contactid accountid userid buyerid customer" },
	{ CRM_CUSTOMERS, "name", "fullname customername contactname clientname displayname" },
	{ CRM_CUSTOMERS, "given_name", "firstname forename givenname fname" },
	{ CRM_CUSTOMERS, "family_name", "lastname surname familyname lname" },
	{ CRM_CUSTOMERS, "email", "emailaddress mail email1 primaryemail" },
	{ CRM_CUSTOMERS, "phone", "phonenumber telephone tel mobile mobilephone cellphone phone1" },
	{ CRM_CUSTOMERS, "address", "street streetaddress address1 addressline1 addr" },
	{ CRM_CUSTOMERS, "postcode", "zip zipcode postalcode postcode" },
	{ CRM_CUSTOMERS, "city", "town locality" },
	{ CRM_CUSTOMERS, "region", "state province county stateprovince" },
	{ CRM_CUSTOMERS, "country", "countrycode countryname nation" },
	{ CRM_CUSTOMERS, "gender", "sex" },
	{ CRM_CUSTOMERS, "birth_date", "dob dateofbirth birthday birthdate" },
	{ CRM_CUSTOMERS, "signup_at", "createdat signupdate signedupat registeredat registrationdate joined joinedat customersince since created" },
	{ CRM_CUSTOMERS, "tier", "level loyaltytier loyaltylevel membership" },
	{ CRM_CUSTOMERS, "acquisition_channel", "acquisitionsource source leadsource utmsource channel" },
	{ CRM_CUSTOMERS, "acquisition_campaign", "campaign utmcampaign" },
	{ CRM_ORDERS, "order_id", "invoice invoiceno invoiceid invoicenumber orderno ordernumber orderid transactionid txnid receiptid" },
	{ CRM_ORDERS, "ordered_at", "invoicedate orderdate date createdat timestamp purchasedate transactiondate orderedat time datetime" },
	{ CRM_ORDERS, "amount", "total value revenue dollarvalue ordertotal grandtotal sales amt totalamount netamount" },
	{ CRM_ORDERS, "currency", "curr currencycode" },
	{ CRM_ORDERS, "channel", "saleschannel orderchannel source" },
	{ CRM_ORDERS, "cost", "cogs costofgoods directcost" },
	{ CRM_ORDERS, "items", "numberofcds units itemcount nitems numitems" },
	{ CRM_ORDERS, "status", "orderstatus state" },
	{ CRM_ORDERS, "category", "productcategory department" },
	{ CRM_ORDERS, "quantity", "quantity qty" },
	{ CRM_ORDERS, "unit_price", "price unitprice priceeach itemprice" },
	{ CRM_INTERACTIONS, "interaction_id", "activityid eventid id" },
	{ CRM_INTERACTIONS, "occurred_at", "date timestamp createdat time datetime" },
	{ CRM_INTERACTIONS, "kind", "type activitytype interactiontype" },
	{ CRM_INTERACTIONS, "duration_s", "duration durationseconds seconds" },
	{ CRM_INTERACTIONS, "satisfaction", "rating csat" },
	{ CRM_INTERACTIONS, "text", "body message note notes description content" },
	{ CRM_TICKETS, "ticket_id", "caseid issueid id ticketnumber" },
	{ CRM_TICKETS, "opened_at", "createdat created opened openedat date" },
	{ CRM_TICKETS, "first_response_at", "firstresponse respondedat firstreplyat" },
	{ CRM_TICKETS, "resolved_at", "resolved closedat closed solvedat" },
	{ CRM_TICKETS, "topic", "subject category type" },
	{ CRM_TICKETS, "satisfaction", "rating csat" },
	{ CRM_TICKETS, "effort", "ces effortscore" },
	{ CRM_TICKETS, "handling_minutes", "handlingtime minutes" },
	{ CRM_LEADS, "lead_id", "id leadno" },
	{ CRM_LEADS, "created_at", "created date createddate" },
	{ CRM_LEADS, "source", "leadsource channel utmsource" },
	{ CRM_LEADS, "campaign", "utmcampaign" },
	{ CRM_LEADS, "converted_at", "converted convertedon conversiondate" },
	{ CRM_LEADS, "expected_value", "value dealvalue amount" },
	{ CRM_SPEND, "date", "day month period" },
	{ CRM_SPEND, "amount", "spend cost" },
	{ CRM_FEEDBACK, "response_id", "id surveyresponseid" },
	{ CRM_FEEDBACK, "answered_at", "date submittedat createdat respondedat" },
	{ CRM_FEEDBACK, "kind", "type surveytype" },
	{ CRM_FEEDBACK, "score", "rating value" },
	{ CRM_FEEDBACK, "comment", "text feedback comments" },
	{ CRM_WEB_EVENTS, "session_id", "session sessionkey" },
	{ CRM_WEB_EVENTS, "occurred_at", "timestamp time date datetime" },
	{ CRM_WEB_EVENTS, "page", "url path pageurl pagepath" },
	{ CRM_WEB_EVENTS, "visitor_id", "visitor anonymousid cookieid deviceid" },
	{ CRM_WEB_EVENTS, "event", "eventtype eventname action" },
	{ CRM_WEB_EVENTS, "referrer", "referer ref" },
};

size_t ing_norm_name(const char *p, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			out[k++] = (char)(c + 32);
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[k++] = c;
	}
	out[k] = '\0';
	return k;
}

const char *ing_target_name(int entity, int t)
{
	if (t == ING_T_QUANTITY)
		return "quantity";
	if (t == ING_T_UNIT_PRICE)
		return "unit_price";
	const struct ent_desc *d = ent_get(entity);
	return d && t >= 0 && (size_t)t < d->n_fields ? d->fields[t].name : "?";
}

/* The target index of a canonical name (field, or the order-line extras). */
static int target_by_name(int entity, const char *name)
{
	if (entity == CRM_ORDERS && strcmp(name, "quantity") == 0)
		return ING_T_QUANTITY;
	if (entity == CRM_ORDERS && strcmp(name, "unit_price") == 0)
		return ING_T_UNIT_PRICE;
	return ent_field_index(ent_get(entity), name);
}

/* Does the space-separated list contain word? */
static int list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, word, n) == 0)
			return 1;
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* Exact canonical match (normalised) of norm; -1 if none. */
static int canonical_target(int entity, const char *norm)
{
	const struct ent_desc *d = ent_get(entity);
	char buf[64];
	for (size_t i = 0; i < d->n_fields; i++) {
		ing_norm_name(d->fields[i].name, strlen(d->fields[i].name), buf, sizeof buf);
		if (strcmp(buf, norm) == 0)
			return (int)i;
	}
	if (entity == CRM_ORDERS && strcmp(norm, "unitprice") == 0)
		return ING_T_UNIT_PRICE;
	if (entity == CRM_ORDERS && strcmp(norm, "quantity") == 0)
		return ING_T_QUANTITY;
	return -1;
}

static int alias_target(int entity, const char *norm)
{
	for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++) {
		const struct alias *a = &aliases[k];
		if (a->entity != -1 && a->entity != entity)
			continue;
		int t = target_by_name(entity, a->field);
		if (t >= 0 && list_has(a->names, norm))
			return t;
	}
	return -1;
}

int ing_map_target(int entity, const char *p, size_t n)
{
	char norm[128];
	ing_norm_name(p, n, norm, sizeof norm);
	if (!norm[0])
		return -1;
	int t = canonical_target(entity, norm);
	return t >= 0 ? t : alias_target(entity, norm);
}

/* Splits "field=column" into the field's target and the column part. */
static int parse_spec(int entity, const char *spec, const char **column,
		      struct crm_err *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return -1 - crm_err_set(err, CRM_EINVAL,
			"--map %s: expected field=column or field=#N", spec);
	char field[64];
	size_t n = (size_t)(eq - spec);
	if (n >= sizeof field)
		n = sizeof field - 1;
	memcpy(field, spec, n);
	field[n] = '\0';
	int t = target_by_name(entity, field);
	if (t < 0)
		return -1 - crm_err_set(err, CRM_EINVAL,
			"--map %s: %s has no field named '%s'", spec, ent_get(entity)->name, field);
	*column = eq + 1;
	return t;
}

int ing_map_check_specs(int entity, const char *const *maps, size_t n_maps,
			struct crm_err *err)
{
	for (size_t k = 0; k < n_maps; k++) {
		const char *col;
		if (parse_spec(entity, maps[k], &col, err) < 0)
			return CRM_EINVAL;
		if (col[0] == '#')
			return crm_err_set(err, CRM_EINVAL,
				"--map %s: JSON Lines fields are named, not numbered", maps[k]);
	}
	return CRM_OK;
}

int ing_map_key(int entity, const char *const *maps, size_t n_maps,
		const char *key, size_t n)
{
	for (size_t k = 0; k < n_maps; k++) {
		const char *col;
		int t = parse_spec(entity, maps[k], &col, NULL);
		if (t >= 0 && strlen(col) == n && memcmp(col, key, n) == 0)
			return t;
	}
	int t = ing_map_target(entity, key, n);
	for (size_t k = 0; t >= 0 && k < n_maps; k++) {
		const char *col;
		if (parse_spec(entity, maps[k], &col, NULL) == t)
			return -1;  /* the field is fed by its explicit column */
	}
	return t;
}

int ing_map_build(struct ing_map *m, int entity, const struct ing_row *header,
		  size_t n_cols, const char *const *maps, size_t n_maps,
		  struct crm_err *err)
{
	int used_size = (int)n_cols;
	char *used = calloc(n_cols ? n_cols : 1, 1);
	if (!used)
		return crm_err_set(err, CRM_ENOMEM, "out of memory mapping columns");
	m->entity = entity;
	m->n_cols = n_cols;
	for (int t = 0; t < ING_N_TARGETS; t++) {
		m->col_of[t] = -1;
		m->explicit_of[t] = 0;
	}
	int rc = CRM_OK;
	for (size_t k = 0; k < n_maps; k++) {
		const char *col;
		int t = parse_spec(entity, maps[k], &col, err);
		if (t < 0) {
			rc = CRM_EINVAL;
			goto done;
		}
		int c = -1;
		if (col[0] == '#') {
			char *end;
			long v = strtol(col + 1, &end, 10);
			if (*end || v < 1 || v > used_size) {
				rc = crm_err_set(err, CRM_EINVAL, "--map %s: column #%s does not exist (the file has %zu)",
						 maps[k], col + 1, n_cols);
				goto done;
			}
			c = (int)v - 1;
		} else if (header) {
			for (size_t i = 0; i < n_cols && c < 0; i++)
				if (strlen(col) == header->fields[i].n &&
				    memcmp(col, header->fields[i].p, header->fields[i].n) == 0)
					c = (int)i;
			char want[128], have[128];
			ing_norm_name(col, strlen(col), want, sizeof want);
			for (size_t i = 0; i < n_cols && c < 0; i++) {
				ing_norm_name(header->fields[i].p, header->fields[i].n, have, sizeof have);
				if (strcmp(want, have) == 0)
					c = (int)i;
			}
		}
		if (c < 0) {
			rc = crm_err_set(err, CRM_EINVAL, "--map %s: no column named '%s'%s",
					 maps[k], col, header ? "" : " (the file has no header: use #N)");
			goto done;
		}
		m->col_of[t] = c;
		m->explicit_of[t] = 1;
		used[c] = 1;
	}
	if (header) {
		/* two passes: exact canonical names first, then aliases */
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < n_cols; i++) {
				if (used[i])
					continue;
				char norm[128];
				ing_norm_name(header->fields[i].p, header->fields[i].n, norm, sizeof norm);
				if (!norm[0])
					continue;
				int t = pass == 0 ? canonical_target(entity, norm) : alias_target(entity, norm);
				if (t < 0 || m->col_of[t] >= 0)
					continue;
				m->col_of[t] = (int)i;
				used[i] = 1;
			}
		}
	}
	/* without unit_price, a quantity column is the order's item count */
	if (entity == CRM_ORDERS && m->col_of[ING_T_UNIT_PRICE] < 0 &&
	    m->col_of[ING_T_QUANTITY] >= 0 && m->col_of[CRM_O_ITEMS] < 0) {
		m->col_of[CRM_O_ITEMS] = m->col_of[ING_T_QUANTITY];
		m->col_of[ING_T_QUANTITY] = -1;
	}
done:
	free(used);
	return rc;
}
