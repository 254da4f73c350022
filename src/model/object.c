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

static void add_errors(cJSON *o, const char *list);

/* The n fields f of the struct at comp, in table order. */
static void
add_table(cJSON *o, const struct field *f, size_t n, const void *comp)
{
	for (size_t i = 0; i < n; i++) {
		double v = field_get(&f[i], comp);
		switch (f[i].type) {
		case FIELD_TRI:
			add_tri(o, f[i].key, isnan(v) ? -1 : (int)v);
			break;
		case FIELD_TEXT:
			json_add_text(o, f[i].key, field_text(&f[i], comp));
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

/* The fields of a component (model/fields.h), in table order. */
static void
add_fields(cJSON *o, enum field_comp c, const void *comp)
{
	size_t n;
	const struct field *f = fields_of(c, &n);

	add_table(o, f, n, comp);
}

/*
 * The members of the device object's "sensor", "wifi", "eth", "sys", "cloud" and "mqtt"
 * objects that are neither printed nor metrics, in their JSON order.
 */
static const struct part {
	const char *in;
	struct field f;
} status_parts[] = {
#define PART(in, key, type, m)                                      \
	{                                                           \
		in,                                                 \
		{                                                   \
			key, NULL, "", 0, FM_NONE, 1, FIELD_##type, \
			    offsetof(struct device_status, m)       \
		}                                                   \
	}
    PART("sensor", "illuminance_lux", REAL, sensors.illuminance_lux),
    PART("sensor", "illumination", TEXT, sensors.illumination),
    PART("sensor", "battery_pct", REAL, sensors.battery_pct),
    PART("sensor", "battery_v", REAL, sensors.battery_v),
    PART("sensor", "external_power", TRI, sensors.external_power),
    PART("sensor", "motion", TRI, sensors.motion),
    PART("sensor", "vibration", TRI, sensors.vibration),
    PART("sensor", "flood", TRI, sensors.flood),
    PART("sensor", "smoke", TRI, sensors.smoke),
    PART("sensor", "door_open", TRI, sensors.door_open),
    PART("sensor", "tilt_deg", REAL, sensors.tilt_deg),
    PART("sensor", "gas_ppm", REAL, sensors.gas_ppm),
    PART("sensor", "gas_alarm", TEXT, sensors.gas_alarm),
    PART("sensor", "gas_sensor", TEXT, sensors.gas_sensor),
    PART("sensor", "valve", TEXT, sensors.valve),
    PART("wifi", "ssid", TEXT, wifi.ssid),
    PART("wifi", "ip", TEXT, wifi.ip),
    PART("wifi", "rssi_dbm", REAL, wifi.rssi_dbm),
    PART("wifi", "connected", TRI, wifi.connected),
    PART("sys", "mac", TEXT, sys.mac),
    PART("sys", "uptime_s", REAL, sys.uptime_s),
    PART("sys", "unixtime", REAL, sys.unixtime),
    PART("sys", "ram_free_bytes", REAL, sys.ram_free),
    PART("sys", "ram_total_bytes", REAL, sys.ram_total),
    PART("sys", "fs_free_bytes", REAL, sys.fs_free),
    PART("sys", "fs_total_bytes", REAL, sys.fs_total),
    PART("sys", "temperature_c", REAL, sys.device_temperature_c),
    PART("sys", "overtemp", TRI, sys.overtemp),
    PART("sys", "update_available", TRI, sys.update_available),
    PART("sys", "update_version", TEXT, sys.update_version),
    PART("sys", "beta_version", TEXT, sys.beta_version),
    PART("sys", "update_status", TEXT, sys.update_status),
    PART("sys", "cfg_rev", REAL, sys.cfg_rev),
    PART("sys", "cfg_changed_cnt", REAL, sys.cfg_changed_cnt),
    PART("sys", "restart_required", TRI, sys.restart_required),
    PART("sys", "wakeup_period_s", REAL, sys.wakeup_period_s),
    PART("cloud", "enabled", TRI, cloud_enabled),
    PART("cloud", "connected", TRI, cloud_connected),
    PART("mqtt", "connected", TRI, mqtt_connected),
    PART("eth", "ip", TEXT, eth_ip),
#undef PART
};

/* The members of object in ("sys") from st. */
static void
add_part(cJSON *o, const char *in, const struct device_status *st)
{
	for (size_t i = 0; i < sizeof status_parts / sizeof status_parts[0]; i++)
		if (strcmp(status_parts[i].in, in) == 0)
			add_table(o, &status_parts[i].f, 1, st);
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
cover_obj(enum field_comp k, const void *comp)
{
	const struct dev_cover *c = comp;
	cJSON *o = comp_obj(k, c);

	cJSON_AddStringToObject(o, "state", cover_state_name(c->state));
	return o;
}

static cJSON *
light_obj(enum field_comp k, const void *comp)
{
	const struct dev_light *l = comp;
	cJSON *o = comp_obj(k, l);

	if (l->rgb[0] >= 0 && l->rgb[1] >= 0 && l->rgb[2] >= 0)
		cJSON_AddItemToObject(o, "rgb", cJSON_CreateIntArray(l->rgb, 3));
	else
		cJSON_AddNullToObject(o, "rgb");
	return o;
}

static cJSON *
meter_obj(enum field_comp k, const void *comp)
{
	const struct dev_meter *m = comp;
	cJSON *o = cJSON_CreateObject(), *phases;

	cJSON_AddNumberToObject(o, "id", m->id);
	json_add_text(o, "kind", m->kind);
	json_add_text(o, "name", m->name);
	add_fields(o, k, m);
	phases = cJSON_AddArrayToObject(o, "phases");
	for (int i = 0; i < m->nphases && i < DEVICE_MAX_PHASES; i++) {
		const struct dev_phase *p = &m->phases[i];
		cJSON *po = cJSON_CreateObject();
		char label[2] = {p->label, '\0'};

		json_add_text(po, "phase", label);
		add_fields(po, FIELD_PHASE, p);
		cJSON_AddItemToArray(phases, po);
	}
	return o;
}

/* The list key of the n components at items (size bytes each), each built by obj(c, item). */
static void
add_list(cJSON *o, const char *key, enum field_comp c, const void *items, int n, size_t size,
    cJSON *(*obj)(enum field_comp, const void *))
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);

	for (int i = 0; i < n && i < DEVICE_MAX_COMPONENTS; i++)
		cJSON_AddItemToArray(arr, obj(c, (const char *)items + (size_t)i * size));
}

static cJSON *
sensor_obj(const struct device_status *st)
{
	const struct dev_sensors *s = &st->sensors;
	cJSON *o = cJSON_CreateObject();

	add_list(
	    o, "temperature", FIELD_TEMPERATURE, s->temps, s->ntemps, sizeof s->temps[0], comp_obj);
	add_list(o, "humidity", FIELD_HUMIDITY, s->hums, s->nhums, sizeof s->hums[0], comp_obj);
	add_list(o, "thermostat", FIELD_THERMOSTAT, s->thermostats, s->nthermostats,
	    sizeof s->thermostats[0], comp_obj);
	add_list(o, "voltmeter", FIELD_VOLTMETER, s->voltmeters, s->nvoltmeters,
	    sizeof s->voltmeters[0], comp_obj);
	add_part(o, "sensor", st);
	return o;
}

static cJSON *
components_obj(const struct device_status *st)
{
	cJSON *o = cJSON_CreateObject();

	add_list(o, "switch", FIELD_SWITCH, st->switches, st->nswitches, sizeof st->switches[0],
	    comp_obj);
	add_list(o, "cover", FIELD_COVER, st->covers, st->ncovers, sizeof st->covers[0], cover_obj);
	add_list(o, "light", FIELD_LIGHT, st->lights, st->nlights, sizeof st->lights[0], light_obj);
	add_list(o, "input", FIELD_INPUT, st->inputs, st->ninputs, sizeof st->inputs[0], comp_obj);
	add_list(o, "meter", FIELD_METER, st->meters, st->nmeters, sizeof st->meters[0], meter_obj);
	cJSON_AddItemToObject(o, "sensor", sensor_obj(st));
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
	cJSON *o = cJSON_CreateObject();
	const struct device_ident *id = v->ident;
	const struct device_status *st = v->status;
	const char *name;

	json_add_text(o, "id", id ? id->id : NULL);
	json_add_text(o, "mac", id ? id->mac : NULL);
	add_int(o, "gen", id ? id->gen : 0, id != NULL && id->gen > 0);
	json_add_text(o, "model", id ? id->model : NULL);
	json_add_text(o, "model_name", id ? id->model_name : NULL);
	json_add_text(o, "app", id ? id->app : NULL);
	json_add_text(o, "fw", id ? id->fw : NULL);
	json_add_text(o, "fw_version", id ? id->fw_version : NULL);
	json_add_text(o, "profile", id ? id->profile : NULL);
	json_add_text(o, "host", v->host);
	add_int(o, "port", v->port, v->port > 0 && v->port < 65536);
	json_add_text(o, "scheme", v->scheme);
	name = v->name != NULL && *v->name != '\0' ? v->name : (id ? id->name : NULL);
	json_add_text(o, "name", name);
	add_tri(o, "auth_en", id ? id->auth_en : DEV_UNKNOWN);
	add_tri(o, "sleep_mode", id ? id->sleep_mode : DEV_UNKNOWN);
	cJSON_AddStringToObject(
	    o, "state", v->never_polled ? "unknown" : device_state_name(v->state));
	json_add_text(o, "error", v->never_polled ? NULL : v->error);
	add_int(o, "last_seen", v->last_seen, v->last_seen > 0);
	/* The values below are current, or the last known ones of a device that did not answer. */
	add_int(o, "status_time", v->status_time, st != NULL && v->status_time > 0);
	if (st != NULL)
		cJSON_AddBoolToObject(o, "status_stale", v->status_stale != 0);
	else
		cJSON_AddNullToObject(o, "status_stale");

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
	add_part(cJSON_AddObjectToObject(o, "wifi"), "wifi", st);
	if (st->has_eth)
		add_part(cJSON_AddObjectToObject(o, "eth"), "eth", st);
	else
		cJSON_AddNullToObject(o, "eth");
	add_part(cJSON_AddObjectToObject(o, "sys"), "sys", st);
	add_part(cJSON_AddObjectToObject(o, "cloud"), "cloud", st);
	add_part(cJSON_AddObjectToObject(o, "mqtt"), "mqtt", st);
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
