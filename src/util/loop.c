/*
 * The event loop: epoll for file descriptors, a binary min-heap for timers, a self-pipe for
 * signals.
 *
 * Freeing inside callbacks: a watch freed while the loop dispatches a batch of epoll events is
 * removed from epoll at once but its memory is only released after the batch, so a later event
 * of the same batch that points at it is recognised (dead flag) and dropped. Timers are popped
 * from the heap before their callback runs and the dispatcher never touches a timer after its
 * callback, but they are deferred the same way for symmetry and to keep the rule simple.
 *
 * Timer ordering: by deadline, then by arm order (a sequence number), so timers armed for the
 * same millisecond fire in the order they were armed. A timer re-armed for "now" from inside a
 * timer callback fires on the next turn, never in the same one, so a 0 ms timer cannot starve
 * file descriptors.
 */
#include "util/loop.h"

#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 64
#define LOOP_NO_INDEX SIZE_MAX

/*
 * What a watch and a timer share: their loop, the callback argument, whether they were freed,
 * and their place on the loop's live list (or its dead list once freed during dispatch).
 */
struct loop_item {
	struct loop *loop;
	bool dead;
	void *arg;
	LIST_ENTRY(loop_item) entry;
};

struct loop_watch {
	struct loop_item it; /* first: freeing the item frees the watch */
	int fd;
	int events;		/* LOOP_READ|LOOP_WRITE requested */
	bool registered; /* in the epoll set (only while events != 0) */
	loop_fd_cb cb;
};

struct loop_timer {
	struct loop_item it; /* first: freeing the item frees the timer */
	uint64_t at;
	uint64_t seq;
	size_t index; /* position in the heap, LOOP_NO_INDEX when disarmed */
	loop_timer_cb cb;
};

struct loop_sig {
	loop_signal_cb cb;
	void *arg;
	struct sigaction old;
};

struct loop {
	int epfd;
	uint64_t now;
	uint64_t turns;
	uint64_t seq;
	bool stopped;
	int depth; /* > 0 while dispatching: frees are deferred */

	LIST_HEAD(, loop_item) live, dead;

	struct loop_timer **heap;
	size_t heap_len, heap_cap;

	int sigpipe[2];
	struct loop_watch *sigwatch;
	struct loop_sig sigs[NSIG];
};

/*
 * The only globals: which self-pipe (write end + 1, 0 = none) each signal is routed to, and the
 * per-signal pending flags the handler sets. STYLE.md allows signal flags and the self-pipe.
 */
static volatile sig_atomic_t loop_sig_fd[NSIG];
static volatile sig_atomic_t loop_sig_pending[NSIG];

static uint64_t
loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- timer heap ---- */

static bool
timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->seq < b->seq;
}

static void
heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->index = i;
}

static void
heap_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void
heap_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	size_t n = loop->heap_len;

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_place(loop, i, loop->heap[child]);
		i = child;
	}
	heap_place(loop, i, t);
}

static void
heap_remove(struct loop *loop, struct loop_timer *t)
{
	size_t i = t->index;
	struct loop_timer *last;

	if (i == LOOP_NO_INDEX)
		return;
	t->index = LOOP_NO_INDEX;
	last = loop->heap[--loop->heap_len];
	if (last == t)
		return;
	heap_place(loop, i, last);
	if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

static void
heap_insert(struct loop *loop, struct loop_timer *t)
{
	loop->heap = xgrowarray(loop->heap, &loop->heap_cap, loop->heap_len, sizeof *loop->heap);
	loop->heap[loop->heap_len] = t;
	t->index = loop->heap_len++;
	heap_up(loop, t->index);
}

/* ---- loop ---- */

struct loop *
loop_new(void)
{
	struct loop *loop = xcalloc(1, sizeof *loop);

	LIST_INIT(&loop->live);
	LIST_INIT(&loop->dead);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd == -1) {
		log_error("epoll_create1: %s", strerror(errno));
		free(loop);
		return NULL;
	}
	loop->sigpipe[0] = loop->sigpipe[1] = -1;
	loop->now = loop_clock_ms();
	return loop;
}

static void
loop_reap(struct loop *loop)
{
	struct loop_item *it;

	while ((it = LIST_FIRST(&loop->dead)) != NULL) {
		LIST_REMOVE(it, entry);
		free(it);
	}
}

/* Puts it on the live list of loop. */
static void
item_add(struct loop *loop, struct loop_item *it, void *arg)
{
	it->loop = loop;
	it->arg = arg;
	LIST_INSERT_HEAD(&loop->live, it, entry);
}

/* Frees the watch or timer it heads, at once or, while dispatching, when the turn ends. */
static void
item_free(struct loop_item *it)
{
	it->dead = true;
	LIST_REMOVE(it, entry);
	if (it->loop->depth > 0)
		LIST_INSERT_HEAD(&it->loop->dead, it, entry);
	else
		free(it);
}

void
loop_free(struct loop *loop)
{
	struct loop_item *it;

	if (loop == NULL)
		return;
	for (int sig = 1; sig < NSIG; sig++) {
		if (loop->sigs[sig].cb == NULL)
			continue;
		if (loop_sig_fd[sig] == loop->sigpipe[1] + 1) {
			sigaction(sig, &loop->sigs[sig].old, NULL);
			loop_sig_fd[sig] = 0;
		}
	}
	/* The live ones join the dead ones, and all go together. */
	while ((it = LIST_FIRST(&loop->live)) != NULL) {
		LIST_REMOVE(it, entry);
		LIST_INSERT_HEAD(&loop->dead, it, entry);
	}
	loop_reap(loop);
	if (loop->sigpipe[0] != -1) {
		close(loop->sigpipe[0]);
		close(loop->sigpipe[1]);
	}
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

/* ---- watches ---- */

static uint32_t
watch_epoll_events(int events)
{
	uint32_t ev = 0;

	if (events & LOOP_READ)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		ev |= EPOLLOUT;
	return ev;
}

static void
watch_apply(struct loop_watch *w, int events)
{
	struct epoll_event ev;
	int op;

	events &= LOOP_READ | LOOP_WRITE;
	w->events = events;
	/*
	 * A watch waiting for nothing leaves the epoll set: epoll would still report hang-ups on
	 * it, and a paused watch on a dead socket would then spin the loop.
	 */
	if (events == 0) {
		if (w->registered) {
			if (epoll_ctl(w->it.loop->epfd, EPOLL_CTL_DEL, w->fd, NULL) == -1 &&
			    errno != EBADF && errno != ENOENT)
				log_warn("epoll_ctl del fd %d: %s", w->fd, strerror(errno));
			w->registered = false;
		}
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = watch_epoll_events(events);
	ev.data.ptr = w;
	op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(w->it.loop->epfd, op, w->fd, &ev) == -1) {
		log_error("epoll_ctl %s fd %d: %s", op == EPOLL_CTL_ADD ? "add" : "mod", w->fd,
		    strerror(errno));
		return;
	}
	w->registered = true;
}

struct loop_watch *
loop_watch_new(struct loop *loop, int fd, int events, loop_fd_cb cb, void *arg)
{
	struct loop_watch *w = xcalloc(1, sizeof *w);

	item_add(loop, &w->it, arg);
	w->fd = fd;
	w->cb = cb;
	watch_apply(w, events);
	return w;
}

void
loop_watch_set(struct loop_watch *w, int events)
{
	if (w == NULL || w->it.dead)
		return;
	events &= LOOP_READ | LOOP_WRITE;
	if (events == w->events && (events == 0 || w->registered))
		return;
	watch_apply(w, events);
}

int
loop_watch_events(const struct loop_watch *w)
{
	return w != NULL ? w->events : 0;
}

void
loop_watch_free(struct loop_watch *w)
{
	if (w == NULL || w->it.dead)
		return;
	watch_apply(w, 0);
	item_free(&w->it);
}

/* ---- timers ---- */

struct loop_timer *
loop_timer_new(struct loop *loop, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = xcalloc(1, sizeof *t);

	item_add(loop, &t->it, arg);
	t->cb = cb;
	t->index = LOOP_NO_INDEX;
	return t;
}

void
loop_timer_arm_at(struct loop_timer *t, uint64_t at_ms)
{
	struct loop *loop;

	if (t == NULL || t->it.dead)
		return;
	loop = t->it.loop;
	heap_remove(loop, t);
	t->at = at_ms;
	t->seq = loop->seq++;
	heap_insert(loop, t);
}

void
loop_timer_arm(struct loop_timer *t, uint64_t ms)
{
	uint64_t now;

	if (t == NULL || t->it.dead)
		return;
	now = t->it.loop->now;
	loop_timer_arm_at(t, ms > UINT64_MAX - now ? UINT64_MAX : now + ms);
}

void
loop_timer_disarm(struct loop_timer *t)
{
	if (t == NULL)
		return;
	heap_remove(t->it.loop, t);
}

int
loop_timer_armed(const struct loop_timer *t)
{
	return t != NULL && t->index != LOOP_NO_INDEX;
}

uint64_t
loop_timer_due(const struct loop_timer *t)
{
	return loop_timer_armed(t) ? t->at : 0;
}

void
loop_timer_free(struct loop_timer *t)
{
	if (t == NULL || t->it.dead)
		return;
	heap_remove(t->it.loop, t);
	item_free(&t->it);
}

/* ---- time ---- */

uint64_t
loop_now_ms(struct loop *loop)
{
	return loop->now;
}

uint64_t
loop_update_now(struct loop *loop)
{
	uint64_t now = loop_clock_ms();

	if (now > loop->now)
		loop->now = now;
	return loop->now;
}

int64_t
loop_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- signals ---- */

static void
loop_signal_handler(int sig)
{
	int saved = errno;
	int fd;

	if (sig <= 0 || sig >= NSIG)
		return;
	loop_sig_pending[sig] = 1;
	fd = loop_sig_fd[sig] - 1;
	if (fd >= 0) {
		char c = 0;

		/* A full pipe already holds a wake-up; the pending flag carries the signal. */
		if (write(fd, &c, 1) == -1) {
		}
	}
	errno = saved;
}

static void
loop_signal_cb_pipe(int fd, int events, void *arg)
{
	struct loop *loop = arg;
	char buf[64];

	(void)events;
	while (read(fd, buf, sizeof buf) > 0)
		;
	for (int sig = 1; sig < NSIG; sig++) {
		if (loop->sigs[sig].cb == NULL || !loop_sig_pending[sig])
			continue;
		loop_sig_pending[sig] = 0;
		loop->sigs[sig].cb(sig, loop->sigs[sig].arg);
	}
}

int
loop_signal(struct loop *loop, int sig, loop_signal_cb cb, void *arg)
{
	struct sigaction sa;

	if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP || cb == NULL)
		return -1;
	if (loop->sigpipe[0] == -1) {
		if (pipe2(loop->sigpipe, O_CLOEXEC | O_NONBLOCK) == -1) {
			log_error("pipe2: %s", strerror(errno));
			return -1;
		}
		loop->sigwatch = loop_watch_new(loop, loop->sigpipe[0], LOOP_READ,
		    loop_signal_cb_pipe, loop);
	}
	if (loop->sigs[sig].cb == NULL) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = loop_signal_handler;
		sa.sa_flags = SA_RESTART;
		sigfillset(&sa.sa_mask);
		loop_sig_pending[sig] = 0;
		loop_sig_fd[sig] = loop->sigpipe[1] + 1;
		if (sigaction(sig, &sa, &loop->sigs[sig].old) == -1) {
			log_error("sigaction %d: %s", sig, strerror(errno));
			loop_sig_fd[sig] = 0;
			return -1;
		}
	}
	loop->sigs[sig].cb = cb;
	loop->sigs[sig].arg = arg;
	return 0;
}

/* ---- running ---- */

static int
loop_wait_ms(struct loop *loop, int timeout_ms)
{
	uint64_t now = loop_update_now(loop), delta;
	int wait = timeout_ms;

	if (loop->heap_len == 0)
		return wait;
	if (loop->heap[0]->at <= now)
		return 0;
	delta = loop->heap[0]->at - now;
	if (delta > INT_MAX)
		delta = INT_MAX;
	if (wait < 0 || (uint64_t)wait > delta)
		wait = (int)delta;
	return wait;
}

static int
loop_dispatch_timers(struct loop *loop)
{
	uint64_t batch = loop->seq;
	int n = 0;

	while (loop->heap_len > 0) {
		struct loop_timer *t = loop->heap[0];

		if (t->at > loop->now || t->seq >= batch)
			break;
		heap_remove(loop, t);
		n++;
		t->cb(t->it.arg);
	}
	return n;
}

int
loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n, dispatched = 0;

	loop->turns++;
	n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, loop_wait_ms(loop, timeout_ms));
	if (n == -1) {
		if (errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			return -1;
		}
		n = 0;
	}
	loop_update_now(loop);
	loop->depth++;
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;
		uint32_t e = evs[i].events;
		int events = 0;

		if (w->it.dead || w->events == 0)
			continue;
		if (e & (EPOLLIN | EPOLLPRI | EPOLLRDHUP))
			events |= LOOP_READ;
		if (e & EPOLLOUT)
			events |= LOOP_WRITE;
		if (e & (EPOLLERR | EPOLLHUP))
			events |= LOOP_ERROR | w->events;
		events &= w->events | LOOP_ERROR;
		if (events == 0)
			continue;
		dispatched++;
		w->cb(w->fd, events, w->it.arg);
	}
	dispatched += loop_dispatch_timers(loop);
	loop->depth--;
	if (loop->depth == 0)
		loop_reap(loop);
	return dispatched;
}

int
loop_run(struct loop *loop)
{
	/* A loop_stop() before loop_run() is honoured; the flag is cleared on return. */
	while (!loop->stopped) {
		if (loop_run_once(loop, -1) == -1)
			return -1;
	}
	loop->stopped = false;
	return 0;
}

void
loop_stop(struct loop *loop)
{
	loop->stopped = true;
}

int
loop_stopped(const struct loop *loop)
{
	return loop->stopped;
}

uint64_t
loop_turns(const struct loop *loop)
{
	return loop->turns;
}
