/* Station (WiFi client) configuration requests for provisioning (see shelly/sta.h). */
#include "shelly/sta.h"

#include "util/str.h"
#include "util/xmalloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static char *
rpc_body(cJSON *config)
{
	cJSON *root = cJSON_CreateObject();
	char *text;

	cJSON_AddItemToObject(root, "config", config);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
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
	out[*n].method = "GET";
	out[(*n)++].path = xasprintf("/settings/sta?enabled=1&ssid=%s&key=%s", ssid, key);
	explicit_bzero(key, strlen(key));
	free(key);
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
	cfg = cJSON_CreateObject();
	o = cJSON_AddObjectToObject(cfg, "sta");
	cJSON_AddStringToObject(o, "ssid", sta->ssid);
	if (sta->key != NULL && sta->key[0] != '\0')
		cJSON_AddStringToObject(o, "pass", sta->key);
	cJSON_AddBoolToObject(o, "enable", 1);
	if (sta->ap_off)
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(cfg, "ap"), "enable", 0);
	out[*n].method = "POST";
	out[*n].path = xstrdup("/rpc/WiFi.SetConfig");
	out[(*n)++].body = rpc_body(cfg);
}

int
shelly_sta_requests(int gen, const struct shelly_sta *sta,
    struct shelly_sta_req out[SHELLY_STA_MAX_REQS], size_t *n, char **cause)
{
	*n = 0;
	memset(out, 0, SHELLY_STA_MAX_REQS * sizeof *out);
	if (sta->ssid == NULL || !str_ascii_printable(sta->ssid, 1, 32)) {
		*cause = xstrdup("network name must be 1-32 printable ASCII characters");
		return -1;
	}
	if (sta->key != NULL && sta->key[0] != '\0' && !str_ascii_printable(sta->key, 8, 63)) {
		*cause = xstrdup("WiFi key must be 8-63 printable ASCII characters");
		return -1;
	}
	if (sta->name != NULL && !str_ascii_printable(sta->name, 1, 64)) {
		*cause = xstrdup("device name must be 1-64 printable ASCII characters");
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
		if (reqs[i].path != NULL)
			explicit_bzero(reqs[i].path, strlen(reqs[i].path));
		if (reqs[i].body != NULL)
			explicit_bzero(reqs[i].body, strlen(reqs[i].body));
		free(reqs[i].path);
		free(reqs[i].body);
		reqs[i].path = reqs[i].body = NULL;
	}
}
