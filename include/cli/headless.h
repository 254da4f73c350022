#ifndef CLI_HEADLESS_H
#define CLI_HEADLESS_H

struct app;

/* --poll-once and --headless: front ends over the fleet runtime (engine/fleet.h). */
int cli_poll_once(struct app *app);
int cli_headless(struct app *app);

#endif
