/*
 * libFuzzer harness: IPv4 targets (cidr_parse, iteration, formatting), address lists and the
 * network guard on arbitrary text. Nothing may crash or leak; a parsed target formats to text
 * that parses back to the same target; iteration yields cidr_count() addresses, all inside the
 * target; a list describes itself in a form that parses back to the same description.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
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
