/* shelly-tui: one console for a fleet of Shelly devices. See shelly-tui(1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "cli/cmd_action.h"
#include "cli/cmd_discover.h"
#include "cli/exchangecmd.h"
#include "cli/configcmd.h"
#include "cli/headless.h"
#include "cli/health.h"
#include "cli/opnsensecmd.h"
#include "cli/probe.h"
#include "cli/provision.h"
#include "cli/registrycmd.h"
#include "cli/snapshotcmd.h"
#include "conf/conf.h"
#include "tui/tui.h"
#include "util/datadir.h"

#ifndef SHELLY_TUI_VERSION
#define SHELLY_TUI_VERSION "0.1.0"
#endif

static int
version(struct app *app)
{
	(void)app;
	printf("shelly-tui %s\ndata directory: %s\n", SHELLY_TUI_VERSION, datadir());
	return EXIT_OK;
}

/*
 * Every mode and the function that runs it (returning the exit status), or for a mode that
 * only prints a list, the function that prints it.
 */
static const struct {
	int mode;
	int (*run)(struct app *app);
	void (*print)(FILE *fp);
} modes[] = {
	{ CLI_HELP, NULL, cli_usage },
	{ CLI_VERSION, version, NULL },
	{ CLI_LIST_OPTIONS, NULL, conf_list_options },
	{ CLI_LIST_METRICS, NULL, cli_list_metrics },
	{ CLI_LIST_KEYS, NULL, tui_list_keys },
	{ CLI_PROBE, cli_probe, NULL },
	{ CLI_ADD, cli_add, NULL },
	{ CLI_REMOVE, cli_remove, NULL },
	{ CLI_LIST, cli_list, NULL },
	{ CLI_POLL_ONCE, cli_poll_once, NULL },
	{ CLI_HEADLESS, cli_headless, NULL },
	{ CLI_BACKUP_DB, cli_backup_db, NULL },
	{ CLI_DISCOVER, cli_discover, NULL },
	{ CLI_ACTION, cli_action, NULL },
	{ CLI_LIST_ACTIONS, cli_list_actions, NULL },
	{ CLI_CONFIG_GET, cli_config_get, NULL },
	{ CLI_CONFIG_SET, cli_config_set, NULL },
	{ CLI_CONFIG_FIELDS, cli_config_fields, NULL },
	{ CLI_TEMPLATE_SAVE, cli_template_save, NULL },
	{ CLI_DRIFT, cli_drift, NULL },
	{ CLI_APPLY, cli_apply, NULL },
	{ CLI_CLONE, cli_clone, NULL },
	{ CLI_GROUP_ADD, cli_group_add, NULL },
	{ CLI_GROUP_REMOVE, cli_group_remove, NULL },
	{ CLI_GROUP_LIST, cli_group_list, NULL },
	{ CLI_GROUP_TEMPLATE, cli_group_template, NULL },
	{ CLI_GROUP_SET, cli_group_set, NULL },
	{ CLI_PENDING, cli_pending, NULL },
	{ CLI_SNAPSHOTS, cli_snapshots, NULL },
	{ CLI_CONFIG_RESTORE, cli_config_restore, NULL },
	{ CLI_EXPORT, cli_export, NULL },
	{ CLI_IMPORT, cli_import, NULL },
	{ CLI_OPNSENSE_SYNC, cli_opnsense_sync, NULL },
	{ CLI_HEALTH_CHECK, cli_health_check, NULL },
	{ CLI_AGENT_ENROL, cli_agent_enrol, NULL },
	{ CLI_PROVISION, cli_provision, NULL },
	{ CLI_PROVISION_CSV, cli_provision, NULL },
	{ CLI_TASKS, cli_tasks, NULL },
	{ CLI_TASK_CANCEL, cli_task_cancel, NULL },
	{ CLI_AGENTS, cli_agents, NULL },
	{ CLI_AGENT_REVOKE, cli_agent_revoke, NULL },
};

/*
 * rc, or EXIT_FAIL when what was printed did not all reach stdout (a full disk under a cron
 * job's redirection: the inventory would be empty or cut, and the exit status 0). A reader
 * that went away (EPIPE, SIGPIPE being ignored) has what it wanted: no message for it.
 */
static int
stdout_done(int rc)
{
	int e = fflush(stdout) == 0 ? 0 : errno;

	if (e == 0 && !ferror(stdout))
		return rc;
	if (e != EPIPE)
		fprintf(stderr, "shelly-tui: standard output: %s\n", e ? strerror(e) : "write error");
	return rc == EXIT_OK ? EXIT_FAIL : rc;
}

int
main(int argc, char **argv)
{
	struct app app;
	size_t i;
	int rc;

	rc = app_init(&app, argc, argv);
	if (rc != EXIT_OK) {
		app_done(&app);
		return rc;
	}
	for (i = 0; i < sizeof modes / sizeof modes[0] && modes[i].mode != app.args.mode; i++)
		;
	if (i < sizeof modes / sizeof modes[0] && modes[i].print != NULL) {
		modes[i].print(stdout);
		rc = EXIT_OK;
	} else if (i < sizeof modes / sizeof modes[0])
		rc = modes[i].run(&app);
	else if (app.args.mode < 0)
		rc = tui_run(&app); /* no mode: the full-screen console */
	else {
		fprintf(stderr, "shelly-tui: --%s is not wired to a function (a bug)\n",
		    cli_option_name((enum cli_option)app.args.mode));
		rc = EXIT_FAIL;
	}
	app_done(&app);
	return stdout_done(rc);
}
