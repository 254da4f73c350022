/*
 * Live device state. Time is evaluated lazily: every read first brings the device up to "now"
 * (energy integrated from power, covers moved at --cover-speed, timed flips applied), so 10,000
 * idle devices cost no timers.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/loop.h"
#include "util/xmalloc.h"

static uint64_t
now_ms(const struct dev *d)
{
	return loop_now_ms(d->sim->loop);
}

/* A slow, small (+-2 %) drift so power readings look alive but stay predictable. */
static double
drift(const struct dev *d, uint64_t t, int id)
{
	double x = (double)t / 3000.0 + (double)d->index * 0.7 + id;
	return 1.0 + 0.015 * sin(x) + 0.005 * sin(x * 3.1);
}

double
sw_power(const struct dev *d, const struct sim_switch *s, uint64_t t)
{
	if (!s->has_power || !s->on)
		return 0;
	return round_n(s->nominal_w * drift(d, t, s->id), 1);
}

double
cv_power(const struct dev *d, const struct sim_cover *c, uint64_t t)
{
	if (!c->has_power || c->dir == 0)
		return 0;
	return round_n(c->nominal_w * drift(d, t, c->id), 1);
}

double
lt_power(const struct dev *d, const struct sim_light *l, uint64_t t)
{
	if (!l->has_power || !l->on)
		return 0;
	return round_n(l->nominal_w * (l->brightness / 100.0) * drift(d, t, l->id), 1);
}

void
dev_state_init(struct dev *d)
{
	const struct fixture *fx = d->fx;
	double load = d->sim->o.load_w;
	uint64_t now = now_ms(d);

	d->nsw = fx->nsw;
	d->ncv = fx->ncv;
	d->nlt = fx->nlt;
	d->sw = d->nsw ? xmalloc(d->nsw * sizeof *d->sw) : NULL;
	d->cv = d->ncv ? xmalloc(d->ncv * sizeof *d->cv) : NULL;
	d->lt = d->nlt ? xmalloc(d->nlt * sizeof *d->lt) : NULL;
	if (d->nsw)
		memcpy(d->sw, fx->sw, d->nsw * sizeof *d->sw);
	if (d->ncv)
		memcpy(d->cv, fx->cv, d->ncv * sizeof *d->cv);
	if (d->nlt)
		memcpy(d->lt, fx->lt, d->nlt * sizeof *d->lt);
	for (size_t i = 0; i < d->nsw; i++)
		if (d->sw[i].nominal_w <= 0)
			d->sw[i].nominal_w = load;
	for (size_t i = 0; i < d->ncv; i++)
		d->cv[i].nominal_w = load * 2;
	for (size_t i = 0; i < d->nlt; i++)
		d->lt[i].nominal_w = load;
	d->boot_ms = now;
	d->last_ms = now;
	d->cfg_rev = fx->cfg_rev;
	d->serial = 1;
	d->fw = fx->fw ? xstrdup(fx->fw) : NULL;
	d->ver = fx->ver ? xstrdup(fx->ver) : NULL;
	d->upd_stable = fx->upd_stable ? xstrdup(fx->upd_stable) : NULL;
	d->upd_beta = fx->upd_beta ? xstrdup(fx->upd_beta) : NULL;

	/* Identity: keep the first three MAC bytes, the last three are the instance number. */
	unsigned inst = (unsigned)((d->index + 1 + d->sim->o.id_offset) & 0xffffff);
	snprintf(d->mac, sizeof d->mac, "%.6s%06X", fx->mac[0] ? fx->mac : "A4CF12", inst);
	if (fx->id_style == ID_FULL || fx->id_style == ID_LAST6) {
		const char *src = fx->id_style == ID_FULL ? fx->mac : fx->mac + 6;
		const char *rep = fx->id_style == ID_FULL ? d->mac : d->mac + 6;
		size_t sl = strlen(src), il = strlen(fx->id), k;
		struct buf b = {0};
		for (k = 0; k + sl <= il; k++)
			if (strncasecmp(fx->id + k, src, sl) == 0)
				break;
		buf_add(&b, fx->id, k);
		for (size_t j = 0; rep[j]; j++) {
			char ch = rep[j];
			buf_add(&b,
			    &(char){fx->id_upper ? (char)toupper((unsigned char)ch)
			                         : (char)tolower((unsigned char)ch)},
			    1);
		}
		if (k + sl <= il)
			buf_adds(&b, fx->id + k + sl);
		snprintf(d->id, sizeof d->id, "%s", b.p ? b.p : "");
		free(b.p);
	} else {
		char lower[13];
		for (int i = 0; i < 13; i++)
			lower[i] = (char)tolower((unsigned char)d->mac[i]);
		snprintf(d->id, sizeof d->id, "%s-%s", fx->id, lower);
	}
}

void
dev_state_done(struct dev *d)
{
	free(d->sw);
	free(d->cv);
	free(d->lt);
	free(d->patch);
	free(d->fw);
	free(d->ver);
	free(d->upd_stable);
	free(d->upd_beta);
	free(d->name);
	cJSON_Delete(d->secrets);
	d->secrets = NULL;
	d->sw = NULL;
	d->cv = NULL;
	d->lt = NULL;
	d->patch = d->fw = d->ver = d->upd_stable = d->upd_beta = d->name = NULL;
}

static void
cover_advance(struct dev *d, struct sim_cover *c, uint64_t from, uint64_t to)
{
	double speed = d->sim->o.cover_speed; /* percent per second */
	uint64_t end = to;

	if (c->dir == 0)
		return;
	double need_ms = fabs(c->target - c->from) / speed * 1000.0;
	uint64_t arrive = c->t0 + (uint64_t)need_ms;
	if (arrive <= to)
		end = arrive > from ? arrive : from;
	if (c->has_energy && end > from)
		c->energy_wh += cv_power(d, c, end) * (double)(end - from) / 3600000.0;
	if (arrive <= to) {
		c->pos = c->target;
		c->dir = 0;
	} else {
		double moved = speed * (double)(to - c->t0) / 1000.0;
		c->pos = c->from + (c->dir > 0 ? moved : -moved);
		if (c->pos < 0)
			c->pos = 0;
		if (c->pos > 100)
			c->pos = 100;
	}
}

void
dev_advance(struct dev *d, uint64_t now)
{
	uint64_t last = d->last_ms;

	if (now <= last)
		return;
	for (size_t i = 0; i < d->nsw; i++) {
		struct sim_switch *s = &d->sw[i];
		uint64_t t = last;
		if (s->flip_at && s->flip_at <= now) {
			uint64_t at = s->flip_at > last ? s->flip_at : last;
			if (s->has_energy)
				s->energy_wh += sw_power(d, s, at) * (double)(at - t) / 3600000.0;
			s->on = !s->on;
			s->flip_at = 0;
			snprintf(s->source, sizeof s->source, "timer");
			t = at;
		}
		if (s->has_energy)
			s->energy_wh += sw_power(d, s, now) * (double)(now - t) / 3600000.0;
	}
	for (size_t i = 0; i < d->nlt; i++) {
		struct sim_light *l = &d->lt[i];
		uint64_t t = last;
		if (l->flip_at && l->flip_at <= now) {
			uint64_t at = l->flip_at > last ? l->flip_at : last;
			if (l->has_energy)
				l->energy_wh += lt_power(d, l, at) * (double)(at - t) / 3600000.0;
			l->on = !l->on;
			l->flip_at = 0;
			snprintf(l->source, sizeof l->source, "timer");
			t = at;
		}
		if (l->has_energy)
			l->energy_wh += lt_power(d, l, now) * (double)(now - t) / 3600000.0;
	}
	for (size_t i = 0; i < d->ncv; i++)
		cover_advance(d, &d->cv[i], last, now);
	d->last_ms = now;
}

struct sim_switch *
dev_switch(struct dev *d, int id)
{
	for (size_t i = 0; i < d->nsw; i++)
		if (d->sw[i].id == id)
			return &d->sw[i];
	return NULL;
}

struct sim_cover *
dev_cover(struct dev *d, int id)
{
	for (size_t i = 0; i < d->ncv; i++)
		if (d->cv[i].id == id)
			return &d->cv[i];
	return NULL;
}

struct sim_light *
dev_light(struct dev *d, const char *type, int id)
{
	for (size_t i = 0; i < d->nlt; i++)
		if (d->lt[i].id == id && (!type || strcmp(d->lt[i].type, type) == 0))
			return &d->lt[i];
	return NULL;
}

static uint64_t
flip_time(uint64_t now, double after_s)
{
	if (!(after_s > 0) || after_s > 1e7)
		return 0;
	return now + (uint64_t)(after_s * 1000.0);
}

bool
dev_switch_set(struct dev *d, struct sim_switch *s, bool on, double flip_after_s, const char *src)
{
	uint64_t now = now_ms(d);
	bool was = s->on;

	dev_advance(d, now);
	s->on = on;
	s->flip_at = flip_time(now, flip_after_s);
	s->flip_started = now;
	snprintf(s->source, sizeof s->source, "%s", src);
	d->serial++;
	return was;
}

void
dev_light_set(struct dev *d, struct sim_light *l, int on, int brightness, double flip_after_s,
    const char *src)
{
	uint64_t now = now_ms(d);

	dev_advance(d, now);
	if (on >= 0)
		l->on = on != 0;
	if (brightness >= 0)
		l->brightness = brightness > 100 ? 100 : brightness;
	l->flip_at = flip_time(now, flip_after_s);
	l->flip_started = now;
	snprintf(l->source, sizeof l->source, "%s", src);
	d->serial++;
}

void
dev_cover_go(struct dev *d, struct sim_cover *c, double target, const char *src)
{
	uint64_t now = now_ms(d);

	dev_advance(d, now);
	snprintf(c->source, sizeof c->source, "%s", src);
	d->serial++;
	if (target < 0) {
		c->dir = 0;
		c->target = c->pos;
		return;
	}
	if (target > 100)
		target = 100;
	c->from = c->pos;
	c->target = target;
	c->t0 = now;
	c->dir = target > c->pos ? 1 : target < c->pos ? -1 : 0;
	if (c->dir)
		c->last_dir = c->dir;
}

const char *
cover_state_gen2(const struct sim_cover *c)
{
	if (c->dir > 0)
		return "opening";
	if (c->dir < 0)
		return "closing";
	if (c->pos >= 100)
		return "open";
	if (c->pos <= 0)
		return "closed";
	return "stopped";
}

const char *
cover_state_gen1(const struct sim_cover *c)
{
	return c->dir > 0 ? "open" : c->dir < 0 ? "close" : "stop";
}

uint64_t
dev_uptime_s(const struct dev *d, uint64_t now)
{
	return now > d->boot_ms ? (now - d->boot_ms) / 1000 : 0;
}

const char *
dev_name(const struct dev *d)
{
	return d->name;
}

void
dev_config_patch(struct dev *d, const char *patch_json)
{
	cJSON *cur = d->patch ? cJSON_Parse(d->patch) : NULL;
	cJSON *add = cJSON_Parse(patch_json);

	if (!cJSON_IsObject(add)) {
		cJSON_Delete(cur);
		cJSON_Delete(add);
		return;
	}
	if (!cJSON_IsObject(cur)) {
		cJSON_Delete(cur);
		cur = cJSON_CreateObject();
	}
	js_merge(cur, add);
	free(d->patch);
	d->patch = js_print(cur, NULL);
	/* The name shows in /shelly too. */
	const char *name = d->gen == 1
	                       ? js_str(cur, "name")
	                       : js_str(cJSON_GetObjectItemCaseSensitive(
	                                    cJSON_GetObjectItemCaseSensitive(cur, "sys"), "device"),
	                             "name");
	if (name) {
		free(d->name);
		d->name = xstrdup(name);
	}
	d->cfg_rev++;
	cJSON_Delete(cur);
	cJSON_Delete(add);
}

char *
dev_rewrite(const struct dev *d, const char *text, size_t len, size_t *out_len)
{
	const struct fixture *fx = d->fx;
	const char *from[6], *to[6];
	char mac_l[13], fmac_l[13], l6_from[7], l6_to[7];
	size_t n = 0;

	if (fx->id && strcmp(fx->id, d->id) != 0) {
		from[n] = fx->id;
		to[n++] = d->id;
	}
	if (fx->mac[0]) {
		for (int i = 0; i < 13; i++) {
			mac_l[i] = (char)tolower((unsigned char)d->mac[i]);
			fmac_l[i] = (char)tolower((unsigned char)fx->mac[i]);
		}
		from[n] = fx->mac;
		to[n++] = d->mac;
		from[n] = fmac_l;
		to[n++] = mac_l;
		if (fx->id_style == ID_LAST6) {
			for (int i = 0; i < 7; i++) {
				l6_from[i] = fx->id_upper ? fx->mac[6 + i] : fmac_l[6 + i];
				l6_to[i] = fx->id_upper ? d->mac[6 + i] : mac_l[6 + i];
			}
			from[n] = l6_from;
			to[n++] = l6_to;
		}
	}
	return str_replace_all(text, len, from, to, n, out_len);
}

void
dev_reboot_done(struct dev *d)
{
	uint64_t now = now_ms(d);

	dev_advance(d, now);
	d->boot_ms = now;
	d->reboots++;
	d->restart_required = false;
	for (size_t i = 0; i < d->ncv; i++) {
		d->cv[i].dir = 0;
		d->cv[i].target = d->cv[i].pos;
	}
	for (size_t i = 0; i < d->nsw; i++)
		d->sw[i].flip_at = 0;
	for (size_t i = 0; i < d->nlt; i++)
		d->lt[i].flip_at = 0;
	if (d->gen == 1) {
		/* Gen1 meters count from boot. */
		for (size_t i = 0; i < d->nsw; i++)
			d->sw[i].energy_wh = 0;
		for (size_t i = 0; i < d->nlt; i++)
			d->lt[i].energy_wh = 0;
	}
	if (d->pending_update) {
		const char *v = d->upd_stable ? d->upd_stable : d->upd_beta;
		d->pending_update = false;
		if (v) {
			if (d->gen == 1) {
				free(d->fw);
				d->fw = xstrdup(v);
			} else {
				free(d->ver);
				d->ver = xstrdup(v);
				free(d->fw);
				d->fw = xasprintf("20260101-000000/%s-gsim", v);
			}
		}
		free(d->upd_stable);
		free(d->upd_beta);
		d->upd_stable = d->upd_beta = NULL;
	}
}
