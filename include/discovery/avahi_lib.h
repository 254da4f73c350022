#ifndef DISCOVERY_AVAHI_LIB_H
#define DISCOVERY_AVAHI_LIB_H

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>

/*
 * libavahi-client, loaded when mDNS is first used instead of at every start.
 *
 * Linking it pulls nine libraries into every process (avahi-client, avahi-common, dbus,
 * systemd, gcrypt, gpg-error, lzma, lz4, cap): loading and relocating them was about 0.7 ms
 * of every run, a third of the start-up `--poll-once` spends beyond curl's, for a feature that
 * only discovery and the console's scan use. The functions mdns.c calls are looked up once;
 * the types and constants still come from the -dev headers.
 */
struct avahi_lib {
	__typeof__(avahi_client_new) *client_new;
	__typeof__(avahi_client_free) *client_free;
	__typeof__(avahi_client_errno) *client_errno;
	__typeof__(avahi_strerror) *strerror;
	__typeof__(avahi_service_browser_new) *browser_new;
	__typeof__(avahi_service_browser_get_client) *browser_get_client;
	__typeof__(avahi_service_resolver_new) *resolver_new;
	__typeof__(avahi_service_resolver_get_client) *resolver_get_client;
	__typeof__(avahi_service_resolver_free) *resolver_free;
	__typeof__(avahi_address_snprint) *address_snprint;
	__typeof__(avahi_string_list_get_next) *string_list_get_next;
	__typeof__(avahi_string_list_get_text) *string_list_get_text;
	__typeof__(avahi_string_list_get_size) *string_list_get_size;
};

/*
 * The library's functions, loaded on the first call (libavahi-client.so.3, which brings
 * libavahi-common.so.3; kept for the life of the process). NULL when they cannot be loaded;
 * *why then says why (static text, the same on every later call).
 */
const struct avahi_lib *avahi_lib_get(const char **why);

#endif
