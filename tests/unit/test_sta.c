/* Station configuration requests for provisioning (shelly/sta): Gen1 and Gen2+ forms, the
 * order (name first, station last), encoding, and refusals of bad SSIDs and keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shelly/sta.h"
#include "util/json.h"

static void
test_gen1(void **state)
{
	struct shelly_sta sta = {.ssid = "my net&co", .key = "pa ss=word", .name = "Kitchen"};
	struct shelly_sta_req r[SHELLY_STA_MAX_REQS];
	char *cause = NULL;
	size_t n;

	(void)state;
	assert_int_equal(shelly_sta_requests(1, &sta, r, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].method, "GET");
	assert_string_equal(r[0].path, "/settings?name=Kitchen");
	assert_string_equal(
	    r[1].path, "/settings/sta?enabled=1&ssid=my%20net%26co&key=pa%20ss%3Dword");
	assert_null(r[1].body);
	shelly_sta_free(r, n);
}

static void
test_gen2(void **state)
{
	struct shelly_sta sta = {.ssid = "home", .key = "secret\"12"};
	struct shelly_sta_req r[SHELLY_STA_MAX_REQS];
	char *cause = NULL;
	cJSON *o;
	size_t n;

	(void)state;
	assert_int_equal(shelly_sta_requests(2, &sta, r, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].method, "POST");
	assert_string_equal(r[0].path, "/rpc/WiFi.SetConfig");
	o = json_parse(r[0].body, strlen(r[0].body), 0, &cause);
	assert_non_null(o);
	{
		const cJSON *cfg = json_get_object(o, "config");
		const cJSON *st = json_get_object(cfg, "sta");
		const cJSON *ap = json_get_object(cfg, "ap");

		assert_string_equal(json_get_string(st, "ssid"), "home");
		assert_string_equal(json_get_string(st, "pass"), "secret\"12");
		assert_int_equal(json_get_bool(st, "enable"), 1);
		/* the AP stays on: off only once the device is seen on its network */
		assert_null(ap);
	}
	cJSON_Delete(o);
	o = json_parse(SHELLY_STA_AP_OFF_BODY, strlen(SHELLY_STA_AP_OFF_BODY), 0, &cause);
	assert_non_null(o);
	assert_null(json_get_object(json_get_object(o, "config"), "sta"));
	assert_int_equal(
	    json_get_bool(json_get_object(json_get_object(o, "config"), "ap"), "enable"), 0);
	cJSON_Delete(o);
	shelly_sta_free(r, n);
	/* An open network sends no pass; a name is set first. */
	sta.key = NULL;
	sta.name = "Hall";
	assert_int_equal(shelly_sta_requests(3, &sta, r, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].path, "/rpc/Sys.SetConfig");
	assert_non_null(strstr(r[0].body, "\"Hall\""));
	assert_null(strstr(r[1].body, "pass"));
	assert_null(strstr(r[1].body, "\"ap\""));
	shelly_sta_free(r, n);
}

static void
test_refused(void **state)
{
	struct shelly_sta_req r[SHELLY_STA_MAX_REQS];
	struct shelly_sta bad[] = {
	    {.ssid = "", .key = "12345678", .name = NULL},
	    {.ssid = "123456789012345678901234567890123", .key = NULL, .name = NULL},
	    {.ssid = "home\n", .key = NULL, .name = NULL},
	    {.ssid = "home", .key = "short", .name = NULL},
	    {.ssid = "home", .key = "tab\there12", .name = NULL},
	    {.ssid = "home", .key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX"},
	    {.ssid = "home", .key = NULL, .name = "esc\x1b[2J"},
	};
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *cause = NULL;

		assert_int_equal(shelly_sta_requests(1, &bad[i], r, &n, &cause), -1);
		assert_non_null(cause);
		assert_int_equal(n, 0);
		free(cause);
	}
}

/* A WPA pre-shared key in hex (64 digits) is sent as it is, to both generations. */
static void
test_psk_hex(void **state)
{
	static const char psk[] = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";
	struct shelly_sta sta = {.ssid = "home", .key = psk};
	struct shelly_sta_req r[SHELLY_STA_MAX_REQS];
	char *cause = NULL;
	size_t n;

	(void)state;
	if (shelly_sta_requests(1, &sta, r, &n, &cause) != 0)
		fail_msg("gen1: %s", cause);
	assert_non_null(strstr(r[n - 1].path, psk));
	shelly_sta_free(r, n);
	if (shelly_sta_requests(2, &sta, r, &n, &cause) != 0)
		fail_msg("gen2: %s", cause);
	assert_non_null(strstr(r[n - 1].body, psk));
	shelly_sta_free(r, n);
}

/* The one check the manager and the agent share: UTF-8 text, bytes counted, no controls/bidi. */
static void
test_text_check(void **state)
{
	const char *names_ok[] = {"K\303\274che", "Caf\xc3\xa9 \xe2\x98\x95", "out 1",
	    "0123456789012345678901234567890123456789012345678901234567890123"};
	const char *names_bad[] = {"", "esc\x1b[2J", "tab\there", "bad\xc3", "\342\200\256evil",
	    "0123456789012345678901234567890123456789012345678901234567890123x"};
	char *cause = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof names_ok / sizeof names_ok[0]; i++)
		if (shelly_sta_name_check(names_ok[i], &cause) != 0)
			fail_msg("name %zu: %s", i, cause);
	for (size_t i = 0; i < sizeof names_bad / sizeof names_bad[0]; i++) {
		assert_int_equal(shelly_sta_name_check(names_bad[i], &cause), -1);
		assert_non_null(strstr(cause, "device name"));
		free(cause);
	}
	assert_int_equal(shelly_sta_ssid_check("Caf\xc3\xa9 Wohnung", &cause), 0);
	/* 31 ASCII + one 2-byte letter = 33 bytes: too long for 802.11 although 32 characters */
	assert_int_equal(
	    shelly_sta_ssid_check("0123456789012345678901234567890\xc3\xbc", &cause), -1);
	assert_non_null(strstr(cause, "33 bytes, at most 32"));
	free(cause);
}

/* A UTF-8 name and network reach the device as they are (Gen1 URL-encoded, Gen2+ JSON). */
static void
test_utf8(void **state)
{
	struct shelly_sta sta = {
	    .ssid = "Caf\xc3\xa9 Wohnung", .key = "12345678", .name = "K\303\274che"};
	struct shelly_sta_req r[SHELLY_STA_MAX_REQS];
	char *cause = NULL;
	size_t n;

	(void)state;
	assert_int_equal(shelly_sta_requests(1, &sta, r, &n, &cause), 0);
	assert_string_equal(r[0].path, "/settings?name=K%C3%BCche");
	assert_non_null(strstr(r[1].path, "ssid=Caf%C3%A9%20Wohnung&"));
	shelly_sta_free(r, n);
	assert_int_equal(shelly_sta_requests(2, &sta, r, &n, &cause), 0);
	assert_non_null(strstr(r[0].body, "\"name\":\"K\303\274che\""));
	assert_non_null(strstr(r[1].body, "\"ssid\":\"Caf\xc3\xa9 Wohnung\""));
	shelly_sta_free(r, n);
}

static void
test_password(void **state)
{
	struct shelly_sta sta = {.ssid = "home", .key = "12345678", .password = "p&w"};
	struct shelly_sta_req r[SHELLY_STA_MAX_REQS];
	char *cause = NULL;
	size_t n;

	(void)state;
	assert_int_equal(shelly_sta_requests(1, &sta, r, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].path, "/settings/login?enabled=1&username=admin&password=p%26w");
	assert_true(r[0].auth_after);
	assert_false(r[1].auth_after);
	shelly_sta_free(r, n);
	/* Gen2+ needs the realm; ha1 = SHA-256("admin:shellyplus1-a8032ab12345:p&w"). */
	assert_int_equal(shelly_sta_requests(2, &sta, r, &n, &cause), -1);
	free(cause);
	sta.realm = "shellyplus1-a8032ab12345";
	assert_int_equal(shelly_sta_requests(2, &sta, r, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].path, "/rpc/Shelly.SetAuth");
	assert_true(r[0].auth_after);
	assert_non_null(strstr(r[0].body, "\"realm\":\"shellyplus1-a8032ab12345\""));
	assert_non_null(strstr(r[0].body,
	    "\"ha1\":\"63720e61881b9f4875e8c3a737e4b5dc301b00453448ebbb2ab24357a1918ca4\""));
	assert_null(strstr(r[0].body, "p&w"));
	assert_string_equal(r[1].path, "/rpc/WiFi.SetConfig");
	shelly_sta_free(r, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gen1),
	    cmocka_unit_test(test_gen2),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_psk_hex),
	    cmocka_unit_test(test_password),
	    cmocka_unit_test(test_text_check),
	    cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
