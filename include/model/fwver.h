#ifndef MODEL_FWVER_H
#define MODEL_FWVER_H

#include "model/device.h"

/*
 * Shelly firmware versions compared. A version is read as device_fw_version reads a firmware
 * id ("20230913-114008/v1.14.0-gcb84623" is 1.14.0, "2.0.0-beta1" stays itself): numbers
 * separated by dots, then an optional pre-release after '-'. Ordering follows semver: the
 * numbers first, then a release above its pre-releases (1.7.0-beta1 < 1.7.0), pre-releases
 * by their identifiers with digit runs compared as numbers (beta2 < beta10). A suffix that
 * is not a pre-release word (alpha, beta, rc, dev) is a vendor build tag of a release:
 * 1.7.0-miniemg4prod0 is 1.7.0.
 */

/* Sets *cmp to <0, 0 or >0 as a is older than, the same as or newer than b. Returns 0, or
 * -1 when either has no version. */
int fwver_cmp(const char *a, const char *b, int *cmp);
/* 1 when offered is newer than running, 0 when it is not (the same or a downgrade), -1 when
 * either has no version. */
int fwver_newer(const char *offered, const char *running);
/*
 * What a device runs, to compare offers with: version, what the device says it runs (Gen2+
 * /shelly "ver"), unless fw, its firmware id, reads as that same version (the id's build
 * stamp then tells builds apart); fw when version is NULL or "". Gen2+ dev builds have a
 * fw_id without a version ("20241113-122729/gbbb762d"): their "ver" is what they run.
 */
const char *fwver_running(const char *fw, const char *version);
/*
 * Drops from st what the device offers that is not newer than running (its firmware id or
 * version): a stable that is a downgrade is no update (update_available 0, update_version
 * ""), a beta no newer than running is not offered (beta_version ""). An offer whose version
 * cannot be read is left as the device states it. What the reply says the device runs
 * (Gen1 update.old_version) is taken over running: it is newer than what was stored.
 */
void fwver_check_offer(struct device_status *st, const char *running);

#endif
