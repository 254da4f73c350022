/*
 * Strict parsing of agent API bodies (see provision/agentmsg.h). Every member is looked up
 * by name, checked for its JSON type and bounds, and copied; the cJSON tree never leaves
 * agentmsg_parse. Unknown members are ignored (newer peers may send more).
 */
#include "provision/agentmsg.h"

#include "shelly/sta.h"

#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[AGENTMSG_KIND_COUNT] = {
#define AGENTMSG_NAME(id, name) name,
    AGENTMSG_KINDS(AGENTMSG_NAME)
#undef AGENTMSG_NAME
};

const char *
agentmsg_kind_name(enum agentmsg_kind kind)
{
	return str_table_name(kind_names, AGENTMSG_KIND_COUNT, (int)kind);
}

/* Character classes of string members. */
enum cls { C_PRINT, C_HEX, C_WORD, C_TEXT };

static int
cls_ok(const char *s, enum cls c)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		int ok;

		switch (c) {
		case C_HEX:
			ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
			break;
		case C_WORD:
			ok = (*p >= 'a' && *p <= 'z') || *p == '_';
			break;
		case C_PRINT:
			ok = *p >= 0x20 && *p < 0x7f;
			break;
		default:
			ok = 1; /* C_TEXT: sanitised by the caller */
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* Copies member key (a string of 1..size-1 bytes of class c) into dst. */
static int
get_str(
    const cJSON *o, const char *key, char *dst, size_t size, int required, enum cls c, char **cause)
{
	const cJSON *it = json_get(o, key);
	const char *s;

	dst[0] = '\0';
	if (it == NULL || cJSON_IsNull(it)) {
		if (!required)
			return 0;
		*cause = xasprintf("missing \"%s\"", key);
		return -1;
	}
	s = json_string(it);
	if (s == NULL) {
		*cause = xasprintf("\"%s\" must be a string", key);
		return -1;
	}
	if (strlen(s) >= size || (required && *s == '\0')) {
		*cause = xasprintf("\"%s\" must be 1 to %zu bytes", key, size - 1);
		return -1;
	}
	if (!cls_ok(s, c)) {
		*cause = xasprintf("\"%s\" has characters that are not allowed", key);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int
get_int(const cJSON *o, const char *key, long long lo, long long hi, long long *out, int required,
    char **cause)
{
	const cJSON *it = json_get(o, key);

	if (it == NULL && !required)
		return 0;
	if (it == NULL || !cJSON_IsNumber(it) || json_int(it, lo, hi, out) != 0) {
		*cause = xasprintf("\"%s\" must be an integer %lld..%lld", key, lo, hi);
		return -1;
	}
	return 0;
}

static int
get_bool(const cJSON *o, const char *key, int *out, char **cause)
{
	const cJSON *it = json_get(o, key);

	*out = 0;
	if (it == NULL)
		return 0;
	if (!cJSON_IsBool(it)) {
		*cause = xasprintf("\"%s\" must be true or false", key);
		return -1;
	}
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 0;
}

/* A heartbeat's optional "tasks": the ids of the tasks the agent is working on. */
static int
parse_tasks(const cJSON *o, struct agentmsg *m, char **cause)
{
	const cJSON *arr = json_get(o, "tasks"), *it;
	long long id;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr)) {
		*cause = xstrdup("\"tasks\" must be an array");
		return -1;
	}
	m->has_tasks = 1;
	cJSON_ArrayForEach(it, arr)
	{
		if (m->ntasks == AGENTMSG_MAX_TASKS) {
			*cause = xasprintf("more than %d tasks", AGENTMSG_MAX_TASKS);
			return -1;
		}
		if (!cJSON_IsNumber(it) || json_int(it, 1, INT64_MAX, &id) != 0) {
			*cause = xstrdup("a task in \"tasks\" must be an integer id");
			return -1;
		}
		m->tasks[m->ntasks++] = id;
	}
	return 0;
}

static int
parse_aps(const cJSON *o, struct agentmsg *m, char **cause)
{
	const cJSON *arr = json_get(o, "aps"), *it;

	if (!cJSON_IsArray(arr)) {
		*cause = xstrdup("\"aps\" must be an array");
		return -1;
	}
	cJSON_ArrayForEach(it, arr)
	{
		struct agentmsg_ap *ap;
		long long rssi = 0;

		if (m->naps == AGENTMSG_MAX_APS) {
			*cause = xasprintf("more than %d access points", AGENTMSG_MAX_APS);
			return -1;
		}
		if (!cJSON_IsObject(it)) {
			*cause = xstrdup("an access point must be an object");
			return -1;
		}
		ap = &m->aps[m->naps];
		if (get_str(it, "ssid", ap->ssid, sizeof ap->ssid, 1, C_PRINT, cause) != 0 ||
		    get_int(it, "rssi", -127, 0, &rssi, 0, cause) != 0)
			return -1;
		ap->rssi = (int)rssi;
		m->naps++;
	}
	return 0;
}

static int
parse_config(const cJSON *o, struct agentmsg *m, char **cause)
{
	const cJSON *cfg = json_get(o, "config"), *it;
	size_t n = 0;

	if (cfg == NULL || cJSON_IsNull(cfg))
		return 0;
	if (!cJSON_IsObject(cfg)) {
		*cause = xstrdup("\"config\" must be an object");
		return -1;
	}
	cJSON_ArrayForEach(it, cfg)
	{
		const char *v = json_string(it); /* NULL for a null: the field is cleared */
		char *why = NULL;

		if (++n > AGENTMSG_MAX_FIELDS) {
			*cause =
			    xasprintf("\"config\" has more than %d fields", AGENTMSG_MAX_FIELDS);
			return -1;
		}
		if ((v == NULL && !cJSON_IsNull(it)) || it->string == NULL) {
			*cause = xstrdup("\"config\" values must be strings or null");
			return -1;
		}
		if (devconfig_template_set(&m->config, it->string, v, &why) != 0) {
			*cause = xasprintf("\"config\": %s", why);
			free(why);
			return -1;
		}
	}
	return 0;
}

void
agentmsg_config_add(cJSON *task, const struct devconfig *c)
{
	cJSON *o;
	char name[96];

	if (c->n == 0)
		return;
	o = cJSON_AddObjectToObject(task, "config");
	/*
	 * A null stays a null (cleared: a Gen2+ JSON null, a Gen1 empty parameter, as
	 * devconfig_requests builds them); "" would set an empty string, or fail for a number.
	 */
	for (size_t i = 0; i < c->n; i++) {
		devconfig_name(c->e[i].field, c->e[i].index, name, sizeof name);
		if (c->e[i].state == DEVCONFIG_VALUE)
			cJSON_AddStringToObject(o, name, c->e[i].value);
		else if (c->e[i].state == DEVCONFIG_NULL)
			cJSON_AddNullToObject(o, name);
	}
}

static int
parse_task(const cJSON *root, struct agentmsg *m, char **cause)
{
	const cJSON *o = json_get_object(root, "task");
	long long id = 0, attempt = 0;

	if (o == NULL) {
		*cause = xstrdup("\"task\" must be an object");
		return -1;
	}
	if (get_int(o, "id", 1, INT64_MAX, &id, 1, cause) != 0)
		return -1;
	m->task = id; /* kept when the rest is refused: the agent reports that task failed */
	if (get_str(o, "target", m->target, sizeof m->target, 1, C_PRINT, cause) != 0 ||
	    get_str(o, "network", m->network, sizeof m->network, 1, C_TEXT, cause) != 0 ||
	    get_str(o, "key", m->key, sizeof m->key, 0, C_PRINT, cause) != 0 ||
	    get_str(o, "name", m->name, sizeof m->name, 0, C_TEXT, cause) != 0 ||
	    get_str(o, "password", m->password, sizeof m->password, 0, C_PRINT, cause) != 0 ||
	    get_bool(o, "ap_off", &m->ap_off, cause) != 0 ||
	    get_int(o, "attempt", 0, 1000, &attempt, 0, cause) != 0 ||
	    parse_config(o, m, cause) != 0)
		return -1;
	/* the same check as the manager's when it queued the task (shelly/sta.h) */
	if (shelly_sta_ssid_check(m->network, cause) != 0 ||
	    (m->name[0] != '\0' && shelly_sta_name_check(m->name, cause) != 0))
		return -1;
	m->attempt = (int)attempt;
	return 0;
}

static int
parse_kind(const cJSON *o, struct agentmsg *m, char **cause)
{
	long long id = 0;
	char *clean;

	switch (m->kind) {
	case AGENTMSG_REGISTER:
		return get_str(o, "secret", m->secret, sizeof m->secret, 1, C_HEX, cause) != 0 ||
		               get_str(o, "name", m->name, sizeof m->name, 1, C_PRINT, cause) != 0
		           ? -1
		           : 0;
	case AGENTMSG_HEARTBEAT:
		return parse_tasks(o, m, cause);
	case AGENTMSG_CLAIM:
		return 0;
	case AGENTMSG_APS:
		return parse_aps(o, m, cause);
	case AGENTMSG_PROGRESS:
		if (get_int(o, "task", 1, INT64_MAX, &id, 1, cause) != 0 ||
		    get_str(o, "stage", m->stage, sizeof m->stage, 1, C_WORD, cause) != 0 ||
		    get_str(o, "mac", m->mac, sizeof m->mac, 0, C_PRINT, cause) != 0)
			return -1;
		if (m->mac[0] != '\0') {
			char norm[13];

			if (str_mac_normalise(m->mac, norm) != 0) {
				*cause = xstrdup("\"mac\" is not a MAC address");
				return -1;
			}
			memcpy(m->mac, norm, sizeof norm);
		}
		m->task = id;
		return 0;
	case AGENTMSG_RESULT:
		if (get_int(o, "task", 1, INT64_MAX, &id, 1, cause) != 0 ||
		    get_str(o, "reason", m->reason, sizeof m->reason, 1, C_TEXT, cause) != 0 ||
		    get_bool(o, "retry", &m->retry, cause) != 0)
			return -1;
		clean = str_sanitize(m->reason, AGENTMSG_TEXT_MAX);
		str_copy(m->reason, sizeof m->reason, clean);
		free(clean);
		m->task = id;
		return 0;
	case AGENTMSG_REGISTERED:
		return get_str(o, "agent", m->agent, sizeof m->agent, 1, C_PRINT, cause) != 0 ||
		               get_str(o, "token", m->token, sizeof m->token, 1, C_HEX, cause) != 0
		           ? -1
		           : 0;
	case AGENTMSG_TASK:
		return parse_task(o, m, cause);
	case AGENTMSG_STATE:
		return get_str(o, "state", m->state, sizeof m->state, 1, C_WORD, cause) != 0 ||
		               get_str(o, "stage", m->stage, sizeof m->stage, 0, C_WORD, cause) != 0
		           ? -1
		           : 0;
	default:
		*cause = xstrdup("unknown message kind");
		return -1;
	}
}

int
agentmsg_parse(
    enum agentmsg_kind kind, const char *body, size_t len, struct agentmsg *out, char **cause)
{
	cJSON *root;
	char *why = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	out->kind = kind;
	if (len > AGENTMSG_MAX_BODY) {
		*cause =
		    xasprintf("%s body over %d bytes", agentmsg_kind_name(kind), AGENTMSG_MAX_BODY);
		return -1;
	}
	if (len == 0 && (kind == AGENTMSG_HEARTBEAT || kind == AGENTMSG_CLAIM))
		return 0;
	root = json_parse(body, len, AGENTMSG_MAX_DEPTH, &why);
	if (root == NULL) {
		*cause = xasprintf("%s body: %s", agentmsg_kind_name(kind), why);
		free(why);
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		*cause = xasprintf("%s body: not a JSON object", agentmsg_kind_name(kind));
		return -1;
	}
	rc = parse_kind(root, out, &why);
	cJSON_Delete(root);
	if (rc != 0) {
		*cause = xasprintf("%s body: %s", agentmsg_kind_name(kind), why);
		free(why);
		agentmsg_clear(out);
	}
	return rc;
}

void
agentmsg_clear(struct agentmsg *m)
{
	explicit_bzero(m->key, sizeof m->key);
	explicit_bzero(m->password, sizeof m->password);
	explicit_bzero(m->secret, sizeof m->secret);
	explicit_bzero(m->token, sizeof m->token);
	agentmsg_config_free(&m->config);
}

void
agentmsg_config_free(struct devconfig *c)
{
	devconfig_wipe(c);
}
