/*
 * proc/proc.h - what the files of proc/ share: process life (spawn.c,
 * exit.c) and the small public calls (proc.c) of swarmrt/proc.h.
 */
#ifndef SWARM_PROC_PROC_H
#define SWARM_PROC_PROC_H

#include "state/state.h"

/* One process fewer (or a reservation undone): wakes swarm_wait at zero. */
void swarm__proc_live_drop(swarm_t *sw);

#endif
