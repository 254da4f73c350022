/*
 * Test driver for the mDNS integration tests (built by tests/integration/mdns_*.sh, not by
 * the Makefile): publishes simulated devices with tests/sim/sim_mdns.c, or browses with
 * discovery/mdns and prints what it sees, one line per event, until SIGTERM/SIGINT.
 *
 *   mdns_driver publish [-r RETRY_MS] SPEC...
 *     SPEC  GEN|ID|IPV4|PORT|APP|VER|FW_ID|ARCH|NAME     (empty fields allowed)
 *           other|NAME|TYPE|HOST|IPV4|PORT|TXT...
 *     prints "READY <sessions>" each time everything is published.
 *   mdns_driver browse [-r RETRY_MS] [-1]
 *     prints "STATUS <state> <text>", "FOUND ...", and at "all for now" one "CAND ..." line per
 *     merged candidate then "ALLFORNOW sessions=N count=N ignored=N"; -1 exits after it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discovery/mdns.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#include "../sim/sim_mdns.h"

#define MAX_FIELDS 32

struct driver {
	struct loop *loop;
	struct sim_mdns *pub;
	struct mdns *mdns;
	int once;
};

static void
stop_cb(int sig, void *arg)
{
	struct driver *d = arg;

	(void)sig;
	loop_stop(d->loop);
}

/* Splits s in place at '|' (empty fields kept); returns the number of fields. */
static int
split(char *s, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = s;
		s = strchr(s, '|');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return n;
}

static void
ready_cb(void *arg)
{
	struct driver *d = arg;

	printf("READY %u\n", sim_mdns_sessions(d->pub));
}

static int
publish(struct driver *d, int argc, char **argv, unsigned retry)
{
	char *cause = NULL;

	d->pub = sim_mdns_new(d->loop, &cause);
	if (d->pub == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if (retry > 0)
		sim_mdns_set_retry(d->pub, retry);
	sim_mdns_set_ready_cb(d->pub, ready_cb, d);
	for (int i = 0; i < argc; i++) {
		char *spec = xstrdup(argv[i]), *f[MAX_FIELDS];
		int n = split(spec, f, MAX_FIELDS), r;

		if (strcmp(f[0], "other") == 0) {
			if (n < 6) {
				fprintf(stderr, "bad spec %s\n", argv[i]);
				free(spec);
				return 2;
			}
			r = sim_mdns_add_other(d->pub, f[1], f[2], f[3], f[4], (uint16_t)atoi(f[5]),
			    (const char *const *)&f[6], n - 6, &cause);
		} else {
			struct sim_mdns_device dev;

			if (n < 4) {
				fprintf(stderr, "bad spec %s\n", argv[i]);
				free(spec);
				return 2;
			}
			memset(&dev, 0, sizeof dev);
			dev.gen = atoi(f[0]);
			dev.id = f[1];
			dev.ipv4 = f[2];
			dev.port = (uint16_t)atoi(f[3]);
			dev.app = n > 4 ? f[4] : NULL;
			dev.ver = n > 5 ? f[5] : NULL;
			dev.fw_id = n > 6 ? f[6] : NULL;
			dev.arch = n > 7 ? f[7] : NULL;
			dev.name = n > 8 ? f[8] : NULL;
			r = sim_mdns_add(d->pub, &dev, &cause);
		}
		free(spec);
		if (r == -1) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			return 1;
		}
	}
	return 0;
}

static const char *
state_name(enum mdns_state s)
{
	switch (s) {
	case MDNS_STARTING:
		return "starting";
	case MDNS_BROWSING:
		return "browsing";
	case MDNS_UNAVAILABLE:
		return "unavailable";
	}
	return "?";
}

static void
print_cand(const char *tag, const struct mdns_candidate *c)
{
	printf("%s addr=%s port=%u gen=%d type=%s id=%s app=%s ver=%s fw_id=%s host=%s name=%s\n",
	    tag, c->address, c->port, c->gen, c->type, c->id, c->app, c->ver, c->fw_id, c->host,
	    c->name);
}

static void
found_cb(const struct mdns_candidate *c, void *arg)
{
	(void)arg;
	print_cand("FOUND", c);
}

static void
all_for_now_cb(void *arg)
{
	struct driver *d = arg;

	for (size_t i = 0; i < mdns_count(d->mdns); i++)
		print_cand("CAND", mdns_candidate(d->mdns, i));
	printf("ALLFORNOW sessions=%u count=%zu ignored=%zu\n", mdns_sessions(d->mdns),
	    mdns_count(d->mdns), mdns_ignored(d->mdns));
	if (d->once)
		loop_stop(d->loop);
}

static void
status_cb(enum mdns_state state, const char *status, void *arg)
{
	struct driver *d = arg;

	printf("STATUS %s sessions=%u %s\n", state_name(state), mdns_sessions(d->mdns), status);
	if (d->once && state == MDNS_UNAVAILABLE)
		loop_stop(d->loop);
}

int
main(int argc, char **argv)
{
	struct driver d;
	unsigned retry = 0;
	int opt, rc = 0;
	const char *mode;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&d, 0, sizeof d);
	if (argc < 2) {
		fprintf(stderr, "usage: mdns_driver publish|browse [-r MS] [-1] [SPEC...]\n");
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "r:1v")) != -1) {
		switch (opt) {
		case 'r':
			retry = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case '1':
			d.once = 1;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		default:
			return 2;
		}
	}
	d.loop = loop_new();
	loop_signal(d.loop, SIGTERM, stop_cb, &d);
	loop_signal(d.loop, SIGINT, stop_cb, &d);
	if (strcmp(mode, "publish") == 0) {
		rc = publish(&d, argc - optind, argv + optind, retry);
	} else if (strcmp(mode, "browse") == 0) {
		struct mdns_cbs cbs = { found_cb, all_for_now_cb, status_cb, &d };

		d.mdns = mdns_new(d.loop, &cbs, retry);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		rc = 2;
	}
	if (rc == 0 && loop_run(d.loop) == -1)
		rc = 1;
	mdns_free(d.mdns);
	sim_mdns_free(d.pub);
	loop_free(d.loop);
	printf("EXIT %d\n", rc);
	return rc;
}
