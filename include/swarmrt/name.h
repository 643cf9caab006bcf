/*
 * swarmrt/name.h - registered names: find a process by an atom instead of
 * passing its pid around (Erlang's register/2, whereis/1, Name ! Msg).
 *
 * Names belong to a swarm (Erlang: to a node). A process has at most one
 * name and a name names at most one process; the name is freed when the
 * process ends, before its links and monitors hear of the end (so a
 * process that got the DOWN can register the name again at once).
 *
 * sw: the swarm whose names to use. NULL means the calling process's own
 * swarm (then the call needs a process: SWARM_EINVAL outside one).
 */
#ifndef SWARMRT_NAME_H
#define SWARMRT_NAME_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/reason.h"
#include "swarmrt/ref.h"
#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Give pid (a live process of any swarm; the name goes into that swarm's
 * table) the name name.
 * Returns 0, SWARM_EEXIST (the name is taken, or pid has a name already),
 * SWARM_ESRCH (pid is not alive, or its swarm is gone), SWARM_EINVAL
 * (malformed pid, name not an atom, or SWARM_ATOM_UNDEFINED, which Erlang
 * also refuses), SWARM_ENOMEM.
 * Context: any thread. Blocking: never (a short lock). */
SWARM_API int swarm_register(swarm_atom_t name, swarm_pid_t pid);

/* Remove name. Returns 0, SWARM_ENOENT (no process has it), SWARM_EINVAL
 * (sw NULL outside a process).
 * Context: any thread. Blocking: never (a short lock). */
SWARM_API int swarm_unregister(swarm_t *sw, swarm_atom_t name);

/* The pid registered as name, or SWARM_PID_NONE (no such name, or sw NULL
 * outside a process). A snapshot: the process may end right after.
 * Context: any thread. Blocking: never (a short lock). */
SWARM_API swarm_pid_t swarm_whereis(swarm_t *sw, swarm_atom_t name);

/* Send to the process registered as name (Erlang's Name ! Msg).
 * Returns 0, SWARM_ENOENT (no process has that name, also when the one
 * that had it ends during the call: Erlang raises badarg), SWARM_EINVAL
 * (sw NULL outside a process, reserved tag, NULL data with a size),
 * SWARM_EMSGSIZE, SWARM_ENOMEM (as swarm_send).
 * Context: any thread. Blocking: as swarm_send. */
SWARM_API int swarm_send_name(swarm_t *sw, swarm_atom_t name, uint32_t tag, const void *data, size_t size);

/* Monitor the process registered as name in the caller's swarm
 * (Erlang's monitor(process, Name)): as swarm_monitor on its pid; an
 * unknown name gives a DOWN noproc at once, whose pid is SWARM_PID_NONE.
 * The name is looked up once: the monitor follows that process, not the
 * name. Returns 0, SWARM_EINVAL (ref NULL), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_monitor_name(swarm_atom_t name, swarm_ref_t *ref);

#ifdef __cplusplus
}
#endif

#endif
