#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "model/fwver.h"
#include "shelly/gen2.h"
#include "shelly/ident.h"

/* older OLDER NEWER: OLDER < NEWER both ways round */
static void
older(const char *a, const char *b)
{
	int cmp = 0;

	if (fwver_cmp(a, b, &cmp) != 0 || cmp >= 0)
		fail_msg("%s should be older than %s (cmp %d)", a, b, cmp);
	if (fwver_cmp(b, a, &cmp) != 0 || cmp <= 0)
		fail_msg("%s should be newer than %s (cmp %d)", b, a, cmp);
}

static void
same(const char *a, const char *b)
{
	int cmp = 1;

	if (fwver_cmp(a, b, &cmp) != 0 || cmp != 0)
		fail_msg("%s should be the same version as %s (cmp %d)", a, b, cmp);
}

static void
test_order(void **state)
{
	(void)state;
	older("1.4.4", "1.5.0");
	older("1.9.0", "1.10.0");
	older("1.14.0", "2.0.0");
	older("1.7.0-beta1", "1.7.0"); /* semver: a pre-release is below its release */
	older("1.7.0-beta2", "1.7.0-beta10"); /* digit runs as numbers */
	older("1.7.0-beta3", "1.7.0-rc1");
	older("1.6.9", "1.7.0-beta1");
	older("1.7.0-miniemg4prod0", "2.0.0-beta1"); /* the em-mini-gen4 capture */
	older("1.3.99-dev96845", "1.3.99");
	same("1.7.0-miniemg4prod0", "1.7.0"); /* a vendor tag is a release, not a pre-release */
	same("1.4.4", "20241011-114455/1.4.4-g6d2a586");
	/* Gen1 firmware ids: the vX.Y.Z part */
	older("20230913-114008/v1.14.0-gcb84623", "20231107-162425/v1.14.1-rc1");
	older("20200527-142209/v1.7.0-rc8@6f7ea363", "20200601-122823/v1.7.0@d7961837");
	same("20230913-114008/v1.14.0-gcb84623", "1.14.0");
}

static void
test_newer(void **state)
{
	int cmp;

	(void)state;
	assert_int_equal(fwver_newer("1.7.0-miniemg4prod0", "2.0.0-beta1"), 0);
	assert_int_equal(fwver_newer("1.5.0", "1.4.4"), 1);
	assert_int_equal(fwver_newer("1.4.4", "1.4.4"), 0);
	/* unreadable: unknown, the device's word stands */
	assert_int_equal(fwver_newer("20191217-140757/1047-long-id@a0661583", "1.4.4"), -1);
	assert_int_equal(fwver_newer("", "1.4.4"), -1);
	assert_int_equal(fwver_cmp(NULL, "1.0.0", &cmp), -1);
}

/* The capture: an EM Mini Gen4 running 2.0.0-beta1 offered 1.7.0-miniemg4prod0 as stable. */
static void
test_capture_downgrade(void **state)
{
	struct device_ident id;
	struct device_status st;
	char *body, *cause = NULL;
	size_t len;

	(void)state;
	device_ident_init(&id);
	body = fixture_slurp("tests/fixtures/gen4/em-mini-gen4/shelly.json", &len);
	assert_int_equal(shelly_parse_ident(body, len, &id, &cause), 0);
	free(body);
	device_status_init(&st);
	body = fixture_slurp("tests/fixtures/gen4/em-mini-gen4/Shelly.GetStatus.json", &len);
	assert_int_equal(gen2_parse_status(body, len, &st, &cause), 0);
	free(body);
	assert_int_equal(st.sys.update_available, 1); /* as the device says */
	assert_string_equal(st.sys.update_version, "1.7.0-miniemg4prod0");
	fwver_check_offer(&st, id.fw);
	assert_int_equal(st.sys.update_available, 0);
	assert_string_equal(st.sys.update_version, "");
	device_status_done(&st);

	/* a newer stable stays an update; a beta no newer than the running one goes */
	device_status_init(&st);
	st.sys.update_available = 1;
	snprintf(st.sys.update_version, sizeof st.sys.update_version, "2.0.1");
	snprintf(st.sys.beta_version, sizeof st.sys.beta_version, "2.0.0-beta1");
	fwver_check_offer(&st, id.fw);
	assert_int_equal(st.sys.update_available, 1);
	assert_string_equal(st.sys.update_version, "2.0.1");
	assert_string_equal(st.sys.beta_version, "");
	device_status_done(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_newer),
	    cmocka_unit_test(test_capture_downgrade),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
