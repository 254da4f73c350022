/* engine/devname: the registry name follows the device's own name, also across a cleared one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/devname.h"
#include "store/store.h"

#define MAC "a1b2c3d4e5f6"

/* An in-memory store with one device, registered as name with reported its own name. */
static struct store *
open_with(const char *name, const char *reported)
{
	struct store_device sd;
	struct store *st;
	char *cause = NULL;

	if (store_open(":memory:", &st, &cause) != 0)
		fail_msg("store_open: %s", cause);
	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, MAC, sizeof MAC);
	sd.gen = 2;
	sd.name = name;
	assert_int_equal(store_device_upsert(st, &sd, &cause), 0);
	devname_remember(st, MAC, reported);
	return st;
}

/* The device reports reported; returns the registry name after it (caller frees). */
static char *
observe(struct store *st, const char *reported)
{
	struct store_device *sd = store_device_find_mac(st, MAC);
	char *followed = NULL, *name;

	assert_non_null(sd);
	assert_int_equal(devname_observe(st, MAC, sd->name, reported, &followed), 0);
	free(followed);
	store_device_free(sd);
	sd = store_device_find_mac(st, MAC);
	name = strdup(sd->name != NULL ? sd->name : "");
	store_device_free(sd);
	return name;
}

static void
expect_name(struct store *st, const char *reported, const char *want)
{
	char *name = observe(st, reported);

	assert_string_equal(name, want);
	free(name);
}

/* "BLU Gateway Plus I" -> "Hall" -> "" -> "Porch": the registry follows to "Porch". */
static void
test_follows_across_cleared_name(void **state)
{
	struct store *st = open_with("BLU Gateway Plus I", "BLU Gateway Plus I");

	(void)state;
	expect_name(st, "Hall", "Hall");
	expect_name(st, "", "Hall"); /* nothing to follow: the registry keeps a name */
	expect_name(st, "Porch", "Porch");
	expect_name(st, "", "Porch");
	expect_name(st, "", "Porch");
	expect_name(st, "Attic", "Attic");
	store_free(st);
}

/* A name the operator gave stays, also when the device clears its own and names itself anew. */
static void
test_operator_name_stays_across_cleared_name(void **state)
{
	struct store *st = open_with("Kitchen", "shellyplus1-a1b2c3d4e5f6");

	(void)state;
	expect_name(st, "Hall", "Kitchen");
	expect_name(st, "", "Kitchen");
	expect_name(st, "Porch", "Kitchen");
	store_free(st);
}

/* Forgetting the device forgets the name it had before it cleared it. */
static void
test_forget_forgets_cleared_name(void **state)
{
	struct store *st = open_with("Hall", "Hall");
	char *kept;

	(void)state;
	expect_name(st, "", "Hall");
	kept = store_setting_get(st, DEVNAME_CLEARED_PREFIX MAC);
	assert_non_null(kept);
	assert_string_equal(kept, "Hall");
	free(kept);
	devname_forget(st, MAC);
	assert_null(store_setting_get(st, DEVNAME_CLEARED_PREFIX MAC));
	assert_null(devname_reported(st, MAC));
	store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follows_across_cleared_name),
		cmocka_unit_test(test_operator_name_stays_across_cleared_name),
		cmocka_unit_test(test_forget_forgets_cleared_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
