/*
 * Desired configuration: template files and what the store holds (see engine/cfgdesired.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgdesired.h"
#include "engine/tmplcache.h"
#include "exchange/cfgdoc.h"
#include "store/cfgstore.h"
#include "util/str.h"
#include "util/xmalloc.h"

char *
cfgdesired_template_path(const char *name, char **cause)
{
	char *dir, *path;

	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	if (!cfgdoc_template_name_ok(name)) {
		*cause =
		    xstrdup("a template name is 1-64 printable characters, not starting with '.'");
		return NULL;
	}
	/* The one template directory rule (XDG_CONFIG_HOME, else HOME), also used by exports. */
	if ((dir = cfgdoc_template_dir()) == NULL) {
		*cause = xstrdup("neither XDG_CONFIG_HOME nor HOME is set");
		return NULL;
	}
	path = xasprintf("%s/%s.tmpl", dir, name);
	free(dir);
	return path;
}

int
cfgdesired_template_load(const char *name, struct devconfig *out, char **cause)
{
	char *path = cfgdesired_template_path(name, cause), *text = NULL, *why = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL)
		return -1;
	rc = cfgdoc_text_read(path, &text, &len, cause);
	if (rc > 0)
		*cause = xasprintf("%s: %s", path, strerror(ENOENT));
	else if (rc == 0 && devconfig_template_parse(text, len, out, &why) != 0) {
		*cause = xasprintf("%s: %s", path, why);
		free(why);
		rc = -1;
	}
	if (text != NULL)
		explicit_bzero(text, len); /* a template may hold secrets (provisioning sends them) */
	free(text);
	free(path);
	return rc == 0 ? 0 : -1;
}

int
cfgdesired_template_check(const char *name, size_t max_fields, char **cause)
{
	struct devconfig c;
	size_t n;

	if (cfgdesired_template_load(name, &c, cause) != 0)
		return -1;
	n = c.n;
	devconfig_wipe(&c); /* a template may hold secrets */
	if (n > max_fields) {
		*cause = xasprintf("template %s: %zu fields, more than the %zu a provisioning task "
		                   "carries", name, n, max_fields);
		return -1;
	}
	return 0;
}

void
cfgdesired_group_key(const char *group, char *buf, size_t size)
{
	snprintf(buf, size, "config-group:%s", group);
}

void
cfgdesired_overlay(struct devconfig *dst, const struct devconfig *src)
{
	for (size_t k = 0; k < src->n; k++)
		devconfig_set(
		    dst, src->e[k].field, src->e[k].index, src->e[k].state, src->e[k].value);
}

/* Renders raw (named what in errors) with vars over out. */
static int
render_over(const char *what, const struct devconfig *raw, const struct devconfig_vars *vars,
    struct devconfig *out, char **cause)
{
	struct devconfig done;
	char *why = NULL;

	if (devconfig_render(raw, vars, &done, &why) != 0) {
		*cause = xasprintf("%s: %s", what, why);
		free(why);
		return -1;
	}
	cfgdesired_overlay(out, &done);
	devconfig_done(&done);
	return 0;
}

/* Parses stored template text (what) and renders it with vars over out. */
static int
overlay_text(const char *what, const char *body, const struct devconfig_vars *vars,
    struct devconfig *out, char **cause)
{
	struct devconfig raw;
	char *why = NULL;
	int rc;

	if (devconfig_template_parse(body, strlen(body), &raw, &why) != 0) {
		*cause = xasprintf("%s: %s", what, why);
		free(why);
		return -1;
	}
	rc = render_over(what, &raw, vars, out, cause);
	devconfig_done(&raw);
	return rc;
}

struct first_tmpl {
	const char *prefer;
	char *group, *tmpl;
};

static int
first_tmpl_cb(const struct cfgstore_row *r, void *arg)
{
	struct first_tmpl *f = arg;
	bool has = r->tmpl != NULL && r->tmpl[0] != '\0';

	/* The preferred group, else the first group with a template, else the first. */
	if (f->group == NULL || (f->prefer != NULL && strcmp(r->name, f->prefer) == 0) ||
	    (has && f->tmpl == NULL && (f->prefer == NULL || strcmp(f->group, f->prefer) != 0))) {
		free(f->group);
		free(f->tmpl);
		f->group = xstrdup(r->name);
		f->tmpl = has ? xstrdup(r->tmpl) : NULL;
	}
	return 0;
}

/* The group's template and own fields, rendered with vars, into out. */
static int
group_desired(struct store *st, struct tmplcache *cache, const struct first_tmpl *f,
    const struct devconfig_vars *vars, struct devconfig *out, char **cause)
{
	const struct devconfig *t, *g;
	char what[96], *why = NULL;
	int rc = 0;

	if (f->tmpl != NULL) {
		if ((t = tmplcache_template(cache, f->tmpl, &why)) == NULL) {
			*cause = xasprintf(
			    "group %s: template %s cannot be read: %s", f->group, f->tmpl, why);
			free(why);
			return -1;
		}
		snprintf(what, sizeof what, "template %s", f->tmpl);
		if ((rc = render_over(what, t, vars, out, cause)) != 0)
			return rc;
	}
	snprintf(what, sizeof what, "group %s", f->group);
	if ((g = tmplcache_group(cache, st, f->group, &why)) != NULL)
		rc = render_over(what, g, vars, out, cause);
	else if (why != NULL) {
		*cause = why;
		rc = -1;
	}
	return rc;
}

int
cfgdesired_stored(struct store *st, const char *mac, const char *prefer,
    const struct devconfig_vars *vars, struct devconfig *out, char **cause)
{
	return cfgdesired_stored_cached(st, NULL, mac, prefer, vars, out, cause);
}

int
cfgdesired_stored_cached(struct store *st, struct tmplcache *cache, const char *mac,
    const char *prefer, const struct devconfig_vars *vars, struct devconfig *out, char **cause)
{
	struct first_tmpl f = {prefer, NULL, NULL};
	struct devconfig_vars v = *vars;
	struct tmplcache *own = NULL;
	char index[24] = "1", *body;
	int rc = 0;

	if (cfgstore_device_groups(st, mac, first_tmpl_cb, &f, cause) != 0)
		return -1;
	if (f.group != NULL && cache == NULL)
		cache = own = tmplcache_new();
	if (f.group != NULL && v.index == NULL &&
	    tmplcache_index(cache, st, f.group, mac, index, sizeof index, cause) < 0)
		rc = -1;
	if (v.index == NULL)
		v.index = index;
	if (rc == 0 && f.group != NULL) {
		v.group = f.group;
		rc = group_desired(st, cache, &f, &v, out, cause);
	}
	if (rc == 0 && (body = cfgstore_desired_get(st, mac)) != NULL) {
		rc = overlay_text("stored configuration", body, &v, out, cause);
		free(body);
	}
	tmplcache_free(own);
	free(f.group);
	free(f.tmpl);
	return rc;
}

char *
cfgdesired_text(const struct devconfig *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return xstrdup("");
	devconfig_template_write(c, NULL, fp);
	fclose(fp);
	return buf;
}

int
cfgdesired_remember(struct store *st, const char *mac, const struct devconfig *set, char **cause)
{
	struct devconfig cur;
	char *body = cfgstore_desired_get(st, mac), *why = NULL;
	int rc;

	if (body == NULL || devconfig_template_parse(body, strlen(body), &cur, &why) != 0)
		devconfig_init(&cur);
	free(body);
	free(why);
	for (size_t k = 0; k < set->n; k++) {
		const struct devconfig_entry *e = &set->e[k];
		if (!(devconfig_field(e->field)->flags & DCF_SECRET))
			devconfig_set(&cur, e->field, e->index, e->state, e->value);
	}
	body = cfgdesired_text(&cur);
	rc = cfgstore_desired_set(st, mac, body, cause);
	free(body);
	devconfig_done(&cur);
	return rc;
}

struct snap_ctx {
	struct devconfig *out;
	int64_t ts;
	int found;
	char *why;
};

static int
snap_cb(const struct cfgstore_row *r, void *arg)
{
	struct snap_ctx *s = arg;

	if (s->found || r->body == NULL)
		return 0;
	if (devconfig_snapshot_parse(r->body, strlen(r->body), s->out, &s->why) != 0)
		return -1;
	s->out->gen = r->gen;
	s->out->has_rev = r->has_rev;
	s->out->rev = r->rev;
	s->ts = r->ts_ms;
	s->found = 1;
	return 0;
}

int
cfgdesired_snapshot(
    struct store *st, const char *mac, struct devconfig *out, int64_t *ts_ms, char **cause)
{
	struct snap_ctx s = {out, 0, 0, NULL};

	if (cfgstore_snapshots(st, mac, 1, snap_cb, &s, cause) != 0 || s.why != NULL) {
		if (s.why != NULL) {
			free(*cause);
			*cause = xasprintf("snapshot: %s", s.why);
			free(s.why);
		}
		if (s.found)
			devconfig_done(out);
		return -1;
	}
	if (!s.found)
		devconfig_init(out);
	if (ts_ms != NULL)
		*ts_ms = s.ts;
	return s.found;
}

int
cfgdesired_drift(struct store *st, const char *mac, const struct devconfig_vars *vars)
{
	return cfgdesired_drift_cached(st, NULL, mac, vars);
}

int
cfgdesired_drift_cached(
    struct store *st, struct tmplcache *cache, const char *mac, const struct devconfig_vars *vars)
{
	struct devconfig want, have;
	struct devconfig_diff *rows = NULL;
	char *cause = NULL;
	size_t n;
	int rc;

	devconfig_init(&want);
	if (cfgdesired_stored_cached(st, cache, mac, NULL, vars, &want, &cause) != 0) {
		free(cause);
		devconfig_done(&want);
		return -2;
	}
	if (want.n == 0) {
		devconfig_done(&want);
		return -1;
	}
	if (cfgdesired_snapshot(st, mac, &have, NULL, &cause) != 1) {
		free(cause);
		devconfig_done(&want);
		return -2;
	}
	rc = (int)devconfig_diff(&want, &have, &rows, &n);
	free(rows);
	devconfig_done(&want);
	devconfig_done(&have);
	return rc;
}
