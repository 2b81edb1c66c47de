/* dedupe_db.c - the duplicate finder's edges (clean layer, issue 3):
 * reading the customers of a database for cln_dedupe_run, writing the
 * review file, and turning clusters into merge groups for st_merge_apply. */
#include "clean/dedupe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csvout.h"
#include "core/err.h"

/* ------------------------------------------------------------- loading */

#define SLAB_BYTES ((size_t)1 << 20)
#define SCAN_CIDS 16384          /* cids per st_scan_range call */

/* Text in slabs that never move, so that records can point into them as
 * they are read. */
struct slabs {
	char **slab;
	size_t n, cap;
	size_t used;             /* bytes used of the last slab */
	size_t size;             /* bytes of the last slab */
};

static void slabs_free(struct slabs *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->n; k++)
		free(s->slab[k]);
	free(s->slab);
	free(s);
}

/* A copy of p[0..n) with a NUL, or NULL when out of memory. */
static const char *slabs_copy(struct slabs *s, const char *p, size_t n)
{
	if (!s->n || s->size - s->used < n + 1) {
		size_t size = n + 1 > SLAB_BYTES ? n + 1 : SLAB_BYTES;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			char **sl = xreallocn(s->slab, cap, sizeof *sl);
			if (!sl)
				return NULL;
			s->slab = sl;
			s->cap = cap;
		}
		char *b = malloc(size);
		if (!b)
			return NULL;
		s->slab[s->n++] = b;
		s->used = 0;
		s->size = size;
	}
	char *d = s->slab[s->n - 1] + s->used;
	memcpy(d, p, n);
	d[n] = '\0';
	s->used += n + 1;
	return d;
}

/* The customers fields behind each text field of a record. */
static const int text_src[CLN_T_N] = {
	[CLN_T_ID] = CRM_C_CUSTOMER_ID, [CLN_T_NAME] = CRM_C_NAME,
	[CLN_T_GIVEN] = CRM_C_GIVEN_NAME, [CLN_T_FAMILY] = CRM_C_FAMILY_NAME,
	[CLN_T_EMAIL] = CRM_C_EMAIL, [CLN_T_PHONE] = CRM_C_PHONE,
	[CLN_T_ADDRESS] = CRM_C_ADDRESS, [CLN_T_POSTCODE] = CRM_C_POSTCODE,
	[CLN_T_CITY] = CRM_C_CITY, [CLN_T_COUNTRY] = CRM_C_COUNTRY,
	[CLN_T_GENDER] = CRM_C_GENDER,
};

struct load_ctx {
	struct cln_customers *c;
	size_t cap;
	size_t stubs_here;       /* stubs seen in the current range */
};

static int on_customer(void *arg, const struct ent_record *rec, int is_stub)
{
	struct load_ctx *x = arg;
	struct cln_customers *c = x->c;
	if (is_stub) {
		c->n_stubs++;
		x->stubs_here++;
		return CRM_OK;
	}
	if (c->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 4096;
		struct cln_customer *r = xreallocn(c->recs, cap, sizeof *r);
		if (!r)
			return CRM_ENOMEM;
		c->recs = r;
		x->cap = cap;
	}
	struct cln_customer *r = &c->recs[c->n];
	const struct ent_value *bd = &rec->v[CRM_C_BIRTH_DATE];
	r->birth_date = bd->set ? bd->i : CRM_NA;
	for (int f = 0; f < CLN_T_N; f++) {
		const struct ent_value *v = &rec->v[text_src[f]];
		r->text[f] = NULL;
		if (v->set && v->s && v->n && !(r->text[f] = slabs_copy(c->text, v->s, v->n)))
			return CRM_ENOMEM;
	}
	c->n++;
	return CRM_OK;
}

static int on_probe(void *arg, const struct ent_record *rec, int is_stub)
{
	(void)arg;
	(void)rec;
	return is_stub ? CRM_EOF : CRM_OK;   /* found: stop the scan */
}

/* *at = the smallest cid of a stub in [a, b], which holds one: bisection,
 * each probe a scan that stops at the first stub. */
static int first_stub(struct st_db *db, int64_t a, int64_t b, int64_t *at,
		      struct crm_err *err)
{
	while (a < b) {
		int64_t mid = a + (b - a) / 2;
		int rc = st_scan_range(db, CRM_CUSTOMERS, a, mid, on_probe, NULL, err);
		if (rc == CRM_EOF)
			b = mid;
		else if (rc)
			return rc;
		else
			a = mid + 1;
	}
	*at = a;
	return CRM_OK;
}

/* Scans customers with cid in [lo, hi] in steps of SCAN_CIDS; the first
 * stub lowers next_watermark to below it. */
static int scan_part(struct st_db *db, int64_t lo, int64_t hi, struct load_ctx *x,
		     struct crm_err *err)
{
	for (int64_t a = lo; a <= hi;) {
		int64_t b = hi - a < SCAN_CIDS ? hi : a + SCAN_CIDS - 1;
		x->stubs_here = 0;
		int rc = st_scan_range(db, CRM_CUSTOMERS, a, b, on_customer, x, err);
		if (rc == CRM_ENOMEM)
			return crm_err_set(err, rc, "dedupe: reading customers: out of memory");
		if (rc)
			return rc;
		if (x->stubs_here && x->c->next_watermark >= a) {
			int64_t stub;
			rc = first_stub(db, a, b, &stub, err);
			if (rc)
				return rc;
			if (stub - 1 < x->c->next_watermark)
				x->c->next_watermark = stub - 1;
		}
		if (b == hi)
			break;
		a = b + 1;
	}
	return CRM_OK;
}

int cln_dedupe_load(struct st_db *db, int64_t watermark, struct cln_customers **out,
		    struct crm_err *err)
{
	struct load_ctx x = { NULL, 0, 0 };
	int64_t lo, hi;
	int rc;
	*out = NULL;
	struct cln_customers *c = calloc(1, sizeof *c);
	if (!c || !(c->text = calloc(1, sizeof(struct slabs)))) {
		free(c);
		return crm_err_set(err, CRM_ENOMEM, "dedupe: reading customers: out of memory");
	}
	x.c = c;
	rc = st_key_bounds(db, CRM_CUSTOMERS, &lo, &hi, err);
	if (rc)
		goto done;
	if (lo > hi) {           /* no customers */
		lo = 1;
		hi = 0;
	}
	c->max_cid = hi > 0 ? hi : 0;
	c->next_watermark = c->max_cid;
	if (watermark < 0)
		watermark = 0;
	/* the old ones first, then the new */
	rc = scan_part(db, lo, watermark < hi ? watermark : hi, &x, err);
	if (rc)
		goto done;
	c->n_old = c->n;
	rc = scan_part(db, watermark + 1 > lo ? watermark + 1 : lo, hi, &x, err);
	if (rc)
		goto done;
	*out = c;
	c = NULL;
done:
	cln_customers_free(c);
	return rc;
}

void cln_customers_free(struct cln_customers *c)
{
	if (!c)
		return;
	free(c->recs);
	slabs_free(c->text);
	free(c);
}

/* ----------------------------------------------------------- reviewing */

int cln_review_write(const char *path, const struct cln_customer *recs,
		     const struct cln_dedupe_result *r, struct crm_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return crm_err_set(err, CRM_EIO, "%s: cannot write the review file: %s", path,
				   strerror(errno));
	fputs("customer_id_a,customer_id_b,probability,match_weight", f);
	for (int k = 0; k < CLN_F_N; k++)
		fprintf(f, ",%s_level,%s_weight", cln_field_name(k), cln_field_name(k));
	fputc('\n', f);
	for (size_t i = 0; i < r->n_review; i++) {
		const struct cln_pair *p = &r->pairs[i];
		csv_put_field(f, recs[p->a].text[CLN_T_ID]);
		fputc(',', f);
		csv_put_field(f, recs[p->b].text[CLN_T_ID]);
		fprintf(f, ",%.6f,%.3f", p->prob, p->weight);
		for (int k = 0; k < CLN_F_N; k++)
			fprintf(f, ",%s,%.3f", cln_level_name(k, p->level[k]), (double)p->field_weight[k]);
		fputc('\n', f);
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return crm_err_set(err, CRM_EIO, "%s: writing the review file: %s", path,
				   strerror(errno ? errno : EIO));
	return CRM_OK;
}

/* ------------------------------------------------------------- merging */

#define EVIDENCE_PAIRS 3         /* pairs told in a merge's evidence */

void cln_merge_groups_free(struct st_merge_group *g, size_t n)
{
	if (!g)
		return;
	for (size_t k = 0; k < n; k++) {
		free((void *)g[k].ids);
		free((void *)g[k].evidence);
	}
	free(g);
}

static int say_pair(struct buf *b, const struct cln_customer *recs, const struct cln_pair *p)
{
	if (buf_printf(b, "%s~%s p=%.4f w=%.1f (", recs[p->a].text[CLN_T_ID],
		       recs[p->b].text[CLN_T_ID], p->prob, p->weight))
		return -1;
	for (int k = 0; k < CLN_F_N; k++) {
		if (buf_printf(b, "%s%s %s", k ? ", " : "", cln_field_name(k),
			       cln_level_name(k, p->level[k])))
			return -1;
		if (p->level[k] != CLN_L_MISSING && buf_printf(b, " %+.1f", (double)p->field_weight[k]))
			return -1;
	}
	return buf_putc(b, ')');
}

int cln_merge_groups(const struct cln_customer *recs, const struct cln_dedupe_result *r,
		     struct st_merge_group **groups, struct crm_err *err)
{
	struct st_merge_group *g = NULL;
	uint32_t *cl_of = NULL;
	size_t *told = NULL;
	struct buf *ev = NULL;
	int rc = CRM_ENOMEM;
	*groups = NULL;
	g = calloc(r->n_clusters + 1, sizeof *g);
	cl_of = xmallocn(r->n_records + 1, sizeof *cl_of);
	told = calloc(r->n_clusters + 1, sizeof *told);
	ev = calloc(r->n_clusters + 1, sizeof *ev);
	if (!g || !cl_of || !told || !ev)
		goto done;
	for (size_t i = 0; i < r->n_records; i++)
		cl_of[i] = UINT32_MAX;
	for (size_t c = 0; c < r->n_clusters; c++) {
		size_t n = r->cluster_start[c + 1] - r->cluster_start[c];
		const char **ids = xmallocn(n, sizeof *ids);
		if (!ids)
			goto done;
		for (size_t k = 0; k < n; k++) {
			uint32_t m = r->cluster_member[r->cluster_start[c] + k];
			ids[k] = recs[m].text[CLN_T_ID];
			cl_of[m] = (uint32_t)c;
		}
		g[c].ids = ids;
		g[c].n = n;
		g[c].prob = r->cluster_prob[c];
		if (buf_printf(&ev[c], "dedupe: %zu customers, match probability >= %.4f: ", n,
			       r->cluster_prob[c]))
			goto done;
	}
	for (size_t k = 0; k < r->n_review; k++) {
		const struct cln_pair *p = &r->pairs[k];
		if (p->prob < r->threshold || cl_of[p->a] == UINT32_MAX)
			continue;
		uint32_t c = cl_of[p->a];
		if (told[c] == EVIDENCE_PAIRS) {
			if (buf_puts(&ev[c], "; ..."))
				goto done;
		} else if (told[c] < EVIDENCE_PAIRS) {
			if ((told[c] && buf_puts(&ev[c], "; ")) || say_pair(&ev[c], recs, p))
				goto done;
		}
		told[c]++;
	}
	for (size_t c = 0; c < r->n_clusters; c++) {
		g[c].evidence = ev[c].p;   /* the group owns it now */
		buf_init(&ev[c]);
	}
	*groups = g;
	g = NULL;
	rc = CRM_OK;
done:
	if (g)
		cln_merge_groups_free(g, r->n_clusters);
	if (ev)
		for (size_t c = 0; c < r->n_clusters; c++)
			buf_fini(&ev[c]);
	free(ev);
	free(cl_of);
	free(told);
	if (rc)
		return crm_err_set(err, rc, "dedupe: merge groups: out of memory");
	return CRM_OK;
}
