/*
 * sched/poller.h - what an idle scheduler needs from the OS: sleep until
 * woken or a deadline, and be woken by another thread.
 *
 * One implementation is linked in, chosen by CMake (as libuv picks its
 * uv__io_poll): poll_futex.c sleeps on the scheduler's park_word with a
 * futex. The I/O layer's will sleep in epoll_wait with the same deadline
 * and wake through an eventfd, so readiness events and wake-ups reach the
 * scheduler through the one place it sleeps.
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
