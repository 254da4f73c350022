#ifndef TUI_TUI_H
#define TUI_TUI_H

/*
 * The full-screen console: the default front end (shelly-tui with no mode). Only src/tui/
 * knows ncurses. tui_run owns the terminal from start to end and restores it on every exit
 * path it controls (q, F10, :quit, SIGTERM, SIGINT, SIGHUP, exit()).
 *
 * The deterministic layer for tests: tui_new_virtual builds the same console on a virtual
 * terminal of a given size (no tty), tui_feed sends keys through the same input path as the
 * terminal, and tui_dump returns the screen as text.
 */
#include <stdio.h>

struct app;
struct conf;
struct tui;

/* Runs the console until the operator leaves; returns the exit status. */
int tui_run(struct app *app);
/*
 * Checks what the console reads from the configuration cfg (bind and color lines) and --theme,
 * without a terminal, so that every mode (and a reload) refuses the same file. Returns 0, or
 * -1 and *cause.
 */
int tui_config_check(const struct app *app, const struct conf *cfg, char **cause);
/* --list-keys: the console's actions with their default keys. */
void tui_list_keys(FILE *fp);

/*
 * A console on a virtual rows x cols terminal over app's store, never polling; what it would
 * send to a terminal goes to out (NULL: nowhere; not closed). NULL + cause on failure.
 */
struct tui *tui_new_virtual(struct app *app, int rows, int cols, FILE *out, char **cause);
/* Feeds keys written as key names separated by blanks ("j j Enter", "/ k i t Enter"); a
 * name that is not a key is typed character by character. Then draws a frame. */
void tui_feed(struct tui *t, const char *keys);
/* Resizes the virtual terminal to rows x cols and draws a frame. */
void tui_resize_virtual(struct tui *t, int rows, int cols);
/* Re-reads the store and draws a frame. */
void tui_refresh(struct tui *t);
/* The screen as text, one line per row, trailing blanks removed (malloc'd). */
char *tui_dump(struct tui *t);
/* 1 once the operator asked to quit. */
int tui_quit_requested(const struct tui *t);
void tui_free(struct tui *t);

#endif
