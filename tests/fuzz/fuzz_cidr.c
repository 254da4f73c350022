/*
 * libFuzzer harness: IPv4 targets (cidr_parse, iteration, formatting), address lists and the
 * network guard on arbitrary text. Nothing may crash or leak; a parsed target formats to text
 * that parses back to the same target; iteration yields cidr_count() addresses, all inside the
 * target; a list describes itself in a form that parses back to the same description; the
 * guard's interval check (guard_first_refused) agrees with the per-address check around the
 * ends of every IPv4 target in the input and of the address space.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "../unit/guardref.h"
#include "util/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_target(const char *s)
{
	struct cidr c, again;
	struct cidr_iter it;
	struct in_addr a;
	char buf[CIDR_TEXT_MAX], *cause = NULL;
	uint64_t n = 0;

	if (cidr_parse(s, &c, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	if (cause != NULL || c.lo > c.hi || c.prefix < -1 || c.prefix > 32)
		abort();
	if (cidr_parse(cidr_format(&c, buf, sizeof buf), &again, NULL) != 0 || again.lo != c.lo ||
	    again.hi != c.hi)
		abort();
	if (cidr_count(&c) > 65536)
		return; /* iterating a /8 per input would make fuzzing crawl */
	cidr_iter_init(&it, &c);
	while (cidr_iter_next(&it, &a)) {
		if (!cidr_contains(&c, a))
			abort();
		n++;
	}
	if (n != cidr_count(&c))
		abort();
}

/* Compares guard_first_refused with the per-address check on [a - 8, a + 8] (clamped). */
static void
check_around(const struct guard *g, uint32_t a)
{
	uint32_t first = a < 8 ? 0 : a - 8, last = a > UINT32_MAX - 8 ? UINT32_MAX : a + 8;
	uint32_t want = 0, got = 0;
	int rwant = ref_first_refused(g, first, last, &want);

	if (guard_first_refused(g, first, last, &got, NULL) != rwant || (rwant && got != want))
		abort();
}

/* Checks the guard's intervals near the ends of each word of s that parses as a target. */
static void
check_intervals(const struct guard *g, const char *s)
{
	char word[65];
	struct cidr c;
	size_t n;

	check_around(g, 0);
	check_around(g, UINT32_MAX);
	while (*s != '\0') {
		n = strcspn(s, ", \t\r\n");
		if (n > 0 && n < sizeof word) {
			memcpy(word, s, n);
			word[n] = '\0';
			if (cidr_parse(word, &c, NULL) == 0) {
				check_around(g, c.lo);
				check_around(g, c.hi);
			}
		}
		s += n;
		s += strspn(s, ", \t\r\n");
	}
}

static void
check_list(const char *s)
{
	struct cidr_list *list = NULL, *again = NULL;
	struct guard *g = NULL;
	char *cause = NULL, *d1, *d2;

	if (cidr_list_parse(s, &list, &cause) == 0) {
		d1 = cidr_list_describe(list);
		if (cidr_list_parse(d1, &again, NULL) != 0)
			abort();
		d2 = cidr_list_describe(again);
		if (strcmp(d1, d2) != 0)
			abort();
		free(d1);
		free(d2);
		cidr_list_contains_host(list, s);
		cidr_list_contains_host(list, "::1");
		cidr_list_free(again);
		cidr_list_free(list);
	} else {
		if (cause == NULL || list != NULL)
			abort();
		free(cause);
		cause = NULL;
	}
	if (guard_parse(s, &g, &cause) == 0) {
		/* a set guard never lets a name through, save localhost */
		if (guard_allows(g, "shelly.example.com") || guard_allows(g, "127.1"))
			abort();
		if (guard_check(g, s, &cause) != 0)
			free(cause);
		check_intervals(g, s);
		guard_free(g);
	} else {
		free(cause);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check_target(s);
	check_list(s);
	free(s);
	return 0;
}
