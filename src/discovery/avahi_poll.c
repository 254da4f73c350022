/*
 * AvahiPoll on util/loop: the pattern of avahi's own glib/libevent adapters, on our loop.
 */
#include "discovery/avahi_poll.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <avahi-common/timeval.h>

#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

/* What a watch and a timeout share: their poll, and the list of live ones it keeps. */
struct handle {
	struct avahi_poll *p;
	void *userdata;
	int is_timeout;
	LIST_ENTRY(handle) entry;
};

struct avahi_poll {
	AvahiPoll api;
	struct loop *loop;
	LIST_HEAD(, handle) live; /* all live handles, so avahi_poll_free finds leftovers */
	unsigned n[2]; /* live watches, timeouts */
};

struct AvahiWatch {
	struct handle h; /* first: a handle is its watch */
	struct loop_watch *lw;
	AvahiWatchCallback cb;
	AvahiWatchEvent revents; /* what happened, for watch_get_events during the callback */
};

struct AvahiTimeout {
	struct handle h; /* first: a handle is its timeout */
	struct loop_timer *lt;
	AvahiTimeoutCallback cb;
};

/* Avahi's watch events and the loop's. ERR and HUP cannot be requested from the loop: they are
 * always reported. */
static const struct {
	int avahi, loop;
} event_map[] = {
    {AVAHI_WATCH_IN, LOOP_READ},
    {AVAHI_WATCH_OUT, LOOP_WRITE},
    {AVAHI_WATCH_ERR | AVAHI_WATCH_HUP, LOOP_ERROR},
};

/* The loop events of avahi's events e (to_loop), or the avahi events of loop events e. */
static int
events_map(int e, int to_loop)
{
	int out = 0;

	for (size_t i = 0; i < sizeof event_map / sizeof event_map[0]; i++) {
		if (to_loop && event_map[i].loop != LOOP_ERROR && (e & event_map[i].avahi))
			out |= event_map[i].loop;
		else if (!to_loop && (e & event_map[i].loop))
			out |= event_map[i].avahi;
	}
	return out;
}

/* A new handle of size bytes (a watch or a timeout), on the list of api's poll. */
static void *
handle_new(const AvahiPoll *api, size_t size, int is_timeout, void *userdata)
{
	struct avahi_poll *p = api->userdata;
	struct handle *h = xcalloc(1, size);

	h->p = p;
	h->userdata = userdata;
	h->is_timeout = is_timeout;
	LIST_INSERT_HEAD(&p->live, h, entry);
	p->n[is_timeout]++;
	return h;
}

static void
handle_free(struct handle *h)
{
	LIST_REMOVE(h, entry);
	h->p->n[h->is_timeout]--;
	free(h);
}

static void
watch_cb(int fd, int events, void *arg)
{
	struct AvahiWatch *w = arg;

	w->revents = (AvahiWatchEvent)events_map(events, 0);
	/* The callback may free w: nothing touches it afterwards. */
	w->cb(w, fd, w->revents, w->h.userdata);
}

static AvahiWatch *
watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent event, AvahiWatchCallback cb,
    void *userdata)
{
	struct AvahiWatch *w = handle_new(api, sizeof *w, 0, userdata);

	w->cb = cb;
	w->lw = loop_watch_new(w->h.p->loop, fd, events_map(event, 1), watch_cb, w);
	return w;
}

static void
watch_update(AvahiWatch *w, AvahiWatchEvent event)
{
	loop_watch_set(w->lw, events_map(event, 1));
}

static AvahiWatchEvent
watch_get_events(AvahiWatch *w)
{
	return w->revents;
}

static void
watch_free(AvahiWatch *w)
{
	loop_watch_free(w->lw);
	handle_free(&w->h);
}

/* Arms t for the absolute gettimeofday() time tv (NULL: disarm). */
static void
timeout_set(struct AvahiTimeout *t, const struct timeval *tv)
{
	struct timeval now_tv;
	AvahiUsec age;
	uint64_t delay_ms, now;

	if (tv == NULL) {
		loop_timer_disarm(t->lt);
		return;
	}
	/* Microseconds since tv on avahi's clock (gettimeofday, as avahi_age() computes it, not
	 * called so that the library is only loaded by mdns.c); negative means tv is ahead. */
	gettimeofday(&now_tv, NULL);
	age = ((AvahiUsec)now_tv.tv_sec - (AvahiUsec)tv->tv_sec) * 1000000 +
	    ((AvahiUsec)now_tv.tv_usec - (AvahiUsec)tv->tv_usec);
	if (age >= 0)
		delay_ms = 0;
	else if (age < -(AvahiUsec)(INT64_MAX / 2))
		delay_ms = UINT64_MAX / 4; /* absurdly far: effectively never */
	else
		delay_ms = ((uint64_t)-age + 999) / 1000;
	/* Refresh the loop clock so a stale "now" cannot make the timer fire early. */
	now = loop_update_now(t->h.p->loop);
	loop_timer_arm_at(t->lt, now + delay_ms);
}

static void
timeout_cb(void *arg)
{
	struct AvahiTimeout *t = arg;

	/* One-shot, as avahi expects; the callback may re-arm or free t. */
	t->cb(t, t->h.userdata);
}

static AvahiTimeout *
timeout_new(const AvahiPoll *api, const struct timeval *tv, AvahiTimeoutCallback cb,
    void *userdata)
{
	struct AvahiTimeout *t = handle_new(api, sizeof *t, 1, userdata);

	t->cb = cb;
	t->lt = loop_timer_new(t->h.p->loop, timeout_cb, t);
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
	loop_timer_free(t->lt);
	handle_free(&t->h);
}

struct avahi_poll *
avahi_poll_new(struct loop *loop)
{
	struct avahi_poll *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	LIST_INIT(&p->live);
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
	return p->n[0];
}

unsigned
avahi_poll_timeouts(const struct avahi_poll *p)
{
	return p->n[1];
}

void
avahi_poll_free(struct avahi_poll *p)
{
	if (p == NULL)
		return;
	if (p->n[0] != 0 || p->n[1] != 0)
		log_warn("avahi poll freed with %u watches and %u timeouts left", p->n[0], p->n[1]);
	while (!LIST_EMPTY(&p->live)) {
		struct handle *h = LIST_FIRST(&p->live);

		if (h->is_timeout)
			timeout_free((AvahiTimeout *)(void *)h);
		else
			watch_free((AvahiWatch *)(void *)h);
	}
	free(p);
}
