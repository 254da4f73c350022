#ifndef CLI_CMD_DISCOVER_H
#define CLI_CMD_DISCOVER_H

struct app;

/* --discover [TARGET ...]: mDNS and scan, merged into the registry, printed. */
int cli_discover(struct app *app);

#endif
