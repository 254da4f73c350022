#ifndef MODEL_DEVICE_H
#define MODEL_DEVICE_H

/*
 * The typed, generation-independent device model: what drivers (shelly/) produce and everything
 * above reads. Plain value types (no pointers except device_status.raw_unknown).
 *
 * Unknown is representable and never invented (DESIGN.md):
 *   - numbers are double, unknown = NAN (test with isnan() or dev_known());
 *   - booleans are int tri-states: 1 true, 0 false, -1 unknown (DEV_UNKNOWN);
 *   - strings are fixed buffers, unknown/absent = "" (device strings longer than the buffer are
 *     truncated at a UTF-8 boundary);
 *   - small counts (num_outputs ...) are int, unknown = -1.
 * Units are fixed: W, V, A, VA, Wh (always, whatever the device reports), degC, %, dBm, s, bytes.
 */
#include <math.h>
#include <stddef.h>

#define DEV_UNKNOWN -1
#define dev_known(x) (!isnan(x))

#define DEVICE_MAX_COMPONENTS 16 /* per kind; extra entries go to raw_unknown */
#define DEVICE_MAX_PHASES 3

#define DEV_ID_LEN 64
#define DEV_NAME_LEN 128
#define DEV_SHORT_LEN 32
#define DEV_FW_LEN 96
#define DEV_HOST_LEN 256
#define DEV_IP_LEN 48
#define DEV_MAC_LEN 13 /* 12 lower-case hex digits + NUL */

/* Device-level state shown by front ends (X-macro: enum, names). */
#define DEVICE_STATE_LIST(X)              \
	X(ONLINE, "online")               \
	X(OFFLINE, "offline")             \
	X(ASLEEP, "asleep")               \
	X(AUTH_REQUIRED, "auth_required") \
	X(AUTH_FAILED, "auth_failed")     \
	X(ERROR, "error")
/* clang-format off */
enum device_state {
#define X(e, s) DEVICE_##e,
	DEVICE_STATE_LIST(X)
#undef X
	DEVICE_STATE_COUNT
};
/* clang-format on */

/* Cover (Gen1 roller, Gen2+ cover) state. Gen1 "open"/"close"/"stop" map to
 * opening/closing/stopped. */
#define COVER_STATE_LIST(X)   \
	X(UNKNOWN, "unknown") \
	X(OPEN, "open")       \
	X(CLOSED, "closed")   \
	X(OPENING, "opening") \
	X(CLOSING, "closing") \
	X(STOPPED, "stopped") \
	X(CALIBRATING, "calibrating")
/* clang-format off */
enum cover_state {
#define X(e, s) COVER_##e,
	COVER_STATE_LIST(X)
#undef X
	COVER_STATE_COUNT
};
/* clang-format on */

/* Identity from GET /shelly (all generations) or Shelly.GetDeviceInfo, completed by settings. */
struct device_ident {
	char id[DEV_ID_LEN]; /* Gen2+: /shelly id; Gen1: settings hostname or <prefix>-<MAC> */
	char mac[DEV_MAC_LEN]; /* 12 lower-case hex digits; "" if the device gave no valid MAC */
	int gen; /* 1..4, 0 unknown */
	char model[DEV_SHORT_LEN]; /* Gen1 "type" (SHSW-1), Gen2+ "model" (SNSW-001P16EU) */
	char app[DEV_SHORT_LEN]; /* Gen2+ "app" (Plus1PM); "" on Gen1 */
	char model_name[DEV_NAME_LEN]; /* readable name from shelly/models, "" if unknown */
	char fw[DEV_FW_LEN]; /* full firmware id: Gen1 "fw", Gen2+ "fw_id" */
	char fw_version[DEV_SHORT_LEN]; /* "1.14.0"; Gen2+ "ver"; "" for dev builds without one */
	int auth_en; /* tri-state: Gen1 "auth", Gen2+ "auth_en" */
	char auth_domain[DEV_ID_LEN]; /* Gen2+ digest realm, "" if null/absent */
	int sleep_mode; /* tri-state: battery device that sleeps */
	int discoverable; /* tri-state */
	char profile[DEV_SHORT_LEN]; /* Gen2+ multi-profile devices: switch/cover/triphase/... */
	char name[DEV_NAME_LEN]; /* user-set device name if the reply had one */
	/* Gen1 /shelly counts, -1 unknown */
	int num_outputs, num_inputs, num_meters, num_emeters, num_rollers;
	char mode[DEV_SHORT_LEN]; /* Gen1 "mode" (relay/roller/color/white), "" if absent */
};

struct dev_switch {
	int id;
	char name[DEV_NAME_LEN];
	int output; /* tri-state */
	double power_w, voltage_v, current_a, pf, freq_hz;
	double energy_wh, ret_energy_wh; /* Wh (Gen1 watt-minutes converted) */
	double temperature_c;
	int overpower, overtemp, overvoltage, undervoltage; /* tri-state */
	char errors[DEV_NAME_LEN]; /* device error codes, comma-separated, "" if none */
	char source[DEV_SHORT_LEN]; /* what changed the output last (http, input, init, ...) */
};

struct dev_cover {
	int id;
	char name[DEV_NAME_LEN];
	enum cover_state state;
	double position_pct; /* 0 closed .. 100 open; NAN if not calibrated/unknown */
	double power_w, voltage_v, current_a, pf, freq_hz, energy_wh, temperature_c;
	int pos_control; /* tri-state: calibrated for positioning */
	int overpower, overtemp; /* tri-state */
	char errors[DEV_NAME_LEN];
	char last_direction[DEV_SHORT_LEN];
	char source[DEV_SHORT_LEN];
};

struct dev_light {
	int id;
	char name[DEV_NAME_LEN];
	/* light, rgb, rgbw, cct (Gen2+ component type); Gen1: its mode white/color, or light */
	char kind[DEV_SHORT_LEN];
	int output; /* tri-state */
	double brightness_pct; /* 0..100 (Gen1 color mode: gain) */
	int rgb[3]; /* 0..255 each, -1 unknown */
	double white; /* 0..255 white channel (rgbw), NAN if none */
	double color_temp_k; /* colour temperature (Gen1 temp, Gen2 cct ct), NAN if none */
	double power_w, voltage_v, current_a, energy_wh, temperature_c;
	int overpower, overtemp; /* tri-state */
	char errors[DEV_NAME_LEN];
	char source[DEV_SHORT_LEN];
};

struct dev_input {
	int id;
	char name[DEV_NAME_LEN];
	char type[DEV_SHORT_LEN]; /* button/switch/analog/count when known, else "" */
	int state; /* tri-state (null for button inputs) */
	double percent; /* analog inputs */
	double count_total, freq_hz; /* count inputs */
	char event[DEV_SHORT_LEN]; /* Gen1 last event (S, L, SS ...) */
	double event_cnt; /* Gen1 event counter */
};

struct dev_phase {
	char label; /* 'a', 'b', 'c' */
	double voltage_v, current_a, power_w, aprt_power_va, pf, freq_hz;
	double energy_wh, ret_energy_wh;
};

/* Energy meter: Gen1 emeters, Gen2+ em (3-phase), em1, pm1 with their *data totals. */
struct dev_meter {
	int id;
	char kind[DEV_SHORT_LEN]; /* "emeter" (Gen1), "em", "em1", "pm1" */
	char name[DEV_NAME_LEN];
	/* single-phase values, or totals of a 3-phase meter (voltage/pf/freq then NAN) */
	double voltage_v, current_a, power_w, aprt_power_va, reactive_var, pf, freq_hz;
	double n_current_a;
	double energy_wh, ret_energy_wh;
	int nphases; /* 0 for single-phase meters */
	struct dev_phase phases[DEVICE_MAX_PHASES];
};

struct dev_temp_sensor {
	int id;
	char name[DEV_NAME_LEN];
	double temperature_c;
};

struct dev_hum_sensor {
	int id;
	char name[DEV_NAME_LEN];
	double humidity_pct;
};

/* A DC voltage input: Gen2+ voltmeter:N (Plus Uni, Add-on), Gen1 adcs[N] (UNI). */
struct dev_voltmeter {
	int id;
	char name[DEV_NAME_LEN];
	double voltage_v;
};

struct dev_thermostat {
	int id;
	int enable, output; /* tri-state */
	double target_c, current_c;
	double valve_pos_pct; /* Gen1 TRV valve position */
};

struct dev_sensors {
	int ntemps;
	struct dev_temp_sensor temps[DEVICE_MAX_COMPONENTS];
	int nhums;
	struct dev_hum_sensor hums[DEVICE_MAX_COMPONENTS];
	int nthermostats;
	struct dev_thermostat thermostats[DEVICE_MAX_COMPONENTS];
	int nvoltmeters;
	struct dev_voltmeter voltmeters[DEVICE_MAX_COMPONENTS];
	double illuminance_lux;
	char illumination[DEV_SHORT_LEN]; /* dark/twilight/bright */
	double battery_pct, battery_v;
	/* tri-state: on mains/USB (Gen2+ devicepower external.present, Gen1 charger) */
	int external_power;
	int motion, vibration, flood, smoke, door_open; /* tri-state */
	double tilt_deg;
	double gas_ppm;
	char gas_alarm[DEV_SHORT_LEN]; /* Gen1 gas alarm_state: none/mild/heavy/test */
	char gas_sensor[DEV_SHORT_LEN]; /* Gen1 gas sensor_state */
	char valve[DEV_SHORT_LEN]; /* Gen1 gas valve state */
};

struct dev_wifi {
	char ssid[DEV_NAME_LEN];
	char ip[DEV_IP_LEN];
	double rssi_dbm;
	int connected; /* tri-state */
};

struct dev_sys {
	char mac[DEV_MAC_LEN]; /* as reported in the status (Gen1 mac, Gen2 sys.mac), normalised */
	double uptime_s, unixtime;
	double ram_free, ram_total, fs_free, fs_total; /* bytes */
	double device_temperature_c; /* internal temperature (Gen2: hottest component) */
	int overtemp; /* tri-state, device-wide (Gen1 overtemperature) */
	int update_available; /* tri-state: a stable update is offered */
	char update_version[DEV_SHORT_LEN]; /* offered stable version, "" if none */
	char beta_version[DEV_SHORT_LEN]; /* offered beta version, "" if none */
	/* The offered firmware ids when the device names them (Gen1 update.new_version and
	 * beta_version, "20241106-105233/v1.14.1-rc1-6-gfb43488e8"), "" otherwise. */
	char update_fw[DEV_FW_LEN], beta_fw[DEV_FW_LEN];
	/* The firmware id the reply says the device runs (Gen1 update.old_version), "" if none. */
	char running_fw[DEV_FW_LEN];
	char update_status[DEV_SHORT_LEN]; /* Gen1 update.status: idle/pending/updating/unknown */
	double cfg_rev; /* Gen2+ sys.cfg_rev */
	double cfg_changed_cnt; /* Gen1 cfg_changed_cnt */
	int restart_required; /* tri-state */
	double wakeup_period_s; /* Gen2+ battery devices */
	/* tri-state: 1 when the reply says why a sleeping device woke (Gen1 act_reasons: H&T,
	 * Button, Flood, Door/Window), so the device sleeps between wake-ups */
	int woke;
};

struct device_status {
	int nswitches;
	struct dev_switch switches[DEVICE_MAX_COMPONENTS];
	int ncovers;
	struct dev_cover covers[DEVICE_MAX_COMPONENTS];
	int nlights;
	struct dev_light lights[DEVICE_MAX_COMPONENTS];
	int ninputs;
	struct dev_input inputs[DEVICE_MAX_COMPONENTS];
	int nmeters;
	struct dev_meter meters[DEVICE_MAX_COMPONENTS];
	struct dev_sensors sensors;
	struct dev_wifi wifi;
	char eth_ip[DEV_IP_LEN];
	int has_eth; /* the device reported an eth component */
	struct dev_sys sys;
	int cloud_enabled, cloud_connected; /* tri-state */
	int mqtt_connected; /* tri-state */
	int ws_connected; /* tri-state, Gen2+ outbound websocket */
	/* JSON object text (malloc'd) of components/keys the model does not know, or NULL */
	char *raw_unknown;
	int out_of_range; /* values model/bounds made unknown (physically impossible) */
};

/* Sets every field of an identity to unknown. */
void device_ident_init(struct device_ident *id);
/*
 * Sets every field to unknown, no components. The entries of the component arrays past their
 * counts are left as they were: whoever adds a component initialises its entry (dev_*_init).
 */
void device_status_init(struct device_status *st);
/* Frees what the status owns (raw_unknown) and re-initialises it. */
void device_status_done(struct device_status *st);
/* Frees a status from the heap and what it owns (no re-initialisation: cheaper than done). */
void device_status_free(struct device_status *st);
/* Deep copy (raw_unknown duplicated); dst must be initialised or done. */
void device_status_copy(struct device_status *dst, const struct device_status *src);

/* Initialisers of one component with all values unknown. */
void dev_switch_init(struct dev_switch *s, int id);
void dev_cover_init(struct dev_cover *c, int id);
void dev_light_init(struct dev_light *l, int id);
void dev_input_init(struct dev_input *in, int id);
void dev_meter_init(struct dev_meter *m, int id, const char *kind);
void dev_phase_init(struct dev_phase *p, char label);
void dev_thermostat_init(struct dev_thermostat *t, int id);
void dev_voltmeter_init(struct dev_voltmeter *v, int id);

/* Component lookups by id: pointer into st or NULL. */
struct dev_switch *device_status_switch(struct device_status *st, int id);
struct dev_cover *device_status_cover(struct device_status *st, int id);
struct dev_light *device_status_light(struct device_status *st, int id);
struct dev_input *device_status_input(struct device_status *st, int id);
struct dev_meter *device_status_meter(struct device_status *st, const char *kind, int id);

/*
 * The component a light is, as its Gen2+ type names it ("light", "rgb", "rgbw", "cct",
 * "rgbcct"): a device may have several of one id (Pro RGBWW PM: rgb:0 and cct:0). A Gen1
 * light (kind: its mode) is "light". Static string.
 */
const char *dev_light_component(const struct dev_light *l);
/* The light of that component type and id, or NULL. */
struct dev_light *device_status_light_of(struct device_status *st, const char *component, int id);

/*
 * Normalises a MAC a device reports (any case, with or without ':'/'-'/'.' separators) into
 * out[13] as 12 lower-case hex digits. Returns 0, or -1 (out = "") if it is not a MAC or is
 * all zeros or all ones, which no device has (a junk reply, unset flash): no MAC at all, so
 * nothing is keyed on it (discovery, --add, the poller).
 */
int device_mac_normalise(const char *in, char out[DEV_MAC_LEN]);
/*
 * Extracts the release version from a firmware id: "20230913-112003/v1.14.0-gcb84623" ->
 * "1.14.0", "20200527-142209/v1.7.0-rc8@6f7ea363" -> "1.7.0-rc8". Returns 0, or -1 (out = "")
 * for builds without a version ("20191217-140757/1047-long-id-...@a0661583").
 */
int device_fw_version(const char *fw, char *out, size_t size);
/* Ids compare case-insensitively (mDNS, /shelly and settings differ in case). */
int device_id_equal(const char *a, const char *b);
/*
 * Returns 1 when id is a Gen2+ device id of the MAC mac (normalised): "<prefix>-<mac>" in any
 * case, else 0. A genuine Gen2+ device's id always ends in its own MAC.
 */
int device_id_has_mac(const char *id, const char *mac);
/*
 * Returns 1 when id is "<prefix>-<12 hex>" and those 12 digits share their first 10 with mac:
 * a Pro device's id may name another of its interfaces (LAN, where /shelly reports the WiFi
 * MAC; they differ in the last octet only), else 0.
 */
int device_id_near_mac(const char *id, const char *mac);

/*
 * Completes an identity from a status: Gen2+ sleep_mode from sys.wakeup_period or a battery
 * without external power, Gen1 from the reasons of a wake-up (sys.woke), when the identity
 * does not know it yet.
 */
void device_ident_update_from_status(struct device_ident *id, const struct device_status *st);

/* An identity's auth_en as stored: "on", "off", or NULL when unknown. Static string. */
const char *device_auth_name(int auth_en);
/* The auth_en a stored name says: 1 "on", 0 "off", DEV_UNKNOWN otherwise (NULL too). */
int device_auth_parse(const char *name);

/* Name of a state ("online"); "unknown" for out-of-range values. Static string. */
const char *device_state_name(enum device_state s);
/* Parses a state name; 0 ok, -1 unknown name. */
int device_state_parse(const char *name, enum device_state *out);
/* Name of a cover state ("opening"). Static string. */
const char *cover_state_name(enum cover_state s);
/* The cover state a name says ("opening"); COVER_UNKNOWN for any other name or NULL. */
enum cover_state cover_state_parse(const char *name);

#endif
