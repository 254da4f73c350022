/* engine/lease: times, holder names, stale local holders, stepping down without heartbeats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/lease.h"
#include "store/store.h"
#include "util/loop.h"

struct world {
	struct loop *loop;
	struct store *store;
	char dir[64], path[96];
	int changes, leader;
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	char *cause = NULL;

	strcpy(w->dir, "/tmp/test_lease.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(w->path, sizeof w->path, "%s/db", w->dir);
	w->loop = loop_new();
	if (store_open(w->path, &w->store, &cause) != 0)
		fail_msg("store_open: %s", cause);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	store_free(w->store);
	loop_free(w->loop);
	snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

static void
change_cb(int leader, void *arg)
{
	struct world *w = arg;

	w->changes++;
	w->leader = leader;
}

static struct lease *
keeper(struct world *w, const char *role, uint64_t hb, uint64_t timeout)
{
	struct lease_opts o = { "poller", role, hb, timeout };
	char *cause = NULL;
	struct lease *l = lease_new(w->loop, w->store, &o, change_cb, w, &cause);

	if (l == NULL)
		fail_msg("lease_new: %s", cause);
	return l;
}

/* A holder name like ours for another pid of this host and pid namespace. */
static void
holder_for_pid(const struct lease *l, long pid, char *out, size_t size)
{
	char host[64];
	unsigned long ns;
	long self;

	assert_int_equal(sscanf(lease_holder(l), "%*[^:]:%63[^:]:%ld:%lu:", host, &self, &ns), 3);
	snprintf(out, size, "headless:%s:%ld:%lu:0000abcd", host, pid, ns);
}

static void
test_times(void **state)
{
	struct world *w = *state;
	struct lease_opts o = { "poller", "headless", 500, 1000 };
	char *cause = NULL;

	assert_int_equal(lease_check_times(200, 1000, &cause), 0);
	assert_int_equal(lease_check_times(500, 1000, &cause), -1);
	assert_non_null(strstr(cause, "lease-heartbeat"));
	free(cause);
	cause = NULL;
	assert_null(lease_new(w->loop, w->store, &o, change_cb, w, &cause));
	assert_non_null(cause);
	free(cause);
}

/* Same role, host and pid: the random part tells two keepers (two containers) apart. */
static void
test_holder_names(void **state)
{
	struct world *w = *state;
	struct lease *a = keeper(w, "headless", 100, 1000), *b = keeper(w, "headless", 100, 1000);
	char pid[32], *why = NULL;

	snprintf(pid, sizeof pid, ":%ld:", (long)getpid());
	assert_non_null(strstr(lease_holder(a), pid));
	assert_int_equal(strncmp(lease_holder(a), "headless:", 9), 0);
	assert_string_not_equal(lease_holder(a), lease_holder(b));
	assert_int_equal(lease_acquire_once(a, &why), 1);
	lease_free(b);
	lease_free(a);
}

/* A holder on this host whose process is gone (kill -9) is taken over at once. */
static void
test_stale_local_holder(void **state)
{
	struct world *w = *state;
	struct lease *l = keeper(w, "poll-once", 100, 20000);
	char dead[256], live[256], *other = NULL, *cause = NULL, *why = NULL;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	holder_for_pid(l, (long)child, dead, sizeof dead);
	assert_int_equal(store_lease_acquire(w->store, "poller", dead, loop_wall_ms(), 20000,
			     &other, &cause),
	    1);
	assert_int_equal(lease_acquire_once(l, &why), 1);
	assert_null(why);
	assert_int_equal(lease_is_leader(l), 1);
	lease_free(l); /* releases */

	/* A live process of this host (our parent) is not stale. */
	l = keeper(w, "poll-once", 100, 20000);
	holder_for_pid(l, (long)getppid(), live, sizeof live);
	assert_int_equal(store_lease_acquire(w->store, "poller", live, loop_wall_ms(), 20000,
			     &other, &cause),
	    1);
	assert_int_equal(lease_acquire_once(l, &why), 0);
	assert_non_null(strstr(why, live));
	assert_null(strstr(why, "stale"));
	free(why);
	lease_free(l);
}

/* Heartbeats that keep failing (another connection locks the database): the leader steps down. */
static void
test_step_down_without_heartbeats(void **state)
{
	struct world *w = *state;
	struct lease *l = keeper(w, "headless", 50, 400);
	sqlite3 *db = NULL;
	uint64_t end;

	lease_start(l);
	assert_int_equal(w->leader, 1);
	assert_int_equal(w->changes, 1);
	assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	end = loop_update_now(w->loop) + 30000; /* the store waits for a busy database first */
	while (w->leader && loop_update_now(w->loop) < end)
		assert_true(loop_run_once(w->loop, 50) >= 0);
	assert_int_equal(w->leader, 0);
	assert_int_equal(w->changes, 2);
	assert_int_equal(lease_is_leader(l), 0);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* Writes work again: it takes the lease back at a following heartbeat. */
	end = loop_update_now(w->loop) + 30000;
	while (!w->leader && loop_update_now(w->loop) < end)
		assert_true(loop_run_once(w->loop, 50) >= 0);
	assert_int_equal(w->leader, 1);
	lease_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holder_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_local_holder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_step_down_without_heartbeats, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
