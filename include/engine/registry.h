#ifndef ENGINE_REGISTRY_H
#define ENGINE_REGISTRY_H

/*
 * The device registry as a service: read a device at an address (identify, then status and
 * settings once it has shown its MAC), add or update it, remove it, rename it. Every call is
 * asynchronous: it returns at once and done runs from the loop (or before the call returns
 * when nothing needs the network) with a result whose cause says what went wrong. Nothing
 * here prints. Audit records name the front end (who: "cli", "console", "api").
 *
 * A registered device is reached the way it is registered: its generation decides the auth
 * style, its scheme and pinned key are required; a reply that claims otherwise is an error,
 * not an update. --add of a device that identified itself but whose status read failed
 * registers it with the failure as its state (result warning set).
 *
 * The store row -> device view conversion lives here too, so every front end shows a
 * registered device the same way.
 */
#include <stdint.h>

#include "model/device.h"
#include "model/object.h"
#include "net/http.h"

struct engine;
struct store_device;
struct store_status;
struct registry_op;

/* Where to read or add a device. */
struct registry_req {
	const char *host; /* address or name; IPv6 without brackets */
	uint16_t port; /* 0: 80 or 443 */
	int https;
	int accept_cert; /* take a new key for a registered HTTPS device */
	/* when the password the registry or configuration has is refused, ask the operator
	 * (creds_ask) and read once more with the answer, which is stored when it works */
	int ask_password;
	/* the registered device (its MAC) this read is for, as the console's P and K re-read
	 * one: a device showing another MAC, generation or scheme at host gets nothing */
	const char *mac;
	const char *name; /* --add: registry name, NULL: the device's own */
	const char *cred_ref; /* --add: "file:PATH" to store instead of the password */
	const char *who; /* for the audit record: "cli", "console", ... */
};

/* What an operation produced; valid during the done callback only (copy what you keep). */
struct registry_result {
	int rc; /* 0 ok, -1 failed (cause) */
	const char *cause; /* "" when ok; sanitised */
	const char *warning; /* "" or why the device was added in a bad state */
	int updated; /* add: the MAC was registered already */
	const struct device_ident *ident; /* NULL when not identified */
	const struct device_status *status; /* NULL when no status was read */
	enum device_state state;
	enum http_result result; /* of the failed request, HTTP_OK otherwise */
	const char *host;
	uint16_t port;
	int https;
	int with_credentials; /* a password was sent and stored */
	const char *pin; /* https: the key pin the device showed, else NULL */
};

typedef void (*registry_done_cb)(const struct registry_result *r, void *arg);

/* Reads a device at an address without storing anything (--probe). Caller frees the op. */
struct registry_op *registry_probe(
    struct engine *eng, const struct registry_req *req, registry_done_cb done, void *arg);
/* Reads a device and adds (or updates) it in the registry. Caller frees the op. */
struct registry_op *registry_add(
    struct engine *eng, const struct registry_req *req, registry_done_cb done, void *arg);
/* Cancels the operation if still running (done is not called) and frees it (NULL is fine). */
void registry_op_free(struct registry_op *op);

/*
 * Removes the device key (MAC, id or name) and its stored secret. done runs before this
 * returns (done may be NULL). Returns 0, or -1 with *cause (caller frees; cause may be NULL).
 */
int registry_remove(struct engine *eng, const char *key, const char *who, registry_done_cb done,
    void *arg, char **cause);
/* Renames the device key (name "" or NULL: back to the device's own). Like registry_remove. */
int registry_rename(struct engine *eng, const char *key, const char *name, const char *who,
    registry_done_cb done, void *arg, char **cause);

/*
 * Finds a registered device by MAC, id, then name (case-insensitive). Returns the row
 * (store_device_free), or NULL with *cause set when none or when a name is ambiguous.
 */
struct store_device *registry_find(struct engine *eng, const char *key, char **cause);

/*
 * A registered device must be what it is registered as before anything with credentials goes
 * to it: its MAC, its generation (Basic or digest) and, registered for HTTPS, HTTPS. Returns
 * NULL when the identified device matches reg, else why not (malloc'd).
 */
char *registry_mismatch(
    const struct store_device *reg, const struct device_ident *ident, int https);

/*
 * Before GET /shelly at t's address (an HTTPS target in pin mode): the key registered for reg,
 * else for the device registered at t's host and port, which the device must show. Returns it
 * (caller frees; t->pin points to it) or NULL when there is none.
 */
struct shelly_target;
char *registry_pin_want(
    struct engine *eng, struct shelly_target *t, const struct store_device *reg);

/*
 * After GET /shelly at t's address answered r: copies its identity into *ident and the key it
 * showed into *seen_pin (https), which on first contact is required of the requests with
 * credentials that follow; finds the device registered under the MAC shown (into *reg, unless
 * the caller had one) and checks it with registry_mismatch; sets t's auth style (the
 * registered generation, never the reply's alone) and the MAC its replies must carry. Returns 0
 * with *q, the resolver query, or -1 with *why (malloc'd) when nothing with credentials may go
 * there.
 */
struct creds_query;
struct shelly_reply;
int registry_identified(struct engine *eng, const struct shelly_reply *r,
    struct shelly_target *t, struct device_ident *ident, char **seen_pin,
    struct store_device **reg, struct creds_query *q, char **why);

/* A registered device as every front end shows it; embed, registry_view_init, _done. */
struct registry_view {
	struct device_view v; /* for model/object.h and the printers */
	struct device_ident ident;
	struct device_status *status; /* NULL when none stored or unreadable */
	int polled; /* a status row exists */
};

/* Fills rv from a store row and its status row (st may be NULL). */
void registry_view_init(
    struct registry_view *rv, const struct store_device *d, const struct store_status *st);
/*
 * Completes rv's components from the device's newest configuration snapshot in s (no request):
 * the names of switches, inputs, covers and lights and the types of inputs, as --probe reads
 * them from the device's settings. Nothing changes without a status or a readable snapshot.
 */
struct store;
void registry_view_names(struct registry_view *rv, struct store *s);
/*
 * The configuration in mac's newest snapshot in s into *c (initialised; replaced) unless that
 * snapshot's id is *seen, which it becomes (start from 0: no snapshot has that id). Returns 1 when *c was read
 * again (empty when the snapshot does not parse), 0 when the snapshot is the one seen, -1 when
 * there is none or the store cannot be read. A console keeps *c and *seen to read a device's
 * names once per snapshot rather than on every refresh.
 */
struct devconfig;
int registry_names_read(struct store *s, const char *mac, int64_t *seen, struct devconfig *c);
/* Fills st's component names and input types from c, as registry_view_names does (raw text:
 * a terminal front end sanitises). */
void registry_names_apply(const struct devconfig *c, struct device_status *st);
void registry_view_done(struct registry_view *rv);

#endif
