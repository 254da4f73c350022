#ifndef STORE_TASKSTORE_H
#define STORE_TASKSTORE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Provisioning records in the store: tasks, agents, enrolment secrets and the device access
 * points agents have seen. Plain records and atomic compare-and-set updates; which state may
 * follow which is provision/task's business, not the store's.
 *
 * Secrets are never stored: an agent token and an enrolment secret are kept as their SHA-256
 * (hex), a WiFi key or device password as a reference ("file:PATH").
 *
 * Behind the store's backend interface (struct store_task_ops in store/backend.h; the SQLite
 * one is store/sqlite_task.c); a backend without them makes these calls fail with a cause.
 * Every write is one short transaction; a claim (store_task_take) is one write transaction.
 */
struct store;

#define TASKSTORE_ID_MAX 40

/* A task. Strings as in store.h: input owned by the caller, output in the record's allocation. */
struct store_task {
	int64_t id; /* assigned by store_task_add */
	const char *kind; /* "provision" */
	const char *target; /* AP SSID or MAC */
	const char *network; /* station network (SSID) to join */
	const char *key_ref; /* WiFi key reference, NULL for an open network */
	const char *name; /* device name to set, or NULL */
	const char *template_name; /* template to apply, or NULL */
	const char *pass_ref; /* device password reference, or NULL */
	int ap_off; /* turn the device's AP off afterwards */
	const char *state; /* provision/task.h names */
	int attempts;
	int max_attempts;
	const char *agent; /* agent holding it, or NULL */
	int64_t lease_ms; /* lease end, 0 none */
	const char *stage; /* last progress stage reported, or NULL */
	const char *mac; /* device MAC once identified, or NULL */
	const char *result; /* e.g. "10.0.0.7", or NULL */
	const char *reason; /* why it failed or was requeued, or NULL */
	int64_t created_ms;
	int64_t updated_ms;
	const char *last_agent; /* the agent it was last taken back from (requeued), or NULL */
};

struct store_agent {
	const char *id;
	const char *name;
	int64_t created_ms;
	int64_t last_seen_ms; /* 0 never */
};

struct store_ap {
	const char *ssid;
	const char *agent;
	int rssi; /* dBm, 0 unknown */
	int64_t seen_ms;
};

typedef int (*store_task_cb)(const struct store_task *t, void *arg);
typedef int (*store_agent_cb)(const struct store_agent *a, void *arg);
typedef int (*store_ap_cb)(const struct store_ap *ap, void *arg);

/* Frees a task record returned by the store (NULL allowed). */
void store_task_free(struct store_task *t);

/* Inserts t (state as given, attempts 0); *id is the new task's id. */
int store_task_add(
    struct store *s, const struct store_task *t, int64_t now_ms, int64_t *id, char **cause);
/*
 * What store_task_add_all asks of every task in the store (have) for each it adds (add): 1
 * when have stands in add's way (a task for the same device that has not ended), else 0.
 */
typedef int (*store_task_clash_cb)(
    const struct store_task *have, const struct store_task *add, void *arg);
/*
 * Adds the n tasks of ts (as store_task_add, ids into ids) in one write transaction, each
 * after clash (may be NULL) passed it against every task in the store then (read once, at
 * the start of the transaction) and the ones of ts added before it (their id set): no other
 * writer can add a clashing task in between. Returns 0 all added; 1 none added, ts[*bad]
 * clashes with task *other; -1 error (none added).
 */
int store_task_add_all(struct store *s, const struct store_task *ts, size_t n, int64_t now_ms,
    store_task_clash_cb clash, void *arg, int64_t *ids, size_t *bad, int64_t *other, char **cause);
/* Returns task id or NULL (not found or error; errors are logged). Caller frees. */
struct store_task *store_task_get(struct store *s, int64_t id);
/* Calls cb for every task, oldest first. */
int store_task_list(struct store *s, store_task_cb cb, void *arg, char **cause);
/*
 * Gives the oldest task in state from to agent: state to, attempts + 1, lease until lease_ms.
 * Unless seen_ms is STORE_SEEN_ANY, only a task whose access point agent reported (store_ap_seen) at or after
 * seen_ms: the SSID itself, or for a MAC target an SSID ending in "-" and the MAC or its last
 * six digits (Gen2+ and Gen1 names). Returns 1 with *out (caller frees), 0 when none is
 * waiting, -1 error.
 */
#define STORE_SEEN_ANY INT64_MIN
int store_task_take(struct store *s, const char *from, const char *to, const char *agent,
    int64_t now_ms, int64_t lease_ms, int64_t seen_ms, struct store_task **out, char **cause);
/*
 * Compare-and-set: when task id is in state from (and held by agent, unless agent is NULL),
 * sets state to; agent_to and reason ("" clears), last_agent, lease, stage, mac and result when not
 * NULL (lease_ms < 0 keeps it, 0 clears it); uncount takes one from attempts. Returns 1 changed,
 * 0 not in that state or not held by agent, -1 error.
 */
struct store_task_set {
	const char *agent_to;
	int64_t lease_ms;
	const char *stage;
	const char *mac;
	const char *result;
	const char *reason;
	int uncount; /* 1: the attempt the claim counted is given back */
	const char *last_agent; /* NULL keeps it */
};
int store_task_update(struct store *s, int64_t id, const char *agent, const char *from,
    const char *to, const struct store_task_set *set, int64_t now_ms, char **cause);
/* Extends the lease of task (0: of every task) agent holds in a state other than the final
 * ones. */
int store_task_renew(struct store *s, const char *agent, int64_t task, int64_t lease_ms,
    int64_t now_ms, char **cause);
/* Calls cb for the tasks in state whose lease ended before now_ms (a snapshot, oldest first). */
int store_task_expired(
    struct store *s, const char *state, int64_t now_ms, store_task_cb cb, void *arg, char **cause);

/* Adds an agent; token_hash is the hex SHA-256 of its bearer token. */
int store_agent_add(struct store *s, const char *id, const char *name, const char *token_hash,
    int64_t now_ms, char **cause);
/* Returns the id of the agent whose token hashes to token_hash (caller frees), or NULL. */
char *store_agent_by_token(struct store *s, const char *token_hash);
/* Sets an agent's last_seen. */
int store_agent_seen(struct store *s, const char *id, int64_t now_ms, char **cause);
int store_agent_list(struct store *s, store_agent_cb cb, void *arg, char **cause);
/* Deletes agent id (its token stops working): 1 removed, 0 no such agent, -1 error. */
int store_agent_remove(struct store *s, const char *id, char **cause);

/* Stores the hash of a new enrolment secret valid until expires_ms. */
int store_enrol_add(
    struct store *s, const char *hash, int64_t now_ms, int64_t expires_ms, char **cause);
/*
 * Marks the enrolment secret with hash used by agent, if it is unused and not expired.
 * Returns 1 used now, 0 unknown, used before or expired, -1 error.
 */
int store_enrol_use(
    struct store *s, const char *hash, const char *agent, int64_t now_ms, char **cause);

/* Records that agent sees ssid (rssi dBm, 0 unknown). */
int store_ap_seen(
    struct store *s, const char *ssid, const char *agent, int rssi, int64_t now_ms, char **cause);
/* Calls cb for access points seen at or after since_ms, newest first. */
int store_ap_list(struct store *s, int64_t since_ms, store_ap_cb cb, void *arg, char **cause);

#endif
