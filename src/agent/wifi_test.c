/*
 * The test radio (see agent/wifi.h, "test:DIR"): access points are files DIR/aps/<SSID>
 * naming a network namespace; joining one moves this process (it has one thread) into it.
 * A file DIR/hold makes join wait (bounded) after entering the namespace, so that a test can
 * kill the agent in the middle of a task.
 */
#include "agent/wifi.h"

#include "util/str.h"
#include "util/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WIFI_TEST_HOLD_MAX_MS 60000

struct wifi_test {
	char *dir;
	int home_fd; /* the namespace the agent started in */
};

static void
note(struct wifi_test *t, const char *what, const char *arg)
{
	char *path = xasprintf("%s/wifi.log", t->dir);
	FILE *fp = fopen(path, "a");

	if (fp != NULL) {
		fprintf(fp, "%s%s%s\n", what, *arg ? " " : "", arg);
		fclose(fp);
	}
	free(path);
}

static void *
test_open(const char *arg, char **cause)
{
	struct wifi_test *t;
	int fd;

	if (arg == NULL || *arg == '\0') {
		*cause = xstrdup("test backend needs a directory (test:DIR)");
		return NULL;
	}
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*cause = xasprintf("/proc/self/ns/net: %s", strerror(errno));
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->dir = xstrdup(arg);
	t->home_fd = fd;
	return t;
}

static void
test_close(void *b)
{
	struct wifi_test *t = b;

	close(t->home_fd);
	free(t->dir);
	free(t);
}

static int
test_scan(void *b, struct wifi_ap **aps, size_t *n, char **cause)
{
	struct wifi_test *t = b;
	char *path = xasprintf("%s/aps", t->dir);
	DIR *d = opendir(path);
	struct dirent *e;

	*aps = NULL;
	*n = 0;
	free(path);
	if (d == NULL) {
		*cause = xasprintf("%s/aps: %s", t->dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 32)
			continue;
		*aps = xreallocarray(*aps, *n + 1, sizeof **aps);
		str_copy((*aps)[*n].ssid, sizeof (*aps)[*n].ssid, e->d_name);
		(*aps)[(*n)++].signal = 70;
	}
	closedir(d);
	note(t, "scan", "");
	return 0;
}

static int
enter(int fd, const char *what, char **cause)
{
	if (setns(fd, CLONE_NEWNET) != 0) {
		*cause = xasprintf("setns %s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

static void
hold(struct wifi_test *t)
{
	char *path = xasprintf("%s/hold", t->dir);
	struct timespec ts = {0, 50 * 1000 * 1000};

	for (int ms = 0; ms < WIFI_TEST_HOLD_MAX_MS && access(path, F_OK) == 0; ms += 50)
		nanosleep(&ts, NULL);
	free(path);
}

static int
test_join(void *b, const char *ssid, char **cause)
{
	struct wifi_test *t = b;
	char *path, ns[256] = "";
	FILE *fp;
	int fd, rc;

	if (ssid[0] == '.' || strchr(ssid, '/') != NULL) {
		*cause = xstrdup("no such access point");
		return -1;
	}
	path = xasprintf("%s/aps/%s", t->dir, ssid);
	fp = fopen(path, "r");
	free(path);
	if (fp == NULL || fgets(ns, sizeof ns, fp) == NULL) {
		if (fp != NULL)
			fclose(fp);
		*cause = xasprintf("access point %s is not in range", ssid);
		return -1;
	}
	fclose(fp);
	ns[strcspn(ns, "\r\n")] = '\0';
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*cause = xasprintf("access point %s: %s: %s", ssid, ns, strerror(errno));
		return -1;
	}
	rc = enter(fd, ns, cause);
	close(fd);
	if (rc == 0) {
		note(t, "join", ssid);
		hold(t);
	}
	return rc;
}

static int
test_leave(void *b, char **cause)
{
	struct wifi_test *t = b;

	note(t, "leave", "");
	return enter(t->home_fd, "home", cause);
}

static char *
test_current(void *b)
{
	(void)b;
	return xstrdup("test-home");
}

static int
test_restore(void *b, const char *conn, char **cause)
{
	struct wifi_test *t = b;

	note(t, "restore", conn);
	return enter(t->home_fd, "home", cause);
}

const struct wifi_ops wifi_test_ops = {
    "test",
    test_open,
    test_close,
    test_scan,
    test_join,
    test_leave,
    test_current,
    test_restore,
};
