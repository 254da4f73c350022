/*
 * Drift in the console. The devices table's DRIFT column comes from what the store holds (the
 * newest snapshot against the desired configuration), cached and recomputed only when the
 * database changed, never by asking a device. The drift view lists device, field, desired and
 * actual for the marked devices (or all, or a group's members); `a` runs the apply flow: a dry
 * run read from the devices (field: actual -> desired), a confirmation with the reboot and
 * network toggles, a progress bar, then per-device results (offline devices queued) that stay
 * until the view is closed.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/app.h"
#include "engine/cfgpending.h"
#include "engine/cfgdesired.h"
#include "engine/tmplcache.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "tui/cfgjob.h"
#include "tui/driftpace.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* ---- the DRIFT column's cache ---- */

/* At most one recomputation per DRIFT_MIN_MS (tui/driftpace.h says how often). */
#define DRIFT_MIN_MS DRIFTPACE_MIN_MS

struct drift_entry {
	char mac[DEV_MAC_LEN];
	int count; /* cfgdesired_drift: >= 0, -1 nothing desired, -2 unknown */
};

struct drift_cache {
	struct drift_entry *e;
	size_t n;
	int64_t version;
	int64_t at_ms;
	struct driftpace pace;
	int valid;
	int64_t checked_ms; /* the template files were last checked */
	struct tmplcache *tmpl; /* templates and groups' fields, read once per recompute */
};

struct drift_cache *
drift_cache_new(void)
{
	struct drift_cache *dc = xcalloc(1, sizeof *dc);

	dc->tmpl = tmplcache_new();
	return dc;
}

void
drift_cache_free(struct drift_cache *dc)
{
	if (dc != NULL) {
		free(dc->e);
		tmplcache_free(dc->tmpl);
	}
	free(dc);
}

void
drift_cache_invalidate(struct drift_cache *dc)
{
	dc->valid = 0;
}

/* The variables a template sees for a registered device in the console. */
static void
row_vars(const struct source_dev *r, struct devconfig_vars *v)
{
	memset(v, 0, sizeof *v);
	v->name = r->name[0] ? r->name : NULL;
	v->id = r->id[0] ? r->id : NULL;
	v->mac = r->mac; /* index: the engine's, from the device's group */
}

static void
drift_recompute(struct drift_cache *dc, struct tui *t)
{
	size_t n;
	const struct source_dev *rows = source_devices(t->src, &n);

	tmplcache_pass(dc->tmpl, store_data_version(t->app->store));
	dc->e = xreallocarray(dc->e, n ? n : 1, sizeof *dc->e);
	dc->n = n;
	for (size_t i = 0; i < n; i++) {
		struct devconfig_vars v;
		row_vars(&rows[i], &v);
		str_copy(dc->e[i].mac, sizeof dc->e[i].mac, rows[i].mac);
		dc->e[i].count = cfgdesired_drift_cached(t->app->store, dc->tmpl, rows[i].mac, &v);
	}
}

static int
entry_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const struct drift_entry *)e)->mac);
}

/* Whether the column is recomputed now: at once the first time; later, after the pause, when
 * the store changed or (checked as rarely: one stat per template) a template file was edited. */
static int
needs_recompute(struct drift_cache *dc, int64_t now, int64_t dv)
{
	if (!dc->valid)
		return 1;
	if (now - dc->at_ms < driftpace_wait(&dc->pace))
		return 0;
	if (dv != dc->version)
		return 1;
	if (now - dc->checked_ms < DRIFT_MIN_MS)
		return 0;
	dc->checked_ms = now;
	return tmplcache_changed(dc->tmpl);
}

int
drift_cache_get(struct drift_cache *dc, struct tui *t, const char *mac)
{
	int64_t now = loop_wall_ms(), dv = store_data_version(t->app->store);
	const struct drift_entry *e;

	/* Locked, every device's reads would wait for the lock, and the keys with them: the
	 * column keeps its values until the lock ends. */
	if ((!dc->valid || !source_db_locked(t->src)) && needs_recompute(dc, now, dv)) {
		drift_recompute(dc, t);
		dc->valid = 1;
		dc->version = dv;
		dc->at_ms = loop_wall_ms();
		driftpace_took(&dc->pace, dc->at_ms - now, store_healthy(t->app->store));
	}
	/* The source's rows, and so the entries, are ordered by MAC. */
	e = dc->n > 0 ? bsearch(mac, dc->e, dc->n, sizeof *dc->e, entry_cmp) : NULL;
	return e != NULL ? e->count : -2;
}

/* ---- the drift view ---- */

enum phase { PH_STORE, PH_DRY, PH_APPLY };

struct dline {
	char text[480];
	int kind; /* TC_* */
};

struct vdrift {
	struct view v;
	char title[120];
	char (*macs)[DEV_MAC_LEN];
	size_t nmacs;
	enum phase phase;
	struct cfgjob *job;
	struct cfgjob_opts allow; /* the reboot and network toggles */
	struct dline *lines;
	size_t nlines, cap;
	size_t ndrifted; /* devices with something to change */
	char *wanted; /* per device: it has a desired configuration */
	struct tmplcache *tmpl; /* templates read once per rebuild, not per device */
};

static void add_line(struct vdrift *d, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_line(struct vdrift *d, int kind, const char *fmt, ...)
{
	va_list ap;

	if (d->nlines == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 32;
		d->lines = xreallocarray(d->lines, d->cap, sizeof *d->lines);
	}
	va_start(ap, fmt);
	vsnprintf(d->lines[d->nlines].text, sizeof d->lines->text, fmt, ap);
	va_end(ap);
	str_sanitize_inplace(d->lines[d->nlines].text);
	d->lines[d->nlines++].kind = kind;
}

/*
 * The list's columns from the terminal's width: device, field and desired value (the actual
 * value takes the rest of the line). From 100 columns on 20, 28 and 22 cells; narrower, each
 * a share of the width, so the actual value keeps room at 80 columns.
 */
static void
widths(const struct vdrift *d, int *label, int *field, int *desired)
{
	int avail = d->v.t->cols - 4;

	if (avail >= 96) {
		*label = 20, *field = 28, *desired = 22;
		return;
	}
	*label = avail * 17 / 100 > 8 ? avail * 17 / 100 : 8;
	*field = avail * 27 / 100 > 10 ? avail * 27 / 100 : 10;
	*desired = avail * 21 / 100 > 8 ? avail * 21 / 100 : 8;
}

static int
label_width(const struct vdrift *d)
{
	int label, field, desired;

	widths(d, &label, &field, &desired);
	return label;
}

#define CELLS_MAX 40 /* the widest column, in cells */
/* s cut or padded to w cells (a compound literal, valid in the full expression using it). */
#define CELLS(s, w) draw_cells((char[4 * CELLS_MAX + 1]){0}, 4 * CELLS_MAX + 1, (s), (w))
/* A device's label in the list's first column. */
#define LABEL(s) CELLS((s), label_width(d))
/* A field or value column: padded to w cells, and cut to them only when the terminal is
 * narrow (wide, a long value is kept whole and pushes the rest). */
#define COLUMN(s, w) (d->v.t->cols - 4 < 96 || draw_width(s) < (w) ? CELLS((s), (w)) : (s))

/* Text of a value for the list: secrets masked, null as null, empty as "". */
static const char *
value_text(enum devconfig_field f, const char *v)
{
	if (devconfig_field(f)->flags & DCF_SECRET)
		return "********";
	return v != NULL ? view_value_text(v) : "null";
}

/* "(unreadable: RAW)" for a choice the model does not know (raw is sanitised). */
static const char *
unreadable_text(const char *raw)
{
	static char buf[96];

	snprintf(buf, sizeof buf, "(unreadable: %s)", raw);
	return buf;
}

/*
 * The rows of desired against actual that change something; returns how many would be sent:
 * fields that differ and secrets (write-only, never compared), as --apply sends them.
 */
static size_t
add_diff(struct vdrift *d, const char *label, const struct devconfig *want,
    const struct devconfig *have, int arrow)
{
	struct devconfig_diff *rows = NULL;
	size_t n, shown = 0;
	char name[96];
	int lw, fw, dw;

	widths(d, &lw, &fw, &dw);

	devconfig_diff(want, have, &rows, &n);
	for (size_t i = 0; i < n; i++) {
		const struct devconfig_diff *r = &rows[i];
		const char *actual = r->kind == DIFF_UNKNOWN       ? "(write-only)"
		                     : r->kind == DIFF_UNSUPPORTED ? "(unsupported)"
		                     : r->kind == DIFF_UNREADABLE && r->actual == NULL
		                         ? "(unreadable)"
		                     : r->kind == DIFF_UNREADABLE ? unreadable_text(r->actual)
		                                                  : value_text(r->field, r->actual);
		bool change = r->kind == DIFF_DRIFT || r->kind == DIFF_UNKNOWN;
		if (r->kind == DIFF_SAME)
			continue;
		devconfig_name(r->field, r->index, name, sizeof name);
		if (arrow)
			add_line(d, change ? TC_NORMAL : TC_DIM, "%s %s %s -> %s", CELLS(label, lw),
			    COLUMN(name, fw), actual, value_text(r->field, r->desired));
		else
			add_line(d, change ? TC_NORMAL : TC_DIM, "%s %s %s %s", CELLS(label, lw),
			    COLUMN(name, fw), COLUMN(value_text(r->field, r->desired), dw), actual);
		shown += change;
	}
	free(rows);
	return shown;
}

struct queued_ctx {
	struct vdrift *d;
	const char *label;
};

static int
queued_cb(const struct cfgstore_row *r, void *arg)
{
	struct queued_ctx *q = arg;
	struct devconfig c;
	char *cause = NULL, when[32];
	time_t secs = (time_t)(r->ts_ms / 1000);
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	if (r->body == NULL ||
	    devconfig_template_parse(r->body, strlen(r->body), &c, &cause) != 0) {
		free(cause);
		devconfig_init(&c);
	}
	add_line(q->d, TC_DIM, "%s queued since %s: %zu field(s), applied when it is next seen",
	    CELLS(q->label, label_width(q->d)), when, c.n);
	devconfig_done(&c);
	return 0;
}

/* Changes queued for the device while it was offline (as --pending lists them). */
static void
add_queued(struct vdrift *d, const char *mac, const char *label)
{
	struct queued_ctx q = {d, label};
	char *cause = NULL;

	if (cfgstore_pending(d->v.t->app->store, mac, "queued", queued_cb, &q, &cause) != 0)
		free(cause);
}

/*
 * A snapshot never holds a secret: each desired secret the device's generation has is
 * write-only in have (as a read of the device says), not unsupported.
 */
static void
snapshot_secrets(struct devconfig *have, const struct devconfig *want, int gen)
{
	for (size_t i = 0; i < want->n; i++) {
		const struct devconfig_entry *e = &want->e[i];
		if ((devconfig_field(e->field)->flags & DCF_SECRET) &&
		    devconfig_field_gen(e->field, gen) &&
		    devconfig_get(have, e->field, e->index) == NULL)
			devconfig_set(have, e->field, e->index, DEVCONFIG_SECRET, NULL);
	}
}

/* From the store: every device's desired fields that differ from its newest snapshot. */
static void
build_store(struct vdrift *d)
{
	d->nlines = 0;
	d->ndrifted = 0;
	tmplcache_pass(d->tmpl, store_data_version(d->v.t->app->store));
	{
		int lw, fw, dw;
		widths(d, &lw, &fw, &dw);
		add_line(d, TC_TITLE, "%s %s %s %s", CELLS("DEVICE", lw), CELLS("FIELD", fw),
		    CELLS("DESIRED", dw), "ACTUAL");
	}
	for (size_t i = 0; i < d->nmacs; i++) {
		const struct source_dev *r = source_device(d->v.t->src, d->macs[i]);
		struct devconfig want, have;
		struct devconfig_vars v;
		char *cause = NULL, label[96];
		int snap;
		if (r == NULL)
			continue;
		str_copy(label, sizeof label, source_dev_label(r));
		row_vars(r, &v);
		devconfig_init(&want);
		d->wanted[i] = 0;
		if (cfgdesired_stored_cached(
		        d->v.t->app->store, d->tmpl, r->mac, NULL, &v, &want, &cause) != 0) {
			add_line(d, TC_ERROR, "%s %s", LABEL(label), cause);
			free(cause);
		} else if ((d->wanted[i] = want.n > 0) &&
		           (snap = cfgdesired_snapshot(
		                d->v.t->app->store, r->mac, &have, NULL, &cause)) != 1) {
			add_line(d, TC_DIM, "%s ? no snapshot of its configuration yet%s%s",
			    LABEL(label), cause ? ": " : "", cause ? cause : "");
			free(cause);
			d->ndrifted++;
		} else if (want.n > 0) {
			snapshot_secrets(&have, &want, r->gen);
			if (add_diff(d, label, &want, &have, 0) > 0)
				d->ndrifted++;
			devconfig_done(&have);
		}
		devconfig_done(&want);
		add_queued(d, r->mac, label);
	}
	if (d->nlines == 1) {
		size_t wanted = 0;
		for (size_t i = 0; i < d->nmacs; i++)
			wanted += d->wanted[i] != 0;
		/* Nothing desired is not "matches": say where a desired configuration comes from. */
		if (wanted == 0)
			add_line(d, TC_DIM, "no desired configuration for %s: a group's template (m) "
			    "or an edit in the device's configuration (c) sets one",
			    d->nmacs == 1 ? "this device" : "these devices");
		else
			add_line(d, TC_OK, "no drift: the %zu device(s) with a desired configuration "
			    "match it", wanted);
	}
}

/* From a job: the dry run (actual -> desired) or the per-device results. */
static void
build_job(struct vdrift *d)
{
	size_t n;
	struct cfgjob_dev *devs = cfgjob_devs(d->job, &n);

	d->nlines = 0;
	d->ndrifted = 0;
	for (size_t i = 0; i < n; i++) {
		struct cfgjob_dev *x = &devs[i];
		if (x->state != CJ_DONE)
			add_line(d, TC_DIM, "%s %s", LABEL(x->label),
			    x->progress[0] ? x->progress : "waiting");
		else if (d->phase == PH_DRY && x->refused)
			add_line(d, TC_ERROR, "%s refused: %s", LABEL(x->label), x->message);
		else if (d->phase == PH_DRY && x->before.n > 0) {
			if (add_diff(d, x->label, &x->desired, &x->before, 1) > 0)
				d->ndrifted++;
			else
				add_line(d, TC_OK, "%s nothing to change", LABEL(x->label));
		} else if (d->phase == PH_DRY) {
			add_line(d, TC_ERROR, "%s %s%s", LABEL(x->label),
			    x->desired.n == 0 ? ""
			    : !cfgpending_queueable(&x->desired)
			        ? "not reached (holds a secret: not queued): "
			        : "not reached (queued on apply): ",
			    x->message);
			d->ndrifted += x->desired.n > 0;
		} else
			add_line(d,
			    x->queued   ? TC_DIM
			    : x->failed ? TC_ERROR
			                : TC_OK,
			    "%-8s %s %s",
			    x->queued   ? "QUEUED"
			    : x->failed ? "FAILED"
			                : "OK",
			    LABEL(x->label), x->message);
	}
}

static void
rebuild(struct vdrift *d)
{
	if (d->phase == PH_STORE)
		build_store(d);
	else
		build_job(d);
	cursor_fit(&d->v.cur, d->nlines, d->v.cur.page);
}

static void start_job(struct vdrift *d, int dry);

static void
apply_confirm_cb(struct tui *t, void *arg)
{
	(void)t;
	start_job(arg, 0);
}

/* After the dry run: the confirmation names what happens and the toggles. */
static void
ask_confirm(struct vdrift *d)
{
	size_t n, offline = 0, kept = 0;
	struct cfgjob_dev *devs = cfgjob_devs(d->job, &n);
	char q[240], secret[64] = "";

	/* An offline device's change is queued, unless it holds a secret (never stored). */
	for (size_t i = 0; i < n; i++)
		if (devs[i].before.n == 0 && devs[i].desired.n > 0 && !devs[i].refused) {
			if (!cfgpending_queueable(&devs[i].desired))
				kept++;
			else
				offline++;
		}
	if (kept > 0)
		snprintf(secret, sizeof secret, ", %zu with a secret: not queued", kept);
	if (d->ndrifted == 0) {
		tui_message(d->v.t, 0, "dry run: nothing to change");
		return;
	}
	snprintf(q, sizeof q,
	    "Apply to %zu device(s) (%zu offline: queued%s; reboot %s; network change %s)?",
	    d->ndrifted, offline, secret, d->allow.allow_reboot ? "yes" : "no",
	    d->allow.allow_network ? "yes" : "no");
	tui_ask(d->v.t, q, "nothing applied", apply_confirm_cb, d);
}

static void
job_cb(struct cfgjob *job, void *arg)
{
	struct vdrift *d = arg;

	rebuild(d);
	tui_dirty(d->v.t);
	if (!cfgjob_finished(job))
		return;
	if (d->phase == PH_DRY)
		ask_confirm(d);
	else {
		size_t n;
		const struct cfgjob_dev *jd = cfgjob_devs(job, &n);
		for (size_t i = 0; i < n; i++)
			if (jd[i].moved) {
				source_registry_changed(d->v.t->src);
				break;
			}
		vdevices_config_changed(d->v.t->devices);
		tui_message(d->v.t, 0, "apply done (q closes the results)");
	}
}

static void
start_job(struct vdrift *d, int dry)
{
	struct cfgjob_opts o = d->allow;
	const char **macs = xcalloc(d->nmacs ? d->nmacs : 1, sizeof *macs);

	size_t n = 0;

	for (size_t i = 0; i < d->nmacs; i++)
		if (d->wanted[i])
			macs[n++] = d->macs[i];
	o.dry_run = dry;
	cfgjob_free(d->job);
	d->phase = dry ? PH_DRY : PH_APPLY;
	d->v.cur.sel = d->v.cur.top = 0;
	d->job = cfgjob_start(d->v.t->app, macs, n, NULL, &o, job_cb, d);
	free(macs);
	rebuild(d);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	const struct dline *l = &((struct vdrift *)v)->lines[k];

	str_copy(buf, size, l->text);
	return (enum tui_color)l->kind;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vdrift *d = (struct vdrift *)v;
	char buf[300];
	const char *what = d->phase == PH_STORE ? "from the store"
	                   : d->phase == PH_DRY ? "dry run (actual -> desired)"
	                                        : "apply";

	snprintf(buf, sizeof buf, "%s - %s", d->title, what);
	view_panel(t, y, h, w, buf);
	if (d->job != NULL && !cfgjob_finished(d->job)) {
		size_t n;
		cfgjob_devs(d->job, &n);
		view_progress(t, y + 1, w, d->phase == PH_DRY ? "reading" : "applying",
		    cfgjob_done(d->job), n);
	} else {
		char allow[96];
		snprintf(buf, sizeof buf, "%zu device(s) to change - a apply (dry run first) - %s",
		    d->ndrifted, view_allow_text(&d->allow, allow, sizeof allow));
		draw_text(y + 1, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	view_draw_list(v, t, &(struct view_area){y + 3, 2, h - 4, w - 4}, d->nlines, line_of, NULL);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vdrift *d = (struct vdrift *)v;

	if (view_allow_toggle(&d->allow, a))
		return R_DIRTY;
	switch (a) {
	case TA_APPLY:
		if (view_job_running(t, d->job))
			return R_DIRTY;
		if (d->phase == PH_STORE && d->ndrifted == 0) {
			tui_message(
			    t, 1, "no device to change (no desired configuration, or no drift)");
			return R_DIRTY;
		}
		start_job(d, 1);
		tui_message(t, 0, "dry run: reading %zu device(s) ...", d->nmacs);
		return R_DIRTY;
	default:
		return R_UNHANDLED;
	}
}

static void
changed(struct view *v)
{
	struct vdrift *d = (struct vdrift *)v;

	if (d->phase == PH_STORE)
		rebuild(d);
}

static void
vfree(struct view *v)
{
	struct vdrift *d = (struct vdrift *)v;

	cfgjob_free(d->job);
	tmplcache_free(d->tmpl);
	free(d->wanted);
	free(d->macs);
	free(d->lines);
}

static size_t
writing(struct view *v)
{
	return cfgjob_writing(((struct vdrift *)v)->job);
}

static const struct view_ops vdrift_ops = {
    .kind = TV_KIND_DRIFT,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .changed = changed,
    .free = vfree,
    .writing = writing,
};

struct view *
vdrift_new(struct tui *t, const char *title, const char *const *macs, size_t n)
{
	struct vdrift *d = view_new(t, sizeof *d, &vdrift_ops);
	size_t nrows;
	const struct source_dev *rows = source_devices(t->src, &nrows);

	str_copy(d->title, sizeof d->title, title);
	if (macs == NULL) /* every device */
		n = nrows;
	d->macs = xcalloc(n ? n : 1, sizeof *d->macs);
	for (size_t i = 0; i < n; i++)
		str_copy(d->macs[i], DEV_MAC_LEN, macs != NULL ? macs[i] : rows[i].mac);
	d->nmacs = n;
	d->wanted = xcalloc(n ? n : 1, 1);
	d->tmpl = tmplcache_new();
	return view_open(&d->v); /* PH_STORE: from the store */
}
