/*
 * swarmrt/timer.h - time and sleeping.
 *
 * Each scheduler keeps a hierarchical timing wheel with 1 ms resolution.
 * A sleeping process costs no CPU; an idle scheduler sleeps in the kernel
 * until its next timer is due.
 */
#ifndef SWARMRT_TIMER_H
#define SWARMRT_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/msg.h"
#include "swarmrt/reason.h"
#include "swarmrt/ref.h"
#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sleep at least ms milliseconds (0 = yield). Timers fire on 1 ms ticks, so
 * the wait lasts ms to ms+1 plus scheduling delay. Any value up to INT64_MAX
 * is valid; one whose deadline the clock cannot represent sleeps until the
 * process is killed. Messages that arrive meanwhile stay queued, in order.
 * Returns 0, SWARM_ENOTPROC (not called from a process), SWARM_EINVAL
 * (ms < 0, SWARM_INFINITE included).
 * Context: process. Blocking: parks, may migrate. */
SWARM_API int swarm_sleep(int64_t ms);

/* Monotonic time in milliseconds as the caller's swarm sees it (virtual time
 * in deterministic mode; CLOCK_MONOTONIC otherwise).
 * Context: any. Blocking: never. */
SWARM_API int64_t swarm_now_ms(void);

/* Timer messages (Erlang's erlang:send_after/3, start_timer/3). In ms
 * milliseconds (0 to INT64_MAX; 0: at the next tick) a copy of
 * data[0..size) is sent to pid: by swarm_send_after as a plain message
 * with tag (no sender: swarm_msg_sender is SWARM_PID_NONE); by
 * swarm_start_timer as a message with tag SWARM_TAG_TIMER that carries
 * the timer's ref, tag and data (read it with swarm_msg_timer);
 * swarm_send_interval sends the plain message every ms (> 0) until
 * cancelled or pid ends. *ref (may be NULL) names the timer for
 * swarm_cancel_timer / swarm_read_timer. A timer to a pid that is not
 * alive, or whose process ends before it fires, does nothing: it reads
 * as gone at once. A timer outlives the process that armed it.
 * Returns 0, SWARM_EINVAL (ms < 0, or 0 for an interval; reserved tag;
 * NULL data with a size; malformed pid), SWARM_EMSGSIZE (size over the
 * target swarm's max_msg_size), SWARM_ENOMEM, SWARM_ENOTPROC (the timer
 * lives on the caller's scheduler: call it from a process).
 * Context: process. Blocking: never. */
SWARM_API int swarm_send_after(int64_t ms, swarm_pid_t pid, uint32_t tag, const void *data, size_t size,
                               swarm_ref_t *ref);
SWARM_API int swarm_start_timer(int64_t ms, swarm_pid_t pid, uint32_t tag, const void *data, size_t size,
                                swarm_ref_t *ref);
SWARM_API int swarm_send_interval(int64_t ms, swarm_pid_t pid, uint32_t tag, const void *data, size_t size,
                                  swarm_ref_t *ref);

/* swarm_send_after to the process registered as name in the caller's
 * swarm when the timer fires (Erlang's send_after to a name: resolved at
 * fire time; no process has the name then: nothing is sent). The timer is
 * active until it fires or is cancelled. Returns 0, SWARM_EINVAL (ms < 0,
 * reserved tag, NULL data with a size), SWARM_EMSGSIZE (over the caller's
 * swarm's max_msg_size), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_send_after_name(int64_t ms, swarm_atom_t name, uint32_t tag, const void *data, size_t size,
                                    swarm_ref_t *ref);

/* Tag of a swarm_start_timer message. */
#define SWARM_TAG_TIMER (SWARM_TAG_SYSTEM + 4)

/* Cancel a timer: it will not fire (again). *left (may be NULL) gets the
 * ms that were left. Returns 0, SWARM_ENOENT (no such timer: it fired,
 * was cancelled, its target ended, or the ref is not a timer's: a message
 * already sent stays in the mailbox, as in Erlang), SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_cancel_timer(swarm_ref_t ref, int64_t *left);

/* Tag of the message swarm_cancel_timer_async sends. */
#define SWARM_TAG_CANCEL_TIMER (SWARM_TAG_SYSTEM + 5)

/* The payload of a SWARM_TAG_CANCEL_TIMER message (Erlang's
 * {cancel_timer, Ref, Result}). */
typedef struct swarm_cancel_timer_result {
    swarm_ref_t ref; /* the timer asked about */
    int64_t left;    /* ms that were left when it was cancelled (0 and up),
                        or -1: there was no such timer (Erlang's false: it
                        fired, was cancelled, its target ended, or the
                        ref is not a timer's) */
} swarm_cancel_timer_result_t;

/* Cancel a timer as swarm_cancel_timer does, with the result sent to the
 * caller as a message instead of returned (Erlang's
 * erlang:cancel_timer(Ref, [{async, true}, {info, true}])): tag
 * SWARM_TAG_CANCEL_TIMER, sender the caller itself, payload a
 * swarm_cancel_timer_result_t (read it with swarm_msg_cancel_timer). The
 * timer is cancelled before the call returns; only the answer comes
 * through the mailbox (a timer message already sent stays there, with no
 * order promised against the answer, as in Erlang). Returns 0,
 * SWARM_ENOMEM (no memory for the message; the timer is cancelled all the
 * same), SWARM_ENOTPROC. Context: process. Blocking: never (a switch
 * point, as a send). */
SWARM_API int swarm_cancel_timer_async(swarm_ref_t ref);

/* Read a SWARM_TAG_CANCEL_TIMER message: the timer's ref and the ms that
 * were left, or -1 (no such timer). Either out pointer may be NULL.
 * Nonzero if m is such a message (zero, nothing written, if not).
 * Context: any. Blocking: never. */
SWARM_API int swarm_msg_cancel_timer(const swarm_msg_t *m, swarm_ref_t *ref, int64_t *left);

/* The ms left before a timer fires, in *left (may be NULL); cancels
 * nothing. Returns 0, SWARM_ENOENT (no such timer, as for
 * swarm_cancel_timer), SWARM_ENOTPROC. Context: process. Blocking: never. */
SWARM_API int swarm_read_timer(swarm_ref_t ref, int64_t *left);

/* Read a SWARM_TAG_TIMER message: the timer's ref, the tag and data it
 * was armed with (data points into the message). Any out pointer may be
 * NULL. Nonzero if m is such a message (zero, nothing written, if not).
 * Context: any. Blocking: never. */
SWARM_API int swarm_msg_timer(const swarm_msg_t *m, swarm_ref_t *ref, uint32_t *tag, const void **data,
                              size_t *size);

#ifdef __cplusplus
}
#endif
#endif
