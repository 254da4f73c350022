#include "util/guard.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "util/hostport.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct guard {
	struct cidr_list *nets; /* NULL: every address is allowed */
};

int
guard_parse(const char *nets, struct guard **out, char **cause)
{
	struct guard *g = xcalloc(1, sizeof *g);
	char *why = NULL;
	const char *p;

	*out = NULL;
	if (nets != NULL) {
		for (p = nets; *p == ' ' || *p == '\t' || *p == ','; p++)
			;
		if (*p == '\0') {
			*cause = xstrdup(GUARD_ENV " is set but empty; unset it to allow every "
			    "network, or list the allowed networks (e.g. 127.0.0.0/8)");
			free(g);
			return -1;
		}
		if (cidr_list_parse(nets, &g->nets, &why) != 0) {
			*cause = xasprintf(GUARD_ENV " is invalid: %s", why);
			free(why);
			free(g);
			return -1;
		}
	}
	*out = g;
	return 0;
}

int
guard_from_env(struct guard **out, char **cause)
{
	return guard_parse(getenv(GUARD_ENV), out, cause);
}

void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	cidr_list_free(g->nets);
	free(g);
}

int
guard_is_set(const struct guard *g)
{
	return g->nets != NULL;
}

int
guard_families(const struct guard *g, const char *host)
{
	int v4, v6;

	if (g->nets == NULL)
		return GUARD_ANY;
	if (host == NULL || *host == '\0')
		return GUARD_REFUSED;
	if (str_caseeq(host, "localhost") || str_caseeq(host, "localhost.")) {
		/* A resolver gives localhost both families: only the allowed one may be used. */
		v4 = cidr_list_contains_host(g->nets, "127.0.0.1");
		v6 = cidr_list_contains_host(g->nets, "::1");
		return v4 && v6 ? GUARD_ANY : v4 ? GUARD_IPV4 : v6 ? GUARD_IPV6 : GUARD_REFUSED;
	}
	if (strchr(host, '%') != NULL) { /* a link-local address's zone: the address decides */
		char addr[INET6_ADDRSTRLEN];
		if (hostport_zone(host, addr, sizeof addr) == NULL)
			return GUARD_REFUSED;
		return cidr_list_contains_host(g->nets, addr) ? GUARD_ANY : GUARD_REFUSED;
	}
	return cidr_list_contains_host(g->nets, host) ? GUARD_ANY : GUARD_REFUSED;
}

int
guard_families_cb(const char *host, void *g)
{
	return guard_families(g, host);
}

int
guard_allows(const struct guard *g, const char *host)
{
	return guard_families(g, host) != GUARD_REFUSED;
}

int
guard_first_refused(
    const struct guard *g, uint32_t first, uint32_t last, uint32_t *refused, uint64_t *steps)
{
	/* A dotted quad is checked against the IPv4 entries only (cidr_list_contains_host). */
	if (g->nets == NULL)
		return 0;
	return cidr_list_first_outside(g->nets, first, last, refused, steps);
}

/* Returns 1 when host is a literal IPv4 or IPv6 address (IPv6 optionally in brackets, a
 * link-local one with its zone). */
static int
is_literal(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char addr[INET6_ADDRSTRLEN];

	return cidr_parse_ipv4(host, &a4) == 0 || cidr_parse_ipv6(host, &a6) == 0 ||
	       hostport_zone(host, addr, sizeof addr) != NULL;
}

int
guard_check(const struct guard *g, const char *host, char **cause)
{
	char *safe, *nets;

	if (guard_allows(g, host))
		return 0;
	if (host == NULL)
		host = "";
	safe = str_sanitize(host, 256);
	nets = cidr_list_describe(g->nets);
	if (is_literal(host) || str_caseeq(host, "localhost") || str_caseeq(host, "localhost."))
		*cause = xasprintf("refused: %s is outside " GUARD_ENV " (%s)", safe, nets);
	else
		*cause = xasprintf("refused: \"%s\" is not a literal address, and with " GUARD_ENV
				   " set only addresses inside %s are allowed",
		    safe, nets);
	free(safe);
	free(nets);
	return -1;
}

char *
guard_describe(const struct guard *g)
{
	char *nets, *s;

	if (g->nets == NULL)
		return xstrdup("all networks (" GUARD_ENV " is unset)");
	nets = cidr_list_describe(g->nets);
	s = xasprintf("%s (from " GUARD_ENV ")", nets);
	free(nets);
	return s;
}
