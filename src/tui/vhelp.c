/*
 * The help view, generated from the action table and the bindings in force: for each view,
 * every action bound there with its keys and help.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/view.h"
#include "util/xmalloc.h"

struct vhelp {
	struct view v;
	char **lines;
	size_t n;
	struct cursor cur;
};

static void
add(struct vhelp *hv, char *line)
{
	hv->lines = xreallocarray(hv->lines, hv->n + 1, sizeof *hv->lines);
	hv->lines[hv->n++] = line;
}

static void
build(struct vhelp *hv, struct tui *t)
{
	for (int v = 0; v < TV__COUNT; v++) {
		add(hv, xasprintf("%s view", keymap_view_name((enum tui_view_kind)v)));
		for (int a = 1; a < TA__COUNT; a++) {
			char keys[96];
			if (!(keymap_action_views((enum tui_action)a) & (1u << v)))
				continue;
			keymap_keys(
			    t->km, (enum tui_view_kind)v, (enum tui_action)a, keys, sizeof keys);
			add(hv, xasprintf("  %-16s %-14s %s", keys[0] ? keys : "(unbound)",
			            keymap_action_name((enum tui_action)a),
			            keymap_action_help((enum tui_action)a)));
		}
		add(hv, xstrdup(""));
	}
	add(hv, xstrdup("commands (type : first; Tab completes)"));
	add(hv, xstrdup("  :quit  :help  :sort COLUMN  :filter TEXT|state=WORD  :theme NAME"));
	add(hv, xstrdup("  :scan CIDR|RANGE|ADDRESS  :events  :bind VIEW KEY ACTION"));
	add(hv, xstrdup("  :export  :import [FILE]  :opnsense"));
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vhelp *hv = (struct vhelp *)v;

	for (int i = y; i < y + h; i++) {
		move(i, 0);
		clrtoeol();
	}
	draw_frame(t, y, 0, h, w, "Help - keys of every view (q closes)");
	cursor_fit(&hv->cur, hv->n, h - 2);
	for (int i = 0; i < h - 2 && hv->cur.top + (size_t)i < hv->n; i++) {
		const char *line = hv->lines[hv->cur.top + (size_t)i];
		draw_text(y + 1 + i, 2, w - 4, line,
		    theme_attr(t->theme, line[0] != ' ' ? TC_TITLE : TC_NORMAL));
	}
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vhelp *hv = (struct vhelp *)v;

	(void)t;
	if (a == TA_UP || a == TA_DOWN) {
		/* Scrolls: the cursor is kept at the top or bottom line of the page. */
		hv->cur.sel = a == TA_UP ? hv->cur.top : hv->cur.top + (size_t)hv->cur.page;
	}
	if (cursor_move(&hv->cur, a))
		return R_DIRTY;
	return R_UNHANDLED;
}

static void
vfree(struct view *v)
{
	struct vhelp *hv = (struct vhelp *)v;

	for (size_t i = 0; i < hv->n; i++)
		free(hv->lines[i]);
	free(hv->lines);
	free(hv);
}

static const struct view_ops vhelp_ops = {
    .kind = TV_KIND_HELP,
    .title = "Help",
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vhelp_new(struct tui *t)
{
	struct vhelp *hv = xcalloc(1, sizeof *hv);

	hv->v.ops = &vhelp_ops;
	hv->cur.page = 1;
	build(hv, t);
	return &hv->v;
}
