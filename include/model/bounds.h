#ifndef MODEL_BOUNDS_H
#define MODEL_BOUNDS_H

/*
 * Physical bounds of a device's readings. A value no device can measure (apower 1e308, a
 * negative voltage, an uptime of centuries) is a broken or hostile reply: it becomes unknown
 * rather than reaching the store, /metrics (where energy x 3600 would overflow) or a screen.
 * Positions (covers, valves) past their ends are clamped to 0-100 instead: a real Shelly 2.5
 * roller reported 112. The signal strength of a WiFi that is not connected (rssi 0 on a Pro on
 * Ethernet) is unknown too. The raw reply keeps what the device sent.
 *
 * The bounds are wide on purpose: the largest Shelly meters (3 phases, 400 A clamps) stay far
 * inside them, and every capture in tests/fixtures passes unchanged.
 */
struct device_status;

/* Applies the bounds in place; returns how many values became unknown (also added to
 * st->out_of_range). */
int bounds_apply(struct device_status *st);

#endif
