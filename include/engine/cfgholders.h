#ifndef ENGINE_CFGHOLDERS_H
#define ENGINE_CFGHOLDERS_H

/*
 * Who holds each value that must differ per device (engine/cfgunique): every registered
 * device's current address, the values its desired configuration gives, and those of its
 * queued change, hashed, so that checking one queued change costs the devices that share
 * one of its values, not the whole registry.
 *
 * A queued change that gives a device a static address another registered device is at now
 * is not refused when that device's own queued change moves it off the address to one that
 * is free, or that is freed the same way in turn (a chain): it waits, and is applied once
 * the holder has moved (cfgholders_moved). It is refused when the chain ends at a device
 * that stays, or comes round in a cycle (two devices swapping addresses): that needs a
 * temporary address, which is never picked on the operator's behalf.
 */
#include "model/devconfig.h"

struct cfgholders;
struct store;

enum cfgholders_verdict {
	CFGH_FREE, /* nothing clashes: the change may be sent */
	CFGH_WAIT, /* the address is freed by another queued move first */
	CFGH_REFUSED, /* never sendable as things are */
};

struct cfgholders *cfgholders_new(void);
void cfgholders_free(struct cfgholders *h);
/*
 * Adds a registered device, in the registry's order (the first device that clashes is the
 * one named): its MAC, label (sanitised by the caller), current address (NULL: none) and
 * desired configuration (NULL: none). Values are copied.
 */
void cfgholders_add(struct cfgholders *h, const char *mac, const char *label, const char *host,
    const struct devconfig *desired);
/*
 * A new set read from the store: every registered device (labelled by its name, sanitised,
 * else its MAC) with its desired configuration (engine/cfgdesired; a device whose desired
 * configuration cannot be read is checked by its address only). Returns it, or NULL with
 * *cause when the registry cannot be listed.
 */
struct cfgholders *cfgholders_read(struct store *st, char **cause);
/* The queued change of mac (NULL: it has none any more); its wifi.sta.ip is where it moves. */
void cfgholders_queued(struct cfgholders *h, const char *mac, const struct devconfig *queued);
/* mac is at host now (its queued move was made). */
void cfgholders_moved(struct cfgholders *h, const char *mac, const char *host);
/*
 * Whether want, queued for mac, may be sent: *why (malloc'd) says why not for CFGH_REFUSED
 * and what it waits for with CFGH_WAIT; NULL with CFGH_FREE. A clash with the registry as
 * engine/cfgunique's taken and clash checks find it (the first device in registry order), or
 * a value another device's queued change gives, refuses.
 */
enum cfgholders_verdict cfgholders_check(
    const struct cfgholders *h, const char *mac, const struct devconfig *want, char **why);

#endif
