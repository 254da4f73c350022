/* engine/creds: one resolver for polling, actions and the registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "conf/conf.h"
#include "engine/creds.h"
#include "engine/engine.h"
#include "store/store.h"
#include "util/xmalloc.h"

struct got {
	int calls, rc;
	char user[32], password[64], cause[160];
	const char *source;
};

static void
done_cb(int rc, struct creds_found *f, const char *cause, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->rc = rc;
	snprintf(g->user, sizeof g->user, "%s", f->user ? f->user : "");
	snprintf(g->password, sizeof g->password, "%s", f->password ? f->password : "");
	snprintf(g->cause, sizeof g->cause, "%s", cause ? cause : "");
	g->source = f->source;
}

static struct creds_prompt *asked;
static int prompts;

static void
prompt_cb(struct creds_prompt *q, const char *user, const char *why, void *arg)
{
	(void)user;
	(void)why;
	(void)arg;
	prompts++;
	asked = q; /* answered later, as a console dialog would */
}

/* Writes a secret file; returns its "file:" reference (malloc'd). */
static char *
secret_file(char *path, const char *text)
{
	FILE *fp;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return xasprintf("file:%s", path);
}

static void
test_sources(void **state)
{
	char path[] = "/tmp/test_creds.XXXXXX";
	char *ref = secret_file(path, "s3cret\n");
	char *text = xasprintf("credentials default bob %s\n", ref);
	struct creds_opts o = { 0 };
	struct engine eng = { 0 };
	struct creds *c;
	struct store_device reg;
	struct creds_query q = { "a0b1c2d3e4f5", "shellyplus1-a0b1", NULL, 1, 1, NULL, 0 };
	struct got g = { 0 };
	char *cause = NULL;

	(void)state;
	eng.conf = conf_new();
	assert_int_equal(conf_load_buffer(eng.conf, "mem", text, strlen(text), &cause), 0);
	c = creds_new(&o);
	/* The configuration's default, Basic user kept for Gen1. */
	creds_resolve(c, &eng, &q, done_cb, &g);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.user, "bob");
	assert_string_equal(g.password, "s3cret");
	assert_string_equal(g.source, "config");
	/* Gen2+ is digest with the fixed user admin, whatever the configuration says. */
	q.gen = 2;
	creds_resolve(c, &eng, &q, done_cb, &g);
	assert_string_equal(g.user, "admin");
	/* The registered device's own reference wins; a missing file is an error, not silence. */
	memset(&reg, 0, sizeof reg);
	reg.cred_ref = "file:/nonexistent/test_creds";
	q.reg = &reg;
	creds_resolve(c, &eng, &q, done_cb, &g);
	assert_int_equal(g.rc, -1);
	assert_non_null(strstr(g.cause, "credentials not loaded"));
	assert_int_equal(creds_known(eng.conf, NULL, q.mac, NULL, NULL), 1);
	/* auth off: nothing goes out; no MAC: nothing goes out. */
	q.reg = NULL;
	q.auth_en = 0;
	creds_resolve(c, &eng, &q, done_cb, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.password, "");
	q.auth_en = 1;
	q.mac = "";
	creds_resolve(c, &eng, &q, done_cb, &g);
	assert_int_equal(g.rc, -1);
	assert_non_null(strstr(g.cause, "withheld"));
	creds_free(c);
	conf_free(eng.conf);
	unlink(path);
	free(ref);
	free(text);
}

static void
test_prompt_later(void **state)
{
	struct creds_opts o = { 0 };
	struct engine eng = { 0 };
	struct creds *c;
	struct creds_query q = { "a0b1c2d3e4f5", NULL, NULL, 2, 1, NULL, 0 };
	struct got g1 = { 0 }, g2 = { 0 };

	(void)state;
	unsetenv("SHELLY_TUI_PASSWORD");
	eng.conf = conf_new();
	o.prompt_cb = prompt_cb;
	c = creds_new(&o);
	creds_resolve(c, &eng, &q, done_cb, &g1);
	creds_resolve(c, &eng, &q, done_cb, &g2);
	assert_int_equal(prompts, 1); /* asked once for both */
	assert_int_equal(g1.calls + g2.calls, 0);
	creds_prompt_answer(asked, "typed");
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g2.calls, 1);
	assert_string_equal(g2.password, "typed");
	assert_string_equal(g2.source, "operator");
	/* Kept: no second prompt. */
	creds_resolve(c, &eng, &q, done_cb, &g1);
	assert_int_equal(prompts, 1);
	assert_string_equal(g1.password, "typed");
	/* Asked again (the answer was refused): a new prompt, the new answer replaces it. */
	creds_ask(c, 2, done_cb, &g1);
	assert_int_equal(prompts, 2);
	assert_int_equal(g1.calls, 2);
	creds_prompt_answer(asked, "retyped");
	assert_int_equal(g1.calls, 3);
	assert_string_equal(g1.password, "retyped");
	creds_resolve(c, &eng, &q, done_cb, &g2);
	assert_string_equal(g2.password, "retyped");
	/* A resolver freed while a prompt is open: the late answer is dropped. */
	creds_free(c);
	c = creds_new(&o);
	creds_resolve(c, &eng, &q, done_cb, &g1);
	assert_int_equal(prompts, 3);
	creds_free(c);
	creds_prompt_answer(asked, "late");
	assert_int_equal(g1.calls, 3);
	conf_free(eng.conf);
}

/* A stored password goes only to its own device, whatever reference a row carries. */
static void
test_store_own_mac_only(void **state)
{
	char dir[] = "/tmp/test_creds.XXXXXX", path[64];
	struct store *st = NULL;
	struct store_device reg;
	struct creds_query q = {"aabbccddeef1", NULL, NULL, 1, 1, NULL, 0};
	struct creds_found f;
	char *cause = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	if (store_open(path, &st, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(store_setting_set(st, "secret:441793000001", "victim", &cause), 0);
	assert_int_equal(store_setting_set(st, "secret:aabbccddeef1", "own", &cause), 0);
	memset(&reg, 0, sizeof reg);
	memcpy(reg.mac, "aabbccddeef1", 13);
	reg.cred_ref = "store:secret:441793000001";
	q.reg = &reg;
	assert_int_equal(creds_lookup(NULL, st, &q, &f, &cause), -1);
	assert_null(f.password);
	assert_non_null(strstr(cause, "names another device"));
	free(cause);
	cause = NULL;
	reg.cred_ref = "store:ui.theme"; /* not a password at all */
	assert_int_equal(creds_lookup(NULL, st, &q, &f, &cause), -1);
	assert_null(f.password);
	free(cause);
	cause = NULL;
	/* the row's own reference, but the device at the address showed another MAC */
	reg.cred_ref = "store:secret:aabbccddeef1";
	q.mac = "441793000001";
	assert_int_equal(creds_lookup(NULL, st, &q, &f, &cause), -1);
	assert_null(f.password);
	free(cause);
	cause = NULL;
	q.mac = "aabbccddeef1";
	assert_int_equal(creds_lookup(NULL, st, &q, &f, &cause), 0);
	assert_string_equal(f.password, "own");
	creds_found_done(&f);
	store_free(st);
	for (size_t i = 0; i < 3; i++) {
		snprintf(
		    path, sizeof path, "%s/s.db%s", dir, (const char *[]){"", "-wal", "-shm"}[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_prompt_later),
		cmocka_unit_test(test_store_own_mac_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
