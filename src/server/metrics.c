/*
 * Prometheus text exposition format 0.0.4 (prometheus/docs, exposition_formats.md):
 *
 *   # HELP name text            text escapes '\' and newline
 *   # TYPE name gauge|counter|histogram|untyped
 *   name{label="value",...} value
 *
 * Label values escape '\', '"' and newline. Values are Go ParseFloat numbers, "NaN", "+Inf"
 * or "-Inf". Each line is built in a scratch buffer and appended only once it is known to be
 * valid, so a failing call leaves the output untouched.
 */
#include "server/metrics.h"

#include "util/histogram.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics_writer {
	struct strbuf *out;
	struct strbuf line;	/* scratch: what one call is about to append */
	char *family;		/* current family name, NULL when none is open */
	enum metrics_type type;
	char **seen;		/* family names written so far */
	size_t nseen;
	char *error;
};

static const char *const metrics_type_name[] = {
	[METRICS_GAUGE] = "gauge",
	[METRICS_COUNTER] = "counter",
	[METRICS_HISTOGRAM] = "histogram",
	[METRICS_UNTYPED] = "untyped",
};

void
metrics_list_family(FILE *fp, const char *name, enum metrics_type type, const char *help)
{
	fprintf(fp, "%-44s %-9s %s\n", name, metrics_type_name[type], help);
}

__attribute__((format(printf, 2, 3))) static int
metrics_fail(struct metrics_writer *w, const char *fmt, ...)
{
	va_list ap;

	if (w->error == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&w->error, fmt, ap) < 0)
			w->error = xstrdup("metrics: error");
		va_end(ap);
	}
	return -1;
}

static bool
metrics_name_ok(const char *s, bool colon)
{
	if (s == NULL || *s == '\0')
		return false;
	for (size_t i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		    (colon && c == ':'))
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return false;
	}
	return true;
}

static bool
metrics_label_name_ok(const char *s)
{
	return metrics_name_ok(s, false) && strncmp(s, "__", 2) != 0;
}

/* Returns the length of the valid UTF-8 sequence at s (1-4), or 0 if it is not valid. */
static size_t
metrics_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0; /* overlong, or a UTF-16 surrogate */
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0; /* overlong, or above U+10FFFF */
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4
		    : 0;
	}
	return 0;
}

/*
 * Returns 1 when the n-byte UTF-8 sequence at p is a control character (C0, DEL, C1) or a
 * bidirectional control (U+200E-200F, U+202A-202E, U+2066-2069, U+061C) that could rearrange
 * or hide what a terminal shows of a label value.
 */
static bool
metrics_unsafe(const unsigned char *p, size_t n)
{
	if (n == 1)
		return *p < 0x20 || *p == 0x7f;
	if (n == 2)
		return (p[0] == 0xc2 && p[1] < 0xa0) || (p[0] == 0xd8 && p[1] == 0x9c);
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x80)
		return p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae);
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x81)
		return p[2] >= 0xa6 && p[2] <= 0xa9;
	return false;
}

/*
 * Appends s escaped: '\' and newline always, '"' when quote is set; invalid UTF-8 bytes become
 * U+FFFD. Label values (quote set) lose control characters and bidirectional controls. The
 * NUL terminator stops every sequence check early, so reads stay in bounds.
 */
static void
metrics_escape(struct strbuf *sb, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	while (*p != '\0') {
		size_t n = metrics_utf8_len(p);

		if (n != 0 && quote && metrics_unsafe(p, n)) {
			p += n;
		} else if (n == 0) {
			strbuf_append(sb, "\xef\xbf\xbd");
			p++;
		} else if (*p == '\\') {
			strbuf_append(sb, "\\\\");
			p++;
		} else if (*p == '\n') {
			strbuf_append(sb, "\\n");
			p++;
		} else if (*p == '"' && quote) {
			strbuf_append(sb, "\\\"");
			p++;
		} else {
			strbuf_append_len(sb, (const char *)p, n);
			p += n;
		}
	}
}

/*
 * Appends a label value escaped, after the sanitiser every other output uses has removed
 * escape sequences whole (CSI, OSC... with their payloads), so no leftovers such as "[31m"
 * reach the scrape; metrics_escape still drops the bidi marks it does not cover.
 */
static void
metrics_label_value(struct strbuf *sb, const char *s)
{
	char *clean;

	if (str_is_safe(s)) {
		metrics_escape(sb, s, true);
		return;
	}
	clean = str_sanitize(s, 0);
	metrics_escape(sb, clean, true);
	free(clean);
}

char *
metrics_format_value(double v, char *buf, size_t size)
{
	char tmp[64];
	size_t o = 0;
	bool point = false;

	if (size == 0)
		return buf;
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return buf;
	}
	if (isinf(v)) {
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
		return buf;
	}
	if (v == 0)
		v = 0; /* -0 prints as 0 */
	if (fabs(v) < 1e17 && v == trunc(v)) {
		snprintf(buf, size, "%.0f", v);
		return buf;
	}
	/* Shortest %g that reads back as v; the round trip and the formatting use the same
	 * locale, then its decimal point (whatever bytes) becomes '.'. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	for (const char *p = tmp; *p != '\0' && o + 1 < size; p++) {
		if ((*p >= '0' && *p <= '9') || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')
			buf[o++] = *p;
		else if (!point) {
			buf[o++] = '.';
			point = true;
		}
	}
	buf[o] = '\0';
	return buf;
}

static void
metrics_append_value(struct strbuf *sb, double v)
{
	char buf[METRICS_VALUE_MAX];

	strbuf_append(sb, metrics_format_value(v, buf, sizeof buf));
}

/* Checks labels: valid, distinct names, none reserved (le for histograms). */
static int
metrics_check_labels(struct metrics_writer *w, const struct metrics_label *labels, size_t n,
    const char *reserved)
{
	if (n > 0 && labels == NULL)
		return metrics_fail(w, "metrics: %s: labels missing", w->family);
	for (size_t i = 0; i < n; i++) {
		if (!metrics_label_name_ok(labels[i].name))
			return metrics_fail(w, "metrics: %s: bad label name \"%s\"", w->family,
			    labels[i].name != NULL ? labels[i].name : "(null)");
		if (reserved != NULL && strcmp(labels[i].name, reserved) == 0)
			return metrics_fail(w, "metrics: %s: label \"%s\" is reserved", w->family,
			    reserved);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(labels[i].name, labels[j].name) == 0)
				return metrics_fail(w, "metrics: %s: label \"%s\" repeated", w->family,
				    labels[i].name);
		}
	}
	return 0;
}

/* Appends name+suffix{labels[,le="le"]} and a space to the scratch line. */
static void
metrics_series(struct metrics_writer *w, const char *suffix, const struct metrics_label *labels,
    size_t n, const char *le)
{
	struct strbuf *sb = &w->line;

	strbuf_append(sb, w->family);
	strbuf_append(sb, suffix);
	if (n > 0 || le != NULL) {
		strbuf_append_char(sb, '{');
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				strbuf_append_char(sb, ',');
			strbuf_append(sb, labels[i].name);
			strbuf_append(sb, "=\"");
			metrics_label_value(sb, labels[i].value);
			strbuf_append_char(sb, '"');
		}
		if (le != NULL) {
			if (n > 0)
				strbuf_append_char(sb, ',');
			strbuf_appendf(sb, "le=\"%s\"", le);
		}
		strbuf_append_char(sb, '}');
	}
	strbuf_append_char(sb, ' ');
}

static void
metrics_commit(struct metrics_writer *w)
{
	strbuf_append_len(w->out, strbuf_str(&w->line), w->line.len);
	strbuf_reset(&w->line);
}

struct metrics_writer *
metrics_writer_new(struct strbuf *out)
{
	struct metrics_writer *w = xcalloc(1, sizeof *w);

	w->out = out;
	strbuf_init(&w->line);
	return w;
}

void
metrics_writer_free(struct metrics_writer *w)
{
	if (w == NULL)
		return;
	str_array_free(w->seen, w->nseen);
	free(w->family);
	free(w->error);
	strbuf_done(&w->line);
	free(w);
}

const char *
metrics_writer_error(const struct metrics_writer *w)
{
	return w->error;
}

int
metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type,
    const char *help)
{
	size_t len;

	free(w->family);
	w->family = NULL;
	if (!metrics_name_ok(name, true))
		return metrics_fail(w, "metrics: bad metric name \"%s\"",
		    name != NULL ? name : "(null)");
	if ((unsigned int)type > METRICS_UNTYPED)
		return metrics_fail(w, "metrics: %s: bad type %d", name, (int)type);
	len = strlen(name);
	if (type == METRICS_COUNTER && (len < 6 || strcmp(name + len - 6, "_total") != 0))
		return metrics_fail(w, "metrics: counter %s must end in _total", name);
	if (help == NULL || *help == '\0')
		return metrics_fail(w, "metrics: %s: help text missing", name);
	if (str_list_has(w->seen, w->nseen, name))
		return metrics_fail(w, "metrics: family %s written twice", name);
	w->seen = xreallocarray(w->seen, w->nseen + 1, sizeof *w->seen);
	w->seen[w->nseen++] = xstrdup(name);
	w->family = xstrdup(name);
	w->type = type;

	strbuf_appendf(&w->line, "# HELP %s ", name);
	metrics_escape(&w->line, help, false);
	strbuf_appendf(&w->line, "\n# TYPE %s %s\n", name, metrics_type_name[type]);
	metrics_commit(w);
	return 0;
}

int
metrics_sample(struct metrics_writer *w, const struct metrics_label *labels, size_t nlabels,
    double value)
{
	if (w->family == NULL)
		return metrics_fail(w, "metrics: sample outside a family");
	if (w->type == METRICS_HISTOGRAM)
		return metrics_fail(w, "metrics: %s: histogram samples need metrics_histogram",
		    w->family);
	if (metrics_check_labels(w, labels, nlabels, NULL) != 0)
		return -1;
	metrics_series(w, "", labels, nlabels, NULL);
	metrics_append_value(&w->line, value);
	strbuf_append_char(&w->line, '\n');
	metrics_commit(w);
	return 0;
}

int
metrics_histogram_buckets(struct metrics_writer *w, const struct metrics_label *labels,
    size_t nlabels, const double *bounds, const uint64_t *counts, size_t nbounds, double sum)
{
	char le[METRICS_VALUE_MAX];
	uint64_t cumulative = 0;

	if (w->family == NULL)
		return metrics_fail(w, "metrics: histogram outside a family");
	if (w->type != METRICS_HISTOGRAM)
		return metrics_fail(w, "metrics: %s is not a histogram", w->family);
	if (metrics_check_labels(w, labels, nlabels, "le") != 0)
		return -1;
	if (counts == NULL || (nbounds > 0 && bounds == NULL))
		return metrics_fail(w, "metrics: %s: buckets missing", w->family);
	for (size_t i = 0; i < nbounds; i++) {
		if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
			return metrics_fail(w, "metrics: %s: bucket bounds must be finite and "
			    "increasing", w->family);
	}
	for (size_t i = 0; i <= nbounds; i++) {
		if (counts[i] > UINT64_MAX - cumulative)
			return metrics_fail(w, "metrics: %s: bucket counts overflow", w->family);
		cumulative += counts[i];
		if (i < nbounds)
			metrics_format_value(bounds[i], le, sizeof le);
		else
			snprintf(le, sizeof le, "+Inf");
		metrics_series(w, "_bucket", labels, nlabels, le);
		strbuf_appendf(&w->line, "%llu\n", (unsigned long long)cumulative);
	}
	metrics_series(w, "_sum", labels, nlabels, NULL);
	metrics_append_value(&w->line, sum);
	strbuf_append_char(&w->line, '\n');
	metrics_series(w, "_count", labels, nlabels, NULL);
	strbuf_appendf(&w->line, "%llu\n", (unsigned long long)cumulative);
	metrics_commit(w);
	return 0;
}

int
metrics_histogram(struct metrics_writer *w, const struct metrics_label *labels, size_t nlabels,
    const struct histogram *h)
{
	size_t n;
	const double *bounds = histogram_bounds(&n);

	return metrics_histogram_buckets(w, labels, nlabels, bounds, h->counts, n, h->sum);
}
