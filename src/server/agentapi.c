/*
 * Agent API handlers (see server/agentapi.h). A request goes: method and path routed by
 * httpd, then the bearer token (except register), then the body parsed strictly, and only
 * then a store change through provision/taskq. Replies are small JSON objects.
 */
#include "server/agentapi.h"

#include "provision/agentmsg.h"
#include "provision/task.h"
#include "server/httpd.h"
#include "store/taskstore.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define AGENTAPI_JSON "application/json"

struct agentapi {
	struct store *store;
	struct agentapi_opts opts;
};

typedef void (*agentapi_call_cb)(
    struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply);

static void
reply_json(struct httpd_reply *reply, int status, cJSON *o)
{
	reply->status = status;
	reply->content_type = AGENTAPI_JSON;
	reply->body = json_compact_free(o);
	reply->body_len = strlen(reply->body);
}

static void
reply_error(struct httpd_reply *reply, int status, const char *what)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", what);
	reply_json(reply, status, o);
}

/* Wipes every string of a JSON tree (a claim reply holds the WiFi key) before it is freed. */
static void
json_wipe(cJSON *o)
{
	for (cJSON *it = o; it != NULL; it = it->next) {
		if (it->valuestring != NULL)
			explicit_bzero(it->valuestring, strlen(it->valuestring));
		json_wipe(it->child);
	}
}

/*
 * The claim reply: printed into one buffer of the agent's size limit (no reallocation leaves
 * copies behind), the tree wiped, and the body wiped again once microhttpd has sent it.
 */
static void
reply_secret(struct httpd_reply *reply, cJSON *o)
{
	char *buf = xmalloc(AGENTMSG_MAX_BODY);

	if (cJSON_PrintPreallocated(o, buf, AGENTMSG_MAX_BODY, 0)) {
		reply->status = 200;
		reply->content_type = AGENTAPI_JSON;
		reply->body = buf;
		reply->body_len = strlen(buf);
		reply->wipe = 1;
	} else {
		explicit_bzero(buf, AGENTMSG_MAX_BODY);
		free(buf);
		reply_error(reply, 500, "claim reply too large");
	}
	json_wipe(o);
	cJSON_Delete(o);
}

static void
reply_state(struct httpd_reply *reply, const char *state, const char *stage)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "state", state);
	if (stage != NULL)
		cJSON_AddStringToObject(o, "stage", stage);
	reply_json(reply, 200, o);
}

/* The agent a request's bearer token belongs to (caller frees), or NULL. */
static char *
bearer_agent(struct agentapi *api, const struct httpd_request *req)
{
	const char *h = httpd_request_header(req, "Authorization");

	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	return taskq_agent(api->store, h + 7);
}

static void
store_failed(struct httpd_reply *reply, const char *what, char *cause)
{
	log_error("agent API %s: %s", what, cause);
	free(cause);
	reply_error(reply, 500, "store error");
}

/*
 * Answers a task step that the store refused: rc -1 (failed, cause taken) or 0 (the task is
 * not this agent's). Returns 1 when it answered, 0 when rc says the step was taken.
 */
static int
step_refused(struct httpd_reply *reply, int rc, const char *what, char *cause)
{
	if (rc < 0) {
		store_failed(reply, what, cause);
		return 1;
	}
	if (rc == 0) {
		reply_error(reply, 409, "not your task");
		return 1;
	}
	return 0;
}

static void
do_register(
    struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply)
{
	char *id = NULL, *token = NULL, *cause = NULL;
	int rc;
	cJSON *o;

	(void)agent;
	rc =
	    taskq_register(api->store, m->secret, m->name, api->opts.now_ms(), &id, &token, &cause);
	if (rc < 0) {
		store_failed(reply, "register", cause);
		return;
	}
	if (rc == 0) {
		log_warn("agent API: registration refused (unknown, used or expired secret)");
		reply_error(reply, 401, "enrolment secret unknown, used or expired");
		return;
	}
	log_info("agent %s (%s) registered", id, m->name);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "agent", id);
	cJSON_AddStringToObject(o, "token", token);
	str_free_secret(token);
	free(id);
	reply_secret(reply, o);
}

/*
 * The handler renewed the leases of the tasks the heartbeat names already; a named task the
 * agent no longer holds (requeued, revoked, cancelled, ended) is listed in "lost", so that
 * the agent stops working on it.
 */
static void
do_heartbeat(
    struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply)
{
	cJSON *o = cJSON_CreateObject(), *lost = NULL;

	cJSON_AddStringToObject(o, "state", "ok");
	for (size_t i = 0; m->has_tasks && i < m->ntasks; i++) {
		if (taskq_holds(api->store, agent, m->tasks[i]))
			continue;
		if (lost == NULL)
			lost = cJSON_AddArrayToObject(o, "lost");
		cJSON_AddItemToArray(lost, cJSON_CreateNumber((double)m->tasks[i]));
	}
	reply_json(reply, 200, o);
}

static void
do_aps(struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply)
{
	int64_t now = api->opts.now_ms();
	char *cause = NULL;

	for (size_t i = 0; i < m->naps; i++) {
		if (store_ap_seen(api->store, m->aps[i].ssid, agent, m->aps[i].rssi, now, &cause) !=
		    0) {
			store_failed(reply, "aps", cause);
			return;
		}
	}
	reply_state(reply, "ok", NULL);
}

/*
 * The template of a claimed task resolved into *c. When it cannot be read the task fails
 * (a retry would not help) and -1 is returned.
 */
static int
claim_template(
    struct agentapi *api, const char *agent, const struct store_task *t, struct devconfig *c)
{
	const char *state = NULL;
	char *cause = NULL, *reason, *why = NULL;

	devconfig_init(c);
	if (t->template_name == NULL || api->opts.load_template == NULL)
		return 0;
	if (api->opts.load_template(t->template_name, c, &cause) == 0) {
		if (c->n <= AGENTMSG_MAX_FIELDS)
			return 0;
		agentmsg_config_free(c);
		cause = xasprintf("more than %d fields", AGENTMSG_MAX_FIELDS);
	}
	reason = xasprintf("failed: template %s: %s", t->template_name, cause);
	free(cause);
	if (taskq_fail(api->store, agent, t->id, reason, 0, api->opts.now_ms(), &state, &why) < 0) {
		log_error("agent API claim: %s", why);
		free(why);
	}
	log_warn("task %lld: %s", (long long)t->id, reason);
	free(reason);
	return -1;
}

/* The claimed task failed: the manager cannot read its key or password file (cause taken). */
static void
claim_unreadable(struct httpd_reply *reply, int64_t id, char *cause)
{
	char *what;

	log_error("task %lld: %s", (long long)id, cause);
	what = xasprintf("task %lld %s", (long long)id, cause);
	reply_error(reply, 409, what);
	free(what);
	free(cause);
}

static void
do_claim(
    struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply)
{
	struct store_task *t = NULL;
	struct taskq_secrets sec;
	struct devconfig config;
	char *cause = NULL;
	cJSON *o, *task;
	int64_t failed = 0;
	int rc;

	(void)m;
	rc = taskq_claim(api->store, agent, api->opts.now_ms(), api->opts.lease_ms,
	    api->opts.read_secret, &t, &sec, &failed, &cause);
	if (rc == 1 && claim_template(api, agent, t, &config) != 0) {
		store_task_free(t);
		reply->status = 204;
	} else if (rc == 1) {
		log_info("task %lld (%s) claimed by %s", (long long)t->id, t->target, agent);
		o = cJSON_CreateObject();
		task = cJSON_AddObjectToObject(o, "task");
		cJSON_AddNumberToObject(task, "id", (double)t->id);
		cJSON_AddStringToObject(task, "target", t->target);
		cJSON_AddStringToObject(task, "network", t->network);
		if (sec.key != NULL)
			cJSON_AddStringToObject(task, "key", sec.key);
		if (sec.password != NULL)
			cJSON_AddStringToObject(task, "password", sec.password);
		if (t->name != NULL)
			cJSON_AddStringToObject(task, "name", t->name);
		cJSON_AddBoolToObject(task, "ap_off", t->ap_off);
		cJSON_AddNumberToObject(task, "attempt", t->attempts);
		agentmsg_config_add(task, &config);
		agentmsg_config_free(&config);
		store_task_free(t);
		reply_secret(reply, o);
	} else if (rc == 0)
		reply->status = 204;
	else if (rc == -2)
		claim_unreadable(reply, failed, cause);
	else
		store_failed(reply, "claim", cause);
	api->opts.free_secret(sec.key);
	api->opts.free_secret(sec.password);
}

static void
do_progress(
    struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply)
{
	const char *state = NULL;
	char *cause = NULL;
	struct store_task *t;
	int rc;

	if (strcmp(m->stage, "configured") == 0 && m->mac[0] == '\0') {
		reply_error(reply, 400, "stage configured needs the device's MAC");
		return;
	}
	rc = taskq_progress(api->store, agent, m->task, m->stage, m->mac[0] ? m->mac : NULL,
	    api->opts.now_ms(), &state, &cause);
	if (rc == -2) {
		reply_error(reply, 400, cause);
		free(cause);
		return;
	}
	if (step_refused(reply, rc, "progress", cause))
		return;
	t = store_task_get(api->store, m->task);
	reply_state(reply, state, t != NULL ? t->stage : NULL);
	store_task_free(t);
}

static void
do_result(
    struct agentapi *api, const char *agent, const struct agentmsg *m, struct httpd_reply *reply)
{
	const char *state = NULL;
	char *cause = NULL;
	int rc = taskq_fail(
	    api->store, agent, m->task, m->reason, m->retry, api->opts.now_ms(), &state, &cause);

	if (step_refused(reply, rc, "result", cause))
		return;
	log_info("task %lld: %s (%s)", (long long)m->task, state, m->reason);
	reply_state(reply, state, NULL);
}

struct agentapi_route {
	const char *path;
	enum agentmsg_kind kind;
	agentapi_call_cb call;
};

static const struct agentapi_route routes[] = {
    {"/api/v1/register", AGENTMSG_REGISTER, do_register},
    {"/api/v1/heartbeat", AGENTMSG_HEARTBEAT, do_heartbeat},
    {"/api/v1/aps", AGENTMSG_APS, do_aps},
    {"/api/v1/claim", AGENTMSG_CLAIM, do_claim},
    {"/api/v1/progress", AGENTMSG_PROGRESS, do_progress},
    {"/api/v1/result", AGENTMSG_RESULT, do_result},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/*
 * Any authenticated call proves the agent alive. Leases are renewed only for the tasks it
 * names: those of a heartbeat's list (all of them for a list-less heartbeat of an older
 * agent), the one task of a progress or result. A task it does not name runs out.
 */
static int
alive(struct agentapi *api, const char *agent, const struct agentmsg *m, char **cause)
{
	const int64_t *tasks = NULL;
	int n = 0;

	if (m->kind == AGENTMSG_HEARTBEAT) {
		tasks = m->tasks;
		n = m->has_tasks ? (int)m->ntasks : -1;
	} else if (m->kind == AGENTMSG_PROGRESS || m->kind == AGENTMSG_RESULT) {
		tasks = &m->task;
		n = 1;
	}
	return taskq_heartbeat(
	    api->store, agent, tasks, n, api->opts.now_ms(), api->opts.lease_ms, cause);
}

/* One handler for every route: finds the route by path, authenticates, parses, calls. */
void
agentapi_handle(struct agentapi *api, const struct httpd_request *req, struct httpd_reply *reply)
{
	const char *path = httpd_request_path(req), *body;
	const struct agentapi_route *r = NULL;
	char *agent = NULL, *cause = NULL;
	struct agentmsg *m;
	size_t len;

	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].path, path) == 0)
			r = &routes[i];
	if (r == NULL) {
		reply_error(reply, 404, "no such call");
		return;
	}
	if (r->kind != AGENTMSG_REGISTER && (agent = bearer_agent(api, req)) == NULL) {
		reply_error(reply, 401, "bearer token missing or unknown");
		httpd_reply_header(reply, "WWW-Authenticate", "Bearer");
		return;
	}
	body = httpd_request_body(req, &len);
	m = xcalloc(1, sizeof *m);
	if (agentmsg_parse(r->kind, body, len, m, &cause) != 0) {
		reply_error(reply, 400, cause);
		free(cause);
	} else {
		if (agent != NULL && alive(api, agent, m, &cause) != 0)
			log_error("agent API: %s", cause);
		free(cause);
		r->call(api, agent, m, reply);
	}
	agentmsg_clear(m);
	free(m);
	free(agent);
}

static void
agentapi_handler(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	agentapi_handle(arg, req, reply);
}

void
agentapi_route(struct httpd *httpd, httpd_handler_cb cb, void *arg)
{
	for (size_t i = 0; i < NROUTES; i++)
		httpd_route(httpd, "POST", routes[i].path, cb, arg);
}

struct agentapi *
agentapi_new(struct httpd *httpd, struct store *store, const struct agentapi_opts *opts)
{
	struct agentapi *api = xcalloc(1, sizeof *api);

	api->store = store;
	api->opts = *opts;
	if (httpd != NULL)
		agentapi_route(httpd, agentapi_handler, api);
	return api;
}

void
agentapi_set_lease(struct agentapi *api, int64_t lease_ms)
{
	api->opts.lease_ms = lease_ms;
}

void
agentapi_free(struct agentapi *api)
{
	free(api);
}
