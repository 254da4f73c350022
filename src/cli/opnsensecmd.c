/*
 * --opnsense-sync and the periodic sync of --headless: options and key files in, the registry
 * as the desired state, the report out (text or JSON, and /metrics).
 */
#include "cli/opnsensecmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "integrations/opnsense.h"
#include "server/metrics.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/json.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Everything a sync needs that the configuration gives; secrets wiped by opts_done. */
struct opts {
	struct opnsense_options o;
	char *key, *secret, *ca;
};

/*
 * Reads a key or secret file named by option id. A file readable by everyone is refused; a
 * file downloaded from OPNsense ("key=...\nsecret=...") may serve for both options, the line
 * named field being taken. Returns the value (free with conf_secret_free) or NULL + *cause.
 */
static char *
read_keyfile(const struct app *app, enum option_id id, const char *field, char **cause)
{
	const char *ref = conf_get_str(app->cfg, id), *name = conf_option_info(id)->name;
	char *raw, *err = NULL, *path, *line, *save = NULL, *out = NULL;
	struct stat st;
	size_t flen = strlen(field);

	if (ref[0] == '\0') {
		*cause = xasprintf("%s is not set (set %s file:PATH)", name, name);
		return NULL;
	}
	path = str_sanitize(ref + 5, 0);
	if (stat(ref + 5, &st) != 0) {
		*cause = xasprintf("%s: cannot read %s: %s", name, path, strerror(errno));
		free(path);
		return NULL;
	}
	if (st.st_mode & S_IROTH) {
		*cause = xasprintf("%s: %s is readable by everyone (mode %03o); chmod 600 it", name,
		    path, (unsigned)(st.st_mode & 0777));
		free(path);
		return NULL;
	}
	free(path);
	if ((raw = conf_read_secret(ref, &err)) == NULL) {
		*cause = xasprintf("%s: %s", name, err);
		free(err);
		return NULL;
	}
	for (line = strtok_r(raw, "\r\n", &save); line != NULL && out == NULL;
	     line = strtok_r(NULL, "\r\n", &save))
		if (strncmp(line, field, flen) == 0 && line[flen] == '=')
			out = xstrdup(line + flen + 1);
	if (out == NULL && strchr(raw, '=') == NULL && strchr(raw, '\n') == NULL)
		out = xstrdup(raw);
	conf_secret_free(raw);
	if (out == NULL || out[0] == '\0') {
		conf_secret_free(out);
		*cause = xasprintf("%s: the file holds no %s (expected the value alone, or a line "
		                   "%s=...)",
		    name, field, field);
		return NULL;
	}
	return out;
}

static void
opts_done(struct opts *op)
{
	conf_secret_free(op->key);
	conf_secret_free(op->secret);
	free(op->ca);
	memset(op, 0, sizeof *op);
}

/* Fills op from the configuration and checks the firewall against the network guard. */
static int
opts_init(const struct app *app, struct opts *op, char **cause)
{
	const char *ca = conf_get_str(app->cfg, OPT_OPNSENSE_CA);
	char *host = NULL, *prefix = NULL;
	uint16_t port;

	memset(op, 0, sizeof *op);
	op->o.url = conf_get_str(app->cfg, OPT_OPNSENSE_URL);
	if (opnsense_parse_url(op->o.url, &host, &port, &prefix, cause) != 0)
		return -1;
	free(prefix);
	if (guard_check(app->guard, host, cause) != 0) {
		free(host);
		return -1;
	}
	free(host);
	if ((op->key = read_keyfile(app, OPT_OPNSENSE_KEY, "key", cause)) == NULL ||
	    (op->secret = read_keyfile(app, OPT_OPNSENSE_SECRET, "secret", cause)) == NULL) {
		opts_done(op);
		return -1;
	}
	op->o.key = op->key;
	op->o.secret = op->secret;
	if (ca[0] != '\0') {
		op->ca = xstrdup(ca + 5);
		op->o.ca_file = op->ca;
	}
	op->o.insecure = conf_get_bool(app->cfg, OPT_OPNSENSE_INSECURE);
	if (op->o.insecure)
		log_warn(
		    "opnsense: the firewall's certificate is not verified (opnsense-insecure on)");
	switch (conf_get_enum(app->cfg, OPT_OPNSENSE_BACKEND)) {
	case OPT_OPNSENSE_KEA:
		op->o.backend = OPNSENSE_KEA;
		break;
	case OPT_OPNSENSE_DNSMASQ:
		op->o.backend = OPNSENSE_DNSMASQ;
		break;
	default:
		op->o.backend = OPNSENSE_AUTO;
		break;
	}
	op->o.alias = conf_get_str(app->cfg, OPT_OPNSENSE_ALIAS);
	op->o.timeout_ms = (uint32_t)conf_get_ms(app->cfg, OPT_OPNSENSE_TIMEOUT);
	op->o.connect_timeout_ms = (uint32_t)conf_get_ms(app->cfg, OPT_CONNECT_TIMEOUT);
	return 0;
}

/* The registry as the desired state. */
struct devlist {
	struct opn_device *v;
	struct store_device **rec;
	size_t n;
};

static int
devlist_cb(const struct store_device *d, void *arg)
{
	struct devlist *dl = arg;
	struct store_device *copy = store_device_dup(d);

	dl->v = xreallocarray(dl->v, dl->n + 1, sizeof *dl->v);
	dl->rec = xreallocarray(dl->rec, dl->n + 1, sizeof *dl->rec);
	dl->rec[dl->n] = copy;
	memset(&dl->v[dl->n], 0, sizeof dl->v[dl->n]);
	memcpy(dl->v[dl->n].mac, copy->mac, sizeof dl->v[dl->n].mac);
	dl->v[dl->n].name = copy->name;
	dl->v[dl->n].id = copy->id;
	dl->v[dl->n].ip = copy->host;
	dl->n++;
	return 0;
}

static void
devlist_done(struct devlist *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		store_device_free(dl->rec[i]);
	free(dl->rec);
	free(dl->v);
	memset(dl, 0, sizeof *dl);
}

static int
devlist_load(struct store *s, struct devlist *dl, char **cause)
{
	memset(dl, 0, sizeof *dl);
	if (store_device_list(s, devlist_cb, dl, cause) != 0) {
		devlist_done(dl);
		return -1;
	}
	return 0;
}

/*
 * Services whose changes were saved but not made live (a reconfigure failed) are remembered in
 * the settings, so that the next sync reconfigures them even when it finds nothing to change.
 */
#define PENDING_KEY "opnsense.pending_reconfigure"

static void
pending_load(struct store *s, struct opnsense_options *o)
{
	char *v = store_setting_get(s, PENDING_KEY);

	o->pending_dhcp = v != NULL && strstr(v, "dhcp") != NULL;
	o->pending_alias = v != NULL && strstr(v, "alias") != NULL;
	free(v);
}

static void
pending_save(struct store *s, const struct opnsense_report *r)
{
	char *cause = NULL;
	const char *v = r->dhcp.pending && r->alias.pending ? "dhcp,alias"
	                : r->dhcp.pending                   ? "dhcp"
	                : r->alias.pending                  ? "alias"
	                                                    : NULL;

	if (store_setting_set(s, PENDING_KEY, v, &cause) != 0) {
		log_warn("opnsense: cannot remember the pending reconfigure: %s", cause);
		free(cause);
	}
}

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

static void
add_str(cJSON *o, const char *key, const char *v)
{
	if (v != NULL && v[0] != '\0')
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *
service_json(const struct opnsense_service *svc)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "name", svc->name);
	cJSON_AddNumberToObject(o, "saved", (double)svc->saved);
	cJSON_AddStringToObject(o, "reconfigure",
	    svc->reconfigured > 0   ? "ok"
	    : svc->reconfigured < 0 ? "failed"
	                            : "not_needed");
	cJSON_AddBoolToObject(o, "pending", svc->pending);
	add_str(o, "status", svc->status);
	add_str(o, "error", svc->error);
	return o;
}

static void
print_json(FILE *fp, const char *url, const struct opnsense_report *r)
{
	cJSON *root = cJSON_CreateObject(), *recs, *sum;
	char mac[18], *text;

	add_str(root, "url", url);
	add_str(root, "backend", r->backend);
	cJSON_AddBoolToObject(root, "dry_run", r->dry_run);
	cJSON_AddBoolToObject(root, "ok", !r->failed);
	add_str(root, "error", r->error);
	add_str(root, "note", r->note);
	recs = cJSON_AddArrayToObject(root, "records");
	for (size_t i = 0; r->plan != NULL && i < r->plan->nitems; i++) {
		const struct opn_item *it = &r->plan->items[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", it->kind == OPN_ALIAS ? "alias" : "reservation");
		cJSON_AddStringToObject(o, "action", opn_action_name(it->action));
		cJSON_AddStringToObject(o, "result", outcome_name(it, r->dry_run));
		add_str(o, "device", it->device);
		add_str(
		    o, "mac", it->mac[0] != '\0' ? opn_mac_format(it->mac, mac, sizeof mac) : NULL);
		add_str(o, "hostname", it->hostname);
		add_str(o, "ip", it->kind == OPN_ALIAS ? NULL : it->ip);
		add_str(o, "subnet", it->subnet_text);
		add_str(o, "uuid", it->uuid);
		if (it->kind == OPN_ALIAS)
			add_str(o, "content", it->content);
		add_str(o, "why", it->why);
		add_str(o, "error", it->error);
		cJSON_AddItemToArray(recs, o);
	}
	cJSON_AddItemToObject(root, "dhcp", service_json(&r->dhcp));
	cJSON_AddItemToObject(root, "alias", service_json(&r->alias));
	sum = cJSON_AddObjectToObject(root, "summary");
	for (int a = 0; a < OPN_ACTION_COUNT; a++)
		cJSON_AddNumberToObject(sum, opn_action_name((enum opn_action)a),
		    r->plan != NULL ? (double)opn_plan_count(r->plan, (enum opn_action)a) : 0);
	text = json_print(root, 1);
	fprintf(fp, "%s\n", text);
	free(text);
	cJSON_Delete(root);
}

static void
print_service(FILE *fp, const struct opnsense_service *svc)
{
	if (svc->name == NULL || (svc->reconfigured == 0 && svc->error == NULL))
		return;
	fprintf(
	    fp, "%s: %s", svc->name, svc->reconfigured > 0 ? "reconfigured" : "reconfigure failed");
	if (svc->status != NULL)
		fprintf(fp, ", service %s", svc->status);
	if (svc->error != NULL)
		fprintf(fp, " (%s)", svc->error);
	fputc('\n', fp);
}

static void
print_text(FILE *fp, const struct opnsense_report *r)
{
	struct strbuf sb;

	if (r->error != NULL) {
		fprintf(fp, "error: %s\nnothing was changed\n", r->error);
		return;
	}
	fprintf(fp, "backend %s%s\n", r->backend != NULL ? r->backend : "unknown",
	    r->dry_run ? " (dry run: nothing is changed)" : "");
	if (r->note != NULL)
		fprintf(fp, "note: %s\n", r->note);
	strbuf_init(&sb);
	opn_plan_format(r->plan, !r->dry_run, &sb);
	fputs(strbuf_str(&sb), fp);
	strbuf_done(&sb);
	print_service(fp, &r->dhcp);
	print_service(fp, &r->alias);
	if (r->dhcp.pending || r->alias.pending)
		fprintf(fp,
		    "pending: %s%s%s saved but not applied; the next sync reconfigures again\n",
		    r->dhcp.pending ? "DHCP changes" : "",
		    r->dhcp.pending && r->alias.pending ? " and " : "",
		    r->alias.pending ? "alias changes" : "");
}

/* One writer at a time: --opnsense-sync and --headless take this lease around a sync. */
#define LEASE_NAME "opnsense"
#define LEASE_MS (15 * 60 * 1000)

static void
holder_of(char *buf, size_t size)
{
	char host[64] = "?";

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	snprintf(buf, size, "opnsense:%s:%ld", host, (long)getpid());
}

/*
 * Reads the options, key files and registry, takes the writer's lease (unless dry_run) and
 * starts the sync's dry run: read everything once, compute the plan. The caller shows the plan
 * or applies exactly it (opnsense_sync_apply). Returns the sync, or NULL with *cause.
 */
static struct opnsense_sync *
sync_begin(struct app *app, int dry_run, opnsense_done_cb cb, void *arg, char **cause)
{
	struct opnsense_sync *sync = NULL;
	struct opts op;
	struct devlist dl;
	char holder[128], *other = NULL;
	int got;

	if (opts_init(app, &op, cause) != 0)
		return NULL;
	if (devlist_load(app->store, &dl, cause) != 0) {
		opts_done(&op);
		return NULL;
	}
	holder_of(holder, sizeof holder);
	if (!dry_run && (got = store_lease_acquire(app->store, LEASE_NAME, holder, loop_wall_ms(),
	                     LEASE_MS, &other, cause)) != 1) {
		if (got == 0)
			*cause =
			    xasprintf("another sync (%s) is writing to the firewall; try later",
			        other != NULL ? other : "?");
		free(other);
		goto out;
	}
	pending_load(app->store, &op.o);
	sync = opnsense_sync_start(app->loop, app->http, &op.o, dl.v, dl.n, 1, cb, arg, cause);
	if (sync == NULL && !dry_run)
		store_lease_release(app->store, LEASE_NAME, holder, NULL);
out:
	devlist_done(&dl);
	opts_done(&op);
	return sync;
}

/* After a sync (r NULL: it did not finish): remembers pending reconfigures, frees the lease. */
static void
sync_end(struct app *app, const struct opnsense_report *r)
{
	char holder[128], *cause = NULL;

	if (r != NULL)
		pending_save(app->store, r);
	holder_of(holder, sizeof holder);
	if (store_lease_release(app->store, LEASE_NAME, holder, &cause) != 0) {
		log_warn("opnsense: lease: %s", cause);
		free(cause);
	}
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
	struct opnsense_sync *sync;
	const struct opnsense_report *r;
	char *cause = NULL;
	int done = 0, rc;

	if (app_open_store(app) != 0)
		return EXIT_FAIL;
	sync = sync_begin(app, app->args.set[CLI_DRY_RUN] > 0, sync_done_cb, &done, &cause);
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
	sync_end(app, done ? r : NULL);
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
	char *cause = NULL;

	if (rep->dry_run && rep->error == NULL) { /* the plan is made: apply it */
		if (opnsense_sync_apply(sync, runner_done_cb, r, &cause) == 0)
			return;
		free(cause);
	}
	r->last_ms = rep->finished_ms;
	sync_end(r->app, rep);
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
	char *cause = NULL;

	r->sync = sync_begin(r->app, 0, runner_done_cb, r, &cause);
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

	if (ms == 0 || conf_get_str(app->cfg, OPT_OPNSENSE_URL)[0] == '\0')
		return NULL;
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
	if (r == NULL)
		return;
	if (r->sync != NULL)
		sync_end(r->app, NULL);
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
