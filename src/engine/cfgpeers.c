/* The other registered devices a configuration change is checked against (engine/cfgpeers.h). */
#include "engine/cfgpeers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgdesired.h"
#include "engine/cfgunique.h"
#include "engine/tmplcache.h"
#include "model/devconfig.h"
#include "store/store.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct peer {
	struct store_device *d;
	char *label; /* sanitised name, else MAC */
	struct devconfig desired; /* read when first needed */
	bool have_desired;
};

struct cfgpeers {
	struct store *store;
	struct tmplcache *cache;
	struct peer *v;
	size_t n;
	bool listed;
};

static int
peer_cb(const struct store_device *d, void *arg)
{
	struct cfgpeers *p = arg;
	struct peer *e;

	p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
	e = &p->v[p->n++];
	e->d = store_device_dup(d);
	e->label = str_sanitize(d->name != NULL && d->name[0] ? d->name : d->mac, 64);
	devconfig_init(&e->desired);
	e->have_desired = false;
	return 0;
}

struct cfgpeers *
cfgpeers_new(struct store *store)
{
	struct cfgpeers *p = xcalloc(1, sizeof *p);

	p->store = store;
	return p;
}

static void
peers_clear(struct cfgpeers *p)
{
	for (size_t i = 0; i < p->n; i++) {
		store_device_free(p->v[i].d);
		free(p->v[i].label);
		devconfig_done(&p->v[i].desired);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

void
cfgpeers_free(struct cfgpeers *p)
{
	if (p == NULL)
		return;
	peers_clear(p);
	if (p->cache != NULL)
		tmplcache_free(p->cache);
	free(p);
}

/* Whether want gives any field that must differ per device. */
static bool
gives_unique(const struct devconfig *want)
{
	size_t nf;
	const enum devconfig_field *f = cfgunique_fields(&nf);

	for (size_t i = 0; i < nf; i++)
		if (cfgunique_value(want, f[i]) != NULL)
			return true;
	return false;
}

/* The desired configuration of peer e (none when it cannot be worked out: no clash). */
static const struct devconfig *
peer_desired(struct cfgpeers *p, struct peer *e)
{
	struct devconfig_vars v = {.name = e->d->name, .id = e->d->id, .mac = e->d->mac};
	char *cause = NULL;

	if (!e->have_desired) {
		e->have_desired = true;
		if (cfgdesired_stored_cached(
		        p->store, p->cache, e->d->mac, NULL, &v, &e->desired, &cause) != 0) {
			free(cause);
			devconfig_done(&e->desired);
			devconfig_init(&e->desired);
		}
	}
	return &e->desired;
}

int
cfgpeers_check(struct cfgpeers *p, const char *mac, const struct devconfig *want, char **why)
{
	*why = NULL;
	if (p->store == NULL || !gives_unique(want)) /* no database: nothing registered */
		return 0;
	if (!p->listed) {
		if (store_device_list(p->store, peer_cb, p, why) != 0) {
			peers_clear(p);
			return -1;
		}
		p->listed = true;
		p->cache = tmplcache_new();
		tmplcache_pass(p->cache, 0);
	}
	for (size_t i = 0; *why == NULL && i < p->n; i++) {
		struct peer *e = &p->v[i];
		if (mac != NULL && strcmp(e->d->mac, mac) == 0)
			continue;
		*why = cfgunique_taken(want, e->d->host, e->label);
		if (*why == NULL)
			*why = cfgunique_clash(want, peer_desired(p, e), e->label);
	}
	return 0;
}

size_t
cfgpeers_check_run(struct store *store, const struct devconfig *const *desired,
    const char *const *macs, size_t n, char **why)
{
	struct cfgpeers *peers = cfgpeers_new(store);
	size_t refused = 0;

	cfgunique_check(desired, n, why);
	for (size_t i = 0; i < n; i++) {
		if (why[i] == NULL && desired[i] != NULL &&
		    cfgpeers_check(peers, macs[i], desired[i], &why[i]) != 0) {
			char *cause = why[i];
			why[i] =
			    xasprintf("the registry could not be read to check the values that "
			              "must differ per device: %s; nothing sent",
			        cause);
			free(cause);
		}
		refused += why[i] != NULL;
	}
	cfgpeers_free(peers);
	return refused;
}
