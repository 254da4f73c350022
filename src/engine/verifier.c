/*
 * Lease expiry and verification of provisioned devices (see engine/verifier.h). Tasks waiting
 * for verification are remembered by id with the time they were first seen verifying, so a
 * restarted manager gives each device a whole timeout again.
 */
#include "engine/verifier.h"

#include "conf/conf.h"
#include "discovery/discover.h"
#include "net/http.h"
#include "provision/task.h"
#include "provision/taskq.h"
#include "shelly/client.h"
#include "shelly/sta.h"
#include "store/store.h"
#include "store/taskstore.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verifier_wait {
	int64_t id;
	char mac[13];
	uint64_t since_ms; /* loop time first seen verifying */
	int found; /* settled: seen, or given up */
	int scanned; /* a scan of the whole ranges, started since, ended */
	char *pass_ref; /* the password the agent gave the device, or NULL */
	int ap_off; /* the task turns the device's AP off (--ap-off) */
};

#define AP_OFF_TIMEOUT_MS 10000
#define AP_OFF_RETRY_MS 2000 /* the first retry of a failed AP-off; doubles up to: */
#define AP_OFF_RETRY_MAX_MS (5 * 60000)

/*
 * An AP-off a verified task still owes (--ap-off, Gen2+; stage TASKQ_STAGE_AP_ON in the
 * store, so a restarted manager owes it too), sent until the device takes it.
 */
struct ap_owed {
	struct verifier *v; /* NULL once the verifier is gone */
	int64_t id;
	char mac[13];
	char *pass_ref; /* the password the agent gave the device, or NULL */
	int tries; /* failed requests */
	uint64_t next_ms; /* loop time of the next request */
	uint64_t req; /* in flight, or 0 */
	int listed; /* still owed in the store at the last refresh */
	struct ap_owed *next;
};

struct verifier {
	struct loop *loop;
	struct http *http;
	struct store *store;
	struct verifier_opts opts;
	struct loop_timer *timer;
	struct discover *run;
	uint64_t run_start_ms; /* loop time the run started */
	uint64_t run_done; /* addresses the run's scan has finished */
	const struct verifier_wait *storing; /* its device is being stored (has a password) */
	int stopping; /* discover_stop was called on the run */
	int changed; /* devices were verified since the last tick */
	struct verifier_wait *wait;
	size_t nwait, capwait;
	struct ap_owed *owed;
};

static struct verifier_wait *
wait_find(struct verifier *v, int64_t id)
{
	for (size_t i = 0; i < v->nwait; i++)
		if (v->wait[i].id == id)
			return &v->wait[i];
	return NULL;
}

/* Remembers t when it owes an AP-off (a restarted manager finds it in the store). */
static void
owed_note(struct verifier *v, const struct store_task *t)
{
	struct ap_owed *r;

	if (strcmp(t->state, task_state_name(TASK_DONE)) != 0 || t->mac == NULL ||
	    t->stage == NULL || strcmp(t->stage, TASKQ_STAGE_AP_ON) != 0)
		return;
	for (r = v->owed; r != NULL && r->id != t->id; r = r->next)
		;
	if (r == NULL) {
		r = xcalloc(1, sizeof *r);
		r->v = v;
		r->id = t->id;
		snprintf(r->mac, sizeof r->mac, "%s", t->mac);
		r->pass_ref = t->pass_ref != NULL ? xstrdup(t->pass_ref) : NULL;
		r->next_ms = loop_now_ms(v->loop);
		r->next = v->owed;
		v->owed = r;
	}
	r->listed = 1;
}

static void
owed_free(struct ap_owed *r)
{
	free(r->pass_ref);
	free(r);
}

/* Forgets the AP-offs no longer owed in the store (none in flight). */
static void
owed_prune(struct verifier *v)
{
	for (struct ap_owed **p = &v->owed; *p != NULL;) {
		struct ap_owed *r = *p;

		if (r->listed || r->req != 0) {
			r->listed = 0;
			p = &r->next;
		} else {
			*p = r->next;
			owed_free(r);
		}
	}
}

struct collect_ctx {
	struct verifier *v;
	int64_t *live;
	size_t nlive;
};

/* Remembers every verifying task not yet answered "not_seen". */
static int
collect_cb(const struct store_task *t, void *arg)
{
	struct collect_ctx *c = arg;
	struct verifier *v = c->v;
	struct verifier_wait *w;

	owed_note(v, t);
	if (strcmp(t->state, task_state_name(TASK_VERIFYING)) != 0 || t->mac == NULL ||
	    (t->stage != NULL && strcmp(t->stage, "not_seen") == 0))
		return 0;
	c->live = xreallocarray(c->live, c->nlive + 1, sizeof *c->live);
	c->live[c->nlive++] = t->id;
	if (wait_find(v, t->id) != NULL)
		return 0;
	if (v->nwait == v->capwait) {
		v->capwait = v->capwait ? 2 * v->capwait : 8;
		v->wait = xreallocarray(v->wait, v->capwait, sizeof *v->wait);
	}
	w = &v->wait[v->nwait++];
	memset(w, 0, sizeof *w);
	w->id = t->id;
	snprintf(w->mac, sizeof w->mac, "%s", t->mac);
	w->since_ms = loop_now_ms(v->loop);
	w->pass_ref = t->pass_ref != NULL ? xstrdup(t->pass_ref) : NULL;
	w->ap_off = t->ap_off;
	return 0;
}

/* Refreshes the wait list from the store: drops tasks that left verifying. */
static void
refresh(struct verifier *v)
{
	struct collect_ctx c = {v, NULL, 0};
	char *cause = NULL;
	size_t j = 0;

	if (store_task_list(v->store, collect_cb, &c, &cause) != 0) {
		log_error("verifier: %s", cause);
		free(cause);
		free(c.live);
		return;
	}
	for (size_t i = 0; i < v->nwait; i++) {
		int live = 0;

		for (size_t k = 0; k < c.nlive; k++)
			live |= c.live[k] == v->wait[i].id;
		if (live)
			v->wait[j++] = v->wait[i];
		else
			free(v->wait[i].pass_ref);
	}
	v->nwait = j;
	free(c.live);
	owed_prune(v);
}

/* The run asks whether the device being stored has credentials: the password its agent gave. */
static int
has_credentials_cb(const char *mac, const char *id, void *arg)
{
	struct verifier *v = arg;

	(void)id;
	return v->storing != NULL && v->storing->pass_ref != NULL &&
	       strcmp(v->storing->mac, mac) == 0;
}

/* Registers the device w waited for, found by the run as f, with its password (a reference). */
static int
store_found(
    struct verifier *v, const struct verifier_wait *w, const struct discover_found *f, char **cause)
{
	struct store_device d = {.user = SHELLY_STA_USER, .cred_ref = w->pass_ref};
	int rc;

	v->storing = w; /* no transient "auth_required" for it */
	rc = discover_commit_one(v->run, v->store, f->ident.mac, loop_wall_ms(), cause);
	v->storing = NULL;
	if (rc != 0 || w->pass_ref == NULL)
		return rc;
	memcpy(d.mac, w->mac, sizeof d.mac);
	return store_device_upsert(v->store, &d, cause);
}

/* Gives the device with mac back the credentials of old (NULL: none) after store_found. */
static void
restore_creds(struct verifier *v, const char *mac, const struct store_device *old)
{
	struct store_device d = {.user = old != NULL && old->user != NULL ? old->user : "",
	    .cred_ref = old != NULL && old->cred_ref != NULL ? old->cred_ref : ""};
	char *cause = NULL;

	memcpy(d.mac, mac, sizeof d.mac);
	if (store_device_upsert(v->store, &d, &cause) != 0) {
		log_error("verifier: %s", cause);
		free(cause);
	}
}

static void
ap_off_note(struct verifier *v, int64_t id, const char *result, const char *detail)
{
	char target[32];
	struct store_audit a = {
	    0, loop_wall_ms(), "manager", "task-ap-off", target, result, detail};
	char *cause = NULL;

	snprintf(target, sizeof target, "task:%lld", (long long)id);
	if (store_audit_append(v->store, &a, &cause) != 0) {
		log_error("audit task-ap-off: %s", cause);
		free(cause);
	}
}

/* The AP of r's device is still on, for why: recorded, retried after a backoff. */
static void
ap_still_on(struct verifier *v, struct ap_owed *r, const char *why)
{
	uint64_t wait = AP_OFF_RETRY_MS;
	char *cause = NULL;

	for (int i = 1; i < r->tries && wait < AP_OFF_RETRY_MAX_MS; i++)
		wait *= 2;
	r->tries++;
	r->next_ms =
	    loop_now_ms(v->loop) + (wait < AP_OFF_RETRY_MAX_MS ? wait : AP_OFF_RETRY_MAX_MS);
	log_warn("task %lld: device %s: turning its AP off failed, it stays on (retried in %llu "
	         "s): %s",
	    (long long)r->id, r->mac,
	    (unsigned long long)(r->next_ms - loop_now_ms(v->loop)) / 1000, why);
	ap_off_note(v, r->id, "failed", why);
	if (taskq_ap_on(v->store, r->id, why, loop_wall_ms(), &cause) < 0) {
		log_error("verifier: task %lld: %s", (long long)r->id, cause);
		free(cause);
	}
}

static void
ap_off_cb(const struct shelly_reply *reply, void *arg)
{
	struct ap_owed *r = arg, **p;
	struct verifier *v = r->v;
	char *cause = NULL;

	if (v == NULL) {
		owed_free(r);
		return;
	}
	r->req = 0;
	if (reply->result != HTTP_OK) {
		ap_still_on(v, r, reply->cause != NULL ? reply->cause : "no reply");
		return;
	}
	log_info("task %lld: device %s turned its AP off (--ap-off)", (long long)r->id, r->mac);
	ap_off_note(v, r->id, "ok", NULL);
	if (taskq_ap_on(v->store, r->id, NULL, loop_wall_ms(), &cause) < 0) {
		log_error("verifier: task %lld: %s", (long long)r->id, cause);
		free(cause); /* still owed in the store: sent again, which does no harm */
		return;
	}
	for (p = &v->owed; *p != r; p = &(*p)->next)
		;
	*p = r->next;
	owed_free(r);
}

/*
 * --ap-off for a Gen2+ device, once it was seen on its network: the agent left its AP on (a
 * station that cannot join would otherwise leave the device with neither, shelly/sta.h), so
 * the manager turns it off, at the address the registry has for it, with the password the
 * agent gave the device. A Gen1 AP turns itself off once the station connects.
 */
static void
ap_off_send(struct verifier *v, struct ap_owed *r)
{
	struct store_device *d = store_device_find_mac(v->store, r->mac);
	struct shelly_target t;
	char *pw = NULL, *cause = NULL;

	if (d == NULL || d->host == NULL) {
		ap_still_on(v, r, "the device is not in the registry");
		store_device_free(d);
		return;
	}
	if (r->pass_ref != NULL &&
	    (pw = conf_read_secret_file(r->pass_ref, "device password file", &cause)) == NULL) {
		ap_still_on(v, r, cause);
		free(cause);
		store_device_free(d);
		return;
	}
	memset(&t, 0, sizeof t);
	t.host = d->host;
	t.port = d->port;
	t.https = d->scheme != NULL && strcmp(d->scheme, "https") == 0;
	t.tls = HTTP_TLS_PIN;
	t.pin = d->tls_pin != NULL && d->tls_pin[0] != '\0' ? d->tls_pin : NULL;
	t.gen = d->gen;
	t.mac = r->mac;
	t.user = pw != NULL ? SHELLY_STA_USER : NULL;
	t.password = pw;
	t.connect_timeout_ms = t.timeout_ms = AP_OFF_TIMEOUT_MS;
	r->req = shelly_request(
	    v->http, &t, "POST", SHELLY_STA_AP_OFF_PATH, SHELLY_STA_AP_OFF_BODY, ap_off_cb, r);
	conf_secret_free(pw);
	store_device_free(d);
}

/* Sends the AP-offs owed whose time has come. */
static void
ap_off_due(struct verifier *v, uint64_t now)
{
	for (struct ap_owed *r = v->owed, *next; r != NULL; r = next) {
		next = r->next;
		if (r->req == 0 && now >= r->next_ms)
			ap_off_send(v, r);
	}
}

/*
 * The device of w was found as f. It is registered with its password before the task is
 * marked done, so a scan dropped afterwards (reload, shutdown) loses nothing. A task its agent
 * ended meanwhile is not verified: the device keeps the credentials it had. After a store
 * error the device is still waited for (a later run may find it again).
 */
static void
verify(struct verifier *v, struct verifier_wait *w, const struct discover_found *f)
{
	/* (what to give back if the task turns out ended: only a password is written) */
	struct store_device *old =
	    w->pass_ref != NULL ? store_device_find_mac(v->store, w->mac) : NULL;
	char *cause = NULL;
	int rc = store_found(v, w, f, &cause);

	if (rc == 0)
		rc = taskq_verified(v->store, w->id, f->host, w->ap_off && f->ident.gen >= 2,
		    loop_wall_ms(), &cause);
	if (rc < 0) {
		log_error("verifier: task %lld: %s", (long long)w->id, cause);
		free(cause);
	} else if (rc == 0) {
		w->found = 1; /* settled by its agent */
		if (w->pass_ref != NULL)
			restore_creds(v, w->mac, old);
	} else {
		w->found = 1;
		v->changed = 1;
		/* (an AP-off it owes goes out at the next tick: refresh finds it) */
		log_info("task %lld: device %s seen at %s", (long long)w->id, w->mac, f->host);
	}
	store_device_free(old);
}

static void
found_cb(const struct discover_found *f, void *arg)
{
	struct verifier *v = arg;

	for (size_t i = 0; i < v->nwait; i++)
		if (!v->wait[i].found && strcmp(v->wait[i].mac, f->ident.mac) == 0)
			verify(v, &v->wait[i], f);
}

static void
progress_cb(const struct discover_progress *p, void *arg)
{
	struct verifier *v = arg;

	if (p->scan != NULL)
		v->run_done = p->scan->done;
}

static void
done_cb(void *arg)
{
	struct verifier *v = arg;

	loop_timer_arm(v->timer, 0); /* the tick commits the run, frees it and goes on */
}

/* Addresses in the configured ranges. */
static uint64_t
run_total(const struct verifier *v)
{
	return v->opts.run.targets != NULL ? scan_targets_count(v->opts.run.targets) : 0;
}

/*
 * Merges what the finished run found into the registry (the devices waited for are there
 * already) and frees it. A scan that covered the ranges covered every wait older than it.
 */
static void
finish_run(struct verifier *v)
{
	char *cause = NULL;

	if (discover_commit(v->run, v->store, loop_wall_ms(), NULL, &cause) != 0) {
		log_error("verifier: %s", cause);
		free(cause);
	}
	if (v->run_done >= run_total(v))
		for (size_t i = 0; i < v->nwait; i++)
			if (v->wait[i].since_ms <= v->run_start_ms)
				v->wait[i].scanned = 1;
	discover_free(v->run);
	v->run = NULL;
}

static void
start_run(struct verifier *v)
{
	struct discover_cbs c = {.progress_cb = progress_cb,
	    .found_cb = found_cb,
	    .done_cb = done_cb,
	    .has_credentials_cb = has_credentials_cb,
	    .arg = v};
	char *cause = NULL;

	v->run_done = 0;
	v->stopping = 0;
	v->opts.run.registry = v->store;
	v->run = discover_new(v->loop, v->http, &v->opts.run, &c, &cause);
	if (v->run == NULL) {
		log_error("verifier: %s", cause);
		free(cause);
		return;
	}
	discover_start(v->run);
}

/* Returns the tasks of agents that stopped heartbeating to the queue. */
static void
expire_leases(struct verifier *v)
{
	char *cause = NULL;
	int n = taskq_expire(v->store, loop_wall_ms(), &cause);

	if (n < 0) {
		log_error("task leases: %s", cause);
		free(cause);
	} else if (n > 0)
		log_info("%d task(s) of silent agents handled", n);
}

/*
 * Why w was not seen, or NULL when the ranges were scanned whole (since it began, or by this
 * run): the ranges were refused, or the scan could not cover them within the timeout. Caller
 * frees.
 */
static char *
give_up_reason(const struct verifier *v, const struct verifier_wait *w)
{
	if (v->opts.refused != NULL)
		return xasprintf("not verified: %s", v->opts.refused);
	if (v->opts.run.targets == NULL || w->scanned || v->run_done >= run_total(v))
		return NULL;
	return xasprintf("not verified: the scan covered %llu of %llu addresses within "
	                 "verify-timeout",
	    (unsigned long long)v->run_done, (unsigned long long)run_total(v));
}

/* Gives up the waits older than the timeout (each once: it is then settled). */
static void
give_up(struct verifier *v, uint64_t now)
{
	for (size_t i = 0; i < v->nwait; i++) {
		struct verifier_wait *w = &v->wait[i];
		char *cause = NULL, *reason;

		if (w->found || now - w->since_ms < v->opts.timeout_ms)
			continue;
		w->found = 1;
		reason = give_up_reason(v, w);
		log_warn("task %lld: device %s not seen on the target network%s%s",
		    (long long)w->id, w->mac, reason != NULL ? ": " : "",
		    reason != NULL ? reason : "");
		if (taskq_not_seen(v->store, w->id, reason, loop_wall_ms(), &cause) < 0) {
			log_error("verifier: %s", cause);
			free(cause);
		}
		free(reason);
	}
}

/* 1 while a device is still waited for. */
static int
waiting(const struct verifier *v)
{
	for (size_t i = 0; i < v->nwait; i++)
		if (!v->wait[i].found)
			return 1;
	return 0;
}

/*
 * Every interval, whether or not a run is in progress: leases, the waits, and then one
 * discovery run at a time. A run ends early when nobody waits any more or after timeout_ms
 * (no wait lasts longer, so the next run starts over the ranges from the beginning: a range
 * too large to scan within the timeout is still scanned from its start for every device).
 */
static void
tick_cb(void *arg)
{
	struct verifier *v = arg;
	uint64_t now = loop_now_ms(v->loop);

	if (v->run != NULL && discover_finished(v->run))
		finish_run(v);
	expire_leases(v);
	refresh(v);
	give_up(v, now);
	ap_off_due(v, now);
	if (v->run != NULL && !v->stopping) {
		int capped = now - v->run_start_ms >= v->opts.timeout_ms;

		if (capped && v->run_done < run_total(v))
			log_warn("provisioning verifier: the scan covered %llu of %llu addresses "
			         "within verify-timeout; stopped",
			    (unsigned long long)v->run_done, (unsigned long long)run_total(v));
		if (capped || !waiting(v)) {
			v->stopping = 1;
			discover_stop(v->run); /* done_cb follows and re-arms the timer */
		}
	} else if (v->run == NULL && waiting(v) &&
	           (v->opts.run.targets != NULL || v->opts.run.mdns)) {
		v->run_start_ms = now;
		start_run(v);
	}
	loop_timer_arm(v->timer, v->opts.interval_ms);
	if (v->changed && v->opts.changed_cb != NULL) {
		v->changed = 0;
		v->opts.changed_cb(v->opts.arg);
	}
}

/* Takes opts and starts a round now. */
static void
set_opts(struct verifier *v, const struct verifier_opts *opts)
{
	v->opts = *opts;
	if (v->opts.interval_ms == 0)
		v->opts.interval_ms = 1000;
	if (opts->refused != NULL)
		log_warn(
		    "provisioning verifier: %s: configured devices cannot be found by scanning",
		    opts->refused);
	loop_timer_arm(v->timer, 0);
}

struct verifier *
verifier_new(
    struct loop *loop, struct http *http, struct store *store, const struct verifier_opts *opts)
{
	struct verifier *v = xcalloc(1, sizeof *v);

	v->loop = loop;
	v->http = http;
	v->store = store;
	v->timer = loop_timer_new(loop, tick_cb, v);
	set_opts(v, opts);
	return v;
}

void
verifier_set_opts(struct verifier *v, const struct verifier_opts *opts)
{
	if (v->run != NULL && discover_finished(v->run))
		finish_run(v);
	discover_free(v->run);
	v->run = NULL;
	v->run_done = 0;
	set_opts(v, opts);
}

void
verifier_free(struct verifier *v)
{
	if (v == NULL)
		return;
	discover_free(v->run);
	loop_timer_free(v->timer);
	for (struct ap_owed *r = v->owed, *next; r != NULL; r = next) {
		next = r->next;
		if (r->req != 0) {
			r->v = NULL; /* its callback, cancelled, only frees it */
			http_cancel(v->http, r->req);
		} else
			owed_free(r);
	}
	for (size_t i = 0; i < v->nwait; i++)
		free(v->wait[i].pass_ref);
	free(v->wait);
	free(v);
}
