#ifndef SERVER_CONNGUARD_H
#define SERVER_CONNGUARD_H

#include <stdint.h>
#include <sys/socket.h>

/*
 * The HTTP server's guard against clients that hold connections without finishing a request
 * (slowloris: a header line every few seconds defeats an inactivity timeout). It knows every
 * open connection of one server: a request must be complete and answered within deadline_ms
 * of the connection's accept (or of the end of its previous request); past it, the guard shuts
 * the socket down (shutdown(2)), so the server sees the end of the stream and closes it itself.
 * It also keeps the last `reserve` of `limit` connection slots for addresses that hold none
 * yet, so a few addresses that fill the server cannot keep a probe or scraper out.
 */
struct loop;
struct connguard;
struct connguard_conn;

/* A guard on loop (caller frees with connguard_free, which forgets every connection). */
struct connguard *connguard_new(
    struct loop *loop, unsigned limit, unsigned reserve, uint64_t deadline_ms);
void connguard_free(struct connguard *g);
/* 1 when a new connection from sa may be accepted, 0 when it must be refused. */
int connguard_admit(const struct connguard *g, const struct sockaddr *sa);
/* An accepted connection on fd from sa: its deadline starts now. Owned by g. */
struct connguard_conn *connguard_open(struct connguard *g, int fd, const struct sockaddr *sa);
/* The connection's request was answered: no deadline until connguard_next. */
void connguard_answered(struct connguard_conn *c);
/* The connection's request ended: the next one's deadline starts now. */
void connguard_next(struct connguard_conn *c);
/* The connection is closed: forgets (and frees) c. */
void connguard_close(struct connguard_conn *c);
/* How many connections the guard shut down at their deadline so far. */
uint64_t connguard_expired(const struct connguard *g);

#endif
