#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/options.h"
#include "util/cidr.h"

/*
 * The configuration file: one command per line (tmux/tig style).
 *
 *   set NAME VALUE                          an option of cli/options.h
 *   discover-range TARGET...                IPv4 CIDR, address or range (util/cidr.h); a
 *                                           TARGET may also be a comma-separated list
 *   credentials default USER file:PATH      credentials for every device without its own
 *   credentials DEVICE USER file:PATH       DEVICE: a MAC (any notation), a device id or a name
 *   device NAME HOST[:PORT] [user USER] [password file:PATH]
 *                                           a device by address; password without user means
 *                                           user "admin"; PORT defaults to 80
 *   bind VIEW KEY ACTION                    a key binding for the TUI (syntax checked only)
 *   color ELEMENT FG BG [ATTRS...]          a theme colour (syntax checked only)
 *   source PATH                             reads another file (nesting depth at most 8)
 *
 * Words are separated by blanks; "..." and '...' quote (so "" is an empty word); a backslash
 * outside single quotes makes the next character literal; a word starting with # starts a
 * comment. Control characters and NUL bytes are errors. Paths (source, file:, OT_PATH options)
 * expand a leading ~ and are relative to the directory of the file they are written in.
 * Secrets are never written inline: a password is a reference "file:PATH" to a file that holds
 * only the password (see conf_read_secret).
 *
 * Later commands win: set overwrites, credentials/bind/color replace an earlier definition
 * for the same device/(view, key)/element; a device name defined twice is an error.
 * Errors read "file:line: message"; parsing continues after an error so that every error is
 * reported, and the valid commands remain applied. To reload safely (SIGHUP), load into a new
 * config and keep the old one when conf_load fails.
 */

struct conf;
struct shelly_target;

/* What the option table says about one option; static data. */
struct conf_option_info {
	const char *name;
	enum option_type type;
	const char *def; /* default, as written in a config file */
	uint64_t min, max; /* inclusive, for OT_DURATION (ms), OT_INT, OT_SIZE (bytes) */
	const char *choices; /* OT_ENUM: "a|b|c"; else NULL */
	const char *help;
};

/* A discover-range target. */
struct conf_range {
	struct cidr target;
	char *text; /* as written */
	char *where; /* "file:line" */
};

/* A credentials line. */
struct conf_credentials {
	char *device; /* as written; NULL for "default" */
	char mac[13]; /* device as 12 lower-case hex digits when it is a MAC, else "" */
	char *user;
	char *secret; /* "file:/absolute/or/relative/path", resolved */
	char *where;
};

/* A device line. */
struct conf_device {
	char *name;
	char *host; /* IPv4, IPv6 (without brackets) or host name */
	unsigned port;
	char *user; /* NULL when not given */
	char *secret; /* "file:PATH" or NULL */
	char *where;
};

/* A bind line. */
struct conf_bind {
	char *view;
	char *key; /* as written: "t", "C-x", "M-Enter", "F5", "PageDown" ... */
	char *action;
	char *where;
};

/* Attributes of a colour line. */
enum conf_attr {
	CONF_ATTR_BOLD = 1 << 0,
	CONF_ATTR_UNDERLINE = 1 << 1,
	CONF_ATTR_REVERSE = 1 << 2,
	CONF_ATTR_DIM = 1 << 3,
	CONF_ATTR_BLINK = 1 << 4,
	CONF_ATTR_ITALIC = 1 << 5,
};

/* A color line. Colours are -1 for "default" or 0..255 (names black..white are 0..7). */
struct conf_color {
	char *element;
	int fg, bg;
	unsigned attrs; /* enum conf_attr bits */
	char *where;
};

/* Returns a new config holding the defaults of every option and no lists (caller frees). */
struct conf *conf_new(void);
/* Frees cfg and everything it owns (NULL is fine). */
void conf_free(struct conf *cfg);

/* Returns the default config file path, malloc'd (caller frees), or NULL without a home. */
char *conf_default_path(void);
/*
 * Reads the file path (NULL: the default path, which may be missing) into cfg. Returns 0, or -1
 * with *cause (caller frees) holding every error, one "file:line: message" per line.
 */
int conf_load(struct conf *cfg, const char *path, char **cause);
/* Same from len bytes of memory; name is used in messages and to resolve relative paths. */
int conf_load_buffer(struct conf *cfg, const char *name, const char *buf, size_t len,
    char **cause);
/* Sets option name to value as `set` does (relative paths: the current directory). 0 or -1. */
int conf_set(struct conf *cfg, const char *name, const char *value, char **cause);

/*
 * Sets option name as conf_set does and keeps it above the file: every later conf_load of cfg
 * applies it again (command-line options such as --timeout). Returns 0 or -1 with *cause.
 */
int conf_override(struct conf *cfg, const char *name, const char *value, char **cause);
/* Returns a new config with the defaults and old's overrides (old may be NULL); caller frees. */
struct conf *conf_new_like(const struct conf *old);
/*
 * Fills the per-device defaults of a request target from cfg, the one place they are built:
 * TLS mode and CA file, request and connect timeouts (connect never longer than the request),
 * response size cap and Gen2+ lanes. Other fields are left alone.
 */
void conf_target(const struct conf *cfg, struct shelly_target *t);

/* Returns the option table entry of id (static). */
const struct conf_option_info *conf_option_info(enum option_id id);
/* Returns the id of the option called name, or -1. */
int conf_option_find(const char *name);
/* Prints one line per option: name, type, default, help (for --list-options). */
void conf_list_options(FILE *fp);

/* Typed getters; asking for the wrong type is a programming error and aborts. */
uint64_t conf_get_ms(const struct conf *cfg, enum option_id id); /* OT_DURATION */
int64_t conf_get_int(const struct conf *cfg, enum option_id id); /* OT_INT */
uint64_t conf_get_size(const struct conf *cfg, enum option_id id); /* OT_SIZE */
int conf_get_bool(const struct conf *cfg, enum option_id id); /* OT_BOOL: 0 or 1 */
int conf_get_enum(const struct conf *cfg, enum option_id id); /* OT_ENUM: choice index */
/* OT_STRING, OT_PATH, OT_ADDRESS value or OT_ENUM choice name; owned by cfg. */
const char *conf_get_str(const struct conf *cfg, enum option_id id);

/*
 * Returns the host (malloc'd, caller frees; IPv6 without brackets) and port of an OT_ADDRESS
 * option such as listen.
 */
void conf_get_address(const struct conf *cfg, enum option_id id, char **host,
    unsigned *port);
/*
 * Parses a device address "HOST[:PORT]" as the device command does (for --probe, --add):
 * HOST is a strict IPv4 address, an IPv6 address ("[::1]:8080", or bare "::1" without port)
 * or a host name; PORT is 1..65535, def when absent. Returns 0 with *host malloc'd (caller
 * frees), or -1 with *cause (caller frees).
 */
int conf_parse_device_address(const char *s, unsigned def, char **host, unsigned *port,
    char **cause);

/* The lists, in file order; owned by cfg and valid until the next load or conf_free. */
const struct conf_range *conf_ranges(const struct conf *cfg, size_t *n);
const struct conf_credentials *conf_credentials(const struct conf *cfg, size_t *n);
const struct conf_device *conf_devices(const struct conf *cfg, size_t *n);
const struct conf_bind *conf_binds(const struct conf *cfg, size_t *n);
const struct conf_color *conf_colors(const struct conf *cfg, size_t *n);
/* Returns the device called name, or NULL; owned by cfg. */
const struct conf_device *conf_find_device(const struct conf *cfg, const char *name);
/*
 * Returns the credentials for a device, or NULL; owned by cfg. Tried in order: an entry for
 * its MAC, for its id (case-insensitive), for its name, then the default. Any of mac, id and
 * name may be NULL.
 */
const struct conf_credentials *conf_find_credentials(const struct conf *cfg,
    const char *mac, const char *id, const char *name);

/*
 * Reads the secret that ref ("file:PATH") points to: the file's contents without one trailing
 * newline. Returns it malloc'd (caller frees with conf_secret_free), or NULL with *cause. A
 * file readable by group or others is read, with a warning logged. The secret is never logged.
 */
char *conf_read_secret(const char *ref, char **cause);
/* conf_read_secret naming the file what in its messages ("WiFi key file"), not "password file". */
char *conf_read_secret_file(const char *ref, const char *what, char **cause);
/* Overwrites and frees a secret returned by conf_read_secret (NULL is fine). */
void conf_secret_free(char *secret);

#endif
