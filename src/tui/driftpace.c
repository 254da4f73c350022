/* The pace of the DRIFT column's recomputation (see tui/driftpace.h). */
#include "tui/driftpace.h"

int64_t
driftpace_wait(const struct driftpace *p)
{
	/* (compared before the product: a took_ms of any size cannot overflow it) */
	int64_t gap = p->took_ms >= DRIFTPACE_MAX_MS / DRIFTPACE_COST_FACTOR
	                  ? DRIFTPACE_MAX_MS
	                  : DRIFTPACE_COST_FACTOR * p->took_ms;

	return gap < DRIFTPACE_MIN_MS ? DRIFTPACE_MIN_MS : gap;
}

void
driftpace_took(struct driftpace *p, int64_t took_ms, int healthy)
{
	if (healthy)
		p->took_ms = took_ms < 0 ? 0 : took_ms;
}
