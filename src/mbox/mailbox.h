/*
 * mbox/mailbox.h - the per-process signal queue (intrusive MPSC).
 *
 * Producers are any threads; the consumer is the owning process. The queue
 * is Vyukov's intrusive MPSC list with a stub node, plus an EMPTY mark in the
 * low bit of the head pointer (the Pony "was empty" idea):
 *
 *   - push swaps itself into head and then links the previous node; if the
 *     previous head carried the EMPTY mark, the pusher is the one producer
 *     that must wake the receiver (push returns nonzero).
 *   - the consumer marks the queue empty with a CAS that only succeeds when
 *     head is the bare stub, i.e. nothing was pushed since it looked; then it
 *     may park. Model: models/proc_park.pml.
 *
 * Between a producer's swap and its link the queue is "inconsistent": pop
 * returns NULL while head has moved. mark_empty fails in that window, so the
 * consumer never parks on a message that is being linked.
 *
 * Entries are the first member of a message or (later) of an exit, link or
 * monitor signal: one queue keeps them all in send order (invariant 5).
 *
 * A mailbox lives in a process-table slot and is never re-initialised after
 * the slot's first use: a late push by a sender holding a stale pid still
 * lands in a well-formed queue, and the slot's next owner drops it (the
 * entry carries the full receiver pid).
 */
#ifndef SWARM_MBOX_MAILBOX_H
#define SWARM_MBOX_MAILBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

typedef struct swarm__mnode {
    _Atomic(struct swarm__mnode *) next;
} swarm__mnode_t;

#define SWARM__MBOX_EMPTY ((uintptr_t)1)

/* head and tail share a cache line, as in Pony's messageq: padding them
 * apart would cost 120 bytes per process for a gain only under heavy N:1
 * contention. */
typedef struct swarm__mailbox {
    _Atomic uintptr_t head;   /* producers: last entry pushed | EMPTY mark */
    swarm__mnode_t *tail;     /* consumer: next entry to pop (or the stub) */
    swarm__mnode_t stub;
} swarm__mailbox_t;

void swarm__mbox_init(swarm__mailbox_t *mb);

/* Append n. Returns nonzero if the queue carried the EMPTY mark: the caller
 * must then wake the receiver. Any thread. */
static inline int swarm__mbox_push(swarm__mailbox_t *mb, swarm__mnode_t *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    /* acq_rel: releases n's contents to the consumer that follows the link;
     * seq_cst so the EMPTY-mark handshake with mark_empty's CAS and the wake
     * that follows is totally ordered (see models/proc_park.pml). */
    uintptr_t prev = atomic_exchange_explicit(&mb->head, (uintptr_t)n, memory_order_seq_cst);
    swarm__mnode_t *p = (swarm__mnode_t *)(prev & ~SWARM__MBOX_EMPTY);
    /* release: pairs with the acquire load of ->next in swarm__mbox_pop. */
    atomic_store_explicit(&p->next, n, memory_order_release);
    return (int)(prev & SWARM__MBOX_EMPTY);
}

/* Take the oldest entry, or NULL if the queue is empty or a push is in its
 * inconsistent window. Consumer only. */
swarm__mnode_t *swarm__mbox_pop(swarm__mailbox_t *mb);

/* Mark the queue empty. Returns 1 on success (nothing can be in flight and
 * the next push will report the mark), 0 if an entry is queued or being
 * linked (pop again). Consumer only. */
static inline int swarm__mbox_mark_empty(swarm__mailbox_t *mb)
{
    uintptr_t expect = (uintptr_t)&mb->stub;
    if (mb->tail != &mb->stub)
        return 0;
    if (atomic_load_explicit(&mb->head, memory_order_relaxed) == (expect | SWARM__MBOX_EMPTY))
        return 1;
    /* seq_cst: pairs with the exchange in swarm__mbox_push. */
    return atomic_compare_exchange_strong_explicit(&mb->head, &expect, expect | SWARM__MBOX_EMPTY,
                                                   memory_order_seq_cst, memory_order_relaxed);
}

/* Take the wake token of a parked consumer: the head is exactly
 * "stub | EMPTY" while it is parked with nothing pushed since it marked
 * it. Returns 1 if the caller took it (it is now the consumer's only
 * waker), 0 if a push (or another taker) found the mark first. Any
 * thread. seq_cst: pairs with the exchange of swarm__mbox_push and the CAS
 * of swarm__mbox_mark_empty, as those pair with each other
 * (models/proc_park.pml): of a push and a claim, exactly one finds the
 * mark. */
static inline int swarm__mbox_claim(swarm__mailbox_t *mb)
{
    uintptr_t expect = (uintptr_t)&mb->stub | SWARM__MBOX_EMPTY;
    return atomic_compare_exchange_strong_explicit(&mb->head, &expect, (uintptr_t)&mb->stub,
                                                   memory_order_seq_cst, memory_order_relaxed);
}

/* Nonzero if head moved past tail (something queued or being linked).
 * Consumer only; a hint for spinning through the inconsistent window. */
static inline int swarm__mbox_busy(swarm__mailbox_t *mb)
{
    uintptr_t h = atomic_load_explicit(&mb->head, memory_order_acquire) & ~SWARM__MBOX_EMPTY;
    return (swarm__mnode_t *)h != mb->tail || atomic_load_explicit(&mb->tail->next, memory_order_acquire);
}

#endif
