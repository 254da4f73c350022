#include "shelly/action.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/fwver.h"
#include "shelly/rpc.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

static const struct action_info action_table[] = {
#define ACTION_ENTRY(id, name, help, needs_id, needs_value)                                        \
	{ACTION_##id, name, help, needs_id, needs_value},
	ACTIONS(ACTION_ENTRY)
#undef ACTION_ENTRY
};

/* Longest piece of device text (state words, HTTP error bodies) quoted in a message. */
#define QUOTE_MAX 120

const struct action_info *
action_info(enum action_kind kind)
{
	if ((int)kind < 0 || kind >= ACTION__COUNT)
		return NULL;
	return &action_table[kind];
}

const struct action_info *
action_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < ACTION__COUNT; i++) {
		if (strcasecmp(action_table[i].name, name) == 0)
			return &action_table[i];
	}
	return NULL;
}

/* Checks gen, kind, id, value and light; returns the table entry or NULL with *cause. */
static const struct action_info *
action_check(int gen, const struct action *a, char **cause)
{
	const struct action_info *ai;

	if (a == NULL || (ai = action_info(a->kind)) == NULL) {
		*cause = xstrdup("unknown action");
		return NULL;
	}
	if (gen < 1) {
		*cause = xasprintf("%s: unknown device generation %d", ai->name, gen);
		return NULL;
	}
	if (ai->needs_id && (a->id < 0 || a->id > ACTION_ID_MAX)) {
		*cause = xasprintf("%s: channel %d is out of range (0-%d)", ai->name, a->id,
		    ACTION_ID_MAX);
		return NULL;
	}
	if (ai->needs_value && (a->value < ACTION_VALUE_MIN || a->value > ACTION_VALUE_MAX)) {
		*cause = xasprintf("%s: %s %d is out of range (%d-%d)", ai->name,
		    a->kind == ACTION_COVER_POSITION ? "position" : "brightness", a->value,
		    ACTION_VALUE_MIN, ACTION_VALUE_MAX);
		return NULL;
	}
	if ((int)a->light < (int)ACTION_LIGHT_PLAIN || a->light > ACTION_LIGHT_RGBCCT) {
		*cause = xasprintf("%s: unknown light type %d", ai->name, (int)a->light);
		return NULL;
	}
	return ai;
}

/* Request building. */

/* Appends "?key=value" or "&key=value" to sb, both URL-encoded. */
static void
query_add(struct strbuf *sb, const char *key, const char *value)
{
	char *k = str_urlencode(key);
	char *v = str_urlencode(value);

	strbuf_append_char(sb, strchr(strbuf_str(sb), '?') == NULL ? '?' : '&');
	strbuf_append(sb, k);
	strbuf_append_char(sb, '=');
	strbuf_append(sb, v);
	free(k);
	free(v);
}

static void
query_add_int(struct strbuf *sb, const char *key, int value)
{
	char buf[16];

	snprintf(buf, sizeof buf, "%d", value);
	query_add(sb, key, buf);
}

/* Per light API (enum action_light): the Gen1 endpoint, its brightness parameter, the Gen2+
 * component namespace. */
static const struct light_api {
	const char *gen1_endpoint, *gen1_level_key, *gen2_ns;
} light_apis[] = {
	[ACTION_LIGHT_PLAIN] = {"light", "brightness", "Light"},
	[ACTION_LIGHT_COLOR] = {"color", "gain", "RGB"},
	[ACTION_LIGHT_WHITE] = {"white", "brightness", "Light"},
	[ACTION_LIGHT_RGBW] = {"color", "gain", "RGBW"},
	[ACTION_LIGHT_CCT] = {"light", "brightness", "CCT"},
	[ACTION_LIGHT_RGBCCT] = {"light", "brightness", "RGBCCT"},
};

/* The Gen2+ light component types and their APIs. */
static const struct {
	const char *type;
	enum action_light light;
} light_types[] = {
    {"light", ACTION_LIGHT_PLAIN},
    {"rgb", ACTION_LIGHT_COLOR},
    {"rgbw", ACTION_LIGHT_RGBW},
    {"cct", ACTION_LIGHT_CCT},
    {"rgbcct", ACTION_LIGHT_RGBCCT},
};

int
action_light_parse(const char *type, enum action_light *out)
{
	for (size_t i = 0; i < sizeof light_types / sizeof light_types[0]; i++)
		if (strcasecmp(type, light_types[i].type) == 0) {
			*out = light_types[i].light;
			return 0;
		}
	return -1;
}

const char *
action_component(enum action_kind kind)
{
	switch (kind) {
	case ACTION_SWITCH_ON:
	case ACTION_SWITCH_OFF:
	case ACTION_SWITCH_TOGGLE:
		return "switch";
	case ACTION_COVER_OPEN:
	case ACTION_COVER_CLOSE:
	case ACTION_COVER_STOP:
	case ACTION_COVER_POSITION:
		return "cover";
	case ACTION_LIGHT_ON:
	case ACTION_LIGHT_OFF:
	case ACTION_LIGHT_TOGGLE:
	case ACTION_LIGHT_BRIGHTNESS:
		return "light";
	default:
		return NULL;
	}
}

void
action_channel_forms(const struct action_info *ai, char *buf, size_t size)
{
	const char *comp = ai->needs_id ? action_component(ai->kind) : NULL;
	size_t n;

	if (!ai->needs_id) {
		snprintf(buf, size, "-");
		return;
	}
	if (comp == NULL || strcmp(comp, "light") != 0) {
		snprintf(buf, size, comp != NULL ? "N|%s:N" : "N", comp);
		return;
	}
	n = (size_t)snprintf(buf, size, "N");
	for (size_t i = 0; i < sizeof light_types / sizeof light_types[0] && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "|%s:N", light_types[i].type);
}

const char *
action_light_type(enum action_light light)
{
	for (size_t i = 0; i < sizeof light_types / sizeof light_types[0]; i++)
		if (light_types[i].light == light)
			return light_types[i].type;
	return "light";
}

/* The light API an action addresses; a value out of range is the plain light, as before. */
static const struct light_api *
light_api(enum action_light light)
{
	if ((unsigned int)light >= sizeof light_apis / sizeof light_apis[0])
		light = ACTION_LIGHT_PLAIN;
	return &light_apis[light];
}

/*
 * How each action goes on the wire. Gen1: GET <path>[/<id>] (NULL path: the light API's
 * endpoint) with key=value, and the action's value as value_key (NULL: the light API's level).
 * Gen2+: <ns>.<method> (NULL ns: the light API's namespace) with the id, "on" (-1: none, 2: on
 * when the value is above 0), the value as value_key, and the firmware stage.
 */
static const struct wire {
	const char *g1_path, *g1_key, *g1_value, *g1_value_key;
	const char *g2_ns, *g2_method;
	int g2_on;
	const char *g2_value_key, *g2_stage;
} wires[ACTION__COUNT] = {
    [ACTION_SWITCH_ON] = {"/relay", "turn", "on", NULL, "Switch", "Set", 1, NULL, NULL},
    [ACTION_SWITCH_OFF] = {"/relay", "turn", "off", NULL, "Switch", "Set", 0, NULL, NULL},
    [ACTION_SWITCH_TOGGLE] = {"/relay", "turn", "toggle", NULL, "Switch", "Toggle", -1, NULL, NULL},
    [ACTION_COVER_OPEN] = {"/roller", "go", "open", NULL, "Cover", "Open", -1, NULL, NULL},
    [ACTION_COVER_CLOSE] = {"/roller", "go", "close", NULL, "Cover", "Close", -1, NULL, NULL},
    [ACTION_COVER_STOP] = {"/roller", "go", "stop", NULL, "Cover", "Stop", -1, NULL, NULL},
    [ACTION_COVER_POSITION] = {"/roller", "go", "to_pos", "roller_pos", "Cover", "GoToPosition", -1,
        "pos", NULL},
    [ACTION_LIGHT_ON] = {NULL, "turn", "on", NULL, NULL, "Set", 1, NULL, NULL},
    [ACTION_LIGHT_OFF] = {NULL, "turn", "off", NULL, NULL, "Set", 0, NULL, NULL},
    [ACTION_LIGHT_TOGGLE] = {NULL, "turn", "toggle", NULL, NULL, "Toggle", -1, NULL, NULL},
    [ACTION_LIGHT_BRIGHTNESS] = {NULL, "turn", "on", NULL, NULL, "Set", 2, "brightness", NULL},
    [ACTION_REBOOT] = {"/reboot", NULL, NULL, NULL, "Shelly", "Reboot", -1, NULL, NULL},
    [ACTION_FW_CHECK] = {"/ota", NULL, NULL, NULL, "Shelly", "CheckForUpdate", -1, NULL, NULL},
    [ACTION_FW_UPDATE] = {"/ota", "update", "true", NULL, "Shelly", "Update", -1, NULL, "stable"},
    [ACTION_FW_UPDATE_BETA] = {"/ota", "beta", "true", NULL, "Shelly", "Update", -1, NULL, "beta"},
};

static void
gen1_request(const struct action *a, struct action_http *out)
{
	const struct wire *w = &wires[a->kind];
	const struct light_api *l = light_api(a->light);
	struct strbuf sb;

	strbuf_init(&sb);
	if (w->g1_path != NULL)
		strbuf_append(&sb, w->g1_path);
	else
		strbuf_appendf(&sb, "/%s", l->gen1_endpoint);
	if (action_table[a->kind].needs_id)
		strbuf_appendf(&sb, "/%d", a->id);
	if (a->kind == ACTION_LIGHT_BRIGHTNESS && a->value == 0) {
		/* Gen1 levels are 1-100: brightness 0 means off. */
		query_add(&sb, "turn", "off");
	} else {
		if (w->g1_key != NULL)
			query_add(&sb, w->g1_key, w->g1_value);
		if (action_table[a->kind].needs_value)
			query_add_int(&sb,
			    w->g1_value_key != NULL ? w->g1_value_key : l->gen1_level_key,
			    a->value);
	}
	out->method = "GET";
	out->path = strbuf_steal(&sb);
}

static void
gen2_request(const struct action *a, struct action_http *out)
{
	const struct wire *w = &wires[a->kind];
	cJSON *params = cJSON_CreateObject();
	const char *ns = w->g2_ns != NULL ? w->g2_ns : light_api(a->light)->gen2_ns;

	if (params == NULL)
		abort();
	if (action_table[a->kind].needs_id)
		cJSON_AddNumberToObject(params, "id", a->id);
	if (w->g2_on >= 0)
		cJSON_AddBoolToObject(params, "on", w->g2_on == 2 ? a->value > 0 : w->g2_on);
	if (w->g2_value_key != NULL)
		cJSON_AddNumberToObject(params, w->g2_value_key, a->value);
	if (w->g2_stage != NULL)
		cJSON_AddStringToObject(params, "stage", w->g2_stage);
	snprintf(out->rpc_method, sizeof out->rpc_method, "%s.%s", ns, w->g2_method);
	out->method = "POST";
	out->path = xasprintf("/rpc/%s", out->rpc_method);
	out->body = json_compact_free(params);
	out->content_type = "application/json";
}

int
action_request(int gen, const struct action *a, struct action_http *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (action_check(gen, a, cause) == NULL)
		return -1;
	if (gen == 1)
		gen1_request(a, out);
	else
		gen2_request(a, out);
	return 0;
}

void
action_http_done(struct action_http *out)
{
	free(out->path);
	free(out->body);
	memset(out, 0, sizeof *out);
}

/* Result parsing. */

/* Copies device text into dst[size], sanitised for the terminal and cut between characters. */
static void
copy_clean(char *dst, size_t size, const char *src)
{
	char *clean = str_sanitize(src, size - 1);

	str_copy(dst, size, clean);
	free(clean);
}

static const char *
on_off(bool on)
{
	return on ? "on" : "off";
}

/* The message for a failed HTTP exchange without an RPC error in the body. */
static char *
http_failure(int status, const char *body, size_t len)
{
	char *quoted, *msg, *text;

	if (status == 401)
		return xstrdup("HTTP 401: the device needs a password, or the one given is wrong");
	text = xstrndup(body != NULL ? body : "", body != NULL ? len : 0);
	quoted = str_sanitize(text, QUOTE_MAX);
	free(text);
	if (status < 100 || status > 599)
		msg = xasprintf("no valid HTTP status from the device (%d)", status);
	else if (quoted[0] != '\0')
		msg = xasprintf("HTTP %d from the device: %s", status, quoted);
	else if (status == 404)
		msg = xstrdup("HTTP 404: the device does not support this request");
	else
		msg = xasprintf("HTTP %d from the device", status);
	free(quoted);
	return msg;
}

static int
gen1_switch(const struct action *a, const cJSON *root, struct action_result *out, char **cause)
{
	int ison = json_get_bool(root, "ison");
	bool want = a->kind == ACTION_SWITCH_ON;

	if (ison < 0) {
		*cause = xstrdup("the relay reply has no state (ison)");
		return -1;
	}
	out->has_output = true;
	out->output = ison == 1;
	if (a->kind == ACTION_SWITCH_TOGGLE || out->output == want) {
		out->ok = true;
		out->message = xasprintf("relay %d is %s", a->id, on_off(out->output));
	} else {
		out->message = xasprintf("relay %d is still %s%s", a->id, on_off(out->output),
		    json_get_bool(root, "overpower") == 1 ? " (overpower)" : "");
	}
	return 0;
}

static int
gen1_roller(const struct action *a, const cJSON *root, struct action_result *out, char **cause)
{
	const char *state = json_get_string(root, "state");
	long long pos;
	char st[24];

	/* current_pos 101 (or absent) means "not calibrated / unknown" on old firmware. */
	if (json_get_int(root, "current_pos", 0, 100, &pos) == 0) {
		out->has_position = true;
		out->position = (int)pos;
	}
	if (state == NULL && !out->has_position) {
		*cause = xstrdup("the roller reply has no state or position");
		return -1;
	}
	copy_clean(st, sizeof st, state != NULL ? state : "?");
	out->ok = true;
	if (out->has_position)
		out->message = xasprintf("roller %d: %s, position %d%%", a->id, st, out->position);
	else
		out->message = xasprintf("roller %d: %s", a->id, st);
	return 0;
}

static int
gen1_light(const struct action *a, const cJSON *root, struct action_result *out, char **cause)
{
	const char *level_key = light_api(a->light)->gen1_level_key;
	int ison = json_get_bool(root, "ison");
	long long level;

	if (ison < 0) {
		*cause = xstrdup("the light reply has no state (ison)");
		return -1;
	}
	out->has_output = true;
	out->output = ison == 1;
	if (json_get_int(root, level_key, 0, 100, &level) == 0) {
		out->has_brightness = true;
		out->brightness = (int)level;
	}
	switch (a->kind) {
	case ACTION_LIGHT_ON:
		out->ok = out->output;
		break;
	case ACTION_LIGHT_BRIGHTNESS:
		out->ok = out->output == (a->value > 0);
		break;
	case ACTION_LIGHT_OFF:
		out->ok = !out->output;
		break;
	default:
		out->ok = true;
		break;
	}
	if (out->output && out->has_brightness)
		out->message = xasprintf("light %d is %son at %d%%", a->id, out->ok ? "" : "still ",
		    out->brightness);
	else
		out->message = xasprintf("light %d is %s%s", a->id, out->ok ? "" : "still ",
		    on_off(out->output));
	return 0;
}

/* fw_update(_beta) on a device offered no such update: done, nothing to install. */
static int
up_to_date(const struct action *a, struct action_result *out)
{
	out->ok = true;
	out->up_to_date = true;
	out->has_update_info = true;
	out->update_available = false;
	out->message = xstrdup(a->kind == ACTION_FW_UPDATE_BETA
	                           ? "no beta update available: nothing to install"
	                           : "no update available: firmware is up to date");
	return 0;
}

/*
 * Whether a Gen2+ RPC error to Shelly.Update says there is no such update (-114 unavailable:
 * "FW stage stable not found!" as devices answer, "No update info!" before a first check).
 */
static bool
gen2_no_update(const struct action *a, int code, const char *message)
{
	if ((a->kind != ACTION_FW_UPDATE && a->kind != ACTION_FW_UPDATE_BETA) || code != -114 ||
	    message == NULL)
		return false;
	return strcasestr(message, "no update info") != NULL ||
	       (strcasestr(message, "stage") != NULL && strcasestr(message, "not found") != NULL);
}

static int
gen1_ota(const struct action *a, const cJSON *root, struct action_result *out, char **cause)
{
	int has_update = json_get_bool(root, "has_update");
	char status[24], beta[ACTION_VERSION_MAX + 16] = "";

	json_get_strbuf(root, "status", status, sizeof status);
	copy_clean(status, sizeof status, status);
	copy_clean(out->new_version, sizeof out->new_version, json_get_string(root, "new_version"));
	copy_clean(out->current_version, sizeof out->current_version,
	    json_get_string(root, "old_version"));
	copy_clean(out->beta_version, sizeof out->beta_version, json_get_string(root, "beta_version"));

	if (a->kind == ACTION_FW_CHECK) {
		if (has_update < 0) {
			*cause = xstrdup("the firmware reply has no has_update");
			return -1;
		}
		out->ok = true;
		out->has_update_info = true;
		out->update_available = has_update == 1;
		/* new_version repeats the installed one when there is nothing new. */
		if (!out->update_available)
			out->new_version[0] = '\0';
		/* The beta it names may be the installed one, or older (a UNI on 20241106 rc1-6
		 * is still told of the 20231107 rc1 beta): neither is on offer. */
		if (strcmp(out->beta_version, out->current_version) == 0 ||
		    fwver_newer(out->beta_version, out->current_version) == 0)
			out->beta_version[0] = '\0';
		if (out->beta_version[0] != '\0')
			snprintf(beta, sizeof beta, ", beta: %s", out->beta_version);
		if (out->update_available)
			out->message = xasprintf("update available: %s (installed: %s%s)",
			    out->new_version[0] ? out->new_version : "?",
			    out->current_version[0] ? out->current_version : "?", beta);
		else
			out->message = xasprintf("firmware is up to date (%s%s)",
			    out->current_version[0] ? out->current_version : "?", beta);
		return 0;
	}

	/* fw_update / fw_update_beta: the device answers with the same object; "idle" means
	 * nothing is being installed (a real device says "updating" once it starts). */
	if (status[0] == '\0' && has_update < 0) {
		*cause = xstrdup("the firmware reply has no status");
		return -1;
	}
	if (strcmp(status, "idle") == 0) {
		bool is_beta = a->kind == ACTION_FW_UPDATE_BETA;
		bool offered = is_beta ? out->beta_version[0] != '\0' &&
		                             strcmp(out->beta_version, out->current_version) != 0
		                       : has_update == 1;
		if (!offered)
			return up_to_date(a, out);
		out->message = xasprintf(
		    "the %s update did not start (status: idle)", is_beta ? "beta" : "stable");
		return 0;
	}
	out->ok = true;
	out->message = xasprintf("update requested (status: %s)", status);
	return 0;
}

static int
gen1_result(const struct action *a, const cJSON *root, struct action_result *out, char **cause)
{
	if (!cJSON_IsObject(root)) {
		*cause = xstrdup("the reply is not a JSON object");
		return -1;
	}
	switch (a->kind) {
	case ACTION_SWITCH_ON:
	case ACTION_SWITCH_OFF:
	case ACTION_SWITCH_TOGGLE:
		return gen1_switch(a, root, out, cause);
	case ACTION_COVER_OPEN:
	case ACTION_COVER_CLOSE:
	case ACTION_COVER_STOP:
	case ACTION_COVER_POSITION:
		return gen1_roller(a, root, out, cause);
	case ACTION_LIGHT_ON:
	case ACTION_LIGHT_OFF:
	case ACTION_LIGHT_TOGGLE:
	case ACTION_LIGHT_BRIGHTNESS:
		return gen1_light(a, root, out, cause);
	case ACTION_REBOOT:
		if (json_get_bool(root, "ok") == 0) {
			out->message = xstrdup("the device refused to reboot");
			return 0;
		}
		out->ok = true;
		out->message = xstrdup("rebooting");
		return 0;
	case ACTION_FW_CHECK:
	case ACTION_FW_UPDATE:
	case ACTION_FW_UPDATE_BETA:
		return gen1_ota(a, root, out, cause);
	case ACTION__COUNT:
		break;
	}
	*cause = xstrdup("unknown action");
	return -1;
}

/* Version of an entry of a CheckForUpdate map ({"version": ...}); 1 if the entry exists. */
static int
gen2_update_entry(const cJSON *result, const char *stage, char *dst, size_t size)
{
	const cJSON *e = json_get_object(result, stage);

	if (e == NULL)
		return 0;
	copy_clean(dst, size, json_get_string(e, "version"));
	return 1;
}

/* Switch/Light.Set answers {"was_on": ...} or null: the new state is the requested one. */
static void
gen2_set_result(const struct action *a, const char *what, int was_on, struct action_result *out)
{
	out->has_output = true;
	out->output = a->kind == ACTION_SWITCH_ON || a->kind == ACTION_LIGHT_ON ||
	    (a->kind == ACTION_LIGHT_BRIGHTNESS && a->value > 0);
	if (a->kind == ACTION_LIGHT_BRIGHTNESS) {
		out->has_brightness = true;
		out->brightness = a->value;
		out->message = xasprintf("%s %d set to %d%%", what, a->id, a->value);
	} else if (was_on >= 0) {
		out->message = xasprintf(
		    "%s %d turned %s (was %s)", what, a->id, on_off(out->output), on_off(was_on == 1));
	} else {
		out->message = xasprintf("%s %d turned %s", what, a->id, on_off(out->output));
	}
}

/* Shelly.CheckForUpdate: {"stable": {"version": ...}, "beta": {...}}, either may be absent. */
static int
gen2_fw_check_result(const cJSON *result, struct action_result *out, char **cause)
{
	int stable, beta;

	if (!cJSON_IsObject(result)) {
		out->ok = false;
		*cause = xstrdup("the update check reply is not an object");
		return -1;
	}
	stable = gen2_update_entry(result, "stable", out->new_version, sizeof out->new_version);
	beta = gen2_update_entry(result, "beta", out->beta_version, sizeof out->beta_version);
	out->has_update_info = true;
	out->update_available = stable;
	if (stable && beta)
		out->message = xasprintf("update available: %s (beta: %s)",
		    out->new_version[0] ? out->new_version : "?",
		    out->beta_version[0] ? out->beta_version : "?");
	else if (stable)
		out->message = xasprintf(
		    "update available: %s", out->new_version[0] ? out->new_version : "?");
	else if (beta)
		out->message = xasprintf("no stable update; beta %s available",
		    out->beta_version[0] ? out->beta_version : "?");
	else
		out->message = xstrdup("no update available");
	return 0;
}

static int
gen2_result(const struct action *a, const cJSON *result, struct action_result *out, char **cause)
{
	const char *what = a->kind == ACTION_SWITCH_ON || a->kind == ACTION_SWITCH_OFF ||
			a->kind == ACTION_SWITCH_TOGGLE
		? "switch"
		: action_light_type(a->light); /* the component the request went to: rgb, cct... */
	int was_on;

	if (!cJSON_IsObject(result) && !cJSON_IsNull(result)) {
		*cause = xstrdup("the RPC result is neither an object nor null");
		return -1;
	}
	was_on = json_get_bool(result, "was_on");
	out->ok = true;
	switch (a->kind) {
	case ACTION_SWITCH_ON:
	case ACTION_SWITCH_OFF:
	case ACTION_LIGHT_ON:
	case ACTION_LIGHT_OFF:
	case ACTION_LIGHT_BRIGHTNESS:
		gen2_set_result(a, what, was_on, out);
		return 0;
	case ACTION_SWITCH_TOGGLE:
	case ACTION_LIGHT_TOGGLE:
		if (was_on >= 0) {
			out->has_output = true;
			out->output = was_on == 0;
			out->message = xasprintf("%s %d toggled, now %s", what, a->id,
			    on_off(out->output));
		} else {
			out->message = xasprintf("%s %d toggled", what, a->id);
		}
		return 0;
	case ACTION_COVER_OPEN:
		out->message = xasprintf("cover %d opening", a->id);
		return 0;
	case ACTION_COVER_CLOSE:
		out->message = xasprintf("cover %d closing", a->id);
		return 0;
	case ACTION_COVER_STOP:
		out->message = xasprintf("cover %d stopped", a->id);
		return 0;
	case ACTION_COVER_POSITION:
		out->message = xasprintf("cover %d moving to %d%%", a->id, a->value);
		return 0;
	case ACTION_REBOOT:
		out->message = xstrdup("rebooting");
		return 0;
	case ACTION_FW_CHECK:
		return gen2_fw_check_result(result, out, cause);
	case ACTION_FW_UPDATE:
		out->message = xstrdup("update to the stable firmware started");
		return 0;
	case ACTION_FW_UPDATE_BETA:
		out->message = xstrdup("update to the beta firmware started");
		return 0;
	case ACTION__COUNT:
		break;
	}
	out->ok = false;
	*cause = xstrdup("unknown action");
	return -1;
}

/*
 * Finds the RPC error in a Gen2+ reply: a frame's "error" member, or a bare {"code","message"}
 * object. Returns 1 and sets *code / *message (sanitised, owned by the caller) if there is one.
 */
static int
gen2_error(const cJSON *root, int *code, char **message)
{
	const cJSON *err = json_get(root, "error");
	long long c;

	if (!cJSON_IsObject(root))
		return 0;
	if (err == NULL) {
		/* A bare error object has exactly the members code and message. */
		if (json_get(root, "result") != NULL || !cJSON_IsNumber(json_get(root, "code")) ||
		    !cJSON_IsString(json_get(root, "message")) || cJSON_GetArraySize(root) != 2)
			return 0;
		err = root;
	}
	if (!cJSON_IsObject(err) || !cJSON_IsNumber(json_get(err, "code")) ||
	    json_get_int(err, "code", -2147483647LL - 1, 2147483647LL, &c) != 0)
		return 0;
	*code = (int)c;
	*message = str_sanitize(json_get_string(err, "message"), 0);
	return 1;
}

/* Unwraps a response frame ({"id", "src", "result"}) to its result; other replies are results. */
static const cJSON *
gen2_unwrap(const cJSON *root)
{
	const cJSON *result = json_get(root, "result");

	if (result != NULL && (json_get(root, "id") != NULL || json_get(root, "src") != NULL ||
				  json_get(root, "dst") != NULL))
		return result;
	return root;
}

int
action_parse_result(int gen, const struct action *a, int http_status, const char *body, size_t len,
    struct action_result *out, char **cause)
{
	cJSON *root = NULL;
	char *jcause = NULL, *emsg = NULL;
	int code, rc;

	memset(out, 0, sizeof *out);
	if (action_check(gen, a, cause) == NULL)
		return -1;
	if (body == NULL)
		len = 0;

	if (len > 0)
		root = json_parse(body, len, 0, &jcause);

	/* An RPC error object wins over the HTTP status (over HTTP it comes with a non-2xx). */
	if (gen >= 2 && root != NULL && gen2_error(root, &code, &emsg)) {
		if (gen2_no_update(a, code, emsg))
			(void)up_to_date(a, out);
		else
			out->message = rpc_error_describe(code, emsg);
		free(emsg);
		cJSON_Delete(root);
		free(jcause);
		return 0;
	}
	if (http_status < 200 || http_status > 299) {
		out->message = http_failure(http_status, body, len);
		cJSON_Delete(root);
		free(jcause);
		return 0;
	}
	if (len == 0 && gen == 1 && a->kind == ACTION_REBOOT) {
		/* Some firmware closes the connection with an empty 200 when rebooting. */
		out->ok = true;
		out->message = xstrdup("rebooting");
		return 0;
	}
	if (root == NULL) {
		*cause = len == 0 ? xstrdup("empty reply from the device")
				  : xasprintf("the reply is not valid JSON: %s", jcause ? jcause : "?");
		free(jcause);
		return -1;
	}
	free(jcause);

	if (gen == 1)
		rc = gen1_result(a, root, out, cause);
	else
		rc = gen2_result(a, gen2_unwrap(root), out, cause);
	cJSON_Delete(root);
	if (rc != 0)
		action_result_done(out);
	return rc;
}

void
action_result_done(struct action_result *out)
{
	free(out->message);
	memset(out, 0, sizeof *out);
}
