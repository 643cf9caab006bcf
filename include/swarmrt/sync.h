/*
 * swarmrt/sync.h - a mutex with a mandatory timeout, a condition variable
 * and a counting semaphore, for processes (docs/guide/09-channels-and-mutexes.md).
 *
 * Prefer messages and channels; these are for state that several
 * processes must update in place. Waiting parks the calling process, never
 * its scheduler thread, and waiters are served first come, first served.
 * A post hands a unit straight to the oldest waiting process. An unlock
 * wakes the oldest waiter of the mutex to take it, but a process that is
 * running when the mutex is free may take it first (barging, as Go's
 * sync.Mutex: a process that locks and unlocks in a loop keeps its pace);
 * the woken waiter keeps its place at the head. Once a waiter has waited
 * more than about 1 ms, unlocks hand the mutex straight to the oldest
 * waiter (strict FIFO, no barging) until the waiters are served quickly
 * again, so no waiter starves.
 *
 * The mutex belongs to the process that locked it: it is on that
 * process's resource list, so if the owner ends while holding it (returns,
 * crashes, is killed) the mutex passes to the next waiter, or the next
 * locker, with SWARM_EOWNERDEAD instead of 0 (POSIX robust mutexes): the
 * caller holds the mutex and should repair what it guards. Only the owner
 * may unlock. There is no untimed lock: every lock names a deadline
 * (smarm's rule), and SWARM_INFINITE is refused. A mutex is not recursive.
 *
 * Timeouts are in ms as in swarmrt/msg.h; 0 = try once (SWARM_EAGAIN).
 */
#ifndef SWARMRT_SYNC_H
#define SWARMRT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/msg.h" /* SWARM_INFINITE */
#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swarm_mutex swarm_mutex_t;
typedef struct swarm_cond swarm_cond_t;
typedef struct swarm_sem swarm_sem_t;

/* Make an unlocked mutex. Returns 0, SWARM_EINVAL (out NULL), SWARM_ENOMEM.
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_mutex_create(swarm_mutex_t **out);

/* Free a mutex nobody holds or waits for. Returns 0, SWARM_EBUSY (held or
 * waited for: nothing freed), SWARM_EINVAL (m NULL).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_mutex_destroy(swarm_mutex_t *m);

/* Lock m, waiting at most timeout_ms (>= 0; 0 = try once).
 * Returns 0, SWARM_EOWNERDEAD (locked; the previous owner ended while
 * holding it), SWARM_EAGAIN (timeout 0 and m is held), SWARM_ETIMEDOUT,
 * SWARM_EDEADLK (the caller already holds m), SWARM_EINVAL (m NULL, or a
 * negative timeout: SWARM_INFINITE too), SWARM_ENOTPROC (not in a process).
 * Context: process. Blocking: may park until m is handed over or the
 * deadline (may migrate). */
SWARM_API int swarm_mutex_lock(swarm_mutex_t *m, int64_t timeout_ms);

/* Unlock m; the oldest waiter is woken to take it (or handed it, see
 * above). Returns 0, SWARM_EPERM (the caller
 * does not hold m), SWARM_EINVAL (m NULL), SWARM_ENOTPROC (not in a process).
 * Context: process. Blocking: never. */
SWARM_API int swarm_mutex_unlock(swarm_mutex_t *m);

/* Make a condition variable. Returns 0, SWARM_EINVAL (out NULL), SWARM_ENOMEM.
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_cond_create(swarm_cond_t **out);

/* Free a condition variable nobody waits on. Returns 0, SWARM_EBUSY
 * (waited on: nothing freed), SWARM_EINVAL (c NULL).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_cond_destroy(swarm_cond_t *c);

/* Unlock m (held by the caller) and wait for a signal on c, at most
 * timeout_ms (>= 0, or SWARM_INFINITE), then lock m again by the same
 * deadline. Spurious wake-ups do not happen, but another process may have
 * changed the state between the signal and the relock: re-check it in a loop.
 * Returns 0 (signalled; m held), SWARM_ETIMEDOUT (no signal by the
 * deadline; m held), SWARM_EOWNERDEAD (m held again, from an owner that
 * died; signalled or not), SWARM_EBUSY (m stayed held by another process
 * past the deadline: the caller does NOT hold m), SWARM_EPERM (the caller
 * does not hold m), SWARM_EINVAL (c or m NULL, a negative timeout other
 * than SWARM_INFINITE), SWARM_ENOTPROC (not in a process).
 * Context: process. Blocking: parks until signalled or the deadline (may
 * migrate). */
SWARM_API int swarm_cond_wait(swarm_cond_t *c, swarm_mutex_t *m, int64_t timeout_ms);

/* Wake the oldest waiter of c / every waiter. Returns 0, SWARM_EINVAL
 * (c NULL). Context: any thread. Blocking: never. */
SWARM_API int swarm_cond_signal(swarm_cond_t *c);
SWARM_API int swarm_cond_broadcast(swarm_cond_t *c);

/* Make a semaphore with count units (<= SWARM_SEM_MAX). Returns 0,
 * SWARM_EINVAL (out NULL or count too big), SWARM_ENOMEM.
 * Context: any thread. Blocking: never. */
#define SWARM_SEM_MAX ((uint32_t)INT32_MAX)
SWARM_API int swarm_sem_create(swarm_sem_t **out, uint32_t count);

/* Free a semaphore nobody waits on. Returns 0, SWARM_EBUSY (waited on:
 * nothing freed), SWARM_EINVAL (sem NULL).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_sem_destroy(swarm_sem_t *sem);

/* Take one unit, waiting at most timeout_ms (0 = try once, SWARM_INFINITE
 * = no deadline). Returns 0, SWARM_EAGAIN (timeout 0 and no unit),
 * SWARM_ETIMEDOUT, SWARM_EINVAL (sem NULL, a negative timeout other than
 * SWARM_INFINITE), SWARM_ENOTPROC (a non-zero timeout outside a process).
 * Context: process; any thread with timeout 0. Blocking: may park until a
 * unit is posted or the deadline (may migrate). */
SWARM_API int swarm_sem_wait(swarm_sem_t *sem, int64_t timeout_ms);

/* Give n units back: the oldest waiters get them first. Returns 0,
 * SWARM_EINVAL (sem NULL, n 0, or the count would pass SWARM_SEM_MAX:
 * nothing posted). Context: any thread. Blocking: never. */
SWARM_API int swarm_sem_post(swarm_sem_t *sem, uint32_t n);

/* Units available now (a snapshot). Context: any thread. Blocking: never. */
SWARM_API uint32_t swarm_sem_value(swarm_sem_t *sem);

#ifdef __cplusplus
}
#endif
#endif
