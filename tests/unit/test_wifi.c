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
#include "util/loop.h"
#include "util/xmalloc.h"

static char dir[] = "/tmp/test_wifi.XXXXXX";

/* The stand-in: records "$@" one per line, answers like nmcli -t would; the profile a
 * "connection add" makes is the file $FAKE_NMCLI_LOG.profile (holding its SSID). */
static const char fake[] =
    "#!/bin/sh\n"
    "for a in \"$@\"; do printf '%s\\n' \"$a\"; done >>\"$FAKE_NMCLI_LOG\"\n"
    "echo --- >>\"$FAKE_NMCLI_LOG\"\n"
    "case \"$*\" in\n"
    "*'wifi list'*) printf "
    "'shelly1pm-A1B2C3:70\\nmy\\\\:net:40\\n:10\\nShellyPlus1PM-A8032AB12345:55\\n';;\n"
    "*'--active'*) printf 'Wired:802-3-ethernet\\nhome\\\\:wifi:802-11-wireless\\n';;\n"
    "*'connection add'*) shift 7; printf '%s' \"$1\" >\"$FAKE_NMCLI_LOG.profile\";;\n"
    "*'connection delete'*) rm \"$FAKE_NMCLI_LOG.profile\" 2>/dev/null ||\n"
    "  { echo 'Error: unknown connection'; exit 10; };;\n"
    "*'connection up'*) case $(cat \"$FAKE_NMCLI_LOG.profile\") in\n"
    "  nope) echo 'Error: No network with SSID nope found.'; exit 4;;\n"
    "  slow) sleep 1; echo 'Connection successfully activated.';;\n"
    "  esac;;\n"
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

static const char *
profile_path(void)
{
	static char path[300];

	snprintf(path, sizeof path, "%s/log.profile", dir);
	return path;
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
	free(log_take()); /* the leftover-profile check at open (test_nm_leftover) */
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
	free(log_take());
	/* Shell syntax is one literal argument; the profile is never autoconnected. */
	assert_int_equal(wifi_join(w, "$(touch /tmp/pwned);x", &cause), 0);
	log = log_take();
	assert_string_equal(log, "connection\ndelete\nid\nshelly-provisioner-ap\n---\n"
	                         "connection\nadd\ntype\nwifi\ncon-name\nshelly-provisioner-ap\n"
	                         "ssid\n$(touch /tmp/pwned);x\nconnection.autoconnect\nno\n---\n"
	                         "-w\n30\nconnection\nup\nid\nshelly-provisioner-ap\n---\n");
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
	log = log_take(); /* and the profile it made is gone again */
	assert_non_null(strstr(log, "---\nconnection\ndelete\nid\nshelly-provisioner-ap\n---\n"));
	free(log);
	assert_int_equal(access(profile_path(), F_OK), -1);
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

/* A profile an agent killed mid-task left behind is deleted when the backend opens. */
static void
test_nm_leftover(void **state)
{
	struct wifi *w;
	char *cause = NULL, *log;
	FILE *fp = fopen(profile_path(), "w");

	(void)state;
	assert_non_null(fp);
	fputs("shelly1-AABBCC", fp);
	fclose(fp);
	w = wifi_new("nm", &cause);
	assert_non_null(w);
	log = log_take();
	assert_string_equal(log, "connection\ndelete\nid\nshelly-provisioner-ap\n---\n");
	free(log);
	assert_int_equal(access(profile_path(), F_OK), -1);
	wifi_free(w);
}

/* Ticks of a timer on the loop that the backend turns while nmcli runs. */
struct ticker {
	struct loop_timer *t;
	int ticks;
};

static void
tick_cb(void *arg)
{
	struct ticker *k = arg;

	k->ticks++;
	loop_timer_arm(k->t, 50);
}

/* While a slow nmcli joins, the caller's loop keeps turning: its timers fire. */
static void
test_nm_join_turns_loop(void **state)
{
	struct loop *loop = loop_new();
	struct ticker k = {0};
	struct wifi *w;
	char *cause = NULL;

	(void)state;
	w = wifi_new("nm", &cause);
	assert_non_null(w);
	k.t = loop_timer_new(loop, tick_cb, &k);
	loop_timer_arm(k.t, 50);
	wifi_set_loop(w, loop);
	assert_int_equal(wifi_join(w, "slow", &cause), 0);
	assert_true(k.ticks >= 2); /* blocking in waitpid would leave it at 0 */
	free(log_take());
	/* Without a loop the same call blocks: the timer does not move. */
	k.ticks = 0;
	wifi_set_loop(w, NULL);
	assert_int_equal(wifi_join(w, "slow", &cause), 0);
	assert_int_equal(k.ticks, 0);
	/* A failure is still a failure with its cause when the loop is turned. */
	wifi_set_loop(w, loop);
	assert_int_equal(wifi_join(w, "nope", &cause), -1);
	assert_non_null(strstr(cause, "No network with SSID nope"));
	free(cause);
	free(log_take());
	wifi_free(w);
	loop_timer_free(k.t);
	loop_free(loop);
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
	    cmocka_unit_test(test_nm_leftover),
	    cmocka_unit_test(test_nm_join_turns_loop),
	    cmocka_unit_test(test_backends),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
