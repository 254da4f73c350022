/*
 * A device's configuration snapshots in the console, as --snapshots lists them: id, time
 * (UTC), cfg_rev and source, newest first. Enter shows a snapshot's fields (secrets masked);
 * the restore key asks, reads the device for a dry run and lists what would change (actual ->
 * snapshot; a secret the snapshot holds is listed masked and sent, as --config-restore does),
 * then applies it through tui/cfgjob on a second yes, with the reboot and network
 * toggles and a change that may cut the device off the network asked on its own, like the
 * editor. The list is read again from the store after every job (a job adds snapshots) and
 * when the device's newest snapshot is another one (the poller took one), not on every commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/app.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "tui/cfgjob.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum mode { M_LIST, M_FIELDS, M_RESTORE };

struct snap {
	int64_t id, ts_ms;
	char *body;
};

struct vsnapshots {
	struct view v;
	char mac[DEV_MAC_LEN];
	char label[96];
	struct snap *snaps;
	size_t nsnaps;
	struct textlines list; /* one line per snapshot */
	struct textlines text; /* M_FIELDS, M_RESTORE: the lines shown */
	enum mode mode;
	struct cursor list_cur; /* the list's cursor while text is shown */
	int64_t shown_id; /* the snapshot of M_FIELDS and M_RESTORE */
	struct devconfig want; /* its fields */
	struct devconfig changes; /* those the dry run found different on the device */
	struct cfgjob *job;
	int applying; /* the job is the apply (not the dry run) */
	size_t nchanges; /* the dry run's */
	int net_asked; /* the second question was the network one: its yes allows the change */
	struct cfgjob_opts allow;
	int64_t version; /* the store's when the list was read */
	char status[480];
	int status_error;
};

static int
row_cb(const struct cfgstore_row *r, void *arg)
{
	struct vsnapshots *s = arg;
	time_t secs = (time_t)(r->ts_ms / 1000);
	struct tm tm;
	char when[32], rev[32], *line;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	if (r->has_rev)
		snprintf(rev, sizeof rev, "%.0f", r->rev);
	else
		str_copy(rev, sizeof rev, "-");
	s->snaps = xreallocarray(s->snaps, s->nsnaps + 1, sizeof *s->snaps);
	s->snaps[s->nsnaps].id = r->id;
	s->snaps[s->nsnaps].ts_ms = r->ts_ms;
	s->snaps[s->nsnaps++].body = xstrdup(r->body != NULL ? r->body : "");
	line = xasprintf("%-8lld %s UTC  cfg_rev %-8s %s", (long long)r->id, when, rev,
	    r->reason != NULL ? r->reason : "");
	str_sanitize_inplace(line);
	textlines_add(&s->list, line);
	return 0;
}

/* The device's snapshots from the store, newest first; the list's cursor stays on its
 * snapshot when newer ones come in. */
static void
load(struct vsnapshots *s)
{
	struct cursor *c = s->mode == M_LIST ? &s->v.cur : &s->list_cur;
	int64_t sel = c->sel < s->nsnaps ? s->snaps[c->sel].id : 0;
	char *cause = NULL;

	s->version = store_data_version(s->v.t->app->store);
	for (size_t i = 0; i < s->nsnaps; i++)
		free(s->snaps[i].body);
	s->nsnaps = 0;
	textlines_clear(&s->list);
	if (cfgstore_snapshots(
	        s->v.t->app->store, s->mac, CFGSTORE_SNAPSHOTS_KEPT, row_cb, s, &cause) != 0) {
		snprintf(s->status, sizeof s->status, "cannot read the snapshots: %s", cause);
		str_sanitize_inplace(s->status);
		s->status_error = 1;
		free(cause);
	}
	for (size_t i = 0; sel != 0 && i < s->nsnaps; i++)
		if (s->snaps[i].id == sel)
			c->sel = i;
}

static void
say(struct vsnapshots *s, int error, const char *text)
{
	str_copy(s->status, sizeof s->status, text);
	str_sanitize_inplace(s->status);
	s->status_error = error;
}

/* The fields of the snapshot selected in the list into s->want; 0, or -1 with the status set. */
static int
parse_selected(struct vsnapshots *s)
{
	const struct snap *p;
	char *cause = NULL, buf[480];

	if (s->v.cur.sel >= s->nsnaps) {
		say(s, 1, "no snapshot selected");
		return -1;
	}
	p = &s->snaps[s->v.cur.sel];
	devconfig_done(&s->want);
	if (devconfig_snapshot_parse(p->body, strlen(p->body), &s->want, &cause) != 0) {
		snprintf(
		    buf, sizeof buf, "snapshot %lld cannot be read: %s", (long long)p->id, cause);
		say(s, 1, buf);
		free(cause);
		devconfig_init(&s->want);
		return -1;
	}
	s->shown_id = p->id;
	return 0;
}

/* Leaves the list for text lines (its cursor kept for the way back). */
static void
enter_text(struct vsnapshots *s, enum mode m)
{
	if (s->mode == M_LIST)
		s->list_cur = s->v.cur;
	s->mode = m;
	s->v.cur.sel = s->v.cur.top = 0;
	textlines_clear(&s->text);
}

static void
show_fields(struct vsnapshots *s)
{
	char name[96];

	if (parse_selected(s) != 0)
		return;
	enter_text(s, M_FIELDS);
	s->status[0] = '\0';
	for (size_t i = 0; i < s->want.n; i++) {
		const struct devconfig_entry *e = &s->want.e[i];
		const char *v = view_value_text(devconfig_value_text(e));
		devconfig_name(e->field, e->index, name, sizeof name);
		textlines_add(&s->text, xasprintf("%-32s %s", name, v));
	}
	for (size_t i = 0; i < s->text.n; i++)
		str_sanitize_inplace(s->text.v[i]);
}

/* The dry run's changes (actual -> snapshot) into s->changes and as lines; returns how many.
 * As --config-restore: the fields that differ, and the secrets the snapshot holds (they cannot
 * be compared, so they are sent), listed "(write-only) -> ********". */
static size_t
diff_lines(struct vsnapshots *s, const struct devconfig *actual)
{
	struct devconfig_diff *rows = NULL;
	size_t n, shown = 0;
	char name[96];

	textlines_clear(&s->text);
	devconfig_done(&s->changes);
	devconfig_init(&s->changes);
	devconfig_diff(&s->want, actual, &rows, &n);
	for (size_t i = 0; i < n; i++) {
		const struct devconfig_diff *r = &rows[i];
		const struct devconfig_entry *want = devconfig_get(&s->want, r->field, r->index);
		const struct devconfig_entry *have = devconfig_get(actual, r->field, r->index);
		const char *was = r->kind == DIFF_UNKNOWN ? "(write-only)"
		                  : have != NULL          ? devconfig_value_text(have)
		                                          : "-";
		if (r->kind != DIFF_DRIFT && r->kind != DIFF_UNKNOWN)
			continue;
		devconfig_set(&s->changes, r->field, r->index, want->state, want->value);
		devconfig_name(r->field, r->index, name, sizeof name);
		textlines_add(&s->text, xasprintf("%-32s %s -> %s", name, view_value_text(was),
		                            view_value_text(devconfig_value_text(want))));
		str_sanitize_inplace(s->text.v[s->text.n - 1]);
		shown++;
	}
	free(rows);
	if (shown == 0)
		textlines_add(
		    &s->text, xstrdup("nothing to change: the device has this snapshot's values"));
	return shown;
}

static void start(struct vsnapshots *s, int apply);

static void
apply_yes_cb(struct tui *t, void *arg)
{
	(void)t;
	start(arg, 1);
}

/* After the dry run: a second yes applies; a network-cutting change is asked on its own. */
static void
ask_apply(struct vsnapshots *s, const struct devconfig *actual)
{
	char q[240], why[96];

	s->net_asked =
	    !s->allow.allow_network && devconfig_cuts_network(&s->changes, actual, why, sizeof why);
	if (s->net_asked)
		snprintf(q, sizeof q,
		    "%s may cut the device off the network (reached after to verify). Restore "
		    "snapshot %lld anyway?",
		    why, (long long)s->shown_id);
	else
		snprintf(q, sizeof q, "Apply %zu change(s) of snapshot %lld to %s (reboot %s)?",
		    s->nchanges, (long long)s->shown_id, s->label,
		    s->allow.allow_reboot ? "allowed" : "not allowed");
	tui_ask(s->v.t, q, "nothing restored", apply_yes_cb, s);
}

static void
job_cb(struct cfgjob *job, void *arg)
{
	struct vsnapshots *s = arg;
	size_t n;
	struct cfgjob_dev *d = cfgjob_devs(job, &n);
	char buf[560]; /* a label and the engine's sentence; the status keeps 479 */

	tui_dirty(s->v.t);
	if (n == 0)
		return;
	if (!cfgjob_finished(job)) {
		snprintf(buf, sizeof buf, "%s %s", s->applying ? "restoring..." : "dry run...",
		    d->progress);
		say(s, 0, buf);
		return;
	}
	load(s); /* the job added snapshots */
	if (!s->applying) {
		if (d->failed || d->before.n == 0) {
			snprintf(
			    buf, sizeof buf, "dry run: cannot read %s: %s", s->label, d->message);
			say(s, 1, buf);
			return;
		}
		s->nchanges = diff_lines(s, &d->before);
		snprintf(buf, sizeof buf,
		    "dry run of snapshot %lld (actual -> snapshot): %zu change(s)",
		    (long long)s->shown_id, s->nchanges);
		say(s, 0, buf);
		if (s->nchanges > 0)
			ask_apply(s, &d->before);
		return;
	}
	if (d->moved)
		source_registry_changed(s->v.t->src);
	vdevices_config_changed(s->v.t->devices);
	if (d->outcome == CFGA_FAILED_RESTORED)
		snprintf(buf, sizeof buf, "FAILED, the snapshot taken before was restored: %s",
		    d->message);
	else
		snprintf(buf, sizeof buf, "%s: %s",
		    d->queued   ? "queued"
		    : d->failed ? cfgapply_outcome_name(d->outcome)
		                : "restored",
		    d->message);
	say(s, d->failed, buf);
}

static void
start(struct vsnapshots *s, int apply)
{
	const char *macs[1] = {s->mac};
	struct cfgjob_opts o = s->allow;

	cfgjob_free(s->job);
	o.dry_run = !apply;
	/* The dry run sends nothing; the apply's network change was asked (or allowed with N). */
	o.allow_network = !apply || s->allow.allow_network || s->net_asked;
	s->applying = apply;
	say(s, 0, apply ? "restoring..." : "dry run...");
	/* The apply sends what the dry run showed and the operator confirmed. */
	s->job = cfgjob_start(s->v.t->app, macs, 1, apply ? &s->changes : &s->want, &o, job_cb, s);
}

static void
restore_yes_cb(struct tui *t, void *arg)
{
	(void)t;
	start(arg, 0);
}

/*
 * Removes from s->want the fields a template refuses (text as the device reported it, with
 * control characters or invalid UTF-8), as --config-restore does; their names (the first, and
 * how many more) go into buf, "" when none.
 */
static void
leave_out_unsettable(struct vsnapshots *s, char *buf, size_t size)
{
	char name[96], *cause = NULL;
	int i, n = 0;

	buf[0] = '\0';
	while ((i = devconfig_unsettable(&s->want, name, sizeof name, &cause)) >= 0) {
		if (n++ == 0)
			snprintf(buf, size, "%s", name);
		free(cause);
		cause = NULL;
		devconfig_unset(&s->want, s->want.e[i].field, s->want.e[i].index);
	}
	if (n > 1)
		snprintf(buf + strlen(buf), size - strlen(buf), " and %d more", n - 1);
}

static void
restore(struct vsnapshots *s)
{
	char q[480], left[128];

	if (view_job_running(s->v.t, s->job))
		return;
	if (s->mode == M_LIST && parse_selected(s) != 0)
		return;
	leave_out_unsettable(s, left, sizeof left);
	if (s->want.n == 0) {
		tui_message(s->v.t, 1, "snapshot %lld holds no field", (long long)s->shown_id);
		return;
	}
	enter_text(s, M_RESTORE);
	s->status[0] = '\0';
	snprintf(q, sizeof q,
	    "Restore snapshot %lld on %s? (a dry run shows the changes first%s%s)",
	    (long long)s->shown_id, s->label, left[0] ? "; a template refuses, left out: " : "",
	    left);
	tui_ask(s->v.t, q, "nothing restored", restore_yes_cb, s);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	struct vsnapshots *s = (struct vsnapshots *)v;

	textlines_get(s->mode == M_LIST ? &s->list : &s->text, k, buf, size);
	return TC_NORMAL;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vsnapshots *s = (struct vsnapshots *)v;
	char title[200], allow[96], buf[400];
	const char *status = s->status;

	if (s->mode == M_LIST)
		snprintf(
		    title, sizeof title, "Snapshots - %s - %zu, newest first", s->label, s->nsnaps);
	else
		snprintf(title, sizeof title, "Snapshot %lld - %s%s", (long long)s->shown_id,
		    s->label, s->mode == M_RESTORE ? " - restore" : "");
	view_panel(t, y, h, w, title);
	if (status[0] == '\0') {
		snprintf(buf, sizeof buf, "%s - %s",
		    s->mode == M_LIST ? (s->nsnaps ? "Enter shows, r restores" : "no snapshots")
		                      : "r restores, q back to the list",
		    view_allow_text(&s->allow, allow, sizeof allow));
		status = buf;
	}
	draw_text(
	    y + 1, 2, w - 4, status, theme_attr(t->theme, s->status_error ? TC_ERROR : TC_NORMAL));
	view_draw_list(v, t, &(struct view_area){y + 3, 2, h - 4, w - 4},
	    s->mode == M_LIST ? s->list.n : s->text.n, line_of, NULL);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vsnapshots *s = (struct vsnapshots *)v;

	(void)t;
	if (view_allow_toggle(&s->allow, a))
		return R_DIRTY;
	switch (a) {
	case TA_SNAP_SHOW:
		if (s->mode == M_LIST)
			show_fields(s);
		return R_DIRTY;
	case TA_SNAP_RESTORE:
		restore(s);
		return R_DIRTY;
	case TA_BACK:
		if (s->mode == M_LIST)
			return R_UNHANDLED;
		if (view_job_running(t, s->job))
			return R_DIRTY;
		s->mode = M_LIST;
		s->v.cur = s->list_cur;
		s->status[0] = '\0';
		return R_DIRTY;
	default:
		return R_UNHANDLED;
	}
}

/* The device's newest stored snapshot against the one the list shows first. */
struct newest {
	const struct snap *top; /* NULL when the list is empty */
	int seen, same;
};

static int
newest_cb(const struct cfgstore_row *r, void *arg)
{
	struct newest *n = arg;

	n->seen = 1;
	n->same = n->top != NULL && n->top->id == r->id && n->top->ts_ms == r->ts_ms;
	return 0;
}

/* The poller wrote: a snapshot it took ("cfg_rev changed") shows up. The store moves on every
 * poll, so the list is read again only when the device's newest snapshot is another one: a
 * snapshot added, the device's removed, or an id SQLite gave out again after its row went
 * (its time tells those apart). A failed look is read again to say why. */
static void
changed(struct view *v)
{
	struct vsnapshots *s = (struct vsnapshots *)v;
	int64_t dv = store_data_version(s->v.t->app->store);
	struct newest n = {s->nsnaps > 0 ? &s->snaps[0] : NULL, 0, 0};
	char *cause = NULL;

	if (s->mode != M_LIST || dv == s->version)
		return;
	s->version = dv;
	if (cfgstore_snapshots(s->v.t->app->store, s->mac, 1, newest_cb, &n, &cause) != 0 ||
	    n.seen != (n.top != NULL) || n.seen != n.same)
		load(s);
	free(cause);
}

static void
vfree(struct view *v)
{
	struct vsnapshots *s = (struct vsnapshots *)v;

	cfgjob_free(s->job);
	for (size_t i = 0; i < s->nsnaps; i++)
		free(s->snaps[i].body);
	free(s->snaps);
	textlines_clear(&s->list);
	textlines_clear(&s->text);
	devconfig_done(&s->want);
	devconfig_done(&s->changes);
}

static size_t
writing(struct view *v)
{
	return cfgjob_writing(((struct vsnapshots *)v)->job);
}

static const struct view_ops vsnapshots_ops = {
    .kind = TV_KIND_SNAPSHOTS,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .changed = changed,
    .free = vfree,
    .writing = writing,
};

struct view *
vsnapshots_new(struct tui *t, const char *mac)
{
	struct vsnapshots *s = view_new(t, sizeof *s, &vsnapshots_ops);

	str_copy(s->mac, sizeof s->mac, mac);
	str_copy(s->label, sizeof s->label, view_dev_label(t, mac));
	str_sanitize_inplace(s->label);
	devconfig_init(&s->want);
	devconfig_init(&s->changes);
	load(s);
	return &s->v;
}
