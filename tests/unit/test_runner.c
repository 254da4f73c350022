/*
 * engine/runner: the action runner the console and --action share. Validation before anything
 * is sent, per-target results, progress and completion counted, the guard refusing without
 * traffic, and cancel of requests in flight. Only loopback is contacted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/conf.h"
#include "engine/creds.h"
#include "engine/engine.h"
#include "engine/runner.h"
#include "net/http.h"
#include "util/guard.h"
#include "util/loop.h"

struct counts {
	int results, progress, done;
	size_t last_ndone;
	enum http_result got[4];
};

static void
result_cb(const struct runner_result *r, void *arg)
{
	struct counts *c = arg;

	c->results++;
	if (r->index < 4)
		c->got[r->index] = r->result;
}

static void
progress_cb(size_t ndone, size_t n, void *arg)
{
	struct counts *c = arg;

	(void)n;
	c->progress++;
	c->last_ndone = ndone;
}

static void
done_cb(void *arg)
{
	((struct counts *)arg)->done++;
}

struct fixture {
	struct engine eng;
	struct guard *guard;
	struct counts c;
	struct runner_cbs cbs;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct creds_opts o;
	char *cause = NULL;

	memset(&o, 0, sizeof o);
	f->eng.loop = loop_new();
	f->eng.http = http_new(f->eng.loop);
	f->eng.conf = conf_new();
	/* A loaded machine must not time the hanging requests out before they are cancelled. */
	if (conf_set(f->eng.conf, "request-timeout", "10m", &cause) != 0)
		return -1;
	f->eng.creds = creds_new(&o);
	/* Half of loopback: an address refused by the guard is on loopback too, so that nothing
	 * could leave the machine even if the guard let it through. */
	if (guard_parse("127.0.0.0/9", &f->guard, &cause) != 0)
		return -1;
	f->eng.guard = f->guard;
	f->cbs.result_cb = result_cb;
	f->cbs.progress_cb = progress_cb;
	f->cbs.done_cb = done_cb;
	f->cbs.arg = &f->c;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	creds_free(f->eng.creds);
	http_free(f->eng.http);
	loop_free(f->eng.loop);
	guard_free(f->guard);
	conf_free(f->eng.conf);
	free(f);
	return 0;
}

/* A loopback TCP port: listening (connections wait in the backlog, never answered) or not. */
static int
port_on_loopback(int listening, int *fd_out, char *hp, size_t size)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	if (listening && listen(fd, 16) != 0)
		return -1;
	snprintf(hp, size, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	if (!listening)
		close(fd); /* nothing listens there now: refused */
	*fd_out = listening ? fd : -1;
	return 0;
}

static void
test_checked_before_sending(void **state)
{
	struct fixture *f = *state;
	struct action a = { ACTION_SWITCH_ON, ACTION_ID_MAX + 1, 0, ACTION_LIGHT_PLAIN };
	const char *t1[] = { "127.0.0.1" }, *t2[] = { "127.0.0.1", "not a host!" };
	char *cause = NULL;

	assert_null(runner_new(&f->eng, &a, t1, 1, "test", &f->cbs, &cause));
	assert_non_null(strstr(cause, "channel"));
	free(cause);
	cause = NULL;
	a.id = 0;
	assert_null(runner_new(&f->eng, &a, t2, 2, "test", &f->cbs, &cause));
	assert_non_null(strstr(cause, "neither a registered device nor HOST[:PORT]"));
	free(cause);
	assert_int_equal(f->c.results + f->c.progress + f->c.done, 0);
}

static void
test_results_and_progress(void **state)
{
	struct fixture *f = *state;
	struct action a = { ACTION_REBOOT, 0, 0, ACTION_LIGHT_PLAIN };
	char hp[64];
	const char *t[3];
	struct runner *r;
	struct runner_result res;
	char *cause = NULL;
	int fd;

	assert_int_equal(port_on_loopback(0, &fd, hp, sizeof hp), 0);
	t[0] = hp;
	t[1] = "127.200.0.1"; /* outside the guard: refused before a packet is sent */
	t[2] = hp;
	r = runner_new(&f->eng, &a, t, 3, "test", &f->cbs, &cause);
	assert_non_null(r);
	runner_start(r);
	for (int i = 0; i < 2000 && f->c.done == 0; i++)
		loop_run_once(f->eng.loop, 100);
	assert_int_equal(f->c.done, 1);
	assert_int_equal(f->c.results, 3);
	assert_int_equal(f->c.progress, 3);
	assert_int_equal(f->c.last_ndone, 3);
	assert_int_equal(f->c.got[0], HTTP_REFUSED);
	assert_int_equal(f->c.got[1], HTTP_REFUSED_BY_GUARD);
	runner_result(r, 1, &res);
	assert_false(res.ok);
	assert_non_null(strstr(res.error, "SHELLY_TUI_ALLOW_NETS"));
	runner_free(r);
}

static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct action a = { ACTION_SWITCH_TOGGLE, 0, 0, ACTION_LIGHT_PLAIN };
	char hp[64], hp2[64];
	const char *t[2];
	struct runner *r;
	struct runner_result res;
	size_t ndone = 9;
	char *cause = NULL;
	int fd, fd2;

	assert_int_equal(port_on_loopback(1, &fd, hp, sizeof hp), 0);
	assert_int_equal(port_on_loopback(1, &fd2, hp2, sizeof hp2), 0);
	t[0] = hp;
	t[1] = hp2;
	r = runner_new(&f->eng, &a, t, 2, "test", &f->cbs, &cause);
	assert_non_null(r);
	runner_start(r);
	/* The requests connect and wait for an answer that never comes. */
	for (int i = 0; i < 20; i++)
		loop_run_once(f->eng.loop, 10);
	assert_int_equal(runner_count(r, &ndone), 2);
	assert_int_equal(ndone, 0);
	runner_cancel(r);
	assert_int_equal(f->c.done, 1);
	assert_int_equal(f->c.results, 2);
	runner_result(r, 0, &res);
	assert_int_equal(res.result, HTTP_CANCELLED);
	runner_free(r);
	close(fd);
	close(fd2);
}

/* The same address twice (any case, with the default port spelt out or not) is acted on once:
 * the later mentions finish at once as duplicates of the first, without a request. */
static void
test_duplicates_merged(void **state)
{
	struct fixture *f = *state;
	struct action a = { ACTION_SWITCH_TOGGLE, 0, 0, ACTION_LIGHT_PLAIN };
	char hp[64];
	const char *t[4];
	struct runner *r;
	struct runner_result res;
	size_t ndone = 9;
	char *cause = NULL;
	int fd;

	assert_int_equal(port_on_loopback(1, &fd, hp, sizeof hp), 0);
	t[0] = hp;
	t[1] = "127.0.0.2"; /* port 80 ... */
	t[2] = hp;
	t[3] = "127.0.0.2:80"; /* ... is this one */
	r = runner_new(&f->eng, &a, t, 4, "test", &f->cbs, &cause);
	assert_non_null(r);
	runner_start(r);
	assert_int_equal(runner_count(r, &ndone), 4);
	assert_int_equal(ndone, 2);
	assert_int_equal(runner_duplicates(r), 2);
	runner_result(r, 2, &res);
	assert_false(res.ok);
	assert_string_equal(res.duplicate_of, hp);
	runner_result(r, 3, &res);
	assert_string_equal(res.duplicate_of, "127.0.0.2");
	runner_result(r, 0, &res);
	assert_null(res.duplicate_of);
	runner_cancel(r);
	assert_int_equal(f->c.done, 1);
	assert_int_equal(f->c.results, 4);
	runner_free(r);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checked_before_sending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_results_and_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_merged, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
