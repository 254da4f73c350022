#ifndef STORE_SQLITE_TASK_H
#define STORE_SQLITE_TASK_H

#include "store/backend.h"

/*
 * The SQLite backend's provisioning records (tasks, agents, enrolment secrets, access points
 * seen): the tasks member of the SQLite store_ops (store/sqlite.h). Every write is one short
 * statement, or one BEGIN IMMEDIATE transaction for a claim.
 */
extern const struct store_task_ops sqlite_task_ops;

#endif
