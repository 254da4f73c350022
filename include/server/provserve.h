#ifndef SERVER_PROVSERVE_H
#define SERVER_PROVSERVE_H

/*
 * The manager's provisioning service in a process that runs the fleet (--headless, or the
 * console while it holds the poller lease): the agent API (server/agentapi.h) routed on an
 * HTTP server plus the verifier (engine/verifier.h) that confirms provisioned devices on the
 * home network. Its settings (agent lease, verify timeouts, ranges, mDNS) come from the
 * engine's configuration, read again by provserve_reload.
 */
#include <stddef.h>

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

/*
 * The address the agent API gets a server of its own on (agent-listen), or NULL when it is
 * served on the front end's main server (--headless: listen).
 */
const char *provserve_own_addr(const struct engine *eng);
/*
 * Starts a server for the agent API on addr: HTTPS when agent-tls-cert and agent-tls-key are
 * set (*https 1), else plain HTTP. Returns it (caller frees), or NULL with *cause: the address
 * is taken, a file cannot be read, or only one of the two is set.
 */
struct httpd *provserve_httpd(struct engine *eng, const char *addr, int *https, char **cause);
/* "http[s]://HOST:PORT/api/v1/" of a server started on addr (HOST:PORT) into buf. */
void provserve_url(const char *addr, const struct httpd *h, int https, char *buf, size_t size);

#endif
