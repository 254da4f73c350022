#ifndef EXCHANGE_EXPORT_H
#define EXCHANGE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/str.h"

/*
 * One-shot exports of the fleet in the store: a restorable JSON backup, a git-friendly TOML
 * description, a CSV inventory, and host/DHCP files for other programs. Text is built in
 * memory (a fleet of 1000 devices is well under a megabyte) and written atomically.
 *
 * X(ID, name, restorable, help)
 */
/* clang-format off */
#define EXPORT_FORMATS(X) \
	X(JSON, "json", 1, "full backup: format version, devices, settings, secrets on request") \
	X(TOML, "toml", 1, "git-friendly: one table per device, deterministic, no timestamps") \
	X(CSV, "csv", 0, "RFC 4180 inventory with a header row; --columns chooses them") \
	X(HOSTS, "hosts", 0, "/etc/hosts lines with unique RFC 1123 host names") \
	X(DHCP_ISC, "dhcp-isc", 0, "ISC dhcpd host blocks (MAC, fixed address, host name)") \
	X(DNSMASQ, "dnsmasq", 0, "dnsmasq dhcp-host lines") \
	X(KEA, "kea", 0, "Kea DHCPv4 configuration with global host reservations")
/* clang-format on */

enum export_format {
#define EXPORT_ENUM(id, name, restorable, help) EXPORT_##id,
	EXPORT_FORMATS(EXPORT_ENUM)
#undef EXPORT_ENUM
	    EXPORT__COUNT
};

/* Identification of the JSON and TOML documents; readers check both. */
#define EXPORT_JSON_KIND "shelly-tui-backup"
#define EXPORT_TOML_KIND "shelly-tui-fleet"
/*
 * 2 added the configuration sections (exchange/cfgdoc.h), 3 the snapshot history and the
 * snapshot times in toml, 4 the closing table of toml (EXPORT_TOML_END); readers take 1 to 4
 * in both formats. Each format is written as the version of its own content: JSON did not
 * change in 4, and a JSON backup marked 4 would be refused by a program of version 3 (an
 * operator rolling back an upgrade) for nothing.
 */
#define EXPORT_FORMAT_VERSION 4
#define EXPORT_JSON_VERSION 3
#define EXPORT_TOML_VERSION 4
/*
 * The last table of a toml export (version 4), "[end]" holding "complete = true": a file cut
 * at a line end is still valid TOML, so without it a truncated export would import as a
 * smaller fleet (and --replace remove the rest). JSON needs none: its closing brace is one.
 */
#define EXPORT_TOML_END "end"
/* Settings whose key starts with this hold device passwords (store:secret:MAC references). */
#define EXPORT_SECRET_PREFIX "secret:"
/* Default CSV columns. */
#define EXPORT_CSV_COLUMNS "mac,name,host,port,gen,model,fw,state"

struct export_opts {
	enum export_format format;
	int include_secrets; /* json, toml: add the stored device passwords */
	const char *columns; /* csv: comma-separated column names, NULL for the default */
	int64_t now_ms; /* json: the export time written in the document */
	const char *group; /* only the members of this group (NULL: the whole fleet) */
	const char *templates_dir; /* json, toml: NULL for cfgdoc_template_dir() */
	struct strbuf *notes; /* hosts, DHCP: a line per device left out (hostfmt.h); NULL none */
};

/* A device field as exports and imports name it. */
enum export_field_kind { EXPORT_F_STR, EXPORT_F_INT, EXPORT_F_TIME };
struct export_field {
	const char *name;
	enum export_field_kind kind;
	size_t off; /* offset in struct store_device */
};
/* The registry fields in document order ("mac" first); n is set to their count. */
const struct export_field *export_device_fields(size_t *n);

/* Format by name; 0 or -1. */
int export_format_parse(const char *name, enum export_format *out);
/* Name of a format; static. */
const char *export_format_name(enum export_format f);
/* "json, toml, ..." for messages and help; static. */
const char *export_format_list(void);
/* 1 if the format can be read back by --import. */
int export_format_restorable(enum export_format f);
/* 1 if group exists, 0 if not, -1 with *cause. */
int export_group_exists(struct store *s, const char *group, char **cause);
/* Valid CSV columns, comma-separated; static. */
const char *export_csv_columns(void);

/*
 * Renders the fleet in format o->format into out (appended). Returns 0, or -1 with *cause
 * (unknown CSV column, unknown group, store error). *has_secrets (may be NULL) is set to 1 when the
 * text holds device passwords.
 */
int export_render(struct store *s, const struct export_opts *o, struct strbuf *out,
    int *has_secrets, char **cause);

/*
 * Writes len bytes to path. A regular file (or a new one) is replaced atomically: a temporary
 * file in the same directory with the given mode less the umask, fsync, rename over path, fsync of
 * the directory; on failure path is untouched. A symbolic link is followed: its target is replaced
 * and the link kept; a link to a missing file is refused. A FIFO or character device
 * (/dev/stdout, /dev/null) is written in place, never removed; a FIFO must have a reader.
 * Anything else (directory, socket, block device) is refused.
 */
int export_write_file(const char *path, const char *data, size_t len, unsigned mode, char **cause);
/* The two halves of export_write_file: the fsync'd temporary file (*tmp_out, caller frees),
 * then its rename over path (on failure the temporary file is removed). */
int export_stage_file(
    const char *path, const char *data, size_t len, unsigned mode, char **tmp_out, char **cause);
int export_commit_file(const char *tmp, const char *path, char **cause);

#endif
