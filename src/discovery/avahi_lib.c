/*
 * libavahi-client through dlopen: see include/discovery/avahi_lib.h for why.
 */
#include "discovery/avahi_lib.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

#include "util/log.h"

#define AVAHI_CLIENT_SO "libavahi-client.so.3"

/* Each function's symbol; libavahi-common's come through the client's handle (dlsym searches
 * a handle's dependencies too). */
static const struct {
	const char *sym;
	size_t off;
} syms[] = {
    {"avahi_client_new", offsetof(struct avahi_lib, client_new)},
    {"avahi_client_free", offsetof(struct avahi_lib, client_free)},
    {"avahi_client_errno", offsetof(struct avahi_lib, client_errno)},
    {"avahi_strerror", offsetof(struct avahi_lib, strerror)},
    {"avahi_service_browser_new", offsetof(struct avahi_lib, browser_new)},
    {"avahi_service_browser_get_client", offsetof(struct avahi_lib, browser_get_client)},
    {"avahi_service_resolver_new", offsetof(struct avahi_lib, resolver_new)},
    {"avahi_service_resolver_get_client", offsetof(struct avahi_lib, resolver_get_client)},
    {"avahi_service_resolver_free", offsetof(struct avahi_lib, resolver_free)},
    {"avahi_address_snprint", offsetof(struct avahi_lib, address_snprint)},
    {"avahi_string_list_get_next", offsetof(struct avahi_lib, string_list_get_next)},
    {"avahi_string_list_get_text", offsetof(struct avahi_lib, string_list_get_text)},
    {"avahi_string_list_get_size", offsetof(struct avahi_lib, string_list_get_size)},
};

static struct avahi_lib lib;
static int state; /* 0: not tried, 1: loaded, -1: failed (why below) */
static char failed[256];

static int
load(void)
{
	/* RTLD_LOCAL: its symbols (and its dependencies') stay out of every other lookup. */
	void *h = dlopen(AVAHI_CLIENT_SO, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		const char *err = dlerror();

		snprintf(failed, sizeof failed, "cannot load %s (package libavahi-client3): %s",
		    AVAHI_CLIENT_SO, err != NULL ? err : "?");
		return -1;
	}
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *f = dlsym(h, syms[i].sym);

		if (f == NULL) {
			snprintf(
			    failed, sizeof failed, "%s has no %s", AVAHI_CLIENT_SO, syms[i].sym);
			dlclose(h);
			return -1;
		}
		/* POSIX guarantees that a dlsym result converts to a function pointer. */
		*(void **)((char *)&lib + syms[i].off) = f;
	}
	return 0;
}

const struct avahi_lib *
avahi_lib_get(const char **why)
{
	if (state == 0) {
		state = load() == 0 ? 1 : -1;
		if (state < 0)
			log_debug("mDNS: %s", failed);
	}
	if (state < 0) {
		if (why != NULL)
			*why = failed;
		return NULL;
	}
	return &lib;
}
