/*
 * libavahi-client through dlopen: see include/discovery/avahi_lib.h for why.
 */
#include "discovery/avahi_lib.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

#include "util/log.h"

#define AVAHI_CLIENT_SO "libavahi-client.so.3"
#define AVAHI_COMMON_SO "libavahi-common.so.3"

/* Where each function is found: the library and its symbol. */
static const struct {
	int common; /* 1: libavahi-common, 0: libavahi-client */
	const char *sym;
	size_t off;
} syms[] = {
	{ 0, "avahi_client_new", offsetof(struct avahi_lib, client_new) },
	{ 0, "avahi_client_free", offsetof(struct avahi_lib, client_free) },
	{ 0, "avahi_client_errno", offsetof(struct avahi_lib, client_errno) },
	{ 1, "avahi_strerror", offsetof(struct avahi_lib, strerror) },
	{ 0, "avahi_service_browser_new", offsetof(struct avahi_lib, browser_new) },
	{ 0, "avahi_service_browser_get_client", offsetof(struct avahi_lib, browser_get_client) },
	{ 0, "avahi_service_resolver_new", offsetof(struct avahi_lib, resolver_new) },
	{ 0, "avahi_service_resolver_get_client",
	    offsetof(struct avahi_lib, resolver_get_client) },
	{ 0, "avahi_service_resolver_free", offsetof(struct avahi_lib, resolver_free) },
	{ 1, "avahi_address_snprint", offsetof(struct avahi_lib, address_snprint) },
	{ 1, "avahi_string_list_get_next", offsetof(struct avahi_lib, string_list_get_next) },
	{ 1, "avahi_string_list_get_text", offsetof(struct avahi_lib, string_list_get_text) },
	{ 1, "avahi_string_list_get_size", offsetof(struct avahi_lib, string_list_get_size) },
};

static struct avahi_lib lib;
static int state; /* 0: not tried, 1: loaded, -1: failed (why below) */
static char failed[256];

static int
load(void)
{
	void *h[2];
	const char *err;

	/* RTLD_LOCAL: its symbols (and its dependencies') stay out of every other lookup. */
	h[0] = dlopen(AVAHI_CLIENT_SO, RTLD_NOW | RTLD_LOCAL);
	h[1] = h[0] != NULL ? dlopen(AVAHI_COMMON_SO, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (h[0] == NULL || h[1] == NULL) {
		err = dlerror();
		snprintf(failed, sizeof failed, "cannot load %s (package libavahi-client3): %s",
		    h[0] == NULL ? AVAHI_CLIENT_SO : AVAHI_COMMON_SO, err != NULL ? err : "?");
		return -1;
	}
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *f = dlsym(h[syms[i].common], syms[i].sym);

		if (f == NULL) {
			snprintf(failed, sizeof failed, "%s has no %s",
			    syms[i].common ? AVAHI_COMMON_SO : AVAHI_CLIENT_SO, syms[i].sym);
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
