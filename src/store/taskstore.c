/*
 * Provisioning records of a store (see store/taskstore.h), backend-independent: each call goes
 * to the backend's task ops (store/backend.h). Lists collect their rows as the store's other
 * lists do (struct store_rows, by the layouts below), so callbacks may use the store.
 */
#include "store/taskstore.h"

#include "store/backend.h"
#include "store_rows.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <stddef.h>
#include <stdlib.h>

/* The backend's task ops and handle, or NULL with *cause when it keeps no such records. */
static const struct store_task_ops *
ops_of(struct store *s, void **b, char **cause)
{
	const struct store_ops *ops = store_backend_ops(s);

	if (ops->tasks == NULL) {
		*cause = xasprintf("the %s store keeps no provisioning records", ops->name);
		return NULL;
	}
	*b = store_backend_handle(s);
	return ops->tasks;
}

/* clang-format off */
#define F(col, type, field) {STORE_COL_##col, offsetof(struct type, field)}
/* clang-format on */
/* A task's fields and their number, from the one column list (store/backend.h). */
#define TASK_FIELD(col, field, name) F(col, store_task, field)
#define TASK_ONE(col, field, name) +1
#define COMMA ,
const struct store_layout store_layout_task = {STORE_REC_TASK, sizeof(struct store_task),
    0 STORE_TASK_COLUMNS(TASK_ONE, ), {STORE_TASK_COLUMNS(TASK_FIELD, COMMA)}};
#undef COMMA
#undef TASK_ONE
#undef TASK_FIELD
const struct store_layout store_layout_agent = {STORE_REC_AGENT, sizeof(struct store_agent), 4,
    {F(TEXT, store_agent, id), F(TEXT, store_agent, name), F(I64, store_agent, created_ms),
        F(I64, store_agent, last_seen_ms)}};
const struct store_layout store_layout_ap = {STORE_REC_AP, sizeof(struct store_ap), 4,
    {F(TEXT, store_ap, ssid), F(TEXT, store_ap, agent), F(INT, store_ap, rssi),
        F(I64, store_ap, seen_ms)}};
#undef F

void
store_task_free(struct store_task *t)
{
	free(t);
}

int
store_task_add(
    struct store *s, const struct store_task *t, int64_t now_ms, int64_t *id, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->add(b, t, now_ms, id, cause) : -1;
}

/* The tasks in the store, copied (store_task_add_all reads them once). */
struct task_copies {
	struct store_task **t;
	size_t n;
};

static int
copy_row_cb(const void *row, void *arg)
{
	struct task_copies *c = arg;

	c->t = xreallocarray(c->t, c->n + 1, sizeof *c->t);
	c->t[c->n++] = store_record_dup(row, &store_layout_task);
	return 0;
}

/* The id of the first of have (then of ts[0..i-1]) that clash says stands in ts[i]'s way. */
static int64_t
clash_with(const struct task_copies *have, const struct store_task *ts, size_t i,
    const int64_t *ids, store_task_clash_cb clash, void *arg)
{
	for (size_t k = 0; k < have->n; k++)
		if (clash(have->t[k], &ts[i], arg))
			return have->t[k]->id;
	for (size_t k = 0; k < i; k++) {
		struct store_task added = ts[k];

		added.id = ids[k];
		if (clash(&added, &ts[i], arg))
			return ids[k];
	}
	return 0;
}

int
store_task_add_all(struct store *s, const struct store_task *ts, size_t n, int64_t now_ms,
    store_task_clash_cb clash, void *arg, int64_t *ids, size_t *bad, int64_t *other, char **cause)
{
	const struct store_ops *so = store_backend_ops(s);
	const struct store_task_query all = {0, NULL, 0};
	struct task_copies have = {NULL, 0};
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);
	int rc = -1;

	if (o == NULL || so->begin(b, cause) != 0)
		return -1;
	/* read once, inside the write transaction: nobody adds a task until it ends */
	if (clash != NULL && o->list(b, &all, copy_row_cb, &have, cause) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int64_t id = clash != NULL ? clash_with(&have, ts, i, ids, clash, arg) : 0;

		if (id != 0) {
			*bad = i;
			*other = id;
			rc = 1;
			goto out;
		}
		if (o->add(b, &ts[i], now_ms, &ids[i], cause) != 0)
			goto out;
	}
	rc = so->commit(b, cause) == 0 ? 0 : -1;
out:
	if (rc != 0)
		so->rollback(b);
	for (size_t k = 0; k < have.n; k++)
		free(have.t[k]);
	free(have.t);
	return rc;
}

static int
task_query(
    struct store *s, const struct store_task_query *q, store_task_cb cb, void *arg, char **cause)
{
	struct store_rows rows = {.type = &store_layout_task, .cb.task = cb, .arg = arg};
	char *why = NULL;
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	if (o == NULL)
		return -1;
	return store_rows_deliver(
	    &rows, o->list(b, q, store_rows_collect_cb, &rows, &why), &why, cause);
}

static int
keep_first_cb(const struct store_task *t, void *arg)
{
	struct store_task **out = arg;

	if (*out == NULL)
		*out = store_record_dup(t, &store_layout_task);
	return 1;
}

struct store_task *
store_task_get(struct store *s, int64_t id)
{
	struct store_task_query q = {id, NULL, 0};
	struct store_task *t = NULL;
	char *cause = NULL;

	if (task_query(s, &q, keep_first_cb, &t, &cause) != 0) {
		log_error("task %lld: %s", (long long)id, cause);
		free(cause);
	}
	return t;
}

int
store_task_list(struct store *s, store_task_cb cb, void *arg, char **cause)
{
	struct store_task_query q = {0, NULL, 0};

	return task_query(s, &q, cb, arg, cause);
}

int
store_task_expired(
    struct store *s, const char *state, int64_t now_ms, store_task_cb cb, void *arg, char **cause)
{
	struct store_task_query q = {0, state, now_ms};

	return task_query(s, &q, cb, arg, cause);
}

int
store_task_take(struct store *s, const char *from, const char *to, const char *agent,
    int64_t now_ms, int64_t lease_ms, int64_t seen_ms, struct store_task **out, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);
	int64_t id = 0;
	int rc;

	*out = NULL;
	if (o == NULL)
		return -1;
	rc = o->take(b, from, to, agent, now_ms, lease_ms, seen_ms, &id, cause);
	if (rc != 1)
		return rc;
	*out = store_task_get(s, id);
	return *out != NULL ? 1 : 0;
}

int
store_task_update(struct store *s, int64_t id, const char *agent, const char *from, const char *to,
    const struct store_task_set *set, int64_t now_ms, char **cause)
{
	static const struct store_task_set none = {.lease_ms = -1};
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	if (o == NULL)
		return -1;
	return o->update(b, id, agent, from, to, set != NULL ? set : &none, now_ms, cause);
}

int
store_task_renew(struct store *s, const char *agent, int64_t task, int64_t lease_ms,
    int64_t now_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->renew(b, agent, task, lease_ms, now_ms, cause) : -1;
}

int
store_agent_add(struct store *s, const char *id, const char *name, const char *token_hash,
    int64_t now_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->agent_add(b, id, name, token_hash, now_ms, cause) : -1;
}

char *
store_agent_by_token(struct store *s, const char *token_hash)
{
	char *cause = NULL, *id = NULL;
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, &cause);

	if (o != NULL && o->agent_by_token(b, token_hash, &id, &cause) >= 0)
		return id;
	log_error("agent lookup: %s", cause);
	free(cause);
	return NULL;
}

int
store_agent_seen(struct store *s, const char *id, int64_t now_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->agent_seen(b, id, now_ms, cause) : -1;
}

int
store_agent_remove(struct store *s, const char *id, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->agent_remove(b, id, cause) : -1;
}

int
store_agent_list(struct store *s, store_agent_cb cb, void *arg, char **cause)
{
	struct store_rows rows = {.type = &store_layout_agent, .cb.agent = cb, .arg = arg};
	char *why = NULL;
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	if (o == NULL)
		return -1;
	return store_rows_deliver(
	    &rows, o->agent_list(b, store_rows_collect_cb, &rows, &why), &why, cause);
}

int
store_enrol_add(struct store *s, const char *hash, int64_t now_ms, int64_t expires_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->enrol_add(b, hash, now_ms, expires_ms, cause) : -1;
}

int
store_enrol_use(struct store *s, const char *hash, const char *agent, int64_t now_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->enrol_use(b, hash, agent, now_ms, cause) : -1;
}

int
store_ap_seen(
    struct store *s, const char *ssid, const char *agent, int rssi, int64_t now_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->ap_seen(b, ssid, agent, rssi, now_ms, cause) : -1;
}

int
store_ap_list(struct store *s, int64_t since_ms, store_ap_cb cb, void *arg, char **cause)
{
	struct store_rows rows = {.type = &store_layout_ap, .cb.ap = cb, .arg = arg};
	char *why = NULL;
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	if (o == NULL)
		return -1;
	return store_rows_deliver(
	    &rows, o->ap_list(b, since_ms, store_rows_collect_cb, &rows, &why), &why, cause);
}
