/* --add, --remove, --list, --backup-db: the device registry from the command line. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/app.h"
#include "cli/probe.h"
#include "cli/registrycmd.h"
#include "conf/conf.h"
#include "cli/print.h"
#include "engine/registry.h"
#include "model/object.h"
#include "store/store.h"
#include "util/cells.h"
#include "util/hostport.h"
#include "util/str.h"
#include "util/xmalloc.h"

static void
add_done_cb(const struct registry_result *r, void *arg)
{
	struct device_run *ar = arg;
	struct app *app = ar->app;
	char *at;

	ar->done = 1;
	if (r->rc != 0) {
		fprintf(stderr, "shelly-tui: --add %s: ", app->args.mode_arg);
		print_safe(stderr, r->cause[0] ? r->cause : "no answer");
		fputc('\n', stderr);
		ar->rc = EXIT_FAIL;
		return;
	}
	ar->rc = EXIT_OK;
	if (r->warning[0] != '\0') {
		fprintf(stderr, "shelly-tui: warning: --add %s: registered, but its status could "
		                "not be read: ", app->args.mode_arg);
		print_safe(stderr, r->warning);
		fputc('\n', stderr);
	}
	if (app->args.set[CLI_JSON]) {
		print_probe(stdout, 1, r->ident, r->host, r->port, r->https, r->state,
		    r->warning[0] ? r->warning : NULL, r->status);
		return;
	}
	printf("%s ", r->updated ? "updated" : "added");
	print_safe(stdout, r->ident->id);
	printf(" (");
	print_safe(stdout, r->ident->model);
	printf(", gen %d, mac %s) at ", r->ident->gen, r->ident->mac);
	at = hostport_format(r->host, r->port, r->https ? "https" : "http");
	print_safe(stdout, at);
	free(at);
	printf("%s\n", r->with_credentials ? " with credentials" : "");
}

int
cli_add(struct app *app)
{
	return cli_device_run(app, "--add", 1, add_done_cb);
}

int
cli_remove(struct app *app)
{
	struct store_device *d;
	char *cause = NULL;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	/* The device registry_remove finds (by MAC, id or a name given to one device), to name it. */
	d = registry_find(app_engine(app), app->args.mode_arg, &cause);
	free(cause);
	cause = NULL;
	if (registry_remove(app_engine(app), app->args.mode_arg, "cli", NULL, NULL, &cause) != 0) {
		print_cause("--remove: ", cause);
		free(cause);
		store_device_free(d);
		return EXIT_FAIL;
	}
	if (!app->args.set[CLI_QUIET] && d != NULL) {
		printf("removed ");
		print_safe(stdout, d->id);
		printf(" (mac %s)\n", d->mac);
	}
	store_device_free(d);
	return EXIT_OK;
}

struct list_ctx {
	struct app *app;
	cJSON *devices;
	size_t n;
	size_t by_state[DEVICE_STATE_COUNT + 1];
	char *cause; /* a status that could not be read */
};

/* The device object of a registered device: its stored status, completed from the registry. */
static cJSON *
registered_object(struct store *s, const struct store_device *d, const struct store_status *st)
{
	struct registry_view rv;
	cJSON *obj;

	registry_view_init(&rv, d, st);
	registry_view_names(&rv, s);
	obj = device_to_cjson(&rv.v);
	registry_view_done(&rv);
	return obj;
}

/*
 * One column of the table: s sanitised (what a device supplied), "-" when none, cut to width
 * terminal cells (never half a wide character) and padded to them: a count of bytes or of
 * characters would cut and pad a name in another script wrong, and shift the columns after it.
 */
static void
print_cell(const char *s, int width)
{
	char *v = str_sanitize(s != NULL && s[0] != '\0' ? s : "-", 0);
	int used;
	size_t at = cells_fit(v, width, &used);

	printf("%.*s%*s ", (int)at, v, width - used, "");
	free(v);
}

static int
list_cb(const struct store_device *d, void *arg)
{
	struct list_ctx *lc = arg;
	struct store_status *st = NULL;
	enum device_state state = DEVICE_OFFLINE;
	int known;

	/* An unreadable status is an error, not a device never polled. */
	if (store_status_read(lc->app->store, d->mac, &st, &lc->cause) < 0)
		return 1;
	known = st != NULL && device_state_parse(st->state, &state) == 0;
	lc->n++;
	lc->by_state[known ? state : DEVICE_STATE_COUNT]++;
	if (lc->devices != NULL)
		cJSON_AddItemToArray(lc->devices, registered_object(lc->app->store, d, st));
	else {
		char seen[32] = "never";
		if (d->last_seen_ms > 0) {
			time_t t = (time_t)(d->last_seen_ms / 1000);
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(seen, sizeof seen, "%Y-%m-%d %H:%M", &tm);
		}
		printf("%-12s ", d->mac);
		print_cell(d->id, 32);
		print_cell(d->name, 20);
		print_cell(d->model, 15);
		char *at = d->host ? hostport_format(d->host, (unsigned)d->port, d->scheme) : NULL;
		/* Never cut: a cut host:port shows a wrong port (an IPv6 host is long). */
		printf("%d %-21s %-13s %s\n", d->gen, at ? at : "-",
		    known ? device_state_name(state) : "unknown", seen);
		free(at);
	}
	store_status_free(st);
	return 0;
}

static cJSON *
summary_object(const struct list_ctx *lc)
{
	cJSON *sum = cJSON_CreateObject();

	cJSON_AddNumberToObject(sum, "devices", (double)lc->n);
	for (int s = 0; s < DEVICE_STATE_COUNT; s++)
		cJSON_AddNumberToObject(sum, device_state_name((enum device_state)s),
		    (double)lc->by_state[s]);
	/* The devices no run has polled: their state is "unknown" (registry_view_init). */
	cJSON_AddNumberToObject(sum, "unknown", (double)lc->by_state[DEVICE_STATE_COUNT]);
	return sum;
}

/* Prints the registry as the shared list object or a table. Returns 0 or -1. */
static int
print_registry(struct app *app, int json, struct list_ctx *lc)
{
	char *cause = NULL;

	memset(lc, 0, sizeof *lc);
	lc->app = app;
	if (json)
		lc->devices = cJSON_CreateArray();
	else
		printf("%-12s %-32s %-20s %-15s G %-21s %-13s %s\n", "MAC", "ID", "NAME", "MODEL",
		    "HOST", "STATE", "LAST SEEN");
	if (store_device_list(app->store, list_cb, lc, &cause) != 0 || lc->cause != NULL) {
		print_cause("", cause != NULL ? cause : lc->cause);
		free(cause);
		free(lc->cause);
		cJSON_Delete(lc->devices);
		return -1;
	}
	if (json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddItemToObject(root, "devices", lc->devices);
		cJSON_AddItemToObject(root, "summary", summary_object(lc));
		print_json_doc(stdout, root);
	}
	return 0;
}

int
cli_list(struct app *app)
{
	struct list_ctx lc;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	return print_registry(app, app->args.set[CLI_JSON] > 0, &lc) == 0 ? EXIT_OK : EXIT_FAIL;
}

int
cli_print_poll_summary(struct app *app)
{
	struct list_ctx lc;

	return print_registry(app, 1, &lc) == 0 ? EXIT_OK : EXIT_FAIL;
}

int
cli_backup_db(struct app *app)
{
	char *cause = NULL;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	if (store_backup(app->store, app->args.mode_arg, &cause) != 0) {
		print_cause("--backup-db: ", cause);
		free(cause);
		return EXIT_FAIL;
	}
	if (!app->args.set[CLI_QUIET])
		printf("database copied to %s\n", app->args.mode_arg);
	return EXIT_OK;
}
