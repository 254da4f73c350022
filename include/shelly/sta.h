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
 *          POST /rpc/WiFi.SetConfig {"config":{"sta":{"ssid":S,"pass":K,"enable":true}}}
 *          The AP is never turned off in the same request: WiFi.SetConfig takes "sta" and
 *          "ap" together (shelly-api.md section 8; shelly-api-docs.shelly.cloud/gen2/
 *          ComponentsAndServices/WiFi), and with a station that cannot join (a wrong key) a
 *          device told "ap":{"enable":false} as well is left with no AP and no network: out
 *          of reach until a factory reset. The docs promise no fallback to the AP, so the AP
 *          goes off only once the device was seen on its network (shelly_sta_ap_off_body).
 * The key and password are inside a path or body: never log these.
 */
struct shelly_sta {
	const char *ssid; /* shelly_sta_ssid_check */
	const char *key; /* NULL or "" for an open network, else shelly_sta_key_ok */
	const char *name; /* NULL: keep; else shelly_sta_name_check */
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
/* Gen2+: turning the AP off, sent to the device on its network once it was seen there. */
#define SHELLY_STA_AP_OFF_PATH "/rpc/WiFi.SetConfig"
#define SHELLY_STA_AP_OFF_BODY "{\"config\":{\"ap\":{\"enable\":false}}}"
#define SHELLY_STA_MAX_REQS 3

#define SHELLY_STA_SSID_MAX 32 /* bytes, IEEE 802.11 */
#define SHELLY_STA_NAME_MAX 64 /* bytes */

/*
 * The one check of the text a provisioning task sends to a device, used where a task is
 * queued (CLI, CSV, console, so it is refused there) and where an agent reads it: a device
 * name (Gen1 /settings?name=, Gen2+ Sys.SetConfig device.name, both UTF-8 strings) is 1..64
 * bytes, a network name (SSID) 1..32 bytes (802.11 counts bytes: "Café" is 5), of valid UTF-8
 * without control characters or bidirectional-formatting characters (str_is_safe). Returns 0,
 * or -1 with *cause saying why (the text itself is not in it).
 */
int shelly_sta_name_check(const char *name, char **cause);
/*
 * 1 when key is a WPA key a device takes: a passphrase of 8 to 63 printable ASCII characters,
 * or the pre-shared key itself as 64 hex digits (what wpa_passphrase prints as psk=).
 */
int shelly_sta_key_ok(const char *key);
int shelly_sta_ssid_check(const char *ssid, char **cause);

/* Fills out[] with *n requests for generation gen. Returns 0, or -1 with *cause (bad SSID,
 * key, name or password). Free with shelly_sta_free (which wipes them). */
int shelly_sta_requests(int gen, const struct shelly_sta *sta,
    struct shelly_sta_req out[SHELLY_STA_MAX_REQS], size_t *n, char **cause);
void shelly_sta_free(struct shelly_sta_req *reqs, size_t n);

#endif
