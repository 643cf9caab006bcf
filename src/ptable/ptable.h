/*
 * ptable/ptable.h - process control blocks, pids and the process table.
 *
 * A pid is 64 bits: [swarm id:8][generation:32][slot index:24]. The table is
 * one reserved mapping of SWARM__PCB_SIZE-byte slots that is never unmapped
 * while the swarm lives, so a PCB pointer from a stale pid always points at
 * valid memory: the generation in the slot's state word tells whether the
 * pid is still the slot's owner. Nothing is ever delivered by slot alone.
 *
 * The state word packs the slot's current generation with the process
 * state, so one load tells a sender whether its pid is still alive:
 *
 *   FREE -> RUNNABLE (spawn) -> RUNNING (a scheduler took it)
 *   RUNNING -> RUNNABLE (yield) | WAITING (park) | EXITING (exit)
 *   WAITING -> RUNNABLE (wake)
 *   EXITING -> FREE with generation + 1 (cleanup done)
 *
 * Every transition has exactly one writer, so all are plain stores: the
 * only way to wake a waiting process is a mailbox push that finds the
 * queue's EMPTY mark (mbox/mailbox.h), and only one push can find it. The
 * mark is set by the scheduler after the process has switched out, so it
 * doubles as the "wake pending" handshake of invariant 3
 * (docs/design/sched.md explains why there is no WAKE_PENDING bit).
 */
#ifndef SWARM_PTABLE_PTABLE_H
#define SWARM_PTABLE_PTABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "mbox/mailbox.h"
#include "ptable/res.h"
#include "stack/stack.h"
#include "swarmrt/runtime.h"

#define SWARM__PID_INDEX_BITS 24
#define SWARM__PID_SWARM_SHIFT 56
#define SWARM__PID_INDEX_MASK ((1u << SWARM__PID_INDEX_BITS) - 1)

static inline swarm_pid_t swarm__pid_make(unsigned swarm_id, uint32_t gen, uint32_t index)
{
    return ((uint64_t)swarm_id << SWARM__PID_SWARM_SHIFT) | ((uint64_t)gen << SWARM__PID_INDEX_BITS) |
           index;
}
static inline unsigned swarm__pid_swarm(swarm_pid_t pid) { return (unsigned)(pid >> SWARM__PID_SWARM_SHIFT); }
static inline uint32_t swarm__pid_gen(swarm_pid_t pid) { return (uint32_t)(pid >> SWARM__PID_INDEX_BITS); }
static inline uint32_t swarm__pid_index(swarm_pid_t pid) { return (uint32_t)pid & SWARM__PID_INDEX_MASK; }

enum swarm__pstate {
    SWARM__PS_FREE = 0,
    SWARM__PS_RUNNABLE = 1,
    SWARM__PS_RUNNING = 2,
    SWARM__PS_WAITING = 3,
    SWARM__PS_EXITING = 4,
};
#define SWARM__PS_MASK 0xffu

static inline uint64_t swarm__pstate_make(uint32_t gen, uint32_t st) { return ((uint64_t)gen << 32) | st; }
static inline uint32_t swarm__pstate_gen(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint32_t swarm__pstate_st(uint64_t w) { return (uint32_t)w; }

struct swarm__sched;
struct swarm__timer;
struct swarm_msg;
struct swarm__psig;

typedef struct swarm__proc {
    /* Shared with wakers: state, and what a waker needs to enqueue. */
    _Atomic uint64_t state;
    swarm_t *swarm;
    uint32_t index;
    uint16_t swarm_id;
    uint16_t flags;
    /* What the process waits for while in a receive (deadlock reports,
     * process info): a swarm_wait_t (swarmrt/proc.h), set by msg/msg.c
     * as it parks and cleared as its receive returns, and the tag. */
    uint8_t wait_kind;
    /* Its priority (SWARM_PRIO_*), written by the process itself or its
     * spawn, read by whoever queues it (sched/queue.c). */
    int8_t prio;
    /* A low-priority process: times it was passed over (sched/queue.c). */
    uint8_t low_skips;
    uint8_t spare;
    uint32_t wait_tag;

    /* Owned by whoever runs the process. */
    void *sp;                      /* saved context while not running; NULL before its first
                                      run; the continuation while it hibernates */
    /* fn and arg are read once, by the first run (proc/spawn.c); from
     * then on the same words count the process's reductions (sched/run.c)
     * and the entries its save list ever took (msg/msg.c), so the PCB
     * stays within 256 bytes. */
    union {
        struct {
            swarm_fn fn;
            void *arg;
        };
        struct {
            uint64_t reductions;
            uint64_t save_seq; /* entries its save list ever took (receive marks) */
        };
    };
    swarm__stack_t stack;
    int exit_reason;               /* an atom (swarmrt/reason.h); payload in sig */
    _Atomic uint32_t wait_seq;     /* bumped at each timed wait; timers check it */
    struct swarm__timer *timer;    /* timer of the current timed wait, if any */
    uint32_t timer_seq;
    struct swarm__sched *timer_owner;
    struct swarm__sched *home;     /* the only scheduler a pinned process runs on */
    /* Receiver-private lists (see msg/msg.c). */
    struct swarm_msg *save_head, *save_tail; /* popped but not matched yet, in order */
    struct swarm_msg *held;        /* received, not yet freed (freed at exit) */
    uint32_t save_len;
    void *asan_fake_stack;
    void *tsan_fiber;
    /* What the process must give back when it ends (ptable/res.h), and
     * the node its messages register there (msg/). */
    swarm__res_t *res;
    swarm__res_t msg_res;
    /* Links, monitors, the exit payload (msg/sig.h), NULL until needed. */
    struct swarm__psig *sig;
    /* Set by a sender after pushing an exit signal; the process checks it
     * at its switch points. [atomic] */
    _Atomic uint32_t sig_pending;
    /* Its registered name + 1, 0 if none (ptable/names.h). [atomic] */
    _Atomic uint32_t name1;
    /* The call it waits for the reply of (0: none), and its last call
     * number (msg/: swarm__msg_recv_call). [owner] */
    uint32_t call_corr, corr_seq;

    swarm__mailbox_t mbox;
} swarm__proc_t;

/* DESIGN target: a PCB of at most 256 bytes. */
_Static_assert(sizeof(swarm__proc_t) <= 256, "PCB grew past 256 bytes");

/* proc->flags */
#define SWARM__PF_PINNED 1u    /* runs only on proc->home (swarm_pin) */
#define SWARM__PF_TRAP_EXIT 2u /* exit signals become messages (swarm_trap_exit) */
#define SWARM__PF_COMPACT 4u   /* its stack may be compacted when parked long (sched/compact.c) */
#define SWARM__PF_COMPACTED 8u /* its stack is compacted now: restore before it runs */
#define SWARM__PF_HIBERNATED 16u /* it hibernates: no stack, sp holds its continuation */

/* The pid of the process now in slot p (its current generation). */
static inline swarm_pid_t swarm__ptable_pid(const swarm__proc_t *p)
{
    uint64_t w = atomic_load_explicit(&((swarm__proc_t *)p)->state, memory_order_relaxed);
    return swarm__pid_make(p->swarm_id, swarm__pstate_gen(w), p->index);
}

/* Per-scheduler cache of free slot indices. Its owner allocates and frees
 * through it; when the table runs short (the shared list and the fresh
 * slots are exhausted) any spawner takes slots out of the other caches, so
 * a cache never strands capacity. The lock is a spinlock held for a few
 * index copies, uncontended except when the table is short. */
#define SWARM__PCACHE_MAX 256
typedef struct swarm__pcache {
    _Atomic int lock;
    uint32_t n;
    uint32_t idx[SWARM__PCACHE_MAX];
} swarm__pcache_t;

#define SWARM__PTABLE_NO_CACHE ((unsigned)-1)

/* A bounded mailbox (msg/bound.c), one per slot, in an array beside the
 * table (the PCB has no room left). Like the PCBs it is never unmapped,
 * so a sender holding a stale pid reads valid memory; the generation in
 * word tells it whether the count is its receiver's. */
struct swarm__bwait;
typedef struct swarm__mbound {
    _Atomic uint64_t word;       /* generation << 32 | messages in the mailbox */
    _Atomic uint32_t max;        /* 0: unbounded (set at spawn) */
    _Atomic uint32_t nwait;      /* senders parked for room */
    _Atomic uint32_t lock;       /* guards the waiter list */
    _Atomic uint32_t policy;     /* a swarm_mbox_full_t (set at spawn) */
    struct swarm__bwait *whead, *wtail; /* [lock] parked senders, FIFO */
} swarm__mbound_t;

/* Stack compaction (sched/compact.c), one per slot in an array beside
 * the table, reserved like it. */
typedef struct swarm__compact {
    _Atomic uint32_t after_ms;   /* 0: off; set at spawn, cleared at exit */
    _Atomic uint32_t ok_seq;     /* nonzero while the process is parked in a wait that
                                    compaction may take (set and cleared by the process) */
    uint32_t ok_next;            /* [process] the last ok_seq it used */
    uint32_t seen_seq;           /* [sweeper] ok_seq when first seen parked */
    int64_t seen_ms;             /* [sweeper] when (the swarm's ms) */
    void *stash;                 /* [token] the live stack bytes while compacted */
    uint32_t stash_len;
} swarm__compact_t;

/* A swarm's registered names (ptable/names.h has the calls). */
typedef struct swarm__name_slot {
    swarm_pid_t pid;   /* SWARM_PID_NONE: empty or deleted */
    uint32_t atom1;    /* atom + 1; 0 empty, UINT32_MAX deleted */
} swarm__name_slot_t;

typedef struct swarm__names {
    pthread_mutex_t lock;
    swarm__name_slot_t *tab; /* open addressing, NULL until the first name */
    uint32_t cap, used;      /* used counts live and deleted slots */
} swarm__names_t;

typedef struct swarm__ptable {
    swarm__proc_t *procs;          /* max slots, reserved, zero until first use */
    size_t map_len;
    uint32_t max;
    uint32_t gen_base;             /* first generation of every slot (random per swarm) */
    _Atomic uint32_t fresh;        /* slots [0, fresh) have been initialised */
    pthread_mutex_t lock;          /* protects free_idx */
    uint32_t *free_idx;
    uint32_t free_n;
    swarm__pcache_t *caches;       /* one per scheduler */
    unsigned ncaches;
    swarm__names_t names;          /* registered names (ptable/names.h) */
    swarm__mbound_t *mbound;       /* max entries, reserved like procs (msg/bound.c) */
    size_t mbound_len;
    _Atomic int bounded_any;       /* a bounded mailbox was ever made here */
    swarm__compact_t *compact;     /* max entries, reserved like procs (sched/compact.c) */
    size_t compact_len;
} swarm__ptable_t;

/* max slots, ncaches per-scheduler caches. Returns 0 or SWARM_ENOMEM. */
int swarm__ptable_init(swarm__ptable_t *t, uint32_t max, uint32_t gen_base, unsigned ncaches);
void swarm__ptable_destroy(swarm__ptable_t *t);

/* Take a free slot (its state is FREE with the slot's current generation).
 * cache: the calling scheduler's cache index, or SWARM__PTABLE_NO_CACHE
 * (any thread). The caller must have reserved the slot first: the number
 * of slots taken or reserved never exceeds max (the runtime counts live
 * processes in swarm_t.live, incremented before this call and decremented
 * only after swarm__ptable_free). Under that rule a free slot exists
 * somewhere (shared list, fresh slots or some scheduler's cache) and this
 * call finds it: it never fails. */
swarm__proc_t *swarm__ptable_alloc(swarm__ptable_t *t, unsigned cache);

/* Give back a slot whose state is already FREE with the new generation. */
void swarm__ptable_free(swarm__ptable_t *t, unsigned cache, swarm__proc_t *p);

/* The slot a pid names, or NULL if the index is out of range. Does not check
 * the generation. */
static inline swarm__proc_t *swarm__ptable_slot(swarm__ptable_t *t, swarm_pid_t pid)
{
    uint32_t i = swarm__pid_index(pid);
    return i < t->max ? &t->procs[i] : NULL;
}

/* Slots ever used: [0, swarm__ptable_used). */
static inline uint32_t swarm__ptable_used(swarm__ptable_t *t)
{
    return atomic_load_explicit(&t->fresh, memory_order_acquire);
}

/* "<swarm.index.generation>" into buf (swarm_pid_format; the runtime's own
 * reports use it too). Returns buf. */
char *swarm__pid_format(swarm_pid_t pid, char *buf, size_t len);

/* Is pid the live owner of slot p? Dead (exiting or freed) and stale pids
 * (the slot has a newer generation, or was never used) are not. The one
 * liveness check; senders reach it through swarm__pid_resolve. */
static inline int swarm__ptable_live(swarm__ptable_t *t, swarm__proc_t *p, swarm_pid_t pid)
{
    if (swarm__pid_index(pid) >= swarm__ptable_used(t))
        return 0;
    uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
    uint32_t st = swarm__pstate_st(w) & SWARM__PS_MASK;
    return swarm__pstate_gen(w) == swarm__pid_gen(pid) && st != SWARM__PS_FREE && st != SWARM__PS_EXITING;
}

#endif
