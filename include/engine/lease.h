#ifndef ENGINE_LEASE_H
#define ENGINE_LEASE_H

/*
 * The lease keeper: one poller of a database polls (the store's named lease), the others stand
 * by. On util/loop it tries to take the lease every heartbeat while standing by and renews it
 * every heartbeat while leading; change_cb says when it starts or stops leading.
 *
 * - It steps down when no heartbeat succeeded for the timeout minus one heartbeat (monotonic
 *   clock), so a leader that cannot write stops before another poller may take over.
 * - heartbeat must be shorter than timeout / 2 (lease_check_times).
 * - The holder name is "ROLE:HOST:PID:PIDNS:RANDOM": two containers with the same hostname and
 *   pid 1 differ by the random part. A lease held by a process on this host (same hostname and
 *   pid namespace) that no longer exists is stale and taken over at once.
 */
#include <stdint.h>

struct loop;
struct store;
struct lease;

struct lease_opts {
	const char *name;	/* the lease ("poller") */
	const char *role;	/* first part of the holder name ("headless", "poll-once") */
	uint64_t heartbeat_ms;
	uint64_t timeout_ms;
};

/* Called with 1 when this process starts leading, 0 when it stops. */
typedef void (*lease_change_cb)(int leader, void *arg);

/* Returns 0 when heartbeat_ms < timeout_ms / 2, else -1 with *cause (a configuration error). */
int lease_check_times(uint64_t heartbeat_ms, uint64_t timeout_ms, char **cause);
/* Returns a keeper (not started), or NULL with *cause when the times are wrong. */
struct lease *lease_new(struct loop *loop, struct store *store, const struct lease_opts *opts,
    lease_change_cb cb, void *arg, char **cause);
/* Tries to take the lease now (change_cb may run before it returns), then every heartbeat. */
void lease_start(struct lease *l);
/*
 * One attempt, without the timer: 1 taken (a stale local holder is taken over), 0 held by
 * another (*why names it, "a live poller (...)"), -1 with *why on a store error. No change_cb.
 */
int lease_acquire_once(struct lease *l, char **why);
/* 1 while this process holds the lease. */
int lease_is_leader(const struct lease *l);
/* This process's holder name. */
const char *lease_holder(const struct lease *l);
/* While standing by: who holds the lease ("a live poller (NAME)") or the last error; else NULL. */
const char *lease_other(const struct lease *l);
/* Stops the timer and releases the lease when held. */
void lease_free(struct lease *l);

#endif
