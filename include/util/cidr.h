#ifndef UTIL_CIDR_H
#define UTIL_CIDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/*
 * IPv4 scan targets and address lists.
 *
 * A target is written as a CIDR block "10.0.0.0/24" (host bits are masked off: "10.0.0.7/24"
 * means 10.0.0.0/24), a single address "10.0.0.7", or an inclusive range
 * "10.0.1.10-10.0.1.50" or "10.0.1.10-50" (last octet). Addresses are strict dotted quads of
 * decimal numbers without leading zeros (no "010.1.1.1", "127.1" or "2130706433"). IPv6 targets
 * are refused.
 *
 * A list (struct cidr_list) holds comma- or space-separated targets and, unlike a single
 * target, also IPv6 literals and prefixes ("::1", "::1/128", "fd00::/8"): it serves as an
 * allow-list (see util/guard.h).
 */

/* A parsed IPv4 target; a value type. Addresses are in host byte order. */
struct cidr {
	uint32_t lo; /* first address of the block or range */
	uint32_t hi; /* last address, inclusive */
	int prefix; /* prefix length 0..32, or -1 for a range */
};

/* Room for the longest cidr_format() text ("255.255.255.255-255.255.255.255") and its NUL. */
#define CIDR_TEXT_MAX 32

/* Iteration state over the addresses of a target; a value type. */
struct cidr_iter {
	uint64_t next; /* next address to return */
	uint64_t end; /* one past the last address */
};

/* Parses one IPv4 target. Returns 0, or -1 with a readable *cause (caller frees). */
int cidr_parse(const char *s, struct cidr *out, char **cause);
/*
 * Returns the number of addresses a scan visits: the network and broadcast addresses of a
 * block with prefix /30 or shorter are skipped; /31, /32 and ranges keep every address.
 */
uint64_t cidr_count(const struct cidr *c);
/* Returns 1 when addr (network byte order) lies in the block or range (all of it), else 0. */
int cidr_contains(const struct cidr *c, struct in_addr addr);
/* Starts iterating the addresses cidr_count() counts. */
void cidr_iter_init(struct cidr_iter *it, const struct cidr *c);
/* Stores the next address (network byte order) in *out and returns 1, or returns 0 at the end. */
int cidr_iter_next(struct cidr_iter *it, struct in_addr *out);
/* Writes c as text ("10.0.0.0/24", "10.0.0.7" for a /32, "10.0.1.10-10.0.1.50") into buf
 * (CIDR_TEXT_MAX bytes suffice); returns buf. */
char *cidr_format(const struct cidr *c, char *buf, size_t size);
/* Parses a strict dotted-quad IPv4 address into *out (network byte order); returns 0 or -1. */
int cidr_parse_ipv4(const char *s, struct in_addr *out);
/* Parses an IPv6 address, optionally in brackets ("[::1]"). Returns 0, or -1. */
int cidr_parse_ipv6(const char *s, struct in6_addr *out);

/* A list of IPv4 targets and IPv6 prefixes. */
struct cidr_list;

/*
 * Parses a comma- and/or space-separated list into a new list (caller frees with
 * cidr_list_free). An empty list is an error. Returns 0, or -1 with *cause (caller frees).
 */
int cidr_list_parse(const char *s, struct cidr_list **out, char **cause);
/* Frees list (NULL is fine). */
void cidr_list_free(struct cidr_list *list);
/* Returns 1 when addr (network byte order) lies in one of the IPv4 entries, else 0. */
int cidr_list_contains(const struct cidr_list *list, struct in_addr addr);
/*
 * Looks for the lowest address of [first, last] (IPv4, host byte order, first <= last) that no
 * IPv4 entry contains, by whole intervals: the list keeps the union of its IPv4 entries
 * (overlapping or adjacent ones merged) as sorted ranges, and the one that could hold first is
 * found by binary search. Returns 1 with *out set to that address, or 0 when the entries
 * together cover all of it. *steps (may be NULL) is increased by the ranges compared: about
 * log2 of their number plus one, however wide [first, last] is.
 */
int cidr_list_first_outside(
    const struct cidr_list *list, uint32_t first, uint32_t last, uint32_t *out, uint64_t *steps);
/* Returns 1 when the IPv6 address (16 bytes) lies in one of the IPv6 entries, else 0. */
int cidr_list_contains6(const struct cidr_list *list, const struct in6_addr *addr);
/*
 * Returns 1 when host is a literal address in the list, else 0. host is a strict IPv4 dotted
 * quad or an IPv6 literal, optionally in brackets ("[::1]"); an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is checked as IPv4. Anything else (hostnames, zone ids) gives 0.
 */
int cidr_list_contains_host(const struct cidr_list *list, const char *host);
/* Returns the list as normalised text "127.0.0.0/8, ::1/128" (malloc'd; caller frees). */
char *cidr_list_describe(const struct cidr_list *list);

#endif
