/*
 * A static IPv4 address set on the station (Gen1 /settings/sta ipv4_method=static&ip=...,
 * Gen2+ WiFi.SetConfig sta.ipv4mode "static" with sta.ip) moves the device there after its
 * reply, as a real device reconnects with its new address. Only an address of the device's own
 * /24 that the pool can hold is taken (tests stay inside the network they were given); any
 * other address is stored in the configuration and the device stays where it is.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define STATICIP_DELAY_MS 300 /* the reply goes out before the device moves */

static void
move_cb(void *arg)
{
	struct dev *d = arg;
	char *cause = NULL, ip[16];

	addr_str(d->ip_next, ip);
	if (dev_move_to(d, d->ip_next, false, &cause) < 0) { /* the device keeps its key */
		log_error("device %s: static address %s not taken: %s", d->id, ip, cause);
		free(cause);
		return;
	}
	log_info("device %s: static address set: now at %s", d->id, ip);
}

void
staticip_check(struct dev *d, const cJSON *sta, const char *mode_key)
{
	const char *mode = js_str(sta, mode_key), *ip = js_str(sta, "ip");
	uint32_t addr;

	if (mode == NULL || strcmp(mode, "static") != 0 || ip == NULL ||
	    addr_parse(ip, &addr) < 0 || addr == d->addr || (addr >> 8) != (d->addr >> 8) ||
	    d->sim->pool_has_wildcard || d->sim->ap != NULL)
		return;
	if (d->ip_timer == NULL)
		d->ip_timer = loop_timer_new(d->sim->loop, move_cb, d);
	d->ip_next = addr;
	loop_timer_arm(d->ip_timer, STATICIP_DELAY_MS);
}
