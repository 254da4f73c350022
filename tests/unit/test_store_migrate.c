#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/sqlite.h"
#include "store/store.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAC_A "aabbccddeeff"

static char *
tmp_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&dir, "%s/test_store_migrate.XXXXXX", base) < 0)
		abort();
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
tmp_free(char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *
path_in(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

/* Runs SQL on a database file through a plain connection (not the store). */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		print_error("%s: %s\n", sql, msg);
		fail();
	}
	sqlite3_close(db);
}

static int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The schema as text: every table, index and column definition. */
static char *
schema_of(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t len = 0, cap = 4096;
	char *out = calloc(1, cap);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT type || ' ' || name || ' ' || tbl_name "
	    "|| ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(st, 0);
		size_t n = strlen(row);

		while (len + n + 2 > cap)
			out = realloc(out, cap *= 2);
		memcpy(out + len, row, n);
		len += n;
		out[len++] = '\n';
		out[len] = '\0';
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static struct store *
open_ok(const char *path)
{
	struct store *s = NULL;
	char *cause = NULL;

	if (store_open(path, &s, &cause) != 0) {
		print_error("store_open %s: %s\n", path, cause);
		fail();
	}
	return s;
}

static int
count_cb(const void *x, void *arg)
{
	(void)x;
	++*(int *)arg;
	return 0;
}

static int
sample_count_cb(const struct store_sample *x, void *arg)
{
	return count_cb(x, arg);
}

static int
status_count_cb(const struct store_status *x, void *arg)
{
	return count_cb(x, arg);
}

static int
audit_count_cb(const struct store_audit *x, void *arg)
{
	return count_cb(x, arg);
}

static int
event_count_cb(const struct store_event *x, void *arg)
{
	return count_cb(x, arg);
}

static int
bucket_cb(const struct store_bucket *bk, void *arg)
{
	*(struct store_bucket *)arg = *bk;
	return 0;
}

static void
test_fresh_memory(void **state)
{
	struct store *s = NULL;
	char *cause = NULL;

	(void)state;
	assert_true(store_sqlite_schema_version() >= 3);
	assert_int_equal(store_open(":memory:", &s, &cause), 0);
	assert_int_equal(store_sqlite_user_version(s), store_sqlite_schema_version());
	/* Every table of the last step is usable. */
	assert_int_equal(store_lease_acquire(s, "poller", "me", 0, 1000, NULL, &cause), 1);
	assert_int_equal(store_integrity_check(s, &cause), 0);
	store_free(s);
}

/* Fills a database at schema version k with rows its tables allow. */
static void
fill_version(const char *path, int k)
{
	if (k >= 1)
		raw_exec(path,
		    "INSERT INTO devices (mac, id, gen, model, host, port, username, cred_ref, "
		    "  first_seen, last_seen) VALUES ('" MAC_A "', 'ShellyPlus1PM-AABBCCDDEEFF',"
		    "  2, 'SNSW-001P16EU', '127.0.0.1', 80, 'admin', 'file:/p', 1000, 2000);"
		    "INSERT INTO status (mac, ts, state, power_w, json)"
		    "  VALUES ('" MAC_A "', 2000, 'online', 12.5, '{\"a\":1}');"
		    "INSERT INTO history (mac, ts, power_w, online) VALUES ('" MAC_A "', 2000,"
		    "  12.5, 1);"
		    "INSERT INTO events (ts, mac, kind, detail) VALUES (2000, '" MAC_A "',"
		    "  'online', 'x');"
		    "INSERT INTO settings VALUES ('poll-interval-gen2', '10s');");
	if (k >= 2)
		raw_exec(path,
		    "UPDATE devices SET tls_pin = 'pin';"
		    "INSERT INTO history_5m (mac, bucket_ts, n, power_avg)"
		    "  VALUES ('" MAC_A "', 0, 3, 7.5);");
	if (k >= 3)
		raw_exec(path,
		    "INSERT INTO audit (ts, action) VALUES (5, 'add');"
		    "INSERT INTO lease VALUES ('poller', 'host-x', 0, 9000000000000000);");
}

/* Builds a database at every earlier version, fills it, and opens it with this binary. */
static void
test_migrate_each_version(void **state)
{
	const int n = store_sqlite_schema_version();
	char *dir = tmp_dir();
	char *fresh = path_in(dir, "fresh.db");
	char *want;
	struct store *s;

	(void)state;
	s = open_ok(fresh);
	store_free(s);
	want = schema_of(fresh);
	assert_non_null(strstr(want, "tls_pin"));
	assert_int_equal(raw_int(fresh, "PRAGMA application_id"), STORE_SQLITE_APPLICATION_ID);

	for (int k = 0; k < n; k++) {
		char name[32], *path, *got, *cause = NULL, *v;
		struct store_device *d;
		struct store_status *st;
		struct store_bucket bk = { .n = 0 };
		int count = 0;

		snprintf(name, sizeof name, "v%d.db", k);
		path = path_in(dir, name);
		assert_int_equal(store_sqlite_create_at_version(path, k, &cause), 0);
		assert_int_equal(raw_int(path, "PRAGMA user_version"), k);
		fill_version(path, k);

		s = open_ok(path);
		assert_int_equal(store_sqlite_user_version(s), n);
		if (k >= 1) {
			/* The data of version k is all there. */
			d = store_device_find_id(s, "shellyplus1pm-aabbccddeeff");
			assert_non_null(d);
			assert_string_equal(d->mac, MAC_A);
			assert_string_equal(d->user, "admin");
			assert_string_equal(d->cred_ref, "file:/p");
			assert_int_equal(d->last_seen_ms, 2000);
			if (k >= 2)
				assert_string_equal(d->tls_pin, "pin");
			else
				assert_null(d->tls_pin);
			store_device_free(d);
			st = store_status_get(s, MAC_A);
			assert_non_null(st);
			assert_string_equal(st->json, "{\"a\":1}");
			store_status_free(st);
			assert_int_equal(store_history_list(s, MAC_A, 0, 10000, sample_count_cb,
			    &count, &cause), 0);
			assert_int_equal(count, 1);
			count = 0;
			assert_int_equal(store_event_list(s, 0, 0, event_count_cb, &count, &cause),
			    0);
			assert_int_equal(count, 1);
			v = store_setting_get(s, "poll-interval-gen2");
			assert_string_equal(v, "10s");
			free(v);
		}
		assert_int_equal(store_history_buckets(s, MAC_A, 0, 1, bucket_cb, &bk, &cause), 0);
		assert_int_equal(bk.n, k >= 2 ? 3 : 0);
		count = 0;
		assert_int_equal(store_audit_list(s, 0, 0, audit_count_cb, &count, &cause), 0);
		assert_int_equal(count, k >= 3 ? 1 : 0);
		assert_int_equal(store_lease_acquire(s, "poller", "me", 1, 1000, NULL, &cause),
		    k >= 3 ? 0 : 1);
		assert_int_equal(store_integrity_check(s, &cause), 0);
		store_free(s);

		/* The migrated schema is exactly a new database's schema. */
		got = schema_of(path);
		assert_string_equal(got, want);
		free(got);
		assert_int_equal(raw_int(path, "PRAGMA application_id"),
		    STORE_SQLITE_APPLICATION_ID);

		/* Opening again changes nothing; the hook never downgrades. */
		s = open_ok(path);
		store_free(s);
		assert_int_equal(store_sqlite_create_at_version(path, 1, &cause), 0);
		assert_int_equal(raw_int(path, "PRAGMA user_version"), n);
		free(path);
	}
	free(want);
	free(fresh);
	tmp_free(dir);
}

static void
test_refuse_newer(void **state)
{
	const int n = store_sqlite_schema_version();
	char *dir = tmp_dir();
	char *path = path_in(dir, "newer.db");
	char sql[64], want[160];
	struct store *s = NULL;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_sqlite_create_at_version(path, n, &cause), 0);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", n + 1);
	raw_exec(path, sql);
	assert_int_equal(store_open(path, &s, &cause), -1);
	assert_null(s);
	snprintf(want, sizeof want, "database %s has schema version %d, newer than this "
	    "shelly-tui supports (%d)", path, n + 1, n);
	assert_non_null(strstr(cause, want));
	free(cause);
	/* The database is left as it was. */
	assert_int_equal(raw_int(path, "PRAGMA user_version"), n + 1);
	free(path);
	tmp_free(dir);
}

static void
test_refuse_foreign(void **state)
{
	char *dir = tmp_dir();
	char *other = path_in(dir, "other.db");
	char *versioned = path_in(dir, "versioned.db");
	char *text = path_in(dir, "text.db");
	struct store *s = NULL;
	char *cause = NULL;
	FILE *f;

	(void)state;
	umask(022);
	/* Someone else's SQLite database: tables but no version. */
	raw_exec(other, "CREATE TABLE foo (x)");
	assert_int_equal(store_open(other, &s, &cause), -1);
	assert_non_null(strstr(cause, "is not a shelly-tui database"));
	free(cause);
	cause = NULL;
	assert_int_equal(raw_int(other, "SELECT count(*) FROM sqlite_master"), 1);
	/* A versioned database of another application. */
	raw_exec(versioned, "CREATE TABLE foo (x); PRAGMA user_version = 2");
	assert_int_equal(store_open(versioned, &s, &cause), -1);
	assert_non_null(strstr(cause, "is not a shelly-tui database"));
	free(cause);
	cause = NULL;
	/* Not a database at all. */
	f = fopen(text, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, just some text that is long enough......"
	      "..........................................................................",
	    f);
	fclose(f);
	assert_int_equal(store_open(text, &s, &cause), -1);
	assert_non_null(strstr(cause, "file is not a database"));
	assert_non_null(strstr(cause, text));
	free(cause);
	/* Files that are not ours keep their mode. */
	assert_int_equal(mode_of(other), 0644);
	assert_int_equal(mode_of(text), 0644);
	free(other);
	free(versioned);
	free(text);
	tmp_free(dir);
}

/* A step that fails is rolled back whole and the version stays where it was. */
static void
test_failed_step_rolls_back(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "broken.db");
	struct store *s = NULL;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_sqlite_create_at_version(path, 1, &cause), 0);
	fill_version(path, 1);
	/* Step 2 creates history_5m: make that fail halfway through the step. */
	raw_exec(path, "CREATE TABLE history_5m (x)");
	assert_int_equal(store_open(path, &s, &cause), -1);
	assert_non_null(strstr(cause, "history_5m already exists"));
	assert_non_null(strstr(cause, "migrating the schema"));
	free(cause);
	assert_int_equal(raw_int(path, "PRAGMA user_version"), 1);
	/* The step's first statement (a new column) was rolled back with it. */
	assert_int_equal(raw_int(path,
	    "SELECT count(*) FROM pragma_table_info('devices') WHERE name = 'tls_pin'"), 0);
	assert_int_equal(raw_int(path,
	    "SELECT count(*) FROM sqlite_master WHERE name = 'devices_id'"), 0);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM devices"), 1);
	/* Repaired, the migration goes through. */
	raw_exec(path, "DROP TABLE history_5m");
	s = open_ok(path);
	assert_int_equal(store_sqlite_user_version(s), store_sqlite_schema_version());
	store_free(s);
	free(path);
	tmp_free(dir);
}

/* Overwrites page `page` (1-based) of the database file with garbage. */
static void
smash_page(const char *path, int64_t page)
{
	int64_t size = raw_int(path, "PRAGMA page_size");
	char *junk = malloc((size_t)size);
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	memset(junk, 0xa5, (size_t)size);
	assert_int_equal(pwrite(fd, junk, (size_t)size, (off_t)((page - 1) * size)), size);
	close(fd);
	free(junk);
}

/*
 * A corrupted table: its lists fail with SQLite's own message, not an empty cause (the
 * message used to be read before the list ran, so callers printed "-").
 */
static void
test_corrupt_table_says_why(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "corrupt.db");
	struct store *s = NULL;
	char *cause = NULL;
	int count = 0;

	(void)state;
	assert_int_equal(store_sqlite_create_at_version(path, store_sqlite_schema_version(),
	    &cause), 0);
	fill_version(path, 3);
	raw_exec(path, "PRAGMA journal_mode = DELETE");
	smash_page(path, raw_int(path, "SELECT rootpage FROM sqlite_master WHERE name = 'status'"));
	smash_page(path, raw_int(path, "SELECT rootpage FROM sqlite_master WHERE name = 'events'"));
	s = open_ok(path);
	assert_int_equal(store_status_list(s, status_count_cb, &count, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "malformed"));
	assert_non_null(strstr(cause, "reading status"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_event_list(s, 0, 0, event_count_cb, &count, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "reading events"));
	free(cause);
	assert_int_equal(count, 0);
	store_free(s);
	free(path);
	tmp_free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_memory),
		cmocka_unit_test(test_migrate_each_version),
		cmocka_unit_test(test_refuse_newer),
		cmocka_unit_test(test_refuse_foreign),
		cmocka_unit_test(test_failed_step_rolls_back),
		cmocka_unit_test(test_corrupt_table_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
