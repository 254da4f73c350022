#ifndef SHELLY_GEN2_H
#define SHELLY_GEN2_H

/*
 * Gen2/3/4 RPC replies -> typed model: Shelly.GetStatus, Shelly.GetConfig, Shelly.GetDeviceInfo,
 * <Type>.GetStatus, NotifyStatus overlays, RPC error envelopes and response frames.
 * Every body may be the bare result (GET /rpc/<Method>) or a full response frame
 * {"id":..,"src":..,"result":{..}} (POST /rpc, websocket); an error frame fails with its error
 * as the cause. Unknown component keys are kept in device_status.raw_unknown.
 */
#include <stddef.h>

#include "model/device.h"

#define GEN2_MAX_CONFIG_COMPONENTS 64

/* Per-component configuration worth showing: its name and, for inputs, its type. */
struct gen2_component_cfg {
	char key[DEV_SHORT_LEN]; /* "switch:0", "input:2", "em1:1" */
	char name[DEV_NAME_LEN]; /* "" when null */
	char type[DEV_SHORT_LEN]; /* input: button/switch/analog/count; "" otherwise */
};

/* Typed subset of Shelly.GetConfig. Strings "" / tri-states -1 / NAN when absent. No secrets. */
struct gen2_config {
	char name[DEV_NAME_LEN]; /* sys.device.name */
	char profile[DEV_SHORT_LEN]; /* sys.device.profile */
	char mac[DEV_MAC_LEN]; /* sys.device.mac, normalised */
	char fw[DEV_FW_LEN]; /* sys.device.fw_id */
	int discoverable, eco_mode; /* tri-state */
	double cfg_rev; /* sys.cfg_rev when the config carries it */
	char sntp_server[DEV_HOST_LEN];
	char tz[DEV_NAME_LEN]; /* sys.location.tz */
	double lat, lon; /* sys.location */
	int wifi_sta_enable;
	char wifi_sta_ssid[DEV_NAME_LEN];
	char wifi_sta_ipv4mode[DEV_SHORT_LEN]; /* dhcp/static */
	char wifi_sta_ip[DEV_IP_LEN];
	int wifi_ap_enable;
	char wifi_ap_ssid[DEV_NAME_LEN];
	int eth_enable;
	int ble_enable;
	int cloud_enable;
	char cloud_server[DEV_HOST_LEN];
	int mqtt_enable;
	char mqtt_server[DEV_HOST_LEN];
	char mqtt_client_id[DEV_NAME_LEN];
	char mqtt_user[DEV_NAME_LEN];
	char mqtt_topic_prefix[DEV_NAME_LEN];
	int ws_enable;
	char ws_server[DEV_HOST_LEN];
	int ncomponents; /* components beyond GEN2_MAX_CONFIG_COMPONENTS are not kept */
	struct gen2_component_cfg components[GEN2_MAX_CONFIG_COMPONENTS];
};

/* A JSON-RPC frame: response (result or error), request or notification. */
struct gen2_frame {
	char id[DEV_ID_LEN]; /* id as text ("18"), "" for notifications */
	char src[DEV_ID_LEN];
	char dst[DEV_ID_LEN];
	char method[DEV_NAME_LEN]; /* requests and notifications */
	int is_error;
	int error_code;
	char *error_message; /* malloc'd, sanitised; NULL unless is_error */
	char *result; /* malloc'd JSON text of "result" ("null" when null), or NULL */
	char *params; /* malloc'd JSON text of "params", or NULL */
};

/* Sets every field of c to unknown. */
void gen2_config_init(struct gen2_config *c);

/*
 * Parses Shelly.GetStatus into out (initialised here; device_status_done frees it). Returns 0,
 * or -1 with *cause (caller frees).
 */
int gen2_parse_status(const char *body, size_t len, struct device_status *out, char **cause);

/*
 * Overlays a (partial) status object, e.g. NotifyStatus params or a component subset, onto st:
 * fields present replace, fields absent keep their value, new components are added. A "ts"
 * member is ignored. Returns 0, or -1 with *cause (st unchanged).
 */
int gen2_merge_status(const char *body, size_t len, struct device_status *st, char **cause);

/*
 * Parses <Type>.GetStatus (one component) and stores it in st, replacing that component.
 * key is "switch:0", or a type ("Switch", "cover", case-insensitive) with the id read from the
 * body ("id"); singletons are "sys", "wifi", ... Returns 0, or -1 with *cause.
 */
int gen2_parse_component_status(
    const char *key, const char *body, size_t len, struct device_status *st, char **cause);

/*
 * Parses one page of Shelly.GetComponents ({components:[{key,status,config}],offset,total}):
 * each status is stored in st as by <Type>.GetStatus and each config's name/type added to cfg
 * (st or cfg may be NULL; neither is initialised here). *next_offset (may be NULL) is the offset
 * of the next page, or -1 after the last one. Returns 0, or -1 with *cause.
 */
int gen2_parse_components(const char *body, size_t len, struct device_status *st,
    struct gen2_config *cfg, int *next_offset, char **cause);

/* Parses Shelly.GetConfig into out (initialised here). Returns 0, or -1 with *cause. */
int gen2_parse_config(const char *body, size_t len, struct gen2_config *out, char **cause);

/* Shelly.GetDeviceInfo: same object as Gen2+ /shelly (see shelly_parse_ident). */
int gen2_parse_device_info(const char *body, size_t len, struct device_ident *out, char **cause);

/*
 * RPC error envelope: a bare {"code":..,"message":..} or a frame with "error". Returns 0 with
 * *code and *message (malloc'd, caller frees, "" if none) when body holds an error, -1 otherwise.
 */
int gen2_parse_rpc_error(const char *body, size_t len, int *code, char **message);

/*
 * Parses a frame into out (zeroed here; gen2_frame_done frees it). Returns 0 for a response
 * (result, even null, or error), a request or a notification; -1 with *cause otherwise.
 */
int gen2_parse_frame(const char *body, size_t len, struct gen2_frame *out, char **cause);
/* Frees what a frame owns. */
void gen2_frame_done(struct gen2_frame *f);

/*
 * Completes an identity and/or status (either may be NULL) from a config: device name and
 * profile when the identity has none; component names and input types by key.
 */
void gen2_config_apply(
    const struct gen2_config *c, struct device_ident *ident, struct device_status *st);

#endif
