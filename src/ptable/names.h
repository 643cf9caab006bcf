/*
 * ptable/names.h - a swarm's registered names (Erlang's register/2): an
 * atom to pid map, and in the PCB the one name a process has. The public
 * calls are in name/ (swarmrt/name.h); the exit path (proc/exit.c) frees
 * a process's name before anything else of its end is seen (Erlang: a
 * name is free again when a monitor's DOWN arrives).
 */
#ifndef SWARM_PTABLE_NAMES_H
#define SWARM_PTABLE_NAMES_H

#include <pthread.h>
#include <stdint.h>

#include "ptable/ptable.h"
#include "swarmrt/reason.h"

/* (swarm__names_t, the table, is defined in ptable.h: the process table
 * holds it.) */

void swarm__names_init(swarm__names_t *t);
void swarm__names_destroy(swarm__names_t *t);

/* Name the live process p (whose pid is pid) name. Returns 0,
 * SWARM_EEXIST (name taken, or p named already), SWARM_ESRCH (p is not
 * alive as pid), SWARM_ENOMEM. Any thread. */
int swarm__names_add(swarm__names_t *t, swarm__ptable_t *pt, swarm__proc_t *p, swarm_pid_t pid, swarm_atom_t name);

/* Remove name. Returns 0 or SWARM_ENOENT. */
int swarm__names_del(swarm__names_t *t, swarm__ptable_t *pt, swarm_atom_t name);

/* The pid named name, or SWARM_PID_NONE. */
swarm_pid_t swarm__names_find(swarm__names_t *t, swarm_atom_t name);

/* p (pid) is ending, its state EXITING already: its name, if any, goes. */
void swarm__names_release(swarm__names_t *t, swarm__proc_t *p, swarm_pid_t pid);

#endif
