/*
 * The network guard's check of a scan's targets (tests/bench/guard.sh): a /8 target under the
 * guard 127.0.0.0/8, as scheduled discovery and the provisioning verifier check it at every
 * reload and run start. The baseline is the per-address check the scan used before (every
 * visited address formatted and passed to guard_allows, tests/unit/guardref.h); the measured
 * one is scan_targets_check_guard, which compares whole intervals. Wall time per check, the
 * least of the rounds (the one least disturbed on a shared machine), and the guard steps the
 * interval check took.
 *
 * usage: bench_guard [-r ROUNDS]
 * prints: bench_guard addresses=N per_address_us=X interval_us=Y steps=S
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/guardref.h"
#include "discovery/scan.h"
#include "util/guard.h"

#define TARGET "127.0.0.0/8"
#define FIRST 0x7F000001u /* the scan skips the network and broadcast addresses */
#define LAST 0x7FFFFFFEu
#define REPEAT 20000 /* interval checks per round, to rise above the clock's resolution */

/* Microseconds since *t0. */
static double
since_us(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e6 + (double)(now.tv_nsec - t0->tv_nsec) / 1e3;
}

int
main(int argc, char **argv)
{
	struct scan_targets *t = scan_targets_new();
	struct guard *g = NULL;
	double per_address = 0, interval = 0, us;
	struct timespec t0;
	int rounds = 3;
	uint64_t steps = 0;
	uint32_t refused;
	char *cause = NULL;

	if (argc == 3 && strcmp(argv[1], "-r") == 0)
		rounds = atoi(argv[2]);
	if (rounds < 1) {
		fprintf(stderr, "usage: bench_guard [-r ROUNDS]\n");
		return 2;
	}
	if (scan_targets_add(t, TARGET, &cause) != 0 || guard_parse(TARGET, &g, &cause) != 0) {
		fprintf(stderr, "bench_guard: %s\n", cause);
		return 1;
	}
	if (scan_targets_count(t) != (uint64_t)LAST - FIRST + 1) {
		fprintf(stderr, "bench_guard: the target visits %llu addresses\n",
		    (unsigned long long)scan_targets_count(t));
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (ref_first_refused(g, FIRST, LAST, &refused)) {
			fprintf(stderr, "bench_guard: per-address check refused\n");
			return 1;
		}
		us = since_us(&t0);
		per_address = r == 0 || us < per_address ? us : per_address;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < REPEAT; i++) {
			steps = 0;
			if (scan_targets_check_guard_counted(t, g, &steps, &cause) != 0) {
				fprintf(stderr, "bench_guard: %s\n", cause);
				return 1;
			}
		}
		us = since_us(&t0) / REPEAT;
		interval = r == 0 || us < interval ? us : interval;
	}
	printf("bench_guard addresses=%llu per_address_us=%.1f interval_us=%.4f steps=%llu\n",
	    (unsigned long long)scan_targets_count(t), per_address, interval,
	    (unsigned long long)steps);
	guard_free(g);
	scan_targets_free(t);
	return 0;
}
