/*
 * Configuration sections of the json and toml documents (see exchange/cfgdoc.h): read from
 * the store and the template directory, written in a fixed order (groups and templates by
 * name, configs by MAC) so that two exports of an unchanged fleet are identical.
 */
#include "exchange/cfgdoc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/toml.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "util/rfile.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct cfg_group {
	char *name, *tmpl, *fields;
	char **members;
	size_t nmembers;
};

struct cfg_snap {
	int gen, has_rev;
	int64_t ts_ms;
	double rev;
	char *reason, *body;
};

struct cfg_device {
	const char *mac;
	char *desired;
	struct cfg_snap *snaps; /* newest first: the latest ("actual"), then the history */
	size_t nsnaps;
};

struct cfg_template {
	char *name, *body;
};

struct cfgdoc {
	int with_secrets, had_secrets;
	struct cfg_group *groups;
	size_t ngroups;
	struct cfg_device *devs;
	size_t ndevs;
	struct cfg_template *tmpls;
	size_t ntmpls;
};

int
cfgdoc_template_name_ok(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strlen(name) <= 64 &&
	       strchr(name, '/') == NULL && str_is_safe(name);
}

int
cfgdoc_group_name_ok(const char *name)
{
	return name[0] != '\0' && name[0] != '@' && strlen(name) <= 64 && str_is_safe(name) &&
	       strchr(name, ' ') == NULL;
}

char *
cfgdoc_template_dir(void)
{
	const char *own = getenv("SHELLY_TUI_TEMPLATES"), *xdg = getenv("XDG_CONFIG_HOME"),
		   *home = getenv("HOME");

	if (own != NULL && own[0] == '/')
		return xstrdup(own);
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/shelly-tui/templates", xdg);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.config/shelly-tui/templates", home);
	return NULL;
}

/* 1 when the line [p, p + len) names a secret field's path anywhere, in any case. */
static int
mentions_secret(const char *p, size_t len)
{
	char *line = xstrndup(p, len);
	int hit = 0;

	for (int f = 0; f < DCFG__COUNT && !hit; f++) {
		const struct devconfig_field_info *fi = devconfig_field((enum devconfig_field)f);

		hit = (fi->flags & DCF_SECRET) && strcasestr(line, fi->path) != NULL;
	}
	free(line);
	return hit;
}

/* 1 when the line is a valid template line (name and value) setting a field that is secret
 * (*secret 1) or not (*secret 0); 0 for anything else (blank, comment, refused). */
static int
field_line(const char *p, size_t len, int *secret)
{
	enum devconfig_field f;
	char *cause = NULL;
	int index, rc = devconfig_line_field(p, len, &f, &index, &cause);

	free(cause);
	*secret = rc == 1 && (devconfig_field(f)->flags & DCF_SECRET) != 0;
	return rc == 1;
}

/*
 * What export does with one line of a template or snapshot: 1 to write it, 0 to leave it out
 * because it may hold a secret. A valid line is written unless its field is secret. Any other
 * line (a comment, a line the template reader refuses, as an imported snapshot or a hand-made
 * template may hold) is written only when it names no secret field, in any case and any
 * spelling around it ("# wifi.sta.pass = old", "WIFI.STA.PASS x", "\"mqtt.pass\": \"x\"").
 */
static int
exportable(const char *p, size_t len, int *secret)
{
	int sec = 0;

	*secret = 0;
	if (field_line(p, len, &sec))
		return !(*secret = sec);
	if (mentions_secret(p, len))
		return !(*secret = 1);
	return 1;
}

char *
cfgdoc_strip_secrets(const char *text, int *had)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (had != NULL)
		*had = 0;
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		int secret;

		if (exportable(p, len, &secret))
			strbuf_append_len(&sb, p, len);
		else if (had != NULL)
			*had = 1;
		p += len;
	}
	return sb.buf != NULL ? strbuf_steal(&sb) : xstrdup("");
}

char *
cfgdoc_keep_secrets(const char *incoming, const char *stored)
{
	struct strbuf sb;
	int had = 0;

	if (stored == NULL)
		return NULL;
	strbuf_init(&sb);
	strbuf_append(&sb, incoming);
	if (sb.len > 0 && sb.buf[sb.len - 1] != '\n')
		strbuf_append_char(&sb, '\n');
	for (const char *p = stored; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		int secret = 0;

		/* Only valid secret lines come back: the result is a template that reads. */
		if (field_line(p, len, &secret) && secret) {
			had = 1;
			strbuf_append_len(&sb, p, len);
			if (nl == NULL)
				strbuf_append_char(&sb, '\n');
		}
		p += len;
	}
	if (!had) {
		strbuf_done(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

/* text as exported: secret lines left out unless asked for. */
static char *
keep_text(struct cfgdoc *c, const char *text)
{
	int had;
	char *clean;

	if (text == NULL)
		return NULL;
	clean = cfgdoc_strip_secrets(text, &had);
	if (c->with_secrets && had) {
		c->had_secrets = 1;
		str_free_secret(clean);
		return xstrdup(text);
	}
	return clean;
}

/*
 * text (as exported) when it reads as a template, as --import checks it; else NULL (text
 * freed) and the note "WHAT NAME: left out: why": a file --import refuses restores nothing.
 */
static char *
readable(char *text, struct strbuf *notes, const char *what, const char *name)
{
	struct devconfig dc;
	char *why = NULL, *clean;

	if (text == NULL)
		return NULL;
	if (devconfig_template_parse(text, strlen(text), &dc, &why) == 0) {
		devconfig_done(&dc);
		return text;
	}
	clean = str_sanitize(why, 200);
	if (notes != NULL)
		strbuf_appendf(notes, "%s %s: left out: %s (--import would refuse the file)\n",
		    what, name, clean);
	free(clean);
	free(why);
	str_free_secret(text);
	return NULL;
}

/* ---- loading ---- */

struct load {
	struct store *s;
	struct cfgdoc *c;
	const char *only; /* group filter */
	struct strbuf *notes;
	char *err;
};

struct members {
	char **v;
	size_t n;
};

static int
member_cb(const struct cfgstore_row *r, void *arg)
{
	struct members *m = arg;

	m->v = xreallocarray(m->v, m->n + 1, sizeof *m->v);
	m->v[m->n++] = xstrdup(r->mac);
	return 0;
}

int
cfgdoc_members(struct store *s, const char *group, char ***macs, size_t *n, char **cause)
{
	struct members m = {xcalloc(1, sizeof *m.v), 0};
	int rc = cfgstore_group_members(s, group, member_cb, &m, cause);

	*macs = m.v;
	*n = m.n;
	return rc;
}

static int
group_cb(const struct cfgstore_row *r, void *arg)
{
	struct load *l = arg;
	struct cfgdoc *c = l->c;
	struct cfg_group *g;
	char key[128], *fields;

	if (l->only != NULL && strcmp(l->only, r->name) != 0)
		return 0;
	c->groups = xreallocarray(c->groups, c->ngroups + 1, sizeof *c->groups);
	g = memset(&c->groups[c->ngroups++], 0, sizeof *g);
	g->name = xstrdup(r->name);
	g->tmpl = r->tmpl != NULL && r->tmpl[0] != '\0' ? xstrdup(r->tmpl) : NULL;
	snprintf(key, sizeof key, CFGDOC_GROUP_PREFIX "%s", r->name);
	fields = store_setting_get(l->s, key);
	g->fields = readable(keep_text(c, fields), l->notes, "fields of group", r->name);
	free(fields);
	if (cfgdoc_members(l->s, r->name, &g->members, &g->nmembers, &l->err) != 0)
		return 1;
	return 0;
}

static int
snapshot_cb(const struct cfgstore_row *r, void *arg)
{
	struct load *l = arg;
	struct cfg_device *d = &l->c->devs[l->c->ndevs];
	struct cfg_snap *p;

	d->snaps = xreallocarray(d->snaps, d->nsnaps + 1, sizeof *d->snaps);
	p = &d->snaps[d->nsnaps++];
	p->ts_ms = r->ts_ms;
	p->gen = r->gen;
	/* a rev that is no number (inf, nan: only by editing the database) is unknown: JSON
	 * cannot write it, and both formats must say the same (null, or left out of toml) */
	p->has_rev = r->has_rev && isfinite(r->rev);
	p->rev = r->rev;
	p->reason = r->reason != NULL ? xstrdup(r->reason) : NULL;
	p->body = keep_text(l->c, r->body != NULL ? r->body : "");
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct cfg_template *)a)->name, ((const struct cfg_template *)b)->name);
}

int
cfgdoc_text_read(const char *path, char **out, size_t *len, char **cause)
{
	char *buf = xmalloc(CFGDOC_TEXT_MAX + 1);
	char *why = NULL;
	FILE *fp = rfile_fopen(path, &why); /* a FIFO or device would block */
	size_t n = 0;
	int rc = -1;

	if (fp == NULL && errno == ENOENT) {
		free(why);
		rc = 1;
	} else if (fp == NULL) {
		*cause = why;
	} else {
		const char *nul;

		errno = 0;
		n = fread(buf, 1, CFGDOC_TEXT_MAX + 1, fp);
		if (ferror(fp)) /* a directory opens, and its read says why it fails */
			*cause =
			    xasprintf("%s: %s", path, errno != 0 ? strerror(errno) : "read error");
		else if (n > CFGDOC_TEXT_MAX)
			*cause = xasprintf("%s: larger than %d bytes", path, CFGDOC_TEXT_MAX);
		else if ((nul = memchr(buf, '\0', n)) != NULL)
			*cause = xasprintf("%s: NUL byte at offset %zu: not a text file", path,
			    (size_t)(nul - buf));
		else
			rc = 0;
		fclose(fp);
	}
	if (rc != 0) {
		explicit_bzero(buf, n); /* a template may hold secrets */
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int
cfgdoc_template_read(const char *dir, const char *name, char **out, char **cause)
{
	char *path = xasprintf("%s/%s.tmpl", dir, name), *why = NULL;
	int rc = cfgdoc_text_read(path, out, NULL, &why);

	if (rc < 0) {
		*cause = xasprintf("template %s", why);
		free(why);
	}
	free(path);
	return rc;
}

static int
add_template(
    struct cfgdoc *c, const char *dir, const char *name, struct strbuf *notes, char **cause)
{
	char *text = NULL, *body;
	int rc = cfgdoc_template_read(dir, name, &text, cause);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	body = readable(keep_text(c, text), notes, "template", name);
	str_free_secret(text);
	if (body == NULL)
		return 0;
	c->tmpls = xreallocarray(c->tmpls, c->ntmpls + 1, sizeof *c->tmpls);
	c->tmpls[c->ntmpls].name = xstrdup(name);
	c->tmpls[c->ntmpls++].body = body;
	return 0;
}

static int
load_templates(
    struct cfgdoc *c, const char *dir, const char *group, struct strbuf *notes, char **cause)
{
	DIR *dp;
	struct dirent *e;
	int rc = 0;

	if (dir == NULL)
		return 0;
	if (group != NULL) /* only the template of that group */
		return c->ngroups > 0 && c->groups[0].tmpl != NULL &&
		               cfgdoc_template_name_ok(c->groups[0].tmpl)
		           ? add_template(c, dir, c->groups[0].tmpl, notes, cause)
		           : 0;
	if ((dp = opendir(dir)) == NULL)
		return 0; /* no templates yet */
	while (rc == 0 && (e = readdir(dp)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (len <= 5 || strcmp(e->d_name + len - 5, ".tmpl") != 0)
			continue;
		name = xstrdup(e->d_name);
		name[len - 5] = '\0';
		if (cfgdoc_template_name_ok(name))
			rc = add_template(c, dir, name, notes, cause);
		free(name);
	}
	closedir(dp);
	if (c->ntmpls > 1) /* an empty directory: no array at all, and qsort wants one */
		qsort(c->tmpls, c->ntmpls, sizeof *c->tmpls, name_cmp);
	return rc;
}

int
cfgdoc_load(struct store *s, const char *dir, const char *group, const char *const *macs, size_t n,
    int with_secrets, struct strbuf *notes, struct cfgdoc **out, char **cause)
{
	struct cfgdoc *c = xcalloc(1, sizeof *c);
	struct load l = {s, c, group, notes, NULL};

	c->with_secrets = with_secrets;
	if (cfgstore_groups(s, group_cb, &l, cause) != 0 || l.err != NULL)
		goto fail;
	c->devs = xcalloc(n ? n : 1, sizeof *c->devs);
	for (size_t i = 0; i < n; i++) {
		struct cfg_device *d = &c->devs[c->ndevs];
		char *desired = cfgstore_desired_get(s, macs[i]);

		memset(d, 0, sizeof *d);
		d->mac = macs[i];
		d->desired =
		    readable(keep_text(c, desired), notes, "desired configuration of", macs[i]);
		free(desired);
		if (cfgstore_snapshots(
		        s, macs[i], CFGSTORE_SNAPSHOTS_KEPT, snapshot_cb, &l, cause) != 0)
			goto fail;
		if (d->desired != NULL || d->nsnaps > 0)
			c->ndevs++;
	}
	if (load_templates(c, dir, group, notes, cause) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	if (l.err != NULL)
		*cause = l.err;
	c->ndevs = n; /* free what the last device got too */
	cfgdoc_free(c);
	return -1;
}

void
cfgdoc_free(struct cfgdoc *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ngroups; i++) {
		free(c->groups[i].name);
		free(c->groups[i].tmpl);
		str_free_secret(c->groups[i].fields);
		for (size_t k = 0; k < c->groups[i].nmembers; k++)
			free(c->groups[i].members[k]);
		free(c->groups[i].members);
	}
	for (size_t i = 0; c->devs != NULL && i < c->ndevs; i++) {
		str_free_secret(c->devs[i].desired);
		for (size_t k = 0; k < c->devs[i].nsnaps; k++) {
			free(c->devs[i].snaps[k].reason);
			str_free_secret(c->devs[i].snaps[k].body);
		}
		free(c->devs[i].snaps);
	}
	for (size_t i = 0; i < c->ntmpls; i++) {
		free(c->tmpls[i].name);
		str_free_secret(c->tmpls[i].body);
	}
	free(c->groups);
	free(c->devs);
	free(c->tmpls);
	free(c);
}

int
cfgdoc_has_secrets(const struct cfgdoc *c)
{
	return c->had_secrets;
}

/* ---- writing ---- */

/* A cfg_rev as a TOML float (also valid JSON): "12.0", "3.5". */
static void
append_rev(struct strbuf *sb, double rev)
{
	char buf[40];

	snprintf(buf, sizeof buf, "%.17g", rev);
	strbuf_append(sb, buf);
	if (strpbrk(buf, ".eEni") == NULL)
		strbuf_append(sb, ".0");
}

static void
json_opt(struct strbuf *sb, const char *indent, const char *key, const char *v, int comma)
{
	strbuf_appendf(sb, "%s\"%s\": ", indent, key);
	if (v != NULL)
		toml_append_string(sb, v);
	else
		strbuf_append(sb, "null");
	strbuf_append(sb, comma ? ",\n" : "\n");
}

static void
json_groups(const struct cfgdoc *c, struct strbuf *sb)
{
	strbuf_append(sb, ",\n  \"groups\": {");
	for (size_t i = 0; i < c->ngroups; i++) {
		const struct cfg_group *g = &c->groups[i];

		strbuf_append(sb, i ? ",\n    " : "\n    ");
		toml_append_string(sb, g->name);
		strbuf_append(sb, ": {\n");
		json_opt(sb, "      ", "template", g->tmpl, 1);
		json_opt(sb, "      ", "fields", g->fields, 1);
		strbuf_append(sb, "      \"members\": [");
		for (size_t k = 0; k < g->nmembers; k++)
			strbuf_appendf(sb, "%s\"%s\"", k ? ", " : "", g->members[k]);
		strbuf_append(sb, "]\n    }");
	}
	strbuf_append(sb, c->ngroups ? "\n  }" : "}");
}

/* One snapshot as a json object (closing brace at indent, no line end). */
static void
json_snap(struct strbuf *sb, const char *indent, const struct cfg_snap *p)
{
	strbuf_appendf(sb, "{\n%s  \"ts_ms\": %" PRId64 ",\n", indent, p->ts_ms);
	if (p->gen > 0)
		strbuf_appendf(sb, "%s  \"gen\": %d,\n", indent, p->gen);
	else
		strbuf_appendf(sb, "%s  \"gen\": null,\n", indent);
	strbuf_appendf(sb, "%s  \"cfg_rev\": ", indent);
	if (p->has_rev)
		append_rev(sb, p->rev);
	else
		strbuf_append(sb, "null");
	strbuf_append(sb, ",\n");
	strbuf_appendf(sb, "%s  ", indent);
	json_opt(sb, "", "reason", p->reason, 1);
	strbuf_appendf(sb, "%s  ", indent);
	json_opt(sb, "", "body", p->body, 0);
	strbuf_appendf(sb, "%s}", indent);
}

void
cfgdoc_render_json(const struct cfgdoc *c, struct strbuf *sb)
{
	json_groups(c, sb);
	strbuf_append(sb, ",\n  \"templates\": {");
	for (size_t i = 0; i < c->ntmpls; i++) {
		strbuf_append(sb, i ? ",\n    " : "\n    ");
		toml_append_string(sb, c->tmpls[i].name);
		strbuf_append(sb, ": ");
		toml_append_string(sb, c->tmpls[i].body);
	}
	strbuf_append(sb, c->ntmpls ? "\n  }" : "}");
	strbuf_append(sb, ",\n  \"configs\": {");
	for (size_t i = 0; i < c->ndevs; i++) {
		const struct cfg_device *d = &c->devs[i];

		strbuf_appendf(sb, "%s\"%s\": {\n", i ? ",\n    " : "\n    ", d->mac);
		json_opt(sb, "      ", "desired", d->desired, 1);
		if (d->nsnaps == 0) {
			strbuf_append(sb, "      \"actual\": null\n    }");
			continue;
		}
		strbuf_append(sb, "      \"actual\": ");
		json_snap(sb, "      ", &d->snaps[0]);
		strbuf_append(sb, d->nsnaps > 1 ? ",\n      \"history\": [" : "\n    }");
		for (size_t k = 1; k < d->nsnaps; k++) {
			strbuf_append(sb, k > 1 ? ", " : "");
			json_snap(sb, "      ", &d->snaps[k]);
		}
		if (d->nsnaps > 1)
			strbuf_append(sb, "]\n    }");
	}
	strbuf_append(sb, c->ndevs ? "\n  }" : "}");
}

static void
toml_line(struct strbuf *sb, const char *key, const char *v)
{
	if (v == NULL)
		return;
	strbuf_appendf(sb, "%s = ", key);
	toml_append_string(sb, v);
	strbuf_append_char(sb, '\n');
}

void
cfgdoc_render_toml(const struct cfgdoc *c, struct strbuf *sb)
{
	for (size_t i = 0; i < c->ngroups; i++) {
		const struct cfg_group *g = &c->groups[i];

		strbuf_append(sb, "\n[groups.");
		toml_append_key(sb, g->name);
		strbuf_append(sb, "]\n");
		toml_line(sb, "template", g->tmpl);
		toml_line(sb, "fields", g->fields);
		strbuf_append(sb, "members = [");
		for (size_t k = 0; k < g->nmembers; k++)
			strbuf_appendf(sb, "%s\"%s\"", k ? ", " : "", g->members[k]);
		strbuf_append(sb, "]\n");
	}
	if (c->ntmpls > 0)
		strbuf_append(sb, "\n[templates]\n");
	for (size_t i = 0; i < c->ntmpls; i++) {
		toml_append_key(sb, c->tmpls[i].name);
		strbuf_append(sb, " = ");
		toml_append_string(sb, c->tmpls[i].body);
		strbuf_append_char(sb, '\n');
	}
	for (size_t i = 0; i < c->ndevs; i++) {
		const struct cfg_device *d = &c->devs[i];

		strbuf_appendf(sb, "\n[configs.%s]\n", d->mac);
		toml_line(sb, "desired", d->desired);
		for (size_t k = 0; k < d->nsnaps; k++) {
			const struct cfg_snap *p = &d->snaps[k];

			/* the snapshot's time is kept: it changes only with a new snapshot */
			strbuf_appendf(sb,
			    k == 0 ? "\n[configs.%s.actual]\n" : "\n[[configs.%s.history]]\n",
			    d->mac);
			strbuf_appendf(sb, "ts_ms = %" PRId64 "\n", p->ts_ms);
			if (p->gen > 0)
				strbuf_appendf(sb, "gen = %d\n", p->gen);
			if (p->has_rev) {
				strbuf_append(sb, "cfg_rev = ");
				append_rev(sb, p->rev);
				strbuf_append_char(sb, '\n');
			}
			toml_line(sb, "reason", p->reason);
			toml_line(sb, "body", p->body);
		}
	}
}
