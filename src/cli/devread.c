#include "cli/devread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "util/guard.h"
#include "util/xmalloc.h"

static void
read_fail(struct devread *dr, enum http_result result, const char *cause)
{
	free(dr->error);
	if (result == HTTP_AUTH_REQUIRED || result == HTTP_AUTH_FAILED)
		dr->error = xstrdup(cause); /* the state already names the result */
	else
		dr->error = xasprintf("%s: %s", http_result_name(result), cause);
	switch (result) {
	case HTTP_AUTH_REQUIRED:
		dr->state = DEVICE_AUTH_REQUIRED;
		break;
	case HTTP_AUTH_FAILED:
		dr->state = DEVICE_AUTH_FAILED;
		break;
	case HTTP_TIMEOUT:
	case HTTP_REFUSED:
	case HTTP_UNREACHABLE:
	case HTTP_RESET:
	case HTTP_REFUSED_BY_GUARD:
		dr->state = DEVICE_OFFLINE;
		break;
	default:
		dr->state = DEVICE_ERROR;
	}
	dr->done = 1;
}

static void
config_cb(const struct shelly_reply *r, void *arg)
{
	struct devread *dr = arg;

	if (r->result == HTTP_CANCELLED)
		return; /* the run is over: arg may be gone */
	/* Settings complete the identity (Gen1 id, names); a failure does not fail the read. */
	if (r->result == HTTP_OK && r->settings != NULL)
		gen1_settings_apply(r->settings, &dr->ident, &dr->status);
	else if (r->result == HTTP_OK && r->config != NULL)
		gen2_config_apply(r->config, &dr->ident, &dr->status);
	dr->done = 1;
}

static void
status_cb(const struct shelly_reply *r, void *arg)
{
	struct devread *dr = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	if (r->result != HTTP_OK) {
		read_fail(dr, r->result, r->cause);
		return;
	}
	device_status_copy(&dr->status, r->status);
	device_ident_update_from_status(&dr->ident, &dr->status);
	dr->have_status = 1;
	dr->state = DEVICE_ONLINE;
	shelly_config(dr->app->http, &dr->t, config_cb, dr);
}

static void
ident_cb(const struct shelly_reply *r, void *arg)
{
	struct devread *dr = arg;
	struct app *app;
	char *cause = NULL;

	if (r->result == HTTP_CANCELLED)
		return;
	app = dr->app;
	if (r->result != HTTP_OK) {
		read_fail(dr, r->result, r->cause);
		return;
	}
	dr->ident = *r->ident;
	dr->have_ident = 1;
	if (r->pin != NULL)
		dr->pin = xstrdup(r->pin);
	dr->t.gen = dr->ident.gen;
	/* From here on, status replies must carry the MAC /shelly showed. */
	dr->t.mac = dr->ident.mac[0] ? dr->ident.mac : NULL;
	if (dr->ident.auth_en == 1 || app->args.set[CLI_USER] || app->args.set[CLI_PASSWORD_FILE]) {
		dr->password = app_password(app, dr->ident.auth_en == 1, &cause);
		if (dr->password == NULL && cause != NULL) {
			read_fail(dr, HTTP_AUTH_REQUIRED, cause);
			free(cause);
			return;
		}
		if (dr->password != NULL) {
			dr->t.user = dr->ident.gen >= 2 ? "admin" :
			    (app->args.set[CLI_USER] ? app->args.val[CLI_USER] : "admin");
			dr->t.password = dr->password;
		}
	}
	shelly_status(app->http, &dr->t, status_cb, dr);
}

int
devread_init(struct devread *dr, struct app *app, const char *what, const char *hostport)
{
	char *cause = NULL;

	memset(dr, 0, sizeof *dr);
	dr->app = app;
	device_ident_init(&dr->ident);
	device_status_init(&dr->status);
	dr->state = DEVICE_ERROR;
	if (app_parse_hostport(hostport, &dr->host, &dr->t.port, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s: %s\n", what, cause);
		free(cause);
		return EXIT_USAGE;
	}
	if (guard_check(app->guard, dr->host, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return EXIT_FAIL;
	}
	dr->t.host = dr->host;
	dr->t.https = app->args.set[CLI_HTTPS] > 0;
	conf_target(app->cfg, &dr->t);
	dr->t.lane_limit = 1;
	return EXIT_OK;
}

void
devread_run(struct devread *dr)
{
	shelly_identify(dr->app->http, &dr->t, ident_cb, dr);
	app_run_until(dr->app, &dr->done);
}

void
devread_done(struct devread *dr)
{
	device_status_done(&dr->status);
	conf_secret_free(dr->password);
	free(dr->error);
	free(dr->pin);
	free(dr->host);
	memset(dr, 0, sizeof *dr);
}
