#include "shelly/gen2.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/bounds.h"
#include "shelly/ident.h"
#include "shelly/rpc.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define MAX_COMPONENT_ID 1000000

/* Setters that touch dst only when key is present (null present = unknown). */
static void
set_num(double *dst, const cJSON *o, const char *key)
{
	const cJSON *v = json_get(o, key);

	if (v != NULL)
		*dst = json_number(v);
}

static void
set_bool(int *dst, const cJSON *o, const char *key)
{
	const cJSON *v = json_get(o, key);

	if (v != NULL)
		*dst = json_bool(v);
}

static void
set_str(char *dst, size_t size, const cJSON *o, const char *key)
{
	const cJSON *v = json_get(o, key);

	if (v != NULL)
		json_strlcpy(dst, json_string(v), size);
}

/* member.sub, e.g. aenergy.total or temperature.tC; only when member is present. */
static void
set_sub_num(double *dst, const cJSON *o, const char *key, const char *sub)
{
	const cJSON *v = json_get(o, key);

	if (v != NULL)
		*dst = json_get_number(v, sub);
}

/*
 * The component's "errors" list: joined into errors[] and flags set. Without the member a full
 * status means "no errors" (the firmware lists errors only when there are some); a merge keeps
 * what was known.
 */
static void
set_errors(char *errors, size_t size, int *overpower, int *overtemp, int *overvoltage,
    int *undervoltage, const cJSON *o, int merge)
{
	const cJSON *arr = json_get(o, "errors"), *e;
	size_t n = 0;

	if (arr == NULL && merge)
		return;
	errors[0] = '\0';
	if (overpower)
		*overpower = 0;
	if (overtemp)
		*overtemp = 0;
	if (overvoltage)
		*overvoltage = 0;
	if (undervoltage)
		*undervoltage = 0;
	if (arr != NULL && !cJSON_IsArray(arr)) {
		/* not the documented shape: we know nothing about errors */
		if (overpower)
			*overpower = DEV_UNKNOWN;
		if (overtemp)
			*overtemp = DEV_UNKNOWN;
		if (overvoltage)
			*overvoltage = DEV_UNKNOWN;
		if (undervoltage)
			*undervoltage = DEV_UNKNOWN;
		return;
	}
	cJSON_ArrayForEach(e, arr)
	{
		const char *s = json_string(e);
		size_t l;

		if (s == NULL || *s == '\0')
			continue;
		if (overpower && strcmp(s, "overpower") == 0)
			*overpower = 1;
		else if (overtemp && strcmp(s, "overtemp") == 0)
			*overtemp = 1;
		else if (overvoltage && strcmp(s, "overvoltage") == 0)
			*overvoltage = 1;
		else if (undervoltage && strcmp(s, "undervoltage") == 0)
			*undervoltage = 1;
		l = strlen(s);
		if (n + (n ? 1 : 0) + l + 1 > size)
			continue; /* keep whole codes only */
		if (n)
			errors[n++] = ',';
		memcpy(errors + n, s, l);
		n += l;
		errors[n] = '\0';
	}
}

static void
apply_switch(struct dev_switch *s, const cJSON *o, int merge)
{
	set_bool(&s->output, o, "output");
	set_num(&s->power_w, o, "apower");
	set_num(&s->voltage_v, o, "voltage");
	set_num(&s->current_a, o, "current");
	set_num(&s->pf, o, "pf");
	set_num(&s->freq_hz, o, "freq");
	set_sub_num(&s->energy_wh, o, "aenergy", "total");
	set_sub_num(&s->ret_energy_wh, o, "ret_aenergy", "total");
	set_sub_num(&s->temperature_c, o, "temperature", "tC");
	set_str(s->source, sizeof s->source, o, "source");
	set_errors(s->errors, sizeof s->errors, &s->overpower, &s->overtemp, &s->overvoltage,
	    &s->undervoltage, o, merge);
}

static enum cover_state
cover_state_of(const char *s)
{
	static const struct {
		const char *name;
		enum cover_state st;
	} map[] = {
	    {"open", COVER_OPEN},
	    {"closed", COVER_CLOSED},
	    {"opening", COVER_OPENING},
	    {"closing", COVER_CLOSING},
	    {"stopped", COVER_STOPPED},
	    {"calibrating", COVER_CALIBRATING},
	};

	if (s == NULL)
		return COVER_UNKNOWN;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(s, map[i].name) == 0)
			return map[i].st;
	return COVER_UNKNOWN;
}

static void
apply_cover(struct dev_cover *c, const cJSON *o, int merge)
{
	const cJSON *v;

	if ((v = json_get(o, "state")) != NULL)
		c->state = cover_state_of(json_string(v));
	set_num(&c->power_w, o, "apower");
	set_num(&c->voltage_v, o, "voltage");
	set_num(&c->current_a, o, "current");
	set_num(&c->pf, o, "pf");
	set_num(&c->freq_hz, o, "freq");
	set_sub_num(&c->energy_wh, o, "aenergy", "total");
	set_sub_num(&c->temperature_c, o, "temperature", "tC");
	set_bool(&c->pos_control, o, "pos_control");
	set_num(&c->position_pct, o, "current_pos"); /* past an end: model/bounds clamps it */
	if (c->pos_control == 0)
		c->position_pct = NAN; /* not calibrated: a position would be a guess */
	set_str(c->last_direction, sizeof c->last_direction, o, "last_direction");
	set_str(c->source, sizeof c->source, o, "source");
	set_errors(c->errors, sizeof c->errors, &c->overpower, &c->overtemp, NULL, NULL, o, merge);
}

static void
apply_light(struct dev_light *l, const cJSON *o, int merge)
{
	const cJSON *rgb;

	set_bool(&l->output, o, "output");
	set_num(&l->brightness_pct, o, "brightness");
	if ((rgb = json_get(o, "rgb")) != NULL) {
		for (int i = 0; i < 3; i++) {
			long long c;

			l->rgb[i] = -1;
			if (cJSON_GetArraySize(rgb) == 3 &&
			    json_int(cJSON_GetArrayItem(rgb, i), 0, 255, &c) == 0)
				l->rgb[i] = (int)c;
		}
	}
	set_num(&l->white, o, "white");
	set_num(&l->color_temp_k, o, "ct");
	set_num(&l->power_w, o, "apower");
	set_num(&l->voltage_v, o, "voltage");
	set_num(&l->current_a, o, "current");
	set_sub_num(&l->energy_wh, o, "aenergy", "total");
	set_sub_num(&l->temperature_c, o, "temperature", "tC");
	set_str(l->source, sizeof l->source, o, "source");
	set_errors(l->errors, sizeof l->errors, &l->overpower, &l->overtemp, NULL, NULL, o, merge);
}

static void
apply_input(struct dev_input *in, const cJSON *o)
{
	set_bool(&in->state, o, "state");
	if (json_get(o, "percent") != NULL) {
		set_num(&in->percent, o, "percent");
		if (in->type[0] == '\0')
			json_strlcpy(in->type, "analog", sizeof in->type);
	}
	if (json_get(o, "counts") != NULL) {
		set_sub_num(&in->count_total, o, "counts", "total");
		if (in->type[0] == '\0')
			json_strlcpy(in->type, "count", sizeof in->type);
	}
	set_num(&in->freq_hz, o, "freq");
}

static void
apply_em(struct dev_meter *m, const cJSON *o)
{
	static const char labels[3] = {'a', 'b', 'c'};
	char k[32];

	m->nphases = 3;
	for (int i = 0; i < 3; i++) {
		struct dev_phase *p = &m->phases[i];

#define PH(field, name)                                          \
	do {                                                     \
		snprintf(k, sizeof k, "%c_%s", labels[i], name); \
		set_num(&p->field, o, k);                        \
	} while (0)
		p->label = labels[i];
		PH(current_a, "current");
		PH(voltage_v, "voltage");
		PH(power_w, "act_power");
		PH(aprt_power_va, "aprt_power");
		PH(pf, "pf");
		PH(freq_hz, "freq");
		PH(energy_wh, "total_act_energy");
		PH(ret_energy_wh, "total_act_ret_energy");
#undef PH
	}
	set_num(&m->current_a, o, "total_current");
	set_num(&m->power_w, o, "total_act_power");
	set_num(&m->aprt_power_va, o, "total_aprt_power");
	set_num(&m->n_current_a, o, "n_current");
	set_num(&m->energy_wh, o, "total_act");
	set_num(&m->ret_energy_wh, o, "total_act_ret");
}

static void
apply_em1(struct dev_meter *m, const cJSON *o)
{
	set_num(&m->voltage_v, o, "voltage");
	set_num(&m->current_a, o, "current");
	set_num(&m->power_w, o, "act_power");
	set_num(&m->aprt_power_va, o, "aprt_power");
	set_num(&m->pf, o, "pf");
	set_num(&m->freq_hz, o, "freq");
	set_num(&m->energy_wh, o, "total_act_energy");
	set_num(&m->ret_energy_wh, o, "total_act_ret_energy");
}

static void
apply_pm1(struct dev_meter *m, const cJSON *o)
{
	set_num(&m->voltage_v, o, "voltage");
	set_num(&m->current_a, o, "current");
	set_num(&m->power_w, o, "apower");
	set_num(&m->pf, o, "pf");
	set_num(&m->freq_hz, o, "freq");
	set_sub_num(&m->energy_wh, o, "aenergy", "total");
	set_sub_num(&m->ret_energy_wh, o, "ret_aenergy", "total");
}

static void
apply_sys(struct device_status *st, const cJSON *o)
{
	const cJSON *u;

	if (json_get(o, "mac") != NULL)
		device_mac_normalise(json_get_string(o, "mac"), st->sys.mac);
	set_num(&st->sys.uptime_s, o, "uptime");
	set_num(&st->sys.unixtime, o, "unixtime");
	set_num(&st->sys.ram_total, o, "ram_size");
	set_num(&st->sys.ram_free, o, "ram_free");
	set_num(&st->sys.fs_total, o, "fs_size");
	set_num(&st->sys.fs_free, o, "fs_free");
	set_num(&st->sys.cfg_rev, o, "cfg_rev");
	set_bool(&st->sys.restart_required, o, "restart_required");
	set_num(&st->sys.wakeup_period_s, o, "wakeup_period");
	if ((u = json_get(o, "available_updates")) != NULL) {
		const cJSON *stable = json_get_object(u, "stable");
		const cJSON *beta = json_get_object(u, "beta");

		st->sys.update_available = cJSON_IsObject(u) ? (stable != NULL) : DEV_UNKNOWN;
		st->sys.update_version[0] = st->sys.beta_version[0] = '\0';
		json_get_strbuf(
		    stable, "version", st->sys.update_version, sizeof st->sys.update_version);
		json_get_strbuf(beta, "version", st->sys.beta_version, sizeof st->sys.beta_version);
	}
}

static void
apply_wifi(struct device_status *st, const cJSON *o)
{
	const cJSON *status = json_get(o, "status"), *ip = json_get(o, "sta_ip");

	set_str(st->wifi.ssid, sizeof st->wifi.ssid, o, "ssid");
	set_str(st->wifi.ip, sizeof st->wifi.ip, o, "sta_ip");
	set_num(&st->wifi.rssi_dbm, o, "rssi");
	if (json_string(status) != NULL)
		st->wifi.connected = strcmp(json_string(status), "got ip") == 0;
	else if (json_string(ip) != NULL)
		st->wifi.connected = 1;
	else if (status != NULL)
		st->wifi.connected = DEV_UNKNOWN;
}

static struct dev_temp_sensor *
temp_slot(struct device_status *st, int id)
{
	struct dev_temp_sensor *t;

	for (int i = 0; i < st->sensors.ntemps; i++)
		if (st->sensors.temps[i].id == id)
			return &st->sensors.temps[i];
	if (st->sensors.ntemps >= DEVICE_MAX_COMPONENTS)
		return NULL;
	t = &st->sensors.temps[st->sensors.ntemps++];
	memset(t, 0, sizeof *t);
	t->id = id;
	t->temperature_c = NAN;
	return t;
}

static struct dev_hum_sensor *
hum_slot(struct device_status *st, int id)
{
	struct dev_hum_sensor *h;

	for (int i = 0; i < st->sensors.nhums; i++)
		if (st->sensors.hums[i].id == id)
			return &st->sensors.hums[i];
	if (st->sensors.nhums >= DEVICE_MAX_COMPONENTS)
		return NULL;
	h = &st->sensors.hums[st->sensors.nhums++];
	memset(h, 0, sizeof *h);
	h->id = id;
	h->humidity_pct = NAN;
	return h;
}

static struct dev_thermostat *
thermostat_slot(struct device_status *st, int id)
{
	struct dev_thermostat *t;

	for (int i = 0; i < st->sensors.nthermostats; i++)
		if (st->sensors.thermostats[i].id == id)
			return &st->sensors.thermostats[i];
	if (st->sensors.nthermostats >= DEVICE_MAX_COMPONENTS)
		return NULL;
	t = &st->sensors.thermostats[st->sensors.nthermostats++];
	dev_thermostat_init(t, id);
	return t;
}

/*
 * The slot of a component: the existing one or a new one, NULL when the array is full.
 * replace: an existing slot starts again from unknown, keeping the name (and an input's type)
 * that come from the configuration, not the status.
 */
static struct dev_switch *
switch_slot(struct device_status *st, int id, int replace)
{
	struct dev_switch *s = device_status_switch(st, id);
	char name[DEV_NAME_LEN];

	if (s == NULL) {
		if (st->nswitches >= DEVICE_MAX_COMPONENTS)
			return NULL;
		s = &st->switches[st->nswitches++];
		dev_switch_init(s, id);
	} else if (replace) {
		memcpy(name, s->name, sizeof name);
		dev_switch_init(s, id);
		memcpy(s->name, name, sizeof name);
	}
	return s;
}

static struct dev_cover *
cover_slot(struct device_status *st, int id, int replace)
{
	struct dev_cover *c = device_status_cover(st, id);
	char name[DEV_NAME_LEN];

	if (c == NULL) {
		if (st->ncovers >= DEVICE_MAX_COMPONENTS)
			return NULL;
		c = &st->covers[st->ncovers++];
		dev_cover_init(c, id);
	} else if (replace) {
		memcpy(name, c->name, sizeof name);
		dev_cover_init(c, id);
		memcpy(c->name, name, sizeof name);
	}
	return c;
}

static struct dev_input *
input_slot(struct device_status *st, int id, int replace)
{
	struct dev_input *in = device_status_input(st, id);
	char name[DEV_NAME_LEN], itype[DEV_SHORT_LEN];

	if (in == NULL) {
		if (st->ninputs >= DEVICE_MAX_COMPONENTS)
			return NULL;
		in = &st->inputs[st->ninputs++];
		dev_input_init(in, id);
	} else if (replace) {
		memcpy(name, in->name, sizeof name);
		memcpy(itype, in->type, sizeof itype);
		dev_input_init(in, id);
		memcpy(in->name, name, sizeof name);
		memcpy(in->type, itype, sizeof itype);
	}
	return in;
}

static struct dev_light *
light_slot(struct device_status *st, const char *kind, int id, int replace)
{
	struct dev_light *l;
	char name[DEV_NAME_LEN];

	for (int i = 0; i < st->nlights; i++) {
		l = &st->lights[i];
		if (l->id != id || strcmp(l->kind, kind) != 0)
			continue;
		if (replace) {
			memcpy(name, l->name, sizeof name);
			dev_light_init(l, id);
			json_strlcpy(l->kind, kind, sizeof l->kind);
			memcpy(l->name, name, sizeof name);
		}
		return l;
	}
	if (st->nlights >= DEVICE_MAX_COMPONENTS)
		return NULL;
	l = &st->lights[st->nlights++];
	dev_light_init(l, id);
	json_strlcpy(l->kind, kind, sizeof l->kind);
	return l;
}

static struct dev_meter *
meter_slot(struct device_status *st, const char *kind, int id)
{
	struct dev_meter *m = device_status_meter(st, kind, id);

	if (m != NULL)
		return m;
	if (st->nmeters >= DEVICE_MAX_COMPONENTS)
		return NULL;
	m = &st->meters[st->nmeters++];
	dev_meter_init(m, id, kind);
	return m;
}

/* Splits "type:id" (id a decimal number) or a singleton key "type". Returns 0, or -1. */
static int
split_key(const char *key, char *type, size_t size, int *id)
{
	const char *colon = strchr(key, ':');
	size_t n = colon != NULL ? (size_t)(colon - key) : strlen(key);
	long v = -1;

	if (n == 0 || n >= size)
		return -1;
	memcpy(type, key, n);
	type[n] = '\0';
	if (colon != NULL) {
		char *end;
		const char *d = colon + 1;

		if (!isdigit((unsigned char)*d))
			return -1;
		v = strtol(d, &end, 10);
		if (*end != '\0' || v < 0 || v > MAX_COMPONENT_ID)
			return -1;
	}
	*id = (int)v;
	return 0;
}

/* Adds (or, merging, replaces) key -> copy of v in the raw object. */
static void
raw_put(cJSON **raw, const char *key, const cJSON *v)
{
	if (*raw == NULL)
		*raw = cJSON_CreateObject();
	if (cJSON_GetObjectItemCaseSensitive(*raw, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(*raw, key, cJSON_Duplicate(v, 1));
	else
		cJSON_AddItemToObject(*raw, key, cJSON_Duplicate(v, 1));
}

/* A singleton component ("sys", "wifi" ...). Returns 1 when type is one this parser stores. */
static int
apply_singleton(struct device_status *st, const char *type, const cJSON *v)
{
	if (strcmp(type, "sys") == 0)
		apply_sys(st, v);
	else if (strcmp(type, "wifi") == 0)
		apply_wifi(st, v);
	else if (strcmp(type, "eth") == 0) {
		st->has_eth = 1;
		set_str(st->eth_ip, sizeof st->eth_ip, v, "ip");
	} else if (strcmp(type, "cloud") == 0)
		set_bool(&st->cloud_connected, v, "connected");
	else if (strcmp(type, "mqtt") == 0)
		set_bool(&st->mqtt_connected, v, "connected");
	else if (strcmp(type, "ws") == 0)
		set_bool(&st->ws_connected, v, "connected");
	else
		return 0;
	return 1;
}

/* The meter components: status type -> the meter kind it fills and its reader. */
static const struct {
	const char *type, *kind;
	void (*apply)(struct dev_meter *, const cJSON *);
} meter_types[] = {
	{"em", "em", apply_em},
	{"emdata", "em", apply_em},
	{"em1", "em1", apply_em1},
	{"em1data", "em1", apply_em1},
	{"pm1", "pm1", apply_pm1},
};

/* A sensor component "type:id". Returns 1 when stored, 0 when unknown or st has no room. */
static int
apply_sensor(struct device_status *st, const char *type, int id, const cJSON *v)
{
	if (strcmp(type, "temperature") == 0) {
		struct dev_temp_sensor *t = temp_slot(st, id);

		if (t == NULL)
			return 0;
		set_num(&t->temperature_c, v, "tC");
	} else if (strcmp(type, "humidity") == 0) {
		struct dev_hum_sensor *h = hum_slot(st, id);

		if (h == NULL)
			return 0;
		set_num(&h->humidity_pct, v, "rh");
	} else if (strcmp(type, "illuminance") == 0 && id == 0) {
		set_num(&st->sensors.illuminance_lux, v, "lux");
		set_str(
		    st->sensors.illumination, sizeof st->sensors.illumination, v, "illumination");
	} else if (strcmp(type, "devicepower") == 0 && id == 0) {
		set_sub_num(&st->sensors.battery_pct, v, "battery", "percent");
		set_sub_num(&st->sensors.battery_v, v, "battery", "V");
		if (json_get(v, "external") != NULL)
			st->sensors.external_power =
			    json_get_bool(json_get(v, "external"), "present");
	} else if (strcmp(type, "smoke") == 0 && id == 0) {
		set_bool(&st->sensors.smoke, v, "alarm");
	} else if (strcmp(type, "flood") == 0 && id == 0) {
		set_bool(&st->sensors.flood, v, "alarm");
	} else if (strcmp(type, "thermostat") == 0) {
		struct dev_thermostat *t = thermostat_slot(st, id);

		if (t == NULL)
			return 0;
		set_bool(&t->enable, v, "enable");
		set_bool(&t->output, v, "output");
		set_num(&t->target_c, v, "target_C");
		set_num(&t->current_c, v, "current_C");
	} else {
		return 0;
	}
	return 1;
}

/* An indexed component "type:id". Returns 1 when stored, 0 when unknown or st has no room. */
static int
apply_indexed(struct device_status *st, const char *type, int id, const cJSON *v, int replace)
{
	if (strcmp(type, "switch") == 0) {
		struct dev_switch *s = switch_slot(st, id, replace);

		if (s != NULL)
			apply_switch(s, v, !replace);
		return s != NULL;
	}
	if (strcmp(type, "cover") == 0) {
		struct dev_cover *c = cover_slot(st, id, replace);

		if (c != NULL)
			apply_cover(c, v, !replace);
		return c != NULL;
	}
	if (strcmp(type, "light") == 0 || strcmp(type, "rgb") == 0 ||
	    strcmp(type, "rgbw") == 0 || strcmp(type, "cct") == 0) {
		struct dev_light *l = light_slot(st, type, id, replace);

		if (l != NULL)
			apply_light(l, v, !replace);
		return l != NULL;
	}
	if (strcmp(type, "input") == 0) {
		struct dev_input *in = input_slot(st, id, replace);

		if (in != NULL)
			apply_input(in, v);
		return in != NULL;
	}
	for (size_t i = 0; i < sizeof meter_types / sizeof meter_types[0]; i++) {
		if (strcmp(type, meter_types[i].type) == 0) {
			struct dev_meter *m = meter_slot(st, meter_types[i].kind, id);

			if (m != NULL)
				meter_types[i].apply(m, v);
			return m != NULL;
		}
	}
	return apply_sensor(st, type, id, v);
}

/*
 * Stores one component of a status object into st. replace: start the component from unknown
 * (a full status or <Type>.GetStatus); otherwise overlay present fields (merge). What this
 * parser does not know, or has no room for, is kept in raw.
 */
static void
apply_component(struct device_status *st, const char *key, const cJSON *v, int replace, cJSON **raw)
{
	char type[DEV_SHORT_LEN];
	int id, stored;

	if (split_key(key, type, sizeof type, &id) < 0 ||
	    (!cJSON_IsObject(v) && !cJSON_IsNull(v))) {
		raw_put(raw, key, v);
		return;
	}
	if (cJSON_IsNull(v)) {
		/* a component slot that is configured off ("switch:0": null in a cover profile) */
		return;
	}
	stored = id < 0 ? apply_singleton(st, type, v) : apply_indexed(st, type, id, v, replace);
	if (!stored)
		raw_put(raw, key, v);
}

/* Internal temperature: the hottest component that reports one. */
static void
device_temperature(struct device_status *st)
{
	double t = NAN;

	for (int i = 0; i < st->nswitches; i++)
		if (dev_known(st->switches[i].temperature_c) &&
		    (!dev_known(t) || st->switches[i].temperature_c > t))
			t = st->switches[i].temperature_c;
	for (int i = 0; i < st->ncovers; i++)
		if (dev_known(st->covers[i].temperature_c) &&
		    (!dev_known(t) || st->covers[i].temperature_c > t))
			t = st->covers[i].temperature_c;
	for (int i = 0; i < st->nlights; i++)
		if (dev_known(st->lights[i].temperature_c) &&
		    (!dev_known(t) || st->lights[i].temperature_c > t))
			t = st->lights[i].temperature_c;
	st->sys.device_temperature_c = t;
}

/*
 * Parses body and finds the object to read: the body itself, or the "result" of a response
 * frame. An error frame fails with the described error. Returns the tree to free, or NULL.
 */
static cJSON *
parse_result(const char *body, size_t len, const cJSON **obj, const char *what, char **cause)
{
	cJSON *root = json_parse(body, len, JSON_MAX_DEPTH, cause);
	const cJSON *o, *err;

	*obj = NULL;
	if (root == NULL)
		return NULL;
	o = root;
	if (cJSON_IsObject(o) && (err = json_get_object(o, "error")) != NULL &&
	    (json_get(o, "id") != NULL || json_get(o, "src") != NULL ||
	        json_get(o, "dst") != NULL)) {
		long long c = 0;
		char *msg;

		json_get_int(err, "code", -2147483647LL, 2147483647LL, &c);
		msg = rpc_error_describe((int)c, json_get_string(err, "message"));
		if (cause != NULL)
			*cause = xasprintf("%s: device answered with an error: %s", what, msg);
		free(msg);
		cJSON_Delete(root);
		return NULL;
	}
	if (cJSON_IsObject(o) && json_get(o, "result") != NULL &&
	    (json_get(o, "src") != NULL || json_get(o, "dst") != NULL ||
	        cJSON_IsNumber(json_get(o, "id"))))
		o = json_get(o, "result");
	if (!cJSON_IsObject(o)) {
		if (cause != NULL)
			*cause = xasprintf("%s: reply is not a JSON object", what);
		cJSON_Delete(root);
		return NULL;
	}
	*obj = o;
	return root;
}

/* Folds raw into st->raw_unknown (merging with what is there); consumes raw. */
static void
store_raw(struct device_status *st, cJSON *raw)
{
	cJSON *old, *e;

	if (raw == NULL)
		return;
	if (st->raw_unknown != NULL && (old = cJSON_Parse(st->raw_unknown)) != NULL) {
		cJSON_ArrayForEach(e, raw) raw_put(&old, e->string, e);
		cJSON_Delete(raw);
		raw = old;
	}
	free(st->raw_unknown);
	st->raw_unknown = json_print(raw, 0);
	cJSON_Delete(raw);
}

int
gen2_parse_status(const char *body, size_t len, struct device_status *out, char **cause)
{
	const cJSON *o, *e;
	cJSON *root, *raw = NULL;

	device_status_init(out);
	root = parse_result(body, len, &o, "Shelly.GetStatus", cause);
	if (root == NULL)
		return -1;
	cJSON_ArrayForEach(e, o) if (e->string != NULL) apply_component(out, e->string, e, 1, &raw);
	bounds_apply(out);
	device_temperature(out);
	store_raw(out, raw);
	cJSON_Delete(root);
	return 0;
}

int
gen2_merge_status(const char *body, size_t len, struct device_status *st, char **cause)
{
	const cJSON *o, *e;
	cJSON *root, *raw = NULL;

	root = parse_result(body, len, &o, "status update", cause);
	if (root == NULL)
		return -1;
	cJSON_ArrayForEach(e, o) if (e->string != NULL && strcmp(e->string, "ts") != 0)
	    apply_component(st, e->string, e, 0, &raw);
	bounds_apply(st);
	device_temperature(st);
	store_raw(st, raw);
	cJSON_Delete(root);
	return 0;
}

int
gen2_parse_component_status(
    const char *key, const char *body, size_t len, struct device_status *st, char **cause)
{
	const cJSON *o;
	cJSON *root, *raw = NULL;
	char full[DEV_SHORT_LEN + 16], type[DEV_SHORT_LEN];
	long long id;
	size_t n;

	if (key == NULL || *key == '\0' || strlen(key) >= DEV_SHORT_LEN) {
		if (cause != NULL)
			*cause = xstrdup("component status: invalid component key");
		return -1;
	}
	root = parse_result(body, len, &o, "component status", cause);
	if (root == NULL)
		return -1;
	n = strcspn(key, ":");
	memcpy(type, key, n);
	type[n] = '\0';
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (key[n] == ':')
		snprintf(full, sizeof full, "%s%s", type, key + n);
	else if (json_get_int(o, "id", 0, MAX_COMPONENT_ID, &id) == 0)
		snprintf(full, sizeof full, "%s:%lld", type, id);
	else
		snprintf(full, sizeof full, "%s", type);
	apply_component(st, full, o, 1, &raw);
	bounds_apply(st);
	device_temperature(st);
	store_raw(st, raw);
	cJSON_Delete(root);
	return 0;
}

/* Records name (and input type) of a "type:id" component config; one entry per key. */
static void
add_component_cfg(struct gen2_config *c, const char *key, const cJSON *v)
{
	struct gen2_component_cfg *cc = NULL;
	char type[DEV_SHORT_LEN];
	int id;

	if (!cJSON_IsObject(v) || split_key(key, type, sizeof type, &id) < 0 || id < 0 ||
	    strlen(key) >= sizeof cc->key)
		return;
	for (int i = 0; i < c->ncomponents; i++)
		if (strcmp(c->components[i].key, key) == 0)
			cc = &c->components[i];
	if (cc == NULL) {
		if (c->ncomponents >= GEN2_MAX_CONFIG_COMPONENTS)
			return;
		cc = &c->components[c->ncomponents++];
		memset(cc, 0, sizeof *cc);
		json_strlcpy(cc->key, key, sizeof cc->key);
	}
	json_get_strbuf(v, "name", cc->name, sizeof cc->name);
	if (strcmp(type, "input") == 0)
		json_get_strbuf(v, "type", cc->type, sizeof cc->type);
}

void
gen2_config_init(struct gen2_config *c)
{
	memset(c, 0, sizeof *c);
	c->discoverable = c->eco_mode = DEV_UNKNOWN;
	c->cfg_rev = c->lat = c->lon = NAN;
	c->wifi_sta_enable = c->wifi_ap_enable = c->eth_enable = c->ble_enable = DEV_UNKNOWN;
	c->cloud_enable = c->mqtt_enable = c->ws_enable = DEV_UNKNOWN;
}

int
gen2_parse_config(const char *body, size_t len, struct gen2_config *out, char **cause)
{
	const cJSON *o, *sys, *d, *e, *x;
	cJSON *root;

	gen2_config_init(out);
	root = parse_result(body, len, &o, "Shelly.GetConfig", cause);
	if (root == NULL)
		return -1;
	sys = json_get_object(o, "sys");
	if ((d = json_get_object(sys, "device")) != NULL) {
		json_get_strbuf(d, "name", out->name, sizeof out->name);
		json_get_strbuf(d, "profile", out->profile, sizeof out->profile);
		device_mac_normalise(json_get_string(d, "mac"), out->mac);
		json_get_strbuf(d, "fw_id", out->fw, sizeof out->fw);
		out->discoverable = json_get_bool(d, "discoverable");
		out->eco_mode = json_get_bool(d, "eco_mode");
	}
	out->cfg_rev = json_get_number(sys, "cfg_rev");
	json_get_strbuf(
	    json_get_object(sys, "sntp"), "server", out->sntp_server, sizeof out->sntp_server);
	if ((x = json_get_object(sys, "location")) != NULL) {
		json_get_strbuf(x, "tz", out->tz, sizeof out->tz);
		out->lat = json_get_number(x, "lat");
		out->lon = json_get_number(x, "lon");
	}
	if ((x = json_get_object(o, "wifi")) != NULL) {
		const cJSON *sta = json_get_object(x, "sta"), *ap = json_get_object(x, "ap");

		out->wifi_sta_enable = json_get_bool(sta, "enable");
		json_get_strbuf(sta, "ssid", out->wifi_sta_ssid, sizeof out->wifi_sta_ssid);
		json_get_strbuf(
		    sta, "ipv4mode", out->wifi_sta_ipv4mode, sizeof out->wifi_sta_ipv4mode);
		json_get_strbuf(sta, "ip", out->wifi_sta_ip, sizeof out->wifi_sta_ip);
		out->wifi_ap_enable = json_get_bool(ap, "enable");
		json_get_strbuf(ap, "ssid", out->wifi_ap_ssid, sizeof out->wifi_ap_ssid);
	}
	out->eth_enable = json_get_bool(json_get_object(o, "eth"), "enable");
	out->ble_enable = json_get_bool(json_get_object(o, "ble"), "enable");
	if ((x = json_get_object(o, "cloud")) != NULL) {
		out->cloud_enable = json_get_bool(x, "enable");
		json_get_strbuf(x, "server", out->cloud_server, sizeof out->cloud_server);
	}
	if ((x = json_get_object(o, "mqtt")) != NULL) {
		out->mqtt_enable = json_get_bool(x, "enable");
		json_get_strbuf(x, "server", out->mqtt_server, sizeof out->mqtt_server);
		json_get_strbuf(x, "client_id", out->mqtt_client_id, sizeof out->mqtt_client_id);
		json_get_strbuf(x, "user", out->mqtt_user, sizeof out->mqtt_user);
		json_get_strbuf(
		    x, "topic_prefix", out->mqtt_topic_prefix, sizeof out->mqtt_topic_prefix);
	}
	if ((x = json_get_object(o, "ws")) != NULL) {
		out->ws_enable = json_get_bool(x, "enable");
		json_get_strbuf(x, "server", out->ws_server, sizeof out->ws_server);
	}
	cJSON_ArrayForEach(e, o) if (e->string != NULL) add_component_cfg(out, e->string, e);
	cJSON_Delete(root);
	return 0;
}

int
gen2_parse_components(const char *body, size_t len, struct device_status *st,
    struct gen2_config *cfg, int *next_offset, char **cause)
{
	const cJSON *o, *arr, *e;
	cJSON *root, *raw = NULL;
	long long offset = 0, total = -1;
	int n = 0;

	if (next_offset != NULL)
		*next_offset = -1;
	root = parse_result(body, len, &o, "Shelly.GetComponents", cause);
	if (root == NULL)
		return -1;
	if ((arr = json_get_array(o, "components")) == NULL) {
		if (cause != NULL)
			*cause = xstrdup("Shelly.GetComponents: no \"components\" list");
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(e, arr)
	{
		const char *key = json_get_string(e, "key");
		const cJSON *v;

		n++;
		if (key == NULL)
			continue;
		if (st != NULL && (v = json_get(e, "status")) != NULL)
			apply_component(st, key, v, 1, &raw);
		if (cfg != NULL && (v = json_get(e, "config")) != NULL)
			add_component_cfg(cfg, key, v);
	}
	if (st != NULL) {
		bounds_apply(st);
		device_temperature(st);
		store_raw(st, raw);
	}
	json_get_int(o, "offset", 0, 1000000, &offset);
	json_get_int(o, "total", 0, 1000000, &total);
	if (next_offset != NULL && total >= 0 && n > 0 && offset + n < total)
		*next_offset = (int)(offset + n);
	cJSON_Delete(root);
	return 0;
}

int
gen2_parse_device_info(const char *body, size_t len, struct device_ident *out, char **cause)
{
	return shelly_parse_ident(body, len, out, cause);
}

int
gen2_parse_rpc_error(const char *body, size_t len, int *code, char **message)
{
	return rpc_parse_error(body, len, code, message);
}

/* Frame ids are numbers or strings; kept as text. */
static void
frame_id(const cJSON *v, char *dst, size_t size)
{
	long long n;

	if (json_string(v) != NULL)
		json_strlcpy(dst, json_string(v), size);
	else if (cJSON_IsNumber(v) &&
	         json_int(v, -9000000000000000000LL, 9000000000000000000LL, &n) == 0)
		snprintf(dst, size, "%lld", n);
	else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
		snprintf(dst, size, "%.17g", v->valuedouble);
}

int
gen2_parse_frame(const char *body, size_t len, struct gen2_frame *out, char **cause)
{
	cJSON *root;
	const cJSON *err, *res, *params;
	long long c = 0;

	memset(out, 0, sizeof *out);
	root = json_parse_object(body, len, JSON_MAX_DEPTH, "RPC frame", cause);
	if (root == NULL)
		return -1;
	err = json_get(root, "error");
	res = json_get(root, "result");
	if (err == NULL && res == NULL && json_get_string(root, "method") == NULL) {
		if (cause != NULL)
			*cause = xstrdup("not an RPC frame (no result, error or method)");
		cJSON_Delete(root);
		return -1;
	}
	frame_id(json_get(root, "id"), out->id, sizeof out->id);
	json_get_strbuf(root, "src", out->src, sizeof out->src);
	json_get_strbuf(root, "dst", out->dst, sizeof out->dst);
	json_get_strbuf(root, "method", out->method, sizeof out->method);
	if (err != NULL) {
		out->is_error = 1;
		if (json_get_int(err, "code", -2147483647LL, 2147483647LL, &c) == 0)
			out->error_code = (int)c;
		out->error_message = str_sanitize(json_get_string(err, "message"), 1024);
	} else if (res != NULL) {
		out->result = json_print(res, 0);
	}
	if ((params = json_get(root, "params")) != NULL)
		out->params = json_print(params, 0);
	cJSON_Delete(root);
	return 0;
}

void
gen2_frame_done(struct gen2_frame *f)
{
	free(f->error_message);
	free(f->result);
	free(f->params);
	memset(f, 0, sizeof *f);
}

void
gen2_config_apply(const struct gen2_config *c, struct device_ident *ident, struct device_status *st)
{
	if (c == NULL)
		return;
	if (ident != NULL) {
		if (ident->name[0] == '\0')
			json_strlcpy(ident->name, c->name, sizeof ident->name);
		if (ident->profile[0] == '\0')
			json_strlcpy(ident->profile, c->profile, sizeof ident->profile);
	}
	if (st == NULL)
		return;
	for (int i = 0; i < c->ncomponents; i++) {
		const struct gen2_component_cfg *cc = &c->components[i];
		char type[DEV_SHORT_LEN];
		int id;

		if (split_key(cc->key, type, sizeof type, &id) < 0 || id < 0)
			continue;
		if (strcmp(type, "switch") == 0) {
			struct dev_switch *s = device_status_switch(st, id);

			if (s != NULL)
				json_strlcpy(s->name, cc->name, sizeof s->name);
		} else if (strcmp(type, "cover") == 0) {
			struct dev_cover *cv = device_status_cover(st, id);

			if (cv != NULL)
				json_strlcpy(cv->name, cc->name, sizeof cv->name);
		} else if (strcmp(type, "input") == 0) {
			struct dev_input *in = device_status_input(st, id);

			if (in != NULL) {
				json_strlcpy(in->name, cc->name, sizeof in->name);
				if (cc->type[0] != '\0')
					json_strlcpy(in->type, cc->type, sizeof in->type);
			}
		} else if (strcmp(type, "em") == 0 || strcmp(type, "em1") == 0 ||
		           strcmp(type, "pm1") == 0) {
			struct dev_meter *m = device_status_meter(st, type, id);

			if (m != NULL)
				json_strlcpy(m->name, cc->name, sizeof m->name);
		} else if (strcmp(type, "temperature") == 0 || strcmp(type, "humidity") == 0) {
			int hum = type[0] == 'h';
			int n = hum ? st->sensors.nhums : st->sensors.ntemps;

			for (int k = 0; k < n; k++) {
				if (hum && st->sensors.hums[k].id == id)
					json_strlcpy(st->sensors.hums[k].name, cc->name,
					    sizeof st->sensors.hums[k].name);
				else if (!hum && st->sensors.temps[k].id == id)
					json_strlcpy(st->sensors.temps[k].name, cc->name,
					    sizeof st->sensors.temps[k].name);
			}
		} else {
			for (int k = 0; k < st->nlights; k++)
				if (st->lights[k].id == id && strcmp(st->lights[k].kind, type) == 0)
					json_strlcpy(st->lights[k].name, cc->name,
					    sizeof st->lights[k].name);
		}
	}
}
