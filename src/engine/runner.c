/*
 * The action runner (engine/runner.h): one device action on many targets at once. Each target
 * is identified first (GET /shelly, no credentials); a registered device must show its
 * registered MAC and generation, and credentials come from the resolver and go only to the MAC
 * they belong to. The action's channel and value are checked before anything is sent.
 */
#include "engine/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/creds.h"
#include "engine/devtarget.h"
#include "engine/engine.h"
#include "model/fwver.h"
#include "shelly/client.h"
#include "shelly/models.h"
#include "shelly/rpc.h"
#include "store/store.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Longest device text (ids, messages) kept in a result. */
#define RUN_TEXT_MAX 200
/*
 * How long a Gen1 device gets to look for firmware after GET /ota/check before /ota is read:
 * the check runs in the background on the device (others wait 5 s), and /ota answers from what
 * the device last knew until it is done.
 */
#define GEN1_OTA_CHECK_WAIT_MS 3000

/* One target of the run and what became of it. */
struct rdev {
	struct runner *run;
	size_t index;
	struct devtarget dt; /* resolved, identified, with credentials */
	struct action a;
	uint64_t req; /* the settings or action request in flight, 0 none */
	struct loop_timer *wait; /* Gen1 fw_check: the device looks for firmware, or NULL */
	/* Outcome. */
	int done;
	enum http_result result;
	char *error; /* sanitised; NULL when ok */
	struct action_result ar; /* the device's answer (message owned) */
	int have_ar;
	char *ok_text;
	const struct rdev *dup_of; /* the same device as this target: nothing sent */
	int claimed; /* identified and acting: no other target acts on its MAC */
	int checked; /* fw_update(_beta): the offer was checked against the running version */
	int sent;    /* the action's own request went out (not only identification, settings) */
	int reading; /* done, the read-back of its status in flight */
	char *status_json; /* the read-back's reply, or NULL */
	int64_t status_ms;
};

struct runner {
	struct engine *eng;
	const struct action_info *ai;
	struct action base;
	char *who;
	int https, accept_cert;
	int light_set; /* base.light was chosen by the caller (runner_set_light) */
	int read_back; /* runner_set_read_back */
	struct rdev *devs;
	size_t n, ndone;
	struct runner_cbs cbs;
	int finished; /* done_cb was called */
};

static void rdev_result(const struct rdev *dev, struct runner_result *res);
static void rdev_stop(struct rdev *dev);

/* Checks the action against the table: 0, or -1 with *cause. */
static int
check_action(const struct action *a, const struct action_info *ai, char **cause)
{
	if (ai == NULL) {
		*cause = xstrdup("unknown action");
		return -1;
	}
	if (ai->needs_id && (a->id < 0 || a->id > ACTION_ID_MAX)) {
		*cause = xasprintf("%s: channel must be 0-%d", ai->name, ACTION_ID_MAX);
		return -1;
	}
	if (ai->needs_value && (a->value < ACTION_VALUE_MIN || a->value > ACTION_VALUE_MAX)) {
		*cause = xasprintf(
		    "%s: value must be %d-%d", ai->name, ACTION_VALUE_MIN, ACTION_VALUE_MAX);
		return -1;
	}
	return 0;
}

struct runner *
runner_new(struct engine *eng, const struct action *a, const char *const *targets, size_t n,
    const char *who, const struct runner_cbs *cbs, char **cause)
{
	struct runner *r;
	const struct action_info *ai = a->kind < ACTION__COUNT ? action_info(a->kind) : NULL;

	if (check_action(a, ai, cause) != 0)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->eng = eng;
	r->ai = ai;
	r->base = *a;
	r->who = xstrdup(who != NULL ? who : "?");
	if (cbs != NULL)
		r->cbs = *cbs;
	r->n = n;
	r->devs = xcalloc(n > 0 ? n : 1, sizeof *r->devs);
	for (size_t i = 0; i < n; i++) {
		struct rdev *dev = &r->devs[i];
		dev->run = r;
		dev->index = i;
		if (devtarget_init(&dev->dt, eng, targets[i], 0, cause) != 0) {
			r->n = i + 1;
			runner_free(r);
			return NULL;
		}
	}
	return r;
}

void
runner_set_tls(struct runner *r, int https, int accept_cert)
{
	for (size_t i = 0; i < r->n; i++) {
		struct devtarget *dt = &r->devs[i].dt;
		if (dt->reg == NULL)
			dt->t.https = https; /* a registered device is reached as registered */
		dt->accept_cert = accept_cert;
	}
}

void
runner_set_light(struct runner *r, enum action_light light)
{
	r->base.light = light;
	r->light_set = 1;
}

void
runner_set_read_back(struct runner *r)
{
	r->read_back = 1;
}

/* The Gen2+ light component the caller chose for dev's action; 0: the device's own. */
static int
light_chosen(const struct rdev *dev)
{
	return dev->run->light_set && dev->dt.ident.gen >= 2;
}

static void
rdev_finish(struct rdev *dev)
{
	struct runner *run = dev->run;
	struct runner_result res;

	if (dev->done)
		return;
	dev->done = 1;
	dev->req = 0;
	creds_found_done(&dev->dt.cred);
	run->ndone++;
	rdev_result(dev, &res);
	if (run->cbs.result_cb != NULL)
		run->cbs.result_cb(&res, run->cbs.arg);
	if (run->cbs.progress_cb != NULL)
		run->cbs.progress_cb(run->ndone, run->n, run->cbs.arg);
	if (run->ndone == run->n && !run->finished) {
		run->finished = 1;
		if (run->cbs.done_cb != NULL)
			run->cbs.done_cb(run->cbs.arg);
	}
}

static void
rdev_fail(struct rdev *dev, enum http_result result, const char *cause)
{
	free(dev->error);
	dev->result = result;
	dev->error = str_sanitize(
	    cause != NULL && cause[0] ? cause : http_result_name(result), RUN_TEXT_MAX * 2);
	rdev_finish(dev);
}

/*
 * Gen1 devices with colour and white modes (RGBW2, bulbs) have /color/N and /white/N; the
 * others (dimmers, Duo, Vintage: their settings say mode "white" too) have /light/N.
 */
static int
gen1_has_light_modes(const struct device_ident *id)
{
	const struct model_info *mi = models_find(id->model);

	return mi != NULL && mi->cls == MODEL_CLASS_RGBW;
}

/* The light API of the identified device: Gen1 /shelly or settings mode, Gen2+ profile. */
static enum action_light
light_kind(const struct device_ident *id)
{
	static const struct {
		int gen;
		const char *mode;
		enum action_light light;
	} kinds[] = {
		{ 1, "color", ACTION_LIGHT_COLOR },
		{ 1, "white", ACTION_LIGHT_WHITE },
		{ 2, "rgb", ACTION_LIGHT_COLOR },
		{ 2, "rgbcct", ACTION_LIGHT_COLOR },
		{ 2, "rgbw", ACTION_LIGHT_RGBW },
		{ 2, "cct", ACTION_LIGHT_CCT },
	};
	int gen = id->gen == 1 ? 1 : 2;
	const char *mode = gen == 1 ? id->mode : id->profile;

	if (gen == 1 && !gen1_has_light_modes(id))
		return ACTION_LIGHT_PLAIN;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].gen == gen && str_caseeq(mode, kinds[i].mode))
			return kinds[i].light;
	return ACTION_LIGHT_PLAIN;
}

static int
is_light(enum action_kind k)
{
	return k == ACTION_LIGHT_ON || k == ACTION_LIGHT_OFF || k == ACTION_LIGHT_TOGGLE ||
	       k == ACTION_LIGHT_BRIGHTNESS;
}

/* What a successful action did, in a few words (malloc'd, sanitised): "switch:0 on". */
static char *
ok_text(const struct rdev *dev)
{
	static const char *const cover_words[] = {"opening", "closing", "stopped"};
	const struct action_result *ar = &dev->ar;
	const struct action *a = &dev->a;
	const char *comp = action_component(a->kind);
	struct strbuf sb;
	char *s;

	/* Gen2+: the component the request went to (RGB.Set is rgb:0, also when the device's
	 * profile chose it); Gen1 /light, /color and /white channels are all light:N. */
	if (is_light(a->kind) && dev->dt.ident.gen >= 2)
		comp = action_light_type(a->light);

	strbuf_init(&sb);
	if (comp != NULL)
		strbuf_appendf(&sb, "%s:%d ", comp, a->id);
	if (comp != NULL && strcmp(comp, "cover") != 0) {
		if (!ar->has_output)
			strbuf_append(&sb, "toggled");
		else if (ar->output && ar->has_brightness)
			strbuf_appendf(&sb, "on %d%%", ar->brightness);
		else
			strbuf_append(&sb, ar->output ? "on" : "off");
	} else if (a->kind == ACTION_COVER_POSITION)
		strbuf_appendf(&sb, "moving to %d%%", a->value);
	else if (comp != NULL)
		strbuf_append(&sb, cover_words[a->kind - ACTION_COVER_OPEN]);
	else
		strbuf_append(&sb, ar->message != NULL ? ar->message : "done");
	/* Gen1 roller replies say where the cover was when the device answered. */
	if (comp != NULL && strcmp(comp, "cover") == 0 && ar->has_position)
		strbuf_appendf(&sb, " (at %d%%)", ar->position);
	s = str_sanitize(sb.buf != NULL ? sb.buf : "", RUN_TEXT_MAX * 2);
	strbuf_done(&sb);
	return s;
}

static void send_action(struct rdev *dev);

/* The read-back answered: a status reply is kept, a failure leaves none (the action stands). */
static void
read_back_cb(const struct shelly_reply *r, void *arg)
{
	struct rdev *dev = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	dev->req = 0;
	dev->reading = 0;
	if (r->result == HTTP_OK && r->status != NULL && r->body != NULL) {
		dev->status_json = xstrndup(r->body, r->body_len);
		dev->status_ms = loop_wall_ms();
	}
	rdev_finish(dev);
}

/*
 * An offered firmware that is not newer than the one the device runs (Gen1 /ota's
 * old_version, else the firmware it identified with) is no update: such a stable or beta
 * is dropped from ar. When the one the action is about (the beta for fw_update_beta, else
 * the stable) was dropped, ar says so in its message and 1 is returned.
 */
static const char *
running_fw(const struct rdev *dev, const struct action_result *ar)
{
	if (ar->current_version[0] != '\0')
		return ar->current_version;
	return fwver_running(dev->dt.ident.fw, dev->dt.ident.fw_version);
}

static int
drop_old_offers(const struct rdev *dev, struct action_result *ar)
{
	const char *running = running_fw(dev, ar);
	int beta = dev->run->base.kind == ACTION_FW_UPDATE_BETA, cmp = 0;
	char offered[ACTION_VERSION_MAX] = "", runs[DEV_FW_LEN], *msg;

	if (ar->update_available && fwver_newer(ar->new_version, running) == 0) {
		if (!beta)
			str_copy(offered, sizeof offered, ar->new_version);
		ar->update_available = false;
		ar->new_version[0] = '\0';
	}
	if (ar->beta_version[0] != '\0' && fwver_newer(ar->beta_version, running) == 0) {
		if (beta)
			str_copy(offered, sizeof offered, ar->beta_version);
		ar->beta_version[0] = '\0';
	}
	if (offered[0] == '\0')
		return 0;
	(void)fwver_cmp(running, offered, &cmp);
	if (device_fw_version(running, runs, sizeof runs) != 0)
		str_copy(runs, sizeof runs, running);
	msg = xasprintf("no %supdate available (device runs %s, %s the offered %s)",
	    beta ? "beta " : "", runs, cmp > 0 ? "newer than" : "the same as", offered);
	free(ar->message);
	ar->message = str_sanitize(msg, RUN_TEXT_MAX * 2);
	free(msg);
	return 1;
}

/*
 * The offer fw_update(_beta) would install when it cannot be told newer than the running
 * firmware (either version unreadable): why it is not installed (caller frees), else NULL.
 */
static char *
unknown_offer(const struct rdev *dev, const struct action_result *ar)
{
	int beta = dev->run->base.kind == ACTION_FW_UPDATE_BETA;
	const char *offered = beta ? ar->beta_version : ar->update_available ? ar->new_version : "";
	const char *running = running_fw(dev, ar);

	if (offered[0] == '\0' || fwver_newer(offered, running) != -1)
		return NULL;
	return xasprintf("not installed: cannot tell whether the %s offered (%s) is newer than "
	                 "the firmware the device runs (%s)",
	    beta ? "beta" : "stable", offered, running != NULL && running[0] ? running : "unknown");
}

/*
 * fw_update(_beta) asks first what is offered (fw_check): a downgrade is not installed, the
 * run ends as for an up-to-date device; an offer that cannot be compared with the running
 * firmware is not installed either, the run fails saying so. When the check fails the
 * update is sent as before and the device decides.
 */
static int
update_checked(struct rdev *dev, enum http_result result)
{
	char *why;

	dev->checked = 1;
	if (result == HTTP_OK && dev->have_ar && dev->ar.ok && drop_old_offers(dev, &dev->ar)) {
		dev->ar.up_to_date = true;
		return 1;
	}
	if (result == HTTP_OK && dev->have_ar && dev->ar.ok &&
	    (why = unknown_offer(dev, &dev->ar)) != NULL) {
		rdev_fail(dev, HTTP_ERROR, why);
		free(why);
		return 0;
	}
	if (dev->have_ar)
		action_result_done(&dev->ar);
	memset(&dev->ar, 0, sizeof dev->ar);
	dev->have_ar = 0;
	send_action(dev);
	return 0;
}

static void
action_cb(const struct shelly_reply *r, void *arg)
{
	struct rdev *dev = arg;
	enum http_result result = r->result;
	int code;
	char *msg = NULL;

	if (r->result == HTTP_CANCELLED)
		return; /* the run is over: arg may be gone */
	dev->req = 0;
	if (r->action != NULL) {
		dev->ar = *r->action;
		dev->ar.message = str_sanitize(r->action->message, RUN_TEXT_MAX * 2);
		dev->have_ar = 1;
	}
	if (dev->a.kind == ACTION_FW_CHECK && dev->run->base.kind != ACTION_FW_CHECK) {
		if (!update_checked(dev, result))
			return;
	} else if (dev->a.kind == ACTION_FW_CHECK && dev->have_ar) {
		drop_old_offers(dev, &dev->ar);
	}
	if (result == HTTP_OK && dev->have_ar && dev->ar.ok) {
		dev->result = HTTP_OK;
		dev->ok_text = ok_text(dev);
		if (dev->run->read_back && action_component(dev->a.kind) != NULL) {
			dev->reading = 1;
			dev->req =
			    shelly_status(dev->run->eng->http, &dev->dt.t, read_back_cb, dev);
			return;
		}
		rdev_finish(dev);
		return;
	}
	/* Gen2+ answer RPC errors with a non-2xx status: name them as what they are. */
	if (result == HTTP_STATUS && dev->dt.t.gen >= 2 && r->body != NULL &&
	    rpc_parse_error(r->body, r->body_len, &code, &msg) == 0)
		result = HTTP_RPC_ERROR;
	free(msg);
	if (result == HTTP_RPC_ERROR && dev->dt.t.gen == 1)
		result = HTTP_ERROR; /* Gen1 has no RPC: the reply said it was not done */
	if (result == HTTP_OK)
		result = HTTP_ERROR; /* understood, but not done */
	rdev_fail(dev, result, r->cause);
}

static void
send_action(struct rdev *dev)
{
	dev->a = dev->run->base;
	if ((dev->a.kind == ACTION_FW_UPDATE || dev->a.kind == ACTION_FW_UPDATE_BETA) &&
	    !dev->checked)
		dev->a.kind = ACTION_FW_CHECK;
	/* A Gen2+ light type the caller named (cct:0) wins over the profile's. */
	if (is_light(dev->a.kind) && !light_chosen(dev))
		dev->a.light = light_kind(&dev->dt.ident);
	dev->sent = 1;
	dev->req = shelly_action(dev->run->eng->http, &dev->dt.t, &dev->a, action_cb, dev);
}

static void
settings_cb(const struct shelly_reply *r, void *arg)
{
	struct rdev *dev = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	dev->req = 0;
	/* Only the light mode is wanted; without it the plain /light API is used. */
	if (r->result == HTTP_OK && r->settings != NULL && r->settings->mode[0] != '\0')
		str_copy(dev->dt.ident.mode, sizeof dev->dt.ident.mode, r->settings->mode);
	send_action(dev);
}

static void
ota_wait_cb(void *arg)
{
	send_action(arg);
}

/* GET /ota/check answered: /ota is read once the device had time to look. */
static void
ota_check_cb(const struct shelly_reply *r, void *arg)
{
	struct rdev *dev = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	dev->req = 0;
	/* Firmware without /ota/check (or a refusal) leaves the cached answer: read that. */
	if (r->result != HTTP_OK) {
		send_action(dev);
		return;
	}
	dev->wait = loop_timer_new(dev->run->eng->loop, ota_wait_cb, dev);
	loop_timer_arm(dev->wait, GEN1_OTA_CHECK_WAIT_MS);
}

/* Gen1 /ota answers from the device's last look for firmware: fw_check asks for a new one. */
static int
needs_ota_check(const struct rdev *dev)
{
	return dev->dt.ident.gen == 1 && dev->run->base.kind == ACTION_FW_CHECK;
}

/* Gen1 bulbs and RGBWW say their colour/white mode only in /settings. */
static int
needs_light_mode(const struct rdev *dev)
{
	const struct device_ident *id = &dev->dt.ident;

	return id->gen == 1 && is_light(dev->run->base.kind) && id->mode[0] == '\0' &&
	       gen1_has_light_modes(id);
}

/* Ends dev as the same device as first: nothing is sent. */
static void
rdev_duplicate(struct rdev *dev, const struct rdev *first)
{
	rdev_stop(dev);
	dev->dup_of = first;
	dev->result = HTTP_OK;
	rdev_finish(dev);
}

/* The target that already acts on the MAC dev showed, or NULL (then dev claims it). */
static const struct rdev *
claim_mac(struct rdev *dev)
{
	const char *mac = devtarget_mac(&dev->dt);
	struct runner *run = dev->run;

	for (size_t i = 0; mac != NULL && i < run->n; i++) {
		const struct rdev *o = &run->devs[i];
		if (o != dev && o->claimed && str_caseeq(mac, devtarget_mac(&o->dt)))
			return o;
	}
	dev->claimed = 1;
	return NULL;
}

/* The target is identified, checked and has its credentials (or failed): act. */
static void
target_cb(struct devtarget *dt, void *arg)
{
	struct rdev *dev = arg;
	const struct rdev *first;

	if (dt->result != HTTP_OK)
		rdev_fail(dev, dt->result, dt->error);
	else if ((first = claim_mac(dev)) != NULL)
		rdev_duplicate(dev, first);
	else if (needs_light_mode(dev))
		dev->req = shelly_config(dev->run->eng->http, &dt->t, settings_cb, dev);
	else if (needs_ota_check(dev))
		dev->req = shelly_request(
		    dev->run->eng->http, &dt->t, "GET", "/ota/check", NULL, ota_check_cb, dev);
	else
		send_action(dev);
}

void
runner_start(struct runner *r)
{
	if (r->n == 0) {
		r->finished = 1;
		if (r->cbs.done_cb != NULL)
			r->cbs.done_cb(r->cbs.arg);
		return;
	}
	/* The same MAC or address again is merged into its first mention before anything is
	 * sent; the rest are merged when they show their MAC (target_cb). */
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < i && r->devs[i].dup_of == NULL; k++)
			if (r->devs[k].dup_of == NULL &&
			    devtarget_same(&r->devs[k].dt, &r->devs[i].dt))
				r->devs[i].dup_of = &r->devs[k];
	for (size_t i = 0; i < r->n && !r->finished; i++) {
		struct rdev *dev = &r->devs[i];
		if (dev->dup_of != NULL)
			rdev_duplicate(dev, dev->dup_of);
		else
			devtarget_start(&dev->dt, target_cb, dev);
	}
}

/* Stops target dev without a callback. */
static void
rdev_stop(struct rdev *dev)
{
	loop_timer_free(dev->wait);
	dev->wait = NULL;
	if (dev->req != 0) {
		http_cancel(dev->run->eng->http, dev->req);
		dev->req = 0;
	}
	if (dev->dt.req != 0) {
		http_cancel(dev->run->eng->http, dev->dt.req);
		dev->dt.req = 0;
	}
	if (dev->dt.waiting_creds) {
		creds_cancel(dev->run->eng->creds, &dev->dt);
		dev->dt.waiting_creds = 0;
	}
}

void
runner_cancel(struct runner *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct rdev *dev = &r->devs[i];
		/* The action's own request in flight: not the identification, a Gen1 light's
		 * /settings read or /ota/check, which change nothing. */
		int sent = dev->sent && dev->req != 0;
		rdev_stop(dev);
		if (dev->reading) /* the action was done: only its read-back is dropped */
			rdev_finish(dev);
		else if (!dev->done)
			rdev_fail(dev, HTTP_CANCELLED,
			    sent ? "interrupted: the request may have reached the device (its "
			           "answer was not awaited)"
			         : "interrupted before anything was sent");
	}
}

size_t
runner_count(const struct runner *r, size_t *ndone)
{
	if (ndone != NULL)
		*ndone = r->ndone;
	return r->n;
}

size_t
runner_duplicates(const struct runner *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++)
		k += r->devs[i].dup_of != NULL;
	return k;
}

/* The id a result shows: the registry's, the device's, else the target as given. */
static const char *
rdev_id(const struct rdev *dev)
{
	const struct devtarget *dt = &dev->dt;

	if (dt->reg != NULL && dt->reg->id != NULL && dt->reg->id[0] != '\0')
		return dt->reg->id;
	if (dt->have_ident && dt->ident.id[0] != '\0')
		return dt->ident.id;
	return NULL;
}

static void
rdev_result(const struct rdev *dev, struct runner_result *res)
{
	memset(res, 0, sizeof *res);
	res->index = dev->index;
	res->target = dev->dt.arg;
	res->mac = dev->dt.reg != NULL ? dev->dt.reg->mac
	           : dev->dt.have_ident && dev->dt.ident.mac[0] != '\0' ? dev->dt.ident.mac
	                                                               : NULL;
	res->id = rdev_id(dev);
	res->ok = dev->done && dev->result == HTTP_OK && dev->have_ar && dev->ar.ok;
	res->result = dev->done ? dev->result : HTTP_CANCELLED;
	res->sent = dev->sent;
	res->error = res->ok ? NULL : (dev->error != NULL ? dev->error : "not done");
	res->ar = dev->have_ar ? &dev->ar : NULL;
	res->ok_text = res->ok ? dev->ok_text : NULL;
	res->status_json = dev->status_json;
	res->status_ms = dev->status_ms;
	if (dev->dup_of != NULL) {
		res->duplicate_of = dev->dup_of->dt.arg;
		res->error = "the same device as an earlier target";
	}
}

void
runner_result(const struct runner *r, size_t i, struct runner_result *res)
{
	rdev_result(&r->devs[i], res);
}

int
runner_audit(struct runner *r, char **cause)
{
	struct store *st = r->eng->store;
	int64_t now = loop_wall_ms();
	int rc = 0;

	if (st == NULL)
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		struct runner_result res;
		struct store_audit au;
		char *target, *c = NULL;

		rdev_result(&r->devs[i], &res);
		if (res.duplicate_of != NULL)
			continue; /* nothing was done */
		target = str_sanitize(res.mac != NULL ? res.mac : res.target, RUN_TEXT_MAX);
		memset(&au, 0, sizeof au);
		au.ts_ms = now;
		au.who = r->who;
		au.action = r->ai->name;
		au.target = target;
		au.result = res.ok ? "ok" : http_result_name(res.result);
		au.detail = res.ok ? res.ok_text : res.error;
		if (store_audit_append(st, &au, &c) != 0) {
			if (rc == 0)
				*cause = c;
			else
				free(c);
			rc = -1;
		}
		free(target);
	}
	return rc;
}

void
runner_free(struct runner *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct rdev *dev = &r->devs[i];
		rdev_stop(dev);
		devtarget_done(&dev->dt);
		free(dev->error);
		free(dev->ok_text);
		free(dev->status_json);
		action_result_done(&dev->ar);
	}
	free(r->devs);
	free(r->who);
	free(r);
}
