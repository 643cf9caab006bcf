/*
 * runq/runq.h - run queues.
 *
 * swarm__runq_t: a scheduler's bounded ring of runnable processes (256).
 * Only the owner pushes (at tail); the owner and thieves take from head
 * with a CAS, so a steal moves half of the queue with one CAS (Go's runq
 * design). Slots are relaxed atomics: a thief may read a slot the owner is
 * about to reuse; the head CAS decides who owns what was read.
 *
 * swarm__plist_t: a mutex-protected FIFO ring of process pointers, for the
 * swarm-wide injector and each scheduler's inbox (enqueues from other
 * threads). Its capacity is the process table's size (a process is in at
 * most one queue), reserved as address space so it can never fill up and
 * costs only what is used. An array, not a list through the PCBs: taking a
 * batch of 128 copies pointers instead of walking 128 cold PCBs (measured:
 * the list walk was 21% of skynet's time). An atomic count lets the fast
 * path skip the lock.
 */
#ifndef SWARM_RUNQ_RUNQ_H
#define SWARM_RUNQ_RUNQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ptable/ptable.h"

#define SWARM__RUNQ_SIZE 256u

typedef struct swarm__runq {
    _Atomic uint32_t head; /* next to take: owner and thieves CAS it */
    _Atomic uint32_t tail; /* next free: written by the owner only */
    _Atomic(swarm__proc_t *) buf[SWARM__RUNQ_SIZE];
} swarm__runq_t;

typedef struct swarm__plist {
    pthread_mutex_t lock;
    swarm__proc_t **buf;
    size_t map_len;
    uint32_t cap, head;
    _Atomic uint32_t n;
} swarm__plist_t;

/* Owner: append p. Returns 0, or -1 when the ring is full (nothing done). */
int swarm__runq_put(swarm__runq_t *q, swarm__proc_t *p);

/* Owner: take the oldest, or NULL. */
swarm__proc_t *swarm__runq_get(swarm__runq_t *q);

/* Owner, ring full: take half of the ring plus p out into batch (oldest
 * first, room for SWARM__RUNQ_SIZE / 2 + 1) for the injector. Returns the
 * count, 0 if the ring was not full after all (then put p again). */
uint32_t swarm__runq_spill(swarm__runq_t *q, swarm__proc_t *p, swarm__proc_t **batch);

/* Thief: move half of victim's ring into the thief's own ring (which must be
 * empty). Returns one process to run now (the rest were queued), or NULL. */
swarm__proc_t *swarm__runq_steal(swarm__runq_t *thief, swarm__runq_t *victim, uint32_t *count);

uint32_t swarm__runq_len(swarm__runq_t *q);

/* Room for cap processes. Returns 0 or SWARM_ENOMEM. */
int swarm__plist_init(swarm__plist_t *l, uint32_t cap);
void swarm__plist_destroy(swarm__plist_t *l);
/* Append n processes, in order. Any thread. */
void swarm__plist_push(swarm__plist_t *l, swarm__proc_t *const *procs, uint32_t n);
/* Take up to max processes, oldest first, into out; returns the count. */
uint32_t swarm__plist_take(swarm__plist_t *l, uint32_t max, swarm__proc_t **out);

static inline uint32_t swarm__plist_len(swarm__plist_t *l)
{
    return atomic_load_explicit(&l->n, memory_order_relaxed);
}

#endif
