#ifndef SHELLY_STA_H
#define SHELLY_STA_H

#include <stddef.h>

/*
 * The requests that put a device in access-point mode on a WiFi network (shelly-api.md
 * section 8), in the order to send them: the optional name first, the station network last
 * (the device may leave its AP as soon as it has it).
 *   Gen1:  GET /settings?name=N, GET /settings/sta?enabled=1&ssid=S&key=K
 *          (a Gen1 AP turns itself off once the station connects; ap_off needs no request)
 *   Gen2+: POST /rpc/Sys.SetConfig {"config":{"device":{"name":N}}},
 *          POST /rpc/WiFi.SetConfig {"config":{"sta":{"ssid":S,"pass":K,"enable":true}
 *          [,"ap":{"enable":false}]}}
 * The key is inside a path or body: never log these.
 */
struct shelly_sta {
	const char *ssid; /* 1..32 printable ASCII */
	const char *key; /* NULL or "" for an open network, else 8..63 printable ASCII */
	const char *name; /* NULL: keep */
	int ap_off;
};

struct shelly_sta_req {
	const char *method; /* "GET" or "POST" (static) */
	char *path;
	char *body; /* NULL for GET */
};

#define SHELLY_STA_MAX_REQS 2

/* Fills out[] with *n requests for generation gen. Returns 0, or -1 with *cause (bad SSID
 * or key). Free with shelly_sta_free (which wipes them). */
int shelly_sta_requests(int gen, const struct shelly_sta *sta,
    struct shelly_sta_req out[SHELLY_STA_MAX_REQS], size_t *n, char **cause);
void shelly_sta_free(struct shelly_sta_req *reqs, size_t n);

#endif
