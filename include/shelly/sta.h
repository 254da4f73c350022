#ifndef SHELLY_STA_H
#define SHELLY_STA_H

#include <stddef.h>

/*
 * The requests that put a device in access-point mode on a WiFi network (shelly-api.md
 * section 8), in the order to send them: the optional name first, then the optional password
 * (requests after it carry credentials, user "admin"), the station network last (the device
 * may leave its AP as soon as it has it).
 *   Gen1:  GET /settings?name=N, GET /settings/login?enabled=1&username=admin&password=P,
 *          GET /settings/sta?enabled=1&ssid=S&key=K
 *          (a Gen1 AP turns itself off once the station connects; ap_off needs no request)
 *   Gen2+: POST /rpc/Sys.SetConfig {"config":{"device":{"name":N}}},
 *          POST /rpc/Shelly.SetAuth {"user":"admin","realm":ID,"ha1":SHA256(admin:ID:P)},
 *          POST /rpc/WiFi.SetConfig {"config":{"sta":{"ssid":S,"pass":K,"enable":true}
 *          [,"ap":{"enable":false}]}}
 * The key and password are inside a path or body: never log these.
 */
struct shelly_sta {
	const char *ssid; /* 1..32 printable ASCII */
	const char *key; /* NULL or "" for an open network, else 8..63 printable ASCII */
	const char *name; /* NULL: keep */
	int ap_off;
	const char *password; /* NULL: keep the device open; else 1..64 printable ASCII */
	const char *realm; /* Gen2+ with a password: the device id (digest realm) */
};

struct shelly_sta_req {
	const char *method; /* "GET" or "POST" (static) */
	char *path;
	char *body; /* NULL for GET */
	int auth_after; /* requests after this one need the new credentials */
};

#define SHELLY_STA_USER "admin"
#define SHELLY_STA_MAX_REQS 3

/* Fills out[] with *n requests for generation gen. Returns 0, or -1 with *cause (bad SSID,
 * key, name or password). Free with shelly_sta_free (which wipes them). */
int shelly_sta_requests(int gen, const struct shelly_sta *sta,
    struct shelly_sta_req out[SHELLY_STA_MAX_REQS], size_t *n, char **cause);
void shelly_sta_free(struct shelly_sta_req *reqs, size_t n);

#endif
