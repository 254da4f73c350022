#ifndef ENGINE_CFGAPPLY_H
#define ENGINE_CFGAPPLY_H

/*
 * Configuration of one device, asynchronously: read it, or bring it to a desired configuration
 * (model/devconfig) and prove it.
 *
 *   1. read the actual configuration (the snapshot kept for a restore);
 *   2. diff: fields that differ (and secrets, which cannot be compared) are the changes;
 *      unsupported fields are reported, never sent; a change that may cut the device off the
 *      network is refused unless allow_network;
 *   3. dry run: stop here;
 *   4. send one request per Gen1 endpoint / Gen2+ component, one after the other;
 *   5. a request that fails: the fields already written (and the failed request's) are set back
 *      to the snapshot's values, then read back; a secret already sent cannot be set back (its
 *      old value is never known): the outcome is then failed, and the message counts them;
 *   6. reboot only when the device says it must (Gen2+ restart_required; Gen1 MQTT/CoIoT
 *      settings by the API docs) and only with allow_reboot;
 *   7. read back (retrying while a rebooted or re-addressed device comes back) and compare.
 *
 * A change that gives the device another static address (allowed with allow_network) is sent
 * last; the device is then looked for at the new address until follow_timeout_ms: it must
 * answer GET /shelly there with its MAC and generation, over the same scheme (and, HTTPS, the
 * pinned key) before the read-back (and a reboot) go there. If it is not seen, the outcome is
 * verify-failed, "not seen at NEW; last known OLD", and nothing is restored to an address
 * that may no longer answer.
 *
 * Nothing here blocks: the loop runs the requests; cb is called once, from the loop, unless
 * cfgapply_free cancels first. No secret is put in a message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/devconfig.h"
#include "shelly/client.h"

struct loop;
struct http;

enum cfgapply_outcome {
	CFGA_OK, /* changes written and read back */
	CFGA_UNCHANGED, /* nothing to change (or a read) */
	CFGA_DRY_RUN, /* changes computed, nothing sent */
	CFGA_REFUSED, /* not sent: invalid, unsupported only, or cuts the network */
	CFGA_UNREACHABLE, /* the first read failed: nothing sent */
	CFGA_FAILED_RESTORED, /* a write failed; what was written is set back and verified */
	CFGA_FAILED, /* a write failed and the restore did not verify, or a secret was sent */
	CFGA_VERIFY_FAILED, /* written, but the read-back differs (or the device is gone) */
};

struct cfgapply_opts {
	bool dry_run;
	bool allow_reboot;
	bool allow_network;
	unsigned verify_tries; /* read-back attempts (0: 10) */
	uint32_t verify_delay_ms; /* between attempts (0: 500) */
	/* After a reboot, read-back attempts go on at least this long (0: 60000): a device takes
	 * seconds to boot and rejoin its network, refusing or dropping connections meanwhile. A
	 * restore step the device is away for (it rebooted half-way) is retried as long. */
	uint32_t reboot_wait_ms;
	uint32_t follow_timeout_ms; /* looking for a re-addressed device (0: 30000) */
	/* Progress lines ("writing Switch.SetConfig (2 fields)"), may be NULL. */
	void (*progress_cb)(const char *line, void *arg);
};

/* What became of a device; valid only during the callback. */
struct cfgapply_result {
	enum cfgapply_outcome outcome;
	const char *message; /* one sanitised sentence, never NULL */
	const struct devconfig *before; /* the device as read first (empty when unreachable) */
	const struct devconfig *after; /* as read back (empty when not read back) */
	const struct devconfig_diff *rows; /* desired vs before, one per desired field */
	size_t nrows;
	size_t changed; /* fields sent */
	bool restart_required; /* the device wants a reboot */
	bool rebooted;
	/*
	 * CFGA_UNREACHABLE only: the device answered, but refused or botched the read (a password,
	 * an HTTP or RPC error, a reply that is not a configuration). It is not offline, so its
	 * change is not one to queue for when it is next seen.
	 */
	bool answered;
	/* answered: with a server error (HTTP 5xx), which a busy or just booted device may not
	 * repeat: a change already queued waits for the next time the device is seen. */
	bool server_error;
	/* Seen at another address after the change (the registry should follow), else NULL. */
	const char *moved_to, *moved_from;
};

typedef void (*cfgapply_cb)(const struct cfgapply_result *r, void *arg);

struct cfgapply;

/*
 * Starts on the identified device t (gen set; strings are copied). desired may be NULL or
 * empty for a plain read. Returns the running operation (free with cfgapply_free, after or
 * instead of the callback).
 */
struct cfgapply *cfgapply_start(struct loop *loop, struct http *http, const struct shelly_target *t,
    const struct devconfig *desired, const struct cfgapply_opts *o, cfgapply_cb cb, void *arg);
/*
 * The operator wants out (a signal): an operation still reading ends at once, refused
 * ("interrupted before anything was written"); one writing stops and sets back what it
 * wrote, then reads back (result restored or failed); a later phase goes on to its end. The
 * callback comes as usual, maybe from inside this call.
 */
void cfgapply_interrupt(struct cfgapply *a);
/* Cancels what is in flight (no callback) and frees; may be called from inside cb. */
void cfgapply_free(struct cfgapply *a);


/* "ok", "unchanged", "dry-run", "refused", "unreachable", "restored", "failed", "verify-failed". */
const char *cfgapply_outcome_name(enum cfgapply_outcome o);

#endif
