/* shelly/gen1: /status, /settings and /ota of real Gen1 devices into the typed model. */
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

#include "shelly/gen1.h"
#include "shelly/ident.h"

#define FIX "tests/fixtures/"
#define EPS 1e-6

/* Parses tests/fixtures/gen1/<rel>/status.json (the caller frees with device_status_done). */
static void
status_of(const char *rel, struct device_status *st)
{
	char path[512], *body, *cause = NULL;
	size_t len;

	snprintf(path, sizeof path, FIX "gen1/%s/status.json", rel);
	body = fixture_slurp(path, &len);
	if (gen1_parse_status(body, len, st, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	free(body);
}

static void
settings_of(const char *rel, struct gen1_settings *s)
{
	char path[512], *body, *cause = NULL;
	size_t len;

	snprintf(path, sizeof path, FIX "gen1/%s/settings.json", rel);
	body = fixture_slurp(path, &len);
	if (gen1_parse_settings(body, len, s, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	free(body);
}

static void
check_status(const char *path)
{
	struct device_status st;
	char *body, *cause = NULL;
	size_t len;

	body = fixture_slurp(path, &len);
	if (gen1_parse_status(body, len, &st, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	/* every capture has WiFi and uptime; components are within bounds */
	assert_true(dev_known(st.wifi.rssi_dbm));
	assert_true(st.wifi.rssi_dbm < 0 && st.wifi.rssi_dbm > -120);
	assert_int_equal(st.wifi.connected, 1);
	assert_true(dev_known(st.sys.uptime_s));
	assert_true(dev_known(st.sys.ram_total) && dev_known(st.sys.fs_free));
	assert_true(st.nswitches + st.nlights + st.ncovers + st.nmeters + st.ninputs +
	                st.sensors.ntemps + st.sensors.nthermostats +
	                (dev_known(st.sensors.gas_ppm) ? 1 : 0) >
	            0);
	for (int i = 0; i < st.nswitches; i++)
		assert_true(st.switches[i].output == 0 || st.switches[i].output == 1);
	/* energy is never negative and Wh, not watt-minutes: a plug's lifetime stays plausible */
	for (int i = 0; i < st.nswitches; i++)
		if (dev_known(st.switches[i].energy_wh))
			assert_true(st.switches[i].energy_wh >= 0);
	device_status_done(&st);
	free(body);
}

static void
check_settings(const char *path)
{
	struct gen1_settings s;
	char *body, *cause = NULL;
	size_t len;

	body = fixture_slurp(path, &len);
	if (gen1_parse_settings(body, len, &s, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	assert_true(s.hostname[0] != '\0');
	assert_true(s.type[0] != '\0');
	assert_true(s.login_enabled == 0 || s.login_enabled == 1);
	assert_true(s.mqtt_server[0] != '\0');
	free(body);
}

static void
check_ota(const char *path)
{
	struct gen1_ota o;
	char *body, *cause = NULL;
	size_t len;

	body = fixture_slurp(path, &len);
	if (gen1_parse_ota(body, len, &o, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	assert_true(o.status[0] != '\0');
	free(body);
}

static void
test_every_capture(void **state)
{
	(void)state;
	assert_true(fixture_walk(FIX "gen1", fixture_name_is, "status.json", check_status) >= 25);
	assert_true(fixture_walk(FIX "gen1", fixture_name_is, "settings.json", check_settings) >= 24);
	assert_true(fixture_walk(FIX "gen1", fixture_name_is, "ota.json", check_ota) >= 1);
}

static void
test_relays(void **state)
{
	struct device_status st;
	(void)state;

	status_of("shelly-1", &st);
	assert_int_equal(st.nswitches, 1);
	assert_int_equal(st.switches[0].output, 0);
	/* The Shelly 1 measures nothing: its "meters": [{"power": 0, "is_valid": true}] is a
	 * placeholder (no total, no counters), not a reading of 0 W. */
	assert_true(isnan(st.switches[0].power_w));
	assert_true(isnan(st.switches[0].energy_wh));
	assert_string_equal(st.switches[0].source, "http");
	assert_float_equal(st.wifi.rssi_dbm, -52, EPS);
	assert_string_equal(st.wifi.ip, "192.168.1.240");
	assert_string_equal(st.wifi.ssid, "");
	assert_float_equal(st.sys.uptime_s, 788180, EPS);
	assert_float_equal(st.sys.unixtime, 1741441486, EPS);
	assert_float_equal(st.sys.cfg_changed_cnt, 0, EPS);
	assert_float_equal(st.sys.ram_free, 39720, EPS);
	assert_float_equal(st.sys.ram_total, 51688, EPS);
	assert_float_equal(st.sys.fs_total, 233681, EPS);
	assert_string_equal(st.sys.mac, "34945472a643");
	assert_int_equal(st.sys.update_available, 0);
	assert_string_equal(st.sys.update_version, "");
	assert_string_equal(st.sys.beta_version, "1.14.1-rc1");
	assert_string_equal(st.sys.update_status, "idle");
	assert_int_equal(st.cloud_enabled, 1);
	assert_int_equal(st.cloud_connected, 1);
	assert_int_equal(st.mqtt_connected, 0);
	assert_int_equal(st.ninputs, 1);
	assert_int_equal(st.inputs[0].state, 0);
	assert_float_equal(st.inputs[0].event_cnt, 0, EPS);
	assert_true(isnan(st.sys.cfg_rev));
	device_status_done(&st);

	/* Shelly 1PM (openHAB notes, fw 1.5.6): "is_valid": "true" string, total in watt-minutes */
	status_of("shelly-1pm", &st);
	assert_float_equal(st.sys.device_temperature_c, 45.51, EPS);
	assert_int_equal(st.sys.overtemp, 0);
	assert_float_equal(st.switches[0].power_w, 0, EPS);
	assert_float_equal(st.switches[0].energy_wh, 2262.0 / 60.0, EPS); /* 37.7 Wh */
	assert_int_equal(st.switches[0].overpower, 0);
	assert_int_equal(st.switches[0].overtemp, 0);
	assert_string_equal(st.sys.mac, ""); /* anonymised "XXXXXXXXXXXX" */
	assert_string_equal(st.wifi.ssid, "iot-wlan");
	assert_true(isnan(st.sys.unixtime)); /* absent on this firmware */
	device_status_done(&st);

	/* 1L: meter flagged invalid -> power and energy unknown (the relay is on, yet power,
	 * counters and total all read 0: the meter measures nothing) */
	status_of("shelly-1l", &st);
	assert_int_equal(st.switches[0].output, 1);
	assert_true(isnan(st.switches[0].power_w));
	assert_true(isnan(st.switches[0].energy_wh));
	assert_float_equal(st.sys.device_temperature_c, 59.5, EPS);
	assert_int_equal(st.ninputs, 2);
	device_status_done(&st);

	status_of("shelly-plug-s/unit-C38EAB", &st);
	assert_int_equal(st.switches[0].output, 0);
	assert_float_equal(st.switches[0].energy_wh, 176010.0 / 60.0, EPS); /* 2933.5 Wh */
	assert_float_equal(st.sys.device_temperature_c, 27.14, EPS);
	assert_string_equal(st.wifi.ssid, "Tamer Umniah");
	device_status_done(&st);

	status_of("shelly-plug-s", &st);
	assert_int_equal(st.switches[0].output, 1);
	assert_string_equal(st.switches[0].source, "input");
	assert_float_equal(st.sys.device_temperature_c, 43.69, EPS);
	assert_float_equal(st.wifi.rssi_dbm, -57, EPS);
	device_status_done(&st);

	status_of("shelly-uni", &st);
	assert_int_equal(st.nswitches, 2);
	assert_int_equal(st.sensors.ntemps, 1);
	assert_float_equal(st.sensors.temps[0].temperature_c, 60.25, EPS);
	/* its analog input ("adcs": [{"voltage": 0}]) is a voltmeter reading 0 V, not raw */
	assert_int_equal(st.sensors.nvoltmeters, 1);
	assert_int_equal(st.sensors.voltmeters[0].id, 0);
	assert_float_equal(st.sensors.voltmeters[0].voltage_v, 0, EPS);
	assert_true(st.raw_unknown == NULL || strstr(st.raw_unknown, "\"adcs\"") == NULL);
	device_status_done(&st);
	{
		/* the UNI measures up to 30 V DC; a second ADC entry is voltmeter:1 */
		static const char uni[] = "{\"adcs\":[{\"voltage\":12.36},{\"voltage\":null}]}";
		char *cause = NULL;

		assert_int_equal(gen1_parse_status(uni, sizeof uni - 1, &st, &cause), 0);
		assert_int_equal(st.sensors.nvoltmeters, 2);
		assert_float_equal(st.sensors.voltmeters[0].voltage_v, 12.36, EPS);
		assert_int_equal(st.sensors.voltmeters[1].id, 1);
		assert_true(isnan(st.sensors.voltmeters[1].voltage_v));
		device_status_done(&st);
	}

	status_of("shelly-air", &st);
	assert_float_equal(st.sys.device_temperature_c, 33.89, EPS); /* internal */
	assert_float_equal(st.sensors.temps[0].temperature_c, 23.06, EPS); /* DS18B20 */
	assert_float_equal(st.wifi.rssi_dbm, -65, EPS);
	device_status_done(&st);

	status_of("shelly-1/with-addon", &st);
	assert_float_equal(st.sensors.temps[0].temperature_c, 21.5, EPS);
	assert_float_equal(st.sensors.hums[0].humidity_pct, 53.9, EPS);
	assert_float_equal(st.wifi.rssi_dbm, -92, EPS);
	assert_int_equal(st.cloud_enabled, 0);
	assert_int_equal(st.inputs[0].state, 1);
	device_status_done(&st);
}

/* The raw pastebin capture: device spacing ("relays" :[), "is_valid":"true", update pending. */
static void
test_raw_old_firmware(void **state)
{
	struct device_status st;
	struct gen1_ota ota;
	char *body, *cause = NULL;
	size_t len;
	(void)state;

	status_of("shelly-1/pastebin-fw-20191217", &st);
	assert_int_equal(st.nswitches, 1);
	assert_int_equal(st.switches[0].output, 0);
	assert_true(isnan(st.switches[0].power_w)); /* the Shelly 1's placeholder meter */
	assert_string_equal(st.wifi.ssid, "VodafoneMobileWiFi-1CE876");
	assert_float_equal(st.wifi.rssi_dbm, -37, EPS);
	assert_float_equal(st.sys.uptime_s, 2268, EPS);
	assert_int_equal(st.sys.update_available, 1);
	assert_string_equal(st.sys.update_version, "1.11.8");
	assert_string_equal(st.sys.update_status, "pending");
	assert_true(isnan(st.sys.unixtime));
	device_status_done(&st);

	body = fixture_slurp(FIX "gen1/shelly-1/pastebin-fw-20191217/ota.json", &len);
	assert_int_equal(gen1_parse_ota(body, len, &ota, &cause), 0);
	assert_string_equal(ota.status, "pending");
	assert_int_equal(ota.has_update, 1);
	assert_string_equal(ota.new_version, "20220209-092750/v1.11.8-g8c7bb8d");
	assert_string_equal(
	    ota.old_version, "20191217-140757/1047-long-id-for-shelly-devices@a0661583");
	assert_string_equal(ota.beta_version, "");
	free(body);

	/* /wifiscan is not an /ota answer */
	body = fixture_slurp(FIX "gen1/shelly-1/pastebin-fw-20191217/wifiscan.json", &len);
	assert_int_equal(gen1_parse_ota(body, len, &ota, &cause), -1);
	assert_non_null(cause);
	free(cause);
	free(body);
}

static void
test_meters_em(void **state)
{
	struct device_status st;
	const struct dev_meter *m;
	(void)state;

	/* 3EM: emeters are Wh already (no /60), three phases of one meter */
	status_of("shelly-3em", &st);
	assert_int_equal(st.nmeters, 1);
	m = &st.meters[0];
	assert_string_equal(m->kind, "emeter");
	assert_int_equal(m->nphases, 3);
	assert_int_equal(m->phases[0].label, 'a');
	assert_float_equal(m->phases[0].voltage_v, 238.82, EPS);
	assert_float_equal(m->phases[0].power_w, 6.6, EPS);
	assert_float_equal(m->phases[0].pf, 0.39, EPS);
	assert_float_equal(m->phases[0].current_a, 0.07, EPS);
	assert_float_equal(m->phases[0].energy_wh, 31972.1, EPS);
	assert_float_equal(m->phases[1].voltage_v, 238.72, EPS);
	assert_float_equal(m->phases[2].pf, 0.02, EPS);
	assert_float_equal(m->power_w, 6.6, EPS); /* total_power */
	assert_float_equal(m->energy_wh, 31972.1, EPS);
	assert_float_equal(m->ret_energy_wh, 0, EPS);
	assert_true(isnan(m->n_current_a)); /* emeter_n.is_valid false */
	assert_int_equal(st.nswitches, 1);
	assert_string_equal(st.switches[0].source, "input");
	device_status_done(&st);

	/* EM (2 channels): two single-phase meters with reactive power and returned energy */
	status_of("shelly-em", &st);
	assert_int_equal(st.nmeters, 2);
	m = &st.meters[0];
	assert_int_equal(m->nphases, 0);
	assert_float_equal(m->power_w, 98.55, EPS);
	assert_float_equal(m->reactive_var, -159.32, EPS);
	assert_float_equal(m->voltage_v, 239.38, EPS);
	assert_float_equal(m->energy_wh, 9188.8, EPS);
	assert_float_equal(m->ret_energy_wh, 16477.0, EPS);
	assert_int_equal(st.meters[1].id, 1);
	assert_int_equal(st.switches[0].output, 1);
	device_status_done(&st);
}

static void
test_lights(void **state)
{
	struct device_status st;
	(void)state;

	status_of("shelly-color-bulb", &st);
	assert_int_equal(st.nlights, 1);
	assert_string_equal(st.lights[0].kind, "color");
	assert_int_equal(st.lights[0].output, 0);
	assert_int_equal(st.lights[0].rgb[0], 0);
	assert_int_equal(st.lights[0].rgb[1], 213);
	assert_int_equal(st.lights[0].rgb[2], 255);
	assert_float_equal(st.lights[0].brightness_pct, 1, EPS); /* gain in colour mode */
	assert_true(isnan(st.lights[0].color_temp_k)); /* stale "temp" ignored in colour mode */
	assert_float_equal(st.lights[0].energy_wh, 144.0 / 60.0, EPS);
	assert_float_equal(st.sys.cfg_changed_cnt, 25, EPS);
	device_status_done(&st);

	status_of("shelly-dimmer-2", &st);
	assert_int_equal(st.nlights, 1);
	assert_string_equal(st.lights[0].kind, "white");
	assert_float_equal(st.lights[0].brightness_pct, 100, EPS);
	assert_string_equal(st.lights[0].source, "input");
	assert_int_equal(st.lights[0].overpower, 0);
	assert_float_equal(st.sys.device_temperature_c, 49.66, EPS);
	assert_int_equal(st.ninputs, 2);
	device_status_done(&st);

	status_of("shelly-rgbw2", &st);
	assert_int_equal(st.lights[0].rgb[1], 255);
	assert_float_equal(st.lights[0].brightness_pct, 100, EPS);
	assert_float_equal(st.lights[0].white, 0, EPS);
	assert_float_equal(st.lights[0].power_w, 0, EPS);
	device_status_done(&st);

	/* white mode: four channels, meters with "is_valid": "true" strings */
	status_of("shelly-rgbw2/white-mode", &st);
	assert_int_equal(st.nlights, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(st.lights[i].id, i);
		assert_float_equal(st.lights[i].brightness_pct, 1, EPS);
		assert_float_equal(st.lights[i].power_w, 0, EPS);
		assert_float_equal(st.lights[i].energy_wh, 0, EPS);
	}
	assert_int_equal(st.cloud_connected, 0);
	device_status_done(&st);

	status_of("shelly-rgbww", &st);
	assert_float_equal(st.lights[0].color_temp_k, 4663, EPS);
	assert_int_equal(st.lights[0].rgb[0], -1);
	assert_true(isnan(st.lights[0].energy_wh));
	assert_int_equal(st.sys.update_available, 1);
	assert_string_equal(st.sys.update_version, "1.14.1-rc1");
	device_status_done(&st);

	status_of("shelly-vintage", &st);
	assert_int_equal(st.lights[0].output, 1);
	assert_float_equal(st.lights[0].brightness_pct, 11, EPS);
	assert_float_equal(st.lights[0].power_w, 0.07, EPS);
	assert_float_equal(st.lights[0].energy_wh, 638.0 / 60.0, EPS);
	device_status_done(&st);
}

static void
test_sensors(void **state)
{
	struct device_status st;
	struct device_ident id;
	(void)state;

	status_of("shelly-ht", &st);
	assert_int_equal(st.sensors.ntemps, 1);
	assert_float_equal(st.sensors.temps[0].temperature_c, 21.75, EPS);
	assert_float_equal(st.sensors.hums[0].humidity_pct, 62.5, EPS);
	assert_float_equal(st.sensors.battery_pct, 100, EPS);
	assert_float_equal(st.sensors.battery_v, 2.98, EPS);
	assert_true(isnan(st.sys.device_temperature_c));
	/* A stored H&T status tells that it sleeps (act_reasons: why it woke), as /shelly does. */
	assert_int_equal(st.sys.woke, 1);
	device_ident_init(&id);
	id.gen = 1;
	device_ident_update_from_status(&id, &st);
	assert_int_equal(id.sleep_mode, 1);
	device_status_done(&st);

	status_of("shelly-button1", &st);
	assert_float_equal(st.sensors.battery_pct, 85, EPS);
	assert_float_equal(st.sensors.battery_v, 4.07, EPS);
	assert_int_equal(st.sensors.external_power, 0);
	assert_string_equal(st.inputs[0].event, "S");
	assert_float_equal(st.inputs[0].event_cnt, 304, EPS);
	assert_true(isnan(st.sys.unixtime)); /* "unixtime": 0, clock not synced */
	assert_float_equal(st.sys.uptime_s, 3, EPS);
	device_status_done(&st);

	status_of("shelly-motion-2", &st);
	assert_float_equal(st.sensors.illuminance_lux, 93, EPS);
	assert_string_equal(st.sensors.illumination, "dark");
	assert_int_equal(st.sensors.motion, 0);
	assert_int_equal(st.sensors.vibration, 0);
	assert_float_equal(st.sensors.temps[0].temperature_c, 20.8, EPS);
	assert_float_equal(st.sensors.battery_pct, 99, EPS);
	assert_string_equal(st.sys.update_status, "unknown");
	assert_string_equal(st.sys.beta_version, ""); /* null */
	assert_float_equal(st.sys.cfg_changed_cnt, 5, EPS);
	/* Battery powered but awake (act_reasons null): not known to sleep, as its /shelly says. */
	assert_int_equal(st.sys.woke, DEV_UNKNOWN);
	device_ident_init(&id);
	id.gen = 1;
	device_ident_update_from_status(&id, &st);
	assert_int_equal(id.sleep_mode, DEV_UNKNOWN);
	device_status_done(&st);

	status_of("shelly-gas", &st);
	assert_float_equal(st.sensors.gas_ppm, 0, EPS);
	assert_string_equal(st.sensors.gas_alarm, "none");
	assert_string_equal(st.sensors.gas_sensor, "normal");
	assert_string_equal(st.sensors.valve, "not_connected");
	device_status_done(&st);

	status_of("shelly-trv", &st);
	assert_int_equal(st.sensors.nthermostats, 1);
	assert_float_equal(st.sensors.thermostats[0].target_c, 5, EPS);
	assert_float_equal(st.sensors.thermostats[0].current_c, 14.3, EPS);
	assert_float_equal(st.sensors.thermostats[0].valve_pos_pct, 0, EPS);
	assert_int_equal(st.sensors.thermostats[0].enable, 1);
	assert_float_equal(st.sensors.battery_pct, 52, EPS);
	assert_int_equal(st.mqtt_connected, 1);
	device_status_done(&st);
}

static void
test_settings(void **state)
{
	struct gen1_settings s;
	struct device_ident id;
	struct device_status st;
	char *body, *cause = NULL;
	size_t len;
	(void)state;

	settings_of("shelly-1", &s);
	assert_string_equal(s.hostname, "shelly1-34945472A643");
	assert_string_equal(s.type, "SHSW-1");
	assert_string_equal(s.mac, "34945472a643");
	assert_string_equal(s.name, "1 Gen1");
	assert_string_equal(s.mode, "relay");
	assert_int_equal(s.nrelays, 1);
	assert_string_equal(s.relay_names[0], ""); /* null */
	assert_int_equal(s.login_enabled, 0);
	assert_string_equal(s.login_username, "admin");
	assert_int_equal(s.cloud_enabled, 1);
	assert_int_equal(s.mqtt_enable, 0);
	assert_string_equal(s.mqtt_server, "192.168.33.3:1883");
	assert_string_equal(s.mqtt_id, "shelly1-34945472A643");
	assert_int_equal(s.coiot_enabled, 1);
	assert_string_equal(s.coiot_peer, "192.168.1.20:5683");
	assert_float_equal(s.coiot_update_period_s, 15, EPS);
	assert_string_equal(s.sntp_server, "time.google.com");
	assert_int_equal(s.sntp_enabled, 1);
	assert_string_equal(s.timezone, "");
	assert_true(isnan(s.lat) && isnan(s.lng));
	assert_int_equal(s.tzautodetect, 1);
	assert_int_equal(s.wifi_sta_enabled, 1);
	assert_string_equal(s.wifi_sta_ipv4_method, "dhcp");
	assert_string_equal(s.wifi_sta_ip, "");
	assert_int_equal(s.wifi_ap_enabled, 0);
	assert_string_equal(s.fw, "20230913-112003/v1.14.0-gcb84623");

	/* fw 1.5.6 echoes the password; it is not kept (there is no field for it) */
	settings_of("shelly-1pm", &s);
	assert_string_equal(s.timezone, "Europe/Berlin");
	assert_float_equal(s.lat, 50.252491, EPS);
	assert_float_equal(s.lng, 5.779092, EPS);
	assert_int_equal(s.sntp_enabled, DEV_UNKNOWN);
	assert_string_equal(s.mac, "");
	assert_string_equal(s.hostname, "shelly1pm-XXXXXX");

	settings_of("shelly-gas", &s);
	assert_string_equal(s.wifi_sta_ipv4_method, "static");
	assert_string_equal(s.wifi_sta_ip, "192.168.68.25");
	assert_string_equal(s.wifi_sta_gw, "192.168.68.1");
	assert_string_equal(s.wifi_sta_mask, "255.255.255.0");
	assert_string_equal(s.wifi_sta_dns, "192.168.1.1");

	settings_of("shelly-trv", &s);
	assert_int_equal(s.mqtt_enable, 1);
	assert_string_equal(s.mqtt_server, "192.168.25.26:1883");
	assert_string_equal(s.mqtt_user, "iotdev");
	assert_string_equal(s.name, "Shelly-UG-CZ-Heizkoerper");

	/* H&T: the settings hostname (short MAC) is the id; sleep_mode from device */
	settings_of("shelly-ht", &s);
	assert_string_equal(s.hostname, "shellyht-703523");
	assert_int_equal(s.sleep_mode, 1);
	body = fixture_slurp(FIX "gen1/shelly-ht/shelly.json", &len);
	assert_int_equal(shelly_parse_ident(body, len, &id, &cause), 0);
	free(body);
	assert_string_equal(id.id, "shellyht-C8C9A3703523");
	gen1_settings_apply(&s, &id, NULL);
	assert_string_equal(id.id, "shellyht-703523");
	assert_string_equal(id.name, "H&T Gen1");

	/* dimmer: channel name reaches the light; login enabled */
	settings_of("shelly-dimmer-2", &s);
	assert_int_equal(s.login_enabled, 1);
	assert_int_equal(s.nlights, 1);
	assert_string_equal(s.light_names[0], "Shelly dimmer channel name");
	status_of("shelly-dimmer-2", &st);
	gen1_settings_apply(&s, NULL, &st);
	assert_string_equal(st.lights[0].name, "Shelly dimmer channel name");
	device_status_done(&st);

	/* /settings/relay/0 is not a full /settings: parses, with nothing known */
	body = fixture_slurp(FIX "gen1/shelly-2/settings-relay-0.json", &len);
	assert_int_equal(gen1_parse_settings(body, len, &s, &cause), 0);
	assert_string_equal(s.hostname, "");
	free(body);
}

static void
parse_status_str(const char *json, struct device_status *st)
{
	char *cause = NULL;

	if (gen1_parse_status(json, strlen(json), st, &cause) != 0)
		fail_msg("%s: %s", json, cause);
}

/* wifi_sta not connected: no signal strength, whatever rssi says. */
static void
test_wifi_disconnected(void **state)
{
	struct device_status st;
	(void)state;

	parse_status_str("{\"wifi_sta\":{\"connected\":false,\"ssid\":\"\",\"rssi\":0},"
	                 "\"uptime\":5,\"relays\":[{\"ison\":false}]}",
	    &st);
	assert_int_equal(st.wifi.connected, 0);
	assert_false(dev_known(st.wifi.rssi_dbm));
	device_status_done(&st);
}

/* Roller mode (Shelly 2.5; no capture in the fixtures, shapes from the Gen1 API docs). */
static void
test_rollers(void **state)
{
	struct device_status st;
	(void)state;

	parse_status_str(
	    "{\"relays\":[{\"ison\":false},{\"ison\":false}],\"rollers\":[{\"state\":"
	    "\"stop\",\"power\":0.00,\"is_valid\":true,\"safety_switch\":false,"
	    "\"overtemperature\":false,\"stop_reason\":\"normal\",\"last_direction\":"
	    "\"open\",\"current_pos\":100,\"calibrating\":false,\"positioning\":true}],"
	    "\"meters\":[{\"power\":0,\"total\":120},{\"power\":0,\"total\":60}],"
	    "\"temperature\":51.2,\"overtemperature\":false}",
	    &st);
	assert_int_equal(st.nswitches, 0); /* the relays drive the motor */
	assert_int_equal(st.ncovers, 1);
	assert_int_equal(st.covers[0].state, COVER_OPEN);
	assert_float_equal(st.covers[0].position_pct, 100, EPS);
	assert_float_equal(st.covers[0].energy_wh, 3, EPS); /* (120 + 60) Wmin */
	assert_string_equal(st.covers[0].last_direction, "open");
	assert_float_equal(st.sys.device_temperature_c, 51.2, EPS);
	assert_non_null(strstr(st.raw_unknown, "relays"));
	device_status_done(&st);

	parse_status_str("{\"rollers\":[{\"state\":\"close\",\"power\":120.5,\"current_pos\":101,"
	                 "\"positioning\":false,\"stop_reason\":\"obstacle\"}]}",
	    &st);
	assert_int_equal(st.covers[0].state, COVER_CLOSING);
	assert_true(isnan(st.covers[0].position_pct)); /* 101 / not calibrated */
	assert_float_equal(st.covers[0].power_w, 120.5, EPS);
	assert_string_equal(st.covers[0].errors, "obstacle");
	device_status_done(&st);

	parse_status_str("{\"rollers\":[{\"state\":\"stop\",\"calibrating\":true}]}", &st);
	assert_int_equal(st.covers[0].state, COVER_CALIBRATING);
	device_status_done(&st);
}

static void
test_synthetic_quirks(void **state)
{
	struct device_status st;
	char big[8192];
	size_t n;
	(void)state;

	/* numbers and booleans as strings, odd spacing, nulls */
	parse_status_str("{ \"uptime\" : \"123\", \"wifi_sta\" : {\"rssi\":\"-60\",\"connected\":"
	                 "\"true\",\"ip\":null,\"ssid\":null}, \"relays\" :[{\"ison\":1, "
	                 "\"overpower\":\"false\"}], \"meters\":[{\"power\":\"60.000000\","
	                 "\"is_valid\":\"true\",\"total\":\"600\"}],\"overtemperature\":true}",
	    &st);
	assert_float_equal(st.sys.uptime_s, 123, EPS);
	assert_float_equal(st.wifi.rssi_dbm, -60, EPS);
	assert_int_equal(st.wifi.connected, 1);
	assert_string_equal(st.wifi.ip, "");
	assert_int_equal(st.switches[0].output, 1);
	assert_int_equal(st.switches[0].overpower, 0);
	assert_int_equal(st.switches[0].overtemp, 1);
	assert_string_equal(st.switches[0].errors, "overtemp");
	assert_float_equal(st.switches[0].power_w, 60, EPS);
	assert_float_equal(st.switches[0].energy_wh, 10, EPS);
	device_status_done(&st);

	/* door/window, flood, smoke */
	parse_status_str(
	    "{\"sensor\":{\"state\":\"open\",\"is_valid\":true},\"accel\":{\"tilt\":12,"
	    "\"vibration\":1},\"lux\":{\"value\":40,\"illumination\":\"twilight\","
	    "\"is_valid\":true},\"tmp\":{\"value\":71.6,\"units\":\"F\",\"is_valid\":true},"
	    "\"flood\":true,\"smoke\":false}",
	    &st);
	assert_int_equal(st.sensors.door_open, 1);
	assert_float_equal(st.sensors.tilt_deg, 12, EPS);
	assert_int_equal(st.sensors.vibration, 1);
	assert_float_equal(st.sensors.illuminance_lux, 40, EPS);
	assert_float_equal(st.sensors.temps[0].temperature_c, 22, EPS);
	assert_int_equal(st.sensors.flood, 1);
	assert_int_equal(st.sensors.smoke, 0);
	device_status_done(&st);

	/* more relays than the model holds: the rest is kept raw */
	n = (size_t)snprintf(big, sizeof big, "{\"relays\":[");
	for (int i = 0; i < DEVICE_MAX_COMPONENTS + 4; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%s{\"ison\":%s}", i ? "," : "",
		    i >= DEVICE_MAX_COMPONENTS ? "true" : "false");
	snprintf(big + n, sizeof big - n, "],\"new_thing\":{\"x\":[1,2]}}");
	parse_status_str(big, &st);
	assert_int_equal(st.nswitches, DEVICE_MAX_COMPONENTS);
	assert_non_null(st.raw_unknown);
	assert_string_equal(st.raw_unknown, "{\"relays\":[{\"ison\":true},{\"ison\":true},"
	                                    "{\"ison\":true},{\"ison\":true}],\"new_thing\":"
	                                    "{\"x\":[1,2]}}");
	device_status_done(&st);

	/* wrong shapes are unknown, never a crash */
	parse_status_str(
	    "{\"relays\":{\"ison\":true},\"meters\":5,\"wifi_sta\":[1],\"tmp\":\"hot\","
	    "\"update\":null,\"inputs\":[null,7,\"x\"],\"emeters\":[{}]}",
	    &st);
	assert_int_equal(st.nswitches, 0);
	assert_int_equal(st.ninputs, 3);
	assert_int_equal(st.inputs[0].state, DEV_UNKNOWN);
	assert_int_equal(st.nmeters, 1);
	assert_true(isnan(st.meters[0].power_w));
	device_status_done(&st);
}

static void
fails(const char *body, size_t len, const char *part)
{
	struct device_status st;
	struct gen1_settings s;
	struct gen1_ota o;
	char *cause = NULL;

	assert_int_equal(gen1_parse_status(body, len, &st, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, part) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, part);
	free(cause);
	cause = NULL;
	assert_null(st.raw_unknown);
	assert_int_equal(gen1_parse_settings(body, len, &s, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(gen1_parse_ota(body, len, &o, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void
test_malformed(void **state)
{
	char *body, *deep;
	size_t len;
	(void)state;

	body = fixture_slurp(FIX "gen1/shelly-1/status.json", &len);
	fails(body, len / 2, "invalid JSON"); /* truncated reply */
	fails(body, 0, "empty");
	body[10] = '\0';
	fails(body, len, "NUL byte");
	free(body);
	fails("[]", 2, "not a JSON object");
	fails("null", 4, "not a JSON object");
	fails("<html>401</html>", 16, "invalid JSON");
	deep = malloc(40 * 6 + 1);
	assert_non_null(deep);
	deep[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(deep, "{\"a\":");
	fails(deep, strlen(deep), "nested deeper than 32");
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_capture),
	    cmocka_unit_test(test_relays),
	    cmocka_unit_test(test_raw_old_firmware),
	    cmocka_unit_test(test_meters_em),
	    cmocka_unit_test(test_lights),
	    cmocka_unit_test(test_sensors),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_rollers),
	    cmocka_unit_test(test_wifi_disconnected),
	    cmocka_unit_test(test_synthetic_quirks),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
