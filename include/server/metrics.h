#ifndef SERVER_METRICS_H
#define SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A writer of the Prometheus text exposition format 0.0.4, appending to a caller's strbuf.
 * A family starts with "# HELP" and "# TYPE" (printed even when no sample follows, which
 * promtool accepts); its samples follow. The writer checks what the format requires: metric
 * and label names, one HELP/TYPE per family name, samples of the current family only, counters
 * named *_total, histograms written whole (cumulative buckets with le, +Inf, _sum, _count).
 * Label values and HELP text are escaped, and invalid UTF-8 in them becomes U+FFFD, so values
 * from the network are safe. Timestamps are never written (exporters should not set them).
 *
 * Errors are sticky: a failing call appends nothing, returns -1 and records the first error;
 * later samples fail until the next family starts. Check metrics_writer_error() at the end.
 */
struct strbuf;
struct histogram;
struct metrics_writer;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Room for any value metrics_format_value() writes, NUL included. */
#define METRICS_VALUE_MAX 32

enum metrics_type {
	METRICS_GAUGE,
	METRICS_COUNTER,
	METRICS_HISTOGRAM,
	METRICS_UNTYPED,
};

/* A family as a row of an exporter's table of the families it writes. */
struct metrics_family_info {
	const char *name;
	enum metrics_type type;
	const char *help;
};

struct metrics_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value;	/* any string; NULL is written as "" */
};

/* Returns a writer appending to out (not owned; it must outlive the writer); caller frees. */
struct metrics_writer *metrics_writer_new(struct strbuf *out);
/* Frees the writer (not its strbuf). NULL is allowed. */
void metrics_writer_free(struct metrics_writer *w);
/* Returns the first error so far, or NULL; owned by w. */
const char *metrics_writer_error(const struct metrics_writer *w);

/*
 * Starts family name ([a-zA-Z_:][a-zA-Z0-9_:]*; counters end in "_total") of type, with
 * non-empty help text. Returns 0, or -1 (bad name, counter without _total, empty help, or a
 * name already written).
 */
int metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type,
    const char *help);
/* Writes one family as --list-metrics shows it: name, type, help on one line. */
void metrics_list_family(FILE *fp, const char *name, enum metrics_type type, const char *help);
/*
 * Writes one sample of the current gauge, counter or untyped family: its name, the nlabels
 * labels in the given order, value. Returns 0, or -1 (no such family, a histogram family, bad
 * or repeated label name).
 */
int metrics_sample(struct metrics_writer *w, const struct metrics_label *labels, size_t nlabels,
    double value);
/*
 * Writes one histogram series of the current histogram family: name_bucket{...,le="B"} for
 * each of the nbounds increasing finite bounds and le="+Inf", then name_sum and name_count.
 * counts holds nbounds + 1 per-bucket (not cumulative) counts, the last one for observations
 * above the largest bound. Returns 0, or -1 (bad family or labels, "le" among labels, bounds
 * not increasing or not finite).
 */
int metrics_histogram_buckets(struct metrics_writer *w, const struct metrics_label *labels,
    size_t nlabels, const double *bounds, const uint64_t *counts, size_t nbounds, double sum);
/* Writes h (util/histogram.h) as one series; see metrics_histogram_buckets. */
int metrics_histogram(struct metrics_writer *w, const struct metrics_label *labels,
    size_t nlabels, const struct histogram *h);

/*
 * Formats v as the format wants it into buf (size >= METRICS_VALUE_MAX): "NaN", "+Inf",
 * "-Inf"; integral values below 1e17 in magnitude without exponent ("1500", "-3"); others in
 * the shortest form that reads back as the same double ("0.1", "2.5e-07"). Always a '.'
 * decimal point, whatever the locale. Returns buf.
 */
char *metrics_format_value(double v, char *buf, size_t size);

#endif
