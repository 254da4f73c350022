/*
 * The NetworkManager radio (see agent/wifi.h, "nm" or "nm:IFACE"): nmcli is started with
 * posix_spawnp and an argument vector, never through a shell; its output is read from a pipe
 * and parsed in terse mode (-t, fields separated by ':' with '\:' escaped). The profile made
 * for a device AP is named NM_PROFILE, made with autoconnect off (NetworkManager never joins
 * the device's AP by itself, even if the agent died before it deleted the profile), deleted
 * on leave, and a leftover one is deleted when the backend opens.
 */
#include "agent/wifi.h"

#include "util/log.h"
#include "util/loop.h"
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
	struct loop *loop; /* turned while nmcli runs; NULL: block */
};

/* One nmcli run: its output so far and whether the pipe reached its end. */
struct nm_run {
	struct strbuf out;
	int eof;
};

/* Reads what nmcli wrote (the pipe is non-blocking); marks the end. */
static void
nm_read(int fd, struct nm_run *run)
{
	char buf[4096];
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && run->out.len < NM_OUTPUT_MAX)
			strbuf_append_len(&run->out, buf, (size_t)r);
	if (r == 0 || (r < 0 && errno != EAGAIN))
		run->eof = 1;
}

static void
nm_pipe_cb(int fd, int events, void *arg)
{
	(void)events;
	nm_read(fd, arg);
}

/*
 * Waits for the child pid writing into fd: with a loop, the loop is turned meanwhile (the pipe
 * watched, the exit polled between turns), else it blocks. Returns the wait status.
 */
static int
nm_wait(struct loop *loop, pid_t pid, int fd, struct nm_run *run)
{
	struct loop_watch *w = NULL;
	int status = 0;
	pid_t got = 0;

	if (loop == NULL) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		while (!run->eof)
			nm_read(fd, run);
	} else
		w = loop_watch_new(loop, fd, LOOP_READ, nm_pipe_cb, run);
	while (got != pid) {
		got = waitpid(pid, &status, loop != NULL ? WNOHANG : 0);
		if (got < 0 && errno != EINTR)
			break;
		/* The exit follows the pipe's end closely: look again soon once it came. */
		if (got != pid && loop != NULL)
			loop_run_once(loop, run->eof ? 20 : 200);
	}
	loop_watch_free(w);
	nm_read(fd, run); /* what is left after the exit */
	return got == pid ? status : -1;
}

/* Runs nmcli with args (NULL-terminated); *out gets stdout+stderr (caller frees). */
static int
nmcli(struct wifi_nm *nm, const char *const *args, char **out, char **cause)
{
	const char *argv[NM_ARGS_MAX + 2] = {"nmcli"};
	posix_spawn_file_actions_t fa;
	struct nm_run run = {0};
	int fds[2], status, n = 1, rc;
	pid_t pid;

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
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	strbuf_init(&run.out);
	status = nm_wait(nm->loop, pid, fds[0], &run);
	close(fds[0]);
	*out = strbuf_steal(&run.out);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *clean = str_sanitize(*out, 200);

		*cause = xasprintf("nmcli %s failed: %s", args[0], clean);
		free(clean);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Deletes NM_PROFILE; 0, or -1 (with *cause unless cause is NULL) when there is none. */
static int
nm_delete_profile(struct wifi_nm *nm, char **cause)
{
	const char *args[] = {"connection", "delete", "id", NM_PROFILE, NULL};
	char *out = NULL, *why = NULL;
	int rc = nmcli(nm, args, &out, &why);

	free(out);
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	return rc;
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
	if (nm_delete_profile(nm, NULL) == 0)
		log_warn(
		    "deleted the NetworkManager profile " NM_PROFILE " an earlier run left behind");
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
	if (nmcli(b, args, &out, cause) != 0)
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
	/* The profile first, never autoconnected; then up (the join itself). */
	const char *add[] = {"connection", "add", "type", "wifi", "con-name", NM_PROFILE, "ssid",
	    ssid, "connection.autoconnect", "no", nm->iface ? "ifname" : NULL, nm->iface, NULL};
	const char *up[] = {"-w", "30", "connection", "up", "id", NM_PROFILE,
	    nm->iface ? "ifname" : NULL, nm->iface, NULL};
	char *out = NULL;
	int rc;

	if (ssid[0] == '-') { /* would read as an option */
		*cause = xstrdup("SSID starts with '-'");
		return -1;
	}
	nm_delete_profile(nm, NULL); /* a name NetworkManager would take twice */
	rc = nmcli(b, add, &out, cause);
	free(out);
	out = NULL;
	if (rc == 0 && (rc = nmcli(b, up, &out, cause)) != 0)
		nm_delete_profile(nm, NULL); /* no half-made profile stays */
	free(out);
	return rc;
}

static int
nm_leave(void *b, char **cause)
{
	return nm_delete_profile(b, cause);
}

static char *
nm_current(void *b)
{
	const char *args[] = {"-t", "-f", "NAME,TYPE", "connection", "show", "--active", NULL};
	char *out = NULL, *cause = NULL, *line, *save = NULL, *found = NULL;

	if (nmcli(b, args, &out, &cause) != 0) {
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

	if (conn[0] == '-') {
		*cause = xstrdup("connection name starts with '-'");
		return -1;
	}
	rc = nmcli(b, args, &out, cause);
	free(out);
	return rc;
}

static void
nm_set_loop(void *b, struct loop *loop)
{
	((struct wifi_nm *)b)->loop = loop;
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
    nm_set_loop,
};
