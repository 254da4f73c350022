#ifndef ENGINE_CFGSYNC_H
#define ENGINE_CFGSYNC_H

/*
 * Registers the configuration's `device NAME HOST[:PORT]` lines: an address the registry knows
 * gets the configured name at once; an unknown one is identified in the background (GET
 * /shelly, merged by MAC like any discovery, then named). A device that does not answer is
 * logged and tried again at the next start or reload.
 */
struct engine;
struct cfgsync;

/*
 * Starts the work; done_cb(arg) runs from the loop when the registry is updated. Returns NULL
 * (and never calls done_cb) when nothing was missing. Caller frees.
 */
struct cfgsync *cfgsync_start(struct engine *eng, void (*done_cb)(void *), void *arg);
/* Stops the work (a run in flight is dropped) and frees cs (NULL is fine). */
void cfgsync_free(struct cfgsync *cs);

#endif
