/* A TARGET resolved, identified and given its credentials (engine/devtarget.h). */
#include "engine/devtarget.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/str.h"
#include "util/xmalloc.h"

int
devtarget_init(struct devtarget *dt, struct engine *eng, const char *arg, int https, char **cause)
{
	char *c = NULL;
	unsigned port = 0;

	memset(dt, 0, sizeof *dt);
	dt->eng = eng;
	dt->arg = xstrdup(arg);
	device_ident_init(&dt->ident);
	dt->t.https = https;
	if (eng->store != NULL) {
		dt->reg = registry_find(eng, arg, &c);
		if (dt->reg == NULL && c != NULL && strstr(c, "given to") != NULL) {
			*cause = c; /* an ambiguous name */
			return -1;
		}
		free(c);
		c = NULL;
	}
	if (dt->reg != NULL) {
		if (dt->reg->host != NULL && dt->reg->host[0] != '\0')
			dt->host = xstrdup(dt->reg->host);
		dt->t.port =
		    dt->reg->port > 0 && dt->reg->port <= 65535 ? (uint16_t)dt->reg->port : 0;
		dt->t.https = dt->reg->scheme != NULL && strcmp(dt->reg->scheme, "https") == 0;
		return 0;
	}
	if (conf_parse_device_address(arg, 0, &dt->host, &port, &c) != 0) {
		char *s = str_sanitize(arg, 200);
		*cause = xasprintf("'%s' is neither a registered device nor HOST[:PORT]: %s", s, c);
		free(s);
		free(c);
		return -1;
	}
	dt->t.port = (uint16_t)port;
	return 0;
}

/* The port a target is reached on, 0 spelt out. */
static unsigned
real_port(const struct devtarget *dt)
{
	return dt->t.port != 0 ? dt->t.port : dt->t.https ? 443 : 80;
}

int
devtarget_same(const struct devtarget *a, const struct devtarget *b)
{
	if (a->reg != NULL && b->reg != NULL)
		return str_caseeq(a->reg->mac, b->reg->mac);
	return a->host != NULL && b->host != NULL && str_caseeq(a->host, b->host) &&
	       real_port(a) == real_port(b) && a->t.https == b->t.https;
}

const char *
devtarget_mac(const struct devtarget *dt)
{
	if (dt->reg != NULL && dt->reg->mac[0] != '\0')
		return dt->reg->mac;
	return dt->have_ident && dt->ident.mac[0] != '\0' ? dt->ident.mac : NULL;
}

/*
 * A TARGET that names no registered device is taken as a host name, so a mistyped device name
 * (or --apply's template name) fails as a host the guard refuses or nobody can reach: the cause
 * then says first that no device has that name. NULL when the target was an address.
 */
static char *
unknown_name_cause(const struct devtarget *dt, enum http_result result, const char *cause)
{
	struct in6_addr a;
	char *s, *out;

	if (dt->reg != NULL || dt->host == NULL ||
	    (result != HTTP_REFUSED_BY_GUARD && result != HTTP_UNREACHABLE) ||
	    inet_pton(AF_INET, dt->host, &a) == 1 || inet_pton(AF_INET6, dt->host, &a) == 1)
		return NULL;
	s = str_sanitize(dt->host, 200);
	out = xasprintf("no registered device is named '%s' (--list shows them), and as a host "
	                "name: %s",
	    s, cause);
	free(s);
	return out;
}

static void
finish(struct devtarget *dt, enum http_result result, const char *cause)
{
	dt->done = 1;
	dt->result = result;
	if (result != HTTP_OK) {
		const char *why = cause != NULL && cause[0] ? cause : http_result_name(result);
		char *named = unknown_name_cause(dt, result, why);

		free(dt->error);
		dt->error = str_sanitize(named != NULL ? named : why, 400);
		free(named);
	}
	dt->cb(dt, dt->cb_arg);
}

static void
creds_cb(int rc, struct creds_found *found, const char *cause, void *arg)
{
	struct devtarget *dt = arg;

	dt->waiting_creds = 0;
	creds_found_take(&dt->cred, found, &dt->t);
	finish(dt, rc != 0 ? HTTP_AUTH_REQUIRED : HTTP_OK, cause);
}

static void
ident_cb(const struct shelly_reply *r, void *arg)
{
	struct devtarget *dt = arg;
	struct creds_query q;
	char *why = NULL;

	if (r->result == HTTP_CANCELLED)
		return;
	dt->req = 0;
	if (r->result != HTTP_OK) {
		finish(dt, r->result, r->cause);
		return;
	}
	dt->have_ident = 1;
	if (registry_identified(dt->eng, r, &dt->t, &dt->ident, &dt->seen_pin, &dt->reg, &q,
	        &why) != 0) {
		finish(dt, HTTP_ERROR, why);
		free(why);
		return;
	}
	if (dt->ident.gen < 1) {
		finish(dt, HTTP_ERROR, "the device did not say its generation");
		return;
	}
	dt->waiting_creds = 1;
	creds_resolve(dt->eng->creds, dt->eng, &q, creds_cb, dt);
}

void
devtarget_start(struct devtarget *dt, void (*cb)(struct devtarget *, void *), void *arg)
{
	char *cause = NULL;

	dt->cb = cb;
	dt->cb_arg = arg;
	if (dt->host == NULL) {
		finish(dt, HTTP_ERROR, "the registered device has no address");
		return;
	}
	if (guard_check(dt->eng->guard, dt->host, &cause) != 0) {
		finish(dt, HTTP_REFUSED_BY_GUARD, cause);
		free(cause);
		return;
	}
	dt->t.host = dt->host;
	conf_target(dt->eng->conf, &dt->t);
	/* An HTTPS device must show the key it is registered with: the resolved device's, or for
	 * a bare HOST[:PORT] the one registered at that address. */
	if (!dt->accept_cert)
		dt->pin = registry_pin_want(dt->eng, &dt->t, dt->reg);
	dt->req = shelly_identify(dt->eng->http, &dt->t, ident_cb, dt);
}

void
devtarget_done(struct devtarget *dt)
{
	if (dt->req != 0)
		http_cancel(dt->eng->http, dt->req);
	if (dt->waiting_creds)
		creds_cancel(dt->eng->creds, dt);
	creds_found_done(&dt->cred);
	store_device_free(dt->reg);
	free(dt->host);
	free(dt->arg);
	free(dt->error);
	free(dt->pin);
	free(dt->seen_pin);
	memset(dt, 0, sizeof *dt);
}
