/*
 * Gen2+ RPC over HTTP: GET /rpc/<Method>?k=v (values are JSON tokens), POST /rpc/<Method> with a
 * params object, POST /rpc with a request frame (answered with a response frame), and /shelly.
 * Shelly.GetStatus/GetConfig/GetDeviceInfo and <Type>.GetStatus/GetConfig are derived from the
 * fixture with live values; any other <Method>.json of the fixture folder is served as is.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/json.h"
#include "util/loop.h"
#include "util/xmalloc.h"

struct rpc_err {
	int code;
	char *msg;
};

static void set_err(struct rpc_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(struct rpc_err *e, int code, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e->code = code;
	free(e->msg);
	e->msg = xstrdup(buf);
}

static int64_t
unixtime(void)
{
	return loop_wall_ms() / 1000;
}

static cJSON *
parse_or_empty(const char *text)
{
	cJSON *o = text ? cJSON_Parse(text) : NULL;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	return o;
}

static const char *
method_of(const char *path)
{
	return strncmp(path, "/rpc/", 5) == 0 ? path + 5 : NULL;
}

bool
gen2_protected(struct sim_req *req)
{
	const char *m;

	if (strcmp(req->path, "/shelly") == 0)
		return false;
	if ((m = method_of(req->path)))
		return strcasecmp(m, "Shelly.GetDeviceInfo") != 0;
	if (strcmp(req->path, "/rpc") == 0 && req->body) {
		cJSON *f = json_parse(req->body, req->body_len, 0, NULL);
		const char *fm = js_str(f, "method");
		bool prot = !(fm && strcasecmp(fm, "Shelly.GetDeviceInfo") == 0);
		/* A frame with its own "auth" object is checked as a WebSocket frame would be. */
		if (js_has(f, "auth") && !req_header(req, "Authorization"))
			prot = false;
		cJSON_Delete(f);
		return prot;
	}
	return true;
}

/* --- rendering --- */

static void
set_aenergy(cJSON *comp, double wh)
{
	cJSON *ae = cJSON_GetObjectItemCaseSensitive(comp, "aenergy");
	if (!cJSON_IsObject(ae))
		return;
	js_set_num_if(ae, "total", round_n(wh, 3));
	js_set_num_if(ae, "minute_ts", (double)(unixtime() / 60 * 60));
}

static void
set_timer(cJSON *comp, uint64_t flip_at, uint64_t started, uint64_t now)
{
	if (flip_at > now) {
		js_set(comp, "timer_started_at",
		    cJSON_CreateNumber(round_n(
		        (double)loop_wall_ms() / 1000.0 - (double)(now - started) / 1000.0, 2)));
		js_set(comp, "timer_duration",
		    cJSON_CreateNumber(round_n((double)(flip_at - started) / 1000.0, 2)));
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(comp, "timer_started_at");
		cJSON_DeleteItemFromObjectCaseSensitive(comp, "timer_duration");
	}
}

static void
set_power(cJSON *comp, double p, double voltage)
{
	js_set_num_if(comp, "apower", p);
	if (voltage > 1)
		js_set_num_if(comp, "current", round_n(p / voltage, 3));
}

static cJSON *
render_status(struct dev *d)
{
	cJSON *st = parse_or_empty(d->fx->status);
	cJSON *sys = cJSON_GetObjectItemCaseSensitive(st, "sys");
	uint64_t now = loop_now_ms(d->sim->loop);
	char key[48], ip[16], t[8];
	time_t ut = (time_t)unixtime();
	struct tm tm;

	dev_advance(d, now);
	localtime_r(&ut, &tm);
	snprintf(t, sizeof t, "%02d:%02d", tm.tm_hour, tm.tm_min);
	addr_str(d->addr, ip);
	if (cJSON_IsObject(sys)) {
		js_set_str_if(sys, "mac", d->mac);
		js_set_num_if(sys, "uptime", (double)dev_uptime_s(d, now));
		js_set_num_if(sys, "unixtime", (double)ut);
		if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sys, "time")))
			js_set_str_if(sys, "time", t);
		js_set_num_if(sys, "cfg_rev", d->cfg_rev);
		js_set_bool_if(sys, "restart_required", d->restart_required);
		js_set_str_if(sys, "fw_id", d->fw);
		js_set_str_if(sys, "ver", d->ver);
		js_set_bool_if(sys, "auth_en", d->auth);
		if (js_has(sys, "available_updates")) {
			cJSON *au = cJSON_CreateObject();
			if (d->upd_stable)
				cJSON_AddStringToObject(cJSON_AddObjectToObject(au, "stable"),
				    "version", d->upd_stable);
			if (d->upd_beta)
				cJSON_AddStringToObject(
				    cJSON_AddObjectToObject(au, "beta"), "version", d->upd_beta);
			js_set(sys, "available_updates", au);
		}
	}
	js_set_str_if(cJSON_GetObjectItemCaseSensitive(st, "wifi"), "sta_ip", ip);
	for (size_t i = 0; i < d->nsw; i++) {
		struct sim_switch *s = &d->sw[i];
		cJSON *c;
		snprintf(key, sizeof key, "switch:%d", s->id);
		if (!(c = cJSON_GetObjectItemCaseSensitive(st, key)))
			continue;
		js_set(c, "output", cJSON_CreateBool(s->on));
		js_set_str_if(c, "source", s->source);
		set_power(c, sw_power(d, s, now), s->voltage);
		set_aenergy(c, s->energy_wh);
		set_timer(c, s->flip_at, s->flip_started, now);
	}
	for (size_t i = 0; i < d->ncv; i++) {
		struct sim_cover *cv = &d->cv[i];
		cJSON *c;
		snprintf(key, sizeof key, "cover:%d", cv->id);
		if (!(c = cJSON_GetObjectItemCaseSensitive(st, key)))
			continue;
		js_set(c, "state", cJSON_CreateString(cover_state_gen2(cv)));
		js_set_str_if(c, "source", cv->source);
		set_power(c, cv_power(d, cv, now), cv->voltage);
		set_aenergy(c, cv->energy_wh);
		if (cv->pos_control)
			js_set(c, "current_pos", cJSON_CreateNumber((double)(int)(cv->pos + 0.5)));
		js_set_str_if(c, "last_direction", cv->last_dir < 0 ? "close" : "open");
		if (cv->dir) {
			if (cv->pos_control)
				js_set(c, "target_pos",
				    cJSON_CreateNumber((double)(int)(cv->target + 0.5)));
			js_set(c, "move_started_at",
			    cJSON_CreateNumber(round_n(
			        (double)loop_wall_ms() / 1000.0 - (double)(now - cv->t0) / 1000.0,
			        2)));
		} else {
			cJSON_DeleteItemFromObjectCaseSensitive(c, "target_pos");
			cJSON_DeleteItemFromObjectCaseSensitive(c, "move_started_at");
			cJSON_DeleteItemFromObjectCaseSensitive(c, "move_timeout");
		}
	}
	for (size_t i = 0; i < d->nlt; i++) {
		struct sim_light *l = &d->lt[i];
		cJSON *c;
		snprintf(key, sizeof key, "%s:%d", l->type, l->id);
		if (!(c = cJSON_GetObjectItemCaseSensitive(st, key)))
			continue;
		js_set(c, "output", cJSON_CreateBool(l->on));
		js_set_num_if(c, "brightness", l->brightness);
		js_set_str_if(c, "source", l->source);
		set_power(c, lt_power(d, l, now), l->voltage);
		set_aenergy(c, l->energy_wh);
		set_timer(c, l->flip_at, l->flip_started, now);
	}
	return st;
}

char *
gen2_render_status(struct dev *d, size_t *len)
{
	cJSON *st = render_status(d);
	size_t n;
	char *text = js_print(st, &n);
	char *out = dev_rewrite(d, text, n, len);
	free(text);
	cJSON_Delete(st);
	return out;
}

static cJSON *
render_config(struct dev *d)
{
	cJSON *cfg, *patch;

	if (d->fx->config) {
		cfg = parse_or_empty(d->fx->config);
	} else {
		/* No capture of the configuration: one entry per status component. */
		cJSON *st = parse_or_empty(d->fx->status), *it;
		cfg = cJSON_CreateObject();
		cJSON_ArrayForEach(it, st)
		{
			cJSON *c = cJSON_AddObjectToObject(cfg, it->string);
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
			if (cJSON_IsNumber(id))
				cJSON_AddNumberToObject(c, "id", id->valuedouble);
		}
		cJSON_Delete(st);
	}
	patch = d->patch ? cJSON_Parse(d->patch) : NULL;
	if (cJSON_IsObject(patch))
		js_merge(cfg, patch);
	cJSON_Delete(patch);
	cJSON *dev = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cfg, "sys"), "device");
	js_set_str_if(dev, "mac", d->mac);
	js_set_str_if(dev, "fw_id", d->fw);
	/* Real firmware carries the live revision in sys.cfg_rev of the configuration too. */
	js_set_num_if(cJSON_GetObjectItemCaseSensitive(cfg, "sys"), "cfg_rev", d->cfg_rev);
	return cfg;
}

static cJSON *
render_shelly(struct dev *d, bool devinfo)
{
	cJSON *o = parse_or_empty(devinfo && d->fx->devinfo ? d->fx->devinfo : d->fx->shelly);
	uint64_t now = loop_now_ms(d->sim->loop);

	js_set(o, "id", cJSON_CreateString(d->id));
	js_set(o, "mac", cJSON_CreateString(d->mac));
	js_set_str_if(o, "fw_id", d->fw);
	js_set_str_if(o, "ver", d->ver);
	js_set(o, "auth_en", cJSON_CreateBool(d->auth));
	if (js_has(o, "auth_domain"))
		js_set(o, "auth_domain", d->auth ? cJSON_CreateString(d->id) : cJSON_CreateNull());
	if (d->name)
		js_set(o, "name", cJSON_CreateString(d->name));
	js_set_num_if(o, "uptime", (double)dev_uptime_s(d, now));
	js_set_num_if(o, "unixtime", (double)unixtime());
	js_set_num_if(o, "cfg_rev", d->cfg_rev);
	return o;
}

/* --- component helpers --- */

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* "Switch.Set" -> type "switch", verb "Set"; false if not "<Type>.<Verb>". */
static bool
split_method(const char *m, char *type, size_t tcap, const char **verb)
{
	const char *dot = strchr(m, '.');
	if (!dot || dot == m || (size_t)(dot - m) >= tcap || !dot[1] || strchr(dot + 1, '.'))
		return false;
	memcpy(type, m, (size_t)(dot - m));
	type[dot - m] = '\0';
	lower(type);
	*verb = dot + 1;
	return true;
}

static bool
param_id(const cJSON *params, int *id)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, "id");
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 100000)
		return false;
	*id = (int)it->valuedouble;
	return true;
}

/* Detaches the component (type[:id]) from doc; NULL with e set when absent. */
static cJSON *
component(cJSON *doc, const char *type, const cJSON *params, struct rpc_err *e)
{
	char key[64];
	int id;
	bool has_id = param_id(params, &id);
	cJSON *it;

	if (has_id) {
		snprintf(key, sizeof key, "%s:%d", type, id);
		if ((it = cJSON_DetachItemFromObjectCaseSensitive(doc, key)))
			return it;
	}
	if ((it = cJSON_DetachItemFromObjectCaseSensitive(doc, type)))
		return it;
	snprintf(key, sizeof key, "%s:", type);
	cJSON_ArrayForEach(it, doc)
	{
		if (strncmp(it->string, key, strlen(key)) == 0) {
			if (!has_id) {
				set_err(e, -103, "Missing required argument 'id'!");
			} else {
				set_err(e, -105, "Argument 'id', value %d not found!", id);
			}
			return NULL;
		}
	}
	return NULL;
}

static bool
require_id(const cJSON *params, int *id, struct rpc_err *e)
{
	if (!param_id(params, id)) {
		set_err(e, -103, "Missing required argument 'id'!");
		return false;
	}
	return true;
}

static void
not_found_id(struct rpc_err *e, int id)
{
	set_err(e, -105, "Argument 'id', value %d not found!", id);
}

static double
param_num(const cJSON *params, const char *key, double def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, key);
	return cJSON_IsNumber(it) ? it->valuedouble : def;
}

/* --- methods --- */

static cJSON *
list_methods(struct dev *d)
{
	cJSON *st = render_status(d), *cfg = render_config(d), *it;
	cJSON *out = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(out, "methods");
	static const char *const shelly[] = {"GetStatus", "GetConfig", "GetDeviceInfo",
	    "GetComponents", "ListMethods", "CheckForUpdate", "Update", "Reboot", "SetAuth", NULL};
	char seen[64][32];
	size_t nseen = 0;

	for (int i = 0; shelly[i]; i++) {
		char m[64];
		snprintf(m, sizeof m, "Shelly.%s", shelly[i]);
		cJSON_AddItemToArray(arr, cJSON_CreateString(m));
	}
	for (int pass = 0; pass < 2; pass++) {
		cJSON *doc = pass ? cfg : st;
		cJSON_ArrayForEach(it, doc)
		{
			char type[32], name[32];
			size_t k, tl = strcspn(it->string, ":");
			if (tl == 0 || tl >= sizeof type)
				continue;
			memcpy(type, it->string, tl);
			type[tl] = '\0';
			for (k = 0; k < nseen; k++)
				if (strcmp(seen[k], type) == 0)
					break;
			if (k < nseen || nseen >= 64)
				continue;
			snprintf(seen[nseen++], sizeof seen[0], "%s", type);
			static const char *const special[][2] = {{"wifi", "WiFi"}, {"ble", "BLE"},
			    {"em", "EM"}, {"em1", "EM1"}, {"emdata", "EMData"},
			    {"em1data", "EM1Data"}, {"pm1", "PM1"}, {"rgb", "RGB"},
			    {"rgbw", "RGBW"}, {"cct", "CCT"}, {"bthome", "BTHome"}, {"knx", "KNX"},
			    {"ui", "UI"}, {"devicepower", "DevicePower"}, {NULL, NULL}};
			snprintf(name, sizeof name, "%s", type);
			name[0] = (char)toupper((unsigned char)name[0]);
			for (int s = 0; special[s][0]; s++)
				if (strcmp(type, special[s][0]) == 0)
					snprintf(name, sizeof name, "%s", special[s][1]);
			static const char *const verbs[] = {
			    "GetStatus", "GetConfig", "SetConfig", NULL};
			for (int v = 0; verbs[v]; v++) {
				char m[80];
				snprintf(m, sizeof m, "%s.%s", name, verbs[v]);
				cJSON_AddItemToArray(arr, cJSON_CreateString(m));
			}
			const char *extra[5] = {NULL};
			if (!strcmp(type, "switch")) {
				extra[0] = "Set";
				extra[1] = "Toggle";
			} else if (!strcmp(type, "cover")) {
				extra[0] = "Open";
				extra[1] = "Close";
				extra[2] = "Stop";
				extra[3] = "GoToPosition";
			} else if (!strcmp(type, "light") || !strcmp(type, "rgb") ||
			           !strcmp(type, "rgbw") || !strcmp(type, "cct")) {
				extra[0] = "Set";
				extra[1] = "Toggle";
			}
			for (int x = 0; extra[x]; x++) {
				char m[80];
				snprintf(m, sizeof m, "%s.%s", name, extra[x]);
				cJSON_AddItemToArray(arr, cJSON_CreateString(m));
			}
		}
	}
	for (size_t i = 0; i < d->fx->nfiles; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(d->fx->files[i].name));
	cJSON_Delete(st);
	cJSON_Delete(cfg);
	return out;
}

static cJSON *
get_components(struct dev *d, const cJSON *params)
{
	cJSON *st = render_status(d), *cfg = render_config(d), *it;
	cJSON *out = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(out, "components");
	int offset = (int)param_num(params, "offset", 0), n = 0, total = 0;

	cJSON_ArrayForEach(it, cfg)
	{
		if (total++ < offset || n >= 20)
			continue;
		cJSON *c = cJSON_CreateObject();
		cJSON *s = cJSON_GetObjectItemCaseSensitive(st, it->string);
		cJSON_AddStringToObject(c, "key", it->string);
		cJSON_AddItemToObject(
		    c, "status", s ? cJSON_Duplicate(s, 1) : cJSON_CreateObject());
		cJSON_AddItemToObject(c, "config", cJSON_Duplicate(it, 1));
		cJSON_AddItemToArray(arr, c);
		n++;
	}
	cJSON_AddNumberToObject(out, "cfg_rev", d->cfg_rev);
	cJSON_AddNumberToObject(out, "offset", offset);
	cJSON_AddNumberToObject(out, "total", total);
	cJSON_Delete(st);
	cJSON_Delete(cfg);
	return out;
}

static cJSON *
updates(struct dev *d)
{
	cJSON *o = cJSON_CreateObject();
	if (d->upd_stable) {
		cJSON *s = cJSON_AddObjectToObject(o, "stable");
		cJSON_AddStringToObject(s, "version", d->upd_stable);
		cJSON_AddStringToObject(s, "build_id", "20260101-000000/sim");
	}
	if (d->upd_beta) {
		cJSON *b = cJSON_AddObjectToObject(o, "beta");
		cJSON_AddStringToObject(b, "version", d->upd_beta);
		cJSON_AddStringToObject(b, "build_id", "20260101-000000/sim-beta");
	}
	return o;
}

/* Sets *result (may stay NULL for JSON null); returns false with e set on error. */
static bool
call(struct dev *d, const char *method, const cJSON *params, cJSON **result, struct rpc_err *e)
{
	char type[32];
	const char *verb;
	int id;

	*result = NULL;
	if (!strcasecmp(method, "Shelly.GetStatus")) {
		*result = render_status(d);
		return true;
	}
	if (!strcasecmp(method, "Shelly.GetConfig")) {
		*result = render_config(d);
		return true;
	}
	if (!strcasecmp(method, "Shelly.GetDeviceInfo")) {
		*result = render_shelly(d, true);
		return true;
	}
	if (!strcasecmp(method, "Shelly.ListMethods")) {
		for (size_t i = 0; i < d->fx->nfiles; i++)
			if (!strcasecmp(d->fx->files[i].name, method))
				goto file;
		*result = list_methods(d);
		return true;
	}
	if (!strcasecmp(method, "Shelly.GetComponents")) {
		*result = get_components(d, params);
		return true;
	}
	if (!strcasecmp(method, "Shelly.Reboot")) {
		dev_reboot(d, (uint64_t)param_num(params, "delay_ms", 0));
		return true;
	}
	if (!strcasecmp(method, "Shelly.CheckForUpdate")) {
		*result = updates(d);
		return true;
	}
	if (!strcasecmp(method, "Shelly.Update")) {
		const char *stage = js_str(params, "stage");
		const char *url = js_str(params, "url");
		bool ok = (stage && !strcmp(stage, "beta"))
		              ? d->upd_beta != NULL
		              : (d->upd_stable != NULL || (url && d->upd_beta));
		if (!ok) { /* as a device answers (aioshelly RpcCallError seen in the field) */
			set_err(e, -114,
			    (stage && !strcmp(stage, "beta"))
			        ? "Resource unavailable: FW stage beta not found!"
			        : "Resource unavailable: FW stage stable not found!");
			return false;
		}
		if (stage && !strcmp(stage, "beta")) {
			free(d->upd_stable);
			d->upd_stable = NULL;
		}
		d->pending_update = true;
		dev_reboot(d, 1000);
		return true;
	}
	if (!strcasecmp(method, "Shelly.SetAuth")) {
		const char *user = js_str(params, "user"), *realm = js_str(params, "realm");
		const cJSON *ha1 = cJSON_GetObjectItemCaseSensitive(params, "ha1");
		if (!user || strcmp(user, "admin") != 0) {
			set_err(e, -103, "Invalid argument 'user'!");
			return false;
		}
		if (!realm || strcmp(realm, d->id) != 0) {
			set_err(e, -103, "Invalid argument 'realm'!");
			return false;
		}
		if (cJSON_IsNull(ha1) || !ha1) {
			dev_set_auth(d, false, NULL);
			return true;
		}
		if (!cJSON_IsString(ha1) || strlen(ha1->valuestring) != 64 ||
		    strspn(ha1->valuestring, "0123456789abcdefABCDEF") != 64) {
			set_err(e, -103, "Invalid argument 'ha1'!");
			return false;
		}
		auth_set_ha1(d, ha1->valuestring);
		dev_set_auth(d, true, NULL);
		return true;
	}
	if (!split_method(method, type, sizeof type, &verb))
		goto file;

	if (!strcmp(type, "switch") && (!strcasecmp(verb, "Set") || !strcasecmp(verb, "Toggle"))) {
		struct sim_switch *s;
		const cJSON *on = cJSON_GetObjectItemCaseSensitive(params, "on");
		if (!require_id(params, &id, e))
			return false;
		if (!(s = dev_switch(d, id))) {
			not_found_id(e, id);
			return false;
		}
		if (!strcasecmp(verb, "Set") && !cJSON_IsBool(on)) {
			set_err(e, -103, "Missing required argument 'on'!");
			return false;
		}
		bool want = !strcasecmp(verb, "Set") ? cJSON_IsTrue(on) : !s->on;
		bool was =
		    dev_switch_set(d, s, want, param_num(params, "toggle_after", 0), "HTTP_in");
		*result = cJSON_CreateObject();
		cJSON_AddBoolToObject(*result, "was_on", was);
		return true;
	}
	if (!strcmp(type, "cover") &&
	    (!strcasecmp(verb, "Open") || !strcasecmp(verb, "Close") || !strcasecmp(verb, "Stop") ||
	        !strcasecmp(verb, "GoToPosition"))) {
		struct sim_cover *c;
		if (!require_id(params, &id, e))
			return false;
		if (!(c = dev_cover(d, id))) {
			not_found_id(e, id);
			return false;
		}
		if (!strcasecmp(verb, "Open")) {
			dev_cover_go(d, c, 100, "HTTP_in");
		} else if (!strcasecmp(verb, "Close")) {
			dev_cover_go(d, c, 0, "HTTP_in");
		} else if (!strcasecmp(verb, "Stop")) {
			dev_cover_go(d, c, -1, "HTTP_in");
		} else {
			const cJSON *pos = cJSON_GetObjectItemCaseSensitive(params, "pos");
			const cJSON *rel = cJSON_GetObjectItemCaseSensitive(params, "rel");
			double target;
			if (!c->pos_control) {
				set_err(e, -109, "Cover calibration required!");
				return false;
			}
			if (cJSON_IsNumber(pos))
				target = pos->valuedouble;
			else if (cJSON_IsNumber(rel))
				target = c->pos + rel->valuedouble;
			else {
				set_err(e, -103, "Missing required argument 'pos'!");
				return false;
			}
			if (target < 0)
				target = 0;
			dev_cover_go(d, c, target, "HTTP_in");
		}
		return true; /* result null */
	}
	if ((!strcmp(type, "light") || !strcmp(type, "rgb") || !strcmp(type, "rgbw") ||
	        !strcmp(type, "cct")) &&
	    (!strcasecmp(verb, "Set") || !strcasecmp(verb, "Toggle"))) {
		struct sim_light *l;
		const cJSON *on = cJSON_GetObjectItemCaseSensitive(params, "on");
		const cJSON *bri = cJSON_GetObjectItemCaseSensitive(params, "brightness");
		if (!require_id(params, &id, e))
			return false;
		if (!(l = dev_light(d, type, id))) {
			not_found_id(e, id);
			return false;
		}
		int want = !strcasecmp(verb, "Toggle") ? !l->on
		           : cJSON_IsBool(on)          ? cJSON_IsTrue(on)
		                                       : -1;
		int b = cJSON_IsNumber(bri) ? (int)bri->valuedouble : -1;
		dev_light_set(d, l, want, b, param_num(params, "toggle_after", 0), "HTTP_in");
		return true;
	}
	if (!strcasecmp(verb, "GetStatus") || !strcasecmp(verb, "GetConfig")) {
		bool status = !strcasecmp(verb, "GetStatus");
		cJSON *doc = status ? render_status(d) : render_config(d);
		cJSON *c = component(doc, type, params, e);
		cJSON_Delete(doc);
		if (!c) {
			if (e->code)
				return false;
			goto file;
		}
		*result = c;
		return true;
	}
	if (!strcasecmp(verb, "SetConfig")) {
		const cJSON *config = cJSON_GetObjectItemCaseSensitive(params, "config");
		if (!strcmp(type, "wifi"))
			apmode_gen2_wifi(d, config);
		cJSON *doc = render_config(d);
		char key[64];
		cJSON *c = component(doc, type, params, e);
		if (!c) {
			cJSON_Delete(doc);
			if (e->code)
				return false;
			goto file;
		}
		snprintf(key, sizeof key, "%s", c->string);
		cJSON_Delete(doc);
		if (!cJSON_IsObject(config)) {
			cJSON_Delete(c);
			set_err(e, -103, "Missing required argument 'config'!");
			return false;
		}
		char msg[160];
		int code = 0;
		*result = simcfg_gen2_set(d, key, c, config, &code, msg, sizeof msg);
		cJSON_Delete(c);
		if (*result == NULL) {
			set_err(e, code, "%s", msg);
			return false;
		}
		if (!strcmp(key, "wifi")) {
			doc = render_config(d);
			staticip_check(d,
			    cJSON_GetObjectItemCaseSensitive(
			        cJSON_GetObjectItemCaseSensitive(doc, "wifi"), "sta"),
			    "ipv4mode");
			cJSON_Delete(doc);
		}
		return true;
	}
file:
	for (size_t i = 0; i < d->fx->nfiles; i++) {
		const struct fx_file *f = &d->fx->files[i];
		if (strcasecmp(f->name, method) == 0) {
			*result = cJSON_ParseWithLength(f->text, f->len);
			if (!*result) {
				set_err(e, -114, "Method %s failed: fixture is not JSON", method);
				return false;
			}
			return true;
		}
	}
	set_err(e, 404, "No handler for %s", method);
	return false;
}

static unsigned
http_status_of(int code)
{
	switch (code) {
	case 404:
		return 404;
	case 401:
		return 401;
	case -103:
	case -105:
		return 400;
	default:
		return 500;
	}
}

static void
finish_json(struct dev *d, struct reply *rep, unsigned status, cJSON *o)
{
	size_t len, n;
	char *text = js_print(o, &len);
	char *body = dev_rewrite(d, text, len, &n);
	free(text);
	cJSON_Delete(o);
	reply_json(rep, status, body, n);
}

static cJSON *
error_object(struct rpc_err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "code", e->code);
	cJSON_AddStringToObject(o, "message", e->msg ? e->msg : "");
	return o;
}

struct qctx {
	cJSON *params;
};

static void
query_cb(void *arg, const char *key, const char *value)
{
	struct qctx *q = arg;
	cJSON *v;

	if (!key[0])
		return;
	v = value ? json_parse(value, strlen(value), 0, NULL) : cJSON_CreateNull();
	if (!v)
		v = cJSON_CreateString(value); /* lenient: a bare word is a string */
	js_set(q->params, key, v);
}

static void
handle_method(struct dev *d, struct sim_req *req, const char *method, struct reply *rep)
{
	struct rpc_err e = {0};
	cJSON *params = NULL, *result = NULL;

	if (strcmp(req->method, "POST") == 0 && req->body_len > 0) {
		char *why = NULL;
		params = json_parse(req->body, req->body_len, 0, &why);
		if (!params) {
			set_err(&e, -103, "Bad request body: %s", why ? why : "invalid JSON");
			free(why);
			finish_json(d, rep, 400, error_object(&e));
			free(e.msg);
			return;
		}
	} else {
		struct qctx q = {cJSON_CreateObject()};
		req_args(req, query_cb, &q);
		params = q.params;
	}
	if (call(d, method, params, &result, &e))
		finish_json(d, rep, 200, result ? result : cJSON_CreateNull());
	else
		finish_json(d, rep, http_status_of(e.code), error_object(&e));
	cJSON_Delete(params);
	free(e.msg);
}

static void
handle_frame(struct dev *d, struct sim_req *req, struct reply *rep)
{
	cJSON *f = req->body ? json_parse(req->body, req->body_len, 0, NULL) : NULL;
	cJSON *out = cJSON_CreateObject(), *result = NULL;
	struct rpc_err e = {0};
	const char *method = js_str(f, "method"), *src = js_str(f, "src");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(f, "params");

	if (cJSON_IsNumber(id) || cJSON_IsString(id))
		cJSON_AddItemToObject(out, "id", cJSON_Duplicate(id, 0));
	cJSON_AddStringToObject(out, "src", d->id);
	if (src)
		cJSON_AddStringToObject(out, "dst", src);
	if (!cJSON_IsObject(f) || !method) {
		set_err(&e, -103, "Bad request frame: %s",
		    cJSON_IsObject(f) ? "no method" : "not JSON");
	} else if (d->auth && strcasecmp(method, "Shelly.GetDeviceInfo") != 0 &&
	           !req_header(req, "Authorization") &&
	           !auth_check_frame(d, cJSON_GetObjectItemCaseSensitive(f, "auth"))) {
		char *ch = auth_frame_challenge(d);
		set_err(&e, 401, "%s", ch);
		free(ch);
	} else if (call(d, method, params, &result, &e)) {
		cJSON_AddItemToObject(out, "result", result ? result : cJSON_CreateNull());
	}
	if (e.code)
		cJSON_AddItemToObject(out, "error", error_object(&e));
	cJSON_Delete(f);
	free(e.msg);
	finish_json(d, rep, 200, out);
}

void
gen2_handle(struct dev *d, struct sim_req *req, struct reply *rep)
{
	const char *m;

	if (!strcmp(req->path, "/shelly")) {
		finish_json(d, rep, 200, render_shelly(d, false));
	} else if (!strcmp(req->path, "/rpc") && !strcmp(req->method, "POST")) {
		handle_frame(d, req, rep);
	} else if ((m = method_of(req->path)) && m[0]) {
		handle_method(d, req, m, rep);
	} else {
		reply_set(rep, 404, "text/plain", xstrdup("Not Found"), 9);
	}
}
