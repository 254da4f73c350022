#ifndef UTIL_LOOP_H
#define UTIL_LOOP_H

#include <stdint.h>

/*
 * The one event loop of a process (epoll). Everything registers with it: stdin, curl's sockets
 * and timers, avahi (through an AvahiPoll adapter), microhttpd's epoll fd, signals (self-pipe)
 * and timers (a binary heap). One thread. Watches and timers may be freed or re-armed from
 * inside any callback, including their own.
 */
struct loop;
struct loop_watch;
struct loop_timer;

enum {
	LOOP_READ = 1,
	LOOP_WRITE = 2,
	LOOP_ERROR = 4, /* reported only, never requested: hang-up or error on the fd */
};

typedef void (*loop_fd_cb)(int fd, int events, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_signal_cb)(int sig, void *arg);

/* Returns a new loop; caller frees with loop_free. */
struct loop *loop_new(void);
/* Frees the loop; watches and timers still registered are freed with it (not their fds). */
void loop_free(struct loop *loop);

/* Watches fd for events (LOOP_READ|LOOP_WRITE, may be 0 to pause); the loop owns the watch, not
 * the fd. Callbacks get the requested events that are ready, plus LOOP_ERROR on hang-up/error. */
struct loop_watch *loop_watch_new(struct loop *loop, int fd, int events, loop_fd_cb cb, void *arg);
/* Changes the events a watch waits for. */
void loop_watch_set(struct loop_watch *w, int events);
/* Returns the events a watch waits for. */
int loop_watch_events(const struct loop_watch *w);
/* Stops watching and frees the watch (safe inside callbacks). Does not close the fd: free the
 * watch before closing it (epoll keeps a registration alive while a dup of the fd exists). */
void loop_watch_free(struct loop_watch *w);

/* Returns a new, disarmed timer owned by the loop. */
struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_cb cb, void *arg);
/* Arms (or re-arms) the timer to fire once, ms milliseconds after loop_now_ms(). Timers due at the
 * same time fire in the order they were armed; one re-armed from its callback fires next turn. */
void loop_timer_arm(struct loop_timer *t, uint64_t ms);
/* Arms the timer to fire at an absolute loop_now_ms() time. */
void loop_timer_arm_at(struct loop_timer *t, uint64_t at_ms);
/* Disarms the timer (no-op if not armed). */
void loop_timer_disarm(struct loop_timer *t);
/* Returns non-zero if the timer is armed. */
int loop_timer_armed(const struct loop_timer *t);
/* The loop_now_ms() time an armed timer fires at; 0 when disarmed. */
uint64_t loop_timer_due(const struct loop_timer *t);
/* Disarms and frees the timer (safe inside callbacks). */
void loop_timer_free(struct loop_timer *t);

/* Monotonic milliseconds, refreshed once per loop turn and by loop_update_now(). */
uint64_t loop_now_ms(struct loop *loop);
/* Refreshes and returns loop_now_ms(). */
uint64_t loop_update_now(struct loop *loop);
/* Milliseconds since the Unix epoch (wall clock), for timestamps stored or shown. */
int64_t loop_wall_ms(void);

/* Calls cb from the loop (never from the handler) when sig arrives; its default action is gone.
 * A sigaction handler writes to a self-pipe (so exec'd children get default dispositions back);
 * signals arriving between two turns are coalesced. The last loop to take a signal owns it;
 * loop_free restores the previous disposition. Returns 0, or -1 (SIGKILL/SIGSTOP, bad sig). */
int loop_signal(struct loop *loop, int sig, loop_signal_cb cb, void *arg);

/* Runs one turn: waits up to timeout_ms (-1: until the next timer/event), dispatches. Returns
 * the number of callbacks run (0 on timeout or EINTR), or -1 if epoll_wait failed. */
int loop_run_once(struct loop *loop, int timeout_ms);
/* Runs until loop_stop(); returns 0, or -1 if epoll failed. */
int loop_run(struct loop *loop);
/* Makes loop_run return after the current turn (also if called before loop_run). */
void loop_stop(struct loop *loop);
/* Returns non-zero between loop_stop() and the return of loop_run(). */
int loop_stopped(const struct loop *loop);
/* Number of loop turns so far (health checks use it to see the loop is alive). */
uint64_t loop_turns(const struct loop *loop);

#endif
