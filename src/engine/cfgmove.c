/* The registry follows a device that a configuration change re-addressed (engine/cfgmove.h). */
#include "engine/cfgmove.h"

#include <stdio.h>
#include <string.h>

#include "engine/cfgapply.h"
#include "store/store.h"
#include "util/loop.h"

int
cfgmove_record(struct store *st, const char *mac, const struct cfgapply_result *r, const char *who,
    char **cause)
{
	struct store_device *reg, up;
	struct store_event ev;
	struct store_audit au;
	char detail[600];
	int64_t now = loop_wall_ms();
	int rc;

	if (st == NULL || mac == NULL || r->moved_to == NULL ||
	    (reg = store_device_find_mac(st, mac)) == NULL)
		return 0;
	snprintf(detail, sizeof detail, "%s:%d -> %s:%d (static address set)",
	    reg->host != NULL ? reg->host : r->moved_from, reg->port, r->moved_to, reg->port);
	memset(&up, 0, sizeof up);
	memcpy(up.mac, reg->mac, sizeof up.mac);
	up.host = r->moved_to;
	store_device_free(reg);
	if (store_device_upsert(st, &up, cause) != 0)
		return -1;
	memset(&ev, 0, sizeof ev);
	ev.ts_ms = now;
	memcpy(ev.mac, up.mac, sizeof ev.mac);
	ev.kind = "ip_changed";
	ev.detail = detail;
	store_queue_event(st, &ev);
	memset(&au, 0, sizeof au);
	au.ts_ms = now;
	au.who = who;
	au.action = "readdress";
	au.target = up.mac;
	au.result = "ok";
	au.detail = detail;
	rc = store_audit_append(st, &au, cause);
	if (rc == 0)
		rc = store_flush(st, cause);
	return rc;
}
