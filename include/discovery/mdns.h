#ifndef DISCOVERY_MDNS_H
#define DISCOVERY_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * mDNS half of discovery: browses _shelly._tcp and _http._tcp through avahi-daemon (libavahi-
 * client on our loop, see discovery/avahi_poll.h), resolves each instance to an IPv4 address,
 * port, host name and TXT hints, keeps the Shelly ones (mdns_keep) and reports each
 * (address, port) once as a struct mdns_candidate. Nothing here is trusted or sanitised:
 * names and TXT values come from the network as they are (bounded copies, NUL-terminated, may
 * hold any other byte); the caller sanitises before display and confirms by probing /shelly.
 *
 * Without dbus or avahi-daemon, or when the daemon goes away, the status callback says so
 * (MDNS_UNAVAILABLE, "mDNS unavailable: Daemon not running; scanning still works") and, when
 * retry_ms > 0, the client is freed and created again every retry_ms until the daemon is
 * back (own retry timer, not AVAHI_CLIENT_NO_FAIL, so the interval is ours). Every new
 * connection starts a new session: candidates are reported again and "all for now" comes
 * again, because the daemon's view may have changed while we were away.
 *
 * libavahi-client talks D-Bus with blocking calls (client creation, browser and resolver
 * creation): each is a local round trip, but a hung dbus-daemon stalls the loop up to D-Bus's
 * default timeout. No callback is called before mdns_new returns.
 */
struct guard;
struct loop;
struct mdns;

#define MDNS_NAME_MAX 64   /* an instance name is one DNS label: at most 63 bytes */
#define MDNS_TYPE_MAX 16   /* "_shelly._tcp", "_http._tcp" */
#define MDNS_HOST_MAX 256  /* SRV target, e.g. "ShellyPlus1PM-441793D69718.local" */
#define MDNS_ADDR_MAX 16   /* dotted IPv4 */
#define MDNS_VALUE_MAX 64  /* a TXT value we keep (longer ones are truncated) */

#define MDNS_GROUP "224.0.0.251" /* the IPv4 multicast group mDNS queries go to */
#define MDNS_TYPE_SHELLY "_shelly._tcp"
#define MDNS_TYPE_HTTP "_http._tcp"

/* What a TXT record tells (DNS-SD keys are case-insensitive; the first occurrence of a key in
 * the order fed to mdns_txt_add wins, items without '=' are ignored). */
struct mdns_txt {
	unsigned keys;              /* internal: which keys were seen */
	bool has_gen;               /* a gen= key is present (even with an odd value) */
	int gen;                    /* gen= as a number 1..99, else 0 */
	char id[MDNS_VALUE_MAX];    /* Gen1: "shelly1-34945472A643" */
	char app[MDNS_VALUE_MAX];   /* Gen1 "switch1", Gen2+ "Plus1PM" */
	char ver[MDNS_VALUE_MAX];   /* Gen2+: "1.7.5" */
	char fw_id[MDNS_VALUE_MAX]; /* Gen1: "20230913-112003/v1.14.0-gcb84623" */
	char arch[MDNS_VALUE_MAX];  /* Gen1: "esp8266" */
};

/* One device found by mDNS: a value type, copied by whoever keeps it. Empty string = unknown. */
struct mdns_candidate {
	char name[MDNS_NAME_MAX];    /* instance: device id or the user's name ("Kitchen Pro 4PM") */
	char type[MDNS_TYPE_MAX];    /* MDNS_TYPE_SHELLY or MDNS_TYPE_HTTP */
	char host[MDNS_HOST_MAX];    /* SRV target host name */
	char address[MDNS_ADDR_MAX]; /* IPv4, e.g. "192.168.1.240" */
	uint16_t port;
	int gen;                     /* hint: 1, 2, 3, 4...; 0 unknown (see mdns_gen_hint) */
	char app[MDNS_VALUE_MAX];
	char ver[MDNS_VALUE_MAX];
	char id[MDNS_VALUE_MAX];     /* TXT id=, else an id-shaped instance or host name, else "" */
	char fw_id[MDNS_VALUE_MAX];
};

enum mdns_state {
	MDNS_STARTING,    /* before the first connection attempt */
	MDNS_BROWSING,    /* connected to avahi-daemon, browsers running */
	MDNS_UNAVAILABLE, /* no dbus / no daemon / daemon went away (retrying if retry_ms > 0) */
};

struct mdns_cbs {
	/* A new (address, port) in this session; c is valid during the call only. */
	void (*found_cb)(const struct mdns_candidate *c, void *arg);
	/* Both browsers said "all for now" and every resolution has finished (once a session). */
	void (*all_for_now_cb)(void *arg);
	/* The state or its human-readable status changed. */
	void (*status_cb)(enum mdns_state state, const char *status, void *arg);
	void *arg;
};

/* Starts browsing (from the loop, not inside this call); cbs is copied, any callback may be
 * NULL; retry_ms 0 = never reconnect. Caller frees with mdns_free. */
struct mdns *mdns_new(struct loop *loop, const struct mdns_cbs *cbs, unsigned retry_ms);
/* Stops browsing and frees everything (not from inside one of m's callbacks). */
void mdns_free(struct mdns *m);

/* Current state (see enum mdns_state). */
enum mdns_state mdns_state(const struct mdns *m);
/* Current status line; owned by m, valid until the next state change. */
const char *mdns_status(const struct mdns *m);
/* Number of successful connections to avahi-daemon so far (a reconnect adds one). */
unsigned mdns_sessions(const struct mdns *m);
/* True once this session's "all for now" was reported. */
bool mdns_all_for_now(const struct mdns *m);
/* Resolved instances dropped by mdns_keep in this session (non-Shelly _http._tcp services). */
size_t mdns_ignored(const struct mdns *m);
/* Number of candidates of this session, and the i-th (NULL past the end; owned by m, valid
 * until the session ends or mdns_free): later instances of the same (address, port) fill in
 * the fields the first one lacked (e.g. app/ver known only from _shelly._tcp). */
size_t mdns_count(const struct mdns *m);
const struct mdns_candidate *mdns_candidate(const struct mdns *m, size_t i);

/* ---- pure helpers (exposed for tests) ---- */

/* Clears t. */
void mdns_txt_init(struct mdns_txt *t);
/* Adds one TXT item ("key=value", len bytes, not NUL-terminated) to t. */
void mdns_txt_add(struct mdns_txt *t, const void *item, size_t len);
/* Keep rule: everything on _shelly._tcp; on other types an instance named "shelly..." (any
 * case), or with a TXT gen=, or a TXT id= starting with "shelly". */
bool mdns_keep(const char *type, const char *name, const struct mdns_txt *t);
/* Generation hint: TXT gen=N; 1 for a Gen1-style TXT (id= or arch= without gen=); else 0. */
int mdns_gen_hint(const struct mdns_txt *t);
/* Writes the device id carried by a name shaped "shelly<model>-<6 or 12 hex digits>" (an
 * optional ".local" or "." is ignored) into out (size bytes); returns false if not shaped so. */
bool mdns_id_from_name(const char *name, char *out, size_t size);
/* Fills c from one resolved instance (all strings copied bounded; id falls back to name,
 * then host, see mdns_id_from_name). */
void mdns_candidate_fill(struct mdns_candidate *c, const char *name, const char *type,
    const char *host, const char *address, uint16_t port, const struct mdns_txt *t);
/* Fills the empty fields of into (and an unknown gen) from from. */
void mdns_candidate_merge(struct mdns_candidate *into, const struct mdns_candidate *from);

#endif
