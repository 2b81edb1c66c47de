/* activity.c - what the demo's customers do besides ordering (demo layer):
 * support tickets, interactions, survey feedback, leads, marketing spend and
 * web sessions, each drawn on its own random stream from the customers and
 * orders that demo.c built, sorted by time and written with ids in that
 * order. The parameters are written to truth.json by demo_activity_truth. */
#include "demo/demo_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <jansson.h>

#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NA INT64_MIN
#define NONE UINT32_MAX
#define DAY ((double)SECS_PER_DAY)

/* Growable arrays of the compact events below. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 1024;
	void *p = xreallocn(*v, c, size);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

static size_t pick_w(gsl_rng *r, const double *w, size_t n)
{
	double sum = 0, acc = 0;
	for (size_t i = 0; i < n; i++)
		sum += w[i];
	double u = gsl_rng_uniform(r) * sum;
	for (size_t i = 0; i + 1 < n; i++) {
		acc += w[i];
		if (u < acc)
			return i;
	}
	return n - 1;
}

static size_t pick(gsl_rng *r, size_t n)
{
	return (size_t)gsl_rng_uniform_int(r, (unsigned long)n);
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Is person i still buying at time t (alive in the BG/NBD sense)? */
static int alive_at(const struct demo_person *pp, int64_t t)
{
	return pp->death_at == NA || pp->death_at > t;
}

/* The rng that places an entity's bad rows. */
static gsl_rng *bad_rng(const struct demo_world *w, int entity)
{
	return demo_rng(w->seed, 100 + entity);
}

static int nomem(struct crm_err *err, const char *what)
{
	return crm_err_set(err, CRM_ENOMEM, "demo: out of memory generating %s", what);
}

/* Frees an entity's two random streams (either may be NULL). */
static void free_streams(gsl_rng *r, gsl_rng *rb)
{
	if (r)
		gsl_rng_free(r);
	if (rb)
		gsl_rng_free(rb);
}

/* Opens the entity's file in w->dir for n real rows, its bad rows planted
 * at places drawn from rb and, for an entity with ids (prefix and width of
 * "T0000001"; 0, 0: none), numbered after the real rows'. */
static int open_csv(struct demo_world *w, struct demo_csv *csv, int entity, size_t n,
		    gsl_rng *rb, char prefix, int width, struct crm_err *err)
{
	return demo_csv_open(csv, w->dir, entity, n, rb, prefix, width, prefix ? n + 1 : 0,
			     &w->bad[entity], err);
}

/* Records csv's rows in w and closes it (demo_csv_close). */
static int close_csv(struct demo_world *w, struct demo_csv *csv, struct crm_err *err)
{
	w->rows[csv->entity] = csv->n_rows;
	return demo_csv_close(csv, err);
}

/* Clears row for real row k (0-based) of csv, giving it its id, k + 1 in
 * csv's prefix and width, when the entity has one. */
static void start_row(struct demo_row *row, const struct demo_csv *csv, size_t k)
{
	int id = ent_get(csv->entity)->id_field;
	demo_row_clear(row);
	if (id >= 0)
		demo_cell_idnum(row, id, csv->id_prefix, csv->id_width, k + 1);
}

/* Field f of row: the id of customers record rec, kept in the row's scratch. */
static void cell_customer(const struct demo_world *w, struct demo_row *row, int f, uint32_t rec)
{
	demo_cust_id(w, rec, row->scratch[f]);
	demo_cell_str(row, f, row->scratch[f]);
}

/* ---------------------------------------------------------------- tickets */

struct ticket_params {
	const char *channel;
	double share;
	double response_median_s, response_sigma;  /* lognormal first response */
	double never_answered;
	double resolve_median_s, resolve_sigma;    /* lognormal, from first response */
	double unresolved;
};
#define N_TICKET_CHANNELS 4

static const struct ticket_params ticket_channels[N_TICKET_CHANNELS] = {
	/* channel, share, first response median s and sigma, never answered,
	 * resolution median s (from first response) and sigma, unresolved */
	{ "email", 0.40, 6 * 3600.0, 1.0, 0.05, 20 * 3600.0, 1.0, 0.04 },
	{ "chat", 0.30, 90.0, 0.8, 0.02, 25 * 60.0, 0.9, 0.03 },
	{ "phone", 0.20, 45.0, 0.6, 0.01, 12 * 60.0, 0.8, 0.03 },
	{ "social", 0.10, 3 * 3600.0, 1.2, 0.12, 10 * 3600.0, 1.1, 0.08 },
};
static const double handling_median_min[N_TICKET_CHANNELS] = { 7, 14, 9, 5 };
static const char *const ticket_topics[] = {
	"delivery", "returns", "payment", "product_quality", "account", "other"
};
static const double topic_w_completed[] = { 35, 10, 10, 20, 10, 15 };
static const double topic_w_returned[] = { 10, 70, 5, 15, 0, 0 };
static const double topic_w_cancelled[] = { 30, 0, 50, 0, 10, 10 };
static const char *const priorities[] = { "low", "normal", "high", "urgent" };
static const double priority_w[] = { 25, 55, 15, 5 };
static const double ticket_prob[] = { 0, 0.08, 0.50, 0.30 };   /* by order status */

struct ticket {
	int64_t opened, first, resolved;   /* NA when missing */
	int64_t handling;                  /* ten-thousandths of minutes, or NA */
	uint32_t rec, seq;
	uint8_t channel, topic, priority, sat, effort;  /* sat/effort 0: missing */
};

static int cmp_ticket(const void *pa, const void *pb)
{
	const struct ticket *a = pa, *b = pb;
	if (a->opened != b->opened)
		return a->opened < b->opened ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int iround(double x, int lo, int hi)
{
	long v = lround(x);
	return (int)(v < lo ? lo : v > hi ? hi : v);
}

int demo_write_tickets(struct demo_world *w, struct crm_err *err)
{
	gsl_rng *r = demo_rng(w->seed, DS_TICKET), *rb = bad_rng(w, CRM_TICKETS);
	struct ticket *v = NULL;
	size_t n = 0, cap = 0;
	int rc = CRM_OK;
	double ch_w[N_TICKET_CHANNELS];
	for (int k = 0; k < N_TICKET_CHANNELS; k++)
		ch_w[k] = ticket_channels[k].share;
	if (!r || !rb) {
		rc = nomem(err, "tickets");
		goto done;
	}
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct demo_order *o = &w->orders[k];
		if (gsl_rng_uniform(r) >= ticket_prob[o->status])
			continue;
		int64_t opened = o->at + 600 + (int64_t)gsl_ran_exponential(r, 3 * DAY);
		if (opened >= w->end)
			continue;
		if (grow((void **)&v, &cap, n, sizeof *v) != 0) {
			rc = nomem(err, "tickets");
			goto done;
		}
		struct ticket *t = &v[n];
		t->seq = (uint32_t)n++;
		t->rec = o->rec;
		t->opened = opened;
		t->channel = (uint8_t)pick_w(r, ch_w, N_TICKET_CHANNELS);
		const double *tw = o->status == OS_RETURNED ? topic_w_returned
				 : o->status == OS_CANCELLED ? topic_w_cancelled : topic_w_completed;
		t->topic = (uint8_t)pick_w(r, tw, N(ticket_topics));
		t->priority = (uint8_t)pick_w(r, priority_w, N(priorities));
		const struct ticket_params *tp = &ticket_channels[t->channel];
		double frt = gsl_ran_lognormal(r, log(tp->response_median_s), tp->response_sigma);
		double res = gsl_ran_lognormal(r, log(tp->resolve_median_s), tp->resolve_sigma);
		int never = gsl_rng_uniform(r) < tp->never_answered;
		int unresolved = gsl_rng_uniform(r) < tp->unresolved;
		t->first = t->resolved = t->handling = NA;
		if (!never && opened + (int64_t)frt < w->end) {
			t->first = opened + (int64_t)frt + 1;
			if (!unresolved && t->first + (int64_t)res < w->end)
				t->resolved = t->first + (int64_t)res;
			double mins = gsl_ran_lognormal(r, log(handling_median_min[t->channel]), 0.5);
			t->handling = (int64_t)llround(mins * 10.0) * (MONEY_SCALE / 10);
		}
		/* satisfaction falls with the wait (log minutes) and when unresolved */
		double wait_min = t->first == NA ? 1e4 : frt / 60.0;
		double base = 4.6 - 0.45 * log10(1.0 + wait_min) - (t->resolved == NA ? 1.0 : 0.0);
		double e_base = 2.0 + 0.6 * log10(1.0 + wait_min) + (t->resolved == NA ? 2.0 : 0.0);
		double s_noise = gsl_ran_gaussian(r, 0.8), e_noise = gsl_ran_gaussian(r, 1.0);
		t->sat = t->effort = 0;
		if (gsl_rng_uniform(r) < (t->first == NA ? 0.3 : 0.55)) {
			t->sat = (uint8_t)iround(base + s_noise, 1, 5);
			t->effort = (uint8_t)iround(e_base + e_noise, 1, 7);
		}
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_ticket);

	struct demo_csv csv;
	struct demo_row row;
	if ((rc = open_csv(w, &csv, CRM_TICKETS, n, rb, 'T', 7, err)) != CRM_OK)
		goto done;
	for (size_t k = 0; k < n; k++) {
		const struct ticket *t = &v[k];
		start_row(&row, &csv, k);
		cell_customer(w, &row, CRM_T_CUSTOMER_ID, t->rec);
		demo_cell_time(&row, CRM_T_OPENED_AT, t->opened);
		if (t->first != NA)
			demo_cell_time(&row, CRM_T_FIRST_RESPONSE_AT, t->first);
		if (t->resolved != NA)
			demo_cell_time(&row, CRM_T_RESOLVED_AT, t->resolved);
		demo_cell_str(&row, CRM_T_CHANNEL, ticket_channels[t->channel].channel);
		demo_cell_str(&row, CRM_T_TOPIC, ticket_topics[t->topic]);
		demo_cell_str(&row, CRM_T_PRIORITY, priorities[t->priority]);
		if (t->sat)
			demo_cell_int(&row, CRM_T_SATISFACTION, t->sat);
		if (t->effort)
			demo_cell_int(&row, CRM_T_EFFORT, t->effort);
		if (t->handling != NA)
			demo_cell_dec1(&row, CRM_T_HANDLING_MINUTES, t->handling);
		demo_csv_row(&csv, &row);
	}
	rc = close_csv(w, &csv, err);
done:
	free(v);
	free_streams(r, rb);
	return rc;
}

/* ----------------------------------------------------------- interactions */

enum { IK_INQUIRY, IK_COMPLAINT, IK_CAMPAIGN, IK_VISIT, IK_SOCIAL };
static const char *const interaction_kinds[] = { "inquiry", "complaint", "campaign", "visit", "social" };
enum { IC_PHONE, IC_EMAIL, IC_CHAT, IC_STORE, IC_SOCIAL };
static const char *const interaction_channels[] = { "phone", "email", "chat", "store", "social" };

/* Marketing campaigns sent by e-mail: name and date. */
static const struct { const char *name; int y, m, d; } campaigns[] = {
	{ "black_friday_2022", 2022, 11, 25 }, { "christmas_2022", 2022, 12, 8 },
	{ "spring_sale_2023", 2023, 3, 15 }, { "summer_sale_2023", 2023, 7, 3 },
	{ "black_friday_2023", 2023, 11, 24 }, { "christmas_2023", 2023, 12, 7 },
	{ "spring_sale_2024", 2024, 3, 14 }, { "summer_sale_2024", 2024, 7, 4 },
	{ "black_friday_2024", 2024, 11, 29 }, { "christmas_2024", 2024, 12, 9 },
	{ "spring_sale_2025", 2025, 3, 13 },
};
#define CAMPAIGN_ENGAGE_ALIVE 0.30
#define CAMPAIGN_ENGAGE_GONE 0.10

static const char *const inquiry_texts[] = {
	"Asked when order %s will be delivered",
	"Asked whether order %s can still be changed",
	"Question about the size guide before order %s",
	"Wanted to change the delivery address of order %s",
	"Asked for an invoice for order %s",
};
static const char *const complaint_texts[] = {
	"Complained that order %s arrived damaged",
	"Order %s arrived late, customer unhappy",
	"Complained about the refund for order %s taking too long",
	"Wrong item in order %s, asked for an exchange",
	"Complained that order %s was cancelled without notice",
};
static const char *const campaign_texts[] = { "", "Opened the campaign e-mail", "Clicked through to the offer" };
static const char *const visit_texts[] = { "", "Visited the store", "Tried products in the store" };
static const char *const social_pos[] = {
	"Love my new headphones, great quality!",
	"Fast delivery and excellent service, thank you",
	"Best online shop, highly recommend",
	"Great prices this week, happy with my order",
};
static const char *const social_neg[] = {
	"Still waiting for my parcel, terrible service",
	"The product broke after a week, very disappointed",
	"Awful customer support, nobody answers",
	"Refund takes forever, not happy at all",
};

struct interaction {
	int64_t at;
	uint32_t rec, seq;
	uint32_t order;            /* order index for the text, or NONE */
	int32_t duration;          /* s, or -1 */
	const char *text;          /* a template (with %s for the order id) or text */
	uint8_t kind, channel, sat, campaign;  /* sat 0 missing; campaign 0 none, else k + 1 */
	uint8_t email_campaign;    /* campaign interactions come by e-mail */
};

static int cmp_interaction(const void *pa, const void *pb)
{
	const struct interaction *a = pa, *b = pb;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int32_t duration_for(gsl_rng *r, int channel)
{
	switch (channel) {
	case IC_PHONE: return (int32_t)gsl_ran_lognormal(r, log(240.0), 0.6);
	case IC_CHAT: return (int32_t)gsl_ran_lognormal(r, log(420.0), 0.5);
	case IC_STORE: return (int32_t)gsl_ran_lognormal(r, log(900.0), 0.5);
	default: return -1;
	}
}

static const double sat_w_inquiry[] = { 3, 5, 15, 37, 40 };
static const double sat_w_complaint[] = { 25, 30, 25, 15, 5 };

struct ia_list {
	struct interaction *v;
	size_t n, cap;
};

static struct interaction *ia_new(struct ia_list *l, uint32_t rec, int64_t at, int kind, int channel)
{
	if (grow((void **)&l->v, &l->cap, l->n, sizeof *l->v) != 0)
		return NULL;
	struct interaction *x = &l->v[l->n];
	memset(x, 0, sizeof *x);
	x->seq = (uint32_t)l->n++;
	x->rec = rec;
	x->at = at;
	x->kind = (uint8_t)kind;
	x->channel = (uint8_t)channel;
	x->order = NONE;
	x->duration = -1;
	return x;
}

static int gen_interactions(struct demo_world *w, gsl_rng *r, struct ia_list *l)
{
	static const double inq_ch[] = { 35, 30, 30, 5, 0 };
	static const double cmp_ch[] = { 30, 40, 20, 0, 10 };
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct demo_order *o = &w->orders[k];
		const struct demo_cust *c = &w->recs[o->rec];
		struct interaction *x;
		if (o->status == OS_COMPLETED && gsl_rng_uniform(r) < 0.08) {
			int before = gsl_rng_uniform(r) < 0.5;
			int64_t at = before ? o->at - (int64_t)(gsl_rng_uniform(r) * 5 * DAY)
					    : o->at + 3600 + (int64_t)(gsl_rng_uniform(r) * 4 * DAY);
			at = clampi(at, c->signup_at, w->end - 1);
			int ch = (int)pick_w(r, inq_ch, 5);
			if (!(x = ia_new(l, o->rec, at, IK_INQUIRY, ch)))
				return -1;
			x->order = (uint32_t)k;
			x->duration = duration_for(r, ch);
			x->text = inquiry_texts[pick(r, N(inquiry_texts))];
			if (gsl_rng_uniform(r) < 0.5)
				x->sat = (uint8_t)(1 + pick_w(r, sat_w_inquiry, 5));
		}
		double pc = o->status == OS_RETURNED ? 0.35 : o->status == OS_CANCELLED ? 0.2 : 0.005;
		if (gsl_rng_uniform(r) < pc) {
			int64_t at = o->at + 3600 + (int64_t)(gsl_rng_uniform(r) * 7 * DAY);
			if (at < w->end) {
				int ch = (int)pick_w(r, cmp_ch, 5);
				if (!(x = ia_new(l, o->rec, at, IK_COMPLAINT, ch)))
					return -1;
				x->order = (uint32_t)k;
				x->duration = duration_for(r, ch);
				x->text = complaint_texts[o->status == OS_CANCELLED ? 4 : pick(r, 4)];
				if (gsl_rng_uniform(r) < 0.6)
					x->sat = (uint8_t)(1 + pick_w(r, sat_w_complaint, 5));
			}
		}
		if (demo_order_channels[o->channel][0] == 's' && gsl_rng_uniform(r) < 0.5) {
			int64_t at = o->at - 300 - (int64_t)(gsl_rng_uniform(r) * 3300);
			if (at > c->signup_at) {
				if (!(x = ia_new(l, o->rec, at, IK_VISIT, IC_STORE)))
					return -1;
				x->duration = duration_for(r, IC_STORE);
				x->text = visit_texts[pick(r, N(visit_texts))];
			}
		}
	}
	for (size_t i = 0; i < w->n_persons; i++) {
		const struct demo_person *pp = &w->persons[i];
		const struct demo_cust *c = &w->recs[pp->rec];
		struct interaction *x;
		/* campaign e-mails: people still buying open them more often */
		for (size_t k = 0; k < N(campaigns); k++) {
			int64_t t0 = days_from_civil(campaigns[k].y, (unsigned)campaigns[k].m,
						     (unsigned)campaigns[k].d) * SECS_PER_DAY + 8 * 3600;
			size_t email_len;
			(void)strs_get(&w->pool, c->s_email, &email_len);
			if (c->signup_at >= t0 || email_len == 0)
				continue;
			double pe = alive_at(pp, t0) ? CAMPAIGN_ENGAGE_ALIVE : CAMPAIGN_ENGAGE_GONE;
			if (gsl_rng_uniform(r) >= pe)
				continue;
			int64_t at = t0 + (int64_t)gsl_ran_exponential(r, 1.5 * DAY);
			if (at >= w->end)
				continue;
			if (!(x = ia_new(l, pp->rec, at, IK_CAMPAIGN, IC_EMAIL)))
				return -1;
			x->campaign = (uint8_t)(k + 1);
			x->duration = (int32_t)gsl_ran_lognormal(r, log(25.0), 0.8);
			x->text = campaign_texts[pick(r, N(campaign_texts))];
		}
		/* social media posts */
		if (gsl_rng_uniform(r) < 0.08) {
			unsigned posts = 1 + gsl_ran_poisson(r, 1.0);
			for (unsigned k = 0; k < posts; k++) {
				int64_t at = c->signup_at + (int64_t)(gsl_rng_uniform(r) * (double)(w->end - c->signup_at));
				int positive = gsl_rng_uniform(r) < (alive_at(pp, at) ? 0.7 : 0.35);
				const char *text = NULL;
				if (demo_country_script(c->country) != SCRIPT_LATIN && gsl_rng_uniform(r) < 0.4)
					text = demo_native_post(r, c->country, positive);
				if (!text)
					text = positive ? social_pos[pick(r, N(social_pos))]
							: social_neg[pick(r, N(social_neg))];
				if (!(x = ia_new(l, pp->rec, at, IK_SOCIAL, IC_SOCIAL)))
					return -1;
				x->text = text;
			}
		}
		/* store visits without an order */
		if (gsl_rng_uniform(r) < 0.05) {
			int64_t at = c->signup_at + (int64_t)(gsl_rng_uniform(r) * (double)(w->end - c->signup_at));
			if (!(x = ia_new(l, pp->rec, at, IK_VISIT, IC_STORE)))
				return -1;
			x->duration = duration_for(r, IC_STORE);
			x->text = visit_texts[1];
		}
	}
	return 0;
}

int demo_write_interactions(struct demo_world *w, struct crm_err *err)
{
	gsl_rng *r = demo_rng(w->seed, DS_INTERACTION), *rb = bad_rng(w, CRM_INTERACTIONS);
	struct ia_list l = { NULL, 0, 0 };
	int rc = CRM_OK;
	if (!r || !rb || gen_interactions(w, r, &l) != 0) {
		rc = nomem(err, "interactions");
		goto done;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_interaction);

	struct demo_csv csv;
	struct demo_row row;
	char oid[16], text[256];
	if ((rc = demo_csv_open(&csv, w->dir, CRM_INTERACTIONS, l.n, rb, 'I', 7,
				l.n + 1, &w->bad[CRM_INTERACTIONS], err)) != CRM_OK)
		goto done;
	for (size_t k = 0; k < l.n; k++) {
		const struct interaction *x = &l.v[k];
		start_row(&row, &csv, k);
		cell_customer(w, &row, CRM_I_CUSTOMER_ID, x->rec);
		demo_cell_time(&row, CRM_I_OCCURRED_AT, x->at);
		demo_cell_str(&row, CRM_I_CHANNEL, interaction_channels[x->channel]);
		demo_cell_str(&row, CRM_I_KIND, interaction_kinds[x->kind]);
		if (x->campaign)
			demo_cell_str(&row, CRM_I_CAMPAIGN, campaigns[x->campaign - 1].name);
		if (x->duration >= 0)
			demo_cell_int(&row, CRM_I_DURATION_S, x->duration);
		if (x->sat)
			demo_cell_int(&row, CRM_I_SATISFACTION, x->sat);
		if (x->order != NONE) {
			snprintf(oid, sizeof oid, "O%07u", x->order + 1);
			snprintf(text, sizeof text, x->text, oid);
			demo_cell_str(&row, CRM_I_TEXT, text);
		} else if (x->text && x->text[0]) {
			demo_cell_str(&row, CRM_I_TEXT, x->text);
		}
		demo_csv_row(&csv, &row);
	}
	rc = close_csv(w, &csv, err);
done:
	free(l.v);
	free_streams(r, rb);
	return rc;
}

/* --------------------------------------------------------------- feedback */

/* Score weights (per cent) of customers who keep buying and of those who
 * drop out (BG/NBD dropout before the end): leavers answer lower. CES is
 * the CES 2.0 agreement scale, 7 = "it was easy". */
static const double nps_stay[11] = { 1, 1, 1, 1, 2, 3, 4, 8, 18, 28, 33 };
static const double nps_leave[11] = { 4, 4, 5, 6, 8, 11, 12, 14, 14, 11, 11 };
static const double csat_stay[5] = { 3, 5, 12, 40, 40 };
static const double csat_leave[5] = { 12, 18, 25, 30, 15 };
static const double ces_stay[7] = { 2, 3, 5, 10, 20, 30, 30 };
static const double ces_leave[7] = { 8, 12, 15, 20, 20, 15, 10 };

#define FEEDBACK_PER_ORDER 0.15
#define COMMENT_SHARE 0.40
#define MULTILINE_SHARE 0.01

static const char *const fb_kinds[] = { "nps", "csat", "ces" };
static const double fb_kind_w[] = { 50, 30, 20 };
static const char *const fb_topics[] = { "delivery", "product", "price", "website", "support", "returns" };
static const char *const fb_channels[] = { "email", "web", "app", "sms" };
static const double fb_channel_w[] = { 60, 20, 15, 5 };

/* Comments by topic: positive, negative, mixed. */
static const char *const comments[6][3][2] = {
	{ { "Fast delivery, the parcel arrived a day early. Great!", "Excellent courier, very friendly" },
	  { "Delivery was late and the box was damaged", "Terrible delivery, waited two weeks" },
	  { "Delivery was fine, but the tracking did not work", "OK, although the courier was late" } },
	{ { "Love the quality, exactly as described", "Great product, works perfectly" },
	  { "The product broke after a week, very disappointed", "Poor quality, \"premium\" my foot" },
	  { "Good product, but smaller than expected", "Decent quality, nothing special" } },
	{ { "Great prices and a nice discount", "Good value for money, happy" },
	  { "Too expensive, cheaper elsewhere", "Hidden fees at checkout, awful" },
	  { "Prices are OK, shipping costs a bit high", "Fair price, not the cheapest" } },
	{ { "The website is easy to use, love it", "Checkout was quick and simple" },
	  { "The website is slow and the search is useless", "Checkout crashed twice, frustrating" },
	  { "Nice site, but the filters are confusing", "Website fine, app could be better" } },
	{ { "Support was helpful and fast, thank you", "Excellent support, problem solved quickly" },
	  { "Support never answered my e-mail, terrible", "Rude agent, waited an hour on the phone" },
	  { "Support solved it, but it took a while", "Helpful, though I had to ask twice" } },
	{ { "Easy return, refund arrived quickly", "Returns are simple, great service" },
	  { "Refund took a month, never again", "Return label did not work, annoying" },
	  { "Return was OK, refund a bit slow", "Fine, but the return form is confusing" } },
};

struct response {
	int64_t at;
	uint32_t rec, seq;
	uint8_t kind, score, topic, channel;
	int8_t sentiment;          /* comment: 0 positive, 1 negative, 2 mixed; -1 none */
	uint8_t variant, multiline;
};

static int cmp_response(const void *pa, const void *pb)
{
	const struct response *a = pa, *b = pb;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int demo_write_feedback(struct demo_world *w, struct crm_err *err)
{
	gsl_rng *r = demo_rng(w->seed, DS_FEEDBACK), *rb = bad_rng(w, CRM_FEEDBACK);
	struct response *v = NULL;
	size_t n = 0, cap = 0;
	int rc = CRM_OK;
	if (!r || !rb) {
		rc = nomem(err, "feedback");
		goto done;
	}
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct demo_order *o = &w->orders[k];
		if (o->status != OS_COMPLETED || gsl_rng_uniform(r) >= FEEDBACK_PER_ORDER)
			continue;
		int64_t at = o->at + (int64_t)((1.0 + 6.0 * gsl_rng_uniform(r)) * DAY);
		if (at >= w->end)
			continue;
		if (grow((void **)&v, &cap, n, sizeof *v) != 0) {
			rc = nomem(err, "feedback");
			goto done;
		}
		struct response *x = &v[n];
		x->seq = (uint32_t)n++;
		x->at = at;
		x->rec = o->rec;
		int leaver = w->persons[o->person].death_at != NA;
		x->kind = (uint8_t)pick_w(r, fb_kind_w, 3);
		int good, bad;
		if (x->kind == 0) {
			x->score = (uint8_t)pick_w(r, leaver ? nps_leave : nps_stay, 11);
			good = x->score >= 9;
			bad = x->score <= 6;
		} else if (x->kind == 1) {
			x->score = (uint8_t)(1 + pick_w(r, leaver ? csat_leave : csat_stay, 5));
			good = x->score >= 4;
			bad = x->score <= 2;
		} else {
			x->score = (uint8_t)(1 + pick_w(r, leaver ? ces_leave : ces_stay, 7));
			good = x->score >= 6;
			bad = x->score <= 3;
		}
		x->topic = (uint8_t)pick(r, N(fb_topics));
		x->channel = (uint8_t)pick_w(r, fb_channel_w, N(fb_channels));
		x->sentiment = -1;
		if (gsl_rng_uniform(r) < COMMENT_SHARE) {
			x->sentiment = (int8_t)(good ? 0 : bad ? 1 : 2);
			x->variant = (uint8_t)pick(r, 2);
			x->multiline = gsl_rng_uniform(r) < MULTILINE_SHARE;
		}
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_response);

	struct demo_csv csv;
	struct demo_row row;
	char text[256];
	if ((rc = open_csv(w, &csv, CRM_FEEDBACK, n, rb, 'F', 7, err)) != CRM_OK)
		goto done;
	for (size_t k = 0; k < n; k++) {
		const struct response *x = &v[k];
		start_row(&row, &csv, k);
		cell_customer(w, &row, CRM_F_CUSTOMER_ID, x->rec);
		demo_cell_time(&row, CRM_F_ANSWERED_AT, x->at);
		demo_cell_str(&row, CRM_F_KIND, fb_kinds[x->kind]);
		demo_cell_int(&row, CRM_F_SCORE, x->score);
		demo_cell_str(&row, CRM_F_TOPIC, fb_topics[x->topic]);
		demo_cell_str(&row, CRM_F_CHANNEL, fb_channels[x->channel]);
		if (x->sentiment >= 0) {
			const char *c = comments[x->topic][x->sentiment][x->variant];
			if (x->multiline)
				snprintf(text, sizeof text, "%s.\nThanks for asking.", c);
			else
				snprintf(text, sizeof text, "%s", c);
			demo_cell_str(&row, CRM_F_COMMENT, text);
		}
		demo_csv_row(&csv, &row);
	}
	rc = close_csv(w, &csv, err);
done:
	free(v);
	free_streams(r, rb);
	return rc;
}

/* ------------------------------------------------------------------ leads */

struct lead {
	int64_t created, converted;    /* converted NA: never */
	int64_t expected;              /* money */
	uint32_t rec, seq;             /* rec NONE: not a customer */
	uint8_t source, campaign;
};

static int cmp_lead(const void *pa, const void *pb)
{
	const struct lead *a = pa, *b = pb;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int64_t lead_value(gsl_rng *r)
{
	/* Gamma(2, 60): mean 120 EUR, rounded to 5 EUR */
	double eur = 5.0 * floor(gsl_ran_gamma(r, 2.0, 60.0) / 5.0 + 0.5);
	return (int64_t)(eur < 5 ? 5 : eur) * MONEY_SCALE;
}

int demo_write_leads(struct demo_world *w, struct crm_err *err)
{
	gsl_rng *r = demo_rng(w->seed, DS_LEAD), *rb = bad_rng(w, CRM_LEADS);
	struct lead *v = NULL;
	size_t n = 0, cap = 0, converted[DC_N] = { 0 };
	int rc = CRM_OK;
	if (!r || !rb) {
		rc = nomem(err, "leads");
		goto done;
	}
	for (size_t i = 0; i < w->n_persons; i++) {
		const struct demo_person *pp = &w->persons[i];
		if (!pp->has_lead)
			continue;
		if (grow((void **)&v, &cap, n, sizeof *v) != 0) {
			rc = nomem(err, "leads");
			goto done;
		}
		const struct demo_cust *c = &w->recs[pp->rec];
		struct lead *x = &v[n];
		x->seq = (uint32_t)n++;
		x->converted = c->signup_at;
		x->created = c->signup_at - (int64_t)gsl_ran_gamma(r, 2.0, 3.0 * DAY);
		if (x->created < w->start)
			x->created = w->start + (c->signup_at - w->start) / 2;
		x->rec = pp->rec;
		x->source = pp->channel;
		x->campaign = pp->campaign;
		x->expected = lead_value(r);
		converted[pp->channel]++;
	}
	/* leads that never convert: with conversion probability c per lead, the
	 * number of failures before the converted ones is negative binomial */
	for (int s = 0; s < DC_N; s++) {
		const struct demo_channel_params *ch = &demo_channels[s];
		if (converted[s] == 0)
			continue;
		unsigned fails = gsl_ran_negative_binomial(r, ch->lead_conversion, (double)converted[s]);
		for (unsigned k = 0; k < fails; k++) {
			if (grow((void **)&v, &cap, n, sizeof *v) != 0) {
				rc = nomem(err, "leads");
				goto done;
			}
			struct lead *x = &v[n];
			x->seq = (uint32_t)n++;
			x->created = demo_draw_time(w, r);
			x->converted = NA;
			x->rec = NONE;
			x->source = (uint8_t)s;
			x->campaign = (uint8_t)pick(r, ch->n_campaigns);
			x->expected = lead_value(r);
		}
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_lead);

	struct demo_csv csv;
	struct demo_row row;
	if ((rc = open_csv(w, &csv, CRM_LEADS, n, rb, 'L', 7, err)) != CRM_OK)
		goto done;
	for (size_t k = 0; k < n; k++) {
		const struct lead *x = &v[k];
		start_row(&row, &csv, k);
		demo_cell_time(&row, CRM_L_CREATED_AT, x->created);
		demo_cell_str(&row, CRM_L_SOURCE, demo_channels[x->source].name);
		demo_cell_str(&row, CRM_L_CAMPAIGN, demo_channels[x->source].campaigns[x->campaign]);
		if (x->converted != NA) {
			demo_cell_time(&row, CRM_L_CONVERTED_AT, x->converted);
			cell_customer(w, &row, CRM_L_CUSTOMER_ID, x->rec);
		}
		demo_cell_money(&row, CRM_L_EXPECTED_VALUE, x->expected);
		demo_csv_row(&csv, &row);
	}
	rc = close_csv(w, &csv, err);
done:
	free(v);
	free_streams(r, rb);
	return rc;
}

/* ------------------------------------------------------------------ spend */

#define SPEND_NOISE_SHAPE 50.0   /* monthly spend = CAC x new customers x Gamma(50, 1/50) */

/* Month index (0..35) of time t. */
static int month_index(int64_t t)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(ts_day(t), &y, &m, &d);
	return (int)((y - DEMO_START_Y) * 12 + (int64_t)m - DEMO_START_M);
}

int demo_write_spend(struct demo_world *w, struct crm_err *err)
{
	gsl_rng *r = demo_rng(w->seed, DS_SPEND), *rb = bad_rng(w, CRM_SPEND);
	size_t (*n_new)[DC_N][DEMO_MAX_CAMPAIGNS] = calloc(DEMO_N_MONTHS, sizeof *n_new);
	int rc = CRM_OK;
	if (!r || !rb || !n_new) {
		rc = nomem(err, "spend");
		goto done;
	}
	for (size_t i = 0; i < w->n_persons; i++) {
		const struct demo_person *pp = &w->persons[i];
		if (pp->first_at == NA)
			continue;
		int m = month_index(pp->first_at);
		if (m >= 0 && m < DEMO_N_MONTHS)
			n_new[m][pp->channel][pp->campaign]++;
	}
	size_t n = 0;
	for (int m = 0; m < DEMO_N_MONTHS; m++)
		for (int c = 0; c < DC_N; c++)
			for (size_t k = 0; k < demo_channels[c].n_campaigns; k++)
				n += n_new[m][c][k] > 0;

	struct demo_csv csv;
	struct demo_row row;
	if ((rc = open_csv(w, &csv, CRM_SPEND, n, rb, 0, 0, err)) != CRM_OK)
		goto done;
	for (int m = 0; m < DEMO_N_MONTHS; m++) {
		int64_t y = DEMO_START_Y + (DEMO_START_M - 1 + m) / 12;
		unsigned mo = (unsigned)((DEMO_START_M - 1 + m) % 12 + 1);
		int64_t day = days_from_civil(y, mo, 1) * SECS_PER_DAY;
		for (int c = 0; c < DC_N; c++)
			for (size_t k = 0; k < demo_channels[c].n_campaigns; k++) {
				if (n_new[m][c][k] == 0)
					continue;
				double eur = demo_channels[c].cac * (double)n_new[m][c][k] *
					     gsl_ran_gamma(r, SPEND_NOISE_SHAPE, 1.0 / SPEND_NOISE_SHAPE);
				demo_row_clear(&row);
				demo_cell_date(&row, CRM_S_DATE, day);
				demo_cell_str(&row, CRM_S_CHANNEL, demo_channels[c].name);
				demo_cell_money(&row, CRM_S_AMOUNT, (int64_t)llround(eur * 100.0) * 100);
				demo_cell_str(&row, CRM_S_CAMPAIGN, demo_channels[c].campaigns[k]);
				demo_csv_row(&csv, &row);
			}
	}
	rc = close_csv(w, &csv, err);
done:
	free(n_new);
	free_streams(r, rb);
	return rc;
}

/* ------------------------------------------------------------- web events */

enum { PG_HOME, PG_CATEGORY, PG_PRODUCT, PG_CART, PG_CHECKOUT, PG_SEARCH, PG_ACCOUNT, PG_HELP };
enum { EV_VIEW, EV_ADD, EV_PURCHASE };
static const char *const web_events[] = { "view", "add_to_cart", "purchase" };
enum { WC_DIRECT, WC_SEARCH, WC_SOCIAL, WC_EMAIL, WC_AFFILIATE, WC_REFERRAL };
static const char *const web_channels[] = { "direct", "search", "social", "email", "affiliate", "referral" };
/* web channel of each acquisition channel (enum demo_channel order) */
static const uint8_t web_of_acq[DC_N] = { WC_SEARCH, WC_SOCIAL, WC_REFERRAL, WC_EMAIL, WC_AFFILIATE };
static const double web_channel_w[] = { 40, 25, 10, 12, 8, 5 };   /* returning visits */
static const char *const referrers[][3] = {
	{ NULL, NULL, NULL },
	{ "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/" },
	{ "https://www.instagram.com/", "https://www.facebook.com/", "https://www.tiktok.com/" },
	{ NULL, "https://mail.google.com/", NULL },
	{ "https://www.coupon-hub.example/", "https://www.gadget-reviews.example/", NULL },
	{ "https://www.friend-invite.example/", NULL, NULL },
};

#define WEB_TRACKED_SHARE 0.50    /* web and app orders with a tracked session */
#define WEB_BROWSE_PER_YEAR 1.0   /* sessions per customer-year without an order */
#define WEB_BOUNCE 0.35
#define WEB_ADD_TO_CART 0.30
#define WEB_TO_CHECKOUT 0.45
#define WEB_ANON_VISITORS 0.5     /* anonymous visitors per customer */
#define WEB_PRE_SIGNUP 0.5        /* customers with anonymous visits before signing up */

struct wev {
	int32_t dt;                /* s from the session start */
	uint16_t page_arg;         /* category or product number */
	uint8_t page, event;
};

struct session {
	int64_t start;
	uint32_t rec;              /* NONE: anonymous */
	uint32_t visitor, seq;
	uint32_t first_ev, n_ev;
	uint8_t channel, referrer;
};

struct web {
	struct session *s;
	size_t n_s, cap_s;
	struct wev *e;
	size_t n_e, cap_e;
};

static int add_ev(struct web *wb, int page, int arg, int event, int32_t dt)
{
	if (grow((void **)&wb->e, &wb->cap_e, wb->n_e, sizeof *wb->e) != 0)
		return -1;
	struct wev *e = &wb->e[wb->n_e++];
	e->dt = dt;
	e->page = (uint8_t)page;
	e->page_arg = (uint16_t)arg;
	e->event = (uint8_t)event;
	return 0;
}

static int32_t dwell(gsl_rng *r)
{
	return 2 + (int32_t)gsl_ran_lognormal(r, log(35.0), 0.9);
}

/* Appends a session's events. purchase: the full funnel ending in a
 * purchase at the last event; else a browse that may bounce or abandon. */
static int session_events(struct web *wb, gsl_rng *r, int purchase, int category, int32_t *total)
{
	static const double landing_w[] = { 40, 20, 35, 5 };   /* home, category, product, search */
	static const int landing_pg[] = { PG_HOME, PG_CATEGORY, PG_PRODUCT, PG_SEARCH };
	int32_t t = 0;
	int land = landing_pg[pick_w(r, landing_w, 4)];
	int cat = gsl_rng_uniform(r) < 0.6 ? category : (int)pick(r, DEMO_N_CATEGORIES);
	int product = cat * 1000 + (int)pick(r, 400);
	if (add_ev(wb, land, land == PG_PRODUCT ? product : cat, EV_VIEW, 0) != 0)
		return -1;
	if (!purchase && gsl_rng_uniform(r) < WEB_BOUNCE) {
		*total = 0;
		return 0;
	}
	unsigned views = (unsigned)gsl_ran_poisson(r, 1.2) + (purchase || land != PG_PRODUCT ? 1 : 0);
	for (unsigned k = 0; k < views; k++) {
		t += dwell(r);
		int pg = gsl_rng_uniform(r) < 0.75 ? PG_PRODUCT : PG_CATEGORY;
		if (pg == PG_PRODUCT)
			product = cat * 1000 + (int)pick(r, 400);
		if (add_ev(wb, pg, pg == PG_PRODUCT ? product : cat, EV_VIEW, t) != 0)
			return -1;
	}
	if (!purchase && gsl_rng_uniform(r) < 0.05) {
		t += dwell(r);
		if (add_ev(wb, gsl_rng_uniform(r) < 0.5 ? PG_HELP : PG_ACCOUNT, 0, EV_VIEW, t) != 0)
			return -1;
	}
	if (purchase || gsl_rng_uniform(r) < WEB_ADD_TO_CART) {
		t += 1 + (int32_t)pick(r, 20);
		if (add_ev(wb, PG_PRODUCT, product, EV_ADD, t) != 0)
			return -1;
		t += dwell(r);
		if (add_ev(wb, PG_CART, 0, EV_VIEW, t) != 0)
			return -1;
		if (purchase || gsl_rng_uniform(r) < WEB_TO_CHECKOUT) {
			t += dwell(r);
			if (add_ev(wb, PG_CHECKOUT, 0, EV_VIEW, t) != 0)
				return -1;
			if (purchase) {
				t += 30 + (int32_t)gsl_ran_lognormal(r, log(90.0), 0.6);
				if (add_ev(wb, PG_CHECKOUT, 0, EV_PURCHASE, t) != 0)
					return -1;
			}
		}
	}
	*total = t;
	return 0;
}

static int add_session(struct web *wb, gsl_rng *r, int64_t at, int at_is_end, uint32_t rec,
		       uint32_t visitor, int channel, int purchase, int category,
		       const struct demo_world *w)
{
	if (grow((void **)&wb->s, &wb->cap_s, wb->n_s, sizeof *wb->s) != 0)
		return -1;
	struct session *s = &wb->s[wb->n_s];
	s->first_ev = (uint32_t)wb->n_e;
	int32_t total;
	if (session_events(wb, r, purchase, category, &total) != 0)
		return -1;
	s->n_ev = (uint32_t)(wb->n_e - s->first_ev);
	s->start = at_is_end ? at - total : at;
	if (s->start + total >= w->end || s->start < w->start) {
		wb->n_e = s->first_ev;   /* outside the period: dropped */
		return 0;
	}
	s->seq = (uint32_t)wb->n_s++;
	s->rec = rec;
	s->visitor = visitor;
	s->channel = (uint8_t)channel;
	size_t nr = 0;
	while (nr < 3 && referrers[channel][nr])
		nr++;
	s->referrer = (uint8_t)(nr ? 1 + pick(r, nr) : 0);
	return 0;
}

static int gen_web(const struct demo_world *w, gsl_rng *r, struct web *wb)
{
	/* sessions that end in an order */
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct demo_order *o = &w->orders[k];
		const struct demo_person *pp = &w->persons[o->person];
		if (o->status != OS_COMPLETED || o->channel > 1 || gsl_rng_uniform(r) >= WEB_TRACKED_SHARE)
			continue;
		int ch = o->at == pp->first_at ? web_of_acq[pp->channel]
					       : (int)pick_w(r, web_channel_w, N(web_channel_w));
		if (add_session(wb, r, o->at, 1, o->rec, pp->visitor, ch, 1, o->category, w) != 0)
			return -1;
	}
	for (size_t i = 0; i < w->n_persons; i++) {
		const struct demo_person *pp = &w->persons[i];
		const struct demo_cust *c = &w->recs[pp->rec];
		/* browsing while a customer, until some weeks after dropping out */
		int64_t until = pp->death_at != NA && pp->death_at + 60 * SECS_PER_DAY < w->end
					? pp->death_at + 60 * SECS_PER_DAY : w->end;
		double years = (double)(until - c->signup_at) / (365.25 * DAY);
		unsigned n = years > 0 ? gsl_ran_poisson(r, WEB_BROWSE_PER_YEAR * years) : 0;
		for (unsigned k = 0; k < n; k++) {
			int64_t day = ts_day(c->signup_at + (int64_t)(gsl_rng_uniform(r) * (double)(until - c->signup_at)));
			int64_t at = demo_time_in_day(w, r, day * SECS_PER_DAY);
			int ch = (int)pick_w(r, web_channel_w, N(web_channel_w));
			if (add_session(wb, r, at, 0, pp->rec, pp->visitor, ch, 0, pp->category, w) != 0)
				return -1;
		}
		/* anonymous visits before signing up */
		if (gsl_rng_uniform(r) < WEB_PRE_SIGNUP) {
			unsigned m = 1 + (unsigned)pick(r, 2);
			for (unsigned k = 0; k < m; k++) {
				int64_t at = c->signup_at - 60 - (int64_t)(gsl_rng_uniform(r) * 14 * DAY);
				if (add_session(wb, r, at, 0, NONE, pp->visitor, web_of_acq[pp->channel], 0,
						pp->category, w) != 0)
					return -1;
			}
		}
	}
	/* anonymous visitors who never sign up */
	size_t n_anon = (size_t)llround(WEB_ANON_VISITORS * (double)w->n_persons);
	for (size_t j = 0; j < n_anon; j++) {
		unsigned m = 1 + gsl_ran_poisson(r, 0.5);
		int64_t t = demo_draw_time(w, r);
		int cat = (int)pick(r, DEMO_N_CATEGORIES);
		for (unsigned k = 0; k < m; k++) {
			int ch = (int)pick_w(r, web_channel_w, N(web_channel_w));
			if (add_session(wb, r, t, 0, NONE, (uint32_t)(w->n_persons + j), ch, 0, cat, w) != 0)
				return -1;
			t += (int64_t)gsl_ran_exponential(r, 20 * DAY);
		}
	}
	return 0;
}

static int cmp_session(const void *pa, const void *pb)
{
	const struct session *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Visitor ids look random but are unique: a bijection of the 32-bit visitor
 * number (Chris Wellons' "lowbias32" integer hash, public domain). */
static uint32_t visitor_hash(uint32_t x, uint64_t seed)
{
	x ^= (uint32_t)(seed * 0x9E3779B9u);
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static void page_text(const struct wev *e, char *out, size_t cap)
{
	switch (e->page) {
	case PG_HOME: snprintf(out, cap, "/"); break;
	case PG_CATEGORY: snprintf(out, cap, "/category/%s", demo_categories[e->page_arg % DEMO_N_CATEGORIES]); break;
	case PG_PRODUCT: snprintf(out, cap, "/product/P%05u", (unsigned)e->page_arg); break;
	case PG_CART: snprintf(out, cap, "/cart"); break;
	case PG_CHECKOUT: snprintf(out, cap, "/checkout"); break;
	case PG_SEARCH: snprintf(out, cap, "/search"); break;
	case PG_ACCOUNT: snprintf(out, cap, "/account"); break;
	default: snprintf(out, cap, "/help"); break;
	}
}

int demo_write_web(struct demo_world *w, struct crm_err *err)
{
	gsl_rng *r = demo_rng(w->seed, DS_WEB), *rb = bad_rng(w, CRM_WEB_EVENTS);
	struct web wb;
	int rc = CRM_OK;
	memset(&wb, 0, sizeof wb);
	if (!r || !rb || gen_web(w, r, &wb) != 0) {
		rc = nomem(err, "web events");
		goto done;
	}
	if (wb.n_s)
		qsort(wb.s, wb.n_s, sizeof *wb.s, cmp_session);

	struct demo_csv csv;
	struct demo_row row;
	char page[48], vis[16];
	if ((rc = demo_csv_open(&csv, w->dir, CRM_WEB_EVENTS, wb.n_e, rb, 0, 0, 0,
				&w->bad[CRM_WEB_EVENTS], err)) != CRM_OK)
		goto done;
	for (size_t k = 0; k < wb.n_s; k++) {
		const struct session *s = &wb.s[k];
		snprintf(vis, sizeof vis, "V%08x", visitor_hash(s->visitor, w->seed));
		for (uint32_t j = 0; j < s->n_ev; j++) {
			const struct wev *e = &wb.e[s->first_ev + j];
			demo_row_clear(&row);
			demo_cell_idnum(&row, CRM_W_SESSION_ID, 'S', 8, k + 1);
			demo_cell_time(&row, CRM_W_OCCURRED_AT, s->start + e->dt);
			page_text(e, page, sizeof page);
			demo_cell_str(&row, CRM_W_PAGE, page);
			if (s->rec != NONE) {
				cell_customer(w, &row, CRM_W_CUSTOMER_ID, s->rec);
			}
			demo_cell_str(&row, CRM_W_VISITOR_ID, vis);
			demo_cell_str(&row, CRM_W_EVENT, web_events[e->event]);
			if (j == 0 && s->referrer)
				demo_cell_str(&row, CRM_W_REFERRER, referrers[s->channel][s->referrer - 1]);
			demo_cell_str(&row, CRM_W_CHANNEL, web_channels[s->channel]);
			demo_csv_row(&csv, &row);
		}
	}
	rc = close_csv(w, &csv, err);
done:
	free(wb.s);
	free(wb.e);
	free_streams(r, rb);
	return rc;
}

/* ------------------------------------------------------------ truth.json */

static json_t *weights(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i] / 100.0));
	return a;
}

static double nps_of(const double *v)
{
	double pro = v[9] + v[10], det = 0;
	for (int k = 0; k <= 6; k++)
		det += v[k];
	return pro - det;
}

json_t *demo_activity_truth(const struct demo_world *w)
{
	(void)w;
	json_t *o = json_object();
	json_t *t = json_object();
	for (int k = 0; k < N_TICKET_CHANNELS; k++) {
		const struct ticket_params *p = &ticket_channels[k];
		json_object_set_new(t, p->channel, json_pack(
			"{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
			"share", p->share,
			"first_response_median_s", p->response_median_s,
			"first_response_log_sigma", p->response_sigma,
			"never_answered", p->never_answered,
			"resolution_median_s", p->resolve_median_s,
			"resolution_log_sigma", p->resolve_sigma,
			"unresolved", p->unresolved,
			"handling_median_minutes", handling_median_min[k]));
	}
	json_object_set_new(o, "tickets", json_pack(
		"{s:o, s:s, s:[f,f,f]}",
		"channels", t,
		"note", "first response time is lognormal(log(median), sigma) after opened_at; "
			"resolution lognormal after the first response; a ticket whose response or "
			"resolution would fall after as_of is left open",
		"per_order_probability_completed_returned_cancelled",
		ticket_prob[1], ticket_prob[2], ticket_prob[3]));

	json_t *camp = json_array();
	for (size_t k = 0; k < N(campaigns); k++) {
		char d[16];
		snprintf(d, sizeof d, "%04d-%02d-%02d", campaigns[k].y, campaigns[k].m, campaigns[k].d);
		json_array_append_new(camp, json_pack("{s:s, s:s}", "name", campaigns[k].name, "date", d));
	}
	json_object_set_new(o, "interactions", json_pack(
		"{s:o, s:f, s:f, s:f, s:s}",
		"campaigns", camp,
		"engage_if_still_buying", CAMPAIGN_ENGAGE_ALIVE,
		"engage_if_dropped_out", CAMPAIGN_ENGAGE_GONE,
		"true_campaign_effect_on_purchases", 0.0,
		"note", "campaigns do not change purchasing; customers still buying engage more, "
			"so a naive participant/non-participant comparison shows a spurious uplift"));

	json_object_set_new(o, "feedback", json_pack(
		"{s:f, s:f, s:{s:o, s:o, s:f, s:f}, s:{s:o, s:o}, s:{s:o, s:o}, s:s}",
		"responses_per_completed_order", FEEDBACK_PER_ORDER,
		"comment_share", COMMENT_SHARE,
		"nps", "stay", weights(nps_stay, 11), "leave", weights(nps_leave, 11),
		"nps_stay", nps_of(nps_stay), "nps_leave", nps_of(nps_leave),
		"csat", "stay", weights(csat_stay, 5), "leave", weights(csat_leave, 5),
		"ces", "stay", weights(ces_stay, 7), "leave", weights(ces_leave, 7),
		"note", "score probabilities for customers who keep buying (stay) and who drop out "
			"before as_of (leave); CES 7 = very easy"));

	json_t *conv = json_object();
	for (int s = 0; s < DC_N; s++)
		json_object_set_new(conv, demo_channels[s].name, json_pack(
			"{s:f, s:f}", "lead_share_of_customers", demo_channels[s].lead_share,
			"conversion_probability", demo_channels[s].lead_conversion));
	json_object_set_new(o, "leads", json_pack(
		"{s:o, s:s}", "sources", conv,
		"note", "a converted lead's converted_at is its customer's signup_at, before the first "
			"order; unconverted leads per source are negative binomial(conversion, converted)"));

	json_object_set_new(o, "spend", json_pack(
		"{s:s, s:f}",
		"note", "per month, channel and campaign: cac x customers whose first order falls in "
			"that month x Gamma(50, 1/50) noise; rows only where there were new customers",
		"noise_shape", SPEND_NOISE_SHAPE));

	json_object_set_new(o, "web", json_pack(
		"{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:s}",
		"tracked_order_share", WEB_TRACKED_SHARE,
		"browse_sessions_per_customer_year", WEB_BROWSE_PER_YEAR,
		"bounce_probability", WEB_BOUNCE,
		"add_to_cart_probability", WEB_ADD_TO_CART,
		"checkout_probability_after_cart", WEB_TO_CHECKOUT,
		"anonymous_visitors_per_customer", WEB_ANON_VISITORS,
		"pre_signup_visit_share", WEB_PRE_SIGNUP,
		"note", "web and app orders have a tracked session with the full funnel ending in a "
			"purchase event at ordered_at; browse sessions never purchase; a bounce is a "
			"one-event session"));
	return o;
}
