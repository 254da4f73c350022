/* shelly/ident: GET /shelly of every generation and Shelly.GetDeviceInfo, from real captures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shelly/ident.h"
#include "shelly/models.h"

#define FIX "tests/fixtures/"

static void
ident_file(const char *path, struct device_ident *id)
{
	size_t len;
	char *body = fixture_slurp(path, &len), *cause = NULL;

	if (shelly_parse_ident(body, len, id, &cause) != 0)
		fail_msg("%s: %s", path, cause ? cause : "(no cause)");
	assert_null(cause);
	free(body);
}

static void
ident_fixture(const char *rel, struct device_ident *id)
{
	char path[512];

	snprintf(path, sizeof path, FIX "%s", rel);
	ident_file(path, id);
}

static int
is_lower_hex12(const char *s)
{
	if (strlen(s) != 12)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return 0;
	return 1;
}

/* Every identification capture: parses, generation matches the folder, MAC and id are sane. */
static void
check_any(const char *path)
{
	struct device_ident id;
	const char *g = strstr(path, FIX "gen");
	const char *name;

	ident_file(path, &id);
	assert_non_null(g);
	assert_int_equal(id.gen, g[strlen(FIX "gen")] - '0');
	if (!is_lower_hex12(id.mac))
		fail_msg("%s: mac \"%s\"", path, id.mac);
	assert_true(id.id[0] != '\0');
	assert_true(id.model[0] != '\0');
	assert_true(id.fw[0] != '\0');
	assert_true(id.auth_en == 0 || id.auth_en == 1);
	name = models_name(id.model);
	assert_string_equal(id.model_name, name ? name : "");
	if (id.gen == 1) {
		assert_string_equal(id.app, "");
		assert_string_equal(id.auth_domain, "");
	} else {
		assert_true(id.app[0] != '\0');
		/* the realm is the device id when auth is on */
		if (id.auth_en == 1)
			assert_string_equal(id.auth_domain, id.id);
		assert_int_equal(id.num_outputs, -1);
	}
}

static void
test_every_capture(void **state)
{
	static const char *const names[] = {"shelly.json", "Shelly.GetDeviceInfo.json", NULL};
	(void)state;

	/* 80+ captures today; a dropped-in capture is picked up without a code change */
	assert_true(fixture_walk("tests/fixtures", fixture_name_in, names, check_any) >= 80);
}

static void
test_gen1(void **state)
{
	struct device_ident id;
	(void)state;

	ident_fixture("gen1/shelly-1/shelly.json", &id);
	assert_int_equal(id.gen, 1);
	assert_string_equal(id.model, "SHSW-1");
	assert_string_equal(id.model_name, "Shelly 1");
	assert_string_equal(id.mac, "34945472a643");
	assert_string_equal(id.id, "shelly1-34945472A643"); /* = its settings hostname */
	assert_string_equal(id.fw, "20230913-112003/v1.14.0-gcb84623");
	assert_string_equal(id.fw_version, "1.14.0");
	assert_int_equal(id.auth_en, 0);
	assert_int_equal(id.discoverable, 0);
	assert_int_equal(id.num_outputs, 1);
	assert_int_equal(id.num_meters, -1);
	assert_int_equal(id.sleep_mode, DEV_UNKNOWN);

	/* raw device bytes, dev firmware without a version */
	ident_fixture("gen1/shelly-1/pastebin-fw-20191217/shelly.json", &id);
	assert_string_equal(id.id, "shelly1-C45BBE78A8A4");
	assert_string_equal(id.fw, "20191217-140757/1047-long-id-for-shelly-devices@a0661583");
	assert_string_equal(id.fw_version, "");
	assert_int_equal(id.discoverable, DEV_UNKNOWN);

	ident_fixture("gen1/shelly-ht/shelly.json", &id);
	assert_int_equal(id.sleep_mode, 1);
	assert_string_equal(id.id, "shellyht-C8C9A3703523");
	assert_string_equal(id.model_name, "Shelly H&T");

	ident_fixture("gen1/shelly-dimmer-2/shelly.json", &id);
	assert_int_equal(id.auth_en, 1);
	assert_int_equal(id.num_inputs, 2);
	assert_int_equal(id.num_meters, 1);

	ident_fixture("gen1/shelly-3em/shelly.json", &id);
	assert_int_equal(id.num_emeters, 3);
	assert_int_equal(id.num_meters, 0);
	assert_string_equal(id.id, "shellyem3-485519D732F4");

	ident_fixture("gen1/shelly-rgbw2/white-mode/shelly.json", &id);
	assert_string_equal(id.mode, "white");
	assert_int_equal(id.num_outputs, 4);

	ident_fixture("gen1/shelly-motion-2/shelly.json", &id);
	assert_string_equal(id.fw_version, "2.2.4");
	assert_string_equal(id.id, "shellymotion2-8CF68108A6F5");

	ident_fixture("gen1/shelly-uni/shelly.json", &id);
	assert_string_equal(id.fw_version, "1.14.1-rc1");
	assert_int_equal(id.discoverable, 1);

	ident_fixture("gen1/shelly-plug-s/aioshelly-fw-1.14.0/shelly.json", &id);
	assert_string_equal(id.name, "Test Name");
	assert_string_equal(id.id, "shellyplug-s-AABBCCDDEEFF");
}

static void
test_gen2_plus(void **state)
{
	struct device_ident id;
	(void)state;

	ident_fixture("gen2/plus-1pm/shelly.json", &id);
	assert_int_equal(id.gen, 2);
	assert_string_equal(id.id, "shellyplus1pm-441793d69718");
	assert_string_equal(id.mac, "441793d69718");
	assert_string_equal(id.model, "SNSW-001P16EU");
	assert_string_equal(id.model_name, "Shelly Plus 1PM");
	assert_string_equal(id.app, "Plus1PM");
	assert_string_equal(id.fw, "20260311-095847/1.7.5-g9979d16");
	assert_string_equal(id.fw_version, "1.7.5");
	assert_int_equal(id.auth_en, 0);
	assert_string_equal(id.auth_domain, ""); /* null */
	assert_string_equal(id.name, "1PM Plus");
	assert_string_equal(id.profile, "");

	ident_fixture("gen2/plus-2pm/aioshelly-tests/shelly.json", &id);
	assert_int_equal(id.auth_en, 1);
	assert_string_equal(id.auth_domain, "shellyplus2pm-aabbccddeeff");
	assert_string_equal(id.profile, "switch");

	ident_fixture("gen2/plus-ht/fw-0.14.1/shelly.json", &id);
	assert_string_equal(id.name, ""); /* "name": null */
	assert_string_equal(id.fw_version, "0.14.1");

	/* Wall Display: mixed-case id, no auth_domain, status-like extra keys */
	ident_fixture("gen2/wall-display/shelly.json", &id);
	assert_int_equal(id.gen, 2);
	assert_string_equal(id.id, "ShellyWallDisplay-00082261E102");
	assert_string_equal(id.mac, "00082261e102");
	assert_string_equal(id.model, "SAWD-0A1XX10EU1");
	assert_string_equal(id.app, "WallDisplay");
	assert_string_equal(id.fw_version, "2.6.2");
	assert_string_equal(id.auth_domain, "");
	assert_int_equal(id.discoverable, 0);

	/* dev build: fw_id without version, "ver" has it */
	ident_fixture("gen2/pro-dimmer-0-1-10v-pm/shelly.json", &id);
	assert_string_equal(id.fw, "20241113-122729/gbbb762d");
	assert_string_equal(id.fw_version, "1.4.99-dev111444");

	ident_fixture("gen2/pro-3em/monophase-profile/shelly.json", &id);
	assert_string_equal(id.profile, "monophase");

	ident_fixture("gen3/1-mini-gen3/shelly.json", &id);
	assert_int_equal(id.gen, 3);
	assert_int_equal(id.auth_en, 1);
	assert_string_equal(id.auth_domain, "shelly1minig3-543204547478");

	ident_fixture("gen3/blu-gateway-gen3/aioshelly-tests/Shelly.GetDeviceInfo.json", &id);
	assert_int_equal(id.gen, 3);
	assert_string_equal(id.fw_version, "1.5.0-beta2");
	assert_string_equal(id.name, "Shelly BLU Gateway Gen3 [DDEEFF]");

	ident_fixture("gen4/2pm-gen4/cover-mode/shelly.json", &id);
	assert_int_equal(id.gen, 4);
	assert_string_equal(id.profile, "cover");
	assert_string_equal(id.model, "S4SW-002P16EU");
	assert_string_equal(id.fw_version, "1.7.5");

	ident_fixture("gen4/em-mini-gen4/shelly.json", &id);
	assert_string_equal(id.fw_version, "2.0.0-beta1");
}

static void
parse_fails(const char *body, size_t len, const char *cause_part)
{
	struct device_ident id;
	char *cause = NULL;

	assert_int_equal(shelly_parse_ident(body, len, &id, &cause), -1);
	assert_non_null(cause);
	if (cause_part != NULL && strstr(cause, cause_part) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, cause_part);
	free(cause);
	assert_int_equal(id.gen, 0); /* nothing half-filled */
	assert_string_equal(id.id, "");
}

static void
test_frames_and_errors(void **state)
{
	struct device_ident id;
	char *cause = NULL, *body;
	size_t len;
	const char *frame =
	    "{\"id\":1,\"src\":\"shellyplus1-e465b8f3028c\",\"dst\":\"me\","
	    "\"result\":{\"id\":\"shellyplus1-e465b8f3028c\",\"mac\":\"E465B8F3028C\","
	    "\"model\":\"SNSW-001X16EU\",\"gen\":2,\"fw_id\":\"20260311-095850/"
	    "1.7.5-g9979d16\",\"ver\":\"1.7.5\",\"app\":\"Plus1\",\"auth_en\":false,"
	    "\"auth_domain\":null}}";
	(void)state;

	assert_int_equal(shelly_parse_ident(frame, strlen(frame), &id, &cause), 0);
	assert_string_equal(id.id, "shellyplus1-e465b8f3028c");
	assert_int_equal(id.gen, 2);
	assert_string_equal(id.model_name, "Shelly Plus 1");

	body = fixture_slurp(FIX "errors/ws-rpc-error-401-auth-challenge_plus-2pm.json", &len);
	parse_fails(body, len, "error");
	free(body);

	parse_fails("", 0, "empty");
	parse_fails("not json", 8, "invalid JSON");
	parse_fails("[1,2]", 5, "not a JSON object");
	parse_fails("{}", 2, "not a Shelly");
	parse_fails("{\"gen\":\"x\",\"id\":\"a\"}", 20, "gen");
	parse_fails("{\"gen\":2}", 9, "not a Shelly");
	parse_fails("{\"type\":\"SHSW-1\",\"mac\":\"34945472A643\"", 36, "invalid JSON");

	/* Web servers that are not Shellies, though their JSON has a "mac", "type" or "id":
	 * a real /shelly always has type, mac and fw, a real GetDeviceInfo id, mac and model. */
	{
		static const char *const hostile[] = {
			"{\"status\":\"ok\",\"mac\":\"AA:BB:CC:DD:EE:FF\"}",
			"{\"type\":\"error\",\"message\":\"not found\"}",
			"{\"type\":\"SHSW-1\",\"mac\":\"34945472A643\"}",
			"{\"type\":\"x\",\"mac\":\"AABBCCDDEEFF\",\"fw\":7}",
			"{\"gen\":2,\"mac\":\"AABBCCDDEEFF\"}",
			"{\"gen\":2,\"id\":\"x\",\"model\":\"y\"}",
			"{\"gen\":3,\"id\":\"x\",\"mac\":\"AABBCCDDEEFF\"}",
			"{\"gen\":1,\"mac\":\"AABBCCDDEEFF\",\"fw\":\"1\"}",
			NULL,
		};
		for (size_t i = 0; hostile[i] != NULL; i++)
			parse_fails(hostile[i], strlen(hostile[i]), "not a Shelly");
	}

	/* deeply nested input is refused before cJSON recurses into it */
	{
		size_t n = 100000;
		char *deep = malloc(n * 2 + 1);

		assert_non_null(deep);
		memset(deep, '[', n);
		memset(deep + n, ']', n);
		deep[n * 2] = '\0';
		parse_fails(deep, n * 2, "nested");
		free(deep);
	}
}

static int
parse_str(const char *s, struct device_ident *id)
{
	char *cause = NULL;
	int rc = shelly_parse_ident(s, strlen(s), id, &cause);

	if (rc != 0)
		fail_msg("%s: %s", s, cause ? cause : "(no cause)");
	return rc;
}

static void
test_quirky_values(void **state)
{
	struct device_ident id;
	char *cause = NULL;
	char big[4096 + 200];
	const char *quirky =
	    "{\"type\":\"SHPLG-S\",\"mac\":\"e8:68:e7:c3:8e:ab\",\"auth\":\"false\","
	    "\"fw\":\"20230913-113421/v1.14.0-gcb84623\",\"num_outputs\":\"1\","
	    "\"sleep_mode\":0,\"name\":null}";
	(void)state;

	assert_int_equal(shelly_parse_ident(quirky, strlen(quirky), &id, &cause), 0);
	assert_string_equal(id.mac, "e868e7c38eab");
	assert_string_equal(id.id, "shellyplug-s-E868E7C38EAB");
	assert_int_equal(id.auth_en, 0);
	assert_int_equal(id.num_outputs, 1);
	assert_int_equal(id.sleep_mode, 0);
	assert_string_equal(id.name, "");

	/* a bogus MAC leaves mac and the derived id unknown instead of inventing them */
	assert_int_equal(
	    parse_str("{\"type\":\"SHEM\",\"mac\":\"XXXXXXXXXXXX\",\"fw\":\"x\"}", &id), 0);
	assert_string_equal(id.mac, "");
	assert_string_equal(id.id, "");

	/* very long strings are cut, not overflowed; an id cut off its MAC is not genuine */
	snprintf(big, sizeof big,
	    "{\"gen\":2,\"mac\":\"AABBCCDDEEFF\",\"model\":\"X\",\"id\":\"x-aabbccddeeff\","
	    "\"name\":\"%0*d\"}",
	    2000, 8);
	assert_int_equal(shelly_parse_ident(big, strlen(big), &id, &cause), 0);
	assert_int_equal(strlen(id.name), DEV_NAME_LEN - 1);
	snprintf(big, sizeof big,
	    "{\"gen\":2,\"mac\":\"AABBCCDDEEFF\",\"model\":\"X\",\"id\":\"%0*d-aabbccddeeff\"}",
	    2000, 7);
	assert_int_equal(shelly_parse_ident(big, strlen(big), &id, &cause), -1);
	free(cause);
	cause = NULL;

	/* unknown type: derived prefix */
	assert_int_equal(
	    parse_str("{\"type\":\"SHFOO-9\",\"mac\":\"AABBCCDDEEFF\",\"fw\":\"x\"}", &id), 0);
	assert_string_equal(id.id, "shellyfoo9-AABBCCDDEEFF");
	assert_string_equal(id.model_name, "");
}

static void
test_gen1_id(void **state)
{
	char out[DEV_ID_LEN], p[DEV_SHORT_LEN];
	(void)state;

	assert_int_equal(shelly_gen1_id("SHDM-2", "98cdac0d01bb", out, sizeof out), 0);
	assert_string_equal(out, "shellydimmer2-98CDAC0D01BB");
	assert_int_equal(shelly_gen1_id("SHSW-1", "nope", out, sizeof out), -1);
	assert_string_equal(out, "");
	assert_int_equal(shelly_gen1_id("SHSW-1", "34945472A643", out, 10), -1);
	shelly_gen1_prefix("shsw-pm", p, sizeof p);
	assert_string_equal(p, "shelly1pm");
	shelly_gen1_prefix(NULL, p, sizeof p);
	assert_string_equal(p, "shelly");
}

/* Another device's id, or escape sequences in what a terminal shows: refused. */
static void
test_not_genuine(void **state)
{
	static const char *const bad[] = {
	    "{\"gen\":2,\"id\":\"shellyplus1pm-441793000002\",\"mac\":\"DEADBEEF0001\","
	    "\"model\":\"SNSW-001P16EU\"}",
	    "{\"gen\":2,\"id\":\"shellyplus1pm\",\"mac\":\"DEADBEEF0001\",\"model\":\"X\"}",
	    "{\"gen\":2,\"id\":\"deadbeef0001\",\"mac\":\"DEADBEEF0001\",\"model\":\"X\"}",
	    "{\"gen\":2,\"id\":\"shellyplus1pm-\\u001b[2Jaabbccddeeff\",\"mac\":\"AABBCCDDEEFF\","
	    "\"model\":\"X\"}",
	    "{\"gen\":2,\"id\":\"shellyplus1pm-aabbccddeeff\",\"mac\":\"AABBCCDDEEFF\","
	    "\"model\":\"\\u001b[2JX\"}",
	    "{\"type\":\"SHSW-1\\u001b]0;x\\u0007\",\"mac\":\"AABBCCDDEEFF\",\"auth\":false,"
	    "\"fw\":\"x\"}",
	    NULL,
	};
	struct device_ident id;
	char *cause;
	(void)state;

	for (size_t i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		assert_int_equal(shelly_parse_ident(bad[i], strlen(bad[i]), &id, &cause), -1);
		assert_non_null(strstr(cause, "identification refused"));
		assert_string_equal(id.mac, "");
		free(cause);
	}
	cause = NULL;
	assert_int_equal(parse_str("{\"gen\":2,\"id\":\"shellyplus1pm-DEADBEEF0001\","
	                           "\"mac\":\"deadbeef0001\",\"model\":\"SNSW-001P16EU\"}",
	                     &id),
	    0);
	assert_string_equal(id.id, "shellyplus1pm-DEADBEEF0001");
	/* A genuine Pro 3EM on LAN: its id carries the LAN MAC, /shelly the WiFi MAC
	 * (home-assistant/core#132826); they differ in the last octet only. */
	assert_int_equal(parse_str("{\"gen\":2,\"id\":\"shellypro3em-34987a446374\","
	                           "\"mac\":\"34987A446371\",\"model\":\"SPEM-003CEBEU\"}",
	                     &id),
	    0);
	assert_string_equal(id.mac, "34987a446371");
	/* but not a MAC of another block */
	cause = NULL;
	assert_int_equal(shelly_parse_ident("{\"gen\":2,\"id\":\"shellypro3em-34987a456374\","
	                                    "\"mac\":\"34987A446371\",\"model\":\"X\"}",
	                     strlen("{\"gen\":2,\"id\":\"shellypro3em-34987a456374\","
	                            "\"mac\":\"34987A446371\",\"model\":\"X\"}"),
	                     &id, &cause),
	    -1);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_capture),
	    cmocka_unit_test(test_gen1),
	    cmocka_unit_test(test_gen2_plus),
	    cmocka_unit_test(test_frames_and_errors),
	    cmocka_unit_test(test_quirky_values),
	    cmocka_unit_test(test_gen1_id),
	    cmocka_unit_test(test_not_genuine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
