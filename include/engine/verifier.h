#ifndef ENGINE_VERIFIER_H
#define ENGINE_VERIFIER_H

#include <stdint.h>

/*
 * The manager's side of provisioning in a running fleet: every interval it returns the tasks
 * of agents that stopped heartbeating to the queue (provision/taskq), and it verifies
 * configured devices: a task in state verifying is done when a scan of the configured ranges
 * (and mDNS browsing, when enabled) finds a device with the task's MAC (the device is then also
 * merged into the registry); when timeout_ms pass without it, the task's stage becomes "not_seen"
 * and its agent decides between "AP back" and "lost". One scan at a time covers every task waiting.
 */
struct loop;
struct http;
struct store;
struct guard;
struct scan_targets;
struct verifier;

struct verifier_opts {
	uint64_t interval_ms; /* lease checks and verification rounds */
	uint64_t timeout_ms; /* how long a device has to appear */
	const struct scan_targets *targets; /* borrowed; NULL or empty: nothing can be verified */
	const struct guard *guard; /* borrowed */
	uint32_t probe_timeout_ms; /* per address */
	int concurrency;
	uint16_t port; /* 0: 80 with the HTTPS fallback */
	int mdns; /* also browse mDNS (when the guard allows it) */
	void (*changed_cb)(void *arg); /* devices were verified and registered; may be NULL */
	void *arg;
};

/* Starts the timer. Caller frees. */
struct verifier *verifier_new(
    struct loop *loop, struct http *http, struct store *store, const struct verifier_opts *opts);
/* Stops; a scan in flight is dropped. NULL allowed. */
void verifier_free(struct verifier *v);

#endif
