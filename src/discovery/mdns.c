/*
 * mDNS browsing for Shelly devices through avahi-daemon, on our loop.
 *
 * A session is one AvahiClient: two service browsers (_shelly._tcp, _http._tcp), one resolver
 * per new instance name, a table of instances seen (so an instance announced on several
 * interfaces or protocols is resolved once) and a table of candidates keyed by (address,
 * port). A reconnect ends the session and starts a fresh one.
 */
#include "discovery/mdns.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery/avahi_lib.h"
#include "discovery/avahi_poll.h"
#include "util/guard.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Bounds against a flooding network: instances and candidates kept per session. */
#define MDNS_MAX_SEEN 8192
#define MDNS_MAX_CANDIDATES 8192

#define MDNS_NTYPES 2
static const char *const mdns_types[MDNS_NTYPES] = { MDNS_TYPE_SHELLY, MDNS_TYPE_HTTP };

/*
 * The TXT keys kept. Bit i of struct mdns_txt.keys says that txt_keys[i] was seen (the first
 * occurrence wins). gen is a number; the others are strings of MDNS_VALUE_MAX at offset.
 */
static const struct {
	const char *key;
	size_t offset; /* of the string in struct mdns_txt; 0 for gen */
} txt_keys[] = {
	{ "gen", 0 },
	{ "id", offsetof(struct mdns_txt, id) },
	{ "app", offsetof(struct mdns_txt, app) },
	{ "ver", offsetof(struct mdns_txt, ver) },
	{ "fw_id", offsetof(struct mdns_txt, fw_id) },
	{ "arch", offsetof(struct mdns_txt, arch) },
};

/* One of the two service browsers of a session (its own userdata, so events need no lookup). */
struct mdns_browser {
	struct mdns *m;
	int k; /* index in mdns_types */
	AvahiServiceBrowser *b;
	bool done; /* said "all for now" (or failed) */
};

/* One instance (name, type, domain) of this session; r is set while it is being resolved. */
struct mdns_seen {
	struct mdns *m;
	char name[MDNS_NAME_MAX];
	char type[MDNS_TYPE_MAX];
	char domain[MDNS_HOST_MAX];
	AvahiServiceResolver *r;
};

struct mdns {
	struct loop *loop;
	struct mdns_cbs cbs;
	unsigned retry_ms;
	struct avahi_poll *poll;
	struct loop_timer *connect_timer;

	enum mdns_state state;
	char *status;
	unsigned sessions;

	/* The session. */
	AvahiClient *client;
	bool browsing;
	struct mdns_browser browsers[MDNS_NTYPES];
	unsigned pending; /* resolvers in flight */
	bool afn_reported;
	bool seen_full_logged;
	size_t ignored;
	struct mdns_seen **seen;
	size_t nseen;
	struct mdns_candidate **cands;
	size_t ncands;
};

/* ---- pure helpers ---- */

static void
copy_str(char *dst, size_t size, const char *src)
{
	str_copy(dst, size, src != NULL ? src : "");
}

void
mdns_txt_init(struct mdns_txt *t)
{
	memset(t, 0, sizeof *t);
}

static bool
key_is(const char *key, size_t klen, const char *want)
{
	return klen == strlen(want) && strncasecmp(key, want, klen) == 0;
}

/* gen=N with N one or two digits, 1..99; anything else is 0. */
static int
parse_gen(const char *v, size_t len)
{
	int n = 0;

	if (len == 0 || len > 2)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

void
mdns_txt_add(struct mdns_txt *t, const void *item, size_t len)
{
	const char *s = item, *eq, *v;
	size_t klen, vlen;

	if (s == NULL || len == 0)
		return;
	eq = memchr(s, '=', len);
	if (eq == NULL || eq == s)
		return; /* a boolean attribute, or no key */
	klen = (size_t)(eq - s);
	v = eq + 1;
	vlen = len - klen - 1;

	for (unsigned i = 0; i < sizeof txt_keys / sizeof txt_keys[0]; i++) {
		if (!key_is(s, klen, txt_keys[i].key))
			continue;
		if (t->keys & (1u << i))
			return;
		t->keys |= 1u << i;
		if (txt_keys[i].offset == 0) {
			t->has_gen = true;
			t->gen = parse_gen(v, vlen);
		} else {
			str_copyn((char *)t + txt_keys[i].offset, MDNS_VALUE_MAX, v, vlen);
		}
		return;
	}
}

static bool
starts_shelly(const char *s)
{
	return s != NULL && strncasecmp(s, "shelly", 6) == 0;
}

bool
mdns_keep(const char *type, const char *name, const struct mdns_txt *t)
{
	if (type != NULL && strcasecmp(type, MDNS_TYPE_SHELLY) == 0)
		return true;
	if (starts_shelly(name))
		return true;
	if (t != NULL && (t->has_gen || starts_shelly(t->id)))
		return true;
	return false;
}

int
mdns_gen_hint(const struct mdns_txt *t)
{
	if (t->has_gen)
		return t->gen;
	if (t->id[0] != '\0' || t->arch[0] != '\0')
		return 1;
	return 0;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
mdns_id_from_name(const char *name, char *out, size_t size)
{
	size_t n, dash, hex;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n >= 6 && strncasecmp(name + n - 6, ".local", 6) == 0)
		n -= 6;
	if (n < 6 || !starts_shelly(name))
		return false;
	for (dash = n; dash > 0 && name[dash - 1] != '-'; dash--)
		;
	if (dash == 0)
		return false;
	dash--; /* index of the last '-' */
	if (dash <= 6)
		return false; /* no model between "shelly" and the '-' */
	hex = n - dash - 1;
	if (hex != 6 && hex != 12)
		return false;
	for (size_t i = dash + 1; i < n; i++)
		if (!is_hex(name[i]))
			return false;
	for (size_t i = 6; i < dash; i++)
		if (!is_alnum(name[i]) && name[i] != '-')
			return false;
	if (n + 1 > size)
		return false;
	memcpy(out, name, n);
	out[n] = '\0';
	return true;
}

void
mdns_candidate_fill(struct mdns_candidate *c, const char *name, const char *type,
    const char *host, const char *address, uint16_t port, const struct mdns_txt *t)
{
	memset(c, 0, sizeof *c);
	copy_str(c->name, sizeof c->name, name);
	copy_str(c->type, sizeof c->type, type);
	copy_str(c->host, sizeof c->host, host);
	copy_str(c->address, sizeof c->address, address);
	c->port = port;
	if (t == NULL)
		return;
	c->gen = mdns_gen_hint(t);
	copy_str(c->app, sizeof c->app, t->app);
	copy_str(c->ver, sizeof c->ver, t->ver);
	copy_str(c->fw_id, sizeof c->fw_id, t->fw_id);
	if (t->id[0] != '\0')
		copy_str(c->id, sizeof c->id, t->id);
	else if (!mdns_id_from_name(c->name, c->id, sizeof c->id))
		(void)mdns_id_from_name(c->host, c->id, sizeof c->id);
}

static void
fill_empty(char *dst, size_t size, const char *src)
{
	if (dst[0] == '\0' && src[0] != '\0')
		copy_str(dst, size, src);
}

void
mdns_candidate_merge(struct mdns_candidate *into, const struct mdns_candidate *from)
{
	if (into->gen == 0)
		into->gen = from->gen;
	fill_empty(into->app, sizeof into->app, from->app);
	fill_empty(into->ver, sizeof into->ver, from->ver);
	fill_empty(into->id, sizeof into->id, from->id);
	fill_empty(into->fw_id, sizeof into->fw_id, from->fw_id);
	fill_empty(into->host, sizeof into->host, from->host);
}

/* ---- state and status ---- */

static void set_status(struct mdns *m, enum mdns_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_status(struct mdns *m, enum mdns_state state, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = xstrdup("mDNS status unknown");
	va_end(ap);
	if (m->state == state && m->status != NULL && strcmp(m->status, s) == 0) {
		free(s);
		return;
	}
	free(m->status);
	m->status = s;
	m->state = state;
	if (state == MDNS_UNAVAILABLE)
		log_warn("%s", s);
	else
		log_info("%s", s);
	if (m->cbs.status_cb != NULL)
		m->cbs.status_cb(state, m->status, m->cbs.arg);
}

static void
check_all_for_now(struct mdns *m)
{
	if (m->afn_reported || !m->browsing || m->pending != 0)
		return;
	for (int k = 0; k < MDNS_NTYPES; k++)
		if (!m->browsers[k].done)
			return;
	m->afn_reported = true;
	log_debug("mDNS: all for now (%zu candidates, %zu ignored)", m->ncands, m->ignored);
	if (m->cbs.all_for_now_cb != NULL)
		m->cbs.all_for_now_cb(m->cbs.arg);
}

/* ---- sessions ---- */

/* libavahi-client's functions, set by the first connect (every avahi call follows one). */
static const struct avahi_lib *av;

/* Frees the client (with its browsers and resolvers, no callbacks) and the session tables. */
static void
session_end(struct mdns *m)
{
	if (m->client != NULL)
		av->client_free(m->client);
	m->client = NULL;
	m->browsing = false;
	for (int k = 0; k < MDNS_NTYPES; k++) {
		m->browsers[k].b = NULL;
		m->browsers[k].done = false;
	}
	for (size_t i = 0; i < m->nseen; i++)
		free(m->seen[i]);
	free(m->seen);
	m->seen = NULL;
	m->nseen = 0;
	for (size_t i = 0; i < m->ncands; i++)
		free(m->cands[i]);
	free(m->cands);
	m->cands = NULL;
	m->ncands = 0;
	m->pending = 0;
	m->afn_reported = false;
	m->seen_full_logged = false;
	m->ignored = 0;
}

static struct mdns_seen *
seen_find(struct mdns *m, const char *name, const char *type, const char *domain, size_t *idx)
{
	for (size_t i = 0; i < m->nseen; i++) {
		struct mdns_seen *e = m->seen[i];

		/* DNS names compare case-insensitively. */
		if (strcasecmp(e->name, name) == 0 && strcasecmp(e->type, type) == 0 &&
		    strcasecmp(e->domain, domain) == 0) {
			if (idx != NULL)
				*idx = i;
			return e;
		}
	}
	return NULL;
}

static void
found(struct mdns *m, const char *name, const char *type, const char *host,
    const AvahiAddress *a, uint16_t port, AvahiStringList *txt)
{
	char addr[AVAHI_ADDRESS_STR_MAX];
	struct mdns_txt t;
	struct mdns_candidate c;

	if (a == NULL || a->proto != AVAHI_PROTO_INET) {
		log_debug("mDNS: %s.%s has no IPv4 address", name, type);
		return;
	}
	av->address_snprint(addr, sizeof addr, a);
	mdns_txt_init(&t);
	for (AvahiStringList *l = txt; l != NULL; l = av->string_list_get_next(l))
		mdns_txt_add(&t, av->string_list_get_text(l), av->string_list_get_size(l));
	if (!mdns_keep(type, name, &t)) {
		m->ignored++;
		log_debug("mDNS: ignoring %s.%s at %s:%u (not a Shelly)", name, type, addr, port);
		return;
	}
	mdns_candidate_fill(&c, name, type, host, addr, port, &t);
	for (size_t i = 0; i < m->ncands; i++) {
		struct mdns_candidate *o = m->cands[i];

		if (o->port == c.port && strcmp(o->address, c.address) == 0) {
			mdns_candidate_merge(o, &c);
			return;
		}
	}
	if (m->ncands >= MDNS_MAX_CANDIDATES) {
		log_warn("mDNS: more than %d candidates, ignoring %s", MDNS_MAX_CANDIDATES, addr);
		return;
	}
	m->cands = xreallocarray(m->cands, m->ncands + 1, sizeof *m->cands);
	m->cands[m->ncands] = xmalloc(sizeof c);
	*m->cands[m->ncands] = c;
	m->ncands++;
	log_debug("mDNS: found %s.%s at %s:%u gen %d", name, type, addr, port, c.gen);
	if (m->cbs.found_cb != NULL)
		m->cbs.found_cb(&c, m->cbs.arg);
}

static void
resolve_cb(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
    AvahiResolverEvent event, const char *name, const char *type, const char *domain,
    const char *host, const AvahiAddress *a, uint16_t port, AvahiStringList *txt,
    AvahiLookupResultFlags flags, void *arg)
{
	struct mdns_seen *e = arg;
	struct mdns *m = e->m;

	(void)iface;
	(void)proto;
	(void)domain;
	(void)flags;
	if (event == AVAHI_RESOLVER_FOUND && name != NULL && type != NULL)
		found(m, name, type, host, a, port, txt);
	else
		log_debug("mDNS: cannot resolve %s.%s: %s", e->name, e->type,
		    av->strerror(av->client_errno(av->resolver_get_client(r))));
	/* Safe here: avahi's own examples free the resolver in its callback. */
	av->resolver_free(r);
	e->r = NULL;
	if (m->pending > 0)
		m->pending--;
	check_all_for_now(m);
}

static void
browse_new(struct mdns *m, AvahiClient *c, AvahiIfIndex iface, AvahiProtocol proto,
    const char *name, const char *type, const char *domain)
{
	struct mdns_seen *e;

	if (seen_find(m, name, type, domain, NULL) != NULL)
		return; /* same instance on another interface or protocol */
	if (m->nseen >= MDNS_MAX_SEEN) {
		if (!m->seen_full_logged)
			log_warn("mDNS: more than %d instances, ignoring the rest", MDNS_MAX_SEEN);
		m->seen_full_logged = true;
		return;
	}
	e = xcalloc(1, sizeof *e);
	e->m = m;
	copy_str(e->name, sizeof e->name, name);
	copy_str(e->type, sizeof e->type, type);
	copy_str(e->domain, sizeof e->domain, domain);
	m->seen = xreallocarray(m->seen, m->nseen + 1, sizeof *m->seen);
	m->seen[m->nseen++] = e;
	e->r = av->resolver_new(c, iface, proto, name, type, domain, AVAHI_PROTO_INET, 0,
	    resolve_cb, e);
	if (e->r == NULL) {
		log_debug("mDNS: cannot resolve %s.%s: %s", name, type,
		    av->strerror(av->client_errno(c)));
		return;
	}
	m->pending++;
}

static void
browse_remove(struct mdns *m, const char *name, const char *type, const char *domain)
{
	struct mdns_seen *e;
	size_t i;

	/* Forget it, so that it is resolved again when it comes back (maybe elsewhere). */
	if ((e = seen_find(m, name, type, domain, &i)) == NULL)
		return;
	if (e->r != NULL) {
		av->resolver_free(e->r);
		if (m->pending > 0)
			m->pending--;
	}
	free(e);
	m->seen[i] = m->seen[--m->nseen];
	check_all_for_now(m);
}

static void
browse_cb(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
    AvahiBrowserEvent event, const char *name, const char *type, const char *domain,
    AvahiLookupResultFlags flags, void *arg)
{
	struct mdns_browser *br = arg;
	struct mdns *m = br->m;

	(void)flags;
	switch (event) {
	case AVAHI_BROWSER_NEW:
		if (name != NULL && type != NULL && domain != NULL)
			browse_new(m, av->browser_get_client(b), iface, proto, name, type,
			    domain);
		break;
	case AVAHI_BROWSER_REMOVE:
		if (name != NULL && type != NULL && domain != NULL)
			browse_remove(m, name, type, domain);
		break;
	case AVAHI_BROWSER_CACHE_EXHAUSTED:
		break;
	case AVAHI_BROWSER_FAILURE:
		log_warn("mDNS: browsing %s failed: %s", mdns_types[br->k],
		    av->strerror(av->client_errno(av->browser_get_client(b))));
		/* FALLTHROUGH */
	case AVAHI_BROWSER_ALL_FOR_NOW:
		br->done = true;
		check_all_for_now(m);
		break;
	}
}

static void
start_browsing(struct mdns *m, AvahiClient *c)
{
	m->browsing = true;
	m->sessions++;
	for (int k = 0; k < MDNS_NTYPES; k++) {
		struct mdns_browser *br = &m->browsers[k];

		br->m = m;
		br->k = k;
		br->done = false;
		br->b = av->browser_new(c, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
		    mdns_types[k], NULL, 0, browse_cb, br);
		if (br->b == NULL) {
			log_warn("mDNS: cannot browse %s: %s", mdns_types[k],
			    av->strerror(av->client_errno(c)));
			br->done = true;
		}
	}
	set_status(m, MDNS_BROWSING, "mDNS browsing %s and %s", mdns_types[0], mdns_types[1]);
	check_all_for_now(m);
}

static void
client_cb(AvahiClient *c, AvahiClientState state, void *arg)
{
	struct mdns *m = arg;

	/* May run inside avahi_client_new, before m->client is set: use c. */
	switch (state) {
	case AVAHI_CLIENT_S_REGISTERING:
	case AVAHI_CLIENT_S_RUNNING:
	case AVAHI_CLIENT_S_COLLISION:
		if (!m->browsing)
			start_browsing(m, c);
		break;
	case AVAHI_CLIENT_FAILURE:
		/* Not freed here (we are inside avahi's D-Bus dispatch): the connect timer does. */
		set_status(m, MDNS_UNAVAILABLE, "mDNS unavailable: %s; scanning still works",
		    av->strerror(av->client_errno(c)));
		if (m->retry_ms > 0)
			loop_timer_arm(m->connect_timer, m->retry_ms);
		break;
	case AVAHI_CLIENT_CONNECTING:
		break;
	}
}

static void
connect_cb(void *arg)
{
	struct mdns *m = arg;
	AvahiClient *c;
	const char *why;
	int err = 0;

	session_end(m);
	/* Loaded here, not at start: only a process that browses pays for the library. */
	if (av == NULL && (av = avahi_lib_get(&why)) == NULL) {
		set_status(m, MDNS_UNAVAILABLE, "mDNS unavailable: %s; scanning still works", why);
		return; /* no retry: the library will not appear while we run */
	}
	c = av->client_new(avahi_poll_get(m->poll), 0, client_cb, m, &err);
	if (c == NULL) {
		set_status(m, MDNS_UNAVAILABLE, "mDNS unavailable: %s; scanning still works",
		    av->strerror(err));
		if (m->retry_ms > 0)
			loop_timer_arm(m->connect_timer, m->retry_ms);
		return;
	}
	m->client = c;
}

/* ---- public ---- */

struct mdns *
mdns_new(struct loop *loop, const struct mdns_cbs *cbs, unsigned retry_ms)
{
	struct mdns *m = xcalloc(1, sizeof *m);

	m->loop = loop;
	if (cbs != NULL)
		m->cbs = *cbs;
	m->retry_ms = retry_ms;
	m->poll = avahi_poll_new(loop);
	m->state = MDNS_STARTING;
	m->status = xstrdup("mDNS starting");
	m->connect_timer = loop_timer_new(loop, connect_cb, m);
	loop_timer_arm(m->connect_timer, 0);
	return m;
}

void
mdns_free(struct mdns *m)
{
	if (m == NULL)
		return;
	session_end(m);
	loop_timer_free(m->connect_timer);
	avahi_poll_free(m->poll);
	free(m->status);
	free(m);
}

enum mdns_state
mdns_state(const struct mdns *m)
{
	return m->state;
}

const char *
mdns_status(const struct mdns *m)
{
	return m->status;
}

unsigned
mdns_sessions(const struct mdns *m)
{
	return m->sessions;
}

bool
mdns_all_for_now(const struct mdns *m)
{
	return m->afn_reported;
}

size_t
mdns_ignored(const struct mdns *m)
{
	return m->ignored;
}

size_t
mdns_count(const struct mdns *m)
{
	return m->ncands;
}

const struct mdns_candidate *
mdns_candidate(const struct mdns *m, size_t i)
{
	return i < m->ncands ? m->cands[i] : NULL;
}
