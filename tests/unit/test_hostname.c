/*
 * util/hostname: the reserved names (for every writer of host names) and the one uniqueness
 * rule: the name, else name-MACTAIL, else a counter after it, each cut to a 63-byte label.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/hostname.h"
#include "util/str.h"

static void
test_reserved(void **state)
{
	static const char *const yes[] = {"localhost", "LocalHost-localdomain", "localhost6",
	    "ip6-allnodes", "local", "localdomain", "broadcasthost", "WPAD", "isatap"};
	static const char *const no[] = {"localhos", "lokal", "ip6", "wpad2", "kitchen"};

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!hostname_reserved(yes[i]))
			fail_msg("%s not reserved", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (hostname_reserved(no[i]))
			fail_msg("%s reserved", no[i]);
	assert_true(hostname_dnsmasq_keyword("ignore"));
	assert_true(hostname_dnsmasq_keyword("Infinite"));
	assert_true(hostname_dnsmasq_keyword("deprecated"));
	assert_false(hostname_dnsmasq_keyword("ignored"));
	assert_false(hostname_reserved("ignore"));
}

/* Taken: the names in a list. */
struct list {
	char *v[8];
	size_t n;
};

static int
taken_cb(const char *name, void *arg)
{
	const struct list *l = arg;

	return str_list_has(l->v, l->n, name);
}

static void
test_unique(void **state)
{
	struct list l = {{"plug", "plug-6a0001", "plug-6a0001-2"}, 3};
	char base[80], *name;

	(void)state;
	name = hostname_unique("lamp", "3494546a0001", 1, taken_cb, &l);
	assert_string_equal(name, "lamp"); /* free: kept */
	free(name);
	name = hostname_unique("lamp", "3494546a0001", 0, taken_cb, &l);
	assert_string_equal(name, "lamp-6a0001"); /* shared: the MAC tail even when free */
	free(name);
	name = hostname_unique("plug", "c45bbe6a0001", 1, taken_cb, &l);
	assert_string_equal(name, "plug-6a0001-3"); /* tail and first counter taken */
	free(name);
	/* a long base is cut, without a trailing '-', so the result stays a label */
	memset(base, 'a', 62);
	base[62] = '\0';
	name = hostname_unique(base, "3494546a0001", 0, taken_cb, &l);
	assert_int_equal(strlen(name), 63);
	assert_string_equal(name + 55, "a-6a0001");
	free(name);
	base[55] = '-'; /* the cut falls right after it */
	name = hostname_unique(base, "3494546a0001", 0, taken_cb, &l);
	assert_int_equal(strlen(name), 62);
	assert_string_equal(name + 54, "a-6a0001");
	free(name);
}

/* The order devices take names in: a holder first, then the one registered first (unknown
 * last), then by MAC. */
static void
test_claim_order(void **state)
{
	struct hostname_claim c[] = {
	    {0, "000000000001", 0, 0},
	    {1, "000000000002", 2000, 0},
	    {2, "000000000003", 1000, 0},
	    {3, "000000000004", 3000, 1},
	    {4, "000000000000", 0, 0},
	};
	const size_t want[] = {3, 2, 1, 4, 0};

	(void)state;
	hostname_claim_sort(c, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(c[i].index, want[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reserved),
	    cmocka_unit_test(test_unique),
	    cmocka_unit_test(test_claim_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
