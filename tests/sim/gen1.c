/*
 * Gen1 HTTP API: /shelly, /status, /settings (+ setters, /settings/login, /settings/<kind>/N),
 * /relay/N, /roller/N, /light|color|white/N, /ota, /reboot, and every other fixture file at
 * the path in its name (cit-d.json -> /cit/d). Documents are the fixture's, with live values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/loop.h"
#include "util/xmalloc.h"

bool
gen1_protected(const char *path)
{
	return strcmp(path, "/shelly") != 0;
}

static void
finish(struct dev *d, struct reply *rep, unsigned status, cJSON *o)
{
	size_t len, out_len;
	char *text = js_print(o, &len);
	char *body = dev_rewrite(d, text, len, &out_len);

	free(text);
	cJSON_Delete(o);
	reply_json(rep, status, body, out_len);
}

static void
not_found(struct reply *rep)
{
	reply_set(rep, 404, "text/plain", xstrdup("Not Found"), 9);
}

static void
bad_request(struct reply *rep, const char *msg)
{
	reply_set(rep, 400, "text/plain", xstrdup(msg), strlen(msg));
}

static int64_t
unixtime(void)
{
	return loop_wall_ms() / 1000;
}

static void
hhmm(char out[8])
{
	time_t t = (time_t)unixtime();
	struct tm tm;
	localtime_r(&t, &tm);
	snprintf(out, 8, "%02d:%02d", tm.tm_hour, tm.tm_min);
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

static void
timer_fields(cJSON *o, uint64_t flip_at, uint64_t started, uint64_t now)
{
	bool has = flip_at > now;
	js_set_bool_if(o, "has_timer", has);
	js_set_num_if(
	    o, "timer_started", has ? (double)(unixtime() - (int64_t)((now - started) / 1000)) : 0);
	js_set_num_if(o, "timer_duration", has ? (double)((flip_at - started) / 1000) : 0);
	js_set_num_if(o, "timer_remaining", has ? (double)((flip_at - now + 999) / 1000) : 0);
}

static void
render_relay(struct sim_switch *s, cJSON *r, uint64_t now)
{
	js_set(r, "ison", cJSON_CreateBool(s->on));
	timer_fields(r, s->flip_at, s->flip_started, now);
	js_set_str_if(r, "source", s->source);
}

static void
render_meter(cJSON *m, double power, double energy_wh, bool energy)
{
	if (!cJSON_IsObject(m))
		return;
	js_set_num_if(m, "power", power);
	if (energy)
		js_set_num_if(m, "total", (double)(int64_t)(energy_wh * 60.0));
	js_set_num_if(m, "timestamp", (double)unixtime());
}

static void
render_roller(struct dev *d, struct sim_cover *c, cJSON *r, uint64_t now)
{
	js_set(r, "state", cJSON_CreateString(cover_state_gen1(c)));
	js_set_num_if(r, "power", cv_power(d, c, now));
	if (c->pos_control)
		js_set_num_if(r, "current_pos", (double)(int)(c->pos + 0.5));
	js_set_str_if(r, "last_direction", c->last_dir < 0 ? "close" : "open");
	js_set_str_if(r, "source", c->source);
	js_set_bool_if(r, "positioning", c->pos_control);
	js_set_str_if(r, "stop_reason", "normal");
}

static void
render_light(struct dev *d, struct sim_light *l, cJSON *o, uint64_t now)
{
	js_set(o, "ison", cJSON_CreateBool(l->on));
	js_set_num_if(o, l->gain_key ? "gain" : "brightness", l->brightness);
	js_set_num_if(o, "power", lt_power(d, l, now));
	timer_fields(o, l->flip_at, l->flip_started, now);
	js_set_str_if(o, "source", l->source);
}

static cJSON *
render_status(struct dev *d)
{
	cJSON *st = parse_or_empty(d->fx->status);
	uint64_t now = loop_now_ms(d->sim->loop);
	cJSON *relays = cJSON_GetObjectItemCaseSensitive(st, "relays");
	cJSON *meters = cJSON_GetObjectItemCaseSensitive(st, "meters");
	cJSON *rollers = cJSON_GetObjectItemCaseSensitive(st, "rollers");
	cJSON *lights = cJSON_GetObjectItemCaseSensitive(st, "lights");
	char ip[16], t[8];

	dev_advance(d, now);
	addr_str(d->addr, ip);
	hhmm(t);
	js_set_str_if(cJSON_GetObjectItemCaseSensitive(st, "wifi_sta"), "ip", ip);
	js_set_str_if(st, "time", t);
	js_set_num_if(st, "unixtime", (double)unixtime());
	js_set_num_if(st, "serial", (double)d->serial);
	js_set_str_if(st, "mac", d->mac);
	js_set_num_if(st, "cfg_changed_cnt", d->cfg_rev);
	js_set_num_if(st, "uptime", (double)dev_uptime_s(d, now));
	js_set_bool_if(st, "has_update", d->upd_stable != NULL);
	cJSON *upd = cJSON_GetObjectItemCaseSensitive(st, "update");
	if (cJSON_IsObject(upd)) {
		js_set_str_if(upd, "status",
		    d->pending_update ? "updating"
		    : d->upd_stable   ? "pending"
		                      : "idle");
		js_set_bool_if(upd, "has_update", d->upd_stable != NULL);
		js_set_str_if(upd, "old_version", d->fw);
		js_set_str_if(upd, "new_version", d->upd_stable ? d->upd_stable : d->fw);
	}
	for (size_t i = 0; i < d->nsw; i++) {
		struct sim_switch *s = &d->sw[i];
		render_relay(s, cJSON_GetArrayItem(relays, s->id), now);
		if (s->has_power)
			render_meter(cJSON_GetArrayItem(meters, s->id), sw_power(d, s, now),
			    s->energy_wh, s->has_energy);
	}
	for (size_t i = 0; i < d->ncv; i++)
		render_roller(d, &d->cv[i], cJSON_GetArrayItem(rollers, d->cv[i].id), now);
	for (size_t i = 0; i < d->nlt; i++) {
		struct sim_light *l = &d->lt[i];
		render_light(d, l, cJSON_GetArrayItem(lights, l->id), now);
		if (l->has_energy)
			render_meter(cJSON_GetArrayItem(meters, l->id), lt_power(d, l, now),
			    l->energy_wh, true);
	}
	return st;
}

char *
gen1_render_status(struct dev *d, size_t *len)
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
render_shelly(struct dev *d)
{
	cJSON *o = parse_or_empty(d->fx->shelly);
	js_set(o, "mac", cJSON_CreateString(d->mac));
	js_set(o, "auth", cJSON_CreateBool(d->auth));
	js_set_str_if(o, "fw", d->fw);
	return o;
}

static cJSON *
render_settings(struct dev *d)
{
	cJSON *o = parse_or_empty(d->fx->settings);
	cJSON *patch = d->patch ? cJSON_Parse(d->patch) : NULL;

	if (cJSON_IsObject(patch))
		js_merge(o, patch);
	cJSON_Delete(patch);

	cJSON *dev = cJSON_GetObjectItemCaseSensitive(o, "device");
	cJSON *login = cJSON_GetObjectItemCaseSensitive(o, "login");
	cJSON *relays = cJSON_GetObjectItemCaseSensitive(o, "relays");
	cJSON *lights = cJSON_GetObjectItemCaseSensitive(o, "lights");
	js_set_str_if(dev, "mac", d->mac);
	js_set_str_if(o, "fw", d->fw);
	js_set_num_if(o, "unixtime", (double)unixtime());
	if (cJSON_IsObject(login)) {
		js_set(login, "enabled", cJSON_CreateBool(d->auth));
		js_set_str_if(login, "username", d->user[0] ? d->user : "admin");
		/* v1.5 firmware echoed the password; keep the key's presence, never the fixture's.
		 */
		if (js_has(login, "password"))
			js_set(login, "password",
			    d->password ? cJSON_CreateString(d->password) : cJSON_CreateNull());
	}
	for (size_t i = 0; i < d->nsw; i++)
		js_set_bool_if(cJSON_GetArrayItem(relays, d->sw[i].id), "ison", d->sw[i].on);
	for (size_t i = 0; i < d->nlt; i++) {
		cJSON *l = cJSON_GetArrayItem(lights, d->lt[i].id);
		js_set_bool_if(l, "ison", d->lt[i].on);
		js_set_num_if(l, d->lt[i].gain_key ? "gain" : "brightness", d->lt[i].brightness);
	}
	return o;
}

/* Applies query setters (tests/sim/config.c) to the settings, to group or to container[index].
 * Returns 0, or -1 with rep filled (refused value, injected failure). */
static int
apply_setters(struct dev *d, struct sim_req *req, const char *group, const char *container,
    int index, struct reply *rep)
{
	cJSON *doc = render_settings(d);
	int rc = simcfg_gen1_set(d, req, doc, group, container, index, rep);

	cJSON_Delete(doc);
	return rc;
}

/* /settings/sta, /settings/sta1, /settings/ap, /settings/cloud: set, answer the object. */
static void
do_settings_group(struct dev *d, struct sim_req *req, const char *group, struct reply *rep)
{
	cJSON *set;

	if (apply_setters(d, req, group, NULL, 0, rep) != 0)
		return;
	set = render_settings(d);
	cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(set, group);
	if (strcmp(group, "wifi_sta") == 0)
		staticip_check(d, o, "ipv4_method");
	cJSON_Delete(set);
	finish(d, rep, 200, o ? o : cJSON_CreateObject());
}

/* "/relay/3" -> 3 (kind "relay"); -1 if the path is not "/<kind>/<N>". */
static int
path_index(const char *path, const char *kind)
{
	size_t kl = strlen(kind);
	char *end;
	long v;

	if (path[0] != '/' || strncmp(path + 1, kind, kl) != 0 || path[1 + kl] != '/')
		return -1;
	if (!isdigit((unsigned char)path[2 + kl]))
		return -1;
	v = strtol(path + 2 + kl, &end, 10);
	if (*end || v < 0 || v > 1000)
		return -1;
	return (int)v;
}

static double
arg_num(struct sim_req *req, const char *key, double def)
{
	const char *v = req_arg(req, key);
	char *end;
	double n;

	if (!v || !v[0])
		return def;
	n = strtod(v, &end);
	return *end ? def : n;
}

static int
turn_arg(struct sim_req *req, bool current, struct reply *rep)
{
	const char *turn = req_arg(req, "turn");

	if (!turn)
		return current;
	if (!strcmp(turn, "on"))
		return 1;
	if (!strcmp(turn, "off"))
		return 0;
	if (!strcmp(turn, "toggle"))
		return !current;
	bad_request(rep, "Bad turn!");
	return -1;
}

static void
do_relay(struct dev *d, struct sim_req *req, int idx, struct reply *rep)
{
	struct sim_switch *s = dev_switch(d, idx);
	uint64_t now = loop_now_ms(d->sim->loop);
	cJSON *st, *r;
	int on;

	if (!s) {
		not_found(rep);
		return;
	}
	if ((on = turn_arg(req, s->on, rep)) < 0)
		return;
	if (req_arg(req, "turn"))
		dev_switch_set(d, s, on, arg_num(req, "timer", 0), "http");
	st = render_status(d);
	r = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(st, "relays"), idx);
	cJSON_Delete(st);
	if (!r)
		r = cJSON_CreateObject();
	render_relay(s, r, now);
	finish(d, rep, 200, r);
}

static void
do_roller(struct dev *d, struct sim_req *req, int idx, struct reply *rep)
{
	struct sim_cover *c = dev_cover(d, idx);
	const char *go = req_arg(req, "go");
	cJSON *st, *r;

	if (!c) {
		not_found(rep);
		return;
	}
	if (go) {
		if (!strcmp(go, "open"))
			dev_cover_go(d, c, 100, "http");
		else if (!strcmp(go, "close"))
			dev_cover_go(d, c, 0, "http");
		else if (!strcmp(go, "stop"))
			dev_cover_go(d, c, -1, "http");
		else if (!strcmp(go, "to_pos")) {
			double pos = arg_num(req, "roller_pos", -1);
			if (!c->pos_control) {
				bad_request(rep, "Not calibrated!");
				return;
			}
			if (pos < 0 || pos > 100) {
				bad_request(rep, "Bad roller_pos!");
				return;
			}
			dev_cover_go(d, c, pos, "http");
		} else {
			bad_request(rep, "Bad go!");
			return;
		}
	}
	st = render_status(d);
	r = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(st, "rollers"), idx);
	cJSON_Delete(st);
	if (!r)
		r = cJSON_CreateObject();
	render_roller(d, c, r, loop_now_ms(d->sim->loop));
	finish(d, rep, 200, r);
}

static void
do_light(struct dev *d, struct sim_req *req, int idx, struct reply *rep)
{
	struct sim_light *l = dev_light(d, NULL, idx);
	cJSON *st, *o;
	int on, bri;

	if (!l) {
		not_found(rep);
		return;
	}
	if ((on = turn_arg(req, l->on, rep)) < 0)
		return;
	bri = (int)arg_num(req, l->gain_key ? "gain" : "brightness", -1);
	if (bri < 0)
		bri = (int)arg_num(req, "brightness", -1);
	if (req_arg(req, "turn") || bri >= 0)
		dev_light_set(
		    d, l, req_arg(req, "turn") ? on : -1, bri, arg_num(req, "timer", 0), "http");
	st = render_status(d);
	o = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(st, "lights"), idx);
	cJSON_Delete(st);
	if (!o)
		o = cJSON_CreateObject();
	render_light(d, l, o, loop_now_ms(d->sim->loop));
	finish(d, rep, 200, o);
}

static void
do_ota(struct dev *d, struct sim_req *req, struct reply *rep)
{
	const char *update = req_arg(req, "update"), *beta = req_arg(req, "beta");
	bool want = update && (!strcmp(update, "true") || !strcmp(update, "1"));
	bool want_beta = beta && (!strcmp(beta, "true") || !strcmp(beta, "1"));
	/* Until /ota/check the device answers from what it last knew: no offer. */
	const char *stable = d->ota_unchecked ? NULL : d->upd_stable;
	const char *beta_v = d->ota_unchecked ? NULL : d->upd_beta;
	cJSON *o = cJSON_CreateObject();

	/* ?update=true installs the offered stable release, ?beta=true the offered beta; with
	 * nothing offered the device stays idle. */
	if (((want && stable) || (want_beta && beta_v)) && !d->pending_update) {
		if (want_beta) {
			free(d->upd_stable);
			d->upd_stable = NULL;
			stable = NULL;
		}
		d->pending_update = true;
		dev_reboot(d, 1000);
	}
	cJSON_AddStringToObject(o, "status",
	    d->pending_update ? "updating"
	    : stable          ? "pending"
	                      : "idle");
	cJSON_AddBoolToObject(o, "has_update", stable != NULL);
	cJSON_AddStringToObject(o, "new_version", stable ? stable : (d->fw ? d->fw : ""));
	cJSON_AddStringToObject(o, "old_version", d->fw ? d->fw : "");
	if (beta_v)
		cJSON_AddStringToObject(o, "beta_version", beta_v);
	finish(d, rep, 200, o);
}

static void
do_login(struct dev *d, struct sim_req *req, struct reply *rep)
{
	const char *en = req_arg(req, "enabled");
	const char *user = req_arg(req, "username");
	const char *pw = req_arg(req, "password");
	cJSON *o;

	if (user && user[0])
		snprintf(d->user, sizeof d->user, "%s", user);
	if (en) {
		bool on = !strcmp(en, "1") || !strcmp(en, "true");
		if (on && !pw && !d->password) {
			bad_request(rep, "password required");
			return;
		}
		dev_set_auth(d, on, pw);
		if (user && user[0])
			snprintf(d->user, sizeof d->user, "%s", user);
	}
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "enabled", d->auth);
	cJSON_AddBoolToObject(o, "unprotected", false);
	cJSON_AddStringToObject(o, "username", d->user[0] ? d->user : "admin");
	finish(d, rep, 200, o);
}

static void
do_settings_item(
    struct dev *d, struct sim_req *req, const char *container, int idx, struct reply *rep)
{
	cJSON *set, *item;

	set = render_settings(d);
	if (!cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(set, container), idx)) {
		cJSON_Delete(set);
		not_found(rep);
		return;
	}
	cJSON_Delete(set);
	if (apply_setters(d, req, NULL, container, idx, rep) != 0)
		return;
	set = render_settings(d);
	item = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(set, container), idx);
	cJSON_Delete(set);
	finish(d, rep, 200, item);
}

void
gen1_handle(struct dev *d, struct sim_req *req, struct reply *rep)
{
	const char *p = req->path;
	int idx;

	if (!strcmp(p, "/shelly")) {
		finish(d, rep, 200, render_shelly(d));
	} else if (!strcmp(p, "/status")) {
		finish(d, rep, 200, render_status(d));
	} else if (!strcmp(p, "/settings")) {
		if (apply_setters(d, req, NULL, NULL, 0, rep) == 0)
			finish(d, rep, 200, render_settings(d));
	} else if (!strcmp(p, "/settings/sta") || !strcmp(p, "/settings/sta1") ||
	           !strcmp(p, "/settings/ap")) {
		char group[16];
		if (!strcmp(p, "/settings/sta"))
			apmode_gen1_sta(d, req);
		snprintf(group, sizeof group, "wifi_%s", p + 10);
		do_settings_group(d, req, group, rep);
	} else if (!strcmp(p, "/settings/cloud")) {
		do_settings_group(d, req, "cloud", rep);
	} else if (!strcmp(p, "/settings/login")) {
		do_login(d, req, rep);
	} else if ((idx = path_index(p, "settings/relay")) >= 0) {
		do_settings_item(d, req, "relays", idx, rep);
	} else if ((idx = path_index(p, "settings/roller")) >= 0) {
		do_settings_item(d, req, "rollers", idx, rep);
	} else if ((idx = path_index(p, "settings/light")) >= 0 ||
	           (idx = path_index(p, "settings/color")) >= 0 ||
	           (idx = path_index(p, "settings/white")) >= 0) {
		do_settings_item(d, req, "lights", idx, rep);
	} else if ((idx = path_index(p, "relay")) >= 0) {
		do_relay(d, req, idx, rep);
	} else if ((idx = path_index(p, "roller")) >= 0) {
		do_roller(d, req, idx, rep);
	} else if ((idx = path_index(p, "light")) >= 0 || (idx = path_index(p, "color")) >= 0 ||
	           (idx = path_index(p, "white")) >= 0) {
		do_light(d, req, idx, rep);
	} else if (!strcmp(p, "/ota")) {
		do_ota(d, req, rep);
	} else if (!strcmp(p, "/ota/check")) { /* look for an update now */
		cJSON *o = cJSON_CreateObject();
		d->ota_checks++;
		d->ota_unchecked = false;
		cJSON_AddStringToObject(o, "status", "ok");
		finish(d, rep, 200, o);
	} else if (!strcmp(p, "/reboot")) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", true);
		dev_reboot(d, 100);
		finish(d, rep, 200, o);
	} else {
		for (size_t i = 0; i < d->fx->nfiles; i++) {
			const struct fx_file *f = &d->fx->files[i];
			if (strcmp(f->name, p) == 0) {
				size_t n;
				char *body = dev_rewrite(d, f->text, f->len, &n);
				reply_json(rep, 200, body, n);
				return;
			}
		}
		not_found(rep);
	}
}
