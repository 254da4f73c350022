/* The configuration steps of a restore (see store/cfgrestore.h). */
#include "store/cfgrestore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/cfgstore.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct cfgrestore {
	struct store_cfg_step *steps;
	size_t n, cap;
	char **owned; /* texts the plan made (cfg_rev) */
	size_t nowned;
};

static struct store_cfg_step *
step(struct cfgrestore *r, enum store_cfg_stmt stmt)
{
	r->steps = xgrowarray(r->steps, &r->cap, r->n, sizeof *r->steps);
	memset(&r->steps[r->n], 0, sizeof r->steps[r->n]);
	r->steps[r->n].stmt = stmt;
	return &r->steps[r->n++];
}

struct cfgrestore *
cfgrestore_new(int replace)
{
	struct cfgrestore *r = xcalloc(1, sizeof *r);

	if (replace) {
		step(r, SCS_GROUP_CLEAR);
		step(r, SCS_DESIRED_CLEAR);
	}
	return r;
}

void
cfgrestore_free(struct cfgrestore *r)
{
	if (r == NULL)
		return;
	str_array_free(r->owned, r->nowned);
	free(r->steps);
	free(r);
}

void
cfgrestore_group(
    struct cfgrestore *r, const char *name, const char *tmpl, const char *const *macs, size_t n)
{
	struct store_cfg_step *t;

	step(r, SCS_GROUP_ADD)->text[0] = name;
	t = step(r, SCS_GROUP_TEMPLATE);
	t->text[0] = name;
	t->text[1] = tmpl != NULL ? tmpl : "";
	for (size_t i = 0; i < n; i++) {
		struct store_cfg_step *m = step(r, SCS_MEMBER_ADD);

		m->text[0] = name;
		m->text[1] = macs[i];
	}
}

void
cfgrestore_desired(struct cfgrestore *r, const char *mac, const char *body)
{
	struct store_cfg_step *s = step(r, SCS_DESIRED_PUT);

	s->text[0] = mac;
	s->text[1] = body;
}

/* A snapshot step of statement stmt, then the prune to what the store keeps. */
static void
snapshot_step(struct cfgrestore *r, enum store_cfg_stmt stmt, const char *mac, int64_t ts_ms,
    int gen, int has_rev, double rev, const char *reason, const char *body)
{
	struct store_cfg_step *s = step(r, stmt), *p;

	s->text[0] = mac;
	s->text[1] = reason;
	s->text[2] = body;
	if (has_rev) {
		r->owned = xreallocarray(r->owned, r->nowned + 1, sizeof *r->owned);
		r->owned[r->nowned] = xasprintf("%.17g", rev);
		s->text[3] = r->owned[r->nowned++];
	}
	s->num[0] = ts_ms;
	s->num[1] = gen;
	p = step(r, SCS_SNAP_PRUNE);
	p->text[0] = mac;
	p->num[0] = CFGSTORE_SNAPSHOTS_KEPT;
}

void
cfgrestore_snapshot(struct cfgrestore *r, const char *mac, int64_t ts_ms, int gen, int has_rev,
    double rev, const char *reason, const char *body)
{
	snapshot_step(r, SCS_SNAP_RESTORE, mac, ts_ms, gen, has_rev, rev, reason, body);
}

void
cfgrestore_history(struct cfgrestore *r, const char *mac, int64_t ts_ms, int gen, int has_rev,
    double rev, const char *reason, const char *body)
{
	snapshot_step(r, SCS_SNAP_HISTORY, mac, ts_ms, gen, has_rev, rev, reason, body);
}

const struct store_cfg_step *
cfgrestore_steps(const struct cfgrestore *r, size_t *n)
{
	*n = r->n;
	return r->steps;
}
