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

int
main(int argc, char **argv)
{
	struct app app;
	int rc;

	rc = app_init(&app, argc, argv);
	if (rc != EXIT_OK) {
		app_done(&app);
		return rc;
	}
	switch (app.args.mode) {
	case CLI_HELP:
		cli_usage(stdout);
		break;
	case CLI_VERSION:
		printf("shelly-tui %s\ndata directory: %s\n", SHELLY_TUI_VERSION, datadir());
		break;
	case CLI_LIST_OPTIONS:
		conf_list_options(stdout);
		break;
	case CLI_PROBE:
		rc = cli_probe(&app);
		break;
	case CLI_ADD:
		rc = cli_add(&app);
		break;
	case CLI_REMOVE:
		rc = cli_remove(&app);
		break;
	case CLI_LIST:
		rc = cli_list(&app);
		break;
	case CLI_POLL_ONCE:
		rc = cli_poll_once(&app);
		break;
	case CLI_HEADLESS:
		rc = cli_headless(&app);
		break;
	case CLI_BACKUP_DB:
		rc = cli_backup_db(&app);
		break;
	case CLI_DISCOVER:
		rc = cli_discover(&app);
		break;
	case CLI_ACTION:
		rc = cli_action(&app);
		break;
	case CLI_LIST_ACTIONS:
		rc = cli_list_actions(&app);
		break;
	case CLI_AGENT_ENROL:
		rc = cli_agent_enrol(&app);
		break;
	case CLI_PROVISION:
	case CLI_PROVISION_CSV:
		rc = cli_provision(&app);
		break;
	case CLI_TASKS:
		rc = cli_tasks(&app);
		break;
	case CLI_TASK_CANCEL:
		rc = cli_task_cancel(&app);
		break;
	case CLI_AGENTS:
		rc = cli_agents(&app);
		break;
	case CLI_LIST_KEYS:
		tui_list_keys(stdout);
		break;
	case CLI_CONFIG_GET:
		rc = cli_config_get(&app);
		break;
	case CLI_CONFIG_SET:
		rc = cli_config_set(&app);
		break;
	case CLI_CONFIG_FIELDS:
		rc = cli_config_fields(&app);
		break;
	case CLI_TEMPLATE_SAVE:
		rc = cli_template_save(&app);
		break;
	case CLI_DRIFT:
		rc = cli_drift(&app);
		break;
	case CLI_APPLY:
		rc = cli_apply(&app);
		break;
	case CLI_CLONE:
		rc = cli_clone(&app);
		break;
	case CLI_GROUP_ADD:
		rc = cli_group_add(&app);
		break;
	case CLI_GROUP_REMOVE:
		rc = cli_group_remove(&app);
		break;
	case CLI_GROUP_LIST:
		rc = cli_group_list(&app);
		break;
	case CLI_GROUP_TEMPLATE:
		rc = cli_group_template(&app);
		break;
	case CLI_GROUP_SET:
		rc = cli_group_set(&app);
		break;
	case CLI_PENDING:
		rc = cli_pending(&app);
		break;
	case CLI_LIST_METRICS:
		exporter_list_metrics(stdout);
		break;
	case CLI_EXPORT:
		rc = cli_export(&app);
		break;
	case CLI_IMPORT:
		rc = cli_import(&app);
		break;
	case CLI_OPNSENSE_SYNC:
		rc = cli_opnsense_sync(&app);
		break;
	case CLI_HEALTH_CHECK:
		rc = cli_health_check(&app);
		break;
	default:
		rc = tui_run(&app);
		break;
	}
	app_done(&app);
	return rc;
}
