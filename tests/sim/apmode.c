/*
 * AP mode (--ap-network): every device is factory-fresh, serving its API on its AP (the
 * sim's own network namespace, usually at 192.168.33.1 there) and announcing its access
 * point as a file <--ap-beacon-dir>/<SSID> that holds the path of that namespace (what the
 * agent's test radio joins). A station configuration with the right network and key makes the
 * device leave AP mode after its reply: the beacon goes, and the device reappears at
 * --ap-home (+ its index) inside the namespace --ap-home-netns (the "home network"). A wrong
 * key or another network leaves it in AP mode, as a real device falls back to its AP.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define AP_LEAVE_DELAY_MS 300 /* the reply goes out before the device leaves its AP */

struct sim_ap {
	char *network;
	char *key; /* "" for an open network */
	uint32_t home;
	int home_fd; /* -1: same namespace */
	int own_fd;
	char *beacon_dir;
};

/* The device's access point name: Gen1 its host name, Gen2+ Shelly<App>-<MAC>. */
static void
ssid_of(const struct dev *d, char *out, size_t size)
{
	if (d->gen == 1)
		snprintf(out, size, "%s", d->id);
	else
		snprintf(out, size, "Shelly%s-%s", d->fx->app ? d->fx->app : "", d->mac);
}

static char *
beacon_path(const struct sim *sim, const struct dev *d)
{
	char ssid[128];

	ssid_of(d, ssid, sizeof ssid);
	return xasprintf("%s/%s", sim->ap->beacon_dir, ssid);
}

int
apmode_init(struct sim *sim, char **cause)
{
	struct sim_ap *ap;
	size_t len;
	char *key;

	if (sim->o.ap_network == NULL)
		return 0;
	if (sim->o.ap_home == NULL || sim->o.ap_beacon_dir == NULL) {
		*cause = xstrdup("--ap-network needs --ap-home and --ap-beacon-dir");
		return -1;
	}
	ap = xcalloc(1, sizeof *ap);
	ap->home_fd = -1;
	ap->own_fd = -1;
	sim->ap = ap;
	ap->network = xstrdup(sim->o.ap_network);
	ap->beacon_dir = xstrdup(sim->o.ap_beacon_dir);
	if (addr_parse(sim->o.ap_home, &ap->home) < 0) {
		*cause = xasprintf("--ap-home %s: not an IPv4 address", sim->o.ap_home);
		return -1;
	}
	key = sim->o.ap_key_file ? read_file(sim->o.ap_key_file, &len, cause) : xstrdup("");
	if (key == NULL)
		return -1;
	key[strcspn(key, "\r\n")] = '\0';
	ap->key = key;
	if (sim->o.ap_home_netns != NULL) {
		ap->home_fd = open(sim->o.ap_home_netns, O_RDONLY | O_CLOEXEC);
		ap->own_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (ap->home_fd < 0 || ap->own_fd < 0) {
			*cause = xasprintf(
			    "--ap-home-netns %s: %s", sim->o.ap_home_netns, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void
apmode_start(struct sim *sim)
{
	char *ns;

	if (sim->ap == NULL)
		return;
	ns = xasprintf("/proc/%ld/ns/net", (long)getpid());
	for (size_t i = 0; i < sim->ndevs; i++) {
		char *path = beacon_path(sim, sim->devs[i]);
		FILE *fp = fopen(path, "w");

		if (fp == NULL)
			log_error("beacon %s: %s", path, strerror(errno));
		else {
			fprintf(fp, "%s\n", ns);
			fclose(fp);
		}
		free(path);
	}
	free(ns);
}

void
apmode_done(struct sim *sim)
{
	struct sim_ap *ap = sim->ap;

	if (ap == NULL)
		return;
	for (size_t i = 0; i < sim->ndevs; i++) {
		char *path = beacon_path(sim, sim->devs[i]);

		if (!sim->devs[i]->ap_home)
			unlink(path);
		free(path);
		loop_timer_free(sim->devs[i]->ap_timer);
		sim->devs[i]->ap_timer = NULL;
	}
	if (ap->home_fd >= 0)
		close(ap->home_fd);
	if (ap->own_fd >= 0)
		close(ap->own_fd);
	free(ap->network);
	free(ap->key);
	free(ap->beacon_dir);
	free(ap);
	sim->ap = NULL;
}

static void
leave_ap_cb(void *arg)
{
	struct dev *d = arg;
	char *path = beacon_path(d->sim, d), ip[16];

	unlink(path);
	free(path);
	d->ap_home = true;
	d->addr = d->sim->ap->home + (uint32_t)d->index;
	addr_str(d->addr, ip);
	log_info("device %s left AP mode: now at %s on the home network", d->id, ip);
	dev_net_later(d);
}

/*
 * A station configuration arrived: join the home network if it is the right one. A wrong one
 * that came with the AP turned off (Gen2+ "ap":{"enable":false} in the same WiFi.SetConfig)
 * strands the device: no AP, no network (its beacon goes; a factory reset would bring it back).
 */
static void
apmode_sta(struct dev *d, const char *ssid, const char *key, bool ap_off)
{
	struct sim_ap *ap = d->sim->ap;

	if (ap == NULL || d->ap_home)
		return;
	if (ssid == NULL || strcmp(ssid, ap->network) != 0 || key == NULL ||
	    strcmp(key, ap->key) != 0) {
		if (ap_off) {
			char *path = beacon_path(d->sim, d);

			unlink(path);
			free(path);
			log_info(
			    "device %s: station network or key wrong and AP off: stranded", d->id);
			return;
		}
		log_info("device %s: station network or key wrong, staying in AP mode", d->id);
		return;
	}
	d->sta_drop = d->sim->o.ap_sta_drop;
	if (d->ap_timer == NULL)
		d->ap_timer = loop_timer_new(d->sim->loop, leave_ap_cb, d);
	loop_timer_arm(d->ap_timer, AP_LEAVE_DELAY_MS);
}

void
apmode_gen1_sta(struct dev *d, struct sim_req *req)
{
	const char *enabled = req_arg(req, "enabled"), *key = req_arg(req, "key");

	if (enabled != NULL && (strcmp(enabled, "1") == 0 || strcmp(enabled, "true") == 0))
		apmode_sta(d, req_arg(req, "ssid"), key != NULL ? key : "", false);
}

void
apmode_gen2_wifi(struct dev *d, const cJSON *config)
{
	const cJSON *sta = cJSON_GetObjectItemCaseSensitive(config, "sta");
	const cJSON *ssid = cJSON_GetObjectItemCaseSensitive(sta, "ssid");
	const cJSON *pass = cJSON_GetObjectItemCaseSensitive(sta, "pass");
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(config, "ap");

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sta, "enable")) || !cJSON_IsString(ssid))
		return;
	apmode_sta(d, ssid->valuestring, cJSON_IsString(pass) ? pass->valuestring : "",
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ap, "enable")));
}

int
apmode_listen_enter(struct dev *d, char **cause)
{
	struct sim_ap *ap = d->sim->ap;

	if (ap == NULL || !d->ap_home || ap->home_fd < 0)
		return 0;
	if (setns(ap->home_fd, CLONE_NEWNET) != 0) {
		*cause = xasprintf("setns home: %s", strerror(errno));
		return -1;
	}
	return 1;
}

void
apmode_listen_leave(struct dev *d, int entered)
{
	if (entered == 1 && setns(d->sim->ap->own_fd, CLONE_NEWNET) != 0)
		log_error("setns back: %s", strerror(errno));
}
