/*
 * swarmrt/signal.h - links, monitors and exit signals: how a process hears
 * that another ended, as in Erlang.
 *
 * Signals travel in the target's one ordered queue with its messages: a
 * message followed by an exit signal from the same sender is seen in that
 * order. A process handles its signals when it receives, and at its next
 * switch point (swarm_check / SWARM_CHECK, swarm_yield, a send, a spawn):
 * an exit signal that ends a process takes effect there, never in the
 * middle of plain C code.
 *
 * Links are two-way: when either process ends, the other gets an exit
 * signal with the reason. A process that is not trapping exits ends with
 * that reason, unless it is normal; one that traps them
 * (swarm_trap_exit) gets a message with tag SWARM_TAG_EXIT instead
 * (read it with swarm_msg_exit). swarm_exit_pid sends an exit signal to
 * any process, linked or not; the reason kill ends it even if it traps
 * exits, and it ends with killed (its links see killed).
 *
 * Monitors are one-way: when the monitored process ends (or if it was
 * already gone), the watcher gets one message with tag SWARM_TAG_DOWN
 * (swarm_msg_down) with the reason and the monitor's reference.
 *
 * docs/semantics.md lists each rule with the Erlang behaviour it follows,
 * and where C makes SwarmRT differ.
 */
#ifndef SWARMRT_SIGNAL_H
#define SWARMRT_SIGNAL_H

#include <stdint.h>

#include "swarmrt/msg.h"
#include "swarmrt/reason.h"
#include "swarmrt/ref.h"
#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tags of the messages the runtime makes of signals. */
#define SWARM_TAG_EXIT (SWARM_TAG_SYSTEM + 1) /* a trapped exit signal */
#define SWARM_TAG_DOWN (SWARM_TAG_SYSTEM + 2) /* a monitored process ended */

/* Link the calling process and pid (Erlang's link/1). Linking twice, or
 * to itself, is the same as once.
 * Returns 0; SWARM_ESRCH when pid is not alive and the caller does not
 * trap exits (Erlang raises noproc; here the caller decides; a caller that
 * traps exits gets 0 and an EXIT message with reason noproc instead);
 * SWARM_EINVAL (SWARM_PID_NONE or a malformed pid); SWARM_ENOMEM;
 * SWARM_ENOTPROC. If pid ends before it has handled the link, the caller
 * gets an exit signal with reason noproc.
 * Context: process. Blocking: never (it is a switch point). */
SWARM_API int swarm_link(swarm_pid_t pid);

/* Remove the link with pid, if any: no exit signal from that link comes
 * after this call returns, though an EXIT message already made stays in
 * the mailbox. Returns 0, SWARM_EINVAL (malformed pid), SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_unlink(swarm_pid_t pid);

/* Trap exits (on != 0) or not: exit signals, except kill, become
 * SWARM_TAG_EXIT messages. *old (may be NULL) gets the previous setting.
 * The setting in force when a signal is handled decides.
 * Returns 0 or SWARM_ENOTPROC. Context: process. Blocking: never. */
SWARM_API int swarm_trap_exit(int on, int *old);

/* Send pid an exit signal with reason r (Erlang's exit/2; the sender is
 * SWARM_PID_NONE from outside a process). Returns 0 also when pid is no
 * longer alive (as Erlang: nothing happens); SWARM_EINVAL (malformed pid,
 * or r not valid: see swarm_exit_with); SWARM_ENOMEM. To itself, with a
 * reason that ends it, the call does not return.
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_exit_pid(swarm_pid_t pid, swarm_reason_t r);

/* Monitor pid: *ref gets the monitor's reference; when pid ends, or at
 * once if it is not alive (reason noproc), a SWARM_TAG_DOWN message with
 * that reference arrives. Each call is a new monitor (two calls, two DOWN
 * messages). Returns 0, SWARM_EINVAL (malformed pid, ref NULL),
 * SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_monitor(swarm_pid_t pid, swarm_ref_t *ref);

/* Flags for swarm_demonitor. */
#define SWARM_DEMONITOR_FLUSH 1u /* also remove its DOWN message, if one came */
#define SWARM_DEMONITOR_INFO 2u  /* return 1 if the monitor was still active, else 0 */

/* Remove a monitor: no DOWN message for it comes after this returns.
 * Returns 0 (with SWARM_DEMONITOR_INFO: 1 if the monitor was active and
 * is now removed, 0 if its DOWN message had already come or the reference
 * is not a monitor of the caller), SWARM_EINVAL (unknown flags),
 * SWARM_ENOTPROC. Context: process. Blocking: never. */
SWARM_API int swarm_demonitor(swarm_ref_t ref, unsigned flags);

/* Read a SWARM_TAG_EXIT message: *from the process the signal came from,
 * *reason its reason (reason->data points into the message). Any out
 * pointer may be NULL. Nonzero if m is an EXIT message (zero, and nothing
 * written, if not).
 * Context: any. Blocking: never. */
SWARM_API int swarm_msg_exit(const swarm_msg_t *m, swarm_pid_t *from, swarm_reason_t *reason);

/* Read a SWARM_TAG_DOWN message: *ref the monitor, *pid the process that
 * ended, *reason why (reason->data points into the message). Nonzero if m
 * is a DOWN message (zero, and nothing written, if not). Context: any. Blocking: never. */
SWARM_API int swarm_msg_down(const swarm_msg_t *m, swarm_ref_t *ref, swarm_pid_t *pid, swarm_reason_t *reason);

#ifdef __cplusplus
}
#endif

#endif
