/*
 * Fixed-bucket histogram of durations in seconds. Buckets are stored per bucket (not
 * cumulative) so observe() touches one counter; the writer accumulates.
 */
#include "util/histogram.h"

#include <math.h>
#include <string.h>

static const double histogram_bound[HISTOGRAM_NBOUNDS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void
histogram_init(struct histogram *h)
{
	memset(h, 0, sizeof *h);
}

void
histogram_observe(struct histogram *h, double seconds)
{
	size_t i;

	if (isnan(seconds))
		return;
	for (i = 0; i < HISTOGRAM_NBOUNDS; i++) {
		if (seconds <= histogram_bound[i])
			break;
	}
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

const double *
histogram_bounds(size_t *n)
{
	if (n != NULL)
		*n = HISTOGRAM_NBOUNDS;
	return histogram_bound;
}
