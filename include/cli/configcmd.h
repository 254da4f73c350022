#ifndef CLI_CONFIGCMD_H
#define CLI_CONFIGCMD_H

/*
 * Configuration management modes (src/cli/configcmd.c): --config-get, --config-set,
 * --config-fields, --template-save, --drift (exit 3 when anything drifted), --apply, --clone,
 * the groups (--group-add/-remove/-list/-template/-set; @GROUP as a TARGET) and --pending.
 */
#include <stdbool.h>

struct app;

int cli_config_get(struct app *app);
int cli_config_set(struct app *app);
int cli_config_fields(struct app *app);
int cli_template_save(struct app *app);
int cli_drift(struct app *app);
int cli_apply(struct app *app);
int cli_clone(struct app *app);
int cli_group_add(struct app *app);
int cli_group_remove(struct app *app);
int cli_group_list(struct app *app);
int cli_group_template(struct app *app);
int cli_group_set(struct app *app);
int cli_pending(struct app *app);

struct devconfig;
struct cJSON;
/*
 * Brings TARGET to desired the way --config-set does (identify, write, read back, restore on
 * failure, snapshots, audit as verb, the per-device report; --dry-run lists the changes and
 * --allow-reboot / --allow-network-change apply). Returns the exit status.
 */
int cli_config_apply_one(
    struct app *app, const char *verb, const char *target, const struct devconfig *desired);
/* The fields of c as a JSON object, FIELD: value (secrets masked unless secrets). */
struct cJSON *cli_config_object(const struct devconfig *c, bool secrets);

#endif
