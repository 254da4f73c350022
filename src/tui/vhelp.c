/*
 * The help view, generated from the action table and the bindings in force: for each view,
 * every action bound there with its keys and help.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct vhelp {
	struct view v;
	struct textlines lines;
};

static void
build(struct vhelp *hv, struct tui *t)
{
	for (int v = 0; v < TV__COUNT; v++) {
		textlines_add(
		    &hv->lines, xasprintf("%s view", keymap_view_name((enum tui_view_kind)v)));
		for (int a = 1; a < TA__COUNT; a++) {
			const struct keymap_action *row = keymap_action((enum tui_action)a);
			char keys[96];
			if (!(row->views & (1u << v)))
				continue;
			keymap_keys(
			    t->km, (enum tui_view_kind)v, (enum tui_action)a, keys, sizeof keys);
			textlines_add(
			    &hv->lines, xasprintf("  %-16s %-14s %s", keys[0] ? keys : "(unbound)",
			                    row->name, row->help));
		}
		textlines_add(&hv->lines, xstrdup(""));
	}
	textlines_add(&hv->lines, xstrdup("commands (type : first; Tab completes)"));
	tui_command_lines(&hv->lines);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	textlines_get(&((struct vhelp *)v)->lines, k, buf, size);
	return buf[0] != ' ' ? TC_TITLE : TC_NORMAL;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	view_panel(t, y, h, w, "Help - keys of every view (q closes)");
	view_draw_list(v, t, &(struct view_area){y + 1, 2, h - 2, w - 4},
	    ((struct vhelp *)v)->lines.n, line_of, NULL);
}

static void
vfree(struct view *v)
{
	textlines_clear(&((struct vhelp *)v)->lines);
}

static const struct view_ops vhelp_ops = {
    .kind = TV_KIND_HELP,
    .list = VL_SCROLL,
    .draw = draw,
    .free = vfree,
};

struct view *
vhelp_new(struct tui *t)
{
	struct vhelp *hv = view_new(t, sizeof *hv, &vhelp_ops);

	build(hv, t);
	return &hv->v;
}
