#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/guard.h"

static struct guard *
guard_ok(const char *nets)
{
	struct guard *g = NULL;
	char *cause = NULL;

	if (guard_parse(nets, &g, &cause) != 0)
		fail_msg("guard_parse(%s): %s", nets, cause);
	assert_non_null(g);
	return g;
}

static void
test_unset_allows_all(void **state)
{
	struct guard *g = NULL;
	char *cause = NULL, *desc;

	(void)state;
	unsetenv(GUARD_ENV);
	assert_int_equal(guard_from_env(&g, &cause), 0);
	assert_null(cause);
	assert_false(guard_is_set(g));
	assert_true(guard_allows(g, "8.8.8.8"));
	assert_true(guard_allows(g, "kitchen.example.com"));
	assert_true(guard_allows(g, "2001:db8::1"));
	assert_int_equal(guard_check(g, "10.0.0.1", &cause), 0);
	assert_null(cause);
	desc = guard_describe(g);
	assert_string_equal(desc, "all networks (SHELLY_TUI_ALLOW_NETS is unset)");
	free(desc);
	guard_free(g);
}

static void
test_loopback_v4(void **state)
{
	struct guard *g = NULL;
	char *cause = NULL, *desc;

	(void)state;
	setenv(GUARD_ENV, "127.0.0.0/8", 1);
	assert_int_equal(guard_from_env(&g, &cause), 0);
	assert_true(guard_is_set(g));
	assert_true(guard_allows(g, "127.0.0.1"));
	assert_true(guard_allows(g, "127.255.255.254"));
	assert_true(guard_allows(g, "127.10.20.30"));
	assert_false(guard_allows(g, "128.0.0.1"));
	assert_false(guard_allows(g, "126.255.255.255"));
	assert_false(guard_allows(g, "10.0.0.1"));
	assert_false(guard_allows(g, "192.168.1.1"));
	/* hostnames are refused: what they resolve to is not known here */
	assert_false(guard_allows(g, "kitchen.local"));
	assert_false(guard_allows(g, "shellyplus1pm-a8032ab12345"));
	/* numeric forms that resolvers read differently are names too */
	assert_false(guard_allows(g, "127.1"));
	assert_false(guard_allows(g, "2130706433"));
	assert_false(guard_allows(g, "0x7f000001"));
	assert_false(guard_allows(g, ""));
	assert_false(guard_allows(g, NULL));
	/* localhost is loopback and allowed because 127.0.0.1 is */
	assert_true(guard_allows(g, "localhost"));
	assert_true(guard_allows(g, "LOCALHOST"));
	assert_false(guard_allows(g, "localhost.example.com"));
	/* ::1 is not in an IPv4-only list; mapped loopback is */
	assert_false(guard_allows(g, "::1"));
	assert_false(guard_allows(g, "[::1]"));
	assert_true(guard_allows(g, "::ffff:127.0.0.1"));
	assert_false(guard_allows(g, "::ffff:10.0.0.1"));

	assert_int_equal(guard_check(g, "128.0.0.1", &cause), -1);
	assert_string_equal(cause,
	    "refused: 128.0.0.1 is outside SHELLY_TUI_ALLOW_NETS (127.0.0.0/8)");
	free(cause);
	assert_int_equal(guard_check(g, "kitchen.local", &cause), -1);
	assert_non_null(strstr(cause, "\"kitchen.local\" is not a literal address"));
	assert_non_null(strstr(cause, "127.0.0.0/8"));
	free(cause);
	/* the refused host is printed safely */
	assert_int_equal(guard_check(g, "evil\x1b]0;x\x07", &cause), -1);
	assert_null(strchr(cause, '\x1b'));
	assert_null(strchr(cause, '\x07'));
	free(cause);
	cause = NULL;
	assert_int_equal(guard_check(g, "127.0.0.5", &cause), 0);
	assert_null(cause);
	desc = guard_describe(g);
	assert_string_equal(desc, "127.0.0.0/8 (from SHELLY_TUI_ALLOW_NETS)");
	free(desc);
	guard_free(g);
	unsetenv(GUARD_ENV);
}

static void
test_ipv6_loopback(void **state)
{
	struct guard *g;

	(void)state;
	g = guard_ok("127.0.0.0/8,::1");
	assert_true(guard_allows(g, "::1"));
	assert_true(guard_allows(g, "[::1]"));
	assert_false(guard_allows(g, "::2"));
	assert_false(guard_allows(g, "fe80::1"));
	guard_free(g);

	g = guard_ok("::1/128");
	assert_true(guard_allows(g, "::1"));
	assert_true(guard_allows(g, "localhost"));
	assert_false(guard_allows(g, "127.0.0.1"));
	guard_free(g);

	/* a network that holds neither loopback address refuses localhost */
	g = guard_ok("10.0.20.0/24 10.0.21.1-10.0.21.9");
	assert_false(guard_allows(g, "localhost"));
	assert_false(guard_allows(g, "::1"));
	assert_true(guard_allows(g, "10.0.20.31"));
	assert_true(guard_allows(g, "10.0.21.9"));
	assert_false(guard_allows(g, "10.0.21.10"));
	guard_free(g);
}

static void
test_invalid(void **state)
{
	struct guard *g = (struct guard *)1;
	char *cause = NULL;

	(void)state;
	setenv(GUARD_ENV, "", 1);
	assert_int_equal(guard_from_env(&g, &cause), -1);
	assert_null(g);
	assert_non_null(strstr(cause, "SHELLY_TUI_ALLOW_NETS is set but empty"));
	free(cause);

	setenv(GUARD_ENV, " , ", 1);
	assert_int_equal(guard_from_env(&g, &cause), -1);
	assert_non_null(strstr(cause, "set but empty"));
	free(cause);

	setenv(GUARD_ENV, "127.0.0.0/8,10.0.0.0/33", 1);
	assert_int_equal(guard_from_env(&g, &cause), -1);
	assert_string_equal(cause, "SHELLY_TUI_ALLOW_NETS is invalid: invalid prefix length "
				   "(expected 0 to 32): \"10.0.0.0/33\"");
	free(cause);

	setenv(GUARD_ENV, "localhost", 1);
	assert_int_equal(guard_from_env(&g, &cause), -1);
	assert_non_null(strstr(cause, "SHELLY_TUI_ALLOW_NETS is invalid"));
	free(cause);
	unsetenv(GUARD_ENV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_allows_all),
		cmocka_unit_test(test_loopback_v4),
		cmocka_unit_test(test_ipv6_loopback),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
