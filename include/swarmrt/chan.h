/*
 * swarmrt/chan.h - channels: typed-by-size queues between processes, with
 * select (Go's chan and select).
 *
 * A channel carries elements of one size, fixed when it is made, copied in
 * and out by value. Its capacity is fixed too: 0 is a rendezvous (a send
 * waits for a receiver and hands the value over directly), n > 0 buffers
 * up to n elements, SWARM_CHAN_UNBOUNDED never makes a sender wait. Any
 * number of processes, on any schedulers and in any swarm, may send and
 * receive on one channel; so may foreign threads (threads that are not
 * SwarmRT schedulers), with timeout 0 only: a foreign thread never blocks
 * in these calls (a non-zero timeout there is SWARM_ENOTPROC).
 *
 * Waiting. A send or receive that cannot complete parks the calling
 * process (never its scheduler thread) on the channel's wait queue until a
 * partner completes it, the channel is closed, or the deadline passes.
 * Waiters are served first come, first served. Timeouts are as in
 * swarmrt/msg.h: 0 = try once (SWARM_EAGAIN if it would wait),
 * SWARM_INFINITE = no deadline. A message or a signal arriving for the
 * waiting process wakes it briefly (exit signals take effect at once: a
 * killed waiter leaves the queue and ends); the wait then goes on.
 *
 * Close. After swarm_chan_close, sends return SWARM_ECLOSED at once;
 * receives take what is still buffered, then return SWARM_ECLOSED. Waiting
 * senders and receivers are woken with SWARM_ECLOSED.
 *
 * Lifetime. A channel is reference-counted: swarm_chan_create returns one
 * reference, swarm_chan_dup adds one, swarm_chan_release drops one, and
 * the last drop frees the channel. References are NOT tied to the process
 * that took them: a handle is a plain pointer that may pass between
 * processes (inside messages) and foreign threads, so a process that ends
 * does not drop its references; release them explicitly
 * (docs/design/chan.md says why). A call that waits holds its own
 * reference meanwhile, so a release by another party never frees a
 * channel under a waiter.
 */
#ifndef SWARMRT_CHAN_H
#define SWARMRT_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/msg.h" /* SWARM_INFINITE */
#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swarm_chan swarm_chan_t;

/* Capacity of a channel whose sends never wait (it grows to at most 2^31
 * elements). */
#define SWARM_CHAN_UNBOUNDED ((size_t)-1)
/* The largest element, and the largest bounded capacity. */
#define SWARM_CHAN_ELEM_MAX ((size_t)1 << 20)
#define SWARM_CHAN_CAP_MAX ((size_t)1 << 24)
/* The most cases one select may have (the mailbox case not counted). */
#define SWARM_CHAN_SELECT_MAX 64

/* Make a channel of elements of elem_size bytes (1..SWARM_CHAN_ELEM_MAX)
 * and capacity cap (0 = rendezvous, up to SWARM_CHAN_CAP_MAX, or
 * SWARM_CHAN_UNBOUNDED); *out gets it with one reference.
 * Returns 0, SWARM_EINVAL (out NULL, elem_size 0 or too big, cap too big),
 * SWARM_ENOMEM.
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_chan_create(swarm_chan_t **out, size_t elem_size, size_t cap);

/* Add a reference to ch; returns ch. Context: any thread. Blocking: never. */
SWARM_API swarm_chan_t *swarm_chan_dup(swarm_chan_t *ch);

/* Drop a reference; the last one frees the channel and what it still
 * buffers. NULL is ignored. Context: any thread. Blocking: never. */
SWARM_API void swarm_chan_release(swarm_chan_t *ch);

/* Send the elem_size bytes at elem.
 * Returns 0, SWARM_EAGAIN (timeout 0 and it would wait), SWARM_ETIMEDOUT,
 * SWARM_ECLOSED (the channel is closed, or was closed while the caller
 * waited), SWARM_ENOMEM (an unbounded channel could not grow: no memory,
 * or 2^31 elements buffered),
 * SWARM_EINVAL (ch or elem NULL, or a negative timeout other than
 * SWARM_INFINITE), SWARM_ENOTPROC (a non-zero timeout outside a process).
 * Context: process; any thread with timeout 0. Blocking: may park until a
 * receiver or buffer room, close or the deadline (may migrate). */
SWARM_API int swarm_chan_send(swarm_chan_t *ch, const void *elem, int64_t timeout_ms);

/* Receive one element into the elem_size bytes at elem.
 * Returns 0, SWARM_EAGAIN (timeout 0 and nothing to take),
 * SWARM_ETIMEDOUT, SWARM_ECLOSED (closed and empty), SWARM_EINVAL (as
 * swarm_chan_send), SWARM_ENOTPROC (a non-zero timeout outside a process).
 * Context: process; any thread with timeout 0. Blocking: may park until a
 * sender, close or the deadline (may migrate). */
SWARM_API int swarm_chan_recv(swarm_chan_t *ch, void *elem, int64_t timeout_ms);

/* Close ch: see the header comment. Returns 0, SWARM_ECLOSED (already
 * closed), SWARM_EINVAL (ch NULL).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_chan_close(swarm_chan_t *ch);

/* Elements buffered now (a snapshot). Context: any thread. Blocking: never. */
SWARM_API size_t swarm_chan_len(swarm_chan_t *ch);

/* One case of a select. */
typedef enum swarm_chan_op {
    SWARM_CHAN_SEND = 1,
    SWARM_CHAN_RECV = 2,
} swarm_chan_op_t;

typedef struct swarm_chan_case {
    swarm_chan_t *chan;  /* NULL: the case is never ready (Go's nil channel) */
    swarm_chan_op_t op;
    void *elem;          /* SEND: the value; RECV: where the value goes */
    int result;          /* out, for the chosen case: 0 or SWARM_ECLOSED */
} swarm_chan_case_t;

/* Flag: the caller's mailbox is one more case, ready when swarm_recv would
 * return a message at once; select returns n for it (receive the message
 * with swarm_recv). */
#define SWARM_SELECT_MAILBOX 1u

/* Wait until one of the n cases (and the mailbox, with
 * SWARM_SELECT_MAILBOX) can proceed, carry that one out and return its
 * index. When several are ready, one is chosen uniformly at random (Go's
 * select), so no case starves. A case on a closed channel is ready: its
 * result is SWARM_ECLOSED (a receive that drains a buffered value first
 * gets 0). n may be 0 (only the mailbox, or only the timeout).
 * Returns 0 or another case index: the chosen case's (0 .. n - 1, or n
 * for the mailbox; the chosen case's result tells how it went), SWARM_EAGAIN (timeout 0 and nothing ready),
 * SWARM_ETIMEDOUT, SWARM_ENOMEM (a send case on an unbounded channel
 * could not grow it), SWARM_EINVAL (cases NULL with n > 0, n >
 * SWARM_CHAN_SELECT_MAX, a bad op, a NULL elem, unknown flags, a negative
 * timeout other than SWARM_INFINITE), SWARM_ENOTPROC (a non-zero timeout
 * or the mailbox flag outside a process).
 * Context: process; any thread with timeout 0 and no mailbox case.
 * Blocking: may park until a case is ready or the deadline (may migrate). */
SWARM_API int swarm_chan_select(swarm_chan_case_t *cases, size_t n, unsigned flags, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
