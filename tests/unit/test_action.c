#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "shelly/action.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Returns (malloc'd JSON text) the member found by following keys from the root of a fixture;
 * a key "#0" takes the first element of an array.
 */
static char *
fixture_part(const char *path, const char *k1, const char *k2)
{
	size_t len;
	char *buf = fixture_slurp(path, &len), *cause = NULL, *out;
	cJSON *root = json_parse(buf, len, 0, &cause);
	const cJSON *item;
	const char *keys[2] = {k1, k2};
	size_t i;

	if (root == NULL)
		fail_msg("%s: %s", path, cause);
	item = root;
	for (i = 0; i < 2 && keys[i] != NULL; i++) {
		if (strcmp(keys[i], "#0") == 0)
			item = cJSON_GetArrayItem(item, 0);
		else
			item = json_get(item, keys[i]);
		if (item == NULL)
			fail_msg("%s: no %s", path, keys[i]);
	}
	out = cJSON_PrintUnformatted(item);
	assert_non_null(out);
	cJSON_Delete(root);
	free(buf);
	return out;
}

/* Request building. */

struct req_case {
	int gen;
	enum action_kind kind;
	int id, value;
	enum action_light light;
	const char *method, *path, *body;
};

static const struct req_case req_cases[] = {
	{1, ACTION_SWITCH_ON, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/relay/0?turn=on", NULL},
	{1, ACTION_SWITCH_OFF, 1, 0, ACTION_LIGHT_PLAIN, "GET", "/relay/1?turn=off", NULL},
	{1, ACTION_SWITCH_TOGGLE, 3, 0, ACTION_LIGHT_PLAIN, "GET", "/relay/3?turn=toggle", NULL},
	{1, ACTION_COVER_OPEN, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/roller/0?go=open", NULL},
	{1, ACTION_COVER_CLOSE, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/roller/0?go=close", NULL},
	{1, ACTION_COVER_STOP, 1, 0, ACTION_LIGHT_PLAIN, "GET", "/roller/1?go=stop", NULL},
	{1, ACTION_COVER_POSITION, 0, 42, ACTION_LIGHT_PLAIN, "GET", "/roller/0?go=to_pos&roller_pos=42", NULL},
	{1, ACTION_COVER_POSITION, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/roller/0?go=to_pos&roller_pos=0", NULL},
	{1, ACTION_LIGHT_ON, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/light/0?turn=on", NULL},
	{1, ACTION_LIGHT_OFF, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/light/0?turn=off", NULL},
	{1, ACTION_LIGHT_TOGGLE, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/light/0?turn=toggle", NULL},
	{1, ACTION_LIGHT_BRIGHTNESS, 0, 55, ACTION_LIGHT_PLAIN, "GET", "/light/0?turn=on&brightness=55", NULL},
	{1, ACTION_LIGHT_BRIGHTNESS, 0, 100, ACTION_LIGHT_COLOR, "GET", "/color/0?turn=on&gain=100", NULL},
	{1, ACTION_LIGHT_ON, 0, 0, ACTION_LIGHT_COLOR, "GET", "/color/0?turn=on", NULL},
	{1, ACTION_LIGHT_BRIGHTNESS, 2, 7, ACTION_LIGHT_WHITE, "GET", "/white/2?turn=on&brightness=7", NULL},
	{1, ACTION_LIGHT_OFF, 3, 0, ACTION_LIGHT_WHITE, "GET", "/white/3?turn=off", NULL},
	{1, ACTION_LIGHT_TOGGLE, 0, 0, ACTION_LIGHT_RGBW, "GET", "/color/0?turn=toggle", NULL},
	{1, ACTION_LIGHT_BRIGHTNESS, 0, 30, ACTION_LIGHT_CCT, "GET", "/light/0?turn=on&brightness=30", NULL},
	/* Gen1 levels are 1-100: brightness 0 is "off". */
	{1, ACTION_LIGHT_BRIGHTNESS, 1, 0, ACTION_LIGHT_PLAIN, "GET", "/light/1?turn=off", NULL},
	{1, ACTION_LIGHT_BRIGHTNESS, 0, 0, ACTION_LIGHT_COLOR, "GET", "/color/0?turn=off", NULL},
	{1, ACTION_REBOOT, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/reboot", NULL},
	{1, ACTION_FW_CHECK, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/ota", NULL},
	{1, ACTION_FW_UPDATE, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/ota?update=true", NULL},
	{1, ACTION_FW_UPDATE_BETA, 0, 0, ACTION_LIGHT_PLAIN, "GET", "/ota?beta=true", NULL},
	/* Channel id and value are ignored by actions that take none. */
	{1, ACTION_REBOOT, 9, 77, ACTION_LIGHT_PLAIN, "GET", "/reboot", NULL},

	{2, ACTION_SWITCH_ON, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Switch.Set", "{\"id\":0,\"on\":true}"},
	{2, ACTION_SWITCH_OFF, 2, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Switch.Set", "{\"id\":2,\"on\":false}"},
	{3, ACTION_SWITCH_TOGGLE, 1, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Switch.Toggle", "{\"id\":1}"},
	{2, ACTION_COVER_OPEN, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Cover.Open", "{\"id\":0}"},
	{2, ACTION_COVER_CLOSE, 1, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Cover.Close", "{\"id\":1}"},
	{4, ACTION_COVER_STOP, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Cover.Stop", "{\"id\":0}"},
	{2, ACTION_COVER_POSITION, 0, 75, ACTION_LIGHT_PLAIN, "POST", "/rpc/Cover.GoToPosition",
	    "{\"id\":0,\"pos\":75}"},
	{2, ACTION_LIGHT_ON, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Light.Set", "{\"id\":0,\"on\":true}"},
	{2, ACTION_LIGHT_OFF, 1, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Light.Set", "{\"id\":1,\"on\":false}"},
	{2, ACTION_LIGHT_TOGGLE, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Light.Toggle", "{\"id\":0}"},
	{2, ACTION_LIGHT_BRIGHTNESS, 0, 40, ACTION_LIGHT_PLAIN, "POST", "/rpc/Light.Set",
	    "{\"id\":0,\"on\":true,\"brightness\":40}"},
	{2, ACTION_LIGHT_BRIGHTNESS, 1, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Light.Set",
	    "{\"id\":1,\"on\":false,\"brightness\":0}"},
	{2, ACTION_LIGHT_BRIGHTNESS, 0, 40, ACTION_LIGHT_COLOR, "POST", "/rpc/RGB.Set",
	    "{\"id\":0,\"on\":true,\"brightness\":40}"},
	{2, ACTION_LIGHT_TOGGLE, 0, 0, ACTION_LIGHT_RGBW, "POST", "/rpc/RGBW.Toggle", "{\"id\":0}"},
	{2, ACTION_LIGHT_ON, 0, 0, ACTION_LIGHT_CCT, "POST", "/rpc/CCT.Set", "{\"id\":0,\"on\":true}"},
	{2, ACTION_LIGHT_OFF, 0, 0, ACTION_LIGHT_RGBCCT, "POST", "/rpc/RGBCCT.Set", "{\"id\":0,\"on\":false}"},
	{2, ACTION_LIGHT_ON, 0, 0, ACTION_LIGHT_WHITE, "POST", "/rpc/Light.Set", "{\"id\":0,\"on\":true}"},
	{2, ACTION_REBOOT, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Shelly.Reboot", "{}"},
	{3, ACTION_FW_CHECK, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Shelly.CheckForUpdate", "{}"},
	{2, ACTION_FW_UPDATE, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Shelly.Update", "{\"stage\":\"stable\"}"},
	{4, ACTION_FW_UPDATE_BETA, 0, 0, ACTION_LIGHT_PLAIN, "POST", "/rpc/Shelly.Update",
	    "{\"stage\":\"beta\"}"},
};

/* --channel TYPE:N names a light by its Gen2+ component type; the type of each API back. */
static void
test_light_types(void **state)
{
	static const char *const types[] = {"light", "rgb", "rgbw", "cct", "rgbcct"};
	enum action_light l;

	(void)state;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		assert_int_equal(action_light_parse(types[i], &l), 0);
		assert_string_equal(action_light_type(l), types[i]);
	}
	assert_int_equal(action_light_parse("CCT", &l), 0);
	assert_int_equal(l, ACTION_LIGHT_CCT);
	assert_int_equal(action_light_parse("dali", &l), -1);
	assert_int_equal(action_light_parse("", &l), -1);
	assert_string_equal(action_light_type(ACTION_LIGHT_WHITE), "light");
}

static void
test_requests(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof req_cases / sizeof req_cases[0]; i++) {
		const struct req_case *c = &req_cases[i];
		struct action a = {c->kind, c->id, c->value, c->light};
		struct action_http h;
		char *cause = NULL;

		if (action_request(c->gen, &a, &h, &cause) != 0)
			fail_msg("case %zu: %s", i, cause);
		assert_string_equal(h.method, c->method);
		if (strcmp(h.path, c->path) != 0)
			fail_msg("case %zu: path %s, want %s", i, h.path, c->path);
		if (c->body == NULL) {
			assert_null(h.body);
			assert_null(h.content_type);
			assert_string_equal(h.rpc_method, "");
		} else {
			assert_string_equal(h.body, c->body);
			assert_string_equal(h.content_type, "application/json");
			assert_string_equal(h.path + strlen("/rpc/"), h.rpc_method);
		}
		action_http_done(&h);
		assert_null(h.path);
		assert_null(h.body);
	}
}

/* Every request path is plain URL text: only unreserved characters and the query delimiters. */
static void
test_paths_url_safe(void **state)
{
	static const int gens[] = {1, 2};
	size_t g, k, l, i;

	(void)state;
	for (g = 0; g < 2; g++) {
		for (k = 0; k < ACTION__COUNT; k++) {
			for (l = ACTION_LIGHT_PLAIN; l <= ACTION_LIGHT_RGBCCT; l++) {
				struct action a = {(enum action_kind)k, ACTION_ID_MAX, ACTION_VALUE_MAX,
				    (enum action_light)l};
				struct action_http h;
				char *cause = NULL;

				assert_int_equal(action_request(gens[g], &a, &h, &cause), 0);
				assert_true(h.path[0] == '/');
				for (i = 0; h.path[i] != '\0'; i++) {
					if (strchr("/?&=-._~", h.path[i]) == NULL &&
					    !((h.path[i] >= 'a' && h.path[i] <= 'z') ||
						(h.path[i] >= 'A' && h.path[i] <= 'Z') ||
						(h.path[i] >= '0' && h.path[i] <= '9')))
						fail_msg("unsafe character in %s", h.path);
				}
				/* One '?' at most; the query never repeats it. */
				{
					const char *q = strchr(h.path, '?');

					assert_true(q == NULL || strchr(q + 1, '?') == NULL);
				}
				action_http_done(&h);
			}
		}
	}
}

static void
check_request_error(int gen, struct action a, const char *want_substr)
{
	struct action_http h;
	char *cause = NULL;

	assert_int_equal(action_request(gen, &a, &h, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want_substr) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, want_substr);
	assert_null(h.path);
	assert_null(h.body);
	free(cause);
}

static void
test_request_errors(void **state)
{
	struct action_http h;
	char *cause = NULL;

	(void)state;
	check_request_error(1, (struct action){ACTION_SWITCH_ON, -1, 0, 0}, "channel -1 is out of range");
	check_request_error(2, (struct action){ACTION_SWITCH_ON, 256, 0, 0}, "channel 256 is out of range");
	check_request_error(2, (struct action){ACTION_LIGHT_BRIGHTNESS, 0, 101, 0},
	    "brightness 101 is out of range (0-100)");
	check_request_error(1, (struct action){ACTION_COVER_POSITION, 0, -1, 0},
	    "position -1 is out of range (0-100)");
	check_request_error(0, (struct action){ACTION_REBOOT, 0, 0, 0}, "unknown device generation 0");
	check_request_error(-3, (struct action){ACTION_REBOOT, 0, 0, 0}, "unknown device generation");
	check_request_error(1, (struct action){ACTION__COUNT, 0, 0, 0}, "unknown action");
	check_request_error(1, (struct action){(enum action_kind)-1, 0, 0, 0}, "unknown action");
	check_request_error(2, (struct action){ACTION_LIGHT_ON, 0, 0, (enum action_light)9},
	    "unknown light type 9");
	assert_int_equal(action_request(1, NULL, &h, &cause), -1);
	assert_string_equal(cause, "unknown action");
	free(cause);
	/* The last valid values pass. */
	{
		struct action a = {ACTION_LIGHT_BRIGHTNESS, ACTION_ID_MAX, 0, ACTION_LIGHT_PLAIN};

		assert_int_equal(action_request(5, &a, &h, &cause), 0); /* later gens: RPC */
		assert_string_equal(h.path, "/rpc/Light.Set");
		assert_string_equal(h.body, "{\"id\":255,\"on\":false,\"brightness\":0}");
		action_http_done(&h);
	}
}

static void
test_table(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < ACTION__COUNT; k++) {
		const struct action_info *ai = action_info((enum action_kind)k);

		assert_non_null(ai);
		assert_int_equal(ai->kind, (enum action_kind)k);
		assert_ptr_equal(action_find(ai->name), ai);
		assert_true(ai->help[0] != '\0');
	}
	assert_null(action_info(ACTION__COUNT));
	assert_null(action_info((enum action_kind)-1));
	assert_ptr_equal(action_find("SWITCH_TOGGLE"), action_info(ACTION_SWITCH_TOGGLE));
	assert_null(action_find("switch"));
	assert_null(action_find(NULL));
	assert_true(action_info(ACTION_COVER_POSITION)->needs_id);
	assert_true(action_info(ACTION_COVER_POSITION)->needs_value);
	assert_true(action_info(ACTION_LIGHT_BRIGHTNESS)->needs_value);
	assert_false(action_info(ACTION_SWITCH_ON)->needs_value);
	assert_false(action_info(ACTION_REBOOT)->needs_id);
	assert_false(action_info(ACTION_FW_UPDATE_BETA)->needs_id);
	assert_string_equal(action_info(ACTION_FW_UPDATE_BETA)->name, "fw_update_beta");
}

/* Result parsing. */

static int
parse(int gen, struct action a, int status, const char *body, struct action_result *r)
{
	char *cause = NULL;
	int rc = action_parse_result(gen, &a, status, body, body ? strlen(body) : 0, r, &cause);

	if (rc == 0) {
		assert_null(cause);
		assert_non_null(r->message);
	} else {
		assert_non_null(cause);
		assert_null(r->message);
		assert_false(r->ok);
		free(cause);
	}
	return rc;
}

/* gen1/shelly-2/settings-relay-0.json: a relay object with "ison": false. */
static void
test_gen1_relay(void **state)
{
	struct action_result r;
	size_t len;
	char *body = fixture_slurp("tests/fixtures/gen1/shelly-2/settings-relay-0.json", &len);

	(void)state;
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_OFF, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.has_output);
	assert_false(r.output);
	assert_string_equal(r.message, "relay 0 is off");
	action_result_done(&r);
	assert_null(r.message);

	/* turn=on answered with ison false: the relay did not switch (e.g. overpower). */
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, body, &r), 0);
	assert_false(r.ok);
	assert_true(r.has_output);
	assert_false(r.output);
	assert_string_equal(r.message, "relay 0 is still off");
	action_result_done(&r);

	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_TOGGLE, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_false(r.output);
	action_result_done(&r);
	free(body);

	/* A real relay status object with ison true (Plug S /status relays[0]). */
	body = fixture_part("tests/fixtures/gen1/shelly-plug-s/status.json", "relays", "#0");
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.output);
	assert_string_equal(r.message, "relay 0 is on");
	action_result_done(&r);
	free(body);

	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 1, 0, 0}, 200,
			     "{\"ison\":false,\"has_timer\":false,\"overpower\":true}", &r),
	    0);
	assert_false(r.ok);
	assert_string_equal(r.message, "relay 1 is still off (overpower)");
	action_result_done(&r);
}

static void
test_gen1_light(void **state)
{
	struct action_result r;
	char *body;

	(void)state;
	/* Dimmer 2 lights[0]: off, brightness 100. */
	body = fixture_part("tests/fixtures/gen1/shelly-dimmer-2/status.json", "lights", "#0");
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_OFF, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.has_output);
	assert_false(r.output);
	assert_true(r.has_brightness);
	assert_int_equal(r.brightness, 100);
	assert_string_equal(r.message, "light 0 is off");
	action_result_done(&r);
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_ON, 0, 0, 0}, 200, body, &r), 0);
	assert_false(r.ok);
	assert_string_equal(r.message, "light 0 is still off");
	action_result_done(&r);
	free(body);

	/* Vintage lights[0]: on at 11 %. */
	body = fixture_part("tests/fixtures/gen1/shelly-vintage/status.json", "lights", "#0");
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_BRIGHTNESS, 0, 11, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.output);
	assert_int_equal(r.brightness, 11);
	assert_string_equal(r.message, "light 0 is on at 11%");
	action_result_done(&r);

	/* Brightness 0 asks for "off": Vintage still on means it did not happen. */
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_BRIGHTNESS, 0, 0, 0}, 200, body, &r), 0);
	assert_false(r.ok);
	action_result_done(&r);
	free(body);
	body = fixture_part("tests/fixtures/gen1/shelly-dimmer-2/status.json", "lights", "#0");
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_BRIGHTNESS, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_false(r.output);
	action_result_done(&r);
	free(body);

	/* RGBW2 in colour mode: the level is "gain" (100), not "brightness". */
	body = fixture_part("tests/fixtures/gen1/shelly-rgbw2/status.json", "lights", "#0");
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_TOGGLE, 0, 0, ACTION_LIGHT_COLOR}, 200, body,
			     &r),
	    0);
	assert_true(r.ok);
	assert_false(r.output);
	assert_true(r.has_brightness);
	assert_int_equal(r.brightness, 100);
	action_result_done(&r);
	free(body);

	/* RGBW2 in white mode: brightness 1. */
	body = fixture_part("tests/fixtures/gen1/shelly-rgbw2/white-mode/status.json", "lights", "#0");
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_OFF, 0, 0, ACTION_LIGHT_WHITE}, 200, body, &r),
	    0);
	assert_true(r.ok);
	assert_int_equal(r.brightness, 1);
	action_result_done(&r);
	free(body);
}

static void
test_gen1_roller(void **state)
{
	struct action_result r;

	(void)state;
	/* Roller status object as documented for /roller/N (Shelly 2.5). */
	assert_int_equal(parse(1, (struct action){ACTION_COVER_POSITION, 0, 40, 0}, 200,
			     "{\"state\":\"stop\",\"power\":0.00,\"is_valid\":true,\"safety_switch\":false,"
			     "\"overtemperature\":false,\"stop_reason\":\"normal\",\"last_direction\":\"open\","
			     "\"current_pos\":40,\"calibrating\":false,\"positioning\":true}",
			     &r),
	    0);
	assert_true(r.ok);
	assert_true(r.has_position);
	assert_int_equal(r.position, 40);
	assert_string_equal(r.message, "roller 0: stop, position 40%");
	action_result_done(&r);

	/* current_pos 101 = not calibrated: no position is invented. */
	assert_int_equal(parse(1, (struct action){ACTION_COVER_OPEN, 1, 0, 0}, 200,
			     "{\"state\":\"open\",\"current_pos\":101}", &r),
	    0);
	assert_true(r.ok);
	assert_false(r.has_position);
	assert_string_equal(r.message, "roller 1: open");
	action_result_done(&r);

	assert_int_equal(parse(1, (struct action){ACTION_COVER_STOP, 0, 0, 0}, 200, "{\"power\":0}", &r), -1);
}

/* fw_check on the /ota-shaped "update" of a Gen1 capture's status: no beta, that message. */
static void
gen1_fw_check(const char *model, const char *message)
{
	struct action_result r;
	char path[128], *body;

	snprintf(path, sizeof path, "tests/fixtures/gen1/%s/status.json", model);
	body = fixture_part(path, "update", NULL);
	assert_int_equal(parse(1, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200, body, &r), 0);
	assert_string_equal(r.beta_version, "");
	assert_string_equal(r.message, message);
	action_result_done(&r);
	free(body);
}

static void
test_gen1_ota(void **state)
{
	struct action_result r;
	size_t len;
	char *body = fixture_slurp("tests/fixtures/gen1/shelly-1/pastebin-fw-20191217/ota.json", &len);

	(void)state;
	assert_int_equal(parse(1, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.has_update_info);
	assert_true(r.update_available);
	assert_string_equal(r.new_version, "20220209-092750/v1.11.8-g8c7bb8d");
	assert_string_equal(r.current_version, "20191217-140757/1047-long-id-for-shelly-devices@a0661583");
	assert_string_equal(r.beta_version, "");
	assert_string_equal(r.message, "update available: 20220209-092750/v1.11.8-g8c7bb8d (installed: "
				       "20191217-140757/1047-long-id-for-shelly-devices@a0661583)");
	action_result_done(&r);

	/* The same object answers /ota?update=true: status "pending" = accepted. */
	assert_int_equal(parse(1, (struct action){ACTION_FW_UPDATE, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_string_equal(r.message, "update requested (status: pending)");
	action_result_done(&r);
	free(body);

	/* Up to date, with a beta on offer (Shelly 1 /status "update", same shape as /ota). */
	body = fixture_part("tests/fixtures/gen1/shelly-1/status.json", "update", NULL);
	assert_int_equal(parse(1, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.has_update_info);
	assert_false(r.update_available);
	assert_string_equal(r.new_version, "");
	assert_string_equal(r.current_version, "20230913-112003/v1.14.0-gcb84623");
	assert_string_equal(r.beta_version, "20231107-162940/v1.14.1-rc1-g0617c15");
	assert_string_equal(r.message, "firmware is up to date (20230913-112003/v1.14.0-gcb84623, beta: "
				       "20231107-162940/v1.14.1-rc1-g0617c15)");
	action_result_done(&r);

	/*
	 * The UNI runs 20241106 v1.14.1-rc1-6 and is still told of the 20231107 v1.14.1-rc1 beta;
	 * the Vintage is offered a newer stable beside that old beta. An older beta is no offer.
	 */
	gen1_fw_check("shelly-uni", "firmware is up to date (20241106-112220/v1.14.1-rc1-6-gfb43488e8)");
	gen1_fw_check("shelly-vintage", "update available: 20241106-105233/v1.14.1-rc1-6-gfb43488e8 "
					"(installed: 20231206-112335/v1.14.1-rc1-2-g6f199f940)");

	/* No stable update: nothing to install, done (an up-to-date device is not a failure). */
	assert_int_equal(parse(1, (struct action){ACTION_FW_UPDATE, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.up_to_date);
	assert_true(r.has_update_info);
	assert_false(r.update_available);
	assert_string_equal(r.message, "no update available: firmware is up to date");
	action_result_done(&r);

	/* A beta is offered but the device stayed idle after ?beta=true: it did not start. */
	assert_int_equal(parse(1, (struct action){ACTION_FW_UPDATE_BETA, 0, 0, 0}, 200, body, &r), 0);
	assert_false(r.ok);
	assert_false(r.up_to_date);
	assert_string_equal(r.message, "the beta update did not start (status: idle)");
	action_result_done(&r);
	free(body);

	assert_int_equal(parse(1, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200, "{\"status\":\"idle\"}", &r),
	    -1);
}

static void
test_gen1_misc(void **state)
{
	struct action_result r;

	(void)state;
	assert_int_equal(parse(1, (struct action){ACTION_REBOOT, 0, 0, 0}, 200, "{\"ok\":true}", &r), 0);
	assert_true(r.ok);
	assert_string_equal(r.message, "rebooting");
	action_result_done(&r);
	assert_int_equal(parse(1, (struct action){ACTION_REBOOT, 0, 0, 0}, 200, "", &r), 0);
	assert_true(r.ok);
	action_result_done(&r);
	assert_int_equal(parse(1, (struct action){ACTION_REBOOT, 0, 0, 0}, 200, "{\"ok\":false}", &r), 0);
	assert_false(r.ok);
	action_result_done(&r);

	/* HTTP failures are answers, not parse errors. */
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 401, "", &r), 0);
	assert_false(r.ok);
	assert_string_equal(r.message, "HTTP 401: the device needs a password, or the one given is wrong");
	action_result_done(&r);
	assert_int_equal(parse(1, (struct action){ACTION_COVER_OPEN, 0, 0, 0}, 404, NULL, &r), 0);
	assert_string_equal(r.message, "HTTP 404: the device does not support this request");
	action_result_done(&r);
	assert_int_equal(parse(1, (struct action){ACTION_COVER_POSITION, 0, 5, 0}, 400,
			     "Not calibrated!\x1b[2J\r\n", &r),
	    0);
	assert_false(r.ok);
	assert_string_equal(r.message, "HTTP 400 from the device: Not calibrated!");
	action_result_done(&r);

	/* Nonsense with a success status. */
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "{\"foo\":1}", &r), -1);
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "[true]", &r), -1);
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "<html>", &r), -1);
	assert_int_equal(parse(1, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "", &r), -1);
	assert_int_equal(parse(1, (struct action){ACTION_LIGHT_ON, 0, 0, 0}, 200, "{\"ison\":\"maybe\"}", &r),
	    -1);
}

static void
test_gen2_switch(void **state)
{
	struct action_result r;

	(void)state;
	assert_int_equal(parse(2, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "{\"was_on\":false}", &r), 0);
	assert_true(r.ok);
	assert_true(r.has_output);
	assert_true(r.output);
	assert_string_equal(r.message, "switch 0 turned on (was off)");
	action_result_done(&r);

	assert_int_equal(parse(3, (struct action){ACTION_SWITCH_OFF, 1, 0, 0}, 200, "{\"was_on\":true}", &r), 0);
	assert_true(r.ok);
	assert_false(r.output);
	action_result_done(&r);

	assert_int_equal(parse(2, (struct action){ACTION_SWITCH_TOGGLE, 0, 0, 0}, 200, "{\"was_on\":true}", &r),
	    0);
	assert_true(r.has_output);
	assert_false(r.output);
	assert_string_equal(r.message, "switch 0 toggled, now off");
	action_result_done(&r);

	/* The docs' full frame (POST /rpc form). */
	assert_int_equal(parse(2, (struct action){ACTION_SWITCH_TOGGLE, 0, 0, 0}, 200,
			     "{\"id\":0,\"src\":\"shellydev1-c8f09e47e6f0\",\"result\":{\"was_on\":false}}", &r),
	    0);
	assert_true(r.output);
	action_result_done(&r);

	/* Toggle without was_on: state unknown, not invented. */
	assert_int_equal(parse(2, (struct action){ACTION_LIGHT_TOGGLE, 0, 0, 0}, 200, "null", &r), 0);
	assert_true(r.ok);
	assert_false(r.has_output);
	action_result_done(&r);

	assert_int_equal(parse(2, (struct action){ACTION_LIGHT_BRIGHTNESS, 0, 60, 0}, 200, "null", &r), 0);
	assert_true(r.output);
	assert_true(r.has_brightness);
	assert_int_equal(r.brightness, 60);
	action_result_done(&r);
	assert_int_equal(parse(2, (struct action){ACTION_LIGHT_BRIGHTNESS, 0, 0, 0}, 200, "null", &r), 0);
	assert_false(r.output);
	assert_int_equal(r.brightness, 0);
	action_result_done(&r);
}

static void
test_gen2_frames(void **state)
{
	struct action_result r;
	size_t len;
	char *body = fixture_slurp("tests/fixtures/frames/ws-rpc-result-null_Cover.Close_plus-2pm.json", &len);
	char *cause = NULL;
	struct action a = {ACTION_COVER_CLOSE, 0, 0, 0};

	(void)state;
	assert_int_equal(action_parse_result(2, &a, 200, body, len, &r, &cause), 0);
	assert_true(r.ok);
	assert_false(r.has_position);
	assert_string_equal(r.message, "cover 0 closing");
	action_result_done(&r);
	free(body);
}

static void
check_error_fixture(const char *path, int status, const char *want)
{
	struct action_result r;
	size_t len;
	char *body = fixture_slurp(path, &len), *cause = NULL;
	struct action a = {ACTION_SWITCH_ON, 1, 0, 0};

	assert_int_equal(action_parse_result(2, &a, status, body, len, &r, &cause), 0);
	assert_false(r.ok);
	assert_false(r.has_output);
	assert_string_equal(r.message, want);
	action_result_done(&r);
	free(body);
}

static void
test_gen2_errors(void **state)
{
	struct action_result r;

	(void)state;
	check_error_fixture("tests/fixtures/errors/rpc-error-105_script-not-found.partial.json", 404,
	    "not found: the device has no such component (Argument 'id', value 1 not found!)");
	check_error_fixture("tests/fixtures/errors/rpc-error-105_script-not-found.partial.json", 200,
	    "not found: the device has no such component (Argument 'id', value 1 not found!)");
	check_error_fixture("tests/fixtures/errors/rpc-error-114_method-not-found_wall-display.partial.json",
	    500,
	    "unavailable: the device cannot do this now, or does not know the method (Method "
	    "Script.GetCode failed: Method not found!)");
	check_error_fixture("tests/fixtures/errors/rpc-error-404_no-handler_xmod1.partial.json", 404,
	    "no handler: the device does not support this method (No handler for Script.GetCode)");
	check_error_fixture("tests/fixtures/errors/ws-rpc-error-401-auth-challenge_plus-2pm.json", 200,
	    "unauthorized: the device needs a password, or the one given is wrong");

	/* HTTP 401 with the empty body Gen2 devices send. */
	assert_int_equal(parse(2, (struct action){ACTION_REBOOT, 0, 0, 0}, 401, "", &r), 0);
	assert_false(r.ok);
	assert_string_equal(r.message, "HTTP 401: the device needs a password, or the one given is wrong");
	action_result_done(&r);

	/* A device message cannot smuggle escape sequences into the message. */
	assert_int_equal(parse(2, (struct action){ACTION_REBOOT, 0, 0, 0}, 400,
			     "{\"code\":-103,\"message\":\"\\u001b]0;owned\\u0007bad\"}", &r),
	    0);
	assert_null(strchr(r.message, '\x1b'));
	assert_null(strchr(r.message, '\a'));
	action_result_done(&r);

	/* Success statuses with nonsense. */
	assert_int_equal(parse(2, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "", &r), -1);
	assert_int_equal(parse(2, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "42", &r), -1);
	assert_int_equal(parse(2, (struct action){ACTION_SWITCH_ON, 0, 0, 0}, 200, "{\"was_on\":", &r), -1);
	assert_int_equal(parse(2, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200, "null", &r), -1);
}

static void
check_gen2_update(const char *fixture, bool avail, const char *stable, const char *beta,
    const char *message)
{
	struct action_result r;
	char *body = fixture_part(fixture, "sys", "available_updates");

	assert_int_equal(parse(2, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200, body, &r), 0);
	assert_true(r.ok);
	assert_true(r.has_update_info);
	assert_int_equal(r.update_available, avail);
	assert_string_equal(r.new_version, stable);
	assert_string_equal(r.beta_version, beta);
	assert_string_equal(r.message, message);
	action_result_done(&r);
	free(body);
}

/* Shelly.CheckForUpdate answers the same map as sys.available_updates in Shelly.GetStatus. */
static void
test_gen2_update(void **state)
{
	struct action_result r;

	(void)state;
	check_gen2_update("tests/fixtures/gen2/wall-display/aioshelly-fw-1.2.8/Shelly.GetStatus.json", true,
	    "1.2.8", "", "update available: 1.2.8");
	check_gen2_update("tests/fixtures/gen2/pro-1pm/Shelly.GetStatus.json", false, "", "2.0.0-beta2",
	    "no stable update; beta 2.0.0-beta2 available");
	check_gen2_update("tests/fixtures/gen2/plus-2pm/Shelly.GetStatus.json", false, "", "",
	    "no update available");
	assert_int_equal(parse(3, (struct action){ACTION_FW_CHECK, 0, 0, 0}, 200,
			     "{\"stable\":{\"version\":\"1.4.0\"},\"beta\":{\"version\":\"1.5.1-beta1\"}}", &r),
	    0);
	assert_true(r.update_available);
	assert_string_equal(r.message, "update available: 1.4.0 (beta: 1.5.1-beta1)");
	action_result_done(&r);
}

/*
 * Firmware-update outcomes: an up-to-date device is done (ok, up_to_date), an update that did
 * not start is a failure, and only "nothing offered" errors mean up to date. One row a reply.
 */
struct update_case {
	int gen;
	enum action_kind kind;
	int status;
	const char *body;
	bool ok, up_to_date, update_available;
	const char *message;
};

static const struct update_case update_cases[] = {
	/* Gen1 /ota: no beta offered (absent, or the installed version): nothing to install. */
	{1, ACTION_FW_UPDATE_BETA, 200, "{\"status\":\"idle\",\"has_update\":true,\"old_version\":\"v1\"}",
	    true, true, false, "no beta update available: nothing to install"},
	{1, ACTION_FW_UPDATE_BETA, 200, "{\"status\":\"idle\",\"old_version\":\"v1\",\"beta_version\":\"v1\"}",
	    true, true, false, "no beta update available: nothing to install"},
	/* A stable update offered, but still idle: not started, not "up to date". */
	{1, ACTION_FW_UPDATE, 200, "{\"status\":\"idle\",\"has_update\":true}", false, false, false,
	    "the stable update did not start (status: idle)"},
	/* Started: the device says "updating". */
	{1, ACTION_FW_UPDATE_BETA, 200, "{\"status\":\"updating\",\"has_update\":false,\"beta_version\":\"v2\"}",
	    true, false, false, "update requested (status: updating)"},
	/* Gen2+: Shelly.Update accepted. */
	{2, ACTION_FW_UPDATE_BETA, 200, "null", true, false, false, "update to the beta firmware started"},
	/* Shelly.Update with no such stage offered (as devices answer, aioshelly RpcCallError
	 * (-114, 'Resource unavailable: FW stage stable not found!')): up to date, not failed. */
	{2, ACTION_FW_UPDATE, 500, "{\"code\":-114,\"message\":\"Resource unavailable: FW stage stable not found!\"}",
	    true, true, false, "no update available: firmware is up to date"},
	{3, ACTION_FW_UPDATE_BETA, 200,
	    "{\"id\":1,\"src\":\"x\",\"error\":{\"code\":-114,\"message\":\"No update info!\"}}", true, true, false,
	    "no beta update available: nothing to install"},
	/* Other -114 errors (a method the device lacks) stay failures. */
	{2, ACTION_FW_UPDATE, 404, "{\"code\":-114,\"message\":\"Method Shelly.Update failed: Method not found!\"}",
	    false, false, false,
	    "unavailable: the device cannot do this now, or does not know the method "
	    "(Method Shelly.Update failed: Method not found!)"},
	/* Not for other actions. */
	{2, ACTION_REBOOT, 500, "{\"code\":-114,\"message\":\"No update info!\"}", false, false, false,
	    "unavailable: the device cannot do this now, or does not know the method (No update info!)"},
};

static void
test_update_outcomes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof update_cases / sizeof update_cases[0]; i++) {
		const struct update_case *c = &update_cases[i];
		struct action_result r;

		assert_int_equal(
		    parse(c->gen, (struct action){c->kind, 0, 0, 0}, c->status, c->body, &r), 0);
		if (r.ok != c->ok || r.up_to_date != c->up_to_date ||
		    r.update_available != c->update_available || strcmp(r.message, c->message) != 0)
			fail_msg("case %zu: ok %d up_to_date %d update_available %d \"%s\"; want "
			         "%d %d %d \"%s\"",
			    i, r.ok, r.up_to_date, r.update_available, r.message, c->ok,
			    c->up_to_date, c->update_available, c->message);
		action_result_done(&r);
	}
}

static void
test_parse_bad_args(void **state)
{
	struct action_result r;
	char *cause = NULL;
	struct action a = {ACTION_SWITCH_ON, -5, 0, 0};

	(void)state;
	assert_int_equal(action_parse_result(1, &a, 200, "{\"ison\":true}", 13, &r, &cause), -1);
	assert_non_null(cause);
	assert_null(r.message);
	free(cause);
	cause = NULL;
	a.id = 0;
	assert_int_equal(action_parse_result(0, &a, 200, "{\"ison\":true}", 13, &r, &cause), -1);
	free(cause);
	cause = NULL;
	/* Only len bytes are read: the body need not be NUL-terminated. */
	assert_int_equal(action_parse_result(1, &a, 200, "{\"ison\":true}garbage", 13, &r, &cause), 0);
	assert_true(r.ok);
	action_result_done(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_light_types),
		cmocka_unit_test(test_paths_url_safe),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_gen1_relay),
		cmocka_unit_test(test_gen1_light),
		cmocka_unit_test(test_gen1_roller),
		cmocka_unit_test(test_gen1_ota),
		cmocka_unit_test(test_gen1_misc),
		cmocka_unit_test(test_gen2_switch),
		cmocka_unit_test(test_gen2_frames),
		cmocka_unit_test(test_gen2_errors),
		cmocka_unit_test(test_gen2_update),
		cmocka_unit_test(test_update_outcomes),
		cmocka_unit_test(test_parse_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
