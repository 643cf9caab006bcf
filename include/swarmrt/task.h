/*
 * swarmrt/task.h - tasks: run a computation in a process of its own and
 * await its result (Elixir's Task.async / Task.await; smarm's spawn and
 * join).
 *
 * A task is monitored by the process that spawned it (its owner), not
 * linked: a task that crashes is an error the owner reads from await,
 * with the crash's reason, not an exit signal that ends the owner. Only
 * the owner may await a task (the result is sent to it).
 */
#ifndef SWARMRT_TASK_H
#define SWARMRT_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/msg.h"
#include "swarmrt/reason.h"
#include "swarmrt/ref.h"
#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tag of a task's result message (it reaches the owner's mailbox if the
 * owner stopped waiting: then it is an ordinary message to drop). */
#define SWARM_TAG_TASK (SWARM_TAG_SYSTEM + 3)

typedef struct swarm_task {
    swarm_pid_t pid;
    swarm_ref_t mon;
} swarm_task_t;

/* Spawn fn(arg) as a task of the caller. fn gives its result with
 * swarm_task_return; a task that just returns has no result (await gives
 * 0 and a NULL result). Returns 0, SWARM_EINVAL (t or fn NULL),
 * SWARM_EAGAIN, SWARM_ENOMEM, SWARM_ESHUTDOWN (as swarm_spawn),
 * SWARM_ENOTPROC. Context: process. Blocking: never. */
SWARM_API int swarm_task_spawn(swarm_task_t *t, swarm_fn fn, void *arg);

/* In a task: hand data[0..size) to the owner as the task's result and end
 * normally. A result that cannot be sent (over the owner's swarm's
 * max_msg_size, no memory) ends the task with reason nomem instead, which
 * the owner's await reports. In a process that is not a task it only
 * ends the caller normally. Outside a process it aborts.
 * Context: process. Blocking: never returns. */
SWARM_NORETURN SWARM_API void swarm_task_return(const void *data, size_t size);

/* Wait for task t's result. *result gets it as a message (its data and
 * size; free it with swarm_msg_free; NULL if the task ended normally
 * without swarm_task_return). Returns 0; SWARM_ESRCH (the task
 * ended without a result: a crash, an exit, a kill; *why, if not NULL,
 * gets the reason's atom); SWARM_ETIMEDOUT (not done yet: the task runs
 * on, await it again later); SWARM_EINVAL (t or result NULL, a negative
 * timeout other than SWARM_INFINITE); SWARM_ENOTPROC. A task is awaited
 * once: after 0 or SWARM_ESRCH, t is spent.
 * Context: process (the owner). Blocking: parks until done or the timeout. */
SWARM_API int swarm_task_await(swarm_task_t *t, swarm_msg_t **result, int64_t timeout_ms, swarm_atom_t *why);

/* One task's outcome in swarm_task_await_many. */
typedef struct swarm_task_outcome {
    int rc;               /* 0, SWARM_ESRCH, SWARM_ETIMEDOUT (not done), or
                             SWARM_EINVAL (the task was awaited before) */
    swarm_msg_t *result;  /* rc 0: the result (yours to free), or NULL */
    swarm_atom_t why;     /* rc SWARM_ESRCH: the reason */
} swarm_task_outcome_t;

/* Wait for the first `want` of n tasks to finish (want 0: all of them),
 * each outcome in out[i]. Returns 0 (want of them finished; others may
 * have too), SWARM_ETIMEDOUT (fewer did in time: out[] says which),
 * SWARM_EINVAL (tasks or out NULL, want > n, bad timeout), SWARM_ENOTPROC.
 * Context: process (the owner). Blocking: parks until done or the timeout. */
SWARM_API int swarm_task_await_many(swarm_task_t *tasks, size_t n, size_t want, swarm_task_outcome_t *out,
                                    int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
