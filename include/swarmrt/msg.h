/*
 * swarmrt/msg.h - messages: send, receive (any, by tag, by match), free.
 *
 * Every process has one ordered mailbox. Messages from one sender to one
 * receiver arrive in the order sent; nothing is promised between different
 * senders. A send copies the payload, so sender and receiver never share
 * memory. A send to a dead or stale pid is refused with SWARM_ESRCH (and
 * counted in msgs_rejected, see swarm_stats), never delivered to another
 * process; a message accepted for a process that ends before receiving it
 * is dropped (counted in msgs_dropped), as Erlang drops it.
 *
 * A received message belongs to the receiving process until it calls
 * swarm_msg_free(); if the process ends first, the runtime frees it.
 */
#ifndef SWARMRT_MSG_H
#define SWARMRT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Timeouts are in milliseconds: 0 = poll (never park), SWARM_INFINITE = no
 * deadline, any positive value up to INT64_MAX = wait at least that long.
 * Internally a timeout becomes one absolute monotonic deadline at entry; a
 * timeout whose deadline cannot be represented has none, as SWARM_INFINITE
 * (receive and sleep deadlines are int64_t ms, so that is beyond about 292
 * million years; swarm_wait's are int64_t ns since boot: about 292 years).
 * Other negative
 * values are rejected with SWARM_EINVAL. The same rules hold for every
 * timeout in the API (swarm_sleep, swarm_wait). */
#define SWARM_INFINITE ((int64_t)-1)

/* Tags >= SWARM_TAG_SYSTEM are reserved for runtime signals. */
#define SWARM_TAG_SYSTEM 0xFFFF0000u

typedef struct swarm_msg swarm_msg_t;

/* Send a copy of data[0..size) with a tag to pid. data may be NULL when size is 0.
 * Returns 0 (queued; if the receiver ends before receiving it, it is dropped
 * and counted in msgs_dropped), SWARM_ESRCH (pid is dead or stale, or its
 * swarm is gone or being destroyed: safe at any time from any thread, see
 * swarm_destroy), SWARM_EINVAL (SWARM_PID_NONE or another malformed pid,
 * reserved tag, NULL data with size),
 * SWARM_EMSGSIZE (size over the receiver swarm's max_msg_size), SWARM_ENOMEM
 * (no memory for the copy), SWARM_EAGAIN (the receiver's bounded mailbox is
 * full and its policy is SWARM_MBOX_FAIL, or SWARM_MBOX_PARK with a sender
 * that cannot park: a thread outside the receiver's swarm, a timer).
 * A bounded mailbox (swarm_spawn_opts_t.mailbox_max) that is full parks a
 * sending process of its swarm under SWARM_MBOX_PARK until there is room,
 * and drops the message under SWARM_MBOX_DROP (the send returns 0).
 * Context: any thread; inside a process it spends reductions.
 * Blocking: never, but on a full bounded mailbox with SWARM_MBOX_PARK
 * (may also yield in a process whose slice is spent). */
SWARM_API int swarm_send(swarm_pid_t to, uint32_t tag, const void *data, size_t size);

/* swarm_send that parks at most timeout_ms on a full bounded mailbox
 * (swarm_spawn_opts_t.mailbox_max, policy SWARM_MBOX_PARK); to an
 * unbounded mailbox it is swarm_send. Returns as swarm_send, and
 * SWARM_ETIMEDOUT (still full at the deadline: nothing was sent),
 * SWARM_EINVAL also for a negative timeout other than SWARM_INFINITE.
 * Context: any thread. Blocking: may park on a full bounded mailbox. */
SWARM_API int swarm_send_timeout(swarm_pid_t to, uint32_t tag, const void *data, size_t size, int64_t timeout_ms);

/* swarm_send that never parks: to a full bounded mailbox it returns
 * SWARM_EAGAIN where swarm_send would park (under SWARM_MBOX_DROP it drops
 * the message and returns 0, as swarm_send). Returns as swarm_send.
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_try_send(swarm_pid_t to, uint32_t tag, const void *data, size_t size);

/* Receive the oldest message. *out receives it (owned by the caller).
 * Returns 0, SWARM_ETIMEDOUT (nothing came in time; at once when the timeout
 * is 0 and nothing is there), SWARM_ENOTPROC (not called from a process),
 * SWARM_EINVAL (out is NULL, or a negative timeout other than SWARM_INFINITE).
 * Context: process. Blocking: may park and migrate (unless timeout is 0). */
SWARM_API int swarm_recv(swarm_msg_t **out, int64_t timeout_ms);

/* Receive the oldest message with this tag; other messages keep their order.
 * Returns as swarm_recv. */
SWARM_API int swarm_recv_tag(uint32_t tag, swarm_msg_t **out, int64_t timeout_ms);

/* Nonzero if the message is wanted. Runs on the receiving process; it must
 * not call SwarmRT functions that may park. */
typedef int (*swarm_match_fn)(const swarm_msg_t *msg, void *ctx);

/* Receive the oldest message for which match(msg, ctx) is nonzero; the
 * others keep their order. Returns as swarm_recv (SWARM_EINVAL if match is NULL). */
SWARM_API int swarm_recv_match(swarm_match_fn match, void *ctx, swarm_msg_t **out,
                               int64_t timeout_ms);

/* A receive mark (Erlang's receive-marker optimisation, made explicit):
 * a position in the caller's mailbox. swarm_recv_marked looks only at
 * what arrived after it, so a request/reply round trip costs the same
 * with 10,000 unrelated messages queued as with none:
 *
 *     swarm_recv_mark_t mk;
 *     swarm_recv_mark(&mk);                  // before the request goes out
 *     swarm_send(server, TAG_REQ, &req, sizeof req);
 *     swarm_recv_marked(&mk, is_reply, &req, &reply, 1000);
 *
 * A mark is a position, not a message: it stays good after any of the
 * messages around it are received, and may be used for any number of
 * receives. The messages from before it stay in the mailbox, in order,
 * for the other receive calls. Fields are the runtime's; copy a mark as
 * a value, never make one up. */
typedef struct swarm_recv_mark {
    swarm_pid_t owner; /* the process that took it */
    uint64_t seq;      /* where its mailbox was */
} swarm_recv_mark_t;

/* Mark the caller's mailbox as it is now: every message that arrived
 * before this call is before the mark, every later one after it. Costs
 * the messages queued since the caller last looked at its mailbox (they
 * are set aside, in order, as a receive that matched none of them would;
 * exit signals among them act, as in a receive). Returns 0, SWARM_EINVAL
 * (mark NULL), SWARM_ENOTPROC. Context: process. Blocking: never (a
 * switch point: a pending exit signal may end the caller). */
SWARM_API int swarm_recv_mark(swarm_recv_mark_t *mark);

/* Receive the oldest message that arrived after mark and for which
 * match(msg, ctx) is nonzero (match NULL: any message after the mark).
 * Messages from before the mark are not looked at (match is not called
 * for them) and stay in the mailbox, in order. Returns as swarm_recv,
 * and SWARM_EINVAL (mark NULL, zeroed, or not one swarm_recv_mark handed
 * out; a mark more than 2^31 set-aside messages old), SWARM_EPERM (the
 * mark was taken by another process, or by an earlier process in the
 * caller's table slot). Context: process. Blocking: may park and migrate
 * (unless timeout is 0). */
SWARM_API int swarm_recv_marked(const swarm_recv_mark_t *mark, swarm_match_fn match, void *ctx, swarm_msg_t **out,
                                int64_t timeout_ms);

/* Accessors. Context: the owning process (or a match function). Blocking: never. */
SWARM_API swarm_pid_t swarm_msg_sender(const swarm_msg_t *msg); /* SWARM_PID_NONE if sent from outside a process */
SWARM_API uint32_t swarm_msg_tag(const swarm_msg_t *msg);
SWARM_API const void *swarm_msg_data(const swarm_msg_t *msg);    /* 16-byte aligned */
SWARM_API size_t swarm_msg_size(const swarm_msg_t *msg);

/* Release a received message. NULL is ignored.
 * Context: the owning process. Blocking: never. */
SWARM_API void swarm_msg_free(swarm_msg_t *msg);

/* Messages waiting in the caller's mailbox (queued plus set aside by selective
 * receive). Context: process (0 outside). Blocking: never. */
SWARM_API size_t swarm_mailbox_len(void);

#ifdef __cplusplus
}
#endif
#endif
