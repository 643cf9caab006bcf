/*
 * base/deadline.h - timeouts to deadlines, saturating.
 *
 * Public timeouts are int64_t milliseconds (negative = none: the public
 * calls accept SWARM_INFINITE and reject other negative values). Turning
 * one into nanoseconds or into an absolute deadline on some clock
 * (CLOCK_MONOTONIC in ns, the same in ms, a deterministic swarm's virtual
 * ms) overflows int64_t for large values, and a wrapped deadline lies in
 * the past. Every such conversion in the runtime goes through these
 * helpers, which saturate: SWARM__NEVER (INT64_MAX) is the deadline that
 * never comes, so a timeout whose deadline lies beyond what int64_t can
 * represent means "no deadline", exactly as SWARM_INFINITE does.
 */
#ifndef SWARM_BASE_DEADLINE_H
#define SWARM_BASE_DEADLINE_H

#include <stdint.h>

#define SWARM__NEVER INT64_MAX

/* a + b for a, b >= 0, SWARM__NEVER when the sum does not fit. */
static inline int64_t swarm__sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? SWARM__NEVER : r;
}

/* ms (>= 0) in nanoseconds, SWARM__NEVER when it does not fit. */
static inline int64_t swarm__ms_to_ns(int64_t ms)
{
    int64_t r;
    return __builtin_mul_overflow(ms, (int64_t)1000000, &r) ? SWARM__NEVER : r;
}

/* The deadline timeout_ms after now_ms (both ms on one clock, now_ms >= 0):
 * SWARM__NEVER for a negative timeout or one past the representable range. */
static inline int64_t swarm__deadline_ms(int64_t now_ms, int64_t timeout_ms)
{
    return timeout_ms < 0 ? SWARM__NEVER : swarm__sat_add(now_ms, timeout_ms);
}

/* The same on a nanosecond clock. */
static inline int64_t swarm__deadline_ns(int64_t now_ns, int64_t timeout_ms)
{
    return timeout_ms < 0 ? SWARM__NEVER : swarm__sat_add(now_ns, swarm__ms_to_ns(timeout_ms));
}

/* Nanoseconds from now_ns until deadline_ns, for a futex wait: -1 (wait
 * forever) for SWARM__NEVER, 0 once it has passed. */
static inline int64_t swarm__ns_until(int64_t now_ns, int64_t deadline_ns)
{
    if (deadline_ns == SWARM__NEVER)
        return -1;
    return deadline_ns > now_ns ? deadline_ns - now_ns : 0;
}

/* A nanosecond clock reading in whole ms, rounded up (a wait computed from
 * it lasts at least its timeout). */
static inline int64_t swarm__ns_to_ms_ceil(int64_t ns)
{
    return ns / 1000000 + (ns % 1000000 != 0);
}

#endif
