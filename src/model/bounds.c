#include "model/bounds.h"

#include <math.h>

#include "model/device.h"

#define POWER_MAX 1e6	   /* W, VA, var: 3 x 480 V x 400 A is below 0.6 MW */
#define VOLTAGE_MAX 1000.0 /* V */
#define CURRENT_MAX 1e4	   /* A */
#define ENERGY_MAX 1e13	   /* Wh: x 3600 stays finite and exact enough as joules */
#define TEMP_MIN -273.15   /* degC: absolute zero */
#define TEMP_MAX 1000.0
#define FREQ_MAX 1000.0	   /* Hz (mains, input pulse counters) */
#define SECONDS_MAX 1e10   /* more than 300 years */
#define BYTES_MAX 1e12
#define COUNT_MAX 1e15

/* Makes *v unknown when it lies outside [lo, hi]; returns 1 when it did. */
static int
keep_within(double *v, double lo, double hi)
{
	if (!dev_known(*v) || (*v >= lo && *v <= hi))
		return 0;
	*v = NAN;
	return 1;
}

/* Positions: past an end is the end. */
static void
clamp_pct(double *v)
{
	if (dev_known(*v) && *v < 0)
		*v = 0;
	else if (dev_known(*v) && *v > 100)
		*v = 100;
}

static int
electrical(double *power_w, double *voltage_v, double *current_a, double *pf, double *freq_hz)
{
	int n = 0;

	n += keep_within(power_w, -POWER_MAX, POWER_MAX);
	n += keep_within(voltage_v, 0, VOLTAGE_MAX);
	n += keep_within(current_a, -CURRENT_MAX, CURRENT_MAX);
	if (pf != NULL)
		n += keep_within(pf, -1, 1);
	if (freq_hz != NULL)
		n += keep_within(freq_hz, 0, FREQ_MAX);
	return n;
}

static int
energy(double *wh)
{
	return keep_within(wh, 0, ENERGY_MAX);
}

static int
temperature(double *c)
{
	return keep_within(c, TEMP_MIN, TEMP_MAX);
}

static int
meter(struct dev_meter *m)
{
	int n = electrical(&m->power_w, &m->voltage_v, &m->current_a, &m->pf, &m->freq_hz);

	n += keep_within(&m->aprt_power_va, -POWER_MAX, POWER_MAX);
	n += keep_within(&m->reactive_var, -POWER_MAX, POWER_MAX);
	n += keep_within(&m->n_current_a, -CURRENT_MAX, CURRENT_MAX);
	n += energy(&m->energy_wh) + energy(&m->ret_energy_wh);
	for (int i = 0; i < m->nphases && i < DEVICE_MAX_PHASES; i++) {
		struct dev_phase *p = &m->phases[i];
		n += electrical(&p->power_w, &p->voltage_v, &p->current_a, &p->pf, &p->freq_hz);
		n += keep_within(&p->aprt_power_va, -POWER_MAX, POWER_MAX);
		n += energy(&p->energy_wh) + energy(&p->ret_energy_wh);
	}
	return n;
}

static int
outputs(struct device_status *st)
{
	int n = 0;

	for (int i = 0; i < st->nswitches; i++) {
		struct dev_switch *s = &st->switches[i];
		n += electrical(&s->power_w, &s->voltage_v, &s->current_a, &s->pf, &s->freq_hz);
		n += energy(&s->energy_wh) + energy(&s->ret_energy_wh);
		n += temperature(&s->temperature_c);
	}
	for (int i = 0; i < st->ncovers; i++) {
		struct dev_cover *c = &st->covers[i];
		n += electrical(&c->power_w, &c->voltage_v, &c->current_a, &c->pf, &c->freq_hz);
		n += energy(&c->energy_wh) + temperature(&c->temperature_c);
		clamp_pct(&c->position_pct);
	}
	for (int i = 0; i < st->nlights; i++) {
		struct dev_light *l = &st->lights[i];
		n += electrical(&l->power_w, &l->voltage_v, &l->current_a, NULL, NULL);
		n += energy(&l->energy_wh) + temperature(&l->temperature_c);
		n += keep_within(&l->brightness_pct, 0, 100);
		n += keep_within(&l->white, 0, 255);
		n += keep_within(&l->color_temp_k, 0, 100000);
	}
	for (int i = 0; i < st->ninputs; i++) {
		struct dev_input *in = &st->inputs[i];
		n += keep_within(&in->percent, 0, 100);
		n += keep_within(&in->freq_hz, 0, 1e6);
		n += keep_within(&in->count_total, 0, COUNT_MAX);
		n += keep_within(&in->event_cnt, 0, COUNT_MAX);
	}
	for (int i = 0; i < st->nmeters; i++)
		n += meter(&st->meters[i]);
	return n;
}

static int
sensors(struct dev_sensors *s)
{
	int n = 0;

	for (int i = 0; i < s->ntemps; i++)
		n += temperature(&s->temps[i].temperature_c);
	for (int i = 0; i < s->nhums; i++)
		n += keep_within(&s->hums[i].humidity_pct, 0, 100);
	for (int i = 0; i < s->nvoltmeters; i++)
		n += keep_within(&s->voltmeters[i].voltage_v, -VOLTAGE_MAX, VOLTAGE_MAX);
	for (int i = 0; i < s->nthermostats; i++) {
		struct dev_thermostat *t = &s->thermostats[i];
		n += temperature(&t->target_c) + temperature(&t->current_c);
		clamp_pct(&t->valve_pos_pct);
	}
	n += keep_within(&s->illuminance_lux, 0, 1e6); /* sunlight is about 1e5 */
	n += keep_within(&s->battery_pct, 0, 100);
	n += keep_within(&s->battery_v, 0, 100);
	n += keep_within(&s->tilt_deg, -360, 360);
	n += keep_within(&s->gas_ppm, 0, 1e6);
	return n;
}

int
bounds_apply(struct device_status *st)
{
	struct dev_sys *sys = &st->sys;
	int n = outputs(st) + sensors(&st->sensors);

	n += keep_within(&st->wifi.rssi_dbm, -200, 0);
	/* A WiFi that is not connected has no signal: its rssi (0 on a Pro on Ethernet) is none. */
	if (st->wifi.connected == 0)
		st->wifi.rssi_dbm = NAN;
	n += keep_within(&sys->uptime_s, 0, SECONDS_MAX);
	n += keep_within(&sys->unixtime, 0, SECONDS_MAX);
	n += keep_within(&sys->wakeup_period_s, 0, SECONDS_MAX);
	n += keep_within(&sys->ram_free, 0, BYTES_MAX) + keep_within(&sys->ram_total, 0, BYTES_MAX);
	n += keep_within(&sys->fs_free, 0, BYTES_MAX) + keep_within(&sys->fs_total, 0, BYTES_MAX);
	n += temperature(&sys->device_temperature_c);
	n += keep_within(&sys->cfg_rev, 0, COUNT_MAX);
	n += keep_within(&sys->cfg_changed_cnt, 0, COUNT_MAX);
	st->out_of_range += n;
	return n;
}
