#include "engine/lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "store/store.h"
#include "util/holder.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

struct lease {
	struct loop *loop;
	struct store *store;
	char *name;
	uint64_t heartbeat_ms, timeout_ms;
	char holder[192];
	int leader;
	uint64_t last_ok_ms;	/* monotonic time of the last successful take or heartbeat */
	char *last_other;	/* the holder or error last reported, to log a change once */
	struct loop_timer *timer;
	lease_change_cb cb;
	void *arg;
};

int
lease_check_times(uint64_t heartbeat_ms, uint64_t timeout_ms, char **cause)
{
	if (heartbeat_ms == 0 || heartbeat_ms >= timeout_ms / 2) {
		*cause = xasprintf("lease-heartbeat (%llu ms) must be shorter than half of "
				   "lease-timeout (%llu ms)",
		    (unsigned long long)heartbeat_ms, (unsigned long long)timeout_ms);
		return -1;
	}
	return 0;
}

static void
make_holder(struct lease *l, const char *role)
{
	uint32_t rnd = 0;
	char tag[16];

	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)loop_wall_ms() ^ ((uint32_t)getpid() << 16);
	snprintf(tag, sizeof tag, "%08x", (unsigned)rnd);
	holder_name(l->holder, sizeof l->holder, role, tag);
}

int
lease_acquire_once(struct lease *l, char **why)
{
	char *other = NULL, *cause = NULL;
	long pid = 0;
	int r;

	*why = NULL;
	r = store_lease_acquire(l->store, l->name, l->holder, loop_wall_ms(),
	    (int64_t)l->timeout_ms, &other, &cause);
	if (r == 0 && other != NULL && holder_gone(l->holder, other, &pid)) {
		log_warn("lease: taking over the stale lease of %s (process %ld is gone)", other,
		    pid);
		if (store_lease_release(l->store, l->name, other, &cause) == 0) {
			free(other);
			other = NULL;
			r = store_lease_acquire(l->store, l->name, l->holder, loop_wall_ms(),
			    (int64_t)l->timeout_ms, &other, &cause);
		}
		if (r == 0 && other != NULL && holder_gone(l->holder, other, &pid)) {
			*why = xasprintf("a stale lease (%s, process %ld is gone) could not be "
					 "taken over",
			    other, pid);
			free(other);
			free(cause);
			return 0;
		}
	}
	if (r < 0)
		*why = cause != NULL ? cause : xstrdup("lease: store error");
	else {
		free(cause);
		if (r == 0)
			*why = xasprintf("a live poller (%s)", other != NULL ? other : "?");
	}
	if (r == 1) {
		l->leader = 1;
		l->last_ok_ms = loop_now_ms(l->loop);
	}
	free(other);
	return r;
}

static void
step_down(struct lease *l, const char *why)
{
	log_warn("%s; standing by", why);
	l->leader = 0;
	if (l->cb != NULL)
		l->cb(0, l->arg);
}

static void
heartbeat(struct lease *l)
{
	char *cause = NULL;
	int r = store_lease_heartbeat(l->store, l->name, l->holder, loop_wall_ms(),
	    (int64_t)l->timeout_ms, &cause);
	uint64_t now = loop_update_now(l->loop); /* a busy database may have made us wait */

	if (r == 1)
		l->last_ok_ms = now;
	else if (r == 0)
		step_down(l, "lost the poller lease");
	else {
		log_warn("lease heartbeat failed: %s", cause);
		/* Stop before another poller may take the lease over. */
		if (now - l->last_ok_ms >= l->timeout_ms - l->heartbeat_ms) {
			char msg[128];
			snprintf(msg, sizeof msg, "no lease heartbeat succeeded for %llu ms",
			    (unsigned long long)(now - l->last_ok_ms));
			step_down(l, msg);
		}
	}
	free(cause);
}

static void
tick_cb(void *arg)
{
	struct lease *l = arg;

	if (l->leader)
		heartbeat(l);
	else {
		char *why = NULL;
		int r = lease_acquire_once(l, &why);

		if (r == 1) {
			/* The callback's owner says so (fleet's lead()): logged once, there. */
			free(l->last_other);
			l->last_other = NULL;
			if (l->cb != NULL)
				l->cb(1, l->arg);
		} else if (l->last_other == NULL || strcmp(l->last_other, why) != 0) {
			/* Said once per holder or error, not every heartbeat. */
			if (r == 0)
				log_info("poller lease held by %s; standing by", why);
			else
				log_warn("lease: %s", why);
			free(l->last_other);
			l->last_other = why;
			why = NULL;
		}
		free(why);
	}
	loop_timer_arm(l->timer, l->heartbeat_ms);
}

struct lease *
lease_new(struct loop *loop, struct store *store, const struct lease_opts *opts,
    lease_change_cb cb, void *arg, char **cause)
{
	struct lease *l;

	if (lease_check_times(opts->heartbeat_ms, opts->timeout_ms, cause) != 0)
		return NULL;
	l = xcalloc(1, sizeof *l);
	l->loop = loop;
	l->store = store;
	l->name = xstrdup(opts->name);
	l->heartbeat_ms = opts->heartbeat_ms;
	l->timeout_ms = opts->timeout_ms;
	l->cb = cb;
	l->arg = arg;
	make_holder(l, opts->role);
	l->timer = loop_timer_new(loop, tick_cb, l);
	return l;
}

void
lease_start(struct lease *l)
{
	tick_cb(l);
}

int
lease_is_leader(const struct lease *l)
{
	return l->leader;
}

const char *
lease_other(const struct lease *l)
{
	return l->leader ? NULL : l->last_other;
}

const char *
lease_holder(const struct lease *l)
{
	return l->holder;
}

void
lease_free(struct lease *l)
{
	char *cause = NULL;

	if (l == NULL)
		return;
	loop_timer_free(l->timer);
	if (l->leader && store_lease_release(l->store, l->name, l->holder, &cause) != 0) {
		log_warn("lease not released: %s", cause);
		free(cause);
	}
	free(l->last_other);
	free(l->name);
	free(l);
}
