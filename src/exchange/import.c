/*
 * Import: file -> document tree (exchange/toml or exchange/jsondoc) -> validated records ->
 * one store transaction. Nothing reaches the store before the whole file has been checked.
 */
#include "exchange/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exchange/export.h"
#include "exchange/jsondoc.h"
#include "exchange/toml.h"
#include "util/xmalloc.h"

#define IMPORT_MAX_BYTES (64u << 20)

struct import_doc {
	struct toml_value *tree; /* owns the strings the records point to */
	const char *format;
	struct store_device *devs;
	size_t n;
	const char **keys, **values; /* settings then secrets */
	size_t nset, nsec;
};

struct check {
	const char *name; /* file name for messages */
	int json;
	char *err;
};

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
	free(doc->keys);
	free(doc->values);
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
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(doc->devs[j].mac, d->mac) == 0)
				return bad(
				    c, v->items[i], "devices", "MAC %s appears twice", d->mac);
		doc->n++;
	}
	return 0;
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
		free(field);
		if (rc != 0)
			return -1;
		doc->keys = xreallocarray(doc->keys, doc->nset + doc->nsec + 1, sizeof *doc->keys);
		doc->values =
		    xreallocarray(doc->values, doc->nset + doc->nsec + 1, sizeof *doc->values);
		doc->keys[doc->nset + doc->nsec] = v->keys[k];
		doc->values[doc->nset + doc->nsec] = v->items[k]->str;
		if (secrets)
			doc->nsec++;
		else
			doc->nset++;
	}
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
	for (size_t k = 0; k < root->n; k++) {
		static const char *const known[] = {
		    "format", "format_version", "exported_at", "devices", "settings", "secrets"};
		size_t i;

		for (i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strcmp(root->keys[k], known[i]) == 0)
				break;
		if (i == sizeof known / sizeof known[0])
			return bad(c, root->items[k], root->keys[k],
			    "unknown section (written by a newer program?)");
	}
	return 0;
}

int
import_parse(const char *name, const char *buf, size_t len, struct import_doc **out, char **cause)
{
	struct check c = {name, 0, NULL};
	struct import_doc *doc = xcalloc(1, sizeof *doc);
	size_t i = 0;
	char *why = NULL;

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
	           pairs(&c, "settings", toml_get(doc->tree, "settings"), 0, doc) == 0) {
		pairs(&c, "secrets", toml_get(doc->tree, "secrets"), 1, doc);
	}
	if (c.err != NULL) {
		import_doc_free(doc);
		*cause = c.err;
		return -1;
	}
	*out = doc;
	return 0;
}

static int
count_removed_cb(const struct store_device *d, void *arg)
{
	void **a = arg;
	const struct import_doc *doc = a[0];
	size_t *removed = a[1], k;

	for (k = 0; k < doc->n && strcmp(doc->devs[k].mac, d->mac) != 0; k++)
		;
	if (k == doc->n)
		(*removed)++;
	return 0;
}

int
import_apply(struct store *s, const struct import_doc *doc, int replace, int dry_run,
    struct import_result *res, char **cause)
{
	struct store_import im = {0};
	void *arg[2] = {(void *)doc, &res->removed};

	memset(res, 0, sizeof *res);
	res->format = doc->format;
	res->devices = doc->n;
	res->settings = doc->nset;
	res->secrets = doc->nsec;
	for (size_t i = 0; i < doc->n; i++) {
		struct store_device *d = store_device_find_mac(s, doc->devs[i].mac);

		if (d != NULL)
			res->updated++;
		else
			res->added++;
		store_device_free(d);
	}
	if (replace && store_device_list(s, count_removed_cb, arg, cause) != 0)
		return -1;
	if (dry_run)
		return 0;
	im.devices = doc->devs;
	im.ndevices = doc->n;
	im.keys = doc->keys;
	im.values = doc->values;
	im.nsettings = doc->nset + doc->nsec;
	im.replace = replace;
	im.keep_prefix = doc->nsec > 0 ? NULL : EXPORT_SECRET_PREFIX;
	return store_import(s, &im, cause);
}

int
import_read_file(const char *path, struct import_doc **out, char **cause)
{
	struct strbuf sb;
	char buf[65536];
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
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
