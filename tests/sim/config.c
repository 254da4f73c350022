/*
 * Configuration as real devices store and apply it.
 *
 * Gen1: query-string setters with their real parameter names change the nested /settings
 * document: /settings?mqtt_server=... -> mqtt.server, coiot_enable -> coiot.enabled,
 * /settings/sta?enabled&ssid&ipv4_method&ip&netmask&gw&dns -> wifi_sta.{..., mask, ...},
 * /settings/sta1, /settings/ap, /settings/cloud?enabled, /settings/relay|roller|light/N?...
 * Values take the type the document already has; a value of the wrong shape is refused with
 * HTTP 400 and changes nothing. Passwords (key, mqtt_pass) are accepted and never shown.
 *
 * Gen2+: <Component>.SetConfig merges config into the component, checks each key against the
 * type it has (unknown keys and wrong types: -103, nothing changed), keeps "pass" keys out of
 * GetConfig, answers restart_required (true for MQTT and BLE, as the firmware does) and sets
 * sys.restart_required until the next reboot. Every accepted change bumps cfg_rev
 * (Gen1 cfg_changed_cnt).
 *
 * Control: POST /devices/<d>/config {"patch":{...}} changes the document behind the tool's
 * back; POST /devices/<d>/config-fail {"after":N} lets N more setter requests succeed and
 * makes the next one fail (HTTP 500, nothing applied), once; GET /devices/<d>/secrets shows
 * the Gen2+ "pass" keys SetConfig received ({"wifi.sta.pass": ".."}) so that a test can see a
 * secret arrive; the device API never returns them.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"
#include "util/xmalloc.h"

/* Gen1 parameter renames: endpoint object, query name -> document key (NULL: not stored). */
static const struct {
	const char *group, *param, *key;
} renames[] = {
    {"mqtt", "id", "id"},
    {"mqtt", "pass", NULL},
    {"coiot", "enable", "enabled"},
    {"wifi_sta", "netmask", "mask"},
    {"wifi_sta", "key", NULL},
    {"wifi_sta1", "netmask", "mask"},
    {"wifi_sta1", "key", NULL},
};

/* Values real Gen1 firmware accepts for enum-like keys. */
static const struct {
	const char *key, *choices;
} gen1_enums[] = {
    {"default_state", "|off|on|last|switch|stop|open|close|"},
    {"btn_type", "|momentary|toggle|edge|detached|action|cycle|momentary_on_release|"
                 "one_button|dual_button|"},
    {"ipv4_method", "|dhcp|static|"},
};

bool
simcfg_fail_now(struct dev *d)
{
	if (d->cfg_fail_in <= 0)
		return false;
	return --d->cfg_fail_in == 0;
}

/* Coerces a query value to the type of cur (the value it replaces); NULL if it cannot. */
static cJSON *
typed_value(const cJSON *cur, const char *key, const char *v)
{
	char *end;
	double num;

	if (cJSON_IsBool(cur)) {
		if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
			return cJSON_CreateBool(1);
		if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
			return cJSON_CreateBool(0);
		return NULL;
	}
	if (cJSON_IsNumber(cur) ||
	    ((!cur || cJSON_IsNull(cur)) && (!strcmp(key, "lat") || !strcmp(key, "lng")))) {
		num = strtod(v, &end);
		if (!v[0] || *end)
			return NULL;
		if (!strcmp(key, "lat") || !strcmp(key, "lng")) {
			/* as the firmware: a 32-bit float, printed with 6 decimals */
			char buf[32];

			snprintf(buf, sizeof buf, "%.6f", (double)(float)num);
			num = strtod(buf, NULL);
		}
		return cJSON_CreateNumber(num);
	}
	for (size_t i = 0; i < sizeof gen1_enums / sizeof gen1_enums[0]; i++) {
		char probe[80];
		if (strcmp(key, gen1_enums[i].key) != 0)
			continue;
		snprintf(probe, sizeof probe, "|%s|", v);
		if (!strstr(gen1_enums[i].choices, probe))
			return NULL;
	}
	if (cJSON_IsNull(cur) && !v[0])
		return cJSON_CreateNull();
	return cJSON_CreateString(v);
}

struct g1ctx {
	cJSON *doc; /* the settings as they are (read only) */
	cJSON *patch; /* what the request changes */
	const char *group; /* object of the endpoint ("wifi_sta"), NULL for /settings */
	const char *container;
	int index;
	int n;
	char bad[96]; /* first refused parameter */
};

/* The object a key goes to, in doc (cur) and in the patch (created on demand). */
static cJSON *
patch_object(struct g1ctx *c, const char *group, const cJSON **cur_obj)
{
	cJSON *p = c->patch;
	const cJSON *d = c->doc;
	char idx[16];

	if (c->container) {
		snprintf(idx, sizeof idx, "%d", c->index);
		d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, c->container), c->index);
		if (!(p = cJSON_GetObjectItemCaseSensitive(c->patch, c->container)))
			p = cJSON_AddObjectToObject(c->patch, c->container);
		if (!cJSON_GetObjectItemCaseSensitive(p, idx))
			cJSON_AddObjectToObject(p, idx);
		p = cJSON_GetObjectItemCaseSensitive(p, idx);
	}
	if (group) {
		d = cJSON_GetObjectItemCaseSensitive(d, group);
		if (!cJSON_GetObjectItemCaseSensitive(p, group))
			cJSON_AddObjectToObject(p, group);
		p = cJSON_GetObjectItemCaseSensitive(p, group);
	}
	*cur_obj = d;
	return p;
}

static void
gen1_param_cb(void *arg, const char *key, const char *value)
{
	struct g1ctx *c = arg;
	static const char *const nested[] = {"mqtt", "coiot", "sntp", NULL};
	const char *group = c->group, *name = key;
	const cJSON *cur_obj;
	cJSON *target, *v;

	if (!key[0] || c->bad[0])
		return;
	if (!group && !c->container) {
		for (int i = 0; nested[i]; i++) {
			size_t gl = strlen(nested[i]);
			if (!strncmp(key, nested[i], gl) && key[gl] == '_' && key[gl + 1]) {
				group = nested[i];
				name = key + gl + 1;
			}
		}
	}
	for (size_t i = 0; group && i < sizeof renames / sizeof renames[0]; i++) {
		if (!strcmp(renames[i].group, group) && !strcmp(renames[i].param, name)) {
			if (!(name = renames[i].key)) {
				c->n++; /* a password: accepted, never shown */
				return;
			}
		}
	}
	target = patch_object(c, group, &cur_obj);
	v = typed_value(cJSON_GetObjectItemCaseSensitive(cur_obj, name), name, value ? value : "");
	if (!v) {
		snprintf(c->bad, sizeof c->bad, "%s", key);
		return;
	}
	js_set(target, name, v);
	c->n++;
}

int
simcfg_gen1_set(struct dev *d, struct sim_req *req, cJSON *doc, const char *group,
    const char *container, int index, struct reply *rep)
{
	struct g1ctx c = {.doc = doc, .group = group, .container = container, .index = index};
	char msg[160];

	c.patch = cJSON_CreateObject();
	req_args(req, gen1_param_cb, &c);
	if (c.bad[0]) {
		snprintf(msg, sizeof msg, "Bad value for '%.80s'", c.bad);
		reply_set(rep, 400, "text/plain", xstrdup(msg), strlen(msg));
		cJSON_Delete(c.patch);
		return -1;
	}
	if (c.n > 0 && simcfg_fail_now(d)) {
		reply_set(rep, 500, "text/plain", xstrdup("Internal error"), 14);
		cJSON_Delete(c.patch);
		return -1;
	}
	if (c.n > 0) {
		char *text = js_print(c.patch, NULL);
		dev_config_patch(d, text);
		free(text);
	}
	cJSON_Delete(c.patch);
	return 0;
}

/* Checks new against the component's current config cur: same shapes, known keys. */
static bool
gen2_check(const cJSON *cur, const cJSON *new, char *bad, size_t size)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, new)
	{
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(cur, it->string);
		if (!strcmp(it->string, "pass") && (cJSON_IsString(it) || cJSON_IsNull(it)))
			continue;
		if (!old) {
			snprintf(bad, size, "Unknown key '%s'", it->string);
			return false;
		}
		if (cJSON_IsObject(old) != cJSON_IsObject(it) ||
		    (cJSON_IsBool(old) && !cJSON_IsBool(it)) ||
		    (cJSON_IsNumber(old) && !cJSON_IsNumber(it) && !cJSON_IsNull(it)) ||
		    (cJSON_IsString(old) && !cJSON_IsString(it) && !cJSON_IsNull(it))) {
			snprintf(bad, size, "Invalid value for '%s'", it->string);
			return false;
		}
		if (cJSON_IsObject(it) && !gen2_check(old, it, bad, size))
			return false;
	}
	return true;
}

/* Keeps the "pass" strings of config (component key) in d->secrets by their dotted path. */
static void
keep_pass(struct dev *d, const char *path, const cJSON *config)
{
	const cJSON *it;
	char sub[160];

	cJSON_ArrayForEach(it, config)
	{
		snprintf(sub, sizeof sub, "%s.%s", path, it->string);
		if (cJSON_IsObject(it))
			keep_pass(d, sub, it);
		else if (!strcmp(it->string, "pass") && cJSON_IsString(it)) {
			if (d->secrets == NULL)
				d->secrets = cJSON_CreateObject();
			js_set(d->secrets, sub, cJSON_CreateString(it->valuestring));
		}
	}
}

char *
simcfg_secrets(struct dev *d, size_t *len)
{
	cJSON *empty = d->secrets == NULL ? cJSON_CreateObject() : NULL;
	char *s = js_print(empty != NULL ? empty : d->secrets, len);

	cJSON_Delete(empty);
	return s;
}

/* Removes "pass" keys (write-only) from a config object. */
static void
strip_pass(cJSON *o)
{
	cJSON *it;

	cJSON_DeleteItemFromObjectCaseSensitive(o, "pass");
	cJSON_ArrayForEach(it, o)
	{
		if (cJSON_IsObject(it))
			strip_pass(it);
	}
}

cJSON *
simcfg_gen2_set(struct dev *d, const char *key, const cJSON *cur, const cJSON *config, int *code,
    char *msg, size_t size)
{
	cJSON *patch, *result, *copy;
	bool restart = !strcmp(key, "mqtt") || !strcmp(key, "ble");
	char *text;

	/* sys.location may be null: any object may replace it. */
	if (!gen2_check(cur, config, msg, size) &&
	    !(strcmp(key, "sys") == 0 && strstr(msg, "'location'"))) {
		*code = -103;
		return NULL;
	}
	if (simcfg_fail_now(d)) {
		*code = -114;
		snprintf(msg, size, "Internal error while saving the configuration");
		return NULL;
	}
	keep_pass(d, key, config);
	copy = cJSON_Duplicate(config, 1);
	strip_pass(copy);
	patch = cJSON_CreateObject();
	cJSON_AddItemToObject(patch, key, copy);
	text = js_print(patch, NULL);
	cJSON_Delete(patch);
	dev_config_patch(d, text);
	free(text);
	if (restart)
		d->restart_required = true;
	result = cJSON_CreateObject();
	cJSON_AddBoolToObject(result, "restart_required", restart);
	return result;
}

int
simcfg_control(struct dev *d, const char *action, const cJSON *in, char **cause)
{
	if (!strcmp(action, "config")) {
		const cJSON *patch = cJSON_GetObjectItemCaseSensitive(in, "patch");
		char *text;
		if (!cJSON_IsObject(patch)) {
			*cause = xstrdup("\"patch\": {...} required");
			return -1;
		}
		text = js_print(patch, NULL);
		dev_config_patch(d, text);
		free(text);
		return 0;
	}
	if (!strcmp(action, "config-fail")) {
		double after = js_num(in, "after", -1);
		if (after < 0 || after > 1e6) {
			*cause = xstrdup("\"after\": N (0 or more) required");
			return -1;
		}
		d->cfg_fail_in = (long)after + 1;
		return 0;
	}
	*cause = xstrdup("unknown action");
	return -1;
}
