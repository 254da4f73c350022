/*
 * Export and import from the console, as prompt chains on the status line (no view of their
 * own). Export: the format (one key), the file (a default in the current directory), and for
 * json and toml whether device passwords go in, which takes a second, explicit confirmation;
 * an existing file is replaced only when confirmed. Import: the file, merge or replace, then
 * the dry run's counts (what would change) before anything is written, and the apply only
 * when confirmed. Both go through exchange/ the way --export and --import do; files are local,
 * nothing waits on the network. Errors (file, line, field) go to the status line.
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

/* Renders and writes the file; ends the chain. */
static void
export_write(struct tui *t, struct xchg *x)
{
	struct export_opts o;
	struct strbuf out;
	char *cause = NULL;
	int secret = 0;

	memset(&o, 0, sizeof o);
	o.format = x->format;
	o.include_secrets = x->secrets;
	o.now_ms = (int64_t)time(NULL) * 1000;
	strbuf_init(&out);
	if (export_render(t->app->store, &o, &out, &secret, &cause) != 0 ||
	    export_write_file(x->path, strbuf_str(&out), out.len, secret ? 0600 : 0644, &cause) !=
	        0) {
		tui_message(t, 1, "export: %s", cause);
		free(cause);
	} else {
		size_t n;
		source_devices(t->src, &n);
		tui_message(t, 0, "exported %zu device%s as %s to %s%s", n, n == 1 ? "" : "s",
		    export_format_name(x->format), x->path,
		    secret ? " (with device passwords, mode 0600)" : "");
	}
	if (out.buf != NULL)
		explicit_bzero(out.buf, out.len);
	strbuf_done(&out);
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
	char *cause = NULL;

	(void)text;
	if (import_apply(t->app->store, x->doc, x->replace, 0, &res, &cause) != 0) {
		tui_message(t, 1, "import: %s: nothing changed: %s", x->path, cause);
		free(cause);
	} else {
		tui_message(t, 0,
		    "imported %s (%s): %zu devices (%zu added, %zu updated, %zu unchanged, %zu "
		    "removed), %zu settings, %zu secrets",
		    x->path, res.format, res.devices, res.added, res.updated, res.unchanged,
		    res.removed, res.settings, res.secrets);
		source_registry_changed(t->src);
	}
	xchg_end(x);
}

static void
mode_step(struct tui *t, const char *text, struct xchg *x)
{
	struct import_result res;
	char *cause = NULL, q[200];

	x->replace = text[0] == 'r';
	/* The dry run first: what would change, nothing written. */
	if (import_apply(t->app->store, x->doc, x->replace, 1, &res, &cause) != 0) {
		tui_message(t, 1, "import: %s: %s", x->path, cause);
		free(cause);
		xchg_end(x);
		return;
	}
	snprintf(q, sizeof q,
	    "Dry run (%s): add %zu, update %zu, remove %zu devices (%zu unchanged); %zu settings, "
	    "%zu secrets. Apply?",
	    res.format, res.added, res.updated, res.removed, res.unchanged, res.settings,
	    res.secrets);
	x->step = apply_step;
	tui_confirm(t, q, answer_cb, x);
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
