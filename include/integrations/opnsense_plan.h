#ifndef INTEGRATIONS_OPNSENSE_PLAN_H
#define INTEGRATIONS_OPNSENSE_PLAN_H

#include <stddef.h>

#include "integrations/opnsense_reply.h"

/*
 * The plan of an OPNsense sync: the difference between the fleet and what the firewall holds
 * (integrations/opnsense_reply.h), one item per record. Pure and deterministic, so the plan
 * that --dry-run prints, the one the console shows and the one that is applied are computed by
 * the same function from the same state.
 */

/* What a plan does with one record. */
#define OPN_ACTIONS(X)                         \
	X(ADD, "added", "add")                 \
	X(UPDATE, "updated", "update")         \
	X(REMOVE, "removed", "remove")         \
	X(UNCHANGED, "unchanged", "unchanged") \
	X(CONFLICT, "conflict", "conflict")

enum opn_action {
#define OPN_ACTION_ENUM(id, done, planned) OPN_##id,
	OPN_ACTIONS(OPN_ACTION_ENUM)
#undef OPN_ACTION_ENUM
	    OPN_ACTION_COUNT
};

/* What became of a planned change. */
enum opn_outcome {
	OPN_PLANNED, /* not tried (dry run, or nothing to do) */
	OPN_APPLIED,
	OPN_FAILED,
	OPN_NOT_RUN, /* skipped because an earlier step failed */
};

enum opn_kind { OPN_RESERVATION, OPN_ALIAS };

/* One line of a plan. Strings are owned by the plan; "" when not applicable. */
struct opn_item {
	enum opn_kind kind;
	enum opn_action action;
	enum opn_outcome outcome;
	char mac[13]; /* the device's MAC; "" for the alias */
	char *device; /* device name, or the owner MAC of a removed record; alias: its name */
	char *hostname; /* host name to write (add/update) or as held (remove/unchanged) */
	char *ip; /* address to write or as held */
	char *subnet; /* Kea subnet UUID to write */
	char *subnet_text; /* its CIDR, for people */
	char *uuid; /* the record's UUID on the firewall (update, remove; add once applied) */
	char *descr; /* description to write */
	char *content; /* alias: the newline-separated addresses to write */
	char *why; /* conflict: the reason; update: what changes; else a note */
	char *error; /* the failure when outcome is OPN_FAILED or OPN_NOT_RUN */
	/* update only: 1 when it is written as a removal of its record (with the removals) and
	 * an addition (with the additions), because its new address is held by a record that
	 * waits for this one's address (a swap or a longer cycle of moves); 2 once removed */
	int readd;
};

struct opn_plan {
	enum opn_backend backend;
	int dhcp; /* 0: no reservation backend (ISC): alias only */
	struct opn_item *items; /* reservations sorted by device name then MAC, then the alias */
	size_t nitems;
	/* Indexes into items in the order the reservations are written: the removals, then the
	 * removals of the items to re-add, then each update after the one that frees its new
	 * address, then the additions, then the re-additions. An address the firewall holds
	 * uniquely is thus always free when it is written. */
	size_t *writes;
	size_t nwrites;
};

/*
 * Computes the plan: devices against st. dhcp 0 plans the alias only. alias_name NULL plans
 * no alias. Returns the plan (caller frees with opn_plan_free). Pure and deterministic.
 */
struct opn_plan *opn_plan_compute(const struct opn_state *st, const struct opn_device *devs,
    size_t ndevs, int dhcp, const char *alias_name);
void opn_plan_free(struct opn_plan *plan);
/* Number of items with action a (kind reservation and alias alike). */
size_t opn_plan_count(const struct opn_plan *plan, enum opn_action a);
/* Number of items that change something (add, update, remove) of the given kind. */
size_t opn_plan_changes(const struct opn_plan *plan, enum opn_kind kind);

/* Names of actions: the done form ("added") and the planned form ("add"). Static. */
const char *opn_action_name(enum opn_action a);
const char *opn_action_planned(enum opn_action a);

struct strbuf;
/*
 * Appends the plan as text, one line per item ("add  kitchen  192.168.20.31  a8:03:..  why"),
 * then a count line. done 0 writes the planned form, 1 the outcome ("added", "failed: ...").
 * Shared by --opnsense-sync and the console so both show the same plan.
 */
void opn_plan_format(const struct opn_plan *plan, int done, struct strbuf *out);

#endif
