/* tui/textlines: text cut at newlines, sanitised, and wrapped to a width at spaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tui/textlines.h"

/* One wrap and the lines it must give (NULL: only the count is checked). */
struct wrap_case {
	const char *in;
	int width;
	size_t n;
	const char *want[4];
};

static const struct wrap_case wrap_cases[] = {
    /* The last newline ends a line, it starts none. */
    {"error: one two three four five six\nshort\n", 14, 4,
        {"error: one two", "  three four", "  five six", "short"}},
    /* A word longer than the width is cut at the width; UTF-8 counts characters. */
    {"sha256//ABCDEFGHIJKLMNOP", 10, 3, {"sha256//AB", "  CDEFGHIJ", "  KLMNOP"}},
    {"\xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9", 8, 1, {NULL}},
};

static void
test_wrap(void **state)
{
	struct textlines l = {NULL, 0};

	(void)state;
	for (size_t c = 0; c < sizeof wrap_cases / sizeof wrap_cases[0]; c++) {
		const struct wrap_case *w = &wrap_cases[c];

		textlines_add_wrapped(&l, w->in, w->width);
		assert_int_equal(l.n, w->n);
		for (size_t i = 0; i < w->n && w->want[i] != NULL; i++)
			assert_string_equal(l.v[i], w->want[i]);
		textlines_clear(&l);
	}
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
