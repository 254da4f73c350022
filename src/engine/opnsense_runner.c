/*
 * The OPNsense job's environment from the engine context, and the periodic sync of
 * --headless (engine/opnsense_runner.h).
 */
#include "engine/opnsense_runner.h"

#include <stdlib.h>

#include "conf/conf.h"
#include "engine/engine.h"
#include "integrations/opnsense_job.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

struct opnsense_runner {
	struct engine *eng;
	struct loop_timer *timer;
	struct opnsense_sync *sync;
	uint64_t interval_ms;
	uint64_t since_ms; /* monotonic time the wait for the next sync began */
	/* the last sync's pending reconfigures could not be written: remembered before the
	 * next one */
	int unsaved, unsaved_dhcp, unsaved_alias;
	struct opnsense_runner_stats st;
};

const struct opnsense_env *
opnsense_runner_env(const struct engine *eng, struct opnsense_env *env)
{
	*env = (struct opnsense_env){.loop = eng->loop,
	    .http = eng->http,
	    .guard = eng->guard,
	    .cfg = eng->conf,
	    .store = eng->store};
	return env;
}

/* The next sync comes opnsense-interval from now. */
static void
wait_next(struct opnsense_runner *r)
{
	r->since_ms = loop_now_ms(r->eng->loop);
	loop_timer_arm(r->timer, r->interval_ms);
}

static void
runner_done_cb(struct opnsense_sync *sync, void *arg)
{
	struct opnsense_runner *r = arg;
	const struct opnsense_report *rep = opnsense_sync_report(sync);
	struct opnsense_env env;
	char *cause = NULL; /* the apply could not start: the plan was not applied */
	int failed;

	if (rep->dry_run && rep->error == NULL) { /* the plan is made: apply it */
		if (opnsense_sync_apply(sync, runner_done_cb, r, &cause) == 0)
			return;
	}
	failed = rep->failed || cause != NULL;
	r->st.last_ms = rep->finished_ms;
	if (opnsense_job_end(opnsense_runner_env(r->eng, &env), rep) != 0) {
		r->unsaved = 1;
		r->unsaved_dhcp = rep->dhcp.pending;
		r->unsaved_alias = rep->alias.pending;
	}
	r->st.last_ok = !failed;
	for (int a = 0; a < OPN_ACTION_COUNT; a++)
		r->st.counts[a] =
		    rep->plan != NULL ? opn_plan_count(rep->plan, (enum opn_action)a) : 0;
	if (failed) {
		r->st.runs_failed++;
		log_warn("opnsense: sync failed: %s",
		    cause != NULL             ? cause
		    : rep->error != NULL      ? rep->error
		    : rep->note != NULL       ? rep->note
		    : rep->dhcp.error != NULL ? rep->dhcp.error
		    : rep->alias.error != NULL
		        ? rep->alias.error
		        : "a record could not be written (see --opnsense-sync)");
	} else {
		r->st.runs_ok++;
		log_info(
		    "opnsense: synced: %zu added, %zu updated, %zu removed, %zu unchanged, %zu "
		    "conflicts",
		    r->st.counts[OPN_ADD], r->st.counts[OPN_UPDATE], r->st.counts[OPN_REMOVE],
		    r->st.counts[OPN_UNCHANGED], r->st.counts[OPN_CONFLICT]);
	}
	free(cause);
	opnsense_sync_free(sync);
	r->sync = NULL;
	wait_next(r);
}

static void
runner_timer_cb(void *arg)
{
	struct opnsense_runner *r = arg;
	struct opnsense_env env;
	char *cause = NULL;

	opnsense_runner_env(r->eng, &env);
	if (r->unsaved) {
		if (opnsense_job_remember(&env, r->unsaved_dhcp, r->unsaved_alias, &cause) != 0) {
			char *why = cause;

			cause = xasprintf("the last sync's pending reconfigure still cannot be "
			                  "remembered (%s): no sync",
			    why);
			free(why);
		} else {
			log_info("opnsense: the last sync's pending reconfigure is remembered now");
			r->unsaved = 0;
		}
	}
	if (cause == NULL)
		r->sync = opnsense_job_begin(&env, 0, runner_done_cb, r, &cause);
	if (r->sync == NULL) {
		log_warn("opnsense: %s", cause);
		free(cause);
		r->st.runs_failed++;
		r->st.last_ok = 0;
		r->st.last_ms = loop_wall_ms();
		wait_next(r);
	}
}

struct opnsense_runner *
opnsense_runner_new(struct engine *eng)
{
	struct opnsense_runner *r;
	uint64_t ms = conf_get_ms(eng->conf, OPT_OPNSENSE_INTERVAL);

	if (ms == 0)
		return NULL;
	if (conf_get_str(eng->conf, OPT_OPNSENSE_URL)[0] == '\0') {
		log_warn("opnsense-interval is set but opnsense-url is not: no OPNsense sync");
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->eng = eng;
	r->interval_ms = ms;
	r->timer = loop_timer_new(eng->loop, runner_timer_cb, r);
	loop_timer_arm(r->timer, 0);
	return r;
}

int
opnsense_runner_reload(struct opnsense_runner *r)
{
	uint64_t ms = conf_get_ms(r->eng->conf, OPT_OPNSENSE_INTERVAL), now, at;

	if (ms == 0 || conf_get_str(r->eng->conf, OPT_OPNSENSE_URL)[0] == '\0')
		return -1;
	if (ms == r->interval_ms)
		return 0;
	r->interval_ms = ms;
	/* A sync in progress waits the new interval once it ends; a wait already begun is
	 * measured from its start (the first sync, due at once, stays so). */
	if (r->sync == NULL && r->since_ms != 0) {
		now = loop_now_ms(r->eng->loop);
		at = r->since_ms + ms;
		loop_timer_arm(r->timer, at > now ? at - now : 0);
	}
	return 0;
}

void
opnsense_runner_free(struct opnsense_runner *r)
{
	struct opnsense_env env;
	char *cause = NULL;

	if (r == NULL)
		return;
	opnsense_runner_env(r->eng, &env);
	if (r->sync != NULL) /* stopped mid-sync: keep what may need a reconfigure */
		opnsense_job_end(&env, opnsense_sync_interrupt(r->sync));
	else if (r->unsaved &&
	         opnsense_job_remember(&env, r->unsaved_dhcp, r->unsaved_alias, &cause) != 0) {
		log_warn("opnsense: the last sync's pending reconfigure is not remembered: %s "
		         "(make the changes live on the firewall)",
		    cause);
		free(cause);
	}
	opnsense_sync_free(r->sync);
	loop_timer_free(r->timer);
	free(r);
}

const struct opnsense_runner_stats *
opnsense_runner_stats(const struct opnsense_runner *r)
{
	return &r->st;
}
