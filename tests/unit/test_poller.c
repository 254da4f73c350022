/* engine/poller: the schedule (intervals, jitter, backoff, breaker, asleep). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/poller.h"

static struct poller_opts
opts(void)
{
	struct poller_opts o;

	memset(&o, 0, sizeof o);
	o.interval_gen1_ms = 30000;
	o.interval_gen2_ms = 10000;
	o.offline_after = 3;
	o.breaker_after = 12;
	o.backoff_max_ms = 300000;
	o.jitter_pct = 10;
	return o;
}

static void
test_interval_by_generation(void **state)
{
	struct poller_opts o = opts();

	(void)state;
	o.jitter_pct = 0;
	assert_int_equal(poller_delay_ms(&o, 1, 0, 0, 12345), 30000);
	assert_int_equal(poller_delay_ms(&o, 2, 0, 0, 12345), 10000);
	assert_int_equal(poller_delay_ms(&o, 4, 0, 0, 12345), 10000);
}

static void
test_jitter_bounds(void **state)
{
	struct poller_opts o = opts();
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)state;
	for (uint64_t r = 0; r < 5000; r++) {
		uint64_t d = poller_delay_ms(&o, 2, 0, 0, r * 2654435761u);
		assert_true(d >= 9000 && d <= 11000);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	/* The jitter really spreads: both ends of the window are reached. */
	assert_int_equal(lo, 9000);
	assert_int_equal(hi, 11000);
}

static void
test_backoff_doubles_to_max(void **state)
{
	struct poller_opts o = opts();

	(void)state;
	o.jitter_pct = 0;
	assert_int_equal(poller_delay_ms(&o, 2, 1, 0, 0), 10000);
	assert_int_equal(poller_delay_ms(&o, 2, 2, 0, 0), 20000);
	assert_int_equal(poller_delay_ms(&o, 2, 3, 0, 0), 40000);
	assert_int_equal(poller_delay_ms(&o, 2, 5, 0, 0), 160000);
	assert_int_equal(poller_delay_ms(&o, 2, 6, 0, 0), 300000);
	assert_int_equal(poller_delay_ms(&o, 2, 11, 0, 0), 300000);
	assert_int_equal(poller_delay_ms(&o, 1, 2, 0, 0), 60000);
}

static void
test_breaker_and_asleep(void **state)
{
	struct poller_opts o = opts();

	(void)state;
	/* Breaker open: exactly one probe per backoff_max, no jitter below it. */
	assert_int_equal(poller_delay_ms(&o, 2, 12, 0, 777), 300000);
	assert_int_equal(poller_delay_ms(&o, 2, 1000, 0, 1), 300000);
	/* A sleeping device is never backed off. */
	o.jitter_pct = 0;
	assert_int_equal(poller_delay_ms(&o, 1, 50, 1, 0), 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_by_generation),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_backoff_doubles_to_max),
		cmocka_unit_test(test_breaker_and_asleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
