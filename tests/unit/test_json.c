/* util/json (bounded parsing, quirk-tolerant getters) and the model/device value helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/device.h"
#include "util/json.h"
#include "util/str.h"

static cJSON *
parse_ok(const char *s)
{
	char *cause = NULL;
	cJSON *j = json_parse(s, strlen(s), 0, &cause);

	if (j == NULL)
		fail_msg("parse of %s failed: %s", s, cause ? cause : "(no cause)");
	assert_null(cause);
	return j;
}

static void
parse_fails(const char *s, size_t len, int depth, const char *cause_part)
{
	char *cause = NULL;
	cJSON *j = json_parse(s, len, depth, &cause);

	assert_null(j);
	assert_non_null(cause);
	if (strstr(cause, cause_part) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, cause_part);
	free(cause);
}

static char *
nested(int levels, char open, char close)
{
	char *s = malloc((size_t)levels * 2 + 1);

	assert_non_null(s);
	for (int i = 0; i < levels; i++) {
		s[i] = open;
		s[levels * 2 - 1 - i] = close;
	}
	s[levels * 2] = '\0';
	return s;
}

static void
test_parse_bounds(void **state)
{
	char *deep, *ok;
	cJSON *j;
	(void)state;

	parse_fails("", 0, 0, "empty");
	parse_fails(NULL, 0, 0, "empty");
	parse_fails("{\"a\":", 5, 0, "unexpected end");
	parse_fails("{\"a\":1} x", 9, 0, "trailing data");
	parse_fails("{\"a\":tru}", 9, 0, "invalid JSON at offset");
	parse_fails("{\"a\":1}\0{}", 10, 0, "NUL byte");
	/* depth: 33 levels rejected by default, 32 accepted; brackets inside strings do not count
	 */
	deep = nested(33, '[', ']');
	parse_fails(deep, strlen(deep), 0, "nested deeper than 32");
	free(deep);
	ok = nested(32, '[', ']');
	j = parse_ok(ok);
	cJSON_Delete(j);
	assert_int_equal(json_depth(ok, strlen(ok), 40), 32);
	free(ok);
	deep = nested(5000, '{', '}');
	parse_fails(deep, strlen(deep), 0, "nested");
	free(deep);
	assert_int_equal(json_depth("{\"a\":\"[[[[{{{{\\\"[[\"}", 19, 2), 1);
	/* an escaped backslash ends before the quote; an escaped quote does not end the string */
	assert_int_equal(json_depth("{\"a\":\"\\\\\",\"b\":[[1]]}", 20, 0), 3);
	assert_int_equal(json_depth("[\"\\\\\\\"[[\"]", 10, 0), 1);
	assert_int_equal(json_depth("[\"[[[", 5, 0), 1); /* unterminated string */
	assert_int_equal(json_depth("[\"a\"][[\"\"]]", 11, 0), 2);
	parse_fails("[[[]]]", 6, 2, "deeper than 2");
	/* not NUL-terminated: only len bytes are read */
	j = json_parse("{\"a\":1}GARBAGE", 7, 0, NULL);
	assert_non_null(j);
	cJSON_Delete(j);
	/* a cause never carries control bytes of the input */
	{
		char *cause = NULL;

		assert_null(json_parse("{\"a\":\x1b[31m}", 11, 0, &cause));
		assert_non_null(cause);
		assert_null(strchr(cause, '\x1b'));
		free(cause);
	}
}

static void
test_getters_quirks(void **state)
{
	cJSON *j = parse_ok("{\"n\":60.000000,\"s\":\" 12.5 \",\"bad\":\"12x\",\"inf\":\"inf\","
	                    "\"t\":\"true\",\"f\":\"FALSE\",\"one\":1,\"zero\":0,\"two\":2,"
	                    "\"null\":null,\"str\":\"x\",\"b\":true,\"o\":{},\"a\":[],"
	                    "\"big\":1e300,\"neg\":\"-52\",\"hex\":\"0x10\",\"int\":\"7\"}");
	long long v;
	char buf[4];
	(void)state;

	assert_float_equal(json_get_number(j, "n"), 60.0, 1e-9);
	assert_float_equal(json_get_number(j, "s"), 12.5, 1e-9);
	assert_float_equal(json_get_number(j, "neg"), -52, 1e-9);
	assert_true(isnan(json_get_number(j, "bad")));
	assert_true(isnan(json_get_number(j, "inf")));
	assert_true(isnan(json_get_number(j, "hex")));
	assert_true(isnan(json_get_number(j, "null")));
	assert_true(isnan(json_get_number(j, "missing")));
	assert_true(isnan(json_get_number(j, "b")));
	assert_true(isnan(json_get_number(NULL, "n")));

	assert_int_equal(json_get_bool(j, "t"), 1);
	assert_int_equal(json_get_bool(j, "f"), 0);
	assert_int_equal(json_get_bool(j, "one"), 1);
	assert_int_equal(json_get_bool(j, "zero"), 0);
	assert_int_equal(json_get_bool(j, "two"), -1);
	assert_int_equal(json_get_bool(j, "null"), -1);
	assert_int_equal(json_get_bool(j, "str"), -1);
	assert_int_equal(json_get_bool(j, "b"), 1);
	assert_int_equal(json_get_bool(j, "missing"), -1);

	assert_string_equal(json_get_string(j, "str"), "x");
	assert_null(json_get_string(j, "null"));
	assert_null(json_get_string(j, "n"));
	assert_non_null(json_get_object(j, "o"));
	assert_null(json_get_object(j, "a"));
	assert_non_null(json_get_array(j, "a"));
	assert_null(json_get_array(j, "o"));

	assert_int_equal(json_get_int(j, "int", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(json_get_int(j, "n", 0, 100, &v), 0);
	assert_int_equal(v, 60);
	assert_int_equal(json_get_int(j, "s", 0, 100, &v), -1); /* 12.5 is not integral */
	assert_int_equal(json_get_int(j, "big", 0, 100, &v), -1);
	assert_int_equal(json_get_int(j, "int", 0, 5, &v), -1);

	assert_int_equal(json_get_strbuf(j, "str", buf, sizeof buf), 1);
	assert_string_equal(buf, "x");
	assert_int_equal(json_get_strbuf(j, "null", buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	cJSON_Delete(j);
}

static void
test_strlcpy_utf8(void **state)
{
	char buf[6];
	(void)state;

	/* "aé€" = 61 c3a9 e282ac: 6 bytes; a 6-byte buffer keeps "aé" (3 bytes) plus NUL */
	assert_int_equal(json_strlcpy(buf, "a\xc3\xa9\xe2\x82\xac", sizeof buf), 1);
	assert_string_equal(buf, "a\xc3\xa9");
	assert_int_equal(json_strlcpy(buf, "abcdefgh", sizeof buf), 1);
	assert_string_equal(buf, "abcde");
	assert_int_equal(json_strlcpy(buf, NULL, sizeof buf), 0);
	assert_string_equal(buf, "");
}

/* A text that is NULL or empty is written as null (not known), any other as a string. */
static void
test_add_text(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	(void)state;

	json_add_text(o, "a", "x");
	json_add_text(o, "b", "");
	json_add_text(o, "c", NULL);
	text = json_print(o, 0);
	assert_string_equal(text, "{\"a\":\"x\",\"b\":null,\"c\":null}");
	free(text);
	cJSON_Delete(o);
}

static void
test_mac(void **state)
{
	char mac[DEV_MAC_LEN];
	(void)state;

	assert_int_equal(device_mac_normalise("34945472A643", mac), 0);
	assert_string_equal(mac, "34945472a643");
	assert_int_equal(device_mac_normalise("00:08:22:61:E1:02", mac), 0);
	assert_string_equal(mac, "00082261e102");
	assert_int_equal(device_mac_normalise("20-23-51-59-e7-ac", mac), 0);
	assert_string_equal(mac, "20235159e7ac");
	assert_int_equal(device_mac_normalise("XXXXXXXXXXXX", mac), -1); /* anonymised fixture */
	assert_string_equal(mac, "");
	assert_int_equal(device_mac_normalise("XXXXXXXX", mac), -1);
	assert_int_equal(device_mac_normalise("34945472A643AA", mac), -1);
	assert_int_equal(device_mac_normalise("3494", mac), -1);
	assert_int_equal(device_mac_normalise(NULL, mac), -1);
	/* no device's address: a junk reply or unset flash */
	assert_int_equal(device_mac_normalise("00:00:00:00:00:00", mac), -1);
	assert_string_equal(mac, "");
	assert_int_equal(device_mac_normalise("FFFFFFFFFFFF", mac), -1);
	assert_int_equal(device_mac_normalise("ffffffffff0f", mac), 0);
}

static void
check_fw(const char *fw, const char *want)
{
	char out[DEV_SHORT_LEN];
	int rc = device_fw_version(fw, out, sizeof out);

	if (want == NULL) {
		assert_int_equal(rc, -1);
		assert_string_equal(out, "");
	} else {
		if (rc != 0 || strcmp(out, want) != 0)
			fail_msg("fw %s: got \"%s\" want \"%s\"", fw, out, want);
	}
}

static void
test_fw_version(void **state)
{
	(void)state;
	/* Gen1 */
	check_fw("20230913-112003/v1.14.0-gcb84623", "1.14.0");
	check_fw("20191127-095910/v1.5.6@0d769d69", "1.5.6");
	check_fw("20200527-142209/v1.7.0-rc8@6f7ea363", "1.7.0-rc8");
	check_fw("20241106-112220/v1.14.1-rc1-6-gfb43488e8", "1.14.1-rc1");
	check_fw("20231206-112335/v1.14.1-rc1-2-g6f199f940", "1.14.1-rc1");
	check_fw("20240619-130804/v2.2.4@ee290818", "2.2.4");
	check_fw("20220209-092750/v1.11.8-g8c7bb8d", "1.11.8");
	check_fw("20191217-140757/1047-long-id-for-shelly-devices@a0661583", NULL);
	/* Gen2+ fw_id and ver */
	check_fw("20240726-114529/1.4.0-gb2aeadb", "1.4.0");
	check_fw("20250221-145347/1.5.1-beta1-g172c5bb", "1.5.1-beta1");
	check_fw("20260520-144343/2.6.2-06f6da23", "2.6.2");
	check_fw("20240401-123859/1.2.2-plugazprod0-gfef7812", "1.2.2-plugazprod0");
	check_fw("20240530-141513/ga82ac9d", NULL);
	check_fw("20241113-122729/gbbb762d", NULL);
	check_fw("1.3.99-dev96845", "1.3.99-dev96845");
	check_fw("1.2.3-matter22", "1.2.3-matter22");
	check_fw("2.0.0-beta1", "2.0.0-beta1");
	check_fw("1.7.5", "1.7.5");
	check_fw("", NULL);
	check_fw(NULL, NULL);
	check_fw("20230913-112003/v1.14.0\x1b[31m", NULL);
}

static void
test_names_and_init(void **state)
{
	struct device_status st;
	struct device_ident id;
	enum device_state s;
	(void)state;

	assert_string_equal(device_state_name(DEVICE_ONLINE), "online");
	assert_string_equal(device_state_name(DEVICE_AUTH_REQUIRED), "auth_required");
	assert_string_equal(device_state_name((enum device_state)99), "unknown");
	for (int i = 0; i < DEVICE_STATE_COUNT; i++) {
		assert_int_equal(
		    device_state_parse(device_state_name((enum device_state)i), &s), 0);
		assert_int_equal((int)s, i);
	}
	assert_int_equal(device_state_parse("sleeping", &s), -1);
	assert_string_equal(cover_state_name(COVER_CLOSING), "closing");
	assert_string_equal(cover_state_name((enum cover_state) - 3), "unknown");

	device_status_init(&st);
	assert_true(isnan(st.wifi.rssi_dbm));
	assert_int_equal(st.wifi.connected, DEV_UNKNOWN);
	assert_true(isnan(st.sys.uptime_s));
	assert_null(st.raw_unknown);
	st.raw_unknown = strdup("{\"x\":1}");
	{
		struct device_status copy;

		device_status_init(&copy);
		device_status_copy(&copy, &st);
		assert_string_equal(copy.raw_unknown, "{\"x\":1}");
		assert_ptr_not_equal(copy.raw_unknown, st.raw_unknown);
		device_status_done(&copy);
	}
	device_status_done(&st);
	assert_null(st.raw_unknown);

	device_ident_init(&id);
	assert_int_equal(id.gen, 0);
	assert_int_equal(id.auth_en, DEV_UNKNOWN);
	assert_int_equal(id.num_outputs, -1);
	assert_true(
	    device_id_equal("ShellyWallDisplay-00082261E102", "shellywalldisplay-00082261e102"));
	assert_false(device_id_equal("shelly1-A", NULL));
}

/*
 * json_print writes what a terminal would act on or reorder as \uXXXX: DEL, C1, bidi
 * controls; the value parses back unchanged, and other non-ASCII text stays raw.
 */
static void
test_print_terminal_safe(void **state)
{
	const char *name = "a\x7f" "b\xc2\x9b" "c\xe2\x80\xae" "d\xe2\x81\xa6" "e\xe2\x80\xa8"
			   "f\xd8\x9c" "g\xc3\xa9\xe2\x80\x94\xe2\x82\xac";
	cJSON *o = cJSON_CreateObject(), *back;
	char *text;

	(void)state;
	cJSON_AddStringToObject(o, "name", name);
	text = json_print(o, 0);
	assert_string_equal(text, "{\"name\":\"a\\u007fb\\u009bc\\u202ed\\u2066e\\u2028f\\u061cg"
				  "\xc3\xa9\xe2\x80\x94\xe2\x82\xac\"}");
	back = cJSON_Parse(text);
	assert_non_null(back);
	assert_string_equal(cJSON_GetObjectItem(back, "name")->valuestring, name);
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(o);
}

/*
 * A device's text that is not UTF-8 (bytes FF FE, a cut sequence, an overlong form, a
 * surrogate, a C1 sequence cut short) comes out as U+FFFD, one per maximal invalid part, as
 * the other outputs make it: the text is valid UTF-8 and parses back; valid text stays as it
 * is, also in pretty output and in keys.
 */
static void
test_print_invalid_utf8(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"\xff\xfeLamp", "\xef\xbf\xbd\xef\xbf\xbdLamp"},
	    {"a\xe2\x82", "a\xef\xbf\xbd"},
	    {"\xc0\xafx", "\xef\xbf\xbd\xef\xbf\xbdx"},
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xc2", "\xef\xbf\xbd"},
	    {"\xc2\x9b\xc2", "\\u009b\xef\xbf\xbd"},
	    {"ok \xef\xbf\xbd \xf0\x9f\x92\xa1", "ok \xef\xbf\xbd \xf0\x9f\x92\xa1"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *o = cJSON_CreateObject(), *back;
		char *text, want[128];

		cJSON_AddStringToObject(o, cases[i].in, cases[i].in);
		text = json_print(o, i % 2);
		snprintf(want, sizeof want, i % 2 ? "{\n\t\"%s\":\t\"%s\"\n}" : "{\"%s\":\"%s\"}",
		    cases[i].want, cases[i].want);
		assert_string_equal(text, want);
		for (size_t k = 0, len = strlen(text), bad, n; k < len; k += n) {
			uint32_t cp;
			n = str_utf8_decode((const unsigned char *)text + k, len - k, &cp, &bad);
			assert_true(n > 0); /* valid UTF-8 throughout */
		}
		back = cJSON_Parse(text);
		assert_non_null(back);
		cJSON_Delete(back);
		free(text);
		cJSON_Delete(o);
	}
}

/* cJSON's blocks are recycled (util/json.c): trees larger than what is kept, output freed
 * with free() or cJSON_free, and values that survive their neighbours' reuse stay intact. */
static void
test_block_reuse(void **state)
{
	char *big = NULL, *out;
	size_t n = 0, cap = 0;
	cJSON *a, *b;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		char item[64];
		int len = snprintf(item, sizeof item, "%s\"k%d\":\"v%d\"", i ? "," : "{", i, i);

		if (n + (size_t)len + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			big = realloc(big, cap);
			assert_non_null(big);
		}
		memcpy(big + n, item, (size_t)len);
		n += (size_t)len;
	}
	big[n++] = '}';
	for (int round = 0; round < 3; round++) {
		a = json_parse(big, n, 0, NULL);
		assert_non_null(a);
		assert_int_equal(cJSON_GetArraySize(a), 3000);
		b = json_parse("{\"x\":\"kept\",\"y\":[1,2,3]}", 24, 0, NULL);
		assert_non_null(b);
		cJSON_Delete(a); /* more blocks than are kept */
		a = json_parse(big, n, 0, NULL);
		assert_non_null(a);
		assert_string_equal(json_get_string(b, "x"), "kept");
		assert_string_equal(json_get_string(a, "k2999"), "v2999");
		out = cJSON_PrintUnformatted(b);
		assert_string_equal(out, "{\"x\":\"kept\",\"y\":[1,2,3]}");
		if (round % 2)
			free(out);
		else
			cJSON_free(out);
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	free(big);
}

/* Built with AddressSanitizer (as util/json.c tells). */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#define POOL_PROBE 50
#define POOL_DRAIN 2048 /* more than util/json.c keeps (1024) */

/* Freed cJSON blocks stay out of malloc's hands and are handed to cJSON again: a plain
 * malloc of the same size gets none of them (glibc's cache and fast bins would give one back,
 * AddressSanitizer's quarantine none: so this fails without the pool in either build). */
static void
test_pool_keeps_blocks(void **state)
{
	cJSON **drain = calloc(POOL_DRAIN, sizeof *drain);
	cJSON *nodes[POOL_PROBE];
	void *own[POOL_PROBE];
	size_t found = 0, taken = 0;

	(void)state;
	assert_non_null(drain);
	/* Empty the pool (earlier tests filled it), so that it keeps the next blocks freed. */
	for (int i = 0; i < POOL_DRAIN; i++)
		drain[i] = cJSON_CreateNull();
	for (int i = 0; i < POOL_PROBE; i++)
		nodes[i] = drain[i];
	for (int i = 0; i < POOL_PROBE; i++)
		cJSON_Delete(nodes[i]);
	for (int i = 0; i < POOL_PROBE; i++) {
		own[i] = malloc(sizeof(cJSON));
		assert_non_null(own[i]);
		for (int k = 0; k < POOL_PROBE; k++)
			taken += own[i] == (void *)nodes[k];
	}
	for (int i = 0; i < POOL_PROBE; i++) {
		drain[i] = cJSON_CreateNull();
		for (int k = 0; k < POOL_PROBE; k++)
			found += drain[i] == nodes[k];
	}
	for (int i = 0; i < POOL_DRAIN; i++)
		cJSON_Delete(drain[i]);
	for (int i = 0; i < POOL_PROBE; i++)
		free(own[i]);
	free(drain);
	assert_int_equal(taken, 0); /* malloc returned none the pool keeps */
	assert_int_equal(found, POOL_PROBE); /* cJSON got them all back */
}

#ifdef TEST_ASAN
static void
use_after_delete(void)
{
	cJSON *o = cJSON_CreateString("pooled");

	cJSON_Delete(o);
	printf("%d\n", *(volatile int *)&o->type);
}

static void
past_the_end(void)
{
	char *s = cJSON_malloc(10); /* a pooled block of JSON_SMALL bytes */

	memset(s, 'x', 10);
	((volatile char *)s)[10] = 'y';
}

static void
freed_twice(void)
{
	char *s = cJSON_malloc(10);

	cJSON_free(s);
	cJSON_free(s);
}

/* Runs fn in a child; it must die with the sanitizer's report of a poisoned access. */
static void
sanitizer_catches(void (*fn)(void), const char *what)
{
	char out[8192];
	size_t n = 0;
	ssize_t r;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		fn();
		_exit(0); /* not reached when the sanitizer saw it */
	}
	close(fds[1]);
	while (n + 1 < sizeof out && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    strstr(out, "AddressSanitizer: use-after-poison") == NULL)
		fail_msg("%s: the child was not stopped by the sanitizer (status %d):\n%s", what,
		    status, out);
}

/* Under AddressSanitizer the pool poisons what it keeps: misuse of a pooled block is caught. */
static void
test_pool_under_sanitizer(void **state)
{
	(void)state;
	sanitizer_catches(use_after_delete, "use after cJSON_Delete");
	sanitizer_catches(past_the_end, "write past the bytes asked for");
	sanitizer_catches(freed_twice, "second cJSON_free");
}
#endif

/* json_compact_free: the compact text of the tree, which it frees (the sanitizer run sees a
 * leak or a double free). */
static void
test_compact_free(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	(void)state;
	cJSON_AddStringToObject(o, "name", "a \"b\"");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "n"), "id", 2);
	cJSON_AddItemToObject(o, "l", cJSON_CreateArray());
	text = json_compact_free(o);
	assert_string_equal(text, "{\"name\":\"a \\\"b\\\"\",\"n\":{\"id\":2},\"l\":[]}");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_bounds),
	    cmocka_unit_test(test_getters_quirks),
	    cmocka_unit_test(test_strlcpy_utf8),
	    cmocka_unit_test(test_add_text),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_fw_version),
	    cmocka_unit_test(test_names_and_init),
	    cmocka_unit_test(test_print_terminal_safe),
	    cmocka_unit_test(test_print_invalid_utf8),
	    cmocka_unit_test(test_compact_free),
	    cmocka_unit_test(test_block_reuse),
	    cmocka_unit_test(test_pool_keeps_blocks),
#ifdef TEST_ASAN /* the plain build has no poisoning: test_pool_keeps_blocks is its test */
	    cmocka_unit_test(test_pool_under_sanitizer),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
