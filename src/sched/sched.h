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
 * action out there (DESIGN invariant 3).
 */
#ifndef SWARM_SCHED_SCHED_H
#define SWARM_SCHED_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "base/compiler.h"
#include "base/sys.h"
#include "ptable/ptable.h"
#include "sched/runq.h"
#include "swarmrt/stats.h"
#include "timer/wheel.h"

enum swarm__action {
    SWARM__ACT_NONE = 0,
    SWARM__ACT_YIELD,  /* requeue at the tail */
    SWARM__ACT_PARK,   /* WAITING, then mark the mailbox empty, or run again */
    SWARM__ACT_EXIT,   /* clean up and free the slot */
};

/* Counters written only by their scheduler (relaxed load + store), read by
 * anyone. Same layout as swarm_sched_stats_t minus `queued`. */
/* The counter list, once: it defines swarm__counters_t and drives the
 * copying and summing in runtime/stats.c. Each name is also a field of
 * swarm_sched_stats_t. */
#define SWARM__COUNTERS(X)                                                                   \
    X(switches) X(yields) X(spawns) X(exits) X(crashes) X(msgs_sent) X(msgs_received)      \
    X(msgs_dropped) X(steals) X(stolen) X(parks) X(timers_fired) X(watchdog_reports)

typedef struct swarm__counters {
#define SWARM__COUNTER_FIELD(name) _Atomic uint64_t name;
    SWARM__COUNTERS(SWARM__COUNTER_FIELD)
#undef SWARM__COUNTER_FIELD
} swarm__counters_t;

#define SWARM__STAT_ADD(s, field, v)                                                       \
    atomic_store_explicit(&(s)->st.field,                                                  \
                          atomic_load_explicit(&(s)->st.field, memory_order_relaxed) + (v), \
                          memory_order_relaxed)
#define SWARM__STAT_INC(s, field) SWARM__STAT_ADD(s, field, 1)

/* What the fault handler saw (sched/fault.c). frames: the process's own
 * stack, frames[0] = pc (see swarm_exit_info_t). */
typedef struct swarm__crash {
    int signo;
    int overflow;
    uintptr_t addr, pc;
    unsigned nframes;
    uintptr_t frames[SWARM_EXIT_FRAMES];
    void *volatile unwind_jmp; /* while the handler unwinds: where a fault
                                  in the unwinder jumps back to */
} swarm__crash_t;

typedef struct swarm__sched {
    /* Owner-only, hot. */
    swarm_t *swarm;
    unsigned index;
    int action;
    void *sp;                       /* the scheduler's context while a process runs */
    swarm__proc_t *current;
    int32_t reductions;             /* left in the current chunk of the slice */
    int32_t slice_chunks;           /* chunks left in the slice, this one included */
    int64_t slice_t0_ns;            /* clock at the slice's first chunk end, 0 = not read */
    uint32_t tick;
    uint32_t lifo_streak;
    int spinning;
    int64_t now_ms;                 /* clock as of the last timer check */
    uint64_t rng;

    swarm__runq_t runq;
    /* LIFO slot. Only the owner stores a process into it; the owner takes
     * it with an exchange, and so does a thief while the scheduler is stuck
     * (steal_stuck in sched.c): whoever's exchange returns the process runs
     * it. The owner's put into an empty slot is a plain release store (a
     * thief only ever swaps a process out for NULL, so an empty slot cannot
     * change under the owner); a put into a full slot is an exchange. */
    _Atomic(swarm__proc_t *) runnext SWARM_ALIGNED(SWARM_CACHELINE);
    swarm__plist_t inbox;
    swarm__plist_t pinned;          /* runnable processes pinned here (never stolen) */

    /* Idle parking (idle_next and idle are protected by the swarm's idle lock). */
    _Atomic uint32_t park_word;
    struct swarm__sched *idle_next;
    int idle;
    /* Set (seq_cst) by the watchdog while one process has held this
     * scheduler past watchdog_ms, cleared when its slice counter moves; read
     * (seq_cst) by thieves, the idle re-check and submitters of hinted work.
     * While set, other schedulers take every unpinned queue: the ring, the
     * LIFO slot, the inbox and the due timers. Pairs with: the watchdog's
     * store then wakep (idle count loads), against an idler's npidle++ then
     * its load of stuck in work_visible (models/sched_idle.pml's
     * enqueue/re-check pattern, with "stuck" as part of the enqueue). */
    _Atomic int stuck;
    _Atomic int idle_timers;        /* while idle: its wheel had timers (deadlock check) */
    _Atomic int exited;             /* the thread left its loop (destroy) */

    /* Watchdog view. */
    _Atomic uint64_t slice_seq;
    _Atomic uint64_t running_pid;

    /* Timers. The wheel, its entries and their free list are protected by
     * wheel_lock: the owner takes it (uncontended: one exchange and one
     * release store) to arm, drop and fire; a thief only try-locks it, and
     * only while the scheduler is stuck, to fire its due timers on the
     * thief's thread. timer_due: a lower bound of the earliest deadline on
     * the wheel (INT64_MAX when none were armed since it was last
     * recomputed), written under the lock, read without it: a fast "is
     * anything due" check for the owner's loop and for thieves. */
    _Atomic uint32_t wheel_lock;
    _Atomic int64_t timer_due;
    swarm__wheel_t wheel;
    swarm__timer_t *timer_free;
    swarm__timer_t **timer_blocks;  /* allocations to free at destroy */
    size_t timer_nblocks;
    struct swarm_msg *msg_cache;    /* free small message blocks (msg/msg.c) */
    uint32_t msg_cache_n;

    swarm__crash_t crash;
    void *altstack;
    size_t altstack_size;

    swarm__counters_t st;
    swarm__thread_t thread;         /* runtime-owned stack (base/sys.h) */
    int thread_started;
    clockid_t cpu_clock;            /* the thread's CPU-time clock (watchdog) */
    int tid;                        /* the thread's kernel id (watchdog: /proc/self/task/<tid>/) */
    _Atomic int cpu_clock_ok;       /* cpu_clock and tid are set (seq_cst store after them,
                                       pairs with the watchdog's load before reading them) */

    /* Sanitizer fiber state of the scheduler's own stack. */
    void *tsan_fiber;
    void *asan_fake_stack;
    const void *stack_bottom;
    size_t stack_size;
} swarm__sched_t;

/* The scheduler the calling thread is running, or NULL. Never inlined and
 * never cached by the compiler across a switch (DESIGN invariant 4). */
swarm__sched_t *swarm__sched_self(void);
void swarm__sched_set_self(swarm__sched_t *s);

/* The running process, or NULL outside a process. */
static inline swarm__proc_t *swarm__proc_self(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s ? s->current : NULL;
}

/* Process side: hand the CPU back to the scheduler with an action. Returns
 * when the process runs again (for YIELD and PARK), possibly on another
 * thread: callers must re-read swarm__sched_self() afterwards. */
void swarm__sched_switch_out(swarm__sched_t *s, swarm__proc_t *p, int action);

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

/* Make a WAITING process runnable: called by the one thread whose mailbox
 * push found the EMPTY mark. Any thread. */
void swarm__proc_wake(swarm__proc_t *p);

/* Start a freshly initialised process (state RUNNABLE) on the best queue:
 * s = the calling scheduler of the same swarm, or NULL; hint = scheduler index
 * or SWARM_SCHED_ANY. */
void swarm__sched_submit(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int hint);

/* Timed waits: arm a timer for the current wait of p on s (deadline in ms
 * ticks), and drop it after the wait. Process side. */
int swarm__timer_arm(swarm__sched_t *s, swarm__proc_t *p, int64_t deadline_ms);
void swarm__timer_disarm(swarm__proc_t *p);

/* Scheduler lifecycle (runtime/swarm.c). */
int swarm__sched_init(swarm__sched_t *s, swarm_t *sw, unsigned index);
void swarm__sched_destroy(swarm__sched_t *s);
int swarm__sched_start(swarm__sched_t *s);
void swarm__sched_wake_all(swarm_t *sw);
/* The scheduler thread's last act: tell a waiting destroy. */
void swarm__sched_exited(swarm__sched_t *s);
/* Wake one idle scheduler as a spinner (watchdog: a queue needs a thief). */
void swarm__sched_wake_idle(swarm_t *sw);
/* Deterministic mode: run the swarm on the calling thread until no process
 * is left or deadline_ms (absolute, real clock) passes. */
int swarm__sched_run_deterministic(swarm_t *sw, int64_t timeout_ms);

/* Release what a process owned and free its slot (scheduler stack or a
 * thread outside the swarm at destroy). */
void swarm__proc_cleanup(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int reason,
                         const swarm__crash_t *crash);

/* Fault handling (sched/fault.c). */
int swarm__fault_init(void);
int swarm__fault_thread_enter(swarm__sched_t *s);
void swarm__fault_thread_leave(swarm__sched_t *s);

/* Watchdog (sched/watchdog.c). */
int swarm__watchdog_start(swarm_t *sw);
void swarm__watchdog_stop(swarm_t *sw);
void swarm__watchdog_kick(swarm_t *sw);

#endif
