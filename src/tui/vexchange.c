/*
 * Export and import from the console, as prompt chains on the status line (no view of their
 * own). Export: the format (one key), the file (a default in the current directory), and for
 * json and toml whether device passwords go in, which takes a second, explicit confirmation;
 * an existing file is replaced only when confirmed. Import: the file, merge or replace, then
 * the dry run's counts (what would change) before anything is written, and the apply only
 * when confirmed. Both go through exchange/ the way --export and --import do; files are local,
 * nothing waits on the network. Errors (file, line, field) go to the status line.
 *
 * What --export and --import warn about is said here too. A hosts or DHCP export that leaves
 * devices out says so on the status line and lists why in a view of its own (q closes). An
 * import whose file names password files (credentials "file:PATH") holds them back, as --import
 * does, unless the operator takes them: a choice before the dry run (h holds them back, t takes
 * them after a second, explicit yes), whose counts are then those of what applying writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/app.h"
#include "exchange/export.h"
#include "exchange/import.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* The format keys of the first question, in EXPORT_FORMATS order. */
static const char format_keys[EXPORT__COUNT + 1] = "jtchidk";

/* What a chain of prompts collected; freed where the chain ends (every prompt's done runs
 * once, also when the console closes). */
struct xchg {
	const char *what; /* "exported" or "imported": said when the chain is cancelled */
	/* The step that asked: it gets the answer. */
	void (*step)(struct tui *t, const char *text, struct xchg *x);
	enum export_format format;
	int secrets;
	int replace;
	char path[256];
	struct import_doc *doc;
	struct import_result dry; /* the last dry run */
	int trusted; /* the operator took the file's password files */
};

static void
xchg_end(struct xchg *x)
{
	import_doc_free(x->doc);
	free(x);
}

/* Every answer of a chain: Esc, no or an empty answer ends it, anything else goes to its step. */
static void
answer_cb(struct tui *t, const char *text, void *arg)
{
	struct xchg *x = arg;

	if (text == NULL || text[0] == '\0') {
		tui_message(t, 0, "nothing %s", x->what);
		xchg_end(x);
	} else
		x->step(t, text, x);
}

/* ---- export ---- */

/* The devices an export left out, one line each with why (q closes). */
struct vxnotes {
	struct view v;
	struct textlines lines;
	char title[200];
};

static enum tui_color
note_line(struct view *v, size_t k, char *buf, size_t size)
{
	textlines_get(&((struct vxnotes *)v)->lines, k, buf, size);
	return TC_NORMAL;
}

static void
notes_draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vxnotes *nv = (struct vxnotes *)v;

	view_panel(t, y, h, w, nv->title);
	view_draw_list(
	    v, t, &(struct view_area){y + 1, 2, h - 2, w - 4}, nv->lines.n, note_line, NULL);
}

static void
notes_free(struct view *v)
{
	textlines_clear(&((struct vxnotes *)v)->lines);
}

/* A text view: it scrolls and closes as help does. */
static const struct view_ops vxnotes_ops = {
    .kind = TV_KIND_HELP,
    .list = VL_SCROLL,
    .draw = notes_draw,
    .free = notes_free,
};

/* Opens the view of notes (lines from export_opts.notes, sanitised again on the way in). */
static void
notes_show(struct tui *t, const struct xchg *x, const char *notes, size_t n)
{
	struct vxnotes *nv = view_new(t, sizeof *nv, &vxnotes_ops);
	char *path = str_sanitize(x->path, 100);

	snprintf(nv->title, sizeof nv->title, "Export to %s: %zu device%s left out (q closes)",
	    path, n, n == 1 ? "" : "s");
	free(path);
	textlines_add_text(&nv->lines, notes);
	tui_push(t, view_open(&nv->v));
}

/* Lines in text. */
static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

/* Renders and writes the file; ends the chain. */
static void
export_write(struct tui *t, struct xchg *x)
{
	struct export_opts o;
	struct strbuf out, notes;
	char *cause = NULL;
	int secret = 0;

	memset(&o, 0, sizeof o);
	o.format = x->format;
	o.include_secrets = x->secrets;
	o.now_ms = (int64_t)time(NULL) * 1000;
	strbuf_init(&out);
	strbuf_init(&notes);
	o.notes = &notes;
	if (export_render(t->app->store, &o, &out, &secret, &cause) != 0 ||
	    export_write_file(x->path, strbuf_str(&out), out.len, secret ? 0600 : 0644, &cause) !=
	        0) {
		tui_message(t, 1, "export: %s", cause);
		free(cause);
	} else {
		size_t n, left = count_lines(strbuf_str(&notes));
		source_devices(t->src, &n);
		if (left > 0) {
			notes_show(t, x, strbuf_str(&notes), left);
			tui_message(t, 1,
			    "exported %zu device%s as %s to %s, but %zu left out of the file "
			    "(listed; q closes)",
			    n, n == 1 ? "" : "s", export_format_name(x->format), x->path, left);
		} else
			tui_message(t, 0, "exported %zu device%s as %s to %s%s", n,
			    n == 1 ? "" : "s", export_format_name(x->format), x->path,
			    secret ? " (with device passwords, mode 0600)" : "");
	}
	if (out.buf != NULL)
		explicit_bzero(out.buf, out.len);
	strbuf_done(&out);
	strbuf_done(&notes);
	xchg_end(x);
}

static void
overwrite_step(struct tui *t, const char *text, struct xchg *x)
{
	(void)text;
	export_write(t, x);
}

/* Writes, asking first when the file exists. */
static void
export_go(struct tui *t, struct xchg *x)
{
	struct stat st;
	char q[160];

	if (stat(x->path, &st) == 0) {
		snprintf(q, sizeof q, "%.100s exists: replace it?", x->path);
		x->step = overwrite_step;
		tui_confirm(t, q, answer_cb, x);
		return;
	}
	export_write(t, x);
}

static void
secrets_sure_step(struct tui *t, const char *text, struct xchg *x)
{
	(void)text;
	x->secrets = 1;
	export_go(t, x);
}

static void
secrets_step(struct tui *t, const char *text, struct xchg *x)
{
	if (text[0] == 'y') {
		x->step = secrets_sure_step;
		tui_confirm(t, "The file will hold device passwords in clear text. Include them?",
		    answer_cb, x);
	} else
		export_go(t, x);
}

static void
path_step(struct tui *t, const char *text, struct xchg *x)
{
	str_copy(x->path, sizeof x->path, text);
	if (export_format_restorable(x->format)) {
		x->step = secrets_step;
		tui_choose(
		    t, "Include device passwords? n no  y yes (asks again) ", "ny", answer_cb, x);
	} else
		export_go(t, x);
}

static void
format_step(struct tui *t, const char *text, struct xchg *x)
{
	static const char *const ext[EXPORT__COUNT] = {
	    "json", "toml", "csv", "hosts", "dhcpd.conf", "dnsmasq.conf", "kea.json"};
	const char *k = strchr(format_keys, text[0]);
	char initial[64];

	if (k == NULL) { /* tui_choose answers only with one of format_keys */
		answer_cb(t, NULL, x);
		return;
	}
	x->format = (enum export_format)(k - format_keys);
	snprintf(initial, sizeof initial, "./shelly-fleet.%s", ext[x->format]);
	x->step = path_step;
	tui_prompt(t, "Export to file: ", initial, answer_cb, NULL, x);
}

void
exchange_export_start(struct tui *t)
{
	struct xchg *x = xcalloc(1, sizeof *x);

	x->what = "exported";
	x->step = format_step;
	tui_choose(t,
	    "Export as: j json  t toml  c csv  h hosts  i dhcp-isc  d dnsmasq  k kea (other key "
	    "cancels) ",
	    format_keys, answer_cb, x);
}

/* ---- import ---- */

static void
apply_step(struct tui *t, const char *text, struct xchg *x)
{
	struct import_result res;
	char *cause = NULL, held[120] = "";

	(void)text;
	if (import_apply(t->app->store, x->doc, x->replace, 0, &res, &cause) != 0) {
		tui_message(t, 1, "import: %s: nothing changed: %s", x->path, cause);
		free(cause);
	} else {
		if (res.held > 0)
			snprintf(held, sizeof held,
			    "; password files (file:PATH) of %zu device%s held back, first %s",
			    res.held, res.held == 1 ? "" : "s", res.held_mac);
		tui_message(t, res.held > 0,
		    "imported %s (%s): %zu devices (%zu added, %zu updated, %zu unchanged, %zu "
		    "removed), %zu settings, %zu secrets%s",
		    x->path, res.format, res.devices, res.added, res.updated, res.unchanged,
		    res.removed, res.settings, res.secrets, held);
		source_registry_changed(t->src);
	}
	xchg_end(x);
}

/* The dry run's counts (what applying writes) and the question whether to apply. */
static void
dry_run_confirm(struct tui *t, struct xchg *x)
{
	const struct import_result *r = &x->dry;
	char q[320], held[64] = ""; /* tui_confirm cuts q to the prompt line */

	if (r->held > 0)
		snprintf(held, sizeof held, "; %zu password file%s held back", r->held,
		    r->held == 1 ? "" : "s");
	else if (x->trusted)
		str_copy(held, sizeof held, "; password files taken");
	snprintf(q, sizeof q,
	    "Dry run (%s): add %zu, update %zu, remove %zu devices (%zu unchanged); %zu settings, "
	    "%zu secrets%s. Apply?",
	    r->format, r->added, r->updated, r->removed, r->unchanged, r->settings, r->secrets,
	    held);
	x->step = apply_step;
	tui_confirm(t, q, answer_cb, x);
}

/* The dry run; 0, or -1 when it failed (said, and the chain ended). */
static int
dry_run(struct tui *t, struct xchg *x)
{
	char *cause = NULL;

	if (import_apply(t->app->store, x->doc, x->replace, 1, &x->dry, &cause) != 0) {
		tui_message(t, 1, "import: %s: %s", x->path, cause);
		free(cause);
		xchg_end(x);
		return -1;
	}
	return 0;
}

/* The second yes: the file's password files are used, the dry run counts again. */
static void
take_sure_step(struct tui *t, const char *text, struct xchg *x)
{
	(void)text;
	import_trust_credentials(x->doc);
	x->trusted = 1;
	if (dry_run(t, x) == 0)
		dry_run_confirm(t, x);
}

static void
held_step(struct tui *t, const char *text, struct xchg *x)
{
	if (text[0] == 't') {
		x->step = take_sure_step;
		tui_confirm(t,
		    "The poller will read those files on this machine and send them to the hosts "
		    "the import file names. Take them?",
		    answer_cb, x);
	} else
		dry_run_confirm(t, x);
}

static void
mode_step(struct tui *t, const char *text, struct xchg *x)
{
	char q[sizeof t->prompt_label];

	x->replace = text[0] == 'r';
	/* The dry run first: what would change, nothing written. */
	if (dry_run(t, x) != 0)
		return;
	if (x->dry.held == 0) {
		dry_run_confirm(t, x);
		return;
	}
	/* As --import: password files named by the file are held back unless taken. */
	snprintf(q, sizeof q,
	    "h hold back  t take (asks again)  other key cancels: %zu device%s (first %s) "
	    "name%s password files (file:PATH) ",
	    x->dry.held, x->dry.held == 1 ? "" : "s", x->dry.held_mac, x->dry.held == 1 ? "s" : "");
	x->step = held_step;
	tui_choose(t, q, "ht", answer_cb, x);
}

static void
import_file_step(struct tui *t, const char *text, struct xchg *x)
{
	char *cause = NULL;

	str_copy(x->path, sizeof x->path, text);
	/* The whole file is parsed and validated before any question about applying it. */
	if (import_read_file(x->path, &x->doc, &cause) != 0) {
		tui_message(t, 1, "import: %s", cause);
		free(cause);
		xchg_end(x);
		return;
	}
	x->step = mode_step;
	tui_choose(t, "Import: m merge into the fleet  r replace the fleet (other key cancels) ",
	    "mr", answer_cb, x);
}

void
exchange_import_start(struct tui *t, const char *path)
{
	struct xchg *x = xcalloc(1, sizeof *x);

	x->what = "imported";
	x->step = import_file_step;
	if (path != NULL && path[0] != '\0')
		import_file_step(t, path, x);
	else
		tui_prompt(t, "Import file (json or toml): ", "", answer_cb, NULL, x);
}
