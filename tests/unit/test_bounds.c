/* model/bounds through both drivers: impossible values become unknown, positions are clamped,
 * and no real capture loses a value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include <math.h>

#include "model/bounds.h"
#include "model/device.h"
#include "shelly/gen1.h"
#include "shelly/gen2.h"

#define FIX "tests/fixtures/"

/* Parses a status capture with parse and fails when a value fell outside the bounds. */
static void
check_capture(const char *path, int (*parse)(const char *, size_t, struct device_status *, char **))
{
	struct device_status st;
	size_t len;
	char *body = fixture_slurp(path, &len), *cause = NULL;

	if (parse(body, len, &st, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	if (st.out_of_range != 0)
		fail_msg("%s: %d real values out of bounds", path, st.out_of_range);
	device_status_done(&st);
	free(body);
}

static void
check_gen1(const char *path)
{
	check_capture(path, gen1_parse_status);
}

static void
check_gen2(const char *path)
{
	check_capture(path, gen2_parse_status);
}

/* What real devices send stays as it is. */
static void
test_captures_within_bounds(void **state)
{
	(void)state;
	assert_true(fixture_walk(FIX "gen1", fixture_name_is, "status.json", check_gen1) >= 25);
	assert_true(fixture_walk(FIX "gen2", fixture_name_prefix, "Shelly.GetStatus", check_gen2) +
	        fixture_walk(FIX "gen3", fixture_name_prefix, "Shelly.GetStatus", check_gen2) +
	        fixture_walk(FIX "gen4", fixture_name_prefix, "Shelly.GetStatus", check_gen2) >=
	    20);
}

static void
gen2_status(const char *result, struct device_status *st)
{
	char body[2048], *cause = NULL;
	int n = snprintf(body, sizeof body, "{\"id\":1,\"src\":\"x\",\"result\":%s}", result);

	assert_true(n > 0 && (size_t)n < sizeof body);
	if (gen2_parse_status(body, (size_t)n, st, &cause) != 0)
		fail_msg("%s", cause);
}

static void
test_gen2_absurd_values(void **state)
{
	struct device_status st;

	(void)state;
	gen2_status("{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":1e308,\"voltage\":-230,"
		    "\"current\":0.5,\"aenergy\":{\"total\":1e308},\"temperature\":{\"tC\":-300}},"
		    "\"em:0\":{\"id\":0,\"a_voltage\":230.1,\"a_act_power\":-1e300,\"a_pf\":7,"
		    "\"total_act_power\":12.5},"
		    "\"sys\":{\"uptime\":1e308,\"cfg_rev\":3},\"wifi\":{\"rssi\":-61}}",
	    &st);
	assert_int_equal(st.nswitches, 1);
	assert_true(isnan(st.switches[0].power_w));
	assert_true(isnan(st.switches[0].voltage_v));
	assert_true(isnan(st.switches[0].energy_wh));
	assert_true(isnan(st.switches[0].temperature_c));
	assert_float_equal(st.switches[0].current_a, 0.5, 1e-9);
	assert_int_equal(st.switches[0].output, 1);
	assert_true(isnan(st.sys.uptime_s));
	assert_float_equal(st.sys.cfg_rev, 3, 1e-9);
	assert_float_equal(st.wifi.rssi_dbm, -61, 1e-9);
	assert_int_equal(st.nmeters, 1);
	assert_true(isnan(st.meters[0].phases[0].power_w));
	assert_true(isnan(st.meters[0].phases[0].pf));
	assert_float_equal(st.meters[0].phases[0].voltage_v, 230.1, 1e-9);
	assert_float_equal(st.meters[0].power_w, 12.5, 1e-9);
	assert_int_equal(st.out_of_range, 7);
	device_status_done(&st);
}

/* A cover past its end shows the end; the raw reply is not rewritten. */
static void
test_positions_clamped(void **state)
{
	struct device_status st;
	char *cause = NULL;
	const char *g1 = "{\"rollers\":[{\"state\":\"stop\",\"current_pos\":112,"
			 "\"positioning\":true}]}";

	(void)state;
	gen2_status("{\"cover:0\":{\"id\":0,\"state\":\"stopped\",\"pos_control\":true,"
		    "\"current_pos\":112},\"cover:1\":{\"id\":1,\"state\":\"stopped\","
		    "\"pos_control\":true,\"current_pos\":-4}}",
	    &st);
	assert_int_equal(st.ncovers, 2);
	assert_float_equal(st.covers[0].position_pct, 100, 1e-9);
	assert_float_equal(st.covers[1].position_pct, 0, 1e-9);
	assert_int_equal(st.out_of_range, 0);
	device_status_done(&st);

	assert_int_equal(gen1_parse_status(g1, strlen(g1), &st, &cause), 0);
	assert_int_equal(st.ncovers, 1);
	assert_float_equal(st.covers[0].position_pct, 100, 1e-9);
	assert_int_equal(st.covers[0].state, COVER_OPEN);
	device_status_done(&st);
}

static void
test_gen1_absurd_values(void **state)
{
	struct device_status st;
	char *cause = NULL;
	const char *g1 = "{\"relays\":[{\"ison\":true}],\"meters\":[{\"power\":1e308,"
			 "\"total\":60}],\"uptime\":1e308,\"wifi_sta\":{\"rssi\":-70}}";

	(void)state;
	assert_int_equal(gen1_parse_status(g1, strlen(g1), &st, &cause), 0);
	assert_int_equal(st.nswitches, 1);
	assert_true(isnan(st.switches[0].power_w));
	assert_float_equal(st.switches[0].energy_wh, 1, 1e-9);
	assert_true(isnan(st.sys.uptime_s));
	assert_float_equal(st.wifi.rssi_dbm, -70, 1e-9);
	assert_int_equal(st.out_of_range, 2);
	device_status_done(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_captures_within_bounds),
	    cmocka_unit_test(test_gen2_absurd_values),
	    cmocka_unit_test(test_positions_clamped),
	    cmocka_unit_test(test_gen1_absurd_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
