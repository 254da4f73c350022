/*
 * The agent's work (see agent/agent.h). It is a sequence of steps, each one request (or one
 * radio call) at a time: the agent's loop is turned until the step completes (the nm radio
 * turns it too while nmcli runs), and while a task runs a timer sends heartbeats on the side,
 * so that the manager keeps the task's lease through joins that take seconds.
 */
#include "agent/agent.h"

#include "agent/wifi.h"
#include "model/devconfig.h"
#include "net/http.h"
#include "provision/agentmsg.h"
#include "provision/taskq.h"
#include "shelly/client.h"
#include "shelly/sta.h"
#include "util/dirs.h"
#include "util/hostport.h"
#include "util/json.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AGENT_TOKEN_MAX 128
#define AGENT_REFUSED "token refused: agent revoked or unknown; enrol again"

struct agent {
	struct loop *loop;
	struct http *http;
	struct wifi *wifi;
	struct agent_opts opts;
	char *manager_at; /* agent_manager_at, for messages */
	char token[AGENT_TOKEN_MAX];
	int stop;
	struct loop_timer *wait_timer;
	int waited;
	int no_retry; /* the current task failed in a way a retry cannot mend */
	struct loop_timer *beat_timer; /* heartbeats while a task runs */
	int64_t beat_task;             /* the task they name */
	int task_lost;                 /* the manager says the task is no longer this agent's */
	int refused_said;              /* AGENT_REFUSED was logged (once until a call works) */
	char beat_body[64];            /* a heartbeat's body, alive while it is sent */
	int beat_inflight;
	const char *dev_pass; /* the task's device password, for a device with auth on already */
};

/* One request's outcome, filled by the completion callbacks. */
struct agent_res {
	int done;
	enum http_result result;
	long status;
	char *body;
	size_t body_len;
	char *cause;
	struct device_ident ident;
	int has_ident;
};

static void
res_done(struct agent_res *r)
{
	free(r->body);
	free(r->cause);
	memset(r, 0, sizeof *r);
}

/* Ends a reply that carried secrets (a token, credentials) and the message parsed from it. */
static void
res_wipe(struct agent_res *r, struct agentmsg *m)
{
	agentmsg_clear(m);
	free(m);
	if (r->body != NULL)
		explicit_bzero(r->body, r->body_len);
	res_done(r);
}

static void
wait_for(struct agent *a, const int *done)
{
	while (!*done)
		if (loop_run_once(a->loop, -1) < 0)
			break;
}

static void
api_cb(const struct http_response *resp, void *arg)
{
	struct agent_res *r = arg;

	r->result = resp->result;
	r->status = resp->status;
	r->body = xmalloc(resp->body_len + 1);
	memcpy(r->body, resp->body, resp->body_len + 1);
	r->body_len = resp->body_len;
	r->cause = xstrdup(resp->cause);
	r->done = 1;
}

/* A POST of body to the manager's path. */
static void
api_request(struct agent *a, struct http_request *req, const char *path, const char *body)
{
	memset(req, 0, sizeof *req);
	req->method = HTTP_POST;
	req->host = a->opts.manager_host;
	req->port = a->opts.manager_port;
	req->https = a->opts.manager_https;
	req->tls = HTTP_TLS_VERIFY; /* the manager's certificate is always verified */
	req->ca_file = a->opts.ca_file;
	req->path = path;
	req->body = body;
	req->body_len = strlen(body);
	req->lane = "manager";
	req->lane_limit = 1;
	req->timeout_ms = a->opts.timeout_ms;
	req->max_body = AGENTMSG_MAX_BODY;
	if (a->token[0] != '\0') {
		req->auth = HTTP_AUTH_BEARER;
		req->password = a->token;
	}
}

/* POSTs body to the manager's path; returns the HTTP status (0: no answer, *r says why). */
static long
api_post(struct agent *a, const char *path, const char *body, struct agent_res *r)
{
	struct http_request req;

	memset(r, 0, sizeof *r);
	api_request(a, &req, path, body);
	http_send(a->http, &req, api_cb, r);
	wait_for(a, &r->done);
	return r->result == HTTP_OK || r->result == HTTP_STATUS ? r->status : 0;
}

/* 1 when the manager refused the bearer token (401): revoked, or never registered there. */
static int
refused_401(enum http_result result, long status)
{
	return (result == HTTP_AUTH_REQUIRED || result == HTTP_AUTH_FAILED) && status == 401;
}

static int
token_refused(const struct agent_res *r)
{
	return refused_401(r->result, r->status);
}

/* 1 when a heartbeat reply lists task among the tasks the agent no longer holds ("lost"). */
static int
beat_lost(const char *body, size_t len, int64_t task)
{
	cJSON *o = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *it, *lost = cJSON_GetObjectItemCaseSensitive(o, "lost");
	int found = 0;

	cJSON_ArrayForEach(it, lost)
		found |= cJSON_IsNumber(it) && (int64_t)it->valuedouble == task;
	cJSON_Delete(o);
	return found;
}

/*
 * Heartbeats while a task runs: the radio and the device take seconds per step, and the
 * manager must not take the task back meanwhile. Sent on the side, never waited for; a reply
 * that names the task lost stops the work on it.
 */
static void
beat_done_cb(const struct http_response *resp, void *arg)
{
	struct agent *a = arg;

	a->beat_inflight = 0;
	if (refused_401(resp->result, resp->status) && !a->task_lost) {
		log_warn(
		    "task %lld: token refused (agent revoked?); stopping", (long long)a->beat_task);
		a->task_lost = 1;
		return;
	}
	if (resp->result != HTTP_OK) {
		log_warn("heartbeat during the task not answered (%s)", resp->cause);
		return;
	}
	if (!a->task_lost && beat_lost(resp->body, resp->body_len, a->beat_task)) {
		log_warn("task %lld: the manager no longer gives it to this agent; stopping",
		    (long long)a->beat_task);
		a->task_lost = 1;
	}
}

static void
beat_cb(void *arg)
{
	struct agent *a = arg;
	struct http_request req;

	if (!a->beat_inflight) {
		snprintf(a->beat_body, sizeof a->beat_body, "{\"tasks\":[%lld]}",
		    (long long)a->beat_task);
		api_request(a, &req, "/api/v1/heartbeat", a->beat_body);
		a->beat_inflight = 1;
		http_send(a->http, &req, beat_done_cb, a);
	}
	loop_timer_arm(a->beat_timer, a->opts.poll_ms);
}

/*
 * Starts the heartbeats naming task, or stops them (task 0); a stop waits for one in flight.
 * Only the tasks a heartbeat names keep their lease: after a restart this agent names none
 * of what it held before, and the manager takes those back.
 */
static void
beat(struct agent *a, int64_t task)
{
	a->beat_task = task;
	if (task != 0) {
		loop_timer_arm(a->beat_timer, a->opts.poll_ms);
		return;
	}
	loop_timer_disarm(a->beat_timer);
	while (a->beat_inflight)
		if (loop_run_once(a->loop, -1) < 0)
			break;
}

/* ---- registration ---------------------------------------------------------------------- */

static int
read_small_file(const char *path, char *buf, size_t size, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/*
 * The token file is made (new, empty, mode 0600, as PATH.tmp beside it) before the one-time
 * enrolment secret is spent: an agent that could not keep its token would have used the
 * secret for nothing. PATH is the token file, or the target of a symbolic link there (kept,
 * as --export -o keeps it). Returns the open descriptor with *target and *tmp (caller frees
 * both), or -1 with *cause.
 */
static int
token_file_open(const char *path, char **target, char **tmp, char **cause)
{
	struct stat st;
	char *why = NULL;
	int fd = -1;

	*tmp = NULL;
	if ((*target = dirs_file_target(path, &st, &why)) == NULL) {
		*cause = xasprintf("cannot save a token, not registering: %s",
		    why != NULL ? why : "not a regular file");
		free(why);
		return -1;
	}
	*tmp = xasprintf("%s.tmp", *target);
	/* Made new: a file already there (left over, or someone else's) would keep its owner and
	 * mode, and the token would be written into it. */
	if (unlink(*tmp) != 0 && errno != ENOENT)
		fd = -1;
	else
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*cause = xasprintf("cannot save a token, not registering: %s: %s", *tmp, strerror(errno));
		free(*tmp);
		free(*target);
		*tmp = *target = NULL;
	}
	return fd;
}

/* Writes token into fd (from token_file_open) and moves it to path; or removes it. */
static int
token_file_done(int fd, char *tmp, const char *path, const char *token, char **cause)
{
	size_t len = token != NULL ? strlen(token) : 0;
	int rc = -1;

	if (token == NULL)
		rc = -1;
	else if (write(fd, token, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
	else if (rename(tmp, path) != 0)
		*cause = xasprintf("%s: %s", path, strerror(errno));
	else
		rc = 0;
	close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* The reason the server gave in an error reply ({"error": "..."}), sanitised, or NULL. */
static char *
server_reason(const struct agent_res *r)
{
	cJSON *o = r->body != NULL ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	char *why = cJSON_IsString(e) && e->valuestring[0] != '\0'
	                ? str_sanitize(e->valuestring, 200)
	                : NULL;

	cJSON_Delete(o);
	return why;
}

/*
 * Registers with the enrolment secret and keeps the token, unless a token is kept already
 * (fresh: register anyway, replacing it, after the manager refused it). 0 or -1.
 */
static int
do_register(struct agent *a, int fresh, char **cause)
{
	char secret[AGENT_TOKEN_MAX], *body, *tmp, *target, *why;
	struct agent_res r;
	struct agentmsg *m;
	cJSON *o;
	long st;
	int rc = -1, fd;

	if (!fresh && read_small_file(a->opts.token_file, a->token, sizeof a->token, cause) == 0 &&
	    a->token[0] != '\0')
		return 0;
	free(*cause);
	*cause = NULL;
	a->token[0] = '\0';
	if (a->opts.secret_file == NULL) {
		*cause = xasprintf(
		    "not registered yet (%s) and no --enrol-secret-file", a->opts.token_file);
		return -1;
	}
	if (read_small_file(a->opts.secret_file, secret, sizeof secret, cause) != 0)
		return -1;
	if ((fd = token_file_open(a->opts.token_file, &target, &tmp, cause)) < 0) {
		explicit_bzero(secret, sizeof secret);
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "secret", secret);
	cJSON_AddStringToObject(o, "name", a->opts.name);
	body = json_compact_free(o);
	explicit_bzero(secret, sizeof secret);
	st = api_post(a, "/api/v1/register", body, &r);
	str_free_secret(body);
	if (st == 0 && (r.result == HTTP_AUTH_REQUIRED || r.result == HTTP_AUTH_FAILED) && r.status > 0)
		st = r.status; /* a 401: the manager's reply says why */
	m = xcalloc(1, sizeof *m);
	why = st != 200 && st != 0 ? server_reason(&r) : NULL;
	if (st != 200 && st != 0)
		*cause = why != NULL ? xasprintf("registration failed: HTTP %ld: %s", st, why)
		                     : xasprintf("registration failed: HTTP %ld", st);
	else if (st == 0)
		*cause = xasprintf("registration failed: %s", r.cause);
	free(why);
	if (st == 200 && agentmsg_parse(AGENTMSG_REGISTERED, r.body, r.body_len, m, cause) == 0) {
		snprintf(a->token, sizeof a->token, "%s", m->token);
		rc = token_file_done(fd, tmp, target, a->token, cause);
		if (rc == 0)
			log_info("registered as %s", m->agent);
	} else
		token_file_done(fd, tmp, target, NULL, cause);
	free(target);
	res_wipe(&r, m);
	return rc;
}

/* ---- the device ------------------------------------------------------------------------ */

static void
dev_cb(const struct shelly_reply *reply, void *arg)
{
	struct agent_res *r = arg;

	r->result = reply->result;
	r->status = reply->http_status;
	r->cause = xstrdup(reply->cause);
	if (reply->ident != NULL) {
		r->ident = *reply->ident;
		r->has_ident = 1;
	}
	r->done = 1;
}

static void
dev_target(struct agent *a, struct shelly_target *t, int gen)
{
	memset(t, 0, sizeof *t);
	t->host = a->opts.device_host;
	t->gen = gen;
	t->lane = "device";
	t->timeout_ms = a->opts.timeout_ms;
	t->connect_timeout_ms = a->opts.timeout_ms;
	if (a->dev_pass != NULL) {
		t->user = SHELLY_STA_USER;
		t->password = a->dev_pass;
	}
}

/* Identifies the device on its AP; 0 with *ident, or -1 with *why. */
static int
dev_identify(struct agent *a, struct device_ident *ident, char **why)
{
	struct shelly_target t;
	struct agent_res r;
	int rc = -1;

	for (int tries = 0; tries < 5 && rc != 0 && !a->stop && !a->task_lost; tries++) {
		memset(&r, 0, sizeof r);
		dev_target(a, &t, 0);
		shelly_identify(a->http, &t, dev_cb, &r);
		wait_for(a, &r.done);
		if (r.result == HTTP_OK && r.has_ident && r.ident.mac[0] != '\0') {
			*ident = r.ident;
			rc = 0;
		} else {
			free(*why);
			*why = xasprintf("no device at %s: %s", a->opts.device_host, r.cause);
		}
		res_done(&r);
	}
	return rc;
}

/*
 * 1 when result says the request went out but no reply came: the connection dropped or the
 * time ran out. A device taking the station network (the last request) often switches before
 * it replies, so that says nothing about whether it took it; a refusal (an HTTP or RPC error)
 * does.
 */
static int
sent_unconfirmed(enum http_result result)
{
	return result == HTTP_RESET || result == HTTP_TIMEOUT || result == HTTP_TRUNCATED;
}

static int
dev_configure(
    struct agent *a, const struct agentmsg *task, const struct device_ident *ident, char **why)
{
	struct shelly_sta sta = {.ssid = task->network,
	    .key = task->key,
	    .name = task->name[0] ? task->name : NULL,
	    .password = task->password[0] ? task->password : NULL,
	    .realm = ident->id};
	struct shelly_sta_req reqs[SHELLY_STA_MAX_REQS];
	struct shelly_target t;
	size_t n;
	int rc = 0;

	if (shelly_sta_requests(ident->gen, &sta, reqs, &n, why) != 0)
		return -1;
	dev_target(a, &t, ident->gen);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct agent_res r = {0};

		shelly_request(a->http, &t, reqs[i].method, reqs[i].path, reqs[i].body, dev_cb, &r);
		wait_for(a, &r.done);
		if (r.result == HTTP_AUTH_REQUIRED || r.result == HTTP_AUTH_FAILED) {
			*why = xasprintf("device refused the password: %s", r.cause);
			a->no_retry = 1; /* the same password would be refused again */
			rc = -1;
		} else if (i + 1 == n && sent_unconfirmed(r.result)) {
			log_warn("task %lld: no reply to the station network request (%s): the device "
			         "may be joining %s already; the manager's verifier decides",
			    (long long)task->task, r.cause, task->network);
		} else if (r.result != HTTP_OK) {
			*why = xasprintf("device refused the configuration: %s", r.cause);
			rc = -1;
		} else if (reqs[i].auth_after) {
			t.user = SHELLY_STA_USER;
			t.password = sta.password;
		}
		res_done(&r);
	}
	shelly_sta_free(reqs, n);
	return rc;
}

static int report(
    struct agent *a, int64_t task, const char *stage, const char *mac, struct agentmsg *m);

/* Appends "FIELD: why" for every field request i of changes carries to *fails. */
static void
fields_failed(struct strbuf *fails, const struct devconfig *changes,
    const struct devconfig_request *req, const char *why)
{
	char name[96];

	for (size_t k = 0; k < req->nfields; k++) {
		const struct devconfig_entry *e = &changes->e[req->fields[k]];

		strbuf_appendf(fails, "%s%s: %s", fails->len ? "; " : "",
		    devconfig_name(e->field, e->index, name, sizeof name), why);
	}
}

/*
 * Keeps the fields of tmpl this generation can set from the device's AP into *out, and names
 * the others in *fails: the station network and the AP are the provisioning's own.
 */
static void
template_settable(
    const struct devconfig *rendered, int gen, struct devconfig *out, struct strbuf *fails)
{
	char name[96];

	devconfig_init(out);
	for (size_t i = 0; i < rendered->n; i++) {
		const struct devconfig_entry *e = &rendered->e[i];
		const char *nm = devconfig_name(e->field, e->index, name, sizeof name);

		if (strncmp(nm, "wifi.sta.", 9) == 0 || strncmp(nm, "wifi.ap.", 8) == 0)
			strbuf_appendf(fails, "%s%s: set by the provisioning, not a template",
			    fails->len ? "; " : "", nm);
		else if (!devconfig_field_gen(e->field, gen))
			strbuf_appendf(
			    fails, "%s%s: not settable on Gen%d", fails->len ? "; " : "", nm, gen);
		else
			devconfig_set(out, e->field, e->index, e->state, e->value);
	}
}

/*
 * Applies the task's template (resolved by the manager) to the device on its AP, before the
 * station network is set. Every field that fails is named in *why; returns 0 or -1.
 */
static int
dev_template(
    struct agent *a, const struct agentmsg *task, const struct device_ident *ident, char **why)
{
	struct devconfig_vars vars = {
	    .name = task->name[0] ? task->name : NULL, .id = ident->id, .mac = ident->mac};
	struct devconfig rendered, changes;
	struct devconfig_request *reqs = NULL;
	struct agentmsg progress;
	struct shelly_target t;
	struct strbuf fails;
	char *cause = NULL;
	size_t n = 0;

	if (task->config.n == 0)
		return 0;
	if (report(a, task->task, "template", NULL, &progress) != 0)
		log_warn("task %lld: stage template not recorded", (long long)task->task);
	if (devconfig_render(&task->config, &vars, &rendered, &cause) != 0) {
		*why = xasprintf("template: %s", cause);
		free(cause);
		return -1;
	}
	strbuf_init(&fails);
	template_settable(&rendered, ident->gen, &changes, &fails);
	agentmsg_config_free(&rendered);
	if (changes.n > 0 && devconfig_requests(ident->gen, &changes, &reqs, &n, &cause) != 0) {
		strbuf_appendf(&fails, "%s%s", fails.len ? "; " : "", cause);
		free(cause);
	}
	dev_target(a, &t, ident->gen);
	for (size_t i = 0; i < n; i++) {
		struct agent_res r = {0};

		shelly_request(a->http, &t, reqs[i].method, reqs[i].path, reqs[i].body, dev_cb, &r);
		wait_for(a, &r.done);
		if (r.result != HTTP_OK)
			fields_failed(&fails, &changes, &reqs[i], r.cause);
		res_done(&r);
		explicit_bzero(reqs[i].path, strlen(reqs[i].path));
		if (reqs[i].body != NULL)
			explicit_bzero(reqs[i].body, strlen(reqs[i].body));
	}
	devconfig_requests_free(reqs, n);
	agentmsg_config_free(&changes);
	if (fails.len == 0) {
		strbuf_done(&fails);
		log_info("task %lld: template applied", (long long)task->task);
		return 0;
	}
	*why = xasprintf("template: %s", strbuf_str(&fails));
	strbuf_done(&fails);
	return -1;
}

/* ---- manager calls --------------------------------------------------------------------- */

/* Reports progress; returns the task's state parsed into *m (0), or -1. */
static int
report(struct agent *a, int64_t task, const char *stage, const char *mac, struct agentmsg *m)
{
	struct agent_res r;
	char *body, *cause = NULL;
	cJSON *o = cJSON_CreateObject();
	int rc = -1;
	long st;

	cJSON_AddNumberToObject(o, "task", (double)task);
	cJSON_AddStringToObject(o, "stage", stage);
	if (mac != NULL)
		cJSON_AddStringToObject(o, "mac", mac);
	body = json_compact_free(o);
	st = api_post(a, "/api/v1/progress", body, &r);
	if (st == 200 && agentmsg_parse(AGENTMSG_STATE, r.body, r.body_len, m, &cause) == 0)
		rc = 0;
	else if (st == 409 || token_refused(&r)) {
		log_warn("task %lld: %s; stopping", (long long)task,
		    st == 409 ? "the manager no longer gives it to this agent"
		              : "token refused (agent revoked?)");
		a->task_lost = 1;
	} else
		log_warn("task %lld: progress %s not accepted (%s)", (long long)task, stage,
		    cause != NULL ? cause : r.cause);
	free(cause);
	free(body);
	res_done(&r);
	return rc;
}

static void
fail_task(struct agent *a, int64_t task, const char *reason, int retry)
{
	struct agent_res r;
	char *body, cut[AGENTMSG_TEXT_MAX + 1];
	cJSON *o = cJSON_CreateObject();

	snprintf(cut, sizeof cut, "%s", reason); /* the manager takes no longer reason */
	cJSON_AddNumberToObject(o, "task", (double)task);
	cJSON_AddStringToObject(o, "reason", cut);
	cJSON_AddBoolToObject(o, "retry", retry);
	body = json_compact_free(o);
	log_warn("task %lld: %s", (long long)task, reason);
	if (api_post(a, "/api/v1/result", body, &r) != 200)
		log_warn("task %lld: result not accepted (%s)", (long long)task, r.cause);
	free(body);
	res_done(&r);
}

static void
waited_cb(void *arg)
{
	((struct agent *)arg)->waited = 1;
}

static void
pause_ms(struct agent *a, uint64_t ms)
{
	a->waited = 0;
	loop_timer_arm(a->wait_timer, ms);
	while (!a->waited && !a->stop)
		if (loop_run_once(a->loop, -1) < 0)
			break;
	loop_timer_disarm(a->wait_timer);
}

/* 1 when an access point named ssid is in range. */
static int
ap_in_range(struct agent *a, const char *ssid)
{
	struct wifi_ap *aps = NULL;
	char *cause = NULL;
	size_t n = 0;
	int found = 0;

	if (wifi_scan(a->wifi, &aps, &n, &cause) != 0) {
		log_warn("scan: %s", cause);
		free(cause);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		found |= strcmp(aps[i].ssid, ssid) == 0;
	free(aps);
	return found;
}

/* Whether an access point's SSID names the device of a MAC target (its suffix, all 12 or the
 * last 6 digits). */
static int
ssid_has_mac(const char *ssid, const char *mac)
{
	const char *dash = strrchr(ssid, '-');

	return taskq_ssid_is_shelly(ssid) && dash != NULL &&
	    (strcasecmp(dash + 1, mac) == 0 || strcasecmp(dash + 1, mac + 6) == 0);
}

/*
 * The AP SSID of a target: the one in range whose suffix is the MAC, or for an SSID the one in
 * range spelled as typed, else one that differs only in case (the manager matched the task to
 * this agent so; the radio joins an SSID only as the AP spells it: "shellyplus1pm-4417..." is
 * "ShellyPlus1PM-4417..."). Returns -1 when the scan does not see it: the AP went out of range
 * since the scan the manager matched the task by, and trying costs the task an attempt. When
 * the scan itself fails, an SSID is tried as typed.
 */
static int
target_ssid(struct agent *a, const char *target, char *ssid, size_t size)
{
	struct wifi_ap *aps = NULL;
	char mac[13], *cause = NULL;
	int by_mac = str_mac_normalise(target, mac) == 0, found = 0;
	size_t n = 0;

	snprintf(ssid, size, "%s", target);
	if (wifi_scan(a->wifi, &aps, &n, &cause) != 0) {
		free(cause);
		return by_mac ? -1 : 0;
	}
	for (size_t i = 0; i < n && found < 2; i++) {
		if (by_mac ? !ssid_has_mac(aps[i].ssid, mac) : strcasecmp(aps[i].ssid, target) != 0)
			continue;
		if (!found || strcmp(aps[i].ssid, target) == 0)
			snprintf(ssid, size, "%s", aps[i].ssid);
		found = by_mac || strcmp(aps[i].ssid, target) == 0 ? 2 : 1;
	}
	free(aps);
	return found ? 0 : -1;
}

/* ---- one task -------------------------------------------------------------------------- */

/* On the device's AP: identify and configure. Returns 0 with mac and *gen, or -1 with *why. */
static int
on_ap(struct agent *a, const struct agentmsg *task, const char *ssid, char mac[13], int *gen,
    char **why)
{
	struct device_ident ident;
	char want[13];

	if (wifi_join(a->wifi, ssid, why) != 0)
		return -1;
	log_info("task %lld: joined %s", (long long)task->task, ssid);
	if (dev_identify(a, &ident, why) != 0)
		return -1;
	if (str_mac_normalise(task->target, want) == 0 && strcmp(want, ident.mac) != 0) {
		*why = xasprintf(
		    "the device at %s is %s, not %s", a->opts.device_host, ident.mac, want);
		return -1;
	}
	log_info("task %lld: %s (Gen%d, %s) found", (long long)task->task, ident.mac, ident.gen,
	    ident.model);
	if (ident.auth_en == 1 && task->password[0] == '\0') {
		*why = xstrdup("the device has a password already (auth on): queue the task with "
		               "that password (--password-file) or factory-reset the device");
		a->no_retry = 1;
		return -1;
	}
	a->dev_pass = ident.auth_en == 1 ? task->password : NULL;
	if (a->task_lost) /* heard on the AP (a second radio): the device is left as it was */
		return -1;
	if (dev_template(a, task, &ident, why) != 0) {
		a->no_retry = 1; /* the same template would fail the same way */
		return -1;
	}
	if (a->task_lost)
		return -1;
	if (dev_configure(a, task, &ident, why) != 0)
		return -1;
	memcpy(mac, ident.mac, 13);
	*gen = ident.gen;
	return 0;
}

/*
 * Why a configured device of generation gen was not seen, by whether its access point is in
 * range again. Gen1 turns its AP off once it joins as a station, so an AP shown again means
 * it went back to it: usually a wrong key. A Gen2+ device keeps its AP on after joining (with
 * --ap-off until the manager saw it on the network, shelly/sta.h), so there it tells nothing.
 */
static char *
not_seen_reason(const struct agentmsg *task, int gen, int ap_in_range)
{
	if (!ap_in_range)
		return xstrdup("failed: lost");
	if (gen == 1)
		return xasprintf("failed: not seen on %s, AP back", task->network);
	return xasprintf("failed: not seen on %s (a Gen2+ device keeps its AP on until it is seen "
	                 "there, so that says nothing about the key)",
	    task->network);
}

/*
 * Waits for the manager's verdict on a configured task. Only the verdict "not seen" makes the
 * agent look for the AP and fail the task; when --verify-wait runs out first, the manager's
 * verifier (whose verify-timeout may be longer, for large ranges) still decides it.
 */
static void
await_verdict(struct agent *a, const struct agentmsg *task, const char *ssid, int gen)
{
	struct agentmsg m;
	uint64_t waited = 0;
	int not_seen = 0;
	char *reason;

	while (!a->stop && !a->task_lost && !not_seen && waited <= a->opts.verify_wait_ms) {
		if (report(a, task->task, "waiting", NULL, &m) == 0) {
			if (strcmp(m.state, "verifying") != 0) {
				log_info("task %lld: %s", (long long)task->task, m.state);
				return;
			}
			not_seen = strcmp(m.stage, TASKQ_STAGE_NOT_SEEN) == 0;
			if (not_seen)
				break;
		}
		pause_ms(a, a->opts.poll_ms);
		waited += a->opts.poll_ms;
	}
	if (a->stop || a->task_lost)
		return;
	if (!not_seen) {
		log_warn(
		    "task %lld: no verdict within --verify-wait; the manager's verifier decides",
		    (long long)task->task);
		return;
	}
	reason = not_seen_reason(task, gen, ap_in_range(a, ssid));
	fail_task(a, task->task, reason, 0);
	free(reason);
}

/*
 * Reports the device configured. The device has left its AP for the target network, so this
 * report is the task's only way forward: while the manager does not answer (a restart) it is
 * sent again every --poll, for at most --verify-wait. Returns 0 with the reply in *m, or -1.
 */
static int
report_configured(struct agent *a, int64_t task, const char *mac, struct agentmsg *m)
{
	uint64_t waited = 0;

	while (report(a, task, "configured", mac, m) != 0) {
		if (a->stop || a->task_lost || waited >= a->opts.verify_wait_ms)
			return -1;
		pause_ms(a, a->opts.poll_ms);
		waited += a->opts.poll_ms;
	}
	return 0;
}

/*
 * Back on the host's network after the device's AP: whether the manager still gives task to
 * this agent (a heartbeat naming it). On a one-radio host nothing from the manager reached
 * the agent on the AP, so a cancel, a revocation or a lease that ran out is heard only now.
 */
static void
check_still_ours(struct agent *a, int64_t task)
{
	struct agent_res r;
	char body[64];

	if (a->task_lost)
		return;
	snprintf(body, sizeof body, "{\"tasks\":[%lld]}", (long long)task);
	if (api_post(a, "/api/v1/heartbeat", body, &r) == 200 ? beat_lost(r.body, r.body_len, task)
	                                                      : token_refused(&r))
		a->task_lost = 1;
	res_done(&r);
}

/*
 * The device of task is configured: the manager must hear it, also when it took the task back
 * meanwhile (its lease ran out: taskq_progress keeps the report). A task that ended meanwhile
 * (cancelled, or the agent revoked) stays ended: the operator is told which device is on the
 * network now, not verified, and the agent does not wait for a verdict.
 */
static void
configured(struct agent *a, const struct agentmsg *task, const char *ssid, const char *mac, int gen)
{
	struct agentmsg m;

	a->task_lost = 0;
	if (report_configured(a, task->task, mac, &m) != 0) {
		if (a->task_lost)
			log_warn("task %lld: device %s is configured for %s, but the task is no "
			         "longer this agent's: not verified",
			    (long long)task->task, mac, task->network);
		return;
	}
	if (strcmp(m.state, "verifying") != 0) {
		log_warn("task %lld: %s while this agent was on the device's access point: device "
		         "%s is configured for %s already, not verified",
		    (long long)task->task, m.state, mac, task->network);
		return;
	}
	await_verdict(a, task, ssid, gen);
}

/*
 * Works task; returns 0 when it could not begin because its access point went out of range
 * since the scan (the manager requeues it without counting the attempt), else 1.
 */
static int
run_task(struct agent *a, const struct agentmsg *task)
{
	char ssid[33], mac[13], *why = NULL, *home, *cause = NULL;
	struct agentmsg m;
	int ok, gen = 0;

	log_info("task %lld: %s -> %s (attempt %d)", (long long)task->task, task->target,
	    task->network, task->attempt);
	if (target_ssid(a, task->target, ssid, sizeof ssid) != 0) {
		fail_task(a, task->task, "access point not in range", 1);
		return 0;
	}
	if (report(a, task->task, "running", NULL, &m) != 0 || strcmp(m.state, "running") != 0) {
		log_warn(
		    "task %lld: no longer ours (cancelled?), not started", (long long)task->task);
		return 1;
	}
	a->task_lost = 0;
	beat(a, task->task);
	home = wifi_current(a->wifi);
	a->no_retry = 0;
	ok = on_ap(a, task, ssid, mac, &gen, &why) == 0;
	a->dev_pass = NULL;
	if (wifi_leave(a->wifi, &cause) != 0) {
		log_warn("leaving %s: %s", ssid, cause);
		free(cause);
		cause = NULL;
	}
	if (home != NULL && wifi_restore(a->wifi, home, &cause) != 0) {
		log_error("restoring the host's connection %s: %s", home, cause);
		free(cause);
	}
	free(home);
	beat(a, 0);
	check_still_ours(a, task->task);
	if (a->task_lost && !ok) {
		log_info("task %lld: no longer this agent's (cancelled, revoked or taken back while "
		         "it was on the device's access point): nothing reported",
		    (long long)task->task);
		free(why);
		return 1;
	}
	if (!ok) {
		char *reason = xasprintf("failed: %s", why != NULL ? why : "interrupted");

		fail_task(a, task->task, reason, !a->no_retry);
		free(reason);
		free(why);
		return 1;
	}
	configured(a, task, ssid, mac, gen);
	return 1;
}

/* ---- the rounds ------------------------------------------------------------------------ */

static void
report_aps(struct agent *a)
{
	struct wifi_ap *aps = NULL;
	struct agent_res r;
	char *cause = NULL, *body;
	cJSON *o, *arr;
	size_t n = 0;

	if (wifi_scan(a->wifi, &aps, &n, &cause) != 0) {
		log_warn("scan: %s", cause);
		free(cause);
		return;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "aps");
	for (size_t i = 0, k = 0; i < n && k < AGENTMSG_MAX_APS; i++) {
		cJSON *ap;

		if (!taskq_ssid_is_shelly(aps[i].ssid))
			continue;
		ap = cJSON_CreateObject();
		cJSON_AddStringToObject(ap, "ssid", aps[i].ssid);
		cJSON_AddItemToArray(arr, ap);
		k++;
	}
	free(aps);
	body = json_compact_free(o);
	if (api_post(a, "/api/v1/aps", body, &r) != 200)
		log_warn("access points not reported (%s)", r.cause);
	free(body);
	res_done(&r);
}

/*
 * One round: heartbeat, scan, claim, and the task if one came. Returns 1 if a task ran, 0 if
 * none did (or its access point was gone: the next round waits --poll), -1 if the manager
 * did not answer the heartbeat, -2 if the claim reply could not be read (the task it names
 * is reported failed), -3 if the manager refused the token; all but -3 logged.
 */
static int
round_once(struct agent *a)
{
	struct agent_res r;
	struct agentmsg *m;
	char *cause = NULL;
	long st;
	int ran = 0;

	st = api_post(a, "/api/v1/heartbeat", "{\"tasks\":[]}", &r);
	if (st == 0 && token_refused(&r)) {
		res_done(&r);
		return -3;
	}
	if (st == 0)
		log_warn("manager %s not answering heartbeats (%s)", a->manager_at,
		    r.cause != NULL ? r.cause : "no answer");
	else if (st != 200)
		log_warn("manager %s refused a heartbeat: HTTP %ld", a->manager_at, st);
	res_done(&r);
	if (st != 200)
		return -1;
	a->refused_said = 0;
	report_aps(a);
	st = api_post(a, "/api/v1/claim", "{}", &r);
	m = xcalloc(1, sizeof *m);
	if (st == 200 && agentmsg_parse(AGENTMSG_TASK, r.body, r.body_len, m, &cause) == 0) {
		ran = run_task(a, m);
	} else if (st == 200) {
		log_error("claim reply: %s", cause);
		if (m->task > 0) { /* claimed but unusable: say so, or it waits out its lease */
			char *reason = xasprintf("failed: agent cannot read the task: %s", cause);

			fail_task(a, m->task, reason, 0);
			free(reason);
		}
		free(cause);
		ran = -2;
	} else if (st != 204) {
		char *why = st != 0 ? server_reason(&r) : NULL;

		log_warn("claim not answered (%s)", why != NULL ? why : r.cause);
		free(why);
	}
	res_wipe(&r, m);
	return ran;
}

char *
agent_manager_at(const struct agent_opts *o)
{
	return hostport_format(o->manager_host, o->manager_port, o->manager_https ? "https" : "http");
}

struct agent *
agent_new(struct loop *loop, struct http *http, struct wifi *wifi, const struct agent_opts *opts)
{
	struct agent *a = xcalloc(1, sizeof *a);

	a->loop = loop;
	a->http = http;
	a->wifi = wifi;
	a->opts = *opts;
	a->manager_at = agent_manager_at(opts);
	a->wait_timer = loop_timer_new(loop, waited_cb, a);
	a->beat_timer = loop_timer_new(loop, beat_cb, a);
	wifi_set_loop(wifi, loop);
	return a;
}

void
agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	beat(a, 0);
	loop_timer_free(a->beat_timer);
	loop_timer_free(a->wait_timer);
	free(a->manager_at);
	explicit_bzero(a->token, sizeof a->token);
	free(a);
}

void
agent_stop(struct agent *a)
{
	a->stop = 1;
}

/*
 * The manager refused the token (-3 from round_once): said once; with an enrolment secret the
 * agent registers again and replaces its token file. Returns 0 to go on (registered again,
 * or waiting for an operator without a secret), -1 with *cause to stop.
 */
static int
refused(struct agent *a, char **cause)
{
	char *why = NULL;

	if (!a->refused_said)
		log_error("manager %s: " AGENT_REFUSED, a->manager_at);
	a->refused_said = 1;
	if (a->opts.secret_file == NULL) {
		if (a->opts.once)
			*cause = xstrdup(AGENT_REFUSED " (--enrol-secret-file)");
		return a->opts.once ? -1 : 0;
	}
	log_info("registering again with %s", a->opts.secret_file);
	if (do_register(a, 1, &why) == 0)
		return 0;
	*cause = xasprintf(AGENT_REFUSED "; registering again failed: %s", why);
	free(why);
	return -1;
}

int
agent_run(struct agent *a, char **cause)
{
	if (do_register(a, 0, cause) != 0)
		return -1;
	while (!a->stop) {
		int ran = round_once(a);

		if (ran == -3) {
			if (refused(a, cause) != 0)
				return -1;
			if (a->opts.secret_file == NULL) /* else registered again: go on at once */
				pause_ms(a, a->opts.poll_ms);
			continue;
		}

		if (a->opts.once && ran < 0) {
			*cause = xstrdup(ran == -2 ? "--once: the claimed task could not be read"
			                           : "--once: the manager did not answer");
			return -1;
		}
		if (a->opts.once)
			break;
		if (ran <= 0)
			pause_ms(a, a->opts.poll_ms);
	}
	return 0;
}
