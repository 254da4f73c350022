#ifndef CLI_OPNSENSECMD_H
#define CLI_OPNSENSECMD_H

/*
 * The front end of the OPNsense sync (integrations/opnsense_job.h): --opnsense-sync (declared
 * in cli/app.h) and the periodic sync of --headless with its /metrics families.
 */
struct app;
struct metrics_writer;
struct opnsense_env;
struct opnsense_runner;

/* --opnsense-sync [--dry-run] [--json]: DHCP reservations and the alias on OPNsense. */
int cli_opnsense_sync(struct app *app);
/* What an OPNsense job uses, from app's loop, HTTP client, guard, configuration and store. */
const struct opnsense_env *opnsense_env_of(struct app *app, struct opnsense_env *env);

/*
 * Starts syncing every opnsense-interval on app's loop, the first one at once. Returns NULL
 * (nothing to do) when opnsense-interval is 0 or opnsense-url is unset. Caller frees.
 */
struct opnsense_runner *opnsense_runner_start(struct app *app);
/* Stops (cancelling a sync in flight) and frees. NULL is fine. */
void opnsense_runner_free(struct opnsense_runner *r);
/* Writes the shelly_opnsense_* families (last sync time, result, counts by action). r may be
 * NULL (the families are then written without samples). */
void opnsense_runner_metrics(const struct opnsense_runner *r, struct metrics_writer *w);

#endif
