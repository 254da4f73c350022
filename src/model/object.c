#include "model/object.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fields.h"
#include "util/xmalloc.h"
#include "util/json.h"

static void
add_num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_int(cJSON *o, const char *key, long long v, int known)
{
	if (known)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_tri(cJSON *o, const char *key, int v)
{
	if (v == 0 || v == 1)
		cJSON_AddBoolToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_str(cJSON *o, const char *key, const char *s);
static void add_errors(cJSON *o, const char *list);

/* The fields of a component (model/fields.h), in table order. */
static void
add_fields(cJSON *o, enum field_comp c, const void *comp)
{
	size_t n;
	const struct field *f = fields_of(c, &n);

	for (size_t i = 0; i < n; i++) {
		double v = field_get(&f[i], comp);
		switch (f[i].type) {
		case FIELD_TRI:
			add_tri(o, f[i].key, isnan(v) ? -1 : (int)v);
			break;
		case FIELD_TEXT:
			add_str(o, f[i].key, field_text(&f[i], comp));
			break;
		case FIELD_LIST:
			add_errors(o, field_text(&f[i], comp));
			break;
		default:
			add_num(o, f[i].key, v);
			break;
		}
	}
}

/* "" and NULL are unknown. */
static void
add_str(cJSON *o, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* "a,b" -> ["a","b"]; "" -> []. */
static void
add_errors(cJSON *o, const char *list)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "errors");
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");
		char *one = xstrndup(p, n);

		if (n > 0)
			cJSON_AddItemToArray(arr, cJSON_CreateString(one));
		free(one);
		p += n;
		if (*p == ',')
			p++;
	}
}

static cJSON *
comp_obj(enum field_comp c, const void *comp)
{
	cJSON *o = cJSON_CreateObject();

	add_fields(o, c, comp);
	return o;
}

static cJSON *
cover_obj(const struct dev_cover *c)
{
	cJSON *o = comp_obj(FIELD_COVER, c);

	cJSON_AddStringToObject(o, "state", cover_state_name(c->state));
	return o;
}

static cJSON *
light_obj(const struct dev_light *l)
{
	cJSON *o = comp_obj(FIELD_LIGHT, l);

	if (l->rgb[0] >= 0 && l->rgb[1] >= 0 && l->rgb[2] >= 0)
		cJSON_AddItemToObject(o, "rgb", cJSON_CreateIntArray(l->rgb, 3));
	else
		cJSON_AddNullToObject(o, "rgb");
	return o;
}

static cJSON *
meter_obj(const struct dev_meter *m)
{
	cJSON *o = cJSON_CreateObject(), *phases;

	cJSON_AddNumberToObject(o, "id", m->id);
	add_str(o, "kind", m->kind);
	add_str(o, "name", m->name);
	add_fields(o, FIELD_METER, m);
	phases = cJSON_AddArrayToObject(o, "phases");
	for (int i = 0; i < m->nphases && i < DEVICE_MAX_PHASES; i++) {
		const struct dev_phase *p = &m->phases[i];
		cJSON *po = cJSON_CreateObject();
		char label[2] = {p->label, '\0'};

		add_str(po, "phase", label);
		add_fields(po, FIELD_PHASE, p);
		cJSON_AddItemToArray(phases, po);
	}
	return o;
}

static cJSON *
sensor_obj(const struct dev_sensors *s)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	arr = cJSON_AddArrayToObject(o, "temperature");
	for (int i = 0; i < s->ntemps && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, comp_obj(FIELD_TEMPERATURE, &s->temps[i]));
	arr = cJSON_AddArrayToObject(o, "humidity");
	for (int i = 0; i < s->nhums && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, comp_obj(FIELD_HUMIDITY, &s->hums[i]));
	arr = cJSON_AddArrayToObject(o, "thermostat");
	for (int i = 0; i < s->nthermostats && i < DEVICE_MAX_COMPONENTS; i++) {
		const struct dev_thermostat *t = &s->thermostats[i];
		cJSON *to = cJSON_CreateObject();

		cJSON_AddNumberToObject(to, "id", t->id);
		add_tri(to, "enable", t->enable);
		add_tri(to, "output", t->output);
		add_num(to, "target_c", t->target_c);
		add_num(to, "current_c", t->current_c);
		add_num(to, "valve_pos_pct", t->valve_pos_pct);
		cJSON_AddItemToArray(arr, to);
	}
	add_num(o, "illuminance_lux", s->illuminance_lux);
	add_str(o, "illumination", s->illumination);
	add_num(o, "battery_pct", s->battery_pct);
	add_num(o, "battery_v", s->battery_v);
	add_tri(o, "external_power", s->external_power);
	add_tri(o, "motion", s->motion);
	add_tri(o, "vibration", s->vibration);
	add_tri(o, "flood", s->flood);
	add_tri(o, "smoke", s->smoke);
	add_tri(o, "door_open", s->door_open);
	add_num(o, "tilt_deg", s->tilt_deg);
	add_num(o, "gas_ppm", s->gas_ppm);
	add_str(o, "gas_alarm", s->gas_alarm);
	add_str(o, "gas_sensor", s->gas_sensor);
	add_str(o, "valve", s->valve);
	return o;
}

static cJSON *
components_obj(const struct device_status *st)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	arr = cJSON_AddArrayToObject(o, "switch");
	for (int i = 0; i < st->nswitches && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, comp_obj(FIELD_SWITCH, &st->switches[i]));
	arr = cJSON_AddArrayToObject(o, "cover");
	for (int i = 0; i < st->ncovers && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, cover_obj(&st->covers[i]));
	arr = cJSON_AddArrayToObject(o, "light");
	for (int i = 0; i < st->nlights && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, light_obj(&st->lights[i]));
	arr = cJSON_AddArrayToObject(o, "input");
	for (int i = 0; i < st->ninputs && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, comp_obj(FIELD_INPUT, &st->inputs[i]));
	arr = cJSON_AddArrayToObject(o, "meter");
	for (int i = 0; i < st->nmeters && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, meter_obj(&st->meters[i]));
	cJSON_AddItemToObject(o, "sensor", sensor_obj(&st->sensors));
	return o;
}

static cJSON *
sys_obj(const struct dev_sys *s)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "mac", s->mac);
	add_num(o, "uptime_s", s->uptime_s);
	add_num(o, "unixtime", s->unixtime);
	add_num(o, "ram_free_bytes", s->ram_free);
	add_num(o, "ram_total_bytes", s->ram_total);
	add_num(o, "fs_free_bytes", s->fs_free);
	add_num(o, "fs_total_bytes", s->fs_total);
	add_num(o, "temperature_c", s->device_temperature_c);
	add_tri(o, "overtemp", s->overtemp);
	add_tri(o, "update_available", s->update_available);
	add_str(o, "update_version", s->update_version);
	add_str(o, "beta_version", s->beta_version);
	add_str(o, "update_status", s->update_status);
	add_num(o, "cfg_rev", s->cfg_rev);
	add_num(o, "cfg_changed_cnt", s->cfg_changed_cnt);
	add_tri(o, "restart_required", s->restart_required);
	add_num(o, "wakeup_period_s", s->wakeup_period_s);
	return o;
}

void
device_view_init(struct device_view *v)
{
	memset(v, 0, sizeof *v);
	v->state = DEVICE_OFFLINE;
}

cJSON *
device_to_cjson(const struct device_view *v)
{
	cJSON *o = cJSON_CreateObject(), *x;
	const struct device_ident *id = v->ident;
	const struct device_status *st = v->status;
	const char *name;

	add_str(o, "id", id ? id->id : NULL);
	add_str(o, "mac", id ? id->mac : NULL);
	add_int(o, "gen", id ? id->gen : 0, id != NULL && id->gen > 0);
	add_str(o, "model", id ? id->model : NULL);
	add_str(o, "model_name", id ? id->model_name : NULL);
	add_str(o, "app", id ? id->app : NULL);
	add_str(o, "fw", id ? id->fw : NULL);
	add_str(o, "fw_version", id ? id->fw_version : NULL);
	add_str(o, "profile", id ? id->profile : NULL);
	add_str(o, "host", v->host);
	add_int(o, "port", v->port, v->port > 0 && v->port < 65536);
	add_str(o, "scheme", v->scheme);
	name = v->name != NULL && *v->name != '\0' ? v->name : (id ? id->name : NULL);
	add_str(o, "name", name);
	add_tri(o, "auth_en", id ? id->auth_en : DEV_UNKNOWN);
	add_tri(o, "sleep_mode", id ? id->sleep_mode : DEV_UNKNOWN);
	cJSON_AddStringToObject(o, "state", device_state_name(v->state));
	add_str(o, "error", v->error);
	add_int(o, "last_seen", v->last_seen, v->last_seen > 0);

	if (st == NULL) {
		cJSON_AddNullToObject(o, "components");
		cJSON_AddNullToObject(o, "wifi");
		cJSON_AddNullToObject(o, "eth");
		cJSON_AddNullToObject(o, "sys");
		cJSON_AddNullToObject(o, "cloud");
		cJSON_AddNullToObject(o, "mqtt");
		return o;
	}
	cJSON_AddItemToObject(o, "components", components_obj(st));
	x = cJSON_AddObjectToObject(o, "wifi");
	add_str(x, "ssid", st->wifi.ssid);
	add_str(x, "ip", st->wifi.ip);
	add_num(x, "rssi_dbm", st->wifi.rssi_dbm);
	add_tri(x, "connected", st->wifi.connected);
	if (st->has_eth) {
		x = cJSON_AddObjectToObject(o, "eth");
		add_str(x, "ip", st->eth_ip);
	} else {
		cJSON_AddNullToObject(o, "eth");
	}
	cJSON_AddItemToObject(o, "sys", sys_obj(&st->sys));
	x = cJSON_AddObjectToObject(o, "cloud");
	add_tri(x, "enabled", st->cloud_enabled);
	add_tri(x, "connected", st->cloud_connected);
	x = cJSON_AddObjectToObject(o, "mqtt");
	add_tri(x, "connected", st->mqtt_connected);
	return o;
}

char *
device_to_json(const struct device_view *v, int pretty)
{
	cJSON *o = device_to_cjson(v);
	char *text = json_print(o, pretty);
	char *out;

	cJSON_Delete(o);
	if (text == NULL) {
		fprintf(stderr, "shelly-tui: out of memory printing JSON\n");
		abort();
	}
	out = xstrdup(text);
	cJSON_free(text);
	return out;
}
