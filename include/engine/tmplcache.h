#ifndef ENGINE_TMPLCACHE_H
#define ENGINE_TMPLCACHE_H

/*
 * Parsed desired configuration kept between recomputations of drift over a fleet: template
 * files keyed by the file's identity (device, inode, modification time, size), and a group's
 * own fields and members keyed by the store's data version. Work is split into passes (one
 * recomputation over every device): a template file is opened and checked at most once per pass,
 * and read and parsed again only when its identity changed, so a pass over 1000 devices of one
 * group touches the disk once for its template.
 */
#include <stddef.h>
#include <stdint.h>

struct devconfig;
struct store;
struct tmplcache;

struct tmplcache *tmplcache_new(void);
void tmplcache_free(struct tmplcache *c);
/*
 * Starts a pass: template files are checked again on their next use; the groups' fields are
 * dropped when store_version (store_data_version) moved since the last pass.
 */
void tmplcache_pass(struct tmplcache *c, int64_t store_version);
/*
 * Template NAME, parsed (owned by the cache; valid until the next pass), or NULL with *cause.
 * A failure is remembered for the pass too.
 */
const struct devconfig *tmplcache_template(struct tmplcache *c, const char *name, char **cause);
/*
 * A group's own fields from the store, parsed (owned by the cache; valid until the next
 * pass): NULL and no *cause when it has none, NULL with *cause when they cannot be parsed.
 */
const struct devconfig *tmplcache_group(
    struct tmplcache *c, struct store *st, const char *group, char **cause);
/*
 * ${index} of mac in group: its position from 1 among the members in MAC order (the order
 * @GROUP expands to), into buf, from the members read once per store version. Returns 1, 0
 * when mac is not a member (buf untouched), or -1 with *cause.
 */
int tmplcache_index(struct tmplcache *c, struct store *st, const char *group, const char *mac,
    char *buf, size_t size, char **cause);
/*
 * 1 when a template file used so far is not the one read (edited, replaced, gone, or now
 * there after a failure): a front end that recomputes only when the store changed checks this
 * (one stat per template) to pick up an edit of a file too. Else 0.
 */
int tmplcache_changed(const struct tmplcache *c);
/* How many times a template file was read and parsed since tmplcache_new (for tests). */
size_t tmplcache_reads(const struct tmplcache *c);

#endif
