/* shelly-tui: one console for a fleet of Shelly devices. See shelly-tui(1). */
#include <stdio.h>
#include <stdlib.h>

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
#include "cli/registry.h"
#include "conf/conf.h"
#include "server/exporter.h"
#include "tui/tui.h"
#include "util/datadir.h"

#ifndef SHELLY_TUI_VERSION
#define SHELLY_TUI_VERSION "0.1.0"
#endif

static int
help(struct app *app)
{
	(void)app;
	cli_usage(stdout);
	return EXIT_OK;
}

static int
version(struct app *app)
{
	(void)app;
	printf("shelly-tui %s\ndata directory: %s\n", SHELLY_TUI_VERSION, datadir());
	return EXIT_OK;
}

static int
list_options(struct app *app)
{
	(void)app;
	conf_list_options(stdout);
	return EXIT_OK;
}

static int
list_keys(struct app *app)
{
	(void)app;
	tui_list_keys(stdout);
	return EXIT_OK;
}

static int
list_metrics(struct app *app)
{
	(void)app;
	exporter_list_metrics(stdout);
	return EXIT_OK;
}

/* Every mode and the function that runs it (returning the exit status). */
static const struct {
	int mode;
	int (*run)(struct app *app);
} modes[] = {
	{ CLI_HELP, help },
	{ CLI_VERSION, version },
	{ CLI_LIST_OPTIONS, list_options },
	{ CLI_LIST_METRICS, list_metrics },
	{ CLI_LIST_KEYS, list_keys },
	{ CLI_PROBE, cli_probe },
	{ CLI_ADD, cli_add },
	{ CLI_REMOVE, cli_remove },
	{ CLI_LIST, cli_list },
	{ CLI_POLL_ONCE, cli_poll_once },
	{ CLI_HEADLESS, cli_headless },
	{ CLI_BACKUP_DB, cli_backup_db },
	{ CLI_DISCOVER, cli_discover },
	{ CLI_ACTION, cli_action },
	{ CLI_LIST_ACTIONS, cli_list_actions },
	{ CLI_CONFIG_GET, cli_config_get },
	{ CLI_CONFIG_SET, cli_config_set },
	{ CLI_CONFIG_FIELDS, cli_config_fields },
	{ CLI_TEMPLATE_SAVE, cli_template_save },
	{ CLI_DRIFT, cli_drift },
	{ CLI_APPLY, cli_apply },
	{ CLI_CLONE, cli_clone },
	{ CLI_GROUP_ADD, cli_group_add },
	{ CLI_GROUP_REMOVE, cli_group_remove },
	{ CLI_GROUP_LIST, cli_group_list },
	{ CLI_GROUP_TEMPLATE, cli_group_template },
	{ CLI_GROUP_SET, cli_group_set },
	{ CLI_PENDING, cli_pending },
	{ CLI_EXPORT, cli_export },
	{ CLI_IMPORT, cli_import },
	{ CLI_OPNSENSE_SYNC, cli_opnsense_sync },
	{ CLI_HEALTH_CHECK, cli_health_check },
	{ CLI_AGENT_ENROL, cli_agent_enrol },
	{ CLI_PROVISION, cli_provision },
	{ CLI_PROVISION_CSV, cli_provision },
	{ CLI_TASKS, cli_tasks },
	{ CLI_TASK_CANCEL, cli_task_cancel },
	{ CLI_AGENTS, cli_agents },
};

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
	if (i < sizeof modes / sizeof modes[0])
		rc = modes[i].run(&app);
	else if (app.args.mode < 0)
		rc = tui_run(&app); /* no mode: the full-screen console */
	else {
		fprintf(stderr, "shelly-tui: --%s is not wired to a function (a bug)\n",
		    cli_option_name((enum cli_option)app.args.mode));
		rc = EXIT_FAIL;
	}
	app_done(&app);
	return rc;
}
