#ifndef ENGINE_CFGUNIQUE_H
#define ENGINE_CFGUNIQUE_H

/*
 * Fields whose value must differ from device to device (a static address, an MQTT client id,
 * an MQTT topic prefix), checked before anything is sent, by every front end: a template, a
 * group's fields or one value given to several devices would otherwise put two devices on
 * one address, or make a broker drop one of two sessions of one name. Values are compared as
 * written: MQTT client ids and topics are case-sensitive ("Lamp" and "lamp" are two), and an
 * address is kept in one canonical form. An empty value is no clash.
 */
#include <stdbool.h>
#include <stddef.h>

#include "model/devconfig.h"

/* The fields that must differ per device, *n of them. */
const enum devconfig_field *cfgunique_fields(size_t *n);

/* The value c (may be NULL) gives field f, or NULL when none, a secret or an empty one (which
 * is no clash). */
const char *cfgunique_value(const struct devconfig *c, enum devconfig_field f);

/*
 * The devices of one run, desired[i] each one's desired configuration (NULL: not part of the
 * run, say the same device named twice). reasons[i] is set to a sentence (malloc'd) for every
 * device the run would give the value of such a field another device of the run gets too,
 * else NULL. Returns how many are refused.
 */
size_t cfgunique_check(const struct devconfig *const *desired, size_t n, char **reasons);

/*
 * The reason (malloc'd) that value v of field f is the value another registered device
 * (label) has too: whose says which of its values ("desired", "queued").
 */
char *cfgunique_clash_reason(
    enum devconfig_field f, const char *v, const char *whose, const char *label);
/* The reason (malloc'd) that static address addr is where the device label is now. */
char *cfgunique_taken_reason(const char *addr, const char *label);

/*
 * A reason (malloc'd) when want gives a field that must differ per device the value other
 * (another registered device's desired configuration) gives it, else NULL. label names the
 * other device (sanitised by the caller).
 */
char *cfgunique_clash(
    const struct devconfig *want, const struct devconfig *other, const char *label);

/*
 * A reason (malloc'd) when want gives the device a static address (wifi.sta.ip) that is host,
 * the current address of another registered device named label, else NULL.
 */
char *cfgunique_taken(const struct devconfig *want, const char *host, const char *label);

#endif
