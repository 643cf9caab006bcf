/*
 * proc/proc.h - what the files of proc/ share: process life (spawn.c,
 * exit.c) and the small public calls (proc.c) of swarmrt/proc.h.
 */
#ifndef SWARM_PROC_PROC_H
#define SWARM_PROC_PROC_H

#include "state/state.h"
#include "swarmrt/proc.h"

/* Is prio one of SWARM_PRIO_LOW, _NORMAL, _HIGH? */
static inline int swarm__prio_valid(int prio)
{
    return prio >= SWARM_PRIO_LOW && prio <= SWARM_PRIO_HIGH;
}

/* One process fewer (or a reservation undone): wakes swarm_wait at zero. */
void swarm__proc_live_drop(swarm_t *sw);

/* swarm_spawn from the running process with the child linked (link) and
 * monitored (mon: gets the ref; NULL: none), and with task (and mon) the
 * child a task of the caller (its psig's task_owner), all before it runs.
 * Returns as swarm_spawn_link. (gen_server/: a server started with a link
 * is watched by its starter until its init returns; task/.) */
int swarm__spawn_bound(swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts, int link,
                       swarm_ref_t *mon, int task);

#endif
