/*
 * timer/sleep.c - swarm_sleep: park on a timer of the wheel.
 */
#include "runtime/swarm.h"
#include "sched/sched.h"
#include "swarmrt.h"
#include "base/sys.h"

int swarm_sleep(int64_t ms)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (ms < 0)
        return SWARM_EINVAL;
    if (ms == 0)
        return swarm_yield();
    swarm__proc_t *p = s->current;
    swarm_t *sw = s->swarm;
    int64_t deadline = sw->deterministic ? swarm__now_ms(sw) + ms
                                         : (swarm__clock_ns() + ms * 1000000 + 999999) / 1000000;
    /* Wake-ups other than the timer (a message sent after an earlier
     * receive marked the mailbox) just go round the loop. */
    while (swarm__now_ms(sw) < deadline) {
        swarm__timer_arm(s, p, deadline);
        swarm__sched_switch_out(s, p, SWARM__ACT_PARK);
        swarm__timer_disarm(p);
        s = swarm__sched_self();
    }
    return 0;
}
