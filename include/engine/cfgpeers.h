#ifndef ENGINE_CFGPEERS_H
#define ENGINE_CFGPEERS_H

/*
 * The other registered devices a configuration change is checked against before anything is
 * sent (engine/cfgunique): a change must not give a device a static address, MQTT client id or
 * topic prefix another registered device's desired configuration gives it, nor a static
 * address another registered device is at now. One check for every front end (the console's
 * runs, the headless queue). The registry is read at the first check that needs it, and each
 * other device's desired configuration at most once, so a run of many devices costs one pass
 * over the registry, not one per device.
 */
struct store;
struct devconfig;
struct cfgpeers;

/* The peers of the devices registered in store (not owned); nothing is read yet. */
struct cfgpeers *cfgpeers_new(struct store *store);
void cfgpeers_free(struct cfgpeers *p);

/*
 * Sets *why to why want, meant for the registered device mac, must not be sent (malloc'd), or
 * NULL. Returns 0, or -1 with *why the reason the registry could not be read.
 */
int cfgpeers_check(struct cfgpeers *p, const char *mac, const struct devconfig *want, char **why);

#endif
