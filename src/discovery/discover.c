/*
 * One discovery run: mDNS + scan on the loop, candidates confirmed by GET /shelly, merged by
 * MAC, written to the store at the end. See discovery/discover.h.
 */
#include "discovery/discover.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "model/object.h"
#include "net/http.h"
#include "shelly/client.h"
#include "store/store.h"
#include "util/hostport.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define MAX_ALTS 4
#define VIA_TEXT_MAX 128

static const char *const via_names[DISCOVER_VIA_COUNT] = {
#define DISCOVER_VIA_NAME(id, name) name,
    DISCOVER_VIAS(DISCOVER_VIA_NAME)
#undef DISCOVER_VIA_NAME
};

/* An address a device answered at. */
struct alt {
	char host[DISCOVER_HOST_MAX];
	uint16_t port;
	int https;
	char pin[DISCOVER_PIN_MAX];
};

static const char still_shows[] = "the registered address still shows this MAC";

/* What the registered address of a device found elsewhere showed (check_registered). */
enum old_check { OLD_UNCHECKED, OLD_GONE, OLD_ALIVE };

struct found {
	struct discover_found f;
	struct alt alt[MAX_ALTS];
	size_t nalt;
	enum old_check old_check;
};

/*
 * A candidate probe in flight, or (fd set) a check of fd's registered address; d is NULL once
 * the run is gone (the reply is then dropped).
 */
struct confirm {
	struct discover *d;
	struct found *fd;
	LIST_ENTRY(confirm) entry;
	uint64_t id;
	char host[DISCOVER_HOST_MAX];
	uint16_t port;
	enum discover_via via;
};

struct hostport {
	char host[DISCOVER_HOST_MAX];
	uint16_t port;
};

struct discover {
	struct loop *loop;
	struct http *http;
	struct discover_opts o;
	struct discover_cbs cbs;
	struct scan *scan;
	struct mdns *mdns;
	struct loop_timer *mdns_timer; /* max wait, then the window after "all for now" */
	/* The only caller of maybe_done: done_cb runs from d's own timer, never from inside a
	 * reply, scan or mDNS callback, so the caller may free d there. */
	struct loop_timer *done_timer;
	int started, stopping, finished;
	int checked; /* the registered addresses were checked (check_registered) */
	int mdns_done, mdns_available;
	LIST_HEAD(, confirm) confirms;
	size_t nconfirms;
	struct hostport *probed;
	size_t nprobed, capprobed;
	struct found **found;
	size_t nfound, capfound;
	size_t mdns_candidates, confirm_failed, no_mac;
	uint64_t start_ms, elapsed_ms;
	int interrupted;
};

const char *
discover_via_name(enum discover_via via)
{
	return str_table_name(via_names, DISCOVER_VIA_COUNT, (int)via);
}

static void
via_text(unsigned via, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < DISCOVER_VIA_COUNT; i++) {
		if (!(via & (1u << i)))
			continue;
		len += (size_t)snprintf(
		    out + len, len < size ? size - len : 0, "%s%s", len ? "," : "", via_names[i]);
		if (len >= size)
			break;
	}
}

static void
progress(struct discover *d)
{
	struct discover_progress p;

	if (d->cbs.progress_cb == NULL)
		return;
	memset(&p, 0, sizeof p);
	p.scan = d->scan != NULL ? scan_get_progress(d->scan) : NULL;
	p.found = d->nfound;
	p.confirming = d->nconfirms;
	p.mdns_browsing = d->mdns != NULL && !d->mdns_done;
	d->cbs.progress_cb(&p, d->cbs.arg);
}

static size_t check_registered(struct discover *d);

static void
maybe_done(struct discover *d)
{
	if (d->finished || !d->started)
		return;
	if (d->o.mdns && !d->mdns_done)
		return;
	if (d->scan != NULL && !scan_finished(d->scan))
		return;
	if (d->nconfirms > 0)
		return;
	if (!d->checked) {
		d->checked = 1;
		if (check_registered(d) > 0)
			return;
	}
	d->finished = 1;
	d->elapsed_ms = loop_now_ms(d->loop) - d->start_ms;
	if (d->cbs.done_cb != NULL)
		d->cbs.done_cb(d->cbs.arg);
}

static void
done_timer_cb(void *arg)
{
	maybe_done(arg);
}

/* ---- recording what was found ---- */

static struct found *
found_find(struct discover *d, const char *mac)
{
	for (size_t i = 0; i < d->nfound; i++)
		if (strcmp(d->found[i]->f.ident.mac, mac) == 0)
			return d->found[i];
	return NULL;
}

static void
alt_add(struct found *fd, const char *host, uint16_t port, int https, const char *pin)
{
	struct alt *a;

	for (size_t i = 0; i < fd->nalt; i++)
		if (strcmp(fd->alt[i].host, host) == 0 && fd->alt[i].port == port) {
			if (https && !fd->alt[i].https) {
				fd->alt[i].https = 1;
				str_copy(fd->alt[i].pin, sizeof fd->alt[i].pin, pin ? pin : "");
			}
			return;
		}
	if (fd->nalt == MAX_ALTS)
		return;
	a = &fd->alt[fd->nalt++];
	str_copy(a->host, sizeof a->host, host);
	a->port = port;
	a->https = https;
	str_copy(a->pin, sizeof a->pin, pin ? pin : "");
}

static void
found_set_addr(struct found *fd, const struct alt *a)
{
	str_copy(fd->f.host, sizeof fd->f.host, a->host);
	fd->f.port = a->port;
	fd->f.https = a->https;
	str_copy(fd->f.pin, sizeof fd->f.pin, a->pin);
}

void
discover_add_ident(struct discover *d, const struct device_ident *ident, const char *host,
    uint16_t port, int https, const char *pin, enum discover_via via)
{
	struct found *fd;
	char mac[DEV_MAC_LEN];

	/* none, or all zeros or all ones (device_mac_normalise): nothing to key it on */
	if (device_mac_normalise(ident->mac, mac) != 0) {
		char *safe = str_sanitize(host, 64);
		log_warn("discover: the Shelly at %s:%u reported no valid MAC; not stored", safe,
		    (unsigned)port);
		free(safe);
		d->no_mac++;
		return;
	}
	if ((fd = found_find(d, mac)) != NULL) {
		fd->f.via |= 1u << via;
		via_text(fd->f.via, fd->f.via_text, sizeof fd->f.via_text);
		alt_add(fd, host, port, https, pin);
		return;
	}
	fd = xcalloc(1, sizeof *fd);
	fd->f.ident = *ident;
	memcpy(fd->f.ident.mac, mac, sizeof mac);
	fd->f.via = 1u << via;
	via_text(fd->f.via, fd->f.via_text, sizeof fd->f.via_text);
	alt_add(fd, host, port, https, pin);
	found_set_addr(fd, &fd->alt[0]);
	d->found = xgrowarray(d->found, &d->capfound, d->nfound, sizeof *d->found);
	d->found[d->nfound++] = fd;
	if (d->cbs.found_cb != NULL)
		d->cbs.found_cb(&fd->f, d->cbs.arg);
}

/* ---- candidates (mDNS) ---- */

static void
confirm_unlink(struct discover *d, struct confirm *c)
{
	LIST_REMOVE(c, entry);
	d->nconfirms--;
}

/*
 * Records what fd's registered address showed: gone when nothing answers there or something
 * that is not this MAC does; alive when it still shows the MAC. A probe the guard refused or
 * that was cancelled proves nothing (unchecked: a move stays refused).
 */
static void
check_done(struct found *fd, const struct shelly_reply *r)
{
	char mac[DEV_MAC_LEN];

	if (r->result == HTTP_REFUSED_BY_GUARD || r->result == HTTP_CANCELLED)
		return;
	if (r->result == HTTP_OK && r->ident != NULL &&
	    device_mac_normalise(r->ident->mac, mac) == 0 && strcmp(mac, fd->f.ident.mac) == 0)
		fd->old_check = OLD_ALIVE;
	else
		fd->old_check = OLD_GONE;
}

static void
confirm_cb(const struct shelly_reply *r, void *arg)
{
	struct confirm *c = arg;
	struct discover *d = c->d;

	if (d == NULL) {
		free(c);
		return;
	}
	confirm_unlink(d, c);
	if (c->fd != NULL)
		check_done(c->fd, r);
	else if (r->result == HTTP_OK && r->ident != NULL)
		discover_add_ident(d, r->ident, c->host, c->port, 0, NULL, c->via);
	else {
		char *safe = str_sanitize(r->cause, 200);
		d->confirm_failed++;
		if (r->result == HTTP_REFUSED_BY_GUARD)
			log_warn("discover: %s candidate %s", via_names[c->via], safe);
		else
			log_info("discover: %s candidate is not a Shelly: %s: %s",
			    via_names[c->via], http_result_name(r->result), safe);
		free(safe);
	}
	free(c);
	progress(d);
	loop_timer_arm(d->done_timer, 0);
}

/* GET /shelly at host:port (https: over TLS, any key), answered in confirm_cb. */
static void
confirm_start(struct discover *d, const char *host, uint16_t port, int https, enum discover_via via,
    struct found *fd)
{
	struct shelly_target t;
	struct confirm *c = xcalloc(1, sizeof *c);

	c->d = d;
	c->fd = fd;
	str_copy(c->host, sizeof c->host, host);
	c->port = port;
	c->via = via;
	LIST_INSERT_HEAD(&d->confirms, c, entry);
	d->nconfirms++;

	memset(&t, 0, sizeof t);
	t.host = c->host;
	t.port = port;
	t.https = https;
	t.lane_limit = 1;
	t.tls = HTTP_TLS_PIN;
	t.connect_timeout_ms = d->o.confirm_timeout_ms;
	t.timeout_ms = d->o.confirm_timeout_ms;
	t.max_body = SCAN_DEFAULT_MAX_BODY;
	c->id = shelly_identify(d->http, &t, confirm_cb, c);
}

void
discover_add_candidate(struct discover *d, const char *host, uint16_t port, enum discover_via via)
{

	if (host == NULL || host[0] == '\0' || strlen(host) >= DISCOVER_HOST_MAX || d->stopping ||
	    d->finished)
		return;
	if (port == 0)
		port = SCAN_DEFAULT_PORT;
	for (size_t i = 0; i < d->nprobed; i++)
		if (d->probed[i].port == port && strcmp(d->probed[i].host, host) == 0)
			return;
	d->probed = xgrowarray(d->probed, &d->capprobed, d->nprobed, sizeof *d->probed);
	str_copy(d->probed[d->nprobed].host, sizeof d->probed[0].host, host);
	d->probed[d->nprobed++].port = port;
	if (via == DISCOVER_VIA_MDNS)
		d->mdns_candidates++;
	if (d->http == NULL) {
		d->confirm_failed++;
		return;
	}
	confirm_start(d, host, port, 0, via, NULL);
}

static void
mdns_found_cb(const struct mdns_candidate *c, void *arg)
{
	struct discover *d = arg;

	if (c->address[0] == '\0')
		return;
	discover_add_candidate(d, c->address, c->port, DISCOVER_VIA_MDNS);
	progress(d);
}

static void
mdns_all_for_now_cb(void *arg)
{
	struct discover *d = arg;

	if (d->mdns_done)
		return;
	loop_timer_arm(d->mdns_timer, d->o.mdns_window_ms);
}

static void
mdns_status_cb(enum mdns_state state, const char *status, void *arg)
{
	struct discover *d = arg;

	if (state == MDNS_BROWSING)
		d->mdns_available = 1;
	if (d->cbs.mdns_status_cb != NULL)
		d->cbs.mdns_status_cb(state, status, d->cbs.arg);
	/* Never reached the daemon: nothing will come. A daemon that went away mid-run may come
	 * back (the browser retries); the timers bound the wait. */
	if (state == MDNS_UNAVAILABLE && !d->mdns_done && mdns_sessions(d->mdns) == 0) {
		d->mdns_done = 1;
		loop_timer_disarm(d->mdns_timer);
		loop_timer_arm(d->done_timer, 0);
	}
}

static void
mdns_timer_cb(void *arg)
{
	struct discover *d = arg;

	if (!d->mdns_done && d->mdns != NULL && !mdns_all_for_now(d->mdns))
		log_info("discover: no mDNS \"all for now\" within %u ms; stopping the browser",
		    d->o.mdns_max_ms);
	d->mdns_done = 1;
	mdns_free(d->mdns);
	d->mdns = NULL;
	progress(d);
	loop_timer_arm(d->done_timer, 0);
}

/* ---- scan ---- */

static void
scan_hit_cb(const struct scan_hit *hit, void *arg)
{
	discover_add_ident(
	    arg, hit->ident, hit->address, hit->port, hit->https, hit->pin, DISCOVER_VIA_SCAN);
}

static void
scan_progress_cb(const struct scan_progress *p, void *arg)
{
	(void)p;
	progress(arg);
}

static void
scan_done_cb(const struct scan_progress *p, void *arg)
{
	struct discover *d = arg;

	(void)p;
	loop_timer_arm(d->done_timer, 0);
}

/* ---- the run ---- */

struct discover *
discover_new(struct loop *loop, struct http *http, const struct discover_opts *opts,
    const struct discover_cbs *cbs, char **cause)
{
	struct discover *d = xcalloc(1, sizeof *d);

	LIST_INIT(&d->confirms);
	d->loop = loop;
	d->http = http;
	d->o = *opts;
	if (d->o.mdns_window_ms == 0)
		d->o.mdns_window_ms = DISCOVER_DEFAULT_MDNS_WINDOW_MS;
	if (d->o.mdns_max_ms == 0)
		d->o.mdns_max_ms = DISCOVER_DEFAULT_MDNS_MAX_MS;
	if (d->o.confirm_timeout_ms == 0)
		d->o.confirm_timeout_ms = SCAN_DEFAULT_TIMEOUT_MS;
	d->o.targets = NULL; /* the scan keeps its own copy */
	if (cbs != NULL)
		d->cbs = *cbs;
	if (opts->targets != NULL && scan_targets_len(opts->targets) > 0) {
		struct scan_cbs sc = {scan_hit_cb, scan_progress_cb, scan_done_cb, d};
		d->scan = scan_new(loop, opts->targets, &opts->scan, &sc, cause);
		if (d->scan == NULL) {
			free(d);
			return NULL;
		}
	}
	d->mdns_timer = loop_timer_new(loop, mdns_timer_cb, d);
	d->done_timer = loop_timer_new(loop, done_timer_cb, d);
	return d;
}

void
discover_start(struct discover *d)
{
	if (d->started)
		return;
	d->started = 1;
	d->start_ms = loop_update_now(d->loop);
	if (d->o.mdns) {
		struct mdns_cbs mc = {mdns_found_cb, mdns_all_for_now_cb, mdns_status_cb, d};
		d->mdns = mdns_new(d->loop, &mc, d->o.mdns_retry_ms);
		loop_timer_arm(d->mdns_timer, d->o.mdns_max_ms);
	}
	if (d->scan != NULL)
		scan_start(d->scan);
	loop_timer_arm(d->done_timer, 0); /* a run with nothing to do ends from the loop */
}

void
discover_stop(struct discover *d)
{
	struct confirm *c;

	if (d->stopping || d->finished)
		return;
	d->stopping = 1;
	d->interrupted = 1;
	if (!d->started) {
		d->started = 1;
		d->start_ms = loop_update_now(d->loop);
	}
	if (d->scan != NULL)
		scan_stop(d->scan);
	LIST_FOREACH(c, &d->confirms, entry)
		http_cancel(d->http, c->id);
	if (d->o.mdns && !d->mdns_done)
		loop_timer_arm(d->mdns_timer, 0);
	loop_timer_arm(d->done_timer, 0);
}

int
discover_finished(const struct discover *d)
{
	return d->finished;
}

size_t
discover_count(const struct discover *d)
{
	return d->nfound;
}

const struct discover_found *
discover_get(const struct discover *d, size_t i)
{
	return i < d->nfound ? &d->found[i]->f : NULL;
}

/* ---- merge ---- */

static const char *
nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static uint16_t
eff_port(int port, int https)
{
	return port > 0 ? (uint16_t)port : (https ? SCAN_HTTPS_PORT : SCAN_DEFAULT_PORT);
}

static int
token_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The union of the comma-separated method lists a and b, sorted, without repeats. */
static void
via_union(const char *a, const char *b, char *out, size_t size)
{
	char *buf = xasprintf("%s,%s", a ? a : "", b ? b : "");
	char *tok[32], *save = NULL, *p;
	size_t n = 0, len = 0;

	for (p = strtok_r(buf, ",", &save); p != NULL && n < 32; p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (*p != '\0')
			tok[n++] = p;
	}
	qsort(tok, n, sizeof *tok, token_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(tok[i], tok[i - 1]) == 0)
			continue;
		if (len + strlen(tok[i]) + 2 > size)
			break;
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "", tok[i]);
	}
	free(buf);
}

static int
has_credentials(struct discover *d, const struct store_device *old, const char *mac, const char *id)
{
	if (old != NULL && (nz(old->user) != NULL || nz(old->cred_ref) != NULL))
		return 1;
	return d->cbs.has_credentials_cb != NULL && d->cbs.has_credentials_cb(mac, id, d->cbs.arg);
}

static void
queue_auth_required(struct store *store, const struct found *fd, int64_t now_ms)
{
	struct device_view v;
	struct store_status st;
	char *json;

	device_view_init(&v);
	v.ident = &fd->f.ident;
	v.host = fd->f.host;
	v.port = fd->f.port;
	v.scheme = fd->f.https ? "https" : "http";
	v.name = nz(fd->f.name);
	v.state = DEVICE_AUTH_REQUIRED;
	v.error = "authentication required: no credentials for this device";
	v.last_seen = now_ms / 1000;
	json = device_to_json(&v, 0);

	memset(&st, 0, sizeof st);
	memcpy(st.mac, fd->f.ident.mac, sizeof st.mac);
	st.ts_ms = now_ms;
	st.state = device_state_name(DEVICE_AUTH_REQUIRED);
	st.error = v.error;
	st.power_w = st.energy_wh = st.temperature_c = st.rssi_dbm = NAN;
	st.uptime_s = st.outputs_on = st.fw_update = st.cfg_rev = STORE_NULL_INT;
	st.json = json;
	st.keep_reply = 1; /* no reply read: an earlier one stays */
	store_queue_status(store, &st);
	free(json);
}

static int
is_https(const struct store_device *sd)
{
	return sd->scheme != NULL && strcmp(sd->scheme, "https") == 0;
}

/* A pinned HTTPS registration: the key proves the device wherever it answers. */
static int
is_pinned(const struct store_device *sd)
{
	return is_https(sd) && nz(sd->tls_pin) != NULL;
}

/* The address of fd at old's registered one, or NULL. */
static const struct alt *
alt_registered(const struct found *fd, const struct store_device *old)
{
	for (size_t i = 0; old->host != NULL && i < fd->nalt; i++)
		if (strcmp(fd->alt[i].host, old->host) == 0 &&
		    fd->alt[i].port == eff_port(old->port, is_https(old)))
			return &fd->alt[i];
	return NULL;
}

/* The address of fd that shows old's pinned key, or NULL. */
static const struct alt *
alt_pinned(const struct found *fd, const struct store_device *old)
{
	for (size_t i = 0; is_pinned(old) && i < fd->nalt; i++)
		if (fd->alt[i].https && str_caseeq(old->tls_pin, fd->alt[i].pin))
			return &fd->alt[i];
	return NULL;
}

/*
 * Probes the registered address of each registered device with credentials that answered only
 * elsewhere and has no pinned key to prove itself: only an address that no longer shows the
 * MAC lets it move. Returns how many probes were started.
 */
static size_t
check_registered(struct discover *d)
{
	size_t n = 0;

	if (d->o.registry == NULL || d->http == NULL || d->stopping)
		return 0;
	for (size_t i = 0; i < d->nfound; i++) {
		struct found *fd = d->found[i];
		struct store_device *old = store_device_find_mac(d->o.registry, fd->f.ident.mac);

		if (old != NULL && old->host != NULL && strlen(old->host) < DISCOVER_HOST_MAX &&
		    alt_registered(fd, old) == NULL && !is_pinned(old) &&
		    has_credentials(
		        d, old, fd->f.ident.mac, nz(old->id) != NULL ? old->id : fd->f.ident.id)) {
			confirm_start(d, old->host, eff_port(old->port, is_https(old)),
			    is_https(old), DISCOVER_VIA_SCAN, fd);
			n++;
		}
		store_device_free(old);
	}
	return n;
}

/*
 * Why fd's claim on the registered device old cannot be taken, or NULL when it can: it would
 * lower the generation or the scheme, move a pinned HTTPS device to an address that shows
 * another key, or move a device with credentials to an address that does not show the same
 * generation while its registered address still shows the MAC (or could not be checked).
 */
static const char *
claim_refused(struct discover *d, const struct store_device *old, const struct found *fd)
{
	const struct discover_found *f = &fd->f;
	const char *id = nz(old->id) != NULL ? old->id : f->ident.id;

	if (old->gen > 0 && f->ident.gen > 0 && f->ident.gen < old->gen)
		return "a lower generation than registered";
	if (is_https(old) && !f->https)
		return "plain HTTP for a device registered with HTTPS";
	if (!f->moved)
		return NULL;
	if (is_pinned(old) && !str_caseeq(old->tls_pin, f->pin))
		return "another TLS key than the pinned one, at a new address";
	if (!has_credentials(d, old, f->ident.mac, id))
		return NULL;
	if (old->gen > 0 && f->ident.gen != old->gen)
		return "another generation than registered, at a new address";
	if (is_pinned(old))
		return NULL;
	if (fd->old_check == OLD_ALIVE)
		return still_shows;
	if (fd->old_check != OLD_GONE)
		return "the registered address could not be checked";
	return NULL;
}

static void
queue_device_event(struct store *store, const char *mac, const char *kind, const char *detail,
    int64_t now_ms)
{
	struct store_event ev;

	memset(&ev, 0, sizeof ev);
	ev.ts_ms = now_ms;
	memcpy(ev.mac, mac, sizeof ev.mac);
	ev.kind = kind;
	ev.detail = detail;
	store_queue_event(store, &ev);
}

/* A mac_conflict event with detail, logged; the device is held when hold. */
static int
record_conflict(struct store *store, struct discover_found *f, const char *detail, int hold,
    int64_t now_ms, struct discover_summary *sum, char **cause)
{
	queue_device_event(store, f->ident.mac, "mac_conflict", detail, now_ms);
	log_warn("discover: %s: %s", f->ident.mac, detail);
	sum->conflicts++;
	if (!hold)
		return 0;
	f->conflict = 1;
	return store_device_hold(store, f->ident.mac, detail, cause);
}

/* A refused claim: the registry stays, an event says why, the device is held. */
static int
refuse_claim(struct store *store, const struct store_device *old, struct discover_found *f,
    const char *why, int64_t now_ms, struct discover_summary *sum, char **cause)
{
	char *to = hostport_format(f->host, f->port, f->https ? "https" : "http"), *detail;
	int rc;

	detail = xasprintf("%s claims this MAC with gen %d over %s: %s; registered gen %d at %s; "
			   "no credentials are sent until it is confirmed with --add",
	    to, f->ident.gen, f->https ? "https" : "http", why, old->gen,
	    old->host != NULL ? old->host : "?");
	rc = record_conflict(store, f, detail, 1, now_ms, sum, cause);
	free(detail);
	free(to);
	f->moved = 0;
	str_copy(f->name, sizeof f->name, old->name != NULL ? old->name : "");
	sum->known++;
	return rc;
}

/*
 * The other addresses fd answered at in this run are claims that were not taken: each is a
 * mac_conflict, as the claim would be in a later run while the address kept still shows the
 * MAC, and holds the device when such a claim would be refused (claim_refused: a device with
 * credentials, a pinned key, a scheme or generation). An address that shows the pinned key
 * too is the same device. reg is the registration (old, or what this run stores).
 */
static int
other_claims(struct discover *d, struct store *store, struct found *fd,
    const struct store_device *reg, int64_t now_ms, struct discover_summary *sum, char **cause)
{
	struct discover_found *f = &fd->f;

	for (size_t i = 0; i < fd->nalt; i++) {
		const struct alt *a = &fd->alt[i];
		struct found claim;
		const char *why;
		char *at, *kept, *detail;
		int rc;
		if ((strcmp(a->host, f->host) == 0 && a->port == f->port) ||
		    (is_pinned(reg) && a->https && str_caseeq(reg->tls_pin, a->pin)))
			continue;
		claim = *fd;
		found_set_addr(&claim, a);
		claim.f.moved = 1;
		claim.old_check = OLD_ALIVE;
		why = claim_refused(d, reg, &claim);
		at = hostport_format(a->host, a->port, a->https ? "https" : "http");
		kept = hostport_format(f->host, f->port, f->https ? "https" : "http");
		if (why == NULL)
			detail =
			    xasprintf("%s also answers with this MAC in this run; kept %s (not "
			              "held: no credentials to hold back)",
			        at, kept);
		else
			detail =
			    xasprintf("%s also claims this MAC in this run, over %s: %s; kept %s; "
			              "no credentials are sent until it is confirmed with --add",
			        at, a->https ? "https" : "http",
			        why == still_shows ? "the address kept shows it too" : why, kept);
		rc = record_conflict(store, f, detail, why != NULL, now_ms, sum, cause);
		free(detail);
		free(kept);
		free(at);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Merges one device; returns 0 or -1 with *cause. */
static int
merge_one(struct discover *d, struct store *store, struct found *fd, int64_t now_ms,
    struct discover_summary *sum, char **cause)
{
	struct discover_found *f = &fd->f;
	struct store_device *old = store_device_find_mac(store, f->ident.mac);
	struct store_device sd;
	char via[VIA_TEXT_MAX];
	const char *id;
	int rc = -1;

	/* The address that shows the pinned key, else the registered one when the device still
	 * answers there. */
	found_set_addr(fd, &fd->alt[0]);
	if (old != NULL) {
		const struct alt *a = alt_pinned(fd, old);
		if (a != NULL || (a = alt_registered(fd, old)) != NULL)
			found_set_addr(fd, a);
	}
	f->is_new = old == NULL;
	f->moved = 0;
	if (old != NULL && old->host != NULL) {
		int https = old->scheme != NULL && strcmp(old->scheme, "https") == 0;
		if (strcmp(old->host, f->host) != 0 || eff_port(old->port, https) != f->port) {
			f->moved = 1;
			str_copy(f->old_host, sizeof f->old_host, old->host);
			f->old_port = eff_port(old->port, https);
		}
	}
	if (old != NULL) {
		const char *why = claim_refused(d, old, fd);
		if (why != NULL) {
			rc = refuse_claim(store, old, f, why, now_ms, sum, cause);
			if (rc == 0)
				f->committed = 1;
			goto out;
		}
	}
	id = old != NULL && nz(old->id) != NULL ? old->id : f->ident.id;
	via_union(old != NULL ? old->discovered_via : NULL, f->via_text, via, sizeof via);

	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, f->ident.mac, sizeof sd.mac);
	sd.id = old != NULL && nz(old->id) != NULL ? NULL : nz(f->ident.id);
	sd.gen = f->ident.gen;
	sd.model = nz(f->ident.model);
	sd.app = nz(f->ident.app);
	sd.fw = nz(f->ident.fw);
	sd.fw_version = nz(f->ident.fw_version);
	sd.auth = device_auth_name(f->ident.auth_en);
	sd.profile = nz(f->ident.profile);
	sd.name = old == NULL ? nz(f->ident.name) : NULL;
	sd.host = f->host;
	sd.port = f->port;
	sd.scheme = f->https ? "https" : "http";
	if (f->https && f->pin[0] != '\0') {
		if (old == NULL || nz(old->tls_pin) == NULL)
			sd.tls_pin = f->pin;
		else if (!str_caseeq(old->tls_pin, f->pin))
			log_warn("discover: %s (%s) shows another certificate than the pinned one; "
			         "the pin is kept",
			    f->ident.mac, f->host);
	}
	sd.discovered_via = via;
	sd.first_seen_ms = now_ms;
	sd.last_seen_ms = now_ms;
	if (store_device_upsert(store, &sd, cause) != 0 ||
	    other_claims(d, store, fd, old != NULL ? old : &sd, now_ms, sum, cause) != 0)
		goto out;

	if (old != NULL && nz(old->name) != NULL)
		str_copy(f->name, sizeof f->name, old->name);
	else
		str_copy(f->name, sizeof f->name, f->ident.name);
	if (f->moved) {
		char *from = hostport_format(f->old_host, f->old_port, old->scheme);
		char *to = hostport_format(f->host, f->port, f->https ? "https" : "http");
		char *detail = xasprintf("%s -> %s", from, to);

		free(from);
		free(to);
		queue_device_event(store, f->ident.mac, "ip_changed", detail, now_ms);
		log_info("discover: %s moved: %s", f->ident.mac, detail);
		free(detail);
		sum->moved++;
	}
	f->auth_required = f->ident.auth_en == 1 && !has_credentials(d, old, f->ident.mac, id);
	if (f->auth_required) {
		queue_auth_required(store, fd, now_ms);
		sum->auth_required++;
	}
	if (f->is_new)
		sum->new_devices++;
	else
		sum->known++;
	f->committed = 1;
	rc = 0;
out:
	store_device_free(old);
	return rc;
}

static int
cmp_addr(const void *a, const void *b)
{
	const struct discover_found *x = &(*(struct found *const *)a)->f;
	const struct discover_found *y = &(*(struct found *const *)b)->f;
	int c = strcmp(x->host, y->host);

	return c != 0 ? c : (int)x->port - (int)y->port;
}

/*
 * Two devices at one address in one run (it changed hands while the run went on): each is a
 * mac_conflict, and a device with credentials is held, since the address it is stored at
 * answered with another MAC too (what the poller's MAC check would find next).
 */
static int
shared_addresses(struct discover *d, struct store *store, int64_t now_ms,
    struct discover_summary *sum, char **cause)
{
	struct found **v = xcalloc(d->nfound ? d->nfound : 1, sizeof *v);
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < d->nfound; i++)
		if (d->found[i]->f.committed && !d->found[i]->f.conflict)
			v[n++] = d->found[i];
	qsort(v, n, sizeof *v, cmp_addr);
	for (size_t i = 0, j; rc == 0 && i < n; i = j) {
		for (j = i + 1; j < n && cmp_addr(&v[i], &v[j]) == 0; j++)
			;
		for (size_t k = i; j - i > 1 && rc == 0 && k < j; k++) {
			struct discover_found *f = &v[k]->f;
			struct store_device *reg = store_device_find_mac(store, f->ident.mac);
			int creds = has_credentials(d, reg, f->ident.mac,
			    reg != NULL && nz(reg->id) != NULL ? reg->id : f->ident.id);
			char *at = hostport_format(f->host, f->port, f->https ? "https" : "http");
			char *detail =
			    xasprintf("%s answered with %zu MACs in this run (this one and %s)%s",
			        at, j - i, v[k == i ? i + 1 : i]->f.ident.mac,
			        creds ? "; no credentials are sent until it is confirmed with --add"
			              : "");
			rc = record_conflict(store, f, detail, creds, now_ms, sum, cause);
			store_device_free(reg);
			free(detail);
			free(at);
		}
	}
	free(v);
	return rc;
}

int
discover_commit(struct discover *d, struct store *store, int64_t now_ms,
    struct discover_summary *sum, char **cause)
{
	struct discover_summary local;

	if (sum == NULL)
		sum = &local;
	memset(sum, 0, sizeof *sum);
	sum->devices = d->nfound;
	sum->no_mac = d->no_mac;
	sum->mdns_candidates = d->mdns_candidates;
	sum->confirm_failed = d->confirm_failed;
	sum->mdns_used = d->o.mdns;
	sum->mdns_available = d->mdns_available;
	sum->interrupted = d->interrupted;
	sum->elapsed_ms =
	    d->finished ? d->elapsed_ms : (d->started ? loop_now_ms(d->loop) - d->start_ms : 0);
	if (d->scan != NULL) {
		sum->scanned = 1;
		sum->scan = *scan_get_progress(d->scan);
	}
	for (size_t i = 0; i < d->nfound; i++)
		if (merge_one(d, store, d->found[i], now_ms, sum, cause) != 0)
			return -1;
	if (shared_addresses(d, store, now_ms, sum, cause) != 0)
		return -1;
	return store_flush(store, cause);
}

int
discover_commit_one(
    struct discover *d, struct store *store, const char *mac, int64_t now_ms, char **cause)
{
	struct discover_summary sum;

	memset(&sum, 0, sizeof sum);
	for (size_t i = 0; i < d->nfound; i++)
		if (strcmp(d->found[i]->f.ident.mac, mac) == 0) {
			if (merge_one(d, store, d->found[i], now_ms, &sum, cause) != 0)
				return -1;
			return store_flush(store, cause);
		}
	*cause = xasprintf("%s was not found by this run", mac);
	return -1;
}

void
discover_free(struct discover *d)
{
	struct confirm *c;

	if (d == NULL)
		return;
	scan_free(d->scan);
	if (d->mdns != NULL)
		mdns_free(d->mdns);
	LIST_FOREACH(c, &d->confirms, entry) {
		c->d = NULL; /* freed by confirm_cb when the cancellation arrives */
		http_cancel(d->http, c->id);
	}
	loop_timer_free(d->mdns_timer);
	loop_timer_free(d->done_timer);
	for (size_t i = 0; i < d->nfound; i++)
		free(d->found[i]);
	free(d->found);
	free(d->probed);
	free(d);
}
