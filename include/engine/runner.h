#ifndef ENGINE_RUNNER_H
#define ENGINE_RUNNER_H

/*
 * The action runner: one device action (shelly/action.h) on a set of targets, all at once
 * through the engine's HTTP client (its lanes keep the per-device limits), with progress, a
 * typed result per target, cancel and one audit record per target.
 *
 * A target is a registered device (MAC, id or name) or HOST[:PORT]. Every target is
 * identified first (GET /shelly, no credentials): a registered device must show its MAC and is
 * spoken to with its registered generation's auth style, scheme and pinned key; credentials
 * come from the resolver (engine/creds.h) and go only to the MAC they belong to.
 *
 * A device is acted on once per run however many targets name it: targets naming the same
 * registered MAC or address are merged before anything is sent (the first given acts), and a
 * target that shows a MAC another target already showed is not acted on either (the first
 * identified acts). The merged ones report duplicate_of.
 *
 * Gen1 fw_check first asks the device to look for firmware (GET /ota/check), then reads /ota
 * a few seconds later (it answers from the device's last look).
 */
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "shelly/action.h"

struct engine;
struct runner;

/* One target's outcome; valid during the callback only. */
struct runner_result {
	size_t index; /* position in the targets given */
	const char *target; /* as given */
	const char *mac; /* NULL when unknown */
	const char *id; /* NULL when unknown */
	int ok;
	enum http_result result; /* HTTP_OK when ok */
	/* The action's own request went out: a failure may still have been carried out. 0: it
	 * failed before (identification, credentials, a light's settings), nothing was done. */
	int sent;
	const char *error; /* NULL when ok; sanitised */
	const struct action_result *ar; /* the device's answer, NULL when none */
	const char *ok_text; /* one line saying what happened ("switch:0 on"), or NULL */
	/*
	 * Non-NULL: this target is the same device as the target given here (its MAC, name or
	 * address again), so nothing was sent; ok is 0 and it is neither success nor failure.
	 */
	const char *duplicate_of;
	/* runner_set_read_back: the device's status reply read after the action, or NULL (not
	 * asked, failed, or no output or cover action); status_ms: when it was read. */
	const char *status_json;
	int64_t status_ms;
};

struct runner_cbs {
	/* One target finished (any order). */
	void (*result_cb)(const struct runner_result *r, void *arg);
	/* ndone of n targets finished; may be NULL. */
	void (*progress_cb)(size_t ndone, size_t n, void *arg);
	/* Every target finished or the run was cancelled; results stay readable. */
	void (*done_cb)(void *arg);
	void *arg;
};

/*
 * Checks the action (channel and value against the table) and resolves every target; nothing
 * is sent when one is wrong. Returns a run (caller frees), or NULL with *cause.
 */
struct runner *runner_new(struct engine *eng, const struct action *a, const char *const *targets,
    size_t n, const char *who, const struct runner_cbs *cbs, char **cause);
/*
 * How bare HOST[:PORT] targets are reached (https) and whether a registered HTTPS device's
 * changed key is accepted (accept_cert); call before runner_start. Both default to 0.
 */
void runner_set_tls(struct runner *r, int https, int accept_cert);
/*
 * The Gen2+ light component a light action addresses (--channel cct:0), instead of the one
 * of the device's profile; Gen1 devices keep their mode's. Call before runner_start.
 */
void runner_set_light(struct runner *r, enum action_light light);
/*
 * After a successful output, light or cover action, read the device's status once (one GET,
 * the same target and credentials as the action) before the target finishes, so a caller that
 * does not poll can show the new state (runner_result.status_json). A failed read-back leaves
 * the action's success as it is. Call before runner_start.
 */
void runner_set_read_back(struct runner *r);
/* Sends: identify every target, then the action. done_cb may run before this returns. */
void runner_start(struct runner *r);
/*
 * Cancels what is in flight; unfinished targets fail with HTTP_CANCELLED, saying whether a
 * request of theirs may have reached the device; done_cb runs.
 */
void runner_cancel(struct runner *r);
/* Targets and targets finished. */
size_t runner_count(const struct runner *r, size_t *ndone);
/* Targets merged into another as the same device (known when the run is done). */
size_t runner_duplicates(const struct runner *r);
/* Fills res with target i's outcome (valid until the next call or runner_free). */
void runner_result(const struct runner *r, size_t i, struct runner_result *res);
/* Writes one audit record per target acted on (needs the store); returns 0 or -1 with *cause. */
int runner_audit(struct runner *r, char **cause);
/* Frees the run (cancels first when needed; callbacks are not called). */
void runner_free(struct runner *r);

#endif
