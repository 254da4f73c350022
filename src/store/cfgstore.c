/* Configuration management in the store (see store/cfgstore.h), over the backend's cfg_batch. */
#include "store/cfgstore.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* Rows of a batch, copied so that callbacks run after the transaction. */
struct rows {
	size_t n, cap;
	char *(*v)[8];
	int ncols;
};

static int
collect_cb(int ncols, const char *const *cols, void *arg)
{
	struct rows *r = arg;

	r->v = xgrowarray(r->v, &r->cap, r->n, sizeof *r->v);
	for (int i = 0; i < 8; i++)
		r->v[r->n][i] = i < ncols && cols[i] != NULL ? xstrdup(cols[i]) : NULL;
	r->n++;
	return 0;
}

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (int j = 0; j < 8; j++)
			free(r->v[i][j]);
	free(r->v);
}

static int
batch(
    struct store *s, const struct store_cfg_step *steps, size_t n, struct rows *rows, char **cause)
{
	const struct store_ops *ops = store_backend_ops(s);

	if (ops->cfg_batch == NULL) {
		*cause = xasprintf("the %s store has no configuration management", ops->name);
		return -1;
	}
	return ops->cfg_batch(
	    store_backend_handle(s), steps, n, rows ? collect_cb : NULL, rows, cause);
}

static int64_t
num(const char *s)
{
	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

/*
 * How the text columns of each reading statement fill a cfgstore_row: one field a column, in
 * the order the statement selects them.
 */
enum fill_kind { FILL_END, FILL_TEXT, FILL_I64, FILL_INT, FILL_REV };

struct fill {
	enum fill_kind kind;
	size_t off;
};

#define F(kind, field) { FILL_##kind, offsetof(struct cfgstore_row, field) }

static const struct fill fills[SCS__COUNT][8] = {
	[SCS_SNAP_LIST] = { F(I64, id), F(I64, ts_ms), F(INT, gen), F(REV, rev), F(TEXT, reason),
	    F(TEXT, body) },
	[SCS_GROUP_LIST] = { F(TEXT, name), F(TEXT, tmpl), F(INT, members) },
	[SCS_MEMBER_LIST] = { F(TEXT, mac), F(TEXT, tmpl) },
	[SCS_DEVICE_GROUPS] = { F(TEXT, name), F(TEXT, tmpl) },
	[SCS_PENDING_LIST] = { F(I64, id), F(TEXT, mac), F(I64, ts_ms), F(TEXT, body),
	    F(INT, flags), F(TEXT, state), F(TEXT, result) },
};

#undef F

static void
fill_row(const struct fill *f, char *const *c, struct cfgstore_row *r)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 8 && f[i].kind != FILL_END; i++) {
		void *p = (char *)r + f[i].off;

		switch (f[i].kind) {
		case FILL_TEXT:
			*(const char **)p = c[i];
			break;
		case FILL_I64:
			*(int64_t *)p = num(c[i]);
			break;
		case FILL_INT:
			*(int *)p = (int)num(c[i]);
			break;
		case FILL_REV:
			r->has_rev = c[i] != NULL;
			r->rev = c[i] != NULL ? strtod(c[i], NULL) : 0;
			break;
		case FILL_END:
			break;
		}
	}
}

/* Runs one reading step and hands each row, filled by its statement's table, to cb. */
static int
read_rows(struct store *s, const struct store_cfg_step *step, cfgstore_cb cb, void *arg,
    char **cause)
{
	struct rows rows = {0};

	if (batch(s, step, 1, &rows, cause) != 0) {
		rows_free(&rows);
		return -1;
	}
	for (size_t i = 0; i < rows.n; i++) {
		struct cfgstore_row r;

		fill_row(fills[step->stmt], rows.v[i], &r);
		if (cb(&r, arg) != 0)
			break;
	}
	rows_free(&rows);
	return 0;
}

int
cfgstore_snapshot_add(struct store *s, const char *mac, int64_t ts_ms, int gen, int has_rev,
    double rev, const char *reason, const char *body, char **cause)
{
	char revtxt[32];
	struct store_cfg_step steps[2];

	memset(steps, 0, sizeof steps);
	snprintf(revtxt, sizeof revtxt, "%.17g", rev);
	steps[0].stmt = SCS_SNAP_ADD;
	steps[0].text[0] = mac;
	steps[0].text[1] = reason;
	steps[0].text[2] = body;
	steps[0].text[3] = has_rev ? revtxt : NULL;
	steps[0].num[0] = ts_ms;
	steps[0].num[1] = gen;
	steps[1].stmt = SCS_SNAP_PRUNE;
	steps[1].text[0] = mac;
	steps[1].num[0] = CFGSTORE_SNAPSHOTS_KEPT;
	return batch(s, steps, 2, NULL, cause);
}

int
cfgstore_snapshots(
    struct store *s, const char *mac, size_t limit, cfgstore_cb cb, void *arg, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_SNAP_LIST, .text = {mac}, .num = {(int64_t)limit}};

	return read_rows(s, &st, cb, arg, cause);
}

/* One step per MAC (plus a first one), in one transaction. */
static int
member_batch(struct store *s, enum store_cfg_stmt first, enum store_cfg_stmt each,
    const char *group, const char *const *macs, size_t n, char **cause)
{
	struct store_cfg_step *steps = xcalloc(n + 1, sizeof *steps);
	size_t k = 0;
	int rc;

	if (first != SCS__COUNT) {
		steps[k].stmt = first;
		steps[k++].text[0] = group;
	}
	for (size_t i = 0; i < n; i++) {
		steps[k].stmt = each;
		steps[k].text[0] = group;
		steps[k++].text[1] = macs[i];
	}
	rc = batch(s, steps, k, NULL, cause);
	free(steps);
	return rc;
}

int
cfgstore_group_add(
    struct store *s, const char *group, const char *const *macs, size_t n, char **cause)
{
	return member_batch(s, SCS_GROUP_ADD, SCS_MEMBER_ADD, group, macs, n, cause);
}

int
cfgstore_group_remove(
    struct store *s, const char *group, const char *const *macs, size_t n, char **cause)
{
	if (n == 0)
		return member_batch(s, SCS_GROUP_DEL, SCS_MEMBER_DEL, group, NULL, 0, cause);
	return member_batch(s, SCS__COUNT, SCS_MEMBER_DEL, group, macs, n, cause);
}

int
cfgstore_group_template(struct store *s, const char *group, const char *tmpl, char **cause)
{
	struct store_cfg_step steps[2] = {
	    {.stmt = SCS_GROUP_ADD, .text = {group}},
	    {.stmt = SCS_GROUP_TEMPLATE, .text = {group, tmpl != NULL ? tmpl : ""}},
	};

	return batch(s, steps, 2, NULL, cause);
}

int
cfgstore_groups(struct store *s, cfgstore_cb cb, void *arg, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_GROUP_LIST};

	return read_rows(s, &st, cb, arg, cause);
}

int
cfgstore_group_members(struct store *s, const char *group, cfgstore_cb cb, void *arg, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_MEMBER_LIST, .text = {group}};

	return read_rows(s, &st, cb, arg, cause);
}

int
cfgstore_device_groups(struct store *s, const char *mac, cfgstore_cb cb, void *arg, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_DEVICE_GROUPS, .text = {mac}};

	return read_rows(s, &st, cb, arg, cause);
}

int
cfgstore_desired_set(struct store *s, const char *mac, const char *body, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_DESIRED_PUT, .text = {mac, body}};

	return batch(s, &st, 1, NULL, cause);
}

char *
cfgstore_desired_get(struct store *s, const char *mac)
{
	struct store_cfg_step st = {.stmt = SCS_DESIRED_GET, .text = {mac}};
	struct rows rows = {0};
	char *cause = NULL, *body = NULL;

	if (batch(s, &st, 1, &rows, &cause) != 0) {
		log_error("store: %s", cause);
		free(cause);
	} else if (rows.n > 0 && rows.v[0][0] != NULL)
		body = xstrdup(rows.v[0][0]);
	rows_free(&rows);
	return body;
}

int
cfgstore_pending_add(
    struct store *s, const char *mac, int64_t ts_ms, const char *body, int flags, char **cause)
{
	struct store_cfg_step steps[2] = {
	    {.stmt = SCS_PENDING_SUPERSEDE, .text = {mac}},
	    {.stmt = SCS_PENDING_ADD, .text = {mac, body}, .num = {ts_ms, flags}},
	};

	return batch(s, steps, 2, NULL, cause);
}

int
cfgstore_pending(
    struct store *s, const char *mac, const char *state, cfgstore_cb cb, void *arg, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_PENDING_LIST, .text = {mac, state}};

	return read_rows(s, &st, cb, arg, cause);
}

int
cfgstore_pending_set(
    struct store *s, int64_t id, const char *state, const char *result, char **cause)
{
	struct store_cfg_step st = {.stmt = SCS_PENDING_SET, .text = {state, result}, .num = {id}};

	return batch(s, &st, 1, NULL, cause);
}
