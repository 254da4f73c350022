#ifndef MODEL_FIELDS_H
#define MODEL_FIELDS_H

/*
 * The measured fields of the components, written once: what each is called in the JSON
 * object, how a printed row shows it, and which metric family carries it (with its scale:
 * Wh -> J, % -> ratio). The device object (model/object.c), the printed status (cli/print.c)
 * and the poller's samples behind /metrics (engine/poller.c) walk these tables instead of
 * naming the fields of every component kind again.
 */
#include <stddef.h>

/* The metric families of readings: X(ID, metric name, Prometheus type, help). */
/* clang-format off */
#define FIELD_METRICS(X) \
	X(OUTPUT, "shelly_output", "gauge", "Output state of a switch or light (1 on, 0 off)") \
	X(POWER, "shelly_power_watts", "gauge", "Active power in watts") \
	X(APPARENT_POWER, "shelly_apparent_power_voltamperes", "gauge", "Apparent power in volt-amperes") \
	X(VOLTAGE, "shelly_voltage_volts", "gauge", "Voltage in volts") \
	X(CURRENT, "shelly_current_amperes", "gauge", "Current in amperes") \
	X(POWER_FACTOR, "shelly_power_factor_ratio", "gauge", "Power factor (-1 to 1)") \
	X(FREQUENCY, "shelly_frequency_hertz", "gauge", "Mains frequency in hertz") \
	X(ENERGY, "shelly_energy_joules_total", "counter", \
	    "Energy consumed in joules (device counter; resets when the device does)") \
	X(RET_ENERGY, "shelly_returned_energy_joules_total", "counter", \
	    "Energy returned to the grid in joules (device counter)") \
	X(PHASE_POWER, "shelly_phase_power_watts", "gauge", \
	    "Active power of one phase of a three-phase meter in watts") \
	X(PHASE_APPARENT_POWER, "shelly_phase_apparent_power_voltamperes", "gauge", \
	    "Apparent power of one phase in volt-amperes") \
	X(PHASE_VOLTAGE, "shelly_phase_voltage_volts", "gauge", "Voltage of one phase in volts") \
	X(PHASE_CURRENT, "shelly_phase_current_amperes", "gauge", "Current of one phase in amperes") \
	X(PHASE_POWER_FACTOR, "shelly_phase_power_factor_ratio", "gauge", \
	    "Power factor of one phase (-1 to 1)") \
	X(PHASE_FREQUENCY, "shelly_phase_frequency_hertz", "gauge", \
	    "Mains frequency of one phase in hertz") \
	X(PHASE_ENERGY, "shelly_phase_energy_joules_total", "counter", \
	    "Energy consumed on one phase in joules (device counter)") \
	X(PHASE_RET_ENERGY, "shelly_phase_returned_energy_joules_total", "counter", \
	    "Energy returned to the grid on one phase in joules (device counter)") \
	X(TEMPERATURE, "shelly_temperature_celsius", "gauge", "Temperature in degrees Celsius") \
	X(HUMIDITY, "shelly_humidity_ratio", "gauge", "Relative humidity (0-1)") \
	X(POSITION, "shelly_cover_position_ratio", "gauge", "Cover position (0 closed, 1 open)") \
	X(BRIGHTNESS, "shelly_light_brightness_ratio", "gauge", "Light brightness (0-1)") \
	X(THERMOSTAT_TARGET, "shelly_thermostat_target_celsius", "gauge", \
	    "Target temperature of a thermostat in degrees Celsius") \
	X(VALVE_POSITION, "shelly_valve_position_ratio", "gauge", \
	    "Position of a thermostat's valve (0 closed, 1 open)") \
	X(INPUT_COUNT, "shelly_input_count_total", "counter", \
	    "Pulses counted by a count input (device counter)") \
	X(INPUT_ANALOG, "shelly_input_analog_ratio", "gauge", \
	    "Reading of an analog input (0-1 of its range)") \
	X(BATTERY, "shelly_battery_ratio", "gauge", "Battery charge (0-1)") \
	X(ILLUMINANCE, "shelly_illuminance_lux", "gauge", "Illuminance in lux") \
	X(ALARM, "shelly_sensor_alarm", "gauge", \
	    "1 while a flood, smoke or gas sensor alarms, else 0 (component names which)") \
	X(MOTION, "shelly_motion_detected", "gauge", "1 while a motion sensor detects motion, else 0") \
	X(DOOR_OPEN, "shelly_door_open", "gauge", "1 while a door/window sensor is open, 0 closed") \
	X(GAS, "shelly_gas_concentration_ppm", "gauge", "Gas concentration in parts per million") \
	X(RSSI, "shelly_wifi_rssi_dbm", "gauge", "WiFi signal strength in dBm") \
	X(UPTIME, "shelly_device_uptime_seconds", "gauge", "Seconds since the device started") \
	X(UPDATE, "shelly_device_update_available", "gauge", "1 when a stable firmware update is offered")
/* clang-format on */

enum field_metric {
#define FIELD_METRIC_ENUM(id, name, type, help) FM_##id,
	FIELD_METRICS(FIELD_METRIC_ENUM)
#undef FIELD_METRIC_ENUM
	FM__COUNT,
	FM_NONE = -1
};

/* Component kinds with measured fields. */
enum field_comp {
	FIELD_SWITCH,
	FIELD_COVER,
	FIELD_LIGHT,
	FIELD_METER,
	FIELD_PHASE,
	FIELD_INPUT,
	FIELD_TEMPERATURE,
	FIELD_HUMIDITY,
	FIELD_THERMOSTAT,
	FIELD_VOLTMETER,
};

enum field_type {
	FIELD_REAL, /* double, NAN unknown */
	FIELD_TRI,  /* int, -1 unknown, 0, 1 */
	FIELD_INT,  /* int, always known (the component id) */
	FIELD_TEXT, /* char[], "" unknown */
	FIELD_LIST, /* char[] of comma-separated codes: a JSON array */
};

/* One field of a component struct (model/device.h); static data. */
struct field {
	const char *key;	/* JSON key ("power_w") */
	const char *label;	/* printed label ("power"), NULL: not printed */
	const char *unit;	/* printed after the value (" W") */
	int prec;		/* printed decimals */
	int metric;		/* enum field_metric, FM_NONE when not a metric */
	double scale;		/* metric value = value * scale */
	enum field_type type;
	size_t offset;		/* in the component struct */
};

/* The fields of a component kind in JSON order; *n gets their number. Static. */
const struct field *fields_of(enum field_comp c, size_t *n);
/* Sets the measured fields of kind c in comp to unknown (NAN, DEV_UNKNOWN); the rest stays. */
void fields_unknown(enum field_comp c, void *comp);
/* The value of f in the component comp points to: NAN when unknown (a tri-state as 0 or 1). */
double field_get(const struct field *f, const void *comp);
/* The text of a FIELD_TEXT or FIELD_LIST field. */
const char *field_text(const struct field *f, const void *comp);

struct device_status;

/*
 * Called for every measured component of a status with its kind: name is the component's
 * ("switch", a meter's kind), ch its id, ph a phase's label ('a'..'c') or 0.
 */
typedef void (*fields_component_cb)(
    enum field_comp c, const void *comp, const char *name, int ch, char ph, void *arg);
/*
 * Calls cb for the switches, covers, lights, meters (then their phases), inputs, sensors,
 * thermostats and voltmeters of st.
 */
void fields_each_component(const struct device_status *st, fields_component_cb cb, void *arg);

/* What a device's outputs and meters sum up to (phases are in their meter's total). */
struct fields_totals {
	double power_w, energy_wh; /* sums; NAN: no component told */
	double temperature_c; /* a component's, else the device's, else the first sensor's */
	double voltage_v; /* the first an output or meter reports; NAN: none */
	long long on; /* outputs that are on */
};
void fields_totals(const struct device_status *st, struct fields_totals *t);

#endif
