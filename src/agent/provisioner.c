/* shelly-provisioner: the WiFi provisioning agent of shelly-tui. See shelly-provisioner(1). */
#include "agent/agent.h"
#include "agent/wifi.h"
#include "net/http.h"
#include "util/guard.h"
#include "util/hostport.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/optspec.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SHELLY_TUI_VERSION
#define SHELLY_TUI_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Every option once: X(ID, long name, short, takes an argument, argument name, help). */
#define AGENT_OPTIONS(X)                                                                           \
	X(MANAGER, "manager", 'm', 1, "URL",                                                       \
	    "The manager, http[s]://HOST[:PORT][/api/v1/] as it prints it (https: agent-listen "   \
	    "with TLS)")                                                                           \
	X(CA_FILE, "ca-file", 0, 1, "FILE",                                                        \
	    "CA certificates (PEM) that verify an https manager (default: the system's)")          \
	X(ENROL_SECRET_FILE, "enrol-secret-file", 's', 1, "FILE",                                  \
	    "One-time enrolment secret from shelly-tui --agent-enrol (first start only)")          \
	X(TOKEN_FILE, "token-file", 'T', 1, "FILE",                                                \
	    "Where the agent keeps its token (mode 0600; default ./shelly-provisioner.token)")     \
	X(NAME, "name", 'n', 1, "NAME", "Name shown by shelly-tui --agents (default: host name)")  \
	X(WIFI, "wifi", 'w', 1, "BACKEND",                                                         \
	    "Radio: nm, nm:IFACE (NetworkManager via nmcli) or test:DIR (default nm)")             \
	X(DEVICE, "device", 0, 1, "ADDR", "Address of a device in AP mode (default 192.168.33.1)") \
	X(POLL, "poll", 'p', 1, "SECONDS",                                                         \
	    "Heartbeat, scan and claim this often, at most 3600 (default 5)")                      \
	X(VERIFY_WAIT, "verify-wait", 0, 1, "SECONDS",                                             \
	    "Longest wait for the manager to verify a device (default 300)")                       \
	X(TIMEOUT, "timeout", 't', 1, "SECONDS", "Per-request timeout (default 10)")               \
	X(ONCE, "once", 0, 0, NULL,                                                                \
	    "One round (and at most one task), then exit; 1 if the manager or its task failed it") \
	X(VERBOSE, "verbose", 'v', 0, NULL, "Twice: log debug messages too (info is the default)") \
	X(QUIET, "quiet", 'q', 0, NULL, "Log only errors")                                         \
	X(HELP, "help", 'h', 0, NULL, "Show this help")                                            \
	X(VERSION, "version", 'V', 0, NULL, "Show the version")

enum agent_option {
#define AOPT_ENUM(id, lng, shrt, arg, argname, help) AOPT_##id,
	AGENT_OPTIONS(AOPT_ENUM)
#undef AOPT_ENUM
	    AOPT__COUNT
};

static const struct optspec aopts[AOPT__COUNT] = {
#define AOPT_INFO(id, lng, shrt, arg, argname, help) {lng, shrt, arg, argname, help},
    AGENT_OPTIONS(AOPT_INFO)
#undef AOPT_INFO
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: shelly-provisioner --manager URL [--enrol-secret-file FILE] [options]\n\n"
	    "Puts factory-fresh Shelly devices on a WiFi network for shelly-tui.\n\n"
	    "Options:\n");
	for (int i = 0; i < AOPT__COUNT; i++)
		optspec_help(fp, &aopts[i], 30);
	fprintf(fp, "\nEnvironment: SHELLY_TUI_ALLOW_NETS (CIDRs the agent may contact; anything "
	            "else is refused).\nExit status: 0 ok, 1 runtime failure, 2 usage error.\n"
	            "See shelly-provisioner(1).\n");
}

/* Prints the range error of a seconds option (parse_seconds: 0.001 to max). */
static void
range_error(const char *option, double max, const char *value)
{
	char *cause = str_range_error(option, "seconds", 0.001, 0, max, value);

	fprintf(stderr, "shelly-provisioner: %s\n", cause);
	free(cause);
}

/* Seconds (util/str str_parse_seconds) as a whole number of milliseconds, at least 1. */
static int
parse_seconds(const char *s, double max, uint64_t *ms)
{
	double v;

	if (str_parse_seconds(s, max, &v) != 0)
		return -1;
	*ms = (uint64_t)(v * 1000);
	return *ms > 0 ? 0 : -1;
}

/*
 * "http://HOST[:PORT]" or "https://HOST[:PORT]" (util/hostport's HOST:PORT; the scheme's port
 * when none is given), optionally followed by the path the manager prints, "/api/v1/", or "/".
 */
static int
parse_manager(const char *url, char **host, uint16_t *port, int *https)
{
	static const char *const paths[] = {"/api/v1/", "/api/v1", "/"};
	const char *p;
	char *hp, *err = NULL;
	unsigned v;
	size_t len;
	int rc;

	*https = strncmp(url, "https://", 8) == 0;
	if (!*https && strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + (*https ? 8 : 7);
	len = strlen(p);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		size_t n = strlen(paths[i]);

		if (len > n && strcmp(p + len - n, paths[i]) == 0) {
			len -= n;
			break;
		}
	}
	hp = xstrndup(p, len);
	rc = hostport_parse(hp, *https ? 443 : 80, 0, host, &v, &err);
	free(hp);
	free(err);
	if (rc != 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

struct agent_main {
	const char *val[AOPT__COUNT];
	int set[AOPT__COUNT];
	struct agent_opts o;
	char *host;
	char hostname[HOST_NAME_MAX + 1];
};

static int
parse_args(int argc, char **argv, struct agent_main *m)
{
	struct option longopts[AOPT__COUNT + 1];
	char shortopts[2 * AOPT__COUNT + 2];
	int c;

	optspec_getopt(aopts, AOPT__COUNT, longopts, shortopts);
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int opt = optspec_index(aopts, AOPT__COUNT, c), k;

		if (c == '?' || c == ':' || opt < 0) {
			fprintf(stderr, "shelly-provisioner: %s %s\n",
			    c == ':' ? "option needs an argument:" : "unknown option",
			    argv[optind - 1]);
			return -1;
		}
		k = optspec_arg_option(aopts, AOPT__COUNT, optarg);
		if (k >= 0) {
			/* "--manager --once": the URL left out, not a manager named --once */
			fprintf(stderr,
			    "shelly-provisioner: option --%s needs an argument (--%s is an "
			    "option of its own)\n",
			    aopts[opt].name, aopts[k].name);
			return -1;
		}
		m->set[opt]++;
		m->val[opt] = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "shelly-provisioner: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Fills m->o from the options; prints the problem and returns -1 on a usage error. */
static int
settle(struct agent_main *m)
{
	struct agent_opts *o = &m->o;
	uint64_t ms;

	if (!m->set[AOPT_MANAGER] || parse_manager(m->val[AOPT_MANAGER], &m->host, &o->manager_port,
	                                 &o->manager_https) != 0) {
		fprintf(stderr, "shelly-provisioner: --manager http://HOST[:PORT][/api/v1/] (or "
		                "https://) is required\n");
		return -1;
	}
	o->ca_file = m->val[AOPT_CA_FILE];
	if (o->ca_file != NULL && !o->manager_https) {
		/* the operator meant TLS: the token and WiFi keys would go in clear */
		fprintf(stderr, "shelly-provisioner: --ca-file goes with an https:// --manager\n");
		return -1;
	}
	if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
		fprintf(
		    stderr, "shelly-provisioner: --ca-file %s: %s\n", o->ca_file, strerror(errno));
		return -1;
	}
	o->manager_host = m->host;
	o->secret_file = m->val[AOPT_ENROL_SECRET_FILE];
	o->token_file =
	    m->set[AOPT_TOKEN_FILE] ? m->val[AOPT_TOKEN_FILE] : "shelly-provisioner.token";
	gethostname(m->hostname, sizeof m->hostname - 1);
	o->name = m->set[AOPT_NAME] ? m->val[AOPT_NAME] : m->hostname;
	if (!str_ascii_printable(o->name, 1, 64)) {
		fprintf(stderr, "shelly-provisioner: --name must be 1-64 printable characters\n");
		return -1;
	}
	o->device_host = m->set[AOPT_DEVICE] ? m->val[AOPT_DEVICE] : "192.168.33.1";
	o->poll_ms = 5000;
	o->verify_wait_ms = 300000;
	o->timeout_ms = 10000;
	o->once = m->set[AOPT_ONCE] > 0;
	if (m->set[AOPT_POLL] && parse_seconds(m->val[AOPT_POLL], 3600, &o->poll_ms) != 0) {
		range_error("--poll", 3600, m->val[AOPT_POLL]);
		return -1;
	}
	if (m->set[AOPT_VERIFY_WAIT] &&
	    parse_seconds(m->val[AOPT_VERIFY_WAIT], 86400, &o->verify_wait_ms) != 0) {
		range_error("--verify-wait", 86400, m->val[AOPT_VERIFY_WAIT]);
		return -1;
	}
	if (m->set[AOPT_TIMEOUT]) {
		if (parse_seconds(m->val[AOPT_TIMEOUT], 600, &ms) != 0) {
			range_error("--timeout", 600, m->val[AOPT_TIMEOUT]);
			return -1;
		}
		o->timeout_ms = (uint32_t)ms;
	}
	return 0;
}

static void
signal_cb(int sig, void *arg)
{
	log_info("signal %d: stopping after this step", sig);
	agent_stop(arg);
}

static int
run(struct agent_main *m)
{
	struct loop *loop = loop_new();
	struct guard *guard = NULL;
	struct http *http;
	struct wifi *wifi;
	struct agent *a;
	char *cause = NULL, *at;
	int rc = EXIT_FAIL;

	if (guard_from_env(&guard, &cause) != 0) {
		fprintf(stderr, "shelly-provisioner: SHELLY_TUI_ALLOW_NETS: %s\n", cause);
		free(cause);
		loop_free(loop);
		return EXIT_USAGE;
	}
	wifi = wifi_new(m->set[AOPT_WIFI] ? m->val[AOPT_WIFI] : "nm", &cause);
	if (wifi == NULL) {
		fprintf(stderr, "shelly-provisioner: --wifi: %s\n", cause);
		free(cause);
		guard_free(guard);
		loop_free(loop);
		return EXIT_USAGE;
	}
	http = http_new(loop);
	http_set_allow(http, guard_families_cb, guard);
	a = agent_new(loop, http, wifi, &m->o);
	loop_signal(loop, SIGTERM, signal_cb, a);
	loop_signal(loop, SIGINT, signal_cb, a);
	at = agent_manager_at(&m->o);
	log_info("agent %s for manager %s", m->o.name, at);
	free(at);
	if (agent_run(a, &cause) == 0)
		rc = EXIT_OK;
	else {
		log_error("%s", cause);
		free(cause);
	}
	agent_free(a);
	http_free(http);
	wifi_free(wifi);
	guard_free(guard);
	loop_free(loop);
	return rc;
}

int
main(int argc, char **argv)
{
	struct agent_main m;
	int rc;

	memset(&m, 0, sizeof m);
	if (parse_args(argc, argv, &m) != 0)
		return EXIT_USAGE;
	if (m.set[AOPT_HELP]) {
		usage(stdout);
		return EXIT_OK;
	}
	if (m.set[AOPT_VERSION]) {
		printf("shelly-provisioner %s\n", SHELLY_TUI_VERSION);
		return EXIT_OK;
	}
	log_set_level(m.set[AOPT_QUIET]         ? LOG_ERROR
	              : m.set[AOPT_VERBOSE] > 1 ? LOG_DEBUG
	                                        : LOG_INFO);
	if (settle(&m) != 0) {
		free(m.host);
		return EXIT_USAGE;
	}
	if (http_global_init() != 0) {
		fprintf(stderr, "shelly-provisioner: curl_global_init failed\n");
		free(m.host);
		return EXIT_FAIL;
	}
	rc = run(&m);
	curl_global_cleanup();
	free(m.host);
	return rc;
}
