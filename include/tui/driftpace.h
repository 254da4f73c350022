#ifndef TUI_DRIFTPACE_H
#define TUI_DRIFTPACE_H

#include <stdint.h>

/*
 * How often the console's DRIFT column is recomputed: at most once per DRIFTPACE_MIN_MS and
 * never more often than DRIFTPACE_COST_FACTOR times what the last one took (a large fleet
 * spends at most about 5 % of a core on it), yet at least once per DRIFTPACE_MAX_MS: one slow
 * recomputation never leaves the column stale for minutes. A recomputation that ran while the
 * database failed (a lock slows its reads) says nothing of the cost and sets no delay.
 */
#define DRIFTPACE_MIN_MS 2000
#define DRIFTPACE_MAX_MS 5000
#define DRIFTPACE_COST_FACTOR 20

struct driftpace {
	int64_t took_ms; /* the last recomputation that counts */
};

/* The time to wait after a recomputation before the next one, in ms. */
int64_t driftpace_wait(const struct driftpace *p);
/* A recomputation took took_ms; healthy is 0 when the database failed meanwhile. */
void driftpace_took(struct driftpace *p, int64_t took_ms, int healthy);

#endif
