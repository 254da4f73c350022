/*
 * The console's core: the terminal (or a virtual one for tests), the loop integration (stdin
 * drained until ERR, signals as loop events, a frame timer that draws at most every
 * FRAME_MS with one doupdate), the view stack, key dispatch through the keymap, the prompt
 * line and the `:` commands.
 */
#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <fcntl.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "tui/source.h"
#include "tui/tui.h"
#include "tui/view.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define FRAME_MS 40
/* The smallest terminal drawn: a frame with its heading and three rows, the header's counts.
 * Smaller, one line says so. */
#define MIN_COLS 30
#define MIN_ROWS 8

/* The terminal to restore on exit() (STYLE.md: the fatal cleanup hook); NULL when none. */
static SCREEN *active_screen;

static void
restore_terminal(void)
{
	if (active_screen != NULL) {
		endwin();
		active_screen = NULL;
	}
	termguard_disarm();
}

void
tui_list_keys(FILE *fp)
{
	keymap_list(fp);
}

/* ---- drawing ---- */

/*
 * One line of fleet facts. Who polls is always shown; on a narrow terminal the age of the
 * newest poll goes first, then the asleep and auth counts that are 0, the title, the power.
 */
static void
draw_header(struct tui *t)
{
	struct source_totals tot;
	char counts[160], extra[64] = "", polled[48] = "", pw[32], age[16], buf[1024], db[320] = "";
	const char *title = " shelly-tui ", *failed = source_write_failed(t->src);
	const char *unsaved = source_unsaved(t->src);
	const char *unreadable = source_status_unreadable(t->src);
	size_t auth;

	source_get_totals(t->src, &tot);
	if (failed != NULL) /* never dropped: what is shown may not be stored */
		snprintf(db, sizeof db, "  DB: %s write failed%s%s", failed, unsaved ? "  " : "",
		    unsaved ? unsaved : "");
	if (unreadable != NULL) /* never dropped either: the rows show no status */
		snprintf(db + strlen(db), sizeof db - strlen(db), "  DB: status unreadable: %s",
		    unreadable);
	auth = tot.by_state[DEVICE_AUTH_REQUIRED] + tot.by_state[DEVICE_AUTH_FAILED];
	fmt_power(pw, sizeof pw, tot.power_w);
	snprintf(counts, sizeof counts, " fleet %zu  online %zu  offline %zu",
	    tot.devices, tot.by_state[DEVICE_ONLINE], tot.by_state[DEVICE_OFFLINE]);
	if (tot.by_state[DEVICE_ERROR] > 0) { /* a device that answers nonsense is counted too */
		size_t len = strlen(counts);
		snprintf(
		    counts + len, sizeof counts - len, "  error %zu", tot.by_state[DEVICE_ERROR]);
	}
	snprintf(extra, sizeof extra, "  asleep %zu  auth %zu", tot.by_state[DEVICE_ASLEEP], auth);
	if (tot.polled_ms > 0 && unsaved == NULL) { /* no fresh poll the rows do not show */
		fmt_age(age, sizeof age, loop_wall_ms() - tot.polled_ms);
		snprintf(polled, sizeof polled, "  polled %s ago", age);
	}
	for (int step = 0; step < 5; step++) {
		snprintf(buf, sizeof buf, "%s%s%s%s%s%s%s  poller: %s", title, counts, db, extra,
		    pw[0] ? "  power " : "", pw, polled, source_poller(t->src));
		if (draw_width(buf) <= t->cols)
			break;
		if (step == 0)
			polled[0] = '\0';
		else if (step == 1) { /* the counts that are 0 go */
			size_t n = 0;
			extra[0] = '\0';
			if (tot.by_state[DEVICE_ASLEEP] > 0)
				n = (size_t)snprintf(
				    extra, sizeof extra, "  asleep %zu", tot.by_state[DEVICE_ASLEEP]);
			if (auth > 0)
				snprintf(extra + n, sizeof extra - n, "  auth %zu", auth);
		}
		else if (step == 2)
			title = ""; /* the program's name before who polls */
		else if (step == 3)
			pw[0] = '\0';
	}
	draw_text(0, 0, t->cols, buf, theme_attr(t->theme, TC_HEADER));
}

static void
draw_status(struct tui *t, int y)
{
	if (t->prompting) {
		char buf[512], stars[sizeof t->input];
		int w;
		/* A masked prompt shows one star per character typed. */
		size_t n = 0;
		for (size_t i = 0; t->masked && i < t->ilen; i++)
			if (((unsigned char)t->input[i] & 0xc0) != 0x80)
				stars[n++] = '*';
		stars[n] = '\0';
		snprintf(buf, sizeof buf, "%s%s", t->prompt_label, t->masked ? stars : t->input);
		w = draw_text(y, 0, t->cols, buf, theme_attr(t->theme, TC_STATUS));
		move(y, w < t->cols ? w : t->cols - 1);
		return;
	}
	/* Without a message, a devices view too short for its events pane shows the newest. */
	if (t->status[0] == '\0' && t->top->ops->kind == TV_KIND_DEVICES && t->rows - 3 < 24) {
		struct source_event ev;
		char line[400];
		if (source_events(t->src, NULL, &ev, 1) == 1) {
			event_line(t, &ev, 0, line, sizeof line);
			draw_text(y, 0, t->cols, line, theme_attr(t->theme, TC_DIM));
			return;
		}
	}
	draw_text(
	    y, 0, t->cols, t->status, theme_attr(t->theme, t->status_error ? TC_ERROR : TC_STATUS));
}

static void
draw_frame_now(struct tui *t)
{
	int body = t->rows - 3;

	if (t->clear_all) {
		clearok(curscr, TRUE);
		t->clear_all = 0;
	}
	if (t->rows < MIN_ROWS || t->cols < MIN_COLS) {
		erase();
		char need[24];
		snprintf(need, sizeof need, "(need %dx%d)", MIN_COLS, MIN_ROWS);
		draw_text(0, 0, t->cols, "terminal too small", A_BOLD);
		/* after it, or on the next line when the line is too short for both */
		if (t->cols >= 19 + (int)strlen(need))
			draw_text(0, 19, t->cols - 19, need, A_BOLD);
		else
			draw_text(1, 0, t->cols, need, A_BOLD);
	} else {
		draw_header(t);
		t->top->ops->draw(t->top, t, 1, body, t->cols);
		draw_status(t, t->rows - 2);
		draw_fkeys(t, t->rows - 1, t->top->ops->kind);
	}
	curs_set(t->prompting ? 1 : 0);
	if (t->prompting)
		draw_status(t, t->rows - 2); /* leaves the cursor in the prompt */
	wnoutrefresh(stdscr);
	doupdate();
	t->dirty = 0;
	t->frames++;
	t->last_frame_ms = loop_now_ms(t->app->loop);
}

/* Ages ("polled 3s ago", SEEN) move with the clock: one frame a second redraws them (only
 * the cells that changed reach the terminal). */
static void
tick_cb(void *arg)
{
	struct tui *t = arg;

	tui_dirty(t);
	loop_timer_arm(t->tick, 1000);
}

static void
frame_cb(void *arg)
{
	struct tui *t = arg;

	if (t->dirty && !t->quit)
		draw_frame_now(t);
}

void
tui_dirty(struct tui *t)
{
	uint64_t now, wait;

	t->dirty = 1;
	if (t->virtual_term || loop_timer_armed(t->frame))
		return;
	now = loop_now_ms(t->app->loop);
	wait = now - t->last_frame_ms >= FRAME_MS ? 0 : FRAME_MS - (now - t->last_frame_ms);
	loop_timer_arm(t->frame, wait);
}

void
tui_message(struct tui *t, int error, const char *fmt, ...)
{
	va_list ap;
	char raw[sizeof t->status], *safe;
	size_t n = 0;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* A cause of several lines (each error of a file) reads "one; two" on the one line. */
	for (const char *c = raw; *c != '\0' && n + 2 < sizeof t->status; c++)
		if (*c != '\n')
			t->status[n++] = *c;
		else if (c[1] != '\0') {
			t->status[n++] = ';';
			t->status[n++] = ' ';
		}
	t->status[n] = '\0';
	safe = str_sanitize(t->status, sizeof t->status - 1);
	str_copy(t->status, sizeof t->status, safe);
	free(safe);
	t->status_error = error;
	tui_dirty(t);
}

/* ---- the view stack ---- */

void
tui_push(struct tui *t, struct view *v)
{
	v->below = t->top;
	t->top = v;
	tui_dirty(t);
}

static void
pop_now(struct tui *t)
{
	struct view *v = t->top;

	if (v == NULL || v->below == NULL)
		return;
	t->top = v->below;
	view_free(v);
	tui_dirty(t);
}

static void
pop_yes_cb(struct tui *t, void *arg)
{
	(void)arg;
	pop_now(t);
}

/* Closes the top view, after asking while its job still writes configuration (closing stops
 * it: devices not reached yet keep their old configuration). */
static void
pop(struct tui *t)
{
	size_t n;
	char q[128];

	if (t->top == NULL || t->top->below == NULL)
		return;
	if (t->top->ops->writing == NULL || (n = t->top->ops->writing(t->top)) == 0) {
		pop_now(t);
		return;
	}
	snprintf(q, sizeof q, "configuration still being written to %zu device%s: close and stop?",
	    n, n == 1 ? "" : "s");
	tui_ask(t, q, "not closed: the configuration is still being written", pop_yes_cb, NULL);
}

static void
changed_cb(void *arg)
{
	struct tui *t = arg;

	for (struct view *v = t->top; v != NULL; v = v->below)
		if (v->ops->changed != NULL)
			v->ops->changed(v);
	tui_dirty(t);
}

void
tui_show_job(struct tui *t, const char *title, struct source_job *job)
{
	tui_push(t, vresults_new(t, title, job));
}

/* ---- the prompt line ---- */

static void prompt_end(struct tui *t, const char *text);

void
tui_prompt(struct tui *t, const char *label, const char *initial, prompt_done_cb done,
    prompt_change_cb change, void *arg)
{
	/* A prompt that is still open is answered "cancelled" first: every done runs once. */
	if (t->prompting)
		prompt_end(t, NULL);
	t->masked = 0;
	t->prompting = 1;
	t->confirm = 0;
	str_copy(t->prompt_label, sizeof t->prompt_label, label);
	t->ilen = str_copy(t->input, sizeof t->input, initial != NULL ? initial : "");
	if (t->ilen >= sizeof t->input)
		t->ilen = strlen(t->input);
	t->prompt_done = done;
	t->prompt_change = change;
	t->prompt_arg = arg;
	tui_dirty(t);
}

void
tui_confirm(struct tui *t, const char *question, prompt_done_cb done, void *arg)
{
	char label[sizeof t->prompt_label];

	snprintf(label, sizeof label, "%s [y/N] ", question);
	tui_prompt(t, label, "", done, NULL, arg);
	t->confirm = 1;
	t->choices[0] = '\0';
}

static void
ask_done_cb(struct tui *t, const char *text, void *arg)
{
	ask_yes_cb yes = t->ask_yes;
	const char *declined = t->ask_declined;

	(void)arg;
	t->ask_yes = NULL;
	if (text == NULL) {
		if (declined != NULL)
			tui_message(t, 0, "%s", declined);
	} else
		yes(t, t->ask_arg);
}

void
tui_ask(struct tui *t, const char *question, const char *declined, ask_yes_cb yes, void *arg)
{
	tui_confirm(t, question, ask_done_cb, NULL);
	t->ask_yes = yes;
	t->ask_declined = declined;
	t->ask_arg = arg;
}

void
tui_choose(struct tui *t, const char *question, const char *choices, prompt_done_cb done, void *arg)
{
	tui_prompt(t, question, "", done, NULL, arg);
	t->confirm = 1;
	str_copy(t->choices, sizeof t->choices, choices);
}

static void
prompt_end(struct tui *t, const char *text)
{
	prompt_done_cb done = t->prompt_done;
	prompt_change_cb change = t->prompt_change;
	void *arg = t->prompt_arg;
	char copy[sizeof t->input];

	str_copy(copy, sizeof copy, text != NULL ? text : "");
	/* A password leaves no copy in the prompt line. */
	explicit_bzero(t->input, sizeof t->input);
	t->ilen = 0;
	t->prompting = t->confirm = t->masked = 0;
	t->prompt_done = NULL;
	t->prompt_change = NULL;
	t->status[0] = '\0';
	tui_dirty(t);
	if (done != NULL)
		done(t, text != NULL ? copy : NULL, arg);
	else if (text == NULL && change != NULL)
		change(t, "", arg); /* a live filter's Esc clears it */
	explicit_bzero(copy, sizeof copy);
}

/* Removes the last UTF-8 character of the input. */
static void
input_backspace(struct tui *t)
{
	while (t->ilen > 0) {
		unsigned char c = (unsigned char)t->input[--t->ilen];
		if ((c & 0xc0) != 0x80)
			break;
	}
	t->input[t->ilen] = '\0';
}

static void complete_command(struct tui *t);

static void
prompt_key(struct tui *t, int key, int is_char)
{
	if (t->confirm) {
		char k[2] = {(char)key, '\0'};
		if (t->choices[0] == '\0')
			prompt_end(t, is_char && (key == 'y' || key == 'Y') ? "y" : NULL);
		else
			prompt_end(t,
			    is_char && key > 32 && key < 127 && strchr(t->choices, key) ? k : NULL);
		return;
	}
	if (!is_char) {
		if (key == KEY_BACKSPACE)
			input_backspace(t);
		else if (key == KEY_ENTER)
			prompt_end(t, t->input);
		else
			return;
	} else if (key == 27) {
		prompt_end(t, NULL);
		return;
	} else if (key == '\n' || key == '\r') {
		prompt_end(t, t->input);
		return;
	} else if (key == 127 || key == 8) {
		input_backspace(t);
	} else if (key == 21) { /* C-u */
		t->ilen = 0;
		t->input[0] = '\0';
	} else if (key == '\t') {
		if (t->prompt_done != NULL && strcmp(t->prompt_label, ":") == 0)
			complete_command(t);
	} else if (key >= 32 && key != 127) {
		char mb[MB_LEN_MAX + 1];
		int n = wctomb(mb, (wchar_t)key);
		if (n > 0 && t->ilen + (size_t)n < sizeof t->input - 1) {
			memcpy(t->input + t->ilen, mb, (size_t)n);
			t->ilen += (size_t)n;
			t->input[t->ilen] = '\0';
		}
	}
	if (t->prompt_change != NULL)
		t->prompt_change(t, t->input, t->prompt_arg);
	tui_dirty(t);
}

/* ---- commands ---- */

static void set_theme(struct tui *t, const char *name);
static void scan_start(struct tui *t, const char *target);
static void sort_command(struct tui *t, const char *arg);
static void filter_command(struct tui *t, const char *arg);
static void bind_command(struct tui *t, const char *arg);
static int global_action(struct tui *t, enum tui_action a);

/* The `:` commands: each is a key action, or (TA_NONE) a function that takes its argument. */
static const struct {
	const char *name;
	enum tui_action action;
	void (*run)(struct tui *t, const char *arg);
	const char *args, *help;
} commands[] = {
    {"quit", TA_QUIT, NULL, "", "Leave the console"},
    {"help", TA_HELP, NULL, "", "Show the keys and commands"},
    {"sort", TA_NONE, sort_command, "COLUMN", "Sort the devices by a column"},
    {"filter", TA_NONE, filter_command, "TEXT|state=WORD|has=KIND", "Filter the devices"},
    {"theme", TA_NONE, set_theme, "NAME",
        "Switch theme (default, light, mono, high-contrast or a file)"},
    {"scan", TA_NONE, scan_start, "CIDR|RANGE|ADDRESS|mdns",
        "Scan (or browse mDNS) for devices to add or ignore"},
    {"events", TA_EVENTS, NULL, "", "Show the event log"},
    {"bind", TA_NONE, bind_command, "VIEW KEY ACTION", "Bind a key for this session"},
    {"export", TA_EXPORT, NULL, "", "Export the fleet to a file (asks format, path, secrets)"},
    {"import", TA_NONE, exchange_import_start, "[FILE]",
        "Import a json or toml export (dry run first)"},
    {"opnsense", TA_OPNSENSE, NULL, "", "Show the OPNsense sync plan"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void
tui_command_lines(struct textlines *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		textlines_add(out, xasprintf("  :%-9s %-24s %s", commands[i].name, commands[i].args,
		                       commands[i].help));
}

static void
sort_command(struct tui *t, const char *arg)
{
	if (vdevices_sort(t->devices, arg) != 0)
		tui_message(t, 1, "unknown column '%s' (one of: %s)", arg, vdevices_columns());
}

static void
filter_command(struct tui *t, const char *arg)
{
	vdevices_filter(t->devices, arg);
}

static void
bind_command(struct tui *t, const char *arg)
{
	char view[32], key[32], act[64], *cause = NULL;

	if (sscanf(arg, "%31s %31s %63s", view, key, act) != 3)
		tui_message(t, 1, "usage: bind VIEW KEY ACTION");
	else if (keymap_bind(t->km, view, key, act, &cause) != 0) {
		tui_message(t, 1, "%s", cause);
		free(cause);
	} else
		tui_message(t, 0, "bound %s in %s to %s", key, view, act);
}

static void
set_theme(struct tui *t, const char *name)
{
	char *cause = NULL;
	const struct conf_color *c;
	size_t n;

	if (theme_load(t->theme, name, &cause) != 0) {
		tui_message(t, 1, "%s", cause);
		free(cause);
		return;
	}
	/* The configuration's color lines stay in force over any theme. */
	c = conf_colors(t->app->cfg, &n);
	if (theme_apply(t->theme, c, n, &cause) != 0) {
		tui_message(t, 1, "%s", cause);
		free(cause);
	}
	if (!t->virtual_term)
		theme_start(t->theme);
	t->clear_all = 1;
	tui_message(t, 0, "theme %s", theme_name(t->theme));
}

/* The theme after the current one in THEME_NAMES (a theme file goes back to the first). */
static void
next_theme(struct tui *t)
{
	char names[] = THEME_NAMES, *save = NULL, *w;
	const char *next = "default";
	int found = 0;

	for (w = strtok_r(names, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		if (found) {
			next = w;
			break;
		}
		found = strcmp(w, theme_name(t->theme)) == 0;
	}
	set_theme(t, next);
}

void
tui_command(struct tui *t, const char *line)
{
	char cmd[32] = "", *arg;
	const char *p = line;
	size_t n = 0, matches = 0, which = 0;

	while (*p == ' ' || *p == ':')
		p++;
	while (*p != '\0' && *p != ' ' && n < sizeof cmd - 1)
		cmd[n++] = *p++;
	cmd[n] = '\0';
	while (*p == ' ')
		p++;
	arg = xstrdup(p);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (n > 0 && strncmp(commands[i].name, cmd, n) == 0) {
			matches++;
			which = i;
			if (strlen(commands[i].name) == n) {
				matches = 1;
				break;
			}
		}
	if (n == 0) {
		free(arg);
		return;
	}
	if (strcmp(cmd, "q") == 0) {
		matches = 1;
		which = 0;
	}
	if (matches != 1) {
		tui_message(t, 1, matches ? "ambiguous command: %s" : "unknown command: %s", cmd);
		free(arg);
		return;
	}
	if (commands[which].run != NULL)
		commands[which].run(t, arg);
	else
		global_action(t, commands[which].action);
	free(arg);
	tui_dirty(t);
}

/* Tab in the command line: completes the command name, then a column or theme name. */
static void
complete_command(struct tui *t)
{
	const char *words = NULL, *sp = strchr(t->input, ' ');
	char prefix[64], found[64] = "";
	size_t plen, nfound = 0;
	char list[512];

	if (sp == NULL) {
		list[0] = '\0';
		for (size_t i = 0; i < NCOMMANDS; i++) {
			strncat(list, commands[i].name, sizeof list - strlen(list) - 2);
			strcat(list, " ");
		}
		words = list;
		str_copy(prefix, sizeof prefix, t->input);
	} else {
		if (strncmp(t->input, "sort", 4) == 0)
			words = vdevices_columns();
		else if (strncmp(t->input, "theme", 5) == 0)
			words = THEME_NAMES;
		else if (strncmp(t->input, "filter", 6) == 0)
			words = "state=online state=offline state=asleep state=auth_required "
			        "state=auth_failed state=error has=cover has=light has=switch "
			        "has=output has=update";
		if (words == NULL)
			return;
		str_copy(prefix, sizeof prefix, sp + 1);
	}
	plen = strlen(prefix);
	for (const char *w = words; *w != '\0';) {
		const char *e = strchr(w, ' ');
		size_t l = e != NULL ? (size_t)(e - w) : strlen(w);
		if (l >= plen && strncmp(w, prefix, plen) == 0 && l < sizeof found) {
			if (nfound++ == 0)
				snprintf(found, sizeof found, "%.*s", (int)l, w);
			else {
				size_t k = 0;
				while (found[k] != '\0' && k < l && found[k] == w[k])
					k++;
				found[k] = '\0';
			}
		}
		w += l;
		while (*w == ' ')
			w++;
	}
	if (nfound == 0)
		return;
	if (sp == NULL)
		snprintf(t->input, sizeof t->input, "%s%s", found, nfound == 1 ? " " : "");
	else
		snprintf(t->input + (sp - t->input) + 1,
		    sizeof t->input - (size_t)(sp - t->input) - 1, "%s", found);
	t->ilen = strlen(t->input);
	if (nfound > 1)
		tui_message(t, 0, "%zu matches", nfound);
}

static void
command_done_cb(struct tui *t, const char *text, void *arg)
{
	(void)arg;
	if (text != NULL)
		tui_command(t, text);
}

/* ---- discovery ---- */

static void
scan_start(struct tui *t, const char *target)
{
	struct source_job *job;
	char title[128];

	if (target == NULL || target[0] == '\0') {
		tui_message(
		    t, 1, "scan what? give a CIDR, range or address, e.g. :scan 10.0.0.0/24");
		return;
	}
	job = source_scan(t->src, target, NULL, NULL);
	snprintf(title, sizeof title, "Discovery: %s", target); /* the body says scanning or done */
	tui_show_job(t, title, job);
}

static void
scan_prompt_cb(struct tui *t, const char *text, void *arg)
{
	(void)arg;
	if (text != NULL && text[0] != '\0')
		scan_start(t, text);
}

/* ---- the password prompt of the credential resolver ---- */

static void
password_done_cb(struct tui *t, const char *text, void *arg)
{
	(void)t;
	source_prompt_answer(arg, text);
}

static void
password_cb(struct creds_prompt *q, const char *user, const char *why, void *arg)
{
	struct tui *t = arg;
	char label[160];

	/* (why names the user already: "password for admin") */
	if (why != NULL && why[0] != '\0')
		snprintf(label, sizeof label, "%s (Esc: none): ", why);
	else
		snprintf(label, sizeof label,
		    "password for %s (Esc: none): ", user != NULL ? user : "admin");
	tui_prompt(t, label, "", password_done_cb, NULL, q);
	t->masked = 1;
}

/* ---- keys ---- */

static void
help_open(struct tui *t)
{
	if (t->top->ops->kind != TV_KIND_HELP)
		tui_push(t, vhelp_new(t));
}

static void
command_open(struct tui *t)
{
	tui_prompt(t, ":", "", command_done_cb, NULL, NULL);
}

/* The host's own networks are suggested; nothing is scanned before Enter. */
static void
scan_open(struct tui *t)
{
	char nets[128], label[128];
	/* a closed discovery view's scan still runs: where to find it */
	const char *busy = source_scans_running(t->src) > 0 ? "a scan still runs, L shows it; " : "";

	if (source_local_nets(t->src, nets, sizeof nets) > 0)
		snprintf(label, sizeof label, "Scan (%smdns, or this host: %.50s): ", busy, nets);
	else
		snprintf(label, sizeof label, "Scan (%smdns, CIDR, range or address): ", busy);
	tui_prompt(t, label, "", scan_prompt_cb, NULL, NULL);
}

static void
redraw_all(struct tui *t)
{
	t->clear_all = 1;
}

static void
import_open(struct tui *t)
{
	exchange_import_start(t, NULL);
}

static void
quit_yes_cb(struct tui *t, void *arg)
{
	(void)arg;
	t->quit = 1;
}

/* Quits, after asking while sent actions, configuration writes or scans still run (quitting
 * cancels them). */
static int
quit(struct tui *t)
{
	size_t n = source_jobs_pending(t->src), w = view_writing(t->top);
	size_t scans = source_scans_running(t->src);
	char q[128];

	if (n == 0 && w == 0 && scans == 0) {
		t->quit = 1;
		return R_QUIT;
	}
	if (n == 0 && w == 0) { /* a scan's findings would be lost, nothing else */
		tui_ask(t,
		    scans == 1 ? "a scan is still running: quit and cancel it?"
		               : "scans are still running: quit and cancel them?",
		    "not quit: the scan runs on", quit_yes_cb, NULL);
		return R_DIRTY;
	}
	if (w == 0)
		snprintf(q, sizeof q, "%zu action%s still running: quit and cancel %s?", n,
		    n == 1 ? "" : "s", n == 1 ? "it" : "them");
	else
		snprintf(q, sizeof q, "configuration still being written to %zu device%s%s: quit "
		    "and stop?", w, w == 1 ? "" : "s", n > 0 ? ", and actions running" : "");
	tui_ask(t, q, w == 0 ? "not quit: the actions run on" : "not quit: the work runs on",
	    quit_yes_cb, NULL);
	return R_DIRTY;
}

/* Shows the newest job a closed view let go of. */
static void
last_results(struct tui *t)
{
	char title[160];
	struct source_job *job = jobshelf_take(t->shelf, title, sizeof title);

	if (job == NULL)
		tui_message(t, 0, "no closed action to show");
	else
		tui_show_job(t, title, job);
}

/* The actions of every view: open a view over the current one, or run. */
static const struct {
	enum tui_action action;
	struct view *(*open)(struct tui *t);
	void (*run)(struct tui *t);
} globals[] = {
    {TA_EVENTS, vevents_new, NULL},
    {TA_GROUPS, vgroups_new, NULL},
    {TA_PROVISIONING, vprovision_new, NULL},
    {TA_OPNSENSE, vopnsense_new, NULL},
    {TA_BACK, NULL, pop},
    {TA_HELP, NULL, help_open},
    {TA_THEME, NULL, next_theme},
    {TA_COMMAND, NULL, command_open},
    {TA_DISCOVER, NULL, scan_open},
    {TA_REDRAW, NULL, redraw_all},
    {TA_EXPORT, NULL, exchange_export_start},
    {TA_IMPORT, NULL, import_open},
    {TA_LAST_RESULTS, NULL, last_results},
};

static int
global_action(struct tui *t, enum tui_action a)
{
	if (a == TA_QUIT || a == TA_LEAVE)
		return quit(t);
	for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++)
		if (globals[i].action == a) {
			if (globals[i].open != NULL)
				tui_push(t, globals[i].open(t));
			else
				globals[i].run(t);
			return R_DIRTY;
		}
	return R_NONE;
}

static void
handle_key(struct tui *t, int key, int is_char)
{
	enum tui_action a;
	int r;

	if (!is_char && key == KEY_RESIZE)
		return;
	if (t->prompting) {
		prompt_key(t, key, is_char);
		return;
	}
	if (is_char && key >= KEY_MIN)
		return; /* a character that is not a key binding (only typed into prompts) */
	a = keymap_lookup(t->km, t->top->ops->kind, key);
	if (a == TA_NONE)
		return;
	if (t->status[0] != '\0' && !t->status_error)
		t->status[0] = '\0';
	if (t->top->ops->list != VL_NONE && view_move(t->top, a))
		r = R_DIRTY;
	else if (t->top->ops->action != NULL)
		r = t->top->ops->action(t->top, t, a);
	else
		r = R_UNHANDLED;
	if (r & R_UNHANDLED)
		r = global_action(t, a);
	if (r & R_POP)
		pop(t);
	if (r & R_QUIT)
		t->quit = 1;
	tui_dirty(t);
}

static void
input_cb(int fd, int events, void *arg)
{
	struct tui *t = arg;
	wint_t wc;
	int r;

	(void)fd;
	(void)events;
	while (!t->quit && (r = wget_wch(stdscr, &wc)) != ERR)
		handle_key(t, (int)wc, r == OK);
	if (t->quit)
		loop_stop(t->app->loop);
}

static void
resize(struct tui *t)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	t->rows = LINES;
	t->cols = COLS;
	t->clear_all = 1;
	changed_cb(t);
}

static void
signal_cb(int sig, void *arg)
{
	struct tui *t = arg;

	if (sig == SIGWINCH) {
		resize(t);
		return;
	}
	log_info("console: signal %d: leaving", sig);
	t->quit = 1;
	loop_stop(t->app->loop);
}

/* ---- setup ---- */

/* The bind and color lines of cfg and --theme into km and th. Returns 0 or -1. */
static int
look_load(struct keymap *km, struct theme *th, const struct app *app, const struct conf *cfg,
    char **cause)
{
	const struct conf_bind *b;
	const struct conf_color *c;
	size_t n;
	const char *theme = app->args.val[CLI_THEME];

	b = conf_binds(cfg, &n);
	for (size_t i = 0; i < n; i++) {
		char *why = NULL;
		if (keymap_bind(km, b[i].view, b[i].key, b[i].action, &why) != 0) {
			*cause = xasprintf("%s: %s", b[i].where, why);
			free(why);
			return -1;
		}
	}
	if (theme != NULL && theme_load(th, theme, cause) != 0)
		return -1;
	c = conf_colors(cfg, &n);
	return theme_apply(th, c, n, cause);
}

int
tui_config_check(const struct app *app, const struct conf *cfg, char **cause)
{
	struct keymap *km = keymap_new();
	struct theme *th = theme_new();
	int rc = look_load(km, th, app, cfg, cause);

	keymap_free(km);
	theme_free(th);
	return rc;
}

static int
setup(struct tui *t, struct app *app, int flags, char **cause)
{
	t->app = app;
	t->km = keymap_new();
	t->theme = theme_new();
	if (look_load(t->km, t->theme, app, app->cfg, cause) != 0)
		return -1;
	t->src = source_new(app, flags, changed_cb, t, cause);
	if (t->src == NULL)
		return -1;
	source_set_prompt(t->src, password_cb, t);
	t->shelf = jobshelf_new(t);
	t->frame = loop_timer_new(app->loop, frame_cb, t);
	snprintf(t->status, sizeof t->status, "? help   / filter   : command   q quit");
	t->devices = vdevices_new(t); /* may leave a configuration error in the status line */
	t->top = t->devices;
	return 0;
}

void
tui_free(struct tui *t)
{
	if (t == NULL)
		return;
	if (t->prompting) /* its owner (a password request, a view) hears "cancelled" */
		prompt_end(t, NULL);
	while (t->top != NULL) {
		struct view *v = t->top;
		t->top = v->below;
		view_free(v);
	}
	jobshelf_free(t->shelf);
	source_free(t->src);
	loop_watch_free(t->in_watch);
	loop_timer_free(t->frame);
	loop_timer_free(t->tick);
	keymap_free(t->km);
	theme_free(t->theme);
	if (t->virtual_term && active_screen != NULL) {
		SCREEN *s = active_screen;
		endwin();
		delscreen(s);
		active_screen = NULL;
	}
	if (t->vout_owned && t->vout != NULL)
		fclose(t->vout);
	if (t->vin != NULL)
		fclose(t->vin);
	free(t);
}

static void
locale_setup(struct tui *t)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	t->utf8 = cs != NULL && (str_caseeq(cs, "UTF-8") || str_caseeq(cs, "utf8"));
}

/* Log lines would tear the screen: they go to a file beside the database while it runs. */
static int
log_to_file(struct app *app)
{
	char *path;
	int fd;

	if (app->db_path == NULL)
		return -1;
	path = xasprintf("%s.console.log", app->db_path);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	if (fd >= 0)
		log_set_fd(fd);
	return fd;
}

int
tui_run(struct app *app)
{
	struct tui *t;
	char *cause = NULL;
	int logfd, rc = EXIT_OK;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr,
		    "shelly-tui: the console needs a terminal (give a mode for scripts; "
		    "try --help)\n");
		return EXIT_USAGE;
	}
	if (app_open_store(app) != 0)
		return EXIT_FAIL;
	t = xcalloc(1, sizeof *t);
	locale_setup(t);
	logfd = log_to_file(app);
	if (setup(t, app, 0, &cause) != 0) {
		log_set_fd(-1);
		fprintf(stderr, "shelly-tui: ");
		fputs(cause, stderr);
		fputc('\n', stderr);
		free(cause);
		tui_free(t);
		if (logfd >= 0)
			close(logfd);
		return EXIT_FAIL;
	}
	if (getenv("ESCDELAY") == NULL)
		set_escdelay(25);
	termguard_save_modes(STDIN_FILENO);
	active_screen = newterm(NULL, stdout, stdin);
	if (active_screen == NULL) {
		log_set_fd(-1);
		fprintf(stderr, "shelly-tui: cannot use this terminal (TERM=%s)\n",
		    getenv("TERM") ? getenv("TERM") : "");
		tui_free(t);
		return EXIT_FAIL;
	}
	atexit(restore_terminal);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	meta(stdscr, TRUE);
	termguard_arm(STDOUT_FILENO); /* a crash from here on leaves a usable terminal */
	theme_start(t->theme);
	t->rows = LINES;
	t->cols = COLS;
	t->in_watch = loop_watch_new(app->loop, STDIN_FILENO, LOOP_READ, input_cb, t);
	t->tick = loop_timer_new(app->loop, tick_cb, t);
	loop_timer_arm(t->tick, 1000);
	loop_signal(app->loop, SIGWINCH, signal_cb, t);
	loop_signal(app->loop, SIGTERM, signal_cb, t);
	loop_signal(app->loop, SIGINT, signal_cb, t);
	loop_signal(app->loop, SIGHUP, signal_cb, t);
	changed_cb(t);
	while (!t->quit)
		if (loop_run(app->loop) != 0) {
			rc = EXIT_FAIL;
			break;
		}
	tui_free(t);
	restore_terminal();
	log_set_fd(-1);
	if (logfd >= 0)
		close(logfd);
	return rc;
}

/* ---- the deterministic layer ---- */

struct tui *
tui_new_virtual(struct app *app, int rows, int cols, FILE *to, char **cause)
{
	struct tui *t = xcalloc(1, sizeof *t);

	locale_setup(t);
	t->virtual_term = 1;
	if (setup(t, app, SOURCE_NO_POLLER, cause) != 0) {
		tui_free(t);
		return NULL;
	}
	t->vout = to != NULL ? to : fopen("/dev/null", "w");
	t->vout_owned = to == NULL;
	t->vin = fopen("/dev/null", "r");
	active_screen = newterm("xterm", t->vout, t->vin);
	if (active_screen == NULL) {
		*cause = xstrdup("no terminal description for xterm");
		tui_free(t);
		return NULL;
	}
	resizeterm(rows, cols);
	t->rows = rows;
	t->cols = cols;
	changed_cb(t);
	draw_frame_now(t);
	return t;
}

void
tui_feed(struct tui *t, const char *keys)
{
	char *copy = xstrdup(keys), *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w != NULL && !t->quit;
	     w = strtok_r(NULL, " ", &save)) {
		int k = keymap_parse_key(w);
		if (k >= 0)
			handle_key(t, k, k < KEY_MIN);
		else {
			wchar_t wc;
			mbstate_t ps;
			size_t len = strlen(w), r;
			memset(&ps, 0, sizeof ps);
			while (len > 0 && (r = mbrtowc(&wc, w, len, &ps)) > 0 && r <= len) {
				handle_key(t, (int)wc, 1);
				w += r;
				len -= r;
			}
		}
	}
	free(copy);
	draw_frame_now(t);
}

void
tui_resize_virtual(struct tui *t, int rows, int cols)
{
	resizeterm(rows, cols);
	t->rows = rows;
	t->cols = cols;
	changed_cb(t);
	draw_frame_now(t);
}

void
tui_refresh(struct tui *t)
{
	source_refresh(t->src);
	draw_frame_now(t);
}

char *
tui_dump(struct tui *t)
{
	struct strbuf sb;
	wchar_t line[1024];
	char mb[4096];

	strbuf_init(&sb);
	for (int y = 0; y < t->rows; y++) {
		size_t len;
		if (mvwinnwstr(stdscr, y, 0, line, t->cols < 1023 ? t->cols : 1023) == ERR)
			line[0] = L'\0';
		len = wcstombs(mb, line, sizeof mb - 1);
		if (len == (size_t)-1)
			len = 0;
		mb[len] = '\0';
		while (len > 0 && mb[len - 1] == ' ')
			mb[--len] = '\0';
		strbuf_append(&sb, mb);
		strbuf_append_char(&sb, '\n');
	}
	return strbuf_steal(&sb);
}

int
tui_quit_requested(const struct tui *t)
{
	return t->quit;
}
