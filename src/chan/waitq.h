/*
 * chan/waitq.h - the wait queue of channels, mutexes, condition variables
 * and semaphores: a FIFO of parked processes guarded by a spinlock, parked
 * through swarm__sched_park with a commit hook (docs/design/chan.md).
 *
 * The wake token. A process P that waits queues one waiter node (on its
 * own stack) on one or more queues, each under that queue's lock, and
 * parks; the commit hook, on the scheduler's stack after the switch, marks
 * P's mailbox EMPTY and then releases the locks (models/park_hook.pml: no
 * waker can find P before it is switched out). From then on the EMPTY mark
 * is P's wake token: whoever takes it wakes P, and nobody else may.
 *
 *   - a waker on a queue takes it with swarm__mbox_claim (a CAS of the
 *     mailbox head from "stub | EMPTY" to "stub"), under the queue's lock;
 *   - a message or signal pushed to P takes it by its exchange (msg/), so
 *     an exit signal (a kill) wakes P from any of these waits;
 *   - the wait's timer takes it with the same CAS (swarm__waitq_fire).
 *
 * A waker whose claim fails (P is being woken by someone else) drops P's
 * node from its queue and serves the next one; P, once running, takes its
 * nodes off every queue they are still on and looks again. The waker that
 * claims P completes P's operation (copies the value, hands over the
 * mutex), sets done and result under the lock, and wakes P after
 * unlocking. So a node with done set was served; any other wake-up is
 * spurious and the caller's loop re-checks.
 */
#ifndef SWARM_CHAN_WAITQ_H
#define SWARM_CHAN_WAITQ_H

#include <stdatomic.h>
#include <stdint.h>

#include "arch/spin.h"
#include "ptable/ptable.h"
#include "ptable/res.h"
#include "sched/sched.h"

typedef struct swarm__waitq swarm__waitq_t;

typedef struct swarm__waiter {
    struct swarm__waiter *next, *prev; /* [lock] */
    swarm__waitq_t *q;                 /* [lock] the queue it is on; NULL off every queue */
    swarm__proc_t *p;                  /* the waiting process */
    swarm_pid_t pid;
    _Atomic uint32_t *lock;            /* the lock of q */
    void *elem;                        /* chan: the value to send, or where a received one goes */
    int result;                        /* [lock] set by the waker that served it */
    int done;                          /* [lock] served: result is valid */
    unsigned index;                    /* the user's: a select's case index */
    swarm__res_t res;                  /* on p's resource list while queued (destroy, exit) */
    struct swarm__waiter *wnext;       /* the waker's list of nodes to wake after unlocking */
} swarm__waiter_t;

struct swarm__waitq {
    swarm__waiter_t *head, *tail;      /* [lock] */
};

/* The spinlock of a queue (arch/spin.h: held for a few stores and a
 * memcpy; never by a running process across a switch: a park's hook
 * releases it). */
static inline void swarm__waitq_lock(_Atomic uint32_t *l) { swarm__spin_lock(l); }
static inline void swarm__waitq_unlock(_Atomic uint32_t *l) { swarm__spin_unlock(l); }

/* Append w at the tail (the caller holds q's lock). */
void swarm__waitq_push(swarm__waitq_t *q, swarm__waiter_t *w);
/* Put w at the head (a waiter that keeps its turn). */
void swarm__waitq_push_front(swarm__waitq_t *q, swarm__waiter_t *w);
/* Take w off q (the caller holds q's lock; w->q == q). */
void swarm__waitq_remove(swarm__waitq_t *q, swarm__waiter_t *w);

/* The first waiter of q whose process the caller could claim, taken off
 * q; nodes whose claim failed are dropped on the way. NULL: none. The
 * caller holds q's lock; it must set the node's result and done, and wake
 * it (swarm__waitq_wake) after unlocking. */
swarm__waiter_t *swarm__waitq_take(swarm__waitq_t *q);

/* Make a served node's process runnable (after its queue's lock is
 * released; the node must not be touched after this). Any thread. */
void swarm__waitq_wake(swarm__waiter_t *w);

/* Wake a list linked through wnext. */
void swarm__waitq_wake_list(swarm__waiter_t *list);

/* Park the running process p: locks[0..n) (n <= SWARM__WAITQ_MAX_LOCKS,
 * all held by the caller, its nodes queued) are released by the commit
 * hook after p's mailbox was marked EMPTY. Returns when p runs again; the
 * hook refuses the park (p runs on at once) if p's mailbox is not empty.
 * s is stale afterwards (swarm__sched_self()). kind (a swarm_wait_t) is
 * what p reports it waits for until the caller's operation ends (it
 * clears p->wait_kind then). */
#define SWARM__WAITQ_MAX_LOCKS 65
void swarm__waitq_park(swarm__sched_t *s, swarm__proc_t *p, _Atomic uint32_t *const *locks, unsigned n,
                       int kind);

/* Before a wait: arm p's timer for deadline (the swarm's ms; SWARM__NEVER:
 * none) if not armed. Returns 0, or SWARM_ENOMEM (poll instead: yield). */
int swarm__waitq_arm(swarm__sched_t *s, swarm__proc_t *p, int64_t deadline);

/* Between two parks of one wait: handle what arrived in p's mailbox
 * (signals take effect: p may end here, so hold no lock; messages are set
 * aside for a later receive). */
void swarm__waitq_mailbox_slow(swarm__sched_t *s, swarm__proc_t *p);
static inline void swarm__waitq_mailbox(swarm__sched_t *s, swarm__proc_t *p)
{
    if (SWARM_UNLIKELY(swarm__mbox_busy(&p->mbox)))
        swarm__waitq_mailbox_slow(s, p);
}

/* The deadline (the swarm's ms, SWARM__NEVER for none) of a wait of
 * timeout_ms (> 0 or SWARM_INFINITE) starting now. */
int64_t swarm__waitq_deadline(swarm_t *sw, int64_t timeout_ms);

#endif
