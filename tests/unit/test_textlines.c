/* tui/textlines: text cut at newlines, sanitised, and wrapped to a width at spaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tui/textlines.h"

static void
test_wrap(void **state)
{
	struct textlines l = {NULL, 0};

	(void)state;
	textlines_add_wrapped(&l, "error: one two three four five six\nshort\n", 14);
	assert_int_equal(l.n, 4); /* the last newline ends a line, it starts none */
	assert_string_equal(l.v[0], "error: one two");
	assert_string_equal(l.v[1], "  three four");
	assert_string_equal(l.v[2], "  five six");
	assert_string_equal(l.v[3], "short");
	textlines_clear(&l);
	/* A word longer than the width is cut at the width; UTF-8 counts characters. */
	textlines_add_wrapped(&l, "sha256//ABCDEFGHIJKLMNOP", 10);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "sha256//AB");
	assert_string_equal(l.v[1], "  CDEFGHIJ");
	assert_string_equal(l.v[2], "  KLMNOP");
	textlines_clear(&l);
	textlines_add_wrapped(&l, "\xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9", 8);
	assert_int_equal(l.n, 1);
	textlines_clear(&l);
	/* Control characters from the firewall never pass. */
	textlines_add_wrapped(&l, "a\033[2Jb", 80);
	assert_int_equal(l.n, 1);
	assert_null(strchr(l.v[0], '\033'));
	textlines_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
