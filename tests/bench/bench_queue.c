/*
 * The configuration queue's check of a fleet-wide change (tests/bench/queue.sh): N registered
 * devices, each with desired fields of its own, and a change queued for every one (a static
 * address and an MQTT client id, none taken). The baseline checks each change as the queue
 * did before: every other device's address and desired configuration read from the store
 * (N reads per change). The measured path (engine/cfgholders) reads the registry once and
 * checks every change against the hash. CPU time per change, the best of the rounds.
 *
 * usage: bench_queue DIR [DEVICES]   (the baseline checks 10 changes of them, 3 rounds)
 * prints: bench_queue n=N pairwise_us=X hashed_us=Y
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cfgdesired.h"
#include "engine/cfgholders.h"
#include "engine/cfgunique.h"
#include "engine/tmplcache.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/xmalloc.h"

/* CPU time of this process: the check is single-threaded, and a shared machine's load
 * does not count against it. */
#define CPU_US() ((double)clock() * 1e6 / CLOCKS_PER_SEC)

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "%s: %s\n", what, cause != NULL ? cause : "?");
	exit(1);
}

struct fleet {
	struct store *s;
	int n;
	char (*macs)[13];
	struct devconfig *want;
};

static void
fleet_make(struct fleet *f, const char *dir, int n)
{
	char path[512], body[128], host[32], *cause = NULL;

	snprintf(path, sizeof path, "%s/bench.db", dir);
	if (store_open(path, &f->s, &cause) != 0)
		die("store", cause);
	f->n = n;
	f->macs = xcalloc((size_t)n, sizeof *f->macs);
	f->want = xcalloc((size_t)n, sizeof *f->want);
	for (int i = 0; i < n; i++) {
		struct store_device d;
		memset(&d, 0, sizeof d);
		snprintf(f->macs[i], 13, "b1b1%08x", i);
		snprintf(host, sizeof host, "127.240.%d.%d", i / 250, i % 250 + 1);
		memcpy(d.mac, f->macs[i], 13);
		d.gen = 2;
		d.host = host;
		snprintf(body, sizeof body, "mqtt.client_id = desired-%d\nsys.timezone = UTC\n", i);
		if (store_device_upsert(f->s, &d, &cause) != 0 ||
		    cfgstore_desired_set(f->s, f->macs[i], body, &cause) != 0)
			die("fleet", cause);
		snprintf(body, sizeof body, "wifi.sta.ip = 127.241.%d.%d\nmqtt.client_id = q-%d\n",
		    i / 250, i % 250 + 1, i);
		if (devconfig_template_parse(body, strlen(body), &f->want[i], &cause) != 0)
			die("want", cause);
	}
}

struct devs {
	struct store_device **v;
	size_t n;
};

static int
dev_cb(const struct store_device *d, void *arg)
{
	struct devs *o = arg;

	o->v = xreallocarray(o->v, o->n + 1, sizeof *o->v);
	o->v[o->n++] = store_device_dup(d);
	return 0;
}

/* The check as it was: the registry listed, every other device's desired configuration read. */
static char *
pairwise(struct fleet *f, int self)
{
	struct tmplcache *cache = tmplcache_new();
	struct devs o = {0};
	char *why = NULL, *cause = NULL;

	if (store_device_list(f->s, dev_cb, &o, &cause) != 0)
		die("list", cause);
	tmplcache_pass(cache, 0);
	for (size_t i = 0; why == NULL && i < o.n; i++) {
		const struct store_device *d = o.v[i];
		struct devconfig_vars v = {.mac = d->mac};
		struct devconfig other;
		devconfig_init(&other);
		if (strcmp(d->mac, f->macs[self]) != 0) {
			why = cfgunique_taken(&f->want[self], d->host, d->mac);
			if (why == NULL && cfgdesired_stored_cached(
			                       f->s, cache, d->mac, NULL, &v, &other, &cause) == 0)
				why = cfgunique_clash(&f->want[self], &other, d->mac);
			free(cause);
			cause = NULL;
		}
		devconfig_done(&other);
	}
	for (size_t i = 0; i < o.n; i++)
		store_device_free(o.v[i]);
	free(o.v);
	tmplcache_free(cache);
	return why;
}

static double
round_pairwise(struct fleet *f, int k)
{
	double t0 = CPU_US();

	for (int i = 0; i < k; i++) {
		char *why = pairwise(f, i * (f->n / k));
		if (why != NULL)
			die("pairwise: unexpected clash", why);
	}
	return (CPU_US() - t0) / k;
}

static double
round_hashed(struct fleet *f)
{
	double t0 = CPU_US();
	char *cause = NULL, *why;
	struct cfgholders *h = cfgholders_read(f->s, &cause);

	if (h == NULL)
		die("read", cause);
	for (int i = 0; i < f->n; i++)
		cfgholders_queued(h, f->macs[i], &f->want[i]);
	for (int i = 0; i < f->n; i++)
		if (cfgholders_check(h, f->macs[i], &f->want[i], &why) != CFGH_FREE)
			die("hashed: unexpected clash", why);
	cfgholders_free(h);
	return (CPU_US() - t0) / f->n;
}

int
main(int argc, char **argv)
{
	int n = 1000, rounds = 3, k = 10;
	double pw = 0, hs = 0;
	struct fleet f;

	if (argc < 2 || (argc > 2 && (n = atoi(argv[2])) < k)) {
		fprintf(stderr, "usage: bench_queue DIR [DEVICES (at least %d)]\n", k);
		return 2;
	}
	fleet_make(&f, argv[1], n);
	for (int r = 0; r < rounds; r++) { /* the best round of each: the least disturbed */
		double p = round_pairwise(&f, k), h = round_hashed(&f);
		pw = r == 0 || p < pw ? p : pw;
		hs = r == 0 || h < hs ? h : hs;
	}
	printf("bench_queue n=%d pairwise_us=%.0f hashed_us=%.1f\n", n, pw, hs);
	for (int i = 0; i < n; i++)
		devconfig_done(&f.want[i]);
	free(f.want);
	free(f.macs);
	store_free(f.s);
	return 0;
}
