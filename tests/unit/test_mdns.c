#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "discovery/avahi_poll.h"
#include "discovery/mdns.h"
#include "util/json.h"
#include "util/loop.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <avahi-common/timeval.h>

/* ---- helpers ---- */

static void
txt_adds(struct mdns_txt *t, const char *s)
{
	mdns_txt_add(t, s, strlen(s));
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Splits "inst._http._tcp.local" into instance and type; false if not such a name. */
static bool
split_service(const char *rr, char *inst, size_t isize, char *type, size_t tsize)
{
	static const char *const types[] = { "_shelly._tcp", "_http._tcp" };

	for (size_t i = 0; i < 2; i++) {
		char suffix[64];
		size_t n = strlen(rr), sn;

		snprintf(suffix, sizeof suffix, ".%s.local", types[i]);
		sn = strlen(suffix);
		if (n > sn && strcmp(rr + n - sn, suffix) == 0 && n - sn < isize) {
			memcpy(inst, rr, n - sn);
			inst[n - sn] = '\0';
			snprintf(type, tsize, "%s", types[i]);
			return true;
		}
	}
	return false;
}

/* Finds the SRV target of the instance rr in the records of root ("" if none). */
static const char *
srv_target(const cJSON *root, const char *rr)
{
	static const char *const sections[] = { "answers", "additionals" };

	for (size_t s = 0; s < 2; s++) {
		const cJSON *rec;

		cJSON_ArrayForEach(rec, json_get(root, sections[s]))
		{
			const char *name = json_string(json_get(rec, "name"));
			const char *type = json_string(json_get(rec, "type"));

			if (name != NULL && type != NULL && strcmp(type, "SRV") == 0 &&
			    strcmp(name, rr) == 0)
				return json_string(json_get(json_get(rec, "data"), "target"));
		}
	}
	return "";
}

struct fixture_stats {
	int files;
	int txt_records;
	int id_instances;
	int friendly_instances;
};

/* Checks every TXT record of one decoded capture against the rules; gen is the folder's. */
static void
check_capture(const char *path, int gen, struct fixture_stats *st)
{
	static const char *const sections[] = { "answers", "additionals" };
	size_t len;
	char *buf = read_file(path, &len), *cause = NULL;
	cJSON *root = json_parse(buf, len, 0, &cause);

	if (root == NULL)
		fail_msg("%s: %s", path, cause);
	st->files++;
	for (size_t s = 0; s < 2; s++) {
		const cJSON *rec;

		cJSON_ArrayForEach(rec, json_get(root, sections[s]))
		{
			const char *name = json_string(json_get(rec, "name"));
			const char *type = json_string(json_get(rec, "type"));
			const cJSON *item;
			char inst[128], stype[32];
			struct mdns_txt t;
			struct mdns_candidate c;

			if (name == NULL || type == NULL || strcmp(type, "TXT") != 0)
				continue;
			assert_true(split_service(name, inst, sizeof inst, stype, sizeof stype));
			mdns_txt_init(&t);
			cJSON_ArrayForEach(item, json_get(rec, "data"))
			{
				const char *v = json_string(item);

				assert_non_null(v);
				txt_adds(&t, v);
			}
			st->txt_records++;
			if (!mdns_keep(stype, inst, &t))
				fail_msg("%s: %s.%s not kept", path, inst, stype);
			if (mdns_gen_hint(&t) != gen)
				fail_msg("%s: %s: gen hint %d, want %d", path, inst, mdns_gen_hint(&t),
				    gen);
			mdns_candidate_fill(&c, inst, stype, srv_target(root, name), "192.0.2.1", 80,
			    &t);
			assert_int_equal(c.gen, gen);
			if (gen == 1) {
				/* Gen1: the instance is the id, and the TXT says so too. */
				assert_string_equal(t.id, inst);
				assert_string_equal(c.id, inst);
				assert_true(strncmp(t.fw_id, "20", 2) == 0);
				st->id_instances++;
			} else if (strncasecmp(inst, "shelly", 6) == 0) {
				assert_string_equal(c.id, inst);
				st->id_instances++;
			} else {
				/* The user's name ("1PM Plus", host "1PM-Plus.local") carries no id. */
				assert_string_equal(c.id, "");
				assert_true(t.has_gen);
				st->friendly_instances++;
			}
		}
	}
	cJSON_Delete(root);
	free(buf);
}

/* ---- fixtures ---- */

static void
test_fixtures_all_kept(void **state)
{
	struct fixture_stats st = { 0 };

	(void)state;
	for (int gen = 1; gen <= 4; gen++) {
		char dir[64];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof dir, "tests/fixtures/mdns/gen%d", gen);
		d = opendir(dir);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			char path[512];
			size_t n = strlen(de->d_name);

			if (n < 13 || strcmp(de->d_name + n - 13, ".decoded.json") != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			check_capture(path, gen, &st);
		}
		closedir(d);
	}
	/* 15 Gen1 + 21 Gen2 + 14 Gen3 + 6 Gen4 captures (counted by hand in the folder). */
	assert_int_equal(st.files, 56);
	assert_true(st.txt_records > st.files);
	assert_true(st.friendly_instances > 0);
	assert_true(st.id_instances >= st.files);
}

static void
test_gen1_shelly1(void **state)
{
	struct mdns_txt t;
	struct mdns_candidate c;

	(void)state;
	/* tests/fixtures/mdns/gen1/shelly-1.decoded.json */
	mdns_txt_init(&t);
	txt_adds(&t, "id=shelly1-34945472A643");
	txt_adds(&t, "arch=esp8266");
	txt_adds(&t, "app=switch1");
	txt_adds(&t, "fw_version=1.0");
	txt_adds(&t, "fw_id=20230913-112003/v1.14.0-gcb84623");
	txt_adds(&t, "discoverable=false");
	assert_false(t.has_gen);
	assert_string_equal(t.id, "shelly1-34945472A643");
	assert_string_equal(t.arch, "esp8266");
	assert_string_equal(t.app, "switch1");
	assert_string_equal(t.fw_id, "20230913-112003/v1.14.0-gcb84623");
	assert_string_equal(t.ver, "");
	assert_int_equal(mdns_gen_hint(&t), 1);
	assert_true(mdns_keep("_http._tcp", "shelly1-34945472A643", &t));
	mdns_candidate_fill(&c, "shelly1-34945472A643", "_http._tcp", "shelly1-34945472A643.local",
	    "192.168.1.240", 80, &t);
	assert_string_equal(c.name, "shelly1-34945472A643");
	assert_string_equal(c.type, "_http._tcp");
	assert_string_equal(c.host, "shelly1-34945472A643.local");
	assert_string_equal(c.address, "192.168.1.240");
	assert_int_equal(c.port, 80);
	assert_int_equal(c.gen, 1);
	assert_string_equal(c.id, "shelly1-34945472A643");
	assert_string_equal(c.app, "switch1");
	assert_string_equal(c.fw_id, "20230913-112003/v1.14.0-gcb84623");

	/* gen1/shelly-motion-2: battery firmware, no app= and fw_id first. */
	mdns_txt_init(&t);
	txt_adds(&t, "fw_id=20240619-130804/v2.2.4@ee290818");
	txt_adds(&t, "id=shellymotion2-8CF68108A6F5");
	txt_adds(&t, "arch=EFM32GG11");
	assert_int_equal(mdns_gen_hint(&t), 1);
	assert_string_equal(t.app, "");
	assert_true(mdns_keep("_http._tcp", "shellymotion2-8CF68108A6F5", &t));
}

static void
test_gen2_merge(void **state)
{
	struct mdns_txt full, genonly;
	struct mdns_candidate a, b;

	(void)state;
	/* gen2/plus-1pm: the friendly instance has app/ver, the id instance only gen=2. */
	mdns_txt_init(&full);
	txt_adds(&full, "gen=2");
	txt_adds(&full, "app=Plus1PM");
	txt_adds(&full, "ver=1.7.5");
	mdns_txt_init(&genonly);
	txt_adds(&genonly, "gen=2");
	assert_true(mdns_keep("_http._tcp", "1PM Plus", &full));
	assert_true(mdns_keep("_http._tcp", "shellyplus1pm-441793d69718", &genonly));

	mdns_candidate_fill(&a, "1PM Plus", "_http._tcp", "1PM-Plus.local", "192.168.68.78", 80,
	    &full);
	assert_string_equal(a.id, "");
	assert_int_equal(a.gen, 2);
	mdns_candidate_fill(&b, "shellyplus1pm-441793d69718", "_http._tcp",
	    "ShellyPlus1PM-441793D69718.local", "192.168.68.78", 80, &genonly);
	assert_string_equal(b.id, "shellyplus1pm-441793d69718");
	assert_string_equal(b.app, "");
	mdns_candidate_merge(&a, &b);
	assert_string_equal(a.name, "1PM Plus");
	assert_string_equal(a.host, "1PM-Plus.local");
	assert_string_equal(a.id, "shellyplus1pm-441793d69718");
	assert_string_equal(a.app, "Plus1PM");
	assert_string_equal(a.ver, "1.7.5");
	assert_int_equal(a.gen, 2);

	/* The other way round: nothing already known is overwritten. */
	mdns_candidate_merge(&b, &a);
	assert_string_equal(b.name, "shellyplus1pm-441793d69718");
	assert_string_equal(b.host, "ShellyPlus1PM-441793D69718.local");
	assert_string_equal(b.app, "Plus1PM");

	/* An id-named instance whose name is odd still gets the id from its host. */
	mdns_candidate_fill(&b, "Living room", "_shelly._tcp", "ShellyPro3EM-A0DD6CA0C27C.local",
	    "192.168.68.64", 80, &full);
	assert_string_equal(b.id, "ShellyPro3EM-A0DD6CA0C27C");
}

static void
test_keep_rule(void **state)
{
	struct mdns_txt t;

	(void)state;
	/* A printer on _http._tcp. */
	mdns_txt_init(&t);
	txt_adds(&t, "txtvers=1");
	txt_adds(&t, "ty=HP LaserJet");
	assert_false(mdns_keep("_http._tcp", "Office Printer", &t));
	assert_false(mdns_keep("_http._tcp", "Office Printer", NULL));
	assert_int_equal(mdns_gen_hint(&t), 0);
	/* An id= that is not a Shelly's. */
	txt_adds(&t, "id=printer-1");
	assert_false(mdns_keep("_http._tcp", "Office Printer", &t));
	/* Name prefix, any case. */
	assert_true(mdns_keep("_http._tcp", "SHELLY-thing", &t));
	assert_true(mdns_keep("_http._tcp", "ShellyVintage-349454779077", NULL));
	assert_false(mdns_keep("_http._tcp", "shell", NULL));
	assert_false(mdns_keep("_http._tcp", "my shelly", NULL));
	/* TXT id= prefix, key in any case. */
	mdns_txt_init(&t);
	txt_adds(&t, "ID=ShellyHT-703523");
	assert_true(mdns_keep("_http._tcp", "Hallway", &t));
	/* Any gen= key, even an odd value. */
	mdns_txt_init(&t);
	txt_adds(&t, "gen=");
	assert_true(t.has_gen);
	assert_int_equal(t.gen, 0);
	assert_int_equal(mdns_gen_hint(&t), 0);
	assert_true(mdns_keep("_http._tcp", "Hallway", &t));
	/* Everything on _shelly._tcp. */
	mdns_txt_init(&t);
	assert_true(mdns_keep("_shelly._tcp", "Hallway", &t));
	assert_true(mdns_keep("_SHELLY._TCP", "Hallway", NULL));
}

static void
test_txt_parsing(void **state)
{
	struct mdns_txt t;
	char item[200];
	const char nul[] = { 'a', 'p', 'p', '=', 'P', 'r', 'o', '\0', 'X' };

	(void)state;
	mdns_txt_init(&t);
	txt_adds(&t, "gen=12");
	assert_int_equal(t.gen, 12);
	mdns_txt_init(&t);
	txt_adds(&t, "gen=100");
	assert_int_equal(t.gen, 0);
	assert_true(t.has_gen);
	mdns_txt_init(&t);
	txt_adds(&t, "gen=2x");
	assert_int_equal(t.gen, 0);
	mdns_txt_init(&t);
	txt_adds(&t, "generation=2");
	txt_adds(&t, "ge=2");
	assert_false(t.has_gen);

	/* The first occurrence of a key wins (RFC 6763 6.4), even an empty one. */
	mdns_txt_init(&t);
	txt_adds(&t, "GEN=3");
	txt_adds(&t, "gen=2");
	txt_adds(&t, "app=");
	txt_adds(&t, "app=Pro4PM");
	assert_int_equal(t.gen, 3);
	assert_string_equal(t.app, "");

	/* No '=', empty key, empty item: ignored. */
	mdns_txt_init(&t);
	txt_adds(&t, "discoverable");
	txt_adds(&t, "=shelly");
	mdns_txt_add(&t, "", 0);
	mdns_txt_add(&t, NULL, 3);
	assert_false(t.has_gen);
	assert_string_equal(t.id, "");

	/* Not NUL-terminated: only len bytes are read; an embedded NUL ends the value. */
	mdns_txt_init(&t);
	mdns_txt_add(&t, "ver=1.7.5garbage", 9);
	assert_string_equal(t.ver, "1.7.5");
	mdns_txt_add(&t, nul, sizeof nul);
	assert_string_equal(t.app, "Pro");

	/* Long values are cut to 63 bytes, never inside a UTF-8 character. */
	mdns_txt_init(&t);
	memset(item, 'a', sizeof item);
	memcpy(item, "fw_id=", 6);
	mdns_txt_add(&t, item, sizeof item);
	assert_int_equal(strlen(t.fw_id), MDNS_VALUE_MAX - 1);
	mdns_txt_init(&t);
	memcpy(item, "app=", 4);
	memset(item + 4, 'b', 62);
	memcpy(item + 66, "\xc3\xa9", 2); /* bytes 62 and 63 of the value: e-acute */
	mdns_txt_add(&t, item, 68);
	assert_int_equal(strlen(t.app), 62);
}

static void
test_id_from_name(void **state)
{
	char out[64];

	(void)state;
	assert_true(mdns_id_from_name("shelly1-34945472A643", out, sizeof out));
	assert_string_equal(out, "shelly1-34945472A643");
	assert_true(mdns_id_from_name("ShellyPlus1PM-441793D69718.local", out, sizeof out));
	assert_string_equal(out, "ShellyPlus1PM-441793D69718");
	assert_true(mdns_id_from_name("shellyplug-s-4022D88349C4.local.", out, sizeof out));
	assert_string_equal(out, "shellyplug-s-4022D88349C4");
	assert_true(mdns_id_from_name("shellyht-703523", out, sizeof out));
	assert_string_equal(out, "shellyht-703523");

	assert_false(mdns_id_from_name("1PM-Plus.local", out, sizeof out));
	assert_false(mdns_id_from_name("Kitchen Pro 4PM", out, sizeof out));
	assert_false(mdns_id_from_name("shelly-aabbcc", out, sizeof out));
	assert_false(mdns_id_from_name("shellyplus1pm-441793d6971", out, sizeof out));
	assert_false(mdns_id_from_name("shellyplus1pm-441793d69718x", out, sizeof out));
	assert_false(mdns_id_from_name("shellyplus1pm-441793d6971g", out, sizeof out));
	assert_false(mdns_id_from_name("shelly plus-441793d69718", out, sizeof out));
	assert_false(mdns_id_from_name("shellyplus1pm-441793d69718-2", out, sizeof out));
	assert_false(mdns_id_from_name("", out, sizeof out));
	assert_false(mdns_id_from_name(NULL, out, sizeof out));
	/* Too small for the id: refused, not cut. */
	assert_false(mdns_id_from_name("shellyplus1pm-441793d69718", out, 26));
	assert_true(mdns_id_from_name("shellyplus1pm-441793d69718", out, 27));
}

static void
test_candidate_bounds(void **state)
{
	struct mdns_candidate c;
	char longname[400];

	(void)state;
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	mdns_candidate_fill(&c, longname, longname, longname, longname, 65535, NULL);
	assert_int_equal(strlen(c.name), MDNS_NAME_MAX - 1);
	assert_int_equal(strlen(c.type), MDNS_TYPE_MAX - 1);
	assert_int_equal(strlen(c.host), MDNS_HOST_MAX - 1);
	assert_int_equal(strlen(c.address), MDNS_ADDR_MAX - 1);
	assert_int_equal(c.port, 65535);
	assert_int_equal(c.gen, 0);
	assert_string_equal(c.id, "");
	mdns_candidate_fill(&c, NULL, NULL, NULL, NULL, 0, NULL);
	assert_string_equal(c.name, "");
	assert_string_equal(c.host, "");
}

/* ---- avahi_poll on the loop ---- */

struct pctx {
	struct loop *loop;
	const AvahiPoll *api;
	int calls;
	AvahiWatchEvent seen;
	AvahiWatchEvent got; /* watch_get_events inside the callback */
	int free_self;
	int rearm;           /* timeouts: re-arm this many times, 0 ms ahead */
	uint64_t fired_at;
};

static void
pwatch_cb(AvahiWatch *w, int fd, AvahiWatchEvent event, void *arg)
{
	struct pctx *c = arg;
	char b[16];

	c->calls++;
	c->seen = event;
	c->got = c->api->watch_get_events(w);
	if (event & AVAHI_WATCH_IN)
		(void)!read(fd, b, sizeof b);
	if (c->free_self)
		c->api->watch_free(w);
}

static void
run_until_calls(struct loop *loop, const int *calls, int want, uint64_t bound_ms)
{
	uint64_t end = loop_update_now(loop) + bound_ms;

	while (*calls < want && loop_update_now(loop) < end)
		assert_true(loop_run_once(loop, 20) >= 0);
	assert_int_equal(*calls, want);
}

static void
test_poll_watch(void **state)
{
	struct loop *loop = loop_new();
	struct avahi_poll *p = avahi_poll_new(loop);
	struct pctx c = { 0 };
	AvahiWatch *w;
	int fds[2];

	(void)state;
	c.loop = loop;
	c.api = avahi_poll_get(p);
	assert_int_equal(pipe(fds), 0);
	w = c.api->watch_new(c.api, fds[0], AVAHI_WATCH_IN, pwatch_cb, &c);
	assert_non_null(w);
	assert_int_equal(avahi_poll_watches(p), 1);

	assert_int_equal(write(fds[1], "x", 1), 1);
	run_until_calls(loop, &c.calls, 1, 1000);
	assert_int_equal(c.seen, AVAHI_WATCH_IN);
	assert_int_equal(c.got, AVAHI_WATCH_IN);

	/* Waiting for nothing: no callback although data is there. */
	c.api->watch_update(w, 0);
	assert_int_equal(write(fds[1], "y", 1), 1);
	assert_true(loop_run_once(loop, 50) >= 0);
	assert_int_equal(c.calls, 1);
	c.api->watch_update(w, AVAHI_WATCH_IN);
	run_until_calls(loop, &c.calls, 2, 1000);

	/* Hang-up is reported as ERR|HUP with IN; freeing inside the callback is safe. */
	c.free_self = 1;
	close(fds[1]);
	run_until_calls(loop, &c.calls, 3, 1000);
	assert_true(c.seen & AVAHI_WATCH_HUP);
	assert_true(c.seen & AVAHI_WATCH_ERR);
	assert_int_equal(avahi_poll_watches(p), 0);
	assert_true(loop_run_once(loop, 20) >= 0);
	assert_int_equal(c.calls, 3);

	close(fds[0]);
	avahi_poll_free(p);
	loop_free(loop);
}

static void
ptimeout_cb(AvahiTimeout *t, void *arg)
{
	struct pctx *c = arg;

	c->calls++;
	c->fired_at = loop_update_now(c->loop);
	if (c->rearm > 0) {
		struct timeval tv;

		c->rearm--;
		gettimeofday(&tv, NULL);
		c->api->timeout_update(t, &tv);
	} else if (c->free_self) {
		c->api->timeout_free(t);
	}
}

static void
test_poll_timeout(void **state)
{
	struct loop *loop = loop_new();
	struct avahi_poll *p = avahi_poll_new(loop);
	struct pctx c = { 0 }, never = { 0 };
	AvahiTimeout *t, *n;
	struct timeval tv;
	uint64_t start;

	(void)state;
	c.loop = never.loop = loop;
	c.api = never.api = avahi_poll_get(p);

	/* 40 ms ahead on avahi's clock: fires once, not before. */
	start = loop_update_now(loop);
	t = c.api->timeout_new(c.api, avahi_elapse_time(&tv, 40, 0), ptimeout_cb, &c);
	n = c.api->timeout_new(c.api, NULL, ptimeout_cb, &never);
	assert_int_equal(avahi_poll_timeouts(p), 2);
	run_until_calls(loop, &c.calls, 1, 2000);
	assert_true(c.fired_at - start >= 39);
	assert_true(loop_run_once(loop, 60) >= 0);
	assert_int_equal(c.calls, 1);

	/* Re-armed from its own callback twice (in the past = now), then freed in it. */
	c.rearm = 2;
	c.free_self = 1;
	gettimeofday(&tv, NULL);
	tv.tv_sec -= 5;
	c.api->timeout_update(t, &tv);
	run_until_calls(loop, &c.calls, 4, 1000);
	assert_int_equal(avahi_poll_timeouts(p), 1);

	/* Disarmed with NULL: never fires. */
	c.api->timeout_update(n, avahi_elapse_time(&tv, 1, 0));
	c.api->timeout_update(n, NULL);
	assert_true(loop_run_once(loop, 30) >= 0);
	assert_int_equal(never.calls, 0);
	c.api->timeout_free(n);
	assert_int_equal(avahi_poll_timeouts(p), 0);
	avahi_poll_free(p);
	loop_free(loop);
}

/* ---- mdns without any D-Bus ---- */

struct mctx {
	int status_calls;
	enum mdns_state state;
	char status[200];
	int found;
	int afn;
};

static void
m_found_cb(const struct mdns_candidate *c, void *arg)
{
	(void)c;
	((struct mctx *)arg)->found++;
}

static void
m_afn_cb(void *arg)
{
	((struct mctx *)arg)->afn++;
}

static void
m_status_cb(enum mdns_state state, const char *status, void *arg)
{
	struct mctx *c = arg;

	c->status_calls++;
	c->state = state;
	snprintf(c->status, sizeof c->status, "%s", status);
}

static void
test_mdns_no_dbus(void **state)
{
	char dir[] = "/tmp/test_mdns.XXXXXX", addr[128];
	struct loop *loop;
	struct mdns *m;
	struct mctx c = { 0 };
	struct mdns_cbs cbs = { m_found_cb, m_afn_cb, m_status_cb, &c };
	uint64_t end;

	(void)state;
	/* A bus socket that cannot exist: nothing on the host is contacted. */
	assert_non_null(mkdtemp(dir));
	snprintf(addr, sizeof addr, "unix:path=%s/no-bus", dir);
	assert_int_equal(setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1), 0);

	loop = loop_new();
	m = mdns_new(loop, &cbs, 10);
	assert_int_equal(c.status_calls, 0); /* nothing inside mdns_new */
	assert_int_equal(mdns_state(m), MDNS_STARTING);
	run_until_calls(loop, &c.status_calls, 1, 2000);
	assert_int_equal(c.state, MDNS_UNAVAILABLE);
	assert_string_equal(c.status, "mDNS unavailable: Daemon not running; scanning still works");
	assert_string_equal(mdns_status(m), c.status);
	assert_int_equal(mdns_state(m), MDNS_UNAVAILABLE);

	/* Retries every 10 ms without repeating the same status or crashing. */
	end = loop_update_now(loop) + 100;
	while (loop_update_now(loop) < end)
		assert_true(loop_run_once(loop, 20) >= 0);
	assert_int_equal(c.status_calls, 1);
	assert_int_equal(mdns_sessions(m), 0);
	assert_int_equal(mdns_count(m), 0);
	assert_null(mdns_candidate(m, 0));
	assert_false(mdns_all_for_now(m));
	assert_int_equal(c.found, 0);
	assert_int_equal(c.afn, 0);
	mdns_free(m);
	loop_free(loop);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_all_kept),
		cmocka_unit_test(test_gen1_shelly1),
		cmocka_unit_test(test_gen2_merge),
		cmocka_unit_test(test_keep_rule),
		cmocka_unit_test(test_txt_parsing),
		cmocka_unit_test(test_id_from_name),
		cmocka_unit_test(test_candidate_bounds),
		cmocka_unit_test(test_poll_watch),
		cmocka_unit_test(test_poll_timeout),
		cmocka_unit_test(test_mdns_no_dbus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
