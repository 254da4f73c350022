#ifndef PROVISION_AGENTMSG_H
#define PROVISION_AGENTMSG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/devconfig.h"

/*
 * The JSON bodies of the agent API (/api/v1/...), parsed strictly into one typed struct: the
 * manager parses what agents send, the agent parses what the manager answers. Bodies larger
 * than AGENTMSG_MAX_BODY, nested deeper than AGENTMSG_MAX_DEPTH, not an object, with a
 * member of the wrong type or a string out of bounds are refused with a readable cause.
 * Strings are copied into fixed buffers; a WiFi key or password is wiped by agentmsg_clear.
 */
#define AGENTMSG_MAX_BODY (16 * 1024)
#define AGENTMSG_MAX_DEPTH 4
#define AGENTMSG_MAX_APS 64
#define AGENTMSG_TEXT_MAX 200 /* reasons, stages are shorter */
#define AGENTMSG_MAX_FIELDS 40 /* template fields in a claim reply */
#define AGENTMSG_MAX_TASKS 16 /* task ids in a heartbeat */

#define AGENTMSG_KINDS(X)                                             \
	X(REGISTER, "register") /* agent: {"secret", "name"} */       \
	X(HEARTBEAT, "heartbeat") /* agent: {"tasks": [id...]} */     \
	X(APS, "aps") /* agent: {"aps": [{"ssid", "rssi"}]} */        \
	X(CLAIM, "claim") /* agent: {} */                             \
	X(PROGRESS, "progress") /* agent: {"task", "stage", "mac"} */ \
	X(RESULT, "result") /* agent: {"task", "reason", "retry"} */  \
	X(REGISTERED, "registered") /* manager: {"agent", "token"} */ \
	X(TASK, "task") /* manager: {"task": {...}} (claim reply) */  \
	X(STATE, "state") /* manager: {"state", "stage"} */

enum agentmsg_kind {
#define AGENTMSG_ENUM(id, name) AGENTMSG_##id,
	AGENTMSG_KINDS(AGENTMSG_ENUM)
#undef AGENTMSG_ENUM
	    AGENTMSG_KIND_COUNT
};

struct agentmsg_ap {
	char ssid[33];
	int rssi; /* dBm, 0 unknown */
};

struct agentmsg {
	enum agentmsg_kind kind;
	char secret[65]; /* REGISTER */
	char name[65]; /* REGISTER: agent name; TASK: device name ("" none) */
	char agent[41]; /* REGISTERED */
	char token[65]; /* REGISTERED */
	struct agentmsg_ap aps[AGENTMSG_MAX_APS]; /* APS */
	size_t naps;
	/*
	 * HEARTBEAT: the tasks the agent is working on; has_tasks is 0 when the body names none
	 * (an agent from before the list: all its tasks are renewed).
	 */
	int64_t tasks[AGENTMSG_MAX_TASKS];
	size_t ntasks;
	int has_tasks;
	int64_t task; /* PROGRESS, RESULT, TASK */
	char stage[33]; /* PROGRESS, STATE: [a-z_]+ */
	char mac[18]; /* PROGRESS (optional), normalised to 12 hex digits */
	char reason[AGENTMSG_TEXT_MAX + 1]; /* RESULT: sanitised */
	int retry; /* RESULT */
	char state[17]; /* STATE */
	/* TASK */
	char target[33];
	char network[33];
	char key[65]; /* "" for an open network; at most 64 (TASKQ_KEY_MAX: a PSK in hex) */
	char password[65]; /* "" none; at most 64 (TASKQ_PASS_MAX, the devices' own limit) */
	int ap_off;
	int attempt;
	/*
	 * The task's template resolved by the manager ("config": {"FIELD": "VALUE"}, null for a
	 * field the template clears, DEVCONFIG_NULL): checked
	 * like a template file; values may still hold the per-device variables ${id}, ${mac}
	 * and ${name}, which only the agent knows once it has identified the device.
	 */
	struct devconfig config;
};

/* Name of a kind ("register"). Static. */
const char *agentmsg_kind_name(enum agentmsg_kind kind);
/* Parses body[len] as kind into *out (zeroed first). Returns 0, or -1 with *cause; a TASK
 * refused after its id was read keeps the id in out->task (else 0). */
int agentmsg_parse(
    enum agentmsg_kind kind, const char *body, size_t len, struct agentmsg *out, char **cause);
/*
 * Adds c to a claim reply's task object as "config" (secrets included: the reply goes to the
 * authenticated agent only). Nothing when c is empty.
 */
void agentmsg_config_add(cJSON *task, const struct devconfig *c);
/* Wipes the values of c (a template may hold secrets) and frees them. */
void agentmsg_config_free(struct devconfig *c);
/* Wipes the secrets of a message (key, password, secret, token, config values); frees config. */
void agentmsg_clear(struct agentmsg *m);

#endif
