/* The one parser of "HOST[:PORT]" (util/hostport.h). */
#include "util/hostport.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Returns 1 when s is a host name made of letters, digits, '-' and '_' in dot-separated labels. */
static int
valid_hostname(const char *s)
{
	size_t label = 0, total = 0;

	for (; *s != '\0'; s++, total++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return total != 0 && total <= 253;
}

/* What an interface name (a zone) is made of. */
static const char zone_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

const char *
hostport_zone(const char *host, char *addr, size_t size)
{
	const char *pct = strchr(host, '%'), *zone;
	size_t len = strlen(host), alen;
	struct in6_addr a6;

	if (pct == NULL)
		return NULL;
	if (host[0] == '[' && len > 1 && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	zone = pct + 1;
	alen = (size_t)(pct - host);
	len -= alen + 1; /* the zone's */
	/* An interface name (IFNAMSIZ - 1 at most) or index: nothing a URL or shell would read. */
	if (len == 0 || len > 15 || strspn(zone, zone_chars) < len || alen >= size)
		return NULL;
	memcpy(addr, host, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, &a6) != 1 || !IN6_IS_ADDR_LINKLOCAL(&a6))
		return NULL;
	return zone;
}

/* Returns 1 when host is a valid IPv4 address, IPv6 address (no brackets) or host name. */
int
hostport_valid_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char addr[INET6_ADDRSTRLEN];

	if (host[0] != '[' && hostport_zone(host, addr, sizeof addr) != NULL)
		return 1;
	if (strchr(host, ':') != NULL)
		return inet_pton(AF_INET6, host, &a6) == 1;
	if (strspn(host, "0123456789.") == strlen(host))
		return cidr_parse_ipv4(host, &a4) == 0; /* "127.1" and friends are ambiguous */
	return valid_hostname(host);
}

int
hostport_parse(const char *s, long def, int zero_ok, char **host, unsigned *port, char **err)
{
	const char *colon = NULL, *end;
	char *h;
	unsigned long v = 0;
	size_t hlen;

	if (strstr(s, "://") != NULL) {
		/* A URL pasted from a browser: its scheme's colon would read as a bad port. */
		char *clean = str_sanitize(s, 64);
		*err = xasprintf("\"%s\" is a URL: give HOST[:PORT] (with --https for HTTPS)", clean);
		free(clean);
		return -1;
	}
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			goto bad;
		h = xstrndup(s + 1, (size_t)(end - s - 1));
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			goto badh;
		if (strchr(h, ':') == NULL)
			goto badh;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		h = xstrndup(s, hlen);
	}
	if (!hostport_valid_host(h))
		goto badh;
	if (colon == NULL) {
		if (def == HOSTPORT_NEEDED) {
			*err = xasprintf("missing port in \"%s\" (expected HOST:PORT)", s);
			free(h);
			return -1;
		}
		*host = h;
		*port = (unsigned)def;
		return 0;
	}
	colon++;
	if (*colon < '0' || *colon > '9' || strlen(colon) > 5 ||
	    strspn(colon, "0123456789") != strlen(colon))
		goto badp;
	v = strtoul(colon, NULL, 10);
	if (v > 65535 || (v == 0 && !zero_ok))
		goto badp;
	*host = h;
	*port = (unsigned)v;
	return 0;
badp:
	free(h);
	h = str_sanitize(s, 300); /* what was given is echoed: never raw bytes */
	*err = xasprintf("invalid port in \"%s\" (expected %s to 65535)", h, zero_ok ? "0" : "1");
	free(h);
	return -1;
badh:
	free(h);
bad:
	h = str_sanitize(s, 300);
	*err = xasprintf(
	    "invalid host in \"%s\" (expected an IPv4 address, [IPv6] or a host name)", h);
	free(h);
	return -1;
}

char *
hostport_format(const char *host, unsigned port, const char *scheme)
{
	unsigned def = scheme != NULL && strcmp(scheme, "https") == 0 ? 443 : 80;

	if (host == NULL)
		host = "";
	if (port == 0 || port == def)
		return xstrdup(host);
	return xasprintf(strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
}
