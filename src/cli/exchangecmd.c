/*
 * --export and --import: the command-line front end of exchange/. Usage errors exit 2, a
 * failed export or a rejected import file exits 1 and changes nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/app.h"
#include "cli/exchangecmd.h"
#include "cli/print.h"
#include "exchange/export.h"
#include "exchange/import.h"
#include "util/str.h"
#include "util/xmalloc.h"

static int __attribute__((format(printf, 1, 2))) usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shelly-tui: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return EXIT_USAGE;
}

static int
export_args(const struct app *app, struct export_opts *o)
{
	const struct cli_args *a = &app->args;

	memset(o, 0, sizeof *o);
	if (export_format_parse(a->mode_arg, &o->format) != 0) {
		char *clean = str_sanitize(a->mode_arg, 64);
		int rc = usage("--export: unknown format \"%s\" (json, toml, csv, hosts, "
		               "dhcp-isc, dnsmasq, kea)",
		    clean);

		free(clean);
		return rc;
	}
	if (a->set[CLI_INCLUDE_SECRETS] && !export_format_restorable(o->format))
		return usage(
		    "--include-secrets goes with --export json or toml, not %s", a->mode_arg);
	if (a->set[CLI_COLUMNS] && o->format != EXPORT_CSV)
		return usage("--columns goes with --export csv, not %s", a->mode_arg);
	if (a->set[CLI_GROUP]) {
		o->group = a->val[CLI_GROUP][0] == '@' ? a->val[CLI_GROUP] + 1 : a->val[CLI_GROUP];
		if (o->group[0] == '\0')
			return usage("--group needs a group name");
	}
	o->include_secrets = a->set[CLI_INCLUDE_SECRETS] > 0;
	o->columns = a->val[CLI_COLUMNS];
	o->now_ms = (int64_t)time(NULL) * 1000;
	return EXIT_OK;
}

int
cli_export(struct app *app)
{
	struct export_opts o;
	struct strbuf out, notes;
	char *cause = NULL;
	int rc, secret;

	if ((rc = export_args(app, &o)) != EXIT_OK)
		return rc;
	if (app_open_existing_store(app) != 0)
		return EXIT_FAIL;
	if (o.group != NULL && (rc = export_group_exists(app->store, o.group, &cause)) <= 0) {
		char *clean = str_sanitize(o.group, 64);

		if (rc < 0)
			print_cause("--export: ", cause);
		else
			usage("--group: no group \"%s\" (see --group-list)", clean);
		free(clean);
		free(cause);
		return rc < 0 ? EXIT_FAIL : EXIT_USAGE;
	}
	strbuf_init(&out);
	strbuf_init(&notes);
	o.notes = &notes;
	rc = export_render(app->store, &o, &out, &secret, &cause);
	/* what the file leaves out, one warning per device */
	for (const char *l = strbuf_str(&notes), *nl; *l != '\0'; l = nl + 1) {
		nl = strchr(l, '\n');
		fprintf(stderr, "shelly-tui: --export: warning: %.*s\n", (int)(nl - l), l);
	}
	strbuf_done(&notes);
	if (rc != 0) {
		print_cause("--export: ", cause);
		free(cause);
		strbuf_done(&out);
		/* an unknown column is a usage error, found once the format is known */
		return o.format == EXPORT_CSV ? EXIT_USAGE : EXIT_FAIL;
	}
	rc = EXIT_OK;
	if (app->args.set[CLI_OUTPUT]) {
		if (export_write_file(app->args.val[CLI_OUTPUT], strbuf_str(&out), out.len,
		        secret ? 0600 : 0644, &cause) != 0) {
			print_cause("--export: ", cause);
			free(cause);
			rc = EXIT_FAIL;
		}
	} else /* a failed write: main's stdout check says why once and exits 1 (a reader gone: 0) */
		fwrite(strbuf_str(&out), 1, out.len, stdout);
	if (out.buf != NULL)
		explicit_bzero(out.buf, out.len);
	strbuf_done(&out);
	return rc;
}

static void
print_result(const struct app *app, const char *file, const struct import_result *r)
{
	int dry = app->args.set[CLI_DRY_RUN] > 0;
	char *clean;

	if (app->args.set[CLI_JSON]) {
		printf("{\"format\": \"%s\", \"devices\": %zu, \"added\": %zu, \"updated\": %zu, "
		       "\"unchanged\": %zu, \"removed\": %zu, \"settings\": %zu, \"secrets\": %zu, "
		       "\"groups\": %zu, "
		       "\"desired\": %zu, \"snapshots\": %zu, \"templates\": %zu, "
		       "\"credentials_held\": %zu, \"dry_run\": %s}\n",
		    r->format, r->devices, r->added, r->updated, r->unchanged, r->removed,
		    r->settings, r->secrets, r->groups, r->desired, r->snapshots, r->templates,
		    r->held, dry ? "true" : "false");
		return;
	}
	clean = str_sanitize(file, 200);
	printf("%s%s (%s): %zu devices (%zu added, %zu updated, %zu unchanged, %zu removed), "
	       "%zu settings, %zu secrets, %zu groups, %zu desired configs, %zu snapshots, "
	       "%zu templates\n",
	    dry ? "dry run, nothing changed: " : "imported ", clean, r->format, r->devices,
	    r->added, r->updated, r->unchanged, r->removed, r->settings, r->secrets, r->groups,
	    r->desired, r->snapshots, r->templates);
	free(clean);
}

int
cli_import(struct app *app)
{
	const char *file = app->args.mode_arg;
	struct import_doc *doc = NULL;
	struct import_result res;
	char *cause = NULL;

	if (app->args.set[CLI_MERGE] && app->args.set[CLI_REPLACE])
		return usage("--merge and --replace exclude each other");
	if (import_read_file(file, &doc, &cause) != 0) {
		char *clean = str_sanitize(cause, 0);

		fprintf(stderr, "shelly-tui: --import: %s\n", clean);
		free(clean);
		free(cause);
		return EXIT_FAIL;
	}
	if (app_open_store(app) != 0) {
		import_doc_free(doc);
		return EXIT_FAIL;
	}
	if (app->args.set[CLI_IMPORT_CREDENTIALS])
		import_trust_credentials(doc);
	if (import_apply(app->store, doc, app->args.set[CLI_REPLACE] > 0,
	        app->args.set[CLI_DRY_RUN] > 0, &res, &cause) != 0) {
		fprintf(stderr, "shelly-tui: --import: %s: nothing changed: %s\n", file, cause);
		free(cause);
		import_doc_free(doc);
		return EXIT_FAIL;
	}
	print_result(app, file, &res);
	if (res.held > 0)
		fprintf(stderr,
		    "shelly-tui: --import: warning: %zu device(s), first %s, name a password file "
		    "(credentials file:PATH) that was not taken: such a device keeps the "
		    "credentials it had and a new one has none (add them with --add HOST "
		    "--password-file FILE, "
		    "or import with --import-credentials when you trust the file)\n",
		    res.held, res.held_mac);
	import_doc_free(doc);
	return EXIT_OK;
}
