#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dirs.h"
#include "util/xmalloc.h"

static char base[] = "/tmp/test_dirs.XXXXXX";

static int
is_dir(const char *path, mode_t *mode)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (mode != NULL)
		*mode = st.st_mode & 0777;
	return 1;
}

static void
test_make(void **state)
{
	char *deep = xasprintf("%s/a/b/c", base), *again = xasprintf("%s/a/b/c/", base);
	char *cause = NULL;
	mode_t mode = 0;

	(void)state;
	assert_int_equal(dirs_make(deep, &cause), 0);
	assert_null(cause);
	assert_true(is_dir(deep, &mode));
	assert_int_equal(mode & 077, 0); /* 0700 under any umask that keeps the owner's bits */
	assert_int_equal(dirs_make(again, &cause), 0); /* existing, trailing '/' */
	assert_int_equal(dirs_make(base, NULL), 0);
	free(deep);
	free(again);
}

static void
test_file_in_the_way(void **state)
{
	char *file = xasprintf("%s/file", base), *below = xasprintf("%s/file/x/y", base);
	char *cause = NULL, name[300], *long_name;
	FILE *fp = fopen(file, "w");

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	long_name = xasprintf("%s/%s", base, name);

	(void)state;
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(dirs_make(file, &cause), -1);
	assert_non_null(strstr(cause, "is not a directory"));
	free(cause);
	cause = NULL;
	assert_int_equal(dirs_make(below, &cause), -1); /* stops at the file */
	assert_non_null(strstr(cause, "/file is not a directory"));
	free(cause);
	cause = NULL;
	assert_int_equal(dirs_make(long_name, &cause), -1); /* mkdir fails: ENAMETOOLONG */
	assert_non_null(strstr(cause, "cannot create directory"));
	free(cause);
	assert_int_equal(dirs_make(below, NULL), -1); /* no cause wanted: nothing leaks */
	free(file);
	free(below);
	free(long_name);
}

static void
test_parents(void **state)
{
	char *path = xasprintf("%s/p/q/file.tmpl", base), *dir = xasprintf("%s/p/q", base);

	(void)state;
	assert_int_equal(dirs_make_parents(path, NULL), 0);
	assert_true(is_dir(dir, NULL));
	assert_false(is_dir(path, NULL)); /* the last part is the file's: not made */
	assert_int_equal(dirs_make_parents("file-here", NULL), 0);
	assert_int_equal(dirs_make_parents("/top", NULL), 0);
	free(path);
	free(dir);
}

/* $HOME when absolute, else the password file's home (absolute), never a relative one. */
static void
test_home(void **state)
{
	char *saved = getenv("HOME") != NULL ? xstrdup(getenv("HOME")) : NULL, *h;

	(void)state;
	setenv("HOME", "/some/where", 1);
	h = dirs_home();
	assert_string_equal(h, "/some/where");
	free(h);
	setenv("HOME", "relative/home", 1);
	h = dirs_home();
	if (h != NULL) /* a user without a password entry has none */
		assert_int_equal(h[0], '/');
	free(h);
	if (saved != NULL)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
	free(saved);
}

/* dirs_file_target of path: 1 when refused with a cause naming what, 0 when allowed. */
static int
refused(const char *path, const char *what)
{
	struct stat st;
	char *cause = NULL, *t = dirs_file_target(path, &st, &cause);
	int no = t == NULL && cause != NULL && strstr(cause, what) != NULL;

	free(t);
	free(cause);
	return no;
}

static void
test_protect(void **state)
{
	char *db = xasprintf("%s/p.db", base), *wal = xasprintf("%s-wal", db);
	char *hard = xasprintf("%s/hard", base), *soft = xasprintf("%s/soft", base);
	char *other = xasprintf("%s/other", base);
	FILE *fp = fopen(db, "w");

	(void)state;
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(link(db, hard), 0);
	assert_int_equal(symlink("p.db", soft), 0);
	assert_false(refused(db, "database in use")); /* not protected yet */
	dirs_protect(db);
	assert_true(refused(db, "it is the database in use"));
	assert_true(refused(hard, "it is the database in use"));
	assert_true(refused(soft, "it is the database in use"));
	assert_true(refused(wal, "the wal file of the database in use")); /* not created yet */
	assert_false(refused(other, "database"));
	dirs_unprotect(db);
	assert_false(refused(hard, "database"));
	assert_false(refused(wal, "database"));
	free(db);
	free(wal);
	free(hard);
	free(soft);
	free(other);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", base);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_make),
	    cmocka_unit_test(test_file_in_the_way),
	    cmocka_unit_test(test_parents),
	    cmocka_unit_test(test_home),
	    cmocka_unit_test(test_protect),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
