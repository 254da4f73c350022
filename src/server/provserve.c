/*
 * The agent API plus the verifier, wired from the engine's configuration (see
 * server/provserve.h). --headless and the console both start it; neither knows the parts.
 */
#include "server/provserve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "discovery/scan.h"
#include "engine/cfgdesired.h"
#include "engine/discoveropts.h"
#include "engine/engine.h"
#include "engine/verifier.h"
#include "provision/taskq.h"
#include "server/agentapi.h"
#include "server/httpd.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/rfile.h"
#include "util/xmalloc.h"

#define PROVSERVE_CERT_MAX (64 * 1024) /* largest certificate (chain) file read */

/* One listener of the agent API: where and with which certificate and key. */
struct listener {
	struct httpd *h; /* the server; NULL when on the front end's main server */
	char *addr; /* HOST:PORT of h; NULL: on the main server */
	char *cert_pem; /* HTTPS: the certificate (chain) and key; NULL: plain HTTP */
	char *key_pem;
};

struct provserve {
	struct engine *eng;
	struct provserve_opts o;
	char *main_addr; /* the address o.main listens on (for its URL) */
	struct agentapi *api;
	struct verifier *verifier;
	struct scan_targets *targets;
	char *refused; /* why the configured ranges were left out, or NULL */
	struct listener cur; /* the listener serving, when serving */
	int serving;
	char url[160];
	char *error; /* why the configured listener is not cur */
	int retrying;
	struct loop_timer *retry;
	int quiet; /* no status_cb (inside provserve_new) */
};

/*
 * The verifier's options from the configuration; the targets (and why they were refused) are
 * made anew in ps->targets and ps->refused.
 * The configured ranges are scanned as scheduled discovery scans them: with no size limit.
 */
static void
verifier_config(struct provserve *ps, struct verifier_opts *vo)
{
	const struct conf *cfg = ps->eng->conf;
	int mdns = conf_get_bool(cfg, OPT_DISCOVER_MDNS);

	ps->targets = discoveropts_ranges(ps->eng, &ps->refused);
	memset(vo, 0, sizeof *vo);
	vo->interval_ms = conf_get_ms(cfg, OPT_VERIFY_INTERVAL);
	vo->timeout_ms = conf_get_ms(cfg, OPT_VERIFY_TIMEOUT);
	discoveropts_fill(ps->eng, &(struct discoveropts){.force = 1}, mdns, ps->targets, &vo->run,
	    NULL);
	vo->refused = ps->refused;
	vo->changed_cb = ps->o.registry_cb;
	vo->arg = ps->o.arg;
	if (vo->run.targets == NULL && !vo->run.mdns)
		log_info("provisioning: %s and no mDNS, devices cannot be verified",
		    ps->refused != NULL ? "the discover-ranges were refused" : "no discover-range");
}

/* ---- the listener ---- */

static void
listener_clear(struct listener *l)
{
	httpd_free(l->h); /* first: no request reaches the API after this */
	free(l->addr);
	free(l->cert_pem);
	conf_secret_free(l->key_pem);
	memset(l, 0, sizeof *l);
}

/*
 * Parses the certificate chain pem (from path) before the server does: GnuTLS leaks memory when
 * microhttpd hands it a certificate whose base64 is broken, and a reload may bring one.
 */
static int
cert_check(const char *path, const char *pem, char **cause)
{
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int r = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);

	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (r < 0) {
		*cause = xasprintf(
		    "agent-tls-cert %s: no PEM certificate (%s)", path, gnutls_strerror(r));
		return -1;
	}
	return 0;
}

/* Reads the PEM file path (at most PROVSERVE_CERT_MAX bytes) into a string. NULL with *cause. */
static char *
read_pem(const char *path, char **cause)
{
	char *why = NULL;
	FILE *fp = rfile_fopen(path, &why); /* a FIFO or device would block the loop */
	char *buf;
	size_t n;

	if (fp == NULL) {
		*cause = xasprintf("agent-tls-cert %s", why);
		free(why);
		return NULL;
	}
	buf = xmalloc(PROVSERVE_CERT_MAX + 1);
	n = fread(buf, 1, PROVSERVE_CERT_MAX + 1, fp);
	fclose(fp);
	if (n == 0 || n > PROVSERVE_CERT_MAX || memchr(buf, '\0', n) != NULL) {
		*cause = xasprintf("agent-tls-cert %s: empty, larger than %d bytes or not PEM",
		    path, PROVSERVE_CERT_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (cert_check(path, buf, cause) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The listener the configuration asks for into w (no server yet). -1 with *cause, and *fatal
 * when only a changed configuration can help (trying again cannot).
 */
static int
listener_wanted(struct provserve *ps, struct listener *w, int *fatal, char **cause)
{
	const struct conf *cfg = ps->eng->conf;
	const char *own = conf_get_str(cfg, OPT_AGENT_LISTEN);
	const char *cert = conf_get_str(cfg, OPT_AGENT_TLS_CERT);
	const char *key = conf_get_str(cfg, OPT_AGENT_TLS_KEY);
	char *why = NULL;

	memset(w, 0, sizeof *w);
	*fatal = 1;
	if ((cert[0] != '\0' || key[0] != '\0') && own[0] == '\0') {
		*cause = xstrdup("agent-tls-cert and agent-tls-key need agent-listen "
		                 "(the agent API's own server)");
		return -1;
	}
	if ((cert[0] == '\0') != (key[0] == '\0')) {
		*cause = xstrdup("HTTPS for agents needs both agent-tls-cert and agent-tls-key");
		return -1;
	}
	*fatal = 0;
	if (own[0] != '\0')
		w->addr = xstrdup(own);
	else if (ps->o.main == NULL)
		w->addr =
		    xstrdup(ps->o.listen != NULL ? ps->o.listen : conf_get_str(cfg, OPT_LISTEN));
	if (cert[0] == '\0')
		return 0;
	if ((w->cert_pem = read_pem(cert, cause)) == NULL ||
	    (w->key_pem = conf_read_secret(key, &why)) == NULL) {
		if (why != NULL)
			*cause = xasprintf("agent-tls-key: %s", why);
		free(why);
		listener_clear(w);
		return -1;
	}
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The same address (as written) and the same certificate and key. */
static int
listener_same(const struct listener *a, const struct listener *b)
{
	return str_same(a->addr, b->addr) && str_same(a->cert_pem, b->cert_pem) &&
	       str_same(a->key_pem, b->key_pem);
}

/* The TCP port addr names (0 when it names none or asks for an ephemeral one). */
static unsigned
addr_port(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char *cause = NULL;

	if (httpd_parse_listen(addr, &ss, &len, &cause) != 0) {
		free(cause);
		return 0;
	}
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A server for l on addr (HTTPS when l has a certificate), or NULL with *cause. */
static struct httpd *
listener_open(struct provserve *ps, const struct listener *l, const char *addr, char **cause)
{
	struct httpd_tls tls = {l->cert_pem, l->key_pem};

	return httpd_new_tls(ps->eng->loop, addr, l->cert_pem != NULL ? &tls : NULL, cause);
}

static void
api_own_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	agentapi_handle(((struct provserve *)arg)->api, req, reply);
}

/*
 * Starts w's server. When the one serving holds w's port (the same address with new files,
 * or a wildcard that covers it), w's files are first tried on a spare port of the same host,
 * then the old server makes way; should the new one still fail, the old one comes back.
 */
static struct httpd *
listener_start(struct provserve *ps, const struct listener *w, char **cause)
{
	unsigned port = addr_port(w->addr);
	const char *colon = strrchr(w->addr, ':');
	struct httpd *h;
	char *spare, *why = NULL;

	if (ps->cur.h == NULL || port == 0 || addr_port(ps->cur.addr) != port)
		return listener_open(ps, w, w->addr, cause);
	spare = xasprintf("%.*s:0", colon != NULL ? (int)(colon - w->addr) : 0, w->addr);
	h = listener_open(ps, w, spare, &why);
	free(spare);
	if (h == NULL) {
		*cause = xasprintf("the new %s starts no server (tried on a spare port: %s)",
		    w->cert_pem != NULL ? "certificate or key" : "address", why);
		free(why);
		return NULL;
	}
	httpd_free(h);
	httpd_free(ps->cur.h);
	if ((h = listener_open(ps, w, w->addr, cause)) != NULL) {
		ps->cur.h = NULL;
		return h;
	}
	if ((ps->cur.h = listener_open(ps, &ps->cur, ps->cur.addr, &why)) != NULL)
		agentapi_route(ps->cur.h, api_own_cb, ps);
	else {
		log_error("agent API: %s cannot be started again: %s", ps->cur.addr, why);
		free(why);
		listener_clear(&ps->cur);
		ps->serving = 0;
		ps->url[0] = '\0';
	}
	return NULL;
}

static void
status_changed(struct provserve *ps)
{
	if (!ps->quiet && ps->o.status_cb != NULL)
		ps->o.status_cb(ps->o.arg);
}

/* Records why the configured listener is not serving (NULL: it is); logs each new reason. */
static void
listener_error(struct provserve *ps, const char *cause, int retry)
{
	char again[40] = "";

	if (retry)
		loop_timer_arm(ps->retry, PROVSERVE_RETRY_S * 1000);
	else
		loop_timer_disarm(ps->retry);
	if (str_same(ps->error, cause) && ps->retrying == retry)
		return;
	free(ps->error);
	ps->error = cause != NULL ? xstrdup(cause) : NULL;
	ps->retrying = retry;
	if (retry)
		snprintf(again, sizeof again, " (tried again every %d s)", PROVSERVE_RETRY_S);
	if (cause != NULL)
		log_warn("agent API %s%s%s: %s%s", ps->serving ? "still on " : "not served",
		    ps->serving ? ps->url : "",
		    ps->serving ? ", the configured listener cannot start" : "", cause, again);
	status_changed(ps);
}

/* The main server answers for the API only while it carries it. */
static void
api_main_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct provserve *ps = arg;

	if (ps->serving && ps->cur.addr == NULL)
		agentapi_handle(ps->api, req, reply);
	else
		httpd_reply_text(reply, 404, "not found: the agent API is on agent-listen\n");
}

/* "http[s]://HOST:PORT/api/v1/" of h, started on addr (HOST:PORT), into ps->url. */
static void
listener_url(struct provserve *ps, const char *addr, const struct httpd *h, int https)
{
	const char *colon = strrchr(addr, ':');

	snprintf(ps->url, sizeof ps->url, "http%s://%.*s:%u/api/v1/", https ? "s" : "",
	    colon != NULL ? (int)(colon - addr) : (int)strlen(addr), addr, (unsigned)httpd_port(h));
}

/* Makes the configured listener the one serving, unless it already is or cannot start. */
static void
listener_apply(struct provserve *ps)
{
	struct listener w;
	char *cause = NULL;
	int fatal = 0;

	if (listener_wanted(ps, &w, &fatal, &cause) != 0) {
		listener_error(ps, cause, !fatal);
		free(cause);
		return;
	}
	if (ps->serving && listener_same(&ps->cur, &w)) {
		listener_clear(&w);
		listener_error(ps, NULL, 0);
		return;
	}
	if (w.addr != NULL && (w.h = listener_start(ps, &w, &cause)) == NULL) {
		listener_clear(&w);
		listener_error(ps, cause, 1);
		free(cause);
		return;
	}
	listener_clear(&ps->cur);
	ps->cur = w;
	ps->serving = 1;
	if (w.h != NULL) {
		agentapi_route(w.h, api_own_cb, ps);
		listener_url(ps, w.addr, w.h, w.cert_pem != NULL);
	} else
		listener_url(ps, ps->main_addr, ps->o.main, 0);
	log_info("agent API on %s", ps->url);
	loop_timer_disarm(ps->retry);
	free(ps->error);
	ps->error = NULL;
	ps->retrying = 0;
	status_changed(ps);
}

static void
retry_cb(void *arg)
{
	listener_apply(arg);
}

/* ---- the service ---- */

struct provserve *
provserve_new(struct engine *eng, const struct provserve_opts *o)
{
	struct provserve *ps = xcalloc(1, sizeof *ps);
	struct agentapi_opts ao = {(int64_t)conf_get_ms(eng->conf, OPT_AGENT_LEASE), conf_read_secret_file,
	    conf_secret_free, loop_wall_ms, cfgdesired_template_load};
	struct verifier_opts vo;
	char *cause = NULL;

	ps->eng = eng;
	ps->o = *o;
	ps->o.listen = o->listen != NULL ? xstrdup(o->listen) : NULL;
	ps->main_addr =
	    xstrdup(o->listen != NULL ? o->listen : conf_get_str(eng->conf, OPT_LISTEN));
	ps->api = agentapi_new(NULL, eng->store, &ao);
	if (taskq_grace(eng->store, loop_wall_ms(), ao.lease_ms, &cause) != 0) {
		log_error("provisioning: task leases: %s", cause);
		free(cause);
	}
	if (o->main != NULL)
		agentapi_route(o->main, api_main_cb, ps);
	verifier_config(ps, &vo);
	ps->verifier = verifier_new(eng->loop, eng->http, eng->store, &vo);
	ps->retry = loop_timer_new(eng->loop, retry_cb, ps);
	ps->quiet = 1;
	listener_apply(ps);
	ps->quiet = 0;
	return ps;
}

void
provserve_reload(struct provserve *ps)
{
	struct scan_targets *old;
	char *old_refused;
	struct verifier_opts vo;

	if (ps == NULL)
		return;
	old = ps->targets;
	old_refused = ps->refused;
	verifier_config(ps, &vo);
	verifier_set_opts(ps->verifier, &vo);
	scan_targets_free(old); /* the verifier dropped its scan over them */
	free(old_refused);
	agentapi_set_lease(ps->api, (int64_t)conf_get_ms(ps->eng->conf, OPT_AGENT_LEASE));
	log_info("provisioning: verifier and agent lease follow the reloaded configuration");
	listener_apply(ps);
}

void
provserve_status(const struct provserve *ps, struct provserve_status *st)
{
	st->url = ps->serving ? ps->url : NULL;
	st->error = ps->error;
	st->retry_s = ps->retrying ? PROVSERVE_RETRY_S : 0;
}

void
provserve_free(struct provserve *ps)
{
	if (ps == NULL)
		return;
	listener_clear(&ps->cur); /* the main server is the front end's: freed before this */
	loop_timer_free(ps->retry);
	verifier_free(ps->verifier);
	agentapi_free(ps->api);
	scan_targets_free(ps->targets);
	free(ps->refused);
	free(ps->error);
	free(ps->main_addr);
	free((char *)ps->o.listen);
	free(ps);
}
