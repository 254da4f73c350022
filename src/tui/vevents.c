/*
 * The events view: the newest events of the fleet (online/offline, auth failures, address
 * changes, output changes ...), newest first, with a filter over device, kind and detail.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define EVENTS_SHOWN 1000

struct vevents {
	struct view v;
	struct source_event *ev;
	size_t n;
	struct cursor cur;
	char filter[128];
	struct tui *t;
};

static const char *
who(struct tui *t, const char *mac)
{
	size_t n;
	const struct source_dev *rows = source_devices(t->src, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].mac, mac) == 0)
			return rows[i].name[0] ? rows[i].name : rows[i].id;
	return mac[0] ? mac : "fleet";
}

void
event_line(struct tui *t, const struct source_event *e, int with_date, char *buf, size_t size)
{
	char ts[32];
	time_t sec = (time_t)(e->ts_ms / 1000);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(ts, sizeof ts, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(buf, size, "%s  %-20.20s  %-14s %s", ts, who(t, e->mac), e->kind, e->detail);
}

static void
load(struct vevents *ve)
{
	size_t n = source_events(ve->t->src, NULL, ve->ev, EVENTS_SHOWN), k = 0;

	for (size_t i = 0; i < n; i++) {
		char line[512];
		event_line(ve->t, &ve->ev[i], 1, line, sizeof line);
		if (ve->filter[0] == '\0' || strcasestr(line, ve->filter) != NULL)
			ve->ev[k++] = ve->ev[i];
	}
	ve->n = k;
	cursor_fit(&ve->cur, ve->n, ve->cur.page);
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vevents *ve = (struct vevents *)v;
	char title[200], line[512];

	for (int i = y; i < y + h; i++) {
		move(i, 0);
		clrtoeol();
	}
	snprintf(title, sizeof title, "Events%s%s - %zu", ve->filter[0] ? " - filter: " : "",
	    ve->filter, ve->n);
	draw_frame(t, y, 0, h, w, title);
	cursor_fit(&ve->cur, ve->n, h - 2);
	if (ve->n == 0)
		draw_text(y + 1, 2, w - 4, "no events", theme_attr(t->theme, TC_DIM));
	for (int i = 0; i < h - 2 && ve->cur.top + (size_t)i < ve->n; i++) {
		size_t k = ve->cur.top + (size_t)i;
		event_line(t, &ve->ev[k], 1, line, sizeof line);
		draw_text(y + 1 + i, 1, w - 2, line,
		    theme_attr(t->theme, k == ve->cur.sel ? TC_CURSOR : TC_NORMAL));
	}
}

static void
filter_change_cb(struct tui *t, const char *text, void *arg)
{
	struct vevents *ve = arg;

	(void)t;
	str_copy(ve->filter, sizeof ve->filter, text);
	load(ve);
}

static void
filter_done_cb(struct tui *t, const char *text, void *arg)
{
	if (text == NULL)
		filter_change_cb(t, "", arg);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vevents *ve = (struct vevents *)v;

	if (cursor_move(&ve->cur, a))
		return R_DIRTY;
	if (a == TA_FILTER) {
		tui_prompt(t, "events /", ve->filter, filter_done_cb, filter_change_cb, ve);
		return R_DIRTY;
	}
	return R_UNHANDLED;
}

static void
changed(struct view *v, struct tui *t)
{
	(void)t;
	load((struct vevents *)v);
}

static void
vfree(struct view *v)
{
	struct vevents *ve = (struct vevents *)v;

	free(ve->ev);
	free(ve);
}

static const struct view_ops vevents_ops = {
    .kind = TV_KIND_EVENTS,
    .title = "Events",
    .draw = draw,
    .action = action,
    .changed = changed,
    .free = vfree,
};

struct view *
vevents_new(struct tui *t)
{
	struct vevents *ve = xcalloc(1, sizeof *ve);

	ve->v.ops = &vevents_ops;
	ve->t = t;
	ve->cur.page = 1;
	ve->ev = xcalloc(EVENTS_SHOWN, sizeof *ve->ev);
	load(ve);
	return &ve->v;
}
