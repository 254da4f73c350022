/*
 * The agent's radio backends (agent/wifi): the NetworkManager backend against a stand-in
 * nmcli first in PATH that records its argument vector, so the test sees exactly what would
 * be run: one argument per element (no shell: "$(...)" stays text), no key ever, SSIDs and
 * connection names checked first; terse output with escaped colons parsed. The test backend's
 * argument checks too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/wifi.h"
#include "util/xmalloc.h"

static char dir[] = "/tmp/test_wifi.XXXXXX";

/* The stand-in: records "$@" one per line, answers like nmcli -t would. */
static const char fake[] =
    "#!/bin/sh\n"
    "for a in \"$@\"; do printf '%s\\n' \"$a\"; done >>\"$FAKE_NMCLI_LOG\"\n"
    "echo --- >>\"$FAKE_NMCLI_LOG\"\n"
    "case \"$*\" in\n"
    "*'wifi list'*) printf "
    "'shelly1pm-A1B2C3:70\\nmy\\\\:net:40\\n:10\\nShellyPlus1PM-A8032AB12345:55\\n';;\n"
    "*'--active'*) printf 'Wired:802-3-ethernet\\nhome\\\\:wifi:802-11-wireless\\n';;\n"
    "*'connect nope'*) echo 'Error: No network with SSID nope found.'; exit 10;;\n"
    "esac\n"
    "exit 0\n";

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = xcalloc(1, 65536);

	if (fp != NULL) {
		size_t n = fread(buf, 1, 65535, fp);
		buf[n] = '\0';
		fclose(fp);
	}
	return buf;
}

static int
setup(void **state)
{
	char path[256], *newpath;
	FILE *fp;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/nmcli", dir);
	fp = fopen(path, "w");
	fputs(fake, fp);
	fclose(fp);
	chmod(path, 0700);
	snprintf(path, sizeof path, "%s/log", dir);
	setenv("FAKE_NMCLI_LOG", path, 1);
	newpath = xasprintf("%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", newpath, 1);
	free(newpath);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)state;
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	return 0;
}

static char *
log_take(void)
{
	char *path = xasprintf("%s/log", dir), *text = slurp(path);

	unlink(path);
	free(path);
	return text;
}

static void
test_nm_scan(void **state)
{
	struct wifi *w;
	struct wifi_ap *aps = NULL;
	char *cause = NULL, *log;
	size_t n = 0;

	(void)state;
	w = wifi_new("nm:wlan0", &cause);
	assert_non_null(w);
	assert_int_equal(wifi_scan(w, &aps, &n, &cause), 0);
	assert_int_equal(n, 3); /* the hidden network (empty SSID) is dropped */
	assert_string_equal(aps[0].ssid, "shelly1pm-A1B2C3");
	assert_int_equal(aps[0].signal, 70);
	assert_string_equal(aps[1].ssid, "my:net");
	assert_string_equal(aps[2].ssid, "ShellyPlus1PM-A8032AB12345");
	free(aps);
	log = log_take();
	assert_string_equal(
	    log, "-t\n-f\nSSID,SIGNAL\ndevice\nwifi\nlist\n--rescan\nyes\nifname\nwlan0\n---\n");
	free(log);
	wifi_free(w);
}

static void
test_nm_join_argv(void **state)
{
	struct wifi *w;
	char *cause = NULL, *log, *cur;

	(void)state;
	w = wifi_new("nm", &cause);
	assert_non_null(w);
	/* Shell syntax is one literal argument. */
	assert_int_equal(wifi_join(w, "$(touch /tmp/pwned);x", &cause), 0);
	log = log_take();
	assert_string_equal(log, "-w\n30\ndevice\nwifi\nconnect\n$(touch /tmp/pwned);x\nname\n"
	                         "shelly-provisioner-ap\n---\n");
	free(log);
	assert_int_equal(access("/tmp/pwned", F_OK), -1);
	assert_int_equal(wifi_leave(w, &cause), 0);
	log = log_take();
	assert_string_equal(log, "connection\ndelete\nid\nshelly-provisioner-ap\n---\n");
	free(log);
	/* Refused before anything runs: control characters, too long, option-like. */
	assert_int_equal(wifi_join(w, "bad\nssid", &cause), -1);
	free(cause);
	assert_int_equal(wifi_join(w, "123456789012345678901234567890123", &cause), -1);
	free(cause);
	assert_int_equal(wifi_join(w, "-rf", &cause), -1);
	free(cause);
	log = log_take();
	assert_string_equal(log, "");
	free(log);
	/* nmcli's failure becomes the cause. */
	assert_int_equal(wifi_join(w, "nope", &cause), -1);
	assert_non_null(strstr(cause, "No network with SSID nope"));
	free(cause);
	free(log_take());
	/* The host's own WiFi connection, found and restored by name. */
	cur = wifi_current(w);
	assert_non_null(cur);
	assert_string_equal(cur, "home:wifi");
	free(log_take());
	assert_int_equal(wifi_restore(w, cur, &cause), 0);
	log = log_take();
	assert_string_equal(log, "-w\n30\nconnection\nup\nid\nhome:wifi\n---\n");
	free(log);
	free(cur);
	wifi_free(w);
}

static void
test_backends(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_null(wifi_new("bogus", &cause));
	assert_non_null(strstr(cause, "unknown WiFi backend"));
	free(cause);
	assert_null(wifi_new("test", &cause));
	free(cause);
	assert_null(wifi_new("nm:../x", &cause));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nm_scan),
	    cmocka_unit_test(test_nm_join_argv),
	    cmocka_unit_test(test_backends),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
