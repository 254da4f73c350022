/*
 * discovery/scan: target handling (syntaxes, overlaps, size limit, guard) and one live scan on
 * loopback against a tiny /shelly server on our own loop (127.0.0.1 answers, 127.0.0.2 is
 * refused). Every wait is bounded loop driving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery/scan.h"
#include "guardref.h"
#include "util/guard.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define BOUND_MS 30000 /* an upper bound for loaded machines and ASan; passing runs take ms */

static struct scan_targets *
targets(const char *const *texts, size_t n)
{
	struct scan_targets *t = scan_targets_new();
	char *cause = NULL;

	for (size_t i = 0; i < n; i++)
		if (scan_targets_add(t, texts[i], &cause) != 0)
			fail_msg("scan_targets_add(%s): %s", texts[i], cause);
	return t;
}

/* Iterates t: checks ascending order without repeats, first, last and count. */
static void
check_iter(const struct scan_targets *t, const char *first, const char *last, uint64_t count)
{
	struct scan_iter it;
	struct in_addr a;
	uint32_t prev = 0, f = 0, l = 0;
	uint64_t n = 0;
	char buf[INET_ADDRSTRLEN];

	scan_iter_init(&it, t);
	while (scan_iter_next(&it, t, &a)) {
		uint32_t h = ntohl(a.s_addr);
		if (n > 0)
			assert_true(h > prev);
		else
			f = h;
		prev = l = h;
		n++;
	}
	assert_int_equal(n, count);
	assert_int_equal(scan_targets_count(t), count);
	a.s_addr = htonl(f);
	assert_string_equal(inet_ntop(AF_INET, &a, buf, sizeof buf), first);
	a.s_addr = htonl(l);
	assert_string_equal(inet_ntop(AF_INET, &a, buf, sizeof buf), last);
}

static void
test_syntaxes(void **state)
{
	(void)state;
	struct {
		const char *text, *first, *last;
		uint64_t count;
	} cases[] = {
	    {"127.1.2.0/24", "127.1.2.1", "127.1.2.254", 254},
	    {"127.1.2.77/24", "127.1.2.1", "127.1.2.254", 254}, /* host bits masked */
	    {"127.1.2.7", "127.1.2.7", "127.1.2.7", 1},
	    {"127.1.2.10-127.1.2.50", "127.1.2.10", "127.1.2.50", 41},
	    {"127.1.2.10-50", "127.1.2.10", "127.1.2.50", 41},
	    {"127.1.2.250-127.1.3.5", "127.1.2.250", "127.1.3.5", 12},
	    {"127.1.2.4/30", "127.1.2.5", "127.1.2.6", 2},
	    {"127.1.2.4/31", "127.1.2.4", "127.1.2.5", 2},
	    {"127.1.2.9/32", "127.1.2.9", "127.1.2.9", 1},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct scan_targets *t = targets(&cases[i].text, 1);
		assert_int_equal(scan_targets_len(t), 1);
		check_iter(t, cases[i].first, cases[i].last, cases[i].count);
		scan_targets_free(t);
	}
}

static void
test_overlaps(void **state)
{
	(void)state;
	const char *a[] = {"127.1.2.0/24", "127.1.2.10-20", "127.1.2.200"};
	const char *b[] = {"127.1.2.0/24", "127.1.2.255"};
	const char *c[] = {"127.1.2.11-20", "127.1.2.1-10", "127.1.2.30"};
	const char *d[] = {"127.1.2.1, 127.1.3.0/30 127.1.4.9"};
	struct scan_targets *t;

	t = targets(a, 3);
	assert_int_equal(scan_targets_len(t), 3);
	check_iter(t, "127.1.2.1", "127.1.2.254", 254);
	scan_targets_free(t);

	/* The broadcast address is visited when named on its own. */
	t = targets(b, 2);
	check_iter(t, "127.1.2.1", "127.1.2.255", 255);
	scan_targets_free(t);

	/* Adjacent ranges join; a gap stays a gap. */
	t = targets(c, 3);
	check_iter(t, "127.1.2.1", "127.1.2.30", 21);
	scan_targets_free(t);

	/* A comma/space-separated list in one word. */
	t = targets(d, 1);
	assert_int_equal(scan_targets_len(t), 3);
	check_iter(t, "127.1.2.1", "127.1.4.9", 4);
	scan_targets_free(t);
}

static void
add_bad(const char *text, const char *want)
{
	struct scan_targets *t = scan_targets_new();
	char *cause = NULL;

	assert_int_equal(scan_targets_add(t, "127.9.9.9", &cause), 0);
	assert_int_equal(scan_targets_add(t, text, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("scan_targets_add(%s): \"%s\" lacks \"%s\"", text, cause, want);
	free(cause);
	/* Nothing of a bad list was added. */
	assert_int_equal(scan_targets_len(t), 1);
	assert_int_equal(scan_targets_count(t), 1);
	scan_targets_free(t);
}

static void
test_bad_targets(void **state)
{
	(void)state;
	add_bad("::1", "IPv6 targets are not supported");
	add_bad("fd00::/8", "IPv6 targets are not supported");
	add_bad("127.1.2.1, 127.1.2.x", "invalid target");
	add_bad("127.1.2.50-10", "the end is before the start");
	add_bad("127.1.2.0/33", "invalid prefix length");
	add_bad("", "empty target");
	add_bad(" , ", "empty target");
	add_bad("127.1", "invalid target");
}

static void
size_ok(const char *text, int force, uint64_t count)
{
	struct scan_targets *t = targets(&text, 1);
	char *cause = NULL;

	assert_int_equal(scan_targets_count(t), count);
	if (scan_targets_check_size(t, force, &cause) != 0)
		fail_msg("%s: %s", text, cause);
	scan_targets_free(t);
}

static void
size_bad(const char *const *texts, size_t n, const char *want)
{
	struct scan_targets *t = targets(texts, n);
	char *cause = NULL;

	assert_int_equal(scan_targets_check_size(t, 0, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL || strstr(cause, "--force") == NULL)
		fail_msg("\"%s\" lacks \"%s\" or --force", cause, want);
	free(cause);
	assert_int_equal(scan_targets_check_size(t, 1, &cause), 0);
	scan_targets_free(t);
}

static void
test_size_limit(void **state)
{
	(void)state;
	const char *slash15[] = {"127.0.0.0/15"};
	const char *range[] = {"127.0.0.0-127.1.0.0"};
	const char *two16[] = {"127.0.0.0/16", "127.1.0.0/16"};

	size_ok("127.0.0.0/16", 0, 65534);
	size_ok("127.0.0.0-127.0.255.255", 0, 65536);
	size_ok("127.0.0.0/15", 1, 131070);
	size_bad(slash15, 1, "target 127.0.0.0/15 covers 131070 addresses, more than a /16");
	size_bad(range, 1, "covers 65537 addresses");
	size_bad(two16, 2, "the targets cover 131068 addresses together");
}

static void
test_guard(void **state)
{
	(void)state;
	struct guard *g = NULL, *open = NULL;
	/* The guard is half of loopback, so the addresses it refuses are on loopback too. */
	const char *outside[] = {"127.200.0.0/30"};
	const char *partly[] = {"127.3.3.3", "127.127.255.254-127.128.0.2"};
	const char *inside[] = {"127.1.2.0/24", "127.0.0.0/16"};
	struct scan_targets *t;
	char *cause = NULL;

	assert_int_equal(guard_parse("127.0.0.0/9", &g, &cause), 0);
	assert_int_equal(guard_parse(NULL, &open, &cause), 0);

	t = targets(outside, 1);
	assert_int_equal(scan_targets_check_guard(t, g, &cause), -1);
	assert_string_equal(cause, "target 127.200.0.0/30: refused: 127.200.0.1 is outside "
	                           "SHELLY_TUI_ALLOW_NETS (127.0.0.0/9); nothing was scanned");
	free(cause);
	cause = NULL;
	assert_int_equal(scan_targets_check_guard(t, open, &cause), 0);
	assert_int_equal(scan_targets_check_guard(t, NULL, &cause), 0);
	scan_targets_free(t);

	/* One address outside is enough, and the message names the target holding it. */
	t = targets(partly, 2);
	assert_int_equal(scan_targets_check_guard(t, g, &cause), -1);
	assert_non_null(strstr(cause, "target 127.127.255.254-127.128.0.2: refused: "
	                              "127.128.0.0 is outside"));
	free(cause);
	cause = NULL;
	scan_targets_free(t);

	t = targets(inside, 2);
	assert_int_equal(scan_targets_check_guard(t, g, &cause), 0);
	assert_null(cause);
	scan_targets_free(t);

	guard_free(g);
	guard_free(open);
}

/*
 * The refusal the per-address check gave: the lowest visited address the guard refuses, named
 * by the first target (in the order given) that visits it. NULL when all are allowed.
 */
static char *
reference_refusal(const struct guard *g, char **texts, size_t n)
{
	struct cidr c;
	struct cidr_iter it;
	uint32_t first[8], last[8], a, lowest = 0;
	char host[16], *why = NULL, *msg;
	int found = 0;

	for (size_t k = 0; k < n; k++) {
		assert_int_equal(cidr_parse(texts[k], &c, NULL), 0);
		cidr_iter_init(&it, &c);
		first[k] = (uint32_t)it.next;
		last[k] = (uint32_t)(it.end - 1);
		if (ref_first_refused(g, first[k], last[k], &a) && (!found || a < lowest)) {
			lowest = a;
			found = 1;
		}
	}
	for (size_t k = 0; found && k < n; k++) {
		if (lowest < first[k] || lowest > last[k])
			continue;
		ref_quad(lowest, host, sizeof host);
		assert_int_equal(guard_check(g, host, &why), -1);
		msg = xasprintf("target %s: %s; nothing was scanned", texts[k], why);
		free(why);
		return msg;
	}
	return NULL;
}

/*
 * Random target lists (one to four targets, every syntax, overlapping or not) against random
 * guards, in windows of 256 addresses at both ends of the address space and on loopback: the
 * interval check refuses exactly when the per-address check did, with the same message.
 */
static void
test_guard_random(void **state)
{
	static const uint32_t windows[] = {0x00000000u, 0x7F0A0000u, 0xFFFFFF00u};
	uint32_t seed = 0xC0FFEE11u, base;
	char *texts[8], nets[256], *want, *got;
	struct scan_targets *t;
	struct guard *g;
	size_t n, len;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		base = windows[round % 3];
		len = 0;
		for (int k = 1 + (int)(ref_rand(&seed) % 3); k > 0; k--) {
			char net[64];
			ref_random_net(&seed, base, 256, net, sizeof net);
			len += (size_t)snprintf(
			    nets + len, sizeof nets - len, "%s%s", len ? " " : "", net);
		}
		assert_int_equal(guard_parse(nets, &g, NULL), 0);
		n = 1 + ref_rand(&seed) % 4;
		for (size_t k = 0; k < n; k++) {
			char net[64];
			ref_random_net(&seed, base, 256, net, sizeof net);
			/* the scan takes at most a /16 here; keep the wide blocks for the guard */
			if (strchr(net, '/') != NULL && atoi(strchr(net, '/') + 1) < 24)
				snprintf(strchr(net, '/'), 4, "/24");
			texts[k] = xstrdup(net);
		}
		t = targets((const char *const *)texts, n);
		want = reference_refusal(g, texts, n);
		got = NULL;
		assert_int_equal(scan_targets_check_guard(t, g, &got), want != NULL ? -1 : 0);
		if (want != NULL)
			assert_string_equal(got, want);
		free(want);
		free(got);
		scan_targets_free(t);
		for (size_t k = 0; k < n; k++)
			free(texts[k]);
		guard_free(g);
	}
}

/* The refused target is named by its text, the one holding the lowest refused address. */
static void
test_guard_named(void **state)
{
	const char *list[] = {"127.9.9.0/24", "127.240.0.0/15", "127.1.0.0/30"};
	struct scan_targets *t = targets(list, 3);
	struct guard *g = NULL;
	const char *which = "unset";
	char *cause = NULL;

	(void)state;
	assert_int_equal(guard_parse("127.9.9.0/24", &g, &cause), 0);
	assert_int_equal(scan_targets_check_guard_named(t, g, &which, &cause), -1);
	assert_string_equal(which, "127.1.0.0/30");
	assert_non_null(strstr(cause, "target 127.1.0.0/30: "));
	free(cause);
	guard_free(g);
	assert_int_equal(guard_parse("127.0.0.0/8", &g, &cause), 0);
	which = "unset";
	assert_int_equal(scan_targets_check_guard_named(t, g, &which, &cause), 0);
	assert_string_equal(which, "unset"); /* untouched when allowed */
	guard_free(g);
	scan_targets_free(t);
}

/* A /8 of targets is checked in one step of the guard, allowed or refused. */
static void
test_guard_slash8_steps(void **state)
{
	const char *slash8[] = {"127.0.0.0/8"};
	struct scan_targets *t = targets(slash8, 1);
	struct guard *g = NULL;
	char *cause = NULL;
	uint64_t steps = 0;

	(void)state;
	assert_int_equal(guard_parse("127.0.0.0/8", &g, &cause), 0);
	assert_int_equal(scan_targets_check_guard_counted(t, g, &steps, &cause), 0);
	assert_int_equal(steps, 1);
	guard_free(g);

	steps = 0;
	assert_int_equal(guard_parse("127.0.0.0/9", &g, &cause), 0);
	assert_int_equal(scan_targets_check_guard_counted(t, g, &steps, &cause), -1);
	assert_int_equal(steps, 1);
	assert_string_equal(cause, "target 127.0.0.0/8: refused: 127.128.0.0 is outside "
	                           "SHELLY_TUI_ALLOW_NETS (127.0.0.0/9); nothing was scanned");
	free(cause);
	guard_free(g);
	scan_targets_free(t);
}

static void
test_https_fallback_rule(void **state)
{
	(void)state;
	/* Default port: a refused, reset or non-HTTP port 80 leads to HTTPS on 443. */
	assert_int_equal(scan_try_https(HTTP_REFUSED, 0), 1);
	assert_int_equal(scan_try_https(HTTP_RESET, 0), 1);
	assert_int_equal(scan_try_https(HTTP_ERROR, 0), 1);
	/* Explicit port: refused means nothing there; reset/not HTTP may be TLS on that port. */
	assert_int_equal(scan_try_https(HTTP_REFUSED, 1), 0);
	assert_int_equal(scan_try_https(HTTP_RESET, 1), 1);
	assert_int_equal(scan_try_https(HTTP_ERROR, 1), 1);
	/* Never after a timeout or an HTTP answer. */
	for (int e = 0; e < 2; e++) {
		assert_int_equal(scan_try_https(HTTP_TIMEOUT, e), 0);
		assert_int_equal(scan_try_https(HTTP_STATUS, e), 0);
		assert_int_equal(scan_try_https(HTTP_BAD_JSON, e), 0);
		assert_int_equal(scan_try_https(HTTP_AUTH_REQUIRED, e), 0);
		assert_int_equal(scan_try_https(HTTP_REFUSED_BY_GUARD, e), 0);
	}
}

/* ---- a live scan ---- */

struct server {
	struct loop *loop;
	int fd;
	uint16_t port;
	struct loop_watch *w;
	char *body;
	size_t body_len;
	int requests;
	char first_request[512];
};

struct conn {
	struct server *srv;
	int fd;
	struct loop_watch *w;
	char buf[2048];
	size_t len;
};

static void
conn_cb(int fd, int events, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)events;
	n = read(fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		if (strstr(c->buf, "\r\n\r\n") == NULL && c->len < sizeof c->buf - 1)
			return;
		if (c->srv->requests++ == 0)
			snprintf(
			    c->srv->first_request, sizeof c->srv->first_request, "%.255s", c->buf);
		dprintf(fd,
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    c->srv->body_len);
		if (write(fd, c->srv->body, c->srv->body_len) < 0)
			fail_msg("write: %s", strerror(errno));
	} else if (n < 0 && errno == EAGAIN)
		return;
	loop_watch_free(c->w);
	close(fd);
	free(c);
}

static void
accept_cb(int fd, int events, void *arg)
{
	struct server *srv = arg;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = xcalloc(1, sizeof *c);
		c->srv = srv;
		c->fd = cfd;
		c->w = loop_watch_new(srv->loop, cfd, LOOP_READ, conn_cb, c);
	}
}

static char *
read_fixture(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = xmalloc(65536);

	assert_non_null(fp);
	*len = fread(buf, 1, 65535, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static void
server_start(struct server *srv, struct loop *loop)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t slen = sizeof sa;

	memset(srv, 0, sizeof *srv);
	srv->loop = loop;
	srv->body = read_fixture("tests/fixtures/gen2/plus-1pm/shelly.json", &srv->body_len);
	sa.sin_addr.s_addr = htonl(0x7F000001);
	srv->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(srv->fd >= 0);
	assert_int_equal(bind(srv->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(srv->fd, 16), 0);
	assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&sa, &slen), 0);
	srv->port = ntohs(sa.sin_port);
	srv->w = loop_watch_new(loop, srv->fd, LOOP_READ, accept_cb, srv);
}

static void
server_stop(struct server *srv)
{
	loop_watch_free(srv->w);
	close(srv->fd);
	free(srv->body);
}

struct seen {
	int hits, progress, done;
	char address[INET_ADDRSTRLEN];
	uint16_t port;
	int https;
	char mac[DEV_MAC_LEN], id[DEV_ID_LEN];
	int gen;
	struct scan_progress last;
};

static void
hit_cb(const struct scan_hit *hit, void *arg)
{
	struct seen *s = arg;

	s->hits++;
	snprintf(s->address, sizeof s->address, "%s", hit->address);
	s->port = hit->port;
	s->https = hit->https;
	snprintf(s->mac, sizeof s->mac, "%s", hit->ident->mac);
	snprintf(s->id, sizeof s->id, "%s", hit->ident->id);
	s->gen = hit->ident->gen;
	assert_null(hit->pin);
}

static void
progress_cb(const struct scan_progress *p, void *arg)
{
	struct seen *s = arg;

	s->progress++;
	assert_true(p->done <= p->total);
}

static void
done_cb(const struct scan_progress *p, void *arg)
{
	struct seen *s = arg;

	s->done++;
	s->last = *p;
}

static void
run_until(struct loop *loop, const int *flag)
{
	uint64_t end = loop_update_now(loop) + BOUND_MS;

	while (!*flag && loop_update_now(loop) < end)
		loop_run_once(loop, 50);
	assert_true(*flag);
}

static void
test_live_scan(void **state)
{
	(void)state;
	struct loop *loop = loop_new();
	struct server srv;
	struct guard *g = NULL;
	const char *text = "127.0.0.1-2";
	struct scan_targets *t = targets(&text, 1);
	struct scan_opts o;
	struct scan_cbs cbs;
	struct seen seen;
	struct scan *s;
	char *cause = NULL;

	/* Half of loopback: the target it refuses below is on loopback too. */
	assert_int_equal(guard_parse("127.0.0.0/9", &g, &cause), 0);
	server_start(&srv, loop);
	memset(&o, 0, sizeof o);
	o.port = srv.port;
	o.timeout_ms = 2000;
	o.guard = g;
	memset(&seen, 0, sizeof seen);
	cbs.hit_cb = hit_cb;
	cbs.progress_cb = progress_cb;
	cbs.done_cb = done_cb;
	cbs.arg = &seen;
	s = scan_new(loop, t, &o, &cbs, &cause);
	assert_non_null(s);
	scan_start(s);
	assert_int_equal(seen.progress, 0); /* nothing before the loop runs */
	run_until(loop, &seen.done);
	assert_int_equal(seen.done, 1);
	assert_int_equal(scan_finished(s), 1);
	assert_int_equal(seen.hits, 1);
	assert_string_equal(seen.address, "127.0.0.1");
	assert_int_equal(seen.port, srv.port);
	assert_int_equal(seen.https, 0);
	/* tests/fixtures/gen2/plus-1pm/shelly.json */
	assert_string_equal(seen.mac, "441793d69718");
	assert_string_equal(seen.id, "shellyplus1pm-441793d69718");
	assert_int_equal(seen.gen, 2);
	assert_int_equal(seen.last.total, 2);
	assert_int_equal(seen.last.done, 2);
	assert_int_equal(seen.last.found, 1);
	assert_int_equal(seen.last.refused, 1); /* 127.0.0.2: nothing listens there */
	assert_int_equal(seen.last.no_answer, 0);
	assert_int_equal(seen.last.https_tried, 0); /* explicit port: refused is final */
	assert_int_equal(seen.progress, 2);
	/* GET /shelly, no credentials. */
	assert_int_equal(srv.requests, 1);
	assert_non_null(strstr(srv.first_request, "GET /shelly HTTP/1.1\r\n"));
	assert_null(strstr(srv.first_request, "Authorization"));
	scan_free(s);

	/* A target outside the guard: refused by scan_new, nothing sent. */
	{
		const char *out = "127.200.0.0/30";
		struct scan_targets *t2 = targets(&out, 1);
		assert_null(scan_new(loop, t2, &o, &cbs, &cause));
		assert_non_null(strstr(cause, "127.200.0.1 is outside"));
		free(cause);
		cause = NULL;
		scan_targets_free(t2);
	}

	/* Stopping before the loop runs: done comes from the loop, nothing was probed. */
	memset(&seen, 0, sizeof seen);
	s = scan_new(loop, t, &o, &cbs, &cause);
	scan_start(s);
	scan_stop(s);
	run_until(loop, &seen.done);
	assert_int_equal(seen.hits, 0);
	assert_int_equal(seen.last.done, 0);
	scan_free(s);

	scan_targets_free(t);
	server_stop(&srv);
	guard_free(g);
	loop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntaxes),
	    cmocka_unit_test(test_overlaps),
	    cmocka_unit_test(test_bad_targets),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_guard),
	    cmocka_unit_test(test_guard_random),
	    cmocka_unit_test(test_guard_slash8_steps),
	    cmocka_unit_test(test_guard_named),
	    cmocka_unit_test(test_https_fallback_rule),
	    cmocka_unit_test(test_live_scan),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
