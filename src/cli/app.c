#include "cli/app.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/print.h"
#include "conf/conf.h"
#include "engine/creds.h"
#include "engine/lease.h"
#include "store/store.h"
#include "tui/tui.h"
#include "util/guard.h"
#include "util/json.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/*
 * Command-line options that set configuration options (--insecure, --ca-file, --timeout) go
 * into the configuration as overrides, so every request target is built from one place
 * (conf_target) and a reload keeps them. Returns 0, or -1 (message printed).
 */
static int
apply_overrides(struct app *app)
{
	char *cause = NULL, ms[32];
	int rc = 0;

	if (app->args.set[CLI_INSECURE])
		rc |= conf_override(app->cfg, "tls-mode", "insecure", &cause);
	if (rc == 0 && app->args.set[CLI_CA_FILE]) {
		rc |= conf_override(app->cfg, "tls-mode", "ca", &cause);
		if (rc == 0)
			rc |= conf_override(app->cfg, "tls-ca-file", app->args.val[CLI_CA_FILE],
			    &cause);
	}
	if (rc == 0 && app->args.timeout_s > 0) {
		snprintf(ms, sizeof ms, "%lums", (unsigned long)(app->args.timeout_s * 1000 + 0.5));
		rc |= conf_override(app->cfg, "request-timeout", ms, &cause);
	}
	if (rc != 0) {
		print_cause("", cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
app_config_check(const struct app *app, const struct conf *cfg, char **cause)
{
	if (lease_check_times(conf_get_ms(cfg, OPT_LEASE_HEARTBEAT),
	        conf_get_ms(cfg, OPT_LEASE_TIMEOUT), cause) != 0)
		return -1;
	return tui_config_check(app, cfg, cause);
}

/*
 * The checks of the configuration and of option values that span options or belong to a
 * front end, made in every mode alike (a file the console refuses is refused by --list too),
 * before anything runs. Returns 0, or -1 (message printed): a usage error.
 */
static int
config_check(struct app *app)
{
	char *cause = NULL;
	const char *what = "";
	int rc = 0;

	if (app->args.set[CLI_LISTEN]) {
		struct conf *tmp = conf_new();

		what = "--";
		rc = conf_set(tmp, "listen", app->args.val[CLI_LISTEN], &cause);
		conf_free(tmp);
	}
	if (rc == 0) {
		what = "";
		rc = app_config_check(app, app->cfg, &cause);
	}
	if (rc != 0) {
		fprintf(stderr, "shelly-tui: %s%s\n", what, cause);
		free(cause);
	}
	return rc;
}

void
app_conf_changed(struct app *app)
{
	enum log_level level;

	json_set_max_depth((int)conf_get_int(app->cfg, OPT_JSON_MAX_DEPTH));
	if (app->http != NULL)
		http_set_max_inflight(app->http, (int)conf_get_int(app->cfg, OPT_MAX_CONCURRENCY));
	/* -v and -q win over the file, at start and on reload. */
	if (app->args.set[CLI_VERBOSE])
		log_set_level(app->args.set[CLI_VERBOSE] > 1 ? LOG_DEBUG : LOG_INFO);
	else if (app->args.set[CLI_QUIET])
		log_set_level(LOG_ERROR);
	else if (log_level_parse(conf_get_str(app->cfg, OPT_LOG_LEVEL), &level) == 0)
		log_set_level(app->args.mode != CLI_HEADLESS && level == LOG_INFO
		                  ? LOG_WARN /* one-shot modes print results, not progress */
		                  : level);
}

int
app_init(struct app *app, int argc, char **argv)
{
	char *cause = NULL;

	memset(app, 0, sizeof *app);
	if (cli_parse(argc, argv, &app->args, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\nTry 'shelly-tui --help'.\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	app->cfg = conf_new();
	/* NULL: the default file, which may be missing; SIGHUP reads it the same way. */
	if (app->args.set[CLI_CONFIG])
		app->config_path = xstrdup(app->args.val[CLI_CONFIG]);
	if (conf_load(app->cfg, app->config_path, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	if (apply_overrides(app) != 0 || config_check(app) != 0)
		return EXIT_USAGE;
	app_conf_changed(app);

	if (guard_from_env(&app->guard, &cause) != 0) {
		print_cause("", cause);
		free(cause);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit (ulimit -f) fails the write with EFBIG, reported like a full disk */
	signal(SIGXFSZ, SIG_IGN);
	if (http_global_init() != 0) {
		fprintf(stderr, "shelly-tui: libcurl failed to initialise\n");
		return EXIT_FAIL;
	}
	app->loop = loop_new();
	app->http = http_new(app->loop);
	http_set_allow(app->http, guard_families_cb, app->guard);
	app_conf_changed(app); /* again, now that there is a client */
	return EXIT_OK;
}

void
app_done(struct app *app)
{
	creds_free(app->creds);
	http_free(app->http);
	store_free(app->store);
	loop_free(app->loop);
	guard_free(app->guard);
	conf_free(app->cfg);
	free(app->config_path);
	free(app->db_path);
	if (app->loop != NULL)
		curl_global_cleanup();
	memset(app, 0, sizeof *app);
}

/*
 * Sets app->db_path from --db, the configuration, SHELLY_TUI_DB (the container image sets it to
 * the poller's database) or the default. Returns 0 or -1.
 */
static int
db_path(struct app *app)
{
	char *cause = NULL;
	const char *cfg_db = conf_get_str(app->cfg, OPT_DB), *env_db = getenv("SHELLY_TUI_DB");

	if (app->db_path != NULL)
		return 0;
	if (app->args.set[CLI_DB])
		app->db_path = xstrdup(app->args.val[CLI_DB]);
	else if (cfg_db != NULL && cfg_db[0] != '\0')
		app->db_path = xstrdup(cfg_db);
	else if (env_db != NULL && env_db[0] != '\0')
		app->db_path = xstrdup(env_db);
	else if ((app->db_path = store_default_path(&cause)) == NULL) {
		print_cause("", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Opens the store with STORE_OPEN_* flags; a missing database is quietly 1 when if_any. */
static int
open_store(struct app *app, int flags, int if_any)
{
	char *cause = NULL;

	if (app->store != NULL)
		return 0;
	if (db_path(app) != 0)
		return -1;
	if (store_open_flags(app->db_path, flags, &app->store, &cause) == 0)
		return 0;
	if (strncmp(cause, "no database at ", 15) == 0 && if_any) {
		free(cause);
		return 1;
	}
	if (strncmp(cause, "no database at ", 15) == 0) {
		/* a read-only mode on a missing database (STORE_OPEN_EXISTING): how to make one */
		fputs("shelly-tui: ", stderr);
		print_safe(stderr, cause);
		fputs(" (create one with --add, --import or --headless)\n", stderr);
	} else {
		fprintf(stderr, "shelly-tui: %s: %s\n", app->db_path, cause);
	}
	free(cause);
	return -1;
}

int
app_open_store(struct app *app)
{
	return open_store(app, 0, 0);
}

int
app_open_existing_store(struct app *app)
{
	return open_store(app, STORE_OPEN_EXISTING, 0);
}

int
app_open_store_if_any(struct app *app)
{
	return open_store(app, STORE_OPEN_EXISTING, 1) < 0 ? -1 : 0;
}

/* The signals that end a program at its password prompt: the terminal gets its echo back. */
static const int prompt_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static volatile sig_atomic_t prompt_sig;

static void
prompt_sig_cb(int sig)
{
	prompt_sig = sig;
}

/* Catches prompt_sigs (no SA_RESTART: the read ends) into old[], or gives old[] back. */
static void
prompt_catch(struct sigaction old[], int catch)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = prompt_sig_cb;
	sigemptyset(&sa.sa_mask);
	if (catch)
		prompt_sig = 0;
	for (size_t i = 0; i < sizeof prompt_sigs / sizeof prompt_sigs[0]; i++)
		sigaction(prompt_sigs[i], catch ? &sa : &old[i], catch ? &old[i] : NULL);
}

static char *
prompt_password(void)
{
	struct termios old, quiet;
	struct sigaction was[sizeof prompt_sigs / sizeof prompt_sigs[0]];
	char buf[256];
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	ssize_t n;
	size_t len = 0;

	if (fd < 0)
		return NULL;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	prompt_catch(was, 1);
	if (write(fd, "Password: ", 10) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		prompt_catch(was, 0);
		close(fd);
		return NULL;
	}
	while (len < sizeof buf - 1 && !prompt_sig && (n = read(fd, buf + len, 1)) == 1 &&
	       buf[len] != '\n')
		len++;
	buf[len] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the prompt's newline is cosmetic */
	}
	close(fd);
	prompt_catch(was, 0);
	if (prompt_sig) { /* interrupted: what was typed is dropped, the signal goes on */
		explicit_bzero(buf, sizeof buf);
		raise(prompt_sig);
		return NULL;
	}
	{
		char *s = xstrdup(buf);
		explicit_bzero(buf, sizeof buf);
		return s;
	}
}

/* The resolver's prompt: the tty, with echo off, when stdin is one. */
static void
tty_prompt_cb(struct creds_prompt *q, const char *user, const char *why, void *arg)
{
	char *pw = NULL;

	(void)user;
	(void)why;
	(void)arg;
	if (isatty(STDIN_FILENO))
		pw = prompt_password();
	creds_prompt_answer(q, pw);
	conf_secret_free(pw);
}

void
app_creds_start(struct app *app, creds_prompt_cb prompt_cb, void *prompt_arg)
{
	struct creds_opts o;

	if (app->creds != NULL)
		return;
	memset(&o, 0, sizeof o);
	o.user = app->args.set[CLI_USER] ? app->args.val[CLI_USER] : NULL;
	o.password_file = app->args.set[CLI_PASSWORD_FILE] ? app->args.val[CLI_PASSWORD_FILE] : NULL;
	o.use_env = 1;
	o.prompt_cb = prompt_cb;
	o.prompt_arg = prompt_arg;
	app->creds = creds_new(&o);
}

struct engine *
app_engine(struct app *app)
{
	app_creds_start(app, tty_prompt_cb, NULL);
	app->eng.loop = app->loop;
	app->eng.http = app->http;
	app->eng.guard = app->guard;
	app->eng.store = app->store;
	app->eng.conf = app->cfg;
	app->eng.creds = app->creds;
	return &app->eng;
}

static void
interrupt_signal_cb(int sig, void *arg)
{
	struct app *app = arg;

	if (app->interrupted++ > 0) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	app->interrupt_cb(app->interrupt_arg);
}

void
app_on_interrupt(struct app *app, void (*cb)(void *arg), void *arg)
{
	app->interrupt_cb = cb;
	app->interrupt_arg = arg;
	loop_signal(app->loop, SIGINT, interrupt_signal_cb, app);
	loop_signal(app->loop, SIGTERM, interrupt_signal_cb, app);
}

int
app_run_until(struct app *app, const int *done)
{
	while (!*done && !loop_stopped(app->loop))
		if (loop_run_once(app->loop, -1) < 0)
			return -1;
	return 0;
}
