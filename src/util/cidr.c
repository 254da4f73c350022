#include "util/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xmalloc.h"

/* Longest list entry looked at; anything longer cannot be an address or a block. */
#define ENTRY_MAX 64

struct cidr6 {
	struct in6_addr addr; /* host bits cleared */
	int prefix; /* 0..128 */
};

struct cidr_list {
	struct cidr *v4;
	size_t n4;
	struct cidr *span; /* the union of v4: sorted, disjoint, not adjacent */
	size_t nspan;
	struct cidr6 *v6;
	size_t n6;
};

/* Parses one decimal octet (no leading zero) at *sp; advances *sp. */
static int
parse_octet(const char **sp, uint32_t *out)
{
	const char *s = *sp;
	uint32_t v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (n == 3)
			return -1;
		v = v * 10 + (uint32_t)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || v > 255 || (n > 1 && **sp == '0'))
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

/* Parses a dotted quad at *sp into *out (host order); advances *sp past it. */
static int
parse_quad(const char **sp, uint32_t *out)
{
	const char *s = *sp;
	uint32_t v = 0, octet;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return -1;
		if (parse_octet(&s, &octet) != 0)
			return -1;
		v = (v << 8) | octet;
	}
	*sp = s;
	*out = v;
	return 0;
}

int
cidr_parse_ipv4(const char *s, struct in_addr *out)
{
	uint32_t v;

	if (s == NULL || parse_quad(&s, &v) != 0 || *s != '\0')
		return -1;
	out->s_addr = htonl(v);
	return 0;
}

static uint32_t
prefix_mask(int prefix)
{
	return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

/* Sets *cause to "fmt: quoted input" with the input made printable. */
static int
fail(char **cause, const char *what, const char *s)
{
	char *safe = str_sanitize(s, 80);

	if (cause != NULL)
		*cause = xasprintf("%s: \"%s\"", what, safe);
	free(safe);
	return -1;
}

/* A prefix length 0..max with no leading zero, all of p. Returns 0 with *out, or -1. */
static int
parse_prefix(const char *p, int max, int *out)
{
	int prefix = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		return -1;
	while (*p >= '0' && *p <= '9' && prefix <= max)
		prefix = prefix * 10 + (*p++ - '0');
	if (*p != '\0' || prefix > max)
		return -1;
	*out = prefix;
	return 0;
}

int
cidr_parse(const char *s, struct cidr *out, char **cause)
{
	const char *p = s;
	uint32_t lo, hi, v;
	int prefix = 0;

	if (s == NULL || *s == '\0')
		return fail(cause, "empty target", "");
	if ((p = strchr(s, ':')) != NULL) {
		/* 10.0.0.5:8080: an IPv4 target with a port, which a target never carries */
		if (memchr(s, '.', (size_t)(p - s)) != NULL)
			return fail(cause,
			    "a port is not allowed in a scan target (discover-port sets it)", s);
		return fail(cause, "IPv6 targets are not supported", s);
	}
	p = s;
	if (parse_quad(&p, &lo) != 0)
		return fail(cause,
		    "invalid target (expected an IPv4 address, a CIDR block such as 10.0.0.0/24 "
		    "or a range such as 10.0.1.10-50)",
		    s);
	if (*p == '\0') {
		out->lo = out->hi = lo;
		out->prefix = 32;
		return 0;
	}
	if (*p == '/') {
		if (parse_prefix(p + 1, 32, &prefix) != 0)
			return fail(cause, "invalid prefix length (expected 0 to 32)", s);
		out->lo = lo & prefix_mask(prefix);
		out->hi = out->lo | ~prefix_mask(prefix);
		out->prefix = prefix;
		return 0;
	}
	if (*p == '-') {
		p++;
		if (parse_quad(&p, &hi) == 0 && *p == '\0') {
			/* full end address */
		} else if (parse_octet(&p, &v) == 0 && *p == '\0') {
			hi = (lo & 0xFFFFFF00u) | v;
		} else {
			return fail(cause, "invalid range end (expected 10.0.1.10-10.0.1.50 or 10.0.1.10-50)",
			    s);
		}
		if (hi < lo)
			return fail(cause, "invalid range: the end is before the start", s);
		out->lo = lo;
		out->hi = hi;
		out->prefix = -1;
		return 0;
	}
	return fail(cause,
	    "invalid target (expected an IPv4 address, a CIDR block such as 10.0.0.0/24 or a range "
	    "such as 10.0.1.10-50)",
	    s);
}

/* Returns 1 when the network and broadcast addresses of c are not scanned. */
static int
skips_ends(const struct cidr *c)
{
	return c->prefix >= 0 && c->prefix <= 30;
}

uint64_t
cidr_count(const struct cidr *c)
{
	uint64_t n = (uint64_t)c->hi - c->lo + 1;

	return skips_ends(c) ? n - 2 : n;
}

int
cidr_contains(const struct cidr *c, struct in_addr addr)
{
	uint32_t a = ntohl(addr.s_addr);

	return a >= c->lo && a <= c->hi;
}

void
cidr_iter_init(struct cidr_iter *it, const struct cidr *c)
{
	it->next = c->lo;
	it->end = (uint64_t)c->hi + 1;
	if (skips_ends(c)) {
		it->next++;
		it->end--;
	}
}

int
cidr_iter_next(struct cidr_iter *it, struct in_addr *out)
{
	if (it->next >= it->end)
		return 0;
	out->s_addr = htonl((uint32_t)it->next);
	it->next++;
	return 1;
}

static void
format_quad(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFF);
}

char *
cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char lo[16], hi[16];

	format_quad(c->lo, lo, sizeof lo);
	if (c->prefix == 32)
		snprintf(buf, size, "%s", lo);
	else if (c->prefix >= 0)
		snprintf(buf, size, "%s/%d", lo, c->prefix);
	else {
		format_quad(c->hi, hi, sizeof hi);
		snprintf(buf, size, "%s-%s", lo, hi);
	}
	return buf;
}

/* Lists */

/* Parses an IPv6 literal or prefix ("::1", "[::1]", "fd00::/8") into *out. */
static int
parse6(const char *s, struct cidr6 *out, char **cause)
{
	char buf[ENTRY_MAX];
	const char *slash;
	size_t len;
	int prefix = 128, i, bits;

	if (strlen(s) >= sizeof buf)
		return fail(cause, "invalid IPv6 address", s);
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, &out->addr) != 1)
		return fail(cause, "invalid IPv6 address", s);
	if (slash != NULL && parse_prefix(slash + 1, 128, &prefix) != 0)
		return fail(cause, "invalid IPv6 prefix length (expected 0 to 128)", s);
	for (i = 0; i < 16; i++) {
		bits = prefix - i * 8;
		if (bits <= 0)
			out->addr.s6_addr[i] = 0;
		else if (bits < 8)
			out->addr.s6_addr[i] &= (uint8_t)(0xFF << (8 - bits));
	}
	out->prefix = prefix;
	return 0;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Builds list->span, the union of the IPv4 entries as sorted, disjoint, non-adjacent ranges. */
static void
make_spans(struct cidr_list *list)
{
	size_t i, n = 0;

	if (list->n4 == 0)
		return;
	list->span = xreallocarray(NULL, list->n4, sizeof *list->span);
	memcpy(list->span, list->v4, list->n4 * sizeof *list->span);
	qsort(list->span, list->n4, sizeof *list->span, span_cmp);
	for (i = 1; i < list->n4; i++) {
		if ((uint64_t)list->span[i].lo <= (uint64_t)list->span[n].hi + 1) {
			if (list->span[i].hi > list->span[n].hi)
				list->span[n].hi = list->span[i].hi;
		} else
			list->span[++n] = list->span[i];
	}
	list->nspan = n + 1;
	for (i = 0; i < list->nspan; i++)
		list->span[i].prefix = -1;
}

static int
is_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
cidr_list_parse(const char *s, struct cidr_list **out, char **cause)
{
	struct cidr_list *list = xcalloc(1, sizeof *list);
	char entry[ENTRY_MAX + 1];
	const char *start;
	size_t len;

	*out = NULL;
	while (s != NULL && *s != '\0') {
		while (is_separator(*s))
			s++;
		if (*s == '\0')
			break;
		start = s;
		while (*s != '\0' && !is_separator(*s))
			s++;
		len = (size_t)(s - start);
		if (len > ENTRY_MAX) {
			memcpy(entry, start, ENTRY_MAX);
			entry[ENTRY_MAX] = '\0';
			fail(cause, "entry too long", entry);
			goto bad;
		}
		memcpy(entry, start, len);
		entry[len] = '\0';
		if (memchr(entry, ':', len) != NULL) {
			list->v6 = xreallocarray(list->v6, list->n6 + 1, sizeof *list->v6);
			if (parse6(entry, &list->v6[list->n6], cause) != 0)
				goto bad;
			list->n6++;
		} else {
			list->v4 = xreallocarray(list->v4, list->n4 + 1, sizeof *list->v4);
			if (cidr_parse(entry, &list->v4[list->n4], cause) != 0)
				goto bad;
			list->n4++;
		}
	}
	if (list->n4 + list->n6 == 0) {
		if (cause != NULL)
			*cause = xstrdup("empty address list");
		goto bad;
	}
	make_spans(list);
	*out = list;
	return 0;
bad:
	cidr_list_free(list);
	return -1;
}

void
cidr_list_free(struct cidr_list *list)
{
	if (list == NULL)
		return;
	free(list->v4);
	free(list->span);
	free(list->v6);
	free(list);
}

/* Walks the entries as given, not the spans: this is the per-address check the spans'
 * interval check (cidr_list_first_outside) is tested against (tests/unit/guardref.h). */
int
cidr_list_contains(const struct cidr_list *list, struct in_addr addr)
{
	size_t i;

	for (i = 0; i < list->n4; i++) {
		if (cidr_contains(&list->v4[i], addr))
			return 1;
	}
	return 0;
}

int
cidr_list_first_outside(
    const struct cidr_list *list, uint32_t first, uint32_t last, uint32_t *out, uint64_t *steps)
{
	size_t lo = 0, hi = list->nspan, mid;
	const struct cidr *sp;

	/* lo becomes the number of spans that start at or before first. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (steps != NULL)
			(*steps)++;
		if (list->span[mid].lo <= first)
			lo = mid + 1;
		else
			hi = mid;
	}
	sp = lo > 0 ? &list->span[lo - 1] : NULL;
	if (sp == NULL || sp->hi < first) {
		*out = first;
		return 1;
	}
	if (sp->hi >= last)
		return 0;
	/* spans are not adjacent, so the address after this one is in none */
	*out = sp->hi + 1;
	return 1;
}

int
cidr_list_contains6(const struct cidr_list *list, const struct in6_addr *addr)
{
	size_t i;
	int j, bits;
	uint8_t mask;

	for (i = 0; i < list->n6; i++) {
		const struct cidr6 *e = &list->v6[i];

		for (j = 0; j < 16; j++) {
			bits = e->prefix - j * 8;
			if (bits <= 0)
				return 1;
			mask = bits >= 8 ? 0xFF : (uint8_t)(0xFF << (8 - bits));
			if ((addr->s6_addr[j] & mask) != e->addr.s6_addr[j])
				break;
		}
		if (j == 16)
			return 1;
	}
	return 0;
}

int
cidr_parse_ipv6(const char *s, struct in6_addr *out)
{
	char buf[ENTRY_MAX];
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

int
cidr_list_contains_host(const struct cidr_list *list, const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL)
		return 0;
	if (cidr_parse_ipv4(host, &a4) == 0)
		return cidr_list_contains(list, a4);
	if (cidr_parse_ipv6(host, &a6) != 0)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4.s_addr, &a6.s6_addr[12], 4);
		if (cidr_list_contains(list, a4))
			return 1;
	}
	return cidr_list_contains6(list, &a6);
}

char *
cidr_list_describe(const struct cidr_list *list)
{
	struct strbuf sb;
	char buf[INET6_ADDRSTRLEN > CIDR_TEXT_MAX ? INET6_ADDRSTRLEN : CIDR_TEXT_MAX];
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < list->n4; i++) {
		if (sb.len != 0)
			strbuf_append(&sb, ", ");
		strbuf_append(&sb, cidr_format(&list->v4[i], buf, sizeof buf));
	}
	for (i = 0; i < list->n6; i++) {
		if (sb.len != 0)
			strbuf_append(&sb, ", ");
		inet_ntop(AF_INET6, &list->v6[i].addr, buf, sizeof buf);
		strbuf_appendf(&sb, "%s/%d", buf, list->v6[i].prefix);
	}
	return strbuf_steal(&sb);
}
