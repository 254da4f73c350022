/*
 * Fixture folders -> struct fixture. A folder holding shelly.json plus status.json (Gen1) or
 * Shelly.GetStatus.json (Gen2+) is a device; each subfolder is another capture. The raw texts
 * are kept; typed initial state (outputs, covers, lights, energy, cfg_rev, offered updates) is
 * read once here.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define FX_MAX_DEPTH 8

static bool
is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *
load_opt(const char *dir, const char *name, char **cause)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *text = NULL;
	size_t len;

	if (is_file(path))
		text = read_file(path, &len, cause);
	free(path);
	return text;
}

static bool
hex12(const char *s)
{
	if (!s || strlen(s) != 12)
		return false;
	for (int i = 0; i < 12; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Finds needle in hay case-insensitively; returns the offset or -1. */
static long
find_ci(const char *hay, const char *needle)
{
	size_t hl = strlen(hay), nl = strlen(needle);
	for (size_t i = 0; nl && i + nl <= hl; i++)
		if (strncasecmp(hay + i, needle, nl) == 0)
			return (long)i;
	return -1;
}

static void
identity_style(struct fixture *fx)
{
	long at;

	fx->id_style = ID_NONE;
	if (!fx->id || !fx->mac[0])
		return;
	if ((at = find_ci(fx->id, fx->mac)) >= 0) {
		fx->id_style = ID_FULL;
		fx->id_upper =
		    isupper((unsigned char)fx->id[at]) || isdigit((unsigned char)fx->id[at]);
		/* All-digit prefix: look for a letter in the matched part. */
		for (int i = 0; i < 12; i++)
			if (isalpha((unsigned char)fx->id[at + i])) {
				fx->id_upper = isupper((unsigned char)fx->id[at + i]);
				break;
			}
		return;
	}
	if ((at = find_ci(fx->id, fx->mac + 6)) >= 0) {
		fx->id_style = ID_LAST6;
		fx->id_upper = true;
		for (int i = 0; i < 6; i++)
			if (isalpha((unsigned char)fx->id[at + i])) {
				fx->id_upper = isupper((unsigned char)fx->id[at + i]);
				break;
			}
	}
}

static void
copy_source(char dst[12], const cJSON *o)
{
	const char *s = js_str(o, "source");
	snprintf(dst, 12, "%s", s ? s : "init");
}

static void
gen1_components(struct fixture *fx, const cJSON *st)
{
	const cJSON *relays = cJSON_GetObjectItemCaseSensitive(st, "relays");
	const cJSON *meters = cJSON_GetObjectItemCaseSensitive(st, "meters");
	const cJSON *rollers = cJSON_GetObjectItemCaseSensitive(st, "rollers");
	const cJSON *lights = cJSON_GetObjectItemCaseSensitive(st, "lights");
	int n, i;

	n = cJSON_IsArray(relays) ? cJSON_GetArraySize(relays) : 0;
	if (n > 0 && cJSON_IsArray(rollers) && cJSON_GetArraySize(rollers) > 0)
		n = 0; /* roller mode: relays are not outputs of their own */
	if (n > 0) {
		fx->sw = xcalloc((size_t)n, sizeof *fx->sw);
		for (i = 0; i < n; i++) {
			const cJSON *r = cJSON_GetArrayItem(relays, i);
			const cJSON *m = cJSON_GetArrayItem(meters, i);
			struct sim_switch *s = &fx->sw[fx->nsw++];
			s->id = i;
			s->on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ison"));
			s->has_power = js_has(m, "total");
			s->has_energy = s->has_power;
			s->energy_wh = js_num(m, "total", 0) / 60.0;
			s->voltage = js_num(st, "voltage", 230);
			if (s->on && js_num(m, "power", 0) > 1)
				s->nominal_w = js_num(m, "power", 0);
			copy_source(s->source, r);
		}
	}
	n = cJSON_IsArray(rollers) ? cJSON_GetArraySize(rollers) : 0;
	if (n > 0) {
		fx->cv = xcalloc((size_t)n, sizeof *fx->cv);
		for (i = 0; i < n; i++) {
			const cJSON *r = cJSON_GetArrayItem(rollers, i);
			struct sim_cover *c = &fx->cv[fx->ncv++];
			double pos = js_num(r, "current_pos", -1);
			const char *ld = js_str(r, "last_direction");
			c->id = i;
			c->pos_control =
			    pos >= 0 && pos <= 100 &&
			    !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "positioning"));
			c->pos = (pos >= 0 && pos <= 100) ? pos : 50;
			c->target = c->pos;
			c->has_power = js_has(r, "power");
			c->voltage = 230;
			c->last_dir = ld && strcmp(ld, "close") == 0 ? -1 : 1;
			copy_source(c->source, r);
		}
	}
	n = cJSON_IsArray(lights) ? cJSON_GetArraySize(lights) : 0;
	if (n > 0) {
		fx->lt = xcalloc((size_t)n, sizeof *fx->lt);
		for (i = 0; i < n; i++) {
			const cJSON *l = cJSON_GetArrayItem(lights, i);
			const cJSON *m = cJSON_GetArrayItem(meters, i);
			struct sim_light *t = &fx->lt[fx->nlt++];
			t->id = i;
			snprintf(t->type, sizeof t->type, "light");
			t->on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "ison"));
			t->gain_key = !js_has(l, "brightness") && js_has(l, "gain");
			t->brightness = (int)js_num(l, t->gain_key ? "gain" : "brightness", 100);
			t->has_power = js_has(l, "power") || js_has(m, "total");
			t->has_energy = js_has(m, "total");
			t->energy_wh = js_num(m, "total", 0) / 60.0;
			t->voltage = 230;
			copy_source(t->source, l);
		}
	}
	fx->cfg_rev = (int)js_num(st, "cfg_changed_cnt", 0);
	const cJSON *upd = cJSON_GetObjectItemCaseSensitive(st, "update");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(upd, "has_update")) &&
	    js_str(upd, "new_version"))
		fx->upd_stable = xstrdup(js_str(upd, "new_version"));
	if (js_str(upd, "beta_version") && fx->fw &&
	    strcmp(js_str(upd, "beta_version"), fx->fw) != 0)
		fx->upd_beta = xstrdup(js_str(upd, "beta_version"));
}

/* Splits "type:N"; returns N or -1. */
static int
key_split(const char *key, char *type, size_t cap)
{
	const char *colon = strchr(key, ':');
	char *end;
	long id;

	if (!colon || (size_t)(colon - key) >= cap)
		return -1;
	memcpy(type, key, (size_t)(colon - key));
	type[colon - key] = '\0';
	id = strtol(colon + 1, &end, 10);
	if (*end || id < 0 || id > 100000)
		return -1;
	return (int)id;
}

static void
gen2_components(struct fixture *fx, const cJSON *st)
{
	const cJSON *it;
	size_t nsw = 0, ncv = 0, nlt = 0;
	char type[32];

	cJSON_ArrayForEach(it, st)
	{
		if (key_split(it->string, type, sizeof type) < 0)
			continue;
		if (strcmp(type, "switch") == 0)
			nsw++;
		else if (strcmp(type, "cover") == 0)
			ncv++;
		else if (!strcmp(type, "light") || !strcmp(type, "rgb") || !strcmp(type, "rgbw") ||
		         !strcmp(type, "cct"))
			nlt++;
	}
	fx->sw = nsw ? xcalloc(nsw, sizeof *fx->sw) : NULL;
	fx->cv = ncv ? xcalloc(ncv, sizeof *fx->cv) : NULL;
	fx->lt = nlt ? xcalloc(nlt, sizeof *fx->lt) : NULL;
	cJSON_ArrayForEach(it, st)
	{
		int id = key_split(it->string, type, sizeof type);
		const cJSON *ae = cJSON_GetObjectItemCaseSensitive(it, "aenergy");
		if (id < 0)
			continue;
		if (strcmp(type, "switch") == 0) {
			struct sim_switch *s = &fx->sw[fx->nsw++];
			s->id = id;
			s->on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "output"));
			s->has_power = js_has(it, "apower");
			s->has_energy = cJSON_IsObject(ae);
			s->energy_wh = js_num(ae, "total", 0);
			s->voltage = js_num(it, "voltage", 230);
			if (s->on && js_num(it, "apower", 0) > 1)
				s->nominal_w = js_num(it, "apower", 0);
			copy_source(s->source, it);
		} else if (strcmp(type, "cover") == 0) {
			struct sim_cover *c = &fx->cv[fx->ncv++];
			const char *state = js_str(it, "state");
			const char *ld = js_str(it, "last_direction");
			c->id = id;
			c->pos_control =
			    js_has(it, "current_pos") &&
			    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "current_pos"));
			if (c->pos_control)
				c->pos = js_num(it, "current_pos", 50);
			else if (state && strcmp(state, "closed") == 0)
				c->pos = 0;
			else if (state && strcmp(state, "open") == 0)
				c->pos = 100;
			else
				c->pos = 50;
			c->target = c->pos;
			c->has_power = js_has(it, "apower");
			c->has_energy = cJSON_IsObject(ae);
			c->energy_wh = js_num(ae, "total", 0);
			c->voltage = js_num(it, "voltage", 230);
			c->last_dir = ld && strcmp(ld, "close") == 0 ? -1 : 1;
			copy_source(c->source, it);
		} else if (!strcmp(type, "light") || !strcmp(type, "rgb") ||
		           !strcmp(type, "rgbw") || !strcmp(type, "cct")) {
			struct sim_light *l = &fx->lt[fx->nlt++];
			l->id = id;
			snprintf(l->type, sizeof l->type, "%.7s", type);
			l->on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "output"));
			l->brightness = (int)js_num(it, "brightness", 100);
			l->has_power = js_has(it, "apower");
			l->has_energy = cJSON_IsObject(ae);
			l->energy_wh = js_num(ae, "total", 0);
			l->voltage = js_num(it, "voltage", 230);
			copy_source(l->source, it);
		}
	}
	const cJSON *sys = cJSON_GetObjectItemCaseSensitive(st, "sys");
	const cJSON *au = cJSON_GetObjectItemCaseSensitive(sys, "available_updates");
	fx->cfg_rev = (int)js_num(sys, "cfg_rev", 0);
	const char *v = js_str(cJSON_GetObjectItemCaseSensitive(au, "stable"), "version");
	if (v)
		fx->upd_stable = xstrdup(v);
	v = js_str(cJSON_GetObjectItemCaseSensitive(au, "beta"), "version");
	if (v)
		fx->upd_beta = xstrdup(v);
}

/* Is name (without ".json") an RPC method name like "Shelly.ListMethods"? */
static bool
method_name(const char *name)
{
	const char *dot = strchr(name, '.');
	if (!dot || dot == name || !dot[1])
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_')
			return false;
	return true;
}

static void
add_file(struct fixture *fx, const char *name, char *text, size_t len)
{
	fx->files = xreallocarray(fx->files, fx->nfiles + 1, sizeof *fx->files);
	fx->files[fx->nfiles].name = xstrdup(name);
	fx->files[fx->nfiles].text = text;
	fx->files[fx->nfiles].len = len;
	fx->nfiles++;
}

static int
load_extra_files(struct fixture *fx, char **cause)
{
	struct dirent **ents = NULL;
	int n = scandir(fx->dir, &ents, NULL, alphasort);

	if (n < 0) {
		*cause = xasprintf("%s: %s", fx->dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *fn = ents[i]->d_name;
		size_t fl = strlen(fn);
		char base[256], *path, *text;
		size_t len;
		if (fl <= 5 || fl - 5 >= sizeof base || strcmp(fn + fl - 5, ".json") != 0)
			continue;
		memcpy(base, fn, fl - 5);
		base[fl - 5] = '\0';
		if (strstr(base, ".partial") || strstr(base, ".frame") || strstr(base, ".decoded"))
			continue;
		if (!strcmp(base, "shelly") || !strcmp(base, "status") ||
		    !strcmp(base, "settings") || !strcasecmp(base, "Shelly.GetStatus") ||
		    !strcasecmp(base, "Shelly.GetConfig") ||
		    !strcasecmp(base, "Shelly.GetDeviceInfo"))
			continue;
		path = xasprintf("%s/%s", fx->dir, fn);
		if (!is_file(path)) {
			free(path);
			continue;
		}
		text = read_file(path, &len, cause);
		free(path);
		if (!text)
			goto fail;
		if (fx->gen >= 2) {
			if (!method_name(base)) {
				free(text);
				continue;
			}
			add_file(fx, base, text, len);
		} else {
			char url[260];
			snprintf(url, sizeof url, "/%s", base);
			for (char *p = url; *p; p++)
				if (*p == '-')
					*p = '/';
			add_file(fx, url, text, len);
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return 0;
fail:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return -1;
}

struct fixture *
fixture_load(const char *root, const char *rel, char **cause)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	cJSON *sh = NULL, *st = NULL, *set = NULL;
	const char *s;

	fx->path = xstrdup(rel);
	fx->dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	*cause = NULL;
	if (!(fx->shelly = load_opt(fx->dir, "shelly.json", cause))) {
		if (!*cause)
			*cause = xstrdup("no shelly.json");
		goto fail;
	}
	if (!(sh = cJSON_Parse(fx->shelly)) || !cJSON_IsObject(sh)) {
		*cause = xstrdup("shelly.json is not a JSON object");
		goto fail;
	}
	fx->gen = (int)js_num(sh, "gen", 1);
	if (fx->gen < 1 || fx->gen > 9) {
		*cause = xasprintf("shelly.json: unexpected gen %d", fx->gen);
		goto fail;
	}
	fx->status =
	    load_opt(fx->dir, fx->gen == 1 ? "status.json" : "Shelly.GetStatus.json", cause);
	if (!fx->status) {
		if (!*cause)
			*cause = xasprintf(
			    "no %s", fx->gen == 1 ? "status.json" : "Shelly.GetStatus.json");
		goto fail;
	}
	if (!(st = cJSON_Parse(fx->status)) || !cJSON_IsObject(st)) {
		*cause = xstrdup("status is not a JSON object");
		goto fail;
	}
	if (fx->gen == 1) {
		fx->settings = load_opt(fx->dir, "settings.json", cause);
		if (*cause)
			goto fail;
		set = fx->settings ? cJSON_Parse(fx->settings) : NULL;
		s = js_str(sh, "type");
		fx->model = xstrdup(s ? s : "?");
		s = js_str(sh, "fw");
		fx->fw = s ? xstrdup(s) : NULL;
		s = js_str(cJSON_GetObjectItemCaseSensitive(set, "device"), "hostname");
	} else {
		fx->config = load_opt(fx->dir, "Shelly.GetConfig.json", cause);
		if (*cause)
			goto fail;
		fx->devinfo = load_opt(fx->dir, "Shelly.GetDeviceInfo.json", cause);
		if (*cause)
			goto fail;
		s = js_str(sh, "model");
		fx->model = xstrdup(s ? s : "?");
		s = js_str(sh, "app");
		fx->app = s ? xstrdup(s) : NULL;
		s = js_str(sh, "fw_id");
		fx->fw = s ? xstrdup(s) : NULL;
		s = js_str(sh, "ver");
		fx->ver = s ? xstrdup(s) : NULL;
		s = js_str(sh, "id");
	}
	const char *mac = js_str(sh, "mac");
	if (hex12(mac)) {
		for (int i = 0; i < 12; i++)
			fx->mac[i] = (char)toupper((unsigned char)mac[i]);
		fx->mac[12] = '\0';
	}
	if (s && s[0]) {
		fx->id = xstrdup(s);
	} else {
		/* No hostname captured: the Gen1 pattern "<type>-<MAC>". */
		fx->id = xasprintf("%s-%s", fx->model, fx->mac[0] ? fx->mac : "000000000000");
		for (char *p = fx->id; *p && *p != '-'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	identity_style(fx);
	if (fx->gen == 1)
		gen1_components(fx, st);
	else
		gen2_components(fx, st);
	if (fx->app && strcmp(fx->app, "WallDisplay") == 0)
		fx->digest_auto = SIM_DIGEST_WALL;
	else if (strncmp(fx->model, "SPEM-003", 8) == 0)
		fx->digest_auto = SIM_DIGEST_DECIMAL;
	else if (fx->ver && atoi(fx->ver) >= 2)
		fx->digest_auto = SIM_DIGEST_B64;
	else
		fx->digest_auto = SIM_DIGEST_HEX;
	if (load_extra_files(fx, cause) < 0)
		goto fail;
	cJSON_Delete(sh);
	cJSON_Delete(st);
	cJSON_Delete(set);
	return fx;
fail:
	cJSON_Delete(sh);
	cJSON_Delete(st);
	cJSON_Delete(set);
	fixture_free(fx);
	return NULL;
}

void
fixture_free(struct fixture *fx)
{
	if (!fx)
		return;
	free(fx->path);
	free(fx->dir);
	free(fx->model);
	free(fx->app);
	free(fx->id);
	free(fx->fw);
	free(fx->ver);
	free(fx->shelly);
	free(fx->status);
	free(fx->settings);
	free(fx->config);
	free(fx->devinfo);
	for (size_t i = 0; i < fx->nfiles; i++) {
		free(fx->files[i].name);
		free(fx->files[i].text);
	}
	free(fx->files);
	free(fx->sw);
	free(fx->cv);
	free(fx->lt);
	free(fx->upd_stable);
	free(fx->upd_beta);
	free(fx);
}

static bool
has_json_files(const char *dir, bool *has_shelly)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, NULL);
	bool any = false;

	*has_shelly = false;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ents[i]->d_name);
		if (l > 5 && strcmp(ents[i]->d_name + l - 5, ".json") == 0)
			any = true;
		if (strcmp(ents[i]->d_name, "shelly.json") == 0)
			*has_shelly = true;
		free(ents[i]);
	}
	free(ents);
	return any;
}

static int
scan(struct sim *sim, const char *root, const char *rel, int depth, char **cause)
{
	char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **ents = NULL;
	int n;
	bool has_shelly;

	if (rel[0] && has_json_files(dir, &has_shelly)) {
		char *why = NULL;
		struct fixture *fx = fixture_load(root, rel, &why);
		if (fx) {
			sim->fx = xreallocarray(sim->fx, sim->nfx + 1, sizeof *sim->fx);
			sim->fx[sim->nfx++] = fx;
		} else {
			sim->skipped =
			    xreallocarray(sim->skipped, sim->nskipped + 1, sizeof *sim->skipped);
			sim->skipped[sim->nskipped++] = xasprintf("%s (%s)", rel, why);
			/* A folder with shelly.json meant to be a device: say why it is not. */
			if (has_shelly || sim->o.verbose)
				fprintf(stderr, "shelly-sim: skipped fixture %s: %s\n", rel, why);
		}
		free(why);
	}
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *child, *sub;
		struct stat st;
		if (name[0] == '.' || depth >= FX_MAX_DEPTH)
			continue;
		child = xasprintf("%s/%s", dir, name);
		if (stat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
			sub = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
			if (scan(sim, root, sub, depth + 1, cause) < 0) {
				free(sub);
				free(child);
				for (int j = i; j < n; j++)
					free(ents[j]);
				free(ents);
				free(dir);
				return -1;
			}
			free(sub);
		}
		free(child);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(dir);
	return 0;
}

int
fixtures_load(struct sim *sim, char **cause)
{
	const char *root = sim->o.fixtures;
	struct stat st;

	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf(
		    "fixtures directory %s: %s", root, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if (sim->o.models && sim->o.models[0]) {
		char *copy = xstrdup(sim->o.models), *save = NULL, *tok;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *why = NULL;
			size_t l = strlen(tok);
			while (l > 1 && tok[l - 1] == '/')
				tok[--l] = '\0';
			if (strstr(tok, "..") || tok[0] == '/') {
				*cause =
				    xasprintf("--models: %s: must be a path below %s", tok, root);
				free(copy);
				return -1;
			}
			struct fixture *fx = fixture_load(root, tok, &why);
			if (!fx) {
				*cause =
				    xasprintf("--models: %s is not a device folder: %s", tok, why);
				free(why);
				free(copy);
				return -1;
			}
			sim->fx = xreallocarray(sim->fx, sim->nfx + 1, sizeof *sim->fx);
			sim->fx[sim->nfx++] = fx;
		}
		free(copy);
	} else if (scan(sim, root, "", 0, cause) < 0) {
		return -1;
	}
	if (sim->nfx == 0) {
		*cause = xasprintf("no device folders below %s (shelly.json + status.json or "
		                   "Shelly.GetStatus.json)",
		    root);
		return -1;
	}
	return 0;
}

void
fixtures_free(struct sim *sim)
{
	for (size_t i = 0; i < sim->nfx; i++)
		fixture_free(sim->fx[i]);
	free(sim->fx);
	sim->fx = NULL;
	sim->nfx = 0;
	for (size_t i = 0; i < sim->nskipped; i++)
		free(sim->skipped[i]);
	free(sim->skipped);
	sim->skipped = NULL;
	sim->nskipped = 0;
}
