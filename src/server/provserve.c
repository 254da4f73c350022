/*
 * The agent API plus the verifier, wired from the engine's configuration (see
 * server/provserve.h). --headless and the console both start it; neither knows the parts.
 */
#include "server/provserve.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "discovery/scan.h"
#include "engine/cfgdesired.h"
#include "engine/engine.h"
#include "engine/verifier.h"
#include "server/agentapi.h"
#include "server/httpd.h"
#include "util/guard.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define PROVSERVE_CERT_MAX (64 * 1024) /* largest certificate (chain) file read */

/* mDNS goes to this group, which the network guard must allow (as in cli/app.c). */
#define PROVSERVE_MDNS_GROUP "224.0.0.251"

struct provserve {
	struct engine *eng;
	struct agentapi *api;
	struct verifier *verifier;
	struct scan_targets *targets;
	void (*changed)(void *arg);
	void *arg;
};

static char *
read_secret_cb(const char *ref, char **cause)
{
	return conf_read_secret(ref, cause);
}

static int64_t
now_cb(void)
{
	return loop_wall_ms();
}

/* The verifier's options from the configuration; the targets are made anew in ps->targets. */
static void
verifier_config(struct provserve *ps, struct verifier_opts *vo)
{
	const struct conf *cfg = ps->eng->conf;
	const struct conf_range *r;
	char *cause = NULL;
	size_t n;

	ps->targets = scan_targets_new();
	r = conf_ranges(cfg, &n);
	for (size_t i = 0; i < n; i++)
		if (scan_targets_add_cidr(ps->targets, &r[i].target, r[i].text, &cause) != 0) {
			log_warn("%s: %s", r[i].where, cause);
			free(cause);
			cause = NULL;
		}
	memset(vo, 0, sizeof *vo);
	vo->interval_ms = conf_get_ms(cfg, OPT_VERIFY_INTERVAL);
	vo->timeout_ms = conf_get_ms(cfg, OPT_VERIFY_TIMEOUT);
	vo->targets = scan_targets_len(ps->targets) > 0 ? ps->targets : NULL;
	vo->guard = ps->eng->guard;
	vo->probe_timeout_ms = (uint32_t)conf_get_ms(cfg, OPT_DISCOVER_TIMEOUT);
	vo->concurrency = (int)conf_get_int(cfg, OPT_SCAN_CONCURRENCY);
	vo->port = (uint16_t)conf_get_int(cfg, OPT_DISCOVER_PORT);
	vo->changed_cb = ps->changed;
	vo->arg = ps->arg;
	vo->mdns =
	    conf_get_bool(cfg, OPT_DISCOVER_MDNS) &&
	    (!guard_is_set(ps->eng->guard) || guard_allows(ps->eng->guard, PROVSERVE_MDNS_GROUP));
	if (vo->targets == NULL && !vo->mdns)
		log_info("provisioning: no discover-range and no mDNS, devices cannot be verified");
}

struct provserve *
provserve_new(struct engine *eng, struct httpd *httpd, void (*changed)(void *arg), void *arg)
{
	struct provserve *ps = xcalloc(1, sizeof *ps);
	struct agentapi_opts ao = {(int64_t)conf_get_ms(eng->conf, OPT_AGENT_LEASE), read_secret_cb,
	    conf_secret_free, now_cb, cfgdesired_template_load};
	struct verifier_opts vo;

	ps->eng = eng;
	ps->api = agentapi_new(httpd, eng->store, &ao);
	ps->changed = changed;
	ps->arg = arg;
	verifier_config(ps, &vo);
	ps->verifier = verifier_new(eng->loop, eng->http, eng->store, &vo);
	return ps;
}

void
provserve_reload(struct provserve *ps)
{
	struct scan_targets *old;
	struct verifier_opts vo;

	if (ps == NULL)
		return;
	old = ps->targets;
	verifier_config(ps, &vo);
	verifier_set_opts(ps->verifier, &vo);
	scan_targets_free(old); /* the verifier dropped its scan over them */
	agentapi_set_lease(ps->api, (int64_t)conf_get_ms(ps->eng->conf, OPT_AGENT_LEASE));
	log_info("provisioning: verifier and agent lease follow the reloaded configuration");
}

void
provserve_free(struct provserve *ps)
{
	if (ps == NULL)
		return;
	verifier_free(ps->verifier);
	agentapi_free(ps->api);
	scan_targets_free(ps->targets);
	free(ps);
}

const char *
provserve_own_addr(const struct engine *eng)
{
	const char *a = conf_get_str(eng->conf, OPT_AGENT_LISTEN);

	return a[0] != '\0' ? a : NULL;
}

/* Reads the PEM file path (at most PROVSERVE_CERT_MAX bytes) into a string. NULL with *cause. */
static char *
read_pem(const char *path, char **cause)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	if (fp == NULL) {
		*cause = xasprintf("agent-tls-cert %s: %s", path, strerror(errno));
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
	return buf;
}

struct httpd *
provserve_httpd(struct engine *eng, const char *addr, int *https, char **cause)
{
	const char *cert = conf_get_str(eng->conf, OPT_AGENT_TLS_CERT);
	const char *key = conf_get_str(eng->conf, OPT_AGENT_TLS_KEY);
	struct httpd_tls tls = {NULL, NULL};
	struct httpd *h = NULL;
	char *cert_pem = NULL, *key_pem = NULL, *why = NULL;

	*https = cert[0] != '\0' || key[0] != '\0';
	if (!*https)
		return httpd_new(eng->loop, addr, cause);
	if (cert[0] == '\0' || key[0] == '\0') {
		*cause = xstrdup("HTTPS for agents needs both agent-tls-cert and agent-tls-key");
		return NULL;
	}
	if ((cert_pem = read_pem(cert, cause)) == NULL)
		return NULL;
	if ((key_pem = conf_read_secret(key, &why)) == NULL) {
		*cause = xasprintf("agent-tls-key: %s", why);
		free(why);
		free(cert_pem);
		return NULL;
	}
	tls.cert_pem = cert_pem;
	tls.key_pem = key_pem;
	h = httpd_new_tls(eng->loop, addr, &tls, cause);
	free(cert_pem);
	conf_secret_free(key_pem);
	return h;
}

void
provserve_url(const char *addr, const struct httpd *h, int https, char *buf, size_t size)
{
	const char *colon = strrchr(addr, ':');

	snprintf(buf, size, "http%s://%.*s:%u/api/v1/", https ? "s" : "",
	    colon != NULL ? (int)(colon - addr) : (int)strlen(addr), addr, (unsigned)httpd_port(h));
}
