#ifndef UTIL_HOLDER_H
#define UTIL_HOLDER_H

#include <stddef.h>

/*
 * Lease holder names that tell which process holds a lease: "ROLE:HOST:PID:PIDNS" or, with a
 * tag, "ROLE:HOST:PID:PIDNS:TAG" (hex). HOST has its colons as '_'; PIDNS is the inode of the
 * pid namespace (0 unknown), which tells the processes of two containers apart. Written once
 * here for every lease (the poller's, the OPNsense writer's) so that a holder whose process is
 * gone is recognised the same way by all.
 */

/* Writes the name of this process as holder in role (tag NULL: none) to buf. */
void holder_name(char *buf, size_t size, const char *role, const char *tag);

/*
 * 1 when other, a holder name that is not mine, names a process of this host and pid namespace
 * (as mine does) that no longer exists; *pid is its pid. A pid that is ours under another name
 * belonged to an earlier process. 0 for anything else (another host or namespace, a live
 * process, a name of another form).
 */
int holder_gone(const char *mine, const char *other, long *pid);

#endif
