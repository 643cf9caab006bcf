/*
 * sched/timers.c - the timer service: timed waits on the scheduler's wheel.
 *
 * Entries belong to the wheel of the scheduler that armed them; they are
 * recycled through a per-scheduler free list and freed only at destroy,
 * so a stale reference can be checked by its sequence number. A due timer
 * whose process still waits (same wait_seq) calls the fire function its
 * arming layer gave (msg/: push a timeout signal into the mailbox); one
 * whose process has moved on fires as a no-op.
 */
#include "sched/internal.h"

#include <string.h>

#include "arch/cpu.h"
#include "base/sys.h"
#include "swarmrt/error.h"

#define TIMER_BLOCK 64

/* The acquire exchange pairs with the release store in wheel_unlock: the
 * previous holder's changes to the wheel and its entries are visible. */
static void wheel_lock(swarm__sched_t *s)
{
    if (SWARM_LIKELY(!atomic_exchange_explicit(&s->wheel_lock, 1, memory_order_acquire)))
        return;
    /* A thief is firing our due timers: wait for it (a short hold). */
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(&s->wheel_lock, memory_order_relaxed) &&
            !atomic_exchange_explicit(&s->wheel_lock, 1, memory_order_acquire))
            return;
        if (spins < 64)
            SWARM_CPU_RELAX();
        else
            sched_yield();
    }
}

/* Thief: never waits. Pairs with wheel_unlock like wheel_lock. */
static int wheel_trylock(swarm__sched_t *s)
{
    return !atomic_load_explicit(&s->wheel_lock, memory_order_relaxed) &&
           !atomic_exchange_explicit(&s->wheel_lock, 1, memory_order_acquire);
}

/* Pairs with the acquire exchange of the next wheel_lock/wheel_trylock. */
static void wheel_unlock(swarm__sched_t *s)
{
    atomic_store_explicit(&s->wheel_lock, 0, memory_order_release);
}

/* Under the wheel lock, after a timer was filed: keep timer_due <= the
 * wheel's next tick (which a filing can only lower and a removal only
 * raise), so "timer_due > now" proves that advancing the wheel to now would
 * do nothing. timer_due is only a hint for lock-free readers (relaxed; the
 * lock orders the wheel itself). */
static void timer_due_lower(swarm__sched_t *s)
{
    int64_t next = swarm__wheel_next(&s->wheel);
    if (next < atomic_load_explicit(&s->timer_due, memory_order_relaxed))
        atomic_store_explicit(&s->timer_due, next, memory_order_relaxed);
}

static swarm__timer_t *timer_alloc(swarm__sched_t *s)
{
    if (!s->timer_free) {
        swarm__timer_t *block = swarm__calloc(TIMER_BLOCK, sizeof *block);
        if (!block)
            return NULL;
        size_t n = s->timer_nblocks;
        if ((n & (n - 1)) == 0) { /* 0 or a power of two: the array is full */
            swarm__timer_t **blocks = swarm__malloc((n ? 2 * n : 1) * sizeof *blocks);
            if (!blocks) {
                swarm__free(block);
                return NULL;
            }
            if (n)
                memcpy(blocks, s->timer_blocks, n * sizeof *blocks);
            swarm__free(s->timer_blocks);
            s->timer_blocks = blocks;
        }
        s->timer_blocks[s->timer_nblocks++] = block;
        for (int i = 0; i < TIMER_BLOCK; i++) {
            block[i].next = s->timer_free;
            s->timer_free = &block[i];
        }
    }
    swarm__timer_t *t = s->timer_free;
    s->timer_free = t->next;
    t->next = t->prev = NULL;
    return t;
}

static void timer_free(swarm__sched_t *s, swarm__timer_t *t)
{
    t->seq++;
    t->proc = NULL;
    t->ctx_fire = NULL;
    t->ctx = NULL;
    t->next = s->timer_free;
    s->timer_free = t;
}

int swarm__timer_arm(swarm__sched_t *s, swarm__proc_t *p, int64_t deadline_ms, swarm__timer_fire_fn fire)
{
    wheel_lock(s);
    swarm__timer_t *t = timer_alloc(s);
    if (!t) {
        wheel_unlock(s);
        return SWARM_ENOMEM;
    }
    /* wait_seq, relaxed: written only by code running as p (and its exit),
     * read by whoever fires one of p's timers. Nothing orders the two when
     * p moved to another scheduler: a firer that reads an old value posts a
     * timeout signal for a wait that is over, and the receiver drops it
     * (it compares the signal's sequence with its own, msg.c). */
    uint32_t seq = atomic_load_explicit(&p->wait_seq, memory_order_relaxed) + 1;
    atomic_store_explicit(&p->wait_seq, seq, memory_order_relaxed);
    t->deadline = deadline_ms;
    t->proc = p;
    t->gen = swarm__pstate_gen(atomic_load_explicit(&p->state, memory_order_relaxed));
    t->wait_seq = seq;
    t->fire = fire;
    swarm__wheel_insert(&s->wheel, t);
    timer_due_lower(s);
    p->timer = t;
    p->timer_seq = t->seq;
    p->timer_owner = s;
    wheel_unlock(s);
    return 0;
}

int swarm__timer_arm_ctx(swarm__sched_t *s, int64_t deadline_ms, int (*fire)(void *ctx, int64_t now, int64_t *deadline),
                         void *ctx)
{
    wheel_lock(s);
    swarm__timer_t *t = timer_alloc(s);
    if (!t) {
        wheel_unlock(s);
        return SWARM_ENOMEM;
    }
    t->deadline = deadline_ms;
    t->proc = NULL;
    t->fire = NULL;
    t->ctx_fire = fire;
    t->ctx = ctx;
    swarm__wheel_insert(&s->wheel, t);
    timer_due_lower(s);
    wheel_unlock(s);
    return 0;
}

/* End p's timed wait; s is the scheduler running this code (or NULL). The
 * entry is removed if it is on s's wheel; elsewhere it fires as a no-op. */
void swarm__timer_drop(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm__timer_t *t = p->timer;
    if (!t)
        return;
    p->timer = NULL;
    /* Whatever happens to the entry now, it must not wake a later wait. */
    atomic_store_explicit(&p->wait_seq, atomic_load_explicit(&p->wait_seq, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (s && p->timer_owner == s) {
        wheel_lock(s);
        if (t->seq == p->timer_seq && t->linked) {
            swarm__wheel_remove(&s->wheel, t);
            timer_free(s, t);
        }
        wheel_unlock(s);
    }
}

int64_t swarm__timer_deadline(swarm__proc_t *p)
{
    swarm__timer_t *t = p->timer;
    if (!t)
        return INT64_MAX;
    swarm__sched_t *owner = p->timer_owner;
    wheel_lock(owner);
    /* Recycled: it fired, so the deadline has passed. */
    int64_t d = t->seq == p->timer_seq ? t->deadline : swarm__now_ms(owner->swarm);
    wheel_unlock(owner);
    return d;
}

void swarm__timer_disarm(swarm__proc_t *p)
{
    swarm__timer_drop(swarm__sched_self(), p);
}

typedef struct fire_ctx {
    swarm__sched_t *owner; /* whose wheel (locked) */
    swarm__sched_t *by;    /* the scheduler running this: the owner or a thief */
    int64_t now;
} fire_ctx_t;

static void fire_timer(swarm__timer_t *t, void *arg)
{
    fire_ctx_t *c = arg;
    if (t->ctx_fire) {
        if (t->ctx_fire(t->ctx, c->now, &t->deadline)) {
            swarm__wheel_insert(&c->owner->wheel, t); /* periodic, or retry */
            return;
        }
        SWARM__STAT_INC(c->by, timers_fired);
        timer_free(c->owner, t);
        return;
    }
    swarm__proc_t *p = t->proc;
    if (p && atomic_load_explicit(&p->wait_seq, memory_order_relaxed) == t->wait_seq) {
        /* The wake lands on the queues of c->by (ready() on its thread). */
        if (t->fire(p, swarm__pid_make(c->owner->swarm->id, t->gen, p->index), t->wait_seq) != 0) {
            /* (msg/: no memory for the signal): try again on the next tick. */
            t->deadline = c->now + 1;
            swarm__wheel_insert(&c->owner->wheel, t);
            return;
        }
    }
    SWARM__STAT_INC(c->by, timers_fired);
    timer_free(c->owner, t);
}

/* Under owner's wheel lock, on the thread of by: fire what is due. */
static size_t fire_due(swarm__sched_t *owner, swarm__sched_t *by, int64_t now)
{
    fire_ctx_t c = {.owner = owner, .by = by, .now = now};
    size_t n = swarm__wheel_advance(&owner->wheel, now, fire_timer, &c);
    atomic_store_explicit(&owner->timer_due, swarm__wheel_next(&owner->wheel), memory_order_relaxed);
    return n;
}

void swarm__sched_check_timers(swarm__sched_t *s)
{
    int64_t now = swarm__now_ms(s->swarm);
    s->now_ms = now;
    if (atomic_load_explicit(&s->timer_due, memory_order_relaxed) > now)
        return;
    wheel_lock(s);
    fire_due(s, s, now);
    wheel_unlock(s);
}

/* Thief: fire the due timers of stuck scheduler v here. Returns how many. */
size_t swarm__sched_steal_timers(swarm__sched_t *s, swarm__sched_t *v)
{
    int64_t due = atomic_load_explicit(&v->timer_due, memory_order_relaxed);
    if (due == INT64_MAX || due > swarm__now_ms(s->swarm) || !wheel_trylock(v))
        return 0;
    size_t n = fire_due(v, s, swarm__now_ms(s->swarm));
    wheel_unlock(v);
    return n;
}

int64_t swarm__sched_timers_next(swarm__sched_t *s, int *armed)
{
    wheel_lock(s);
    *armed = s->wheel.count != 0;
    int64_t due = swarm__wheel_next(&s->wheel);
    wheel_unlock(s);
    return due;
}
