#ifndef UTIL_DATADIR_H
#define UTIL_DATADIR_H

#include <stddef.h>

/*
 * Where the installed, read-only data lives (themes under themes/): $(PREFIX)/share/shelly-tui,
 * compiled in by the Makefile as SHELLY_TUI_DATADIR. The environment variable of the same name
 * overrides it (an uninstalled tree, a relocated install). Nothing there is required: every
 * caller has a compiled-in default for what it looks up.
 */

/* The data directory: the environment's SHELLY_TUI_DATADIR when set and not empty, else the
 * compiled-in one. Never NULL. */
const char *datadir(void);

/* Writes "<datadir>/<sub>/<name>" into out. Returns 0, or -1 when it does not fit in size. */
int datadir_path(const char *sub, const char *name, char *out, size_t size);

#endif
