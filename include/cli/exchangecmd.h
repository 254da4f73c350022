#ifndef CLI_EXCHANGECMD_H
#define CLI_EXCHANGECMD_H

struct app;

/* --export FORMAT [-o FILE]: the fleet in FORMAT (cli/exchangecmd.c). */
int cli_export(struct app *app);
/* --import FILE [--dry-run] [--merge|--replace]: a validated, transactional restore. */
int cli_import(struct app *app);

#endif
