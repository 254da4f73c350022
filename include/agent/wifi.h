#ifndef AGENT_WIFI_H
#define AGENT_WIFI_H

#include <stddef.h>

/*
 * The agent's radio, behind a small interface: scan for access points, join one (device APs
 * are open), leave it, and name and restore the host's own connection. Backends:
 *   "nm" or "nm:IFACE"  NetworkManager through nmcli, run with an argument list
 *                       (posix_spawnp, never a shell); SSIDs are validated first and no key
 *                       is ever put on a command line (device APs are open; the host's own
 *                       connection is a saved profile brought up by name).
 *   "test:DIR"          for tests without radios: DIR/aps/<SSID> files are the access points
 *                       in range, each holding the path of a network namespace; join enters
 *                       that namespace (setns), leave and restore return to the one the
 *                       agent started in. Every call is appended to DIR/wifi.log.
 * Calls block (a join takes seconds); the agent does nothing else meanwhile.
 */
struct wifi;

struct wifi_ap {
	char ssid[33];
	int signal; /* 0..100, 0 unknown */
};

/* Opens the backend named by spec (see above). Caller frees; NULL with *cause. */
struct wifi *wifi_new(const char *spec, char **cause);
void wifi_free(struct wifi *w);
/* The access points in range (*aps malloc'd, caller frees). */
int wifi_scan(struct wifi *w, struct wifi_ap **aps, size_t *n, char **cause);
/* Joins the open network ssid (validated: 1-32 printable ASCII). */
int wifi_join(struct wifi *w, const char *ssid, char **cause);
/* Leaves the network joined by wifi_join (nothing joined: 0). */
int wifi_leave(struct wifi *w, char **cause);
/* The host's own connection to restore later (caller frees), or NULL when there is none. */
char *wifi_current(struct wifi *w);
/* Brings the host's own connection conn back up. */
int wifi_restore(struct wifi *w, const char *conn, char **cause);

/* The backend interface (for wifi.c and its backends only). */
struct wifi_ops {
	const char *name;
	void *(*open)(const char *arg, char **cause);
	void (*close)(void *b);
	int (*scan)(void *b, struct wifi_ap **aps, size_t *n, char **cause);
	int (*join)(void *b, const char *ssid, char **cause);
	int (*leave)(void *b, char **cause);
	char *(*current)(void *b);
	int (*restore)(void *b, const char *conn, char **cause);
};
extern const struct wifi_ops wifi_nm_ops;
extern const struct wifi_ops wifi_test_ops;

#endif
