/*
 * --headless (the poller daemon) and --poll-once: thin front ends over the fleet runtime
 * (engine/fleet.h). The daemon adds signals and the HTTP server (server/exporter.h); both
 * print what the fleet did.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "cli/headless.h"
#include "cli/registrycmd.h"
#include "cli/print.h"
#include "conf/conf.h"
#include "engine/fleet.h"
#include "engine/opnsense_runner.h"
#include "server/exporter.h"
#include "server/httpd.h"
#include "server/opnsense_metrics.h"
#include "server/provserve.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"
#include "util/loop.h"
#include "util/xmalloc.h"

struct daemon {
	struct app *app;
	struct fleet *fleet;
	int once_done;
	struct opnsense_runner *opn; /* periodic OPNsense sync, while leader (--headless) */
	int jobs;                    /* runs the front end's periodic jobs (--headless) */
	struct provserve *prov; /* the agent API and verifier (--headless) */
};

/*
 * (Re)starts the OPNsense sync while this process leads; stops it otherwise. A reload lets a
 * running one go on with the new configuration (a sync in progress is not cut off).
 */
static void
jobs_restart(struct daemon *dm, int reload)
{
	struct fleet_totals t;

	if (reload && dm->jobs && dm->opn != NULL && opnsense_runner_reload(dm->opn) == 0)
		return;
	opnsense_runner_free(dm->opn);
	dm->opn = NULL;
	if (!dm->jobs)
		return;
	fleet_get_totals(dm->fleet, &t);
	if (t.role == FLEET_LEADER)
		dm->opn = opnsense_runner_new(app_engine(dm->app));
}

static void
opnsense_metrics_cb(struct metrics_writer *w, void *arg)
{
	opnsense_metrics_write(((struct daemon *)arg)->opn, w);
}

void
cli_list_metrics(FILE *fp)
{
	exporter_list_metrics(fp);
	opnsense_metrics_list(fp); /* the families the extra callback adds */
}

/* The fleet replaced the configuration (reload): the front end's view follows. */
static void
event_cb(enum fleet_event ev, const char *mac, void *arg)
{
	struct daemon *dm = arg;

	(void)mac;
	if (ev == FLEET_EV_CONF) {
		dm->app->cfg = dm->app->eng.conf;
		app_conf_changed(dm->app);
		if (dm->prov != NULL)
			provserve_reload(dm->prov);
	}
	if (ev == FLEET_EV_ROLE || ev == FLEET_EV_CONF)
		jobs_restart(dm, ev == FLEET_EV_CONF);
}

/* Opens the store and makes the fleet. Returns 0, or -1 (message printed). */
static int
daemon_setup(struct app *app, struct daemon *dm, const char *what, int discovery)
{
	struct fleet_opts o = {what, discovery, 1};
	char *cause = NULL;

	memset(dm, 0, sizeof *dm);
	dm->app = app;
	if (app_open_store(app) != 0)
		return -1;
	dm->fleet = fleet_new(app_engine(app), &o, &cause);
	if (dm->fleet == NULL) {
		print_cause("cannot start the fleet: ", cause);
		free(cause);
		return -1;
	}
	fleet_set_event_cb(dm->fleet, event_cb, dm);
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
	struct fleet_totals t;
	char *cause = NULL;
	int rc = EXIT_FAIL, leading;

	if (daemon_setup(app, &dm, "poll-once", 0) != 0)
		goto out;
	/* A run from cron every minute: its samples stay in the write-ahead log for the next
	 * writer's checkpoint, instead of four fsyncs at every exit (README, Database). */
	store_sqlite_keep_wal(app->store);
	if (fleet_poll_once(dm.fleet, app->args.set[CLI_FORCE] > 0, once_done_cb, &dm, &cause) !=
	    0) {
		print_cause("", cause);
		goto out;
	}
	leading = fleet_role(dm.fleet) == FLEET_LEADER;
	app_run_until(app, &dm.once_done);
	fleet_get_totals(dm.fleet, &t);
	if (leading && t.role != FLEET_LEADER) {
		fprintf(stderr, "shelly-tui: lost the poller lease while polling (another poller "
		                "polls the fleet now): stopped; what was polled is stored\n");
		goto out;
	}
	if (!t.store_healthy) {
		fprintf(stderr, "shelly-tui: results not stored: %s\n",
		    t.store_error != NULL ? t.store_error : "?");
		goto out;
	}
	if (app->args.set[CLI_JSON])
		rc = cli_print_poll_summary(app);
	else {
		printf("polled %zu devices:", t.devices);
		for (int s = 0; s < DEVICE_STATE_COUNT; s++)
			printf(" %s %zu", device_state_name((enum device_state)s), t.by_state[s]);
		printf("\n");
		rc = EXIT_OK;
	}
out:
	free(cause);
	fleet_free(dm.fleet);
	return rc;
}

/* Options a running poller read at start; the command line's --listen and --db win anyway. */
static const struct {
	enum option_id id;
	int arg; /* the command-line option that overrides it, or -1 */
} restart_only[] = {
    {OPT_LISTEN, CLI_LISTEN},
    {OPT_DB, CLI_DB},
    {OPT_LEASE_HEARTBEAT, -1},
    {OPT_LEASE_TIMEOUT, -1},
};
#define NRESTART (sizeof restart_only / sizeof restart_only[0])

/* The value of restart_only[i] in cfg, as text (caller frees). */
static char *
restart_value(const struct conf *cfg, size_t i)
{
	enum option_id id = restart_only[i].id;

	if (conf_option_info(id)->type == OT_DURATION)
		return xasprintf("%llu", (unsigned long long)conf_get_ms(cfg, id));
	return xstrdup(conf_get_str(cfg, id));
}

/* A reload refuses what a start refuses (app_config_check). */
static int
reload_check_cb(const struct conf *cfg, void *arg, char **cause)
{
	return app_config_check(((struct daemon *)arg)->app, cfg, cause);
}

/* SIGHUP: the configuration file and the registry again; says what waits for a restart. */
static void
reload(struct daemon *dm)
{
	char *old[NRESTART], *cause = NULL;
	int rc;

	for (size_t i = 0; i < NRESTART; i++)
		old[i] = restart_value(dm->app->cfg, i);
	rc = fleet_reload(dm->fleet, dm->app->config_path, reload_check_cb, dm, &cause);
	if (rc != 0) {
		log_error("SIGHUP: configuration not reloaded: %s", cause);
		free(cause);
	} else
		log_info("SIGHUP: configuration and registry reloaded");
	for (size_t i = 0; i < NRESTART; i++) {
		char *now = rc == 0 ? restart_value(dm->app->cfg, i) : NULL;
		int over = restart_only[i].arg;

		if (now != NULL && (over < 0 || !dm->app->args.set[over]) && strcmp(old[i], now))
			log_warn("SIGHUP: %s changed: restart to apply",
			    conf_option_info(restart_only[i].id)->name);
		free(now);
		free(old[i]);
	}
}

static void
signal_cb(int sig, void *arg)
{
	struct daemon *dm = arg;

	if (sig == SIGHUP) {
		reload(dm);
		return;
	}
	log_info("signal %d: stopping", sig);
	loop_stop(dm->app->loop);
}

/* The provisioning verifier registered devices: the fleet reads the registry again. */
static void
registry_changed_cb(void *arg)
{
	fleet_registry_changed(arg);
}

int
cli_headless(struct app *app)
{
	struct daemon dm;
	struct httpd *httpd = NULL;
	struct exporter *ex = NULL;
	struct provserve *prov = NULL;
	struct provserve_opts po = {NULL, NULL, registry_changed_cb, NULL, NULL};
	struct provserve_status ps;
	struct fleet_totals t;
	char *cause = NULL;
	const char *listen, *colon;
	int rc = EXIT_FAIL;

	if (daemon_setup(app, &dm, "headless", 1) != 0)
		goto out;
	/* The loop serves the probes: a locked database fails its writes fast (retried at the
	 * next tick) instead of stalling it (store/store.h). */
	store_set_busy_wait(app->store, STORE_LOOP_BUSY_WAIT_MS);
	listen = app->args.set[CLI_LISTEN] ? app->args.val[CLI_LISTEN]
	                                   : conf_get_str(app->cfg, OPT_LISTEN);
	if ((httpd = httpd_new(app->loop, listen, &cause)) == NULL) {
		print_cause("", cause);
		free(cause);
		goto out;
	}
	ex = exporter_new(app->loop, httpd, dm.fleet);
	exporter_set_extra(ex, opnsense_metrics_cb, &dm);
	dm.jobs = 1;
	po.main = httpd;
	po.listen = listen;
	po.arg = dm.fleet;
	prov = provserve_new(app_engine(app), &po);
	provserve_status(prov, &ps);
	if (ps.url == NULL) {
		print_cause("agent API: ", ps.error);
		goto out;
	}
	dm.prov = prov;
	loop_signal(app->loop, SIGTERM, signal_cb, &dm);
	loop_signal(app->loop, SIGINT, signal_cb, &dm);
	loop_signal(app->loop, SIGHUP, signal_cb, &dm);
	fleet_start(dm.fleet);
	fleet_get_totals(dm.fleet, &t);
	log_info("headless: %zu devices, database %s", t.devices, app->db_path);
	/* The real port (the listen address may ask for port 0). */
	colon = strrchr(listen, ':');
	printf("metrics: http://%.*s:%u/metrics\n",
	    colon ? (int)(colon - listen) : (int)strlen(listen), listen,
	    (unsigned)httpd_port(httpd));
	printf("agents: %s\n", ps.url);
	fflush(stdout);
	if (loop_run(app->loop) == 0)
		rc = EXIT_OK;
	dm.jobs = 0;
	jobs_restart(&dm, 0);
	fleet_stop(dm.fleet);
	log_info("stopped");
out:
	exporter_free(ex);
	httpd_free(httpd);
	provserve_free(prov);
	dm.prov = NULL;
	fleet_free(dm.fleet);
	return rc;
}
