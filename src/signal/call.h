/*
 * signal/call.h - a call: ask a process and wait for its answer or its
 * end (what gen_server calls and swarm_process_info share).
 */
#ifndef SWARM_SIGNAL_CALL_H
#define SWARM_SIGNAL_CALL_H

#include <stdint.h>

#include "swarmrt/msg.h"
#include "swarmrt/reason.h"

/* Sends the request of call number corr; returns as swarm_send. */
typedef int (*swarm__call_send_fn)(void *ctx, uint32_t corr);

/* From a process: mark the mailbox, monitor `to`, send the request
 * (send(ctx, corr)), wait for the REPLY of that call or the monitor's DOWN
 * (scanning only what arrived since the mark), drop the monitor. Returns
 * 0 with *reply (the REPLY, the caller's to free); SWARM_ESRCH when `to`
 * ended (or was gone) first, *why (may be NULL) its reason's atom;
 * SWARM_ETIMEDOUT (a late REPLY is dropped); the monitor's or the send's
 * error (SWARM_EINVAL, SWARM_ENOMEM, SWARM_EMSGSIZE). */
int swarm__call(swarm_pid_t to, swarm__call_send_fn send, void *ctx, int64_t timeout_ms, swarm_msg_t **reply,
                swarm_atom_t *why);

#endif
