#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "util/cidr.h"

static struct in_addr
ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* Parses s, which must succeed, and returns the target. */
static struct cidr
parse_ok(const char *s)
{
	struct cidr c;
	char *cause = NULL;

	if (cidr_parse(s, &c, &cause) != 0)
		fail_msg("cidr_parse(%s): %s", s, cause);
	assert_null(cause);
	return c;
}

/* Parses s, which must fail with a cause containing want. */
static void
parse_bad(const char *s, const char *want)
{
	struct cidr c;
	char *cause = NULL;

	assert_int_equal(cidr_parse(s, &c, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cidr_parse(%s): cause \"%s\" lacks \"%s\"", s, cause, want);
	free(cause);
}

/* Iterates c and checks the first, last and number of addresses. */
static void
check_iter(const struct cidr *c, const char *first, const char *last, uint64_t count)
{
	struct cidr_iter it;
	struct in_addr a, f = { 0 }, l = { 0 };
	char buf[INET_ADDRSTRLEN];
	uint64_t n = 0;

	cidr_iter_init(&it, c);
	while (cidr_iter_next(&it, &a)) {
		if (n == 0)
			f = a;
		l = a;
		n++;
	}
	assert_int_equal(n, count);
	assert_int_equal(cidr_count(c), count);
	if (count == 0)
		return;
	assert_string_equal(inet_ntop(AF_INET, &f, buf, sizeof buf), first);
	assert_string_equal(inet_ntop(AF_INET, &l, buf, sizeof buf), last);
	assert_int_equal(cidr_iter_next(&it, &a), 0);
}

static void
test_parse_cidr(void **state)
{
	struct cidr c;
	char buf[CIDR_TEXT_MAX];

	(void)state;
	c = parse_ok("10.0.0.0/24");
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.lo, 0x0A000000);
	assert_int_equal(c.hi, 0x0A0000FF);
	check_iter(&c, "10.0.0.1", "10.0.0.254", 254);
	assert_string_equal(cidr_format(&c, buf, sizeof buf), "10.0.0.0/24");

	/* host bits are masked off */
	c = parse_ok("192.168.7.77/16");
	assert_string_equal(cidr_format(&c, buf, sizeof buf), "192.168.0.0/16");
	check_iter(&c, "192.168.0.1", "192.168.255.254", 65534);

	/* /30 skips both ends, /31 and /32 keep all */
	c = parse_ok("10.0.0.4/30");
	check_iter(&c, "10.0.0.5", "10.0.0.6", 2);
	c = parse_ok("10.0.0.4/31");
	check_iter(&c, "10.0.0.4", "10.0.0.5", 2);
	c = parse_ok("10.0.0.9/32");
	check_iter(&c, "10.0.0.9", "10.0.0.9", 1);
	assert_string_equal(cidr_format(&c, buf, sizeof buf), "10.0.0.9");

	/* the top of the address space does not wrap */
	c = parse_ok("255.255.255.254/31");
	check_iter(&c, "255.255.255.254", "255.255.255.255", 2);
	c = parse_ok("255.255.255.0/24");
	check_iter(&c, "255.255.255.1", "255.255.255.254", 254);
	c = parse_ok("0.0.0.0/0");
	assert_int_equal(cidr_count(&c), 4294967294ull);
	assert_int_equal(c.lo, 0);
	assert_int_equal(c.hi, UINT32_MAX);
}

static void
test_parse_single_and_range(void **state)
{
	struct cidr c;
	char buf[CIDR_TEXT_MAX];

	(void)state;
	c = parse_ok("127.0.3.7");
	assert_int_equal(c.prefix, 32);
	check_iter(&c, "127.0.3.7", "127.0.3.7", 1);

	c = parse_ok("10.0.1.10-10.0.1.50");
	assert_int_equal(c.prefix, -1);
	check_iter(&c, "10.0.1.10", "10.0.1.50", 41);
	assert_string_equal(cidr_format(&c, buf, sizeof buf), "10.0.1.10-10.0.1.50");

	c = parse_ok("10.0.1.10-50");
	check_iter(&c, "10.0.1.10", "10.0.1.50", 41);

	/* ranges keep .0 and .255 and may cross octets */
	c = parse_ok("10.0.1.250-10.0.2.5");
	check_iter(&c, "10.0.1.250", "10.0.2.5", 12);
	c = parse_ok("10.0.1.0-255");
	check_iter(&c, "10.0.1.0", "10.0.1.255", 256);
	c = parse_ok("10.0.1.9-9");
	check_iter(&c, "10.0.1.9", "10.0.1.9", 1);
	assert_string_equal(cidr_format(&c, buf, sizeof buf), "10.0.1.9-10.0.1.9");

	/* contains covers the whole block, ends included */
	c = parse_ok("10.0.0.0/24");
	assert_true(cidr_contains(&c, ip("10.0.0.0")));
	assert_true(cidr_contains(&c, ip("10.0.0.255")));
	assert_false(cidr_contains(&c, ip("10.0.1.0")));
	assert_false(cidr_contains(&c, ip("9.255.255.255")));
}

static void
test_parse_errors(void **state)
{
	struct in_addr a;

	(void)state;
	parse_bad("fd00::/64", "IPv6 targets are not supported: \"fd00::/64\"");
	parse_bad("::1", "IPv6 targets are not supported");
	parse_bad("::ffff:10.0.0.1", "IPv6 targets are not supported");
	parse_bad("10.0.0.1-20:8080",
	    "a port is not allowed in a scan target (discover-port sets it): \"10.0.0.1-20:8080\"");
	parse_bad("", "empty target");
	parse_bad(NULL, "empty target");
	parse_bad("10.0.0", "invalid target");
	parse_bad("10.0.0.256", "invalid target");
	parse_bad("10.0.0.1.", "invalid target");
	parse_bad("10.0.0.1.2", "invalid target");
	parse_bad("0127.0.0.1", "invalid target"); /* octal-looking */
	parse_bad("127.1", "invalid target");
	parse_bad("2130706433", "invalid target");
	parse_bad(" 10.0.0.1", "invalid target");
	parse_bad("10.0.0.1 ", "invalid target");
	parse_bad("kitchen.local", "invalid target");
	parse_bad("10.0.0.0/33", "invalid prefix length");
	parse_bad("10.0.0.0/", "invalid prefix length");
	parse_bad("10.0.0.0/024", "invalid prefix length");
	parse_bad("10.0.0.0/-1", "invalid prefix length");
	parse_bad("10.0.0.0/24x", "invalid prefix length");
	parse_bad("10.0.0.0/99999999999", "invalid prefix length");
	parse_bad("10.0.1.50-10", "the end is before the start");
	parse_bad("10.0.1.50-10.0.1.49", "the end is before the start");
	parse_bad("10.0.1.10-256", "invalid range end");
	parse_bad("10.0.1.10-", "invalid range end");
	parse_bad("10.0.1.10-10.0.2", "invalid range end");
	parse_bad("10.0.1.10--20", "invalid range end");
	/* control characters in the input do not reach the cause */
	{
		struct cidr c;
		char *cause = NULL;

		assert_int_equal(cidr_parse("1\x1b[2J", &c, &cause), -1);
		assert_null(strchr(cause, '\x1b'));
		free(cause);
		/* a NULL cause is allowed */
		assert_int_equal(cidr_parse("x", &c, NULL), -1);
	}
	assert_int_equal(cidr_parse_ipv4("127.0.0.1", &a), 0);
	assert_int_equal(a.s_addr, htonl(0x7F000001));
	assert_int_equal(cidr_parse_ipv4("127.0.0.01", &a), -1);
	assert_int_equal(cidr_parse_ipv4("0.0.0.0", &a), 0);
	assert_int_equal(cidr_parse_ipv4(NULL, &a), -1);
}

static void
test_list(void **state)
{
	struct cidr_list *list = NULL;
	char *cause = NULL, *desc;

	(void)state;
	assert_int_equal(
	    cidr_list_parse("127.0.0.0/8, 10.0.1.10-50 192.168.1.7,::1 ,fd00::/8", &list, &cause), 0);
	assert_null(cause);
	desc = cidr_list_describe(list);
	assert_string_equal(desc, "127.0.0.0/8, 10.0.1.10-10.0.1.50, 192.168.1.7, ::1/128, fd00::/8");
	free(desc);

	assert_true(cidr_list_contains(list, ip("127.255.255.254")));
	assert_true(cidr_list_contains(list, ip("127.0.0.0")));
	assert_false(cidr_list_contains(list, ip("128.0.0.1")));
	assert_true(cidr_list_contains(list, ip("10.0.1.50")));
	assert_false(cidr_list_contains(list, ip("10.0.1.51")));
	assert_false(cidr_list_contains(list, ip("10.0.1.9")));
	assert_true(cidr_list_contains(list, ip("192.168.1.7")));
	assert_false(cidr_list_contains(list, ip("192.168.1.8")));

	assert_true(cidr_list_contains_host(list, "127.0.0.1"));
	assert_false(cidr_list_contains_host(list, "126.255.255.255"));
	assert_true(cidr_list_contains_host(list, "::1"));
	assert_true(cidr_list_contains_host(list, "[::1]"));
	assert_true(cidr_list_contains_host(list, "0:0:0:0:0:0:0:1"));
	assert_false(cidr_list_contains_host(list, "::2"));
	assert_true(cidr_list_contains_host(list, "fdab::7"));
	assert_false(cidr_list_contains_host(list, "fe80::1"));
	/* IPv4-mapped IPv6 is checked as IPv4 */
	assert_true(cidr_list_contains_host(list, "::ffff:127.0.0.1"));
	assert_false(cidr_list_contains_host(list, "::ffff:8.8.8.8"));
	/* names and ambiguous numbers are not literals */
	assert_false(cidr_list_contains_host(list, "localhost"));
	assert_false(cidr_list_contains_host(list, "127.1"));
	assert_false(cidr_list_contains_host(list, "2130706433"));
	assert_false(cidr_list_contains_host(list, "0177.0.0.1"));
	assert_false(cidr_list_contains_host(list, "127.0.0.1:80"));
	assert_false(cidr_list_contains_host(list, "fe80::1%lo"));
	assert_false(cidr_list_contains_host(list, "[::1"));
	assert_false(cidr_list_contains_host(list, ""));
	assert_false(cidr_list_contains_host(list, NULL));
	cidr_list_free(list);

	/* only IPv4: ::1 is not in it */
	assert_int_equal(cidr_list_parse("127.0.0.0/8", &list, &cause), 0);
	assert_false(cidr_list_contains_host(list, "::1"));
	assert_true(cidr_list_contains_host(list, "127.0.0.1"));
	cidr_list_free(list);

	/* IPv6 prefixes: host bits masked, /0 takes all */
	assert_int_equal(cidr_list_parse("[2001:db8::1]/32 ::/0", &list, &cause), 0);
	desc = cidr_list_describe(list);
	assert_string_equal(desc, "2001:db8::/32, ::/0");
	free(desc);
	assert_true(cidr_list_contains_host(list, "1::"));
	assert_false(cidr_list_contains_host(list, "127.0.0.1"));
	cidr_list_free(list);
	assert_int_equal(cidr_list_parse("2001:db8::/33", &list, &cause), 0);
	assert_true(cidr_list_contains_host(list, "2001:db8:7fff::1"));
	assert_false(cidr_list_contains_host(list, "2001:db8:8000::1"));
	cidr_list_free(list);
}

static void
test_list_errors(void **state)
{
	struct cidr_list *list = (struct cidr_list *)1;
	char *cause = NULL;

	(void)state;
	assert_int_equal(cidr_list_parse("", &list, &cause), -1);
	assert_null(list);
	assert_string_equal(cause, "empty address list");
	free(cause);
	assert_int_equal(cidr_list_parse(" , ,", &list, &cause), -1);
	assert_string_equal(cause, "empty address list");
	free(cause);
	assert_int_equal(cidr_list_parse("127.0.0.0/8,10.0.0.0/40", &list, &cause), -1);
	assert_non_null(strstr(cause, "invalid prefix length"));
	assert_non_null(strstr(cause, "10.0.0.0/40"));
	free(cause);
	assert_int_equal(cidr_list_parse("127.0.0.0/8;10.0.0.0/8", &list, &cause), -1);
	free(cause);
	assert_int_equal(cidr_list_parse("::1/129", &list, &cause), -1);
	assert_non_null(strstr(cause, "IPv6 prefix length"));
	free(cause);
	assert_int_equal(cidr_list_parse("::g", &list, &cause), -1);
	assert_non_null(strstr(cause, "invalid IPv6 address"));
	free(cause);
	assert_int_equal(cidr_list_parse("localhost", &list, &cause), -1);
	assert_non_null(strstr(cause, "invalid target"));
	free(cause);
	assert_int_equal(cidr_list_parse("1111111111111111111111111111111111111111111111111111111111111111"
					 "1111",
			     &list, &cause),
	    -1);
	assert_non_null(strstr(cause, "entry too long"));
	free(cause);
	assert_null(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_parse_single_and_range),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
