#ifndef CLI_DEVREAD_H
#define CLI_DEVREAD_H

/*
 * One device read from the command line (--probe, --add): GET /shelly, then -- once the
 * device has shown its MAC -- the password if it wants one, one status request and its
 * settings. The outcome is a typed identity and status plus a state and error.
 */
#include <stdint.h>

#include "cli/app.h"
#include "model/device.h"
#include "shelly/client.h"

struct devread {
	struct app *app;
	struct shelly_target t;
	char *host;
	char *password;			/* a secret: conf_secret_free */
	struct device_ident ident;
	int have_ident;
	struct device_status status;
	int have_status;
	enum device_state state;
	char *error;			/* sanitised by the printer, never holds the secret */
	char *pin;			/* https: the public-key pin the device showed */
	int done;
};

/*
 * Prepares a read of HOST[:PORT] with the command line's TLS, timeout and size settings.
 * Returns 0, EXIT_USAGE for a bad address or EXIT_FAIL when the guard refuses it (message
 * printed, prefixed with what).
 */
int devread_init(struct devread *dr, struct app *app, const char *what, const char *hostport);
/* Runs the read to its end (the loop turns until it is done). */
void devread_run(struct devread *dr);
/* Frees what the read holds (the password is wiped). */
void devread_done(struct devread *dr);

#endif
