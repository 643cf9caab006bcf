/*
 * swarmrt/timer.h - time and sleeping.
 *
 * Each scheduler keeps a hierarchical timing wheel with 1 ms resolution.
 * A sleeping process costs no CPU; an idle scheduler sleeps in the kernel
 * until its next timer is due.
 */
#ifndef SWARMRT_TIMER_H
#define SWARMRT_TIMER_H

#include <stdint.h>

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

#ifdef __cplusplus
}
#endif
#endif
