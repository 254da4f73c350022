#ifndef SERVER_EXPORTER_H
#define SERVER_EXPORTER_H

/*
 * The fleet's HTTP face: /metrics (Prometheus text 0.0.4), /healthz and /readyz, built from the
 * fleet runtime's getters (engine/fleet.h). Every metric family is listed once, in
 * EXPORTER_FAMILIES below and the poller's sample table (engine/poller.h); the same list
 * prints --list-metrics, which a test compares with the man page's METRICS section.
 *
 * Per-device series carry the device's MAC (`mac`), which the registry keys on; the
 * device-supplied id, name, model, generation, firmware and address are on
 * shelly_device_info only. Label values lose control characters and bidi controls.
 * /metrics is streamed: one family of the page is in memory at a time, not the whole page.
 */
#include <stdio.h>

struct httpd;
struct loop;
struct fleet;
struct strbuf;
struct exporter;
struct metrics_writer;

/* Writes families that a front end adds after the table's (e.g. OPNsense sync results). */
typedef void (*exporter_extra_cb)(struct metrics_writer *w, void *arg);

/*
 * The fleet-wide and per-device families (the per-reading ones follow from POLLER_SAMPLES):
 * X(ID, name, type, help). type is METRICS_GAUGE, _COUNTER or _HISTOGRAM without the prefix.
 */
/* clang-format off */
#define EXPORTER_FAMILIES(X) \
	X(INFO, "shelly_device_info", GAUGE, \
	    "Device identity: always 1, labels carry id, name, model, generation, firmware and address") \
	X(UP, "shelly_device_up", GAUGE, \
	    "1 when the device is online (its last poll, or the state stored before); none if never polled") \
	X(STATE, "shelly_device_state", GAUGE, \
	    "The device's state as the poller sees it (1 for the current state; unknown: never polled)") \
	X(LAST_SEEN, "shelly_device_last_seen_timestamp_seconds", GAUGE, \
	    "Unix time of the last successful poll") \
	X(SAMPLES, NULL, GAUGE, NULL) \
	X(DEVICES, "shelly_devices", GAUGE, "Registered devices by state (unknown: never polled)") \
	X(POLL_DURATION, "shelly_poll_duration_seconds", HISTOGRAM, \
	    "Time taken by one device poll, by generation and result") \
	X(POLL_ERRORS, "shelly_poll_errors_total", COUNTER, "Failed device polls by reason") \
	X(POLLS, "shelly_polls_total", COUNTER, "Device polls completed") \
	X(IN_FLIGHT, "shelly_http_requests_in_flight", GAUGE, "HTTP requests to devices in flight") \
	X(QUEUED, "shelly_http_requests_queued", GAUGE, \
	    "HTTP requests to devices waiting for a slot") \
	X(STORE_QUEUE, "shelly_store_queue_items", GAUGE, \
	    "Results waiting to be written to the database") \
	X(STORE_DROPPED, "shelly_store_dropped_samples_total", COUNTER, \
	    "History samples dropped because the database could not be written in time") \
	X(STORE_HEALTHY, "shelly_store_healthy", GAUGE, "1 when no kind of database write is failing") \
	X(LEADER, "shelly_poller_leader", GAUGE, "1 when this process holds the poller lease and polls") \
	X(EXPORT_TIME, "shelly_export_last_success_timestamp_seconds", GAUGE, \
	    "Time the last scheduled export was written (target dir) or committed (target git)") \
	X(EXPORT_OK, "shelly_export_last_success", GAUGE, \
	    "1 when the last scheduled export to the target succeeded, else 0") \
	X(EXPORT_FAILURES, "shelly_export_failures_total", COUNTER, \
	    "Scheduled exports that failed, by target")
/* clang-format on */

/* Serves /metrics, /healthz and /readyz of fleet on httpd. Caller frees (before both). */
struct exporter *exporter_new(struct loop *loop, struct httpd *httpd, struct fleet *fleet);
void exporter_free(struct exporter *ex);
/* Appends cb's families to every /metrics page after the table's; NULL removes it. */
void exporter_set_extra(struct exporter *ex, exporter_extra_cb cb, void *arg);
/* Appends the /metrics page to out. Returns 0, or -1 with *cause (a family the writer refused). */
int exporter_metrics(struct fleet *fleet, struct strbuf *out, char **cause);
/* Prints one line per metric family, in page order: name, type, help (--list-metrics). */
void exporter_list_metrics(FILE *fp);

#endif
