/* The store's record of failed writes (store_health.h). */
#include "store_health.h"

#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "util/xmalloc.h"

static const char *const write_names[STORE_WRITE_KINDS] = {
    [STORE_WRITE_FLUSH] = "flush",
    [STORE_WRITE_LEASE] = "lease",
    [STORE_WRITE_SETTINGS] = "settings",
};

const char *
store_write_name(enum store_write w)
{
	return (unsigned)w < STORE_WRITE_KINDS ? write_names[w] : "?";
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
store_health_note(struct store_health_marks *m, enum store_write w, const char *why)
{
	unsigned bit = 1u << w;

	if (why == NULL) {
		if ((m->failing & bit) && w != STORE_WRITE_FLUSH)
			log_info("store: database writes work again (%s)", store_write_name(w));
		m->failing &= ~bit;
		if (w == STORE_WRITE_FLUSH && (m->failing & (1u << STORE_WRITE_SETTINGS)) &&
		    wall_ms() - m->ms[STORE_WRITE_SETTINGS] >= m->settle_ms) {
			log_info("store: database writes work again (settings: no settings write "
			         "failed for %lld s and the results are written)",
			    (long long)(m->settle_ms / 1000));
			m->failing &= ~(1u << STORE_WRITE_SETTINGS);
		}
		return;
	}
	if (!(m->failing & bit) && w != STORE_WRITE_FLUSH)
		log_error("store: database write failed: %s: %s", store_write_name(w), why);
	free(m->why[w]);
	m->why[w] = xasprintf("%s write failed: %s", store_write_name(w), why);
	m->ms[w] = wall_ms();
	m->seq[w] = ++m->nseq;
	m->failing |= bit;
}

void
store_health_read(const struct store_health_marks *m, struct store_health *h)
{
	h->failing = m->failing;
	h->last = STORE_WRITE_FLUSH;
	h->last_ms = 0;
	h->error = NULL;
	for (int w = 0, newest = -1; w < STORE_WRITE_KINDS; w++) {
		if ((m->failing & (1u << w)) && (newest < 0 || m->seq[w] > m->seq[newest])) {
			newest = w;
			h->last = (enum store_write)w;
			h->last_ms = m->ms[w];
			h->error = m->why[w];
		}
	}
}

void
store_health_done(struct store_health_marks *m)
{
	for (int w = 0; w < STORE_WRITE_KINDS; w++)
		free(m->why[w]);
}
