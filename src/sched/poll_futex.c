/*
 * sched/poll_futex.c - the poller of a build without I/O: a futex on the
 * scheduler's park_word (sched/poller.h).
 */
#include "sched/poller.h"

#include <errno.h>

#include "base/sys.h"

int swarm__poller_sleep(swarm__sched_t *s, uint32_t sleeping_value, int64_t timeout_ns)
{
    return swarm__futex_wait(&s->park_word, sleeping_value, timeout_ns) == -ETIMEDOUT;
}

void swarm__poller_wake(swarm__sched_t *s)
{
    swarm__futex_wake(&s->park_word, 1);
}
