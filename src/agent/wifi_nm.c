/*
 * The NetworkManager radio (see agent/wifi.h, "nm" or "nm:IFACE"): nmcli is started with
 * posix_spawnp and an argument vector, never through a shell; its output is read from a pipe
 * and parsed in terse mode (-t, fields separated by ':' with '\:' escaped). The profile made
 * for a device AP is named NM_PROFILE and deleted on leave.
 */
#include "agent/wifi.h"

#include "util/str.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NM_PROFILE "shelly-provisioner-ap"
#define NM_OUTPUT_MAX (256 * 1024)
#define NM_ARGS_MAX 16

extern char **environ;

struct wifi_nm {
	char *iface; /* NULL: any */
};

/* Runs nmcli with args (NULL-terminated); *out gets stdout+stderr (caller frees). */
static int
nmcli(const char *const *args, char **out, char **cause)
{
	const char *argv[NM_ARGS_MAX + 2] = {"nmcli"};
	posix_spawn_file_actions_t fa;
	struct strbuf sb;
	int fds[2], status, n = 1, rc;
	pid_t pid;
	char buf[4096];
	ssize_t r;

	for (; args[n - 1] != NULL && n <= NM_ARGS_MAX; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	rc = posix_spawnp(&pid, "nmcli", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		*cause = xasprintf("nmcli: %s", strerror(rc));
		return -1;
	}
	strbuf_init(&sb);
	while ((r = read(fds[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && strlen(strbuf_str(&sb)) < NM_OUTPUT_MAX)
			strbuf_append_len(&sb, buf, (size_t)r);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = strbuf_steal(&sb);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *clean = str_sanitize(*out, 200);

		*cause = xasprintf("nmcli %s failed: %s", args[0], clean);
		free(clean);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static void *
nm_open(const char *arg, char **cause)
{
	struct wifi_nm *nm;

	if (arg != NULL &&
	    (!str_ascii_printable(arg, 1, 15) || strchr(arg, '/') != NULL || arg[0] == '-')) {
		*cause = xasprintf("bad interface name");
		return NULL;
	}
	nm = xcalloc(1, sizeof *nm);
	nm->iface = arg != NULL ? xstrdup(arg) : NULL;
	return nm;
}

static void
nm_close(void *b)
{
	struct wifi_nm *nm = b;

	free(nm->iface);
	free(nm);
}

/* Splits a terse nmcli line at the first unescaped ':'; unescapes the first field. */
static char *
terse_field(char *line, char **rest)
{
	char *w = line;

	*rest = NULL;
	for (char *p = line; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] != '\0') {
			*w++ = *++p;
			continue;
		}
		if (*p == ':') {
			*rest = p + 1;
			break;
		}
		*w++ = *p;
	}
	*w = '\0';
	return line;
}

static int
nm_scan(void *b, struct wifi_ap **aps, size_t *n, char **cause)
{
	struct wifi_nm *nm = b;
	const char *args[] = {"-t", "-f", "SSID,SIGNAL", "device", "wifi", "list", "--rescan",
	    "yes", nm->iface ? "ifname" : NULL, nm->iface, NULL};
	char *out, *line, *save = NULL;

	*aps = NULL;
	*n = 0;
	if (nmcli(args, &out, cause) != 0)
		return -1;
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *rest, *ssid = terse_field(line, &rest);

		if (*ssid == '\0' || strlen(ssid) > 32)
			continue;
		*aps = xreallocarray(*aps, *n + 1, sizeof **aps);
		snprintf((*aps)[*n].ssid, sizeof(*aps)[*n].ssid, "%s", ssid);
		(*aps)[(*n)++].signal = rest != NULL ? atoi(rest) : 0;
	}
	free(out);
	return 0;
}

static int
nm_join(void *b, const char *ssid, char **cause)
{
	struct wifi_nm *nm = b;
	const char *args[] = {"-w", "30", "device", "wifi", "connect", ssid, "name", NM_PROFILE,
	    nm->iface ? "ifname" : NULL, nm->iface, NULL};
	char *out = NULL;
	int rc;

	if (ssid[0] == '-') { /* would read as an option */
		*cause = xstrdup("SSID starts with '-'");
		return -1;
	}
	rc = nmcli(args, &out, cause);
	free(out);
	return rc;
}

static int
nm_leave(void *b, char **cause)
{
	const char *args[] = {"connection", "delete", "id", NM_PROFILE, NULL};
	char *out = NULL;
	int rc = nmcli(args, &out, cause);

	(void)b;
	free(out);
	return rc;
}

static char *
nm_current(void *b)
{
	const char *args[] = {"-t", "-f", "NAME,TYPE", "connection", "show", "--active", NULL};
	char *out = NULL, *cause = NULL, *line, *save = NULL, *found = NULL;

	(void)b;
	if (nmcli(args, &out, &cause) != 0) {
		free(cause);
		return NULL;
	}
	for (line = strtok_r(out, "\n", &save); line != NULL && found == NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *rest, *name = terse_field(line, &rest);

		if (rest != NULL && strcmp(rest, "802-11-wireless") == 0 &&
		    strcmp(name, NM_PROFILE) != 0)
			found = xstrdup(name);
	}
	free(out);
	return found;
}

static int
nm_restore(void *b, const char *conn, char **cause)
{
	const char *args[] = {"-w", "30", "connection", "up", "id", conn, NULL};
	char *out = NULL;
	int rc;

	(void)b;
	if (conn[0] == '-') {
		*cause = xstrdup("connection name starts with '-'");
		return -1;
	}
	rc = nmcli(args, &out, cause);
	free(out);
	return rc;
}

const struct wifi_ops wifi_nm_ops = {
    "nm",
    nm_open,
    nm_close,
    nm_scan,
    nm_join,
    nm_leave,
    nm_current,
    nm_restore,
};
