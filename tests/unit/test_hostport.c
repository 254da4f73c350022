#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/hostport.h"

static void
formats(const char *host, unsigned port, const char *scheme, const char *want)
{
	char *s = hostport_format(host, port, scheme);

	assert_string_equal(s, want);
	free(s);
}

/* A port is shown when it is not the scheme's default, and the text parses back. */
static void
test_format(void **state)
{
	char *host = NULL, *err = NULL, *s;
	unsigned port = 0;

	(void)state;
	formats("127.0.0.5", 80, "http", "127.0.0.5");
	formats("127.0.0.5", 80, NULL, "127.0.0.5");
	formats("127.0.0.5", 0, "http", "127.0.0.5");
	formats("127.0.0.5", 8080, "http", "127.0.0.5:8080");
	formats("127.0.0.5", 443, "https", "127.0.0.5");
	formats("127.0.0.5", 443, "http", "127.0.0.5:443");
	formats("127.0.0.5", 80, "https", "127.0.0.5:80");
	formats("shelly-1.lan", 8443, "https", "shelly-1.lan:8443");
	formats("::1", 8080, "http", "[::1]:8080");
	formats("::1", 80, "http", "::1");
	s = hostport_format("::1", 8080, "http");
	assert_int_equal(hostport_parse(s, 80, 0, &host, &port, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	free(host);
	free(s);
}

/* The refusal of s (-1) names it as needle says, with no control character in it. */
static void
refuses(const char *s, const char *needle)
{
	char *host = NULL, *err = NULL;
	unsigned port = 0;

	assert_int_equal(hostport_parse(s, 80, 0, &host, &port, &err), -1);
	assert_null(host);
	assert_non_null(strstr(err, needle));
	for (const char *p = err; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	free(err);
}

/* A pasted URL is named as one (not "invalid port"); what was given is echoed sanitised. */
static void
test_refusals(void **state)
{
	(void)state;
	refuses("http://127.0.0.5", "is a URL: give HOST[:PORT]");
	refuses("https://127.0.0.5:8443/", "is a URL: give HOST[:PORT] (with --https");
	refuses("127.0.0.5:99999", "invalid port in \"127.0.0.5:99999\"");
	refuses("\033[2Jbad host", "invalid host in \"bad host\"");
	refuses("127.0.0.5:\033[31m", "invalid port in \"127.0.0.5:\"");
}

static void
parses(const char *s, const char *want_host, unsigned want_port)
{
	char *host = NULL, *err = NULL;
	unsigned port = 0;

	if (hostport_parse(s, 80, 0, &host, &port, &err) != 0)
		fail_msg("%s: %s", s, err);
	assert_string_equal(host, want_host);
	assert_int_equal(port, want_port);
	free(host);
}

/*
 * A link-local IPv6 address names its interface (its zone): "fe80::1%eth0" is a device's
 * address on a real LAN, taken bare or in brackets with a port, valid as a stored host, and
 * formatted so that it parses back. A zone on an address that has no scope, an empty zone or
 * one that is no interface name is refused.
 */
static void
test_zone(void **state)
{
	char *s;

	(void)state;
	parses("fe80::1%eth0", "fe80::1%eth0", 80);
	parses("[fe80::1%eth0]:8080", "fe80::1%eth0", 8080);
	parses("[FE80::aB:1%wlp2s0.10]", "FE80::aB:1%wlp2s0.10", 80);
	parses("fe80::1%3", "fe80::1%3", 80);
	assert_true(hostport_valid_host("fe80::1%eth0"));
	assert_false(hostport_valid_host("2001:db8::1%eth0"));
	assert_false(hostport_valid_host("::1%lo"));
	assert_false(hostport_valid_host("fe80::1%"));
	assert_false(hostport_valid_host("fe80::1%eth0%eth1"));
	assert_false(hostport_valid_host("fe80::1%eth/0"));
	assert_false(hostport_valid_host("fe80::1%eth0 x"));
	assert_false(hostport_valid_host("fe80::1%a234567890123456"));
	assert_false(hostport_valid_host("127.0.0.1%eth0"));
	assert_false(hostport_valid_host("shelly%eth0"));
	refuses("[2001:db8::1%eth0]:80", "invalid host");
	refuses("fe80::1%\033[2J", "invalid host in \"fe80::1%\"");
	s = hostport_format("fe80::1%eth0", 8080, "http");
	assert_string_equal(s, "[fe80::1%eth0]:8080");
	parses(s, "fe80::1%eth0", 8080);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
