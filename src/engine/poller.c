#include "engine/poller.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "conf/conf.h"
#include "engine/cfgpending.h"
#include "engine/creds.h"
#include "engine/devname.h"
#include "model/fields.h"
#include "model/fwver.h"
#include "shelly/client.h"
#include "shelly/models.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum pstage { STAGE_IDLE, STAGE_VERIFY, STAGE_STATUS, STAGE_CONFIG };

/* One registered device, as the poller keeps it. */
#define POLLER_ERROR_MAX 512 /* bytes kept of a device's last error, with the NUL */
#define POLLER_SLEEPER_CONNECT_MS 1000 /* connect timeout (at most) of a battery device */
#define POLLER_ASLEEP_LONG_MS (24 * 3600 * 1000LL) /* a sleeper silent this long is reported */

struct pdev {
	struct poller *p;
	char mac[DEV_MAC_LEN];
	char *id, *name, *model, *app, *fw, *fw_version, *host, *scheme, *pin;
	char model_name[DEV_NAME_LEN];
	uint16_t port;
	int gen;
	char *user, *password; /* password: a secret, wiped on free */
	int held;               /* a MAC conflict is unconfirmed: no credentials are sent */
	int pin_unsaved;        /* the learned pin is required but its write failed: tried again */
	int ver_read;           /* /shelly answered in this run (its "ver" is known if it has one) */
	int verify_for_version; /* the /shelly read in flight only asks the running version */
	int fw_unsaved;         /* the firmware /shelly said is kept but its write failed */
	char *name_unsaved;     /* a reported name whose writes failed: observed again next poll */

	enum device_state state;
	int stored_state;       /* the state stored by an earlier run (enum device_state), -1 none */
	char *error;            /* the last error, sanitised; NULL none (most devices) */
	int failures;           /* in a row */
	int attempted;
	int observed;           /* set_state has seen a result in this process */
	int unseen;             /* never answered (here or stored): its first state other than
	                         * offline is news ("first seen"), not a transition */
	int sleeps;             /* battery device that sleeps */
	int64_t last_seen_ms;
	uint64_t verified_until_ms;
	double cfg_rev;         /* revision whose settings were read (Gen2 cfg_rev / Gen1
	                         * cfg_changed_cnt) */
	int have_cfg;           /* settings were read for cfg_rev */
	double cfg_reading;     /* revision of the settings read in flight */
	int cfg_failures;       /* settings reads failed in a row */
	int cfg_skip;           /* polls left before a failed settings read is tried again */
	struct store_status *cfg_row; /* the status row queued before the settings read, queued
	                         * again with cfg_rev once they are read */
	double uptime_s;
	uint32_t outputs;       /* bit per switch/light output, for output events */
	uint32_t outputs_known; /* which of those bits a reply has told */
	char *last_json;        /* sleeping devices: the last report, kept while asleep */
	struct store_status last; /* typed columns of the last report (json unused) */
	int have_last;
	int have_outputs;

	enum pstage stage;
	uint64_t req;           /* http request in flight, 0 none */
	uint64_t started_ms;
	struct loop_timer *timer;
	int once;               /* part of a poller_poll_all round */
	int seen;               /* marked during poller_load */

	struct poller_sample *samples;
	size_t nsamples;
	int samples_stored;     /* the readings are the stored reply's: read at the first view */
};

struct poller {
	struct loop *loop;
	struct http *http;
	struct store *store;
	struct poller_opts opts;
	char *ca_file;
	struct pdev **devs; /* sorted by MAC */
	size_t ndevs;
	int running;
	uint64_t polls;
	uint64_t errors[HTTP_RESULT_COUNT];
	poller_observe_cb observe;
	void *observe_arg;
	poller_seen_cb seen; /* a device answered (configuration changes queued for it) */
	void *seen_arg;
	/* poller_poll_all round */
	size_t once_left;
	poller_done_cb once_done;
	void *once_arg;
	struct loop_timer *once_timer;
	uint64_t seed;
};

static const struct poller_sample_info sample_info[PS__COUNT + 1] = {
#define POLLER_SAMPLE_INFO(id, name, type, help) { name, type, help },
	POLLER_SAMPLES(POLLER_SAMPLE_INFO)
#undef POLLER_SAMPLE_INFO
	{ "?", "untyped", "?" },
};

const struct poller_sample_info *
poller_sample_info(enum poller_sample_kind k)
{
	return &sample_info[k < PS__COUNT ? k : PS__COUNT];
}

void
poller_opts_from_config(struct poller_opts *o, const struct conf *cfg)
{
	struct shelly_target t;

	memset(o, 0, sizeof *o);
	memset(&t, 0, sizeof t);
	conf_target(cfg, &t);
	o->interval_gen1_ms = conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN1);
	o->interval_gen2_ms = conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN2);
	o->connect_timeout_ms = t.connect_timeout_ms;
	o->request_timeout_ms = t.timeout_ms;
	o->offline_after = (int)conf_get_int(cfg, OPT_OFFLINE_AFTER);
	o->breaker_after = o->offline_after * 4;
	o->backoff_max_ms = conf_get_ms(cfg, OPT_BACKOFF_MAX);
	o->verify_interval_ms = 5 * 60 * 1000;
	o->lanes_gen2 = t.lane_limit;
	o->max_body = t.max_body;
	o->tls = t.tls;
	o->ca_file = t.ca_file;
	o->jitter_pct = 10;
}

static void pdev_poll(struct pdev *d);

static uint64_t
rnd(struct poller *p)
{
	/* xorshift64*: jitter only, nothing secret. */
	p->seed ^= p->seed >> 12;
	p->seed ^= p->seed << 25;
	p->seed ^= p->seed >> 27;
	return p->seed * 2685821657736338717ull;
}

static uint64_t
interval_of(const struct pdev *d)
{
	return d->gen == 1 ? d->p->opts.interval_gen1_ms : d->p->opts.interval_gen2_ms;
}

/* The delay before jitter; *span is how far jitter moves it either way (0: breaker open). */
static uint64_t
delay_base_ms(const struct poller_opts *o, int gen, int failures, int sleeps, uint64_t *span)
{
	uint64_t ms = gen == 1 ? o->interval_gen1_ms : o->interval_gen2_ms;

	*span = 0;
	if (failures > 0) {
		if (!sleeps && failures >= o->breaker_after)
			return o->backoff_max_ms; /* breaker open: one probe per backoff_max */
		/* Asleep is normal for a battery device: it backs off from its first miss. */
		for (int i = sleeps ? 0 : 1; i < failures && ms < o->backoff_max_ms; i++)
			ms *= 2;
		if (ms > o->backoff_max_ms)
			ms = o->backoff_max_ms;
	}
	*span = ms * (uint64_t)o->jitter_pct / 100;
	return ms;
}

uint64_t
poller_delay_ms(const struct poller_opts *o, int gen, int failures, int sleeps, uint64_t random)
{
	uint64_t span, ms = delay_base_ms(o, gen, failures, sleeps, &span);

	if (span == 0)
		return ms;
	return ms - span + random % (2 * span + 1);
}

/* Next delay: the interval when healthy; doubled per failure past the first, up to the max. */
static uint64_t
next_delay(struct pdev *d)
{
	return poller_delay_ms(&d->p->opts, d->gen, d->failures, d->sleeps, rnd(d->p));
}

/* The longest delay next_delay can draw for d under the current options. */
static uint64_t
longest_delay(const struct pdev *d)
{
	uint64_t span, ms = delay_base_ms(&d->p->opts, d->gen, d->failures, d->sleeps, &span);

	return ms + span;
}

static void
pdev_timer_cb(void *arg)
{
	pdev_poll(arg);
}

static void
set_str(char **dst, const char *src)
{
	if (src == NULL)
		src = "";
	if (*dst != NULL && strcmp(*dst, src) == 0)
		return;
	free(*dst);
	*dst = xstrdup(src);
}

static void
pdev_free(struct pdev *d)
{
	if (d == NULL)
		return;
	if (d->req != 0)
		http_cancel(d->p->http, d->req); /* its ticket finds no device by MAC */
	loop_timer_free(d->timer);
	free(d->id);
	free(d->name);
	free(d->model);
	free(d->app);
	free(d->fw);
	free(d->fw_version);
	free(d->host);
	free(d->scheme);
	free(d->pin);
	free(d->name_unsaved);
	free(d->user);
	conf_secret_free(d->password);
	free(d->samples);
	free(d->last_json);
	store_status_free(d->cfg_row);
	free(d->error);
	free(d);
}

static int
pdev_cmp(const void *a, const void *b)
{
	return strcmp((*(struct pdev *const *)a)->mac, (*(struct pdev *const *)b)->mac);
}

static struct pdev *
find_dev(struct poller *p, const char *mac)
{
	size_t lo = 0, hi = p->ndevs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(p->devs[mid]->mac, mac);
		if (c == 0)
			return p->devs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct poller *
poller_new(struct loop *loop, struct http *http, struct store *store,
    const struct poller_opts *opts)
{
	struct poller *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	p->http = http;
	p->store = store;
	p->seed = (uint64_t)loop_wall_ms() ^ ((uint64_t)(uintptr_t)p << 16) ^ 0x9e3779b97f4a7c15ull;
	if (p->seed == 0)
		p->seed = 1;
	poller_set_opts(p, opts);
	return p;
}

void
poller_set_opts(struct poller *p, const struct poller_opts *opts)
{
	free(p->ca_file);
	p->opts = *opts;
	p->ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
	p->opts.ca_file = p->ca_file;
	if (p->opts.offline_after < 1)
		p->opts.offline_after = 1;
	if (p->opts.breaker_after < p->opts.offline_after)
		p->opts.breaker_after = p->opts.offline_after;
	if (p->opts.backoff_max_ms == 0)
		p->opts.backoff_max_ms = 1;
	/* A shorter interval applies at once: a device waiting longer than any delay the new
	 * options allow is polled within one (spread over it, as at start), not after the old
	 * one. Measured against the longest delay, not a fresh draw: a reload that changes no
	 * interval re-arms nothing, so frequent reloads do not make polls come sooner. */
	for (size_t i = 0; p->running && i < p->ndevs; i++) {
		struct pdev *d = p->devs[i];

		if (d->req == 0 && loop_timer_armed(d->timer) &&
		    loop_timer_due(d->timer) > loop_now_ms(p->loop) + longest_delay(d))
			loop_timer_arm(d->timer, rnd(p) % (next_delay(d) + 1));
	}
}

void
poller_free(struct poller *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ndevs; i++)
		pdev_free(p->devs[i]);
	free(p->devs);
	loop_timer_free(p->once_timer);
	free(p->ca_file);
	free(p);
}

void
poller_set_seen(struct poller *p, poller_seen_cb cb, void *arg)
{
	p->seen = cb;
	p->seen_arg = arg;
}

void
poller_set_observer(struct poller *p, poller_observe_cb cb, void *arg)
{
	p->observe = cb;
	p->observe_arg = arg;
}

/* Loads the credentials of a device through the resolver; none when it has none. */
static void
load_credentials(struct pdev *d, const struct store_device *sd, const struct conf *cfg)
{
	struct creds_query q = { sd->mac, sd->id, sd->name, sd->gen, -1, sd, 0 };
	struct creds_found f;
	char *cause = NULL;

	free(d->user);
	d->user = NULL;
	conf_secret_free(d->password);
	d->password = NULL;
	if (creds_lookup(cfg, d->p->store, &q, &f, &cause) != 0) {
		log_warn("%s: %s", d->mac, cause);
		free(cause);
		return;
	}
	d->user = f.user;
	d->password = f.password;
}

/* What poller_load needs of a stored status (read for the whole fleet at once). */
struct load_status {
	char mac[STORE_MAC_LEN + 1];
	int state; /* enum device_state, -1 unknown */
	int64_t cfg_rev;
	int64_t uptime_s;
	int64_t reply_ts_ms; /* 0: no reply stored */
	char *error; /* NULL none */
};

struct load_ctx {
	struct poller *p;
	const struct conf *cfg;
	int fresh; /* every device's state is taken again from the store */
	struct load_status *st; /* ordered by MAC */
	size_t nst;
};

static int
load_status_cb(const struct store_status *ss, void *arg)
{
	struct load_ctx *lc = arg;
	struct load_status *ls;
	enum device_state state;

	lc->st = xreallocarray(lc->st, lc->nst + 1, sizeof *lc->st);
	ls = &lc->st[lc->nst++];
	memcpy(ls->mac, ss->mac, sizeof ls->mac);
	ls->state = ss->state != NULL && device_state_parse(ss->state, &state) == 0 ? (int)state : -1;
	ls->cfg_rev = ss->cfg_rev;
	ls->uptime_s = ss->uptime_s;
	ls->reply_ts_ms = ss->reply_ts_ms;
	ls->error = ss->error != NULL && ss->error[0] != '\0' ? xstrdup(ss->error) : NULL;
	return 0;
}

static int
load_status_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct load_status *)elem)->mac);
}

/* Keeps error (sanitised, cut to POLLER_ERROR_MAX - 1 bytes) or forgets it when NULL or "". */
static void
set_error(struct pdev *d, const char *error)
{
	size_t n;

	free(d->error);
	d->error = NULL;
	if (error == NULL || error[0] == '\0')
		return;
	n = strlen(error) + 1;
	if (n > POLLER_ERROR_MAX)
		n = POLLER_ERROR_MAX;
	d->error = xmalloc(n);
	str_copy(d->error, n, error);
	str_sanitize_inplace(d->error);
}

/*
 * The readings of the stored reply, served until a new reply (asleep: until it wakes). The
 * fleet's status list leaves replies out: read here, for devices whose readings are served.
 */
static void
stored_samples(struct pdev *d)
{
	struct store_status *ss = store_status_get(d->p->store, d->mac);

	d->samples_stored = 0;
	free(d->samples);
	d->samples = NULL;
	d->nsamples = 0;
	if (ss != NULL)
		d->nsamples = poller_reply_samples(d->gen, ss->json, d->fw, &d->samples);
	store_status_free(ss);
}

/*
 * What the store holds of a device, taken as for a new one (last the stored status, NULL
 * none): its state, error, last reply's readings, uptime, last-seen time and settings
 * revision. What this process remembered is forgotten: another poller may have polled it
 * since (a standby that takes the lease over, a leader that regains it). The poller is stopped.
 */
static void
take_stored(struct pdev *d, const struct store_device *sd, const struct load_status *last)
{
	d->state = DEVICE_OFFLINE;
	d->stored_state = -1;
	d->observed = 0;
	d->failures = 0;
	d->last_seen_ms = sd->last_seen_ms;
	d->uptime_s = NAN;
	d->cfg_rev = NAN;
	d->have_cfg = d->cfg_failures = d->cfg_skip = 0;
	store_status_free(d->cfg_row);
	d->cfg_row = NULL;
	d->outputs = d->outputs_known = 0;
	d->have_outputs = d->have_last = 0;
	free(d->last_json); /* an asleep row keeps the stored reply (keep_reply) */
	d->last_json = NULL;
	free(d->samples);
	d->samples = NULL;
	d->nsamples = 0;
	set_error(d, last != NULL ? last->error : NULL);
	/* Stored offline, but never answered (no reply, never seen): as never polled. */
	d->unseen = last == NULL || last->state < 0 ||
	    (last->state == DEVICE_OFFLINE && last->reply_ts_ms <= 0 && sd->last_seen_ms <= 0);
	if (last == NULL)
		return;
	/* The stored revision spares a settings read when nothing changed since. */
	if (last->cfg_rev != STORE_NULL_INT && last->state == DEVICE_ONLINE) {
		d->cfg_rev = (double)last->cfg_rev;
		d->have_cfg = 1;
	}
	d->stored_state = last->state;
	if (d->stored_state >= 0) /* kept until this run's own polls change it */
		d->state = (enum device_state)d->stored_state;
	/* Only a sleeper is stored asleep: one the model table does not know (a newer battery
	 * model, found sleeping by its wakeup_period) still sleeps after a restart. */
	if (d->stored_state == DEVICE_ASLEEP)
		d->sleeps = 1;
	if (last->uptime_s != STORE_NULL_INT) /* a reboot since is news */
		d->uptime_s = (double)last->uptime_s;
	/* Read when someone looks (poller_foreach): a --poll-once never does. */
	d->samples_stored = d->state == DEVICE_ONLINE || d->state == DEVICE_ASLEEP;
}

static int
load_one_cb(const struct store_device *sd, void *arg)
{
	struct load_ctx *lc = arg;
	struct poller *p = lc->p;
	struct pdev *d = find_dev(p, sd->mac);
	int is_new = d == NULL;

	if (is_new) {
		d = xcalloc(1, sizeof *d);
		d->p = p;
		memcpy(d->mac, sd->mac, sizeof d->mac);
		d->state = DEVICE_OFFLINE;
		d->stored_state = -1;
		d->cfg_rev = NAN;
		d->uptime_s = NAN;
		d->timer = loop_timer_new(p->loop, pdev_timer_cb, d);
		p->devs = xreallocarray(p->devs, p->ndevs + 1, sizeof *p->devs);
		p->devs[p->ndevs++] = d;
	} else if ((d->host && sd->host && strcmp(d->host, sd->host) != 0) ||
	    d->port != (uint16_t)sd->port)
		d->verified_until_ms = 0; /* a new address: show the MAC again first */
	d->seen = 1;
	set_str(&d->id, sd->id);
	set_str(&d->name, sd->name);
	set_str(&d->model, sd->model);
	set_str(&d->app, sd->app);
	set_str(&d->fw, sd->fw);
	set_str(&d->fw_version, sd->fw_version);
	set_str(&d->host, sd->host);
	set_str(&d->scheme, sd->scheme ? sd->scheme : "http");
	if (sd->tls_pin != NULL && sd->tls_pin[0] != '\0')
		set_str(&d->pin, sd->tls_pin);
	d->port = (uint16_t)(sd->port > 0 ? sd->port : 0);
	d->gen = sd->gen;
	{
		/* One lookup (a linear scan of the model table) for the name and the battery. */
		const struct model_info *mi = sd->model ? models_find(sd->model) : NULL;

		str_copy(d->model_name, sizeof d->model_name,
		    mi != NULL && mi->name != NULL ? mi->name : "");
		/* Battery models sleep: asleep, not offline, when they do not answer. */
		if (mi != NULL && mi->battery)
			d->sleeps = 1;
	}
	if (is_new || lc->fresh)
		take_stored(d, sd, lc->nst == 0 ? NULL :
		    bsearch(d->mac, lc->st, lc->nst, sizeof *lc->st, load_status_cmp));
	load_credentials(d, sd, lc->cfg);
	d->held = 0;
	if (d->password != NULL) {
		/* A hold only withholds credentials: look it up for devices that have some. */
		char *held = store_device_held(p->store, d->mac);
		d->held = held != NULL;
		free(held);
	}
	if (is_new && p->running)
		loop_timer_arm(d->timer, rnd(p) % (interval_of(d) + 1));
	return 0;
}

static int
load(struct poller *p, const struct conf *cfg, int fresh, char **cause)
{
	struct load_ctx lc = { p, cfg, fresh, NULL, 0 };
	size_t j = 0;
	int rc;

	for (size_t i = 0; i < p->ndevs; i++)
		p->devs[i]->seen = 0;
	rc = store_status_list(p->store, load_status_cb, &lc, cause);
	if (rc == 0)
		rc = store_device_list(p->store, load_one_cb, &lc, cause);
	for (size_t i = 0; i < lc.nst; i++)
		free(lc.st[i].error);
	free(lc.st);
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < p->ndevs; i++) {
		if (p->devs[i]->seen)
			p->devs[j++] = p->devs[i];
		else {
			if (p->devs[i]->once && p->once_left > 0)
				p->once_left--;
			pdev_free(p->devs[i]);
		}
	}
	p->ndevs = j;
	if (p->ndevs > 1)
		qsort(p->devs, p->ndevs, sizeof *p->devs, pdev_cmp);
	return 0;
}

int
poller_load(struct poller *p, const struct conf *cfg, char **cause)
{
	return load(p, cfg, 0, cause);
}

int
poller_load_fresh(struct poller *p, const struct conf *cfg, char **cause)
{
	return load(p, cfg, 1, cause);
}

static void
fill_target(struct pdev *d, struct shelly_target *t, int with_creds)
{
	struct poller *p = d->p;

	memset(t, 0, sizeof *t);
	t->host = d->host;
	t->port = d->port;
	t->https = d->scheme && strcmp(d->scheme, "https") == 0;
	t->gen = d->gen;
	t->mac = d->mac;
	t->lane_limit = p->opts.lanes_gen2;
	if (with_creds && d->password != NULL && !d->held) {
		t->user = d->user;
		t->password = d->password;
	}
	t->tls = p->opts.tls;
	t->ca_file = p->opts.ca_file;
	t->pin = d->pin && d->pin[0] ? d->pin : NULL;
	t->fw = fwver_running(d->fw, d->fw_version);
	t->connect_timeout_ms = p->opts.connect_timeout_ms;
	if (d->sleeps && t->connect_timeout_ms > POLLER_SLEEPER_CONNECT_MS)
		t->connect_timeout_ms = POLLER_SLEEPER_CONNECT_MS; /* asleep: gone from the LAN */
	t->timeout_ms = p->opts.request_timeout_ms;
	t->max_body = p->opts.max_body;
}

static void
queue_event(struct pdev *d, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
queue_event(struct pdev *d, const char *kind, const char *fmt, ...)
{
	struct store_event ev;
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof ev);
	ev.ts_ms = loop_wall_ms();
	memcpy(ev.mac, d->mac, sizeof ev.mac);
	ev.kind = kind;
	ev.detail = detail;
	store_queue_event(d->p->store, &ev);
	log_info("%s (%s): %s: %s", d->id ? d->id : d->mac, d->host ? d->host : "?", kind,
	    detail);
}

static void
set_state(struct pdev *d, enum device_state st, const char *error)
{
	enum device_state old = d->state;

	set_error(d, error);
	d->state = st;
	d->observed = 1;
	if (d->unseen) {
		/* Never answered before: its first answer is news, not a transition from offline;
		 * offline until then is none. */
		d->stored_state = -1;
		if (st == DEVICE_OFFLINE)
			return;
		d->unseen = 0;
		queue_event(d, device_state_name(st), "first seen %s%s%s", device_state_name(st),
		    d->error ? ": " : "", d->error ? d->error : "");
		return;
	}
	if (d->stored_state >= 0) {
		/* The first result here: compared with what an earlier run stored. */
		old = (enum device_state)d->stored_state;
		d->stored_state = -1;
	}
	if (old == st)
		return;
	queue_event(d, device_state_name(st), "%s -> %s%s%s", device_state_name(old),
	    device_state_name(st), d->error ? ": " : "", d->error ? d->error : "");
}

/* The status row of a fresh reply st (or of a failed poll, st NULL). */
static void
status_row(struct pdev *d, const struct device_status *st, const char *json,
    struct store_status *ss)
{
	struct fields_totals t = {NAN, NAN, NAN, NAN, 0};

	if (st != NULL)
		fields_totals(st, &t);
	memset(ss, 0, sizeof *ss);
	memcpy(ss->mac, d->mac, sizeof ss->mac);
	ss->ts_ms = loop_wall_ms();
	ss->state = device_state_name(d->state);
	ss->error = d->error;
	ss->power_w = t.power_w;
	ss->energy_wh = t.energy_wh;
	ss->temperature_c = t.temperature_c;
	ss->rssi_dbm = st ? st->wifi.rssi_dbm : NAN;
	ss->uptime_s = st && dev_known(st->sys.uptime_s) ? (int64_t)st->sys.uptime_s : STORE_NULL_INT;
	ss->outputs_on = st ? t.on : STORE_NULL_INT;
	ss->fw_update = st && st->sys.update_available >= 0 ? st->sys.update_available :
	    STORE_NULL_INT;
	/* Not the revision the reply reports: one whose settings read failed is read again after
	 * a restart too. */
	ss->cfg_rev = st && d->have_cfg && dev_known(d->cfg_rev) ? (int64_t)d->cfg_rev :
	    STORE_NULL_INT;
	ss->json = json;
	ss->reply_ts_ms = st != NULL ? ss->ts_ms : 0; /* kept in d->last for asleep rows */
}

/* Asleep with a last report: that report stays, only the state changes; no history sample. */
static int
queue_asleep(struct pdev *d, const char *json)
{
	struct store_status ss;

	if (d->state != DEVICE_ASLEEP || !d->have_last)
		return 0;
	ss = d->last;
	ss.ts_ms = loop_wall_ms();
	ss.state = device_state_name(d->state);
	ss.error = d->error; /* NULL, or asleep for too long */
	ss.json = json;
	store_queue_status(d->p->store, &ss);
	return 1;
}

/* The history sample of a status row (and the last-seen time of an online device). */
static void
queue_sample(struct pdev *d, const struct store_status *ss)
{
	struct store_sample smp;

	memset(&smp, 0, sizeof smp);
	memcpy(smp.mac, d->mac, sizeof smp.mac);
	smp.ts_ms = ss->ts_ms;
	smp.power_w = ss->power_w;
	smp.energy_wh = ss->energy_wh;
	smp.temperature_c = ss->temperature_c;
	smp.rssi_dbm = ss->rssi_dbm;
	smp.online = d->state == DEVICE_ONLINE;
	store_queue_sample(d->p->store, &smp);
	if (d->state == DEVICE_ONLINE)
		store_queue_seen(d->p->store, d->mac, ss->ts_ms);
}

/*
 * Writes the latest status row (with the device's reply as JSON) and a history sample. With
 * keep, a copy of the row is kept in d->cfg_row (a settings read follows).
 */
static void
store_result(struct pdev *d, const struct device_status *st, const char *raw, int keep)
{
	struct store_status ss;
	const char *json;

	/*
	 * The row keeps the device's own reply (DESIGN: raw JSON for backup and debugging); the
	 * shared device object is built from it when someone lists devices, not on every poll.
	 * A sleeping device's last reply is kept for its asleep rows.
	 */
	if (st != NULL && raw != NULL && d->sleeps) {
		free(d->last_json);
		d->last_json = xstrdup(raw);
	}
	json = st != NULL ? raw : (d->state == DEVICE_ASLEEP ? d->last_json : NULL);
	if (st == NULL && queue_asleep(d, json))
		return;
	status_row(d, st, json, &ss);
	ss.keep_reply = st == NULL; /* a failed poll: the last reply and its values stay */
	store_queue_status(d->p->store, &ss);
	if (keep) {
		store_status_free(d->cfg_row);
		d->cfg_row = store_status_dup(&ss);
	}
	if (st != NULL) {
		d->last = ss;
		d->last.json = NULL;
		d->last.state = NULL;
		d->last.error = NULL;
		d->have_last = 1;
	}
	queue_sample(d, &ss);
}

struct sample_buf {
	struct poller_sample *v;
	size_t n, cap;
};

static void
add_sample(struct sample_buf *b, enum poller_sample_kind k, const char *comp, int ch, char ph,
    double value)
{
	struct poller_sample *s;

	if (isnan(value))
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	s = &b->v[b->n++];
	s->kind = (uint8_t)k;
	str_copy(s->component, sizeof s->component, comp);
	s->channel = (int16_t)ch;
	s->phase = ph;
	s->value = value;
}

static double
tri(int v)
{
	return v < 0 ? NAN : (double)v;
}

/* The metric readings of one component, from its field table (model/fields.h). */
static void
add_fields_cb(enum field_comp c, const void *comp, const char *name, int ch, char ph, void *arg)
{
	size_t n;
	const struct field *f = fields_of(c, &n);

	for (size_t i = 0; i < n; i++)
		if (f[i].metric != FM_NONE)
			add_sample(arg, (enum poller_sample_kind)f[i].metric, name, ch, ph,
			    field_get(&f[i], comp) * f[i].scale);
}

/* 1 if a switch, cover or light reports its temperature. */
static int
output_temperature(const struct device_status *st)
{
	for (int i = 0; i < st->nswitches; i++)
		if (dev_known(st->switches[i].temperature_c))
			return 1;
	for (int i = 0; i < st->ncovers; i++)
		if (dev_known(st->covers[i].temperature_c))
			return 1;
	for (int i = 0; i < st->nlights; i++)
		if (dev_known(st->lights[i].temperature_c))
			return 1;
	return 0;
}

/* A Gen1 gas alarm_state: none 0, mild or heavy 1; anything else (a self-test) unknown. */
static double
gas_alarm(const char *state)
{
	if (strcmp(state, "none") == 0)
		return 0;
	if (strcmp(state, "mild") == 0 || strcmp(state, "heavy") == 0)
		return 1;
	return NAN;
}

/* The device-wide sensors: illuminance, the alarms, motion, door/window and gas. */
static void
sensor_samples(struct sample_buf *b, const struct dev_sensors *s)
{
	add_sample(b, PS_ILLUMINANCE, "", -1, 0, s->illuminance_lux);
	add_sample(b, PS_ALARM, "flood", -1, 0, tri(s->flood));
	add_sample(b, PS_ALARM, "smoke", -1, 0, tri(s->smoke));
	add_sample(b, PS_ALARM, "gas", -1, 0, gas_alarm(s->gas_alarm));
	add_sample(b, PS_MOTION, "", -1, 0, tri(s->motion));
	add_sample(b, PS_DOOR_OPEN, "", -1, 0, tri(s->door_open));
	add_sample(b, PS_GAS, "", -1, 0, s->gas_ppm);
}

/* The readings /metrics shows of st, compactly (not the whole typed status): *out, counted. */
static size_t
samples_of(const struct device_status *st, struct poller_sample **out)
{
	struct sample_buf b = { NULL, 0, 0 };

	fields_each_component(st, add_fields_cb, &b);
	/* One series per sensor: a Gen2+ device temperature is its outputs' (the hottest), which
	 * they already have; a Gen1 device's is its own. */
	if (!output_temperature(st))
		add_sample(&b, PS_TEMPERATURE, "device", -1, 0, st->sys.device_temperature_c);
	add_sample(&b, PS_BATTERY, "", -1, 0, st->sensors.battery_pct / 100);
	sensor_samples(&b, &st->sensors);
	add_sample(&b, PS_RSSI, "", -1, 0, st->wifi.rssi_dbm);
	add_sample(&b, PS_UPTIME, "", -1, 0, st->sys.uptime_s);
	add_sample(&b, PS_UPDATE, "", -1, 0, tri(st->sys.update_available));
	*out = xreallocarray(b.v, b.n ? b.n : 1, sizeof *b.v);
	return b.n;
}

/* Keeps the readings of a fresh reply. */
static void
keep_samples(struct pdev *d, const struct device_status *st)
{
	free(d->samples);
	d->samples_stored = 0;
	d->nsamples = samples_of(st, &d->samples);
}

size_t
poller_reply_samples(int gen, const char *json, const char *fw, struct poller_sample **out)
{
	struct device_status st;
	char *cause = NULL;
	size_t n;

	*out = NULL;
	if (json == NULL)
		return 0;
	if (shelly_status_parse(gen, json, strlen(json), fw, &st, &cause) != 0) {
		log_debug("stored reply not read: %s", cause);
		free(cause);
		return 0;
	}
	n = samples_of(&st, out);
	device_status_done(&st);
	return n;
}

/* A bit per output (the output fields of the field table, in component order), 32 at most. */
struct outputs {
	uint32_t on, known;
	int n;
};

static void
output_cb(enum field_comp c, const void *comp, const char *name, int ch, char ph, void *arg)
{
	struct outputs *o = arg;
	size_t n;
	const struct field *f = fields_of(c, &n);

	(void)name, (void)ch, (void)ph;
	for (size_t i = 0; i < n && o->n < 32; i++) {
		double v;

		if (f[i].metric != FM_OUTPUT)
			continue;
		v = field_get(&f[i], comp);
		if (dev_known(v))
			o->known |= 1u << o->n;
		if (v == 1)
			o->on |= 1u << o->n;
		o->n++;
	}
}

/* Output, firmware and reboot events from a fresh status. */
static void
status_events(struct pdev *d, const struct device_status *st)
{
	struct outputs o = { 0, 0, 0 };
	uint32_t both;

	fields_each_component(st, output_cb, &o);
	/* Only outputs known now and before count: an unreadable reply changes nothing. */
	both = o.known & d->outputs_known;
	if (d->have_outputs && (o.on & both) != (d->outputs & both))
		queue_event(d, "output_changed", "outputs 0x%x -> 0x%x", d->outputs & both,
		    o.on & both);
	d->outputs = (d->outputs & ~o.known) | o.on;
	d->outputs_known |= o.known;
	d->have_outputs = 1;
	if (dev_known(st->sys.uptime_s)) {
		if (dev_known(d->uptime_s) && st->sys.uptime_s + 1 < d->uptime_s)
			queue_event(d, "rebooted", "uptime %.0f s -> %.0f s", d->uptime_s,
			    st->sys.uptime_s);
		d->uptime_s = st->sys.uptime_s;
	}
}

static void poll_finished(struct pdev *d, enum http_result result);

static void config_cb(const struct shelly_reply *r, void *arg);
static void status_cb(const struct shelly_reply *r, void *arg);
static void verify_cb(const struct shelly_reply *r, void *arg);
static void send_op(struct pdev *d, enum pstage stage, int with_creds);

/*
 * What a request's callback gets: the device by MAC, never a pointer to it, so a device
 * removed (or replaced) while its request was in flight is simply not found.
 */
struct ticket {
	struct poller *p;
	char mac[DEV_MAC_LEN];
	uint64_t req;
};

static struct ticket *
ticket_new(struct pdev *d)
{
	struct ticket *tk = xmalloc(sizeof *tk);

	tk->p = d->p;
	memcpy(tk->mac, d->mac, sizeof tk->mac);
	tk->req = 0;
	return tk;
}

/* Returns the device a reply belongs to and frees the ticket; NULL for a stale reply. */
static struct pdev *
ticket_take(struct ticket *tk, const struct shelly_reply *r)
{
	struct pdev *d = NULL;

	/* A cancelled request may outlive the poller (http_free): touch nothing then. */
	if (r->result != HTTP_CANCELLED) {
		d = find_dev(tk->p, tk->mac);
		if (d != NULL && d->req != tk->req)
			d = NULL;
	}
	free(tk);
	if (d != NULL)
		d->req = 0;
	return d;
}

static void
send_op(struct pdev *d, enum pstage stage, int with_creds)
{
	struct poller *p = d->p;
	struct shelly_target t;
	struct ticket *tk = ticket_new(d);

	d->stage = stage;
	fill_target(d, &t, with_creds);
	/* The ticket's req is set before any callback can run: they come from the loop. */
	switch (stage) {
	case STAGE_VERIFY:
		tk->req = d->req = shelly_identify(p->http, &t, verify_cb, tk);
		break;
	case STAGE_STATUS:
		tk->req = d->req = shelly_status(p->http, &t, status_cb, tk);
		break;
	case STAGE_CONFIG:
		tk->req = d->req = shelly_config(p->http, &t, config_cb, tk);
		break;
	case STAGE_IDLE:
		free(tk);
		break;
	}
}

/*
 * A sleeper silent for longer than POLLER_ASLEEP_LONG_MS: "asleep since <last answer>" in buf
 * (flat battery, out of range?). It stays asleep, never offline: waking is up to the device.
 */
static const char *
asleep_note(const struct pdev *d, char *buf, size_t size)
{
	time_t t = (time_t)(d->last_seen_ms / 1000);
	char when[32];
	struct tm tm;

	if (d->last_seen_ms <= 0 || loop_wall_ms() - d->last_seen_ms <= POLLER_ASLEEP_LONG_MS)
		return NULL;
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	snprintf(buf, size, "asleep since %s: no answer for more than %d h", when,
	    (int)(POLLER_ASLEEP_LONG_MS / 3600000));
	return buf;
}

/* A failed request: count it, decide the state. */
static void
poll_failed(struct pdev *d, const struct shelly_reply *r)
{
	struct poller *p = d->p;
	char msg[512];

	if (d->held && r->result == HTTP_AUTH_REQUIRED)
		snprintf(msg, sizeof msg, "%s: credentials held back after a MAC conflict; "
		    "confirm the device with --add", http_result_name(r->result));
	else
		snprintf(msg, sizeof msg, "%s: %s", http_result_name(r->result), r->cause);
	d->failures++;
	d->verified_until_ms = 0;
	if (r->result == HTTP_AUTH_REQUIRED)
		set_state(d, DEVICE_AUTH_REQUIRED, msg);
	else if (r->result == HTTP_AUTH_FAILED)
		set_state(d, DEVICE_AUTH_FAILED, msg);
	else if (d->sleeps &&
	    (r->result == HTTP_TIMEOUT || r->result == HTTP_REFUSED ||
	    r->result == HTTP_UNREACHABLE || r->result == HTTP_RESET))
		set_state(d, DEVICE_ASLEEP, asleep_note(d, msg, sizeof msg)); /* last report stays */
	else if (d->failures >= p->opts.offline_after || d->state == DEVICE_OFFLINE)
		set_state(d, r->result == HTTP_TIMEOUT || r->result == HTTP_REFUSED ||
		    r->result == HTTP_UNREACHABLE || r->result == HTTP_RESET ||
		    r->result == HTTP_REFUSED_BY_GUARD ? DEVICE_OFFLINE : DEVICE_ERROR, msg);
	else {
		/* Not yet offline: keep the state, remember the error. */
		set_error(d, msg);
	}
	if (d->state != DEVICE_ONLINE)
		store_result(d, NULL, NULL, 0);
	poll_finished(d, r->result);
}

/*
 * engine/devname: a rename on the device is an event, maybe followed. When its writes fail
 * (the store's health says so) the name is observed again at the next poll.
 */
static void
observe_name(struct pdev *d, const char *name)
{
	char *now = NULL, *unsaved = NULL;

	if (devname_observe(d->p->store, d->mac, d->name, name, &now) != 0)
		unsaved = xstrdup(name != NULL ? name : "");
	free(d->name_unsaved);
	d->name_unsaved = unsaved;
	if (now != NULL) {
		free(d->name);
		d->name = now;
	}
}

/*
 * First contact over HTTPS (trust on first use): the key seen is stored with the device and
 * required of every request after it, the credentialed ones first. A pin whose write failed is
 * required all the same and written again at the next reply (the store's health says it failed).
 */
static void
learn_pin(struct pdev *d, const char *pin)
{
	struct store_device sd;
	char *cause = NULL;

	if (pin == NULL || (d->pin != NULL && d->pin[0] != '\0' && !d->pin_unsaved) ||
	    d->p->opts.tls != HTTP_TLS_PIN || d->scheme == NULL || strcmp(d->scheme, "https") != 0)
		return;
	if (!d->pin_unsaved)
		set_str(&d->pin, pin);
	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, d->mac, sizeof sd.mac);
	sd.tls_pin = d->pin;
	d->pin_unsaved = store_device_update(d->p->store, &sd, &cause) != 0;
	if (d->pin_unsaved) {
		log_debug("%s: TLS pin not stored: %s", d->mac, cause);
		free(cause);
	}
}

/* Equal strings, NULL read as "". */
static int
same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/*
 * The firmware /shelly says the device runs, kept and stored when it differs from what is
 * known (an update since, or a version never read): the running version decides whether an
 * offer is an update. A failed write is logged and tried again at the next verify.
 */
static void
learn_fw(struct pdev *d, const struct device_ident *id)
{
	struct store_device sd;
	char *cause = NULL;

	if (id->fw[0] == '\0' || (!d->fw_unsaved && same_str(d->fw, id->fw) &&
	                              same_str(d->fw_version, id->fw_version)))
		return;
	set_str(&d->fw, id->fw);
	set_str(&d->fw_version, id->fw_version);
	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, d->mac, sizeof sd.mac);
	sd.fw = d->fw;
	sd.fw_version = d->fw_version; /* "" clears a version the new firmware does not say */
	d->fw_unsaved = store_device_update(d->p->store, &sd, &cause) != 0;
	if (d->fw_unsaved) {
		log_debug("%s: firmware not stored: %s", d->mac, cause);
		free(cause);
	}
}

/*
 * Whether a changed revision's settings are read in this poll. A failed read is tried again
 * at the next poll, then after 1, 3, 7 ... skipped polls (at most 63), so a device whose
 * settings never read costs about one extra request in 64 polls, not one in every poll.
 */
static int
config_due(struct pdev *d)
{
	if (d->cfg_skip > 0) {
		d->cfg_skip--;
		return 0;
	}
	return 1;
}

static void
config_failed(struct pdev *d, const char *cause)
{
	int n = d->cfg_failures < 6 ? d->cfg_failures : 6;

	log_debug("%s: settings not read: %s", d->mac, cause);
	d->cfg_skip = (1 << n) - 1;
	d->cfg_failures++;
}

static void
status_cb(const struct shelly_reply *r, void *arg)
{
	struct pdev *d = ticket_take(arg, r);
	double rev;
	int read_cfg;

	if (d == NULL)
		return;
	if (r->result != HTTP_OK) {
		poll_failed(d, r);
		return;
	}
	learn_pin(d, r->pin);
	d->failures = 0;
	d->attempted = 1;
	d->last_seen_ms = loop_wall_ms();
	if (r->status->sys.wakeup_period_s > 0)
		d->sleeps = 1;
	set_state(d, DEVICE_ONLINE, NULL);
	if (d->p->seen != NULL) {
		struct shelly_target t;
		fill_target(d, &t, 1);
		d->p->seen(d->mac, &t, d->p->seen_arg);
	}
	rev = dev_known(r->status->sys.cfg_rev) ? r->status->sys.cfg_rev :
	    r->status->sys.cfg_changed_cnt;
	read_cfg = dev_known(rev) && (!d->have_cfg || rev != d->cfg_rev) && config_due(d);
	status_events(d, r->status);
	keep_samples(d, r->status);
	store_result(d, r->status, r->body, read_cfg);
	if (d->name_unsaved != NULL) {
		char *name = d->name_unsaved;
		d->name_unsaved = NULL;
		observe_name(d, name);
		free(name);
	}
	if (read_cfg) {
		d->cfg_reading = rev;
		send_op(d, STAGE_CONFIG, 1);
		return;
	}
	poll_finished(d, HTTP_OK);
}

static void
config_cb(const struct shelly_reply *r, void *arg)
{
	struct pdev *d = ticket_take(arg, r);
	const char *name = NULL;

	if (d == NULL)
		return;
	if (r->result == HTTP_OK) {
		char *why = NULL;
		d->have_cfg = 1;
		d->cfg_rev = d->cfg_reading;
		d->cfg_failures = 0;
		d->cfg_skip = 0;
		if (d->cfg_row != NULL) { /* the row says the revision is read (spared next start) */
			d->cfg_row->cfg_rev = (int64_t)d->cfg_rev;
			store_queue_status(d->p->store, d->cfg_row);
		}
		/* cfg_rev moved: keep the configuration as it is now (history of snapshots). */
		if (r->body != NULL && d->p->store != NULL &&
		    cfgpending_snapshot(d->p->store, d->mac, d->gen, d->cfg_rev, "cfg_rev changed",
		        r->body, r->body_len, &why) != 0) {
			log_debug("%s: configuration snapshot not kept: %s", d->mac, why);
			free(why);
		}
		if (r->settings != NULL)
			name = r->settings->name;
		else if (r->config != NULL)
			name = r->config->name;
		if ((r->settings != NULL || r->config != NULL) && d->p->store != NULL)
			observe_name(d, name);
	} else
		config_failed(d, r->cause);
	store_status_free(d->cfg_row);
	d->cfg_row = NULL;
	/* A failed settings read does not fail the poll: the status was read. Its revision is not
	 * taken as read: the next due poll reads it again (a rename is not lost). */
	poll_finished(d, HTTP_OK);
}

static void
verify_cb(const struct shelly_reply *r, void *arg)
{
	struct pdev *d = ticket_take(arg, r);

	if (d == NULL)
		return;
	if (r->result != HTTP_OK && d->verify_for_version) {
		/* Only the version was asked: the device is polled as before, not asked again. */
		log_debug("%s: running version not read: %s", d->mac, r->cause);
		d->ver_read = 1;
		send_op(d, STAGE_STATUS, 1);
		return;
	}
	if (r->result != HTTP_OK) {
		poll_failed(d, r);
		return;
	}
	if (r->ident->sleep_mode == 1)
		d->sleeps = 1;
	if (strcmp(r->ident->mac, d->mac) == 0)
		learn_pin(d, r->pin);
	if (strcmp(r->ident->mac, d->mac) != 0) {
		struct shelly_reply fake = *r;
		char msg[512];
		snprintf(msg, sizeof msg,
		    "MAC mismatch: %s answers at %s, credentials not sent", r->ident->mac,
		    d->host);
		fake.result = HTTP_ERROR;
		fake.cause = msg;
		if (d->state != DEVICE_ERROR)
			queue_event(d, "mac_mismatch", "%s", msg);
		poll_failed(d, &fake);
		return;
	}
	d->verified_until_ms = loop_now_ms(d->p->loop) + d->p->opts.verify_interval_ms;
	if (d->gen == 0)
		d->gen = r->ident->gen;
	d->ver_read = 1;
	learn_fw(d, r->ident);
	send_op(d, STAGE_STATUS, 1);
}

/*
 * A Gen2+ device whose running version is unknown: no stored version ("ver" was not read:
 * a database older than the column) and a firmware id without one (a dev build,
 * "20241113-122729/gbbb762d"). Its offers cannot be told from downgrades until /shelly is read,
 * once in a run: a device whose /shelly has no "ver" either is not asked again.
 */
static int
version_unknown(const struct pdev *d)
{
	char ver[DEV_SHORT_LEN];

	return d->gen >= 2 && !d->ver_read && (d->fw_version == NULL || d->fw_version[0] == '\0') &&
	    d->fw != NULL && d->fw[0] != '\0' && device_fw_version(d->fw, ver, sizeof ver) != 0;
}

static void
pdev_poll(struct pdev *d)
{
	int verify;

	if (d->req != 0)
		return; /* still busy with the previous poll */
	d->started_ms = loop_now_ms(d->p->loop);
	/*
	 * Gen1 sends the password itself (HTTP Basic) to whoever answers: the address shows the
	 * MAC before every poll with credentials. Gen2+ digest never sends it: verify_interval.
	 */
	verify = d->gen == 0 || (d->password != NULL && !d->held &&
	                            (d->gen == 1 || d->verified_until_ms <= d->started_ms));
	d->verify_for_version = !verify && version_unknown(d);
	if (verify || d->verify_for_version)
		send_op(d, STAGE_VERIFY, 0);
	else
		send_op(d, STAGE_STATUS, 1);
}

static void
once_finish_cb(void *arg)
{
	struct poller *p = arg;
	poller_done_cb done = p->once_done;

	p->once_done = NULL;
	if (done != NULL)
		done(p->once_arg);
}

static void
poll_finished(struct pdev *d, enum http_result result)
{
	struct poller *p = d->p;
	double secs = (double)(loop_now_ms(p->loop) - d->started_ms) / 1000.0;

	d->stage = STAGE_IDLE;
	d->attempted = 1;
	p->polls++;
	if (result != HTTP_OK)
		p->errors[result]++;
	if (p->observe != NULL)
		p->observe(d->mac, d->gen, result, secs, p->observe_arg);
	if (d->once) {
		d->once = 0;
		if (p->once_left > 0 && --p->once_left == 0)
			loop_timer_arm(p->once_timer, 0);
	}
	if (p->running)
		loop_timer_arm(d->timer, next_delay(d));
}

void
poller_start(struct poller *p)
{
	p->running = 1;
	for (size_t i = 0; i < p->ndevs; i++) {
		struct pdev *d = p->devs[i];
		if (d->req == 0)
			loop_timer_arm(d->timer, rnd(p) % (interval_of(d) / 2 + 1));
	}
}

void
poller_stop(struct poller *p)
{
	p->running = 0;
	for (size_t i = 0; i < p->ndevs; i++) {
		struct pdev *d = p->devs[i];
		loop_timer_disarm(d->timer);
		if (d->req != 0) {
			/* Its reply (cancelled) finds no request: the device is free again. */
			http_cancel(p->http, d->req);
			d->req = 0;
			d->stage = STAGE_IDLE;
		}
	}
}

void
poller_poll_all(struct poller *p, poller_done_cb done, void *arg)
{
	if (p->once_timer == NULL)
		p->once_timer = loop_timer_new(p->loop, once_finish_cb, p);
	p->once_done = done;
	p->once_arg = arg;
	p->once_left = p->ndevs;
	if (p->ndevs == 0) {
		loop_timer_arm(p->once_timer, 0);
		return;
	}
	for (size_t i = 0; i < p->ndevs; i++) {
		struct pdev *d = p->devs[i];
		d->once = 1;
		if (d->req == 0) {
			loop_timer_disarm(d->timer);
			pdev_poll(d);
		}
	}
}

size_t
poller_inflight(const struct poller *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->ndevs; i++)
		n += p->devs[i]->req != 0;
	return n;
}

void
poller_foreach(struct poller *p, poller_view_cb cb, void *arg)
{
	for (size_t i = 0; i < p->ndevs; i++) {
		struct pdev *d = p->devs[i];
		struct fleet_view v;

		v.mac = d->mac;
		v.id = d->id ? d->id : "";
		v.name = d->name ? d->name : "";
		v.model = d->model ? d->model : "";
		v.model_name = d->model_name;
		v.fw = d->fw ? d->fw : "";
		v.host = d->host ? d->host : "";
		v.port = d->port;
		v.gen = d->gen;
		v.state = d->state;
		v.known = d->observed || d->stored_state >= 0;
		v.error = d->error ? d->error : "";
		v.last_seen_ms = d->last_seen_ms;
		v.attempted = d->attempted;
		if (d->samples_stored)
			stored_samples(d);
		v.samples = d->samples;
		v.nsamples = d->state == DEVICE_ONLINE || d->state == DEVICE_ASLEEP ? d->nsamples : 0;
		cb(&v, arg);
	}
}

void
poller_get_stats(const struct poller *p, struct poller_stats *s)
{
	memset(s, 0, sizeof *s);
	s->devices = p->ndevs;
	for (size_t i = 0; i < p->ndevs; i++) {
		const struct pdev *d = p->devs[i];

		if (d->observed || d->stored_state >= 0)
			s->by_state[d->state]++;
		else
			s->unknown++;
		s->attempted += p->devs[i]->attempted != 0;
	}
	s->polls = p->polls;
	memcpy(s->errors, p->errors, sizeof s->errors);
}
