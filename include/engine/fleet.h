#ifndef ENGINE_FLEET_H
#define ENGINE_FLEET_H

/*
 * The fleet runtime: what --headless and the console run. It owns the poller, the store flush,
 * history pruning and the lease heartbeat timers, scheduled discovery (mDNS and the configured
 * ranges), configuration reload and the poll-duration histograms. Front ends read it through
 * getters and learn of changes through one event callback (mark the screen dirty; never draw
 * from it). Nothing here prints or blocks; failures are logged and kept as state.
 *
 * One process holds the poller lease on a database and polls ("leader"); the others stand by
 * and show what the leader wrote to the store (fleet_role says which).
 */
#include <stddef.h>
#include <stdint.h>

#include "engine/export_schedule.h"
#include "model/device.h"
#include "net/http.h"

struct conf;
struct engine;
struct histogram;
struct poller_sample;
struct fleet;

/* Histograms are kept per generation 0..FLEET_GENS-1 (0: unknown) and per result. */
#define FLEET_GENS 5

enum fleet_role {
	FLEET_STANDBY = 0, /* another process polls; views come from the store */
	FLEET_LEADER, /* this process holds the lease and polls */
};

enum fleet_event {
	FLEET_EV_DEVICES, /* the registry was reloaded (added, removed, moved devices) */
	FLEET_EV_STATUS, /* a poll completed (mac says which device; NULL on standby: any) */
	FLEET_EV_ROLE, /* the lease was taken or lost */
	FLEET_EV_CONF, /* the configuration was reloaded */
	FLEET_EV_STORE, /* a flush failed or works again */
};

typedef void (*fleet_event_cb)(enum fleet_event ev, const char *mac, void *arg);
typedef void (*fleet_done_cb)(void *arg);
/* A front end's checks of a configuration being loaded: 0, or -1 and *cause. */
typedef int (*fleet_conf_check_cb)(const struct conf *cfg, void *arg, char **cause);

struct fleet_opts {
	const char *what; /* the holder name's prefix: "headless", "console", "poll-once" */
	int discovery; /* run scheduled discovery while leader */
	int register_conf; /* register the configuration's `device` lines at start/reload */
};

/* One device as the fleet sees it; valid during the fleet_foreach callback only. */
struct fleet_view {
	const char *mac, *id, *name, *model, *model_name, *fw, *host;
	int gen;
	uint16_t port;
	enum device_state state; /* this run's, else the state an earlier run stored */
	int known; /* 0: no run has polled the device yet, state means nothing */
	const char *error; /* "" if none; sanitised */
	int64_t last_seen_ms; /* 0 never */
	int attempted; /* polled at least once since start */
	const struct poller_sample *samples; /* engine/poller.h */
	size_t nsamples;
};

/* Fleet-wide numbers for status bars, /readyz and /metrics. */
struct fleet_totals {
	size_t devices;
	size_t by_state[DEVICE_STATE_COUNT];
	size_t unknown; /* devices no run has polled yet (in no by_state) */
	size_t attempted;
	uint64_t polls;
	uint64_t errors[HTTP_RESULT_COUNT];
	size_t http_in_flight, http_queued;
	size_t store_queue;
	uint64_t store_dropped;
	int store_healthy;
	const char *store_error; /* NULL when healthy; owned by the store */
	int64_t store_error_ms;  /* wall-clock time of that failure */
	struct export_stats exports; /* scheduled exports (engine/export_schedule.h) */
	enum fleet_role role;
	const char *holder; /* this process's lease holder name */
	const char *leader; /* standing by: who polls ("a live poller (NAME)"), else NULL */
	/* standing by: the last read of the leader's results from the store failed: why (owned
	 * by the fleet); else NULL */
	const char *standby_error;
};

typedef void (*fleet_view_cb)(const struct fleet_view *v, void *arg);

/*
 * Returns a fleet over eng (store open, configuration loaded): the poller is created and the
 * registry loaded, nothing runs yet. NULL with *cause when the registry cannot be read.
 */
struct fleet *fleet_new(struct engine *eng, const struct fleet_opts *o, char **cause);
/* Stops (fleet_stop) and frees (NULL is fine). */
void fleet_free(struct fleet *f);
/* Sets the event callback (NULL to remove). */
void fleet_set_event_cb(struct fleet *f, fleet_event_cb cb, void *arg);
/* Starts the timers and tries the lease at once: leader polls, standby waits. */
void fleet_start(struct fleet *f);
/*
 * Stops polling and discovery, flushes the store and releases the lease. A started fleet's
 * last flush waits at most FLEET_STOP_FLUSH_MS for a database another process has locked,
 * then logs how many queued items were not written (so that a stop stays well within a service
 * manager's stop timeout, 15 s in deploy/systemd).
 */
#define FLEET_STOP_FLUSH_MS 5000
void fleet_stop(struct fleet *f);
/*
 * Polls every device once (--poll-once): takes the lease unless another live poller holds it
 * (force: poll anyway), and renews it while polling. done runs from the loop when every poll
 * completed and was flushed, or when the lease was lost meanwhile (polling stops, what was
 * polled is flushed; fleet_role is then FLEET_STANDBY). Returns 0, or -1 with *cause (the
 * lease holder's name in it) and no call of done.
 */
int fleet_poll_once(struct fleet *f, int force, fleet_done_cb done, void *arg, char **cause);
/*
 * Loads the configuration file path (conf_load: NULL is the default file, and a missing default
 * file is an empty configuration) into a new configuration that
 * keeps the current one's overrides (conf_override: command-line options) and makes it current
 * in eng->conf (intervals, credentials, discovery, new `device` lines); FLEET_EV_CONF tells the
 * front end, whose pointer to the old one is stale from then on. check (may be NULL) sees the
 * new configuration first, so a reload refuses what a start refuses. On error the old
 * configuration stays; returns -1 with *cause.
 */
int fleet_reload(
    struct fleet *f, const char *path, fleet_conf_check_cb check, void *check_arg, char **cause);
/* While leader: polls every device now (after an action, to show its effect at once). */
void fleet_poll_now(struct fleet *f);
/* Re-reads the registry from the store (after a registry change by this front end). */
void fleet_registry_changed(struct fleet *f);

enum fleet_role fleet_role(const struct fleet *f);
/*
 * Calls cb for every device, ordered by MAC. Standing by: the leader's results as last read
 * from the store, read again first when the store changed since (engine/standbyview.h).
 */
void fleet_foreach(struct fleet *f, fleet_view_cb cb, void *arg);
/* Standing by: reads the leader's results again when the store changed (fleet_get_totals then
 * counts them); leading: nothing. */
void fleet_refresh(struct fleet *f);
/* Fills t; standing by, the device counts are those of the last read (fleet_refresh). */
void fleet_get_totals(const struct fleet *f, struct fleet_totals *t);
/* The poll-duration histogram of (gen, result), or NULL when nothing was observed. */
const struct histogram *fleet_histogram(const struct fleet *f, int gen, enum http_result result);
/* The mDNS status line of scheduled discovery, or NULL when off. */
const char *fleet_mdns_status(const struct fleet *f);

#endif
