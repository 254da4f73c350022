/* The name a device gives itself, followed where the registry name was the device's. */
#include "engine/devname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/devevent.h"
#include "store/store.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define DEVNAME_MAX 128 /* bytes kept of a reported name */

/* The setting key prefix of mac: DEVNAME_PREFIX or DEVNAME_CLEARED_PREFIX. */
static void
key_of(char *key, size_t size, const char *prefix, const char *mac)
{
	snprintf(key, size, "%s%s", prefix, mac);
}

char *
devname_reported(struct store *st, const char *mac)
{
	char key[64];

	key_of(key, sizeof key, DEVNAME_PREFIX, mac);
	return store_setting_get(st, key);
}

/*
 * Keeps name under prefix (the reported name, or the one before it was cleared). A failed
 * write is the store's health (logged there once); here only at debug level.
 */
static int
keep_as(struct store *st, const char *prefix, const char *mac, const char *name)
{
	char key[64], *cause = NULL;

	key_of(key, sizeof key, prefix, mac);
	if (store_setting_set(st, key, name, &cause) != 0) {
		log_debug("%s: %s not kept: %s", mac, prefix, cause);
		free(cause);
		return -1;
	}
	return 0;
}

static int
keep(struct store *st, const char *mac, const char *name)
{
	return keep_as(st, DEVNAME_PREFIX, mac, name);
}

void
devname_remember(struct store *st, const char *mac, const char *reported)
{
	char *name;

	if (reported == NULL || reported[0] == '\0')
		return;
	name = str_sanitize(reported, DEVNAME_MAX);
	(void)keep(st, mac, name);
	free(name);
}

void
devname_forget(struct store *st, const char *mac)
{
	char key[64];

	key_of(key, sizeof key, DEVNAME_PREFIX, mac);
	store_setting_set(st, key, NULL, NULL);
	key_of(key, sizeof key, DEVNAME_CLEARED_PREFIX, mac);
	store_setting_set(st, key, NULL, NULL);
}

/*
 * The device's own name before now: the name it reported before, or, when that was "", the
 * one it reported before it cleared its name (kept then). NULL none (caller frees).
 */
static char *
own_before(struct store *st, const char *mac, char *before)
{
	char key[64];

	if (before == NULL || before[0] != '\0')
		return before != NULL ? xstrdup(before) : NULL;
	key_of(key, sizeof key, DEVNAME_CLEARED_PREFIX, mac);
	return store_setting_get(st, key);
}

/* A device that clears its own name: the name it had stays its own (a write failed: -1). */
static int
keep_cleared(struct store *st, const char *mac, const char *before, const char *now)
{
	if (now[0] != '\0' || before == NULL || before[0] == '\0')
		return 0;
	return keep_as(st, DEVNAME_CLEARED_PREFIX, mac, before);
}

/* Stores name as mac's registry name. */
static int
follow(struct store *st, const char *mac, const char *name)
{
	struct store_device sd;
	char *cause = NULL;

	memset(&sd, 0, sizeof sd);
	str_copy(sd.mac, sizeof sd.mac, mac);
	sd.name = name;
	if (store_device_update(st, &sd, &cause) != 0) {
		log_debug("%s: name not stored: %s", mac, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/*
 * The registry follows first, then the reported name is kept, then the event: a write that
 * fails leaves the reported name as it was, so the next observation does the rest, and the
 * event is recorded once. A registry name that already is the new name (followed by an
 * observation whose keep failed) counts as following.
 */
int
devname_observe(struct store *st, const char *mac, const char *registry_name,
    const char *reported, char **followed)
{
	char *now = str_sanitize(reported != NULL ? reported : "", DEVNAME_MAX);
	char *before = devname_reported(st, mac), *reg, *own_name;
	char detail[2 * DEVNAME_MAX + 32];
	int own, rc = 0;

	*followed = NULL;
	if (before != NULL && strcmp(before, now) == 0)
		goto out; /* unchanged: the common case */
	/* Compared as kept: a name registered from the device went in unsanitised. */
	reg = str_sanitize(registry_name, DEVNAME_MAX);
	own_name = own_before(st, mac, before);
	own = now[0] != '\0' && (reg[0] == '\0' || strcmp(reg, now) == 0 ||
	                            (own_name != NULL && strcmp(reg, own_name) == 0));
	free(own_name);
	if (own && strcmp(reg, now) != 0) {
		if (follow(st, mac, now) != 0)
			rc = -1;
		else
			*followed = xstrdup(now);
	}
	free(reg);
	if (rc != 0 || keep_cleared(st, mac, before, now) != 0 || keep(st, mac, now) != 0) {
		rc = -1;
		goto out;
	}
	if (before != NULL) {
		snprintf(detail, sizeof detail, "'%s' -> '%s'%s", before, now,
		    own ? ", registry follows" : "");
		devevent_record(st, mac, "device_name_changed", detail, "device",
		    own ? "rename" : NULL, loop_wall_ms(), NULL);
	}
out:
	free(before);
	free(now);
	return rc;
}
