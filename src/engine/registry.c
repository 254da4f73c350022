/*
 * The registry service (engine/registry.h): read a device at an address, add or update it,
 * remove and rename it, and the store row -> device view conversion. Reads run on the loop:
 * GET /shelly, then -- once the device has shown its MAC -- credentials from the resolver,
 * one status request and its settings. Nothing here prints.
 */
#include "engine/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "engine/creds.h"
#include "engine/devevent.h"
#include "engine/devname.h"
#include "engine/engine.h"
#include "model/devconfig.h"
#include "model/fwver.h"
#include "shelly/client.h"
#include "shelly/gen1.h"
#include "shelly/gen2.h"
#include "shelly/models.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct registry_op {
	struct engine *eng;
	int add;
	registry_done_cb done;
	void *arg;
	char *host, *name, *cred_ref, *who;
	int accept_cert;
	int ask_password, asked; /* req->ask_password; the operator was asked after a refusal */
	int gen; /* the generation credentials are resolved for */
	struct shelly_target t;
	char *pin_want; /* the registered key required, or NULL */
	struct store_device *reg; /* registered under the MAC the device showed */
	struct creds_found cred;
	struct device_ident ident;
	int have_ident;
	char own_name[DEV_NAME_LEN]; /* the name in the settings read, as the poller sees it */
	int have_own_name;
	struct device_status status;
	int have_status;
	enum device_state state;
	enum http_result result;
	char *error;
	char *pin; /* https: the key the device showed */
	uint64_t req;
	int waiting_creds;
	int finished;
};

char *
registry_mismatch(const struct store_device *reg, const struct device_ident *ident, int https)
{
	if (strcmp(reg->mac, ident->mac) != 0)
		return xasprintf("MAC mismatch: %s is registered at this address, the device "
		                 "there is %s; nothing was sent",
		    reg->mac, ident->mac[0] ? ident->mac : "without a MAC");
	if (reg->gen > 0 && ident->gen != reg->gen)
		return xasprintf("generation mismatch: %s is registered as gen %d, the device "
		                 "there says gen %d; nothing was sent",
		    reg->mac, reg->gen, ident->gen);
	if (reg->scheme != NULL && strcmp(reg->scheme, "https") == 0 && !https)
		return xasprintf("%s is registered for HTTPS; nothing is sent over HTTP", reg->mac);
	return NULL;
}

static int
verify(struct engine *eng, const struct device_ident *ident, int https,
    struct store_device **reg, struct creds_query *q, char **why)
{
	if (*reg == NULL && eng->store != NULL && ident->mac[0] != '\0')
		*reg = store_device_find_mac(eng->store, ident->mac);
	if (*reg != NULL && (*why = registry_mismatch(*reg, ident, https)) != NULL)
		return -1;
	memset(q, 0, sizeof *q);
	q->mac = ident->mac;
	q->id = ident->id;
	q->gen = *reg != NULL && (*reg)->gen > 0 ? (*reg)->gen : ident->gen;
	q->auth_en = ident->auth_en;
	q->reg = *reg;
	return 0;
}

char *
registry_pin_want(struct engine *eng, struct shelly_target *t, const struct store_device *reg)
{
	struct store_device *at_host = NULL;
	char *pin = NULL;

	if (!t->https || t->tls != HTTP_TLS_PIN)
		return NULL;
	if (reg == NULL && eng->store != NULL)
		reg = at_host = store_device_find_host(eng->store, t->host, t->port);
	if (reg != NULL && reg->tls_pin != NULL && reg->tls_pin[0] != '\0')
		t->pin = pin = xstrdup(reg->tls_pin);
	store_device_free(at_host);
	return pin;
}

int
registry_identified(struct engine *eng, const struct shelly_reply *r, struct shelly_target *t,
    struct device_ident *ident, char **seen_pin, struct store_device **reg, struct creds_query *q,
    char **why)
{
	*ident = *r->ident;
	if (r->pin != NULL) {
		free(*seen_pin);
		*seen_pin = xstrdup(r->pin);
	}
	/* First contact: the key /shelly showed is required of the requests with credentials. */
	if (t->https && t->tls == HTTP_TLS_PIN && t->pin == NULL)
		t->pin = *seen_pin;
	if (verify(eng, ident, t->https, reg, q, why) != 0)
		return -1;
	t->gen = q->gen;
	t->mac = ident->mac[0] ? ident->mac : NULL;
	return 0;
}

/* The state a failed request leaves a device in. */
static enum device_state
state_of(enum http_result result)
{
	switch (result) {
	case HTTP_OK:
		return DEVICE_ONLINE;
	case HTTP_AUTH_REQUIRED:
		return DEVICE_AUTH_REQUIRED;
	case HTTP_AUTH_FAILED:
		return DEVICE_AUTH_FAILED;
	case HTTP_TIMEOUT:
	case HTTP_REFUSED:
	case HTTP_UNREACHABLE:
	case HTTP_RESET:
	case HTTP_REFUSED_BY_GUARD:
		return DEVICE_OFFLINE;
	default:
		return DEVICE_ERROR;
	}
}

/* A device whose status read failed this way is still registered (its identity is known). */
static int
add_despite(enum http_result result)
{
	return result == HTTP_STATUS || result == HTTP_RPC_ERROR || result == HTTP_BAD_JSON ||
	       result == HTTP_TRUNCATED || result == HTTP_TOO_LARGE || result == HTTP_TIMEOUT ||
	       result == HTTP_RESET;
}

static void op_store(struct registry_op *op, struct registry_result *res);

/* Calls done once with what the op found. */
static void
op_finish(struct registry_op *op)
{
	struct registry_result res;

	if (op->finished)
		return;
	op->finished = 1;
	op->req = 0;
	memset(&res, 0, sizeof res);
	res.ident = op->have_ident ? &op->ident : NULL;
	res.status = op->have_status ? &op->status : NULL;
	res.state = op->state;
	res.result = op->result;
	res.host = op->host;
	res.port = op->t.port;
	res.https = op->t.https;
	res.pin = op->t.https ? op->pin : NULL;
	res.with_credentials = op->cred.password != NULL;
	res.rc = op->have_status ? 0 : -1;
	res.cause = op->error != NULL ? op->error : "";
	res.warning = "";
	if (op->add)
		op_store(op, &res);
	creds_found_done(&op->cred);
	op->done(&res, op->arg);
}

static void
op_fail(struct registry_op *op, enum http_result result, const char *cause)
{
	free(op->error);
	if (result == HTTP_AUTH_REQUIRED || result == HTTP_AUTH_FAILED)
		op->error = str_sanitize(cause, 0); /* the state already names the result */
	else
		op->error = xasprintf("%s: %s", http_result_name(result), cause);
	op->state = state_of(result);
	op->result = result;
	op_finish(op);
}

static void
config_cb(const struct shelly_reply *r, void *arg)
{
	struct registry_op *op = arg;

	if (r->result == HTTP_CANCELLED)
		return; /* the op is gone */
	/* Settings complete the identity (Gen1 id, names); a failure does not fail the read. */
	if (r->result == HTTP_OK && r->settings != NULL) {
		gen1_settings_apply(r->settings, &op->ident, &op->status);
		str_copy(op->own_name, sizeof op->own_name, r->settings->name);
		op->have_own_name = 1;
	} else if (r->result == HTTP_OK && r->config != NULL) {
		gen2_config_apply(r->config, &op->ident, &op->status);
		str_copy(op->own_name, sizeof op->own_name, r->config->name);
		op->have_own_name = 1;
	}
	op_finish(op);
}

/*
 * The start of every reply of a read: returns 1 when the read goes on, 0 when the reply ended
 * it (a failure, now the op's outcome) or the op is gone (cancelled: arg may be freed).
 */
static int
op_reply(struct registry_op *op, const struct shelly_reply *r)
{
	if (r->result == HTTP_CANCELLED)
		return 0;
	op->req = 0;
	if (r->result != HTTP_OK) {
		op_fail(op, r->result, r->cause);
		return 0;
	}
	return 1;
}

static void creds_cb(int rc, struct creds_found *found, const char *cause, void *arg);

/* The password sent was refused and the operator may be asked for another: asks (once) and
 * returns 1; the read goes on in creds_cb with the answer. */
static int
ask_again(struct registry_op *op, const struct shelly_reply *r)
{
	if (r->result != HTTP_AUTH_FAILED || !op->ask_password || op->asked)
		return 0;
	op->asked = 1;
	op->req = 0;
	creds_found_done(&op->cred);
	op->t.user = op->t.password = NULL;
	op->waiting_creds = 1;
	creds_ask(op->eng->creds, op->gen, creds_cb, op);
	return 1;
}

static void
status_cb(const struct shelly_reply *r, void *arg)
{
	struct registry_op *op = arg;

	if (ask_again(op, r) || !op_reply(op, r))
		return;
	device_status_copy(&op->status, r->status);
	device_ident_update_from_status(&op->ident, &op->status);
	op->have_status = 1;
	op->state = DEVICE_ONLINE;
	op->result = HTTP_OK;
	op->req = shelly_config(op->eng->http, &op->t, config_cb, op);
}

static void
creds_cb(int rc, struct creds_found *found, const char *cause, void *arg)
{
	struct registry_op *op = arg;

	op->waiting_creds = 0;
	if (rc != 0) {
		op_fail(op, HTTP_AUTH_REQUIRED, cause);
		return;
	}
	creds_found_take(&op->cred, found, &op->t);
	op->t.fw = fwver_running(op->ident.fw, op->ident.fw_version);
	op->req = shelly_status(op->eng->http, &op->t, status_cb, op);
}

static void
ident_cb(const struct shelly_reply *r, void *arg)
{
	struct registry_op *op = arg;
	struct creds_query q;
	char *why;

	if (!op_reply(op, r))
		return;
	op->have_ident = 1;
	if (registry_identified(op->eng, r, &op->t, &op->ident, &op->pin, &op->reg, &q, &why) != 0) {
		op_fail(op, HTTP_ERROR, why);
		free(why);
		return;
	}
	op->waiting_creds = 1;
	op->gen = q.gen;
	q.confirm = op->add; /* --add is the operator's confirmation of a held device */
	creds_resolve(op->eng->creds, op->eng, &q, creds_cb, op);
}

static struct registry_op *
op_start(
    struct engine *eng, int add, const struct registry_req *req, registry_done_cb done, void *arg)
{
	struct registry_op *op = xcalloc(1, sizeof *op);
	char *cause = NULL;

	op->eng = eng;
	op->add = add;
	op->done = done;
	op->arg = arg;
	op->host = xstrdup(req->host != NULL ? req->host : "");
	op->name = req->name != NULL ? xstrdup(req->name) : NULL;
	op->cred_ref = req->cred_ref != NULL ? xstrdup(req->cred_ref) : NULL;
	op->who = xstrdup(req->who != NULL ? req->who : "?");
	op->accept_cert = req->accept_cert;
	op->ask_password = req->ask_password;
	op->state = DEVICE_ERROR;
	op->result = HTTP_ERROR;
	device_ident_init(&op->ident);
	device_status_init(&op->status);
	op->t.host = op->host;
	op->t.port = req->port;
	op->t.https = req->https;
	conf_target(eng->conf, &op->t);
	op->t.lane_limit = 1;
	if (guard_check(eng->guard, op->host, &cause) != 0) {
		op_fail(op, HTTP_REFUSED_BY_GUARD, cause);
		free(cause);
		return op;
	}
	if (req->mac != NULL &&
	    (eng->store == NULL || (op->reg = store_device_find_mac(eng->store, req->mac)) == NULL)) {
		op_fail(op, HTTP_ERROR, "not a registered device");
		return op;
	}
	/* A registered HTTPS device's pinned key must match unless accept_cert. */
	if (!op->accept_cert)
		op->pin_want = registry_pin_want(eng, &op->t, op->reg);
	op->req = shelly_identify(eng->http, &op->t, ident_cb, op);
	return op;
}

struct registry_op *
registry_probe(struct engine *eng, const struct registry_req *req, registry_done_cb done, void *arg)
{
	return op_start(eng, 0, req, done, arg);
}

struct registry_op *
registry_add(struct engine *eng, const struct registry_req *req, registry_done_cb done, void *arg)
{
	return op_start(eng, 1, req, done, arg);
}

/* Where an operator's password lives: the given reference, or the (0600) database. */
static char *
secret_ref(struct registry_op *op, char **cause)
{
	char key[64];

	if (op->cred_ref != NULL)
		return xstrdup(op->cred_ref);
	snprintf(key, sizeof key, "secret:%s", op->ident.mac);
	if (store_setting_set(op->eng->store, key, op->cred.password, cause) != 0)
		return NULL;
	return xasprintf("store:%s", key);
}

/* An address change of a registered device is an event. */
static void
moved_event(struct registry_op *op, const struct store_device *old, int64_t now)
{
	char detail[600];

	if (old == NULL || old->host == NULL ||
	    (strcmp(old->host, op->host) == 0 && old->port == op->t.port))
		return;
	snprintf(detail, sizeof detail, "%s:%d -> %s:%u", old->host, old->port, op->host,
	    (unsigned)op->t.port);
	devevent_record(op->eng->store, op->ident.mac, "ip_changed", detail, NULL, NULL, now, NULL);
}

/* A device registered in a bad state: the failure is its stored status. */
static void
failed_status(struct registry_op *op, int64_t now)
{
	struct store_status st;

	memset(&st, 0, sizeof st);
	memcpy(st.mac, op->ident.mac, sizeof st.mac);
	st.ts_ms = now;
	st.state = device_state_name(op->state);
	st.error = op->error;
	st.power_w = st.energy_wh = st.temperature_c = st.rssi_dbm = NAN;
	st.uptime_s = st.outputs_on = st.fw_update = st.cfg_rev = STORE_NULL_INT;
	st.keep_reply = 1; /* an earlier reply stays, as after a failed poll */
	store_queue_status(op->eng->store, &st);
}

/* --add: stores what the read found (res is updated with the outcome). */
static void
op_store(struct registry_op *op, struct registry_result *res)
{
	struct store_device sd;
	char *cause = NULL, *cred_ref = NULL;
	int64_t now = loop_wall_ms();
	int degraded = 0;

	if (!op->have_status) {
		if (!op->have_ident || op->ident.mac[0] == '\0' || !add_despite(op->result) ||
		    op->reg != NULL)
			return; /* a registered device is not rewritten from a failed read */
		degraded = 1;
	}
	if (op->ident.mac[0] == '\0') {
		free(op->error);
		op->error = xstrdup("the device reported no MAC address");
		res->rc = -1;
		res->cause = op->error;
		return;
	}
	if (op->cred.password != NULL && op->cred.source != NULL &&
	    strcmp(op->cred.source, "operator") == 0 && (cred_ref = secret_ref(op, &cause)) == NULL)
		goto fail;
	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, op->ident.mac, sizeof sd.mac);
	sd.id = op->ident.id;
	sd.gen = op->ident.gen;
	sd.model = op->ident.model;
	sd.app = op->ident.app;
	sd.fw = op->ident.fw;
	sd.fw_version = op->ident.fw_version;
	sd.auth = device_auth_name(op->ident.auth_en);
	sd.profile = op->ident.profile[0] != '\0' ? op->ident.profile : NULL;
	/* A registered device keeps the name it has (devname below follows a device rename). */
	sd.name = op->name != NULL ? op->name :
	    op->reg == NULL && op->ident.name[0] ? op->ident.name : NULL;
	sd.host = op->host;
	sd.port = op->t.port ? op->t.port : (op->t.https ? 443 : 80);
	sd.scheme = op->t.https ? "https" : "http";
	sd.user = cred_ref != NULL ? op->cred.user : NULL;
	sd.cred_ref = cred_ref;
	sd.tls_pin = op->t.https ? op->pin : NULL;
	sd.discovered_via = op->reg ? NULL : "manual";
	sd.first_seen_ms = now;
	sd.last_seen_ms = degraded ? 0 : now;
	if (store_device_upsert(op->eng->store, &sd, &cause) != 0)
		goto fail;
	/* The name the settings read gave, compared as the poller compares it. */
	if (op->have_own_name && op->reg != NULL && op->name == NULL) {
		char *followed = NULL; /* a write that failed: the poller observes it again */
		(void)devname_observe(op->eng->store, sd.mac, op->reg->name, op->own_name, &followed);
		free(followed);
	} else if (op->have_own_name)
		devname_remember(op->eng->store, sd.mac, op->own_name); /* a later rename is news */
	if (!degraded)
		store_device_release(op->eng->store, sd.mac, NULL); /* the operator confirmed it */
	moved_event(op, op->reg, now);
	if (degraded)
		failed_status(op, now);
	devevent_record(op->eng->store, op->ident.mac, NULL, op->host, op->who,
	    op->reg ? "update" : "add", now, NULL);
	if (store_flush(op->eng->store, &cause) != 0)
		goto fail;
	res->rc = 0;
	res->updated = op->reg != NULL;
	if (degraded) {
		res->warning = op->error;
		res->cause = "";
	}
	free(cred_ref);
	return;
fail:
	free(op->error);
	op->error = cause != NULL ? cause : xstrdup("?");
	res->cause = op->error;
	res->rc = -1;
	free(cred_ref);
}

void
registry_op_free(struct registry_op *op)
{
	char *owned[7];

	if (op == NULL)
		return;
	/* No call of done from here on; what is in flight goes with the op. */
	op->finished = 1;
	if (op->req != 0)
		http_cancel(op->eng->http, op->req);
	if (op->waiting_creds)
		creds_cancel(op->eng->creds, op);
	creds_found_done(&op->cred);
	store_device_free(op->reg);
	device_status_done(&op->status);
	owned[0] = op->error, owned[1] = op->pin, owned[2] = op->pin_want, owned[3] = op->host;
	owned[4] = op->name, owned[5] = op->cred_ref, owned[6] = op->who;
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		free(owned[i]);
	free(op);
}

/* Calls done with a store-only outcome; returns rc, *cause set when asked for and failed. */
static int
store_done(
    int rc, char *why, struct store_device *d, registry_done_cb done, void *arg, char **cause)
{
	struct registry_result res;

	memset(&res, 0, sizeof res);
	res.rc = rc;
	res.cause = why != NULL ? why : "";
	res.warning = "";
	res.host = d != NULL ? d->host : NULL;
	if (done != NULL)
		done(&res, arg);
	if (rc != 0 && cause != NULL)
		*cause = why;
	else
		free(why);
	store_device_free(d);
	return rc;
}

/* Registry lookup by name (case-insensitive): the first match and how many there are. */
struct name_match {
	const char *name;
	struct store_device *found;
	int count;
};

static int
name_match_cb(const struct store_device *d, void *arg)
{
	struct name_match *m = arg;

	if (d->name != NULL && str_caseeq(d->name, m->name)) {
		if (m->found == NULL)
			m->found = store_device_dup(d);
		m->count++;
	}
	return 0;
}

struct store_device *
registry_find(struct engine *eng, const char *key, char **cause)
{
	struct name_match m = {key, NULL, 0};
	struct store_device *d;
	char *s;

	*cause = NULL;
	if (eng->store == NULL) {
		*cause = xstrdup("no database");
		return NULL;
	}
	if ((d = store_device_find(eng->store, key)) != NULL)
		return d;
	store_device_list(eng->store, name_match_cb, &m, NULL);
	if (m.count <= 1) {
		if (m.found == NULL) {
			s = str_sanitize(key, 200);
			*cause = xasprintf("no device '%s'", s);
			free(s);
		}
		return m.found;
	}
	s = str_sanitize(key, 200);
	*cause = xasprintf(
	    "the name '%s' is given to %d registered devices; use an id or MAC", s, m.count);
	free(s);
	store_device_free(m.found);
	return NULL;
}

int
registry_remove(struct engine *eng, const char *key, const char *who, registry_done_cb done,
    void *arg, char **cause)
{
	struct store_device *d;
	char *why = NULL, k[64];
	int r;

	if ((d = registry_find(eng, key, &why)) == NULL)
		return store_done(-1, why, NULL, done, arg, cause);
	r = store_device_remove(eng->store, d->mac, &why);
	if (r <= 0)
		return store_done(
		    -1, why != NULL ? why : xstrdup("already removed"), d, done, arg, cause);
	snprintf(k, sizeof k, "secret:%s", d->mac);
	store_setting_set(eng->store, k, NULL, NULL);
	devname_forget(eng->store, d->mac);
	devevent_record(eng->store, d->mac, NULL, NULL, who, "remove", loop_wall_ms(), NULL);
	return store_done(0, NULL, d, done, arg, cause);
}

int
registry_rename(struct engine *eng, const char *key, const char *name, const char *who,
    registry_done_cb done, void *arg, char **cause)
{
	struct store_device *d, sd;
	char *why = NULL;

	if ((d = registry_find(eng, key, &why)) == NULL)
		return store_done(-1, why, NULL, done, arg, cause);
	memset(&sd, 0, sizeof sd);
	memcpy(sd.mac, d->mac, sizeof sd.mac);
	sd.name = name != NULL ? name : "";
	if (store_device_upsert(eng->store, &sd, &why) != 0)
		return store_done(-1, why, d, done, arg, cause);
	devevent_record(eng->store, d->mac, NULL, sd.name, who, "rename", loop_wall_ms(), NULL);
	return store_done(0, NULL, d, done, arg, cause);
}

void
registry_view_init(
    struct registry_view *rv, const struct store_device *d, const struct store_status *st)
{
	struct device_ident *id = &rv->ident;

	memset(rv, 0, sizeof *rv);
	device_ident_init(id);
	str_copy(id->id, sizeof id->id, d->id ? d->id : "");
	memcpy(id->mac, d->mac, sizeof id->mac);
	id->gen = d->gen;
	str_copy(id->model, sizeof id->model, d->model ? d->model : "");
	str_copy(id->app, sizeof id->app, d->app ? d->app : "");
	str_copy(id->fw, sizeof id->fw, d->fw ? d->fw : "");
	if (d->fw_version != NULL && d->fw_version[0] != '\0')
		str_copy(id->fw_version, sizeof id->fw_version, d->fw_version);
	else
		device_fw_version(id->fw, id->fw_version, sizeof id->fw_version);
	if (d->model && models_name(d->model))
		str_copy(id->model_name, sizeof id->model_name, models_name(d->model));
	id->auth_en = device_auth_parse(d->auth);
	str_copy(id->profile, sizeof id->profile, d->profile ? d->profile : "");
	/* The status row keeps the device's own reply; it is read into the model here, when a
	 * person asks, not on every poll. */
	if (st != NULL && st->json != NULL && d->gen > 0) {
		char *cause = NULL;
		int rc;
		rv->status = xmalloc(sizeof *rv->status);
		rc = shelly_status_parse(d->gen, st->json, strlen(st->json),
		    fwver_running(d->fw, d->fw_version), rv->status, &cause);
		if (rc != 0) {
			free(cause);
			free(rv->status);
			rv->status = NULL;
		} else
			device_ident_update_from_status(id, rv->status);
	}
	rv->polled = st != NULL;
	device_view_init(&rv->v);
	rv->v.ident = id;
	rv->v.host = d->host;
	rv->v.port = d->port;
	rv->v.scheme = d->scheme;
	rv->v.name = d->name && d->name[0] ? d->name : NULL;
	if (st == NULL || device_state_parse(st->state, &rv->v.state) != 0)
		rv->v.state = DEVICE_OFFLINE;
	/* A device that asked for credentials since it was added has authentication on. */
	if (rv->v.state == DEVICE_AUTH_REQUIRED || rv->v.state == DEVICE_AUTH_FAILED)
		id->auth_en = 1;
	rv->v.never_polled = st == NULL;
	rv->v.error = st ? st->error : NULL;
	rv->v.last_seen = d->last_seen_ms / 1000;
	rv->v.status = rv->status;
	/* A failed poll keeps the last reply: its values are last known, not current. */
	rv->v.status_time = st != NULL && st->reply_ts_ms > 0 ? st->reply_ts_ms / 1000 : 0;
	rv->v.status_stale = rv->status != NULL && rv->v.state != DEVICE_ONLINE;
}

/* The component of a per-component configuration field ("cct" of "cct:N.name") into kind. */
static void
component_kind(enum devconfig_field f, char *kind, size_t size)
{
	const char *path = devconfig_field(f)->path;

	snprintf(kind, size, "%.*s", (int)strcspn(path, ":"), path);
}

/* The text field of st that configuration field f of component index fills, or NULL. */
static char *
component_text(struct device_status *st, enum devconfig_field f, int index, size_t *size)
{
	struct dev_switch *sw;
	struct dev_cover *cv;
	struct dev_light *li;
	struct dev_input *in;
	struct dev_meter *me;
	char kind[DEV_SHORT_LEN];

	*size = DEV_NAME_LEN;
	switch (f) {
	case DCFG_SWITCH_NAME:
		return (sw = device_status_switch(st, index)) != NULL ? sw->name : NULL;
	case DCFG_COVER_NAME:
		return (cv = device_status_cover(st, index)) != NULL ? cv->name : NULL;
	case DCFG_LIGHT_NAME:
	case DCFG_RGB_NAME:
	case DCFG_RGBW_NAME:
	case DCFG_CCT_NAME:
	case DCFG_RGBCCT_NAME: /* a light's component type is the field's: "cct:N.name" */
		component_kind(f, kind, sizeof kind);
		return (li = device_status_light_of(st, kind, index)) != NULL ? li->name : NULL;
	case DCFG_INPUT_NAME:
		return (in = device_status_input(st, index)) != NULL ? in->name : NULL;
	case DCFG_INPUT_TYPE:
		*size = DEV_SHORT_LEN;
		return (in = device_status_input(st, index)) != NULL ? in->type : NULL;
	case DCFG_EM_NAME:
	case DCFG_EM1_NAME:
	case DCFG_PM1_NAME: /* the meter's kind is the field's component: "em1:N.name" */
		component_kind(f, kind, sizeof kind);
		return (me = device_status_meter(st, kind, index)) != NULL ? me->name : NULL;
	default:
		return NULL;
	}
}

/* The newest snapshot's id and body (copied) as registry_names_read wants them. */
struct newest {
	int64_t id;
	char *body;
};

static int
newest_snapshot_cb(const struct cfgstore_row *r, void *arg)
{
	struct newest *n = arg;

	if (n->body == NULL && r->body != NULL) {
		n->id = r->id;
		n->body = xstrdup(r->body);
	}
	return 0;
}

int
registry_names_read(struct store *s, const char *mac, int64_t *seen, struct devconfig *c)
{
	struct newest n = {0, NULL};
	char *cause = NULL;
	int rc = -1;

	if (s == NULL ||
	    cfgstore_snapshots(s, mac, 1, newest_snapshot_cb, &n, &cause) != 0 || n.body == NULL)
		rc = -1;
	else if (n.id == *seen)
		rc = 0;
	else {
		devconfig_done(c);
		devconfig_init(c);
		free(cause);
		cause = NULL;
		if (devconfig_snapshot_parse(n.body, strlen(n.body), c, &cause) != 0) {
			devconfig_done(c);
			devconfig_init(c);
		}
		*seen = n.id; /* an unreadable one is not read again either */
		rc = 1;
	}
	free(cause);
	free(n.body);
	return rc;
}

void
registry_names_apply(const struct devconfig *c, struct device_status *st)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct devconfig_entry *e = &c->e[i];
		const char *v = e->state == DEVCONFIG_VALUE ? e->value : "";
		size_t size;
		char *dst = component_text(st, e->field, e->index, &size);
		/* A type the settings leave out keeps the one the status shows (analog). */
		if (dst != NULL && (e->field != DCFG_INPUT_TYPE || v[0] != '\0'))
			str_copy(dst, size, v);
	}
}

void
registry_view_names(struct registry_view *rv, struct store *s)
{
	struct devconfig c;
	int64_t seen = 0;

	if (rv->status == NULL || s == NULL)
		return;
	devconfig_init(&c);
	if (registry_names_read(s, rv->ident.mac, &seen, &c) == 1)
		registry_names_apply(&c, rv->status);
	devconfig_done(&c);
}

void
registry_view_done(struct registry_view *rv)
{
	if (rv->status != NULL) {
		device_status_done(rv->status);
		free(rv->status);
	}
	memset(rv, 0, sizeof *rv);
}
