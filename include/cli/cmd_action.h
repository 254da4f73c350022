#ifndef CLI_CMD_ACTION_H
#define CLI_CMD_ACTION_H

struct app;

/* --action ACTION TARGET...: one device action on each TARGET, results printed per device. */
int cli_action(struct app *app);
/* --list-actions: one line per device action (name, what it needs, help). */
int cli_list_actions(struct app *app);

#endif
