#ifndef STORE_STORE_HEALTH_H
#define STORE_STORE_HEALTH_H

/*
 * Private to the store (store.c): the one record of failed database writes behind
 * store_get_health(). Each kind of write (store/store.h, enum store_write) keeps its own mark,
 * the reason and the time of its last failure; the mark goes when a write of the same kind
 * works again (a failed flush keeps its queue and a failed lease write is tried at the next
 * heartbeat; the poller tries its failed settings writes again at its next poll). A settings
 * write nobody repeats (an audit line) would hold its mark forever: a flush that works
 * settle_ms or more after the last failed settings write clears it too.
 */
#include <stdint.h>

#include "store/store.h"

/* A flush that works this long after the last failed settings write clears that mark too. */
#define STORE_HEALTH_SETTLE_MS (10 * 60 * 1000)

struct store_health_marks {
	unsigned failing; /* bit (1u << kind) while that kind's last write failed */
	char *why[STORE_WRITE_KINDS]; /* "<kind> write failed: <reason>" */
	int64_t ms[STORE_WRITE_KINDS];
	uint64_t seq[STORE_WRITE_KINDS], nseq; /* the order of the failures (ms may tie) */
	int64_t settle_ms; /* STORE_HEALTH_SETTLE_MS, or what store_set_health_settle set */
};

/*
 * Records the outcome of a write of kind w: why NULL when it worked, else the reason (copied).
 * Logs once when a kind starts failing and once when it works again (not the flush: its caller
 * logs it with the number of failures).
 */
void store_health_note(struct store_health_marks *m, enum store_write w, const char *why);
/* Fills h from m; h->error points into m. */
void store_health_read(const struct store_health_marks *m, struct store_health *h);
void store_health_done(struct store_health_marks *m);

#endif
