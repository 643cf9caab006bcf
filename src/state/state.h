/*
 * state/state.h - the data of a swarm, in one place (as Lua's lstate.h).
 *
 * Data only: struct swarm and the scheduler, swarm__sched_t, each made of
 * one sub-struct per layer. The sub-structs are anonymous, so code names a
 * field directly (sw->injector, s->pool) while this file shows which
 * layer owns it. Every field says who may write it:
 *
 *   [create]   written once by swarm_create / swarm__sched_init, read-only after
 *   [owner]    only the scheduler's own thread (a plain field)
 *   [atomic]   any thread, through atomics (what pairs with what is said there)
 *   [lock X]   under lock X
 *
 * Code lives in the layers (docs/design/layers.md); the layers at and above
 * the scheduler (sched/, msg/, proc/, timer/, runtime/) include this file.
 */
#ifndef SWARM_STATE_STATE_H
#define SWARM_STATE_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "base/compiler.h"
#include "base/sys.h"
#include "mem/pool.h"
#include "ptable/ptable.h"
#include "stack/stack.h"
#include "runq/runq.h"
#include "swarmrt/runtime.h"
#include "swarmrt/stats.h"
#include "wheel/wheel.h"

/* What a process asks of its scheduler when it switches out. */
enum swarm__action {
    SWARM__ACT_NONE = 0,
    SWARM__ACT_YIELD,  /* requeue at the tail */
    SWARM__ACT_PARK,   /* WAITING, then the park's commit hook (sched.h), or run again */
    SWARM__ACT_EXIT,   /* clean up and free the slot */
    SWARM__ACT_HIBERNATE, /* drop the stack, then park like ACT_PARK; on its next
                             run the process starts afresh (sched.h) */
};

/* Stacks of hibernating processes a scheduler drops at once (sched/hibernate.h). */
#define SWARM__HIB_BATCH 64

/* The commit hook of a park (sched.h: swarm__sched_park). */
typedef int (*swarm__park_commit_fn)(swarm__proc_t *p, void *ctx);

/* The scheduler counters, listed once: this list defines
 * swarm__counters_t and drives the copying and summing in runtime/stats.c.
 * Each name is also a field of swarm_sched_stats_t. Written only by their
 * scheduler (relaxed load + store: SWARM__STAT_ADD), read by anyone. */
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
    /* sched/run.c: running processes. [owner] unless said. */
    struct {
        swarm_t *swarm;                 /* [create] */
        unsigned index;                 /* [create] */
        int action;                     /* what the process asked for at its switch */
        swarm__park_commit_fn park_commit; /* with ACT_PARK: the commit hook ... */
        void *park_ctx;                 /* ... and its argument; with ACT_HIBERNATE,
                                           the continuation (sched.h) */
        void *resume;                   /* a hibernated process's continuation, from
                                           its wake-up until its entry takes it */
        void *sp;                       /* the scheduler's context while a process runs */
        swarm__proc_t *current;
        int32_t reductions;             /* left in the current chunk of the slice */
        int32_t slice_chunks;           /* chunks left in the slice, this one included */
        int64_t slice_t0_ns;            /* clock at the slice's first chunk end, 0 = not read */
        uint32_t tick;
        uint32_t lifo_streak;
        uint32_t busy_sends;            /* sends in a row by the running process into mailboxes
                                           whose receiver was not waiting (msg/: overload) */
        int64_t now_ms;                 /* clock as of the last timer check */
        uint64_t rng;
    };

    /* sched/queue.c: run queues. */
    struct {
        swarm__runq_t runq;             /* [atomic] owner puts and gets, thieves steal */
        /* LIFO slot. Only the owner stores a process into it; the owner
         * takes it with an exchange, and so does a thief while the
         * scheduler is stuck (steal_stuck in queue.c): whoever's exchange
         * returns the process runs it. The owner's put into an empty slot
         * is a plain release store (a thief only ever swaps a process out
         * for NULL, so an empty slot cannot change under the owner); a put
         * into a full slot is an exchange. */
        _Atomic(swarm__proc_t *) runnext SWARM_ALIGNED(SWARM_CACHELINE);
        swarm__plist_t inbox;           /* [atomic] enqueues from other threads */
        swarm__plist_t pinned;          /* [atomic] runnable processes pinned here (never stolen) */
    };

    /* sched/idle.c: idle parking (models/sched_idle.pml). */
    struct {
        int spinning;                   /* [owner] holds a spinning token */
        _Atomic uint32_t park_word;     /* [atomic] PARK_IDLE / PARK_TOKEN / PARK_SLEEPING (idle.c) */
        struct swarm__sched *idle_next; /* [lock idle_lock] */
        int idle;                       /* [lock idle_lock] on the idle list */
        /* Set (seq_cst) by the watchdog while one process has held this
         * scheduler past watchdog_ms, cleared when its slice counter moves;
         * read (seq_cst) by thieves, the idle re-check and submitters of
         * hinted work. While set, other schedulers take every unpinned
         * queue: the ring, the LIFO slot, the inbox and the due timers.
         * Pairs with: the watchdog's store then wakep (idle count loads),
         * against an idler's npidle++ then its load of stuck in
         * work_visible (models/sched_idle.pml's enqueue/re-check pattern,
         * with "stuck" as part of the enqueue). */
        _Atomic int stuck;
        _Atomic int idle_timers;        /* [atomic] while idle: its wheel had timers (deadlock check) */
        _Atomic int exited;             /* [atomic] the thread left its loop (destroy) */
    };

    /* sched/watchdog.c: what the watchdog samples. [atomic], relaxed: a
     * sample that races a change only delays a report by one period. */
    struct {
        _Atomic uint64_t slice_seq;     /* bumped at every slice start */
        _Atomic uint64_t running_pid;   /* 0 between slices */
    };

    /* sched/timers.c: the timer service. The wheel, its entries and their
     * free list are protected by wheel_lock: the owner takes it
     * (uncontended: one exchange and one release store) to arm, drop and
     * fire; a thief only try-locks it, and only while the scheduler is
     * stuck, to fire its due timers on the thief's thread. timer_due: a
     * lower bound of the earliest deadline on the wheel (INT64_MAX when
     * none were armed since it was last recomputed), written under the
     * lock, read without it: a fast "is anything due" check for the
     * owner's loop and for thieves. */
    struct {
        _Atomic uint32_t wheel_lock;
        _Atomic int64_t timer_due;
        swarm__wheel_t wheel;
        swarm__timer_t *timer_free;
        swarm__timer_t **timer_blocks;  /* allocations to free at destroy */
        size_t timer_nblocks;
    };

    /* sched/hibernate.c: processes that hibernated here whose stacks are
     * still to be dropped. [owner] */
    struct {
        struct swarm__hib_drop {
            swarm__proc_t *p;
            uint32_t gen;
        } hib_drops[SWARM__HIB_BATCH];
        uint32_t hib_ndrops;
    };

    /* mem/pool.h: this scheduler's cache of free blocks (messages).
     * [owner]: only code running on this scheduler's thread touches it. */
    swarm__pool_cache_t pool;

    /* sched/fault.c: crash isolation. [owner] */
    struct {
        swarm__crash_t crash;
        void *altstack;
        size_t altstack_size;
    };

    swarm__counters_t st;               /* see SWARM__COUNTERS */

    /* sched/run.c: the thread. [create] unless said. */
    struct {
        swarm__thread_t thread;         /* runtime-owned stack (base/sys.h) */
        int thread_started;
        clockid_t cpu_clock;            /* the thread's CPU-time clock (watchdog) */
        int tid;                        /* the thread's kernel id (watchdog: /proc/self/task/<tid>/) */
        _Atomic int cpu_clock_ok;       /* cpu_clock and tid are set (seq_cst store after them,
                                           pairs with the watchdog's load before reading them) */
        /* Sanitizer fiber state of the scheduler's own stack. [owner] */
        void *tsan_fiber;
        void *asan_fake_stack;
        const void *stack_bottom;
        size_t stack_size;
    };
} swarm__sched_t;

struct swarm {
    /* runtime/swarm.c: identity and configuration. [create] */
    struct {
        swarm_config_t cfg;
        char name[32];
        unsigned id;                    /* 1..255, in every pid */
        swarm_sched_source_t sched_source; /* where nsched came from (swarm_info) */
        unsigned cpus_allowed, cpu_quota;
    };

    /* ptable/, stack/: the process table and the stack arena. [create];
     * both synchronise internally. */
    struct {
        swarm__ptable_t ptable;
        swarm__stack_arena_t *stacks;
        size_t stack_size;              /* default, rounded to its class */
    };

    /* sched/: the schedulers and what they share. */
    struct {
        unsigned nsched;                /* [create] */
        unsigned nsched_init;           /* [create] schedulers whose init succeeded */
        swarm__sched_t *scheds;         /* [create] */
        swarm__plist_t injector;        /* [atomic] */
        /* [atomic] runnable high-priority processes (queue.c): every
         * scheduler takes from it before anything else. */
        swarm__plist_t high;
        pthread_mutex_t idle_lock;
        swarm__sched_t *idle_head;      /* [lock idle_lock] */
        _Atomic uint32_t npidle;        /* [atomic] seq_cst RMW under idle_lock (idle.c) */
        _Atomic uint32_t nspinning;     /* [atomic] seq_cst (idle.c) */
        _Atomic int shutdown;           /* [atomic] set once by destroy */
        /* Longest slice in ns (sched.h, SWARM__SLICE_BUDGET_MS); 0 in
         * deterministic mode. [create] */
        int64_t slice_budget_ns;
        /* Destroy: scheduler threads that have left their loop (futex word). */
        _Atomic uint32_t sched_exit_word;
    };

    /* sched/det.c: deterministic mode and the virtual clock. */
    struct {
        int deterministic;              /* [create] */
        uint64_t det_rng;               /* the one thread that runs the swarm */
        _Atomic int64_t vclock_ms;      /* [atomic] virtual now */
    };

    /* proc/: live processes. [atomic] swarm_wait sleeps on live_word until
     * live reaches zero. */
    struct {
        _Atomic uint64_t live;
        _Atomic uint64_t peak;
        _Atomic uint32_t live_word;
        _Atomic uint64_t foreign_spawns;  /* spawns from outside the swarm */
    };

    /* sched/compact.c: stack compaction of long-parked processes. [atomic] */
    struct {
        _Atomic uint32_t compact_procs;  /* live processes that allow it */
        _Atomic int compact_busy;        /* a scheduler is sweeping */
        _Atomic int64_t compact_due;     /* the swarm's ms of the next sweep */
        _Atomic uint64_t compactions;    /* stacks compacted so far */
        _Atomic uint64_t compact_saved;  /* bytes kept in stashes now */
    };

    /* msg/: message accounting done outside the schedulers' counters. [atomic] relaxed */
    struct {
        _Atomic uint64_t foreign_sent;    /* accepted sends from other threads/swarms */
        _Atomic uint64_t foreign_dropped; /* drops seen outside a scheduler (send-time, destroy) */
        _Atomic uint64_t rejected;        /* sends refused with an error */
    };

    /* sched/deadlock.c: deadlock detection. deadlock_watch: the mode is
     * REPORT or RETURN. idle_epoch counts schedulers leaving the idle
     * list; deadlock_epoch = idle_epoch + 1 while the deadlock found in
     * that idle spell stands. outside_ops counts sends and spawns from
     * outside the swarm between their first effect and their wake-up
     * (only when watching). */
    struct {
        swarm_deadlock_mode_t deadlock_mode; /* [create] */
        int deadlock_watch;                  /* [create] */
        _Atomic uint64_t idle_epoch;         /* [atomic] */
        _Atomic uint64_t deadlock_epoch;     /* [atomic] */
        _Atomic uint32_t outside_ops;        /* [atomic] */
    };

    /* sched/watchdog.c */
    struct {
        swarm__thread_t watchdog;       /* [create] */
        int watchdog_started;           /* [create] */
        _Atomic uint32_t watchdog_word; /* [atomic] futex word: kicks */
        _Atomic int watchdog_sleeping;  /* [atomic] every scheduler sleeps, so does it */
    };

    /* io/: the netpoller (docs/design/io.md). The epoll instance holds
     * every fd registered through io/ (edge-triggered, once each) and
     * the eventfd that breaks an epoll_wait. At most one scheduler polls
     * at a time, the one holding io_poll_lock: an idle one blocks in
     * epoll_wait (io_sleeper says which, for swarm__poller_wake), a busy
     * one polls without blocking now and then (io/poller.c). */
    struct {
        int io_epfd;                    /* [create] */
        int io_evfd;                    /* [create] */
        struct swarm__fdtab *fdtab;     /* [create] io/fd.c */
        struct swarm__bpool *bpool;     /* [atomic] io/blocking.c, made at the first blocking call */
        _Atomic int io_poll_lock;       /* [atomic] 1 while a scheduler polls */
        _Atomic(swarm__sched_t *) io_sleeper; /* [atomic] seq_cst: who is blocked in epoll_wait */
        _Atomic uint32_t io_nfds;       /* [atomic] fds registered */
        _Atomic uint32_t io_waiters;    /* [atomic] processes in an fd wait or a blocking call
                                           (the deadlock check counts them as wakeable) */
        _Atomic int64_t io_polled_ns;   /* [atomic] relaxed: clock at the last poll */
    };

    /* timer/tmsg.c: timer messages (send_after, start_timer), by ref:
     * a chained hash table. [lock tmsg_lock] (the lock: [create]) */
    struct {
        pthread_mutex_t tmsg_lock;
        struct swarm__tmsg **tmsg_tab;
        size_t tmsg_cap, tmsg_n;
    };
};

#endif
