#ifndef DISCOVERY_DISCOVER_H
#define DISCOVERY_DISCOVER_H

/*
 * One discovery run: mDNS browsing (discovery/mdns.h) and a subnet scan (discovery/scan.h)
 * side by side on our loop, every candidate confirmed by GET /shelly, the devices found
 * merged by MAC and written to the store at the end.
 *
 * Candidates: the scan reports confirmed identifications; an mDNS candidate (address, port)
 * is confirmed by its own GET /shelly (plain HTTP, no credentials, no redirects) on the HTTP
 * client given to discover_new; so is anything passed to discover_add_candidate. An
 * (address, port) is probed once per run.
 *
 * mDNS window: browsing goes on until the browser has said "all for now" and then for
 * mdns_window_ms more (late responders), or until mdns_max_ms have passed without "all for
 * now"; it ends at once when avahi is unavailable (the status callback says why; the scan
 * goes on).
 *
 * Merge (discover_commit), keyed by MAC (a reply without a valid MAC, or with one of all
 * zeros or all ones, is dropped):
 *  - a device seen at two addresses in one run keeps its registered address if that is one of
 *    them (or the one that shows its pinned key), else the first one seen; its discovered_via
 *    collects every method ("mdns,scan"); each other address is a claim not taken: a
 *    "mac_conflict" event, and the device is held when that claim in a later run would be
 *    refused (see below: the address kept shows the MAC too); an address that shows the
 *    pinned key too is the same device;
 *  - an address that answered with two MACs in one run is a "mac_conflict" for each device
 *    stored there, and each one with credentials is held;
 *  - new devices are inserted with first_seen = last_seen = now; Gen1 ids are the
 *    /shelly-derived "<prefix>-<MAC>"; a Gen2+ device's own name becomes the registry name;
 *  - known devices get model, app, firmware, generation and last_seen updated, their
 *    discovered_via extended, and keep their id (a Gen1 hostname from settings), name,
 *    credentials and TLS pin (a different pin is not taken: logged, the poller then reports
 *    the certificate change);
 *  - a known device found at another host or port is moved there and an event "ip_changed"
 *    with detail "OLD -> NEW" is queued (host, or host:port when the port is not the
 *    scheme's default);
 *  - a device registered over HTTPS with a pinned key is taken at the address that shows the
 *    key, wherever it is; an address that shows another key is never a move;
 *  - a MAC is not proof: a claim that would lower a registered device's generation or scheme
 *    (https -> http), move a pinned device to an address with another key, or move a device
 *    with credentials while its registered address still shows the MAC (checked at the end of
 *    the run with GET /shelly when opts.registry is set: only a registered address that does
 *    not answer, or answers with another MAC, lets it go; for plain HTTP this is the only
 *    proof) or to another generation, changes nothing in the registry; an event
 *    "mac_conflict" is queued and the device is held (store_device_hold), so no credentials
 *    are sent until the operator confirms it with --add;
 *  - a device with auth enabled (auth_en in /shelly) and no credentials (registry user or
 *    cred_ref, or the has_credentials_cb) gets a status row with state "auth_required".
 * Registry rows are direct writes (one per device); events and status rows are queued and
 * written by one store_flush, after every registry row.
 */
#include <stddef.h>
#include <stdint.h>

#include "discovery/mdns.h"
#include "discovery/scan.h"
#include "model/device.h"

struct loop;
struct http;
struct store;
struct discover;

/* Discovery methods, written once: X(ID, name). */
#define DISCOVER_VIAS(X) \
	X(MDNS, "mdns")  \
	X(SCAN, "scan")  \
	X(CONFIG, "config") /* a `device` line of the configuration file */

enum discover_via {
#define DISCOVER_VIA_ENUM(id, name) DISCOVER_VIA_##id,
	DISCOVER_VIAS(DISCOVER_VIA_ENUM)
#undef DISCOVER_VIA_ENUM
	    DISCOVER_VIA_COUNT
};

#define DISCOVER_DEFAULT_MDNS_WINDOW_MS 2000
#define DISCOVER_DEFAULT_MDNS_MAX_MS 10000
#define DISCOVER_HOST_MAX 64
#define DISCOVER_PIN_MAX 100

/* One device found in this run (a value owned by the discover; read-only for callers). */
struct discover_found {
	struct device_ident ident;
	char host[DISCOVER_HOST_MAX]; /* where it answered /shelly */
	uint16_t port;
	int https;
	char pin[DISCOVER_PIN_MAX]; /* https: the certificate's public-key pin, else "" */
	unsigned via; /* bit (1u << DISCOVER_VIA_x) per method that saw it */
	/* Filled by discover_commit: */
	int committed;
	int is_new; /* not registered before */
	int moved; /* registered at another host/port */
	int conflict; /* a claim that was not taken (mac_conflict): the device is held */
	char old_host[DISCOVER_HOST_MAX];
	uint16_t old_port;
	int auth_required; /* auth on and no credentials known */
	char name[DEV_NAME_LEN]; /* registry name after the merge, "" none */
	char via_text[32]; /* discovered_via of this run, "mdns,scan" */
};

/* Counters of a run. */
struct discover_summary {
	size_t devices; /* distinct MACs found */
	size_t new_devices;
	size_t known;
	size_t moved; /* ip_changed events */
	size_t conflicts; /* mac_conflict events */
	size_t auth_required;
	size_t no_mac; /* Shelly replies without a valid MAC (dropped) */
	size_t mdns_candidates; /* distinct (address, port) from mDNS */
	size_t confirm_failed; /* candidates whose GET /shelly did not identify a Shelly */
	struct scan_progress scan; /* zero when nothing was scanned */
	int scanned; /* a scan ran */
	int mdns_used; /* mDNS browsing was started */
	int mdns_available; /* it reached avahi-daemon at least once */
	int interrupted; /* discover_stop before everything finished */
	uint64_t elapsed_ms;
};

/* Progress as it goes (scan counters plus the devices found so far). */
struct discover_progress {
	const struct scan_progress *scan; /* NULL when not scanning */
	size_t found; /* distinct MACs so far */
	size_t confirming; /* candidate probes in flight */
	int mdns_browsing;
};

struct discover_opts {
	int mdns; /* browse mDNS */
	uint32_t mdns_window_ms; /* after "all for now"; 0: DISCOVER_DEFAULT_MDNS_WINDOW_MS */
	uint32_t mdns_max_ms; /* without "all for now"; 0: DISCOVER_DEFAULT_MDNS_MAX_MS */
	unsigned mdns_retry_ms; /* reconnect to a daemon that went away mid-run; 0 never */
	uint32_t confirm_timeout_ms; /* candidate GET /shelly; 0: SCAN_DEFAULT_TIMEOUT_MS */
	const struct scan_targets *targets; /* NULL or empty: no scan; copied by discover_new */
	struct store *registry; /* borrowed: registered addresses are checked (see Merge); NULL:
				 * none are, and no device with credentials moves unless pinned */
	struct scan_opts scan;
};

struct discover_cbs {
	void (*progress_cb)(const struct discover_progress *p, void *arg);
	/* mDNS state changes ("mDNS unavailable: ..."): text from the network-free status line. */
	void (*mdns_status_cb)(enum mdns_state state, const char *status, void *arg);
	/* A MAC seen for the first time in this run. */
	void (*found_cb)(const struct discover_found *f, void *arg);
	/* Everything finished (or discover_stop completed); once, from the run's own timer:
	 * the run may be freed here. */
	void (*done_cb)(void *arg);
	/* Returns 1 when credentials are configured for the device (mac, id); may be NULL. */
	int (*has_credentials_cb)(const char *mac, const char *id, void *arg);
	void *arg;
};

/* Name of a method ("mdns"); "unknown" when out of range. Static string. */
const char *discover_via_name(enum discover_via via);

/*
 * Returns a new run (not started) on loop; http (borrowed, may be NULL when nothing is to be
 * confirmed) carries candidate probes. A scan is prepared when opts->targets is not empty:
 * NULL with *cause when scan_new refuses it (size, guard). Caller frees with discover_free.
 */
struct discover *discover_new(struct loop *loop, struct http *http,
    const struct discover_opts *opts, const struct discover_cbs *cbs, char **cause);
/* Starts browsing and scanning; callbacks come from the loop. */
void discover_start(struct discover *d);
/* Stops everything (SIGINT): no new probes, in-flight ones cancelled; done_cb follows. */
void discover_stop(struct discover *d);
/* Returns 1 once done_cb was called. */
int discover_finished(const struct discover *d);
/* Confirms a candidate by GET /shelly on http://host:port/ (once per host:port and run). */
void discover_add_candidate(
    struct discover *d, const char *host, uint16_t port, enum discover_via via);
/* Records a confirmed identification (scan hits and confirmed candidates come here). */
void discover_add_ident(struct discover *d, const struct device_ident *ident, const char *host,
    uint16_t port, int https, const char *pin, enum discover_via via);
/*
 * Merges what was found into the store at now_ms (see above) and fills sum (may be NULL).
 * Returns 0, or -1 with *cause when the store refuses a write (rows written before stay).
 */
int discover_commit(struct discover *d, struct store *store, int64_t now_ms,
    struct discover_summary *sum, char **cause);
/* The same for the one device found with mac (the console's add, device by device). */
int discover_commit_one(
    struct discover *d, struct store *store, const char *mac, int64_t now_ms, char **cause);
/* Devices found, in the order first seen; owned by d. */
size_t discover_count(const struct discover *d);
const struct discover_found *discover_get(const struct discover *d, size_t i);
/* Frees the run; pending candidate probes are cancelled. Not from one of d's callbacks but
 * done_cb. */
void discover_free(struct discover *d);

#endif
