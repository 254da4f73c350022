/* store/cfgstore: snapshots with history, groups and members, desired fields, queued changes;
 * every call one transaction (a failing member rolls the whole batch back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cfgdesired.h"
#include "engine/cfggroup.h"
#include "engine/cfgpending.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/sqlite.h"
#include "store/store.h"

#define MAC_A "aabbccddeeff"
#define MAC_B "001122334455"

static char dir[64], path[96];

static struct store *
open_store(void)
{
	struct store *s = NULL;
	struct store_device d;
	char *cause = NULL;

	snprintf(dir, sizeof dir, "/tmp/test_cfgstore.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	if (store_open(path, &s, &cause) != 0)
		fail_msg("%s", cause);
	memset(&d, 0, sizeof d);
	memcpy(d.mac, MAC_A, 13);
	d.id = "shellyplus1-aabbccddeeff";
	assert_int_equal(store_device_upsert(s, &d, &cause), 0);
	memcpy(d.mac, MAC_B, 13);
	d.id = "shelly1-001122334455";
	assert_int_equal(store_device_upsert(s, &d, &cause), 0);
	return s;
}

static void
close_store(struct store *s)
{
	char p[128];

	store_free(s);
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

struct seen {
	int n;
	char first[128];
	int64_t ids[64];
};

static int
seen_cb(const struct cfgstore_row *r, void *arg)
{
	struct seen *s = arg;

	if (s->n == 0)
		snprintf(s->first, sizeof s->first, "%s|%s|%s|%s|%d",
		    r->name  ? r->name
		    : r->mac ? r->mac
		             : "-",
		    r->tmpl ? r->tmpl : "-", r->body ? r->body : "-", r->state ? r->state : "-",
		    r->members);
	if (s->n < 64)
		s->ids[s->n] = r->id;
	s->n++;
	return 0;
}

static int
ts_cb(const struct cfgstore_row *r, void *arg)
{
	*(int64_t *)arg = r->ts_ms;
	return 0;
}

static void
test_snapshots(void **state)
{
	struct store *s = open_store();
	struct seen seen = {0};
	char body[32], *cause = NULL;
	int64_t ts = 0;

	(void)state;
	for (int i = 0; i < CFGSTORE_SNAPSHOTS_KEPT + 5; i++) {
		snprintf(body, sizeof body, "sys.name = n%d\n", i);
		assert_int_equal(
		    cfgstore_snapshot_add(s, MAC_A, 1000 + i, 2, 1, 40 + i, "read", body, &cause),
		    0);
	}
	assert_int_equal(cfgstore_snapshots(s, MAC_A, 100, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, CFGSTORE_SNAPSHOTS_KEPT);
	assert_non_null(strstr(seen.first, "n24"));
	/* Reading an unchanged configuration again adds nothing: the history stays. */
	for (int i = 0; i < CFGSTORE_SNAPSHOTS_KEPT + 5; i++)
		assert_int_equal(
		    cfgstore_snapshot_add(s, MAC_A, 2000 + i, 2, 1, 64, "drift", body, &cause), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_snapshots(s, MAC_A, 100, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, CFGSTORE_SNAPSHOTS_KEPT);
	assert_non_null(strstr(seen.first, "n24"));
	assert_int_equal(cfgstore_snapshots(s, MAC_A, 1, ts_cb, &ts, &cause), 0);
	assert_int_equal(ts, 1000 + CFGSTORE_SNAPSHOTS_KEPT + 4);
	/* An unknown device gets no snapshot (and no error). */
	assert_int_equal(
	    cfgstore_snapshot_add(s, "ffffffffffff", 1, 1, 0, 0, "read", "x", &cause), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_snapshots(s, "ffffffffffff", 10, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 0);
	close_store(s);
}

/* The poller keeps a configuration reply as a snapshot even when it holds no field the model
 * knows (the record that the configuration changed); the front ends' cfgpending_keep keeps
 * nothing for an empty configuration. */
static void
test_snapshot_without_fields(void **state)
{
	struct store *s = open_store();
	struct seen seen = {0};
	struct devconfig c;
	char *cause = NULL;

	(void)state;
	assert_int_equal(cfgpending_snapshot(s, MAC_A, 2, 7, "cfg_rev changed", "{}", 2, &cause), 0);
	assert_int_equal(cfgstore_snapshots(s, MAC_A, 10, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 1);
	devconfig_init(&c);
	assert_int_equal(cfgpending_keep(s, MAC_B, &c, "read", &cause), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_snapshots(s, MAC_B, 10, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 0);
	devconfig_done(&c);
	close_store(s);
}

static void
test_groups(void **state)
{
	struct store *s = open_store();
	struct seen seen = {0};
	const char *both[] = {MAC_A, MAC_B}, *bad[] = {MAC_A, "ffffffffffff"};
	char *cause = NULL;

	(void)state;
	assert_int_equal(cfgstore_group_add(s, "office", both, 2, &cause), 0);
	assert_int_equal(cfgstore_group_template(s, "office", "plugs", &cause), 0);
	assert_int_equal(cfgstore_groups(s, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.first, "office|plugs|-|-|2");
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_group_members(s, "office", seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 2);
	/* A member that is not registered fails the whole batch: the group is not created. */
	assert_int_equal(cfgstore_group_add(s, "lab", bad, 2, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_groups(s, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 1);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_device_groups(s, MAC_B, seen_cb, &seen, &cause), 0);
	assert_string_equal(seen.first, "office|plugs|-|-|0");
	assert_int_equal(cfgstore_group_remove(s, "office", both, 1, &cause), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_group_members(s, "office", seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 1);
	/* Removing the device removes its memberships. */
	assert_int_equal(store_device_remove(s, MAC_B, &cause), 1);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_group_members(s, "office", seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(cfgstore_group_remove(s, "office", NULL, 0, &cause), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_groups(s, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 0);
	close_store(s);
}

static void
test_desired_pending(void **state)
{
	struct store *s = open_store();
	struct seen seen = {0};
	char *cause = NULL, *body;

	(void)state;
	assert_null(cfgstore_desired_get(s, MAC_A));
	assert_int_equal(cfgstore_desired_set(s, MAC_A, "sys.timezone = UTC\n", &cause), 0);
	assert_int_equal(
	    cfgstore_desired_set(s, MAC_A, "sys.timezone = Europe/Sofia\n", &cause), 0);
	body = cfgstore_desired_get(s, MAC_A);
	assert_string_equal(body, "sys.timezone = Europe/Sofia\n");
	free(body);

	assert_int_equal(cfgstore_pending_add(s, MAC_A, 10, "a = 1\n", 0, &cause), 0);
	assert_int_equal(
	    cfgstore_pending_add(s, MAC_A, 11, "b = 2\n", CFGSTORE_PENDING_REBOOT, &cause), 0);
	assert_int_equal(cfgstore_pending(s, NULL, "queued", seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 1); /* the newer one supersedes */
	assert_string_equal(seen.first, MAC_A "|-|b = 2\n|queued|0");
	assert_int_equal(cfgstore_pending_set(s, seen.ids[0], "applied", "ok", &cause), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_pending(s, MAC_A, "queued", seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(cfgstore_pending(s, MAC_A, NULL, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 2);
	close_store(s);
}

/* A change with a secret is not queued at all: the database never holds one, and the rest
 * of it alone (a WiFi network without its key) could cut the device off. */
static void
test_queue_refuses_secrets(void **state)
{
	struct store *s = open_store();
	struct seen seen = {0};
	struct devconfig c;
	char *cause = NULL;

	(void)state;
	devconfig_init(&c);
	devconfig_set(&c, DCFG_SYS_TIMEZONE, -1, DEVCONFIG_VALUE, "UTC");
	assert_true(cfgpending_queueable(&c));
	devconfig_set(&c, DCFG_MQTT_PASS, -1, DEVCONFIG_VALUE, "hunter2");
	assert_false(cfgpending_queueable(&c));
	assert_int_equal(cfgpending_queue(s, MAC_A, &c, false, false, &cause), -1);
	assert_string_equal(cause, "1 secret(s) not queued: a queued change never holds a secret; "
	                           "apply again when the device is online");
	free(cause);
	assert_int_equal(cfgstore_pending(s, MAC_A, NULL, seen_cb, &seen, &cause), 0);
	assert_int_equal(seen.n, 0);
	devconfig_done(&c);
	close_store(s);
}

/* A group fixing a static address takes one member, never a second (engine/cfggroup): the
 * console's "add marked devices" and --group-add share the rule. */
static void
test_group_fixed_value_one_member(void **state)
{
	struct store *s = open_store();
	const char *a[] = {MAC_A}, *both[] = {MAC_A, MAC_B, MAC_A}, *b[] = {MAC_B};
	char key[96], *cause = NULL, *why;

	(void)state;
	assert_int_equal(cfgstore_group_add(s, "g", a, 1, &cause), 0);
	cfgdesired_group_key("g", key, sizeof key);
	assert_int_equal(store_setting_set(s, key, "wifi.sta.ip = \"10.0.0.5\"\n", &cause), 0);
	assert_int_equal(cfggroup_members_after(s, "g", both, 3), 2);
	assert_null(cfggroup_add_refusal(s, "g", a, 1)); /* the member it has */
	why = cfggroup_add_refusal(s, "g", b, 1);
	assert_non_null(why);
	assert_non_null(strstr(why, "wifi.sta.ip: every member would get the same value"));
	free(why);
	assert_int_equal(
	    store_setting_set(s, key, "wifi.sta.ip = \"10.0.0.${index}\"\n", &cause), 0);
	assert_null(cfggroup_add_refusal(s, "g", b, 1));
	close_store(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshots),
	    cmocka_unit_test(test_snapshot_without_fields),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_group_fixed_value_one_member),
	    cmocka_unit_test(test_desired_pending),
	    cmocka_unit_test(test_queue_refuses_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
