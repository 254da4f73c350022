/*
 * A discovery run's options from the configuration and a front end's overrides
 * (engine/discoveropts.h).
 */
#include "engine/discoveropts.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "discovery/discover.h"
#include "discovery/mdns.h"
#include "engine/engine.h"
#include "util/guard.h"
#include "util/log.h"
#include "util/xmalloc.h"

/*
 * The ranges of eng's configuration, added once and checked against the network guard together:
 * a refusal names the range that holds the first refused address. Caller frees.
 */
struct scan_targets *
discoveropts_ranges(const struct engine *eng, char **refused)
{
	struct scan_targets *t = scan_targets_new();
	const struct conf_range *r;
	const char *which = NULL;
	char *cause = NULL;
	size_t n;

	if (refused != NULL)
		*refused = NULL;
	r = conf_ranges(eng->conf, &n);
	for (size_t i = 0; i < n; i++) {
		if (scan_targets_add_cidr(t, &r[i].target, r[i].text, &cause) != 0) {
			log_warn("%s: %s", r[i].where, cause);
			free(cause);
			cause = NULL;
		}
	}
	if (scan_targets_check_guard_named(t, eng->guard, &which, &cause) != 0) {
		log_error("discovery: %s", cause);
		if (refused != NULL)
			*refused = xasprintf("discover-range %s refused by " GUARD_ENV, which);
		free(cause);
		scan_targets_free(t);
		t = scan_targets_new();
	}
	return t;
}

/*
 * mDNS goes to the multicast group MDNS_GROUP on every interface avahi uses, so it obeys the
 * network guard like any probe: with SHELLY_TUI_ALLOW_NETS set it is used only when the list
 * includes the group. Returns 1 when guard allows it, else 0 with *why (static text).
 */
static int
mdns_allowed(const struct guard *guard, const char **why)
{
	if (!guard_is_set(guard) || guard_allows(guard, MDNS_GROUP))
		return 1;
	*why = "mDNS is off: " GUARD_ENV " does not include the mDNS group " MDNS_GROUP;
	return 0;
}

/* How soon an mDNS browser that lost avahi-daemon mid-run looks for it again. */
#define MDNS_RETRY_MS 1000

void
discoveropts_fill(const struct engine *eng, const struct discoveropts *over, int mdns,
    const struct scan_targets *targets, struct discover_opts *o, const char **mdns_off)
{
	static const struct discoveropts none;
	const char *why = NULL;
	uint32_t timeout_ms;

	if (mdns && !mdns_allowed(eng->guard, &why))
		mdns = 0;
	if (mdns_off != NULL)
		*mdns_off = why;
	if (over == NULL)
		over = &none;
	if (over->timeout_s > 0) {
		double ms = over->timeout_s * 1000.0 + 0.5;
		timeout_ms = ms < 1 ? 1 : (uint32_t)ms;
	} else
		timeout_ms = (uint32_t)conf_get_ms(eng->conf, OPT_DISCOVER_TIMEOUT);
	memset(o, 0, sizeof *o);
	o->mdns = mdns;
	o->mdns_window_ms = timeout_ms;
	o->mdns_retry_ms = MDNS_RETRY_MS;
	o->confirm_timeout_ms = timeout_ms;
	o->targets = targets != NULL && scan_targets_len(targets) > 0 ? targets : NULL;
	o->scan.port =
	    over->port ? over->port : (uint16_t)conf_get_int(eng->conf, OPT_DISCOVER_PORT);
	o->scan.timeout_ms = timeout_ms;
	o->scan.concurrency = (int)conf_get_int(eng->conf, OPT_SCAN_CONCURRENCY);
	o->scan.force = over->force;
	o->scan.max_body = SCAN_DEFAULT_MAX_BODY;
	o->scan.guard = eng->guard;
	o->registry = eng->store;
}
