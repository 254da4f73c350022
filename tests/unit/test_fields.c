/* model/fields: the one table of component fields behind JSON, printed rows and metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
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

/* Every table: unique keys, metrics in range, printed fields have a unit string. */
static void
test_tables(void **state)
{
	(void)state;
	for (int c = FIELD_SWITCH; c <= FIELD_HUMIDITY; c++) {
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
		cmocka_unit_test(test_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
