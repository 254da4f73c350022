/*
 * The OPNsense view: the sync plan (the text --opnsense-sync --dry-run prints: DHCP
 * reservations to add, update or remove, conflicts, the alias), an apply key that writes
 * exactly that plan, then each record's result. The sync runs in the console's loop
 * (integrations/opnsense_job.h); it takes the "opnsense" writer's lease while the view holds
 * a plan and gives it back when the view closes. Without opnsense-url the view says what to
 * configure.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "cli/opnsensecmd.h"
#include "conf/conf.h"
#include "integrations/opnsense_job.h"
#include "integrations/opnsense_plan.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum opn_phase { PH_UNCONFIGURED, PH_READING, PH_PLAN, PH_APPLYING, PH_APPLIED, PH_FAILED };

struct vopn {
	struct view v;
	struct tui *t;
	struct opnsense_sync *sync;
	enum opn_phase phase;
	struct textlines lines;
};

static void
clear_lines(struct vopn *o)
{
	textlines_clear(&o->lines);
	o->v.cur.sel = o->v.cur.top = 0;
}

/* Replaces the lines with text, one per line, sanitised (names and errors come from the
 * firewall). */
static void
set_text(struct vopn *o, const char *text)
{
	clear_lines(o);
	textlines_add_text(&o->lines, text);
}

/* The sync is over (or never started): the lease goes back, the sync is freed. */
static void
finish(struct vopn *o, const struct opnsense_report *r)
{
	struct opnsense_env env;

	if (o->sync == NULL)
		return;
	opnsense_job_end(opnsense_env_of(o->t->app, &env), r);
	opnsense_sync_free(o->sync);
	o->sync = NULL;
}

static void
show_report(struct vopn *o)
{
	const struct opnsense_report *r = opnsense_sync_report(o->sync);
	struct strbuf sb;

	strbuf_init(&sb);
	opnsense_report_format(r, &sb);
	set_text(o, strbuf_str(&sb));
	strbuf_done(&sb);
}

static void
plan_done_cb(struct opnsense_sync *sync, void *arg)
{
	struct vopn *o = arg;
	const struct opnsense_report *r = opnsense_sync_report(sync);

	show_report(o);
	if (r->error != NULL) {
		o->phase = PH_FAILED;
		tui_message(o->t, 1, "OPNsense: %s", r->error);
		finish(o, r);
	} else {
		size_t changes = opn_plan_changes(r->plan, OPN_RESERVATION) +
		                 opn_plan_changes(r->plan, OPN_ALIAS);
		o->phase = PH_PLAN;
		tui_message(o->t, 0, "OPNsense plan: %zu change%s (a applies, r reads again)",
		    changes, changes == 1 ? "" : "s");
	}
	tui_dirty(o->t);
}

static void
apply_done_cb(struct opnsense_sync *sync, void *arg)
{
	struct vopn *o = arg;
	const struct opnsense_report *r = opnsense_sync_report(sync);

	show_report(o);
	o->phase = r->failed ? PH_FAILED : PH_APPLIED;
	tui_message(o->t, r->failed, "OPNsense: %s",
	    r->failed ? "something failed: see each record" : "the plan is applied");
	finish(o, r);
	tui_dirty(o->t);
}

/* Reads the firewall and computes the plan (the writer's lease is taken for the apply). */
static void
start(struct vopn *o)
{
	struct opnsense_env env;
	const char *url = conf_get_str(o->t->app->cfg, OPT_OPNSENSE_URL);
	char *cause = NULL;

	finish(o, NULL);
	if (url == NULL || url[0] == '\0') {
		o->phase = PH_UNCONFIGURED;
		set_text(o,
		    "OPNsense is not configured.\n"
		    "\n"
		    "Set these in the configuration file, then open this view again:\n"
		    "  set opnsense-url https://FIREWALL\n"
		    "  set opnsense-key file:PATH      (the API key, in a file only you can read)\n"
		    "  set opnsense-secret file:PATH   (the API secret, likewise)\n"
		    "  set opnsense-ca file:PATH       (optional: the firewall's CA)\n"
		    "See OPNSENSE in the manual (man shelly-tui).\n");
		return;
	}
	o->sync = opnsense_job_begin(opnsense_env_of(o->t->app, &env), 0, plan_done_cb, o, &cause);
	if (o->sync == NULL) {
		char *text = xasprintf("error: %s\nnothing was changed\n", cause);
		o->phase = PH_FAILED;
		set_text(o, text);
		tui_message(o->t, 1, "OPNsense: %s", cause);
		free(text);
		free(cause);
		return;
	}
	o->phase = PH_READING;
	set_text(o, "reading the firewall ...\n");
}

static void
apply_confirm_cb(struct tui *t, void *arg)
{
	struct vopn *o = arg;
	char *cause = NULL;

	if (o->phase != PH_PLAN || o->sync == NULL) {
		tui_message(t, 0, "nothing applied");
		return;
	}
	if (opnsense_sync_apply(o->sync, apply_done_cb, o, &cause) != 0) {
		tui_message(t, 1, "OPNsense: %s", cause);
		free(cause);
		return;
	}
	o->phase = PH_APPLYING;
	tui_message(t, 0, "applying the plan to OPNsense ...");
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	textlines_get(&((struct vopn *)v)->lines, k, buf, size);
	return str_has_prefix(buf, "error") || strstr(buf, "conflict") != NULL ||
	               strstr(buf, "failed") != NULL
	           ? TC_ERROR
	           : TC_NORMAL;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vopn *o = (struct vopn *)v;
	static const char *const titles[] = {"OPNsense - not configured",
	    "OPNsense - reading the firewall", "OPNsense - plan (a applies, r reads again)",
	    "OPNsense - applying", "OPNsense - applied (r reads again)",
	    "OPNsense - failed (r tries again)"};

	view_panel(t, y, h, w, titles[o->phase]);
	view_draw_list(v, t, &(struct view_area){y + 1, 2, h - 2, w - 4}, o->lines.n, line_of);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vopn *o = (struct vopn *)v;

	switch (a) {
	case TA_OPN_REFRESH:
		if (o->phase == PH_READING || o->phase == PH_APPLYING) {
			tui_message(t, 1, "still running");
			return R_DIRTY;
		}
		start(o);
		return R_DIRTY;
	case TA_OPN_APPLY: {
		const struct opnsense_report *r;
		char q[128];
		size_t changes;
		if (o->phase != PH_PLAN) {
			tui_message(t, 1, "%s",
			    o->phase == PH_UNCONFIGURED ? "OPNsense is not configured"
			    : o->phase == PH_READING
			        ? "the plan is not ready yet"
			        : "no plan to apply: r reads the firewall again");
			return R_DIRTY;
		}
		r = opnsense_sync_report(o->sync);
		changes = opn_plan_changes(r->plan, OPN_RESERVATION) +
		          opn_plan_changes(r->plan, OPN_ALIAS);
		snprintf(q, sizeof q, "Apply this plan (%zu change%s) to OPNsense?", changes,
		    changes == 1 ? "" : "s");
		tui_ask(t, q, "nothing applied", apply_confirm_cb, o);
		return R_DIRTY;
	}
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vopn *o = (struct vopn *)v;

	finish(o, NULL); /* a plan never applied: the lease goes back */
	clear_lines(o);
}

static const struct view_ops vopnsense_ops = {
    .kind = TV_KIND_OPNSENSE,
    .list = VL_SCROLL,
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vopnsense_new(struct tui *t)
{
	struct vopn *o = view_new(sizeof *o, &vopnsense_ops);

	o->t = t;
	start(o);
	return &o->v;
}
