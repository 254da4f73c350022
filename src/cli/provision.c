/*
 * Provisioning from the command line: --agent-enrol, --provision, --provision-csv, --tasks,
 * --task-cancel, --agents (the agent API and the verifier are server/provserve.h). WiFi keys are read only to be validated and stay references in the
 * store; nothing here prints one.
 */
#include "cli/provision.h"

#include "cli/app.h"
#include "conf/conf.h"
#include "cli/print.h"
#include "engine/cfgdesired.h"
#include "model/devconfig.h"
#include "provision/agentmsg.h"
#include "provision/task.h"
#include "provision/taskq.h"
#include "shelly/sta.h"
#include "store/store.h"
#include "store/taskstore.h"
#include "util/cells.h"
#include "util/csv.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROVISION_ATTEMPTS_DEFAULT 3
#define PROVISION_CSV_MAX_BYTES (1u << 20)
#define PROVISION_CSV_MAX_FIELDS 16 /* more is an error anyway; bounds a hostile line */

static char *
who(void)
{
	const char *u = getenv("USER");

	return xasprintf("cli:%s", u != NULL && str_is_safe(u) ? u : "?");
}

int
cli_agent_enrol(struct app *app)
{
	char *cause = NULL, *secret, *w;
	uint64_t ttl = conf_get_ms(app->cfg, OPT_ENROL_TTL);

	/* A secret in a new empty database is one the poller never sees: its agent gets 401. */
	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	w = who();
	secret = taskq_enrol_new(app->store, loop_wall_ms(), (int64_t)ttl, w, &cause);
	free(w);
	if (secret == NULL) {
		print_cause("--agent-enrol: ", cause);
		free(cause);
		return EXIT_FAIL;
	}
	/* The only place the secret is ever shown: stdout, once, for the agent's secret file. */
	printf("%s\n", secret);
	fflush(stdout);
	str_free_secret(secret);
	if (!app->args.set[CLI_QUIET])
		fprintf(stderr, "shelly-tui: enrolment secret valid for %llu s, usable once\n",
		    (unsigned long long)(ttl / 1000));
	return EXIT_OK;
}

int
cli_agent_revoke(struct app *app)
{
	char *cause = NULL, *w;
	const char *id = app->args.mode_arg;
	int rc;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	w = who();
	rc = taskq_agent_revoke(app->store, id, w, loop_wall_ms(), &cause);
	free(w);
	if (rc < 0) {
		print_cause("--agent-revoke: ", cause);
		free(cause);
		return EXIT_FAIL;
	}
	if (rc == 0) {
		fprintf(stderr, "shelly-tui: --agent-revoke: no such agent: ");
		print_safe(stderr, id);
		fputc('\n', stderr);
		return EXIT_FAIL;
	}
	if (!app->args.set[CLI_QUIET])
		printf("agent %s revoked\n", id);
	return EXIT_OK;
}

/* The common parameters of --provision: network, key reference (validated), attempts. */
struct provision_params {
	struct store_task t;
	char *key_ref;
	char *pass_ref;
};

/* taskq_file_ref with the option named in the cause ("--wifi-key-file: WiFi key file ..."). */
static int
file_ref(const char *path, const char *what, int (*valid)(const char *), const char *opt,
    const char *rule, char **ref, char **cause)
{
	char *why = NULL;

	if (taskq_file_ref(path, what, valid, rule, ref, &why) == 0)
		return 0;
	*cause = xasprintf("%s: %s", opt, why);
	free(why);
	return -1;
}

static int
params_read(struct app *app, struct provision_params *p, char **cause)
{
	const struct cli_args *a = &app->args;

	memset(p, 0, sizeof *p);
	if (!a->set[CLI_NETWORK]) {
		*cause = xstrdup("--network SSID is required");
		return -1;
	}
	p->t.network = a->val[CLI_NETWORK];
	p->t.template_name = a->set[CLI_TEMPLATE] ? a->val[CLI_TEMPLATE] : NULL;
	if (p->t.template_name != NULL &&
	    cfgdesired_template_check(p->t.template_name, AGENTMSG_MAX_FIELDS, cause) != 0)
		return -1;
	p->t.ap_off = a->set[CLI_AP_OFF] > 0;
	p->t.max_attempts = PROVISION_ATTEMPTS_DEFAULT;
	if (a->set[CLI_ATTEMPTS]) {
		long long n;

		if (str_parse_int(a->val[CLI_ATTEMPTS], 1, 100, &n) != 0) {
			*cause = str_range_error("--attempts", "a whole number", 1, 0, 100,
			    a->val[CLI_ATTEMPTS]);
			return -1;
		}
		p->t.max_attempts = (int)n;
	}
	if (a->set[CLI_WIFI_KEY_FILE] &&
	    file_ref(a->val[CLI_WIFI_KEY_FILE], "WiFi key file", taskq_key_ok, "--wifi-key-file",
	        TASKQ_KEY_RULE, &p->key_ref, cause) != 0)
		return -1;
	if (a->set[CLI_PASSWORD_FILE] &&
	    file_ref(a->val[CLI_PASSWORD_FILE], "device password file", taskq_pass_ok,
	        "--password-file", TASKQ_PASS_RULE, &p->pass_ref, cause) != 0)
		return -1;
	p->t.key_ref = p->key_ref;
	p->t.pass_ref = p->pass_ref;
	return 0;
}

static int
target_ok(const char *t)
{
	char mac[13];

	return str_mac_normalise(t, mac) == 0 || taskq_ssid_is_shelly(t);
}

/* One line of a batch: "TARGET[,NAME]". */
struct provision_item {
	char *target;
	char *name;
	int line; /* of the batch file, 0 for a --provision operand */
};

/* s without the blanks (spaces, tabs) around it, in place. */
static char *
blank_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/*
 * One record of a batch, "TARGET[,NAME]" (the name quoted when it holds a comma or a quote):
 * 1 with the item, 0 for a blank line, a '#' comment or the "target" header, or -1 with *cause.
 */
static int
csv_line(char **f, size_t nf, const char *file, int lineno, struct provision_item *it,
    char **cause)
{
	char *t = blank_trim(f[0]), *n = nf > 1 ? blank_trim(f[1]) : NULL, *why = NULL;

	if (*t == '#' || (nf == 1 && *t == '\0'))
		return 0;
	if (nf > 2) {
		*cause = xasprintf("%s:%d: more than two fields (TARGET,NAME; quote a name that holds "
		                   "a comma)", file, lineno);
		return -1;
	}
	if (t[strcspn(t, " \t")] != '\0') {
		*cause = xasprintf("%s:%d: a target has no spaces", file, lineno);
		return -1;
	}
	if (lineno == 1 && strcasecmp(t, "target") == 0)
		return 0; /* a header */
	if (!target_ok(t)) {
		*cause = xasprintf("%s:%d: '%s' is neither a MAC nor a Shelly access point", file,
		    lineno, str_is_safe(t) ? t : "?");
		return -1;
	}
	if (n != NULL && *n != '\0' && shelly_sta_name_check(n, &why) != 0) {
		*cause = xasprintf("%s:%d: %s", file, lineno, why);
		free(why);
		return -1;
	}
	it->target = xstrdup(t);
	it->name = n != NULL && *n != '\0' ? xstrdup(n) : NULL;
	it->line = lineno;
	return 1;
}

/* Reads file whole into *buf (caller frees), at most PROVISION_CSV_MAX_BYTES; 0 or -1. */
static int
csv_file(const char *file, char **buf, size_t *len, char **cause)
{
	FILE *fp = fopen(file, "rb");
	size_t n;

	*buf = NULL;
	if (fp == NULL) {
		*cause = xasprintf("%s: %s", file, strerror(errno));
		return -1;
	}
	*buf = xmalloc(PROVISION_CSV_MAX_BYTES + 1);
	n = fread(*buf, 1, PROVISION_CSV_MAX_BYTES + 1, fp);
	if (ferror(fp) || n > PROVISION_CSV_MAX_BYTES) {
		*cause = ferror(fp) ? xasprintf("%s: %s", file, strerror(errno)) :
		    xasprintf("%s: larger than %u bytes", file, PROVISION_CSV_MAX_BYTES);
		fclose(fp);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	fclose(fp);
	*len = n;
	return 0;
}

/* Reads the batch file (RFC 4180 CSV, util/csv.h) whole; on any bad line nothing is returned. */
static int
csv_read(const char *file, struct provision_item **items, size_t *n, char **cause)
{
	struct csv c;
	char *buf, **f, *err = NULL;
	size_t len, nf;
	int line, r, rc = 0;

	*items = NULL;
	*n = 0;
	if (csv_file(file, &buf, &len, cause) != 0)
		return -1;
	csv_init(&c, buf, len);
	while (rc == 0 && (r = csv_next(&c, PROVISION_CSV_MAX_FIELDS, &f, &nf, &line, &err)) != 0) {
		struct provision_item it;

		if (r < 0) {
			*cause = xasprintf("%s:%d: %s", file, line, err);
			free(err);
			rc = -1;
			break;
		}
		r = csv_line(f, nf, file, line, &it, cause);
		csv_fields_free(f, nf);
		if (r < 0)
			rc = -1;
		else if (r == 1) {
			*items = xreallocarray(*items, *n + 1, sizeof **items);
			(*items)[(*n)++] = it;
		}
	}
	free(buf);
	if (rc == 0 && *n == 0) {
		*cause = xasprintf("%s: no devices", file);
		rc = -1;
	}
	return rc;
}

static void
items_free(struct provision_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].target);
		free(items[i].name);
	}
	free(items);
}

/* The task queued for item i: the common parameters, its target and name. */
static struct store_task
item_task(const struct app *app, const struct provision_params *p,
    const struct provision_item *items, size_t i)
{
	struct store_task t = p->t;

	t.target = items[i].target;
	/* --name comes with one --provision target only (cli/args.c refuses the rest). */
	t.name = items[i].name != NULL ? items[i].name : app->args.val[CLI_NAME];
	return t;
}

/* The tasks that have not ended, read once for the checks of a whole batch. */
struct active_tasks {
	int64_t *id;
	char **target;
	size_t n;
};

static int
active_cb(const struct store_task *t, void *arg)
{
	struct active_tasks *a = arg;
	enum task_state st;

	if (task_state_parse(t->state, &st) != 0 || task_state_final(st))
		return 0;
	a->id = xreallocarray(a->id, a->n + 1, sizeof *a->id);
	a->target = xreallocarray(a->target, a->n + 1, sizeof *a->target);
	a->id[a->n] = t->id;
	a->target[a->n++] = xstrdup(t->target);
	return 0;
}

static void
active_free(struct active_tasks *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->target[i]);
	free(a->target);
	free(a->id);
}

/*
 * Why item i cannot be queued next to the others: it names the device of an earlier item, or
 * one whose task has not ended (of active). Returns it (caller frees), or NULL. (taskq_add_all
 * checks again, in the transaction that queues them.)
 */
static char *
item_duplicate(struct app *app, const struct active_tasks *active,
    const struct provision_item *items, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (!taskq_same_target(items[j].target, items[i].target))
			continue;
		if (items[i].line > 0)
			return xasprintf("%s:%d: the device of line %d again", app->args.mode_arg,
			    items[i].line, items[j].line);
		return xstrdup("the same device twice");
	}
	for (size_t k = 0; k < active->n; k++)
		if (taskq_same_target(active->target[k], items[i].target))
			return xasprintf("task %lld for this device has not ended (--task-cancel it "
			                 "first)",
			    (long long)active->id[k]);
	return NULL;
}

/* Checks every item, so that nothing is written unless all are good; then queues them. */
static int
queue_items(
    struct app *app, const struct provision_params *p, struct provision_item *items, size_t n)
{
	char *cause = NULL, *w = who();
	struct active_tasks active = {NULL, NULL, 0};
	struct store_task *ts;
	int64_t *ids;
	int rc = EXIT_OK;

	if (store_task_list(app->store, active_cb, &active, &cause) != 0) {
		print_cause("", cause);
		free(cause);
		active_free(&active);
		free(w);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_task t = item_task(app, p, items, i);
		char *clean = str_sanitize(items[i].target, 64);

		if (!target_ok(items[i].target))
			fprintf(stderr,
			    "shelly-tui: '%s' is neither a MAC nor a Shelly access point "
			    "(nothing queued)\n",
			    clean);
		else if (taskq_check_text(&t, &cause) != 0 ||
		         (cause = item_duplicate(app, &active, items, i)) != NULL)
			fprintf(stderr, "shelly-tui: %s: %s (nothing queued)\n", clean, cause);
		free(clean);
		if (!target_ok(items[i].target) || cause != NULL) {
			free(cause);
			active_free(&active);
			free(w);
			return EXIT_USAGE;
		}
	}
	active_free(&active);
	/* all or nothing, also when another --provision of one of them comes in meanwhile */
	ts = xcalloc(n, sizeof *ts);
	ids = xcalloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ts[i] = item_task(app, p, items, i);
	if (taskq_add_all(app->store, ts, n, w, loop_wall_ms(), ids, &cause) != 0) {
		char *why = xasprintf("%s (nothing queued)", cause);

		print_cause("", why);
		free(why);
		free(cause);
		rc = EXIT_FAIL;
	}
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		if (app->args.set[CLI_JSON])
			printf("{\"task\":%lld,\"target\":\"%s\"}\n", (long long)ids[i],
			    ts[i].target);
		else if (!app->args.set[CLI_QUIET])
			printf("task %lld queued: %s -> %s\n", (long long)ids[i], ts[i].target,
			    ts[i].network);
	}
	free(ids);
	free(ts);
	free(w);
	return rc;
}

int
cli_provision(struct app *app)
{
	struct provision_params p;
	struct provision_item *items = NULL;
	size_t n = 0;
	char *cause = NULL;
	int rc = EXIT_USAGE;

	if (params_read(app, &p, &cause) != 0) {
		print_cause("", cause);
		goto out;
	}
	if (app->args.mode == CLI_PROVISION_CSV) {
		if (csv_read(app->args.mode_arg, &items, &n, &cause) != 0) {
			fprintf(
			    stderr, "shelly-tui: --provision-csv: %s (nothing queued)\n", cause);
			goto out;
		}
	} else {
		n = 1 + (size_t)app->args.nrest;
		items = xcalloc(n, sizeof *items);
		items[0].target = xstrdup(app->args.mode_arg);
		for (int i = 0; i < app->args.nrest; i++)
			items[i + 1].target = xstrdup(app->args.rest[i]);
	}
	rc = app_open_store(app) != 0 ? EXIT_FAIL : queue_items(app, &p, items, n);
out:
	free(cause);
	items_free(items, n);
	free(p.key_ref);
	free(p.pass_ref);
	return rc;
}

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* A number, or null when it is not known. */
static void
add_num(cJSON *o, const char *k, double v, int known)
{
	if (known)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static int
task_json_cb(const struct store_task *t, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)t->id);
	add_str(o, "kind", t->kind);
	add_str(o, "target", t->target);
	add_str(o, "network", t->network);
	cJSON_AddBoolToObject(o, "has_key", t->key_ref != NULL);
	add_str(o, "name", t->name);
	add_str(o, "template", t->template_name);
	cJSON_AddBoolToObject(o, "ap_off", t->ap_off);
	add_str(o, "state", t->state);
	cJSON_AddNumberToObject(o, "attempts", t->attempts);
	cJSON_AddNumberToObject(o, "max_attempts", t->max_attempts);
	add_str(o, "agent", t->agent);
	add_str(o, "stage", t->stage);
	add_str(o, "mac", t->mac);
	add_str(o, "result", t->result);
	add_str(o, "reason", t->reason);
	cJSON_AddNumberToObject(o, "updated_ms", (double)t->updated_ms);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

/*
 * The columns of --tasks, header and rows alike (a longer value shifts only its own row); the
 * network name is padded by terminal cells (util/cells.h), the other columns are ASCII.
 */
#define TASK_NET_CELLS 20
#define TASK_HEADINGS  "%-5s %-10s %-26s %-20s %-12s %-8s %s\n"

static int
task_row_cb(const struct store_task *t, void *arg)
{
	char *net = str_sanitize(t->network != NULL ? t->network : "", 0);
	char *agent = str_sanitize(t->agent != NULL ? t->agent : "-", 0), tries[32];
	int cells, ap_on = t->stage != NULL && strcmp(t->stage, TASKQ_STAGE_AP_ON) == 0;

	(void)arg;
	snprintf(tries, sizeof tries, "%d/%d", t->attempts, t->max_attempts);
	cells_fit(net, INT_MAX, &cells);
	printf("%-5lld %-10s %-26s %s%*s %-12s %-8s ", (long long)t->id, t->state, t->target, net,
	    cells < TASK_NET_CELLS ? TASK_NET_CELLS - cells : 0, "", agent, tries);
	free(net);
	free(agent);
	/* (a verified device whose AP-off is still owed: why its AP is on, not its address) */
	print_safe(stdout, ap_on && t->reason != NULL ? t->reason
	                   : t->result != NULL        ? t->result
	                   : t->reason != NULL        ? t->reason
	                   : t->stage != NULL         ? t->stage
	                                              : "");
	printf("\n");
	return 0;
}

int
cli_tasks(struct app *app)
{
	char *cause = NULL;
	cJSON *root = NULL, *arr = NULL;
	int rc;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	if (app->args.set[CLI_JSON]) {
		root = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(root, "tasks");
		rc = store_task_list(app->store, task_json_cb, arr, &cause);
	} else {
		printf(TASK_HEADINGS, "ID", "STATE", "TARGET", "NETWORK", "AGENT", "ATTEMPTS",
		    "RESULT");
		rc = store_task_list(app->store, task_row_cb, NULL, &cause);
	}
	if (rc != 0) {
		print_cause("--tasks: ", cause);
		free(cause);
		cJSON_Delete(root);
		return EXIT_FAIL;
	}
	if (root != NULL)
		print_json_doc(stdout, root);
	return EXIT_OK;
}

int
cli_task_cancel(struct app *app)
{
	char *cause = NULL, *w;
	struct store_task *t;
	long long id;
	int rc, running;

	if (str_parse_int(app->args.mode_arg, 1, LLONG_MAX, &id) != 0) {
		fprintf(stderr, "shelly-tui: --task-cancel wants a task id, not '%s'\n",
		    app->args.mode_arg);
		return EXIT_USAGE;
	}
	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	t = store_task_get(app->store, id);
	running = t != NULL && strcmp(t->state, task_state_name(TASK_RUNNING)) == 0;
	store_task_free(t);
	w = who();
	rc = taskq_cancel(app->store, id, w, loop_wall_ms(), &cause);
	free(w);
	if (rc < 0) {
		print_cause("--task-cancel: ", cause);
		free(cause);
		return EXIT_FAIL;
	}
	if (rc == 0) {
		fprintf(stderr, "shelly-tui: task %lld: no such task, or it has ended\n", id);
		return EXIT_FAIL;
	}
	if (!app->args.set[CLI_QUIET])
		printf("task %lld cancelled%s\n", id,
		    running ? " (it was running: an agent on the device's access point hears of it "
		              "when it is back, and a device it configured meanwhile is named in the "
		              "audit log)"
		            : "");
	return EXIT_OK;
}

static int
agent_cb(const struct store_agent *a, void *arg)
{
	if (arg != NULL) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "id", a->id);
		add_str(o, "name", a->name);
		cJSON_AddNumberToObject(o, "created_ms", (double)a->created_ms);
		add_num(o, "last_seen_ms", (double)a->last_seen_ms, a->last_seen_ms > 0);
		cJSON_AddItemToArray(arg, o);
		return 0;
	}
	printf("%-12s ", a->id);
	print_safe(stdout, a->name != NULL ? a->name : "-");
	if (a->last_seen_ms > 0)
		printf("  last seen %lld s ago\n",
		    (long long)((loop_wall_ms() - a->last_seen_ms) / 1000));
	else
		printf("  never seen\n");
	return 0;
}

#define PROVISION_AP_RECENT_MS (10 * 60 * 1000)

static int
ap_cb(const struct store_ap *ap, void *arg)
{
	if (arg != NULL) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "ssid", ap->ssid);
		add_str(o, "agent", ap->agent);
		add_num(o, "rssi_dbm", ap->rssi, ap->rssi != 0);
		cJSON_AddNumberToObject(o, "seen_ms", (double)ap->seen_ms);
		cJSON_AddItemToArray(arg, o);
		return 0;
	}
	printf("  ");
	print_safe(stdout, ap->ssid);
	printf("  seen by %s %lld s ago\n", ap->agent,
	    (long long)((loop_wall_ms() - ap->seen_ms) / 1000));
	return 0;
}

int
cli_agents(struct app *app)
{
	char *cause = NULL;
	cJSON *root = NULL, *arr = NULL, *aps = NULL;
	int64_t since = loop_wall_ms() - PROVISION_AP_RECENT_MS;

	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	if (app->args.set[CLI_JSON]) {
		root = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(root, "agents");
		aps = cJSON_AddArrayToObject(root, "access_points");
	}
	if (store_agent_list(app->store, agent_cb, arr, &cause) != 0 ||
	    (root == NULL && printf("Shelly access points seen in the last 10 minutes:\n") < 0) ||
	    store_ap_list(app->store, since, ap_cb, aps, &cause) != 0) {
		fprintf(stderr, "shelly-tui: --agents: %s\n", cause != NULL ? cause : "output");
		free(cause);
		cJSON_Delete(root);
		return EXIT_FAIL;
	}
	if (root != NULL)
		print_json_doc(stdout, root);
	return EXIT_OK;
}
