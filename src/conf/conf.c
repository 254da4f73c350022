#include "conf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shelly/client.h"
#include "util/dirs.h"
#include "util/hostport.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* largest config file read */
#define SECRET_FILE_MAX 4096 /* largest secret file read */
#define SOURCE_DEPTH_MAX 8 /* nested source commands */
#define ERRORS_MAX 100 /* errors reported before giving up */
#define ARGS_MAX 32 /* words on one line */
#define NAME_MAX_LEN 64 /* device names, views, actions, elements */

/* clang-format off */
#define OPTION_INFO(id, name, type, def, min, max, choices, help) \
	{ name, type, def, min, max, choices, help },
/* clang-format on */
static const struct conf_option_info option_table[OPT__COUNT] = { OPTION_TABLE(OPTION_INFO) };
#undef OPTION_INFO

static const char *const type_names[] = {
	[OT_DURATION] = "duration",
	[OT_INT] = "int",
	[OT_SIZE] = "size",
	[OT_STRING] = "string",
	[OT_PATH] = "path",
	[OT_FILEREF] = "fileref",
	[OT_BOOL] = "bool",
	[OT_ENUM] = "enum",
	[OT_ADDRESS] = "address",
};

struct option_value {
	uint64_t num; /* duration, int, size, bool, enum index */
	char *str; /* string, path, address, enum name */
};

struct conf {
	struct option_value opts[OPT__COUNT];
	struct conf_range *ranges;
	size_t nranges, cranges;
	struct conf_credentials *creds;
	size_t ncreds, ccreds;
	struct conf_device *devices;
	size_t ndevices, cdevices;
	struct conf_bind *binds;
	size_t nbinds, cbinds;
	struct conf_color *colors;
	size_t ncolors, ccolors;
	/* conf_override: name, value pairs applied again after every load */
	char **over;
	size_t nover;
};

/* One file being read, for cycle detection. */
struct parse_file {
	dev_t dev;
	ino_t ino;
};

/* State of one conf_load. */
struct parse {
	struct conf *cfg;
	struct strbuf errors;
	unsigned nerrors;
	int stop; /* too many errors */
	const char *file; /* file being read, printable, for messages */
	const char *path; /* file being read, as opened, to resolve relative paths */
	unsigned line; /* line being read */
	struct parse_file stack[SOURCE_DEPTH_MAX + 1]; /* files being read, outermost first */
	int depth; /* entries in stack; 0 for a buffer without a file */
	int level; /* nesting level of the file being read: 0 at the top */
};

/* Adds "file:line: message" to the errors. */
static void __attribute__((format(printf, 2, 3)))
perr(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	char *raw, *msg;

	if (p->stop)
		return;
	if (p->nerrors == ERRORS_MAX) {
		if (p->errors.len != 0)
			strbuf_append_char(&p->errors, '\n');
		strbuf_appendf(&p->errors, "%s:%u: too many errors, giving up", p->file, p->line);
		p->stop = 1;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		abort();
	va_end(ap);
	msg = str_sanitize(raw, 512); /* messages echo what was read */
	free(raw);
	if (p->errors.len != 0)
		strbuf_append_char(&p->errors, '\n');
	if (p->line != 0)
		strbuf_appendf(&p->errors, "%s:%u: %s", p->file, p->line, msg);
	else
		strbuf_appendf(&p->errors, "%s: %s", p->file, msg);
	free(msg);
	p->nerrors++;
}

/* Returns a printable copy of untrusted text for messages (caller frees). */
static char *
safe(const char *s)
{
	return str_sanitize(s, 120);
}

/* Paths */

/*
 * Resolves path as written in file base (NULL: relative to the current directory): a leading
 * "~/" is the home directory, a relative path is relative to the directory of base. Returns a
 * malloc'd path, or NULL with *err (caller frees).
 */
static char *
resolve_path(const char *base, const char *path, char **err)
{
	const char *slash;
	char *home, *s;

	if (path[0] == '\0') {
		*err = xstrdup("empty path");
		return NULL;
	}
	if (path[0] == '~') {
		if (path[1] != '\0' && path[1] != '/') {
			*err = xstrdup("~user paths are not supported; write the full path");
			return NULL;
		}
		if ((home = dirs_home()) == NULL) {
			*err = xstrdup("cannot expand ~: no home directory");
			return NULL;
		}
		s = xasprintf("%s%s", home, path + 1);
		free(home);
		return s;
	}
	if (path[0] == '/' || base == NULL || (slash = strrchr(base, '/')) == NULL)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - base), base, path);
}

/*
 * Reads a regular file of at most max bytes into *buf (malloc'd, NUL-terminated) and *len.
 * Returns 0, or -1 with errno-like *err (caller frees) or errno set (*err NULL).
 */
static int
read_file(const char *path, size_t max, char **buf, size_t *len, struct stat *st, char **err)
{
	char *b = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	*err = NULL;
	/* O_NONBLOCK: a FIFO or a device neither blocks open() nor read() */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		*err = xstrdup(S_ISDIR(st->st_mode) ? "is a directory" : "not a regular file");
		goto fail;
	}
	b = xmalloc(max + 2);
	for (;;) {
		r = read(fd, b + n, max + 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			*err = xasprintf("larger than %zu bytes", max);
			goto fail;
		}
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
fail:
	saved = errno;
	if (b != NULL) {
		explicit_bzero(b, n);
		free(b);
	}
	close(fd);
	errno = saved;
	return -1;
}

/* Values */

/* Returns a malloc'd "1MiB", "512KiB" or "1000" for a byte count. */
static char *
format_size(uint64_t v)
{
	if (v != 0 && v % OPT_MIB == 0)
		return xasprintf("%lluMiB", (unsigned long long)(v / OPT_MIB));
	if (v != 0 && v % OPT_KIB == 0)
		return xasprintf("%lluKiB", (unsigned long long)(v / OPT_KIB));
	return xasprintf("%llu", (unsigned long long)v);
}

/* Returns "a, b, c" for the choices "a|b|c" (malloc'd). */
static char *
choices_text(const char *choices)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (; *choices != '\0'; choices++) {
		if (*choices == '|')
			strbuf_append(&sb, ", ");
		else
			strbuf_append_char(&sb, *choices);
	}
	return strbuf_steal(&sb);
}

/* Stores the number v parsed from text when it is within info's range; else fails with the
 * range in the type's own units. 0 or -1 with *err. */
static int
set_in_range(const struct conf_option_info *info, const char *text, uint64_t v,
    struct option_value *out, char **err)
{
	char lo[32], hi[32], *a, *b;

	if (v >= info->min && v <= info->max) {
		out->num = v;
		return 0;
	}
	switch (info->type) {
	case OT_DURATION:
		*err = xasprintf("%s is out of range (%s to %s)", text,
		    str_format_duration_ms(info->min, lo, sizeof lo),
		    str_format_duration_ms(info->max, hi, sizeof hi));
		break;
	case OT_SIZE:
		a = format_size(info->min);
		b = format_size(info->max);
		*err = xasprintf("%s is out of range (%s to %s)", text, a, b);
		free(a);
		free(b);
		break;
	default:
		*err = xasprintf("%s is out of range (%llu to %llu)", text,
		    (unsigned long long)info->min, (unsigned long long)info->max);
		break;
	}
	return -1;
}

/* OT_ENUM: text is one of info's "a|b|c" choices (any case); stores its index and name. */
static int
parse_enum(const struct conf_option_info *info, const char *text, struct option_value *out,
    char **err)
{
	const char *p, *bar;
	unsigned idx;
	size_t len;
	char *a;

	for (p = info->choices, idx = 0; p != NULL; idx++) {
		bar = strchr(p, '|');
		len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		a = xstrndup(p, len);
		if (str_caseeq(a, text)) {
			out->num = idx;
			out->str = a;
			return 0;
		}
		free(a);
		p = bar != NULL ? bar + 1 : NULL;
	}
	a = choices_text(info->choices);
	*err = xasprintf("invalid value \"%s\" (expected one of %s)", text, a);
	free(a);
	return -1;
}

/*
 * Parses text as a value of option info; base resolves relative paths. 0 or -1 with *err.
 * One case per option type: the switch is the grammar of values in one place.
 */
/* Whether a server can bind host as given: an IPv6 address (bracketed in the text), an IPv4
 * address or localhost. */
static int
listen_host_ok(const char *host)
{
	struct in_addr a;

	return strchr(host, ':') != NULL || strcmp(host, "localhost") == 0 ||
	       inet_pton(AF_INET, host, &a) == 1;
}

static int
parse_value(const struct conf_option_info *info, const char *base, const char *text,
    struct option_value *out, char **err)
{
	char *a, *host;
	uint64_t v = 0;
	unsigned port;

	out->num = 0;
	out->str = NULL;
	switch (info->type) {
	case OT_DURATION:
		if (str_parse_duration_ms(text, &v) != 0) {
			*err = xasprintf("invalid duration \"%s\" (expected e.g. 500ms, 10s, 5m, 2h, 1d)",
			    text);
			return -1;
		}
		return set_in_range(info, text, v, out, err);
	case OT_INT:
		if (text[0] == '\0' || strspn(text, "0123456789") != strlen(text) ||
		    str_parse_size(text, &v) != 0) {
			*err = xasprintf("invalid number \"%s\"", text);
			return -1;
		}
		return set_in_range(info, text, v, out, err);
	case OT_SIZE:
		if (str_parse_size(text, &v) != 0) {
			*err = xasprintf("invalid size \"%s\" (expected e.g. 1048576, 512k, 1MiB)", text);
			return -1;
		}
		return set_in_range(info, text, v, out, err);
	case OT_STRING:
		out->str = xstrdup(text);
		return 0;
	case OT_PATH:
		if (text[0] == '\0') {
			out->str = xstrdup("");
			return 0;
		}
		if ((out->str = resolve_path(base, text, err)) == NULL)
			return -1;
		return 0;
	case OT_FILEREF:
		if (text[0] == '\0') {
			out->str = xstrdup("");
			return 0;
		}
		if (!str_has_prefix(text, "file:")) {
			*err = xstrdup("inline values are not allowed; write file:PATH");
			return -1;
		}
		if ((a = resolve_path(base, text + 5, err)) == NULL)
			return -1;
		out->str = xasprintf("file:%s", a);
		free(a);
		return 0;
	case OT_BOOL:
		if (str_caseeq(text, "on") || str_caseeq(text, "yes") || str_caseeq(text, "true") ||
		    strcmp(text, "1") == 0) {
			out->num = 1;
			return 0;
		}
		if (str_caseeq(text, "off") || str_caseeq(text, "no") || str_caseeq(text, "false") ||
		    strcmp(text, "0") == 0)
			return 0;
		*err = xasprintf("invalid boolean \"%s\" (expected on or off)", text);
		return -1;
	case OT_ENUM:
		return parse_enum(info, text, out, err);
	case OT_ADDRESS: /* empty only where that is the default (agent-listen: off) */
		host = NULL;
		if ((text[0] != '\0' || info->def[0] != '\0') &&
		    hostport_parse(text, HOSTPORT_NEEDED, 1, &host, &port, err) != 0)
			return -1;
		if (host != NULL && !listen_host_ok(host)) {
			/* the servers bind numeric addresses only (httpd_parse_listen) */
			*err = xasprintf("\"%s\" is not an IPv4 address (host names are not resolved; "
			                 "IPv6 goes in brackets)",
			    host);
			free(host);
			return -1;
		}
		free(host);
		out->str = xstrdup(text);
		return 0;
	}
	*err = xstrdup("unknown option type");
	return -1;
}

/* Sets option id from text (base resolves relative paths), reporting "name: message" in *err. */
static int
set_option(struct conf *cfg, int id, const char *base, const char *text, char **err)
{
	const struct conf_option_info *info = &option_table[id];
	struct option_value v;
	char *why = NULL, *s;

	if (parse_value(info, base, text, &v, &why) != 0) {
		s = safe(why);
		*err = xasprintf("%s: %s", info->name, s);
		free(s);
		free(why);
		return -1;
	}
	free(cfg->opts[id].str);
	cfg->opts[id] = v;
	return 0;
}

/* Config object */

struct conf *
conf_new(void)
{
	struct conf *cfg = xcalloc(1, sizeof *cfg);
	char *err = NULL;
	int id;

	for (id = 0; id < OPT__COUNT; id++) {
		if (set_option(cfg, id, NULL, option_table[id].def, &err) != 0) {
			log_error("option table: bad default: %s", err);
			abort();
		}
	}
	return cfg;
}

static void
free_lists(struct conf *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nranges; i++) {
		free(cfg->ranges[i].text);
		free(cfg->ranges[i].where);
	}
	for (i = 0; i < cfg->ncreds; i++) {
		free(cfg->creds[i].device);
		free(cfg->creds[i].user);
		free(cfg->creds[i].secret);
		free(cfg->creds[i].where);
	}
	for (i = 0; i < cfg->ndevices; i++) {
		free(cfg->devices[i].name);
		free(cfg->devices[i].host);
		free(cfg->devices[i].user);
		free(cfg->devices[i].secret);
		free(cfg->devices[i].where);
	}
	for (i = 0; i < cfg->nbinds; i++) {
		free(cfg->binds[i].view);
		free(cfg->binds[i].key);
		free(cfg->binds[i].action);
		free(cfg->binds[i].where);
	}
	for (i = 0; i < cfg->ncolors; i++) {
		free(cfg->colors[i].element);
		free(cfg->colors[i].where);
	}
	free(cfg->ranges);
	free(cfg->creds);
	free(cfg->devices);
	free(cfg->binds);
	free(cfg->colors);
}

void
conf_free(struct conf *cfg)
{
	int id;

	if (cfg == NULL)
		return;
	for (id = 0; id < OPT__COUNT; id++)
		free(cfg->opts[id].str);
	free_lists(cfg);
	str_array_free(cfg->over, cfg->nover);
	free(cfg);
}

int
conf_override(struct conf *cfg, const char *name, const char *value, char **cause)
{
	if (conf_set(cfg, name, value, cause) != 0)
		return -1;
	cfg->over = xreallocarray(cfg->over, cfg->nover + 2, sizeof *cfg->over);
	cfg->over[cfg->nover++] = xstrdup(name);
	cfg->over[cfg->nover++] = xstrdup(value);
	return 0;
}

struct conf *
conf_new_like(const struct conf *old)
{
	struct conf *cfg = conf_new();

	for (size_t i = 0; old != NULL && i + 1 < old->nover; i += 2)
		conf_override(cfg, old->over[i], old->over[i + 1], NULL);
	return cfg;
}

/* Applies the overrides again after a file set the same options. */
static void
reapply_overrides(struct conf *cfg)
{
	for (size_t i = 0; i + 1 < cfg->nover; i += 2)
		conf_set(cfg, cfg->over[i], cfg->over[i + 1], NULL);
}

void
conf_target(const struct conf *cfg, struct shelly_target *t)
{
	static const enum http_tls modes[] = { HTTP_TLS_PIN, HTTP_TLS_VERIFY, HTTP_TLS_INSECURE };
	int m = conf_get_enum(cfg, OPT_TLS_MODE);
	const char *ca = conf_get_str(cfg, OPT_TLS_CA_FILE);

	t->tls = m >= 0 && m < 3 ? modes[m] : HTTP_TLS_PIN;
	t->ca_file = ca != NULL && ca[0] != '\0' ? ca : NULL;
	t->timeout_ms = (uint32_t)conf_get_ms(cfg, OPT_REQUEST_TIMEOUT);
	t->connect_timeout_ms = (uint32_t)conf_get_ms(cfg, OPT_CONNECT_TIMEOUT);
	if (t->connect_timeout_ms > t->timeout_ms)
		t->connect_timeout_ms = t->timeout_ms;
	t->max_body = (size_t)conf_get_size(cfg, OPT_RESPONSE_MAX);
	t->lane_limit = (int)conf_get_int(cfg, OPT_LANES_GEN2);
}

const struct conf_option_info *
conf_option_info(enum option_id id)
{
	if ((int)id < 0 || id >= OPT__COUNT)
		abort();
	return &option_table[id];
}

int
conf_option_find(const char *name)
{
	int id;

	for (id = 0; id < OPT__COUNT; id++) {
		if (strcmp(option_table[id].name, name) == 0)
			return id;
	}
	return -1;
}

void
conf_list_options(FILE *fp)
{
	const struct conf_option_info *o;
	char *choices;
	int id;

	for (id = 0; id < OPT__COUNT; id++) {
		o = &option_table[id];
		fprintf(fp, "%-22s %-8s %-15s %s", o->name, type_names[o->type],
		    o->def[0] != '\0' ? o->def : "\"\"", o->help);
		if (o->choices != NULL) {
			choices = choices_text(o->choices);
			fprintf(fp, " (one of %s)", choices);
			free(choices);
		}
		fputc('\n', fp);
	}
}

int
conf_set(struct conf *cfg, const char *name, const char *value, char **cause)
{
	char *s;
	int id;

	if ((id = conf_option_find(name)) < 0) {
		s = safe(name);
		*cause = xasprintf("unknown option \"%s\" (see --list-options)", s);
		free(s);
		return -1;
	}
	return set_option(cfg, id, NULL, value, cause);
}

/* Returns the value of id after checking that it has type t. */
static const struct option_value *
get(const struct conf *cfg, enum option_id id, enum option_type t)
{
	if ((int)id < 0 || id >= OPT__COUNT || option_table[id].type != t) {
		log_error("config: option %d read with the wrong type", (int)id);
		abort();
	}
	return &cfg->opts[id];
}

uint64_t
conf_get_ms(const struct conf *cfg, enum option_id id)
{
	return get(cfg, id, OT_DURATION)->num;
}

int64_t
conf_get_int(const struct conf *cfg, enum option_id id)
{
	return (int64_t)get(cfg, id, OT_INT)->num;
}

uint64_t
conf_get_size(const struct conf *cfg, enum option_id id)
{
	return get(cfg, id, OT_SIZE)->num;
}

int
conf_get_bool(const struct conf *cfg, enum option_id id)
{
	return get(cfg, id, OT_BOOL)->num != 0;
}

int
conf_get_enum(const struct conf *cfg, enum option_id id)
{
	return (int)get(cfg, id, OT_ENUM)->num;
}

const char *
conf_get_str(const struct conf *cfg, enum option_id id)
{
	enum option_type t;

	if ((int)id < 0 || id >= OPT__COUNT)
		abort();
	t = option_table[id].type;
	if (t != OT_STRING && t != OT_PATH && t != OT_FILEREF && t != OT_ADDRESS &&
	    t != OT_ENUM) {
		log_error("config: option %s read as a string", option_table[id].name);
		abort();
	}
	return cfg->opts[id].str;
}

void
conf_get_address(const struct conf *cfg, enum option_id id, char **host, unsigned *port)
{
	char *err = NULL;

	if (hostport_parse(conf_get_str(cfg, id), HOSTPORT_NEEDED, 1, host, port, &err) != 0) {
		/* validated when set: cannot happen */
		log_error("config: %s: %s", option_table[id].name, err);
		abort();
	}
	if (option_table[id].type != OT_ADDRESS)
		abort();
}

int
conf_parse_device_address(const char *s, unsigned def, char **host, unsigned *port,
    char **cause)
{
	char *err = NULL;

	if (def > 65535)
		abort();
	if (hostport_parse(s, (long)def, 0, host, port, &err) != 0) {
		*cause = safe(err);
		free(err);
		return -1;
	}
	return 0;
}

const struct conf_range *
conf_ranges(const struct conf *cfg, size_t *n)
{
	*n = cfg->nranges;
	return cfg->ranges;
}

const struct conf_credentials *
conf_credentials(const struct conf *cfg, size_t *n)
{
	*n = cfg->ncreds;
	return cfg->creds;
}

const struct conf_device *
conf_devices(const struct conf *cfg, size_t *n)
{
	*n = cfg->ndevices;
	return cfg->devices;
}

const struct conf_bind *
conf_binds(const struct conf *cfg, size_t *n)
{
	*n = cfg->nbinds;
	return cfg->binds;
}

const struct conf_color *
conf_colors(const struct conf *cfg, size_t *n)
{
	*n = cfg->ncolors;
	return cfg->colors;
}

const struct conf_device *
conf_find_device(const struct conf *cfg, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < cfg->ndevices; i++) {
		if (strcmp(cfg->devices[i].name, name) == 0)
			return &cfg->devices[i];
	}
	return NULL;
}

const struct conf_credentials *
conf_find_credentials(const struct conf *cfg, const char *mac, const char *id,
    const char *name)
{
	const struct conf_credentials *c;
	char norm[13];
	size_t i;

	if (mac != NULL && str_mac_normalise(mac, norm) == 0) {
		for (i = 0; i < cfg->ncreds; i++) {
			if (strcmp(cfg->creds[i].mac, norm) == 0)
				return &cfg->creds[i];
		}
	}
	for (i = 0; id != NULL && i < cfg->ncreds; i++) {
		c = &cfg->creds[i];
		if (c->device != NULL && str_caseeq(c->device, id))
			return c;
	}
	for (i = 0; name != NULL && i < cfg->ncreds; i++) {
		c = &cfg->creds[i];
		if (c->device != NULL && strcmp(c->device, name) == 0)
			return c;
	}
	for (i = 0; i < cfg->ncreds; i++) {
		if (cfg->creds[i].device == NULL)
			return &cfg->creds[i];
	}
	return NULL;
}

/* Commands */

static char *
where(const struct parse *p)
{
	return xasprintf("%s:%u", p->file, p->line);
}

/* Returns 1 when s is a name of letters, digits and . _ - starting with a letter. */
static int
valid_ident(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= NAME_MAX_LEN)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

/*
 * Turns "file:PATH" into "file:RESOLVED"; refuses anything else without echoing it (it may be
 * a password). Returns a malloc'd reference or NULL after reporting the error.
 */
static char *
secret_ref(struct parse *p, const char *cmd, const char *ref)
{
	char *path, *err = NULL, *s;

	if (!str_has_prefix(ref, "file:")) {
		perr(p, "%s: inline passwords are not allowed; put the password in a file that only "
			"you can read and write file:PATH",
		    cmd);
		return NULL;
	}
	if ((path = resolve_path(p->path, ref + 5, &err)) == NULL) {
		perr(p, "%s: %s in secret reference", cmd, err);
		free(err);
		return NULL;
	}
	s = xasprintf("file:%s", path);
	free(path);
	return s;
}

/* Returns 1 when s is safe text of 1..NAME_MAX_LEN bytes. */
static int
valid_name(const char *s)
{
	size_t len = strlen(s);

	return len != 0 && len <= NAME_MAX_LEN && str_is_safe(s);
}

/* Returns 1 for a user name usable in HTTP basic and digest auth. */
static int
valid_user(const char *s)
{
	return valid_name(s) && strchr(s, ':') == NULL;
}

static void
cmd_set(struct parse *p, int argc, char **argv)
{
	char *err = NULL, *s;
	int id;

	(void)argc;
	if ((id = conf_option_find(argv[1])) < 0) {
		s = safe(argv[1]);
		perr(p, "unknown option \"%s\" (see --list-options)", s);
		free(s);
		return;
	}
	if (set_option(p->cfg, id, p->path, argv[2], &err) != 0) {
		perr(p, "%s", err);
		free(err);
	}
}

static void
cmd_discover_range(struct parse *p, int argc, char **argv)
{
	struct conf *cfg = p->cfg;
	struct conf_range *r;
	struct cidr c;
	char *err = NULL, *copy, *tok, *save = NULL;
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		copy = xstrdup(argv[a]);
		for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			if (cidr_parse(tok, &c, &err) != 0) {
				perr(p, "discover-range: %s", err);
				free(err);
				err = NULL;
				continue;
			}
			for (i = 0; i < cfg->nranges; i++) {
				if (cfg->ranges[i].target.lo == c.lo && cfg->ranges[i].target.hi == c.hi)
					break;
			}
			if (i < cfg->nranges)
				continue; /* already listed */
			cfg->ranges = xgrowarray(
			    cfg->ranges, &cfg->cranges, cfg->nranges, sizeof *cfg->ranges);
			r = &cfg->ranges[cfg->nranges++];
			r->target = c;
			r->text = xstrdup(tok);
			r->where = where(p);
		}
		free(copy);
	}
}

static void
cmd_credentials(struct parse *p, int argc, char **argv)
{
	struct conf *cfg = p->cfg;
	struct conf_credentials *c, nc;
	char *secret, *s;
	size_t i;

	(void)argc;
	memset(&nc, 0, sizeof nc);
	if (strcmp(argv[1], "default") != 0) {
		if (!valid_name(argv[1])) {
			s = safe(argv[1]);
			perr(p, "credentials: invalid device \"%s\" (expected a MAC, an id or a name)", s);
			free(s);
			return;
		}
		nc.device = argv[1];
		str_mac_normalise(argv[1], nc.mac);
	}
	if (!valid_user(argv[2])) {
		s = safe(argv[2]);
		perr(p, "credentials: invalid user \"%s\"", s);
		free(s);
		return;
	}
	if ((secret = secret_ref(p, "credentials", argv[3])) == NULL)
		return;
	for (i = 0; i < cfg->ncreds; i++) {
		c = &cfg->creds[i];
		if (c->device == NULL && nc.device == NULL) {
			perr(p, "credentials: default is already defined at %s", c->where);
			free(secret);
			return;
		}
		if (c->device != NULL && nc.device != NULL &&
		    (str_caseeq(c->device, nc.device) ||
			(c->mac[0] != '\0' && strcmp(c->mac, nc.mac) == 0)))
			break;
	}
	if (i < cfg->ncreds) {
		/* a later definition for a device replaces the earlier one */
		c = &cfg->creds[i];
		free(c->device);
		free(c->user);
		free(c->secret);
		free(c->where);
	} else {
		cfg->creds = xgrowarray(cfg->creds, &cfg->ccreds, cfg->ncreds, sizeof *cfg->creds);
		c = &cfg->creds[cfg->ncreds++];
	}
	c->device = nc.device != NULL ? xstrdup(nc.device) : NULL;
	memcpy(c->mac, nc.mac, sizeof c->mac);
	c->user = xstrdup(argv[2]);
	c->secret = secret;
	c->where = where(p);
}

static void
cmd_device(struct parse *p, int argc, char **argv)
{
	struct conf *cfg = p->cfg;
	const struct conf_device *old;
	struct conf_device *d;
	char *host = NULL, *secret = NULL, *err = NULL, *s;
	const char *user = NULL;
	unsigned port;
	int a;

	if (!valid_name(argv[1])) {
		s = safe(argv[1]);
		perr(p, "device: invalid name \"%s\" (1 to %d printable characters)", s, NAME_MAX_LEN);
		free(s);
		return;
	}
	if ((old = conf_find_device(cfg, argv[1])) != NULL) {
		s = safe(argv[1]);
		perr(p, "device: \"%s\" is already defined at %s", s, old->where);
		free(s);
		return;
	}
	if (hostport_parse(argv[2], 80, 0, &host, &port, &err) != 0) {
		perr(p, "device: %s", err);
		free(err);
		return;
	}
	for (a = 3; a < argc; a += 2) {
		if (a + 1 >= argc) {
			s = safe(argv[a]);
			perr(p, "device: \"%s\" needs a value", s);
			free(s);
			goto bad;
		}
		if (strcmp(argv[a], "user") == 0 && user == NULL) {
			if (!valid_user(argv[a + 1])) {
				s = safe(argv[a + 1]);
				perr(p, "device: invalid user \"%s\"", s);
				free(s);
				goto bad;
			}
			user = argv[a + 1];
		} else if (strcmp(argv[a], "password") == 0 && secret == NULL) {
			if ((secret = secret_ref(p, "device", argv[a + 1])) == NULL)
				goto bad;
		} else {
			s = safe(argv[a]);
			perr(p, "device: unexpected \"%s\" (usage: device NAME HOST[:PORT] [user USER] "
				"[password file:PATH])",
			    s);
			free(s);
			goto bad;
		}
	}
	if (secret != NULL && user == NULL)
		user = "admin";
	cfg->devices =
	    xgrowarray(cfg->devices, &cfg->cdevices, cfg->ndevices, sizeof *cfg->devices);
	d = &cfg->devices[cfg->ndevices++];
	d->name = xstrdup(argv[1]);
	d->host = host;
	d->port = port;
	d->user = user != NULL ? xstrdup(user) : NULL;
	d->secret = secret;
	d->where = where(p);
	return;
bad:
	free(host);
	free(secret);
}

/* Returns 1 when s is exactly one printable character (not a blank). */
static int
single_char(const char *s)
{
	size_t i, chars = 0;

	if (s[0] == '\0' || s[0] == ' ' || !str_is_safe(s))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	}
	return chars == 1;
}

/* Returns 1 for a key: a character or a key name, after optional C-, M-, S- modifiers. */
static int
valid_key(const char *k)
{
	static const char *const names[] = { "Enter", "Return", "Tab", "BTab", "Space", "Escape",
		"Esc", "Backspace", "BSpace", "Up", "Down", "Left", "Right", "Home", "End", "PageUp",
		"PgUp", "PPage", "PageDown", "PgDn", "NPage", "Insert", "IC", "Delete", "DC" };
	unsigned seen = 0, bit;
	size_t i;
	char *end;
	long f;

	for (;;) {
		if (k[0] == '\0' || k[1] != '-' || k[2] == '\0')
			break;
		bit = k[0] == 'C' ? 1 : k[0] == 'M' ? 2 : k[0] == 'S' ? 4 : 0;
		if (bit == 0 || (seen & bit))
			break;
		seen |= bit;
		k += 2;
	}
	if (single_char(k))
		return 1;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (str_caseeq(k, names[i]))
			return 1;
	}
	if ((k[0] == 'F' || k[0] == 'f') && k[1] >= '1' && k[1] <= '9') {
		f = strtol(k + 1, &end, 10);
		return *end == '\0' && f >= 1 && f <= 24 && (k[2] == '\0' || k[1] != '0');
	}
	return 0;
}

static void
cmd_bind(struct parse *p, int argc, char **argv)
{
	struct conf *cfg = p->cfg;
	struct conf_bind *b;
	char *s;
	size_t i;

	(void)argc;
	if (!valid_ident(argv[1])) {
		s = safe(argv[1]);
		perr(p, "bind: invalid view \"%s\"", s);
		free(s);
		return;
	}
	if (!valid_key(argv[2])) {
		s = safe(argv[2]);
		perr(p, "bind: invalid key \"%s\" (expected a character or a key name such as "
			"Enter, F5, C-x, M-Up)",
		    s);
		free(s);
		return;
	}
	if (!valid_ident(argv[3])) {
		s = safe(argv[3]);
		perr(p, "bind: invalid action \"%s\"", s);
		free(s);
		return;
	}
	for (i = 0; i < cfg->nbinds; i++) {
		b = &cfg->binds[i];
		if (strcmp(b->view, argv[1]) == 0 && strcmp(b->key, argv[2]) == 0) {
			free(b->action);
			free(b->where);
			b->action = xstrdup(argv[3]);
			b->where = where(p);
			return;
		}
	}
	cfg->binds = xgrowarray(cfg->binds, &cfg->cbinds, cfg->nbinds, sizeof *cfg->binds);
	b = &cfg->binds[cfg->nbinds++];
	b->view = xstrdup(argv[1]);
	b->key = xstrdup(argv[2]);
	b->action = xstrdup(argv[3]);
	b->where = where(p);
}

/* Parses a colour: default, a name, brightNAME, colorN or N (0..255). */
static int
parse_color(const char *s, int *out)
{
	static const char *const names[] = { "black", "red", "green", "yellow", "blue", "magenta",
		"cyan", "white" };
	size_t i;
	int v = 0;

	if (str_caseeq(s, "default")) {
		*out = -1;
		return 0;
	}
	for (i = 0; i < 8; i++) {
		if (str_caseeq(s, names[i])) {
			*out = (int)i;
			return 0;
		}
		if (str_has_caseprefix(s, "bright") && str_caseeq(s + 6, names[i])) {
			*out = (int)i + 8;
			return 0;
		}
	}
	if (str_has_caseprefix(s, "color") || str_has_caseprefix(s, "colour"))
		s += s[5] == 'u' || s[5] == 'U' ? 6 : 5;
	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > 255)
		return -1;
	*out = v;
	return 0;
}

static void
cmd_color(struct parse *p, int argc, char **argv)
{
	static const struct {
		const char *name;
		unsigned bit;
	} attrs[] = {
		{ "bold", CONF_ATTR_BOLD },
		{ "underline", CONF_ATTR_UNDERLINE },
		{ "reverse", CONF_ATTR_REVERSE },
		{ "dim", CONF_ATTR_DIM },
		{ "blink", CONF_ATTR_BLINK },
		{ "italic", CONF_ATTR_ITALIC },
		{ "normal", 0 },
		{ "none", 0 },
	};
	struct conf *cfg = p->cfg;
	struct conf_color *c;
	char *copy, *tok, *save = NULL, *s;
	unsigned bits = 0;
	size_t i;
	int fg, bg, a, ok = 1;

	if (!valid_ident(argv[1])) {
		s = safe(argv[1]);
		perr(p, "color: invalid element \"%s\"", s);
		free(s);
		return;
	}
	for (a = 2; a <= 3; a++) {
		if (parse_color(argv[a], a == 2 ? &fg : &bg) != 0) {
			s = safe(argv[a]);
			perr(p, "color: invalid colour \"%s\" (expected default, a name such as red, "
				"or 0 to 255)",
			    s);
			free(s);
			ok = 0;
		}
	}
	for (a = 4; a < argc; a++) {
		copy = xstrdup(argv[a]);
		for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
				if (str_caseeq(tok, attrs[i].name))
					break;
			}
			if (i == sizeof attrs / sizeof attrs[0]) {
				s = safe(tok);
				perr(p, "color: invalid attribute \"%s\" (expected bold, underline, "
					"reverse, dim, blink or italic)",
				    s);
				free(s);
				ok = 0;
				continue;
			}
			bits |= attrs[i].bit;
		}
		free(copy);
	}
	if (!ok)
		return;
	for (i = 0; i < cfg->ncolors; i++) {
		if (strcmp(cfg->colors[i].element, argv[1]) == 0)
			break;
	}
	if (i < cfg->ncolors) {
		c = &cfg->colors[i];
		free(c->where);
	} else {
		cfg->colors =
		    xgrowarray(cfg->colors, &cfg->ccolors, cfg->ncolors, sizeof *cfg->colors);
		c = &cfg->colors[cfg->ncolors++];
		c->element = xstrdup(argv[1]);
	}
	c->fg = fg;
	c->bg = bg;
	c->attrs = bits;
	c->where = where(p);
}

static void parse_file(struct parse *p, const char *path, int explicit);

static void
cmd_source(struct parse *p, int argc, char **argv)
{
	char *path, *err = NULL, *s;

	(void)argc;
	if ((path = resolve_path(p->path, argv[1], &err)) == NULL) {
		s = safe(argv[1]);
		perr(p, "source %s: %s", s, err);
		free(s);
		free(err);
		return;
	}
	if (p->level >= SOURCE_DEPTH_MAX) {
		s = safe(path);
		perr(p, "source %s: nested deeper than %d files", s, SOURCE_DEPTH_MAX);
		free(s);
		free(path);
		return;
	}
	parse_file(p, path, 1);
	free(path);
}

static const struct command {
	const char *name;
	int min, max; /* words after the command */
	const char *usage;
	void (*fn)(struct parse *, int, char **);
} commands[] = {
	{ "set", 2, 2, "set NAME VALUE", cmd_set },
	{ "discover-range", 1, ARGS_MAX, "discover-range TARGET...", cmd_discover_range },
	{ "credentials", 3, 3, "credentials default|DEVICE USER file:PATH", cmd_credentials },
	{ "device", 2, 6, "device NAME HOST[:PORT] [user USER] [password file:PATH]", cmd_device },
	{ "bind", 3, 3, "bind VIEW KEY ACTION", cmd_bind },
	{ "color", 3, 9, "color ELEMENT FG BG [ATTRS...]", cmd_color },
	{ "source", 1, 1, "source PATH", cmd_source },
};

/* Parsing */

/*
 * Splits one line (len bytes, no newline) into words in argv (malloc'd, *argc of them).
 * Returns 0, or -1 after reporting the error.
 */
static int
split_line(struct parse *p, const char *line, size_t len, char **argv, int *argc)
{
	struct strbuf word;
	size_t i = 0;
	char c, quote;
	int n = 0, in_word;

	strbuf_init(&word);
	for (i = 0; i < len; i++) {
		c = line[i];
		if (c == '\0') {
			perr(p, "NUL byte in line");
			goto bad;
		}
		if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7F) {
			perr(p, "control character 0x%02x in line", (unsigned char)c);
			goto bad;
		}
	}
	i = 0;
	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len || line[i] == '#')
			break;
		if (n == ARGS_MAX) {
			perr(p, "too many words (at most %d)", ARGS_MAX);
			goto bad;
		}
		strbuf_reset(&word);
		in_word = 1;
		while (in_word && i < len) {
			c = line[i];
			if (c == ' ' || c == '\t') {
				in_word = 0;
			} else if (c == '\\') {
				if (++i == len) {
					perr(p, "backslash at the end of the line");
					goto bad;
				}
				strbuf_append_char(&word, line[i++]);
			} else if (c == '"' || c == '\'') {
				quote = c;
				for (i++; i < len && line[i] != quote; i++) {
					if (quote == '"' && line[i] == '\\' && i + 1 < len)
						i++;
					strbuf_append_char(&word, line[i]);
				}
				if (i == len) {
					perr(p, "missing closing %c", quote);
					goto bad;
				}
				i++;
			} else {
				strbuf_append_char(&word, c);
				i++;
			}
		}
		argv[n++] = xstrdup(strbuf_str(&word));
	}
	strbuf_done(&word);
	*argc = n;
	return 0;
bad:
	strbuf_done(&word);
	while (n > 0)
		free(argv[--n]);
	*argc = 0;
	return -1;
}

/* 1 when word could be a command name: [a-z-]+, at most 32 bytes. */
static int
command_like(const char *word)
{
	size_t n = strspn(word, "abcdefghijklmnopqrstuvwxyz-");

	return n > 0 && n <= 32 && word[n] == '\0';
}

static void
run_line(struct parse *p, const char *line, size_t len)
{
	const struct command *cmd = NULL;
	char *argv[ARGS_MAX];
	size_t i;
	int argc = 0;

	if (split_line(p, line, len, argv, &argc) != 0 || argc == 0)
		return;
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			cmd = &commands[i];
			break;
		}
	}
	if (cmd == NULL) {
		/* Only a word that looks like a command is echoed: `source /etc/shadow` must not
		 * print the file's lines in its errors. */
		if (command_like(argv[0]))
			perr(p, "unknown command \"%s\"", argv[0]);
		else
			perr(p, "not a configuration command");
	} else if (argc - 1 < cmd->min || argc - 1 > cmd->max) {
		perr(p, "usage: %s", cmd->usage);
	} else {
		cmd->fn(p, argc, argv);
	}
	while (argc > 0)
		free(argv[--argc]);
}

/* Reads buf line by line as the file path (shown as name). */
static void
parse_buffer(struct parse *p, const char *path, const char *name, const char *buf, size_t len)
{
	const char *saved_file = p->file, *saved_path = p->path, *nl, *line = buf;
	unsigned saved_line = p->line;
	size_t n;

	p->file = name;
	p->path = path;
	p->line = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
		line += 3;
	while (!p->stop && line < buf + len) {
		p->line++;
		nl = memchr(line, '\n', (size_t)(buf + len - line));
		n = nl != NULL ? (size_t)(nl - line) : (size_t)(buf + len - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		run_line(p, line, n);
		line = nl != NULL ? nl + 1 : buf + len;
	}
	p->file = saved_file;
	p->path = saved_path;
	p->line = saved_line;
}

/* Reads the file path; a missing file is an error when explicit. */
static void
parse_file(struct parse *p, const char *path, int explicit)
{
	struct stat st;
	char *buf = NULL, *err = NULL, *s;
	size_t len, i;
	int e;

	if (read_file(path, CONFIG_FILE_MAX, &buf, &len, &st, &err) != 0) {
		e = errno;
		if (err == NULL && e == ENOENT && !explicit)
			return;
		s = safe(path);
		if (p->file != NULL) {
			perr(p, "source %s: %s", s, err != NULL ? err : strerror(e));
		} else {
			p->file = s;
			perr(p, "cannot read: %s", err != NULL ? err : strerror(e));
			p->file = NULL;
		}
		free(s);
		free(err);
		return;
	}
	for (i = 0; i < (size_t)p->depth; i++) {
		if (p->stack[i].dev == st.st_dev && p->stack[i].ino == st.st_ino) {
			s = safe(path);
			perr(p, "source %s: cycle (the file is already being read)", s);
			free(s);
			free(buf);
			return;
		}
	}
	p->stack[p->depth].dev = st.st_dev;
	p->stack[p->depth].ino = st.st_ino;
	p->depth++;
	if (p->file != NULL)
		p->level++;
	s = safe(path);
	/* Whoever can change it can name the devices' passwords and the files the program reads. */
	if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != getegid()))
		log_warn("configuration file %s can be changed by others (mode %03o, group %u); "
		         "chmod go-w it",
		    s, (unsigned)(st.st_mode & 0777), (unsigned)st.st_gid);
	parse_buffer(p, path, s, buf, len);
	free(s);
	if (p->file != NULL)
		p->level--;
	p->depth--;
	free(buf);
}

static void
parse_init(struct parse *p, struct conf *cfg)
{
	memset(p, 0, sizeof *p);
	p->cfg = cfg;
	strbuf_init(&p->errors);
}

/* Finishes a load: 0, or -1 with every error in *cause. */
static int
parse_done(struct parse *p, char **cause)
{
	if (p->nerrors == 0 && !p->stop) {
		strbuf_done(&p->errors);
		return 0;
	}
	*cause = strbuf_steal(&p->errors);
	return -1;
}

char *
conf_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *home, *s;

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/shelly-tui/config", xdg);
	if ((home = dirs_home()) == NULL)
		return NULL;
	s = xasprintf("%s/.config/shelly-tui/config", home);
	free(home);
	return s;
}

int
conf_load(struct conf *cfg, const char *path, char **cause)
{
	struct parse p;
	char *def = NULL;
	int explicit = path != NULL;

	if (!explicit) {
		if ((def = conf_default_path()) == NULL)
			return 0;
		path = def;
	}
	parse_init(&p, cfg);
	parse_file(&p, path, explicit);
	free(def);
	reapply_overrides(cfg);
	return parse_done(&p, cause);
}

int
conf_load_buffer(struct conf *cfg, const char *name, const char *buf, size_t len,
    char **cause)
{
	struct parse p;
	char *s = safe(name);

	parse_init(&p, cfg);
	parse_buffer(&p, name, s, buf, len);
	free(s);
	reapply_overrides(cfg);
	return parse_done(&p, cause);
}

/* Secrets */

/* 1 when gid is the process's group or one of its supplementary groups. */
static int
own_group(gid_t gid)
{
	gid_t groups[256];
	int n;

	if (gid == getegid())
		return 1;
	n = getgroups((int)(sizeof groups / sizeof groups[0]), groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/*
 * 1 when a secret file is open to others: readable or writable by any user, writable by its
 * group, or readable by a group this process is not in. A group-readable file of the
 * process's own group is fine: Kubernetes mounts Secrets that way (defaultMode 0440 with the
 * Pod's fsGroup) so that a non-root UID can read them.
 */
static int
secret_exposed(const struct stat *st)
{
	if (st->st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
		return 1;
	return (st->st_mode & S_IRGRP) && !own_group(st->st_gid);
}

char *
conf_read_secret(const char *ref, char **cause)
{
	return conf_read_secret_file(ref, "password file", cause);
}

char *
conf_read_secret_file(const char *ref, const char *what, char **cause)
{
	struct stat st;
	char *path, *buf = NULL, *err = NULL, *s;
	size_t len;

	if (ref == NULL || !str_has_prefix(ref, "file:")) {
		*cause = xstrdup("secret reference must be file:PATH");
		return NULL;
	}
	if ((path = resolve_path(NULL, ref + 5, &err)) == NULL) {
		*cause = xasprintf("secret reference: %s", err);
		free(err);
		return NULL;
	}
	s = safe(path);
	if (read_file(path, SECRET_FILE_MAX, &buf, &len, &st, &err) != 0) {
		*cause = xasprintf("cannot read %s %s: %s", what, s,
		    err != NULL ? err : strerror(errno));
		goto fail;
	}
	if (memchr(buf, '\0', len) != NULL) {
		*cause = xasprintf("%s %s holds a NUL byte", what, s);
		goto fail;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
	}
	if (len == 0) {
		*cause = xasprintf("%s %s is empty", what, s);
		goto fail;
	}
	if (secret_exposed(&st))
		log_warn("%s %s can be read or changed by others (mode %03o, group %u); "
		         "chmod 600 it, or 440 for a group of this process only",
		    what, s, (unsigned)(st.st_mode & 0777), (unsigned)st.st_gid);
	free(path);
	free(s);
	return buf;
fail:
	conf_secret_free(buf);
	free(err);
	free(path);
	free(s);
	return NULL;
}

void
conf_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	str_free_secret(secret);
}
