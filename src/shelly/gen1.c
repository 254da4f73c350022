#include "shelly/gen1.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/bounds.h"
#include "shelly/members.h"
#include "shelly/models.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Top-level /status keys that are housekeeping, or read together with another key. */
static const char *const status_consumed[] = {
    "wifi_sta",
    "cloud",
    "mqtt",
    "time",
    "unixtime",
    "serial",
    "has_update",
    "mac",
    "cfg_changed_cnt",
    "actions_stats",
    "relays",
    "rollers",
    "lights",
    "meters",
    "emeters",
    "inputs",
    "ext_sensors",
    "ext_temperature",
    "ext_humidity",
    "update",
    "ram_total",
    "ram_free",
    "ram_lwm",
    "fs_size",
    "fs_free",
    "fs_mounted",
    "uptime",
    "temperature",
    "overtemperature",
    "tmp",
    "hum",
    "bat",
    "charger",
    "lux",
    "sensor",
    "accel",
    "flood",
    "smoke",
    "tilt",
    "vibration",
    "gas_sensor",
    "concentration",
    "valves",
    "thermostats",
    "total_power",
    "emeter_n",
    "is_valid",
    "act_reasons",
    "connect_retries",
    "sensor_error",
    "fw_info",
    "ps_mode",
    "dbg_flags",
    "sleep_time",
    "mode",
    "input",
    "overpower",
    "calibrated",
    "calib_progress",
    "calib_status",
    "calib_running",
    "wire_mode",
    "forced_neutral",
    "loaderror",
    "debug",
    "v_data",
    "ct_calst",
    "total_work_time",
    "adcs",
};

static int
consumed(const char *key)
{
	for (size_t i = 0; i < sizeof status_consumed / sizeof status_consumed[0]; i++)
		if (key[0] == status_consumed[i][0] && strcmp(key, status_consumed[i]) == 0)
			return 1;
	return 0;
}

/* Adds a copy of item under key to the raw object (created on demand); arrays append. */
static void
raw_add(cJSON **raw, const char *key, const cJSON *item)
{
	cJSON *slot;

	if (*raw == NULL)
		*raw = cJSON_CreateObject();
	slot = cJSON_GetObjectItemCaseSensitive(*raw, key);
	if (slot == NULL) {
		slot = cJSON_CreateArray();
		cJSON_AddItemToObject(*raw, key, slot);
	}
	cJSON_AddItemToArray(slot, cJSON_Duplicate(item, 1));
}

/*
 * The next free slot of a component array of n entries, or -1 when it is full; the element e
 * of the reply's array key then goes to the raw reply instead.
 */
static int
next_slot(int *n, cJSON **raw, const char *key, const cJSON *e)
{
	if (*n >= DEVICE_MAX_COMPONENTS) {
		raw_add(raw, key, e);
		return -1;
	}
	return (*n)++;
}

/* A measured value, unknown when the device flags it invalid ("is_valid": false / "false"). */
static double
valid_number(const cJSON *obj, const char *key)
{
	if (json_get_bool(obj, "is_valid") == 0)
		return NAN;
	return json_get_number(obj, key);
}

/* Celsius from a Gen1 temperature object: tC, or value with units C/F. */
static double
temp_c(const cJSON *t)
{
	double v;
	const char *units;

	if (t == NULL || json_get_bool(t, "is_valid") == 0)
		return NAN;
	v = json_get_number(t, "tC");
	if (dev_known(v))
		return v;
	v = json_get_number(t, "value");
	units = json_get_string(t, "units");
	if (dev_known(v) && units != NULL && strcasecmp(units, "F") == 0)
		return (v - 32.0) * 5.0 / 9.0;
	return v;
}

static double
wmin_to_wh(double wmin)
{
	return dev_known(wmin) ? wmin / 60.0 : NAN;
}

/* The readers of one entry of a component array: the slot starts unknown, then the entry. */
static void
relay_read(const cJSON *root, const cJSON *r, const struct device_status *st, void *slot, int id)
{
	struct dev_switch *s = slot;

	(void)root;
	dev_switch_init(s, id);
	s->output = json_get_bool(r, "ison");
	s->overpower = json_get_bool(r, "overpower");
	json_get_strbuf(r, "source", s->source, sizeof s->source);
	if (s->overpower == 1)
		json_strlcpy(s->errors, "overpower", sizeof s->errors);
	s->overtemp = st->sys.overtemp;
	if (s->overtemp == 1)
		json_strlcpy(s->errors, s->overpower == 1 ? "overpower,overtemp" : "overtemp",
		    sizeof s->errors);
}

/* Gen1 roller "state": the direction of movement, or stop. */
static enum cover_state
roller_state(const cJSON *r)
{
	const char *st = json_get_string(r, "state");

	if (json_get_bool(r, "calibrating") == 1)
		return COVER_CALIBRATING;
	if (st == NULL)
		return COVER_UNKNOWN;
	if (strcmp(st, "open") == 0)
		return COVER_OPENING;
	if (strcmp(st, "close") == 0)
		return COVER_CLOSING;
	if (strcmp(st, "stop") == 0)
		return COVER_STOPPED;
	return COVER_UNKNOWN;
}

static void
roller_read(const cJSON *root, const cJSON *r, const struct device_status *st, void *slot, int id)
{
	struct dev_cover *c = slot;
	double pos;
	const char *reason;

	(void)root;
	dev_cover_init(c, id);
	c->overtemp = st->sys.overtemp;
	c->state = roller_state(r);
	c->power_w = valid_number(r, "power");
	c->pos_control = json_get_bool(r, "positioning");
	pos = json_get_number(r, "current_pos");
	/*
	 * Without positioning it is noise; 101 (or more) means "not calibrated" on old firmware
	 * that does not say "positioning". A calibrated roller past an end (a Shelly 2.5 reported
	 * 112) is at that end.
	 */
	if (dev_known(pos) &&
	    (c->pos_control == 1 || (c->pos_control == DEV_UNKNOWN && pos <= 100)))
		c->position_pct = fmin(fmax(pos, 0), 100);
	if (c->state == COVER_STOPPED && dev_known(c->position_pct)) {
		if (c->position_pct == 0)
			c->state = COVER_CLOSED;
		else if (c->position_pct == 100)
			c->state = COVER_OPEN;
	}
	c->overpower = json_get_bool(r, "overpower");
	json_get_strbuf(r, "last_direction", c->last_direction, sizeof c->last_direction);
	json_get_strbuf(r, "source", c->source, sizeof c->source);
	reason = json_get_string(r, "stop_reason");
	if (reason != NULL && strcmp(reason, "normal") != 0 && reason[0] != '\0')
		json_strlcpy(c->errors, reason, sizeof c->errors);
}

static void
light_read(const cJSON *root, const cJSON *l, const struct device_status *st, void *slot, int id)
{
	struct dev_light *d = slot;
	const char *mode = json_get_string(l, "mode");
	double v;

	dev_light_init(d, id);
	d->overtemp = st->sys.overtemp;
	d->output = json_get_bool(l, "ison");
	json_strlcpy(d->kind, mode != NULL && *mode != '\0' ? mode : "light", sizeof d->kind);
	json_get_strbuf(l, "source", d->source, sizeof d->source);
	d->overpower = json_get_bool(l, "overpower");
	if (d->overpower == DEV_UNKNOWN && json_get(root, "overpower") != NULL)
		d->overpower = json_get_bool(root, "overpower");
	d->power_w = json_get_number(l, "power");
	if (mode != NULL && strcmp(mode, "color") == 0) {
		/* colour mode: "gain" is the brightness, red/green/blue/white the channels */
		d->brightness_pct = json_get_number(l, "gain");
		const char *ch[3] = {"red", "green", "blue"};
		for (int i = 0; i < 3; i++) {
			long long c;

			if (json_get_int(l, ch[i], 0, 255, &c) == 0)
				d->rgb[i] = (int)c;
		}
		d->white = json_get_number(l, "white");
	} else {
		d->brightness_pct = json_get_number(l, "brightness");
		v = json_get_number(l, "temp");
		if (dev_known(v) && v > 0)
			d->color_temp_k = v;
	}
}

/* Fills a meter component from a Gen1 "meters" entry that no relay/light owns. */
static void
loose_meter(struct device_status *st, int id, const cJSON *m, cJSON **raw)
{
	struct dev_meter *dm;
	int i;

	if ((i = next_slot(&st->nmeters, raw, "meters", m)) < 0)
		return;
	dm = &st->meters[i];
	dev_meter_init(dm, id, "meter");
	dm->power_w = valid_number(m, "power");
	dm->energy_wh = wmin_to_wh(valid_number(m, "total"));
}

static void
fill_phase_like(
    const cJSON *e, double *v, double *i, double *p, double *pf, double *q, double *wh, double *ret)
{
	int valid = json_get_bool(e, "is_valid");

	*v = json_get_number(e, "voltage");
	*i = json_get_number(e, "current");
	*p = json_get_number(e, "power");
	*pf = json_get_number(e, "pf");
	if (q != NULL)
		*q = json_get_number(e, "reactive");
	if (valid == 0)
		*v = *i = *p = *pf = NAN;
	*wh = json_get_number(e, "total"); /* emeters count in Wh already */
	*ret = json_get_number(e, "total_returned");
}

static void
parse_emeters(const cJSON *root, const cJSON *arr, struct device_status *st, cJSON **raw)
{
	int n = cJSON_GetArraySize(arr), idx = 0;
	const cJSON *e;

	/* Shelly 3EM: three emeters are the phases of one meter (like the Pro 3EM "em:0"). */
	if (n == 3 &&
	    (json_get(root, "total_power") != NULL || json_get(root, "emeter_n") != NULL) &&
	    st->nmeters < DEVICE_MAX_COMPONENTS) {
		struct dev_meter *m = &st->meters[st->nmeters++];
		double sum_e = 0, sum_r = 0, sum_i = 0;
		int e_ok = 1, r_ok = 1, i_ok = 1;
		const cJSON *nobj;

		dev_meter_init(m, 0, "emeter");
		m->nphases = 3;
		cJSON_ArrayForEach(e, arr)
		{
			struct dev_phase *p = &m->phases[idx++];

			fill_phase_like(e, &p->voltage_v, &p->current_a, &p->power_w, &p->pf, NULL,
			    &p->energy_wh, &p->ret_energy_wh);
			e_ok &= dev_known(p->energy_wh);
			r_ok &= dev_known(p->ret_energy_wh);
			i_ok &= dev_known(p->current_a);
			sum_e += dev_known(p->energy_wh) ? p->energy_wh : 0;
			sum_r += dev_known(p->ret_energy_wh) ? p->ret_energy_wh : 0;
			sum_i += dev_known(p->current_a) ? p->current_a : 0;
		}
		m->power_w = json_get_number(root, "total_power");
		m->energy_wh = e_ok ? sum_e : NAN;
		m->ret_energy_wh = r_ok ? sum_r : NAN;
		m->current_a = i_ok ? sum_i : NAN;
		nobj = json_get_object(root, "emeter_n");
		if (nobj != NULL && json_get_bool(nobj, "is_valid") != 0)
			m->n_current_a = json_get_number(nobj, "current");
		return;
	}
	cJSON_ArrayForEach(e, arr)
	{
		struct dev_meter *m;
		int id = idx++, i;

		if ((i = next_slot(&st->nmeters, raw, "emeters", e)) < 0)
			continue;
		m = &st->meters[i];
		dev_meter_init(m, id, "emeter");
		fill_phase_like(e, &m->voltage_v, &m->current_a, &m->power_w, &m->pf,
		    &m->reactive_var, &m->energy_wh, &m->ret_energy_wh);
	}
}

/* Adds a temperature (humidity: a humidity) sensor reading v with id; dropped when full. */
static void
add_sensor(struct device_status *st, int humidity, int id, double v)
{
	struct dev_sensors *s = &st->sensors;
	int *n = humidity ? &s->nhums : &s->ntemps;

	if (*n >= DEVICE_MAX_COMPONENTS)
		return;
	if (humidity) {
		memset(&s->hums[*n], 0, sizeof s->hums[*n]);
		s->hums[*n].id = id;
		s->hums[(*n)++].humidity_pct = v;
	} else {
		memset(&s->temps[*n], 0, sizeof s->temps[*n]);
		s->temps[*n].id = id;
		s->temps[(*n)++].temperature_c = v;
	}
}

/* ext_temperature / ext_humidity: {"0": {...}, "1": {...}} keyed by sensor index. */
static void
parse_ext(const cJSON *obj, struct device_status *st, int humidity)
{
	const cJSON *e;
	long long id;

	cJSON_ArrayForEach(e, obj)
	{
		if (e->string == NULL || !cJSON_IsObject(e) ||
		    str_parse_int(e->string, 0, 1000, &id) != 0)
			continue;
		add_sensor(st, humidity, (int)id, humidity ? json_get_number(e, "hum") : temp_c(e));
	}
}

static void
parse_sensors(const cJSON *root, struct device_status *st)
{
	const cJSON *o, *e;
	struct dev_sensors *s = &st->sensors;
	int internal;
	const char *str;

	/* "tmp" is the device's own temperature on relays/dimmers (they also report
	 * overtemperature), and the measured ambient on sensors (H&T, Motion, Flood ...). */
	internal =
	    json_get(root, "overtemperature") != NULL || json_get(root, "temperature") != NULL;
	o = json_get_object(root, "tmp");
	if (internal) {
		st->sys.device_temperature_c = temp_c(o);
		if (!dev_known(st->sys.device_temperature_c))
			st->sys.device_temperature_c = json_get_number(root, "temperature");
		st->sys.overtemp = json_get_bool(root, "overtemperature");
	} else if (o != NULL) {
		add_sensor(st, 0, 0, temp_c(o));
	}
	if ((o = json_get_object(root, "ext_temperature")) != NULL)
		parse_ext(o, st, 0);
	if ((o = json_get_object(root, "ext_humidity")) != NULL)
		parse_ext(o, st, 1);
	if ((o = json_get_object(root, "hum")) != NULL)
		add_sensor(st, 1, 0, valid_number(o, "value"));
	if ((o = json_get_object(root, "bat")) != NULL) {
		s->battery_pct = json_get_number(o, "value");
		s->battery_v = json_get_number(o, "voltage");
	}
	s->external_power = json_get_bool(root, "charger");
	if (json_get_array(root, "act_reasons") != NULL)
		st->sys.woke = 1;
	if ((o = json_get_object(root, "lux")) != NULL) {
		s->illuminance_lux = valid_number(o, "value");
		json_get_strbuf(o, "illumination", s->illumination, sizeof s->illumination);
	}
	if ((o = json_get_object(root, "sensor")) != NULL && json_get_bool(o, "is_valid") != 0) {
		s->motion = json_get_bool(o, "motion");
		s->vibration = json_get_bool(o, "vibration");
		str = json_get_string(o, "state");
		if (str != NULL && strcmp(str, "open") == 0)
			s->door_open = 1;
		else if (str != NULL && strcmp(str, "close") == 0)
			s->door_open = 0;
	}
	if ((o = json_get_object(root, "accel")) != NULL) {
		double t = json_get_number(o, "tilt");

		if (dev_known(t) && t >= 0)
			s->tilt_deg = t;
		if (s->vibration == DEV_UNKNOWN)
			s->vibration = json_get_bool(o, "vibration");
	}
	if (json_get(root, "flood") != NULL)
		s->flood = json_get_bool(root, "flood");
	if (json_get(root, "smoke") != NULL)
		s->smoke = json_get_bool(root, "smoke");
	if ((o = json_get_object(root, "gas_sensor")) != NULL) {
		json_get_strbuf(o, "alarm_state", s->gas_alarm, sizeof s->gas_alarm);
		json_get_strbuf(o, "sensor_state", s->gas_sensor, sizeof s->gas_sensor);
	}
	if ((o = json_get_object(root, "concentration")) != NULL)
		s->gas_ppm = valid_number(o, "ppm");
	if ((o = json_get_array(root, "valves")) != NULL && (e = cJSON_GetArrayItem(o, 0)) != NULL)
		json_get_strbuf(e, "state", s->valve, sizeof s->valve);
	if ((o = json_get_array(root, "thermostats")) != NULL) {
		int id = 0;

		cJSON_ArrayForEach(e, o)
		{
			struct dev_thermostat *t;
			const cJSON *tt;

			if (s->nthermostats >= DEVICE_MAX_COMPONENTS)
				break;
			t = &s->thermostats[s->nthermostats++];
			dev_thermostat_init(t, id++);
			t->valve_pos_pct = json_get_number(e, "pos");
			tt = json_get_object(e, "target_t");
			t->enable = json_get_bool(tt, "enabled");
			t->target_c = temp_c(tt);
			t->current_c = temp_c(json_get_object(e, "tmp"));
		}
	}
}

/* UNI "adcs": [{"voltage": 12.1}], the analog (DC voltage) inputs; dropped when full. */
static void
parse_adcs(const cJSON *root, struct device_status *st, cJSON **raw)
{
	struct dev_sensors *s = &st->sensors;
	const cJSON *e;
	int id = 0, i;

	cJSON_ArrayForEach(e, json_get_array(root, "adcs"))
	{
		int n = id++;

		if ((i = next_slot(&s->nvoltmeters, raw, "adcs", e)) < 0)
			continue;
		dev_voltmeter_init(&s->voltmeters[i], n);
		s->voltmeters[i].voltage_v = json_get_number(e, "voltage");
	}
}

static void
parse_update(const cJSON *root, struct device_status *st)
{
	const cJSON *u = json_get_object(root, "update");
	const char *s;

	st->sys.update_available = json_get_bool(root, "has_update");
	if (u == NULL)
		return;
	if (json_get(u, "has_update") != NULL)
		st->sys.update_available = json_get_bool(u, "has_update");
	json_get_strbuf(u, "status", st->sys.update_status, sizeof st->sys.update_status);
	json_get_strbuf(u, "old_version", st->sys.running_fw, sizeof st->sys.running_fw);
	if (st->sys.update_available == 1) {
		s = json_get_string(u, "new_version");
		if (device_fw_version(s, st->sys.update_version, sizeof st->sys.update_version) ==
		    0)
			str_copy(st->sys.update_fw, sizeof st->sys.update_fw, s);
	}
	s = json_get_string(u, "beta_version");
	if (device_fw_version(s, st->sys.beta_version, sizeof st->sys.beta_version) == 0)
		str_copy(st->sys.beta_fw, sizeof st->sys.beta_fw, s);
}

/* wifi_sta, cloud, mqtt and the system counters at the top level of /status. */
static void
parse_sys(const cJSON *root, struct device_status *out)
{
	const cJSON *o;
	double v;

	if ((o = json_get_object(root, "wifi_sta")) != NULL) {
		out->wifi.connected = json_get_bool(o, "connected");
		json_get_strbuf(o, "ssid", out->wifi.ssid, sizeof out->wifi.ssid);
		json_get_strbuf(o, "ip", out->wifi.ip, sizeof out->wifi.ip);
		out->wifi.rssi_dbm = json_get_number(o, "rssi");
	}
	if ((o = json_get_object(root, "cloud")) != NULL) {
		out->cloud_enabled = json_get_bool(o, "enabled");
		out->cloud_connected = json_get_bool(o, "connected");
	}
	if ((o = json_get_object(root, "mqtt")) != NULL)
		out->mqtt_connected = json_get_bool(o, "connected");

	device_mac_normalise(json_get_string(root, "mac"), out->sys.mac);
	v = json_get_number(root, "unixtime");
	out->sys.unixtime = (dev_known(v) && v > 0) ? v : NAN; /* 0: clock not synced */
	out->sys.uptime_s = json_get_number(root, "uptime");
	out->sys.ram_total = json_get_number(root, "ram_total");
	out->sys.ram_free = json_get_number(root, "ram_free");
	out->sys.fs_total = json_get_number(root, "fs_size");
	out->sys.fs_free = json_get_number(root, "fs_free");
	out->sys.cfg_changed_cnt = json_get_number(root, "cfg_changed_cnt");
}

/*
 * meters[i] measures relay i (or light i) when there is one meter per output; a single roller
 * is measured by all meters together; anything else is a meter of its own. nrel, nrol, nlig:
 * the number of relays (0 in roller mode), rollers and lights in the reply.
 */
static void
parse_meters(
    const cJSON *meters, int nrel, int nrol, int nlig, struct device_status *out, cJSON **raw)
{
	const cJSON *e;
	int idx = 0, nmet = cJSON_GetArraySize(meters), roller_meters = 0;
	double roller_wh = 0;

	cJSON_ArrayForEach(e, meters)
	{
		double p = valid_number(e, "power");
		/* an invalid meter counts nothing */
		double wh = wmin_to_wh(valid_number(e, "total"));

		/* A relay without metering (Shelly 1) lists {"power": 0, "is_valid": true}: a
		 * placeholder without total or counters, no reading of 0 W. */
		if (json_get(e, "total") == NULL && json_get(e, "counters") == NULL) {
			idx++;
			continue;
		}
		if (nrel > 0 && nmet == nrel && idx < out->nswitches) {
			out->switches[idx].power_w = p;
			out->switches[idx].energy_wh = wh;
		} else if (nlig > 0 && nmet == nlig && idx < out->nlights) {
			if (!dev_known(out->lights[idx].power_w))
				out->lights[idx].power_w = p;
			out->lights[idx].energy_wh = wh;
		} else if (nrol == 1 && out->ncovers == 1) {
			roller_wh +=
			    wh; /* NAN stays NAN: one unknown meter makes the sum unknown */
			roller_meters++;
		} else {
			loose_meter(out, idx, e, raw);
		}
		idx++;
	}
	if (roller_meters > 0)
		out->covers[0].energy_wh = roller_wh;
}

static void
input_read(const cJSON *root, const cJSON *e, const struct device_status *st, void *slot, int id)
{
	struct dev_input *in = slot;

	(void)root;
	(void)st;
	dev_input_init(in, id);
	in->state = json_get_bool(e, "input");
	json_get_strbuf(e, "event", in->event, sizeof in->event);
	in->event_cnt = json_get_number(e, "event_cnt");
}

/* The component arrays of a /status reply: the entry i of key fills a slot with id i. */
static const struct g1_array {
	const char *key;
	size_t items, count, size; /* the array in struct device_status */
	void (*read)(
	    const cJSON *root, const cJSON *e, const struct device_status *st, void *slot, int id);
} g1_relays = {"relays", offsetof(struct device_status, switches),
    offsetof(struct device_status, nswitches), sizeof(struct dev_switch), relay_read},
  g1_rollers = {"rollers", offsetof(struct device_status, covers),
      offsetof(struct device_status, ncovers), sizeof(struct dev_cover), roller_read},
  g1_lights = {"lights", offsetof(struct device_status, lights),
      offsetof(struct device_status, nlights), sizeof(struct dev_light), light_read},
  g1_inputs = {"inputs", offsetof(struct device_status, inputs),
      offsetof(struct device_status, ninputs), sizeof(struct dev_input), input_read};

static void
parse_array(const cJSON *root, const struct g1_array *a, struct device_status *out, cJSON **raw)
{
	const cJSON *e;
	int idx = 0, i;

	cJSON_ArrayForEach(e, json_get_array(root, a->key))
	{
		int id = idx++;

		if ((i = next_slot((int *)(void *)((char *)out + a->count), raw, a->key, e)) >= 0)
			a->read(root, e, out, (char *)out + a->items + (size_t)i * a->size, id);
	}
}

/* Keeps the top-level keys no parser above understood in out->raw_unknown (with raw's). */
static void
keep_unknown(const cJSON *root, cJSON *raw, struct device_status *out)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, root)
	{
		if (e->string != NULL && !consumed(e->string)) {
			if (raw == NULL)
				raw = cJSON_CreateObject();
			if (cJSON_GetObjectItemCaseSensitive(raw, e->string) == NULL)
				cJSON_AddItemToObject(raw, e->string, cJSON_Duplicate(e, 1));
		}
	}
	if (raw != NULL) {
		out->raw_unknown = json_print(raw, 0);
		cJSON_Delete(raw);
	}
}

int
gen1_parse_status(const char *body, size_t len, struct device_status *out, char **cause)
{
	cJSON *root, *raw = NULL;
	const cJSON *o, *e, *relays, *rollers, *lights;
	int nrel, nrol;

	device_status_init(out);
	root = json_parse_object(body, len, 0, "Gen1 /status reply", cause);
	if (root == NULL)
		return -1;
	parse_sys(root, out);
	parse_update(root, out);
	parse_sensors(root, out);

	relays = json_get_array(root, "relays");
	rollers = json_get_array(root, "rollers");
	lights = json_get_array(root, "lights");
	nrel = cJSON_GetArraySize(relays);
	nrol = cJSON_GetArraySize(rollers);
	/* Shelly 2/2.5 list "relays" in roller mode too; the rollers are the components then. */
	if (nrol == 0 || json_get(root, "rollers") == NULL) {
		parse_array(root, &g1_relays, out, &raw);
	} else {
		/* roller mode: the relays are the motor's two directions, not outputs of their own
		 */
		cJSON_ArrayForEach(e, relays) raw_add(&raw, "relays", e);
		nrel = 0;
	}
	parse_array(root, &g1_rollers, out, &raw);
	parse_array(root, &g1_lights, out, &raw);
	parse_meters(
	    json_get_array(root, "meters"), nrel, nrol, cJSON_GetArraySize(lights), out, &raw);
	if ((o = json_get_array(root, "emeters")) != NULL)
		parse_emeters(root, o, out, &raw);
	parse_array(root, &g1_inputs, out, &raw);
	parse_adcs(root, out, &raw);
	keep_unknown(root, raw, out);
	cJSON_Delete(root);
	bounds_apply(out);
	return 0;
}

void
gen1_settings_init(struct gen1_settings *s)
{
	memset(s, 0, sizeof *s);
	s->sleep_mode = s->discoverable = DEV_UNKNOWN;
	s->login_enabled = s->cloud_enabled = s->mqtt_enable = DEV_UNKNOWN;
	s->coiot_enabled = s->sntp_enabled = s->tzautodetect = DEV_UNKNOWN;
	s->wifi_sta_enabled = s->wifi_ap_enabled = DEV_UNKNOWN;
	s->coiot_update_period_s = s->lat = s->lng = NAN;
}

/* What /settings says, apart from the MAC and the component names. */
static const struct member settings_members[] = {
    MEMBER_STR(gen1_settings, "device", "hostname", hostname),
    MEMBER_STR(gen1_settings, "device", "type", type),
    MEMBER_BOOL(gen1_settings, "device", "sleep_mode", sleep_mode),
    MEMBER_STR(gen1_settings, "", "name", name),
    MEMBER_STR(gen1_settings, "", "mode", mode),
    MEMBER_STR(gen1_settings, "", "fw", fw),
    MEMBER_BOOL(gen1_settings, "", "discoverable", discoverable),
    MEMBER_BOOL(gen1_settings, "login", "enabled", login_enabled),
    MEMBER_STR(gen1_settings, "login", "username", login_username),
    MEMBER_BOOL(gen1_settings, "cloud", "enabled", cloud_enabled),
    MEMBER_BOOL(gen1_settings, "mqtt", "enable", mqtt_enable),
    MEMBER_STR(gen1_settings, "mqtt", "server", mqtt_server),
    MEMBER_STR(gen1_settings, "mqtt", "user", mqtt_user),
    MEMBER_STR(gen1_settings, "mqtt", "id", mqtt_id),
    MEMBER_BOOL(gen1_settings, "coiot", "enabled", coiot_enabled),
    MEMBER_STR(gen1_settings, "coiot", "peer", coiot_peer),
    MEMBER_NUM(gen1_settings, "coiot", "update_period", coiot_update_period_s),
    MEMBER_BOOL(gen1_settings, "sntp", "enabled", sntp_enabled),
    MEMBER_STR(gen1_settings, "sntp", "server", sntp_server),
    MEMBER_STR(gen1_settings, "", "timezone", timezone),
    MEMBER_BOOL(gen1_settings, "", "tzautodetect", tzautodetect),
    MEMBER_NUM(gen1_settings, "", "lat", lat),
    MEMBER_NUM(gen1_settings, "", "lng", lng),
    MEMBER_BOOL(gen1_settings, "wifi_sta", "enabled", wifi_sta_enabled),
    MEMBER_STR(gen1_settings, "wifi_sta", "ssid", wifi_sta_ssid),
    MEMBER_STR(gen1_settings, "wifi_sta", "ipv4_method", wifi_sta_ipv4_method),
    MEMBER_STR(gen1_settings, "wifi_sta", "ip", wifi_sta_ip),
    MEMBER_STR(gen1_settings, "wifi_sta", "gw", wifi_sta_gw),
    MEMBER_STR(gen1_settings, "wifi_sta", "mask", wifi_sta_mask),
    MEMBER_STR(gen1_settings, "wifi_sta", "dns", wifi_sta_dns),
    MEMBER_BOOL(gen1_settings, "wifi_ap", "enabled", wifi_ap_enabled),
    MEMBER_STR(gen1_settings, "wifi_ap", "ssid", wifi_ap_ssid),
};

static int
names(const cJSON *arr, char dst[][DEV_NAME_LEN])
{
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, arr)
	{
		if (n >= DEVICE_MAX_COMPONENTS)
			break;
		json_get_strbuf(e, "name", dst[n], DEV_NAME_LEN);
		n++;
	}
	return n;
}

int
gen1_parse_settings(const char *body, size_t len, struct gen1_settings *out, char **cause)
{
	cJSON *root;

	gen1_settings_init(out);
	root = json_parse_object(body, len, 0, "Gen1 /settings reply", cause);
	if (root == NULL)
		return -1;
	members_read(out, MEMBERS(settings_members), "", root);
	if (json_get_object(root, "device") != NULL)
		device_mac_normalise(
		    json_get_string(json_get_object(root, "device"), "mac"), out->mac);
	out->nrelays = names(json_get_array(root, "relays"), out->relay_names);
	out->nrollers = names(json_get_array(root, "rollers"), out->roller_names);
	out->nlights = names(json_get_array(root, "lights"), out->light_names);
	out->ninputs = names(json_get_array(root, "inputs"), out->input_names);
	cJSON_Delete(root);
	return 0;
}

int
gen1_parse_ota(const char *body, size_t len, struct gen1_ota *out, char **cause)
{
	cJSON *root;

	memset(out, 0, sizeof *out);
	out->has_update = DEV_UNKNOWN;
	root = json_parse(body, len, 0, cause);
	if (root == NULL)
		return -1;
	if (!cJSON_IsObject(root) ||
	    (json_get(root, "status") == NULL && json_get(root, "has_update") == NULL)) {
		if (cause != NULL)
			*cause = xstrdup("not a Gen1 /ota reply (no status or has_update)");
		cJSON_Delete(root);
		return -1;
	}
	json_get_strbuf(root, "status", out->status, sizeof out->status);
	out->has_update = json_get_bool(root, "has_update");
	json_get_strbuf(root, "new_version", out->new_version, sizeof out->new_version);
	json_get_strbuf(root, "old_version", out->old_version, sizeof out->old_version);
	json_get_strbuf(root, "beta_version", out->beta_version, sizeof out->beta_version);
	cJSON_Delete(root);
	return 0;
}

void
gen1_settings_apply(
    const struct gen1_settings *s, struct device_ident *ident, struct device_status *st)
{
	if (s == NULL)
		return;
	if (ident != NULL) {
		if (s->hostname[0] != '\0')
			json_strlcpy(ident->id, s->hostname, sizeof ident->id);
		if (s->name[0] != '\0')
			json_strlcpy(ident->name, s->name, sizeof ident->name);
		if (s->mode[0] != '\0')
			json_strlcpy(ident->mode, s->mode, sizeof ident->mode);
		if (ident->sleep_mode == DEV_UNKNOWN)
			ident->sleep_mode = s->sleep_mode;
		if (ident->mac[0] == '\0' && s->mac[0] != '\0')
			memcpy(ident->mac, s->mac, sizeof ident->mac);
		/* without a /shelly reply the settings still tell model and firmware */
		if (ident->model[0] == '\0' && s->type[0] != '\0') {
			json_strlcpy(ident->model, s->type, sizeof ident->model);
			json_strlcpy(
			    ident->model_name, models_name(s->type), sizeof ident->model_name);
		}
		if (ident->fw[0] == '\0' && s->fw[0] != '\0') {
			json_strlcpy(ident->fw, s->fw, sizeof ident->fw);
			device_fw_version(ident->fw, ident->fw_version, sizeof ident->fw_version);
		}
		if (ident->gen == 0)
			ident->gen = 1;
	}
	if (st != NULL) {
		for (int i = 0; i < st->nswitches; i++)
			if (st->switches[i].id < s->nrelays)
				json_strlcpy(st->switches[i].name,
				    s->relay_names[st->switches[i].id],
				    sizeof st->switches[i].name);
		for (int i = 0; i < st->ncovers; i++)
			if (st->covers[i].id < s->nrollers)
				json_strlcpy(st->covers[i].name, s->roller_names[st->covers[i].id],
				    sizeof st->covers[i].name);
		for (int i = 0; i < st->nlights; i++)
			if (st->lights[i].id < s->nlights)
				json_strlcpy(st->lights[i].name, s->light_names[st->lights[i].id],
				    sizeof st->lights[i].name);
		for (int i = 0; i < st->ninputs; i++)
			if (st->inputs[i].id < s->ninputs)
				json_strlcpy(st->inputs[i].name, s->input_names[st->inputs[i].id],
				    sizeof st->inputs[i].name);
		if (st->cloud_enabled == DEV_UNKNOWN)
			st->cloud_enabled = s->cloud_enabled;
	}
}
