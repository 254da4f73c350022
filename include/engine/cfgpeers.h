#ifndef ENGINE_CFGPEERS_H
#define ENGINE_CFGPEERS_H

/*
 * The check of a configuration run before anything is sent, by every front end that applies
 * now (the command line's --config-set and --apply, the console's drift view and editor): no
 * two devices of the run may get one value of a field that must differ per device
 * (engine/cfgunique), and no device may get a value another registered device's desired
 * configuration gives, or a static address another registered device is at now
 * (engine/cfgholders, as the queue checks its changes).
 */
#include <stddef.h>

struct store;
struct devconfig;

/*
 * why[i] is set (malloc'd) for each device of the run whose desired[i] (NULL: not part of the
 * run) is refused, or when the registry cannot be read for the check (store NULL: no database,
 * nothing registered); else NULL. macs[i] names device i (NULL: one the registry does not
 * know). Returns how many are refused.
 */
size_t cfgpeers_check_run(struct store *store, const struct devconfig *const *desired,
    const char *const *macs, size_t n, char **why);

#endif
