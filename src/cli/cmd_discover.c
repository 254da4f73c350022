/*
 * --discover [TARGET ...]: one-shot discovery by mDNS and by scanning the given TARGETs or the
 * configured discover-ranges; stores what it finds and prints a table or the shared JSON list.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"
#include "cli/cmd_discover.h"
#include "conf/conf.h"
#include "engine/creds.h"
#include "engine/discoveropts.h"
#include "cli/print.h"
#include "discovery/discover.h"
#include "model/object.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct run {
	struct app *app;
	struct discover *d;
	int done;
	int show_progress; /* 1: a tty (one line rewritten), 2: -v without a tty (lines) */
	int progress_shown; /* a tty line is on screen */
	uint64_t last_progress_ms;
	struct discover_progress last; /* last progress seen (last.scan points at last_scan) */
	struct scan_progress last_scan;
	char last_line[160];
	int mdns_unavailable;
};

static void
clear_progress(struct run *r)
{
	if (r->progress_shown) {
		fputs("\r\033[K", stderr);
		r->progress_shown = 0;
	}
}

static void
print_progress(struct run *r, int final)
{
	const struct discover_progress *p = &r->last;
	uint64_t now = loop_now_ms(r->app->loop);
	uint64_t every = r->show_progress == 1 ? 100 : 1000;
	char line[160];
	int len;

	if (!r->show_progress ||
	    (!final && r->last_progress_ms != 0 && now - r->last_progress_ms < every))
		return;
	if (p->scan != NULL)
		len = snprintf(line, sizeof line, "scan: %llu/%llu addresses, %zu found",
		    (unsigned long long)p->scan->done, (unsigned long long)p->scan->total,
		    p->found);
	else
		len = snprintf(line, sizeof line, "%zu found", p->found);
	if (p->confirming > 0 && len > 0 && (size_t)len < sizeof line)
		len += snprintf(
		    line + len, sizeof line - (size_t)len, ", %zu being identified", p->confirming);
	if (p->mdns_browsing && len > 0 && (size_t)len < sizeof line)
		snprintf(line + len, sizeof line - (size_t)len, ", mDNS browsing");
	if (r->show_progress == 2 && strcmp(line, r->last_line) == 0)
		return; /* lines mode: nothing new to say */
	r->last_progress_ms = now;
	memcpy(r->last_line, line, sizeof line);
	if (r->show_progress == 1)
		fprintf(stderr, "\r\033[K%s", line);
	else
		fprintf(stderr, "%s\n", line);
	r->progress_shown = r->show_progress == 1;
	if (final)
		clear_progress(r);
	fflush(stderr);
}

static void
progress_cb(const struct discover_progress *p, void *arg)
{
	struct run *r = arg;

	r->last = *p;
	if (p->scan != NULL) {
		r->last_scan = *p->scan;
		r->last.scan = &r->last_scan;
	}
	print_progress(r, 0);
}

/* The mDNS module logs its status as a warning itself ("mDNS unavailable: ..."). */
static void
mdns_status_cb(enum mdns_state state, const char *status, void *arg)
{
	struct run *r = arg;

	(void)status;
	if (state == MDNS_UNAVAILABLE)
		r->mdns_unavailable = 1;
	else if (state == MDNS_BROWSING)
		r->mdns_unavailable = 0;
	if (state == MDNS_UNAVAILABLE)
		clear_progress(r);
}

static void
found_cb(const struct discover_found *f, void *arg)
{
	struct run *r = arg;
	char *id, *model, *host;

	if (!r->app->args.set[CLI_VERBOSE])
		return;
	id = str_sanitize(f->ident.id, 64);
	model = str_sanitize(f->ident.model, 64);
	host = str_sanitize(f->host, 64);
	clear_progress(r);
	fprintf(stderr, "found %s (%s, gen %d, mac %s) at %s%s:%u\n", id[0] ? id : "-", model,
	    f->ident.gen, f->ident.mac, f->https ? "https://" : "", host, (unsigned)f->port);
	free(id);
	free(model);
	free(host);
}

static void
done_cb(void *arg)
{
	struct run *r = arg;

	r->done = 1;
}

static int
has_credentials_cb(const char *mac, const char *id, void *arg)
{
	struct run *r = arg;

	return creds_known(r->app->cfg, NULL, mac, id, NULL);
}

/* SIGINT or SIGTERM: the scan stops and what was found so far is stored (app_on_interrupt). */
static void
interrupt_cb(void *arg)
{
	struct run *r = arg;

	if (r->d != NULL)
		discover_stop(r->d);
}

/* ---- output ---- */

static int
found_cmp(const void *a, const void *b)
{
	const struct discover_found *x = *(const struct discover_found *const *)a;
	const struct discover_found *y = *(const struct discover_found *const *)b;
	struct in_addr ax, ay;
	int kx = inet_pton(AF_INET, x->host, &ax) == 1, ky = inet_pton(AF_INET, y->host, &ay) == 1;
	int c;

	if (kx && ky && ax.s_addr != ay.s_addr)
		return ntohl(ax.s_addr) < ntohl(ay.s_addr) ? -1 : 1;
	if (kx != ky)
		return kx ? -1 : 1;
	if ((c = strcmp(x->host, y->host)) != 0)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->ident.mac, y->ident.mac);
}

/* "h:p" / "https://h:p"; the port is left out when it is the scheme's default. */
static void
format_address(char *out, size_t size, const char *host, uint16_t port, int https)
{
	int dflt = port == (https ? 443 : 80);

	if (dflt)
		snprintf(out, size, "%s%s", https ? "https://" : "", host);
	else
		snprintf(out, size, "%s%s:%u", https ? "https://" : "", host, (unsigned)port);
}

static cJSON *
device_object(const struct discover_found *f, int64_t now_ms)
{
	struct device_view v;
	cJSON *obj;

	device_view_init(&v);
	v.ident = &f->ident;
	v.host = f->host;
	v.port = f->port;
	v.scheme = f->https ? "https" : "http";
	v.name = f->name[0] ? f->name : NULL;
	v.state = f->auth_required ? DEVICE_AUTH_REQUIRED : DEVICE_ONLINE;
	v.error =
	    f->auth_required ? "authentication required: no credentials for this device" : NULL;
	v.last_seen = now_ms / 1000;
	obj = device_to_cjson(&v);
	cJSON_AddStringToObject(obj, "discovered_via", f->via_text);
	cJSON_AddBoolToObject(obj, "new", f->is_new);
	cJSON_AddBoolToObject(obj, "mac_conflict", f->conflict);
	if (f->moved) {
		cJSON_AddStringToObject(obj, "previous_host", f->old_host);
		cJSON_AddNumberToObject(obj, "previous_port", f->old_port);
	} else {
		cJSON_AddNullToObject(obj, "previous_host");
		cJSON_AddNullToObject(obj, "previous_port");
	}
	return obj;
}

static const char *
mdns_word(const struct discover_summary *s)
{
	if (!s->mdns_used)
		return "off";
	return s->mdns_available ? "browsed" : "unavailable";
}

static void
print_json(
    const struct discover_found **v, size_t n, const struct discover_summary *s, int64_t now_ms)
{
	cJSON *root = cJSON_CreateObject(), *devs = cJSON_CreateArray(), *sum;

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(devs, device_object(v[i], now_ms));
	cJSON_AddItemToObject(root, "devices", devs);
	sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "devices", (double)s->devices);
	cJSON_AddNumberToObject(sum, "new", (double)s->new_devices);
	cJSON_AddNumberToObject(sum, "known", (double)s->known);
	cJSON_AddNumberToObject(sum, "ip_changed", (double)s->moved);
	cJSON_AddNumberToObject(sum, "mac_conflicts", (double)s->conflicts);
	cJSON_AddNumberToObject(sum, "auth_required", (double)s->auth_required);
	cJSON_AddNumberToObject(sum, "no_mac", (double)s->no_mac);
	cJSON_AddNumberToObject(sum, "scan_addresses", (double)s->scan.total);
	cJSON_AddNumberToObject(sum, "scan_done", (double)s->scan.done);
	cJSON_AddNumberToObject(sum, "scan_found", (double)s->scan.found);
	cJSON_AddNumberToObject(sum, "scan_no_answer", (double)s->scan.no_answer);
	cJSON_AddNumberToObject(sum, "scan_refused", (double)s->scan.refused);
	cJSON_AddNumberToObject(sum, "scan_other", (double)s->scan.other);
	cJSON_AddStringToObject(sum, "mdns", mdns_word(s));
	cJSON_AddNumberToObject(sum, "mdns_candidates", (double)s->mdns_candidates);
	cJSON_AddNumberToObject(sum, "not_confirmed", (double)s->confirm_failed);
	cJSON_AddNumberToObject(sum, "elapsed_ms", (double)s->elapsed_ms);
	cJSON_AddBoolToObject(sum, "interrupted", s->interrupted);
	print_json_doc(stdout, root);
}

static void
print_table(const struct discover_found **v, size_t n, const struct discover_summary *s)
{
	if (n > 0)
		printf("%-12s %-32s %-20s %-15s G %-27s %-9s %-13s %s\n", "MAC", "ID", "NAME",
		    "MODEL", "ADDRESS", "VIA", "STATE", "CHANGE");
	for (size_t i = 0; i < n; i++) {
		const struct discover_found *f = v[i];
		char addr[DISCOVER_HOST_MAX + 16], old[DISCOVER_HOST_MAX + 16];
		char *id = str_sanitize(f->ident.id, 32), *name = str_sanitize(f->name, 20);
		char *model = str_sanitize(f->ident.model, 15), *host = str_sanitize(f->host, 48);

		format_address(addr, sizeof addr, host, f->port, f->https);
		printf("%-12s %-32s %-20s %-15s %d %-27s %-9s %-13s ", f->ident.mac,
		    id[0] ? id : "-", name[0] ? name : "-", model[0] ? model : "-", f->ident.gen,
		    addr, f->via_text, f->auth_required ? "auth_required" : "online");
		if (f->is_new)
			printf("new\n");
		else if (f->conflict)
			printf("mac_conflict (held)\n");
		else if (f->moved) {
			char *oh = str_sanitize(f->old_host, 48);
			format_address(old, sizeof old, oh, f->old_port, f->https);
			printf("moved from %s\n", old);
			free(oh);
		} else
			printf("known\n");
		free(id);
		free(name);
		free(model);
		free(host);
	}
	printf("%zu device%s found: %zu new, %zu known, %zu moved, %zu need credentials",
	    s->devices, s->devices == 1 ? "" : "s", s->new_devices, s->known, s->moved,
	    s->auth_required);
	if (s->conflicts > 0)
		printf(", %zu MAC conflicts (held, see --add)", s->conflicts);
	printf("\n");
	if (s->scanned)
		printf("scanned %llu of %llu addresses in %.1f s: %llu Shelly, %llu no answer, "
		       "%llu refused, %llu other\n",
		    (unsigned long long)s->scan.done, (unsigned long long)s->scan.total,
		    (double)s->elapsed_ms / 1000.0, (unsigned long long)s->scan.found,
		    (unsigned long long)s->scan.no_answer, (unsigned long long)s->scan.refused,
		    (unsigned long long)s->scan.other);
	if (s->mdns_used)
		printf("mDNS: %s, %zu candidate%s\n", mdns_word(s), s->mdns_candidates,
		    s->mdns_candidates == 1 ? "" : "s");
}

/* ---- the mode ---- */

/* Stores what the run found and prints it. Returns an exit status. */
static int
commit_and_print(struct app *app, struct run *r)
{
	struct discover_summary sum;
	const struct discover_found **v;
	int64_t now = loop_wall_ms();
	char *cause = NULL;
	size_t n;

	if (discover_commit(r->d, app->store, now, &sum, &cause) != 0) {
		fprintf(
		    stderr, "shelly-tui: --discover: cannot store the devices found: %s\n", cause);
		free(cause);
		return EXIT_FAIL;
	}
	n = discover_count(r->d);
	v = xreallocarray(NULL, n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = discover_get(r->d, i);
	qsort(v, n, sizeof *v, found_cmp);
	if (app->args.set[CLI_JSON])
		print_json(v, n, &sum, now);
	else
		print_table(v, n, &sum);
	free(v);
	if (sum.interrupted) {
		fprintf(stderr, "shelly-tui: --discover: interrupted; what was found so far is "
		                "stored\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Collects the scan targets; returns an exit status (EXIT_OK to go on). */
static int
collect_targets(struct app *app, struct scan_targets *t, int use_scan)
{
	char *cause = NULL;

	if (app->args.set[CLI_MDNS_ONLY] && app->args.nrest > 0) {
		fprintf(stderr, "shelly-tui: --discover: --mdns-only takes no TARGET\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < app->args.nrest; i++) {
		if (scan_targets_add(t, app->args.rest[i], &cause) != 0) {
			print_cause("--discover: ", cause);
			free(cause);
			return EXIT_USAGE;
		}
	}
	if (use_scan && app->args.nrest == 0) {
		size_t n;
		const struct conf_range *r = conf_ranges(app->cfg, &n);
		for (size_t i = 0; i < n; i++) {
			if (scan_targets_add_cidr(t, &r[i].target, r[i].text, &cause) != 0) {
				fprintf(stderr, "shelly-tui: %s: %s\n", r[i].where, cause);
				free(cause);
				return EXIT_USAGE;
			}
		}
	}
	return EXIT_OK;
}

int
cli_discover(struct app *app)
{
	struct scan_targets *targets = scan_targets_new();
	struct discover_opts o;
	struct discoveropts over = {.timeout_s = app->args.timeout_s,
	    .port = app->args.port,
	    .force = app->args.set[CLI_FORCE] > 0};
	struct discover_cbs cbs;
	struct run r;
	char *cause = NULL;
	int use_scan = !app->args.set[CLI_MDNS_ONLY];
	int use_mdns =
	    !app->args.set[CLI_SCAN_ONLY] &&
	    (app->args.set[CLI_MDNS_ONLY] || conf_get_bool(app->cfg, OPT_DISCOVER_MDNS));
	int rc;
	const char *why = NULL;

	memset(&r, 0, sizeof r);
	r.app = app;
	if ((rc = collect_targets(app, targets, use_scan)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	discoveropts_fill(app_engine(app), &over, use_mdns, targets, &o, &why);
	if (why != NULL) {
		if (app->args.set[CLI_MDNS_ONLY]) {
			print_cause("--discover --mdns-only: ", why);
			goto out;
		}
		if (!app->args.set[CLI_QUIET])
			fprintf(stderr, "shelly-tui: --discover: %s; scanning only\n", why);
		use_mdns = 0;
	}
	if (scan_targets_len(targets) == 0 && !use_mdns) {
		fprintf(stderr,
		    "shelly-tui: --discover: nothing to discover: no TARGET given, no "
		    "discover-range configured, and mDNS is %s\n",
		    app->args.set[CLI_SCAN_ONLY] ? "not used with --scan-only"
		                                 : "off (discover-mdns)");
		goto out;
	}
	if (scan_targets_check_size(targets, app->args.set[CLI_FORCE] > 0, &cause) != 0) {
		print_cause("--discover: ", cause);
		rc = EXIT_USAGE;
		goto out;
	}
	if (scan_targets_check_guard(targets, app->guard, &cause) != 0) {
		print_cause("--discover: ", cause);
		goto out;
	}
	if (app_open_store(app) != 0)
		goto out;
	o.registry = app->store;

	memset(&cbs, 0, sizeof cbs);
	cbs.progress_cb = progress_cb;
	cbs.mdns_status_cb = mdns_status_cb;
	cbs.found_cb = found_cb;
	cbs.done_cb = done_cb;
	cbs.has_credentials_cb = has_credentials_cb;
	cbs.arg = &r;
	if (!app->args.set[CLI_QUIET])
		r.show_progress = isatty(STDERR_FILENO) ? 1 : (app->args.set[CLI_VERBOSE] ? 2 : 0);

	if ((r.d = discover_new(app->loop, app->http, &o, &cbs, &cause)) == NULL) {
		print_cause("--discover: ", cause);
		goto out;
	}
	app_on_interrupt(app, interrupt_cb, &r);
	discover_start(r.d);
	if (app_run_until(app, &r.done) != 0) {
		fprintf(stderr, "shelly-tui: --discover: the event loop failed\n");
		goto out;
	}
	if (r.show_progress == 2) {
		r.last.found = discover_count(r.d);
		r.last.confirming = 0;
		r.last.mdns_browsing = 0;
		print_progress(&r, 1);
	}
	clear_progress(&r);

	if (use_mdns && r.mdns_unavailable && o.targets == NULL) {
		fprintf(stderr,
		    "shelly-tui: --discover: mDNS is unavailable and there is nothing to "
		    "scan (give TARGETs or configure a discover-range)\n");
		goto out;
	}
	rc = commit_and_print(app, &r);
out:
	free(cause);
	discover_free(r.d);
	scan_targets_free(targets);
	return rc;
}
