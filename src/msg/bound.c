/*
 * msg/bound.c - bounded mailboxes (swarm_spawn_opts_t.mailbox_max).
 *
 * Per slot, beside the process table (ptable.h: swarm__mbound_t): the
 * receiver's generation and its message count in one word, the bound, the
 * policy, and a FIFO of senders parked for room.
 *
 * Count. A sender reserves room before it queues a message (a CAS that
 * also checks the generation, so a sender holding the pid of the slot's
 * previous owner never counts against the new one); the receiver gives it
 * back when the message leaves the mailbox (received). Only messages
 * (MSG, CALL, CAST) count: signals, replies and notices never do, so they
 * are never refused.
 *
 * Parking for room. A sender parks in an fd-style wait (msg.c:
 * swarm__msg_recv_io with a token), so a kill, or its deadline, ends the
 * wait as they end a receive. The two sides form a Dekker pair:
 *
 *   sender:   nwait++ (under the lock, with its node queued); re-read the
 *             count: room? unqueue and retry; else park
 *   receiver: count-- ; if nwait and the count is down to half the
 *             bound: pop every parked sender, post each a notice
 *
 * (both seq_cst), so either the sender sees the room or the receiver sees
 * the sender. A woken sender retries its reservation; a sender that leaves
 * without retrying (deadline, kill) after it was popped passes the wake-up
 * on to the next one. When the receiver ends, every parked sender is woken
 * and the word's generation moves on, so they all find the pid dead.
 */
#include "msg/internal.h"

#include "arch/spin.h"
#include "msg/sig.h"
#include "ptable/registry.h"
#include "swarmrt.h"

typedef struct swarm__bwait {
    struct swarm__bwait *next, *prev;
    swarm__res_t res;        /* on the sender's resource list while it waits */
    swarm__mbound_t *b;
    swarm_pid_t pid;
    uint32_t token;
    int queued;              /* [b->lock] still on the list */
} bwait_t;

static void b_lock(swarm__mbound_t *b) { swarm__spin_lock(&b->lock); }
static void b_unlock(swarm__mbound_t *b) { swarm__spin_unlock(&b->lock); }

static void unqueue(swarm__mbound_t *b, bwait_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        b->whead = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        b->wtail = w->prev;
    w->next = w->prev = NULL;
    w->queued = 0;
    atomic_fetch_sub(&b->nwait, 1);
}

/* Wake the first parked sender, if any. */
static void wake_one(swarm__mbound_t *b)
{
    b_lock(b);
    bwait_t *w = b->whead;
    swarm_pid_t pid = SWARM_PID_NONE;
    uint32_t token = 0;
    if (w) {
        pid = w->pid;
        token = w->token;
        unqueue(b, w);
    }
    b_unlock(b);
    if (pid != SWARM_PID_NONE)
        swarm__msg_post_io(pid, token, 1);
}

swarm__mbound_t *swarm__mbound_of(swarm__ptable_t *pt, uint32_t index)
{
    if (!atomic_load_explicit(&pt->bounded_any, memory_order_relaxed))
        return NULL;
    swarm__mbound_t *b = &pt->mbound[index];
    return atomic_load_explicit(&b->max, memory_order_relaxed) ? b : NULL;
}

void swarm__mbound_spawn(swarm__ptable_t *pt, uint32_t index, uint32_t gen, uint32_t max, int policy)
{
    if (!max && !atomic_load_explicit(&pt->bounded_any, memory_order_relaxed))
        return; /* no slot was ever bounded: the whole array is zero */
    swarm__mbound_t *b = &pt->mbound[index];
    atomic_store_explicit(&b->policy, (uint32_t)policy, memory_order_relaxed);
    atomic_store_explicit(&b->word, (uint64_t)gen << 32, memory_order_relaxed);
    atomic_store_explicit(&b->max, max, memory_order_relaxed);
    if (max)
        atomic_store_explicit(&pt->bounded_any, 1, memory_order_relaxed);
    /* (published with the process: its state's release store at spawn) */
}

int swarm__mbound_reserve(swarm__mbound_t *b, uint32_t gen)
{
    uint32_t max = atomic_load_explicit(&b->max, memory_order_relaxed);
    uint64_t w = atomic_load(&b->word);
    for (;;) {
        if ((uint32_t)(w >> 32) != gen)
            return -1; /* another generation: the pid is stale */
        if ((uint32_t)w >= max)
            return 1;
        if (atomic_compare_exchange_weak(&b->word, &w, w + 1))
            return 0;
    }
}

void swarm__mbound_unreserve(swarm__mbound_t *b, uint32_t gen)
{
    uint64_t w = atomic_load(&b->word);
    while ((uint32_t)(w >> 32) == gen && (uint32_t)w > 0 && !atomic_compare_exchange_weak(&b->word, &w, w - 1))
        ;
    /* Parked senders are woken together once the mailbox has drained to
     * half its bound, not one per message taken: a stream into a full
     * mailbox then costs a park and a wake per half-bound of messages,
     * not per message (measured: 2 schedulers, 10 senders, bound 1,024:
     * 304 ms one at a time, see docs/design/msg.md). */
    if (atomic_load(&b->nwait) && (uint32_t)w - 1 <= atomic_load_explicit(&b->max, memory_order_relaxed) / 2)
        while (atomic_load(&b->nwait))
            wake_one(b);
}

static void bwait_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    bwait_t *w = SWARM_CONTAINER_OF(r, bwait_t, res);
    b_lock(w->b);
    int popped = !w->queued;
    if (!popped)
        unqueue(w->b, w);
    b_unlock(w->b);
    if (popped)
        wake_one(w->b); /* our wake-up, passed on */
}

int swarm__mbound_wait(swarm__mbound_t *b, uint32_t gen, int64_t timeout_ms)
{
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = s->current;
    bwait_t w = {.b = b, .pid = swarm__ptable_pid(p), .token = swarm__msg_next_corr()};
    w.res.release = bwait_release;
    b_lock(b);
    w.prev = b->wtail;
    if (b->wtail)
        b->wtail->next = &w;
    else
        b->whead = &w;
    b->wtail = &w;
    w.queued = 1;
    atomic_fetch_add(&b->nwait, 1);
    uint64_t word = atomic_load(&b->word);
    if ((uint32_t)(word >> 32) != gen || (uint32_t)word < atomic_load_explicit(&b->max, memory_order_relaxed)) {
        unqueue(b, &w); /* room already, or the receiver is gone: retry */
        b_unlock(b);
        return 0;
    }
    b_unlock(b);
    swarm__res_add(&p->res, &w.res);
    uint32_t ev;
    int r = swarm__msg_recv_io(w.token, 0, &ev, NULL, timeout_ms, 0);
    p = swarm__sched_current();
    swarm__res_remove(&p->res, &w.res);
    if (r == 1)
        return 0; /* woken: retry */
    bwait_release(&w.res, p, NULL);
    return r;
}

void swarm__mbound_exit(swarm__mbound_t *b, uint32_t gen)
{
    /* The next generation from here: senders that look now find the pid
     * stale; the parked ones are all woken to find it so. */
    atomic_store(&b->word, (uint64_t)(gen + 1) << 32);
    atomic_store_explicit(&b->max, 0, memory_order_relaxed);
    while (atomic_load(&b->nwait))
        wake_one(b);
}
