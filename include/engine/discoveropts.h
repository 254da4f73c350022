#ifndef ENGINE_DISCOVEROPTS_H
#define ENGINE_DISCOVEROPTS_H

/*
 * A discovery run's options (discovery/discover.h) from the configuration in force
 * (discover-timeout, discover-port, scan-concurrency) and the network guard, with what a
 * front end sets over them: one place for --discover, the console's scan and the fleet's
 * scheduled discovery.
 */
#include <stdint.h>

struct engine;
struct discover_opts;
struct scan_targets;

/* What a front end sets over the configuration; zero everywhere: the configuration's. */
struct discoveropts {
	double timeout_s; /* per probe, and the mDNS window; <= 0: discover-timeout */
	uint16_t port; /* scan port; 0: discover-port */
	int force; /* scan more than SCAN_MAX_UNFORCED addresses */
};

/*
 * The configured discover-ranges (one past SCAN_MAX_TARGETS is logged and left out; all are
 * left out, with an error logged, when the network guard refuses one, and then *refused, when
 * refused is not NULL, names the range holding the lowest refused address: "discover-range R
 * refused by SHELLY_TUI_ALLOW_NETS"; else it is set to NULL). Caller frees both.
 */
struct scan_targets *discoveropts_ranges(const struct engine *eng, char **refused);

/*
 * Fills o for a run that browses mDNS when mdns is set and scans targets (borrowed; NULL or
 * empty: no scan). over may be NULL. mDNS multicasts to MDNS_GROUP, so it obeys the network
 * guard: this is where that is checked for every run and browser. When mdns is set and the
 * guard refuses the group, o->mdns is 0 and *mdns_off says why ("mDNS is off: ...", static
 * text); else *mdns_off is NULL (mdns_off may be NULL). The background runs over the configured ranges
 * (scheduled discovery, the provisioning verifier) set over->force: the ranges are the
 * operator's explicit choice, scanned whatever their size.
 */
void discoveropts_fill(const struct engine *eng, const struct discoveropts *over, int mdns,
    const struct scan_targets *targets, struct discover_opts *o, const char **mdns_off);

#endif
