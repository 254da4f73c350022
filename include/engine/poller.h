#ifndef ENGINE_POLLER_H
#define ENGINE_POLLER_H

/*
 * The polling engine: every registered device is polled on its own schedule (Gen1 and Gen2+
 * intervals, jitter so a fleet does not pulse), one status request per poll, settings re-read
 * only when Gen1 cfg_changed_cnt or Gen2+ sys.cfg_rev moves. Failures count: offline after
 * offline_after failures in a row, exponential backoff (x2 up to backoff_max) and a circuit
 * breaker (after breaker_after failures only one probe per backoff_max). Sleeping battery
 * devices are "asleep", not offline, and keep their last report; a missed poll backs them off
 * (x2 from the first miss, up to backoff_max; an answer resets it) and their connect timeout
 * is short, so a fleet of sleepers holds few request slots. Silent for more than a day, a
 * sleeper stays asleep with the error "asleep since <its last answer>".
 *
 * Credentials are sent only after GET /shelly at the device's address showed the registered
 * MAC: before every poll of a Gen1 device (HTTP Basic sends the password itself), every
 * verify_interval and after any failure for Gen2+ (digest); status replies are checked for the
 * MAC too, and a Gen1 settings read follows the status reply that showed it. Results go to the store's write queue; the caller flushes it on a timer.
 * Devices are referred to by MAC, never by pointer, in requests: a removed device is safe.
 */
#include <stddef.h>
#include <stdint.h>

#include "engine/fleet.h"
#include "model/device.h"
#include "model/fields.h"
#include "net/http.h"

struct shelly_target;

struct loop;
struct store;
struct conf;
struct poller;

struct poller_opts {
	uint64_t interval_gen1_ms, interval_gen2_ms;
	uint32_t connect_timeout_ms, request_timeout_ms;
	int offline_after;
	int breaker_after; /* failures in a row that open the breaker */
	uint64_t backoff_max_ms;
	uint64_t verify_interval_ms; /* re-check the MAC before sending credentials */
	int lanes_gen2;
	size_t max_body;
	enum http_tls tls;
	const char *ca_file; /* copied */
	int jitter_pct; /* +- percent of the interval; 10 by default */
};

/* Fills opts from the configuration's option table. */
void poller_opts_from_config(struct poller_opts *opts, const struct conf *cfg);

/* Per-reading series kept for /metrics: the metric table of model/fields.h. */
#define POLLER_SAMPLES(X) FIELD_METRICS(X)

enum poller_sample_kind {
#define POLLER_SAMPLE_ENUM(id, name, type, help) PS_##id,
	POLLER_SAMPLES(POLLER_SAMPLE_ENUM)
#undef POLLER_SAMPLE_ENUM
	    PS__COUNT
};

/* One reading: kind, component ("switch", "cover", "em", ... or "" device-wide), channel, phase. */
struct poller_sample {
	uint8_t kind;
	char component[16];
	int16_t channel; /* -1 none */
	char phase; /* 'a', 'b', 'c' or 0 */
	double value;
};

/* Devices are shown as struct fleet_view (engine/fleet.h), valid during the callback. */
struct poller_stats {
	size_t devices;
	size_t by_state[DEVICE_STATE_COUNT]; /* devices whose state is known */
	size_t unknown; /* devices no run has polled yet */
	size_t attempted; /* devices polled at least once */
	uint64_t polls;
	uint64_t errors[HTTP_RESULT_COUNT];
};

typedef void (*poller_view_cb)(const struct fleet_view *v, void *arg);
typedef void (*poller_done_cb)(void *arg);
/*
 * Called for every completed poll with the device's MAC, its generation, the result and the
 * duration (for histograms).
 */
typedef void (*poller_observe_cb)(const char *mac, int gen, enum http_result result,
    double seconds, void *arg);

/*
 * The wait before a device's next poll: its generation's interval when healthy, doubled for
 * every failure past the first up to backoff_max, backoff_max once the breaker is open
 * (failures >= breaker_after); a sleeping device's doubles from the first failure, up to
 * backoff_max; then +- jitter_pct, picked by random. Pure.
 */
uint64_t poller_delay_ms(
    const struct poller_opts *o, int gen, int failures, int sleeps, uint64_t random);

/*
 * The readings /metrics shows of a status reply of generation gen kept in the store (json,
 * NULL none) of a device running fw (NULL unknown): *out (caller frees; NULL when none), their
 * number returned. A reply that does not read has none.
 */
size_t poller_reply_samples(int gen, const char *json, const char *fw, struct poller_sample **out);

/* Returns a poller (no devices yet); caller frees. store and http are not owned. */
struct poller *poller_new(
    struct loop *loop, struct http *http, struct store *store, const struct poller_opts *opts);
/* Cancels what is in flight, frees every device and its secrets. */
void poller_free(struct poller *p);
/*
 * Replaces the options (SIGHUP); schedules keep running with the new intervals, and a device
 * waiting longer than the longest delay the new options allow it (a shorter interval or
 * backoff-max, jitter included) is polled within its new delay. Unchanged options re-arm none.
 */
void poller_set_opts(struct poller *p, const struct poller_opts *opts);
/*
 * (Re)loads the registry from the store and credentials (config and stored references);
 * devices no longer registered are dropped, new ones added, changed addresses taken.
 * Returns 0, or -1 with *cause. cfg may be NULL.
 */
int poller_load(struct poller *p, const struct conf *cfg, char **cause);
/*
 * poller_load, and every device is taken again from the store as a new one is (state, error,
 * last reply's readings, uptime, last-seen time, settings revision): for a poller that
 * (re)gains the lease, after another may have polled. Call it with the poller stopped.
 */
int poller_load_fresh(struct poller *p, const struct conf *cfg, char **cause);
/* Starts polling every device on its schedule (the first polls spread over one interval). */
void poller_start(struct poller *p);
/* Stops scheduling; polls in flight are cancelled. */
void poller_stop(struct poller *p);
/* Polls every device once now; done(arg) runs from the loop when all have completed. */
void poller_poll_all(struct poller *p, poller_done_cb done, void *arg);
/* Polls in flight. */
size_t poller_inflight(const struct poller *p);
/* Calls cb for every device, ordered by MAC. */
void poller_foreach(struct poller *p, poller_view_cb cb, void *arg);
/* Fills stats. */
void poller_get_stats(const struct poller *p, struct poller_stats *stats);
/*
 * Called for every device that answered a status poll, with its target (credentials included;
 * valid only during the call). NULL removes it.
 */
typedef void (*poller_seen_cb)(const char *mac, const struct shelly_target *t, void *arg);
void poller_set_seen(struct poller *p, poller_seen_cb cb, void *arg);
/* Sets the per-poll observer (NULL to remove). */
void poller_set_observer(struct poller *p, poller_observe_cb cb, void *arg);
/* A sample kind's metric name, Prometheus type and help text. Static. */
struct poller_sample_info {
	const char *metric, *type, *help;
};
const struct poller_sample_info *poller_sample_info(enum poller_sample_kind k);

#endif
