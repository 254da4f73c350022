#ifndef ENGINE_CFGDESIRED_H
#define ENGINE_CFGDESIRED_H

/*
 * Where a device's desired configuration comes from, for every front end: template files
 * (NAME is $XDG_CONFIG_HOME/shelly-tui/templates/NAME.tmpl, or a path when it holds a '/'),
 * and what the store holds (the template of the device's group, the group's own fields, the
 * device's own fields: device over group over template). Also the newest snapshot of the
 * device's actual configuration, and drift computed from the two without asking the device.
 */
#include <stdint.h>

#include "model/devconfig.h"

struct store;
struct tmplcache;

/* The file of template NAME (malloc'd), or NULL with *cause. */
char *cfgdesired_template_path(const char *name, char **cause);
/* Reads template NAME into out (initialised on success). Returns 0, or -1 with *cause. */
int cfgdesired_template_load(const char *name, struct devconfig *out, char **cause);
/*
 * Checks that template NAME reads and sets at most max_fields fields (what a provisioning
 * task may carry), so that a typo fails when the task is made, not on the agent. Returns 0,
 * or -1 with *cause.
 */
int cfgdesired_template_check(const char *name, size_t max_fields, char **cause);
/* The settings key of a group's own fields into buf. */
void cfgdesired_group_key(const char *group, char *buf, size_t size);
/* Template text of c (secrets left out; malloc'd), as snapshots and stored fields hold it. */
char *cfgdesired_text(const struct devconfig *c);
/* Sets every entry of src into dst (src wins). */
void cfgdesired_overlay(struct devconfig *dst, const struct devconfig *src);

/*
 * Adds to out (initialised by the caller) the desired configuration the store holds for mac:
 * the template of its group (prefer, when it is one of its groups; else the first group with
 * a template), the group's own fields, then the device's own. vars->group is set here, and
 * vars->index when it is NULL (tmplcache_index in that group; 1 without a group). out stays
 * empty when nothing is desired. Returns 0, or -1 with *cause.
 */
int cfgdesired_stored(struct store *st, const char *mac, const char *prefer,
    const struct devconfig_vars *vars, struct devconfig *out, char **cause);
/*
 * The same, with template files and groups' fields from cache (engine/tmplcache.h); cache
 * NULL: from a cache made for this call alone.
 */
int cfgdesired_stored_cached(struct store *st, struct tmplcache *cache, const char *mac,
    const char *prefer, const struct devconfig_vars *vars, struct devconfig *out, char **cause);

/*
 * Merges the fields of set (secrets left out) into the device's stored desired fields, as
 * --config-set does after a change. Returns 0, or -1 with *cause.
 */
int cfgdesired_remember(
    struct store *st, const char *mac, const struct devconfig *set, char **cause);

/*
 * The newest snapshot of mac into out (initialised here) and its time. Returns 1 when there
 * is one, 0 when none, -1 with *cause.
 */
int cfgdesired_snapshot(
    struct store *st, const char *mac, struct devconfig *out, int64_t *ts_ms, char **cause);

/*
 * Drift of a registered device from the store alone: the number of fields that differ
 * between its desired configuration and its newest snapshot. Returns the count, -1 when
 * nothing is desired, -2 when it cannot be known (no snapshot, or an error).
 */
int cfgdesired_drift(struct store *st, const char *mac, const struct devconfig_vars *vars);
/* The same, with template files and groups' fields from cache (engine/tmplcache.h). */
int cfgdesired_drift_cached(
    struct store *st, struct tmplcache *cache, const char *mac, const struct devconfig_vars *vars);

#endif
