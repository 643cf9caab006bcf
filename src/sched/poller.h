/*
 * sched/poller.h - what an idle scheduler needs from the OS: sleep until
 * woken or a deadline, and be woken by another thread.
 *
 * The I/O layer implements it (io/poller.c): the scheduler that holds the
 * swarm's poll lock sleeps in epoll_wait with the same deadline and is
 * woken through an eventfd, so readiness events and wake-ups reach it
 * through the one place it sleeps; the others (and every scheduler of a
 * swarm with no fd registered) sleep on park_word with a futex.
 *
 * The idle protocol (idle.c) owns park_word: sleep is called after the
 * scheduler has moved park_word to PARK_SLEEPING, and returns when it may
 * have changed (woken, timed out, or spuriously: the caller re-reads it).
 * wake is called by the thread that moved park_word away from
 * PARK_SLEEPING.
 */
#ifndef SWARM_SCHED_POLLER_H
#define SWARM_SCHED_POLLER_H

#include <stdint.h>

#include "state/state.h"

/* Sleep while park_word == sleeping_value, at most timeout_ns (-1: no
 * limit). Returns 1 if the deadline passed, else 0. */
int swarm__poller_sleep(swarm__sched_t *s, uint32_t sleeping_value, int64_t timeout_ns);

/* Wake s out of swarm__poller_sleep. Any thread. */
void swarm__poller_wake(swarm__sched_t *s);

#endif
