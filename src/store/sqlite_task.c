/*
 * Provisioning records on the SQLite connection of the backend (see store/sqlite_task.h).
 * The rate is a few statements a second at most, so each call prepares its statement; rows
 * stream straight to the callback (store/taskstore.c collects them before its caller sees
 * them).
 */
#include "store/sqlite_task.h"

#include "store/backend.h"
#include "store/sqlite.h"
#include "util/xmalloc.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* "id, kind, ...": the columns of store_layout_task, in its order (store/backend.h). */
#define TASK_COL_NAME(col, field, name) name
#define TASK_COLS STORE_TASK_COLUMNS(TASK_COL_NAME, ", ")

static sqlite3_stmt *
prep(void *b, const char *sql, char **cause)
{
	sqlite3 *db = store_sqlite_conn(b);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sqlite_error(db, cause, "preparing a task statement");
		return NULL;
	}
	return st;
}

static int
fail(void *b, sqlite3_stmt *st, const char *what, char **cause)
{
	store_sqlite_error(store_sqlite_conn(b), cause, "%s", what);
	sqlite3_finalize(st);
	return -1;
}

/* Steps st, handing each row read by type's layout to cb until it returns non-zero; then
 * finalizes st. */
static int
list_rows(void *b, sqlite3_stmt *st, const struct store_layout *type, store_row_cb cb, void *arg,
    const char *what, char **cause)
{
	union {
		struct store_task t;
		struct store_agent a;
		struct store_ap ap;
	} rec;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_read_rec(st, type, &rec);
		if (cb(&rec, arg) != 0)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(b, st, what, cause);
	sqlite3_finalize(st);
	return 0;
}

static int
tx(void *b, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(store_sqlite_conn(b), sql, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", err != NULL ? err : "error", sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Runs a statement with text/integer parameters given as a format: 't' text, 'i' int64. */
static int
exec_args(void *b, const char *sql, const char *fmt, const void *const *args, const char *what,
    int *changes, char **cause)
{
	sqlite3_stmt *st = prep(b, sql, cause);

	if (st == NULL)
		return -1;
	for (int i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] == 't')
			store_sqlite_bind_text(st, i + 1, args[i]);
		else
			sqlite3_bind_int64(st, i + 1, *(const int64_t *)args[i]);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(b, st, what, cause);
	sqlite3_finalize(st);
	if (changes != NULL)
		*changes = sqlite3_changes(store_sqlite_conn(b));
	return 0;
}

static int
sqt_add(void *b, const struct store_task *t, int64_t now_ms, int64_t *id, char **cause)
{
	int64_t ap_off = t->ap_off ? 1 : 0, max = t->max_attempts > 0 ? t->max_attempts : 1;
	const void *args[] = {t->kind, t->target, t->network, t->key_ref, t->name, t->template_name,
	    t->pass_ref, &ap_off, t->state, &max, &now_ms, &now_ms};

	if (exec_args(b,
	        "INSERT INTO tasks (kind, target, network, key_ref, name, "
	        "template, pass_ref, ap_off, state, max_attempts, created, updated) "
	        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	        "tttttttitiii", args, "adding a task", NULL, cause) != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_sqlite_conn(b));
	return 0;
}

static int
sqt_list(void *b, const struct store_task_query *q, store_row_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st;

	if (q->id > 0) {
		st = prep(b, "SELECT " TASK_COLS " FROM tasks WHERE id = ?", cause);
		if (st != NULL)
			sqlite3_bind_int64(st, 1, q->id);
	} else if (q->state != NULL) {
		st = prep(b,
		    "SELECT " TASK_COLS " FROM tasks WHERE state = ? AND lease IS NOT NULL AND "
		    "lease < ? ORDER BY id",
		    cause);
		if (st != NULL) {
			store_sqlite_bind_text(st, 1, q->state);
			sqlite3_bind_int64(st, 2, q->lease_before_ms);
		}
	} else
		st = prep(b, "SELECT " TASK_COLS " FROM tasks ORDER BY id", cause);
	return list_rows(b, st, &store_layout_task, cb, arg, "listing tasks", cause);
}

/*
 * The oldest task in ?1 that agent ?2 may take: unless ?4 is 0 only one whose access point
 * the agent reported at or after ?3, by SSID or (a MAC target) by the MAC ending the SSID.
 */
#define TAKE_SQL                                                                           \
	"SELECT id FROM tasks t WHERE state = ?1 AND (?4 = 0 OR EXISTS (SELECT 1 FROM "    \
	"access_points a WHERE a.agent = ?2 AND a.seen >= ?3 AND (upper(a.ssid) = "        \
	"upper(t.target) OR (t.target NOT LIKE 'shelly%' AND (upper(a.ssid) LIKE '%-' || " \
	"upper(t.target) OR upper(a.ssid) LIKE '%-' || upper(substr(t.target, 7))))))) "   \
	"ORDER BY id LIMIT 1"

static int
sqt_take(void *b, const char *from, const char *to, const char *agent, int64_t now_ms,
    int64_t lease_ms, int64_t seen_ms, int64_t *id, char **cause)
{
	const void *args[] = {to, agent, &lease_ms, &now_ms, id};
	sqlite3_stmt *st;
	int rc;

	if (tx(b, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	st = prep(b, TAKE_SQL, cause);
	if (st == NULL)
		goto rollback;
	store_sqlite_bind_text(st, 1, from);
	store_sqlite_bind_text(st, 2, agent);
	sqlite3_bind_int64(st, 3, seen_ms);
	sqlite3_bind_int(st, 4, seen_ms != STORE_SEEN_ANY);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		if (tx(b, "COMMIT", cause) != 0)
			goto rollback;
		return 0; /* nothing queued */
	}
	if (rc != SQLITE_ROW) {
		fail(b, st, "finding a queued task", cause);
		goto rollback;
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (exec_args(b,
	        "UPDATE tasks SET state = ?, agent = ?, lease = ?, attempts = attempts + 1, "
	        "updated = ?, stage = NULL WHERE id = ?",
	        "ttiii", args, "claiming a task", NULL, cause) != 0 ||
	    tx(b, "COMMIT", cause) != 0)
		goto rollback;
	return 1;
rollback:
	/* A failed COMMIT may have ended the transaction already (SQLITE_BUSY keeps it open). */
	if (!sqlite3_get_autocommit(store_sqlite_conn(b)))
		sqlite3_exec(store_sqlite_conn(b), "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
sqt_update(void *b, int64_t id, const char *agent, const char *from, const char *to,
    const struct store_task_set *set, int64_t now_ms, char **cause)
{
	int64_t uncount = set->uncount ? 1 : 0;
	const void *args[] = {to, set->agent_to, &set->lease_ms, set->stage, set->mac, set->result,
	    set->reason, &now_ms, &id, from, agent, &uncount, set->last_agent};
	int n = 0;

	if (exec_args(b,
	        "UPDATE tasks SET state = ?1, "
	        "agent = CASE WHEN ?2 IS NULL THEN agent ELSE NULLIF(?2, '') END, "
	        "lease = CASE WHEN ?3 < 0 THEN lease WHEN ?3 = 0 THEN NULL ELSE ?3 END, "
	        "stage = COALESCE(?4, stage), mac = COALESCE(?5, mac), "
	        "result = COALESCE(?6, result), reason = CASE WHEN ?7 IS NULL THEN reason ELSE "
	        "NULLIF(?7, '') END, updated = ?8, "
	        "attempts = MAX(attempts - ?12, 0), last_agent = COALESCE(?13, last_agent) "
	        "WHERE id = ?9 AND state = ?10 AND (?11 IS NULL OR agent = ?11)",
	        "ttittttiittit", args, "updating a task", &n, cause) != 0)
		return -1;
	return n > 0 ? 1 : 0;
}

static int
sqt_renew(void *b, const char *agent, int64_t task, int64_t lease_ms, int64_t now_ms,
    char **cause)
{
	const void *args[] = {&lease_ms, &now_ms, agent, &task};

	return exec_args(b,
	    "UPDATE tasks SET lease = ?1, updated = ?2 WHERE agent = ?3 AND lease IS NOT NULL "
	    "AND (?4 = 0 OR id = ?4)",
	    "iiti", args, "renewing task leases", NULL, cause);
}

static int
sqt_agent_add(
    void *b, const char *id, const char *name, const char *token_hash, int64_t now_ms, char **cause)
{
	const void *args[] = {id, name, token_hash, &now_ms};

	return exec_args(b,
	    "INSERT INTO agents (id, name, token_hash, created) VALUES (?, ?, ?, ?)", "ttti", args,
	    "adding an agent", NULL, cause);
}

static int
sqt_agent_by_token(void *b, const char *token_hash, char **id, char **cause)
{
	sqlite3_stmt *st = prep(b, "SELECT id FROM agents WHERE token_hash = ?", cause);
	int rc;

	if (st == NULL)
		return -1;
	store_sqlite_bind_text(st, 1, token_hash);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(b, st, "finding an agent", cause);
	if (rc == SQLITE_ROW)
		*id = xstrdup(store_sqlite_col_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : 0;
}

static int
sqt_agent_seen(void *b, const char *id, int64_t now_ms, char **cause)
{
	const void *args[] = {&now_ms, id};

	return exec_args(b, "UPDATE agents SET last_seen = ? WHERE id = ?", "it", args,
	    "updating an agent", NULL, cause);
}

static int
sqt_agent_remove(void *b, const char *id, char **cause)
{
	const void *args[] = {id};
	int n = 0;

	if (exec_args(b, "DELETE FROM agents WHERE id = ?", "t", args, "removing an agent", &n,
	        cause) != 0)
		return -1;
	return n > 0 ? 1 : 0;
}

static int
sqt_agent_list(void *b, store_row_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st =
	    prep(b, "SELECT id, name, created, last_seen FROM agents ORDER BY created, id", cause);

	return list_rows(b, st, &store_layout_agent, cb, arg, "listing agents", cause);
}

static int
sqt_enrol_add(void *b, const char *hash, int64_t now_ms, int64_t expires_ms, char **cause)
{
	const void *args[] = {hash, &now_ms, &expires_ms};

	return exec_args(b, "INSERT INTO enrolments (hash, created, expires) VALUES (?, ?, ?)",
	    "tii", args, "adding an enrolment secret", NULL, cause);
}

static int
sqt_enrol_use(void *b, const char *hash, const char *agent, int64_t now_ms, char **cause)
{
	const void *args[] = {&now_ms, agent, hash, &now_ms};
	int n = 0;

	if (exec_args(b,
	        "UPDATE enrolments SET used = ?, agent = ? WHERE hash = ? AND used IS "
	        "NULL AND expires > ?",
	        "itti", args, "using an enrolment secret", &n, cause) != 0)
		return -1;
	return n > 0 ? 1 : 0;
}

static int
sqt_ap_seen(void *b, const char *ssid, const char *agent, int rssi, int64_t now_ms, char **cause)
{
	int64_t r = rssi;
	const void *args[] = {ssid, agent, &r, &now_ms};

	return exec_args(b,
	    "INSERT INTO access_points (ssid, agent, rssi, seen) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT (ssid, agent) DO UPDATE SET rssi = excluded.rssi, seen = excluded.seen",
	    "ttii", args, "recording an access point", NULL, cause);
}

static int
sqt_ap_list(void *b, int64_t since_ms, store_row_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st = prep(b,
	    "SELECT ssid, agent, rssi, seen FROM access_points WHERE "
	    "seen >= ? ORDER BY seen DESC, ssid",
	    cause);

	if (st != NULL)
		sqlite3_bind_int64(st, 1, since_ms);
	return list_rows(b, st, &store_layout_ap, cb, arg, "listing access points", cause);
}

const struct store_task_ops sqlite_task_ops = {
    .add = sqt_add,
    .list = sqt_list,
    .take = sqt_take,
    .update = sqt_update,
    .renew = sqt_renew,
    .agent_add = sqt_agent_add,
    .agent_by_token = sqt_agent_by_token,
    .agent_seen = sqt_agent_seen,
    .agent_list = sqt_agent_list,
    .agent_remove = sqt_agent_remove,
    .enrol_add = sqt_enrol_add,
    .enrol_use = sqt_enrol_use,
    .ap_seen = sqt_ap_seen,
    .ap_list = sqt_ap_list,
};
