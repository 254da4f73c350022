#ifndef UTIL_HOSTPORT_H
#define UTIL_HOSTPORT_H

/*
 * The one parser of "HOST[:PORT]" for device addresses, configured addresses and the command
 * line: HOST is a strict IPv4 address, "[IPv6]" (a bare IPv6 address has no port) or a host
 * name of letters, digits, '-' and '_' in dot-separated labels. A link-local IPv6 address may
 * name its interface (zone): "fe80::1%eth0", "[fe80::1%eth0]:8080".
 */
#include <stddef.h>

/* def for hostport_parse: a missing port is an error. */
#define HOSTPORT_NEEDED (-1L)

/*
 * Parses s. Without a port *port is def (0..65535), or an error when def is HOSTPORT_NEEDED.
 * Ports are 1..65535, 0 too when zero_ok. Returns 0 with *host malloc'd (IPv6 without
 * brackets), or -1 with *err (caller frees).
 */
int hostport_parse(const char *s, long def, int zero_ok, char **host, unsigned *port, char **err);
/* Returns 1 when host is a valid IPv4 address, IPv6 address (no brackets) or host name. */
int hostport_valid_host(const char *host);
/*
 * The zone of a link-local IPv6 address ("fe80::1%eth0", also in brackets): returns it (in
 * host, after the '%') with the address alone in addr (size bytes), or NULL when host has no
 * zone or is not such an address with an interface name (1 to 15 letters, digits, '.', '-',
 * '_') or index. A zone on an address without a scope (global, loopback) is no zone.
 */
const char *hostport_zone(const char *host, char *addr, size_t size);
/*
 * The address as hostport_parse reads it back, for people: host alone when port is 0 or the
 * scheme's default (443 for "https", else 80), else "host:port" ("[IPv6]:port"). Malloc'd.
 */
char *hostport_format(const char *host, unsigned port, const char *scheme);

#endif
