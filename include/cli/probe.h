#ifndef CLI_PROBE_H
#define CLI_PROBE_H

struct app;

/*
 * Parses the HOST[:PORT] of --probe and --add (the mode's argument) into req, with the
 * command line's --https and --accept-cert; *host is malloc'd. Returns 0 or EXIT_USAGE.
 */
struct registry_req;
int cli_device_req(struct app *app, const char *what, struct registry_req *req, char **host);
/* --probe HOST[:PORT]: identify one device and print its typed status; stores nothing. */
int cli_probe(struct app *app);

#endif
