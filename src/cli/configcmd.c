/*
 * Configuration management from the command line: --config-get, --config-set, --config-fields,
 * --template-save, --drift and --apply. The typed configuration is model/devconfig; reading,
 * applying, restoring and verifying is engine/cfgapply; this file resolves TARGETs, renders
 * templates per device, runs the loop and prints.
 *
 * A TARGET is a registered device (MAC, id or name, from the database when it exists) or
 * HOST[:PORT]; each is identified first (GET /shelly) and credentials go only where the device
 * asks for them. Templates are files: NAME is $XDG_CONFIG_HOME/shelly-tui/templates/NAME.tmpl,
 * or a path when it holds a '/'.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/app.h"
#include "cli/devread.h"
#include "cli/print.h"
#include "engine/cfgapply.h"
#include "model/devconfig.h"
#include "store/store.h"
#include "util/json.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum { EXIT_DRIFT = 3 };

/* One TARGET and what became of it. */
struct cfg_dev {
	const char *arg;
	char *hostport; /* what devread reads */
	struct devread dr;
	int have_dr, ready;
	char *error; /* before the engine ran (resolve, identify, render) */
	struct devconfig desired;
	struct cfgapply *op;
	int done;
	enum cfgapply_outcome outcome;
	char *message;
	struct devconfig before, after;
	int restart_required, rebooted;
	struct cfg_run *run;
};

struct cfg_run {
	struct app *app;
	struct cfg_dev *devs;
	size_t n, ndone;
	int done;
	const char *verb; /* "config-get", "config-set", "drift", "apply" */
};

/* --- Fields list ---------------------------------------------------------------------------- */

static const char *const type_names[] = {"bool", "int", "number", "string", "enum", "ipv4"};

int
cli_config_fields(struct app *app)
{
	(void)app;
	for (int i = 0; i < DCFG__COUNT; i++) {
		const struct devconfig_field_info *fi = devconfig_field((enum devconfig_field)i);
		char range[64] = "-";
		if (fi->type == DCT_INT || fi->type == DCT_NUM)
			snprintf(range, sizeof range, "%g..%g%s%s", fi->min, fi->max,
			    fi->unit[0] ? " " : "", fi->unit);
		else if (fi->type == DCT_ENUM)
			snprintf(range, sizeof range, "%s", fi->choices);
		printf("%-28s %-6s %-5s %-5s %-34s %s%s\n", fi->path, type_names[fi->type],
		    fi->g1_endpoint ? "gen1" : "-", fi->g2_component ? "gen2+" : "-", range,
		    fi->help, (fi->flags & DCF_IDENTITY) ? " [identity]" : "");
	}
	return EXIT_OK;
}

/* --- Templates ------------------------------------------------------------------------------ */

/* The file of template NAME (malloc'd), or NULL with *cause. */
static char *
template_path(const char *name, char **cause)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 64 || !str_is_safe(name)) {
		*cause =
		    xstrdup("a template name is 1-64 printable characters, not starting with '.'");
		return NULL;
	}
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/shelly-tui/templates/%s.tmpl", xdg, name);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.config/shelly-tui/templates/%s.tmpl", home, name);
	*cause = xstrdup("neither XDG_CONFIG_HOME nor HOME is set");
	return NULL;
}

/* Reads template NAME into out. Returns 0, or -1 with the message printed. */
static int
template_load(const char *name, struct devconfig *out)
{
	char *cause = NULL, *path = template_path(name, &cause), *text = NULL;
	FILE *fp = NULL;
	size_t len = 0;
	int rc = -1;

	if (path == NULL)
		goto out;
	if ((fp = fopen(path, "r")) == NULL) {
		cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	text = xmalloc(DEVCONFIG_TEMPLATE_MAX + 1);
	len = fread(text, 1, DEVCONFIG_TEMPLATE_MAX + 1, fp);
	if (ferror(fp)) {
		cause = xasprintf("%s: read error", path);
		goto out;
	}
	if (devconfig_template_parse(text, len, out, &cause) == 0) {
		rc = 0;
		goto out;
	}
	{
		char *c = xasprintf("%s: %s", path, cause);
		free(cause);
		cause = c;
	}
out:
	if (rc != 0) {
		fputs("shelly-tui: template: ", stderr);
		print_safe(stderr, cause);
		fputc('\n', stderr);
	}
	if (fp != NULL)
		fclose(fp);
	free(cause);
	free(text);
	free(path);
	return rc;
}

/* mkdir -p of the directory part of path. */
static void
make_parents(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	free(p);
}

/* Writes c as template NAME (atomically). Returns 0, or -1 with the message printed. */
static int
template_store(const char *name, const struct devconfig *c, const char *comment)
{
	char *cause = NULL, *path = template_path(name, &cause), *tmp;
	FILE *fp;
	int ok;

	if (path == NULL) {
		fprintf(stderr, "shelly-tui: --template-save: %s\n", cause);
		free(cause);
		return -1;
	}
	make_parents(path);
	tmp = xasprintf("%s.tmp", path);
	fp = fopen(tmp, "w");
	if (fp != NULL) {
		devconfig_template_write(c, comment, fp);
		ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0;
		ok = (fclose(fp) == 0) && ok && rename(tmp, path) == 0;
	} else
		ok = 0;
	if (!ok) {
		fputs("shelly-tui: --template-save: cannot write ", stderr);
		print_safe(stderr, path);
		fprintf(stderr, ": %s\n", strerror(errno));
		unlink(tmp);
	} else {
		fputs("template written to ", stdout);
		print_safe(stdout, path);
		fputc('\n', stdout);
	}
	free(tmp);
	free(path);
	return ok ? 0 : -1;
}

/* --- Targets -------------------------------------------------------------------------------- */

struct name_find {
	const char *name;
	struct store_device *found;
	int count;
};

static int
name_find_cb(const struct store_device *d, void *arg)
{
	struct name_find *m = arg;

	if (d->name != NULL && str_caseeq(d->name, m->name)) {
		if (m->found == NULL)
			m->found = store_device_dup(d);
		m->count++;
	}
	return 0;
}

/* TARGET -> HOST[:PORT]: a registered device's address, else the TARGET itself. */
static char *
resolve(struct app *app, const char *arg, char **cause)
{
	struct store_device *d = NULL;
	char *out;

	if (app->store != NULL && (d = store_device_find(app->store, arg)) == NULL) {
		struct name_find m = {arg, NULL, 0};
		store_device_list(app->store, name_find_cb, &m, NULL);
		if (m.count > 1) {
			store_device_free(m.found);
			*cause = xasprintf(
			    "the name is given to %d registered devices; use an id or MAC",
			    m.count);
			return NULL;
		}
		d = m.found;
	}
	if (d == NULL)
		return xstrdup(arg);
	if (d->host == NULL || d->host[0] == '\0') {
		store_device_free(d);
		*cause = xstrdup("the registered device has no address");
		return NULL;
	}
	out = d->port > 0 ? (strchr(d->host, ':') ? xasprintf("[%s]:%d", d->host, d->port)
	                                          : xasprintf("%s:%d", d->host, d->port))
	                  : xstrdup(d->host);
	store_device_free(d);
	return out;
}

static void dev_error(struct cfg_dev *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dev_error(struct cfg_dev *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(d->error);
	d->error = str_sanitize(buf, 400);
}

/* Resolves and identifies every TARGET (one after the other). Returns EXIT_OK or EXIT_USAGE. */
static int
identify_all(struct cfg_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		char *cause = NULL;
		int rc;
		if ((d->hostport = resolve(run->app, d->arg, &cause)) == NULL) {
			dev_error(d, "%s", cause);
			free(cause);
			continue;
		}
		rc = devread_init(&d->dr, run->app, d->arg, d->hostport);
		if (rc == EXIT_USAGE)
			return EXIT_USAGE;
		if (rc != EXIT_OK) {
			dev_error(d, "refused by the network guard");
			continue;
		}
		d->have_dr = 1;
		devread_run(&d->dr);
		if (!d->dr.have_ident || d->dr.ident.gen < 1) {
			dev_error(d, "%s", d->dr.error ? d->dr.error : "not identified");
			continue;
		}
		d->ready = 1;
	}
	return EXIT_OK;
}

static void
progress_cb(const char *line, void *arg)
{
	struct cfg_dev *d = arg;

	if (d->run->app->args.set[CLI_QUIET])
		return;
	fputs("shelly-tui: ", stderr);
	print_safe(stderr, d->dr.ident.id[0] ? d->dr.ident.id : d->arg);
	fputs(": ", stderr);
	print_safe(stderr, line);
	fputc('\n', stderr);
}

static void
done_cb(const struct cfgapply_result *r, void *arg)
{
	struct cfg_dev *d = arg;

	d->outcome = r->outcome;
	d->message = xstrdup(r->message);
	devconfig_copy(&d->before, r->before);
	devconfig_copy(&d->after, r->after);
	d->restart_required = r->restart_required;
	d->rebooted = r->rebooted;
	d->done = 1;
	if (++d->run->ndone == d->run->n)
		d->run->done = 1;
}

/* Runs the engine on every identified device at once. */
static int
run_all(struct cfg_run *run, const struct cfgapply_opts *base)
{
	struct app *app = run->app;

	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		struct cfgapply_opts o = *base;
		d->run = run;
		if (!d->ready) {
			d->done = 1;
			run->ndone++;
			continue;
		}
		o.progress_cb = progress_cb;
		d->op = cfgapply_start(app->loop, app->http, &d->dr.t, &d->desired, &o, done_cb, d);
	}
	run->done = run->ndone == run->n;
	if (!run->done && app_run_until(app, &run->done) != 0) {
		fprintf(stderr, "shelly-tui: the event loop failed\n");
		return -1;
	}
	return 0;
}

static void
run_init(struct cfg_run *run, struct app *app, const char *verb, char **targets, int n)
{
	memset(run, 0, sizeof *run);
	run->app = app;
	run->verb = verb;
	run->n = n > 0 ? (size_t)n : 0;
	run->devs = xcalloc(run->n ? run->n : 1, sizeof *run->devs);
	for (size_t i = 0; i < run->n; i++) {
		run->devs[i].arg = targets[i];
		run->devs[i].run = run;
		devconfig_init(&run->devs[i].desired);
		devconfig_init(&run->devs[i].before);
		devconfig_init(&run->devs[i].after);
	}
}

static void
run_done(struct cfg_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		cfgapply_free(d->op);
		if (d->have_dr)
			devread_done(&d->dr);
		devconfig_done(&d->desired);
		devconfig_done(&d->before);
		devconfig_done(&d->after);
		free(d->hostport);
		free(d->error);
		free(d->message);
	}
	free(run->devs);
}

/* The device's label for output: its id, else the TARGET. */
static const char *
dev_label(const struct cfg_dev *d)
{
	return d->ready && d->dr.ident.id[0] ? d->dr.ident.id : d->arg;
}

static int
dev_failed(const struct cfg_dev *d)
{
	return !d->ready || d->outcome == CFGA_UNREACHABLE || d->outcome == CFGA_FAILED ||
	       d->outcome == CFGA_FAILED_RESTORED || d->outcome == CFGA_VERIFY_FAILED ||
	       d->outcome == CFGA_REFUSED;
}

static const char *
dev_message(const struct cfg_dev *d)
{
	return d->error != NULL ? d->error : d->message != NULL ? d->message : "not done";
}

/* --- Output --------------------------------------------------------------------------------- */

static cJSON *
config_object(const struct devconfig *c, bool secrets)
{
	cJSON *o = cJSON_CreateObject();
	char name[96];

	for (size_t i = 0; i < c->n; i++)
		cJSON_AddItemToObject(o,
		    devconfig_name(c->e[i].field, c->e[i].index, name, sizeof name),
		    devconfig_value_json(&c->e[i], secrets));
	return o;
}

static cJSON *
dev_object(const struct cfg_dev *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "target", d->arg);
	if (d->ready) {
		cJSON_AddStringToObject(o, "id", d->dr.ident.id);
		cJSON_AddStringToObject(o, "mac", d->dr.ident.mac);
		cJSON_AddNumberToObject(o, "gen", d->dr.ident.gen);
	} else {
		cJSON_AddNullToObject(o, "id");
		cJSON_AddNullToObject(o, "mac");
		cJSON_AddNullToObject(o, "gen");
	}
	cJSON_AddStringToObject(
	    o, "result", d->ready ? cfgapply_outcome_name(d->outcome) : "error");
	if (dev_failed(d) || d->error)
		cJSON_AddStringToObject(o, "error", dev_message(d));
	else
		cJSON_AddNullToObject(o, "error");
	if (d->before.has_rev)
		cJSON_AddNumberToObject(o, "cfg_rev", d->before.rev);
	else
		cJSON_AddNullToObject(o, "cfg_rev");
	return o;
}

static void
print_json_doc(cJSON *doc)
{
	char *s = json_print(doc, 1);

	puts(s);
	free(s);
	cJSON_Delete(doc);
}

static void
print_value(FILE *fp, const char *v)
{
	if (v == NULL)
		fputs("null", fp);
	else
		print_safe(fp, v);
}

/* The diff rows of a device (desired vs before), with their printable values. */
static size_t
dev_rows(const struct cfg_dev *d, struct devconfig_diff **rows, size_t *n)
{
	return devconfig_diff(&d->desired, &d->before, rows, n);
}

static const char *const kind_names[] = {"same", "drift", "unsupported", "unknown"};

/* Text of a diff row value: secrets masked. */
static const char *
row_value(const struct devconfig_diff *r, const char *v)
{
	if (devconfig_field(r->field)->flags & DCF_SECRET)
		return "********";
	return v;
}

static cJSON *
rows_json(const struct cfg_dev *d, size_t *drifted, bool only_changes)
{
	struct devconfig_diff *rows;
	size_t n;
	cJSON *arr = cJSON_CreateArray();
	char name[96];

	*drifted = dev_rows(d, &rows, &n);
	for (size_t i = 0; i < n; i++) {
		const struct devconfig_diff *r = &rows[i];
		cJSON *o;
		if (only_changes && r->kind != DIFF_DRIFT && r->kind != DIFF_UNKNOWN)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(
		    o, "field", devconfig_name(r->field, r->index, name, sizeof name));
		cJSON_AddStringToObject(o, "state", kind_names[r->kind]);
		const struct devconfig_entry *de = devconfig_get(&d->desired, r->field, r->index);
		const struct devconfig_entry *ae = devconfig_get(&d->before, r->field, r->index);
		cJSON_AddItemToObject(o, "desired", devconfig_value_json(de, false));
		cJSON_AddItemToObject(
		    o, "actual", ae ? devconfig_value_json(ae, false) : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	free(rows);
	return arr;
}

static void
print_rows_text(const struct cfg_dev *d, bool only_changes)
{
	struct devconfig_diff *rows;
	size_t n;
	char name[96];

	dev_rows(d, &rows, &n);
	for (size_t i = 0; i < n; i++) {
		const struct devconfig_diff *r = &rows[i];
		if (r->kind == DIFF_SAME || (only_changes && r->kind == DIFF_UNSUPPORTED))
			continue;
		printf("  %s: ", devconfig_name(r->field, r->index, name, sizeof name));
		if (r->kind == DIFF_UNSUPPORTED) {
			puts("unsupported on this device");
			continue;
		}
		print_value(stdout, r->kind == DIFF_UNKNOWN ? "(write-only)" : r->actual);
		fputs(" -> ", stdout);
		print_value(stdout, row_value(r, r->desired));
		fputc('\n', stdout);
	}
	free(rows);
}

/* --- Modes ---------------------------------------------------------------------------------- */

static int
open_store_if_any(struct app *app)
{
	if (app_store_exists(app) && app_open_store(app) != 0)
		return -1;
	return 0;
}

int
cli_config_get(struct app *app)
{
	struct cfg_run run;
	struct cfgapply_opts o = {0};
	char **targets = xcalloc((size_t)app->args.nrest + 1, sizeof *targets);
	int json = app->args.set[CLI_JSON] > 0, rc = EXIT_OK;
	bool secrets = false; /* devices never give secrets back */

	targets[0] = (char *)app->args.mode_arg;
	for (int i = 0; i < app->args.nrest; i++)
		targets[i + 1] = app->args.rest[i];
	if (open_store_if_any(app) != 0) {
		free(targets);
		return EXIT_FAIL;
	}
	run_init(&run, app, "config-get", targets, app->args.nrest + 1);
	o.dry_run = true;
	if (identify_all(&run) != EXIT_OK || run_all(&run, &o) != 0) {
		run_done(&run);
		free(targets);
		return EXIT_FAIL;
	}
	cJSON *doc = json ? cJSON_CreateObject() : NULL;
	cJSON *arr = json ? cJSON_AddArrayToObject(doc, "devices") : NULL;
	for (size_t i = 0; i < run.n; i++) {
		struct cfg_dev *d = &run.devs[i];
		char name[96];
		if (dev_failed(d))
			rc = EXIT_FAIL;
		if (json) {
			cJSON *o2 = dev_object(d);
			cJSON_AddItemToObject(o2, "config",
			    dev_failed(d) ? cJSON_CreateNull()
			                  : config_object(&d->before, secrets));
			cJSON_AddItemToArray(arr, o2);
			continue;
		}
		print_value(stdout, dev_label(d));
		if (dev_failed(d)) {
			fputs(": ", stdout);
			print_value(stdout, dev_message(d));
			fputc('\n', stdout);
			continue;
		}
		printf(" (Gen%d", d->dr.ident.gen);
		if (d->before.has_rev)
			printf(", cfg_rev %.0f", d->before.rev);
		puts(")");
		for (size_t k = 0; k < d->before.n; k++) {
			const struct devconfig_entry *e = &d->before.e[k];
			printf("  %-28s ", devconfig_name(e->field, e->index, name, sizeof name));
			print_value(stdout, devconfig_value_text(e));
			fputc('\n', stdout);
		}
	}
	if (json)
		print_json_doc(doc);
	run_done(&run);
	free(targets);
	return rc;
}

/* Parses FIELD=VALUE into c (validated). Returns 0, or -1 with the message printed. */
static int
parse_assignment(const char *s, struct devconfig *c)
{
	const char *eq = strchr(s, '=');
	char name[96], *canon = NULL, *cause = NULL;
	enum devconfig_field f;
	int index;

	if (eq == NULL || (size_t)(eq - s) >= sizeof name) {
		fputs("shelly-tui: --config-set: expected FIELD=VALUE, not '", stderr);
		print_safe(stderr, s);
		fputs("'\n", stderr);
		return -1;
	}
	snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
	if (devconfig_parse_name(name, &f, &index, &cause) != 0 ||
	    devconfig_check(f, eq + 1, &canon, &cause) != 0) {
		fputs("shelly-tui: --config-set: ", stderr);
		print_safe(stderr, name);
		fputs(": ", stderr);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		return -1;
	}
	devconfig_set(c, f, index, DEVCONFIG_VALUE, canon);
	free(canon);
	return 0;
}

static void
audit_run(const struct cfg_run *run)
{
	struct store *st = run->app->store;

	if (st == NULL)
		return;
	for (size_t i = 0; i < run->n; i++) {
		const struct cfg_dev *d = &run->devs[i];
		struct store_audit au;
		char *cause = NULL;
		memset(&au, 0, sizeof au);
		au.ts_ms = loop_wall_ms();
		au.who = "cli";
		au.action = run->verb;
		au.target = d->ready && d->dr.ident.mac[0] ? d->dr.ident.mac : d->arg;
		au.result = d->ready ? cfgapply_outcome_name(d->outcome) : "error";
		au.detail = dev_message(d);
		if (store_audit_append(st, &au, &cause) != 0) {
			fputs("shelly-tui: audit: ", stderr);
			print_safe(stderr, cause);
			fputc('\n', stderr);
			free(cause);
		}
	}
}

/* Prints the results of --config-set / --apply; returns the exit status. */
static int
report_apply(struct cfg_run *run)
{
	int json = run->app->args.set[CLI_JSON] > 0, rc = EXIT_OK;
	cJSON *doc = json ? cJSON_CreateObject() : NULL;
	cJSON *arr = json ? cJSON_AddArrayToObject(doc, "devices") : NULL;

	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		size_t drifted;
		if (dev_failed(d))
			rc = EXIT_FAIL;
		if (json) {
			cJSON *o = dev_object(d);
			cJSON_AddStringToObject(o, "message", dev_message(d));
			cJSON_AddItemToObject(o, "changes",
			    d->ready ? rows_json(d, &drifted, true) : cJSON_CreateArray());
			cJSON_AddBoolToObject(o, "restart_required", d->restart_required);
			cJSON_AddBoolToObject(o, "rebooted", d->rebooted);
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		print_value(stdout, dev_label(d));
		printf(": %s: ", d->ready ? cfgapply_outcome_name(d->outcome) : "error");
		print_value(stdout, dev_message(d));
		fputc('\n', stdout);
		if (d->ready && d->outcome != CFGA_UNREACHABLE)
			print_rows_text(d, true);
	}
	if (json)
		print_json_doc(doc);
	if (!run->app->args.set[CLI_DRY_RUN])
		audit_run(run);
	return rc;
}

static void
apply_opts(const struct app *app, struct cfgapply_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dry_run = app->args.set[CLI_DRY_RUN] > 0;
	o->allow_reboot = app->args.set[CLI_ALLOW_REBOOT] > 0;
	o->allow_network = app->args.set[CLI_ALLOW_NETWORK_CHANGE] > 0;
}

int
cli_config_set(struct app *app)
{
	struct devconfig set;
	struct cfgapply_opts o;
	struct cfg_run run;
	char **targets = xcalloc((size_t)app->args.nrest + 1, sizeof *targets);
	int nt = 0, rc;

	devconfig_init(&set);
	rc = parse_assignment(app->args.mode_arg, &set) == 0 ? EXIT_OK : EXIT_USAGE;
	for (int i = 0; rc == EXIT_OK && i < app->args.nrest; i++) {
		if (strchr(app->args.rest[i], '=') != NULL)
			rc = parse_assignment(app->args.rest[i], &set) == 0 ? EXIT_OK : EXIT_USAGE;
		else
			targets[nt++] = app->args.rest[i];
	}
	if (rc == EXIT_OK && nt == 0) {
		fputs("shelly-tui: --config-set: give at least one TARGET\n", stderr);
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_OK && open_store_if_any(app) != 0)
		rc = EXIT_FAIL;
	if (rc != EXIT_OK) {
		devconfig_done(&set);
		free(targets);
		return rc;
	}
	run_init(&run, app, "config-set", targets, nt);
	for (size_t i = 0; i < run.n; i++)
		devconfig_copy(&run.devs[i].desired, &set);
	apply_opts(app, &o);
	if (identify_all(&run) != EXIT_OK)
		rc = EXIT_USAGE;
	else if (run_all(&run, &o) != 0)
		rc = EXIT_FAIL;
	else
		rc = report_apply(&run);
	run_done(&run);
	devconfig_done(&set);
	free(targets);
	return rc;
}

/* Renders the template for every identified device (${name} ${id} ${mac} ${index}). */
static void
render_all(struct cfg_run *run, const struct devconfig *tmpl)
{
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		struct devconfig_vars v = {0};
		char index[24], *cause = NULL;
		if (!d->ready)
			continue;
		snprintf(index, sizeof index, "%zu", i + 1);
		v.name = d->dr.ident.name[0] ? d->dr.ident.name : NULL;
		v.id = d->dr.ident.id[0] ? d->dr.ident.id : NULL;
		v.mac = d->dr.ident.mac[0] ? d->dr.ident.mac : NULL;
		v.index = index;
		if (devconfig_render(tmpl, &v, &d->desired, &cause) != 0) {
			dev_error(d, "template: %s", cause);
			free(cause);
			d->ready = 0;
		}
	}
}

/* --drift / --apply: TARGETs and the template (--template, or --apply NAME). */
static int
template_run(struct app *app, const char *verb, bool drift_only)
{
	struct devconfig tmpl;
	struct cfgapply_opts o;
	struct cfg_run run;
	char **targets = app->args.rest;
	int nt = app->args.nrest, rc = EXIT_OK;
	const char *name = app->args.val[CLI_TEMPLATE];

	if (name == NULL && !drift_only && nt > 1) {
		char *cause = NULL, *path = template_path(targets[0], &cause);
		struct stat sb;
		if (path != NULL && stat(path, &sb) == 0) {
			name = targets[0];
			targets++;
			nt--;
		}
		free(path);
		free(cause);
	}
	if (name == NULL) {
		fprintf(stderr,
		    "shelly-tui: --%s: give the desired configuration with --template NAME\n",
		    verb);
		return EXIT_USAGE;
	}
	if (nt == 0) {
		fprintf(stderr, "shelly-tui: --%s: give at least one TARGET\n", verb);
		return EXIT_USAGE;
	}
	if (template_load(name, &tmpl) != 0)
		return EXIT_USAGE;
	if (open_store_if_any(app) != 0) {
		devconfig_done(&tmpl);
		return EXIT_FAIL;
	}
	run_init(&run, app, verb, targets, nt);
	apply_opts(app, &o);
	o.dry_run = o.dry_run || drift_only;
	if (identify_all(&run) != EXIT_OK)
		rc = EXIT_USAGE;
	else {
		render_all(&run, &tmpl);
		if (run_all(&run, &o) != 0)
			rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK)
		rc = drift_only ? -1 : report_apply(&run);
	if (rc == -1) {
		int json = app->args.set[CLI_JSON] > 0, failed = 0;
		size_t total = 0;
		cJSON *doc = json ? cJSON_CreateObject() : NULL;
		cJSON *arr = json ? cJSON_AddArrayToObject(doc, "devices") : NULL;
		for (size_t i = 0; i < run.n; i++) {
			struct cfg_dev *d = &run.devs[i];
			size_t n = 0;
			bool bad = !d->ready || d->outcome == CFGA_UNREACHABLE;
			failed |= bad;
			if (json) {
				cJSON *o2 = dev_object(d);
				cJSON_AddItemToObject(o2, "fields",
				    bad ? cJSON_CreateArray() : rows_json(d, &n, false));
				cJSON_AddNumberToObject(o2, "drifted", (double)n);
				cJSON_AddItemToArray(arr, o2);
			} else if (bad) {
				print_value(stdout, dev_label(d));
				fputs(": ", stdout);
				print_value(stdout, dev_message(d));
				fputc('\n', stdout);
			} else {
				struct devconfig_diff *rows;
				size_t nr;
				n = dev_rows(d, &rows, &nr);
				free(rows);
				print_value(stdout, dev_label(d));
				printf(": %zu field(s) drifted\n", n);
				print_rows_text(d, false);
			}
			total += n;
		}
		if (json) {
			cJSON_AddNumberToObject(doc, "drifted", (double)total);
			print_json_doc(doc);
		}
		rc = total > 0 ? EXIT_DRIFT : failed ? EXIT_FAIL : EXIT_OK;
	}
	run_done(&run);
	devconfig_done(&tmpl);
	return rc;
}

int
cli_drift(struct app *app)
{
	return template_run(app, "drift", true);
}

int
cli_apply(struct app *app)
{
	return template_run(app, "apply", false);
}

/*
 * Whether the field instance is named by LIST ("mqtt,switch:0.name"): 2 by its whole name, 1 by
 * a prefix (which leaves identity fields out), 0 not.
 */
static int
field_listed(const char *list, const char *name)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n > 0 && strncmp(p, name, n) == 0 && (name[n] == '\0' || name[n] == '.'))
			return name[n] == '\0' ? 2 : 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int
cli_template_save(struct app *app)
{
	const char *from = app->args.val[CLI_FROM], *list = app->args.val[CLI_FIELDS];
	struct cfgapply_opts o = {0};
	struct devconfig keep;
	struct cfg_run run;
	char *targets[1], comment[160], name[96];
	int rc = EXIT_OK;

	if (from == NULL) {
		fputs("shelly-tui: --template-save: give the device with --from TARGET\n", stderr);
		return EXIT_USAGE;
	}
	if (open_store_if_any(app) != 0)
		return EXIT_FAIL;
	targets[0] = (char *)from;
	run_init(&run, app, "template-save", targets, 1);
	o.dry_run = true;
	if (identify_all(&run) != EXIT_OK || run_all(&run, &o) != 0) {
		run_done(&run);
		return EXIT_FAIL;
	}
	if (dev_failed(&run.devs[0])) {
		fputs("shelly-tui: --template-save: ", stderr);
		print_safe(stderr, dev_message(&run.devs[0]));
		fputc('\n', stderr);
		run_done(&run);
		return EXIT_FAIL;
	}
	devconfig_init(&keep);
	for (size_t i = 0; i < run.devs[0].before.n; i++) {
		const struct devconfig_entry *e = &run.devs[0].before.e[i];
		const struct devconfig_field_info *fi = devconfig_field(e->field);
		devconfig_name(e->field, e->index, name, sizeof name);
		if (e->state == DEVCONFIG_SECRET)
			continue;
		int listed = list != NULL ? field_listed(list, name) : 1;
		if (listed == 0 || (listed == 1 && (fi->flags & DCF_IDENTITY)))
			continue;
		devconfig_set(&keep, e->field, e->index, e->state, e->value);
	}
	snprintf(comment, sizeof comment, "from %s (Gen%d)", run.devs[0].dr.ident.id,
	    run.devs[0].dr.ident.gen);
	str_sanitize_inplace(comment);
	if (template_store(app->args.mode_arg, &keep, comment) != 0)
		rc = EXIT_FAIL;
	devconfig_done(&keep);
	run_done(&run);
	return rc;
}
