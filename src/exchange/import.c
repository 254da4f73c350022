/*
 * Import: file -> document tree (exchange/toml or exchange/jsondoc) -> validated records ->
 * one store transaction. Nothing reaches the store before the whole file has been checked.
 */
#include "exchange/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exchange/cfgdoc.h"
#include "exchange/export.h"
#include "exchange/jsondoc.h"
#include "exchange/toml.h"
#include "model/devconfig.h"
#include "store/cfgrestore.h"
#include "store/cfgstore.h"
#include "util/dirs.h"
#include "util/hostport.h"
#include "util/rfile.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define IMPORT_MAX_BYTES (64u << 20)

struct imp_group {
	const char *name, *tmpl;
	const char **members;
	size_t n;
};

struct imp_snap {
	const char *reason, *body;
	int gen, has_rev, has_ts;
	int64_t ts_ms;
	double rev;
};

struct imp_config {
	const char *mac, *desired;
	struct imp_snap *snaps; /* newest first: actual, then the history (version 3) */
	size_t nsnaps;
};

struct imp_template {
	const char *name, *body;
};

struct import_doc {
	struct toml_value *tree; /* owns the strings the records point to */
	const char *format;
	struct store_device *devs;
	const char **foreign; /* per device: the file's "file:" credentials, held back, or NULL */
	size_t n;
	const char **keys, **values; /* settings, secrets, then group fields */
	size_t nset, nsec, ngf;
	char **gf_keys; /* CFGDOC_GROUP_PREFIX "NAME" of the group fields */
	const char *subset; /* "group": the file holds one group's members only */
	int secrets; /* the file has a secrets section (written with --include-secrets) */
	int has_config; /* format version 2 or later: the file could hold configuration */
	struct imp_group *groups;
	size_t ngroups;
	struct imp_config *configs;
	size_t nconfigs;
	struct imp_template *tmpls;
	size_t ntmpls;
};

struct check {
	const char *name; /* file name for messages */
	int json;
	int64_t version; /* format_version, once the header is checked */
	char *err;
	const char *buf; /* the file, len bytes: its last line is counted for what it lacks */
	size_t len;
};

/* The number of the file's last line (a final newline ends it, it starts none). */
static int
last_line(const struct check *c)
{
	int n = 1;

	for (size_t i = 0; i + 1 < c->len; i++)
		n += c->buf[i] == '\n';
	return n;
}

static int __attribute__((format(printf, 4, 5)))
bad(struct check *c, const struct toml_value *at, const char *field, const char *fmt, ...)
{
	va_list ap;
	char msg[256], *clean;

	if (c->err != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	clean = str_sanitize(field, 120);
	c->err = xasprintf("%s: line %d: %s: %s", c->name, at != NULL ? at->line : 1, clean, msg);
	free(clean);
	return -1;
}

void
import_doc_free(struct import_doc *doc)
{
	if (doc == NULL)
		return;
	toml_free(doc->tree);
	free(doc->devs);
	free(doc->foreign);
	free(doc->keys);
	free(doc->values);
	str_array_free(doc->gf_keys, doc->ngf);
	for (size_t i = 0; i < doc->ngroups; i++)
		free(doc->groups[i].members);
	free(doc->groups);
	for (size_t i = 0; i < doc->nconfigs; i++)
		free(doc->configs[i].snaps);
	free(doc->configs);
	free(doc->tmpls);
	free(doc);
}

static int
is_null(const struct check *c, const struct toml_value *v)
{
	return c->json && jsondoc_is_null(v);
}

/* A string without NULs (C strings end at the first). */
static int
plain_string(const struct toml_value *v)
{
	return v->type == TOML_STRING && strlen(v->str) == v->len;
}

static int
device_field(struct check *c, const char *path, const char *key, const struct toml_value *v,
    struct store_device *d)
{
	size_t nf;
	const struct export_field *fields = export_device_fields(&nf), *fd = NULL;
	char *field = xasprintf("%s.%s", path, key);
	int rc = 0;

	for (size_t k = 0; k < nf; k++)
		if (strcmp(fields[k].name, key) == 0)
			fd = &fields[k];
	if (fd == NULL) {
		rc = bad(c, v, field, "unknown field");
	} else if (is_null(c, v)) {
		/* unknown: the store keeps NULL / 0 */
	} else if (fd->kind == EXPORT_F_STR) {
		if (!plain_string(v))
			rc = bad(c, v, field, "expected a string");
		else if (strcmp(key, "mac") == 0) {
			if (store_mac_parse(v->str, d->mac) != 0 || strcmp(d->mac, v->str) != 0)
				rc = bad(c, v, field, "expected 12 lower-case hex digits");
		} else {
			*(const char **)((char *)d + fd->off) = v->str;
		}
	} else if (fd->kind == EXPORT_F_INT) {
		int64_t max = strcmp(key, "port") == 0 ? 65535 : 99;

		if (v->type != TOML_INTEGER || v->i < 0 || v->i > max)
			rc = bad(c, v, field, "expected an integer 0..%lld", (long long)max);
		else
			*(int *)((char *)d + fd->off) = (int)v->i;
	} else {
		if (v->type != TOML_INTEGER || v->i < 0)
			rc = bad(c, v, field, "expected milliseconds since 1970 (an integer >= 0)");
		else
			*(int64_t *)((char *)d + fd->off) = v->i;
	}
	free(field);
	return rc;
}

static int
one_device(struct check *c, const char *path, const struct toml_value *t, struct store_device *d)
{
	memset(d, 0, sizeof *d);
	if (t->type != TOML_TABLE || is_null(c, t))
		return bad(c, t, path, "expected a table of device fields");
	for (size_t k = 0; k < t->n; k++)
		if (device_field(c, path, t->keys[k], t->items[k], d) != 0)
			return -1;
	return 0;
}

/*
 * The fields that say where the poller connects and what it sends: host as --add takes it,
 * scheme http or https, credentials a stored password of this device ("store:secret:MAC") or a
 * local file ("file:PATH", held back in *foreign until the operator trusts the file).
 */
static int
connection(struct check *c, const char *path, const struct toml_value *t, struct store_device *d,
    const char **foreign)
{
	char *field = NULL, own[sizeof "store:" EXPORT_SECRET_PREFIX + STORE_MAC_LEN];
	int rc = 0;

	*foreign = NULL;
	snprintf(own, sizeof own, "store:" EXPORT_SECRET_PREFIX "%s", d->mac);
	if (d->host != NULL && !hostport_valid_host(d->host)) {
		field = xasprintf("%s.host", path);
		rc = bad(c, toml_get(t, "host"), field,
		    "expected an IPv4 address, an IPv6 address or a host name");
	} else if (d->scheme != NULL && strcmp(d->scheme, "http") != 0 &&
	           strcmp(d->scheme, "https") != 0) {
		field = xasprintf("%s.scheme", path);
		rc = bad(c, toml_get(t, "scheme"), field, "expected http or https");
	} else if (d->cred_ref != NULL && d->cred_ref[0] != '\0' && strcmp(d->cred_ref, own) != 0) {
		field = xasprintf("%s.credentials", path);
		if (str_has_prefix(d->cred_ref, "file:") && d->cred_ref[5] != '\0') {
			*foreign =
			    d->cred_ref; /* not used unless trusted (import_trust_credentials) */
			d->cred_ref = NULL;
		} else if (str_has_prefix(d->cred_ref, "store:"))
			rc = bad(c, toml_get(t, "credentials"), field,
			    "a stored password must be this device's own (%s)", own);
		else
			rc = bad(
			    c, toml_get(t, "credentials"), field, "expected %s or file:PATH", own);
	}
	free(field);
	return rc;
}

/* 1 when a and b are the same device id (any case), neither missing nor empty. */
static int
same_id(const char *a, const char *b)
{
	return a != NULL && b != NULL && a[0] != '\0' && strcasecmp(a, b) == 0;
}

static int
devices(struct check *c, const struct toml_value *v, struct import_doc *doc)
{
	char path[64];

	if (v == NULL)
		return 0;
	if ((c->json && v->type != TOML_ARRAY) || (!c->json && v->type != TOML_TABLE) ||
	    is_null(c, v))
		return bad(c, v, "devices", c->json ? "expected an array" : "expected a table");
	doc->devs = xcalloc(v->n ? v->n : 1, sizeof *doc->devs);
	doc->foreign = xcalloc(v->n ? v->n : 1, sizeof *doc->foreign);
	for (size_t i = 0; i < v->n; i++) {
		struct store_device *d = &doc->devs[i];

		if (c->json) {
			snprintf(path, sizeof path, "devices[%zu]", i);
			if (one_device(c, path, v->items[i], d) != 0)
				return -1;
			if (d->mac[0] == '\0')
				return bad(c, v->items[i], path, "mac is missing");
		} else {
			char *p = xasprintf("devices.%s", v->keys[i]);
			int rc = one_device(c, p, v->items[i], d);

			if (rc == 0 && (store_mac_parse(v->keys[i], d->mac) != 0 ||
			                   strcmp(d->mac, v->keys[i]) != 0))
				rc = bad(c, v->items[i], p,
				    "the table name must be the MAC "
				    "(12 lower-case hex digits)");
			free(p);
			if (rc != 0)
				return -1;
			snprintf(path, sizeof path, "devices.%s", d->mac);
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(doc->devs[j].mac, d->mac) == 0)
				return bad(
				    c, v->items[i], "devices", "MAC %s appears twice", d->mac);
			if (same_id(doc->devs[j].id, d->id))
				return bad(c, toml_get(v->items[i], "id"), path,
				    "id %s is the id of %s too (a device's id is its own, so two "
				    "devices cannot share one)",
				    d->id, doc->devs[j].mac);
		}
		if (connection(c, path, v->items[i], d, &doc->foreign[i]) != 0)
			return -1;
		doc->n++;
	}
	return 0;
}

/* mac is a device of this file. */
static int
file_device(struct check *c, const struct import_doc *doc, const char *field,
    const struct toml_value *at, const char *mac)
{
	for (size_t i = 0; i < doc->n; i++)
		if (strcmp(doc->devs[i].mac, mac) == 0)
			return 0;
	return bad(c, at, field, "%s is not a device of this file (12 lower-case hex digits)", mac);
}

static int
pairs(struct check *c, const char *section, const struct toml_value *v, int secrets,
    struct import_doc *doc)
{
	size_t plen = strlen(EXPORT_SECRET_PREFIX);

	if (v == NULL)
		return 0;
	if (v->type != TOML_TABLE || is_null(c, v))
		return bad(c, v, section, "expected a table of strings");
	/* room for all at once, not one more per key */
	doc->keys = xreallocarray(doc->keys, doc->nset + doc->nsec + v->n + 1, sizeof *doc->keys);
	doc->values =
	    xreallocarray(doc->values, doc->nset + doc->nsec + v->n + 1, sizeof *doc->values);
	for (size_t k = 0; k < v->n; k++) {
		char *field = xasprintf("%s.%s", section, v->keys[k]);
		int is_secret = strncmp(v->keys[k], EXPORT_SECRET_PREFIX, plen) == 0, rc = 0;

		if (!plain_string(v->items[k]))
			rc = bad(c, v->items[k], field, "expected a string");
		else if (v->keylens[k] == 0 || strlen(v->keys[k]) != v->keylens[k])
			rc = bad(c, v->items[k], field, "invalid key");
		else if (is_secret != secrets)
			rc = bad(c, v->items[k], field,
			    secrets ? "secrets are named " EXPORT_SECRET_PREFIX "MAC"
			            : "passwords belong in the secrets section");
		else if (secrets) /* a password only for a device the file brings */
			rc = file_device(c, doc, field, v->items[k], v->keys[k] + plen);
		free(field);
		if (rc != 0)
			return -1;
		doc->keys[doc->nset + doc->nsec] = v->keys[k];
		doc->values[doc->nset + doc->nsec] = v->items[k]->str;
		if (secrets)
			doc->nsec++;
		else
			doc->nset++;
	}
	return 0;
}

/*
 * A toml file of version 4 or later ends with the table EXPORT_TOML_END holding only
 * "complete = true": without it the file was cut short (TOML cut at a line end still parses).
 */
static int
toml_end(struct check *c, const struct toml_value *root)
{
	const struct toml_value *end = toml_get(root, EXPORT_TOML_END), *complete;
	struct toml_value last = {0}; /* what is missing is missing at the file's end */

	if (c->json || c->version < 4)
		return 0;
	if (end == NULL || (complete = toml_get(end, "complete")) == NULL)
		last.line = last_line(c); /* only then: a file read whole once more */
	if (end == NULL || end->type != TOML_TABLE)
		return bad(c, end != NULL ? end : &last, EXPORT_TOML_END,
		    "missing: the file ends early (cut short?); a complete export ends with "
		    "[" EXPORT_TOML_END "] complete = true");
	if (complete == NULL || complete->type != TOML_BOOL || complete->i != 1 || end->n != 1)
		return bad(c, complete != NULL ? complete : &last, EXPORT_TOML_END,
		    "expected only complete = true (the file ends early?)");
	return 0;
}

static int
header(struct check *c, const struct toml_value *root)
{
	const struct toml_value *kind = toml_get(root, "format"), *ver;
	const char *want = c->json ? EXPORT_JSON_KIND : EXPORT_TOML_KIND;

	if (kind == NULL || kind->type != TOML_STRING || strcmp(kind->str, want) != 0)
		return bad(c, kind != NULL ? kind : root, "format",
		    "not a shelly-tui export (want format = \"%s\")", want);
	ver = toml_get(root, "format_version");
	if (ver == NULL || ver->type != TOML_INTEGER || ver->i < 1)
		return bad(c, ver != NULL ? ver : root, "format_version", "expected an integer");
	if (ver->i > EXPORT_FORMAT_VERSION)
		return bad(c, ver, "format_version",
		    "version %lld is newer than this program reads (%d)", (long long)ver->i,
		    EXPORT_FORMAT_VERSION);
	c->version = ver->i;
	if (toml_end(c, root) != 0)
		return -1;
	for (size_t k = 0; k < root->n; k++) {
		/* version 1 has the first six; 2 added the configuration sections, 4 toml's end */
		static const char *const known[] = {"format", "format_version", "exported_at",
		    "devices", "settings", "secrets", "group", "groups", "templates", "configs",
		    EXPORT_TOML_END};
		size_t i, nknown = sizeof known / sizeof known[0];

		if (c->json || ver->i < 4)
			nknown--;
		if (ver->i < 2)
			nknown = 6;

		for (i = 0; i < nknown; i++)
			if (strcmp(root->keys[k], known[i]) == 0)
				break;
		if (i == nknown)
			return bad(c, root->items[k], root->keys[k],
			    "unknown section (written by a newer program?)");
	}
	return 0;
}

/* ---- configuration sections (format version 2, exchange/cfgdoc.h) ---- */

/* An optional text: NULL when absent or null; -1 when not a valid one (parse: a template). */
static int
text(struct check *c, const char *field, const struct toml_value *v, int parse, const char **out)
{
	struct devconfig dc;
	char *why = NULL;

	*out = NULL;
	if (v == NULL || is_null(c, v))
		return 0;
	if (!plain_string(v))
		return bad(c, v, field, "expected a string");
	if (v->len > CFGDOC_TEXT_MAX)
		return bad(c, v, field, "longer than %d bytes", CFGDOC_TEXT_MAX);
	if (parse && devconfig_template_parse(v->str, v->len, &dc, &why) != 0) {
		bad(c, v, field, "%s", why);
		free(why);
		return -1;
	}
	if (parse)
		devconfig_done(&dc);
	*out = v->str;
	return 0;
}

/* A table of the section (or null in json); -1 otherwise. */
static int
table(struct check *c, const char *field, const struct toml_value *v)
{
	if (v->type != TOML_TABLE || is_null(c, v))
		return bad(c, v, field, "expected a table");
	return 0;
}

/* Keys of t must be among names (n of them). */
static int
known_keys(struct check *c, const char *path, const struct toml_value *t, const char *const *names,
    size_t n)
{
	for (size_t k = 0; k < t->n; k++) {
		size_t i;

		for (i = 0; i < n && strcmp(t->keys[k], names[i]) != 0; i++)
			;
		if (i == n) {
			char *field = xasprintf("%s.%s", path, t->keys[k]);

			bad(c, t->items[k], field, "unknown field");
			free(field);
			return -1;
		}
	}
	return 0;
}

static int
one_group(struct check *c, const char *path, const struct toml_value *t, struct imp_group *g,
    const char **fields, struct import_doc *doc)
{
	static const char *const names[] = {"template", "fields", "members"};
	const struct toml_value *m = toml_get(t, "members"), *tv = toml_get(t, "template");
	char *field = xasprintf("%s.template", path);
	int rc = known_keys(c, path, t, names, 3);

	if (rc == 0 && (rc = text(c, field, tv, 0, &g->tmpl)) == 0 && g->tmpl != NULL &&
	    !cfgdoc_template_name_ok(g->tmpl))
		rc = bad(c, tv, field, "a template name is 1-64 printable characters, no '/'");
	free(field);
	field = xasprintf("%s.fields", path);
	if (rc == 0)
		rc = text(c, field, toml_get(t, "fields"), 1, fields);
	free(field);
	field = xasprintf("%s.members", path);
	if (rc == 0 && m != NULL && (m->type != TOML_ARRAY || is_null(c, m)))
		rc = bad(c, m, field, "expected an array of MACs");
	for (size_t i = 0; rc == 0 && m != NULL && i < m->n; i++) {
		if (!plain_string(m->items[i]))
			rc = bad(c, m->items[i], field, "expected an array of MACs");
		else if ((rc = file_device(c, doc, field, m->items[i], m->items[i]->str)) == 0) {
			g->members = xreallocarray(g->members, g->n + 1, sizeof *g->members);
			g->members[g->n++] = m->items[i]->str;
		}
	}
	free(field);
	return rc;
}

/* The name of entry k of section v: whole (no NUL inside) and accepted by ok(), else why. */
static int
entry_name(struct check *c, const char *path, const struct toml_value *v, size_t k,
    int (*ok)(const char *), const char *why)
{
	if (strlen(v->keys[k]) != v->keylens[k] || !ok(v->keys[k]))
		return bad(c, v->items[k], path, "%s", why);
	return 0;
}

/*
 * A version 2 section (a table of named entries, NULL: absent): entry() reads the entry k of v
 * at path "<name>.<key>". Returns 0, or -1 at the first entry that fails.
 */
static int
section(struct check *c, const char *name, const struct toml_value *v, struct import_doc *doc,
    int (*entry)(
        struct check *, const char *, const struct toml_value *, size_t, struct import_doc *))
{
	if (v == NULL)
		return 0;
	if (table(c, name, v) != 0)
		return -1;
	for (size_t k = 0; k < v->n; k++) {
		char *path = xasprintf("%s.%s", name, v->keys[k]);
		int rc = entry(c, path, v, k, doc);

		free(path);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
group_entry(
    struct check *c, const char *path, const struct toml_value *v, size_t k, struct import_doc *doc)
{
	struct imp_group *g;
	const char *fields = NULL;
	int rc;

	doc->groups = xreallocarray(doc->groups, doc->ngroups + 1, sizeof *doc->groups);
	g = memset(&doc->groups[doc->ngroups++], 0, sizeof *g);
	g->name = v->keys[k];
	rc = entry_name(c, path, v, k, cfgdoc_group_name_ok,
	    "a group name is 1-64 printable characters without spaces or a leading '@'");
	if (rc == 0 && (rc = table(c, path, v->items[k])) == 0)
		rc = one_group(c, path, v->items[k], g, &fields, doc);
	if (rc != 0 || fields == NULL)
		return rc;
	doc->gf_keys = xreallocarray(doc->gf_keys, doc->ngf + 1, sizeof *doc->gf_keys);
	doc->gf_keys[doc->ngf] = xasprintf(CFGDOC_GROUP_PREFIX "%s", g->name);
	doc->keys =
	    xreallocarray(doc->keys, doc->nset + doc->nsec + doc->ngf + 1, sizeof *doc->keys);
	doc->values =
	    xreallocarray(doc->values, doc->nset + doc->nsec + doc->ngf + 1, sizeof *doc->values);
	doc->keys[doc->nset + doc->nsec + doc->ngf] = doc->gf_keys[doc->ngf];
	doc->values[doc->nset + doc->nsec + doc->ngf++] = fields;
	return 0;
}

static int
template_entry(
    struct check *c, const char *path, const struct toml_value *v, size_t k, struct import_doc *doc)
{
	struct imp_template *t;

	doc->tmpls = xreallocarray(doc->tmpls, doc->ntmpls + 1, sizeof *doc->tmpls);
	t = memset(&doc->tmpls[doc->ntmpls++], 0, sizeof *t);
	t->name = v->keys[k];
	if (entry_name(c, path, v, k, cfgdoc_template_name_ok,
	        "a template name is 1-64 printable characters, no '/', not '.' first") != 0)
		return -1;
	if (text(c, path, v->items[k], 1, &t->body) != 0)
		return -1;
	return t->body == NULL ? bad(c, v->items[k], path, "expected a string") : 0;
}

/* An optional integer lo..hi into *out (0 when absent). */
static int
integer(struct check *c, const char *path, const char *key, const struct toml_value *t, int64_t lo,
    int64_t hi, int64_t *out)
{
	const struct toml_value *v = toml_get(t, key);
	char *field;
	int rc = 0;

	*out = 0;
	if (v == NULL || is_null(c, v))
		return 0;
	field = xasprintf("%s.%s", path, key);
	if (v->type != TOML_INTEGER || v->i < lo || v->i > hi)
		rc = bad(
		    c, v, field, "expected an integer %lld..%lld", (long long)lo, (long long)hi);
	else
		*out = v->i;
	free(field);
	return rc;
}

/* One snapshot (actual or an entry of history) into *p. */
static int
snapshot(struct check *c, const char *path, const struct toml_value *t, struct imp_snap *p)
{
	static const char *const names[] = {"ts_ms", "gen", "cfg_rev", "reason", "body"};
	const struct toml_value *rev = toml_get(t, "cfg_rev");
	char *field = xasprintf("%s.cfg_rev", path);
	int64_t gen = 0;
	int rc = known_keys(c, path, t, names, 5);

	p->has_ts = toml_get(t, "ts_ms") != NULL && !is_null(c, toml_get(t, "ts_ms"));
	if (rc == 0)
		rc = integer(c, path, "ts_ms", t, 0, INT64_MAX, &p->ts_ms);
	if (rc == 0)
		rc = integer(c, path, "gen", t, 0, 99, &gen);
	p->gen = (int)gen;
	if (rc == 0 && rev != NULL && !is_null(c, rev)) {
		if (rev->type == TOML_INTEGER)
			p->rev = (double)rev->i;
		else if (rev->type == TOML_FLOAT)
			p->rev = rev->f;
		else
			rc = bad(c, rev, field, "expected a number");
		/* toml's inf and nan are unknown, as json's null (what an export writes now) */
		p->has_rev = rc == 0 && isfinite(p->rev);
	}
	free(field);
	field = xasprintf("%s.reason", path);
	if (rc == 0)
		rc = text(c, field, toml_get(t, "reason"), 0, &p->reason);
	free(field);
	field = xasprintf("%s.body", path);
	if (rc == 0 && (rc = text(c, field, toml_get(t, "body"), 0, &p->body)) == 0 &&
	    p->body == NULL)
		rc = bad(c, t, field, "missing");
	free(field);
	return rc;
}

/* Appends snapshot t at path to cf; with a history it needs its time, not after the last. */
static int
add_snapshot(struct check *c, const char *path, const struct toml_value *t, struct imp_config *cf,
    int history)
{
	struct imp_snap *p;
	char *field;
	int rc;

	if (table(c, path, t) != 0)
		return -1;
	cf->snaps = xreallocarray(cf->snaps, cf->nsnaps + 1, sizeof *cf->snaps);
	p = memset(&cf->snaps[cf->nsnaps++], 0, sizeof *p);
	if ((rc = snapshot(c, path, t, p)) != 0 || !history)
		return rc;
	field = xasprintf("%s.ts_ms", path);
	if (!p->has_ts)
		rc = bad(c, t, field, "missing (a history needs the time of every snapshot)");
	else if (p->ts_ms > cf->snaps[cf->nsnaps - 2].ts_ms)
		rc = bad(c, toml_get(t, "ts_ms"), field,
		    "newer than the snapshot before it (a history is newest first)");
	free(field);
	return rc;
}

/* history (version 3): the older snapshots, newest first, after actual (cf->snaps[0]). */
static int
history(struct check *c, const char *path, const struct toml_value *h, struct imp_config *cf)
{
	char *field = xasprintf("%s.history", path);
	int rc = 0;

	if (h->type != TOML_ARRAY || is_null(c, h))
		rc = bad(c, h, field, "expected an array of snapshots");
	else if (cf->nsnaps == 0)
		rc = bad(c, h, field, "a history needs the latest snapshot (actual)");
	else if (h->n >= CFGSTORE_SNAPSHOTS_KEPT)
		rc = bad(c, h, field, "more than the %d older snapshots the store keeps",
		    CFGSTORE_SNAPSHOTS_KEPT - 1);
	else if (!cf->snaps[0].has_ts)
		rc = bad(c, h, field, "the latest snapshot (actual) needs its ts_ms");
	for (size_t i = 0; rc == 0 && i < h->n; i++) {
		char *at = xasprintf("%s[%zu]", field, i);

		rc = add_snapshot(c, at, h->items[i], cf, 1);
		free(at);
	}
	free(field);
	return rc;
}

static int
one_config(struct check *c, const char *path, const struct toml_value *t, struct imp_config *cf)
{
	/* version 3 added the history */
	static const char *const names[] = {"desired", "actual", "history"};
	const struct toml_value *a = toml_get(t, "actual"), *h = toml_get(t, "history");
	char *field = xasprintf("%s.desired", path);
	int rc = known_keys(c, path, t, names, c->version >= 3 ? 3 : 2);

	if (rc == 0)
		rc = text(c, field, toml_get(t, "desired"), 1, &cf->desired);
	free(field);
	if (rc == 0 && a != NULL && !is_null(c, a)) {
		field = xasprintf("%s.actual", path);
		rc = add_snapshot(c, field, a, cf, 0);
		free(field);
	}
	if (rc == 0 && h != NULL && !is_null(c, h))
		rc = history(c, path, h, cf);
	return rc;
}

static int
config_entry(
    struct check *c, const char *path, const struct toml_value *v, size_t k, struct import_doc *doc)
{
	struct imp_config *cf;
	int rc;

	doc->configs = xreallocarray(doc->configs, doc->nconfigs + 1, sizeof *doc->configs);
	cf = memset(&doc->configs[doc->nconfigs++], 0, sizeof *cf);
	cf->mac = v->keys[k];
	if ((rc = file_device(c, doc, path, v->items[k], v->keys[k])) == 0 &&
	    (rc = table(c, path, v->items[k])) == 0)
		rc = one_config(c, path, v->items[k], cf);
	return rc;
}

/* The sections of version 2: group (a subset), groups, templates, configs. */
static int
config_sections(struct check *c, const struct toml_value *root, struct import_doc *doc)
{
	const struct toml_value *g = toml_get(root, "group");

	if (g != NULL && (!plain_string(g) || !cfgdoc_group_name_ok(g->str)))
		return bad(c, g, "group", "expected a group name");
	doc->subset = g != NULL ? g->str : NULL;
	doc->secrets = toml_get(root, "secrets") != NULL;
	doc->has_config = toml_get(root, "format_version")->i >= 2;
	if (section(c, "groups", toml_get(root, "groups"), doc, group_entry) != 0 ||
	    section(c, "templates", toml_get(root, "templates"), doc, template_entry) != 0)
		return -1;
	return section(c, "configs", toml_get(root, "configs"), doc, config_entry);
}

int
import_parse(const char *name, const char *buf, size_t len, struct import_doc **out, char **cause)
{
	struct check c = {name, 0, 0, NULL, buf, len};
	struct import_doc *doc = xcalloc(1, sizeof *doc);
	size_t i = 0;
	char *why = NULL;

	/* A byte order mark (editors on Windows write one) is not part of either format. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	c.json = i < len && buf[i] == '{';
	doc->format = c.json ? "json" : "toml";
	doc->tree = c.json ? jsondoc_parse(buf, len, &why) : toml_parse(buf, len, &why);
	if (doc->tree == NULL) {
		c.err = xasprintf("%s: %s", name, why);
		free(why);
	} else if (doc->tree->type != TOML_TABLE || jsondoc_is_null(doc->tree)) {
		bad(&c, doc->tree, "document", "expected an object");
	} else if (header(&c, doc->tree) == 0 &&
	           devices(&c, toml_get(doc->tree, "devices"), doc) == 0 &&
	           pairs(&c, "settings", toml_get(doc->tree, "settings"), 0, doc) == 0 &&
	           pairs(&c, "secrets", toml_get(doc->tree, "secrets"), 1, doc) == 0) {
		config_sections(&c, doc->tree, doc);
	}
	if (c.err != NULL) {
		import_doc_free(doc);
		*cause = c.err;
		return -1;
	}
	*out = doc;
	return 0;
}

/* The index of the device with mac in doc, or doc->n. */
static size_t
doc_index(const struct import_doc *doc, const char *mac)
{
	size_t k;

	for (k = 0; k < doc->n && strcmp(doc->devs[k].mac, mac) != 0; k++)
		;
	return k;
}

static int
count_removed_cb(const struct store_device *d, void *arg)
{
	void **a = arg;
	const struct import_doc *doc = a[0];
	size_t *removed = a[1];

	if (doc_index(doc, d->mac) == doc->n)
		(*removed)++;
	return 0;
}

/* Templates are files: staged (written, fsync'd) before the commit, renamed after it. */
struct staged {
	const struct import_doc *doc;
	char *dir;
	char **tmp, **path; /* per template */
};

static void
staged_done(struct staged *st, int unlink_tmp)
{
	for (size_t i = 0; st->tmp != NULL && i < st->doc->ntmpls; i++) {
		if (unlink_tmp && st->tmp[i] != NULL)
			unlink(st->tmp[i]);
		free(st->tmp[i]);
		free(st->path[i]);
	}
	free(st->tmp);
	free(st->path);
	free(st->dir);
}

/*
 * The file template name is written to: its path in dir, or the file a symbolic link there
 * leads to (as for --export -o), so the link is kept. Not a FIFO or device: a template is
 * staged before the database commit and renamed after it, which needs a regular file.
 */
static char *
template_target(const char *dir, const char *name, char **cause)
{
	char *path = xasprintf("%s/%s.tmpl", dir, name), *target;
	struct stat sb;

	if ((target = dirs_file_target(path, &sb, cause)) == NULL && *cause == NULL)
		*cause = xasprintf("template %s: %s is not a regular file", name, path);
	free(path);
	return target;
}

static int
stage_cb(void *arg, char **cause)
{
	struct staged *st = arg;
	const struct import_doc *doc = st->doc;

	if (doc->ntmpls == 0)
		return 0;
	if (dirs_make(st->dir, cause) != 0) /* EACCES or EROFS, not the ENOENT of a write */
		return -1;
	st->tmp = xcalloc(doc->ntmpls, sizeof *st->tmp);
	st->path = xcalloc(doc->ntmpls, sizeof *st->path);
	for (size_t i = 0; i < doc->ntmpls; i++) {
		const struct imp_template *t = &doc->tmpls[i];
		char *stored = NULL, *kept = NULL;
		const char *body = t->body;
		int rc = 0;

		if ((st->path[i] = template_target(st->dir, t->name, cause)) == NULL)
			return -1;
		if (!doc->secrets &&
		    (rc = cfgdoc_template_read(st->dir, t->name, &stored, cause)) < 0)
			return -1;
		if (rc == 0 && (kept = cfgdoc_keep_secrets(t->body, stored)) != NULL)
			body = kept;
		rc = export_stage_file(st->path[i], body, strlen(body), 0600, &st->tmp[i], cause);
		str_free_secret(stored);
		str_free_secret(kept);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * The texts a restore writes: the file's, except that a file written without secrets keeps the
 * secret lines of what is stored (as passwords stay without a secrets section).
 */
struct texts {
	const char **values; /* settings: the file's, group fields perhaps with kept lines */
	const char **desired; /* per config */
	char **owned;
	size_t nowned;
};

/* incoming, or incoming with stored's secret lines (owned by t); frees stored. */
static const char *
keep_stored(struct texts *t, const char *incoming, char *stored)
{
	char *kept = cfgdoc_keep_secrets(incoming, stored);

	str_free_secret(stored);
	if (kept == NULL)
		return incoming;
	t->owned = xreallocarray(t->owned, t->nowned + 1, sizeof *t->owned);
	return t->owned[t->nowned++] = kept;
}

static void
texts_init(struct texts *t, struct store *s, const struct import_doc *doc)
{
	size_t nv = doc->nset + doc->nsec + doc->ngf;

	memset(t, 0, sizeof *t);
	t->values = xcalloc(nv ? nv : 1, sizeof *t->values);
	if (nv > 0) /* doc->values is NULL for a file without settings */
		memcpy(t->values, doc->values, nv * sizeof *t->values);
	t->desired = xcalloc(doc->nconfigs ? doc->nconfigs : 1, sizeof *t->desired);
	for (size_t i = 0; i < doc->nconfigs; i++) {
		t->desired[i] = doc->configs[i].desired;
		if (!doc->secrets && t->desired[i] != NULL)
			t->desired[i] = keep_stored(
			    t, t->desired[i], cfgstore_desired_get(s, doc->configs[i].mac));
	}
	for (size_t i = doc->nset + doc->nsec; !doc->secrets && i < nv; i++)
		t->values[i] = keep_stored(t, t->values[i], store_setting_get(s, doc->keys[i]));
}

static void
texts_done(struct texts *t)
{
	for (size_t i = 0; i < t->nowned; i++)
		str_free_secret(t->owned[i]);
	free(t->owned);
	free(t->values);
	free(t->desired);
}

/* After the commit: every staged template onto its name. */
static int
staged_commit(struct staged *st, char **cause)
{
	int rc = 0;

	for (size_t i = 0; st->tmp != NULL && i < st->doc->ntmpls; i++) {
		char *why = NULL;

		if (export_commit_file(st->tmp[i], st->path[i], &why) != 0) {
			if (rc == 0)
				*cause =
				    xasprintf("the database is restored but template %s is not: %s",
				        st->doc->tmpls[i].name, why);
			free(why);
			rc = -1;
		}
		free(st->tmp[i]);
		st->tmp[i] = NULL;
	}
	return rc;
}

struct stored_snap {
	const struct imp_snap *p;
	int found, rows;
};

static int
stored_snap_cb(const struct cfgstore_row *r, void *arg)
{
	struct stored_snap *m = arg;
	int same_time = m->p->has_ts ? r->ts_ms == m->p->ts_ms : m->rows == 0;
	char *clean;

	m->rows++;
	if (!same_time)
		return 0;
	clean = cfgdoc_strip_secrets(r->body != NULL ? r->body : "", NULL);
	m->found = strcmp(clean, m->p->body) == 0;
	str_free_secret(clean);
	return m->found;
}

/*
 * 1 when p is a snapshot the store holds already but for the secret lines a file exported
 * without --include-secrets leaves out: the one of the same time (the newest for a snapshot
 * without time) equals p once its secret lines are removed. Restoring such a backup into the
 * database that wrote it adds no poorer copy, which would become the newest.
 */
static int
stored_without_secrets(struct store *s, const char *mac, const struct imp_snap *p)
{
	struct stored_snap m = {p, 0, 0};
	char *cause = NULL;

	if (s == NULL ||
	    cfgstore_snapshots(s, mac, CFGSTORE_SNAPSHOTS_KEPT, stored_snap_cb, &m, &cause) != 0) {
		free(cause);
		return 0;
	}
	return m.found;
}

static struct cfgrestore *
plan(struct store *s, const struct import_doc *doc, int replace, int64_t now_ms,
    const char *const *desired)
{
	/* a version 1 file cannot hold configuration, so replacing keeps what is stored */
	struct cfgrestore *r = cfgrestore_new(replace && doc->has_config);

	for (size_t i = 0; i < doc->ngroups; i++)
		cfgrestore_group(r, doc->groups[i].name, doc->groups[i].tmpl,
		    doc->groups[i].members, doc->groups[i].n);
	for (size_t i = 0; i < doc->nconfigs; i++) {
		const struct imp_config *cf = &doc->configs[i];

		if (desired[i] != NULL)
			cfgrestore_desired(r, cf->mac, desired[i]);
		for (size_t k = cf->nsnaps; k-- > 0;) { /* oldest first */
			const struct imp_snap *p = &cf->snaps[k];

			if (stored_without_secrets(s, cf->mac, p))
				continue;
			if (p->has_ts)
				cfgrestore_history(r, cf->mac, p->ts_ms, p->gen, p->has_rev, p->rev,
				    p->reason, p->body);
			else /* a version 2 toml file: no time, no history */
				cfgrestore_snapshot(r, cf->mac, now_ms, p->gen, p->has_rev, p->rev,
				    p->reason, p->body);
		}
	}
	return r;
}

static void
count(const struct import_doc *doc, struct import_result *res)
{
	memset(res, 0, sizeof *res);
	res->format = doc->format;
	res->devices = doc->n;
	res->settings = doc->nset;
	res->secrets = doc->nsec;
	res->groups = doc->ngroups;
	res->templates = doc->ntmpls;
	for (size_t i = 0; i < doc->nconfigs; i++) {
		res->desired += doc->configs[i].desired != NULL;
		res->snapshots += doc->configs[i].nsnaps;
	}
}

/*
 * -1 with *cause when device i of doc would share its id with another registered device after
 * the import: one the file leaves alone (merge), or one whose id the file keeps (null).
 */
static int
id_taken(struct store *s, const struct import_doc *doc, size_t i, int replace, char **cause)
{
	const struct store_device *in = &doc->devs[i];
	struct store_device *d;
	size_t k;
	int taken = 0;

	if (in->id == NULL || in->id[0] == '\0' || (d = store_device_find_id(s, in->id)) == NULL)
		return 0;
	if (strcmp(d->mac, in->mac) != 0) {
		k = doc_index(doc, d->mac);
		taken = k < doc->n ? doc->devs[k].id == NULL : !replace;
	}
	if (taken) {
		char *id = str_sanitize(in->id, 80);

		*cause =
		    xasprintf("device %s has id %s, the id of registered device %s (a device's "
		              "id is its own, so two devices cannot share one)",
		        in->mac, id, d->mac);
		free(id);
	}
	store_device_free(d);
	return taken ? -1 : 0;
}

/* 1 when the upsert writes a text value other than the stored one (NULL keeps, "" clears). */
static int
text_changes(const char *stored, const char *in)
{
	return in != NULL && strcmp(in, stored != NULL ? stored : "") != 0;
}

/*
 * 1 when store_device_upsert(in) would change a field of the stored device (store/store.h:
 * NULL strings and zero numbers keep the stored value, "" clears a string, first_seen keeps the
 * earliest and last_seen the latest time), else 0.
 */
static int
device_changes(const struct store_device *stored, const struct store_device *in)
{
	const char *const old[] = {stored->id, stored->model, stored->app, stored->fw, stored->name,
	    stored->host, stored->scheme, stored->user, stored->cred_ref, stored->tls_pin,
	    stored->discovered_via};
	const char *const new[] = {in->id, in->model, in->app, in->fw, in->name, in->host,
	    in->scheme, in->user, in->cred_ref, in->tls_pin, in->discovered_via};

	for (size_t i = 0; i < sizeof old / sizeof *old; i++)
		if (text_changes(old[i], new[i]))
			return 1;
	return (in->gen != 0 && in->gen != stored->gen) ||
	       (in->port != 0 && in->port != stored->port) ||
	       (in->first_seen_ms != 0 &&
	           (stored->first_seen_ms == 0 || in->first_seen_ms < stored->first_seen_ms)) ||
	       (in->last_seen_ms != 0 && in->last_seen_ms > stored->last_seen_ms);
}

int
import_apply(struct store *s, const struct import_doc *doc, int replace, int dry_run,
    struct import_result *res, char **cause)
{
	struct store_import im = {0};
	struct staged st = {doc, NULL, NULL, NULL};
	struct cfgrestore *r;
	struct texts t;
	void *arg[2] = {(void *)doc, &res->removed};
	int rc;

	count(doc, res);
	if (replace && doc->subset != NULL) {
		char *clean = str_sanitize(doc->subset, 64);

		*cause = xasprintf("the file holds only group %s; --replace would remove the rest "
		                   "of the fleet (use --merge)",
		    clean);
		free(clean);
		return -1;
	}
	if (doc->ntmpls > 0 && (st.dir = cfgdoc_template_dir()) == NULL) {
		*cause =
		    xstrdup("the file has templates but neither XDG_CONFIG_HOME nor HOME is set");
		return -1;
	}
	for (size_t i = 0; i < doc->n; i++) {
		struct store_device *d;
		const char *held = doc->foreign[i];

		if (id_taken(s, doc, i, replace, cause) != 0) {
			free(st.dir);
			return -1;
		}
		d = store_device_find_mac(s, doc->devs[i].mac);

		if (held != NULL &&
		    (d == NULL || d->cred_ref == NULL || strcmp(d->cred_ref, held) != 0)) {
			if (res->held++ == 0)
				res->held_mac = doc->devs[i].mac;
		}
		if (d == NULL)
			res->added++;
		else if (device_changes(d, &doc->devs[i]))
			res->updated++;
		else
			res->unchanged++;
		store_device_free(d);
	}
	if (replace && store_device_list(s, count_removed_cb, arg, cause) != 0) {
		free(st.dir);
		return -1;
	}
	if (dry_run) {
		free(st.dir);
		return 0;
	}
	texts_init(&t, s, doc);
	r = plan(s, doc, replace, (int64_t)time(NULL) * 1000, t.desired);
	im.devices = doc->devs;
	im.ndevices = doc->n;
	im.keys = doc->keys;
	im.values = t.values;
	im.nsettings = doc->nset + doc->nsec + doc->ngf;
	im.replace = replace;
	im.keep_prefix = doc->nsec > 0 ? NULL : EXPORT_SECRET_PREFIX;
	im.cfg = cfgrestore_steps(r, &im.ncfg);
	im.before_commit = stage_cb;
	im.arg = &st;
	rc = store_import(s, &im, cause);
	if (rc == 0)
		rc = staged_commit(&st, cause);
	staged_done(&st, rc != 0);
	cfgrestore_free(r);
	texts_done(&t);
	return rc;
}

void
import_trust_credentials(struct import_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++)
		if (doc->foreign[i] != NULL) {
			doc->devs[i].cred_ref = doc->foreign[i];
			doc->foreign[i] = NULL;
		}
}

int
import_read_file(const char *path, struct import_doc **out, char **cause)
{
	struct strbuf sb;
	char buf[65536];
	ssize_t n;
	int fd, rc;

	if ((fd = rfile_open(path, cause)) < 0) /* a FIFO or device would block */
		return -1;
	strbuf_init(&sb);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || sb.len + (size_t)n > IMPORT_MAX_BYTES) {
			*cause =
			    n < 0 ? xasprintf("%s: %s", path, strerror(errno))
			          : xasprintf("%s: larger than %u bytes", path, IMPORT_MAX_BYTES);
			close(fd);
			strbuf_done(&sb);
			return -1;
		}
		strbuf_append_len(&sb, buf, (size_t)n);
	}
	close(fd);
	rc = import_parse(path, sb.buf != NULL ? sb.buf : "", sb.len, out, cause);
	if (sb.buf != NULL)
		explicit_bzero(sb.buf, sb.len);
	strbuf_done(&sb);
	return rc;
}
