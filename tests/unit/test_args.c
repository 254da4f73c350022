/* cli/args: the one parser of whole-number options (--port, --channel, --attempts, task ids). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/args.h"

static void
test_numbers_in_range(void **state)
{
	long long v = -1;

	(void)state;
	assert_int_equal(cli_parse_number("1", 1, 65535, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cli_parse_number("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(cli_parse_number("-3", -5, 5, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(cli_parse_number("9223372036854775807", 1, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);
}

/* Anything else is refused and leaves *out as it was. */
static void
test_refused(void **state)
{
	static const char *const bad[] = {
		NULL, "", " ", "0", "65536", "12x", "x12", "1.5", "99999999999999999999", "-",
	};
	long long v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(cli_parse_number(bad[i], 1, 65535, &v), -1);
		assert_int_equal(v, 42);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_in_range),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
