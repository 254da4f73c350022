/*
 * The reference for the interval guard check (util/guard.h guard_first_refused,
 * discovery/scan.h scan_targets_check_guard): the per-address check the scan used before,
 * every address formatted as a dotted quad and passed to guard_allows(). Shared by
 * tests/unit/test_guard.c, tests/unit/test_scan.c and tests/bench/bench_guard.c, together with
 * a small seeded generator of random networks in a narrow window of the address space.
 * Header only; every function is static inline (each user takes what it needs).
 */
#ifndef TESTS_GUARDREF_H
#define TESTS_GUARDREF_H

#include <stdint.h>
#include <stdio.h>

#include "util/guard.h"

/* Writes a (host byte order) as a dotted quad. */
static inline void
ref_quad(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xFFu, (a >> 8) & 0xFFu, a & 0xFFu);
}

/* The old per-address check: 1 with *out the lowest refused address of [first, last], or 0. */
static inline int
ref_first_refused(const struct guard *g, uint32_t first, uint32_t last, uint32_t *out)
{
	char host[16];

	for (uint64_t a = first; a <= last; a++) {
		ref_quad((uint32_t)a, host, sizeof host);
		if (!guard_allows(g, host)) {
			*out = (uint32_t)a;
			return 1;
		}
	}
	return 0;
}

/* xorshift32: a fixed seed gives the same cases on every machine. */
static inline uint32_t
ref_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/*
 * Writes one random network inside [base, base + span) (span a power of two, 2..256) in one
 * of the syntaxes util/cidr.h accepts: a block with a random prefix, a single address, a range
 * with a full end or with only the last octet. Occasionally a block wider than the window
 * (down to /0) or one outside it.
 */
static inline void
ref_random_net(uint32_t *state, uint32_t base, uint32_t span, char *buf, size_t size)
{
	uint32_t a = base + ref_rand(state) % span, b = base + ref_rand(state) % span, t;
	int bits = 0, prefix;
	char lo[16], hi[16];

	while ((1u << bits) < span)
		bits++;
	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	ref_quad(a, lo, sizeof lo);
	ref_quad(b, hi, sizeof hi);
	switch (ref_rand(state) % 8) {
	case 0:
		snprintf(buf, size, "%s", lo);
		break;
	case 1:
		snprintf(buf, size, "%s-%s", lo, hi);
		break;
	case 2:
		if ((a >> 8) == (b >> 8)) {
			snprintf(buf, size, "%s-%u", lo, b & 0xFFu);
			break;
		}
		/* FALLTHROUGH */
	case 3:
		prefix = (int)(ref_rand(state) % 33);
		snprintf(buf, size, "%s/%d", lo, prefix);
		break;
	case 4:
		ref_quad(a ^ 0x40000000u, lo, sizeof lo); /* elsewhere */
		/* FALLTHROUGH */
	default:
		prefix = 32 - (int)(ref_rand(state) % (unsigned)(bits + 1));
		snprintf(buf, size, "%s/%d", lo, prefix);
		break;
	}
}

#endif
