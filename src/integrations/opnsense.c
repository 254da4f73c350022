#include "integrations/opnsense.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "net/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define DEFAULT_TIMEOUT_MS 15000
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
/* Replies of a large firewall (thousands of reservations, every alias in getItem) fit. */
#define REPLY_MAX (16 * 1024 * 1024)
/* A search for every row, as the GUI sends it. */
#define SEARCH_ALL "{\"current\":1,\"rowCount\":-1,\"sort\":{},\"searchPhrase\":\"\"}"

enum step {
	S_DETECT_KEA,
	S_DETECT_DNSMASQ,
	S_DETECT_ISC,
	S_SUBNETS,
	S_RANGES, /* dnsmasq: the DHCP ranges */
	S_RECORDS,
	S_ALIAS_UUID,
	S_ALIAS_GET,
	S_PLAN,
	S_WRITE, /* reservations: removals, updates, additions */
	S_ALIAS_WRITE,
	S_RECONF_DHCP,
	S_STATUS_DHCP,
	S_RECONF_ALIAS,
	S_DONE,
};

struct opnsense_sync {
	struct http *http;
	struct loop *loop;
	struct loop_timer *kick; /* runs the steps of an apply from the loop */
	struct loop_timer *keep; /* renews the writer's lease while running; NULL: no keeper */
	struct opnsense_keeper keeper;
	uint64_t keep_ok_ms; /* monotonic time of the last renewal (or of the start) */
	char *lost; /* the writer's lease is lost: why; nothing more is sent */
	char *host, *prefix, *key, *secret, *ca_file, *alias_name, *lane;
	uint16_t port;
	int insecure;
	char pin[65]; /* "": none */
	enum opnsense_backend_choice choice;
	uint32_t timeout_ms, connect_timeout_ms;
	struct opn_device *devs;
	size_t ndevs;
	opnsense_done_cb done;
	void *arg;

	enum step step;
	struct opn_state state;
	char *alias_uuid; /* from getAliasUUID, NULL when absent */
	int dhcp; /* 1: a reservation backend is in use */
	int stopped; /* a write failed: no further writes */
	size_t idx; /* S_WRITE: next of plan->writes to look at */
	struct opn_item *cur; /* the item being written */
	char *what; /* what the request in flight does, for messages */
	uint64_t req_id; /* in flight, 0 none */
	int freed; /* freed while a request was in flight */
	int pending_dhcp, pending_alias; /* from the options */
	/* a write of the service failed in a way that leaves open whether the firewall saved it
	 * (a time-out, a cut connection, a 5xx, a reply that does not parse) */
	int unsure_dhcp, unsure_alias;
	unsigned forbidden; /* detection: bit per server the key may not read (HTTP 403) */
	struct opnsense_report report;
};

static void advance(struct opnsense_sync *s);

/* URL */

int
opnsense_parse_url(const char *url, char **host, uint16_t *port, char **prefix, char **cause)
{
	const char *p, *end, *slash;
	char *h = NULL;
	unsigned long v = 443;
	char *num_end;

	*host = *prefix = NULL;
	if (url == NULL || url[0] == '\0') {
		*cause = xstrdup("opnsense-url is not set");
		return -1;
	}
	if (!str_has_caseprefix(url, "https://")) {
		*cause = xstrdup("opnsense-url must start with https:// (the API key and secret "
		                 "must not cross the network in clear)");
		return -1;
	}
	p = url + 8;
	slash = strchr(p, '/');
	end = slash != NULL ? slash : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL)
			goto bad;
		h = xstrndup(p + 1, (size_t)(rb - p - 1));
		p = rb + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		h = xstrndup(p, (size_t)((colon != NULL ? colon : end) - p));
		p = colon != NULL ? colon : end;
	}
	if (*p == ':') {
		v = strtoul(p + 1, &num_end, 10);
		if (num_end == p + 1 || num_end != end || v == 0 || v > 65535)
			goto bad;
	} else if (p != end)
		goto bad;
	if (h[0] == '\0' || strpbrk(h, "@?# \t") != NULL || !str_is_safe(h))
		goto bad;
	*prefix = xstrdup(slash != NULL ? slash : "");
	{
		size_t n = strlen(*prefix);

		while (n > 0 && (*prefix)[n - 1] == '/')
			(*prefix)[--n] = '\0';
		if (strpbrk(*prefix, "?# \t") != NULL || !str_is_safe(*prefix)) {
			free(*prefix);
			*prefix = NULL;
			goto bad;
		}
	}
	*host = h;
	*port = (uint16_t)v;
	return 0;
bad:
	free(h);
	if (strchr(url, '@') != NULL) { /* user:password@ would be echoed: say it, not them */
		*cause =
		    xstrdup("opnsense-url must not hold credentials (user@ or user:password@); "
		            "the API key and secret go in opnsense-key and opnsense-secret");
		return -1;
	}
	{
		char *safe = str_sanitize(url, 200);

		*cause = xasprintf("opnsense-url \"%s\" is not https://HOST[:PORT][/PATH]", safe);
		free(safe);
	}
	return -1;
}

/* Requests */

static int
uuid_ok(const char *u)
{
	return u != NULL && u[0] != '\0' && strlen(u) <= 64 &&
	       strspn(u, "0123456789abcdefABCDEF-") == strlen(u);
}

static void resp_cb(const struct http_response *resp, void *arg);

/* Sends one request; what names it in messages ("reading Kea subnets"). */
static void
send_req(struct opnsense_sync *s, enum http_method m, const char *path, const char *body,
    uint32_t timeout_ms, const char *what)
{
	struct http_request req;
	char *full = xasprintf("%s%s", s->prefix, path);

	memset(&req, 0, sizeof req);
	req.method = m;
	req.https = 1;
	req.host = s->host;
	req.port = s->port;
	req.path = full;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.lane = s->lane;
	req.lane_limit = 1;
	req.connect_timeout_ms = s->connect_timeout_ms;
	req.timeout_ms = timeout_ms != 0 ? timeout_ms : s->timeout_ms;
	req.max_body = REPLY_MAX;
	req.auth = HTTP_AUTH_BASIC;
	req.user = s->key;
	req.password = s->secret;
	req.tls = s->pin[0] != '\0' ? HTTP_TLS_PIN
	          : s->insecure     ? HTTP_TLS_INSECURE
	                            : HTTP_TLS_VERIFY;
	req.ca_file = s->ca_file;
	req.pin_sha256 = s->pin[0] != '\0' ? s->pin : NULL;
	free(s->what);
	s->what = xasprintf("%s (%s %s)", what, m == HTTP_GET ? "GET" : "POST", path);
	log_debug("opnsense: %s", s->what);
	s->req_id = http_send(s->http, &req, resp_cb, s);
	free(full);
}

/* send_req with a path and a description that are malloc'd; frees both. */
static void
send_owned(struct opnsense_sync *s, enum http_method m, char *path, const char *body,
    uint32_t timeout_ms, char *what)
{
	send_req(s, m, path, body, timeout_ms, what);
	free(path);
	free(what);
}

/*
 * A certificate that did not verify, with no pin set: OPNsense's own certificate is
 * self-signed (for OPNsense.localdomain, reached by address), so the message names the fix,
 * opnsense-pin, with the key this connection saw and how to read the firewall's to compare.
 */
static char *
tls_unverified(const struct opnsense_sync *s, const struct http_response *resp)
{
	char pin[OPN_PIN_TEXT];
	int seen = resp->pin_sha256 != NULL && opn_pin_format(resp->pin_sha256, pin) == 0;

	return xasprintf("%s: %s. The firewall's certificate is not trusted (OPNsense's own is "
	                 "self-signed): pin its key with set opnsense-pin %s%s, or set "
	                 "opnsense-ca to the CA of a certificate that names %s. The key as the "
	                 "firewall has it, to compare: openssl s_client -connect %s:%u </dev/null "
	                 "| openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | "
	                 "openssl dgst -sha256 -binary | openssl base64",
	    s->what, resp->cause, seen ? pin : "sha256//BASE64",
	    seen ? " (the key this connection saw)" : "", s->host, s->host, (unsigned)s->port);
}

/*
 * The failure of a reply as a message naming what was done, or NULL when the reply is a 2xx.
 * *absent is set for 404 (an endpoint or module that is not there).
 */
static char *
failure_of(const struct opnsense_sync *s, const struct http_response *resp, int *absent)
{
	char *why, *out;

	*absent = 0;
	switch (resp->result) {
	case HTTP_OK:
		return NULL;
	case HTTP_AUTH_FAILED:
	case HTTP_AUTH_REQUIRED:
		return xasprintf(
		    "%s: the firewall refused the API key and secret (HTTP 401); check "
		    "opnsense-key and opnsense-secret",
		    s->what);
	case HTTP_TIMEOUT:
		return xasprintf(
		    "%s: no answer within %.1f s", s->what, (double)resp->elapsed_ms / 1000.0);
	case HTTP_STATUS:
		break;
	case HTTP_TLS_ERROR:
		if (s->pin[0] == '\0' && !s->insecure)
			return tls_unverified(s, resp);
		return xasprintf("%s: %s", s->what, resp->cause);
	default:
		return xasprintf("%s: %s", s->what, resp->cause);
	}
	why = opn_parse_error(resp->body, resp->body_len);
	if (resp->status == 404) {
		*absent = 1;
		out = xasprintf("%s: not found (HTTP 404%s%s): the module is not installed on the "
		                "firewall",
		    s->what, why != NULL ? ", " : "", why != NULL ? why : "");
	} else if (resp->status == 403)
		out = xasprintf(
		    "%s: the API user lacks the privilege for this page (HTTP 403)", s->what);
	else
		out = xasprintf("%s: HTTP %ld%s%s", s->what, resp->status, why != NULL ? ": " : "",
		    why != NULL ? why : "");
	free(why);
	return out;
}

/* Reading failed: nothing is planned or applied. */
static void
fail_read(struct opnsense_sync *s, char *msg)
{
	s->report.error = msg;
	s->report.failed = 1;
	s->step = S_DONE;
}

/* Detection and reading */

/* The servers detection probes, in order: bits of forbidden. */
static const char *const detected[] = {"Kea DHCPv4", "dnsmasq", "ISC DHCPv4"};

/*
 * A detection answered 403: a key given only the privilege of the server in use (as the
 * manual says is enough) may not read the others, so that server counts as not in use.
 */
static int
detect_forbidden(struct opnsense_sync *s, const struct http_response *resp, unsigned bit)
{
	if (resp->result != HTTP_STATUS || resp->status != 403)
		return 0;
	s->forbidden |= 1u << bit;
	log_info(
	    "opnsense: %s: the API user may not read it (HTTP 403); taken as not in use", s->what);
	return 1;
}

/* The note on no DHCP server found, naming what the key could not read. */
static char *
no_dhcp_note(const struct opnsense_sync *s)
{
	struct strbuf sb;
	size_t n = 0, k = 0;

	strbuf_init(&sb);
	strbuf_append(&sb, "no DHCP server with reservations (Kea DHCPv4 or dnsmasq) is enabled on "
	                   "the firewall; reservations were not synced");
	for (size_t i = 0; i < sizeof detected / sizeof detected[0]; i++)
		n += (s->forbidden >> i) & 1;
	for (size_t i = 0; n > 0 && i < sizeof detected / sizeof detected[0]; i++)
		if ((s->forbidden >> i) & 1)
			strbuf_appendf(&sb, "%s%s",
			    k++ == 0 ? " (the API user may not read "
			    : k == n ? " and "
			             : ", ",
			    detected[i]);
	if (n > 0)
		strbuf_append(&sb, " (HTTP 403): give it the privilege of the DHCP server in use)");
	return strbuf_steal(&sb);
}

static void
on_detect(struct opnsense_sync *s, const struct http_response *resp, enum opn_backend b)
{
	char *msg, *cause = NULL;
	int absent, enabled = 0;

	if (detect_forbidden(s, resp, b == OPN_KEA ? 0 : 1)) {
		s->step = b == OPN_KEA ? S_DETECT_DNSMASQ : S_DETECT_ISC;
		return;
	}
	if ((msg = failure_of(s, resp, &absent)) != NULL && !absent) {
		fail_read(s, msg);
		return;
	}
	free(msg);
	if (!absent && opn_parse_enabled(b, resp->body, resp->body_len, &enabled, &cause) != 0) {
		fail_read(s, xasprintf("%s: %s", s->what, cause));
		free(cause);
		return;
	}
	if (enabled) {
		s->state.backend = b;
		s->report.backend = opn_backend_name(b);
		s->report.dhcp.name = s->report.backend;
		s->dhcp = 1;
		s->step = b == OPN_KEA ? S_SUBNETS : S_RANGES;
	} else
		s->step = b == OPN_KEA ? S_DETECT_DNSMASQ : S_DETECT_ISC;
}

static void
on_detect_isc(struct opnsense_sync *s, const struct http_response *resp)
{
	char *msg = NULL, *status = NULL, *cause = NULL;
	int absent = 1, disabled = 0;

	if (!detect_forbidden(s, resp, 2) && (msg = failure_of(s, resp, &absent)) != NULL &&
	    !absent) {
		fail_read(s, msg);
		return;
	}
	free(msg);
	/* the ISC plugin may be installed (26.1 does so on upgrade) and off */
	if (!absent && opn_parse_status(resp->body, resp->body_len, &status, &cause) == 0)
		disabled = strcmp(status, "disabled") == 0;
	free(status);
	free(cause);
	s->report.failed = 1;
	if (absent || disabled) {
		s->report.backend = "none";
		s->report.note = no_dhcp_note(s);
	} else {
		s->report.backend = "isc";
		s->report.note =
		    xstrdup("the firewall runs ISC DHCP, which has no API for static "
		            "reservations; write them with 'shelly-tui --export dhcp-isc' "
		            "(or the CSV export) and enter them in the GUI, or move to Kea "
		            "or dnsmasq; only the alias was synced");
	}
	s->step = S_ALIAS_UUID;
}

/* The dnsmasq ranges; a firewall without the endpoint (404) leaves addresses unchecked. */
static void
on_ranges(struct opnsense_sync *s, const struct http_response *resp)
{
	char *msg, *cause = NULL;
	int absent;

	s->step = S_RECORDS;
	if ((msg = failure_of(s, resp, &absent)) != NULL && !absent) {
		fail_read(s, msg);
		return;
	}
	if (msg != NULL) {
		log_warn("opnsense: %s; reservation addresses are not checked against the DHCP "
		         "ranges",
		    msg);
		free(msg);
		return;
	}
	if (opn_parse_ranges(&s->state, resp->body, resp->body_len, &cause) != 0) {
		fail_read(s, xasprintf("%s: %s", s->what, cause));
		free(cause);
	}
}

/* Reads a reply that must be a 2xx with JSON the parser accepts; else fails the read. */
static int
read_ok(struct opnsense_sync *s, const struct http_response *resp)
{
	char *msg;
	int absent;

	if ((msg = failure_of(s, resp, &absent)) != NULL) {
		fail_read(s, msg);
		return 0;
	}
	return 1;
}

static void
on_read(struct opnsense_sync *s, const struct http_response *resp)
{
	char *cause = NULL, *uuid = NULL;
	int rc = 0;

	if (!read_ok(s, resp))
		return;
	switch (s->step) {
	case S_SUBNETS:
		rc = opn_parse_subnets(&s->state, resp->body, resp->body_len, &cause);
		s->step = S_RECORDS;
		break;
	case S_RECORDS:
		rc = opn_parse_records(&s->state, resp->body, resp->body_len, &cause);
		s->step = S_ALIAS_UUID;
		break;
	case S_ALIAS_UUID:
		rc = opn_parse_alias_uuid(resp->body, resp->body_len, &uuid, &cause);
		if (rc == 0 && uuid != NULL && !uuid_ok(uuid)) {
			rc = -1;
			cause = xstrdup("the alias UUID is malformed");
		}
		s->alias_uuid = uuid;
		s->step = uuid != NULL ? S_ALIAS_GET : S_PLAN;
		break;
	case S_ALIAS_GET:
		rc = opn_parse_alias(&s->state, s->alias_uuid, resp->body, resp->body_len, &cause);
		s->step = S_PLAN;
		break;
	default:
		abort();
	}
	if (rc != 0) {
		fail_read(s, xasprintf("%s: %s", s->what, cause));
		free(cause);
	}
}

/* Writing */

/* Marks every change not yet applied as not applied, because of failed (NULL: of s->lost). */
static void
stop_writes(struct opnsense_sync *s, const struct opn_item *failed)
{
	char mac[18], *why;

	s->stopped = 1;
	s->report.failed = 1;
	for (size_t i = 0; i < s->report.plan->nitems; i++) {
		struct opn_item *it = &s->report.plan->items[i];

		if (it->outcome != OPN_PLANNED || it == failed ||
		    (it->action != OPN_ADD && it->action != OPN_UPDATE && it->action != OPN_REMOVE))
			continue;
		it->outcome = OPN_NOT_RUN;
		free(it->error);
		if (failed != NULL)
			why = xasprintf("stopped after %s %s (%s) failed",
			    failed->kind == OPN_ALIAS ? "alias" : "the record of", failed->device,
			    failed->kind == OPN_ALIAS
			        ? failed->ip
			        : opn_mac_format(failed->mac, mac, sizeof mac));
		else
			why = xasprintf("stopped: %s", s->lost);
		it->error = xasprintf("%s: %s",
		    it->readd == 2 ? "removed but not re-added (the next sync adds it)"
		                   : "not applied",
		    why);
		free(why);
	}
}

/* The next reservation to write (in the plan's order of writes), or NULL when all are done. */
static struct opn_item *
next_write(struct opnsense_sync *s)
{
	struct opn_plan *p = s->report.plan;

	while (s->idx < p->nwrites) {
		struct opn_item *it = &p->items[p->writes[s->idx++]];

		if (it->outcome == OPN_PLANNED)
			return it;
	}
	return NULL;
}

/* What a write of it does now: an update re-added is first removed, then added. */
static enum opn_action
write_action(const struct opn_item *it)
{
	if (it->action == OPN_UPDATE && it->readd != 0)
		return it->readd == 1 ? OPN_REMOVE : OPN_ADD;
	return it->action;
}

/* The body of an add or set of a reservation item, as the backend names the fields. */
static char *
record_body(const struct opnsense_sync *s, const struct opn_item *it)
{
	cJSON *root = cJSON_CreateObject(), *o;
	char mac[18];
	int kea = s->state.backend == OPN_KEA;

	o = cJSON_AddObjectToObject(root, kea ? "reservation" : "host");
	opn_mac_format(it->mac, mac, sizeof mac);
	if (kea) {
		cJSON_AddStringToObject(o, "subnet", it->subnet);
		cJSON_AddStringToObject(o, "ip_address", it->ip);
		cJSON_AddStringToObject(o, "hw_address", mac);
		cJSON_AddStringToObject(o, "hostname", it->hostname);
		cJSON_AddStringToObject(o, "description", it->descr);
	} else {
		cJSON_AddStringToObject(o, "host", it->hostname);
		cJSON_AddStringToObject(o, "ip", it->ip);
		cJSON_AddStringToObject(o, "hwaddr", mac);
		cJSON_AddStringToObject(o, "descr", it->descr);
		if (write_action(it) == OPN_ADD) {
			cJSON_AddStringToObject(o, "domain", "");
			cJSON_AddStringToObject(o, "local", "0");
			cJSON_AddStringToObject(o, "ignore", "0");
		}
	}
	return json_compact_free(root);
}

static void
write_record(struct opnsense_sync *s, struct opn_item *it)
{
	enum opn_action a = write_action(it);
	int kea = s->state.backend == OPN_KEA;
	const char *base = kea ? "/api/kea/dhcpv4/" : "/api/dnsmasq/settings/";
	const char *noun = kea ? "Reservation" : "Host";
	char *path, *body = NULL, *what, mac[18];

	s->cur = it;
	if (a != OPN_ADD && !uuid_ok(it->uuid)) {
		it->outcome = OPN_FAILED;
		it->error = xstrdup("the record's UUID is malformed; not touched");
		stop_writes(s, it);
		advance(s);
		return;
	}
	what = xasprintf("%s the %s of %s (%s, %s)",
	    a == OPN_ADD      ? (it->readd ? "re-adding" : "adding")
	    : a == OPN_UPDATE ? "updating"
	    : it->readd       ? "removing before re-adding"
	                      : "removing",
	    kea ? "Kea reservation" : "dnsmasq host", it->device,
	    opn_mac_format(it->mac, mac, sizeof mac), it->ip[0] != '\0' ? it->ip : "no address");
	if (a == OPN_ADD)
		path = xasprintf("%sadd%s", base, noun);
	else if (a == OPN_UPDATE)
		path = xasprintf("%sset%s/%s", base, noun, it->uuid);
	else
		path = xasprintf("%sdel%s/%s", base, noun, it->uuid);
	if (a != OPN_REMOVE)
		body = record_body(s, it);
	send_req(s, HTTP_POST, path, body != NULL ? body : "{}", 0, what);
	free(body);
	free(path);
	free(what);
}

/* addItem: a new host alias; setItem: the item as read with its content replaced (see
 * opn_alias_set_body: sending only the content would make OPNsense rename every reference). */
static char *
alias_body(const struct opnsense_sync *s, const struct opn_item *it)
{
	cJSON *root, *o;

	if (it->action != OPN_ADD)
		return opn_alias_set_body(&s->state.alias, it->device, it->content);
	root = cJSON_CreateObject();
	o = cJSON_AddObjectToObject(root, "alias");
	cJSON_AddStringToObject(o, "enabled", "1");
	cJSON_AddStringToObject(o, "name", it->device);
	cJSON_AddStringToObject(o, "type", "host");
	cJSON_AddStringToObject(o, "proto", "");
	cJSON_AddStringToObject(o, "categories", "");
	cJSON_AddStringToObject(o, "counters", "0");
	cJSON_AddStringToObject(o, "updatefreq", "");
	cJSON_AddStringToObject(o, "description", it->descr);
	cJSON_AddStringToObject(o, "content", it->content);
	return json_compact_free(root);
}

static struct opn_item *
alias_item(struct opnsense_sync *s)
{
	struct opn_plan *p = s->report.plan;

	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].kind == OPN_ALIAS)
			return &p->items[i];
	return NULL;
}

static void
write_alias(struct opnsense_sync *s, struct opn_item *it)
{
	char *body = alias_body(s, it), *path, *what;

	s->cur = it;
	if (it->action == OPN_ADD)
		path = xstrdup("/api/firewall/alias/addItem");
	else
		path = xasprintf("/api/firewall/alias/setItem/%s", it->uuid);
	what = xasprintf(
	    "%s alias %s (%s)", it->action == OPN_ADD ? "adding" : "updating", it->device, it->ip);
	send_req(s, HTTP_POST, path, body, 0, what);
	free(what);
	free(path);
	free(body);
}

/*
 * 1 when a failed write may still have been saved: the request may have reached the firewall
 * and no reply says it was refused (a time-out, a cut connection or reply, a 5xx without
 * OPNsense's error body, a reply that does not parse). Not for what never got there (refused,
 * unreachable, TLS, the guard) or was answered with a refusal (4xx, an errorMessage,
 * "failed", "not found", []).
 */
static int
write_unsure(const struct http_response *resp)
{
	cJSON *root;
	char *err = NULL;
	int unsure;

	switch (resp->result) {
	case HTTP_OK: /* refusals are JSON: "failed", "not found", [] */
		root = json_parse(resp->body, resp->body_len, JSON_MAX_DEPTH, &err);
		unsure = root == NULL;
		free(err);
		cJSON_Delete(root);
		return unsure;
	case HTTP_STATUS: /* OPNsense's own errors (errorMessage) are refusals, thrown before
	                   * the save; a proxy's 502 or 504 says nothing of the firewall */
		if (resp->status < 500)
			return 0;
		err = opn_parse_error(resp->body, resp->body_len);
		unsure = err == NULL;
		free(err);
		return unsure;
	case HTTP_REFUSED:
	case HTTP_UNREACHABLE:
	case HTTP_TLS_ERROR:
	case HTTP_AUTH_REQUIRED:
	case HTTP_AUTH_FAILED:
	case HTTP_REFUSED_BY_GUARD:
	case HTTP_CANCELLED:
		return 0;
	default:
		return 1;
	}
}

static void
on_write(struct opnsense_sync *s, const struct http_response *resp)
{
	struct opn_item *it = s->cur;
	char *cause = NULL, *uuid = NULL;
	int absent;

	s->cur = NULL;
	if ((cause = failure_of(s, resp, &absent)) == NULL &&
	    opn_parse_write(resp->body, resp->body_len, &uuid, &cause) == 0) {
		if (it->kind == OPN_RESERVATION && write_action(it) == OPN_REMOVE &&
		    it->action == OPN_UPDATE) {
			it->readd = 2; /* removed; added again later */
			free(uuid);
			return;
		}
		it->outcome = OPN_APPLIED;
		if (uuid != NULL) {
			free(it->uuid);
			it->uuid = uuid;
		}
		if (it->kind == OPN_ALIAS)
			s->report.alias.saved++;
		else
			s->report.dhcp.saved++;
		return;
	}
	it->outcome = OPN_FAILED;
	free(it->error);
	if (str_has_prefix(cause, s->what))
		it->error = cause;
	else {
		it->error = xasprintf("%s: %s", s->what, cause);
		free(cause);
	}
	if (write_unsure(resp)) {
		char *e = it->error;

		it->error = xasprintf("%s (the firewall may have saved it all the same: the next "
		                      "sync reads it back and applies it)",
		    e);
		free(e);
		*(it->kind == OPN_ALIAS ? &s->unsure_alias : &s->unsure_dhcp) = 1;
	}
	log_warn("opnsense: %s", it->error);
	stop_writes(s, it);
}

/* Reconfigure and status */

static const char *
service_path(const struct opnsense_sync *s)
{
	return s->state.backend == OPN_KEA ? "/api/kea/service/" : "/api/dnsmasq/service/";
}

static void
on_service(struct opnsense_sync *s, const struct http_response *resp, struct opnsense_service *svc)
{
	char *cause = NULL, *status = NULL;
	int absent;

	if ((cause = failure_of(s, resp, &absent)) == NULL)
		opn_parse_status(resp->body, resp->body_len, &status, &cause);
	if (cause == NULL && s->step != S_STATUS_DHCP && strcmp(status, "ok") != 0)
		cause = xasprintf("answered \"%s\", not \"ok\"", status);
	if (cause == NULL && s->step == S_STATUS_DHCP && strcmp(status, "running") != 0)
		cause =
		    xasprintf("the service is %s after the reconfigure: DHCP may be down", status);
	if (s->step == S_STATUS_DHCP) {
		svc->status = status;
		status = NULL;
	} else
		svc->reconfigured = cause == NULL ? 1 : -1;
	if (cause != NULL) {
		svc->error = str_has_prefix(cause, s->what) ? xstrdup(cause)
		                                            : xasprintf("%s: %s", s->what, cause);
		log_warn("opnsense: %s", svc->error);
		s->report.failed = 1;
	}
	free(cause);
	free(status);
}

/* Which services hold saved changes that are not live, for the next sync to retry. */
static void
pending_done(struct opnsense_sync *s)
{
	struct opnsense_report *r = &s->report;

	if (r->dry_run || r->error != NULL) {
		r->dhcp.pending = s->pending_dhcp;
		r->alias.pending = s->pending_alias;
		return;
	}
	/* a write that may have been saved after the reconfigure stays pending all the same */
	r->dhcp.pending =
	    s->dhcp && (((r->dhcp.saved > 0 || s->pending_dhcp) && r->dhcp.reconfigured != 1) ||
	                   s->unsure_dhcp);
	r->alias.pending =
	    s->alias_name != NULL &&
	    (((r->alias.saved > 0 || s->pending_alias) && r->alias.reconfigured != 1) ||
	        s->unsure_alias);
}

/* The writer's lease */

/* A service whose reconfigure the lost lease skips: its saved changes stay pending. */
static void
skip_service(struct opnsense_sync *s, struct opnsense_service *svc, int pending)
{
	if (svc->name == NULL || svc->reconfigured != 0 || (svc->saved == 0 && !pending))
		return;
	free(svc->error);
	svc->error = xasprintf("not made live: %s", s->lost);
}

/*
 * The lease is lost: nothing more is sent. Moves the step on (a read ends as an error, writes
 * and reconfigures are skipped) and returns 1, or 0 once the sync is done.
 */
static int
lease_lost(struct opnsense_sync *s)
{
	switch (s->step) {
	case S_DONE:
		return 0;
	case S_WRITE:
	case S_ALIAS_WRITE:
		if (!s->stopped)
			stop_writes(s, NULL);
		/* FALLTHROUGH */
	case S_RECONF_DHCP:
	case S_STATUS_DHCP:
	case S_RECONF_ALIAS:
		skip_service(s, &s->report.dhcp, s->pending_dhcp && s->dhcp);
		skip_service(s, &s->report.alias, s->pending_alias && s->alias_name != NULL);
		s->report.failed = 1;
		s->step = S_DONE;
		return 1;
	default: /* reading: nothing is planned */
		fail_read(s, xasprintf("%s: nothing was applied", s->lost));
		return 1;
	}
}

static void
lose(struct opnsense_sync *s, char *why)
{
	s->lost = why;
	log_warn("opnsense: %s; stopping the sync", why);
}

static void
keep_cb(void *arg)
{
	struct opnsense_sync *s = arg;
	char *cause = NULL;
	int r = s->keeper.renew_cb(s->keeper.arg, &cause);
	uint64_t now = loop_update_now(s->loop); /* a busy database may have made us wait */

	if (r == 1)
		s->keep_ok_ms = now;
	else if (r == 0)
		lose(s, xasprintf("the writer's lease was lost (%s)",
		            cause != NULL ? cause : "another sync holds it"));
	else {
		log_warn("opnsense: the writer's lease was not renewed: %s", cause);
		/* Stop before another process may take the lease over. */
		if (now - s->keep_ok_ms >= s->keeper.timeout_ms - s->keeper.heartbeat_ms)
			lose(s, xasprintf("no renewal of the writer's lease succeeded for %llu ms",
			            (unsigned long long)(now - s->keep_ok_ms)));
	}
	free(cause);
	if (s->lost == NULL)
		loop_timer_arm(s->keep, s->keeper.heartbeat_ms);
}

/* The sync runs (starts, or applies): renew the lease every heartbeat from now. */
static void
keep_start(struct opnsense_sync *s)
{
	if (s->keep == NULL)
		return;
	s->keep_ok_ms = loop_update_now(s->loop);
	loop_timer_arm(s->keep, s->keeper.heartbeat_ms);
}

/* The step machine */

/* The reads that need no argument: step, method, path, body, what. */
static const struct {
	enum step step;
	enum http_method method;
	const char *path, *body, *what;
} reads[] = {
    {S_DETECT_KEA, HTTP_GET, "/api/kea/dhcpv4/get", NULL, "detecting Kea DHCPv4"},
    {S_DETECT_DNSMASQ, HTTP_GET, "/api/dnsmasq/settings/get", NULL, "detecting dnsmasq"},
    {S_DETECT_ISC, HTTP_GET, "/api/dhcpv4/service/status", NULL, "detecting ISC DHCPv4"},
    {S_SUBNETS, HTTP_POST, "/api/kea/dhcpv4/searchSubnet", SEARCH_ALL, "reading the Kea subnets"},
    {S_RANGES, HTTP_POST, "/api/dnsmasq/settings/searchRange", SEARCH_ALL,
        "reading the dnsmasq DHCP ranges"},
};

/* Sends the request of a reading step; returns 0 when the step has none (moved on). */
static int
send_read(struct opnsense_sync *s)
{
	int kea = s->state.backend == OPN_KEA;

	for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
		if (reads[i].step == s->step) {
			send_req(
			    s, reads[i].method, reads[i].path, reads[i].body, 0, reads[i].what);
			return 1;
		}
	switch (s->step) {
	case S_RECORDS:
		send_req(s, HTTP_POST,
		    kea ? "/api/kea/dhcpv4/searchReservation" : "/api/dnsmasq/settings/searchHost",
		    SEARCH_ALL, 0,
		    kea ? "reading the Kea reservations" : "reading the dnsmasq hosts");
		return 1;
	case S_ALIAS_UUID:
		if (s->alias_name == NULL) {
			s->step = S_PLAN;
			return 0;
		}
		send_owned(s, HTTP_GET,
		    xasprintf("/api/firewall/alias/getAliasUUID/%s", s->alias_name), NULL, 0,
		    xasprintf("looking up alias %s", s->alias_name));
		return 1;
	case S_ALIAS_GET:
		send_owned(s, HTTP_GET, xasprintf("/api/firewall/alias/getItem/%s", s->alias_uuid),
		    NULL, 0, xasprintf("reading alias %s", s->alias_name));
		return 1;
	default:
		abort();
	}
}

/* Sends the request of the current step, or moves on; calls done at the end. */
static void
advance(struct opnsense_sync *s)
{
	struct opn_item *it;

	for (;;) {
		if (s->lost != NULL && lease_lost(s))
			continue;
		switch (s->step) {
		case S_DETECT_KEA:
		case S_DETECT_DNSMASQ:
		case S_DETECT_ISC:
		case S_SUBNETS:
		case S_RANGES:
		case S_RECORDS:
		case S_ALIAS_UUID:
		case S_ALIAS_GET:
			if (send_read(s))
				return;
			continue;
		case S_PLAN:
			s->report.plan =
			    opn_plan_compute(&s->state, s->devs, s->ndevs, s->dhcp, s->alias_name);
			s->step = s->report.dry_run ? S_DONE : S_WRITE;
			continue;
		case S_WRITE:
			if (!s->stopped && (it = next_write(s)) != NULL) {
				write_record(s, it);
				return;
			}
			s->step = S_ALIAS_WRITE;
			continue;
		case S_ALIAS_WRITE:
			it = alias_item(s);
			if (!s->stopped && it != NULL && it->outcome == OPN_PLANNED &&
			    (it->action == OPN_ADD || it->action == OPN_UPDATE)) {
				write_alias(
				    s, it); /* its reply sets the outcome: back here, then on */
				return;
			}
			s->step = S_RECONF_DHCP;
			continue;
		case S_RECONF_DHCP:
			if (s->report.dhcp.saved == 0 && !(s->pending_dhcp && s->dhcp)) {
				s->step = S_RECONF_ALIAS;
				continue;
			}
			send_owned(s, HTTP_POST, xasprintf("%sreconfigure", service_path(s)), "{}",
			    3 * s->timeout_ms,
			    xasprintf("applying the %s changes (%zu saved%s)", s->report.dhcp.name,
			        s->report.dhcp.saved,
			        s->pending_dhcp ? ", and those an earlier sync could not apply"
			                        : ""));
			return;
		case S_STATUS_DHCP:
			send_owned(s, HTTP_GET, xasprintf("%sstatus", service_path(s)), NULL, 0,
			    xasprintf("checking the %s service", s->report.dhcp.name));
			return;
		case S_RECONF_ALIAS:
			if (s->report.alias.saved == 0 &&
			    !(s->pending_alias && s->alias_name != NULL)) {
				s->step = S_DONE;
				continue;
			}
			send_req(s, HTTP_POST, "/api/firewall/alias/reconfigure", "{}",
			    3 * s->timeout_ms, "applying the alias (firewall reload)");
			return;
		case S_DONE:
			if (s->keep != NULL)
				loop_timer_disarm(s->keep);
			pending_done(s);
			s->report.finished_ms = loop_wall_ms();
			s->done(s, s->arg);
			return;
		}
	}
}

static void
really_free(struct opnsense_sync *s)
{
	loop_timer_free(s->kick);
	if (s->keep != NULL)
		loop_timer_free(s->keep);
	free(s->lost);
	opn_state_done(&s->state);
	opn_plan_free(s->report.plan);
	free(s->report.error);
	free(s->report.note);
	free(s->report.dhcp.status);
	free(s->report.dhcp.error);
	free(s->report.alias.status);
	free(s->report.alias.error);
	for (size_t i = 0; i < s->ndevs; i++) {
		free((char *)s->devs[i].name);
		free((char *)s->devs[i].id);
		free((char *)s->devs[i].ip);
	}
	free(s->devs);
	str_free_secret(s->secret);
	str_free_secret(s->key);
	free(s->host);
	free(s->prefix);
	free(s->ca_file);
	free(s->alias_name);
	free(s->alias_uuid);
	free(s->lane);
	free(s->what);
	free(s);
}

static void
resp_cb(const struct http_response *resp, void *arg)
{
	struct opnsense_sync *s = arg;

	s->req_id = 0;
	if (s->freed) {
		really_free(s);
		return;
	}
	switch (s->step) {
	case S_DETECT_KEA:
		on_detect(s, resp, OPN_KEA);
		break;
	case S_DETECT_DNSMASQ:
		on_detect(s, resp, OPN_DNSMASQ);
		break;
	case S_DETECT_ISC:
		on_detect_isc(s, resp);
		break;
	case S_RANGES:
		on_ranges(s, resp);
		break;
	case S_SUBNETS:
	case S_RECORDS:
	case S_ALIAS_UUID:
	case S_ALIAS_GET:
		on_read(s, resp);
		break;
	case S_WRITE:
	case S_ALIAS_WRITE:
		on_write(s, resp);
		break;
	case S_RECONF_DHCP:
		on_service(s, resp, &s->report.dhcp);
		s->step = s->report.dhcp.reconfigured == 1 ? S_STATUS_DHCP : S_RECONF_ALIAS;
		break;
	case S_STATUS_DHCP:
		on_service(s, resp, &s->report.dhcp);
		s->step = S_RECONF_ALIAS;
		break;
	case S_RECONF_ALIAS:
		on_service(s, resp, &s->report.alias);
		s->step = S_DONE;
		break;
	case S_PLAN:
	case S_DONE:
		abort();
	}
	advance(s);
}

static void
kick_cb(void *arg)
{
	advance(arg);
}

int
opnsense_sync_apply(struct opnsense_sync *sync, opnsense_done_cb done, void *arg, char **cause)
{
	if (sync->step != S_DONE || sync->report.plan == NULL || !sync->report.dry_run ||
	    sync->report.error != NULL) {
		*cause = xstrdup("no finished dry run to apply");
		return -1;
	}
	sync->report.dry_run = 0;
	sync->done = done;
	sync->arg = arg;
	sync->step = S_WRITE;
	keep_start(sync);
	loop_timer_arm(sync->kick, 0);
	return 0;
}

struct opnsense_sync *
opnsense_sync_start(struct loop *loop, struct http *http, const struct opnsense_options *o,
    const struct opn_device *devs, size_t ndevs, int dry_run, opnsense_done_cb done, void *arg,
    char **cause)
{
	struct opnsense_sync *s;
	char *host, *prefix, pin[65] = "";
	uint16_t port;

	if (opnsense_parse_url(o->url, &host, &port, &prefix, cause) != 0)
		return NULL;
	if (o->key == NULL || o->key[0] == '\0' || o->secret == NULL || o->secret[0] == '\0') {
		free(host);
		free(prefix);
		*cause = xstrdup("the OPNsense API key and secret are needed (opnsense-key, "
		                 "opnsense-secret)");
		return NULL;
	}
	if (o->alias != NULL && o->alias[0] != '\0' && !opn_alias_name_valid(o->alias)) {
		free(host);
		free(prefix);
		*cause =
		    xstrdup("opnsense-alias must be letters, digits and _, under 32 characters, "
		            "not starting with a digit");
		return NULL;
	}
	if (o->pin != NULL && o->pin[0] != '\0' &&
	    (o->insecure || opn_pin_parse(o->pin, pin) != 0)) {
		free(host);
		free(prefix);
		*cause =
		    xstrdup(o->insecure ? "opnsense-pin and opnsense-insecure exclude each other"
		                        : "opnsense-pin must be sha256//BASE64 (as curl "
		                          "--pinnedpubkey takes it) or 64 hex digits");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	if (o->pin != NULL && o->pin[0] != '\0')
		memcpy(s->pin, pin, sizeof s->pin);
	s->http = http;
	s->loop = loop;
	s->kick = loop_timer_new(loop, kick_cb, s);
	if (o->keeper != NULL && o->keeper->renew_cb != NULL) {
		s->keeper = *o->keeper;
		s->keep = loop_timer_new(loop, keep_cb, s);
	}
	s->host = host;
	s->prefix = prefix;
	s->port = port;
	s->key = xstrdup(o->key);
	s->secret = xstrdup(o->secret);
	s->ca_file = o->ca_file != NULL && o->ca_file[0] != '\0' ? xstrdup(o->ca_file) : NULL;
	s->insecure = o->insecure;
	s->choice = o->backend;
	s->alias_name = o->alias != NULL && o->alias[0] != '\0' ? xstrdup(o->alias) : NULL;
	s->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	s->connect_timeout_ms =
	    o->connect_timeout_ms != 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	s->lane = xasprintf("opnsense:%s:%u", host, port);
	s->devs = xcalloc(ndevs + 1, sizeof *s->devs);
	s->ndevs = ndevs;
	for (size_t i = 0; i < ndevs; i++) {
		memcpy(s->devs[i].mac, devs[i].mac, sizeof s->devs[i].mac);
		s->devs[i].name = devs[i].name != NULL ? xstrdup(devs[i].name) : NULL;
		s->devs[i].id = devs[i].id != NULL ? xstrdup(devs[i].id) : NULL;
		s->devs[i].ip = devs[i].ip != NULL ? xstrdup(devs[i].ip) : NULL;
	}
	s->done = done;
	s->arg = arg;
	s->report.dry_run = dry_run;
	s->pending_dhcp = o->pending_dhcp;
	s->pending_alias = o->pending_alias;
	s->report.alias.name = s->alias_name != NULL ? "alias" : NULL;
	switch (o->backend) {
	case OPNSENSE_AUTO:
		s->step = S_DETECT_KEA;
		break;
	case OPNSENSE_KEA:
	case OPNSENSE_DNSMASQ:
		s->state.backend = o->backend == OPNSENSE_KEA ? OPN_KEA : OPN_DNSMASQ;
		s->report.backend = opn_backend_name(s->state.backend);
		s->dhcp = 1;
		s->step = o->backend == OPNSENSE_KEA ? S_SUBNETS : S_RECORDS;
		break;
	}
	if (s->dhcp)
		s->report.dhcp.name = s->report.backend;
	keep_start(s);
	advance(s);
	return s;
}

const struct opnsense_report *
opnsense_sync_interrupt(struct opnsense_sync *sync)
{
	if (sync->step == S_DONE)
		return &sync->report;
	if (sync->req_id != 0 && sync->cur != NULL)
		*(sync->cur->kind == OPN_ALIAS ? &sync->unsure_alias : &sync->unsure_dhcp) = 1;
	if (sync->report.error == NULL && !sync->report.dry_run)
		sync->report.failed = 1;
	pending_done(sync);
	return &sync->report;
}

const struct opnsense_report *
opnsense_sync_report(const struct opnsense_sync *sync)
{
	return &sync->report;
}

void
opnsense_sync_free(struct opnsense_sync *sync)
{
	if (sync == NULL)
		return;
	if (sync->req_id != 0) {
		/* the callback is still to come (also when cancel finds it completed): free there
		 */
		sync->freed = 1;
		if (sync->keep != NULL)
			loop_timer_disarm(sync->keep);
		http_cancel(sync->http, sync->req_id);
		return;
	}
	really_free(sync);
}

/* The report as text (--opnsense-sync and the console show the same) */

static void
format_service(struct strbuf *sb, const struct opnsense_service *svc)
{
	if (svc->name == NULL || (svc->reconfigured == 0 && svc->error == NULL))
		return;
	strbuf_appendf(
	    sb, "%s: %s", svc->name, svc->reconfigured > 0 ? "reconfigured" : "reconfigure failed");
	if (svc->status != NULL)
		strbuf_appendf(sb, ", service %s", svc->status);
	if (svc->error != NULL)
		strbuf_appendf(sb, " (%s)", svc->error);
	strbuf_append_char(sb, '\n');
}

void
opnsense_report_format(const struct opnsense_report *r, struct strbuf *sb)
{
	if (r->error != NULL) {
		strbuf_appendf(sb, "error: %s\nnothing was changed\n", r->error);
		return;
	}
	strbuf_appendf(sb, "backend %s%s\n", r->backend != NULL ? r->backend : "unknown",
	    r->dry_run ? " (dry run: nothing is changed)" : "");
	if (r->note != NULL)
		strbuf_appendf(sb, "note: %s\n", r->note);
	opn_plan_format(r->plan, !r->dry_run, sb);
	opnsense_report_services(r, sb);
}

void
opnsense_report_services(const struct opnsense_report *r, struct strbuf *sb)
{
	format_service(sb, &r->dhcp);
	format_service(sb, &r->alias);
	if (r->dhcp.pending || r->alias.pending)
		strbuf_appendf(sb,
		    "pending: %s%s%s saved but not applied; the next sync reconfigures again\n",
		    r->dhcp.pending ? "DHCP changes" : "",
		    r->dhcp.pending && r->alias.pending ? " and " : "",
		    r->alias.pending ? "alias changes" : "");
}
