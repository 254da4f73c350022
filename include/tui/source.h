#ifndef TUI_SOURCE_H
#define TUI_SOURCE_H

/*
 * The console's one door to the rest of the tree: what the views read (device rows, totals,
 * one device's detail, history and events) and what they ask for (device actions, scans).
 * Every string a row holds is sanitised here, before any view sees it.
 *
 * The source runs the engine's fleet runtime in the console's loop: while no other poller
 * holds the lease it takes it and polls (store flush, scheduled discovery, the configuration's
 * device lines) and gives it back on free; when a --headless poller holds it, the source reads that poller's results from the database as they are written
 * (store_data_version) and polls nothing. While it leads, and the configuration asks for it
 * (console-agent-api, or --listen), it also serves the agent API of provisioning and verifies
 * provisioned devices (server/provserve.h), as --headless does; standing by, it leaves that to
 * the poller. Actions run through the engine's action runner in
 * the console's loop; scans run the discovery engine in the loop too, and register only what
 * the operator adds. The console never waits on a device.
 */
#include <stddef.h>
#include <stdint.h>

#include "model/device.h"

struct app;
struct source;

/* One device row. Unknown numbers are NAN, unknown counts -1. Strings are sanitised. */
#define SOURCE_COVERS 2 /* covers a row keeps for the table */

struct source_dev {
	char mac[DEV_MAC_LEN];
	char id[DEV_ID_LEN];
	char name[96];
	char model[DEV_SHORT_LEN];
	char model_name[64];
	char host[64];
	char fw[40]; /* the version it runs, for people */
	char running[DEV_FW_LEN]; /* what offers are compared with (fwver_running) */
	char error[96];
	int gen;
	int port;		/* 0 unknown */
	int https;
	int has_status;		/* a status was stored */
	int status_unread;	/* the store's status could not be read: state unknown */
	enum device_state state;
	double power_w, energy_wh, temperature_c, rssi_dbm;
	int outputs, outputs_on; /* switches and lights; -1 unknown */
	int lights;		/* of which lights */
	int outputs_known;	/* of which the reply told on or off */
	int covers;
	/* the first SOURCE_COVERS covers (a Pro Dual Cover has two) */
	double cover_pct[SOURCE_COVERS];	/* position, NAN unknown */
	enum cover_state cover_state[SOURCE_COVERS]; /* COVER_UNKNOWN unknown */
	int fw_update;		/* 1 offered, 0 not, -1 unknown */
	double voltage_v;	/* the first voltage the reply has, NAN unknown */
	double battery_pct;	/* the battery's charge, NAN unknown or none */
	int64_t uptime_s;	/* -1 unknown */
	int64_t seen_ms, status_ms;
	int64_t reply_ms;	/* when the values were read, 0 never */
	int stale;		/* the values are the last known: the last poll failed */
};

struct source_totals {
	size_t devices;
	size_t by_state[DEVICE_STATE_COUNT];
	size_t unknown;		/* never polled */
	double power_w;
	int64_t polled_ms;	/* newest status */
};

/* One recent event, sanitised. */
struct source_event {
	int64_t id, ts_ms;
	char mac[DEV_MAC_LEN];
	char kind[32];
	char detail[160];
};

/* One device's result of an action or the outcome of a scan line. */
struct source_result {
	char target[DEV_ID_LEN];	/* id or MAC */
	int ok;
	char text[160];			/* what happened, or why it failed (sanitised) */
	char action[32];		/* an action job: the action this device got */
	/* a toggle that failed after it may have reached the device (its reply was lost or
	 * cut): never retried, since a second toggle could undo the first */
	int unsure;
	/* a discovery: where the device answered, and whether it is registered already */
	char mac[DEV_MAC_LEN];
	char host[64];
	uint16_t port;
	int https;
	int known;
	/* registered at another address (old_host:old_port) until source_add_found commits it */
	int moved;
	char old_host[64];
	uint16_t old_port;
};

/* A running action or scan; the source owns it until its done callback returned. */
struct source_job;
typedef void (*source_job_cb)(struct source_job *job, void *arg);

struct creds_prompt;
/*
 * Asks the operator for user's password (why: one sanitised line); the answer goes to
 * source_prompt_answer exactly once, now or later (NULL: none given).
 */
typedef void (*source_prompt_cb)(struct creds_prompt *q, const char *user, const char *why,
    void *arg);

enum source_flags {
	SOURCE_NO_POLLER = 1,	/* never poll (tests, read-only views) */
};

/*
 * Opens the app's store, takes the poller lease when it is free and starts polling. changed
 * runs (from the loop) whenever rows may have changed. Returns NULL with *cause.
 */
struct source *source_new(struct app *app, int flags, void (*changed)(void *), void *arg,
    char **cause);
/* Sets the console's password prompt (NULL: devices that want a password fail). */
void source_set_prompt(struct source *src, source_prompt_cb cb, void *arg);
void source_prompt_answer(struct creds_prompt *q, const char *password);
/* Stops polling, flushes, gives the lease back, cancels jobs. NULL is fine. */
void source_free(struct source *src);
/* Re-reads the store now (normally done by the source's own timer). */
void source_refresh(struct source *src);
/* The registry was changed from this process (an import): re-read, and the poller learns of
 * new and removed devices. */
void source_registry_changed(struct source *src);
/* The rows, ordered by MAC; owned by the source, valid until the next changed callback. */
const struct source_dev *source_devices(const struct source *src, size_t *n);
/* The row of mac, or NULL (valid as the rows are). */
const struct source_dev *source_device(const struct source *src, const char *mac);
/* What the console calls a device: its name, or its id when it has none. */
const char *source_dev_label(const struct source_dev *r);
/* Fleet totals of the rows. */
void source_get_totals(const struct source *src, struct source_totals *t);
/* Who polls: "this console" or "headless:HOST:PID (read-only view of its results)". */
const char *source_poller(const struct source *src);
/* The kind of database write failing in this console ("settings"), or NULL when writes work. */
const char *source_write_failed(const struct source *src);
/* While the poll results cannot be written: "results not saved" (": database locked" when
 * the database is locked), the rows on screen older than the last polls; else NULL. */
const char *source_unsaved(const struct source *src);
/* Why the devices' status could not be read from the database at the last refresh (sanitised;
 * those devices show no status), or NULL when it could. */
const char *source_status_unreadable(const struct source *src);
/* 1 while this console's writes fail because another process holds the database locked. */
int source_db_locked(const struct source *src);
/* 1 while this console holds the lease and polls. */
int source_polling(const struct source *src);
/*
 * Where agents reach the agent API: "http://ADDR:PORT/api/v1/ (this console)" while this
 * console leads and serves it, else why not (the poller serves it, off, cannot listen).
 */
const char *source_agent_api(const struct source *src);

/*
 * One device's typed status parsed from its stored reply (out initialised; caller frees with
 * device_status_done). Returns 0, or -1 when none is stored or it does not parse.
 */
int source_status(struct source *src, const char *mac, struct device_status *out);
/* A device's component names as its newest configuration snapshot has them; a view keeps one
 * (zeroed, then source_names_done) so the snapshot is parsed once, not on every refresh. */
struct devconfig;
struct source_names {
	int64_t seen; /* the snapshot read (0: none yet) */
	struct devconfig *c;
};
/*
 * Gives st's switches, covers, lights, inputs and meters the names (and inputs the types) set
 * on the device, sanitised, from its newest configuration snapshot (no request): n is read
 * again only when that snapshot is another one; the names read before stay while the store
 * cannot be read. Nothing changes when no snapshot was ever read.
 */
void source_names(struct source *src, const char *mac, struct source_names *n,
    struct device_status *st);
void source_names_done(struct source_names *n);
/* The name the device last reported for itself (sanitised) when it is not its registry name;
 * NULL otherwise. Caller frees. */
char *source_own_name(struct source *src, const char *mac);
/* Appends the device's stored reply, pretty-printed, to out as sanitised lines. Returns 0, or
 * -1 when none is stored. */
struct textlines;
int source_raw(struct source *src, const char *mac, struct textlines *out);
/*
 * Power (or, when the device reports no power, temperature) of the last hours in n slots,
 * oldest first, NAN where nothing was stored. Returns 1 power, 2 temperature, 0 nothing.
 */
int source_history(struct source *src, const char *mac, int64_t span_ms, double *out, size_t n);
/* Up to max newest events (of mac, or of the fleet when mac is NULL), newest first. */
size_t source_events(struct source *src, const char *mac, struct source_event *out, size_t max);

/*
 * Runs action (an --action name) with channel and value (-1: none) on the devices macs, in
 * the background. done runs from the loop when every device has a result.
 */
struct source_job *source_action(struct source *src, const char *action, int channel, int value,
    const char *const *macs, size_t n, source_job_cb done, void *arg);
/* One light action on one device, the light named by its Gen2+ component type (light, rgb,
 * rgbw, cct, rgbcct: a static string), which wins over the device's profile. */
struct source_job *source_light_action(struct source *src, const char *action, const char *light,
    int channel, int value, const char *mac, source_job_cb done, void *arg);
/* The same with an action per device (actions[i] for macs[i]): a switch and a light both
 * turned on by one job. */
struct source_job *source_actions(struct source *src, const char *const *actions, int channel,
    int value, const char *const *macs, size_t n, source_job_cb done, void *arg);
/*
 * Reads the registered device mac again at its address, in the background: with accept_cert
 * it pins the certificate an HTTPS device shows now (the operator's explicit acceptance of a
 * changed key); without, a password the device wants is asked for (the prompt) and stored.
 */
struct source_job *source_reregister(struct source *src, const char *mac, int accept_cert,
    source_job_cb done, void *arg);
/*
 * Scans target (CIDR, range or address; "mdns" browses mDNS) for devices, in the console's
 * loop: the job's done/total count addresses probed, its results are the devices found (one
 * each, as they answer). Nothing is registered: source_add_found adds one.
 */
struct source_job *source_scan(struct source *src, const char *target, source_job_cb done,
    void *arg);
/*
 * Registers the device mac the scan found through the engine's merge, as --discover does (no
 * network: what the scan read is stored): a new device is added, a registered one that moved
 * gets its new address (an ip_changed event), a claim the registry cannot confirm (a device
 * with credentials at an address that does not prove it) changes nothing and holds the device
 * (a mac_conflict event, *cause says why). The scan's result row follows. Returns 0 stored,
 * 1 held, or -1 with *cause.
 */
int source_add_found(struct source *src, struct source_job *scan, const char *mac, char **cause);
/* Ignored for this session: a found device the operator does not want (MAC). */
void source_ignore(struct source *src, const char *mac, int on);
int source_ignored(const struct source *src, const char *mac);
/*
 * A new action job over the devices that failed in job, but for the unsure toggles
 * (NULL: none to retry, or a scan).
 */
struct source_job *source_job_retry(struct source *src, const struct source_job *job);
/* Devices that running action jobs have not answered for yet (scans not counted). */
size_t source_jobs_pending(const struct source *src);
/* Scans still running (a closed discovery view leaves its scan running). */
size_t source_scans_running(const struct source *src);
/* Sets (or replaces) the callback that runs when the job is done. */
void source_job_set_done(struct source_job *job, source_job_cb done, void *arg);
/*
 * The IPv4 networks of this host's interfaces (loopback, and those SHELLY_TUI_ALLOW_NETS
 * refuses, left out), blank-separated, into buf: suggestions only, never scanned without the
 * operator's go. Returns how many.
 */
size_t source_local_nets(const struct source *src, char *buf, size_t size);
/* Where a job stands. */
struct source_progress {
	int scan;		/* 1 a scan, 0 an action job */
	int finished;		/* its done callback ran (or would have) */
	size_t total, done;	/* devices (a scan: addresses, probed of the total) */
	size_t results, ok;	/* results so far (a scan: devices found), of which succeeded */
	const char *error;	/* its failure as a whole (it could not start, or its output made
				 * no sense), or NULL; valid while the job lives */
};
void source_job_progress(const struct source_job *job, struct source_progress *p);
/* A job's results (valid while the job lives). */
const struct source_result *source_job_results(const struct source_job *job, size_t *n);
/* Cancels (if running) and frees a job; never calls done afterwards. NULL is fine. */
void source_job_free(struct source_job *job);

#endif
