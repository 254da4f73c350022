#ifndef SHELLY_GEN1_H
#define SHELLY_GEN1_H

/*
 * Gen1 (ESP8266 HTTP API) replies -> typed model: GET /status, /settings and /ota.
 * Energy from relay/plug/dimmer/bulb meters (watt-minutes) is converted to Wh; emeters are Wh.
 */
#include <stddef.h>

#include "model/device.h"

/* Typed subset of GET /settings. Strings "" and tri-states -1 when absent. No secrets kept. */
struct gen1_settings {
	char hostname[DEV_ID_LEN]; /* device.hostname: the Gen1 device id */
	char type[DEV_SHORT_LEN]; /* device.type */
	char mac[DEV_MAC_LEN]; /* device.mac, normalised */
	char name[DEV_NAME_LEN];
	char mode[DEV_SHORT_LEN]; /* relay/roller (Shelly 2/2.5), color/white (RGBW2, bulbs) */
	char fw[DEV_FW_LEN];
	int sleep_mode; /* device.sleep_mode, tri-state */
	int discoverable; /* tri-state */
	int nrelays, nrollers, nlights, ninputs;
	char relay_names[DEVICE_MAX_COMPONENTS][DEV_NAME_LEN];
	char roller_names[DEVICE_MAX_COMPONENTS][DEV_NAME_LEN];
	char light_names[DEVICE_MAX_COMPONENTS][DEV_NAME_LEN];
	char input_names[DEVICE_MAX_COMPONENTS][DEV_NAME_LEN];
	int login_enabled; /* tri-state; the password is never copied */
	char login_username[DEV_SHORT_LEN];
	int cloud_enabled;
	int mqtt_enable;
	char mqtt_server[DEV_HOST_LEN];
	char mqtt_user[DEV_NAME_LEN];
	char mqtt_id[DEV_NAME_LEN];
	int coiot_enabled;
	char coiot_peer[DEV_HOST_LEN];
	double coiot_update_period_s;
	int sntp_enabled;
	char sntp_server[DEV_HOST_LEN];
	char timezone[DEV_NAME_LEN];
	int tzautodetect;
	double lat, lng;
	int wifi_sta_enabled;
	char wifi_sta_ssid[DEV_NAME_LEN];
	char wifi_sta_ipv4_method[DEV_SHORT_LEN]; /* dhcp/static */
	char wifi_sta_ip[DEV_IP_LEN];
	char wifi_sta_gw[DEV_IP_LEN];
	char wifi_sta_mask[DEV_IP_LEN];
	char wifi_sta_dns[DEV_IP_LEN];
	int wifi_ap_enabled;
	char wifi_ap_ssid[DEV_NAME_LEN];
};

/* Firmware update state from GET /ota (also /status "update"). */
struct gen1_ota {
	char status[DEV_SHORT_LEN]; /* idle, pending, updating, unknown */
	int has_update; /* tri-state */
	char new_version[DEV_FW_LEN];
	char old_version[DEV_FW_LEN];
	char beta_version[DEV_FW_LEN];
};

/* Sets every field of s to unknown. */
void gen1_settings_init(struct gen1_settings *s);

/*
 * Parses GET /status into out (initialised here; device_status_done frees it). Keys the model
 * does not know go to out->raw_unknown. Returns 0, or -1 with *cause (caller frees).
 */
int gen1_parse_status(const char *body, size_t len, struct device_status *out, char **cause);

/* Parses GET /settings into out (initialised here). Returns 0, or -1 with *cause (caller frees). */
int gen1_parse_settings(const char *body, size_t len, struct gen1_settings *out, char **cause);

/* Parses GET /ota into out (initialised here). Returns 0, or -1 with *cause (caller frees). */
int gen1_parse_ota(const char *body, size_t len, struct gen1_ota *out, char **cause);

/*
 * Completes an identity and/or a status (either may be NULL) from settings: ident id = hostname,
 * name, mode; sleep_mode, mac, model, fw when the identity lacks them; component names of
 * relays/rollers/lights/inputs; cloud enabled.
 */
void gen1_settings_apply(
    const struct gen1_settings *s, struct device_ident *ident, struct device_status *st);

#endif
