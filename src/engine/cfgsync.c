/*
 * The `device NAME HOST[:PORT]` lines of the configuration file (engine/cfgsync.h): before the
 * fleet polls, each is made a registered device. An address the registry knows gets the
 * configured name; an unknown one is identified (GET /shelly, no credentials) and merged by MAC
 * like any discovery (discovered_via "config"), then named. A device that does not answer is
 * logged and tried again on the next start or SIGHUP.
 */
#include "engine/cfgsync.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "engine/engine.h"
#include "discovery/discover.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

struct cfgsync {
	struct engine *eng;
	struct discover *d;
	void (*done)(void *);
	void *arg;
	int finished;
};

/* Gives the registered device at host:port the configured name. Returns 1 if it exists. */
static int
name_device(struct engine *eng, const struct conf_device *cd)
{
	struct store_device *sd = store_device_find_host(eng->store, cd->host, (uint16_t)cd->port);
	char *cause = NULL;

	if (sd == NULL)
		return 0;
	if (sd->name == NULL || strcmp(sd->name, cd->name) != 0) {
		struct store_device up;
		memset(&up, 0, sizeof up);
		memcpy(up.mac, sd->mac, sizeof up.mac);
		up.name = cd->name;
		if (store_device_update(eng->store, &up, &cause) != 0) {
			log_warn("%s: device %s: name not stored: %s", cd->where, cd->name, cause);
			free(cause);
		}
	}
	store_device_free(sd);
	return 1;
}

/* The run finished: what it found is stored, then every configured device is named. */
static void
discover_done_cb(void *arg)
{
	struct cfgsync *cs = arg;
	struct engine *eng = cs->eng;
	size_t n;
	const struct conf_device *cd = conf_devices(eng->conf, &n);
	char *cause = NULL;

	if (discover_commit(cs->d, eng->store, loop_wall_ms(), NULL, &cause) != 0) {
		log_warn("configured devices not stored: %s", cause);
		free(cause);
	}
	discover_free(cs->d);
	cs->d = NULL;
	for (size_t i = 0; i < n; i++)
		if (!name_device(eng, &cd[i]))
			log_warn("%s: device %s at %s did not answer as a Shelly; not registered yet",
			    cd[i].where, cd[i].name, cd[i].host);
	cs->finished = 1;
	if (cs->done != NULL)
		cs->done(cs->arg);
}

struct cfgsync *
cfgsync_start(struct engine *eng, void (*done_cb)(void *), void *arg)
{
	size_t n, missing = 0;
	const struct conf_device *cd = conf_devices(eng->conf, &n);
	struct discover_opts o;
	struct discover_cbs cbs;
	struct cfgsync *cs;
	char *cause = NULL;

	for (size_t i = 0; i < n; i++)
		if (!name_device(eng, &cd[i]))
			missing++;
	if (missing == 0)
		return NULL;
	cs = xcalloc(1, sizeof *cs);
	cs->eng = eng;
	cs->done = done_cb;
	cs->arg = arg;
	memset(&o, 0, sizeof o);
	o.confirm_timeout_ms = (uint32_t)conf_get_ms(eng->conf, OPT_REQUEST_TIMEOUT);
	o.registry = eng->store;
	memset(&cbs, 0, sizeof cbs);
	cbs.done_cb = discover_done_cb;
	cbs.arg = cs;
	if ((cs->d = discover_new(eng->loop, eng->http, &o, &cbs, &cause)) == NULL) {
		log_warn("configured devices: %s", cause);
		free(cause);
		cfgsync_free(cs);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_device *sd = store_device_find_host(eng->store, cd[i].host,
		    (uint16_t)cd[i].port);
		if (sd == NULL)
			discover_add_candidate(cs->d, cd[i].host, (uint16_t)cd[i].port,
			    DISCOVER_VIA_CONFIG);
		store_device_free(sd);
	}
	discover_start(cs->d);
	return cs;
}

void
cfgsync_free(struct cfgsync *cs)
{
	if (cs == NULL)
		return;
	discover_free(cs->d);
	free(cs);
}
