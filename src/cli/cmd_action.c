/*
 * --action ACTION TARGET...: one device action (shelly/action.h) on each TARGET, all at once
 * through the app's HTTP client (its lanes keep the per-device limits), results printed per
 * device in the order given; --list-actions prints the action table.
 *
 * Each TARGET is a registered device (MAC, id or name; the database is read when it exists,
 * never created) or HOST[:PORT]. Every target is identified first (GET /shelly, without
 * credentials): a registered device must show its registered MAC, and credentials (stored,
 * configured or from the command line) go only to the MAC they belong to. The action's
 * channel and value are checked before anything is sent.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "cli/print.h"
#include "shelly/action.h"
#include "shelly/client.h"
#include "shelly/models.h"
#include "shelly/rpc.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "util/json.h"

/* Longest device text (ids, messages) kept in a result line. */
#define ACT_TEXT_MAX 200

struct act_run;

/* One TARGET of the run and what became of it. */
struct act_dev {
	struct act_run *run;
	const char *arg; /* the TARGET as given (argv) */
	struct store_device *reg; /* the registered device, or NULL */
	struct store_device *known; /* registered at this host (TLS pin only), or NULL */
	char *host;
	struct shelly_target t;
	char *user;
	char *password; /* a secret: conf_secret_free */
	struct device_ident ident;
	int have_ident;
	struct action a;
	/* Outcome. */
	int done;
	enum http_result result;
	char *error; /* sanitised; NULL when ok */
	struct action_result ar; /* the device's answer (message owned) */
	int have_ar;
};

struct act_run {
	struct app *app;
	const struct action_info *ai;
	struct action base; /* kind, channel, value; light is per device */
	struct act_dev *devs;
	size_t n, ndone;
	int done;
	/* The command line's password, asked for once (it may prompt). */
	int cli_pw_asked;
	char *cli_pw;
	char *cli_pw_cause;
};

int
cli_list_actions(struct app *app)
{
	(void)app;
	for (int k = 0; k < ACTION__COUNT; k++) {
		const struct action_info *ai = action_info((enum action_kind)k);
		const char *needs = ai->needs_id && ai->needs_value ? "channel,value"
		                    : ai->needs_id                  ? "channel"
		                    : ai->needs_value               ? "value"
		                                                    : "-";
		printf("%-18s %-14s %s\n", ai->name, needs, ai->help);
	}
	return EXIT_OK;
}

/* Parses an integer option in [lo, hi]; 0, or -1 with a usage message printed. */
static int
int_option(const struct app *app, enum cli_option opt, long lo, long hi, int *out)
{
	const char *s = app->args.val[opt];
	char *end;
	long v;

	errno = 0;
	v = s != NULL ? strtol(s, &end, 10) : 0;
	if (s == NULL || s[0] == '\0' || errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "shelly-tui: --%s wants a whole number %ld-%ld, not '",
		    cli_option_name(opt), lo, hi);
		print_safe(stderr, s);
		fputs("'\n", stderr);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Checks the action, its channel and value against the table. Returns 0 or EXIT_USAGE. */
static int
parse_action(struct act_run *run)
{
	struct app *app = run->app;
	const struct action_info *ai = action_find(app->args.mode_arg);

	if (ai == NULL) {
		fputs("shelly-tui: --action: unknown action '", stderr);
		print_safe(stderr, app->args.mode_arg);
		fputs("' (see --list-actions)\n", stderr);
		return EXIT_USAGE;
	}
	run->ai = ai;
	memset(&run->base, 0, sizeof run->base);
	run->base.kind = ai->kind;
	if (app->args.set[CLI_CHANNEL]) {
		if (!ai->needs_id) {
			fprintf(stderr, "shelly-tui: --action %s takes no --channel\n", ai->name);
			return EXIT_USAGE;
		}
		if (int_option(app, CLI_CHANNEL, 0, ACTION_ID_MAX, &run->base.id) != 0)
			return EXIT_USAGE;
	}
	if (ai->needs_value) {
		if (!app->args.set[CLI_VALUE]) {
			fprintf(stderr, "shelly-tui: --action %s needs --value %d-%d\n", ai->name,
			    ACTION_VALUE_MIN, ACTION_VALUE_MAX);
			return EXIT_USAGE;
		}
		if (int_option(
		        app, CLI_VALUE, ACTION_VALUE_MIN, ACTION_VALUE_MAX, &run->base.value) != 0)
			return EXIT_USAGE;
	} else if (app->args.set[CLI_VALUE]) {
		fprintf(stderr, "shelly-tui: --action %s takes no --value\n", ai->name);
		return EXIT_USAGE;
	}
	if (app->args.nrest == 0) {
		fprintf(stderr,
		    "shelly-tui: --action %s: give at least one TARGET (a registered MAC, "
		    "id or name, or HOST[:PORT])\n",
		    ai->name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Registry lookup by name (case-insensitive): the first match and how many there are. */
struct name_match {
	const char *name;
	struct store_device *found;
	int count;
};

static int
name_match_cb(const struct store_device *d, void *arg)
{
	struct name_match *m = arg;

	if (d->name != NULL && str_caseeq(d->name, m->name)) {
		if (m->found == NULL)
			m->found = store_device_dup(d);
		m->count++;
	}
	return 0;
}

/*
 * Resolves dev->arg: a registered device (MAC, id, then name) or HOST[:PORT]. Returns 0 or
 * EXIT_USAGE (message printed).
 */
static int
resolve_target(struct act_dev *dev)
{
	struct app *app = dev->run->app;
	struct store *st = app->store;
	char *cause = NULL;

	if (st != NULL) {
		dev->reg = store_device_find(st, dev->arg);
		if (dev->reg == NULL) {
			struct name_match m = {dev->arg, NULL, 0};
			store_device_list(st, name_match_cb, &m, NULL);
			if (m.count > 1) {
				fputs("shelly-tui: --action: the name '", stderr);
				print_safe(stderr, dev->arg);
				fprintf(stderr,
				    "' is given to %d registered devices; use an id or MAC\n",
				    m.count);
				store_device_free(m.found);
				return EXIT_USAGE;
			}
			dev->reg = m.found;
		}
	}
	if (dev->reg != NULL) {
		if (dev->reg->host == NULL || dev->reg->host[0] == '\0') {
			dev->host = NULL; /* fails at start: no address */
			return EXIT_OK;
		}
		dev->host = xstrdup(dev->reg->host);
		dev->t.port =
		    dev->reg->port > 0 && dev->reg->port <= 65535 ? (uint16_t)dev->reg->port : 0;
		dev->t.https = dev->reg->scheme != NULL && strcmp(dev->reg->scheme, "https") == 0;
		if (dev->t.https && dev->reg->tls_pin != NULL && dev->reg->tls_pin[0] != '\0')
			dev->t.pin = dev->reg->tls_pin;
		return EXIT_OK;
	}
	if (app_parse_hostport(dev->arg, &dev->host, &dev->t.port, &cause) != 0) {
		fputs("shelly-tui: --action: '", stderr);
		print_safe(stderr, dev->arg);
		fputs("' is neither a registered device nor HOST[:PORT]: ", stderr);
		print_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		return EXIT_USAGE;
	}
	dev->t.https = app->args.set[CLI_HTTPS] > 0;
	if (dev->t.https && st != NULL &&
	    (dev->known = store_device_find_host(st, dev->host, dev->t.port)) != NULL &&
	    dev->known->tls_pin != NULL && dev->known->tls_pin[0] != '\0')
		dev->t.pin = dev->known->tls_pin;
	return EXIT_OK;
}

static void
dev_finish(struct act_dev *dev)
{
	struct act_run *run = dev->run;

	if (dev->done)
		return;
	dev->done = 1;
	if (++run->ndone == run->n)
		run->done = 1;
}

static void
dev_fail(struct act_dev *dev, enum http_result result, const char *cause)
{
	free(dev->error);
	dev->result = result;
	dev->error = str_sanitize(
	    cause != NULL && cause[0] ? cause : http_result_name(result), ACT_TEXT_MAX * 2);
	dev_finish(dev);
}

/* The command line's password (cached; may prompt once). NULL: none (*cause says why, or NULL). */
static const char *
cli_password(struct act_run *run, int must, const char **cause)
{
	char *c = NULL;

	*cause = NULL;
	if (!run->cli_pw_asked || (run->cli_pw == NULL && must && run->cli_pw_cause == NULL)) {
		conf_secret_free(run->cli_pw);
		free(run->cli_pw_cause);
		run->cli_pw = app_password(run->app, must, &c);
		run->cli_pw_cause = c;
		run->cli_pw_asked = 1;
	}
	*cause = run->cli_pw_cause;
	return run->cli_pw;
}

/*
 * Picks the credentials for the identified device; none when its /shelly says auth is off
 * (libcurl's digest auth would send a POST's first round without its body, and a device without
 * auth would act on that empty request). Explicit --password-file wins; then the
 * registered device's own, then the configuration's credentials for its MAC/id/name; then
 * SHELLY_TUI_PASSWORD or a prompt when the device wants a password or --user was given.
 * Returns 0 (dev->password may stay NULL), or -1 with *cause (malloc'd) when the device needs
 * a password that cannot be had.
 */
static int
pick_credentials(struct act_dev *dev, char **cause)
{
	struct app *app = dev->run->app;
	const struct store_device *reg = dev->reg;
	const struct conf_credentials *cc;
	const char *user = NULL, *ref = NULL, *pc = NULL, *pw;
	int needs = dev->ident.auth_en == 1;
	char *c = NULL;

	*cause = NULL;
	if (dev->ident.auth_en == 0)
		return 0; /* /shelly says auth is off: no secret goes out (and no digest round) */
	if (dev->ident.mac[0] == '\0') {
		/* Nothing says whose credentials these would be: none are sent. */
		if (needs) {
			*cause = xstrdup("the device wants a password but showed no MAC address; "
			                 "credentials are withheld");
			return -1;
		}
		return 0;
	}
	if (app->args.set[CLI_PASSWORD_FILE]) {
		if ((pw = cli_password(dev->run, 1, &pc)) == NULL) {
			*cause = xstrdup(pc != NULL ? pc : "no password");
			return -1;
		}
		dev->password = xstrdup(pw);
		user = app->args.set[CLI_USER] ? app->args.val[CLI_USER] : NULL;
	} else if (reg != NULL && reg->cred_ref != NULL && reg->cred_ref[0] != '\0') {
		user = reg->user;
		ref = reg->cred_ref;
	} else if ((cc = conf_find_credentials(app->cfg, dev->ident.mac,
	                reg != NULL && reg->id != NULL ? reg->id : dev->ident.id,
	                reg != NULL ? reg->name : NULL)) != NULL) {
		user = cc->user;
		ref = cc->secret;
	} else if (needs || app->args.set[CLI_USER]) {
		if ((pw = cli_password(dev->run, needs, &pc)) == NULL) {
			if (pc != NULL) {
				*cause = xstrdup(pc);
				return -1;
			}
			return 0;
		}
		dev->password = xstrdup(pw);
		user = app->args.set[CLI_USER] ? app->args.val[CLI_USER] : NULL;
	}
	if (ref != NULL) {
		if (strncmp(ref, "store:", 6) == 0) {
			dev->password =
			    app->store != NULL ? store_setting_get(app->store, ref + 6) : NULL;
			if (dev->password == NULL)
				c = xstrdup("the stored password is missing");
		} else
			dev->password = conf_read_secret(ref, &c);
		if (dev->password == NULL) {
			*cause = xasprintf("credentials not loaded: %s", c != NULL ? c : "?");
			free(c);
			return -1;
		}
	}
	if (dev->password == NULL)
		return 0;
	/* Gen2+ digest auth has the fixed user admin. */
	dev->user =
	    xstrdup(dev->ident.gen >= 2 || user == NULL || user[0] == '\0' ? "admin" : user);
	dev->t.user = dev->user;
	dev->t.password = dev->password;
	return 0;
}

/*
 * Gen1 devices with colour and white modes (RGBW2, bulbs) have /color/N and /white/N; the
 * others (dimmers, Duo, Vintage: their settings say mode "white" too) have /light/N.
 */
static int
gen1_has_light_modes(const struct device_ident *id)
{
	const struct model_info *mi = models_find(id->model);

	return mi != NULL && mi->cls == MODEL_CLASS_RGBW;
}

/* The light API of the identified device: Gen1 /shelly or settings mode, Gen2+ profile. */
static enum action_light
light_kind(const struct device_ident *id)
{
	if (id->gen == 1) {
		if (!gen1_has_light_modes(id))
			return ACTION_LIGHT_PLAIN;
		if (str_caseeq(id->mode, "color"))
			return ACTION_LIGHT_COLOR;
		if (str_caseeq(id->mode, "white"))
			return ACTION_LIGHT_WHITE;
		return ACTION_LIGHT_PLAIN;
	}
	if (str_caseeq(id->profile, "rgb") || str_caseeq(id->profile, "rgbcct"))
		return ACTION_LIGHT_COLOR;
	if (str_caseeq(id->profile, "rgbw"))
		return ACTION_LIGHT_RGBW;
	if (str_caseeq(id->profile, "cct"))
		return ACTION_LIGHT_CCT;
	return ACTION_LIGHT_PLAIN;
}

static int
is_light(enum action_kind k)
{
	return k == ACTION_LIGHT_ON || k == ACTION_LIGHT_OFF || k == ACTION_LIGHT_TOGGLE ||
	       k == ACTION_LIGHT_BRIGHTNESS;
}

static void
action_cb(const struct shelly_reply *r, void *arg)
{
	struct act_dev *dev = arg;
	enum http_result result = r->result;
	int code;
	char *msg = NULL;

	if (r->result == HTTP_CANCELLED)
		return; /* the run is over: arg may be gone */
	if (r->action != NULL) {
		dev->ar = *r->action;
		dev->ar.message = str_sanitize(r->action->message, ACT_TEXT_MAX * 2);
		dev->have_ar = 1;
	}
	if (result == HTTP_OK && dev->have_ar && dev->ar.ok) {
		dev->result = HTTP_OK;
		dev_finish(dev);
		return;
	}
	/* Gen2+ answer RPC errors with a non-2xx status: name them as what they are. */
	if (result == HTTP_STATUS && dev->t.gen >= 2 && r->body != NULL &&
	    rpc_parse_error(r->body, r->body_len, &code, &msg) == 0)
		result = HTTP_RPC_ERROR;
	free(msg);
	if (result == HTTP_RPC_ERROR && dev->t.gen == 1)
		result = HTTP_ERROR; /* Gen1 has no RPC: the reply said it was not done */
	if (result == HTTP_OK)
		result = HTTP_ERROR; /* understood, but not done */
	dev_fail(dev, result, r->cause);
}

static void
send_action(struct act_dev *dev)
{
	dev->a = dev->run->base;
	if (is_light(dev->a.kind))
		dev->a.light = light_kind(&dev->ident);
	shelly_action(dev->run->app->http, &dev->t, &dev->a, action_cb, dev);
}

static void
settings_cb(const struct shelly_reply *r, void *arg)
{
	struct act_dev *dev = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	/* Only the light mode is wanted; without it the plain /light API is used. */
	if (r->result == HTTP_OK && r->settings != NULL && r->settings->mode[0] != '\0')
		str_copy(dev->ident.mode, sizeof dev->ident.mode, r->settings->mode);
	send_action(dev);
}

static void
ident_cb(const struct shelly_reply *r, void *arg)
{
	struct act_dev *dev = arg;
	struct app *app;
	char *cause = NULL;

	if (r->result == HTTP_CANCELLED)
		return;
	app = dev->run->app;
	if (r->result != HTTP_OK) {
		dev_fail(dev, r->result, r->cause);
		return;
	}
	dev->ident = *r->ident;
	dev->have_ident = 1;
	if (dev->reg != NULL && strcmp(dev->reg->mac, dev->ident.mac) != 0) {
		/* Another device answers at the registered address: it is not the target. */
		char *why = xasprintf("MAC mismatch: %s is registered at this address, the device "
		                      "there is %s; nothing was sent",
		    dev->reg->mac, dev->ident.mac[0] ? dev->ident.mac : "without a MAC");
		dev_fail(dev, HTTP_ERROR, why);
		free(why);
		return;
	}
	if (dev->reg == NULL && app->store != NULL && dev->ident.mac[0] != '\0')
		dev->reg = store_device_find_mac(app->store, dev->ident.mac);
	if (dev->ident.gen < 1) {
		dev_fail(dev, HTTP_ERROR, "the device did not say its generation");
		return;
	}
	dev->t.gen = dev->ident.gen;
	dev->t.mac = dev->ident.mac[0] ? dev->ident.mac : NULL;
	if (pick_credentials(dev, &cause) != 0) {
		dev_fail(dev, HTTP_AUTH_REQUIRED, cause);
		free(cause);
		return;
	}
	if (dev->ident.gen == 1 && is_light(dev->run->base.kind) && dev->ident.mode[0] == '\0' &&
	    gen1_has_light_modes(&dev->ident)) {
		/* Bulbs and RGBWW say their colour/white mode only in /settings. */
		shelly_config(app->http, &dev->t, settings_cb, dev);
		return;
	}
	send_action(dev);
}

static void
dev_start(struct act_dev *dev)
{
	struct app *app = dev->run->app;
	char *cause = NULL;

	if (dev->host == NULL) {
		dev_fail(dev, HTTP_ERROR, "the registered device has no address");
		return;
	}
	if (guard_check(app->guard, dev->host, &cause) != 0) {
		dev_fail(dev, HTTP_REFUSED_BY_GUARD, cause);
		free(cause);
		return;
	}
	dev->t.host = dev->host;
	conf_target(app->cfg, &dev->t);
	if (app->args.set[CLI_ACCEPT_CERT])
		dev->t.pin = NULL;
	shelly_identify(app->http, &dev->t, ident_cb, dev);
}

/* "switch:0", "cover:1", "light:0" or NULL for device-wide actions. */
static const char *
component_name(enum action_kind k)
{
	switch (k) {
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

/* What a successful action did, in a few words (malloc'd): "switch:0 on". */
static char *
ok_text(const struct act_dev *dev)
{
	const struct action_result *ar = &dev->ar;
	const struct action *a = &dev->a;
	const char *comp = component_name(a->kind);
	struct strbuf sb;

	strbuf_init(&sb);
	if (comp != NULL)
		strbuf_appendf(&sb, "%s:%d ", comp, a->id);
	switch (a->kind) {
	case ACTION_SWITCH_ON:
	case ACTION_SWITCH_OFF:
	case ACTION_SWITCH_TOGGLE:
	case ACTION_LIGHT_ON:
	case ACTION_LIGHT_OFF:
	case ACTION_LIGHT_TOGGLE:
	case ACTION_LIGHT_BRIGHTNESS:
		if (!ar->has_output)
			strbuf_append(&sb, "toggled");
		else if (ar->output && ar->has_brightness)
			strbuf_appendf(&sb, "on %d%%", ar->brightness);
		else
			strbuf_append(&sb, ar->output ? "on" : "off");
		break;
	case ACTION_COVER_OPEN:
		strbuf_append(&sb, "opening");
		break;
	case ACTION_COVER_CLOSE:
		strbuf_append(&sb, "closing");
		break;
	case ACTION_COVER_STOP:
		strbuf_append(&sb, "stopped");
		break;
	case ACTION_COVER_POSITION:
		strbuf_appendf(&sb, "moving to %d%%", a->value);
		break;
	default:
		strbuf_append(&sb, ar->message != NULL ? ar->message : "done");
		break;
	}
	/* Gen1 roller replies say where the cover was when the device answered. */
	if (comp != NULL && strcmp(comp, "cover") == 0 && ar->has_position)
		strbuf_appendf(&sb, " (at %d%%)", ar->position);
	return strbuf_steal(&sb);
}

/* The id a result line shows: the device's, the registry's, else the TARGET as given. */
static const char *
dev_id(const struct act_dev *dev)
{
	if (dev->reg != NULL && dev->reg->id != NULL && dev->reg->id[0] != '\0')
		return dev->reg->id;
	if (dev->have_ident && dev->ident.id[0] != '\0')
		return dev->ident.id;
	return dev->arg;
}

/* The target's MAC (a registered device's own, even when another answered), or NULL. */
static const char *
dev_mac(const struct act_dev *dev)
{
	if (dev->reg != NULL)
		return dev->reg->mac;
	if (dev->have_ident && dev->ident.mac[0] != '\0')
		return dev->ident.mac;
	return NULL;
}

static int
dev_ok(const struct act_dev *dev)
{
	return dev->done && dev->result == HTTP_OK && dev->have_ar && dev->ar.ok;
}

static void
print_text(const struct act_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		const struct act_dev *dev = &run->devs[i];
		char *id = str_sanitize(dev_id(dev), ACT_TEXT_MAX);

		if (dev_ok(dev)) {
			char *t = ok_text(dev);
			char *s = str_sanitize(t, ACT_TEXT_MAX * 2);
			printf("OK   %s %s\n", id, s);
			free(s);
			free(t);
		} else {
			printf("FAIL %s %s: %s\n", id, http_result_name(dev->result),
			    dev->error != NULL ? dev->error : "not done");
		}
		free(id);
	}
}

static cJSON *
string_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return cJSON_CreateNull();
	{
		char *c = str_sanitize(s, 0);
		cJSON *j = cJSON_CreateString(c);
		free(c);
		return j;
	}
}

static void
print_json(const struct act_run *run, size_t nok)
{
	cJSON *root = cJSON_CreateObject(), *arr, *sum;
	char *text;

	cJSON_AddStringToObject(root, "action", run->ai->name);
	if (run->ai->needs_id)
		cJSON_AddNumberToObject(root, "channel", run->base.id);
	else
		cJSON_AddNullToObject(root, "channel");
	if (run->ai->needs_value)
		cJSON_AddNumberToObject(root, "value", run->base.value);
	else
		cJSON_AddNullToObject(root, "value");
	arr = cJSON_AddArrayToObject(root, "results");
	for (size_t i = 0; i < run->n; i++) {
		const struct act_dev *dev = &run->devs[i];
		const struct action_result *ar = &dev->ar;
		int ok = dev_ok(dev);
		cJSON *o = cJSON_CreateObject();
		int fw =
		    dev->run->base.kind == ACTION_FW_CHECK && dev->have_ar && ar->has_update_info;

		cJSON_AddItemToObject(o, "target", string_or_null(dev->arg));
		cJSON_AddItemToObject(o, "id",
		    dev->have_ident || dev->reg != NULL ? string_or_null(dev_id(dev))
		                                        : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "mac", string_or_null(dev_mac(dev)));
		cJSON_AddBoolToObject(o, "ok", ok);
		cJSON_AddStringToObject(o, "result", http_result_name(dev->result));
		cJSON_AddItemToObject(
		    o, "error", ok ? cJSON_CreateNull() : string_or_null(dev->error));
		cJSON_AddItemToObject(
		    o, "message", dev->have_ar ? string_or_null(ar->message) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "output",
		    ok && ar->has_output ? cJSON_CreateBool(ar->output) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "position",
		    ok && ar->has_position ? cJSON_CreateNumber(ar->position) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "brightness",
		    ok && ar->has_brightness ? cJSON_CreateNumber(ar->brightness)
		                             : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "update_available",
		    fw ? cJSON_CreateBool(ar->update_available) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "new_version",
		    fw && ar->update_available ? string_or_null(ar->new_version)
		                               : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "ok", (double)nok);
	cJSON_AddNumberToObject(sum, "failed", (double)(run->n - nok));
	text = json_print(root, 1);
	if (text == NULL)
		abort();
	printf("%s\n", text);
	free(text);
	cJSON_Delete(root);
}

/* One audit record per target (the database is open only when it existed). */
static void
audit(struct act_run *run)
{
	struct store *st = run->app->store;
	int64_t now = loop_wall_ms();

	if (st == NULL)
		return;
	for (size_t i = 0; i < run->n; i++) {
		struct act_dev *dev = &run->devs[i];
		struct store_audit au;
		char *detail, *cause = NULL;
		const char *mac = dev_mac(dev);
		char *target = str_sanitize(mac != NULL ? mac : dev->arg, ACT_TEXT_MAX);

		if (dev_ok(dev))
			detail = ok_text(dev);
		else
			detail = xstrdup(dev->error != NULL ? dev->error : "not done");
		memset(&au, 0, sizeof au);
		au.ts_ms = now;
		au.who = "cli";
		au.action = run->ai->name;
		au.target = target;
		au.result = dev_ok(dev) ? "ok" : http_result_name(dev->result);
		au.detail = detail;
		if (store_audit_append(st, &au, &cause) != 0) {
			fprintf(stderr, "shelly-tui: audit: ");
			print_safe(stderr, cause);
			fputc('\n', stderr);
			free(cause);
		}
		free(detail);
		free(target);
	}
}

static void
run_done(struct act_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct act_dev *dev = &run->devs[i];
		store_device_free(dev->reg);
		store_device_free(dev->known);
		free(dev->host);
		free(dev->user);
		conf_secret_free(dev->password);
		free(dev->error);
		action_result_done(&dev->ar);
	}
	free(run->devs);
	conf_secret_free(run->cli_pw);
	free(run->cli_pw_cause);
}

int
cli_action(struct app *app)
{
	struct act_run run;
	size_t nok = 0;
	int rc;

	memset(&run, 0, sizeof run);
	run.app = app;
	if ((rc = parse_action(&run)) != EXIT_OK)
		return rc;
	/* The registry is read when it exists; --action never creates a database. */
	if (app_store_exists(app) && app_open_store(app) != 0)
		return EXIT_FAIL;
	run.n = (size_t)app->args.nrest;
	run.devs = xcalloc(run.n, sizeof *run.devs);
	for (size_t i = 0; i < run.n; i++) {
		struct act_dev *dev = &run.devs[i];
		dev->run = &run;
		dev->arg = app->args.rest[i];
		device_ident_init(&dev->ident);
		if ((rc = resolve_target(dev)) != EXIT_OK) {
			run_done(&run);
			return rc;
		}
	}
	/* Everything is checked: from here on requests go out, all targets at once. */
	for (size_t i = 0; i < run.n; i++)
		dev_start(&run.devs[i]);
	if (!run.done && app_run_until(app, &run.done) != 0) {
		fprintf(stderr, "shelly-tui: the event loop failed\n");
		rc = EXIT_FAIL;
	}
	for (size_t i = 0; i < run.n; i++) {
		if (!run.devs[i].done)
			dev_fail(&run.devs[i], HTTP_CANCELLED, "interrupted");
		nok += dev_ok(&run.devs[i]) ? 1 : 0;
	}
	if (app->args.set[CLI_JSON])
		print_json(&run, nok);
	else
		print_text(&run);
	audit(&run);
	run_done(&run);
	if (rc != EXIT_OK)
		return rc;
	return nok == run.n ? EXIT_OK : EXIT_FAIL;
}
