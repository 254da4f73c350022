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
#include "cli/configcmd.h"
#include "cli/print.h"
#include "conf/conf.h"
#include "engine/cfgapply.h"
#include "engine/cfgdesired.h"
#include "engine/cfggroup.h"
#include "engine/cfgmove.h"
#include "engine/cfgpending.h"
#include "engine/cfgpeers.h"
#include "engine/devtarget.h"
#include "engine/registry.h"
#include "engine/tmplcache.h"
#include "exchange/cfgdoc.h"
#include "exchange/export.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/dirs.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum { EXIT_DRIFT = 3 };

/* One TARGET and what became of it. */
struct cfg_dev {
	const char *arg;
	const char *group; /* the @GROUP this TARGET came from, or NULL */
	int queued; /* offline: the change waits in the queue */
	int refused; /* reached, but no desired configuration could be made */
	struct devtarget dt; /* resolved, identified, with credentials */
	int have_dt, ready;
	const char *dup_of; /* the earlier TARGET naming the same device: nothing done here */
	char *error; /* before the engine ran (resolve, identify, render) */
	struct devconfig desired;
	struct cfgapply *op;
	int done;
	enum cfgapply_outcome outcome;
	char *message;
	struct devconfig before, after;
	int restart_required, rebooted;
	int answered; /* unreachable: but the device answered (a password, an error): not offline */
	char *moved_to; /* the static address the device was followed to, or NULL */
	struct cfg_run *run;
};

struct cfg_run {
	struct app *app;
	struct cfg_dev *devs;
	size_t n, ndone;
	int done;
	const char *verb; /* "config-get", "config-set", "drift", "apply" */
	char **owned; /* strings of expanded @GROUPs */
	size_t nowned;
};

/* --- Fields list ---------------------------------------------------------------------------- */

int
cli_config_fields(struct app *app)
{
	(void)app;
	for (int i = 0; i < DCFG__COUNT; i++) {
		const struct devconfig_field_info *fi = devconfig_field((enum devconfig_field)i);
		char range[64] = "-";
		if (fi->type == DCT_INT || fi->type == DCT_NUM)
			snprintf(range, sizeof range, "%.10g..%.10g%s%s", fi->min, fi->max,
			    fi->unit[0] ? " " : "", fi->unit);
		else if (fi->type == DCT_ENUM)
			snprintf(range, sizeof range, "%s", fi->choices);
		printf("%-28s %-6s %-5s %-5s %-34s %s%s\n", fi->path, devconfig_type_name(fi->type),
		    fi->g1_endpoint ? "gen1" : "-", fi->g2_component ? "gen2+" : "-", range,
		    fi->help, (fi->flags & DCF_IDENTITY) ? " [identity]" : "");
	}
	return EXIT_OK;
}

/* --- Templates ------------------------------------------------------------------------------ */

static char *
template_path(const char *name, char **cause)
{
	return cfgdesired_template_path(name, cause);
}

/* Reads template NAME into out. Returns 0, or -1 with the message printed. */
static int
template_load(const char *name, struct devconfig *out)
{
	char *cause = NULL;

	if (cfgdesired_template_load(name, out, &cause) == 0)
		return 0;
	print_cause("template: ", cause);
	free(cause);
	return -1;
}

/*
 * Writes c as template NAME, as --export -o writes its file: atomically, through a symbolic
 * link onto its target (mode 0600, as --import writes templates). Returns 0, or -1 with the
 * message printed.
 */
static int
template_store(const char *name, const struct devconfig *c, const char *comment)
{
	char *cause = NULL, *path = template_path(name, &cause), *text = NULL;
	size_t len = 0;
	FILE *fp;
	int rc = -1;

	if (path == NULL) {
		print_cause("--template-save: ", cause);
		free(cause);
		return -1;
	}
	if (dirs_make_parents(path, &cause) != 0)
		; /* its cause (EACCES, EROFS), not the ENOENT the write would report */
	else if ((fp = open_memstream(&text, &len)) == NULL)
		cause = xasprintf("cannot write %s: %s", path, strerror(errno));
	else {
		devconfig_template_write(c, comment, fp);
		if (fclose(fp) != 0)
			cause = xasprintf("cannot write %s: %s", path, strerror(errno));
		else
			rc = export_write_file(path, text, len, 0600, &cause);
	}
	if (rc != 0) {
		print_cause("--template-save: ", cause);
		free(cause);
	} else {
		fputs("template written to ", stdout);
		print_safe(stdout, path);
		fputc('\n', stdout);
	}
	str_free_secret(text);
	free(path);
	return rc;
}

/* --- Targets -------------------------------------------------------------------------------- */

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

static void
target_cb(struct devtarget *dt, void *arg)
{
	struct cfg_dev *d = arg;

	(void)dt;
	if (++d->run->ndone == d->run->n)
		d->run->done = 1;
}

/*
 * Resolves every TARGET, then identifies them all at once and picks their credentials.
 * Returns EXIT_OK, or EXIT_USAGE (message printed) when a TARGET is neither registered nor an
 * address, or a name is ambiguous.
 */
static int
identify_all(struct cfg_run *run)
{
	struct engine *eng = app_engine(run->app);
	int https = run->app->args.set[CLI_HTTPS] > 0;

	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		char *cause = NULL;
		d->have_dt = 1;
		if (devtarget_init(&d->dt, eng, d->arg, https, &cause) != 0) {
			print_cause("", cause);
			free(cause);
			return EXIT_USAGE;
		}
	}
	/* A device named twice (a group and its member's MAC, a name and an address) is worked
	 * on once, as its first mention: the same MAC or address before anything is sent... */
	for (size_t i = 0; i < run->n; i++)
		for (size_t k = 0; k < i && run->devs[i].dup_of == NULL; k++)
			if (run->devs[k].dup_of == NULL &&
			    devtarget_same(&run->devs[k].dt, &run->devs[i].dt))
				run->devs[i].dup_of = run->devs[k].arg;
	run->ndone = 0;
	for (size_t i = 0; i < run->n; i++)
		run->ndone += run->devs[i].dup_of != NULL;
	run->done = run->ndone == run->n;
	for (size_t i = 0; i < run->n; i++)
		if (run->devs[i].dup_of == NULL)
			devtarget_start(&run->devs[i].dt, target_cb, &run->devs[i]);
	if (!run->done && app_run_until(run->app, &run->done) != 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		if (d->dup_of != NULL)
			continue;
		if (d->dt.done && d->dt.result == HTTP_OK)
			d->ready = 1;
		else
			dev_error(d, "%s", d->dt.error != NULL ? d->dt.error : "not identified");
		/* ... and the MAC an address showed, if an earlier target showed it too. */
		for (size_t k = 0; k < i && d->ready; k++)
			if (run->devs[k].ready &&
			    str_caseeq(devtarget_mac(&run->devs[k].dt), devtarget_mac(&d->dt))) {
				d->ready = 0;
				d->dup_of = run->devs[k].arg;
			}
	}
	for (size_t i = 0; i < run->n; i++)
		if (run->devs[i].dup_of != NULL) {
			run->devs[i].refused = 1; /* never queued either */
			dev_error(&run->devs[i], "the same device as %s", run->devs[i].dup_of);
		}
	run->ndone = 0;
	run->done = 0;
	return EXIT_OK;
}

static void
progress_cb(const char *line, void *arg)
{
	struct cfg_dev *d = arg;

	if (d->run->app->args.set[CLI_QUIET])
		return;
	fputs("shelly-tui: ", stderr);
	print_safe(stderr, d->dt.ident.id[0] ? d->dt.ident.id : d->arg);
	fputs(": ", stderr);
	print_safe(stderr, line);
	fputc('\n', stderr);
}

/* Keeps what was read as snapshots of a registered device (history with cfg_rev). */
static void
snapshot(struct cfg_dev *d, const struct cfgapply_result *r)
{
	struct store *st = d->run->app->store;
	char *cause = NULL;

	if (st == NULL || d->dt.reg == NULL)
		return;
	if (cfgpending_keep_result(st, d->dt.reg->mac, r, d->run->verb, &cause) != 0) {
		print_cause("snapshot: ", cause);
		free(cause);
	}
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
	d->answered = r->answered;
	d->moved_to = r->moved_to != NULL ? xstrdup(r->moved_to) : NULL;
	d->done = 1;
	snapshot(d, r);
	if (d->dt.reg != NULL) {
		char *cause = NULL;
		if (cfgmove_record(d->run->app->store, d->dt.reg->mac, r, "cli", &cause) != 0) {
			print_cause("the new address was not stored: ", cause);
			free(cause);
		}
	}
	if (++d->run->ndone == d->run->n)
		d->run->done = 1;
}

/*
 * SIGINT or SIGTERM during a run: what is being written is set back and every device gets its
 * result, report and audit; a second signal ends the program at once.
 */
static void
interrupt_cb(void *arg)
{
	struct cfg_run *run = arg;

	fputs("shelly-tui: interrupted: setting back what is being written (again to quit at "
	      "once)\n",
	    stderr);
	for (size_t i = 0; i < run->n; i++)
		if (run->devs[i].op != NULL && !run->devs[i].done)
			cfgapply_interrupt(run->devs[i].op);
}

/* Runs the engine on every identified device at once. */
static int
run_all(struct cfg_run *run, const struct cfgapply_opts *base)
{
	struct app *app = run->app;

	app_on_interrupt(app, interrupt_cb, run);

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
		d->op = cfgapply_start(app->loop, app->http, &d->dt.t, &d->desired, &o, done_cb, d);
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
		if (d->have_dt)
			devtarget_done(&d->dt);
		devconfig_done(&d->desired);
		devconfig_done(&d->before);
		devconfig_done(&d->after);
		free(d->error);
		free(d->message);
		free(d->moved_to);
	}
	str_array_free(run->owned, run->nowned);
	free(run->devs);
}

static char *
own(struct cfg_run *run, char *s)
{
	run->owned = xreallocarray(run->owned, run->nowned + 1, sizeof *run->owned);
	run->owned[run->nowned++] = s;
	return s;
}

struct members {
	struct cfg_run *run;
	const char *group;
	char ***v;
	const char ***grp;
	int *n;
};

static int
member_cb(const struct cfgstore_row *r, void *arg)
{
	struct members *m = arg;

	*m->v = xreallocarray(*m->v, (size_t)*m->n + 1, sizeof **m->v);
	*m->grp = xreallocarray(*m->grp, (size_t)*m->n + 1, sizeof **m->grp);
	(*m->v)[*m->n] = own(m->run, xstrdup(r->mac));
	(*m->grp)[*m->n] = m->group;
	(*m->n)++;
	return 0;
}

/*
 * Expands @GROUP operands into their members. Returns 0 with the arrays v and grp (malloc'd,
 * of borrowed strings) or -1 with the message printed.
 */
static int
expand_targets(struct cfg_run *run, char **in, int n, char ***v, const char ***grp, int *nv)
{
	struct app *app = run->app;

	*v = NULL;
	*grp = NULL;
	*nv = 0;
	for (int i = 0; i < n; i++) {
		if (in[i][0] == '@') {
			char *cause = NULL;
			int before = *nv;
			struct members m = {run, in[i] + 1, v, grp, nv};
			if (app->store == NULL) {
				fputs("shelly-tui: @GROUP needs the database (--group-add first)\n",
				    stderr);
				return -1;
			}
			if (cfgstore_group_members(app->store, in[i] + 1, member_cb, &m, &cause) !=
			    0) {
				print_cause("", cause);
				free(cause);
				return -1;
			}
			if (*nv == before) {
				print_cause("no such group or no members: ", in[i]);
				return -1;
			}
			continue;
		}
		*v = xreallocarray(*v, (size_t)*nv + 1, sizeof **v);
		*grp = xreallocarray(*grp, (size_t)*nv + 1, sizeof **grp);
		(*v)[*nv] = in[i];
		(*grp)[*nv] = NULL;
		(*nv)++;
	}
	return 0;
}

/* run_init over TARGET operands with @GROUPs expanded; -1 (message printed) when one fails. */
static int
run_init_targets(struct cfg_run *run, struct app *app, const char *verb, char **targets, int n)
{
	char **v;
	const char **grp;
	int nv;

	memset(run, 0, sizeof *run);
	run->app = app;
	if (expand_targets(run, targets, n, &v, &grp, &nv) != 0) {
		run->devs = xcalloc(1, sizeof *run->devs);
		return -1;
	}
	{
		char **owned = run->owned;
		size_t nowned = run->nowned;
		run_init(run, app, verb, v, nv);
		run->owned = owned;
		run->nowned = nowned;
	}
	for (int i = 0; i < nv; i++)
		run->devs[i].group = grp[i];
	free(v);
	free(grp);
	return 0;
}

/* The device's label for output: its id, else the TARGET. */
static const char *
dev_label(const struct cfg_dev *d)
{
	return d->ready && d->dt.ident.id[0] ? d->dt.ident.id : d->arg;
}

static int
dev_failed(const struct cfg_dev *d)
{
	if (d->queued || d->dup_of != NULL)
		return 0;
	return !d->ready || d->outcome == CFGA_UNREACHABLE || d->outcome == CFGA_FAILED ||
	       d->outcome == CFGA_FAILED_RESTORED || d->outcome == CFGA_VERIFY_FAILED ||
	       d->outcome == CFGA_REFUSED;
}

/* The result word of a device: queued, the engine's outcome, or error. */
static const char *
dev_result(const struct cfg_dev *d)
{
	if (d->queued)
		return "queued";
	if (d->dup_of != NULL)
		return "duplicate";
	if (d->ready && d->outcome == CFGA_UNREACHABLE && d->answered)
		return cfgapply_outcome_name(CFGA_FAILED); /* it answered: not offline */
	return d->ready ? cfgapply_outcome_name(d->outcome) : "error";
}

static const char *
dev_message(const struct cfg_dev *d)
{
	return d->error != NULL ? d->error : d->message != NULL ? d->message : "not done";
}

/* --- Output --------------------------------------------------------------------------------- */

cJSON *
cli_config_object(const struct devconfig *c, bool secrets)
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
		cJSON_AddStringToObject(o, "id", d->dt.ident.id);
		cJSON_AddStringToObject(o, "mac", d->dt.ident.mac);
		cJSON_AddNumberToObject(o, "gen", d->dt.ident.gen);
	} else {
		cJSON_AddNullToObject(o, "id");
		cJSON_AddNullToObject(o, "mac");
		cJSON_AddNullToObject(o, "gen");
	}
	cJSON_AddStringToObject(o, "result", dev_result(d));
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

/* The number of drifted fields of d; *unreadable gets the number of unreadable ones. */
static size_t
dev_counts(const struct cfg_dev *d, size_t *unreadable)
{
	struct devconfig_diff *rows;
	size_t n, drift = dev_rows(d, &rows, &n);

	*unreadable = 0;
	for (size_t i = 0; i < n; i++)
		*unreadable += rows[i].kind == DIFF_UNREADABLE;
	free(rows);
	return drift;
}

static const char *const kind_names[] = {"same", "drift", "unsupported", "unknown", "unreadable"};

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
		if (r->kind == DIFF_UNREADABLE && r->actual != NULL)
			cJSON_AddStringToObject(o, "actual", r->actual);
		else
			cJSON_AddItemToObject(
			    o, "actual", ae ? devconfig_value_json(ae, false) : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	free(rows);
	return arr;
}

/* "unreadable: ..." of a field the device has with a wrong type or an unknown choice (raw). */
static void
print_unreadable(const char *raw)
{
	if (raw == NULL) {
		puts("unreadable: the device's reply holds it with a wrong type");
		return;
	}
	fputs("unreadable: the device reports \"", stdout);
	print_value(stdout, raw);
	puts("\", a value the model does not know");
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
		if (r->kind == DIFF_UNREADABLE) {
			print_unreadable(r->actual);
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

/* The fields c holds unreadable: name -> the raw value (sanitised), or null for a wrong type. */
static cJSON *
unreadable_object(const struct devconfig *c)
{
	cJSON *o = cJSON_CreateObject();
	char name[96];

	for (size_t i = 0; i < c->nbad; i++) {
		const struct devconfig_entry *e = &c->bad[i];
		devconfig_name(e->field, e->index, name, sizeof name);
		if (e->value != NULL)
			cJSON_AddStringToObject(o, name, e->value);
		else
			cJSON_AddNullToObject(o, name);
	}
	return o;
}

/* Reads the configuration of every device of run: identify, then a dry run of the apply
 * machinery. Returns 0, or -1 when the run could not be made (the cause is printed). */
static int
read_all(struct cfg_run *run)
{
	struct cfgapply_opts o = {0};

	o.dry_run = true;
	return identify_all(run) == EXIT_OK && run_all(run, &o) == 0 ? 0 : -1;
}

/*
 * Opens the store and reads the configuration of one TARGET into run. Returns 0, or -1 with
 * the failure printed after what (and run done).
 */
static int
read_one(struct cfg_run *run, struct app *app, const char *verb, const char *target,
    const char *what)
{
	char *targets[1] = { (char *)target };

	if (app_open_store_if_any(app) != 0)
		return -1;
	run_init(run, app, verb, targets, 1);
	if (read_all(run) == 0 && !dev_failed(&run->devs[0]))
		return 0;
	if (dev_failed(&run->devs[0])) {
		fprintf(stderr, "shelly-tui: %s: ", what);
		print_safe(stderr, dev_message(&run->devs[0]));
		fputc('\n', stderr);
	}
	run_done(run);
	return -1;
}

int
cli_config_get(struct app *app)
{
	struct cfg_run run;
	char **targets = xcalloc((size_t)app->args.nrest + 1, sizeof *targets);
	int json = app->args.set[CLI_JSON] > 0, rc = EXIT_OK;
	bool secrets = false; /* devices never give secrets back */

	targets[0] = (char *)app->args.mode_arg;
	for (int i = 0; i < app->args.nrest; i++)
		targets[i + 1] = app->args.rest[i];
	if (app_open_store_if_any(app) != 0) {
		free(targets);
		return EXIT_FAIL;
	}
	if (run_init_targets(&run, app, "config-get", targets, app->args.nrest + 1) != 0 ||
	    read_all(&run) != 0) {
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
			    dev_failed(d) || d->dup_of != NULL
			        ? cJSON_CreateNull()
			        : cli_config_object(&d->before, secrets));
			if (!dev_failed(d) && d->dup_of == NULL && d->before.nbad > 0)
				cJSON_AddItemToObject(
				    o2, "unreadable", unreadable_object(&d->before));
			cJSON_AddItemToArray(arr, o2);
			continue;
		}
		print_value(stdout, dev_label(d));
		if (dev_failed(d) || d->dup_of != NULL) {
			fputs(": ", stdout);
			print_value(stdout, dev_message(d));
			fputc('\n', stdout);
			continue;
		}
		printf(" (Gen%d", d->dt.ident.gen);
		if (d->before.has_rev)
			printf(", cfg_rev %.0f", d->before.rev);
		puts(")");
		for (size_t k = 0; k < d->before.n; k++) {
			const struct devconfig_entry *e = &d->before.e[k];
			printf("  %-28s ", devconfig_name(e->field, e->index, name, sizeof name));
			print_value(stdout, devconfig_value_text(e));
			fputc('\n', stdout);
		}
		for (size_t k = 0; k < d->before.nbad; k++) {
			const struct devconfig_entry *e = &d->before.bad[k];
			printf("  %-28s ", devconfig_name(e->field, e->index, name, sizeof name));
			print_unreadable(e->value);
		}
	}
	if (json)
		print_json_doc(stdout, doc);
	run_done(&run);
	free(targets);
	return rc;
}

/* Parses FIELD=VALUE of option opt ("--group-set") into c (validated; a field c holds already
 * is given twice). Returns 0, or -1 with the message printed. */
static int
parse_assignment(const char *opt, const char *s, struct devconfig *c)
{
	const char *eq = strchr(s, '=');
	char name[96], *canon = NULL, *cause = NULL;
	enum devconfig_field f;
	int index;

	if (eq == NULL || (size_t)(eq - s) >= sizeof name) {
		fprintf(stderr, "shelly-tui: %s: expected FIELD=VALUE, not '", opt);
		print_safe(stderr, s);
		fputs("'\n", stderr);
		return -1;
	}
	snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
	if (devconfig_parse_name(name, &f, &index, &cause) != 0 ||
	    devconfig_check(f, eq + 1, &canon, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s: ", opt);
		print_safe(stderr, name);
		fputs(": ", stderr);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		return -1;
	}
	if (devconfig_get(c, f, index) != NULL) {
		fprintf(stderr, "shelly-tui: %s: ", opt);
		print_safe(stderr, name);
		fputs(" given twice\n", stderr);
		free(canon);
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
		if (d->dup_of != NULL)
			continue; /* nothing was done: its first mention is recorded */
		memset(&au, 0, sizeof au);
		au.ts_ms = loop_wall_ms();
		au.who = "cli";
		au.action = run->verb;
		au.target = d->ready && d->dt.ident.mac[0] ? d->dt.ident.mac : d->arg;
		au.result = dev_result(d);
		au.detail = dev_message(d);
		if (store_audit_append(st, &au, &cause) != 0) {
			print_cause("audit: ", cause);
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
			if (d->moved_to != NULL)
				cJSON_AddStringToObject(o, "moved_to", d->moved_to);
			else
				cJSON_AddNullToObject(o, "moved_to");
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		print_value(stdout, dev_label(d));
		printf(": %s: ", dev_result(d));
		print_value(stdout, dev_message(d));
		fputc('\n', stdout);
		if (d->ready && d->outcome != CFGA_UNREACHABLE)
			print_rows_text(d, true);
	}
	if (json)
		print_json_doc(stdout, doc);
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
	o->follow_timeout_ms = (uint32_t)conf_get_ms(app->cfg, OPT_READDRESS_TIMEOUT);
}

static void queue_offline(struct cfg_run *run);
static void refuse_shared_identity(struct cfg_run *run);
static void remember_desired(struct cfg_run *run);

int
cli_config_apply_one(
    struct app *app, const char *verb, const char *target, const struct devconfig *desired)
{
	struct cfgapply_opts o;
	struct cfg_run run;
	char *targets[1] = {(char *)target};
	int rc;

	run_init(&run, app, verb, targets, 1);
	devconfig_copy(&run.devs[0].desired, desired);
	apply_opts(app, &o);
	if (identify_all(&run) != EXIT_OK)
		rc = EXIT_USAGE;
	else if (run_all(&run, &o) != 0)
		rc = EXIT_FAIL;
	else
		rc = report_apply(&run);
	run_done(&run);
	return rc;
}

/*
 * 0, or -1 with the message printed when a value of c other than a secret holds '${':
 * --config-set sends values as given, but keeps them as the device's desired fields, which are
 * expanded as a template, so such a value would be written one way and compared another.
 */
static int
vars_refused(const char *opt, const struct devconfig *c)
{
	char name[96];

	for (size_t i = 0; i < c->n; i++) {
		const struct devconfig_entry *e = &c->e[i];
		if (e->state != DEVCONFIG_VALUE || strstr(e->value, "${") == NULL ||
		    (devconfig_field(e->field)->flags & DCF_SECRET))
			continue;
		fprintf(stderr,
		    "shelly-tui: %s: %s: '${' starts a template variable, which %s does not "
		    "expand; use a template (--apply) or --group-set\n",
		    opt, devconfig_name(e->field, e->index, name, sizeof name), opt);
		return -1;
	}
	return 0;
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
	rc = parse_assignment("--config-set", app->args.mode_arg, &set) == 0 ? EXIT_OK : EXIT_USAGE;
	for (int i = 0; rc == EXIT_OK && i < app->args.nrest; i++) {
		if (strchr(app->args.rest[i], '=') != NULL)
			rc = parse_assignment("--config-set", app->args.rest[i], &set) == 0 ? EXIT_OK : EXIT_USAGE;
		else
			targets[nt++] = app->args.rest[i];
	}
	if (rc == EXIT_OK && vars_refused("--config-set", &set) != 0)
		rc = EXIT_USAGE;
	if (rc == EXIT_OK && nt == 0) {
		fputs("shelly-tui: --config-set: give at least one TARGET\n", stderr);
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_OK && app_open_store_if_any(app) != 0)
		rc = EXIT_FAIL;
	if (rc != EXIT_OK) {
		devconfig_done(&set);
		free(targets);
		return rc;
	}
	if (run_init_targets(&run, app, "config-set", targets, nt) != 0) {
		run_done(&run);
		devconfig_done(&set);
		free(targets);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < run.n; i++)
		devconfig_copy(&run.devs[i].desired, &set);
	apply_opts(app, &o);
	if (identify_all(&run) != EXIT_OK)
		rc = EXIT_USAGE;
	else {
		refuse_shared_identity(&run);
		if (run_all(&run, &o) != 0)
			rc = EXIT_FAIL;
		else {
			queue_offline(&run);
			remember_desired(&run);
			rc = report_apply(&run);
		}
	}
	run_done(&run);
	devconfig_done(&set);
	free(targets);
	return rc;
}

/* The variables of a device: its own identity, else the registry's; index: position from 1. */
static void
dev_vars(const struct cfg_dev *d, size_t i, char *index, size_t size, struct devconfig_vars *v)
{
	const struct device_ident *id = d->ready ? &d->dt.ident : NULL;

	memset(v, 0, sizeof *v);
	snprintf(index, size, "%zu", i + 1);
	v->index = index;
	v->group = d->group;
	if (id != NULL) {
		v->name = id->name[0] ? id->name : NULL;
		v->id = id->id[0] ? id->id : NULL;
		v->mac = id->mac[0] ? id->mac : NULL;
	} else if (d->dt.reg != NULL) {
		v->name = d->dt.reg->name;
		v->id = d->dt.reg->id;
		v->mac = d->dt.reg->mac;
	}
}

/* The MAC of a device (identified, else registered), or NULL. */
static const char *
dev_mac(const struct cfg_dev *d)
{
	if (d->ready && d->dt.ident.mac[0])
		return d->dt.ident.mac;
	return d->dt.reg != NULL ? d->dt.reg->mac : NULL;
}

/* A TARGET that came from @GROUP: ${index} is its position in the group, as everywhere. */
static void
group_index(const struct cfg_run *run, struct tmplcache *cache, const struct cfg_dev *d,
    char *index, size_t size)
{
	const char *mac = dev_mac(d);
	char *cause = NULL;

	if (d->group != NULL && mac != NULL && run->app->store != NULL &&
	    tmplcache_index(cache, run->app->store, d->group, mac, index, size, &cause) < 0)
		free(cause);
}

/*
 * The desired configuration of a registered device from the store: the template of its group
 * (the @GROUP it was named by first), the group's own fields on top, then the fields stored
 * for the device itself (device over group over template). Returns 0, or -1 with d->error set.
 */
static int
stored_desired(struct cfg_run *run, struct tmplcache *cache, size_t i)
{
	struct cfg_dev *d = &run->devs[i];
	const char *mac = dev_mac(d);
	struct devconfig_vars v;
	char index[24], *cause = NULL;

	if (mac == NULL || run->app->store == NULL) {
		dev_error(d, "not registered: give --template NAME");
		return -1;
	}
	dev_vars(d, i, index, sizeof index, &v);
	v.index = NULL; /* the engine's: the position in the device's group, as the console has it */
	if (cfgdesired_stored_cached(
	        run->app->store, cache, mac, d->group, &v, &d->desired, &cause) != 0) {
		dev_error(d, "%s", cause);
		free(cause);
		return -1;
	}
	if (d->desired.n == 0) {
		dev_error(d, "no desired configuration: no group template, no stored fields");
		return -1;
	}
	return 0;
}

/*
 * Fills every device's desired configuration: tmpl rendered, else the store's. Template files,
 * groups' fields and members are read once for the whole run (a group of 1000 devices read its
 * template 1000 times and its member list once per member before).
 */
static void
desired_all(struct cfg_run *run, const struct devconfig *tmpl)
{
	struct tmplcache *cache = tmplcache_new();

	tmplcache_pass(cache, 0);
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		struct devconfig_vars v;
		char index[24], *cause = NULL;
		int ok;
		if (!d->ready && d->dt.reg == NULL)
			continue;
		if (tmpl == NULL)
			ok = stored_desired(run, cache, i) == 0;
		else {
			dev_vars(d, i, index, sizeof index, &v);
			group_index(run, cache, d, index, sizeof index);
			ok = devconfig_render(tmpl, &v, &d->desired, &cause) == 0;
			if (!ok) {
				dev_error(d, "template: %s", cause);
				free(cause);
			}
		}
		if (!ok && d->ready) {
			d->ready = 0;
			d->refused = 1;
		}
	}
	tmplcache_free(cache);
}

/*
 * Refuses (nothing sent, nothing queued) every device the run would give the same static
 * address, MQTT client id or topic prefix as another one, or another registered device's
 * desired one, or a static address another registered device is at (engine/cfgpeers).
 */
static void
refuse_shared_identity(struct cfg_run *run)
{
	const struct devconfig **desired = xcalloc(run->n ? run->n : 1, sizeof *desired);
	const char **macs = xcalloc(run->n ? run->n : 1, sizeof *macs);
	char **why = xcalloc(run->n ? run->n : 1, sizeof *why);

	for (size_t i = 0; i < run->n; i++) {
		const struct cfg_dev *d = &run->devs[i];
		desired[i] = d->dup_of == NULL ? &d->desired : NULL;
		macs[i] = d->dt.reg != NULL                        ? d->dt.reg->mac
		          : d->dt.have_ident && d->dt.ident.mac[0] ? d->dt.ident.mac
		                                                   : NULL;
	}
	cfgpeers_check_run(run->app->store, desired, macs, run->n, why);
	for (size_t i = 0; i < run->n; i++) {
		if (why[i] == NULL)
			continue;
		dev_error(&run->devs[i], "%s", why[i]);
		run->devs[i].ready = 0;
		run->devs[i].refused = 1;
		free(why[i]);
	}
	free(why);
	free(macs);
	free(desired);
}

/* Whether the device is registered and could not be reached (so its change can wait). */
static bool
dev_offline(const struct cfg_dev *d)
{
	if (d->dt.reg == NULL || d->refused)
		return false;
	if (d->ready)
		return d->outcome == CFGA_UNREACHABLE && !d->answered;
	return d->have_dt && d->dt.done && !d->dt.have_ident;
}

/* Queues the desired change of registered devices that could not be reached. */
static void
queue_offline(struct cfg_run *run)
{
	struct app *app = run->app;
	bool reboot = app->args.set[CLI_ALLOW_REBOOT] > 0;
	bool network = app->args.set[CLI_ALLOW_NETWORK_CHANGE] > 0;

	if (app->store == NULL || app->args.set[CLI_DRY_RUN])
		return;
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		char *cause = NULL;
		if (!dev_offline(d) || d->desired.n == 0)
			continue;
		if (cfgpending_queue(
		        app->store, d->dt.reg->mac, &d->desired, reboot, network, &cause) == 0) {
			d->queued = 1;
			dev_error(d, "offline: the change is queued and applied when the device is "
			             "next seen (--pending)");
		} else {
			dev_error(d, "offline, and not queued: %s", cause);
			free(cause);
		}
	}
}

/* After --config-set: the fields set become the device's stored desired fields. */
static void
remember_desired(struct cfg_run *run)
{
	struct store *st = run->app->store;

	if (st == NULL || run->app->args.set[CLI_DRY_RUN])
		return;
	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		char *cause = NULL;
		if (d->dt.reg == NULL ||
		    (!d->queued &&
		        (!d->ready || (d->outcome != CFGA_OK && d->outcome != CFGA_UNCHANGED))))
			continue;
		if (cfgdesired_remember(st, d->dt.reg->mac, &d->desired, &cause) != 0) {
			print_cause("", cause);
			free(cause);
		}
	}
}

/* Prints --drift; returns 3 when anything drifted, 1 when a device could not be read, else 0. */
static int
report_drift(struct cfg_run *run)
{
	int json = run->app->args.set[CLI_JSON] > 0, failed = 0;
	size_t total = 0;
	cJSON *doc = json ? cJSON_CreateObject() : NULL;
	cJSON *arr = json ? cJSON_AddArrayToObject(doc, "devices") : NULL;

	for (size_t i = 0; i < run->n; i++) {
		struct cfg_dev *d = &run->devs[i];
		size_t n = 0, unreadable = 0;
		bool bad = !d->ready || d->outcome == CFGA_UNREACHABLE;
		failed |= bad && d->dup_of == NULL;
		if (!bad)
			n = dev_counts(d, &unreadable);
		/* a field the device has but whose value it sent with a wrong type: not compared,
		 * so the device could not be read */
		failed |= unreadable > 0;
		if (json) {
			cJSON *o2 = dev_object(d);
			cJSON_AddItemToObject(
			    o2, "fields", bad ? cJSON_CreateArray() : rows_json(d, &n, false));
			cJSON_AddNumberToObject(o2, "drifted", (double)n);
			cJSON_AddItemToArray(arr, o2);
		} else if (bad) {
			print_value(stdout, dev_label(d));
			fputs(": ", stdout);
			print_value(stdout, dev_message(d));
			fputc('\n', stdout);
		} else {
			print_value(stdout, dev_label(d));
			printf(": %zu field(s) drifted", n);
			if (unreadable > 0)
				printf(", %zu unreadable", unreadable);
			putchar('\n');
			print_rows_text(d, false);
		}
		total += n;
	}
	if (json) {
		cJSON_AddNumberToObject(doc, "drifted", (double)total);
		print_json_doc(stdout, doc);
	}
	return total > 0 ? EXIT_DRIFT : failed ? EXIT_FAIL : EXIT_OK;
}

/* The template NAME of --template, or of --apply's first operand when such a template exists. */
static const char *
template_name(struct app *app, bool drift_only, char ***targets, int *nt)
{
	const char *name = app->args.val[CLI_TEMPLATE];

	if (name == NULL && !drift_only && *nt > 1) {
		char *cause = NULL, *path = template_path((*targets)[0], &cause);
		struct stat sb;
		if (path != NULL && stat(path, &sb) == 0) {
			name = (*targets)[0];
			(*targets)++;
			(*nt)--;
		}
		free(path);
		free(cause);
	}
	return name;
}

/*
 * --drift / --apply / --clone: TARGETs and their desired configuration: tmpl when given, else
 * what the store holds for each device (group template, device fields).
 */
static int
desired_run(struct app *app, const char *verb, bool drift_only, char **targets, int nt,
    const struct devconfig *tmpl, const char *same_model)
{
	struct cfgapply_opts o;
	struct cfg_run run;
	int rc = EXIT_OK;

	if (nt == 0) {
		fprintf(stderr, "shelly-tui: --%s: give at least one TARGET\n", verb);
		return EXIT_USAGE;
	}
	if (tmpl == NULL && app->store == NULL) {
		fprintf(stderr,
		    "shelly-tui: --%s: give the desired configuration with --template NAME (no "
		    "database holds one)\n",
		    verb);
		return EXIT_USAGE;
	}
	if (run_init_targets(&run, app, verb, targets, nt) != 0) {
		run_done(&run);
		return EXIT_USAGE;
	}
	apply_opts(app, &o);
	o.dry_run = o.dry_run || drift_only;
	if (identify_all(&run) != EXIT_OK)
		rc = EXIT_USAGE;
	else {
		for (size_t i = 0; same_model != NULL && i < run.n; i++) {
			struct cfg_dev *d = &run.devs[i];
			if (d->ready && !app->args.set[CLI_FORCE] &&
			    !str_caseeq(d->dt.ident.model, same_model)) {
				dev_error(d,
				    "not the same kind as the source (%s, not %s; --force)",
				    d->dt.ident.model, same_model);
				d->ready = 0;
				d->refused = 1;
			}
		}
		desired_all(&run, tmpl);
		if (!drift_only)
			refuse_shared_identity(&run);
		if (run_all(&run, &o) != 0)
			rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK && drift_only)
		rc = report_drift(&run);
	else if (rc == EXIT_OK) {
		queue_offline(&run);
		rc = report_apply(&run);
	}
	run_done(&run);
	return rc;
}

static int
template_run(struct app *app, const char *verb, bool drift_only)
{
	struct devconfig tmpl;
	char **targets = app->args.rest;
	int nt = app->args.nrest, rc;
	const char *name = template_name(app, drift_only, &targets, &nt);

	if (app_open_store_if_any(app) != 0)
		return EXIT_FAIL;
	if (name == NULL)
		return desired_run(app, verb, drift_only, targets, nt, NULL, NULL);
	if (template_load(name, &tmpl) != 0)
		return EXIT_USAGE;
	rc = desired_run(app, verb, drift_only, targets, nt, &tmpl, NULL);
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
 * Whether the field instance is named by LIST ("mqtt,switch:0.name"): 2 by its whole name
 * (wherever in the list), 1 only by a prefix (which leaves identity fields out), 0 not.
 */
static int
field_listed(const char *list, const char *name)
{
	const char *p = list;
	int best = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n > 0 && strncmp(p, name, n) == 0 && (name[n] == '\0' || name[n] == '.') &&
		    (name[n] == '\0' ? 2 : 1) > best)
			best = name[n] == '\0' ? 2 : 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return best;
}

/*
 * Values read from a device that become values to send (--template-save, --clone): 1 with the
 * message printed when the device reports a value a desired configuration refuses (control
 * characters, escape sequences, invalid UTF-8, too long, a '${'); else 0, with a static addressing
 * block that lost its address (an identity field) left out, noted.
 */
static int
read_values_refused(const char *opt, struct devconfig *keep, const char *hint)
{
	char name[96], *cause = NULL;

	/* '${' would be taken for a template variable: expanded per target, or an error there. */
	for (size_t i = 0; i < keep->n && cause == NULL; i++)
		if (keep->e[i].state == DEVCONFIG_VALUE && strstr(keep->e[i].value, "${") != NULL) {
			devconfig_name(keep->e[i].field, keep->e[i].index, name, sizeof name);
			cause = xstrdup("'${' would be taken for a template variable");
		}
	if (cause != NULL || devconfig_unsettable(keep, name, sizeof name, &cause) >= 0) {
		fprintf(stderr, "shelly-tui: %s: the device reports %s, ", opt, name);
		fputs("which a desired configuration refuses: ", stderr);
		print_safe(stderr, cause);
		fprintf(stderr, "; %s\n", hint);
		free(cause);
		return 1;
	}
	if (devconfig_drop_half_static(keep) > 0)
		fprintf(stderr,
		    "shelly-tui: %s: note: the device has a static address, which is its own "
		    "(wifi.sta.ip); its static block (wifi.sta.ipv4mode, netmask, gw, nameserver) "
		    "is left out too\n",
		    opt);
	return 0;
}

/* Whether every name of --fields LIST is a field or section of the model (else printed). */
static bool
fields_known(const char *list)
{
	const char *p = list;

	do {
		size_t n = strcspn(p, ",");
		char sel[96], *cause = NULL;
		snprintf(sel, sizeof sel, "%.*s", (int)(n < sizeof sel ? n : sizeof sel - 1), p);
		if (n >= sizeof sel || devconfig_check_selector(sel, &cause) != 0) {
			fputs("shelly-tui: --fields: '", stderr);
			print_safe(stderr, sel);
			fputs("': ", stderr);
			print_safe(stderr, cause != NULL ? cause : "too long");
			fputc('\n', stderr);
			free(cause);
			return false;
		}
		p += n;
	} while (*p++ == ',');
	return true;
}

int
cli_template_save(struct app *app)
{
	const char *from = app->args.val[CLI_FROM], *list = app->args.val[CLI_FIELDS];
	struct devconfig keep;
	struct cfg_run run;
	char comment[160], name[96];
	int rc = EXIT_OK;

	if (from == NULL) {
		fputs("shelly-tui: --template-save: give the device with --from TARGET\n", stderr);
		return EXIT_USAGE;
	}
	if (list != NULL && !fields_known(list))
		return EXIT_USAGE;
	if (read_one(&run, app, "template-save", from, "--template-save") != 0)
		return EXIT_FAIL;
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
	snprintf(comment, sizeof comment, "from %s (Gen%d)", run.devs[0].dt.ident.id,
	    run.devs[0].dt.ident.gen);
	str_sanitize_inplace(comment);
	if (read_values_refused("--template-save", &keep,
	        "nothing written (leave it out with --fields, or fix it on the device)"))
		rc = EXIT_FAIL;
	else if (keep.n == 0) {
		fputs("shelly-tui: --template-save: the template would hold no field (the device "
		      "has none of those named); nothing written\n",
		    stderr);
		rc = EXIT_FAIL;
	} else if (template_store(app->args.mode_arg, &keep, comment) != 0)
		rc = EXIT_FAIL;
	devconfig_done(&keep);
	run_done(&run);
	return rc;
}

/* --- Groups and the queue ------------------------------------------------------------------- */

static int
group_name_ok(const char *g)
{
	if (g == NULL || g[0] == '\0' || g[0] == '@' || strlen(g) > 64 || !str_is_safe(g) ||
	    strchr(g, ' ') != NULL) {
		fputs("shelly-tui: a group name is 1-64 printable characters without spaces or a "
		      "leading '@'\n",
		    stderr);
		return 0;
	}
	return 1;
}

static int
need_store(struct app *app, const char *what)
{
	if (app_open_store(app) != 0) {
		fprintf(stderr, "shelly-tui: --%s needs the database\n", what);
		return -1;
	}
	return 0;
}

/*
 * The MACs of registered TARGETs, @GROUP naming its members (cfgdoc_members): *macs, *n of
 * them, for str_array_free, also on failure; -1 (printed) if one is not registered or a group
 * has no members.
 */
static int
registered_macs(struct app *app, char **args, int nargs, char ***macs, size_t *n)
{
	int rc = 0;

	*macs = xcalloc(1, sizeof **macs);
	*n = 0;
	for (int i = 0; rc == 0 && i < nargs; i++) {
		char *cause = NULL, **gm = NULL;
		size_t ngm = 0;
		struct store_device *reg = NULL;

		if (args[i][0] == '@') {
			if ((rc = cfgdoc_members(app->store, args[i] + 1, &gm, &ngm, &cause)) != 0)
				print_cause("", cause);
			else if (ngm == 0)
				print_cause("no such group or no members: ", args[i]);
			rc = rc != 0 || ngm == 0 ? -1 : 0;
		} else if ((reg = registry_find(app_engine(app), args[i], &cause)) == NULL) {
			print_cause("not a registered device (--add it first): ",
			    cause != NULL ? cause : args[i]);
			rc = -1;
		} else {
			gm = xcalloc(1, sizeof *gm);
			gm[ngm++] = xstrdup(reg->mac);
		}
		if (ngm > 0) {
			*macs = xreallocarray(*macs, *n + ngm + 1, sizeof **macs);
			memcpy(*macs + *n, gm, ngm * sizeof *gm);
			*n += ngm;
		}
		free(gm);
		store_device_free(reg);
		free(cause);
	}
	return rc;
}

/*
 * -1 with the message printed when adding the n devices macs to group g must be refused
 * (engine/cfggroup): each member applied on its own would be sent one static address.
 */
static int
group_add_shares(struct app *app, const char *g, char *const *macs, size_t n)
{
	char *why = cfggroup_add_refusal(app->store, g, (const char *const *)macs, n);

	if (why == NULL)
		return 0;
	fprintf(stderr, "shelly-tui: --group-add: %s\n", why);
	free(why);
	return -1;
}

/*
 * -1 with the message printed when c, the own fields or template of group g (every member's),
 * gives a field that must differ per device a value without a per-device variable while g has
 * two members or more. A group of one may hold it: an apply and the queue refuse, before
 * anything is sent, a value two devices of one run would get (engine/cfgunique), and
 * --group-add refuses its second member (engine/cfggroup).
 */
static int
same_for_every_member(struct app *app, const char *opt, const char *g, const struct devconfig *c)
{
	char *why;

	if (cfggroup_members_after(app->store, g, NULL, 0) < 2 || (why = cfggroup_fixed(c)) == NULL)
		return 0;
	fprintf(stderr, "shelly-tui: %s: %s\n", opt, why);
	free(why);
	return -1;
}

static int
group_change(struct app *app, bool add)
{
	const char *g = app->args.mode_arg, *verb = add ? "group-add" : "group-remove";
	char **macs = NULL, *cause = NULL;
	size_t n = 0;
	int rc = EXIT_OK;

	if (!group_name_ok(g))
		return EXIT_USAGE;
	if (add && app->args.nrest == 0) {
		fputs("shelly-tui: --group-add: give at least one TARGET\n", stderr);
		return EXIT_USAGE;
	}
	if (need_store(app, verb) != 0)
		return EXIT_FAIL;
	if (!add && (rc = export_group_exists(app->store, g, &cause)) <= 0) {
		char *clean = str_sanitize(g, 64);

		if (rc < 0)
			print_cause("--group-remove: ", cause);
		else
			fprintf(stderr, "shelly-tui: --group-remove: no group \"%s\" (see --group-list)\n",
			    clean);
		free(clean);
		free(cause);
		return rc < 0 ? EXIT_FAIL : EXIT_USAGE;
	}
	rc = EXIT_OK;
	if (registered_macs(app, app->args.rest, app->args.nrest, &macs, &n) != 0 ||
	    (add && group_add_shares(app, g, macs, n) != 0)) {
		str_array_free(macs, n);
		return EXIT_USAGE;
	}
	if (!add && app->args.nrest == 0) {
		char key[96];
		cfgdesired_group_key(g, key, sizeof key);
		if (store_setting_set(app->store, key, NULL, &cause) != 0)
			rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK && (add ? cfgstore_group_add : cfgstore_group_remove)(app->store, g,
	                         (const char *const *)macs, n, &cause) != 0) {
		fprintf(stderr, "shelly-tui: --%s: ", verb);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		rc = EXIT_FAIL;
	}
	str_array_free(macs, n);
	return rc;
}

/*
 * 1 with the message printed when c sets a secret: a desired configuration the database holds
 * never keeps one (as a queued change), so it would be dropped silently.
 */
static int
secret_refused(const char *opt, const struct devconfig *c)
{
	char name[96];

	for (size_t i = 0; i < c->n; i++) {
		if (!(devconfig_field(c->e[i].field)->flags & DCF_SECRET))
			continue;
		fprintf(stderr,
		    "shelly-tui: %s: %s is a secret, which the database never stores; nothing "
		    "stored (send it with --config-set, or keep it in a template file)\n",
		    opt, devconfig_name(c->e[i].field, c->e[i].index, name, sizeof name));
		return 1;
	}
	return 0;
}

/* --group-set G FIELD=VALUE...: the group's own desired fields (over its template). */
int
cli_group_set(struct app *app)
{
	const char *g = app->args.mode_arg;
	struct devconfig cur, add;
	char key[96], *body, *cause = NULL;
	int rc = EXIT_OK;

	if (!group_name_ok(g))
		return EXIT_USAGE;
	if (app->args.nrest == 0) {
		fputs(
		    "shelly-tui: --group-set G FIELD=VALUE...: give at least one field\n", stderr);
		return EXIT_USAGE;
	}
	if (need_store(app, "group-set") != 0)
		return EXIT_FAIL;
	cfgdesired_group_key(g, key, sizeof key);
	body = store_setting_get(app->store, key);
	if (body == NULL || devconfig_template_parse(body, strlen(body), &cur, &cause) != 0)
		devconfig_init(&cur);
	free(body);
	free(cause);
	cause = NULL;
	devconfig_init(&add);
	for (int i = 0; i < app->args.nrest && rc == EXIT_OK; i++)
		if (parse_assignment("--group-set", app->args.rest[i], &add) != 0)
			rc = EXIT_USAGE;
	if (rc == EXIT_OK && devconfig_vars_check(&add, &cause) != 0) {
		print_cause("--group-set: ", cause);
		free(cause);
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_OK && same_for_every_member(app, "--group-set", g, &add) != 0)
		rc = EXIT_USAGE;
	if (rc != EXIT_OK || secret_refused("--group-set", &add)) {
		devconfig_wipe(&add);
		devconfig_done(&cur);
		return EXIT_USAGE;
	}
	cfgdesired_overlay(&cur, &add); /* over the group's fields stored before */
	devconfig_done(&add);
	body = cfgdesired_text(&cur);
	if (cfgstore_group_add(app->store, g, NULL, 0, &cause) != 0 ||
	    store_setting_set(app->store, key, body, &cause) != 0) {
		print_cause("--group-set: ", cause);
		free(cause);
		rc = EXIT_FAIL;
	}
	free(body);
	devconfig_done(&cur);
	return rc;
}

int
cli_group_add(struct app *app)
{
	return group_change(app, true);
}

int
cli_group_remove(struct app *app)
{
	return group_change(app, false);
}

int
cli_group_template(struct app *app)
{
	const char *g = app->args.mode_arg;
	char *cause = NULL, *path;
	int rc = EXIT_OK;

	if (!group_name_ok(g))
		return EXIT_USAGE;
	if (app->args.nrest != 1) {
		fputs("shelly-tui: --group-template G NAME: one template NAME (\"\" to detach)\n",
		    stderr);
		return EXIT_USAGE;
	}
	if (need_store(app, "group-template") != 0)
		return EXIT_FAIL;
	if (app->args.rest[0][0] != '\0') {
		struct devconfig t;
		if (template_load(app->args.rest[0], &t) != 0)
			return EXIT_USAGE; /* a template that cannot be read is not attached */
		rc = devconfig_vars_check(&t, &cause) == 0 ? EXIT_OK : EXIT_USAGE;
		if (rc != EXIT_OK) {
			print_cause("--group-template: ", cause);
			free(cause);
		} else if (same_for_every_member(app, "--group-template", g, &t) != 0)
			rc = EXIT_USAGE;
		devconfig_done(&t);
		if (rc != EXIT_OK)
			return rc; /* nor one whose variables its members cannot fill */
		path = template_path(app->args.rest[0], &cause);
		free(path);
		free(cause);
		cause = NULL;
	}
	if (cfgstore_group_template(app->store, g, app->args.rest[0], &cause) != 0) {
		print_cause("--group-template: ", cause);
		free(cause);
		rc = EXIT_FAIL;
	}
	return rc;
}

struct glist {
	struct app *app;
	cJSON *arr;
};

static int
group_member_cb(const struct cfgstore_row *r, void *arg)
{
	cJSON *members = arg;

	cJSON_AddItemToArray(members, cJSON_CreateString(r->mac));
	return 0;
}

static int
group_list_cb(const struct cfgstore_row *r, void *arg)
{
	struct glist *gl = arg;
	cJSON *o = cJSON_CreateObject(), *members;
	char *cause = NULL;

	cJSON_AddStringToObject(o, "name", r->name);
	if (r->tmpl != NULL)
		cJSON_AddStringToObject(o, "template", r->tmpl);
	else
		cJSON_AddNullToObject(o, "template");
	members = cJSON_AddArrayToObject(o, "members");
	if (cfgstore_group_members(gl->app->store, r->name, group_member_cb, members, &cause) != 0)
		free(cause);
	cJSON_AddItemToArray(gl->arr, o);
	return 0;
}

/*
 * Starts a --json-able list under key: 1 with doc and arr to fill, -1 when there is no
 * database (it is not created: a mistyped --db is an error, not an empty list) or it cannot
 * be opened.
 */
static int
list_start(struct app *app, const char *verb, const char *key, cJSON **doc, cJSON **arr)
{
	if (app_open_existing_store(app) != 0) {
		fprintf(stderr, "shelly-tui: --%s needs the database\n", verb);
		return -1;
	}
	*doc = cJSON_CreateObject();
	*arr = cJSON_AddArrayToObject(*doc, key);
	return 1;
}

static int
list_failed(const char *verb, char *cause, cJSON *doc)
{
	fprintf(stderr, "shelly-tui: --%s: ", verb);
	print_safe(stderr, cause);
	fputc('\n', stderr);
	free(cause);
	cJSON_Delete(doc);
	return EXIT_FAIL;
}

int
cli_group_list(struct app *app)
{
	struct glist gl = {app, NULL};
	cJSON *doc = NULL;
	char *cause = NULL;
	int rc = list_start(app, "group-list", "groups", &doc, &gl.arr);

	if (rc <= 0)
		return rc < 0 ? EXIT_FAIL : EXIT_OK;
	if (cfgstore_groups(app->store, group_list_cb, &gl, &cause) != 0)
		return list_failed("group-list", cause, doc);
	if (app->args.set[CLI_JSON]) {
		print_json_doc(stdout, doc);
		return EXIT_OK;
	}
	for (cJSON *g = gl.arr->child; g != NULL; g = g->next) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(g, "template");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(g, "members");
		print_value(stdout, cJSON_GetObjectItemCaseSensitive(g, "name")->valuestring);
		fputs("  template ", stdout);
		print_value(stdout, cJSON_IsString(t) ? t->valuestring : "-");
		printf("  %d member(s):", cJSON_GetArraySize(m));
		for (const cJSON *x = m->child; x != NULL; x = x->next) {
			fputc(' ', stdout);
			print_value(stdout, x->valuestring);
		}
		fputc('\n', stdout);
	}
	cJSON_Delete(doc);
	return EXIT_OK;
}

static int
pending_cb(const struct cfgstore_row *r, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject();
	struct devconfig c;
	char *cause = NULL;

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddStringToObject(o, "mac", r->mac);
	cJSON_AddNumberToObject(o, "queued_ms", (double)r->ts_ms);
	cJSON_AddStringToObject(o, "state", r->state);
	if (r->result != NULL)
		cJSON_AddStringToObject(o, "result", r->result);
	else
		cJSON_AddNullToObject(o, "result");
	if (devconfig_template_parse(r->body, strlen(r->body), &c, &cause) == 0) {
		cJSON_AddItemToObject(o, "fields", cli_config_object(&c, false));
		devconfig_done(&c);
	} else {
		cJSON_AddNullToObject(o, "fields");
		free(cause);
	}
	cJSON_AddBoolToObject(o, "allow_reboot", (r->flags & CFGSTORE_PENDING_REBOOT) != 0);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

int
cli_pending(struct app *app)
{
	cJSON *doc = NULL, *arr = NULL;
	char *cause = NULL;
	int rc = list_start(app, "pending", "pending", &doc, &arr);

	if (rc <= 0)
		return rc < 0 ? EXIT_FAIL : EXIT_OK;
	if (cfgstore_pending(app->store, NULL, NULL, pending_cb, arr, &cause) != 0)
		return list_failed("pending", cause, doc);
	if (app->args.set[CLI_JSON]) {
		print_json_doc(stdout, doc);
		return EXIT_OK;
	}
	for (cJSON *p = arr->child; p != NULL; p = p->next) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, "fields");
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(p, "result");
		printf("%.0f  %s  %-10s %d field(s)",
		    cJSON_GetObjectItemCaseSensitive(p, "id")->valuedouble,
		    cJSON_GetObjectItemCaseSensitive(p, "mac")->valuestring,
		    cJSON_GetObjectItemCaseSensitive(p, "state")->valuestring,
		    cJSON_IsObject(f) ? cJSON_GetArraySize(f) : 0);
		if (cJSON_IsString(res)) {
			fputs("  ", stdout);
			print_value(stdout, res->valuestring);
		}
		fputc('\n', stdout);
	}
	cJSON_Delete(doc);
	return EXIT_OK;
}

/* --clone SOURCE TARGET...: SOURCE's configuration (no identity, no secrets) onto the others. */
int
cli_clone(struct app *app)
{
	struct devconfig want;
	struct cfg_run src;
	int rc;

	if (app->args.nrest == 0) {
		fputs("shelly-tui: --clone SOURCE: give at least one TARGET\n", stderr);
		return EXIT_USAGE;
	}
	if (read_one(
	        &src, app, "clone", app->args.mode_arg, "--clone: the source cannot be read") != 0)
		return EXIT_FAIL;
	devconfig_init(&want);
	for (size_t i = 0; i < src.devs[0].before.n; i++) {
		const struct devconfig_entry *e = &src.devs[0].before.e[i];
		if (e->state == DEVCONFIG_SECRET ||
		    (devconfig_field(e->field)->flags & (DCF_IDENTITY | DCF_SECRET)))
			continue;
		devconfig_set(&want, e->field, e->index, e->state, e->value);
	}
	if (read_values_refused("--clone", &want, "nothing sent (fix it on the source)")) {
		devconfig_done(&want);
		run_done(&src);
		return EXIT_FAIL;
	}
	rc = desired_run(app, "clone", false, app->args.rest, app->args.nrest, &want,
	    src.devs[0].dt.ident.model);
	devconfig_done(&want);
	run_done(&src);
	return rc;
}
