/*
 * The typed configuration editor of one device: its fields (read in the background through
 * tui/cfgjob) grouped by section with type, unit and range; edits are checked by the field
 * table before anything is sent; secrets are never shown (a new one is typed masked); a change
 * that may cut the device off the network asks its own confirmation; the apply shows its
 * progress, then per field whether the read-back verified it.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "engine/cfgdesired.h"
#include "tui/cfgjob.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* One line of the list: a section heading (entry < 0) or a field of the device. */
struct line {
	int entry;
	char section[40];
};

struct vconfig {
	struct view v;
	char mac[DEV_MAC_LEN];
	char label[96];
	struct cfgjob *job;
	int applying; /* the job is an apply (not a read) */
	int have; /* actual configuration read */
	char error[480];
	struct devconfig actual, edits, sent;
	struct line *lines;
	size_t nlines;
	struct cfgjob_opts allow; /* the reboot and network toggles */
	const struct devconfig_entry *editing;
	enum devconfig_field edit_field;
	int edit_index;
};

/* "sys", "wifi", "switch:0": the part of a field's name before its first dot. */
static void
section_of(const struct devconfig_entry *e, char *buf, size_t size)
{
	char name[96], *dot;

	devconfig_name(e->field, e->index, name, sizeof name);
	if ((dot = strchr(name, '.')) != NULL)
		*dot = '\0';
	str_copy(buf, size, name);
}

static void
build_lines(struct vconfig *c)
{
	char last[40] = "";

	free(c->lines);
	c->lines = xcalloc(2 * c->actual.n + 1, sizeof *c->lines);
	c->nlines = 0;
	for (size_t i = 0; i < c->actual.n; i++) {
		char sec[40];
		section_of(&c->actual.e[i], sec, sizeof sec);
		if (strcmp(sec, last) != 0) {
			c->lines[c->nlines].entry = -1;
			str_copy(c->lines[c->nlines++].section, sizeof c->lines->section, sec);
			str_copy(last, sizeof last, sec);
		}
		c->lines[c->nlines++].entry = (int)i;
	}
}

/* The field's type, unit and range as a short text. */
static void
type_text(const struct devconfig_field_info *f, char *buf, size_t size)
{
	if (f->type == DCT_ENUM)
		snprintf(buf, size, "enum %s", f->choices);
	else if (f->type == DCT_INT || f->type == DCT_NUM)
		snprintf(buf, size, "%s %.10g..%.10g%s%s", devconfig_type_name(f->type), f->min, f->max,
		    f->unit[0] ? " " : "", f->unit);
	else if (f->type == DCT_STR)
		snprintf(buf, size, "string <=%g", f->max);
	else
		snprintf(buf, size, "%s", devconfig_type_name(f->type));
}

/* The value of an entry as shown: secrets never, the empty string as "". */
static const char *
shown_value(const struct devconfig_entry *e)
{
	if (e == NULL)
		return "-";
	if (devconfig_field(e->field)->flags & DCF_SECRET)
		return "********";
	return view_value_text(devconfig_value_text(e));
}

/* What became of an edit after an apply: verified, or not. */
static const char *
edit_result(const struct vconfig *c, const struct devconfig_entry *want)
{
	const struct devconfig_entry *sent = devconfig_get(&c->sent, want->field, want->index);
	const struct devconfig_entry *got;

	if (sent == NULL || c->job == NULL || !c->applying || !cfgjob_finished(c->job))
		return NULL;
	{
		size_t n;
		struct cfgjob_dev *d = cfgjob_devs(c->job, &n);
		if (n == 0 || d->after.n == 0)
			return d != NULL && n > 0 && d->queued ? "queued" : "not verified";
		got = devconfig_get(&d->after, want->field, want->index);
	}
	if (devconfig_field(want->field)->flags & DCF_SECRET)
		return got != NULL ? "sent (write-only)" : "not verified";
	if (got != NULL && got->state == sent->state &&
	    (sent->value == NULL || (got->value != NULL && strcmp(got->value, sent->value) == 0)))
		return "ok, read back";
	return "NOT verified";
}

static void
draw_line(struct vconfig *c, struct tui *t, const struct line *l, int y, int w, int sel)
{
	const struct devconfig_entry *e = &c->actual.e[l->entry];
	const struct devconfig_field_info *f = devconfig_field(e->field);
	const struct devconfig_entry *ed = devconfig_get(&c->edits, e->field, e->index);
	const struct devconfig_entry *sent = devconfig_get(&c->sent, e->field, e->index);
	char name[96], type[96], buf[512];
	const char *res = sent != NULL && ed == NULL ? edit_result(c, sent) : NULL;
	int attr = theme_attr(t->theme, sel ? TC_CURSOR : ed != NULL ? TC_MARKED : TC_NORMAL);

	devconfig_name(e->field, e->index, name, sizeof name);
	type_text(f, type, sizeof type);
	snprintf(buf, sizeof buf, "  %-28s %-26.26s %s%s%s%s%s%s", name, type, shown_value(e),
	    ed != NULL ? " -> " : "", ed != NULL ? shown_value(ed) : "",
	    f->flags & DCF_NETWORK ? "  [network]" : "", res != NULL ? "  " : "",
	    res != NULL ? res : "");
	if (res != NULL && !sel && strcmp(res, "ok, read back") != 0)
		attr = theme_attr(t->theme, TC_ERROR);
	draw_text(y, 1, w - 2, buf, attr);
}

static void
draw_status(struct vconfig *c, struct tui *t, int y, int w)
{
	char buf[480];
	size_t n = 0;
	struct cfgjob_dev *d = c->job != NULL ? cfgjob_devs(c->job, &n) : NULL;
	int attr = theme_attr(t->theme, TC_NORMAL);

	if (d != NULL && n > 0 && !cfgjob_finished(c->job)) {
		snprintf(buf, sizeof buf, "%s %s", c->applying ? "applying..." : "reading...",
		    d->progress);
	} else if (c->error[0]) {
		snprintf(buf, sizeof buf, "%s", c->error);
		attr = theme_attr(t->theme, TC_ERROR);
	} else {
		char allow[96];
		snprintf(buf, sizeof buf, "%zu field(s) edited - %s", c->edits.n,
		    view_allow_text(&c->allow, allow, sizeof allow));
	}
	draw_text(y, 2, w - 4, buf, attr);
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vconfig *c = (struct vconfig *)v;
	char title[200];
	int page = h - 4;

	snprintf(title, sizeof title, "Config - %s - %zu fields", c->label, c->actual.n);
	view_panel(t, y, h, w, title);
	draw_status(c, t, y + 1, w);
	cursor_fit(&c->v.cur, c->nlines, page > 1 ? page : 1);
	for (int i = 0; i < page && c->v.cur.top + (size_t)i < c->nlines; i++) {
		const struct line *l = &c->lines[c->v.cur.top + (size_t)i];
		int sel = c->v.cur.top + (size_t)i == c->v.cur.sel;
		if (l->entry < 0)
			draw_text(y + 3 + i, 1, w - 2, l->section,
			    theme_attr(t->theme, sel ? TC_CURSOR : TC_TITLE));
		else
			draw_line(c, t, l, y + 3 + i, w, sel);
	}
}

/* Merges what was verified into the device's stored desired fields (like --config-set). */
static void
remember(struct vconfig *c)
{
	char *cause = NULL;

	if (cfgdesired_remember(c->v.t->app->store, c->mac, &c->sent, &cause) != 0) {
		tui_message(c->v.t, 1, "desired fields not stored: %s", cause);
		free(cause);
	}
}

static void
job_cb(struct cfgjob *job, void *arg)
{
	struct vconfig *c = arg;
	size_t n;
	struct cfgjob_dev *d = cfgjob_devs(job, &n);

	tui_dirty(c->v.t);
	if (!cfgjob_finished(job) || n == 0)
		return;
	c->error[0] = '\0';
	if (!c->applying) {
		if (d->failed || d->before.n == 0) {
			snprintf(c->error, sizeof c->error, "cannot read: %s", d->message);
			return;
		}
		devconfig_done(&c->actual);
		devconfig_copy(&c->actual, &d->before);
		c->have = 1;
		build_lines(c);
		return;
	}
	if (d->moved)
		source_registry_changed(c->v.t->src); /* poll it at its new address */
	if (d->outcome == CFGA_FAILED_RESTORED)
		snprintf(c->error, sizeof c->error,
		    "FAILED, the snapshot taken before was restored: %s", d->message);
	else if (d->failed || d->queued)
		snprintf(c->error, sizeof c->error, "%s: %s",
		    d->queued ? "queued" : cfgapply_outcome_name(d->outcome), d->message);
	else {
		tui_message(c->v.t, 0, "applied: %s", d->message);
		remember(c);
		devconfig_done(&c->edits);
		devconfig_init(&c->edits);
	}
	if (d->after.n > 0) {
		devconfig_done(&c->actual);
		devconfig_copy(&c->actual, &d->after);
		build_lines(c);
	}
}

static void
start(struct vconfig *c, int apply, int allow_network)
{
	const char *macs[1] = {c->mac};
	struct cfgjob_opts o = c->allow;

	cfgjob_free(c->job);
	o.read_only = !apply;
	o.allow_network = allow_network;
	c->applying = apply;
	c->error[0] = '\0';
	if (apply) {
		devconfig_done(&c->sent);
		devconfig_copy(&c->sent, &c->edits);
	}
	c->job = cfgjob_start(c->v.t->app, macs, 1, apply ? &c->edits : NULL, &o, job_cb, c);
}

static const struct devconfig_entry *
current(struct vconfig *c)
{
	if (c->v.cur.sel >= c->nlines || c->lines[c->v.cur.sel].entry < 0)
		return NULL;
	return &c->actual.e[c->lines[c->v.cur.sel].entry];
}

static void
edit_done_cb(struct tui *t, const char *text, void *arg)
{
	struct vconfig *c = arg;
	char *canon = NULL, *cause = NULL, name[96];

	if (text == NULL)
		return;
	devconfig_name(c->edit_field, c->edit_index, name, sizeof name);
	if (devconfig_check(c->edit_field, text, &canon, &cause) != 0) {
		tui_message(t, 1, "%s: %s (nothing changed)", name, cause);
		free(cause);
		return;
	}
	devconfig_set(&c->edits, c->edit_field, c->edit_index, DEVCONFIG_VALUE, canon);
	c->error[0] = '\0'; /* what an earlier apply said is over */
	str_free_secret(canon);
	tui_message(t, 0, "%s edited; a sends the edits", name);
}

static void
edit(struct vconfig *c)
{
	const struct devconfig_entry *e = current(c);
	const struct devconfig_field_info *f;
	char label[200], name[96], type[96];
	int secret;

	if (e == NULL) {
		tui_message(
		    c->v.t, 1, c->have ? "select a field" : "the configuration is not read yet");
		return;
	}
	f = devconfig_field(e->field);
	secret = (f->flags & DCF_SECRET) != 0;
	c->edit_field = e->field;
	c->edit_index = e->index;
	type_text(f, type, sizeof type);
	snprintf(label, sizeof label,
	    "%s (%s)%s: ", devconfig_name(e->field, e->index, name, sizeof name), type,
	    secret ? " new secret, typed masked" : "");
	{
		const struct devconfig_entry *ed = devconfig_get(&c->edits, e->field, e->index);
		const struct devconfig_entry *init = ed != NULL ? ed : e;
		tui_prompt(c->v.t, label,
		    secret || init->state != DEVCONFIG_VALUE ? "" : init->value, edit_done_cb, NULL,
		    c);
	}
	c->v.t->masked = secret;
}

static void
network_cb(struct tui *t, void *arg)
{
	(void)t;
	start(arg, 1, 1);
}

static void
apply_cb(struct tui *t, void *arg)
{
	struct vconfig *c = arg;
	char why[96], q[200];

	if (!c->allow.allow_network &&
	    devconfig_cuts_network(&c->edits, &c->actual, why, sizeof why)) {
		snprintf(q, sizeof q,
		    "%s may cut the device off the network (reached after to verify). Send it?",
		    why);
		tui_ask(t, q, "nothing sent", network_cb, c);
		return;
	}
	start(c, 1, c->allow.allow_network);
}

static void
find_done_cb(struct tui *t, const char *text, void *arg)
{
	struct vconfig *c = arg;
	char name[96];

	if (text == NULL || text[0] == '\0')
		return;
	for (size_t i = 0; i < c->nlines; i++) {
		const struct line *l = &c->lines[i];
		if (l->entry < 0)
			continue;
		devconfig_name(
		    c->actual.e[l->entry].field, c->actual.e[l->entry].index, name, sizeof name);
		if (strstr(name, text) != NULL) {
			c->v.cur.sel = i;
			return;
		}
	}
	tui_message(t, 1, "no field holds '%s'", text);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vconfig *c = (struct vconfig *)v;
	char q[200];

	if (view_allow_toggle(&c->allow, a))
		return R_DIRTY;
	switch (a) {
	case TA_EDIT:
		edit(c);
		return R_DIRTY;
	case TA_FIND_FIELD:
		tui_prompt(t, "Field: ", "", find_done_cb, NULL, c);
		return R_DIRTY;
	case TA_UNDO_EDIT: {
		const struct devconfig_entry *e = current(c);
		if (e != NULL)
			devconfig_unset(&c->edits, e->field, e->index);
		return R_DIRTY;
	}
	case TA_REREAD:
		start(c, 0, 0);
		return R_DIRTY;
	case TA_SNAPSHOTS:
		tui_push(t, vsnapshots_new(t, c->mac));
		return R_DIRTY;
	case TA_APPLY:
		if (c->edits.n == 0) {
			tui_message(t, 1, "nothing edited (Enter edits the selected field)");
			return R_DIRTY;
		}
		if (view_job_running(t, c->job))
			return R_DIRTY;
		snprintf(q, sizeof q, "Send %zu field(s) to %s (reboot %s)?", c->edits.n, c->label,
		    c->allow.allow_reboot ? "allowed" : "not allowed");
		tui_ask(t, q, NULL, apply_cb, c);
		return R_DIRTY;
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vconfig *c = (struct vconfig *)v;

	cfgjob_free(c->job);
	devconfig_done(&c->actual);
	devconfig_done(&c->edits);
	devconfig_done(&c->sent);
	free(c->lines);
}

static size_t
writing(struct view *v)
{
	return cfgjob_writing(((struct vconfig *)v)->job);
}

static const struct view_ops vconfig_ops = {
    .kind = TV_KIND_CONFIG,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .free = vfree,
    .writing = writing,
};

struct view *
vconfig_new(struct tui *t, const char *mac)
{
	struct vconfig *c = view_new(t, sizeof *c, &vconfig_ops);

	str_copy(c->mac, sizeof c->mac, mac);
	str_copy(c->label, sizeof c->label, view_dev_label(t, mac));
	devconfig_init(&c->actual);
	devconfig_init(&c->edits);
	devconfig_init(&c->sent);
	start(c, 0, 0);
	return &c->v;
}
