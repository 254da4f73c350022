#ifndef ENGINE_DEVNAME_H
#define ENGINE_DEVNAME_H

/*
 * The name a device gives itself (Gen1 settings "name", Gen2+ Sys config device.name), as
 * against the registry name, which is the operator's. The store remembers the name each
 * device last reported (setting "device-name:<mac>"). When a device reports another name than
 * before, an event device_name_changed records "'old' -> 'new'" (sanitised), and the registry
 * name follows the device when it was the device's own name (empty, or the name the device
 * reported before, also before it cleared its name): an operator who never chose another
 * name sees the rename. A name the operator gave (--add --name, --rename, the console)
 * differs from the device's and stays.
 */
struct store;

/* The setting key under which mac's reported name is kept. */
#define DEVNAME_PREFIX "device-name:"
/*
 * The setting key under which the name mac reported before it reported "" is kept: a
 * registry name that was the device's own stays its own across a cleared name.
 */
#define DEVNAME_CLEARED_PREFIX "device-name-cleared:"

/*
 * The device mac (registry name registry_name, NULL or "" none) reports reported. *followed
 * is the registry's new name, already stored (caller frees), when it follows the device; NULL
 * when the registry name stays. Returns -1 when a write failed (the store's health says so):
 * the caller observes the same name again later, which does what is left, the event once.
 */
int devname_observe(struct store *st, const char *mac, const char *registry_name,
    const char *reported, char **followed);
/* Remembers reported as mac's own name (at registration); NULL or "" forgets nothing. */
void devname_remember(struct store *st, const char *mac, const char *reported);
/* The name mac last reported, sanitised (caller frees); NULL when none is known. */
char *devname_reported(struct store *st, const char *mac);
/* Forgets mac's reported name (the device left the registry). */
void devname_forget(struct store *st, const char *mac);

#endif
