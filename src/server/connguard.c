/*
 * Connection guard of the HTTP server (see server/connguard.h). At most a few hundred
 * connections: a list, walked when the timer fires or a connection asks to be admitted. The
 * timer is armed for the earliest deadline of the connections still waiting for an answer.
 */
#include "server/connguard.h"

#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct connguard_conn {
	struct connguard *g;
	struct connguard_conn *prev, *next;
	int fd;
	struct sockaddr_storage addr;
	uint64_t since_ms; /* start of the current request's deadline */
	bool waiting; /* the current request is not answered yet */
	bool shut; /* shut down at its deadline; the server closes it next */
};

struct connguard {
	struct loop *loop;
	struct loop_timer *timer;
	struct connguard_conn *conns;
	unsigned n, limit, reserve;
	uint64_t deadline_ms;
	uint64_t expired;
};

static void connguard_arm(struct connguard *g);

/* 1 when a and b are the same address (the port does not count). */
static int
same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		           &((const struct sockaddr_in6 *)b)->sin6_addr,
		           sizeof(struct in6_addr)) == 0;
	return 0;
}

static void
connguard_timer_cb(void *arg)
{
	struct connguard *g = arg;
	uint64_t now = loop_now_ms(g->loop);
	unsigned shut = 0;

	for (struct connguard_conn *c = g->conns; c != NULL; c = c->next) {
		if (!c->waiting || c->shut || now - c->since_ms < g->deadline_ms)
			continue;
		/* The server's epoll sees the end of the stream and closes the connection. */
		shutdown(c->fd, SHUT_RDWR);
		c->shut = true;
		shut++;
	}
	if (shut > 0) {
		g->expired += shut;
		log_warn("http: closed %u connection%s without a complete request in %g s", shut,
		    shut == 1 ? "" : "s", (double)g->deadline_ms / 1000);
	}
	connguard_arm(g);
}

/* Arms the timer for the earliest deadline of a connection still waiting, else disarms it. */
static void
connguard_arm(struct connguard *g)
{
	uint64_t first = UINT64_MAX;

	for (struct connguard_conn *c = g->conns; c != NULL; c = c->next)
		if (c->waiting && !c->shut && c->since_ms < first)
			first = c->since_ms;
	if (first == UINT64_MAX)
		loop_timer_disarm(g->timer);
	else if (!loop_timer_armed(g->timer))
		loop_timer_arm_at(g->timer, first + g->deadline_ms);
}

struct connguard *
connguard_new(struct loop *loop, unsigned limit, unsigned reserve, uint64_t deadline_ms)
{
	struct connguard *g = xcalloc(1, sizeof *g);

	g->loop = loop;
	g->timer = loop_timer_new(loop, connguard_timer_cb, g);
	g->limit = limit;
	g->reserve = reserve < limit ? reserve : 0;
	g->deadline_ms = deadline_ms;
	return g;
}

void
connguard_free(struct connguard *g)
{
	if (g == NULL)
		return;
	while (g->conns != NULL)
		connguard_close(g->conns);
	loop_timer_free(g->timer);
	free(g);
}

int
connguard_admit(const struct connguard *g, const struct sockaddr *sa)
{
	if (g->n < g->limit - g->reserve)
		return 1;
	for (const struct connguard_conn *c = g->conns; c != NULL; c = c->next)
		if (same_host((const struct sockaddr *)&c->addr, sa))
			return 0;
	return g->n < g->limit;
}

struct connguard_conn *
connguard_open(struct connguard *g, int fd, const struct sockaddr *sa)
{
	struct connguard_conn *c = xcalloc(1, sizeof *c);

	c->g = g;
	c->fd = fd;
	if (sa != NULL)
		memcpy(&c->addr, sa,
		    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                              : sizeof(struct sockaddr_in));
	c->next = g->conns;
	if (g->conns != NULL)
		g->conns->prev = c;
	g->conns = c;
	g->n++;
	connguard_next(c);
	return c;
}

void
connguard_answered(struct connguard_conn *c)
{
	c->waiting = false;
}

void
connguard_next(struct connguard_conn *c)
{
	c->since_ms = loop_update_now(c->g->loop);
	c->waiting = true;
	connguard_arm(c->g);
}

void
connguard_close(struct connguard_conn *c)
{
	struct connguard *g = c->g;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	g->n--;
	free(c);
}

uint64_t
connguard_expired(const struct connguard *g)
{
	return g->expired;
}
