#ifndef DISCOVERY_AVAHI_POLL_H
#define DISCOVERY_AVAHI_POLL_H

#include <avahi-common/watch.h>

/*
 * An AvahiPoll (avahi-common/watch.h) on our event loop, so libavahi-client runs in the
 * process's one thread: avahi watches become loop watches (AVAHI_WATCH_IN/OUT <-> LOOP_READ/
 * WRITE; LOOP_ERROR is reported as AVAHI_WATCH_ERR|AVAHI_WATCH_HUP) and avahi timeouts become
 * loop timers. Avahi passes absolute gettimeofday() times; they are turned into a delay from
 * the same clock (avahi_age) and armed on the loop's monotonic clock, rounded up to the
 * millisecond. Every free is safe inside any callback, including the object's own.
 */
struct loop;
struct avahi_poll;

/* Returns a new adapter on loop; caller frees with avahi_poll_free after every avahi object
 * (client, browsers, groups) that uses it has been freed. */
struct avahi_poll *avahi_poll_new(struct loop *loop);
/* Returns the AvahiPoll to pass to avahi_client_new; owned by p, valid until avahi_poll_free. */
const AvahiPoll *avahi_poll_get(struct avahi_poll *p);
/* Number of watches and timeouts avahi currently holds (for tests and leak checks). */
unsigned avahi_poll_watches(const struct avahi_poll *p);
unsigned avahi_poll_timeouts(const struct avahi_poll *p);
/* Frees the adapter and any watch or timeout avahi left behind (logged as a leak). */
void avahi_poll_free(struct avahi_poll *p);

#endif
