/* The task state machine: names and the transitions allowed (see provision/task.h). */
#include "provision/task.h"

#include "util/str.h"


static const char *const task_names[TASK_STATE_COUNT] = {
#define TASK_STATE_NAME(id, name) name,
    TASK_STATES(TASK_STATE_NAME)
#undef TASK_STATE_NAME
};

/* next[from] is the set of states (bits) that may follow from. */
#define B(s) (1u << TASK_##s)
static const unsigned task_next[TASK_STATE_COUNT] = {
    [TASK_QUEUED] = B(CLAIMED) | B(FAILED) | B(CANCELLED),
    [TASK_CLAIMED] = B(RUNNING) | B(QUEUED) | B(FAILED) | B(CANCELLED),
    [TASK_RUNNING] = B(VERIFYING) | B(QUEUED) | B(FAILED) | B(CANCELLED),
    [TASK_VERIFYING] = B(DONE) | B(QUEUED) | B(FAILED) | B(CANCELLED),
};
#undef B

const char *
task_state_name(enum task_state s)
{
	return str_table_name(task_names, TASK_STATE_COUNT, (int)s);
}

int
task_state_parse(const char *name, enum task_state *out)
{
	int i = str_table_find(task_names, TASK_STATE_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum task_state)i;
	return 0;
}

int
task_state_final(enum task_state s)
{
	return s == TASK_DONE || s == TASK_FAILED || s == TASK_CANCELLED;
}

int
task_state_held(enum task_state s)
{
	return s == TASK_CLAIMED || s == TASK_RUNNING || s == TASK_VERIFYING;
}

int
task_transition_ok(enum task_state from, enum task_state to)
{
	if ((unsigned)from >= TASK_STATE_COUNT || (unsigned)to >= TASK_STATE_COUNT)
		return 0;
	return (task_next[from] >> to) & 1u;
}
