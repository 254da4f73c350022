/*
 * engine/discoveropts: a discovery run's options from the configuration and a front end's
 * overrides (what --discover, the console and scheduled discovery use), and discovery/mdns's
 * check of mDNS against the network guard, and the configured ranges all of them scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "discovery/discover.h"
#include "discovery/mdns.h"
#include "discovery/scan.h"
#include "engine/discoveropts.h"
#include "engine/engine.h"
#include "util/guard.h"

static struct guard *
guard_of(const char *nets)
{
	struct guard *g = NULL;
	char *cause = NULL;

	if (guard_parse(nets, &g, &cause) != 0)
		fail_msg("guard_parse(%s): %s", nets, cause);
	return g;
}

static void
set(struct conf *cfg, const char *name, const char *value)
{
	char *cause = NULL;

	if (conf_set(cfg, name, value, &cause) != 0)
		fail_msg("conf_set(%s): %s", name, cause);
}

/* Nothing set anywhere: the configuration's defaults, no scan, the engine's guard. */
static void
test_defaults(void **state)
{
	struct conf *cfg = conf_new();
	struct guard *g = guard_of("127.0.0.0/8,224.0.0.251/32");
	struct engine eng = {.conf = cfg, .guard = g};
	struct scan_targets *empty = scan_targets_new();
	struct discover_opts o;

	(void)state;
	memset(&o, 0xa5, sizeof o);
	discoveropts_fill(&eng, NULL, 1, empty, &o, NULL);
	assert_int_equal(o.mdns, 1);
	assert_int_equal(o.confirm_timeout_ms, 2000);
	assert_int_equal(o.mdns_window_ms, 2000);
	assert_int_equal(o.mdns_max_ms, 0);
	assert_true(o.mdns_retry_ms > 0);
	assert_null(o.targets);
	assert_int_equal(o.scan.timeout_ms, 2000);
	assert_int_equal(o.scan.port, 0);
	assert_int_equal(o.scan.concurrency, 256);
	assert_int_equal(o.scan.force, 0);
	assert_int_equal(o.scan.max_body, SCAN_DEFAULT_MAX_BODY);
	assert_ptr_equal(o.scan.guard, g);
	discoveropts_fill(&eng, NULL, 0, NULL, &o, NULL);
	assert_int_equal(o.mdns, 0);
	assert_null(o.targets);
	scan_targets_free(empty);
	guard_free(g);
	conf_free(cfg);
}

/* The configuration's values, then a front end's overrides above them. */
static void
test_conf_and_overrides(void **state)
{
	struct conf *cfg = conf_new();
	struct engine eng = {.conf = cfg};
	struct scan_targets *t = scan_targets_new();
	struct discover_opts o;
	char *cause = NULL;

	(void)state;
	set(cfg, "discover-timeout", "5s");
	set(cfg, "discover-port", "8080");
	set(cfg, "scan-concurrency", "16");
	if (scan_targets_add(t, "127.0.0.1", &cause) != 0)
		fail_msg("scan_targets_add: %s", cause);
	discoveropts_fill(&eng, &(struct discoveropts){0}, 0, t, &o, NULL);
	assert_ptr_equal(o.targets, t);
	assert_int_equal(o.confirm_timeout_ms, 5000);
	assert_int_equal(o.scan.timeout_ms, 5000);
	assert_int_equal(o.scan.port, 8080);
	assert_int_equal(o.scan.concurrency, 16);

	discoveropts_fill(&eng, &(struct discoveropts){0.25, 81, 1}, 0, t, &o, NULL);
	assert_int_equal(o.confirm_timeout_ms, 250);
	assert_int_equal(o.mdns_window_ms, 250);
	assert_int_equal(o.scan.timeout_ms, 250);
	assert_int_equal(o.scan.port, 81);
	assert_int_equal(o.scan.force, 1);
	assert_int_equal(o.scan.concurrency, 16); /* not overridable */

	/* A timeout below a millisecond rounds up to one, never to "no timeout". */
	discoveropts_fill(&eng, &(struct discoveropts){0.0001, 0, 0}, 0, t, &o, NULL);
	assert_int_equal(o.scan.timeout_ms, 1);
	assert_int_equal(o.scan.port, 8080);
	scan_targets_free(t);
	conf_free(cfg);
}

/*
 * mDNS goes to 224.0.0.251: a run browses without a guard or when the guard lists the group;
 * else the options say it does not, and why. Every run's options come from here.
 */
static void
test_mdns_guard(void **state)
{
	struct guard *none = guard_of(NULL), *loop = guard_of("127.0.0.0/8"),
	             *group = guard_of("127.0.0.0/8,224.0.0.251/32");
	struct conf *cfg = conf_new();
	struct engine eng = {.conf = cfg, .guard = none};
	struct discover_opts o;
	const char *why = "unset";

	(void)state;
	discoveropts_fill(&eng, NULL, 1, NULL, &o, &why);
	assert_int_equal(o.mdns, 1);
	assert_null(why);
	eng.guard = group;
	why = "unset";
	discoveropts_fill(&eng, NULL, 1, NULL, &o, &why);
	assert_int_equal(o.mdns, 1);
	assert_null(why);
	eng.guard = loop;
	discoveropts_fill(&eng, NULL, 1, NULL, &o, &why);
	assert_int_equal(o.mdns, 0);
	assert_string_equal(why, "mDNS is off: SHELLY_TUI_ALLOW_NETS does not include the mDNS "
	                         "group 224.0.0.251");
	discoveropts_fill(&eng, NULL, 1, NULL, &o, NULL); /* the reason is optional */
	assert_int_equal(o.mdns, 0);
	why = "unset";
	discoveropts_fill(&eng, NULL, 0, NULL, &o, &why); /* not asked for: nothing to say */
	assert_int_equal(o.mdns, 0);
	assert_null(why);
	guard_free(none);
	guard_free(loop);
	guard_free(group);
	conf_free(cfg);
}

/* The guard refuses a configured range: no range is scanned, and the cause is want. */
static void
all_refused(struct engine *eng, const char *want)
{
	char *refused = NULL;
	struct scan_targets *t = discoveropts_ranges(eng, &refused);

	assert_int_equal(scan_targets_len(t), 0);
	assert_non_null(refused);
	assert_string_equal(refused, want);
	free(refused);
	scan_targets_free(t);
}

/*
 * The configured ranges: one that does not parse is left out, all are left out when the guard
 * refuses one (the cause names that range), and a /15 (more than an unforced run scans) passes the
 * size check with force.
 */
static void
test_ranges(void **state)
{
	static const char text[] = "discover-range 127.240.0.0/15\n"
	                           "discover-range 127.9.9.0/24\n";
	static const char text2[] = "discover-range 127.9.9.0/24\n"
	                            "discover-range 127.240.0.0/15\n"
	                            "discover-range 127.1.0.0/30\n";
	struct conf *cfg = conf_new();
	struct guard *loop = guard_of("127.0.0.0/8"), *narrow = guard_of("127.9.9.0/24");
	struct engine eng = {.conf = cfg, .guard = loop};
	struct scan_targets *t;
	struct discover_opts o;
	char *cause = NULL, *refused = (char *)"unset";

	(void)state;
	if (conf_load_buffer(cfg, "test", text, sizeof text - 1, &cause) != 0)
		fail_msg("conf_load_buffer: %s", cause);
	t = discoveropts_ranges(&eng, &refused);
	assert_null(refused);
	assert_int_equal(scan_targets_len(t), 2);
	assert_true(scan_targets_count(t) > SCAN_MAX_UNFORCED);
	discoveropts_fill(&eng, &(struct discoveropts){.force = 1}, 0, t, &o, NULL);
	assert_ptr_equal(o.targets, t);
	assert_int_equal(scan_targets_check_size(o.targets, o.scan.force, &cause), 0);
	discoveropts_fill(&eng, NULL, 0, t, &o, NULL);
	assert_int_equal(scan_targets_check_size(o.targets, o.scan.force, &cause), -1);
	free(cause);
	scan_targets_free(t);
	eng.guard = narrow;
	all_refused(&eng, "discover-range 127.240.0.0/15 refused by SHELLY_TUI_ALLOW_NETS");
	t = discoveropts_ranges(&eng, NULL); /* the cause is optional */
	assert_int_equal(scan_targets_len(t), 0);
	scan_targets_free(t);
	conf_free(cfg);

	/* The ranges are checked together: the one named holds the lowest refused address,
	 * whatever the order of the lines (as the logged cause names it). */
	cfg = conf_new();
	eng.conf = cfg;
	if (conf_load_buffer(cfg, "test", text2, sizeof text2 - 1, &cause) != 0)
		fail_msg("conf_load_buffer: %s", cause);
	all_refused(&eng, "discover-range 127.1.0.0/30 refused by SHELLY_TUI_ALLOW_NETS");
	guard_free(loop);
	guard_free(narrow);
	conf_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_conf_and_overrides),
	    cmocka_unit_test(test_mdns_guard),
	    cmocka_unit_test(test_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
