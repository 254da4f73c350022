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

#include "conf/conf.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

static int
guard_allow_cb(const char *host, void *arg)
{
	return guard_allows(arg, host);
}

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
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
app_init(struct app *app, int argc, char **argv)
{
	char *cause = NULL;
	enum log_level level;

	memset(app, 0, sizeof *app);
	if (cli_parse(argc, argv, &app->args, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\nTry 'shelly-tui --help'.\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	app->cfg = conf_new();
	if (app->args.set[CLI_CONFIG])
		app->config_path = xstrdup(app->args.val[CLI_CONFIG]);
	else
		app->config_path = conf_default_path();
	if (app->config_path != NULL &&
	    (app->args.set[CLI_CONFIG] || access(app->config_path, F_OK) == 0) &&
	    conf_load(app->cfg, app->config_path, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	if (apply_overrides(app) != 0)
		return EXIT_USAGE;
	if (log_level_parse(conf_get_str(app->cfg, OPT_LOG_LEVEL), &level) == 0)
		log_set_level(level);
	if (app->args.set[CLI_VERBOSE])
		log_set_level(app->args.set[CLI_VERBOSE] > 1 ? LOG_DEBUG : LOG_INFO);
	else if (app->args.set[CLI_QUIET])
		log_set_level(LOG_ERROR);
	else if (app->args.mode != CLI_HEADLESS && log_get_level() == LOG_INFO)
		log_set_level(LOG_WARN); /* one-shot modes print results, not progress */

	if (guard_from_env(&app->guard, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "shelly-tui: libcurl failed to initialise\n");
		return EXIT_FAIL;
	}
	app->loop = loop_new();
	app->http = http_new(app->loop);
	http_set_allow(app->http, guard_allow_cb, app->guard);
	http_set_max_inflight(app->http, (int)conf_get_int(app->cfg, OPT_MAX_CONCURRENCY));
	return EXIT_OK;
}

void
app_done(struct app *app)
{
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

/* Sets app->db_path from --db, the configuration or the default. Returns 0 or -1. */
static int
db_path(struct app *app)
{
	char *cause = NULL;
	const char *cfg_db = conf_get_str(app->cfg, OPT_DB);

	if (app->db_path != NULL)
		return 0;
	if (app->args.set[CLI_DB])
		app->db_path = xstrdup(app->args.val[CLI_DB]);
	else if (cfg_db != NULL && cfg_db[0] != '\0')
		app->db_path = xstrdup(cfg_db);
	else if ((app->db_path = store_default_path(&cause)) == NULL) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
app_store_exists(struct app *app)
{
	return db_path(app) == 0 && access(app->db_path, F_OK) == 0;
}

int
app_open_store(struct app *app)
{
	char *cause = NULL;

	if (app->store != NULL)
		return 0;
	if (db_path(app) != 0)
		return -1;
	if (store_open(app->db_path, &app->store, &cause) != 0) {
		fprintf(stderr, "shelly-tui: %s: %s\n", app->db_path, cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
app_parse_hostport(const char *s, char **host, uint16_t *port, char **cause)
{
	const char *colon;
	char *end;
	long p = 0;

	*host = NULL;
	*port = 0;
	if (s == NULL || *s == '\0') {
		*cause = xstrdup("empty address");
		return -1;
	}
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb == s + 1) {
			*cause = xasprintf("'%s': missing ']'", s);
			return -1;
		}
		*host = xstrndup(s + 1, (size_t)(rb - s - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL) {
			*cause = xasprintf("'%s': junk after ']'", s);
			goto fail;
		}
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') != NULL) {
		*host = xstrdup(s); /* a bare IPv6 address */
		colon = NULL;
	} else
		*host = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	if ((*host)[0] == '\0') {
		*cause = xasprintf("'%s': no host", s);
		goto fail;
	}
	for (const char *c = *host; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == ':' || *c == '_')) {
			*cause = xasprintf("'%s': not a host name or address", s);
			goto fail;
		}
	}
	if (colon != NULL) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno || *end != '\0' || colon[1] == '\0' || p < 1 || p > 65535) {
			*cause = xasprintf("'%s': port must be 1..65535", s);
			goto fail;
		}
		*port = (uint16_t)p;
	}
	return 0;
fail:
	free(*host);
	*host = NULL;
	return -1;
}

static char *
prompt_password(void)
{
	struct termios old, quiet;
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
	if (write(fd, "Password: ", 10) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		return NULL;
	}
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, 1)) == 1 && buf[len] != '\n')
		len++;
	buf[len] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the prompt's newline is cosmetic */
	}
	close(fd);
	{
		char *s = xstrdup(buf);
		explicit_bzero(buf, sizeof buf);
		return s;
	}
}

char *
app_password(struct app *app, int must, char **cause)
{
	const char *env = getenv("SHELLY_TUI_PASSWORD");
	char *s;

	*cause = NULL;
	if (app->args.set[CLI_PASSWORD_FILE]) {
		char *ref = xasprintf("file:%s", app->args.val[CLI_PASSWORD_FILE]);
		s = conf_read_secret(ref, cause);
		free(ref);
		return s;
	}
	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if (!must)
		return NULL;
	if (isatty(STDIN_FILENO) && (s = prompt_password()) != NULL)
		return s;
	*cause = xstrdup("a password is needed: use --password-file FILE or SHELLY_TUI_PASSWORD");
	return NULL;
}

int
app_mdns_allowed(const struct app *app, const char **why)
{
	if (!guard_is_set(app->guard) || guard_allows(app->guard, "224.0.0.251"))
		return 1;
	*why = "mDNS is off: SHELLY_TUI_ALLOW_NETS does not include the mDNS group 224.0.0.251";
	return 0;
}

int
app_run_until(struct app *app, const int *done)
{
	while (!*done && !loop_stopped(app->loop))
		if (loop_run_once(app->loop, -1) < 0)
			return -1;
	return 0;
}
