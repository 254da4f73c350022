#ifndef UTIL_HOSTNAME_H
#define UTIL_HOSTNAME_H

#include <stddef.h>
#include <stdint.h>

/*
 * Host name labels written for devices (hosts and DHCP exports, the OPNsense sync): the names
 * no device may take and how a taken name is made unique, written once here so every writer
 * follows the same rules.
 */

/* Longest RFC 1123 label. */
#define HOSTNAME_LABEL_MAX 63

/*
 * Returns 1 when label (ASCII case ignored) is a name /etc/hosts or a resolver keeps for
 * itself: localhost and every name starting with it, ip6-*, local, localdomain,
 * broadcasthost, and wpad and isatap, which clients look up to configure a proxy or a tunnel.
 */
int hostname_reserved(const char *label);

/*
 * Returns 1 when label (ASCII case ignored) is a word dnsmasq reads in a dhcp-host line where a
 * host name may stand, see dnsmasq(8): ignore (never offer the host a lease), infinite and
 * deprecated (lease times). Its other keywords (id:, set:, tag:, a lease time such as 12h) hold
 * a colon or start with a digit, which no derived label does.
 */
int hostname_dnsmasq_keyword(const char *label);

/* 1 when name is taken (by another device, or a record of another MAC). */
typedef int (*hostname_taken_cb)(const char *name, void *arg);
/*
 * The one rule for names that must be unique: base when keep_base is set and base is free,
 * else base with "-" and the last six digits of mac (12 hex digits) appended, else with a
 * counter after those ("-2", "-3", ...): the first candidate taken(name, arg) leaves free.
 * base (a label) is cut, its trailing '-' dropped, so each candidate fits HOSTNAME_LABEL_MAX.
 * Returns a malloc'd name (caller frees).
 */
char *hostname_unique(
    const char *base, const char *mac, int keep_base, hostname_taken_cb taken, void *arg);

/*
 * Which device keeps a name two devices share (the one rule of the exports and the OPNsense
 * sync): devices take their names in this order, each its base name when free, else
 * hostname_unique's suffix. First a device that already carries the name where it is published
 * (holds: the sync's own record of it; the exports know of none), so a name once given stays
 * with its device; then the device the registry saw first (first_seen_ms; 0, unknown, after
 * every known one), so a newcomer never takes the name of a device registered before it; then
 * by MAC.
 */
struct hostname_claim {
	size_t index; /* the caller's: which device */
	const char *mac; /* 12 lower-case hex digits */
	int64_t first_seen_ms;
	int holds;
};
/* Sorts claims[0..n) into the order devices take their names. */
void hostname_claim_sort(struct hostname_claim *claims, size_t n);

#endif
