/*
 * engine/standbyview: a standing-by fleet's view of the leader's results in the store. It
 * follows the leader's writes, reads nothing while the store did not change, and keeps its
 * last good read (saying why) when a read fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/poller.h"
#include "engine/standbyview.h"
#include "store/store.h"
#include "util/loop.h"

#define MAC "a8032a000001"

struct world {
	struct store *leader, *standby; /* two connections to one database, as two processes */
	struct standbyview *sv;
	char dir[64], path[96];
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	struct store_device d = {.gen = 2,
	    .id = "shellyplus1pm-a8032a000001",
	    .name = "Kitchen",
	    .host = "127.0.0.3",
	    .port = 80};
	char *cause = NULL;

	strcpy(w->dir, "/tmp/test_standbyview.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(w->path, sizeof w->path, "%s/db", w->dir);
	if (store_open(w->path, &w->leader, &cause) != 0 ||
	    store_open(w->path, &w->standby, &cause) != 0)
		fail_msg("store_open: %s", cause);
	strcpy(d.mac, MAC);
	assert_int_equal(store_device_upsert(w->leader, &d, &cause), 0);
	w->sv = standbyview_new(w->standby);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	standbyview_free(w->sv);
	store_free(w->standby);
	store_free(w->leader);
	snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

/* The leader's poll of MAC: online, switch:0 on or off. */
static void
leader_writes(struct world *w, int on)
{
	struct store_status ss;
	char json[96], *cause = NULL;

	snprintf(json, sizeof json, "{\"switch:0\":{\"id\":0,\"output\":%s,\"apower\":5}}",
	    on ? "true" : "false");
	memset(&ss, 0, sizeof ss);
	memcpy(ss.mac, MAC, sizeof ss.mac);
	ss.ts_ms = loop_wall_ms();
	ss.state = "online";
	ss.power_w = ss.energy_wh = ss.temperature_c = ss.rssi_dbm = NAN;
	ss.uptime_s = ss.outputs_on = ss.fw_update = ss.cfg_rev = STORE_NULL_INT;
	ss.json = json;
	assert_int_equal(store_queue_status(w->leader, &ss), 0);
	if (store_flush(w->leader, &cause) != 0)
		fail_msg("store_flush: %s", cause);
}

/* What one pass shows of the device. */
struct seen {
	int n;
	const char *name; /* the pointer: the same one while nothing was read again */
	int known;
	enum device_state state;
	double output;
};

static void
seen_cb(const struct fleet_view *v, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->name = v->name;
	s->known = v->known;
	s->state = v->state;
	s->output = NAN;
	for (size_t i = 0; i < v->nsamples; i++)
		if (v->samples[i].kind == PS_OUTPUT)
			s->output = v->samples[i].value;
}

static struct seen
pass(struct world *w)
{
	struct seen s;

	memset(&s, 0, sizeof s);
	standbyview_foreach(w->sv, seen_cb, &s);
	return s;
}

static void
test_follows_the_leader(void **state)
{
	struct world *w = *state;
	struct fleet_totals t;
	struct seen a, b, c;

	memset(&t, 0, sizeof t);
	assert_int_equal(standbyview_counts(w->sv, &t), -1); /* nothing read yet */
	a = pass(w); /* registered, never polled */
	assert_int_equal(a.n, 1);
	assert_string_equal(a.name, "Kitchen");
	assert_false(a.known);
	assert_int_equal(standbyview_counts(w->sv, &t), 0);
	assert_int_equal(t.devices, 1);
	assert_int_equal(t.unknown, 1);

	leader_writes(w, 1);
	b = pass(w);
	assert_true(b.known);
	assert_int_equal(b.state, DEVICE_ONLINE);
	assert_true(b.output == 1);
	assert_int_equal(standbyview_counts(w->sv, &t), 0);
	assert_int_equal(t.by_state[DEVICE_ONLINE], 1);
	assert_int_equal(t.unknown, 0);

	/* Nothing committed since: the same read serves (the same strings), however often. */
	c = pass(w);
	assert_ptr_equal(c.name, b.name);
	assert_int_equal(standbyview_refresh(w->sv), 0);
	assert_ptr_equal(pass(w).name, b.name);

	leader_writes(w, 0);
	c = pass(w);
	assert_true(c.output == 0);
}

/* A rename of the registry's table by another connection: the read fails. */
static void
rename_devices(struct world *w, const char *from, const char *to)
{
	sqlite3 *db;
	char sql[128];

	assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "ALTER TABLE %s RENAME TO %s", from, to);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_read_fails(void **state)
{
	struct world *w = *state;
	struct fleet_totals t;

	leader_writes(w, 1);
	assert_int_equal(standbyview_refresh(w->sv), 0);
	assert_null(standbyview_error(w->sv));
	rename_devices(w, "devices", "devices_away");
	assert_int_equal(standbyview_refresh(w->sv), -1);
	assert_non_null(standbyview_error(w->sv));
	/* The last good read stays. */
	assert_int_equal(pass(w).n, 1);
	memset(&t, 0, sizeof t);
	assert_int_equal(standbyview_counts(w->sv, &t), 0);
	assert_int_equal(t.by_state[DEVICE_ONLINE], 1);
	rename_devices(w, "devices_away", "devices");
	assert_int_equal(standbyview_refresh(w->sv), 0);
	assert_null(standbyview_error(w->sv));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_follows_the_leader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
