/*
 * sched/sched.h - schedulers: one OS thread each, running processes.
 *
 * Per scheduler: a bounded stealable ring (runq), a LIFO slot (runnext) for
 * the process a message just woke, an inbox for enqueues from other threads,
 * a timing wheel, and warm caches. Per swarm: the injector (wake-ups from
 * foreign threads, overflow of full rings), the idle list and the spinning
 * count that bound how many schedulers hunt for work (Go's protocol; see
 * models/sched_idle.pml and docs/design/sched.md).
 *
 * A process never publishes itself: it switches to its scheduler's own
 * stack with an action (yield, park, exit) and the scheduler carries the
 * action out there (invariant 3).
 */
#ifndef SWARM_SCHED_SCHED_H
#define SWARM_SCHED_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "state/state.h"
#include "swarmrt/proc.h"

/* The scheduler the calling thread is running, or NULL. Never inlined and
 * never cached by the compiler across a switch (invariant 4). */
swarm__sched_t *swarm__sched_self(void);
void swarm__sched_set_self(swarm__sched_t *s);

/* The running process, or NULL outside a process. */
static inline swarm__proc_t *swarm__sched_current(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s ? s->current : NULL;
}

/* Process side: hand the CPU back to the scheduler with an action (YIELD
 * or EXIT; a park goes through swarm__sched_park). Returns when the process
 * runs again (YIELD), possibly on another thread: callers must re-read
 * swarm__sched_self() afterwards. */
void swarm__sched_switch_out(swarm__sched_t *s, swarm__proc_t *p, int action);

/* The park primitive (Go's gopark(unlockf)). The running process p switches
 * out; on the scheduler's own stack the scheduler stores WAITING and then
 * calls commit(p, ctx). The hook publishes the wait (marks the mailbox
 * EMPTY, releases a wait queue's lock); from that moment a waker may find
 * p and call swarm__sched_wake. A hook that returns 0 refuses the park
 * (the wait is already satisfied) and p runs on at once. Either way this
 * call returns when p runs again, possibly on another thread.
 * Context: process. models/proc_park.pml, models/park_hook.pml. */
void swarm__sched_park(swarm__sched_t *s, swarm__proc_t *p, swarm__park_commit_fn commit, void *ctx);

/* Hibernation (swarm_hibernate, msg/): the running process p gives its
 * stack up for good. It switches out; on the scheduler's stack p->sp
 * takes cont and p the flag SWARM__PF_HIBERNATED, the park goes on as
 * with swarm__sched_park (ctx = cont), and once it has committed the
 * scheduler notes p for a batched drop of its stack pages (hibernate.h).
 * When p next runs (at once if commit refuses) it starts afresh at the
 * top of its stack in its process entry
 * (base/upcalls.h: swarm__proc_main), which takes cont back with
 * swarm__sched_take_resume. cont belongs to the caller (the scheduler
 * only keeps it in p->sp meanwhile). Context: process. */
SWARM_NORETURN void swarm__sched_hibernate(swarm__sched_t *s, swarm__proc_t *p, swarm__park_commit_fn commit,
                                           void *cont);

/* In a process's entry: the continuation it hibernated with, now that it
 * was woken, or NULL on its first run (every spawn asks: inline). */
static inline void *swarm__sched_take_resume(swarm__sched_t *s)
{
    void *cont = s->resume;
    s->resume = NULL;
    return cont;
}

/* End the running process with reason: it switches out for good and the
 * scheduler hands it to the process layer (base/upcalls.h). */
SWARM_NORETURN void swarm__sched_exit(swarm__sched_t *s, int reason);

/* A slice of SWARM_SLICE_REDUCTIONS is spent in chunks of
 * SWARM__SLICE_CHUNK reductions. At each chunk's end the scheduler reads the
 * monotonic clock (vDSO, ~20 ns: once per 200 reductions) and ends the slice
 * early once it has lasted SWARM__SLICE_BUDGET_MS (or watchdog_ms / 4 if
 * smaller): a reduction is a call, not a unit of time, and calls that
 * page-fault (a spawn touching a fresh stack) can make 4000 of them last far
 * longer than the watchdog's limit. Not in deterministic mode, where slices
 * must not depend on time. */
#define SWARM__SLICE_CHUNK 200
#define SWARM__SLICE_BUDGET_MS 2

/* Spend reductions; yield when the slice is spent. Process side. */
void swarm__sched_spend(swarm__sched_t *s, int32_t n);
/* The same after a call that may have waited in the kernel (a spawn that
 * maps a fresh stack and installs its guard: a few us, at times ms under
 * mmap_lock contention): it also reads the slice clock now, so such calls
 * cannot pile up within one chunk into a slice the watchdog reports. */
void swarm__sched_spend_timed(swarm__sched_t *s, int32_t n);

/* Make a WAITING process runnable: called by the one thread that a park's
 * commit hook let find it (the push that found the mailbox's EMPTY mark,
 * the waker that dequeued it). Any thread. */
void swarm__sched_wake(swarm__proc_t *p);

/* Give back the wake token of a parked p, taken with swarm__mbox_claim to
 * work on p while nothing can run it (the compaction sweep, the batched
 * drop of hibernating stacks): park p again, or, if something was pushed
 * to it meanwhile (the push found no mark to wake it by), wake it: the
 * holder of the token is its waker then. Any thread. */
void swarm__sched_let_go(swarm__proc_t *p);

/* Start a freshly initialised process (state RUNNABLE) on the best queue:
 * s = the calling scheduler of the same swarm, or NULL; hint = scheduler index
 * or SWARM_SCHED_ANY. */
void swarm__sched_submit(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int hint);

/* Timed waits (timers.c): arm a timer for the current wait of p on s
 * (deadline in ms on the swarm's clock); when it comes due while p still
 * waits, fire(p, pid, wait_seq) runs on a scheduler thread (it returns 0,
 * or nonzero to be retried on the next tick). drop ends p's timed wait (s:
 * the scheduler running the caller, or NULL); disarm is drop for the
 * running process. */
typedef int (*swarm__timer_fire_fn)(swarm__proc_t *p, swarm_pid_t pid, uint32_t wait_seq);
int swarm__timer_arm(swarm__sched_t *s, swarm__proc_t *p, int64_t deadline_ms, swarm__timer_fire_fn fire);
void swarm__timer_drop(swarm__sched_t *s, swarm__proc_t *p);
/* A timer of no wait on s's wheel: at deadline_ms (the swarm's clock),
 * on a scheduler thread with the wheel locked, fire(ctx, now, &deadline);
 * if it returns nonzero the timer is armed again at the new deadline. It
 * cannot be removed: whoever gave ctx makes a late fire a no-op. Returns 0
 * or SWARM_ENOMEM. */
int swarm__timer_arm_ctx(swarm__sched_t *s, int64_t deadline_ms, int (*fire)(void *ctx, int64_t now, int64_t *deadline),
                         void *ctx);
void swarm__timer_disarm(swarm__proc_t *p);
/* The deadline (the swarm's ms) of p's current timed wait, INT64_MAX if
 * none; p is the caller (process info). */
int64_t swarm__timer_deadline(swarm__proc_t *p);

/* Milliseconds on the swarm's clock (det.c: virtual in deterministic mode). */
int64_t swarm__now_ms(swarm_t *sw);

/* Scheduler lifecycle (runtime/swarm.c). */
int swarm__sched_init(swarm__sched_t *s, swarm_t *sw, unsigned index);
void swarm__sched_destroy(swarm__sched_t *s);
int swarm__sched_start(swarm__sched_t *s);
void swarm__sched_wake_all(swarm_t *sw);
/* Wake one idle scheduler as a spinner (watchdog: a queue needs a thief). */
void swarm__sched_wake_idle(swarm_t *sw);
/* Deterministic mode: run the swarm on the calling thread until no process
 * is left or deadline_ms (absolute, real clock) passes. */
int swarm__sched_run_deterministic(swarm_t *sw, int64_t timeout_ms);

/* Fault handling (sched/fault.c). */
int swarm__fault_init(void);
int swarm__fault_thread_enter(swarm__sched_t *s);
void swarm__fault_thread_leave(swarm__sched_t *s);

/* Watchdog (sched/watchdog.c). */
int swarm__watchdog_start(swarm_t *sw);
void swarm__watchdog_stop(swarm_t *sw);
void swarm__watchdog_kick(swarm_t *sw);

/* Deadlock detection (sched/deadlock.c). check: called by a scheduler
 * that is about to sleep with no timer of its own; reports (and wakes
 * swarm_wait) if it is the last one awake and nothing can wake anything.
 * check_det: the same for deterministic mode, where the caller knows that
 * no queue holds work and no timer is armed; returns 1 if deadlocked.
 * active: swarm_wait should return SWARM_EDEADLK now. */
void swarm__deadlock_check(swarm__sched_t *s);
int swarm__deadlock_check_det(swarm_t *sw);
int swarm__deadlock_active(swarm_t *sw);
void swarm__deadlock_recheck(swarm_t *sw);

/* Bracket a send or spawn into sw from outside it (deadlock detection). */
static inline void swarm__outside_begin(swarm_t *sw)
{
    if (sw->deadlock_watch)
        atomic_fetch_add(&sw->outside_ops, 1);
}
static inline void swarm__outside_end(swarm_t *sw)
{
    /* The last one out while every scheduler sleeps: a check that saw this
     * operation under way gave up; have it made again. */
    if (sw->deadlock_watch && atomic_fetch_sub(&sw->outside_ops, 1) == 1 &&
        atomic_load(&sw->npidle) == sw->nsched)
        swarm__deadlock_recheck(sw);
}

#endif
