#ifndef CLI_PROBE_H
#define CLI_PROBE_H

struct app;

/*
 * Parses the HOST[:PORT] of --probe and --add (the mode's argument) into req, with the
 * command line's --https and --accept-cert; *host is malloc'd. Returns 0 or EXIT_USAGE.
 */
struct registry_req;
int cli_device_req(struct app *app, const char *what, struct registry_req *req, char **host);
/* A --probe or --add run: done once the registry service called back; rc the exit status. */
struct device_run {
	struct app *app;
	int done, rc;
};
struct registry_result;
/*
 * Runs a registry read of the mode's HOST[:PORT] (add: registry_add, else registry_probe) to
 * its end; done_cb (given a struct device_run) prints. Returns the exit status.
 */
int cli_device_run(struct app *app, const char *what, int add,
    void (*done_cb)(const struct registry_result *r, void *arg));
/* --probe HOST[:PORT]: identify one device and print its typed status; stores nothing. */
int cli_probe(struct app *app);

#endif
