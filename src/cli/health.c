/*
 * --health-check ADDR:PORT: asks this host's own poller for /healthz and exits 0 on 200, 1
 * otherwise. It lets a container image check its poller without curl or a shell (exec-form
 * HEALTHCHECK). Only loopback addresses are accepted, so it never reaches another machine and
 * needs none of SHELLY_TUI_ALLOW_NETS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "cli/health.h"
#include "net/http.h"
#include "util/guard.h"
#include "util/hostport.h"
#include "util/str.h"

#define HEALTH_DEFAULT_PORT 9464
#define HEALTH_TIMEOUT_MS 5000

struct health {
	int done;
	enum http_result result;
	long status;
	char *cause;
};

static void
health_done_cb(const struct http_response *resp, void *arg)
{
	struct health *h = arg;

	h->result = resp->result;
	h->status = resp->status;
	free(h->cause);
	h->cause = str_sanitize(resp->result == HTTP_OK ? "" : resp->cause, 0);
	h->done = 1;
}

int
cli_health_check(struct app *app)
{
	struct http_request req = {0};
	struct health h = {0};
	struct guard *loopback = NULL;
	struct http *http;
	char *host = NULL, *cause = NULL;
	unsigned port = 0;
	int rc = EXIT_USAGE;

	if (hostport_parse(app->args.mode_arg, HEALTH_DEFAULT_PORT, 0, &host, &port, &cause) != 0 ||
	    guard_parse("127.0.0.0/8,::1/128", &loopback, &cause) != 0) {
		fprintf(stderr, "shelly-tui: --health-check: %s\n", cause ? cause : "bad address");
		goto out;
	}
	if (!guard_allows(loopback, host)) {
		fprintf(stderr,
		    "shelly-tui: --health-check: not a loopback address (127.0.0.0/8, ::1)\n");
		goto out;
	}
	http = http_new(app->loop);
	req.host = host;
	req.port = (uint16_t)port;
	req.path = "/healthz";
	req.connect_timeout_ms =
	    app->args.set[CLI_TIMEOUT] ? (uint32_t)(app->args.timeout_s * 1000) : HEALTH_TIMEOUT_MS;
	req.timeout_ms = req.connect_timeout_ms;
	req.max_body = 4096;
	http_send(http, &req, health_done_cb, &h);
	if (app_run_until(app, &h.done) != 0 || !h.done)
		h.cause = str_sanitize("event loop failed", 0);
	http_free(http);
	if (h.done && h.result == HTTP_OK && h.status == 200) {
		rc = EXIT_OK;
	} else {
		int v6 = strchr(host, ':') != NULL; /* an IPv6 address goes in brackets in a URL */

		fprintf(stderr,
		    "shelly-tui: --health-check: http://%s%s%s:%u/healthz: %s%s%s (status %ld)\n",
		    v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)req.port, http_result_name(h.result),
		    h.cause && h.cause[0] ? ": " : "", h.cause ? h.cause : "", h.status);
		rc = EXIT_FAIL;
	}
out:
	free(h.cause);
	free(cause);
	free(host);
	guard_free(loopback);
	return rc;
}
