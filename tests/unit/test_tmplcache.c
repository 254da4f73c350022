/* engine/tmplcache: a drift recomputation over many devices of one group reads the group's
 * template once; an edit of the template, or of the group's own fields, is picked up on the
 * next pass; ${index} comes from the members read once; a missing template is an error for
 * every member, not a crash; a file that is not text or too large is refused as
 * cfgdesired_template_load refuses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cfgdesired.h"
#include "engine/tmplcache.h"
#include "exchange/cfgdoc.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"

#define NDEV 300

static char dir[64], db[96], tdir[128], tfile[160];
static char macs[NDEV][13];

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static struct store *
fleet(void)
{
	struct store *s = NULL;
	struct store_device d;
	const char *members[NDEV];
	char *cause = NULL, sub[128];

	snprintf(dir, sizeof dir, "/tmp/test_tmplcache.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/s.db", dir);
	snprintf(sub, sizeof sub, "%s/shelly-tui", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(tdir, sizeof tdir, "%s/shelly-tui/templates", dir);
	assert_int_equal(mkdir(tdir, 0700), 0);
	snprintf(tfile, sizeof tfile, "%s/base.tmpl", tdir);
	setenv("XDG_CONFIG_HOME", dir, 1);
	write_file(tfile, "sys.timezone = America/Chicago\n");
	if (store_open(db, &s, &cause) != 0)
		fail_msg("%s", cause);
	for (int i = 0; i < NDEV; i++) {
		memset(&d, 0, sizeof d);
		snprintf(macs[i], sizeof macs[i], "a0b0c0d0%04x", i);
		memcpy(d.mac, macs[i], 13);
		d.id = macs[i];
		d.gen = 2;
		assert_int_equal(store_device_upsert(s, &d, &cause), 0);
		members[i] = macs[i];
	}
	assert_int_equal(cfgstore_group_add(s, "g", members, NDEV, &cause), 0);
	assert_int_equal(cfgstore_group_template(s, "g", "base", &cause), 0);
	for (int i = 0; i < NDEV; i++)
		assert_int_equal(cfgstore_snapshot_add(s, macs[i], 1000, 2, 1, 1, "read",
		                     "sys.timezone = UTC\nsys.name = x\n", &cause),
		    0);
	return s;
}

static void
cleanup(struct store *s)
{
	char p[200];

	store_free(s);
	unlink(tfile);
	rmdir(tdir);
	snprintf(p, sizeof p, "%s/shelly-tui", dir);
	rmdir(p);
	unlink(db);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
	rmdir(dir);
}

/* One recomputation: every member's drift; all members must agree. */
static int
recompute(struct store *s, struct tmplcache *c)
{
	int first = 0;

	tmplcache_pass(c, store_data_version(s));
	for (int i = 0; i < NDEV; i++) {
		struct devconfig_vars v = {.mac = macs[i], .id = macs[i]}; /* index: the group's */
		int n = cfgdesired_drift_cached(s, c, macs[i], &v);
		if (i == 0)
			first = n;
		assert_int_equal(n, first);
		/* The cached answer is the uncached one. */
		if (i % 97 == 0)
			assert_int_equal(n, cfgdesired_drift(s, macs[i], &v));
	}
	return first;
}

static void
test_reads_once(void **state)
{
	struct store *s = fleet();
	struct tmplcache *c = tmplcache_new();
	char *cause = NULL;

	(void)state;
	assert_int_equal(recompute(s, c), 1); /* timezone differs */
	assert_int_equal(tmplcache_reads(c), 1);
	/* ${index} from the cache: the position among the members by MAC (macs[] is in MAC
	 * order, every one a member). */
	for (int i = 0; i < NDEV; i += 37) {
		char a[24] = "", b[24] = "";
		assert_int_equal(tmplcache_index(c, s, "g", macs[i], a, sizeof a, &cause), 1);
		snprintf(b, sizeof b, "%d", i + 1);
		assert_string_equal(a, b);
	}
	{
		char a[24] = "";
		assert_int_equal(
		    tmplcache_index(c, s, "g", "ffffffffffff", a, sizeof a, &cause), 0);
	}
	/* Nothing changed: the file is checked, not read again. */
	assert_int_equal(recompute(s, c), 1);
	assert_int_equal(tmplcache_reads(c), 1);

	assert_int_equal(tmplcache_changed(c), 0);

	/* An edit of the template is seen without a pass, and picked up on the next, read once. */
	write_file(tfile, "sys.timezone = UTC\n");
	assert_int_equal(tmplcache_changed(c), 1);
	assert_int_equal(recompute(s, c), 0);
	assert_int_equal(tmplcache_reads(c), 2);
	assert_int_equal(tmplcache_changed(c), 0);

	/* The group's own fields (the store moved) are picked up too. */
	assert_int_equal(store_setting_set(s, "config-group:g", "sys.name = y\n", &cause), 0);
	assert_int_equal(recompute(s, c), 1);
	assert_int_equal(tmplcache_reads(c), 2);

	/* A file of the same size put in its place (another inode) is read again. */
	assert_int_equal(store_setting_set(s, "config-group:g", "", &cause), 0);
	{
		char tmp[200];
		snprintf(tmp, sizeof tmp, "%s/new.tmp", tdir);
		write_file(tmp, "sys.timezone = UTC\n");
		assert_int_equal(rename(tmp, tfile), 0);
	}
	assert_int_equal(recompute(s, c), 0);
	assert_int_equal(tmplcache_reads(c), 3);

	/* A missing template: unknown drift for every member, one failed open per pass. */
	assert_int_equal(unlink(tfile), 0);
	assert_int_equal(recompute(s, c), -2);
	assert_int_equal(tmplcache_reads(c), 3);
	tmplcache_free(c);
	cleanup(s);
}

/* A provisioning task's template is checked when the task is made: it must read and fit. */
static void
test_template_check(void **state)
{
	char d[] = "/tmp/test_tmplcache_check.XXXXXX", p[160], big[2048], *cause = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(d));
	setenv("XDG_CONFIG_HOME", d, 1);
	snprintf(p, sizeof p, "%s/shelly-tui", d);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/shelly-tui/templates", d);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/shelly-tui/templates/ok.tmpl", d);
	write_file(p, "sys.timezone = UTC\nmqtt.pass = S3cret\n");
	assert_int_equal(cfgdesired_template_check("ok", 2, &cause), 0);
	assert_int_equal(cfgdesired_template_check("ok", 1, &cause), -1);
	assert_string_equal(cause, "template ok: 2 fields, more than the 1 a provisioning task carries");
	free(cause);
	cause = NULL;
	unlink(p);
	for (int i = 0; i < 41; i++)
		len += (size_t)snprintf(big + len, sizeof big - len, "switch:%d.name = s%d\n", i, i);
	snprintf(p, sizeof p, "%s/shelly-tui/templates/big.tmpl", d);
	write_file(p, big);
	assert_int_equal(cfgdesired_template_check("big", 41, &cause), 0);
	assert_int_equal(cfgdesired_template_check("big", 40, &cause), -1);
	assert_non_null(strstr(cause, "41 fields, more than the 40"));
	free(cause);
	cause = NULL;
	unlink(p);
	assert_int_equal(cfgdesired_template_check("nosuch", 40, &cause), -1);
	assert_non_null(strstr(cause, "nosuch.tmpl"));
	free(cause);
	snprintf(p, sizeof p, "%s/shelly-tui/templates", d);
	rmdir(p);
	snprintf(p, sizeof p, "%s/shelly-tui", d);
	rmdir(p);
	rmdir(d);
}

/* The cause of a template that the cache and cfgdesired_template_load refuse: the same. */
static char *
refusal(const char *name, const char *want)
{
	struct tmplcache *c = tmplcache_new();
	struct devconfig cfg;
	char *cached = NULL, *direct = NULL;

	tmplcache_pass(c, 0);
	assert_null(tmplcache_template(c, name, &cached));
	assert_int_equal(tmplcache_reads(c), 1);
	assert_int_equal(cfgdesired_template_load(name, &cfg, &direct), -1);
	assert_string_equal(cached, direct);
	if (strstr(cached, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", cached, want);
	free(direct);
	tmplcache_free(c);
	return cached;
}

/* Template files that are not text, or too large, are refused naming the offset or the limit. */
static void
test_refusals(void **state)
{
	char d[] = "/tmp/test_tmplcache_ref.XXXXXX", p[160], want[200], *cause;
	const char nul[] = "sys.timezone = UTC\n\0x\n";
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(d));
	snprintf(p, sizeof p, "%s/nul.tmpl", d);
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(fwrite(nul, 1, sizeof nul - 1, fp), sizeof nul - 1);
	assert_int_equal(fclose(fp), 0);
	snprintf(want, sizeof want, "%s: NUL byte at offset 19: not a text file", p);
	free(refusal(p, want));
	unlink(p);
	snprintf(p, sizeof p, "%s/big.tmpl", d);
	assert_non_null(fp = fopen(p, "w"));
	for (size_t n = 0; n <= CFGDOC_TEXT_MAX; n += 20)
		fputs("# a comment line   \n", fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(want, sizeof want, "%s: larger than %d bytes", p, CFGDOC_TEXT_MAX);
	cause = refusal(p, want);
	assert_string_equal(cause, want);
	free(cause);
	unlink(p);
	rmdir(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_once),
	    cmocka_unit_test(test_template_check),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
