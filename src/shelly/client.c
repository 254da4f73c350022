#include "shelly/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fwver.h"
#include "shelly/ident.h"
#include "shelly/rpc.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum op_kind { OP_IDENTIFY, OP_STATUS, OP_CONFIG, OP_ACTION, OP_RAW };

/* One operation in flight: what the completion needs to parse and report. */
struct op {
	enum op_kind kind;
	int gen;
	char mac[DEV_MAC_LEN];
	char fw[DEV_FW_LEN];
	struct action action;
	shelly_cb cb;
	void *arg;
};

static void
reply_from_http(struct shelly_reply *r, const struct http_response *resp)
{
	memset(r, 0, sizeof *r);
	r->result = resp->result;
	r->http_status = resp->status;
	r->cause = resp->cause;
	r->elapsed_ms = resp->elapsed_ms;
	r->pin = resp->pin_sha256;
	r->primary_ip = resp->primary_ip;
	r->body = resp->body;
	r->body_len = resp->body_len;
}

static int
looks_like_error(const char *body, size_t len)
{
	size_t n = len < 200 ? len : 200;

	return memmem(body, n, "\"error\"", 7) != NULL || memmem(body, n, "\"code\"", 6) != NULL;
}

/* Gen2+ answers errors with a non-2xx status and a JSON error body: make it an RPC error. */
static int
rpc_error_reply(struct shelly_reply *r, const struct http_response *resp, char **owned)
{
	int code;
	char *msg = NULL;

	if (resp->result != HTTP_STATUS && resp->result != HTTP_OK)
		return 0;
	/* Errors come with a non-2xx status; a 200 body is parsed again only when its start
	 * looks like an error envelope (bare {"code":..} or a frame with "error"). */
	if (resp->result == HTTP_OK && !looks_like_error(resp->body, resp->body_len))
		return 0;
	if (gen2_parse_rpc_error(resp->body, resp->body_len, &code, &msg) != 0)
		return 0;
	*owned = rpc_error_describe(code, msg);
	free(msg);
	r->result = HTTP_RPC_ERROR;
	r->rpc_code = code;
	r->cause = *owned;
	return 1;
}

static void
fail_parse(struct shelly_reply *r, char *cause, char **owned)
{
	*owned = cause ? cause : xstrdup("reply could not be read");
	r->result = HTTP_BAD_JSON;
	r->cause = *owned;
}

int
shelly_status_parse(int gen, const char *body, size_t len, const char *running_fw,
    struct device_status *out, char **cause)
{
	int rc = gen == 1 ? gen1_parse_status(body, len, out, cause) :
	    gen2_parse_status(body, len, out, cause);

	if (rc == 0)
		fwver_check_offer(out, running_fw);
	return rc;
}

/*
 * One parsed status (about 40 KiB) kept from one reply to the next: a malloc of that size per
 * reply went through the allocator's large-request path, which also merges every small block
 * freed since the last one (malloc_consolidate), for every device polled.
 */
static struct device_status *status_spare;

static struct device_status *
status_take(void)
{
	struct device_status *st = status_spare;

	status_spare = NULL;
	return st != NULL ? st : xmalloc(sizeof *st);
}

/* Frees what st owns (raw_unknown, unless the callback took it) and keeps or frees st. */
static void
status_give(struct device_status *st)
{
	free(st->raw_unknown);
	st->raw_unknown = NULL;
	if (status_spare == NULL)
		status_spare = st;
	else
		free(st);
}

static void
status_done(struct op *op, struct shelly_reply *r, const struct http_response *resp,
    char **owned)
{
	struct device_status *st = status_take();
	char *cause = NULL;
	int rc;

	rc = shelly_status_parse(op->gen, resp->body, resp->body_len,
	    op->fw[0] != '\0' ? op->fw : NULL, st, &cause);
	if (rc != 0) {
		status_give(st);
		fail_parse(r, cause, owned);
		op->cb(r, op->arg);
		return;
	}
	if (op->mac[0] != '\0' && st->sys.mac[0] != '\0' && strcmp(op->mac, st->sys.mac) != 0) {
		*owned = xasprintf("MAC mismatch: expected %s, the device at this address is %s",
		    op->mac, st->sys.mac);
		r->result = HTTP_ERROR;
		r->cause = *owned;
		status_give(st);
		op->cb(r, op->arg);
		return;
	}
	r->status = st;
	op->cb(r, op->arg);
	status_give(st);
}

static void
config_done(struct op *op, struct shelly_reply *r, const struct http_response *resp,
    char **owned)
{
	struct gen1_settings *s = NULL;
	struct gen2_config *c = NULL;
	char *cause = NULL;
	int rc;

	if (op->gen == 1)
		rc =
		    gen1_parse_settings(resp->body, resp->body_len, s = xmalloc(sizeof *s), &cause);
	else
		rc = gen2_parse_config(resp->body, resp->body_len, c = xmalloc(sizeof *c), &cause);
	if (rc == 0) {
		r->settings = s;
		r->config = c;
	} else {
		fail_parse(r, cause, owned);
	}
	op->cb(r, op->arg);
	free(s);
	free(c);
}

static void
op_done_cb(const struct http_response *resp, void *arg)
{
	struct op *op = arg;
	struct shelly_reply r;
	char *owned = NULL;

	reply_from_http(&r, resp);
	switch (op->kind) {
	case OP_IDENTIFY:
		if (resp->result == HTTP_OK) {
			struct device_ident id;
			char *cause = NULL;
			if (shelly_parse_ident(resp->body, resp->body_len, &id, &cause) == 0)
				r.ident = &id;
			else
				fail_parse(&r, cause, &owned);
			op->cb(&r, op->arg);
		} else
			op->cb(&r, op->arg);
		break;
	case OP_RAW:
		if (op->gen >= 2)
			rpc_error_reply(&r, resp, &owned);
		op->cb(&r, op->arg);
		break;
	case OP_STATUS:
	case OP_CONFIG:
		if (op->gen >= 2 && rpc_error_reply(&r, resp, &owned))
			op->cb(&r, op->arg);
		else if (resp->result != HTTP_OK)
			op->cb(&r, op->arg);
		else if (op->kind == OP_STATUS)
			status_done(op, &r, resp, &owned);
		else
			config_done(op, &r, resp, &owned);
		break;
	case OP_ACTION:
		if (resp->result == HTTP_OK || resp->result == HTTP_STATUS) {
			struct action_result ar;
			char *cause = NULL;
			if (action_parse_result(op->gen, &op->action, (int)resp->status, resp->body,
			    resp->body_len, &ar, &cause) == 0) {
				r.action = &ar;
				if (!ar.ok) {
					r.result = resp->result == HTTP_OK ? HTTP_RPC_ERROR :
					    resp->result;
					r.cause = ar.message;
				} else
					r.result = HTTP_OK; /* "no update": an RPC error, done */
			} else
				fail_parse(&r, cause, &owned);
			op->cb(&r, op->arg);
			action_result_done(&ar);
		} else
			op->cb(&r, op->arg);
		break;
	}
	free(owned);
	free(op);
}

static uint64_t
op_send(struct http *http, const struct shelly_target *t, enum op_kind kind, const char *method,
    const char *path, const char *body, const struct action *a, shelly_cb cb, void *arg)
{
	struct http_request req;
	struct op *op = xcalloc(1, sizeof *op);
	char lane[DEV_HOST_LEN + 8];

	op->kind = kind;
	op->gen = t->gen;
	if (t->mac != NULL)
		str_copy(op->mac, sizeof op->mac, t->mac);
	if (kind == OP_STATUS && t->fw != NULL)
		str_copy(op->fw, sizeof op->fw, t->fw);
	if (a != NULL)
		op->action = *a;
	op->cb = cb;
	op->arg = arg;

	memset(&req, 0, sizeof req);
	req.method = strcmp(method, "POST") == 0 ? HTTP_POST : HTTP_GET;
	req.https = t->https;
	req.host = t->host;
	req.port = t->port;
	req.path = path;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	if (t->lane != NULL)
		req.lane = t->lane;
	else if (t->mac != NULL && t->mac[0] != '\0')
		req.lane = t->mac;
	else {
		snprintf(lane, sizeof lane, "%s:%u", t->host, (unsigned)t->port);
		req.lane = lane;
	}
	req.lane_limit = t->gen == 1 ? 1 : (t->lane_limit > 0 ? t->lane_limit : 2);
	req.connect_timeout_ms = t->connect_timeout_ms;
	req.timeout_ms = t->timeout_ms;
	req.max_body = t->max_body;
	if (kind != OP_IDENTIFY && t->user != NULL && t->password != NULL) {
		req.auth = t->gen == 1 ? HTTP_AUTH_BASIC : HTTP_AUTH_DIGEST;
		req.user = t->user;
		req.password = t->password;
	}
	req.tls = t->tls;
	req.ca_file = t->ca_file;
	req.pin_sha256 = t->pin;
	return http_send(http, &req, op_done_cb, op);
}

uint64_t
shelly_identify(struct http *http, const struct shelly_target *t, shelly_cb cb, void *arg)
{
	return op_send(http, t, OP_IDENTIFY, "GET", "/shelly", NULL, NULL, cb, arg);
}

uint64_t
shelly_status(struct http *http, const struct shelly_target *t, shelly_cb cb, void *arg)
{
	return op_send(http, t, OP_STATUS, "GET",
	    t->gen == 1 ? "/status" : "/rpc/Shelly.GetStatus", NULL, NULL, cb, arg);
}

uint64_t
shelly_config(struct http *http, const struct shelly_target *t, shelly_cb cb, void *arg)
{
	return op_send(http, t, OP_CONFIG, "GET",
	    t->gen == 1 ? "/settings" : "/rpc/Shelly.GetConfig", NULL, NULL, cb, arg);
}

uint64_t
shelly_request(struct http *http, const struct shelly_target *t, const char *method,
    const char *path, const char *body, shelly_cb cb, void *arg)
{
	return op_send(http, t, OP_RAW, method, path, body, NULL, cb, arg);
}

uint64_t
shelly_action(struct http *http, const struct shelly_target *t, const struct action *a,
    shelly_cb cb, void *arg)
{
	struct action_http ah;
	char *cause = NULL;
	uint64_t id;

	if (action_request(t->gen == 1 ? 1 : 2, a, &ah, &cause) != 0) {
		/* An invalid action never reaches the network (see the header). */
		struct shelly_reply r;
		memset(&r, 0, sizeof r);
		r.result = HTTP_ERROR;
		r.cause = cause;
		cb(&r, arg);
		free(cause);
		return 0;
	}
	id = op_send(http, t, OP_ACTION, ah.method, ah.path, ah.body, a, cb, arg);
	action_http_done(&ah);
	return id;
}
