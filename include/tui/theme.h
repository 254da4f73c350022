#ifndef TUI_THEME_H
#define TUI_THEME_H

/*
 * Themes: a colour (foreground, background, attributes) for each screen element, written as
 * the configuration's `color ELEMENT FG BG [ATTRS...]` lines. The default theme is compiled in
 * (the same text as themes/default); other themes are files named NAME in $SHELLY_TUI_THEMES,
 * $XDG_CONFIG_HOME/shelly-tui/themes, the themes directory beside or above the binary, or the
 * data directory's themes (util/datadir.h: make install, SHELLY_TUI_DATADIR).
 * Without colour (NO_COLOR, a monochrome terminal, the mono theme) each element keeps only
 * its attributes, and every state is also a word, never colour alone.
 *
 * X(ID, name, mono attributes, help)
 */
#include <stddef.h>

/* clang-format off */
#define TUI_COLORS(X) \
	X(NORMAL, "normal", 0, "Text of tables and views") \
	X(HEADER, "header", A_REVERSE, "The fleet header line") \
	X(TITLE, "title", A_BOLD, "Frame titles and column headings") \
	X(FRAME, "frame", 0, "Frame lines") \
	X(CURSOR, "cursor", A_REVERSE, "The row under the cursor") \
	X(MARKED, "marked", A_BOLD, "Marked rows") \
	X(ONLINE, "online", 0, "The state word online") \
	X(OFFLINE, "offline", A_BOLD, "The state word offline") \
	X(ASLEEP, "asleep", A_DIM, "The state word asleep") \
	X(AUTH, "auth", A_BOLD | A_UNDERLINE, "The state words of devices that need credentials") \
	X(ERROR, "error", A_BOLD, "Errors and failed results") \
	X(OK, "ok", 0, "Successful results") \
	X(UPDATE, "update", A_BOLD, "The firmware update mark") \
	X(DIM, "dim", A_DIM, "Unknown values and secondary text") \
	X(FKEY, "fkey", 0, "Key names on the function-key bar") \
	X(FKEY_LABEL, "fkey-label", A_REVERSE, "Labels on the function-key bar") \
	X(STATUS, "status", 0, "The status and prompt line") \
	X(GRAPH, "graph", 0, "Sparklines and progress bars")
/* clang-format on */

enum tui_color {
#define TUI_COLOR_ENUM(id, name, mono, help) TC_##id,
	TUI_COLORS(TUI_COLOR_ENUM)
#undef TUI_COLOR_ENUM
	TC__COUNT
};

struct theme;
struct conf_color;

/* The names the theme action cycles through. */
#define THEME_NAMES "default light mono high-contrast"

/* Returns the compiled-in default theme; caller frees. */
struct theme *theme_new(void);
void theme_free(struct theme *th);
/* Loads theme name over the defaults. Returns 0, or -1 with *cause (th is then unchanged). */
int theme_load(struct theme *th, const char *name, char **cause);
/* Applies the configuration's color lines. Returns 0, or -1 with *cause for unknown elements. */
int theme_apply(struct theme *th, const struct conf_color *c, size_t n, char **cause);
/* The theme's name. */
const char *theme_name(const struct theme *th);
/* The text of the compiled-in default theme (what themes/default holds). */
const char *theme_default_text(void);

/*
 * After initscr: sets up colour pairs when colours are usable (has_colors, no NO_COLOR, not
 * the mono theme). Colours above COLORS are mapped to the nearest of the first 8 or 16.
 */
void theme_start(struct theme *th);
/* The curses attributes (pair included) of an element. */
int theme_attr(const struct theme *th, enum tui_color e);
/* The name of an element, or NULL; the element called name, or -1. */
const char *theme_element_name(enum tui_color e);
int theme_element_find(const char *name);

#endif
