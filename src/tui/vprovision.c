/*
 * The provisioning view (issue 12): the Shelly access points the agents report, marked with
 * Space, and p to queue a task for each marked one (or the one under the cursor) as
 * --provision does: it asks for the network, the file holding its WiFi key and a template.
 * Below, the newest tasks with their state, stage, attempts and result or reason, read again
 * from the store every second, so each device's progress shows while the agents work. The top
 * line says where agents reach the agent API: this console (tui/source.h) or the poller.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "engine/cfgdesired.h"
#include "model/devconfig.h"
#include "provision/agentmsg.h"
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

struct vprovision {
	struct view v;
	struct tui *t;
	struct vprov_ap *aps;
	size_t naps;
	char **tasks; /* one line each, sanitised, newest first */
	size_t ntasks, tcap;
	struct cursor cur;
	struct loop_timer *timer;
	/* The questions of p, answered one after the other. */
	char network[33];
	char key_ref_path[256];
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
	char line[512], *clean;

	snprintf(line, sizeof line, "%-5lld %-10s %-28s %-12s %-10s %d/%d  %s", (long long)t->id,
	    t->state, t->target, t->network, t->stage != NULL ? t->stage : "-", t->attempts,
	    t->max_attempts, t->reason != NULL ? t->reason : (t->result != NULL ? t->result : ""));
	clean = str_sanitize(line, sizeof line);
	if (vp->ntasks == vp->tcap) {
		vp->tcap = vp->tcap ? vp->tcap * 2 : 32;
		vp->tasks = xreallocarray(vp->tasks, vp->tcap, sizeof *vp->tasks);
	}
	vp->tasks[vp->ntasks++] = clean;
	return 0;
}

static void
tasks_clear(struct vprovision *vp)
{
	for (size_t i = 0; i < vp->ntasks; i++)
		free(vp->tasks[i]);
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
	if (store_ap_list(vp->t->app->store, loop_wall_ms() - VPROV_AP_AGE_MS, ap_cb, vp, &cause) !=
	    0) {
		tui_message(vp->t, 1, "access points: %s", cause);
		free(cause);
		cause = NULL;
	}
	for (size_t i = 0; i < vp->naps; i++)
		for (size_t k = 0; k < nold; k++)
			if (strcmp(vp->aps[i].ssid, old[k].ssid) == 0)
				vp->aps[i].marked = old[k].marked;
	free(old);
	tasks_clear(vp);
	if (store_task_list(vp->t->app->store, task_cb, vp, &cause) != 0) {
		tui_message(vp->t, 1, "tasks: %s", cause);
		free(cause);
	}
	/* The store lists oldest first: show the newest first, at most VPROV_TASKS. */
	for (size_t i = 0; i < vp->ntasks / 2; i++) {
		char *s = vp->tasks[i];

		vp->tasks[i] = vp->tasks[vp->ntasks - 1 - i];
		vp->tasks[vp->ntasks - 1 - i] = s;
	}
	while (vp->ntasks > VPROV_TASKS)
		free(vp->tasks[--vp->ntasks]);
	cursor_fit(&vp->cur, vp->naps, vp->cur.page);
}

static void
refresh_cb(void *arg)
{
	struct vprovision *vp = arg;

	load(vp);
	tui_dirty(vp->t);
	loop_timer_arm(vp->timer, VPROV_REFRESH_MS);
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vprovision *vp = (struct vprovision *)v;
	int aph, th;
	char title[128], line[320];
	size_t marked = 0;

	for (int i = y; i < y + h; i++) {
		move(i, 0);
		clrtoeol();
	}
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
	cursor_fit(&vp->cur, vp->naps, aph - 2);
	if (vp->naps == 0)
		draw_text(y + 1, 2, w - 4, "no access point reported by an agent lately",
		    theme_attr(t->theme, TC_DIM));
	for (int i = 0; i < aph - 2 && vp->cur.top + (size_t)i < vp->naps; i++) {
		size_t k = vp->cur.top + (size_t)i;
		const struct vprov_ap *a = &vp->aps[k];
		char *clean;

		snprintf(line, sizeof line, "%s %-32s agent %-16s %d dBm", a->marked ? "*" : " ",
		    a->ssid, a->agent, a->rssi);
		clean = str_sanitize(line, sizeof line);
		draw_text(y + 1 + i, 1, w - 2, clean,
		    theme_attr(t->theme, k == vp->cur.sel ? TC_CURSOR : TC_NORMAL));
		free(clean);
	}
	if (th < 3)
		return;
	snprintf(title, sizeof title, "Tasks (newest first): %zu", vp->ntasks);
	draw_frame(t, y + aph, 0, th, w, title);
	for (int i = 0; i < th - 2 && (size_t)i < vp->ntasks; i++)
		draw_text(y + aph + 1 + i, 1, w - 2, vp->tasks[i], theme_attr(t->theme, TC_NORMAL));
}

/* Queues one task per marked access point (or the one under the cursor). */
static void
queue(struct vprovision *vp, const char *template_name)
{
	struct store_task task;
	char *key_ref = NULL, *cause = NULL, who[64];
	size_t queued = 0, marked = 0;

	if (vp->key_ref_path[0] != '\0' &&
	    taskq_file_ref(vp->key_ref_path, TASKQ_KEY_MIN, TASKQ_KEY_MAX,
	        "a WPA key is 8 to 63 printable ASCII characters", &key_ref, &cause) != 0) {
		tui_message(vp->t, 1, "WiFi key file %s", cause);
		free(cause);
		free(key_ref);
		return;
	}
	if (template_name != NULL) {
		struct devconfig c;
		size_t n;

		if (cfgdesired_template_load(template_name, &c, &cause) != 0) {
			tui_message(vp->t, 1, "template: %s", cause);
			free(cause);
			free(key_ref);
			return;
		}
		n = c.n;
		agentmsg_config_free(&c);
		if (n > AGENTMSG_MAX_FIELDS) {
			tui_message(vp->t, 1, "template %s: more than %d fields", template_name,
			    AGENTMSG_MAX_FIELDS);
			free(key_ref);
			return;
		}
	}
	snprintf(who, sizeof who, "tui:%s",
	    getenv("USER") && str_is_safe(getenv("USER")) ? getenv("USER") : "?");
	for (size_t i = 0; i < vp->naps; i++)
		marked += vp->aps[i].marked != 0;
	for (size_t i = 0; i < vp->naps; i++) {
		int64_t id;

		if (marked ? !vp->aps[i].marked : i != vp->cur.sel)
			continue;
		memset(&task, 0, sizeof task);
		task.target = vp->aps[i].ssid;
		task.network = vp->network;
		task.key_ref = key_ref;
		task.template_name = template_name;
		task.max_attempts = 3;
		if (taskq_add(vp->t->app->store, &task, who, loop_wall_ms(), &id, &cause) != 0) {
			tui_message(vp->t, 1, "%s: %s", vp->aps[i].ssid, cause);
			free(cause);
			free(key_ref);
			return;
		}
		vp->aps[i].marked = 0;
		queued++;
	}
	free(key_ref);
	tui_message(vp->t, 0, "%zu task(s) queued for %s", queued, vp->network);
	load(vp);
}

static void
template_done_cb(struct tui *t, const char *text, void *arg)
{
	(void)t;
	if (text != NULL)
		queue(arg, text[0] != '\0' ? text : NULL);
}

static void
key_done_cb(struct tui *t, const char *text, void *arg)
{
	struct vprovision *vp = arg;

	if (text == NULL)
		return;
	str_copy(vp->key_ref_path, sizeof vp->key_ref_path, text);
	tui_prompt(t, "Template (empty: none):", "", template_done_cb, NULL, vp);
}

static void
network_done_cb(struct tui *t, const char *text, void *arg)
{
	struct vprovision *vp = arg;

	if (text == NULL || text[0] == '\0')
		return;
	str_copy(vp->network, sizeof vp->network, text);
	tui_prompt(t, "File with the WiFi key (empty: open network):", "", key_done_cb, NULL, vp);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vprovision *vp = (struct vprovision *)v;

	if (cursor_move(&vp->cur, a))
		return R_DIRTY;
	switch (a) {
	case TA_PROV_MARK:
		if (vp->cur.sel < vp->naps) {
			vp->aps[vp->cur.sel].marked = !vp->aps[vp->cur.sel].marked;
			if (vp->cur.sel + 1 < vp->naps)
				vp->cur.sel++;
		}
		return R_DIRTY;
	case TA_PROV_QUEUE:
		if (vp->naps == 0) {
			tui_message(t, 1, "no access point to provision");
			return R_DIRTY;
		}
		tui_prompt(
		    t, "Network (SSID) to put the devices on:", "", network_done_cb, NULL, vp);
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
	free(vp);
}

static const struct view_ops vprovision_ops = {
    .kind = TV_KIND_PROVISION,
    .title = "Provisioning",
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vprovision_new(struct tui *t)
{
	struct vprovision *vp = xcalloc(1, sizeof *vp);

	vp->v.ops = &vprovision_ops;
	vp->t = t;
	vp->cur.page = 1;
	vp->timer = loop_timer_new(t->app->loop, refresh_cb, vp);
	load(vp);
	loop_timer_arm(vp->timer, VPROV_REFRESH_MS);
	return &vp->v;
}
