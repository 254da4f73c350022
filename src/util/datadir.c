/* The installed data directory; see util/datadir.h. */
#include "util/datadir.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef SHELLY_TUI_DATADIR
#define SHELLY_TUI_DATADIR "/usr/local/share/shelly-tui"
#endif

const char *
datadir(void)
{
	const char *env = getenv("SHELLY_TUI_DATADIR");

	return env && *env ? env : SHELLY_TUI_DATADIR;
}

int
datadir_path(const char *sub, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s/%s", datadir(), sub, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}
