#ifndef STORE_STORE_ROWS_H
#define STORE_STORE_ROWS_H

/*
 * Private to the store (store.c, taskstore.c): how the backend-independent part copies the
 * rows of a backend's list op before a caller sees them. No backend uses it; a backend only
 * calls the store_row_cb it is given (store/backend.h).
 */
#include "store/backend.h"

/*
 * The rows of a list op, copied before the caller's callback sees them, so that it may call
 * the store: the op is given store_rows_collect_cb and the rows, then store_rows_deliver hands
 * each copy to the member of cb that takes type's record.
 */
struct store_rows {
	const struct store_layout *type;
	void **v; /* the copies */
	size_t n, cap;
	union {
		store_device_cb dev;
		store_status_cb st;
		store_sample_cb smp;
		store_bucket_cb bk;
		store_event_cb ev;
		store_audit_cb au;
		store_setting_cb set;
		store_task_cb task;
		store_agent_cb agent;
		store_ap_cb ap;
	} cb;
	void *arg;
};

/* Adds a copy of row to the struct store_rows arg; a store_row_cb for every list op. */
int store_rows_collect_cb(const void *row, void *arg);
/*
 * Ends a list op that returned rc (with *why on failure): on success hands every collected
 * row to the caller's callback until it returns non-zero. Frees the rows; returns 0, or -1 with
 * *why as *cause (cause may be NULL). why is a pointer, read only here: passed by value, it
 * could be read before the op in the same argument list had set it.
 */
int store_rows_deliver(struct store_rows *rows, int rc, char **why, char **cause);

#endif
