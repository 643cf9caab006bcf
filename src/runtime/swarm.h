/*
 * runtime/swarm.h - the swarm object: everything one runtime instance owns.
 */
#ifndef SWARM_RUNTIME_SWARM_H
#define SWARM_RUNTIME_SWARM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ptable/ptable.h"
#include "sched/runq.h"
#include "sched/sched.h"
#include "stack/stack.h"
#include "swarmrt/runtime.h"

struct swarm {
    swarm_config_t cfg;
    char name[32];
    unsigned id;                    /* 1..255, in every pid */
    unsigned nsched;
    unsigned nsched_init;           /* schedulers whose init succeeded */
    swarm__sched_t *scheds;
    swarm__ptable_t ptable;
    swarm__stack_arena_t *stacks;
    size_t stack_size;              /* default, rounded to its class */

    swarm__plist_t injector;
    pthread_mutex_t idle_lock;
    swarm__sched_t *idle_head;
    _Atomic uint32_t npidle;
    _Atomic uint32_t nspinning;
    _Atomic int shutdown;

    /* Live processes; waiters sleep on live_word until it reaches zero. */
    _Atomic uint64_t live;
    _Atomic uint64_t peak;
    _Atomic uint32_t live_word;

    /* Message accounting done outside the schedulers' counters. */
    _Atomic uint64_t foreign_sent;    /* accepted sends from other threads/swarms */
    _Atomic uint64_t foreign_dropped; /* drops seen outside a scheduler (send-time, destroy) */
    _Atomic uint64_t rejected;        /* sends refused with an error */
    _Atomic uint64_t foreign_spawns;

    /* Longest slice in ns (sched.h, SWARM__SLICE_BUDGET_MS); 0 in
     * deterministic mode. Set at create. */
    int64_t slice_budget_ns;

    /* Deterministic mode. */
    int deterministic;
    uint64_t det_rng;
    _Atomic int64_t vclock_ms;

    /* Where nsched came from (swarm_info). */
    swarm_sched_source_t sched_source;
    unsigned cpus_allowed, cpu_quota;

    /* Destroy: scheduler threads that have left their loop (futex word). */
    _Atomic uint32_t sched_exit_word;

    /* Deadlock detection (runtime/deadlock.c). deadlock_watch: the mode is
     * REPORT or RETURN. idle_epoch counts schedulers leaving the idle list;
     * deadlock_epoch = idle_epoch + 1 while the deadlock found in that idle
     * spell stands. outside_ops counts sends and spawns from outside the
     * swarm between their first effect and their wake-up (only when
     * watching). */
    swarm_deadlock_mode_t deadlock_mode;
    int deadlock_watch;
    _Atomic uint64_t idle_epoch;
    _Atomic uint64_t deadlock_epoch;
    _Atomic uint32_t outside_ops;

    /* Watchdog. */
    swarm__thread_t watchdog;
    int watchdog_started;
    _Atomic uint32_t watchdog_word;
    _Atomic int watchdog_sleeping;
};

/* The swarm with this id with a reference taken, or NULL (no swarm, or
 * one being destroyed). Any thread. The caller drops the reference with
 * swarm__registry_put(id) as soon as it no longer touches the swarm, and
 * never holds one across a switch: destroy waits for it. */
swarm_t *swarm__registry_get(unsigned id);
void swarm__registry_put(unsigned id);

/* The swarm a pid names, for a caller running on scheduler s (NULL on
 * other threads): its own swarm needs no reference (it cannot be freed
 * while one of its schedulers runs); any other is looked up with one.
 * Release with swarm__pid_swarm_put(sw, s) when sw is not NULL. */
static inline swarm_t *swarm__pid_swarm_get(swarm_pid_t pid, swarm__sched_t *s)
{
    unsigned id = swarm__pid_swarm(pid);
    if (s && s->swarm->id == id)
        return s->swarm;
    return swarm__registry_get(id);
}
static inline void swarm__pid_swarm_put(swarm_t *sw, swarm__sched_t *s)
{
    if (!(s && s->swarm == sw))
        swarm__registry_put(sw->id);
}

/* Milliseconds on the swarm's clock (virtual in deterministic mode). */
int64_t swarm__now_ms(swarm_t *sw);

/* The CPU limit set by the cgroup quota of the calling process (cgroup v2
 * cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, on the process's cgroup
 * and its ancestors; the lowest), in CPUs rounded up, or 0 if none. Paths
 * are read under root ("" for the real /proc and /sys: tests pass a fake
 * tree). */
unsigned swarm__cgroup_cpu_limit(const char *root);

/* Deadlock detection (runtime/deadlock.c). check: called by a scheduler
 * that is about to sleep with no timer of its own; reports (and wakes
 * swarm_wait) if it is the last one awake and nothing can wake anything.
 * check_det: the same for deterministic mode, where the caller knows that
 * no queue holds work and no timer is armed; returns 1 if deadlocked.
 * active: swarm_wait should return SWARM_EDEADLK now. */
void swarm__deadlock_check(swarm__sched_t *s);
int swarm__deadlock_check_det(swarm_t *sw);
int swarm__deadlock_active(swarm_t *sw);

/* Bracket a send or spawn into sw from outside it (deadlock detection). */
static inline void swarm__outside_begin(swarm_t *sw)
{
    if (sw->deadlock_watch)
        atomic_fetch_add(&sw->outside_ops, 1);
}
void swarm__deadlock_recheck(swarm_t *sw);
static inline void swarm__outside_end(swarm_t *sw)
{
    /* The last one out while every scheduler sleeps: a check that saw this
     * operation under way gave up; have it made again. */
    if (sw->deadlock_watch && atomic_fetch_sub(&sw->outside_ops, 1) == 1 &&
        atomic_load(&sw->npidle) == sw->nsched)
        swarm__deadlock_recheck(sw);
}

#endif
