/* engine/poller: the schedule (intervals, jitter, backoff, breaker, asleep). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/poller.h"
#include "net/http.h"
#include "store/store.h"
#include "util/loop.h"

static struct poller_opts
opts(void)
{
	struct poller_opts o;

	memset(&o, 0, sizeof o);
	o.interval_gen1_ms = 30000;
	o.interval_gen2_ms = 10000;
	o.offline_after = 3;
	o.breaker_after = 12;
	o.backoff_max_ms = 300000;
	o.jitter_pct = 10;
	return o;
}

static void
test_interval_by_generation(void **state)
{
	struct poller_opts o = opts();

	(void)state;
	o.jitter_pct = 0;
	assert_int_equal(poller_delay_ms(&o, 1, 0, 0, 12345), 30000);
	assert_int_equal(poller_delay_ms(&o, 2, 0, 0, 12345), 10000);
	assert_int_equal(poller_delay_ms(&o, 4, 0, 0, 12345), 10000);
}

static void
test_jitter_bounds(void **state)
{
	struct poller_opts o = opts();
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)state;
	for (uint64_t r = 0; r < 5000; r++) {
		uint64_t d = poller_delay_ms(&o, 2, 0, 0, r * 2654435761u);
		assert_true(d >= 9000 && d <= 11000);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	/* The jitter really spreads: both ends of the window are reached. */
	assert_int_equal(lo, 9000);
	assert_int_equal(hi, 11000);
}

/*
 * The schedule without jitter: generation, failures in a row, sleeping (battery device), and
 * the delay to the next poll.
 */
static const struct {
	int gen, failures, sleeps;
	uint64_t want;
} schedule[] = {
    /* A mains device: backoff doubles from the interval to backoff_max. */
    {2, 1, 0, 10000},
    {2, 2, 0, 20000},
    {2, 3, 0, 40000},
    {2, 5, 0, 160000},
    {2, 6, 0, 300000},
    {2, 11, 0, 300000},
    {1, 2, 0, 60000},
    /* A sleeping device: its interval while it answers, doubled from its first miss. */
    {1, 0, 1, 30000},
    {1, 1, 1, 60000},
    {1, 2, 1, 120000},
    {1, 3, 1, 240000},
    {1, 4, 1, 300000},
    {2, 1, 1, 20000},
    {2, 5, 1, 300000},
    {2, 100000, 1, 300000},
};

static void
test_schedule(void **state)
{
	struct poller_opts o = opts();

	(void)state;
	o.jitter_pct = 0;
	for (size_t i = 0; i < sizeof schedule / sizeof schedule[0]; i++) {
		uint64_t got = poller_delay_ms(
		    &o, schedule[i].gen, schedule[i].failures, schedule[i].sleeps, 0);

		if (got != schedule[i].want)
			fail_msg("gen %d, %d failures, sleeps %d: %llu ms, want %llu", schedule[i].gen,
			    schedule[i].failures, schedule[i].sleeps, (unsigned long long)got,
			    (unsigned long long)schedule[i].want);
	}
}

static void
test_breaker(void **state)
{
	struct poller_opts o = opts();

	(void)state;
	/* Breaker open: exactly one probe per backoff_max, no jitter below it. */
	assert_int_equal(poller_delay_ms(&o, 2, 12, 0, 777), 300000);
	assert_int_equal(poller_delay_ms(&o, 2, 1000, 0, 1), 300000);
}

/* A sleeping device (its fixed schedule is in schedule[]): never sooner than a mains device. */
static void
test_asleep_backs_off(void **state)
{
	struct poller_opts o = opts();
	uint64_t prev = 0;

	(void)state;
	o.jitter_pct = 0;
	/* Never sooner than a mains device with as many failures, never past the max. */
	for (int f = 1; f < 40; f++) {
		uint64_t s = poller_delay_ms(&o, 2, f, 1, 0);
		assert_true(s >= poller_delay_ms(&o, 2, f, 0, 0) || f >= o.breaker_after);
		assert_true(s >= prev && s <= o.backoff_max_ms);
		prev = s;
	}
	/* With jitter: within +-10% of the schedule. */
	o.jitter_pct = 10;
	for (uint64_t r = 0; r < 1000; r++) {
		uint64_t d = poller_delay_ms(&o, 2, 2, 1, r * 2654435761u);
		assert_true(d >= 36000 && d <= 44000);
	}
}

/* A device that accepts connections and never answers: every request stays in flight. */
struct mute_dev {
	int fd;
	uint16_t port;
	int accepted;
	int conns[16];
};

static void
mute_dev_open(struct mute_dev *m)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	memset(m, 0, sizeof *m);
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(m->fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(m->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(m->fd, 16), 0);
	assert_int_equal(getsockname(m->fd, (struct sockaddr *)&sa, &len), 0);
	m->port = ntohs(sa.sin_port);
}

static void
mute_dev_accept(struct mute_dev *m)
{
	int c;

	while ((c = accept(m->fd, NULL, NULL)) >= 0) {
		if (m->accepted < 16)
			m->conns[m->accepted] = c;
		else
			close(c);
		m->accepted++;
	}
}

static void
mute_dev_close(struct mute_dev *m)
{
	for (int i = 0; i < m->accepted && i < 16; i++)
		close(m->conns[i]);
	close(m->fd);
}

/* Runs the loop until the mute device has accepted n connections; 10 s at most. */
static int
run_until_accepted(struct loop *loop, struct mute_dev *m, int n)
{
	for (int i = 0; i < 1000 && m->accepted < n; i++) {
		loop_run_once(loop, 10);
		mute_dev_accept(m);
	}
	return m->accepted >= n;
}

/* A loop, an HTTP client and an in-memory store with one Gen2 device at 127.0.0.1:port. */
struct rig {
	struct loop *loop;
	struct http *http;
	struct store *store;
};

static void
rig_open_gen(struct rig *r, const char *mac, int port, int gen)
{
	struct store_device sd;
	char *cause = NULL;

	r->loop = loop_new();
	r->http = http_new(r->loop);
	if (store_open(":memory:", &r->store, &cause) != 0)
		fail_msg("store_open: %s", cause);
	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, mac, 13);
	sd.gen = gen;
	sd.host = "127.0.0.1";
	sd.port = port;
	sd.scheme = "http";
	assert_int_equal(store_device_upsert(r->store, &sd, &cause), 0);
}

static void
rig_open(struct rig *r, const char *mac, int port)
{
	rig_open_gen(r, mac, port, 2);
}

/* Options for a rig's device: polled every 50 ms with these timeouts. */
static struct poller_opts
rig_opts(int connect_ms, int request_ms)
{
	struct poller_opts o = opts();

	o.interval_gen2_ms = 50;
	o.connect_timeout_ms = connect_ms;
	o.request_timeout_ms = request_ms;
	o.max_body = 65536;
	return o;
}

static struct poller *
rig_poller(struct rig *r, const struct poller_opts *o)
{
	struct poller *p = poller_new(r->loop, r->http, r->store, o);
	char *cause = NULL;

	assert_int_equal(poller_load(p, NULL, &cause), 0);
	return p;
}

static void
rig_close(struct rig *r, struct poller *p)
{
	poller_free(p);
	http_free(r->http);
	store_free(r->store);
	loop_free(r->loop);
}

/*
 * A poller that loses the lease while a slow request is in flight (poller_stop) and regains
 * it (poller_start) polls that device again: the cancelled request does not leave it busy.
 */
static void
test_stop_mid_request_then_restart(void **state)
{
	struct poller_opts o = rig_opts(5000, 60000);
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	mute_dev_open(&m);
	rig_open(&r, "aabbccddeeff", m.port);
	p = rig_poller(&r, &o);

	poller_start(p);
	assert_true(run_until_accepted(r.loop, &m, 1));
	assert_int_equal(poller_inflight(p), 1);
	poller_stop(p); /* lease lost mid-request */
	assert_int_equal(poller_inflight(p), 0);
	loop_run_once(r.loop, 10);
	poller_start(p); /* lease regained */
	assert_true(run_until_accepted(r.loop, &m, 2));
	assert_int_equal(poller_inflight(p), 1);

	rig_close(&r, p);
	mute_dev_close(&m);
}

struct observed {
	int n;
	char mac[16];
	enum http_result result;
};

static void
observe_cb(const char *mac, int gen, enum http_result result, double seconds, void *arg)
{
	struct observed *o = arg;

	(void)gen, (void)seconds;
	o->n++;
	snprintf(o->mac, sizeof o->mac, "%s", mac != NULL ? mac : "(null)");
	o->result = result;
}

/* Every finished poll names its device: the observer (and so fleet events) gets the MAC. */
static void
test_observer_gets_mac(void **state)
{
	struct poller_opts o = rig_opts(2000, 2000);
	struct observed seen = { 0 };
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	mute_dev_open(&m);
	close(m.fd); /* nothing listens: the poll fails at once */
	rig_open(&r, "a0b1c2d3e4f5", m.port);
	p = rig_poller(&r, &o);
	poller_set_observer(p, observe_cb, &seen);
	poller_start(p);
	for (int i = 0; i < 1000 && seen.n == 0; i++)
		loop_run_once(r.loop, 10);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.mac, "a0b1c2d3e4f5");
	assert_int_not_equal(seen.result, HTTP_OK);
	rig_close(&r, p);
}

/* A Gen1 H&T (a battery model) at 127.0.0.1:port, last seen at last_seen_ms. */
static void
rig_add_model(struct rig *r, const char *mac, int port, int64_t last_seen_ms, int gen,
    const char *model)
{
	struct store_device sd;
	char *cause = NULL;

	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, mac, 13);
	sd.gen = gen;
	sd.model = model;
	sd.host = "127.0.0.1";
	sd.port = port;
	sd.scheme = "http";
	sd.last_seen_ms = last_seen_ms;
	assert_int_equal(store_device_upsert(r->store, &sd, &cause), 0);
}

static void
rig_add_sleeper(struct rig *r, const char *mac, int port, int64_t last_seen_ms)
{
	rig_add_model(r, mac, port, last_seen_ms, 1, "SHHT-1");
}

struct view_of {
	const char *mac;
	enum device_state state;
	char error[256];
};

static void
view_of_cb(const struct fleet_view *v, void *arg)
{
	struct view_of *w = arg;

	if (strcmp(v->mac, w->mac) == 0) {
		w->state = v->state;
		snprintf(w->error, sizeof w->error, "%s", v->error);
	}
}

static void
flag_done_cb(void *arg)
{
	*(int *)arg = 1;
}

/*
 * Configuration management reloads an unchanged file every few seconds: no device is polled
 * sooner for it. 200 devices polled once wait 20 s +- 10 % for the next poll; 100 reloads
 * with the same options later, none is polled in the next 2 s (a reload that re-armed them
 * would spread them over 0-20 s). A reload to a shorter interval still applies at once.
 */
static void
test_unchanged_reload_polls_no_sooner(void **state)
{
	struct poller_opts o = rig_opts(2000, 2000);
	struct observed seen = { 0 };
	uint64_t end;
	int done = 0;
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	mute_dev_open(&m);
	close(m.fd); /* nothing listens: every poll fails at once */
	rig_open(&r, "e0b1c2d3e400", m.port);
	for (int i = 1; i < 200; i++) {
		char mac[16];

		snprintf(mac, sizeof mac, "e0b1c2d3e%03x", i);
		rig_add_model(&r, mac, m.port, 0, 2, "SNSW-001P16EU");
	}
	o.interval_gen2_ms = 20000;
	p = rig_poller(&r, &o);
	poller_set_observer(p, observe_cb, &seen);
	poller_start(p);
	poller_poll_all(p, flag_done_cb, &done); /* each next poll: 18-22 s from its answer */
	for (int i = 0; i < 1000 && !done; i++)
		loop_run_once(r.loop, 10);
	assert_true(done);
	assert_int_equal(seen.n, 200);
	for (int i = 0; i < 100; i++)
		poller_set_opts(p, &o);
	end = loop_update_now(r.loop) + 2000;
	while (loop_update_now(r.loop) < end)
		loop_run_once(r.loop, 10);
	assert_int_equal(seen.n, 200);
	o.interval_gen2_ms = 50;
	poller_set_opts(p, &o);
	for (int i = 0; i < 1000 && seen.n < 400; i++)
		loop_run_once(r.loop, 10);
	assert_true(seen.n >= 400);
	rig_close(&r, p);
}

/* Polls every device once (10 s at most) and returns what the poller shows of mac. */
static struct view_of
poll_once_view(struct rig *r, struct poller *p, const char *mac)
{
	struct view_of w = { mac, DEVICE_ONLINE, "" };
	int done = 0;

	poller_poll_all(p, flag_done_cb, &done);
	for (int i = 0; i < 1000 && !done; i++)
		loop_run_once(r->loop, 10);
	assert_true(done);
	poller_foreach(p, view_of_cb, &w);
	return w;
}

/*
 * A sleeper that does not answer is asleep; silent for more than a day it says since when
 * (its last answer), while one seen an hour ago has no error at all.
 */
static void
test_asleep_long_says_since(void **state)
{
	struct poller_opts o = opts();
	struct mute_dev m;
	struct view_of w;
	struct poller *p;
	struct rig r;
	int64_t now = loop_wall_ms();

	(void)state;
	mute_dev_open(&m);
	close(m.fd); /* nothing listens: refused at once */
	rig_open(&r, "a0b1c2d3e4f5", m.port);
	rig_add_sleeper(&r, "a0b1c2d3e4f6", m.port, now - 49 * 3600 * 1000LL);
	rig_add_sleeper(&r, "a0b1c2d3e4f7", m.port, now - 3600 * 1000LL);
	o.connect_timeout_ms = 2000;
	o.request_timeout_ms = 2000;
	o.max_body = 65536;
	p = rig_poller(&r, &o);
	w = poll_once_view(&r, p, "a0b1c2d3e4f6");
	assert_int_equal(w.state, DEVICE_ASLEEP);
	assert_non_null(strstr(w.error, "asleep since "));
	assert_non_null(strstr(w.error, "more than 24 h"));
	poller_stop(p);
	w.mac = "a0b1c2d3e4f7";
	poller_foreach(p, view_of_cb, &w);
	assert_int_equal(w.state, DEVICE_ASLEEP);
	assert_string_equal(w.error, "");
	rig_close(&r, p);
}

/*
 * A sleeper gone from the network (its SYN never answered: a full accept queue) costs at most
 * a 1 s connect timeout, not the configured 30 s: the poll fails well within 20 s.
 */
static void
test_asleep_connect_timeout_short(void **state)
{
	struct poller_opts o = opts();
	struct sockaddr_in sa;
	struct observed seen = { 0 };
	struct mute_dev m, full;
	struct poller *p;
	struct rig r;
	int fill[8];

	(void)state;
	mute_dev_open(&full);
	assert_int_equal(listen(full.fd, 0), 0); /* backlog 0: one pending connection at most */
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(full.port);
	for (int i = 0; i < 8; i++) { /* fill the accept queue: later SYNs are dropped */
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
	}
	mute_dev_open(&m);
	close(m.fd); /* the rig's mains device: refused at once */
	rig_open(&r, "b0b1c2d3e4f5", m.port);
	rig_add_sleeper(&r, "b0b1c2d3e4f6", full.port, 0);
	o.connect_timeout_ms = 30000;
	o.request_timeout_ms = 60000;
	o.max_body = 65536;
	p = rig_poller(&r, &o);
	poller_set_observer(p, observe_cb, &seen);
	poller_poll_all(p, NULL, NULL);
	/* A wall-clock bound, not a count of loop turns (a turn ends early on any event): 20 s
	 * holds a 1 s connect timeout on any machine and fails the configured 30 s. */
	for (int64_t end = loop_wall_ms() + 20000;
	     loop_wall_ms() < end && !(seen.n >= 2 && strcmp(seen.mac, "b0b1c2d3e4f6") == 0);)
		loop_run_once(r.loop, 10);
	assert_string_equal(seen.mac, "b0b1c2d3e4f6");
	assert_int_not_equal(seen.result, HTTP_OK);
	rig_close(&r, p);
	for (int i = 0; i < 8; i++)
		close(fill[i]);
	mute_dev_close(&full);
}

/* Serves one canned reply on each connection the mute device accepts, once it has read the
 * request; *served counts the connections answered. */
static void
serve_replies(struct mute_dev *m, const char *body, int *served)
{
	char req[2048], resp[1024];
	int n = snprintf(resp, sizeof resp,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    strlen(body), body);

	mute_dev_accept(m);
	for (int i = *served; i < m->accepted && i < 16; i++) {
		ssize_t got = recv(m->conns[i], req, sizeof req - 1, MSG_DONTWAIT | MSG_PEEK);
		if (got <= 0)
			break;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") == NULL)
			break;
		assert_int_equal(send(m->conns[i], resp, (size_t)n, MSG_NOSIGNAL), n);
		(*served)++;
	}
}

/*
 * Runs the loop (m, when not NULL, answering with body) until mac's stored status is in state;
 * 10 s at most. Returns the last stored status (caller frees), NULL none.
 */
static struct store_status *
poll_until_state(
    struct rig *r, const char *mac, struct mute_dev *m, const char *body, const char *state)
{
	struct store_status *st = NULL;
	char *cause = NULL;
	int served = 0;

	for (int i = 0; i < 1000; i++) {
		loop_run_once(r->loop, 10);
		if (m != NULL)
			serve_replies(m, body, &served);
		if (store_flush(r->store, &cause) != 0)
			fail_msg("store_flush: %s", cause);
		store_status_free(st);
		st = store_status_get(r->store, mac);
		if (st != NULL && strcmp(st->state, state) == 0)
			break;
	}
	return st;
}

/*
 * A device that answered and then stops (refused): its state and error change, its last reply
 * (typed values, raw reply, the time it was read) stays in the store.
 */
static void
test_failed_poll_keeps_last_reply(void **state)
{
	static const char body[] = "{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":12.5},"
	                           "\"sys\":{\"uptime\":100}}";
	struct poller_opts o = rig_opts(2000, 2000);
	struct store_status *st;
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	mute_dev_open(&m);
	rig_open(&r, "a0b1c2d3e4f6", m.port);
	o.offline_after = 1;
	o.breaker_after = 4;
	o.backoff_max_ms = 100;
	p = rig_poller(&r, &o);
	poller_start(p);
	st = poll_until_state(&r, "a0b1c2d3e4f6", &m, body, "online");
	assert_non_null(st);
	assert_string_equal(st->state, "online");
	assert_true(st->power_w == 12.5);
	assert_true(st->reply_ts_ms > 0);
	store_status_free(st);

	mute_dev_close(&m); /* the device goes away: refused from now on */
	st = poll_until_state(&r, "a0b1c2d3e4f6", NULL, NULL, "offline");
	assert_non_null(st);
	assert_string_equal(st->state, "offline");
	assert_non_null(st->error);
	assert_true(st->power_w == 12.5);
	assert_int_equal(st->outputs_on, 1);
	assert_non_null(st->json);
	assert_non_null(strstr(st->json, "\"apower\":12.5"));
	/* Kept from the last reply, not erased; it may share the failure's millisecond (a refused
	 * connection fails at once). */
	assert_true(st->reply_ts_ms > 0 && st->reply_ts_ms <= st->ts_ms);
	store_status_free(st);
	rig_close(&r, p);
}

/*
 * A Gen2 device on a mute device's socket. Shelly.GetStatus says cfg_rev 7 for its first
 * rev_change_at reads, then 8 (the device was renamed). Shelly.GetConfig says the name "Attic"
 * at its first read and "Cellar" after it; the reads from fail_from on fail (HTTP 500), fails
 * of them.
 */
struct cfg_dev {
	struct mute_dev m;
	int served;
	int statuses, configs, idents;
	int rev_change_at, fail_from, fails;
	const char *mac, *fw_id, *ver; /* GET /shelly: this device (ver NULL: none) */
	int ident_fails;               /* GET /shelly answers 500 */
	struct store *remove_from;     /* GET /shelly: the device is removed from it first */
};

static void
cfg_dev_serve(struct cfg_dev *c)
{
	char req[2048], resp[1024], body[512];

	mute_dev_accept(&c->m);
	for (; c->served < c->m.accepted && c->served < 16; c->served++) {
		int fd = c->m.conns[c->served], n;
		ssize_t got = recv(fd, req, sizeof req - 1, MSG_DONTWAIT | MSG_PEEK);
		if (got <= 0)
			break;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") == NULL)
			break;
		if (strncmp(req, "GET /shelly ", 12) == 0 && c->ident_fails) {
			c->idents++;
			n = snprintf(resp, sizeof resp, "HTTP/1.1 500 Internal Server Error\r\n"
			    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		} else if (strncmp(req, "GET /shelly ", 12) == 0) {
			char *cause = NULL;
			if (c->remove_from != NULL &&
			    store_device_remove(c->remove_from, c->mac, &cause) < 0)
				fail_msg("store_device_remove: %s", cause);
			c->idents++;
			snprintf(body, sizeof body, "{\"id\":\"shellyplus1-%s\",\"mac\":\"%s\","
			    "\"model\":\"SNSW-001X16EU\",\"gen\":2,\"fw_id\":\"%s\",%s%s%s"
			    "\"app\":\"Plus1\",\"auth_en\":false}", c->mac, c->mac, c->fw_id,
			    c->ver ? "\"ver\":\"" : "", c->ver ? c->ver : "", c->ver ? "\"," : "");
			n = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n%s", strlen(body), body);
		} else if (strncmp(req, "GET /rpc/Shelly.GetConfig ", 26) == 0) {
			int i = c->configs++;
			snprintf(body, sizeof body, "{\"sys\":{\"device\":{\"name\":\"%s\"}}}",
			    i == 0 ? "Attic" : "Cellar");
			if (i >= c->fail_from && i < c->fail_from + c->fails)
				n = snprintf(resp, sizeof resp, "HTTP/1.1 500 Internal Server Error\r\n"
				    "Content-Length: 0\r\nConnection: close\r\n\r\n");
			else
				n = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				    "Connection: close\r\n\r\n%s", strlen(body), body);
		} else {
			snprintf(body, sizeof body, "{\"sys\":{\"uptime\":100,\"cfg_rev\":%d}}",
			    c->statuses++ < c->rev_change_at ? 7 : 8);
			n = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n%s", strlen(body), body);
		}
		assert_int_equal(send(fd, resp, (size_t)n, MSG_NOSIGNAL), n);
		close(fd); /* answered: its slot is reused */
	}
	if (c->served == 16 && c->m.accepted == 16)
		c->served = c->m.accepted = 0; /* every slot answered and closed */
}

/* Runs the loop, the device answering, until it has answered n status reads; 20 s at most. */
static void
cfg_dev_run(struct rig *r, struct cfg_dev *c, int n)
{
	for (int i = 0; i < 2000 && c->statuses < n; i++) {
		loop_run_once(r->loop, 10);
		cfg_dev_serve(c);
	}
	assert_true(c->statuses >= n);
}

/* The revision whose settings the store says were read (spared at the next start). */
static int64_t
stored_cfg_rev(struct rig *r, const char *mac)
{
	struct store_status *st;
	char *cause = NULL;
	int64_t rev;

	if (store_flush(r->store, &cause) != 0)
		fail_msg("store_flush: %s", cause);
	st = store_status_get(r->store, mac);
	assert_non_null(st);
	rev = st->cfg_rev;
	store_status_free(st);
	return rev;
}

static char *
registry_name(struct rig *r, const char *mac)
{
	struct store_device *sd = store_device_find_mac(r->store, mac);
	char *name;

	assert_non_null(sd);
	name = strdup(sd->name != NULL ? sd->name : "");
	store_device_free(sd);
	return name;
}

/* The firmware of the rig's device as stored (ver NULL: a database older than the column). */
static void
rig_fw(struct rig *r, const char *mac, const char *fw, const char *ver)
{
	struct store_device sd;
	char *cause = NULL;

	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, mac, 13);
	sd.fw = fw;
	sd.fw_version = ver;
	assert_int_equal(store_device_upsert(r->store, &sd, &cause), 0);
}

/*
 * Starts a poller (every 50 ms, 2 s timeouts) on c's device registered as mac (with the stored
 * firmware id fw and no version when fw is not NULL); cfg_dev_stop ends it.
 */
static struct poller *
cfg_dev_start(struct rig *r, struct cfg_dev *c, const char *mac, const char *fw)
{
	struct poller_opts o = rig_opts(2000, 2000);
	struct poller *p;

	mute_dev_open(&c->m);
	rig_open(r, mac, c->m.port);
	if (fw != NULL)
		rig_fw(r, mac, fw, NULL);
	p = rig_poller(r, &o);
	poller_start(p);
	return p;
}

static void
cfg_dev_stop(struct rig *r, struct poller *p, struct cfg_dev *c)
{
	rig_close(r, p);
	close(c->m.fd);
}

/*
 * The settings read after a revision change (a rename on the device) fails once: the new
 * revision is not taken as read, and the next poll reads it (the new name reaches the registry).
 */
static void
test_failed_settings_read_is_retried(void **state)
{
	struct cfg_dev c = { .rev_change_at = 2, .fail_from = 1, .fails = 1 };
	struct poller *p;
	struct rig r;
	char *name;

	(void)state;
	p = cfg_dev_start(&r, &c, "c0b1c2d3e4f7", NULL);
	cfg_dev_run(&r, &c, 2); /* revision 7 read: "Attic" */
	assert_int_equal(c.configs, 1);
	name = registry_name(&r, "c0b1c2d3e4f7");
	assert_string_equal(name, "Attic");
	free(name);
	cfg_dev_run(&r, &c, 4); /* revision 8: read, failed */
	assert_int_equal(c.configs, 2);
	assert_int_equal(stored_cfg_rev(&r, "c0b1c2d3e4f7"), 7);
	cfg_dev_run(&r, &c, 6); /* read again */
	assert_int_equal(c.configs, 3);
	name = registry_name(&r, "c0b1c2d3e4f7");
	assert_string_equal(name, "Cellar");
	free(name);
	/* Read, the revision needs no more reads. */
	cfg_dev_run(&r, &c, 10);
	assert_int_equal(c.configs, 3);
	assert_int_equal(stored_cfg_rev(&r, "c0b1c2d3e4f7"), 8);
	cfg_dev_stop(&r, p, &c);
}

/*
 * Settings that never read are tried at the next poll, then after 1, 3, 7 ... skipped polls:
 * in 20 polls at polls 1, 2, 4, 8 and 16.
 */
static void
test_failing_settings_read_backs_off(void **state)
{
	struct cfg_dev c = { .rev_change_at = 1000, .fail_from = 0, .fails = 1000 };
	struct poller *p;
	struct rig r;

	(void)state;
	p = cfg_dev_start(&r, &c, "c0b1c2d3e4f8", NULL);
	cfg_dev_run(&r, &c, 20);
	assert_int_equal(c.configs, 5);
	/* A restart (or the next --poll-once) reads them too. */
	assert_int_equal(stored_cfg_rev(&r, "c0b1c2d3e4f8"), STORE_NULL_INT);
	cfg_dev_stop(&r, p, &c);
}


/* The stored firmware id and version of mac ("" when NULL), in fw and ver. */
static void
stored_fw(struct rig *r, const char *mac, char *fw, char *ver, size_t size)
{
	struct store_device *sd = store_device_find_mac(r->store, mac);

	assert_non_null(sd);
	snprintf(fw, size, "%s", sd->fw != NULL ? sd->fw : "");
	snprintf(ver, size, "%s", sd->fw_version != NULL ? sd->fw_version : "");
	store_device_free(sd);
}

/*
 * A dev build (its firmware id has no version) on a database older than the version column,
 * polled 6 times; its /shelly says ver (NULL: none). Returns how often /shelly was read; the
 * stored version in stored.
 */
static int
dev_build_polled(const char *mac, const char *ver, char *stored, size_t size)
{
	const char *dev = "20241113-122729/gbbb762d";
	struct poller_opts o = rig_opts(2000, 2000);
	struct cfg_dev c = { .rev_change_at = 1000, .mac = mac, .fw_id = dev, .ver = ver };
	struct poller *p;
	struct rig r;
	char fw[64];

	mute_dev_open(&c.m);
	rig_open(&r, mac, c.m.port);
	rig_fw(&r, mac, dev, NULL);
	p = rig_poller(&r, &o);
	poller_start(p);
	cfg_dev_run(&r, &c, 6);
	stored_fw(&r, mac, fw, stored, size);
	assert_string_equal(fw, dev);
	cfg_dev_stop(&r, p, &c);
	return c.idents;
}

/* Its /shelly is read once for its "ver", which is stored; the polls after it read the status
 * only (one request a poll). */
static void
test_unknown_version_read_once(void **state)
{
	char ver[64];

	(void)state;
	assert_int_equal(dev_build_polled("c0b1c2d3e4f9", "1.4.99-dev111444", ver, sizeof ver), 1);
	assert_string_equal(ver, "1.4.99-dev111444");
}

/*
 * A device whose /shelly fails (500) while only its version is asked is polled as before: its
 * status is read at every poll, /shelly is not asked again in the run.
 */
static void
test_version_read_fails_status_polled(void **state)
{
	const char *mac = "c0b1c2d3e4fc", *dev = "20241113-122729/gbbb762d";
	struct cfg_dev c = { .rev_change_at = 1000, .mac = mac, .fw_id = dev, .ident_fails = 1 };
	struct poller *p;
	struct rig r;

	(void)state;
	p = cfg_dev_start(&r, &c, mac, dev);
	cfg_dev_run(&r, &c, 6); /* fails unless the status is read at every poll */
	assert_int_equal(c.idents, 1);
	cfg_dev_stop(&r, p, &c);
}

/*
 * A device removed (by another process) while its /shelly read is in flight stays removed:
 * what the read taught is not written as a new row.
 */
static void
test_removed_device_not_written_back(void **state)
{
	const char *mac = "c0b1c2d3e4fd", *dev = "20241113-122729/gbbb762d";
	struct poller_opts o = rig_opts(2000, 2000);
	struct cfg_dev c = { .rev_change_at = 1000, .mac = mac, .fw_id = dev, .ver = "1.4.99" };
	struct store_device *sd;
	struct poller *p;
	struct rig r;

	(void)state;
	mute_dev_open(&c.m);
	rig_open(&r, mac, c.m.port);
	rig_fw(&r, mac, dev, NULL);
	c.remove_from = r.store;
	p = rig_poller(&r, &o);
	poller_start(p);
	cfg_dev_run(&r, &c, 2);
	assert_int_equal(c.idents, 1);
	sd = store_device_find_mac(r.store, mac);
	assert_null(sd);
	cfg_dev_stop(&r, p, &c);
}

/* A device whose /shelly has no "ver" either is asked once in a run, not at every poll. */
static void
test_version_absent_asked_once(void **state)
{
	char ver[64];

	(void)state;
	assert_int_equal(dev_build_polled("c0b1c2d3e4fa", NULL, ver, sizeof ver), 1);
	assert_string_equal(ver, "");
}

/*
 * The verify stage stores the firmware /shelly says when it changed (an update since): the
 * stored 1.7.5 becomes 1.8.0, id and version.
 */
static void
test_verify_refreshes_fw(void **state)
{
	const char *mac = "c0b1c2d3e4fb", *now = "20250101-101010/1.8.0-gabcdef0";
	struct poller_opts o = rig_opts(2000, 2000);
	struct cfg_dev c = { .rev_change_at = 1000, .mac = mac, .fw_id = now, .ver = "1.8.0" };
	struct poller *p;
	struct rig r;
	char fw[64], ver[64];

	(void)state;
	mute_dev_open(&c.m);
	rig_open_gen(&r, mac, c.m.port, 0); /* generation unknown: verified at every poll */
	rig_fw(&r, mac, "20240801-080808/1.7.5-g1234567", "1.7.5");
	p = rig_poller(&r, &o);
	poller_start(p);
	cfg_dev_run(&r, &c, 2);
	assert_true(c.idents >= 1);
	stored_fw(&r, mac, fw, ver, sizeof fw);
	assert_string_equal(fw, now);
	assert_string_equal(ver, "1.8.0");
	cfg_dev_stop(&r, p, &c);
}

/* Counts the stored events of kind (all when NULL); *detail is the last one's. */
struct ev_count {
	const char *kind;
	int n;
	char detail[256];
};

static int
ev_count_cb(const struct store_event *ev, void *arg)
{
	struct ev_count *c = arg;

	if (c->kind == NULL || strcmp(ev->kind, c->kind) == 0) {
		c->n++;
		snprintf(c->detail, sizeof c->detail, "%s", ev->detail ? ev->detail : "");
	}
	return 0;
}

static struct ev_count
events_of(struct rig *r, const char *kind)
{
	struct ev_count c = { kind, 0, "" };
	char *cause = NULL;

	if (store_flush(r->store, &cause) != 0)
		fail_msg("store_flush: %s", cause);
	assert_int_equal(store_event_list(r->store, 0, 10000, ev_count_cb, &c, &cause), 0);
	return c;
}

/* Another poller's status row of mac: state, and (json not NULL) a reply with uptime. */
static void
other_poller_writes(struct rig *r, const char *mac, const char *state, const char *json,
    int64_t uptime_s)
{
	struct store_status ss;
	char *cause = NULL;

	memset(&ss, 0, sizeof ss);
	memcpy(ss.mac, mac, 13);
	ss.ts_ms = loop_wall_ms();
	ss.state = state;
	ss.power_w = ss.energy_wh = ss.temperature_c = ss.rssi_dbm = NAN;
	ss.uptime_s = json != NULL ? uptime_s : STORE_NULL_INT;
	ss.outputs_on = ss.fw_update = ss.cfg_rev = STORE_NULL_INT;
	ss.json = json;
	ss.keep_reply = json == NULL;
	assert_int_equal(store_queue_status(r->store, &ss), 0);
	if (store_flush(r->store, &cause) != 0)
		fail_msg("store_flush: %s", cause);
}

/* The stored status of mac once its uptime is uptime_s (10 s at most); caller frees. */
static struct store_status *
poll_until_uptime(struct rig *r, const char *mac, struct mute_dev *m, const char *body,
    int64_t uptime_s)
{
	struct store_status *st = NULL;
	char *cause = NULL;
	int served = 0;

	for (int i = 0; i < 1000; i++) {
		loop_run_once(r->loop, 10);
		serve_replies(m, body, &served);
		if (store_flush(r->store, &cause) != 0)
			fail_msg("store_flush: %s", cause);
		store_status_free(st);
		st = store_status_get(r->store, mac);
		if (st != NULL && st->uptime_s == uptime_s)
			break;
	}
	return st;
}

/* Whether the poller's view of a device has a reading of value (and what state it shows). */
struct reading_of {
	const char *mac;
	double value;
	int found;
	enum device_state state;
	int64_t last_seen_ms;
};

static void
reading_of_cb(const struct fleet_view *v, void *arg)
{
	struct reading_of *w = arg;

	if (strcmp(v->mac, w->mac) != 0)
		return;
	w->state = v->state;
	w->last_seen_ms = v->last_seen_ms;
	w->found = 0;
	for (size_t i = 0; i < v->nsamples; i++)
		w->found |= v->samples[i].value == w->value;
}

/*
 * A poller that regains the lease works from the store, not from what it saw before it lost
 * it: a reboot and a going offline that another poller recorded meanwhile are not recorded
 * again, and the device shows the stored state before its first poll.
 */
static void
test_lease_regained_takes_store_state(void **state)
{
	static const char mac[] = "d0b1c2d3e4f5";
	struct poller_opts o = rig_opts(2000, 2000);
	struct store_status *st;
	struct view_of w = { mac, DEVICE_ONLINE, "" };
	struct poller_stats ps;
	struct mute_dev m;
	struct poller *p;
	struct rig r;
	char *cause = NULL;
	uint64_t polls;
	struct reading_of up = { mac, 3, 0, DEVICE_OFFLINE, 0 };
	int64_t seen;

	(void)state;
	mute_dev_open(&m);
	rig_open(&r, mac, m.port);
	o.offline_after = 1;
	o.breaker_after = 4;
	o.backoff_max_ms = 100;
	p = rig_poller(&r, &o);
	assert_int_equal(poller_load_fresh(p, NULL, &cause), 0); /* it leads */
	poller_start(p);
	st = poll_until_uptime(&r, mac, &m, "{\"sys\":{\"uptime\":313}}", 313);
	assert_int_equal(st->uptime_s, 313);
	store_status_free(st);
	poller_stop(p); /* lost the lease: the other poller saw the reboot */
	other_poller_writes(&r, mac, "online", "{\"sys\":{\"uptime\":3}}", 3);

	seen = loop_wall_ms() + 5000; /* the other poller's last answer, after this one's */
	assert_int_equal(store_queue_seen(r.store, mac, seen), 0);
	if (store_flush(r.store, &cause) != 0)
		fail_msg("store_flush: %s", cause);

	assert_int_equal(poller_load_fresh(p, NULL, &cause), 0); /* regained */
	/* /metrics does not go back in time: the stored last answer and uptime. */
	poller_foreach(p, reading_of_cb, &up);
	assert_true(up.found);
	assert_int_equal(up.last_seen_ms, seen);
	poller_start(p);
	st = poll_until_uptime(&r, mac, &m, "{\"sys\":{\"uptime\":5}}", 5);
	assert_int_equal(st->uptime_s, 5);
	store_status_free(st);
	assert_int_equal(events_of(&r, "rebooted").n, 0);

	poller_stop(p); /* lost again: the other poller saw it go offline */
	mute_dev_close(&m);
	other_poller_writes(&r, mac, "offline", NULL, 0);
	assert_int_equal(poller_load_fresh(p, NULL, &cause), 0);
	poller_foreach(p, view_of_cb, &w);
	assert_int_equal(w.state, DEVICE_OFFLINE); /* before any poll of its own */
	poller_get_stats(p, &ps);
	polls = ps.polls;
	poller_start(p);
	for (int i = 0; i < 1000 && ps.polls <= polls; i++) {
		loop_run_once(r.loop, 10);
		poller_get_stats(p, &ps);
	}
	assert_true(ps.polls > polls); /* it polled, and failed */
	assert_int_equal(events_of(&r, "offline").n, 0);
	poller_foreach(p, view_of_cb, &w);
	assert_int_equal(w.state, DEVICE_OFFLINE);
	rig_close(&r, p);
}


/*
 * A device stored offline by a run in which it never answered (no reply, never seen) counts
 * as never polled: its first answer is "first seen online", not "offline -> online".
 */
static void
test_never_answered_first_seen(void **state)
{
	static const char mac[] = "d0b1c2d3e4f6";
	struct poller_opts o = rig_opts(2000, 2000);
	struct store_status *st;
	struct ev_count ev;
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	mute_dev_open(&m);
	rig_open(&r, mac, m.port);
	other_poller_writes(&r, mac, "offline", NULL, 0); /* an earlier run: never answered */
	st = store_status_get(r.store, mac);
	assert_non_null(st);
	assert_int_equal(st->reply_ts_ms, 0);
	store_status_free(st);
	p = rig_poller(&r, &o);
	poller_start(p);
	st = poll_until_state(&r, mac, &m, "{\"sys\":{\"uptime\":10}}", "online");
	assert_string_equal(st->state, "online");
	store_status_free(st);
	ev = events_of(&r, "online");
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.detail, "first seen online");
	rig_close(&r, p);
	mute_dev_close(&m);
}


/* A sleeper the run before saw answer (reply, uptime) then fall asleep; nothing listens now. */
struct slept {
	const char *mac, *other, *model, *reply;
	int gen, uptime;
};

static struct poller *
rig_after_sleep(struct rig *r, struct mute_dev *m, const struct slept *s, struct poller_opts *o)
{
	mute_dev_open(m);
	close(m->fd); /* nothing listens: asleep */
	rig_open(r, s->other, m->port);
	rig_add_model(r, s->mac, m->port, loop_wall_ms() - 60000, s->gen, s->model);
	other_poller_writes(r, s->mac, "online", s->reply, s->uptime); /* it answered */
	other_poller_writes(r, s->mac, "asleep", NULL, 0);             /* then fell asleep */
	o->connect_timeout_ms = 2000;
	o->request_timeout_ms = 2000;
	o->max_body = 65536;
	return rig_poller(r, o);
}

/*
 * An asleep battery sensor's last readings (its stored reply) are served after a restart,
 * before any poll and while it stays asleep, until a new reply.
 */
static void
test_asleep_readings_survive_restart(void **state)
{
	static const char mac[] = "d0b1c2d3e4f7";
	static const char reply[] = "{\"tmp\":{\"value\":21.75,\"units\":\"C\",\"tC\":21.75,"
	                            "\"is_valid\":true},\"hum\":{\"value\":62.5,\"is_valid\":true},"
	                            "\"bat\":{\"value\":100,\"voltage\":2.98},\"uptime\":17}";
	struct poller_opts o = opts();
	struct reading_of w = { mac, 21.75, 0, DEVICE_ONLINE, 0 };
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	p = rig_after_sleep(&r, &m, &(struct slept){mac, "d0b1c2d3e4f8", "SHHT-1", reply, 1, 17}, &o);
	poller_foreach(p, reading_of_cb, &w);
	assert_int_equal(w.state, DEVICE_ASLEEP);
	assert_true(w.found); /* before any poll */
	(void)poll_once_view(&r, p, mac);
	w.found = 0;
	poller_foreach(p, reading_of_cb, &w);
	assert_int_equal(w.state, DEVICE_ASLEEP);
	assert_true(w.found); /* still asleep: still its last report */
	rig_close(&r, p);
}

/*
 * A Gen2+ battery device whose model the table does not know (a newer one) was seen asleep
 * by the run before: after a restart it still sleeps, asleep when it does not answer, not
 * offline (its wakeup_period made it a sleeper in the run that polled it).
 */
static void
test_stored_asleep_unknown_model_sleeps(void **state)
{
	static const char mac[] = "d0b1c2d3e4f9";
	static const char reply[] = "{\"devicepower:0\":{\"id\":0,\"battery\":{\"V\":5.6,"
	                            "\"percent\":78},\"external\":{\"present\":false}},"
	                            "\"sys\":{\"uptime\":4,\"wakeup_period\":86400}}";
	struct poller_opts o = opts();
	struct reading_of w = { mac, NAN, 0, DEVICE_ONLINE, 0 };
	struct mute_dev m;
	struct poller *p;
	struct rig r;

	(void)state;
	o.offline_after = 1;
	p = rig_after_sleep(
	    &r, &m, &(struct slept){mac, "d0b1c2d3e4fa", "S4SN-9999Z", reply, 4, 4}, &o);
	(void)poll_once_view(&r, p, mac);
	poller_foreach(p, reading_of_cb, &w);
	assert_int_equal(w.state, DEVICE_ASLEEP);
	rig_close(&r, p);
}

/* The value of the sample of kind k and component comp in s[n], NAN when there is none. */
static double
sample_value(const struct poller_sample *s, size_t n, enum poller_sample_kind k, const char *comp)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].kind == k && strcmp(s[i].component, comp) == 0)
			return s[i].value;
	return NAN;
}

/* The alarms of flood and smoke sensors, door/window, motion and lux are /metrics readings. */
static void
test_sensor_samples(void **state)
{
	/* Gen1 Flood and Door/Window 2 shapes (status), a Gen2 Plus Smoke (smoke:0) */
	static const char flood[] = "{\"flood\":true,\"bat\":{\"value\":90}}";
	static const char dw[] = "{\"sensor\":{\"state\":\"open\",\"is_valid\":true},"
	                         "\"lux\":{\"value\":12,\"illumination\":\"dark\",\"is_valid\":true}}";
	static const char smoke[] = "{\"smoke:0\":{\"id\":0,\"alarm\":false,\"mute\":false}}";
	struct poller_sample *s;
	size_t n;

	(void)state;
	n = poller_reply_samples(1, flood, NULL, &s);
	assert_true(sample_value(s, n, PS_ALARM, "flood") == 1);
	assert_true(isnan(sample_value(s, n, PS_ALARM, "smoke"))); /* it has no smoke sensor */
	free(s);
	n = poller_reply_samples(1, dw, NULL, &s);
	assert_true(sample_value(s, n, PS_DOOR_OPEN, "") == 1);
	assert_true(sample_value(s, n, PS_ILLUMINANCE, "") == 12);
	assert_true(isnan(sample_value(s, n, PS_MOTION, "")));
	free(s);
	n = poller_reply_samples(2, smoke, NULL, &s);
	assert_true(sample_value(s, n, PS_ALARM, "smoke") == 0);
	free(s);
	/* an analog input (Input.GetStatus: percent of its range) */
	n = poller_reply_samples(2, "{\"input:100\":{\"id\":100,\"percent\":37.5}}", NULL, &s);
	assert_true(fabs(sample_value(s, n, PS_INPUT_ANALOG, "input") - 0.375) < 1e-9);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_by_generation),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_breaker),
		cmocka_unit_test(test_asleep_backs_off),
		cmocka_unit_test(test_stop_mid_request_then_restart),
		cmocka_unit_test(test_observer_gets_mac),
		cmocka_unit_test(test_unchanged_reload_polls_no_sooner),
		cmocka_unit_test(test_asleep_long_says_since),
		cmocka_unit_test(test_asleep_connect_timeout_short),
		cmocka_unit_test(test_failed_poll_keeps_last_reply),
		cmocka_unit_test(test_failed_settings_read_is_retried),
		cmocka_unit_test(test_failing_settings_read_backs_off),
		cmocka_unit_test(test_unknown_version_read_once),
		cmocka_unit_test(test_version_absent_asked_once),
		cmocka_unit_test(test_version_read_fails_status_polled),
		cmocka_unit_test(test_removed_device_not_written_back),
		cmocka_unit_test(test_verify_refreshes_fw),
		cmocka_unit_test(test_lease_regained_takes_store_state),
		cmocka_unit_test(test_never_answered_first_seen),
		cmocka_unit_test(test_asleep_readings_survive_restart),
		cmocka_unit_test(test_sensor_samples),
		cmocka_unit_test(test_stored_asleep_unknown_model_sleeps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
