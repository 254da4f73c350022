/*
 * Scheduled exports: a loop timer writes an export and rotates the directory; the optional git
 * commit runs as child processes (add, diff --cached --quiet, commit) started with posix_spawnp
 * and an argument vector, reaped from a short loop timer so the loop never blocks on git.
 */
#include "engine/export_schedule.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "exchange/export.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

extern char **environ;

#define PREFIX "shelly-fleet-"
#define GIT_FILE "fleet.toml"
#define REAP_MS 20

/* File name endings by format (the order of EXPORT_FORMATS). */
static const char *const exts[EXPORT__COUNT] = {
    "json", "toml", "csv", "hosts", "dhcpd.conf", "dnsmasq.conf", "kea.json"};

enum git_step { GIT_IDLE, GIT_ADD, GIT_DIFF, GIT_COMMIT };

struct export_schedule {
	struct loop *loop;
	struct store *store;
	enum export_format format;
	char *dir, *git_dir;
	unsigned keep;
	uint64_t interval_ms, runs;
	uint64_t since_ms; /* loop time of the last export, or of the schedule's start */
	struct loop_timer *timer, *reap;
	pid_t pid;
	enum git_step step;
	int again; /* an export came while git ran: commit once more */
	char *said[EXPORT__COUNT]; /* per format, the notes last logged (each run would repeat) */
	struct export_stats *stats; /* the caller's */
};

/* Counts one export (or commit) to target t: ok, or failed. */
static void
tally(struct export_target_stats *t, int ok)
{
	t->last_ok = ok;
	if (ok)
		t->last_ok_ms = loop_wall_ms();
	else
		t->failures++;
}

static char *
file_name(const struct export_schedule *es)
{
	int64_t ms = loop_wall_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	return xasprintf(
	    "%s/" PREFIX "%s.%03dZ.%s", es->dir, stamp, (int)(ms % 1000), exts[es->format]);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Deletes the oldest files of this format beyond keep (names sort by time). A name is
 * PREFIX, the UTC time ending in 'Z', '.' and the ending: the 'Z' keeps a json rotation off
 * the kea exports (".kea.json").
 */
static void
rotate(struct export_schedule *es)
{
	DIR *d = opendir(es->dir);
	struct dirent *de;
	char **names = NULL, *path;
	size_t n = 0, elen = strlen(exts[es->format]);

	if (d == NULL) {
		log_warn("export: cannot list %s: %s", es->dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) != 0 ||
		    len <= strlen(PREFIX) + elen + 2 || de->d_name[len - elen - 1] != '.' ||
		    de->d_name[len - elen - 2] != 'Z' ||
		    strcmp(de->d_name + len - elen, exts[es->format]) != 0 ||
		    strstr(de->d_name, ".tmp.") != NULL)
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (i + es->keep < n) {
			path = xasprintf("%s/%s", es->dir, names[i]);
			if (unlink(path) != 0)
				log_warn("export: cannot delete %s: %s", path, strerror(errno));
			free(path);
		}
		free(names[i]);
	}
	free(names);
}

/* environ without the device password (SHELLY_TUI_PASSWORD): git and its hooks need none.
 * The array is the caller's to free, the strings are environ's. */
static char **
git_environ(void)
{
	static const char secret[] = "SHELLY_TUI_PASSWORD=";
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + 1, sizeof *env);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], secret, sizeof secret - 1) != 0)
			env[k++] = environ[i];
	return env;
}

static int
spawn_git(struct export_schedule *es, char *const argv[])
{
	char **env = git_environ();
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	int rc;

	/* git gets no descriptor of ours (sockets, the database), default signals, none blocked */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGXFSZ);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&es->pid, "git", &fa, &attr, argv, env);
	free(env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		log_error("export: cannot run git: %s", strerror(rc));
		es->pid = 0;
		return -1;
	}
	loop_timer_arm(es->reap, REAP_MS);
	return 0;
}

/* Starts the next git step (add, then diff, then commit). */
static void
git_next(struct export_schedule *es, enum git_step step)
{
	char *add[] = {"git", "-C", es->git_dir, "add", "--", GIT_FILE, NULL};
	char *diff[] = {
	    "git", "-C", es->git_dir, "diff", "--cached", "--quiet", "--", GIT_FILE, NULL};
	char *commit[] = {"git", "-C", es->git_dir, "commit", "-q", "-m",
	    "shelly-tui: fleet export", "--", GIT_FILE, NULL};
	char *const *argv = step == GIT_ADD ? add : step == GIT_DIFF ? diff : commit;

	es->step = step;
	if (spawn_git(es, argv) != 0) {
		es->step = GIT_IDLE;
		tally(&es->stats->git, 0);
	}
}

static void
reap_cb(void *arg)
{
	struct export_schedule *es = arg;
	int status, code;
	pid_t r = waitpid(es->pid, &status, WNOHANG);

	if (r == 0) {
		loop_timer_arm(es->reap, REAP_MS);
		return;
	}
	es->pid = 0;
	code = r < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	if (es->step == GIT_DIFF && code == 0) {
		es->step = GIT_IDLE; /* fleet.toml did not change: nothing to commit */
		tally(&es->stats->git, 1);
	} else if ((es->step == GIT_ADD && code == 0) || (es->step == GIT_DIFF && code == 1)) {
		git_next(es, es->step + 1);
		return;
	} else if (es->step == GIT_COMMIT && code == 0) {
		log_info("export: committed %s/" GIT_FILE, es->git_dir);
		es->step = GIT_IDLE;
		tally(&es->stats->git, 1);
	} else {
		log_error("export: git %s in %s failed (exit %d)",
		    es->step == GIT_ADD    ? "add"
		    : es->step == GIT_DIFF ? "diff"
		                           : "commit",
		    es->git_dir, code);
		es->step = GIT_IDLE;
		tally(&es->stats->git, 0);
	}
	if (es->again) {
		es->again = 0;
		git_next(es, GIT_ADD);
	}
}

/*
 * export_render with what the file leaves out logged, one warning each, when it differs from
 * what the last export of the format left out (not again every interval).
 */
static int
render(struct export_schedule *es, struct export_opts *o, struct strbuf *sb, char **cause)
{
	struct strbuf notes;
	char **said = &es->said[o->format];
	int rc;

	strbuf_init(&notes);
	o->notes = &notes;
	rc = export_render(es->store, o, sb, NULL, cause);
	if (rc == 0 && (*said == NULL || strcmp(*said, strbuf_str(&notes)) != 0)) {
		for (const char *l = strbuf_str(&notes), *nl; *l != '\0'; l = nl + 1) {
			nl = strchr(l, '\n');
			log_warn("export: %.*s", (int)(nl - l), l);
		}
		free(*said);
		*said = xstrdup(strbuf_str(&notes));
	}
	strbuf_done(&notes);
	return rc;
}

/* Writes the TOML rendering into the git working copy and starts a commit. */
static void
git_export(struct export_schedule *es)
{
	struct export_opts o = {.format = EXPORT_TOML};
	struct strbuf sb;
	char *path = xasprintf("%s/" GIT_FILE, es->git_dir), *cause = NULL;

	strbuf_init(&sb);
	if (es->step != GIT_IDLE) {
		es->again = 1; /* the running commit is followed by another */
	} else if (render(es, &o, &sb, &cause) != 0 ||
	           export_write_file(path, strbuf_str(&sb), sb.len, 0644, &cause) != 0) {
		log_error("export: %s", cause);
		free(cause);
		tally(&es->stats->git, 0);
	} else {
		git_next(es, GIT_ADD);
	}
	strbuf_done(&sb);
	free(path);
}

static void
export_cb(void *arg)
{
	struct export_schedule *es = arg;
	struct export_opts o = {.format = es->format, .now_ms = loop_wall_ms()};
	struct strbuf sb;
	char *path = file_name(es), *cause = NULL;

	es->since_ms = loop_now_ms(es->loop);
	loop_timer_arm(es->timer, es->interval_ms);
	strbuf_init(&sb);
	if (render(es, &o, &sb, &cause) != 0 ||
	    export_write_file(path, strbuf_str(&sb), sb.len, 0644, &cause) != 0) {
		log_error("export: %s", cause);
		free(cause);
		tally(&es->stats->dir, 0);
	} else {
		es->runs++;
		tally(&es->stats->dir, 1);
		log_info("export: wrote %s", path);
		rotate(es);
	}
	strbuf_done(&sb);
	free(path);
	if (es->git_dir != NULL)
		git_export(es);
}

struct export_schedule *
export_schedule_start(struct loop *loop, struct store *store, const struct conf *cfg,
    uint64_t since_ms, struct export_stats *stats)
{
	struct export_schedule *es;
	const char *dir = conf_get_str(cfg, OPT_EXPORT_DIR);
	const char *git = conf_get_str(cfg, OPT_EXPORT_GIT_DIR);
	uint64_t interval = conf_get_ms(cfg, OPT_EXPORT_INTERVAL);
	enum export_format format;

	if (interval == 0 || dir == NULL || dir[0] == '\0') {
		if (git != NULL && git[0] != '\0')
			log_warn("export: export-git-dir %s is not used: scheduled exports need "
			         "export-interval and export-dir",
			    git);
		return NULL;
	}
	if (export_format_parse(conf_get_str(cfg, OPT_EXPORT_FORMAT), &format) != 0) {
		log_error("export: unknown export-format");
		return NULL;
	}
	es = xcalloc(1, sizeof *es);
	es->loop = loop;
	es->store = store;
	es->format = format;
	es->dir = xstrdup(dir);
	es->git_dir = git != NULL && git[0] != '\0' ? xstrdup(git) : NULL;
	es->keep = (unsigned)conf_get_int(cfg, OPT_EXPORT_KEEP);
	es->stats = stats;
	stats->dir.used = 1;
	stats->git.used |= es->git_dir != NULL;
	es->interval_ms = interval;
	es->since_ms = since_ms != 0 ? since_ms : loop_now_ms(loop);
	es->timer = loop_timer_new(loop, export_cb, es);
	es->reap = loop_timer_new(loop, reap_cb, es);
	/* Due one interval after the last export (at once when that has passed). */
	loop_timer_arm_at(es->timer, es->since_ms + interval);
	log_info("export: %s to %s every %llu ms, keeping %u%s%s", exts[format], es->dir,
	    (unsigned long long)interval, es->keep, es->git_dir ? ", committing to " : "",
	    es->git_dir ? es->git_dir : "");
	return es;
}

void
export_schedule_stop(struct export_schedule *es)
{
	int status;
	pid_t r = 0;

	if (es == NULL)
		return;
	/* A commit in progress may finish (5 s at most; git has no terminal to wait on). */
	for (int i = 0; es->pid > 0 && i < 250 && (r = waitpid(es->pid, &status, WNOHANG)) == 0;
	     i++)
		nanosleep(&(struct timespec){0, REAP_MS * 1000000L}, NULL);
	if (es->pid > 0 && r == 0) {
		log_warn("export: git did not finish; stopping it");
		kill(es->pid, SIGTERM);
		(void)waitpid(es->pid, &status, 0);
	}
	loop_timer_free(es->timer);
	loop_timer_free(es->reap);
	free(es->dir);
	free(es->git_dir);
	for (int f = 0; f < EXPORT__COUNT; f++)
		free(es->said[f]);
	free(es);
}

int
export_schedule_same(const struct export_schedule *es, const struct conf *cfg)
{
	const char *git = conf_get_str(cfg, OPT_EXPORT_GIT_DIR);
	const char *dir = conf_get_str(cfg, OPT_EXPORT_DIR);
	enum export_format format;

	if (es == NULL || dir == NULL ||
	    export_format_parse(conf_get_str(cfg, OPT_EXPORT_FORMAT), &format) != 0)
		return 0;
	if (git == NULL || git[0] == '\0')
		git = NULL;
	return es->interval_ms == conf_get_ms(cfg, OPT_EXPORT_INTERVAL) && es->format == format &&
	       es->keep == (unsigned)conf_get_int(cfg, OPT_EXPORT_KEEP) &&
	       strcmp(es->dir, dir) == 0 &&
	       (es->git_dir == NULL ? git == NULL : git != NULL && strcmp(es->git_dir, git) == 0);
}

uint64_t
export_schedule_since(const struct export_schedule *es)
{
	return es != NULL ? es->since_ms : 0;
}

uint64_t
export_schedule_runs(const struct export_schedule *es)
{
	return es != NULL ? es->runs : 0;
}
