#ifndef PROVISION_AGENTMSG_H
#define PROVISION_AGENTMSG_H

#include <stddef.h>
#include <stdint.h>

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

#define AGENTMSG_KINDS(X)                                             \
	X(REGISTER, "register") /* agent: {"secret", "name"} */       \
	X(HEARTBEAT, "heartbeat") /* agent: {} */                     \
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
	int64_t task; /* PROGRESS, RESULT, TASK */
	char stage[33]; /* PROGRESS, STATE: [a-z_]+ */
	char mac[18]; /* PROGRESS (optional), normalised to 12 hex digits */
	char reason[AGENTMSG_TEXT_MAX + 1]; /* RESULT: sanitised */
	int retry; /* RESULT */
	char state[17]; /* STATE */
	/* TASK */
	char target[33];
	char network[33];
	char key[64]; /* "" for an open network */
	char password[64]; /* "" none */
	int ap_off;
	int attempt;
};

/* Name of a kind ("register"). Static. */
const char *agentmsg_kind_name(enum agentmsg_kind kind);
/* Parses body[len] as kind into *out (zeroed first). Returns 0, or -1 with *cause. */
int agentmsg_parse(
    enum agentmsg_kind kind, const char *body, size_t len, struct agentmsg *out, char **cause);
/* Wipes the secrets of a message (key, password, secret, token). */
void agentmsg_clear(struct agentmsg *m);

#endif
