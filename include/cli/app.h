#ifndef CLI_APP_H
#define CLI_APP_H

/*
 * What one run of shelly-tui holds (STYLE.md: everything hangs off one struct app): the
 * command line, the configuration, the loop, the HTTP client behind the network guard, and the
 * store once a mode opens it. The modes (cli/probe.h, cli/registrycmd.h, cli/headless.h,
 * cli/cmd_discover.h, cli/cmd_action.h, cli/configcmd.h) return the process exit status: 0 ok,
 * 1 runtime failure, 2 usage error, 3 drift found (--drift).
 */
#include <stdint.h>

#include "cli/args.h"
#include "engine/creds.h"
#include "engine/engine.h"
#include "net/http.h"

struct conf;
struct loop;
struct http;
struct guard;
struct store;

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct app {
	struct cli_args args;
	struct conf *cfg;
	char *config_path; /* --config; NULL: the default file, missing is no error */
	struct loop *loop;
	struct http *http;
	struct guard *guard;
	struct store *store;
	char *db_path;
	struct creds *creds;
	struct engine eng;	/* see app_engine */
	void (*interrupt_cb)(void *arg); /* see app_on_interrupt */
	void *interrupt_arg;
	int interrupted; /* SIGINT or SIGTERM came (count) */
};

/*
 * The checks of cfg that span options or belong to a front end (lease times, bind and color
 * lines, --theme): what makes every mode refuse a file at start, and a reload refuse it too.
 * Returns 0, or -1 and *cause.
 */
int app_config_check(const struct app *app, const struct conf *cfg, char **cause);
/* Sets up config, loop, guard and HTTP client. Returns an exit status (0 to go on). */
int app_init(struct app *app, int argc, char **argv);
/*
 * Applies the process-wide settings of app->cfg (json-max-depth, log-level unless -v or -q,
 * max-concurrency): at start and whenever the
 * configuration is reloaded (the fleet's FLEET_EV_CONF, after app->cfg follows it).
 */
void app_conf_changed(struct app *app);
/* Frees what app holds. */
void app_done(struct app *app);
/* Opens the store (--db, config db, default path). Returns 0, or -1 (message printed). */
int app_open_store(struct app *app);
/*
 * app_open_store for a mode that only reads: a missing database is not created but fails
 * with "no database at PATH" and how to make one. Returns 0, or -1 (message printed).
 */
int app_open_existing_store(struct app *app);
/*
 * app_open_existing_store for a mode that reads the registry when there is one: a missing
 * database is no error and app->store stays NULL. Returns 0, or -1 (message printed).
 */
int app_open_store_if_any(struct app *app);
/*
 * The engine context of this run (engine/engine.h), brought up to date with the fields
 * above (the credential resolver is made on first use). Pass it to engine services.
 */
struct engine *app_engine(struct app *app);
/*
 * Makes the credential resolver from --user, --password-file and SHELLY_TUI_PASSWORD, asking
 * prompt_cb (the front end's) when those give nothing; nothing when app has one already.
 */
void app_creds_start(struct app *app, creds_prompt_cb prompt_cb, void *prompt_arg);
/*
 * From now on the first SIGINT or SIGTERM calls cb(arg) from the loop, so a run can wind down
 * and still report and audit what it did; a second one ends the program at once.
 */
void app_on_interrupt(struct app *app, void (*cb)(void *arg), void *arg);
/* Runs the loop until *done is set; returns 0 (or -1 if the loop failed). */
int app_run_until(struct app *app, const int *done);

#endif
