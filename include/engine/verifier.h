#ifndef ENGINE_VERIFIER_H
#define ENGINE_VERIFIER_H

#include <stdint.h>

/*
 * The manager's side of provisioning in a running fleet: every interval it returns the tasks
 * of agents that stopped heartbeating to the queue (provision/taskq), and it verifies
 * configured devices: a task in state verifying is done when a scan of the configured ranges
 * (and mDNS browsing, when enabled) finds a device with the task's MAC. The device is merged
 * into the registry with the password its agent gave it (by reference) first, and only then is
 * the task marked done, so a scan dropped later (reload, shutdown) loses nothing; a task its
 * agent ended meanwhile is not verified and its password is not kept. When timeout_ms pass
 * without the device, the task's stage becomes "not_seen" and its agent decides between
 * "AP back" and "lost"; the reason says why when the manager knows: the ranges were refused,
 * or no scan covered them whole within timeout_ms ("the scan covered N of M addresses").
 * One scan at a time covers every task waiting; it is stopped when no task waits any more, or
 * after timeout_ms (logged with its progress; the next one starts from the ranges' beginning).
 * Lease checks and timeouts go on while a scan runs.
 */
#include "discovery/discover.h"

struct loop;
struct http;
struct store;
struct verifier;

struct verifier_opts {
	uint64_t interval_ms; /* lease checks and verification rounds; 0: 1 s */
	uint64_t timeout_ms; /* how long a device has to appear */
	/*
	 * Each round's discovery run (engine/discoveropts fills it): the configured ranges
	 * (targets borrowed; NULL: nothing can be verified by scanning) and mDNS browsing (mdns).
	 */
	struct discover_opts run;
	/*
	 * Why the configured ranges were left out (borrowed, as targets), or NULL: logged, and
	 * the reason of every task given up ("not verified: ...").
	 */
	const char *refused;
	/* devices were verified and registered (called from the next round); may be NULL */
	void (*changed_cb)(void *arg);
	void *arg;
};

/* Starts the timer. Caller frees. */
struct verifier *verifier_new(
    struct loop *loop, struct http *http, struct store *store, const struct verifier_opts *opts);
/*
 * Takes new options (a reload): ranges, timeouts and the rest apply from the next round, and
 * the devices waited for keep their start, so a shorter timeout can end a wait at once. A
 * scan in flight is dropped first, so the old targets may be freed after this returns.
 */
void verifier_set_opts(struct verifier *v, const struct verifier_opts *opts);
/* Stops; a scan in flight is dropped. NULL allowed. */
void verifier_free(struct verifier *v);

#endif
