/* --snapshots and --config-restore: a device's configuration history (cli/snapshotcmd.h). */
#include "cli/snapshotcmd.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "cli/app.h"
#include "cli/configcmd.h"
#include "cli/print.h"
#include "engine/registry.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct snaps {
	long long want; /* the id asked for, 0 all */
	cJSON *arr;
	char *body; /* of the one asked for */
};

static cJSON *
snap_object(const struct cfgstore_row *r)
{
	cJSON *o = cJSON_CreateObject();
	time_t t = (time_t)(r->ts_ms / 1000);
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddNumberToObject(o, "ts_ms", (double)r->ts_ms);
	if (r->has_rev)
		cJSON_AddNumberToObject(o, "cfg_rev", r->rev);
	else
		cJSON_AddNullToObject(o, "cfg_rev");
	cJSON_AddStringToObject(o, "source", r->reason != NULL ? r->reason : "");
	cJSON_AddNumberToObject(o, "gen", r->gen);
	return o;
}

static int
snap_cb(const struct cfgstore_row *r, void *arg)
{
	struct snaps *s = arg;

	if (s->want != 0 && r->id != s->want)
		return 0;
	cJSON_AddItemToArray(s->arr, snap_object(r));
	if (s->want != 0) {
		s->body = xstrdup(r->body != NULL ? r->body : "");
		return 1;
	}
	return 0;
}

/*
 * The registered device DEVICE and its snapshots (all, or --snapshot ID) into s. Returns the
 * device's MAC (malloc'd), or NULL with the reason printed and *rc set.
 */
static char *
load(struct app *app, const char *verb, struct snaps *s, int *rc)
{
	struct store_device *reg;
	char *cause = NULL, *mac;

	*rc = 2;
	memset(s, 0, sizeof *s);
	if (app->args.set[CLI_SNAPSHOT] &&
	    str_parse_int(app->args.val[CLI_SNAPSHOT], 1, INT64_MAX, &s->want) != 0) {
		fprintf(stderr, "shelly-tui: --snapshot wants a snapshot id from --snapshots\n");
		return NULL;
	}
	if (app_open_store(app) != 0) {
		fprintf(stderr, "shelly-tui: --%s needs the database\n", verb);
		*rc = 1;
		return NULL;
	}
	if ((reg = registry_find(app_engine(app), app->args.mode_arg, &cause)) == NULL) {
		fprintf(stderr, "shelly-tui: --%s: ", verb);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		return NULL;
	}
	mac = xstrdup(reg->mac);
	store_device_free(reg);
	s->arr = cJSON_CreateArray();
	if (cfgstore_snapshots(app->store, mac, CFGSTORE_SNAPSHOTS_KEPT, snap_cb, s, &cause) != 0) {
		fprintf(stderr, "shelly-tui: --%s: ", verb);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		*rc = 1;
	} else if (s->want != 0 && s->body == NULL) {
		fprintf(stderr, "shelly-tui: --%s: %s has no snapshot %lld (see --snapshots)\n",
		    verb, mac, s->want);
		*rc = 1;
	} else
		return mac;
	free(mac);
	cJSON_Delete(s->arr);
	free(s->body);
	return NULL;
}

/* The snapshot's configuration; 0, or -1 with the reason printed. */
static int
parse_body(const char *verb, const struct snaps *s, struct devconfig *c)
{
	char *cause = NULL;

	if (devconfig_snapshot_parse(s->body, strlen(s->body), c, &cause) == 0)
		return 0;
	fprintf(stderr, "shelly-tui: --%s: snapshot %lld cannot be read: ", verb, s->want);
	print_safe(stderr, cause);
	fputc('\n', stderr);
	free(cause);
	return -1;
}

static void
print_row(const cJSON *o)
{
	const cJSON *rev = cJSON_GetObjectItemCaseSensitive(o, "cfg_rev");

	printf("%-6.0f %s  cfg_rev ", cJSON_GetObjectItemCaseSensitive(o, "id")->valuedouble,
	    cJSON_GetObjectItemCaseSensitive(o, "time")->valuestring);
	if (cJSON_IsNumber(rev))
		printf("%-8.0f ", rev->valuedouble);
	else
		fputs("-        ", stdout);
	print_safe(stdout, cJSON_GetObjectItemCaseSensitive(o, "source")->valuestring);
	fputc('\n', stdout);
}

/* --snapshot ID: the snapshot's fields, as a template (text) or an object (--json). */
static int
show_one(struct app *app, const char *mac, const struct snaps *s, cJSON *doc)
{
	struct devconfig c;
	cJSON *o = s->arr->child;

	if (parse_body("snapshots", s, &c) != 0)
		return 1;
	if (app->args.set[CLI_JSON]) {
		cJSON_AddItemToObject(o, "config", cli_config_object(&c, false));
		cJSON_AddItemReferenceToObject(doc, "snapshot", o);
		char *text = json_print(doc, 1);
		puts(text);
		free(text);
	} else {
		printf("# %s ", mac);
		print_row(o);
		devconfig_template_write(&c, NULL, stdout);
	}
	devconfig_done(&c);
	return 0;
}

int
cli_snapshots(struct app *app)
{
	struct snaps s;
	cJSON *doc;
	char *mac;
	int rc;

	if ((mac = load(app, "snapshots", &s, &rc)) == NULL)
		return rc;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "mac", mac);
	if (s.want != 0)
		rc = show_one(app, mac, &s, doc);
	else if (app->args.set[CLI_JSON]) {
		cJSON_AddItemReferenceToObject(doc, "snapshots", s.arr);
		char *text = json_print(doc, 1);
		puts(text);
		free(text);
		rc = 0;
	} else {
		if (s.arr->child == NULL)
			puts("no snapshots");
		for (const cJSON *o = s.arr->child; o != NULL; o = o->next)
			print_row(o);
		rc = 0;
	}
	cJSON_Delete(doc);
	cJSON_Delete(s.arr);
	free(s.body);
	free(mac);
	return rc;
}

/*
 * Leaves out of c the fields a desired configuration refuses (text as the device reported it:
 * control characters, invalid UTF-8, too long), each named on stderr: a restore writes only
 * what a template could.
 */
static void
leave_out_unsettable(struct devconfig *c)
{
	char name[96], *cause = NULL;
	int i;

	while ((i = devconfig_unsettable(c, name, sizeof name, &cause)) >= 0) {
		fprintf(stderr, "shelly-tui: --config-restore: %s left out: ", name);
		print_safe(stderr, cause);
		fputs(
		    " (as the device reported it; a restore writes only what a template accepts)\n",
		    stderr);
		free(cause);
		cause = NULL;
		devconfig_unset(c, c->e[i].field, c->e[i].index);
	}
}

int
cli_config_restore(struct app *app)
{
	struct devconfig c;
	struct snaps s;
	char *mac;
	int rc;

	if (!app->args.set[CLI_SNAPSHOT]) {
		fputs("shelly-tui: --config-restore DEVICE: give --snapshot ID (see --snapshots)\n",
		    stderr);
		return 2;
	}
	if ((mac = load(app, "config-restore", &s, &rc)) == NULL)
		return rc;
	if (parse_body("config-restore", &s, &c) == 0) {
		leave_out_unsettable(&c);
		rc = cli_config_apply_one(app, "config-restore", mac, &c);
		devconfig_done(&c);
	} else
		rc = 1;
	cJSON_Delete(s.arr);
	free(s.body);
	free(mac);
	return rc;
}
