#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/histogram.h"
#include "server/metrics.h"
#include "util/str.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NLABELS(a) (sizeof(a) / sizeof((a)[0]))

static void
assert_value(double v, const char *want)
{
	char buf[METRICS_VALUE_MAX];

	assert_string_equal(metrics_format_value(v, buf, sizeof buf), want);
}

static void
test_format_value(void **state)
{
	(void)state;
	assert_value(0, "0");
	assert_value(-0.0, "0");
	assert_value(1, "1");
	assert_value(-3, "-3");
	assert_value(1500, "1500");
	assert_value(1e15, "1000000000000000");
	assert_value(36000000000.0, "36000000000"); /* 10 MWh in joules: no exponent */
	assert_value(99999999999999984.0, "99999999999999984");
	assert_value(1e17, "1e+17");
	assert_value(0.1, "0.1");
	assert_value(0.005, "0.005");
	assert_value(2.5, "2.5");
	assert_value(-0.25, "-0.25");
	assert_value(230.7, "230.7");
	assert_value(2.5e-7, "2.5e-07");
	assert_value(1.0 / 3.0, "0.3333333333333333");
	assert_value(0.1 + 0.2, "0.30000000000000004");
	assert_value(DBL_MAX, "1.7976931348623157e+308");
	assert_value(5e-324, "5e-324");
	assert_value(NAN, "NaN");
	assert_value(INFINITY, "+Inf");
	assert_value(-INFINITY, "-Inf");
}

static void
test_gauge_escaping(void **state)
{
	struct strbuf sb;
	struct metrics_writer *w;
	const struct metrics_label hostile[] = {
		{ "mac", "a8032ab12345" },
		{ "name", "a\"b\\c\nd" },
	};
	const struct metrics_label utf8[] = {
		{ "name", "K\xc3\xbc" "che" },		/* valid: kept */
		{ "model", "x\xff" "y\xc0\xaf" "z" },	/* invalid bytes: U+FFFD each */
		{ "empty", NULL },
	};

	(void)state;
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	assert_int_equal(metrics_family(w, "shelly_power_watts", METRICS_GAUGE,
	    "Power \"now\" in W; a \\ and a\nnewline."), 0);
	assert_int_equal(metrics_sample(w, hostile, NLABELS(hostile), 12.5), 0);
	assert_int_equal(metrics_sample(w, utf8, NLABELS(utf8), NAN), 0);
	assert_int_equal(metrics_sample(w, NULL, 0, -INFINITY), 0);
	assert_int_equal(metrics_sample(w, hostile, 1, INFINITY), 0);
	assert_null(metrics_writer_error(w));
	assert_string_equal(strbuf_str(&sb),
	    "# HELP shelly_power_watts Power \"now\" in W; a \\\\ and a\\nnewline.\n"
	    "# TYPE shelly_power_watts gauge\n"
	    "shelly_power_watts{mac=\"a8032ab12345\",name=\"a\\\"b\\\\cd\"} 12.5\n"
	    "shelly_power_watts{name=\"K\xc3\xbc" "che\",model=\"x\xef\xbf\xbdy\xef\xbf\xbd"
	    "\xef\xbf\xbdz\",empty=\"\"} NaN\n"
	    "shelly_power_watts -Inf\n"
	    "shelly_power_watts{mac=\"a8032ab12345\"} +Inf\n");
	metrics_writer_free(w);
	strbuf_done(&sb);
}

static void
test_counter_untyped_empty(void **state)
{
	struct strbuf sb;
	struct metrics_writer *w;
	const struct metrics_label reason[] = { { "reason", "timeout" } };

	(void)state;
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	assert_int_equal(metrics_family(w, "shelly_poll_errors_total", METRICS_COUNTER,
	    "Failed polls by reason."), 0);
	assert_int_equal(metrics_sample(w, reason, 1, 42), 0);
	/* A family without samples still prints HELP and TYPE (promtool accepts it). */
	assert_int_equal(metrics_family(w, "shelly_energy_joules_total", METRICS_COUNTER,
	    "Energy in J."), 0);
	assert_int_equal(metrics_family(w, "shelly:build_info", METRICS_UNTYPED, "Build."), 0);
	assert_int_equal(metrics_sample(w, NULL, 0, 1), 0);
	assert_null(metrics_writer_error(w));
	assert_string_equal(strbuf_str(&sb),
	    "# HELP shelly_poll_errors_total Failed polls by reason.\n"
	    "# TYPE shelly_poll_errors_total counter\n"
	    "shelly_poll_errors_total{reason=\"timeout\"} 42\n"
	    "# HELP shelly_energy_joules_total Energy in J.\n"
	    "# TYPE shelly_energy_joules_total counter\n"
	    "# HELP shelly:build_info Build.\n"
	    "# TYPE shelly:build_info untyped\n"
	    "shelly:build_info 1\n");
	metrics_writer_free(w);
	strbuf_done(&sb);
}

static void
test_histogram(void **state)
{
	struct histogram h;
	struct strbuf sb;
	struct metrics_writer *w;
	const struct metrics_label gen[] = { { "gen", "2" }, { "result", "ok" } };
	size_t n;
	const double *b = histogram_bounds(&n);

	(void)state;
	assert_int_equal(n, 11);
	assert_true(b[0] == 0.005 && b[7] == 1 && b[10] == 10);

	histogram_init(&h);
	histogram_observe(&h, 0.005);	/* le is inclusive: first bucket */
	histogram_observe(&h, 0.0051);	/* second */
	histogram_observe(&h, 0.3);	/* 0.5 */
	histogram_observe(&h, 0.3);
	histogram_observe(&h, 10);	/* 10 */
	histogram_observe(&h, 11.5);	/* +Inf only */
	histogram_observe(&h, NAN);	/* ignored */
	histogram_observe(&h, -1);	/* first */
	assert_int_equal(h.count, 7);
	assert_int_equal(h.counts[0], 2);
	assert_int_equal(h.counts[1], 1);
	assert_int_equal(h.counts[6], 2);
	assert_int_equal(h.counts[10], 1);
	assert_int_equal(h.counts[11], 1);

	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	assert_int_equal(metrics_family(w, "shelly_poll_duration_seconds", METRICS_HISTOGRAM,
	    "Time of one poll."), 0);
	assert_int_equal(metrics_histogram(w, gen, NLABELS(gen), &h), 0);
	assert_null(metrics_writer_error(w));
	assert_string_equal(strbuf_str(&sb),
	    "# HELP shelly_poll_duration_seconds Time of one poll.\n"
	    "# TYPE shelly_poll_duration_seconds histogram\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.005\"} 2\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.01\"} 3\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.025\"} 3\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.05\"} 3\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.1\"} 3\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.25\"} 3\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"0.5\"} 5\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"1\"} 5\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"2.5\"} 5\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"5\"} 5\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"10\"} 6\n"
	    "shelly_poll_duration_seconds_bucket{gen=\"2\",result=\"ok\",le=\"+Inf\"} 7\n"
	    "shelly_poll_duration_seconds_sum{gen=\"2\",result=\"ok\"} 21.1101\n"
	    "shelly_poll_duration_seconds_count{gen=\"2\",result=\"ok\"} 7\n");
	metrics_writer_free(w);
	strbuf_done(&sb);
}

static void
test_histogram_custom_buckets(void **state)
{
	struct strbuf sb;
	struct metrics_writer *w;
	const double bounds[] = { 0.5, 1 };
	const double bad[] = { 1, 1 };
	const double inf[] = { 1, INFINITY };
	const uint64_t counts[] = { 0, 0, 0 };
	const struct metrics_label le[] = { { "le", "1" } };

	(void)state;
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	assert_int_equal(metrics_family(w, "t_seconds", METRICS_HISTOGRAM, "T."), 0);
	assert_int_equal(metrics_histogram_buckets(w, NULL, 0, bounds, counts, 2, 0), 0);
	assert_int_equal(metrics_histogram_buckets(w, NULL, 0, bad, counts, 2, 0), -1);
	assert_int_equal(metrics_histogram_buckets(w, NULL, 0, inf, counts, 2, 0), -1);
	assert_int_equal(metrics_histogram_buckets(w, le, 1, bounds, counts, 2, 0), -1);
	assert_string_equal(strbuf_str(&sb),
	    "# HELP t_seconds T.\n"
	    "# TYPE t_seconds histogram\n"
	    "t_seconds_bucket{le=\"0.5\"} 0\n"
	    "t_seconds_bucket{le=\"1\"} 0\n"
	    "t_seconds_bucket{le=\"+Inf\"} 0\n"
	    "t_seconds_sum 0\n"
	    "t_seconds_count 0\n");
	assert_string_equal(metrics_writer_error(w),
	    "metrics: t_seconds: bucket bounds must be finite and increasing");
	metrics_writer_free(w);
	strbuf_done(&sb);
}

static void
test_errors(void **state)
{
	struct strbuf sb;
	struct metrics_writer *w;
	const struct metrics_label dunder[] = { { "__name__", "x" } };
	const struct metrics_label dash[] = { { "a-b", "x" } };
	const struct metrics_label digit[] = { { "1a", "x" } };
	const struct metrics_label twice[] = { { "a", "x" }, { "a", "y" } };
	const struct metrics_label nul[] = { { NULL, "x" } };
	struct histogram h;

	(void)state;
	histogram_init(&h);
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	assert_int_equal(metrics_sample(w, NULL, 0, 1), -1);
	assert_string_equal(metrics_writer_error(w), "metrics: sample outside a family");
	assert_int_equal(metrics_family(w, "1abc", METRICS_GAUGE, "x"), -1);
	assert_int_equal(metrics_family(w, "a-b", METRICS_GAUGE, "x"), -1);
	assert_int_equal(metrics_family(w, "", METRICS_GAUGE, "x"), -1);
	assert_int_equal(metrics_family(w, NULL, METRICS_GAUGE, "x"), -1);
	assert_int_equal(metrics_family(w, "polls", METRICS_COUNTER, "x"), -1);
	assert_int_equal(metrics_family(w, "g", METRICS_GAUGE, ""), -1);
	assert_int_equal(metrics_family(w, "g", METRICS_GAUGE, NULL), -1);
	assert_int_equal(metrics_sample(w, NULL, 0, 1), -1); /* the failed family is not open */
	assert_string_equal(sb.len == 0 ? "" : strbuf_str(&sb), "");

	assert_int_equal(metrics_family(w, "g", METRICS_GAUGE, "G."), 0);
	assert_int_equal(metrics_sample(w, dunder, 1, 1), -1);
	assert_int_equal(metrics_sample(w, dash, 1, 1), -1);
	assert_int_equal(metrics_sample(w, digit, 1, 1), -1);
	assert_int_equal(metrics_sample(w, twice, 2, 1), -1);
	assert_int_equal(metrics_sample(w, nul, 1, 1), -1);
	assert_int_equal(metrics_sample(w, NULL, 1, 1), -1);
	assert_int_equal(metrics_histogram(w, NULL, 0, &h), -1); /* gauge family */
	assert_int_equal(metrics_family(w, "g", METRICS_GAUGE, "G again."), -1);
	assert_int_equal(metrics_family(w, "hist", METRICS_HISTOGRAM, "H."), 0);
	assert_int_equal(metrics_sample(w, NULL, 0, 1), -1);
	assert_int_equal(metrics_family(w, "u", (enum metrics_type)99, "U."), -1);
	/* Nothing of the failed calls reached the output; the first error is kept. */
	assert_string_equal(strbuf_str(&sb),
	    "# HELP g G.\n# TYPE g gauge\n# HELP hist H.\n# TYPE hist histogram\n");
	assert_string_equal(metrics_writer_error(w), "metrics: sample outside a family");
	metrics_writer_free(w);
	strbuf_done(&sb);
}

/* Returns the path of promtool, or NULL: make deps installs it, so its absence fails. */
static const char *
promtool_path(void)
{
	static const char *const paths[] = { "/usr/bin/promtool", "/usr/local/bin/promtool" };

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	}
	return NULL;
}

/* Runs `promtool check metrics` on text; returns its exit status, output in out. */
static int
promtool_check(const char *text, char *out, size_t outsize)
{
	char path[] = "/tmp/test_metrics.XXXXXX";
	char *cmd;
	FILE *f, *p;
	size_t n, len = strlen(text);
	int fd, status;

	assert_non_null(promtool_path());
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_true(asprintf(&cmd, "%s check metrics < %s 2>&1", promtool_path(), path) > 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outsize - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);
	free(cmd);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_promtool(void **state)
{
	struct strbuf sb;
	struct metrics_writer *w;
	struct histogram h;
	char out[4096];
	const struct metrics_label dev[] = {
		{ "mac", "a8032ab12345" },
		{ "name", "a\"b\\c\nd \xff K\xc3\xbc" "che" },
		{ "model", "SNSW-001P16EU" },
		{ "gen", "2" },
	};
	const struct metrics_label reason[] = { { "reason", "timeout" } };
	const struct metrics_label gen[] = { { "gen", "1" } };

	(void)state;
	if (promtool_path() == NULL)
		fail_msg("promtool not found (install it with `make deps`)");
	histogram_init(&h);
	histogram_observe(&h, 0.042);
	histogram_observe(&h, 1.7);
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	metrics_family(w, "shelly_device_up", METRICS_GAUGE, "1 if the last poll succeeded.");
	metrics_sample(w, dev, NLABELS(dev), 1);
	metrics_family(w, "shelly_power_watts", METRICS_GAUGE,
	    "Power (polled on a schedule, \\ cached)\nper device.");
	metrics_sample(w, dev, NLABELS(dev), 230.25);
	metrics_sample(w, dev, 1, NAN);
	metrics_sample(w, dev, 2, INFINITY);
	metrics_sample(w, dev, 3, -INFINITY);
	metrics_family(w, "shelly_energy_joules_total", METRICS_COUNTER, "Energy in joules.");
	metrics_sample(w, dev, NLABELS(dev), 36000000000.0);
	metrics_family(w, "shelly_poll_errors_total", METRICS_COUNTER, "Failed polls.");
	metrics_sample(w, reason, 1, 3);
	metrics_family(w, "shelly_opnsense_sync_changes_total", METRICS_COUNTER, "No sample yet.");
	metrics_family(w, "shelly_poll_duration_seconds", METRICS_HISTOGRAM, "Poll time.");
	metrics_histogram(w, gen, 1, &h);
	metrics_histogram(w, NULL, 0, &h);
	metrics_family(w, "shelly_misc", METRICS_UNTYPED, "Untyped.");
	metrics_sample(w, NULL, 0, 2.5e-7);
	assert_null(metrics_writer_error(w));

	if (promtool_check(strbuf_str(&sb), out, sizeof out) != 0)
		fail_msg("promtool rejected:\n%s\n--- output:\n%s", strbuf_str(&sb), out);
	/* And it does reject: a raw newline inside a label value. */
	assert_int_not_equal(promtool_check("# HELP x X.\n# TYPE x gauge\nx{a=\"b\nc\"} 1\n", out,
	    sizeof out), 0);
	metrics_writer_free(w);
	strbuf_done(&sb);
}

/*
 * Label values from the network lose escape sequences whole (CSI, OSC, 8-bit CSI with their
 * parameters), control characters and bidi controls, as every other output does.
 */
static void
test_label_controls(void **state)
{
	struct strbuf sb;
	struct metrics_writer *w;
	const struct metrics_label l[] = {
		{ "name", "a\x1b[31mb\r\xe2\x80\xae" "c\xe2\x81\xa6" "d\x1b]0;pwn\x07" "e\x7f\xe2\x80\x8f"
			  "f\t\xc2\x9b" "1m" },
	};

	(void)state;
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	assert_int_equal(metrics_family(w, "x", METRICS_GAUGE, "X."), 0);
	assert_int_equal(metrics_sample(w, l, 1, 1), 0);
	assert_string_equal(strbuf_str(&sb), "# HELP x X.\n# TYPE x gauge\nx{name=\"abcdef\"} 1\n");
	metrics_writer_free(w);
	strbuf_done(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_gauge_escaping),
		cmocka_unit_test(test_label_controls),
		cmocka_unit_test(test_counter_untyped_empty),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_custom_buckets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
