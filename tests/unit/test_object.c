/* model/object: the shared device object of the machine output, built from real captures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/object.h"
#include "shelly/gen1.h"
#include "shelly/gen2.h"
#include "shelly/ident.h"

#define FIX "tests/fixtures/"
#define EPS 1e-6

/* Key sets of the documented object (model/object.h); the test fails when code and doc drift. */
static const char *const top_keys[] = {"id", "mac", "gen", "model", "model_name", "app", "fw",
    "fw_version", "profile", "host", "port", "scheme", "name", "auth_en", "sleep_mode", "state",
    "error", "last_seen", "status_time", "status_stale", "components", "wifi", "eth", "sys",
    "cloud", "mqtt", NULL};
static const char *const comp_keys[] = {
    "switch", "cover", "light", "input", "meter", "sensor", NULL};
static const char *const switch_keys[] = {"id", "name", "output", "power_w", "voltage_v",
    "current_a", "pf", "frequency_hz", "energy_wh", "returned_energy_wh", "temperature_c",
    "overpower", "overtemp", "overvoltage", "undervoltage", "errors", "source", NULL};
static const char *const cover_keys[] = {"id", "name", "state", "position_pct", "pos_control",
    "power_w", "voltage_v", "current_a", "pf", "frequency_hz", "energy_wh", "temperature_c",
    "overpower", "overtemp", "errors", "last_direction", "source", NULL};
static const char *const light_keys[] = {"id", "name", "kind", "output", "brightness_pct", "rgb",
    "white", "color_temp_k", "power_w", "voltage_v", "current_a", "energy_wh", "temperature_c",
    "overpower", "overtemp", "errors", "source", NULL};
static const char *const input_keys[] = {"id", "name", "type", "state", "percent", "count_total",
    "frequency_hz", "event", "event_count", NULL};
static const char *const meter_keys[] = {"id", "kind", "name", "power_w", "apparent_power_va",
    "reactive_power_var", "voltage_v", "current_a", "n_current_a", "pf", "frequency_hz",
    "energy_wh", "returned_energy_wh", "phases", NULL};
static const char *const phase_keys[] = {"phase", "voltage_v", "current_a", "power_w",
    "apparent_power_va", "pf", "frequency_hz", "energy_wh", "returned_energy_wh", NULL};
static const char *const sensor_keys[] = {"temperature", "humidity", "thermostat", "voltmeter",
    "illuminance_lux", "illumination", "battery_pct", "battery_v", "external_power", "motion",
    "vibration", "flood", "smoke", "door_open", "tilt_deg", "gas_ppm", "gas_alarm", "gas_sensor",
    "valve", NULL};
static const char *const wifi_keys[] = {"ssid", "ip", "rssi_dbm", "connected", NULL};
static const char *const sys_keys[] = {"mac", "uptime_s", "unixtime", "ram_free_bytes",
    "ram_total_bytes", "fs_free_bytes", "fs_total_bytes", "temperature_c", "overtemp",
    "update_available", "update_version", "beta_version", "update_status", "cfg_rev",
    "cfg_changed_cnt", "restart_required", "wakeup_period_s", NULL};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Identity, status and settings/config of one capture folder, as a poller would hold them. */
struct capture {
	struct device_ident id;
	struct device_status st;
	int has_status;
};

static void
load(const char *dir, struct capture *c)
{
	char path[1024], *body, *cause = NULL;
	size_t len;
	int gen1 = strstr(dir, "/gen1/") != NULL;

	device_ident_init(&c->id);
	device_status_init(&c->st);
	c->has_status = 0;
	snprintf(path, sizeof path, "%s/shelly.json", dir);
	if ((body = slurp(path, &len)) != NULL) {
		if (shelly_parse_ident(body, len, &c->id, &cause) != 0)
			fail_msg("%s: %s", path, cause);
		free(body);
	}
	snprintf(path, sizeof path, "%s/%s", dir, gen1 ? "status.json" : "Shelly.GetStatus.json");
	if ((body = slurp(path, &len)) != NULL) {
		int rc = gen1 ? gen1_parse_status(body, len, &c->st, &cause)
		              : gen2_parse_status(body, len, &c->st, &cause);

		if (rc != 0)
			fail_msg("%s: %s", path, cause);
		c->has_status = 1;
		free(body);
	}
	snprintf(path, sizeof path, "%s/%s", dir, gen1 ? "settings.json" : "Shelly.GetConfig.json");
	if ((body = slurp(path, &len)) != NULL) {
		if (gen1) {
			struct gen1_settings s;

			if (gen1_parse_settings(body, len, &s, &cause) != 0)
				fail_msg("%s: %s", path, cause);
			gen1_settings_apply(&s, &c->id, &c->st);
		} else {
			struct gen2_config cfg;

			if (gen2_parse_config(body, len, &cfg, &cause) != 0)
				fail_msg("%s: %s", path, cause);
			gen2_config_apply(&cfg, &c->id, &c->st);
		}
		free(body);
	}
	device_ident_update_from_status(&c->id, &c->st);
}

static cJSON *
render(const struct capture *c, const char *host, enum device_state state)
{
	struct device_view v;
	char *text;
	cJSON *o;

	device_view_init(&v);
	v.ident = &c->id;
	v.status = c->has_status ? &c->st : NULL;
	v.host = host;
	v.port = 80;
	v.scheme = "http";
	v.state = state;
	v.last_seen = 1779362064;
	text = device_to_json(&v, 0);
	o = cJSON_Parse(text);
	if (o == NULL)
		fail_msg("output is not JSON: %s", text);
	free(text);
	return o;
}

/* The object has exactly the keys listed. */
static void
keys_exactly(const cJSON *o, const char *const *keys, const char *what)
{
	const cJSON *e;
	int n = 0, m = 0;

	if (!cJSON_IsObject(o))
		fail_msg("%s is not an object", what);
	for (const char *const *k = keys; *k; k++, n++)
		if (cJSON_GetObjectItemCaseSensitive(o, *k) == NULL)
			fail_msg("%s lacks key %s", what, *k);
	cJSON_ArrayForEach(e, o) m++;
	if (m != n)
		fail_msg("%s has %d keys, documented %d", what, m, n);
}

static void
each_keys(const cJSON *arr, const char *const *keys, const char *what)
{
	const cJSON *e;

	assert_true(cJSON_IsArray(arr));
	cJSON_ArrayForEach(e, arr) keys_exactly(e, keys, what);
}

static void
check_shape(const cJSON *o)
{
	const cJSON *comp = cJSON_GetObjectItemCaseSensitive(o, "components"), *m;

	keys_exactly(o, top_keys, "device");
	if (cJSON_IsNull(comp))
		return;
	keys_exactly(comp, comp_keys, "components");
	each_keys(cJSON_GetObjectItem(comp, "switch"), switch_keys, "switch");
	each_keys(cJSON_GetObjectItem(comp, "cover"), cover_keys, "cover");
	each_keys(cJSON_GetObjectItem(comp, "light"), light_keys, "light");
	each_keys(cJSON_GetObjectItem(comp, "input"), input_keys, "input");
	each_keys(cJSON_GetObjectItem(comp, "meter"), meter_keys, "meter");
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(comp, "meter"))
	    each_keys(cJSON_GetObjectItem(m, "phases"), phase_keys, "phase");
	keys_exactly(cJSON_GetObjectItem(comp, "sensor"), sensor_keys, "sensor");
	keys_exactly(cJSON_GetObjectItem(o, "wifi"), wifi_keys, "wifi");
	keys_exactly(cJSON_GetObjectItem(o, "sys"), sys_keys, "sys");
}

static int
walk_models(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int count = 0;
	char path[1024];
	struct stat sb;

	if (d == NULL)
		fail_msg("cannot open %s", dir);
	snprintf(path, sizeof path, "%s/shelly.json", dir);
	if (stat(path, &sb) == 0) {
		struct capture c;
		cJSON *o;

		load(dir, &c);
		o = render(&c, "127.0.0.1", DEVICE_ONLINE);
		check_shape(o);
		/* identity keys are never invented: gen and mac come from the capture */
		assert_int_equal(cJSON_GetObjectItem(o, "gen")->valueint, c.id.gen);
		cJSON_Delete(o);
		device_status_done(&c.st);
		count++;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			count += walk_models(path);
	}
	closedir(d);
	return count;
}

static void
test_every_capture_shape(void **state)
{
	(void)state;
	assert_true(walk_models(FIX "gen1") + walk_models(FIX "gen2") + walk_models(FIX "gen3") +
	                walk_models(FIX "gen4") >=
	            80);
}

static const cJSON *
path_get(const cJSON *o, const char *a, const char *b, int idx, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b != NULL)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	if (idx >= 0)
		x = cJSON_GetArrayItem(x, idx);
	x = cJSON_GetObjectItemCaseSensitive(x, key);
	if (x == NULL)
		fail_msg("missing %s.%s[%d].%s", a, b ? b : "", idx, key);
	return x;
}

static void
test_gen1_values(void **state)
{
	struct capture c;
	cJSON *o;
	(void)state;

	load(FIX "gen1/shelly-plug-s/unit-C38EAB", &c);
	o = render(&c, "127.0.0.5", DEVICE_ONLINE);
	assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "shellyplug-s-C38EAB");
	assert_string_equal(cJSON_GetObjectItem(o, "mac")->valuestring, "e868e7c38eab");
	assert_int_equal(cJSON_GetObjectItem(o, "gen")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(o, "model")->valuestring, "SHPLG-S");
	assert_string_equal(cJSON_GetObjectItem(o, "model_name")->valuestring, "Shelly Plug S");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "app")));
	assert_string_equal(cJSON_GetObjectItem(o, "fw_version")->valuestring, "1.14.0");
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "Washing machine plug");
	assert_string_equal(cJSON_GetObjectItem(o, "host")->valuestring, "127.0.0.5");
	assert_int_equal(cJSON_GetObjectItem(o, "port")->valueint, 80);
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "online");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "error")));
	assert_float_equal(cJSON_GetObjectItem(o, "last_seen")->valuedouble, 1779362064, EPS);
	assert_true(cJSON_IsFalse(path_get(o, "components", "switch", 0, "output")));
	assert_float_equal(path_get(o, "components", "switch", 0, "energy_wh")->valuedouble, 2933.5,
	    EPS); /* 176010 Wmin */
	assert_float_equal(path_get(o, "components", "switch", 0, "power_w")->valuedouble, 0, EPS);
	assert_true(cJSON_IsNull(path_get(o, "components", "switch", 0, "voltage_v")));
	assert_float_equal(path_get(o, "sys", NULL, -1, "temperature_c")->valuedouble, 27.14, EPS);
	assert_float_equal(path_get(o, "wifi", NULL, -1, "rssi_dbm")->valuedouble, -57, EPS);
	assert_string_equal(path_get(o, "wifi", NULL, -1, "ssid")->valuestring, "Tamer Umniah");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "eth")));
	assert_true(cJSON_IsTrue(path_get(o, "cloud", NULL, -1, "enabled")));
	assert_true(cJSON_IsFalse(path_get(o, "mqtt", NULL, -1, "connected")));
	cJSON_Delete(o);
	device_status_done(&c.st);

	/* sensor device: H&T Gen1 */
	load(FIX "gen1/shelly-ht", &c);
	o = render(&c, "127.0.0.6", DEVICE_ASLEEP);
	assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "shellyht-703523");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "sleep_mode")));
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "asleep");
	assert_float_equal(
	    path_get(o, "components", "sensor", -1, "battery_pct")->valuedouble, 100, EPS);
	{
		const cJSON *s = cJSON_GetObjectItem(
		    path_get(o, "components", NULL, -1, "sensor"), "temperature");

		assert_float_equal(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "temperature_c")->valuedouble,
		    21.75, EPS);
	}
	cJSON_Delete(o);
	device_status_done(&c.st);

	/* 3EM: phases */
	load(FIX "gen1/shelly-3em", &c);
	o = render(&c, "127.0.0.7", DEVICE_ONLINE);
	{
		const cJSON *m = cJSON_GetArrayItem(
		    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "components"), "meter"), 0);
		const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "phases"), 0);

		assert_string_equal(cJSON_GetObjectItem(m, "kind")->valuestring, "emeter");
		assert_string_equal(cJSON_GetObjectItem(a, "phase")->valuestring, "a");
		assert_float_equal(cJSON_GetObjectItem(a, "voltage_v")->valuedouble, 238.82, EPS);
		assert_float_equal(cJSON_GetObjectItem(a, "energy_wh")->valuedouble, 31972.1, EPS);
		assert_float_equal(cJSON_GetObjectItem(m, "power_w")->valuedouble, 6.6, EPS);
	}
	cJSON_Delete(o);
	device_status_done(&c.st);
}

static void
test_gen2_values(void **state)
{
	struct capture c;
	cJSON *o;
	const cJSON *m, *ph;
	(void)state;

	load(FIX "gen2/pro-3em", &c);
	o = render(&c, "127.0.0.8", DEVICE_ONLINE);
	assert_string_equal(cJSON_GetObjectItem(o, "app")->valuestring, "Pro3EM");
	assert_string_equal(cJSON_GetObjectItem(o, "profile")->valuestring, "triphase");
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "3EM Pro");
	m = cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "components"), "meter"), 0);
	assert_string_equal(cJSON_GetObjectItem(m, "kind")->valuestring, "em");
	assert_float_equal(cJSON_GetObjectItem(m, "power_w")->valuedouble, 6.78, EPS);
	assert_float_equal(cJSON_GetObjectItem(m, "energy_wh")->valuedouble, 45236.97, EPS);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "n_current_a")));
	ph = cJSON_GetObjectItem(m, "phases");
	assert_int_equal(cJSON_GetArraySize(ph), 3);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 2), "phase")->valuestring, "c");
	assert_float_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 2), "power_w")->valuedouble, 6.8, EPS);
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(o, "eth")));
	assert_true(cJSON_IsNull(path_get(o, "eth", NULL, -1, "ip")));
	assert_float_equal(path_get(o, "sys", NULL, -1, "cfg_rev")->valuedouble, 31, EPS);
	cJSON_Delete(o);
	device_status_done(&c.st);

	load(FIX "gen2/plus-2pm/cover-mode", &c);
	o = render(&c, "127.0.0.9", DEVICE_ONLINE);
	assert_string_equal(path_get(o, "components", "cover", 0, "state")->valuestring, "open");
	assert_float_equal(
	    path_get(o, "components", "cover", 0, "position_pct")->valuedouble, 100, EPS);
	assert_float_equal(
	    path_get(o, "components", "cover", 0, "energy_wh")->valuedouble, 1390.054, EPS);
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "components"), "switch")),
	    0);
	cJSON_Delete(o);
	device_status_done(&c.st);

	/* unknown is null, never 0: Plus 1 has no power metering */
	load(FIX "gen2/plus-1", &c);
	o = render(&c, "127.0.0.10", DEVICE_ONLINE);
	assert_true(cJSON_IsNull(path_get(o, "components", "switch", 0, "power_w")));
	assert_true(cJSON_IsNull(path_get(o, "components", "switch", 0, "energy_wh")));
	assert_float_equal(
	    path_get(o, "components", "switch", 0, "temperature_c")->valuedouble, 38, EPS);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "sleep_mode")));
	assert_string_equal(path_get(o, "components", "input", 0, "type")->valuestring, "switch");
	cJSON_Delete(o);
	device_status_done(&c.st);

	load(FIX "gen2/plus-rgbw-pm", &c);
	o = render(&c, "127.0.0.11", DEVICE_ONLINE);
	{
		const cJSON *rgb = path_get(o, "components", "light", 0, "rgb");

		assert_int_equal(cJSON_GetArraySize(rgb), 3);
		assert_int_equal(cJSON_GetArrayItem(rgb, 0)->valueint, 54);
		assert_int_equal(cJSON_GetArrayItem(rgb, 2)->valueint, 255);
	}
	cJSON_Delete(o);
	device_status_done(&c.st);

	load(FIX "gen2/pro-dimmer-2pm", &c);
	o = render(&c, "127.0.0.12", DEVICE_ONLINE);
	{
		const cJSON *errs = path_get(o, "components", "light", 0, "errors");

		assert_int_equal(cJSON_GetArraySize(errs), 1);
		assert_string_equal(cJSON_GetArrayItem(errs, 0)->valuestring, "cal_abort:no_load");
	}
	cJSON_Delete(o);
	device_status_done(&c.st);
}

/* A device that stopped answering: its last reply, marked as the last known with its time. */
static void
test_status_stale(void **state)
{
	struct capture c;
	struct device_view v;
	cJSON *o;
	(void)state;

	load(FIX "gen1/shelly-plug-s/unit-C38EAB", &c);
	device_view_init(&v);
	v.ident = &c.id;
	v.status = &c.st;
	v.state = DEVICE_OFFLINE;
	v.status_time = 1779362000;
	v.status_stale = 1;
	o = device_to_cjson(&v);
	check_shape(o);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "status_stale")));
	assert_float_equal(cJSON_GetObjectItem(o, "status_time")->valuedouble, 1779362000, EPS);
	assert_float_equal(
	    path_get(o, "components", "switch", 0, "energy_wh")->valuedouble, 2933.5, EPS);
	cJSON_Delete(o);
	/* Online: the same values are current. */
	v.state = DEVICE_ONLINE;
	v.status_stale = 0;
	o = device_to_cjson(&v);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "status_stale")));
	cJSON_Delete(o);
	device_status_done(&c.st);
}

static void
test_unknown_and_states(void **state)
{
	struct device_view v;
	struct device_ident id;
	cJSON *o, *list;
	char *text;
	(void)state;

	/* nothing known: identity, components and sections are null */
	device_view_init(&v);
	text = device_to_json(&v, 0);
	o = cJSON_Parse(text);
	assert_non_null(o);
	check_shape(o);
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "offline");
	for (const char *const *k = top_keys; *k; k++)
		if (strcmp(*k, "state") != 0)
			assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, *k)));
	cJSON_Delete(o);
	free(text);

	/* every state name, error text, registry name overriding the device name */
	device_ident_init(&id);
	id.gen = 2;
	snprintf(id.name, sizeof id.name, "device name");
	v.ident = &id;
	v.name = "kitchen";
	v.error = "401 Unauthorized";
	list = cJSON_CreateArray();
	for (int s = 0; s < DEVICE_STATE_COUNT; s++) {
		v.state = (enum device_state)s;
		cJSON_AddItemToArray(list, device_to_cjson(&v));
	}
	assert_int_equal(cJSON_GetArraySize(list), 6);
	{
		static const char *const names[] = {
		    "online", "offline", "asleep", "auth_required", "auth_failed", "error"};

		for (int s = 0; s < DEVICE_STATE_COUNT; s++) {
			const cJSON *d = cJSON_GetArrayItem(list, s);

			assert_string_equal(cJSON_GetObjectItem(d, "state")->valuestring, names[s]);
			assert_string_equal(cJSON_GetObjectItem(d, "name")->valuestring, "kitchen");
			assert_string_equal(
			    cJSON_GetObjectItem(d, "error")->valuestring, "401 Unauthorized");
			assert_int_equal(cJSON_GetObjectItem(d, "gen")->valueint, 2);
		}
	}
	cJSON_Delete(list);
}

/* Device strings with quotes, backslashes, control bytes and UTF-8 survive as JSON strings. */
static void
test_escaping_and_pretty(void **state)
{
	struct capture c;
	struct device_view v;
	const char *nasty = "Kitchen \"main\" \\ \x1b[2J\n\xc3\xa9";
	char *compact, *pretty;
	cJSON *a, *b;
	(void)state;

	load(FIX "gen2/plus-1pm", &c);
	snprintf(c.id.name, sizeof c.id.name, "%s", nasty);
	snprintf(c.st.switches[0].name, sizeof c.st.switches[0].name, "%s", nasty);
	device_view_init(&v);
	v.ident = &c.id;
	v.status = &c.st;
	compact = device_to_json(&v, 0);
	pretty = device_to_json(&v, 1);
	assert_null(strchr(compact, '\x1b')); /* escaped as \u001b */
	assert_null(strchr(compact, '\n'));
	a = cJSON_Parse(compact);
	b = cJSON_Parse(pretty);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(cJSON_Compare(a, b, 1));
	assert_string_equal(cJSON_GetObjectItem(a, "name")->valuestring, nasty);
	assert_string_equal(path_get(a, "components", "switch", 0, "name")->valuestring, nasty);
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(compact);
	free(pretty);
	device_status_done(&c.st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_capture_shape),
	    cmocka_unit_test(test_gen1_values),
	    cmocka_unit_test(test_gen2_values),
	    cmocka_unit_test(test_status_stale),
	    cmocka_unit_test(test_unknown_and_states),
	    cmocka_unit_test(test_escaping_and_pretty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
