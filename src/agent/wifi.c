/* Backend selection and argument checks of the agent's radio (see agent/wifi.h). */
#include "agent/wifi.h"

#include "util/str.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct wifi {
	const struct wifi_ops *ops;
	void *b;
	int joined;
};

struct wifi *
wifi_new(const char *spec, char **cause)
{
	static const struct wifi_ops *const all[] = {&wifi_nm_ops, &wifi_test_ops};
	const char *colon = strchr(spec, ':');
	size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		struct wifi *w;
		void *b;

		if (strlen(all[i]->name) != len || strncmp(all[i]->name, spec, len) != 0)
			continue;
		b = all[i]->open(colon != NULL ? colon + 1 : NULL, cause);
		if (b == NULL)
			return NULL;
		w = xcalloc(1, sizeof *w);
		w->ops = all[i];
		w->b = b;
		return w;
	}
	*cause =
	    xasprintf("unknown WiFi backend '%.*s' (nm, nm:IFACE or test:DIR)", (int)len, spec);
	return NULL;
}

void
wifi_free(struct wifi *w)
{
	if (w == NULL)
		return;
	w->ops->close(w->b);
	free(w);
}

int
wifi_scan(struct wifi *w, struct wifi_ap **aps, size_t *n, char **cause)
{
	size_t j = 0;

	if (w->ops->scan(w->b, aps, n, cause) != 0)
		return -1;
	/* Whatever a backend reports, only sane SSIDs go further. */
	for (size_t i = 0; i < *n; i++)
		if (str_ascii_printable((*aps)[i].ssid, 1, 32))
			(*aps)[j++] = (*aps)[i];
	*n = j;
	return 0;
}

int
wifi_join(struct wifi *w, const char *ssid, char **cause)
{
	if (!str_ascii_printable(ssid, 1, 32)) {
		*cause = xstrdup("SSID must be 1-32 printable ASCII characters");
		return -1;
	}
	if (w->ops->join(w->b, ssid, cause) != 0)
		return -1;
	w->joined = 1;
	return 0;
}

int
wifi_leave(struct wifi *w, char **cause)
{
	if (!w->joined)
		return 0;
	w->joined = 0;
	return w->ops->leave(w->b, cause);
}

char *
wifi_current(struct wifi *w)
{
	return w->ops->current(w->b);
}

int
wifi_restore(struct wifi *w, const char *conn, char **cause)
{
	if (!str_ascii_printable(conn, 1, 255)) {
		*cause = xstrdup("connection name must be printable ASCII");
		return -1;
	}
	return w->ops->restore(w->b, conn, cause);
}
