#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

/*
 * What every engine service works with. The front end (command line, console, server) owns
 * the objects, fills this value type once and keeps it alive longer than every service that
 * was given it. Services read the fields when they need them, so a front end that opens the
 * store later or replaces the configuration (SIGHUP, fleet_reload) changes them here.
 */
struct loop;
struct http;
struct guard;
struct store;
struct conf;
struct creds;

struct engine {
	struct loop *loop; /* the one event loop */
	struct http *http; /* behind the network guard */
	const struct guard *guard;
	struct store *store; /* NULL: no database (actions and probes on HOST only) */
	struct conf *conf; /* the configuration in force */
	struct creds *creds; /* the credential resolver (engine/creds.h) */
};

#endif
