/*
 * util/holder: lease holder names of this process, and which names a process of this host and
 * pid namespace that is gone (so its lease need not be waited out), in both forms (with and
 * without a tag).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/holder.h"

/* mine with its pid replaced by pid and its tag by tag (NULL: none). */
static void
other_pid(const char *mine, long pid, const char *tag, char *out, size_t size)
{
	char role[32], host[64];
	unsigned long ns;
	long self;

	assert_int_equal(sscanf(mine, "%31[^:]:%63[^:]:%ld:%lu", role, host, &self, &ns), 4);
	snprintf(
	    out, size, "%s:%s:%ld:%lu%s%s", role, host, pid, ns, tag ? ":" : "", tag ? tag : "");
}

static long
dead_pid(void)
{
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	return (long)child;
}

static void
test_name(void **state)
{
	char buf[192], want[32];

	(void)state;
	holder_name(buf, sizeof buf, "opnsense", NULL);
	assert_int_equal(strncmp(buf, "opnsense:", 9), 0);
	snprintf(want, sizeof want, ":%ld:", (long)getpid());
	assert_non_null(strstr(buf, want));
	assert_int_equal(strchr(buf + 9, ':') - buf > 9, 1);
	holder_name(buf, sizeof buf, "headless", "0000abcd");
	assert_int_equal(strcmp(buf + strlen(buf) - 9, ":0000abcd"), 0);
}

static void
test_gone(void **state)
{
	char mine[192], tagged[192], other[256];
	long dead = dead_pid(), pid = -1;

	(void)state;
	holder_name(mine, sizeof mine, "opnsense", NULL);
	holder_name(tagged, sizeof tagged, "headless", "12345678");

	/* a dead process of this host, in either form, whoever asks */
	other_pid(mine, dead, NULL, other, sizeof other);
	assert_int_equal(holder_gone(mine, other, &pid), 1);
	assert_int_equal(pid, dead);
	other_pid(mine, dead, "0000abcd", other, sizeof other);
	assert_int_equal(holder_gone(tagged, other, &pid), 1);
	/* our own pid under another name: an earlier process */
	other_pid(tagged, (long)getpid(), "ffffffff", other, sizeof other);
	assert_int_equal(holder_gone(tagged, other, &pid), 1);

	/* not gone: mine, a live process, another host or namespace, another form */
	assert_int_equal(holder_gone(mine, mine, &pid), 0);
	other_pid(mine, (long)getppid(), NULL, other, sizeof other);
	assert_int_equal(holder_gone(mine, other, &pid), 0);
	snprintf(other, sizeof other, "opnsense:elsewhere-host:%ld:1", dead);
	assert_int_equal(holder_gone(mine, other, &pid), 0);
	other_pid(mine, dead, "zz", other, sizeof other);
	assert_int_equal(holder_gone(mine, other, &pid), 0);
	other_pid(mine, dead, "1:2", other, sizeof other);
	assert_int_equal(holder_gone(mine, other, &pid), 0);
	assert_int_equal(holder_gone(mine, "opnsense:elsewhere:1", &pid), 0);
	assert_int_equal(holder_gone(mine, "", &pid), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name),
	    cmocka_unit_test(test_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
