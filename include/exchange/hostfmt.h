#ifndef EXCHANGE_HOSTFMT_H
#define EXCHANGE_HOSTFMT_H

#include <stddef.h>

#include "exchange/export.h"
#include "store/store.h"
#include "util/str.h"

/*
 * Files for name and address services: /etc/hosts, ISC dhcpd host blocks, dnsmasq dhcp-host
 * lines and a Kea DHCPv4 configuration with host reservations. Device names are untrusted
 * (quotes, braces, semicolons, escape sequences, unicode, empty, duplicates), so only derived
 * host names reach these files: RFC 1123 labels of [a-z0-9-] that start with a letter, at
 * most 63 characters, unique in the file.
 */

/*
 * Derives one host name per device (devs in MAC order) for a file of format: the device name,
 * else its id, folded to a label; "shelly-<mac>" when nothing is left or the label is reserved
 * (localhost*, ip6-*, local, localdomain, broadcasthost, wpad, isatap; for EXPORT_DNSMASQ also
 * the dhcp-host keywords ignore, infinite, deprecated); a MAC suffix (then a counter) makes it
 * unique, given to the devices hostname_claim_sort puts later (registered later). Returns n malloc'd names (caller frees each and the array).
 */
char **hostfmt_names(enum export_format format, const struct store_device *const *devs, size_t n);

/*
 * Appends the file of format (EXPORT_HOSTS, _DHCP_ISC, _DNSMASQ or _KEA) for devs to out, and
 * to notes (NULL: none) one line "MAC (NAME): left out: host HOST: why" per device without an
 * address the format can hold (a host name, no address, an IPv6 link-local address with a zone,
 * in the DHCP formats IPv6 or an address no server leases: 0.0.0.0/8, multicast, broadcast) or
 * whose address a DHCP format reserves for another device already, sanitised for a terminal.
 */
void hostfmt_render(enum export_format format, const struct store_device *const *devs, size_t n,
    struct strbuf *out, struct strbuf *notes);

#endif
