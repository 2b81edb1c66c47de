/* test_overview.c - counts of what a dataset holds (src/data/overview.c)
 * and their text (src/report/overview.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/entity.h"
#include "data/builder.h"
#include "data/overview.h"
#include "report/overview.h"

static void add(struct ds_builder *b, int entity, const char *id, const char *cust, int64_t at)
{
	struct ent_record r;
	struct crm_err err;
	memset(&r, 0, sizeof r);
	r.entity = entity;
	const struct ent_desc *d = ent_get(entity);
	if (d->id_field >= 0) {
		r.v[d->id_field].s = id;
		r.v[d->id_field].n = strlen(id);
		r.v[d->id_field].set = 1;
	}
	if (cust) {
		r.v[d->customer_field].s = cust;
		r.v[d->customer_field].n = strlen(cust);
		r.v[d->customer_field].set = 1;
	}
	r.v[d->time_field].i = at;
	r.v[d->time_field].set = 1;
	if (entity == CRM_ORDERS) {
		r.v[CRM_O_AMOUNT].i = 10000;
		r.v[CRM_O_AMOUNT].set = 1;
	}
	if (entity == CRM_WEB_EVENTS) {
		r.v[CRM_W_SESSION_ID].s = id;
		r.v[CRM_W_SESSION_ID].n = strlen(id);
		r.v[CRM_W_SESSION_ID].set = 1;
		r.v[CRM_W_PAGE].s = "/";
		r.v[CRM_W_PAGE].n = 1;
		r.v[CRM_W_PAGE].set = 1;
	}
	cr_assert_eq(ds_builder_add(b, &r, 0, NULL, &err), CRM_OK, "%s", err.msg);
}

Test(overview, counts_rows_customers_and_range)
{
	struct ds_builder *b;
	struct crm_err err;
	struct crm_dataset *ds;
	cr_assert_eq(ds_builder_new(&b, &err), CRM_OK);
	add(b, CRM_CUSTOMERS, "a", NULL, 86400);            /* signup 1970-01-02 */
	add(b, CRM_ORDERS, "o1", "a", 2 * 86400);
	add(b, CRM_ORDERS, "o2", "a", 3 * 86400);
	add(b, CRM_ORDERS, "o3", "b", 4 * 86400);           /* b: a stub */
	add(b, CRM_WEB_EVENTS, "s1", NULL, 5 * 86400);      /* anonymous */
	add(b, CRM_WEB_EVENTS, "s2", "a", 6 * 86400);
	cr_assert_eq(ds_builder_finish(b, &ds, &err), CRM_OK, "%s", err.msg);
	struct ds_overview o;
	ds_overview(ds, &o);
	cr_assert_eq(o.customers, 2);
	cr_assert_eq(o.stubs, 1);
	cr_assert_eq(o.rows[CRM_ORDERS], 3);
	cr_assert_eq(o.with_rows[CRM_ORDERS], 2);
	cr_assert_eq(o.rows[CRM_WEB_EVENTS], 2);
	cr_assert_eq(o.with_rows[CRM_WEB_EVENTS], 1);
	cr_assert_eq(o.without_customer[CRM_WEB_EVENTS], 1);
	cr_assert_eq(o.first_at, 86400);
	cr_assert_eq(o.last_at, 6 * 86400);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(rpt_overview_text(&o, f, &err), CRM_OK);
	fclose(f);
	cr_assert(strstr(text, "dataset: 2 customers (1 known only from references), "
			       "events from 1970-01-02 to 1970-01-07\n") == text, "%s", text);
	cr_assert(strstr(text, "  orders                    3                2                  0\n") != NULL, "%s", text);
	free(text);
	crm_dataset_free(ds);
}
