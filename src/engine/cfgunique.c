/* Fields that must differ per device, checked before anything is sent (engine/cfgunique.h). */
#include "engine/cfgunique.h"

#include <string.h>

#include "util/xmalloc.h"

static const enum devconfig_field unique_fields[] = {
    DCFG_WIFI_STA_IP, DCFG_MQTT_CLIENT_ID, DCFG_MQTT_TOPIC_PREFIX};
#define NUNIQUE (sizeof unique_fields / sizeof unique_fields[0])

const enum devconfig_field *
cfgunique_fields(size_t *n)
{
	*n = NUNIQUE;
	return unique_fields;
}

const char *
cfgunique_value(const struct devconfig *c, enum devconfig_field f)
{
	const struct devconfig_entry *e = c != NULL ? devconfig_get(c, f, -1) : NULL;

	if (e == NULL || e->state != DEVCONFIG_VALUE || e->value[0] == '\0')
		return NULL;
	return e->value;
}

/* How many devices of the run other than i the run gives value v of field f too. */
static size_t
sharing(const struct devconfig *const *desired, size_t n, size_t i, enum devconfig_field f,
    const char *v)
{
	size_t k, shared = 0;

	for (k = 0; k < n; k++) {
		const char *ov = k != i ? cfgunique_value(desired[k], f) : NULL;
		shared += ov != NULL && strcmp(ov, v) == 0;
	}
	return shared;
}

size_t
cfgunique_check(const struct devconfig *const *desired, size_t n, char **reasons)
{
	char name[96];
	size_t refused = 0;

	for (size_t i = 0; i < n; i++) {
		reasons[i] = NULL;
		for (size_t f = 0; reasons[i] == NULL && f < NUNIQUE; f++) {
			const char *v = cfgunique_value(desired[i], unique_fields[f]);
			size_t shared = v != NULL ? sharing(desired, n, i, unique_fields[f], v) : 0;
			if (shared == 0)
				continue;
			reasons[i] = xasprintf(
			    "%s: %s would be given to %zu devices of this run (it must differ per "
			    "device: use a variable such as ${index} in a template, or set it per "
			    "device); nothing sent",
			    devconfig_name(unique_fields[f], -1, name, sizeof name), v, shared + 1);
			refused++;
		}
	}
	return refused;
}

char *
cfgunique_clash_reason(enum devconfig_field f, const char *v, const char *whose, const char *label)
{
	char name[96];

	return xasprintf("%s: %s is the %s value of another registered device (%s); it must "
	                 "differ per device; nothing sent",
	    devconfig_name(f, -1, name, sizeof name), v, whose, label);
}

char *
cfgunique_clash(const struct devconfig *want, const struct devconfig *other, const char *label)
{
	for (size_t f = 0; f < NUNIQUE; f++) {
		const char *v = cfgunique_value(want, unique_fields[f]);
		const char *ov = cfgunique_value(other, unique_fields[f]);
		if (v != NULL && ov != NULL && strcmp(v, ov) == 0)
			return cfgunique_clash_reason(unique_fields[f], v, "desired", label);
	}
	return NULL;
}

char *
cfgunique_taken_reason(const char *addr, const char *label)
{
	return xasprintf("wifi.sta.ip: %s is the current address of another registered device "
	                 "(%s); nothing sent",
	    addr, label);
}

char *
cfgunique_taken(const struct devconfig *want, const char *host, const char *label)
{
	const char *v = cfgunique_value(want, DCFG_WIFI_STA_IP);

	if (v == NULL || host == NULL || strcmp(v, host) != 0)
		return NULL;
	return cfgunique_taken_reason(v, label);
}
