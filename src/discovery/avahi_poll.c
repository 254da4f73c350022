/*
 * AvahiPoll on util/loop: the pattern of avahi's own glib/libevent adapters, on our loop.
 */
#include "discovery/avahi_poll.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/queue.h>

#include <avahi-common/timeval.h>

#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

struct avahi_poll {
	AvahiPoll api;
	struct loop *loop;
	LIST_HEAD(, AvahiWatch) watches; /* all live ones, so avahi_poll_free finds leftovers */
	LIST_HEAD(, AvahiTimeout) timeouts;
	unsigned n_watches;
	unsigned n_timeouts;
};

struct AvahiWatch {
	struct avahi_poll *p;
	struct loop_watch *lw;
	AvahiWatchCallback cb;
	void *userdata;
	AvahiWatchEvent revents; /* what happened, for watch_get_events during the callback */
	LIST_ENTRY(AvahiWatch) entry;
};

struct AvahiTimeout {
	struct avahi_poll *p;
	struct loop_timer *lt;
	AvahiTimeoutCallback cb;
	void *userdata;
	LIST_ENTRY(AvahiTimeout) entry;
};

static int
to_loop_events(AvahiWatchEvent e)
{
	int events = 0;

	if (e & AVAHI_WATCH_IN)
		events |= LOOP_READ;
	if (e & AVAHI_WATCH_OUT)
		events |= LOOP_WRITE;
	/* ERR and HUP cannot be requested from the loop: they are always reported. */
	return events;
}

static AvahiWatchEvent
to_avahi_events(int events)
{
	int e = 0;

	if (events & LOOP_READ)
		e |= AVAHI_WATCH_IN;
	if (events & LOOP_WRITE)
		e |= AVAHI_WATCH_OUT;
	if (events & LOOP_ERROR)
		e |= AVAHI_WATCH_ERR | AVAHI_WATCH_HUP;
	return (AvahiWatchEvent)e;
}

static void
watch_cb(int fd, int events, void *arg)
{
	struct AvahiWatch *w = arg;

	w->revents = to_avahi_events(events);
	/* The callback may free w: nothing touches it afterwards. */
	w->cb(w, fd, w->revents, w->userdata);
}

static AvahiWatch *
watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent event, AvahiWatchCallback cb,
    void *userdata)
{
	struct avahi_poll *p = api->userdata;
	struct AvahiWatch *w = xcalloc(1, sizeof *w);

	w->p = p;
	w->cb = cb;
	w->userdata = userdata;
	w->lw = loop_watch_new(p->loop, fd, to_loop_events(event), watch_cb, w);
	LIST_INSERT_HEAD(&p->watches, w, entry);
	p->n_watches++;
	return w;
}

static void
watch_update(AvahiWatch *w, AvahiWatchEvent event)
{
	loop_watch_set(w->lw, to_loop_events(event));
}

static AvahiWatchEvent
watch_get_events(AvahiWatch *w)
{
	return w->revents;
}

static void
watch_free(AvahiWatch *w)
{
	struct avahi_poll *p = w->p;

	loop_watch_free(w->lw);
	LIST_REMOVE(w, entry);
	p->n_watches--;
	free(w);
}

/* Arms t for the absolute gettimeofday() time tv (NULL: disarm). */
static void
timeout_set(struct AvahiTimeout *t, const struct timeval *tv)
{
	AvahiUsec age;
	uint64_t delay_ms, now;

	if (tv == NULL) {
		loop_timer_disarm(t->lt);
		return;
	}
	/* avahi_age: microseconds since tv on avahi's clock; negative means tv is ahead. */
	age = avahi_age(tv);
	if (age >= 0)
		delay_ms = 0;
	else if (age < -(AvahiUsec)(INT64_MAX / 2))
		delay_ms = UINT64_MAX / 4; /* absurdly far: effectively never */
	else
		delay_ms = ((uint64_t)-age + 999) / 1000;
	/* Refresh the loop clock so a stale "now" cannot make the timer fire early. */
	now = loop_update_now(t->p->loop);
	loop_timer_arm_at(t->lt, now + delay_ms);
}

static void
timeout_cb(void *arg)
{
	struct AvahiTimeout *t = arg;

	/* One-shot, as avahi expects; the callback may re-arm or free t. */
	t->cb(t, t->userdata);
}

static AvahiTimeout *
timeout_new(const AvahiPoll *api, const struct timeval *tv, AvahiTimeoutCallback cb,
    void *userdata)
{
	struct avahi_poll *p = api->userdata;
	struct AvahiTimeout *t = xcalloc(1, sizeof *t);

	t->p = p;
	t->cb = cb;
	t->userdata = userdata;
	t->lt = loop_timer_new(p->loop, timeout_cb, t);
	LIST_INSERT_HEAD(&p->timeouts, t, entry);
	p->n_timeouts++;
	timeout_set(t, tv);
	return t;
}

static void
timeout_update(AvahiTimeout *t, const struct timeval *tv)
{
	timeout_set(t, tv);
}

static void
timeout_free(AvahiTimeout *t)
{
	struct avahi_poll *p = t->p;

	loop_timer_free(t->lt);
	LIST_REMOVE(t, entry);
	p->n_timeouts--;
	free(t);
}

struct avahi_poll *
avahi_poll_new(struct loop *loop)
{
	struct avahi_poll *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	LIST_INIT(&p->watches);
	LIST_INIT(&p->timeouts);
	p->api.userdata = p;
	p->api.watch_new = watch_new;
	p->api.watch_update = watch_update;
	p->api.watch_get_events = watch_get_events;
	p->api.watch_free = watch_free;
	p->api.timeout_new = timeout_new;
	p->api.timeout_update = timeout_update;
	p->api.timeout_free = timeout_free;
	return p;
}

const AvahiPoll *
avahi_poll_get(struct avahi_poll *p)
{
	return &p->api;
}

unsigned
avahi_poll_watches(const struct avahi_poll *p)
{
	return p->n_watches;
}

unsigned
avahi_poll_timeouts(const struct avahi_poll *p)
{
	return p->n_timeouts;
}

void
avahi_poll_free(struct avahi_poll *p)
{
	if (p == NULL)
		return;
	if (p->n_watches != 0 || p->n_timeouts != 0)
		log_warn("avahi poll freed with %u watches and %u timeouts left", p->n_watches,
		    p->n_timeouts);
	while (!LIST_EMPTY(&p->watches))
		watch_free(LIST_FIRST(&p->watches));
	while (!LIST_EMPTY(&p->timeouts))
		timeout_free(LIST_FIRST(&p->timeouts));
	free(p);
}
