#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stdint.h>

/*
 * shelly-provisioner's work: register with the manager (once; the token is kept in a 0600
 * file), then heartbeat, scan, report the Shelly access points, claim a task and carry it out:
 * join the device's AP, identify the device at device_host, send the station configuration
 * (shelly/sta.h), leave, restore the host's own WiFi connection, report "configured" and wait
 * for the manager's verdict; when the manager did not see the device, look for its AP again and
 * report "failed: not seen on NETWORK, AP back" or "failed: lost". The host's connection is
 * restored after every task, whatever happened.
 */
struct loop;
struct http;
struct wifi;
struct agent;

struct agent_opts {
	const char *manager_host; /* numeric address or name */
	uint16_t manager_port;
	int manager_https; /* talk HTTPS to the manager (a TLS proxy in front of it) */
	const char *ca_file; /* HTTPS: CA bundle that verifies it; NULL: the system's */
	const char *secret_file; /* enrolment secret (needed until registered) */
	const char *token_file; /* where the token is kept */
	const char *name; /* agent name shown by shelly-tui --agents */
	const char *device_host; /* the device in AP mode: 192.168.33.1 */
	uint64_t poll_ms; /* heartbeat, scan and claim this often */
	uint64_t verify_wait_ms; /* longest wait for the manager's verdict */
	uint32_t timeout_ms; /* per request */
	int once; /* stop after one task (or one round without any) */
};

/*
 * The manager's address for messages, as util/hostport writes it: "host:port", an IPv6
 * address in brackets ("[::1]:8080"), the scheme's default port left out. Malloc'd.
 */
char *agent_manager_at(const struct agent_opts *o);
/* Caller frees; loop, http and wifi are borrowed. */
struct agent *agent_new(
    struct loop *loop, struct http *http, struct wifi *wifi, const struct agent_opts *opts);
void agent_free(struct agent *a);
/* Registers if needed, then works until agent_stop (or one round with opts->once). Returns 0,
 * or -1 with *cause (registration refused, token file unwritable). */
int agent_run(struct agent *a, char **cause);
/* Asks agent_run to return after the current step (signal handlers). */
void agent_stop(struct agent *a);

#endif
