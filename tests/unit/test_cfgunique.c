/* engine/cfgunique: a value that must differ per device, given to two devices of a run, refuses
 * both and no other; MQTT ids compare case-sensitively; an empty value or a device left out
 * (NULL) is no clash; another registered device's desired value or current address clashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgholders.h"
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

/* A generated registry: device i has an address, an MQTT id and a prefix from small pools. */
#define NGEN 400

struct gen {
	char mac[NGEN][16], label[NGEN][16], host[NGEN][24];
	int has_host[NGEN];
	struct devconfig desired[NGEN];
};

static unsigned
rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

static void
gen_config(struct devconfig *c, unsigned *seed)
{
	char v[32];

	devconfig_init(c);
	if (rnd(seed) % 3 == 0) {
		snprintf(v, sizeof v, "10.0.%u.%u", rnd(seed) % 2, rnd(seed) % 200);
		devconfig_set(c, DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, v);
	}
	if (rnd(seed) % 3 == 0) {
		snprintf(v, sizeof v, "id-%u", rnd(seed) % 300);
		devconfig_set(c, DCFG_MQTT_CLIENT_ID, -1, DEVCONFIG_VALUE, v);
	}
	if (rnd(seed) % 4 == 0) {
		snprintf(v, sizeof v, "p/%u", rnd(seed) % 300);
		devconfig_set(c, DCFG_MQTT_TOPIC_PREFIX, -1, DEVCONFIG_VALUE, v);
	}
}

/* What the queue checked before: every other device in turn, its address then its desired. */
static char *
reference(struct gen *g, const char *mac, const struct devconfig *want)
{
	char *why = NULL;

	for (size_t i = 0; why == NULL && i < NGEN; i++) {
		if (strcmp(g->mac[i], mac) == 0)
			continue;
		why = cfgunique_taken(want, g->has_host[i] ? g->host[i] : NULL, g->label[i]);
		if (why == NULL)
			why = cfgunique_clash(want, &g->desired[i], g->label[i]);
	}
	return why;
}

/* The hashed check gives what the pairwise one gave, change for change, on a generated set. */
static void
holders_same_as_pairwise(void **state)
{
	static struct gen g;
	struct cfgholders *h = cfgholders_new();
	unsigned seed = 7;
	size_t refused = 0;

	(void)state;
	for (size_t i = 0; i < NGEN; i++) {
		snprintf(g.mac[i], sizeof g.mac[i], "a0b0c0%06zx", i);
		snprintf(g.label[i], sizeof g.label[i], "dev%zu", i);
		snprintf(
		    g.host[i], sizeof g.host[i], "10.0.%u.%u", rnd(&seed) % 2, rnd(&seed) % 200);
		g.has_host[i] = rnd(&seed) % 5 != 0;
		gen_config(&g.desired[i], &seed);
		cfgholders_add(
		    h, g.mac[i], g.label[i], g.has_host[i] ? g.host[i] : NULL, &g.desired[i]);
	}
	for (size_t k = 0; k < 2000; k++) {
		struct devconfig want;
		const char *mac = g.mac[rnd(&seed) % NGEN];
		char *ref, *why;
		enum cfgholders_verdict v;
		gen_config(&want, &seed);
		ref = reference(&g, mac, &want);
		v = cfgholders_check(h, mac, &want, &why);
		if ((ref == NULL) != (why == NULL) || (ref != NULL && strcmp(ref, why) != 0)) {
			print_error("change %zu for %s: pairwise \"%s\", hashed \"%s\"\n", k, mac,
			    ref ? ref : "(none)", why ? why : "(none)");
			fail();
		}
		assert_int_equal(v, ref != NULL ? CFGH_REFUSED : CFGH_FREE);
		refused += ref != NULL;
		free(ref);
		free(why);
		devconfig_done(&want);
	}
	assert_true(refused > 100 && refused < 1900); /* the set has both */
	for (size_t i = 0; i < NGEN; i++)
		devconfig_done(&g.desired[i]);
	cfgholders_free(h);
}

static void
ip(struct devconfig *c, const char *addr)
{
	devconfig_init(c);
	devconfig_set(c, DCFG_WIFI_STA_IP, -1, DEVCONFIG_VALUE, addr);
}

static enum cfgholders_verdict
check_ip(struct cfgholders *h, const char *mac, const char *addr, const char *expect)
{
	struct devconfig want;
	enum cfgholders_verdict v;
	char *why;

	ip(&want, addr);
	v = cfgholders_check(h, mac, &want, &why);
	if (expect == NULL)
		assert_null(why);
	else if (why == NULL || strstr(why, expect) == NULL) {
		print_error(
		    "%s to %s: \"%s\", expected \"%s\"\n", mac, addr, why ? why : "(none)", expect);
		fail();
	}
	free(why);
	devconfig_done(&want);
	return v;
}

static void
queue_ip(struct cfgholders *h, const char *mac, const char *addr)
{
	struct devconfig q;

	ip(&q, addr);
	cfgholders_queued(h, mac, &q);
	devconfig_done(&q);
}

/*
 * A queued move onto the address of a device whose own queued move frees it waits, in either
 * order, and is free once that device moved; a chain waits the same way; a swap (a cycle)
 * and a chain ending at a device that stays are refused; two queued changes giving one
 * address refuse each other.
 */
static void
holders_moves(void **state)
{
	struct cfgholders *h = cfgholders_new();

	(void)state;
	cfgholders_add(h, "000000000001", "a", "10.0.0.1", NULL);
	cfgholders_add(h, "000000000002", "b", "10.0.0.2", NULL);
	cfgholders_add(h, "000000000003", "c", "10.0.0.3", NULL);
	cfgholders_add(h, "000000000004", "d", "10.0.0.4", NULL);
	/* a -> b's address, b -> a free one: b first, then a */
	queue_ip(h, "000000000001", "10.0.0.2");
	queue_ip(h, "000000000002", "10.0.0.9");
	assert_int_equal(check_ip(h, "000000000001", "10.0.0.2",
	                     "(b), whose queued change moves "
	                     "it off first"),
	    CFGH_WAIT);
	assert_int_equal(check_ip(h, "000000000002", "10.0.0.9", NULL), CFGH_FREE);
	cfgholders_moved(h, "000000000002", "10.0.0.9");
	cfgholders_queued(h, "000000000002", NULL);
	assert_int_equal(check_ip(h, "000000000001", "10.0.0.2", NULL), CFGH_FREE);
	/* a chain: c -> d's address, d -> a's, a -> .2 (free since b moved) */
	queue_ip(h, "000000000003", "10.0.0.4");
	queue_ip(h, "000000000004", "10.0.0.1"); /* a's, and a moves to .2, which is free */
	assert_int_equal(
	    check_ip(h, "000000000003", "10.0.0.4", "(d), whose queued change"), CFGH_WAIT);
	assert_int_equal(
	    check_ip(h, "000000000004", "10.0.0.1", "(a), whose queued change"), CFGH_WAIT);
	/* a swap: a -> c's, c -> a's */
	queue_ip(h, "000000000001", "10.0.0.3");
	queue_ip(h, "000000000003", "10.0.0.1");
	cfgholders_queued(h, "000000000004", NULL);
	assert_int_equal(
	    check_ip(h, "000000000001", "10.0.0.3", "temporary address"), CFGH_REFUSED);
	assert_int_equal(
	    check_ip(h, "000000000003", "10.0.0.1", "temporary address"), CFGH_REFUSED);
	/* a chain ending at d, which stays */
	queue_ip(h, "000000000003", "10.0.0.4");
	assert_int_equal(check_ip(h, "000000000001", "10.0.0.3",
	                     "(c), whose queued move cannot be made: 10.0.0.4 is the current "
	                     "address of d, which stays"),
	    CFGH_REFUSED);
	assert_int_equal(check_ip(h, "000000000003", "10.0.0.4",
	                     "10.0.0.4 is the current address of another registered device (d)"),
	    CFGH_REFUSED);
	/* two queued changes ending on one free address */
	queue_ip(h, "000000000001", "10.0.0.50");
	queue_ip(h, "000000000003", "10.0.0.50");
	assert_int_equal(check_ip(h, "000000000001", "10.0.0.50",
	                     "10.0.0.50 is the queued value of another registered device (c)"),
	    CFGH_REFUSED);
	cfgholders_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_run),
	    cmocka_unit_test(check_other),
	    cmocka_unit_test(holders_same_as_pairwise),
	    cmocka_unit_test(holders_moves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
