#include "shelly/gen2.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/bounds.h"
#include "shelly/ident.h"
#include "shelly/members.h"
#include "shelly/rpc.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define MAX_COMPONENT_ID 1000000

/* What a switch, cover, light and pm1 meter measure alike. */
#define POWER_RD(st)                                                                     \
	MEMBER_NUM(st, "", "apower", power_w), MEMBER_NUM(st, "", "voltage", voltage_v), \
	    MEMBER_NUM(st, "", "current", current_a),                                    \
	    MEMBER_SUB(st, "aenergy", "total", energy_wh)
#define MAINS_RD(st) MEMBER_NUM(st, "", "pf", pf), MEMBER_NUM(st, "", "freq", freq_hz)
/* An output's temperature and what changed it last. */
#define OUTPUT_RD(st) \
	MEMBER_SUB(st, "temperature", "tC", temperature_c), MEMBER_STR(st, "", "source", source)
#define RETURNED_RD(st) MEMBER_SUB(st, "ret_aenergy", "total", ret_energy_wh)

static const struct member switch_rd[] = {
    MEMBER_BOOL(dev_switch, "", "output", output),
    POWER_RD(dev_switch),
    MAINS_RD(dev_switch),
    RETURNED_RD(dev_switch),
    OUTPUT_RD(dev_switch),
};

static const struct member cover_rd[] = {
    POWER_RD(dev_cover),
    MAINS_RD(dev_cover),
    OUTPUT_RD(dev_cover),
    MEMBER_BOOL(dev_cover, "", "pos_control", pos_control),
    /* past an end: model/bounds clamps it */
    MEMBER_NUM(dev_cover, "", "current_pos", position_pct),
    MEMBER_STR(dev_cover, "", "last_direction", last_direction),
};

static const struct member light_rd[] = {
    MEMBER_BOOL(dev_light, "", "output", output),
    MEMBER_NUM(dev_light, "", "brightness", brightness_pct),
    MEMBER_NUM(dev_light, "", "white", white),
    MEMBER_NUM(dev_light, "", "ct", color_temp_k),
    POWER_RD(dev_light),
    OUTPUT_RD(dev_light),
};

static const struct member input_rd[] = {
    MEMBER_BOOL(dev_input, "", "state", state),
    MEMBER_NUM(dev_input, "", "percent", percent),
    MEMBER_SUB(dev_input, "counts", "total", count_total),
    MEMBER_NUM(dev_input, "", "freq", freq_hz),
};

/* An em1 meter, and each phase of an em meter with the phase's prefix ("a_"). */
#define METER_RD(st)                                                                        \
	MEMBER_NUM(st, "", "voltage", voltage_v), MEMBER_NUM(st, "", "current", current_a), \
	    MEMBER_NUM(st, "", "act_power", power_w),                                       \
	    MEMBER_NUM(st, "", "aprt_power", aprt_power_va), MAINS_RD(st),                  \
	    MEMBER_NUM(st, "", "total_act_energy", energy_wh),                              \
	    MEMBER_NUM(st, "", "total_act_ret_energy", ret_energy_wh)

static const struct member em1_rd[] = {METER_RD(dev_meter)};
static const struct member phase_rd[] = {METER_RD(dev_phase)};

/* The totals of an em meter (its phases: em_more). */
static const struct member em_rd[] = {MEMBER_NUM(dev_meter, "", "total_current", current_a),
    MEMBER_NUM(dev_meter, "", "total_act_power", power_w),
    MEMBER_NUM(dev_meter, "", "total_aprt_power", aprt_power_va),
    MEMBER_NUM(dev_meter, "", "n_current", n_current_a),
    MEMBER_NUM(dev_meter, "", "total_act", energy_wh),
    MEMBER_NUM(dev_meter, "", "total_act_ret", ret_energy_wh)};

static const struct member pm1_rd[] = {
    POWER_RD(dev_meter),
    MAINS_RD(dev_meter),
    RETURNED_RD(dev_meter),
};

static const struct member temp_rd[] = {MEMBER_NUM(dev_temp_sensor, "", "tC", temperature_c)};
static const struct member hum_rd[] = {MEMBER_NUM(dev_hum_sensor, "", "rh", humidity_pct)};
static const struct member voltmeter_rd[] = {
    MEMBER_NUM(dev_voltmeter, "", "voltage", voltage_v)};

static const struct member thermostat_rd[] = {
    MEMBER_BOOL(dev_thermostat, "", "enable", enable),
    MEMBER_BOOL(dev_thermostat, "", "output", output),
    MEMBER_NUM(dev_thermostat, "", "target_C", target_c),
    MEMBER_NUM(dev_thermostat, "", "current_C", current_c),
};

/* The singleton components, read into the status itself. */
static const struct member sys_rd[] = {
    MEMBER_NUM(device_status, "", "uptime", sys.uptime_s),
    MEMBER_NUM(device_status, "", "unixtime", sys.unixtime),
    MEMBER_NUM(device_status, "", "ram_size", sys.ram_total),
    MEMBER_NUM(device_status, "", "ram_free", sys.ram_free),
    MEMBER_NUM(device_status, "", "fs_size", sys.fs_total),
    MEMBER_NUM(device_status, "", "fs_free", sys.fs_free),
    MEMBER_NUM(device_status, "", "cfg_rev", sys.cfg_rev),
    MEMBER_BOOL(device_status, "", "restart_required", sys.restart_required),
    MEMBER_NUM(device_status, "", "wakeup_period", sys.wakeup_period_s),
};

static const struct member wifi_rd[] = {
    MEMBER_STR(device_status, "", "ssid", wifi.ssid),
    MEMBER_STR(device_status, "", "sta_ip", wifi.ip),
    MEMBER_NUM(device_status, "", "rssi", wifi.rssi_dbm),
};

static const struct member eth_rd[] = {MEMBER_STR(device_status, "", "ip", eth_ip)};
static const struct member cloud_rd[] = {
    MEMBER_BOOL(device_status, "", "connected", cloud_connected)};
static const struct member mqtt_rd[] = {
    MEMBER_BOOL(device_status, "", "connected", mqtt_connected)};
static const struct member ws_rd[] = {MEMBER_BOOL(device_status, "", "connected", ws_connected)};

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

/* The component arrays of a status. */
enum slot {
	SL_SWITCH,
	SL_COVER,
	SL_LIGHT,
	SL_INPUT,
	SL_METER,
	SL_TEMP,
	SL_HUM,
	SL_THERMOSTAT,
	SL_VOLTMETER
};

/*
 * Where an array is in struct device_status and what its slots hold: the id first, a kind text
 * (lights, meters) and a name at the offsets given (0: none). A replaced slot keeps its keep_len
 * bytes at name_off (name, and an input's type, come from the configuration, not the status);
 * keep_len 0: an existing slot is overlaid, never started again.
 */
static const struct slot_array {
	size_t items, count, size, kind_off, name_off, keep_len;
} slot_arrays[] = {
#define ARRAY(arr, n, st, kind, keep)                                                   \
	{                                                                               \
		offsetof(struct device_status, arr), offsetof(struct device_status, n), \
		    sizeof(struct st), kind, offsetof(struct st, name), keep            \
	}
    [SL_SWITCH] = ARRAY(switches, nswitches, dev_switch, 0, DEV_NAME_LEN),
    [SL_COVER] = ARRAY(covers, ncovers, dev_cover, 0, DEV_NAME_LEN),
    /* name and kind, side by side */
    [SL_LIGHT] = ARRAY(
        lights, nlights, dev_light, offsetof(struct dev_light, kind), DEV_NAME_LEN + DEV_SHORT_LEN),
    /* name and type, side by side */
    [SL_INPUT] = ARRAY(inputs, ninputs, dev_input, 0, DEV_NAME_LEN + DEV_SHORT_LEN),
    [SL_METER] = ARRAY(meters, nmeters, dev_meter, offsetof(struct dev_meter, kind), 0),
    [SL_TEMP] = ARRAY(sensors.temps, sensors.ntemps, dev_temp_sensor, 0, 0),
    [SL_HUM] = ARRAY(sensors.hums, sensors.nhums, dev_hum_sensor, 0, 0),
    [SL_THERMOSTAT] = {offsetof(struct device_status, sensors.thermostats),
        offsetof(struct device_status, sensors.nthermostats), sizeof(struct dev_thermostat), 0, 0,
        0},
    /* the name comes from the configuration */
    [SL_VOLTMETER] = ARRAY(
        sensors.voltmeters, sensors.nvoltmeters, dev_voltmeter, 0, DEV_NAME_LEN),
#undef ARRAY
};

_Static_assert(offsetof(struct dev_light, kind) == offsetof(struct dev_light, name) + DEV_NAME_LEN,
    "a light's kind follows its name");
_Static_assert(offsetof(struct dev_input, type) == offsetof(struct dev_input, name) + DEV_NAME_LEN,
    "an input's type follows its name");

static void
switch_more(void *c, const cJSON *o, int merge)
{
	struct dev_switch *s = c;

	set_errors(s->errors, sizeof s->errors, &s->overpower, &s->overtemp, &s->overvoltage,
	    &s->undervoltage, o, merge);
}

static void
cover_more(void *p, const cJSON *o, int merge)
{
	struct dev_cover *c = p;
	const cJSON *v;

	if ((v = json_get(o, "state")) != NULL)
		c->state = cover_state_parse(json_string(v));
	if (c->pos_control == 0)
		c->position_pct = NAN; /* not calibrated: a position would be a guess */
	set_errors(c->errors, sizeof c->errors, &c->overpower, &c->overtemp, NULL, NULL, o, merge);
}

static void
light_more(void *p, const cJSON *o, int merge)
{
	struct dev_light *l = p;
	const cJSON *rgb;

	if ((rgb = json_get(o, "rgb")) != NULL) {
		for (int i = 0; i < 3; i++) {
			long long c;

			l->rgb[i] = -1;
			if (cJSON_GetArraySize(rgb) == 3 &&
			    json_int(cJSON_GetArrayItem(rgb, i), 0, 255, &c) == 0)
				l->rgb[i] = (int)c;
		}
	}
	set_errors(l->errors, sizeof l->errors, &l->overpower, &l->overtemp, NULL, NULL, o, merge);
}

/* An input that reports a percentage is analog, one that counts is a counter. */
static void
input_more(void *p, const cJSON *o, int merge)
{
	struct dev_input *in = p;

	(void)merge;
	if (in->type[0] == '\0' && json_get(o, "percent") != NULL)
		json_strlcpy(in->type, "analog", sizeof in->type);
	if (in->type[0] == '\0' && json_get(o, "counts") != NULL)
		json_strlcpy(in->type, "count", sizeof in->type);
}

static void
em_more(void *p, const cJSON *o, int merge)
{
	struct dev_meter *m = p;
	char prefix[3] = "a_";

	(void)merge;
	m->nphases = 3;
	for (int i = 0; i < 3; i++) {
		prefix[0] = (char)('a' + i);
		m->phases[i].label = prefix[0];
		members_read(&m->phases[i], MEMBERS(phase_rd), prefix, o);
	}
}

/*
 * The indexed components ("type:id") this parser stores: the array, the kind text its slots
 * carry (NULL: none), the members the table reads and what the table cannot say (or NULL).
 */
static const struct comp_kind {
	const char *type, *kind;
	enum slot slot;
	const struct member *rd;
	size_t nrd;
	void (*more)(void *c, const cJSON *o, int merge);
} comp_kinds[] = {
    {"switch", NULL, SL_SWITCH, MEMBERS(switch_rd), switch_more},
    {"cover", NULL, SL_COVER, MEMBERS(cover_rd), cover_more},
    {"light", "light", SL_LIGHT, MEMBERS(light_rd), light_more},
    {"rgb", "rgb", SL_LIGHT, MEMBERS(light_rd), light_more},
    {"rgbw", "rgbw", SL_LIGHT, MEMBERS(light_rd), light_more},
    {"cct", "cct", SL_LIGHT, MEMBERS(light_rd), light_more},
    {"rgbcct", "rgbcct", SL_LIGHT, MEMBERS(light_rd), light_more},
    {"input", NULL, SL_INPUT, MEMBERS(input_rd), input_more},
    {"em", "em", SL_METER, MEMBERS(em_rd), em_more},
    {"emdata", "em", SL_METER, MEMBERS(em_rd), em_more},
    {"em1", "em1", SL_METER, MEMBERS(em1_rd), NULL},
    {"em1data", "em1", SL_METER, MEMBERS(em1_rd), NULL},
    {"pm1", "pm1", SL_METER, MEMBERS(pm1_rd), NULL},
    {"temperature", NULL, SL_TEMP, MEMBERS(temp_rd), NULL},
    {"humidity", NULL, SL_HUM, MEMBERS(hum_rd), NULL},
    {"thermostat", NULL, SL_THERMOSTAT, MEMBERS(thermostat_rd), NULL},
    {"voltmeter", NULL, SL_VOLTMETER, MEMBERS(voltmeter_rd), NULL},
};

static const struct comp_kind *
comp_kind_of(const char *type)
{
	for (size_t i = 0; i < sizeof comp_kinds / sizeof comp_kinds[0]; i++)
		if (strcmp(type, comp_kinds[i].type) == 0)
			return &comp_kinds[i];
	return NULL;
}

/* Starts slot p of kind k again with every value unknown. */
static void
slot_init(const struct comp_kind *k, void *p, int id)
{
	struct dev_temp_sensor *t = p;
	struct dev_hum_sensor *h = p;

	switch (k->slot) {
	case SL_SWITCH:
		dev_switch_init(p, id);
		break;
	case SL_COVER:
		dev_cover_init(p, id);
		break;
	case SL_LIGHT:
		dev_light_init(p, id);
		json_strlcpy(((struct dev_light *)p)->kind, k->kind, DEV_SHORT_LEN);
		break;
	case SL_INPUT:
		dev_input_init(p, id);
		break;
	case SL_METER:
		dev_meter_init(p, id, k->kind);
		break;
	case SL_TEMP:
		memset(t, 0, sizeof *t);
		t->id = id;
		t->temperature_c = NAN;
		break;
	case SL_HUM:
		memset(h, 0, sizeof *h);
		h->id = id;
		h->humidity_pct = NAN;
		break;
	case SL_THERMOSTAT:
		dev_thermostat_init(p, id);
		break;
	case SL_VOLTMETER:
		dev_voltmeter_init(p, id);
		break;
	}
}

/* The existing slot of component k:id in st, or NULL. */
static void *
slot_find(struct device_status *st, const struct comp_kind *k, int id)
{
	const struct slot_array *a = &slot_arrays[k->slot];
	char *p = (char *)st + a->items;
	int n = *(int *)(void *)((char *)st + a->count);

	for (int i = 0; i < n; i++, p += a->size)
		if (*(int *)(void *)p == id &&
		    (a->kind_off == 0 || strcmp(p + a->kind_off, k->kind) == 0))
			return p;
	return NULL;
}

/*
 * The slot of a component: the existing one or a new one, NULL when the array is full.
 * replace: an existing slot starts again from unknown, keeping what slot_arrays says it keeps.
 */
static void *
slot_of(struct device_status *st, const struct comp_kind *k, int id, int replace)
{
	const struct slot_array *a = &slot_arrays[k->slot];
	int *n = (int *)(void *)((char *)st + a->count);
	char *p = slot_find(st, k, id), keep[DEV_NAME_LEN + DEV_SHORT_LEN];

	if (p != NULL) {
		if (replace && a->keep_len > 0) {
			memcpy(keep, p + a->name_off, a->keep_len);
			slot_init(k, p, id);
			memcpy(p + a->name_off, keep, a->keep_len);
		}
		return p;
	}
	if (*n >= DEVICE_MAX_COMPONENTS)
		return NULL;
	p = (char *)st + a->items + (size_t)(*n)++ * a->size;
	slot_init(k, p, id);
	return p;
}

/* A sensor that stands once on a device ("illuminance:0" ...). Returns 1 when stored. */
static int
apply_sensor(struct device_status *st, const char *type, const cJSON *v)
{
	struct dev_sensors *s = &st->sensors;
	const cJSON *x;

	if (strcmp(type, "illuminance") == 0) {
		if ((x = json_get(v, "lux")) != NULL)
			s->illuminance_lux = json_number(x);
		if ((x = json_get(v, "illumination")) != NULL)
			json_strlcpy(s->illumination, json_string(x), sizeof s->illumination);
	} else if (strcmp(type, "devicepower") == 0) {
		if ((x = json_get(v, "battery")) != NULL) {
			s->battery_pct = json_get_number(x, "percent");
			s->battery_v = json_get_number(x, "V");
		}
		if ((x = json_get(v, "external")) != NULL)
			s->external_power = json_get_bool(x, "present");
	} else if (strcmp(type, "smoke") == 0 || strcmp(type, "flood") == 0) {
		if ((x = json_get(v, "alarm")) != NULL)
			*(type[0] == 's' ? &s->smoke : &s->flood) = json_bool(x);
	} else {
		return 0;
	}
	return 1;
}

/* An indexed component "type:id". Returns 1 when stored, 0 when unknown or st has no room. */
static int
apply_indexed(struct device_status *st, const char *type, int id, const cJSON *v, int replace)
{
	const struct comp_kind *k = comp_kind_of(type);
	void *c;

	if (k == NULL)
		return id == 0 && apply_sensor(st, type, v);
	if ((c = slot_of(st, k, id, replace)) == NULL)
		return 0;
	members_read(c, k->rd, k->nrd, "", v);
	if (k->more != NULL)
		k->more(c, v, !replace);
	return 1;
}

static void
sys_more(struct device_status *st, const cJSON *o)
{
	const cJSON *u;

	if (json_get(o, "mac") != NULL)
		device_mac_normalise(json_get_string(o, "mac"), st->sys.mac);
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
wifi_more(struct device_status *st, const cJSON *o)
{
	const cJSON *status = json_get(o, "status"), *ip = json_get(o, "sta_ip");

	if (json_string(status) != NULL)
		st->wifi.connected = strcmp(json_string(status), "got ip") == 0;
	else if (json_string(ip) != NULL)
		st->wifi.connected = 1;
	else if (status != NULL)
		st->wifi.connected = DEV_UNKNOWN;
}

static void
eth_more(struct device_status *st, const cJSON *o)
{
	(void)o;
	st->has_eth = 1;
}

/* The singleton components ("sys", "wifi" ...) this parser stores. */
static const struct {
	const char *type;
	const struct member *rd;
	size_t nrd;
	void (*more)(struct device_status *, const cJSON *);
} singletons[] = {
    {"sys", MEMBERS(sys_rd), sys_more},
    {"wifi", MEMBERS(wifi_rd), wifi_more},
    {"eth", MEMBERS(eth_rd), eth_more},
    {"cloud", MEMBERS(cloud_rd), NULL},
    {"mqtt", MEMBERS(mqtt_rd), NULL},
    {"ws", MEMBERS(ws_rd), NULL},
};

/* A singleton component. Returns 1 when type is one this parser stores. */
static int
apply_singleton(struct device_status *st, const char *type, const cJSON *v)
{
	for (size_t i = 0; i < sizeof singletons / sizeof singletons[0]; i++) {
		if (strcmp(type, singletons[i].type) != 0)
			continue;
		members_read(st, singletons[i].rd, singletons[i].nrd, "", v);
		if (singletons[i].more != NULL)
			singletons[i].more(st, v);
		return 1;
	}
	return 0;
}

/* Splits "type:id" (id a decimal number) or a singleton key "type". Returns 0, or -1. */
static int
split_key(const char *key, char *type, size_t size, int *id)
{
	const char *colon = strchr(key, ':');
	size_t n = colon != NULL ? (size_t)(colon - key) : strlen(key);
	long long v = -1;

	if (n == 0 || n >= size)
		return -1;
	memcpy(type, key, n);
	type[n] = '\0';
	if (colon != NULL && (!isdigit((unsigned char)colon[1]) ||
	                         str_parse_int(colon + 1, 0, MAX_COMPONENT_ID, &v) != 0))
		return -1;
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

	/* fmax returns the other argument when one is NAN (unknown). */
	for (int i = 0; i < st->nswitches; i++)
		t = fmax(t, st->switches[i].temperature_c);
	for (int i = 0; i < st->ncovers; i++)
		t = fmax(t, st->covers[i].temperature_c);
	for (int i = 0; i < st->nlights; i++)
		t = fmax(t, st->lights[i].temperature_c);
	st->sys.device_temperature_c = t;
}

/*
 * Parses body and finds the object to read: the body itself, or the "result" of a response
 * frame. An error frame fails with the described error. Returns the tree to free, or NULL.
 */
static cJSON *
parse_result(const char *body, size_t len, const cJSON **obj, const char *what, char **cause)
{
	cJSON *root = json_parse(body, len, 0, cause);
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

/* What Shelly.GetConfig says, apart from the MAC and the components. */
static const struct member config_members[] = {
    MEMBER_STR(gen2_config, "sys.device", "name", name),
    MEMBER_STR(gen2_config, "sys.device", "profile", profile),
    MEMBER_STR(gen2_config, "sys.device", "fw_id", fw),
    MEMBER_BOOL(gen2_config, "sys.device", "discoverable", discoverable),
    MEMBER_BOOL(gen2_config, "sys.device", "eco_mode", eco_mode),
    MEMBER_NUM(gen2_config, "sys", "cfg_rev", cfg_rev),
    MEMBER_STR(gen2_config, "sys.sntp", "server", sntp_server),
    MEMBER_STR(gen2_config, "sys.location", "tz", tz),
    MEMBER_NUM(gen2_config, "sys.location", "lat", lat),
    MEMBER_NUM(gen2_config, "sys.location", "lon", lon),
    MEMBER_BOOL(gen2_config, "wifi.sta", "enable", wifi_sta_enable),
    MEMBER_STR(gen2_config, "wifi.sta", "ssid", wifi_sta_ssid),
    MEMBER_STR(gen2_config, "wifi.sta", "ipv4mode", wifi_sta_ipv4mode),
    MEMBER_STR(gen2_config, "wifi.sta", "ip", wifi_sta_ip),
    MEMBER_BOOL(gen2_config, "wifi.ap", "enable", wifi_ap_enable),
    MEMBER_STR(gen2_config, "wifi.ap", "ssid", wifi_ap_ssid),
    MEMBER_BOOL(gen2_config, "eth", "enable", eth_enable),
    MEMBER_BOOL(gen2_config, "ble", "enable", ble_enable),
    MEMBER_BOOL(gen2_config, "cloud", "enable", cloud_enable),
    MEMBER_STR(gen2_config, "cloud", "server", cloud_server),
    MEMBER_BOOL(gen2_config, "mqtt", "enable", mqtt_enable),
    MEMBER_STR(gen2_config, "mqtt", "server", mqtt_server),
    MEMBER_STR(gen2_config, "mqtt", "client_id", mqtt_client_id),
    MEMBER_STR(gen2_config, "mqtt", "user", mqtt_user),
    MEMBER_STR(gen2_config, "mqtt", "topic_prefix", mqtt_topic_prefix),
    MEMBER_BOOL(gen2_config, "ws", "enable", ws_enable),
    MEMBER_STR(gen2_config, "ws", "server", ws_server),
};

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
	const cJSON *o, *d, *e;
	cJSON *root;

	gen2_config_init(out);
	root = parse_result(body, len, &o, "Shelly.GetConfig", cause);
	if (root == NULL)
		return -1;
	members_read(out, MEMBERS(config_members), "", o);
	if ((d = json_get_object(json_get_object(o, "sys"), "device")) != NULL)
		device_mac_normalise(json_get_string(d, "mac"), out->mac);
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
	root = json_parse_object(body, len, 0, "RPC frame", cause);
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
		const struct comp_kind *k;
		char type[DEV_SHORT_LEN], *p;
		int id;

		if (split_key(cc->key, type, sizeof type, &id) < 0 || id < 0 ||
		    (k = comp_kind_of(type)) == NULL || slot_arrays[k->slot].name_off == 0 ||
		    (k->kind != NULL && strcmp(k->kind, type) != 0) ||
		    (p = slot_find(st, k, id)) == NULL)
			continue; /* no name to give ("emdata:0"), or not in the status */
		json_strlcpy(p + slot_arrays[k->slot].name_off, cc->name, DEV_NAME_LEN);
		if (k->slot == SL_INPUT && cc->type[0] != '\0')
			json_strlcpy(
			    ((struct dev_input *)(void *)p)->type, cc->type, DEV_SHORT_LEN);
	}
}
