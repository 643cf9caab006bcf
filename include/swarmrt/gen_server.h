/*
 * swarmrt/gen_server.h - a server process with a request/reply protocol
 * (Erlang/OTP's gen_server): state behind a process, calls that wait for
 * a reply with a timeout, casts that do not, everything else as info.
 *
 * The server is a process running a loop around your callbacks; its state
 * is a pointer your init sets. A call monitors the server for its
 * duration: if the server is gone, or ends before it replies, the call
 * returns SWARM_ESRCH at once with the server's exit reason, not at the
 * timeout. A reply that comes after the caller stopped waiting is
 * dropped, never delivered (OTP 24's aliases do the same). A call scans
 * only what arrived in the caller's mailbox since the call began, so it
 * costs the same with 10,000 unrelated messages queued.
 */
#ifndef SWARMRT_GEN_SERVER_H
#define SWARMRT_GEN_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/msg.h"
#include "swarmrt/proc.h"
#include "swarmrt/reason.h"
#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who is waiting for a call's reply (for a reply sent later with
 * swarm_gs_reply: OTP's From). */
typedef struct swarm_gs_from {
    swarm_pid_t pid;
    uint32_t corr;
} swarm_gs_from_t;

/* What a callback decides. */
enum swarm_gs_action {
    SWARM_GS_CONTINUE = 0, /* (handle_call: SWARM_GS_REPLY) go on with the new state */
    SWARM_GS_REPLY = 0,    /* handle_call: reply with result->reply now */
    SWARM_GS_NOREPLY = 1,  /* handle_call: no reply now; swarm_gs_reply(from, ...) later */
    SWARM_GS_STOP = 2      /* end the server with result->stop (after replying, for a call
                              that set result->reply) */
};

/* A callback's out-values. reply/reply_size: the reply of a call (copied
 * after the callback returns; may point into the state or a local buffer
 * that lives until then). stop: the reason for SWARM_GS_STOP (normal
 * unless set). */
typedef struct swarm_gs_result {
    const void *reply;
    size_t reply_size;
    swarm_reason_t stop;
} swarm_gs_result_t;

/* The callbacks. Any may be NULL: init then keeps state NULL; a call
 * without handle_call gets an empty reply; casts and infos without their
 * handler are dropped. They run in the server process. */
typedef struct swarm_gs_ops {
    /* Set *state. Nonzero: the server does not start; swarm_gs_start
     * returns SWARM_ECANCELED and the server ends with reason shutdown. */
    int (*init)(void *arg, void **state);
    int (*handle_call)(void *state, const swarm_msg_t *req, swarm_gs_from_t from, swarm_gs_result_t *result);
    int (*handle_cast)(void *state, const swarm_msg_t *req, swarm_gs_result_t *result);
    /* Everything else: plain messages, EXIT and DOWN messages. */
    int (*handle_info)(void *state, const swarm_msg_t *msg, swarm_gs_result_t *result);
    /* The server is ending with reason why (SWARM_GS_STOP, swarm_gs_stop). */
    void (*terminate)(void *state, swarm_reason_t why);
} swarm_gs_ops_t;

typedef struct swarm_gs_opts {
    swarm_atom_t name;  /* register the server under this name; SWARM_GS_NO_NAME: none */
    int link;           /* link it to the caller (spawn_link) */
    const swarm_spawn_opts_t *spawn; /* stack size, scheduler; NULL: defaults */
} swarm_gs_opts_t;
#define SWARM_GS_NO_NAME ((swarm_atom_t)UINT32_MAX)

/* Fill *opts with defaults: no name, no link. */
SWARM_API void swarm_gs_opts_init(swarm_gs_opts_t *opts);

/* Start a server and wait until its init returned (OTP's start/start_link).
 * ops must outlive the server. *out (may be NULL) gets its pid.
 * Returns 0, SWARM_EEXIST (opts->name is taken: no server is started),
 * SWARM_ECANCELED (init returned nonzero), SWARM_EINVAL (ops NULL,
 * opts->name not an atom, bad spawn opts), SWARM_EAGAIN, SWARM_ENOMEM,
 * SWARM_ESHUTDOWN (as swarm_spawn), SWARM_ENOTPROC.
 * Context: process. Blocking: until init returns (parks). */
SWARM_API int swarm_gs_start(swarm_pid_t *out, const swarm_gs_ops_t *ops, void *arg, const swarm_gs_opts_t *opts);

/* Call the server: send it req with tag and wait for its reply. *reply
 * gets the reply as a message (its data and size; free it with
 * swarm_msg_free). Returns 0; SWARM_ETIMEDOUT (no reply in time: the
 * call is abandoned, a later reply is dropped; Erlang exits the caller,
 * here it decides); SWARM_ESRCH (the server is not alive, or ended before
 * replying: *why, if not NULL, gets its exit reason's atom: noproc when it
 * was not alive); SWARM_EINVAL (reply NULL, reserved tag, NULL req with a
 * size, malformed pid); SWARM_EMSGSIZE, SWARM_ENOMEM (the request could
 * not be sent); SWARM_ENOTPROC.
 * Context: process. Blocking: parks until the reply, the end or the timeout. */
SWARM_API int swarm_gs_call(swarm_pid_t server, uint32_t tag, const void *req, size_t size, swarm_msg_t **reply,
                            int64_t timeout_ms, swarm_atom_t *why);

/* Send the server a request without waiting (OTP's cast). Returns 0 also
 * when the server is not alive (as OTP: a cast never fails), SWARM_EINVAL
 * (reserved tag, NULL data with a size, malformed pid), SWARM_EMSGSIZE,
 * SWARM_ENOMEM. Context: any thread. Blocking: never. */
SWARM_API int swarm_gs_cast(swarm_pid_t server, uint32_t tag, const void *data, size_t size);

/* Reply to a call that its handler answered SWARM_GS_NOREPLY, from the
 * server or any other process. Returns 0 (also if the caller stopped
 * waiting: then the reply is dropped), SWARM_EINVAL (NULL data with a
 * size), SWARM_EMSGSIZE, SWARM_ENOMEM. Context: any thread. Blocking: never. */
SWARM_API int swarm_gs_reply(swarm_gs_from_t from, const void *data, size_t size);

/* Stop the server with reason (its terminate runs) and wait for it to
 * end (OTP's gen_server:stop/3). Returns 0, SWARM_ESRCH (not alive),
 * SWARM_ETIMEDOUT (still running after timeout_ms), SWARM_EINVAL (reason
 * not valid, malformed pid), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: parks until it ended or the timeout. */
SWARM_API int swarm_gs_stop(swarm_pid_t server, swarm_reason_t reason, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
