#include "shelly/ident.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shelly/models.h"
#include "shelly/rpc.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Gen1 type code -> hostname prefix, as the firmware builds its hostname and AP SSID. */
static const struct {
	const char *type;
	const char *prefix;
} gen1_prefixes[] = {
    {"SHSW-1", "shelly1"},
    {"SHSW-L", "shelly1l"},
    {"SHSW-PM", "shelly1pm"},
    {"SHSW-21", "shellyswitch"},
    {"SHSW-25", "shellyswitch25"},
    {"SHSW-44", "shelly4pro"},
    {"SHPLG-1", "shellyplug"},
    {"SHPLG2-1", "shellyplug"},
    {"SHPLG-S", "shellyplug-s"},
    {"SHPLG-U1", "shellyplugu1"},
    {"SHEM", "shellyem"},
    {"SHEM-3", "shellyem3"},
    {"SHAIR-1", "shellyair"},
    {"SHBTN-1", "shellybutton1"},
    {"SHBTN-2", "shellybutton1"},
    {"SHCB-1", "shellycolorbulb"},
    {"SHBLB-1", "shellybulb"},
    {"SHBDUO-1", "shellybulbduo"},
    {"SHVIN-1", "shellyvintage"},
    {"SHDM-1", "shellydimmer"},
    {"SHDM-2", "shellydimmer2"},
    {"SHGS-1", "shellygas"},
    {"SHHT-1", "shellyht"},
    {"SHWT-1", "shellyflood"},
    {"SHDW-1", "shellydw"},
    {"SHDW-2", "shellydw2"},
    {"SHSM-01", "shellysmoke"},
    {"SHMOS-01", "shellymotionsensor"},
    {"SHMOS-02", "shellymotion2"},
    {"SHRGBW2", "shellyrgbw2"},
    {"SHRGBWW-01", "shellyrgbww"},
    {"SHTRV-01", "shellytrv"},
    {"SHUNI-1", "shellyuni"},
    {"SHIX3-1", "shellyix3"},
    {"SHSEN-1", "shellysense"},
};

void
shelly_gen1_prefix(const char *type, char *out, size_t size)
{
	size_t n = 0;
	const char *p;

	if (size == 0)
		return;
	out[0] = '\0';
	if (type == NULL)
		type = "";
	for (size_t i = 0; i < sizeof gen1_prefixes / sizeof gen1_prefixes[0]; i++) {
		if (strcasecmp(type, gen1_prefixes[i].type) == 0) {
			json_strlcpy(out, gen1_prefixes[i].prefix, size);
			return;
		}
	}
	/* Unknown type: "shelly" + the code without its "SH" and punctuation ("SHFOO-1" ->
	 * "shellyfoo1"). */
	json_strlcpy(out, "shelly", size);
	n = strlen(out);
	p = type;
	if (strncasecmp(p, "SH", 2) == 0)
		p += 2;
	for (; *p != '\0' && n + 1 < size; p++)
		if (isalnum((unsigned char)*p))
			out[n++] = (char)tolower((unsigned char)*p);
	out[n] = '\0';
}

int
shelly_gen1_id(const char *type, const char *mac, char *out, size_t size)
{
	char norm[DEV_MAC_LEN], prefix[DEV_SHORT_LEN], upper[DEV_MAC_LEN];

	if (size == 0)
		return -1;
	out[0] = '\0';
	if (device_mac_normalise(mac, norm) < 0)
		return -1;
	for (int i = 0; i < DEV_MAC_LEN; i++)
		upper[i] = (char)toupper((unsigned char)norm[i]);
	shelly_gen1_prefix(type, prefix, sizeof prefix);
	if (strlen(prefix) + 1 + 12 + 1 > size)
		return -1;
	memcpy(out, prefix, strlen(prefix));
	out[strlen(prefix)] = '-';
	memcpy(out + strlen(prefix) + 1, upper, 13);
	return 0;
}

static int
get_count(const cJSON *obj, const char *key)
{
	long long v;

	if (json_get_int(obj, key, 0, 1024, &v) < 0)
		return -1;
	return (int)v;
}

static void
fill_common(const cJSON *o, struct device_ident *out)
{
	const char *name;

	device_mac_normalise(json_get_string(o, "mac"), out->mac);
	out->discoverable = json_get_bool(o, "discoverable");
	name = json_get_string(o, "name");
	json_strlcpy(out->name, name, sizeof out->name);
	json_get_strbuf(o, "profile", out->profile, sizeof out->profile);
}

/*
 * 0 when o has every one of the NULL-ended keys as a string, else -1 with *cause naming the
 * first missing: a web server that happens to answer JSON with a "mac" or a "type" is not a
 * Shelly. The keys are those every real capture has (tests/fixtures: Gen1 /shelly has type,
 * mac, auth and fw; Gen2+ Shelly.GetDeviceInfo id, mac, model, gen, fw_id and ver).
 */
static int
has_keys(const cJSON *o, const char *const *keys, char **cause)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		if (json_get_string(o, keys[i]) == NULL) {
			if (cause != NULL)
				*cause = xasprintf(
				    "not a Shelly identification: no \"%s\" string", keys[i]);
			return -1;
		}
	return 0;
}

static int
parse_gen1(const cJSON *o, struct device_ident *out, char **cause)
{
	static const char *const keys[] = {"type", "mac", "fw", NULL};
	const char *type = json_get_string(o, "type");

	if (has_keys(o, keys, cause) != 0)
		return -1;
	out->gen = 1;
	fill_common(o, out);
	json_strlcpy(out->model, type, sizeof out->model);
	json_get_strbuf(o, "fw", out->fw, sizeof out->fw);
	device_fw_version(out->fw, out->fw_version, sizeof out->fw_version);
	out->auth_en = json_get_bool(o, "auth");
	out->sleep_mode = json_get_bool(o, "sleep_mode");
	out->num_outputs = get_count(o, "num_outputs");
	out->num_inputs = get_count(o, "num_inputs");
	out->num_meters = get_count(o, "num_meters");
	out->num_emeters = get_count(o, "num_emeters");
	out->num_rollers = get_count(o, "num_rollers");
	json_get_strbuf(o, "mode", out->mode, sizeof out->mode);
	shelly_gen1_id(out->model, out->mac, out->id, sizeof out->id);
	return 0;
}

static int
parse_gen2(const cJSON *o, int gen, struct device_ident *out, char **cause)
{
	static const char *const keys[] = {"id", "mac", "model", NULL};
	const char *ver;

	if (has_keys(o, keys, cause) != 0)
		return -1;
	out->gen = gen;
	fill_common(o, out);
	json_get_strbuf(o, "id", out->id, sizeof out->id);
	json_get_strbuf(o, "model", out->model, sizeof out->model);
	json_get_strbuf(o, "app", out->app, sizeof out->app);
	json_get_strbuf(o, "fw_id", out->fw, sizeof out->fw);
	ver = json_get_string(o, "ver");
	/* "ver" is the version proper ("1.4.0", "1.3.99-dev96845"); fw_id only when it is absent.
	 */
	if (ver == NULL || device_fw_version(ver, out->fw_version, sizeof out->fw_version) < 0)
		device_fw_version(out->fw, out->fw_version, sizeof out->fw_version);
	out->auth_en = json_get_bool(o, "auth_en");
	json_get_strbuf(o, "auth_domain", out->auth_domain, sizeof out->auth_domain);
	return 0;
}

/*
 * 0 when out reads as a genuine identification, else -1 with *cause: the strings a terminal
 * shows carry no control characters, and a Gen2+ id ends in the device's own MAC (another
 * device's id would draw that device's credentials and registry row).
 */
static int
check_ident(const struct device_ident *out, char **cause)
{
	static const char *const what[] = {"id", "model", "app", "fw", NULL};
	const char *const vals[] = {out->id, out->model, out->app, out->fw};

	for (size_t i = 0; what[i] != NULL; i++)
		if (!str_is_safe(vals[i])) {
			if (cause != NULL)
				*cause = xasprintf("identification refused: control characters in "
				                   "\"%s\"",
				    what[i]);
			return -1;
		}
	/* Near, not equal: a Pro device's id may carry its LAN MAC, /shelly its WiFi MAC. */
	if (out->gen >= 2 && !device_id_near_mac(out->id, out->mac)) {
		if (cause != NULL)
			*cause = xasprintf("identification refused: its id does not end in its MAC "
			                   "%s or one of the same device (not a genuine Shelly)",
			    out->mac[0] != '\0' ? out->mac : "(none)");
		return -1;
	}
	return 0;
}

int
shelly_parse_ident(const char *body, size_t len, struct device_ident *out, char **cause)
{
	const cJSON *o, *err, *gen;
	cJSON *root;
	long long g;
	char *msg;
	int code, rc;
	const char *name;

	device_ident_init(out);
	root = json_parse_object(body, len, 0, "identification reply", cause);
	if (root == NULL)
		return -1;
	o = root;
	/* Shelly.GetDeviceInfo through POST /rpc or a websocket: a response frame. */
	if ((err = json_get_object(o, "error")) != NULL) {
		code = 0;
		if (json_get(err, "code") != NULL) {
			long long c;

			if (json_get_int(err, "code", -2147483647LL, 2147483647LL, &c) == 0)
				code = (int)c;
		}
		msg = rpc_error_describe(code, json_get_string(err, "message"));
		if (cause != NULL)
			*cause = xasprintf("device answered with an error: %s", msg);
		free(msg);
		cJSON_Delete(root);
		return -1;
	}
	if (json_get_object(o, "result") != NULL &&
	    (json_get(o, "src") != NULL || json_get(o, "id") != NULL) && json_get(o, "gen") == NULL)
		o = json_get_object(o, "result");

	gen = json_get(o, "gen");
	if (gen == NULL || cJSON_IsNull(gen)) {
		rc = parse_gen1(o, out, cause);
	} else if (json_int(gen, 1, 99, &g) < 0) {
		if (cause != NULL)
			*cause = xstrdup("identification has an invalid \"gen\" value");
		rc = -1;
	} else if (g == 1) {
		rc = parse_gen1(o, out, cause);
	} else {
		rc = parse_gen2(o, (int)g, out, cause);
	}
	if (rc == 0)
		rc = check_ident(out, cause);
	if (rc == 0) {
		name = models_name(out->model);
		json_strlcpy(out->model_name, name, sizeof out->model_name);
	} else {
		device_ident_init(out);
	}
	cJSON_Delete(root);
	return rc;
}
