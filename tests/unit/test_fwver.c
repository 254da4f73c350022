#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "model/fwver.h"
#include "shelly/gen1.h"
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

/* Reads the capture in dir: its /shelly into id, its status into st (not yet checked). */
static void
capture(const char *dir, struct device_ident *id, struct device_status *st)
{
	char path[256], *body, *cause = NULL;
	size_t len;

	device_ident_init(id);
	snprintf(path, sizeof path, "tests/fixtures/%s/shelly.json", dir);
	body = fixture_slurp(path, &len);
	assert_int_equal(shelly_parse_ident(body, len, id, &cause), 0);
	free(body);
	device_status_init(st);
	snprintf(path, sizeof path, "tests/fixtures/%s/%s", dir,
	    id->gen == 1 ? "status.json" : "Shelly.GetStatus.json");
	body = fixture_slurp(path, &len);
	assert_int_equal(id->gen == 1 ? gen1_parse_status(body, len, st, &cause)
	                              : gen2_parse_status(body, len, st, &cause),
	    0);
	free(body);
}

/* The capture: an EM Mini Gen4 running 2.0.0-beta1 offered 1.7.0-miniemg4prod0 as stable. */
static void
test_capture_downgrade(void **state)
{
	struct device_ident id;
	struct device_status st;

	(void)state;
	capture("gen4/em-mini-gen4", &id, &st);
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

/* Every Gen1 firmware id in tests/fixtures (fw, update.new_version/old_version/beta_version). */
static const char *const gen1_ids[] = {
    "20190821-095337/v1.5.2@4148d2b7",
    "20191127-095910/v1.5.6@0d769d69",
    "20200527-142209/v1.7.0-rc8@6f7ea363",
    "20220209-092750/v1.11.8-g8c7bb8d",
    "20230913-111548/v1.14.0-gcb84623",
    "20230913-114008/v1.14.0-gcb84623",
    "20230913-131259/v1.14.0-gcb84623",
    "20231107-162243/v1.14.1-rc1-g0617c15",
    "20231107-165239/v1.14.1-rc1-g0617c15",
    "20231206-112335/v1.14.1-rc1-2-g6f199f940",
    "20240619-130804/v2.2.4@ee290818",
    "20240619-130912/v2.2.4@ee290818",
    "20241106-105233/v1.14.1-rc1-6-gfb43488e8",
    "20241106-105424/v1.14.1-rc1-6-gfb43488e8",
    "20241106-112220/v1.14.1-rc1-6-gfb43488e8",
};
static const char *const gen1_versions[] = {
    "1.5.2",
    "1.5.6",
    "1.7.0-rc8",
    "1.11.8",
    "1.14.0",
    "1.14.0",
    "1.14.0",
    "1.14.1-rc1",
    "1.14.1-rc1",
    "1.14.1-rc1",
    "2.2.4",
    "2.2.4",
    "1.14.1-rc1",
    "1.14.1-rc1",
    "1.14.1-rc1",
};

static void
test_gen1_ids(void **state)
{
	char v[DEV_FW_LEN];

	(void)state;
	assert_int_equal(
	    sizeof gen1_ids / sizeof gen1_ids[0], sizeof gen1_versions / sizeof gen1_versions[0]);
	for (size_t i = 0; i < sizeof gen1_ids / sizeof gen1_ids[0]; i++) {
		assert_int_equal(device_fw_version(gen1_ids[i], v, sizeof v), 0);
		assert_string_equal(v, gen1_versions[i]);
		same(gen1_ids[i], gen1_ids[i]);
	}
	/* the one id of the captures without a version: unknown, never guessed */
	assert_int_equal(fwver_newer("20220209-092750/v1.11.8-g8c7bb8d",
	                     "20191217-140757/1047-long-id-for-shelly-devices@a0661583"),
	    -1);
}

/* Builds of one version (all 1.14.1-rc1): the build stamp decides, the describe count ties. */
static void
test_gen1_builds(void **state)
{
	(void)state;
	/* the shelly-vintage capture: runs the -2- build, offered the later -6- build */
	older(
	    "20231206-112335/v1.14.1-rc1-2-g6f199f940", "20241106-105233/v1.14.1-rc1-6-gfb43488e8");
	/* its beta is an earlier build of the same rc */
	older("20231107-162609/v1.14.1-rc1-g0617c15", "20231206-112335/v1.14.1-rc1-2-g6f199f940");
	/* one stamp, the describe count */
	older(
	    "20241106-105233/v1.14.1-rc1-2-g6f199f940", "20241106-105233/v1.14.1-rc1-6-gfb43488e8");
	older("20241106-105233/v1.14.1-rc1-g6f199f940", "20241106-105233/v1.14.1-rc1-1-gfb43488e8");
	/* the version still comes first: a later stamp of an older version is older */
	older("20241106-105233/v1.14.0-gcb84623", "20231107-162609/v1.14.1-rc1-g0617c15");
	/* without a stamp on both sides, equal versions are the same */
	same("1.14.1-rc1", "20241106-105233/v1.14.1-rc1-6-gfb43488e8");
	same("1.4.4", "20241011-114455/1.4.4-3-g6d2a586");
}

/* The capture: a Gen1 offered a later build of the rc it runs; that is an update. */
static void
test_capture_gen1_build(void **state)
{
	struct device_ident id;
	struct device_status st;

	(void)state;
	capture("gen1/shelly-vintage", &id, &st);
	fwver_check_offer(&st, id.fw);
	assert_int_equal(st.sys.update_available, 1);
	assert_string_equal(st.sys.update_version, "1.14.1-rc1");
	assert_string_equal(st.sys.update_fw, "20241106-105233/v1.14.1-rc1-6-gfb43488e8");
	assert_string_equal(st.sys.beta_version, ""); /* an earlier build */
	device_status_done(&st);

	/* the reply's update.old_version is what runs, whatever was stored (here a later id) */
	capture("gen1/shelly-vintage", &id, &st);
	assert_string_equal(st.sys.running_fw, "20231206-112335/v1.14.1-rc1-2-g6f199f940");
	fwver_check_offer(&st, "20241106-112220/v1.14.1-rc1-6-gfb43488e8");
	assert_int_equal(st.sys.update_available, 1);
	device_status_done(&st);
}

/* What a device runs: its ver when its fw_id has no version (Gen2+ dev builds). */
static void
test_running(void **state)
{
	static const char *const dev[][2] = {
	    {"gen2/pro-dimmer-0-1-10v-pm", "1.4.99-dev111444"},
	    {"gen3/3em-63-gen3", "1.4.99-dev111396"},
	    {"gen4/power-strip-gen4", "1.7.99-powerstripg4prod1"},
	};
	struct device_ident id;
	struct device_status st;

	(void)state;
	assert_string_equal(fwver_running("20241113-122729/gbbb762d", "1.4.99-dev111444"),
	    "1.4.99-dev111444");
	/* the id reads as the same version: the id, whose stamp tells builds apart */
	assert_string_equal(fwver_running("20231206-112335/v1.14.1-rc1-2-g6f199f940", "1.14.1-rc1"),
	    "20231206-112335/v1.14.1-rc1-2-g6f199f940");
	assert_string_equal(fwver_running("20241011-114455/1.4.4-g6d2a586", ""),
	    "20241011-114455/1.4.4-g6d2a586");
	assert_string_equal(fwver_running("20241011-114455/1.4.4-g6d2a586", NULL),
	    "20241011-114455/1.4.4-g6d2a586");
	for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
		capture(dev[i][0], &id, &st);
		assert_string_equal(id.fw_version, dev[i][1]);
		/* offered stable 1.4.4 (the tester's offer): a downgrade, dropped */
		st.sys.update_available = 1;
		snprintf(st.sys.update_version, sizeof st.sys.update_version, "1.4.4");
		fwver_check_offer(&st, id.fw); /* the fw_id alone cannot tell */
		assert_int_equal(st.sys.update_available, 1);
		fwver_check_offer(&st, fwver_running(id.fw, id.fw_version));
		assert_int_equal(st.sys.update_available, 0);
		assert_string_equal(st.sys.update_version, "");
		device_status_done(&st);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_newer),
	    cmocka_unit_test(test_capture_downgrade),
	    cmocka_unit_test(test_gen1_ids),
	    cmocka_unit_test(test_gen1_builds),
	    cmocka_unit_test(test_capture_gen1_build),
	    cmocka_unit_test(test_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
