#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <getopt.h>

#include "util/optspec.h"

static const struct optspec specs[] = {
    {"alpha", 'a', 0, NULL, "No argument"},
    {"beta", 0, 1, "N", "Long only, with an argument"},
    {"gamma", 'g', 1, "FILE", "Both forms, with an argument"},
};
#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

static void
test_getopt_tables(void **state)
{
	struct option longopts[NSPECS + 1];
	char shortopts[2 * NSPECS + 2];

	(void)state;
	memset(longopts, 0xff, sizeof longopts);
	optspec_getopt(specs, NSPECS, longopts, shortopts);
	assert_string_equal(shortopts, ":ag:");
	assert_string_equal(longopts[1].name, "beta");
	assert_int_equal(longopts[0].has_arg, no_argument);
	assert_int_equal(longopts[1].has_arg, required_argument);
	assert_null(longopts[2].flag);
	assert_int_equal(longopts[2].val, OPTSPEC_LONG + 2);
	assert_null(longopts[NSPECS].name);
	assert_int_equal(longopts[NSPECS].val, 0);
}

static void
test_index(void **state)
{
	(void)state;
	assert_int_equal(optspec_index(specs, NSPECS, OPTSPEC_LONG + 1), 1);
	assert_int_equal(optspec_index(specs, NSPECS, 'g'), 2);
	assert_int_equal(optspec_index(specs, NSPECS, 'a'), 0);
	assert_int_equal(optspec_index(specs, NSPECS, 'b'), -1);
	assert_int_equal(optspec_index(specs, NSPECS, 0), -1);
	assert_int_equal(optspec_index(specs, NSPECS, OPTSPEC_LONG + NSPECS), -1);
}

/* getopt_long with the built tables returns what optspec_index maps back to the rows. */
static void
test_parse(void **state)
{
	struct option longopts[NSPECS + 1];
	char shortopts[2 * NSPECS + 2];
	char a0[] = "prog", a1[] = "-a", a2[] = "--beta=7", a3[] = "-g", a4[] = "f",
	     a5[] = "--gamma";
	char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
	int got[4], n = 0, c;

	(void)state;
	optspec_getopt(specs, NSPECS, longopts, shortopts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(6, argv, shortopts, longopts, NULL)) != -1 && n < 4)
		got[n++] = c == ':' ? -2 : optspec_index(specs, NSPECS, c);
	assert_int_equal(n, 4);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 2);
	assert_int_equal(got[3], -2); /* --gamma without its argument */
}

static void
test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(fp);
	for (int i = 0; i < NSPECS; i++)
		optspec_help(fp, &specs[i], 16);
	fclose(fp);
	assert_string_equal(buf, "  -a, --alpha      No argument\n"
	                         "  --beta N         Long only, with an argument\n"
	                         "  -g, --gamma FILE Both forms, with an argument\n");
	free(buf);
}

/* An argument that is one of the long options ("--db --list") names its row; others none. */
static void
test_arg_option(void **state)
{
	(void)state;
	assert_int_equal(optspec_arg_option(specs, NSPECS, "--beta"), 1);
	assert_int_equal(optspec_arg_option(specs, NSPECS, "--gamma=x"), 2);
	assert_int_equal(optspec_arg_option(specs, NSPECS, "--alpha"), 0);
	assert_int_equal(optspec_arg_option(specs, NSPECS, "--bet"), -1);
	assert_int_equal(optspec_arg_option(specs, NSPECS, "--betamax"), -1);
	assert_int_equal(optspec_arg_option(specs, NSPECS, "-a"), -1);
	assert_int_equal(optspec_arg_option(specs, NSPECS, "beta"), -1);
	assert_int_equal(optspec_arg_option(specs, NSPECS, ""), -1);
	assert_int_equal(optspec_arg_option(specs, NSPECS, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_getopt_tables),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_arg_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
