/*
 * engine/verifier on an in-memory store, with a discovery run that does not end by itself: the
 * configured range is one loopback address where a listener takes connections and never
 * answers, and a probe waits 60 s. While that run goes on, a silent agent's lease still
 * expires and a device that never shows up is still given up after the verify timeout, with
 * the scan's progress as the reason; the run is then stopped (nobody waits), or started again
 * (a later task waits). Ranges refused by the network guard become the reason of the task
 * given up. A fake device beside the tarpit answers /shelly when the test lets it: the device
 * verified is registered with its password before its task is done (a run dropped by a reload
 * or shutdown loses nothing), and a task its agent ended meanwhile is not verified.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery/scan.h"
#include "engine/verifier.h"
#include "net/http.h"
#include "provision/taskq.h"
#include "store/store.h"
#include "store/taskstore.h"
#include "util/loop.h"
#include "util/xmalloc.h"

static int64_t failed_id; /* taskq_claim: the task failed for an unreadable file */

#define TARPIT "127.77.0.1"
#define DEVICE "127.77.0.2" /* on the tarpit's port */
/* A real reply (auth on), the fake device's answer to GET /shelly; its MAC: */
#define DEVICE_FIXTURE "tests/fixtures/gen3/1pm-mini-gen3/shelly.json"
#define DEVICE_MAC "543204519264"
#define PASS_REF "file:/nonexistent/device-password"
#define WAIT_MS 20000 /* bound of every wait for an outcome; the stuck probe lasts 60 s */
#define HOUR_MS 3600000

struct world {
	struct loop *loop;
	struct http *http;
	struct store *store;
	int tarpit; /* listening socket that never answers */
	uint16_t port;
	int dev; /* the fake device's listening socket */
	int devconn; /* its connection waiting for the request, or -1 */
	int answer; /* the device answers */
	char *reply; /* what it answers */
	int ap_off; /* the tasks made now ask for --ap-off */
	int posts; /* POST requests the device got (the AP-off) */
	int fail_posts; /* the next ones it answers with an HTTP error */
	struct scan_targets *targets;
	struct verifier_opts o;
};

/* Returns a socket listening on addr:port (0: any port, then *port is set), or -1. */
static int
listen_on(const char *addr, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(*port)};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The fake device's HTTP reply: the fixture as the body. Caller frees. */
static char *
device_reply(void)
{
	char body[4096];
	FILE *fp = fopen(DEVICE_FIXTURE, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(body, 1, sizeof body - 1, fp);
	fclose(fp);
	body[n] = '\0';
	return xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    n, body);
}

static int
setup(void **state)
{
	struct world *w = xcalloc(1, sizeof *w);
	char *cause = NULL;

	w->loop = loop_new();
	w->http = http_new(w->loop);
	if (store_open(":memory:", &w->store, &cause) != 0)
		fail_msg("store_open: %s", cause);
	w->dev = -1;
	for (int i = 0; i < 50 && w->dev < 0; i++) { /* the tarpit's port may be taken at DEVICE */
		w->port = 0;
		w->tarpit = listen_on(TARPIT, &w->port);
		assert_true(w->tarpit >= 0);
		w->dev = listen_on(DEVICE, &w->port);
		if (w->dev < 0)
			close(w->tarpit);
	}
	assert_true(w->dev >= 0);
	w->devconn = -1;
	w->reply = device_reply();
	w->targets = scan_targets_new();
	if (scan_targets_add(w->targets, TARPIT "/32", &cause) != 0)
		fail_msg("scan_targets_add: %s", cause);
	w->o.interval_ms = 50;
	w->o.run.targets = w->targets;
	w->o.run.confirm_timeout_ms = 60000;
	w->o.run.scan.port = w->port;
	w->o.run.scan.timeout_ms = 60000;
	w->o.run.scan.concurrency = 1;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	close(w->tarpit);
	close(w->dev);
	if (w->devconn >= 0)
		close(w->devconn);
	free(w->reply);
	scan_targets_free(w->targets);
	store_free(w->store);
	http_free(w->http);
	loop_free(w->loop);
	free(w);
	return 0;
}

static char *
secret_cb(const char *ref, const char *what, char **cause)
{
	(void)ref;
	(void)what;
	(void)cause;
	return xstrdup("device-password");
}

/*
 * A task (giving the device pass_ref as its password, NULL none) claimed by agent with lease_ms,
 * brought to verifying for mac when mac is set.
 */
static int64_t
task_pass(
    struct world *w, const char *agent, int64_t lease_ms, const char *mac, const char *pass_ref)
{
	static unsigned n; /* one device has one task at a time: each task an AP of its own */
	char ap[32];
	struct store_task t = {.target = ap,
	    .network = "home",
	    .max_attempts = 2,
	    .pass_ref = pass_ref,
	    .ap_off = w->ap_off};
	struct store_task *c = NULL;
	struct taskq_secrets sec = {0};
	const char *st = NULL;
	char *cause = NULL;
	int64_t id = 0, now = loop_wall_ms();

	snprintf(ap, sizeof ap, "shellyplus1pm-A1B2%02X", n++ & 0xff);
	if (taskq_add(w->store, &t, "test", now, &id, &cause) != 0 ||
	    store_ap_seen(w->store, t.target, agent, 0, now, &cause) != 0)
		fail_msg("taskq_add: %s", cause);
	assert_int_equal(
	    taskq_claim(w->store, agent, now, lease_ms, secret_cb, &c, &sec, &failed_id, &cause),
	    1);
	assert_int_equal(c->id, id);
	store_task_free(c);
	free(sec.key);
	free(sec.password);
	if (mac != NULL) {
		assert_int_equal(
		    taskq_progress(w->store, agent, id, "running", NULL, now, &st, &cause), 1);
		assert_int_equal(
		    taskq_progress(w->store, agent, id, "configured", mac, now, &st, &cause), 1);
		assert_string_equal(st, "verifying");
	}
	return id;
}

static int64_t
task(struct world *w, const char *agent, int64_t lease_ms, const char *mac)
{
	return task_pass(w, agent, lease_ms, mac, NULL);
}

/* 1 when field ("state", "stage" or "reason") of task id is want (NULL: unset). */
static int
task_is(struct world *w, int64_t id, const char *field, const char *want)
{
	struct store_task *t = store_task_get(w->store, id);
	const char *v;
	int same;

	assert_non_null(t);
	v = strcmp(field, "state") == 0   ? t->state
	    : strcmp(field, "stage") == 0 ? t->stage
	                                  : t->reason;
	same = want == NULL ? v == NULL : v != NULL && strcmp(v, want) == 0;
	store_task_free(t);
	return same;
}

/* 1 when fd is readable (a connection waits, or data or EOF arrived). */
static int
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/*
 * The fake device: takes a connection when it answers, and answers its request (the whole GET
 * comes in one read) with the fixture.
 */
static void
device_serve(struct world *w)
{
	char req[2048];
	ssize_t n;

	if (w->devconn < 0 && w->answer && readable(w->dev))
		w->devconn = accept(w->dev, NULL, NULL);
	if (w->devconn < 0 || !readable(w->devconn))
		return;
	n = read(w->devconn, req, sizeof req);
	if (n > 0 && strncmp(req, "POST ", 5) == 0) {
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		                         "Content-Length: 26\r\nConnection: close\r\n\r\n"
		                         "{\"restart_required\":false}";
		static const char busy[] =
		    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		const char *r = w->fail_posts > 0 ? busy : ok;

		w->posts++;
		w->fail_posts -= w->fail_posts > 0;
		assert_int_equal(write(w->devconn, r, strlen(r)), strlen(r));
	} else if (n > 0)
		assert_int_equal(write(w->devconn, w->reply, strlen(w->reply)), strlen(w->reply));
	close(w->devconn);
	w->devconn = -1;
}

/* One turn of the loop, and the device's. */
static void
turn(struct world *w)
{
	loop_run_once(w->loop, 50);
	device_serve(w);
}

/* Turns the loop until task id's field is want, or WAIT_MS passed; returns 1 when it is. */
static int
turn_until(struct world *w, int64_t id, const char *field, const char *want)
{
	int64_t end = loop_wall_ms() + WAIT_MS;

	while (!task_is(w, id, field, want) && loop_wall_ms() < end)
		turn(w);
	return task_is(w, id, field, want);
}

/* While the run hangs on the tarpit, a silent agent's task goes back to the queue. */
static void
test_leases_during_run(void **state)
{
	struct world *w = *state;
	struct verifier *v;
	int64_t waits, silent;

	waits = task(w, "ag-1", HOUR_MS, "A1:B2:C3:D4:E5:F6");
	silent = task(w, "ag-2", 300, NULL);
	w->o.timeout_ms = HOUR_MS;
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until(w, silent, "state", "queued"));
	assert_true(readable(w->tarpit)); /* the run reached the tarpit and waits there */
	assert_true(task_is(w, waits, "state", "verifying"));
	assert_true(task_is(w, waits, "stage", "configured"));
	verifier_free(v);
}

/*
 * While the run hangs on the tarpit, the verify timeout ends the wait (not_seen, the reason
 * says how far the scan got), and with nobody waiting the run's probe is dropped.
 */
static int turn_until_readable(struct world *w, int fd);

static void
test_timeout_during_run(void **state)
{
	struct world *w = *state;
	struct verifier *v;
	int64_t id, end;
	int conn;
	ssize_t n;
	char buf[512];

	id = task(w, "ag-1", HOUR_MS, "A1:B2:C3:D4:E5:F6");
	w->o.timeout_ms = 300;
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until(w, id, "stage", "not_seen"));
	assert_true(task_is(w, id, "state", "verifying"));
	assert_true(task_is(w, id, "reason",
	    "not verified: the scan covered 0 of 1 addresses within verify-timeout"));
	/* On a loaded machine the timeout can come before the probe connected; a probe dropped
	 * then never connects, and nothing is left to hang. */
	if (!turn_until_readable(w, w->tarpit)) {
		verifier_free(v);
		return;
	}
	conn = accept(w->tarpit, NULL, NULL);
	assert_true(conn >= 0);
	end = loop_wall_ms() + WAIT_MS;
	n = 1; /* the probe's request comes first, then the end of the connection */
	while (n > 0 && loop_wall_ms() < end)
		if (readable(conn))
			n = read(conn, buf, sizeof buf);
		else
			loop_run_once(w->loop, 50);
	assert_true(n <= 0); /* closed (EOF or reset) long before the probe's own 60 s */
	close(conn);
	verifier_free(v);
}

/* Turns the loop until fd is readable or WAIT_MS passed; returns 1 when it is. */
static int
turn_until_readable(struct world *w, int fd)
{
	int64_t end = loop_wall_ms() + WAIT_MS;

	while (!readable(fd) && loop_wall_ms() < end)
		turn(w);
	return readable(fd);
}

/*
 * A run lasts at most the verify timeout: a device waited for since the middle of a run that
 * would take 60 s gets a new run from the range's beginning once the timeout has passed.
 */
static void
test_run_capped(void **state)
{
	struct world *w = *state;
	struct verifier *v;
	int64_t first, late, half;
	int c1, c2;

	first = task(w, "ag-1", HOUR_MS, "A1:B2:C3:D4:E5:F6");
	w->o.timeout_ms = 4000;
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until_readable(w, w->tarpit));
	c1 = accept(w->tarpit, NULL, NULL);
	assert_true(c1 >= 0);
	half = loop_wall_ms() + 2000;
	while (loop_wall_ms() < half)
		loop_run_once(w->loop, 50);
	late = task(w, "ag-2", HOUR_MS, "A1:B2:C3:D4:E5:F7");
	assert_true(turn_until_readable(w, w->tarpit)); /* the second run's probe */
	c2 = accept(w->tarpit, NULL, NULL);
	assert_true(c2 >= 0);
	assert_true(task_is(w, first, "stage", "not_seen"));
	assert_true(task_is(w, late, "state", "verifying"));
	close(c1);
	close(c2);
	verifier_free(v);
}

/* No ranges because the guard refused them: the task given up says so. */
static void
test_refused_reason(void **state)
{
	struct world *w = *state;
	struct verifier *v;
	int64_t id;

	id = task(w, "ag-1", HOUR_MS, "A1:B2:C3:D4:E5:F6");
	w->o.timeout_ms = 200;
	w->o.run.targets = NULL;
	w->o.refused = "discover-range 127.250.0.0/30 refused by SHELLY_TUI_ALLOW_NETS";
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until(w, id, "stage", "not_seen"));
	assert_true(task_is(w, id, "reason",
	    "not verified: discover-range 127.250.0.0/30 refused by SHELLY_TUI_ALLOW_NETS"));
	assert_false(readable(w->tarpit)); /* nothing was scanned */
	verifier_free(v);
}

/* Adds the device's address to the ranges (the scan then probes tarpit and device at once). */
static void
with_device(struct world *w)
{
	char *cause = NULL;

	if (scan_targets_add(w->targets, DEVICE "/32", &cause) != 0)
		fail_msg("scan_targets_add: %s", cause);
	w->o.run.scan.concurrency = 2;
	w->answer = 1;
}

/*
 * The device of a task that gave it a password is found while the run goes on (another
 * device is still waited for, behind the tarpit); then the run is dropped by a reload
 * (reload) or by shutdown. The device is registered with its password all the same, and it
 * was never marked auth_required (it has credentials).
 */
static void
drop_after_verified(struct world *w, int reload)
{
	struct verifier *v;
	struct store_device *d;
	struct store_status *st;
	int64_t id;

	with_device(w);
	id = task_pass(w, "ag-1", HOUR_MS, "54:32:04:51:92:64", PASS_REF);
	task(w, "ag-2", HOUR_MS, "54:32:04:51:92:00"); /* never appears: the run goes on */
	w->o.timeout_ms = HOUR_MS;
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until(w, id, "state", "done"));
	assert_true(readable(w->tarpit)); /* the run is still going */
	if (reload)
		verifier_set_opts(v, &w->o);
	else {
		verifier_free(v);
		v = NULL;
	}
	d = store_device_find_mac(w->store, DEVICE_MAC);
	assert_non_null(d);
	assert_non_null(d->cred_ref);
	assert_string_equal(d->cred_ref, PASS_REF);
	assert_non_null(d->host);
	assert_string_equal(d->host, DEVICE);
	st = store_status_get(w->store, DEVICE_MAC);
	assert_true(st == NULL || st->state == NULL || strcmp(st->state, "auth_required") != 0);
	store_status_free(st);
	store_device_free(d);
	verifier_free(v);
}

static void
test_reload_keeps_password(void **state)
{
	drop_after_verified(*state, 1);
}

static void
test_shutdown_keeps_password(void **state)
{
	drop_after_verified(*state, 0);
}

/* Ranges of the device's address alone (the caller frees them). */
static struct scan_targets *
device_only(struct world *w)
{
	struct scan_targets *t = scan_targets_new();
	char *cause = NULL;

	if (scan_targets_add(t, DEVICE "/32", &cause) != 0)
		fail_msg("scan_targets_add: %s", cause);
	w->o.run.targets = t;
	return t;
}

/*
 * The agent fails its task after the run started and before the device answers: the task is
 * not verified (it stays failed) and the device found gets no password from it.
 */
static void
test_ended_meanwhile(void **state)
{
	struct world *w = *state;
	struct scan_targets *dev = device_only(w);
	struct store_device *d = NULL;
	struct verifier *v;
	const char *st = NULL;
	char *cause = NULL;
	int64_t id, end;

	id = task_pass(w, "ag-1", HOUR_MS, "54:32:04:51:92:64", PASS_REF);
	w->o.timeout_ms = HOUR_MS;
	w->o.interval_ms = HOUR_MS; /* no round between the failure and the answer */
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until_readable(w, w->dev)); /* the probe waits for the device */
	assert_int_equal(
	    taskq_fail(w->store, "ag-1", id, "gave up", 0, loop_wall_ms(), &st, &cause), 1);
	w->answer = 1;
	end = loop_wall_ms() + WAIT_MS;
	while ((d = store_device_find_mac(w->store, DEVICE_MAC)) == NULL && loop_wall_ms() < end)
		turn(w);
	assert_non_null(d); /* found and registered, */
	assert_true(d->cred_ref == NULL || d->cred_ref[0] == '\0'); /* without the password */
	assert_true(task_is(w, id, "state", "failed"));
	store_device_free(d);
	verifier_free(v);
	scan_targets_free(dev);
}

/* A scan that covered the range without seeing the device: the task given up has no reason. */
static void
test_scanned_no_reason(void **state)
{
	struct world *w = *state;
	struct scan_targets *dev = device_only(w);
	struct store_device *d;
	struct verifier *v;
	int64_t id;

	id = task(w, "ag-1", HOUR_MS, "54:32:04:51:92:00"); /* not the device that answers */
	w->o.timeout_ms = 1000;
	w->answer = 1;
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until(w, id, "stage", "not_seen"));
	assert_true(task_is(w, id, "reason", NULL));
	d = store_device_find_mac(w->store, DEVICE_MAC);
	assert_non_null(d); /* the scan saw it */
	store_device_free(d);
	verifier_free(v);
	scan_targets_free(dev);
}

/* 1 when the reason of task id has part in it. */
static int
reason_has(struct world *w, int64_t id, const char *part)
{
	struct store_task *t = store_task_get(w->store, id);
	int has;

	assert_non_null(t);
	has = t->reason != NULL && strstr(t->reason, part) != NULL;
	store_task_free(t);
	return has;
}

/* Turns the loop until the reason of task id has part in it, or WAIT_MS passed. */
static int
turn_until_reason(struct world *w, int64_t id, const char *part)
{
	int64_t end = loop_wall_ms() + WAIT_MS;

	while (!reason_has(w, id, part) && loop_wall_ms() < end)
		turn(w);
	return reason_has(w, id, part);
}

/*
 * --ap-off: the device is verified, but it refuses the first AP-off requests (busy). The task
 * is done and says its AP is still on, and why; the manager restarts meanwhile, and the
 * restarted one sends the AP-off again until the device takes it: the task then says verified.
 */
static void
test_ap_off_owed(void **state)
{
	struct world *w = *state;
	struct verifier *v;
	struct store_task *t;
	int64_t id;

	with_device(w);
	w->ap_off = 1;
	w->fail_posts = 2;
	id = task(w, "ag-1", HOUR_MS, "54:32:04:51:92:64");
	w->o.timeout_ms = HOUR_MS;
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until_reason(w, id, "503"));
	assert_true(task_is(w, id, "state", "done"));
	assert_true(task_is(w, id, "stage", "ap_on"));
	t = store_task_get(w->store, id);
	assert_true(strncmp(t->reason, "verified, AP still on: ", 23) == 0);
	store_task_free(t);
	assert_int_equal(w->posts, 1);
	verifier_free(v); /* the manager restarts */
	v = verifier_new(w->loop, w->http, w->store, &w->o);
	assert_true(turn_until(w, id, "stage", "verified"));
	assert_int_equal(w->posts, 3);
	assert_int_equal(w->fail_posts, 0);
	assert_true(task_is(w, id, "reason", NULL));
	assert_true(task_is(w, id, "state", "done"));
	verifier_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_leases_during_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_during_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_keeps_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ended_meanwhile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scanned_no_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ap_off_owed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
