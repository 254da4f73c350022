#ifndef ENGINE_CFGGROUP_H
#define ENGINE_CFGGROUP_H

/*
 * A group's own fields and template are every member's: a field that must differ per device
 * (engine/cfgunique) may hold a fixed value only while the group has one member, or each
 * member applied on its own (no other device in its run to compare with) would get it.
 */
#include <stddef.h>

#include "model/devconfig.h"
#include "store/store.h"

/*
 * The reason (malloc'd, "FIELD: every member would get the same value ...") when c gives a
 * field that must differ per device a value without a per-device variable, else NULL.
 */
char *cfggroup_fixed(const struct devconfig *c);

/* How many members group g has once the n devices macs are added (each counted once); 2 when
 * the members cannot be read (as many as may clash). */
size_t cfggroup_members_after(struct store *s, const char *g, const char *const *macs, size_t n);

/*
 * The reason (malloc'd) adding the n devices macs to group g must be refused: g would have two
 * members or more while its own fields or template give a fixed value cfggroup_fixed names.
 * NULL when they may be added.
 */
char *cfggroup_add_refusal(struct store *s, const char *g, const char *const *macs, size_t n);

#endif
