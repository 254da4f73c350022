/*
 * Groups and templates in the console: every group with its members and attached template,
 * then the template files. Marked devices are added to the selected group (or a new one), a
 * template is attached to a group, `d` shows the drift of the group's members, from which
 * `a` applies, and Enter marks the members in the devices view for a bulk action.
 */
#include <curses.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "engine/cfgdesired.h"
#include "engine/cfggroup.h"
#include "exchange/cfgdoc.h"
#include "store/cfgstore.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct group {
	char name[72];
	char tmpl[72];
	int members;
};

struct vgroups {
	struct view v;
	struct group *groups;
	size_t ngroups;
	char (*tmpls)[72];
	size_t ntmpls;
	char pending_group[72]; /* the group a template prompt is for */
};

static int
group_cb(const struct cfgstore_row *r, void *arg)
{
	struct vgroups *g = arg;
	struct group *x;

	g->groups = xreallocarray(g->groups, g->ngroups + 1, sizeof *g->groups);
	x = &g->groups[g->ngroups++];
	str_copy(x->name, sizeof x->name, r->name);
	str_copy(x->tmpl, sizeof x->tmpl, r->tmpl != NULL ? r->tmpl : "");
	str_sanitize_inplace(x->name);
	str_sanitize_inplace(x->tmpl);
	x->members = r->members;
	return 0;
}

/* The template files (NAME.tmpl in the templates directory) with a valid name. */
static void
load_templates(struct vgroups *g)
{
	char *path = cfgdoc_template_dir();
	DIR *dir = path != NULL ? opendir(path) : NULL;
	struct dirent *de;

	g->ntmpls = 0;
	free(path);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);
		char name[sizeof *g->tmpls];
		if (len <= 5 || len - 5 >= sizeof name ||
		    strcmp(de->d_name + len - 5, ".tmpl") != 0)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (!cfgdoc_template_name_ok(name))
			continue;
		g->tmpls = xreallocarray(g->tmpls, g->ntmpls + 1, sizeof *g->tmpls);
		str_copy(g->tmpls[g->ntmpls++], sizeof *g->tmpls, name);
	}
	closedir(dir);
}

static void
load(struct vgroups *g)
{
	char *cause = NULL;

	g->ngroups = 0;
	if (cfgstore_groups(g->v.t->app->store, group_cb, g, &cause) != 0) {
		tui_message(g->v.t, 1, "groups: %s", cause);
		free(cause);
	}
	load_templates(g);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	const struct group *x = &((struct vgroups *)v)->groups[k];

	snprintf(buf, size, "%-24s %4d member(s)   template: %s", x->name, x->members,
	    x->tmpl[0] ? x->tmpl : "-");
	return TC_NORMAL;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vgroups *g = (struct vgroups *)v;
	char buf[300];

	view_panel(t, y, h, w, "Groups and templates");
	draw_text(y + 1, 2, w - 4,
	    "a add marked devices to the group - n new group - t attach a template - d drift - "
	    "Enter mark the members",
	    theme_attr(t->theme, TC_DIM));
	view_draw_list(v, t, &(struct view_area){y + 3, 2, h - 6, w - 4}, g->ngroups, line_of,
	    "no group yet: mark devices, then n");
	{
		size_t len = (size_t)snprintf(buf, sizeof buf, "templates:");
		for (size_t i = 0; i < g->ntmpls && len < sizeof buf - 80; i++)
			len += (size_t)snprintf(buf + len, sizeof buf - len, " %s", g->tmpls[i]);
		if (g->ntmpls == 0)
			snprintf(buf + len, sizeof buf - len, " none (shelly-tui --template-save)");
		draw_text(y + h - 2, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
}

static const struct group *
current(const struct vgroups *g)
{
	return g->v.cur.sel < g->ngroups ? &g->groups[g->v.cur.sel] : NULL;
}

static void
add_marked(struct vgroups *g, const char *group)
{
	const char **macs;
	size_t n = vdevices_marked(g->v.t->devices, &macs);
	char *cause = NULL;

	if (n == 0) {
		tui_message(g->v.t, 1, "mark devices first (Space in the devices view)");
		free(macs);
		return;
	}
	/* a per-device field the group fixes would reach every member (engine/cfggroup) */
	if ((cause = cfggroup_add_refusal(g->v.t->app->store, group, macs, n)) != NULL ||
	    cfgstore_group_add(g->v.t->app->store, group, macs, n, &cause) != 0) {
		tui_message(g->v.t, 1, "group %s: %s", group, cause);
		free(cause);
	} else
		tui_message(g->v.t, 0, "%zu device(s) added to group %s", n, group);
	free(macs);
	vdevices_config_changed(g->v.t->devices);
	load(g);
}

/* How many devices are marked in the devices view. */
static size_t
marked(struct tui *t)
{
	const char **macs;
	size_t n = vdevices_marked(t->devices, &macs);

	free(macs);
	return n;
}

/* Group and template names follow the rules of the command line and of import. */
static void
new_group_cb(struct tui *t, const char *text, void *arg)
{
	if (text == NULL)
		return;
	if (!cfgdoc_group_name_ok(text))
		tui_message(t, 1,
		    "a group name is 1-64 printable characters without spaces or a "
		    "leading '@'");
	else
		add_marked(arg, text);
}

static void
template_cb(struct tui *t, const char *text, void *arg)
{
	struct vgroups *g = arg;
	struct devconfig c;
	char *cause = NULL;

	if (text == NULL)
		return;
	if (text[0] != '\0') {
		if (!cfgdoc_template_name_ok(text)) {
			tui_message(t, 1,
			    "a template name is 1-64 printable characters, no '/', not "
			    "starting with '.'");
			return;
		}
		if (cfgdesired_template_load(text, &c, &cause) != 0) {
			tui_message(t, 1, "template %s: %s", text, cause);
			free(cause);
			return;
		}
		devconfig_done(&c);
	}
	if (cfgstore_group_template(t->app->store, g->pending_group, text, &cause) != 0) {
		tui_message(t, 1, "%s", cause);
		free(cause);
		return;
	}
	tui_message(t, 0,
	    text[0] ? "group %s follows template %s" : "group %s: template detached%s",
	    g->pending_group, text);
	vdevices_config_changed(t->devices);
	load(g);
}

/*
 * The group's members: their drift (a view over this one), or (mark) the marks of the devices
 * view, which this view then returns to. Returns the action's result.
 */
static int
group_members(struct vgroups *g, const struct group *x, int mark)
{
	char **macs, *cause = NULL, title[120];
	size_t n;
	int r = R_DIRTY;

	if (cfgdoc_members(g->v.t->app->store, x->name, &macs, &n, &cause) != 0) {
		tui_message(g->v.t, 1, "%s", cause);
		free(cause);
		return R_DIRTY;
	}
	if (mark) {
		vdevices_mark_only(g->v.t->devices, (const char *const *)macs, n);
		tui_message(g->v.t, 0,
		    "%zu member(s) of group %s marked (b: a bulk action on them)", n, x->name);
		r |= R_POP;
	} else {
		snprintf(title, sizeof title, "Drift of group %s", x->name);
		tui_push(g->v.t, vdrift_new(g->v.t, title, (const char *const *)macs, n));
	}
	str_array_free(macs, n);
	return r;
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vgroups *g = (struct vgroups *)v;
	const struct group *x = current(g);
	char label[160];

	switch (a) {
	case TA_GROUP_ADD:
	case TA_GROUP_NEW:
		if (a == TA_GROUP_ADD && x != NULL)
			add_marked(g, x->name);
		else if (marked(t) == 0) /* said before a name is asked for */
			tui_message(t, 1, "mark devices first (Space in the devices view)");
		else
			tui_prompt(t, "New group: ", "", new_group_cb, NULL, g);
		return R_DIRTY;
	case TA_GROUP_TEMPLATE:
		if (x == NULL) {
			tui_message(t, 1, "no group selected");
			return R_DIRTY;
		}
		str_copy(g->pending_group, sizeof g->pending_group, x->name);
		snprintf(label, sizeof label, "Template for group %s (empty: none): ", x->name);
		tui_prompt(t, label, x->tmpl, template_cb, NULL, g);
		return R_DIRTY;
	case TA_DRIFT:
		return x != NULL ? group_members(g, x, 0) : R_DIRTY;
	case TA_GROUP_MARK:
		if (x == NULL) {
			tui_message(t, 1, "no group selected");
			return R_DIRTY;
		}
		return group_members(g, x, 1);
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vgroups *g = (struct vgroups *)v;

	free(g->groups);
	free(g->tmpls);
}

static const struct view_ops vgroups_ops = {
    .kind = TV_KIND_GROUPS,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vgroups_new(struct tui *t)
{
	struct vgroups *g = view_new(t, sizeof *g, &vgroups_ops);

	load(g);
	return &g->v;
}
