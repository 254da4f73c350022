/* engine/cfgpeers: a change is checked against the other registered devices, as every front end
 * checks it: another device's current address or desired value is refused, the device's own is
 * not; a run refuses what two of its devices would share first; without a database nothing is
 * registered to clash with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgdesired.h"
#include "engine/cfgpeers.h"
#include "model/devconfig.h"
#include "store/store.h"

/* Registers device i at 10.0.0.(i + 1), named dev<i>, its desired client id cid (NULL: none). */
static void
add(struct store *st, int i, const char *cid)
{
	struct store_device d;
	char id[32], name[16], host[16];
	char *cause = NULL;

	memset(&d, 0, sizeof d);
	snprintf(d.mac, sizeof d.mac, "aabb0000000%d", i);
	snprintf(id, sizeof id, "shellyplus1pm-aabb0000000%d", i);
	snprintf(name, sizeof name, "dev%d", i);
	snprintf(host, sizeof host, "10.0.0.%d", i + 1);
	d.id = id;
	d.name = name;
	d.host = host;
	d.gen = 2;
	d.model = "SNSW-001P16EU";
	assert_int_equal(store_device_upsert(st, &d, &cause), 0);
	if (cid != NULL) {
		struct devconfig c;
		devconfig_init(&c);
		devconfig_set(&c, DCFG_MQTT_CLIENT_ID, -1, DEVCONFIG_VALUE, cid);
		assert_int_equal(cfgdesired_remember(st, d.mac, &c, &cause), 0);
		devconfig_done(&c);
	}
}

static void
want(struct devconfig *c, enum devconfig_field f, const char *v)
{
	devconfig_init(c);
	devconfig_set(c, f, -1, DEVCONFIG_VALUE, v);
}

/* Why the run of one device mac (NULL: not registered) giving want is refused, or NULL. */
static char *
one(struct store *st, const char *mac, const struct devconfig *want)
{
	const struct devconfig *d[1] = {want};
	const char *macs[1] = {mac};
	char *why[1];
	size_t refused = cfgpeers_check_run(st, d, macs, 1, why);

	assert_int_equal(refused, why[0] != NULL);
	return why[0];
}

static void
check_peers(void **state)
{
	struct store *st;
	struct devconfig ip, cid, own, free_ip;
	char *cause = NULL, *why = NULL;

	(void)state;
	assert_int_equal(store_open(":memory:", &st, &cause), 0);
	add(st, 0, NULL);
	add(st, 1, "kitchen");
	want(&ip, DCFG_WIFI_STA_IP, "10.0.0.2");
	want(&cid, DCFG_MQTT_CLIENT_ID, "kitchen");
	want(&own, DCFG_WIFI_STA_IP, "10.0.0.1");
	want(&free_ip, DCFG_WIFI_STA_IP, "10.0.0.50");
	why = one(st, "aabb00000000", &ip);
	assert_non_null(why);
	assert_non_null(strstr(why, "10.0.0.2 is the current address of another registered "
	                            "device (dev1)"));
	free(why);
	why = one(st, "aabb00000000", &cid);
	assert_non_null(why);
	assert_non_null(strstr(why, "kitchen is the desired value of another registered device "
	                            "(dev1)"));
	free(why);
	/* A device's own address and own desired value are no clash; nor is a free address. */
	assert_null(one(st, "aabb00000000", &own));
	assert_null(one(st, "aabb00000001", &cid));
	assert_null(one(st, "aabb00000000", &free_ip));
	/* A device the registry does not know is checked against every registered one. */
	why = one(st, NULL, &own);
	assert_non_null(why);
	free(why);
	/* No database: nothing registered. */
	assert_null(one(NULL, "aabb00000000", &ip));
	devconfig_done(&ip);
	devconfig_done(&cid);
	devconfig_done(&own);
	devconfig_done(&free_ip);
	store_free(st);
}

static void
check_run(void **state)
{
	struct store *st;
	struct devconfig c[3];
	const struct devconfig *d[4];
	const char *macs[4] = {"aabb00000000", "aabb00000002", "aabb00000003", "aabb00000004"};
	char *why[4], *cause = NULL;

	(void)state;
	assert_int_equal(store_open(":memory:", &st, &cause), 0);
	add(st, 0, NULL);
	add(st, 1, "kitchen");
	want(&c[0], DCFG_MQTT_CLIENT_ID, "hall"); /* two of the run: both refused */
	want(&c[1], DCFG_MQTT_CLIENT_ID, "hall");
	want(&c[2], DCFG_MQTT_CLIENT_ID, "kitchen"); /* dev1's desired value */
	d[0] = &c[0];
	d[1] = &c[1];
	d[2] = &c[2];
	d[3] = NULL; /* not part of the run */
	assert_int_equal(cfgpeers_check_run(st, d, macs, 4, why), 3);
	assert_non_null(strstr(why[0], "hall would be given to 2 devices of this run"));
	assert_non_null(strstr(why[1], "hall would be given to 2 devices of this run"));
	assert_non_null(strstr(why[2], "desired value of another registered device (dev1)"));
	assert_null(why[3]);
	for (int i = 0; i < 3; i++) {
		free(why[i]);
		devconfig_done(&c[i]);
	}
	store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_peers),
	    cmocka_unit_test(check_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
