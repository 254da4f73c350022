/*
 * Key bindings: the defaults of the TUI_ACTIONS table plus the configuration's `bind` lines,
 * kept as one list searched from its end, so a later binding wins and "none" unbinds.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui/keymap.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* clang-format off */
static const struct keymap_action actions[TA__COUNT] = {
	[TA_NONE] = { "none", 0, "", NULL, "No action (unbinds a key)" },
#define TUI_ACTION_ROW(id, name, views, keys, label, help) \
	[TA_##id] = { name, views, keys, label, help },
	TUI_ACTIONS(TUI_ACTION_ROW)
#undef TUI_ACTION_ROW
};

static const char *const view_names[TV__COUNT] = {
#define TUI_VIEW_NAME(id, name) name,
	TUI_VIEWS(TUI_VIEW_NAME)
#undef TUI_VIEW_NAME
};
/* clang-format on */

struct binding {
	unsigned views;
	int key;
	enum tui_action action;
};

struct keymap {
	struct binding *b;
	size_t n;
};

/* Named keys; the first name of a code is the one printed. */
static const struct {
	const char *name;
	int key;
} named[] = {
    {"Enter", '\n'},
    {"Space", ' '},
    {"Esc", 27},
    {"Tab", '\t'},
    {"BSpace", KEY_BACKSPACE},
    {"Up", KEY_UP},
    {"Down", KEY_DOWN},
    {"Left", KEY_LEFT},
    {"Right", KEY_RIGHT},
    {"PageUp", KEY_PPAGE},
    {"PgUp", KEY_PPAGE},
    {"PageDown", KEY_NPAGE},
    {"PgDn", KEY_NPAGE},
    {"Home", KEY_HOME},
    {"End", KEY_END},
    {"Delete", KEY_DC},
    {"Insert", KEY_IC},
    {"BTab", KEY_BTAB},
};

int
keymap_parse_key(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	if (name[1] == '\0')
		return (unsigned char)name[0];
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (str_caseeq(name, named[i].name))
			return named[i].key;
	if ((name[0] == 'F' || name[0] == 'f') && name[1] >= '1' && name[1] <= '9') {
		int n = atoi(name + 1);
		if (n >= 1 && n <= 12 && strspn(name + 1, "0123456789") == strlen(name + 1))
			return KEY_F(n);
		return -1;
	}
	if ((name[0] == 'C' || name[0] == 'c') && name[1] == '-' && name[2] != '\0' &&
	    name[3] == '\0') {
		int c = name[2] | 0x20;
		if (c >= 'a' && c <= 'z')
			return c - 'a' + 1;
	}
	return -1;
}

char *
keymap_key_name(int key, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (named[i].key == key) {
			snprintf(buf, size, "%s", named[i].name);
			return buf;
		}
	if (key >= KEY_F(1) && key <= KEY_F(12))
		snprintf(buf, size, "F%d", key - KEY_F0);
	else if (key >= 1 && key <= 26)
		snprintf(buf, size, "C-%c", 'a' + key - 1);
	else if (key > 32 && key < 127)
		snprintf(buf, size, "%c", key);
	else
		snprintf(buf, size, "#%d", key);
	return buf;
}

static void
add(struct keymap *km, unsigned views, int key, enum tui_action a)
{
	km->b = xreallocarray(km->b, km->n + 1, sizeof *km->b);
	km->b[km->n].views = views;
	km->b[km->n].key = key;
	km->b[km->n].action = a;
	km->n++;
}

struct keymap *
keymap_new(void)
{
	struct keymap *km = xcalloc(1, sizeof *km);

	for (int a = 1; a < TA__COUNT; a++) {
		char *keys = xstrdup(actions[a].keys), *save = NULL;
		for (char *k = strtok_r(keys, " ", &save); k != NULL;
		     k = strtok_r(NULL, " ", &save))
			add(km, actions[a].views, keymap_parse_key(k), (enum tui_action)a);
		free(keys);
	}
	return km;
}

void
keymap_free(struct keymap *km)
{
	if (km == NULL)
		return;
	free(km->b);
	free(km);
}

int
keymap_bind(struct keymap *km, const char *view, const char *key, const char *action, char **cause)
{
	int v = str_caseeq(view, "all") ? -2 : keymap_view_find(view);
	int k = keymap_parse_key(key);
	enum tui_action a = keymap_action_find(action);

	if (v == -1) {
		*cause = xasprintf("bind: unknown view '%s'", view);
		return -1;
	}
	if (k < 0) {
		*cause = xasprintf("bind: unknown key '%s'", key);
		return -1;
	}
	if (a == TA_NONE && !str_caseeq(action, "none")) {
		*cause = xasprintf("bind: unknown action '%s'", action);
		return -1;
	}
	add(km, v == -2 ? TV_ALL : 1u << v, k, a);
	return 0;
}

enum tui_action
keymap_lookup(const struct keymap *km, enum tui_view_kind view, int key)
{
	if (key == '\r' || key == KEY_ENTER)
		key = '\n';
	else if (key == 127 || key == 8)
		key = KEY_BACKSPACE;
	for (size_t i = km->n; i > 0; i--) {
		const struct binding *b = &km->b[i - 1];
		if (b->key == key && (b->views & (1u << view)))
			return b->action;
	}
	return TA_NONE;
}

char *
keymap_keys(
    const struct keymap *km, enum tui_view_kind view, enum tui_action a, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < km->n; i++) {
		char name[16];
		const struct binding *b = &km->b[i];
		if (b->action != a || !(b->views & (1u << view)) ||
		    keymap_lookup(km, view, b->key) != a)
			continue;
		keymap_key_name(b->key, name, sizeof name);
		if (strstr(buf, name) != NULL && len > 0)
			continue;
		len += (size_t)snprintf(
		    buf + len, len < size ? size - len : 0, "%s%s", len ? " " : "", name);
		if (len >= size)
			break;
	}
	return buf;
}

const struct keymap_action *
keymap_action(enum tui_action a)
{
	return &actions[a < TA__COUNT ? a : TA_NONE];
}

enum tui_action
keymap_action_find(const char *name)
{
	for (int a = 1; a < TA__COUNT; a++)
		if (str_caseeq(name, actions[a].name))
			return (enum tui_action)a;
	return TA_NONE;
}

int
keymap_view_find(const char *name)
{
	for (int v = 0; v < TV__COUNT; v++)
		if (str_caseeq(name, view_names[v]))
			return v;
	return -1;
}

const char *
keymap_view_name(enum tui_view_kind v)
{
	return (int)v >= 0 && v < TV__COUNT ? view_names[v] : "?";
}

void
keymap_list(FILE *fp)
{
	for (int a = 1; a < TA__COUNT; a++) {
		char views[128] = "";
		size_t len = 0;

		if (actions[a].views == TV_ALL)
			snprintf(views, sizeof views, "all");
		else
			for (int v = 0; v < TV__COUNT; v++)
				if (actions[a].views & (1u << v))
					len += (size_t)snprintf(views + len, sizeof views - len,
					    "%s%s", len ? "," : "", view_names[v]);
		fprintf(fp, "%s\t%s\t%s\t%s\n", actions[a].name, views, actions[a].keys,
		    actions[a].help);
	}
}
