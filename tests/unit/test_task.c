/*
 * The provisioning task state machine and queue (provision/task, provision/taskq) on an
 * in-memory store: transitions, claims and leases, enrolment secrets used once, tokens kept
 * as hashes, cancel, retries, and the audit trail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "provision/task.h"
#include "provision/taskq.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "store/taskstore.h"
#include "util/xmalloc.h"

static int64_t failed_id; /* taskq_claim: the task failed for an unreadable file */

#define KEY "correct horse battery"

static struct store *
open_mem(void)
{
	struct store *s = NULL;
	char *cause = NULL;

	if (store_open(":memory:", &s, &cause) != 0)
		fail_msg("store_open: %s", cause);
	return s;
}

static char *
read_key_cb(const char *ref, const char *what, char **cause)
{
	if (strcmp(ref, "file:/good") == 0)
		return xstrdup(KEY);
	*cause = xasprintf("cannot read %s %s: No such file or directory", what, ref + 5);
	return NULL;
}

/* Agents ag-1 and ag-2 report target's access point (a MAC: a Gen2+ SSID ending in it). */
static void
seen(struct store *s, const char *target)
{
	char ssid[40], *cause = NULL;

	if (strlen(target) == 12 && strncasecmp(target, "shelly", 6) != 0)
		snprintf(ssid, sizeof ssid, "ShellyPlus1-%s", target);
	else
		snprintf(ssid, sizeof ssid, "%s", target);
	assert_int_equal(store_ap_seen(s, ssid, "ag-1", -50, 1, &cause), 0);
	assert_int_equal(store_ap_seen(s, ssid, "ag-2", -50, 1, &cause), 0);
}

static int64_t
add(struct store *s, const char *target, const char *key_ref, int max_attempts)
{
	struct store_task t = {
	    .target = target, .network = "home", .key_ref = key_ref, .max_attempts = max_attempts};
	char *cause = NULL;
	int64_t id = 0;

	if (taskq_add(s, &t, "test", 1000, &id, &cause) != 0)
		fail_msg("taskq_add: %s", cause);
	seen(s, target);
	return id;
}

/* Queues t (at 1 ms) and claims it as ag-1 (at 2 ms): the claimed task, its secrets in sec. */
static struct store_task *
add_claim(
    struct store *s, const struct store_task *t, taskq_secret_cb cb, struct taskq_secrets *sec)
{
	struct store_task *c = NULL;
	char *cause = NULL;
	int64_t id = 0;

	if (taskq_add(s, t, "test", 1, &id, &cause) != 0)
		fail_msg("taskq_add: %s", cause);
	seen(s, t->target);
	assert_int_equal(taskq_claim(s, "ag-1", 2, 500, cb, &c, sec, &failed_id, &cause), 1);
	assert_int_equal(c->id, id);
	return c;
}

static void
assert_state(struct store *s, int64_t id, const char *state)
{
	struct store_task *t = store_task_get(s, id);

	assert_non_null(t);
	assert_string_equal(t->state, state);
	store_task_free(t);
}

/* The lease sweep at NOW ends N leases, and task ID is then in STATE. */
static void
expire_expect(struct store *s, int64_t now, int n, int64_t id, const char *state)
{
	char *cause = NULL;

	assert_int_equal(taskq_expire(s, now, &cause), n);
	assert_state(s, id, state);
}

/* AGENT's heartbeat at NOW (a 500 ms lease) naming the N tasks at IDS succeeds. */
static void
beat(struct store *s, const char *agent, const int64_t *ids, int n, int64_t now)
{
	char *cause = NULL;

	assert_int_equal(taskq_heartbeat(s, agent, ids, n, now, 500, &cause), 0);
}

/* AGENT claims a task at NOW with a 500 ms lease and gets one (SEC: its secrets). */
static struct store_task *
claim_ok(struct store *s, const char *agent, int64_t now, struct taskq_secrets *sec)
{
	struct store_task *t = NULL;
	char *cause = NULL;

	assert_int_equal(
	    taskq_claim(s, agent, now, 500, read_key_cb, &t, sec, &failed_id, &cause), 1);
	return t;
}

static void
test_transitions(void **state)
{
	(void)state;
	assert_true(task_transition_ok(TASK_QUEUED, TASK_CLAIMED));
	assert_true(task_transition_ok(TASK_CLAIMED, TASK_RUNNING));
	assert_true(task_transition_ok(TASK_RUNNING, TASK_VERIFYING));
	assert_true(task_transition_ok(TASK_VERIFYING, TASK_DONE));
	assert_true(task_transition_ok(TASK_RUNNING, TASK_QUEUED));
	assert_false(task_transition_ok(TASK_QUEUED, TASK_DONE));
	assert_false(task_transition_ok(TASK_QUEUED, TASK_VERIFYING));
	assert_false(task_transition_ok(TASK_CLAIMED, TASK_DONE));
	for (int f = TASK_DONE; f <= TASK_CANCELLED; f++)
		for (int t = 0; t < TASK_STATE_COUNT; t++)
			assert_false(task_transition_ok((enum task_state)f, (enum task_state)t));
	assert_false(task_transition_ok(TASK_STATE_COUNT, TASK_QUEUED));
	for (int i = 0; i < TASK_STATE_COUNT; i++) {
		enum task_state back;

		assert_int_equal(task_state_parse(task_state_name((enum task_state)i), &back), 0);
		assert_int_equal(back, i);
	}
	assert_int_equal(task_state_parse("bogus", &(enum task_state){0}), -1);
}

static void
test_ssids(void **state)
{
	(void)state;
	assert_true(taskq_ssid_is_shelly("shelly1pm-A1B2C3"));
	assert_true(taskq_ssid_is_shelly("ShellyPro2PM-EC62608C9C00"));
	assert_true(taskq_ssid_is_shelly("ShellyPlugUS-C049EF8C480C"));
	assert_true(taskq_ssid_is_shelly("shellyplug-s-4022D8000068"));
	assert_false(taskq_ssid_is_shelly("home"));
	assert_false(taskq_ssid_is_shelly("shelly-A1B2C3"));
	assert_false(taskq_ssid_is_shelly("shelly1pm-A1B2"));
	assert_false(taskq_ssid_is_shelly("shelly1pm-A1B2CX"));
	assert_false(taskq_ssid_is_shelly("shelly;rm-A1B2C3"));
	assert_true(taskq_key_ok("12345678"));
	assert_false(taskq_key_ok("1234567"));
	assert_false(taskq_key_ok("tab\there1"));
	/* the pre-shared key itself: 64 hex digits, no other 64-character key, nothing longer */
	assert_true(taskq_key_ok("0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"));
	assert_false(taskq_key_ok("0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdeg"));
	assert_false(taskq_key_ok("0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef0"));
	assert_true(taskq_key_ok("123456789012345678901234567890123456789012345678901234567890123"));
	assert_false(taskq_ssid_ok(""));
	assert_false(taskq_ssid_ok("123456789012345678901234567890123"));
	assert_false(taskq_ssid_ok("new\nline"));
}

static void
test_enrol_once(void **state)
{
	struct store *s = open_mem();
	char *cause = NULL, *secret, *id = NULL, *tok = NULL, *again, hash[65];

	(void)state;
	secret = taskq_enrol_new(s, 1000, 60000, "test", &cause);
	assert_non_null(secret);
	assert_int_equal(strlen(secret), TASKQ_SECRET_HEX);
	assert_int_equal(taskq_register(s, "00", "pi", 2000, &id, &tok, &cause), 0);
	assert_null(id);
	assert_int_equal(taskq_register(s, secret, "pi", 2000, &id, &tok, &cause), 1);
	assert_non_null(tok);
	assert_int_equal(strlen(tok), TASKQ_TOKEN_HEX);
	again = taskq_agent(s, tok);
	assert_string_equal(again, id);
	free(again);
	/* Only the hash is stored: the token itself finds nothing as a hash. */
	assert_null(store_agent_by_token(s, tok));
	taskq_hash(tok, hash);
	again = store_agent_by_token(s, hash);
	assert_string_equal(again, id);
	free(again);
	free(id);
	free(tok);
	/* A replay of the used secret registers nothing. */
	assert_int_equal(taskq_register(s, secret, "evil", 3000, &id, &tok, &cause), 0);
	assert_null(tok);
	free(secret);
	/* An expired secret registers nothing either. */
	secret = taskq_enrol_new(s, 1000, 10, "test", &cause);
	assert_int_equal(taskq_register(s, secret, "late", 2000, &id, &tok, &cause), 0);
	free(secret);
	assert_null(taskq_agent(s, "0123"));
	store_free(s);
}

static int
keep_event_cb(const struct store_event *ev, void *arg)
{
	struct store_event **out = arg;

	if (*out == NULL)
		*out = store_event_dup(ev);
	return 0;
}

static void
test_claim_verify(void **state)
{
	struct store *s = open_mem();
	struct store_task *t = NULL;
	char *cause = NULL;
	struct taskq_secrets sec;
	const char *st = NULL;
	int64_t id = add(s, "shelly1pm-A1B2C3", "file:/good", 1);

	(void)state;
	assert_int_equal(
	    taskq_claim(s, "ag-1", 2000, 500, read_key_cb, &t, &sec, &failed_id, &cause), 1);
	assert_int_equal(t->id, id);
	assert_string_equal(sec.key, KEY);
	assert_null(sec.password);
	assert_int_equal(t->attempts, 1);
	store_task_free(t);
	free(sec.key);
	/* Nothing else waits. */
	assert_int_equal(
	    taskq_claim(s, "ag-2", 2000, 500, read_key_cb, &t, &sec, &failed_id, &cause), 0);
	/* Another agent cannot report on it. */
	assert_int_equal(taskq_progress(s, "ag-2", id, "running", NULL, 2100, &st, &cause), 0);
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 2100, &st, &cause), 1);
	assert_string_equal(st, "running");
	/* configured needs the MAC */
	assert_int_equal(taskq_progress(s, "ag-1", id, "configured", NULL, 2200, &st, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(
	    taskq_progress(s, "ag-1", id, "configured", "A1:B2:C3:D4:E5:F6", 2200, &st, &cause), 1);
	assert_string_equal(st, "verifying");
	assert_int_equal(taskq_verified(s, id, "10.0.0.9", 0, 2300, &cause), 1);
	t = store_task_get(s, id);
	assert_string_equal(t->state, "done");
	assert_string_equal(t->mac, "a1b2c3d4e5f6");
	assert_string_equal(t->result, "10.0.0.9");
	store_task_free(t);
	/* The success is an event of the device (after the flush). */
	assert_int_equal(store_flush(s, &cause), 0);
	{
		struct store_event *ev = NULL;

		assert_int_equal(store_event_list(s, 0, 10, keep_event_cb, &ev, &cause), 0);
		assert_non_null(ev);
		assert_string_equal(ev->kind, "provisioned");
		assert_string_equal(ev->detail, "task 1: on home at 10.0.0.9");
		free(ev);
	}
	/* Final: no cancel, no second verification. */
	assert_int_equal(taskq_cancel(s, id, "test", 2400, &cause), 0);
	assert_int_equal(taskq_verified(s, id, "10.0.0.9", 0, 2300, &cause), 0);
	store_free(s);
}

static void
test_claim_password(void **state)
{
	struct store *s = open_mem();
	struct store_task t = {.target = "shelly1-AABBCC",
	                      .network = "home",
	                      .key_ref = "file:/good",
	                      .pass_ref = "file:/good"},
	                  *c = NULL;
	struct taskq_secrets sec;
	char *cause = NULL;
	int64_t id;

	(void)state;
	c = add_claim(s, &t, read_key_cb, &sec);
	assert_string_equal(sec.password, KEY);
	free(sec.key);
	free(sec.password);
	store_task_free(c);
	/* An unreadable password fails the task, and nothing is handed out. */
	t.pass_ref = "file:/missing";
	t.target = "shelly1-AABBCD";
	assert_int_equal(taskq_add(s, &t, "test", 1, &id, &cause), 0);
	seen(s, t.target);
	assert_int_equal(
	    taskq_claim(s, "ag-1", 3, 500, read_key_cb, &c, &sec, &failed_id, &cause), -2);
	assert_int_equal(failed_id, id);
	assert_string_equal(cause, "failed: the manager cannot read the device password file "
	                           "/missing: No such file or directory");
	assert_null(c);
	assert_null(sec.password);
	free(sec.key);
	free(cause);
	assert_state(s, id, "failed");
	store_free(s);
}

/* Keys handed out by key_count_cb (none may be when a task's text is refused). */
static int keys_read;

static char *
key_count_cb(const char *ref, const char *what, char **cause)
{
	keys_read++;
	return read_key_cb(ref, what, cause);
}

/* The device name and network pass shelly_sta_*_check where a task is queued and where it is
 * claimed: UTF-8 is taken, a bidi override is not, and a task stored with one (queued before
 * the check) fails at claim time before its WiFi key is read. */
static void
test_task_text(void **state)
{
	struct store *s = open_mem();
	struct store_task t = {.target = "shellyplus1-AABBCCDDEEFF",
	                      .network = "Caf\xc3\xa9 Wohnung",
	                      .name = "K\303\274che",
	                      .key_ref = "file:/good"},
	                  *c = NULL, *got;
	struct taskq_secrets sec;
	char *cause = NULL;
	int64_t id;

	(void)state;
	c = add_claim(s, &t, key_count_cb, &sec);
	assert_string_equal(c->name, "K\303\274che");
	free(sec.key);
	store_task_free(c);
	t.name = "evil\xe2\x80\xaetxt";
	assert_int_equal(taskq_add(s, &t, "test", 3, &id, &cause), -1);
	assert_non_null(strstr(cause, "device name must be UTF-8"));
	free(cause);
	t.kind = "provision";
	t.state = "queued";
	t.max_attempts = 3;
	assert_int_equal(store_task_add(s, &t, 4, &id, &cause), 0);
	keys_read = 0;
	assert_int_equal(
	    taskq_claim(s, "ag-1", 5, 500, key_count_cb, &c, &sec, &failed_id, &cause), 0);
	assert_null(c);
	assert_null(sec.key);
	assert_int_equal(keys_read, 0);
	got = store_task_get(s, id);
	assert_string_equal(got->state, "failed");
	assert_non_null(strstr(got->reason, "device name must be UTF-8"));
	store_task_free(got);
	store_free(s);
}

/* AGENT reports task ID running, then configured as MAC, at NOW and NOW + 100: verifying. */
static void
configure(struct store *s, const char *agent, int64_t id, const char *mac, int64_t now)
{
	const char *st = NULL;
	char *cause = NULL;

	assert_int_equal(taskq_progress(s, agent, id, "running", NULL, now, &st, &cause), 1);
	assert_int_equal(
	    taskq_progress(s, agent, id, "configured", mac, now + 100, &st, &cause), 1);
	assert_string_equal(st, "verifying");
}

/* AGENT claims the one queued task at NOW (a 500 ms lease); returns its id. */
static int64_t
claim_as(struct store *s, const char *agent, int64_t now)
{
	struct store_task *c = NULL;
	struct taskq_secrets sec;
	char *cause = NULL;
	int64_t id;

	assert_int_equal(
	    taskq_claim(s, agent, now, 500, read_key_cb, &c, &sec, &failed_id, &cause), 1);
	id = c->id;
	store_task_free(c);
	return id;
}

/* Task ID is in STATE, held by AGENT after ATTEMPTS attempts, for MAC when not NULL. */
static void
assert_held(struct store *s, int64_t id, const char *state, const char *agent, const char *mac,
    int attempts)
{
	struct store_task *t = store_task_get(s, id);

	assert_non_null(t);
	assert_string_equal(t->state, state);
	assert_string_equal(t->agent, agent);
	if (mac != NULL)
		assert_string_equal(t->mac, mac);
	assert_int_equal(t->attempts, attempts);
	store_task_free(t);
}

/*
 * An agent whose lease ran out while it configured the device reports it configured late:
 * the task went back to the queue, and nobody claimed it since, so it verifies under that
 * agent. Claimed since by another agent, the late report takes the task back from it into
 * verifying (its attempt given back); its "AP not in range" no longer requeues the task: the
 * verifier decides. An agent that never held the task still cannot report it.
 */
static void
test_late_configured(void **state)
{
	struct store *s = open_mem();
	const char *st = NULL, *mac = "A1:B2:C3:D4:E5:F7";
	char *cause = NULL;
	int64_t id = add(s, "shelly1-A1B2C3", NULL, 3);

	(void)state;
	assert_int_equal(claim_as(s, "ag-1", 2000), id);
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 2100, &st, &cause), 1);
	expire_expect(s, 3000, 1, id, "queued");
	assert_int_equal(taskq_progress(s, "ag-2", id, "configured", mac, 3100, &st, &cause), 0);
	assert_int_equal(taskq_progress(s, "ag-1", id, "configured", mac, 3100, &st, &cause), 1);
	assert_string_equal(st, "verifying");
	assert_held(s, id, "verifying", "ag-1", "a1b2c3d4e5f7", 1);
	assert_int_equal(taskq_verified(s, id, "10.0.0.7", 0, 3200, &cause), 1);

	/* claimed again by ag-2 before ag-1's late report */
	id = add(s, "shelly1-A1B2C4", NULL, 3);
	assert_int_equal(claim_as(s, "ag-1", 4000), id);
	expire_expect(s, 5000, 1, id, "queued");
	assert_int_equal(claim_as(s, "ag-2", 5100), id);
	assert_int_equal(taskq_progress(s, "ag-1", id, "configured", mac, 5200, &st, &cause), 1);
	assert_string_equal(st, "verifying");
	assert_int_equal(taskq_holds(s, "ag-2", id), 0); /* its heartbeat says "lost" */
	assert_int_equal(
	    taskq_fail(s, "ag-2", id, "access point not in range", 1, 5300, &st, &cause), 0);
	assert_held(s, id, "verifying", "ag-1", "a1b2c3d4e5f7", 1); /* ag-2's attempt given back */
	assert_int_equal(taskq_verified(s, id, "10.0.0.8", 0, 5400, &cause), 1);

	/* on its last attempt the lease running out failed the task: the device left its AP all
	 * the same, so the late report still verifies it (not another agent's, and not once a new
	 * task for the target was queued) */
	id = add(s, "shelly1-A1B2C5", NULL, 1);
	assert_int_equal(claim_as(s, "ag-1", 6000), id);
	expire_expect(s, 7000, 1, id, "failed");
	assert_int_equal(taskq_progress(s, "ag-2", id, "configured", mac, 7100, &st, &cause), 0);
	assert_int_equal(taskq_progress(s, "ag-1", id, "configured", mac, 7100, &st, &cause), 1);
	assert_string_equal(st, "verifying");
	assert_held(s, id, "verifying", "ag-1", "a1b2c3d4e5f7", 1);
	assert_int_equal(taskq_verified(s, id, "10.0.0.9", 0, 7200, &cause), 1);
	id = add(s, "shelly1-A1B2C6", NULL, 1);
	assert_int_equal(claim_as(s, "ag-1", 8000), id);
	expire_expect(s, 9000, 1, id, "failed");
	assert_true(add(s, "shelly1-A1B2C6", NULL, 1) > id);
	assert_int_equal(taskq_progress(s, "ag-1", id, "configured", mac, 9100, &st, &cause), 0);
	store_free(s);
}

/*
 * An agent gets only a task whose access point it reported in the last TASKQ_AP_FRESH_MS: by
 * SSID, or a MAC target by a Gen2+ SSID ending in the MAC or a Gen1 one ending in its last six
 * digits. The task of an AP nobody sees stays queued, its attempts unused.
 */
static void
test_claim_seen(void **state)
{
	struct store *s = open_mem();
	struct store_task t = {.network = "home", .max_attempts = 1}, *c = NULL;
	struct taskq_secrets sec;
	char *cause = NULL;
	int64_t id[3];
	const char *targets[] = {"shelly1-0A0B01", "0A:0B:0C:0D:0E:02", "0a0b0c0d0e03"};

	(void)state;
	for (int i = 0; i < 3; i++) {
		t.target = targets[i];
		assert_int_equal(taskq_add(s, &t, "test", 10, &id[i], &cause), 0);
	}
	assert_int_equal(
	    taskq_claim(s, "ag-1", 20, 500, read_key_cb, &c, &sec, &failed_id, &cause), 0);
	/* ag-2 sees the third (Gen1 suffix) and, too long ago, the second (Gen2+ name) */
	assert_int_equal(store_ap_seen(s, "shellyplus1-0A0B0C0D0E02", "ag-2", 0, 30, &cause), 0);
	assert_int_equal(
	    store_ap_seen(s, "shelly1-0D0E03", "ag-2", 0, 30 + TASKQ_AP_FRESH_MS, &cause), 0);
	assert_int_equal(taskq_claim(s, "ag-1", 40 + TASKQ_AP_FRESH_MS, 500, read_key_cb, &c, &sec,
	                     &failed_id, &cause),
	    0);
	assert_int_equal(taskq_claim(s, "ag-2", 40 + TASKQ_AP_FRESH_MS, 500, read_key_cb, &c, &sec,
	                     &failed_id, &cause),
	    1);
	assert_int_equal(c->id, id[2]);
	store_task_free(c);
	assert_int_equal(taskq_claim(s, "ag-2", 40 + TASKQ_AP_FRESH_MS, 500, read_key_cb, &c, &sec,
	                     &failed_id, &cause),
	    0);
	/* seen again now: the second one by its full MAC */
	assert_int_equal(
	    store_ap_seen(s, "ShellyPlus1-0A0B0C0D0E02", "ag-2", 0, 50 + TASKQ_AP_FRESH_MS, &cause),
	    0);
	assert_int_equal(taskq_claim(s, "ag-2", 60 + TASKQ_AP_FRESH_MS, 500, read_key_cb, &c, &sec,
	                     &failed_id, &cause),
	    1);
	assert_int_equal(c->id, id[1]);
	store_task_free(c);
	assert_state(s, id[0], "queued");
	c = store_task_get(s, id[0]);
	assert_int_equal(c->attempts, 0);
	store_task_free(c);
	store_free(s);
}

/*
 * One device has one task at a time: the same AP name (case aside), one MAC in two spellings
 * and a MAC with the AP name that ends in it are refused while a task for it has not ended;
 * once it ended, the device can be queued again.
 */
static void
test_duplicate_target(void **state)
{
	struct store *s = open_mem();
	struct store_task t = {.network = "home", .max_attempts = 1};
	char *cause = NULL;
	int64_t id = 0, first = add(s, "shelly1-0A0B11", NULL, 1), gen2;
	const char *same[] = {"shelly1-0A0B11", "SHELLY1-0a0b11", "0a:0b:0c:0a:0b:11"};

	(void)state;
	for (int i = 0; i < 3; i++) {
		t.target = same[i];
		assert_int_equal(taskq_add(s, &t, "test", 2, &id, &cause), -1);
		assert_non_null(strstr(cause, "has not ended"));
		free(cause);
		cause = NULL;
	}
	gen2 = add(s, "0A-0B-0C-0D-0E-12", NULL, 1);
	t.target = "0a0b0c0d0e12";
	assert_int_equal(taskq_add(s, &t, "test", 3, &id, &cause), -1);
	free(cause);
	cause = NULL;
	t.target = "ShellyPlus1PM-0A0B0C0D0E12";
	assert_int_equal(taskq_add(s, &t, "test", 3, &id, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(taskq_same_target("shelly1-0A0B11", "shelly1-0A0B12"), 0);
	/* ended: queued again */
	assert_int_equal(taskq_cancel(s, first, "test", 4, &cause), 1);
	assert_int_equal(taskq_cancel(s, gen2, "test", 4, &cause), 1);
	t.target = same[2];
	assert_int_equal(taskq_add(s, &t, "test", 5, &id, &cause), 0);
	store_free(s);
}

/* The stage of task ID is STAGE. */
static void
assert_stage(struct store *s, int64_t id, const char *stage)
{
	struct store_task *t = store_task_get(s, id);

	assert_non_null(t);
	assert_non_null(t->stage);
	assert_string_equal(t->stage, stage);
	store_task_free(t);
}

/*
 * The stages an agent reports are a fixed list; the manager's verdict "not_seen" stays when
 * the agent reports "waiting" after it, and no agent can write "verified" or "done".
 */
static void
test_stage_verdict(void **state)
{
	struct store *s = open_mem();
	struct taskq_secrets sec;
	const char *st = NULL;
	char *cause = NULL;
	int64_t id = add(s, "shelly1-A1B2C4", NULL, 1);

	(void)state;
	store_task_free(claim_ok(s, "ag-1", 1000, &sec));
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 1100, &st, &cause), 1);
	assert_int_equal(taskq_progress(s, "ag-1", id, "template", NULL, 1150, &st, &cause), 1);
	assert_stage(s, id, "template");
	for (int i = 0; i < 3; i++) {
		const char *bad[] = {"verified", "done", "not_seen"};

		assert_int_equal(
		    taskq_progress(s, "ag-1", id, bad[i], NULL, 1160, &st, &cause), -2);
		assert_non_null(strstr(cause, "unknown stage"));
		free(cause);
		cause = NULL;
		assert_stage(s, id, "template");
	}
	assert_int_equal(
	    taskq_progress(s, "ag-1", id, "configured", "A1B2C3A1B2C4", 1200, &st, &cause), 1);
	assert_int_equal(taskq_progress(s, "ag-1", id, "waiting", NULL, 1300, &st, &cause), 1);
	assert_stage(s, id, "waiting");
	assert_int_equal(taskq_not_seen(s, id, NULL, 1400, &cause), 1);
	/* the agent's next report keeps the verdict and reads it back */
	assert_int_equal(taskq_progress(s, "ag-1", id, "waiting", NULL, 1500, &st, &cause), 1);
	assert_string_equal(st, "verifying");
	assert_stage(s, id, "not_seen");
	store_free(s);
}

static void
test_lease_expiry(void **state)
{
	struct store *s = open_mem();
	struct store_task *t;
	struct taskq_secrets sec;
	int64_t id = add(s, "ShellyPlus1PM-A8032AB12345", NULL, 2);

	(void)state;
	t = claim_ok(s, "ag-1", 1000, &sec);
	assert_null(sec.key); /* open network */
	store_task_free(t);
	/* A heartbeat holds it; silence lets it go back to the queue. */
	beat(s, "ag-1", NULL, -1, 1400);
	expire_expect(s, 1600, 0, id, "claimed");
	expire_expect(s, 1901, 1, id, "queued");
	/* The second agent gets it (attempt 2); when it goes silent too, no attempts remain. */
	t = claim_ok(s, "ag-2", 2000, &sec);
	assert_int_equal(t->attempts, 2);
	store_task_free(t);
	expire_expect(s, 2501, 1, id, "failed");
	store_free(s);
}

/*
 * An agent killed and restarted with the same id names none of what it held: the heartbeats
 * of the new process renew nothing, the old task's lease runs out, it goes back to the queue
 * (the attempt counted) and the restarted agent claims it again. Naming the task keeps it.
 */
static void
test_restarted_agent(void **state)
{
	struct store *s = open_mem();
	struct store_task *t;
	struct taskq_secrets sec;
	int64_t id = add(s, "ShellyPlus1PM-A8032AB12346", NULL, 3);

	(void)state;
	store_task_free(claim_ok(s, "ag-1", 1000, &sec));
	/* working on it: the heartbeat names it, the lease follows */
	beat(s, "ag-1", &id, 1, 1400);
	expire_expect(s, 1800, 0, id, "claimed");
	/* restarted: heartbeats name no task, the lease is not renewed */
	beat(s, "ag-1", NULL, 0, 1800);
	beat(s, "ag-1", NULL, 0, 1850);
	expire_expect(s, 1901, 1, id, "queued");
	t = claim_ok(s, "ag-1", 2000, &sec);
	assert_int_equal(t->id, id);
	assert_int_equal(t->attempts, 2);
	store_task_free(t);
	store_free(s);
}

/*
 * A configured (verifying) task is the verifier's: lease expiry and revocation leave it; once
 * the verifier gave up and no agent answers, expiry fails it, never requeues it.
 */
static void
test_verifying_kept(void **state)
{
	struct store *s = open_mem();
	struct taskq_secrets sec;
	char *cause = NULL;
	int64_t id = add(s, "shelly1-A1B2C5", NULL, 3);

	(void)state;
	assert_int_equal(store_agent_add(s, "ag-1", "one", "00", 900, &cause), 0);
	store_task_free(claim_ok(s, "ag-1", 1000, &sec));
	configure(s, "ag-1", id, "A1B2C3A1B2C5", 1100);
	expire_expect(s, 5000, 0, id, "verifying");
	assert_int_equal(taskq_agent_revoke(s, "ag-1", "test", 5100, &cause), 1);
	assert_state(s, id, "verifying");
	assert_int_equal(taskq_verified(s, id, "10.0.0.5", 0, 5200, &cause), 1);
	assert_state(s, id, "done");

	id = add(s, "shelly1-A1B2C6", NULL, 3);
	store_task_free(claim_ok(s, "ag-2", 6000, &sec));
	configure(s, "ag-2", id, "A1B2C3A1B2C6", 6100);
	assert_int_equal(taskq_not_seen(s, id, NULL, 6300, &cause), 1);
	expire_expect(s, 9000, 1, id, "failed");
	store_free(s);
}

/*
 * A manager that starts gives the held tasks one lease of grace, however long it was down;
 * taskq_holds says which tasks an agent still holds.
 */
static void
test_start_grace(void **state)
{
	struct store *s = open_mem();
	struct taskq_secrets sec;
	char *cause = NULL;
	int64_t id = add(s, "shelly1-A1B2C7", NULL, 2), other = 99;

	(void)state;
	store_task_free(claim_ok(s, "ag-1", 1000, &sec)); /* lease until 1500 */
	assert_int_equal(taskq_holds(s, "ag-1", id), 1);
	assert_int_equal(taskq_holds(s, "ag-2", id), 0);
	assert_int_equal(taskq_holds(s, "ag-1", other), 0);
	/* down until 100000: the first sweep leaves it, the agent's heartbeat keeps it */
	assert_int_equal(taskq_grace(s, 100000, 500, &cause), 0);
	expire_expect(s, 100001, 0, id, "claimed");
	beat(s, "ag-1", &id, 1, 100400);
	expire_expect(s, 100800, 0, id, "claimed");
	/* an agent that does not come back loses it one lease later */
	expire_expect(s, 100901, 1, id, "queued");
	assert_int_equal(taskq_holds(s, "ag-1", id), 0);
	store_free(s);
}

static void
test_fail_retry_cancel(void **state)
{
	struct store *s = open_mem();
	struct store_task *t = NULL;
	char *cause = NULL;
	struct taskq_secrets sec;
	const char *st = NULL;
	int64_t id = add(s, "a1b2c3d4e5f6", "file:/good", 2), id2;

	(void)state;
	/* Not in range before it began (still claimed): requeued, the attempt given back. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    taskq_claim(s, "ag-1", 900 + i, 500, read_key_cb, &t, &sec, &failed_id, &cause),
		    1);
		assert_int_equal(t->attempts, 1);
		store_task_free(t);
		free(sec.key);
		assert_int_equal(
		    taskq_fail(s, "ag-1", id, "access point not in range", 1, 900 + i, &st, &cause),
		    1);
		assert_string_equal(st, "queued");
	}
	assert_int_equal(
	    taskq_claim(s, "ag-1", 1000, 500, read_key_cb, &t, &sec, &failed_id, &cause), 1);
	store_task_free(t);
	free(sec.key);
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 1050, &st, &cause), 1);
	assert_int_equal(taskq_fail(s, "ag-1", id, "join failed", 1, 1100, &st, &cause), 1);
	assert_string_equal(st, "queued");
	assert_int_equal(
	    taskq_claim(s, "ag-1", 1200, 500, read_key_cb, &t, &sec, &failed_id, &cause), 1);
	store_task_free(t);
	free(sec.key);
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 1250, &st, &cause), 1);
	assert_int_equal(taskq_fail(s, "ag-1", id, "join failed", 1, 1300, &st, &cause), 1);
	assert_string_equal(st, "failed");
	id2 = add(s, "shelly1-AABBCC", "file:/missing", 1);
	assert_int_equal(
	    taskq_claim(s, "ag-1", 1400, 500, read_key_cb, &t, &sec, &failed_id, &cause), -2);
	free(cause);
	cause = NULL;
	assert_state(s, id2, "failed");
	t = store_task_get(s, id2);
	assert_string_equal(t->reason,
	    "failed: the manager cannot read the WiFi key file /missing: "
	    "No such file or directory");
	store_task_free(t);
	id2 = add(s, "shelly1-AABBCC", NULL, 1);
	assert_int_equal(taskq_cancel(s, id2, "test", 1500, &cause), 1);
	assert_state(s, id2, "cancelled");
	assert_int_equal(
	    taskq_claim(s, "ag-1", 1600, 500, read_key_cb, &t, &sec, &failed_id, &cause), 0);
	store_free(s);
}

static int
audit_cb(const struct store_audit *a, void *arg)
{
	int *n = arg;

	if (a->detail != NULL && strstr(a->detail, KEY) != NULL)
		fail_msg("key in the audit log");
	(*n)++;
	return 0;
}

static void
test_bad_add_and_audit(void **state)
{
	struct store *s = open_mem();
	struct store_task t = {.target = "kitchen", .network = "home"};
	char *cause = NULL;
	int64_t id;
	int n = 0;

	(void)state;
	assert_int_equal(taskq_add(s, &t, "test", 1, &id, &cause), -1);
	assert_non_null(strstr(cause, "neither"));
	free(cause);
	cause = NULL;
	t.target = "shelly1-AABBCC";
	t.network = "bad\x1bnet";
	assert_int_equal(taskq_add(s, &t, "test", 1, &id, &cause), -1);
	free(cause);
	cause = NULL;
	add(s, "shelly1-AABBCC", "file:/good", 1);
	assert_int_equal(store_audit_list(s, 0, 100, audit_cb, &n, &cause), 0);
	assert_int_equal(n, 1);
	store_free(s);
}

static int
count_cb(const struct store_task *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

static int
tasks_in(struct store *s)
{
	char *cause = NULL;
	int n = 0;

	assert_int_equal(store_task_list(s, count_cb, &n, &cause), 0);
	return n;
}

/* A batch is queued whole or not at all; a device's task not ended refuses it, one ended not. */
static void
test_add_all(void **state)
{
	struct store *s = open_mem();
	struct store_task ts[2] = {{.target = "A1:B2:C3:D4:E5:F6", .network = "home"},
	    {.target = "shelly1-AABBCC", .network = "home"}};
	int64_t ids[2] = {0, 0}, first = add(s, "shelly1-aabbcc", NULL, 1);
	char *cause = NULL;

	(void)state;
	/* the second names the queued task's device (its AP in another case): nothing queued */
	assert_int_equal(taskq_add_all(s, ts, 2, "test", 5, ids, &cause), -1);
	assert_non_null(strstr(cause, "has not ended"));
	free(cause);
	cause = NULL;
	assert_int_equal(tasks_in(s), 1);
	/* twice the same device in one batch (a MAC and the Gen1 AP ending in it) */
	ts[1].target = "shellyplug-s-D4E5F6";
	assert_int_equal(taskq_add_all(s, ts, 2, "test", 6, ids, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(tasks_in(s), 1);
	/* once the first task ended, its device may be queued again, with another one */
	assert_int_equal(taskq_cancel(s, first, "test", 7, &cause), 1);
	ts[1].target = "shelly1-AABBCC";
	assert_int_equal(taskq_add_all(s, ts, 2, "test", 8, ids, &cause), 0);
	assert_true(ids[0] > first && ids[1] > ids[0]);
	assert_int_equal(tasks_in(s), 3);
	store_free(s);
}

static int
audit_cancelled_cb(const struct store_audit *a, void *arg)
{
	if (strcmp(a->action, "task-progress") == 0 && a->result != NULL &&
	    strcmp(a->result, "cancelled") == 0 && a->detail != NULL &&
	    strstr(a->detail, "a1b2c3d4e5f6 configured for home") != NULL)
		(*(int *)arg)++;
	return 0;
}

/*
 * A task cancelled while its agent was on the device's AP: the agent's "configured" report
 * leaves it cancelled (no verifying, nothing retried), and the audit log names the device.
 */
static void
test_configured_after_cancel(void **state)
{
	struct store *s = open_mem();
	struct store_task *t = NULL;
	struct taskq_secrets sec;
	const char *st = NULL;
	char *cause = NULL;
	int64_t id = add(s, "a1b2c3d4e5f6", NULL, 3);
	int n = 0;

	(void)state;
	t = claim_ok(s, "ag-1", 10, &sec);
	store_task_free(t);
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 20, &st, &cause), 1);
	assert_int_equal(taskq_cancel(s, id, "test", 30, &cause), 1);
	assert_int_equal(
	    taskq_progress(s, "ag-1", id, "configured", "A1B2C3D4E5F6", 40, &st, &cause), 1);
	assert_string_equal(st, "cancelled");
	assert_state(s, id, "cancelled");
	assert_int_equal(taskq_fail(s, "ag-1", id, "failed: x", 1, 50, &st, &cause), 0);
	assert_state(s, id, "cancelled");
	assert_int_equal(store_audit_list(s, 0, 100, audit_cancelled_cb, &n, &cause), 0);
	assert_int_equal(n, 1);
	/* revoked on the AP (its task requeued), then cancelled: a late report changes nothing
	 * (the revoked token is refused before this; the store holds even without that) */
	id = add(s, "a1b2c3d4e5f7", NULL, 3);
	assert_int_equal(store_agent_add(s, "ag-1", "one", "00", 60, &cause), 0);
	t = claim_ok(s, "ag-1", 60, &sec);
	store_task_free(t);
	assert_int_equal(taskq_progress(s, "ag-1", id, "running", NULL, 61, &st, &cause), 1);
	assert_int_equal(taskq_agent_revoke(s, "ag-1", "test", 62, &cause), 1);
	assert_state(s, id, "queued");
	assert_int_equal(taskq_cancel(s, id, "test", 63, &cause), 1);
	assert_int_equal(
	    taskq_progress(s, "ag-1", id, "configured", "A1B2C3D4E5F7", 64, &st, &cause), 0);
	assert_int_equal(taskq_fail(s, "ag-1", id, "failed: x", 1, 65, &st, &cause), 0);
	assert_state(s, id, "cancelled");
	store_free(s);
}

/* What a list callback saw, one "a:b:c;" per row; with stop it ends the list after one row. */
struct listed {
	struct store *s;
	char text[256];
	int stop;
};

static void
listed_add(struct listed *l, const char *a, const char *b, long long c)
{
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof l->text - len, "%s:%s:%lld;", a, b != NULL ? b : "-", c);
}

static int
agent_row_cb(const struct store_agent *a, void *arg)
{
	struct listed *l = arg;
	char *cause = NULL;

	listed_add(l, a->id, a->name, (long long)a->last_seen_ms);
	/* Rows are copies: the callback may write to the store while the list runs. */
	assert_int_equal(store_agent_seen(l->s, a->id, 9000, &cause), 0);
	return l->stop;
}

static int
ap_row_cb(const struct store_ap *ap, void *arg)
{
	listed_add(arg, ap->ssid, ap->agent, ap->rssi);
	return 0;
}

static int
task_row_cb(const struct store_task *t, void *arg)
{
	listed_add(arg, t->target, t->key_ref, t->max_attempts);
	return 0;
}

static void
test_lists(void **state)
{
	struct store *s = open_mem();
	struct listed l = {s, "", 0};
	struct store_task t = {.kind = "provision",
	    .target = "shelly-a",
	    .network = "home",
	    .state = "queued",
	    .max_attempts = 3};
	struct store_task *got;
	char *cause = NULL;
	int64_t id;

	(void)state;
	assert_int_equal(store_agent_add(s, "a1", "pi", "h1", 1000, &cause), 0);
	assert_int_equal(store_agent_add(s, "a2", "nuc", "h2", 2000, &cause), 0);
	assert_int_equal(store_agent_list(s, agent_row_cb, &l, &cause), 0);
	assert_string_equal(l.text, "a1:pi:0;a2:nuc:0;");
	l = (struct listed){s, "", 1};
	assert_int_equal(store_agent_list(s, agent_row_cb, &l, &cause), 0);
	assert_string_equal(l.text, "a1:pi:9000;");

	assert_int_equal(store_ap_seen(s, "net-b", "a1", -60, 3000, &cause), 0);
	assert_int_equal(store_ap_seen(s, "net-a", "a2", -70, 4000, &cause), 0);
	assert_int_equal(store_ap_seen(s, "old", "a2", 0, 100, &cause), 0);
	l = (struct listed){s, "", 0};
	assert_int_equal(store_ap_list(s, 1000, ap_row_cb, &l, &cause), 0);
	assert_string_equal(l.text, "net-a:a2:-70;net-b:a1:-60;");

	assert_int_equal(store_task_add(s, &t, 1000, &id, &cause), 0);
	t.target = "shelly-b";
	t.key_ref = "file:/k";
	t.ap_off = 1;
	t.max_attempts = 0; /* stored as 1 */
	assert_int_equal(store_task_add(s, &t, 1000, &id, &cause), 0);
	l = (struct listed){s, "", 0};
	assert_int_equal(store_task_list(s, task_row_cb, &l, &cause), 0);
	assert_string_equal(l.text, "shelly-a:-:3;shelly-b:file:/k:1;");
	got = store_task_get(s, id);
	assert_non_null(got);
	assert_int_equal(got->ap_off, 1);
	assert_int_equal(got->attempts, 0);
	assert_int_equal(got->created_ms, 1000);
	assert_null(got->agent);
	store_task_free(got);
	l = (struct listed){s, "", 0};
	assert_int_equal(store_task_expired(s, "queued", 5000, task_row_cb, &l, &cause), 0);
	assert_string_equal(l.text, ""); /* no lease, so none expired */
	store_free(s);
}

/*
 * Every column of a task reads back into its own member (store_layout_task and the backend's
 * SELECT both come from STORE_TASK_COLUMNS): each holds a value no other column has.
 */
static void
test_task_columns(void **state)
{
	struct store *s = open_mem();
	struct store_task t = {.kind = "k-kind",
	    .target = "k-target",
	    .network = "k-network",
	    .key_ref = "file:/k-key",
	    .name = "k-name",
	    .template_name = "k-template",
	    .pass_ref = "file:/k-pass",
	    .ap_off = 1,
	    .state = "queued",
	    .max_attempts = 7};
	struct store_task_set set = {.lease_ms = -1,
	    .stage = "k-stage",
	    .mac = "a1b2c3d4e5f6",
	    .result = "k-result",
	    .reason = "k-reason"};
	struct store_task *got = NULL;
	char *cause = NULL;
	int64_t id = 0;

	(void)state;
	assert_int_equal(store_task_add(s, &t, 1111, &id, &cause), 0);
	assert_int_equal(store_task_take(s, "queued", "running", "k-agent", 2222, 9999,
	                     STORE_SEEN_ANY, &got, &cause),
	    1);
	store_task_free(got);
	assert_int_equal(
	    store_task_update(s, id, "k-agent", "running", "verifying", &set, 3333, &cause), 1);
	got = store_task_get(s, id);
	assert_non_null(got);
	assert_int_equal(got->id, id);
	assert_string_equal(got->kind, "k-kind");
	assert_string_equal(got->target, "k-target");
	assert_string_equal(got->network, "k-network");
	assert_string_equal(got->key_ref, "file:/k-key");
	assert_string_equal(got->name, "k-name");
	assert_string_equal(got->template_name, "k-template");
	assert_string_equal(got->pass_ref, "file:/k-pass");
	assert_int_equal(got->ap_off, 1);
	assert_string_equal(got->state, "verifying");
	assert_int_equal(got->attempts, 1);
	assert_int_equal(got->max_attempts, 7);
	assert_string_equal(got->agent, "k-agent");
	assert_int_equal(got->lease_ms, 9999);
	assert_string_equal(got->stage, "k-stage");
	assert_string_equal(got->mac, "a1b2c3d4e5f6");
	assert_string_equal(got->result, "k-result");
	assert_string_equal(got->reason, "k-reason");
	assert_int_equal(got->created_ms, 1111);
	assert_int_equal(got->updated_ms, 3333);
	store_task_free(got);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transitions),
	    cmocka_unit_test(test_ssids),
	    cmocka_unit_test(test_enrol_once),
	    cmocka_unit_test(test_claim_verify),
	    cmocka_unit_test(test_claim_password),
	    cmocka_unit_test(test_task_text),
	    cmocka_unit_test(test_claim_seen),
	    cmocka_unit_test(test_late_configured),
	    cmocka_unit_test(test_duplicate_target),
	    cmocka_unit_test(test_stage_verdict),
	    cmocka_unit_test(test_lease_expiry),
	    cmocka_unit_test(test_restarted_agent),
	    cmocka_unit_test(test_verifying_kept),
	    cmocka_unit_test(test_start_grace),
	    cmocka_unit_test(test_fail_retry_cancel),
	    cmocka_unit_test(test_bad_add_and_audit),
	    cmocka_unit_test(test_add_all),
	    cmocka_unit_test(test_configured_after_cancel),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_task_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
