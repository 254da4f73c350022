#ifndef MODEL_DEVCONFIG_H
#define MODEL_DEVCONFIG_H

/*
 * A device's configuration, typed, for every generation: one field table (DEVCONFIG_FIELDS)
 * names each setting by a stable dotted path ("sys.name", "switch:0.auto_off_delay_s"), with
 * its type, unit, valid range, flags, where it lives in a Gen1 /settings document and which
 * query parameter of which /settings endpoint sets it, and its Gen2+ <Component>.SetConfig
 * path. A field whose place is empty for a generation, or absent from the device's own
 * document, is unsupported there: it is never faked.
 *
 * Everything here is pure: parsers of /settings and Shelly.GetConfig replies, validation,
 * diff (drift), request builders, the template file format and variables. No I/O.
 *
 * Values are held as canonical text: booleans "true"/"false", integers "%lld", numbers
 * "%.10g", strings as they are, enums by their model name (Gen1 names are mapped). A null
 * (unset) value is held as state DEVCONFIG_NULL; a secret is never read back from a device
 * (state DEVCONFIG_SECRET: supported, value not known).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

enum devconfig_type { DCT_BOOL, DCT_INT, DCT_NUM, DCT_STR, DCT_ENUM, DCT_IPV4 };
/* "bool", "int", "number", "string", "enum", "ipv4" (static); "unknown" out of range. */
const char *devconfig_type_name(enum devconfig_type t);

/* Field flags. */
#define DCF_SECRET 0x01 /* write-only: never read back, never shown in clear, never logged */
#define DCF_IDENTITY 0x02 /* left out of templates unless named (name, static IP, ids) */
#define DCF_NETWORK 0x04 /* a change may cut the device off the network */
#define DCF_REBOOT1 0x08 /* Gen1 applies it only after a reboot (the docs, not the device) */

/*
 * X(ID, path, type, unit, min, max, choices, flags,
 *   Gen1 endpoint, Gen1 query parameter, Gen1 read path, Gen1 enum names,
 *   Gen2 component, Gen2 config path, help)
 *
 * Paths of per-component fields start "switch:N.", "input:N.", "cover:N.", "light:N.", "em:N.",
 * "em1:N.", "pm1:N.", "rgb:N.", "rgbw:N.", "cct:N." or "rgbcct:N."; the N in Gen1 endpoints
 * and read paths stands for the instance. min/max bound numbers (and the
 * length of strings). Gen1 enum names map model values: "restore_last=last,match_input=switch".
 * Secret fields have as Gen1 read path the object that holds them (present = supported).
 */
/*
 * The longest auto-on/auto-off delay, in seconds, of either generation. Shelly documents no
 * upper bound; real devices hold more than a day (a Gen3 0-10V dimmer's capture: 2145600 s,
 * about 24.8 days). Taken as the longest timer a signed 32-bit millisecond count holds.
 */
#define DEVCONFIG_TIMER_MAX_S 2147483
/* clang-format off */
#define DEVCONFIG_FIELDS(X) \
	X(SYS_NAME, "sys.name", DCT_STR, "", 0, 64, NULL, DCF_IDENTITY, \
	    "/settings", "name", "name", NULL, "Sys", "device.name", \
	    "Device name") \
	X(SYS_TIMEZONE, "sys.timezone", DCT_STR, "", 0, 64, NULL, 0, \
	    "/settings", "timezone", "timezone", NULL, "Sys", "location.tz", \
	    "Time zone (tz database name, e.g. Europe/Sofia)") \
	X(SYS_LAT, "sys.location.lat", DCT_NUM, "deg", -90, 90, NULL, 0, \
	    "/settings", "lat", "lat", NULL, "Sys", "location.lat", \
	    "Latitude (sunrise/sunset schedules)") \
	X(SYS_LON, "sys.location.lon", DCT_NUM, "deg", -180, 180, NULL, 0, \
	    "/settings", "lng", "lng", NULL, "Sys", "location.lon", \
	    "Longitude") \
	X(SYS_ECO_MODE, "sys.eco_mode", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings", "eco_mode_enabled", "eco_mode_enabled", NULL, "Sys", "device.eco_mode", \
	    "Eco mode (lower power use)") \
	X(SYS_DISCOVERABLE, "sys.discoverable", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings", "discoverable", "discoverable", NULL, "Sys", "device.discoverable", \
	    "Visible to discovery") \
	X(SNTP_SERVER, "sntp.server", DCT_STR, "", 0, 128, NULL, 0, \
	    "/settings", "sntp_server", "sntp.server", NULL, "Sys", "sntp.server", \
	    "Time server") \
	X(WIFI_STA_ENABLE, "wifi.sta.enable", DCT_BOOL, "", 0, 0, NULL, DCF_NETWORK, \
	    "/settings/sta", "enabled", "wifi_sta.enabled", NULL, "WiFi", "sta.enable", \
	    "Join the WiFi network") \
	X(WIFI_STA_SSID, "wifi.sta.ssid", DCT_STR, "", 0, 32, NULL, DCF_NETWORK, \
	    "/settings/sta", "ssid", "wifi_sta.ssid", NULL, "WiFi", "sta.ssid", \
	    "WiFi network name") \
	X(WIFI_STA_PASS, "wifi.sta.pass", DCT_STR, "", 0, 64, NULL, DCF_SECRET | DCF_NETWORK, \
	    "/settings/sta", "key", "wifi_sta", NULL, "WiFi", "sta.pass", \
	    "WiFi network key (secret)") \
	X(WIFI_STA_IPV4MODE, "wifi.sta.ipv4mode", DCT_ENUM, "", 0, 0, "dhcp|static", DCF_NETWORK, \
	    "/settings/sta", "ipv4_method", "wifi_sta.ipv4_method", NULL, "WiFi", "sta.ipv4mode", \
	    "Address by DHCP or static") \
	X(WIFI_STA_IP, "wifi.sta.ip", DCT_IPV4, "", 0, 0, NULL, DCF_NETWORK | DCF_IDENTITY, \
	    "/settings/sta", "ip", "wifi_sta.ip", NULL, "WiFi", "sta.ip", \
	    "Static IPv4 address") \
	X(WIFI_STA_NETMASK, "wifi.sta.netmask", DCT_IPV4, "", 0, 0, NULL, DCF_NETWORK, \
	    "/settings/sta", "netmask", "wifi_sta.mask", NULL, "WiFi", "sta.netmask", \
	    "Static IPv4 netmask") \
	X(WIFI_STA_GW, "wifi.sta.gw", DCT_IPV4, "", 0, 0, NULL, DCF_NETWORK, \
	    "/settings/sta", "gw", "wifi_sta.gw", NULL, "WiFi", "sta.gw", \
	    "Static IPv4 gateway") \
	X(WIFI_STA_DNS, "wifi.sta.nameserver", DCT_IPV4, "", 0, 0, NULL, DCF_NETWORK, \
	    "/settings/sta", "dns", "wifi_sta.dns", NULL, "WiFi", "sta.nameserver", \
	    "Static DNS server") \
	X(WIFI_STA1_ENABLE, "wifi.sta1.enable", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/sta1", "enabled", "wifi_sta1.enabled", NULL, "WiFi", "sta1.enable", \
	    "Join the secondary WiFi network") \
	X(WIFI_STA1_SSID, "wifi.sta1.ssid", DCT_STR, "", 0, 32, NULL, 0, \
	    "/settings/sta1", "ssid", "wifi_sta1.ssid", NULL, "WiFi", "sta1.ssid", \
	    "Secondary WiFi network name") \
	X(WIFI_STA1_PASS, "wifi.sta1.pass", DCT_STR, "", 0, 64, NULL, DCF_SECRET, \
	    "/settings/sta1", "key", "wifi_sta1", NULL, "WiFi", "sta1.pass", \
	    "Secondary WiFi network key (secret)") \
	X(WIFI_AP_ENABLE, "wifi.ap.enable", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/ap", "enabled", "wifi_ap.enabled", NULL, "WiFi", "ap.enable", \
	    "Open the device's own access point") \
	X(WIFI_AP_PASS, "wifi.ap.pass", DCT_STR, "", 0, 64, NULL, DCF_SECRET, \
	    "/settings/ap", "key", "wifi_ap", NULL, "WiFi", "ap.pass", \
	    "Access point key (secret)") \
	X(CLOUD_ENABLED, "cloud.enabled", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/cloud", "enabled", "cloud.enabled", NULL, "Cloud", "enable", \
	    "Shelly Cloud connection") \
	X(MQTT_ENABLE, "mqtt.enable", DCT_BOOL, "", 0, 0, NULL, DCF_REBOOT1, \
	    "/settings", "mqtt_enable", "mqtt.enable", NULL, "MQTT", "enable", \
	    "MQTT connection") \
	X(MQTT_SERVER, "mqtt.server", DCT_STR, "", 0, 128, NULL, DCF_REBOOT1, \
	    "/settings", "mqtt_server", "mqtt.server", NULL, "MQTT", "server", \
	    "MQTT broker HOST:PORT") \
	X(MQTT_USER, "mqtt.user", DCT_STR, "", 0, 64, NULL, DCF_REBOOT1, \
	    "/settings", "mqtt_user", "mqtt.user", NULL, "MQTT", "user", \
	    "MQTT user") \
	X(MQTT_PASS, "mqtt.pass", DCT_STR, "", 0, 64, NULL, DCF_SECRET | DCF_REBOOT1, \
	    "/settings", "mqtt_pass", "mqtt", NULL, "MQTT", "pass", \
	    "MQTT password (secret)") \
	X(MQTT_CLIENT_ID, "mqtt.client_id", DCT_STR, "", 0, 64, NULL, DCF_IDENTITY | DCF_REBOOT1, \
	    "/settings", "mqtt_id", "mqtt.id", NULL, "MQTT", "client_id", \
	    "MQTT client id") \
	X(MQTT_TOPIC_PREFIX, "mqtt.topic_prefix", DCT_STR, "", 0, 128, NULL, DCF_IDENTITY, \
	    NULL, NULL, NULL, NULL, "MQTT", "topic_prefix", \
	    "MQTT topic prefix") \
	X(MQTT_STATUS_NTF, "mqtt.status_ntf", DCT_BOOL, "", 0, 0, NULL, 0, \
	    NULL, NULL, NULL, NULL, "MQTT", "status_ntf", \
	    "Publish status changes over MQTT") \
	X(MQTT_UPDATE_PERIOD, "mqtt.update_period_s", DCT_INT, "s", 0, 86400, NULL, DCF_REBOOT1, \
	    "/settings", "mqtt_update_period", "mqtt.update_period", NULL, NULL, NULL, \
	    "Period of MQTT status publishing (Gen1)") \
	X(COIOT_ENABLE, "coiot.enable", DCT_BOOL, "", 0, 0, NULL, DCF_REBOOT1, \
	    "/settings", "coiot_enable", "coiot.enabled", NULL, NULL, NULL, \
	    "CoIoT status multicast (Gen1)") \
	X(COIOT_PEER, "coiot.peer", DCT_STR, "", 0, 128, NULL, DCF_REBOOT1, \
	    "/settings", "coiot_peer", "coiot.peer", NULL, NULL, NULL, \
	    "CoIoT unicast peer HOST:PORT (Gen1)") \
	X(BLE_ENABLE, "ble.enable", DCT_BOOL, "", 0, 0, NULL, 0, \
	    NULL, NULL, NULL, NULL, "BLE", "enable", \
	    "Bluetooth") \
	X(LEDS_STATUS_DISABLE, "leds.status_disable", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings", "led_status_disable", "led_status_disable", NULL, NULL, NULL, \
	    "Status LED off (Gen1)") \
	X(LEDS_POWER_DISABLE, "leds.power_disable", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings", "led_power_disable", "led_power_disable", NULL, NULL, NULL, \
	    "Power LED off (Gen1 plugs)") \
	X(LEDS_MODE, "leds.mode", DCT_ENUM, "", 0, 0, "power|switch|off", 0, \
	    NULL, NULL, NULL, NULL, "PLUGS_UI", "leds.mode", \
	    "What the LED ring shows (Gen2+ plugs)") \
	X(SWITCH_NAME, "switch:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    "/settings/relay/N", "name", "relays.N.name", NULL, "Switch", "name", \
	    "Output name") \
	X(SWITCH_INITIAL_STATE, "switch:N.initial_state", DCT_ENUM, "", 0, 0, \
	    "off|on|restore_last|match_input", 0, \
	    "/settings/relay/N", "default_state", "relays.N.default_state", \
	    "restore_last=last,match_input=switch", "Switch", "initial_state", \
	    "Output state at power-on") \
	X(SWITCH_IN_MODE, "switch:N.in_mode", DCT_ENUM, "", 0, 0, \
	    "momentary|follow|flip|detached|cycle|activate|momentary_on_release", 0, \
	    "/settings/relay/N", "btn_type", "relays.N.btn_type", \
	    "follow=toggle,flip=edge,activate=action", "Switch", "in_mode", \
	    "How the input drives the output") \
	X(SWITCH_AUTO_ON, "switch:N.auto_on", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/relay/N", "auto_on", "relays.N.auto_on", NULL, "Switch", "auto_on", \
	    "Turn on again after auto_on_delay_s (Gen1: auto_on above 0)") \
	X(SWITCH_AUTO_ON_DELAY, "switch:N.auto_on_delay_s", DCT_NUM, "s", 0, \
	    DEVCONFIG_TIMER_MAX_S, NULL, 0, \
	    "/settings/relay/N", "auto_on", "relays.N.auto_on", NULL, "Switch", "auto_on_delay", \
	    "Delay of auto-on; ignored while auto_on is false") \
	X(SWITCH_AUTO_OFF, "switch:N.auto_off", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/relay/N", "auto_off", "relays.N.auto_off", NULL, "Switch", "auto_off", \
	    "Turn off again after auto_off_delay_s (Gen1: auto_off above 0)") \
	X(SWITCH_AUTO_OFF_DELAY, "switch:N.auto_off_delay_s", DCT_NUM, "s", 0, \
	    DEVCONFIG_TIMER_MAX_S, NULL, 0, \
	    "/settings/relay/N", "auto_off", "relays.N.auto_off", NULL, "Switch", "auto_off_delay", \
	    "Delay of auto-off; ignored while auto_off is false") \
	X(SWITCH_POWER_LIMIT, "switch:N.power_limit_w", DCT_NUM, "W", 0, 10000, NULL, 0, \
	    "/settings/relay/N", "max_power", "relays.N.max_power", NULL, "Switch", "power_limit", \
	    "Power above which the output turns off") \
	X(INPUT_NAME, "input:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "Input", "name", \
	    "Input name") \
	X(INPUT_TYPE, "input:N.type", DCT_ENUM, "", 0, 0, "button|switch|analog|count", 0, \
	    NULL, NULL, NULL, NULL, "Input", "type", \
	    "Input mode") \
	X(INPUT_INVERT, "input:N.invert", DCT_BOOL, "", 0, 0, NULL, 0, \
	    NULL, NULL, NULL, NULL, "Input", "invert", \
	    "Inverted input") \
	X(COVER_NAME, "cover:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "Cover", "name", \
	    "Cover name") \
	X(COVER_INITIAL_STATE, "cover:N.initial_state", DCT_ENUM, "", 0, 0, \
	    "open|closed|stopped", 0, \
	    "/settings/roller/N", "default_state", "rollers.N.default_state", \
	    "closed=close,stopped=stop", "Cover", "initial_state", \
	    "Cover state at power-on") \
	X(COVER_MAXTIME_OPEN, "cover:N.maxtime_open_s", DCT_NUM, "s", 0, 300, NULL, 0, \
	    "/settings/roller/N", "maxtime_open", "rollers.N.maxtime_open", NULL, \
	    "Cover", "maxtime_open", \
	    "Longest opening run") \
	X(COVER_MAXTIME_CLOSE, "cover:N.maxtime_close_s", DCT_NUM, "s", 0, 300, NULL, 0, \
	    "/settings/roller/N", "maxtime_close", "rollers.N.maxtime_close", NULL, \
	    "Cover", "maxtime_close", \
	    "Longest closing run") \
	X(COVER_SWAP_INPUTS, "cover:N.swap_inputs", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/roller/N", "swap_inputs", "rollers.N.swap_inputs", NULL, \
	    "Cover", "swap_inputs", \
	    "Swap the open and close inputs") \
	X(COVER_INVERT, "cover:N.invert_directions", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/roller/N", "swap", "rollers.N.swap", NULL, "Cover", "invert_directions", \
	    "Swap the open and close outputs") \
	X(COVER_POWER_LIMIT, "cover:N.power_limit_w", DCT_NUM, "W", 0, 10000, NULL, 0, \
	    NULL, NULL, NULL, NULL, "Cover", "power_limit", \
	    "Power above which the motor stops") \
	X(LIGHT_NAME, "light:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    "/settings/light/N", "name", "lights.N.name", NULL, "Light", "name", \
	    "Light name") \
	X(LIGHT_INITIAL_STATE, "light:N.initial_state", DCT_ENUM, "", 0, 0, \
	    "off|on|restore_last|match_input", 0, \
	    "/settings/light/N", "default_state", "lights.N.default_state", \
	    "restore_last=last,match_input=switch", "Light", "initial_state", \
	    "Light state at power-on") \
	X(LIGHT_AUTO_ON, "light:N.auto_on", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/light/N", "auto_on", "lights.N.auto_on", NULL, "Light", "auto_on", \
	    "Turn on again after auto_on_delay_s (Gen1: auto_on above 0)") \
	X(LIGHT_AUTO_ON_DELAY, "light:N.auto_on_delay_s", DCT_NUM, "s", 0, \
	    DEVCONFIG_TIMER_MAX_S, NULL, 0, \
	    "/settings/light/N", "auto_on", "lights.N.auto_on", NULL, "Light", "auto_on_delay", \
	    "Delay of auto-on; ignored while auto_on is false") \
	X(LIGHT_AUTO_OFF, "light:N.auto_off", DCT_BOOL, "", 0, 0, NULL, 0, \
	    "/settings/light/N", "auto_off", "lights.N.auto_off", NULL, "Light", "auto_off", \
	    "Turn off again after auto_off_delay_s (Gen1: auto_off above 0)") \
	X(LIGHT_AUTO_OFF_DELAY, "light:N.auto_off_delay_s", DCT_NUM, "s", 0, \
	    DEVCONFIG_TIMER_MAX_S, NULL, 0, \
	    "/settings/light/N", "auto_off", "lights.N.auto_off", NULL, "Light", "auto_off_delay", \
	    "Delay of auto-off; ignored while auto_off is false") \
	X(LIGHT_TRANSITION, "light:N.transition_s", DCT_NUM, "s", 0, 60, NULL, 0, \
	    NULL, NULL, NULL, NULL, "Light", "transition_duration", \
	    "Fade time of on/off and brightness changes (Gen2+)") \
	X(EM_NAME, "em:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "EM", "name", \
	    "Three-phase energy meter name (Gen2+ em)") \
	X(EM1_NAME, "em1:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "EM1", "name", \
	    "Energy meter channel name (Gen2+ em1)") \
	X(PM1_NAME, "pm1:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "PM1", "name", \
	    "Power meter name (Gen2+ pm1)") \
	X(RGB_NAME, "rgb:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "RGB", "name", \
	    "Colour light name (Gen2+ rgb)") \
	X(RGBW_NAME, "rgbw:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "RGBW", "name", \
	    "Colour and white light name (Gen2+ rgbw)") \
	X(CCT_NAME, "cct:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "CCT", "name", \
	    "Tunable white light name (Gen2+ cct)") \
	X(RGBCCT_NAME, "rgbcct:N.name", DCT_STR, "", 0, 64, NULL, 0, \
	    NULL, NULL, NULL, NULL, "RGBCCT", "name", \
	    "Colour and tunable white light name (Gen2+ rgbcct)")
/* clang-format on */

enum devconfig_field {
#define DEVCONFIG_ENUM(id, ...) DCFG_##id,
	DEVCONFIG_FIELDS(DEVCONFIG_ENUM)
#undef DEVCONFIG_ENUM
	    DCFG__COUNT
};

/* Largest instance number of a per-component field ("switch:N"). */
#define DEVCONFIG_INDEX_MAX 63
/* Longest value text accepted. */
#define DEVCONFIG_VALUE_MAX 256

struct devconfig_field_info {
	enum devconfig_field id;
	const char *path; /* "switch:N.name" */
	enum devconfig_type type;
	const char *unit; /* "" none */
	double min, max;
	const char *choices; /* enums: "a|b|c" */
	unsigned flags;
	const char *g1_endpoint, *g1_param, *g1_read, *g1_map; /* NULL: unsupported on Gen1 */
	const char *g2_component, *g2_path; /* NULL: unsupported on Gen2+ */
	const char *help;
};

enum devconfig_state { DEVCONFIG_VALUE, DEVCONFIG_NULL, DEVCONFIG_SECRET };

/* One field of one instance (index -1 for singletons). */
struct devconfig_entry {
	enum devconfig_field field;
	int index;
	enum devconfig_state state;
	char *value; /* canonical text with DEVCONFIG_VALUE, else NULL (owned) */
};

/*
 * A set of fields: a device's actual configuration (every field it supports) or a desired
 * one (only what it sets). Embedded: devconfig_init / devconfig_done.
 */
struct devconfig {
	int gen; /* 1..4, 0 for a template */
	int has_rev;
	double rev; /* Gen2+ cfg_rev, Gen1 cfg_changed_cnt (when the document says) */
	size_t n, cap;
	struct devconfig_entry *e; /* sorted by field, then index */
	/* Fields the device's reply holds with a type they cannot have (a number as an object, a
	 * boolean as a string...) or with a choice the model does not know: present, so
	 * supported, but unreadable. No entry in e; value: the unknown choice, sanitised. */
	size_t nbad;
	struct devconfig_entry *bad; /* field and index only */
};

/* The table entry of a field (static), or NULL when out of range. */
const struct devconfig_field_info *devconfig_field(enum devconfig_field f);
/*
 * Parses a field name ("sys.name", "switch:1.auto_off") into field and index (-1 for
 * singletons). Returns 0, or -1 with *cause.
 */
int devconfig_parse_name(const char *name, enum devconfig_field *f, int *index, char **cause);
/*
 * Checks that sel names a field ("switch:0.name") or a section of fields, a dotted prefix of
 * one ("mqtt", "wifi.sta", "switch:0"). Returns 0, or -1 with *cause.
 */
int devconfig_check_selector(const char *sel, char **cause);
/* The field's name for an instance ("switch:1.auto_off") into buf; returns buf. */
const char *devconfig_name(enum devconfig_field f, int index, char *buf, size_t size);
/* The field is settable on a generation (1, or 2 and later). */
bool devconfig_field_gen(enum devconfig_field f, int gen);
/*
 * Checks a value against the field's type, range and choices and returns its canonical text
 * (malloc'd) in *canon; "" clears a string or address. Returns 0, or -1 with *cause.
 */
int devconfig_check(enum devconfig_field f, const char *value, char **canon, char **cause);

void devconfig_init(struct devconfig *c);
void devconfig_done(struct devconfig *c);
/* devconfig_done after zeroing every value: for a set that may hold secrets (a template). */
void devconfig_wipe(struct devconfig *c);
/* The number of entries of c whose field is secret (DCF_SECRET). */
size_t devconfig_secrets(const struct devconfig *c);
/* Copies src into dst (initialised here). */
void devconfig_copy(struct devconfig *dst, const struct devconfig *src);
/* The entry of a field instance, or NULL (unsupported, or not set). */
const struct devconfig_entry *devconfig_get(
    const struct devconfig *c, enum devconfig_field f, int index);
/* Whether the device's reply holds the field instance with a wrong type (see bad). */
bool devconfig_unreadable(const struct devconfig *c, enum devconfig_field f, int index);
/* Its entry in bad (value: the raw text sanitised, for a choice the model does not know; else
 * NULL), or NULL. */
const struct devconfig_entry *devconfig_unreadable_entry(
    const struct devconfig *c, enum devconfig_field f, int index);
/* Sets (replacing) a field instance; value is copied (NULL with DEVCONFIG_NULL/SECRET). */
void devconfig_set(struct devconfig *c, enum devconfig_field f, int index,
    enum devconfig_state state, const char *value);
/* Removes a field instance; returns 1 when it was there. */
int devconfig_unset(struct devconfig *c, enum devconfig_field f, int index);

/*
 * Reads a Gen1 GET /settings reply (gen 1) or a Gen2+ Shelly.GetConfig reply (bare result or
 * response frame) into out (initialised here): every field the document holds. Returns 0, or
 * -1 with *cause (caller frees).
 */
int devconfig_parse(int gen, const char *body, size_t len, struct devconfig *out, char **cause);

/* A desired field and what the device has. */
enum devconfig_diff_kind {
	DIFF_SAME, /* equal */
	DIFF_DRIFT, /* differs */
	DIFF_UNSUPPORTED, /* the device has no such field */
	DIFF_UNKNOWN, /* a secret: cannot be read back, so cannot be compared */
	DIFF_UNREADABLE, /* the device has it, but its reply holds it with a wrong type or an
	                    unknown choice (actual: that choice, sanitised) */
};

struct devconfig_diff {
	enum devconfig_field field;
	int index;
	enum devconfig_diff_kind kind;
	const char *desired; /* canonical text, NULL = null (borrowed from the configs) */
	const char *actual; /* NULL = null or not known */
};

/*
 * Compares every field desired sets with actual; out (malloc'd, caller frees) gets one row per
 * desired field, in table order. Returns the number of DIFF_DRIFT rows.
 */
size_t devconfig_diff(const struct devconfig *desired, const struct devconfig *actual,
    struct devconfig_diff **out, size_t *n);

/* One request that sets some fields on a device. */
struct devconfig_request {
	const char *method; /* "GET" (Gen1) or "POST" (static) */
	char *path; /* "/settings/sta?enabled=true&ssid=x" or "/rpc/WiFi.SetConfig" */
	char *body; /* Gen2+ JSON params, else NULL */
	char rpc_method[40];
	size_t nfields; /* which entries of the change set it carries */
	size_t *fields; /* indices into the devconfig given to devconfig_requests */
};

/*
 * Builds the requests that set every entry of changes on a device of generation gen, one per
 * Gen1 endpoint or Gen2+ component. Entries the generation cannot set fail the whole build.
 * Returns 0 with *out (free with devconfig_requests_free) or -1 with *cause.
 */
int devconfig_requests(int gen, const struct devconfig *changes, struct devconfig_request **out,
    size_t *n, char **cause);
void devconfig_requests_free(struct devconfig_request *r, size_t n);

/*
 * Whether applying changes on top of actual may cut the device off the network: a DCF_NETWORK
 * field that changes, or the access point turned off while the WiFi station is off or has no
 * SSID. Returns 1 with the first such field's name in why (static or buf), else 0.
 */
int devconfig_cuts_network(
    const struct devconfig *changes, const struct devconfig *actual, char *why, size_t size);
/*
 * The static IPv4 address the station has after changes on top of actual, when changes set the
 * address mode or the address: copies it into buf and returns 1; else (DHCP, no address, or
 * neither field changed) 0.
 */
int devconfig_static_address(
    const struct devconfig *changes, const struct devconfig *actual, char *buf, size_t size);
/*
 * Whether changes on top of actual leave the station with static addressing and no address
 * (neither the device's own nor one in changes): such a device drops off the network. 1 when
 * changes set the address mode or the address and the result is static without an address.
 */
int devconfig_static_without_address(
    const struct devconfig *changes, const struct devconfig *actual);
/*
 * A set read from a device without its address (wifi.sta.ip is an identity field): when it
 * holds static addressing but no address, removes the static block (wifi.sta.ipv4mode,
 * netmask, gw, nameserver) so it never sets half a static setup. Returns how many went.
 */
int devconfig_drop_half_static(struct devconfig *c);
/*
 * Timers held as an enable flag and a delay ("switch:N.auto_off" and "switch:N.auto_off_delay_s",
 * the same for auto_on and for light:N), which Gen1 keeps as one number (0 = off). A device
 * reads as {enable, delay} on every generation; a delay is not compared while the desired
 * enable is false; on Gen1 an enable of false is written as 0 and an enable of true as its delay.
 * Completes changes planned from desired against actual for a Gen1 device: a changed delay
 * without its enable gets the desired (else actual) enable. Refuses (-1 with *cause) a delay
 * that would turn on a timer that stays off, and an enabled timer without a delay above 0.
 */
int devconfig_timer_changes(struct devconfig *changes, const struct devconfig *desired,
    const struct devconfig *actual, char **cause);

/* Whether the entry is a DCF_REBOOT1 field on Gen1 (applied after a reboot). */
bool devconfig_needs_reboot1(const struct devconfig *changes);

/*
 * Template files: one "FIELD = VALUE" per line, '#' comments, blank lines. A bare value is
 * taken as it is, without the blanks around it. A value in double quotes keeps every byte
 * between them, with the escapes \" \\ \n \r \t, \uXXXX (U+0001..U+FFFF, no surrogate) and
 * \xHH (a byte 01..FF, for text that is not UTF-8); any other '\' is an error.
 * The bare word null is a null (unset) value of any type, as the device's JSON null: kept so
 * by devconfig_template_write (the text "null" is written quoted), and sent as JSON null to a
 * Gen2+ device, as an empty parameter to a Gen1 one (its way to clear a setting); an empty
 * number or boolean reads as null too (older snapshots).
 * devconfig_template_write writes every value so that it reads back byte for byte, on one line.
 * Values may hold variables ${name}, ${id}, ${mac}, ${index}, ${group}, replaced per device by
 * devconfig_render. At most DEVCONFIG_TEMPLATE_MAX bytes. Values without variables are
 * checked here (devconfig_check: no control character, invalid UTF-8 or bidi control).
 * Returns 0 with out filled (initialised here), or -1 with "line N: ..." in *cause.
 */
#define DEVCONFIG_TEMPLATE_MAX (256 * 1024)
int devconfig_template_parse(const char *text, size_t len, struct devconfig *out, char **cause);
/*
 * A snapshot: the same text, holding what a device reported. Values are literal (no
 * variables) and strings are kept as the device sent them (control characters, invalid UTF-8,
 * any length); devconfig_unsettable finds those a desired configuration refuses.
 */
int devconfig_snapshot_parse(const char *text, size_t len, struct devconfig *out, char **cause);
/*
 * The position of the first entry of c (as a device reported it) that a desired
 * configuration refuses (devconfig_check), with its name in name and why in *cause; or -1.
 */
int devconfig_unsettable(const struct devconfig *c, char *name, size_t size, char **cause);
/*
 * One line of a template [line, line + len) (up to its first newline): 1 with its *f and *index
 * when devconfig_template_parse or devconfig_snapshot_parse accepts it as "FIELD = VALUE", 0
 * when it is blank or a comment, -1 with *cause when both refuse it. Builds nothing: for a
 * caller that looks at a template or snapshot line by line.
 */
int devconfig_line_field(
    const char *line, size_t len, enum devconfig_field *f, int *index, char **cause);
/*
 * Sets one template field by name ("switch:0.name") to value, as a template line would:
 * values without variables are checked and made canonical. Returns 0, or -1 with *cause.
 */
int devconfig_template_set(
    struct devconfig *out, const char *name, const char *value, char **cause);
/* Writes c as a template file (secrets never; a header comment first, which must be one line). */
void devconfig_template_write(const struct devconfig *c, const char *comment, FILE *fp);

struct devconfig_vars {
	const char *name, *id, *mac, *index, *group; /* NULL: unset (a use is an error) */
};
/*
 * Replaces the variables of tmpl's values and checks the results; out is initialised here.
 * Returns 0, or -1 with *cause naming the field.
 */
int devconfig_render(const struct devconfig *tmpl, const struct devconfig_vars *vars,
    struct devconfig *out, char **cause);

/*
 * Whether every variable in c's values is one devconfig_render knows ('${' closed, a known
 * name): a desired configuration kept for later is checked before it is stored. Returns 0, or
 * -1 with *cause naming the field.
 */
int devconfig_vars_check(const struct devconfig *c, char **cause);

/*
 * The typed value of an entry as JSON (bool, number, string, null); secrets become "********"
 * unless show_secrets. Caller owns the item.
 */
cJSON *devconfig_value_json(const struct devconfig_entry *e, bool show_secrets);
/* The value as text for people: "null", "********" for secrets, else the canonical text. */
const char *devconfig_value_text(const struct devconfig_entry *e);

#endif
