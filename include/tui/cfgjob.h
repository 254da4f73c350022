#ifndef TUI_CFGJOB_H
#define TUI_CFGJOB_H

/*
 * The console's configuration work on registered devices, in the background: read a device's
 * typed configuration, or bring devices to a configuration (the fields given, or each one's
 * desired configuration from the store) through engine/devtarget and engine/cfgapply, with
 * the dry run, the reboot and network toggles, snapshots kept in the store and offline
 * devices queued. A device the job would give the static address, MQTT client id or topic
 * prefix another device of the job gets is refused before anything is sent (engine/cfgunique).
 * Nothing here waits: done runs from the loop when every device has a result.
 */
#include <stdbool.h>
#include <stddef.h>

#include "engine/cfgapply.h"
#include "model/devconfig.h"
#include "model/device.h"

struct app;
struct cfgjob;

enum cfgjob_state { CJ_WAITING, CJ_RUNNING, CJ_DONE };

/* One device of a job. Strings are sanitised. */
struct cfgjob_dev {
	char mac[DEV_MAC_LEN];
	char label[96];
	enum cfgjob_state state;
	int failed; /* not reached, refused, not verified, restored */
	int queued; /* offline: the change waits for the device */
	int refused; /* not sent: a value another device of the job gets too (engine/cfgunique) */
	int moved; /* seen at a new static address: the registry has it (poll from there) */
	enum cfgapply_outcome outcome;
	char message[416]; /* the engine's sentence (up to 400) */
	char progress[120];
	struct devconfig desired, before, after;
};

struct cfgjob_opts {
	bool read_only; /* read the configuration (desired ignored) */
	bool dry_run;
	bool allow_reboot;
	bool allow_network;
};

typedef void (*cfgjob_cb)(struct cfgjob *job, void *arg);

/*
 * Starts on the registered devices macs: with desired, those fields; with NULL, each device's
 * desired configuration from the store. changed runs (from the loop) on progress and when
 * everything is done. Returns the job (free with cfgjob_free).
 */
struct cfgjob *cfgjob_start(struct app *app, const char *const *macs, size_t n,
    const struct devconfig *desired, const struct cfgjob_opts *o, cfgjob_cb changed, void *arg);
/* Cancels what runs and frees. NULL is fine. */
void cfgjob_free(struct cfgjob *job);
/* The devices, and how many are done. */
struct cfgjob_dev *cfgjob_devs(struct cfgjob *job, size_t *n);
size_t cfgjob_done(const struct cfgjob *job);
int cfgjob_finished(const struct cfgjob *job);
/* Devices whose configuration the job may still change: not done, not a read or dry run. */
size_t cfgjob_writing(const struct cfgjob *job);

#endif
