#ifndef ENGINE_STANDBYVIEW_H
#define ENGINE_STANDBYVIEW_H

/*
 * What a standing-by fleet shows: every device as the leader last wrote it to the store
 * (registry row, state, error, the readings of its stored reply), read again only when the
 * store changed since the last read (store_data_version, which every commit of any connection
 * moves), and parsed once per read. A /metrics page walks the devices once per family: it
 * reads the store at most once, however many families it has, and a page whose store did not
 * change since the last one reads nothing.
 */
#include <stddef.h>

#include "engine/fleet.h"

struct store;
struct standbyview;

/* A view over store (borrowed; must outlive it), nothing read yet. Caller frees. */
struct standbyview *standbyview_new(struct store *store);
void standbyview_free(struct standbyview *sv);
/*
 * Reads the store again when it changed since the last read (or was never read). Returns 0, or
 * -1 when the read failed: the last good read stays and standbyview_error says why.
 */
int standbyview_refresh(struct standbyview *sv);
/* Forgets what was read: the next refresh reads (after this process led). */
void standbyview_clear(struct standbyview *sv);
/* Refreshes, then calls cb for every device of the last good read, ordered by MAC. */
void standbyview_foreach(struct standbyview *sv, fleet_view_cb cb, void *arg);
/*
 * Fills the device counts of t (devices, by_state, unknown, attempted) from the last good read,
 * without reading; returns 0, or -1 (t untouched) when nothing was read yet.
 */
int standbyview_counts(const struct standbyview *sv, struct fleet_totals *t);
/* Why the last read failed (owned by sv), or NULL when it worked. */
const char *standbyview_error(const struct standbyview *sv);

#endif
