#ifndef STORE_SQLITE_H
#define STORE_SQLITE_H

#include "store/backend.h"

/*
 * The SQLite backend: WAL, busy timeout STORE_BUSY_WAIT_MS unless store_set_busy_wait says
 * otherwise, synchronous=NORMAL, foreign keys on, schema migrations applied one transaction
 * per step with PRAGMA user_version. The functions below
 * besides the ops table are for tests and maintenance tools, not for the engine.
 */
#define STORE_SQLITE_APPLICATION_ID 0x5348454c /* "SHEL", PRAGMA application_id */
#define STORE_SQLITE_CACHE_KB "256" /* page cache per connection, in KiB */

/* The backend ops table (static). */
const struct store_ops *store_sqlite_ops(void);

/* Number of migration steps = schema version this binary writes. */
int store_sqlite_schema_version(void);
/*
 * Test hook: creates (or brings) the database file at path to schema version `version` by
 * applying only the first `version` migration steps. 0 leaves an empty database file.
 */
int store_sqlite_create_at_version(const char *path, int version, char **cause);
/* Returns the schema version (PRAGMA user_version) of an open SQLite store, -1 otherwise. */
int store_sqlite_user_version(struct store *s);
/* Test hook: runs SQL (e.g. "PRAGMA max_page_count = 10") on an open SQLite store. */
int store_sqlite_exec(struct store *s, const char *sql, char **cause);
/*
 * Leaves the write-ahead log as it is when the store closes instead of checkpointing it into
 * the database file and deleting it (for --poll-once: no fsync at exit). The data stays in
 * shelly.db-wal, which every SQLite reader sees; the next writer's automatic checkpoint (at
 * 1000 pages) moves it. No effect on stores of other backends.
 */
void store_sqlite_keep_wal(struct store *s);
/*
 * For the parts of the backend in their own files (store/sqlite_task.c): the connection of a
 * handle of these ops (the void *b every op gets; the handle owns it), and the helpers every
 * statement of the backend uses.
 */
struct sqlite3;
struct sqlite3_stmt;
struct store_layout;
struct sqlite3 *store_sqlite_conn(void *b);
/* Binds s (NULL: SQL NULL) to parameter i; s must live until the statement is reset or
 * finalized. */
void store_sqlite_bind_text(struct sqlite3_stmt *st, int i, const char *s);
/* Column i as text, NULL when SQL NULL; valid until the next step, reset or finalize. */
const char *store_sqlite_col_text(struct sqlite3_stmt *st, int i);
/* Reads the current row of st into rec by type's layout, column i into field i (strings
 * point into st until it moves). */
void store_sqlite_read_rec(struct sqlite3_stmt *st, const struct store_layout *type, void *rec);
/* Sets *cause to "<SQLite's message for db>: <what fmt says>" (caller frees); returns -1. */
int store_sqlite_error(struct sqlite3 *db, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
