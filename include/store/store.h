#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The persistent store: device registry, latest status, history, events, audit, settings and
 * the poller lease. One interface over backends (SQLite now, PostgreSQL later); it stores its
 * own plain records and knows nothing of model/ or shelly/ (the engine translates).
 *
 * Timestamps are milliseconds since the Unix epoch. A MAC is 12 lower-case hex digits.
 * Unknown numbers are NAN (doubles) or STORE_NULL_INT (integers) and are stored as NULL.
 *
 * Strings in records are const: as input they belong to the caller; in records returned by
 * the store (X_dup, find, get) they live in the same allocation as the record, so one
 * free() (store_device_free etc.) releases everything. Records handed to callbacks are valid
 * only during the call. Callbacks may call other store functions; returning non-zero stops
 * the iteration (the list function then still returns 0).
 *
 * Status, history samples, events and last-seen updates are queued in memory and written by
 * store_flush() in one short transaction. Registry changes, settings, audit and leases are
 * written directly.
 */
struct store;

#define STORE_NULL_INT INT64_MIN
#define STORE_MAC_LEN 12

/* A registered device. NULL strings are unknown. */
struct store_device {
	char mac[STORE_MAC_LEN + 1];
	const char *id;		/* compared case-insensitively */
	int gen;		/* 1, 2, 3, 4; 0 unknown */
	const char *model;
	const char *app;
	const char *fw;
	const char *name;
	const char *host;
	int port;		/* 0 unknown */
	const char *scheme;	/* "http", "https" */
	const char *user;
	const char *cred_ref;	/* a reference ("file:..."), never the secret */
	const char *tls_pin;
	const char *discovered_via; /* "mdns", "scan", "manual", ... */
	int64_t first_seen_ms;	/* 0 unknown */
	int64_t last_seen_ms;	/* 0 unknown */
	const char *fw_version;	/* the version it says it runs (Gen2+ "ver"), else from fw */
	const char *auth;	/* "on", "off": its authentication as /shelly says (auth_en) */
	const char *profile;	/* Gen2+ multi-profile devices: "switch", "cover", ... */
};

/* Latest status of a device. */
struct store_status {
	char mac[STORE_MAC_LEN + 1];
	int64_t ts_ms;
	const char *state;	/* "online", "offline", "asleep", "auth_required", ... */
	const char *error;
	double power_w;
	double energy_wh;
	double temperature_c;
	double rssi_dbm;
	int64_t uptime_s;
	int64_t outputs_on;	/* outputs switched on */
	int64_t fw_update;	/* 1 an update is available, 0 not */
	int64_t cfg_rev;	/* the revision whose settings the poller has read (it spares
				 * a settings read at the next start); STORE_NULL_INT none */
	const char *json;	/* the device JSON object (raw, for backup and debugging) */
	/*
	 * When the reply the values and json come from was read; 0 none. Written as ts_ms when 0
	 * (a row with values is a reply), unless keep_reply.
	 */
	int64_t reply_ts_ms;
	/*
	 * Written only (not stored): a failed poll. A stored row keeps its reply, values and
	 * reply_ts_ms; only ts_ms, state and error change. A new row has no reply time.
	 */
	int keep_reply;
};

/* One raw history sample. */
struct store_sample {
	char mac[STORE_MAC_LEN + 1];
	int64_t ts_ms;
	double power_w;
	double energy_wh;
	double temperature_c;
	double rssi_dbm;
	int online;		/* 1 online, 0 not */
};

/* A downsampled history bucket [bucket_ms, bucket_ms + bucket size). */
struct store_bucket {
	char mac[STORE_MAC_LEN + 1];
	int64_t bucket_ms;
	int64_t n;		/* raw samples aggregated */
	double power_min_w, power_avg_w, power_max_w;
	double temperature_min_c, temperature_avg_c, temperature_max_c;
	double rssi_min_dbm, rssi_avg_dbm, rssi_max_dbm;
	double energy_last_wh;	/* energy of the last sample that had one */
	double online_frac;	/* online samples / n */
};

/* An event (online/offline, IP changed, ...). mac is "" for fleet-wide events. */
struct store_event {
	int64_t id;		/* assigned by the store; ignored when queued */
	int64_t ts_ms;
	char mac[STORE_MAC_LEN + 1];
	const char *kind;
	const char *detail;
};

/* An audit record: who did what to which target, with what result. */
struct store_audit {
	int64_t id;		/* assigned by the store; ignored on append */
	int64_t ts_ms;
	const char *who;
	const char *action;
	const char *target;
	const char *result;
	const char *detail;
};

typedef int (*store_device_cb)(const struct store_device *d, void *arg);
typedef int (*store_status_cb)(const struct store_status *st, void *arg);
typedef int (*store_sample_cb)(const struct store_sample *smp, void *arg);
typedef int (*store_bucket_cb)(const struct store_bucket *bk, void *arg);
typedef int (*store_event_cb)(const struct store_event *ev, void *arg);
typedef int (*store_audit_cb)(const struct store_audit *a, void *arg);
typedef int (*store_setting_cb)(const char *key, const char *value, void *arg);

/* Normalises "AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff" or "aa-bb-..." into out; 0 or -1 if not a MAC. */
int store_mac_parse(const char *in, char out[STORE_MAC_LEN + 1]);

/*
 * Returns the default database path, $XDG_DATA_HOME/shelly-tui/shelly.db (else
 * ~/.local/share/shelly-tui/shelly.db), creating missing directories with mode 0700.
 * Caller frees; NULL with *cause on failure.
 */
char *store_default_path(char **cause);

/*
 * Opens (creating and migrating as needed) the store named by url_or_path: "sqlite:PATH", a
 * plain PATH or ":memory:". A new database file is created with mode 0600. "postgres://..."
 * fails (not built with PostgreSQL). On success *out is the store, caller frees with store_free.
 */
int store_open(const char *url_or_path, struct store **out, char **cause);
/* Flags of store_open_flags. */
enum {
	/* Open only a database that exists: a missing one fails ("no database at PATH"). */
	STORE_OPEN_EXISTING = 1,
};
/* store_open with STORE_OPEN_* flags (store_open is flags 0). */
int store_open_flags(const char *url_or_path, int flags, struct store **out, char **cause);
/* Flushes what is queued (logging a failure) and closes the store. NULL is allowed. */
void store_free(struct store *s);
/* Returns the backend name ("sqlite"); static string. */
const char *store_backend_name(const struct store *s);

/* Records returned by the store are one allocation each; these free them (NULL allowed). */
void store_device_free(struct store_device *d);
void store_status_free(struct store_status *st);
/* Return deep copies in one allocation; caller frees with store_*_free / free. */
struct store_device *store_device_dup(const struct store_device *d);
struct store_status *store_status_dup(const struct store_status *st);
struct store_event *store_event_dup(const struct store_event *ev);

/*
 * Inserts or updates the device keyed by d->mac (direct write). On update, NULL strings and
 * zero numbers keep the stored value, "" clears a string; first_seen keeps the earliest and
 * last_seen the latest value.
 */
int store_device_upsert(struct store *s, const struct store_device *d, char **cause);
/*
 * store_device_upsert of a registered device only: a device removed meanwhile (by another
 * process) is left removed, never made again as a row holding only d's fields. Returns 0
 * (written, or no such device), -1 error.
 */
int store_device_update(struct store *s, const struct store_device *d, char **cause);
/* Removes the device whose MAC or id (case-insensitive) is key, with its status and history.
 * Returns 1 removed, 0 no such device, -1 error. Queued writes for it are dropped. */
int store_device_remove(struct store *s, const char *key, char **cause);
/* Lookups: return the device or NULL (not found; errors are logged). Caller frees. */
struct store_device *store_device_find_mac(struct store *s, const char *mac);
struct store_device *store_device_find_id(struct store *s, const char *id);
/* By MAC (any notation) or else by id. */
struct store_device *store_device_find(struct store *s, const char *key);
/* By host; port 0 matches any port. */
struct store_device *store_device_find_host(struct store *s, const char *host, int port);
/* Calls cb for every device, ordered by MAC. */
int store_device_list(struct store *s, store_device_cb cb, void *arg, char **cause);

/* Returns the latest stored (flushed) status of mac, or NULL (none, or an error: logged). */
struct store_status *store_status_get(struct store *s, const char *mac);
/* The same, telling an error from none: 1 (*out set, caller frees), 0 none, -1 error. */
int store_status_read(struct store *s, const char *mac, struct store_status **out,
    char **cause);
/* Calls cb for every latest stored status, ordered by MAC, without the raw reply (json NULL):
 * one read for a whole fleet instead of one per device. */
int store_status_list(struct store *s, store_status_cb cb, void *arg, char **cause);
/* Calls cb for raw samples of mac with from_ms <= ts < to_ms, oldest first. */
int store_history_list(struct store *s, const char *mac, int64_t from_ms, int64_t to_ms,
    store_sample_cb cb, void *arg, char **cause);
/* Calls cb for downsampled buckets of mac with from_ms <= bucket_ms < to_ms, oldest first. */
int store_history_buckets(struct store *s, const char *mac, int64_t from_ms, int64_t to_ms,
    store_bucket_cb cb, void *arg, char **cause);
/* Calls cb for up to limit events with id > after_id, oldest first. */
int store_event_list(struct store *s, int64_t after_id, size_t limit, store_event_cb cb,
    void *arg, char **cause);

/* Appends an audit record (direct write). */
int store_audit_append(struct store *s, const struct store_audit *a, char **cause);
/* Calls cb for up to limit audit records with id > after_id, oldest first. */
int store_audit_list(struct store *s, int64_t after_id, size_t limit, store_audit_cb cb,
    void *arg, char **cause);

/* Returns the value of setting key or NULL (not set; errors are logged). Caller frees. */
char *store_setting_get(struct store *s, const char *key);
/* Sets key to value (direct write); value NULL deletes the setting. */
int store_setting_set(struct store *s, const char *key, const char *value, char **cause);

/* Calls cb for every setting, ordered by key. */
int store_setting_list(struct store *s, store_setting_cb cb, void *arg, char **cause);

/*
 * A restore: devices and settings applied together. With replace, registered devices that are
 * not in the list are removed (with status and history) and settings that are not in the list
 * are deleted, except those whose key starts with keep_prefix (when not NULL).
 */
struct store_cfg_step;
struct store_import {
	const struct store_device *devices;
	size_t ndevices;
	const char *const *keys; /* settings: keys[i] = values[i] */
	const char *const *values;
	size_t nsettings;
	int replace;
	const char *keep_prefix;
	/* configuration steps (store/cfgrestore.h), run after the devices and settings */
	const struct store_cfg_step *cfg;
	size_t ncfg;
	/* called last before the commit (may be NULL); -1 with *cause rolls everything back */
	int (*before_commit)(void *arg, char **cause);
	void *arg;
};
/*
 * One read snapshot: the reads until store_read_end see one state of the store, whatever
 * other connections (a poller) commit meanwhile, so that what is read in several steps (an
 * export) agrees with itself. Only reads in between: a write fails. 0, or -1 with *cause.
 */
int store_read_begin(struct store *s, char **cause);
void store_read_end(struct store *s);
/* Applies im in one transaction (devices as store_device_upsert): all of it or nothing. */
int store_import(struct store *s, const struct store_import *im, char **cause);

/*
 * Devices held as unverified: something at another address claimed the device's MAC and could
 * not be confirmed (discovery's mac_conflict). A held device gets no credentials until the
 * operator confirms it (--add). Kept as the setting "hold:<mac>" with the reason as its value.
 */
int store_device_hold(struct store *s, const char *mac, const char *why, char **cause);
/* The reason a device is held, or NULL when it is not (caller frees). */
char *store_device_held(struct store *s, const char *mac);
/* Ends the hold (no-op when not held). */
int store_device_release(struct store *s, const char *mac, char **cause);

/*
 * Takes the named lease for holder until now_ms + timeout_ms if it is free, expired or
 * already holder's. Returns 1 acquired, 0 held by another (*holder_out = that holder, caller
 * frees; holder_out may be NULL), -1 error.
 */
int store_lease_acquire(struct store *s, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms, char **holder_out, char **cause);
/* Extends holder's lease to now_ms + timeout_ms. Returns 1 still held, 0 lost, -1 error. */
int store_lease_heartbeat(struct store *s, const char *name, const char *holder, int64_t now_ms,
    int64_t timeout_ms, char **cause);
/* Gives up holder's lease (no-op if another holds it). */
int store_lease_release(struct store *s, const char *name, const char *holder, char **cause);

/* Queues the latest status of a device (replacing a queued one for the same MAC). */
int store_queue_status(struct store *s, const struct store_status *st);
/* Queues a raw history sample; when the queue is full the oldest queued sample is dropped. */
int store_queue_sample(struct store *s, const struct store_sample *smp);
/* Queues an event; past the queue limit the oldest queued event is dropped. */
int store_queue_event(struct store *s, const struct store_event *ev);
/* Queues a last-seen update (the latest per MAC is kept). */
int store_queue_seen(struct store *s, const char *mac, int64_t ts_ms);
/* Items queued (statuses, samples, events, last-seen updates). */
size_t store_queue_len(const struct store *s);
/* Samples and events dropped because the queue was full, since open. */
uint64_t store_queue_dropped(const struct store *s);
/* Sets how many samples, and how many events, the queue holds at most (default 100000 each,
 * minimum 1). */
void store_set_queue_limit(struct store *s, size_t max_samples);
/*
 * Writes everything queued in one transaction. On failure (disk full, I/O error, locked) the
 * transaction is rolled back, the queue kept for the next flush and -1 returned.
 */
int store_flush(struct store *s, char **cause);
/*
 * How long a write waits for another connection's write lock before it fails as busy
 * ("database is locked"). One-shot commands keep the default (STORE_BUSY_WAIT_MS): they serve
 * nobody while they wait. A process that serves its event loop (--headless, the console) sets
 * STORE_LOOP_BUSY_WAIT_MS, so that a database locked by another process never stalls the loop:
 * its writes fail fast as failed writes (a flush keeps its queue, a lease heartbeat counts as
 * failed) and are tried again at the next timer tick.
 */
#define STORE_BUSY_WAIT_MS 5000
#define STORE_LOOP_BUSY_WAIT_MS 50
void store_set_busy_wait(struct store *s, int ms);
/*
 * store_flush waiting up to ms for a lock, whatever store_set_busy_wait says (the last flush
 * of a stopping poller: bounded, yet longer than a loop's writes wait).
 */
int store_flush_within(struct store *s, int ms, char **cause);
/*
 * The kinds of database write whose failure makes the store unhealthy: the flush of the queue,
 * the poller lease (acquire, heartbeat) and the records written one at a time (devices,
 * settings such as a learned TLS pin or a device's reported name, audit lines). A kind is
 * failing from a write of it that failed until a write of the same kind works; settings also
 * until a flush works 10 minutes after the last failed one (store_set_health_settle), since a
 * write nobody repeats would hold the mark forever.
 */
enum store_write { STORE_WRITE_FLUSH, STORE_WRITE_LEASE, STORE_WRITE_SETTINGS, STORE_WRITE_KINDS };
struct store_health {
	unsigned failing;      /* bit (1u << kind) per failing kind; 0 when healthy */
	enum store_write last; /* of the failing kinds, the one that failed last */
	int64_t last_ms;       /* wall-clock time of that failure */
	const char *error;     /* "<kind> write failed: <reason>", owned by the store; NULL if healthy */
};
/* The store's write health; h->error is valid until the next write. */
void store_get_health(const struct store *s, struct store_health *h);
/* Sets how long after the last failed settings write a flush that works clears it (>= 0). */
void store_set_health_settle(struct store *s, int64_t ms);
/* "flush", "lease", "settings" (static). */
const char *store_write_name(enum store_write w);
/* 1 if no kind of write is failing (store_get_health), else 0. */
int store_healthy(const struct store *s);
/* The last failure of a failing kind, or NULL; owned by the store, valid until the next write. */
const char *store_last_error(const struct store *s);

/*
 * History retention: raw samples older than now_ms - raw_keep_ms (rounded down to a bucket
 * boundary) are aggregated into buckets of bucket_ms and deleted; buckets older than
 * now_ms - keep_ms are deleted. Each device is handled in its own short transaction.
 */
int store_prune(struct store *s, int64_t now_ms, int64_t raw_keep_ms, int64_t bucket_ms,
    int64_t keep_ms, char **cause);
/*
 * Event and audit retention: events older than now_ms - events_keep_ms and audit records
 * older than now_ms - audit_keep_ms are deleted (a keep of 0: kept forever), a few thousand
 * rows per transaction so that other writers wait little. *deleted (may be NULL) is the number
 * of rows deleted.
 */
int store_prune_log(struct store *s, int64_t now_ms, int64_t events_keep_ms,
    int64_t audit_keep_ms, int64_t *deleted, char **cause);
/* Writes a consistent copy of the database to path (atomically replaced), also while others write. */
int store_backup(struct store *s, const char *path, char **cause);
/* Checks the database; 0 if sound, else -1 with the problems found in *cause. */
int store_integrity_check(struct store *s, char **cause);
/*
 * A number that changes whenever data was committed, by this or another connection (a reader
 * polls it to follow a poller's writes without re-reading unchanged data); -1 on error.
 */
int64_t store_data_version(struct store *s);
/* Size of the database in bytes, or -1 on error. */
int64_t store_db_size_bytes(struct store *s);

#endif
