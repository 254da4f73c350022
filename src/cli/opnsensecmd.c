/*
 * --opnsense-sync and the periodic sync of --headless (integrations/opnsense_job.h does the
 * set-up): the report out as text or JSON, and in /metrics.
 */
#include "cli/opnsensecmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/app.h"
#include "cli/print.h"
#include "conf/conf.h"
#include "integrations/opnsense_job.h"
#include "server/metrics.h"
#include "util/json.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

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

/* What the jobs use, from app (built at each use: SIGHUP replaces app->cfg). */
const struct opnsense_env *
opnsense_env_of(struct app *app, struct opnsense_env *env)
{
	env->loop = app->loop;
	env->http = app->http;
	env->guard = app->guard;
	env->cfg = app->cfg;
	env->store = app->store;
	return env;
}

/* --opnsense-sync */

static void
sync_done_cb(struct opnsense_sync *sync, void *arg)
{
	(void)sync;
	*(int *)arg = 1;
}

int
cli_opnsense_sync(struct app *app)
{
	struct opnsense_env env;
	struct opnsense_sync *sync;
	const struct opnsense_report *r;
	char *cause = NULL;
	int done = 0, rc;

	if (app_open_store(app) != 0)
		return EXIT_FAIL;
	sync = opnsense_job_begin(opnsense_env_of(app, &env), app->args.set[CLI_DRY_RUN] > 0,
	    sync_done_cb, &done, &cause);
	if (sync == NULL) {
		fprintf(stderr, "shelly-tui: opnsense: %s\n", cause);
		free(cause);
		return EXIT_FAIL;
	}
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
	rc = done && !r->failed ? EXIT_OK : EXIT_FAIL;
	opnsense_job_end(opnsense_env_of(app, &env), done ? r : NULL);
	opnsense_sync_free(sync);
	return rc;
}

/* --headless */

struct opnsense_runner {
	struct app *app;
	struct loop_timer *timer;
	struct opnsense_sync *sync;
	uint64_t interval_ms;
	int64_t last_ms; /* wall clock of the last finished sync, 0 none */
	int last_ok;
	size_t counts[OPN_ACTION_COUNT];
	uint64_t runs_ok, runs_failed;
};

static void
runner_done_cb(struct opnsense_sync *sync, void *arg)
{
	struct opnsense_runner *r = arg;
	const struct opnsense_report *rep = opnsense_sync_report(sync);
	struct opnsense_env env;
	char *cause = NULL;

	if (rep->dry_run && rep->error == NULL) { /* the plan is made: apply it */
		if (opnsense_sync_apply(sync, runner_done_cb, r, &cause) == 0)
			return;
		free(cause);
	}
	r->last_ms = rep->finished_ms;
	opnsense_job_end(opnsense_env_of(r->app, &env), rep);
	r->last_ok = !rep->failed;
	for (int a = 0; a < OPN_ACTION_COUNT; a++)
		r->counts[a] =
		    rep->plan != NULL ? opn_plan_count(rep->plan, (enum opn_action)a) : 0;
	if (rep->failed) {
		r->runs_failed++;
		log_warn("opnsense: sync failed: %s",
		    rep->error != NULL        ? rep->error
		    : rep->note != NULL       ? rep->note
		    : rep->dhcp.error != NULL ? rep->dhcp.error
		    : rep->alias.error != NULL
		        ? rep->alias.error
		        : "a record could not be written (see --opnsense-sync)");
	} else {
		r->runs_ok++;
		log_info(
		    "opnsense: synced: %zu added, %zu updated, %zu removed, %zu unchanged, %zu "
		    "conflicts",
		    r->counts[OPN_ADD], r->counts[OPN_UPDATE], r->counts[OPN_REMOVE],
		    r->counts[OPN_UNCHANGED], r->counts[OPN_CONFLICT]);
	}
	opnsense_sync_free(sync);
	r->sync = NULL;
	loop_timer_arm(r->timer, r->interval_ms);
}

static void
runner_timer_cb(void *arg)
{
	struct opnsense_runner *r = arg;
	struct opnsense_env env;
	char *cause = NULL;

	r->sync = opnsense_job_begin(opnsense_env_of(r->app, &env), 0, runner_done_cb, r, &cause);
	if (r->sync == NULL) {
		log_warn("opnsense: %s", cause);
		free(cause);
		r->runs_failed++;
		r->last_ok = 0;
		r->last_ms = loop_wall_ms();
		loop_timer_arm(r->timer, r->interval_ms);
	}
}

struct opnsense_runner *
opnsense_runner_start(struct app *app)
{
	struct opnsense_runner *r;
	uint64_t ms = conf_get_ms(app->cfg, OPT_OPNSENSE_INTERVAL);

	if (ms == 0)
		return NULL;
	if (conf_get_str(app->cfg, OPT_OPNSENSE_URL)[0] == '\0') {
		log_warn("opnsense-interval is set but opnsense-url is not: no OPNsense sync");
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->app = app;
	r->interval_ms = ms;
	r->timer = loop_timer_new(app->loop, runner_timer_cb, r);
	loop_timer_arm(r->timer, 0);
	return r;
}

void
opnsense_runner_free(struct opnsense_runner *r)
{
	struct opnsense_env env;

	if (r == NULL)
		return;
	if (r->sync != NULL)
		opnsense_job_end(opnsense_env_of(r->app, &env), NULL);
	opnsense_sync_free(r->sync);
	loop_timer_free(r->timer);
	free(r);
}

void
opnsense_runner_metrics(const struct opnsense_runner *r, struct metrics_writer *w)
{
	metrics_family(w, "shelly_opnsense_last_sync_timestamp_seconds", METRICS_GAUGE,
	    "Time the last OPNsense sync finished");
	if (r != NULL && r->last_ms != 0)
		metrics_sample(w, NULL, 0, (double)r->last_ms / 1000.0);
	metrics_family(w, "shelly_opnsense_last_sync_success", METRICS_GAUGE,
	    "1 when the last OPNsense sync applied everything it planned, else 0");
	if (r != NULL && r->last_ms != 0)
		metrics_sample(w, NULL, 0, r->last_ok ? 1 : 0);
	metrics_family(w, "shelly_opnsense_last_sync_records", METRICS_GAUGE,
	    "Records of the last OPNsense sync by action");
	for (int a = 0; r != NULL && r->last_ms != 0 && a < OPN_ACTION_COUNT; a++) {
		struct metrics_label l[1] = {{"action", opn_action_name((enum opn_action)a)}};

		metrics_sample(w, l, 1, (double)r->counts[a]);
	}
	metrics_family(w, "shelly_opnsense_syncs_total", METRICS_COUNTER,
	    "OPNsense syncs finished, by result");
	if (r != NULL) {
		struct metrics_label ok[1] = {{"result", "ok"}}, bad[1] = {{"result", "failed"}};

		metrics_sample(w, ok, 1, (double)r->runs_ok);
		metrics_sample(w, bad, 1, (double)r->runs_failed);
	}
}
