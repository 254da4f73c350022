#ifndef SIM_SIM_MDNS_H
#define SIM_SIM_MDNS_H

/*
 * mDNS publishing for shelly-sim, shaped like real devices (see tests/fixtures/mdns/):
 * - each device gets an address record "<id>.local" -> its 127.x.y.z address (with the reverse
 *   PTR, unless another entry already published one for that address), used as SRV host;
 * - Gen1: one instance "<id>" on _http._tcp, TXT id, arch, app, fw_version=1.0, fw_id,
 *   discoverable=false;
 * - Gen2+: instance "<id>" on _shelly._tcp (TXT gen, app, ver) and on _http._tcp (TXT gen only,
 *   as captured from firmware 1.x); with a friendly name, a second instance under that name on
 *   both types (TXT gen, app, ver) whose SRV host is the name with every non-alphanumeric
 *   byte turned into '-' plus ".local" ("Kitchen Pro 4PM" -> "Kitchen-Pro-4PM.local").
 * Records are published on the loopback interface only, so they can never reach a LAN.
 * Names that collide get avahi's alternative names ("x #2", "host-2"). When avahi-daemon goes
 * away the client is freed and re-created every retry interval; on AVAHI_CLIENT_S_RUNNING
 * everything is published again. One avahi entry group per device.
 */
#include <stdbool.h>
#include <stdint.h>

struct loop;
struct sim_mdns;

/* One device to publish; strings are copied. NULL or "" = not set. */
struct sim_mdns_device {
	const char *id;    /* "shelly1-34945472A643", "shellypro4pm-a0dd6ca0c27c" (required) */
	int gen;           /* 1, 2, 3, 4 (required) */
	const char *app;   /* TXT app: Gen1 "switch1", Gen2+ "Pro4PM" */
	const char *ver;   /* Gen2+ TXT ver: "1.7.5" */
	const char *fw_id; /* Gen1 TXT fw_id: "20230913-112003/v1.14.0-gcb84623" */
	const char *arch;  /* Gen1 TXT arch: "esp8266" */
	const char *name;  /* Gen2+ friendly name: a second instance (optional) */
	const char *ipv4;  /* "127.0.1.10" (required) */
	uint16_t port;     /* 80 on real devices (required, not 0) */
};

/* Connects to avahi-daemon (on loop); NULL with *cause set if it is not reachable. Caller
 * frees with sim_mdns_free. */
struct sim_mdns *sim_mdns_new(struct loop *loop, char **cause);
/* Publishes d (now, or when the daemon is running); -1 with *cause for a bad or duplicate
 * device or an avahi error. */
int sim_mdns_add(struct sim_mdns *s, const struct sim_mdns_device *d, char **cause);
/* Publishes a non-Shelly service (e.g. a printer on _http._tcp): instance name, service type,
 * host name (NULL: "<name with '-'>.local") with an address record to ipv4, port, and TXT
 * items txt[0..ntxt). -1 with *cause on bad input or an avahi error. */
int sim_mdns_add_other(struct sim_mdns *s, const char *name, const char *type, const char *host,
    const char *ipv4, uint16_t port, const char *const *txt, int ntxt, char **cause);
/* Withdraws the device with this id (case-insensitive); -1 if there is none. */
int sim_mdns_remove(struct sim_mdns *s, const char *id);
/* Interval between reconnection attempts after the daemon went away (default 200 ms). */
void sim_mdns_set_retry(struct sim_mdns *s, unsigned ms);
/* cb(arg) is called each time every entry has become established (after a start, an add or a
 * daemon restart). */
void sim_mdns_set_ready_cb(struct sim_mdns *s, void (*cb)(void *arg), void *arg);
/* True when connected and every entry is established. */
bool sim_mdns_ready(const struct sim_mdns *s);
/* Number of connections that reached AVAHI_CLIENT_S_RUNNING (a daemon restart adds one). */
unsigned sim_mdns_sessions(const struct sim_mdns *s);
/* Withdraws everything and frees s. */
void sim_mdns_free(struct sim_mdns *s);

#endif
