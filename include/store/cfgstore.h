#ifndef STORE_CFGSTORE_H
#define STORE_CFGSTORE_H

/*
 * Configuration management in the store: snapshots of actual configuration (history, with the
 * device's cfg_rev), groups and their members (registered devices), the template a group
 * follows, desired fields per device, and changes queued for devices that were offline.
 * Configurations are stored as template text (model/devconfig). Every call is one transaction;
 * callbacks run after it, so they may call the store again.
 */
#include <stddef.h>
#include <stdint.h>

struct store;

/* Snapshots kept per device (older ones are dropped when one is added). */
#define CFGSTORE_SNAPSHOTS_KEPT 20
/* Flags of a queued change. */
#define CFGSTORE_PENDING_REBOOT 0x1 /* --allow-reboot */
#define CFGSTORE_PENDING_NETWORK 0x2 /* --allow-network-change */

int cfgstore_snapshot_add(struct store *s, const char *mac, int64_t ts_ms, int gen, int has_rev,
    double rev, const char *reason, const char *body, char **cause);

struct cfgstore_row {
	int64_t id, ts_ms;
	int gen, flags, members;
	int has_rev;
	double rev;
	const char *mac, *name, *tmpl, *reason, *body, *state, *result;
};
typedef int (*cfgstore_cb)(const struct cfgstore_row *r, void *arg);

/* Newest first, at most limit. */
int cfgstore_snapshots(
    struct store *s, const char *mac, size_t limit, cfgstore_cb cb, void *arg, char **cause);

/* Creates the group if needed and adds the members (MACs of registered devices). */
int cfgstore_group_add(
    struct store *s, const char *group, const char *const *macs, size_t n, char **cause);
/* Removes the members, or the whole group when n is 0. */
int cfgstore_group_remove(
    struct store *s, const char *group, const char *const *macs, size_t n, char **cause);
/* Attaches template tmpl ("" or NULL: none) to the group (created if needed). */
int cfgstore_group_template(struct store *s, const char *group, const char *tmpl, char **cause);
/* Every group: name, tmpl, members. */
int cfgstore_groups(struct store *s, cfgstore_cb cb, void *arg, char **cause);
/* Members of a group: mac, tmpl (the group's). */
int cfgstore_group_members(
    struct store *s, const char *group, cfgstore_cb cb, void *arg, char **cause);
/* Groups of a device: name, tmpl. */
int cfgstore_device_groups(
    struct store *s, const char *mac, cfgstore_cb cb, void *arg, char **cause);

/* Desired fields of one device (template text; NULL body removes nothing: use ""). */
int cfgstore_desired_set(struct store *s, const char *mac, const char *body, char **cause);
/* Returns the desired fields (malloc'd) or NULL when none (or on error, logged). */
char *cfgstore_desired_get(struct store *s, const char *mac);

/* Queues a change (older queued changes of the device are superseded). */
int cfgstore_pending_add(
    struct store *s, const char *mac, int64_t ts_ms, const char *body, int flags, char **cause);
/* Queued changes: id, mac, ts_ms, body, flags, state, result; mac/state NULL: all. */
int cfgstore_pending(
    struct store *s, const char *mac, const char *state, cfgstore_cb cb, void *arg, char **cause);
int cfgstore_pending_set(
    struct store *s, int64_t id, const char *state, const char *result, char **cause);

#endif
