#include "engine/autodiscover.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/discover.h"
#include "discovery/mdns.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct pending {
	char host[DISCOVER_HOST_MAX];
	uint16_t port;
};

struct autodiscover {
	struct loop *loop;
	struct http *http;
	struct store *store;
	struct autodiscover_opts o;
	struct autodiscover_cbs cbs;
	struct mdns *mdns;
	struct discover *run;		/* the run in flight, or NULL */
	int run_scans;			/* the run in flight scans the targets */
	int scan_due;			/* a scan is waiting for the run in flight */
	struct pending *pending;	/* mDNS candidates waiting for a run */
	size_t npending, cappending;
	struct loop_timer *scan_timer, *batch_timer;
	uint64_t runs;
};

static void start_run(struct autodiscover *ad);

static int
has_creds_cb(const char *mac, const char *id, void *arg)
{
	struct autodiscover *ad = arg;

	return ad->cbs.has_credentials_cb ? ad->cbs.has_credentials_cb(mac, id, ad->cbs.arg) : 0;
}

/* The run finished: its findings go into the store, and the next run starts if one is due. */
static void
run_done_cb(void *arg)
{
	struct autodiscover *ad = arg;
	struct discover_summary sum;
	char *cause = NULL;

	log_debug("discovery: run finished, storing");
	if (discover_commit(ad->run, ad->store, loop_wall_ms(), &sum, &cause) != 0) {
		log_warn("discovery: results not stored: %s", cause);
		free(cause);
	} else {
		ad->runs++;
		if (sum.new_devices > 0 || sum.moved > 0)
			log_info("discovery: %zu devices (%zu new, %zu moved)", sum.devices,
			    sum.new_devices, sum.moved);
		if (sum.devices > 0 && ad->cbs.changed_cb != NULL)
			ad->cbs.changed_cb(ad->cbs.arg);
	}
	discover_free(ad->run);
	ad->run = NULL;
	if (ad->scan_due || ad->npending > 0)
		start_run(ad);
}

static void
start_run(struct autodiscover *ad)
{
	struct discover_opts o;
	struct discover_cbs c;
	char *cause = NULL;
	int scan = ad->scan_due && ad->o.run.targets != NULL;

	if (ad->run != NULL)
		return; /* the next one starts when this one is stored */
	o = ad->o.run;
	o.mdns = 0; /* browsing runs all the time beside the runs */
	if (!scan)
		o.targets = NULL;
	o.registry = ad->store;
	memset(&c, 0, sizeof c);
	c.done_cb = run_done_cb;
	c.has_credentials_cb = has_creds_cb;
	c.arg = ad;
	ad->run = discover_new(ad->loop, ad->http, &o, &c, &cause);
	if (ad->run == NULL) {
		log_warn("discovery: %s", cause);
		free(cause);
		ad->scan_due = 0;
		ad->npending = 0;
		return;
	}
	ad->scan_due = 0;
	for (size_t i = 0; i < ad->npending; i++)
		discover_add_candidate(ad->run, ad->pending[i].host, ad->pending[i].port,
		    DISCOVER_VIA_MDNS);
	ad->npending = 0;
	ad->run_scans = scan;
	discover_start(ad->run);
}

static void mdns_found_cb(const struct mdns_candidate *mc, void *arg);
static void mdns_status_cb(enum mdns_state state, const char *status, void *arg);

/* A new browsing session: avahi resolves every instance again, so an address that changed
 * under an unchanged instance (a DHCP renumbering re-announces only the address record) is
 * seen. */
static void
mdns_restart(struct autodiscover *ad)
{
	struct mdns_cbs mc = { mdns_found_cb, NULL, mdns_status_cb, ad };

	if (ad->mdns != NULL)
		mdns_free(ad->mdns);
	ad->mdns = mdns_new(ad->loop, &mc, ad->o.mdns_retry_ms ? ad->o.mdns_retry_ms : 30000);
}

static void
scan_timer_cb(void *arg)
{
	struct autodiscover *ad = arg;

	if (ad->o.run.targets != NULL) {
		ad->scan_due = 1;
		start_run(ad);
	}
	if (ad->o.run.mdns && ad->mdns != NULL && mdns_state(ad->mdns) == MDNS_BROWSING)
		mdns_restart(ad);
	if (ad->o.interval_ms > 0)
		loop_timer_arm(ad->scan_timer, ad->o.interval_ms);
}

static void
batch_timer_cb(void *arg)
{
	start_run(arg);
}

/* The MAC digits an id ends in ("shellyplus1-a8032ab12345": 12, an older "shelly1-A643CD": 6),
 * or NULL. */
static const char *
id_hex(const char *id, size_t *n)
{
	const char *dash = id != NULL ? strrchr(id, '-') : NULL;

	if (dash == NULL)
		return NULL;
	*n = strspn(dash + 1, "0123456789abcdefABCDEF");
	return dash[1 + *n] == '\0' && (*n == 6 || *n == 12) ? dash + 1 : NULL;
}

/*
 * Whether an announcement with id ann may be of the registered device with id reg: unless
 * both end in MAC digits that disagree (the shorter ones not the end of the longer), they may.
 */
static bool
same_device(const char *reg, const char *ann)
{
	size_t nr, na;
	const char *r = id_hex(reg, &nr), *a = id_hex(ann, &na);

	if (r == NULL || a == NULL)
		return true;
	return nr >= na ? str_caseeq(r + nr - na, a) : str_caseeq(a + na - nr, r);
}

static void
mdns_found_cb(const struct mdns_candidate *mc, void *arg)
{
	struct autodiscover *ad = arg;
	struct store_device *known;

	/* A registered address needs no confirmation (the poller keeps it current), unless the
	 * announcement names another device than the one registered there: addresses changed
	 * hands (two devices swapped them), and only a probe tells who is where now. */
	known = store_device_find_host(ad->store, mc->address, mc->port);
	if (known != NULL) {
		bool same = same_device(known->id, mc->id);
		store_device_free(known);
		if (same)
			return;
	}
	for (size_t i = 0; i < ad->npending; i++)
		if (ad->pending[i].port == mc->port && strcmp(ad->pending[i].host, mc->address) == 0)
			return;
	ad->pending = xgrowarray(ad->pending, &ad->cappending, ad->npending, sizeof *ad->pending);
	str_copy(ad->pending[ad->npending].host, sizeof ad->pending[0].host, mc->address);
	ad->pending[ad->npending++].port = mc->port;
	log_debug("mDNS: %s at %s:%u is not the device registered there; confirming", mc->name,
	    mc->address, (unsigned)mc->port);
	if (!loop_timer_armed(ad->batch_timer))
		loop_timer_arm(ad->batch_timer, ad->o.batch_ms);
}

static void
mdns_status_cb(enum mdns_state state, const char *status, void *arg)
{
	(void)arg;
	if (state == MDNS_UNAVAILABLE)
		log_warn("%s", status);
	else if (state == MDNS_BROWSING)
		log_debug("mDNS: browsing");
}

struct autodiscover *
autodiscover_new(struct loop *loop, struct http *http, struct store *store,
    const struct autodiscover_opts *opts, const struct autodiscover_cbs *cbs)
{
	struct autodiscover *ad = xcalloc(1, sizeof *ad);

	ad->loop = loop;
	ad->http = http;
	ad->store = store;
	ad->o = *opts;
	if (ad->o.batch_ms == 0)
		ad->o.batch_ms = 500;
	ad->cbs = *cbs;
	ad->scan_timer = loop_timer_new(loop, scan_timer_cb, ad);
	ad->batch_timer = loop_timer_new(loop, batch_timer_cb, ad);
	if (ad->o.run.mdns)
		mdns_restart(ad);
	if (ad->o.interval_ms > 0 && ad->o.run.targets != NULL)
		loop_timer_arm(ad->scan_timer, 0);
	else if (ad->o.interval_ms > 0 && ad->o.run.mdns)
		loop_timer_arm(ad->scan_timer, ad->o.interval_ms);
	return ad;
}

void
autodiscover_free(struct autodiscover *ad)
{
	if (ad == NULL)
		return;
	if (ad->mdns != NULL)
		mdns_free(ad->mdns);
	discover_free(ad->run);
	loop_timer_free(ad->scan_timer);
	loop_timer_free(ad->batch_timer);
	free(ad->pending);
	free(ad);
}

uint64_t
autodiscover_runs(const struct autodiscover *ad)
{
	return ad->runs;
}

const char *
autodiscover_mdns_status(const struct autodiscover *ad)
{
	return ad->mdns ? mdns_status(ad->mdns) : NULL;
}
