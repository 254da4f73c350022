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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_scales),
		cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
