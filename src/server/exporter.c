/*
 * /metrics, /healthz and /readyz from the fleet runtime's getters (server/exporter.h). The
 * page is written family by family in the order of the family table; per-device series are
 * labelled by MAC.
 */
#include "server/exporter.h"

#include <stdlib.h>
#include <string.h>

#include "engine/fleet.h"
#include "engine/poller.h"
#include "server/httpd.h"
#include "server/metrics.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum exporter_family {
#define EXPORTER_ENUM(id, name, type, help) EF_##id,
	EXPORTER_FAMILIES(EXPORTER_ENUM)
#undef EXPORTER_ENUM
	    EF__COUNT
};

static const struct metrics_family_info families[] = {
#define EXPORTER_INFO(id, name, type, help) {name, METRICS_##type, help},
    EXPORTER_FAMILIES(EXPORTER_INFO)
#undef EXPORTER_INFO
};

struct exporter {
	struct loop *loop;
	struct fleet *fleet;
	exporter_extra_cb extra; /* families a front end adds after the table's */
	void *extra_arg;
};

/* What one pass over the devices writes. */
struct page {
	struct metrics_writer *w;
	enum exporter_family fam;
	enum poller_sample_kind kind;
};

/* A poller sample's family type, which the sample table names in text. */
static enum metrics_type
sample_type(const struct poller_sample_info *in)
{
	return strcmp(in->type, "counter") == 0 ? METRICS_COUNTER : METRICS_GAUGE;
}

static void
device_info(struct metrics_writer *w, const struct fleet_view *v)
{
	char gen[12];
	struct metrics_label l[7] = {
	    {"mac", v->mac},
	    {"id", v->id},
	    {"name", v->name},
	    {"model", v->model},
	    {"gen", gen},
	    {"fw", v->fw},
	    {"ip", v->host},
	};

	snprintf(gen, sizeof gen, "%d", v->gen);
	metrics_sample(w, l, 7, 1);
}

static void
device_samples(struct metrics_writer *w, const struct fleet_view *v, enum poller_sample_kind k)
{
	for (size_t i = 0; i < v->nsamples; i++) {
		const struct poller_sample *s = &v->samples[i];
		struct metrics_label l[4];
		char ch[8], ph[2];
		size_t n = 0;

		if (s->kind != k)
			continue;
		l[n].name = "mac";
		l[n++].value = v->mac;
		if (s->component[0]) {
			l[n].name = "component";
			l[n++].value = s->component;
		}
		if (s->channel >= 0) {
			snprintf(ch, sizeof ch, "%d", s->channel);
			l[n].name = "channel";
			l[n++].value = ch;
		}
		if (s->phase) {
			ph[0] = s->phase;
			ph[1] = '\0';
			l[n].name = "phase";
			l[n++].value = ph;
		}
		metrics_sample(w, l, n, s->value);
	}
}

static void
view_cb(const struct fleet_view *v, void *arg)
{
	struct page *pg = arg;
	struct metrics_label l[2] = {
	    {"mac", v->mac}, {"state", v->known ? device_state_name(v->state) : "unknown"}};

	switch (pg->fam) {
	case EF_INFO:
		device_info(pg->w, v);
		break;
	case EF_UP: /* not for a device no run has polled: it is neither up nor down */
		if (v->known)
			metrics_sample(pg->w, l, 1, v->state == DEVICE_ONLINE ? 1 : 0);
		break;
	case EF_STATE:
		metrics_sample(pg->w, l, 2, 1);
		break;
	case EF_LAST_SEEN:
		if (v->last_seen_ms > 0)
			metrics_sample(pg->w, l, 1, (double)v->last_seen_ms / 1000.0);
		break;
	default:
		device_samples(pg->w, v, pg->kind);
		break;
	}
}

static void
poll_durations(struct metrics_writer *w, struct fleet *fleet)
{
	for (int g = 0; g < FLEET_GENS; g++)
		for (int r = 0; r < HTTP_RESULT_COUNT; r++) {
			const struct histogram *h = fleet_histogram(fleet, g, (enum http_result)r);
			char gen[12];
			struct metrics_label l[2] = {
			    {"gen", gen}, {"result", http_result_name((enum http_result)r)}};
			if (h == NULL)
				continue;
			snprintf(gen, sizeof gen, "%d", g);
			metrics_histogram(w, l, 2, h);
		}
}

/* The fleet-wide families: one value each, or one per state or reason. */
static void
totals(struct metrics_writer *w, enum exporter_family fam, const struct fleet_totals *t)
{
	const double one[] = {
	    [EF_POLLS] = (double)t->polls,
	    [EF_IN_FLIGHT] = (double)t->http_in_flight,
	    [EF_QUEUED] = (double)t->http_queued,
	    [EF_STORE_QUEUE] = (double)t->store_queue,
	    [EF_STORE_DROPPED] = (double)t->store_dropped,
	    [EF_STORE_HEALTHY] = t->store_healthy ? 1 : 0,
	    [EF_LEADER] = t->role == FLEET_LEADER ? 1 : 0,
	};

	if (fam == EF_DEVICES) {
		for (int s = 0; s < DEVICE_STATE_COUNT; s++) {
			struct metrics_label l[1] = {
			    {"state", device_state_name((enum device_state)s)}};
			metrics_sample(w, l, 1, (double)t->by_state[s]);
		}
		metrics_sample(w, (struct metrics_label[]){{"state", "unknown"}}, 1,
		    (double)t->unknown);
	} else if (fam == EF_POLL_ERRORS) {
		for (int r = 1; r < HTTP_RESULT_COUNT; r++) {
			struct metrics_label l[1] = {
			    {"reason", http_result_name((enum http_result)r)}};
			if (t->errors[r] > 0)
				metrics_sample(w, l, 1, (double)t->errors[r]);
		}
	} else
		metrics_sample(w, NULL, 0, one[fam]);
}

/*
 * The scheduled exports' families, by target: dir (export-dir) and git (export-git-dir), each
 * once a schedule used it; the last result once an export to it finished.
 */
static void
exports(struct metrics_writer *w, enum exporter_family fam, const struct export_stats *s)
{
	const struct export_target_stats *ts[] = {&s->dir, &s->git};
	const char *names[] = {"dir", "git"};

	for (size_t i = 0; i < 2; i++) {
		const struct export_target_stats *t = ts[i];
		struct metrics_label l[1] = {{"target", names[i]}};

		if (!t->used)
			continue;
		if (fam == EF_EXPORT_FAILURES)
			metrics_sample(w, l, 1, (double)t->failures);
		else if (fam == EF_EXPORT_OK && (t->last_ok_ms > 0 || t->failures > 0))
			metrics_sample(w, l, 1, t->last_ok ? 1 : 0);
		else if (fam == EF_EXPORT_TIME && t->last_ok_ms > 0)
			metrics_sample(w, l, 1, (double)t->last_ok_ms / 1000.0);
	}
}

/*
 * Writes family f of the page (for EF_SAMPLES, the reading family k) to w. The page is written
 * one family at a time, so /metrics can be streamed with one family in memory.
 */
static void
write_family(struct metrics_writer *w, struct fleet *fleet, int f, int k,
    const struct fleet_totals *t)
{
	struct page pg = { w, (enum exporter_family)f, (enum poller_sample_kind)k };

	if (f == EF_SAMPLES) {
		const struct poller_sample_info *in = poller_sample_info((enum poller_sample_kind)k);
		metrics_family(w, in->metric, sample_type(in), in->help);
		fleet_foreach(fleet, view_cb, &pg);
		return;
	}
	metrics_family(w, families[f].name, families[f].type, families[f].help);
	if (f <= EF_LAST_SEEN)
		fleet_foreach(fleet, view_cb, &pg);
	else if (f == EF_POLL_DURATION)
		poll_durations(w, fleet);
	else if (f == EF_EXPORT_TIME || f == EF_EXPORT_OK || f == EF_EXPORT_FAILURES)
		exports(w, (enum exporter_family)f, &t->exports);
	else
		totals(w, (enum exporter_family)f, t);
}

/* Steps (f, k) to the next family of the page; returns 0 past the last. */
static int
next_family(int *f, int *k)
{
	if (*f == EF_SAMPLES && ++*k < PS__COUNT)
		return 1;
	*k = 0;
	return ++*f < EF__COUNT;
}

int
exporter_metrics(struct fleet *fleet, struct strbuf *out, char **cause)
{
	struct metrics_writer *w = metrics_writer_new(out);
	struct fleet_totals t;
	int f = 0, k = 0, rc = 0;

	fleet_refresh(fleet);
	fleet_get_totals(fleet, &t);
	do
		write_family(w, fleet, f, k, &t);
	while (next_family(&f, &k));
	if (metrics_writer_error(w) != NULL) {
		*cause = xstrdup(metrics_writer_error(w));
		rc = -1;
	}
	metrics_writer_free(w);
	return rc;
}

/* A /metrics page being sent: one family in memory at a time. */
struct page_stream {
	struct fleet *fleet;
	struct fleet_totals t;
	exporter_extra_cb extra; /* written after the table's families, then the page ends */
	void *extra_arg;
	struct strbuf sb;
	struct metrics_writer *w;
	size_t off;		/* of sb already sent */
	int f, k, more;
};

static long
stream_cb(void *arg, uint64_t pos, char *buf, size_t max)
{
	struct page_stream *ps = arg;
	size_t n;

	(void)pos;
	while (ps->off == ps->sb.len && ps->more) {
		strbuf_reset(&ps->sb);
		ps->off = 0;
		if (ps->f < EF__COUNT) {
			write_family(ps->w, ps->fleet, ps->f, ps->k, &ps->t);
			ps->more = next_family(&ps->f, &ps->k) || ps->extra != NULL;
		} else {
			ps->extra(ps->w, ps->extra_arg);
			ps->more = 0;
		}
		if (metrics_writer_error(ps->w) != NULL) {
			/* The status is sent already: log, and end the page here. */
			log_error("metrics: %s", metrics_writer_error(ps->w));
			ps->more = 0;
		}
	}
	n = ps->sb.len - ps->off;
	if (n == 0)
		return -1;
	if (n > max)
		n = max;
	memcpy(buf, ps->sb.buf + ps->off, n);
	ps->off += n;
	return (long)n;
}

static void
stream_free_cb(void *arg)
{
	struct page_stream *ps = arg;

	metrics_writer_free(ps->w);
	strbuf_done(&ps->sb);
	free(ps);
}

void
exporter_list_metrics(FILE *fp)
{
	for (int f = 0; f < EF__COUNT; f++) {
		if (f != EF_SAMPLES) {
			metrics_list_family(fp, families[f].name, families[f].type, families[f].help);
			continue;
		}
		for (int k = 0; k < PS__COUNT; k++) {
			const struct poller_sample_info *in =
			    poller_sample_info((enum poller_sample_kind)k);
			metrics_list_family(fp, in->metric, sample_type(in), in->help);
		}
	}
}

static void
metrics_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct exporter *ex = arg;
	struct page_stream *ps = xcalloc(1, sizeof *ps);

	(void)req;
	ps->fleet = ex->fleet;
	ps->extra = ex->extra;
	ps->extra_arg = ex->extra_arg;
	fleet_refresh(ex->fleet); /* standing by: the totals count what the families show */
	fleet_get_totals(ex->fleet, &ps->t);
	ps->t.store_error = NULL; /* owned by the store: not kept across chunks */
	strbuf_init(&ps->sb);
	ps->w = metrics_writer_new(&ps->sb);
	ps->more = 1;
	reply->status = 200;
	reply->content_type = METRICS_CONTENT_TYPE;
	reply->stream_cb = stream_cb;
	reply->stream_free_cb = stream_free_cb;
	reply->stream_arg = ps;
}

static void
healthz_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct exporter *ex = arg;

	(void)req;
	/* Answering at all means the one loop turns: the server runs on it. */
	httpd_reply_text(reply, 200, "ok (%llu loop turns)\n",
	    (unsigned long long)loop_turns(ex->loop));
}

static void
readyz_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct exporter *ex = arg;
	struct fleet_totals t;

	(void)req;
	fleet_refresh(ex->fleet);
	fleet_get_totals(ex->fleet, &t);
	if (!t.store_healthy)
		httpd_reply_text(reply, 503, "not ready: database: %s (%lld s ago)\n",
		    t.store_error != NULL ? t.store_error : "?",
		    (long long)((loop_wall_ms() - t.store_error_ms) / 1000));
	else if (t.role != FLEET_LEADER && t.standby_error != NULL)
		httpd_reply_text(reply, 503,
		    "not ready: standing by, the leader's results cannot be read: %s\n",
		    t.standby_error);
	else if (t.role != FLEET_LEADER) /* it serves the leader's results: see the man page */
		httpd_reply_text(reply, 200,
		    "ready: standing by (another poller holds the lease), %zu devices from the "
		    "database\n",
		    t.devices);
	else if (t.attempted < t.devices)
		httpd_reply_text(reply, 503, "not ready: %zu of %zu devices attempted\n",
		    t.attempted, t.devices);
	else
		httpd_reply_text(reply, 200, "ready: %zu devices\n", t.devices);
}

struct exporter *
exporter_new(struct loop *loop, struct httpd *httpd, struct fleet *fleet)
{
	struct exporter *ex = xcalloc(1, sizeof *ex);

	ex->loop = loop;
	ex->fleet = fleet;
	httpd_route(httpd, "GET", "/metrics", metrics_handler, ex);
	httpd_route(httpd, "GET", "/healthz", healthz_handler, ex);
	httpd_route(httpd, "GET", "/readyz", readyz_handler, ex);
	return ex;
}

void
exporter_set_extra(struct exporter *ex, exporter_extra_cb cb, void *arg)
{
	ex->extra = cb;
	ex->extra_arg = arg;
}

void
exporter_free(struct exporter *ex)
{
	free(ex);
}
