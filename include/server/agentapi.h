#ifndef SERVER_AGENTAPI_H
#define SERVER_AGENTAPI_H

#include <stdint.h>

#include "provision/taskq.h"
#include "server/httpd.h"

/*
 * The agent API under /api/v1/ on the headless HTTP server: POST register, heartbeat, aps,
 * claim, progress and result, JSON in and out (provision/agentmsg.h). Every call but
 * register needs "Authorization: Bearer TOKEN"; a missing or unknown token is 401, a bad
 * body 400, and neither changes anything. The WiFi key leaves the manager only inside the
 * claim reply; nothing here logs a body.
 */
struct store;
struct agentapi;
struct devconfig;

struct agentapi_opts {
	int64_t lease_ms; /* a claim and each heartbeat hold tasks this long */
	taskq_secret_cb read_secret; /* reads the WiFi key reference of a claimed task */
	taskq_secret_free_cb free_secret;
	int64_t (*now_ms)(void); /* wall clock (ms since the epoch) */
	/* Reads a task's template into out (initialised there); NULL: templates are not sent. */
	int (*load_template)(const char *name, struct devconfig *out, char **cause);
};

/* Routes the API on httpd (NULL: not routed; see agentapi_route); store and httpd are
 * borrowed. Caller frees. */
struct agentapi *agentapi_new(
    struct httpd *httpd, struct store *store, const struct agentapi_opts *opts);
/*
 * Routes the API's calls on httpd to cb(arg), which answers them with agentapi_handle: for a
 * server that carries the API only at times, or an API that moves between servers.
 */
void agentapi_route(struct httpd *httpd, httpd_handler_cb cb, void *arg);
/* Answers one call of the API (what the handler agentapi_new routes does). */
void agentapi_handle(
    struct agentapi *api, const struct httpd_request *req, struct httpd_reply *reply);
/* A reload: claims and heartbeats hold tasks for lease_ms from now on. */
void agentapi_set_lease(struct agentapi *api, int64_t lease_ms);
void agentapi_free(struct agentapi *api);

#endif
