/* The component field tables (model/fields.h). */
#include "model/fields.h"

#include <math.h>

#include "model/device.h"

#define R(st, key, label, unit, prec, metric, scale, member) \
	{ key, label, unit, prec, FM_##metric, scale, FIELD_REAL, offsetof(struct st, member) }
#define T(st, key, metric, member) \
	{ key, NULL, "", 0, FM_##metric, 1, FIELD_TRI, offsetof(struct st, member) }

/* What a switch, cover, light and meter measure alike, in the order of the JSON object. */
#define ELECTRICAL(st) \
	R(st, "power_w", "power", " W", 1, POWER, 1, power_w), \
	R(st, "voltage_v", "voltage", " V", 1, VOLTAGE, 1, voltage_v), \
	R(st, "current_a", "current", " A", 3, CURRENT, 1, current_a)

static const struct field switch_fields[] = {
	T(dev_switch, "output", OUTPUT, output),
	ELECTRICAL(dev_switch),
	R(dev_switch, "pf", NULL, "", 2, POWER_FACTOR, 1, pf),
	R(dev_switch, "frequency_hz", NULL, "", 1, FREQUENCY, 1, freq_hz),
	R(dev_switch, "energy_wh", "energy", " Wh", 3, ENERGY, 3600, energy_wh),
	R(dev_switch, "returned_energy_wh", NULL, "", 3, RET_ENERGY, 3600, ret_energy_wh),
	R(dev_switch, "temperature_c", "temp", " C", 1, TEMPERATURE, 1, temperature_c),
};

static const struct field cover_fields[] = {
	R(dev_cover, "position_pct", "position", " %", 0, POSITION, 0.01, position_pct),
	T(dev_cover, "pos_control", NONE, pos_control),
	ELECTRICAL(dev_cover),
	R(dev_cover, "pf", NULL, "", 2, NONE, 1, pf),
	R(dev_cover, "frequency_hz", NULL, "", 1, NONE, 1, freq_hz),
	R(dev_cover, "energy_wh", "energy", " Wh", 3, ENERGY, 3600, energy_wh),
	R(dev_cover, "temperature_c", NULL, "", 1, TEMPERATURE, 1, temperature_c),
};

static const struct field light_fields[] = {
	T(dev_light, "output", OUTPUT, output),
	R(dev_light, "brightness_pct", "brightness", " %", 0, BRIGHTNESS, 0.01, brightness_pct),
	R(dev_light, "white", NULL, "", 0, NONE, 1, white),
	R(dev_light, "color_temp_k", NULL, "", 0, NONE, 1, color_temp_k),
	ELECTRICAL(dev_light),
	R(dev_light, "energy_wh", "energy", " Wh", 3, ENERGY, 3600, energy_wh),
	R(dev_light, "temperature_c", NULL, "", 1, TEMPERATURE, 1, temperature_c),
};

static const struct field meter_fields[] = {
	R(dev_meter, "power_w", "power", " W", 1, POWER, 1, power_w),
	R(dev_meter, "apparent_power_va", NULL, "", 1, APPARENT_POWER, 1, aprt_power_va),
	R(dev_meter, "reactive_power_var", NULL, "", 1, NONE, 1, reactive_var),
	R(dev_meter, "voltage_v", "voltage", " V", 1, VOLTAGE, 1, voltage_v),
	R(dev_meter, "current_a", "current", " A", 3, CURRENT, 1, current_a),
	R(dev_meter, "n_current_a", NULL, "", 3, NONE, 1, n_current_a),
	R(dev_meter, "pf", "pf", "", 2, POWER_FACTOR, 1, pf),
	R(dev_meter, "frequency_hz", NULL, "", 1, FREQUENCY, 1, freq_hz),
	R(dev_meter, "energy_wh", "energy", " Wh", 3, ENERGY, 3600, energy_wh),
	R(dev_meter, "returned_energy_wh", "returned", " Wh", 3, RET_ENERGY, 3600, ret_energy_wh),
};

static const struct field phase_fields[] = {
	R(dev_phase, "power_w", "power", " W", 1, POWER, 1, power_w),
	R(dev_phase, "apparent_power_va", NULL, "", 1, APPARENT_POWER, 1, aprt_power_va),
	R(dev_phase, "voltage_v", "voltage", " V", 1, VOLTAGE, 1, voltage_v),
	R(dev_phase, "current_a", "current", " A", 3, CURRENT, 1, current_a),
	R(dev_phase, "pf", "pf", "", 2, POWER_FACTOR, 1, pf),
	R(dev_phase, "frequency_hz", NULL, "", 1, FREQUENCY, 1, freq_hz),
	R(dev_phase, "energy_wh", "energy", " Wh", 3, ENERGY, 3600, energy_wh),
	R(dev_phase, "returned_energy_wh", NULL, "", 3, RET_ENERGY, 3600, ret_energy_wh),
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
};

const struct field *
fields_of(enum field_comp c, size_t *n)
{
	*n = tables[c].n;
	return tables[c].f;
}

double
field_get(const struct field *f, const void *comp)
{
	const char *p = (const char *)comp + f->offset;
	int v;

	if (f->type == FIELD_REAL)
		return *(const double *)(const void *)p;
	v = *(const int *)(const void *)p;
	return v < 0 ? NAN : (double)v;
}
