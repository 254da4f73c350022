#include "cli/print.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/fields.h"
#include "model/object.h"
#include "util/json.h"
#include "util/str.h"

void
print_safe(FILE *fp, const char *s)
{
	char *clean;

	if (s == NULL || s[0] == '\0') {
		fputs("-", fp);
		return;
	}
	clean = str_sanitize(s, 1024);
	fputs(clean, fp);
	free(clean);
}

void
print_cause(const char *what, const char *text)
{
	fprintf(stderr, "shelly-tui: %s", what);
	print_safe(stderr, text);
	fputc('\n', stderr);
}

/* " 12.3 W" style value, or nothing when unknown. */
static void
val(FILE *fp, const char *label, double v, int prec, const char *unit)
{
	if (isnan(v))
		return;
	fprintf(fp, " %s%s%.*f%s", label, label[0] ? " " : "", prec, v, unit);
}

/* The printed fields of a component (model/fields.h): those with a label, in table order. */
static void
vals(FILE *fp, enum field_comp c, const void *comp)
{
	size_t n;
	const struct field *f = fields_of(c, &n);

	for (size_t i = 0; i < n; i++)
		if (f[i].label != NULL && f[i].type == FIELD_REAL)
			val(fp, f[i].label, field_get(&f[i], comp), f[i].prec, f[i].unit);
}

/* A component's row: "  switch:0 on  ", its printed fields, then extra (already safe). */
static void
row(FILE *fp, const char *kind, int id, const char *word, enum field_comp c, const void *comp,
    const char *extra)
{
	fprintf(fp, "  %s:%d %-4s", kind, id, word);
	vals(fp, c, comp);
	fprintf(fp, "%s\n", extra);
}

static const char *
onoff(int v)
{
	return v == 1 ? "on" : v == 0 ? "off" : "?";
}

void
print_status(FILE *fp, const struct device_status *st)
{
	for (int i = 0; i < st->nswitches; i++) {
		const struct dev_switch *s = &st->switches[i];
		char *name = str_sanitize(s->name, 64), extra[128];
		snprintf(extra, sizeof extra, "%s%s%s%s", name[0] ? " \"" : "", name,
		    name[0] ? "\"" : "", s->overpower == 1 || s->overtemp == 1 ? " ALARM" : "");
		row(fp, "switch", s->id, onoff(s->output), FIELD_SWITCH, s, extra);
		free(name);
	}
	for (int i = 0; i < st->ncovers; i++)
		row(fp, "cover", st->covers[i].id, cover_state_name(st->covers[i].state), FIELD_COVER,
		    &st->covers[i], "");
	for (int i = 0; i < st->nlights; i++) {
		const struct dev_light *l = &st->lights[i];
		char rgb[48] = "";
		if (l->rgb[0] >= 0)
			snprintf(rgb, sizeof rgb, " rgb %d,%d,%d", l->rgb[0], l->rgb[1], l->rgb[2]);
		row(fp, dev_light_component(l), l->id, onoff(l->output), FIELD_LIGHT, l, rgb);
	}
	for (int i = 0; i < st->ninputs; i++) {
		const struct dev_input *in = &st->inputs[i];
		/* A count or analog input has no state: its type says what it is. */
		char *type = str_sanitize(in->type, 16);
		row(fp, "input", in->id, in->state < 0 && type[0] ? type : onoff(in->state),
		    FIELD_INPUT, in, "");
		free(type);
	}
	for (int i = 0; i < st->nmeters; i++) {
		const struct dev_meter *m = &st->meters[i];
		fprintf(fp, "  %s:%d", m->kind, m->id);
		vals(fp, FIELD_METER, m);
		fputc('\n', fp);
		for (int j = 0; j < m->nphases; j++) {
			const struct dev_phase *p = &m->phases[j];
			fprintf(fp, "    phase %c", p->label);
			vals(fp, FIELD_PHASE, p);
			fputc('\n', fp);
		}
	}
	for (int i = 0; i < st->sensors.ntemps; i++) {
		fprintf(fp, "  temperature:%d", st->sensors.temps[i].id);
		vals(fp, FIELD_TEMPERATURE, &st->sensors.temps[i]);
		fputc('\n', fp);
	}
	for (int i = 0; i < st->sensors.nhums; i++) {
		fprintf(fp, "  humidity:%d", st->sensors.hums[i].id);
		vals(fp, FIELD_HUMIDITY, &st->sensors.hums[i]);
		fputc('\n', fp);
	}
	for (int i = 0; i < st->sensors.nvoltmeters; i++) {
		fprintf(fp, "  voltmeter:%d", st->sensors.voltmeters[i].id);
		vals(fp, FIELD_VOLTMETER, &st->sensors.voltmeters[i]);
		fputc('\n', fp);
	}
	for (int i = 0; i < st->sensors.nthermostats; i++) {
		const struct dev_thermostat *t = &st->sensors.thermostats[i];
		row(fp, "thermostat", t->id, onoff(t->enable), FIELD_THERMOSTAT, t, "");
	}
	if (!isnan(st->sensors.battery_pct)) {
		fprintf(fp, "  battery");
		val(fp, "", st->sensors.battery_pct, 0, " %");
		fputc('\n', fp);
	}
	if (st->sensors.gas_alarm[0] || st->sensors.gas_sensor[0] || !isnan(st->sensors.gas_ppm)) {
		/* a Gen1 Gas: its alarm, its sensor's state, the concentration and its valve */
		fputs("  gas alarm ", fp);
		print_safe(fp, st->sensors.gas_alarm[0] ? st->sensors.gas_alarm : "?");
		fputs(" sensor ", fp);
		print_safe(fp, st->sensors.gas_sensor[0] ? st->sensors.gas_sensor : "?");
		val(fp, "concentration", st->sensors.gas_ppm, 0, " ppm");
		if (st->sensors.valve[0]) {
			fputs(" valve ", fp);
			print_safe(fp, st->sensors.valve);
		}
		fputc('\n', fp);
	}
	if (st->sensors.flood >= 0 || st->sensors.smoke >= 0 || st->sensors.motion >= 0 ||
	    st->sensors.door_open >= 0 || !isnan(st->sensors.illuminance_lux)) {
		fputs("  sensors", fp);
		if (st->sensors.flood >= 0)
			fprintf(fp, " flood %s", onoff(st->sensors.flood));
		if (st->sensors.smoke >= 0)
			fprintf(fp, " smoke %s", onoff(st->sensors.smoke));
		if (st->sensors.motion >= 0)
			fprintf(fp, " motion %s", onoff(st->sensors.motion));
		if (st->sensors.door_open >= 0)
			fprintf(fp, " door %s", st->sensors.door_open == 1 ? "open" : "closed");
		val(fp, "illuminance", st->sensors.illuminance_lux, 0, " lux");
		fputc('\n', fp);
	}
	if (st->wifi.ssid[0] || st->wifi.ip[0] || !isnan(st->wifi.rssi_dbm)) {
		fputs("  wifi ", fp);
		print_safe(fp, st->wifi.ssid);
		fputs(" ip ", fp);
		print_safe(fp, st->wifi.ip);
		val(fp, "rssi", st->wifi.rssi_dbm, 0, " dBm");
		fputc('\n', fp);
	}
	if (st->has_eth) {
		fputs("  eth ip ", fp);
		print_safe(fp, st->eth_ip);
		fputc('\n', fp);
	}
	fputs("  sys", fp);
	val(fp, "uptime", st->sys.uptime_s, 0, " s");
	val(fp, "temp", st->sys.device_temperature_c, 1, " C");
	val(fp, "ram free", st->sys.ram_free, 0, " B");
	if (st->sys.update_available == 1) {
		fputs(" update ", fp);
		print_safe(fp, st->sys.update_version[0] ? st->sys.update_version : "available");
	}
	val(fp, "cfg_rev", st->sys.cfg_rev, 0, "");
	fputc('\n', fp);
	if (st->cloud_connected >= 0 || st->mqtt_connected >= 0)
		fprintf(fp, "  cloud %s mqtt %s\n",
		    st->cloud_connected == 1 ? "connected" : st->cloud_connected == 0 ? "not connected" : "?",
		    st->mqtt_connected == 1 ? "connected" : st->mqtt_connected == 0 ? "not connected" : "?");
}

void
print_probe(FILE *fp, int json, const struct device_ident *ident, const char *host,
    uint16_t port, int https, enum device_state state, const char *error,
    const struct device_status *status)
{
	if (json) {
		struct device_view v;
		char *text;

		device_view_init(&v);
		v.ident = ident;
		v.host = host;
		v.port = port ? port : (https ? 443 : 80);
		v.scheme = https ? "https" : "http";
		v.state = state;
		v.error = error;
		v.status = status;
		text = device_to_json(&v, 1);
		fprintf(fp, "%s\n", text);
		free(text);
		return;
	}
	fputs("device  ", fp);
	print_safe(fp, ident ? ident->id : NULL);
	fputs(strchr(host ? host : "", ':') != NULL ? " ([" : " (", fp); /* [IPv6]:port */
	print_safe(fp, host);
	fprintf(fp, "%s:%u)\n", strchr(host ? host : "", ':') != NULL ? "]" : "",
	    (unsigned)(port ? port : (https ? 443 : 80)));
	if (ident != NULL) {
		fputs("model   ", fp);
		print_safe(fp, ident->model_name[0] ? ident->model_name : ident->model);
		fputs(" [", fp);
		print_safe(fp, ident->model);
		fprintf(fp, "] gen %d\n", ident->gen);
		fputs("mac     ", fp);
		print_safe(fp, ident->mac);
		fputs("\nfw      ", fp);
		print_safe(fp, ident->fw);
		fprintf(fp, "\nauth    %s\n", ident->auth_en == 1 ? "on" : "off");
		if (ident->name[0]) {
			fputs("name    ", fp);
			print_safe(fp, ident->name);
			fputc('\n', fp);
		}
	}
	fprintf(fp, "state   %s", device_state_name(state));
	if (error != NULL && error[0]) {
		fputs(": ", fp);
		print_safe(fp, error);
	}
	fputc('\n', fp);
	if (status != NULL)
		print_status(fp, status);
}

void
print_json_doc(FILE *fp, cJSON *doc)
{
	char *text = json_print(doc, 1);

	fprintf(fp, "%s\n", text);
	free(text);
	cJSON_Delete(doc);
}
