#ifndef UTIL_GUARD_H
#define UTIL_GUARD_H

#include <stdint.h>

/*
 * The network guard: when the environment variable SHELLY_TUI_ALLOW_NETS holds a list of
 * networks (comma- or space-separated, see util/cidr.h: "127.0.0.0/8", "10.0.1.10-50", "::1"),
 * every probe, scan and poll must go to an address inside it; anything else is refused.
 *
 * Rules, when the guard is set:
 * - a literal IPv4 address is allowed when a list entry contains it;
 * - a literal IPv6 address (optionally "[...]") is allowed when an IPv6 entry contains it, so
 *   ::1 needs "::1" or "::1/128" (or a wider IPv6 prefix) in the list; IPv4-mapped addresses
 *   (::ffff:a.b.c.d) are also checked as IPv4;
 * - the name "localhost" is allowed when the list contains 127.0.0.1 or ::1, and then reached
 *   over the allowed family only (guard_families: a resolver gives it both);
 * - every other name is refused, since the address it resolves to is not known here.
 *   Ambiguous numeric forms ("127.1", "0127.0.0.1", "2130706433") count as names.
 * Unset means every address is allowed. Set but empty or invalid is an error at startup.
 */

struct guard;

/* Name of the environment variable the guard reads. */
#define GUARD_ENV "SHELLY_TUI_ALLOW_NETS"

/*
 * Builds the guard from SHELLY_TUI_ALLOW_NETS into *out (caller frees with guard_free; unset
 * gives a guard that allows all). Returns 0, or -1 with *cause (caller frees) when the variable
 * is set but empty or invalid.
 */
int guard_from_env(struct guard **out, char **cause);
/* Same from a list string; nets NULL means unset (allow all). Returns 0, or -1 with *cause. */
int guard_parse(const char *nets, struct guard **out, char **cause);
/* Frees g (NULL is fine). */
void guard_free(struct guard *g);
/* Returns 1 when the guard restricts addresses (the variable is set), else 0. */
int guard_is_set(const struct guard *g);
/* Returns 1 when traffic to host (a literal address or "localhost", without port) is allowed. */
int guard_allows(const struct guard *g, const char *host);
/* The address families a host may be reached over (guard_families). */
#define GUARD_REFUSED 0
#define GUARD_ANY 1 /* a literal address, or every family allowed */
#define GUARD_IPV4 2 /* "localhost" with only 127.0.0.1 allowed: resolve it to IPv4 only */
#define GUARD_IPV6 3 /* "localhost" with only ::1 allowed: resolve it to IPv6 only */
/*
 * Returns how host may be reached: GUARD_REFUSED when guard_allows refuses it, else one of the
 * values above. The same as guard_families_cb(host, g), which has the shape of an HTTP client's
 * allow callback (net/http.h http_allow_cb, whose values agree).
 */
int guard_families(const struct guard *g, const char *host);
int guard_families_cb(const char *host, void *g);
/*
 * Returns 1 with *refused set to the lowest address of [first, last] (IPv4, host byte order,
 * first <= last) that guard_allows() refuses as a dotted quad, or 0 when it allows them all
 * (always when the guard is unset). Whole intervals are checked against the union of the
 * allowed networks, so a /8 costs what a single address does: *steps (may be NULL) is
 * increased by the allowed ranges compared (cidr_list_first_outside), about log2 of their
 * number plus one.
 */
int guard_first_refused(
    const struct guard *g, uint32_t first, uint32_t last, uint32_t *refused, uint64_t *steps);
/*
 * Returns 0 when host is allowed, else -1 with *cause (caller frees) naming the host and the
 * allowed networks, e.g. "refused: 10.0.0.5 is outside SHELLY_TUI_ALLOW_NETS (127.0.0.0/8)".
 */
int guard_check(const struct guard *g, const char *host, char **cause);
/* Returns a malloc'd description (caller frees): the allowed networks, or that all are allowed. */
char *guard_describe(const struct guard *g);

#endif
