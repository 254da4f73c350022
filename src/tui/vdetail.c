/*
 * The detail view of one device: identity, every output, cover and light with live values,
 * meters and sensors, a power (or temperature) sparkline from the stored history, the
 * device's recent events, its raw reply, and its own actions on the selected component.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/source.h"
#include "tui/view.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define HISTORY_SPAN_MS (24LL * 3600 * 1000)

/* A component the operator can act on. */
struct comp {
	char kind; /* 's' switch, 'l' light, 'c' cover */
	int id;
	const char *light; /* a light's component type (dev_light_component), else NULL */
};

struct vdetail {
	struct view v;
	char mac[DEV_MAC_LEN];
	struct device_status st;
	int have_st;
	struct comp comps[3 * DEVICE_MAX_COMPONENTS];
	size_t ncomps, sel;
	int raw;
	struct textlines raw_lines; /* the stored reply, when raw */
	struct source_job *job;
	char job_what[128];
	struct comp value_for; /* the component a value prompt is for */
	char *own_name; /* the device's own name when it is not the registry's */
	struct source_names names; /* its components' names, read once per snapshot */
};

static void
load(struct view *v)
{
	struct vdetail *d = (struct vdetail *)v;

	device_status_done(&d->st);
	d->have_st = source_status(d->v.t->src, d->mac, &d->st) == 0;
	if (d->have_st)
		source_names(d->v.t->src, d->mac, &d->names, &d->st);
	d->ncomps = 0;
	if (d->have_st) {
		for (int i = 0; i < d->st.nswitches; i++)
			d->comps[d->ncomps++] = (struct comp){'s', d->st.switches[i].id, NULL};
		for (int i = 0; i < d->st.nlights; i++)
			d->comps[d->ncomps++] = (struct comp){
			    'l', d->st.lights[i].id, dev_light_component(&d->st.lights[i])};
		for (int i = 0; i < d->st.ncovers; i++)
			d->comps[d->ncomps++] = (struct comp){'c', d->st.covers[i].id, NULL};
	}
	if (d->sel >= d->ncomps)
		d->sel = 0;
	free(d->own_name);
	d->own_name = source_own_name(d->v.t->src, d->mac);
	textlines_clear(&d->raw_lines);
	if (d->raw)
		(void)source_raw(d->v.t->src, d->mac, &d->raw_lines); /* none: drawn as such */
}

/* v with decimals and unit, or "-" when unknown. */
static void
num(char *buf, size_t size, int decimals, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f%s", decimals, v, unit);
}

static const char *
tri(int v, const char *yes, const char *no)
{
	return v == 1 ? yes : v == 0 ? no : "-";
}

/* Whether an input's row is among the readings: a count input. */
static int
counting(const struct dev_input *in)
{
	return dev_known(in->count_total);
}

/* Whether the device reports its battery. */
static int
has_battery(const struct vdetail *d)
{
	return dev_known(d->st.sensors.battery_pct) || dev_known(d->st.sensors.battery_v);
}

/* A Gen1 Gas: alarm, sensor state or concentration known. */
static int
has_gas(const struct vdetail *d)
{
	const struct dev_sensors *s = &d->st.sensors;

	return s->gas_alarm[0] != '\0' || s->gas_sensor[0] != '\0' || dev_known(s->gas_ppm);
}

/* The lines draw_readings wants. */
static int
readings_lines(const struct vdetail *d)
{
	int n = d->st.sensors.nthermostats + d->st.sensors.nvoltmeters + has_battery(d) +
	        has_gas(d);

	for (int i = 0; i < d->st.ninputs; i++)
		n += counting(&d->st.inputs[i]);
	return n;
}

/*
 * Battery, thermostats, voltmeters and count inputs, a line each from y (at most h); returns
 * the lines drawn.
 */
static int
draw_readings(struct vdetail *d, struct tui *t, int y, int h, int w)
{
	int line = 0;
	char buf[256], tg[32], cur[32], vp[32];

	if (has_battery(d) && line < h) {
		num(cur, sizeof cur, 0, d->st.sensors.battery_pct, " %");
		num(vp, sizeof vp, 2, d->st.sensors.battery_v, " V");
		snprintf(buf, sizeof buf, "battery       %s  %s  external power %s", cur, vp,
		    tri(d->st.sensors.external_power, "yes", "no"));
		draw_text(y + line++, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	if (has_gas(d) && line < h) {
		const struct dev_sensors *s = &d->st.sensors;
		char al[DEV_SHORT_LEN], ss[DEV_SHORT_LEN], va[DEV_SHORT_LEN];
		num(cur, sizeof cur, 0, s->gas_ppm, " ppm");
		snprintf(buf, sizeof buf, "gas           alarm %s  sensor %s  %s  valve %s",
		    draw_cells(al, sizeof al, s->gas_alarm[0] ? s->gas_alarm : "-", 12),
		    draw_cells(ss, sizeof ss, s->gas_sensor[0] ? s->gas_sensor : "-", 12), cur,
		    draw_cells(va, sizeof va, s->valve[0] ? s->valve : "-", 16));
		draw_text(y + line++, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	for (int i = 0; i < d->st.sensors.nthermostats && line < h; i++, line++) {
		const struct dev_thermostat *th = &d->st.sensors.thermostats[i];
		num(tg, sizeof tg, 1, th->target_c, " C");
		num(cur, sizeof cur, 1, th->current_c, " C");
		num(vp, sizeof vp, 0, th->valve_pos_pct, " %");
		snprintf(buf, sizeof buf, "thermostat:%d %-3s target %s  current %s  valve %s",
		    th->id, tri(th->enable, "on", "off"), tg, cur, vp);
		draw_text(y + line, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	for (int i = 0; i < d->st.sensors.nvoltmeters && line < h; i++, line++) {
		num(cur, sizeof cur, 2, d->st.sensors.voltmeters[i].voltage_v, " V");
		snprintf(buf, sizeof buf, "voltmeter:%-3d %s", d->st.sensors.voltmeters[i].id, cur);
		draw_text(y + line, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	for (int i = 0; i < d->st.ninputs && line < h; i++) {
		const struct dev_input *in = &d->st.inputs[i];
		if (!counting(in))
			continue;
		num(cur, sizeof cur, 0, in->count_total, "");
		num(vp, sizeof vp, 1, in->freq_hz, " Hz");
		snprintf(
		    buf, sizeof buf, "input:%-5d count total %s  frequency %s", in->id, cur, vp);
		draw_text(y + line++, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	return line;
}

/* Appends a light's colour (RGB, white channel, colour temperature) to buf, where known. */
static void
light_colour(const struct dev_light *l, char *buf, size_t size)
{
	size_t len = strlen(buf);

	if (l->rgb[0] >= 0 && l->rgb[1] >= 0 && l->rgb[2] >= 0 && len < size)
		len += (size_t)snprintf(
		    buf + len, size - len, "  rgb %d,%d,%d", l->rgb[0], l->rgb[1], l->rgb[2]);
	if (dev_known(l->white) && len < size)
		len += (size_t)snprintf(buf + len, size - len, "  white %.0f", l->white);
	if (dev_known(l->color_temp_k) && len < size)
		snprintf(buf + len, size - len, "  %.0f K", l->color_temp_k);
}

/* The lines of the meters: one each, and one per phase of a three-phase meter. */
static int
meter_lines(const struct vdetail *d)
{
	int n = d->st.nmeters;

	for (int i = 0; i < d->st.nmeters; i++)
		n += d->st.meters[i].nphases;
	return n;
}

/* What a meter and each of its phases measure, as one line shows it. */
struct meter_line {
	double power_w, voltage_v, current_a, energy_wh, ret_energy_wh, pf;
};

/*
 * A meter's (or one phase's) line: what, name, power, voltage, current, energy, pf, and the
 * energy returned to the grid when the meter counts it.
 */
static void
meter_text(char *buf, size_t size, const char *what, const char *name, const struct meter_line *m)
{
	char nm[80], p[32], v[32], a[32], e[32], f[32], r[48] = "";

	fmt_power(p, sizeof p, m->power_w);
	fmt_energy(e, sizeof e, m->energy_wh);
	num(v, sizeof v, 1, m->voltage_v, "V");
	num(a, sizeof a, 2, m->current_a, "A");
	num(f, sizeof f, 2, m->pf, "");
	if (dev_known(m->ret_energy_wh)) {
		memcpy(r, "  returned ", 12);
		fmt_energy(r + 11, sizeof r - 11, m->ret_energy_wh);
	}
	snprintf(buf, size, "%-9s %s %9s %8s %7s %10s  pf %s%s", what,
	    draw_cells(nm, sizeof nm, name, 16), p, v, a, e, f, r);
}

/* One line per component; returns the lines drawn. */
static int
draw_components(struct vdetail *d, struct tui *t, int y, int h, int w)
{
	int line = 0;
	char buf[512], p[32], e[32], v[32], tc[32], nm[80];

	for (size_t i = 0; i < d->ncomps && line < h; i++, line++) {
		const struct comp *c = &d->comps[i];
		int attr = theme_attr(t->theme, i == d->sel ? TC_CURSOR : TC_NORMAL);
		if (c->kind == 's') {
			const struct dev_switch *s = device_status_switch(&d->st, c->id);
			fmt_power(p, sizeof p, s->power_w);
			fmt_energy(e, sizeof e, s->energy_wh);
			num(v, sizeof v, 1, s->voltage_v, "V");
			num(tc, sizeof tc, 0, s->temperature_c, "C");
			snprintf(buf, sizeof buf, "switch:%-2d %s %-4s %9s %8s %10s %5s", c->id,
			    draw_cells(nm, sizeof nm, s->name, 16), tri(s->output, "on", "off"), p,
			    v, e, tc);
		} else if (c->kind == 'l') {
			const struct dev_light *l = device_status_light_of(&d->st, c->light, c->id);
			char lc[24];
			fmt_power(p, sizeof p, l->power_w);
			num(v, sizeof v, 0, l->brightness_pct, "%");
			snprintf(lc, sizeof lc, "%s:%d", c->light, c->id);
			snprintf(buf, sizeof buf, "%-9s %s %-4s %9s  bright %s", lc,
			    draw_cells(nm, sizeof nm, l->name, 16), tri(l->output, "on", "off"), p,
			    v);
			light_colour(l, buf, sizeof buf);
		} else {
			const struct dev_cover *cv = device_status_cover(&d->st, c->id);
			fmt_power(p, sizeof p, cv->power_w);
			num(v, sizeof v, 0, cv->position_pct, "%");
			snprintf(buf, sizeof buf, "cover:%-3d %s %-9s %5s %9s", c->id,
			    draw_cells(nm, sizeof nm, cv->name, 16), cover_state_name(cv->state), v,
			    p);
		}
		draw_text(y + line, 2, w - 4, buf, attr);
	}
	for (int i = 0; i < d->st.nmeters && line < h; i++) {
		const struct dev_meter *m = &d->st.meters[i];
		char what[32];
		snprintf(what, sizeof what, "%s:%d", m->kind, m->id);
		meter_text(buf, sizeof buf, what, m->name,
		    &(struct meter_line){m->power_w, m->voltage_v, m->current_a, m->energy_wh,
		        m->ret_energy_wh, m->pf});
		draw_text(y + line++, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
		for (int k = 0; k < m->nphases && line < h; k++) {
			const struct dev_phase *ph = &m->phases[k];
			snprintf(what, sizeof what, "  phase %c", ph->label);
			meter_text(buf, sizeof buf, what, "",
			    &(struct meter_line){ph->power_w, ph->voltage_v, ph->current_a,
			        ph->energy_wh, ph->ret_energy_wh, ph->pf});
			draw_text(y + line++, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
		}
	}
	for (int i = 0; i < d->st.sensors.ntemps && line < h; i++, line++) {
		num(v, sizeof v, 1, d->st.sensors.temps[i].temperature_c, " C");
		snprintf(buf, sizeof buf, "temperature:%d  %s", d->st.sensors.temps[i].id, v);
		draw_text(y + line, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	for (int i = 0; i < d->st.sensors.nhums && line < h; i++, line++) {
		num(v, sizeof v, 1, d->st.sensors.hums[i].humidity_pct, " %");
		snprintf(buf, sizeof buf, "humidity:%d     %s", d->st.sensors.hums[i].id, v);
		draw_text(y + line, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	}
	line += draw_readings(d, t, y + line, h - line, w);
	if (line == 0 && h > 0) {
		const struct source_dev *r = source_device(t->src, d->mac);
		if (d->have_st)
			snprintf(buf, sizeof buf, "no outputs, covers or meters");
		else if (r != NULL && r->has_status && r->state != DEVICE_ONLINE &&
		         r->state != DEVICE_ASLEEP) /* it never answered */
			snprintf(buf, sizeof buf, "no reply while %s: outputs and sensors show when it "
			    "answers again", device_state_name(r->state));
		else if (r != NULL && r->status_unread)
			snprintf(buf, sizeof buf,
			    "the stored status could not be read (see the header)");
		else
			snprintf(buf, sizeof buf, "no status stored yet");
		draw_text(y, 2, w - 4, buf, theme_attr(t->theme, TC_DIM));
		line = 1;
	}
	return line;
}

static enum tui_color
raw_line_of(struct view *v, size_t k, char *buf, size_t size)
{
	textlines_get(&((struct vdetail *)v)->raw_lines, k, buf, size);
	return TC_NORMAL;
}

static void
draw_raw(struct vdetail *d, struct tui *t, int y, int h, int w)
{
	draw_frame(t, y, 0, h, w, "Raw reply (J closes)");
	view_draw_list(&d->v, t, &(struct view_area){y + 1, 2, h - 2, w - 4}, d->raw_lines.n,
	    raw_line_of, "no reply stored");
}

/* The bytes of the first 40 characters of name: a long name leaves the header room for the
 * model, address and state. */
static int
head_name_len(const char *name)
{
	int chars = 0, i = 0;

	for (; name[i] != '\0'; i++)
		if (((unsigned char)name[i] & 0xc0) != 0x80 && chars++ == 40)
			break;
	return i;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vdetail *d = (struct vdetail *)v;
	const struct source_dev *r = source_device(d->v.t->src, d->mac);
	char buf[512], up[32], rs[32];
	int oh, yy;

	view_clear(y, h);
	if (r == NULL) {
		draw_text(y, 1, w - 2, "this device is no longer registered (q goes back)",
		    theme_attr(t->theme, TC_ERROR));
		return;
	}
	/* What an operator looks for first (state, address) before what an 80-column line cuts. */
	snprintf(buf, sizeof buf, " %.*s  -  %s  -  %s  -  %s (%s) gen %d  -  %s  -  fw %s%s",
	    head_name_len(source_dev_label(r)), source_dev_label(r),
	    r->has_status      ? device_state_name(r->state)
	    : r->status_unread ? "unknown (status unreadable)"
	                       : "new",
	    r->host, r->model_name, r->model, r->gen, r->mac, r->fw[0] ? r->fw : "-",
	    r->fw_update == 1 ? " (update available)" : "");
	draw_text(y, 0, w, buf, theme_attr(t->theme, TC_TITLE));
	if (r->error[0] != '\0')
		draw_text(y + 1, 1, w - 2, r->error, theme_attr(t->theme, TC_ERROR));
	else if (d->own_name != NULL) {
		snprintf(buf, sizeof buf, "the device calls itself \"%s\"", d->own_name);
		draw_text(y + 1, 1, w - 2, buf, theme_attr(t->theme, TC_DIM));
	}
	if (d->raw) {
		draw_raw(d, t, y + 2, h - 2, w);
		return;
	}
	oh = (int)d->ncomps + meter_lines(d) + d->st.sensors.ntemps + d->st.sensors.nhums +
	     readings_lines(d) + 2;
	if (oh < 3)
		oh = 3;
	if (oh > h - 12)
		oh = h - 12 > 3 ? h - 12 : 3;
	yy = y + 2;
	if (r->stale && d->have_st) {
		/* It stopped answering: what is shown is its last reply, and that says so. */
		char age[32];
		fmt_age(age, sizeof age, loop_wall_ms() - r->reply_ms);
		snprintf(
		    buf, sizeof buf, "Outputs and sensors: last known, %s ago (Tab selects)", age);
		draw_frame(t, yy, 0, oh, w, buf);
	} else
		draw_frame(t, yy, 0, oh, w, "Outputs and sensors (Tab selects)");
	draw_components(d, t, yy + 1, oh - 2, w);
	yy += oh;
	{
		double hist[256];
		int sw = w - 30 > 0 ? (w - 30 < 256 ? w - 30 : 256) : 10;
		int kind = source_history(t->src, d->mac, HISTORY_SPAN_MS, hist, (size_t)sw);
		double lo = INFINITY, hi = -INFINITY;
		draw_frame(
		    t, yy, 0, 3, w, kind == 2 ? "Temperature, last 24 h" : "Power, last 24 h");
		for (int i = 0; i < sw; i++)
			if (!isnan(hist[i])) {
				lo = hist[i] < lo ? hist[i] : lo;
				hi = hist[i] > hi ? hist[i] : hi;
			}
		if (kind == 0)
			draw_text(yy + 1, 2, w - 4, "no history yet", theme_attr(t->theme, TC_DIM));
		else {
			draw_sparkline(t, yy + 1, 2, sw, hist, (size_t)sw);
			snprintf(buf, sizeof buf, " min %.1f max %.1f%s", lo, hi,
			    kind == 2 ? " C" : " W");
			draw_text(yy + 1, 3 + sw, w - sw - 5, buf, theme_attr(t->theme, TC_NORMAL));
		}
		yy += 3;
	}
	fmt_age(up, sizeof up, isnan(d->st.sys.uptime_s) ? -1 : (int64_t)d->st.sys.uptime_s * 1000);
	num(rs, sizeof rs, 0, r->rssi_dbm, " dBm");
	snprintf(buf, sizeof buf, "uptime %s   RSSI %s   cloud %s   MQTT %s   restart needed %s",
	    up, rs, tri(d->st.cloud_connected, "on", "off"), tri(d->st.mqtt_connected, "on", "off"),
	    tri(d->st.sys.restart_required, "yes", "no"));
	draw_text(yy, 2, w - 4, buf, theme_attr(t->theme, TC_NORMAL));
	yy++;
	if (y + h - yy >= 3)
		events_pane(t, d->mac, "Recent events", yy, y + h - yy, w);
}

static void
job_done_cb(struct source_job *job, void *arg)
{
	struct vdetail *d = arg;

	view_job_report(d->v.t, job, d->job_what, d->job_what);
}

/* The view lets go of its job: a job still running runs on, and the console reports its end. */
static void
let_go(struct vdetail *d)
{
	char title[160];

	snprintf(title, sizeof title, "%s: %s", view_dev_label(d->v.t, d->mac), d->job_what);
	jobshelf_put(d->v.t->shelf, title, d->job);
	d->job = NULL;
}

/* The name the operator gave component c on the device (sanitised), or "". */
static const char *
comp_name(struct vdetail *d, const struct comp *c)
{
	const struct dev_switch *s;
	const struct dev_light *l;
	const struct dev_cover *cv;

	if (c->kind == 's')
		return (s = device_status_switch(&d->st, c->id)) != NULL ? s->name : "";
	if (c->kind == 'l')
		return (l = device_status_light_of(&d->st, c->light, c->id)) != NULL ? l->name : "";
	return (cv = device_status_cover(&d->st, c->id)) != NULL ? cv->name : "";
}

/* c as a message names it: its kind and id, and its name when it has one. */
static void
comp_label(struct vdetail *d, const struct comp *c, char *buf, size_t size)
{
	const char *name = comp_name(d, c);
	const char *kind = c->kind == 's' ? "switch" : c->kind == 'c' ? "cover" : c->light;

	snprintf(buf, size, name[0] != '\0' ? "%s:%d \"%.40s\"" : "%s:%d", kind, c->id, name);
}

/* Runs action on component c of the device (NULL: the device itself); a light's through its
 * component type. */
static void
run_value(struct vdetail *d, const char *action, const struct comp *c, int value)
{
	const char *mac = d->mac, *light = c != NULL ? c->light : NULL;
	int channel = c != NULL ? c->id : -1;
	char ch[80] = "";

	let_go(d);
	if (c != NULL)
		comp_label(d, c, ch, sizeof ch);
	snprintf(d->job_what, sizeof d->job_what, "%s", action);
	if (channel >= 0 && value >= 0)
		snprintf(d->job_what, sizeof d->job_what, "%s %s %d%%", action, ch, value);
	else if (channel >= 0)
		snprintf(d->job_what, sizeof d->job_what, "%s %s", action, ch);
	d->job = light != NULL
	             ? source_light_action(
	                   d->v.t->src, action, light, channel, value, mac, job_done_cb, d)
	             : source_action(d->v.t->src, action, channel, value, &mac, 1, job_done_cb, d);
	tui_message(d->v.t, 0, "%s ...", d->job_what);
}

static void
run(struct vdetail *d, const char *action, const struct comp *c)
{
	run_value(d, action, c, -1);
}

static void
value_cb(struct tui *t, const char *text, void *arg)
{
	struct vdetail *d = arg;
	long long v;

	if (text == NULL || text[0] == '\0')
		return;
	if (str_parse_int(text, 0, 100, &v) != 0) {
		tui_message(t, 1, "a whole number 0-100, not '%s'", text);
		return;
	}
	run_value(d, d->value_for.kind == 'c' ? "cover_position" : "light_brightness",
	    &d->value_for, (int)v);
}

static void
confirm_cb(struct tui *t, void *arg)
{
	struct vdetail *d = arg;

	(void)t;
	run(d, d->job_what, NULL);
}

static void
reregister(struct vdetail *d, int accept_cert)
{
	let_go(d);
	snprintf(
	    d->job_what, sizeof d->job_what, accept_cert ? "accept certificate" : "credentials");
	d->job = source_reregister(d->v.t->src, d->mac, accept_cert, job_done_cb, d);
	tui_message(d->v.t, 0, "reading the device again ...");
}

static void
accept_cb(struct tui *t, void *arg)
{
	(void)t;
	reregister(arg, 1);
}

/* The selected component's action for on/off/toggle, or NULL. */
static const char *
output_action(const struct comp *c, enum tui_action a)
{
	if (c->kind == 's')
		return a == TA_ON ? "switch_on" : a == TA_OFF ? "switch_off" : "switch_toggle";
	if (c->kind == 'l')
		return a == TA_ON ? "light_on" : a == TA_OFF ? "light_off" : "light_toggle";
	return NULL;
}

/* Why an output or cover key did nothing: the device has no such component, or another one
 * is selected. kinds: the component kinds that would do. */
static void
not_selected(struct vdetail *d, const char *kinds, const char *article, const char *what)
{
	for (size_t i = 0; i < d->ncomps; i++)
		if (d->comps[i].kind != '\0' && strchr(kinds, d->comps[i].kind) != NULL) {
			tui_message(d->v.t, 1, "select %s %s first (Tab)", article, what);
			return;
		}
	if (d->ncomps == 0)
		tui_message(d->v.t, 1, "no %s known on this device", what);
	else
		tui_message(d->v.t, 1, "this device has no %s", what);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vdetail *d = (struct vdetail *)v;
	const struct comp *c = d->ncomps > 0 ? &d->comps[d->sel] : NULL;

	if (d->raw && cursor_scroll(&v->cur, a))
		return R_DIRTY;
	switch (a) {
	case TA_NEXT_OUTPUT:
	case TA_DOWN:
		if (d->ncomps > 0)
			d->sel = (d->sel + 1) % d->ncomps;
		return R_DIRTY;
	case TA_UP:
		if (d->ncomps > 0)
			d->sel = (d->sel + d->ncomps - 1) % d->ncomps;
		return R_DIRTY;
	case TA_TOGGLE:
	case TA_ON:
	case TA_OFF:
		if (c == NULL || output_action(c, a) == NULL)
			not_selected(d, "sl", "an", "output");
		else
			run(d, output_action(c, a), c);
		return R_DIRTY;
	case TA_COVER_OPEN:
	case TA_COVER_CLOSE:
	case TA_COVER_STOP:
		if (c == NULL || c->kind != 'c')
			not_selected(d, "c", "a", "cover");
		else
			run(d,
			    a == TA_COVER_OPEN    ? "cover_open"
			    : a == TA_COVER_CLOSE ? "cover_close"
			                          : "cover_stop",
			    c);
		return R_DIRTY;
	case TA_SET_VALUE: {
		char label[128], what[80];
		if (c == NULL || c->kind == 's') {
			tui_message(t, 1, "select a cover or a light first (Tab)");
			return R_DIRTY;
		}
		if (c->kind == 'c' && device_status_cover(&d->st, c->id) != NULL &&
		    device_status_cover(&d->st, c->id)->pos_control == 0) {
			/* The device would refuse it; say why and what works. */
			tui_message(t, 1, "cover:%d is not calibrated: no position (O open, C close, "
			    "S stop)", c->id);
			return R_DIRTY;
		}
		d->value_for = *c;
		comp_label(d, c, what, sizeof what);
		snprintf(label, sizeof label, "%s %s (0-100): ",
		    c->kind == 'c' ? "Position of" : "Brightness of", what);
		tui_prompt(t, label, "", value_cb, NULL, d);
		return R_DIRTY;
	}
	case TA_EVENTS: /* this device's events, not the fleet's */
		tui_push(t, vevents_new_device(t, d->mac));
		return R_DIRTY;
	case TA_REBOOT:
	case TA_FW_UPDATE:
		snprintf(
		    d->job_what, sizeof d->job_what, "%s", a == TA_REBOOT ? "reboot" : "fw_update");
		tui_ask(t,
		    a == TA_REBOOT ? "Restart this device?"
		                   : "Install the stable firmware update on this device?",
		    "nothing done", confirm_cb, d);
		return R_DIRTY;
	case TA_CREDENTIALS:
		reregister(d, 0);
		return R_DIRTY;
	case TA_ACCEPT_CERT: {
		const struct source_dev *r = source_device(d->v.t->src, d->mac);
		if (r == NULL || !r->https) {
			tui_message(t, 1, "only an HTTPS device has a certificate to accept");
			return R_DIRTY;
		}
		tui_ask(
		    t, "Pin the certificate this device shows now?", "nothing done", accept_cb, d);
		return R_DIRTY;
	}
	case TA_CONFIG:
		tui_push(t, vconfig_new(t, d->mac));
		return R_DIRTY;
	case TA_SNAPSHOTS:
		tui_push(t, vsnapshots_new(t, d->mac));
		return R_DIRTY;
	case TA_RAW:
		d->raw = !d->raw;
		load(&d->v);
		return R_DIRTY;
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vdetail *d = (struct vdetail *)v;

	let_go(d);
	free(d->own_name);
	source_names_done(&d->names);
	device_status_done(&d->st);
	textlines_clear(&d->raw_lines);
}

static const struct view_ops vdetail_ops = {
    .kind = TV_KIND_DETAIL,
    .draw = draw,
    .action = action,
    .changed = load,
    .free = vfree,
};

struct view *
vdetail_new(struct tui *t, const char *mac)
{
	struct vdetail *d = view_new(t, sizeof *d, &vdetail_ops);

	str_copy(d->mac, sizeof d->mac, mac);
	device_status_init(&d->st);
	return view_open(&d->v);
}
