#ifndef INTEGRATIONS_OPNSENSE_REPLY_H
#define INTEGRATIONS_OPNSENSE_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "util/cidr.h"

/*
 * What the OPNsense sync reads: parsers for the API's replies and the state they describe
 * (subnets, reservations or host entries, the alias), plus the naming rules. Pure: nothing
 * here touches the network (integrations/opnsense_plan.h computes the plan from this state).
 *
 * Ownership: records the tool creates carry OPN_MARKER followed by the device's MAC (12 hex
 * digits) at the start of their description; only those are ever changed or removed. Every
 * other record is "foreign": read to find conflicts, never written.
 *
 * Reply shapes: search rows of 25.1 carry display values (a Kea reservation's "subnet" is the
 * CIDR), those of 25.7 raw values (the subnet's UUID, with the label in "%subnet"); both parse
 * to the same state. List fields (dnsmasq "hwaddr", "ip") may be joined by "," or ", ".
 * Strings from the firewall are sanitised (no control characters or escape sequences) when
 * parsed, so anything in a state or plan is safe to print.
 */

#define OPN_MARKER "shelly-tui:"
/* Longest host name label (RFC 1123) and alias name OPNsense accepts. */
#define OPN_HOSTNAME_MAX 63
#define OPN_ALIAS_NAME_MAX 31

enum opn_backend { OPN_KEA, OPN_DNSMASQ };

/* A registered device: what the firewall should hold. Strings belong to the caller. */
struct opn_device {
	char mac[13]; /* 12 lower-case hex digits */
	const char *name; /* may be NULL */
	const char *id; /* may be NULL */
	const char *ip; /* the device's address as registered (IPv4 or IPv6 literal), or NULL */
	int64_t first_seen_ms; /* when the registry first saw it, 0 unknown (util/hostname) */
};

/*
 * A Kea subnet, or the network of a dnsmasq DHCPv4 range: its start address with the range's
 * subnet mask, or without one the /24 around the range (wider when the range spans more),
 * since the API does not give the interface's mask.
 */
struct opn_subnet {
	char *uuid;
	char *text; /* "192.168.20.0/24"; dnsmasq: "192.168.20.0/24 (range .100-.200 on lan)" */
	struct cidr net;
};

/* A reservation (Kea) or host entry (dnsmasq) as the firewall holds it. */
struct opn_record {
	char *uuid;
	char mac[13]; /* first MAC, normalised; "" when none or not a MAC */
	char *macs; /* every MAC as read, sanitised ("" none) */
	char *mac_set; /* every MAC normalised, joined by ',' ("" none): see opn_record_has_mac */
	char *ip; /* first IPv4 address ("" none) */
	char *hostname;
	char *descr;
	char *subnet; /* Kea: the subnet's UUID when it could be resolved, else the label; "" */
	char owner[13]; /* MAC named by the marker: "" for a foreign record */
};

/* The firewall alias. */
struct opn_alias {
	int exists;
	char *uuid;
	char *type; /* "host", ... ("" unknown) */
	char *descr;
	/* every field getItem returned, as a compact JSON object of strings (option maps as their
	 * selected keys joined by ','), unsanitised: what setItem sends back unchanged */
	char *fields;
	char **content; /* entries, sorted */
	size_t ncontent;
};

/* Everything read from the firewall. Zero-initialise, fill with the parsers, opn_state_done. */
struct opn_state {
	enum opn_backend backend;
	struct opn_subnet *subnets; /* Kea subnets, or the networks of the dnsmasq ranges */
	size_t nsubnets;
	int ranges_read; /* dnsmasq: the DHCP ranges were read (else addresses are not checked) */
	struct opn_record *records;
	size_t nrecords;
	struct opn_alias alias;
};

/*
 * A public key pin as curl's --pinnedpubkey takes it ("sha256//" and the base64 of the
 * SHA-256 of the SubjectPublicKeyInfo) or as 64 hex digits (colons allowed) into hex (64
 * lower-case hex digits); 0, or -1 when it is neither.
 */
int opn_pin_parse(const char *text, char hex[65]);
/* Bytes of a pin as curl takes it: "sha256//" and 44 base64 digits, and the NUL. */
#define OPN_PIN_TEXT 53
/* Any pin opn_pin_parse takes ("AA:BB:..." from a connection) as "sha256//BASE64"; 0 or -1. */
int opn_pin_format(const char *text, char out[OPN_PIN_TEXT]);

/* 1 when any MAC of r (a dnsmasq host may list several) is mac (12 lower-case hex digits). */
int opn_record_has_mac(const struct opn_record *r, const char *mac);

/* Frees what st holds and zeroes it. */
void opn_state_done(struct opn_state *st);

/*
 * Parsers. Each takes the reply body (len bytes) and returns 0, or -1 with *cause (caller
 * frees) saying what is wrong with the reply. Bodies are bounded (nesting, size) like any
 * network input.
 */
/* searchSubnet rows into st->subnets (replacing them). */
int opn_parse_subnets(struct opn_state *st, const char *body, size_t len, char **cause);
/*
 * dnsmasq searchRange rows (start_addr, end_addr, subnet_mask, interface) into st->subnets as
 * the networks of the DHCPv4 ranges (IPv6 ranges are left out); sets st->ranges_read.
 */
int opn_parse_ranges(struct opn_state *st, const char *body, size_t len, char **cause);
/* searchReservation (Kea) / searchHost (dnsmasq) rows into st->records, per st->backend. Kea
 * subnets given as labels are resolved against st->subnets, so parse the subnets first. */
int opn_parse_records(struct opn_state *st, const char *body, size_t len, char **cause);
/* getAliasUUID: *uuid is the UUID (malloc'd) or NULL when the reply is [] (no such alias). */
int opn_parse_alias_uuid(const char *body, size_t len, char **uuid, char **cause);
/* getItem/<uuid> of an alias into st->alias (exists = 1). [] (unknown UUID) is an error. */
int opn_parse_alias(
    struct opn_state *st, const char *uuid, const char *body, size_t len, char **cause);
/*
 * The body of setItem for alias a: every field getItem returned (description, enabled, proto,
 * categories, ...) carried over unchanged, with name, type "host" and content (entries
 * separated by newlines) set. The name must be sent: OPNsense renames ("refactors") every
 * reference to the alias (rules, NAT, nested aliases) when the posted name differs from the
 * stored one, and a missing name counts as different. Caller frees.
 */
char *opn_alias_set_body(const struct opn_alias *a, const char *name, const char *content);
/*
 * Detection: *enabled is 1 when the settings reply (kea/dhcpv4/get or dnsmasq/settings/get)
 * says the service is enabled, else 0.
 */
int opn_parse_enabled(
    enum opn_backend backend, const char *body, size_t len, int *enabled, char **cause);
/*
 * The reply to add/set/del: 0 on "saved"/"deleted" (*uuid, when uuid is not NULL, gets the
 * UUID an add returned, malloc'd, or NULL); -1 with *cause for "failed" (the validations,
 * "field: message; ..."), "not found", [] and anything else.
 */
int opn_parse_write(const char *body, size_t len, char **uuid, char **cause);
/* {"status":"..."} of reconfigure and service/status: *status malloc'd and sanitised. */
int opn_parse_status(const char *body, size_t len, char **status, char **cause);
/*
 * The reason in an error reply (errorMessage and errorTitle with &amp; &lt; &gt; &quot; decoded,
 * or message), sanitised; NULL when the body holds none. Caller frees.
 */
char *opn_parse_error(const char *body, size_t len);

/*
 * Names. opn_hostname_derive writes the host name label for a device name into out (lower
 * case, runs of other characters become one '-', no '-' at either end, at most
 * OPN_HOSTNAME_MAX bytes) and returns 0, or -1 with a static reason when no valid label
 * results (nothing left, or only digits). opn_alias_name_valid returns 1 for a name OPNsense
 * accepts for an alias (letters, digits, '_', under 32 bytes, not starting with a digit).
 */
int opn_hostname_derive(const char *name, char out[OPN_HOSTNAME_MAX + 1], const char **why);
int opn_alias_name_valid(const char *name);
/* Formats a 12-digit MAC as the backends store it: "aa:bb:cc:dd:ee:ff" (buf >= 18 bytes). */
char *opn_mac_format(const char *mac12, char *buf, size_t size);
/* "kea" or "dnsmasq". Static. */
const char *opn_backend_name(enum opn_backend b);

#endif
