#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/datadir.h"

/* Without the environment variable the compiled-in directory is used: an absolute path ending
 * in share/shelly-tui (the Makefile builds it from PREFIX). */
static void
test_compiled_in(void **state)
{
	const char *d;

	(void)state;
	unsetenv("SHELLY_TUI_DATADIR");
	d = datadir();
	assert_true(d[0] == '/');
	assert_true(strlen(d) >= strlen("/share/shelly-tui"));
	assert_string_equal(d + strlen(d) - strlen("/share/shelly-tui"), "/share/shelly-tui");
	setenv("SHELLY_TUI_DATADIR", "", 1);
	assert_string_equal(datadir(), d);
	unsetenv("SHELLY_TUI_DATADIR");
}

static void
test_env_and_path(void **state)
{
	char out[64];

	(void)state;
	setenv("SHELLY_TUI_DATADIR", "/opt/st/share", 1);
	assert_string_equal(datadir(), "/opt/st/share");
	assert_int_equal(datadir_path("themes", "light.theme", out, sizeof out), 0);
	assert_string_equal(out, "/opt/st/share/themes/light.theme");
	/* One byte short of the path and its NUL: refused, never cut. */
	assert_int_equal(datadir_path("themes", "light.theme", out, strlen(out)), -1);
	unsetenv("SHELLY_TUI_DATADIR");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled_in),
		cmocka_unit_test(test_env_and_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
