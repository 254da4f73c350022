#ifndef ENGINE_DEVEVENT_H
#define ENGINE_DEVEVENT_H

#include <stdint.h>

/*
 * What happened to one registered device, written the one way every engine service writes it:
 * an event in the store's queue (written with the next flush) and an audit record.
 */
struct store;

/*
 * For the device mac at now_ms: queues an event of kind with detail (no event when kind is
 * NULL) and appends an audit record of action by who, result "ok", target mac and the same
 * detail (no record when action is NULL). detail may be NULL. Returns 0, or -1 with *cause
 * (cause may be NULL) when the audit record could not be written.
 */
int devevent_record(struct store *st, const char *mac, const char *kind, const char *detail,
    const char *who, const char *action, int64_t now_ms, char **cause);

#endif
