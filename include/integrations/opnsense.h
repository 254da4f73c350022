#ifndef INTEGRATIONS_OPNSENSE_H
#define INTEGRATIONS_OPNSENSE_H

#include <stddef.h>
#include <stdint.h>

#include "integrations/opnsense_plan.h"

/*
 * One sync of the fleet to an OPNsense firewall: DHCP reservations (Kea DHCPv4 or dnsmasq) and
 * a firewall alias of type host holding every device's address. Asynchronous on net/http (so on
 * util/loop); one request at a time, because every API call checks the secret's hash and every
 * write takes the firewall's global config lock.
 *
 * Steps: detect the backend (unless configured) -> read subnets, reservations and the alias,
 * once -> opn_plan_compute -> (dry run: stop; the plan can be shown, and opnsense_sync_apply
 * then applies exactly that plan, as the console's apply key and --opnsense-sync do) -> apply
 * the changes in order (removals, updates,
 * additions, then the alias) -> reconfigure each service once, only when something of it was
 * saved -> read the DHCP service's status. The first failed write stops the writes: what
 * follows is marked not applied, the services whose changes were saved before are still
 * reconfigured (else the next sync would find nothing to do and never make them live), and the
 * report says all of it. ISC DHCP has no reservation API: with ISC only the alias is synced and
 * the report says to use the dhcp-isc export instead.
 *
 * The API key and secret are sent as HTTP basic credentials, never logged or put in messages.
 */
struct http;
struct loop;
struct opnsense_sync;

enum opnsense_backend_choice { OPNSENSE_AUTO, OPNSENSE_KEA, OPNSENSE_DNSMASQ };

/* What to talk to; strings are copied by opnsense_sync_start. */
struct opnsense_options {
	const char *url; /* https://HOST[:PORT][/PREFIX] */
	const char *key; /* API key (basic user) */
	const char *secret; /* API secret (basic password) */
	const char *ca_file; /* PEM to verify the firewall against; NULL: the system store */
	int insecure; /* 1: no certificate check (the caller logs that choice) */
	/* public key pin ("sha256//BASE64" or 64 hex digits): only that key is trusted, no CA or
	 * name check; NULL or "": none. Excludes insecure. */
	const char *pin;
	enum opnsense_backend_choice backend;
	const char *alias; /* alias name; NULL or "": no alias */
	uint32_t timeout_ms; /* per request; 0: 15 s (reconfigure gets three times as long) */
	uint32_t connect_timeout_ms; /* 0: 5 s */
	/* Reconfigure these even when nothing changes: an earlier sync saved changes whose
	 * reconfigure failed, so they are in the config but not live (see pending below). */
	int pending_dhcp, pending_alias;
	/* The writer's lease, kept while the sync runs (reading, or applying; not while a
	 * finished dry run waits): NULL renew_cb, none (see opnsense_keeper below). */
	const struct opnsense_keeper *keeper;
};

/*
 * Renews the writer's lease every heartbeat_ms while the sync runs, with the poller lease's
 * rules (engine/lease.h): renew_cb returns 1 renewed, 0 lost (another process holds it), -1
 * failed (*cause; tried again next time). Lost, or when no renewal succeeded for timeout_ms
 * less one heartbeat (monotonic clock, so before another process may take the lease over),
 * the sync sends nothing more: a read in progress ends as an error (nothing applied), an
 * apply stops its writes (those not sent are not applied) and reconfigures nothing (the
 * services with saved changes stay pending for the next sync). Copied by opnsense_sync_start.
 */
struct opnsense_keeper {
	int (*renew_cb)(void *arg, char **cause);
	void *arg;
	uint64_t heartbeat_ms, timeout_ms;
};

/* A service the sync writes to: the DHCP backend or the alias. */
struct opnsense_service {
	const char *name; /* "kea", "dnsmasq", "alias"; NULL when not used */
	size_t saved; /* writes saved */
	int reconfigured; /* 1 ok, 0 not needed or not tried, -1 failed */
	int pending; /* saved (now, before, or perhaps by a write that got no answer) but not
	              * made live: retry on the next sync */
	char *status; /* DHCP: service status after the reconfigure ("running"), or NULL */
	char *error; /* reconfigure or status failure, or NULL */
};

/* What a sync did. Owned by the sync; valid until opnsense_sync_free. */
struct opnsense_report {
	const char *backend; /* "kea", "dnsmasq", "isc", "none"; NULL when not known */
	char *error; /* reading failed, nothing was planned or applied; or NULL */
	char *note; /* ISC or no DHCP server: what to do instead; or NULL */
	struct opn_plan *plan; /* NULL when reading failed */
	int dry_run;
	int failed; /* something failed (error, a write, reconfigure, status, note) */
	struct opnsense_service dhcp, alias;
	int64_t finished_ms; /* wall clock */
};

typedef void (*opnsense_done_cb)(struct opnsense_sync *sync, void *arg);

/*
 * Splits url into host (malloc'd, IPv6 without brackets), port (443 when absent) and path
 * prefix (malloc'd, "" or "/x" without trailing '/'). Only https is accepted: the key and
 * secret must not cross the network in clear. Returns 0 or -1 with *cause.
 */
int opnsense_parse_url(const char *url, char **host, uint16_t *port, char **prefix, char **cause);

/*
 * Starts a sync of devs (copied) through http on loop. done(sync, arg) is called once, from the
 * loop, when it has finished (never from inside this call). dry_run stops after the plan.
 * Returns the sync (caller frees with opnsense_sync_free, also from inside done), or NULL with
 * *cause for bad options.
 */
struct opnsense_sync *opnsense_sync_start(struct loop *loop, struct http *http,
    const struct opnsense_options *o, const struct opn_device *devs, size_t ndevs, int dry_run,
    opnsense_done_cb done, void *arg, char **cause);
/*
 * Applies the plan a finished dry run computed, exactly that plan (what a person was shown):
 * the writes, reconfigures and status check, as a sync without dry_run would. done(sync, arg)
 * is called once from the loop (never from inside this call), also when there is nothing to
 * write. Returns 0, or -1 with *cause when there is no plan to apply (the dry run is not
 * finished, failed, or was applied already).
 */
int opnsense_sync_apply(struct opnsense_sync *sync, opnsense_done_cb done, void *arg, char **cause);
/* The report; complete once done was called. Owned by sync. */
const struct opnsense_report *opnsense_sync_report(const struct opnsense_sync *sync);
/*
 * The report of a sync that is being given up before done was called (a signal, the console
 * closing the view), with pending set as it stands: a service whose changes were saved, or
 * whose write was in flight (the firewall may finish it), and not made live is pending, so
 * the next sync reconfigures it. Then free the sync (it must not be run further). Owned by
 * sync.
 */
const struct opnsense_report *opnsense_sync_interrupt(struct opnsense_sync *sync);
/* Cancels what is in flight (no done call) and frees. NULL is fine. */
void opnsense_sync_free(struct opnsense_sync *sync);

/* The report as --opnsense-sync prints it (the plan, or per record what was done), appended
 * to sb; the console shows the same text. */
void opnsense_report_format(const struct opnsense_report *r, struct strbuf *sb);
/* Its lines after the plan: each service reconfigured (or not), changes still pending. */
void opnsense_report_services(const struct opnsense_report *r, struct strbuf *sb);

#endif
