/* util/xmalloc: the growth of an array by doubling that the modules share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/xmalloc.h"

/* Room for element n appears when n reaches the capacity, which doubles; values survive. */
static void
test_grow(void **state)
{
	int *v = NULL;
	size_t n = 0, cap = 0, grew = 0;

	(void)state;
	for (; n < 100; n++) {
		size_t before = cap;

		v = xgrowarray(v, &cap, n, sizeof *v);
		assert_true(cap > n);
		if (cap != before) {
			assert_int_equal(n, before); /* only when full */
			assert_int_equal(cap, before != 0 ? before * 2 : 8);
			grew++;
		}
		v[n] = (int)n * 3;
	}
	assert_int_equal(grew, 5); /* 8, 16, 32, 64, 128 */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (int)i * 3);
	/* With room left it is the same array. */
	assert_ptr_equal(xgrowarray(v, &cap, 100, sizeof *v), v);
	assert_int_equal(cap, 128);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
