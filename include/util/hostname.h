#ifndef UTIL_HOSTNAME_H
#define UTIL_HOSTNAME_H

/*
 * Host name labels written for devices (hosts and DHCP exports, the OPNsense sync): the names
 * no device may take, written once here so every writer refuses the same ones.
 */

/* Longest RFC 1123 label. */
#define HOSTNAME_LABEL_MAX 63

/*
 * Returns 1 when label (ASCII case ignored) is a name /etc/hosts or a resolver keeps for
 * itself: localhost and every name starting with it, ip6-*, local, localdomain,
 * broadcasthost, and wpad and isatap, which clients look up to configure a proxy or a tunnel.
 */
int hostname_reserved(const char *label);

#endif
