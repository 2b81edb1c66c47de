/* demo.c - the synthetic demo business (demo layer, beside ingest).
 * Builds an online shop's customers and their purchases from the BG/NBD and
 * Gamma-Gamma models with known parameters, plants duplicate customers and
 * bad rows, and writes customers.csv and orders.csv; activity.c writes the
 * other entities and truth.c the true parameters. docs/DEMO.md describes the
 * business. Deterministic for a seed: every draw comes from GSL's mt19937. */
#include "demo/demo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_randist.h>

#include "core/entity.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "demo/demo_int.h"

/* The true parameters per acquisition channel. BG/NBD (Fader, Hardie & Lee
 * 2005, "Counting your customers the easy way", Marketing Science 24(2)):
 * lambda ~ Gamma(shape r, rate alpha) purchases per day, p ~ Beta(a, b).
 * Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4)):
 * nu ~ Gamma(shape q, rate gamma), order value ~ Gamma(shape p, rate nu), so
 * the mean order value is p * gamma / (q - 1). */
const struct demo_channel_params demo_channels[DC_N] = {
	{ "search", 0.30, 0.85, 95.0, 0.80, 2.6, 6.0, 4.0, 30.0, 42.0, 0.55, 0.30,
	  3, { "brand_terms", "generic_terms", "shopping_ads" } },
	{ "social", 0.25, 0.60, 110.0, 1.10, 2.0, 5.0, 3.8, 25.0, 30.0, 0.65, 0.15,
	  3, { "instagram_stories", "tiktok_creators", "facebook_lookalike" } },
	{ "referral", 0.12, 1.10, 90.0, 0.70, 3.5, 6.0, 4.2, 38.0, 15.0, 0.50, 0.50,
	  1, { "refer_a_friend" } },
	{ "email", 0.13, 0.95, 100.0, 0.85, 3.0, 6.5, 4.0, 32.0, 9.0, 0.80, 0.35,
	  2, { "newsletter_signup", "welcome_discount" } },
	{ "affiliate", 0.20, 0.55, 105.0, 1.20, 2.2, 5.0, 3.5, 21.0, 25.0, 0.60, 0.20,
	  2, { "coupon_sites", "review_blogs" } },
};

const char *const demo_order_channels[] = { "web", "app", "store", "phone", NULL };
static const double order_channel_share[] = { 0.55, 0.30, 0.10, 0.05 };

const char *const demo_categories[] = {
	"electronics", "home", "fashion", "beauty", "books", "sports", "toys", "garden", NULL
};

/* Seasonality of purchase timing: a multiplier per calendar month (raw,
 * normalised at start so that its day-weighted mean over a common year is
 * 1) and per hour of the day (UTC, normalised to mean 1). */
static const double month_raw[12] = {
	0.85, 0.80, 0.90, 0.92, 0.95, 0.90, 0.88, 0.88, 0.95, 1.05, 1.45, 1.60
};
static const double hour_raw[24] = {
	0.30, 0.20, 0.15, 0.12, 0.12, 0.20, 0.40, 0.70, 0.90, 1.00, 1.10, 1.15,
	1.20, 1.15, 1.10, 1.10, 1.15, 1.25, 1.40, 1.60, 1.70, 1.60, 1.20, 0.70
};

#define NEVER_BUY 0.08          /* customers who sign up and never order */
#define SIGNUP_GROWTH 1.5       /* signup density grows as 1 + g * (share of the period) */
#define DUP_SHARE 0.02
#define RETURNED_PER_PURCHASE 0.04
#define CANCELLED_PER_PURCHASE 0.015
#define GOLD_FROM (1000 * (int64_t)MONEY_SCALE)
#define SILVER_FROM (300 * (int64_t)MONEY_SCALE)

static const char *const tiers[] = { "bronze", "silver", "gold" };

gsl_rng *demo_rng(uint64_t seed, int stream)
{
	/* SplitMix64's finaliser (Steele, Lea & Flood 2014) spreads seed and
	 * stream over the 32 bits that gsl_rng_mt19937 takes */
	uint64_t z = seed + UINT64_C(0x9E3779B97F4A7C15) * ((uint64_t)stream + 1);
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	unsigned long s = (unsigned long)((z ^ (z >> 32)) & 0xffffffffu);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (r)
		gsl_rng_set(r, s ? s : 1);
	return r;
}

size_t demo_cust_id(const struct demo_world *w, uint32_t rec, char *out)
{
	return (size_t)snprintf(out, 16, "C%06u", w->recs[rec].id_num);
}

double demo_mult_at(const struct demo_world *w, int64_t t)
{
	int64_t day = ts_day(t - w->start);
	double m;
	if (day >= 0 && (size_t)day < w->n_days) {
		m = w->day_mult[day];
	} else {
		int64_t y;
		unsigned mo, d;
		civil_from_days(ts_day(t), &y, &mo, &d);
		m = w->month_mult[mo - 1];
	}
	int64_t sod = t - ts_day(t) * SECS_PER_DAY;
	return m * w->hour_mult[sod / 3600];
}

int64_t demo_time_in_day(const struct demo_world *w, gsl_rng *rng, int64_t d0)
{
	double u = gsl_rng_uniform(rng) * 24.0, acc = 0;
	int h = 0;
	for (; h < 23; h++) {
		acc += w->hour_mult[h];
		if (u < acc)
			break;
	}
	return d0 + h * 3600 + (int64_t)gsl_rng_uniform_int(rng, 3600);
}

static void seasons_init(struct demo_world *w)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	double s = 0, h = 0, mmax = 0, hmax = 0;
	for (int m = 0; m < 12; m++)
		s += month_raw[m] * dim[m];
	for (int m = 0; m < 12; m++) {
		w->month_mult[m] = month_raw[m] * 365.0 / s;
		if (w->month_mult[m] > mmax)
			mmax = w->month_mult[m];
	}
	for (int k = 0; k < 24; k++)
		h += hour_raw[k];
	for (int k = 0; k < 24; k++) {
		w->hour_mult[k] = hour_raw[k] * 24.0 / h;
		if (w->hour_mult[k] > hmax)
			hmax = w->hour_mult[k];
	}
	w->max_mult = mmax * hmax;
}

static int days_init(struct demo_world *w)
{
	w->n_days = (size_t)((w->end - w->start) / SECS_PER_DAY);
	w->day_mult = xmallocn(w->n_days, sizeof *w->day_mult);
	if (!w->day_mult)
		return -1;
	for (size_t i = 0; i < w->n_days; i++) {
		int64_t y;
		unsigned m, d;
		civil_from_days(w->start / SECS_PER_DAY + (int64_t)i, &y, &m, &d);
		w->day_mult[i] = w->month_mult[m - 1];
	}
	return 0;
}

/* --------------------------------------------------------------- building */

struct builder {
	struct demo_world *w;
	gsl_rng *r_id, *r_buy, *r_ord, *r_dup, *r_bad;
	struct strmap emails;
	size_t cap_recs, cap_orders;
};

/* Copies s into out (cap bytes), cut at cap - 1 bytes. */
static void copy_str(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

static int push_str(struct demo_world *w, const char *s, uint32_t *idx)
{
	*idx = (uint32_t)w->pool.n;
	return strs_push(&w->pool, s, strlen(s));
}

static const char *pool_str(const struct demo_world *w, uint32_t idx)
{
	size_t n;
	return strs_get(&w->pool, idx, &n);
}

static struct demo_cust *new_rec(struct builder *b)
{
	struct demo_world *w = b->w;
	if (w->n_recs == b->cap_recs) {
		size_t cap = b->cap_recs ? 2 * b->cap_recs : 1024;
		struct demo_cust *v = xreallocn(w->recs, cap, sizeof *v);
		if (!v)
			return NULL;
		w->recs = v;
		b->cap_recs = cap;
	}
	struct demo_cust *c = &w->recs[w->n_recs++];
	memset(c, 0, sizeof *c);
	c->person = c->dup_of = UINT32_MAX;
	c->birth_day = INT64_MIN;
	c->fault = -1;
	return c;
}

static struct demo_order *new_order(struct builder *b)
{
	struct demo_world *w = b->w;
	if (w->n_orders == b->cap_orders) {
		size_t cap = b->cap_orders ? 2 * b->cap_orders : 4096;
		struct demo_order *v = xreallocn(w->orders, cap, sizeof *v);
		if (!v)
			return NULL;
		w->orders = v;
		b->cap_orders = cap;
	}
	struct demo_order *o = &w->orders[w->n_orders];
	memset(o, 0, sizeof *o);
	o->seq = (uint32_t)w->n_orders++;
	return o;
}

/* Makes email unique among those given so far by numbering its local part
 * ("olena.ivanenko.2@ukr.net"). Returns 0, or -1 on ENOMEM. */
static int unique_email(struct builder *b, char *email, size_t cap)
{
	size_t idx;
	int added;
	if (email[0] == '\0')
		return 0;
	if (strmap_find(&b->emails, email, strlen(email)) >= 0) {
		char local[128], dom[128];
		const char *at = strchr(email, '@');
		snprintf(local, sizeof local, "%.*s", (int)(at - email), email);
		snprintf(dom, sizeof dom, "%s", at + 1);
		for (unsigned k = 2;; k++) {
			char num[16];
			snprintf(num, sizeof num, ".%u@", k);
			copy_str(email, cap, local);
			if (strlen(email) + strlen(num) + strlen(dom) < cap) {
				strcat(email, num);
				strcat(email, dom);
			}
			if (strmap_find(&b->emails, email, strlen(email)) < 0)
				break;
		}
	}
	return strmap_put(&b->emails, email, strlen(email), 0, &idx, &added);
}

/* The thinning acceptance probability at t: its rate multiplier over the
 * largest. */
static double accept_at(const struct demo_world *w, int64_t t)
{
	return demo_mult_at(w, t) / w->max_mult;
}

int64_t demo_draw_time(const struct demo_world *w, gsl_rng *rng)
{
	double span = (double)(w->end - w->start);
	for (;;) {
		double u = gsl_rng_uniform(rng);
		int64_t t = w->start + (int64_t)(u * span);
		double accept = (1.0 + SIGNUP_GROWTH * u) / (1.0 + SIGNUP_GROWTH) *
				accept_at(w, t);
		if (gsl_rng_uniform(rng) < accept)
			return t;
	}
}

/* Fills record c from identity id (text into the pool). */
static int fill_identity(struct builder *b, struct demo_cust *c, struct demo_identity *id)
{
	struct demo_world *w = b->w;
	char name[320];
	if (unique_email(b, id->email, sizeof id->email) != 0)
		return -1;
	demo_name_join(id->country, id->given, id->family, 0, name, sizeof name);
	c->country = (uint8_t)id->country;
	c->city = (uint8_t)id->city;
	c->gender = (uint8_t)id->gender;
	c->phone_fmt = (uint8_t)id->phone_fmt;
	if (push_str(w, id->given, &c->s_given) || push_str(w, id->family, &c->s_family) ||
	    push_str(w, name, &c->s_name) || push_str(w, id->email, &c->s_email) ||
	    push_str(w, id->phone, &c->s_phone) || push_str(w, id->address, &c->s_address) ||
	    push_str(w, id->postcode, &c->s_postcode) ||
	    push_str(w, id->given_lat, &c->s_given_lat) ||
	    push_str(w, id->family_lat, &c->s_family_lat))
		return -1;
	return 0;
}

/* A person's other attributes drawn on the identity stream: gaps in contact
 * data, birth date, gender kept or not. */
static int make_record(struct builder *b, struct demo_cust *c, gsl_rng *rng)
{
	struct demo_identity id;
	demo_identity_make(rng, &id);
	if (gsl_rng_uniform(rng) < 0.03)
		id.email[0] = '\0';
	if (gsl_rng_uniform(rng) < 0.08)
		id.phone[0] = '\0';
	if (gsl_rng_uniform(rng) < 0.05)
		id.address[0] = '\0';
	if (fill_identity(b, c, &id) != 0)
		return -1;
	if (gsl_rng_uniform(rng) < 0.03)
		c->gender = 2;      /* not given */
	c->signup_at = demo_draw_time(b->w, rng);
	if (gsl_rng_uniform(rng) >= 0.06) {
		double age = 18.0 + gsl_ran_gamma(rng, 3.0, 8.0);
		if (age > 85)
			age = 85;
		c->birth_day = ts_day(c->signup_at) - (int64_t)(age * 365.25);
	}
	return 0;
}

static size_t pick_weighted(gsl_rng *rng, const double *w, size_t n)
{
	double u = gsl_rng_uniform(rng), acc = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		acc += w[i];
		if (u < acc)
			return i;
	}
	return n - 1;
}

static int64_t money_from_eur(double eur)
{
	int64_t cents = (int64_t)llround(eur * 100.0);
	if (cents < 1)
		cents = 1;
	return cents * (MONEY_SCALE / 100);
}

/* Order details other than time and amount, on the order stream. */
static void order_details(struct builder *b, struct demo_order *o, const struct demo_person *pp)
{
	gsl_rng *r = b->r_ord;
	o->channel = (uint8_t)pick_weighted(r, order_channel_share, 4);
	unsigned cat;
	int64_t y;
	unsigned m, d;
	civil_from_days(ts_day(o->at), &y, &m, &d);
	double u = gsl_rng_uniform(r);
	if (u < 0.5)
		cat = pp->category;
	else if ((m == 11 || m == 12) && u < 0.7)
		cat = 6;     /* toys before Christmas */
	else
		cat = (unsigned)gsl_rng_uniform_int(r, DEMO_N_CATEGORIES);
	o->category = (uint8_t)cat;
	double eur = (double)o->amount / MONEY_SCALE;
	o->items = (uint16_t)(1 + gsl_ran_poisson(r, eur / 45.0));
	double share = 0.55 + 0.15 * gsl_rng_uniform(r);
	o->cost = money_from_eur(eur * share);
}

/* The purchase history of person i: the BG/NBD process with seasonal
 * timing, by thinning (Lewis & Shedler 1979): candidates at rate
 * lambda * max_mult, each kept with probability mult(t) / max_mult, so the
 * rate at t is lambda * mult(t). After each repeat purchase the customer
 * drops out with probability p (FHL 2005 assumption iii); the first
 * purchase (time 0 of the model) has no dropout. */
static int purchases(struct builder *b, uint32_t i)
{
	struct demo_world *w = b->w;
	struct demo_person *pp = &w->persons[i];
	const struct demo_channel_params *ch = &demo_channels[pp->channel];
	gsl_rng *r = b->r_buy;
	const struct demo_cust *c = &w->recs[pp->rec];
	pp->lambda = gsl_ran_gamma(r, ch->r, 1.0 / ch->alpha);
	pp->p = gsl_ran_beta(r, ch->a, ch->b);
	pp->nu = gsl_ran_gamma(r, ch->q, 1.0 / ch->gamma);
	pp->first_at = pp->death_at = INT64_MIN;
	pp->first_order = (uint32_t)w->n_orders;
	int never = gsl_rng_uniform(r) < NEVER_BUY;
	double delay = gsl_rng_uniform(r) < 0.5 ? 120.0 + 1680.0 * gsl_rng_uniform(r)
						: gsl_ran_exponential(r, 5.0 * SECS_PER_DAY);
	if (never || (double)c->signup_at + delay >= (double)w->end)
		return 0;
	double t = (double)c->signup_at + delay;
	double rate = pp->lambda * w->max_mult / SECS_PER_DAY;   /* candidates per second */
	for (int first = 1;; first = 0) {
		if (!first) {
			if (rate <= 1e-300)
				break;
			t += gsl_ran_exponential(r, 1.0 / rate);
			if (t >= (double)w->end)
				break;
			if (gsl_rng_uniform(r) >= accept_at(w, (int64_t)t))
				continue;
		}
		struct demo_order *o = new_order(b);
		if (!o)
			return -1;
		o->at = (int64_t)t;
		o->rec = pp->rec;
		o->person = i;
		o->status = OS_COMPLETED;
		o->amount = money_from_eur(gsl_ran_gamma(r, ch->p, 1.0 / pp->nu));
		if (first)
			pp->first_at = o->at;
		order_details(b, o, pp);
		/* returns and cancellations are extra orders beside the purchase
		 * process: they do not count as purchases (METRICS.md) */
		for (int k = 0; k < 2; k++) {
			double prob = k == 0 ? RETURNED_PER_PURCHASE : CANCELLED_PER_PURCHASE;
			if (gsl_rng_uniform(b->r_ord) >= prob)
				continue;
			double at = t + 3600.0 + 71.0 * 3600.0 * gsl_rng_uniform(b->r_ord);
			double eur = gsl_ran_gamma(b->r_ord, ch->p, 1.0 / pp->nu);
			if (at >= (double)w->end)
				continue;
			struct demo_order *x = new_order(b);
			if (!x)
				return -1;
			x->at = (int64_t)at;
			x->rec = pp->rec;
			x->person = i;
			x->status = (uint8_t)(k == 0 ? OS_RETURNED : OS_CANCELLED);
			x->amount = money_from_eur(eur);
			order_details(b, x, pp);
		}
		if (!first && gsl_rng_uniform(r) < pp->p) {
			pp->death_at = (int64_t)t;
			break;
		}
	}
	return 0;
}

static int build_persons(struct builder *b, size_t n)
{
	struct demo_world *w = b->w;
	double shares[DC_N];
	for (int k = 0; k < DC_N; k++)
		shares[k] = demo_channels[k].share;
	w->persons = xmallocn(n, sizeof *w->persons);
	if (!w->persons)
		return -1;
	w->n_persons = n;
	for (size_t i = 0; i < n; i++) {
		struct demo_person *pp = &w->persons[i];
		memset(pp, 0, sizeof *pp);
		struct demo_cust *c = new_rec(b);
		if (!c || make_record(b, c, b->r_id) != 0)
			return -1;
		c->person = (uint32_t)i;
		pp->rec = (uint32_t)(w->n_recs - 1);
		pp->visitor = (uint32_t)i;
		pp->channel = (uint8_t)pick_weighted(b->r_id, shares, DC_N);
		const struct demo_channel_params *ch = &demo_channels[pp->channel];
		pp->campaign = (uint8_t)gsl_rng_uniform_int(b->r_id, (unsigned long)ch->n_campaigns);
		pp->category = (uint8_t)gsl_rng_uniform_int(b->r_id, DEMO_N_CATEGORIES);
		pp->has_lead = gsl_rng_uniform(b->r_id) < ch->lead_share;
		c->channel = pp->channel;
		c->campaign = pp->campaign;
		if (purchases(b, (uint32_t)i) != 0)
			return -1;
		pp->n_orders = (uint32_t)(w->n_orders - pp->first_order);
	}
	return 0;
}

/* ------------------------------------------------------------- duplicates */

/* Changes the case of some letters of e (there is always a letter: the
 * domain's). */
static void email_case(gsl_rng *r, char *e)
{
	char *at = strchr(e, '@');
	int changed = 0;
	if (gsl_rng_uniform(r) < 0.5) {
		/* the local part in capitals, or the domain when it has no letters */
		for (char *p = e; *p && *p != '@'; p++)
			if (*p >= 'a' && *p <= 'z') {
				*p = (char)(*p - 32);
				changed = 1;
			}
		for (char *p = at; !changed && p && *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
	} else {
		/* Capitalised local part and domain, as some phones type them */
		if (e[0] >= 'a' && e[0] <= 'z')
			e[0] = (char)(e[0] - 32);
		if (at && at[1] >= 'a' && at[1] <= 'z')
			at[1] = (char)(at[1] - 32);
	}
}

static void email_typo(gsl_rng *r, char *e, size_t cap)
{
	char *at = strchr(e, '@');
	size_t local = at ? (size_t)(at - e) : strlen(e);
	if (at && strcmp(at + 1, "gmail.com") == 0 && gsl_rng_uniform(r) < 0.3) {
		snprintf(at + 1, cap - local - 1, "gmial.com");
		return;
	}
	if (local < 3) {
		memmove(e + 1, e, strlen(e) + 1);   /* a doubled first letter */
		return;
	}
	size_t k = 1 + (size_t)gsl_rng_uniform_int(r, (unsigned long)(local - 2));
	if (gsl_rng_uniform(r) < 0.5) {       /* two letters swapped */
		char t = e[k];
		e[k] = e[k - 1];
		e[k - 1] = t;
		if (e[k] == e[k - 1])
			memmove(e + k, e + k + 1, strlen(e + k + 1) + 1);
	} else {                              /* a letter dropped */
		memmove(e + k, e + k + 1, strlen(e + k + 1) + 1);
	}
}

static void capitalise(char *s)
{
	int start = 1;
	for (; *s; s++) {
		if (start && *s >= 'a' && *s <= 'z')
			*s = (char)(*s - 32);
		start = *s == ' ';
	}
}

/* Writes the duplicate of person i's original record, with variations, and
 * moves some of the person's later orders to it. */
static int make_duplicate(struct builder *b, uint32_t i)
{
	struct demo_world *w = b->w;
	gsl_rng *r = b->r_dup;
	uint32_t o = w->persons[i].rec;
	struct demo_cust *d = new_rec(b);
	if (!d)
		return -1;
	struct demo_cust *c = &w->recs[o];   /* after new_rec: recs may have moved */
	uint32_t di = (uint32_t)(w->n_recs - 1);
	*d = *c;
	d->dup_of = o;
	d->variations = 0;
	int64_t lo = c->signup_at + 30 * SECS_PER_DAY, hi = w->end - SECS_PER_DAY;
	d->signup_at = lo + (int64_t)(gsl_rng_uniform(r) * (double)(hi - lo));

	char given[128], family[160], email[160], tmp[320];
	copy_str(given, sizeof given, pool_str(w, c->s_given));
	copy_str(family, sizeof family, pool_str(w, c->s_family));
	copy_str(email, sizeof email, pool_str(w, c->s_email));
	int has_email = email[0] != '\0', has_phone = pool_str(w, c->s_phone)[0] != '\0';

	double u = gsl_rng_uniform(r);
	int phone_too = gsl_rng_uniform(r) < 0.5;
	if (u < 0.30 && has_email) {
		email_case(r, email);
		d->variations |= DV_EMAIL_CASE;
	} else if (u < 0.50 && has_email && has_phone) {
		email_typo(r, email, sizeof email);
		d->variations |= DV_EMAIL_TYPO;
	} else if (u < 0.65 && has_email && has_phone) {
		email[0] = '\0';
		d->variations |= DV_MISSING_EMAIL;
	} else if (u < 0.85 || !has_email) {
		phone_too = 1;
	} else if (has_phone) {
		d->variations |= DV_MISSING_PHONE;
		phone_too = 0;
		if (gsl_rng_uniform(r) < 0.5) {
			email_case(r, email);
			d->variations |= DV_EMAIL_CASE;
		}
	}
	if (d->variations & DV_MISSING_PHONE) {
		if (push_str(w, "", &d->s_phone))
			return -1;
	} else if (phone_too && has_phone) {
		int nf = demo_phone_n_formats(c->country);
		d->phone_fmt = (uint8_t)((c->phone_fmt + 1 + (int)gsl_rng_uniform_int(r, (unsigned long)(nf - 1))) % nf);
		d->variations |= DV_PHONE_FORMAT;
	}
	if (push_str(w, email, &d->s_email))
		return -1;

	double v = gsl_rng_uniform(r);
	int script = demo_country_script(c->country);
	if (v < 0.25) {
		d->variations |= DV_NAME_SWAP;
	} else if (v < 0.45 && demo_strip_accents(given, tmp, sizeof tmp) +
			       demo_strip_accents(family, tmp, sizeof tmp) > 0) {
		demo_strip_accents(given, tmp, sizeof tmp);
		copy_str(given, sizeof given, tmp);
		demo_strip_accents(family, tmp, sizeof tmp);
		copy_str(family, sizeof family, tmp);
		d->variations |= DV_ACCENT_DROPPED;
	} else if (v < 0.65 && script != SCRIPT_LATIN) {
		copy_str(given, sizeof given, pool_str(w, c->s_given_lat));
		copy_str(family, sizeof family, pool_str(w, c->s_family_lat));
		capitalise(given);
		capitalise(family);
		d->variations |= DV_TRANSLITERATED;
	}
	if (d->variations & DV_NAME_SWAP) {
		/* the given name typed into the family name field and back */
		demo_name_join(c->country, family, given, 0, tmp, sizeof tmp);
		if (push_str(w, family, &d->s_given) || push_str(w, given, &d->s_family))
			return -1;
	} else {
		/* transliterated names are written in Western order */
		if (d->variations & DV_TRANSLITERATED)
			snprintf(tmp, sizeof tmp, "%s %s", given, family);
		else
			demo_name_join(c->country, given, family, 0, tmp, sizeof tmp);
		if (push_str(w, given, &d->s_given) || push_str(w, family, &d->s_family))
			return -1;
	}
	if (push_str(w, tmp, &d->s_name))
		return -1;
	if (gsl_rng_uniform(r) < 0.2 && pool_str(w, c->s_address)[0]) {
		if (push_str(w, "", &d->s_address))
			return -1;
		d->variations |= DV_MISSING_ADDRESS;
	}
	if (gsl_rng_uniform(r) < 0.15 && c->birth_day != INT64_MIN) {
		d->birth_day = INT64_MIN;
		d->variations |= DV_MISSING_BIRTH_DATE;
	}
	/* about half of the person's orders after the second signup are placed
	 * under the second account */
	const struct demo_person *pp = &w->persons[i];
	for (size_t k = pp->first_order; k < pp->first_order + pp->n_orders; k++) {
		struct demo_order *od = &w->orders[k];
		if (od->at > d->signup_at && gsl_rng_uniform(r) < 0.5) {
			od->rec = di;
			od->moved = 1;
		}
	}
	return 0;
}

static int build_duplicates(struct builder *b)
{
	struct demo_world *w = b->w;
	size_t n_dup = (size_t)llround(DUP_SHARE * (double)w->n_persons);
	uint32_t *eligible = xmallocn(w->n_persons + 1, sizeof *eligible);
	size_t n_el = 0;
	int rc = -1;
	if (!eligible)
		return -1;
	/* people who signed up early enough to sign up again, and who left an
	 * e-mail or a phone number, so that some contact links the two records */
	for (size_t i = 0; i < w->n_persons; i++) {
		const struct demo_cust *c = &w->recs[w->persons[i].rec];
		if (c->signup_at < w->end - 45 * SECS_PER_DAY &&
		    (pool_str(w, c->s_email)[0] || pool_str(w, c->s_phone)[0]))
			eligible[n_el++] = (uint32_t)i;
	}
	if (n_dup > n_el)
		n_dup = n_el;
	/* a partial Fisher-Yates shuffle picks n_dup of them */
	for (size_t k = 0; k < n_dup; k++) {
		size_t j = k + (size_t)gsl_rng_uniform_int(b->r_dup, (unsigned long)(n_el - k));
		uint32_t t = eligible[k];
		eligible[k] = eligible[j];
		eligible[j] = t;
	}
	for (size_t k = 0; k < n_dup; k++)
		if (make_duplicate(b, eligible[k]) != 0)
			goto done;
	w->n_duplicates = n_dup;
	rc = 0;
done:
	free(eligible);
	return rc;
}

/* -------------------------------------------------------------- ordering */

static const struct demo_world *sort_world;

static int cmp_rec(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int64_t ta = sort_world->recs[a].signup_at, tb = sort_world->recs[b].signup_at;
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int cmp_order(const void *pa, const void *pb)
{
	const struct demo_order *a = pa, *b = pb;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int rank_records(struct demo_world *w)
{
	w->rec_rank = xmallocn(w->n_recs, sizeof *w->rec_rank);
	if (!w->rec_rank)
		return -1;
	for (size_t i = 0; i < w->n_recs; i++)
		w->rec_rank[i] = (uint32_t)i;
	sort_world = w;
	qsort(w->rec_rank, w->n_recs, sizeof *w->rec_rank, cmp_rec);
	sort_world = NULL;
	for (size_t k = 0; k < w->n_recs; k++)
		w->recs[w->rec_rank[k]].id_num = (uint32_t)(k + 1);
	if (w->n_orders)
		qsort(w->orders, w->n_orders, sizeof *w->orders, cmp_order);
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct demo_order *o = &w->orders[k];
		if (o->status == OS_COMPLETED)
			w->recs[o->rec].revenue += o->amount;
	}
	for (size_t i = 0; i < w->n_recs; i++) {
		struct demo_cust *c = &w->recs[i];
		c->tier = (uint8_t)(c->revenue >= GOLD_FROM ? 2 : c->revenue >= SILVER_FROM ? 1 : 0);
	}
	for (size_t i = 0; i < w->n_persons; i++) {
		const struct demo_person *pp = &w->persons[i];
		if (pp->first_at != INT64_MIN) {
			w->n_buyers++;
			w->n_alive += pp->death_at == INT64_MIN;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- writing */

static const char *const genders[] = { "female", "male", NULL };

static void customer_row(const struct demo_world *w, const struct demo_cust *c,
			 struct demo_row *row, char *idbuf, char *phone)
{
	demo_row_clear(row);
	demo_cust_id(w, (uint32_t)(c - w->recs), idbuf);
	demo_cell_str(row, CRM_C_CUSTOMER_ID, idbuf);
	demo_cell_str(row, CRM_C_NAME, pool_str(w, c->s_name));
	demo_cell_str(row, CRM_C_GIVEN_NAME, pool_str(w, c->s_given));
	demo_cell_str(row, CRM_C_FAMILY_NAME, pool_str(w, c->s_family));
	demo_cell_str(row, CRM_C_EMAIL, pool_str(w, c->s_email));
	const char *digits = pool_str(w, c->s_phone);
	phone[0] = '\0';
	if (digits[0])
		demo_phone_write(c->country, digits, c->phone_fmt, phone, 32);
	demo_cell_str(row, CRM_C_PHONE, phone);
	demo_cell_str(row, CRM_C_ADDRESS, pool_str(w, c->s_address));
	demo_cell_str(row, CRM_C_POSTCODE, pool_str(w, c->s_postcode));
	demo_cell_str(row, CRM_C_CITY, demo_city_name(c->country, c->city));
	demo_cell_str(row, CRM_C_REGION, demo_city_region(c->country, c->city));
	demo_cell_str(row, CRM_C_COUNTRY, demo_country_code(c->country));
	demo_cell_str(row, CRM_C_GENDER, genders[c->gender]);
	if (c->birth_day != INT64_MIN)
		demo_cell_date(row, CRM_C_BIRTH_DATE, c->birth_day * SECS_PER_DAY);
	demo_cell_time(row, CRM_C_SIGNUP_AT, c->signup_at);
	demo_cell_str(row, CRM_C_TIER, tiers[c->tier]);
	demo_cell_str(row, CRM_C_ACQ_CHANNEL, demo_channels[c->channel].name);
	demo_cell_str(row, CRM_C_ACQ_CAMPAIGN, demo_channels[c->channel].campaigns[c->campaign]);
	/* empty strings are missing values */
	for (int f = 0; f < CRM_C_N; f++)
		if (row->c[f].p && row->c[f].n == 0)
			row->c[f].p = NULL;
}

static int write_customers(struct demo_world *w, struct crm_err *err)
{
	struct demo_csv csv;
	struct demo_row row;
	char idbuf[16], phone[32];
	size_t nf;
	/* bad customers are whole records of their own (build_bad_customers),
	 * not copies planted by the writer: it gets no rng */
	const struct demo_fault *faults = demo_faults(CRM_CUSTOMERS, &nf);
	int rc = demo_csv_open(&csv, w->dir, CRM_CUSTOMERS, w->n_recs, NULL, 'C', 6, 0,
			       &w->bad[CRM_CUSTOMERS], err);
	if (rc != CRM_OK)
		return rc;
	for (size_t k = 0; k < w->n_recs; k++) {
		const struct demo_cust *c = &w->recs[w->rec_rank[k]];
		customer_row(w, c, &row, idbuf, phone);
		if (c->fault >= 0 && (size_t)c->fault < nf)
			demo_csv_bad_row(&csv, &row, &faults[c->fault]);
		else
			demo_csv_row(&csv, &row);
	}
	w->rows[CRM_CUSTOMERS] = csv.n_rows;
	return demo_csv_close(&csv, err);
}

static const char *const statuses[] = { "", "completed", "returned", "cancelled" };

static int write_orders(struct demo_world *w, gsl_rng *r_bad, struct crm_err *err)
{
	struct demo_csv csv;
	struct demo_row row;
	char idbuf[16];
	int rc = demo_csv_open(&csv, w->dir, CRM_ORDERS, w->n_orders, r_bad, 'O', 7,
			       w->n_orders + 1, &w->bad[CRM_ORDERS], err);
	if (rc != CRM_OK)
		return rc;
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct demo_order *o = &w->orders[k];
		demo_row_clear(&row);
		demo_cell_idnum(&row, CRM_O_ORDER_ID, 'O', 7, k + 1);
		demo_cust_id(w, o->rec, idbuf);
		demo_cell_str(&row, CRM_O_CUSTOMER_ID, idbuf);
		demo_cell_time(&row, CRM_O_ORDERED_AT, o->at);
		demo_cell_money(&row, CRM_O_AMOUNT, o->amount);
		demo_cell_str(&row, CRM_O_CURRENCY, "EUR");
		demo_cell_str(&row, CRM_O_CHANNEL, demo_order_channels[o->channel]);
		demo_cell_money(&row, CRM_O_COST, o->cost);
		demo_cell_int(&row, CRM_O_ITEMS, o->items);
		demo_cell_str(&row, CRM_O_STATUS, statuses[o->status]);
		demo_cell_str(&row, CRM_O_CATEGORY, demo_categories[o->category]);
		demo_csv_row(&csv, &row);
	}
	w->rows[CRM_ORDERS] = csv.n_rows;
	return demo_csv_close(&csv, err);
}

/* Bad customer rows: new people (not copies, so that a lenient importer
 * does not make an unplanted duplicate), each broken by one fault. */
static int build_bad_customers(struct builder *b)
{
	size_t nf;
	(void)demo_faults(CRM_CUSTOMERS, &nf);
	for (size_t k = 0; k < nf; k++) {
		struct demo_cust *c = new_rec(b);
		if (!c || make_record(b, c, b->r_bad) != 0)
			return -1;
		c->channel = (uint8_t)gsl_rng_uniform_int(b->r_bad, DC_N);
		c->fault = (int8_t)k;
	}
	return 0;
}

static int make_dirs(const char *dir, struct crm_err *err)
{
	char path[1024];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof path)
		return crm_err_set(err, CRM_EINVAL, "demo: output folder name is empty or too long");
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return crm_err_set(err, CRM_EIO, "%s: cannot create folder: %s", path, strerror(errno));
		path[i] = c;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return crm_err_set(err, CRM_EIO, "%s: not a folder", dir);
	return CRM_OK;
}

static void world_fini(struct demo_world *w)
{
	free(w->persons);
	free(w->recs);
	free(w->rec_rank);
	free(w->orders);
	free(w->day_mult);
	strs_fini(&w->pool);
	for (int e = 0; e < CRM_N_ENTITIES; e++)
		free(w->bad[e].v);
}

/* Writes the demo business into opts->out_dir (created if missing): one CSV
 * per entity and truth.json. customers 0 means 5000. Fills *counts when not
 * NULL. Returns CRM_OK, or CRM_EINVAL / CRM_EIO / CRM_ENOMEM with err set;
 * files written before a failure are left in place. */
int demo_generate(const struct demo_opts *opts, struct demo_counts *counts,
		  struct crm_err *err)
{
	struct demo_world w;
	struct builder b;
	int rc = CRM_OK;
	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	strs_init(&w.pool);
	b.w = &w;
	if (counts)
		memset(counts, 0, sizeof *counts);
	if (!opts || !opts->out_dir) {
		rc = crm_err_set(err, CRM_EINVAL, "demo: no output folder");
		goto done;
	}
	size_t n = opts->customers ? opts->customers : 5000;
	if (n > 5000000) {
		rc = crm_err_set(err, CRM_EINVAL, "demo: --customers %zu is above the limit of 5000000", n);
		goto done;
	}
	if ((rc = make_dirs(opts->out_dir, err)) != CRM_OK)
		goto done;
	w.seed = opts->seed;
	w.dir = opts->out_dir;
	w.start = days_from_civil(DEMO_START_Y, DEMO_START_M, 1) * SECS_PER_DAY;
	w.end = days_from_civil(DEMO_END_Y, DEMO_END_M, 1) * SECS_PER_DAY;
	seasons_init(&w);
	b.r_id = demo_rng(w.seed, DS_IDENTITY);
	b.r_buy = demo_rng(w.seed, DS_PURCHASE);
	b.r_ord = demo_rng(w.seed, DS_ORDER);
	b.r_dup = demo_rng(w.seed, DS_DUPLICATE);
	b.r_bad = demo_rng(w.seed, DS_BAD);
	if (!b.r_id || !b.r_buy || !b.r_ord || !b.r_dup || !b.r_bad || days_init(&w) != 0 ||
	    strmap_init(&b.emails, 2 * n) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "demo: out of memory");
		goto done;
	}
	if (build_persons(&b, n) != 0 || build_duplicates(&b) != 0 ||
	    build_bad_customers(&b) != 0 || rank_records(&w) != 0) {
		rc = crm_err_set(err, CRM_ENOMEM, "demo: out of memory building %zu customers", n);
		goto done;
	}
	if ((rc = write_customers(&w, err)) != CRM_OK ||
	    (rc = write_orders(&w, b.r_bad, err)) != CRM_OK ||
	    (rc = demo_write_interactions(&w, err)) != CRM_OK ||
	    (rc = demo_write_tickets(&w, err)) != CRM_OK ||
	    (rc = demo_write_leads(&w, err)) != CRM_OK ||
	    (rc = demo_write_spend(&w, err)) != CRM_OK ||
	    (rc = demo_write_feedback(&w, err)) != CRM_OK ||
	    (rc = demo_write_web(&w, err)) != CRM_OK ||
	    (rc = demo_write_truth(&w, err)) != CRM_OK)
		goto done;
	if (counts) {
		for (int e = 0; e < CRM_N_ENTITIES; e++) {
			counts->rows[e] = w.rows[e];
			counts->bad_rows_planted += w.bad[e].n;
		}
		counts->duplicates_planted = w.n_duplicates;
	}
done:
	if (b.emails.cap)
		strmap_fini(&b.emails);
	gsl_rng *rngs[] = { b.r_id, b.r_buy, b.r_ord, b.r_dup, b.r_bad };
	for (size_t k = 0; k < sizeof rngs / sizeof rngs[0]; k++)
		if (rngs[k])
			gsl_rng_free(rngs[k]);
	world_fini(&w);
	return rc;
}
