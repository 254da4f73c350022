#ifndef ENGINE_AUTODISCOVER_H
#define ENGINE_AUTODISCOVER_H

/*
 * Discovery inside --headless: mDNS browsing all the time, and a scan of the configured
 * ranges every interval; each interval also starts a new browsing session, so that an address
 * that changed under an unchanged instance name is resolved again. An mDNS instance at an address
 * the registry does not know is confirmed by GET /shelly (after a short pause that batches
 * announcements); each run is merged into the store by MAC (discovery/discover.h) and changed_cb
 * tells the owner to reload the registry. One run at a time; work that arrives meanwhile waits for
 * the next.
 */
#include <stdint.h>

#include "discovery/discover.h"

struct loop;
struct http;
struct store;
struct autodiscover;

struct autodiscover_opts {
	uint64_t interval_ms; /* scan the targets (and renew mDNS) this often; 0: never */
	unsigned mdns_retry_ms; /* reconnect to avahi-daemon after it went away */
	/* Each run's options (engine/discoveropts.h): probes, scan port and concurrency, guard;
	 * run.targets (borrowed; NULL: no scans) are the ranges scanned every interval. run.mdns
	 * (set by discoveropts_fill only when the network guard allows it): browse mDNS all the
	 * time, beside the runs; a run itself never browses. */
	struct discover_opts run;
	uint32_t batch_ms; /* pause before confirming new mDNS candidates */
};

struct autodiscover_cbs {
	/* Devices were added, moved or updated: reload the registry. */
	void (*changed_cb)(void *arg);
	/* Credentials are configured for the device (mac, id); may be NULL. */
	int (*has_credentials_cb)(const char *mac, const char *id, void *arg);
	void *arg;
};

/* Starts browsing and the scan timer (the first scan runs at once). Caller frees. */
struct autodiscover *autodiscover_new(struct loop *loop, struct http *http, struct store *store,
    const struct autodiscover_opts *opts, const struct autodiscover_cbs *cbs);
/* Stops everything; a run in flight is dropped without being stored. */
void autodiscover_free(struct autodiscover *ad);
/* Runs completed and devices found in the last run (for logs and tests). */
uint64_t autodiscover_runs(const struct autodiscover *ad);
/* The mDNS status line, or NULL when mDNS is off. */
const char *autodiscover_mdns_status(const struct autodiscover *ad);

#endif
