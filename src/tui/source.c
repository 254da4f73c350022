/*
 * The console's adapter to the rest of the tree (see tui/source.h). Rows are re-read from the
 * store when its data changed (PRAGMA data_version moves on every commit of another
 * connection, and after our own flushes); a device's stored reply is parsed again only when
 * its status timestamp moved. Actions and scans run as children of this binary with JSON
 * output on a pipe the loop watches.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "discovery/discover.h"
#include "discovery/scan.h"
#include "engine/creds.h"
#include "engine/devname.h"
#include "engine/discoveropts.h"
#include "engine/engine.h"
#include "engine/fleet.h"
#include "engine/registry.h"
#include "engine/runner.h"
#include "model/devconfig.h"
#include "model/fields.h"
#include "model/fwver.h"
#include "server/provserve.h"
#include "shelly/action.h"
#include "shelly/client.h"
#include "shelly/models.h"
#include "store/store.h"
#include "tui/source.h"
#include "tui/textlines.h"
#include "util/guard.h"
#include "util/json.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define REFRESH_MS 250
#define EVENTS_KEPT 1000

struct source {
	struct app *app;
	int flags;
	void (*changed)(void *);
	void *arg;
	struct source_dev *rows;
	size_t nrows;
	int64_t data_version;
	/* registry_sig() of the rows last read (registry_read: there was one): the fleet follows */
	uint64_t registry_sig;
	int registry_read;
	unsigned write_failing; /* store_get_health's failing at the last tick: the header follows */
	char *status_error; /* why the status rows could not be read at the last refresh, or NULL */
	int full_reads; /* most statuses moved at the last refresh: the next reads them whole */
	struct fleet *fleet; /* the fleet runtime: poller, lease, flush, discovery */
	char poller_text[192];
	struct provserve *prov; /* while leading with console-agent-api: agent API, verifier */
	char serve_text[256];
	struct loop_timer *timer;
	struct source_event *events; /* ring of the newest EVENTS_KEPT */
	size_t nevents, ev_head;
	int64_t ev_last_id;
	struct source_job *jobs;
	source_prompt_cb prompt;
	void *prompt_arg;
	char (*ignored)[DEV_MAC_LEN]; /* found devices ignored for this session */
	size_t nignored;
	struct fresh *fresh; /* readings of this console's own, while another process polls */
	size_t nfresh;
};

/*
 * A device's status this console read itself right after its own action while another
 * process polls (and writes the store): shown instead of the store's row until the store has
 * a newer one. Kept in memory only: the store is the leader's.
 */
struct fresh {
	char mac[DEV_MAC_LEN];
	int64_t ts_ms;
	char *json;
};

struct source_job {
	struct source *src;
	struct source_job *next;
	int is_scan;
	int finished;
	struct loop_timer *reap;
	struct discover *disc; /* a scan: the discovery run in the console's loop */
	struct job_part *parts; /* an action job: one runner per action name */
	size_t nparts, parts_running;
	struct registry_op *regop; /* an accepted certificate: the registry's read */
	int is_action;
	int channel, value;
	const char *light; /* Gen2+ light component type an action names (static), or NULL */
	size_t total, done;
	struct source_result *results;
	size_t nresults;
	int read_back; /* a device's status was read after the action: the rows follow */
	char *error;
	source_job_cb cb;
	void *arg;
};

/* One action name of an action job and the runner that sends it. */
struct job_part {
	struct source_job *job;
	char action[32];
	struct runner *runner;
	size_t done;
};

/* ---- rows ---- */

static void
copy_safe(char *dst, size_t size, const char *s)
{
	str_copy(dst, size, s != NULL ? s : "");
	str_sanitize_inplace(dst);
}

/* No cover known. */
static void
cover_reset(struct source_dev *r)
{
	r->covers = 0;
	for (int i = 0; i < SOURCE_COVERS; i++) {
		r->cover_pct[i] = NAN;
		r->cover_state[i] = COVER_UNKNOWN;
	}
}

static struct fresh *
fresh_find(struct source *src, const char *mac)
{
	for (size_t i = 0; i < src->nfresh; i++)
		if (strcmp(src->fresh[i].mac, mac) == 0)
			return &src->fresh[i];
	return NULL;
}

static void
fresh_drop(struct source *src, struct fresh *f)
{
	free(f->json);
	*f = src->fresh[--src->nfresh];
}

/* Keeps json, read at ts_ms, as the newest status of mac. */
static void
fresh_put(struct source *src, const char *mac, const char *json, int64_t ts_ms)
{
	struct fresh *f = fresh_find(src, mac);

	if (f == NULL) {
		src->fresh = xreallocarray(src->fresh, src->nfresh + 1, sizeof *src->fresh);
		f = &src->fresh[src->nfresh++];
		str_copy(f->mac, sizeof f->mac, mac);
	} else
		free(f->json);
	f->json = xstrdup(json);
	f->ts_ms = ts_ms;
}

/* The status row of a reading of this console's own (a reply: online), as the poller has it. */
static struct store_status *
fresh_status(const struct fresh *f, int gen, const char *running)
{
	struct store_status ss;
	struct device_status ds;
	struct fields_totals t = {NAN, NAN, NAN, NAN, STORE_NULL_INT};
	char *cause = NULL;

	memset(&ss, 0, sizeof ss);
	str_copy(ss.mac, sizeof ss.mac, f->mac);
	ss.ts_ms = ss.reply_ts_ms = f->ts_ms;
	ss.state = device_state_name(DEVICE_ONLINE);
	ss.json = f->json;
	ss.rssi_dbm = NAN;
	ss.uptime_s = ss.fw_update = ss.cfg_rev = STORE_NULL_INT;
	device_status_init(&ds);
	if (shelly_status_parse(gen, f->json, strlen(f->json), running, &ds, &cause) == 0) {
		fields_totals(&ds, &t);
		ss.rssi_dbm = ds.wifi.rssi_dbm;
		if (dev_known(ds.sys.uptime_s))
			ss.uptime_s = (int64_t)ds.sys.uptime_s;
		if (ds.sys.update_available >= 0)
			ss.fw_update = ds.sys.update_available;
	}
	free(cause);
	device_status_done(&ds);
	ss.power_w = t.power_w;
	ss.energy_wh = t.energy_wh;
	ss.temperature_c = t.temperature_c;
	ss.outputs_on = t.on;
	return store_status_dup(&ss);
}

/*
 * This console's own reading of mac (a device of generation gen running running) when the
 * store's status, read at stored_ms (-1: none), is older: a status row (caller frees). Else
 * NULL, and a reading the store has caught up with is retired.
 */
static struct store_status *
fresh_newer(struct source *src, const char *mac, int64_t stored_ms, int gen, const char *running)
{
	struct fresh *f = fresh_find(src, mac);

	if (f == NULL)
		return NULL;
	if (stored_ms < f->ts_ms)
		return fresh_status(f, gen, running);
	fresh_drop(src, f);
	return NULL;
}

/*
 * The status of mac with its reply: this console's own reading while the store has none as
 * new, else the store's. 1 with *out (caller frees), 0 none, -1 with *cause when the store
 * cannot be read.
 */
static int
status_read(struct source *src, const char *mac, int gen, const char *running,
    struct store_status **out, char **cause)
{
	int rc = store_status_read(src->app->store, mac, out, cause);
	struct store_status *mine;

	if (rc < 0)
		return rc;
	mine = fresh_newer(src, mac, rc > 0 ? (*out)->ts_ms : -1, gen, running);
	if (mine == NULL)
		return rc;
	store_status_free(*out);
	*out = mine;
	return 1;
}

/* status_read, an error logged as none. */
static struct store_status *
status_get(struct source *src, const char *mac, int gen, const char *running)
{
	struct store_status *st = NULL;
	char *cause = NULL;

	if (status_read(src, mac, gen, running, &st, &cause) < 0) {
		log_error("console: status of %s: %s", mac, cause);
		free(cause);
	}
	return st;
}

/* Derives the row's counts from the device's stored reply. */
static void
row_from_reply(struct source_dev *r, const struct store_status *st)
{
	struct device_status ds;
	char *cause = NULL;
	int rc;

	r->outputs = r->outputs_on = -1;
	r->outputs_known = 0;
	cover_reset(r);
	if (st->json == NULL)
		return;
	device_status_init(&ds);
	rc = shelly_status_parse(r->gen, st->json, strlen(st->json), r->running, &ds, &cause);
	free(cause);
	if (rc == 0) {
		struct fields_totals t;

		fields_totals(&ds, &t);
		r->outputs = ds.nswitches + ds.nlights;
		r->lights = ds.nlights;
		r->outputs_on = (int)t.on;
		r->outputs_known = 0;
		for (int i = 0; i < ds.nswitches; i++)
			r->outputs_known += ds.switches[i].output != DEV_UNKNOWN;
		for (int i = 0; i < ds.nlights; i++)
			r->outputs_known += ds.lights[i].output != DEV_UNKNOWN;
		r->covers = ds.ncovers;
		for (int i = 0; i < ds.ncovers && i < SOURCE_COVERS; i++) {
			r->cover_pct[i] = ds.covers[i].position_pct;
			r->cover_state[i] = ds.covers[i].state;
		}
		if (!dev_known(r->temperature_c) && dev_known(ds.sys.device_temperature_c))
			r->temperature_c = ds.sys.device_temperature_c;
		r->voltage_v = t.voltage_v;
		r->battery_pct = ds.sensors.battery_pct;
	}
	device_status_done(&ds);
}

/* Tells the console its rows (or a job) may have changed. */
static void
notify(struct source *src)
{
	if (src->changed != NULL)
		src->changed(src->arg);
}

static const struct source_dev *
find_row(const struct source_dev *rows, size_t n, const char *mac)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(rows[mid].mac, mac);
		if (c == 0)
			return &rows[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct source_dev *
source_device(const struct source *src, const char *mac)
{
	return find_row(src->rows, src->nrows, mac);
}

const char *
source_dev_label(const struct source_dev *r)
{
	return r->name[0] ? r->name : r->id;
}

struct load_ctx {
	struct source *src;
	struct source_dev *rows;
	size_t n, cap;
	/* Every device's latest status without its reply (store_status_list), by MAC: a reply is
	 * read only for a device whose status moved since the last refresh. */
	struct store_status **listed;
	size_t nlisted, listed_cap;
	int list_failed;
	/* No list: each status is read with its reply (most devices moved at the last refresh, as
	 * when the whole fleet answers each second: the list would only add to the reads). */
	int full;
	size_t moved; /* devices whose status moved since the last refresh */
	char *status_error; /* the first status read that failed, or NULL */
};

static int
listed_cb(const struct store_status *st, void *arg)
{
	struct load_ctx *lc = arg;

	lc->listed = xgrowarray(lc->listed, &lc->listed_cap, lc->nlisted, sizeof *lc->listed);
	lc->listed[lc->nlisted++] = store_status_dup(st);
	return 0;
}

static int
listed_cmp(const void *a, const void *b)
{
	return strcmp(
	    (*(struct store_status *const *)a)->mac, (*(struct store_status *const *)b)->mac);
}

static void
load_ctx_done(struct load_ctx *lc)
{
	for (size_t i = 0; i < lc->nlisted; i++)
		store_status_free(lc->listed[i]);
	free(lc->listed);
	free(lc->status_error);
}

/* Notes the first failed status read (sanitised) for the header. */
static void
load_error(struct load_ctx *lc, const char *cause)
{
	if (lc->status_error == NULL)
		lc->status_error = str_sanitize(cause, 200);
}

/*
 * The status of mac as the refresh sees it: this console's own reading while the store has
 * none as new (a newer one retires it), else the store's listed row (no reply). 1 with *out
 * (caller frees), 0 none, -1 when the list could not be read.
 */
static int
listed_status(
    struct load_ctx *lc, const char *mac, int gen, const char *running, struct store_status **out)
{
	struct store_status key, *kp = &key, **hit;
	char *cause = NULL;

	*out = NULL;
	if (lc->full) {
		int rc = status_read(lc->src, mac, gen, running, out, &cause);
		if (rc < 0) {
			load_error(lc, cause);
			free(cause);
		}
		return rc;
	}
	if (lc->list_failed)
		return -1;
	str_copy(key.mac, sizeof key.mac, mac);
	hit = lc->nlisted > 0
	          ? bsearch(&kp, lc->listed, lc->nlisted, sizeof *lc->listed, listed_cmp)
	          : NULL;
	*out = fresh_newer(lc->src, mac, hit != NULL ? (*hit)->ts_ms : -1, gen, running);
	if (*out != NULL)
		return 1;
	if (hit == NULL)
		return 0;
	*out = store_status_dup(*hit);
	return 1;
}

/* Derives the row's counts from the stored reply of st's device (read now: the list has none). */
static void
row_from_stored_reply(struct load_ctx *lc, struct source_dev *r, const struct store_status *st)
{
	struct store_status *full = NULL;
	char *cause = NULL;

	if (st->json != NULL) {
		row_from_reply(r, st);
		return;
	}
	if (store_status_read(lc->src->app->store, r->mac, &full, &cause) < 0) {
		load_error(lc, cause);
		free(cause);
		return;
	}
	if (full != NULL)
		row_from_reply(r, full);
	store_status_free(full);
}

static int
load_device_cb(const struct store_device *d, void *arg)
{
	struct load_ctx *lc = arg;
	struct source_dev *r;
	struct store_status *st;
	const struct source_dev *old;
	const char *mname;

	lc->rows = xgrowarray(lc->rows, &lc->cap, lc->n, sizeof *lc->rows);
	r = &lc->rows[lc->n++];
	memset(r, 0, sizeof *r);
	str_copy(r->mac, sizeof r->mac, d->mac);
	copy_safe(r->id, sizeof r->id, d->id);
	copy_safe(r->name, sizeof r->name, d->name);
	copy_safe(r->model, sizeof r->model, d->model);
	mname = d->model != NULL ? models_name(d->model) : NULL;
	copy_safe(r->model_name, sizeof r->model_name, mname != NULL ? mname : d->model);
	copy_safe(r->host, sizeof r->host, d->host);
	{
		char ver[40];
		const char *run = fwver_running(d->fw, d->fw_version);

		if (d->fw_version != NULL && d->fw_version[0] != '\0')
			copy_safe(r->fw, sizeof r->fw, d->fw_version);
		else
			copy_safe(r->fw, sizeof r->fw,
			    d->fw != NULL && device_fw_version(d->fw, ver, sizeof ver) == 0 ? ver :
			                                                                        d->fw);
		str_copy(r->running, sizeof r->running, run != NULL ? run : "");
	}
	r->gen = d->gen;
	r->port = d->port;
	r->https = d->scheme != NULL && strcmp(d->scheme, "https") == 0;
	r->seen_ms = d->last_seen_ms;
	r->power_w = r->energy_wh = r->temperature_c = r->rssi_dbm = r->voltage_v = NAN;
	r->battery_pct = NAN;
	r->uptime_s = -1;
	r->outputs = r->outputs_on = -1;
	r->outputs_known = 0;
	cover_reset(r);
	r->fw_update = -1;
	if (listed_status(lc, d->mac, d->gen, r->running, &st) < 0) {
		/* not "never polled": the header says the status could not be read */
		r->status_unread = 1; /* shown "unknown", not "new" */
		return 0;
	}
	if (st == NULL)
		return 0;
	r->has_status = 1;
	r->status_ms = st->ts_ms;
	if (st->state == NULL || device_state_parse(st->state, &r->state) != 0)
		r->state = DEVICE_ERROR;
	copy_safe(r->error, sizeof r->error, st->error);
	r->power_w = st->power_w;
	r->energy_wh = st->energy_wh;
	r->temperature_c = st->temperature_c;
	r->rssi_dbm = st->rssi_dbm;
	r->fw_update = st->fw_update == STORE_NULL_INT ? -1 : (int)st->fw_update;
	r->uptime_s = st->uptime_s == STORE_NULL_INT ? -1 : st->uptime_s;
	r->reply_ms = st->reply_ts_ms;
	r->stale = r->reply_ms > 0 && r->state != DEVICE_ONLINE && r->state != DEVICE_ASLEEP;
	old = find_row(lc->src->rows, lc->src->nrows, r->mac);
	if (old != NULL && old->has_status && old->status_ms == r->status_ms) {
		r->outputs = old->outputs;
		r->outputs_on = old->outputs_on;
		r->lights = old->lights;
		r->outputs_known = old->outputs_known;
		r->covers = old->covers;
		memcpy(r->cover_pct, old->cover_pct, sizeof r->cover_pct);
		memcpy(r->cover_state, old->cover_state, sizeof r->cover_state);
		r->voltage_v = old->voltage_v;
		r->battery_pct = old->battery_pct;
		if (!dev_known(r->temperature_c))
			r->temperature_c = old->temperature_c;
	} else {
		lc->moved++;
		if (r->state == DEVICE_ONLINE || r->state == DEVICE_ASLEEP || r->stale)
			row_from_stored_reply(lc, r, st); /* a failed poll keeps the last reply */
	}
	store_status_free(st);
	return 0;
}

static int
event_cb(const struct store_event *ev, void *arg)
{
	struct source *src = arg;
	struct source_event *e;
	size_t at = (src->ev_head + src->nevents) % EVENTS_KEPT;

	if (src->nevents == EVENTS_KEPT) {
		at = src->ev_head;
		src->ev_head = (src->ev_head + 1) % EVENTS_KEPT;
	} else
		src->nevents++;
	e = &src->events[at];
	e->id = ev->id;
	e->ts_ms = ev->ts_ms;
	str_copy(e->mac, sizeof e->mac, ev->mac);
	copy_safe(e->kind, sizeof e->kind, ev->kind);
	copy_safe(e->detail, sizeof e->detail, ev->detail);
	if (ev->id > src->ev_last_id)
		src->ev_last_id = ev->id;
	return 0;
}

static void
load_events(struct source *src)
{
	char *cause = NULL;

	for (int i = 0; i < 100; i++) {
		int64_t before = src->ev_last_id;
		if (store_event_list(src->app->store, src->ev_last_id, EVENTS_KEPT, event_cb, src,
		        &cause) != 0) {
			log_warn("console: events: %s", cause);
			free(cause);
			return;
		}
		if (src->ev_last_id == before)
			return;
	}
}

/* FNV-1a of text, continued from h. */
static uint64_t
fnv_add(uint64_t h, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211u;
	return (h ^ 0xff) * 1099511628211u;
}

/*
 * What the poller takes from the registry, as one number: each device's MAC, address, port,
 * scheme and generation, summed so that the order of the rows does not matter.
 */
static uint64_t
registry_sig(const struct source_dev *rows, size_t n)
{
	uint64_t sig = n;

	for (size_t i = 0; i < n; i++) {
		char num[48];
		uint64_t h = fnv_add(14695981039346656037u, rows[i].mac);

		h = fnv_add(h, rows[i].host);
		snprintf(num, sizeof num, "%d/%d/%d", rows[i].port, rows[i].https, rows[i].gen);
		sig += fnv_add(h, num);
	}
	return sig;
}

void
source_refresh(struct source *src)
{
	struct load_ctx lc = {.src = src, .full = src->full_reads};
	char *cause = NULL;
	uint64_t sig;

	if (!lc.full && store_status_list(src->app->store, listed_cb, &lc, &cause) != 0) {
		lc.list_failed = 1;
		load_error(&lc, cause);
		free(cause);
		cause = NULL;
	} else
		for (size_t i = 1; i < lc.nlisted; i++)
			if (listed_cmp(&lc.listed[i - 1], &lc.listed[i]) > 0) { /* not by MAC */
				qsort(lc.listed, lc.nlisted, sizeof *lc.listed, listed_cmp);
				break;
			}
	if (store_device_list(src->app->store, load_device_cb, &lc, &cause) != 0) {
		log_warn("console: devices: %s", cause);
		free(cause);
		free(lc.rows);
		load_ctx_done(&lc);
		return;
	}
	if (lc.status_error != NULL && src->status_error == NULL)
		log_error("console: status: %s", lc.status_error);
	free(src->status_error);
	src->status_error = lc.status_error;
	lc.status_error = NULL;
	src->full_reads = lc.moved * 2 > lc.n;
	load_ctx_done(&lc);
	free(src->rows);
	src->rows = lc.rows;
	src->nrows = lc.n;
	/* A device another process added, removed or moved (shelly-tui --add in a second
	 * terminal, as the empty table suggests) is polled, or no longer, without a restart. */
	sig = registry_sig(src->rows, src->nrows);
	if (src->registry_read && sig != src->registry_sig && src->fleet != NULL)
		fleet_registry_changed(src->fleet);
	src->registry_sig = sig;
	src->registry_read = 1;
	load_events(src);
	notify(src);
}

void
source_registry_changed(struct source *src)
{
	if (src->fleet != NULL)
		fleet_registry_changed(src->fleet);
	source_refresh(src);
}

/* ---- the fleet runtime ---- */

/* Says who polls: this console, or (read-only) the process holding the lease. */
static void
update_poller_text(struct source *src)
{
	struct fleet_totals ft;
	char *o;

	if (src->fleet == NULL) {
		snprintf(src->poller_text, sizeof src->poller_text, "none (read-only)");
		return;
	}
	fleet_get_totals(src->fleet, &ft);
	if (ft.role == FLEET_LEADER) {
		snprintf(src->poller_text, sizeof src->poller_text, "this console");
		return;
	}
	/* No holder known (standing by, the lease reads as free or cannot be read: its error),
	 * never "another poller": a console that stood down during a lock knows of none. */
	if (ft.leader == NULL || !str_has_prefix(ft.leader, "a live poller (")) {
		o = ft.leader != NULL && strstr(ft.leader, "locked") == NULL
		        ? str_sanitize(ft.leader, 100)
		        : xstrdup("database locked?");
		snprintf(
		    src->poller_text, sizeof src->poller_text, "no poller holds the lease (%s)", o);
		free(o);
		return;
	}
	o = str_sanitize(ft.leader, 120);
	/* "a live poller (headless:host:pid:ns:nonce)" reads "headless on host pid N": the
	 * namespace and nonce tell processes apart, not people. */
	if (o[strlen(o) - 1] == ')') {
		char role[64], host[64];
		long pid;
		o[strlen(o) - 1] = '\0';
		memmove(o, o + 15, strlen(o + 15) + 1);
		if (sscanf(o, "%63[^:]:%63[^:]:%ld:", role, host, &pid) == 3) {
			free(o);
			o = xasprintf("%s on %s pid %ld", role, host, pid);
		}
	}
	snprintf(src->poller_text, sizeof src->poller_text, "%s (read-only)", o);
	free(o);
}

/* ---- the agent API, served while this console runs the fleet ---- */

static void
serve_stop(struct source *src)
{
	provserve_free(src->prov);
	src->prov = NULL;
}

/* The verifier registered devices: the fleet and the rows follow. */
static void
serve_changed_cb(void *arg)
{
	source_registry_changed(arg);
}

/* Where agents reach this console and why not on the configured address, in serve_text. */
static void
serve_status_cb(void *arg)
{
	struct source *src = arg;
	struct provserve_status st;
	char *why = NULL, retry[40] = "";

	provserve_status(src->prov, &st);
	if (st.error != NULL)
		why = str_sanitize(st.error, 160);
	if (st.retry_s > 0)
		snprintf(retry, sizeof retry, "; trying again every %d s", st.retry_s);
	snprintf(src->serve_text, sizeof src->serve_text, "%s%s%s%s%s",
	    st.url != NULL ? st.url : "not served: ", st.url != NULL ? " (this console)" : "",
	    st.url != NULL && why != NULL ? "; not moved: " : "", why != NULL ? why : "", retry);
	free(why);
	notify(src);
}

/* Starts the agent API and the verifier; serve_text says where or why not. */
static void
serve_start(struct source *src)
{
	struct app *app = src->app;
	struct provserve_opts po = {NULL,
	    app->args.set[CLI_LISTEN] ? app->args.val[CLI_LISTEN] : NULL, serve_changed_cb,
	    serve_status_cb, src};

	src->prov = provserve_new(app_engine(app), &po);
	serve_status_cb(src);
}

/*
 * Serves the agent API (and verifies provisioned devices) while this console leads and the
 * configuration asks for it (console-agent-api, or --listen on the command line); a console
 * standing by leaves it to the poller that holds the lease. A reload applies to the service.
 */
static void
serve_update(struct source *src, int reloaded)
{
	struct app *app = src->app;

	struct fleet_totals ft;
	char *leader;

	if (src->fleet == NULL || fleet_role(src->fleet) != FLEET_LEADER) {
		serve_stop(src);
		if (src->fleet != NULL)
			fleet_get_totals(src->fleet, &ft);
		leader = str_sanitize(src->fleet == NULL || ft.leader == NULL
		                          ? "the poller that holds the lease"
		                          : ft.leader,
		    160);
		snprintf(src->serve_text, sizeof src->serve_text, "%s%s",
		    src->fleet == NULL ? "not served by this console" : "served by ",
		    src->fleet == NULL ? "" : leader);
		free(leader);
		return;
	}
	if (!app->args.set[CLI_LISTEN] && !conf_get_bool(app->cfg, OPT_CONSOLE_AGENT_API)) {
		serve_stop(src);
		snprintf(src->serve_text, sizeof src->serve_text,
		    "off (set console-agent-api on to serve agents here)");
		return;
	}
	if (src->prov == NULL)
		serve_start(src);
	else if (reloaded)
		provserve_reload(src->prov);
}

const char *
source_agent_api(const struct source *src)
{
	return src->serve_text;
}

static void
fleet_changed_cb(enum fleet_event ev, const char *mac, void *arg)
{
	struct source *src = arg;

	(void)mac;
	if (ev == FLEET_EV_CONF) {
		src->app->cfg = src->app->eng.conf;
		app_conf_changed(src->app);
	}
	if (ev == FLEET_EV_CONF || ev == FLEET_EV_ROLE)
		serve_update(src, ev == FLEET_EV_CONF);
	if (ev == FLEET_EV_ROLE) {
		update_poller_text(src);
		notify(src);
	}
}

static void
timer_cb(void *arg)
{
	struct source *src = arg;
	struct store_health h;
	int64_t dv;

	update_poller_text(src);
	store_get_health(src->app->store, &h);
	if (h.failing != src->write_failing) {
		src->write_failing = h.failing;
		notify(src);
	}
	dv = store_data_version(src->app->store);
	if (dv != src->data_version) {
		src->data_version = dv;
		source_refresh(src);
	}
	loop_timer_arm(src->timer, REFRESH_MS);
}

/* The resolver asks for a password: the console's prompt answers it, now or later. */
static void
console_prompt_cb(struct creds_prompt *q, const char *user, const char *why, void *arg)
{
	struct source *src = arg;
	char *w = str_sanitize(why, 200);

	if (src->prompt == NULL)
		creds_prompt_answer(q, NULL);
	else
		src->prompt(q, user, w, src->prompt_arg);
	free(w);
}

void
source_set_prompt(struct source *src, source_prompt_cb cb, void *arg)
{
	src->prompt = cb;
	src->prompt_arg = arg;
}

void
source_prompt_answer(struct creds_prompt *q, const char *password)
{
	creds_prompt_answer(q, password);
}

struct source *
source_new(struct app *app, int flags, void (*changed)(void *), void *arg, char **cause)
{
	struct source *src;

	if (app->store == NULL && app_open_store(app) != 0) {
		*cause = xstrdup("cannot open the database");
		return NULL;
	}
	src = xcalloc(1, sizeof *src);
	src->app = app;
	src->flags = flags;
	src->events = xcalloc(EVENTS_KEPT, sizeof *src->events);
	/* The operator's password comes from the console, never from a tty read. */
	app_creds_start(app, console_prompt_cb, src);
	/* The loop serves the keys: a locked database fails this console's writes fast (tried
	 * again at the next tick, the queue kept) instead of stalling them (store/store.h). */
	store_set_busy_wait(app->store, STORE_LOOP_BUSY_WAIT_MS);
	if (!(flags & SOURCE_NO_POLLER)) {
		struct fleet_opts fo = {"console", 1, 1};
		src->fleet = fleet_new(app_engine(app), &fo, cause);
		if (src->fleet == NULL) {
			free(src->events);
			free(src);
			return NULL;
		}
		fleet_set_event_cb(src->fleet, fleet_changed_cb, src);
		fleet_start(src->fleet);
	}
	serve_update(src, 0);
	update_poller_text(src);
	src->data_version = store_data_version(app->store);
	src->changed = NULL;
	source_refresh(src);
	src->changed = changed;
	src->arg = arg;
	src->timer = loop_timer_new(app->loop, timer_cb, src);
	loop_timer_arm(src->timer, REFRESH_MS);
	return src;
}

void
source_free(struct source *src)
{
	if (src == NULL)
		return;
	while (src->jobs != NULL)
		source_job_free(src->jobs);
	creds_cancel(src->app->creds, src);
	loop_timer_free(src->timer);
	serve_stop(src);
	/* Stops polling, writes what is buffered and gives the lease back. */
	fleet_free(src->fleet);
	free(src->rows);
	free(src->status_error);
	free(src->events);
	free(src->ignored);
	while (src->nfresh > 0)
		fresh_drop(src, &src->fresh[0]);
	free(src->fresh);
	free(src);
}

const struct source_dev *
source_devices(const struct source *src, size_t *n)
{
	*n = src->nrows;
	return src->rows;
}

void
source_get_totals(const struct source *src, struct source_totals *t)
{
	memset(t, 0, sizeof *t);
	t->devices = src->nrows;
	for (size_t i = 0; i < src->nrows; i++) {
		const struct source_dev *r = &src->rows[i];
		if (!r->has_status) {
			t->unknown++;
			continue;
		}
		if ((int)r->state >= 0 && r->state < DEVICE_STATE_COUNT)
			t->by_state[r->state]++;
		if (r->state == DEVICE_ONLINE && dev_known(r->power_w))
			t->power_w += r->power_w;
		if (r->status_ms > t->polled_ms)
			t->polled_ms = r->status_ms;
	}
}

const char *
source_poller(const struct source *src)
{
	return src->poller_text;
}

const char *
source_write_failed(const struct source *src)
{
	struct store_health h;

	store_get_health(src->app->store, &h);
	return h.failing != 0 ? store_write_name(h.last) : NULL;
}

const char *
source_unsaved(const struct source *src)
{
	struct store_health h;

	store_get_health(src->app->store, &h);
	if (!(h.failing & (1u << STORE_WRITE_FLUSH)))
		return NULL;
	return source_db_locked(src) ? "results not saved: database locked" : "results not saved";
}

const char *
source_status_unreadable(const struct source *src)
{
	return src->status_error;
}

int
source_db_locked(const struct source *src)
{
	const char *e = store_last_error(src->app->store);

	return e != NULL && strstr(e, "locked") != NULL;
}

int
source_polling(const struct source *src)
{
	return src->fleet != NULL && fleet_role(src->fleet) == FLEET_LEADER;
}

/* ---- one device ---- */

char *
source_own_name(struct source *src, const char *mac)
{
	const struct source_dev *r = find_row(src->rows, src->nrows, mac);
	char *own = devname_reported(src->app->store, mac), cut[sizeof r->name];

	if (own != NULL)
		str_copy(cut, sizeof cut, own); /* as the row keeps its name */
	if (own != NULL && (own[0] == '\0' || (r != NULL && strcmp(cut, r->name) == 0))) {
		free(own);
		own = NULL;
	}
	return own;
}

/* Sanitises the names (and input types) registry_names_apply copied into st. */
static void
names_sanitize(struct device_status *st)
{
	for (int i = 0; i < st->nswitches; i++)
		str_sanitize_inplace(st->switches[i].name);
	for (int i = 0; i < st->ncovers; i++)
		str_sanitize_inplace(st->covers[i].name);
	for (int i = 0; i < st->nlights; i++)
		str_sanitize_inplace(st->lights[i].name);
	for (int i = 0; i < st->ninputs; i++) {
		str_sanitize_inplace(st->inputs[i].name);
		str_sanitize_inplace(st->inputs[i].type);
	}
	for (int i = 0; i < st->nmeters; i++)
		str_sanitize_inplace(st->meters[i].name);
}

void
source_names(struct source *src, const char *mac, struct source_names *n,
    struct device_status *st)
{
	if (n->c == NULL) {
		n->c = xmalloc(sizeof *n->c);
		devconfig_init(n->c);
	}
	/* A store that cannot be read now (locked) keeps the names read before. */
	(void)registry_names_read(src->app->store, mac, &n->seen, n->c);
	registry_names_apply(n->c, st);
	names_sanitize(st);
}

void
source_names_done(struct source_names *n)
{
	if (n->c != NULL)
		devconfig_done(n->c);
	free(n->c);
	memset(n, 0, sizeof *n);
}

int
source_status(struct source *src, const char *mac, struct device_status *out)
{
	const struct source_dev *r = find_row(src->rows, src->nrows, mac);
	struct store_status *st = r != NULL ? status_get(src, mac, r->gen, r->running) : NULL;
	char *cause = NULL;
	int rc = -1;

	device_status_init(out);
	if (st != NULL && st->json != NULL) {
		rc = shelly_status_parse(
		    r->gen, st->json, strlen(st->json), r->running, out, &cause);
		free(cause);
	}
	store_status_free(st);
	return rc;
}

int
source_raw(struct source *src, const char *mac, struct textlines *out)
{
	const struct source_dev *r = find_row(src->rows, src->nrows, mac);
	struct store_status *st = status_get(src, mac, r != NULL ? r->gen : 0, NULL);
	int rc = -1;

	if (st != NULL && st->json != NULL) {
		cJSON *j = cJSON_ParseWithLength(st->json, strlen(st->json));
		char *text = j != NULL ? cJSON_Print(j) : NULL;

		textlines_add_text(out, text != NULL ? text : st->json);
		cJSON_free(text);
		cJSON_Delete(j);
		rc = 0;
	}
	store_status_free(st);
	return rc;
}

struct hist_ctx {
	int64_t from, span;
	size_t n;
	double *pw, *tc;
	unsigned *npw, *ntc;
};

static int
sample_cb(const struct store_sample *smp, void *arg)
{
	struct hist_ctx *h = arg;
	size_t i = (size_t)((smp->ts_ms - h->from) * (int64_t)h->n / h->span);

	if (i >= h->n)
		return 0;
	if (dev_known(smp->power_w)) {
		h->pw[i] += smp->power_w;
		h->npw[i]++;
	}
	if (dev_known(smp->temperature_c)) {
		h->tc[i] += smp->temperature_c;
		h->ntc[i]++;
	}
	return 0;
}

int
source_history(struct source *src, const char *mac, int64_t span_ms, double *out, size_t n)
{
	struct hist_ctx h;
	size_t npw = 0, ntc = 0;
	char *cause = NULL;
	int kind;

	if (n == 0 || span_ms <= 0)
		return 0;
	h.span = span_ms;
	h.from = loop_wall_ms() - span_ms;
	h.n = n;
	h.pw = xcalloc(n, sizeof *h.pw);
	h.tc = xcalloc(n, sizeof *h.tc);
	h.npw = xcalloc(n, sizeof *h.npw);
	h.ntc = xcalloc(n, sizeof *h.ntc);
	if (store_history_list(
	        src->app->store, mac, h.from, h.from + span_ms + 1, sample_cb, &h, &cause) != 0) {
		free(cause);
	}
	for (size_t i = 0; i < n; i++) {
		npw += h.npw[i] > 0;
		ntc += h.ntc[i] > 0;
	}
	kind = npw > 0 ? 1 : ntc > 0 ? 2 : 0;
	for (size_t i = 0; i < n; i++) {
		if (kind == 1)
			out[i] = h.npw[i] ? h.pw[i] / h.npw[i] : NAN;
		else if (kind == 2)
			out[i] = h.ntc[i] ? h.tc[i] / h.ntc[i] : NAN;
		else
			out[i] = NAN;
	}
	free(h.pw);
	free(h.tc);
	free(h.npw);
	free(h.ntc);
	return kind;
}

size_t
source_events(struct source *src, const char *mac, struct source_event *out, size_t max)
{
	size_t got = 0;

	for (size_t k = src->nevents; k > 0 && got < max; k--) {
		const struct source_event *e = &src->events[(src->ev_head + k - 1) % EVENTS_KEPT];
		if (mac == NULL || strcmp(e->mac, mac) == 0)
			out[got++] = *e;
	}
	return got;
}

/* ---- jobs: children of this binary ---- */

static struct source_result *
job_result(struct source_job *job, const char *target, int ok, const char *text)
{
	struct source_result *r;

	job->results = xreallocarray(job->results, job->nresults + 1, sizeof *job->results);
	r = &job->results[job->nresults++];
	memset(r, 0, sizeof *r);
	copy_safe(r->target, sizeof r->target, target);
	r->ok = ok;
	copy_safe(r->text, sizeof r->text, text);
	return r;
}

/* A job ended: the poller learns of new devices or polls again to show an action's effect. */
static void
job_end(struct source_job *job)
{
	struct source *src = job->src;

	job->finished = 1;
	job->done = job->is_scan ? job->total : job->nresults;
	if (job->total < job->done)
		job->total = job->done;
	if (job->regop != NULL)
		source_registry_changed(src); /* a device was (re)registered: the table shows it */
	else if (src->fleet != NULL && job->is_scan)
		fleet_registry_changed(src->fleet);
	else if (src->fleet != NULL)
		fleet_poll_now(src->fleet);
	if (job->read_back)
		source_refresh(src); /* the devices' own readings, until the poller's are newer */
	if (job->cb != NULL)
		job->cb(job, job->arg);
}

/* Reports the end from a fresh loop turn (a runner or discovery may still unwind). */
static void
reap_cb(void *arg)
{
	job_end(arg);
}

/* A new job of src, in its list; nothing started. */
static struct source_job *
job_new(struct source *src, int is_scan, size_t total, source_job_cb done, void *arg)
{
	struct source_job *job = xcalloc(1, sizeof *job);

	job->src = src;
	job->is_scan = is_scan;
	job->total = total;
	job->cb = done;
	job->arg = arg;
	job->reap = loop_timer_new(src->app->loop, reap_cb, job);
	job->next = src->jobs;
	src->jobs = job;
	return job;
}

static void
runner_progress_cb(size_t ndone, size_t n, void *arg)
{
	struct job_part *part = arg;
	struct source_job *job = part->job;

	(void)n;
	part->done = ndone;
	job->done = 0;
	for (size_t i = 0; i < job->nparts; i++)
		job->done += job->parts[i].done;
	notify(job->src);
}

/*
 * Whether an action that failed with result may still have been carried out: the request
 * may have reached the device before the connection timed out, was reset or its reply was
 * cut or unreadable. Refusals, unreachable hosts, TLS and authentication failures, HTTP
 * errors and the device's own RPC errors mean it was not; so does any failure before the
 * action's own request went out (runner_result.sent: the identification timed out).
 */
static int
maybe_applied(enum http_result result)
{
	return result == HTTP_TIMEOUT || result == HTTP_RESET || result == HTTP_TRUNCATED ||
	       result == HTTP_BAD_JSON || result == HTTP_TOO_LARGE || result == HTTP_CANCELLED ||
	       result == HTTP_ERROR;
}

static void
runner_done_cb(void *arg)
{
	struct job_part *part = arg;
	struct source_job *job = part->job;
	size_t n = runner_count(part->runner, NULL);
	char *cause = NULL;

	for (size_t i = 0; i < n; i++) {
		struct runner_result r;
		struct source_result *x;
		char text[160];
		runner_result(part->runner, i, &r);
		if (r.duplicate_of != NULL)
			continue; /* the same device as another mark: acted on once */
		if (r.ok)
			snprintf(text, sizeof text, "ok%s%s", r.ok_text ? ": " : "",
			    r.ok_text ? r.ok_text : "");
		else
			snprintf(text, sizeof text, "failed: %s: %s", http_result_name(r.result),
			    r.error ? r.error : "?");
		x = job_result(job, r.id ? r.id : r.mac ? r.mac : r.target, r.ok, text);
		str_copy(x->action, sizeof x->action, part->action);
		x->unsure = !r.ok && r.sent && maybe_applied(r.result) &&
		            (!strcmp(part->action, "switch_toggle") ||
		                !strcmp(part->action, "light_toggle"));
		/* the targets are MACs: the results view names the device by it */
		copy_safe(x->mac, sizeof x->mac, r.mac ? r.mac : r.target);
		if (r.ok && r.mac != NULL && r.status_json != NULL) {
			fresh_put(job->src, r.mac, r.status_json, r.status_ms);
			job->read_back = 1;
		}
	}
	if (runner_audit(part->runner, &cause) != 0) {
		log_warn("console: audit: %s", cause);
		free(cause);
	}
	/* The reap timer reports the end from a fresh loop turn (the runner may still unwind). */
	if (--job->parts_running == 0)
		loop_timer_arm(job->reap, 0);
}

/* Starts one runner of job for action over targets; 0, or -1 with job->error set. */
static int
part_start(struct source_job *job, struct job_part *part, const char *action,
    const char *const *targets, size_t n)
{
	const struct action_info *ai = action_find(action);
	struct runner_cbs cbs = {NULL, runner_progress_cb, runner_done_cb, part};
	struct action a;
	char *cause = NULL;

	part->job = job;
	str_copy(part->action, sizeof part->action, action);
	if (ai == NULL) {
		job->error = xasprintf("unknown action %s", action);
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.kind = ai->kind;
	a.id = job->channel >= 0 ? job->channel : 0;
	a.value = job->value >= 0 ? job->value : 0;
	part->runner =
	    runner_new(app_engine(job->src->app), &a, targets, n, "console", &cbs, &cause);
	if (part->runner == NULL) {
		job->error = str_sanitize(cause, 200);
		free(cause);
		return -1;
	}
	if (job->light != NULL && action_light_parse(job->light, &a.light) == 0)
		runner_set_light(part->runner, a.light);
	/* Standing by, nothing polls for the console: it reads the device's new state itself. */
	if (!source_polling(job->src))
		runner_set_read_back(part->runner);
	return 0;
}

/* source_actions, with the light component type the light actions name (or NULL). */
static struct source_job *
actions_start(struct source *src, const char *const *actions, const char *light, int channel,
    int value, const char *const *macs, size_t n, source_job_cb done, void *arg)
{
	struct source_job *job = job_new(src, 0, n, done, arg);
	const char **targets = xcalloc(n ? n : 1, sizeof *targets);

	job->is_action = 1;
	job->light = light;
	job->channel = channel;
	job->value = value;
	/* One part per distinct action name, in the order they first appear. */
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t k = 0; k < job->nparts && !seen; k++)
			seen = strcmp(job->parts[k].action, actions[i]) == 0;
		if (!seen) {
			job->parts = xreallocarray(job->parts, job->nparts + 1, sizeof *job->parts);
			memset(&job->parts[job->nparts], 0, sizeof *job->parts);
			str_copy(job->parts[job->nparts++].action, sizeof job->parts->action,
			    actions[i]);
		}
	}
	for (size_t k = 0; k < job->nparts; k++) {
		size_t m = 0;
		char action[32];
		str_copy(action, sizeof action, job->parts[k].action);
		for (size_t i = 0; i < n; i++)
			if (strcmp(actions[i], action) == 0)
				targets[m++] = macs[i];
		if (part_start(job, &job->parts[k], action, targets, m) != 0)
			break;
	}
	free(targets);
	if (job->error != NULL || job->nparts == 0) {
		loop_timer_arm(job->reap, 0);
		return job;
	}
	job->parts_running = job->nparts;
	for (size_t k = 0; k < job->nparts; k++)
		runner_start(job->parts[k].runner);
	return job;
}

struct source_job *
source_actions(struct source *src, const char *const *actions, int channel, int value,
    const char *const *macs, size_t n, source_job_cb done, void *arg)
{
	return actions_start(src, actions, NULL, channel, value, macs, n, done, arg);
}

struct source_job *
source_light_action(struct source *src, const char *action, const char *light, int channel,
    int value, const char *mac, source_job_cb done, void *arg)
{
	return actions_start(src, &action, light, channel, value, &mac, 1, done, arg);
}

struct source_job *
source_action(struct source *src, const char *action, int channel, int value,
    const char *const *macs, size_t n, source_job_cb done, void *arg)
{
	const char **actions = xcalloc(n ? n : 1, sizeof *actions);
	struct source_job *job;

	for (size_t i = 0; i < n; i++)
		actions[i] = action;
	job = source_actions(src, actions, channel, value, macs, n, done, arg);
	free(actions);
	return job;
}

static void
register_done_cb(const struct registry_result *r, void *arg)
{
	struct source_job *job = arg;
	const char *ok = job->value == 1       ? "ok: the certificate it shows now is pinned"
	                 : r->with_credentials ? "ok: the password works and is stored"
	                                       : "ok: read again (it needs no password)";

	job_result(
	    job, r->ident != NULL ? r->ident->id : "", r->rc == 0, r->rc == 0 ? ok : r->cause);
	loop_timer_arm(job->reap, 0);
}

struct source_job *
source_reregister(
    struct source *src, const char *mac, int accept_cert, source_job_cb done, void *arg)
{
	struct source_job *job = job_new(src, 0, 1, done, arg);
	struct store_device *d = store_device_find_mac(src->app->store, mac);
	struct registry_req req;

	job->value = accept_cert; /* read by register_done_cb */
	if (d == NULL || d->host == NULL ||
	    (accept_cert && (d->scheme == NULL || strcmp(d->scheme, "https") != 0))) {
		job->error = xstrdup(
		    accept_cert ? "not a registered HTTPS device" : "not a registered device");
		store_device_free(d);
		loop_timer_arm(job->reap, 0);
		return job;
	}
	memset(&req, 0, sizeof req);
	req.host = d->host;
	req.port = (uint16_t)d->port;
	req.https = d->scheme != NULL && strcmp(d->scheme, "https") == 0;
	req.accept_cert = accept_cert;
	req.ask_password = !accept_cert; /* a refused stored password: the operator is asked */
	req.mac = d->mac; /* only this device: another one answering there gets nothing */
	req.name = d->name; /* the registered name stays */
	req.who = "console";
	/* A read that needs no network may finish inside registry_add: the reap timer is armed
	 * by then, and job->regop is only compared with NULL. */
	job->regop = registry_add(app_engine(src->app), &req, register_done_cb, job);
	store_device_free(d);
	return job;
}

/* ---- discovery in the console's loop ---- */

static void
disc_progress_cb(const struct discover_progress *p, void *arg)
{
	struct source_job *job = arg;

	if (p->scan != NULL) {
		job->done = (size_t)p->scan->done;
		job->total = (size_t)p->scan->total;
	}
	notify(job->src);
}

static void
disc_found_cb(const struct discover_found *f, void *arg)
{
	struct source_job *job = arg;
	struct store_device *d = store_device_find_mac(job->src->app->store, f->ident.mac);
	char text[160];
	struct source_result *r;

	snprintf(text, sizeof text, "%s gen %d", f->ident.model, f->ident.gen);
	r = job_result(job, f->ident.id[0] ? f->ident.id : f->ident.mac, 1, text);
	str_copy(r->mac, sizeof r->mac, f->ident.mac);
	copy_safe(r->host, sizeof r->host, f->host);
	r->port = f->port;
	r->https = f->https;
	r->known = d != NULL;
	if (d != NULL && d->host != NULL) {
		int https = d->scheme != NULL && strcmp(d->scheme, "https") == 0;
		uint16_t port = d->port > 0 ? (uint16_t)d->port : https ? 443 : 80;
		if (strcmp(d->host, f->host) != 0 || port != f->port || https != f->https) {
			r->moved = 1;
			copy_safe(r->old_host, sizeof r->old_host, d->host);
			r->old_port = port;
		}
	}
	store_device_free(d);
	notify(job->src);
}

static void
disc_done_cb(void *arg)
{
	struct source_job *job = arg;

	loop_timer_arm(job->reap, 0);
}

static int
disc_has_credentials_cb(const char *mac, const char *id, void *arg)
{
	struct source_job *job = arg;

	return creds_known(job->src->app->cfg, NULL, mac, id, NULL);
}

/* Starts the discovery of job over target; -1 with job->error. */
static int
disc_start(struct source_job *job, const char *target)
{
	struct app *app = job->src->app;
	struct scan_targets *targets = scan_targets_new();
	int mdns = str_caseeq(target, "mdns");
	struct discover_opts o;
	struct discover_cbs cbs = {
	    disc_progress_cb, NULL, disc_found_cb, disc_done_cb, disc_has_credentials_cb, job};
	const char *why = NULL;
	char *cause = NULL;

	if (!mdns && (scan_targets_add(targets, target, &cause) != 0 ||
	                 scan_targets_check_size(targets, 0, &cause) != 0 ||
	                 scan_targets_check_guard(targets, app->guard, &cause) != 0))
		;
	else {
		/* The command line's --timeout and --port apply to the console's scans too. */
		struct discoveropts over = {
		    .timeout_s = app->args.timeout_s, .port = app->args.port};

		/* mDNS multicasts to 224.0.0.251: refused, with the reason, when the guard says so. */
		discoveropts_fill(app_engine(app), &over, mdns, targets, &o, &why);
		if (why != NULL)
			cause = xstrdup(why);
		else
			job->disc = discover_new(app->loop, app->http, &o, &cbs, &cause);
	}
	scan_targets_free(targets);
	if (job->disc == NULL) {
		job->error = str_sanitize(cause != NULL ? cause : "discovery failed", 200);
		free(cause);
		return -1;
	}
	discover_start(job->disc);
	return 0;
}

struct source_job *
source_scan(struct source *src, const char *target, source_job_cb done, void *arg)
{
	struct source_job *job = job_new(src, 1, 0, done, arg);

	if (disc_start(job, target) != 0)
		loop_timer_arm(job->reap, 0);
	return job;
}

/* The discovery's record of mac after a commit, or NULL. */
static const struct discover_found *
found_of(const struct discover *disc, const char *mac)
{
	for (size_t i = 0; i < discover_count(disc); i++)
		if (strcmp(discover_get(disc, i)->ident.mac, mac) == 0)
			return discover_get(disc, i);
	return NULL;
}

int
source_add_found(struct source *src, struct source_job *scan, const char *mac, char **cause)
{
	const struct discover_found *f;
	int rc = 0;

	if (scan->disc == NULL) {
		*cause = xstrdup("the scan did not run");
		return -1;
	}
	if (discover_commit_one(scan->disc, src->app->store, mac, loop_wall_ms(), cause) != 0)
		return -1;
	f = found_of(scan->disc, mac);
	for (size_t i = 0; i < scan->nresults; i++) {
		struct source_result *r = &scan->results[i];
		if (strcmp(r->mac, mac) != 0)
			continue;
		if (f != NULL && f->conflict) {
			*cause = xstrdup("mac_conflict: the device is held (the registry keeps its "
			                 "address) until confirmed with --add");
			rc = 1;
		} else {
			r->known = 1;
			r->moved = 0;
		}
	}
	source_registry_changed(src);
	return rc;
}

void
source_ignore(struct source *src, const char *mac, int on)
{
	for (size_t i = 0; i < src->nignored; i++)
		if (strcmp(src->ignored[i], mac) == 0) {
			if (!on)
				memmove(&src->ignored[i], &src->ignored[i + 1],
				    (--src->nignored - i) * sizeof *src->ignored);
			return;
		}
	if (on) {
		src->ignored = xreallocarray(src->ignored, src->nignored + 1, sizeof *src->ignored);
		str_copy(src->ignored[src->nignored++], DEV_MAC_LEN, mac);
	}
}

int
source_ignored(const struct source *src, const char *mac)
{
	for (size_t i = 0; i < src->nignored; i++)
		if (strcmp(src->ignored[i], mac) == 0)
			return 1;
	return 0;
}

struct source_job *
source_job_retry(struct source *src, const struct source_job *job)
{
	const char **targets, **actions;
	struct source_job *again;
	size_t n = 0;

	if (!job->is_action)
		return NULL;
	targets = xcalloc(job->nresults + 1, sizeof *targets);
	actions = xcalloc(job->nresults + 1, sizeof *actions);
	for (size_t i = 0; i < job->nresults; i++)
		if (!job->results[i].ok && !job->results[i].unsure) {
			actions[n] = job->results[i].action;
			targets[n++] = job->results[i].target;
		}
	/* (the light component a light action named, too: cct:0 is not the profile's rgb:0) */
	again = n > 0 ? actions_start(src, actions, job->light, job->channel, job->value, targets,
	                    n, NULL, NULL)
	              : NULL;
	free(targets);
	free(actions);
	return again;
}

size_t
source_jobs_pending(const struct source *src)
{
	size_t n = 0;

	for (const struct source_job *job = src->jobs; job != NULL; job = job->next)
		if (!job->finished && !job->is_scan)
			n += job->total > job->done ? job->total - job->done : 1;
	return n;
}

size_t
source_scans_running(const struct source *src)
{
	size_t n = 0;

	for (const struct source_job *job = src->jobs; job != NULL; job = job->next)
		n += !job->finished && job->is_scan;
	return n;
}

void
source_job_set_done(struct source_job *job, source_job_cb done, void *arg)
{
	job->cb = done;
	job->arg = arg;
}

void
source_job_progress(const struct source_job *job, struct source_progress *p)
{
	p->scan = job->is_scan;
	p->finished = job->finished;
	p->total = job->total;
	p->done = job->done;
	p->results = job->nresults;
	p->ok = 0;
	for (size_t i = 0; i < job->nresults; i++)
		p->ok += job->results[i].ok != 0;
	p->error = job->error;
}

const struct source_result *
source_job_results(const struct source_job *job, size_t *n)
{
	*n = job->nresults;
	return job->results;
}

void
source_job_free(struct source_job *job)
{
	struct source_job **pp;

	if (job == NULL)
		return;
	for (pp = &job->src->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	discover_free(job->disc);
	loop_timer_free(job->reap);
	for (size_t k = 0; k < job->nparts; k++)
		runner_free(job->parts[k].runner);
	free(job->parts);
	registry_op_free(job->regop);
	free(job->results);
	free(job->error);
	free(job);
}

size_t
source_local_nets(const struct source *src, char *buf, size_t size)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0, len = 0;

	buf[0] = '\0';
	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)i->ifa_addr;
		const struct sockaddr_in *m =
		    (const struct sockaddr_in *)(const void *)i->ifa_netmask;
		uint32_t addr, mask;
		struct in_addr net;
		char text[INET_ADDRSTRLEN];
		int prefix;

		if (a == NULL || m == NULL || a->sin_family != AF_INET)
			continue;
		addr = ntohl(a->sin_addr.s_addr);
		mask = ntohl(m->sin_addr.s_addr);
		inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
		if ((addr >> 24) == 127 || mask == 0 || !guard_allows(src->app->guard, text))
			continue;
		prefix = __builtin_popcount(mask);
		net.s_addr = htonl(addr & mask);
		inet_ntop(AF_INET, &net, text, sizeof text);
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s/%d",
		    n > 0 ? " " : "", text, prefix);
		n++;
		if (len >= size) {
			buf[size - 1] = '\0';
			break;
		}
	}
	freeifaddrs(ifa);
	return n;
}
