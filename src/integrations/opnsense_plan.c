#include "integrations/opnsense_plan.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hostname.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Longest device name kept in a description after the marker. */
#define DESCR_NAME_MAX 48

static const char *const action_done[] = {
#define OPN_ACTION_DONE(id, done, planned) done,
    OPN_ACTIONS(OPN_ACTION_DONE)
#undef OPN_ACTION_DONE
};
static const char *const action_planned[] = {
#define OPN_ACTION_PLANNED(id, done, planned) planned,
    OPN_ACTIONS(OPN_ACTION_PLANNED)
#undef OPN_ACTION_PLANNED
};

const char *
opn_action_name(enum opn_action a)
{
	return (unsigned)a < OPN_ACTION_COUNT ? action_done[a] : "unknown";
}

const char *
opn_action_planned(enum opn_action a)
{
	return (unsigned)a < OPN_ACTION_COUNT ? action_planned[a] : "unknown";
}

/* One device as the plan sees it. */
struct want {
	const struct opn_device *d;
	const char *label; /* name shown: device name, else id, else MAC */
	char host[OPN_HOSTNAME_MAX + 1];
	const char *host_why; /* static: why no valid host name, or NULL */
	int has_ip;
	struct in_addr addr;
	char ip[INET6_ADDRSTRLEN]; /* the address written: IPv4 dotted (an IPv4-mapped IPv6
	                            * ::ffff:a.b.c.d is a.b.c.d), else as registered */
	int has_ip6; /* an IPv6 literal instead: only for the alias */
	struct in6_addr addr6;
	const struct opn_subnet *subnet;
};

static char *
dup0(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

/*
 * The description written on a device's record: marker, MAC, then a plain copy of its name.
 * OPNsense descriptions hold UTF-8, so letters such as the u-umlaut of "Kuche" stay; control
 * characters, escape sequences and bidi controls go (str_sanitize), invalid bytes show as
 * U+FFFD, and markup and quoting characters become '_'.
 */
static char *
descr_for(const struct want *w)
{
	char *name = str_sanitize(w->d->name, DESCR_NAME_MAX), *descr;

	for (char *p = name; *p != '\0'; p++)
		if (strchr("<>&\"'\\", *p) != NULL)
			*p = '_';
	descr = name[0] != '\0' ? xasprintf(OPN_MARKER "%s %s", w->d->mac, name)
	                        : xasprintf(OPN_MARKER "%s", w->d->mac);
	free(name);
	return descr;
}

static int
is_own(const struct opn_record *r)
{
	return r->owner[0] != '\0';
}

/* A record that counts for DHCP: dnsmasq entries without a MAC are DNS overrides only. */
static int
is_dhcp(const struct opn_state *st, const struct opn_record *r)
{
	return st->backend == OPN_KEA || r->macs[0] != '\0';
}

static void
want_init(const struct opn_state *st, const struct opn_device *d, struct want *w)
{
	char fallback[32];
	const char *base;

	memset(w, 0, sizeof *w);
	w->d = d;
	w->label = d->name != NULL && d->name[0] != '\0' ? d->name
	           : d->id != NULL && d->id[0] != '\0'   ? d->id
	                                                 : d->mac;
	w->has_ip = d->ip != NULL && cidr_parse_ipv4(d->ip, &w->addr) == 0;
	w->has_ip6 = !w->has_ip && d->ip != NULL && cidr_parse_ipv6(d->ip, &w->addr6) == 0;
	if (w->has_ip6 && IN6_IS_ADDR_V4MAPPED(&w->addr6)) { /* the IPv4 address it stands for */
		memcpy(&w->addr, &w->addr6.s6_addr[12], sizeof w->addr);
		w->has_ip = 1;
		w->has_ip6 = 0;
	}
	if (w->has_ip)
		inet_ntop(AF_INET, &w->addr, w->ip, sizeof w->ip);
	else
		str_copy(w->ip, sizeof w->ip, d->ip != NULL ? d->ip : "");
	snprintf(fallback, sizeof fallback, "shelly-%s", d->mac);
	base = d->name != NULL && d->name[0] != '\0' ? d->name
	       : d->id != NULL && d->id[0] != '\0'   ? d->id
	                                             : fallback;
	if (opn_hostname_derive(base, w->host, &w->host_why) != 0)
		w->host[0] = '\0';
	else if (hostname_reserved(w->host) || /* as the exports do: never wpad, localhost... */
	         (st->backend == OPN_DNSMASQ && hostname_dnsmasq_keyword(w->host)))
		opn_hostname_derive(fallback, w->host, &w->host_why);
	for (size_t i = 0; w->has_ip && i < st->nsubnets && w->subnet == NULL; i++)
		if (cidr_contains(&st->subnets[i].net, w->addr))
			w->subnet = &st->subnets[i];
}

/* The names devices took so far, and the records of another MAC than the device's naming. */
struct names_in_use {
	const struct opn_state *st;
	const struct want *w;
	const struct hostname_claim *c;
	size_t done; /* c[0..done) took their names */
	const char *mac;
};

static int
in_use_cb(const char *name, void *arg)
{
	const struct names_in_use *u = arg;

	for (size_t j = 0; j < u->done; j++)
		if (str_caseeq(u->w[u->c[j].index].host, name))
			return 1;
	for (size_t k = 0; k < u->st->nrecords; k++) {
		const struct opn_record *r = &u->st->records[k];

		if (!is_own(r) && str_caseeq(r->hostname, name) && !opn_record_has_mac(r, u->mac))
			return 1;
	}
	return 0;
}

/* 1 when the device's own record already carries host name host. */
static int
holds_name(const struct opn_state *st, const char *mac, const char *host)
{
	for (size_t k = 0; k < st->nrecords; k++)
		if (strcmp(st->records[k].owner, mac) == 0 &&
		    str_caseeq(st->records[k].hostname, host))
			return 1;
	return 0;
}

/* Host names shared by two devices, or by a device and a record of another MAC, are made
 * unique by the exports' rule (util/hostname): devices take names in the order of
 * hostname_claim_sort, the one whose own record carries a name keeps it, a newcomer gets the
 * last six digits of its MAC appended (then a counter while that is taken too). */
static void
make_unique(const struct opn_state *st, struct want *w, size_t n)
{
	struct hostname_claim *c = xcalloc(n + 1, sizeof *c);
	struct names_in_use u = {st, w, c, 0, NULL};

	for (size_t i = 0; i < n; i++)
		c[i] = (struct hostname_claim){i, w[i].d->mac, w[i].d->first_seen_ms,
		    w[i].host[0] != '\0' && holds_name(st, w[i].d->mac, w[i].host)};
	hostname_claim_sort(c, n);
	for (; u.done < n; u.done++) {
		struct want *x = &w[c[u.done].index];
		char *name;

		if (x->host[0] == '\0')
			continue;
		u.mac = x->d->mac;
		name = hostname_unique(x->host, x->d->mac, 1, in_use_cb, &u);
		str_copy(x->host, sizeof x->host, name);
		free(name);
	}
	free(c);
}

static struct opn_item *
item_add(struct opn_plan *p, enum opn_kind kind, enum opn_action a)
{
	struct opn_item *it;

	p->items = xreallocarray(p->items, p->nitems + 1, sizeof *p->items);
	it = &p->items[p->nitems++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->action = a;
	it->outcome = OPN_PLANNED;
	return it;
}

/* Fills the strings of a reservation item that are not set yet with "". */
static void
item_finish(struct opn_item *it)
{
	char **f[] = {&it->device, &it->hostname, &it->ip, &it->subnet, &it->subnet_text, &it->uuid,
	    &it->descr, &it->content, &it->why, &it->error};

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (*f[i] == NULL)
			*f[i] = xstrdup("");
}

/* Why dnsmasq would not serve w's address: no range's network holds it. */
static char *
range_conflict(const struct opn_state *st, const struct want *w)
{
	struct strbuf sb;

	if (st->nsubnets == 0)
		return xasprintf("address %s: dnsmasq has no DHCPv4 range, so it serves no "
		                 "reservation",
		    w->ip);
	strbuf_init(&sb);
	strbuf_appendf(
	    &sb, "address %s is outside the network of every dnsmasq DHCPv4 range:", w->ip);
	for (size_t i = 0; i < st->nsubnets && i < 4; i++)
		strbuf_appendf(&sb, "%s %s", i ? "," : "", st->subnets[i].text);
	if (st->nsubnets > 4)
		strbuf_appendf(&sb, " and %zu more", st->nsubnets - 4);
	return strbuf_steal(&sb);
}

/* The reason w cannot be reserved, or NULL. */
static char *
conflict_of(const struct opn_state *st, const struct want *w, const struct want *all, size_t n)
{
	char mac[18];

	if (w->has_ip6)
		return xasprintf("no IPv4 address registered (host %s is IPv6: it is in the alias, "
		                 "but a DHCPv4 reservation needs IPv4)",
		    w->ip);
	if (!w->has_ip)
		return xasprintf("no IPv4 address registered (host %s)",
		    w->d->ip != NULL ? w->d->ip : "unknown");
	if (w->host_why != NULL)
		return xasprintf("host name: the device name \"%s\" %s", w->label, w->host_why);
	for (size_t i = 0; i < st->nrecords; i++) {
		const struct opn_record *r = &st->records[i];

		if (is_own(r) || !is_dhcp(st, r))
			continue;
		if (strcmp(r->ip, w->ip) == 0 && !opn_record_has_mac(r, w->d->mac))
			return xasprintf("address %s is reserved for %s (%s, record %s) by a "
			                 "record shelly-tui did not create",
			    w->ip,
			    r->mac[0] != '\0' ? opn_mac_format(r->mac, mac, sizeof mac)
			                      : "another client",
			    r->hostname[0] != '\0' ? r->hostname : "no host name", r->uuid);
		if (opn_record_has_mac(r, w->d->mac) && strcmp(r->ip, w->ip) != 0)
			return xasprintf("MAC is reserved at %s (record %s) by a record "
			                 "shelly-tui did not create",
			    r->ip[0] != '\0' ? r->ip : "no address", r->uuid);
	}
	for (size_t i = 0; i < n; i++)
		if (&all[i] != w && all[i].has_ip && all[i].addr.s_addr == w->addr.s_addr)
			return xasprintf(
			    "address %s is also registered for device %s", w->ip, all[i].label);
	if (st->backend == OPN_KEA && w->subnet == NULL)
		return xasprintf("address %s is outside every Kea subnet", w->ip);
	if (st->backend == OPN_DNSMASQ && st->ranges_read && w->subnet == NULL)
		return range_conflict(st, w);
	return NULL;
}

/* What differs between own record r and want w ("" when nothing). */
static char *
changes_of(
    const struct opn_state *st, const struct opn_record *r, const struct want *w, const char *descr)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (strcmp(r->ip, w->ip) != 0)
		strbuf_appendf(&sb, "%saddress %s -> %s", sb.len ? "; " : "",
		    r->ip[0] != '\0' ? r->ip : "none", w->ip);
	if (strcmp(r->hostname, w->host) != 0)
		strbuf_appendf(&sb, "%shost name %s -> %s", sb.len ? "; " : "",
		    r->hostname[0] != '\0' ? r->hostname : "none", w->host);
	if (strcmp(r->mac, w->d->mac) != 0 || strchr(r->macs, ',') != NULL)
		strbuf_appendf(&sb, "%sMAC %s -> %s", sb.len ? "; " : "", r->macs, w->d->mac);
	if (st->backend == OPN_KEA && strcmp(r->subnet, w->subnet->uuid) != 0)
		strbuf_appendf(&sb, "%ssubnet -> %s", sb.len ? "; " : "", w->subnet->text);
	if (strcmp(r->descr, descr) != 0)
		strbuf_appendf(&sb, "%sdescription", sb.len ? "; " : "");
	return strbuf_steal(&sb);
}

/* The item for one registered device, and removals of its duplicate own records. */
static void
plan_device(struct opn_plan *p, const struct opn_state *st, const struct want *w,
    const struct want *all, size_t n)
{
	const struct opn_record *own = NULL, *same = NULL;
	struct opn_item *it;
	char *why = conflict_of(st, w, all, n), *descr = descr_for(w);

	for (size_t i = 0; i < st->nrecords; i++) {
		const struct opn_record *r = &st->records[i];

		if (strcmp(r->owner, w->d->mac) == 0 && own == NULL)
			own = r;
		else if (strcmp(r->owner, w->d->mac) == 0) {
			it = item_add(p, OPN_RESERVATION, OPN_REMOVE);
			memcpy(it->mac, w->d->mac, sizeof it->mac);
			it->device = xstrdup(w->label);
			it->hostname = xstrdup(r->hostname);
			it->ip = xstrdup(r->ip);
			it->uuid = xstrdup(r->uuid);
			it->why =
			    xasprintf("second record of this device (the first is %s)", own->uuid);
			item_finish(it);
		} else if (!is_own(r) && is_dhcp(st, r) && opn_record_has_mac(r, w->d->mac) &&
		           w->has_ip && strcmp(r->ip, w->ip) == 0)
			same = r;
	}
	it = item_add(p, OPN_RESERVATION, OPN_ADD);
	memcpy(it->mac, w->d->mac, sizeof it->mac);
	it->device = xstrdup(w->label);
	it->hostname = xstrdup(w->host);
	it->ip = dup0(w->has_ip ? w->ip : NULL);
	if (w->subnet != NULL && st->backend == OPN_KEA) {
		it->subnet = xstrdup(w->subnet->uuid);
		it->subnet_text = xstrdup(w->subnet->text);
	}
	it->descr = descr;
	if (own != NULL)
		it->uuid = xstrdup(own->uuid);
	if (why != NULL) {
		it->action = OPN_CONFLICT;
		it->why = why;
	} else if (own != NULL) {
		it->why = changes_of(st, own, w, descr);
		it->action = it->why[0] != '\0' ? OPN_UPDATE : OPN_UNCHANGED;
	} else if (same != NULL) {
		it->action = OPN_UNCHANGED;
		it->uuid = xstrdup(same->uuid);
		it->why =
		    xasprintf("already reserved by record %s, which shelly-tui did not create; "
		              "left alone",
		        same->uuid);
	}
	item_finish(it);
}

/* Why nothing is removed when the registry is empty: a new database, a fresh volume or the
 * wrong --db must not wipe what the firewall holds. */
#define EMPTY_REGISTRY                                                                            \
	"no device is registered (a new or wrong database?): a sync never empties the firewall; " \
	"delete it on the firewall if that is meant"

/* Removals of own records whose device is no longer registered. */
static void
plan_removals(
    struct opn_plan *p, const struct opn_state *st, const struct opn_device *devs, size_t n)
{
	for (size_t i = 0; i < st->nrecords; i++) {
		const struct opn_record *r = &st->records[i];
		struct opn_item *it;
		size_t j;

		if (!is_own(r))
			continue;
		for (j = 0; j < n && strcmp(devs[j].mac, r->owner) != 0; j++)
			;
		if (j < n)
			continue;
		it = item_add(p, OPN_RESERVATION, n > 0 ? OPN_REMOVE : OPN_CONFLICT);
		memcpy(it->mac, r->owner, sizeof it->mac);
		it->device = xstrdup(r->hostname[0] != '\0' ? r->hostname : r->owner);
		it->hostname = xstrdup(r->hostname);
		it->ip = xstrdup(r->ip);
		it->uuid = xstrdup(r->uuid);
		it->why = xstrdup(n > 0 ? "device no longer registered" : EMPTY_REGISTRY);
		item_finish(it);
	}
}

static int
addr_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
	uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);

	return x < y ? -1 : x > y;
}

static int
addr6_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

/*
 * The addresses the alias should hold, as text: every registered IPv4 address in order, then
 * every IPv6 one (compressed lower-case form), each once. *nw is set to their count.
 */
static char **
alias_wanted(const struct want *w, size_t n, size_t *nw)
{
	struct in_addr *v4 = xcalloc(n + 1, sizeof *v4);
	struct in6_addr *v6 = xcalloc(n + 1, sizeof *v6);
	char **out = xcalloc(n + 1, sizeof *out), buf[INET6_ADDRSTRLEN];
	size_t n4 = 0, n6 = 0;

	*nw = 0;
	for (size_t i = 0; i < n; i++) {
		if (w[i].has_ip)
			v4[n4++] = w[i].addr;
		else if (w[i].has_ip6)
			v6[n6++] = w[i].addr6;
	}
	if (n4 > 1)
		qsort(v4, n4, sizeof *v4, addr_cmp);
	if (n6 > 1)
		qsort(v6, n6, sizeof *v6, addr6_cmp);
	for (size_t i = 0; i < n4; i++)
		if (i == 0 || v4[i].s_addr != v4[i - 1].s_addr)
			out[(*nw)++] = xstrdup(inet_ntop(AF_INET, &v4[i], buf, sizeof buf));
	for (size_t i = 0; i < n6; i++)
		if (i == 0 || memcmp(&v6[i], &v6[i - 1], sizeof v6[i]) != 0)
			out[(*nw)++] = xstrdup(inet_ntop(AF_INET6, &v6[i], buf, sizeof buf));
	free(v4);
	free(v6);
	return out;
}

/* An alias entry as compared: an IPv6 address in the form alias_wanted writes, else as is. */
static char *
alias_entry(const char *e)
{
	struct in6_addr a;
	char buf[INET6_ADDRSTRLEN];

	if (strchr(e, ':') != NULL && inet_pton(AF_INET6, e, &a) == 1)
		return xstrdup(inet_ntop(AF_INET6, &a, buf, sizeof buf));
	return xstrdup(e);
}

/* The alias item: every registered address (IPv4 and IPv6), one set when anything differs. */
static void
plan_alias(struct opn_plan *p, const struct opn_state *st, const struct want *w, size_t n,
    const char *name)
{
	const struct opn_alias *a = &st->alias;
	char **held = xcalloc(a->ncontent + 1, sizeof *held), **want;
	struct strbuf content, diff;
	struct opn_item *it = item_add(p, OPN_ALIAS, OPN_ADD);
	size_t nw;

	want = alias_wanted(w, n, &nw);
	for (size_t i = 0; i < a->ncontent; i++)
		held[i] = alias_entry(a->content[i]);
	strbuf_init(&content);
	strbuf_init(&diff);
	for (size_t i = 0; i < nw; i++) {
		strbuf_appendf(&content, "%s%s", content.len ? "\n" : "", want[i]);
		if (a->exists && !str_list_has(held, a->ncontent, want[i]))
			strbuf_appendf(&diff, "%s+%s", diff.len ? " " : "", want[i]);
	}
	for (size_t i = 0; a->exists && i < a->ncontent; i++)
		if (!str_list_has(want, nw, held[i]))
			strbuf_appendf(&diff, "%s-%s", diff.len ? " " : "", a->content[i]);
	it->device = xstrdup(name);
	it->content = strbuf_steal(&content);
	it->ip = xasprintf("%zu address%s", nw, nw == 1 ? "" : "es");
	it->descr = xstrdup(OPN_MARKER " Shelly devices, kept in step by shelly-tui");
	if (a->exists) {
		it->uuid = xstrdup(a->uuid);
		if (!str_has_prefix(a->descr, OPN_MARKER)) {
			it->action = OPN_CONFLICT;
			it->why =
			    xasprintf("alias %s exists and was not created by shelly-tui (its "
			              "description lacks \"" OPN_MARKER "\"); left alone",
			        name);
		} else if (strcmp(a->type, "host") != 0) {
			it->action = OPN_CONFLICT;
			it->why = xasprintf("alias %s is of type %s, not host", name, a->type);
		} else if (diff.len > 0 && n == 0) {
			it->action = OPN_CONFLICT;
			it->why = xasprintf("its %zu address%s stay%s: " EMPTY_REGISTRY,
			    a->ncontent, a->ncontent == 1 ? "" : "es", a->ncontent == 1 ? "s" : "");
		} else if (diff.len > 0) {
			it->action = OPN_UPDATE;
			it->why = strbuf_steal(&diff);
		} else
			it->action = OPN_UNCHANGED;
	}
	strbuf_done(&diff);
	str_array_free(want, nw);
	str_array_free(held, a->ncontent);
	item_finish(it);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct opn_item *x = a, *y = b;
	int c = str_casecmp(x->device, y->device);

	if (c != 0)
		return c;
	if ((c = strcmp(x->mac, y->mac)) != 0)
		return c;
	return (int)x->action - (int)y->action;
}

/* The address item it's record holds on the firewall now, or "" (not an own record). */
static const char *
held_ip(const struct opn_state *st, const struct opn_item *it)
{
	for (size_t i = 0; it->uuid[0] != '\0' && i < st->nrecords; i++)
		if (strcmp(st->records[i].uuid, it->uuid) == 0)
			return st->records[i].ip;
	return "";
}

/*
 * The own record of a device in conflict is left as it is, so its address stays taken: an add
 * or update of another device to that address would be refused by the firewall and stop the
 * sync, so it is a conflict too. That in turn keeps its own record in place, so this repeats
 * until nothing changes (conflicts are few: each round looks only at them).
 */
static void
plan_kept_addresses(struct opn_plan *p, const struct opn_state *st)
{
	size_t *kept = xcalloc(p->nitems + 1, sizeof *kept), nkept;
	const char **ip = xcalloc(p->nitems + 1, sizeof *ip); /* kept[k] holds ip[k] */
	int changed = 1;

	while (changed) {
		changed = 0;
		nkept = 0;
		for (size_t j = 0; j < p->nitems; j++)
			if (p->items[j].kind == OPN_RESERVATION &&
			    p->items[j].action == OPN_CONFLICT &&
			    (ip[nkept] = held_ip(st, &p->items[j]))[0] != '\0')
				kept[nkept++] = j;
		for (size_t i = 0; i < p->nitems; i++) {
			struct opn_item *it = &p->items[i];

			if (it->kind != OPN_RESERVATION ||
			    (it->action != OPN_ADD && it->action != OPN_UPDATE))
				continue;
			for (size_t k = 0; k < nkept; k++) {
				const struct opn_item *by = &p->items[kept[k]];

				if (strcmp(ip[k], it->ip) != 0)
					continue;
				it->action = OPN_CONFLICT;
				free(it->why);
				it->why =
				    xasprintf("address %s is held by the reservation of %s "
				              "(record %s), left as it is while that device is "
				              "in conflict",
				        it->ip, by->device, by->uuid);
				changed = 1;
				break;
			}
		}
	}
	free(ip);
	free(kept);
}

/*
 * For each update, the update whose record holds the address it moves to (SIZE_MAX: none).
 * Devices' addresses are unique (else a conflict), so each update waits for one other at most
 * and the waits form chains and cycles. Quadratic, as a plan of 1000 devices allows.
 */
static size_t *
blockers_of(const struct opn_state *st, const struct opn_plan *p)
{
	size_t *b = xcalloc(p->nitems + 1, sizeof *b);
	const char **held = xcalloc(p->nitems + 1, sizeof *held);

	for (size_t i = 0; i < p->nitems; i++) {
		const struct opn_item *it = &p->items[i];

		b[i] = SIZE_MAX;
		held[i] =
		    it->kind == OPN_RESERVATION && it->action == OPN_UPDATE ? held_ip(st, it) : "";
		if (strcmp(held[i], it->ip) == 0)
			held[i] = ""; /* not moving: frees nothing */
	}
	for (size_t i = 0; i < p->nitems; i++)
		for (size_t j = 0; held[i][0] != '\0' && j < p->nitems; j++)
			if (j != i && p->items[j].action == OPN_UPDATE &&
			    strcmp(held[i], p->items[j].ip) == 0)
				b[j] = i;
	free(held);
	return b;
}

static void
write_add(struct opn_plan *p, size_t i)
{
	p->writes[p->nwrites++] = i;
}

/* Appends more (taken) to the note of it. */
static void
why_append(struct opn_item *it, char *more)
{
	char *why = xasprintf("%s%s%s", it->why, it->why[0] != '\0' ? "; " : "", more);

	free(it->why);
	it->why = why;
	free(more);
}

/*
 * The updates in an order the firewall accepts: each after the one that frees its address.
 * Walking from each update to the one it waits for, then writing the walk backwards, gives
 * that order; a walk that comes back on itself is a cycle (a swap), broken by re-adding the
 * update it came back to: removed before every update, so its address is free, and added
 * after all of them, when its new address is.
 */
static void
order_updates(struct opn_plan *p, const size_t *b, size_t *ups, size_t *nups)
{
	unsigned char *state = xcalloc(p->nitems + 1, 1); /* 1: on the walk, 2: placed */
	size_t *walk = xcalloc(p->nitems + 1, sizeof *walk), n;

	for (size_t i = 0; i < p->nitems; i++) {
		size_t x = i;

		if (p->items[i].kind != OPN_RESERVATION || p->items[i].action != OPN_UPDATE)
			continue;
		for (n = 0; x != SIZE_MAX && state[x] == 0; x = b[x]) {
			state[x] = 1;
			walk[n++] = x;
		}
		if (x != SIZE_MAX && state[x] == 1) {
			p->items[x].readd = 1;
			why_append(&p->items[x],
			    xasprintf("removed first and added again after the other updates: %s "
			              "waits for %s, a cycle of address moves",
			        p->items[x].ip, p->items[b[x]].device));
		}
		while (n > 0) {
			x = walk[--n];
			state[x] = 2;
			if (p->items[x].readd)
				continue;
			if (b[x] != SIZE_MAX)
				why_append(
				    &p->items[x], xasprintf("written after %s leaves %s",
				                      p->items[b[x]].device, p->items[x].ip));
			ups[(*nups)++] = x;
		}
	}
	free(walk);
	free(state);
}

/* The order of the writes (opn_plan.writes). */
static void
plan_writes(struct opn_plan *p, const struct opn_state *st)
{
	size_t *b, *ups = xcalloc(p->nitems + 1, sizeof *ups), nups = 0;

	plan_kept_addresses(p, st);
	b = blockers_of(st, p);
	order_updates(p, b, ups, &nups);
	p->writes = xcalloc(2 * p->nitems + 1, sizeof *p->writes);
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].kind == OPN_RESERVATION && p->items[i].action == OPN_REMOVE)
			write_add(p, i);
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].readd)
			write_add(p, i);
	for (size_t k = 0; k < nups; k++)
		write_add(p, ups[k]);
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].kind == OPN_RESERVATION && p->items[i].action == OPN_ADD)
			write_add(p, i);
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].readd)
			write_add(p, i);
	free(ups);
	free(b);
}

struct opn_plan *
opn_plan_compute(const struct opn_state *st, const struct opn_device *devs, size_t ndevs, int dhcp,
    const char *alias_name)
{
	struct opn_plan *p = xcalloc(1, sizeof *p);
	struct want *w = xcalloc(ndevs + 1, sizeof *w);

	p->backend = st->backend;
	p->dhcp = dhcp;
	for (size_t i = 0; i < ndevs; i++)
		want_init(st, &devs[i], &w[i]);
	make_unique(st, w, ndevs);
	if (dhcp) {
		for (size_t i = 0; i < ndevs; i++)
			plan_device(p, st, &w[i], w, ndevs);
		plan_removals(p, st, devs, ndevs);
		if (p->nitems > 1)
			qsort(p->items, p->nitems, sizeof *p->items, item_cmp);
		plan_writes(p, st);
	}
	if (alias_name != NULL)
		plan_alias(p, st, w, ndevs, alias_name);
	free(w);
	return p;
}

void
opn_plan_free(struct opn_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->nitems; i++) {
		struct opn_item *it = &plan->items[i];

		free(it->device);
		free(it->hostname);
		free(it->ip);
		free(it->subnet);
		free(it->subnet_text);
		free(it->uuid);
		free(it->descr);
		free(it->content);
		free(it->why);
		free(it->error);
	}
	free(plan->items);
	free(plan->writes);
	free(plan);
}

size_t
opn_plan_count(const struct opn_plan *plan, enum opn_action a)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nitems; i++)
		n += plan->items[i].action == a;
	return n;
}

size_t
opn_plan_changes(const struct opn_plan *plan, enum opn_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nitems; i++) {
		enum opn_action a = plan->items[i].action;

		n += plan->items[i].kind == kind &&
		     (a == OPN_ADD || a == OPN_UPDATE || a == OPN_REMOVE);
	}
	return n;
}

/* The word shown for an item: planned action, or what became of it. */
static const char *
item_word(const struct opn_item *it, int done)
{
	if (!done || it->action == OPN_UNCHANGED || it->action == OPN_CONFLICT)
		return done ? opn_action_name(it->action) : opn_action_planned(it->action);
	switch (it->outcome) {
	case OPN_APPLIED:
		return opn_action_name(it->action);
	case OPN_FAILED:
		return "failed";
	case OPN_NOT_RUN:
		return "not-applied";
	case OPN_PLANNED:
		break;
	}
	return opn_action_planned(it->action);
}

/* Items with action a; once applied (done), only those that were. */
static size_t
count_done(const struct opn_plan *plan, enum opn_action a, int done)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nitems; i++)
		n += plan->items[i].action == a && (!done || plan->items[i].outcome == OPN_APPLIED);
	return n;
}

void
opn_plan_format(const struct opn_plan *plan, int done, struct strbuf *out)
{
	char mac[18];
	size_t failed = 0;

	for (size_t i = 0; done && i < plan->nitems; i++)
		failed +=
		    plan->items[i].outcome == OPN_FAILED || plan->items[i].outcome == OPN_NOT_RUN;

	for (size_t i = 0; i < plan->nitems; i++) {
		const struct opn_item *it = &plan->items[i];
		const char *note = it->error[0] != '\0' ? it->error : it->why;

		if (it->kind == OPN_ALIAS)
			strbuf_appendf(
			    out, "%-11s alias %s  %s", item_word(it, done), it->device, it->ip);
		else
			strbuf_appendf(out, "%-11s %s  %s  %s  %s", item_word(it, done), it->device,
			    it->hostname[0] != '\0' ? it->hostname : "-",
			    it->ip[0] != '\0' ? it->ip : "-",
			    opn_mac_format(it->mac, mac, sizeof mac));
		if (note[0] != '\0')
			strbuf_appendf(out, "  (%s)", note);
		strbuf_append_char(out, '\n');
	}
	strbuf_appendf(out,
	    done ? "%zu added, %zu updated, %zu removed, %zu unchanged, %zu conflicts%s\n"
	         : "%zu to add, %zu to update, %zu to remove, %zu unchanged, %zu conflicts%s\n",
	    count_done(plan, OPN_ADD, done), count_done(plan, OPN_UPDATE, done),
	    count_done(plan, OPN_REMOVE, done), opn_plan_count(plan, OPN_UNCHANGED),
	    opn_plan_count(plan, OPN_CONFLICT), failed > 0 ? ", some changes failed" : "");
}
