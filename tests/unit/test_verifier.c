/*
 * engine/verifier on an in-memory store, with a discovery run that does not end by itself: the
 * configured range is one loopback address where a listener takes connections and never
 * answers, and a probe waits 60 s. While that run goes on, a silent agent's lease still
 * expires and a device that never shows up is still given up after the verify timeout; the
 * run is then stopped (nobody waits), or started again (a later task waits). Ranges refused by the
 * network guard become the reason of the task given up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

#define TARPIT "127.77.0.1"
#define WAIT_MS 20000 /* bound of every wait for an outcome; the stuck probe lasts 60 s */
#define HOUR_MS 3600000

struct world {
	struct loop *loop;
	struct http *http;
	struct store *store;
	int tarpit; /* listening socket that never answers */
	uint16_t port;
	struct scan_targets *targets;
	struct verifier_opts o;
};

static int
setup(void **state)
{
	struct world *w = xcalloc(1, sizeof *w);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	char *cause = NULL;

	w->loop = loop_new();
	w->http = http_new(w->loop);
	if (store_open(":memory:", &w->store, &cause) != 0)
		fail_msg("store_open: %s", cause);
	inet_pton(AF_INET, TARPIT, &sa.sin_addr);
	w->tarpit = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(w->tarpit >= 0);
	assert_int_equal(bind(w->tarpit, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(w->tarpit, 16), 0);
	assert_int_equal(getsockname(w->tarpit, (struct sockaddr *)&sa, &len), 0);
	w->port = ntohs(sa.sin_port);
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
	scan_targets_free(w->targets);
	store_free(w->store);
	http_free(w->http);
	loop_free(w->loop);
	free(w);
	return 0;
}

/* A task claimed by agent with lease_ms, brought to verifying for mac when mac is set. */
static int64_t
task(struct world *w, const char *agent, int64_t lease_ms, const char *mac)
{
	struct store_task t = {
	    .target = "shellyplus1pm-A1B2C3", .network = "home", .max_attempts = 2};
	struct store_task *c = NULL;
	struct taskq_secrets sec = {0};
	const char *st = NULL;
	char *cause = NULL;
	int64_t id = 0, now = loop_wall_ms();

	if (taskq_add(w->store, &t, "test", now, &id, &cause) != 0)
		fail_msg("taskq_add: %s", cause);
	assert_int_equal(taskq_claim(w->store, agent, now, lease_ms, NULL, &c, &sec, &cause), 1);
	assert_int_equal(c->id, id);
	store_task_free(c);
	if (mac != NULL) {
		assert_int_equal(
		    taskq_progress(w->store, agent, id, "running", NULL, now, &st, &cause), 1);
		assert_int_equal(
		    taskq_progress(w->store, agent, id, "configured", mac, now, &st, &cause), 1);
		assert_string_equal(st, "verifying");
	}
	return id;
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

/* Turns the loop until task id's field is want, or WAIT_MS passed; returns 1 when it is. */
static int
turn_until(struct world *w, int64_t id, const char *field, const char *want)
{
	int64_t end = loop_wall_ms() + WAIT_MS;

	while (!task_is(w, id, field, want) && loop_wall_ms() < end)
		loop_run_once(w->loop, 50);
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
 * While the run hangs on the tarpit, the verify timeout ends the wait (not_seen, no reason
 * given: nothing was refused), and with nobody waiting the run's probe is dropped.
 */
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
	assert_true(task_is(w, id, "reason", NULL));
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
		loop_run_once(w->loop, 50);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_leases_during_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_during_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_reason, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
