/*
 * The provisioning task queue (see provision/taskq.h). Each change is a compare-and-set in
 * the store from the state the state machine allows, followed by an audit record; a change
 * that lost a race (another agent, a cancel) changes nothing and says so.
 */
#include "provision/taskq.h"

#include "conf/conf.h"
#include "provision/task.h"
#include "shelly/sta.h"
#include "store/store.h"
#include "store/taskstore.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void
taskq_hash(const char *s, char out[65])
{
	unsigned char md[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), md) != 0)
		abort(); /* SHA-256 is always there; failing is out of memory */
	hex(md, sizeof md, out);
}

/* A random hex string of 2 * nbytes digits (caller frees), or NULL with *cause. */
static char *
random_hex(size_t nbytes, char **cause)
{
	unsigned char b[64];
	char *out;

	if (nbytes > sizeof b || getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
		*cause = xasprintf("getrandom: %s", strerror(errno));
		return NULL;
	}
	out = xmalloc(2 * nbytes + 1);
	hex(b, nbytes, out);
	explicit_bzero(b, sizeof b);
	return out;
}

/* 1 when s has min..max bytes, all printable ASCII. */
int
taskq_ssid_ok(const char *s)
{
	return str_ascii_printable(s, 1, TASKQ_SSID_MAX);
}

int
taskq_key_ok(const char *s)
{
	return shelly_sta_key_ok(s);
}

int
taskq_pass_ok(const char *s)
{
	return str_ascii_printable(s, TASKQ_PASS_MIN, TASKQ_PASS_MAX);
}

int
taskq_ssid_is_shelly(const char *ssid)
{
	const char *dash;
	size_t tail;

	if (!taskq_ssid_ok(ssid) || strncasecmp(ssid, "shelly", 6) != 0)
		return 0;
	dash = strrchr(ssid, '-');
	if (dash == NULL || dash == ssid + 6)
		return 0;
	tail = strlen(dash + 1);
	if (tail != 6 && tail != 12)
		return 0;
	for (const char *p = dash + 1; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p))
			return 0;
	for (const char *p = ssid + 6; p < dash; p++) /* "shellyplug-s-..." */
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	return 1;
}

static void
audit(struct store *s, const char *who, const char *action, int64_t id, const char *result,
    const char *detail, int64_t now_ms)
{
	char target[32];
	struct store_audit a = {0, now_ms, who, action, target, result, detail};
	char *cause = NULL;

	snprintf(target, sizeof target, "task:%lld", (long long)id);
	if (id <= 0)
		a.target = NULL;
	if (store_audit_append(s, &a, &cause) != 0) {
		log_error("audit %s: %s", action, cause);
		free(cause);
	}
}

/* Queues a provisioning event (mac NULL or "": fleet-wide); written with the next flush. */
static void
event(struct store *s, const char *mac, const char *kind, int64_t id, const char *what,
    int64_t now_ms)
{
	struct store_event ev;
	char detail[300];

	memset(&ev, 0, sizeof ev);
	ev.ts_ms = now_ms;
	if (mac != NULL)
		snprintf(ev.mac, sizeof ev.mac, "%s", mac);
	ev.kind = kind;
	snprintf(detail, sizeof detail, "task %lld: %s", (long long)id, what);
	ev.detail = detail;
	store_queue_event(s, &ev);
}

char *
taskq_enrol_new(struct store *s, int64_t now_ms, int64_t ttl_ms, const char *who, char **cause)
{
	char hash[65], *secret = random_hex(TASKQ_SECRET_HEX / 2, cause);

	if (secret == NULL)
		return NULL;
	taskq_hash(secret, hash);
	if (store_enrol_add(s, hash, now_ms, now_ms + ttl_ms, cause) != 0) {
		free(secret);
		return NULL;
	}
	audit(s, who, "agent-enrol", 0, "ok", "enrolment secret created", now_ms);
	return secret;
}

int
taskq_register(struct store *s, const char *secret, const char *name, int64_t now_ms,
    char **agent_id, char **token, char **cause)
{
	char hash[65], *id, *tok, who[64];
	int rc;

	*agent_id = *token = NULL;
	taskq_hash(secret, hash);
	if ((id = random_hex(4, cause)) == NULL ||
	    (tok = random_hex(TASKQ_TOKEN_HEX / 2, cause)) == NULL) {
		free(id);
		return -1;
	}
	snprintf(who, sizeof who, "ag-%s", id);
	free(id);
	rc = store_enrol_use(s, hash, who, now_ms, cause);
	if (rc == 1) {
		taskq_hash(tok, hash);
		if (store_agent_add(s, who, name, hash, now_ms, cause) != 0)
			rc = -1;
	}
	audit(s, rc == 1 ? who : "agent", "agent-register", 0, rc == 1 ? "ok" : "refused",
	    rc == 1 ? name : "unknown, used or expired enrolment secret", now_ms);
	if (rc != 1) {
		free(tok);
		return rc;
	}
	*agent_id = xstrdup(who);
	*token = tok;
	return 1;
}

char *
taskq_agent(struct store *s, const char *token)
{
	char hash[65];

	if (token == NULL || strlen(token) != TASKQ_TOKEN_HEX)
		return NULL;
	taskq_hash(token, hash);
	return store_agent_by_token(s, hash);
}

int
taskq_heartbeat(struct store *s, const char *agent, const int64_t *tasks, int ntasks,
    int64_t now_ms, int64_t lease_ms, char **cause)
{
	if (store_agent_seen(s, agent, now_ms, cause) != 0)
		return -1;
	if (ntasks < 0)
		return store_task_renew(s, agent, 0, now_ms + lease_ms, now_ms, cause);
	for (int i = 0; i < ntasks; i++)
		if (store_task_renew(s, agent, tasks[i], now_ms + lease_ms, now_ms, cause) != 0)
			return -1;
	return 0;
}

int
taskq_check_text(const struct store_task *t, char **cause)
{
	if (shelly_sta_ssid_check(t->network, cause) != 0 ||
	    (t->name != NULL && shelly_sta_name_check(t->name, cause) != 0))
		return -1;
	return 0;
}

/* 1 when ssid (a Shelly AP name) ends in "-" and the MAC mac or its last six digits. */
static int
ssid_has_mac(const char *ssid, const char *mac)
{
	const char *dash = strrchr(ssid, '-');

	return dash != NULL &&
	       (strcasecmp(dash + 1, mac) == 0 || strcasecmp(dash + 1, mac + 6) == 0);
}

int
taskq_same_target(const char *a, const char *b)
{
	char ma[13], mb[13];
	int a_mac = str_mac_normalise(a, ma) == 0, b_mac = str_mac_normalise(b, mb) == 0;

	if (a_mac && b_mac)
		return strcmp(ma, mb) == 0;
	if (a_mac)
		return ssid_has_mac(b, ma);
	if (b_mac)
		return ssid_has_mac(a, mb);
	return strcasecmp(a, b) == 0;
}

struct active_ctx {
	const char *target;
	int64_t id;
};

static int
active_cb(const struct store_task *t, void *arg)
{
	struct active_ctx *x = arg;
	enum task_state st;

	if (task_state_parse(t->state, &st) != 0 || task_state_final(st) ||
	    !taskq_same_target(t->target, x->target))
		return 0;
	x->id = t->id;
	return 1;
}

int
taskq_target_active(struct store *s, const char *target, int64_t *id, char **cause)
{
	struct active_ctx x = {target, 0};

	if (store_task_list(s, active_cb, &x, cause) != 0)
		return -1;
	*id = x.id;
	return x.id != 0;
}

/* store_task_add_all's test: have, not ended, is for add's device. */
static int
clash_cb(const struct store_task *have, const struct store_task *add, void *arg)
{
	enum task_state st;

	(void)arg;
	return task_state_parse(have->state, &st) == 0 && !task_state_final(st) &&
	       taskq_same_target(have->target, add->target);
}

int
taskq_add_all(struct store *s, const struct store_task *ts, size_t n, const char *who,
    int64_t now_ms, int64_t *ids, char **cause)
{
	struct store_task *q = xcalloc(n ? n : 1, sizeof *q);
	char *macs = xcalloc(n ? n : 1, 13), detail[160]; /* the normalised MAC targets */
	int64_t other = 0;
	size_t bad = 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		q[i] = ts[i];
		if (taskq_check_text(&ts[i], cause) != 0)
			goto out;
		if (str_mac_normalise(ts[i].target, macs + 13 * i) == 0)
			q[i].target = macs + 13 * i;
		else if (!taskq_ssid_is_shelly(ts[i].target)) {
			*cause = xasprintf("'%s' is neither a MAC nor a Shelly access point "
			                   "(shelly1pm-A1B2C3, ShellyPlus1PM-A8032AB12345)",
			    ts[i].target);
			goto out;
		}
		q[i].kind = "provision";
		q[i].state = task_state_name(TASK_QUEUED);
	}
	/* the check and the inserts are one transaction: a second --provision of the same
	 * device at the same time waits for it and is then refused */
	rc = store_task_add_all(s, q, n, now_ms, clash_cb, NULL, ids, &bad, &other, cause);
	if (rc == 1)
		*cause = xasprintf("%s: task %lld for this device has not ended "
		                   "(--task-cancel it first)",
		    q[bad].target, (long long)other);
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(detail, sizeof detail, "%s -> %s%s%s", q[i].target, q[i].network,
		    q[i].key_ref != NULL ? " (key by reference)" : " (open)",
		    q[i].ap_off ? ", AP off" : "");
		audit(s, who, "task-add", ids[i], "queued", detail, now_ms);
	}
out:
	free(macs);
	free(q);
	return rc;
}

int
taskq_add(struct store *s, const struct store_task *t, const char *who, int64_t now_ms, int64_t *id,
    char **cause)
{
	return taskq_add_all(s, t, 1, who, now_ms, id, cause);
}

/* Moves task id from its current state to to (if allowed); 1 moved, 0 not, -1 error. */
static int
move(struct store *s, int64_t id, const char *agent, enum task_state to,
    const struct store_task_set *set, int64_t now_ms, enum task_state *was, char **cause)
{
	struct store_task *t = store_task_get(s, id);
	enum task_state from;
	int rc = 0;

	if (t == NULL || task_state_parse(t->state, &from) != 0 || !task_transition_ok(from, to) ||
	    (agent != NULL && (t->agent == NULL || strcmp(t->agent, agent) != 0))) {
		store_task_free(t);
		return 0;
	}
	rc = store_task_update(s, id, agent, t->state, task_state_name(to), set, now_ms, cause);
	if (was != NULL)
		*was = from;
	store_task_free(t);
	return rc;
}

int
taskq_cancel(struct store *s, int64_t id, const char *who, int64_t now_ms, char **cause)
{
	struct store_task_set set = {.agent_to = NULL, .lease_ms = 0, .reason = "cancelled"};
	int rc = move(s, id, NULL, TASK_CANCELLED, &set, now_ms, NULL, cause);

	if (rc == 1)
		audit(s, who, "task-cancel", id, "cancelled", NULL, now_ms);
	return rc;
}

/* Fails task t, just claimed by agent, with why (logged where the store refuses). */
static void
claim_fail(
    struct store *s, const char *agent, const struct store_task *t, const char *why, int64_t now_ms)
{
	struct store_task_set set = {.agent_to = "", .lease_ms = 0, .reason = why};
	char *err = NULL;

	if (store_task_update(s, t->id, agent, task_state_name(TASK_CLAIMED),
	        task_state_name(TASK_FAILED), &set, now_ms, &err) < 0) {
		log_error("task %lld: %s", (long long)t->id, err);
		free(err);
	}
	audit(s, agent, "task-fail", t->id, "failed", why, now_ms);
}

/*
 * Reads a reference into *out. On failure the claimed task fails with "failed: the manager
 * cannot read WHAT PATH: PROBLEM" (the reader's words after the path), which is *cause too.
 */
static int
claim_secret(struct store *s, const char *agent, const struct store_task *t, const char *ref,
    taskq_secret_cb read_secret, char **out, const char *what, int64_t now_ms, char **cause)
{
	const char *path = strncmp(ref != NULL ? ref : "", "file:", 5) == 0 ? ref + 5 : ref;
	char *err = NULL, *why;
	const char *tail;

	*out = NULL;
	if (ref == NULL || (*out = read_secret(ref, what, &err)) != NULL)
		return 0;
	tail = err != NULL && (tail = strstr(err, path)) != NULL ? tail + strlen(path) : "";
	tail += strspn(tail, ": ");
	why = xasprintf("failed: the manager cannot read the %s %s%s%s", what, path,
	    *tail != '\0' ? ": " : "", tail);
	free(err);
	claim_fail(s, agent, t, why, now_ms);
	*cause = why;
	return -1;
}

int
taskq_claim(struct store *s, const char *agent, int64_t now_ms, int64_t lease_ms,
    taskq_secret_cb read_secret, struct store_task **out, struct taskq_secrets *sec,
    int64_t *failed, char **cause)
{
	char *why = NULL, *reason;
	int rc;

	memset(sec, 0, sizeof *sec);
	*failed = 0;
	rc = store_task_take(s, task_state_name(TASK_QUEUED), task_state_name(TASK_CLAIMED), agent,
	    now_ms, now_ms + lease_ms, now_ms - TASKQ_AP_FRESH_MS, out, cause);
	if (rc != 1)
		return rc;
	audit(s, agent, "task-claim", (*out)->id, "claimed", (*out)->target, now_ms);
	if (taskq_check_text(*out, &why) != 0) { /* queued before the check was this strict */
		reason = xasprintf("failed: %s", why);
		claim_fail(s, agent, *out, reason, now_ms);
		free(reason);
		free(why);
		store_task_free(*out);
		*out = NULL;
		return 0;
	}
	if (claim_secret(s, agent, *out, (*out)->key_ref, read_secret, &sec->key, "WiFi key file",
	        now_ms, cause) != 0 ||
	    claim_secret(s, agent, *out, (*out)->pass_ref, read_secret, &sec->password,
	        "device password file", now_ms, cause) != 0) {
		*failed = (*out)->id;
		store_task_free(*out);
		*out = NULL;
		return -2; /* the caller frees what sec holds */
	}
	return 1;
}

/* The stages only the manager sets: an agent's report never replaces them. */
static int
stage_verdict(const char *stage)
{
	return stage != NULL && (strcmp(stage, TASKQ_STAGE_NOT_SEEN) == 0 ||
	                            strcmp(stage, TASKQ_STAGE_VERIFIED) == 0 ||
	                            strcmp(stage, TASKQ_STAGE_AP_ON) == 0);
}

int
taskq_stage_ok(const char *stage)
{
	static const char *const stages[] = {"running", "template", "configured", "waiting"};

	return str_table_find(stages, (int)(sizeof stages / sizeof stages[0]), stage) >= 0;
}

/* The reason of a task whose last attempt's lease ran out (expire_cb). */
static const char expired_reason[] = "agent stopped heartbeating";

/*
 * 1 when failed task t failed because its last attempt's lease ran out and no task for its
 * target was queued since (a late "configured" report may still verify it), 0 when not, -1
 * with *cause.
 */
static int
expired_on_last_attempt(struct store *s, const struct store_task *t, char **cause)
{
	int64_t other = 0;

	if (t->reason == NULL || strcmp(t->reason, expired_reason) != 0)
		return 0;
	return taskq_target_active(s, t->target, &other, cause) == 0 ? 1 : other != 0 ? 0 : -1;
}

/*
 * A "configured" report from agent, which the task was taken back from (its lease ran out):
 * the device left its AP for the target network, so no later attempt can find it there.
 * The task becomes agent's again, verifying: from the queue, or from another agent that
 * claimed it since and has not configured it (claimed, running; its attempt is given back,
 * and it learns from its next report or heartbeat that the task is no longer its).
 * 1 moved, 0 not agent's report to make, -1 error.
 */
static int
late_configured(
    struct store *s, const char *agent, int64_t id, const char *mac, int64_t now_ms, char **cause)
{
	struct store_task *t = store_task_get(s, id);
	struct store_task_set set = {.lease_ms = -1, .stage = "configured", .mac = mac};
	enum task_state st;
	int rc = 0;

	if (t == NULL || t->last_agent == NULL || strcmp(t->last_agent, agent) != 0 ||
	    task_state_parse(t->state, &st) != 0 ||
	    (st == TASK_FAILED && (rc = expired_on_last_attempt(s, t, cause)) != 1)) {
		store_task_free(t);
		return rc;
	}
	set.agent_to = agent;
	set.lease_ms = now_ms; /* run out: the verifier decides (taskq_expire) */
	set.uncount = st == TASK_CLAIMED || st == TASK_RUNNING; /* the other agent's attempt */
	if (st == TASK_QUEUED || st == TASK_CLAIMED || st == TASK_RUNNING || st == TASK_FAILED)
		rc = store_task_update(s, id, t->agent, t->state, task_state_name(TASK_VERIFYING),
		    &set, now_ms, cause);
	if (rc == 1)
		log_info("task %lld: %s reports it configured after its lease ran out",
		    (long long)id, agent);
	store_task_free(t);
	return rc;
}

int
taskq_progress(struct store *s, const char *agent, int64_t id, const char *stage, const char *mac,
    int64_t now_ms, const char **state, char **cause)
{
	struct store_task_set set = {.lease_ms = -1, .stage = stage};
	struct store_task *t;
	enum task_state to, now;
	char norm[13];
	int rc = 0;

	if (!taskq_stage_ok(stage)) {
		*cause = xasprintf("unknown stage '%s' (%s)", stage, TASKQ_STAGES);
		return -2;
	}
	if (strcmp(stage, "running") == 0)
		to = TASK_RUNNING;
	else if (strcmp(stage, "configured") == 0) {
		if (mac == NULL || str_mac_normalise(mac, norm) != 0) {
			*cause = xstrdup("stage configured needs the device's MAC");
			return -1;
		}
		set.mac = norm;
		to = TASK_VERIFYING;
	} else
		to = TASK_STATE_COUNT;
	if (to != TASK_STATE_COUNT) {
		rc = move(s, id, agent, to, &set, now_ms, NULL, cause);
		if (rc == 0 && to == TASK_VERIFYING)
			rc = late_configured(s, agent, id, norm, now_ms, cause);
		if (rc < 0)
			return -1;
		if (rc == 1)
			audit(s, agent, "task-progress", id, task_state_name(to), stage, now_ms);
	}
	t = store_task_get(s, id);
	if (t == NULL || t->agent == NULL || strcmp(t->agent, agent) != 0 ||
	    task_state_parse(t->state, &now) != 0) {
		store_task_free(t);
		return 0;
	}
	if (to == TASK_STATE_COUNT && !task_state_final(now) && !stage_verdict(t->stage) &&
	    store_task_update(s, id, agent, t->state, t->state, &set, now_ms, cause) < 0) {
		store_task_free(t);
		return -1;
	}
	if (to == TASK_VERIFYING && rc == 0 && now == TASK_CANCELLED) {
		/* cancelled while the agent was on the device's AP, out of the manager's reach:
		 * the task stays cancelled, but the operator learns which device is configured */
		char *what = xasprintf(
		    "device %s configured for %s after the cancel: not verified", norm, t->network);

		audit(s, agent, "task-progress", id, "cancelled", what, now_ms);
		log_warn("task %lld: %s", (long long)id, what);
		free(what);
	}
	store_task_free(t);
	*state = task_state_name(now);
	return 1;
}

int
taskq_fail(struct store *s, const char *agent, int64_t id, const char *reason, int retry,
    int64_t now_ms, const char **state, char **cause)
{
	struct store_task *t = store_task_get(s, id);
	struct store_task_set set = {.agent_to = "", .lease_ms = 0, .reason = reason};
	enum task_state to = TASK_FAILED;
	int rc;

	if (t == NULL)
		return 0;
	/* Still claimed: the agent never reached the device (its AP went out of range since
	 * the scan); back to the queue, the attempt given back. */
	set.uncount = retry && strcmp(t->state, task_state_name(TASK_CLAIMED)) == 0;
	if (set.uncount || (retry && t->attempts < t->max_attempts)) {
		to = TASK_QUEUED;
		set.last_agent = agent;
	}
	store_task_free(t);
	rc = move(s, id, agent, to, &set, now_ms, NULL, cause);
	if (rc == 1) {
		audit(s, agent, "task-fail", id, task_state_name(to), reason, now_ms);
		if (to == TASK_FAILED)
			event(s, NULL, "provision_failed", id, reason, now_ms);
		*state = task_state_name(to);
	}
	return rc;
}

int
taskq_verified(
    struct store *s, int64_t id, const char *host, int ap_owed, int64_t now_ms, char **cause)
{
	struct store_task_set set = {.agent_to = NULL,
	    .lease_ms = 0,
	    .stage = ap_owed ? TASKQ_STAGE_AP_ON : TASKQ_STAGE_VERIFIED,
	    .result = host,
	    .reason = ap_owed ? TASKQ_AP_ON_PREFIX "not turned off yet" : NULL};
	int rc = move(s, id, NULL, TASK_DONE, &set, now_ms, NULL, cause);

	if (rc == 1) {
		struct store_task *t = store_task_get(s, id);

		audit(s, "manager", "task-verify", id, "done", host, now_ms);
		if (t != NULL) {
			char *what = xasprintf("on %s at %s", t->network, host);

			event(s, t->mac, "provisioned", id, what, now_ms);
			free(what);
		}
		store_task_free(t);
	}
	return rc;
}

int
taskq_ap_on(struct store *s, int64_t id, const char *why, int64_t now_ms, char **cause)
{
	char *reason = why != NULL ? xasprintf(TASKQ_AP_ON_PREFIX "%s", why) : NULL;
	struct store_task_set set = {.lease_ms = -1,
	    .stage = why != NULL ? TASKQ_STAGE_AP_ON : TASKQ_STAGE_VERIFIED,
	    .reason = why != NULL ? reason : ""};
	const char *done = task_state_name(TASK_DONE);
	int rc = store_task_update(s, id, NULL, done, done, &set, now_ms, cause);

	free(reason);
	return rc;
}

int
taskq_not_seen(struct store *s, int64_t id, const char *reason, int64_t now_ms, char **cause)
{
	struct store_task_set set = {
	    .lease_ms = -1, .stage = TASKQ_STAGE_NOT_SEEN, .reason = reason};
	const char *v = task_state_name(TASK_VERIFYING);
	int rc = store_task_update(s, id, NULL, v, v, &set, now_ms, cause);

	if (rc == 1)
		audit(s, "manager", "task-verify", id, "not_seen", NULL, now_ms);
	return rc;
}

struct expire_ctx {
	struct store *s;
	int64_t now_ms;
	int n;
	char *cause;
};

/*
 * A verifying task's device was configured: it may sit on the target network already, so it
 * is never requeued. The verifier decides it; once it gave up (not_seen) and the agent that
 * would answer is gone, the task fails.
 */
static int
expire_verifying(const struct store_task *t)
{
	return strcmp(t->state, task_state_name(TASK_VERIFYING)) == 0;
}

static int
expire_cb(const struct store_task *t, void *arg)
{
	struct expire_ctx *x = arg;
	int verifying = expire_verifying(t);
	int retry = !verifying && t->attempts < t->max_attempts;
	struct store_task_set set = {.agent_to = "",
	    .lease_ms = 0,
	    .reason = verifying ? "not seen on the target network; agent stopped heartbeating"
	              : retry   ? "agent stopped heartbeating: requeued"
	                        : expired_reason,
	    .last_agent = verifying ? NULL : t->agent};
	const char *to = task_state_name(retry ? TASK_QUEUED : TASK_FAILED);
	int rc;

	if (verifying && !stage_verdict(t->stage))
		return 0; /* the verifier has not decided yet */
	rc = store_task_update(x->s, t->id, t->agent, t->state, to, &set, x->now_ms, &x->cause);
	if (rc < 0)
		return 1;
	if (rc == 1) {
		audit(x->s, "manager", "task-expire", t->id, to, t->agent, x->now_ms);
		if (!retry)
			event(x->s, NULL, "provision_failed", t->id, set.reason, x->now_ms);
		x->n++;
	}
	return 0;
}

int
taskq_expire(struct store *s, int64_t now_ms, char **cause)
{
	struct expire_ctx x = {s, now_ms, 0, NULL};

	for (int st = 0; st < TASK_STATE_COUNT && x.cause == NULL; st++) {
		if (!task_state_held((enum task_state)st))
			continue;
		if (store_task_expired(s, task_state_name((enum task_state)st), now_ms, expire_cb,
		        &x, &x.cause) != 0 &&
		    x.cause == NULL)
			x.cause = xstrdup("listing expired tasks");
	}
	if (x.cause != NULL) {
		*cause = x.cause;
		return -1;
	}
	return x.n;
}

struct grace_ctx {
	struct store *s;
	int64_t now_ms, until_ms;
	char *cause;
};

static int
grace_cb(const struct store_task *t, void *arg)
{
	struct grace_ctx *x = arg;
	enum task_state st;

	if (t->agent == NULL || t->lease_ms == 0 || t->lease_ms >= x->until_ms ||
	    task_state_parse(t->state, &st) != 0 || !task_state_held(st))
		return 0;
	return store_task_renew(x->s, t->agent, t->id, x->until_ms, x->now_ms, &x->cause) != 0;
}

int
taskq_grace(struct store *s, int64_t now_ms, int64_t lease_ms, char **cause)
{
	struct grace_ctx x = {s, now_ms, now_ms + lease_ms, NULL};

	if (store_task_list(s, grace_cb, &x, &x.cause) != 0 || x.cause != NULL) {
		*cause = x.cause != NULL ? x.cause : xstrdup("listing the held tasks");
		return -1;
	}
	return 0;
}

int
taskq_holds(struct store *s, const char *agent, int64_t id)
{
	struct store_task *t = store_task_get(s, id);
	enum task_state st;
	int held = t != NULL && t->agent != NULL && strcmp(t->agent, agent) == 0 &&
	           task_state_parse(t->state, &st) == 0 && task_state_held(st);

	store_task_free(t);
	return held;
}

int
taskq_file_ref(const char *path, const char *what, int (*valid)(const char *), const char *rule,
    char **ref, char **cause)
{
	char *abs = realpath(path, NULL), *secret;
	int ok;

	*ref = NULL;
	if (abs == NULL) {
		*cause = xasprintf("%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	*ref = xasprintf("file:%s", abs);
	free(abs);
	if ((secret = conf_read_secret_file(*ref, what, cause)) == NULL)
		return -1;
	ok = valid(secret);
	conf_secret_free(secret);
	if (!ok) {
		*cause = xasprintf("%s %s: %s", what, path, rule);
		return -1;
	}
	return 0;
}

struct revoke_ctx {
	struct store *s;
	const char *agent;
	int64_t now_ms;
	char *cause;
};

/* A task the revoked agent held goes back to the queue (the attempt counts), else fails. */
static int
revoke_cb(const struct store_task *t, void *arg)
{
	struct revoke_ctx *x = arg;
	enum task_state st;
	int retry = t->attempts < t->max_attempts;
	struct store_task_set set = {
	    .agent_to = "", .lease_ms = 0, .reason = retry ? "agent revoked: requeued" : "agent revoked"};
	const char *to = task_state_name(retry ? TASK_QUEUED : TASK_FAILED);
	int rc;

	if (t->agent == NULL || strcmp(t->agent, x->agent) != 0 ||
	    task_state_parse(t->state, &st) != 0 || !task_state_held(st) ||
	    st == TASK_VERIFYING) /* the verifier decides; its lease then runs out */
		return 0;
	rc = store_task_update(x->s, t->id, t->agent, t->state, to, &set, x->now_ms, &x->cause);
	if (rc < 0)
		return 1;
	if (rc == 1) {
		audit(x->s, "manager", "task-revoke", t->id, to, t->agent, x->now_ms);
		if (!retry)
			event(x->s, NULL, "provision_failed", t->id, set.reason, x->now_ms);
	}
	return 0;
}

int
taskq_agent_revoke(struct store *s, const char *agent, const char *who, int64_t now_ms, char **cause)
{
	struct revoke_ctx x = {s, agent, now_ms, NULL};
	int rc = store_agent_remove(s, agent, cause);

	if (rc != 1)
		return rc;
	audit(s, who, "agent-revoke", 0, "ok", agent, now_ms);
	if (store_task_list(s, revoke_cb, &x, &x.cause) != 0) {
		*cause = x.cause != NULL ? x.cause : xstrdup("listing the agent's tasks");
		return -1;
	}
	return 1;
}
