#ifndef SERVER_PROVSERVE_H
#define SERVER_PROVSERVE_H

/*
 * The manager's provisioning service in a process that runs the fleet (--headless, or the
 * console while it holds the poller lease): the agent API (server/agentapi.h) on its listener
 * plus the verifier (engine/verifier.h) that confirms provisioned devices on the home network.
 * Its settings (agent lease, verify timeouts, ranges, mDNS, agent-listen and the TLS files)
 * come from the engine's configuration, read again by provserve_reload.
 *
 * The listener: agent-listen when set (HTTPS when agent-tls-cert and agent-tls-key are both
 * set), else the front end's main server (--headless: listen), else a server of its own on
 * listen (the console). The TLS files without agent-listen are a configuration error: the API
 * is then not moved (not served at all when nothing served it yet). A listener that cannot
 * start (the address is taken, a file cannot be read) is tried again every PROVSERVE_RETRY_S
 * while the one serving before, if any, keeps serving; a reload that changes the address or
 * the files starts the new listener first, so a broken certificate or a taken address never
 * stops the old one. Each failure and each move is logged.
 */
#include <stddef.h>

struct engine;
struct httpd;
struct provserve;

#define PROVSERVE_RETRY_S 10 /* a listener that cannot start is tried again this often */

struct provserve_opts {
	/*
	 * The front end's HTTP server (--headless), which carries the API unless agent-listen
	 * is set; it must outlive the provserve. NULL: the console, which has none.
	 */
	struct httpd *main;
	/* The listen address given on the command line (--listen), or NULL: the setting. */
	const char *listen;
	void (*registry_cb)(void *arg); /* verified devices were registered; may be NULL */
	void (*status_cb)(void *arg); /* provserve_status changed; may be NULL */
	void *arg;
};

/* Where the API is served and why not where the configuration says. */
struct provserve_status {
	const char *url; /* "http[s]://HOST:PORT/api/v1/" agents reach now; NULL: nowhere */
	const char *error; /* why the configured listener is not the one serving; NULL: it is */
	int retry_s; /* error is tried again every retry_s seconds; 0: not (a config error) */
};

/*
 * Starts the verifier and the listener (eng's store must be open; eng, o->main and o->listen
 * are borrowed). The callbacks are not called from inside provserve_new: read
 * provserve_status after it (--headless refuses to start when st.url is NULL).
 */
struct provserve *provserve_new(struct engine *eng, const struct provserve_opts *o);
/* Follows a reloaded configuration (eng->conf): ranges, verify timeouts, agent lease, and
 * the listener (agent-listen, listen, the TLS files and their contents). */
void provserve_reload(struct provserve *ps);
/* The strings stay valid until the next call into ps or a callback from it. */
void provserve_status(const struct provserve *ps, struct provserve_status *st);
/* NULL is fine. */
void provserve_free(struct provserve *ps);

#endif
