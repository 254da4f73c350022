/*
 * Exports: the fleet is read from the store once, in one read snapshot (devices by MAC, their
 * latest state, settings by key, the configuration), then written by the format's writer.
 * JSON and TOML are restorable (exchange/import) and written by hand rather than through cJSON
 * so that the order, the escaping (controls, C1, invalid UTF-8) and the layout are fixed: two
 * exports of an unchanged fleet are identical (JSON apart from its export time).
 */
#include "exchange/export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exchange/cfgdoc.h"
#include "exchange/hostfmt.h"
#include "exchange/toml.h"
#include "store/cfgstore.h"
#include "util/dirs.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define FIELD(name, kind, member)                                 \
	{                                                         \
		name, kind, offsetof(struct store_device, member) \
	}

static const struct export_field device_fields[] = {
    FIELD("mac", EXPORT_F_STR, mac),
    FIELD("id", EXPORT_F_STR, id),
    FIELD("name", EXPORT_F_STR, name),
    FIELD("gen", EXPORT_F_INT, gen),
    FIELD("model", EXPORT_F_STR, model),
    FIELD("app", EXPORT_F_STR, app),
    FIELD("fw", EXPORT_F_STR, fw),
    FIELD("host", EXPORT_F_STR, host),
    FIELD("port", EXPORT_F_INT, port),
    FIELD("scheme", EXPORT_F_STR, scheme),
    FIELD("user", EXPORT_F_STR, user),
    FIELD("credentials", EXPORT_F_STR, cred_ref),
    FIELD("tls_pin", EXPORT_F_STR, tls_pin),
    FIELD("discovered_via", EXPORT_F_STR, discovered_via),
    FIELD("first_seen_ms", EXPORT_F_TIME, first_seen_ms),
    FIELD("last_seen_ms", EXPORT_F_TIME, last_seen_ms),
};
#define NFIELDS (sizeof device_fields / sizeof device_fields[0])

static const struct {
	const char *name;
	int restorable;
} formats[] = {
#define EXPORT_ROW(id, name, restorable, help) {name, restorable},
    EXPORT_FORMATS(EXPORT_ROW)
#undef EXPORT_ROW
};

const struct export_field *
export_device_fields(size_t *n)
{
	*n = NFIELDS;
	return device_fields;
}

int
export_format_parse(const char *name, enum export_format *out)
{
	for (int f = 0; f < EXPORT__COUNT; f++) {
		if (strcmp(formats[f].name, name) == 0) {
			*out = (enum export_format)f;
			return 0;
		}
	}
	return -1;
}

const char *
export_format_name(enum export_format f)
{
	return (unsigned)f < EXPORT__COUNT ? formats[f].name : "?";
}

const char *
export_format_list(void)
{
	return "json, toml, csv, hosts, dhcp-isc, dnsmasq, kea";
}

int
export_format_restorable(enum export_format f)
{
	return (unsigned)f < EXPORT__COUNT && formats[f].restorable;
}

const char *
export_csv_columns(void)
{
	return "mac, id, name, gen, model, app, fw, host, port, scheme, user, credentials, "
	       "tls_pin, discovered_via, first_seen_ms, last_seen_ms, state";
}

/* ---- the fleet ---- */

struct fleet {
	char **members; /* with a group: its members (sorted), else NULL */
	size_t nmembers;
	struct cfgdoc *cfg; /* json, toml: the configuration sections */
	struct store_device **dev;
	char **state; /* latest state per device, NULL unknown */
	size_t n, cap;
	char **keys, **values; /* settings (not secrets), by key */
	size_t nset;
	char **skeys, **svalues; /* secrets, by key */
	size_t nsec;
};

/* With a group, whether mac is one of its members (NULL, no device: 1). */
static int
fleet_member(const struct fleet *f, const char *mac)
{
	return f->members == NULL || mac == NULL || str_list_has(f->members, f->nmembers, mac);
}

static int
fleet_device_cb(const struct store_device *d, void *arg)
{
	struct fleet *f = arg;

	if (!fleet_member(f, d->mac))
		return 0;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 32;
		f->dev = xreallocarray(f->dev, f->cap, sizeof *f->dev);
		f->state = xreallocarray(f->state, f->cap, sizeof *f->state);
	}
	f->dev[f->n] = store_device_dup(d);
	f->state[f->n++] = NULL;
	return 0;
}

/* A walk of the fleet's devices (by MAC) beside the store's list of statuses (by MAC too). */
struct fleet_walk {
	struct fleet *f;
	size_t at;
};

/* The latest state of a device of the fleet: one read for all of them, not one per device. */
static int
fleet_status_cb(const struct store_status *st, void *arg)
{
	struct fleet_walk *w = arg;
	int cmp = -1;

	while (w->at < w->f->n && (cmp = strcmp(w->f->dev[w->at]->mac, st->mac)) < 0)
		w->at++;
	if (cmp == 0 && st->state != NULL)
		w->f->state[w->at] = xstrdup(st->state);
	return 0;
}

/*
 * The device a setting belongs to, NULL for none: the MAC that ends a key such as
 * secret:MAC or device-name:MAC (a group export leaves out what other devices own).
 */
static const char *
setting_device(const char *key)
{
	const char *m = strrchr(key, ':');
	char mac[STORE_MAC_LEN + 1];

	if (m == NULL || store_mac_parse(m + 1, mac) != 0 || strcmp(mac, m + 1) != 0)
		return NULL;
	return m + 1;
}

static int
fleet_setting_cb(const char *key, const char *value, void *arg)
{
	struct fleet *f = arg;
	int secret = strncmp(key, EXPORT_SECRET_PREFIX, strlen(EXPORT_SECRET_PREFIX)) == 0;
	char ***k = secret ? &f->skeys : &f->keys, ***v = secret ? &f->svalues : &f->values;
	size_t *n = secret ? &f->nsec : &f->nset;

	if (strncmp(key, CFGDOC_GROUP_PREFIX, strlen(CFGDOC_GROUP_PREFIX)) == 0)
		return 0; /* exported under groups.NAME.fields */
	if (!fleet_member(f, secret ? key + strlen(EXPORT_SECRET_PREFIX) : setting_device(key)))
		return 0;
	*k = xreallocarray(*k, *n + 1, sizeof **k);
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*k)[*n] = xstrdup(key);
	(*v)[(*n)++] = xstrdup(value);
	return 0;
}

static void
fleet_done(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		store_device_free(f->dev[i]);
		free(f->state[i]);
	}
	for (size_t i = 0; i < f->nset; i++) {
		free(f->keys[i]);
		free(f->values[i]);
	}
	for (size_t i = 0; i < f->nsec; i++) {
		free(f->skeys[i]);
		str_free_secret(f->svalues[i]);
	}
	free(f->dev);
	free(f->state);
	free(f->keys);
	free(f->values);
	free(f->skeys);
	free(f->svalues);
	str_array_free(f->members, f->nmembers);
	cfgdoc_free(f->cfg);
}

struct group_find {
	const char *name;
	int found;
};

static int
group_find_cb(const struct cfgstore_row *r, void *arg)
{
	struct group_find *g = arg;

	if (strcmp(r->name, g->name) == 0)
		g->found = 1;
	return g->found;
}

int
export_group_exists(struct store *s, const char *group, char **cause)
{
	struct group_find g = {group, 0};

	if (cfgstore_groups(s, group_find_cb, &g, cause) != 0)
		return -1;
	return g.found;
}

/* The members of group into f; an unknown group is an error. */
static int
fleet_group(struct store *s, const char *group, struct fleet *f, char **cause)
{
	int rc = export_group_exists(s, group, cause);

	if (rc == 0) {
		char *clean = str_sanitize(group, 64);

		*cause = xasprintf("no group \"%s\" (see --group-list)", clean);
		free(clean);
	}
	if (rc <= 0)
		return -1;
	return cfgdoc_members(s, group, &f->members, &f->nmembers, cause);
}

static int
fleet_load(struct store *s, const struct export_opts *o, struct fleet *f, char **cause)
{
	int with_state = o->format == EXPORT_CSV;

	memset(f, 0, sizeof *f);
	if ((o->group != NULL && fleet_group(s, o->group, f, cause) != 0) ||
	    store_device_list(s, fleet_device_cb, f, cause) != 0 ||
	    store_setting_list(s, fleet_setting_cb, f, cause) != 0) {
		fleet_done(f);
		return -1;
	}
	if (with_state &&
	    store_status_list(s, fleet_status_cb, &(struct fleet_walk){f, 0}, cause) != 0) {
		fleet_done(f);
		return -1;
	}
	if (o->format == EXPORT_JSON || o->format == EXPORT_TOML) {
		char *dir =
		    o->templates_dir != NULL ? xstrdup(o->templates_dir) : cfgdoc_template_dir();
		const char **macs = xcalloc(f->n ? f->n : 1, sizeof *macs);
		int rc;

		for (size_t i = 0; i < f->n; i++)
			macs[i] = f->dev[i]->mac;
		rc = cfgdoc_load(
		    s, dir, o->group, macs, f->n, o->include_secrets, o->notes, &f->cfg, cause);
		free(macs);
		free(dir);
		if (rc != 0) {
			fleet_done(f);
			return -1;
		}
	}
	return 0;
}

/* A string field; NULL when unknown ("" too: the store keeps no empty strings). */
static const char *
field_str(const struct store_device *d, const struct export_field *fd)
{
	const char *s;

	if (strcmp(fd->name, "mac") == 0)
		return d->mac;
	s = *(const char *const *)((const char *)d + fd->off);
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static int64_t
field_int(const struct store_device *d, const struct export_field *fd)
{
	if (fd->kind == EXPORT_F_INT)
		return *(const int *)((const char *)d + fd->off);
	return *(const int64_t *)((const char *)d + fd->off);
}

/* ---- JSON ---- */

static void
json_iso_time(struct strbuf *sb, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_appendf(sb, "\"%s\"", buf);
}

static void
json_pairs(struct strbuf *sb, const char *name, char **keys, char **values, size_t n)
{
	strbuf_appendf(sb, ",\n  \"%s\": {", name);
	for (size_t i = 0; i < n; i++) {
		strbuf_append(sb, i ? ",\n    " : "\n    ");
		toml_append_string(sb, keys[i]);
		strbuf_append(sb, ": ");
		toml_append_string(sb, values[i]);
	}
	strbuf_append(sb, n ? "\n  }" : "}");
}

static void
json_device(struct strbuf *sb, const struct store_device *d)
{
	strbuf_append(sb, "    {");
	for (size_t k = 0; k < NFIELDS; k++) {
		const struct export_field *fd = &device_fields[k];

		strbuf_appendf(sb, "%s\n      \"%s\": ", k ? "," : "", fd->name);
		if (fd->kind == EXPORT_F_STR) {
			const char *v = field_str(d, fd);

			if (v == NULL)
				strbuf_append(sb, "null");
			else
				toml_append_string(sb, v);
		} else if (field_int(d, fd) == 0) {
			strbuf_append(sb, "null");
		} else {
			strbuf_appendf(sb, "%" PRId64, field_int(d, fd));
		}
	}
	strbuf_append(sb, "\n    }");
}

static void
render_json(const struct fleet *f, const struct export_opts *o, struct strbuf *sb)
{
	strbuf_appendf(sb, "{\n  \"format\": \"%s\",\n  \"format_version\": %d,\n",
	    EXPORT_JSON_KIND, EXPORT_JSON_VERSION);
	if (o->group != NULL) {
		strbuf_append(sb, "  \"group\": ");
		toml_append_string(sb, o->group);
		strbuf_append(sb, ",\n");
	}
	strbuf_append(sb, "  \"exported_at\": ");
	json_iso_time(sb, o->now_ms);
	strbuf_append(sb, ",\n  \"devices\": [");
	for (size_t i = 0; i < f->n; i++) {
		strbuf_append(sb, i ? ",\n" : "\n");
		json_device(sb, f->dev[i]);
	}
	strbuf_append(sb, f->n ? "\n  ]" : "]");
	json_pairs(sb, "settings", f->keys, f->values, f->nset);
	if (o->include_secrets)
		json_pairs(sb, "secrets", f->skeys, f->svalues, f->nsec);
	cfgdoc_render_json(f->cfg, sb);
	strbuf_append(sb, "\n}\n");
}

/* ---- TOML ---- */

static void
toml_pairs(struct strbuf *sb, const char *table, char **keys, char **values, size_t n)
{
	strbuf_appendf(sb, "\n[%s]\n", table);
	for (size_t i = 0; i < n; i++) {
		toml_append_key(sb, keys[i]);
		strbuf_append(sb, " = ");
		toml_append_string(sb, values[i]);
		strbuf_append_char(sb, '\n');
	}
}

static void
render_toml(const struct fleet *f, const struct export_opts *o, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "# shelly-tui fleet: one table per device, keyed by MAC. Restore with --import.\n"
	    "format = \"%s\"\nformat_version = %d\n",
	    EXPORT_TOML_KIND, EXPORT_TOML_VERSION);
	if (o->group != NULL) {
		strbuf_append(sb, "group = ");
		toml_append_string(sb, o->group);
		strbuf_append_char(sb, '\n');
	}
	toml_pairs(sb, "settings", f->keys, f->values, f->nset);
	if (o->include_secrets)
		toml_pairs(sb, "secrets", f->skeys, f->svalues, f->nsec);
	for (size_t i = 0; i < f->n; i++) {
		const struct store_device *d = f->dev[i];

		strbuf_appendf(sb, "\n[devices.%s]\n", d->mac);
		for (size_t k = 1; k < NFIELDS; k++) {
			const struct export_field *fd = &device_fields[k];

			/* last_seen changes while nothing else does; first_seen stays once set
			 * (and decides who keeps a shared host name: hostfmt.h) */
			if (fd->off == offsetof(struct store_device, last_seen_ms))
				continue;
			if (fd->kind == EXPORT_F_STR && field_str(d, fd) != NULL) {
				strbuf_appendf(sb, "%s = ", fd->name);
				toml_append_string(sb, field_str(d, fd));
				strbuf_append_char(sb, '\n');
			} else if (fd->kind != EXPORT_F_STR && field_int(d, fd) != 0) {
				strbuf_appendf(
				    sb, "%s = %" PRId64 "\n", fd->name, field_int(d, fd));
			}
		}
	}
	cfgdoc_render_toml(f->cfg, sb);
	strbuf_append(sb,
	    "\n# the end: --import refuses a file cut short before it\n[" EXPORT_TOML_END
	    "]\ncomplete = true\n");
}

/* ---- CSV ---- */

/*
 * RFC 4180 field: quoted when it holds a comma, quote, CR or LF; text sanitised for terminals.
 * A cell a spreadsheet would read as a formula (starting with = + - @, TAB or CR) gets a
 * leading apostrophe, so that a hostile device name cannot run one (OWASP CSV injection).
 */
static void
csv_field(struct strbuf *sb, const char *s)
{
	char *clean = str_sanitize(s, 0);

	if ((s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL) ||
	    (clean[0] != '\0' && strchr("=+-@", clean[0]) != NULL)) {
		char *guarded = xasprintf("'%s", clean);

		free(clean);
		clean = guarded;
	}
	if (strpbrk(clean, ",\"\r\n") != NULL || (clean[0] == ' ' || clean[0] == '\t')) {
		strbuf_append_char(sb, '"');
		for (const char *p = clean; *p != '\0'; p++) {
			if (*p == '"')
				strbuf_append_char(sb, '"');
			strbuf_append_char(sb, *p);
		}
		strbuf_append_char(sb, '"');
	} else {
		strbuf_append(sb, clean);
	}
	free(clean);
}

/* Column index: a device field, or NFIELDS for "state"; -1 unknown. */
static int
csv_column(const char *name, size_t len)
{
	for (size_t k = 0; k < NFIELDS; k++)
		if (strlen(device_fields[k].name) == len &&
		    memcmp(device_fields[k].name, name, len) == 0)
			return (int)k;
	if (len == 5 && memcmp(name, "state", 5) == 0)
		return (int)NFIELDS;
	return -1;
}

static int
csv_parse_columns(const char *list, int **cols, size_t *n, char **cause)
{
	const char *p = list, *comma;

	*cols = NULL;
	*n = 0;
	for (;;) {
		size_t len;
		int c;

		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		/* "mac, name" as the list is written in messages and --help */
		for (; len > 0 && *p == ' '; len--)
			p++;
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if ((c = csv_column(p, len)) < 0) {
			char *bad = str_sanitize(p, 0);

			if (comma != NULL && strchr(bad, ',') != NULL)
				*strchr(bad, ',') = '\0';
			*cause = xasprintf(
			    "unknown CSV column \"%s\" (columns: %s)", bad, export_csv_columns());
			free(bad);
			free(*cols);
			return -1;
		}
		*cols = xreallocarray(*cols, *n + 1, sizeof **cols);
		(*cols)[(*n)++] = c;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
render_csv(const struct fleet *f, const struct export_opts *o, struct strbuf *sb, char **cause)
{
	int *cols;
	size_t n;

	if (csv_parse_columns(
	        o->columns != NULL ? o->columns : EXPORT_CSV_COLUMNS, &cols, &n, cause) != 0)
		return -1;
	for (size_t c = 0; c < n; c++) {
		strbuf_append(sb, c ? "," : "");
		strbuf_append(
		    sb, (size_t)cols[c] == NFIELDS ? "state" : device_fields[cols[c]].name);
	}
	strbuf_append(sb, "\r\n");
	for (size_t i = 0; i < f->n; i++) {
		for (size_t c = 0; c < n; c++) {
			const struct export_field *fd = &device_fields[cols[c] % NFIELDS];

			strbuf_append(sb, c ? "," : "");
			if ((size_t)cols[c] == NFIELDS) {
				csv_field(sb, f->state[i] != NULL ? f->state[i] : "");
			} else if (fd->kind == EXPORT_F_STR) {
				csv_field(
				    sb, field_str(f->dev[i], fd) ? field_str(f->dev[i], fd) : "");
			} else if (field_int(f->dev[i], fd) != 0) {
				strbuf_appendf(sb, "%" PRId64, field_int(f->dev[i], fd));
			}
		}
		strbuf_append(sb, "\r\n");
	}
	free(cols);
	return 0;
}

int
export_render(struct store *s, const struct export_opts *o, struct strbuf *out, int *has_secrets,
    char **cause)
{
	struct fleet f;
	int rc = 0;

	if (has_secrets != NULL)
		*has_secrets = 0;
	/* one read snapshot: a poller writing between the reads could otherwise list a device
	 * without its group membership, or a setting of a device the file does not hold */
	if (store_read_begin(s, cause) != 0)
		return -1;
	rc = fleet_load(s, o, &f, cause);
	store_read_end(s);
	if (rc != 0)
		return -1;
	switch (o->format) {
	case EXPORT_JSON:
		render_json(&f, o, out);
		break;
	case EXPORT_TOML:
		render_toml(&f, o, out);
		break;
	case EXPORT_CSV:
		rc = render_csv(&f, o, out, cause);
		break;
	default:
		hostfmt_render(
		    o->format, (const struct store_device *const *)f.dev, f.n, out, o->notes);
		break;
	}
	if (has_secrets != NULL && rc == 0)
		*has_secrets = o->include_secrets &&
		               (o->format == EXPORT_JSON || o->format == EXPORT_TOML) &&
		               (f.nsec > 0 || cfgdoc_has_secrets(f.cfg));
	fleet_done(&f);
	return rc;
}

/* ---- atomic files ---- */

/* Writes all of data to fd; -1 with errno set on failure. */
static int
write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* The process's umask (read by setting it back: one thread writes files). */
static mode_t
current_umask(void)
{
	mode_t m = umask(077);

	umask(m);
	return m;
}

int
export_stage_file(
    const char *path, const char *data, size_t len, unsigned mode, char **tmp_out, char **cause)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd, saved;

	/* mkstemp makes 0600 whatever the umask; the mode asked is then narrowed by it */
	mode &= ~(unsigned)current_umask();
	if ((fd = mkstemp(tmp)) < 0) {
		*cause = xasprintf(
		    "cannot create a temporary file beside %s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0)
		goto fail;
	if (fsync(fd) != 0)
		goto fail;
	saved = close(fd);
	fd = -1;
	if (saved != 0)
		goto fail;
	*tmp_out = tmp;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	*cause = xasprintf("cannot write %s: %s", path, strerror(saved));
	free(tmp);
	return -1;
}

int
export_commit_file(const char *tmp, const char *path, char **cause)
{
	char *dir, *slash;
	int dfd;

	if (rename(tmp, path) != 0) {
		*cause = xasprintf(
		    "cannot rename the temporary file onto %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
}

/*
 * A FIFO, terminal or character device (/dev/stdout, /dev/null) is written in place: it
 * cannot be replaced, and removing it would lose the node. A FIFO without a reader is an
 * error, not a wait: a cron job must not hang on a consumer that is gone.
 */
static int
stream_file(const char *path, const struct stat *st, const char *data, size_t len, char **cause)
{
	int fd, flags, saved;

	if (!S_ISFIFO(st->st_mode) && !S_ISCHR(st->st_mode)) {
		*cause = xasprintf("%s is not a regular file, FIFO or character device; not "
		                   "writing to it",
		    path);
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
		if (errno == ENXIO && S_ISFIFO(st->st_mode))
			*cause = xasprintf("%s is a FIFO with no reader", path);
		else
			*cause = xasprintf("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
	    write_all(fd, data, len) != 0) {
		saved = errno;
		close(fd);
		*cause = xasprintf("cannot write %s: %s", path, strerror(saved));
		return -1;
	}
	if (close(fd) != 0) {
		*cause = xasprintf("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
export_write_file(const char *path, const char *data, size_t len, unsigned mode, char **cause)
{
	char *target, *tmp = NULL;
	struct stat st;
	int rc;

	if ((target = dirs_file_target(path, &st, cause)) == NULL)
		return *cause != NULL ? -1 : stream_file(path, &st, data, len, cause);
	/* mode (0644, or 0600 with secrets) never wider than the file replaced (an operator's
	 * chmod 640 stays; a new file's st is zeroed); export_stage_file narrows it by the umask */
	if (st.st_mode != 0)
		mode &= (unsigned)st.st_mode & 0777u;
	rc = export_stage_file(target, data, len, mode, &tmp, cause);
	if (rc == 0)
		rc = export_commit_file(tmp, target, cause);
	free(tmp);
	free(target);
	return rc;
}
