/*
 * The fleet runtime (engine/fleet.h): the poller over the registry, the store flush, history
 * pruning and the poller lease on timers, scheduled discovery while leading, configuration
 * reload and the poll-duration histograms. What --headless and the console run.
 */
#include "engine/fleet.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "discovery/scan.h"
#include "engine/autodiscover.h"
#include "engine/cfgpending.h"
#include "engine/cfgsync.h"
#include "engine/creds.h"
#include "engine/discoveropts.h"
#include "engine/engine.h"
#include "engine/poller.h"
#include "store/store.h"
#include "engine/export_schedule.h"
#include "engine/lease.h"
#include "engine/standbyview.h"
#include "util/histogram.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define LEASE_NAME "poller"
#define FLEET_FLUSH_ITEMS 1024 /* queued store items written before the flush interval is up */

struct fleet {
	struct engine *eng;
	int discovery, register_conf;
	struct poller *poller;
	struct cfgpending *cfgq; /* queued configuration changes, applied when a device is seen */
	struct lease *lease; /* engine/lease: takes, renews and gives back the poller lease */
	struct lease_opts lease_opts;
	char role_name[32];
	enum fleet_role role;
	struct loop_timer *flush_timer, *prune_timer, *standby_timer;
	uint64_t flush_ms, lease_hb_ms;
	uint64_t flush_failures;
	struct histogram *hist[FLEET_GENS][HTTP_RESULT_COUNT];
	struct autodiscover *ad; /* scheduled discovery and mDNS, while leader */
	struct export_schedule *xs; /* scheduled exports, while leader */
	struct export_stats xstats; /* how they fared, across schedules */
	struct scan_targets *targets; /* the configured discover-ranges */
	char *ad_key; /* the settings f->ad runs with (discovery_key) */
	struct cfgsync *cfgsync; /* registering the configuration's `device` lines */
	struct standbyview *sv; /* standing by: the leader's results, from the store */
	fleet_event_cb ev_cb;
	void *ev_arg;
	int started;
	/* fleet_poll_once */
	fleet_done_cb once_done;
	void *once_arg;
	int once_over; /* done was called (or is being) */
};

static void
emit(struct fleet *f, enum fleet_event ev, const char *mac)
{
	if (f->ev_cb != NULL)
		f->ev_cb(ev, mac, f->ev_arg);
}

void
fleet_registry_changed(struct fleet *f)
{
	char *cause = NULL;

	if (poller_load(f->poller, f->eng->conf, &cause) != 0) {
		log_warn("registry not reloaded: %s", cause);
		free(cause);
	}
	emit(f, FLEET_EV_DEVICES, NULL);
}

static void
changed_cb(void *arg)
{
	fleet_registry_changed(arg);
}

static int
has_creds_cb(const char *mac, const char *id, void *arg)
{
	struct fleet *f = arg;

	return creds_known(f->eng->conf, NULL, mac, id, NULL);
}

/* Stops the leader's scheduled discovery. */
static void
discovery_stop(struct fleet *f)
{
	autodiscover_free(f->ad);
	f->ad = NULL;
	free(f->ad_key);
	f->ad_key = NULL;
}

/* Stops the leader's background jobs: discovery and scheduled exports. */
static void
jobs_stop(struct fleet *f)
{
	discovery_stop(f);
	export_schedule_stop(f->xs);
	f->xs = NULL;
}

/* The settings scheduled discovery runs with, as one string (caller frees). */
static char *
discovery_key(const struct conf *cfg)
{
	struct strbuf sb;
	const struct conf_range *r = NULL;
	size_t n = 0;

	strbuf_init(&sb);
	strbuf_appendf(&sb, "%llu %llu %lld %lld %d",
	    (unsigned long long)conf_get_ms(cfg, OPT_DISCOVER_INTERVAL),
	    (unsigned long long)conf_get_ms(cfg, OPT_DISCOVER_TIMEOUT),
	    (long long)conf_get_int(cfg, OPT_DISCOVER_PORT),
	    (long long)conf_get_int(cfg, OPT_SCAN_CONCURRENCY),
	    conf_get_bool(cfg, OPT_DISCOVER_MDNS));
	r = conf_ranges(cfg, &n);
	for (size_t i = 0; i < n; i++)
		strbuf_appendf(&sb, " %s", r[i].text);
	return strbuf_steal(&sb);
}

/*
 * (Re)starts the leader's background jobs from the configuration: scheduled exports, and
 * discovery (ranges every discover-interval, mDNS always). A reload that leaves a job's
 * settings as they were lets it go on (a scan or git commit in flight is not dropped and
 * started again); a changed export schedule stays due when it was (not one interval on).
 */
static void
discovery_start(struct fleet *f)
{
	const struct conf *cfg = f->eng->conf;
	struct autodiscover_opts o;
	struct autodiscover_cbs c = {changed_cb, has_creds_cb, f};
	const char *why = NULL;
	char *key;

	if (!f->discovery) {
		jobs_stop(f);
		return;
	}
	if (!export_schedule_same(f->xs, cfg)) {
		uint64_t since = export_schedule_since(f->xs);

		export_schedule_stop(f->xs);
		f->xs = export_schedule_start(f->eng->loop, f->eng->store, cfg, since, &f->xstats);
	}
	key = discovery_key(cfg);
	if (f->ad != NULL && strcmp(key, f->ad_key) == 0) {
		free(key);
		return; /* discovery goes on as it was */
	}
	discovery_stop(f);
	scan_targets_free(f->targets);
	f->targets = discoveropts_ranges(f->eng, NULL);
	memset(&o, 0, sizeof o);
	o.interval_ms = conf_get_ms(cfg, OPT_DISCOVER_INTERVAL);
	/* The configured ranges are the operator's explicit choice: no size limit. The run's
	 * mdns says whether autodiscover browses (beside the runs). */
	discoveropts_fill(f->eng, &(struct discoveropts){.force = 1},
	    conf_get_bool(cfg, OPT_DISCOVER_MDNS), f->targets, &o.run, &why);
	if (why != NULL)
		log_info("%s", why);
	/* A daemon that went away is looked for again every 30 s, or every interval if shorter. */
	o.mdns_retry_ms =
	    o.interval_ms > 0 && o.interval_ms < 30000 ? (unsigned)o.interval_ms : 30000;
	if (!o.run.mdns && (o.interval_ms == 0 || o.run.targets == NULL)) {
		free(key);
		return;
	}
	f->ad = autodiscover_new(f->eng->loop, f->eng->http, f->eng->store, &o, &c);
	f->ad_key = key;
}

/* Writes what is buffered; failures are logged (once in 30) and kept as the store's state. */
static int
do_flush(struct fleet *f)
{
	char *cause = NULL;

	if (store_flush(f->eng->store, &cause) != 0) {
		if (f->flush_failures++ % 30 == 0) {
			log_error(
			    "database write failed (results kept in memory, retrying): %s", cause);
			emit(f, FLEET_EV_STORE, NULL);
		}
		free(cause);
		return -1;
	}
	if (f->flush_failures > 0) {
		log_info("database writes work again after %llu failures",
		    (unsigned long long)f->flush_failures);
		f->flush_failures = 0;
		emit(f, FLEET_EV_STORE, NULL);
	}
	return 0;
}

static void
observe_cb(const char *mac, int gen, enum http_result result, double seconds, void *arg)
{
	struct fleet *f = arg;

	if (gen < 0 || gen >= FLEET_GENS)
		gen = 0;
	if (f->hist[gen][result] == NULL) {
		f->hist[gen][result] = xmalloc(sizeof(struct histogram));
		histogram_init(f->hist[gen][result]);
	}
	histogram_observe(f->hist[gen][result], seconds);
	/* A large fleet fills the queue long before the flush interval is up: write it in
	 * batches so that memory stays bounded (not while writes fail: the timer retries). */
	if (f->flush_failures == 0 && store_queue_len(f->eng->store) >= FLEET_FLUSH_ITEMS)
		do_flush(f);
	emit(f, FLEET_EV_STATUS, mac);
}

static void
flush_cb(void *arg)
{
	struct fleet *f = arg;

	/* A flush ends a burst (the queue, SQLite's page writes): give the freed heap pages
	 * back, so that a long-running poller's resident set follows what it holds (about 1 MB
	 * less with 1000 devices), not its largest burst. */
	if (do_flush(f) == 0)
		malloc_trim(0);
	loop_timer_arm(f->flush_timer, f->flush_ms);
}

static void
prune_cb(void *arg)
{
	struct fleet *f = arg;
	const struct conf *cfg = f->eng->conf;
	char *cause = NULL;

	if (f->role == FLEET_LEADER &&
	    store_prune(f->eng->store, loop_wall_ms(),
	        (int64_t)conf_get_ms(cfg, OPT_HISTORY_RAW_RETENTION),
	        (int64_t)conf_get_ms(cfg, OPT_HISTORY_BUCKET),
	        (int64_t)conf_get_ms(cfg, OPT_HISTORY_RETENTION), &cause) != 0) {
		log_warn("history pruning failed: %s", cause);
		free(cause);
		cause = NULL;
	}
	if (f->role == FLEET_LEADER &&
	    store_prune_log(f->eng->store, loop_wall_ms(),
	        (int64_t)conf_get_ms(cfg, OPT_EVENTS_RETENTION),
	        (int64_t)conf_get_ms(cfg, OPT_AUDIT_RETENTION), NULL, &cause) != 0) {
		log_warn("event and audit pruning failed: %s", cause);
		free(cause);
	}
	/* Buckets are the granularity of pruning: once per bucket is enough. */
	loop_timer_arm(f->prune_timer, conf_get_ms(cfg, OPT_HISTORY_BUCKET));
}

/* This process leads now (1) or stands by (0). */
static void
lead(struct fleet *f, int leader)
{
	char *cause = NULL;

	if (leader) {
		log_info("holding the poller lease as %s; polling", lease_holder(f->lease));
		f->role = FLEET_LEADER;
		/* What this process polled before it stood by (it could not write) is newer than
		 * the store: written first, or the reload below would start from older states and
		 * lose or repeat their events. Another poller may have polled since this one last
		 * did: the store knows, once what is held is written. While that still fails (a
		 * lease write fits on a nearly full disk, the held results not), the states in
		 * memory are the newest: the registry is reloaded, the states are kept. */
		int held = store_queue_len(f->eng->store) > 0 && do_flush(f) != 0;

		if ((held ? poller_load(f->poller, f->eng->conf, &cause)
		          : poller_load_fresh(f->poller, f->eng->conf, &cause)) != 0) {
			log_error("cannot load devices: %s", cause);
			free(cause);
		}
		poller_start(f->poller);
		discovery_start(f);
		standbyview_clear(f->sv); /* its memory back; read again after a step down */
	} else {
		/* The lease said why it stands by (lost, or no heartbeat for so long): once, there. */
		f->role = FLEET_STANDBY;
		poller_stop(f->poller);
		jobs_stop(f);
	}
	emit(f, FLEET_EV_ROLE, NULL);
}

static void once_polled_cb(void *arg);

static void
leader_cb(int leader, void *arg)
{
	struct fleet *f = arg;

	if (f->once_done == NULL) {
		lead(f, leader);
		return;
	}
	/* --poll-once lost the lease while polling: another poller may poll now. It stops, and
	 * what it polled so far is written (the lease said why, once). */
	if (leader || f->once_over)
		return;
	f->role = FLEET_STANDBY;
	poller_stop(f->poller);
	once_polled_cb(f);
}

/* Standing by, the leader's results may change in the store every heartbeat: say so. */
static void
standby_cb(void *arg)
{
	struct fleet *f = arg;

	if (f->role != FLEET_LEADER)
		emit(f, FLEET_EV_STATUS, NULL);
	loop_timer_arm(f->standby_timer, f->lease_hb_ms);
}

struct fleet *
fleet_new(struct engine *eng, const struct fleet_opts *o, char **cause)
{
	struct fleet *f = xcalloc(1, sizeof *f);
	struct poller_opts po;
	struct lease_opts lo;

	f->eng = eng;
	f->discovery = o->discovery;
	f->register_conf = o->register_conf;
	snprintf(f->role_name, sizeof f->role_name, "%s", o->what != NULL ? o->what : "fleet");
	lo.name = LEASE_NAME;
	lo.role = f->role_name;
	lo.heartbeat_ms = conf_get_ms(eng->conf, OPT_LEASE_HEARTBEAT);
	lo.timeout_ms = conf_get_ms(eng->conf, OPT_LEASE_TIMEOUT);
	f->lease_opts = lo;
	poller_opts_from_config(&po, eng->conf);
	f->poller = poller_new(eng->loop, eng->http, eng->store, &po);
	poller_set_observer(f->poller, observe_cb, f);
	f->cfgq = cfgpending_new(eng->loop, eng->http, eng->store, 2000);
	poller_set_seen(f->poller, cfgpending_seen_cb, f->cfgq);
	cfgpending_set_moved(f->cfgq, changed_cb, f);
	if ((f->lease = lease_new(eng->loop, eng->store, &lo, leader_cb, f, cause)) == NULL ||
	    poller_load(f->poller, eng->conf, cause) != 0) {
		fleet_free(f);
		return NULL;
	}
	f->flush_ms = conf_get_ms(eng->conf, OPT_FLUSH_INTERVAL);
	f->lease_hb_ms = lo.heartbeat_ms;
	if (eng->store != NULL)
		f->sv = standbyview_new(eng->store);
	f->flush_timer = loop_timer_new(eng->loop, flush_cb, f);
	loop_timer_arm(f->flush_timer, f->flush_ms);
	return f;
}

void
fleet_set_event_cb(struct fleet *f, fleet_event_cb cb, void *arg)
{
	f->ev_cb = cb;
	f->ev_arg = arg;
}

void
fleet_start(struct fleet *f)
{
	if (f->started)
		return;
	f->started = 1;
	if (f->register_conf && f->cfgsync == NULL)
		f->cfgsync = cfgsync_start(f->eng, changed_cb, f);
	f->prune_timer = loop_timer_new(f->eng->loop, prune_cb, f);
	loop_timer_arm(f->prune_timer, 1000);
	f->standby_timer = loop_timer_new(f->eng->loop, standby_cb, f);
	loop_timer_arm(f->standby_timer, f->lease_hb_ms);
	if (f->lease == NULL) {
		char *cause = NULL;
		/* The times were checked by fleet_new; a keeper cannot fail here. */
		f->lease =
		    lease_new(f->eng->loop, f->eng->store, &f->lease_opts, leader_cb, f, &cause);
		free(cause);
	}
	if (f->lease != NULL)
		lease_start(f->lease);
}

/* The last flush of a running fleet: bounded, and says what it could not write. */
static void
stop_flush(struct fleet *f)
{
	size_t n = store_queue_len(f->eng->store);
	char *cause = NULL;

	if (n == 0 || store_flush_within(f->eng->store, FLEET_STOP_FLUSH_MS, &cause) == 0)
		return;
	log_error("stopping: %zu queued results not written within %d s: %s", n,
	    FLEET_STOP_FLUSH_MS / 1000, cause);
	free(cause);
}

void
fleet_stop(struct fleet *f)
{
	poller_stop(f->poller);
	jobs_stop(f);
	cfgsync_free(f->cfgsync);
	f->cfgsync = NULL;
	loop_timer_free(f->prune_timer);
	loop_timer_free(f->standby_timer);
	f->prune_timer = f->standby_timer = NULL;
	if (f->eng->store != NULL && f->started)
		stop_flush(f);
	else if (f->eng->store != NULL)
		do_flush(f);
	/* Gives the lease back when held; fleet_start makes a new keeper. */
	lease_free(f->lease);
	f->lease = NULL;
	f->role = FLEET_STANDBY;
	f->started = 0;
}

void
fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	fleet_stop(f);
	cfgpending_free(f->cfgq);
	poller_free(f->poller);
	scan_targets_free(f->targets);
	loop_timer_free(f->flush_timer);
	standbyview_free(f->sv);
	for (int g = 0; g < FLEET_GENS; g++)
		for (int r = 0; r < HTTP_RESULT_COUNT; r++)
			free(f->hist[g][r]);
	free(f);
}

/* The once run is over (the poller calls back from a loop timer): flush, tell the caller. */
static void
once_polled_cb(void *arg)
{
	struct fleet *f = arg;

	if (f->once_over)
		return;
	f->once_over = 1;
	do_flush(f);
	if (f->once_done != NULL)
		f->once_done(f->once_arg);
}

static void
once_registered_cb(void *arg)
{
	struct fleet *f = arg;

	fleet_registry_changed(f);
	poller_poll_all(f->poller, once_polled_cb, f);
}

int
fleet_poll_once(struct fleet *f, int force, fleet_done_cb done, void *arg, char **cause)
{
	struct poller_opts po;
	char *other = NULL;
	int r;

	if (f->lease == NULL) {
		*cause = xstrdup("the fleet has no lease keeper");
		return -1;
	}
	r = lease_acquire_once(f->lease, &other);
	if (r < 0) {
		*cause = xasprintf("lease: %s", other ? other : "?");
		free(other);
		return -1;
	}
	if (r == 0 && !force) {
		*cause = xasprintf("%s holds the lease; it polls the fleet already "
		                   "(use --force to poll anyway)",
		    other ? other : "another poller");
		free(other);
		return -1;
	}
	free(other);
	f->role = r == 1 ? FLEET_LEADER : FLEET_STANDBY;
	f->once_done = done;
	f->once_arg = arg;
	/* A large or slow fleet takes longer than lease-timeout: renew it meanwhile, as the
	 * daemon does, so that no other poller takes it over while this one polls. */
	if (r == 1)
		lease_start(f->lease);
	/*
	 * One poll is all a device gets: its result decides (a device stored online that fails is
	 * offline), as offline-after failed polls in a row cannot happen.
	 */
	poller_opts_from_config(&po, f->eng->conf);
	po.offline_after = 1;
	poller_set_opts(f->poller, &po);
	if (f->register_conf && (f->cfgsync = cfgsync_start(f->eng, once_registered_cb, f)) != NULL)
		return 0;
	poller_poll_all(f->poller, once_polled_cb, f);
	return 0;
}

int
fleet_reload(
    struct fleet *f, const char *path, fleet_conf_check_cb check, void *check_arg, char **cause)
{
	struct conf *cfg = conf_new_like(f->eng->conf);
	struct poller_opts po;

	if (conf_load(cfg, path, cause) != 0 ||
	    (check != NULL && check(cfg, check_arg, cause) != 0)) {
		conf_free(cfg);
		return -1;
	}
	conf_free(f->eng->conf);
	f->eng->conf = cfg;
	emit(f, FLEET_EV_CONF, NULL);
	/* New `device` lines are registered in the background, then the poller reloads. */
	if (f->register_conf) {
		cfgsync_free(f->cfgsync);
		f->cfgsync = cfgsync_start(f->eng, changed_cb, f);
	}
	poller_opts_from_config(&po, cfg);
	poller_set_opts(f->poller, &po);
	/* Buffered results wait at most the new interval (from now). */
	if (conf_get_ms(cfg, OPT_FLUSH_INTERVAL) != f->flush_ms) {
		f->flush_ms = conf_get_ms(cfg, OPT_FLUSH_INTERVAL);
		loop_timer_arm(f->flush_timer, f->flush_ms);
	}
	fleet_registry_changed(f);
	if (f->role == FLEET_LEADER)
		discovery_start(f);
	return 0;
}

enum fleet_role
fleet_role(const struct fleet *f)
{
	return f->role;
}

void
fleet_foreach(struct fleet *f, fleet_view_cb cb, void *arg)
{
	if (f->role == FLEET_LEADER || f->sv == NULL)
		poller_foreach(f->poller, cb, arg);
	else
		standbyview_foreach(f->sv, cb, arg);
}

void
fleet_refresh(struct fleet *f)
{
	if (f->role != FLEET_LEADER && f->sv != NULL)
		standbyview_refresh(f->sv);
}

void
fleet_get_totals(const struct fleet *f, struct fleet_totals *t)
{
	struct poller_stats ps;
	struct http_stats hs;

	memset(t, 0, sizeof *t);
	poller_get_stats(f->poller, &ps);
	http_get_stats(f->eng->http, &hs);
	/* Standing by, the devices are the leader's (as last read), not this idle poller's. */
	if (f->role == FLEET_LEADER || f->sv == NULL || standbyview_counts(f->sv, t) != 0) {
		t->devices = ps.devices;
		memcpy(t->by_state, ps.by_state, sizeof t->by_state);
		t->unknown = ps.unknown;
		t->attempted = ps.attempted;
	}
	if (f->role != FLEET_LEADER && f->sv != NULL)
		t->standby_error = standbyview_error(f->sv);
	t->polls = ps.polls;
	memcpy(t->errors, ps.errors, sizeof t->errors);
	t->http_in_flight = hs.in_flight;
	t->http_queued = hs.queued;
	if (f->eng->store != NULL) {
		struct store_health h;
		t->store_queue = store_queue_len(f->eng->store);
		t->store_dropped = store_queue_dropped(f->eng->store);
		store_get_health(f->eng->store, &h);
		t->store_healthy = h.failing == 0;
		t->store_error = h.error;
		t->store_error_ms = h.last_ms;
	}
	t->exports = f->xstats;
	t->role = f->role;
	t->holder = f->lease != NULL ? lease_holder(f->lease) : "";
	t->leader = f->lease != NULL ? lease_other(f->lease) : NULL;
}

void
fleet_poll_now(struct fleet *f)
{
	if (f->role == FLEET_LEADER)
		poller_poll_all(f->poller, NULL, NULL);
}

const struct histogram *
fleet_histogram(const struct fleet *f, int gen, enum http_result result)
{
	if (gen < 0 || gen >= FLEET_GENS || (int)result < 0 || result >= HTTP_RESULT_COUNT)
		return NULL;
	return f->hist[gen][result];
}

const char *
fleet_mdns_status(const struct fleet *f)
{
	return f->ad != NULL ? autodiscover_mdns_status(f->ad) : NULL;
}
