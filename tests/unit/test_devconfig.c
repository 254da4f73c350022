/* model/devconfig: typed configuration from real /settings and Shelly.GetConfig replies,
 * validation, drift, request builders, templates and variables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/devconfig.h"
#include "util/str.h"

#define FIX "tests/fixtures/"

static void
parse_file(int gen, const char *path, struct devconfig *c)
{
	char *body, *cause = NULL;
	size_t len;

	body = fixture_slurp(path, &len);
	if (devconfig_parse(gen, body, len, c, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	free(body);
}

/* The canonical text of a field of c ("null", "unsupported", "(write-only)" too). */
static const char *
val(const struct devconfig *c, const char *name)
{
	enum devconfig_field f;
	int index;
	char *cause = NULL;

	if (devconfig_parse_name(name, &f, &index, &cause) != 0)
		fail_msg("%s: %s", name, cause);
	return devconfig_value_text(devconfig_get(c, f, index));
}

static int walked;

static void
gen1_fixture(const char *path)
{
	struct devconfig c;

	parse_file(1, path, &c);
	/* Every Gen1 /settings has a name key, WiFi, MQTT and cloud settings. */
	assert_string_not_equal(val(&c, "sys.name"), "unsupported");
	assert_string_not_equal(val(&c, "wifi.sta.ssid"), "unsupported");
	assert_string_equal(val(&c, "wifi.sta.pass"), "(write-only)");
	assert_string_not_equal(val(&c, "mqtt.enable"), "unsupported");
	/* Gen2-only fields are never faked. */
	assert_string_equal(val(&c, "ble.enable"), "unsupported");
	assert_string_equal(val(&c, "mqtt.topic_prefix"), "unsupported");
	/* a real device's reply holds every field with its type */
	if (c.nbad > 0)
		fail_msg("%s: field %d unreadable", path, (int)c.bad[0].field);
	devconfig_done(&c);
	walked++;
}

static void
gen2_fixture(const char *path)
{
	struct devconfig c;

	parse_file(2, path, &c);
	assert_string_not_equal(val(&c, "sys.name"), "unsupported");
	assert_string_not_equal(val(&c, "sntp.server"), "unsupported");
	/* Gen1-only fields are never faked. */
	assert_string_equal(val(&c, "coiot.enable"), "unsupported");
	assert_string_equal(val(&c, "mqtt.update_period_s"), "unsupported");
	assert_true(c.has_rev);
	if (c.nbad > 0)
		fail_msg("%s: field %d unreadable", path, (int)c.bad[0].field);
	devconfig_done(&c);
	walked++;
}

static void
test_every_fixture(void **state)
{
	(void)state;
	walked = 0;
	int n1 = fixture_walk(FIX "gen1", fixture_name_is, "settings.json", gen1_fixture);
	assert_true(n1 >= 20);
	int n = fixture_walk(FIX "gen2", fixture_name_prefix, "Shelly.GetConfig", gen2_fixture);
	n += fixture_walk(FIX "gen3", fixture_name_prefix, "Shelly.GetConfig", gen2_fixture);
	n += fixture_walk(FIX "gen4", fixture_name_prefix, "Shelly.GetConfig", gen2_fixture);
	assert_true(n >= 40);
	assert_int_equal(walked, n1 + n);
}

static void
test_gen1_values(void **state)
{
	struct devconfig c;

	(void)state;
	parse_file(1, FIX "gen1/shelly-1pm/settings.json", &c);
	assert_string_equal(val(&c, "sys.timezone"), "Europe/Berlin");
	assert_string_equal(val(&c, "sys.location.lat"), "50.252491");
	assert_string_equal(val(&c, "sys.location.lon"), "5.779092");
	assert_string_equal(val(&c, "sntp.server"), "time.google.com");
	assert_string_equal(val(&c, "mqtt.server"), "10.0.0.2:1883");
	assert_string_equal(val(&c, "mqtt.client_id"), "shelly1pm-XXXXXX");
	assert_string_equal(val(&c, "mqtt.update_period_s"), "30");
	assert_string_equal(val(&c, "wifi.sta.ipv4mode"), "dhcp");
	assert_string_equal(val(&c, "wifi.sta.ip"), "null");
	assert_string_equal(val(&c, "cloud.enabled"), "true");
	assert_string_equal(val(&c, "switch:0.initial_state"), "off");
	assert_string_equal(val(&c, "switch:0.in_mode"), "flip"); /* Gen1 "edge" */
	assert_string_equal(val(&c, "switch:0.power_limit_w"), "3500");
	assert_string_equal(val(&c, "switch:0.auto_off_delay_s"), "0");
	assert_string_equal(val(&c, "switch:0.auto_off"), "false"); /* Gen1 auto_off 0 */
	assert_string_equal(val(&c, "switch:1.name"), "unsupported");
	assert_string_equal(val(&c, "sys.eco_mode"), "unsupported"); /* v1.5.6 had none */
	devconfig_done(&c);

	parse_file(1, FIX "gen1/shelly-plug-s/settings.json", &c);
	assert_string_equal(val(&c, "switch:0.initial_state"), "on");
	assert_string_equal(val(&c, "sys.eco_mode"), "true");
	assert_string_equal(val(&c, "leds.power_disable"), "false");
	assert_string_equal(val(&c, "coiot.enable"), "true");
	assert_string_equal(val(&c, "sys.timezone"), "null");
	devconfig_done(&c);

	parse_file(1, FIX "gen1/shelly-dimmer-2/settings.json", &c);
	assert_string_equal(val(&c, "light:0.name"), "Shelly dimmer channel name");
	assert_string_equal(val(&c, "light:0.initial_state"), "restore_last"); /* "last" */
	devconfig_done(&c);
}

static void
test_gen2_values(void **state)
{
	struct devconfig c;

	(void)state;
	parse_file(2, FIX "gen2/pro-dual-cover-pm/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "sys.name"), "2Cover Pro");
	assert_string_equal(val(&c, "sys.location.lat"), "null"); /* location: null */
	assert_string_equal(val(&c, "wifi.sta.ipv4mode"), "static");
	assert_string_equal(val(&c, "wifi.sta.ip"), "192.168.68.39");
	assert_string_equal(val(&c, "wifi.sta.nameserver"), "192.168.1.1");
	assert_string_equal(val(&c, "wifi.ap.enable"), "false");
	assert_string_equal(val(&c, "cover:0.name"), "Pro2cover 1st");
	assert_string_equal(val(&c, "cover:0.maxtime_open_s"), "25");
	assert_string_equal(val(&c, "cover:0.initial_state"), "stopped");
	assert_string_equal(val(&c, "cover:0.power_limit_w"), "4480");
	assert_string_equal(val(&c, "mqtt.server"), "null");
	assert_string_equal(val(&c, "mqtt.pass"), "(write-only)");
	assert_string_equal(val(&c, "ble.enable"), "true");
	assert_true(c.has_rev);
	assert_int_equal((int)c.rev, 30);
	devconfig_done(&c);

	parse_file(3, FIX "gen3/1pm-gen3/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "switch:0.name"), "1PM Gen3");
	assert_string_equal(val(&c, "switch:0.initial_state"), "match_input");
	assert_string_equal(val(&c, "switch:0.in_mode"), "follow");
	assert_string_equal(val(&c, "switch:0.auto_on"), "false");
	assert_string_equal(val(&c, "switch:0.auto_on_delay_s"), "60");
	assert_string_equal(val(&c, "input:0.type"), "switch");
	assert_string_equal(val(&c, "input:0.name"), "null");
	assert_string_equal(val(&c, "cover:0.name"), "unsupported");
	devconfig_done(&c);

	parse_file(2, FIX "gen2/plus-plug-s/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "leds.mode"), "power");
	devconfig_done(&c);

	/* Meters are named too (what --list shows of them comes from here). */
	parse_file(2, FIX "gen2/pro-3em/aioshelly-fw-1.1.0/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "em:0.name"), "Energy Monitor Test Name 0");
	assert_string_equal(val(&c, "pm1:0.name"), "unsupported");
	devconfig_done(&c);
	parse_file(3, FIX "gen3/pm-mini-gen3/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "pm1:0.name"), "PMmini Gen3");
	assert_string_equal(val(&c, "em1:0.name"), "unsupported");
	devconfig_done(&c);
	parse_file(4, FIX "gen4/em-mini-gen4/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "em1:0.name"), "null");
	devconfig_done(&c);
	/* So are lights of each type (a Pro RGBWW PM has rgb:0 and cct:0). */
	parse_file(2, FIX "gen2/pro-rgbww-pm/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "rgb:0.name"), "null");
	assert_string_equal(val(&c, "cct:0.name"), "null");
	assert_string_equal(val(&c, "light:0.name"), "unsupported");
	assert_string_equal(val(&c, "rgbw:0.name"), "unsupported");
	devconfig_done(&c);
}

static void
test_bad_documents(void **state)
{
	struct devconfig c;
	char *cause = NULL;
	static const char frame_err[] = "{\"id\":1,\"src\":\"x\",\"error\":{\"code\":-103}}";
	static const char frame_ok[] = "{\"id\":1,\"src\":\"x\",\"result\":{\"sys\":{\"device\":{"
	                               "\"name\":\"A\"},\"cfg_rev\":7}}}";

	(void)state;
	assert_int_equal(devconfig_parse(1, "[1,2]", 5, &c, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(devconfig_parse(2, "{\"a\":", 5, &c, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(devconfig_parse(2, frame_err, strlen(frame_err), &c, &cause), -1);
	free(cause);
	assert_int_equal(devconfig_parse(2, frame_ok, strlen(frame_ok), &c, &cause), 0);
	assert_string_equal(val(&c, "sys.name"), "A");
	assert_int_equal((int)c.rev, 7);
	devconfig_done(&c);
	/* Wrong shapes read as nothing rather than as a guess. */
	static const char wrong[] = "{\"name\":7,\"wifi_sta\":{\"enabled\":\"maybe\"},"
	                            "\"relays\":[{\"default_state\":\"sideways\"}]}";
	assert_int_equal(devconfig_parse(1, wrong, strlen(wrong), &c, &cause), 0);
	assert_string_equal(val(&c, "sys.name"), "unsupported");
	assert_string_equal(val(&c, "wifi.sta.enable"), "unsupported");
	assert_string_equal(val(&c, "switch:0.initial_state"), "unsupported");
	devconfig_done(&c);
}

static void
check_value(const char *name, const char *value, const char *canon)
{
	enum devconfig_field f;
	int index;
	char *out = NULL, *cause = NULL;

	assert_int_equal(devconfig_parse_name(name, &f, &index, &cause), 0);
	if (canon == NULL) {
		assert_int_equal(devconfig_check(f, value, &out, &cause), -1);
		assert_non_null(cause);
		assert_null(out);
		free(cause);
		return;
	}
	if (devconfig_check(f, value, &out, &cause) != 0)
		fail_msg("%s=%s: %s", name, value, cause);
	assert_string_equal(out, canon);
	free(out);
}

/*
 * The timer delays a real device holds: the Gen3 0-10V dimmer's capture has an auto-off delay
 * of 2145600 s (about 24.8 days, auto_off false). It reads, and passes the check a template's
 * value goes through (--template-save, --template-set), for every timer delay.
 */
static void
test_long_timer_delays(void **state)
{
	static const char *const delays[] = {"switch:0.auto_on_delay_s",
	    "switch:0.auto_off_delay_s", "light:0.auto_on_delay_s", "light:0.auto_off_delay_s"};
	enum devconfig_field f;
	struct devconfig c;
	char held[32], *out = NULL, *cause = NULL;
	int index;

	(void)state;
	parse_file(3, FIX "gen3/dimmer-0-1-10v-pm-gen3/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "light:0.auto_off"), "false");
	snprintf(held, sizeof held, "%s", val(&c, "light:0.auto_off_delay_s"));
	assert_string_equal(held, "2145600");
	devconfig_done(&c);
	for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
		check_value(delays[i], held, held);
		check_value(delays[i], "2147483", "2147483");
		check_value(delays[i], "2147484", NULL);
		check_value(delays[i], "-1", NULL);
	}
	/* The bound is said in full, not as 2.14748e+06. */
	assert_int_equal(devconfig_parse_name(delays[1], &f, &index, &cause), 0);
	assert_int_equal(devconfig_check(f, "2147484", &out, &cause), -1);
	assert_string_equal(cause, "2147484 is outside 0-2147483 s");
	free(cause);
}

static void
test_check(void **state)
{
	enum devconfig_field f;
	int index;
	char *cause = NULL;
	char buf[64];

	(void)state;
	check_value("cloud.enabled", "on", "true");
	check_value("cloud.enabled", "0", "false");
	check_value("cloud.enabled", "maybe", NULL);
	check_value("sys.location.lat", "42.5", "42.5");
	check_value("sys.location.lat", "91", NULL);
	check_value("sys.location.lat", "4x", NULL);
	check_value("sys.location.lat", "nan", NULL);
	check_value("mqtt.update_period_s", "30", "30");
	check_value("mqtt.update_period_s", "1.5", NULL);
	check_value("switch:0.initial_state", "restore_last", "restore_last");
	check_value("switch:0.initial_state", "last", NULL); /* Gen1 spelling is not the model */
	check_value("wifi.sta.ip", "10.0.0.5", "10.0.0.5");
	check_value("wifi.sta.ip", "", "");
	check_value("wifi.sta.ip", "10.0.0.256", NULL);
	check_value("wifi.sta.ip", "10.0.0", NULL);
	check_value("sys.name", "kitchen \x1b[31m", NULL);
	check_value("wifi.sta.ssid", "0123456789012345678901234567890123", NULL);

	assert_int_equal(devconfig_parse_name("switch:12.auto_off_delay_s", &f, &index, &cause), 0);
	assert_int_equal(f, DCFG_SWITCH_AUTO_OFF_DELAY);
	assert_int_equal(index, 12);
	assert_string_equal(
	    devconfig_name(f, index, buf, sizeof buf), "switch:12.auto_off_delay_s");
	assert_int_equal(devconfig_parse_name("switch:N.name", &f, &index, &cause), -1);
	free(cause);
	assert_int_equal(devconfig_parse_name("switch:999.name", &f, &index, &cause), -1);
	free(cause);
	assert_int_equal(devconfig_parse_name("sys.nope", &f, &index, &cause), -1);
	free(cause);
	/* Every path in the table is parseable and names itself. */
	for (int i = 0; i < DCFG__COUNT; i++) {
		const struct devconfig_field_info *fi = devconfig_field((enum devconfig_field)i);
		int per = strstr(fi->path, ":N.") != NULL;
		devconfig_name(fi->id, per ? 3 : -1, buf, sizeof buf);
		assert_int_equal(devconfig_parse_name(buf, &f, &index, &cause), 0);
		assert_int_equal(f, fi->id);
		assert_true(fi->g1_endpoint != NULL || fi->g2_component != NULL);
		assert_true((fi->g1_endpoint == NULL) == (fi->g1_param == NULL));
	}
}

static void
set(struct devconfig *c, const char *name, const char *value)
{
	enum devconfig_field f;
	int index;
	char *cause = NULL;

	assert_int_equal(devconfig_parse_name(name, &f, &index, &cause), 0);
	devconfig_set(c, f, index, DEVCONFIG_VALUE, value);
}

static void
test_diff(void **state)
{
	struct devconfig want, have;
	struct devconfig_diff *d;
	size_t n;

	(void)state;
	parse_file(1, FIX "gen1/shelly-1pm/settings.json", &have);
	devconfig_init(&want);
	set(&want, "sys.timezone", "Europe/Berlin"); /* same */
	set(&want, "sys.location.lat", "50.2524910"); /* same number */
	set(&want, "mqtt.server", "mqtt.lan:1883"); /* drift */
	set(&want, "switch:0.initial_state", "restore_last"); /* drift */
	set(&want, "ble.enable", "false"); /* unsupported on Gen1 */
	set(&want, "mqtt.pass", "hunter2"); /* cannot be read back */
	set(&want, "sys.name", ""); /* null == "" for text */
	assert_int_equal(devconfig_diff(&want, &have, &d, &n), 2);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		char name[64];
		devconfig_name(d[i].field, d[i].index, name, sizeof name);
		if (!strcmp(name, "mqtt.server")) {
			assert_int_equal(d[i].kind, DIFF_DRIFT);
			assert_string_equal(d[i].actual, "10.0.0.2:1883");
			assert_string_equal(d[i].desired, "mqtt.lan:1883");
		} else if (!strcmp(name, "switch:0.initial_state"))
			assert_int_equal(d[i].kind, DIFF_DRIFT);
		else if (!strcmp(name, "ble.enable"))
			assert_int_equal(d[i].kind, DIFF_UNSUPPORTED);
		else if (!strcmp(name, "mqtt.pass"))
			assert_int_equal(d[i].kind, DIFF_UNKNOWN);
		else
			assert_int_equal(d[i].kind, DIFF_SAME);
	}
	free(d);
	devconfig_done(&want);
	devconfig_done(&have);
}

/* Gen1 keeps lat/lng (and its other fractional numbers) as 32-bit floats printed with 6
 * decimals: the shelly-em fixture's 45.775398 is 45.7754 as set, so no drift; a real change
 * still is one, and Gen2 (doubles) keeps the exact comparison. */
static void
test_diff_gen1_floats(void **state)
{
	struct devconfig want, have;
	struct devconfig_diff *d;
	size_t n;

	(void)state;
	parse_file(1, FIX "gen1/shelly-em/settings.json", &have);
	devconfig_init(&want);
	set(&want, "sys.location.lat", "45.7754");
	set(&want, "sys.location.lon", "9.18176");
	assert_int_equal(devconfig_diff(&want, &have, &d, &n), 0);
	free(d);
	devconfig_done(&want);
	devconfig_init(&want);
	set(&want, "sys.location.lat", "45.7755");
	set(&want, "sys.location.lon", "9.18177");
	assert_int_equal(devconfig_diff(&want, &have, &d, &n), 2);
	free(d);
	devconfig_done(&want);
	devconfig_done(&have);

	devconfig_init(&want);
	devconfig_init(&have);
	have.gen = 2;
	set(&have, "sys.location.lat", "45.775398");
	set(&want, "sys.location.lat", "45.7754");
	assert_int_equal(devconfig_diff(&want, &have, &d, &n), 1);
	free(d);
	devconfig_done(&want);
	devconfig_done(&have);
}

/* A reply that holds a field with a wrong type (a boolean as an object, a number as an
 * object): the field is there, so not "unsupported", but it cannot be read. */
static void
test_diff_unreadable(void **state)
{
	static const char body[] = "{\"switch:0\":{\"id\":0,\"auto_on\":{\"value\":false},"
	                           "\"auto_on_delay\":{\"v\":1},\"name\":7},\"sys\":{}}";
	struct devconfig want, have, copy;
	struct devconfig_diff *d;
	size_t n;
	char *cause = NULL;

	(void)state;
	assert_int_equal(devconfig_parse(2, body, strlen(body), &have, &cause), 0);
	devconfig_init(&want);
	set(&want, "switch:0.auto_on", "true");
	set(&want, "switch:0.auto_on_delay_s", "5");
	set(&want, "switch:0.name", "x");
	set(&want, "switch:1.auto_on", "true");
	assert_int_equal(devconfig_diff(&want, &have, &d, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		char name[64];

		devconfig_name(d[i].field, d[i].index, name, sizeof name);
		if (strcmp(name, "switch:1.auto_on") == 0) /* no switch:1 at all */
			assert_int_equal(d[i].kind, DIFF_UNSUPPORTED);
		else if (d[i].kind != DIFF_UNREADABLE)
			fail_msg("%s: kind %d, not unreadable", name, (int)d[i].kind);
	}
	devconfig_copy(&copy, &have);
	assert_true(devconfig_unreadable(&copy, d[0].field, 0));
	free(d);
	devconfig_done(&copy);
	devconfig_done(&want);
	devconfig_done(&have);
}

static void
test_requests(void **state)
{
	struct devconfig ch;
	struct devconfig_request *r;
	size_t n;
	char *cause = NULL;

	(void)state;
	devconfig_init(&ch);
	set(&ch, "sys.timezone", "Europe/Sofia");
	set(&ch, "mqtt.server", "mqtt.lan:1883");
	set(&ch, "switch:0.initial_state", "restore_last");
	set(&ch, "switch:0.auto_off", "true");
	set(&ch, "switch:0.auto_off_delay_s", "30");
	set(&ch, "switch:1.name", "two & more");
	set(&ch, "wifi.sta.pass", "s3cret");
	assert_int_equal(devconfig_requests(1, &ch, &r, &n, &cause), 0);
	assert_int_equal(n, 4);
	assert_string_equal(r[0].method, "GET");
	assert_string_equal(
	    r[0].path, "/settings?timezone=Europe%2FSofia&mqtt_server=mqtt.lan%3A1883");
	assert_int_equal(r[0].nfields, 2);
	assert_string_equal(r[1].path, "/settings/sta?key=s3cret");
	assert_string_equal(r[2].path, "/settings/relay/1?name=two%20%26%20more");
	assert_string_equal(r[3].path, "/settings/relay/0?default_state=last&auto_off=30");
	assert_null(r[0].body);
	devconfig_requests_free(r, n);

	/* A field the generation lacks fails the whole build: nothing half-sent. */
	set(&ch, "coiot.enable", "true");
	assert_int_equal(devconfig_requests(2, &ch, &r, &n, &cause), -1);
	assert_string_equal(cause, "coiot.enable cannot be set on a Gen2 device");
	free(cause);
	cause = NULL;
	devconfig_done(&ch);

	devconfig_init(&ch);
	set(&ch, "sys.timezone", "Europe/Sofia");
	set(&ch, "sys.location.lat", "42.7");
	set(&ch, "sys.name", "");
	set(&ch, "switch:0.initial_state", "restore_last");
	set(&ch, "switch:0.auto_off", "true");
	set(&ch, "wifi.sta.ssid", "lab");
	assert_int_equal(devconfig_requests(2, &ch, &r, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].method, "POST");
	assert_string_equal(r[0].path, "/rpc/Sys.SetConfig");
	assert_string_equal(r[0].rpc_method, "Sys.SetConfig");
	assert_string_equal(r[0].body, "{\"config\":{\"device\":{\"name\":null},\"location\":{"
	                               "\"tz\":\"Europe/Sofia\",\"lat\":42.7}}}");
	assert_string_equal(r[1].path, "/rpc/WiFi.SetConfig");
	assert_string_equal(r[1].body, "{\"config\":{\"sta\":{\"ssid\":\"lab\"}}}");
	assert_string_equal(r[2].body,
	    "{\"id\":0,\"config\":{\"initial_state\":\"restore_last\",\"auto_off\":true}}");
	devconfig_requests_free(r, n);
	devconfig_done(&ch);

	/* A meter's or a light's name goes to its own component. */
	devconfig_init(&ch);
	set(&ch, "pm1:0.name", "Dryer");
	set(&ch, "rgbcct:1.name", "Desk");
	assert_int_equal(devconfig_requests(3, &ch, &r, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].rpc_method, "PM1.SetConfig");
	assert_non_null(strstr(r[0].body, "\"name\":\"Dryer\""));
	assert_string_equal(r[1].rpc_method, "RGBCCT.SetConfig");
	assert_string_equal(r[1].body, "{\"id\":1,\"config\":{\"name\":\"Desk\"}}");
	devconfig_requests_free(r, n);
	devconfig_done(&ch);
}

static void
parse_text(int gen, const char *doc, struct devconfig *c)
{
	char *cause = NULL;

	if (devconfig_parse(gen, doc, strlen(doc), c, &cause) != 0)
		fail_msg("%s", cause);
}

/* The Gen1 request paths of changes, joined by ' ', or the refusal. */
static void
gen1_paths(const struct devconfig *ch, char *out, size_t size)
{
	struct devconfig_request *r;
	size_t n;
	char *cause = NULL;

	out[0] = '\0';
	if (devconfig_requests(1, ch, &r, &n, &cause) != 0) {
		snprintf(out, size, "refused: %s", cause);
		free(cause);
		return;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", r[i].path);
	devconfig_requests_free(r, n);
}

/* The changes a template makes on a device: what drifts, completed as an apply does. */
static int
plan_changes(
    const struct devconfig *want, const struct devconfig *have, struct devconfig *ch, char **cause)
{
	struct devconfig_diff *d;
	size_t n;

	devconfig_diff(want, have, &d, &n);
	devconfig_init(ch);
	for (size_t i = 0; i < n; i++)
		if (d[i].kind == DIFF_DRIFT)
			devconfig_set(ch, d[i].field, d[i].index, DEVCONFIG_VALUE, d[i].desired);
	free(d);
	return devconfig_timer_changes(ch, want, have, cause);
}

static const char gen2_timers_off[] =
    "{\"switch:0\":{\"id\":0,\"auto_on\":false,\"auto_on_delay\":60,"
    "\"auto_off\":false,\"auto_off_delay\":60}}";

/* Gen1 keeps a timer as one number (0 = off); Gen2+ as a flag and a delay. */
static void
test_timers_gen2_to_gen1(void **state)
{
	struct devconfig tmpl, have, ch;
	struct devconfig_diff *d;
	size_t n;
	char paths[256], *cause = NULL;

	(void)state;
	/* A template saved from a Gen2 relay with both timers off (delays 60). */
	parse_text(2, gen2_timers_off, &tmpl);
	tmpl.gen = 0;
	assert_string_equal(val(&tmpl, "switch:0.auto_on"), "false");

	/* A Gen1 relay with both timers off is in sync: an off timer's delay does not drift. */
	parse_file(1, FIX "gen1/shelly-1/settings.json", &have);
	assert_string_equal(val(&have, "switch:0.auto_on"), "false");
	assert_string_equal(val(&have, "switch:0.auto_on_delay_s"), "0");
	assert_int_equal(devconfig_diff(&tmpl, &have, &d, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(d[i].kind, DIFF_SAME);
	free(d);
	devconfig_done(&have);

	/* Gen1 auto_on 30 reads as on: the template turns it off with auto_on=0, not 60. */
	parse_text(1, "{\"relays\":[{\"auto_on\":30,\"auto_off\":0}]}", &have);
	assert_string_equal(val(&have, "switch:0.auto_on"), "true");
	assert_string_equal(val(&have, "switch:0.auto_on_delay_s"), "30");
	assert_int_equal(plan_changes(&tmpl, &have, &ch, &cause), 0);
	assert_int_equal(ch.n, 1);
	gen1_paths(&ch, paths, sizeof paths);
	assert_string_equal(paths, "/settings/relay/0?auto_on=0");
	devconfig_done(&ch);
	devconfig_done(&have);

	/* The whole template sent as is (provisioning) writes both timers as 0. */
	gen1_paths(&tmpl, paths, sizeof paths);
	assert_string_equal(paths, "/settings/relay/0?auto_on=0&auto_off=0");
	devconfig_done(&tmpl);
}

static void
test_timers_gen1_to_gen2(void **state)
{
	struct devconfig tmpl, have;
	struct devconfig_diff *d;
	struct devconfig_request *r;
	size_t n;
	char *cause = NULL;

	(void)state;
	/* Gen1 auto_off 120 is a timer that is on, with a delay of 120 s. */
	parse_text(1, "{\"relays\":[{\"auto_on\":0,\"auto_off\":120}]}", &tmpl);
	tmpl.gen = 0;
	assert_string_equal(val(&tmpl, "switch:0.auto_off"), "true");
	assert_string_equal(val(&tmpl, "switch:0.auto_off_delay_s"), "120");
	parse_text(2, gen2_timers_off, &have);
	/* Both the flag and the delay drift; auto_on is off on both (delays 0 and 60). */
	assert_int_equal(devconfig_diff(&tmpl, &have, &d, &n), 2);
	free(d);
	assert_int_equal(devconfig_requests(2, &tmpl, &r, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].body, "{\"id\":0,\"config\":{\"auto_on\":false,"
	                               "\"auto_on_delay\":0,\"auto_off\":true,"
	                               "\"auto_off_delay\":120}}");
	devconfig_requests_free(r, n);
	devconfig_done(&have);

	/* After the write the Gen2 device is in sync; with auto_off still false it is not. */
	parse_text(2,
	    "{\"switch:0\":{\"auto_on\":false,\"auto_on_delay\":60,\"auto_off\":true,"
	    "\"auto_off_delay\":120}}",
	    &have);
	assert_int_equal(devconfig_diff(&tmpl, &have, &d, &n), 0);
	free(d);
	devconfig_done(&have);
	parse_text(2,
	    "{\"switch:0\":{\"auto_on\":false,\"auto_on_delay\":60,\"auto_off\":false,"
	    "\"auto_off_delay\":120}}",
	    &have);
	assert_int_equal(devconfig_diff(&tmpl, &have, &d, &n), 1);
	free(d);
	devconfig_done(&have);
	devconfig_done(&tmpl);
}

/* A delay alone never turns a Gen1 timer on; with the timer on it only changes the delay. */
static void
test_timers_delay_alone(void **state)
{
	struct devconfig want, have, ch;
	char paths[256], *cause = NULL;

	(void)state;
	devconfig_init(&want);
	set(&want, "switch:0.auto_on_delay_s", "60");
	gen1_paths(&want, paths, sizeof paths);
	assert_string_equal(paths, "refused: switch:0.auto_on_delay_s: on Gen1 a delay above 0 "
	                           "turns the timer on; set switch:0.auto_on with it");
	parse_text(1, "{\"relays\":[{\"auto_on\":0,\"auto_off\":0}]}", &have);
	assert_int_equal(plan_changes(&want, &have, &ch, &cause), -1);
	assert_non_null(strstr(cause, "turns the timer on"));
	free(cause);
	cause = NULL;
	devconfig_done(&ch);
	devconfig_done(&have);

	parse_text(1, "{\"relays\":[{\"auto_on\":30,\"auto_off\":0}]}", &have);
	assert_int_equal(plan_changes(&want, &have, &ch, &cause), 0);
	gen1_paths(&ch, paths, sizeof paths);
	assert_string_equal(paths, "/settings/relay/0?auto_on=60");
	devconfig_done(&ch);
	devconfig_done(&have);

	/* A timer turned on needs a delay above 0. */
	devconfig_done(&want);
	devconfig_init(&want);
	set(&want, "light:1.auto_off", "true");
	set(&want, "light:1.auto_off_delay_s", "0");
	gen1_paths(&want, paths, sizeof paths);
	assert_string_equal(paths, "refused: light:1.auto_off: a Gen1 timer that is on needs "
	                           "light:1.auto_off_delay_s above 0");
	set(&want, "light:1.auto_off_delay_s", "45");
	gen1_paths(&want, paths, sizeof paths);
	assert_string_equal(paths, "/settings/light/1?auto_off=45");
	devconfig_done(&want);

	/* Gen1 lights read the same way. */
	parse_text(1, "{\"lights\":[{\"auto_on\":0,\"auto_off\":15}]}", &have);
	assert_string_equal(val(&have, "light:0.auto_on"), "false");
	assert_string_equal(val(&have, "light:0.auto_off"), "true");
	assert_string_equal(val(&have, "light:0.auto_off_delay_s"), "15");
	devconfig_done(&have);
}

static void
test_network(void **state)
{
	struct devconfig have, ch;
	char why[96];

	(void)state;
	parse_file(2, FIX "gen2/pro-dual-cover-pm/Shelly.GetConfig.json", &have);
	devconfig_init(&ch);
	set(&ch, "sys.name", "x");
	assert_int_equal(devconfig_cuts_network(&ch, &have, why, sizeof why), 0);
	set(&ch, "wifi.sta.ssid", "Tamer Umniah"); /* unchanged: no cut */
	assert_int_equal(devconfig_cuts_network(&ch, &have, why, sizeof why), 0);
	set(&ch, "wifi.sta.ip", "192.168.68.40");
	assert_int_equal(devconfig_cuts_network(&ch, &have, why, sizeof why), 1);
	assert_string_equal(why, "wifi.sta.ip");
	devconfig_done(&ch);
	devconfig_init(&ch);
	set(&ch, "wifi.ap.enable", "false"); /* the station is set up: fine */
	assert_int_equal(devconfig_cuts_network(&ch, &have, why, sizeof why), 0);
	devconfig_set(&have, DCFG_WIFI_STA_SSID, -1, DEVCONFIG_NULL, NULL);
	assert_int_equal(devconfig_cuts_network(&ch, &have, why, sizeof why), 1);
	devconfig_done(&ch);
	devconfig_done(&have);
}

/* The static address a change gives the station: only when the mode or the address changes. */
static void
test_static_address(void **state)
{
	struct devconfig have, ch;
	char ip[64];

	(void)state;
	parse_file(2, FIX "gen2/pro-dual-cover-pm/Shelly.GetConfig.json", &have);
	devconfig_set(&have, DCFG_WIFI_STA_IPV4MODE, -1, DEVCONFIG_VALUE, "dhcp");
	devconfig_init(&ch);
	assert_int_equal(devconfig_static_address(&ch, &have, ip, sizeof ip), 0); /* no change */
	set(&ch, "wifi.sta.ip", "192.168.68.40"); /* an address while DHCP stays: no move */
	assert_int_equal(devconfig_static_address(&ch, &have, ip, sizeof ip), 0);
	set(&ch, "wifi.sta.ipv4mode", "static");
	assert_int_equal(devconfig_static_address(&ch, &have, ip, sizeof ip), 1);
	assert_string_equal(ip, "192.168.68.40");
	devconfig_done(&ch);
	/* Already static: a new address alone moves it; the mode back to DHCP does not. */
	devconfig_set(&have, DCFG_WIFI_STA_IPV4MODE, -1, DEVCONFIG_VALUE, "static");
	devconfig_init(&ch);
	set(&ch, "wifi.sta.ip", "192.168.68.41");
	assert_int_equal(devconfig_static_address(&ch, &have, ip, sizeof ip), 1);
	assert_string_equal(ip, "192.168.68.41");
	set(&ch, "wifi.sta.ipv4mode", "dhcp");
	assert_int_equal(devconfig_static_address(&ch, &have, ip, sizeof ip), 0);
	devconfig_done(&ch);
	devconfig_done(&have);
}

/* Static addressing without an address (the device's or the change's) is found; a set read
 * from a device without its address loses its static block. */
static void
test_static_without_address(void **state)
{
	struct devconfig have, ch;

	(void)state;
	parse_file(1, FIX "gen1/shelly-1/settings.json", &have); /* DHCP, ip null */
	devconfig_init(&ch);
	set(&ch, "wifi.sta.ipv4mode", "static");
	set(&ch, "wifi.sta.netmask", "255.255.255.0");
	assert_int_equal(devconfig_static_without_address(&ch, &have), 1);
	set(&ch, "wifi.sta.ip", "192.168.33.7");
	assert_int_equal(devconfig_static_without_address(&ch, &have), 0);
	devconfig_done(&ch);
	/* The device's own address counts. */
	devconfig_set(&have, DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, "192.168.33.8");
	devconfig_init(&ch);
	set(&ch, "wifi.sta.ipv4mode", "static");
	assert_int_equal(devconfig_static_without_address(&ch, &have), 0);
	set(&ch, "wifi.sta.ip", ""); /* cleared in the same change */
	assert_int_equal(devconfig_static_without_address(&ch, &have), 1);
	devconfig_done(&ch);
	/* A template from a static device: mode, mask, gateway, DNS but no address. */
	devconfig_init(&ch);
	set(&ch, "wifi.sta.ipv4mode", "static");
	set(&ch, "wifi.sta.netmask", "255.255.255.0");
	set(&ch, "wifi.sta.gw", "192.168.33.1");
	set(&ch, "wifi.sta.nameserver", "192.168.33.1");
	set(&ch, "sys.timezone", "UTC");
	assert_int_equal(devconfig_drop_half_static(&ch), 4);
	assert_int_equal(ch.n, 1);
	set(&ch, "wifi.sta.ipv4mode", "static");
	set(&ch, "wifi.sta.ip", "192.168.33.9");
	assert_int_equal(devconfig_drop_half_static(&ch), 0); /* whole: kept */
	devconfig_done(&ch);
	devconfig_done(&have);
}

/* Gen1 btn_type momentary_on_release is switch:N.in_mode; a choice the model does not know is
 * unreadable with its raw value sanitised (copied along), never absent. */
static void
test_enum_unknown(void **state)
{
	static const char mor[] = "{\"relays\":[{\"btn_type\":\"momentary_on_release\"},"
	                          "{\"btn_type\":\"edge\"},{\"btn_type\":\"x\\u001b[5mnew\"}]}";
	struct devconfig have, want, copy, ch;
	struct devconfig_diff *d;
	struct devconfig_request *r;
	size_t n;
	char *cause = NULL;
	const struct devconfig_entry *b;

	(void)state;
	assert_int_equal(devconfig_parse(1, mor, strlen(mor), &have, &cause), 0);
	assert_string_equal(val(&have, "switch:0.in_mode"), "momentary_on_release");
	assert_string_equal(val(&have, "switch:1.in_mode"), "flip");
	assert_null(devconfig_get(&have, DCFG_SWITCH_IN_MODE, 2));
	b = devconfig_unreadable_entry(&have, DCFG_SWITCH_IN_MODE, 2);
	assert_non_null(b);
	assert_non_null(b->value);
	assert_true(str_is_safe(b->value));
	assert_non_null(strstr(b->value, "new"));
	devconfig_init(&want);
	set(&want, "switch:2.in_mode", "follow");
	devconfig_diff(&want, &have, &d, &n);
	assert_int_equal(d[0].kind, DIFF_UNREADABLE);
	assert_string_equal(d[0].actual, b->value);
	free(d);
	devconfig_copy(&copy, &have);
	assert_string_equal(
	    devconfig_unreadable_entry(&copy, DCFG_SWITCH_IN_MODE, 2)->value, b->value);
	devconfig_done(&copy);
	/* Written back as Gen1 knows it; a Gen2+ device has no such mode. */
	devconfig_init(&ch);
	set(&ch, "switch:0.in_mode", "momentary_on_release");
	assert_int_equal(devconfig_requests(1, &ch, &r, &n, &cause), 0);
	assert_non_null(strstr(r[0].path, "btn_type=momentary_on_release"));
	devconfig_requests_free(r, n);
	assert_int_equal(devconfig_requests(2, &ch, &r, &n, &cause), -1);
	free(cause);
	devconfig_done(&ch);
	devconfig_done(&want);
	devconfig_done(&have);
}

/* Input strictness: a field set twice names both lines; numbers are decimal JSON numbers
 * (-0 is 0); a leading UTF-8 byte order mark is skipped. */
static void
test_strict_input(void **state)
{
	static const char *const bad_num[] = {"0x10", "0X1p3", "+5", " 5", "5 ", ".5", "5.", "1e",
	    "05", "inf", "nan", "1_000", "--1", "0x"};
	static const char *const good_num[] = {
	    "0", "-0", "10", "2.5", "-0.0", "1e2", "1.5E+1", "0.25"};
	static const char dup[] = "sys.timezone = UTC\n# comment\n\nsntp.server = a\n"
	                          "sys.timezone = Europe/Sofia\n";
	static const char bom[] = "\xef\xbb\xbfsys.timezone = UTC\nsntp.server = a\n";
	struct devconfig t;
	char *canon = NULL, *cause = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++) {
		if (devconfig_check(DCFG_SWITCH_AUTO_OFF_DELAY, bad_num[i], &canon, &cause) == 0)
			fail_msg("%s accepted as %s", bad_num[i], canon);
		free(cause);
		cause = NULL;
	}
	for (size_t i = 0; i < sizeof good_num / sizeof good_num[0]; i++) {
		if (devconfig_check(DCFG_SWITCH_AUTO_OFF_DELAY, good_num[i], &canon, &cause) != 0)
			fail_msg("%s: %s", good_num[i], cause);
		assert_true(canon[0] != '-');
		free(canon);
	}
	assert_int_equal(devconfig_check(DCFG_SYS_LAT, "-0", &canon, &cause), 0);
	assert_string_equal(canon, "0");
	free(canon);
	assert_int_equal(devconfig_template_parse(dup, strlen(dup), &t, &cause), -1);
	assert_string_equal(cause, "line 5: sys.timezone set twice (line 1 and line 5)");
	free(cause);
	cause = NULL;
	assert_int_equal(devconfig_snapshot_parse(dup, strlen(dup), &t, &cause), -1);
	free(cause);
	cause = NULL;
	if (devconfig_template_parse(bom, strlen(bom), &t, &cause) != 0)
		fail_msg("BOM: %s", cause);
	assert_string_equal(val(&t, "sys.timezone"), "UTC");
	assert_int_equal(t.n, 2);
	devconfig_done(&t);
}

/* Selectors of --fields: fields and sections (dotted prefixes), nothing else. */
static void
test_selectors(void **state)
{
	static const char *const ok[] = {"sntp.server", "sntp", "mqtt", "wifi.sta", "wifi",
	    "switch:0", "switch:3.name", "sys.location", "sys.location.lat", "input:63"};
	static const char *const bad[] = {"sntp.sever", "", "switch", "sys:0", "switch:64",
	    "switch:x", "wifi.st", "mqtt.", "switch:0.", "sys.location.lat.x", "switch:01x"};
	char *cause = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (devconfig_check_selector(ok[i], &cause) != 0)
			fail_msg("%s: %s", ok[i], cause);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (devconfig_check_selector(bad[i], &cause) == 0)
			fail_msg("%s accepted", bad[i]);
		free(cause);
		cause = NULL;
	}
}

/* parse (a template or snapshot reader) refuses text with a cause that starts with want. */
static void
refused(int (*parse)(const char *, size_t, struct devconfig *, char **), const char *text,
    const char *want)
{
	struct devconfig t;
	char *cause = NULL;

	assert_int_equal(parse(text, strlen(text), &t, &cause), -1);
	if (strncmp(cause, want, strlen(want)) != 0)
		fail_msg("%s: got '%s'", text, cause);
	free(cause);
}

static void
test_templates(void **state)
{
	static const char text[] = "# office plugs\n"
	                           "  sys.timezone = Europe/Sofia\r\n"
	                           "\n"
	                           "mqtt.server=mqtt.lan:1883   # broker\n"
	                           "sys.name = \"${group} ${index}: \\\"${name}\\\"\"\n"
	                           "mqtt.topic_prefix = site/${id}\n"
	                           "switch:0.auto_off = on\n";
	struct devconfig t, r, back;
	struct devconfig_vars vars = {"Lamp", "shellyplus1-aabb", "aabbccddeeff", "3", "office"};
	char *cause = NULL, *buf = NULL;
	size_t blen = 0;
	FILE *fp;

	(void)state;
	if (devconfig_template_parse(text, strlen(text), &t, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(t.n, 5);
	assert_string_equal(val(&t, "mqtt.server"), "mqtt.lan:1883   # broker");
	assert_string_equal(val(&t, "switch:0.auto_off"), "true");
	assert_int_equal(devconfig_render(&t, &vars, &r, &cause), 0);
	assert_string_equal(val(&r, "sys.name"), "office 3: \"Lamp\"");
	assert_string_equal(val(&r, "mqtt.topic_prefix"), "site/shellyplus1-aabb");

	/* Written and read again, the same fields. */
	fp = open_memstream(&buf, &blen);
	devconfig_template_write(&r, "from test", fp);
	fclose(fp);
	assert_int_equal(devconfig_template_parse(buf, blen, &back, &cause), 0);
	assert_int_equal(back.n, r.n);
	assert_string_equal(val(&back, "sys.name"), "office 3: \"Lamp\"");
	free(buf);
	devconfig_done(&back);
	devconfig_done(&r);

	/* A variable that is not known per device fails the render, not the parse. */
	vars.group = NULL;
	assert_int_equal(devconfig_render(&t, &vars, &r, &cause), -1);
	assert_non_null(strstr(cause, "${group}"));
	free(cause);
	/* ... while the check before storing takes every known name, and only those. */
	assert_int_equal(devconfig_vars_check(&t, &cause), 0);
	devconfig_done(&t);
	static const char *const badvars[] = {"sys.name = ${nmae}\n", "sys.name = a${index\n"};
	for (size_t i = 0; i < sizeof badvars / sizeof badvars[0]; i++) {
		if (devconfig_template_parse(badvars[i], strlen(badvars[i]), &t, &cause) != 0)
			fail_msg("%s", cause);
		assert_int_equal(devconfig_vars_check(&t, &cause), -1);
		assert_non_null(strstr(cause, "sys.name: "));
		free(cause);
		devconfig_done(&t);
	}

	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"sys.name\n", "line 1: expected"},
	    {"\n\nsys.nope = 1\n", "line 3: sys.nope: unknown field"},
	    {"cloud.enabled = perhaps\n", "line 1: cloud.enabled: 'perhaps' is not a boolean"},
	    {"sys.name = \"open\n", "line 1: sys.name: unterminated"},
	    {"sys:1.name = x\n", "line 1: "},
	    {"switch:0.power_limit_w = 99999\n",
	        "line 1: switch:0.power_limit_w: 99999 is outside"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(devconfig_template_parse, bad[i].text, bad[i].want);
}

/*
 * One template line looked at on its own (devconfig_line_field, what export uses to leave
 * secret lines out): the field and component of a line the reader accepts, 0 for blank and
 * comment lines, -1 for a line it refuses, and always the same verdict as
 * devconfig_template_parse or devconfig_snapshot_parse of that line alone.
 */
static void
test_line_field(void **state)
{
	static const struct {
		const char *line;
		int rc, index;
		enum devconfig_field f;
	} cases[] = {
	    {"sys.name = Lamp\n", 1, -1, DCFG_SYS_NAME},
	    {"  wifi.sta.pass = \"a b\"   # kept\r\n", 1, -1, DCFG_WIFI_STA_PASS},
	    {"switch:1.name = ${name}", 1, 1, DCFG_SWITCH_NAME},
	    {"sys.location.lat =\n", 1, -1, DCFG_SYS_LAT}, /* an empty number: null */
	    {"sys.name = x\nwifi.sta.pass = y\n", 1, -1, DCFG_SYS_NAME}, /* the first line */
	    {"", 0, 0, 0},
	    {"   \n", 0, 0, 0},
	    {"# wifi.sta.pass = old\n", 0, 0, 0},
	    {"sys.name\n", -1, 0, 0},
	    {"sys.nope = 1\n", -1, 0, 0},
	    {"cloud.enabled = perhaps\n", -1, 0, 0},
	    {"sys.name = \"open\n", -1, 0, 0},
	    {"sys:1.name = x\n", -1, 0, 0},
	    {"WIFI.STA.PASS x\n", -1, 0, 0},
	    /* as a snapshot holds what a device reported: only the snapshot reader takes it */
	    {"sys.name = \"a\\nmqtt.pass = x\"\n", 1, -1, DCFG_SYS_NAME},
	    {"sys.name = \"a\\q\"\n", -1, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *line = cases[i].line, *nl = strchr(line, '\n');
		size_t one = nl != NULL ? (size_t)(nl - line) + 1 : strlen(line);
		enum devconfig_field f = DCFG__COUNT;
		struct devconfig t;
		char *cause = NULL, *why = NULL;
		int index = -7, rc, prc;

		rc = devconfig_line_field(line, strlen(line), &f, &index, &cause);
		if (rc != cases[i].rc)
			fail_msg(
			    "'%s': %d, want %d (%s)", line, rc, cases[i].rc, cause ? cause : "");
		if (rc == 1) {
			assert_int_equal(f, cases[i].f);
			assert_int_equal(index, cases[i].index);
		}
		assert_true(rc == -1 ? cause != NULL && str_is_safe(cause) : cause == NULL);
		/* The readers of whole templates or snapshots say the same of the line alone. */
		if ((prc = devconfig_template_parse(line, one, &t, &why)) != 0) {
			free(why);
			why = NULL;
			prc = devconfig_snapshot_parse(line, one, &t, &why);
		}
		assert_int_equal(prc, rc == -1 ? -1 : 0);
		if (prc == 0) {
			assert_int_equal(t.n, (size_t)(rc == 1));
			if (rc == 1)
				assert_int_equal(t.e[0].field, f);
			devconfig_done(&t);
		}
		free(why);
		free(cause);
	}
}

/* c written as template text (caller frees). */
static char *
written(const struct devconfig *c)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *fp = open_memstream(&buf, &blen);

	assert_non_null(fp);
	devconfig_template_write(c, NULL, fp);
	fclose(fp);
	return buf;
}

/* Every line of text (without its newline) is printable UTF-8 (str_is_safe); returns the
 * number of lines. */
static size_t
safe_lines(const char *text)
{
	size_t n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		char *line = strndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		if (!str_is_safe(line))
			fail_msg("unsafe line '%s'", line);
		free(line);
		n++;
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	return n;
}

/*
 * What a device reports is written so that it reads back byte for byte on one line: a device
 * name that holds newlines and field lines (it used to become three fields, one a secret), a
 * time zone with a BEL (it used to be written raw). The snapshot reader gives the value back;
 * the template reader refuses it as a desired value, and devconfig_unsettable names it.
 */
static void
test_value_escapes(void **state)
{
	static const char inj[] =
	    "Lamp\nmqtt.pass = attacker-chosen\nswitch:0.auto_off_delay_s = 1";
	struct devconfig c, back;
	char *text, *cause = NULL, name[96];

	(void)state;
	devconfig_init(&c);
	devconfig_set(&c, DCFG_SYS_NAME, -1, DEVCONFIG_VALUE, inj);
	devconfig_set(&c, DCFG_SYS_TIMEZONE, -1, DEVCONFIG_VALUE, "Europe/Sofia\a");
	text = written(&c);
	assert_int_equal(safe_lines(text), 3); /* the header and two fields */
	assert_non_null(strstr(text, "sys.name = \"Lamp\\nmqtt.pass = attacker-chosen\\n"));
	assert_non_null(strstr(text, "sys.timezone = \"Europe/Sofia\\u0007\"\n"));
	if (devconfig_snapshot_parse(text, strlen(text), &back, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(back.n, 2);
	assert_string_equal(val(&back, "sys.name"), inj);
	assert_string_equal(val(&back, "sys.timezone"), "Europe/Sofia\a");
	assert_null(devconfig_get(&back, DCFG_MQTT_PASS, -1));
	assert_int_equal(devconfig_unsettable(&back, name, sizeof name, &cause), 0);
	assert_string_equal(name, "sys.name");
	free(cause);
	devconfig_done(&back);
	assert_int_equal(devconfig_template_parse(text, strlen(text), &back, &cause), -1);
	assert_string_equal(cause, "line 2: sys.name: control characters are not allowed");
	free(cause);
	free(text);
	devconfig_done(&c);

	/* Every escape the reader knows; a bare value stays literal. */
	static const char esc[] = "sys.name = \"a\\tb\\\\c\\\"d\\u00e9\\x41\\xff\\r\"  # note\n"
	                          "switch:0.name = C:\\dir\\n\n";
	if (devconfig_snapshot_parse(esc, strlen(esc), &back, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(val(&back, "sys.name"), "a\tb\\c\"d\xc3\xa9"
	                                            "A\xff\r");
	assert_string_equal(val(&back, "switch:0.name"), "C:\\dir\\n");
	devconfig_done(&back);

	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"sys.name = \"a\\q\"\n", "line 1: sys.name: unknown escape \\q"},
	    {"sys.name = \"\\u12\"\n", "line 1: sys.name: bad \\u escape"},
	    {"sys.name = \"\\u0000\"\n", "line 1: sys.name: bad \\u escape"},
	    {"sys.name = \"\\ud800\"\n", "line 1: sys.name: bad \\u escape"},
	    {"sys.name = \"\\x00\"\n", "line 1: sys.name: bad \\x escape"},
	    {"sys.name = \"\\xg1\"\n", "line 1: sys.name: bad \\x escape"},
	    {"sys.name = \"abc\\\"\n", "line 1: sys.name: unterminated quote"},
	    {"sys.name = \"abc\" x\n", "line 1: sys.name: text after the quote"},
	    {"sys.location.lat = \"1\\u0007\"\n", "line 1: sys.location.lat: control characters"},
	    /* raw, as an older version wrote it: refused, so a CR cannot hide a line */
	    {"sys.timezone = Europe/Sofia\a\n", "line 1: sys.timezone: control characters"},
	    {"sys.name = a\rmqtt.pass = x\n", "line 1: sys.name: control characters"},
	    /* a name that is not printable is not repeated in the cause */
	    {"sys.n\xe6me = \"x\n", "line 1: field: unterminated quote"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(devconfig_snapshot_parse, bad[i].text, bad[i].want);
}

/*
 * The round trip on random strings (fixed seed): any NUL-free value, written, reads back as
 * the same bytes from one printable line; a value a desired configuration accepts reads back
 * through the template reader too.
 */
static void
test_roundtrip_random(void **state)
{
	static const char special[] = " \t\r\n\"\\#$\x1b\x7f\x80\xc2\x9b\xe2\x80\xae\xff";
	uint32_t seed = 12345;
	size_t strict = 0;

	(void)state;
	for (int n = 0; n < 3000; n++) {
		char v[64], *text, *cause = NULL;
		size_t len;
		struct devconfig c, back;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof v;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			uint32_t r = seed >> 8;
			/* Half printable ASCII, a quarter the troublesome bytes, a quarter any. */
			if (n % 4 == 0 || r % 4 < 2) /* every 4th string printable ASCII only */
				v[i] = (char)(0x20 + (r >> 2) % 95);
			else if (r % 4 == 2)
				v[i] = special[(r >> 2) % (sizeof special - 1)];
			else
				v[i] = (char)(1 + (r >> 2) % 255);
		}
		v[len] = '\0';
		devconfig_init(&c);
		devconfig_set(&c, DCFG_SWITCH_NAME, 3, DEVCONFIG_VALUE, v);
		text = written(&c);
		assert_int_equal(safe_lines(text), 2);
		if (devconfig_snapshot_parse(text, strlen(text), &back, &cause) != 0)
			fail_msg("'%s': %s", text, cause);
		assert_int_equal(back.n, 1);
		assert_string_equal(back.e[0].value, v);
		devconfig_done(&back);
		if (str_is_safe(v) && len <= 64) {
			assert_int_equal(
			    devconfig_template_parse(text, strlen(text), &back, &cause), 0);
			assert_string_equal(back.e[0].value, v);
			devconfig_done(&back);
			strict++;
		}
		free(text);
		devconfig_done(&c);
	}
	assert_true(strict > 300); /* the strict reader was tried on plenty of them */
}

/* A null number (Gen1 lat/lng unset) is written as null and read back as null, not refused:
 * snapshots are kept as template text and the console's drift reads them back. */
static void
test_template_null_roundtrip(void **state)
{
	struct devconfig c, back;
	char *buf = NULL, *cause = NULL;
	size_t blen = 0;
	FILE *fp;
	const struct devconfig_entry *e;

	(void)state;
	devconfig_init(&c);
	devconfig_set(&c, DCFG_SYS_LAT, -1, DEVCONFIG_NULL, NULL);
	devconfig_set(&c, DCFG_SYS_ECO_MODE, -1, DEVCONFIG_NULL, NULL);
	fp = open_memstream(&buf, &blen);
	devconfig_template_write(&c, NULL, fp);
	fclose(fp);
	if (devconfig_template_parse(buf, blen, &back, &cause) != 0)
		fail_msg("%s", cause);
	e = devconfig_get(&back, DCFG_SYS_LAT, -1);
	assert_non_null(e);
	assert_int_equal(e->state, DEVCONFIG_NULL);
	e = devconfig_get(&back, DCFG_SYS_ECO_MODE, -1);
	assert_non_null(e);
	assert_int_equal(e->state, DEVCONFIG_NULL);
	free(buf);
	devconfig_done(&c);
	devconfig_done(&back);
}

/*
 * A null string, enum or address (Gen2 sys.location null, Gen1 timezone and relay name null in
 * the real captures) stays null through the snapshot text, apart from the string "null" and
 * from "": a restore sends JSON null to a Gen2+ device, never "".
 */
static void
test_null_strings_kept(void **state)
{
	struct devconfig c, back, actual, ch;
	struct devconfig_diff *d;
	struct devconfig_request *r;
	char *text, *cause = NULL;
	size_t nd, n;

	(void)state;
	parse_file(2, FIX "gen2/pro-dual-cover-pm/Shelly.GetConfig.json", &c);
	assert_string_equal(val(&c, "sys.timezone"), "null");
	devconfig_set(&c, DCFG_SWITCH_NAME, 1, DEVCONFIG_VALUE, "null"); /* a name, not a null */
	devconfig_set(&c, DCFG_SWITCH_NAME, 2, DEVCONFIG_VALUE, "");
	devconfig_set(&c, DCFG_WIFI_STA_IP, -1, DEVCONFIG_NULL, NULL);
	devconfig_set(&c, DCFG_WIFI_STA_IPV4MODE, -1, DEVCONFIG_NULL, NULL);
	text = written(&c);
	assert_non_null(strstr(text, "\nsys.timezone = null\n"));
	assert_non_null(strstr(text, "\nswitch:1.name = \"null\"\n"));
	for (int strict = 0; strict < 2; strict++) {
		int rc = strict ? devconfig_template_parse(text, strlen(text), &back, &cause)
		                : devconfig_snapshot_parse(text, strlen(text), &back, &cause);
		if (rc != 0)
			fail_msg("%s", cause);
		assert_int_equal(
		    devconfig_get(&back, DCFG_SYS_TIMEZONE, -1)->state, DEVCONFIG_NULL);
		assert_int_equal(devconfig_get(&back, DCFG_WIFI_STA_IP, -1)->state, DEVCONFIG_NULL);
		assert_int_equal(
		    devconfig_get(&back, DCFG_WIFI_STA_IPV4MODE, -1)->state, DEVCONFIG_NULL);
		assert_string_equal(devconfig_get(&back, DCFG_SWITCH_NAME, 1)->value, "null");
		assert_string_equal(devconfig_get(&back, DCFG_SWITCH_NAME, 2)->value, "");
		if (strict)
			break;
		/* Restored on a device whose time zone was set since: tz goes back to null. */
		devconfig_init(&actual);
		devconfig_copy(&actual, &back);
		devconfig_set(&actual, DCFG_SYS_TIMEZONE, -1, DEVCONFIG_VALUE, "Europe/Sofia");
		assert_int_equal(devconfig_diff(&back, &actual, &d, &nd), 1);
		devconfig_init(&ch);
		devconfig_set(&ch, DCFG_SYS_TIMEZONE, -1, DEVCONFIG_NULL, NULL);
		assert_int_equal(devconfig_requests(2, &ch, &r, &n, &cause), 0);
		assert_int_equal(n, 1);
		assert_non_null(strstr(r[0].body, "\"tz\":null"));
		assert_null(strstr(r[0].body, "\"tz\":\"\""));
		devconfig_requests_free(r, n);
		devconfig_done(&ch);
		free(d);
		devconfig_done(&actual);
		devconfig_done(&back);
	}
	devconfig_done(&back);
	free(text);
	devconfig_done(&c);

	/* Gen1: timezone and the relay's name are null in the real settings. */
	parse_file(1, FIX "gen1/shelly-1/settings.json", &c);
	text = written(&c);
	assert_int_equal(devconfig_snapshot_parse(text, strlen(text), &back, &cause), 0);
	assert_string_equal(val(&back, "sys.timezone"), "null");
	assert_string_equal(val(&back, "switch:0.name"), "null");
	assert_string_equal(val(&back, "wifi.sta.ip"), "null");
	devconfig_done(&back);
	free(text);
	devconfig_done(&c);
}

static void
test_secrets_masked(void **state)
{
	struct devconfig c;
	cJSON *j;

	(void)state;
	devconfig_init(&c);
	set(&c, "mqtt.pass", "hunter2");
	assert_string_equal(devconfig_value_text(&c.e[0]), "********");
	j = devconfig_value_json(&c.e[0], false);
	assert_string_equal(j->valuestring, "********");
	cJSON_Delete(j);
	j = devconfig_value_json(&c.e[0], true);
	assert_string_equal(j->valuestring, "hunter2");
	cJSON_Delete(j);
	/* Templates never carry secrets. */
	char *buf = NULL;
	size_t blen = 0;
	FILE *fp = open_memstream(&buf, &blen);
	devconfig_template_write(&c, NULL, fp);
	fclose(fp);
	assert_null(strstr(buf, "hunter2"));
	free(buf);
	devconfig_done(&c);
}

/* Everything c shows or writes: each field's text and JSON value (secrets not asked for) and
 * c as a template. */
static char *
shown(const struct devconfig *c)
{
	char *buf = NULL, name[96];
	size_t blen = 0;
	FILE *fp = open_memstream(&buf, &blen);

	assert_non_null(fp);
	for (size_t i = 0; i < c->n; i++) {
		cJSON *j = devconfig_value_json(&c->e[i], false);
		char *t = cJSON_PrintUnformatted(j);

		fprintf(fp, "%s %s %s\n",
		    devconfig_name(c->e[i].field, c->e[i].index, name, sizeof name),
		    devconfig_value_text(&c->e[i]), t);
		free(t);
		cJSON_Delete(j);
	}
	devconfig_template_write(c, NULL, fp);
	fclose(fp);
	return buf;
}

/* Every field the table marks secret, in every way a template (a stored snapshot) can write
 * it: the value is read (show_secrets proves it) and never shown, in text, JSON or template. */
static void
test_secret_forms(void **state)
{
	static const struct {
		const char *before, *after, *value;
	} forms[] = {
	    {"", " = S3cr3t-plain\n", "S3cr3t-plain"},
	    {"", " = \"S3cr3t \\\"q\\\" \\\\ b\"  # comment\n", "S3cr3t \"q\" \\ b"},
	    {"\v\f \t", "=S3cr3t-blanks\n", "S3cr3t-blanks"},
	    {"", "\t\v= S3cr3t-crlf\r\n", "S3cr3t-crlf"},
	};
	int secrets = 0;

	(void)state;
	for (int f = 0; f < DCFG__COUNT; f++) {
		const struct devconfig_field_info *fi = devconfig_field((enum devconfig_field)f);

		if (!(fi->flags & DCF_SECRET))
			continue;
		secrets++;
		for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
			struct devconfig c;
			char text[256], *cause = NULL, *out;
			cJSON *j;

			snprintf(
			    text, sizeof text, "%s%s%s", forms[k].before, fi->path, forms[k].after);
			if (devconfig_template_parse(text, strlen(text), &c, &cause) != 0)
				fail_msg("%s: %s", text, cause);
			assert_int_equal(c.n, 1);
			assert_int_equal(c.e[0].field, f);
			j = devconfig_value_json(&c.e[0], true);
			assert_string_equal(j->valuestring, forms[k].value);
			cJSON_Delete(j);
			out = shown(&c);
			if (strstr(out, "S3cr3t") != NULL || strstr(out, "********") == NULL)
				fail_msg("%s shown as:\n%s", text, out);
			free(out);
			/* Export reads each line on its own (exchange/cfgdoc.c): the line alone
			 * names the same field. */
			devconfig_done(&c);
			assert_int_equal(
			    devconfig_template_parse(text, strlen(text), &c, &cause), 0);
			assert_int_equal(c.n, 1);
			assert_int_equal(c.e[0].field, f);
			devconfig_done(&c);
		}
	}
	/* wifi.sta.pass, wifi.sta1.pass, wifi.ap.pass, mqtt.pass */
	assert_int_equal(secrets, 4);
}

/* A secret with control characters (an escape sequence) makes the text unreadable; the
 * reason names the field, never the value. Comments and other fields are not secret lines. */
static void
test_secret_unreadable(void **state)
{
	const char *text = "sys.name = a\nmqtt.pass = S3cr3t\x1b[2J\n";
	struct devconfig c;
	char *cause = NULL;

	(void)state;
	assert_int_equal(devconfig_template_parse(text, strlen(text), &c, &cause), -1);
	assert_non_null(strstr(cause, "line 2: mqtt.pass"));
	assert_null(strstr(cause, "S3cr3t"));
	assert_null(strchr(cause, '\x1b'));
	free(cause);
	/* A comment and a blank line set nothing; an unknown name and a name without a value are
	 * refused; a secret's name in another field's value is that field's value. */
	assert_int_equal(devconfig_template_parse("# mqtt.pass = x", 15, &c, &cause), 0);
	assert_int_equal(c.n, 0);
	devconfig_done(&c);
	assert_int_equal(devconfig_template_parse("  \r\n", 4, &c, &cause), 0);
	assert_int_equal(c.n, 0);
	devconfig_done(&c);
	assert_int_equal(devconfig_template_parse("mqtt.passx = y", 14, &c, &cause), -1);
	free(cause);
	assert_int_equal(devconfig_template_parse("mqtt.pass", 9, &c, &cause), -1);
	free(cause);
	assert_int_equal(devconfig_template_parse("sys.name = mqtt.pass = x", 24, &c, &cause), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.e[0].field, DCFG_SYS_NAME);
	devconfig_done(&c);
}

/* A device reply never gives a secret's value, whatever shape it has there (string, nested
 * object, array): the field is known to exist, its value is not kept. */
static void
test_secret_replies(void **state)
{
	static const char gen2[] =
	    "{\"sys\":{\"device\":{\"name\":\"d\"},\"cfg_rev\":3},"
	    "\"wifi\":{\"sta\":{\"ssid\":\"n\",\"pass\":\"S3cr3t-sta\"},"
	    "\"sta1\":{\"pass\":{\"v\":\"S3cr3t-sta1\"}},\"ap\":{\"pass\":[\"S3cr3t-ap\"]}},"
	    "\"mqtt\":{\"enable\":true,\"pass\":\"S3cr3t-mqtt\"}}";
	static const char gen1[] =
	    "{\"name\":\"d\",\"wifi_sta\":{\"enabled\":true,\"ssid\":\"n\",\"key\":\"S3cr3t\"},"
	    "\"wifi_ap\":{\"enabled\":false,\"key\":[\"S3cr3t\"]},"
	    "\"mqtt\":{\"enable\":false,\"pass\":\"S3cr3t\"}}";
	const char *docs[] = {gen1, gen2};
	const char *names[] = {"wifi.sta.pass", "wifi.ap.pass", "mqtt.pass", "wifi.sta1.pass"};

	(void)state;
	for (int gen = 1; gen <= 2; gen++) {
		struct devconfig c;
		char *cause = NULL, *out;

		if (devconfig_parse(gen, docs[gen - 1], strlen(docs[gen - 1]), &c, &cause) != 0)
			fail_msg("gen%d: %s", gen, cause);
		for (int k = 0; k < (gen == 1 ? 2 : 4); k++)
			assert_string_equal(val(&c, names[k]), "(write-only)");
		out = shown(&c);
		if (strstr(out, "S3cr3t") != NULL)
			fail_msg("gen%d shown as:\n%s", gen, out);
		free(out);
		devconfig_done(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_fixture),
	    cmocka_unit_test(test_static_address),
	    cmocka_unit_test(test_static_without_address),
	    cmocka_unit_test(test_selectors),
	    cmocka_unit_test(test_enum_unknown),
	    cmocka_unit_test(test_strict_input),
	    cmocka_unit_test(test_gen1_values),
	    cmocka_unit_test(test_gen2_values),
	    cmocka_unit_test(test_long_timer_delays),
	    cmocka_unit_test(test_bad_documents),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_diff),
	    cmocka_unit_test(test_diff_gen1_floats),
	    cmocka_unit_test(test_diff_unreadable),
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_network),
	    cmocka_unit_test(test_timers_gen2_to_gen1),
	    cmocka_unit_test(test_timers_gen1_to_gen2),
	    cmocka_unit_test(test_timers_delay_alone),
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_template_null_roundtrip),
	    cmocka_unit_test(test_null_strings_kept),
	    cmocka_unit_test(test_line_field),
	    cmocka_unit_test(test_value_escapes),
	    cmocka_unit_test(test_roundtrip_random),
	    cmocka_unit_test(test_secrets_masked),
	    cmocka_unit_test(test_secret_forms),
	    cmocka_unit_test(test_secret_unreadable),
	    cmocka_unit_test(test_secret_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
