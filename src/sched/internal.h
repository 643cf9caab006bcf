/*
 * sched/internal.h - what the files of sched/ share with each other and
 * with nobody else (scripts/layer_check.py keeps other folders out).
 *
 *   run.c     the scheduler thread: its loop, switching, slices, the park
 *             primitive and running one slice of a process
 *   queue.c   where runnable processes wait: the ring, the LIFO slot, the
 *             inbox, the injector; placement, wake-up and stealing
 *   idle.c    the idle list and the spinning token (models/sched_idle.pml)
 *   timers.c  the timer service: timed waits on the scheduler's wheel
 *   det.c     deterministic mode and the swarm's clock
 */
#ifndef SWARM_SCHED_INTERNAL_H
#define SWARM_SCHED_INTERNAL_H

#include "sched/sched.h"

/* A fresh slice: the clock is read only at the first chunk's end, so a
 * process that parks or yields within 200 reductions costs no clock read. */
static inline void swarm__sched_slice_fresh(swarm__sched_t *s)
{
    s->reductions = SWARM__SLICE_CHUNK;
    s->slice_chunks = SWARM_SLICE_REDUCTIONS / SWARM__SLICE_CHUNK;
    s->slice_t0_ns = 0;
}

/* xorshift64*: victim choice and deterministic mode's draws. */
static inline uint64_t swarm__sched_rand(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
}

/* run.c: run p for one slice (it may park, yield or end meanwhile). */
void swarm__sched_run_proc(swarm__sched_t *s, swarm__proc_t *p);

/* queue.c */
void swarm__sched_local_put(swarm__sched_t *s, swarm__proc_t *p);
/* p yielded: back on the queue its pin and priority call for. */
void swarm__sched_requeue(swarm__sched_t *s, swarm__proc_t *p);
swarm__proc_t *swarm__sched_find_local(swarm__sched_t *s);
swarm__proc_t *swarm__sched_steal_from(swarm__sched_t *s, swarm__sched_t *v);
swarm__proc_t *swarm__sched_steal_work(swarm__sched_t *s);

/* idle.c */
void swarm__sched_wakep(swarm_t *sw);
void swarm__sched_wake_sched(swarm__sched_t *s);
void swarm__sched_stop_spinning(swarm__sched_t *s);
void swarm__sched_idle_park(swarm__sched_t *s);

/* timers.c. check: fire this scheduler's due timers. steal: fire a stuck
 * scheduler v's due timers on s; returns how many. next: the earliest
 * deadline on s's own wheel (INT64_MAX if none); *armed: any timer at all. */
void swarm__sched_check_timers(swarm__sched_t *s);
size_t swarm__sched_steal_timers(swarm__sched_t *s, swarm__sched_t *v);
int64_t swarm__sched_timers_next(swarm__sched_t *s, int *armed);

#endif
