/*
 * What every view shares: its allocation, its list cursor moved by the core (a selected line,
 * or scrolled text), the panel it draws in and the lines of its list.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>

#include "tui/cfgjob.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/xmalloc.h"

void *
view_new(struct tui *t, size_t size, const struct view_ops *ops)
{
	struct view *v = xcalloc(1, size);

	v->ops = ops;
	v->t = t;
	v->cur.page = 1;
	return v;
}

struct view *
view_open(struct view *v)
{
	if (v->ops->changed != NULL)
		v->ops->changed(v);
	return v;
}

int
view_move(struct view *v, enum tui_action a)
{
	return v->ops->list == VL_SCROLL ? cursor_scroll(&v->cur, a) : cursor_move(&v->cur, a);
}

void
view_free(struct view *v)
{
	if (v->ops->free != NULL)
		v->ops->free(v);
	free(v);
}

void
view_job_report(struct tui *t, const struct source_job *job, const char *err_what, const char *what)
{
	struct source_progress p;
	size_t n;
	const struct source_result *r = source_job_results(job, &n);

	source_job_progress(job, &p);
	if (p.error != NULL)
		tui_message(t, 1, "%s: %s", err_what, p.error);
	else if (n > 0) /* the device as the table names it, its id when it has no name */
		tui_message(t, !r[0].ok, "%s: %s",
		    what != NULL ? what : r[0].mac[0] ? view_dev_label(t, r[0].mac) : r[0].target,
		    r[0].text);
}

void
view_progress(struct tui *t, int y, int w, const char *label, size_t done, size_t total)
{
	draw_text(y, 2, 12, label, theme_attr(t->theme, TC_NORMAL));
	draw_progress(t, y, 14, w - 16, done, total);
}

int
view_job_running(struct tui *t, const struct cfgjob *job)
{
	if (job == NULL || cfgjob_finished(job))
		return 0;
	tui_message(t, 1, "still running");
	return 1;
}

size_t
view_writing(struct view *v)
{
	size_t n = 0;

	for (; v != NULL; v = v->below)
		if (v->ops->writing != NULL)
			n += v->ops->writing(v);
	return n;
}

const char *
view_dev_label(struct tui *t, const char *mac)
{
	const struct source_dev *r = source_device(t->src, mac);

	return r != NULL ? source_dev_label(r) : mac;
}

int
view_allow_toggle(struct cfgjob_opts *o, enum tui_action a)
{
	if (a == TA_ALLOW_REBOOT)
		o->allow_reboot = !o->allow_reboot;
	else if (a == TA_ALLOW_NETWORK)
		o->allow_network = !o->allow_network;
	else
		return 0;
	return 1;
}

char *
view_allow_text(const struct cfgjob_opts *o, char *buf, size_t size)
{
	snprintf(buf, size, "allow reboot (B): %s - allow network change (N): %s",
	    o->allow_reboot ? "yes" : "no", o->allow_network ? "yes" : "no");
	return buf;
}

void
view_clear(int y, int h)
{
	for (int i = y; i < y + h; i++) {
		move(i, 0);
		clrtoeol();
	}
}

void
view_panel(struct tui *t, int y, int h, int w, const char *title)
{
	view_clear(y, h);
	draw_frame(t, y, 0, h, w, title);
}

void
view_draw_list(struct view *v, struct tui *t, const struct view_area *at, size_t n,
    view_line_cb line, const char *empty)
{
	struct cursor *c = &v->cur;
	char buf[512];

	cursor_fit(c, n, at->h);
	if (n == 0 && empty != NULL)
		draw_text(at->y, at->x, at->w, empty, theme_attr(t->theme, TC_DIM));
	for (int i = 0; i < at->h && c->top + (size_t)i < n; i++) {
		size_t k = c->top + (size_t)i;
		enum tui_color color = line(v, k, buf, sizeof buf);
		if (k == c->sel && v->ops->list == VL_SELECT)
			color = TC_CURSOR;
		draw_text(at->y + i, at->x, at->w, buf, theme_attr(t->theme, color));
	}
}

const char *
view_value_text(const char *v)
{
	return v != NULL && v[0] == '\0' ? "\"\"" : v;
}
