#ifndef PROVISION_TASKQ_H
#define PROVISION_TASKQ_H

#include <stddef.h>
#include <stdint.h>

/*
 * The provisioning task queue and the agents that work it, on the store. Every change is
 * checked against the state machine (provision/task.h), written as one compare-and-set and
 * audited. Tokens and enrolment secrets are random, handed out once and stored as their
 * SHA-256; WiFi keys stay references until a claim reply needs the key itself.
 */
struct store;
struct store_task;

#define TASKQ_TOKEN_HEX 64 /* bearer token: 32 random bytes, hex */
#define TASKQ_SECRET_HEX 48 /* enrolment secret: 24 random bytes, hex */
#define TASKQ_SSID_MAX 32 /* IEEE 802.11 */
#define TASKQ_KEY_MAX 64 /* a WPA passphrase is 8..63 characters, a PSK 64 hex digits */
#define TASKQ_KEY_RULE "a WPA key is 8 to 63 printable ASCII characters, or 64 hex digits"
#define TASKQ_PASS_MIN 1 /* a device password */
#define TASKQ_PASS_MAX 64
#define TASKQ_PASS_RULE "a device password is 1 to 64 printable ASCII characters"

/*
 * Reads a secret reference ("file:PATH"), what naming the file in messages ("WiFi key file");
 * returns it malloc'd or NULL with *cause.
 */
typedef char *(*taskq_secret_cb)(const char *ref, const char *what, char **cause);
/* Frees a secret returned by a taskq_secret_cb (overwriting it first). */
typedef void (*taskq_secret_free_cb)(char *secret);

/* 1 when s is an SSID we hand to a device or nmcli: 1-32 bytes, printable ASCII. */
int taskq_ssid_ok(const char *s);
/* 1 when s is a WPA key: 8-63 printable ASCII characters, or 64 hex digits (shelly/sta.h). */
int taskq_key_ok(const char *s);
/* 1 when s is a device password: TASKQ_PASS_MIN..TASKQ_PASS_MAX printable ASCII characters. */
int taskq_pass_ok(const char *s);
/* 1 when ssid looks like a Shelly AP: Gen1 "shelly<model>-XXXXXX", Gen2+ "Shelly<App>-<MAC>". */
int taskq_ssid_is_shelly(const char *ssid);

/* Hex SHA-256 of s into out (65 bytes). */
void taskq_hash(const char *s, char out[65]);

/*
 * Creates an enrolment secret valid for ttl_ms; stores its hash, audits, returns the secret
 * (caller frees; it is shown once and kept nowhere), or NULL with *cause.
 */
char *taskq_enrol_new(
    struct store *s, int64_t now_ms, int64_t ttl_ms, const char *who, char **cause);
/*
 * Registers an agent named name with an enrolment secret. Returns 1 with *agent_id and
 * *token (caller frees both), 0 when the secret is unknown, used or expired (nothing
 * changes), -1 error.
 */
int taskq_register(struct store *s, const char *secret, const char *name, int64_t now_ms,
    char **agent_id, char **token, char **cause);
/* Returns the id of the agent with bearer token (caller frees), or NULL. */
char *taskq_agent(struct store *s, const char *token);
/*
 * Notes the agent alive and extends to now + lease_ms the leases of the ntasks tasks it says
 * it is working on; ntasks < 0 (an agent that names none) extends all of its tasks. A task the
 * agent holds but does not name runs out of lease and goes back to the queue: an agent that
 * restarted with the same id no longer works on it.
 */
int taskq_heartbeat(struct store *s, const char *agent, const int64_t *tasks, int ntasks,
    int64_t now_ms, int64_t lease_ms, char **cause);

/*
 * Checks the secret in the file path with valid (taskq_key_ok, taskq_pass_ok; else rule is
 * the cause) and makes its reference "file:ABSPATH" in *ref (caller frees). The secret is
 * read, checked and wiped; only the reference is kept; what names the file in messages
 * ("WiFi key file"). Returns 0, or -1 with *cause.
 */
int taskq_file_ref(const char *path, const char *what, int (*valid)(const char *),
    const char *rule, char **ref, char **cause);
/*
 * Checks the network name and the device name (if any) of t with shelly_sta_ssid_check and
 * shelly_sta_name_check: what an agent will accept. 0, or -1 with *cause.
 */
int taskq_check_text(const struct store_task *t, char **cause);
/*
 * 1 when targets a and b name one device: equal SSIDs (case aside), one MAC in two spellings,
 * or a MAC and an AP name ending in "-" and that MAC (Gen2+) or its last six digits (Gen1).
 */
int taskq_same_target(const char *a, const char *b);
/*
 * 1 with *id when a task for target (taskq_same_target) has not ended (queued, claimed,
 * running, verifying), 0 when none has, -1 error.
 */
int taskq_target_active(struct store *s, const char *target, int64_t *id, char **cause);
/*
 * Queues a provisioning task. t->kind, t->state, attempts are set here; target, network,
 * key_ref, name, template_name, pass_ref, ap_off and max_attempts come from t. Validates
 * (taskq_check_text, MAC or SSID target) and refuses a target that has a task not ended
 * (taskq_target_active); returns 0 with *id, or -1 with *cause.
 */
int taskq_add(struct store *s, const struct store_task *t, const char *who, int64_t now_ms,
    int64_t *id, char **cause);
/*
 * Queues the n tasks of ts as taskq_add does, all or none: the checks against the tasks in
 * the store (the earlier ones of ts included) and the inserts are one write transaction, so
 * two requests at the same time never queue two tasks for one device. 0 with ids[0..n-1],
 * or -1 with *cause (nothing queued).
 */
int taskq_add_all(struct store *s, const struct store_task *ts, size_t n, const char *who,
    int64_t now_ms, int64_t *ids, char **cause);
/* Cancels a task that is not final. Returns 1 cancelled, 0 no such task or already final. */
int taskq_cancel(struct store *s, int64_t id, const char *who, int64_t now_ms, char **cause);
/* The secrets of a claimed task, read from their references (NULL: none). */
struct taskq_secrets {
	char *key; /* WiFi key */
	char *password; /* the device's new password */
};
/* How recent an agent's report of an access point must be for it to get that AP's task. */
#define TASKQ_AP_FRESH_MS 60000
/*
 * Gives agent, with a lease until now + lease_ms, the oldest queued task whose access point
 * it reported seeing (/api/v1/aps) in the last TASKQ_AP_FRESH_MS: an agent out of a device's
 * range never takes its task, which waits for an agent that sees it. Returns 1 with
 * *out (caller frees) and *sec filled through read_secret (caller frees both with the
 * matching free function, also after -1 and -2), 0 none queued (or the task taken failed
 * taskq_check_text: it fails with that reason before any secret is read), -1 error, -2 the task taken failed because the manager cannot read its WiFi key file or
 * device password file: *failed is its id and *cause the task's reason, "failed: the manager
 * cannot read the WiFi key file PATH: PROBLEM".
 */
int taskq_claim(struct store *s, const char *agent, int64_t now_ms, int64_t lease_ms,
    taskq_secret_cb read_secret, struct store_task **out, struct taskq_secrets *sec,
    int64_t *failed, char **cause);
/* The stages an agent reports, in order (TASKQ_STAGES names them for messages). */
#define TASKQ_STAGES "running, template, configured, waiting"
/* The manager's verdicts, set as the stage of a verifying task; no agent report replaces them. */
#define TASKQ_STAGE_NOT_SEEN "not_seen"
#define TASKQ_STAGE_VERIFIED "verified"
/*
 * A done task whose device was verified while the AP-off it asked for (--ap-off, Gen2+) is
 * still owed: the manager retries it (also after a restart) until the device takes it; the
 * reason is then TASKQ_AP_ON_PREFIX and why the AP is still on.
 */
#define TASKQ_STAGE_AP_ON "ap_on"
#define TASKQ_AP_ON_PREFIX "verified, AP still on: "
/* 1 when stage is one an agent may report (TASKQ_STAGES), else 0. */
int taskq_stage_ok(const char *stage);
/*
 * Progress of agent on task id: stage "running" (on the AP: claimed -> running), "configured"
 * (running -> verifying, mac required), "template" and "waiting" are recorded as the stage
 * unless the manager's verdict (not_seen) is there already. A "configured" report from the
 * agent the task was last taken back from (its lease ran out) is kept: the task becomes
 * that agent's again, verifying, from the queue or from another agent that claimed it since
 * and has not reported it configured (that claim's attempt is given back). Returns 1 with
 * *state (static name of the task's state now), 0 the task is not agent's (or gone), -1
 * error, -2 a stage that is not one of TASKQ_STAGES (with *cause; nothing changes).
 */
int taskq_progress(struct store *s, const char *agent, int64_t id, const char *stage,
    const char *mac, int64_t now_ms, const char **state, char **cause);
/*
 * The end of agent's attempt: ok (only from verifying, after the manager saw the device:
 * not accepted from agents) or a failure with reason; retry asks for another attempt, which
 * is queued when attempts < max_attempts. A retry of a task still claimed (the agent never
 * reached the device: its access point went out of range) is queued with the attempt given
 * back. Returns 1 with *state, 0 not agent's, -1 error.
 */
int taskq_fail(struct store *s, const char *agent, int64_t id, const char *reason, int retry,
    int64_t now_ms, const char **state, char **cause);
/*
 * The manager saw task id's device on the target network at host: verifying -> done, in
 * stage TASKQ_STAGE_AP_ON when ap_owed (its AP is still to be turned off), else verified.
 */
int taskq_verified(
    struct store *s, int64_t id, const char *host, int ap_owed, int64_t now_ms, char **cause);
/*
 * A done task whose AP-off is owed (TASKQ_STAGE_AP_ON): why (NULL: the AP is off now, the
 * stage becomes verified) is why the AP is still on. Returns 1 changed, 0 not done, -1 error.
 */
int taskq_ap_on(struct store *s, int64_t id, const char *why, int64_t now_ms, char **cause);
/*
 * Verification gave up: the stage becomes "not_seen", which the agent reads and answers;
 * reason (NULL: none) says why the manager could not see the device, when it knows.
 */
int taskq_not_seen(struct store *s, int64_t id, const char *reason, int64_t now_ms, char **cause);
/*
 * Tasks whose agent stopped heartbeating (lease ended before now): back to the queue while
 * attempts remain, else failed. A verifying task (the device was configured and may be on
 * the target network) is never requeued: it waits for the verifier, and fails only once the
 * verifier gave up (not_seen). Returns the number handled, or -1.
 */
int taskq_expire(struct store *s, int64_t now_ms, char **cause);
/*
 * A manager that starts gives every held task's lease at least lease_ms from now, so that
 * agents can heartbeat before anything expires however long the manager was down. 0 or -1.
 */
int taskq_grace(struct store *s, int64_t now_ms, int64_t lease_ms, char **cause);
/* 1 when agent holds task id (claimed, running or verifying), else 0. */
int taskq_holds(struct store *s, const char *agent, int64_t id);
/*
 * Revokes agent (by who, for the audit log): its row goes, so its token is refused at once;
 * the tasks it holds go back to the queue while attempts remain (the attempt counts), else
 * fail with "agent revoked"; a verifying task stays for the verifier (see taskq_expire). Returns 1 revoked, 0 no such agent, -1 error.
 */
int taskq_agent_revoke(
    struct store *s, const char *agent, const char *who, int64_t now_ms, char **cause);

#endif
