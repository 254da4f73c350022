#ifndef DISCOVERY_SCAN_H
#define DISCOVERY_SCAN_H

/*
 * Subnet-scan half of discovery: GET /shelly on every address of one or more IPv4 targets
 * (util/cidr.h syntax: CIDR, single address, range), asynchronously on our loop through an
 * HTTP client of its own, so its concurrency cap (default 256) is separate from the poller's.
 *
 * Addresses are streamed: the targets are kept as a sorted list of disjoint intervals (each
 * target's visited addresses form one interval: network and broadcast are dropped from blocks
 * /30 and shorter), so overlapping targets probe an address once and a /16 is never held in
 * memory. At most `concurrency` probes are in flight; each completion starts the next address.
 *
 * A probe: http://ADDR:PORT/shelly (PORT = opts.port, default 80), never with credentials,
 * never following redirects, one lane per address, connect and whole-request timeout
 * opts.timeout_ms. Devices that speak only HTTPS are found too:
 *  - default port (opts.port 0): when port 80 is refused, reset or answers something that is
 *    not HTTP, https://ADDR:443/shelly is tried;
 *  - explicit port P: when P is reset or answers something that is not HTTP (a TLS server),
 *    https://ADDR:P/shelly is tried (a refused P means nothing listens there).
 * A timeout never leads to a second probe (a silent address costs one timeout, not two).
 * HTTPS probes trust on first use: any certificate is accepted and its public-key pin is
 * reported with the hit, to be stored. An address is a hit when /shelly parses as a Shelly
 * identification (shelly/ident.h); anything else is counted, not reported.
 *
 * The network guard (util/guard.h) is checked up front: a target not entirely inside the
 * allowed networks refuses the whole scan before any packet is sent (and the scan's HTTP
 * client refuses outside addresses as well). The check compares whole intervals with the
 * allowed networks, so its cost does not grow with the size of the targets. More than
 * SCAN_MAX_UNFORCED addresses in total (a /16) need opts.force.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "model/device.h"
#include "net/http.h"
#include "util/cidr.h"

struct loop;
struct guard;
struct scan;
struct scan_targets;

#define SCAN_DEFAULT_PORT 80
#define SCAN_HTTPS_PORT 443
#define SCAN_DEFAULT_TIMEOUT_MS 2000
#define SCAN_DEFAULT_CONCURRENCY 256
#define SCAN_DEFAULT_MAX_BODY (64 * 1024)
#define SCAN_MAX_UNFORCED 65536ull /* addresses of a /16 */
#define SCAN_MAX_TARGETS 4096

/* What the scan does; zero-initialise, then set what you need. */
struct scan_opts {
	uint16_t port; /* 0: 80, with the HTTPS fallback on 443 */
	uint32_t timeout_ms; /* per probe, connection included; 0: SCAN_DEFAULT_TIMEOUT_MS */
	int concurrency; /* probes in flight at once; 0: SCAN_DEFAULT_CONCURRENCY */
	int force; /* allow more than SCAN_MAX_UNFORCED addresses */
	size_t max_body; /* /shelly size cap; 0: SCAN_DEFAULT_MAX_BODY */
	const struct guard *guard; /* NULL: no restriction; borrowed, must outlive the scan */
};

/* One device found; valid during the callback only (copy what you keep). */
struct scan_hit {
	const char *address; /* dotted quad */
	uint16_t port; /* port it answered on */
	int https;
	const struct device_ident *ident;
	const char *pin; /* https: the certificate's public-key pin "AA:BB:..."; else NULL */
	uint64_t elapsed_ms;
};

/* Counters of a scan; every finished address is in exactly one of the outcome counters. */
struct scan_progress {
	uint64_t total; /* distinct addresses to probe */
	uint64_t done; /* addresses finished */
	uint64_t in_flight;
	uint64_t found; /* answered /shelly as a Shelly */
	uint64_t no_answer; /* timed out (silent, or accepted and never answered) */
	uint64_t refused; /* connection refused (also on the HTTPS fallback) */
	uint64_t other; /* answered, but not a Shelly; or any other failure */
	uint64_t https_tried; /* addresses that got a second, HTTPS probe */
	uint64_t elapsed_ms; /* since scan_start */
};

struct scan_cbs {
	/* A device answered; called once per address that is a hit. */
	void (*hit_cb)(const struct scan_hit *hit, void *arg);
	/* An address finished (throttle display yourself). */
	void (*progress_cb)(const struct scan_progress *p, void *arg);
	/* Every address finished, or the scan was stopped; once, from the loop. */
	void (*done_cb)(const struct scan_progress *p, void *arg);
	void *arg;
};

/* ---- targets ---- */

/* Returns a new, empty target list; caller frees with scan_targets_free. */
struct scan_targets *scan_targets_new(void);
void scan_targets_free(struct scan_targets *t);
/*
 * Adds one target, or a comma/space-separated list of them ("10.0.0.0/24, 10.0.1.10-50").
 * Returns 0, or -1 with *cause (caller frees) for a syntax error, an IPv6 target or more than
 * SCAN_MAX_TARGETS targets; nothing is added then.
 */
int scan_targets_add(struct scan_targets *t, const char *text, char **cause);
/* Adds a parsed target (e.g. a configured discover-range); text (may be NULL) names it in
 * messages. Returns 0, or -1 with *cause when there are too many targets. */
int scan_targets_add_cidr(
    struct scan_targets *t, const struct cidr *c, const char *text, char **cause);
/* Number of targets added. */
size_t scan_targets_len(const struct scan_targets *t);
/* Number of distinct addresses the targets make the scan visit. */
uint64_t scan_targets_count(const struct scan_targets *t);
/* Returns 0 when at most SCAN_MAX_UNFORCED addresses are visited or force is set, else -1
 * with *cause naming the target (or the total) that is too large and --force. */
int scan_targets_check_size(const struct scan_targets *t, int force, char **cause);
/* Returns 0 when every visited address of every target is allowed by g (NULL or unset: all),
 * else -1 with *cause naming the target and the first refused address. Sends nothing. */
int scan_targets_check_guard(const struct scan_targets *t, const struct guard *g, char **cause);
/* The same, adding to *steps (may be NULL) the allowed ranges compared (guard_first_refused):
 * per interval of t about log2 of their number plus one, whatever the intervals' size. */
int scan_targets_check_guard_counted(
    const struct scan_targets *t, const struct guard *g, uint64_t *steps, char **cause);
/* The same as scan_targets_check_guard; on refusal *which is the text of the target that
 * holds the first refused address (owned by t). */
int scan_targets_check_guard_named(
    const struct scan_targets *t, const struct guard *g, const char **which, char **cause);

/* Iteration over the visited addresses, ascending, each once; a value type. */
struct scan_iter {
	size_t interval;
	uint64_t next;
};
/* Starts iterating t. */
void scan_iter_init(struct scan_iter *it, const struct scan_targets *t);
/* Stores the next address (network byte order) in *out and returns 1, or returns 0 at the end. */
int scan_iter_next(struct scan_iter *it, const struct scan_targets *t, struct in_addr *out);

/* ---- the scan ---- */

/* Returns 1 when a failed plain-HTTP probe with this result gets an HTTPS probe (see above):
 * reset or not HTTP always; refused only on the default port. */
int scan_try_https(enum http_result result, int explicit_port);

/*
 * Returns a new scan over a copy of targets (not started), after scan_targets_check_size and
 * scan_targets_check_guard; NULL with *cause when they refuse. Needs curl_global_init done.
 * cbs is copied; any callback may be NULL. Caller frees with scan_free.
 */
struct scan *scan_new(struct loop *loop, const struct scan_targets *targets,
    const struct scan_opts *opts, const struct scan_cbs *cbs, char **cause);
/* Starts probing; callbacks come from the loop (also done_cb of an empty scan). */
void scan_start(struct scan *s);
/* Stops: no new probes, those in flight are cancelled; done_cb follows from the loop. */
void scan_stop(struct scan *s);
/* Returns 1 once done_cb was called. */
int scan_finished(const struct scan *s);
/* Current counters; owned by s. */
const struct scan_progress *scan_get_progress(const struct scan *s);
/* Cancels what is in flight without calling back and frees. Not from one of s's callbacks. */
void scan_free(struct scan *s);

#endif
