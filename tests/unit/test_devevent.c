/*
 * engine/devevent and its users: an event and an audit record for one device, and cfgmove's
 * re-addressed device (ip_changed event, "readdress" audit, new host) written through it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cfgapply.h"
#include "engine/cfgmove.h"
#include "engine/devevent.h"
#include "store/sqlite.h"
#include "store/store.h"

#define MAC "aabbccddeeff"

/* What the store holds after a test: the last event and audit record, and their counts. */
struct seen {
	int events, audits;
	char kind[32], ev_mac[16], ev_detail[128];
	char who[16], action[16], target[16], result[8], au_detail[128];
	int64_t ev_ts, au_ts;
};

static void
copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s != NULL ? s : "(null)");
}

static int
event_cb(const struct store_event *ev, void *arg)
{
	struct seen *s = arg;

	s->events++;
	copy(s->kind, sizeof s->kind, ev->kind);
	copy(s->ev_mac, sizeof s->ev_mac, ev->mac);
	copy(s->ev_detail, sizeof s->ev_detail, ev->detail);
	s->ev_ts = ev->ts_ms;
	return 0;
}

static int
audit_cb(const struct store_audit *a, void *arg)
{
	struct seen *s = arg;

	s->audits++;
	copy(s->who, sizeof s->who, a->who);
	copy(s->action, sizeof s->action, a->action);
	copy(s->target, sizeof s->target, a->target);
	copy(s->result, sizeof s->result, a->result);
	copy(s->au_detail, sizeof s->au_detail, a->detail);
	s->au_ts = a->ts_ms;
	return 0;
}

static struct store *
open_with_device(void)
{
	struct store_device d = {.gen = 2, .host = "127.0.0.5", .port = 8080, .first_seen_ms = 1};
	struct store *st = NULL;
	char *cause = NULL;

	assert_int_equal(store_open(":memory:", &st, &cause), 0);
	strcpy(d.mac, MAC);
	assert_int_equal(store_device_upsert(st, &d, &cause), 0);
	return st;
}

static struct seen
seen_in(struct store *st)
{
	struct seen s;
	char *cause = NULL;

	memset(&s, 0, sizeof s);
	assert_int_equal(store_flush(st, &cause), 0);
	assert_int_equal(store_event_list(st, 0, 100, event_cb, &s, &cause), 0);
	assert_int_equal(store_audit_list(st, 0, 100, audit_cb, &s, &cause), 0);
	return s;
}

static void
test_event_and_audit(void **state)
{
	struct store *st = open_with_device();
	struct seen s;

	(void)state;
	assert_int_equal(
	    devevent_record(st, MAC, "ip_changed", "a -> b", "cli", "readdress", 1234, NULL), 0);
	s = seen_in(st);
	assert_int_equal(s.events, 1);
	assert_string_equal(s.kind, "ip_changed");
	assert_string_equal(s.ev_mac, MAC);
	assert_string_equal(s.ev_detail, "a -> b");
	assert_int_equal(s.ev_ts, 1234);
	assert_int_equal(s.audits, 1);
	assert_string_equal(s.who, "cli");
	assert_string_equal(s.action, "readdress");
	assert_string_equal(s.target, MAC);
	assert_string_equal(s.result, "ok");
	assert_string_equal(s.au_detail, "a -> b");
	assert_int_equal(s.au_ts, 1234);
	store_free(st);
}

/* No kind: an audit record only; no action: an event only. */
static void
test_either_half(void **state)
{
	struct store *st = open_with_device();
	struct seen s;

	(void)state;
	assert_int_equal(devevent_record(st, MAC, NULL, NULL, "console", "remove", 5, NULL), 0);
	s = seen_in(st);
	assert_int_equal(s.events, 0);
	assert_int_equal(s.audits, 1);
	assert_string_equal(s.action, "remove");
	assert_string_equal(s.au_detail, "(null)");
	assert_int_equal(devevent_record(st, MAC, "mac_conflict", "x", NULL, NULL, 6, NULL), 0);
	s = seen_in(st);
	assert_int_equal(s.events, 1);
	assert_string_equal(s.kind, "mac_conflict");
	assert_int_equal(s.audits, 1);
	store_free(st);
}

/* cfgmove: the registry follows, with the event and audit record it always wrote. */
static void
test_cfgmove_record(void **state)
{
	struct store *st = open_with_device();
	struct cfgapply_result r;
	struct store_device *d;
	struct seen s;
	char *cause = NULL;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(cfgmove_record(st, MAC, &r, "queue", &cause), 0); /* not moved */
	s = seen_in(st);
	assert_int_equal(s.events + s.audits, 0);
	r.moved_from = "127.0.0.5";
	r.moved_to = "127.0.0.9";
	assert_int_equal(cfgmove_record(st, MAC, &r, "queue", &cause), 0);
	d = store_device_find_mac(st, MAC);
	assert_non_null(d);
	assert_string_equal(d->host, "127.0.0.9");
	assert_int_equal(d->port, 8080);
	store_device_free(d);
	s = seen_in(st);
	assert_int_equal(s.events, 1);
	assert_string_equal(s.kind, "ip_changed");
	assert_string_equal(s.ev_detail, "127.0.0.5:8080 -> 127.0.0.9:8080 (static address set)");
	assert_int_equal(s.audits, 1);
	assert_string_equal(s.who, "queue");
	assert_string_equal(s.action, "readdress");
	assert_string_equal(s.target, MAC);
	assert_string_equal(s.au_detail, s.ev_detail);
	assert_int_equal(s.au_ts, s.ev_ts);
	assert_true(s.ev_ts > 0);
	store_free(st);
}

/* The busy handler of the moving connection: the other one commits its removal now. */
static int
commit_removal_cb(void *arg, int tries)
{
	return tries == 0 && sqlite3_exec(arg, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
}

/*
 * A device removed (by another process) while the move is recorded stays removed: the
 * removal commits after cfgmove read the device and before it wrote (old code: a row holding
 * only the MAC and the new address came back).
 */
static void
test_cfgmove_removed_meanwhile(void **state)
{
	char dir[] = "/tmp/test_devevent.XXXXXX", path[64];
	struct store *st = NULL, *other = NULL;
	struct store_device d = {.gen = 2, .host = "127.0.0.5", .port = 8080, .first_seen_ms = 1};
	struct cfgapply_result r;
	struct store_device *got;
	sqlite3 *odb;
	char *cause = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	assert_int_equal(store_open(path, &st, &cause), 0);
	assert_int_equal(store_open(path, &other, &cause), 0);
	strcpy(d.mac, MAC);
	assert_int_equal(store_device_upsert(st, &d, &cause), 0);
	odb = store_sqlite_conn(store_backend_handle(other));
	assert_int_equal(
	    sqlite3_exec(odb, "BEGIN IMMEDIATE; DELETE FROM devices", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_busy_handler(store_sqlite_conn(store_backend_handle(st)), commit_removal_cb, odb);
	memset(&r, 0, sizeof r);
	r.moved_from = "127.0.0.5";
	r.moved_to = "127.0.0.9";
	cfgmove_record(st, MAC, &r, "queue", &cause);
	free(cause);
	assert_true(sqlite3_get_autocommit(odb)); /* the removal did commit */
	got = store_device_find_mac(st, MAC);
	assert_null(got);
	store_free(other);
	store_free(st);
	unlink(path);
	snprintf(path, sizeof path, "%s/s.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/s.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_and_audit),
	    cmocka_unit_test(test_either_half),
	    cmocka_unit_test(test_cfgmove_record),
	    cmocka_unit_test(test_cfgmove_removed_meanwhile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
