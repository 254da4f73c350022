#ifndef CLI_HEADLESS_H
#define CLI_HEADLESS_H

#include <stdio.h>

struct app;

/* --poll-once and --headless: front ends over the fleet runtime (engine/fleet.h). */
int cli_poll_once(struct app *app);
int cli_headless(struct app *app);
/* --list-metrics: the exporter's families, then the OPNsense sync's that --headless adds. */
void cli_list_metrics(FILE *fp);

#endif
