#ifndef EXCHANGE_CFGDOC_H
#define EXCHANGE_CFGDOC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/str.h"

/*
 * The configuration sections of the json backup and the toml export (format version 2, 3):
 * groups (template, the group's own fields, members), templates (the files, by name), and per
 * device the desired configuration, the latest snapshot of the actual one and (version 3) the
 * older snapshots the store keeps, newest first. Texts are in
 * the template format of model/devconfig; lines that set a secret field (DCF_SECRET) are left
 * out unless secrets are asked for.
 *
 *   groups.NAME    = {template, fields, members = [MAC, ...]}
 *   templates.NAME = "text"
 *   configs.MAC    = {desired, actual = SNAP, history = [SNAP, ...]}
 *   SNAP           = {ts_ms, gen, cfg_rev, reason, body}  (version 2 toml: no ts_ms)
 */

/* Settings key prefix of a group's own fields (exported under groups.NAME.fields). */
#define CFGDOC_GROUP_PREFIX "config-group:"
/* Longest text of one template, desired configuration or snapshot. */
#define CFGDOC_TEXT_MAX (256 * 1024)

struct cfgdoc;

/*
 * Reads the configuration of the devices macs (n of them, sorted) from the store, and the
 * template files of dir (NULL: none). With group (not NULL) only that group and its template.
 * A template, desired configuration or group's fields that does not read as a template (a
 * file edited by hand, a field an upgrade renamed) is left out, since --import would refuse
 * the whole file: a line "WHAT NAME: left out: why" goes to notes (NULL: none).
 * Returns 0 with *out or -1 with *cause.
 */
int cfgdoc_load(struct store *s, const char *dir, const char *group, const char *const *macs,
    size_t n, int with_secrets, struct strbuf *notes, struct cfgdoc **out, char **cause);
void cfgdoc_free(struct cfgdoc *c);
/* The members of group, by MAC: *macs (n of them; caller frees each and the array). */
int cfgdoc_members(struct store *s, const char *group, char ***macs, size_t *n, char **cause);
/* 1 when the loaded texts hold secret fields (only possible with_secrets). */
int cfgdoc_has_secrets(const struct cfgdoc *c);

/* Appends the sections: json members (",\n  \"groups\": ..."), or toml tables. */
void cfgdoc_render_json(const struct cfgdoc *c, struct strbuf *sb);
void cfgdoc_render_toml(const struct cfgdoc *c, struct strbuf *sb);

/*
 * The template directory: $SHELLY_TUI_TEMPLATES, else $XDG_CONFIG_HOME/shelly-tui/templates, else
 * $HOME/.config/shelly-tui/templates (malloc'd), or NULL when neither is set (absolute).
 */
char *cfgdoc_template_dir(void);
/* 1 when name is a valid template name (1-64 printable characters, no '/', not ".x"). */
int cfgdoc_template_name_ok(const char *name);
/* 1 when name is a valid group name (1-64 printable characters, no space, no leading '@'). */
int cfgdoc_group_name_ok(const char *name);

/* text without the lines that set secret fields (malloc'd); *had (may be NULL) set if any. */
char *cfgdoc_strip_secrets(const char *text, int *had);
/*
 * A text restored from a file written without secrets, over the stored one: incoming with the
 * secret lines of stored appended (malloc'd), or NULL when stored (may be NULL) has none.
 */
char *cfgdoc_keep_secrets(const char *incoming, const char *stored);
/*
 * Reads the text file at path (at most CFGDOC_TEXT_MAX bytes, no NUL): 0 with *out
 * (NUL-terminated, caller frees) and *len (len may be NULL), 1 when there is no such file,
 * -1 with *cause "PATH: why".
 */
int cfgdoc_text_read(const char *path, char **out, size_t *len, char **cause);
/* Reads template name of dir: 0 with *out (caller frees), 1 when there is none, -1 *cause. */
int cfgdoc_template_read(const char *dir, const char *name, char **out, char **cause);

#endif
