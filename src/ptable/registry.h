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

#include <stdint.h>

#include "ptable/ptable.h"

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

/* Resolve pid for a caller whose own swarm has id own_id (0 outside every
 * swarm). The caller's own swarm needs no reference (it cannot be freed
 * while one of its processes runs); any other swarm is held with one until
 * swarm__pid_release (also after a nonzero return). Returns 0 (t filled),
 * SWARM_ESRCH (no such swarm, or one being destroyed), SWARM_EINVAL
 * (SWARM_PID_NONE). Any thread, never blocks. */
int swarm__pid_resolve(swarm_pid_t pid, unsigned own_id, swarm__target_t *t);
void swarm__pid_release(swarm__target_t *t);

#endif
