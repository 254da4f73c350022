/* Who holds each value that must differ per device (engine/cfgholders.h). */
#include "engine/cfgholders.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgdesired.h"
#include "engine/cfgunique.h"
#include "engine/tmplcache.h"
#include "store/store.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define MAXF 4 /* fields that must differ per device (cfgunique_fields), at most */
#define NONE SIZE_MAX

/* What an entry of the hash maps to a device. */
enum kind { K_MAC, K_HOST, K_DESIRED, K_QUEUED = K_DESIRED + MAXF };

struct holder {
	char *mac; /* entries point at the strings of a holder: never inside the array */
	char *label;
	char *host;
	char *desired[MAXF]; /* per cfgunique_fields, NULL: none */
	char *queued[MAXF];
	const char *to; /* the queued wifi.sta.ip (one of queued[]), or NULL */
};

struct entry {
	const char *value; /* a holder's */
	size_t dev;
	int kind;
	bool dead;
	size_t next; /* 1 + the next entry of the bucket, 0: none */
};

struct cfgholders {
	const enum devconfig_field *fields;
	size_t nf, ip; /* ip: the index of wifi.sta.ip in fields */
	struct holder *dev;
	size_t ndev, capdev;
	struct entry *e;
	size_t ne, cape;
	size_t *bucket; /* 1 + the first entry, 0: none */
	size_t nbucket;
};

static size_t
hash(int kind, const char *value, size_t nbucket)
{
	uint64_t x = 1469598103934665603u ^ (uint64_t)kind;

	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		x = (x ^ *p) * 1099511628211u;
	return (size_t)(x & (nbucket - 1));
}

static void
link_entry(struct cfgholders *h, size_t k)
{
	size_t b = hash(h->e[k].kind, h->e[k].value, h->nbucket);

	h->e[k].next = h->bucket[b];
	h->bucket[b] = k + 1;
}

static void
put(struct cfgholders *h, int kind, const char *value, size_t dev)
{
	if (value == NULL)
		return;
	if (h->ne + 1 > h->nbucket) {
		free(h->bucket);
		h->nbucket = h->nbucket ? h->nbucket * 2 : 64;
		h->bucket = xcalloc(h->nbucket, sizeof *h->bucket);
		for (size_t k = 0; k < h->ne; k++)
			if (!h->e[k].dead) /* a dead one's value may be freed */
				link_entry(h, k);
	}
	h->e = xgrowarray(h->e, &h->cape, h->ne, sizeof *h->e);
	h->e[h->ne] = (struct entry){.value = value, .dev = dev, .kind = kind};
	link_entry(h, h->ne++);
}

/* Calls fn(dev, arg) for every live entry (kind, value), newest first. */
static void
each(const struct cfgholders *h, int kind, const char *value, void (*fn)(size_t, void *), void *arg)
{
	if (value == NULL || h->nbucket == 0)
		return;
	for (size_t k = h->bucket[hash(kind, value, h->nbucket)]; k != 0; k = h->e[k - 1].next) {
		const struct entry *e = &h->e[k - 1];
		if (!e->dead && e->kind == kind && strcmp(e->value, value) == 0)
			fn(e->dev, arg);
	}
}

static void
drop_entry(struct cfgholders *h, int kind, const char *value, size_t dev)
{
	if (value == NULL || h->nbucket == 0)
		return;
	for (size_t k = h->bucket[hash(kind, value, h->nbucket)]; k != 0; k = h->e[k - 1].next)
		if (!h->e[k - 1].dead && h->e[k - 1].dev == dev && h->e[k - 1].kind == kind &&
		    strcmp(h->e[k - 1].value, value) == 0)
			h->e[k - 1].dead = true;
}

static void
found_cb(size_t dev, void *arg)
{
	*(size_t *)arg = dev;
}

static size_t
find_dev(const struct cfgholders *h, const char *mac)
{
	size_t dev = NONE;

	each(h, K_MAC, mac, found_cb, &dev);
	return dev;
}

struct cfgholders *
cfgholders_new(void)
{
	struct cfgholders *h = xcalloc(1, sizeof *h);

	h->fields = cfgunique_fields(&h->nf);
	if (h->nf > MAXF)
		abort();
	for (h->ip = 0; h->ip < h->nf && h->fields[h->ip] != DCFG_WIFI_STA_IP; h->ip++)
		;
	return h;
}

void
cfgholders_free(struct cfgholders *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->ndev; i++) {
		free(h->dev[i].mac);
		free(h->dev[i].label);
		free(h->dev[i].host);
		for (size_t f = 0; f < MAXF; f++) {
			free(h->dev[i].desired[f]);
			free(h->dev[i].queued[f]);
		}
	}
	free(h->dev);
	free(h->e);
	free(h->bucket);
	free(h);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
cfgholders_add(struct cfgholders *h, const char *mac, const char *label, const char *host,
    const struct devconfig *desired)
{
	struct holder *d;
	size_t i = h->ndev;

	h->dev = xgrowarray(h->dev, &h->capdev, h->ndev, sizeof *h->dev);
	d = &h->dev[h->ndev++];
	memset(d, 0, sizeof *d);
	d->mac = xstrdup(mac);
	d->label = xstrdup(label);
	d->host = dup_or_null(host);
	put(h, K_MAC, d->mac, i);
	put(h, K_HOST, d->host, i);
	for (size_t f = 0; f < h->nf; f++) {
		d->desired[f] = dup_or_null(cfgunique_value(desired, h->fields[f]));
		put(h, K_DESIRED + (int)f, d->desired[f], i);
	}
}

struct reading {
	struct store *st;
	struct cfgholders *h;
	struct tmplcache *cache;
};

/* One registered device: its address and desired configuration. */
static int
holder_cb(const struct store_device *d, void *arg)
{
	struct reading *r = arg;
	char *label = str_sanitize(d->name != NULL && d->name[0] ? d->name : d->mac, 64);
	struct devconfig_vars v = {.name = d->name, .id = d->id, .mac = d->mac};
	struct devconfig desired;
	char *cause = NULL;

	devconfig_init(&desired);
	if (cfgdesired_stored_cached(r->st, r->cache, d->mac, NULL, &v, &desired, &cause) != 0) {
		free(cause); /* its desired values are not known: only its address is checked */
		devconfig_done(&desired);
		devconfig_init(&desired);
	}
	cfgholders_add(r->h, d->mac, label, d->host, &desired);
	devconfig_done(&desired);
	free(label);
	return 0;
}

struct cfgholders *
cfgholders_read(struct store *st, char **cause)
{
	struct reading r = {st, cfgholders_new(), tmplcache_new()};
	int rc;

	tmplcache_pass(r.cache, 0);
	rc = store_device_list(st, holder_cb, &r, cause);
	tmplcache_free(r.cache);
	if (rc != 0) {
		cfgholders_free(r.h);
		return NULL;
	}
	return r.h;
}

void
cfgholders_queued(struct cfgholders *h, const char *mac, const struct devconfig *queued)
{
	size_t i = find_dev(h, mac);
	struct holder *d;

	if (i == NONE)
		return;
	d = &h->dev[i];
	for (size_t f = 0; f < h->nf; f++) {
		drop_entry(h, K_QUEUED + (int)f, d->queued[f], i);
		free(d->queued[f]); /* entries killed keep a pointer that is never read */
		d->queued[f] = dup_or_null(cfgunique_value(queued, h->fields[f]));
		put(h, K_QUEUED + (int)f, d->queued[f], i);
	}
	d->to = h->ip < h->nf ? d->queued[h->ip] : NULL;
}

void
cfgholders_moved(struct cfgholders *h, const char *mac, const char *host)
{
	size_t i = find_dev(h, mac);
	struct holder *d;

	if (i == NONE)
		return;
	d = &h->dev[i];
	drop_entry(h, K_HOST, d->host, i);
	free(d->host);
	d->host = dup_or_null(host);
	put(h, K_HOST, d->host, i);
}

/* The devices that share a value with want, other than self, in registry order. */
struct cands {
	size_t *v;
	size_t n, cap, self;
};

static void
cand_cb(size_t dev, void *arg)
{
	struct cands *c = arg;

	if (dev == c->self)
		return;
	c->v = xgrowarray(c->v, &c->cap, c->n, sizeof *c->v);
	c->v[c->n++] = dev;
}

static int
cmp_dev(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* What is at an address: self, a device that stays, the first one that moves on. */
struct at {
	const struct cfgholders *h;
	const char *addr;
	size_t self;
	bool has_self;
	size_t stays, moves;
};

static void
at_cb(size_t dev, void *arg)
{
	struct at *a = arg;
	const char *to = a->h->dev[dev].to;

	if (dev == a->self)
		a->has_self = true;
	else if (to == NULL || strcmp(to, a->addr) == 0)
		a->stays = a->stays == NONE || dev < a->stays ? dev : a->stays;
	else
		a->moves = a->moves == NONE || dev < a->moves ? dev : a->moves;
}

/*
 * want takes addr, where device first is now: follows the queued moves that would free it.
 * Returns CFGH_WAIT or CFGH_REFUSED, with *why.
 */
static enum cfgholders_verdict
follow(const struct cfgholders *h, size_t self, size_t first, const char *addr, char **why)
{
	const struct holder *b = &h->dev[first];
	struct at a = {.h = h, .self = self};

	if (b->to == NULL || strcmp(b->to, addr) == 0) {
		*why = cfgunique_taken_reason(addr, b->label);
		return CFGH_REFUSED;
	}
	for (size_t at = first, steps = 0; steps <= h->ndev; steps++) {
		a.addr = h->dev[at].to;
		a.has_self = false;
		a.stays = a.moves = NONE;
		each(h, K_HOST, a.addr, at_cb, &a);
		if (a.has_self) {
			*why = xasprintf(
			    "wifi.sta.ip: %s is the current address of another registered "
			    "device (%s), and the queued moves go round back to this "
			    "device's address (a swap): that needs a temporary address; "
			    "move one of them to a free address first; nothing sent",
			    addr, b->label);
			return CFGH_REFUSED;
		}
		if (a.stays != NONE) {
			*why = xasprintf(
			    "wifi.sta.ip: %s is the current address of another registered "
			    "device (%s), whose queued move cannot be made: %s is the "
			    "current address of %s, which stays there; nothing sent",
			    addr, b->label, a.addr, h->dev[a.stays].label);
			return CFGH_REFUSED;
		}
		if (a.moves == NONE) {
			*why = xasprintf(
			    "wifi.sta.ip: %s is the current address of another registered "
			    "device (%s), whose queued change moves it off first; applied "
			    "once it has moved",
			    addr, b->label);
			return CFGH_WAIT;
		}
		at = a.moves;
	}
	*why = xasprintf("wifi.sta.ip: %s is the current address of another registered device "
	                 "(%s), whose queued move is part of a cycle of queued moves: that needs a "
	                 "temporary address; nothing sent",
	    addr, b->label);
	return CFGH_REFUSED;
}

/* Whether device i gives field f the value v, in its desired configuration or its queued one. */
static const char *
shares(const struct cfgholders *h, size_t i, size_t f, const char *v)
{
	const struct holder *d = &h->dev[i];

	if (d->desired[f] != NULL && strcmp(d->desired[f], v) == 0)
		return "desired";
	if (d->queued[f] != NULL && strcmp(d->queued[f], v) == 0)
		return "queued";
	return NULL;
}

enum cfgholders_verdict
cfgholders_check(
    const struct cfgholders *h, const char *mac, const struct devconfig *want, char **why)
{
	struct cands c = {.self = find_dev(h, mac)};
	const char *ip = h->ip < h->nf ? cfgunique_value(want, DCFG_WIFI_STA_IP) : NULL;
	enum cfgholders_verdict v = CFGH_FREE;
	char *reason = NULL;

	*why = NULL;
	each(h, K_HOST, ip, cand_cb, &c);
	for (size_t f = 0; f < h->nf; f++) {
		const char *val = cfgunique_value(want, h->fields[f]);
		each(h, K_DESIRED + (int)f, val, cand_cb, &c);
		each(h, K_QUEUED + (int)f, val, cand_cb, &c);
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof *c.v, cmp_dev);
	for (size_t k = 0; v != CFGH_REFUSED && k < c.n; k++) {
		size_t i = c.v[k];
		const struct holder *d = &h->dev[i];
		if (k > 0 && i == c.v[k - 1])
			continue;
		if (ip != NULL && d->host != NULL && strcmp(d->host, ip) == 0) {
			char *r = NULL;
			if (follow(h, c.self, i, ip, &r) == CFGH_REFUSED) {
				free(reason);
				reason = r;
				v = CFGH_REFUSED;
				break;
			}
			if (reason == NULL)
				reason = r;
			else
				free(r);
			v = CFGH_WAIT;
		}
		for (size_t f = 0; f < h->nf; f++) {
			const char *val = cfgunique_value(want, h->fields[f]);
			const char *whose = val != NULL ? shares(h, i, f, val) : NULL;
			if (whose != NULL) {
				free(reason);
				reason = cfgunique_clash_reason(h->fields[f], val, whose, d->label);
				v = CFGH_REFUSED;
				break;
			}
		}
	}
	free(c.v);
	*why = reason;
	return v;
}
