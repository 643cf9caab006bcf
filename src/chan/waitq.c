/*
 * chan/waitq.c - wait queues parked through the commit hook, with the
 * mailbox's EMPTY mark as the wake token (chan/waitq.h, docs/design/chan.md).
 */
#include "chan/waitq.h"

#include <sched.h>

#include "base/deadline.h"
#include "mbox/mailbox.h"
#include "msg/sig.h"

void swarm__waitq_push(swarm__waitq_t *q, swarm__waiter_t *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->q = q;
}

void swarm__waitq_push_front(swarm__waitq_t *q, swarm__waiter_t *w)
{
    w->prev = NULL;
    w->next = q->head;
    if (q->head)
        q->head->prev = w;
    else
        q->tail = w;
    q->head = w;
    w->q = q;
}

void swarm__waitq_remove(swarm__waitq_t *q, swarm__waiter_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->q = NULL;
}

swarm__waiter_t *swarm__waitq_take(swarm__waitq_t *q)
{
    swarm__waiter_t *w;
    while ((w = q->head)) {
        swarm__waitq_remove(q, w);
        if (swarm__mbox_claim(&w->p->mbox))
            return w;
        /* Someone else is waking its process: it will look again. */
    }
    return NULL;
}

void swarm__waitq_wake(swarm__waiter_t *w)
{
    swarm__proc_t *p = w->p;
    swarm_t *sw = p->swarm;
    swarm__sched_t *s = swarm__sched_self();
    int outside = !s || s->swarm != sw;
    if (outside)
        swarm__outside_begin(sw); /* a wake from outside the swarm: deadlock detection waits */
    swarm__sched_wake(p);
    if (outside)
        swarm__outside_end(sw);
}

void swarm__waitq_wake_list(swarm__waiter_t *list)
{
    while (list) {
        swarm__waiter_t *next = list->wnext; /* read before the wake: then it may be gone */
        swarm__waitq_wake(list);
        list = next;
    }
}

typedef struct park_ctx {
    _Atomic uint32_t *const *locks;
    unsigned n;
} park_ctx_t;

/* The commit hook, on the scheduler's stack after p switched out: mark
 * the mailbox EMPTY (the wake token), then release the locks. The locks
 * are copied first: once marked, p may be woken and run elsewhere, and
 * its stack (where ctx lives) is its own again. */
static int commit(swarm__proc_t *p, void *ctx)
{
    park_ctx_t *c = ctx;
    _Atomic uint32_t *locks[SWARM__WAITQ_MAX_LOCKS];
    unsigned n = c->n;
    for (unsigned i = 0; i < n; i++)
        locks[i] = c->locks[i];
    int ok = swarm__mbox_mark_empty(&p->mbox);
    /* Refused (something is queued): nobody can claim p (no mark), and p
     * takes its nodes off the queues when it runs on. */
    for (unsigned i = 0; i < n; i++)
        swarm__waitq_unlock(locks[i]);
    return ok;
}

void swarm__waitq_park(swarm__sched_t *s, swarm__proc_t *p, _Atomic uint32_t *const *locks, unsigned n,
                       int kind)
{
    park_ctx_t c = {.locks = locks, .n = n};
    SWARM__STAT_INC(s, parks);
    /* What p waits for (process info, deadlock reports): it stands
     * while the call loops, and the call's end clears it. */
    p->wait_kind = (uint8_t)kind;
    swarm__sched_park(s, p, commit, &c);
}

/* The wait's timer came due (a scheduler thread, with the wheel locked):
 * take p's wake token if p still parks in this life. A late fire that
 * finds p parked in a later wait wakes it spuriously; every wait loops. */
static int fire(swarm__proc_t *p, swarm_pid_t pid, uint32_t wait_seq)
{
    (void)wait_seq;
    uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
    if (swarm__pstate_gen(w) != swarm__pid_gen(pid) || swarm__pstate_st(w) != SWARM__PS_WAITING)
        return 0;
    if (swarm__mbox_claim(&p->mbox))
        swarm__sched_wake(p);
    return 0;
}

int swarm__waitq_arm(swarm__sched_t *s, swarm__proc_t *p, int64_t deadline)
{
    if (deadline == SWARM__NEVER || p->timer)
        return 0;
    return swarm__timer_arm(s, p, deadline, fire);
}

void swarm__waitq_mailbox_slow(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm__msg_take_queue(s, p);
    if (swarm__mbox_busy(&p->mbox)) /* a sender between its exchange and its link */
        swarm__sched_switch_out(s, p, SWARM__ACT_YIELD);
}

int64_t swarm__waitq_deadline(swarm_t *sw, int64_t timeout_ms)
{
    if (timeout_ms == SWARM_INFINITE)
        return SWARM__NEVER;
    if (sw->deterministic)
        return swarm__deadline_ms(swarm__now_ms(sw), timeout_ms);
    /* Round up: the wait lasts at least timeout_ms. */
    return swarm__deadline_ms(swarm__ns_to_ms_ceil(swarm__clock_ns()), timeout_ms);
}
