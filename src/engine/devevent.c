/* A device's event and audit record, written alike by every engine service (engine/devevent.h). */
#include "engine/devevent.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"

int
devevent_record(struct store *st, const char *mac, const char *kind, const char *detail,
    const char *who, const char *action, int64_t now_ms, char **cause)
{
	struct store_event ev;
	struct store_audit au;

	if (kind != NULL) {
		memset(&ev, 0, sizeof ev);
		ev.ts_ms = now_ms;
		snprintf(ev.mac, sizeof ev.mac, "%s", mac);
		ev.kind = kind;
		ev.detail = detail;
		store_queue_event(st, &ev);
	}
	if (action == NULL)
		return 0;
	memset(&au, 0, sizeof au);
	au.ts_ms = now_ms;
	au.who = who;
	au.action = action;
	au.target = mac;
	au.result = "ok";
	au.detail = detail;
	return store_audit_append(st, &au, cause);
}
