/*
 * --action ACTION TARGET...: the command line's face of the action runner (engine/runner.h):
 * it parses the action, runs it on every TARGET and prints the results in the order given;
 * --list-actions prints the action table.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/app.h"
#include "cli/cmd_action.h"
#include "cli/print.h"
#include "engine/runner.h"
#include "shelly/action.h"
#include "exchange/cfgdoc.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Longest device text (ids) kept in a result line. */
#define ACT_TEXT_MAX 200

struct act_run {
	struct app *app;
	const struct action_info *ai;
	struct action base; /* kind, channel, value */
	int light_set; /* --channel TYPE:N named base.light */
	struct runner *r;
	int done;
};

int
cli_list_actions(struct app *app)
{
	(void)app;
	for (int k = 0; k < ACTION__COUNT; k++) {
		const struct action_info *ai = action_info((enum action_kind)k);
		const char *needs = ai->needs_id && ai->needs_value ? "channel,value"
		                    : ai->needs_id                  ? "channel"
		                    : ai->needs_value               ? "value"
		                                                    : "-";
		char forms[128];

		action_channel_forms(ai, forms, sizeof forms);
		printf("%-18s %-14s %-38s %s\n", ai->name, needs, forms, ai->help);
	}
	return EXIT_OK;
}

/* Parses an integer option in [lo, hi]; 0, or -1 with a usage message printed. */
static int
int_option(const struct app *app, enum cli_option opt, long lo, long hi, int *out)
{
	const char *s = app->args.val[opt];
	long long v;

	if (str_parse_int(s, lo, hi, &v) != 0) {
		char name[64], *cause;

		snprintf(name, sizeof name, "--%s", cli_option_name(opt));
		cause = str_range_error(name, "a whole number", (double)lo, 0, (double)hi, s);
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * --channel N, or TYPE:N: the action's own component (switch:0, cover:0), or for a light the
 * Gen2+ light component (cct:0, rgb:0) when a device has several of one number
 * (action_channel_forms lists them). 0, or -1 with a usage message printed.
 */
static int
channel_option(struct act_run *run)
{
	struct app *app = run->app;
	const char *s = app->args.val[CLI_CHANNEL], *colon = strchr(s, ':');
	const char *comp = action_component(run->ai->kind);
	int light = comp != NULL && strcmp(comp, "light") == 0, typed;
	char type[16], forms[128];
	long long v;

	if (colon == NULL)
		return int_option(app, CLI_CHANNEL, 0, ACTION_ID_MAX, &run->base.id);
	str_copy(type, sizeof type, s);
	if ((size_t)(colon - s) < sizeof type)
		type[colon - s] = '\0';
	typed = light ? action_light_parse(type, &run->base.light) == 0
	              : comp != NULL && strcasecmp(type, comp) == 0;
	if (!typed || str_parse_int(colon + 1, 0, ACTION_ID_MAX, &v) != 0) {
		action_channel_forms(run->ai, forms, sizeof forms);
		fprintf(stderr, "shelly-tui: --action %s: --channel wants %s, not '", run->ai->name,
		    forms);
		print_safe(stderr, s);
		fputs("'\n", stderr);
		return -1;
	}
	run->base.id = (int)v;
	run->light_set = light;
	return 0;
}

/* Checks the action, its channel and value against the table. Returns 0 or EXIT_USAGE. */
static int
parse_action(struct act_run *run)
{
	struct app *app = run->app;
	const struct action_info *ai = action_find(app->args.mode_arg);

	if (ai == NULL) {
		fputs("shelly-tui: --action: unknown action '", stderr);
		print_safe(stderr, app->args.mode_arg);
		fputs("' (see --list-actions)\n", stderr);
		return EXIT_USAGE;
	}
	run->ai = ai;
	memset(&run->base, 0, sizeof run->base);
	run->base.kind = ai->kind;
	if (app->args.set[CLI_CHANNEL]) {
		if (!ai->needs_id) {
			fprintf(stderr, "shelly-tui: --action %s takes no --channel\n", ai->name);
			return EXIT_USAGE;
		}
		if (channel_option(run) != 0)
			return EXIT_USAGE;
	}
	if (ai->needs_value) {
		if (!app->args.set[CLI_VALUE]) {
			fprintf(stderr, "shelly-tui: --action %s needs --value %d-%d\n", ai->name,
			    ACTION_VALUE_MIN, ACTION_VALUE_MAX);
			return EXIT_USAGE;
		}
		if (int_option(
		        app, CLI_VALUE, ACTION_VALUE_MIN, ACTION_VALUE_MAX, &run->base.value) != 0)
			return EXIT_USAGE;
	} else if (app->args.set[CLI_VALUE]) {
		fprintf(stderr, "shelly-tui: --action %s takes no --value\n", ai->name);
		return EXIT_USAGE;
	}
	if (app->args.nrest == 0) {
		fprintf(stderr,
		    "shelly-tui: --action %s: give at least one TARGET (a registered MAC, "
		    "id or name, or HOST[:PORT])\n",
		    ai->name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void
print_text(const struct act_run *run)
{
	size_t n = runner_count(run->r, NULL);

	for (size_t i = 0; i < n; i++) {
		struct runner_result res;
		char *id;

		runner_result(run->r, i, &res);
		id = str_sanitize(res.id != NULL ? res.id : res.target, ACT_TEXT_MAX);
		if (res.duplicate_of != NULL) {
			char *first = str_sanitize(res.duplicate_of, ACT_TEXT_MAX);
			printf("SKIP %s the same device as %s\n", id, first);
			free(first);
		} else if (res.ok)
			printf("OK   %s %s\n", id, res.ok_text != NULL ? res.ok_text : "done");
		else
			printf("FAIL %s %s: %s\n", id, http_result_name(res.result), res.error);
		free(id);
	}
	if (runner_duplicates(run->r) > 0)
		printf("%zu duplicate target(s) merged: each device acted on once\n",
		    runner_duplicates(run->r));
}

static cJSON *
string_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return cJSON_CreateNull();
	{
		char *c = str_sanitize(s, 0);
		cJSON *j = cJSON_CreateString(c);
		free(c);
		return j;
	}
}

static void
print_json(const struct act_run *run, size_t nok)
{
	cJSON *root = cJSON_CreateObject(), *arr, *sum;
	size_t n = runner_count(run->r, NULL), nuptodate = 0;

	cJSON_AddStringToObject(root, "action", run->ai->name);
	if (run->ai->needs_id)
		cJSON_AddNumberToObject(root, "channel", run->base.id);
	else
		cJSON_AddNullToObject(root, "channel");
	if (run->ai->needs_value)
		cJSON_AddNumberToObject(root, "value", run->base.value);
	else
		cJSON_AddNullToObject(root, "value");
	if (run->light_set)
		cJSON_AddStringToObject(root, "light", action_light_type(run->base.light));
	else
		cJSON_AddNullToObject(root, "light");
	arr = cJSON_AddArrayToObject(root, "results");
	for (size_t i = 0; i < n; i++) {
		struct runner_result res;
		const struct action_result *ar;
		cJSON *o = cJSON_CreateObject();
		int ok, fw;

		runner_result(run->r, i, &res);
		ar = res.ar;
		ok = res.ok;
		/* fw_check, or fw_update with nothing to do */
		fw = ar != NULL && ar->has_update_info;
		nuptodate += ok && ar->up_to_date;
		cJSON_AddItemToObject(o, "target", string_or_null(res.target));
		cJSON_AddItemToObject(o, "id", string_or_null(res.id));
		cJSON_AddItemToObject(o, "mac", string_or_null(res.mac));
		cJSON_AddBoolToObject(o, "ok", ok);
		/* Only on the merged ones: the others read as before. */
		if (res.duplicate_of != NULL)
			cJSON_AddItemToObject(o, "duplicate_of", string_or_null(res.duplicate_of));
		cJSON_AddStringToObject(o, "result", http_result_name(res.result));
		cJSON_AddItemToObject(o, "error", ok ? cJSON_CreateNull() : string_or_null(res.error));
		cJSON_AddItemToObject(
		    o, "message", ar != NULL ? string_or_null(ar->message) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "output",
		    ok && ar->has_output ? cJSON_CreateBool(ar->output) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "position",
		    ok && ar->has_position ? cJSON_CreateNumber(ar->position) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "brightness",
		    ok && ar->has_brightness ? cJSON_CreateNumber(ar->brightness)
		                             : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "update_available",
		    fw ? cJSON_CreateBool(ar->update_available) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "new_version",
		    fw && ar->update_available ? string_or_null(ar->new_version)
		                               : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "ok", (double)nok);
	cJSON_AddNumberToObject(sum, "failed", (double)(n - nok - runner_duplicates(run->r)));
	if (runner_duplicates(run->r) > 0)
		cJSON_AddNumberToObject(sum, "duplicates", (double)runner_duplicates(run->r));
	if (nuptodate > 0) /* counted in ok: nothing to install is not a failure */
		cJSON_AddNumberToObject(sum, "up_to_date", (double)nuptodate);
	print_json_doc(stdout, root);
}

static void
done_cb(void *arg)
{
	((struct act_run *)arg)->done = 1;
}

/* The TARGET operands, each @GROUP replaced by its members' MACs (all malloc'd). */
struct targets {
	char **v;
	size_t n;
};

/* Fills t from the operands: @GROUP names its members, as wherever a TARGET is taken. */
static int
expand_groups(struct app *app, struct targets *t, char **cause)
{
	for (int i = 0; i < app->args.nrest; i++) {
		const char *op = app->args.rest[i];
		char **macs = NULL;
		size_t n = 0;
		int rc;

		if (op[0] != '@') {
			t->v = xreallocarray(t->v, t->n + 1, sizeof *t->v);
			t->v[t->n++] = xstrdup(op);
			continue;
		}
		if (app->store == NULL) {
			*cause = xasprintf("%s: a group needs the database (--group-add first)", op);
			return -1;
		}
		/* What was read goes to t (freed with it), also when the read failed half-way. */
		rc = cfgdoc_members(app->store, op + 1, &macs, &n, cause);
		t->v = xreallocarray(t->v, t->n + n + 1, sizeof *t->v);
		memcpy(t->v + t->n, macs, n * sizeof *macs);
		t->n += n;
		free(macs);
		if (rc != 0)
			return -1;
		if (n == 0) {
			*cause = xasprintf("no such group or no members: %s", op);
			return -1;
		}
	}
	return 0;
}

static void
targets_done(struct targets *t)
{
	str_array_free(t->v, t->n);
}

/* SIGINT or SIGTERM: the loop stops, the targets not done are cancelled, all are reported. */
static void
interrupt_cb(void *arg)
{
	struct act_run *run = arg;

	fputs("shelly-tui: interrupted: the results so far are kept (again to quit at once)\n",
	    stderr);
	loop_stop(run->app->loop);
}

int
cli_action(struct app *app)
{
	struct targets tg = { NULL, 0 };
	struct act_run run;
	struct runner_cbs cbs = { NULL, NULL, done_cb, &run };
	size_t nok = 0, n;
	char *cause = NULL;
	int rc;

	memset(&run, 0, sizeof run);
	run.app = app;
	if ((rc = parse_action(&run)) != EXIT_OK)
		return rc;
	/* The registry is read when it exists; --action never creates a database. */
	if (app_open_store_if_any(app) != 0)
		return EXIT_FAIL;
	if (expand_groups(app, &tg, &cause) == 0)
		run.r = runner_new(app_engine(app), &run.base, (const char *const *)tg.v, tg.n,
		    "cli", &cbs, &cause);
	if (run.r == NULL) {
		print_cause("--action: ", cause);
		free(cause);
		targets_done(&tg);
		return EXIT_USAGE;
	}
	runner_set_tls(run.r, app->args.set[CLI_HTTPS] > 0, app->args.set[CLI_ACCEPT_CERT] > 0);
	if (run.light_set)
		runner_set_light(run.r, run.base.light);
	/* Everything is checked: from here on requests go out, all targets at once. */
	app_on_interrupt(app, interrupt_cb, &run);
	runner_start(run.r);
	if (!run.done && app_run_until(app, &run.done) != 0) {
		fprintf(stderr, "shelly-tui: the event loop failed\n");
		rc = EXIT_FAIL;
	}
	if (!run.done)
		runner_cancel(run.r);
	n = runner_count(run.r, NULL);
	for (size_t i = 0; i < n; i++) {
		struct runner_result res;
		runner_result(run.r, i, &res);
		nok += res.ok ? 1 : 0;
	}
	if (app->args.set[CLI_JSON])
		print_json(&run, nok);
	else
		print_text(&run);
	if (runner_audit(run.r, &cause) != 0) {
		fprintf(stderr, "shelly-tui: audit: ");
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
	}
	nok += runner_duplicates(run.r); /* the same device again: done by its first mention */
	runner_free(run.r);
	targets_done(&tg);
	if (rc != EXIT_OK)
		return rc;
	return nok == n ? EXIT_OK : EXIT_FAIL;
}
