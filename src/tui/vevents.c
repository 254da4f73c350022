/*
 * The events view: the newest events of the fleet (online/offline, auth failures, address
 * changes, output changes ...), newest first, with a filter over device, kind and detail.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"

#define EVENTS_SHOWN 1000

struct vevents {
	struct view v;
	struct source_event ev[EVENTS_SHOWN];
	size_t n;
	char filter[128];
	char mac[DEV_MAC_LEN]; /* one device's events (opened from its detail); "" the fleet's */
};

/*
 * The kinds of event written besides the device states (poller, discovery, registry, device
 * names, provisioning). The kind column is as wide as the widest of them; a kind not listed
 * here is cut to that width, so the detail column never moves.
 */
static const char *const event_kinds[] = {"output_changed", "rebooted", "mac_mismatch",
    "mac_conflict", "ip_changed", "device_name_changed", "provisioned", "provision_failed"};

/* The width of the kind column: the widest listed kind or device state name. */
int
event_kind_width(void)
{
	static int width;

	if (width == 0) {
		for (size_t i = 0; i < sizeof event_kinds / sizeof event_kinds[0]; i++)
			if ((int)strlen(event_kinds[i]) > width)
				width = (int)strlen(event_kinds[i]);
		for (int st = 0; st < DEVICE_STATE_COUNT; st++)
			if ((int)strlen(device_state_name((enum device_state)st)) > width)
				width = (int)strlen(device_state_name((enum device_state)st));
	}
	return width;
}

static const char *
who(struct tui *t, const char *mac)
{
	return mac[0] ? view_dev_label(t, mac) : "fleet";
}

void
event_line(struct tui *t, const struct source_event *e, int with_date, char *buf, size_t size)
{
	char ts[32], name[128], kind[128];
	time_t sec = (time_t)(e->ts_ms / 1000);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(ts, sizeof ts, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(buf, size, "%s  %s  %s %s", ts, draw_cells(name, sizeof name, who(t, e->mac), 20),
	    draw_cells(kind, sizeof kind, e->kind, event_kind_width()), e->detail);
}

void
events_pane(struct tui *t, const char *mac, const char *title, int y, int h, int w)
{
	struct source_event ev[32];
	size_t max = h - 2 < 32 ? (size_t)(h > 2 ? h - 2 : 0) : 32;
	size_t n = source_events(t->src, mac, ev, max);

	draw_frame(t, y, 0, h, w, title);
	for (size_t i = 0; i < n; i++) {
		char buf[400], ts[32], kind[128];
		time_t sec = (time_t)(ev[i].ts_ms / 1000);
		struct tm tm;
		if (mac == NULL) {
			event_line(t, &ev[i], 0, buf, sizeof buf);
			draw_text(y + 1 + (int)i, 1, w - 2, buf, theme_attr(t->theme, TC_NORMAL));
			continue;
		}
		localtime_r(&sec, &tm);
		strftime(ts, sizeof ts, "%m-%d %H:%M:%S", &tm);
		snprintf(buf, sizeof buf, "%s  %s %s", ts,
		    draw_cells(kind, sizeof kind, ev[i].kind, event_kind_width()), ev[i].detail);
		draw_text(y + 1 + (int)i, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
}

static void
load(struct view *v)
{
	struct vevents *ve = (struct vevents *)v;
	size_t n = source_events(ve->v.t->src, ve->mac[0] ? ve->mac : NULL, ve->ev, EVENTS_SHOWN);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char line[512];
		event_line(ve->v.t, &ve->ev[i], 1, line, sizeof line);
		if (ve->filter[0] == '\0' || strcasestr(line, ve->filter) != NULL)
			ve->ev[k++] = ve->ev[i];
	}
	ve->n = k;
	cursor_fit(&ve->v.cur, ve->n, ve->v.cur.page);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	struct vevents *ve = (struct vevents *)v;

	event_line(ve->v.t, &ve->ev[k], 1, buf, size);
	return TC_NORMAL;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vevents *ve = (struct vevents *)v;
	char title[200];

	snprintf(title, sizeof title, "Events%s%s%s%s - %zu", ve->mac[0] ? " of " : "",
	    ve->mac[0] ? view_dev_label(t, ve->mac) : "", ve->filter[0] ? " - filter: " : "",
	    ve->filter, ve->n);
	view_panel(t, y, h, w, title);
	view_draw_list(
	    v, t, &(struct view_area){y + 1, 1, h - 2, w - 2}, ve->n, line_of, "no events");
}

static void
filter_change_cb(struct tui *t, const char *text, void *arg)
{
	struct vevents *ve = arg;

	(void)t;
	str_copy(ve->filter, sizeof ve->filter, text);
	load(&ve->v);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vevents *ve = (struct vevents *)v;

	if (a == TA_FILTER) {
		tui_prompt(t, "events /", ve->filter, NULL, filter_change_cb, ve);
		return R_DIRTY;
	}
	if (a == TA_FILTER_CLEAR) {
		/* Esc undoes the filter first, as in the devices view; then it closes the log. */
		if (ve->filter[0] == '\0')
			return R_POP;
		filter_change_cb(t, "", ve);
		tui_message(t, 0, "filter cleared");
		return R_DIRTY;
	}
	return R_UNHANDLED;
}

static const struct view_ops vevents_ops = {
    .kind = TV_KIND_EVENTS,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .changed = load,
};

struct view *
vevents_new(struct tui *t)
{
	return view_open(view_new(t, sizeof(struct vevents), &vevents_ops));
}

struct view *
vevents_new_device(struct tui *t, const char *mac)
{
	struct vevents *ve = (struct vevents *)view_new(t, sizeof(struct vevents), &vevents_ops);

	str_copy(ve->mac, sizeof ve->mac, mac);
	return view_open(&ve->v);
}
