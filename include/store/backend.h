#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include "store/store.h"
#include "store/taskstore.h"

/*
 * The interface a storage backend implements (SQLite now, PostgreSQL later). store.c owns
 * everything backend-independent: URL dispatch, argument checks, the write queue and the
 * re-entrancy of list callbacks (it collects rows before calling the user's callback, so a
 * backend may stream rows straight from a cursor into cb).
 *
 * Every fallible op returns 0 / -1 with *cause, except where noted (1/0/-1 for found or
 * acquired / not / error). MACs passed in are already normalised. A backend handle is the
 * void * that open returned.
 */
enum store_find {
	STORE_FIND_MAC,
	STORE_FIND_ID,	/* case-insensitive */
	STORE_FIND_HOST, /* value = host, port 0 = any */
};

/*
 * Configuration management statements (store/cfgstore.c), run in batches: every step of a batch
 * in one write transaction, rows of reading steps handed to a callback as text columns.
 * Parameters ?1..?6 are text (NULL allowed), ?7 and ?8 integers.
 */
#define STORE_CFG_STMTS(X)                                                                 \
	X(SNAP_ADD) X(SNAP_PRUNE) X(SNAP_LIST) X(GROUP_ADD) X(GROUP_TEMPLATE) X(GROUP_DEL)    \
	X(GROUP_LIST) X(MEMBER_ADD) X(MEMBER_DEL) X(MEMBER_LIST) X(DEVICE_GROUPS)            \
	X(DESIRED_PUT) X(DESIRED_GET) X(PENDING_ADD) X(PENDING_LIST) X(PENDING_SET)           \
	X(PENDING_SUPERSEDE) X(SNAP_RESTORE) X(GROUP_CLEAR) X(DESIRED_CLEAR)              \
	X(SNAP_HISTORY)

enum store_cfg_stmt {
#define STORE_CFG_ENUM(name) SCS_##name,
	STORE_CFG_STMTS(STORE_CFG_ENUM)
#undef STORE_CFG_ENUM
	SCS__COUNT
};

struct store_cfg_step {
	enum store_cfg_stmt stmt;
	const char *text[6];
	int64_t num[2];
};

/*
 * The layout of every record, written once: its fields in the order a backend keeps them
 * (SQLite binds them as ?1.. and selects them in that order) and how each is kept. store.c
 * copies records by it (the strings follow the record in one allocation); a backend binds and
 * reads them by it.
 */
enum store_record {
	STORE_REC_DEVICE,
	STORE_REC_STATUS,
	STORE_REC_SAMPLE,
	STORE_REC_BUCKET,
	STORE_REC_EVENT,
	STORE_REC_AUDIT,
	STORE_REC_SETTING,
	STORE_REC_TASK,
	STORE_REC_AGENT,
	STORE_REC_AP,
};

enum store_col {
	STORE_COL_MAC,  /* char[STORE_MAC_LEN + 1] */
	STORE_COL_TEXT, /* const char *; NULL is NULL */
	STORE_COL_STR,  /* const char *, never NULL (a NULL reads as "") */
	STORE_COL_INT,  /* int; NULL reads as 0 */
	STORE_COL_BOOL, /* int, kept as 0/1 */
	STORE_COL_I64,  /* int64_t; NULL reads as 0 */
	STORE_COL_I64N, /* int64_t; STORE_NULL_INT is NULL */
	STORE_COL_REAL, /* double; NAN is NULL */
};

struct store_field {
	enum store_col col;
	size_t off;
};

struct store_layout {
	enum store_record rec;
	size_t size;
	int n;
	struct store_field f[24];
};

/*
 * The columns of a task record, written once: X(col, field, name) per column (its
 * STORE_COL_ kind, the struct store_task member, the column's name in a backend), SEP between
 * two. store_layout_task and a backend's SELECT of a task are both made from it, so they
 * cannot disagree on the order or the number of columns.
 */
#define STORE_TASK_COLUMNS(X, SEP)                                                          \
	X(I64, id, "id") SEP X(TEXT, kind, "kind") SEP X(TEXT, target, "target")          \
	SEP X(TEXT, network, "network") SEP X(TEXT, key_ref, "key_ref")                   \
	SEP X(TEXT, name, "name") SEP X(TEXT, template_name, "template")                  \
	SEP X(TEXT, pass_ref, "pass_ref") SEP X(BOOL, ap_off, "ap_off")                   \
	SEP X(TEXT, state, "state") SEP X(INT, attempts, "attempts")                      \
	SEP X(INT, max_attempts, "max_attempts") SEP X(TEXT, agent, "agent")              \
	SEP X(I64, lease_ms, "lease") SEP X(TEXT, stage, "stage") SEP X(TEXT, mac, "mac") \
	SEP X(TEXT, result, "result") SEP X(TEXT, reason, "reason")                       \
	SEP X(I64, created_ms, "created") SEP X(I64, updated_ms, "updated")               \
	SEP X(TEXT, last_agent, "last_agent")

/* Events and audit records start with their id, which the backend assigns. */
extern const struct store_layout store_layout_device, store_layout_status, store_layout_sample,
    store_layout_bucket, store_layout_event, store_layout_audit, store_layout_setting;
/* The provisioning records (store/taskstore.c). */
extern const struct store_layout store_layout_task, store_layout_agent, store_layout_ap;

/* Returns a copy of record r laid out as type, its strings in the same allocation; caller frees. */
void *store_record_dup(const void *r, const struct store_layout *type);

/*
 * One row of a list op: a record of the type the op names (struct store_device, ...), valid
 * only during the call. Non-zero stops the list.
 */
typedef int (*store_row_cb)(const void *row, void *arg);

/* A setting as a row of setting_list. */
struct store_setting {
	const char *key;
	const char *value;
};

/* One row: ncols text columns (NULL for SQL NULL). Non-zero stops the batch's reading. */
typedef int (*store_cfg_row_cb)(int ncols, const char *const *cols, void *arg);

/*
 * Provisioning records (store/taskstore.h). store/taskstore.c collects the rows of a list
 * before it calls the caller's callback, so cb here never calls the store; rows are struct
 * store_task, store_agent and store_ap. Returns as in store/taskstore.h unless noted.
 */
struct store_task_query {
	int64_t id; /* > 0: only this task */
	const char *state; /* non-NULL: only tasks in state with a lease ended before... */
	int64_t lease_before_ms; /* ...this */
};

struct store_task_ops {
	int (*add)(void *b, const struct store_task *t, int64_t now_ms, int64_t *id, char **cause);
	/* Streams the tasks q selects to cb, oldest (lowest id) first. */
	int (*list)(void *b, const struct store_task_query *q, store_row_cb cb, void *arg,
	    char **cause);
	/* In one write transaction: the oldest task in from goes to agent (state to, attempts +
	 * 1, lease until lease_ms, stage cleared); unless seen_ms is STORE_SEEN_ANY only a task
	 * whose access point agent reported at or after seen_ms (store_task_take). Returns 1 with *id, 0 none
	 * in from, -1. */
	int (*take)(void *b, const char *from, const char *to, const char *agent, int64_t now_ms,
	    int64_t lease_ms, int64_t seen_ms, int64_t *id, char **cause);
	int (*update)(void *b, int64_t id, const char *agent, const char *from, const char *to,
	    const struct store_task_set *set, int64_t now_ms, char **cause);
	int (*renew)(void *b, const char *agent, int64_t task, int64_t lease_ms, int64_t now_ms,
	    char **cause);
	int (*agent_add)(void *b, const char *id, const char *name, const char *token_hash,
	    int64_t now_ms, char **cause);
	/* Returns 1 with *id (caller frees), 0 no agent has that token, -1 error. */
	int (*agent_by_token)(void *b, const char *token_hash, char **id, char **cause);
	int (*agent_seen)(void *b, const char *id, int64_t now_ms, char **cause);
	int (*agent_list)(void *b, store_row_cb cb, void *arg, char **cause);
	/* Deletes agent id: 1 removed, 0 no such agent, -1 error. */
	int (*agent_remove)(void *b, const char *id, char **cause);
	int (*enrol_add)(void *b, const char *hash, int64_t now_ms, int64_t expires_ms, char **cause);
	int (*enrol_use)(void *b, const char *hash, const char *agent, int64_t now_ms, char **cause);
	int (*ap_seen)(void *b, const char *ssid, const char *agent, int rssi, int64_t now_ms,
	    char **cause);
	int (*ap_list)(void *b, int64_t since_ms, store_row_cb cb, void *arg, char **cause);
};

struct store_ops {
	const char *name;
	/* target is the path or URL with the scheme prefix removed; flags are STORE_OPEN_*. */
	int (*open)(const char *target, int flags, void **out, char **cause);
	void (*close)(void *b);

	/* Buffered writes: begin, put_* for each queued item, then commit or rollback. */
	int (*begin)(void *b, char **cause);
	int (*commit)(void *b, char **cause);
	void (*rollback)(void *b);
	/*
	 * A read snapshot (store_read_begin): reads, cfg_batch reading steps included, see one
	 * state of the database until read_end, whatever others commit meanwhile; nothing is
	 * written in between. SQLite: BEGIN DEFERRED ... COMMIT; PostgreSQL: a REPEATABLE READ
	 * READ ONLY transaction. NULL: each read sees the database as it is then.
	 */
	int (*read_begin)(void *b, char **cause);
	void (*read_end)(void *b);
	/* Rows for devices that are not registered (any more) are skipped, not errors. */
	int (*put_seen)(void *b, const char *mac, int64_t ts_ms, char **cause);
	int (*put_status)(void *b, const struct store_status *st, char **cause);
	int (*put_sample)(void *b, const struct store_sample *smp, char **cause);
	int (*put_event)(void *b, const struct store_event *ev, char **cause);

	/* Direct writes, each its own transaction (or the one of begin, until commit/rollback). */
	int (*device_upsert)(void *b, const struct store_device *d, char **cause);
	/* Returns 1 deleted, 0 no such MAC, -1 error. */
	int (*device_delete)(void *b, const char *mac, char **cause);
	/* Returns 1 with *out (caller frees), 0 not found, -1 error. */
	int (*device_find)(void *b, enum store_find how, const char *value, int port,
	    struct store_device **out, char **cause);
	/* Rows are struct store_device (and so on for the other list ops). */
	int (*device_list)(void *b, store_row_cb cb, void *arg, char **cause);

	int (*status_get)(void *b, const char *mac, struct store_status **out, char **cause);
	/* every status row, ordered by MAC, json NULL */
	int (*status_list)(void *b, store_row_cb cb, void *arg, char **cause);
	int (*history_list)(void *b, const char *mac, int64_t from_ms, int64_t to_ms,
	    store_row_cb cb, void *arg, char **cause);
	int (*bucket_list)(void *b, const char *mac, int64_t from_ms, int64_t to_ms,
	    store_row_cb cb, void *arg, char **cause);
	int (*event_list)(void *b, int64_t after_id, size_t limit, store_row_cb cb, void *arg,
	    char **cause);
	int (*audit_append)(void *b, const struct store_audit *a, char **cause);
	int (*audit_list)(void *b, int64_t after_id, size_t limit, store_row_cb cb, void *arg,
	    char **cause);

	/* Returns 1 with *value (caller frees), 0 not set, -1 error. */
	int (*setting_get)(void *b, const char *key, char **value, char **cause);
	int (*setting_set)(void *b, const char *key, const char *value, char **cause);
	/* Rows are struct store_setting, ordered by key (cb must not call the store). */
	int (*setting_list)(void *b, store_row_cb cb, void *arg, char **cause);

	int (*lease_acquire)(void *b, const char *name, const char *holder, int64_t now_ms,
	    int64_t timeout_ms, char **holder_out, char **cause);
	int (*lease_heartbeat)(void *b, const char *name, const char *holder, int64_t now_ms,
	    int64_t timeout_ms, char **cause);
	int (*lease_release)(void *b, const char *name, const char *holder, char **cause);

	/*
	 * Per device, in its own transaction: aggregates raw samples with ts < raw_cutoff_ms
	 * (a multiple of bucket_ms) into buckets of bucket_ms, deletes them, and deletes
	 * buckets with bucket_ts < keep_cutoff_ms.
	 */
	int (*prune)(void *b, int64_t raw_cutoff_ms, int64_t bucket_ms, int64_t keep_cutoff_ms,
	    char **cause);
	/*
	 * Deletes events with ts < events_cutoff_ms and audit records with ts < audit_cutoff_ms
	 * (a cutoff < 0: none), in short transactions; adds the rows deleted to *deleted.
	 */
	int (*prune_log)(void *b, int64_t events_cutoff_ms, int64_t audit_cutoff_ms,
	    int64_t *deleted, char **cause);
	/*
	 * Runs steps in one write transaction (all or nothing); rows go to cb (may be NULL).
	 * Between begin and commit the steps join that transaction (the caller rolls back).
	 */
	int (*cfg_batch)(void *b, const struct store_cfg_step *steps, size_t n, store_cfg_row_cb cb,
	    void *arg, char **cause);
	/* How long a write waits for another connection's lock (store_set_busy_wait). */
	void (*set_busy_wait)(void *b, int ms);
	int (*backup)(void *b, const char *path, char **cause);
	int (*integrity_check)(void *b, char **cause);
	int64_t (*size_bytes)(void *b);
	/* A number that moves whenever anyone committed a change (see store_data_version). */
	int64_t (*data_version)(void *b);
	/* Provisioning records; NULL: the backend keeps none (the calls fail with a cause). */
	const struct store_task_ops *tasks;
};

/* Returns the backend ops and handle of an open store (for backend-specific tools and tests). */
const struct store_ops *store_backend_ops(const struct store *s);
void *store_backend_handle(const struct store *s);

#endif
