/*
 * ptable/registry.h - the swarms of this OS process by id, and the one
 * function every sender uses to go from a pid to a process.
 *
 * A pid names its swarm by an 8-bit id. The registry maps the id to the
 * swarm and its process table, safely against a concurrent destroy: a
 * lookup takes a reference that destroy waits for (registry.c explains the
 * protocol). swarm__pid_resolve is the single place where a pid becomes a
 * process slot, so it is also where a remote pid (distribution) will branch
 * off later.
 */
#ifndef SWARM_PTABLE_REGISTRY_H
#define SWARM_PTABLE_REGISTRY_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/compiler.h"
#include "ptable/ptable.h"
#include "swarmrt/error.h"

/* Publish a new swarm; returns its id (1..255), or 0 if all are taken. */
unsigned swarm__registry_add(swarm_t *sw, swarm__ptable_t *pt);
/* Unpublish: from here every new lookup of the id answers "no swarm". */
void swarm__registry_close(unsigned id);
/* Wait until no reference taken before the close is left, until
 * deadline_ns (absolute, swarm__clock_ns). Returns 0 or SWARM_ETIMEDOUT. A
 * reference is held only for one send or lookup, never across a switch. */
int swarm__registry_drain(unsigned id, int64_t deadline_ns);
/* Give the id back (the swarm is freed; nothing refers to it). */
void swarm__registry_remove(unsigned id);

/* Where a pid leads. Filled by swarm__pid_resolve; give it back with
 * swarm__pid_release. */
typedef struct swarm__target {
    swarm_t *sw;            /* the pid's swarm */
    swarm__ptable_t *pt;    /* its process table */
    swarm__proc_t *p;       /* the slot the pid names, or NULL (index past the table) */
    int live;               /* the pid is the slot's live owner (not dead, not stale) */
    unsigned ref;           /* the registry id whose reference is held, or 0 */
} swarm__target_t;

/* One registry slot per swarm id. The lifetime protocol is in
 * registry.c; resolution reads sw and pt directly only for the caller's
 * own swarm, which cannot go away while the caller runs in it. */
#define SWARM__MAX_SWARMS 256
typedef struct swarm__reg_slot {
    _Atomic(swarm_t *) sw;    /* published swarm, NULL when none or closing */
    swarm__ptable_t *pt;      /* its process table (set before sw is published) */
    _Atomic uint32_t refs;    /* references in flight (futex word) */
    _Atomic uint32_t waiting; /* a destroy waits for refs to drain */
    int reserved;             /* id in use until the swarm is freed (registry lock) */
} SWARM_ALIGNED(SWARM_CACHELINE) swarm__reg_slot_t;
extern swarm__reg_slot_t swarm__registry[SWARM__MAX_SWARMS];

static inline void swarm__target_fill(swarm__target_t *t, unsigned id, swarm_pid_t pid)
{
    t->pt = swarm__registry[id].pt;
    t->p = swarm__ptable_slot(t->pt, pid);
    t->live = t->p && swarm__ptable_live(t->pt, t->p, pid);
}

/* The swarm with this id with a reference taken, or NULL (no swarm, or one
 * being closed). Drop the reference with swarm__registry_put(id). */
swarm_t *swarm__registry_get(unsigned id);
void swarm__registry_put(unsigned id);

/* Resolve pid for a caller whose own swarm has id own_id (0 outside every
 * swarm). The caller's own swarm needs no reference (it cannot be freed
 * while one of its processes runs); any other swarm is held with one until
 * swarm__pid_release (also after a nonzero return). Returns 0 (t filled),
 * SWARM_ESRCH (no such swarm, or one being destroyed), SWARM_EINVAL
 * (SWARM_PID_NONE). Any thread, never blocks. Inline: every send starts
 * here. */
static inline int swarm__pid_resolve(swarm_pid_t pid, unsigned own_id, swarm__target_t *t)
{
    unsigned id = swarm__pid_swarm(pid);
    t->sw = NULL;
    t->ref = 0;
    if (SWARM_UNLIKELY(pid == SWARM_PID_NONE))
        return SWARM_EINVAL;
    if (SWARM_LIKELY(id != 0 && id == own_id)) {
        t->sw = atomic_load_explicit(&swarm__registry[id].sw, memory_order_relaxed);
    } else {
        t->sw = swarm__registry_get(id);
        if (!t->sw)
            return SWARM_ESRCH;
        t->ref = id;
    }
    swarm__target_fill(t, id, pid);
    return 0;
}
static inline void swarm__pid_release(swarm__target_t *t)
{
    if (t->ref)
        swarm__registry_put(t->ref);
    t->ref = 0;
}

#endif
