/*
 * Provisioning records of a store (see store/taskstore.h), backend-independent: each call goes
 * to the backend's task ops (store/backend.h). Lists collect their rows, each a copy in one
 * allocation, before they call back, so callbacks may use the store.
 */
#include "store/taskstore.h"

#include "store/backend.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * Copies the record rec of size bytes and the strings its members at offs[0..n-1] point to
 * into one allocation (one free releases all).
 */
static void *
pack(const void *rec, size_t size, const size_t *offs, size_t n)
{
	size_t len = size;
	char *out, *p;

	for (size_t i = 0; i < n; i++) {
		const char *v = *(const char *const *)((const char *)rec + offs[i]);

		if (v != NULL)
			len += strlen(v) + 1;
	}
	out = xmalloc(len);
	memcpy(out, rec, size);
	p = out + size;
	for (size_t i = 0; i < n; i++) {
		const char **dst = (const char **)(out + offs[i]);

		if (*dst == NULL)
			continue;
		strcpy(p, *dst);
		*dst = p;
		p += strlen(p) + 1;
	}
	return out;
}

#define OFF(type, m) offsetof(struct type, m)
static const size_t task_strs[] = {OFF(store_task, kind), OFF(store_task, target),
    OFF(store_task, network), OFF(store_task, key_ref), OFF(store_task, name),
    OFF(store_task, template_name), OFF(store_task, pass_ref), OFF(store_task, state),
    OFF(store_task, agent), OFF(store_task, stage), OFF(store_task, mac), OFF(store_task, result),
    OFF(store_task, reason)};
static const size_t agent_strs[] = {OFF(store_agent, id), OFF(store_agent, name)};
static const size_t ap_strs[] = {OFF(store_ap, ssid), OFF(store_ap, agent)};
#undef OFF
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Rows collected from a backend list: packed copies. */
struct rows {
	void **v;
	size_t n, cap;
};

static void
rows_add(struct rows *r, void *row)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xreallocarray(r->v, r->cap, sizeof *r->v);
	}
	r->v[r->n++] = row;
}

static int
collect_task_cb(const struct store_task *t, void *arg)
{
	rows_add(arg, pack(t, sizeof *t, task_strs, NELEM(task_strs)));
	return 0;
}

static int
collect_agent_cb(const struct store_agent *a, void *arg)
{
	rows_add(arg, pack(a, sizeof *a, agent_strs, NELEM(agent_strs)));
	return 0;
}

static int
collect_ap_cb(const struct store_ap *ap, void *arg)
{
	rows_add(arg, pack(ap, sizeof *ap, ap_strs, NELEM(ap_strs)));
	return 0;
}

/* Calls cb(row, arg) (unless cb is NULL) for each collected row until one returns non-zero;
 * frees them all. */
static void
rows_deliver(struct rows *r, int (*cb)(const void *row, void *arg), void *arg)
{
	int stop = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (!stop && cb != NULL && cb(r->v[i], arg) != 0)
			stop = 1;
		free(r->v[i]);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* The callers' typed callbacks, called through rows_deliver. */
struct deliver {
	store_task_cb task;
	store_agent_cb agent;
	store_ap_cb ap;
	void *arg;
};

static int
deliver_cb(const void *row, void *arg)
{
	const struct deliver *d = arg;

	if (d->task != NULL)
		return d->task(row, d->arg);
	if (d->agent != NULL)
		return d->agent(row, d->arg);
	return d->ap(row, d->arg);
}

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

static int
task_query(
    struct store *s, const struct store_task_query *q, store_task_cb cb, void *arg, char **cause)
{
	struct rows r = {0};
	struct deliver d = {cb, NULL, NULL, arg};
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);
	int rc;

	if (o == NULL)
		return -1;
	rc = o->list(b, q, collect_task_cb, &r, cause);
	rows_deliver(&r, rc == 0 ? deliver_cb : NULL, &d);
	return rc;
}

static int
keep_first_cb(const struct store_task *t, void *arg)
{
	struct store_task **out = arg;

	if (*out == NULL)
		*out = pack(t, sizeof *t, task_strs, NELEM(task_strs));
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
    int64_t now_ms, int64_t lease_ms, struct store_task **out, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);
	int64_t id = 0;
	int rc;

	*out = NULL;
	if (o == NULL)
		return -1;
	rc = o->take(b, from, to, agent, now_ms, lease_ms, &id, cause);
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
store_task_renew(struct store *s, const char *agent, int64_t lease_ms, int64_t now_ms, char **cause)
{
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);

	return o != NULL ? o->renew(b, agent, lease_ms, now_ms, cause) : -1;
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
store_agent_list(struct store *s, store_agent_cb cb, void *arg, char **cause)
{
	struct rows r = {0};
	struct deliver d = {NULL, cb, NULL, arg};
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);
	int rc;

	if (o == NULL)
		return -1;
	rc = o->agent_list(b, collect_agent_cb, &r, cause);
	rows_deliver(&r, rc == 0 ? deliver_cb : NULL, &d);
	return rc;
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
	struct rows r = {0};
	struct deliver d = {NULL, NULL, cb, arg};
	void *b;
	const struct store_task_ops *o = ops_of(s, &b, cause);
	int rc;

	if (o == NULL)
		return -1;
	rc = o->ap_list(b, since_ms, collect_ap_cb, &r, cause);
	rows_deliver(&r, rc == 0 ? deliver_cb : NULL, &d);
	return rc;
}
