/*
 * Names a resolver or a hosts file keeps for itself: the loopback names Debian, Red Hat and
 * macOS write into /etc/hosts (localhost, localhost4/6, localhost-localdomain once folded,
 * ip6-localhost, ip6-allnodes, ...), broadcasthost, the mDNS domain "local", and the names
 * clients look up to configure themselves (wpad: a proxy script; isatap: a tunnel router).
 * A device named so would answer for them in DNS, which is how a proxy script is hijacked.
 */
#include "util/hostname.h"

#include <strings.h>

int
hostname_reserved(const char *label)
{
	static const char *const exact[] = {
	    "local", "localdomain", "broadcasthost", "wpad", "isatap"};

	if (strncasecmp(label, "localhost", 9) == 0 || strncasecmp(label, "ip6-", 4) == 0)
		return 1;
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strcasecmp(label, exact[i]) == 0)
			return 1;
	return 0;
}
