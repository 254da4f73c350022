/* The registry follows a device that a configuration change re-addressed (engine/cfgmove.h). */
#include "engine/cfgmove.h"

#include <stdio.h>
#include <string.h>

#include "engine/cfgapply.h"
#include "engine/devevent.h"
#include "store/store.h"
#include "util/loop.h"

int
cfgmove_record(struct store *st, const char *mac, const struct cfgapply_result *r, const char *who,
    char **cause)
{
	struct store_device *reg, up;
	char detail[600];

	if (st == NULL || mac == NULL || r->moved_to == NULL ||
	    (reg = store_device_find_mac(st, mac)) == NULL)
		return 0;
	snprintf(detail, sizeof detail, "%s:%d -> %s:%d (static address set)",
	    reg->host != NULL ? reg->host : r->moved_from, reg->port, r->moved_to, reg->port);
	memset(&up, 0, sizeof up);
	memcpy(up.mac, reg->mac, sizeof up.mac);
	up.host = r->moved_to;
	store_device_free(reg);
	if (store_device_update(st, &up, cause) != 0 || /* one removed meanwhile stays removed */
	    devevent_record(
	        st, up.mac, "ip_changed", detail, who, "readdress", loop_wall_ms(), cause) != 0)
		return -1;
	return store_flush(st, cause);
}
