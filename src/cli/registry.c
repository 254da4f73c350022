/* --add, --remove, --list, --backup-db: the device registry from the command line. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "cli/devread.h"
#include "cli/print.h"
#include "model/object.h"
#include "shelly/client.h"
#include "shelly/gen1.h"
#include "shelly/gen2.h"
#include "shelly/models.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "util/json.h"

/* Where the device's secret lives: the --password-file, or the (0600) database. */
static char *
store_secret(struct app *app, const char *mac, const char *password, char **cause)
{
	char key[64];

	if (app->args.set[CLI_PASSWORD_FILE]) {
		char *abs = realpath(app->args.val[CLI_PASSWORD_FILE], NULL);
		char *ref;
		if (abs == NULL) {
			*cause = xasprintf("%s: cannot resolve", app->args.val[CLI_PASSWORD_FILE]);
			return NULL;
		}
		ref = xasprintf("file:%s", abs);
		free(abs);
		return ref;
	}
	snprintf(key, sizeof key, "secret:%s", mac);
	if (store_setting_set(app->store, key, password, cause) != 0)
		return NULL;
	return xasprintf("store:%s", key);
}

int
cli_add(struct app *app)
{
	struct devread dr;
	struct store_device sd, *old = NULL;
	struct store_event ev;
	struct store_audit au;
	char *cause = NULL, *cred_ref = NULL;
	int rc;
	int64_t now = loop_wall_ms();

	if ((rc = devread_init(&dr, app, "--add", app->args.mode_arg)) != EXIT_OK) {
		devread_done(&dr);
		return rc;
	}
	rc = EXIT_FAIL;
	if (app_open_store(app) != 0)
		goto out;
	/* A registered HTTPS device's pinned key must match unless --accept-cert. */
	old = store_device_find_host(app->store, dr.host, dr.t.port);
	if (old != NULL && dr.t.https && dr.t.tls == HTTP_TLS_PIN && old->tls_pin &&
	    old->tls_pin[0] && !app->args.set[CLI_ACCEPT_CERT])
		dr.t.pin = old->tls_pin;
	devread_run(&dr);
	if (!dr.have_status) {
		fprintf(stderr, "shelly-tui: --add %s: ", app->args.mode_arg);
		print_safe(stderr, dr.error ? dr.error : "no answer");
		fputc('\n', stderr);
		goto out;
	}
	if (dr.ident.mac[0] == '\0') {
		fprintf(stderr, "shelly-tui: --add %s: the device reported no MAC address\n",
		    app->args.mode_arg);
		goto out;
	}
	store_device_free(old);
	old = store_device_find_mac(app->store, dr.ident.mac);
	if (dr.password != NULL &&
	    (cred_ref = store_secret(app, dr.ident.mac, dr.password, &cause)) == NULL) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		goto out;
	}

	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, dr.ident.mac, sizeof sd.mac);
	sd.id = dr.ident.id;
	sd.gen = dr.ident.gen;
	sd.model = dr.ident.model;
	sd.app = dr.ident.app;
	sd.fw = dr.ident.fw;
	sd.name = app->args.set[CLI_NAME] ? app->args.val[CLI_NAME] :
	    (dr.ident.name[0] ? dr.ident.name : NULL);
	sd.host = dr.host;
	sd.port = dr.t.port ? dr.t.port : (dr.t.https ? 443 : 80);
	sd.scheme = dr.t.https ? "https" : "http";
	sd.user = dr.t.user;
	sd.cred_ref = cred_ref;
	sd.tls_pin = dr.t.https ? dr.pin : NULL;
	sd.discovered_via = old ? NULL : "manual";
	sd.first_seen_ms = now;
	sd.last_seen_ms = now;
	if (store_device_upsert(app->store, &sd, &cause) != 0) {
		fprintf(stderr, "shelly-tui: cannot store the device: %s\n", cause);
		goto out;
	}
	if (old != NULL && old->host != NULL &&
	    (strcmp(old->host, dr.host) != 0 || old->port != dr.t.port)) {
		char detail[600];
		snprintf(detail, sizeof detail, "%s:%d -> %s:%u", old->host, old->port, dr.host,
		    (unsigned)dr.t.port);
		memset(&ev, 0, sizeof ev);
		ev.ts_ms = now;
		memcpy(ev.mac, dr.ident.mac, sizeof ev.mac);
		ev.kind = "ip_changed";
		ev.detail = detail;
		store_queue_event(app->store, &ev);
	}
	memset(&au, 0, sizeof au);
	au.ts_ms = now;
	au.who = "cli";
	au.action = old ? "update" : "add";
	au.target = dr.ident.mac;
	au.result = "ok";
	au.detail = dr.host;
	store_audit_append(app->store, &au, NULL);
	if (store_flush(app->store, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		goto out;
	}
	if (app->args.set[CLI_JSON]) {
		print_probe(stdout, 1, &dr.ident, dr.host, dr.t.port, dr.t.https, DEVICE_ONLINE,
		    NULL, &dr.status);
	} else {
		printf("%s ", old ? "updated" : "added");
		print_safe(stdout, dr.ident.id);
		printf(" (");
		print_safe(stdout, dr.ident.model);
		printf(", gen %d, mac %s) at ", dr.ident.gen, dr.ident.mac);
		print_safe(stdout, dr.host);
		printf("%s\n", dr.password ? " with credentials" : "");
	}
	rc = EXIT_OK;
out:
	free(cause);
	free(cred_ref);
	store_device_free(old);
	devread_done(&dr);
	return rc;
}

int
cli_remove(struct app *app)
{
	struct store_device *d;
	struct store_audit au;
	char *cause = NULL;
	char key[64];
	int r;

	if (app_open_store(app) != 0)
		return EXIT_FAIL;
	d = store_device_find(app->store, app->args.mode_arg);
	r = store_device_remove(app->store, app->args.mode_arg, &cause);
	if (r < 0) {
		fprintf(stderr, "shelly-tui: --remove: %s\n", cause);
		free(cause);
		store_device_free(d);
		return EXIT_FAIL;
	}
	if (r == 0 || d == NULL) {
		fprintf(stderr, "shelly-tui: --remove: no device '%s'\n", app->args.mode_arg);
		store_device_free(d);
		return EXIT_FAIL;
	}
	snprintf(key, sizeof key, "secret:%s", d->mac);
	store_setting_set(app->store, key, NULL, NULL);
	memset(&au, 0, sizeof au);
	au.ts_ms = loop_wall_ms();
	au.who = "cli";
	au.action = "remove";
	au.target = d->mac;
	au.result = "ok";
	store_audit_append(app->store, &au, NULL);
	if (!app->args.set[CLI_QUIET]) {
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
};

/* The device object of a registered device: its stored status JSON, completed from the registry. */
static cJSON *
registered_object(const struct store_device *d, const struct store_status *st)
{
	struct device_ident id;
	struct device_view v;
	struct device_status *status = NULL;
	cJSON *obj;

	device_ident_init(&id);
	str_copy(id.id, sizeof id.id, d->id ? d->id : "");
	memcpy(id.mac, d->mac, sizeof id.mac);
	id.gen = d->gen;
	str_copy(id.model, sizeof id.model, d->model ? d->model : "");
	str_copy(id.app, sizeof id.app, d->app ? d->app : "");
	str_copy(id.fw, sizeof id.fw, d->fw ? d->fw : "");
	device_fw_version(id.fw, id.fw_version, sizeof id.fw_version);
	if (d->model && models_name(d->model))
		str_copy(id.model_name, sizeof id.model_name, models_name(d->model));
	/* The status row keeps the device's own reply; it is read into the model here, when a
	 * person asks, not on every poll. */
	if (st != NULL && st->json != NULL && d->gen > 0) {
		char *cause = NULL;
		int rc;
		status = xmalloc(sizeof *status);
		rc = d->gen == 1 ? gen1_parse_status(st->json, strlen(st->json), status, &cause) :
		    gen2_parse_status(st->json, strlen(st->json), status, &cause);
		if (rc != 0) {
			free(cause);
			free(status);
			status = NULL;
		} else
			device_ident_update_from_status(&id, status);
	}
	device_view_init(&v);
	v.ident = &id;
	v.host = d->host;
	v.port = d->port;
	v.scheme = d->scheme;
	v.name = d->name && d->name[0] ? d->name : NULL;
	if (st == NULL || device_state_parse(st->state, &v.state) != 0)
		v.state = DEVICE_OFFLINE;
	v.error = st ? st->error : "never polled";
	v.last_seen = d->last_seen_ms / 1000;
	v.status = status;
	obj = device_to_cjson(&v);
	if (status != NULL) {
		device_status_done(status);
		free(status);
	}
	return obj;
}

static int
list_cb(const struct store_device *d, void *arg)
{
	struct list_ctx *lc = arg;
	struct store_status *st = store_status_get(lc->app->store, d->mac);
	enum device_state state = DEVICE_OFFLINE;
	int known = st != NULL && device_state_parse(st->state, &state) == 0;

	lc->n++;
	lc->by_state[known ? state : DEVICE_STATE_COUNT]++;
	if (lc->devices != NULL)
		cJSON_AddItemToArray(lc->devices, registered_object(d, st));
	else {
		char seen[32] = "never";
		if (d->last_seen_ms > 0) {
			time_t t = (time_t)(d->last_seen_ms / 1000);
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(seen, sizeof seen, "%Y-%m-%d %H:%M", &tm);
		}
		printf("%-12s ", d->mac);
		printf("%-32.32s ", d->id ? d->id : "-");
		{
			char *n = str_sanitize(d->name ? d->name : "-", 20);
			printf("%-20s ", n[0] ? n : "-");
			free(n);
		}
		printf("%-15.15s %d %-21.21s %-13s %s\n", d->model ? d->model : "-", d->gen,
		    d->host ? d->host : "-", known ? device_state_name(state) : "never polled",
		    seen);
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
	cJSON_AddNumberToObject(sum, "never_polled", (double)lc->by_state[DEVICE_STATE_COUNT]);
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
	if (store_device_list(app->store, list_cb, lc, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		cJSON_Delete(lc->devices);
		return -1;
	}
	if (json) {
		cJSON *root = cJSON_CreateObject();
		char *text;
		cJSON_AddItemToObject(root, "devices", lc->devices);
		cJSON_AddItemToObject(root, "summary", summary_object(lc));
		text = json_print(root, 1);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(root);
	}
	return 0;
}

int
cli_list(struct app *app)
{
	struct list_ctx lc;

	if (app_open_store(app) != 0)
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

	if (app_open_store(app) != 0)
		return EXIT_FAIL;
	if (store_backup(app->store, app->args.mode_arg, &cause) != 0) {
		fprintf(stderr, "shelly-tui: --backup-db: %s\n", cause);
		free(cause);
		return EXIT_FAIL;
	}
	if (!app->args.set[CLI_QUIET])
		printf("database copied to %s\n", app->args.mode_arg);
	return EXIT_OK;
}
