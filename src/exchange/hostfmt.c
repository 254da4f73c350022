/*
 * Host and DHCP files. Only derived names (RFC 1123 labels), MACs and address literals are
 * written, so no device name can break a consumer's grammar. DHCP formats list devices whose
 * host is an IPv4 literal; a second device on an address already listed is left out (a
 * comment names its MAC), because DHCP servers refuse two reservations of one address.
 */
#include "exchange/hostfmt.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hostname.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define LABEL_MAX HOSTNAME_LABEL_MAX

/* Folds s into a label: [a-z0-9] kept (A-Z lowered), runs of anything else become one '-'. */
static void
fold(const char *s, char *out)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && n < LABEL_MAX; p++) {
		int c = *p;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[n++] = (char)c;
		else if (n > 0 && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

/* The names given so far: those of the devices c[0..n) (util/hostname's order). */
struct given {
	char **names;
	const struct hostname_claim *c;
	size_t n;
};

static int
given_cb(const char *name, void *arg)
{
	const struct given *g = arg;

	for (size_t j = 0; j < g->n; j++)
		if (strcmp(g->names[g->c[j].index], name) == 0)
			return 1;
	return 0;
}

/* The label d's name folds to, before it is made unique. */
static void
base_of(enum export_format format, const struct store_device *d, char base[LABEL_MAX + 1])
{
	char tmp[LABEL_MAX + 8];
	char *clean = str_sanitize(d->name != NULL && d->name[0] != '\0' ? d->name
	                           : d->id                               ? d->id
	                                                                 : "",
	    0);

	fold(clean, base); /* escape sequences go before they leave letters behind */
	free(clean);
	if (base[0] == '\0') {
		snprintf(base, LABEL_MAX + 1, "shelly-%s", d->mac);
	} else if (base[0] < 'a' || base[0] > 'z') {
		snprintf(tmp, sizeof tmp, "shelly-%s", base);
		fold(tmp, base);
	}
	if (hostname_reserved(base) || (format == EXPORT_DNSMASQ && hostname_dnsmasq_keyword(base)))
		snprintf(base, LABEL_MAX + 1, "shelly-%s", d->mac);
}

char **
hostfmt_names(enum export_format format, const struct store_device *const *devs, size_t n)
{
	char **names = xcalloc(n ? n : 1, sizeof *names);
	struct hostname_claim *c = xcalloc(n ? n : 1, sizeof *c);
	struct given g = {names, c, 0};
	char base[LABEL_MAX + 1];

	for (size_t i = 0; i < n; i++)
		c[i] = (struct hostname_claim){i, devs[i]->mac, devs[i]->first_seen_ms, 0};
	hostname_claim_sort(c, n); /* the order the OPNsense sync names devices in */
	for (; g.n < n; g.n++) {
		const struct store_device *d = devs[c[g.n].index];

		base_of(format, d, base);
		names[c[g.n].index] = hostname_unique(base, d->mac, 1, given_cb, &g);
	}
	free(c);
	return names;
}

static void
mac_colons(const char *mac, char out[18])
{
	for (int i = 0; i < 6; i++) {
		out[i * 3] = mac[i * 2];
		out[i * 3 + 1] = mac[i * 2 + 1];
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
}

/* The host of d as a normalised IPv4 (v6 too when v6 is set) literal in out, else 0. An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address a.b.c.d. */
static int
address(const struct store_device *d, int v6, char out[INET6_ADDRSTRLEN])
{
	unsigned char bin[16];
	struct in6_addr a6;

	if (d->host == NULL)
		return 0;
	if (inet_pton(AF_INET, d->host, bin) == 1)
		return inet_ntop(AF_INET, bin, out, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, d->host, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6))
		return inet_ntop(AF_INET, &a6.s6_addr[12], out, INET6_ADDRSTRLEN) != NULL;
	if (v6 && inet_pton(AF_INET6, d->host, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, INET6_ADDRSTRLEN) != NULL;
	return 0;
}

/*
 * Whether the IPv4 literal ip is one a DHCP server can lease: not 0.0.0.0/8 (this network),
 * nor 224.0.0.0/4 (multicast), nor 240.0.0.0/4 (reserved, the broadcast address too).
 * kea-dhcp4 refuses its whole configuration for a reservation of 0.0.0.0 or 255.255.255.255.
 */
static int
dhcp_leasable(const char *ip)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, ip, &a) != 1)
		return 0;
	h = ntohl(a.s_addr);
	return (h >> 24) != 0 && (h >> 28) < 14;
}

/* Why d (whose host address() refused) has no line in format, for the operator. */
static const char *
why_left_out(const struct store_device *d, enum export_format format)
{
	unsigned char bin[16];
	char ip[INET6_ADDRSTRLEN];

	if (d->host == NULL || d->host[0] == '\0')
		return "it has no address";
	if (format != EXPORT_HOSTS && address(d, 0, ip) && !dhcp_leasable(ip))
		return "not a unicast address a DHCP server can lease (this network, multicast or "
		       "broadcast)";
	if (strchr(d->host, '%') != NULL)
		return "a link-local address with a zone (%IFACE) cannot go in a hosts or DHCP "
		       "file";
	if (format != EXPORT_HOSTS && inet_pton(AF_INET6, d->host, bin) == 1)
		return "an IPv6 address (the DHCP formats reserve IPv4 addresses)";
	return "a host name, not an address";
}

/*
 * Appends "MAC (NAME): left out: host HOST: why" to notes (NULL: none), sanitised; why is
 * why_left_out() unless given.
 */
static void
note_left_out(
    struct strbuf *notes, const struct store_device *d, enum export_format format, const char *why)
{
	char *name, *host;

	if (notes == NULL)
		return;
	name = str_sanitize(d->name != NULL ? d->name : "", 64);
	host = str_sanitize(d->host != NULL ? d->host : "", 80);
	strbuf_appendf(notes, "%s%s%s%s: left out: host %s: %s\n", d->mac, name[0] ? " (" : "",
	    name, name[0] ? ")" : "", host[0] ? host : "-",
	    why != NULL ? why : why_left_out(d, format));
	free(name);
	free(host);
}

static void
one_entry(enum export_format format, const char *mac, const char *ip, const char *name, int first,
    struct strbuf *out)
{
	switch (format) {
	case EXPORT_HOSTS:
		strbuf_appendf(out, "%s\t%s\n", ip, name);
		break;
	case EXPORT_DHCP_ISC:
		strbuf_appendf(out,
		    "host %s {\n\thardware ethernet %s;\n\tfixed-address %s;\n"
		    "\toption host-name \"%s\";\n}\n",
		    name, mac, ip, name);
		break;
	case EXPORT_DNSMASQ:
		strbuf_appendf(out, "dhcp-host=%s,%s,%s\n", mac, ip, name);
		break;
	case EXPORT_KEA:
		strbuf_appendf(out,
		    "%s\n      {\n        \"hw-address\": \"%s\",\n"
		    "        \"ip-address\": \"%s\",\n        \"hostname\": \"%s\"\n      }",
		    first ? "" : ",", mac, ip, name);
		break;
	default:
		break;
	}
}

void
hostfmt_render(enum export_format format, const struct store_device *const *devs, size_t n,
    struct strbuf *out, struct strbuf *notes)
{
	char **names = hostfmt_names(format, devs, n), **used = xcalloc(n ? n : 1, sizeof *used);
	const char **used_mac = xcalloc(n ? n : 1, sizeof *used_mac);
	char ip[INET6_ADDRSTRLEN], mac[18];
	size_t nused = 0;
	const char *hash = format == EXPORT_KEA ? "//" : "#";

	/* Kea ignores global reservations unless asked (reservations-global defaults to false);
	 * reservations-in-subnet stays on, its default, so a subnet's own ones still count. */
	if (format == EXPORT_KEA)
		strbuf_append(out,
		    "{\n  \"Dhcp4\": {\n    \"reservations-global\": true,\n"
		    "    \"reservations-in-subnet\": true,\n    \"reservations\": [");
	else
		strbuf_appendf(out, "%s shelly-tui %s export\n", hash, export_format_name(format));
	for (size_t i = 0; i < n; i++) {
		size_t twin = 0;

		if (!address(devs[i], format == EXPORT_HOSTS, ip) ||
		    (format != EXPORT_HOSTS && !dhcp_leasable(ip))) {
			note_left_out(notes, devs[i], format, NULL);
			continue;
		}
		mac_colons(devs[i]->mac, mac);
		while (format != EXPORT_HOSTS && twin < nused && strcmp(used[twin], ip) != 0)
			twin++;
		if (format != EXPORT_HOSTS && twin < nused) {
			char why[80];

			snprintf(why, sizeof why, "the address is reserved for %s already",
			    used_mac[twin]);
			note_left_out(notes, devs[i], format, why);
			if (format != EXPORT_KEA)
				strbuf_appendf(out,
				    "%s %s left out: address %s is listed already\n", hash, mac,
				    ip);
			continue;
		}
		used_mac[nused] = devs[i]->mac;
		used[nused] = xstrdup(ip);
		one_entry(format, mac, ip, names[i], nused == 0, out);
		nused++;
	}
	if (format == EXPORT_KEA)
		strbuf_append(out, nused ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
	str_array_free(names, n);
	str_array_free(used, nused);
	free(used_mac);
}
