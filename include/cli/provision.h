#ifndef CLI_PROVISION_H
#define CLI_PROVISION_H

/* Provisioning modes of the command line (exit status as in cli/app.h). */
struct app;

int cli_agent_enrol(struct app *app);
int cli_agent_revoke(struct app *app);
/* --provision and --provision-csv. */
int cli_provision(struct app *app);
int cli_tasks(struct app *app);
int cli_task_cancel(struct app *app);
int cli_agents(struct app *app);

#endif
