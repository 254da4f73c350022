/*
 * The backend-independent part of the store: URL dispatch, argument checks, record copies,
 * the write queue flushed in one transaction, and list callbacks made re-entrant by
 * collecting rows before calling the user's callback.
 */
#include "store/store.h"
#include "util/str.h"

#include "store/backend.h"
#include "store_health.h"
#include "store_rows.h"
#include "store/sqlite.h"
#include "util/dirs.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE_LIMIT_DEFAULT 100000

struct seen {
	char mac[STORE_MAC_LEN + 1];
	int64_t ts_ms;
};

/* MAC -> position in a coalesced queue: open addressing, a slot holds position + 1 (0 free). */
struct macslot {
	char mac[STORE_MAC_LEN + 1];
	uint32_t pos1;
};
struct macidx {
	struct macslot *v;
	size_t cap, n; /* cap: 0 or a power of two above twice n */
};

struct store {
	const struct store_ops *ops;
	void *b;

	/* The write queue. Statuses and last-seen updates are coalesced per MAC. */
	struct store_status **status;
	size_t nstatus, capstatus;
	struct seen *seen;
	size_t nseen, capseen;
	struct macidx status_at, seen_at; /* where each MAC's status and last-seen update sit */
	struct store_sample *smp; /* ring: smp_len samples from smp_head */
	size_t smp_cap, smp_head, smp_len, smp_limit;
	struct store_event **ev;
	size_t nev, capev;
	uint64_t dropped;

	struct store_health_marks health; /* failed writes, by kind (store_health.h) */
	int busy_ms; /* store_set_busy_wait */
};

/* The copies of a list's rows (struct store_rows, store_rows.h). */
static void
rows_push(struct store_rows *rows, void *p)
{
	if (rows->n == rows->cap) {
		rows->cap = rows->cap ? rows->cap * 2 : 16;
		rows->v = xreallocarray(rows->v, rows->cap, sizeof *rows->v);
	}
	rows->v[rows->n++] = p;
}

static void
rows_free(struct store_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		free(rows->v[i]);
	free(rows->v);
	rows->v = NULL;
	rows->n = rows->cap = 0;
}

/* Hands a backend's cause to the caller (who may pass NULL). */
static void
give_cause(char **cause, char *why)
{
	if (cause != NULL)
		*cause = why;
	else
		free(why);
}

static int
fail(char **cause, char *why)
{
	give_cause(cause, why);
	return -1;
}

/* A write of a device, setting or audit line failed: the store's health says so (why: owned). */
static int
settings_failed(struct store *s, char **cause, char *why)
{
	store_health_note(&s->health, STORE_WRITE_SETTINGS, why);
	return fail(cause, why);
}

static int
mac_valid(const char *mac)
{
	size_t i;

	for (i = 0; mac[i] != '\0'; i++) {
		if (!((mac[i] >= '0' && mac[i] <= '9') || (mac[i] >= 'a' && mac[i] <= 'f')))
			return 0;
	}
	return i == STORE_MAC_LEN;
}


int
store_mac_parse(const char *in, char out[STORE_MAC_LEN + 1])
{
	return str_mac_normalise(in, out);
}

char *
store_default_path(char **cause)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	char *home, *dir, *path;

	/* The XDG spec says relative paths are invalid and must be ignored. */
	if (xdg != NULL && xdg[0] == '/') {
		dir = xasprintf("%s/shelly-tui", xdg);
	} else {
		if ((home = dirs_home()) == NULL) {
			give_cause(cause, xstrdup("cannot find a home directory for the database "
			    "(set HOME or XDG_DATA_HOME, or give --db)"));
			return NULL;
		}
		dir = xasprintf("%s/.local/share/shelly-tui", home);
		free(home);
	}
	if (dirs_make(dir, cause) != 0) {
		free(dir);
		return NULL;
	}
	path = xasprintf("%s/shelly.db", dir);
	free(dir);
	return path;
}

int
store_open(const char *url, struct store **out, char **cause)
{
	return store_open_flags(url, 0, out, cause);
}

int
store_open_flags(const char *url, int flags, struct store **out, char **cause)
{
	const struct store_ops *ops = store_sqlite_ops();
	const char *target = url;
	char *why = NULL;
	struct store *s;
	void *b;

	*out = NULL;
	if (url == NULL || *url == '\0')
		return fail(cause, xstrdup("no database path given"));
	if (strncmp(url, "sqlite:", 7) == 0) {
		target = url + 7;
		if (strncmp(target, "//", 2) == 0)
			target += 2;
	} else if (strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0) {
		/* The URL is not echoed: it may carry a password. */
		return fail(cause, xstrdup("cannot open a PostgreSQL database: shelly-tui was "
		    "not built with PostgreSQL"));
	} else {
		const char *colon = strstr(url, "://");

		if (colon != NULL && memchr(url, '/', (size_t)(colon - url)) == NULL)
			return fail(cause, xasprintf("unknown database URL scheme \"%.*s\" "
			    "(use sqlite:PATH or a path)", (int)(colon - url), url));
	}
	if (*target == '\0')
		return fail(cause, xstrdup("no database path given"));
	if (ops->open(target, flags, &b, &why) != 0)
		return fail(cause, why);
	s = xcalloc(1, sizeof *s);
	s->ops = ops;
	s->b = b;
	s->smp_limit = QUEUE_LIMIT_DEFAULT;
	s->health.settle_ms = STORE_HEALTH_SETTLE_MS;
	s->busy_ms = STORE_BUSY_WAIT_MS;
	*out = s;
	return 0;
}

static uint64_t
mac_hash(const char *mac)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */

	for (; *mac != '\0'; mac++)
		h = (h ^ (unsigned char)*mac) * 1099511628211u;
	return h;
}

/* The slot of mac: its entry, or the free slot where it goes (x->cap > 0). */
static struct macslot *
macidx_slot(const struct macidx *x, const char *mac)
{
	size_t i = (size_t)mac_hash(mac) & (x->cap - 1);

	while (x->v[i].pos1 != 0 && strcmp(x->v[i].mac, mac) != 0)
		i = (i + 1) & (x->cap - 1);
	return &x->v[i];
}

/* Position of mac in its queue, or -1. */
static long
macidx_get(const struct macidx *x, const char *mac)
{
	const struct macslot *e;

	if (x->n == 0)
		return -1;
	e = macidx_slot(x, mac);
	return e->pos1 != 0 ? (long)e->pos1 - 1 : -1;
}

static void
macidx_put(struct macidx *x, const char *mac, size_t pos)
{
	struct macslot *e;

	if (2 * (x->n + 1) > x->cap) {
		struct macidx old = *x;

		x->cap = old.cap ? old.cap * 2 : 64;
		x->v = xcalloc(x->cap, sizeof *x->v);
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i].pos1 != 0)
				*macidx_slot(x, old.v[i].mac) = old.v[i];
		free(old.v);
	}
	e = macidx_slot(x, mac);
	if (e->pos1 == 0)
		x->n++;
	memcpy(e->mac, mac, sizeof e->mac);
	e->pos1 = (uint32_t)pos + 1;
}

static void
macidx_clear(struct macidx *x)
{
	if (x->n > 0)
		memset(x->v, 0, x->cap * sizeof *x->v);
	x->n = 0;
}

static void
queue_clear(struct store *s)
{
	for (size_t i = 0; i < s->nstatus; i++)
		free(s->status[i]);
	for (size_t i = 0; i < s->nev; i++)
		free(s->ev[i]);
	s->nstatus = s->nseen = s->nev = 0;
	s->smp_head = s->smp_len = 0;
	macidx_clear(&s->status_at);
	macidx_clear(&s->seen_at);
}

void
store_free(struct store *s)
{
	char *why = NULL;

	if (s == NULL)
		return;
	if (store_queue_len(s) > 0 && store_flush(s, &why) != 0) {
		log_error("store: %s; %zu queued items lost at close", why, store_queue_len(s));
		free(why);
	}
	queue_clear(s);
	s->ops->close(s->b);
	free(s->status);
	free(s->seen);
	free(s->status_at.v);
	free(s->seen_at.v);
	free(s->smp);
	free(s->ev);
	store_health_done(&s->health);
	free(s);
}

const char *
store_backend_name(const struct store *s)
{
	return s->ops->name;
}

const struct store_ops *
store_backend_ops(const struct store *s)
{
	return s->ops;
}

void *
store_backend_handle(const struct store *s)
{
	return s->b;
}

#define F(col, type, field) { STORE_COL_##col, offsetof(struct type, field) }

const struct store_layout store_layout_device = { STORE_REC_DEVICE, sizeof(struct store_device),
	19,
	{ F(MAC, store_device, mac), F(TEXT, store_device, id), F(INT, store_device, gen),
	    F(TEXT, store_device, model), F(TEXT, store_device, app), F(TEXT, store_device, fw),
	    F(TEXT, store_device, name), F(TEXT, store_device, host), F(INT, store_device, port),
	    F(TEXT, store_device, scheme), F(TEXT, store_device, user),
	    F(TEXT, store_device, cred_ref), F(TEXT, store_device, tls_pin),
	    F(TEXT, store_device, discovered_via), F(I64, store_device, first_seen_ms),
	    F(I64, store_device, last_seen_ms), F(TEXT, store_device, fw_version),
	    F(TEXT, store_device, auth), F(TEXT, store_device, profile) } };
const struct store_layout store_layout_status = { STORE_REC_STATUS, sizeof(struct store_status),
	14,
	{ F(MAC, store_status, mac), F(I64, store_status, ts_ms), F(TEXT, store_status, state),
	    F(TEXT, store_status, error), F(REAL, store_status, power_w),
	    F(REAL, store_status, energy_wh), F(REAL, store_status, temperature_c),
	    F(REAL, store_status, rssi_dbm), F(I64N, store_status, uptime_s),
	    F(I64N, store_status, outputs_on), F(I64N, store_status, fw_update),
	    F(I64N, store_status, cfg_rev), F(TEXT, store_status, json),
	    F(I64, store_status, reply_ts_ms) } };
const struct store_layout store_layout_sample = { STORE_REC_SAMPLE, sizeof(struct store_sample),
	7,
	{ F(MAC, store_sample, mac), F(I64, store_sample, ts_ms), F(REAL, store_sample, power_w),
	    F(REAL, store_sample, energy_wh), F(REAL, store_sample, temperature_c),
	    F(REAL, store_sample, rssi_dbm), F(BOOL, store_sample, online) } };
const struct store_layout store_layout_bucket = { STORE_REC_BUCKET, sizeof(struct store_bucket),
	14,
	{ F(MAC, store_bucket, mac), F(I64, store_bucket, bucket_ms), F(I64, store_bucket, n),
	    F(REAL, store_bucket, power_min_w), F(REAL, store_bucket, power_avg_w),
	    F(REAL, store_bucket, power_max_w), F(REAL, store_bucket, temperature_min_c),
	    F(REAL, store_bucket, temperature_avg_c), F(REAL, store_bucket, temperature_max_c),
	    F(REAL, store_bucket, rssi_min_dbm), F(REAL, store_bucket, rssi_avg_dbm),
	    F(REAL, store_bucket, rssi_max_dbm), F(REAL, store_bucket, energy_last_wh),
	    F(REAL, store_bucket, online_frac) } };
const struct store_layout store_layout_event = { STORE_REC_EVENT, sizeof(struct store_event), 5,
	{ F(I64, store_event, id), F(I64, store_event, ts_ms), F(MAC, store_event, mac),
	    F(TEXT, store_event, kind), F(TEXT, store_event, detail) } };
const struct store_layout store_layout_audit = { STORE_REC_AUDIT, sizeof(struct store_audit), 7,
	{ F(I64, store_audit, id), F(I64, store_audit, ts_ms), F(TEXT, store_audit, who),
	    F(TEXT, store_audit, action), F(TEXT, store_audit, target),
	    F(TEXT, store_audit, result), F(TEXT, store_audit, detail) } };
const struct store_layout store_layout_setting = { STORE_REC_SETTING,
	sizeof(struct store_setting), 2,
	{ F(STR, store_setting, key), F(STR, store_setting, value) } };

#undef F

/* Whether field i of a record of type is a string (which a copy carries along). */
static int
is_str(const struct store_layout *type, int i)
{
	return type->f[i].col == STORE_COL_TEXT || type->f[i].col == STORE_COL_STR;
}

void *
store_record_dup(const void *r, const struct store_layout *type)
{
	size_t size = type->size;
	char *c, *p;

	for (int i = 0; i < type->n; i++) {
		const char *const *str = (const void *)((const char *)r + type->f[i].off);

		if (is_str(type, i) && *str != NULL)
			size += strlen(*str) + 1;
	}
	c = xmalloc(size);
	memcpy(c, r, type->size);
	p = c + type->size;
	for (int i = 0; i < type->n; i++) {
		const char **str = (const char **)(void *)(c + type->f[i].off);
		size_t n;

		if (!is_str(type, i) || *str == NULL)
			continue;
		n = strlen(*str) + 1;
		memcpy(p, *str, n);
		*str = p;
		p += n;
	}
	return c;
}

void
store_device_free(struct store_device *d)
{
	free(d);
}

void
store_status_free(struct store_status *st)
{
	free(st);
}

struct store_device *
store_device_dup(const struct store_device *d)
{
	return store_record_dup(d, &store_layout_device);
}

struct store_status *
store_status_dup(const struct store_status *st)
{
	return store_record_dup(st, &store_layout_status);
}

struct store_event *
store_event_dup(const struct store_event *ev)
{
	return store_record_dup(ev, &store_layout_event);
}

/* Rows of a backend list (struct store_rows): one collector serves every list. */
int
store_rows_collect_cb(const void *row, void *arg)
{
	struct store_rows *rows = arg;

	rows_push(rows, store_record_dup(row, rows->type));
	return 0;
}

static int
rows_call(const struct store_rows *rows, const void *r)
{
	const struct store_setting *set = r;

	switch (rows->type->rec) {
	case STORE_REC_DEVICE:
		return rows->cb.dev(r, rows->arg);
	case STORE_REC_SAMPLE:
		return rows->cb.smp(r, rows->arg);
	case STORE_REC_BUCKET:
		return rows->cb.bk(r, rows->arg);
	case STORE_REC_EVENT:
		return rows->cb.ev(r, rows->arg);
	case STORE_REC_AUDIT:
		return rows->cb.au(r, rows->arg);
	case STORE_REC_SETTING:
		return rows->cb.set(set->key, set->value, rows->arg);
	case STORE_REC_STATUS:
		return rows->cb.st(r, rows->arg);
	case STORE_REC_TASK:
		return rows->cb.task(r, rows->arg);
	case STORE_REC_AGENT:
		return rows->cb.agent(r, rows->arg);
	case STORE_REC_AP:
		return rows->cb.ap(r, rows->arg);
	}
	return 1;
}

int
store_rows_deliver(struct store_rows *rows, int rc, char **why, char **cause)
{
	for (size_t i = 0; rc == 0 && i < rows->n; i++) {
		if (rows_call(rows, rows->v[i]) != 0)
			break;
	}
	rows_free(rows);
	return rc == 0 ? 0 : fail(cause, *why);
}

/* Devices. */

/* The read and the write are one write transaction: a removal by another process commits
 * before the read or after the write, never between them. */
int
store_device_update(struct store *s, const struct store_device *d, char **cause)
{
	struct store_device *now;
	char *why = NULL;

	if (s->ops->begin(s->b, &why) != 0)
		return settings_failed(s, cause, why);
	now = store_device_find_mac(s, d->mac);
	if (now != NULL && store_device_upsert(s, d, cause) != 0) {
		store_device_free(now);
		s->ops->rollback(s->b);
		return -1;
	}
	store_device_free(now);
	if (s->ops->commit(s->b, &why) != 0) {
		s->ops->rollback(s->b);
		return settings_failed(s, cause, why);
	}
	return 0;
}

int
store_device_upsert(struct store *s, const struct store_device *d, char **cause)
{
	struct store_device copy = *d;
	char *why = NULL;

	if (store_mac_parse(d->mac, copy.mac) != 0)
		return fail(cause, xasprintf("invalid MAC \"%.*s\"", STORE_MAC_LEN + 1, d->mac));
	if (d->gen < 0 || d->gen > 99)
		return fail(cause, xasprintf("device %s: invalid generation %d", copy.mac, d->gen));
	if (d->port < 0 || d->port > 65535)
		return fail(cause, xasprintf("device %s: invalid port %d", copy.mac, d->port));
	if (s->ops->device_upsert(s->b, &copy, &why) != 0)
		return settings_failed(s, cause, why);
	store_health_note(&s->health, STORE_WRITE_SETTINGS, NULL);
	return 0;
}

static struct store_device *
find(struct store *s, enum store_find how, const char *value, int port)
{
	struct store_device *d = NULL;
	char *why = NULL;

	if (value == NULL)
		return NULL;
	if (s->ops->device_find(s->b, how, value, port, &d, &why) < 0) {
		log_error("store: %s", why);
		free(why);
		return NULL;
	}
	return d;
}

struct store_device *
store_device_find_mac(struct store *s, const char *mac)
{
	char norm[STORE_MAC_LEN + 1];

	if (store_mac_parse(mac, norm) != 0)
		return NULL;
	return find(s, STORE_FIND_MAC, norm, 0);
}

struct store_device *
store_device_find_id(struct store *s, const char *id)
{
	return find(s, STORE_FIND_ID, id, 0);
}

struct store_device *
store_device_find(struct store *s, const char *key)
{
	struct store_device *d = store_device_find_mac(s, key);

	return d != NULL ? d : store_device_find_id(s, key);
}

struct store_device *
store_device_find_host(struct store *s, const char *host, int port)
{
	return find(s, STORE_FIND_HOST, host, port);
}

static void
queue_purge(struct store *s, const char *mac)
{
	size_t i, j;

	macidx_clear(&s->status_at);
	for (i = j = 0; i < s->nstatus; i++) {
		if (strcmp(s->status[i]->mac, mac) == 0)
			free(s->status[i]);
		else {
			macidx_put(&s->status_at, s->status[i]->mac, j);
			s->status[j++] = s->status[i];
		}
	}
	s->nstatus = j;
	macidx_clear(&s->seen_at);
	for (i = j = 0; i < s->nseen; i++) {
		if (strcmp(s->seen[i].mac, mac) != 0) {
			macidx_put(&s->seen_at, s->seen[i].mac, j);
			s->seen[j++] = s->seen[i];
		}
	}
	s->nseen = j;
	for (i = j = 0; i < s->smp_len; i++) {
		const struct store_sample *x = &s->smp[(s->smp_head + i) % s->smp_cap];

		if (strcmp(x->mac, mac) != 0)
			s->smp[(s->smp_head + j++) % s->smp_cap] = *x;
	}
	s->smp_len = j;
	/* Events stay: they are history, not device state. */
}

int
store_device_remove(struct store *s, const char *key, char **cause)
{
	struct store_device *d = store_device_find(s, key);
	char mac[STORE_MAC_LEN + 1];
	char *why = NULL;
	int rc;

	if (d == NULL)
		return 0;
	memcpy(mac, d->mac, sizeof mac);
	store_device_free(d);
	rc = s->ops->device_delete(s->b, mac, &why);
	if (rc < 0)
		return settings_failed(s, cause, why);
	store_health_note(&s->health, STORE_WRITE_SETTINGS, NULL);
	queue_purge(s, mac);
	return rc;
}

int
store_device_list(struct store *s, store_device_cb cb, void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_device, .cb.dev = cb, .arg = arg };
	char *why = NULL;

	return store_rows_deliver(&rows,
	    s->ops->device_list(s->b, store_rows_collect_cb, &rows, &why), &why, cause);
}

/* Status, history, events, audit. */

int
store_status_read(struct store *s, const char *mac, struct store_status **out, char **cause)
{
	char norm[STORE_MAC_LEN + 1];
	char *why = NULL;
	int rc;

	*out = NULL;
	if (store_mac_parse(mac, norm) != 0)
		return 0;
	if ((rc = s->ops->status_get(s->b, norm, out, &why)) < 0)
		return fail(cause, why);
	return rc > 0 && *out != NULL;
}

struct store_status *
store_status_get(struct store *s, const char *mac)
{
	struct store_status *st = NULL;
	char *why = NULL;

	if (store_status_read(s, mac, &st, &why) < 0) {
		log_error("store: %s", why);
		free(why);
	}
	return st;
}

int
store_status_list(struct store *s, store_status_cb cb, void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_status, .cb.st = cb, .arg = arg };
	char *why = NULL;

	return store_rows_deliver(&rows,
	    s->ops->status_list(s->b, store_rows_collect_cb, &rows, &why), &why, cause);
}

/* History rows (samples or buckets, by op) of one MAC in [from_ms, to_ms). */
static int
span_list(struct store *s, int (*op)(void *, const char *, int64_t, int64_t, store_row_cb,
    void *, char **), const char *mac, int64_t from_ms, int64_t to_ms, struct store_rows *rows,
    char **cause)
{
	char norm[STORE_MAC_LEN + 1];
	char *why = NULL;

	if (store_mac_parse(mac, norm) != 0)
		return fail(cause, xstrdup("history: invalid MAC"));
	return store_rows_deliver(rows,
	    op(s->b, norm, from_ms, to_ms, store_rows_collect_cb, rows, &why), &why, cause);
}

int
store_history_list(struct store *s, const char *mac, int64_t from_ms, int64_t to_ms,
    store_sample_cb cb, void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_sample, .cb.smp = cb, .arg = arg };

	return span_list(s, s->ops->history_list, mac, from_ms, to_ms, &rows, cause);
}

int
store_history_buckets(struct store *s, const char *mac, int64_t from_ms, int64_t to_ms,
    store_bucket_cb cb, void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_bucket, .cb.bk = cb, .arg = arg };

	return span_list(s, s->ops->bucket_list, mac, from_ms, to_ms, &rows, cause);
}

int
store_event_list(struct store *s, int64_t after_id, size_t limit, store_event_cb cb,
    void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_event, .cb.ev = cb, .arg = arg };
	char *why = NULL;

	return store_rows_deliver(&rows,
	    s->ops->event_list(s->b, after_id, limit, store_rows_collect_cb, &rows, &why), &why,
	    cause);
}

int
store_audit_append(struct store *s, const struct store_audit *a, char **cause)
{
	char *why = NULL;

	if (a->action == NULL)
		return fail(cause, xstrdup("audit: no action"));
	if (s->ops->audit_append(s->b, a, &why) != 0)
		return settings_failed(s, cause, why);
	store_health_note(&s->health, STORE_WRITE_SETTINGS, NULL);
	return 0;
}

int
store_audit_list(struct store *s, int64_t after_id, size_t limit, store_audit_cb cb,
    void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_audit, .cb.au = cb, .arg = arg };
	char *why = NULL;

	return store_rows_deliver(&rows,
	    s->ops->audit_list(s->b, after_id, limit, store_rows_collect_cb, &rows, &why), &why,
	    cause);
}

/* Settings and leases. */

char *
store_setting_get(struct store *s, const char *key)
{
	char *value = NULL, *why = NULL;

	if (key == NULL)
		return NULL;
	if (s->ops->setting_get(s->b, key, &value, &why) < 0) {
		log_error("store: %s", why);
		free(why);
		return NULL;
	}
	return value;
}

int
store_setting_set(struct store *s, const char *key, const char *value, char **cause)
{
	char *why = NULL;

	if (key == NULL || *key == '\0')
		return fail(cause, xstrdup("setting: empty key"));
	if (s->ops->setting_set(s->b, key, value, &why) != 0)
		return settings_failed(s, cause, why);
	store_health_note(&s->health, STORE_WRITE_SETTINGS, NULL);
	return 0;
}

static void
hold_key(char key[32], const char *mac)
{
	snprintf(key, 32, "hold:%.12s", mac != NULL ? mac : "");
}

int
store_device_hold(struct store *s, const char *mac, const char *why, char **cause)
{
	char key[32];

	if (mac == NULL || !mac_valid(mac))
		return fail(cause, xstrdup("hold: invalid MAC"));
	hold_key(key, mac);
	return store_setting_set(s, key, why != NULL && *why != '\0' ? why : "held", cause);
}

char *
store_device_held(struct store *s, const char *mac)
{
	char key[32];

	hold_key(key, mac);
	return store_setting_get(s, key);
}

int
store_device_release(struct store *s, const char *mac, char **cause)
{
	char key[32];

	hold_key(key, mac);
	return store_setting_set(s, key, NULL, cause);
}

int
store_setting_list(struct store *s, store_setting_cb cb, void *arg, char **cause)
{
	struct store_rows rows = { .type = &store_layout_setting, .cb.set = cb, .arg = arg };
	char *why = NULL;

	return store_rows_deliver(&rows,
	    s->ops->setting_list(s->b, store_rows_collect_cb, &rows, &why), &why, cause);
}

int
store_read_begin(struct store *s, char **cause)
{
	char *why = NULL;

	if (s->ops->read_begin == NULL || s->ops->read_begin(s->b, &why) == 0)
		return 0;
	return fail(cause, why);
}

void
store_read_end(struct store *s)
{
	if (s->ops->read_end != NULL)
		s->ops->read_end(s->b);
}

/* With replace: removes the devices and settings im does not name (inside the transaction). */
static int
import_prune(struct store *s, const struct store_import *im, char **why)
{
	struct store_rows devs = { .type = &store_layout_device };
	struct store_rows sets = { .type = &store_layout_setting };
	size_t k;
	int rc = 0;

	if (s->ops->device_list(s->b, store_rows_collect_cb, &devs, why) != 0 ||
	    s->ops->setting_list(s->b, store_rows_collect_cb, &sets, why) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < devs.n; i++) {
		const struct store_device *d = devs.v[i];

		for (k = 0; k < im->ndevices && strcmp(im->devices[k].mac, d->mac) != 0; k++)
			;
		if (k == im->ndevices && s->ops->device_delete(s->b, d->mac, why) < 0)
			rc = -1;
		else if (k == im->ndevices)
			queue_purge(s, d->mac);
	}
	for (size_t i = 0; rc == 0 && i < sets.n; i++) {
		const char *key = ((const struct store_setting *)sets.v[i])->key;

		if (im->keep_prefix != NULL &&
		    strncmp(key, im->keep_prefix, strlen(im->keep_prefix)) == 0)
			continue;
		for (k = 0; k < im->nsettings && strcmp(im->keys[k], key) != 0; k++)
			;
		if (k == im->nsettings && s->ops->setting_set(s->b, key, NULL, why) != 0)
			rc = -1;
	}
	rows_free(&devs);
	rows_free(&sets);
	return rc;
}

int
store_import(struct store *s, const struct store_import *im, char **cause)
{
	struct store_device copy;
	char *why = NULL;

	for (size_t i = 0; i < im->ndevices; i++) {
		if (store_mac_parse(im->devices[i].mac, copy.mac) != 0 ||
		    strcmp(copy.mac, im->devices[i].mac) != 0)
			return fail(cause, xasprintf("import: invalid MAC \"%.*s\"",
			    STORE_MAC_LEN + 1, im->devices[i].mac));
	}
	for (size_t i = 0; i < im->nsettings; i++) {
		if (im->keys[i] == NULL || im->keys[i][0] == '\0' || im->values[i] == NULL)
			return fail(cause, xstrdup("import: empty setting key or value"));
	}
	if (store_flush(s, cause) != 0)
		return -1;
	if (s->ops->begin(s->b, &why) != 0)
		return fail(cause, why);
	if (im->replace && import_prune(s, im, &why) != 0)
		goto fail;
	for (size_t i = 0; i < im->ndevices; i++) {
		if (s->ops->device_upsert(s->b, &im->devices[i], &why) != 0)
			goto fail;
	}
	for (size_t i = 0; i < im->nsettings; i++) {
		if (s->ops->setting_set(s->b, im->keys[i], im->values[i], &why) != 0)
			goto fail;
	}
	if (im->ncfg > 0 && (s->ops->cfg_batch == NULL ||
	                        s->ops->cfg_batch(s->b, im->cfg, im->ncfg, NULL, NULL, &why) != 0)) {
		if (why == NULL)
			why = xasprintf("the %s store has no configuration management", s->ops->name);
		goto fail;
	}
	if (im->before_commit != NULL && im->before_commit(im->arg, &why) != 0)
		goto fail;
	if (s->ops->commit(s->b, &why) != 0)
		goto fail;
	return 0;
fail:
	s->ops->rollback(s->b);
	return fail(cause, why);
}

static int
lease_args(const char *name, const char *holder, int64_t now_ms, int64_t timeout_ms,
    char **cause)
{
	if (name == NULL || *name == '\0' || holder == NULL || *holder == '\0')
		return fail(cause, xstrdup("lease: empty name or holder"));
	if (now_ms < 0 || timeout_ms <= 0 || now_ms > INT64_MAX - timeout_ms)
		return fail(cause, xstrdup("lease: time out of range"));
	return 0;
}

int
store_lease_acquire(struct store *s, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms, char **holder_out, char **cause)
{
	char *other = NULL, *why = NULL;
	int rc;

	if (holder_out != NULL)
		*holder_out = NULL;
	if (lease_args(name, holder, now_ms, timeout_ms, cause) != 0)
		return -1;
	rc = s->ops->lease_acquire(s->b, name, holder, now_ms, timeout_ms, &other, &why);
	store_health_note(&s->health, STORE_WRITE_LEASE, rc < 0 ? why : NULL);
	if (rc < 0)
		return fail(cause, why);
	if (holder_out != NULL)
		*holder_out = other;
	else
		free(other);
	return rc;
}

int
store_lease_heartbeat(struct store *s, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms, char **cause)
{
	char *why = NULL;
	int rc;

	if (lease_args(name, holder, now_ms, timeout_ms, cause) != 0)
		return -1;
	rc = s->ops->lease_heartbeat(s->b, name, holder, now_ms, timeout_ms, &why);
	store_health_note(&s->health, STORE_WRITE_LEASE, rc < 0 ? why : NULL);
	if (rc < 0)
		return fail(cause, why);
	return rc;
}

int
store_lease_release(struct store *s, const char *name, const char *holder, char **cause)
{
	char *why = NULL;

	if (lease_args(name, holder, 0, 1, cause) != 0)
		return -1;
	if (s->ops->lease_release(s->b, name, holder, &why) != 0)
		return fail(cause, why);
	return 0;
}

/* The write queue. */

int
store_queue_status(struct store *s, const struct store_status *st)
{
	long at;

	if (!mac_valid(st->mac)) {
		log_error("store: status with invalid MAC dropped");
		return -1;
	}
	if ((at = macidx_get(&s->status_at, st->mac)) >= 0) {
		struct store_status *old = s->status[at];

		if (st->ts_ms < old->ts_ms)
			return 0; /* older than what is queued */
		if (st->keep_reply && !old->keep_reply) {
			/* A failed poll after a queued reply: the reply is written, with this state. */
			struct store_status m = *old;

			m.ts_ms = st->ts_ms;
			m.state = st->state;
			m.error = st->error;
			if (m.reply_ts_ms == 0)
				m.reply_ts_ms = old->ts_ms;
			s->status[at] = store_status_dup(&m);
		} else
			s->status[at] = store_status_dup(st);
		free(old);
		return 0;
	}
	if (s->nstatus == s->capstatus) {
		s->capstatus = s->capstatus ? s->capstatus * 2 : 64;
		s->status = xreallocarray(s->status, s->capstatus, sizeof *s->status);
	}
	macidx_put(&s->status_at, st->mac, s->nstatus);
	s->status[s->nstatus++] = store_status_dup(st);
	return 0;
}

static void
sample_drop_oldest(struct store *s)
{
	s->smp_head = (s->smp_head + 1) % s->smp_cap;
	s->smp_len--;
	s->dropped++;
}

int
store_queue_sample(struct store *s, const struct store_sample *smp)
{
	if (!mac_valid(smp->mac)) {
		log_error("store: sample with invalid MAC dropped");
		return -1;
	}
	if (s->smp_len >= s->smp_limit) {
		if (s->dropped == 0)
			log_warn("store: write queue full (%zu samples), dropping the oldest",
			    s->smp_limit);
		sample_drop_oldest(s);
	}
	if (s->smp_len == s->smp_cap) {
		size_t cap = s->smp_cap ? s->smp_cap * 2 : 256;
		struct store_sample *n;

		if (cap > s->smp_limit)
			cap = s->smp_limit;
		n = xreallocarray(NULL, cap, sizeof *n);
		for (size_t i = 0; i < s->smp_len; i++)
			n[i] = s->smp[(s->smp_head + i) % s->smp_cap];
		free(s->smp);
		s->smp = n;
		s->smp_cap = cap;
		s->smp_head = 0;
	}
	s->smp[(s->smp_head + s->smp_len) % s->smp_cap] = *smp;
	s->smp_len++;
	return 0;
}

static void
event_drop_oldest(struct store *s)
{
	free(s->ev[0]);
	memmove(s->ev, s->ev + 1, (s->nev - 1) * sizeof *s->ev);
	s->nev--;
	s->dropped++;
}

int
store_queue_event(struct store *s, const struct store_event *ev)
{
	if ((ev->mac[0] != '\0' && !mac_valid(ev->mac)) || ev->kind == NULL) {
		log_error("store: event with invalid MAC or no kind dropped");
		return -1;
	}
	if (s->nev >= s->smp_limit) {
		/* The store cannot write: keep the newest, as for samples. */
		if (s->dropped == 0)
			log_warn("store: write queue full (%zu events), dropping the oldest",
			    s->smp_limit);
		event_drop_oldest(s);
	}
	if (s->nev == s->capev) {
		s->capev = s->capev ? s->capev * 2 : 64;
		s->ev = xreallocarray(s->ev, s->capev, sizeof *s->ev);
	}
	s->ev[s->nev++] = store_event_dup(ev);
	return 0;
}

int
store_queue_seen(struct store *s, const char *mac, int64_t ts_ms)
{
	long at;

	if (mac == NULL || !mac_valid(mac)) {
		log_error("store: last-seen update with invalid MAC dropped");
		return -1;
	}
	if ((at = macidx_get(&s->seen_at, mac)) >= 0) {
		if (ts_ms > s->seen[at].ts_ms)
			s->seen[at].ts_ms = ts_ms;
		return 0;
	}
	if (s->nseen == s->capseen) {
		s->capseen = s->capseen ? s->capseen * 2 : 64;
		s->seen = xreallocarray(s->seen, s->capseen, sizeof *s->seen);
	}
	macidx_put(&s->seen_at, mac, s->nseen);
	memcpy(s->seen[s->nseen].mac, mac, sizeof s->seen[s->nseen].mac);
	s->seen[s->nseen].ts_ms = ts_ms;
	s->nseen++;
	return 0;
}

size_t
store_queue_len(const struct store *s)
{
	return s->nstatus + s->nseen + s->smp_len + s->nev;
}

uint64_t
store_queue_dropped(const struct store *s)
{
	return s->dropped;
}

void
store_set_queue_limit(struct store *s, size_t max_samples)
{
	s->smp_limit = max_samples > 0 ? max_samples : 1;
	while (s->smp_len > s->smp_limit)
		sample_drop_oldest(s);
	while (s->nev > s->smp_limit)
		event_drop_oldest(s);
}

int
store_flush(struct store *s, char **cause)
{
	const struct store_ops *ops = s->ops;
	size_t n = store_queue_len(s);
	char *why = NULL, *msg;

	if (n == 0)
		return 0;
	if (ops->begin(s->b, &why) != 0)
		goto fail;
	for (size_t i = 0; i < s->nseen; i++) {
		if (ops->put_seen(s->b, s->seen[i].mac, s->seen[i].ts_ms, &why) != 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nstatus; i++) {
		if (ops->put_status(s->b, s->status[i], &why) != 0)
			goto fail;
	}
	for (size_t i = 0; i < s->smp_len; i++) {
		if (ops->put_sample(s->b, &s->smp[(s->smp_head + i) % s->smp_cap], &why) != 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nev; i++) {
		if (ops->put_event(s->b, s->ev[i], &why) != 0)
			goto fail;
	}
	if (ops->commit(s->b, &why) != 0)
		goto fail;
	queue_clear(s);
	if (s->health.failing & (1u << STORE_WRITE_FLUSH))
		log_info("store: writing works again (%zu queued items written)", n);
	store_health_note(&s->health, STORE_WRITE_FLUSH, NULL);
	return 0;

fail:
	ops->rollback(s->b);
	msg = xasprintf("%s (%zu queued items kept for retry)", why, n);
	free(why);
	store_health_note(&s->health, STORE_WRITE_FLUSH, msg);
	give_cause(cause, msg);
	return -1;
}

void
store_get_health(const struct store *s, struct store_health *h)
{
	store_health_read(&s->health, h);
}

void
store_set_health_settle(struct store *s, int64_t ms)
{
	s->health.settle_ms = ms > 0 ? ms : 0;
}

int
store_healthy(const struct store *s)
{
	return s->health.failing == 0;
}

const char *
store_last_error(const struct store *s)
{
	struct store_health h;

	store_health_read(&s->health, &h);
	return h.error;
}

/* Maintenance. */

void
store_set_busy_wait(struct store *s, int ms)
{
	s->busy_ms = ms < 0 ? 0 : ms;
	s->ops->set_busy_wait(s->b, s->busy_ms);
}

int
store_flush_within(struct store *s, int ms, char **cause)
{
	int rc;

	s->ops->set_busy_wait(s->b, ms < 0 ? 0 : ms);
	rc = store_flush(s, cause);
	s->ops->set_busy_wait(s->b, s->busy_ms);
	return rc;
}

int
store_prune(struct store *s, int64_t now_ms, int64_t raw_keep_ms, int64_t bucket_ms,
    int64_t keep_ms, char **cause)
{
	int64_t raw_cutoff, keep_cutoff;
	char *why = NULL;

	if (now_ms < 0 || raw_keep_ms < 0 || keep_ms < 0 || bucket_ms <= 0)
		return fail(cause, xstrdup("prune: negative time or empty bucket"));
	raw_cutoff = now_ms - raw_keep_ms; /* no overflow: both non-negative */
	keep_cutoff = now_ms - keep_ms;
	if (raw_cutoff < 0)
		raw_cutoff = 0;
	raw_cutoff -= raw_cutoff % bucket_ms;
	if (s->ops->prune(s->b, raw_cutoff, bucket_ms, keep_cutoff, &why) != 0)
		return fail(cause, why);
	return 0;
}

int
store_prune_log(struct store *s, int64_t now_ms, int64_t events_keep_ms,
    int64_t audit_keep_ms, int64_t *deleted, char **cause)
{
	int64_t n = 0;
	char *why = NULL;

	if (deleted != NULL)
		*deleted = 0;
	if (now_ms < 0 || events_keep_ms < 0 || audit_keep_ms < 0)
		return fail(cause, xstrdup("prune: negative time"));
	/* No overflow: both non-negative. A keep past now deletes nothing (cutoff 0). */
	if (s->ops->prune_log(s->b,
	        events_keep_ms == 0 ? -1 : (now_ms > events_keep_ms ? now_ms - events_keep_ms : 0),
	        audit_keep_ms == 0 ? -1 : (now_ms > audit_keep_ms ? now_ms - audit_keep_ms : 0), &n,
	        &why) != 0)
		return fail(cause, why);
	if (deleted != NULL)
		*deleted = n;
	return 0;
}

int
store_backup(struct store *s, const char *path, char **cause)
{
	char *why = NULL;

	if (path == NULL || *path == '\0')
		return fail(cause, xstrdup("backup: no file given"));
	if (s->ops->backup(s->b, path, &why) != 0)
		return fail(cause, why);
	return 0;
}

int
store_integrity_check(struct store *s, char **cause)
{
	char *why = NULL;

	if (s->ops->integrity_check(s->b, &why) != 0)
		return fail(cause, why);
	return 0;
}

int64_t
store_db_size_bytes(struct store *s)
{
	return s->ops->size_bytes(s->b);
}

int64_t
store_data_version(struct store *s)
{
	return s->ops->data_version(s->b);
}
