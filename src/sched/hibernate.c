/*
 * sched/hibernate.c - dropping the stacks of hibernating processes in
 * batches (sched/hibernate.h).
 */
#include "sched/hibernate.h"

#include "mbox/mailbox.h"
#include "sched/sched.h"

void swarm__hib_note(swarm__sched_t *s, swarm__proc_t *p, uint32_t gen)
{
    s->hib_drops[s->hib_ndrops].p = p;
    s->hib_drops[s->hib_ndrops].gen = gen;
    if (++s->hib_ndrops == SWARM__HIB_BATCH)
        swarm__hib_flush(s);
}

void swarm__hib_flush(swarm__sched_t *s)
{
    _Static_assert(SWARM__HIB_BATCH <= SWARM__STACK_DROP_MAX, "one batch, one drop");
    const swarm__stack_t *own[SWARM__HIB_BATCH];
    unsigned n = 0;
    for (uint32_t i = 0; i < s->hib_ndrops; i++) {
        swarm__proc_t *p = s->hib_drops[i].p;
        if (!swarm__mbox_claim(&p->mbox))
            continue; /* running or runnable: woken since, it keeps its pages */
        /* Ours now. Still the hibernation noted? (flags and state are
         * published by the park's commit, which our claim follows.) */
        uint64_t w = atomic_load_explicit(&p->state, memory_order_relaxed);
        if (swarm__pstate_gen(w) != s->hib_drops[i].gen || !(p->flags & SWARM__PF_HIBERNATED)) {
            swarm__sched_let_go(p);
            continue;
        }
        own[n++] = &p->stack;
    }
    s->hib_ndrops = 0;
    swarm__stack_drop_many(own, n, NULL); /* (refused: the pages just stay) */
    for (unsigned i = 0; i < n; i++)
        swarm__sched_let_go(SWARM_CONTAINER_OF(own[i], swarm__proc_t, stack));
}
