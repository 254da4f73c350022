/* tui/driftpace: the DRIFT column waits 20 times what a recomputation took, between 2 s and
 * 5 s, and one that ran while the database failed sets no delay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tui/driftpace.h"

static void
test_wait_bounds(void **state)
{
	struct driftpace p = {0};

	(void)state;
	assert_int_equal(driftpace_wait(&p), 2000); /* never more often than every 2 s */
	driftpace_took(&p, 50, 1);
	assert_int_equal(driftpace_wait(&p), 2000);
	driftpace_took(&p, 200, 1);
	assert_int_equal(driftpace_wait(&p), 4000); /* 20 times the cost */
	/* A slow one (a lock, a loaded machine) waits 5 s at most, not 20 times its time. */
	driftpace_took(&p, 15000, 1);
	assert_int_equal(driftpace_wait(&p), 5000);
	driftpace_took(&p, INT64_MAX, 1);
	assert_int_equal(driftpace_wait(&p), 5000);
	driftpace_took(&p, -3, 1); /* the wall clock stepped back */
	assert_int_equal(driftpace_wait(&p), 2000);
}

static void
test_failed_sets_nothing(void **state)
{
	struct driftpace p = {0};

	(void)state;
	driftpace_took(&p, 150, 1);
	assert_int_equal(driftpace_wait(&p), 3000);
	/* Slowed by a failing database: the last healthy cost still sets the wait. */
	driftpace_took(&p, 12000, 0);
	assert_int_equal(driftpace_wait(&p), 3000);
	driftpace_took(&p, 10, 1);
	assert_int_equal(driftpace_wait(&p), 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wait_bounds),
	    cmocka_unit_test(test_failed_sets_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
