/*
 * discovery/discover: the merge into the registry on a :memory: store, fed with real /shelly
 * replies from tests/fixtures (parsed by shelly/ident): dedupe by MAC across methods, IP
 * change, auth-required state, Gen1 ids, known devices keeping what the operator set, TLS
 * pins; a run with nothing to do ending from the loop, and one freed from its done callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery/discover.h"
#include "shelly/ident.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define PIN_A                                                                                     \
	"75:9E:F7:88:F0:4F:E8:A4:35:9A:4C:E2:B5:B6:84:96:FF:E6:19:C7:72:4E:D8:C0:18:A6:0D:CC:47:" \
	"2E:58:8D"
#define PIN_B                                                                                     \
	"11:9E:F7:88:F0:4F:E8:A4:35:9A:4C:E2:B5:B6:84:96:FF:E6:19:C7:72:4E:D8:C0:18:A6:0D:CC:47:" \
	"2E:58:8D"

static struct device_ident
ident(const char *fixture)
{
	char path[256], buf[8192], *cause = NULL;
	struct device_ident id;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "tests/fixtures/%s/shelly.json", fixture);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	if (shelly_parse_ident(buf, n, &id, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	return id;
}

struct world {
	struct loop *loop;
	struct store *store;
	int creds; /* what has_credentials_cb answers */
	int found_calls;
};

static int
setup(void **state)
{
	struct world *w = xcalloc(1, sizeof *w);
	char *cause = NULL;

	w->loop = loop_new();
	if (store_open(":memory:", &w->store, &cause) != 0)
		fail_msg("store_open: %s", cause);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	store_free(w->store);
	loop_free(w->loop);
	free(w);
	return 0;
}

static int
has_credentials_cb(const char *mac, const char *id, void *arg)
{
	struct world *w = arg;

	(void)mac;
	(void)id;
	return w->creds;
}

static void
found_cb(const struct discover_found *f, void *arg)
{
	struct world *w = arg;

	(void)f;
	w->found_calls++;
}

static struct discover *
new_run(struct world *w)
{
	struct discover_opts o;
	struct discover_cbs cbs;
	char *cause = NULL;
	struct discover *d;

	memset(&o, 0, sizeof o);
	memset(&cbs, 0, sizeof cbs);
	cbs.has_credentials_cb = has_credentials_cb;
	cbs.found_cb = found_cb;
	cbs.arg = w;
	d = discover_new(w->loop, NULL, &o, &cbs, &cause);
	assert_non_null(d);
	return d;
}

static void
commit(struct world *w, struct discover *d, int64_t now, struct discover_summary *sum)
{
	char *cause = NULL;

	if (discover_commit(d, w->store, now, sum, &cause) != 0)
		fail_msg("discover_commit: %s", cause);
}

static int
count_cb(const struct store_device *dev, void *arg)
{
	(void)dev;
	(*(int *)arg)++;
	return 0;
}

static int
device_count(struct world *w)
{
	int n = 0;

	assert_int_equal(store_device_list(w->store, count_cb, &n, NULL), 0);
	return n;
}

struct events {
	int n;
	char kind[8][32];
	char detail[8][128];
	char mac[8][13];
};

static int
event_cb(const struct store_event *ev, void *arg)
{
	struct events *e = arg;

	if (e->n < 8) {
		snprintf(e->kind[e->n], sizeof e->kind[0], "%s", ev->kind);
		snprintf(e->detail[e->n], sizeof e->detail[0], "%s", ev->detail ? ev->detail : "");
		snprintf(e->mac[e->n], sizeof e->mac[0], "%s", ev->mac);
	}
	e->n++;
	return 0;
}

static struct events
events(struct world *w)
{
	struct events e;

	memset(&e, 0, sizeof e);
	assert_int_equal(store_event_list(w->store, 0, 100, event_cb, &e, NULL), 0);
	return e;
}

static void
assert_held(struct world *w, const char *mac)
{
	char *why = store_device_held(w->store, mac);

	assert_non_null(why);
	assert_non_null(strstr(why, "--add"));
	free(why);
}

/* One device seen by mDNS and by the scan is one device, "mdns,scan". */
static void
test_both_methods_one_device(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen2/plus-1pm");
	struct discover *d = new_run(w);
	struct discover_summary sum;
	struct store_device *dev;

	discover_add_ident(d, &id, "127.31.1.10", 80, 0, NULL, DISCOVER_VIA_SCAN);
	discover_add_ident(d, &id, "127.31.1.10", 80, 0, NULL, DISCOVER_VIA_MDNS);
	assert_int_equal(discover_count(d), 1);
	assert_int_equal(w->found_calls, 1);
	assert_string_equal(discover_get(d, 0)->via_text, "mdns,scan");
	commit(w, d, 1000, &sum);
	assert_int_equal(sum.devices, 1);
	assert_int_equal(sum.new_devices, 1);
	assert_int_equal(sum.known, 0);
	assert_int_equal(sum.moved, 0);
	assert_int_equal(sum.auth_required, 0);
	assert_int_equal(discover_get(d, 0)->is_new, 1);
	discover_free(d);

	assert_int_equal(device_count(w), 1);
	dev = store_device_find_mac(w->store, "441793d69718");
	assert_non_null(dev);
	/* tests/fixtures/gen2/plus-1pm/shelly.json */
	assert_string_equal(dev->id, "shellyplus1pm-441793d69718");
	assert_int_equal(dev->gen, 2);
	assert_string_equal(dev->model, "SNSW-001P16EU");
	assert_string_equal(dev->app, "Plus1PM");
	assert_string_equal(dev->fw, "20260311-095847/1.7.5-g9979d16");
	assert_string_equal(dev->name, "1PM Plus");
	assert_string_equal(dev->host, "127.31.1.10");
	assert_int_equal(dev->port, 80);
	assert_string_equal(dev->scheme, "http");
	assert_string_equal(dev->discovered_via, "mdns,scan");
	assert_int_equal(dev->first_seen_ms, 1000);
	assert_int_equal(dev->last_seen_ms, 1000);
	assert_null(dev->tls_pin);
	store_device_free(dev);
	assert_null(store_status_get(w->store, "441793d69718")); /* no auth: no status row */
	assert_int_equal(events(w).n, 0);
}

/* A device at a new address is moved, not duplicated, and an ip_changed event says so. */
static void
test_ip_change(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen2/plus-1pm");
	struct discover *d = new_run(w);
	struct discover_summary sum;
	struct store_device *dev;
	struct events e;

	discover_add_ident(d, &id, "127.31.1.10", 8080, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 1000, &sum);
	discover_free(d);

	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.11", 8080, 0, NULL, DISCOVER_VIA_MDNS);
	commit(w, d, 2000, &sum);
	assert_int_equal(sum.devices, 1);
	assert_int_equal(sum.new_devices, 0);
	assert_int_equal(sum.known, 1);
	assert_int_equal(sum.moved, 1);
	assert_int_equal(discover_get(d, 0)->moved, 1);
	assert_string_equal(discover_get(d, 0)->old_host, "127.31.1.10");
	assert_int_equal(discover_get(d, 0)->old_port, 8080);
	discover_free(d);

	assert_int_equal(device_count(w), 1);
	dev = store_device_find_mac(w->store, "441793d69718");
	assert_string_equal(dev->host, "127.31.1.11");
	assert_int_equal(dev->port, 8080);
	assert_int_equal(dev->first_seen_ms, 1000);
	assert_int_equal(dev->last_seen_ms, 2000);
	assert_string_equal(dev->discovered_via, "mdns,scan");
	store_device_free(dev);
	e = events(w);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.kind[0], "ip_changed");
	assert_string_equal(e.mac[0], "441793d69718");
	assert_string_equal(e.detail[0], "127.31.1.10:8080 -> 127.31.1.11:8080");

	/* Seen again at the same place: no event, last_seen moves. */
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.11", 8080, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 3000, &sum);
	assert_int_equal(sum.moved, 0);
	assert_int_equal(sum.known, 1);
	discover_free(d);
	assert_int_equal(events(w).n, 1);
	dev = store_device_find_mac(w->store, "441793d69718");
	assert_int_equal(dev->last_seen_ms, 3000);
	store_device_free(dev);

	/* An IPv6 address is bracketed before its port, as everywhere else a host:port is shown. */
	d = new_run(w);
	discover_add_ident(d, &id, "::1", 8080, 0, NULL, DISCOVER_VIA_MDNS);
	commit(w, d, 4000, &sum);
	assert_int_equal(sum.moved, 1);
	discover_free(d);
	e = events(w);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.detail[1], "127.31.1.11:8080 -> [::1]:8080");
}

/* Seen at two addresses in one run: the registered one wins; default ports compare equal. */
static void
test_two_addresses_one_run(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen1/shelly-1");
	struct store_device sd, *dev;
	struct discover *d;
	struct discover_summary sum;
	struct events e;
	char *cause = NULL;

	/* Registered by --add without a port (0 = the scheme's default). */
	memset(&sd, 0, sizeof sd);
	strcpy(sd.mac, "34945472a643");
	sd.host = "127.31.1.20";
	sd.discovered_via = "manual";
	sd.first_seen_ms = sd.last_seen_ms = 500;
	assert_int_equal(store_device_upsert(w->store, &sd, &cause), 0);

	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.21", 80, 0, NULL, DISCOVER_VIA_MDNS);
	discover_add_ident(d, &id, "127.31.1.20", 80, 0, NULL, DISCOVER_VIA_SCAN);
	assert_int_equal(discover_count(d), 1);
	commit(w, d, 4000, &sum);
	assert_int_equal(sum.moved, 0);
	assert_string_equal(discover_get(d, 0)->host, "127.31.1.20");
	discover_free(d);
	dev = store_device_find_mac(w->store, "34945472a643");
	assert_string_equal(dev->host, "127.31.1.20");
	assert_int_equal(dev->port, 80);
	assert_string_equal(dev->discovered_via, "manual,mdns,scan");
	assert_int_equal(dev->first_seen_ms, 500);
	assert_int_equal(dev->last_seen_ms, 4000);
	/* Gen1: the id the registry lacked is the /shelly-derived one. */
	assert_string_equal(dev->id, "shelly1-34945472A643");
	store_device_free(dev);
	/* The address not taken is recorded; the device has no credentials to hold back. */
	e = events(w);
	assert_int_equal(e.n, 1);
	assert_int_equal(sum.conflicts, 1);
	assert_string_equal(e.kind[0], "mac_conflict");
	assert_non_null(strstr(e.detail[0], "127.31.1.21 also answers with this MAC in this run; "
	                                    "kept 127.31.1.20"));
	assert_null(store_device_held(w->store, "34945472a643"));
}

/* Registers mac at host:80 with a user name (credentials). */
static void
register_with_user(struct world *w, const char *mac, const char *host)
{
	struct store_device sd;
	char *cause = NULL;

	memset(&sd, 0, sizeof sd);
	strcpy(sd.mac, mac);
	sd.host = host;
	sd.port = 80;
	sd.user = "admin";
	assert_int_equal(store_device_upsert(w->store, &sd, &cause), 0);
}

/*
 * A device with credentials answering at its registered address and at another one in the
 * same run: the claim elsewhere is a mac_conflict and the device is held, as when the claim
 * comes in a later run; the registry keeps its address. A new device with credentials seen
 * at two addresses is held the same way. A pinned device showing its key at two addresses is
 * one device: nothing recorded.
 */
static void
test_two_addresses_held(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen1/shelly-1"), id2 = ident("gen2/plus-1pm");
	struct store_device *dev;
	struct discover *d;
	struct discover_summary sum;
	struct events e;

	register_with_user(w, "34945472a643", "127.31.1.20");
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.20", 80, 0, NULL, DISCOVER_VIA_SCAN);
	discover_add_ident(d, &id, "127.31.1.22", 80, 0, NULL, DISCOVER_VIA_MDNS);
	commit(w, d, 4000, &sum);
	assert_int_equal(sum.conflicts, 1);
	assert_int_equal(sum.moved, 0);
	assert_true(discover_get(d, 0)->conflict);
	discover_free(d);
	dev = store_device_find_mac(w->store, "34945472a643");
	assert_string_equal(dev->host, "127.31.1.20");
	store_device_free(dev);
	assert_held(w, "34945472a643");
	e = events(w);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.kind[0], "mac_conflict");
	assert_non_null(
	    strstr(e.detail[0], "127.31.1.22 also claims this MAC in this run, over "
	                        "http: the address kept shows it too; kept 127.31.1.20"));

	w->creds = 1;
	d = new_run(w);
	discover_add_ident(d, &id2, "127.31.1.30", 80, 0, NULL, DISCOVER_VIA_SCAN);
	discover_add_ident(d, &id2, "127.31.1.31", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 5000, &sum);
	assert_int_equal(sum.conflicts, 1);
	assert_held(w, discover_get(d, 0)->ident.mac);
	discover_free(d);

	id2 = ident("gen3/1pm-gen3");
	d = new_run(w);
	discover_add_ident(d, &id2, "127.31.1.40", 443, 1, PIN_A, DISCOVER_VIA_SCAN);
	discover_add_ident(d, &id2, "127.31.1.41", 443, 1, PIN_A, DISCOVER_VIA_SCAN);
	commit(w, d, 6000, &sum);
	assert_int_equal(sum.conflicts, 0);
	assert_null(store_device_held(w->store, discover_get(d, 0)->ident.mac));
	discover_free(d);
	assert_int_equal(events(w).n, 2);
}

/*
 * Two MACs at one address in one run: each is recorded as a mac_conflict; the one with
 * credentials is held, the other has none to hold back.
 */
static void
test_two_devices_one_address(void **state)
{
	struct world *w = *state;
	struct device_ident a = ident("gen1/shelly-1"), b = ident("gen2/plus-1pm");
	struct discover *d;
	struct discover_summary sum;
	struct events e;

	register_with_user(w, "34945472a643", "127.31.1.80");
	d = new_run(w);
	discover_add_ident(d, &a, "127.31.1.80", 80, 0, NULL, DISCOVER_VIA_SCAN);
	discover_add_ident(d, &b, "127.31.1.80", 80, 0, NULL, DISCOVER_VIA_MDNS);
	discover_add_ident(d, &b, "127.31.1.80", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 4000, &sum);
	assert_int_equal(sum.conflicts, 2);
	assert_true(discover_get(d, 0)->conflict);
	assert_false(discover_get(d, 1)->conflict);
	assert_held(w, "34945472a643");
	assert_null(store_device_held(w->store, discover_get(d, 1)->ident.mac));
	e = events(w);
	assert_int_equal(e.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(e.kind[i], "mac_conflict");
		assert_non_null(
		    strstr(e.detail[i], "127.31.1.80 answered with 2 MACs in this run"));
	}
	discover_free(d);
}

/* Known devices keep their id (Gen1 settings hostname), name and credentials. */
static void
test_known_keeps_operator_data(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen1/shelly-dimmer-2");
	struct store_device sd, *dev;
	struct discover *d;
	struct discover_summary sum;
	char *cause = NULL;

	memset(&sd, 0, sizeof sd);
	strcpy(sd.mac, "98cdac0d01bb");
	sd.id = "dimmer-hall";
	sd.name = "Hall dimmer";
	sd.host = "127.31.1.30";
	sd.port = 80;
	sd.user = "admin";
	sd.cred_ref = "file:/etc/shelly/hall";
	assert_int_equal(store_device_upsert(w->store, &sd, &cause), 0);

	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.30", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 5000, &sum);
	/* Auth is on (tests/fixtures/gen1/shelly-dimmer-2 "auth": true) but credentials exist. */
	assert_int_equal(sum.auth_required, 0);
	assert_string_equal(discover_get(d, 0)->name, "Hall dimmer");
	discover_free(d);
	dev = store_device_find_mac(w->store, "98cdac0d01bb");
	assert_string_equal(dev->id, "dimmer-hall");
	assert_string_equal(dev->name, "Hall dimmer");
	assert_string_equal(dev->user, "admin");
	assert_string_equal(dev->cred_ref, "file:/etc/shelly/hall");
	assert_string_equal(dev->model, "SHDM-2");
	assert_string_equal(dev->fw, "20230913-114008/v1.14.0-gcb84623");
	assert_int_equal(dev->gen, 1);
	store_device_free(dev);
	assert_null(store_status_get(w->store, "98cdac0d01bb"));
}

/* Auth on and no credentials: stored with a status row in state auth_required. */
static void
test_auth_required(void **state)
{
	struct world *w = *state;
	struct device_ident g1 = ident("gen1/shelly-dimmer-2");
	struct device_ident g3 = ident("gen3/1-mini-gen3");
	struct discover *d = new_run(w);
	struct discover_summary sum;
	struct store_status *st;
	struct store_device *dev;

	assert_int_equal(g1.auth_en, 1);
	assert_int_equal(g3.auth_en, 1);
	discover_add_ident(d, &g1, "127.31.1.40", 80, 0, NULL, DISCOVER_VIA_SCAN);
	discover_add_ident(d, &g3, "127.31.1.41", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 6000, &sum);
	assert_int_equal(sum.new_devices, 2);
	assert_int_equal(sum.auth_required, 2);
	assert_int_equal(discover_get(d, 0)->auth_required, 1);
	discover_free(d);

	dev = store_device_find_mac(w->store, "98cdac0d01bb");
	assert_string_equal(dev->id, "shellydimmer2-98CDAC0D01BB");
	store_device_free(dev);
	st = store_status_get(w->store, "98cdac0d01bb");
	assert_non_null(st);
	assert_string_equal(st->state, "auth_required");
	assert_int_equal(st->ts_ms, 6000);
	assert_non_null(strstr(st->json, "\"state\":\"auth_required\""));
	assert_non_null(strstr(st->json, "\"mac\":\"98cdac0d01bb\""));
	store_status_free(st);
	st = store_status_get(w->store, "543204547478");
	assert_non_null(st);
	assert_string_equal(st->state, "auth_required");
	store_status_free(st);

	/* With configured credentials (the callback), no auth_required row. */
	assert_int_equal(store_device_remove(w->store, "543204547478", NULL), 1);
	w->creds = 1;
	d = new_run(w);
	discover_add_ident(d, &g3, "127.31.1.41", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 7000, &sum);
	assert_int_equal(sum.auth_required, 0);
	discover_free(d);
	assert_null(store_status_get(w->store, "543204547478"));
}

/* Replies without a valid MAC cannot be keyed: dropped and counted. */
static void
test_no_mac(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen2/plus-1pm");
	struct discover *d = new_run(w);
	struct discover_summary sum;

	id.mac[0] = '\0';
	discover_add_ident(d, &id, "127.31.1.50", 80, 0, NULL, DISCOVER_VIA_SCAN);
	/* all zeros or all ones is no device's address (a junk /shelly, or unset flash) */
	snprintf(id.mac, sizeof id.mac, "%s", "000000000000");
	discover_add_ident(d, &id, "127.31.1.51", 80, 0, NULL, DISCOVER_VIA_SCAN);
	snprintf(id.mac, sizeof id.mac, "%s", "FFFFFFFFFFFF");
	discover_add_ident(d, &id, "127.31.1.52", 80, 0, NULL, DISCOVER_VIA_SCAN);
	assert_int_equal(discover_count(d), 0);
	commit(w, d, 8000, &sum);
	assert_int_equal(sum.devices, 0);
	assert_int_equal(sum.no_mac, 3);
	discover_free(d);
	assert_int_equal(device_count(w), 0);
}

/* HTTPS: the pin of first contact is stored; a different one later is not taken. */
static void
test_https_pin(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen3/1-mini-gen3");
	struct discover *d = new_run(w);
	struct discover_summary sum;
	struct store_device *dev;
	struct events e;

	w->creds = 1;
	discover_add_ident(d, &id, "127.31.1.60", 443, 1, PIN_A, DISCOVER_VIA_SCAN);
	commit(w, d, 9000, &sum);
	discover_free(d);
	dev = store_device_find_mac(w->store, "543204547478");
	assert_string_equal(dev->scheme, "https");
	assert_int_equal(dev->port, 443);
	assert_string_equal(dev->tls_pin, PIN_A);
	store_device_free(dev);

	/* Another key at another address cannot confirm a device with credentials. */
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.61", 443, 1, PIN_B, DISCOVER_VIA_SCAN);
	commit(w, d, 9500, &sum);
	assert_int_equal(sum.moved, 0);
	assert_int_equal(sum.conflicts, 1);
	assert_int_equal(discover_get(d, 0)->conflict, 1);
	discover_free(d);
	dev = store_device_find_mac(w->store, "543204547478");
	assert_string_equal(dev->tls_pin, PIN_A);
	assert_string_equal(dev->host, "127.31.1.60");
	store_device_free(dev);
	e = events(w);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.kind[0], "mac_conflict");
	assert_non_null(strstr(e.detail[0], "pinned"));
	assert_held(w, "543204547478");

	/* Plain HTTP for an HTTPS device, even at the registered host: refused. */
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.60", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 9600, &sum);
	assert_int_equal(sum.conflicts, 1);
	discover_free(d);
	dev = store_device_find_mac(w->store, "543204547478");
	assert_string_equal(dev->scheme, "https");
	assert_int_equal(dev->port, 443);
	store_device_free(dev);

	/* The pinned key at a new address: moved. */
	assert_int_equal(store_device_release(w->store, "543204547478", NULL), 0);
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.62", 443, 1, PIN_A, DISCOVER_VIA_SCAN);
	commit(w, d, 9700, &sum);
	assert_int_equal(sum.moved, 1);
	assert_int_equal(sum.conflicts, 0);
	discover_free(d);
	dev = store_device_find_mac(w->store, "543204547478");
	assert_string_equal(dev->host, "127.31.1.62");
	store_device_free(dev);
	e = events(w);
	assert_int_equal(e.n, 3);
	/* Default HTTPS port: hosts only. */
	assert_string_equal(e.detail[2], "127.31.1.60 -> 127.31.1.62");
	assert_null(store_device_held(w->store, "543204547478"));
}

/*
 * A server at another address claims a registered Gen2 device's MAC with gen 1: the registry
 * keeps generation 2 and the address, an event mac_conflict says so, and the device is held
 * (no credentials) until --add confirms it.
 */
static void
test_mac_conflict_lower_gen(void **state)
{
	struct world *w = *state;
	struct device_ident id = ident("gen2/plus-1pm");
	struct store_device sd, *dev;
	struct discover *d;
	struct discover_summary sum;
	struct events e;
	char *cause = NULL;

	memset(&sd, 0, sizeof sd);
	strcpy(sd.mac, "441793d69718");
	sd.gen = 2;
	sd.host = "127.31.1.70";
	sd.port = 80;
	sd.scheme = "http";
	sd.user = "admin";
	sd.cred_ref = "store:secret:441793d69718";
	assert_int_equal(store_device_upsert(w->store, &sd, &cause), 0);

	id.gen = 1;
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.71", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 10000, &sum);
	assert_int_equal(sum.moved, 0);
	assert_int_equal(sum.conflicts, 1);
	discover_free(d);
	dev = store_device_find_mac(w->store, "441793d69718");
	assert_int_equal(dev->gen, 2);
	assert_string_equal(dev->host, "127.31.1.70");
	assert_string_equal(dev->cred_ref, "store:secret:441793d69718");
	store_device_free(dev);
	e = events(w);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.kind[0], "mac_conflict");
	assert_non_null(strstr(e.detail[0], "127.31.1.71"));
	assert_held(w, "441793d69718");

	/* Gen 2 at a new address without a key to check, and the registered address not checked
	 * (the run was given no registry): a MAC alone does not move a device with credentials. */
	assert_int_equal(store_device_release(w->store, "441793d69718", NULL), 0);
	id.gen = 2;
	d = new_run(w);
	discover_add_ident(d, &id, "127.31.1.72", 80, 0, NULL, DISCOVER_VIA_SCAN);
	commit(w, d, 11000, &sum);
	assert_int_equal(sum.moved, 0);
	assert_int_equal(sum.conflicts, 1);
	discover_free(d);
	e = events(w);
	assert_int_equal(e.n, 2);
	assert_non_null(strstr(e.detail[1], "the registered address could not be checked"));
	assert_held(w, "441793d69718");
}

static void
done_cb(void *arg)
{
	(*(int *)arg)++;
}

/* Nothing to do: done comes from the loop, never inside discover_start. */
static void
test_empty_run(void **state)
{
	struct world *w = *state;
	struct discover_opts o;
	struct discover_cbs cbs;
	struct discover *d;
	int done = 0;
	char *cause = NULL;

	memset(&o, 0, sizeof o);
	memset(&cbs, 0, sizeof cbs);
	cbs.done_cb = done_cb;
	cbs.arg = &done;
	d = discover_new(w->loop, NULL, &o, &cbs, &cause);
	discover_start(d);
	assert_int_equal(done, 0);
	for (int i = 0; i < 10 && !done; i++)
		loop_run_once(w->loop, 100);
	assert_int_equal(done, 1);
	assert_int_equal(discover_finished(d), 1);
	discover_free(d);
}

/* A loopback port nothing listens on (bound, then closed: connecting is refused). */
static uint16_t
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

struct freeing {
	struct discover *d;
	int done;
};

static void
free_in_done_cb(void *arg)
{
	struct freeing *fr = arg;

	discover_free(fr->d);
	fr->d = NULL;
	fr->done++;
}

/* done_cb may free the run: it comes from the run's own timer, also after a scan ends. */
static void
test_free_in_done(void **state)
{
	struct world *w = *state;
	struct scan_targets *t = scan_targets_new();
	struct discover_opts o;
	struct discover_cbs cbs;
	struct freeing fr = {NULL, 0};
	char *cause = NULL;

	assert_int_equal(scan_targets_add(t, "127.0.0.1", &cause), 0);
	memset(&o, 0, sizeof o);
	o.targets = t;
	o.scan.port = closed_port();
	o.scan.timeout_ms = 5000;
	memset(&cbs, 0, sizeof cbs);
	cbs.done_cb = free_in_done_cb;
	cbs.arg = &fr;
	fr.d = discover_new(w->loop, NULL, &o, &cbs, &cause);
	assert_non_null(fr.d);
	discover_start(fr.d);
	for (int i = 0; i < 200 && !fr.done; i++)
		loop_run_once(w->loop, 100);
	assert_int_equal(fr.done, 1);
	assert_null(fr.d);
	/* Nothing of the run fires after it was freed. */
	for (int i = 0; i < 5; i++)
		loop_run_once(w->loop, 10);
	assert_int_equal(fr.done, 1);
	scan_targets_free(t);
}

/* A scan target outside the guard refuses the run up front. */
static void
test_guard_refuses_run(void **state)
{
	struct world *w = *state;
	struct scan_targets *t = scan_targets_new();
	struct discover_opts o;
	struct guard *g = NULL;
	char *cause = NULL;

	/* Half of loopback: the target it refuses is on loopback too. */
	assert_int_equal(guard_parse("127.0.0.0/9", &g, &cause), 0);
	assert_int_equal(scan_targets_add(t, "127.200.0.0/30", &cause), 0);
	memset(&o, 0, sizeof o);
	o.targets = t;
	o.scan.guard = g;
	assert_null(discover_new(w->loop, NULL, &o, NULL, &cause));
	assert_non_null(strstr(cause, "127.200.0.1 is outside SHELLY_TUI_ALLOW_NETS"));
	free(cause);
	scan_targets_free(t);
	guard_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_both_methods_one_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ip_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_addresses_one_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_addresses_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_devices_one_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_known_keeps_operator_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_mac, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_https_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mac_conflict_lower_gen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_in_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guard_refuses_run, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
