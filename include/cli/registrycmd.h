#ifndef CLI_REGISTRYCMD_H
#define CLI_REGISTRYCMD_H

struct app;

/* --add HOST[:PORT], --remove KEY, --list, --backup-db FILE. */
int cli_add(struct app *app);
int cli_remove(struct app *app);
int cli_list(struct app *app);
int cli_backup_db(struct app *app);
/* Prints the --poll-once --json result: the registry with the fresh status of every device. */
int cli_print_poll_summary(struct app *app);

#endif
