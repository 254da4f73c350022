#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/cfgstore.h"
#include "store/sqlite.h"
#include "store/store.h"

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define assert_real(a, b)                                                                \
	do {                                                                             \
		double a_ = (a), b_ = (b);                                               \
		if (!(a_ == b_)) {                                                       \
			print_error("%s = %.17g, expected %.17g\n", #a, a_, b_);         \
			fail();                                                          \
		}                                                                        \
	} while (0)

#define MAC_A "aabbccddeeff"
#define MAC_B "001122334455"

/* A private temporary directory per test. */
static char *
tmp_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&dir, "%s/test_store.XXXXXX", base) < 0)
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

static void
add_device(struct store *s, const char *mac, const char *id, const char *host)
{
	struct store_device d = { .gen = 2, .id = id, .host = host, .port = 80,
		.model = "SNSW-001P16EU", .first_seen_ms = 1000, .last_seen_ms = 1000 };
	char *cause = NULL;

	strcpy(d.mac, mac);
	if (store_device_upsert(s, &d, &cause) != 0) {
		print_error("upsert: %s\n", cause);
		fail();
	}
}

static struct store_sample
sample(const char *mac, int64_t ts, double power, double temp, double rssi, double energy,
    int online)
{
	struct store_sample x = { .ts_ms = ts, .power_w = power, .temperature_c = temp,
		.rssi_dbm = rssi, .energy_wh = energy, .online = online };

	strcpy(x.mac, mac);
	return x;
}

static void
flush_ok(struct store *s)
{
	char *cause = NULL;

	if (store_flush(s, &cause) != 0) {
		print_error("flush: %s\n", cause);
		fail();
	}
}

/* Collects samples into a fixed array. */
struct samples {
	struct store_sample v[64];
	size_t n;
	size_t total;
};

static int
samples_cb(const struct store_sample *x, void *arg)
{
	struct samples *ss = arg;

	if (ss->n < sizeof ss->v / sizeof ss->v[0])
		ss->v[ss->n++] = *x;
	ss->total++;
	return 0;
}

static size_t
count_samples(struct store *s, const char *mac)
{
	struct samples ss = { .n = 0 };
	char *cause = NULL;

	assert_int_equal(store_history_list(s, mac, INT64_MIN, INT64_MAX, samples_cb, &ss,
	    &cause), 0);
	return ss.total;
}

static void
test_mac_parse(void **state)
{
	char out[STORE_MAC_LEN + 1];

	(void)state;
	assert_int_equal(store_mac_parse("AABBCCDDEEFF", out), 0);
	assert_string_equal(out, MAC_A);
	assert_int_equal(store_mac_parse("aa:bb:cc:dd:ee:ff", out), 0);
	assert_string_equal(out, MAC_A);
	assert_int_equal(store_mac_parse("AA-BB-CC-DD-EE-FF", out), 0);
	assert_string_equal(out, MAC_A);
	assert_int_equal(store_mac_parse("aabbccddeef", out), -1);
	assert_int_equal(store_mac_parse("aabbccddeeff0", out), -1);
	assert_int_equal(store_mac_parse("aa:bb:cc:dd:ee:ff:", out), -1);
	assert_int_equal(store_mac_parse("aa:bb-cc:dd:ee:ff", out), -1);
	assert_int_equal(store_mac_parse("aabb:cc:dd:ee:ff", out), -1);
	assert_int_equal(store_mac_parse("aa:bbcc:dd:ee:ff", out), -1);
	assert_int_equal(store_mac_parse(":aabbccddeeff", out), -1);
	assert_int_equal(store_mac_parse("gabbccddeeff", out), -1);
	assert_int_equal(store_mac_parse("shelly1-aabbcc", out), -1);
	assert_int_equal(store_mac_parse("", out), -1);
	assert_int_equal(store_mac_parse(NULL, out), -1);
}

/* STORE_OPEN_EXISTING: a missing database is an error and is not created (neither the file
 * nor SQLite's -wal); an existing one opens as with store_open. */
static void
test_open_existing(void **state)
{
	char *dir = tmp_dir(), *path, *cause = NULL;
	struct store *s = NULL;
	struct stat st;

	(void)state;
	if (asprintf(&path, "%s/typo.db", dir) < 0)
		abort();
	assert_int_equal(store_open_flags(path, STORE_OPEN_EXISTING, &s, &cause), -1);
	assert_null(s);
	assert_non_null(strstr(cause, "no database at"));
	free(cause);
	cause = NULL;
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(store_open(path, &s, &cause), 0);
	store_free(s);
	s = NULL;
	assert_int_equal(store_open_flags(path, STORE_OPEN_EXISTING, &s, &cause), 0);
	assert_non_null(s);
	store_free(s);
	free(path);
	tmp_free(dir);
}

static void
test_open_urls(void **state)
{
	struct store *s = NULL;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_open("postgres://user:secret@db/shelly", &s, &cause), -1);
	assert_null(s);
	assert_non_null(strstr(cause, "not built with PostgreSQL"));
	assert_null(strstr(cause, "secret")); /* the URL may hold a password */
	free(cause);
	cause = NULL;
	assert_int_equal(store_open("postgresql://db/x", &s, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_open("mysql://db/x", &s, &cause), -1);
	assert_non_null(strstr(cause, "unknown database URL scheme \"mysql\""));
	free(cause);
	cause = NULL;
	assert_int_equal(store_open("", &s, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_open("sqlite:", &s, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_open("/nonexistent-dir/x/shelly.db", &s, &cause), -1);
	assert_non_null(strstr(cause, "cannot open database /nonexistent-dir/x/shelly.db"));
	free(cause);

	s = open_ok("sqlite::memory:");
	assert_string_equal(store_backend_name(s), "sqlite");
	assert_int_equal(store_integrity_check(s, NULL), 0);
	assert_true(store_db_size_bytes(s) > 0);
	store_free(s);
	store_free(NULL);
}

static int
list_cb(const struct store_device *d, void *arg)
{
	char *macs = arg;

	strcat(macs, d->mac);
	strcat(macs, " ");
	return 0;
}

static int
list_stop_cb(const struct store_device *d, void *arg)
{
	int *n = arg;

	(void)d;
	return ++*n == 1;
}

/* A callback may call the store, even the same list function (rows are collected first). */
static int
list_reenter_cb(const struct store_device *d, void *arg)
{
	struct store *s = *(struct store **)arg;
	struct store_device *again = store_device_find_mac(s, d->mac);
	char macs[64] = "";

	assert_non_null(again);
	store_device_free(again);
	assert_int_equal(store_device_list(s, list_cb, macs, NULL), 0);
	assert_string_equal(macs, MAC_B " " MAC_A " ");
	return 0;
}

static void
test_devices(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_device *d;
	struct store_device up = { .id = NULL };
	char macs[128] = "";
	char *cause = NULL;
	int n = 0;

	(void)state;
	add_device(s, MAC_A, "shellyplus1pm-aabbccddeeff", "127.0.0.1");
	add_device(s, MAC_B, "shelly1-334455", "127.0.0.2");

	d = store_device_find_mac(s, "AA:BB:CC:DD:EE:FF");
	assert_non_null(d);
	assert_string_equal(d->mac, MAC_A);
	assert_string_equal(d->id, "shellyplus1pm-aabbccddeeff");
	assert_int_equal(d->gen, 2);
	assert_string_equal(d->model, "SNSW-001P16EU");
	assert_string_equal(d->host, "127.0.0.1");
	assert_int_equal(d->port, 80);
	assert_null(d->name);
	assert_null(d->tls_pin);
	assert_null(d->fw_version);
	assert_int_equal(d->first_seen_ms, 1000);
	store_device_free(d);

	/* Ids compare case-insensitively. */
	d = store_device_find_id(s, "SHELLY1-334455");
	assert_non_null(d);
	assert_string_equal(d->mac, MAC_B);
	store_device_free(d);
	d = store_device_find(s, "ShellyPlus1PM-AABBCCDDEEFF");
	assert_non_null(d);
	assert_string_equal(d->mac, MAC_A);
	store_device_free(d);
	d = store_device_find_host(s, "127.0.0.2", 0);
	assert_non_null(d);
	assert_string_equal(d->mac, MAC_B);
	store_device_free(d);
	assert_null(store_device_find_host(s, "127.0.0.2", 8080));
	assert_null(store_device_find_mac(s, "112233445566"));
	assert_null(store_device_find_mac(s, "not a mac"));
	assert_null(store_device_find_id(s, "shelly1-000000"));

	assert_int_equal(store_device_list(s, list_cb, macs, &cause), 0);
	assert_string_equal(macs, MAC_B " " MAC_A " ");
	assert_int_equal(store_device_list(s, list_stop_cb, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_device_list(s, list_reenter_cb, &s, &cause), 0);

	/* Update: NULL and 0 keep, "" clears, first_seen keeps the earliest, last_seen the latest. */
	strcpy(up.mac, "AABBCCDDEEFF");
	up.name = "Kitchen";
	up.host = "127.0.0.9";
	up.model = "";
	up.tls_pin = "sha256//abc";
	up.fw_version = "1.4.99-dev111444";
	up.auth = "on";
	up.profile = "cover";
	up.first_seen_ms = 5000;
	up.last_seen_ms = 7000;
	assert_int_equal(store_device_upsert(s, &up, &cause), 0);
	d = store_device_find_mac(s, MAC_A);
	assert_string_equal(d->name, "Kitchen");
	assert_string_equal(d->host, "127.0.0.9");
	assert_string_equal(d->id, "shellyplus1pm-aabbccddeeff");
	assert_int_equal(d->gen, 2);
	assert_int_equal(d->port, 80);
	assert_null(d->model);
	assert_string_equal(d->tls_pin, "sha256//abc");
	assert_string_equal(d->fw_version, "1.4.99-dev111444");
	assert_string_equal(d->auth, "on");
	assert_string_equal(d->profile, "cover");
	assert_int_equal(d->first_seen_ms, 1000);
	assert_int_equal(d->last_seen_ms, 7000);
	store_device_free(d);
	up.fw_version = NULL; /* kept */
	up.auth = up.profile = NULL;
	assert_int_equal(store_device_upsert(s, &up, &cause), 0);
	d = store_device_find_mac(s, MAC_A);
	assert_string_equal(d->fw_version, "1.4.99-dev111444");
	assert_string_equal(d->auth, "on");
	assert_string_equal(d->profile, "cover");
	store_device_free(d);

	/* Invalid input. */
	strcpy(up.mac, "zz");
	assert_int_equal(store_device_upsert(s, &up, &cause), -1);
	assert_non_null(strstr(cause, "invalid MAC"));
	free(cause);
	cause = NULL;
	strcpy(up.mac, MAC_A);
	up.port = 70000;
	assert_int_equal(store_device_upsert(s, &up, &cause), -1);
	free(cause);
	cause = NULL;

	/* Remove by id (any case), then by MAC; the status and history go with it. */
	{
		struct store_status st = { .ts_ms = 1, .state = "online", .power_w = NAN,
			.energy_wh = NAN, .temperature_c = NAN, .rssi_dbm = NAN,
			.uptime_s = STORE_NULL_INT, .outputs_on = STORE_NULL_INT,
			.fw_update = STORE_NULL_INT, .cfg_rev = STORE_NULL_INT };
		struct store_sample x = sample(MAC_A, 1, 1, 1, 1, 1, 1);

		strcpy(st.mac, MAC_A);
		store_queue_status(s, &st);
		store_queue_sample(s, &x);
		flush_ok(s);
		assert_int_equal(count_samples(s, MAC_A), 1);
	}
	assert_int_equal(store_device_remove(s, "SHELLYPLUS1PM-AABBCCDDEEFF", &cause), 1);
	assert_null(store_device_find_mac(s, MAC_A));
	assert_null(store_status_get(s, MAC_A));
	assert_int_equal(count_samples(s, MAC_A), 0);
	assert_int_equal(store_device_remove(s, "shellyplus1pm-aabbccddeeff", &cause), 0);
	assert_int_equal(store_device_remove(s, "00:11:22:33:44:55", &cause), 1);
	macs[0] = '\0';
	assert_int_equal(store_device_list(s, list_cb, macs, &cause), 0);
	assert_string_equal(macs, "");
	assert_int_equal(store_integrity_check(s, &cause), 0);
	store_free(s);
}

struct events {
	int64_t id[16];
	char mac[16][13];
	char kind[16][32];
	char detail[16][64];
	size_t n;
};

static int
events_cb(const struct store_event *ev, void *arg)
{
	struct events *e = arg;

	e->id[e->n] = ev->id;
	strcpy(e->mac[e->n], ev->mac);
	snprintf(e->kind[e->n], sizeof e->kind[0], "%s", ev->kind);
	snprintf(e->detail[e->n], sizeof e->detail[0], "%s", ev->detail ? ev->detail : "(null)");
	e->n++;
	return 0;
}

/* A status of ts_ms in state with every value unknown. */
static struct store_status
unknown_status(int64_t ts_ms, const char *state)
{
	struct store_status st = { .ts_ms = ts_ms, .state = state, .power_w = NAN,
		.energy_wh = NAN, .temperature_c = NAN, .rssi_dbm = NAN,
		.uptime_s = STORE_NULL_INT, .outputs_on = STORE_NULL_INT,
		.fw_update = STORE_NULL_INT, .cfg_rev = STORE_NULL_INT, .json = NULL };

	return st;
}

/* store_status_list: every stored status in one read, ordered by MAC, without the raw reply. */
struct statuses {
	int n;
	char mac[4][STORE_MAC_LEN + 1];
	char state[4][16];
	int64_t cfg_rev[4];
	int json_null[4];
};

static int
statuses_cb(const struct store_status *st, void *arg)
{
	struct statuses *ss = arg;

	assert_true(ss->n < 4);
	strcpy(ss->mac[ss->n], st->mac);
	snprintf(ss->state[ss->n], sizeof ss->state[ss->n], "%s", st->state ? st->state : "");
	ss->cfg_rev[ss->n] = st->cfg_rev;
	ss->json_null[ss->n] = st->json == NULL;
	ss->n++;
	return 0;
}

static void
test_status_list(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_status st = unknown_status(2000, "online");
	struct statuses ss = { .n = 0 };
	char *cause = NULL;

	(void)state;
	st.cfg_rev = 17;
	st.json = "{\"sys\":{}}";
	assert_int_equal(store_status_list(s, statuses_cb, &ss, &cause), 0);
	assert_int_equal(ss.n, 0);
	add_device(s, MAC_A, "a", "127.0.0.1");
	add_device(s, MAC_B, "b", "127.0.0.2");
	strcpy(st.mac, MAC_A);
	assert_int_equal(store_queue_status(s, &st), 0);
	strcpy(st.mac, MAC_B);
	st.state = "offline";
	st.cfg_rev = STORE_NULL_INT;
	assert_int_equal(store_queue_status(s, &st), 0);
	flush_ok(s);
	assert_int_equal(store_status_list(s, statuses_cb, &ss, &cause), 0);
	assert_int_equal(ss.n, 2);
	assert_string_equal(ss.mac[0], MAC_B);
	assert_string_equal(ss.state[0], "offline");
	assert_int_equal(ss.cfg_rev[0], STORE_NULL_INT);
	assert_string_equal(ss.mac[1], MAC_A);
	assert_string_equal(ss.state[1], "online");
	assert_int_equal(ss.cfg_rev[1], 17);
	assert_true(ss.json_null[0] && ss.json_null[1]);
	store_free(s);
}

/* The stored status of mac, checked for its time, state, power and reply time. Caller frees. */
static struct store_status *
stored_status(struct store *s, const char *mac, int64_t ts_ms, const char *state, double power_w,
    int64_t reply_ts_ms)
{
	struct store_status *got = store_status_get(s, mac);

	assert_non_null(got);
	assert_int_equal(got->ts_ms, ts_ms);
	assert_string_equal(got->state, state);
	assert_true(got->power_w == power_w);
	assert_int_equal(got->reply_ts_ms, reply_ts_ms);
	return got;
}

/*
 * A failed poll (keep_reply) changes the state, error and time of a stored status; the last
 * reply, its values and its time stay, also when the reply is still queued with it.
 */
static void
test_failed_poll_keeps_reply(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_status ok = unknown_status(1000, "online");
	struct store_status bad = unknown_status(2000, "offline");
	struct store_status *got;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	add_device(s, MAC_B, "b", "127.0.0.2");
	strcpy(ok.mac, MAC_A);
	strcpy(bad.mac, MAC_A);
	ok.power_w = 12.5;
	ok.outputs_on = 1;
	ok.json = "{\"switch:0\":{\"id\":0,\"output\":true}}";
	bad.error = "timeout: no answer";
	bad.keep_reply = 1;
	assert_int_equal(store_queue_status(s, &ok), 0);
	flush_ok(s);
	assert_int_equal(store_queue_status(s, &bad), 0);
	flush_ok(s);
	got = stored_status(s, MAC_A, 2000, "offline", 12.5, 1000);
	assert_string_equal(got->error, "timeout: no answer");
	assert_int_equal(got->outputs_on, 1);
	assert_non_null(got->json);
	assert_string_equal(got->json, ok.json);
	store_status_free(got);

	/* Both in one batch: the reply is written under the failure's state. */
	ok.ts_ms = 3000;
	ok.power_w = 20;
	bad.ts_ms = 4000;
	assert_int_equal(store_queue_status(s, &ok), 0);
	assert_int_equal(store_queue_status(s, &bad), 0);
	flush_ok(s);
	store_status_free(stored_status(s, MAC_A, 4000, "offline", 20, 3000));

	/* A good poll again: its own reply time. */
	ok.ts_ms = 5000;
	assert_int_equal(store_queue_status(s, &ok), 0);
	flush_ok(s);
	got = stored_status(s, MAC_A, 5000, "online", 20, 5000);
	assert_null(got->error);
	store_status_free(got);

	/* Failing from the start: no reply, no reply time. */
	strcpy(bad.mac, MAC_B);
	assert_int_equal(store_queue_status(s, &bad), 0);
	flush_ok(s);
	got = store_status_get(s, MAC_B);
	assert_non_null(got);
	assert_string_equal(got->state, "offline");
	assert_int_equal(got->reply_ts_ms, 0);
	assert_null(got->json);
	store_status_free(got);
	store_free(s);
}

/* Coalescing per MAC holds for a batch of many devices, also after a device's items were purged. */
static void
test_queue_coalesce_many(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_status st = unknown_status(1000, "online");
	struct store_status *got;
	char *cause = NULL;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 300; i++) {
			snprintf(st.mac, sizeof st.mac, "0000000%05x", i);
			st.ts_ms = 1000 + round;
			assert_int_equal(store_queue_status(s, &st), 0);
			assert_int_equal(store_queue_seen(s, st.mac, 1000 + round), 0);
		}
	}
	assert_int_equal(store_queue_len(s), 600);
	add_device(s, "000000000100", "x", "127.0.0.3");
	assert_int_equal(store_device_remove(s, "000000000100", &cause), 1);
	assert_int_equal(store_queue_len(s), 598);
	/* After the purge the positions moved: updates still land on their own MAC. */
	strcpy(st.mac, "000000000101");
	st.ts_ms = 2000;
	assert_int_equal(store_queue_status(s, &st), 0);
	strcpy(st.mac, MAC_A);
	st.ts_ms = 3000;
	st.state = "offline";
	assert_int_equal(store_queue_status(s, &st), 0);
	st.ts_ms = 2500; /* older than the queued one: ignored */
	st.state = "error";
	assert_int_equal(store_queue_status(s, &st), 0);
	assert_int_equal(store_queue_len(s), 599);
	flush_ok(s);
	assert_int_equal(store_queue_len(s), 0);
	got = store_status_get(s, MAC_A);
	assert_non_null(got);
	assert_int_equal(got->ts_ms, 3000);
	assert_string_equal(got->state, "offline");
	store_status_free(got);
	/* The index is empty again after the flush: a new batch coalesces from scratch. */
	st.ts_ms = 4000;
	assert_int_equal(store_queue_status(s, &st), 0);
	assert_int_equal(store_queue_status(s, &st), 0);
	assert_int_equal(store_queue_len(s), 1);
	store_free(s);
}

static void
test_queue_flush(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_status st = { .ts_ms = 2000, .state = "offline", .error = "timeout",
		.power_w = 1, .energy_wh = NAN, .temperature_c = NAN, .rssi_dbm = NAN,
		.uptime_s = STORE_NULL_INT, .outputs_on = 0, .fw_update = STORE_NULL_INT,
		.cfg_rev = STORE_NULL_INT, .json = NULL };
	struct store_event ev = { .ts_ms = 3000, .kind = "online", .detail = "came back" };
	struct store_sample x;
	struct store_status *got;
	struct store_device *d;
	struct samples ss = { .n = 0 };
	struct events es = { .n = 0 };
	char *cause = NULL;
	char json[] = "{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":12.5}}";

	(void)state;
	add_device(s, MAC_A, "shellyplus1pm-aabbccddeeff", "127.0.0.1");
	assert_true(store_healthy(s));
	assert_null(store_last_error(s));
	assert_int_equal(store_flush(s, &cause), 0); /* empty */

	/* Two statuses for one device: the later one wins, an older one is ignored. */
	strcpy(st.mac, MAC_A);
	assert_int_equal(store_queue_status(s, &st), 0);
	st.ts_ms = 4000;
	st.state = "online";
	st.error = NULL;
	st.power_w = 12.5;
	st.energy_wh = 1234.25;
	st.temperature_c = 41.5;
	st.rssi_dbm = -61;
	st.uptime_s = 86400;
	st.outputs_on = 1;
	st.fw_update = 0;
	st.cfg_rev = 17;
	st.json = json;
	assert_int_equal(store_queue_status(s, &st), 0);
	st.ts_ms = 3000;
	st.state = "stale";
	assert_int_equal(store_queue_status(s, &st), 0);
	json[0] = 'X'; /* the queue holds its own copy */

	x = sample(MAC_A, 4000, 12.5, 41.5, -61, 1234.25, 1);
	assert_int_equal(store_queue_sample(s, &x), 0);
	x = sample(MAC_A, 5000, NAN, NAN, NAN, NAN, 0);
	assert_int_equal(store_queue_sample(s, &x), 0);
	/* Rows of unknown devices are skipped, not errors. */
	x = sample(MAC_B, 5000, 1, 1, 1, 1, 1);
	assert_int_equal(store_queue_sample(s, &x), 0);
	strcpy(ev.mac, MAC_A);
	assert_int_equal(store_queue_event(s, &ev), 0);
	ev.mac[0] = '\0';
	ev.kind = "discovery";
	ev.detail = NULL;
	assert_int_equal(store_queue_event(s, &ev), 0);
	assert_int_equal(store_queue_seen(s, MAC_A, 4000), 0);
	assert_int_equal(store_queue_seen(s, MAC_A, 3500), 0);
	assert_int_equal(store_queue_seen(s, MAC_B, 3500), 0);
	/* Invalid items are refused. */
	x = sample("AABBCCDDEEFF", 1, 1, 1, 1, 1, 1);
	assert_int_equal(store_queue_sample(s, &x), -1);
	assert_int_equal(store_queue_seen(s, "xyz", 1), -1);
	/* 1 status + 3 samples + 2 events + 2 seen */
	assert_int_equal(store_queue_len(s), 8);

	/* Nothing is written before the flush. */
	assert_null(store_status_get(s, MAC_A));
	flush_ok(s);
	assert_int_equal(store_queue_len(s), 0);
	assert_true(store_healthy(s));

	got = store_status_get(s, "AA:BB:CC:DD:EE:FF");
	assert_non_null(got);
	assert_int_equal(got->ts_ms, 4000);
	assert_string_equal(got->state, "online");
	assert_null(got->error);
	assert_real(got->power_w, 12.5);
	assert_real(got->energy_wh, 1234.25);
	assert_real(got->temperature_c, 41.5);
	assert_real(got->rssi_dbm, -61);
	assert_int_equal(got->uptime_s, 86400);
	assert_int_equal(got->outputs_on, 1);
	assert_int_equal(got->fw_update, 0);
	assert_int_equal(got->cfg_rev, 17);
	assert_string_equal(got->json, "{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":12.5}}");
	store_status_free(got);

	assert_int_equal(store_history_list(s, MAC_A, 0, 10000, samples_cb, &ss, &cause), 0);
	assert_int_equal(ss.n, 2);
	assert_int_equal(ss.v[0].ts_ms, 4000);
	assert_real(ss.v[0].power_w, 12.5);
	assert_real(ss.v[0].energy_wh, 1234.25);
	assert_int_equal(ss.v[0].online, 1);
	assert_int_equal(ss.v[1].ts_ms, 5000);
	assert_true(isnan(ss.v[1].power_w));
	assert_true(isnan(ss.v[1].temperature_c));
	assert_int_equal(ss.v[1].online, 0);
	assert_int_equal(count_samples(s, MAC_B), 0);

	assert_int_equal(store_event_list(s, 0, 0, events_cb, &es, &cause), 0);
	assert_int_equal(es.n, 2);
	assert_string_equal(es.mac[0], MAC_A);
	assert_string_equal(es.kind[0], "online");
	assert_string_equal(es.detail[0], "came back");
	assert_string_equal(es.mac[1], "");
	assert_string_equal(es.kind[1], "discovery");
	assert_string_equal(es.detail[1], "(null)");
	es.n = 0;
	assert_int_equal(store_event_list(s, es.id[0], 5, events_cb, &es, &cause), 0);
	assert_int_equal(es.n, 1);
	assert_string_equal(es.kind[0], "discovery");
	es.n = 0;
	assert_int_equal(store_event_list(s, 0, 1, events_cb, &es, &cause), 0);
	assert_int_equal(es.n, 1);

	d = store_device_find_mac(s, MAC_A);
	assert_int_equal(d->last_seen_ms, 4000);
	store_device_free(d);

	/* An older status does not replace a newer stored one. */
	st.ts_ms = 3900;
	st.state = "late";
	store_queue_status(s, &st);
	flush_ok(s);
	got = store_status_get(s, MAC_A);
	assert_string_equal(got->state, "online");
	store_status_free(got);

	/* Removing a device drops what is queued for it. */
	x = sample(MAC_A, 6000, 1, 1, 1, 1, 1);
	store_queue_sample(s, &x);
	store_queue_seen(s, MAC_A, 6000);
	st.ts_ms = 6000;
	store_queue_status(s, &st);
	assert_int_equal(store_queue_len(s), 3);
	assert_int_equal(store_device_remove(s, MAC_A, &cause), 1);
	assert_int_equal(store_queue_len(s), 0);
	store_free(s);
}

/* store_free flushes what is queued. */
static void
test_free_flushes(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "f.db");
	struct store *s = open_ok(path);
	struct store_sample x = sample(MAC_A, 1, 1, 1, 1, 1, 1);

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_queue_sample(s, &x);
	store_free(s);
	s = open_ok(path);
	assert_int_equal(count_samples(s, MAC_A), 1);
	store_free(s);
	free(path);
	tmp_free(dir);
}

/*
 * The wall clock set back (NTP correcting a clock that ran ahead): rows stamped in the future
 * do not freeze the latest status and last-seen until the clock catches up; an older result
 * still never replaces a newer one of the past.
 */
static void
test_clock_set_back(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_status st;
	struct store_device *d;
	struct store_status *got;
	struct timespec ts;
	int64_t now, ahead;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	ahead = now + 86400000;
	add_device(s, MAC_A, "a", "127.0.0.1");
	st = unknown_status(ahead, "online");
	strcpy(st.mac, MAC_A);
	st.json = "{}";
	store_queue_status(s, &st);
	store_queue_seen(s, MAC_A, ahead);
	flush_ok(s);

	/* The clock is set back a day: the device is found offline now. */
	st = unknown_status(now, "offline");
	strcpy(st.mac, MAC_A);
	st.keep_reply = 1;
	store_queue_status(s, &st);
	store_queue_seen(s, MAC_A, now);
	flush_ok(s);
	got = store_status_get(s, MAC_A);
	assert_non_null(got);
	assert_string_equal(got->state, "offline");
	assert_int_equal(got->ts_ms, now);
	store_status_free(got);
	d = store_device_find_mac(s, MAC_A);
	assert_int_equal(d->last_seen_ms, now);
	store_device_free(d);

	/* A late result from before that one still does not replace it. */
	st = unknown_status(now - 1000, "online");
	strcpy(st.mac, MAC_A);
	store_queue_status(s, &st);
	store_queue_seen(s, MAC_A, now - 1000);
	flush_ok(s);
	got = store_status_get(s, MAC_A);
	assert_string_equal(got->state, "offline");
	store_status_free(got);
	d = store_device_find_mac(s, MAC_A);
	assert_int_equal(d->last_seen_ms, now);
	store_device_free(d);
	store_free(s);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A database another connection holds write-locked: with a short busy wait the flush fails
 * fast (not after the default 5 s), keeps its queue and marks the store unhealthy with
 * "database is locked"; store_flush_within waits as long as it is told; once the lock ends
 * the queue is written.
 */
static void
test_flush_locked(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "l.db");
	struct store *s = open_ok(path), *other = open_ok(path);
	struct store_sample x = sample(MAC_A, 1, 1, 1, 1, 1, 1);
	struct store_health h;
	char *cause = NULL;
	int64_t t0;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_set_busy_wait(s, STORE_LOOP_BUSY_WAIT_MS);
	assert_int_equal(store_sqlite_exec(other, "BEGIN EXCLUSIVE", &cause), 0);
	store_queue_sample(s, &x);
	t0 = mono_ms();
	assert_int_equal(store_flush(s, &cause), -1);
	assert_true(mono_ms() - t0 < STORE_BUSY_WAIT_MS / 2);
	assert_non_null(strstr(cause, "locked"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_queue_len(s), 1);
	store_get_health(s, &h);
	assert_true(h.failing != 0 && strstr(h.error, "locked") != NULL);
	t0 = mono_ms();
	assert_int_equal(store_flush_within(s, 300, &cause), -1);
	assert_true(mono_ms() - t0 >= 250);
	free(cause);
	cause = NULL;
	assert_int_equal(store_sqlite_exec(other, "COMMIT", &cause), 0);
	flush_ok(s);
	assert_int_equal(store_queue_len(s), 0);
	assert_true(store_healthy(s));
	assert_int_equal(count_samples(other, MAC_A), 1);
	store_free(other);
	store_free(s);
	free(path);
	tmp_free(dir);
}

/* The MACs of the devices of s, in MAC order, each followed by a space. */
static const char *
device_macs(struct store *s, char *macs)
{
	char *cause = NULL;

	macs[0] = '\0';
	assert_int_equal(store_device_list(s, list_cb, macs, &cause), 0);
	return macs;
}

static int
group_cb(const struct cfgstore_row *r, void *arg)
{
	(void)r;
	++*(int *)arg;
	return 0;
}

/*
 * The reads between store_read_begin and store_read_end see one state of the store: what
 * another connection commits meanwhile shows only after the end. Configuration reads join the
 * snapshot, and a write in between fails rather than mix states.
 */
static void
test_read_snapshot(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "r.db");
	struct store *s = open_ok(path), *other = open_ok(path);
	const char *macs[] = {MAC_B};
	struct store_device d = {.gen = 2, .host = "127.0.0.3", .port = 80};
	char buf[64], *value, *cause = NULL;
	int groups = 0;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	assert_int_equal(store_read_begin(s, &cause), 0);
	assert_string_equal(device_macs(s, buf), MAC_A " ");
	add_device(other, MAC_B, "b", "127.0.0.2");
	assert_int_equal(store_setting_set(other, "k", "v", &cause), 0);
	assert_int_equal(cfgstore_group_add(other, "g", macs, 1, &cause), 0);
	assert_string_equal(device_macs(s, buf), MAC_A " ");
	assert_null(store_setting_get(s, "k"));
	assert_int_equal(cfgstore_groups(s, group_cb, &groups, &cause), 0);
	assert_int_equal(groups, 0);
	strcpy(d.mac, "aabbccddee03");
	assert_int_equal(store_device_upsert(s, &d, &cause), -1);
	free(cause);
	cause = NULL;
	store_read_end(s);

	assert_string_equal(device_macs(s, buf), MAC_B " " MAC_A " ");
	value = store_setting_get(s, "k");
	assert_string_equal(value, "v");
	free(value);
	assert_int_equal(cfgstore_groups(s, group_cb, &groups, &cause), 0);
	assert_int_equal(groups, 1);
	assert_int_equal(store_device_upsert(s, &d, &cause), 0);
	store_free(other);
	store_free(s);
	free(path);
	tmp_free(dir);
}

/*
 * A flush skips the rows of a device that another connection removed after they were queued,
 * sees a device registered again in a later flush, and a second sample at the same instant
 * replaces the first.
 */
static void
test_flush_removed_elsewhere(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "r.db");
	struct store *s = open_ok(path), *other = open_ok(path);
	struct store_status st = { .ts_ms = 10, .state = "online", .json = "{}" };
	struct store_sample x;
	struct samples ss = { .n = 0 };
	struct store_status *got;
	char *cause = NULL;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	add_device(s, MAC_B, "b", "127.0.0.2");
	for (int i = 0; i < 2; i++) {
		strcpy(st.mac, i == 0 ? MAC_A : MAC_B);
		assert_int_equal(store_queue_status(s, &st), 0);
		x = sample(st.mac, 10, 1, 1, 1, 1, 1);
		assert_int_equal(store_queue_sample(s, &x), 0);
		assert_int_equal(store_queue_seen(s, st.mac, 10), 0);
	}
	assert_int_equal(store_device_remove(other, MAC_B, &cause), 1);
	flush_ok(s);
	assert_true(store_healthy(s));
	got = store_status_get(s, MAC_A);
	assert_non_null(got);
	store_status_free(got);
	assert_null(store_status_get(s, MAC_B));
	assert_int_equal(count_samples(s, MAC_A), 1);
	assert_int_equal(count_samples(s, MAC_B), 0);

	add_device(other, MAC_B, "b", "127.0.0.2");
	x = sample(MAC_B, 20, 2, 2, 2, 2, 1);
	assert_int_equal(store_queue_sample(s, &x), 0);
	x = sample(MAC_A, 10, 7, 7, 7, 7, 0);
	assert_int_equal(store_queue_sample(s, &x), 0);
	flush_ok(s);
	assert_int_equal(count_samples(s, MAC_B), 1);
	assert_int_equal(store_history_list(s, MAC_A, 0, 100, samples_cb, &ss, &cause), 0);
	assert_int_equal(ss.n, 1);
	assert_real(ss.v[0].power_w, 7);
	assert_int_equal(ss.v[0].online, 0);

	/* Outside a flush the backend writes a row in a transaction of its own. */
	assert_int_equal(store_device_remove(other, MAC_B, &cause), 1);
	x = sample(MAC_B, 30, 3, 3, 3, 3, 1);
	assert_int_equal(
	    store_backend_ops(s)->put_sample(store_backend_handle(s), &x, &cause), 0);
	x = sample(MAC_A, 30, 3, 3, 3, 3, 1);
	assert_int_equal(
	    store_backend_ops(s)->put_sample(store_backend_handle(s), &x, &cause), 0);
	assert_int_equal(count_samples(s, MAC_B), 0);
	assert_int_equal(count_samples(s, MAC_A), 2);
	x = sample(MAC_A, 40, 4, 4, 4, 4, 1); /* no transaction was left open */
	assert_int_equal(store_queue_sample(s, &x), 0);
	flush_ok(s);
	assert_int_equal(count_samples(s, MAC_A), 3);
	store_free(other);
	store_free(s);
	free(path);
	tmp_free(dir);
}

/* The busy handler of the updating connection: the other one commits its removal now. */
static int
commit_other_cb(void *arg, int tries)
{
	sqlite3 *other = arg;

	if (tries > 0 || sqlite3_get_autocommit(other))
		return 0;
	return sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
}

/*
 * store_device_update never makes a device again that another process removed: the removal
 * commits while the update waits for the write lock, after the update could have read the
 * device (old code: read, then a write of its own). A failed write leaves the row whole.
 */
static void
test_update_removed_meanwhile(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "u.db");
	struct store *s = open_ok(path), *other = open_ok(path);
	sqlite3 *odb = store_sqlite_conn(store_backend_handle(other));
	struct store_device up = {.tls_pin = "sha256/new", .fw = "2.0"};
	struct store_device *got;
	char *cause = NULL;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	add_device(s, MAC_B, "b", "127.0.0.2");
	assert_int_equal(
	    sqlite3_exec(odb, "BEGIN IMMEDIATE; DELETE FROM devices WHERE mac = '" MAC_A "'", NULL,
	        NULL, NULL),
	    SQLITE_OK);
	sqlite3_busy_handler(store_sqlite_conn(store_backend_handle(s)), commit_other_cb, odb);
	strcpy(up.mac, MAC_A);
	assert_int_equal(store_device_update(s, &up, &cause), 0);
	assert_true(sqlite3_get_autocommit(odb)); /* the removal did commit */
	assert_null(store_device_find_mac(s, MAC_A));

	/* A device still there is updated; a write that fails (full) changes nothing. */
	strcpy(up.mac, MAC_B);
	assert_int_equal(store_device_update(s, &up, &cause), 0);
	got = store_device_find_mac(s, MAC_B);
	assert_non_null(got);
	assert_string_equal(got->tls_pin, "sha256/new");
	assert_string_equal(got->host, "127.0.0.2");
	store_device_free(got);
	assert_int_equal(store_sqlite_exec(s, "PRAGMA max_page_count = 1", &cause), 0);
	up.fw = "9.9";
	up.host = "127.0.0.99";
	if (store_device_update(s, &up, &cause) == 0) /* it may fit the pages there are */
		assert_null(cause);
	else
		free(cause);
	cause = NULL;
	got = store_device_find_mac(s, MAC_B);
	assert_non_null(got);
	assert_true((strcmp(got->fw, "9.9") == 0) == (strcmp(got->host, "127.0.0.99") == 0));
	store_device_free(got);
	assert_int_equal(store_sqlite_exec(s, "PRAGMA max_page_count = 1000000", &cause), 0);
	add_device(s, MAC_A, "a", "127.0.0.1"); /* no transaction was left open */
	store_free(other);
	store_free(s);
	free(path);
	tmp_free(dir);
}

static void
test_queue_bounded(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_event ev = { .ts_ms = 1, .kind = "k" };
	struct samples ss = { .n = 0 };
	struct events es = { .n = 0 };
	struct store_sample x;
	char *cause = NULL;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_set_queue_limit(s, 10);
	for (int i = 0; i < 15; i++) {
		x = sample(MAC_A, i, i, 0, 0, 0, 1);
		store_queue_sample(s, &x);
		if (i % 5 == 0)
			store_queue_event(s, &ev);
	}
	/* Events are never dropped; the oldest samples are. */
	assert_int_equal(store_queue_len(s), 13);
	assert_int_equal(store_queue_dropped(s), 5);
	store_set_queue_limit(s, 8);
	assert_int_equal(store_queue_dropped(s), 7);
	flush_ok(s);
	assert_int_equal(store_history_list(s, MAC_A, 0, 100, samples_cb, &ss, &cause), 0);
	assert_int_equal(ss.n, 8);
	assert_int_equal(ss.v[0].ts_ms, 7);
	assert_int_equal(ss.v[7].ts_ms, 14);
	assert_int_equal(store_event_list(s, 0, 0, events_cb, &es, &cause), 0);
	assert_int_equal(es.n, 3);
	/* The ring keeps order across wrap-around and growth. */
	store_set_queue_limit(s, 300);
	for (int i = 100; i < 1000; i++) {
		x = sample(MAC_A, i, i, 0, 0, 0, 1);
		store_queue_sample(s, &x);
	}
	assert_int_equal(store_queue_len(s), 300);
	flush_ok(s);
	ss.n = ss.total = 0;
	assert_int_equal(store_history_list(s, MAC_A, 100, 2000, samples_cb, &ss, &cause), 0);
	assert_int_equal(ss.total, 300);
	assert_int_equal(ss.v[0].ts_ms, 700);
	assert_real(ss.v[63].power_w, 763);
	store_free(s);
}

/* While the store cannot write, events are bounded too: the newest are kept. */
static void
test_event_queue_bounded(void **state)
{
	struct store *s = open_ok(":memory:");
	struct events es = { .n = 0 };
	char *cause = NULL;

	(void)state;
	store_set_queue_limit(s, 4);
	for (int i = 0; i < 10; i++) {
		char kind[16];
		struct store_event ev = { .ts_ms = i, .kind = kind };
		snprintf(kind, sizeof kind, "k%d", i);
		store_queue_event(s, &ev);
	}
	assert_int_equal(store_queue_len(s), 4);
	assert_int_equal(store_queue_dropped(s), 6);
	store_set_queue_limit(s, 2);
	assert_int_equal(store_queue_dropped(s), 8);
	flush_ok(s);
	assert_int_equal(store_event_list(s, 0, 0, events_cb, &es, &cause), 0);
	assert_int_equal(es.n, 2);
	assert_string_equal(es.kind[0], "k8");
	assert_string_equal(es.kind[1], "k9");
	store_free(s);
}

/* A full database (max_page_count) fails the flush, keeps the queue, and a later flush works. */
static void
test_flush_full(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "full.db");
	struct store *s = open_ok(path);
	struct store_event ev = { .ts_ms = 1, .kind = "online" };
	struct store_status st = { .state = "online", .power_w = NAN, .energy_wh = NAN,
		.temperature_c = NAN, .rssi_dbm = NAN, .uptime_s = STORE_NULL_INT,
		.outputs_on = STORE_NULL_INT, .fw_update = STORE_NULL_INT,
		.cfg_rev = STORE_NULL_INT };
	struct store_sample x;
	struct store_status *got;
	struct events es = { .n = 0 };
	char *cause = NULL;
	size_t queued;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	x = sample(MAC_A, 0, 1, 1, 1, 1, 1);
	store_queue_sample(s, &x);
	flush_ok(s);

	/* The database may not grow any more. */
	assert_int_equal(store_sqlite_exec(s, "PRAGMA max_page_count = 1", &cause), 0);
	for (int i = 1; i <= 5000; i++) {
		x = sample(MAC_A, i, i * 0.5, 30, -60, i, 1);
		store_queue_sample(s, &x);
	}
	strcpy(st.mac, MAC_A);
	st.ts_ms = 5000;
	store_queue_status(s, &st);
	strcpy(ev.mac, MAC_A);
	store_queue_event(s, &ev);
	queued = store_queue_len(s);
	assert_int_equal(queued, 5002);

	for (int attempt = 0; attempt < 2; attempt++) {
		assert_int_equal(store_flush(s, &cause), -1);
		assert_non_null(strstr(cause, "database or disk is full: "));
		assert_non_null(strstr(cause, "5002 queued items kept for retry"));
		free(cause);
		cause = NULL;
		assert_false(store_healthy(s));
		assert_non_null(strstr(store_last_error(s), "database or disk is full"));
		assert_int_equal(store_queue_len(s), queued);
		/* Nothing of the failed transaction is visible. */
		assert_int_equal(count_samples(s, MAC_A), 1);
		assert_null(store_status_get(s, MAC_A));
	}
	/* Space again: the retry writes everything. */
	assert_int_equal(store_sqlite_exec(s, "PRAGMA max_page_count = 1000000", &cause), 0);
	flush_ok(s);
	assert_true(store_healthy(s));
	assert_null(store_last_error(s));
	assert_int_equal(store_queue_len(s), 0);
	assert_int_equal(count_samples(s, MAC_A), 5001);
	got = store_status_get(s, MAC_A);
	assert_non_null(got);
	assert_int_equal(got->ts_ms, 5000);
	store_status_free(got);
	assert_int_equal(store_event_list(s, 0, 0, events_cb, &es, &cause), 0);
	assert_int_equal(es.n, 1);
	assert_int_equal(store_integrity_check(s, &cause), 0);
	store_free(s);
	free(path);
	tmp_free(dir);
}

/*
 * A real full disk (root only): a 2 MiB tmpfs in a private mount namespace, filled up. Runs in
 * a child (plain checks, no cmocka there); returns 0 if all went as expected, 10+ if the
 * tmpfs could not be set up, else the number of the failed check.
 */
static int
disk_full_child(const char *dir)
{
	char *mnt = path_in(dir, "mnt"), *db = path_in(dir, "mnt/d.db");
	char *filler = path_in(dir, "mnt/filler");
	struct store_device d = { .id = "a" };
	struct store *s = NULL;
	char *cause = NULL, block[4096];
	size_t queued;
	int fd;

	if (mkdir(mnt, 0700) != 0 || unshare(CLONE_NEWNS) != 0)
		return 10;
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return 11;
	/* 2 MiB: after the filler goes the retry has room whatever WAL the migration steps left. */
	if (mount("shelly-test", mnt, "tmpfs", 0, "size=2m,mode=0700") != 0)
		return 12;
	strcpy(d.mac, MAC_A);
	if (store_open(db, &s, &cause) != 0 || store_device_upsert(s, &d, &cause) != 0)
		return 1;
	for (int i = 0; i < 10; i++) {
		struct store_sample x = sample(MAC_A, i, 1, 1, 1, 1, 1);

		store_queue_sample(s, &x);
	}
	if (store_flush(s, &cause) != 0)
		return 2;
	/* Fill the file system. */
	memset(block, 0, sizeof block);
	fd = open(filler, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return 3;
	while (write(fd, block, sizeof block) > 0)
		continue;
	close(fd);
	for (int i = 10; i < 20010; i++) {
		struct store_sample x = sample(MAC_A, i, i * 0.25, 40, -60, i, 1);

		store_queue_sample(s, &x);
	}
	queued = store_queue_len(s);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (store_flush(s, &cause) != -1)
			return 4;
		fprintf(stderr, "(expected) flush on a full disk: %s\n", cause);
		if (strstr(cause, "database or disk is full") == NULL)
			return 5;
		free(cause);
		cause = NULL;
		if (store_queue_len(s) != queued || store_healthy(s))
			return 6;
	}
	/* Space again: the retry writes everything. */
	unlink(filler);
	if (store_flush(s, &cause) != 0) {
		fprintf(stderr, "flush after freeing space: %s\n", cause);
		return 7;
	}
	if (store_queue_len(s) != 0 || !store_healthy(s))
		return 8;
	store_free(s);
	if (store_open(db, &s, &cause) != 0 || store_integrity_check(s, &cause) != 0)
		return 9;
	{
		struct samples ss = { .n = 0 };

		if (store_history_list(s, MAC_A, 0, INT64_MAX, samples_cb, &ss, &cause) != 0 ||
		    ss.total != 20010)
			return 13;
	}
	store_free(s);
	free(mnt);
	free(db);
	free(filler);
	return 0;
}

static void
test_disk_full_tmpfs(void **state)
{
	char *dir;
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0) {
		print_message("SKIP test_disk_full_tmpfs: needs root to mount a small tmpfs "
			      "(the max_page_count test covers the logic)\n");
		skip();
	}
	dir = tmp_dir();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(disk_full_child(dir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	tmp_free(dir);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) >= 10) {
		print_message("SKIP test_disk_full_tmpfs: cannot mount a tmpfs in a private "
			      "mount namespace (step %d)\n", WEXITSTATUS(status));
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

struct buckets {
	struct store_bucket v[16];
	size_t n;
};

static int
buckets_cb(const struct store_bucket *bk, void *arg)
{
	struct buckets *bs = arg;

	if (bs->n < 16)
		bs->v[bs->n++] = *bk;
	return 0;
}

static void
queue_samples(struct store *s, const struct store_sample *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_queue_sample(s, &v[i]), 0);
	flush_ok(s);
}

static void
test_downsample(void **state)
{
	const int64_t B = 300000; /* 5 minutes */
	struct store *s = open_ok(":memory:");
	struct store_sample raw[] = {
		/* bucket 0: power 10 20 60 -> 10/30/60; temperature 20 30 25 -> 20/25/30;
		 * RSSI -50 -60 -70 -> -70/-60/-50; last energy 102.5; 3 of 4 online. */
		sample(MAC_A, 0, 10, 20, -50, 100, 1),
		sample(MAC_A, 10000, 20, 30, -60, 101, 1),
		sample(MAC_A, 20000, 60, 25, -70, 102.5, 1),
		sample(MAC_A, 30000, NAN, NAN, NAN, NAN, 0),
		/* bucket 1 (300000): power 5.5 and 7.5 */
		sample(MAC_A, 300000, 5.5, 40, -80, 200, 1),
		sample(MAC_A, 599999, 7.5, 42, -82, 201, 1),
		/* bucket 2: newer than the cutoff, stays raw */
		sample(MAC_A, 600000, 1, 1, 1, 1, 1),
		/* another device, bucket 0 */
		sample(MAC_B, 1000, 3, NAN, NAN, 7, 1),
	};
	struct store_sample late = sample(MAC_A, 300500, 9.5, 44, -84, NAN, 1);
	struct buckets bs = { .n = 0 };
	struct samples ss = { .n = 0 };
	char *cause = NULL;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	add_device(s, MAC_B, "b", "127.0.0.2");
	queue_samples(s, raw, sizeof raw / sizeof raw[0]);

	/* now - raw_keep = 600050 -> cutoff 600000: buckets 0 and 1 aggregate. */
	assert_int_equal(store_prune(s, 600100, 50, B, 30LL * 86400000, &cause), 0);
	assert_int_equal(store_history_buckets(s, MAC_A, 0, INT64_MAX, buckets_cb, &bs, &cause),
	    0);
	assert_int_equal(bs.n, 2);
	assert_int_equal(bs.v[0].bucket_ms, 0);
	assert_int_equal(bs.v[0].n, 4);
	assert_real(bs.v[0].power_min_w, 10);
	assert_real(bs.v[0].power_avg_w, 30);
	assert_real(bs.v[0].power_max_w, 60);
	assert_real(bs.v[0].temperature_min_c, 20);
	assert_real(bs.v[0].temperature_avg_c, 25);
	assert_real(bs.v[0].temperature_max_c, 30);
	assert_real(bs.v[0].rssi_min_dbm, -70);
	assert_real(bs.v[0].rssi_avg_dbm, -60);
	assert_real(bs.v[0].rssi_max_dbm, -50);
	assert_real(bs.v[0].energy_last_wh, 102.5);
	assert_real(bs.v[0].online_frac, 0.75);
	assert_int_equal(bs.v[1].bucket_ms, B);
	assert_int_equal(bs.v[1].n, 2);
	assert_real(bs.v[1].power_min_w, 5.5);
	assert_real(bs.v[1].power_avg_w, 6.5);
	assert_real(bs.v[1].power_max_w, 7.5);
	assert_real(bs.v[1].energy_last_wh, 201);
	assert_real(bs.v[1].online_frac, 1);

	/* Only the sample newer than the cutoff is still raw. */
	assert_int_equal(store_history_list(s, MAC_A, 0, INT64_MAX, samples_cb, &ss, &cause), 0);
	assert_int_equal(ss.n, 1);
	assert_int_equal(ss.v[0].ts_ms, 600000);

	bs.n = 0;
	assert_int_equal(store_history_buckets(s, MAC_B, 0, INT64_MAX, buckets_cb, &bs, &cause),
	    0);
	assert_int_equal(bs.n, 1);
	assert_int_equal(bs.v[0].n, 1);
	assert_real(bs.v[0].power_avg_w, 3);
	assert_true(isnan(bs.v[0].temperature_avg_c));
	assert_true(isnan(bs.v[0].rssi_min_dbm));
	assert_real(bs.v[0].energy_last_wh, 7);

	/* A late sample for an aggregated bucket merges into it. */
	store_queue_sample(s, &late);
	flush_ok(s);
	assert_int_equal(store_prune(s, 600100, 50, B, 30LL * 86400000, &cause), 0);
	bs.n = 0;
	assert_int_equal(store_history_buckets(s, MAC_A, B, 2 * B, buckets_cb, &bs, &cause), 0);
	assert_int_equal(bs.n, 1);
	assert_int_equal(bs.v[0].n, 3);
	assert_real(bs.v[0].power_min_w, 5.5);
	assert_real(bs.v[0].power_avg_w, 7.5);
	assert_real(bs.v[0].power_max_w, 9.5);
	assert_real(bs.v[0].temperature_avg_c, 42);
	assert_real(bs.v[0].rssi_min_dbm, -84);
	assert_real(bs.v[0].energy_last_wh, 201); /* the late sample had none */

	/* Retention: buckets older than now - keep go, newer stay; raw is untouched. */
	assert_int_equal(store_prune(s, 1300000, 1300000, B, 1000000, &cause), 0);
	bs.n = 0;
	assert_int_equal(store_history_buckets(s, MAC_A, 0, INT64_MAX, buckets_cb, &bs, &cause),
	    0);
	assert_int_equal(bs.n, 1);
	assert_int_equal(bs.v[0].bucket_ms, B);
	bs.n = 0;
	assert_int_equal(store_history_buckets(s, MAC_B, 0, INT64_MAX, buckets_cb, &bs, &cause),
	    0);
	assert_int_equal(bs.n, 0);
	assert_int_equal(count_samples(s, MAC_A), 1);

	/* Bad arguments. */
	assert_int_equal(store_prune(s, 1, 1, 0, 1, &cause), -1);
	free(cause);
	store_free(s);
}


static int
count_event_cb(const struct store_event *ev, void *arg)
{
	(void)ev;
	++*(int64_t *)arg;
	return 0;
}

static int
count_audit_cb(const struct store_audit *a, void *arg)
{
	(void)a;
	++*(int64_t *)arg;
	return 0;
}

/* The events (audit 0) or audit records (audit 1) stored. */
static int64_t
count_log(struct store *s, int audit)
{
	int64_t n = 0;
	char *cause = NULL;

	assert_int_equal(audit ? store_audit_list(s, 0, 1000000, count_audit_cb, &n, &cause) :
	                         store_event_list(s, 0, 1000000, count_event_cb, &n, &cause),
	    0);
	return n;
}

/*
 * Event and audit retention: rows older than the keep go, newer ones stay, a keep of 0 keeps
 * everything; more rows than one transaction deletes (5000) all go.
 */
static void
test_prune_log(void **state)
{
	const int64_t day = 86400000, now = 400 * day;
	struct store *s = open_ok(":memory:");
	char *cause = NULL;
	int64_t deleted;

	(void)state;
	/* 12000 events a day old and older, 10 from the last hour; audit 200 days old and new. */
	for (int i = 0; i < 12010; i++) {
		struct store_event ev = { .ts_ms = i < 12000 ? now - day - 1 - i : now - i * 1000,
			.kind = "online", .detail = "first seen online" };
		assert_int_equal(store_queue_event(s, &ev), 0);
	}
	assert_int_equal(store_flush(s, &cause), 0);
	for (int i = 0; i < 4; i++) {
		struct store_audit a = { .ts_ms = i < 3 ? now - 200 * day : now - day, .who = "cli",
			.action = "rename", .target = MAC_A, .result = "ok" };
		assert_int_equal(store_audit_append(s, &a, &cause), 0);
	}
	assert_int_equal(count_log(s, 0), 12010);

	/* 0 keeps everything. */
	assert_int_equal(store_prune_log(s, now, 0, 0, &deleted, &cause), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(count_log(s, 0), 12010);
	assert_int_equal(count_log(s, 1), 4);
	/* A day of events, a year of audit: the old events go (over three transactions). */
	assert_int_equal(store_prune_log(s, now, day, 365 * day, &deleted, &cause), 0);
	assert_int_equal(deleted, 12000);
	assert_int_equal(count_log(s, 0), 10);
	assert_int_equal(count_log(s, 1), 4);
	/* 90 days of audit: the three 200 days old go. */
	assert_int_equal(store_prune_log(s, now, day, 90 * day, &deleted, &cause), 0);
	assert_int_equal(deleted, 3);
	assert_int_equal(count_log(s, 0), 10);
	assert_int_equal(count_log(s, 1), 1);
	/* A keep longer than the clock deletes nothing; a negative one is refused. */
	assert_int_equal(store_prune_log(s, now, 1000 * day, 1000 * day, &deleted, &cause), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(store_prune_log(s, now, -1, 0, NULL, &cause), -1);
	free(cause);
	store_free(s);
}

static void
test_lease(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "lease.db");
	struct store *a = open_ok(path);
	struct store *b = open_ok(path);
	char *holder = NULL, *cause = NULL;

	(void)state;
	assert_int_equal(store_lease_acquire(a, "poller", "host-a", 0, 1000, &holder, &cause), 1);
	assert_null(holder);
	/* Same holder again: still 1 (renewed). */
	assert_int_equal(store_lease_acquire(a, "poller", "host-a", 100, 1000, &holder, &cause),
	    1);
	/* Another holder before expiry: refused, told who holds it. */
	assert_int_equal(store_lease_acquire(b, "poller", "host-b", 500, 1000, &holder, &cause),
	    0);
	assert_string_equal(holder, "host-a");
	free(holder);
	holder = NULL;
	/* Heartbeat extends to 900 + 1000. */
	assert_int_equal(store_lease_heartbeat(a, "poller", "host-a", 900, 1000, &cause), 1);
	assert_int_equal(store_lease_acquire(b, "poller", "host-b", 1500, 1000, NULL, &cause), 0);
	assert_int_equal(store_lease_heartbeat(b, "poller", "host-b", 1500, 1000, &cause), 0);
	/* Expired: taken over. */
	assert_int_equal(store_lease_acquire(b, "poller", "host-b", 1900, 1000, &holder, &cause),
	    1);
	assert_null(holder);
	/* The old holder learns it lost the lease; its release does nothing. */
	assert_int_equal(store_lease_heartbeat(a, "poller", "host-a", 2000, 1000, &cause), 0);
	assert_int_equal(store_lease_release(a, "poller", "host-a", &cause), 0);
	assert_int_equal(store_lease_acquire(a, "poller", "host-a", 2100, 1000, &holder, &cause),
	    0);
	assert_string_equal(holder, "host-b");
	free(holder);
	/* Other names are independent. */
	assert_int_equal(store_lease_acquire(a, "exporter", "host-a", 2100, 1000, NULL, &cause),
	    1);
	/* Released: free at once. */
	assert_int_equal(store_lease_release(b, "poller", "host-b", &cause), 0);
	assert_int_equal(store_lease_acquire(a, "poller", "host-a", 2200, 1000, NULL, &cause), 1);
	/* The wall clock set back a day after the holder's last heartbeat (a holder that went
	 * away): its lease is not held for a day; a set-back within a lease timeout changes
	 * nothing. */
	assert_int_equal(store_lease_acquire(a, "jump", "host-a", 864000000, 1000, NULL, &cause),
	    1);
	assert_int_equal(store_lease_acquire(b, "jump", "host-b", 864000000 - 500, 1000, &holder,
	    &cause), 0);
	assert_string_equal(holder, "host-a");
	free(holder);
	holder = NULL;
	assert_int_equal(store_lease_acquire(b, "jump", "host-b", 864000000 - 86400000, 1000,
	    &holder, &cause), 1);
	assert_null(holder);
	/* Bad arguments. */
	assert_int_equal(store_lease_acquire(a, "poller", "", 0, 1000, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_lease_acquire(a, "poller", "x", INT64_MAX - 5, 1000, NULL, &cause),
	    -1);
	free(cause);
	store_free(a);
	store_free(b);
	free(path);
	tmp_free(dir);
}

static int
audit_cb(const struct store_audit *a, void *arg)
{
	char *out = arg;

	sprintf(out + strlen(out), "%lld %s %s %s %s %s|", (long long)a->ts_ms,
	    a->who ? a->who : "-", a->action, a->target ? a->target : "-",
	    a->result ? a->result : "-", a->detail ? a->detail : "-");
	return 0;
}

static void
test_settings_audit(void **state)
{
	struct store *s = open_ok(":memory:");
	struct store_audit a = { .ts_ms = 10, .who = "cli", .action = "remove",
		.target = MAC_A, .result = "ok" };
	char out[256] = "";
	char *v, *cause = NULL;

	(void)state;
	assert_null(store_setting_get(s, "poll-interval-gen1"));
	assert_int_equal(store_setting_set(s, "poll-interval-gen1", "30s", &cause), 0);
	assert_int_equal(store_setting_set(s, "poll-interval-gen2", "", &cause), 0);
	v = store_setting_get(s, "poll-interval-gen1");
	assert_string_equal(v, "30s");
	free(v);
	assert_int_equal(store_setting_set(s, "poll-interval-gen1", "10s", &cause), 0);
	v = store_setting_get(s, "poll-interval-gen1");
	assert_string_equal(v, "10s");
	free(v);
	v = store_setting_get(s, "poll-interval-gen2");
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(store_setting_set(s, "poll-interval-gen1", NULL, &cause), 0);
	assert_null(store_setting_get(s, "poll-interval-gen1"));
	assert_int_equal(store_setting_set(s, "", "x", &cause), -1);
	free(cause);
	cause = NULL;

	assert_int_equal(store_audit_append(s, &a, &cause), 0);
	a.ts_ms = 11;
	a.who = NULL;
	a.action = "add";
	a.result = "failed";
	a.detail = "no reply";
	assert_int_equal(store_audit_append(s, &a, &cause), 0);
	assert_int_equal(store_audit_list(s, 0, 0, audit_cb, out, &cause), 0);
	assert_string_equal(out, "10 cli remove " MAC_A " ok -|11 - add " MAC_A " failed no reply|");
	out[0] = '\0';
	assert_int_equal(store_audit_list(s, 1, 0, audit_cb, out, &cause), 0);
	assert_string_equal(out, "11 - add " MAC_A " failed no reply|");
	a.action = NULL;
	assert_int_equal(store_audit_append(s, &a, &cause), -1);
	free(cause);
	store_free(s);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		print_error("stat %s: %s\n", path, strerror(errno));
		fail();
	}
	return st.st_mode & 07777;
}

static int
count_sample_cb(const struct store_sample *smp, void *arg)
{
	(void)smp;
	(*(int *)arg)++;
	return 0;
}

/* --poll-once leaves its writes in the -wal at exit (no checkpoint, no fsync); a new
 * connection reads them. Without it the last close checkpoints and deletes the log. */
static void
test_keep_wal(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "k.db");
	char *wal = path_in(dir, "k.db-wal");
	struct store_sample x = sample(MAC_A, 5, 1, 1, 1, 1, 1);
	struct store *s;
	struct stat st;
	char *cause = NULL;
	int n = 0;

	(void)state;
	s = open_ok(path);
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_free(s);
	assert_int_equal(stat(wal, &st), -1);

	s = open_ok(path);
	store_sqlite_keep_wal(s);
	assert_int_equal(store_queue_sample(s, &x), 0);
	flush_ok(s);
	store_free(s);
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size > 0);

	s = open_ok(path);
	assert_int_equal(store_history_list(s, MAC_A, 0, 10, count_sample_cb, &n, &cause), 0);
	assert_int_equal(n, 1);
	store_free(s);
	free(path);
	free(wal);
	tmp_free(dir);
}

static void
test_file_modes(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "m.db");
	char *wal = path_in(dir, "m.db-wal");
	char *shm = path_in(dir, "m.db-shm");
	char *loose = path_in(dir, "loose.db");
	mode_t old = umask(022);
	struct store *s;
	struct store_sample x = sample(MAC_A, 1, 1, 1, 1, 1, 1);
	int fd;

	(void)state;
	s = open_ok(path);
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_queue_sample(s, &x);
	flush_ok(s);
	assert_int_equal(mode_of(path), 0600);
	/* While open in WAL mode the -wal and -shm files exist; they are private too. */
	assert_int_equal(mode_of(wal), 0600);
	assert_int_equal(mode_of(shm), 0600);
	store_free(s);

	/* An existing database readable by others is made private. */
	fd = open(loose, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(loose, 0644), 0);
	s = open_ok(loose);
	assert_int_equal(mode_of(loose), 0600);
	store_free(s);
	umask(old);
	free(path);
	free(wal);
	free(shm);
	free(loose);
	tmp_free(dir);
}

static void
restore_env(const char *name, char *saved)
{
	if (saved != NULL) {
		setenv(name, saved, 1);
		free(saved);
	} else {
		unsetenv(name);
	}
}

static void
test_default_path(void **state)
{
	char *dir = tmp_dir();
	char *xdg = path_in(dir, "xdg/data");
	char *home = path_in(dir, "home");
	char *saved_xdg = getenv("XDG_DATA_HOME") ? strdup(getenv("XDG_DATA_HOME")) : NULL;
	char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *p, *want, *cause = NULL;
	mode_t old = umask(022);

	(void)state;
	setenv("XDG_DATA_HOME", xdg, 1);
	p = store_default_path(&cause);
	assert_non_null(p);
	want = path_in(dir, "xdg/data/shelly-tui/shelly.db");
	assert_string_equal(p, want);
	free(want);
	free(p);
	want = path_in(dir, "xdg/data/shelly-tui");
	assert_int_equal(mode_of(want), 0700);
	free(want);
	want = path_in(dir, "xdg");
	assert_int_equal(mode_of(want), 0700);
	free(want);

	/* Relative XDG_DATA_HOME is ignored (XDG spec): HOME/.local/share is used. */
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	setenv("HOME", home, 1);
	p = store_default_path(&cause);
	assert_non_null(p);
	want = path_in(dir, "home/.local/share/shelly-tui/shelly.db");
	assert_string_equal(p, want);
	free(want);
	/* The path works as a database and the file is private. */
	{
		struct store *s = open_ok(p);

		store_free(s);
		assert_int_equal(mode_of(p), 0600);
	}
	free(p);
	want = path_in(dir, "home/.local/share/shelly-tui");
	assert_int_equal(mode_of(want), 0700);
	free(want);

	/* A file where a directory should be is an error. */
	want = path_in(dir, "file");
	close(open(want, O_CREAT | O_WRONLY, 0600));
	setenv("XDG_DATA_HOME", want, 1);
	assert_null(store_default_path(&cause));
	assert_non_null(strstr(cause, "not a directory"));
	free(cause);
	free(want);

	umask(old);
	restore_env("XDG_DATA_HOME", saved_xdg);
	restore_env("HOME", saved_home);
	free(xdg);
	free(home);
	tmp_free(dir);
}

/*
 * A writer child: appends BATCH samples per flush (one transaction each) with timestamps
 * from base, and writes one byte to fd after every committed flush. Never returns.
 */
#define BATCH 200

static void
writer_child(const char *path, int fd, int64_t base)
{
	struct store *s = NULL;
	char *cause = NULL;
	struct store_status st = { .state = "online", .power_w = 1, .energy_wh = 1,
		.temperature_c = 1, .rssi_dbm = 1, .uptime_s = 1, .outputs_on = 1,
		.fw_update = 0, .cfg_rev = 1, .json = "{\"padding\":\"............................\"}" };

	if (store_open(path, &s, &cause) != 0)
		_exit(2);
	strcpy(st.mac, MAC_A);
	for (int64_t round = 0;; round++) {
		for (int i = 0; i < BATCH; i++) {
			struct store_sample x = sample(MAC_A, base + round * BATCH + i, i * 1.5,
			    40, -60, (double)round, 1);

			store_queue_sample(s, &x);
		}
		st.ts_ms = base + round;
		store_queue_status(s, &st);
		if (store_flush(s, &cause) != 0)
			_exit(3);
		if (write(fd, "x", 1) != 1)
			_exit(4);
	}
}

/* Waits (bounded) for n bytes from the writer child. */
static void
wait_flushes(int fd, int n)
{
	char c;

	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 20000), 1);
		assert_int_equal(read(fd, &c, 1), 1);
	}
}

static pid_t
start_writer(const char *path, int64_t base, int *rfd)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Dies with the test even if an assertion there fails before stop_writer. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		writer_child(path, fds[1], base);
	}
	close(fds[1]);
	*rfd = fds[0];
	return pid;
}

static void
stop_writer(pid_t pid, int fd)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	close(fd);
}

/* kill -9 in the middle of writes: the database stays sound and every commit survives. */
static void
test_kill9(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "k.db");
	struct store *s = open_ok(path);
	size_t committed = 0;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_free(s);
	for (int round = 0; round < 3; round++) {
		int fd;
		pid_t pid = start_writer(path, (int64_t)round * 1000000000, &fd);
		char *cause = NULL;
		size_t n;

		/* Kill right after a commit was reported: the child is inside its next one. */
		wait_flushes(fd, 5 + round * 3);
		stop_writer(pid, fd);
		committed += 5 + round * 3;

		s = open_ok(path);
		if (store_integrity_check(s, &cause) != 0) {
			print_error("integrity: %s\n", cause);
			fail();
		}
		n = count_samples(s, MAC_A);
		/* Every reported commit is there, and only whole transactions. */
		assert_true(n >= committed * BATCH);
		assert_int_equal(n % BATCH, 0);
		committed = n / BATCH;
		store_free(s);
	}
	free(path);
	tmp_free(dir);
}

/* Backups taken while another process writes are consistent snapshots. */
static void
test_backup_while_writing(void **state)
{
	char *dir = tmp_dir();
	char *path = path_in(dir, "live.db");
	char *copy = path_in(dir, "copy.db");
	struct store *s = open_ok(path);
	char *cause = NULL;
	int fd;
	pid_t pid;

	(void)state;
	add_device(s, MAC_A, "a", "127.0.0.1");
	store_free(s);
	pid = start_writer(path, 0, &fd);
	wait_flushes(fd, 2);
	s = open_ok(path);
	for (int i = 0; i < 3; i++) {
		struct store *c;
		size_t n;

		wait_flushes(fd, 1);
		if (store_backup(s, copy, &cause) != 0) {
			print_error("backup: %s\n", cause);
			fail();
		}
		assert_int_equal(mode_of(copy), 0600);
		/* A self-contained file: header bytes 18 and 19 say rollback journal, not WAL. */
		{
			unsigned char hdr[20];
			FILE *f = fopen(copy, "rb");

			assert_non_null(f);
			assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
			fclose(f);
			assert_int_equal(hdr[18], 1);
			assert_int_equal(hdr[19], 1);
		}
		c = open_ok(copy);
		assert_int_equal(store_integrity_check(c, &cause), 0);
		n = count_samples(c, MAC_A);
		assert_true(n >= 3 * BATCH);
		assert_int_equal(n % BATCH, 0); /* never half a flush */
		store_free(c);
	}
	stop_writer(pid, fd);
	/* The database itself is not a backup target. */
	assert_int_equal(store_backup(s, path, &cause), -1);
	assert_non_null(strstr(cause, "is the database itself"));
	free(cause);
	cause = NULL;
	/* An unwritable target fails with a reason. */
	assert_int_equal(store_backup(s, "/nonexistent-dir/copy.db", &cause), -1);
	assert_non_null(strstr(cause, "cannot create"));
	free(cause);
	store_free(s);
	free(path);
	free(copy);
	tmp_free(dir);
}

/*
 * Storage cost of history: one day of 10 s samples for 10 devices, measured raw and after
 * downsampling to 5-minute buckets (VACUUMed, minus the empty database).
 */
static void
test_history_size(void **state)
{
	const int64_t day = 86400000, step = 10000, B = 300000;
	char *dir = tmp_dir();
	char *path = path_in(dir, "size.db");
	struct store *s = open_ok(path);
	char macs[10][13];
	char *cause = NULL;
	int64_t empty, raw, buckets;
	struct buckets bs = { .n = 0 };

	(void)state;
	for (int d = 0; d < 10; d++) {
		snprintf(macs[d], sizeof macs[d], "c45bbe0000%02x", d);
		add_device(s, macs[d], macs[d], "127.0.0.1");
	}
	assert_int_equal(store_sqlite_exec(s, "VACUUM", &cause), 0);
	empty = store_db_size_bytes(s);
	for (int d = 0; d < 10; d++) {
		for (int64_t t = 0; t < day; t += step) {
			int64_t k = t / step;
			struct store_sample x = sample(macs[d], t,
			    (double)(k % 997) * 0.37 + d, 35.0 + (double)(k % 50) / 10.0,
			    (double)(-55 - k % 20), 1000.0 + (double)k * 0.011, k % 100 != 0);

			store_queue_sample(s, &x);
		}
		flush_ok(s);
	}
	assert_int_equal(count_samples(s, macs[3]), day / step);
	assert_int_equal(store_sqlite_exec(s, "VACUUM", &cause), 0);
	raw = store_db_size_bytes(s) - empty;

	assert_int_equal(store_prune(s, day, 0, B, 30 * day, &cause), 0);
	assert_int_equal(count_samples(s, macs[3]), 0);
	assert_int_equal(store_history_buckets(s, macs[3], 0, B * 16, buckets_cb, &bs, &cause),
	    0);
	assert_int_equal(bs.n, 16);
	assert_int_equal(bs.v[0].n, 30);
	assert_int_equal(store_sqlite_exec(s, "VACUUM", &cause), 0);
	buckets = store_db_size_bytes(s) - empty;
	print_message("history size per device per day: raw 10 s samples %lld bytes "
		      "(%lld bytes/sample), 5-minute buckets %lld bytes\n",
	    (long long)(raw / 10), (long long)(raw / 10 / (day / step)),
	    (long long)(buckets / 10));
	assert_true(buckets > 0);
	assert_true(buckets * 10 < raw);
	assert_int_equal(store_integrity_check(s, &cause), 0);
	store_free(s);
	free(path);
	tmp_free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_open_urls),
		cmocka_unit_test(test_open_existing),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_queue_flush),
		cmocka_unit_test(test_status_list),
		cmocka_unit_test(test_failed_poll_keeps_reply),
		cmocka_unit_test(test_queue_coalesce_many),
		cmocka_unit_test(test_free_flushes),
		cmocka_unit_test(test_clock_set_back),
		cmocka_unit_test(test_flush_locked),
		cmocka_unit_test(test_flush_removed_elsewhere),
		cmocka_unit_test(test_update_removed_meanwhile),
		cmocka_unit_test(test_read_snapshot),
		cmocka_unit_test(test_queue_bounded),
	    cmocka_unit_test(test_event_queue_bounded),
		cmocka_unit_test(test_flush_full),
		cmocka_unit_test(test_disk_full_tmpfs),
		cmocka_unit_test(test_downsample),
		cmocka_unit_test(test_prune_log),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_settings_audit),
		cmocka_unit_test(test_file_modes),
		cmocka_unit_test(test_keep_wal),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_kill9),
		cmocka_unit_test(test_backup_while_writing),
		cmocka_unit_test(test_history_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
