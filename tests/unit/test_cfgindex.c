/* engine/cfgdesired: ${index} is the device's position in its group (MAC order), the same for
 * the command line and the console, which both leave it to the engine (vars.index NULL); and
 * the layers of what is desired, alike with and without a cache of templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>

#include "engine/cfgdesired.h"
#include "engine/tmplcache.h"
#include "store/cfgstore.h"
#include "store/store.h"

static const char *const macs[] = {"0000000000a1", "0000000000b2", "0000000000c3", "0000000000d4"};
static char dir[64], path[96], tmpl[96];

static struct store *
open_store(void)
{
	struct store *s = NULL;
	struct store_device d;
	char *cause = NULL;
	/* Added out of MAC order: the index follows the MACs, not the order of --group-add. */
	const char *members[] = {macs[2], macs[0], macs[1]};
	FILE *fp;

	snprintf(dir, sizeof dir, "/tmp/test_cfgindex.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	snprintf(tmpl, sizeof tmpl, "%s/office.tmpl", dir);
	if (store_open(path, &s, &cause) != 0)
		fail_msg("%s", cause);
	for (size_t i = 0; i < 4; i++) {
		memset(&d, 0, sizeof d);
		memcpy(d.mac, macs[i], 13);
		d.gen = 2;
		assert_int_equal(store_device_upsert(s, &d, &cause), 0);
	}
	assert_int_equal(cfgstore_group_add(s, "office", members, 3, &cause), 0);
	assert_non_null(fp = fopen(tmpl, "w"));
	fputs("sntp.server = ntp${index}.lan\n", fp);
	fclose(fp);
	assert_int_equal(cfgstore_group_template(s, "office", tmpl, &cause), 0);
	return s;
}

static int
remove_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Closes the store and removes its directory (database, WAL, template). */
static void
close_store(struct store *s)
{
	store_free(s);
	nftw(dir, remove_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_index_in_group(void **state)
{
	struct store *s = open_store();
	struct tmplcache *c = tmplcache_new();
	char buf[24], *cause = NULL;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char want[8];
		snprintf(want, sizeof want, "%zu", i + 1);
		assert_int_equal(
		    tmplcache_index(c, s, "office", macs[i], buf, sizeof buf, &cause), 1);
		assert_string_equal(buf, want);
	}
	strcpy(buf, "x");
	assert_int_equal(tmplcache_index(c, s, "office", macs[3], buf, sizeof buf, &cause), 0);
	assert_string_equal(buf, "x");
	assert_int_equal(tmplcache_index(c, s, "nosuch", macs[0], buf, sizeof buf, &cause), 0);
	tmplcache_free(c);
	close_store(s);
}

static void
test_stored_and_drift(void **state)
{
	struct store *s = open_store();
	struct devconfig_vars v;
	struct devconfig want;
	const struct devconfig_entry *e;
	char *cause = NULL, body[64];

	(void)state;
	/* Each member configured as the CLI's --apply @office leaves it. */
	for (size_t i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "sntp.server = ntp%zu.lan\n", i + 1);
		assert_int_equal(
		    cfgstore_snapshot_add(s, macs[i], 1000, 2, 0, 0, "test", body, &cause), 0);
	}
	memset(&v, 0, sizeof v);
	for (size_t i = 0; i < 3; i++) {
		v.mac = macs[i];
		assert_int_equal(cfgdesired_drift(s, macs[i], &v), 0); /* as the console asks */
	}
	v.mac = macs[2];
	devconfig_init(&want);
	assert_int_equal(cfgdesired_stored(s, macs[2], NULL, &v, &want, &cause), 0);
	assert_non_null(e = devconfig_get(&want, DCFG_SNTP_SERVER, -1));
	assert_string_equal(e->value, "ntp3.lan");
	devconfig_done(&want);
	/* A fixed index (what the console used to pass) drifts for all but the first. */
	v.index = "1";
	v.mac = macs[1];
	assert_int_equal(cfgdesired_drift(s, macs[1], &v), 1);
	close_store(s);
}

/* What cfgdesired_stored says (0, the SNTP server, or -1 and the cause), with or without cache. */
static int
stored_sntp(struct store *s, struct tmplcache *c, char *buf, size_t size)
{
	struct devconfig_vars v = {.mac = macs[0]};
	struct devconfig want;
	const struct devconfig_entry *e;
	char *cause = NULL;
	int rc;

	devconfig_init(&want);
	rc = c != NULL ? cfgdesired_stored_cached(s, c, macs[0], NULL, &v, &want, &cause)
	               : cfgdesired_stored(s, macs[0], NULL, &v, &want, &cause);
	e = devconfig_get(&want, DCFG_SNTP_SERVER, -1);
	snprintf(buf, size, "%s", rc != 0 ? cause : e != NULL ? e->value : "(none)");
	free(cause);
	devconfig_done(&want);
	return rc;
}

/*
 * The layers (device over group over template) and the causes of a group's broken fields and
 * of a missing template file: the same with a cache and without one.
 */
static void
test_stored_layers(void **state)
{
	struct store *s = open_store();
	struct tmplcache *c;
	char key[96], got[512], cached[512], want[512], *cause = NULL;

	(void)state;
	cfgdesired_group_key("office", key, sizeof key);
	assert_int_equal(stored_sntp(s, NULL, got, sizeof got), 0);
	assert_string_equal(got, "ntp1.lan"); /* the template */
	assert_int_equal(store_setting_set(s, key, "sntp.server = group.lan\n", &cause), 0);
	assert_int_equal(stored_sntp(s, NULL, got, sizeof got), 0);
	assert_string_equal(got, "group.lan");
	assert_int_equal(cfgstore_desired_set(s, macs[0], "sntp.server = own.lan\n", &cause), 0);
	assert_int_equal(stored_sntp(s, NULL, got, sizeof got), 0);
	assert_string_equal(got, "own.lan");
	assert_int_equal(store_setting_set(s, key, "sntp.server\n", &cause), 0);
	assert_int_equal(stored_sntp(s, NULL, got, sizeof got), -1);
	assert_non_null(strstr(got, "group office: "));
	c = tmplcache_new();
	assert_int_equal(stored_sntp(s, c, cached, sizeof cached), -1);
	assert_string_equal(cached, got);
	tmplcache_free(c);
	assert_int_equal(store_setting_set(s, key, NULL, &cause), 0);
	assert_int_equal(remove(tmpl), 0);
	assert_int_equal(stored_sntp(s, NULL, got, sizeof got), -1);
	snprintf(want, sizeof want, "group office: template %s cannot be read: %s: %s", tmpl, tmpl,
	    strerror(ENOENT));
	assert_string_equal(got, want);
	c = tmplcache_new();
	assert_int_equal(stored_sntp(s, c, cached, sizeof cached), -1);
	assert_string_equal(cached, got);
	tmplcache_free(c);
	close_store(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_in_group),
	    cmocka_unit_test(test_stored_and_drift),
	    cmocka_unit_test(test_stored_layers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
