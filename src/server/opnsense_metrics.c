/* The OPNsense sync's /metrics families (server/opnsense_metrics.h). */
#include "server/opnsense_metrics.h"

#include "engine/opnsense_runner.h"
#include "server/metrics.h"

void
opnsense_metrics_write(const struct opnsense_runner *r, struct metrics_writer *w)
{
	const struct opnsense_runner_stats *st = r != NULL ? opnsense_runner_stats(r) : NULL;
	int synced = st != NULL && st->last_ms != 0;

	metrics_family(w, "shelly_opnsense_last_sync_timestamp_seconds", METRICS_GAUGE,
	    "Time the last OPNsense sync finished");
	if (synced)
		metrics_sample(w, NULL, 0, (double)st->last_ms / 1000.0);
	metrics_family(w, "shelly_opnsense_last_sync_success", METRICS_GAUGE,
	    "1 when the last OPNsense sync applied everything it planned, else 0");
	if (synced)
		metrics_sample(w, NULL, 0, st->last_ok ? 1 : 0);
	metrics_family(w, "shelly_opnsense_last_sync_records", METRICS_GAUGE,
	    "Records of the last OPNsense sync by action");
	for (int a = 0; synced && a < OPN_ACTION_COUNT; a++) {
		struct metrics_label l[1] = {{"action", opn_action_name((enum opn_action)a)}};

		metrics_sample(w, l, 1, (double)st->counts[a]);
	}
	metrics_family(w, "shelly_opnsense_syncs_total", METRICS_COUNTER,
	    "OPNsense syncs finished, by result");
	if (st != NULL) {
		struct metrics_label ok[1] = {{"result", "ok"}}, bad[1] = {{"result", "failed"}};

		metrics_sample(w, ok, 1, (double)st->runs_ok);
		metrics_sample(w, bad, 1, (double)st->runs_failed);
	}
}
