#ifndef CLI_APP_H
#define CLI_APP_H

/*
 * What one run of shelly-tui holds (STYLE.md: everything hangs off one struct app): the
 * command line, the configuration, the loop, the HTTP client behind the network guard, and the
 * store once a mode opens it. The mode functions (cli_probe, cli_headless, ...) return the
 * process exit status: 0 ok, 1 runtime failure, 2 usage error.
 */
#include <stdint.h>

#include "cli/args.h"
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
	char *config_path;
	struct loop *loop;
	struct http *http;
	struct guard *guard;
	struct store *store;
	char *db_path;
};

/* Sets up config, loop, guard and HTTP client. Returns an exit status (0 to go on). */
int app_init(struct app *app, int argc, char **argv);
/* Frees what app holds. */
void app_done(struct app *app);
/* Opens the store (--db, config db, default path). Returns 0, or -1 (message printed). */
int app_open_store(struct app *app);
/* Returns 1 when the database app_open_store would open exists already, else 0. */
int app_store_exists(struct app *app);
/*
 * Splits HOST[:PORT] ("10.0.0.5", "10.0.0.5:8080", "[::1]:80", "::1") into host (malloc'd)
 * and port (0 when absent). Returns 0, or -1 with *cause.
 */
int app_parse_hostport(const char *s, char **host, uint16_t *port, char **cause);
/*
 * The password for --user: --password-file, else SHELLY_TUI_PASSWORD, else a prompt on the
 * tty when there is one (echo off). Returns a malloc'd secret (free with conf_secret_free)
 * or NULL when none is to be had (*cause says why, or NULL when none was asked for).
 */
char *app_password(struct app *app, int must, char **cause);
/*
 * mDNS goes to the multicast group 224.0.0.251 on every interface avahi uses, so it obeys the
 * network guard like any probe: with SHELLY_TUI_ALLOW_NETS set it is used only when the list
 * includes 224.0.0.251. Returns 1 when allowed, else 0 with *why (static text).
 */
int app_mdns_allowed(const struct app *app, const char **why);
/* Runs the loop until *done is set; returns 0 (or -1 if the loop failed). */
int app_run_until(struct app *app, const int *done);

/*
 * Registers the configuration file's `device` lines (identified by /shelly, merged by MAC,
 * named as configured). app_sync_config_devices runs the loop until done (not from inside a
 * loop callback); cfgsync_start does it in the background and calls done(arg) from the loop
 * when the registry is updated (NULL, and no call, when nothing was missing).
 */
struct cfgsync;
int app_sync_config_devices(struct app *app);
struct cfgsync *cfgsync_start(struct app *app, void (*done)(void *), void *arg);
void cfgsync_free(struct cfgsync *cs);

int cli_probe(struct app *app);
int cli_add(struct app *app);
int cli_remove(struct app *app);
int cli_list(struct app *app);
int cli_poll_once(struct app *app);
int cli_headless(struct app *app);
int cli_backup_db(struct app *app);
/* --discover [TARGET ...]: mDNS and scan, merged into the registry, printed. */
int cli_discover(struct app *app);
/* --action ACTION TARGET...: one device action on each TARGET, results printed per device. */
int cli_action(struct app *app);
/* --list-actions: one line per device action (name, what it needs, help). */
int cli_list_actions(struct app *app);
/* Prints the --poll-once --json result: the registry with the fresh status of every device. */
int cli_print_poll_summary(struct app *app);

#endif
