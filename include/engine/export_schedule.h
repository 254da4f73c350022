#ifndef ENGINE_EXPORT_SCHEDULE_H
#define ENGINE_EXPORT_SCHEDULE_H

#include <stdint.h>

/*
 * Scheduled exports of the fleet runtime (--headless): every export-interval the fleet is
 * exported in export-format to export-dir as shelly-fleet-<UTC time>.<ext> (written
 * atomically), and only the newest export-keep files of that format are kept. With
 * export-git-dir, each run also writes the TOML rendering to fleet.toml in that git working
 * copy and commits it when it changed, running git as a program with an argument list (no
 * shell) and waiting for it from the loop. Scheduled exports never hold passwords.
 */
struct conf;
struct loop;
struct store;
struct export_schedule;

/* How one target of scheduled exports (the files, the git commits) fared. */
struct export_target_stats {
	int used; /* a schedule wrote to this target in this run */
	int last_ok; /* 1 the last attempt succeeded, 0 it failed (or none finished) */
	int64_t last_ok_ms; /* wall time of the last success, 0 none */
	uint64_t failures; /* attempts that failed */
};

/* What scheduled exports achieved; the caller keeps it across schedules (reloads, lease). */
struct export_stats {
	struct export_target_stats dir, git;
};

/*
 * Starts the schedule the configuration asks for; NULL when export-interval is 0 or export-dir
 * is empty (nothing to do; a bad setting is logged). The first export runs one interval after
 * since_ms (loop time; 0: now), at once when that has passed: a schedule restarted by a reload
 * passes the old one's export_schedule_since, so reloads never postpone an export. Every
 * export and commit is counted in *stats (not owned; it outlives the schedule). Caller stops
 * it with export_schedule_stop.
 */
struct export_schedule *export_schedule_start(struct loop *loop, struct store *store,
    const struct conf *cfg, uint64_t since_ms, struct export_stats *stats);
/*
 * 1 when es runs as cfg asks (interval, directory, format, keep, git working copy), so a
 * reload can leave it and a git run in progress alone; 0 for NULL.
 */
int export_schedule_same(const struct export_schedule *es, const struct conf *cfg);
/* Loop time of the last export, or of the start when none ran yet; 0 for NULL. */
uint64_t export_schedule_since(const struct export_schedule *es);
/* Cancels the timer, waits for a git run in progress, frees. NULL is allowed. */
void export_schedule_stop(struct export_schedule *es);
/* Exports completed since start (files written). */
uint64_t export_schedule_runs(const struct export_schedule *es);

#endif
