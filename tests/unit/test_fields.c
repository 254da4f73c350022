/* model/fields: the one table of component fields behind JSON, printed rows and metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/device.h"
#include "model/fields.h"

static const struct field *
find(enum field_comp c, const char *key)
{
	size_t n;
	const struct field *f = fields_of(c, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].key, key) == 0)
			return &f[i];
	return NULL;
}

static void
test_values_and_scales(void **state)
{
	struct dev_switch s;
	struct dev_cover c;
	const struct field *f;

	(void)state;
	dev_switch_init(&s, 0);
	s.output = 1;
	s.energy_wh = 2;
	f = find(FIELD_SWITCH, "energy_wh");
	assert_non_null(f);
	assert_int_equal(f->metric, FM_ENERGY);
	assert_true(field_get(f, &s) * f->scale == 7200); /* Wh -> J */
	f = find(FIELD_SWITCH, "output");
	assert_int_equal(f->type, FIELD_TRI);
	assert_true(field_get(f, &s) == 1);
	s.output = -1;
	assert_true(isnan(field_get(f, &s)));
	assert_true(isnan(field_get(find(FIELD_SWITCH, "power_w"), &s))); /* unknown stays unknown */
	dev_cover_init(&c, 1);
	c.position_pct = 40;
	f = find(FIELD_COVER, "position_pct");
	assert_int_equal(f->metric, FM_POSITION);
	assert_true(fabs(field_get(f, &c) * f->scale - 0.4) < 1e-12);
}

/*
 * A phase's readings are metrics of their own, apart from its meter's totals (sum() over a
 * family must not count a three-phase meter twice), and a meter has no per-phase metric.
 */
static void
test_phase_families(void **state)
{
	static const char *const keys[] = {"power_w", "apparent_power_va", "voltage_v", "current_a",
	    "pf", "frequency_hz", "energy_wh", "returned_energy_wh"};
	static const enum field_metric total[] = {FM_POWER, FM_APPARENT_POWER, FM_VOLTAGE,
	    FM_CURRENT, FM_POWER_FACTOR, FM_FREQUENCY, FM_ENERGY, FM_RET_ENERGY};
	static const enum field_metric phase[] = {FM_PHASE_POWER, FM_PHASE_APPARENT_POWER,
	    FM_PHASE_VOLTAGE, FM_PHASE_CURRENT, FM_PHASE_POWER_FACTOR, FM_PHASE_FREQUENCY,
	    FM_PHASE_ENERGY, FM_PHASE_RET_ENERGY};
	size_t n;
	const struct field *f = fields_of(FIELD_METER, &n);

	(void)state;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		assert_int_equal(find(FIELD_METER, keys[i])->metric, total[i]);
		assert_int_equal(find(FIELD_PHASE, keys[i])->metric, phase[i]);
		assert_true(find(FIELD_PHASE, keys[i])->scale == find(FIELD_METER, keys[i])->scale);
	}
	for (size_t i = 0; i < n; i++)
		assert_true(f[i].metric < FM_PHASE_POWER || f[i].metric > FM_PHASE_RET_ENERGY);
}

/* Every table: unique keys, metrics in range, printed fields have a unit string. */
static void
test_tables(void **state)
{
	(void)state;
	for (int c = FIELD_SWITCH; c <= FIELD_VOLTMETER; c++) {
		size_t n;
		const struct field *f = fields_of((enum field_comp)c, &n);
		assert_true(n >= 3);
		for (size_t i = 0; i < n; i++) {
			assert_true(f[i].metric == FM_NONE || (f[i].metric >= 0 && f[i].metric < FM__COUNT));
			assert_non_null(f[i].unit);
			for (size_t j = i + 1; j < n; j++)
				assert_string_not_equal(f[i].key, f[j].key);
		}
	}
}

/* The metric readings of a walk over a status: "name:ch metric value" lines. */
struct walk {
	char text[2048];
	size_t len;
};

static void
walk_cb(enum field_comp c, const void *comp, const char *name, int ch, char ph, void *arg)
{
	struct walk *w = arg;
	size_t n;
	const struct field *f = fields_of(c, &n);

	(void)ph;
	for (size_t i = 0; i < n; i++) {
		double v = field_get(&f[i], comp);
		if (f[i].metric == FM_NONE || isnan(v))
			continue;
		w->len += (size_t)snprintf(w->text + w->len, sizeof w->text - w->len,
		    "%s:%d %d %g\n", name, ch, f[i].metric, v * f[i].scale);
	}
}

/* Thermostats and count inputs are walked with their metrics; lights by their type. */
static void
test_readings(void **state)
{
	struct device_status st;
	struct fields_totals t;
	struct walk w = {"", 0};
	char want[128];

	(void)state;
	device_status_init(&st);
	st.sensors.nthermostats = 1;
	dev_thermostat_init(&st.sensors.thermostats[0], 0);
	st.sensors.thermostats[0].target_c = 21;
	st.sensors.thermostats[0].current_c = 20.5;
	st.sensors.thermostats[0].valve_pos_pct = 40;
	st.sensors.thermostats[0].output = 1;
	st.ninputs = 1;
	dev_input_init(&st.inputs[0], 101);
	st.inputs[0].count_total = 17;
	st.nlights = 2;
	dev_light_init(&st.lights[0], 0);
	strcpy(st.lights[0].kind, "cct");
	st.lights[0].output = 0;
	dev_light_init(&st.lights[1], 0);
	strcpy(st.lights[1].kind, "rgb");
	st.lights[1].output = 1;
	fields_each_component(&st, walk_cb, &w);
	snprintf(want, sizeof want, "thermostat:0 %d 21\n", FM_THERMOSTAT_TARGET);
	assert_non_null(strstr(w.text, want));
	snprintf(want, sizeof want, "thermostat:0 %d 20.5\n", FM_TEMPERATURE);
	assert_non_null(strstr(w.text, want));
	snprintf(want, sizeof want, "thermostat:0 %d 0.4\n", FM_VALVE_POSITION);
	assert_non_null(strstr(w.text, want));
	snprintf(want, sizeof want, "input:101 %d 17\n", FM_INPUT_COUNT);
	assert_non_null(strstr(w.text, want));
	snprintf(want, sizeof want, "cct:0 %d 0\nrgb:0 %d 1\n", FM_OUTPUT, FM_OUTPUT);
	assert_non_null(strstr(w.text, want));
	assert_null(strstr(w.text, "light:"));
	/* a thermostat's demand is not an output */
	fields_totals(&st, &t);
	assert_int_equal(t.on, 1);
	device_status_done(&st);
}

/* Totals: sums over outputs and meters, the first voltage, phases counted in their meter. */
static void
test_totals(void **state)
{
	struct device_status st;
	struct fields_totals t;

	(void)state;
	device_status_init(&st);
	fields_totals(&st, &t);
	assert_true(isnan(t.power_w) && isnan(t.voltage_v) && isnan(t.temperature_c));
	assert_int_equal(t.on, 0);
	st.nswitches = 2;
	dev_switch_init(&st.switches[0], 0);
	dev_switch_init(&st.switches[1], 1);
	st.switches[0].output = 1;
	st.switches[0].power_w = 10;
	st.switches[1].output = 0;
	st.switches[1].power_w = 5;
	st.switches[1].voltage_v = 231;
	st.nlights = 1;
	dev_light_init(&st.lights[0], 0);
	st.lights[0].output = 1;
	st.lights[0].voltage_v = 229;
	st.nmeters = 1;
	dev_meter_init(&st.meters[0], 0, "em");
	st.meters[0].power_w = 100;
	st.meters[0].nphases = 1;
	st.meters[0].phases[0].power_w = 100;
	st.sys.device_temperature_c = 40;
	fields_totals(&st, &t);
	assert_true(t.power_w == 115);
	assert_true(t.voltage_v == 231);
	assert_true(t.temperature_c == 40);
	assert_int_equal(t.on, 2);
	device_status_done(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_scales),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_phase_families),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_readings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
