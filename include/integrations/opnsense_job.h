#ifndef INTEGRATIONS_OPNSENSE_JOB_H
#define INTEGRATIONS_OPNSENSE_JOB_H

#include "integrations/opnsense.h"

/*
 * One OPNsense sync as a front end runs it (--opnsense-sync, the --headless timer, the
 * console's view and apply key): the options come from the configuration (opnsense-*), the
 * API key and secret from their files on every sync (so a rotated key is picked up; a file
 * missing or readable by everyone is refused; one file with key= and secret= lines serves
 * both), the desired state from the registry. One writer at a time: a sync that will apply
 * takes the "opnsense" lease in the store, so two processes never write to the firewall at
 * once. Services whose changes were saved but whose reconfigure failed are remembered in the
 * store's settings and reconfigured by the next sync even when it finds nothing to change.
 */
struct conf;
struct guard;
struct store;

/* What a job uses; all owned by the caller and valid while the sync runs. */
struct opnsense_env {
	struct loop *loop;
	struct http *http;
	const struct guard *guard; /* the firewall's address must pass it */
	const struct conf *cfg;
	struct store *store;
};

/*
 * Reads everything, takes the writer's lease unless dry_run, and starts the sync as a dry run:
 * read the firewall once, compute the plan; done(sync, arg) is called from the loop when the
 * plan is ready (or reading failed). Show the plan, or apply exactly it with
 * opnsense_sync_apply. Returns the sync (caller frees), or NULL with *cause (caller frees).
 */
struct opnsense_sync *opnsense_job_begin(
    const struct opnsense_env *env, int dry_run, opnsense_done_cb done, void *arg, char **cause);
/*
 * Renews the writer's lease before a plan a person looked at is applied: the lease runs out
 * while a plan is shown for long, and another process may have taken it and written since.
 * Returns 0 while this process is still its holder (expired or not), else -1 with *cause
 * (caller frees): naming the process that holds it now, or, when it was taken and given
 * back meanwhile (the lease is this process's again), saying the plan must be read again.
 */
int opnsense_job_renew(const struct opnsense_env *env, char **cause);
/*
 * After a job (r NULL when it did not finish): remembers pending reconfigures, gives the lease
 * back. Returns 0, or -1 when the pending reconfigures could not be remembered (logged; a
 * locked database): opnsense_job_remember them before the next job, or it will not make them
 * live when it finds nothing to change.
 */
int opnsense_job_end(const struct opnsense_env *env, const struct opnsense_report *r);
/* Remembers which services the next sync reconfigures in any case (both 0: none). 0, or -1
 * with *cause. */
int opnsense_job_remember(const struct opnsense_env *env, int dhcp, int alias, char **cause);

#endif
