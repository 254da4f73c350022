#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
