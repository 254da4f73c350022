/*
 * The DRIFT column's recomputation over a large fleet (tests/bench/drift.sh): N devices in one
 * group that follows a template file, each with a stored snapshot. One pass computes every
 * device's drift from the store, as the console does at most every 2 seconds; the template
 * uses ${index}. The baseline reads and parses the template, and the group's members for
 * ${index}, for every device (no cache); the measured pass goes through engine/tmplcache (the
 * file checked once, read only when it changed; members read once per store version). Wall time per pass,
 * median of the rounds, and how many times the template was read.
 *
 * usage: bench_drift DIR [-n DEVICES] [-r ROUNDS]
 * prints: bench_drift n=N uncached_us=X cached_us=Y reads=Z
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/cfgdesired.h"
#include "engine/tmplcache.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/xmalloc.h"

static double
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The fleet: n devices in group "g" following template "base"; every snapshot differs. */
static struct store *
fleet(const char *dir, int n, char (*macs)[13])
{
	struct store *s = NULL;
	const char **members = xcalloc((size_t)n, sizeof *members);
	char path[512], *cause = NULL;
	FILE *fp;

	snprintf(path, sizeof path, "%s/shelly-tui/templates", dir);
	if (setenv("XDG_CONFIG_HOME", dir, 1) != 0)
		exit(1);
	snprintf(path, sizeof path, "%s/shelly-tui/templates/base.tmpl", dir);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs("sys.timezone = America/Chicago\nsys.name = n${index}\n", fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/bench.db", dir);
	if (store_open(path, &s, &cause) != 0) {
		fprintf(stderr, "store: %s\n", cause);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		struct store_device d;
		memset(&d, 0, sizeof d);
		snprintf(macs[i], 13, "b0b0%08x", i);
		memcpy(d.mac, macs[i], 13);
		d.id = macs[i];
		d.gen = 2;
		members[i] = macs[i];
		if (store_device_upsert(s, &d, &cause) != 0 ||
		    cfgstore_snapshot_add(s, macs[i], 1000, 2, 1, 1, "read",
		        "sys.timezone = UTC\nsys.name = x\n", &cause) != 0) {
			fprintf(stderr, "fleet: %s\n", cause);
			exit(1);
		}
	}
	if (cfgstore_group_add(s, "g", members, (size_t)n, &cause) != 0 ||
	    cfgstore_group_template(s, "g", "base", &cause) != 0) {
		fprintf(stderr, "group: %s\n", cause);
		exit(1);
	}
	free(members);
	return s;
}

/* One pass over every device; c NULL: no cache. Returns the wall time in us. */
static double
pass(struct store *s, struct tmplcache *c, int n, char (*macs)[13])
{
	double t0 = wall_us();
	long sum = 0;

	if (c != NULL)
		tmplcache_pass(c, store_data_version(s));
	for (int i = 0; i < n; i++) {
		struct devconfig_vars v = {.mac = macs[i], .id = macs[i]}; /* index: the group's */
		sum += c != NULL ? cfgdesired_drift_cached(s, c, macs[i], &v)
		                 : cfgdesired_drift(s, macs[i], &v);
	}
	if (sum != 2L * n) { /* two fields drift on every device */
		fprintf(stderr, "unexpected drift total %ld\n", sum);
		exit(1);
	}
	return wall_us() - t0;
}

int
main(int argc, char **argv)
{
	int n = 1000, rounds = 5;
	double *un, *ca;
	char(*macs)[13], sub[512];
	struct store *s;
	struct tmplcache *c = tmplcache_new();

	if (argc < 2) {
		fprintf(stderr, "usage: bench_drift DIR [-n DEVICES] [-r ROUNDS]\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-n") == 0)
			n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-r") == 0)
			rounds = atoi(argv[i + 1]);
	}
	if (n < 1 || rounds < 1)
		return 2;
	snprintf(sub, sizeof sub, "%s/shelly-tui", argv[1]);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/shelly-tui/templates", argv[1]);
	mkdir(sub, 0700);
	macs = xcalloc((size_t)n, sizeof *macs);
	s = fleet(argv[1], n, macs);
	un = xcalloc((size_t)rounds, sizeof *un);
	ca = xcalloc((size_t)rounds, sizeof *ca);
	pass(s, c, n, macs); /* warm: the first pass reads the file */
	for (int r = 0; r < rounds; r++) {
		un[r] = pass(s, NULL, n, macs);
		ca[r] = pass(s, c, n, macs);
	}
	qsort(un, (size_t)rounds, sizeof *un, dcmp);
	qsort(ca, (size_t)rounds, sizeof *ca, dcmp);
	printf("bench_drift n=%d uncached_us=%.0f cached_us=%.0f reads=%zu passes=%d\n", n,
	    un[rounds / 2], ca[rounds / 2], tmplcache_reads(c), rounds + 1);
	tmplcache_free(c);
	store_free(s);
	free(un);
	free(ca);
	free(macs);
	return 0;
}
