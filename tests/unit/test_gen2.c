/* shelly/gen2: Gen2/3/4 RPC replies (status, config, frames, errors) into the typed model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "shelly/gen2.h"

#define FIX "tests/fixtures/"
#define EPS 1e-6

static void
status_of(const char *rel, struct device_status *st)
{
	char path[512], *body, *cause = NULL;
	size_t len;

	snprintf(path, sizeof path, FIX "%s/Shelly.GetStatus.json", rel);
	body = fixture_slurp(path, &len);
	if (gen2_parse_status(body, len, st, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	free(body);
}

static void
config_of(const char *file, struct gen2_config *c)
{
	char path[512], *body, *cause = NULL;
	size_t len;

	snprintf(path, sizeof path, FIX "%s", file);
	body = fixture_slurp(path, &len);
	if (gen2_parse_config(body, len, c, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	free(body);
}

static void
check_status(const char *path)
{
	struct device_status st;
	char *body, *cause = NULL;
	size_t len;

	if (strstr(path, "Shelly.GetStatus.json") == NULL)
		return;
	body = fixture_slurp(path, &len);
	if (gen2_parse_status(body, len, &st, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	assert_true(dev_known(st.sys.uptime_s));
	assert_true(dev_known(st.sys.cfg_rev));
	assert_true(dev_known(st.wifi.rssi_dbm) || st.has_eth);
	/* a WiFi that is not connected has no signal strength (Pros on Ethernet report 0) */
	assert_true(st.wifi.connected != 0 || !dev_known(st.wifi.rssi_dbm));
	if (strstr(path, "/pro-rgbww-pm/") != NULL ||
	    strstr(path, "/pro-3/aioshelly-fw-1.1.0/") != NULL ||
	    strstr(path, "/pro-3em/aioshelly-fw-1.1.0/") != NULL) {
		assert_int_equal(st.wifi.connected, 0);
		assert_false(dev_known(st.wifi.rssi_dbm));
	}
	assert_true(st.sys.update_available == 0 || st.sys.update_available == 1);
	assert_true(st.cloud_connected == 0 || st.cloud_connected == 1);
	/* every capture has unmodelled components (ble at least): kept, valid JSON object text */
	assert_non_null(st.raw_unknown);
	assert_int_equal(st.raw_unknown[0], '{');
	for (int i = 0; i < st.nswitches; i++)
		assert_true(st.switches[i].output == 0 || st.switches[i].output == 1);
	for (int i = 0; i < st.ncovers; i++)
		assert_int_not_equal(st.covers[i].state, COVER_UNKNOWN);
	device_status_done(&st);
	free(body);
}

static void
check_config(const char *path)
{
	struct gen2_config c;
	char *body, *cause = NULL;
	size_t len;

	body = fixture_slurp(path, &len);
	if (gen2_parse_config(body, len, &c, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	assert_true(c.cloud_enable == 0 || c.cloud_enable == 1);
	assert_true(c.mqtt_enable == 0 || c.mqtt_enable == 1);
	free(body);
}

/* Every GetComponents page: each key lands in the status (modelled or raw) and the config. */
static void
check_components(const char *path)
{
	struct device_status st;
	struct gen2_config c;
	char *body, *cause = NULL;
	size_t len;
	int next = 0;
	cJSON *root, *e;

	body = fixture_slurp(path, &len);
	device_status_init(&st);
	gen2_config_init(&c);
	if (gen2_parse_components(body, len, &st, &c, &next, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	assert_int_equal(next, -1); /* offset 0 + count == total in every capture */
	root = cJSON_Parse(body);
	assert_non_null(root);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "components"))
	{
		const char *key = cJSON_GetObjectItem(e, "key")->valuestring;
		char quoted[64];
		int found = 0;

		snprintf(quoted, sizeof quoted, "\"%s\"", key);
		assert_non_null(st.raw_unknown);
		assert_non_null(strstr(st.raw_unknown, quoted));
		for (int i = 0; i < c.ncomponents; i++)
			found |= strcmp(c.components[i].key, key) == 0;
		assert_true(found);
	}
	cJSON_Delete(root);
	device_status_done(&st);
	free(body);
}

static int
count_status(void)
{
	return fixture_walk(FIX "gen2", fixture_name_prefix, "Shelly.GetStatus", check_status) +
	       fixture_walk(FIX "gen3", fixture_name_prefix, "Shelly.GetStatus", check_status) +
	       fixture_walk(FIX "gen4", fixture_name_prefix, "Shelly.GetStatus", check_status);
}

static void
test_every_capture(void **state)
{
	int n;
	(void)state;

	assert_true(count_status() >= 62);
	n = fixture_walk(FIX "gen2", fixture_name_prefix, "Shelly.GetConfig", check_config) +
	    fixture_walk(FIX "gen3", fixture_name_prefix, "Shelly.GetConfig", check_config) +
	    fixture_walk(FIX "gen4", fixture_name_prefix, "Shelly.GetConfig", check_config);
	assert_true(n >= 61); /* includes the Plus Plug US response frame */
	n = fixture_walk(FIX "gen2", fixture_name_prefix, "Shelly.GetComponents", check_components) +
	    fixture_walk(FIX "gen3", fixture_name_prefix, "Shelly.GetComponents", check_components) +
	    fixture_walk(FIX "gen4", fixture_name_prefix, "Shelly.GetComponents", check_components);
	assert_true(n >= 14);
}

static void
test_components(void **state)
{
	struct device_status st;
	struct gen2_config c;
	char *body, *cause = NULL;
	size_t len;
	int next;
	const char *page = "{\"components\":[{\"key\":\"switch:0\",\"status\":{\"id\":0,"
	                   "\"output\":true,\"apower\":7.5},\"config\":{\"id\":0,\"name\":"
	                   "\"Pump\"}},{\"key\":\"input:0\",\"status\":{\"id\":0,\"state\":"
	                   "false},\"config\":{\"id\":0,\"name\":null,\"type\":\"button\"}}],"
	                   "\"cfg_rev\":3,\"offset\":0,\"total\":5}";
	(void)state;

	body = fixture_slurp(FIX "gen3/blu-gateway-gen3/aioshelly-tests/Shelly.GetComponents.json", &len);
	device_status_init(&st);
	gen2_config_init(&c);
	assert_int_equal(gen2_parse_components(body, len, &st, &c, &next, &cause), 0);
	assert_int_equal(c.ncomponents, 5);
	assert_string_equal(c.components[0].key, "blutrv:200");
	assert_string_equal(c.components[0].name, "Shelly BLU TRV [DDEEFF]");
	assert_string_equal(c.components[2].name, ""); /* null */
	assert_non_null(strstr(st.raw_unknown, "\"current_C\":21"));
	device_status_done(&st);
	free(body);

	/* modelled components are typed; a short page asks for the next one */
	device_status_init(&st);
	gen2_config_init(&c);
	assert_int_equal(gen2_parse_components(page, strlen(page), &st, &c, &next, &cause), 0);
	assert_int_equal(next, 2);
	assert_int_equal(st.switches[0].output, 1);
	assert_float_equal(st.switches[0].power_w, 7.5, EPS);
	gen2_config_apply(&c, NULL, &st);
	assert_string_equal(st.switches[0].name, "Pump");
	assert_string_equal(st.inputs[0].type, "button");
	assert_null(st.raw_unknown);
	device_status_done(&st);

	assert_int_equal(
	    gen2_parse_components("{\"components\":5}", 16, NULL, NULL, &next, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void
test_switches(void **state)
{
	struct device_status st;
	const struct dev_switch *s;
	(void)state;

	status_of("gen2/pro-1pm", &st);
	assert_int_equal(st.nswitches, 1);
	s = &st.switches[0];
	assert_int_equal(s->id, 0);
	assert_int_equal(s->output, 1);
	assert_float_equal(s->power_w, 5.2, EPS);
	assert_float_equal(s->voltage_v, 232.1, EPS);
	assert_float_equal(s->current_a, 0.053, EPS);
	assert_float_equal(s->pf, 0.64, EPS);
	assert_float_equal(s->energy_wh, 84885.708, EPS); /* aenergy.total is Wh */
	assert_float_equal(s->ret_energy_wh, 0, EPS);
	assert_float_equal(s->temperature_c, 43.2, EPS);
	assert_string_equal(s->source, "init");
	assert_int_equal(s->overpower, 0);
	assert_string_equal(s->errors, "");
	assert_float_equal(st.sys.device_temperature_c, 43.2, EPS);
	assert_float_equal(st.wifi.rssi_dbm, -55, EPS);
	assert_string_equal(st.wifi.ip, "192.168.68.58");
	assert_int_equal(st.wifi.connected, 1);
	assert_int_equal(st.has_eth, 1);
	assert_string_equal(st.eth_ip, "");
	assert_string_equal(st.sys.mac, "ec62608ab9a4");
	assert_float_equal(st.sys.cfg_rev, 54, EPS);
	assert_int_equal(st.sys.update_available, 0);
	assert_string_equal(st.sys.beta_version, "2.0.0-beta2");
	assert_int_equal(st.ninputs, 2);
	device_status_done(&st);

	status_of("gen2/plus-1pm", &st);
	assert_int_equal(st.switches[0].output, 0);
	assert_float_equal(st.switches[0].voltage_v, 232.9, EPS);
	assert_float_equal(st.switches[0].energy_wh, 66, EPS);
	assert_float_equal(st.switches[0].temperature_c, 51, EPS);
	device_status_done(&st);

	/* no metering: power/energy unknown, not 0 */
	status_of("gen2/plus-1", &st);
	assert_true(isnan(st.switches[0].power_w));
	assert_true(isnan(st.switches[0].energy_wh));
	assert_float_equal(st.switches[0].temperature_c, 38, EPS);
	assert_float_equal(st.sys.cfg_rev, 21, EPS);
	device_status_done(&st);

	/* early firmware: "time"/"unixtime" null */
	status_of("gen2/plus-1pm/early-fw-2022-02", &st);
	assert_true(isnan(st.sys.unixtime));
	assert_float_equal(st.switches[0].energy_wh, 0, EPS);
	assert_string_equal(st.wifi.ssid, "HausAutoDev");
	assert_float_equal(st.wifi.rssi_dbm, -32, EPS);
	device_status_done(&st);

	status_of("gen2/plus-plug-it", &st);
	assert_int_equal(st.sys.update_available, 1);
	assert_string_equal(st.sys.update_version, "1.3.3");
	device_status_done(&st);

	status_of("gen4/power-strip-gen4", &st);
	assert_int_equal(st.nswitches, 4);
	assert_int_equal(st.switches[3].id, 3);
	assert_float_equal(st.switches[1].energy_wh, 858, EPS);
	device_status_done(&st);

	status_of("gen2/plus-uni", &st);
	assert_int_equal(st.ninputs, 3);
	assert_string_equal(st.inputs[2].type, "count");
	assert_float_equal(st.inputs[2].count_total, 417350298, EPS);
	assert_float_equal(st.inputs[2].freq_hz, 13, EPS);
	assert_non_null(strstr(st.raw_unknown, "\"script:1\""));
	device_status_done(&st);
	{
		/* A Plus Uni's (or Add-on's) analog input: voltmeter:100 as the Voltmeter docs
		 * show it (voltage in V, xvoltage its transform), a reading, not raw. */
		static const char uni[] = "{\"voltmeter:100\":{\"id\":100,\"voltage\":11.92,"
		                          "\"xvoltage\":42},\"switch:0\":{\"id\":0,\"output\":false}}";
		char *cause = NULL;

		assert_int_equal(gen2_parse_status(uni, sizeof uni - 1, &st, &cause), 0);
		assert_int_equal(st.sensors.nvoltmeters, 1);
		assert_int_equal(st.sensors.voltmeters[0].id, 100);
		assert_float_equal(st.sensors.voltmeters[0].voltage_v, 11.92, EPS);
		assert_null(st.raw_unknown);
		device_status_done(&st);
	}
}

static void
test_covers(void **state)
{
	struct device_status st;
	char *body, *cause = NULL;
	size_t len;
	(void)state;

	status_of("gen2/plus-2pm/cover-mode", &st);
	assert_int_equal(st.nswitches, 0);
	assert_int_equal(st.ncovers, 1);
	assert_int_equal(st.covers[0].state, COVER_OPEN);
	assert_float_equal(st.covers[0].position_pct, 100, EPS);
	assert_int_equal(st.covers[0].pos_control, 1);
	assert_float_equal(st.covers[0].energy_wh, 1390.054, EPS);
	assert_float_equal(st.covers[0].voltage_v, 232.8, EPS);
	assert_string_equal(st.covers[0].source, "limit_switch");
	assert_string_equal(st.covers[0].last_direction, "open");
	assert_float_equal(st.covers[0].temperature_c, 52.8, EPS);
	device_status_done(&st);

	/* not calibrated: no position, last_direction null */
	status_of("gen2/pro-2pm/cover-mode-fw-1.4.0", &st);
	assert_int_equal(st.covers[0].state, COVER_STOPPED);
	assert_true(isnan(st.covers[0].position_pct));
	assert_int_equal(st.covers[0].pos_control, 0);
	assert_string_equal(st.covers[0].last_direction, "");
	assert_float_equal(st.covers[0].voltage_v, 1.9, EPS);
	device_status_done(&st);

	status_of("gen3/2pm-gen3/cover-mode", &st);
	assert_float_equal(st.covers[0].position_pct, 50, EPS);
	assert_float_equal(st.covers[0].energy_wh, 3, EPS);
	device_status_done(&st);

	status_of("gen2/pro-dual-cover-pm", &st);
	assert_int_equal(st.ncovers, 2);
	assert_int_equal(st.covers[1].id, 1);
	device_status_done(&st);

	/* Cover.GetStatus (one component, floats like 60.00, odd spacing) replaces cover:0 */
	status_of("gen3/2pm-gen3/aioshelly-tests", &st);
	assert_int_equal(st.covers[0].state, COVER_OPEN);
	body = fixture_slurp(FIX "gen3/2pm-gen3/aioshelly-tests/Cover.GetStatus.json", &len);
	assert_int_equal(gen2_parse_component_status("Cover", body, len, &st, &cause), 0);
	assert_int_equal(st.ncovers, 1);
	assert_int_equal(st.covers[0].state, COVER_CLOSING);
	assert_float_equal(st.covers[0].position_pct, 51, EPS);
	assert_float_equal(st.covers[0].power_w, 123.1, EPS);
	assert_float_equal(st.covers[0].energy_wh, 314.801, EPS);
	assert_string_equal(st.covers[0].source, "WS_in");
	device_status_done(&st);
	free(body);
}

static void
test_lights(void **state)
{
	struct device_status st;
	(void)state;

	status_of("gen2/plus-rgbw-pm", &st);
	assert_int_equal(st.nlights, 1);
	assert_string_equal(st.lights[0].kind, "rgb");
	assert_int_equal(st.lights[0].rgb[0], 54);
	assert_int_equal(st.lights[0].rgb[1], 97);
	assert_int_equal(st.lights[0].rgb[2], 255);
	assert_float_equal(st.lights[0].brightness_pct, 62, EPS);
	assert_float_equal(st.lights[0].energy_wh, 86.182, EPS);
	assert_int_equal(st.ninputs, 4);
	assert_int_equal(st.inputs[0].state, DEV_UNKNOWN); /* button input: state null */
	device_status_done(&st);

	/* rgbcct profile: rgb:0 and cct:0 are two lights with the same id */
	status_of("gen2/pro-rgbww-pm", &st);
	assert_int_equal(st.nlights, 2);
	for (int i = 0; i < 2; i++) {
		const struct dev_light *l = &st.lights[i];

		if (strcmp(l->kind, "cct") == 0) {
			assert_float_equal(l->color_temp_k, 3988, EPS);
			assert_float_equal(l->brightness_pct, 3, EPS);
			assert_float_equal(l->energy_wh, 39.554, EPS);
		} else {
			assert_string_equal(l->kind, "rgb");
			assert_int_equal(l->rgb[0], 81);
			assert_int_equal(l->rgb[2], 214);
			assert_float_equal(l->voltage_v, 24.8, EPS);
		}
	}
	assert_string_equal(st.eth_ip, "192.168.4.219");
	device_status_done(&st);

	status_of("gen2/pro-dimmer-2pm", &st);
	assert_int_equal(st.nlights, 2);
	assert_string_equal(st.lights[0].errors, "cal_abort:no_load");
	assert_int_equal(st.lights[0].overpower, 0);
	assert_string_equal(st.lights[0].source, "timer");
	assert_float_equal(st.lights[0].energy_wh, 10.004, EPS);
	assert_float_equal(st.lights[1].temperature_c, 49.2, EPS);
	assert_float_equal(st.sys.device_temperature_c, 49.2, EPS); /* hottest component */
	device_status_done(&st);
}

static void
test_meters(void **state)
{
	struct device_status st;
	const struct dev_meter *m;
	(void)state;

	/* Pro 3EM triphase: em:0 phases + emdata:0 energies in one meter */
	status_of("gen2/pro-3em", &st);
	assert_int_equal(st.nmeters, 1);
	m = &st.meters[0];
	assert_string_equal(m->kind, "em");
	assert_int_equal(m->nphases, 3);
	assert_true(isnan(st.sys.device_temperature_c)); /* no output tells one */
	assert_float_equal(m->phases[0].current_a, 0.028, EPS);
	assert_float_equal(m->phases[2].voltage_v, 232.7, EPS);
	assert_float_equal(m->phases[2].power_w, 6.8, EPS);
	assert_float_equal(m->phases[2].aprt_power_va, 15.9, EPS);
	assert_float_equal(m->phases[2].pf, 0.42, EPS);
	assert_float_equal(m->phases[2].energy_wh, 45236.95, EPS);
	assert_float_equal(m->power_w, 6.78, EPS);
	assert_float_equal(m->aprt_power_va, 15.881, EPS);
	assert_float_equal(m->current_a, 0.123, EPS);
	assert_true(isnan(m->n_current_a)); /* null */
	assert_float_equal(m->energy_wh, 45236.97, EPS);
	assert_float_equal(m->ret_energy_wh, 0, EPS);
	assert_float_equal(st.sensors.temps[0].temperature_c, 49.6, EPS);
	device_status_done(&st);

	status_of("gen2/pro-3em/aioshelly-fw-1.1.0", &st);
	m = &st.meters[0];
	assert_float_equal(m->phases[0].power_w, 375.5, EPS);
	assert_float_equal(m->phases[1].ret_energy_wh, 40.7, EPS);
	assert_float_equal(m->energy_wh, 2589773.39, EPS);
	assert_float_equal(m->ret_energy_wh, 1026.61, EPS);
	assert_string_equal(st.eth_ip, "192.168.1.105");
	device_status_done(&st);

	/* monophase profile: three em1 meters with em1data energies */
	status_of("gen2/pro-3em/monophase-profile", &st);
	assert_int_equal(st.nmeters, 3);
	m = device_status_meter(&st, "em1", 2);
	assert_non_null(m);
	assert_int_equal(m->nphases, 0);
	assert_float_equal(m->voltage_v, 234.5, EPS);
	assert_float_equal(m->power_w, 6.5, EPS);
	assert_float_equal(m->aprt_power_va, 16, EPS);
	assert_float_equal(m->energy_wh, 0.15, EPS);
	device_status_done(&st);

	status_of("gen4/em-mini-gen4", &st);
	m = device_status_meter(&st, "em1", 0);
	assert_non_null(m);
	assert_float_equal(m->voltage_v, 233, EPS);
	assert_float_equal(m->power_w, 2.6, EPS);
	assert_float_equal(m->current_a, 0.028, EPS);
	assert_float_equal(m->energy_wh, 58.83, EPS);
	assert_true(isnan(m->pf)); /* not reported */
	device_status_done(&st);

	status_of("gen3/pm-mini-gen3", &st);
	m = device_status_meter(&st, "pm1", 0);
	assert_non_null(m);
	assert_float_equal(m->power_w, 4.4, EPS);
	assert_float_equal(m->voltage_v, 234.5, EPS);
	assert_float_equal(m->current_a, 0.043, EPS);
	assert_float_equal(m->freq_hz, 50.1, EPS);
	assert_float_equal(m->energy_wh, 73112.963, EPS);
	device_status_done(&st);

	status_of("gen3/3em-63-gen3", &st);
	m = device_status_meter(&st, "em", 0);
	assert_non_null(m);
	assert_float_equal(m->power_w, 5.942, EPS);
	assert_float_equal(m->energy_wh, 20527.33, EPS);
	assert_float_equal(m->phases[1].voltage_v, 236.4, EPS);
	device_status_done(&st);
}

static void
test_sensors_and_sleepers(void **state)
{
	struct device_status st;
	struct device_ident id;
	(void)state;

	status_of("gen2/plus-ht", &st);
	assert_float_equal(st.sensors.temps[0].temperature_c, 23.9, EPS);
	assert_float_equal(st.sensors.hums[0].humidity_pct, 54.9, EPS);
	assert_float_equal(st.sensors.battery_pct, 78, EPS);
	assert_float_equal(st.sensors.battery_v, 5.58, EPS);
	assert_int_equal(st.sensors.external_power, 0);
	assert_float_equal(st.sys.wakeup_period_s, 7200, EPS);
	assert_float_equal(st.sys.uptime_s, 4, EPS);
	assert_int_equal(st.ws_connected, 1);
	device_ident_init(&id);
	id.gen = 2;
	device_ident_update_from_status(&id, &st);
	assert_int_equal(id.sleep_mode, 1);
	device_status_done(&st);

	/* Wall Display: mains powered, thermostat, illuminance, media kept raw */
	status_of("gen2/wall-display", &st);
	assert_string_equal(st.switches[0].source, "Auto power on (off)");
	assert_float_equal(st.sensors.illuminance_lux, 200, EPS);
	assert_string_equal(st.sensors.illumination, "bright");
	assert_float_equal(st.sensors.hums[0].humidity_pct, 40.7, EPS);
	assert_int_equal(st.sensors.nthermostats, 1);
	assert_float_equal(st.sensors.thermostats[0].target_c, 21, EPS);
	assert_float_equal(st.sensors.thermostats[0].current_c, 31.9, EPS);
	assert_int_equal(st.sensors.thermostats[0].output, 0);
	assert_int_equal(st.sensors.external_power, 1);
	assert_float_equal(st.sys.fs_total, 5009186816.0, EPS);
	assert_string_equal(st.sys.mac, "00082261e102");
	assert_non_null(strstr(st.raw_unknown, "\"media\""));
	device_ident_init(&id);
	id.gen = 2;
	device_ident_update_from_status(&id, &st);
	assert_int_equal(id.sleep_mode, 0);
	device_status_done(&st);

	status_of("gen3/blu-gateway-gen3/aioshelly-tests", &st);
	assert_non_null(strstr(st.raw_unknown, "\"blutrv:200\""));
	assert_int_equal(st.sys.update_available, 1);
	assert_string_equal(st.sys.update_version, "1.4.99-blugwg3prod4");
	device_status_done(&st);
}

static void
test_config(void **state)
{
	struct gen2_config c;
	struct device_status st;
	struct device_ident id;
	(void)state;

	config_of("gen2/plus-2pm/cover-mode/Shelly.GetConfig.json", &c);
	assert_string_equal(c.name, "Bedroom Shutter");
	assert_string_equal(c.profile, "cover");
	assert_string_equal(c.mac, "30c922810da0");
	assert_float_equal(c.cfg_rev, 34, EPS);
	assert_string_equal(c.sntp_server, "time.cloudflare.com");
	assert_string_equal(c.tz, ""); /* location null */
	assert_true(isnan(c.lat));
	assert_int_equal(c.cloud_enable, 0);
	assert_string_equal(c.cloud_server, "shelly-103-eu.shelly.cloud:6022/jrpc");
	assert_int_equal(c.mqtt_enable, 0);
	assert_string_equal(c.mqtt_server, "");
	assert_string_equal(c.mqtt_client_id, "shellyplus2pm-30c922810da0");
	assert_int_equal(c.wifi_sta_enable, 1);
	assert_string_equal(c.wifi_sta_ipv4mode, "dhcp");
	assert_int_equal(c.wifi_ap_enable, 0);
	assert_int_equal(c.discoverable, 1);
	assert_int_equal(c.eco_mode, 0);

	config_of("gen2/pro-3/aioshelly-fw-1.1.0/Shelly.GetConfig.json", &c);
	assert_string_equal(c.tz, "Europe/Rome");
	assert_float_equal(c.lat, 45.4722, EPS);
	assert_float_equal(c.lon, 9.1922, EPS);
	assert_int_equal(c.cloud_enable, 1);
	assert_string_equal(c.cloud_server, "shelly-9-eu.shelly.cloud:6022/jrpc");
	status_of("gen2/pro-3/aioshelly-fw-1.1.0", &st);
	device_ident_init(&id);
	gen2_config_apply(&c, &id, &st);
	assert_string_equal(id.name, "Test Name");
	assert_string_equal(st.switches[0].name, "Switch Test Name 0");
	device_status_done(&st);

	/* input types come from the config */
	config_of("gen2/plus-1/Shelly.GetConfig.json", &c);
	status_of("gen2/plus-1", &st);
	assert_string_equal(st.inputs[0].type, "");
	gen2_config_apply(&c, NULL, &st);
	assert_string_equal(st.inputs[0].type, "switch");
	device_status_done(&st);

	/* a full response frame (POST /rpc) is unwrapped */
	config_of("gen2/plus-plug-us/Shelly.GetConfig.frame.json", &c);
	assert_string_equal(c.mac, "c049ef8c480c");
	assert_int_equal(c.eco_mode, 1);
	assert_int_equal(c.cloud_enable, 1);
	assert_string_equal(c.cloud_server, "shelly-91-eu.shelly.cloud:6022/jrpc");
	assert_true(c.ncomponents >= 1);
	assert_string_equal(c.components[0].key, "switch:0");
}

static void
test_notify_merge(void **state)
{
	struct device_status st;
	struct gen2_frame fr;
	char *body, *cause = NULL;
	size_t len;
	(void)state;

	status_of("gen2/plus-1", &st);
	assert_int_equal(st.switches[0].output, 0);
	body = fixture_slurp(FIX "notifications/mqtt/notify_status__shellyplus1__switch_0.json", &len);
	assert_int_equal(gen2_parse_frame(body, len, &fr, &cause), 0);
	assert_string_equal(fr.method, "NotifyStatus");
	assert_string_equal(fr.src, "shellyplus1-b8d61a85ed58");
	assert_string_equal(fr.id, "");
	assert_non_null(fr.params);
	assert_null(fr.result);
	assert_int_equal(gen2_merge_status(fr.params, strlen(fr.params), &st, &cause), 0);
	assert_int_equal(st.switches[0].output, 1);
	assert_string_equal(st.switches[0].source, "loopback");
	assert_float_equal(st.switches[0].temperature_c, 38, EPS); /* kept */
	assert_float_equal(st.sys.cfg_rev, 21, EPS); /* kept */
	gen2_frame_done(&fr);
	free(body);
	device_status_done(&st);

	/* NotifyFullStatus of a device on wake-up */
	body = fixture_slurp(FIX "notifications/mqtt/notify_full_status__shellyplus1__raw.json", &len);
	assert_int_equal(gen2_parse_frame(body, len, &fr, &cause), 0);
	assert_string_equal(fr.method, "NotifyFullStatus");
	device_status_init(&st);
	assert_int_equal(gen2_merge_status(fr.params, strlen(fr.params), &st, &cause), 0);
	assert_int_equal(st.switches[0].output, 1);
	assert_float_equal(st.switches[0].temperature_c, 48.4, EPS);
	assert_int_equal(st.mqtt_connected, 1);
	assert_string_equal(st.sys.mac, "08b61fd141e8");
	assert_null(strstr(st.raw_unknown, "\"ts\""));
	gen2_frame_done(&fr);
	free(body);
	device_status_done(&st);
}

static void
test_frames_and_errors(void **state)
{
	struct gen2_frame fr;
	struct device_status st;
	char *body, *cause = NULL, *msg = NULL;
	size_t len;
	int code;
	static const struct {
		const char *file;
		int code;
		const char *msg;
	} partial[] = {
	    {"rpc-error-105_script-not-found.partial.json", -105,
	        "Argument 'id', value 1 not found!"},
	    {"rpc-error-114_method-not-found_wall-display.partial.json", -114,
	        "Method Script.GetCode failed: Method not found!"},
	    {"rpc-error-404_no-handler_xmod1.partial.json", 404, "No handler for Script.GetCode"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
		char path[512];

		snprintf(path, sizeof path, FIX "errors/%s", partial[i].file);
		body = fixture_slurp(path, &len);
		assert_int_equal(gen2_parse_rpc_error(body, len, &code, &msg), 0);
		assert_int_equal(code, partial[i].code);
		assert_string_equal(msg, partial[i].msg);
		free(msg);
		free(body);
	}

	/* the 401 challenge frame: error code and the JSON string message */
	body = fixture_slurp(FIX "errors/ws-rpc-error-401-auth-challenge_plus-2pm.json", &len);
	assert_int_equal(gen2_parse_rpc_error(body, len, &code, &msg), 0);
	assert_int_equal(code, 401);
	assert_non_null(strstr(msg, "\"realm\": \"shellyplus2pm-485519992590\""));
	free(msg);
	assert_int_equal(gen2_parse_frame(body, len, &fr, &cause), 0);
	assert_int_equal(fr.is_error, 1);
	assert_int_equal(fr.error_code, 401);
	assert_string_equal(fr.id, "18");
	assert_string_equal(fr.dst, "aios-139803755626272");
	assert_null(fr.result);
	gen2_frame_done(&fr);
	/* a status parser handed an error frame says so */
	assert_int_equal(gen2_parse_status(body, len, &st, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "error"));
	free(cause);
	cause = NULL;
	free(body);

	/* result: null (Cover.Close) */
	body = fixture_slurp(FIX "frames/ws-rpc-result-null_Cover.Close_plus-2pm.json", &len);
	assert_int_equal(gen2_parse_frame(body, len, &fr, &cause), 0);
	assert_int_equal(fr.is_error, 0);
	assert_string_equal(fr.id, "19");
	assert_string_equal(fr.src, "shellyplus2pm-485519992590");
	assert_string_equal(fr.result, "null");
	gen2_frame_done(&fr);
	assert_int_equal(gen2_parse_rpc_error(body, len, &code, &msg), -1);
	assert_int_equal(gen2_parse_status(body, len, &st, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	free(body);

	/* a status object is neither a frame nor an error */
	body = fixture_slurp(FIX "gen2/plus-1/Shelly.GetStatus.json", &len);
	assert_int_equal(gen2_parse_rpc_error(body, len, &code, &msg), -1);
	assert_int_equal(gen2_parse_frame(body, len, &fr, &cause), -1);
	assert_non_null(cause);
	free(cause);
	free(body);
}

static void
parse_str(const char *json, struct device_status *st)
{
	char *cause = NULL;

	if (gen2_parse_status(json, strlen(json), st, &cause) != 0)
		fail_msg("%s: %s", json, cause);
}

/* Every light keeps its Gen2+ component type (an RGBCCT bulb's rgbcct:0 too); a Gen1 light
 * (kind: its mode) is "light". */
static void
test_light_types(void **state)
{
	struct device_status st;
	struct dev_light gen1;
	(void)state;

	status_of("gen2/pro-rgbww-pm", &st);
	assert_non_null(device_status_light_of(&st, "rgb", 0));
	assert_non_null(device_status_light_of(&st, "cct", 0));
	assert_null(device_status_light_of(&st, "light", 0));
	assert_float_equal(device_status_light_of(&st, "cct", 0)->color_temp_k, 3988, EPS);
	device_status_done(&st);

	device_status_init(&st);
	parse_str("{\"rgbcct:0\":{\"id\":0,\"output\":true,\"brightness\":40,\"ct\":3000}}", &st);
	assert_int_equal(st.nlights, 1);
	assert_string_equal(dev_light_component(&st.lights[0]), "rgbcct");
	assert_float_equal(st.lights[0].brightness_pct, 40, EPS);
	device_status_done(&st);

	dev_light_init(&gen1, 0);
	strcpy(gen1.kind, "white");
	assert_string_equal(dev_light_component(&gen1), "light");
}

static void
test_quirks_and_bounds(void **state)
{
	struct device_status st;
	char big[16384];
	size_t n;
	char *cause = NULL;
	(void)state;

	/* strings for numbers/booleans, odd keys, wrong shapes */
	parse_str("{\"switch:0\":{\"output\":\"true\",\"apower\":\"12.5\",\"aenergy\":{\"total\":"
	          "\"1000.000000\"},\"errors\":[\"overtemp\",\"overpower\"]},\"switch:x\":{},"
	          "\"switch:99999999999\":{\"output\":true},\"cover:0\":5,\"light:1\":null,"
	          "\"sys\":{\"available_updates\":{\"beta\":{\"version\":\"1.5.1-beta1\"}}},"
	          "\"wifi\":{\"sta_ip\":null,\"status\":\"disconnected\",\"ssid\":null,"
	          "\"rssi\":0}}",
	    &st);
	assert_int_equal(st.nswitches, 1);
	assert_int_equal(st.switches[0].output, 1);
	assert_float_equal(st.switches[0].power_w, 12.5, EPS);
	assert_float_equal(st.switches[0].energy_wh, 1000, EPS);
	assert_int_equal(st.switches[0].overtemp, 1);
	assert_int_equal(st.switches[0].overpower, 1);
	assert_int_equal(st.switches[0].overvoltage, 0);
	assert_string_equal(st.switches[0].errors, "overtemp,overpower");
	assert_int_equal(st.ncovers, 0);
	assert_int_equal(st.nlights, 0);
	assert_non_null(strstr(st.raw_unknown, "\"switch:x\""));
	assert_non_null(strstr(st.raw_unknown, "\"switch:99999999999\""));
	assert_non_null(strstr(st.raw_unknown, "\"cover:0\":5"));
	assert_int_equal(st.sys.update_available, 0);
	assert_string_equal(st.sys.beta_version, "1.5.1-beta1");
	assert_int_equal(st.wifi.connected, 0);
	device_status_done(&st);

	/* more switches than the model holds: extra ones kept raw */
	n = (size_t)snprintf(big, sizeof big, "{");
	for (int i = 0; i < DEVICE_MAX_COMPONENTS + 3; i++)
		n += (size_t)snprintf(big + n, sizeof big - n,
		    "%s\"switch:%d\":{\"id\":%d,"
		    "\"output\":true}",
		    i ? "," : "", i, i);
	snprintf(big + n, sizeof big - n, "}");
	parse_str(big, &st);
	assert_int_equal(st.nswitches, DEVICE_MAX_COMPONENTS);
	assert_non_null(strstr(st.raw_unknown, "\"switch:18\""));
	assert_null(strstr(st.raw_unknown, "\"switch:15\""));
	device_status_done(&st);

	/* component status keyed by type with the id from the body */
	device_status_init(&st);
	assert_int_equal(
	    gen2_parse_component_status("Switch", "{\"id\":1,\"output\":true}", 22, &st, &cause),
	    0);
	assert_int_equal(st.switches[0].id, 1);
	assert_int_equal(gen2_parse_component_status("sys", "{\"uptime\":5}", 12, &st, &cause), 0);
	assert_float_equal(st.sys.uptime_s, 5, EPS);
	assert_int_equal(gen2_parse_component_status("", "{}", 2, &st, &cause), -1);
	free(cause);
	cause = NULL;
	device_status_done(&st);
}

static void
fails(const char *body, size_t len, const char *part)
{
	struct device_status st;
	struct gen2_config c;
	char *cause = NULL;

	assert_int_equal(gen2_parse_status(body, len, &st, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, part) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, part);
	free(cause);
	cause = NULL;
	assert_null(st.raw_unknown);
	assert_int_equal(gen2_parse_config(body, len, &c, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	/* a failed overlay leaves the status as it was */
	device_status_init(&st);
	st.nswitches = 1;
	dev_switch_init(&st.switches[0], 0);
	st.switches[0].output = 1;
	assert_int_equal(gen2_merge_status(body, len, &st, &cause), -1);
	assert_int_equal(st.switches[0].output, 1);
	free(cause);
	device_status_done(&st);
}

static void
test_malformed(void **state)
{
	char *body, *deep;
	size_t len;
	(void)state;

	body = fixture_slurp(FIX "gen2/pro-3em/Shelly.GetStatus.json", &len);
	fails(body, len - 3, "invalid JSON");
	fails(body, 0, "empty");
	free(body);
	fails("[{\"switch:0\":{}}]", 17, "not a JSON object");
	fails("\"sys\"", 5, "not a JSON object");
	deep = malloc(200 * 12 + 1);
	assert_non_null(deep);
	deep[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(deep, "{\"switch:0\":");
	fails(deep, strlen(deep), "nested");
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_capture),
	    cmocka_unit_test(test_switches),
	    cmocka_unit_test(test_covers),
	    cmocka_unit_test(test_lights),
	    cmocka_unit_test(test_light_types),
	    cmocka_unit_test(test_meters),
	    cmocka_unit_test(test_sensors_and_sleepers),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_components),
	    cmocka_unit_test(test_notify_merge),
	    cmocka_unit_test(test_frames_and_errors),
	    cmocka_unit_test(test_quirks_and_bounds),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
