/*
 * --headless (the poller daemon) and --poll-once. Both run the engine's poller over the
 * registry; the daemon adds the lease, timers (store flush, history pruning, lease heartbeat),
 * signals and the HTTP server with /metrics, /healthz and /readyz.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "discovery/scan.h"
#include "engine/autodiscover.h"
#include "engine/poller.h"
#include "util/histogram.h"
#include "server/httpd.h"
#include "cli/provision.h"
#include "server/metrics.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define LEASE_NAME "poller"
#define NGENS 5

struct daemon {
	struct app *app;
	struct poller *poller;
	struct httpd *httpd;
	char holder[128];
	int leader;		/* holds the lease and polls */
	struct loop_timer *flush_timer, *prune_timer, *lease_timer;
	uint64_t flush_ms, lease_hb_ms, lease_timeout_ms;
	uint64_t last_turn_ms;	/* for /healthz: the loop turned recently */
	uint64_t flush_failures;
	int64_t started_ms;
	/* poll durations by generation and result */
	struct histogram *hist[NGENS][HTTP_RESULT_COUNT];
	int stopping;
	int once_done;
	struct autodiscover *ad;	/* scheduled discovery and mDNS, while leader */
	struct loop_timer *turn_timer;	/* proves the loop turns, for /healthz */
	struct cfgsync *cfgsync;	/* registering new `device` lines after SIGHUP */
	struct scan_targets *targets;	/* the configured discover-ranges */
	struct provision_serve *prov;	/* agent API and verifier */
};

static void
ad_changed_cb(void *arg)
{
	struct daemon *dm = arg;
	char *cause = NULL;

	if (poller_load(dm->poller, dm->app->cfg, &cause) != 0) {
		log_warn("discovery: registry not reloaded: %s", cause);
		free(cause);
	}
}

static int
ad_creds_cb(const char *mac, const char *id, void *arg)
{
	struct daemon *dm = arg;

	return conf_find_credentials(dm->app->cfg, mac, id, NULL) != NULL;
}

/* (Re)starts discovery from the configuration: ranges every discover-interval, mDNS always. */
static void
discovery_start(struct daemon *dm)
{
	const struct conf *cfg = dm->app->cfg;
	struct autodiscover_opts o;
	struct autodiscover_cbs c = { ad_changed_cb, ad_creds_cb, dm };
	const struct conf_range *r;
	const char *why = NULL;
	char *cause = NULL;
	size_t n;

	autodiscover_free(dm->ad);
	dm->ad = NULL;
	scan_targets_free(dm->targets);
	dm->targets = scan_targets_new();
	r = conf_ranges(cfg, &n);
	for (size_t i = 0; i < n; i++)
		if (scan_targets_add_cidr(dm->targets, &r[i].target, r[i].text, &cause) != 0) {
			log_warn("%s: %s", r[i].where, cause);
			free(cause);
			cause = NULL;
		}
	if (scan_targets_len(dm->targets) > 0 &&
	    scan_targets_check_guard(dm->targets, dm->app->guard, &cause) != 0) {
		log_error("discovery: %s", cause);
		free(cause);
		scan_targets_free(dm->targets);
		dm->targets = scan_targets_new();
	}
	memset(&o, 0, sizeof o);
	o.interval_ms = conf_get_ms(cfg, OPT_DISCOVER_INTERVAL);
	o.mdns = conf_get_bool(cfg, OPT_DISCOVER_MDNS);
	if (o.mdns && !app_mdns_allowed(dm->app, &why)) {
		log_info("%s", why);
		o.mdns = 0;
	}
	/* A daemon that went away is looked for again every 30 s, or every interval if shorter. */
	o.mdns_retry_ms = o.interval_ms > 0 && o.interval_ms < 30000 ? (unsigned)o.interval_ms : 30000;
	o.timeout_ms = (uint32_t)conf_get_ms(cfg, OPT_DISCOVER_TIMEOUT);
	o.concurrency = (int)conf_get_int(cfg, OPT_SCAN_CONCURRENCY);
	o.port = (uint16_t)conf_get_int(cfg, OPT_DISCOVER_PORT);
	o.targets = scan_targets_len(dm->targets) > 0 ? dm->targets : NULL;
	o.guard = dm->app->guard;
	if (!o.mdns && (o.interval_ms == 0 || o.targets == NULL))
		return;
	dm->ad = autodiscover_new(dm->app->loop, dm->app->http, dm->app->store, &o, &c);
}

static void
observe_cb(int gen, enum http_result result, double seconds, void *arg)
{
	struct daemon *dm = arg;

	if (gen < 0 || gen >= NGENS)
		gen = 0;
	if (dm->hist[gen][result] == NULL) {
		dm->hist[gen][result] = xmalloc(sizeof(struct histogram));
		histogram_init(dm->hist[gen][result]);
	}
	histogram_observe(dm->hist[gen][result], seconds);
}

static void
do_flush(struct daemon *dm)
{
	char *cause = NULL;

	if (store_flush(dm->app->store, &cause) != 0) {
		if (dm->flush_failures++ % 30 == 0)
			log_error("database write failed (results kept in memory, retrying): %s",
			    cause);
		free(cause);
	} else if (dm->flush_failures > 0) {
		log_info("database writes work again after %llu failures",
		    (unsigned long long)dm->flush_failures);
		dm->flush_failures = 0;
	}
}

static void
flush_cb(void *arg)
{
	struct daemon *dm = arg;

	do_flush(dm);
	loop_timer_arm(dm->flush_timer, dm->flush_ms);
}

static void
prune_cb(void *arg)
{
	struct daemon *dm = arg;
	const struct conf *cfg = dm->app->cfg;
	char *cause = NULL;

	if (dm->leader && store_prune(dm->app->store, loop_wall_ms(),
	    (int64_t)conf_get_ms(cfg, OPT_HISTORY_RAW_RETENTION),
	    (int64_t)conf_get_ms(cfg, OPT_HISTORY_BUCKET),
	    (int64_t)conf_get_ms(cfg, OPT_HISTORY_RETENTION), &cause) != 0) {
		log_warn("history pruning failed: %s", cause);
		free(cause);
	}
	/* Buckets are the granularity of pruning: once per bucket is enough. */
	loop_timer_arm(dm->prune_timer, conf_get_ms(cfg, OPT_HISTORY_BUCKET));
}

static void
lease_cb(void *arg)
{
	struct daemon *dm = arg;
	struct store *st = dm->app->store;
	char *cause = NULL, *other = NULL;
	int r;

	if (dm->leader) {
		r = store_lease_heartbeat(st, LEASE_NAME, dm->holder, loop_wall_ms(),
		    (int64_t)dm->lease_timeout_ms, &cause);
		if (r == 0) {
			log_warn("lost the poller lease; standing by");
			dm->leader = 0;
			poller_stop(dm->poller);
			autodiscover_free(dm->ad);
			dm->ad = NULL;
		} else if (r < 0) {
			log_warn("lease heartbeat failed: %s", cause);
		}
	} else {
		r = store_lease_acquire(st, LEASE_NAME, dm->holder, loop_wall_ms(),
		    (int64_t)dm->lease_timeout_ms, &other, &cause);
		if (r == 1) {
			log_info("holding the poller lease as %s; polling", dm->holder);
			dm->leader = 1;
			if (poller_load(dm->poller, dm->app->cfg, &cause) != 0)
				log_error("cannot load devices: %s", cause);
			poller_start(dm->poller);
			discovery_start(dm);
		} else if (r == 0)
			log_info("poller lease held by %s; standing by", other ? other : "?");
		else
			log_warn("lease: %s", cause);
	}
	free(cause);
	free(other);
	loop_timer_arm(dm->lease_timer, dm->lease_hb_ms);
}

/* ---- HTTP endpoints ---- */

struct metrics_ctx {
	struct metrics_writer *w;
	enum poller_sample_kind kind;
};

static void
info_view_cb(const struct poller_view *v, void *arg)
{
	struct metrics_writer *w = arg;
	char gen[12];
	struct metrics_label l[7] = {
		{ "id", v->id }, { "mac", v->mac }, { "name", v->name }, { "model", v->model },
		{ "gen", gen }, { "fw", v->fw }, { "ip", v->host },
	};

	snprintf(gen, sizeof gen, "%d", v->gen);
	metrics_sample(w, l, 7, 1);
}

static void
up_view_cb(const struct poller_view *v, void *arg)
{
	struct metrics_writer *w = arg;
	struct metrics_label l[1] = { { "id", v->id } };

	metrics_sample(w, l, 1, v->state == DEVICE_ONLINE ? 1 : 0);
}

static void
seen_view_cb(const struct poller_view *v, void *arg)
{
	struct metrics_writer *w = arg;
	struct metrics_label l[1] = { { "id", v->id } };

	if (v->last_seen_ms > 0)
		metrics_sample(w, l, 1, (double)v->last_seen_ms / 1000.0);
}

static void
state_view_cb(const struct poller_view *v, void *arg)
{
	struct metrics_writer *w = arg;

	for (int s = 0; s < DEVICE_STATE_COUNT; s++) {
		struct metrics_label l[2] = { { "id", v->id },
			{ "state", device_state_name((enum device_state)s) } };
		if (s == (int)v->state)
			metrics_sample(w, l, 2, 1);
	}
}

static void
sample_view_cb(const struct poller_view *v, void *arg)
{
	struct metrics_ctx *mc = arg;

	for (size_t i = 0; i < v->nsamples; i++) {
		const struct poller_sample *s = &v->samples[i];
		struct metrics_label l[4];
		char ch[8], ph[2];
		size_t n = 0;

		if (s->kind != mc->kind)
			continue;
		l[n].name = "id";
		l[n++].value = v->id;
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
		metrics_sample(mc->w, l, n, s->value);
	}
}

static void
metrics_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct daemon *dm = arg;
	struct poller_stats ps;
	struct http_stats hs;
	struct strbuf sb;
	struct metrics_writer *w;
	struct metrics_ctx mc;

	(void)req;
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	poller_get_stats(dm->poller, &ps);
	http_get_stats(dm->app->http, &hs);

	metrics_family(w, "shelly_device_info", METRICS_GAUGE,
	    "Device identity: always 1, labels carry name, model, generation, firmware and address");
	poller_foreach(dm->poller, info_view_cb, w);
	metrics_family(w, "shelly_device_up", METRICS_GAUGE,
	    "1 when the last poll of the device succeeded (served from the poller's cache)");
	poller_foreach(dm->poller, up_view_cb, w);
	metrics_family(w, "shelly_device_state", METRICS_GAUGE,
	    "The device's state as the poller sees it (1 for the current state)");
	poller_foreach(dm->poller, state_view_cb, w);
	metrics_family(w, "shelly_device_last_seen_timestamp_seconds", METRICS_GAUGE,
	    "Unix time of the last successful poll");
	poller_foreach(dm->poller, seen_view_cb, w);
	for (int k = 0; k < PS__COUNT; k++) {
		const char *type = poller_sample_type((enum poller_sample_kind)k);
		metrics_family(w, poller_sample_metric((enum poller_sample_kind)k),
		    strcmp(type, "counter") == 0 ? METRICS_COUNTER : METRICS_GAUGE,
		    poller_sample_help((enum poller_sample_kind)k));
		mc.w = w;
		mc.kind = (enum poller_sample_kind)k;
		poller_foreach(dm->poller, sample_view_cb, &mc);
	}

	metrics_family(w, "shelly_devices", METRICS_GAUGE, "Registered devices by state");
	for (int s = 0; s < DEVICE_STATE_COUNT; s++) {
		struct metrics_label l[1] = { { "state", device_state_name((enum device_state)s) } };
		metrics_sample(w, l, 1, (double)ps.by_state[s]);
	}
	metrics_family(w, "shelly_poll_duration_seconds", METRICS_HISTOGRAM,
	    "Time taken by one device poll, by generation and result");
	for (int g = 0; g < NGENS; g++)
		for (int r = 0; r < HTTP_RESULT_COUNT; r++) {
			char gen[12];
			struct metrics_label l[2] = { { "gen", gen },
				{ "result", http_result_name((enum http_result)r) } };
			if (dm->hist[g][r] == NULL)
				continue;
			snprintf(gen, sizeof gen, "%d", g);
			metrics_histogram(w, l, 2, dm->hist[g][r]);
		}
	metrics_family(w, "shelly_poll_errors_total", METRICS_COUNTER,
	    "Failed device polls by reason");
	for (int r = 1; r < HTTP_RESULT_COUNT; r++) {
		struct metrics_label l[1] = { { "reason", http_result_name((enum http_result)r) } };
		if (ps.errors[r] > 0)
			metrics_sample(w, l, 1, (double)ps.errors[r]);
	}
	metrics_family(w, "shelly_polls_total", METRICS_COUNTER, "Device polls completed");
	metrics_sample(w, NULL, 0, (double)ps.polls);
	metrics_family(w, "shelly_http_requests_in_flight", METRICS_GAUGE,
	    "HTTP requests to devices in flight");
	metrics_sample(w, NULL, 0, (double)hs.in_flight);
	metrics_family(w, "shelly_http_requests_queued", METRICS_GAUGE,
	    "HTTP requests to devices waiting for a slot");
	metrics_sample(w, NULL, 0, (double)hs.queued);
	metrics_family(w, "shelly_store_queue_items", METRICS_GAUGE,
	    "Results waiting to be written to the database");
	metrics_sample(w, NULL, 0, (double)store_queue_len(dm->app->store));
	metrics_family(w, "shelly_store_dropped_samples_total", METRICS_COUNTER,
	    "History samples dropped because the database could not be written in time");
	metrics_sample(w, NULL, 0, (double)store_queue_dropped(dm->app->store));
	metrics_family(w, "shelly_store_healthy", METRICS_GAUGE,
	    "1 when the last database write succeeded");
	metrics_sample(w, NULL, 0, store_healthy(dm->app->store) ? 1 : 0);
	metrics_family(w, "shelly_poller_leader", METRICS_GAUGE,
	    "1 when this process holds the poller lease and polls");
	metrics_sample(w, NULL, 0, dm->leader ? 1 : 0);

	if (metrics_writer_error(w) != NULL) {
		httpd_reply_text(reply, 500, "metrics: %s\n", metrics_writer_error(w));
		strbuf_done(&sb);
	} else {
		reply->status = 200;
		reply->content_type = METRICS_CONTENT_TYPE;
		reply->body_len = sb.len;
		reply->body = strbuf_steal(&sb);
	}
	metrics_writer_free(w);
}

static void
healthz_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct daemon *dm = arg;
	uint64_t age = loop_now_ms(dm->app->loop) - dm->last_turn_ms;

	(void)req;
	/* Answering at all means the loop turns; the turn timer proves it is not stuck. */
	if (age > 10000)
		httpd_reply_text(reply, 503, "loop stalled for %llu ms\n", (unsigned long long)age);
	else
		httpd_reply_text(reply, 200, "ok\n");
}

static void
readyz_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct daemon *dm = arg;
	struct poller_stats ps;

	(void)req;
	poller_get_stats(dm->poller, &ps);
	if (!store_healthy(dm->app->store))
		httpd_reply_text(reply, 503, "not ready: database: %s\n",
		    store_last_error(dm->app->store) ? store_last_error(dm->app->store) : "?");
	else if (!dm->leader)
		httpd_reply_text(reply, 200, "ready: standing by (another poller holds the lease)\n");
	else if (ps.attempted < ps.devices)
		httpd_reply_text(reply, 503, "not ready: %zu of %zu devices attempted\n",
		    ps.attempted, ps.devices);
	else
		httpd_reply_text(reply, 200, "ready: %zu devices\n", ps.devices);
}

static void
turn_cb(void *arg)
{
	struct daemon *dm = arg;

	dm->last_turn_ms = loop_now_ms(dm->app->loop);
	loop_timer_arm(dm->turn_timer, 1000);
}

static void
signal_cb(int sig, void *arg)
{
	struct daemon *dm = arg;
	char *cause = NULL;

	if (sig == SIGHUP) {
		struct conf *cfg = conf_new();
		struct poller_opts po;
		if (dm->app->config_path != NULL &&
		    conf_load(cfg, dm->app->config_path, &cause) != 0) {
			log_error("SIGHUP: configuration not reloaded: %s", cause);
			free(cause);
			conf_free(cfg);
			return;
		}
		conf_free(dm->app->cfg);
		dm->app->cfg = cfg;
		/* New `device` lines are registered in the background, then the poller reloads. */
		cfgsync_free(dm->cfgsync);
		dm->cfgsync = cfgsync_start(dm->app, ad_changed_cb, dm);
		poller_opts_from_config(&po, cfg);
		poller_set_opts(dm->poller, &po);
		if (poller_load(dm->poller, cfg, &cause) != 0) {
			log_error("SIGHUP: devices not reloaded: %s", cause);
			free(cause);
		}
		if (dm->leader)
			discovery_start(dm);
		log_info("SIGHUP: configuration and registry reloaded");
		return;
	}
	log_info("signal %d: stopping", sig);
	dm->stopping = 1;
	loop_stop(dm->app->loop);
}

static void
daemon_done(struct daemon *dm)
{
	char *cause = NULL;

	if (dm->poller != NULL)
		poller_stop(dm->poller);
	httpd_free(dm->httpd);
	provision_serve_free(dm->prov);
	autodiscover_free(dm->ad);
	scan_targets_free(dm->targets);
	cfgsync_free(dm->cfgsync);
	if (dm->app->store != NULL) {
		do_flush(dm);
		if (dm->leader)
			store_lease_release(dm->app->store, LEASE_NAME, dm->holder, &cause);
		free(cause);
	}
	poller_free(dm->poller);
	loop_timer_free(dm->flush_timer);
	loop_timer_free(dm->prune_timer);
	loop_timer_free(dm->lease_timer);
	loop_timer_free(dm->turn_timer);
	for (int g = 0; g < NGENS; g++)
		for (int r = 0; r < HTTP_RESULT_COUNT; r++)
			free(dm->hist[g][r]);
}

static void
holder_name(char *buf, size_t size, const char *what)
{
	char host[64] = "?";

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	snprintf(buf, size, "%s:%s:%ld", what, host, (long)getpid());
}

static int
daemon_setup(struct app *app, struct daemon *dm)
{
	struct poller_opts po;
	char *cause = NULL;

	memset(dm, 0, sizeof *dm);
	dm->app = app;
	if (app_open_store(app) != 0)
		return -1;
	app_sync_config_devices(app);
	poller_opts_from_config(&po, app->cfg);
	dm->poller = poller_new(app->loop, app->http, app->store, &po);
	poller_set_observer(dm->poller, observe_cb, dm);
	if (poller_load(dm->poller, app->cfg, &cause) != 0) {
		fprintf(stderr, "shelly-tui: cannot load devices: %s\n", cause);
		free(cause);
		return -1;
	}
	dm->flush_ms = conf_get_ms(app->cfg, OPT_FLUSH_INTERVAL);
	dm->lease_hb_ms = conf_get_ms(app->cfg, OPT_LEASE_HEARTBEAT);
	dm->lease_timeout_ms = conf_get_ms(app->cfg, OPT_LEASE_TIMEOUT);
	dm->flush_timer = loop_timer_new(app->loop, flush_cb, dm);
	loop_timer_arm(dm->flush_timer, dm->flush_ms);
	return 0;
}

static void
once_done_cb(void *arg)
{
	((struct daemon *)arg)->once_done = 1;
}

int
cli_poll_once(struct app *app)
{
	struct daemon dm;
	char *cause = NULL, *other = NULL;
	int rc = EXIT_FAIL, r;

	if (daemon_setup(app, &dm) != 0) {
		daemon_done(&dm);
		return EXIT_FAIL;
	}
	holder_name(dm.holder, sizeof dm.holder, "poll-once");
	r = store_lease_acquire(app->store, LEASE_NAME, dm.holder, loop_wall_ms(),
	    (int64_t)dm.lease_timeout_ms, &other, &cause);
	if (r < 0) {
		fprintf(stderr, "shelly-tui: lease: %s\n", cause);
		goto out;
	}
	if (r == 0 && !app->args.set[CLI_FORCE]) {
		fprintf(stderr,
		    "shelly-tui: a live poller (%s) holds the lease; it polls the fleet already "
		    "(use --force to poll anyway)\n", other ? other : "?");
		goto out;
	}
	dm.leader = r == 1;
	poller_poll_all(dm.poller, once_done_cb, &dm);
	app_run_until(app, &dm.once_done);
	if (store_flush(app->store, &cause) != 0) {
		fprintf(stderr, "shelly-tui: results not stored: %s\n", cause);
		goto out;
	}
	if (app->args.set[CLI_JSON])
		rc = cli_print_poll_summary(app);
	else {
		struct poller_stats ps;
		poller_get_stats(dm.poller, &ps);
		printf("polled %zu devices:", ps.devices);
		for (int s = 0; s < DEVICE_STATE_COUNT; s++)
			printf(" %s %zu", device_state_name((enum device_state)s), ps.by_state[s]);
		printf("\n");
		rc = EXIT_OK;
	}
out:
	free(cause);
	free(other);
	daemon_done(&dm);
	return rc;
}

int
cli_headless(struct app *app)
{
	struct daemon dm;
	char *cause = NULL;
	const char *listen;
	int rc = EXIT_FAIL;

	if (daemon_setup(app, &dm) != 0) {
		daemon_done(&dm);
		return EXIT_FAIL;
	}
	holder_name(dm.holder, sizeof dm.holder, "headless");
	dm.started_ms = loop_wall_ms();
	listen = app->args.set[CLI_LISTEN] ? app->args.val[CLI_LISTEN] :
	    conf_get_str(app->cfg, OPT_LISTEN);
	dm.httpd = httpd_new(app->loop, listen, &cause);
	if (dm.httpd == NULL) {
		fprintf(stderr, "shelly-tui: %s\n", cause);
		free(cause);
		daemon_done(&dm);
		return EXIT_FAIL;
	}
	httpd_route(dm.httpd, "GET", "/metrics", metrics_handler, &dm);
	httpd_route(dm.httpd, "GET", "/healthz", healthz_handler, &dm);
	httpd_route(dm.httpd, "GET", "/readyz", readyz_handler, &dm);
	dm.prov = provision_serve_new(app, dm.httpd, ad_changed_cb, &dm);
	loop_signal(app->loop, SIGTERM, signal_cb, &dm);
	loop_signal(app->loop, SIGINT, signal_cb, &dm);
	loop_signal(app->loop, SIGHUP, signal_cb, &dm);

	dm.turn_timer = loop_timer_new(app->loop, turn_cb, &dm);
	turn_cb(&dm);
	dm.prune_timer = loop_timer_new(app->loop, prune_cb, &dm);
	loop_timer_arm(dm.prune_timer, 1000);
	dm.lease_timer = loop_timer_new(app->loop, lease_cb, &dm);
	lease_cb(&dm);
	{
		struct poller_stats ps;
		const char *colon = strrchr(listen, ':');
		int hostlen = colon ? (int)(colon - listen) : (int)strlen(listen);

		poller_get_stats(dm.poller, &ps);
		log_info("headless: %zu devices, database %s", ps.devices, app->db_path);
		/* The real port (the listen address may ask for port 0). */
		printf("metrics: http://%.*s:%u/metrics\n", hostlen, listen,
		    (unsigned)httpd_port(dm.httpd));
		fflush(stdout);
	}
	if (loop_run(app->loop) == 0)
		rc = EXIT_OK;
	daemon_done(&dm);
	log_info("stopped");
	return rc;
}
