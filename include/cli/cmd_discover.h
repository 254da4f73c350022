#ifndef CLI_CMD_DISCOVER_H
#define CLI_CMD_DISCOVER_H

struct app;
struct discover_opts;
struct scan_targets;

/* --discover [TARGET ...]: mDNS and scan, merged into the registry, printed. */
int cli_discover(struct app *app);
/* A discovery run's options (timeouts, port, concurrency, guard) from the command line and the
 * configuration; the console's discovery uses the same. */
void cli_discover_opts(
    struct app *app, int use_mdns, struct scan_targets *targets, struct discover_opts *o);

#endif
