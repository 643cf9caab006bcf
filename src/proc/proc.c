/*
 * proc/proc.c - the small calls about the running process (swarmrt/proc.h).
 */

#include "msg/sig.h"
#include "proc/proc.h"
#include "ptable/registry.h"
#include "sched/sched.h"
#include "swarmrt.h"

swarm_pid_t swarm_self(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? swarm__ptable_pid(s->current) : SWARM_PID_NONE;
}

int swarm_yield(void)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    SWARM__STAT_INC(s, yields);
    swarm__proc_t *me = s->current;
    swarm__sched_switch_out(s, me, SWARM__ACT_YIELD);
    swarm__sig_poll(me);
    return 0;
}

void swarm_check(void)
{
    swarm__sched_t *s = swarm__sched_self();
    if (s && s->current) {
        swarm__proc_t *me = s->current;
        swarm__sched_spend(s, 1);
        swarm__sig_poll(me);
    }
}

int swarm_pin(void)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    s->current->home = s;
    s->current->flags |= SWARM__PF_PINNED;
    return 0;
}

int swarm_unpin(void)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    s->current->flags &= ~SWARM__PF_PINNED;
    return 0;
}

int swarm_set_priority(int prio, int *old)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!swarm__prio_valid(prio))
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    if (old)
        *old = p->prio;
    /* Read by whoever queues p next (sched/queue.c): p is running, so
     * nobody does now; its next park or yield publishes the store. */
    p->prio = (int8_t)prio;
    p->low_skips = 0;
    return 0;
}

int swarm_scheduler_index(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? (int)s->index : -1;
}

swarm_t *swarm_current(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? s->swarm : NULL;
}

int swarm_is_alive(swarm_pid_t pid)
{
    swarm__sched_t *s = swarm__sched_self();
    swarm__target_t t; /* resolved as swarm_send resolves it */
    if (swarm__pid_resolve(pid, s ? s->swarm->id : 0, &t) != 0)
        return 0;
    int alive = t.live;
    swarm__pid_release(&t);
    return alive;
}

char *swarm_pid_format(swarm_pid_t pid, char *buf, size_t len)
{
    return swarm__pid_format(pid, buf, len);
}
