/*
 * The provisioning view (issue 12): the Shelly access points the agents report, marked with
 * Space, and p to queue a task for each marked one (or the one under the cursor) as
 * --provision does: it asks for the network, the file holding its WiFi key, a template, the
 * device name (one device only), the file holding the device's new password and whether to
 * turn the device's access point off; secrets stay references to their files. Below, the
 * newest tasks with their state, stage, attempts and result or reason, read again from the
 * store every second, so each device's progress shows while the agents work; c cancels one
 * (asks its id, then confirms). The top
 * line says where agents reach the agent API: this console (tui/source.h) or the poller.
 */
#include <curses.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "engine/cfgdesired.h"
#include "model/devconfig.h"
#include "provision/agentmsg.h"
#include "provision/task.h"
#include "provision/taskq.h"
#include "store/taskstore.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define VPROV_TASKS 200 /* newest tasks shown */
#define VPROV_AP_AGE_MS (10 * 60 * 1000) /* access points seen this recently */
#define VPROV_REFRESH_MS 1000

struct vprov_ap {
	char ssid[33];
	char agent[41];
	int rssi;
	int marked;
};

struct vprov_task {
	int64_t id;
	int active; /* not done, failed or cancelled */
	char *line; /* sanitised */
};

struct vprovision {
	struct view v;
	struct vprov_ap *aps;
	size_t naps;
	struct vprov_task *tasks; /* newest first */
	size_t ntasks, tcap;
	struct loop_timer *timer;
	/* The questions of p, answered one after the other. */
	size_t ntargets; /* access points the answers are for */
	char network[33];
	char key_path[256];
	char template_name[128];
	char name[64];
	char pass_path[256];
	int step; /* the question asked */
	int64_t cancel_id; /* the task c asks to confirm */
};

static int
ap_cb(const struct store_ap *ap, void *arg)
{
	struct vprovision *vp = arg;
	struct vprov_ap *a;

	for (size_t i = 0; i < vp->naps; i++)
		if (strcmp(vp->aps[i].ssid, ap->ssid) == 0)
			return 0; /* seen by several agents: once */
	vp->aps = xreallocarray(vp->aps, vp->naps + 1, sizeof *vp->aps);
	a = &vp->aps[vp->naps++];
	memset(a, 0, sizeof *a);
	str_copy(a->ssid, sizeof a->ssid, ap->ssid);
	str_copy(a->agent, sizeof a->agent, ap->agent);
	a->rssi = ap->rssi;
	return 0;
}

static int
task_cb(const struct store_task *t, void *arg)
{
	struct vprovision *vp = arg;
	enum task_state st;
	char line[512];

	snprintf(line, sizeof line, "%-5lld %-10s %-28s %-12s %-10s %d/%d  %s", (long long)t->id,
	    t->state, t->target, t->network, t->stage != NULL ? t->stage : "-", t->attempts,
	    t->max_attempts, t->reason != NULL ? t->reason : (t->result != NULL ? t->result : ""));
	vp->tasks = xgrowarray(vp->tasks, &vp->tcap, vp->ntasks, sizeof *vp->tasks);
	vp->tasks[vp->ntasks].id = t->id;
	vp->tasks[vp->ntasks].active =
	    task_state_parse(t->state, &st) == 0 && !task_state_final(st);
	vp->tasks[vp->ntasks++].line = str_sanitize(line, sizeof line);
	return 0;
}

static void
tasks_clear(struct vprovision *vp)
{
	for (size_t i = 0; i < vp->ntasks; i++)
		free(vp->tasks[i].line);
	vp->ntasks = 0;
}

/* Reads access points and tasks again; keeps the marks of access points still there. */
static void
load(struct vprovision *vp)
{
	struct vprov_ap *old = vp->aps;
	size_t nold = vp->naps;
	char *cause = NULL;

	vp->aps = NULL;
	vp->naps = 0;
	if (store_ap_list(
	        vp->v.t->app->store, loop_wall_ms() - VPROV_AP_AGE_MS, ap_cb, vp, &cause) != 0) {
		tui_message(vp->v.t, 1, "access points: %s", cause);
		free(cause);
		cause = NULL;
	}
	for (size_t i = 0; i < vp->naps; i++)
		for (size_t k = 0; k < nold; k++)
			if (strcmp(vp->aps[i].ssid, old[k].ssid) == 0)
				vp->aps[i].marked = old[k].marked;
	free(old);
	tasks_clear(vp);
	if (store_task_list(vp->v.t->app->store, task_cb, vp, &cause) != 0) {
		tui_message(vp->v.t, 1, "tasks: %s", cause);
		free(cause);
	}
	/* The store lists oldest first: show the newest first, at most VPROV_TASKS. */
	for (size_t i = 0; i < vp->ntasks / 2; i++) {
		struct vprov_task x = vp->tasks[i];

		vp->tasks[i] = vp->tasks[vp->ntasks - 1 - i];
		vp->tasks[vp->ntasks - 1 - i] = x;
	}
	while (vp->ntasks > VPROV_TASKS)
		free(vp->tasks[--vp->ntasks].line);
	cursor_fit(&vp->v.cur, vp->naps, vp->v.cur.page);
}

static void
refresh_cb(void *arg)
{
	struct vprovision *vp = arg;

	load(vp);
	tui_dirty(vp->v.t);
	loop_timer_arm(vp->timer, VPROV_REFRESH_MS);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	const struct vprov_ap *a = &((struct vprovision *)v)->aps[k];
	char line[160], *clean;

	snprintf(line, sizeof line, "%s %-32s agent %-16s %d dBm", a->marked ? "*" : " ", a->ssid,
	    a->agent, a->rssi);
	clean = str_sanitize(line, sizeof line);
	str_copy(buf, size, clean);
	free(clean);
	return TC_NORMAL;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vprovision *vp = (struct vprovision *)v;
	int aph, th;
	char title[128], line[320];
	size_t marked = 0;

	view_clear(y, h);
	/* Where agents reach the manager: this console, or the poller holding the lease. */
	snprintf(line, sizeof line, "Agent API: %s", source_agent_api(t->src));
	draw_text(y, 1, w - 2, line, theme_attr(t->theme, TC_NORMAL));
	y++;
	h--;
	aph = h / 2 < 4 ? 4 : h / 2;
	th = h - aph;
	for (size_t i = 0; i < vp->naps; i++)
		marked += vp->aps[i].marked != 0;
	snprintf(title, sizeof title,
	    "Provisioning - access points seen by agents: %zu, marked %zu", vp->naps, marked);
	draw_frame(t, y, 0, aph, w, title);
	view_draw_list(v, t, &(struct view_area){y + 1, 1, aph - 2, w - 2}, vp->naps, line_of,
	    "no access point reported by an agent lately");
	if (th < 3)
		return;
	snprintf(title, sizeof title, "Tasks (newest first): %zu", vp->ntasks);
	draw_frame(t, y + aph, 0, th, w, title);
	for (int i = 0; i < th - 2 && (size_t)i < vp->ntasks; i++)
		draw_text(
		    y + aph + 1 + i, 1, w - 2, vp->tasks[i].line, theme_attr(t->theme, TC_NORMAL));
}

/* Who the audit names: "tui:USER". */
static void
who_am_i(char *buf, size_t size)
{
	const char *u = getenv("USER");

	snprintf(buf, size, "tui:%s", u != NULL && str_is_safe(u) ? u : "?");
}

/* The access points p is for: the marked ones, or the one under the cursor. */
static int
is_target(const struct vprovision *vp, size_t i, size_t marked)
{
	return marked ? vp->aps[i].marked != 0 : i == vp->v.cur.sel;
}

static size_t
count_marked(const struct vprovision *vp)
{
	size_t marked = 0;

	for (size_t i = 0; i < vp->naps; i++)
		marked += vp->aps[i].marked != 0;
	return marked;
}

/* Checks the answers and makes the references of the two secret files. Returns 0, or -1
 * (the message shown). */
static int
check_answers(struct vprovision *vp, char **key_ref, char **pass_ref)
{
	char *cause = NULL;

	if (vp->key_path[0] != '\0' &&
	    taskq_file_ref(vp->key_path, "WiFi key file", taskq_key_ok, TASKQ_KEY_RULE, key_ref,
	        &cause) != 0) {
		tui_message(vp->v.t, 1, "%s", cause);
		free(cause);
		return -1;
	}
	if (vp->pass_path[0] != '\0' &&
	    taskq_file_ref(vp->pass_path, "device password file", taskq_pass_ok, TASKQ_PASS_RULE,
	        pass_ref, &cause) != 0) {
		tui_message(vp->v.t, 1, "%s", cause);
		free(cause);
		return -1;
	}
	if (vp->template_name[0] == '\0')
		return 0;
	if (cfgdesired_template_check(vp->template_name, AGENTMSG_MAX_FIELDS, &cause) != 0) {
		tui_message(vp->v.t, 1, "template: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/*
 * Checks every access point p is for before any task is queued, as --provision does: one
 * whose device has a task that has not ended stops the whole batch. Returns 0, or -1 (the
 * message shown).
 */
static int
targets_free(struct vprovision *vp, size_t marked)
{
	for (size_t i = 0; i < vp->naps; i++) {
		char *cause = NULL;
		int64_t id = 0;
		int rc;

		if (!is_target(vp, i, marked))
			continue;
		rc = taskq_target_active(vp->v.t->app->store, vp->aps[i].ssid, &id, &cause);
		if (rc > 0)
			tui_message(vp->v.t, 1,
			    "%s: task %lld for this device has not ended (c cancels it); nothing "
			    "queued",
			    vp->aps[i].ssid, (long long)id);
		else if (rc < 0) {
			tui_message(vp->v.t, 1, "%s: %s; nothing queued", vp->aps[i].ssid, cause);
			free(cause);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * Queues one task per marked access point (or the one under the cursor), all or none
 * (taskq_add_all): a batch is never left partly queued.
 */
static void
queue(struct vprovision *vp, int ap_off)
{
	struct store_task *tasks;
	int64_t *ids;
	char *key_ref = NULL, *pass_ref = NULL, *cause = NULL, who[64];
	size_t n = 0, marked = count_marked(vp);

	if (vp->name[0] != '\0' && marked > 1) {
		tui_message(vp->v.t, 1, "a device name goes to one device, not %zu", marked);
		return;
	}
	if (targets_free(vp, marked) != 0 || check_answers(vp, &key_ref, &pass_ref) != 0)
		goto out;
	who_am_i(who, sizeof who);
	tasks = xcalloc(vp->naps > 0 ? vp->naps : 1, sizeof *tasks);
	ids = xcalloc(vp->naps > 0 ? vp->naps : 1, sizeof *ids);
	for (size_t i = 0; i < vp->naps; i++) {
		struct store_task *task = &tasks[n];

		if (!is_target(vp, i, marked))
			continue;
		task->target = vp->aps[i].ssid;
		task->network = vp->network;
		task->key_ref = key_ref;
		task->template_name = vp->template_name[0] != '\0' ? vp->template_name : NULL;
		task->name = vp->name[0] != '\0' ? vp->name : NULL;
		task->pass_ref = pass_ref;
		task->ap_off = ap_off;
		task->max_attempts = 3;
		n++;
	}
	if (taskq_add_all(vp->v.t->app->store, tasks, n, who, loop_wall_ms(), ids, &cause) != 0) {
		tui_message(vp->v.t, 1, "%s; nothing queued", cause);
		free(cause);
	} else {
		for (size_t i = 0; i < vp->naps; i++)
			if (is_target(vp, i, marked))
				vp->aps[i].marked = 0;
		tui_message(vp->v.t, 0, "%zu task(s) queued for %s", n, vp->network);
		load(vp);
	}
	free(tasks);
	free(ids);
out:
	free(key_ref);
	free(pass_ref);
}

static void
ap_off_done_cb(struct tui *t, const char *text, void *arg)
{
	if (text == NULL) {
		tui_message(t, 0, "nothing queued");
		return;
	}
	queue(arg, text[0] == 'y');
}

/* The questions of p, in order; each answer goes to its field of struct vprovision. */
enum { Q_NETWORK, Q_KEY, Q_TEMPLATE, Q_NAME, Q_PASS, Q_AP_OFF };
static const struct {
	const char *label;
	size_t off, size;
} questions[] = {
    {"Network (SSID) to put the devices on:", offsetof(struct vprovision, network),
        sizeof((struct vprovision *)0)->network},
    {"File with the WiFi key (empty: open network):", offsetof(struct vprovision, key_path),
        sizeof((struct vprovision *)0)->key_path},
    {"Template (empty: none):", offsetof(struct vprovision, template_name),
        sizeof((struct vprovision *)0)->template_name},
    {"Device name (empty: keep):", offsetof(struct vprovision, name),
        sizeof((struct vprovision *)0)->name},
    {"File with the device's new password (empty: none):", offsetof(struct vprovision, pass_path),
        sizeof((struct vprovision *)0)->pass_path},
};

static void answer_cb(struct tui *t, const char *text, void *arg);

/* Asks question q, or the one after it when q does not apply (a name for several devices). */
static void
ask(struct tui *t, struct vprovision *vp, int q)
{
	if (q == Q_NAME && vp->ntargets != 1)
		q++;
	vp->step = q;
	if (q == Q_AP_OFF)
		tui_choose(t, "Turn the device's own access point off afterwards? [y/n] ", "yn",
		    ap_off_done_cb, vp);
	else
		tui_prompt(t, questions[q].label, "", answer_cb, NULL, vp);
}

static void
answer_cb(struct tui *t, const char *text, void *arg)
{
	struct vprovision *vp = arg;

	if (text == NULL || (vp->step == Q_NETWORK && text[0] == '\0'))
		return;
	if (vp->step == Q_NAME && text[0] != '\0' && !str_ascii_printable(text, 1, 64)) {
		tui_message(t, 1, "a device name is 1 to 64 printable ASCII characters");
		return;
	}
	str_copy((char *)vp + questions[vp->step].off, questions[vp->step].size, text);
	ask(t, vp, vp->step + 1);
}

/* ---- c: cancel a task ---- */

static void
cancel_confirm_cb(struct tui *t, void *arg)
{
	struct vprovision *vp = arg;
	char *cause = NULL, who[64];
	int rc;

	who_am_i(who, sizeof who);
	rc = taskq_cancel(t->app->store, vp->cancel_id, who, loop_wall_ms(), &cause);
	if (rc < 0) {
		tui_message(t, 1, "task %lld: %s", (long long)vp->cancel_id, cause);
		free(cause);
	} else if (rc == 0)
		tui_message(t, 1, "task %lld has ended already", (long long)vp->cancel_id);
	else
		tui_message(t, 0, "task %lld cancelled", (long long)vp->cancel_id);
	load(vp);
}

static void
cancel_id_cb(struct tui *t, const char *text, void *arg)
{
	struct vprovision *vp = arg;
	struct store_task *task;
	char q[160], *clean;
	long long id;

	if (text == NULL || text[0] == '\0')
		return;
	if (str_parse_int(text, 1, LLONG_MAX, &id) != 0 ||
	    (task = store_task_get(t->app->store, id)) == NULL) {
		clean = str_sanitize(text, 40);
		tui_message(t, 1, "no task %s", clean);
		free(clean);
		return;
	}
	vp->cancel_id = id;
	snprintf(q, sizeof q, "Cancel task %lld (%s, %s)?", id, task->target, task->state);
	store_task_free(task);
	clean = str_sanitize(q, sizeof q);
	tui_ask(t, clean, NULL, cancel_confirm_cb, vp);
	free(clean);
}

/* Asks which task (the newest that has not ended, by default), then confirms. */
static void
ask_cancel(struct tui *t, struct vprovision *vp)
{
	char initial[24] = "";

	for (size_t i = 0; i < vp->ntasks; i++)
		if (vp->tasks[i].active) {
			snprintf(initial, sizeof initial, "%lld", (long long)vp->tasks[i].id);
			break;
		}
	tui_prompt(t, "Cancel task (id):", initial, cancel_id_cb, NULL, vp);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vprovision *vp = (struct vprovision *)v;
	size_t marked;

	switch (a) {
	case TA_PROV_MARK:
		if (vp->v.cur.sel < vp->naps) {
			vp->aps[vp->v.cur.sel].marked = !vp->aps[vp->v.cur.sel].marked;
			if (vp->v.cur.sel + 1 < vp->naps)
				vp->v.cur.sel++;
		}
		return R_DIRTY;
	case TA_PROV_QUEUE:
		if (vp->naps == 0) {
			tui_message(t, 1, "no access point to provision");
			return R_DIRTY;
		}
		marked = count_marked(vp);
		vp->ntargets = marked ? marked : 1;
		memset(vp->name, 0, sizeof vp->name);
		ask(t, vp, Q_NETWORK);
		return R_DIRTY;
	case TA_PROV_CANCEL:
		ask_cancel(t, vp);
		return R_DIRTY;
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vprovision *vp = (struct vprovision *)v;

	loop_timer_free(vp->timer);
	tasks_clear(vp);
	free(vp->tasks);
	free(vp->aps);
}

static const struct view_ops vprovision_ops = {
    .kind = TV_KIND_PROVISION,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vprovision_new(struct tui *t)
{
	struct vprovision *vp = view_new(t, sizeof *vp, &vprovision_ops);

	vp->timer = loop_timer_new(t->app->loop, refresh_cb, vp);
	load(vp);
	loop_timer_arm(vp->timer, VPROV_REFRESH_MS);
	return &vp->v;
}
