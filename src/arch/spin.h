/*
 * arch/spin.h - the runtime's spinlock: a word, held for a few stores
 * (a wait queue, an fd's waiters, a bounded mailbox's parked senders),
 * never by a running process across a switch.
 *
 * The waiter spins with the CPU's pause hint, backing off exponentially
 * (1 to 16 pauses between reads: fewer reads of a line the holder is
 * writing; 10-15% faster on chan_pipeline at 2 schedulers than one pause,
 * docs/benchmark-notes.md), then yields its thread: the holder's thread
 * may have been preempted (2 schedulers on a loaded machine), and
 * spinning on against it only burns its time slice.
 * acquire pairs with the release store of swarm__spin_unlock.
 */
#ifndef SWARM_ARCH_SPIN_H
#define SWARM_ARCH_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "arch/cpu.h"

static inline void swarm__spin_lock(_Atomic uint32_t *l)
{
    unsigned backoff = 1, spins = 0;
    while (atomic_exchange_explicit(l, 1, memory_order_acquire)) {
        while (atomic_load_explicit(l, memory_order_relaxed)) {
            if (++spins < 256) {
                for (unsigned i = 0; i < backoff; i++)
                    SWARM_CPU_RELAX();
                if (backoff < 16)
                    backoff <<= 1;
            } else {
                sched_yield();
            }
        }
    }
}

static inline void swarm__spin_unlock(_Atomic uint32_t *l)
{
    atomic_store_explicit(l, 0, memory_order_release);
}

#endif
