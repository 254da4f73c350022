/*
 * The store's one record of failed writes (store_get_health): a flush, a lease write and a
 * settings write (device, setting, audit line) each mark it when they fail, say what failed
 * last and when, and the mark of a kind goes when a write of that kind works again. Faults
 * are SQLite triggers that refuse the writes of one table, as a full disk refuses them all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite.h"
#include "store/store.h"

#define MAC "aabbccddee01"

static struct store *
open_mem(void)
{
	struct store *s = NULL;
	char *cause = NULL;

	assert_int_equal(store_open(":memory:", &s, &cause), 0);
	return s;
}

static void
exec_ok(struct store *s, const char *sql)
{
	char *cause = NULL;

	if (store_sqlite_exec(s, sql, &cause) != 0)
		fail_msg("%s: %s", sql, cause);
}

/* Refuses every insert and update of table, with the message "disk I/O error (test)". */
static void
refuse(struct store *s, const char *table)
{
	char sql[512];

	snprintf(sql, sizeof sql,
	    "CREATE TRIGGER refuse_i_%s BEFORE INSERT ON %s BEGIN "
	    "SELECT RAISE(ABORT, 'disk I/O error (test)'); END; "
	    "CREATE TRIGGER refuse_u_%s BEFORE UPDATE ON %s BEGIN "
	    "SELECT RAISE(ABORT, 'disk I/O error (test)'); END;",
	    table, table, table, table);
	exec_ok(s, sql);
}

static void
allow(struct store *s, const char *table)
{
	char sql[256];

	snprintf(
	    sql, sizeof sql, "DROP TRIGGER refuse_i_%s; DROP TRIGGER refuse_u_%s;", table, table);
	exec_ok(s, sql);
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
flush(struct store *s)
{
	struct store_event ev = {.ts_ms = 1, .kind = "online"};
	char *cause = NULL;
	int rc;

	strcpy(ev.mac, MAC);
	store_queue_event(s, &ev);
	rc = store_flush(s, &cause);
	free(cause);
	return rc;
}

static int
lease(struct store *s)
{
	char *cause = NULL, *holder = NULL;
	int rc = store_lease_acquire(s, "poller", "me", wall_ms(), 1000, &holder, &cause);

	free(cause);
	free(holder);
	return rc < 0 ? -1 : 0;
}

static int
setting(struct store *s)
{
	char *cause = NULL;
	int rc = store_setting_set(s, "device-name:" MAC, "Hall lamp", &cause);

	free(cause);
	return rc;
}

static void
assert_failing(struct store *s, unsigned kinds, enum store_write last)
{
	struct store_health h;

	store_get_health(s, &h);
	assert_int_equal(h.failing, kinds);
	assert_false(store_healthy(s));
	assert_int_equal(h.last, last);
	assert_non_null(h.error);
	assert_ptr_equal(store_last_error(s), h.error);
	assert_non_null(strstr(h.error, store_write_name(last)));
	assert_non_null(strstr(h.error, "write failed: "));
	assert_non_null(strstr(h.error, "disk I/O error (test)"));
	assert_true(h.last_ms > 0 && h.last_ms <= wall_ms());
}

static void
assert_healthy(struct store *s)
{
	struct store_health h;

	store_get_health(s, &h);
	assert_int_equal(h.failing, 0);
	assert_true(store_healthy(s));
	assert_null(h.error);
	assert_null(store_last_error(s));
}

/* Each kind alone: fails, is told, and a write of that kind that works clears it. */
static void
test_each_kind(void **state)
{
	static const struct {
		const char *table;
		enum store_write kind;
		int (*write)(struct store *);
	} k[] = {
	    {"events", STORE_WRITE_FLUSH, flush},
	    {"lease", STORE_WRITE_LEASE, lease},
	    {"settings", STORE_WRITE_SETTINGS, setting},
	};

	(void)state;
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		struct store *s = open_mem();

		assert_healthy(s);
		assert_int_equal(k[i].write(s), 0);
		refuse(s, k[i].table);
		assert_int_equal(k[i].write(s), -1);
		assert_failing(s, 1u << k[i].kind, k[i].kind);
		assert_int_equal(k[i].write(s), -1); /* still failing, one mark */
		assert_failing(s, 1u << k[i].kind, k[i].kind);
		allow(s, k[i].table);
		assert_int_equal(k[i].write(s), 0);
		assert_healthy(s);
		store_free(s);
	}
}

/* A write of another kind that works clears nothing; the error told is the newest failing. */
static void
test_kinds_apart(void **state)
{
	struct store *s = open_mem();
	struct store_device d = {.name = "x"};
	char *cause = NULL;

	(void)state;
	strcpy(d.mac, MAC);
	refuse(s, "settings");
	refuse(s, "events");
	assert_int_equal(setting(s), -1);
	assert_failing(s, 1u << STORE_WRITE_SETTINGS, STORE_WRITE_SETTINGS);
	assert_int_equal(flush(s), -1);
	assert_failing(
	    s, (1u << STORE_WRITE_SETTINGS) | (1u << STORE_WRITE_FLUSH), STORE_WRITE_FLUSH);
	assert_int_equal(lease(s), 0);
	assert_failing(
	    s, (1u << STORE_WRITE_SETTINGS) | (1u << STORE_WRITE_FLUSH), STORE_WRITE_FLUSH);
	/* The flush works again: the settings write that failed is what is told now. */
	allow(s, "events");
	assert_int_equal(flush(s), 0);
	assert_failing(s, 1u << STORE_WRITE_SETTINGS, STORE_WRITE_SETTINGS);
	/* A device record is a settings write too; so are an audit line and a removal. */
	refuse(s, "devices");
	assert_int_equal(store_device_upsert(s, &d, &cause), -1);
	free(cause);
	cause = NULL;
	allow(s, "devices");
	allow(s, "settings");
	assert_failing(s, 1u << STORE_WRITE_SETTINGS, STORE_WRITE_SETTINGS);
	assert_int_equal(store_device_upsert(s, &d, &cause), 0);
	assert_healthy(s);
	/* Arguments refused before any write are no failed write. */
	assert_int_equal(store_setting_set(s, "", "v", &cause), -1);
	free(cause);
	assert_healthy(s);
	store_free(s);
}

/*
 * A settings write nobody repeats: a flush that works clears its mark only once the settle
 * time has passed since the last failed settings write (10 minutes; 0 here).
 */
static void
test_settings_settle(void **state)
{
	struct store *s = open_mem();

	(void)state;
	refuse(s, "settings");
	assert_int_equal(setting(s), -1);
	assert_int_equal(flush(s), 0); /* within the settle time: the mark stays */
	assert_failing(s, 1u << STORE_WRITE_SETTINGS, STORE_WRITE_SETTINGS);
	assert_int_equal(lease(s), 0); /* a lease write never clears it */
	store_set_health_settle(s, 0);
	assert_int_equal(lease(s), 0);
	assert_failing(s, 1u << STORE_WRITE_SETTINGS, STORE_WRITE_SETTINGS);
	assert_int_equal(flush(s), 0);
	assert_healthy(s);
	/* A flush never clears a failed flush's or lease's mark but by working itself. */
	refuse(s, "lease");
	assert_int_equal(lease(s), -1);
	assert_int_equal(flush(s), 0);
	assert_failing(s, 1u << STORE_WRITE_LEASE, STORE_WRITE_LEASE);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_kind),
	    cmocka_unit_test(test_kinds_apart),
	    cmocka_unit_test(test_settings_settle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
