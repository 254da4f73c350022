/*
 * --probe HOST[:PORT]: identify one device, read its status and settings, print them; and the
 * run of a registry read that --probe and --add share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "cli/probe.h"
#include "cli/print.h"
#include "conf/conf.h"
#include "engine/registry.h"
#include "util/xmalloc.h"

static void
probe_done_cb(const struct registry_result *r, void *arg)
{
	struct device_run *pr = arg;
	struct app *app = pr->app;

	pr->done = 1;
	pr->rc = EXIT_FAIL;
	if (r->result == HTTP_REFUSED_BY_GUARD) {
		/* Nothing was sent: the refusal is the whole answer. */
		print_cause("", r->cause);
		return;
	}
	print_probe(stdout, app->args.set[CLI_JSON] > 0, r->ident, r->host, r->port, r->https,
	    r->state, r->rc == 0 ? NULL : r->cause, r->status);
	pr->rc = r->rc == 0 ? EXIT_OK : EXIT_FAIL;
	if (r->rc != 0 && !app->args.set[CLI_JSON]) {
		fprintf(stderr, "shelly-tui: %s: ", app->args.mode_arg);
		print_safe(stderr, r->cause[0] ? r->cause : "no status");
		fputc('\n', stderr);
	}
}

/*
 * Parses the HOST[:PORT] of --probe/--add into req (host malloc'd into *host). Returns 0, or
 * EXIT_USAGE (message printed).
 */
int
cli_device_req(struct app *app, const char *what, struct registry_req *req, char **host)
{
	char *cause = NULL;
	unsigned port = 0;

	memset(req, 0, sizeof *req);
	if (conf_parse_device_address(app->args.mode_arg, 0, host, &port, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s: ", what);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		return EXIT_USAGE;
	}
	req->host = *host;
	req->port = (uint16_t)port;
	req->https = app->args.set[CLI_HTTPS] > 0;
	req->accept_cert = app->args.set[CLI_ACCEPT_CERT] > 0;
	req->who = "cli";
	return EXIT_OK;
}

int
cli_device_run(struct app *app, const char *what, int add, registry_done_cb done_cb)
{
	struct device_run dr = { app, 0, EXIT_FAIL };
	struct registry_req req;
	struct registry_op *op;
	char *host = NULL, *ref = NULL, *abs;
	int rc;

	if ((rc = cli_device_req(app, what, &req, &host)) != EXIT_OK)
		return rc;
	/*
	 * --add writes the registry. --probe stores nothing, but a registered device is still
	 * checked (its pinned key, its generation): the database is read when it exists.
	 */
	if ((add ? app_open_store(app) : app_open_store_if_any(app)) != 0)
		goto out;
	/* A password given as a file is stored as a reference to it, not copied. */
	if (add && app->args.set[CLI_PASSWORD_FILE]) {
		if ((abs = realpath(app->args.val[CLI_PASSWORD_FILE], NULL)) == NULL) {
			fprintf(stderr, "shelly-tui: %s: cannot resolve\n",
			    app->args.val[CLI_PASSWORD_FILE]);
			goto out;
		}
		req.cred_ref = ref = xasprintf("file:%s", abs);
		free(abs);
	}
	req.name = add && app->args.set[CLI_NAME] ? app->args.val[CLI_NAME] : NULL;
	op = (add ? registry_add : registry_probe)(app_engine(app), &req, done_cb, &dr);
	if (!dr.done && app_run_until(app, &dr.done) != 0)
		dr.rc = EXIT_FAIL;
	registry_op_free(op);
out:
	free(ref);
	free(host);
	return dr.rc;
}

int
cli_probe(struct app *app)
{
	return cli_device_run(app, "--probe", 0, probe_done_cb);
}
