#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guardref.h"
#include "util/guard.h"
#include "util/xmalloc.h"

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
	assert_int_equal(guard_check(g, "fe80::1%eth0", &cause), -1);
	assert_string_equal(cause,
	    "refused: fe80::1%eth0 is outside SHELLY_TUI_ALLOW_NETS (127.0.0.0/8)");
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

/* A link-local address with its zone is judged by the address; a zone widens nothing. */
static void
test_zone(void **state)
{
	static const struct {
		const char *nets, *host;
		int allowed;
	} t[] = {
	    {"fe80::/10", "fe80::1%eth0", 1},
	    {"fe80::/10", "[fe80::1%eth0]", 1},
	    {"fe80::/10", "fe80::1%", 0},
	    {"fe80::/10", "2001:db8::1%eth0", 0},
	    {"fe80::1/128", "fe80::2%eth0", 0},
	    {"127.0.0.0/8,::1", "fe80::1%lo", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct guard *g = guard_ok(t[i].nets);
		if (guard_allows(g, t[i].host) != t[i].allowed)
			fail_msg("%s in %s: want %d", t[i].host, t[i].nets, t[i].allowed);
		guard_free(g);
	}
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

/* localhost resolves to both loopbacks: it is reached over the allowed family only. */
static void
test_localhost_family(void **state)
{
	struct guard *g;

	(void)state;
	g = guard_ok("127.0.0.1/32");
	assert_int_equal(guard_families(g, "localhost"), GUARD_IPV4);
	assert_int_equal(guard_families(g, "LOCALHOST."), GUARD_IPV4);
	assert_int_equal(guard_families(g, "::1"), GUARD_REFUSED);
	assert_int_equal(guard_families(g, "127.0.0.1"), GUARD_ANY);
	assert_int_equal(guard_families_cb("localhost", g), GUARD_IPV4);
	guard_free(g);

	g = guard_ok("::1");
	assert_int_equal(guard_families(g, "localhost"), GUARD_IPV6);
	assert_int_equal(guard_families(g, "127.0.0.1"), GUARD_REFUSED);
	guard_free(g);

	g = guard_ok("127.0.0.0/8,::1/128");
	assert_int_equal(guard_families(g, "localhost"), GUARD_ANY);
	guard_free(g);

	g = guard_ok("10.0.0.0/8");
	assert_int_equal(guard_families(g, "localhost"), GUARD_REFUSED);
	assert_int_equal(guard_families(g, "10.1.2.3"), GUARD_ANY);
	guard_free(g);

	assert_int_equal(guard_parse(NULL, &g, NULL), 0);
	assert_int_equal(guard_families(g, "localhost"), GUARD_ANY);
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

/* Checks guard_first_refused against the per-address reference on [first, last]. */
static void
same_as_reference(const struct guard *g, const char *nets, uint32_t first, uint32_t last)
{
	uint32_t want = 0, got = 0;
	int rwant = ref_first_refused(g, first, last, &want);
	int rgot = guard_first_refused(g, first, last, &got, NULL);
	char f[16], l[16];

	ref_quad(first, f, sizeof f);
	ref_quad(last, l, sizeof l);
	if (rgot != rwant || (rwant && got != want))
		fail_msg("guard %s, %s-%s: interval check %d (%u), per address %d (%u)", nets, f, l,
		    rgot, got, rwant, want);
}

/*
 * Random guards of one to four networks (blocks, hosts, both range forms, overlapping or
 * leaving gaps, at times an IPv6 entry that must not matter to a dotted quad) and random
 * ranges in windows of 256 addresses at the bottom, in the middle and at the top of the
 * address space: the interval check finds what the per-address check finds.
 */
static void
test_first_refused_random(void **state)
{
	static const uint32_t windows[] = {0x00000000u, 0x0A000080u, 0x7FFFFF80u, 0xFFFFFF00u};
	static const char *const v6[] = {"::1", "::ffff:0.0.0.0/96", "fd00::/8"};
	uint32_t seed = 0x5EED1234u, base, a, b;
	char nets[256], net[64];
	struct guard *g;
	size_t len;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		base = windows[round % 4];
		len = 0;
		nets[0] = '\0';
		for (int n = 1 + (int)(ref_rand(&seed) % 4); n > 0; n--) {
			ref_random_net(&seed, base, 256, net, sizeof net);
			len += (size_t)snprintf(
			    nets + len, sizeof nets - len, "%s%s", len ? ", " : "", net);
		}
		if (ref_rand(&seed) % 4 == 0)
			snprintf(nets + len, sizeof nets - len, " %s", v6[ref_rand(&seed) % 3]);
		g = guard_ok(nets);
		for (int k = 0; k < 8; k++) {
			a = base + ref_rand(&seed) % 256;
			b = base + ref_rand(&seed) % 256;
			same_as_reference(g, nets, a < b ? a : b, a < b ? b : a);
		}
		same_as_reference(g, nets, base, base + 255);
		guard_free(g);
	}
}

/* Returns the positions guard_first_refused examines on [first, last]; checks its answer. */
static uint64_t
steps_for(const char *nets, uint32_t first, uint32_t last, int refused, uint32_t at)
{
	struct guard *g = guard_ok(nets);
	uint64_t steps = 0;
	uint32_t got = 0;

	assert_int_equal(guard_first_refused(g, first, last, &got, &steps), refused);
	if (refused)
		assert_int_equal(got, at);
	guard_free(g);
	return steps;
}

/* The ends of the address space, /0, /31, /32, and ranges made of several networks. */
static void
test_first_refused_edges(void **state)
{
	struct guard *g;
	uint32_t got = 0;

	(void)state;
	/* every address, in one step; the reference agrees at the ends */
	assert_int_equal(steps_for("0.0.0.0/0", 0, UINT32_MAX, 0, 0), 1);
	g = guard_ok("0.0.0.0/0");
	same_as_reference(g, "0.0.0.0/0", 0, 300);
	same_as_reference(g, "0.0.0.0/0", UINT32_MAX - 300, UINT32_MAX);
	guard_free(g);
	/* two halves cover it together: merged, one step */
	assert_int_equal(steps_for("128.0.0.0/1 0.0.0.0/1", 0, UINT32_MAX, 0, 0), 1);
	/* the top: /32 and /31 */
	assert_int_equal(
	    steps_for("255.255.255.255", UINT32_MAX - 1, UINT32_MAX, 1, UINT32_MAX - 1), 1);
	assert_int_equal(steps_for("255.255.255.255/32", UINT32_MAX, UINT32_MAX, 0, 0), 1);
	assert_int_equal(steps_for("255.255.255.254/31", UINT32_MAX - 1, UINT32_MAX, 0, 0), 1);
	assert_int_equal(
	    steps_for("255.255.255.254/31", UINT32_MAX - 2, UINT32_MAX, 1, UINT32_MAX - 2), 1);
	/* the bottom: hosts side by side, then a gap */
	assert_int_equal(steps_for("0.0.0.1, 0.0.0.0/32", 0, 1, 0, 0), 1);
	assert_int_equal(steps_for("0.0.0.1, 0.0.0.0/32", 0, 2, 1, 2), 1);
	assert_int_equal(steps_for("0.0.0.2, 0.0.0.0/32", 0, 2, 1, 1), 2);
	assert_int_equal(steps_for("0.0.0.0/31", 0, 0, 0, 0), 1);
	assert_int_equal(steps_for("0.0.0.1", 0, 1, 1, 0), 1);
	/* overlapping networks and a range of the short form */
	assert_int_equal(steps_for("10.0.0.0/16 10.0.0.0/8 10.255.255.0-10.255.255.255",
	                     0x0A000000u, 0x0AFFFFFFu, 0, 0),
	    1);
	assert_int_equal(steps_for("10.0.0.0-10.0.0.9, 10.0.0.5-20, 10.0.0.21/32", 0x0A000000u,
	                     0x0A000016u, 1, 0x0A000016u),
	    1);
	/* IPv6 entries do not admit a dotted quad (no IPv4 range to compare); an unset guard
	 * admits all */
	assert_int_equal(
	    steps_for("::ffff:0.0.0.0/96", 0x7F000001u, 0x7F000001u, 1, 0x7F000001u), 0);
	g = guard_ok(NULL);
	assert_int_equal(guard_first_refused(g, 0, UINT32_MAX, &got, NULL), 0);
	guard_free(g);
}

/* A /8 (as the scan visits it) is checked in one step, however many addresses it holds. */
static void
test_first_refused_slash8(void **state)
{
	(void)state;
	assert_int_equal(steps_for("127.0.0.0/8", 0x7F000001u, 0x7FFFFFFEu, 0, 0), 1);
	assert_int_equal(steps_for("127.0.0.0/9", 0x7F000001u, 0x7FFFFFFEu, 1, 0x7F800000u), 1);
	assert_int_equal(steps_for("127.128.0.0/9 127.0.0.0/9", 0x7F000001u, 0x7FFFFFFEu, 0, 0), 1);
	assert_int_equal(steps_for("10.0.0.0/8", 0x7F000001u, 0x7FFFFFFEu, 1, 0x7F000001u), 1);
}

/*
 * A guard of 1024 separate hosts (every other address from 10.0.0.0) costs a binary search,
 * at most 11 comparisons; the same count of adjacent hosts merges into one range.
 */
static void
test_first_refused_many(void **state)
{
	char *apart = xcalloc(1024, 16), *side = xcalloc(1024, 16), q[16];
	size_t la = 0, ls = 0;
	struct guard *ga, *gs;
	uint64_t steps, most = 0;
	uint32_t got = 0, x;

	(void)state;
	for (x = 0; x < 1024; x++) {
		ref_quad(0x0A000000u + 2 * x, q, sizeof q);
		la += (size_t)snprintf(apart + la, 1024 * 16 - la, "%s ", q);
		ref_quad(0x0A000000u + x, q, sizeof q);
		ls += (size_t)snprintf(side + ls, 1024 * 16 - ls, "%s,", q);
	}
	ga = guard_ok(apart);
	gs = guard_ok(side);
	for (x = 0x0A000000u; x < 0x0A000800u; x++) {
		steps = 0;
		assert_int_equal(guard_first_refused(ga, x, x + 1, &got, &steps), 1);
		assert_int_equal(got, x % 2 ? x : x + 1);
		most = steps > most ? steps : most;
	}
	assert_in_range(most, 10, 11);
	steps = 0;
	assert_int_equal(guard_first_refused(gs, 0x0A000000u, 0x0A0003FFu, &got, &steps), 0);
	assert_int_equal(guard_first_refused(gs, 0x0A000000u, 0x0A000400u, &got, &steps), 1);
	assert_int_equal(got, 0x0A000400u);
	assert_int_equal(steps, 2);
	guard_free(ga);
	guard_free(gs);
	free(apart);
	free(side);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unset_allows_all),
	    cmocka_unit_test(test_loopback_v4),
	    cmocka_unit_test(test_ipv6_loopback),
	    cmocka_unit_test(test_zone),
	    cmocka_unit_test(test_localhost_family),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_first_refused_random),
	    cmocka_unit_test(test_first_refused_edges),
	    cmocka_unit_test(test_first_refused_slash8),
	    cmocka_unit_test(test_first_refused_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
