#ifndef STORE_CFGRESTORE_H
#define STORE_CFGRESTORE_H

/*
 * The configuration part of a restore (exchange/import): a plan of store steps built from a
 * validated document and run by store_import() inside its one transaction (struct
 * store_import's cfg, ncfg). Strings are borrowed: they must outlive the plan's use.
 *
 * With replace the plan first deletes every group (with its members) and every desired
 * configuration; snapshots are history and stay. A restored snapshot without a time is added
 * unless the device's latest snapshot has the same body; one with its time (cfgrestore_history,
 * given oldest first) unless the device has a newer snapshot or one of the same time and body,
 * so the store's order stays the order of time and importing one file twice adds nothing.
 */
#include <stddef.h>
#include <stdint.h>

struct store_cfg_step;
struct cfgrestore;

struct cfgrestore *cfgrestore_new(int replace);
void cfgrestore_free(struct cfgrestore *r);

/* A group: its template (NULL: none) and members (MACs of devices of the import). */
void cfgrestore_group(
    struct cfgrestore *r, const char *name, const char *tmpl, const char *const *macs, size_t n);
void cfgrestore_desired(struct cfgrestore *r, const char *mac, const char *body);
void cfgrestore_snapshot(struct cfgrestore *r, const char *mac, int64_t ts_ms, int gen, int has_rev,
    double rev, const char *reason, const char *body);
/* A snapshot with its time, from a history: call oldest first. */
void cfgrestore_history(struct cfgrestore *r, const char *mac, int64_t ts_ms, int gen, int has_rev,
    double rev, const char *reason, const char *body);

/* The steps so far (valid until the next call on r). */
const struct store_cfg_step *cfgrestore_steps(const struct cfgrestore *r, size_t *n);

#endif
