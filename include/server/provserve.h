#ifndef SERVER_PROVSERVE_H
#define SERVER_PROVSERVE_H

/*
 * The manager's provisioning service in a process that runs the fleet (--headless, or the
 * console while it holds the poller lease): the agent API (server/agentapi.h) routed on an
 * HTTP server plus the verifier (engine/verifier.h) that confirms provisioned devices on the
 * home network. Its settings (agent lease, verify timeouts, ranges, mDNS) come from the
 * engine's configuration, read again by provserve_reload.
 */
struct engine;
struct httpd;
struct provserve;

/*
 * Routes /api/v1/ on httpd and starts the verifier (eng's store must be open; eng and httpd are
 * borrowed). changed(arg) runs when verified devices were registered (reload the registry).
 * Caller frees after httpd (requests may arrive until httpd is freed).
 */
struct provserve *provserve_new(
    struct engine *eng, struct httpd *httpd, void (*changed)(void *arg), void *arg);
/* Follows a reloaded configuration (eng->conf): ranges, verify timeouts, agent lease. */
void provserve_reload(struct provserve *ps);
/* NULL is fine. */
void provserve_free(struct provserve *ps);

#endif
