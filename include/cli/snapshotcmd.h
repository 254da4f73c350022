#ifndef CLI_SNAPSHOTCMD_H
#define CLI_SNAPSHOTCMD_H

/*
 * The configuration history the database keeps per device (src/cli/snapshotcmd.c):
 * --snapshots DEVICE lists it (id, time, cfg_rev, source), with --snapshot ID shows one
 * snapshot's fields; --config-restore DEVICE --snapshot ID brings the device back to that
 * snapshot through the apply path (diff, write, read back, restore on failure; --dry-run).
 */
struct app;

int cli_snapshots(struct app *app);
int cli_config_restore(struct app *app);

#endif
