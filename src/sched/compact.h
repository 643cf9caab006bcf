/*
 * sched/compact.h - stack compaction of long-parked processes
 * (docs/design/compact.md).
 *
 * A process spawned with compact_after_ms (swarmrt/proc.h) that stays
 * parked that long in a receive or an fd wait has the live part of its
 * stack (its stack pointer up to the top: typically a few hundred bytes)
 * copied to the heap and the whole stack's pages given back to the kernel
 * (madvise DONTNEED); the bytes go back to the same addresses before it
 * runs again (invariant 1: a stack never moves, so pointers into it stay
 * valid for the process itself).
 *
 * Who may touch a parked process's stack decides which waits qualify.
 * Channel, mutex, semaphore and condition-variable waits queue a node on
 * the stack that wakers write to; a blocking call's argument and a parked
 * sender of a bounded mailbox live there too. A receive (any form, a
 * call's reply included) and an fd wait are woken through the mailbox
 * only. So those waits publish an "ok" sequence number in the process's
 * compaction entry while they park (swarm__compact_park / _unpark), and
 * only they are compacted.
 *
 * The sweeper (an idle scheduler, swarm__compact_sweep) takes the
 * process's wake token (mbox/: swarm__mbox_claim), so nothing can run it
 * meanwhile, checks the sequence number again, compacts, and parks it
 * again, or wakes it if something was pushed meanwhile
 * (swarm__sched_let_go). A process whose token it took but that does not qualify any
 * more is woken: a spurious wake-up, which every wait survives (it looks
 * again).
 */
#ifndef SWARM_SCHED_COMPACT_H
#define SWARM_SCHED_COMPACT_H

#include <stdint.h>

#include "state/state.h"

/* Spawn: let p be compacted after after_ms ms parked (0: never). */
void swarm__compact_spawn(swarm_t *sw, swarm__proc_t *p, uint32_t after_ms);

/* Exit (p's stack is restored first if it was compacted: destroy). */
void swarm__compact_exit(swarm_t *sw, swarm__proc_t *p);

/* Before parking in a wait compaction may take, and after it. The
 * running process p only; nothing if p does not allow compaction. */
void swarm__compact_park_slow(swarm_t *sw, swarm__proc_t *p);
void swarm__compact_unpark_slow(swarm_t *sw, swarm__proc_t *p);
static inline void swarm__compact_park(swarm_t *sw, swarm__proc_t *p)
{
    if (SWARM_UNLIKELY(p->flags & SWARM__PF_COMPACT))
        swarm__compact_park_slow(sw, p);
}
static inline void swarm__compact_unpark(swarm_t *sw, swarm__proc_t *p)
{
    if (SWARM_UNLIKELY(p->flags & SWARM__PF_COMPACT))
        swarm__compact_unpark_slow(sw, p);
}

/* Put p's stack back (p->flags has SWARM__PF_COMPACTED): before it runs,
 * by the scheduler that took it; or at destroy. */
void swarm__compact_restore(swarm_t *sw, swarm__proc_t *p);

/* An idle scheduler about to sleep: sweep if a sweep is due. Returns the
 * swarm's ms when the next one is due, INT64_MAX if none is needed. */
int64_t swarm__compact_sweep(swarm__sched_t *s);

#endif
