#ifndef ENGINE_DEVTARGET_H
#define ENGINE_DEVTARGET_H

/*
 * One TARGET made ready for requests: a registered device (MAC, id or name) or HOST[:PORT] is
 * resolved, identified (GET /shelly, no credentials), checked against its registration
 * (registry_identified: MAC, generation, scheme, pinned key) and given the credentials the resolver
 * (engine/creds.h) finds for the MAC it showed. The result is a shelly_target that services
 * (engine/cfgapply) take as it is. Asynchronous: cb runs once from the loop.
 */
#include <stdint.h>

#include "engine/creds.h"
#include "model/device.h"
#include "net/http.h"
#include "shelly/client.h"

struct engine;
struct store_device;

struct devtarget {
	struct engine *eng;
	char *arg; /* the TARGET as given */
	struct store_device *reg; /* the registered device, or NULL */
	char *host;
	struct shelly_target t; /* ready when done and result == HTTP_OK */
	struct device_ident ident; /* valid when have_ident */
	int have_ident;
	struct creds_found cred; /* wiped by devtarget_done */
	int accept_cert; /* set before devtarget_start: take a changed HTTPS key */
	char *pin; /* the key required of an HTTPS device, or NULL */
	char *seen_pin; /* https: the key the device showed (required from then on) */
	uint64_t req;
	int waiting_creds;
	int done;
	enum http_result result;
	char *error; /* sanitised; NULL when ok */
	void (*cb)(struct devtarget *dt, void *arg);
	void *cb_arg;
};

/*
 * Resolves arg (https: how a bare HOST[:PORT] is reached). Returns 0, or -1 with *cause for a
 * usage error (neither registered nor HOST[:PORT], or an ambiguous name); dt needs
 * devtarget_done either way.
 */
int devtarget_init(
    struct devtarget *dt, struct engine *eng, const char *arg, int https, char **cause);
/* Identifies and picks credentials; cb(dt, arg) runs once from the loop (or from here). */
void devtarget_start(struct devtarget *dt, void (*cb)(struct devtarget *, void *), void *arg);
/*
 * Whether a and b (both initialised) name the same device before anything is sent: the same
 * registered MAC, or the same host, port and scheme (a bare HOST[:PORT] also matches the
 * registered device at that address).
 */
int devtarget_same(const struct devtarget *a, const struct devtarget *b);
/* The MAC dt is known by: the registered one, else the one it showed; NULL when none. */
const char *devtarget_mac(const struct devtarget *dt);
/* Cancels what is in flight (no callback) and frees; the password is wiped. */
void devtarget_done(struct devtarget *dt);

#endif
