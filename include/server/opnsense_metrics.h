#ifndef SERVER_OPNSENSE_METRICS_H
#define SERVER_OPNSENSE_METRICS_H

/*
 * The shelly_opnsense_* families of /metrics (last sync time, result, records by action, syncs
 * by result), from the periodic sync's numbers (engine/opnsense_runner.h). A front end adds
 * them after the fleet's with exporter_set_extra.
 */
struct metrics_writer;
struct opnsense_runner;

/* Writes the families; r may be NULL (no sync runs: the families without samples). */
void opnsense_metrics_write(const struct opnsense_runner *r, struct metrics_writer *w);

#endif
