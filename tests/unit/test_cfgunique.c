/* engine/cfgunique: a value that must differ per device, given to two devices of a run, refuses
 * both and no other; MQTT ids compare case-sensitively; an empty value or a device left out
 * (NULL) is no clash; another registered device's desired value or current address clashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/cfgunique.h"
#include "model/devconfig.h"

static void
check_run(void **state)
{
	struct devconfig c[5];
	const struct devconfig *d[6];
	char *why[6];

	(void)state;
	for (int i = 0; i < 5; i++) {
		devconfig_init(&c[i]);
		d[i] = &c[i];
	}
	devconfig_set(&c[0], DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, "10.0.0.5");
	devconfig_set(&c[1], DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, "10.0.0.5");
	devconfig_set(&c[2], DCFG_MQTT_CLIENT_ID, -1, DEVCONFIG_VALUE, "Lamp");
	devconfig_set(&c[3], DCFG_MQTT_CLIENT_ID, -1, DEVCONFIG_VALUE, "lamp");
	devconfig_set(&c[4], DCFG_MQTT_TOPIC_PREFIX, -1, DEVCONFIG_VALUE, "");
	devconfig_set(&c[3], DCFG_MQTT_TOPIC_PREFIX, -1, DEVCONFIG_VALUE, "");
	d[5] = NULL;
	assert_int_equal(cfgunique_check(d, 6, why), 2);
	assert_non_null(why[0]);
	assert_non_null(strstr(why[0], "wifi.sta.ip: 10.0.0.5 would be given to 2 devices"));
	assert_non_null(why[1]);
	for (int i = 2; i < 6; i++)
		assert_null(why[i]);
	free(why[0]);
	free(why[1]);
	d[1] = NULL; /* the second one left out: no clash */
	assert_int_equal(cfgunique_check(d, 6, why), 0);
	for (int i = 0; i < 5; i++)
		devconfig_done(&c[i]);
}

static void
check_other(void **state)
{
	struct devconfig want, other;
	char *why;

	(void)state;
	devconfig_init(&want);
	devconfig_init(&other);
	devconfig_set(&want, DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, "10.0.0.7");
	devconfig_set(&other, DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, "10.0.0.8");
	assert_null(cfgunique_clash(&want, &other, "b"));
	devconfig_set(&other, DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, "10.0.0.7");
	why = cfgunique_clash(&want, &other, "b");
	assert_non_null(why);
	assert_non_null(
	    strstr(why, "10.0.0.7 is the desired value of another registered device (b)"));
	free(why);
	assert_null(cfgunique_taken(&want, "10.0.0.70", "c"));
	assert_null(cfgunique_taken(&other, NULL, "c"));
	why = cfgunique_taken(&want, "10.0.0.7", "c");
	assert_non_null(why);
	assert_non_null(strstr(why, "current address of another registered device (c)"));
	free(why);
	devconfig_done(&want);
	devconfig_done(&other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_run),
	    cmocka_unit_test(check_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
