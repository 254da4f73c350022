#ifndef ENGINE_CFGPENDING_H
#define ENGINE_CFGPENDING_H

/*
 * Queued configuration changes (store/cfgstore pending) applied when their device is next seen:
 * the poller reports every device that answers (poller_set_seen); a device with a queued change
 * gets it through engine/cfgapply, and the queue entry ends "applied" or "failed" with the
 * result, audited. A device still unreachable keeps its change queued. A change that would give
 * the device a static address, MQTT client id or topic prefix another registered device's
 * desired configuration or queued change gives it, or a static address another registered
 * device is at now, ends "failed" with the reason before anything is sent (engine/cfgholders);
 * a change onto the address of a device whose own queued change moves it off waits for that
 * move. The queue, and with it the registry these checks read, is re-read from the store every
 * refresh_ms, so changes queued by another process are picked up.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct http;
struct store;
struct shelly_target;
struct cfgpending;
struct cfgapply_result;
struct devconfig;

/* Returns the processor (store and http not owned). */
struct cfgpending *cfgpending_new(
    struct loop *loop, struct http *http, struct store *store, uint64_t refresh_ms);
/*
 * moved_cb(arg) runs when a queued change moved a device to another static address and the
 * registry took it (the poller should reload the registry).
 */
void cfgpending_set_moved(struct cfgpending *cp, void (*moved_cb)(void *arg), void *arg);
/* Cancels what is in flight and frees. */
void cfgpending_free(struct cfgpending *cp);
/* The device mac answered at t (the poller's seen callback). */
void cfgpending_seen(struct cfgpending *cp, const char *mac, const struct shelly_target *t);
/* The same as a poller_seen_cb (arg is the cfgpending). */
void cfgpending_seen_cb(const char *mac, const struct shelly_target *t, void *arg);
/*
 * Keeps c (a device's configuration as read) as a snapshot of mac, with its generation and
 * revision; nothing when c is empty. Returns 0, or -1 with *cause.
 */
int cfgpending_keep(struct store *store, const char *mac, const struct devconfig *c,
    const char *reason, char **cause);
/*
 * Keeps what an apply read: r->before under reason, r->after (when read back) as
 * "read-back". Both are tried; returns 0, or -1 with the first failure's *cause.
 */
int cfgpending_keep_result(struct store *store, const char *mac, const struct cfgapply_result *r,
    const char *reason, char **cause);
/*
 * Whether want may be queued. The database never holds a secret, and a part of a change
 * (a WiFi network without its key) could cut the device off, so a change with a secret is not
 * queued at all.
 */
bool cfgpending_queueable(const struct devconfig *want);
/*
 * Queues want (older queued changes of mac are superseded), applied when the device is next
 * seen with the permissions given here (those of cfgapply_opts). Returns 0, or -1 with *cause
 * ("N secret(s) not queued: ..." for a change cfgpending_queueable refuses).
 */
int cfgpending_queue(struct store *store, const char *mac, const struct devconfig *want,
    bool allow_reboot, bool allow_network, char **cause);
/*
 * Keeps a configuration reply (Gen1 /settings, Gen2+ Shelly.GetConfig) as a snapshot of the
 * device (rev NAN: unknown unless the reply says), even when it holds no field the model
 * knows: the record that the device's configuration changed. Returns 0, or -1 with *cause.
 */
int cfgpending_snapshot(struct store *store, const char *mac, int gen, double rev,
    const char *reason, const char *body, size_t len, char **cause);
/* Changes applied (or failed) so far. */
uint64_t cfgpending_done_count(const struct cfgpending *cp);

#endif
