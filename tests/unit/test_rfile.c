/*
 * util/rfile: a regular file opens; a FIFO without a writer, a directory and a missing file
 * are refused at once with why (an alarm turns a blocking open into a failure, not a hang).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/rfile.h"
#include "util/xmalloc.h"

static char base[] = "/tmp/test_rfile.XXXXXX";

static void
alarm_cb(int sig)
{
	(void)sig;
	fail_msg("an open blocked");
}

static void
test_regular(void **state)
{
	char *path = xasprintf("%s/file", base), *cause = NULL, buf[8] = "";
	FILE *fp = fopen(path, "w");
	int fd;

	(void)state;
	assert_non_null(fp);
	fputs("hello", fp);
	fclose(fp);
	fd = rfile_open(path, &cause);
	assert_true(fd >= 0);
	assert_null(cause);
	assert_int_equal(read(fd, buf, sizeof buf - 1), 5);
	assert_string_equal(buf, "hello");
	close(fd);
	fp = rfile_fopen(path, &cause);
	assert_non_null(fp);
	fclose(fp);
	free(path);
}

static void
test_fifo(void **state)
{
	char *path = xasprintf("%s/fifo", base), *cause = NULL;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(rfile_open(path, &cause), -1);
	assert_null(rfile_fopen(path, NULL));
	alarm(0);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "not a regular file"));
	assert_non_null(strstr(cause, path));
	free(cause);
	free(path);
}

static void
test_dir_and_missing(void **state)
{
	char *missing = xasprintf("%s/none", base), *cause = NULL;

	(void)state;
	assert_int_equal(rfile_open(base, &cause), -1);
	assert_int_equal(errno, EISDIR);
	assert_non_null(strstr(cause, strerror(EISDIR)));
	free(cause);
	cause = NULL;
	assert_int_equal(rfile_open(missing, &cause), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(cause);
	free(cause);
	free(missing);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regular),
	    cmocka_unit_test(test_fifo),
	    cmocka_unit_test(test_dir_and_missing),
	};
	int rc;

	if (mkdtemp(base) == NULL)
		return 1;
	signal(SIGALRM, alarm_cb);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char *cmd = xasprintf("rm -rf '%s'", base);
		if (system(cmd) != 0)
			rc = 1;
		free(cmd);
	}
	return rc;
}
