/* Queued configuration changes applied when a device is next seen (engine/cfgpending.h). */
#include "engine/cfgpending.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgapply.h"
#include "engine/cfgdesired.h"
#include "engine/cfgholders.h"
#include "engine/cfgmove.h"
#include "engine/cfgunique.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct queued {
	int64_t id;
	char mac[16];
	char *body;
	int flags;
	struct cfgapply *op; /* running, or NULL */
	struct cfgpending *cp;
	bool waiting; /* logged as waiting for another device's move */
	bool listed; /* the store's queue held it at the last refresh */
};

struct cfgpending {
	struct loop *loop;
	struct http *http;
	struct store *store;
	uint64_t refresh_ms;
	struct loop_timer *timer;
	struct queued **q;
	size_t n;
	uint64_t done;
	struct cfgholders *holders; /* read once per refresh when needed, or NULL */
	void (*moved_cb)(void *arg);
	void *moved_arg;
};

void
cfgpending_set_moved(struct cfgpending *cp, void (*moved_cb)(void *arg), void *arg)
{
	cp->moved_cb = moved_cb;
	cp->moved_arg = arg;
}

static struct queued *
find(struct cfgpending *cp, const char *mac)
{
	for (size_t i = 0; i < cp->n; i++)
		if (strcmp(cp->q[i]->mac, mac) == 0)
			return cp->q[i];
	return NULL;
}

static void
queued_free(struct queued *q)
{
	cfgapply_free(q->op);
	free(q->body);
	free(q);
}

static void
drop(struct cfgpending *cp, struct queued *q)
{
	for (size_t i = 0; i < cp->n; i++) {
		if (cp->q[i] == q) {
			cp->q[i] = cp->q[--cp->n];
			break;
		}
	}
}

static int
load_cb(const struct cfgstore_row *r, void *arg)
{
	struct cfgpending *cp = arg;
	struct queued *q = find(cp, r->mac);

	if (q != NULL) {
		q->listed = true;
		if (q->op != NULL || q->id == r->id)
			return 0; /* running, or known */
		free(q->body);
	} else {
		q = xcalloc(1, sizeof *q);
		q->cp = cp;
		str_copy(q->mac, sizeof q->mac, r->mac);
		cp->q = xreallocarray(cp->q, cp->n + 1, sizeof *cp->q);
		cp->q[cp->n++] = q;
	}
	q->id = r->id;
	q->body = xstrdup(r->body != NULL ? r->body : "");
	q->flags = r->flags;
	q->listed = true;
	return 0;
}

/*
 * Forgets the changes the store's queue no longer holds (the device removed, or the change
 * ended by another process): what is applied is what is queued now. One running goes on.
 */
static void
sweep(struct cfgpending *cp)
{
	for (size_t i = cp->n; i-- > 0;) {
		struct queued *q = cp->q[i];
		if (q->listed || q->op != NULL)
			continue;
		log_info("config queue: %s: its queued change left the queue; not applied", q->mac);
		drop(cp, q);
		queued_free(q);
	}
}

static void
refresh_cb(void *arg)
{
	struct cfgpending *cp = arg;
	size_t was = cp->n;
	char *cause = NULL;

	for (size_t i = 0; i < cp->n; i++)
		cp->q[i]->listed = false;
	if (cfgstore_pending(cp->store, NULL, "queued", load_cb, cp, &cause) != 0) {
		log_error("config queue: %s", cause);
		free(cause);
	} else {
		sweep(cp);
		if (cp->n != was)
			log_info("config queue: %zu change(s) queued", cp->n);
	}
	cfgholders_free(cp->holders); /* read again, with the registry, when next needed */
	cp->holders = NULL;
	loop_timer_arm(cp->timer, cp->refresh_ms);
}

struct cfgpending *
cfgpending_new(struct loop *loop, struct http *http, struct store *store, uint64_t refresh_ms)
{
	struct cfgpending *cp = xcalloc(1, sizeof *cp);

	cp->loop = loop;
	cp->http = http;
	cp->store = store;
	cp->refresh_ms = refresh_ms > 0 ? refresh_ms : 5000;
	cp->timer = loop_timer_new(loop, refresh_cb, cp);
	loop_timer_arm(cp->timer, 0);
	return cp;
}

void
cfgpending_free(struct cfgpending *cp)
{
	if (cp == NULL)
		return;
	loop_timer_free(cp->timer);
	cfgholders_free(cp->holders);
	for (size_t i = 0; i < cp->n; i++)
		queued_free(cp->q[i]);
	free(cp->q);
	free(cp);
}

/* Stores c as a snapshot, even with no field (the poller's record that the device changed). */
static int
keep(struct store *store, const char *mac, const struct devconfig *c, const char *reason,
    char **cause)
{
	char *body = cfgdesired_text(c);
	int rc;

	rc = cfgstore_snapshot_add(
	    store, mac, loop_wall_ms(), c->gen, c->has_rev, c->rev, reason, body, cause);
	free(body);
	return rc;
}

int
cfgpending_keep(struct store *store, const char *mac, const struct devconfig *c, const char *reason,
    char **cause)
{
	return c->n == 0 ? 0 : keep(store, mac, c, reason, cause);
}

int
cfgpending_keep_result(struct store *store, const char *mac, const struct cfgapply_result *r,
    const char *reason, char **cause)
{
	char *why = NULL;
	int rc = cfgpending_keep(store, mac, r->before, reason, cause);

	if (cfgpending_keep(store, mac, r->after, "read-back", rc == 0 ? cause : &why) != 0)
		rc = -1;
	free(why);
	return rc;
}

bool
cfgpending_queueable(const struct devconfig *want)
{
	return devconfig_secrets(want) == 0;
}

int
cfgpending_queue(struct store *store, const char *mac, const struct devconfig *want,
    bool allow_reboot, bool allow_network, char **cause)
{
	int flags = (allow_reboot ? CFGSTORE_PENDING_REBOOT : 0) |
	            (allow_network ? CFGSTORE_PENDING_NETWORK : 0);
	char *body;
	int rc;

	if (!cfgpending_queueable(want)) {
		*cause =
		    xasprintf("%zu secret(s) not queued: a queued change never holds a secret; "
		              "apply again when the device is online",
		        devconfig_secrets(want));
		return -1;
	}
	body = cfgdesired_text(want);
	rc = cfgstore_pending_add(store, mac, loop_wall_ms(), body, flags, cause);

	free(body);
	return rc;
}

int
cfgpending_snapshot(struct store *store, const char *mac, int gen, double rev, const char *reason,
    const char *body, size_t len, char **cause)
{
	struct devconfig c;
	int rc;

	if (devconfig_parse(gen, body, len, &c, cause) != 0)
		return -1;
	if (!c.has_rev && !isnan(rev)) { /* Gen1: cfg_changed_cnt is in /status, not /settings */
		c.has_rev = 1;
		c.rev = rev;
	}
	rc = keep(store, mac, &c, reason, cause);
	devconfig_done(&c);
	return rc;
}

uint64_t
cfgpending_done_count(const struct cfgpending *cp)
{
	return cp->done;
}

/* The queue entry of q ends (applied, or failed with message), audited; q is freed. */
static void
conclude(struct queued *q, enum cfgapply_outcome outcome, const char *message)
{
	struct cfgpending *cp = q->cp;
	const char *state = outcome == CFGA_OK || outcome == CFGA_UNCHANGED ? "applied" : "failed";
	struct store_audit au;
	char *cause = NULL;

	if (cfgstore_pending_set(cp->store, q->id, state, message, &cause) != 0) {
		log_error("config queue: %s", cause);
		free(cause);
		cause = NULL;
	}
	memset(&au, 0, sizeof au);
	au.ts_ms = loop_wall_ms();
	au.who = "queue";
	au.action = "config-queued";
	au.target = q->mac;
	au.result = cfgapply_outcome_name(outcome);
	au.detail = message;
	if (store_audit_append(cp->store, &au, &cause) != 0) {
		log_error("config queue: audit: %s", cause);
		free(cause);
	}
	log_info("config queue: %s: %s: %s", q->mac, state, message);
	if (cp->holders != NULL)
		cfgholders_queued(cp->holders, q->mac, NULL);
	cp->done++;
	drop(cp, q);
	queued_free(q); /* cfgapply_free may be called from its callback */
}

/* Reads who holds what: the registry, and the changes queued now. Returns 0, or -1 with *why. */
static int
holders_read(struct cfgpending *cp, char **why)
{
	struct cfgholders *h = cfgholders_read(cp->store, why);

	if (h == NULL)
		return -1;
	for (size_t i = 0; i < cp->n; i++) {
		struct devconfig q;
		char *cause = NULL;
		if (devconfig_template_parse(cp->q[i]->body, strlen(cp->q[i]->body), &q, &cause) !=
		    0) {
			free(cause); /* fails when its device is seen */
			continue;
		}
		cfgholders_queued(h, cp->q[i]->mac, &q);
		devconfig_done(&q);
	}
	cp->holders = h;
	return 0;
}

/*
 * Whether want, queued for mac, may be sent (engine/cfgholders): *why (malloc'd) says why not,
 * or what it waits for. The registry is read once per refresh, not once per change: checking
 * a fleet-wide change costs the fleet once. Returns 0, or -1 with *why when the registry
 * cannot be read (a lock passes: the change stays queued).
 */
static int
clash(struct cfgpending *cp, const char *mac, const struct devconfig *want,
    enum cfgholders_verdict *verdict, char **why)
{
	size_t nf;
	const enum devconfig_field *f = cfgunique_fields(&nf);
	bool any = false;

	*why = NULL;
	*verdict = CFGH_FREE;
	for (size_t i = 0; i < nf; i++)
		any = any || cfgunique_value(want, f[i]) != NULL;
	if (!any)
		return 0;
	if (cp->holders == NULL && holders_read(cp, why) != 0)
		return -1;
	*verdict = cfgholders_check(cp->holders, mac, want, why);
	return 0;
}

static void
applied_cb(const struct cfgapply_result *r, void *arg)
{
	struct queued *q = arg;
	struct cfgpending *cp = q->cp;
	char *cause = NULL;

	if (r->outcome == CFGA_UNREACHABLE && (!r->answered || r->server_error)) {
		/* Seen by the poller but not now, or busy (HTTP 5xx): keep it for the next time. */
		cfgapply_free(q->op);
		q->op = NULL;
		return;
	}
	if (cfgmove_record(cp->store, q->mac, r, "queue", &cause) != 0) {
		log_error("config queue: %s: the new address was not stored: %s", q->mac, cause);
		free(cause);
	} else if (r->moved_to != NULL) {
		if (cp->holders != NULL)
			cfgholders_moved(cp->holders, q->mac, r->moved_to);
		if (cp->moved_cb != NULL)
			cp->moved_cb(cp->moved_arg);
	}
	conclude(q, r->outcome, r->message);
}

void
cfgpending_seen_cb(const char *mac, const struct shelly_target *t, void *arg)
{
	cfgpending_seen(arg, mac, t);
}

void
cfgpending_seen(struct cfgpending *cp, const char *mac, const struct shelly_target *t)
{
	struct queued *q = find(cp, mac);
	struct cfgapply_opts o;
	struct devconfig want;
	enum cfgholders_verdict verdict;
	char *cause = NULL, *refusal;

	if (q == NULL || q->op != NULL)
		return;
	if (devconfig_template_parse(q->body, strlen(q->body), &want, &cause) != 0) {
		char *why = NULL;
		log_error("config queue: %s: %s", mac, cause);
		if (cfgstore_pending_set(cp->store, q->id, "failed", cause, &why) != 0) {
			log_error("config queue: %s", why);
			free(why);
		}
		free(cause);
		drop(cp, q);
		queued_free(q);
		return;
	}
	if (clash(cp, mac, &want, &verdict, &refusal) != 0) {
		log_error("config queue: %s: not applied now: %s", mac, refusal);
		free(refusal);
		devconfig_done(&want);
		return; /* still queued: tried again when the device is next seen */
	}
	if (verdict == CFGH_WAIT) {
		if (!q->waiting)
			log_info("config queue: %s: waits: %s", mac, refusal);
		q->waiting = true;
		free(refusal);
		devconfig_done(&want);
		return;
	}
	if (refusal != NULL) {
		devconfig_done(&want);
		conclude(q, CFGA_REFUSED, refusal);
		free(refusal);
		return;
	}
	memset(&o, 0, sizeof o);
	o.allow_reboot = (q->flags & CFGSTORE_PENDING_REBOOT) != 0;
	o.allow_network = (q->flags & CFGSTORE_PENDING_NETWORK) != 0;
	log_info("config queue: %s is back: applying its queued change", mac);
	q->op = cfgapply_start(cp->loop, cp->http, t, &want, &o, applied_cb, q);
	devconfig_done(&want);
}
