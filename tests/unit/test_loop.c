#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/loop.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Runs the loop until *done is set, at most bound_ms of wall time. */
static void
run_until(struct loop *loop, const int *done, uint64_t bound_ms)
{
	uint64_t end = loop_update_now(loop) + bound_ms;

	while (!*done && loop_update_now(loop) < end)
		assert_true(loop_run_once(loop, 50) >= 0);
	assert_true(*done);
}

struct order {
	int seen[16];
	int n;
	int done;
};

struct tagged {
	struct order *order;
	int tag;
	struct loop_timer *timer;
};

static void
order_cb(void *arg)
{
	struct tagged *t = arg;

	t->order->seen[t->order->n++] = t->tag;
	if (t->order->n == 5)
		t->order->done = 1;
}

static void
test_timer_order(void **state)
{
	struct loop *loop = loop_new();
	struct order order = { 0 };
	struct tagged tags[6];
	/* Deadlines (ms) and the expected firing order: by deadline, ties in arm order. */
	const uint64_t delay[6] = { 30, 10, 20, 10, 0, 5000 };

	(void)state;
	for (int i = 0; i < 6; i++) {
		tags[i].order = &order;
		tags[i].tag = i;
		tags[i].timer = loop_timer_new(loop, order_cb, &tags[i]);
		loop_timer_arm(tags[i].timer, delay[i]);
		assert_true(loop_timer_armed(tags[i].timer));
		assert_int_equal(loop_timer_due(tags[i].timer), loop_now_ms(loop) + delay[i]);
	}
	/* Disarm and re-arm: the timer moves to the back of its deadline. */
	loop_timer_disarm(tags[5].timer);
	assert_false(loop_timer_armed(tags[5].timer));
	assert_int_equal(loop_timer_due(tags[5].timer), 0);
	run_until(loop, &order.done, 2000);
	assert_int_equal(order.n, 5);
	assert_int_equal(order.seen[0], 4);
	assert_int_equal(order.seen[1], 1);
	assert_int_equal(order.seen[2], 3);
	assert_int_equal(order.seen[3], 2);
	assert_int_equal(order.seen[4], 0);
	for (int i = 0; i < 5; i++)
		assert_false(loop_timer_armed(tags[i].timer));
	for (int i = 0; i < 6; i++)
		loop_timer_free(tags[i].timer);
	loop_free(loop);
}

/* A heap under churn: many timers armed, re-armed and disarmed still fire in order. */
struct churn {
	uint64_t last_at;
	int fired;
	int bad;
	struct loop *loop;
};

struct churn_timer {
	struct churn *c;
	uint64_t at;
	struct loop_timer *t;
};

static void
churn_cb(void *arg)
{
	struct churn_timer *ct = arg;

	if (ct->at < ct->c->last_at || loop_now_ms(ct->c->loop) < ct->at)
		ct->c->bad++;
	ct->c->last_at = ct->at;
	ct->c->fired++;
}

static void
test_timer_heap_churn(void **state)
{
	enum { N = 200 };
	struct loop *loop = loop_new();
	struct churn c = { .loop = loop };
	struct churn_timer ts[N];
	uint64_t base = loop_now_ms(loop);
	int expected = 0, done = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		ts[i].c = &c;
		ts[i].t = loop_timer_new(loop, churn_cb, &ts[i]);
		ts[i].at = base + (uint64_t)((i * 37) % 50);
		loop_timer_arm_at(ts[i].t, ts[i].at);
	}
	for (int i = 0; i < N; i += 3) {
		ts[i].at = base + (uint64_t)((i * 11) % 60);
		loop_timer_arm_at(ts[i].t, ts[i].at);
	}
	for (int i = 1; i < N; i += 7)
		loop_timer_disarm(ts[i].t);
	for (int i = 0; i < N; i++)
		expected += loop_timer_armed(ts[i].t);
	while (c.fired < expected && loop_update_now(loop) < base + 2000)
		assert_true(loop_run_once(loop, -1) >= 0);
	done = c.fired == expected;
	assert_true(done);
	assert_int_equal(c.bad, 0);
	for (int i = 0; i < N; i++)
		loop_timer_free(ts[i].t);
	loop_free(loop);
}

struct rearm {
	struct loop_timer *self;
	struct loop_timer *victim;
	int count;
	int victim_fired;
	int done;
};

static void
rearm_cb(void *arg)
{
	struct rearm *r = arg;

	r->count++;
	if (r->count == 1) {
		/* Free another armed timer due at the same time from inside a callback. */
		loop_timer_free(r->victim);
		r->victim = NULL;
	}
	if (r->count < 3) {
		loop_timer_arm(r->self, 0);
		return;
	}
	loop_timer_free(r->self);
	r->self = NULL;
	r->done = 1;
}

static void
victim_cb(void *arg)
{
	struct rearm *r = arg;

	r->victim_fired++;
}

static void
test_timer_rearm_and_free_in_cb(void **state)
{
	struct loop *loop = loop_new();
	struct rearm r = { 0 };

	(void)state;
	r.self = loop_timer_new(loop, rearm_cb, &r);
	r.victim = loop_timer_new(loop, victim_cb, &r);
	loop_timer_arm(r.self, 1);
	loop_timer_arm(r.victim, 1);
	/* A 0 ms re-arm fires on the next turn, not the same one. */
	run_until(loop, &r.done, 2000);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.victim_fired, 0);
	assert_null(r.self);
	loop_free(loop);
}

/* loop_run_once(-1) returns once the nearest timer is due. */
static void
flag_cb(void *arg)
{
	(*(int *)arg)++;
}

static void
test_run_once_waits_for_timer(void **state)
{
	struct loop *loop = loop_new();
	struct loop_timer *t;
	int fired = 0;
	uint64_t start;

	(void)state;
	t = loop_timer_new(loop, flag_cb, &fired);
	start = loop_update_now(loop);
	loop_timer_arm(t, 30);
	while (fired == 0 && loop_update_now(loop) < start + 2000)
		assert_true(loop_run_once(loop, -1) >= 0);
	assert_int_equal(fired, 1);
	assert_true(loop_now_ms(loop) >= start + 30);
	assert_true(loop_turns(loop) >= 1);
	loop_timer_free(t);
	loop_free(loop);
}

struct pipes {
	int fds[2];
	struct loop_watch *w;
	char got[32];
	size_t len;
	int reads;
	int writes;
	int errors;
	int done;
};

static void
pipe_read_cb(int fd, int events, void *arg)
{
	struct pipes *p = arg;
	ssize_t n;

	if (events & LOOP_ERROR)
		p->errors++;
	if (!(events & LOOP_READ))
		return;
	p->reads++;
	n = read(fd, p->got + p->len, sizeof p->got - 1 - p->len);
	if (n > 0)
		p->len += (size_t)n;
	if (n == 0 || p->len >= 5)
		p->done = 1;
}

static void
test_fd_read(void **state)
{
	struct loop *loop = loop_new();
	struct pipes p = { 0 };

	(void)state;
	assert_int_equal(pipe(p.fds), 0);
	p.w = loop_watch_new(loop, p.fds[0], LOOP_READ, pipe_read_cb, &p);
	assert_int_equal(loop_watch_events(p.w), LOOP_READ);
	/* Nothing to read: a turn with a short timeout dispatches nothing. */
	assert_int_equal(loop_run_once(loop, 10), 0);
	assert_int_equal(p.reads, 0);
	assert_int_equal(write(p.fds[1], "hello", 5), 5);
	run_until(loop, &p.done, 2000);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.got, "hello", 5);
	/* A paused watch is not called even with data pending. */
	loop_watch_set(p.w, 0);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	assert_int_equal(loop_run_once(loop, 10), 0);
	loop_watch_set(p.w, LOOP_READ);
	p.done = 0;
	run_until(loop, &p.done, 2000);
	assert_int_equal(p.len, 6);
	/* Hang-up: the writer closes, the reader sees READ (EOF). */
	close(p.fds[1]);
	p.done = 0;
	run_until(loop, &p.done, 2000);
	loop_watch_free(p.w);
	close(p.fds[0]);
	loop_free(loop);
}

static void
pipe_write_cb(int fd, int events, void *arg)
{
	struct pipes *p = arg;

	(void)fd;
	if (events & LOOP_WRITE) {
		p->writes++;
		p->done = 1;
		loop_watch_set(p->w, 0);
	}
}

static void
test_fd_write(void **state)
{
	struct loop *loop = loop_new();
	struct pipes p = { 0 };

	(void)state;
	assert_int_equal(pipe(p.fds), 0);
	p.w = loop_watch_new(loop, p.fds[1], LOOP_WRITE, pipe_write_cb, &p);
	run_until(loop, &p.done, 2000);
	assert_int_equal(p.writes, 1);
	assert_int_equal(loop_watch_events(p.w), 0);
	loop_watch_free(p.w);
	close(p.fds[0]);
	close(p.fds[1]);
	loop_free(loop);
}

/* Two readable watches in one batch: the first frees the second; the second is not called. */
struct pair {
	struct loop_watch *a, *b;
	int a_calls, b_calls;
	int done;
};

static void
pair_a_cb(int fd, int events, void *arg)
{
	struct pair *p = arg;

	(void)fd;
	(void)events;
	p->a_calls++;
	if (p->b != NULL) {
		loop_watch_free(p->b);
		p->b = NULL;
	}
	/* Freeing oneself inside one's own callback is safe too. */
	loop_watch_free(p->a);
	p->a = NULL;
	p->done = 1;
}

static void
pair_b_cb(int fd, int events, void *arg)
{
	struct pair *p = arg;

	(void)fd;
	(void)events;
	p->b_calls++;
	if (p->a != NULL) {
		loop_watch_free(p->a);
		p->a = NULL;
	}
	loop_watch_free(p->b);
	p->b = NULL;
	p->done = 1;
}

static void
test_watch_free_in_batch(void **state)
{
	struct loop *loop = loop_new();
	struct pair p = { 0 };
	int fa[2], fb[2];

	(void)state;
	assert_int_equal(pipe(fa), 0);
	assert_int_equal(pipe(fb), 0);
	assert_int_equal(write(fa[1], "a", 1), 1);
	assert_int_equal(write(fb[1], "b", 1), 1);
	p.a = loop_watch_new(loop, fa[0], LOOP_READ, pair_a_cb, &p);
	p.b = loop_watch_new(loop, fb[0], LOOP_READ, pair_b_cb, &p);
	run_until(loop, &p.done, 2000);
	/* Whichever ran first freed the other, whose event in the same batch was dropped. */
	assert_int_equal(p.a_calls + p.b_calls, 1);
	assert_null(p.a);
	assert_null(p.b);
	/* Later turns deliver nothing for the freed watches. */
	assert_int_equal(loop_run_once(loop, 10), 0);
	close(fa[0]);
	close(fa[1]);
	close(fb[0]);
	close(fb[1]);
	loop_free(loop);
}

struct sigstate {
	int sig;
	int calls;
	int done;
};

static void
sig_cb(int sig, void *arg)
{
	struct sigstate *s = arg;

	s->sig = sig;
	s->calls++;
	s->done = 1;
}

static void
test_signal(void **state)
{
	struct loop *loop = loop_new();
	struct sigstate s = { 0 };

	(void)state;
	assert_int_equal(loop_signal(loop, SIGUSR1, sig_cb, &s), 0);
	assert_int_equal(loop_signal(loop, SIGKILL, sig_cb, &s), -1);
	assert_int_equal(raise(SIGUSR1), 0);
	/* The callback runs from the loop, not from the handler. */
	assert_int_equal(s.calls, 0);
	run_until(loop, &s.done, 2000);
	assert_int_equal(s.sig, SIGUSR1);
	assert_int_equal(s.calls, 1);
	/* Two signals before the loop turns are coalesced into one callback (signal semantics). */
	s.done = 0;
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	run_until(loop, &s.done, 2000);
	assert_int_equal(s.calls, 2);
	loop_free(loop);
	/* The previous disposition (default) is restored; ignoring it now proves it is ours again. */
	signal(SIGUSR1, SIG_IGN);
	assert_int_equal(raise(SIGUSR1), 0);
	signal(SIGUSR1, SIG_DFL);
}

static void
stop_cb(void *arg)
{
	loop_stop(arg);
}

static void
test_run_stop(void **state)
{
	struct loop *loop = loop_new();
	struct loop_timer *t = loop_timer_new(loop, stop_cb, loop);

	(void)state;
	loop_timer_arm(t, 5);
	assert_int_equal(loop_run(loop), 0);
	assert_false(loop_timer_armed(t));
	assert_true(loop_wall_ms() > 1600000000000LL);
	loop_free(loop); /* frees the timer still registered */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_heap_churn),
		cmocka_unit_test(test_timer_rearm_and_free_in_cb),
		cmocka_unit_test(test_run_once_waits_for_timer),
		cmocka_unit_test(test_fd_read),
		cmocka_unit_test(test_fd_write),
		cmocka_unit_test(test_watch_free_in_batch),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_run_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
