#ifndef UTIL_HISTOGRAM_H
#define UTIL_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * A small in-memory histogram of durations in seconds with fixed bucket bounds (those of the
 * Prometheus client libraries): .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10, plus +Inf. A value
 * type: embed it, histogram_init it, observe into it; it owns no memory. Written out by
 * metrics_histogram() (server/metrics.h).
 */
#define HISTOGRAM_NBOUNDS 11

struct histogram {
	/* counts[i]: observations v with bound[i-1] < v <= bound[i] (not cumulative);
	 * counts[HISTOGRAM_NBOUNDS]: observations above the largest bound. */
	uint64_t counts[HISTOGRAM_NBOUNDS + 1];
	uint64_t count;
	double sum;
};

/* Empties h. */
void histogram_init(struct histogram *h);
/* Counts one observation of seconds; NaN is ignored, negative values land in the first bucket. */
void histogram_observe(struct histogram *h, double seconds);
/* Returns the HISTOGRAM_NBOUNDS upper bounds, increasing (static storage), and sets *n to it
 * when n is not NULL. */
const double *histogram_bounds(size_t *n);

#endif
