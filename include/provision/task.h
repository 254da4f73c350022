#ifndef PROVISION_TASK_H
#define PROVISION_TASK_H

/*
 * The life of a provisioning task, written once:
 *
 *   queued -> claimed -> running -> verifying -> done
 *      ^         |          |           |
 *      +---------+----------+-----------+---- requeued (lease expired, retry left)
 *   any state but done/failed/cancelled -> failed | cancelled
 *
 * claimed: an agent took it (lease running); running: the agent is on the device's AP;
 * verifying: the device was configured and the manager looks for it on the target network.
 */
#define TASK_STATES(X)            \
	X(QUEUED, "queued")       \
	X(CLAIMED, "claimed")     \
	X(RUNNING, "running")     \
	X(VERIFYING, "verifying") \
	X(DONE, "done")           \
	X(FAILED, "failed")       \
	X(CANCELLED, "cancelled")

enum task_state {
#define TASK_STATE_ENUM(id, name) TASK_##id,
	TASK_STATES(TASK_STATE_ENUM)
#undef TASK_STATE_ENUM
	    TASK_STATE_COUNT
};

/* Returns the name of a state; "unknown" when out of range. Static. */
const char *task_state_name(enum task_state s);
/* Parses a state name; 0, or -1 if unknown. */
int task_state_parse(const char *name, enum task_state *out);
/* 1 for done, failed and cancelled (nothing follows), else 0. */
int task_state_final(enum task_state s);
/* 1 when to may follow from, else 0. */
int task_transition_ok(enum task_state from, enum task_state to);
/* 1 while an agent holds the task (claimed, running, verifying). */
int task_state_held(enum task_state s);

#endif
