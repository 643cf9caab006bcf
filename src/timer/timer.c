/*
 * timer/timer.c - time and sleeping (swarmrt/timer.h).
 */
#include "msg/msg.h"
#include "sched/sched.h"
#include "swarmrt.h"

int swarm_sleep(int64_t ms)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (ms < 0)
        return SWARM_EINVAL;
    if (ms == 0)
        return swarm_yield();
    return swarm__msg_set_aside(ms);
}

int64_t swarm_now_ms(void)
{
    return swarm__now_ms(swarm_current());
}
