/*
 * --opnsense-sync (integrations/opnsense_job.h does the set-up, engine/opnsense_runner.h gives
 * it the engine's loop, client, guard, configuration and store): the report as text or JSON.
 */
#include "cli/opnsensecmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/app.h"
#include "cli/print.h"
#include "conf/conf.h"
#include "engine/opnsense_runner.h"
#include "integrations/opnsense_job.h"
#include "util/json.h"
#include "util/loop.h"
#include "util/str.h"

/* Output */

static const char *
outcome_name(const struct opn_item *it, int dry_run)
{
	if (it->action == OPN_UNCHANGED || it->action == OPN_CONFLICT)
		return "none";
	if (dry_run)
		return "planned";
	switch (it->outcome) {
	case OPN_APPLIED:
		return "applied";
	case OPN_FAILED:
		return "failed";
	case OPN_NOT_RUN:
		return "not_applied";
	case OPN_PLANNED:
		break;
	}
	return "planned";
}

static cJSON *
service_json(const struct opnsense_service *svc)
{
	cJSON *o = cJSON_CreateObject();

	json_add_text(o, "name", svc->name);
	cJSON_AddNumberToObject(o, "saved", (double)svc->saved);
	cJSON_AddStringToObject(o, "reconfigure",
	    svc->reconfigured > 0   ? "ok"
	    : svc->reconfigured < 0 ? "failed"
	                            : "not_needed");
	cJSON_AddBoolToObject(o, "pending", svc->pending);
	json_add_text(o, "status", svc->status);
	json_add_text(o, "error", svc->error);
	return o;
}

static void
print_json(FILE *fp, const char *url, const struct opnsense_report *r)
{
	cJSON *root = cJSON_CreateObject(), *recs, *sum;
	char mac[18];

	json_add_text(root, "url", url);
	json_add_text(root, "backend", r->backend);
	cJSON_AddBoolToObject(root, "dry_run", r->dry_run);
	cJSON_AddBoolToObject(root, "ok", !r->failed);
	json_add_text(root, "error", r->error);
	json_add_text(root, "note", r->note);
	recs = cJSON_AddArrayToObject(root, "records");
	for (size_t i = 0; r->plan != NULL && i < r->plan->nitems; i++) {
		const struct opn_item *it = &r->plan->items[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", it->kind == OPN_ALIAS ? "alias" : "reservation");
		cJSON_AddStringToObject(o, "action", opn_action_name(it->action));
		cJSON_AddStringToObject(o, "result", outcome_name(it, r->dry_run));
		json_add_text(o, "device", it->device);
		json_add_text(
		    o, "mac", it->mac[0] != '\0' ? opn_mac_format(it->mac, mac, sizeof mac) : NULL);
		json_add_text(o, "hostname", it->hostname);
		json_add_text(o, "ip", it->kind == OPN_ALIAS ? NULL : it->ip);
		json_add_text(o, "subnet", it->subnet_text);
		json_add_text(o, "uuid", it->uuid);
		if (it->kind == OPN_ALIAS)
			json_add_text(o, "content", it->content);
		json_add_text(o, "why", it->why);
		json_add_text(o, "error", it->error);
		cJSON_AddItemToArray(recs, o);
	}
	cJSON_AddItemToObject(root, "dhcp", service_json(&r->dhcp));
	cJSON_AddItemToObject(root, "alias", service_json(&r->alias));
	sum = cJSON_AddObjectToObject(root, "summary");
	for (int a = 0; a < OPN_ACTION_COUNT; a++)
		cJSON_AddNumberToObject(sum, opn_action_name((enum opn_action)a),
		    r->plan != NULL ? (double)opn_plan_count(r->plan, (enum opn_action)a) : 0);
	print_json_doc(fp, root);
}

static void
print_text(FILE *fp, const struct opnsense_report *r)
{
	struct strbuf sb;

	strbuf_init(&sb);
	opnsense_report_format(r, &sb);
	fputs(strbuf_str(&sb), fp);
	strbuf_done(&sb);
}

/* --opnsense-sync */

static void
sync_done_cb(struct opnsense_sync *sync, void *arg)
{
	(void)sync;
	*(int *)arg = 1;
}

/* SIGINT or SIGTERM: stop where it is; the lease goes back and what is pending is kept. */
static void
interrupt_cb(void *arg)
{
	loop_stop(arg);
}

int
cli_opnsense_sync(struct app *app)
{
	struct opnsense_env env;
	struct opnsense_sync *sync;
	const struct opnsense_report *r;
	char *cause = NULL;
	int done = 0, rc;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	sync = opnsense_job_begin(opnsense_runner_env(app_engine(app), &env),
	    app->args.set[CLI_DRY_RUN] > 0, sync_done_cb, &done, &cause);
	if (sync == NULL) {
		print_cause("opnsense: ", cause);
		free(cause);
		return EXIT_FAIL;
	}
	app_on_interrupt(app, interrupt_cb, app->loop);
	app_run_until(app, &done);
	r = opnsense_sync_report(sync);
	if (done && !app->args.set[CLI_DRY_RUN] && r->error == NULL) {
		done = 0;
		if (opnsense_sync_apply(sync, sync_done_cb, &done, &cause) != 0)
			abort(); /* a finished dry run without error always applies */
		app_run_until(app, &done);
	}
	if (done && app->args.set[CLI_JSON])
		print_json(stdout, conf_get_str(app->cfg, OPT_OPNSENSE_URL), r);
	else if (done)
		print_text(stdout, r);
	if (!done) {
		r = opnsense_sync_interrupt(sync);
		fprintf(stderr, "shelly-tui: opnsense: interrupted%s\n",
		    r->dhcp.pending || r->alias.pending
		        ? "; changes may have been saved: the next sync makes them live"
		        : "");
	}
	rc = done && !r->failed ? EXIT_OK : EXIT_FAIL;
	opnsense_job_end(opnsense_runner_env(app_engine(app), &env), r);
	opnsense_sync_free(sync);
	return rc;
}
