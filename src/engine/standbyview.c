/*
 * The leader's results as a standing-by fleet shows them (engine/standbyview.h).
 */
#include "engine/standbyview.h"

#include <stdlib.h>
#include <string.h>

#include "engine/poller.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* One device of a read; the strings are the device record's. */
struct sv_dev {
	struct store_device *d;
	char *error; /* "" none */
	enum device_state state;
	int known; /* a stored state that reads */
	int attempted; /* a status is stored */
	struct poller_sample *samples;
	size_t nsamples;
};

struct standbyview {
	struct store *store;
	struct sv_dev *v;
	size_t n;
	int read; /* v holds a good read */
	int64_t version; /* the store's data version before that read */
	char *error; /* the last read failed: why; NULL */
};

struct read_ctx {
	struct store *store;
	struct sv_dev *v;
	size_t n;
};

static void
devs_free(struct sv_dev *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		store_device_free(v[i].d);
		free(v[i].error);
		free(v[i].samples);
	}
	free(v);
}

static int
read_cb(const struct store_device *d, void *arg)
{
	struct read_ctx *rc = arg;
	struct store_status *st = store_status_get(rc->store, d->mac);
	struct sv_dev *e;

	rc->v = xreallocarray(rc->v, rc->n + 1, sizeof *rc->v);
	e = &rc->v[rc->n++];
	memset(e, 0, sizeof *e);
	e->d = store_device_dup(d);
	e->attempted = st != NULL;
	e->known = st != NULL && device_state_parse(st->state, &e->state) == 0;
	if (!e->known)
		e->state = DEVICE_OFFLINE;
	e->error = xstrdup(st != NULL && st->error != NULL ? st->error : "");
	/* The leader's last reply: its readings, as the leader serves them. */
	if (e->known && (e->state == DEVICE_ONLINE || e->state == DEVICE_ASLEEP))
		e->nsamples = poller_reply_samples(d->gen, st->json, d->fw, &e->samples);
	store_status_free(st);
	return 0;
}

struct standbyview *
standbyview_new(struct store *store)
{
	struct standbyview *sv = xcalloc(1, sizeof *sv);

	sv->store = store;
	return sv;
}

void
standbyview_clear(struct standbyview *sv)
{
	devs_free(sv->v, sv->n);
	sv->v = NULL;
	sv->n = 0;
	sv->read = 0;
	free(sv->error);
	sv->error = NULL;
}

void
standbyview_free(struct standbyview *sv)
{
	if (sv == NULL)
		return;
	standbyview_clear(sv);
	free(sv);
}

int
standbyview_refresh(struct standbyview *sv)
{
	/* Taken before the read: a commit during it moves the version, and the next refresh
	 * reads again rather than keep an older state. -1 (unknown) always reads. */
	int64_t version = store_data_version(sv->store);
	struct read_ctx rc = {sv->store, NULL, 0};
	char *cause = NULL;
	int snap;

	if (sv->read && version >= 0 && version == sv->version)
		return 0;
	/* One state of the store for the registry and every status, whatever the leader
	 * commits meanwhile (without it, the rows are read as they come). */
	snap = store_read_begin(sv->store, NULL) == 0;
	if (store_device_list(sv->store, read_cb, &rc, &cause) != 0) {
		if (snap)
			store_read_end(sv->store);
		devs_free(rc.v, rc.n);
		if (sv->error == NULL || strcmp(sv->error, cause) != 0)
			log_warn(
			    "standing by: the fleet cannot be read from the database: %s", cause);
		free(sv->error);
		sv->error = cause;
		return -1;
	}
	if (snap)
		store_read_end(sv->store);
	devs_free(sv->v, sv->n);
	sv->v = rc.v;
	sv->n = rc.n;
	sv->read = 1;
	sv->version = version;
	free(sv->error);
	sv->error = NULL;
	return 0;
}

void
standbyview_foreach(struct standbyview *sv, fleet_view_cb cb, void *arg)
{
	standbyview_refresh(sv);
	for (size_t i = 0; i < sv->n; i++) {
		const struct sv_dev *e = &sv->v[i];
		const struct store_device *d = e->d;
		struct fleet_view v;

		memset(&v, 0, sizeof v);
		v.mac = d->mac;
		v.id = d->id != NULL ? d->id : "";
		v.name = d->name != NULL ? d->name : "";
		v.model = d->model != NULL ? d->model : "";
		v.model_name = "";
		v.fw = d->fw != NULL ? d->fw : "";
		v.host = d->host != NULL ? d->host : "";
		v.gen = d->gen;
		v.port = d->port > 0 && d->port <= 65535 ? (uint16_t)d->port : 0;
		v.known = e->known;
		v.state = e->state;
		v.error = e->error;
		v.last_seen_ms = d->last_seen_ms;
		v.attempted = e->attempted;
		v.samples = e->samples;
		v.nsamples = e->nsamples;
		cb(&v, arg);
	}
}

int
standbyview_counts(const struct standbyview *sv, struct fleet_totals *t)
{
	if (!sv->read)
		return -1;
	t->devices = sv->n;
	memset(t->by_state, 0, sizeof t->by_state);
	t->unknown = t->attempted = 0;
	for (size_t i = 0; i < sv->n; i++) {
		if (sv->v[i].known)
			t->by_state[sv->v[i].state]++;
		else
			t->unknown++;
		t->attempted += sv->v[i].attempted != 0;
	}
	return 0;
}

const char *
standbyview_error(const struct standbyview *sv)
{
	return sv->error;
}
