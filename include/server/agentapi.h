#ifndef SERVER_AGENTAPI_H
#define SERVER_AGENTAPI_H

#include <stdint.h>

#include "provision/taskq.h"

/*
 * The agent API under /api/v1/ on the headless HTTP server: POST register, heartbeat, aps,
 * claim, progress and result, JSON in and out (provision/agentmsg.h). Every call but
 * register needs "Authorization: Bearer TOKEN"; a missing or unknown token is 401, a bad
 * body 400, and neither changes anything. The WiFi key leaves the manager only inside the
 * claim reply; nothing here logs a body.
 */
struct httpd;
struct store;
struct agentapi;

struct agentapi_opts {
	int64_t lease_ms; /* a claim and each heartbeat hold tasks this long */
	taskq_secret_cb read_secret; /* reads the WiFi key reference of a claimed task */
	taskq_secret_free_cb free_secret;
	int64_t (*now_ms)(void); /* wall clock (ms since the epoch) */
};

/* Routes the API on httpd; store and httpd are borrowed. Caller frees. */
struct agentapi *agentapi_new(
    struct httpd *httpd, struct store *store, const struct agentapi_opts *opts);
void agentapi_free(struct agentapi *api);

#endif
