/*
 * signal/monitor.h - the monitor call that swarm_monitor and
 * swarm_monitor_name share.
 */
#ifndef SWARM_SIGNAL_MONITOR_H
#define SWARM_SIGNAL_MONITOR_H

#include "swarmrt/ref.h"
#include "swarmrt/runtime.h"

/* From a process: monitor pid, *ref its reference. SWARM_PID_NONE stands
 * for a target that is gone (a name registered to nobody): the monitor is
 * down at once, like one on a dead pid, its DOWN (noproc) already in the
 * caller's mailbox. Returns 0, SWARM_ENOTPROC, SWARM_EINVAL (ref NULL),
 * SWARM_ENOMEM or the error of sending the DOWN. */
int swarm__monitor(swarm_pid_t pid, swarm_ref_t *ref);

#endif
