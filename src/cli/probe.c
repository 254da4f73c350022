/* --probe HOST[:PORT]: identify one device, read its status and settings, print them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"
#include "cli/devread.h"
#include "cli/print.h"
#include "store/store.h"

int
cli_probe(struct app *app)
{
	struct devread dr;
	struct store_device *known = NULL;
	int rc;

	if ((rc = devread_init(&dr, app, "--probe", app->args.mode_arg)) != EXIT_OK) {
		devread_done(&dr);
		return rc;
	}
	/*
	 * --probe stores nothing, but a registered HTTPS device's pinned key is still checked
	 * (unless --accept-cert): the database is read when it exists, never created.
	 */
	if (dr.t.https && dr.t.tls == HTTP_TLS_PIN && !app->args.set[CLI_ACCEPT_CERT] &&
	    app_store_exists(app) && app_open_store(app) == 0) {
		known = store_device_find_host(app->store, dr.host, dr.t.port);
		if (known != NULL && known->tls_pin != NULL && known->tls_pin[0])
			dr.t.pin = known->tls_pin;
	}
	devread_run(&dr);
	print_probe(stdout, app->args.set[CLI_JSON] > 0, dr.have_ident ? &dr.ident : NULL,
	    dr.host, dr.t.port, dr.t.https, dr.state, dr.error,
	    dr.have_status ? &dr.status : NULL);
	rc = dr.have_status ? EXIT_OK : EXIT_FAIL;
	if (!dr.have_status && !app->args.set[CLI_JSON]) {
		fprintf(stderr, "shelly-tui: %s: ", app->args.mode_arg);
		print_safe(stderr, dr.error ? dr.error : "no status");
		fputc('\n', stderr);
	}
	store_device_free(known);
	devread_done(&dr);
	return rc;
}
