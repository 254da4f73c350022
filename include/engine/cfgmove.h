#ifndef ENGINE_CFGMOVE_H
#define ENGINE_CFGMOVE_H

/*
 * A registered device that a configuration change moved to another address (engine/cfgapply
 * saw it there with its MAC, generation and scheme): the registry follows, with an ip_changed
 * event and an audit record, for every front end that applies configuration.
 */
struct store;
struct cfgapply_result;

/*
 * When r says the device moved, stores its new address for mac (same port and scheme), queues
 * the event, audits it as who ("cli", "console", "queue") and flushes. Returns 0 (also when
 * nothing moved or mac is not registered), or -1 with *cause.
 */
int cfgmove_record(struct store *st, const char *mac, const struct cfgapply_result *r,
    const char *who, char **cause);

#endif
