#ifndef TUI_VIEW_H
#define TUI_VIEW_H

/*
 * Inside the console: the views (struct view + const struct view_ops, on a stack), the state
 * they share (struct tui) and the drawing widgets. Drawing never changes the model; action
 * handlers never draw, they return reaction flags.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>

#include "tui/keymap.h"
#include "tui/textlines.h"
#include "tui/theme.h"

struct app;
struct source;
struct source_job;
struct loop_timer;
struct loop_watch;
struct view;
struct tui;

/* What a handler asks of the core. */
enum reaction {
	R_NONE = 0,
	R_DIRTY = 1,		/* redraw */
	R_UNHANDLED = 2,	/* not this view's action: let the core try */
	R_POP = 4,		/* close this view */
	R_QUIT = 8,		/* leave the console */
};

/* How the core moves a view's cursor before the view's action handler sees a key. */
enum view_list {
	VL_NONE = 0,	/* the view moves its cursor itself, if it has one */
	VL_SELECT,	/* a list with a selected line: up, down, pages, home and end move it */
	VL_SCROLL,	/* text: up, down, pages, home and end scroll the lines shown */
};

struct view_ops {
	enum tui_view_kind kind;
	enum view_list list;
	/* Draws into rows [y, y + h) of the screen. */
	void (*draw)(struct view *v, struct tui *t, int y, int h, int w);
	/* Handles an action the list did not take; returns reaction flags (NULL: none). */
	int (*action)(struct view *v, struct tui *t, enum tui_action a);
	/* The source's rows changed (may be NULL). */
	void (*changed)(struct view *v);
	/* Releases what the view holds (may be NULL); the core frees the view itself. */
	void (*free)(struct view *v);
	/* Devices whose configuration the view's job is still writing (may be NULL: none).
	 * Closing the view stops that job, so the core asks first. */
	size_t (*writing)(struct view *v);
};

/* A list cursor: selected line and the first line shown. */
struct cursor {
	size_t sel, top, n;
	int page;
};

struct view {
	const struct view_ops *ops;
	struct tui *t;		/* the console the view is in */
	struct view *below;
	struct cursor cur;	/* the view's list (ops->list), or its own use */
};

typedef void (*prompt_done_cb)(struct tui *t, const char *text, void *arg);
typedef void (*prompt_change_cb)(struct tui *t, const char *text, void *arg);
typedef void (*ask_yes_cb)(struct tui *t, void *arg);

struct tui {
	struct app *app;
	struct source *src;
	struct keymap *km;
	struct theme *theme;
	struct view *top;
	struct view *devices;		/* the root view */
	int rows, cols;
	int virtual_term;		/* tests: no tty */
	FILE *vout, *vin;		/* the virtual terminal's streams */
	int vout_owned;
	int utf8;
	int dirty, clear_all;
	int quit;
	struct loop_timer *frame, *tick;
	struct loop_watch *in_watch;
	uint64_t last_frame_ms;
	uint64_t frames;
	char status[256];
	int status_error;
	/* The prompt line (filter, command, confirmation, scan target). */
	int prompting;
	int confirm;			/* y/N or choice prompt: a key answers */
	char choices[32];		/* the keys a choice prompt takes ("" for y/N) */
	int masked;			/* a password: shown as stars, wiped after use */
	char prompt_label[160];
	char input[256];
	size_t ilen;
	prompt_done_cb prompt_done;
	prompt_change_cb prompt_change;
	void *prompt_arg;
	struct jobshelf *shelf;		/* jobs the views let go of (jobshelf.c) */
	/* A tui_ask question: what runs on yes, what the status line says on no. */
	ask_yes_cb ask_yes;
	const char *ask_declined;
	void *ask_arg;
};

/* ---- core (tui.c) ---- */
void tui_push(struct tui *t, struct view *v);
void tui_dirty(struct tui *t);
void tui_message(struct tui *t, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens the prompt line; done gets the text on Enter (NULL on Esc); change on every edit.
 * Without done, Esc calls change with "" (a live filter is cleared). */
void tui_prompt(struct tui *t, const char *label, const char *initial, prompt_done_cb done,
    prompt_change_cb change, void *arg);
/* Asks a y/N question; done gets "y" on yes, NULL otherwise. */
void tui_confirm(struct tui *t, const char *question, prompt_done_cb done, void *arg);
/* Asks a y/N question: yes runs on y; on any other answer the status line says declined
 * (a static string; NULL: nothing). */
void tui_ask(struct tui *t, const char *question, const char *declined, ask_yes_cb yes,
    void *arg);
/* Runs a `:` command line. */
void tui_command(struct tui *t, const char *line);
/* One help line per `:` command (name, argument, help), appended to out. */
void tui_command_lines(struct textlines *out);
/* Opens the view of a job's progress and results (the view owns the job). */
void tui_show_job(struct tui *t, const char *title, struct source_job *job);
/* Asks for one key of choices; done gets it as a one-character string, NULL on any other. */
void tui_choose(struct tui *t, const char *question, const char *choices, prompt_done_cb done,
    void *arg);

/* A zeroed view of size bytes (its struct view first) in t, with ops and a cursor. */
void *view_new(struct tui *t, size_t size, const struct view_ops *ops);
/* Fills a new view v the way a change of the source does (ops->changed); returns v. */
struct view *view_open(struct view *v);
/* Moves v's cursor by a as its ops->list says; returns 1 when a was a movement. */
int view_move(struct view *v, enum tui_action a);
/* Releases v (ops->free, then the view). */
void view_free(struct view *v);
/* The status line after a job of one device: "err_what: why" when it failed as a whole,
 * else "what: text" of its result (what NULL: the result's target). */
void view_job_report(struct tui *t, const struct source_job *job, const char *err_what,
    const char *what);
/* A configuration value as the views show it: the empty string as "" (a blank cell, or a
 * change "x -> ", reads as nothing shown); anything else as it is. */
const char *view_value_text(const char *v);
/* A running job's line at row y: label, then a progress bar of done/total. */
void view_progress(struct tui *t, int y, int w, const char *label, size_t done, size_t total);
/* 1 when job (NULL: none) has not finished yet: the status line says so. */
struct cfgjob;
int view_job_running(struct tui *t, const struct cfgjob *job);
/* Devices written by the views from v down (the ops' writing), summed. */
size_t view_writing(struct view *v);
/* What the console calls the device mac: its label, or mac when it is not registered. */
const char *view_dev_label(struct tui *t, const char *mac);
/* The reboot and network toggles (B, N) of a configuration change: returns 1 when a was one
 * of them (and flipped it). */
struct cfgjob_opts;
int view_allow_toggle(struct cfgjob_opts *o, enum tui_action a);
/* The toggles as the views show them, into buf; returns buf. */
char *view_allow_text(const struct cfgjob_opts *o, char *buf, size_t size);
/* Clears rows [y, y + h). */
void view_clear(int y, int h);
/* Clears rows [y, y + h) and frames them with title. */
void view_panel(struct tui *t, int y, int h, int w, const char *title);
/* Where a list is drawn: h rows from (y, x), w cells wide. */
struct view_area {
	int y, x, h, w;
};
/* Line k of a list into buf (sanitised); returns its color (a VL_SELECT list draws the
 * cursor's line in TC_CURSOR instead). */
typedef enum tui_color (*view_line_cb)(struct view *v, size_t k, char *buf, size_t size);
/* Fits v's cursor to n lines in at->h rows and draws the lines on screen, or empty dimmed
 * when n is 0 (NULL: nothing). */
void view_draw_list(struct view *v, struct tui *t, const struct view_area *at, size_t n,
    view_line_cb line, const char *empty);

/* ---- jobs the views let go of (jobshelf.c) ---- */
struct jobshelf *jobshelf_new(struct tui *t);
/*
 * A view lets go of job (NULL is fine): it keeps running, its end is reported on the status
 * line under title, and it is the newest job jobshelf_take gives back.
 */
void jobshelf_put(struct jobshelf *s, const char *title, struct source_job *job);
/* The newest job let go of, its title into title (the caller owns the job now), or NULL. */
struct source_job *jobshelf_take(struct jobshelf *s, char *title, size_t size);
/* Cancels and frees every job on the shelf. NULL is fine. */
void jobshelf_free(struct jobshelf *s);

/* ---- the fatal cleanup hook (termguard.c) ---- */
/* Saves the shell's terminal modes of in_fd (before the console changes them). */
void termguard_save_modes(int in_fd);
/* After the terminal is set up: SIGABRT, SIGSEGV, SIGBUS and SIGFPE restore it on out_fd
 * (reset sequence from terminfo, the saved modes) and re-raise. */
void termguard_arm(int out_fd);
/* The terminal was restored the ordinary way: the handlers go back to the default. */
void termguard_disarm(void);

/* ---- views ---- */
struct view *vdevices_new(struct tui *t);
/* Devices view commands shared with `:`: sort by column name, filter text. */
int vdevices_sort(struct view *v, const char *column);
void vdevices_filter(struct view *v, const char *text);
const char *vdevices_columns(void);
struct view *vdetail_new(struct tui *t, const char *mac);
struct view *vevents_new(struct tui *t);
/* The events of the device mac alone (the detail view's events key). */
struct view *vevents_new_device(struct tui *t, const char *mac);
/* One event as a line: time (and date), device name, kind, detail. */
struct source_event;
void event_line(struct tui *t, const struct source_event *e, int with_date, char *buf,
    size_t size);
/* The width of an event line's kind column: the widest kind the tree writes. */
int event_kind_width(void);
/* A frame titled title at rows [y, y + h) with the newest events that fit: the fleet's (mac
 * NULL, each with its device) or one device's (with the date). */
void events_pane(struct tui *t, const char *mac, const char *title, int y, int h, int w);
struct view *vhelp_new(struct tui *t);
struct view *vresults_new(struct tui *t, const char *title, struct source_job *job);
/* Configuration (issue 9): the editor of one device, drift, groups and templates. */
struct view *vconfig_new(struct tui *t, const char *mac);
/* Drift of the devices macs (NULL: every device). */
struct view *vdrift_new(struct tui *t, const char *title, const char *const *macs, size_t n);
struct view *vgroups_new(struct tui *t);
/* The configuration snapshots of one device: list, fields, restore (dry run first). */
struct view *vsnapshots_new(struct tui *t, const char *mac);
/* Provisioning (issue 12): access points seen by agents, queue tasks, their progress. */
struct view *vprovision_new(struct tui *t);
/* The marked devices (array malloc'd, strings the view's); returns how many. */
size_t vdevices_marked(struct view *v, const char ***macs);
/* Marks exactly the devices of macs (the other marks cleared). */
void vdevices_mark_only(struct view *v, const char *const *macs, size_t n);
/* Configuration or groups changed: the DRIFT column is computed again. */
void vdevices_config_changed(struct view *v);
/* The DRIFT column's cache (vdrift.c): fields drifted per device from the store. */
struct drift_cache;
struct drift_cache *drift_cache_new(void);
void drift_cache_free(struct drift_cache *dc);
void drift_cache_invalidate(struct drift_cache *dc);
/* Drifted fields of mac, -1 when nothing is desired, -2 unknown. */
int drift_cache_get(struct drift_cache *dc, struct tui *t, const char *mac);
/* A scan's live progress and the devices it found, each added or ignored by the operator. */
struct view *vdiscover_new(struct tui *t, const char *title, struct source_job *scan);
/* The OPNsense sync plan with an apply key. */
struct view *vopnsense_new(struct tui *t);
/* Export and import from the console (prompt chains on the status line). */
void exchange_export_start(struct tui *t);
void exchange_import_start(struct tui *t, const char *path);

/* ---- widgets (draw.c) ---- */
/* Writes s (UTF-8, already sanitised) in w cells at (y, x), cut or padded; returns cells used. */
int draw_text(int y, int x, int w, const char *s, int attr);
/* Writes s over up to h rows of w cells from (y, x), wrapped at any character; returns the
 * rows used. */
int draw_wrap(int y, int x, int h, int w, const char *s, int attr);
/* Right-aligned variant. */
int draw_rtext(int y, int x, int w, const char *s, int attr);
/* Terminal cells s takes. */
int draw_width(const char *s);
/*
 * s cut or padded with blanks to exactly w terminal cells, into out (size bytes): the
 * "%-N.Ns" of a line a view builds, in cells rather than bytes, so a character is never cut
 * in half and columns line up in any script (as the devices table draws its cells). Returns
 * out.
 */
char *draw_cells(char *out, size_t size, const char *s, int w);
/* A frame with a title in its top line. */
void draw_frame(struct tui *t, int y, int x, int h, int w, const char *title);
/* The function-key bar of a view on row y. */
void draw_fkeys(struct tui *t, int y, enum tui_view_kind view);
/* A progress bar [####....] done/total in w cells. */
void draw_progress(struct tui *t, int y, int x, int w, size_t done, size_t total);
/* A sparkline of n values (NAN gaps) in w cells. */
void draw_sparkline(struct tui *t, int y, int x, int w, const double *v, size_t n);
/* Keeps the cursor inside [0, n) and on screen for page rows. */
void cursor_fit(struct cursor *c, size_t n, int page);
/* Applies a movement action; returns 1 when a, 0 when not a movement. */
int cursor_move(struct cursor *c, enum tui_action a);
/* The same for a text that has no cursor (VL_SCROLL): a scrolls the lines shown. */
int cursor_scroll(struct cursor *c, enum tui_action a);

/* Formatting of unknown-aware values ("-" when unknown). */
void fmt_power(char *buf, size_t size, double w);
void fmt_energy(char *buf, size_t size, double wh);
void fmt_age(char *buf, size_t size, int64_t ms_ago);

#endif
