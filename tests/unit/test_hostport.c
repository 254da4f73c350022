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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
