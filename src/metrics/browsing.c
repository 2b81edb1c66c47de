/* browsing.c - web sessions, bounce rate, dwell time, paths, exit pages and
 * the funnel (metrics layer), over the web_events table of the dataset.
 *
 * Web events are sorted by customer then time, anonymous ones last, so the
 * events of one session may lie in two places (before and after a login).
 * Sessions are assembled without a hash map or a comparison sort: each run
 * of consecutive events grouped alike (by session_id, else visitor_id, else
 * customer, else the event alone) gets the 64-bit hash of what groups it, a
 * radix sort brings the runs of a group together, and a group without a
 * session_id is cut where two events are more than the session timeout
 * apart. Every number is then one pass over the sessions, in row order.
 * Definitions: METRICS.md "Browsing", docs/METRICS-NOTES.md. */
#include "metrics/browsing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strmap.h"
#include "core/tstamp.h"
#include "report/doc.h"

/* ------------------------------------------------------------- sessions */

/* What groups an event into a session. */
enum { K_SKIP = 0, K_SID, K_VISITOR, K_CUSTOMER, K_LONE };

/* One session: its events are order[first .. first + n), in time order. */
struct sess {
	int64_t start, end;      /* first and last event time */
	uint32_t first, n;
	uint32_t customer;       /* first customer among its events, or CRM_NO_CUSTOMER */
	uint8_t by_id;           /* 1: one session_id; 0: cut by the timeout */
};

struct sessions {
	uint32_t *order;         /* rows kept (time <= as-of), session by session */
	size_t n_order;
	struct sess *s;          /* n sessions, in the order of their group's first
	                            row, then time */
	size_t n, cap;
};

static void sessions_fini(struct sessions *ss)
{
	free(ss->order);
	free(ss->s);
	memset(ss, 0, sizeof *ss);
}

/* Text of row r of a STR column (length in *len; 0 when missing or when the
 * column is absent). */
static const char *str_cell(const struct crm_column *c, size_t r, size_t *len)
{
	if (c->kind != CRM_COL_STR || !c->str.off) {
		*len = 0;
		return NULL;
	}
	uint64_t a = c->str.off[r], b = c->str.off[r + 1];
	*len = (size_t)(b - a - 1);
	return c->str.bytes + a;
}

/* ----------------------------------------------------- sort by a 64-bit key */

/* An item sorted by key: a and b are the caller's (a row and a count, or an
 * index). */
struct kv {
	uint64_t key;
	uint32_t a, b;
};

/* Sorts v[0..n) by key, stably: an LSD radix sort on 16-bit digits, a pass
 * whose digit is the same everywhere skipped. tmp holds n items. Returns
 * the sorted array: v or tmp. */
static struct kv *radix_kv(struct kv *v, struct kv *tmp, size_t n, uint32_t *count)
{
	if (n < 2)
		return v;
	memset(count, 0, 4 * 65536 * sizeof *count);
	for (size_t i = 0; i < n; i++)
		for (unsigned p = 0; p < 4; p++)
			count[p * 65536u + ((v[i].key >> (16 * p)) & 0xffff)]++;
	for (unsigned p = 0; p < 4; p++) {
		uint32_t *c = count + p * 65536u;
		if (c[(v[0].key >> (16 * p)) & 0xffff] == n)
			continue;
		uint32_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			uint32_t x = c[d];
			c[d] = sum;
			sum += x;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(v[i].key >> (16 * p)) & 0xffff]++] = v[i];
		struct kv *t = v;
		v = tmp;
		tmp = t;
	}
	return v;
}

/* splitmix64's finaliser (Steele, Lea & Flood 2014): a 64-bit mix. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* --------------------------------------------------------- session groups */

struct grouping {
	const struct crm_table *t;
	const struct crm_column *sid, *vis;
};

/* What groups row r, and its text (session_id or visitor_id) if any. */
static int row_kind(const struct grouping *g, size_t r, const char **p, size_t *len)
{
	*p = str_cell(g->sid, r, len);
	if (*len)
		return K_SID;
	*p = str_cell(g->vis, r, len);
	if (*len)
		return K_VISITOR;
	*p = NULL;
	return g->t->customer[r] != CRM_NO_CUSTOMER ? K_CUSTOMER : K_LONE;
}

/* Orders two runs (kv.a = first row) by what groups them, then by row. */
static int cmp_run(const void *pa, const void *pb, void *ctx)
{
	const struct grouping *g = ctx;
	const struct kv *x = pa, *y = pb;
	const char *px, *py;
	size_t nx, ny;
	int kx = row_kind(g, x->a, &px, &nx), ky = row_kind(g, y->a, &py, &ny);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	if (kx == K_SID || kx == K_VISITOR) {
		int c = memcmp(px, py, nx < ny ? nx : ny);
		if (c || nx != ny)
			return c ? c : nx < ny ? -1 : 1;
	} else if (kx == K_CUSTOMER && g->t->customer[x->a] != g->t->customer[y->a]) {
		return g->t->customer[x->a] < g->t->customer[y->a] ? -1 : 1;
	}
	return x->a < y->a ? -1 : x->a > y->a;
}

/* 1 when two runs belong to one group. */
static int same_group(const struct grouping *g, const struct kv *x, const struct kv *y)
{
	const char *px, *py;
	size_t nx, ny;
	int kx = row_kind(g, x->a, &px, &nx), ky = row_kind(g, y->a, &py, &ny);
	if (kx != ky)
		return 0;
	if (kx == K_SID || kx == K_VISITOR)
		return nx == ny && memcmp(px, py, nx) == 0;
	if (kx == K_CUSTOMER)
		return g->t->customer[x->a] == g->t->customer[y->a];
	return x->a == y->a;
}

/* The runs of the web events up to as_of: maximal ranges of consecutive
 * rows grouped alike (the events of one session in a customer's rows are
 * one run; anonymous events, sorted by time, interleave). With out NULL
 * only counts them; *n_kept is the number of rows they hold. */
static size_t scan_runs(const struct grouping *g, const int64_t *at, int64_t as_of,
			struct kv *out, size_t *n_kept)
{
	size_t n_runs = 0, kept = 0, pn = 0;
	const char *pp = NULL;
	int pk = K_SKIP;
	uint32_t pc = 0;
	for (size_t r = 0; r < g->t->n; r++) {
		if (at[r] == CRM_NA || at[r] > as_of) {
			pk = K_SKIP;
			continue;
		}
		kept++;
		const char *p;
		size_t len;
		int k = row_kind(g, r, &p, &len);
		uint32_t c = g->t->customer[r];
		if (k == pk && ((k == K_CUSTOMER && c == pc) ||
				((k == K_SID || k == K_VISITOR) && len == pn && memcmp(p, pp, len) == 0))) {
			if (out)
				out[n_runs - 1].b++;
			continue;
		}
		if (out) {
			uint64_t h = k == K_SID ? strmap_hash(p, len)
				     : k == K_VISITOR ? mix64(strmap_hash(p, len))
				     : k == K_CUSTOMER ? mix64((uint64_t)c ^ 0x5bd1e9955bd1e995ULL)
				     : mix64((uint64_t)r ^ 0xc2b2ae3d27d4eb4fULL);
			out[n_runs] = (struct kv){ h, (uint32_t)r, 1 };
		}
		n_runs++;
		pk = k;
		pp = p;
		pn = len;
		pc = c;
	}
	*n_kept = kept;
	return n_runs;
}

static int add_session(struct sessions *ss, const struct crm_table *t, const int64_t *at,
		       size_t b, size_t e, int by_id)
{
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 1024;
		struct sess *s = xreallocn(ss->s, cap, sizeof *s);
		if (!s)
			return -1;
		ss->s = s;
		ss->cap = cap;
	}
	struct sess *s = &ss->s[ss->n++];
	s->start = at[ss->order[b]];
	s->end = at[ss->order[e - 1]];
	s->first = (uint32_t)b;
	s->n = (uint32_t)(e - b);
	s->by_id = (uint8_t)by_id;
	s->customer = CRM_NO_CUSTOMER;
	for (size_t i = b; i < e; i++) {
		uint32_t c = t->customer[ss->order[i]];
		if (c != CRM_NO_CUSTOMER) {
			s->customer = c;
			break;
		}
	}
	return 0;
}

struct trow {
	int64_t t;
	uint32_t row;
};

static int cmp_trow(const void *pa, const void *pb)
{
	const struct trow *a = pa, *b = pb;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/* Forms the sessions of the web events of ds up to as_of into ss (zeroed
 * first; the caller frees with sessions_fini, also after a failure). A
 * dataset without web events, or without their times, gives none.
 *
 * Each run of rows gets a 64-bit key, the hash of what groups it; a radix
 * sort brings the runs of a group together in row order (runs whose keys
 * collide are told apart by their text). A group's rows are then put in
 * time order (a session's rows may come from a customer's range and from
 * the anonymous ones) and, without a session_id, cut where two events are
 * more than the timeout apart. */
static int sessions_build(const struct crm_dataset *ds, int64_t as_of, int timeout_s,
			  struct sessions *ss, struct crm_err *err)
{
	const struct crm_table *t = &ds->t[CRM_WEB_EVENTS];
	const int64_t *at = t->col[CRM_W_OCCURRED_AT].i64;
	struct grouping g = { t, &t->col[CRM_W_SESSION_ID], &t->col[CRM_W_VISITOR_ID] };
	struct kv *runs = NULL, *tmp_runs = NULL;
	uint32_t *count = NULL, *group_at = NULL;
	struct trow *tmp = NULL;
	size_t cap_tmp = 0;
	int rc = CRM_OK;

	memset(ss, 0, sizeof *ss);
	if (t->n == 0 || t->col[CRM_W_OCCURRED_AT].kind != CRM_COL_I64 || !at || !t->customer)
		return CRM_OK;
	if (t->n >= (size_t)INT32_MAX)
		return crm_err_set(err, CRM_ERANGE,
				   "browsing: %zu web events: at most 2^31 - 1 are supported", t->n);
	size_t n_kept, n_runs = scan_runs(&g, at, as_of, NULL, &n_kept);
	if (n_runs == 0)
		return CRM_OK;
	runs = xmallocn(n_runs, sizeof *runs);
	tmp_runs = xmallocn(n_runs, sizeof *tmp_runs);
	count = xmallocn(4 * 65536, sizeof *count);
	group_at = calloc(t->n, sizeof *group_at);
	ss->order = xmallocn(n_kept, sizeof *ss->order);
	if (!runs || !tmp_runs || !count || !group_at || !ss->order)
		goto nomem;
	ss->n_order = n_kept;
	scan_runs(&g, at, as_of, runs, &n_kept);
	struct kv *v = radix_kv(runs, tmp_runs, n_runs, count);
	struct kv *ends = v == runs ? tmp_runs : runs;   /* free now: group ends */

	/* the groups: runs of equal key and equal text. Each is noted at its
	 * first row (group_at[row] = 1 + its first run in v, ends[that].a = the
	 * end of its runs in v), so that they are taken below in the order of their
	 * first rows: the rows of neighbouring sessions are then near in
	 * memory, where the order of the hashes would jump across the table. */
	for (size_t i = 0; i < n_runs;) {
		size_t j = i + 1;
		while (j < n_runs && v[j].key == v[i].key)
			j++;
		int same = 1;
		for (size_t k = i + 1; k < j && same; k++)
			same = same_group(&g, &v[i], &v[k]);
		if (!same)   /* a hash collision: sort the runs by their text */
			qsort_r(v + i, j - i, sizeof *v, cmp_run, &g);
		for (size_t k = i; k < j;) {
			size_t e = k + 1;
			while (e < j && (same || same_group(&g, &v[k], &v[e])))
				e++;
			group_at[v[k].a] = (uint32_t)k + 1;
			ends[k].a = (uint32_t)e;
			k = e;
		}
		i = j;
	}

	/* the groups' first runs in row order, packed at the front of group_at;
	 * fetched from v ahead of their use (v is in the order of the hashes) */
	size_t n_groups = 0;
	for (size_t r = 0; r < t->n; r++)
		if (group_at[r])
			group_at[n_groups++] = group_at[r] - 1;
	size_t pos = 0;
	for (size_t gi = 0; gi < n_groups; gi++) {
		if (gi + 16 < n_groups) {
			__builtin_prefetch(&v[group_at[gi + 16]]);
			__builtin_prefetch(&ends[group_at[gi + 16]]);
		}
		/* a group: runs i..j of v, its rows to order[b..e) in row order */
		size_t i = group_at[gi], j = ends[i].a;
		size_t b = pos;
		for (size_t k = i; k < j; k++)
			for (uint32_t x = 0; x < v[k].b; x++)
				ss->order[pos++] = v[k].a + x;
		size_t e = pos;
		const char *p;
		size_t len;
		int kind = row_kind(&g, v[i].a, &p, &len);

		int sorted = 1;
		for (size_t x = b + 1; x < e && sorted; x++)
			sorted = at[ss->order[x]] >= at[ss->order[x - 1]];
		if (!sorted) {
			if (e - b > cap_tmp) {
				struct trow *nt = xreallocn(tmp, e - b, sizeof *nt);
				if (!nt)
					goto nomem;
				tmp = nt;
				cap_tmp = e - b;
			}
			for (size_t x = b; x < e; x++)
				tmp[x - b] = (struct trow){ at[ss->order[x]], ss->order[x] };
			qsort(tmp, e - b, sizeof *tmp, cmp_trow);
			for (size_t x = b; x < e; x++)
				ss->order[x] = tmp[x - b].row;
		}
		if (kind == K_SID || kind == K_LONE) {
			if (add_session(ss, t, at, b, e, kind == K_SID) != 0)
				goto nomem;
			continue;
		}
		size_t s0 = b;
		for (size_t x = b + 1; x < e; x++) {
			/* more than the timeout apart starts a new session (Matomo's and
			 * PostHog's 30 minutes of inactivity) */
			if (at[ss->order[x]] - at[ss->order[x - 1]] > (int64_t)timeout_s) {
				if (add_session(ss, t, at, s0, x, 0) != 0)
					goto nomem;
				s0 = x;
			}
		}
		if (add_session(ss, t, at, s0, e, 0) != 0)
			goto nomem;
	}
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "browsing: out of memory forming sessions of %zu web events",
			 t->n);
done:
	free(runs);
	free(tmp_runs);
	free(count);
	free(group_at);
	free(tmp);
	return rc;
}

int mx_browsing_sessions_per_customer(const struct mx_ctx *ctx, int64_t from, int64_t to,
				      uint32_t *n, struct crm_err *err)
{
	struct sessions ss;
	const struct crm_dataset *ds = ctx->ds;
	memset(n, 0, ds->n_customers * sizeof *n);
	int rc = sessions_build(ds, ctx->o.as_of, ctx->o.session_timeout_s, &ss, err);
	if (rc == CRM_OK)
		for (size_t k = 0; k < ss.n; k++) {
			const struct sess *s = &ss.s[k];
			if (s->customer != CRM_NO_CUSTOMER && s->start >= from && s->start < to)
				n[s->customer]++;
		}
	sessions_fini(&ss);
	return rc;
}

/* --------------------------------------------------------------- metrics */

enum { EV_VIEW = 0, EV_ADD, EV_PURCHASE, EV_OTHER };

/* Per page code, over the counted sessions. */
struct pstat {
	size_t views, visits, entries, bounces, exits, n_dwell;
	int64_t dwell_sum;       /* s */
	uint32_t stamp;          /* the last session (index + 1) that visited it */
	int slot;                /* 1 + its place among the listed pages, 0 none */
};

const char *mx_browsing_bounce_name(int def)
{
	static const char *const names[] = { "matomo", "ga4", "posthog" };
	return def >= MX_BOUNCE_MATOMO && def <= MX_BOUNCE_POSTHOG ? names[def] : NULL;
}

/* The text of a page code ("" for a missing page or no page column). */
static const char *page_text(const struct crm_column *pg, uint32_t code)
{
	if (pg->kind != CRM_COL_CAT || !pg->dict.off || code >= pg->dict.n)
		return "";
	return pg->dict.bytes + pg->dict.off[code];
}

/* The class (EV_*) of each code of the event column, a missing event a
 * page view: an array of *n_codes (dict.n, at least 1) entries that the
 * caller frees, or NULL when out of memory. */
static uint8_t *event_classes(const struct crm_column *ev, size_t *n_codes)
{
	size_t n = ev->kind == CRM_COL_CAT && ev->dict.off && ev->dict.n ? ev->dict.n : 1;
	uint8_t *c = malloc(n);
	if (!c)
		return NULL;
	c[0] = EV_VIEW;
	for (size_t k = 1; k < n; k++) {
		const char *s = ev->dict.bytes + ev->dict.off[k];
		c[k] = strcasecmp(s, "view") == 0 ? EV_VIEW
		       : strcasecmp(s, "add_to_cart") == 0 ? EV_ADD
		       : strcasecmp(s, "purchase") == 0 ? EV_PURCHASE : EV_OTHER;
	}
	*n_codes = n;
	return c;
}

/* 1 when page a ranks before page b: the larger count, then the page text
 * in byte order. */
static int ranks_before(const struct crm_column *pg, size_t ca, uint32_t a, size_t cb, uint32_t b)
{
	if (ca != cb)
		return ca > cb;
	int c = strcmp(page_text(pg, a), page_text(pg, b));
	return c ? c < 0 : a < b;
}

/* Fills top[0..*n_top) (at most MX_BROW_TOP, best first by ranks_before)
 * with the pages of the largest count (which: 0 views, 1 entries, 2 exits)
 * that is not 0. */
static void top_pages(const struct pstat *ps, size_t n_pages, const struct crm_column *pg,
		      int which, uint32_t *top, size_t *n_top)
{
	size_t n = 0;
	for (uint32_t p = 0; p < n_pages; p++) {
		size_t c = which == 0 ? ps[p].views : which == 1 ? ps[p].entries : ps[p].exits;
		if (c == 0)
			continue;
		size_t i = n;
		while (i > 0) {
			uint32_t q = top[i - 1];
			size_t cq = which == 0 ? ps[q].views : which == 1 ? ps[q].entries : ps[q].exits;
			if (!ranks_before(pg, c, p, cq, q))
				break;
			i--;
		}
		if (i >= MX_BROW_TOP)
			continue;
		size_t last = n < MX_BROW_TOP ? n : MX_BROW_TOP - 1;
		memmove(top + i + 1, top + i, (last - i) * sizeof *top);
		top[i] = p;
		if (n < MX_BROW_TOP)
			n++;
	}
	*n_top = n;
}

/* 1 when path a ranks before path b: more sessions, then the page texts
 * in order (a shorter path before its extensions). */
static int path_before(const struct crm_column *pg, const struct mx_brow_path *a,
		       const struct mx_brow_path *b)
{
	if (a->sessions != b->sessions)
		return a->sessions > b->sessions;
	for (size_t i = 0; i < a->n_pages && i < b->n_pages; i++) {
		int c = strcmp(page_text(pg, a->page[i]), page_text(pg, b->page[i]));
		if (c)
			return c < 0;
		if (a->page[i] != b->page[i])
			return a->page[i] < b->page[i];
	}
	return a->n_pages < b->n_pages;
}

static void fill_page(struct mx_brow_page *o, const struct pstat *ps, uint32_t p)
{
	o->page = p;
	o->views = ps[p].views;
	o->visits = ps[p].visits;
	o->entries = ps[p].entries;
	o->bounces = ps[p].bounces;
	o->exits = ps[p].exits;
	o->n_dwell = ps[p].n_dwell;
	o->dwell_mean_s = ps[p].n_dwell ? (double)ps[p].dwell_sum / (double)ps[p].n_dwell : NAN;
	o->dwell_median_s = NAN;
}

/* The pages of a path and their number (unused entries 0). */
struct path4 {
	uint32_t p[MX_BROW_PATH_LEN];
	uint32_t n;
};

static int same_path(const struct path4 *a, const struct path4 *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

/* Orders two kv (a = index in the struct path4 array ctx) by path, then index. */
static int cmp_path(const void *pa, const void *pb, void *ctx)
{
	const struct kv *x = pa, *y = pb;
	const struct path4 *p = ctx, *a = &p[x->a], *b = &p[y->a];
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (size_t i = 0; i < MX_BROW_PATH_LEN; i++)
		if (a->p[i] != b->p[i])
			return a->p[i] < b->p[i] ? -1 : 1;
	return x->a < y->a ? -1 : x->a > y->a;
}

#define HIST_N 65536   /* seconds counted in int_median's histogram */

/* The value of rank k (0-based) among the values counted in hist (ns of
 * them) and the sorted ones big[] above them. */
static double rank_value(const uint32_t *hist, size_t ns, const double *big, size_t k)
{
	if (k >= ns)
		return big[k - ns];
	size_t cum = 0;
	for (size_t x = 0; x < HIST_N; x++) {
		cum += hist[x];
		if (cum > k)
			return (double)x;
	}
	return NAN;   /* not reached */
}

/* The median of n whole seconds v (>= 0) as mx_median gives it (type 7),
 * in time linear in n: the values below HIST_N are counted in hist (HIST_N
 * entries, cleared here), the others moved to the front of v and sorted
 * (v keeps its values, in another order). NAN when n = 0. */
static double int_median(double *v, size_t n, uint32_t *hist)
{
	if (n == 0)
		return NAN;
	memset(hist, 0, HIST_N * sizeof *hist);
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (x >= 0 && x < HIST_N) {
			hist[(size_t)x]++;
		} else {   /* swapped, so that v keeps its values for another call */
			v[i] = v[nb];
			v[nb++] = x;
		}
	}
	if (nb)
		mx_quantile(v, nb, 0);   /* sorts them */
	size_t ns = n - nb;
	double h = (double)(n - 1) * 0.5;
	size_t lo = (size_t)floor(h);
	double a = rank_value(hist, ns, v, lo);
	if (h == (double)lo || lo + 1 >= n)
		return a;
	return a + (h - (double)lo) * (rank_value(hist, ns, v, lo + 1) - a);
}

/* 1 when session s counts in ctx. */
static int sess_counts(const struct mx_ctx *ctx, const struct sess *s)
{
	return s->start >= ctx->o.p_start && s->start < ctx->o.p_end && mx_counts(ctx, s->customer);
}

int mx_browsing_compute(const struct mx_ctx *ctx, struct mx_browsing *r, struct crm_err *err)
{
	const struct crm_dataset *ds = ctx->ds;
	const struct crm_table *t = &ds->t[CRM_WEB_EVENTS];
	const struct crm_column *pg = &t->col[CRM_W_PAGE], *evc = &t->col[CRM_W_EVENT];
	const int64_t *at = t->col[CRM_W_OCCURRED_AT].i64;
	const uint32_t *page = pg->kind == CRM_COL_CAT ? pg->cat : NULL;
	const uint32_t *event = evc->kind == CRM_COL_CAT ? evc->cat : NULL;
	struct sessions ss;
	struct pstat *ps = NULL;
	uint8_t *cls = NULL, *counted = NULL;
	double *dur = NULL, *dwell = NULL, *slot_v = NULL;
	struct path4 *pcodes = NULL;
	struct kv *pkv = NULL, *pkv_tmp = NULL;
	uint32_t *count = NULL;
	size_t n_pk = 0;
	int rc;
	size_t slot_off[3 * MX_BROW_TOP + 1];

	memset(r, 0, sizeof *r);
	r->bounce_def = ctx->o.bounce;
	r->views_per_session = r->events_per_session = NAN;
	r->duration_median_s = r->duration_mean_s = NAN;
	r->dwell_median_s = r->dwell_mean_s = NAN;
	r->conversion_pct = NAN;
	for (int d = 0; d < 3; d++)
		r->bounce_rate[d] = NAN;
	for (int f = 0; f < MX_FUNNEL_N; f++)
		r->funnel_pct[f] = r->funnel_drop_pct[f] = NAN;
	if ((rc = sessions_build(ds, ctx->o.as_of, ctx->o.session_timeout_s, &ss, err)) != CRM_OK)
		goto done;
	r->has_input = t->n > 0 && at != NULL;
	if (!r->has_input)
		goto done;

	rc = CRM_ENOMEM;
	size_t n_pages = page && pg->dict.n ? pg->dict.n : 1, n_codes = 1;
	ps = calloc(n_pages, sizeof *ps);
	cls = event_classes(evc, &n_codes);
	counted = calloc(ss.n ? ss.n : 1, 1);
	dur = xmallocn(ss.n ? ss.n : 1, sizeof *dur);
	dwell = xmallocn(ss.n_order ? ss.n_order : 1, sizeof *dwell);
	pcodes = xmallocn(ss.n ? ss.n : 1, sizeof *pcodes);
	pkv = xmallocn(ss.n ? ss.n : 1, sizeof *pkv);
	pkv_tmp = xmallocn(ss.n ? ss.n : 1, sizeof *pkv_tmp);
	count = xmallocn(4 * 65536, sizeof *count);
	if (!ps || !cls || !counted || !dur || !dwell || !pcodes || !pkv || !pkv_tmp || !count)
		goto nomem;
	/* a path's key: its page codes + 1 packed in 21 bits each (0: none)
	 * when they fit, else their hash */
	int packed = n_pages < ((size_t)1 << 21) - 1;
	if (!event)
		n_codes = 1;

	int64_t dur_sum = 0, dwell_sum = 0;
	for (size_t k = 0; k < ss.n; k++) {
		const struct sess *s = &ss.s[k];
		if (!sess_counts(ctx, s))
			continue;
		counted[k] = 1;
		const uint32_t *rows = ss.order + s->first;
		uint32_t stamp = (uint32_t)k + 1, path[MX_BROW_PATH_LEN];
		size_t nv = 0, np = 0, n_other = 0;
		int has_add = 0, has_purchase = 0;
		int64_t t_view = CRM_NA;
		for (size_t i = 0; i < s->n; i++) {
			uint32_t row = rows[i], p = page ? page[row] : 0;
			uint32_t code = event ? event[row] : 0;
			int c = code < n_codes ? cls[code] : EV_OTHER;
			if (p >= n_pages)
				p = 0;
			if (ps[p].stamp != stamp) {
				ps[p].stamp = stamp;
				ps[p].visits++;
			}
			if (c == EV_VIEW) {
				nv++;
				ps[p].views++;
				if (np < MX_BROW_PATH_LEN)
					path[np++] = p;
				if (t_view == CRM_NA)
					t_view = at[row];
				if (i + 1 < s->n) {
					/* dwell: the time to the session's next event */
					int64_t dw = at[rows[i + 1]] - at[row];
					ps[p].n_dwell++;
					ps[p].dwell_sum += dw;
					dwell_sum += dw;
					dwell[r->n_dwell++] = (double)dw;
				}
			} else {
				n_other++;
				has_add |= c == EV_ADD;
				has_purchase |= c == EV_PURCHASE;
			}
		}
		/* funnel: a view, then an add_to_cart not before it, then a
		 * purchase not before that add_to_cart (equal times are in order) */
		int step = nv ? 1 : 0;
		if (step && has_add) {
			int64_t t_add = CRM_NA;
			for (size_t i = 0; i < s->n && t_add == CRM_NA; i++) {
				uint32_t code = event ? event[rows[i]] : 0;
				if (code < n_codes && cls[code] == EV_ADD && at[rows[i]] >= t_view)
					t_add = at[rows[i]];
			}
			if (t_add != CRM_NA) {
				step = 2;
				for (size_t i = 0; i < s->n && has_purchase && step == 2; i++) {
					uint32_t code = event ? event[rows[i]] : 0;
					if (code < n_codes && cls[code] == EV_PURCHASE && at[rows[i]] >= t_add)
						step = 3;
				}
			}
		}
		for (int f = 0; f < step; f++)
			r->funnel[f]++;

		int64_t d = s->end - s->start;
		int bounced[3];
		bounced[MX_BOUNCE_MATOMO] = s->n == 1;
		bounced[MX_BOUNCE_GA4] = d < 10 && nv <= 1 && !has_add && !has_purchase;
		bounced[MX_BOUNCE_POSTHOG] = nv == 1 && n_other == 0 && d < 10;
		for (int b = 0; b < 3; b++)
			r->bounced[b] += (size_t)bounced[b];
		uint32_t entry = page ? page[rows[0]] : 0, exit_p = page ? page[rows[s->n - 1]] : 0;
		if (entry >= n_pages)
			entry = 0;
		if (exit_p >= n_pages)
			exit_p = 0;
		ps[entry].entries++;
		ps[entry].bounces += (size_t)bounced[r->bounce_def];
		ps[exit_p].exits++;

		dur[r->sessions++] = (double)d;
		dur_sum += d;
		r->events += s->n;
		r->page_views += nv;
		if (s->by_id)
			r->sessions_by_id++;
		else
			r->sessions_by_gap++;
		if (np) {
			struct path4 *q = &pcodes[n_pk];
			uint64_t key = 0;
			memset(q, 0, sizeof *q);
			q->n = (uint32_t)np;
			for (size_t i = 0; i < np; i++) {
				q->p[i] = path[i];
				key |= (uint64_t)(path[i] + 1) << (42 - 21 * i);
			}
			if (!packed)
				key = strmap_hash((const char *)q->p, np * sizeof q->p[0]);
			pkv[n_pk] = (struct kv){ key, (uint32_t)n_pk, 0 };
			n_pk++;
		}
	}

	size_t n_s = r->sessions;
	if (n_s) {
		r->views_per_session = (double)r->page_views / (double)n_s;
		r->events_per_session = (double)r->events / (double)n_s;
		r->duration_mean_s = (double)dur_sum / (double)n_s;
		r->duration_median_s = int_median(dur, n_s, count);
		for (int b = 0; b < 3; b++)
			r->bounce_rate[b] = mx_pct(r->bounced[b], n_s);
	}
	if (r->n_dwell) {
		r->dwell_mean_s = (double)dwell_sum / (double)r->n_dwell;
		r->dwell_median_s = int_median(dwell, r->n_dwell, count);
	}
	for (int f = 0; f < MX_FUNNEL_N; f++) {
		r->funnel_pct[f] = mx_pct(r->funnel[f], f ? r->funnel[f - 1] : n_s);
		r->funnel_drop_pct[f] = 100.0 - r->funnel_pct[f];
	}
	r->conversion_pct = mx_pct(r->funnel[MX_FUNNEL_PURCHASE], r->funnel[MX_FUNNEL_VIEW]);

	/* the top lists */
	uint32_t top[3][MX_BROW_TOP];
	size_t n_top[3];
	for (int w = 0; w < 3; w++)
		top_pages(ps, n_pages, pg, w, top[w], &n_top[w]);
	r->n_pages = n_top[0];
	r->n_entry = n_top[1];
	r->n_exit = n_top[2];
	for (size_t i = 0; i < r->n_pages; i++)
		fill_page(&r->pages[i], ps, top[0][i]);
	for (size_t i = 0; i < r->n_entry; i++)
		fill_page(&r->entry[i], ps, top[1][i]);
	for (size_t i = 0; i < r->n_exit; i++)
		fill_page(&r->exit[i], ps, top[2][i]);

	/* median dwell of the listed pages: their dwell times gathered in a
	 * second pass over the counted sessions, one slot per page */
	size_t n_slots = 0;
	slot_off[0] = 0;
	for (int w = 0; w < 3; w++)
		for (size_t i = 0; i < n_top[w]; i++) {
			struct pstat *p = &ps[top[w][i]];
			if (p->slot)
				continue;
			p->slot = (int)++n_slots;
			slot_off[n_slots] = slot_off[n_slots - 1] + p->n_dwell;
		}
	size_t fill[3 * MX_BROW_TOP];
	memcpy(fill, slot_off, n_slots * sizeof *fill);
	slot_v = xmallocn(slot_off[n_slots] ? slot_off[n_slots] : 1, sizeof *slot_v);
	if (!slot_v)
		goto nomem;
	for (size_t k = 0; k < ss.n && slot_off[n_slots]; k++) {
		if (!counted[k])
			continue;
		const struct sess *s = &ss.s[k];
		const uint32_t *rows = ss.order + s->first;
		for (size_t i = 0; i + 1 < s->n; i++) {
			uint32_t row = rows[i], p = page ? page[row] : 0;
			uint32_t code = event ? event[row] : 0;
			if (p >= n_pages)
				p = 0;
			if (!ps[p].slot || (code < n_codes ? cls[code] : EV_OTHER) != EV_VIEW)
				continue;
			slot_v[fill[ps[p].slot - 1]++] = (double)(at[rows[i + 1]] - at[row]);
		}
	}
	for (int w = 0; w < 3; w++) {
		struct mx_brow_page *list = w == 0 ? r->pages : w == 1 ? r->entry : r->exit;
		for (size_t i = 0; i < n_top[w]; i++) {
			int sl = ps[top[w][i]].slot - 1;
			list[i].dwell_median_s = int_median(slot_v + slot_off[sl],
							    slot_off[sl + 1] - slot_off[sl], count);
		}
	}

	/* the most frequent paths: the paths sorted by key, each run of one
	 * path is a candidate */
	struct kv *v = radix_kv(pkv, pkv_tmp, n_pk, count);
	for (size_t i = 0; i < n_pk && !packed;) {
		/* hashed keys: a run of equal keys holding two paths (a collision,
		 * in practice never) is sorted by path */
		size_t j = i + 1;
		int same = 1;
		for (; j < n_pk && v[j].key == v[i].key; j++)
			same = same && same_path(&pcodes[v[i].a], &pcodes[v[j].a]);
		if (!same)
			qsort_r(v + i, j - i, sizeof *v, cmp_path, pcodes);
		i = j;
	}
	for (size_t i = 0; i < n_pk;) {
		const struct path4 *q = &pcodes[v[i].a];
		size_t j = i + 1;
		while (j < n_pk && v[j].key == v[i].key && (packed || same_path(q, &pcodes[v[j].a])))
			j++;
		struct mx_brow_path cand;
		memset(&cand, 0, sizeof cand);
		cand.n_pages = q->n;
		memcpy(cand.page, q->p, sizeof cand.page);
		cand.sessions = j - i;
		i = j;
		size_t at_i = r->n_paths;
		while (at_i > 0 && path_before(pg, &cand, &r->paths[at_i - 1]))
			at_i--;
		if (at_i >= MX_BROW_TOP)
			continue;
		size_t last = r->n_paths < MX_BROW_TOP ? r->n_paths : MX_BROW_TOP - 1;
		memmove(r->paths + at_i + 1, r->paths + at_i, (last - at_i) * sizeof r->paths[0]);
		r->paths[at_i] = cand;
		if (r->n_paths < MX_BROW_TOP)
			r->n_paths++;
	}
	rc = CRM_OK;
	goto done;
nomem:
	rc = crm_err_set(err, CRM_ENOMEM, "browsing: out of memory");
done:
	sessions_fini(&ss);
	free(pcodes);
	free(pkv);
	free(pkv_tmp);
	free(count);
	free(ps);
	free(cls);
	free(counted);
	free(dur);
	free(dwell);
	free(slot_v);
	return rc;
}

/* ---------------------------------------------------------------- report */

static const char *const bounce_text[] = {
	"a session of exactly one event",
	"a session not engaged: under 10 s, at most one page view, no add_to_cart or purchase",
	"a session of one page view and no other event, under 10 s",
};

/* A page's text for a table cell. */
static const char *page_cell(const struct crm_column *pg, uint32_t code)
{
	const char *s = page_text(pg, code);
	return s[0] ? s : "(no page)";
}

static void emit_tables(struct rp_section *s, const struct mx_browsing *r,
			const struct crm_column *pg, const char *def)
{
	char label[96];
	static const struct rp_col funnel_cols[] = {
		{ "step", RP_TEXT }, { "sessions", RP_COUNT }, { "of previous", RP_PERCENT },
		{ "lost", RP_COUNT }, { "drop", RP_PERCENT },
	};
	static const char *const steps[] = { "view", "add_to_cart", "purchase" };
	struct rp_table *t = rp_table_new(s, "funnel", "Funnel: view -> add_to_cart -> purchase",
					  funnel_cols, 5);
	rp_row(t);
	rp_cell_str(t, "sessions");
	rp_cell_num(t, (double)r->sessions);
	rp_cell_num(t, NAN);
	rp_cell_num(t, NAN);
	rp_cell_num(t, NAN);
	for (int f = 0; f < MX_FUNNEL_N; f++) {
		size_t prev = f ? r->funnel[f - 1] : r->sessions;
		rp_row(t);
		rp_cell_str(t, steps[f]);
		rp_cell_num(t, (double)r->funnel[f]);
		rp_cell_num(t, r->funnel_pct[f]);
		rp_cell_num(t, (double)(prev - r->funnel[f]));
		rp_cell_num(t, r->funnel_drop_pct[f]);
	}

	snprintf(label, sizeof label, "Entry pages (top 10) and their bounce rate (%s)", def);
	static const struct rp_col entry_cols[] = {
		{ "entry page", RP_TEXT }, { "sessions", RP_COUNT }, { "bounced", RP_COUNT },
		{ "bounce rate", RP_PERCENT },
	};
	t = rp_table_new(s, "entry_pages", label, entry_cols, 4);
	for (size_t i = 0; i < r->n_entry; i++) {
		const struct mx_brow_page *p = &r->entry[i];
		rp_row(t);
		rp_cell_str(t, page_cell(pg, p->page));
		rp_cell_num(t, (double)p->entries);
		rp_cell_num(t, (double)p->bounces);
		rp_cell_num(t, mx_pct(p->bounces, p->entries));
	}

	static const struct rp_col page_cols[] = {
		{ "page", RP_TEXT }, { "views", RP_COUNT }, { "with dwell", RP_COUNT },
		{ "dwell mean", RP_SECONDS }, { "dwell median", RP_SECONDS },
	};
	t = rp_table_new(s, "dwell", "Dwell time of the most viewed pages (top 10)", page_cols, 5);
	for (size_t i = 0; i < r->n_pages; i++) {
		const struct mx_brow_page *p = &r->pages[i];
		rp_row(t);
		rp_cell_str(t, page_cell(pg, p->page));
		rp_cell_num(t, (double)p->views);
		rp_cell_num(t, (double)p->n_dwell);
		rp_cell_num(t, p->dwell_mean_s);
		rp_cell_num(t, p->dwell_median_s);
	}

	static const struct rp_col path_cols[] = {
		{ "first pages", RP_TEXT }, { "sessions", RP_COUNT }, { "share", RP_PERCENT },
	};
	t = rp_table_new(s, "paths", "Most frequent first three pages (top 10)", path_cols, 3);
	for (size_t i = 0; i < r->n_paths; i++) {
		const struct mx_brow_path *p = &r->paths[i];
		struct buf b;
		buf_init(&b);
		int bad = 0;
		for (size_t k = 0; k < p->n_pages; k++)
			bad |= buf_printf(&b, "%s%s", k ? " > " : "", page_cell(pg, p->page[k]));
		rp_row(t);
		rp_cell_str(t, bad ? "?" : b.p);
		rp_cell_num(t, (double)p->sessions);
		rp_cell_num(t, mx_pct(p->sessions, r->sessions));
		buf_fini(&b);
	}

	static const struct rp_col exit_cols[] = {
		{ "exit page", RP_TEXT }, { "exits", RP_COUNT }, { "sessions on page", RP_COUNT },
		{ "exit rate", RP_PERCENT },
	};
	t = rp_table_new(s, "exit_pages", "Exit pages (top 10)", exit_cols, 4);
	for (size_t i = 0; i < r->n_exit; i++) {
		const struct mx_brow_page *p = &r->exit[i];
		rp_row(t);
		rp_cell_str(t, page_cell(pg, p->page));
		rp_cell_num(t, (double)p->exits);
		rp_cell_num(t, (double)p->visits);
		rp_cell_num(t, mx_pct(p->exits, p->visits));
	}
}

int mx_browsing_report(const struct mx_ctx *ctx, struct rp_doc *d, struct crm_err *err)
{
	struct mx_browsing r;
	char text[256];
	int rc;
	struct rp_section *s;
	if (ctx->order_channel) {
		s = rp_section_new(d, "browsing", ctx->group, "Browsing");
		rp_note(s, "Web events are not orders: browsing is not broken down by order channel.");
		return CRM_OK;
	}
	if ((rc = mx_browsing_compute(ctx, &r, err)) != CRM_OK)
		return rc;
	const char *def = mx_browsing_bounce_name(r.bounce_def);
	const struct crm_column *pg = &ctx->ds->t[CRM_WEB_EVENTS].col[CRM_W_PAGE];
	s = rp_section_new(d, "browsing", ctx->group, "Browsing");
	mx_param_period(s, ctx->o.as_of, ctx->o.p_start, ctx->o.p_end, 0,
			": sessions starting in it");
	snprintf(text, sizeof text, "by session_id; without one, a visitor's events at most %d s apart",
		 ctx->o.session_timeout_s);
	rp_param(s, "session", text);
	snprintf(text, sizeof text, "%s: %s", def, bounce_text[r.bounce_def]);
	rp_param(s, "bounce", text);

	double na = NAN;
	int in = r.has_input;
	rp_value(s, "sessions", "sessions", RP_COUNT, in ? (double)r.sessions : na);
	rp_value(s, "sessions_by_timeout", "of which formed by the timeout (no session_id)", RP_COUNT,
		 in ? (double)r.sessions_by_gap : na);
	rp_value(s, "page_views", "page views", RP_COUNT, in ? (double)r.page_views : na);
	rp_value(s, "views_per_session", "page views per session", RP_NUMBER, r.views_per_session);
	rp_value(s, "events_per_session", "events per session", RP_NUMBER, r.events_per_session);
	rp_value(s, "duration_median", "session duration, median", RP_SECONDS, r.duration_median_s);
	rp_value(s, "duration_mean", "session duration, mean", RP_SECONDS, r.duration_mean_s);
	snprintf(text, sizeof text, "bounce rate (%s)", def);
	rp_value(s, "bounce_rate", text, RP_PERCENT, r.bounce_rate[r.bounce_def]);
	rp_value(s, "dwell_median", "dwell time per page view, median", RP_SECONDS, r.dwell_median_s);
	rp_value(s, "dwell_mean", "dwell time per page view, mean", RP_SECONDS, r.dwell_mean_s);
	rp_value(s, "conversion", "sessions with a view reaching purchase", RP_PERCENT,
		 r.conversion_pct);
	if (!in) {
		rp_note(s, "No web events: no data.");
		return CRM_OK;
	}
	rp_note(s, "page view = an event 'view' (or without an event); session duration = last "
		   "event - first event (0 s for a session of one event).");
	snprintf(text, sizeof text, "bounce rate (%s) = bounced sessions / sessions x 100; "
		 "bounced: %s.", def, bounce_text[r.bounce_def]);
	rp_note(s, text);
	rp_note(s, "dwell time = time from a page view to the next event of its session; the "
		   "session's last event has none (as Matomo).");
	rp_note(s, "exit rate = sessions whose last event is on the page / sessions with an event "
		   "on it x 100 (Matomo); entry page = page of the session's first event.");
	rp_note(s, "funnel: sessions with a view; of those, with an add_to_cart not before the "
		   "first view; of those, with a purchase not before that add_to_cart.");
	emit_tables(s, &r, pg, def);
	return CRM_OK;
}
