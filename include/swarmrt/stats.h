/*
 * swarmrt/stats.h - scheduler and message counters.
 *
 * Counters are kept per scheduler by the scheduler itself and read here
 * without stopping anything: a snapshot taken while the swarm runs is
 * consistent per counter, not across counters.
 */
#ifndef SWARMRT_STATS_H
#define SWARMRT_STATS_H

#include <stdint.h>

#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swarm_sched_stats {
    uint64_t switches;       /* processes switched in */
    uint64_t yields;         /* voluntary yields and spent slices */
    uint64_t spawns;         /* processes spawned on this scheduler */
    uint64_t exits;          /* processes that ended here */
    uint64_t crashes;        /* of which by a fault or stack overflow */
    uint64_t msgs_sent;      /* messages queued by processes running here */
    uint64_t msgs_received;  /* messages handed to processes running here */
    uint64_t msgs_dropped;   /* queued messages dropped here (the receiver ended
                                before receiving them) */
    uint64_t steals;         /* successful steal operations by this scheduler */
    uint64_t stolen;         /* processes taken in those steals */
    uint64_t parks;          /* times this scheduler thread went to sleep */
    uint64_t timers_fired;   /* timers that expired here */
    uint64_t watchdog_reports; /* times the watchdog found this scheduler stuck */
    uint64_t queued;         /* processes in this scheduler's run queue now */
} swarm_sched_stats_t;

typedef struct swarm_stats {
    swarm_sched_stats_t total; /* sum over schedulers (queued: sum too) */
    uint64_t procs_live;       /* live processes now */
    uint64_t procs_peak;       /* most live at once */
    /* Message accounting, runtime-wide. A send to this swarm either returns
     * 0 (accepted: counted in msgs_sent_total) or an error (refused: counted
     * in msgs_rejected, never queued). Every accepted message is delivered,
     * dropped, or still queued (in flight):
     *   msgs_sent_total == msgs_delivered + msgs_dropped + msgs_in_flight
     * A send to a pid whose swarm no longer exists has no swarm to count it
     * and is counted nowhere. */
    uint64_t msgs_sent_total;  /* sends that returned 0 (from any thread) */
    uint64_t msgs_delivered;   /* handed to a receiver */
    uint64_t msgs_dropped;     /* accepted, then dropped: the receiver ended (or
                                  the swarm was destroyed) before receiving it */
    uint64_t msgs_in_flight;   /* derived: sent - delivered - dropped */
    uint64_t msgs_rejected;    /* sends that returned an error: SWARM_ESRCH (dead
                                  or stale pid), SWARM_EINVAL, SWARM_EMSGSIZE,
                                  SWARM_ENOMEM */
} swarm_stats_t;

/* Counters of scheduler idx (0 .. schedulers-1).
 * Returns 0 or SWARM_EINVAL (swarm or out NULL, idx out of range).
 * Context: any. Blocking: never. */
SWARM_API int swarm_sched_stats(swarm_t *swarm, unsigned idx, swarm_sched_stats_t *out);

/* Totals for the whole swarm.
 * Returns 0 or SWARM_EINVAL (swarm or out NULL). Context: any. Blocking: never. */
SWARM_API int swarm_stats(swarm_t *swarm, swarm_stats_t *out);

/* Where the memory is (Erlang's erlang:memory/0, in SwarmRT's own
 * categories): bytes resident now. The first three are this swarm's; the
 * last two are shared by every swarm of the OS process. */
typedef struct swarm_memory {
    size_t procs;       /* the process table: the control blocks of the slots
                           used so far (a slot's block stays, zeroed, after
                           its process ends, for the next one) */
    size_t tables;      /* the table's side arrays (free slots, bounded
                           mailboxes, compaction entries) and the run lists */
    size_t stacks;      /* process stacks: the pages resident in the stack
                           arena (a parked process keeps the pages it has
                           touched; a hibernating one, none) */
    size_t heap;        /* runtime heap of the OS process: message blocks
                           (mailboxes), swarm_alloc memory, timers, links and
                           monitors, compacted stacks, hibernation
                           continuations (the block pool's slabs, and malloc's
                           bytes in use as mallinfo2 counts them: a sanitizer
                           build's allocator is not counted) */
    size_t page_tables; /* the kernel's page tables of the OS process
                           (VmPTE): not in RSS, but memory all the same */
} swarm_memory_t;

/* Fill *out. It asks the kernel (mincore over the table, the lists and the
 * stack arena; /proc/self/status): a diagnostic, costing system calls in
 * proportion to the slots used, not something for a hot path.
 * Returns 0 or SWARM_EINVAL (swarm or out NULL). Context: any.
 * Blocking: never (system calls only). */
SWARM_API int swarm_memory(swarm_t *swarm, swarm_memory_t *out);

#ifdef __cplusplus
}
#endif
#endif
