#ifndef CLI_OPNSENSECMD_H
#define CLI_OPNSENSECMD_H

/*
 * The front end of the OPNsense sync (integrations/opnsense_job.h, engine/opnsense_runner.h):
 * --opnsense-sync. The periodic sync of --headless is engine/opnsense_runner.h, its /metrics
 * families server/opnsense_metrics.h.
 */
struct app;

/* --opnsense-sync [--dry-run] [--json]: DHCP reservations and the alias on OPNsense. */
int cli_opnsense_sync(struct app *app);

#endif
