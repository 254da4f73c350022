#ifndef SHELLY_CLIENT_H
#define SHELLY_CLIENT_H

/*
 * The device driver: one asynchronous operation per call (identify, status, config, action)
 * on top of net/http, with the reply parsed into the typed model by the Gen1 or Gen2+ parser.
 * Nothing is kept between calls: the caller (engine, CLI) holds device state.
 *
 * Credentials: the driver sends what the target carries. The caller must pass credentials
 * only once the device at that address has shown (GET /shelly, shelly_identify) the MAC the
 * credentials belong to; shelly_status also checks the MAC inside the status reply and fails
 * with a mismatch (result HTTP_ERROR, cause "MAC mismatch") so a reused address is noticed.
 */
#include <stdint.h>

#include "model/device.h"
#include "net/http.h"
#include "shelly/action.h"
#include "shelly/gen1.h"
#include "shelly/gen2.h"

/* Where and how to reach a device; http_send copies what it needs, so strings may go. */
struct shelly_target {
	const char *host;
	uint16_t port;		/* 0: 80 / 443 */
	int https;
	int gen;		/* 1..4; 0 unknown (only shelly_identify works then) */
	const char *mac;	/* expected MAC (12 lower hex) or NULL: checked in status replies */
	const char *lane;	/* lane key; NULL: the MAC, else host:port */
	int lane_limit;		/* Gen2+ lanes (1..3); Gen1 is always 1; 0: default 2 */
	const char *user;	/* NULL: no credentials */
	const char *password;
	enum http_tls tls;
	const char *ca_file;
	const char *pin;	/* expected TLS public-key pin, NULL on first contact */
	const char *fw;		/* running firmware, NULL unknown: a status reply offers only a
				 * newer one as an update (a "stable" older is none) */
	uint32_t connect_timeout_ms, timeout_ms;
	size_t max_body;
};

/* What an operation produced; valid only during the callback (copy what you keep). */
struct shelly_reply {
	enum http_result result;	/* HTTP_OK, transport results, RPC_ERROR, BAD_JSON, ERROR */
	long http_status;
	const char *cause;		/* never NULL; "" when ok; sanitised */
	int rpc_code;			/* with HTTP_RPC_ERROR */
	uint64_t elapsed_ms;
	const char *pin;		/* https: the peer's public-key pin */
	const char *primary_ip;
	/* Filled by the operation that produces them, else NULL: */
	const struct device_ident *ident;	/* shelly_identify */
	struct device_status *status;		/* shelly_status (the callback may steal raw_unknown) */
	const struct gen1_settings *settings;	/* shelly_config on Gen1 */
	const struct gen2_config *config;	/* shelly_config on Gen2+ */
	const struct action_result *action;	/* shelly_action */
	const char *body;			/* the raw reply (for --json raw dumps / debugging) */
	size_t body_len;
};

typedef void (*shelly_cb)(const struct shelly_reply *reply, void *arg);

/* GET /shelly, never with credentials. Returns the http request id. */
uint64_t shelly_identify(struct http *http, const struct shelly_target *t, shelly_cb cb,
    void *arg);
/* One status request: Gen1 GET /status, Gen2+ GET /rpc/Shelly.GetStatus. */
uint64_t shelly_status(struct http *http, const struct shelly_target *t, shelly_cb cb, void *arg);
/*
 * Reads a status reply of generation gen (a fresh one, or one kept in the store) into out
 * (initialised here). running_fw (NULL unknown) is the firmware the device runs: an update
 * offered that is not newer is none. Returns 0, or -1 with *cause.
 */
int shelly_status_parse(int gen, const char *body, size_t len, const char *running_fw,
    struct device_status *out, char **cause);
/* Settings: Gen1 GET /settings, Gen2+ GET /rpc/Shelly.GetConfig. */
uint64_t shelly_config(struct http *http, const struct shelly_target *t, shelly_cb cb, void *arg);
/*
 * A request built elsewhere (e.g. a configuration change of model/devconfig): method "GET" or
 * "POST", path with query, JSON body or NULL. The reply carries body; a Gen2+ RPC error is
 * result HTTP_RPC_ERROR with its code and message as cause.
 */
uint64_t shelly_request(struct http *http, const struct shelly_target *t, const char *method,
    const char *path, const char *body, shelly_cb cb, void *arg);
/*
 * An action (switch, cover, light, reboot, firmware); the reply carries action. An invalid
 * action (bad channel or value) is not sent: cb runs at once with HTTP_ERROR and 0 is returned.
 */
uint64_t shelly_action(struct http *http, const struct shelly_target *t, const struct action *a,
    shelly_cb cb, void *arg);

#endif
