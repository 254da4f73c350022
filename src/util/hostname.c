/*
 * Host name labels for devices, shared by the hosts/DHCP exports and the OPNsense sync so the
 * two cannot disagree: the names no device may take, and how a taken name is made unique.
 */
#include "util/hostname.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xmalloc.h"

/* 1 when label is one of the n words (ASCII case ignored). */
static int
one_of(const char *label, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(label, words[i]) == 0)
			return 1;
	return 0;
}

/*
 * The loopback names Debian, Red Hat and macOS write into /etc/hosts (localhost, localhost4/6,
 * localhost-localdomain once folded, ip6-localhost, ip6-allnodes, ...), broadcasthost, the mDNS
 * domain "local", and the names clients look up to configure themselves (wpad: a proxy script;
 * isatap: a tunnel router). A device named so would answer for them in DNS, which is how a
 * proxy script is hijacked.
 */
int
hostname_reserved(const char *label)
{
	static const char *const exact[] = {
	    "local", "localdomain", "broadcasthost", "wpad", "isatap"};

	return strncasecmp(label, "localhost", 9) == 0 || strncasecmp(label, "ip6-", 4) == 0 ||
	       one_of(label, exact, sizeof exact / sizeof exact[0]);
}

int
hostname_dnsmasq_keyword(const char *label)
{
	static const char *const words[] = {"ignore", "infinite", "deprecated"};

	return one_of(label, words, sizeof words / sizeof words[0]);
}

/* base + "-" + suffix, with base cut (and its trailing '-' dropped) to fit a label. */
static char *
with_suffix(const char *base, const char *suffix)
{
	size_t room = HOSTNAME_LABEL_MAX - 1 - strlen(suffix), len = strlen(base);

	if (len > room)
		len = room;
	while (len > 0 && base[len - 1] == '-')
		len--;
	return xasprintf("%.*s-%s", (int)len, base, suffix);
}

char *
hostname_unique(
    const char *base, const char *mac, int keep_base, hostname_taken_cb taken, void *arg)
{
	const char *tail = strlen(mac) > 6 ? mac + strlen(mac) - 6 : mac;
	char suffix[32];
	char *name;

	if (keep_base && !taken(base, arg))
		return xstrdup(base);
	name = with_suffix(base, tail);
	for (unsigned k = 2; taken(name, arg); k++) {
		free(name);
		snprintf(suffix, sizeof suffix, "%s-%u", tail, k);
		name = with_suffix(base, suffix);
	}
	return name;
}

static int
claim_cmp(const void *a, const void *b)
{
	const struct hostname_claim *x = a, *y = b;
	int64_t fx = x->first_seen_ms > 0 ? x->first_seen_ms : INT64_MAX;
	int64_t fy = y->first_seen_ms > 0 ? y->first_seen_ms : INT64_MAX;

	if (x->holds != y->holds)
		return x->holds ? -1 : 1;
	if (fx != fy)
		return fx < fy ? -1 : 1;
	return strcmp(x->mac, y->mac);
}

void
hostname_claim_sort(struct hostname_claim *claims, size_t n)
{
	if (n > 1)
		qsort(claims, n, sizeof *claims, claim_cmp);
}
