/*
 * The OPNsense view: the sync plan as a table (one row per record: action, kind, device,
 * address, MAC, host name, reason; conflicts and changes first, unchanged records dimmed),
 * under the backend, the count line --opnsense-sync --dry-run prints and the services' state;
 * an apply key that writes exactly that plan after a question, then each record's result in
 * the same table. The sync runs in the console's loop
 * (integrations/opnsense_job.h); it takes the "opnsense" writer's lease while the view holds
 * a plan and gives it back when the view closes. Without opnsense-url the view says what to
 * configure.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "engine/opnsense_runner.h"
#include "integrations/opnsense_job.h"
#include "integrations/opnsense_plan.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum opn_phase { PH_UNCONFIGURED, PH_READING, PH_PLAN, PH_APPLYING, PH_APPLIED, PH_FAILED };

/* Lines of the summary above the table at most. */
#define HEAD_MAX 6

struct vopn {
	struct view v;
	struct opnsense_sync *sync;
	int ended; /* the job was ended: the lease is back */
	enum opn_phase phase;
	char *text;             /* without a plan: the text shown, as given */
	int wrap_w;             /* the width lines has text wrapped at; -1 not yet */
	struct textlines lines; /* without a plan: text's lines, wrapped to the view */
	struct textlines head; /* with a plan: the summary above the table */
	const struct opn_plan *plan; /* the sync's; NULL: the lines are shown */
	int done; /* the plan was applied: rows show outcomes */
	size_t *order; /* the plan's items in the table's order */
};

static void
clear_lines(struct vopn *o)
{
	textlines_clear(&o->lines);
	textlines_clear(&o->head);
	free(o->text);
	o->text = NULL;
	free(o->order);
	o->order = NULL;
	o->plan = NULL;
	o->v.cur.sel = o->v.cur.top = 0;
}

/* Replaces what is shown with text, one line each, sanitised (errors come from the
 * firewall) and wrapped to the view's width when drawn (an error names its fix at the end). */
static void
set_text(struct vopn *o, const char *text)
{
	clear_lines(o);
	o->text = xstrdup(text);
	o->wrap_w = -1;
}

/* The sync is over: the lease goes back (once); the sync and its plan stay for the table. */
static void
finish(struct vopn *o, const struct opnsense_report *r)
{
	struct opnsense_env env;

	if (o->sync == NULL || o->ended)
		return;
	opnsense_job_end(opnsense_runner_env(app_engine(o->v.t->app), &env), r);
	o->ended = 1;
}

/* Frees the sync (giving the lease back if it was not yet) and what was shown of it. */
static void
drop(struct vopn *o)
{
	if (o->sync != NULL && !o->ended) /* given up mid-sync: keep what may need a reconfigure */
		finish(o, opnsense_sync_interrupt(o->sync));
	clear_lines(o);
	opnsense_sync_free(o->sync);
	o->sync = NULL;
	o->ended = 0;
}

/* Where an item goes in the table: what needs a look, then changes, then the rest. */
static int
item_rank(const struct opn_item *it)
{
	if (it->action == OPN_CONFLICT || it->outcome == OPN_FAILED || it->outcome == OPN_NOT_RUN)
		return 0;
	return it->action == OPN_UNCHANGED ? 2 : 1;
}

static const struct opn_plan *sort_plan;

static int
order_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int d = item_rank(&sort_plan->items[i]) - item_rank(&sort_plan->items[j]);

	return d != 0 ? d : (i > j) - (i < j);
}

/* The summary: backend and note, the count line of the plan's text, the services. */
static void
set_head(struct vopn *o, const struct opnsense_report *r)
{
	struct strbuf sb, plan;
	const char *s, *last;

	strbuf_init(&sb);
	strbuf_init(&plan);
	strbuf_appendf(&sb, "backend %s%s\n", r->backend != NULL ? r->backend : "unknown",
	    o->done ? "" : " - nothing is changed until a is pressed and confirmed");
	if (r->note != NULL)
		strbuf_appendf(&sb, "note: %s\n", r->note);
	opn_plan_format(r->plan, o->done, &plan);
	s = strbuf_str(&plan);
	last = s;
	for (const char *p = s; *p != '\0'; p++)
		if (*p == '\n' && p[1] != '\0')
			last = p + 1;
	strbuf_append(&sb, last);
	opnsense_report_services(r, &sb);
	textlines_add_text(&o->head, strbuf_str(&sb));
	strbuf_done(&plan);
	strbuf_done(&sb);
}

static void
show_report(struct vopn *o)
{
	const struct opnsense_report *r = opnsense_sync_report(o->sync);
	struct strbuf sb;

	clear_lines(o);
	if (r->error != NULL || r->plan == NULL) {
		strbuf_init(&sb);
		opnsense_report_format(r, &sb);
		set_text(o, strbuf_str(&sb));
		strbuf_done(&sb);
		return;
	}
	o->plan = r->plan;
	o->done = !r->dry_run;
	o->order = xcalloc(r->plan->nitems ? r->plan->nitems : 1, sizeof *o->order);
	for (size_t i = 0; i < r->plan->nitems; i++)
		o->order[i] = i;
	sort_plan = r->plan;
	qsort(o->order, r->plan->nitems, sizeof *o->order, order_cmp);
	set_head(o, r);
}

static void
plan_done_cb(struct opnsense_sync *sync, void *arg)
{
	struct vopn *o = arg;
	const struct opnsense_report *r = opnsense_sync_report(sync);

	show_report(o);
	if (r->error != NULL) {
		o->phase = PH_FAILED;
		tui_message(o->v.t, 1, "OPNsense: %s", r->error);
		finish(o, r);
	} else {
		size_t changes = opn_plan_changes(r->plan, OPN_RESERVATION) +
		                 opn_plan_changes(r->plan, OPN_ALIAS);
		o->phase = PH_PLAN;
		tui_message(o->v.t, 0, "OPNsense plan: %zu change%s (a applies, r reads again)",
		    changes, changes == 1 ? "" : "s");
	}
	tui_dirty(o->v.t);
}

static void
apply_done_cb(struct opnsense_sync *sync, void *arg)
{
	struct vopn *o = arg;
	const struct opnsense_report *r = opnsense_sync_report(sync);

	show_report(o);
	o->phase = r->failed ? PH_FAILED : PH_APPLIED;
	tui_message(o->v.t, r->failed, "OPNsense: %s",
	    r->failed ? "something failed: see each record" : "the plan is applied");
	finish(o, r);
	tui_dirty(o->v.t);
}

/* Reads the firewall and computes the plan (the writer's lease is taken for the apply). */
static void
start(struct vopn *o)
{
	struct opnsense_env env;
	const char *url = conf_get_str(o->v.t->app->cfg, OPT_OPNSENSE_URL);
	char *cause = NULL;

	drop(o);
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
		    "  set opnsense-pin sha256//BASE64 (or: its self-signed certificate's key)\n"
		    "See OPNSENSE in the manual (man shelly-tui).\n");
		return;
	}
	o->sync = opnsense_job_begin(
	    opnsense_runner_env(app_engine(o->v.t->app), &env), 0, plan_done_cb, o, &cause);
	if (o->sync == NULL) {
		char *text = xasprintf("error: %s\nnothing was changed\n", cause);
		o->phase = PH_FAILED;
		set_text(o, text);
		tui_message(o->v.t, 1, "OPNsense: %s", cause);
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
	struct opnsense_env env;
	char *cause = NULL;

	if (o->phase != PH_PLAN || o->sync == NULL) {
		tui_message(t, 0, "nothing applied");
		return;
	}
	if (opnsense_job_renew(opnsense_runner_env(app_engine(t->app), &env), &cause) != 0 ||
	    opnsense_sync_apply(o->sync, apply_done_cb, o, &cause) != 0) {
		tui_message(t, 1, "OPNsense: %s; nothing applied", cause);
		free(cause);
		return;
	}
	o->phase = PH_APPLYING;
	tui_message(t, 0, "applying the plan to OPNsense ...");
}

static enum tui_color
text_line_of(struct view *v, size_t k, char *buf, size_t size)
{
	textlines_get(&((struct vopn *)v)->lines, k, buf, size);
	return str_has_prefix(buf, "error") || strstr(buf, "conflict") != NULL ||
	               strstr(buf, "failed") != NULL
	           ? TC_ERROR
	           : TC_NORMAL;
}

/* A cell of the table: sanitised (names and reasons come from the firewall), "-" when empty,
 * cut or padded to w terminal cells (0: as long as it is). */
static const char *
cell(char *buf, size_t size, const char *s, int w)
{
	char *safe = str_sanitize(s != NULL && s[0] != '\0' ? s : "-", 0);

	if (w > 0)
		draw_cells(buf, size, safe, w);
	else
		str_copy(buf, size, safe);
	free(safe);
	return buf;
}

/* The action column: planned, or once applied what became of the record. */
static const char *
action_text(const struct opn_item *it, int done)
{
	if (done && it->outcome == OPN_FAILED)
		return "failed";
	if (done && it->outcome == OPN_NOT_RUN)
		return "not applied";
	return done && it->outcome == OPN_APPLIED ? opn_action_name(it->action)
	                                          : opn_action_planned(it->action);
}

/* The columns: action, kind, device (22 cells), address (15), MAC, hostname (20), reason. */
#define ROW_FMT "%-11.11s %-11s %s %s %-17s %s %s"

static enum tui_color
row_of(struct view *v, size_t k, char *buf, size_t size)
{
	struct vopn *o = (struct vopn *)v;
	const struct opn_item *it = &o->plan->items[o->order[k]];
	int alias = it->kind == OPN_ALIAS;
	char dev[96], ip[64], mac[18], host[96], why[256];
	char mac_cell[18];

	opn_mac_format(it->mac, mac, sizeof mac);
	snprintf(buf, size, ROW_FMT, action_text(it, o->done), alias ? "alias" : "reservation",
	    cell(dev, sizeof dev, it->device, 22), cell(ip, sizeof ip, it->ip, 15),
	    alias ? "-" : cell(mac_cell, sizeof mac_cell, mac, 0),
	    cell(host, sizeof host, alias ? "" : it->hostname, 20),
	    cell(why, sizeof why, it->error[0] != '\0' ? it->error : it->why, 0));
	if (item_rank(it) == 0)
		return TC_ERROR;
	if (it->action == OPN_UNCHANGED)
		return TC_DIM;
	return o->done && it->outcome == OPN_APPLIED ? TC_OK : TC_NORMAL;
}

/* The selected row's device and whole reason (the table cuts it at the screen's edge). */
static void
draw_selected(struct vopn *o, struct tui *t, int y, int w)
{
	const struct opn_item *it;
	char buf[512];

	if (o->v.cur.sel >= o->plan->nitems)
		return;
	it = &o->plan->items[o->order[o->v.cur.sel]];
	if (it->error[0] == '\0' && it->why[0] == '\0')
		return;
	snprintf(buf, sizeof buf, "%s: %s", it->device, it->error[0] != '\0' ? it->error : it->why);
	str_sanitize_inplace(buf);
	draw_text(y, 2, w - 4, buf, theme_attr(t->theme, TC_DIM));
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vopn *o = (struct vopn *)v;
	static const char *const titles[] = {"OPNsense - not configured",
	    "OPNsense - reading the firewall", "OPNsense - plan (a applies, r reads again)",
	    "OPNsense - applying", "OPNsense - applied (r reads again)",
	    "OPNsense - failed (r tries again)"};
	char buf[512];
	int nh;

	view_panel(t, y, h, w, titles[o->phase]);
	if (o->plan == NULL && o->text != NULL && o->wrap_w != w - 4) {
		/* The lines follow the width (a cache of the text, not the model). */
		textlines_clear(&o->lines);
		textlines_add_wrapped(&o->lines, o->text, w - 4);
		o->wrap_w = w - 4;
	}
	if (o->plan == NULL) {
		view_draw_list(v, t, &(struct view_area){y + 1, 2, h - 2, w - 4}, o->lines.n,
		    text_line_of, NULL);
		return;
	}
	nh = o->head.n < HEAD_MAX ? (int)o->head.n : HEAD_MAX;
	for (int i = 0; i < nh; i++) {
		textlines_get(&o->head, (size_t)i, buf, sizeof buf);
		draw_text(y + 1 + i, 2, w - 4, buf,
		    theme_attr(t->theme,
		        strstr(buf, "fail") != NULL || str_has_prefix(buf, "pending") ? TC_ERROR
		                                                                      : TC_NORMAL));
	}
	draw_selected(o, t, y + 1 + nh, w);
	{
		char dev[32], ip[32], host[32];
		snprintf(buf, sizeof buf, ROW_FMT, "ACTION", "KIND",
		    draw_cells(dev, sizeof dev, "DEVICE", 22),
		    draw_cells(ip, sizeof ip, "ADDRESS", 15), "MAC",
		    draw_cells(host, sizeof host, "HOSTNAME", 20), "REASON");
	}
	draw_text(y + 2 + nh, 2, w - 4, buf, theme_attr(t->theme, TC_TITLE));
	view_draw_list(v, t, &(struct view_area){y + 3 + nh, 2, h - 4 - nh, w - 4}, o->plan->nitems,
	    row_of, NULL);
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
	drop((struct vopn *)v); /* a plan never applied: the lease goes back */
}

static const struct view_ops vopnsense_ops = {
    .kind = TV_KIND_OPNSENSE,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vopnsense_new(struct tui *t)
{
	struct vopn *o = view_new(t, sizeof *o, &vopnsense_ops);

	start(o);
	return &o->v;
}
