#ifndef MODEL_OBJECT_H
#define MODEL_OBJECT_H

/*
 * The shared device object of the machine output (`--json` of --probe, --list, --poll-once,
 * --discover; DESIGN.md "Machine output"). Keys are snake_case and carry their unit; unknown
 * values are null, never invented. Strings from devices are emitted as JSON strings (escaped).
 *
 * Keys of one device object:
 *   id, mac, gen, model, model_name, app, fw, fw_version, profile, host, port, scheme, name,
 *   auth_en, sleep_mode, state (online|offline|asleep|auth_required|auth_failed|error), error,
 *   last_seen (unix seconds), status_time (unix seconds the status was read), status_stale
 *   (true: the last poll failed, the status is the last known one; null without a status),
 *   components: {                                    (null when no status is known)
 *     switch: [{id, name, output, power_w, voltage_v, current_a, pf, frequency_hz, energy_wh,
 *               returned_energy_wh, temperature_c, overpower, overtemp, overvoltage,
 *               undervoltage, errors[], source}],
 *     cover:  [{id, name, state (open|closed|opening|closing|stopped|calibrating|unknown),
 *               position_pct, pos_control, power_w, voltage_v, current_a, pf, frequency_hz,
 *               energy_wh, temperature_c, overpower, overtemp, errors[], last_direction,
 *               source}],
 *     light:  [{id, name, kind (light|rgb|rgbw|cct|white|color), output, brightness_pct,
 *               rgb [r,g,b], white, color_temp_k, power_w, voltage_v, current_a, energy_wh,
 *               temperature_c, overpower, overtemp, errors[], source}],
 *     input:  [{id, name, type, state, percent, count_total, frequency_hz, event,
 *               event_count}],
 *     meter:  [{id, kind (emeter|meter|em|em1|pm1), name, power_w, apparent_power_va,
 *               reactive_power_var, voltage_v, current_a, n_current_a, pf, frequency_hz,
 *               energy_wh, returned_energy_wh,
 *               phases: [{phase (a|b|c), voltage_v, current_a, power_w, apparent_power_va, pf,
 *                         frequency_hz, energy_wh, returned_energy_wh}]}],
 *     sensor: {temperature: [{id, name, temperature_c}], humidity: [{id, name, humidity_pct}],
 *              thermostat: [{id, enable, output, target_c, current_c, valve_pos_pct}],
 *              voltmeter: [{id, name, voltage_v}],
 *              illuminance_lux, illumination, battery_pct, battery_v, external_power, motion,
 *              vibration, flood, smoke, door_open, tilt_deg, gas_ppm, gas_alarm, gas_sensor,
 *              valve}
 *   },
 *   wifi: {ssid, ip, rssi_dbm, connected},   eth: {ip} (null without Ethernet),
 *   sys: {mac, uptime_s, unixtime, ram_free_bytes, ram_total_bytes, fs_free_bytes,
 *         fs_total_bytes, temperature_c, overtemp, update_available, update_version,
 *         beta_version, update_status, cfg_rev, cfg_changed_cnt, restart_required,
 *         wakeup_period_s},
 *   cloud: {enabled, connected},   mqtt: {connected}
 * Energies are Wh whatever the device reports; wifi/eth/sys/cloud/mqtt are null without status.
 */
#include <cjson/cJSON.h>

#include "model/device.h"

/* What a front end knows about one device, bundled for output. Pointers are borrowed. */
struct device_view {
	const struct device_ident *ident; /* NULL: identity unknown (all identity keys null) */
	const char *host; /* address it is reached at, NULL unknown */
	int port; /* 0 unknown */
	const char *scheme; /* "http"/"https", NULL unknown */
	const char *name; /* registry name; NULL: the device's own name */
	enum device_state state;
	int never_polled; /* no run has polled it: state "unknown", no error (state not read) */
	const char *error; /* last error, NULL none */
	long long last_seen; /* unix seconds, <= 0 unknown */
	const struct device_status *status; /* NULL: no status known */
	long long status_time; /* unix seconds the status was read, <= 0 unknown */
	int status_stale; /* status is the last known one: the last poll failed */
};

/* Empties a view: everything unknown, state offline. */
void device_view_init(struct device_view *v);

/* Builds the device object; caller owns it (cJSON_Delete, or add it to a list). */
cJSON *device_to_cjson(const struct device_view *v);

/* The device object as text (pretty: indented); malloc'd, caller frees. */
char *device_to_json(const struct device_view *v, int pretty);

#endif
