#ifndef SERVER_OPNSENSE_METRICS_H
#define SERVER_OPNSENSE_METRICS_H

/*
 * The shelly_opnsense_* families of /metrics (last sync time, result, records by action, syncs
 * by result), from the periodic sync's numbers (engine/opnsense_runner.h). A front end adds
 * them after the fleet's with exporter_set_extra. Listed once here: the page and
 * --list-metrics (so the man page's METRICS section, which a test compares) come from it.
 */
#include <stdio.h>

struct metrics_writer;
struct opnsense_runner;

/* clang-format off */
#define OPNSENSE_FAMILIES(X) \
	X(LAST_SYNC, "shelly_opnsense_last_sync_timestamp_seconds", GAUGE, \
	    "Time the last OPNsense sync finished") \
	X(LAST_OK, "shelly_opnsense_last_sync_success", GAUGE, \
	    "1 when the last OPNsense sync applied everything it planned, else 0") \
	X(RECORDS, "shelly_opnsense_last_sync_records", GAUGE, \
	    "Records of the last OPNsense sync by action") \
	X(SYNCS, "shelly_opnsense_syncs_total", COUNTER, "OPNsense syncs finished, by result")
/* clang-format on */

/* Writes the families; r may be NULL (no sync runs: the families without samples). */
void opnsense_metrics_write(const struct opnsense_runner *r, struct metrics_writer *w);
/* Lists the families as --list-metrics shows them. */
void opnsense_metrics_list(FILE *fp);

#endif
