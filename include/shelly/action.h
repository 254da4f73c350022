#ifndef SHELLY_ACTION_H
#define SHELLY_ACTION_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Device actions (switch, cover, light, reboot, firmware) as pure functions: build the HTTP
 * request for a generation, and read the device's reply into a typed result. No I/O here; the
 * engine sends the request and hands the reply back.
 *
 * Gen1: GET endpoints with query parameters (/relay/N?turn=on, /roller/N?go=open, /light/N,
 * /color/N, /white/N, /reboot, /ota). Gen2 and later: POST /rpc/<Method> with the params object
 * as JSON body (Switch.Set, Cover.Open, Light.Set, Shelly.Update, ...).
 */

/*
 * The action table: X(enum suffix, name, help text, needs a channel id, needs a value 0-100).
 * Names are what key bindings, the agent API and --list-actions use.
 */
#define ACTIONS(X)                                                                                 \
	X(SWITCH_ON, "switch_on", "Turn an output (relay/switch) on", true, false)                \
	X(SWITCH_OFF, "switch_off", "Turn an output (relay/switch) off", true, false)             \
	X(SWITCH_TOGGLE, "switch_toggle", "Toggle an output (relay/switch)", true, false)         \
	X(COVER_OPEN, "cover_open", "Open a cover (roller shutter)", true, false)                 \
	X(COVER_CLOSE, "cover_close", "Close a cover (roller shutter)", true, false)              \
	X(COVER_STOP, "cover_stop", "Stop a moving cover", true, false)                           \
	X(COVER_POSITION, "cover_position", "Move a cover to a position (0-100 %, 100 = open)",   \
	    true, true)                                                                            \
	X(LIGHT_ON, "light_on", "Turn a light on", true, false)                                   \
	X(LIGHT_OFF, "light_off", "Turn a light off", true, false)                                \
	X(LIGHT_TOGGLE, "light_toggle", "Toggle a light", true, false)                            \
	X(LIGHT_BRIGHTNESS, "light_brightness", "Set a light's brightness (0-100 %, 0 = off)",    \
	    true, true)                                                                            \
	X(REBOOT, "reboot", "Restart the device", false, false)                                   \
	X(FW_CHECK, "fw_check", "Ask the device whether a firmware update is available", false,   \
	    false)                                                                                 \
	X(FW_UPDATE, "fw_update", "Install the latest stable firmware", false, false)             \
	X(FW_UPDATE_BETA, "fw_update_beta", "Install the latest beta firmware", false, false)

enum action_kind {
#define ACTION_ENUM(id, name, help, needs_id, needs_value) ACTION_##id,
	ACTIONS(ACTION_ENUM)
#undef ACTION_ENUM
	ACTION__COUNT
};

/* Range of action values (cover position, brightness) and of channel ids. */
#define ACTION_VALUE_MIN 0
#define ACTION_VALUE_MAX 100
#define ACTION_ID_MAX 255

struct action_info {
	enum action_kind kind;
	const char *name;	/* "switch_on" */
	const char *help;	/* one line for the help screen */
	bool needs_id;		/* addresses one channel (relay/cover/light N) */
	bool needs_value;	/* takes a value ACTION_VALUE_MIN..ACTION_VALUE_MAX */
};

/*
 * Which light API an action addresses. Gen1 RGBW2 and bulbs have /color/N in colour mode (the
 * brightness is `gain`) and /white/N in white mode; dimmers, Duo and Vintage have /light/N.
 * Gen2+ have Light, RGB, RGBW and CCT components with the same Set/Toggle methods.
 */
enum action_light {
	ACTION_LIGHT_PLAIN = 0,	/* Gen1 /light/N;  Gen2+ Light.* */
	ACTION_LIGHT_COLOR,	/* Gen1 /color/N;  Gen2+ RGB.* */
	ACTION_LIGHT_WHITE,	/* Gen1 /white/N;  Gen2+ Light.* */
	ACTION_LIGHT_RGBW,	/* Gen1 /color/N;  Gen2+ RGBW.* */
	ACTION_LIGHT_CCT,	/* Gen1 /light/N;  Gen2+ CCT.* */
	ACTION_LIGHT_RGBCCT,	/* Gen1 /light/N;  Gen2+ RGBCCT.* */
};

/* One action to perform; a value type the caller fills. */
struct action {
	enum action_kind kind;
	int id;				/* channel, when the kind needs one (0..ACTION_ID_MAX) */
	int value;			/* position or brightness, when the kind needs one */
	enum action_light light;	/* light actions only */
};

/* The HTTP request for an action. Embedded: action_request() fills it, action_http_done(). */
struct action_http {
	const char *method;		/* "GET" or "POST" (static) */
	char *path;			/* path and query, e.g. "/relay/0?turn=on" (owned) */
	char *body;			/* JSON body or NULL (owned) */
	const char *content_type;	/* "application/json" with a body, else NULL (static) */
	char rpc_method[32];		/* Gen2+: "Switch.Set" (for WebSocket frames); Gen1: "" */
};

/* Longest version string kept in a result (device strings are cut there). */
#define ACTION_VERSION_MAX 80

/* What the device's reply says. Embedded: action_parse_result() fills it, action_result_done(). */
struct action_result {
	bool ok;			/* the device did (or started) what was asked */
	bool has_output;		/* output is known from the reply */
	bool output;			/* switch/light state after the action */
	bool has_position;		/* position is known (Gen1 roller reply) */
	int position;			/* cover position 0-100 */
	bool has_brightness;		/* brightness is known */
	int brightness;			/* 0-100 */
	bool has_update_info;		/* fw_check: the reply said whether an update exists */
	bool update_available;		/* a stable update is offered */
	char new_version[ACTION_VERSION_MAX];		/* offered stable version, or "" */
	char beta_version[ACTION_VERSION_MAX];		/* offered beta version, or "" */
	char current_version[ACTION_VERSION_MAX];	/* Gen1 old_version, or "" */
	/* fw_update(_beta): no such update offered, nothing to do (ok is set: an up-to-date
	 * device is not a failure) */
	bool up_to_date;
	char *message;			/* human sentence, sanitised (owned; never NULL after 0) */
};

/* Table entry for a kind, or NULL if kind is out of range. Static. */
const struct action_info *action_info(enum action_kind kind);

/* Table entry for a name ("switch_on", case-insensitive), or NULL if unknown. Static. */
const struct action_info *action_find(const char *name);

/*
 * The Gen2+ light component types an operator names a light by ("light", "rgb", "rgbw",
 * "cct", "rgbcct", as in --channel cct:0): 0 with *out its API, or -1 for another word.
 */
int action_light_parse(const char *type, enum action_light *out);
/* The Gen2+ component type of a light API ("cct"); "light" for the Gen1-only ones. Static. */
const char *action_light_type(enum action_light light);
/* The component an action addresses ("switch", "cover", "light"); NULL for device-wide. Static. */
const char *action_component(enum action_kind kind);
/*
 * The forms of --channel that ai takes, '|'-separated, into buf: "N|switch:N", "N|cover:N",
 * for a light "N|light:N|rgb:N|rgbw:N|cct:N|rgbcct:N"; "-" for an action without a channel.
 */
void action_channel_forms(const struct action_info *ai, char *buf, size_t size);

/*
 * Builds the request for action a on a device of generation gen (1, or 2 and later for the RPC
 * API). Validates the channel id and value. Returns 0 with out filled (free with
 * action_http_done), or -1 with *cause (caller frees) and out empty.
 */
int action_request(int gen, const struct action *a, struct action_http *out, char **cause);

/* Frees what out holds and empties it. */
void action_http_done(struct action_http *out);

/*
 * Reads the device's reply to action a (HTTP status and body; body need not be NUL-terminated).
 * Gen1 replies are the relay/roller/light status object or the /ota object; Gen2+ replies are
 * the RPC result (or a whole response frame, as over WebSocket), or an RPC error object.
 * Returns 0 when the reply was understood: out->ok tells whether the device did it and
 * out->message says what happened (an RPC error or HTTP failure is ok = false, not -1).
 * Returns -1 with *cause (caller frees) when a success status carries a reply that makes no
 * sense (not JSON, wrong shape); out is then empty (ok false, message NULL).
 * Free out with action_result_done in both cases.
 */
int action_parse_result(int gen, const struct action *a, int http_status, const char *body,
    size_t len, struct action_result *out, char **cause);

/* Frees what out holds and empties it. */
void action_result_done(struct action_result *out);

#endif
