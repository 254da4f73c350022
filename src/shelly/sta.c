/* Station (WiFi client) configuration requests for provisioning (see shelly/sta.h). */
#include "shelly/sta.h"

#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <cjson/cJSON.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
rpc_body(cJSON *config)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddItemToObject(root, "config", config);
	return json_compact_free(root);
}

static void
gen1(const struct shelly_sta *sta, struct shelly_sta_req *out, size_t *n)
{
	char *ssid = str_urlencode(sta->ssid);
	char *key = str_urlencode(sta->key != NULL ? sta->key : "");

	if (sta->name != NULL) {
		char *name = str_urlencode(sta->name);

		out[*n].method = "GET";
		out[(*n)++].path = xasprintf("/settings?name=%s", name);
		free(name);
	}
	if (sta->password != NULL) {
		char *pw = str_urlencode(sta->password);

		out[*n].method = "GET";
		out[*n].auth_after = 1;
		out[(*n)++].path = xasprintf(
		    "/settings/login?enabled=1&username=" SHELLY_STA_USER "&password=%s", pw);
		str_free_secret(pw);
	}
	out[*n].method = "GET";
	out[(*n)++].path = xasprintf("/settings/sta?enabled=1&ssid=%s&key=%s", ssid, key);
	str_free_secret(key);
	free(ssid);
}

static void
gen2(const struct shelly_sta *sta, struct shelly_sta_req *out, size_t *n)
{
	cJSON *cfg, *o;

	if (sta->name != NULL) {
		cfg = cJSON_CreateObject();
		o = cJSON_AddObjectToObject(cfg, "device");
		cJSON_AddStringToObject(o, "name", sta->name);
		out[*n].method = "POST";
		out[*n].path = xstrdup("/rpc/Sys.SetConfig");
		out[(*n)++].body = rpc_body(cfg);
	}
	if (sta->password != NULL) {
		char *a1 = xasprintf(SHELLY_STA_USER ":%s:%s", sta->realm, sta->password);
		unsigned char md[32];
		char ha1[65];
		cJSON *auth = cJSON_CreateObject();

		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, a1, strlen(a1), md) != 0)
			abort(); /* SHA-256 is always there; failing is out of memory */
		str_free_secret(a1);
		for (unsigned int i = 0; i < 32; i++)
			snprintf(ha1 + 2 * i, 3, "%02x", md[i]);
		cJSON_AddStringToObject(auth, "user", SHELLY_STA_USER);
		cJSON_AddStringToObject(auth, "realm", sta->realm);
		cJSON_AddStringToObject(auth, "ha1", ha1);
		out[*n].method = "POST";
		out[*n].path = xstrdup("/rpc/Shelly.SetAuth");
		out[*n].auth_after = 1;
		out[(*n)++].body = json_compact_free(auth);
	}
	cfg = cJSON_CreateObject();
	o = cJSON_AddObjectToObject(cfg, "sta");
	cJSON_AddStringToObject(o, "ssid", sta->ssid);
	if (sta->key != NULL && sta->key[0] != '\0')
		cJSON_AddStringToObject(o, "pass", sta->key);
	cJSON_AddBoolToObject(o, "enable", 1);
	out[*n].method = "POST";
	out[*n].path = xstrdup("/rpc/WiFi.SetConfig");
	out[(*n)++].body = rpc_body(cfg);
}

/* The check behind shelly_sta_name_check and shelly_sta_ssid_check. */
static int
text_check(const char *what, const char *s, size_t max, char **cause)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0)
		*cause = xasprintf("%s is empty", what);
	else if (len > max)
		*cause = xasprintf(
		    "%s is %zu bytes, at most %zu (an accented letter takes 2)", what, len, max);
	else if (!str_is_safe(s))
		*cause =
		    xasprintf("%s must be UTF-8 text without control or bidirectional-formatting "
		              "characters",
		        what);
	else
		return 0;
	return -1;
}

int
shelly_sta_name_check(const char *name, char **cause)
{
	return text_check("device name", name, SHELLY_STA_NAME_MAX, cause);
}

int
shelly_sta_key_ok(const char *key)
{
	size_t len = key != NULL ? strlen(key) : 0;

	if (len == 64)
		return strspn(key, "0123456789abcdefABCDEF") == 64;
	return str_ascii_printable(key, 8, 63);
}

int
shelly_sta_ssid_check(const char *ssid, char **cause)
{
	return text_check("network name", ssid, SHELLY_STA_SSID_MAX, cause);
}

int
shelly_sta_requests(int gen, const struct shelly_sta *sta,
    struct shelly_sta_req out[SHELLY_STA_MAX_REQS], size_t *n, char **cause)
{
	*n = 0;
	memset(out, 0, SHELLY_STA_MAX_REQS * sizeof *out);
	if (shelly_sta_ssid_check(sta->ssid, cause) != 0)
		return -1;
	if (sta->key != NULL && sta->key[0] != '\0' && !shelly_sta_key_ok(sta->key)) {
		*cause =
		    xstrdup("WiFi key must be 8-63 printable ASCII characters or 64 hex digits");
		return -1;
	}
	if (sta->name != NULL && shelly_sta_name_check(sta->name, cause) != 0)
		return -1;
	if (sta->password != NULL && (!str_ascii_printable(sta->password, 1, 64) ||
	                                 (gen != 1 && !str_ascii_printable(sta->realm, 1, 96)))) {
		*cause = xstrdup("device password must be 1-64 printable ASCII characters (and "
		                 "Gen2+ needs the device id)");
		return -1;
	}
	if (gen == 1)
		gen1(sta, out, n);
	else
		gen2(sta, out, n);
	return 0;
}

void
shelly_sta_free(struct shelly_sta_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		str_free_secret(reqs[i].path);
		str_free_secret(reqs[i].body);
		reqs[i].path = reqs[i].body = NULL;
	}
}
