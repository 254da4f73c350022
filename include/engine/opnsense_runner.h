#ifndef ENGINE_OPNSENSE_RUNNER_H
#define ENGINE_OPNSENSE_RUNNER_H

/*
 * The OPNsense sync as the engine runs it (integrations/opnsense_job.h does the set-up): the
 * job's environment from the engine context, for every front end that runs a sync
 * (--opnsense-sync, the console's view), and the periodic sync of --headless with the numbers
 * its /metrics families show (server/opnsense_metrics.h). Nothing here prints; a periodic
 * sync's result is logged.
 */
#include <stddef.h>
#include <stdint.h>

#include "integrations/opnsense_plan.h"

struct engine;
struct opnsense_env;
struct opnsense_runner;

/* How the periodic sync went (a value type owned by the runner). */
struct opnsense_runner_stats {
	int64_t last_ms; /* wall clock of the last finished sync, 0 none */
	int last_ok; /* the last sync applied everything it planned */
	size_t counts[OPN_ACTION_COUNT]; /* records of the last sync by action */
	uint64_t runs_ok, runs_failed;
};

/*
 * Fills env (returned) with what an OPNsense job uses from eng: its loop, HTTP client, guard,
 * configuration and store. Build it at each use: a reload replaces eng->conf.
 */
const struct opnsense_env *opnsense_runner_env(const struct engine *eng, struct opnsense_env *env);

/*
 * Starts syncing every opnsense-interval on eng's loop, the first one at once; eng (borrowed)
 * must outlive the runner. Returns NULL (nothing to do) when opnsense-interval is 0 or
 * opnsense-url is unset (logged). Caller frees.
 */
struct opnsense_runner *opnsense_runner_new(struct engine *eng);
/*
 * The configuration was reloaded (eng->conf is the new one): the runner goes on with it, a
 * sync in progress to its end and its numbers kept; a changed opnsense-interval counts from
 * the end of the last sync. Returns 0, or -1 when the configuration no longer asks for a
 * periodic sync (opnsense-interval 0, no opnsense-url): free the runner.
 */
int opnsense_runner_reload(struct opnsense_runner *r);
/* Stops (cancelling a sync in flight, giving the writer's lease back) and frees. NULL is fine. */
void opnsense_runner_free(struct opnsense_runner *r);
/* The runner's numbers so far; owned by r. */
const struct opnsense_runner_stats *opnsense_runner_stats(const struct opnsense_runner *r);

#endif
