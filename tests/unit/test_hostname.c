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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reserved),
	    cmocka_unit_test(test_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
