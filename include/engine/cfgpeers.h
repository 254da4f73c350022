#ifndef ENGINE_CFGPEERS_H
#define ENGINE_CFGPEERS_H

/*
 * The other registered devices a configuration change is checked against before anything is
 * sent (engine/cfgunique): a change must not give a device a static address, MQTT client id or
 * topic prefix another registered device's desired configuration gives it, nor a static
 * address another registered device is at now. One check for every front end (the runs of the
 * command line and of the console, the headless queue). The registry is read at the first
 * check that needs it, and each other device's desired configuration at most once, so a run of
 * many devices costs one pass over the registry, not one per device.
 */
#include <stddef.h>

struct store;
struct devconfig;
struct cfgpeers;

/* The peers of the devices registered in store (not owned; NULL: none); nothing is read yet. */
struct cfgpeers *cfgpeers_new(struct store *store);
void cfgpeers_free(struct cfgpeers *p);

/*
 * Sets *why to why want, meant for the device mac (NULL: one not known to the registry), must
 * not be sent (malloc'd), or NULL. Returns 0, or -1 with *why the reason the registry could
 * not be read.
 */
int cfgpeers_check(struct cfgpeers *p, const char *mac, const struct devconfig *want, char **why);

/*
 * The check of a run of n devices before anything is sent, by every front end: why[i] is set
 * (malloc'd) for each device whose desired[i] (NULL: not part of the run) gives a value that
 * must differ per device to another device of the run too (engine/cfgunique), or that
 * cfgpeers_check refuses (macs[i] names device i, or NULL), or when the registry cannot be read
 * for that check; else NULL. Returns how many are refused.
 */
size_t cfgpeers_check_run(struct store *store, const struct devconfig *const *desired,
    const char *const *macs, size_t n, char **why);

#endif
