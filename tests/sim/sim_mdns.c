/*
 * shelly-sim's mDNS publisher: one avahi entry group per simulated device, published like the
 * captures in tests/fixtures/mdns/, on the loopback interface only.
 */
#include "sim_mdns.h"

#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>

#include "discovery/avahi_poll.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define SIM_MDNS_RETRY_MS 200
#define SIM_MDNS_MAX_RENAMES 10

struct sim_entry {
	struct sim_mdns *s;
	bool other;
	int gen;
	char *id;               /* device id, or the other service's instance name */
	char *app, *ver, *fw_id, *arch;
	char *type;             /* other: its service type */
	char **txt;             /* other: TXT items */
	int ntxt;
	AvahiAddress addr;
	uint16_t port;
	bool reverse;           /* publish the reverse PTR for addr */

	/* Names as published now: collisions replace them with avahi's alternatives. */
	char *svc;              /* instance name */
	char *fsvc;             /* friendly instance name, or NULL */
	char *host;             /* host label, ".local" is appended */
	char *fhost;            /* friendly host label, or NULL */
	unsigned renames;

	AvahiEntryGroup *g;
	bool established;
	struct sim_entry *next;
};

struct sim_mdns {
	struct loop *loop;
	struct avahi_poll *poll;
	AvahiClient *client;
	bool running;
	bool counted;           /* this client's S_RUNNING was counted in sessions */
	unsigned sessions;
	unsigned retry_ms;
	struct loop_timer *retry_timer;
	AvahiIfIndex ifindex;   /* loopback */
	struct sim_entry *entries;
	void (*ready_cb)(void *arg);
	void *ready_arg;
	bool ready_reported;
};

static void publish_entry(struct sim_entry *e, AvahiClient *c);

static void
set_cause(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = xstrdup("sim_mdns: error");
	va_end(ap);
	*cause = s;
}

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static char *
dup_or_null(const char *s)
{
	return empty(s) ? NULL : xstrdup(s);
}

/* "Kitchen Pro 4PM" -> "Kitchen-Pro-4PM", as devices derive the host of their friendly name. */
static char *
host_label(const char *name)
{
	char *h = xstrdup(name);
	size_t n;

	for (char *p = h; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			*p = '-';
	}
	n = strlen(h);
	if (n > 63)
		h[63] = '\0';
	return h;
}

static void
entry_free(struct sim_entry *e)
{
	free(e->id);
	free(e->app);
	free(e->ver);
	free(e->fw_id);
	free(e->arch);
	free(e->type);
	for (int i = 0; i < e->ntxt; i++)
		free(e->txt[i]);
	free(e->txt);
	free(e->svc);
	free(e->fsvc);
	free(e->host);
	free(e->fhost);
	free(e);
}

static void
check_ready(struct sim_mdns *s)
{
	if (s->ready_reported || !s->running || s->entries == NULL)
		return;
	for (struct sim_entry *e = s->entries; e != NULL; e = e->next)
		if (!e->established)
			return;
	s->ready_reported = true;
	log_debug("sim mDNS: everything published");
	if (s->ready_cb != NULL)
		s->ready_cb(s->ready_arg);
}

/* Replaces *name by avahi's alternative (service or host flavour). */
static void
rename_one(char **name, bool host)
{
	char *alt;

	if (*name == NULL)
		return;
	alt = host ? avahi_alternative_host_name(*name) : avahi_alternative_service_name(*name);
	if (alt == NULL)
		return;
	free(*name);
	*name = xstrdup(alt);
	avahi_free(alt);
}

static bool
entry_rename(struct sim_entry *e)
{
	if (++e->renames > SIM_MDNS_MAX_RENAMES) {
		log_error("sim mDNS: %s: still colliding after %d renames, giving up", e->id,
		    SIM_MDNS_MAX_RENAMES);
		return false;
	}
	rename_one(&e->svc, false);
	rename_one(&e->fsvc, false);
	rename_one(&e->host, true);
	rename_one(&e->fhost, true);
	log_warn("sim mDNS: name collision, %s is now published as \"%s\" on %s.local", e->id,
	    e->svc, e->host);
	return true;
}

static int
add_address(struct sim_entry *e, AvahiEntryGroup *g, const char *label, bool reverse)
{
	char fqdn[AVAHI_DOMAIN_NAME_MAX];

	snprintf(fqdn, sizeof fqdn, "%s.local", label);
	return avahi_entry_group_add_address(g, e->s->ifindex, AVAHI_PROTO_INET,
	    reverse ? 0 : AVAHI_PUBLISH_NO_REVERSE, fqdn, &e->addr);
}

static int
add_service(struct sim_entry *e, AvahiEntryGroup *g, const char *name, const char *type,
    const char *host_label_, AvahiStringList *txt)
{
	char fqdn[AVAHI_DOMAIN_NAME_MAX];

	snprintf(fqdn, sizeof fqdn, "%s.local", host_label_);
	return avahi_entry_group_add_service_strlst(g, e->s->ifindex, AVAHI_PROTO_INET, 0, name,
	    type, NULL, fqdn, e->port, txt);
}

/* Appends "key=value" to l when value is set (avahi lists are built backwards; see below). */
static AvahiStringList *
txt_kv(AvahiStringList *l, const char *key, const char *value)
{
	if (empty(value))
		return l;
	return avahi_string_list_add_pair(l, key, value);
}

/* Adds e's records to g; returns AVAHI_OK or an avahi error (AVAHI_ERR_COLLISION included). */
static int
entry_add(struct sim_entry *e, AvahiEntryGroup *g)
{
	AvahiStringList *full = NULL, *genonly = NULL;
	char gen[8];
	int r;

	if ((r = add_address(e, g, e->host, e->reverse)) < 0)
		return r;
	if (e->other) {
		for (int i = 0; i < e->ntxt; i++)
			full = avahi_string_list_add(full, e->txt[i]);
		full = avahi_string_list_reverse(full);
		r = add_service(e, g, e->svc, e->type, e->host, full);
		avahi_string_list_free(full);
		return r;
	}
	if (e->gen == 1) {
		/* Gen1, in the order of the captures. */
		full = txt_kv(full, "id", e->id);
		full = txt_kv(full, "arch", e->arch);
		full = txt_kv(full, "app", e->app);
		full = txt_kv(full, "fw_version", "1.0");
		full = txt_kv(full, "fw_id", e->fw_id);
		full = txt_kv(full, "discoverable", "false");
		full = avahi_string_list_reverse(full);
		r = add_service(e, g, e->svc, "_http._tcp", e->host, full);
		avahi_string_list_free(full);
		return r;
	}
	snprintf(gen, sizeof gen, "%d", e->gen);
	full = txt_kv(full, "gen", gen);
	full = txt_kv(full, "app", e->app);
	full = txt_kv(full, "ver", e->ver);
	full = avahi_string_list_reverse(full);
	genonly = txt_kv(NULL, "gen", gen);
	r = add_service(e, g, e->svc, "_shelly._tcp", e->host, full);
	if (r == AVAHI_OK)
		r = add_service(e, g, e->svc, "_http._tcp", e->host, genonly);
	if (r == AVAHI_OK && e->fsvc != NULL) {
		const char *fh = e->fhost != NULL ? e->fhost : e->host;

		if (e->fhost != NULL)
			r = add_address(e, g, e->fhost, false);
		if (r == AVAHI_OK)
			r = add_service(e, g, e->fsvc, "_shelly._tcp", fh, full);
		if (r == AVAHI_OK)
			r = add_service(e, g, e->fsvc, "_http._tcp", fh, full);
	}
	avahi_string_list_free(full);
	avahi_string_list_free(genonly);
	return r;
}

static void
group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *arg)
{
	struct sim_entry *e = arg;
	struct sim_mdns *s = e->s;

	/* Called once from inside avahi_entry_group_new, before e->g is set: use g. */
	switch (state) {
	case AVAHI_ENTRY_GROUP_ESTABLISHED:
		e->established = true;
		log_debug("sim mDNS: %s published as \"%s\"", e->id, e->svc);
		check_ready(s);
		break;
	case AVAHI_ENTRY_GROUP_COLLISION:
		/* Someone else on the link owns a name: rename and publish again (avahi's way). */
		e->established = false;
		s->ready_reported = false;
		if (entry_rename(e)) {
			e->g = g;
			publish_entry(e, avahi_entry_group_get_client(g));
		}
		break;
	case AVAHI_ENTRY_GROUP_FAILURE:
		log_error("sim mDNS: publishing %s failed: %s", e->id,
		    avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
		break;
	case AVAHI_ENTRY_GROUP_UNCOMMITED:
	case AVAHI_ENTRY_GROUP_REGISTERING:
		break;
	}
}

/* (Re)publishes e through client c: records, renames on local collisions, commit. */
static void
publish_entry(struct sim_entry *e, AvahiClient *c)
{
	int r;

	e->established = false;
	e->s->ready_reported = false;
	if (e->g == NULL) {
		e->g = avahi_entry_group_new(c, group_cb, e);
		if (e->g == NULL) {
			log_error("sim mDNS: cannot create an entry group for %s: %s", e->id,
			    avahi_strerror(avahi_client_errno(c)));
			return;
		}
	} else {
		avahi_entry_group_reset(e->g);
	}
	for (;;) {
		r = entry_add(e, e->g);
		if (r == AVAHI_OK)
			break;
		avahi_entry_group_reset(e->g);
		if (r != AVAHI_ERR_COLLISION || !entry_rename(e)) {
			log_error("sim mDNS: cannot publish %s: %s", e->id, avahi_strerror(r));
			return;
		}
	}
	if ((r = avahi_entry_group_commit(e->g)) < 0)
		log_error("sim mDNS: cannot commit %s: %s", e->id, avahi_strerror(r));
}

static void
publish_all(struct sim_mdns *s, AvahiClient *c)
{
	for (struct sim_entry *e = s->entries; e != NULL; e = e->next)
		if (e->g == NULL || avahi_entry_group_is_empty(e->g))
			publish_entry(e, c);
	check_ready(s);
}

static void
client_cb(AvahiClient *c, AvahiClientState state, void *arg)
{
	struct sim_mdns *s = arg;

	/* May run inside avahi_client_new, before s->client is set: use c. */
	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		s->running = true;
		if (!s->counted) {
			s->counted = true;
			s->sessions++;
		}
		publish_all(s, c);
		break;
	case AVAHI_CLIENT_S_REGISTERING:
	case AVAHI_CLIENT_S_COLLISION:
		/* The daemon is (re)probing its host name: withdraw, publish again when running. */
		s->running = false;
		s->ready_reported = false;
		for (struct sim_entry *e = s->entries; e != NULL; e = e->next) {
			if (e->g != NULL)
				avahi_entry_group_reset(e->g);
			e->established = false;
		}
		break;
	case AVAHI_CLIENT_FAILURE:
		log_warn("sim mDNS: avahi client failed: %s; retrying every %u ms",
		    avahi_strerror(avahi_client_errno(c)), s->retry_ms);
		s->running = false;
		s->ready_reported = false;
		/* The groups die with the client, freed by the retry timer (not in here). */
		for (struct sim_entry *e = s->entries; e != NULL; e = e->next) {
			e->g = NULL;
			e->established = false;
		}
		loop_timer_arm(s->retry_timer, s->retry_ms);
		break;
	case AVAHI_CLIENT_CONNECTING:
		break;
	}
}

static AvahiClient *
connect_client(struct sim_mdns *s, int *err)
{
	AvahiClient *c;

	if (s->client != NULL)
		avahi_client_free(s->client);
	s->client = NULL;
	s->running = false;
	s->counted = false;
	c = avahi_client_new(avahi_poll_get(s->poll), 0, client_cb, s, err);
	s->client = c;
	return c;
}

static void
retry_cb(void *arg)
{
	struct sim_mdns *s = arg;
	int err = 0;

	if (connect_client(s, &err) == NULL) {
		log_debug("sim mDNS: avahi not back yet: %s", avahi_strerror(err));
		loop_timer_arm(s->retry_timer, s->retry_ms);
	}
}

struct sim_mdns *
sim_mdns_new(struct loop *loop, char **cause)
{
	struct sim_mdns *s = xcalloc(1, sizeof *s);
	unsigned idx;
	int err = 0;

	idx = if_nametoindex("lo");
	if (idx == 0) {
		set_cause(cause, "mDNS: no loopback interface \"lo\"");
		free(s);
		return NULL;
	}
	s->loop = loop;
	s->ifindex = (AvahiIfIndex)idx;
	s->retry_ms = SIM_MDNS_RETRY_MS;
	s->poll = avahi_poll_new(loop);
	s->retry_timer = loop_timer_new(loop, retry_cb, s);
	if (connect_client(s, &err) == NULL) {
		set_cause(cause, "mDNS: cannot reach avahi-daemon: %s", avahi_strerror(err));
		sim_mdns_free(s);
		return NULL;
	}
	return s;
}

static struct sim_entry *
find_entry(struct sim_mdns *s, const char *id)
{
	for (struct sim_entry *e = s->entries; e != NULL; e = e->next)
		if (strcasecmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* Parses ipv4 into e->addr; only 127.0.0.0/8 is accepted (tests stay on loopback). */
static int
entry_address(struct sim_entry *e, const char *ipv4, char **cause)
{
	if (empty(ipv4) || avahi_address_parse(ipv4, AVAHI_PROTO_INET, &e->addr) == NULL) {
		set_cause(cause, "mDNS: bad IPv4 address \"%s\"", ipv4 == NULL ? "" : ipv4);
		return -1;
	}
	/* ipv4.address is in network byte order: the first octet is the first byte. */
	if (((const unsigned char *)&e->addr.data.ipv4.address)[0] != 127) {
		set_cause(cause, "mDNS: %s is not a loopback (127/8) address", ipv4);
		return -1;
	}
	e->reverse = true;
	for (struct sim_entry *o = e->s->entries; o != NULL; o = o->next)
		if (o->reverse && o->addr.data.ipv4.address == e->addr.data.ipv4.address)
			e->reverse = false;
	return 0;
}

/* True if another entry publishes name as an instance (host false) or host label (true). */
static bool
name_taken(struct sim_mdns *s, const struct sim_entry *self, const char *name, bool host)
{
	for (const struct sim_entry *o = s->entries; o != NULL; o = o->next) {
		const char *a = host ? o->host : o->svc, *b = host ? o->fhost : o->fsvc;

		if (o == self)
			continue;
		if ((a != NULL && strcasecmp(a, name) == 0) || (b != NULL && strcasecmp(b, name) == 0))
			return true;
	}
	return false;
}

/*
 * Gives e names no other entry of this sim uses (two devices with the same friendly name):
 * avahi does not see conflicts between our own entry groups, so we rename like a device would.
 */
static void
unique_names(struct sim_mdns *s, struct sim_entry *e)
{
	char **names[4] = { &e->svc, &e->fsvc, &e->host, &e->fhost };

	for (int i = 0; i < 4; i++) {
		bool host = i >= 2;

		for (int tries = 0; *names[i] != NULL && tries < 100; tries++) {
			if (!name_taken(s, e, *names[i], host))
				break;
			rename_one(names[i], host);
		}
	}
}

/* Links e and publishes it now if the daemon is running. */
static void
entry_link(struct sim_mdns *s, struct sim_entry *e)
{
	struct sim_entry **pp = &s->entries;

	unique_names(s, e);

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = e;
	s->ready_reported = false;
	if (s->client != NULL && s->running)
		publish_entry(e, s->client);
}

int
sim_mdns_add(struct sim_mdns *s, const struct sim_mdns_device *d, char **cause)
{
	struct sim_entry *e;

	if (d == NULL || empty(d->id) || !avahi_is_valid_host_name(d->id) ||
	    !avahi_is_valid_service_name(d->id)) {
		set_cause(cause, "mDNS: bad device id \"%s\"", d == NULL || d->id == NULL ? "" : d->id);
		return -1;
	}
	if (d->gen < 1 || d->gen > 9) {
		set_cause(cause, "mDNS: %s: bad generation %d", d->id, d->gen);
		return -1;
	}
	if (d->port == 0) {
		set_cause(cause, "mDNS: %s: port 0", d->id);
		return -1;
	}
	if (!empty(d->name) && (d->gen == 1 || !avahi_is_valid_service_name(d->name))) {
		set_cause(cause, "mDNS: %s: %s", d->id,
		    d->gen == 1 ? "Gen1 devices publish no friendly name" : "bad friendly name");
		return -1;
	}
	if (find_entry(s, d->id) != NULL) {
		set_cause(cause, "mDNS: duplicate device id %s", d->id);
		return -1;
	}
	e = xcalloc(1, sizeof *e);
	e->s = s;
	if (entry_address(e, d->ipv4, cause) == -1) {
		free(e);
		return -1;
	}
	e->gen = d->gen;
	e->id = xstrdup(d->id);
	e->app = dup_or_null(d->app);
	e->ver = dup_or_null(d->ver);
	e->fw_id = dup_or_null(d->fw_id);
	e->arch = dup_or_null(d->arch);
	e->port = d->port;
	e->svc = xstrdup(d->id);
	e->host = xstrdup(d->id);
	if (!empty(d->name)) {
		e->fsvc = xstrdup(d->name);
		e->fhost = host_label(d->name);
		if (!avahi_is_valid_host_name(e->fhost)) {
			free(e->fhost);
			e->fhost = NULL; /* the friendly instance then points at "<id>.local" */
		}
	}
	entry_link(s, e);
	return 0;
}

int
sim_mdns_add_other(struct sim_mdns *s, const char *name, const char *type, const char *host,
    const char *ipv4, uint16_t port, const char *const *txt, int ntxt, char **cause)
{
	struct sim_entry *e;

	if (empty(name) || !avahi_is_valid_service_name(name)) {
		set_cause(cause, "mDNS: bad service name \"%s\"", name == NULL ? "" : name);
		return -1;
	}
	if (empty(type) || !avahi_is_valid_service_type_generic(type)) {
		set_cause(cause, "mDNS: bad service type \"%s\"", type == NULL ? "" : type);
		return -1;
	}
	if (port == 0 || ntxt < 0 || (ntxt > 0 && txt == NULL)) {
		set_cause(cause, "mDNS: %s: bad port or TXT", name);
		return -1;
	}
	if (find_entry(s, name) != NULL) {
		set_cause(cause, "mDNS: duplicate name %s", name);
		return -1;
	}
	e = xcalloc(1, sizeof *e);
	e->s = s;
	if (entry_address(e, ipv4, cause) == -1) {
		free(e);
		return -1;
	}
	e->other = true;
	e->id = xstrdup(name);
	e->svc = xstrdup(name);
	e->type = xstrdup(type);
	e->port = port;
	e->host = empty(host) ? host_label(name) : xstrdup(host);
	if (!avahi_is_valid_host_name(e->host)) {
		set_cause(cause, "mDNS: bad host name \"%s\"", e->host);
		entry_free(e);
		return -1;
	}
	if (ntxt > 0) {
		e->txt = xcalloc((size_t)ntxt, sizeof *e->txt);
		for (int i = 0; i < ntxt; i++)
			e->txt[i] = xstrdup(txt[i] == NULL ? "" : txt[i]);
		e->ntxt = ntxt;
	}
	entry_link(s, e);
	return 0;
}

int
sim_mdns_remove(struct sim_mdns *s, const char *id)
{
	struct sim_entry **pp, *e;

	for (pp = &s->entries; *pp != NULL; pp = &(*pp)->next)
		if (strcasecmp((*pp)->id, id) == 0)
			break;
	if ((e = *pp) == NULL)
		return -1;
	*pp = e->next;
	if (e->g != NULL)
		avahi_entry_group_free(e->g);
	entry_free(e);
	check_ready(s);
	return 0;
}

void
sim_mdns_set_retry(struct sim_mdns *s, unsigned ms)
{
	s->retry_ms = ms == 0 ? 1 : ms;
}

void
sim_mdns_set_ready_cb(struct sim_mdns *s, void (*cb)(void *arg), void *arg)
{
	s->ready_cb = cb;
	s->ready_arg = arg;
}

bool
sim_mdns_ready(const struct sim_mdns *s)
{
	if (!s->running)
		return false;
	for (const struct sim_entry *e = s->entries; e != NULL; e = e->next)
		if (!e->established)
			return false;
	return true;
}

unsigned
sim_mdns_sessions(const struct sim_mdns *s)
{
	return s->sessions;
}

void
sim_mdns_free(struct sim_mdns *s)
{
	struct sim_entry *e;

	if (s == NULL)
		return;
	if (s->client != NULL)
		avahi_client_free(s->client); /* frees the entry groups, withdrawing the records */
	while ((e = s->entries) != NULL) {
		s->entries = e->next;
		entry_free(e);
	}
	loop_timer_free(s->retry_timer);
	avahi_poll_free(s->poll);
	free(s);
}
