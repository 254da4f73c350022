/* The component field tables (model/fields.h). */
#include "model/fields.h"

#include <math.h>

#include "model/device.h"

#define R(st, key, label, unit, prec, metric, scale, member) \
	{ key, label, unit, prec, FM_##metric, scale, FIELD_REAL, offsetof(struct st, member) }
#define T(st, key, metric, member) \
	{ key, NULL, "", 0, FM_##metric, 1, FIELD_TRI, offsetof(struct st, member) }
/* A value the JSON object carries but neither a printed row nor a metric. */
#define V(st, key, member) { key, NULL, "", 0, FM_NONE, 1, FIELD_REAL, offsetof(struct st, member) }
#define S(st, key, member) { key, NULL, "", 0, FM_NONE, 1, FIELD_TEXT, offsetof(struct st, member) }
/* The head (id, name) and tail (error codes, what changed it last) of an output. */
#define HEAD(st) \
	{ "id", NULL, "", 0, FM_NONE, 1, FIELD_INT, offsetof(struct st, id) }, S(st, "name", name)
#define TAIL(st) \
	{ "errors", NULL, "", 0, FM_NONE, 1, FIELD_LIST, offsetof(struct st, errors) }, \
	    S(st, "source", source)

/* What a switch, cover, light and meter measure alike, in the order of the JSON object. */
#define ELECTRICAL(st) \
	R(st, "power_w", "power", " W", 1, POWER, 1, power_w), \
	R(st, "voltage_v", "voltage", " V", 1, VOLTAGE, 1, voltage_v), \
	R(st, "current_a", "current", " A", 3, CURRENT, 1, current_a)
/* Alarms of an output (tri-states, no metric). */
#define ALARMS(st) T(st, "overpower", NONE, overpower), T(st, "overtemp", NONE, overtemp)
/* Energy counted by an output, and its temperature (printed as label, or not when NULL). */
#define ENERGY(st) R(st, "energy_wh", "energy", " Wh", 3, ENERGY, 3600, energy_wh)
#define TEMPERATURE(st, label) \
	R(st, "temperature_c", label, " C", 1, TEMPERATURE, 1, temperature_c)
/* Power factor and mains frequency of a switch or cover. */
#define MAINS_FREQ(st) R(st, "frequency_hz", NULL, "", 1, FREQUENCY, 1, freq_hz)
#define MAINS(st) R(st, "pf", NULL, "", 2, POWER_FACTOR, 1, pf), MAINS_FREQ(st)

static const struct field switch_fields[] = {
	HEAD(dev_switch),
	T(dev_switch, "output", OUTPUT, output),
	ELECTRICAL(dev_switch),
	MAINS(dev_switch),
	ENERGY(dev_switch),
	R(dev_switch, "returned_energy_wh", NULL, "", 3, RET_ENERGY, 3600, ret_energy_wh),
	TEMPERATURE(dev_switch, "temp"),
	ALARMS(dev_switch),
	T(dev_switch, "overvoltage", NONE, overvoltage),
	T(dev_switch, "undervoltage", NONE, undervoltage),
	TAIL(dev_switch),
};

static const struct field cover_fields[] = {
	HEAD(dev_cover),
	R(dev_cover, "position_pct", "position", " %", 0, POSITION, 0.01, position_pct),
	T(dev_cover, "pos_control", NONE, pos_control),
	ELECTRICAL(dev_cover),
	MAINS(dev_cover),
	ENERGY(dev_cover),
	TEMPERATURE(dev_cover, NULL),
	ALARMS(dev_cover),
	S(dev_cover, "last_direction", last_direction),
	TAIL(dev_cover),
};

static const struct field light_fields[] = {
	HEAD(dev_light),
	S(dev_light, "kind", kind),
	T(dev_light, "output", OUTPUT, output),
	R(dev_light, "brightness_pct", "brightness", " %", 0, BRIGHTNESS, 0.01, brightness_pct),
	V(dev_light, "white", white),
	V(dev_light, "color_temp_k", color_temp_k),
	ELECTRICAL(dev_light),
	ENERGY(dev_light),
	TEMPERATURE(dev_light, NULL),
	ALARMS(dev_light),
	TAIL(dev_light),
};

/*
 * What a meter and each of its phases measure alike. A phase's readings are metrics of their
 * own (P is PHASE_), not series beside the meter's totals: sum() over a family must not count
 * a three-phase meter twice.
 */
#define METERED(st, P) \
	R(st, "power_w", "power", " W", 1, P##POWER, 1, power_w), \
	R(st, "apparent_power_va", NULL, "", 1, P##APPARENT_POWER, 1, aprt_power_va), \
	R(st, "voltage_v", "voltage", " V", 1, P##VOLTAGE, 1, voltage_v), \
	R(st, "current_a", "current", " A", 3, P##CURRENT, 1, current_a), \
	R(st, "pf", "pf", "", 2, P##POWER_FACTOR, 1, pf), \
	R(st, "frequency_hz", NULL, "", 1, P##FREQUENCY, 1, freq_hz), \
	R(st, "energy_wh", "energy", " Wh", 3, P##ENERGY, 3600, energy_wh), \
	R(st, "returned_energy_wh", "returned", " Wh", 3, P##RET_ENERGY, 3600, ret_energy_wh)

static const struct field meter_fields[] = {
	METERED(dev_meter, ),
	V(dev_meter, "reactive_power_var", reactive_var),
	V(dev_meter, "n_current_a", n_current_a),
};

static const struct field phase_fields[] = {
	METERED(dev_phase, PHASE_),
};

static const struct field input_fields[] = {
	HEAD(dev_input),
	S(dev_input, "type", type),
	T(dev_input, "state", NONE, state),
	R(dev_input, "percent", "percent", " %", 0, INPUT_ANALOG, 0.01, percent),
	R(dev_input, "count_total", "total", "", 0, INPUT_COUNT, 1, count_total),
	R(dev_input, "frequency_hz", "frequency", " Hz", 1, NONE, 1, freq_hz),
	S(dev_input, "event", event),
	V(dev_input, "event_count", event_cnt),
};

static const struct field temperature_fields[] = {
	HEAD(dev_temp_sensor),
	TEMPERATURE(dev_temp_sensor, ""),
};

static const struct field humidity_fields[] = {
	HEAD(dev_hum_sensor),
	R(dev_hum_sensor, "humidity_pct", "", " %", 1, HUMIDITY, 0.01, humidity_pct),
};

static const struct field thermostat_fields[] = {
	{ "id", NULL, "", 0, FM_NONE, 1, FIELD_INT, offsetof(struct dev_thermostat, id) },
	T(dev_thermostat, "enable", NONE, enable),
	T(dev_thermostat, "output", NONE, output),
	R(dev_thermostat, "target_c", "target", " C", 1, THERMOSTAT_TARGET, 1, target_c),
	R(dev_thermostat, "current_c", "current", " C", 1, TEMPERATURE, 1, current_c),
	R(dev_thermostat, "valve_pos_pct", "valve", " %", 0, VALVE_POSITION, 0.01, valve_pos_pct),
};

/* A voltmeter's reading is a voltage like an output's, told apart by its component label. */
static const struct field voltmeter_fields[] = {
	HEAD(dev_voltmeter),
	R(dev_voltmeter, "voltage_v", "", " V", 2, VOLTAGE, 1, voltage_v),
};

#define TABLE(t) { t, sizeof t / sizeof t[0] }

static const struct {
	const struct field *f;
	size_t n;
} tables[] = {
	[FIELD_SWITCH] = TABLE(switch_fields),
	[FIELD_COVER] = TABLE(cover_fields),
	[FIELD_LIGHT] = TABLE(light_fields),
	[FIELD_METER] = TABLE(meter_fields),
	[FIELD_PHASE] = TABLE(phase_fields),
	[FIELD_INPUT] = TABLE(input_fields),
	[FIELD_TEMPERATURE] = TABLE(temperature_fields),
	[FIELD_HUMIDITY] = TABLE(humidity_fields),
	[FIELD_THERMOSTAT] = TABLE(thermostat_fields),
	[FIELD_VOLTMETER] = TABLE(voltmeter_fields),
};

const struct field *
fields_of(enum field_comp c, size_t *n)
{
	*n = tables[c].n;
	return tables[c].f;
}

void
fields_unknown(enum field_comp c, void *comp)
{
	size_t n;
	const struct field *f = fields_of(c, &n);

	for (size_t i = 0; i < n; i++) {
		char *p = (char *)comp + f[i].offset;

		if (f[i].type == FIELD_REAL)
			*(double *)(void *)p = NAN;
		else if (f[i].type == FIELD_TRI)
			*(int *)(void *)p = DEV_UNKNOWN;
	}
}

double
field_get(const struct field *f, const void *comp)
{
	const char *p = (const char *)comp + f->offset;
	int v;

	if (f->type == FIELD_REAL)
		return *(const double *)(const void *)p;
	if (f->type == FIELD_TEXT || f->type == FIELD_LIST)
		return NAN;
	v = *(const int *)(const void *)p;
	return v < 0 && f->type == FIELD_TRI ? NAN : (double)v;
}

const char *
field_text(const struct field *f, const void *comp)
{
	return f->type == FIELD_TEXT || f->type == FIELD_LIST ? (const char *)comp + f->offset : "";
}

void
fields_each_component(const struct device_status *st, fields_component_cb cb, void *arg)
{
	for (int i = 0; i < st->nswitches; i++)
		cb(FIELD_SWITCH, &st->switches[i], "switch", st->switches[i].id, 0, arg);
	for (int i = 0; i < st->ncovers; i++)
		cb(FIELD_COVER, &st->covers[i], "cover", st->covers[i].id, 0, arg);
	for (int i = 0; i < st->nlights; i++)
		cb(FIELD_LIGHT, &st->lights[i], dev_light_component(&st->lights[i]),
		    st->lights[i].id, 0, arg);
	for (int i = 0; i < st->nmeters; i++) {
		const struct dev_meter *m = &st->meters[i];
		cb(FIELD_METER, m, m->kind, m->id, 0, arg);
		for (int j = 0; j < m->nphases; j++)
			cb(FIELD_PHASE, &m->phases[j], m->kind, m->id, m->phases[j].label, arg);
	}
	for (int i = 0; i < st->sensors.ntemps; i++)
		cb(FIELD_TEMPERATURE, &st->sensors.temps[i], "temperature", st->sensors.temps[i].id,
		    0, arg);
	for (int i = 0; i < st->sensors.nhums; i++)
		cb(FIELD_HUMIDITY, &st->sensors.hums[i], "humidity", st->sensors.hums[i].id, 0,
		    arg);
	for (int i = 0; i < st->ninputs; i++)
		cb(FIELD_INPUT, &st->inputs[i], "input", st->inputs[i].id, 0, arg);
	for (int i = 0; i < st->sensors.nthermostats; i++)
		cb(FIELD_THERMOSTAT, &st->sensors.thermostats[i], "thermostat",
		    st->sensors.thermostats[i].id, 0, arg);
	for (int i = 0; i < st->sensors.nvoltmeters; i++)
		cb(FIELD_VOLTMETER, &st->sensors.voltmeters[i], "voltmeter",
		    st->sensors.voltmeters[i].id, 0, arg);
}

static void
add_known(double *sum, double v)
{
	*sum = dev_known(*sum) ? *sum + v : v;
}

/* Adds one output's or meter's readings by their metric kind. */
static void
total_cb(enum field_comp c, const void *comp, const char *name, int ch, char ph, void *arg)
{
	struct fields_totals *t = arg;
	const struct field *f;
	size_t n;

	(void)name, (void)ch, (void)ph;
	if (c != FIELD_SWITCH && c != FIELD_COVER && c != FIELD_LIGHT && c != FIELD_METER)
		return;
	f = fields_of(c, &n);
	for (size_t i = 0; i < n; i++) {
		double v = field_get(&f[i], comp);

		if (!dev_known(v))
			continue;
		if (f[i].metric == FM_OUTPUT)
			t->on += v == 1;
		else if (f[i].metric == FM_POWER)
			add_known(&t->power_w, v);
		else if (f[i].metric == FM_ENERGY)
			add_known(&t->energy_wh, v);
		else if (f[i].metric == FM_TEMPERATURE && !dev_known(t->temperature_c))
			t->temperature_c = v;
		else if (f[i].metric == FM_VOLTAGE && !dev_known(t->voltage_v))
			t->voltage_v = v;
	}
}

void
fields_totals(const struct device_status *st, struct fields_totals *t)
{
	t->power_w = t->energy_wh = t->temperature_c = t->voltage_v = NAN;
	t->on = 0;
	fields_each_component(st, total_cb, t);
	if (!dev_known(t->temperature_c))
		t->temperature_c = st->sys.device_temperature_c;
	if (!dev_known(t->temperature_c) && st->sensors.ntemps > 0)
		t->temperature_c = st->sensors.temps[0].temperature_c;
}
