/*
 * Themes (see tui/theme.h). A theme file is read with the configuration grammar, so a theme
 * is exactly a list of `color` lines; elements missing from it keep the default's colours.
 */
#include <curses.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "tui/theme.h"
#include "util/datadir.h"
#include "util/rfile.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct theme {
	char name[64];
	int fg[TC__COUNT], bg[TC__COUNT];
	unsigned attrs[TC__COUNT]; /* enum conf_attr bits */
	int color; /* colour pairs in use (after theme_start) */
};

/* clang-format off */
static const struct {
	const char *name;
	int mono;
} elements[TC__COUNT] = {
#define TUI_COLOR_ROW(id, name, mono, help) [TC_##id] = { name, mono },
	TUI_COLORS(TUI_COLOR_ROW)
#undef TUI_COLOR_ROW
};
/* clang-format on */

/* The compiled-in default: the text of themes/default (a unit test compares them). */
static const char default_text[] =
    "# shelly-tui default theme (dark). Compiled into the binary; this file is the reference "
    "copy.\n"
    "# color ELEMENT FG BG [ATTRS...]: colours are default, black, red, green, yellow, blue,\n"
    "# magenta, cyan, white or 0-255; attributes bold, underline, reverse, dim, blink, italic.\n"
    "color normal default default\n"
    "color header black cyan\n"
    "color title cyan default bold\n"
    "color frame blue default\n"
    "color cursor black white\n"
    "color marked yellow default bold\n"
    "color online green default\n"
    "color offline red default bold\n"
    "color asleep blue default\n"
    "color auth magenta default bold\n"
    "color error red default bold\n"
    "color ok green default\n"
    "color update yellow default bold\n"
    "color dim 244 default\n"
    "color fkey white default bold\n"
    "color fkey-label black cyan\n"
    "color status default default\n"
    "color graph cyan default\n";

const char *
theme_default_text(void)
{
	return default_text;
}

const char *
theme_element_name(enum tui_color e)
{
	return (int)e >= 0 && e < TC__COUNT ? elements[e].name : NULL;
}

int
theme_element_find(const char *name)
{
	for (int e = 0; e < TC__COUNT; e++)
		if (str_caseeq(name, elements[e].name))
			return e;
	return -1;
}

int
theme_apply(struct theme *th, const struct conf_color *c, size_t n, char **cause)
{
	for (size_t i = 0; i < n; i++)
		if (theme_element_find(c[i].element) < 0) {
			*cause =
			    xasprintf("%s: color: unknown element '%s'", c[i].where, c[i].element);
			return -1;
		}
	for (size_t i = 0; i < n; i++) {
		int e = theme_element_find(c[i].element);
		th->fg[e] = c[i].fg;
		th->bg[e] = c[i].bg;
		th->attrs[e] = c[i].attrs;
	}
	return 0;
}

static int
load_text(struct theme *th, const char *name, const char *text, size_t len, char **cause)
{
	struct conf *cfg = conf_new();
	const struct conf_color *c;
	size_t n;
	int rc = -1;

	if (conf_load_buffer(cfg, name, text, len, cause) == 0) {
		c = conf_colors(cfg, &n);
		rc = theme_apply(th, c, n, cause);
	}
	conf_free(cfg);
	return rc;
}

struct theme *
theme_new(void)
{
	struct theme *th = xcalloc(1, sizeof *th);
	char *cause = NULL;

	for (int e = 0; e < TC__COUNT; e++)
		th->fg[e] = th->bg[e] = -1;
	if (load_text(th, "default", default_text, sizeof default_text - 1, &cause) != 0)
		abort(); /* the compiled-in text is checked by a unit test */
	str_copy(th->name, sizeof th->name, "default");
	return th;
}

void
theme_free(struct theme *th)
{
	free(th);
}

const char *
theme_name(const struct theme *th)
{
	return th->name;
}

/* Reads a theme file into a malloc'd buffer, or NULL. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = rfile_fopen(path, NULL); /* a FIFO or device would block the console */
	struct strbuf sb;
	char buf[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0 && sb.len < 65536)
		strbuf_append_len(&sb, buf, n);
	fclose(fp);
	*len = sb.len;
	return strbuf_steal(&sb);
}

/* The directories searched for theme files, in order, into dirs (malloc'd each). */
static size_t
theme_dirs(char **dirs)
{
	const char *env = getenv("SHELLY_TUI_THEMES"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t n = 0;

	if (env != NULL && env[0] != '\0')
		dirs[n++] = xstrdup(env);
	if (xdg != NULL && xdg[0] != '\0')
		dirs[n++] = xasprintf("%s/shelly-tui/themes", xdg);
	else if (home != NULL && home[0] != '\0')
		dirs[n++] = xasprintf("%s/.config/shelly-tui/themes", home);
	if (len > 0) {
		char *slash;
		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			dirs[n++] = xasprintf("%s/themes", exe);
			dirs[n++] =
			    xasprintf("%s/../themes", exe); /* an uninstalled tree: build/.. */
		}
	}
	dirs[n++] = xasprintf("%s/themes", datadir()); /* make install; SHELLY_TUI_DATADIR */
	return n;
}

int
theme_load(struct theme *th, const char *name, char **cause)
{
	struct theme t;
	char *dirs[8], *text = NULL, *path = NULL;
	size_t nd, len = 0;
	int rc;

	if (name == NULL || name[0] == '\0' || strcmp(name, "default") == 0) {
		struct theme *d = theme_new();
		*th = *d;
		theme_free(d);
		return 0;
	}
	if (strchr(name, '/') != NULL) {
		path = xstrdup(name);
		text = read_file(path, &len);
	} else {
		nd = theme_dirs(dirs);
		for (size_t i = 0; i < nd; i++) {
			if (text == NULL) {
				free(path);
				path = xasprintf("%s/%s", dirs[i], name);
				text = read_file(path, &len);
			}
			free(dirs[i]);
		}
	}
	if (text == NULL) {
		const char *xdg = getenv("XDG_CONFIG_HOME"); /* as theme_dirs looks */

		*cause = xasprintf("theme '%s' not found (looked in $SHELLY_TUI_THEMES, "
		                   "%s/shelly-tui/themes, beside the program and in %s/themes)",
		    name, xdg != NULL && xdg[0] != '\0' ? xdg : "~/.config", datadir());
		free(path);
		return -1;
	}
	{
		struct theme *d = theme_new();
		t = *d;
		theme_free(d);
	}
	rc = load_text(&t, path, text, len, cause);
	free(text);
	free(path);
	if (rc != 0)
		return -1;
	str_copy(t.name, sizeof t.name, name);
	*th = t;
	return 0;
}

/* The nearest of the 8 basic colours to a 256-colour index (xterm palette). */
static int
nearest8(int c)
{
	int r, g, b;

	if (c < 16)
		return c & 7;
	if (c >= 232) {
		int level = (c - 232) * 10 + 8;
		return level < 64 ? COLOR_BLACK : COLOR_WHITE;
	}
	c -= 16;
	r = c / 36;
	g = (c / 6) % 6;
	b = c % 6;
	return (r >= 3 ? COLOR_RED : 0) | (g >= 3 ? COLOR_GREEN : 0) | (b >= 3 ? COLOR_BLUE : 0);
}

static int
fit_color(int c)
{
	if (c < 0 || c < COLORS)
		return c;
	if (COLORS >= 16 && c < 16)
		return c;
	return nearest8(c);
}

void
theme_start(struct theme *th)
{
	const char *nc = getenv("NO_COLOR");
	int any = 0;

	th->color = 0;
	for (int e = 0; e < TC__COUNT; e++)
		any |= th->fg[e] >= 0 || th->bg[e] >= 0;
	if (!any || (nc != NULL && nc[0] != '\0') || !has_colors())
		return;
	if (start_color() != OK)
		return;
	use_default_colors();
	for (int e = 0; e < TC__COUNT && e + 1 < COLOR_PAIRS; e++)
		init_pair((short)(e + 1), (short)fit_color(th->fg[e]), (short)fit_color(th->bg[e]));
	th->color = 1;
}

int
theme_attr(const struct theme *th, enum tui_color e)
{
	/* The configured attributes as curses ones; without colour only the first three. */
	static const struct {
		unsigned conf;
		int curses;
		int mono;
	} bits[] = {
	    {CONF_ATTR_BOLD, A_BOLD, 1},
	    {CONF_ATTR_UNDERLINE, A_UNDERLINE, 1},
	    {CONF_ATTR_REVERSE, A_REVERSE, 1},
	    {CONF_ATTR_DIM, A_DIM, 0},
	    {CONF_ATTR_BLINK, A_BLINK, 0},
	    {CONF_ATTR_ITALIC, A_ITALIC, 0},
	};
	int a = th->color ? (int)COLOR_PAIR(e + 1) : elements[e].mono;

	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if ((th->attrs[e] & bits[i].conf) && (th->color || bits[i].mono))
			a |= bits[i].curses;
	return a;
}
