#ifndef CLI_PROVISION_H
#define CLI_PROVISION_H

/*
 * Provisioning modes of the command line (exit status as in cli/app.h) and the provisioning
 * service of --headless: the agent API routed on its HTTP server plus the verifier.
 */
struct app;
struct httpd;
struct provision_serve;

int cli_agent_enrol(struct app *app);
/* --provision and --provision-csv. */
int cli_provision(struct app *app);
int cli_tasks(struct app *app);
int cli_task_cancel(struct app *app);
int cli_agents(struct app *app);

/* Routes /api/v1/ on httpd and starts the verifier (app's store must be open); changed(arg)
 * runs when verified devices were registered (reload the registry). Caller frees after httpd
 * (requests may arrive until httpd is freed). */
struct provision_serve *provision_serve_new(
    struct app *app, struct httpd *httpd, void (*changed)(void *arg), void *arg);
void provision_serve_free(struct provision_serve *ps);

#endif
