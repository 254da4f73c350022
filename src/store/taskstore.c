/*
 * Provisioning records on the SQLite connection of a store (see store/taskstore.h). The rate
 * is a few statements a second at most, so each call prepares its statement; every list
 * collects its rows before it calls back, so callbacks may use the store.
 */
#include "store/taskstore.h"

#include "store/sqlite.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define TASK_COLS                                                                       \
	"id, kind, target, network, key_ref, name, template, pass_ref, ap_off, state, " \
	"attempts, max_attempts, agent, lease, stage, mac, result, reason, created, updated"
#define TASK_NSTR 14

static sqlite3_stmt *
prep(struct store *s, const char *sql, char **cause)
{
	sqlite3 *db = store_sqlite_db(s);
	sqlite3_stmt *st = NULL;

	if (db == NULL) {
		*cause = xstrdup("provisioning needs the SQLite store");
		return NULL;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: preparing a task statement", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

static int
fail(struct store *s, sqlite3_stmt *st, const char *what, char **cause)
{
	*cause = xasprintf("%s: %s", sqlite3_errmsg(store_sqlite_db(s)), what);
	sqlite3_finalize(st);
	return -1;
}

static int
tx(struct store *s, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(store_sqlite_db(s), sql, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", err != NULL ? err : "error", sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Copies the strings of a task into one allocation with the record. */
static struct store_task *
task_pack(const struct store_task *t)
{
	const char *const *src[TASK_NSTR] = {&t->kind, &t->target, &t->network, &t->key_ref,
	    &t->name, &t->template_name, &t->pass_ref, &t->state, &t->agent, &t->stage, &t->mac,
	    &t->result, &t->reason, NULL};
	size_t len = sizeof *t;
	struct store_task *out;
	char *p;

	for (int i = 0; src[i] != NULL; i++)
		if (*src[i] != NULL)
			len += strlen(*src[i]) + 1;
	out = xmalloc(len);
	*out = *t;
	p = (char *)(out + 1);
	for (int i = 0; src[i] != NULL; i++) {
		const char **dst =
		    (const char **)((char *)out + ((const char *)src[i] - (const char *)t));

		if (*src[i] == NULL)
			continue;
		strcpy(p, *src[i]);
		*dst = p;
		p += strlen(p) + 1;
	}
	return out;
}

static struct store_task *
task_row(sqlite3_stmt *st)
{
	struct store_task t = {
	    .id = sqlite3_column_int64(st, 0),
	    .kind = col_text(st, 1),
	    .target = col_text(st, 2),
	    .network = col_text(st, 3),
	    .key_ref = col_text(st, 4),
	    .name = col_text(st, 5),
	    .template_name = col_text(st, 6),
	    .pass_ref = col_text(st, 7),
	    .ap_off = sqlite3_column_int(st, 8),
	    .state = col_text(st, 9),
	    .attempts = sqlite3_column_int(st, 10),
	    .max_attempts = sqlite3_column_int(st, 11),
	    .agent = col_text(st, 12),
	    .lease_ms = sqlite3_column_int64(st, 13),
	    .stage = col_text(st, 14),
	    .mac = col_text(st, 15),
	    .result = col_text(st, 16),
	    .reason = col_text(st, 17),
	    .created_ms = sqlite3_column_int64(st, 18),
	    .updated_ms = sqlite3_column_int64(st, 19),
	};
	return task_pack(&t);
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
	sqlite3_stmt *st = prep(s,
	    "INSERT INTO tasks (kind, target, network, key_ref, name, "
	    "template, pass_ref, ap_off, state, max_attempts, created, updated) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    cause);

	if (st == NULL)
		return -1;
	bind_text(st, 1, t->kind);
	bind_text(st, 2, t->target);
	bind_text(st, 3, t->network);
	bind_text(st, 4, t->key_ref);
	bind_text(st, 5, t->name);
	bind_text(st, 6, t->template_name);
	bind_text(st, 7, t->pass_ref);
	sqlite3_bind_int(st, 8, t->ap_off ? 1 : 0);
	bind_text(st, 9, t->state);
	sqlite3_bind_int(st, 10, t->max_attempts > 0 ? t->max_attempts : 1);
	sqlite3_bind_int64(st, 11, now_ms);
	sqlite3_bind_int64(st, 12, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(s, st, "adding a task", cause);
	*id = sqlite3_last_insert_rowid(store_sqlite_db(s));
	sqlite3_finalize(st);
	return 0;
}

/* Steps st, collecting task rows; calls cb for each after the statement is done. */
static int
task_rows(struct store *s, sqlite3_stmt *st, store_task_cb cb, void *arg, char **cause)
{
	struct store_task **rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			rows = xreallocarray(rows, cap, sizeof *rows);
		}
		rows[n++] = task_row(st);
	}
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < n; i++)
			free(rows[i]);
		free(rows);
		return fail(s, st, "listing tasks", cause);
	}
	sqlite3_finalize(st);
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && cb(rows[i], arg) != 0)
			rc = 1;
		free(rows[i]);
	}
	free(rows);
	return 0;
}

static int
keep_first_cb(const struct store_task *t, void *arg)
{
	struct store_task **out = arg;

	if (*out == NULL)
		*out = task_pack(t);
	return 1;
}

struct store_task *
store_task_get(struct store *s, int64_t id)
{
	struct store_task *t = NULL;
	char *cause = NULL;
	sqlite3_stmt *st = prep(s, "SELECT " TASK_COLS " FROM tasks WHERE id = ?", &cause);

	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		task_rows(s, st, keep_first_cb, &t, &cause);
	}
	if (cause != NULL) {
		log_error("task %lld: %s", (long long)id, cause);
		free(cause);
	}
	return t;
}

int
store_task_list(struct store *s, store_task_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st = prep(s, "SELECT " TASK_COLS " FROM tasks ORDER BY id", cause);

	return st != NULL ? task_rows(s, st, cb, arg, cause) : -1;
}

int
store_task_expired(
    struct store *s, const char *state, int64_t now_ms, store_task_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st = prep(s,
	    "SELECT " TASK_COLS " FROM tasks WHERE state = ? AND lease IS "
	    "NOT NULL AND lease < ? ORDER BY id",
	    cause);

	if (st == NULL)
		return -1;
	bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, now_ms);
	return task_rows(s, st, cb, arg, cause);
}

int
store_task_take(struct store *s, const char *from, const char *to, const char *agent,
    int64_t now_ms, int64_t lease_ms, struct store_task **out, char **cause)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	*out = NULL;
	if (tx(s, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	st = prep(s, "SELECT id FROM tasks WHERE state = ? ORDER BY id LIMIT 1", cause);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, from);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		tx(s, "COMMIT", cause);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		fail(s, st, "finding a queued task", cause);
		goto rollback;
	}
	id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = prep(s,
	    "UPDATE tasks SET state = ?, agent = ?, lease = ?, attempts = attempts + 1, "
	    "updated = ?, stage = NULL WHERE id = ?",
	    cause);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, to);
	bind_text(st, 2, agent);
	sqlite3_bind_int64(st, 3, lease_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		fail(s, st, "claiming a task", cause);
		goto rollback;
	}
	sqlite3_finalize(st);
	if (tx(s, "COMMIT", cause) != 0)
		goto rollback;
	*out = store_task_get(s, id);
	return *out != NULL ? 1 : 0;
rollback:
	sqlite3_exec(store_sqlite_db(s), "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
store_task_update(struct store *s, int64_t id, const char *agent, const char *from, const char *to,
    const struct store_task_set *set, int64_t now_ms, char **cause)
{
	static const struct store_task_set none = {.lease_ms = -1};
	sqlite3_stmt *st;
	int n;

	if (set == NULL)
		set = &none;
	st = prep(s,
	    "UPDATE tasks SET state = ?1, "
	    "agent = CASE WHEN ?2 IS NULL THEN agent ELSE NULLIF(?2, '') END, "
	    "lease = CASE WHEN ?3 < 0 THEN lease WHEN ?3 = 0 THEN NULL ELSE ?3 END, "
	    "stage = COALESCE(?4, stage), mac = COALESCE(?5, mac), "
	    "result = COALESCE(?6, result), reason = COALESCE(?7, reason), updated = ?8 "
	    "WHERE id = ?9 AND state = ?10 AND (?11 IS NULL OR agent = ?11)",
	    cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, to);
	bind_text(st, 2, set->agent_to);
	sqlite3_bind_int64(st, 3, set->lease_ms);
	bind_text(st, 4, set->stage);
	bind_text(st, 5, set->mac);
	bind_text(st, 6, set->result);
	bind_text(st, 7, set->reason);
	sqlite3_bind_int64(st, 8, now_ms);
	sqlite3_bind_int64(st, 9, id);
	bind_text(st, 10, from);
	bind_text(st, 11, agent);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(s, st, "updating a task", cause);
	n = sqlite3_changes(store_sqlite_db(s));
	sqlite3_finalize(st);
	return n > 0 ? 1 : 0;
}

int
store_task_renew(struct store *s, const char *agent, int64_t lease_ms, int64_t now_ms, char **cause)
{
	sqlite3_stmt *st = prep(s,
	    "UPDATE tasks SET lease = ?, updated = ? WHERE agent = ? AND "
	    "lease IS NOT NULL",
	    cause);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, lease_ms);
	sqlite3_bind_int64(st, 2, now_ms);
	bind_text(st, 3, agent);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(s, st, "renewing task leases", cause);
	sqlite3_finalize(st);
	return 0;
}

/* Runs a statement with text/integer parameters given as a format: 't' text, 'i' int64. */
static int
exec_args(struct store *s, const char *sql, const char *fmt, const void *const *args,
    const char *what, int *changes, char **cause)
{
	sqlite3_stmt *st = prep(s, sql, cause);

	if (st == NULL)
		return -1;
	for (int i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] == 't')
			bind_text(st, i + 1, args[i]);
		else
			sqlite3_bind_int64(st, i + 1, *(const int64_t *)args[i]);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(s, st, what, cause);
	if (changes != NULL)
		*changes = sqlite3_changes(store_sqlite_db(s));
	sqlite3_finalize(st);
	return 0;
}

int
store_agent_add(struct store *s, const char *id, const char *name, const char *token_hash,
    int64_t now_ms, char **cause)
{
	const void *args[] = {id, name, token_hash, &now_ms};

	return exec_args(s,
	    "INSERT INTO agents (id, name, token_hash, created) VALUES (?, ?, ?, ?)", "ttti", args,
	    "adding an agent", NULL, cause);
}

char *
store_agent_by_token(struct store *s, const char *token_hash)
{
	char *cause = NULL, *id = NULL;
	sqlite3_stmt *st = prep(s, "SELECT id FROM agents WHERE token_hash = ?", &cause);

	if (st == NULL) {
		log_error("agent lookup: %s", cause);
		free(cause);
		return NULL;
	}
	bind_text(st, 1, token_hash);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = xstrdup(col_text(st, 0));
	sqlite3_finalize(st);
	return id;
}

int
store_agent_seen(struct store *s, const char *id, int64_t now_ms, char **cause)
{
	const void *args[] = {&now_ms, id};

	return exec_args(s, "UPDATE agents SET last_seen = ? WHERE id = ?", "it", args,
	    "updating an agent", NULL, cause);
}

int
store_agent_list(struct store *s, store_agent_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st = prep(s,
	    "SELECT id, name, created, last_seen FROM agents ORDER BY "
	    "created, id",
	    cause);
	int rc;

	if (st == NULL)
		return -1;
	/* Agents are few; a callback that writes waits for nothing (reads do not lock in WAL). */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_agent a = {col_text(st, 0), col_text(st, 1),
		    sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};

		if (cb(&a, arg) != 0)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, st, "listing agents", cause);
	sqlite3_finalize(st);
	return 0;
}

int
store_enrol_add(struct store *s, const char *hash, int64_t now_ms, int64_t expires_ms, char **cause)
{
	const void *args[] = {hash, &now_ms, &expires_ms};

	return exec_args(s, "INSERT INTO enrolments (hash, created, expires) VALUES (?, ?, ?)",
	    "tii", args, "adding an enrolment secret", NULL, cause);
}

int
store_enrol_use(struct store *s, const char *hash, const char *agent, int64_t now_ms, char **cause)
{
	const void *args[] = {&now_ms, agent, hash, &now_ms};
	int n = 0;

	if (exec_args(s,
	        "UPDATE enrolments SET used = ?, agent = ? WHERE hash = ? AND used IS "
	        "NULL AND expires > ?",
	        "itti", args, "using an enrolment secret", &n, cause) != 0)
		return -1;
	return n > 0 ? 1 : 0;
}

int
store_ap_seen(
    struct store *s, const char *ssid, const char *agent, int rssi, int64_t now_ms, char **cause)
{
	int64_t r = rssi;
	const void *args[] = {ssid, agent, &r, &now_ms};

	return exec_args(s,
	    "INSERT INTO access_points (ssid, agent, rssi, seen) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT (ssid, agent) DO UPDATE SET rssi = excluded.rssi, seen = excluded.seen",
	    "ttii", args, "recording an access point", NULL, cause);
}

int
store_ap_list(struct store *s, int64_t since_ms, store_ap_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st = prep(s,
	    "SELECT ssid, agent, rssi, seen FROM access_points WHERE "
	    "seen >= ? ORDER BY seen DESC, ssid",
	    cause);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_ap ap = {col_text(st, 0), col_text(st, 1), sqlite3_column_int(st, 2),
		    sqlite3_column_int64(st, 3)};

		if (cb(&ap, arg) != 0)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, st, "listing access points", cause);
	sqlite3_finalize(st);
	return 0;
}
