/*
 * runtime/swarm.h - the runtime layer's internal header: swarm lifecycle
 * helpers that tests reach white-box (the swarm's data is in
 * state/state.h).
 */
#ifndef SWARM_RUNTIME_SWARM_H
#define SWARM_RUNTIME_SWARM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sched/sched.h"
#include "state/state.h"

/* The CPU limit set by the cgroup quota of the calling process (cgroup v2
 * cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, on the process's cgroup
 * and its ancestors; the lowest), in CPUs rounded up, or 0 if none. Paths
 * are read under root ("" for the real /proc and /sys: tests pass a fake
 * tree). */
unsigned swarm__cgroup_cpu_limit(const char *root);

#endif
