/*
 * sched/queue.c - where runnable processes wait, and how they get there:
 * the stealable ring, the LIFO slot, the inbox, the pinned list and the
 * swarm's injector; placement of new and woken processes; finding local
 * work; stealing (including every unpinned queue of a stuck scheduler).
 *
 * Priorities (docs/design/sched.md): a high process is queued only on
 * the swarm's high list, which every scheduler looks at first, so none is
 * ever stranded behind a busy scheduler and the idle protocol sees it as
 * it sees the injector. A low process never takes the LIFO slot and is
 * passed over at the head of the ring (low_turn). Normal processes, the
 * common case, pay one load of the high list's count per pick.
 */
#include "sched/internal.h"

#include "base/sys.h"
#include "base/upcalls.h"
#include "mbox/mailbox.h"

/* Owner: put p in the LIFO slot. Returns the process it displaced (the
 * caller queues it), or NULL. */
static swarm__proc_t *runnext_put(swarm__sched_t *s, swarm__proc_t *p)
{
    /* An empty slot cannot change under us: a thief only swaps a process
     * out for NULL. The release store pairs with a thief's acquire exchange
     * in steal_stuck, which then sees p fully set up. */
    if (!atomic_load_explicit(&s->runnext, memory_order_relaxed)) {
        atomic_store_explicit(&s->runnext, p, memory_order_release);
        return NULL;
    }
    /* A full slot may be emptied by a thief at any moment: exchange, so the
     * displaced process is ours only if no thief took it (pairs with the
     * thief's exchange in steal_stuck). */
    return atomic_exchange_explicit(&s->runnext, p, memory_order_acq_rel);
}

/* Owner: take the process in the LIFO slot, or NULL. */
static swarm__proc_t *runnext_take(swarm__sched_t *s)
{
    if (!atomic_load_explicit(&s->runnext, memory_order_relaxed))
        return NULL;
    /* Pairs with a thief's exchange in steal_stuck: exactly one of the two
     * exchanges returns the process. */
    return atomic_exchange_explicit(&s->runnext, NULL, memory_order_acquire);
}

/* Owner: append to the local ring, spilling half of it to the injector
 * when it is full. */
void swarm__sched_local_put(swarm__sched_t *s, swarm__proc_t *p)
{
    while (swarm__runq_put(&s->runq, p) != 0) {
        swarm__proc_t *batch[SWARM__RUNQ_SIZE / 2 + 1];
        uint32_t n = swarm__runq_spill(&s->runq, p, batch);
        if (n) {
            swarm__plist_push(&s->swarm->injector, batch, n);
            return;
        }
    }
}

/* Take a fair share of the injector: one to run, the rest queued locally. */
static swarm__proc_t *take_injector(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    uint32_t avail = swarm__plist_len(&sw->injector);
    if (!avail)
        return NULL;
    uint32_t want = avail / sw->nsched + 1;
    if (want > SWARM__RUNQ_SIZE / 2)
        want = SWARM__RUNQ_SIZE / 2;
    swarm__proc_t *batch[SWARM__RUNQ_SIZE / 2];
    uint32_t n = swarm__plist_take(&sw->injector, want, batch);
    for (uint32_t i = 1; i < n; i++)
        swarm__sched_local_put(s, batch[i]);
    return n ? batch[0] : NULL;
}

static void drain_inbox(swarm__sched_t *s)
{
    swarm__proc_t *batch[64];
    uint32_t n;
    while ((n = swarm__plist_take(&s->inbox, 64, batch)))
        for (uint32_t i = 0; i < n; i++)
            swarm__sched_local_put(s, batch[i]);
}

/* A high process became runnable: any scheduler may take it. */
static void high_put(swarm_t *sw, swarm__proc_t *p)
{
    swarm__plist_push(&sw->high, &p, 1);
    swarm__sched_wakep(sw);
}

void swarm__sched_submit(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int hint)
{
    if (SWARM_UNLIKELY(p->prio == SWARM_PRIO_HIGH)) {
        high_put(sw, p);
        return;
    }
    if (hint >= 0 && (!s || (unsigned)hint != s->index)) {
        swarm__sched_t *target = &sw->scheds[hint];
        swarm__plist_push(&target->inbox, &p, 1);
        swarm__sched_wake_sched(target);
        /* A stuck target will not drain its inbox: have an idle scheduler
         * come and take it. seq_cst load: after the push's seq_cst store,
         * before wakep's loads (pairs with the watchdog's store of stuck
         * and an idler's re-check, see sched.h). */
        if (atomic_load(&target->stuck))
            swarm__sched_wakep(sw);
        return;
    }
    if (s) {
        /* Like Go's newproc: the child takes the LIFO slot and the process
         * it displaces goes to the stealable ring. Spawn trees then run
         * depth-first, so far fewer processes are alive at once. A low
         * child queues at the back. */
        swarm__proc_t *old = SWARM_LIKELY(p->prio == SWARM_PRIO_NORMAL) ? runnext_put(s, p) : p;
        if (old)
            swarm__sched_local_put(s, old);
        swarm__sched_wakep(sw);
        return;
    }
    swarm__plist_push(&sw->injector, &p, 1);
    swarm__sched_wakep(sw);
}

/* A process became runnable by a wake. From a process of the same swarm it
 * takes the LIFO slot, so a reply runs next on this core; a process it
 * displaces goes to the stealable ring and other schedulers are told. On a
 * scheduler stack (timers) it goes to the local ring; from anywhere else
 * through the injector. */
static void ready(swarm__proc_t *p)
{
    swarm_t *sw = p->swarm;
    swarm__sched_t *s = swarm__sched_self();
    if (SWARM_UNLIKELY(p->flags & SWARM__PF_PINNED)) {
        /* Only its home scheduler may run it, from a queue nobody steals. */
        swarm__plist_push(&p->home->pinned, &p, 1);
        if (p->home != s)
            swarm__sched_wake_sched(p->home);
        return;
    }
    if (SWARM_UNLIKELY(p->prio == SWARM_PRIO_HIGH)) {
        high_put(sw, p);
        return;
    }
    if (s && s->swarm == sw) {
        if (s->current) {
            /* (A low process queues at the back.) */
            swarm__proc_t *old = SWARM_LIKELY(p->prio == SWARM_PRIO_NORMAL) ? runnext_put(s, p) : p;
            if (old) {
                swarm__sched_local_put(s, old);
                swarm__sched_wakep(sw);
            }
        } else if (SWARM_UNLIKELY(swarm__plist_len(&sw->injector))) {
            /* From the scheduler loop (a poll's wake-ups, a timer): while
             * the injector holds processes a full ring spilled (the oldest
             * half), newer ones queue behind them, not ahead in the ring:
             * first come, first served under overload. */
            swarm__plist_push(&sw->injector, &p, 1);
            swarm__sched_wakep(sw);
        } else {
            swarm__sched_local_put(s, p);
            swarm__sched_wakep(sw);
        }
        return;
    }
    swarm__plist_push(&sw->injector, &p, 1);
    swarm__sched_wakep(sw);
}

void swarm__sched_wake(swarm__proc_t *p)
{
    /* relaxed: this thread is P's only waker (the park's commit hook let
     * only it find P) and P is WAITING, so nobody else writes the word; the
     * enqueue in ready() publishes the store to the scheduler that takes P,
     * which loads it with acquire (run.c). */
    uint64_t w = atomic_load_explicit(&p->state, memory_order_relaxed);
    atomic_store_explicit(&p->state, swarm__pstate_make(swarm__pstate_gen(w), SWARM__PS_RUNNABLE),
                          memory_order_relaxed);
    ready(p);
}

void swarm__sched_let_go(swarm__proc_t *p)
{
    if (!swarm__mbox_mark_empty(&p->mbox))
        swarm__sched_wake(p);
}

void swarm__sched_requeue(swarm__sched_t *s, swarm__proc_t *p)
{
    if (SWARM_UNLIKELY(p->flags & SWARM__PF_PINNED))
        swarm__plist_push(&s->pinned, &p, 1);
    else if (SWARM_UNLIKELY(p->prio == SWARM_PRIO_HIGH))
        swarm__plist_push(&s->swarm->high, &p, 1); /* (this scheduler looks for work next) */
    else
        swarm__sched_local_put(s, p);
}

/* p, just taken from the head of the ring, is low: Erlang schedules a low
 * process only every SWARM_PRIO_LOW_TURN-th time it comes up while others
 * are queued (its RESCHEDULE_LOW), sending it to the back otherwise.
 * Returns the process to run (p, or one queued behind it), or NULL if
 * thieves emptied the ring meanwhile. Each pass-over advances a low
 * process towards its turn, so this ends. */
static swarm__proc_t *low_turn(swarm__sched_t *s, swarm__proc_t *p)
{
    while (p && p->prio == SWARM_PRIO_LOW && ++p->low_skips < SWARM_PRIO_LOW_TURN &&
           swarm__runq_len(&s->runq)) {
        swarm__sched_local_put(s, p);
        p = swarm__runq_get(&s->runq);
    }
    if (p)
        p->low_skips = 0;
    return p;
}

#define LIFO_CAP 3
#define INJECTOR_INTERVAL 61
#define STEAL_ROUNDS 4

swarm__proc_t *swarm__sched_find_local(swarm__sched_t *s)
{
    s->tick++;
    /* relaxed: a lower bound written by this thread or, while we were
     * stuck, by a thief under the wheel lock; a stale value only costs or
     * saves one wheel check. */
    if (atomic_load_explicit(&s->timer_due, memory_order_relaxed) != INT64_MAX)
        swarm__sched_check_timers(s);
    swarm__proc_t *p;
    if (SWARM_UNLIKELY(swarm__plist_len(&s->swarm->high)) && swarm__plist_take(&s->swarm->high, 1, &p)) {
        swarm__sched_slice_fresh(s);
        return p;
    }
    if (s->tick % INJECTOR_INTERVAL == 0) {
        swarm__io_poll_busy(s, 0); /* I/O is never starved by compute */
        p = take_injector(s);
        if (p) {
            swarm__sched_slice_fresh(s);
            return p;
        }
    }
    if (swarm__plist_len(&s->inbox))
        drain_inbox(s);

    p = runnext_take(s);
    if (p) {
        if (s->lifo_streak < LIFO_CAP || swarm__runq_len(&s->runq) == 0) {
            /* Inherit the slice: a ping-pong pair cannot starve others. */
            s->lifo_streak++;
            return p;
        }
        swarm__sched_local_put(s, p);
    }
    s->lifo_streak = 0;
    swarm__sched_slice_fresh(s);
    /* Pinned processes and the ring take turns. */
    if (swarm__plist_len(&s->pinned) && ((s->tick & 1) || !swarm__runq_len(&s->runq)) &&
        swarm__plist_take(&s->pinned, 1, &p))
        return p;
    p = swarm__runq_get(&s->runq);
    if (p && SWARM_UNLIKELY(p->prio == SWARM_PRIO_LOW))
        p = low_turn(s, p);
    if (p)
        return p;
    if (swarm__plist_take(&s->pinned, 1, &p))
        return p;
    return take_injector(s);
}

/* Thief (own ring empty), victim v stuck: take its LIFO slot, a batch of
 * its inbox, and fire its due timers here. Its pinned processes stay: a
 * pinned process waits for its home (swarm_pin). Returns one process to run
 * (the rest were queued locally), or NULL; *count = processes taken. */
static swarm__proc_t *steal_stuck(swarm__sched_t *s, swarm__sched_t *v, uint32_t *count)
{
    swarm__proc_t *p = NULL;
    uint32_t n = 0;
    /* Pairs with the owner's exchanges and release store in runnext_put /
     * runnext_take: one exchange wins the process. */
    if (atomic_load_explicit(&v->runnext, memory_order_relaxed) &&
        (p = atomic_exchange_explicit(&v->runnext, NULL, memory_order_acquire)))
        n++;
    swarm__proc_t *batch[SWARM__RUNQ_SIZE / 2];
    uint32_t k = swarm__plist_take(&v->inbox, SWARM__RUNQ_SIZE / 2, batch);
    for (uint32_t i = 0; i < k; i++) {
        if (!p)
            p = batch[i];
        else
            swarm__sched_local_put(s, batch[i]);
    }
    n += k;
    /* Woken processes land on our ring (ready() on this thread). */
    if (swarm__sched_steal_timers(s, v) && !p)
        p = swarm__runq_get(&s->runq);
    *count = n;
    return p;
}

swarm__proc_t *swarm__sched_steal_from(swarm__sched_t *s, swarm__sched_t *v)
{
    uint32_t n;
    swarm__proc_t *p = swarm__runq_steal(&s->runq, &v->runq, &n);
    /* seq_cst: pairs with the watchdog's store of stuck (sched.h). */
    if (!p && SWARM_UNLIKELY(atomic_load(&v->stuck)))
        p = steal_stuck(s, v, &n);
    if (p) {
        SWARM__STAT_INC(s, steals);
        SWARM__STAT_ADD(s, stolen, n);
        swarm__sched_slice_fresh(s);
    }
    return p;
}

swarm__proc_t *swarm__sched_steal_work(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    unsigned n = sw->nsched;
    if (n == 1)
        return NULL;
    if (!s->spinning) {
        /* Bound the hunters: at most half of the busy schedulers. */
        uint32_t busy = n - atomic_load(&sw->npidle);
        if (2 * atomic_load(&sw->nspinning) >= busy)
            return NULL;
        s->spinning = 1;
        atomic_fetch_add(&sw->nspinning, 1);
    }
    for (int round = 0; round < STEAL_ROUNDS; round++) {
        unsigned start = (unsigned)(swarm__sched_rand(&s->rng) % n);
        for (unsigned k = 0; k < n; k++) {
            swarm__sched_t *v = &sw->scheds[(start + k) % n];
            if (v == s)
                continue;
            swarm__proc_t *p = swarm__sched_steal_from(s, v);
            if (p)
                return p;
        }
        swarm__proc_t *p = take_injector(s);
        if (p)
            return p;
    }
    return NULL;
}
