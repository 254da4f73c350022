/*
 * The SQLite backend. One connection per store; statements are prepared once after the
 * schema is migrated and reset after every use; SQL takes bind parameters only. Every write
 * runs in a short BEGIN IMMEDIATE transaction (a flush is one transaction around many
 * put_* calls). Journal: WAL with synchronous=NORMAL, so a killed process loses at most the
 * transaction in flight and never corrupts the file.
 */
#include "store/sqlite.h"
#include "store/sqlite_task.h"

#include "util/dirs.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Schema migrations: append-only. Step i (1-based) brings user_version i-1 to i. Never edit
 * a released step; add a new one.
 */
static const char *const migrations[] = {
	/* 1: the base registry, latest status, raw history, events, settings. */
	"PRAGMA application_id = 1397245260;" /* STORE_SQLITE_APPLICATION_ID */
	"CREATE TABLE devices ("
	"  mac TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9a-f]*'),"
	"  id TEXT COLLATE NOCASE,"
	"  gen INTEGER,"
	"  model TEXT,"
	"  app TEXT,"
	"  fw TEXT,"
	"  name TEXT,"
	"  host TEXT,"
	"  port INTEGER,"
	"  scheme TEXT,"
	"  username TEXT,"
	"  cred_ref TEXT,"
	"  discovered_via TEXT,"
	"  first_seen INTEGER,"
	"  last_seen INTEGER"
	");"
	"CREATE TABLE status ("
	"  mac TEXT PRIMARY KEY NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  ts INTEGER NOT NULL,"
	"  state TEXT,"
	"  error TEXT,"
	"  power_w REAL,"
	"  energy_wh REAL,"
	"  temperature_c REAL,"
	"  rssi_dbm REAL,"
	"  uptime_s INTEGER,"
	"  outputs_on INTEGER,"
	"  fw_update INTEGER,"
	"  cfg_rev INTEGER,"
	"  json TEXT"
	");"
	"CREATE TABLE history ("
	"  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  ts INTEGER NOT NULL,"
	"  power_w REAL,"
	"  energy_wh REAL,"
	"  temperature_c REAL,"
	"  rssi_dbm REAL,"
	"  online INTEGER NOT NULL,"
	"  PRIMARY KEY (mac, ts)"
	") WITHOUT ROWID;"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  mac TEXT,"
	"  kind TEXT NOT NULL,"
	"  detail TEXT"
	");"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value TEXT NOT NULL"
	");",

	/* 2: TLS pin, lookup indexes, downsampled history. */
	"ALTER TABLE devices ADD COLUMN tls_pin TEXT;"
	"CREATE INDEX devices_id ON devices(id);"
	"CREATE INDEX devices_host ON devices(host, port);"
	"CREATE INDEX events_ts ON events(ts);"
	"CREATE TABLE history_5m ("
	"  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  bucket_ts INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  power_min REAL, power_avg REAL, power_max REAL,"
	"  temperature_min REAL, temperature_avg REAL, temperature_max REAL,"
	"  rssi_min REAL, rssi_avg REAL, rssi_max REAL,"
	"  energy_last REAL,"
	"  online_frac REAL,"
	"  PRIMARY KEY (mac, bucket_ts)"
	") WITHOUT ROWID;",

	/* 3: audit log and the poller lease. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  who TEXT,"
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  result TEXT,"
	"  detail TEXT"
	");"
	"CREATE TABLE lease ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  holder TEXT NOT NULL,"
	"  heartbeat_ts INTEGER NOT NULL,"
	"  expires_ts INTEGER NOT NULL"
	");",

	/* 4: configuration management: snapshots, groups and members, desired, pending. */
	"CREATE TABLE config_snapshots ("
	"  id INTEGER PRIMARY KEY,"
	"  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  ts INTEGER NOT NULL,"
	"  gen INTEGER,"
	"  cfg_rev REAL,"
	"  reason TEXT,"
	"  body TEXT NOT NULL"
	");"
	"CREATE INDEX config_snapshots_mac ON config_snapshots (mac, id);"
	"CREATE TABLE config_groups ("
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
	"  template TEXT"
	");"
	"CREATE TABLE config_members ("
	"  grp TEXT NOT NULL REFERENCES config_groups(name) ON DELETE CASCADE,"
	"  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  PRIMARY KEY (grp, mac)"
	") WITHOUT ROWID;"
	"CREATE INDEX config_members_mac ON config_members (mac);"
	"CREATE TABLE config_desired ("
	"  mac TEXT PRIMARY KEY NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  body TEXT NOT NULL"
	");"
	"CREATE TABLE config_pending ("
	"  id INTEGER PRIMARY KEY,"
	"  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,"
	"  ts INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'queued',"
	"  result TEXT"
	");"
	"CREATE INDEX config_pending_mac ON config_pending (mac, state);",

	/* 5: provisioning: agents, enrolment secrets, tasks, access points seen by agents. */
	"CREATE TABLE agents ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT,"
	"  token_hash TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  last_seen INTEGER"
	");"
	"CREATE TABLE enrolments ("
	"  hash TEXT PRIMARY KEY NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used INTEGER,"
	"  agent TEXT"
	");"
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  network TEXT NOT NULL,"
	"  key_ref TEXT,"
	"  name TEXT,"
	"  template TEXT,"
	"  pass_ref TEXT,"
	"  ap_off INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL DEFAULT 1,"
	"  agent TEXT,"
	"  lease INTEGER,"
	"  stage TEXT,"
	"  mac TEXT,"
	"  result TEXT,"
	"  reason TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL"
	");"
	"CREATE INDEX tasks_state ON tasks(state, id);"
	"CREATE TABLE access_points ("
	"  ssid TEXT NOT NULL,"
	"  agent TEXT NOT NULL,"
	"  rssi INTEGER,"
	"  seen INTEGER NOT NULL,"
	"  PRIMARY KEY (ssid, agent)"
	") WITHOUT ROWID;",

	/* 6: when a status row's reply was read (a failed poll keeps the last reply). */
	"ALTER TABLE status ADD COLUMN reply_ts INTEGER;"
	"UPDATE status SET reply_ts = ts WHERE state IN ('online', 'asleep') AND json IS NOT NULL;",

	/* 7: the version a device says it runs (Gen2+ /shelly "ver"; dev builds' fw_id has none). */
	"ALTER TABLE devices ADD COLUMN fw_version TEXT;",

	/* 8: the agent a task was taken back from (a late "configured" report of its is kept). */
	"ALTER TABLE tasks ADD COLUMN last_agent TEXT;",

	/* 9: what /shelly says of a device's authentication ("on", "off") and profile, so that
	 * --list tells them as --probe does. */
	"ALTER TABLE devices ADD COLUMN auth TEXT;"
	"ALTER TABLE devices ADD COLUMN profile TEXT;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

#define DEVICE_COLS                                                                      \
	"mac, id, gen, model, app, fw, name, host, port, scheme, username, cred_ref, "   \
	"tls_pin, discovered_via, first_seen, last_seen, fw_version, auth, profile"
#define STATUS_COLS                                                                      \
	"mac, ts, state, error, power_w, energy_wh, temperature_c, rssi_dbm, uptime_s, " \
	"outputs_on, fw_update, cfg_rev, json, reply_ts"
#define SAMPLE_COLS "mac, ts, power_w, energy_wh, temperature_c, rssi_dbm, online"
#define BUCKET_COLS                                                                      \
	"mac, bucket_ts, n, power_min, power_avg, power_max, temperature_min, "          \
	"temperature_avg, temperature_max, rssi_min, rssi_avg, rssi_max, energy_last, "  \
	"online_frac"
/*
 * A later time replaces an earlier one, except that a stored time more than a second in the
 * future (the wall clock was set back since it was written) gives way to any time: otherwise
 * the latest status and last-seen would stand still until the clock caught up.
 */
#define NEWER(ts, stored)                                                                \
	"(" ts " >= " stored " OR " stored " > "                                          \
	"(julianday('now') - 2440587.5) * 86400000.0 + 1000)"
/* Keep the stored value when the parameter is NULL, clear it when it is ''. */
#define KEEP(col, p) col " = CASE WHEN " p " IS NULL THEN " col " ELSE NULLIF(" p ", '') END"
/* Merge a minimum/maximum/average of a late batch into an existing bucket. */
#define MERGE_MIN(c) c " = min(COALESCE(" c ", excluded." c "), COALESCE(excluded." c ", " c "))"
#define MERGE_MAX(c) c " = max(COALESCE(" c ", excluded." c "), COALESCE(excluded." c ", " c "))"
#define MERGE_AVG(c)                                                                      \
	c " = CASE WHEN " c " IS NULL THEN excluded." c " WHEN excluded." c " IS NULL THEN " \
	c " ELSE (" c " * n + excluded." c " * excluded.n) / (n + excluded.n) END"

/* Every statement, prepared once after migration. */
#define STATEMENTS                                                                       \
	X(BEGIN, "BEGIN IMMEDIATE")                                                      \
	X(READ_BEGIN, "BEGIN DEFERRED")                                                  \
	X(COMMIT, "COMMIT")                                                              \
	X(ROLLBACK, "ROLLBACK")                                                          \
	X(DEV_UPSERT,                                                                    \
	    "INSERT INTO devices (" DEVICE_COLS ") VALUES (?1, NULLIF(?2, ''), "          \
	    "NULLIF(?3, 0), NULLIF(?4, ''), NULLIF(?5, ''), NULLIF(?6, ''), "             \
	    "NULLIF(?7, ''), NULLIF(?8, ''), NULLIF(?9, 0), NULLIF(?10, ''), "            \
	    "NULLIF(?11, ''), NULLIF(?12, ''), NULLIF(?13, ''), NULLIF(?14, ''), "        \
	    "COALESCE(NULLIF(?15, 0), NULLIF(?16, 0)), NULLIF(?16, 0), NULLIF(?17, ''), "  \
	    "NULLIF(?18, ''), NULLIF(?19, '')) "                                          \
	    "ON CONFLICT(mac) DO UPDATE SET " KEEP("id", "?2") ", "                        \
	    "gen = COALESCE(NULLIF(?3, 0), gen), " KEEP("model", "?4") ", "               \
	    KEEP("app", "?5") ", " KEEP("fw", "?6") ", " KEEP("fw_version", "?17") ", "   \
	    KEEP("name", "?7") ", "                                                       \
	    KEEP("host", "?8") ", port = COALESCE(NULLIF(?9, 0), port), "                 \
	    KEEP("scheme", "?10") ", " KEEP("username", "?11") ", "                       \
	    KEEP("cred_ref", "?12") ", " KEEP("tls_pin", "?13") ", "                      \
	    KEEP("discovered_via", "?14") ", " KEEP("auth", "?18") ", "                   \
	    KEEP("profile", "?19") ", "                                                   \
	    "first_seen = COALESCE(min(first_seen, NULLIF(?15, 0)), first_seen, "         \
	    "NULLIF(?15, 0)), "                                                           \
	    "last_seen = CASE WHEN NULLIF(?16, 0) IS NULL THEN last_seen "               \
	    "WHEN last_seen IS NULL OR " NEWER("?16", "last_seen") " THEN ?16 "         \
	    "ELSE last_seen END")                                                         \
	X(DEV_DELETE, "DELETE FROM devices WHERE mac = ?1")                              \
	X(DEV_BY_MAC, "SELECT " DEVICE_COLS " FROM devices WHERE mac = ?1")              \
	X(DEV_BY_ID,                                                                     \
	    "SELECT " DEVICE_COLS " FROM devices WHERE id = ?1 "                         \
	    "ORDER BY last_seen DESC, mac LIMIT 1")                                       \
	X(DEV_BY_HOST,                                                                   \
	    "SELECT " DEVICE_COLS " FROM devices WHERE host = ?1 COLLATE NOCASE "        \
	    "AND (?2 = 0 OR port = ?2) ORDER BY last_seen DESC, mac LIMIT 1")             \
	X(DEV_LIST, "SELECT " DEVICE_COLS " FROM devices ORDER BY mac")                  \
	X(DEV_MACS, "SELECT mac FROM devices ORDER BY mac")                              \
	X(SEEN_PUT,                                                                      \
	    "UPDATE devices SET last_seen = ?2 WHERE mac = ?1 AND (last_seen IS NULL "  \
	    "OR " NEWER("?2", "last_seen") ")")                                          \
	X(STATUS_PUT,                                                                    \
	    "INSERT INTO status (" STATUS_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "   \
	    "?8, ?9, ?10, ?11, ?12, ?13, COALESCE(NULLIF(?14, 0), ?2)) "                  \
	    "ON CONFLICT(mac) DO UPDATE SET ts = excluded.ts, "                           \
	    "state = excluded.state, error = excluded.error, "                           \
	    "power_w = excluded.power_w, energy_wh = excluded.energy_wh, "               \
	    "temperature_c = excluded.temperature_c, rssi_dbm = excluded.rssi_dbm, "     \
	    "uptime_s = excluded.uptime_s, outputs_on = excluded.outputs_on, "           \
	    "fw_update = excluded.fw_update, cfg_rev = excluded.cfg_rev, "               \
	    "json = excluded.json, reply_ts = excluded.reply_ts "                        \
	    "WHERE " NEWER("excluded.ts", "status.ts"))                                             \
	X(STATUS_PUT_STATE,                                                              \
	    "INSERT INTO status (" STATUS_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "   \
	    "?8, ?9, ?10, ?11, ?12, ?13, NULLIF(?14, 0)) ON CONFLICT(mac) DO UPDATE SET " \
	    "ts = excluded.ts, state = excluded.state, error = excluded.error "           \
	    "WHERE " NEWER("excluded.ts", "status.ts"))                                             \
	X(STATUS_GET, "SELECT " STATUS_COLS " FROM status WHERE mac = ?1")               \
	X(STATUS_LIST,                                                                   \
	    "SELECT mac, ts, state, error, power_w, energy_wh, temperature_c, rssi_dbm, "  \
	    "uptime_s, outputs_on, fw_update, cfg_rev, NULL, reply_ts FROM status "        \
	    "ORDER BY mac")                                                               \
	X(SAMPLE_PUT,                                                                    \
	    "INSERT INTO history (" SAMPLE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "  \
	    "ON CONFLICT(mac, ts) DO UPDATE SET power_w = excluded.power_w, "             \
	    "energy_wh = excluded.energy_wh, temperature_c = excluded.temperature_c, "    \
	    "rssi_dbm = excluded.rssi_dbm, online = excluded.online")                     \
	X(SAMPLE_LIST,                                                                   \
	    "SELECT " SAMPLE_COLS " FROM history WHERE mac = ?1 AND ts >= ?2 "           \
	    "AND ts < ?3 ORDER BY ts")                                                    \
	X(BUCKET_LIST,                                                                   \
	    "SELECT " BUCKET_COLS " FROM history_5m WHERE mac = ?1 AND bucket_ts >= ?2 " \
	    "AND bucket_ts < ?3 ORDER BY bucket_ts")                                      \
	X(EVENT_PUT,                                                                     \
	    "INSERT INTO events (ts, mac, kind, detail) VALUES (?1, NULLIF(?2, ''), ?3, " \
	    "?4)")                                                                        \
	X(EVENT_LIST,                                                                    \
	    "SELECT id, ts, mac, kind, detail FROM events WHERE id > ?1 ORDER BY id "    \
	    "LIMIT ?2")                                                                   \
	X(AUDIT_PUT,                                                                     \
	    "INSERT INTO audit (ts, who, action, target, result, detail) "               \
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                            \
	X(AUDIT_LIST,                                                                    \
	    "SELECT id, ts, who, action, target, result, detail FROM audit "             \
	    "WHERE id > ?1 ORDER BY id LIMIT ?2")                                         \
	X(SETTING_GET, "SELECT value FROM settings WHERE key = ?1")                      \
	X(SETTING_SET,                                                                   \
	    "INSERT INTO settings (key, value) VALUES (?1, ?2) "                         \
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value")                     \
	X(SETTING_DEL, "DELETE FROM settings WHERE key = ?1")                            \
	X(SETTING_LIST, "SELECT key, value FROM settings ORDER BY key")                  \
	X(LEASE_GET, "SELECT holder, expires_ts, heartbeat_ts FROM lease WHERE name = ?1") \
	X(LEASE_PUT,                                                                     \
	    "INSERT OR REPLACE INTO lease (name, holder, heartbeat_ts, expires_ts) "     \
	    "VALUES (?1, ?2, ?3, ?4)")                                                    \
	X(LEASE_BEAT,                                                                    \
	    "UPDATE lease SET heartbeat_ts = ?3, expires_ts = ?4 "                       \
	    "WHERE name = ?1 AND holder = ?2")                                            \
	X(LEASE_DEL, "DELETE FROM lease WHERE name = ?1 AND holder = ?2")                \
	X(PRUNE_AGG,                                                                     \
	    "INSERT INTO history_5m (" BUCKET_COLS ") "                                  \
	    "SELECT h.mac, (h.ts / ?2) * ?2 AS b, count(*), "                             \
	    "min(h.power_w), avg(h.power_w), max(h.power_w), "                            \
	    "min(h.temperature_c), avg(h.temperature_c), max(h.temperature_c), "         \
	    "min(h.rssi_dbm), avg(h.rssi_dbm), max(h.rssi_dbm), "                         \
	    "(SELECT e.energy_wh FROM history e WHERE e.mac = h.mac "                     \
	    "  AND e.ts >= (h.ts / ?2) * ?2 AND e.ts < (h.ts / ?2) * ?2 + ?2 "           \
	    "  AND e.energy_wh IS NOT NULL ORDER BY e.ts DESC LIMIT 1), "                 \
	    "avg(h.online) "                                                              \
	    "FROM history h WHERE h.mac = ?1 AND h.ts < ?3 GROUP BY b "                   \
	    "ON CONFLICT(mac, bucket_ts) DO UPDATE SET "                                  \
	    MERGE_MIN("power_min") ", " MERGE_AVG("power_avg") ", "                       \
	    MERGE_MAX("power_max") ", " MERGE_MIN("temperature_min") ", "                 \
	    MERGE_AVG("temperature_avg") ", " MERGE_MAX("temperature_max") ", "           \
	    MERGE_MIN("rssi_min") ", " MERGE_AVG("rssi_avg") ", "                         \
	    MERGE_MAX("rssi_max") ", "                                                    \
	    "energy_last = COALESCE(excluded.energy_last, energy_last), "                 \
	    MERGE_AVG("online_frac") ", n = n + excluded.n")                             \
	X(PRUNE_RAW, "DELETE FROM history WHERE mac = ?1 AND ts < ?2")                   \
	X(PRUNE_BUCKETS, "DELETE FROM history_5m WHERE mac = ?1 AND bucket_ts < ?2")     \
	X(PRUNE_EVENTS, "DELETE FROM events WHERE id IN "                                \
	    "(SELECT id FROM events WHERE ts < ?1 LIMIT ?2)")                             \
	X(PRUNE_AUDIT, "DELETE FROM audit WHERE id IN "                                  \
	    "(SELECT id FROM audit WHERE ts < ?1 LIMIT ?2)")                              \
	X(PAGE_COUNT, "PRAGMA page_count")                                               \
	X(PAGE_SIZE, "PRAGMA page_size")                                                 \
	X(DATA_VERSION, "PRAGMA data_version")

enum stmt {
#define X(name, sql) ST_##name,
	STATEMENTS
#undef X
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
#define X(name, sql) [ST_##name] = sql,
	STATEMENTS
#undef X
};

/* A list of MACs (sorted when read by ST_DEV_MACS). */
struct macs {
	char (*v)[STORE_MAC_LEN + 1];
	size_t n, cap;
};

struct sq {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	int batch; /* inside begin/commit: direct writes join that transaction */
	int reading; /* inside read_begin/read_end: cfg_batch reads join that transaction */
	/*
	 * The registered MACs, read once per write transaction for the status and history rows
	 * of a flush (rows of devices removed meanwhile are skipped); reg_valid until the
	 * transaction ends or this connection writes devices.
	 */
	struct macs reg;
	int reg_valid;
	sqlite3_stmt *cfg[SCS__COUNT]; /* prepared on first use (sq_cfg_batch) */
};

int
store_sqlite_error(sqlite3 *db, char **cause, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	*cause = xasprintf("%s: %s", db != NULL ? sqlite3_errmsg(db) : "out of memory", what);
	return -1;
}

static void
done(sqlite3_stmt *st)
{
	if (st == NULL)
		return; /* its preparation failed (stmt) */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * Statement i, prepared on its first use: a mode runs a few of them, and preparing all at
 * open was a good part of a short run's start-up. NULL when the preparation fails (logged;
 * SQLite's bind and step calls then fail cleanly with a misuse error).
 */
static sqlite3_stmt *
stmt(struct sq *b, enum stmt i)
{
	if (b->st[i] == NULL &&
	    sqlite3_prepare_v3(b->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &b->st[i],
	        NULL) != SQLITE_OK) {
		log_error("store: preparing statement %d (%s): %s", (int)i, b->path,
		    sqlite3_errmsg(b->db));
		sqlite3_finalize(b->st[i]);
		b->st[i] = NULL;
	}
	return b->st[i];
}

/*
 * Ends the steps of st (ok: they ended well): resets it, and fails with *cause naming what
 * and the file otherwise. The reason is read before the reset.
 */
static int
finish(struct sq *b, sqlite3_stmt *st, int ok, char **cause, const char *what)
{
	if (!ok)
		store_sqlite_error(b->db, cause, "%s (%s)", what, b->path);
	done(st);
	return ok ? 0 : -1;
}

/* Steps a statement that returns no rows; resets it. */
static int
run(struct sq *b, enum stmt i, char **cause, const char *what)
{
	sqlite3_stmt *st = stmt(b, i);
	int rc = sqlite3_step(st);

	return finish(b, st, rc == SQLITE_DONE || rc == SQLITE_ROW, cause, what);
}

void
store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v != STORE_NULL_INT)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

const char *
store_sqlite_col_text(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st, i);
}

static double
col_real(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NAN;
	return sqlite3_column_double(st, i);
}

static int64_t
col_int(sqlite3_stmt *st, int i, int64_t null)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return null;
	return sqlite3_column_int64(st, i);
}

static void
col_mac(sqlite3_stmt *st, int i, char mac[STORE_MAC_LEN + 1])
{
	const char *s = store_sqlite_col_text(st, i);
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > STORE_MAC_LEN)
		n = STORE_MAC_LEN;
	memcpy(mac, s != NULL ? s : "", n);
	mac[n] = '\0';
}

/* Transactions. */

static int
tx_begin(struct sq *b, char **cause)
{
	return run(b, ST_BEGIN, cause, "cannot start a write transaction");
}

static int
tx_commit(struct sq *b, char **cause)
{
	return run(b, ST_COMMIT, cause, "cannot commit");
}

static void
tx_rollback(struct sq *b)
{
	char *why = NULL;

	/* After SQLITE_FULL, IOERR or BUSY SQLite may already have rolled back. */
	if (sqlite3_get_autocommit(b->db))
		return;
	if (run(b, ST_ROLLBACK, &why, "cannot roll back") != 0) {
		log_error("store: %s", why);
		free(why);
	}
}

/* Ends what tx_begin began: commits when rc is 0, else (or when that fails) rolls back. */
static int
tx_end(struct sq *b, int rc, char **cause)
{
	if (rc == 0 && tx_commit(b, cause) == 0)
		return 0;
	tx_rollback(b);
	return -1;
}

/* Runs one statement (already bound) in its own transaction. */
static int
tx_run(struct sq *b, enum stmt i, char **cause, const char *what)
{
	if (b->batch)
		return run(b, i, cause, what);
	if (tx_begin(b, cause) != 0) {
		done(stmt(b, i));
		return -1;
	}
	return tx_end(b, run(b, i, cause, what), cause);
}

/* Opening and migration. */

static int
exec_sql(sqlite3 *db, const char *sql, char **cause, const char *what, const char *path)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		*cause = xasprintf("%s: %s (%s)", msg != NULL ? msg : sqlite3_errmsg(db), what,
		    path);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Runs a query returning one integer. */
static int
query_int(sqlite3 *db, const char *sql, int64_t *out, char **cause, const char *path)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_error(db, cause, "%s (%s)", sql, path);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		store_sqlite_error(db, cause, "%s (%s)", sql, path);
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Reads the schema version (inside the caller's transaction) and checks the file is ours. */
static int
schema_version(sqlite3 *db, const char *path, int64_t *version, char **cause)
{
	int64_t appid, ntables;

	if (query_int(db, "PRAGMA user_version", version, cause, path) != 0 ||
	    query_int(db, "PRAGMA application_id", &appid, cause, path) != 0 ||
	    query_int(db, "SELECT count(*) FROM sqlite_master", &ntables, cause, path) != 0)
		return -1;
	if ((*version == 0 && ntables > 0) ||
	    (*version > 0 && appid != STORE_SQLITE_APPLICATION_ID)) {
		*cause = xasprintf("%s is not a shelly-tui database", path);
		return -1;
	}
	if (*version > NMIGRATIONS) {
		*cause = xasprintf("database %s has schema version %lld, newer than this "
		    "shelly-tui supports (%d): use a newer shelly-tui or another database", path,
		    (long long)*version, NMIGRATIONS);
		return -1;
	}
	if (*version < 0) {
		*cause = xasprintf("database %s has an invalid schema version %lld", path,
		    (long long)*version);
		return -1;
	}
	return 0;
}

/*
 * Brings the schema to version target, one transaction per step. An up-to-date database is
 * only read (no write lock, so opening never waits for a busy writer). Otherwise the version
 * is re-read inside each write transaction, so two processes migrating at once do not collide.
 */
static int
migrate(sqlite3 *db, const char *path, int target, char **cause)
{
	int64_t version, from;
	char sql[64];

	if (exec_sql(db, "BEGIN", cause, "cannot read the database", path) != 0)
		return -1;
	if (schema_version(db, path, &from, cause) != 0)
		goto fail;
	if (exec_sql(db, "COMMIT", cause, "cannot read the database", path) != 0)
		goto fail;
	if (from >= target)
		return 0;
	for (;;) {
		if (exec_sql(db, "BEGIN IMMEDIATE", cause, "cannot lock the database", path) != 0)
			return -1;
		if (schema_version(db, path, &version, cause) != 0)
			goto fail;
		if (version >= target)
			break;
		if (exec_sql(db, migrations[version], cause, "migrating the schema", path) != 0)
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int)version + 1);
		if (exec_sql(db, sql, cause, "migrating the schema", path) != 0 ||
		    exec_sql(db, "COMMIT", cause, "migrating the schema", path) != 0)
			goto fail;
	}
	if (exec_sql(db, "COMMIT", cause, "cannot commit", path) != 0)
		goto fail;
	/* Creating a new database is not news; upgrading an existing one is. */
	if (from > 0 && version > from)
		log_info("store: database %s migrated from schema version %lld to %lld", path,
		    (long long)from, (long long)version);
	return 0;

fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Creates the file with mode 0600 before SQLite does (SQLite would honour the umask). */
static int
prepare_file(const char *path, int create, char **cause)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 && !create && errno == ENOENT) {
		*cause = xasprintf("no database at %s", path);
		return -1;
	}
	if (fd < 0) {
		*cause = xasprintf("cannot open database %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*cause = xasprintf("database %s is not a regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The database holds credential references and tokens: nobody else may read it. Applied
 * only once the file is known to be ours, so a wrong --db does not touch another file.
 */
static void
make_private(const char *path)
{
	struct stat st;

	if (strcmp(path, ":memory:") == 0 || stat(path, &st) != 0 || (st.st_mode & 077) == 0 ||
	    st.st_uid != geteuid())
		return;
	if (chmod(path, st.st_mode & 0700) == 0)
		log_warn("store: database %s was accessible to others; mode set to %04o", path,
		    (unsigned)(st.st_mode & 0700));
}

/*
 * SQLite's memory statistics (sqlite3_memory_used and the like), which nothing here reads,
 * take a global mutex and update counters around every allocation SQLite makes: thousands
 * per poll (SQLite is built without its lookaside allocator). Turned off before the first
 * connection; once SQLite is initialised (a test opened a database directly) the call fails
 * harmlessly and the statistics stay on.
 */
static void
sqlite_setup(void)
{
	static int done;

	if (!done) {
		done = 1;
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	}
}

/* Opens the connection (creating the file when create is set) and sets the pragmas every
 * connection needs. */
static int
db_connect(const char *path, int create, sqlite3 **out, char **cause)
{
	int memory = strcmp(path, ":memory:") == 0;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	const char *mode;

	*out = NULL;
	if (!memory && prepare_file(path, create, cause) != 0)
		return -1;
	sqlite_setup();
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_sqlite_error(db, cause, "cannot open database %s", path);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, STORE_BUSY_WAIT_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	/*
	 * The page cache: SQLite's default (2 MB) is most of a 1000-device poller's private
	 * memory; the working set (status rows, the tail of history) fits in far less.
	 */
	if (exec_sql(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; "
	    "PRAGMA cache_size = -" STORE_SQLITE_CACHE_KB, cause,
	    "cannot configure the database", path) != 0)
		goto fail;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		store_sqlite_error(db, cause, "cannot switch %s to WAL", path);
		sqlite3_finalize(st);
		goto fail;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (!memory && (mode == NULL || strcmp(mode, "wal") != 0))
		log_warn("store: database %s: WAL not available, journal mode is %s", path,
		    mode != NULL ? mode : "unknown");
	sqlite3_finalize(st);
	*out = db;
	return 0;

fail:
	sqlite3_close(db);
	return -1;
}

static void
sq_close(void *v)
{
	struct sq *b = v;

	if (b == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(b->st[i]); /* NULL when never used */
	for (int i = 0; i < SCS__COUNT; i++)
		sqlite3_finalize(b->cfg[i]);
	free(b->reg.v);
	dirs_unprotect(b->path);
	if (sqlite3_close(b->db) != SQLITE_OK)
		log_error("store: closing %s: %s", b->path, sqlite3_errmsg(b->db));
	free(b->path);
	free(b);
}

static int
sq_open(const char *path, int flags, void **out, char **cause)
{
	struct sq *b;
	mode_t mask;
	int rc;

	*out = NULL;
	b = xcalloc(1, sizeof *b);
	b->path = xstrdup(path);
	/* -wal and -shm are created while the umask forbids others (SQLite also copies the
	 * database file's mode to them). */
	mask = umask(077);
	rc = db_connect(path, !(flags & STORE_OPEN_EXISTING), &b->db, cause);
	if (rc == 0)
		rc = migrate(b->db, path, NMIGRATIONS, cause);
	if (rc == 0)
		make_private(path);
	umask(mask);
	if (rc != 0) {
		sq_close(b);
		return -1;
	}
	dirs_protect(path); /* no export or template may replace it */
	*out = b; /* statements are prepared on first use (stmt) */
	return 0;
}

/* Buffered writes. */

static int
sq_begin(void *v, char **cause)
{
	struct sq *b = v;

	if (tx_begin(b, cause) != 0)
		return -1;
	b->batch = 1;
	b->reg_valid = 0;
	return 0;
}

static int
sq_commit(void *v, char **cause)
{
	struct sq *b = v;

	b->batch = 0;
	b->reg_valid = 0;
	return tx_commit(b, cause);
}

static void
sq_rollback(void *v)
{
	struct sq *b = v;

	b->batch = 0;
	b->reg_valid = 0;
	tx_rollback(b);
}

/* Read snapshots: BEGIN DEFERRED takes the snapshot at the first read (WAL). */

static int
sq_read_begin(void *v, char **cause)
{
	struct sq *b = v;

	if (run(b, ST_READ_BEGIN, cause, "cannot start a read transaction") != 0)
		return -1;
	b->reading = 1;
	return 0;
}

static void
sq_read_end(void *v)
{
	struct sq *b = v;
	char *why = NULL;

	b->reading = 0;
	if (sqlite3_get_autocommit(b->db))
		return;
	/* a read transaction has nothing to lose: a failed COMMIT is rolled back */
	if (tx_commit(b, &why) != 0) {
		log_error("store: %s", why);
		free(why);
		tx_rollback(b);
	}
}

/*
 * Records are bound and read by their layout (store/backend.h): put_* binds the fields as
 * ?1.. and list and get statements select them in the same order, so one binder and one
 * reader serve every record. A setting read alone is the value column of its layout.
 */
static const struct store_layout rt_setting_value = { STORE_REC_SETTING,
	sizeof(struct store_setting), 1,
	{ { STORE_COL_STR, offsetof(struct store_setting, value) } } };

/* What each reading statement reads, and what its failure says. */
static const struct {
	const struct store_layout *type;
	const char *what;
} reads[ST_COUNT] = {
	[ST_DEV_BY_MAC] = { &store_layout_device, "looking up a device" },
	[ST_DEV_BY_ID] = { &store_layout_device, "looking up a device" },
	[ST_DEV_BY_HOST] = { &store_layout_device, "looking up a device" },
	[ST_DEV_LIST] = { &store_layout_device, "listing devices" },
	[ST_STATUS_GET] = { &store_layout_status, "reading status" },
	[ST_STATUS_LIST] = { &store_layout_status, "reading status" },
	[ST_SAMPLE_LIST] = { &store_layout_sample, "reading history" },
	[ST_BUCKET_LIST] = { &store_layout_bucket, "reading history" },
	[ST_EVENT_LIST] = { &store_layout_event, "reading events" },
	[ST_AUDIT_LIST] = { &store_layout_audit, "reading the audit log" },
	[ST_SETTING_GET] = { &rt_setting_value, "reading a setting" },
	[ST_SETTING_LIST] = { &store_layout_setting, "listing settings" },
};

/* Binds the fields of rec from column `from` on as ?1, ?2, ... */
static void
bind_rec(sqlite3_stmt *st, const struct store_layout *type, int from, const void *rec)
{
	for (int i = from; i < type->n; i++) {
		const void *f = (const char *)rec + type->f[i].off;
		int p = i - from + 1;

		switch (type->f[i].col) {
		case STORE_COL_MAC:
			store_sqlite_bind_text(st, p, f);
			break;
		case STORE_COL_TEXT:
		case STORE_COL_STR:
			store_sqlite_bind_text(st, p, *(const char *const *)f);
			break;
		case STORE_COL_INT:
			sqlite3_bind_int(st, p, *(const int *)f);
			break;
		case STORE_COL_BOOL:
			sqlite3_bind_int(st, p, *(const int *)f != 0);
			break;
		case STORE_COL_I64:
			sqlite3_bind_int64(st, p, *(const int64_t *)f);
			break;
		case STORE_COL_I64N:
			bind_int(st, p, *(const int64_t *)f);
			break;
		case STORE_COL_REAL:
			bind_real(st, p, *(const double *)f);
			break;
		}
	}
}

void
store_sqlite_read_rec(sqlite3_stmt *st, const struct store_layout *type, void *rec)
{
	memset(rec, 0, type->size);
	for (int i = 0; i < type->n; i++) {
		void *f = (char *)rec + type->f[i].off;
		const char *s;

		switch (type->f[i].col) {
		case STORE_COL_MAC:
			col_mac(st, i, f);
			break;
		case STORE_COL_TEXT:
			*(const char **)f = store_sqlite_col_text(st, i);
			break;
		case STORE_COL_STR:
			s = store_sqlite_col_text(st, i);
			*(const char **)f = s != NULL ? s : "";
			break;
		case STORE_COL_INT:
			*(int *)f = (int)col_int(st, i, 0);
			break;
		case STORE_COL_BOOL:
			*(int *)f = col_int(st, i, 0) != 0;
			break;
		case STORE_COL_I64:
			*(int64_t *)f = col_int(st, i, 0);
			break;
		case STORE_COL_I64N:
			*(int64_t *)f = col_int(st, i, STORE_NULL_INT);
			break;
		case STORE_COL_REAL:
			*(double *)f = col_real(st, i);
			break;
		}
	}
}

/* Binds rec to statement i and steps it, inside the current flush or in its own transaction. */
static int
put_rec(struct sq *b, enum stmt i, const struct store_layout *type, int from, const void *rec,
    char **cause, const char *what)
{
	bind_rec(stmt(b, i), type, from, rec);
	return tx_run(b, i, cause, what);
}

static int
sq_put_seen(void *v, const char *mac, int64_t ts_ms, char **cause)
{
	struct sq *b = v;
	sqlite3_stmt *st = stmt(b, ST_SEEN_PUT);

	store_sqlite_bind_text(st, 1, mac);
	sqlite3_bind_int64(st, 2, ts_ms);
	return run(b, ST_SEEN_PUT, cause, "writing last-seen times");
}

static int
sq_put_event(void *v, const struct store_event *ev, char **cause)
{
	return put_rec(v, ST_EVENT_PUT, &store_layout_event, 1, ev, cause, "writing events");
}

/* Steps st, calling row(st, arg) per row until it returns non-zero; resets st. */
static int
each_row(struct sq *b, enum stmt i, int (*row)(sqlite3_stmt *, void *), void *arg,
    char **cause, const char *what)
{
	sqlite3_stmt *st = stmt(b, i);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return finish(b, st, rc == SQLITE_DONE, cause, what);
}

static int
mac_row(sqlite3_stmt *st, void *arg)
{
	struct macs *macs = arg;

	macs->v = xgrowarray(macs->v, &macs->cap, macs->n, sizeof *macs->v);
	col_mac(st, 0, macs->v[macs->n++]);
	return 0;
}

static int
mac_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Whether mac is registered, from the MACs read once in this write transaction: one index
 * scan per flush instead of a lookup per row, and the rows are plain single-row upserts
 * (not INSERT ... SELECT ... WHERE EXISTS). 1 yes, 0 no, -1 error.
 */
static int
registered(struct sq *b, const char *mac, char **cause)
{
	if (!b->reg_valid) {
		b->reg.n = 0;
		if (each_row(b, ST_DEV_MACS, mac_row, &b->reg, cause, "listing devices") != 0)
			return -1;
		b->reg_valid = 1;
	}
	/* bsearch wants a non-null base even for no entries (no device registered) */
	return b->reg.n > 0 &&
	    bsearch(mac, b->reg.v, b->reg.n, sizeof *b->reg.v, mac_cmp) != NULL;
}

/* put_rec for the row of a registered device; a row of another MAC is skipped. */
static int
put_registered(struct sq *b, enum stmt i, const struct store_layout *type, const void *rec,
    const char *mac, char **cause, const char *what)
{
	int own = !b->batch, rc;

	if (own && sq_begin(b, cause) != 0)
		return -1;
	rc = registered(b, mac, cause);
	if (rc > 0) {
		bind_rec(stmt(b, i), type, 0, rec);
		rc = run(b, i, cause, what);
	}
	rc = rc < 0 ? -1 : 0;
	if (!own)
		return rc;
	b->batch = 0;
	b->reg_valid = 0;
	return tx_end(b, rc, cause); /* rolls back when rc or the commit fails */
}

static int
sq_put_status(void *v, const struct store_status *s, char **cause)
{
	return put_registered(v, s->keep_reply ? ST_STATUS_PUT_STATE : ST_STATUS_PUT,
	    &store_layout_status, s, s->mac, cause, "writing status");
}

static int
sq_put_sample(void *v, const struct store_sample *s, char **cause)
{
	return put_registered(
	    v, ST_SAMPLE_PUT, &store_layout_sample, s, s->mac, cause, "writing history");
}

/* A row callback and its argument, carried through each_row. */
struct relay {
	const struct store_layout *type;
	store_row_cb cb;
	void *arg;
};

static int
relay_row(sqlite3_stmt *st, void *arg)
{
	struct relay *r = arg;
	union {
		struct store_device d;
		struct store_status s;
		struct store_sample smp;
		struct store_bucket bk;
		struct store_event ev;
		struct store_audit a;
		struct store_setting set;
	} rec;

	store_sqlite_read_rec(st, r->type, &rec);
	return r->cb(&rec, r->arg);
}

/* Steps reading statement i (already bound), handing each row as its record to cb. */
static int
read_rows(struct sq *b, enum stmt i, store_row_cb cb, void *arg, char **cause)
{
	struct relay r = { reads[i].type, cb, arg };

	return each_row(b, i, relay_row, &r, cause, reads[i].what);
}

/* The first row of a statement, copied. */
struct first {
	const struct store_layout *type;
	void *got;
};

static int
first_cb(const void *row, void *arg)
{
	struct first *f = arg;

	f->got = store_record_dup(row, f->type);
	return 1;
}

/*
 * Reads the first row of statement i (bound): returns a copy of its record (caller frees) or
 * NULL; *rc is 1 found, 0 not found, -1 error.
 */
static void *
read_first(struct sq *b, enum stmt i, int *rc, char **cause)
{
	struct first f = { reads[i].type, NULL };

	*rc = read_rows(b, i, first_cb, &f, cause) != 0 ? -1 : f.got != NULL;
	return f.got;
}

/* Devices. */

static int
sq_device_upsert(void *v, const struct store_device *d, char **cause)
{
	((struct sq *)v)->reg_valid = 0;
	return put_rec(v, ST_DEV_UPSERT, &store_layout_device, 0, d, cause, "saving device");
}

static int
sq_device_delete(void *v, const char *mac, char **cause)
{
	struct sq *b = v;

	b->reg_valid = 0;
	store_sqlite_bind_text(stmt(b, ST_DEV_DELETE), 1, mac);
	if (tx_run(b, ST_DEV_DELETE, cause, "removing device") != 0)
		return -1;
	return sqlite3_changes(b->db) > 0 ? 1 : 0;
}

static int
sq_device_find(void *v, enum store_find how, const char *value, int port,
    struct store_device **out, char **cause)
{
	struct sq *b = v;
	enum stmt i = how == STORE_FIND_MAC ? ST_DEV_BY_MAC :
	    how == STORE_FIND_ID ? ST_DEV_BY_ID : ST_DEV_BY_HOST;
	sqlite3_stmt *st = stmt(b, i);
	int rc;

	store_sqlite_bind_text(st, 1, value);
	if (i == ST_DEV_BY_HOST)
		sqlite3_bind_int(st, 2, port);
	*out = read_first(b, i, &rc, cause);
	return rc;
}

static int
sq_device_list(void *v, store_row_cb cb, void *arg, char **cause)
{
	return read_rows(v, ST_DEV_LIST, cb, arg, cause);
}

/* Status, history, events, audit. */

static int
sq_status_get(void *v, const char *mac, struct store_status **out, char **cause)
{
	struct sq *b = v;
	int rc;

	store_sqlite_bind_text(stmt(b, ST_STATUS_GET), 1, mac);
	*out = read_first(b, ST_STATUS_GET, &rc, cause);
	return rc;
}

static int
sq_status_list(void *v, store_row_cb cb, void *arg, char **cause)
{
	return read_rows(v, ST_STATUS_LIST, cb, arg, cause);
}

/* Rows of statement i for one MAC with from_ms <= time < to_ms. */
static int
span_rows(struct sq *b, enum stmt i, const char *mac, int64_t from_ms, int64_t to_ms,
    store_row_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *st = stmt(b, i);

	store_sqlite_bind_text(st, 1, mac);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	return read_rows(b, i, cb, arg, cause);
}

static int
sq_history_list(void *v, const char *mac, int64_t from_ms, int64_t to_ms, store_row_cb cb,
    void *arg, char **cause)
{
	return span_rows(v, ST_SAMPLE_LIST, mac, from_ms, to_ms, cb, arg, cause);
}

static int
sq_bucket_list(void *v, const char *mac, int64_t from_ms, int64_t to_ms, store_row_cb cb,
    void *arg, char **cause)
{
	return span_rows(v, ST_BUCKET_LIST, mac, from_ms, to_ms, cb, arg, cause);
}

/* Rows of statement i with id > after_id, at most limit (0 none). */
static int
page_rows(struct sq *b, enum stmt i, int64_t after_id, size_t limit, store_row_cb cb,
    void *arg, char **cause)
{
	sqlite3_stmt *st = stmt(b, i);

	sqlite3_bind_int64(st, 1, after_id);
	/* SQLite's LIMIT takes a signed 64-bit integer; -1 means none. */
	sqlite3_bind_int64(st, 2, limit == 0 || limit > (size_t)INT64_MAX ? -1 : (int64_t)limit);
	return read_rows(b, i, cb, arg, cause);
}

static int
sq_event_list(void *v, int64_t after_id, size_t limit, store_row_cb cb, void *arg,
    char **cause)
{
	return page_rows(v, ST_EVENT_LIST, after_id, limit, cb, arg, cause);
}

static int
sq_audit_append(void *v, const struct store_audit *a, char **cause)
{
	return put_rec(v, ST_AUDIT_PUT, &store_layout_audit, 1, a, cause, "writing the audit log");
}

static int
sq_audit_list(void *v, int64_t after_id, size_t limit, store_row_cb cb, void *arg,
    char **cause)
{
	return page_rows(v, ST_AUDIT_LIST, after_id, limit, cb, arg, cause);
}

/* Settings. */

static int
sq_setting_get(void *v, const char *key, char **value, char **cause)
{
	struct sq *b = v;
	struct store_setting *set;
	int rc;

	store_sqlite_bind_text(stmt(b, ST_SETTING_GET), 1, key);
	set = read_first(b, ST_SETTING_GET, &rc, cause);
	*value = set != NULL ? xstrdup(set->value) : NULL;
	free(set);
	return rc;
}

static int
sq_setting_set(void *v, const char *key, const char *value, char **cause)
{
	struct sq *b = v;
	enum stmt i = value != NULL ? ST_SETTING_SET : ST_SETTING_DEL;

	store_sqlite_bind_text(stmt(b, i), 1, key);
	if (value != NULL)
		store_sqlite_bind_text(stmt(b, i), 2, value);
	return tx_run(b, i, cause, "writing a setting");
}

static int
sq_setting_list(void *v, store_row_cb cb, void *arg, char **cause)
{
	return read_rows(v, ST_SETTING_LIST, cb, arg, cause);
}

/* Configuration management (store/cfgstore.c). */

static const char *const cfg_sql[SCS__COUNT] = {
    /* a read snapshot: none when the device's newest one has the same body, so repeated
     * reads of an unchanged configuration do not push the history out */
    [SCS_SNAP_ADD] = "INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) "
                     "SELECT ?1, ?7, NULLIF(?8, 0), CAST(?4 AS REAL), ?2, ?3 "
                     "WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ?1) AND ?3 IS NOT "
                     "(SELECT body FROM config_snapshots WHERE mac = ?1 ORDER BY id DESC "
                     "LIMIT 1)",
    [SCS_SNAP_PRUNE] = "DELETE FROM config_snapshots WHERE mac = ?1 AND id NOT IN "
                       "(SELECT id FROM config_snapshots WHERE mac = ?1 ORDER BY id DESC "
                       "LIMIT ?7)",
    [SCS_SNAP_LIST] = "SELECT id, ts, gen, cfg_rev, reason, body FROM config_snapshots "
                      "WHERE mac = ?1 ORDER BY id DESC LIMIT ?7",
    [SCS_GROUP_ADD] = "INSERT OR IGNORE INTO config_groups (name) VALUES (?1)",
    [SCS_GROUP_TEMPLATE] = "UPDATE config_groups SET template = NULLIF(?2, '') WHERE name = ?1",
    [SCS_GROUP_DEL] = "DELETE FROM config_groups WHERE name = ?1",
    [SCS_GROUP_LIST] = "SELECT g.name, g.template, count(m.mac) FROM config_groups g "
                       "LEFT JOIN config_members m ON m.grp = g.name GROUP BY g.name "
                       "ORDER BY g.name",
    [SCS_MEMBER_ADD] = "INSERT OR IGNORE INTO config_members (grp, mac) VALUES (?1, ?2)",
    [SCS_MEMBER_DEL] = "DELETE FROM config_members WHERE grp = ?1 AND mac = ?2",
    [SCS_MEMBER_LIST] = "SELECT m.mac, g.template FROM config_members m JOIN config_groups g "
                        "ON g.name = m.grp WHERE m.grp = ?1 ORDER BY m.mac",
    [SCS_DEVICE_GROUPS] = "SELECT g.name, g.template FROM config_members m JOIN config_groups g "
                          "ON g.name = m.grp WHERE m.mac = ?1 ORDER BY g.name",
    [SCS_DESIRED_PUT] = "INSERT INTO config_desired (mac, body) SELECT ?1, ?2 WHERE EXISTS "
                        "(SELECT 1 FROM devices WHERE mac = ?1) "
                        "ON CONFLICT(mac) DO UPDATE SET body = excluded.body",
    [SCS_DESIRED_GET] = "SELECT body FROM config_desired WHERE mac = ?1",
    [SCS_PENDING_ADD] = "INSERT INTO config_pending (mac, ts, body, flags) VALUES (?1, ?7, ?2, ?8)",
    [SCS_PENDING_LIST] = "SELECT id, mac, ts, body, flags, state, result FROM config_pending "
                         "WHERE (?1 IS NULL OR mac = ?1) AND (?2 IS NULL OR state = ?2) "
                         "ORDER BY id",
    [SCS_PENDING_SET] = "UPDATE config_pending SET state = ?1, result = ?2 WHERE id = ?7",
    [SCS_PENDING_SUPERSEDE] = "UPDATE config_pending SET state = 'superseded' "
                              "WHERE mac = ?1 AND state = 'queued'",
    /* a restored snapshot: added unless the device's latest one has the same body */
    [SCS_SNAP_RESTORE] = "INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) "
                         "SELECT ?1, ?7, NULLIF(?8, 0), CAST(?4 AS REAL), ?2, ?3 "
                         "WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ?1) AND "
                         "?3 IS NOT (SELECT body FROM config_snapshots WHERE mac = ?1 "
                         "ORDER BY id DESC LIMIT 1)",
    [SCS_GROUP_CLEAR] = "DELETE FROM config_groups",
    [SCS_DESIRED_CLEAR] = "DELETE FROM config_desired",
    /* a snapshot of a restored history: added unless a newer or the same one is stored */
    [SCS_SNAP_HISTORY] = "INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) "
                         "SELECT ?1, ?7, NULLIF(?8, 0), CAST(?4 AS REAL), ?2, ?3 "
                         "WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ?1) AND NOT EXISTS "
                         "(SELECT 1 FROM config_snapshots WHERE mac = ?1 AND "
                         "(ts > ?7 OR (ts = ?7 AND body IS ?3)))",
};

/* Runs one step (preparing its statement on first use); rows go to cb. */
static int
cfg_step(struct sq *b, const struct store_cfg_step *s, store_cfg_row_cb cb, void *arg,
    char **cause)
{
	sqlite3_stmt *st;
	const char *cols[8];
	int rc, stop = 0;

	if ((int)s->stmt < 0 || s->stmt >= SCS__COUNT)
		return store_sqlite_error(NULL, cause, "bad configuration statement");
	if (b->cfg[s->stmt] == NULL &&
	    sqlite3_prepare_v3(b->db, cfg_sql[s->stmt], -1, SQLITE_PREPARE_PERSISTENT,
	        &b->cfg[s->stmt], NULL) != SQLITE_OK)
		return store_sqlite_error(
		    b->db, cause, "preparing a configuration statement (%s)", b->path);
	st = b->cfg[s->stmt];
	for (int i = 0; i < 6; i++)
		store_sqlite_bind_text(st, i + 1, s->text[i]);
	sqlite3_bind_int64(st, 7, s->num[0]);
	sqlite3_bind_int64(st, 8, s->num[1]);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		if (n > 8)
			n = 8;
		for (int i = 0; i < n; i++)
			cols[i] = (const char *)sqlite3_column_text(st, i);
		if (!stop && cb != NULL && cb(n, cols, arg) != 0)
			stop = 1;
	}
	return finish(b, st, rc == SQLITE_DONE, cause, "configuration store");
}

static int
sq_cfg_batch(void *v, const struct store_cfg_step *steps, size_t n, store_cfg_row_cb cb,
    void *arg, char **cause)
{
	struct sq *b = v;
	int rc = 0;

	/* inside begin..commit (store_import) or a read snapshot (an export) the caller ends
	 * the transaction */
	int joined = b->batch || b->reading;

	if (!joined && tx_begin(b, cause) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cfg_step(b, &steps[i], cb, arg, cause);
	return joined ? rc : tx_end(b, rc, cause);
}

/* Leases. */

/* Binds lease statement i: name, holder and, with a timeout, the heartbeat and expiry times. */
static void
lease_bind(struct sq *b, enum stmt i, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms)
{
	sqlite3_stmt *st = stmt(b, i);

	store_sqlite_bind_text(st, 1, name);
	store_sqlite_bind_text(st, 2, holder);
	if (timeout_ms > 0) {
		sqlite3_bind_int64(st, 3, now_ms);
		sqlite3_bind_int64(st, 4, now_ms + timeout_ms);
	}
}

static int
sq_lease_acquire(void *v, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms, char **holder_out, char **cause)
{
	struct sq *b = v;
	sqlite3_stmt *st = stmt(b, ST_LEASE_GET);
	char *other = NULL;
	int rc;

	*holder_out = NULL;
	if (tx_begin(b, cause) != 0)
		return -1;
	store_sqlite_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *h = store_sqlite_col_text(st, 0);

		/* Held until it expires. A heartbeat more than a lease timeout in the future
		 * was written before the wall clock was set back: the lease is taken rather
		 * than held until the clock catches up (a holder still alive finds out at its
		 * next heartbeat and stands by). */
		if (h != NULL && strcmp(h, holder) != 0 && col_int(st, 1, 0) > now_ms &&
		    col_int(st, 2, 0) <= now_ms + timeout_ms)
			other = xstrdup(h);
	} else if (rc != SQLITE_DONE) {
		store_sqlite_error(b->db, cause, "reading lease %s (%s)", name, b->path);
		done(st);
		tx_rollback(b);
		return -1;
	}
	done(st);
	if (other != NULL) {
		tx_rollback(b);
		*holder_out = other;
		return 0;
	}
	lease_bind(b, ST_LEASE_PUT, name, holder, now_ms, timeout_ms);
	return tx_end(b, run(b, ST_LEASE_PUT, cause, "taking a lease"), cause) == 0 ? 1 : -1;
}

static int
sq_lease_heartbeat(void *v, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms, char **cause)
{
	struct sq *b = v;

	lease_bind(b, ST_LEASE_BEAT, name, holder, now_ms, timeout_ms);
	if (tx_run(b, ST_LEASE_BEAT, cause, "renewing a lease") != 0)
		return -1;
	return sqlite3_changes(b->db) > 0 ? 1 : 0;
}

static int
sq_lease_release(void *v, const char *name, const char *holder, char **cause)
{
	lease_bind(v, ST_LEASE_DEL, name, holder, 0, 0);
	return tx_run(v, ST_LEASE_DEL, cause, "releasing a lease");
}

/* Maintenance. */

/* Aggregates, deletes raw samples and old buckets of one device in one transaction. */
static int
prune_device(struct sq *b, const char *mac, int64_t raw_cutoff_ms, int64_t bucket_ms,
    int64_t keep_cutoff_ms, char **cause)
{
	sqlite3_stmt *st;

	if (tx_begin(b, cause) != 0)
		return -1;
	st = stmt(b, ST_PRUNE_AGG);
	store_sqlite_bind_text(st, 1, mac);
	sqlite3_bind_int64(st, 2, bucket_ms);
	sqlite3_bind_int64(st, 3, raw_cutoff_ms);
	if (run(b, ST_PRUNE_AGG, cause, "downsampling history") != 0)
		goto fail;
	st = stmt(b, ST_PRUNE_RAW);
	store_sqlite_bind_text(st, 1, mac);
	sqlite3_bind_int64(st, 2, raw_cutoff_ms);
	if (run(b, ST_PRUNE_RAW, cause, "deleting old history") != 0)
		goto fail;
	st = stmt(b, ST_PRUNE_BUCKETS);
	store_sqlite_bind_text(st, 1, mac);
	sqlite3_bind_int64(st, 2, keep_cutoff_ms);
	if (run(b, ST_PRUNE_BUCKETS, cause, "deleting old history") != 0)
		goto fail;
	if (tx_commit(b, cause) != 0)
		goto fail;
	return 0;

fail:
	tx_rollback(b);
	return -1;
}

static int
sq_prune(void *v, int64_t raw_cutoff_ms, int64_t bucket_ms, int64_t keep_cutoff_ms,
    char **cause)
{
	struct sq *b = v;
	struct macs macs = { 0 };
	int rc = 0;

	/* History rows exist only for registered devices (foreign key, cascade). */
	if (each_row(b, ST_DEV_MACS, mac_row, &macs, cause, "listing devices") != 0)
		return -1;
	for (size_t i = 0; i < macs.n && rc == 0; i++)
		rc = prune_device(b, macs.v[i], raw_cutoff_ms, bucket_ms, keep_cutoff_ms, cause);
	free(macs.v);
	return rc;
}

#define PRUNE_LOG_BATCH 5000 /* rows deleted per transaction */

/* Deletes the rows of statement i older than cutoff_ms, PRUNE_LOG_BATCH per transaction. */
static int
prune_rows(struct sq *b, enum stmt i, int64_t cutoff_ms, int64_t *deleted, char **cause)
{
	int n;

	if (cutoff_ms < 0)
		return 0;
	do {
		sqlite3_stmt *st = stmt(b, i);

		sqlite3_bind_int64(st, 1, cutoff_ms);
		sqlite3_bind_int64(st, 2, PRUNE_LOG_BATCH);
		if (tx_run(b, i, cause, "deleting old events and audit records") != 0)
			return -1;
		n = sqlite3_changes(b->db);
		*deleted += n;
	} while (n >= PRUNE_LOG_BATCH);
	return 0;
}

static int
sq_prune_log(void *v, int64_t events_cutoff_ms, int64_t audit_cutoff_ms, int64_t *deleted,
    char **cause)
{
	if (prune_rows(v, ST_PRUNE_EVENTS, events_cutoff_ms, deleted, cause) != 0)
		return -1;
	return prune_rows(v, ST_PRUNE_AUDIT, audit_cutoff_ms, deleted, cause);
}

/* fsyncs a file or directory; best effort for directories. */
static int
sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * The file a backup to path replaces (caller frees): path, or the target of a symbolic link
 * there (the link is kept, as for --export -o). A backup is a database file: anything but a
 * regular file or a new name is refused.
 */
static char *
backup_target(const char *path, char **cause)
{
	struct stat st;
	char *why = NULL, *target = dirs_file_target(path, &st, &why);

	if (target == NULL) {
		*cause = why != NULL ? xasprintf("backup: %s", why)
		                     : xasprintf("backup: %s is not a regular file", path);
		free(why);
	}
	return target;
}

/* The backup onto path, a regular file or a new name. */
static int
sq_backup_to(struct sq *b, const char *path, char **cause)
{
	static const char *const side[] = { "-wal", "-shm", "-journal" };
	sqlite3_backup *bk;
	sqlite3 *dst = NULL;
	char *tmp, *dircopy;
	int fd, rc, tries = 0;

	tmp = xasprintf("%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		*cause = xasprintf("backup: cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		store_sqlite_error(dst, cause, "backup: cannot open %s", tmp);
		goto fail;
	}
	bk = sqlite3_backup_init(dst, "main", b->db, "main");
	if (bk == NULL) {
		store_sqlite_error(dst, cause, "backup of %s", b->path);
		goto fail;
	}
	/*
	 * All pages in one step: one read transaction, so the copy is a consistent snapshot
	 * even while other processes write (WAL readers do not block writers). The
	 * destination is private; busy/locked can only be transient.
	 */
	do {
		rc = sqlite3_backup_step(bk, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
	    ++tries < STORE_BUSY_WAIT_MS / 20);
	sqlite3_backup_finish(bk);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("%s: backup of %s to %s", sqlite3_errstr(rc), b->path, path);
		goto fail;
	}
	/* A backup is one self-contained file: rollback journal, no -wal beside it. */
	if (exec_sql(dst, "PRAGMA journal_mode = DELETE", cause, "backup", tmp) != 0)
		goto fail;
	if (sqlite3_close(dst) != SQLITE_OK) {
		store_sqlite_error(dst, cause, "backup: closing %s", tmp);
		goto fail;
	}
	dst = NULL;
	/* Side files of the file being replaced must not be applied to the copy. */
	for (size_t i = 0; i < sizeof side / sizeof side[0]; i++) {
		char *f = xasprintf("%s%s", path, side[i]);

		if (unlink(f) != 0 && errno != ENOENT)
			log_warn("store: backup: cannot remove %s: %s", f, strerror(errno));
		free(f);
	}
	if (sync_path(tmp, 0) != 0 || rename(tmp, path) != 0) {
		*cause = xasprintf("backup: cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	dircopy = xstrdup(path);
	sync_path(dirname(dircopy), 1);
	free(dircopy);
	free(tmp);
	return 0;

fail:
	sqlite3_close(dst);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
sq_backup(void *v, const char *path, char **cause)
{
	struct sq *b = v;
	struct stat a, t;
	char *target;
	int rc;

	/* Replacing the live database by its own copy would break every connection (its
	 * -wal and -shm files are refused by backup_target, as for every writer). */
	if (strcmp(b->path, ":memory:") != 0 && stat(path, &t) == 0 &&
	    stat(b->path, &a) == 0 && a.st_dev == t.st_dev && a.st_ino == t.st_ino) {
		*cause = xasprintf("backup: %s is the database itself", path);
		return -1;
	}
	if ((target = backup_target(path, cause)) == NULL)
		return -1;
	rc = sq_backup_to(v, target, cause);
	free(target);
	return rc;
}

static int
sq_integrity_check(void *v, char **cause)
{
	static const char *const checks[] = {
		"PRAGMA integrity_check(20)",
		"PRAGMA foreign_key_check",
	};
	struct sq *b = v;
	sqlite3_stmt *st = NULL;
	char *problems = NULL, *p;
	int rc, nproblems = 0;

	for (size_t c = 0; c < sizeof checks / sizeof checks[0]; c++) {
		if (sqlite3_prepare_v2(b->db, checks[c], -1, &st, NULL) != SQLITE_OK) {
			free(problems);
			return store_sqlite_error(b->db, cause, "checking %s", b->path);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *msg;

			if (c == 0) {
				msg = (const char *)sqlite3_column_text(st, 0);
				if (msg != NULL && strcmp(msg, "ok") == 0)
					continue;
				p = xasprintf("%s%s%s", problems ? problems : "",
				    problems ? "; " : "", msg ? msg : "?");
			} else {
				msg = (const char *)sqlite3_column_text(st, 0);
				p = xasprintf("%s%sforeign key violation in %s row %lld",
				    problems ? problems : "", problems ? "; " : "",
				    msg ? msg : "?", (long long)sqlite3_column_int64(st, 1));
			}
			free(problems);
			problems = p;
			nproblems++;
		}
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			free(problems);
			return store_sqlite_error(b->db, cause, "checking %s", b->path);
		}
		sqlite3_finalize(st);
	}
	if (nproblems > 0) {
		*cause = xasprintf("database %s is damaged: %s", b->path, problems);
		free(problems);
		return -1;
	}
	return 0;
}

static int64_t
pragma_value(struct sq *b, enum stmt i)
{
	sqlite3_stmt *st = stmt(b, i);
	int64_t v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	done(st);
	return v;
}

static int64_t
sq_size_bytes(void *v)
{
	int64_t pages = pragma_value(v, ST_PAGE_COUNT);
	int64_t size = pragma_value(v, ST_PAGE_SIZE);

	if (pages < 0 || size <= 0 || pages > INT64_MAX / size)
		return -1;
	return pages * size;
}

/* Other connections' commits move data_version; this connection's own count its changes. */
static int64_t
sq_data_version(void *v)
{
	struct sq *b = v;

	return pragma_value(b, ST_DATA_VERSION) + (int64_t)sqlite3_total_changes64(b->db);
}

static void
sq_set_busy_wait(void *v, int ms)
{
	sqlite3_busy_timeout(((struct sq *)v)->db, ms);
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.put_seen = sq_put_seen,
	.put_status = sq_put_status,
	.put_sample = sq_put_sample,
	.put_event = sq_put_event,
	.device_upsert = sq_device_upsert,
	.device_delete = sq_device_delete,
	.device_find = sq_device_find,
	.device_list = sq_device_list,
	.status_get = sq_status_get,
	.status_list = sq_status_list,
	.history_list = sq_history_list,
	.bucket_list = sq_bucket_list,
	.event_list = sq_event_list,
	.audit_append = sq_audit_append,
	.audit_list = sq_audit_list,
	.setting_get = sq_setting_get,
	.setting_set = sq_setting_set,
	.setting_list = sq_setting_list,
	.lease_acquire = sq_lease_acquire,
	.lease_heartbeat = sq_lease_heartbeat,
	.lease_release = sq_lease_release,
	.prune = sq_prune,
	.prune_log = sq_prune_log,
	.cfg_batch = sq_cfg_batch,
	.set_busy_wait = sq_set_busy_wait,
	.backup = sq_backup,
	.integrity_check = sq_integrity_check,
	.size_bytes = sq_size_bytes,
	.data_version = sq_data_version,
	.tasks = &sqlite_task_ops,
};

const struct store_ops *
store_sqlite_ops(void)
{
	return &sqlite_ops;
}

int
store_sqlite_schema_version(void)
{
	return NMIGRATIONS;
}

int
store_sqlite_create_at_version(const char *path, int version, char **cause)
{
	sqlite3 *db;
	int rc;

	if (version < 0 || version > NMIGRATIONS) {
		*cause = xasprintf("no schema version %d", version);
		return -1;
	}
	if (db_connect(path, 1, &db, cause) != 0)
		return -1;
	rc = migrate(db, path, version, cause);
	sqlite3_close(db);
	return rc;
}

static struct sq *
sqlite_of(struct store *s)
{
	return store_backend_ops(s) == &sqlite_ops ? store_backend_handle(s) : NULL;
}

int
store_sqlite_user_version(struct store *s)
{
	struct sq *b = sqlite_of(s);
	int64_t v;
	char *why = NULL;

	if (b == NULL)
		return -1;
	if (query_int(b->db, "PRAGMA user_version", &v, &why, b->path) != 0) {
		free(why);
		return -1;
	}
	return (int)v;
}

int
store_sqlite_exec(struct store *s, const char *sql, char **cause)
{
	struct sq *b = sqlite_of(s);

	if (b == NULL) {
		*cause = xstrdup("not an SQLite store");
		return -1;
	}
	b->reg_valid = 0; /* the SQL may change devices */
	return exec_sql(b->db, sql, cause, "exec", b->path);
}

void
store_sqlite_keep_wal(struct store *s)
{
	struct sq *b = sqlite_of(s);

	if (b != NULL)
		sqlite3_db_config(b->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
}

sqlite3 *
store_sqlite_conn(void *b)
{
	return ((struct sq *)b)->db;
}
