/*
 * sched/sched.c - the scheduler loop, switching, park/wake, stealing and
 * idle parking, spawn and exit.
 *
 * Protocols (modelled in models/):
 *
 *  Park (process P, scheduler S). P found nothing it wants in its mailbox
 *  and switches to S with ACT_PARK. Only then, on S's stack, S stores
 *  WAITING and tries to mark P's mailbox EMPTY; the mark succeeds only if
 *  nothing was pushed since P last looked. If it fails, P runs again at
 *  once. Nobody can resume P before it is fully switched out.
 *
 *  Wake. The one push that finds the EMPTY mark (mbox/mailbox.h) stores
 *  RUNNABLE and enqueues P; no other thread can, so no CAS is needed.
 *  Timers wake through the mailbox too: a due timer pushes a timeout
 *  signal, so a process has exactly one wake source.
 *
 *  Idle. A scheduler that found nothing (own queues, injector, stealing)
 *  leaves the spinning state, puts itself on the idle list, and only then
 *  (after a seq_cst RMW) looks at every queue once more before sleeping on
 *  its futex. A submitter enqueues (seq_cst) and then wakes one idle
 *  scheduler if nobody is spinning. The woken scheduler starts out
 *  spinning; a spinner that finds work stops spinning and wakes another if
 *  it was the last (Go's protocol).
 */
#include "sched/sched.h"

#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/cpu.h"
#include "arch/switch.h"
#include "base/deadline.h"
#include "base/sanitizer.h"
#include "base/sys.h"
#include "msg/msg.h"
#include "runtime/swarm.h"
#include "swarmrt.h"


/* ------------------------------------------------------------------ */
/* Current scheduler: thread-local, read only through a call the compiler
 * cannot see through, so no TLS address survives a switch in a register. */

static __thread swarm__sched_t *tls_sched;

SWARM_NOINLINE swarm__sched_t *swarm__sched_self(void)
{
    SWARM_BARRIER();
    return tls_sched;
}

SWARM_NOINLINE void swarm__sched_set_self(swarm__sched_t *s)
{
    SWARM_BARRIER();
    tls_sched = s;
}

/* ------------------------------------------------------------------ */
/* Switching, with the sanitizers told which stack is live. */

static void switch_in(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm__san_switch_begin(&s->asan_fake_stack, p->stack.base,
                            (size_t)((char *)p->stack.top - (char *)p->stack.base));
    swarm__san_fiber_switch(p->tsan_fiber);
    swarm__ctx_switch(&s->sp, p->sp);
    swarm__san_switch_end(s->asan_fake_stack);
}

void swarm__sched_switch_out(swarm__sched_t *s, swarm__proc_t *p, int action)
{
    s->action = action;
    /* An exiting process never comes back: NULL lets ASan free its fake stack. */
    swarm__san_switch_begin(action == SWARM__ACT_EXIT ? NULL : &p->asan_fake_stack, s->stack_bottom,
                            s->stack_size);
    swarm__san_fiber_switch(s->tsan_fiber);
    swarm__ctx_switch(&p->sp, s->sp);
    /* Resumed, maybe on another thread: s is stale from here on. */
    swarm__san_switch_end(p->asan_fake_stack);
}

/* A fresh slice: the clock is read only at the first chunk's end, so a
 * process that parks or yields within 200 reductions costs no clock read. */
static void slice_fresh(swarm__sched_t *s)
{
    s->reductions = SWARM__SLICE_CHUNK;
    s->slice_chunks = SWARM_SLICE_REDUCTIONS / SWARM__SLICE_CHUNK;
    s->slice_t0_ns = 0;
}

/* A chunk is spent: start the next one, unless the slice is spent or has
 * lasted its time budget. */
static SWARM_NOINLINE void spend_slow(swarm__sched_t *s)
{
    if (--s->slice_chunks > 0) {
        int64_t budget = s->swarm->slice_budget_ns;
        if (!budget) { /* deterministic mode: reductions only */
            s->reductions += SWARM__SLICE_CHUNK;
            return;
        }
        int64_t now = swarm__clock_ns();
        if (!s->slice_t0_ns)
            s->slice_t0_ns = now;
        if (now - s->slice_t0_ns < budget) {
            s->reductions += SWARM__SLICE_CHUNK;
            return;
        }
    }
    SWARM__STAT_INC(s, yields);
    swarm__sched_switch_out(s, s->current, SWARM__ACT_YIELD);
}

void swarm__sched_spend(swarm__sched_t *s, int32_t n)
{
    s->reductions -= n;
    if (SWARM_UNLIKELY(s->reductions <= 0))
        spend_slow(s);
}

/* ------------------------------------------------------------------ */
/* Idle list and waking schedulers. */

/* Pop an idle scheduler for a waker holding the spinning token. If there
 * is none, the token is handed back inside the same critical section: a
 * scheduler that announces itself idle after this point re-checks the
 * queues, one that announced before was popped. Handing it back after the
 * unlock loses a wake-up (found by models/sched_idle.pml; regression model
 * bugs/sched_undo_after_unlock.pml). */
static swarm__sched_t *idle_pop(swarm_t *sw)
{
    pthread_mutex_lock(&sw->idle_lock);
    swarm__sched_t *s = sw->idle_head;
    if (s) {
        sw->idle_head = s->idle_next;
        s->idle_next = NULL;
        s->idle = 0;
        atomic_fetch_sub(&sw->npidle, 1);
        atomic_fetch_add(&sw->idle_epoch, 1);
    } else {
        atomic_fetch_sub(&sw->nspinning, 1);
    }
    pthread_mutex_unlock(&sw->idle_lock);
    return s;
}

/* Take s off the idle list if it is still there. Returns 1 if removed. */
static int idle_remove(swarm_t *sw, swarm__sched_t *s)
{
    int removed = 0;
    pthread_mutex_lock(&sw->idle_lock);
    if (s->idle) {
        swarm__sched_t **pp = &sw->idle_head;
        while (*pp != s)
            pp = &(*pp)->idle_next;
        *pp = s->idle_next;
        s->idle_next = NULL;
        s->idle = 0;
        atomic_fetch_sub(&sw->npidle, 1);
        atomic_fetch_add(&sw->idle_epoch, 1);
        removed = 1;
    }
    pthread_mutex_unlock(&sw->idle_lock);
    return removed;
}

/* park_word: PARK_IDLE while an idle scheduler is still spinning before it
 * sleeps, PARK_SLEEPING once it is in the futex, PARK_TOKEN once a waker has
 * handed it work. Only a sleeper costs the waker a futex_wake syscall. */
enum { PARK_IDLE = 0, PARK_TOKEN = 1, PARK_SLEEPING = 2 };

static void unpark(swarm__sched_t *s)
{
    /* release: the waker's writes (s->spinning) happen before the sleeper's
     * acquire load of park_word. */
    if (atomic_exchange_explicit(&s->park_word, PARK_TOKEN, memory_order_acq_rel) == PARK_SLEEPING)
        swarm__futex_wake(&s->park_word, 1);
}

/* Wake one idle scheduler to look for work, unless one is already looking. */
static void wakep(swarm_t *sw)
{
    if (sw->deterministic)
        return;
    /* seq_cst loads: ordered after the submitter's seq_cst enqueue. */
    if (!atomic_load(&sw->npidle) || atomic_load(&sw->nspinning))
        return;
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong(&sw->nspinning, &zero, 1))
        return;
    swarm__sched_t *s = idle_pop(sw);
    if (!s)
        return; /* idle_pop gave the token back */
    s->spinning = 1; /* handed over with the token */
    unpark(s);
    if (atomic_exchange(&sw->watchdog_sleeping, 0))
        swarm__watchdog_kick(sw);
}

/* Wake a particular scheduler if it sleeps (work was put in its inbox). */
static void wake_sched(swarm__sched_t *s)
{
    if (s->swarm->deterministic)
        return;
    if (idle_remove(s->swarm, s))
        unpark(s);
}

void swarm__sched_wake_idle(swarm_t *sw)
{
    wakep(sw);
}

void swarm__sched_wake_all(swarm_t *sw)
{
    for (unsigned i = 0; i < sw->nsched; i++) {
        swarm__sched_t *s = &sw->scheds[i];
        idle_remove(sw, s);
        unpark(s);
    }
}

/* ------------------------------------------------------------------ */
/* Queues. */

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
static void local_put(swarm__sched_t *s, swarm__proc_t *p)
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
        local_put(s, batch[i]);
    return n ? batch[0] : NULL;
}

static void drain_inbox(swarm__sched_t *s)
{
    swarm__proc_t *batch[64];
    uint32_t n;
    while ((n = swarm__plist_take(&s->inbox, 64, batch)))
        for (uint32_t i = 0; i < n; i++)
            local_put(s, batch[i]);
}

void swarm__sched_submit(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int hint)
{
    if (hint >= 0 && (!s || (unsigned)hint != s->index)) {
        swarm__sched_t *target = &sw->scheds[hint];
        swarm__plist_push(&target->inbox, &p, 1);
        wake_sched(target);
        /* A stuck target will not drain its inbox: have an idle scheduler
         * come and take it. seq_cst load: after the push's seq_cst store,
         * before wakep's loads (pairs with the watchdog's store of stuck
         * and an idler's re-check, see sched.h). */
        if (atomic_load(&target->stuck))
            wakep(sw);
        return;
    }
    if (s) {
        /* Like Go's newproc: the child takes the LIFO slot and the process
         * it displaces goes to the stealable ring. Spawn trees then run
         * depth-first, so far fewer processes are alive at once. */
        swarm__proc_t *old = runnext_put(s, p);
        if (old)
            local_put(s, old);
        wakep(sw);
        return;
    }
    swarm__plist_push(&sw->injector, &p, 1);
    wakep(sw);
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
            wake_sched(p->home);
        return;
    }
    if (s && s->swarm == sw) {
        if (s->current) {
            swarm__proc_t *old = runnext_put(s, p);
            if (old) {
                local_put(s, old);
                wakep(sw);
            }
        } else {
            local_put(s, p);
            wakep(sw);
        }
        return;
    }
    swarm__plist_push(&sw->injector, &p, 1);
    wakep(sw);
}

void swarm__proc_wake(swarm__proc_t *p)
{
    uint64_t w = atomic_load_explicit(&p->state, memory_order_relaxed);
    atomic_store_explicit(&p->state, swarm__pstate_make(swarm__pstate_gen(w), SWARM__PS_RUNNABLE),
                          memory_order_relaxed);
    ready(p);
}

/* ------------------------------------------------------------------ */
/* Timers. Entries belong to the wheel of the scheduler that armed them;
 * they are recycled through a per-scheduler free list and freed only at
 * destroy, so a stale reference can be checked by its sequence number. A
 * due timer whose process still waits (same wait_seq) pushes a timeout
 * signal into its mailbox; one whose process has moved on fires as a no-op
 * (and a signal that loses that race is dropped by the receiver, which
 * compares the sequence). The wheel and its free list are touched under
 * wheel_lock: by the owner, and by a thief firing the due timers of a stuck
 * scheduler (steal_timers). */

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
    t->next = s->timer_free;
    s->timer_free = t;
}

int swarm__timer_arm(swarm__sched_t *s, swarm__proc_t *p, int64_t deadline_ms)
{
    wheel_lock(s);
    swarm__timer_t *t = timer_alloc(s);
    if (!t) {
        wheel_unlock(s);
        return SWARM_ENOMEM;
    }
    uint32_t seq = atomic_load_explicit(&p->wait_seq, memory_order_relaxed) + 1;
    atomic_store_explicit(&p->wait_seq, seq, memory_order_relaxed);
    t->deadline = deadline_ms;
    t->proc = p;
    t->gen = swarm__pstate_gen(atomic_load_explicit(&p->state, memory_order_relaxed));
    t->wait_seq = seq;
    swarm__wheel_insert(&s->wheel, t);
    timer_due_lower(s);
    p->timer = t;
    p->timer_seq = t->seq;
    p->timer_owner = s;
    wheel_unlock(s);
    return 0;
}

/* End p's timed wait; s is the scheduler running this code (or NULL). The
 * entry is removed if it is on s's wheel; elsewhere it fires as a no-op. */
static void timer_drop(swarm__sched_t *s, swarm__proc_t *p)
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

void swarm__timer_disarm(swarm__proc_t *p)
{
    timer_drop(swarm__sched_self(), p);
}

typedef struct fire_ctx {
    swarm__sched_t *owner; /* whose wheel (locked) */
    swarm__sched_t *by;    /* the scheduler running this: the owner or a thief */
    int64_t now;
} fire_ctx_t;

static void fire_timer(swarm__timer_t *t, void *arg)
{
    fire_ctx_t *c = arg;
    swarm__proc_t *p = t->proc;
    if (p && atomic_load_explicit(&p->wait_seq, memory_order_relaxed) == t->wait_seq) {
        /* The wake lands on the queues of c->by (ready() on its thread). */
        if (swarm__msg_post_timeout(p, swarm__pid_make(c->owner->swarm->id, t->gen, p->index), t->wait_seq) != 0) {
            /* No memory for the signal: try again on the next tick. */
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

static void check_timers(swarm__sched_t *s)
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
static size_t steal_timers(swarm__sched_t *s, swarm__sched_t *v)
{
    int64_t due = atomic_load_explicit(&v->timer_due, memory_order_relaxed);
    if (due == INT64_MAX || due > swarm__now_ms(s->swarm) || !wheel_trylock(v))
        return 0;
    size_t n = fire_due(v, s, swarm__now_ms(s->swarm));
    wheel_unlock(v);
    return n;
}

/* ------------------------------------------------------------------ */
/* Running a process. */

static void proc_entry(void *arg)
{
    swarm__proc_t *p = arg;
    swarm__san_switch_end(NULL);
    p->fn(p->arg);
    swarm_exit(SWARM_EXIT_NORMAL);
}

/* P is switched out: publish it as waiting. After a successful mark,
 * another thread may wake and run P at once: do not touch P again. */
static int park_commit(swarm__proc_t *p, uint32_t gen)
{
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_WAITING), memory_order_relaxed);
    /* The mark's seq_cst CAS orders the WAITING store before any waker. */
    if (swarm__mbox_mark_empty(&p->mbox))
        return 1;
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNING), memory_order_relaxed);
    return 0;
}

static void run_proc(swarm__sched_t *s, swarm__proc_t *p)
{
    uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
    uint32_t gen = swarm__pstate_gen(w);
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNING), memory_order_release);
    s->current = p;
    atomic_store_explicit(&s->running_pid, swarm__pid_make(s->swarm->id, gen, p->index),
                          memory_order_relaxed);
    atomic_store_explicit(&s->slice_seq, atomic_load_explicit(&s->slice_seq, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    SWARM__STAT_INC(s, switches);

again:
    switch_in(s, p);

    s->current = NULL;
    atomic_store_explicit(&s->running_pid, 0, memory_order_relaxed);
    /* A broken canary, or a stack pointer saved below the usable stack (a
     * frame stepped over the guard without touching it): an overflow. */
    if (SWARM_UNLIKELY(swarm__stack_check(&p->stack) != 0 || (uintptr_t)p->sp < (uintptr_t)p->stack.base)) {
        swarm__crash_t c = {.signo = 0, .overflow = 1};
        swarm__proc_cleanup(s->swarm, s, p, SWARM_EXIT_STACK_OVERFLOW, &c);
        return;
    }
    switch (s->action) {
    case SWARM__ACT_YIELD:
        atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNABLE), memory_order_release);
        if (p->flags & SWARM__PF_PINNED)
            swarm__plist_push(&s->pinned, &p, 1);
        else
            local_put(s, p);
        break;
    case SWARM__ACT_PARK:
        if (!park_commit(p, gen)) {
            /* Something arrived meanwhile: keep running it. */
            s->current = p;
            atomic_store_explicit(&s->running_pid, swarm__pid_make(s->swarm->id, gen, p->index),
                                  memory_order_relaxed);
            goto again;
        }
        break;
    case SWARM__ACT_EXIT:
        swarm__proc_cleanup(s->swarm, s, p, p->exit_reason, s->crash.signo || s->crash.overflow ? &s->crash : NULL);
        memset(&s->crash, 0, sizeof s->crash);
        break;
    default:
        abort();
    }
}

/* ------------------------------------------------------------------ */
/* Finding work. */

#define LIFO_CAP 3
#define INJECTOR_INTERVAL 61
#define STEAL_ROUNDS 4

static swarm__proc_t *find_local(swarm__sched_t *s)
{
    s->tick++;
    if (atomic_load_explicit(&s->timer_due, memory_order_relaxed) != INT64_MAX)
        check_timers(s);
    if (s->tick % INJECTOR_INTERVAL == 0) {
        swarm__proc_t *p = take_injector(s);
        if (p) {
            slice_fresh(s);
            return p;
        }
    }
    if (swarm__plist_len(&s->inbox))
        drain_inbox(s);

    swarm__proc_t *p = runnext_take(s);
    if (p) {
        if (s->lifo_streak < LIFO_CAP || swarm__runq_len(&s->runq) == 0) {
            /* Inherit the slice: a ping-pong pair cannot starve others. */
            s->lifo_streak++;
            return p;
        }
        local_put(s, p);
    }
    s->lifo_streak = 0;
    slice_fresh(s);
    /* Pinned processes and the ring take turns. */
    if (swarm__plist_len(&s->pinned) && ((s->tick & 1) || !swarm__runq_len(&s->runq)) &&
        swarm__plist_take(&s->pinned, 1, &p))
        return p;
    p = swarm__runq_get(&s->runq);
    if (p)
        return p;
    if (swarm__plist_take(&s->pinned, 1, &p))
        return p;
    return take_injector(s);
}

static void stop_spinning(swarm__sched_t *s)
{
    s->spinning = 0;
    atomic_fetch_sub(&s->swarm->nspinning, 1);
    /* There may be more work than this scheduler can take. */
    wakep(s->swarm);
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
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
            local_put(s, batch[i]);
    }
    n += k;
    /* Woken processes land on our ring (ready() on this thread). */
    if (steal_timers(s, v) && !p)
        p = swarm__runq_get(&s->runq);
    *count = n;
    return p;
}

static swarm__proc_t *steal_from(swarm__sched_t *s, swarm__sched_t *v)
{
    uint32_t n;
    swarm__proc_t *p = swarm__runq_steal(&s->runq, &v->runq, &n);
    /* seq_cst: pairs with the watchdog's store of stuck (sched.h). */
    if (!p && SWARM_UNLIKELY(atomic_load(&v->stuck)))
        p = steal_stuck(s, v, &n);
    if (p) {
        SWARM__STAT_INC(s, steals);
        SWARM__STAT_ADD(s, stolen, n);
        slice_fresh(s);
    }
    return p;
}

static swarm__proc_t *steal_work(swarm__sched_t *s)
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
        unsigned start = (unsigned)(next_rand(&s->rng) % n);
        for (unsigned k = 0; k < n; k++) {
            swarm__sched_t *v = &sw->scheds[(start + k) % n];
            if (v == s)
                continue;
            swarm__proc_t *p = steal_from(s, v);
            if (p)
                return p;
        }
        swarm__proc_t *p = take_injector(s);
        if (p)
            return p;
    }
    return NULL;
}

/* Anything runnable anywhere this scheduler could take? */
static int work_visible(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    if (swarm__plist_len(&sw->injector) || swarm__plist_len(&s->inbox) || swarm__plist_len(&s->pinned))
        return 1;
    int64_t now = -1;
    for (unsigned i = 0; i < sw->nsched; i++) {
        swarm__sched_t *v = &sw->scheds[i];
        if (swarm__runq_len(&v->runq))
            return 1;
        if (v == s) {
            if (atomic_load(&v->runnext))
                return 1;
            continue;
        }
        /* A stuck scheduler's other queues are ours to take too. seq_cst:
         * after our npidle++, pairs with the watchdog's store of stuck then
         * wakep, and with a submitter's push then load of stuck. */
        if (!atomic_load(&v->stuck))
            continue;
        if (atomic_load(&v->runnext) || swarm__plist_len(&v->inbox))
            return 1;
        int64_t due = atomic_load_explicit(&v->timer_due, memory_order_relaxed);
        if (due != INT64_MAX) {
            if (now < 0)
                now = swarm__now_ms(sw);
            if (due <= now)
                return 1;
        }
    }
    return 0;
}

/* The earliest timer this scheduler must wake for while idle: its own, and
 * those of stuck schedulers (it fires them for them), or INT64_MAX. */
static int64_t idle_due_ms(swarm__sched_t *s, int64_t own_due)
{
    swarm_t *sw = s->swarm;
    int64_t due = own_due;
    for (unsigned i = 0; i < sw->nsched; i++) {
        swarm__sched_t *v = &sw->scheds[i];
        if (v != s && atomic_load(&v->stuck)) {
            int64_t d = atomic_load_explicit(&v->timer_due, memory_order_relaxed);
            if (d < due)
                due = d;
        }
    }
    return due;
}

static void wait_token(swarm__sched_t *s)
{
    while (atomic_load_explicit(&s->park_word, memory_order_acquire) != PARK_TOKEN)
        SWARM_CPU_RELAX();
}

/* Leave the idle list after finding work in a re-check (or timing out),
 * unless a waker took us off it first: then wait for its token. */
static void unidle(swarm__sched_t *s, int was_spinning)
{
    swarm_t *sw = s->swarm;
    if (!idle_remove(sw, s)) {
        wait_token(s); /* a waker took us first: we spin with its token */
    } else if (was_spinning) {
        /* Spin again: submitters that saw us spinning skipped their
         * wake-up, so when we find work we must pass it on (Go's
         * findrunnable does the same; bugs/sched_no_respin.pml). */
        s->spinning = 1;
        atomic_fetch_add(&sw->nspinning, 1);
    }
}

/* How long an idle scheduler keeps looking before it sleeps: about 20-50 us
 * of pause loops. A burst of submissions (a spawn storm) then finds it
 * awake and costs no futex syscalls on either side; a scheduler with
 * nothing to do still goes to sleep at once on a human time scale. */
#define IDLE_SPINS 2048

static void idle_park(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    int was_spinning = s->spinning;
    if (was_spinning) {
        s->spinning = 0;
        atomic_fetch_sub(&sw->nspinning, 1);
    }
    /* Only this thread arms timers on its wheel, and not while it is idle
     * (a thief may fire some: that only makes the flag conservative). */
    wheel_lock(s);
    int has_timers = s->wheel.count != 0;
    int64_t own_due = swarm__wheel_next(&s->wheel);
    wheel_unlock(s);
    atomic_store_explicit(&s->idle_timers, has_timers, memory_order_relaxed);
    pthread_mutex_lock(&sw->idle_lock);
    if (atomic_load(&sw->shutdown)) {
        pthread_mutex_unlock(&sw->idle_lock);
        return;
    }
    atomic_store_explicit(&s->park_word, PARK_IDLE, memory_order_relaxed);
    s->idle = 1;
    s->idle_next = sw->idle_head;
    sw->idle_head = s;
    atomic_fetch_add(&sw->npidle, 1); /* seq_cst: before the re-check below */
    pthread_mutex_unlock(&sw->idle_lock);

    if (work_visible(s)) {
        unidle(s, was_spinning);
        return;
    }
    for (int i = 1; i <= IDLE_SPINS; i++) {
        if (atomic_load_explicit(&s->park_word, memory_order_acquire) == PARK_TOKEN)
            return; /* a waker handed us work */
        if (i % 64 == 0 && work_visible(s)) {
            unidle(s, was_spinning);
            return;
        }
        SWARM_CPU_RELAX();
    }

    int64_t timeout_ns = -1;
    int64_t due_ms = idle_due_ms(s, own_due);
    if (due_ms != INT64_MAX)
        timeout_ns = swarm__ns_until(swarm__clock_ns(), swarm__ms_to_ns(due_ms));
    if (atomic_load(&sw->npidle) == sw->nsched)
        atomic_store(&sw->watchdog_sleeping, 1);
    if (timeout_ns < 0 && sw->deadlock_watch)
        swarm__deadlock_check(s); /* the last one awake, and nothing can wake anything? */
    /* About to sleep: a good moment to give back stack memory freed
     * during the last burst (off the hot path, pitfall 14). */
    swarm__stack_scavenge(sw->stacks);
    uint32_t idle = PARK_IDLE;
    if (atomic_compare_exchange_strong(&s->park_word, &idle, PARK_SLEEPING)) {
        SWARM__STAT_INC(s, parks);
        while (atomic_load_explicit(&s->park_word, memory_order_acquire) == PARK_SLEEPING) {
            if (swarm__futex_wait(&s->park_word, PARK_SLEEPING, timeout_ns) == -ETIMEDOUT)
                break;
        }
    }
    if (atomic_load_explicit(&s->park_word, memory_order_acquire) != PARK_TOKEN) {
        /* Timed out: our timers are due. Leave the idle list, unless a
         * waker took us off it at the same moment. */
        if (!idle_remove(sw, s))
            wait_token(s);
    }
    if (atomic_exchange(&sw->watchdog_sleeping, 0))
        swarm__watchdog_kick(sw);
}

static swarm__proc_t *find_runnable(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    for (;;) {
        if (atomic_load_explicit(&sw->shutdown, memory_order_acquire))
            return NULL;
        swarm__proc_t *p = find_local(s);
        if (!p)
            p = steal_work(s);
        if (p) {
            if (s->spinning)
                stop_spinning(s);
            return p;
        }
        idle_park(s);
    }
}

static void *sched_main(void *arg)
{
    swarm__sched_t *s = arg;
    swarm__sched_set_self(s);
    /* Async signals go to other threads: a process may run on any scheduler
     * and must not see another's signal mask (pitfall 3). */
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, SIGSEGV);
    sigdelset(&set, SIGBUS);
    sigdelset(&set, SIGILL);
    sigdelset(&set, SIGFPE);
    sigdelset(&set, SIGABRT);
    sigdelset(&set, SIGTRAP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    swarm__fault_thread_enter(s);
    s->tid = (int)syscall(SYS_gettid);
    if (pthread_getcpuclockid(pthread_self(), &s->cpu_clock) == 0)
        atomic_store(&s->cpu_clock_ok, 1);
    swarm__san_thread_stack(&s->stack_bottom, &s->stack_size);
    s->tsan_fiber = swarm__san_fiber_current();
    swarm__proc_t *p;
    while ((p = find_runnable(s)))
        run_proc(s, p);
    swarm__fault_thread_leave(s);
    swarm__sched_set_self(NULL);
    swarm__sched_exited(s);
    return NULL;
}

int swarm__sched_start(swarm__sched_t *s)
{
    int r = swarm__thread_start(&s->thread, 256 * 1024, sched_main, s);
    if (r != 0)
        return -r;
    s->thread_started = 1;
    return 0;
}

int swarm__sched_init(swarm__sched_t *s, swarm_t *sw, unsigned index)
{
    memset(s, 0, sizeof *s);
    s->swarm = sw;
    s->index = index;
    s->rng = (sw->cfg.deterministic_seed ? sw->cfg.deterministic_seed : (uint64_t)swarm__clock_ns()) ^
             (0x9E3779B97F4A7C15ull * (index + 1));
    if (!s->rng)
        s->rng = 1;
    swarm__wheel_init(&s->wheel, swarm__now_ms(sw));
    atomic_store_explicit(&s->timer_due, INT64_MAX, memory_order_relaxed);
    int r = swarm__plist_init(&s->inbox, sw->cfg.max_procs);
    if (r == 0 && (r = swarm__plist_init(&s->pinned, sw->cfg.max_procs)) != 0)
        swarm__plist_destroy(&s->inbox); /* a failed init leaves nothing behind */
    return r;
}

void swarm__sched_destroy(swarm__sched_t *s)
{
    swarm__msg_cache_flush(s);
    for (size_t i = 0; i < s->timer_nblocks; i++)
        swarm__free(s->timer_blocks[i]);
    swarm__free(s->timer_blocks);
    s->timer_blocks = NULL;
    s->timer_nblocks = 0;
    s->timer_free = NULL;
    swarm__plist_destroy(&s->inbox);
    swarm__plist_destroy(&s->pinned);
}

/* ------------------------------------------------------------------ */
/* Deterministic mode: every scheduler's work on the calling thread, one
 * slice at a time, the next scheduler drawn from the seed; virtual time
 * jumps to the next timer when nothing can run. */

/* Deterministic mode: every wheel is touched by this one thread only (no
 * watchdog, so no scheduler is ever stuck and nobody steals timers). */
static int det_has_work(swarm__sched_t *s)
{
    return swarm__runq_len(&s->runq) || atomic_load(&s->runnext) || swarm__plist_len(&s->inbox) ||
           swarm__plist_len(&s->pinned) ||
           (s->wheel.count && swarm__wheel_next(&s->wheel) <= swarm__now_ms(s->swarm));
}

int swarm__sched_run_deterministic(swarm_t *sw, int64_t timeout_ms)
{
    int64_t deadline = swarm__deadline_ms(swarm__clock_ns() / 1000000, timeout_ms);
    swarm__sched_t *saved = swarm__sched_self();
    unsigned cand[SWARM_LIMIT_SCHEDULERS];
    int rc = 0;
    const void *bottom = NULL;
    size_t size = 0;
    swarm__san_thread_stack(&bottom, &size);
    for (unsigned i = 0; i < sw->nsched; i++) {
        sw->scheds[i].stack_bottom = bottom;
        sw->scheds[i].stack_size = size;
        sw->scheds[i].tsan_fiber = swarm__san_fiber_current();
    }
    while (atomic_load(&sw->live) > 0) {
        if (deadline != SWARM__NEVER && swarm__clock_ns() / 1000000 > deadline) {
            rc = SWARM_ETIMEDOUT;
            break;
        }
        /* Who may run next: a scheduler with work of its own, or, when
         * there is work to take (the injector, or a ring another could
         * steal from), any scheduler, as an idle one would come looking. */
        unsigned n = 0;
        int shareable = swarm__plist_len(&sw->injector) > 0;
        for (unsigned i = 0; i < sw->nsched; i++) {
            if (det_has_work(&sw->scheds[i]))
                cand[n++] = i;
            shareable |= swarm__runq_len(&sw->scheds[i].runq) > 1;
        }
        if (shareable) {
            n = 0;
            for (unsigned i = 0; i < sw->nsched; i++)
                cand[n++] = i;
        }
        if (!n) {
            int64_t next = INT64_MAX;
            for (unsigned i = 0; i < sw->nsched; i++) {
                int64_t t = swarm__wheel_next(&sw->scheds[i].wheel);
                if (t < next)
                    next = t;
            }
            if (next == INT64_MAX) {
                /* Every live process waits with no deadline: in real mode
                 * this swarm would sleep until an outside thread sends. */
                if (!sw->deadlock_watch) {
                    rc = SWARM_ETIMEDOUT;
                    break;
                }
                if (!swarm__deadlock_check_det(sw)) {
                    sched_yield(); /* a send or spawn from outside is under way */
                } else if (sw->deadlock_mode == SWARM_DEADLOCK_RETURN) {
                    rc = SWARM_EDEADLK;
                    break;
                } else {
                    /* REPORT: reported; an outside thread may still send. */
                    struct timespec ts = {0, 1000000};
                    nanosleep(&ts, NULL);
                }
                continue;
            }
            atomic_store(&sw->vclock_ms, next);
            continue;
        }
        swarm__sched_t *s = &sw->scheds[cand[next_rand(&sw->det_rng) % n]];
        swarm__sched_set_self(s);
        swarm__proc_t *p = find_local(s);
        if (!p && sw->nsched > 1) {
            /* Nothing local: steal from someone, as an idle scheduler would. */
            swarm__sched_t *v = &sw->scheds[next_rand(&sw->det_rng) % sw->nsched];
            if (v != s)
                p = steal_from(s, v);
        }
        if (p) {
            if (sw->deadlock_watch) /* a new spell: a later deadlock is reported again */
                atomic_fetch_add_explicit(&sw->idle_epoch, 1, memory_order_relaxed);
            run_proc(s, p);
        }
        swarm__sched_set_self(saved);
    }
    swarm__sched_set_self(saved);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Spawn and exit. */

void swarm_spawn_opts_init(swarm_spawn_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->scheduler = SWARM_SCHED_ANY;
}

/* One process fewer (or a reservation undone): wake swarm_wait at zero. */
static void live_drop(swarm_t *sw)
{
    if (atomic_fetch_sub(&sw->live, 1) == 1) {
        atomic_fetch_add(&sw->live_word, 1);
        swarm__futex_wake(&sw->live_word, INT32_MAX);
    }
}

static int spawn_common(swarm_t *sw, swarm__sched_t *s, swarm_pid_t *out, swarm_fn fn, void *arg,
                        const swarm_spawn_opts_t *opts)
{
    if (!fn)
        return SWARM_EINVAL;
    int hint = opts ? opts->scheduler : SWARM_SCHED_ANY;
    size_t size = opts && opts->stack_size ? opts->stack_size : sw->stack_size;
    if (hint < SWARM_SCHED_ANY || (hint >= 0 && (unsigned)hint >= sw->nsched) ||
        size > SWARM_MAX_STACK_SIZE)
        return SWARM_EINVAL;
    if (atomic_load_explicit(&sw->shutdown, memory_order_relaxed))
        return SWARM_ESHUTDOWN;

    /* Reserve a table slot by counting the process live first: the table
     * is full exactly when max_procs processes are live (or being spawned),
     * and a reservation always finds its slot (ptable/ptable.h). */
    uint64_t live = atomic_fetch_add(&sw->live, 1) + 1;
    if (live > sw->ptable.max) {
        live_drop(sw);
        return SWARM_EAGAIN;
    }
    unsigned cache = s ? s->index : SWARM__PTABLE_NO_CACHE;
    swarm__proc_t *p = swarm__ptable_alloc(&sw->ptable, cache);
    int r = swarm__stack_alloc(sw->stacks, s ? s->index : SWARM__STACK_NO_CACHE, size, &p->stack);
    if (r != 0) {
        swarm__ptable_free(&sw->ptable, cache, p);
        live_drop(sw);
        return r;
    }
    p->swarm = sw;
    p->swarm_id = (uint16_t)sw->id;
    p->fn = fn;
    p->arg = arg;
    p->flags = 0;
    p->exit_reason = SWARM_EXIT_NORMAL;
    p->timer = NULL;
    p->save_head = p->save_tail = p->held = NULL;
    p->save_len = 0;
    p->asan_fake_stack = NULL;
    /* (The stack arena unpoisons a reused slot for ASan when it hands it
     * out.) One TSan fiber per table slot, reused by the slot's next
     * owners (its spawn happens after the previous owner's exit, so TSan
     * loses nothing): TSan counts fibers against its thread limit (8128). */
    if (SWARM_TSAN && !p->tsan_fiber)
        p->tsan_fiber = swarm__san_fiber_create();
    p->sp = swarm__ctx_make(p->stack.top, proc_entry, p);

    uint32_t gen = swarm__pstate_gen(atomic_load_explicit(&p->state, memory_order_relaxed));
    uint64_t peak = atomic_load_explicit(&sw->peak, memory_order_relaxed);
    while (live > peak && !atomic_compare_exchange_weak(&sw->peak, &peak, live))
        ;
    if (out)
        *out = swarm__pid_make(sw->id, gen, p->index);
    if (s)
        SWARM__STAT_INC(s, spawns);
    else
        atomic_fetch_add_explicit(&sw->foreign_spawns, 1, memory_order_relaxed);
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNABLE), memory_order_release);
    swarm__sched_submit(sw, s, p, hint);
    return 0;
}

int swarm_spawn(swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    return swarm_spawn_in(s->swarm, out, fn, arg, opts);
}

int swarm_spawn_in(swarm_t *sw, swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts)
{
    if (!sw)
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    if (s && s->swarm == sw && s->current) {
        int r = spawn_common(sw, s, out, fn, arg, opts);
        if (r == 0)
            swarm__sched_spend(s, 10);
        return r;
    }
    swarm__outside_begin(sw);
    int r = spawn_common(sw, NULL, out, fn, arg, opts);
    swarm__outside_end(sw);
    return r;
}

SWARM_NORETURN void swarm_exit(int reason)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current) {
        fprintf(stderr, "swarmrt: swarm_exit() called outside a process\n");
        abort();
    }
    swarm__proc_t *p = s->current;
    p->exit_reason = reason;
    swarm__sched_switch_out(s, p, SWARM__ACT_EXIT);
    abort(); /* an exited process is never resumed */
}

/* "name+0x1a (object)" for a pc; a caller's frame (a return address) is
 * looked up one byte back, inside its call. Normal context (dladdr). */
static void format_pc(char *buf, size_t len, uintptr_t pc, int is_return)
{
    Dl_info di;
    uintptr_t look = is_return ? pc - 1 : pc;
    if (!dladdr((void *)look, &di) || !di.dli_fname) {
        snprintf(buf, len, "?");
        return;
    }
    const char *obj = strrchr(di.dli_fname, '/');
    obj = obj ? obj + 1 : di.dli_fname;
    if (di.dli_sname && di.dli_saddr)
        snprintf(buf, len, "%s+%#lx (%s)", di.dli_sname, (unsigned long)(pc - (uintptr_t)di.dli_saddr), obj);
    else
        snprintf(buf, len, "%s+%#lx", *obj ? obj : "?", (unsigned long)(pc - (uintptr_t)di.dli_fbase));
}

/* The crash report on stderr: one line, then the process's frames. */
static void crash_report(swarm_t *sw, swarm_pid_t pid, int reason, const swarm__crash_t *crash,
                         const swarm_exit_info_t *info)
{
    char buf[SWARM_PID_STRLEN];
    swarm_pid_format(pid, buf, sizeof buf);
    if (!crash || !crash->signo) {
        fprintf(stderr, "swarmrt[%s]: process %s ended: %s (stack canary overwritten)\n", sw->name, buf,
                swarm_exit_reason_str(reason));
        return;
    }
    char where[256];
    format_pc(where, sizeof where, crash->pc, 0);
    /* One write per line group: concurrent reports do not interleave much. */
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "swarmrt[%s]: process %s ended: %s (signal %d, %s, address %#lx, pc %#lx in %s)\n",
                     sw->name, buf, swarm_exit_reason_str(reason), crash->signo, strsignal(crash->signo),
                     (unsigned long)crash->addr, (unsigned long)crash->pc, where);
    for (unsigned i = 1; i < info->nframes && n > 0 && (size_t)n < sizeof text; i++) {
        format_pc(where, sizeof where, info->frames[i], 1);
        n += snprintf(text + n, sizeof text - (size_t)n, "    #%u %#lx %s\n", i,
                      (unsigned long)info->frames[i], where);
    }
    fputs(text, stderr);
}

void swarm__proc_cleanup(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int reason,
                         const swarm__crash_t *crash)
{
    uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
    uint32_t gen = swarm__pstate_gen(w);
    swarm_pid_t pid = swarm__pid_make(sw->id, gen, p->index);
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_EXITING), memory_order_release);

    /* Invariant 6: everything the process got through the runtime goes. */
    timer_drop(s, p);
    swarm__msg_release_all(sw, s, p);
    if (reason == SWARM_EXIT_STACK_OVERFLOW)
        swarm__stack_free_deep(sw->stacks, &p->stack); /* every page dirty */
    else
        swarm__stack_free(sw->stacks, s ? s->index : SWARM__STACK_NO_CACHE, &p->stack);
    p->fn = NULL;
    p->arg = NULL;

    /* The slot is free for a new generation: the old pid is dead from here. */
    atomic_store_explicit(&p->state, swarm__pstate_make(gen + 1, SWARM__PS_FREE), memory_order_release);
    swarm__ptable_free(&sw->ptable, s ? s->index : SWARM__PTABLE_NO_CACHE, p);

    if (s) {
        SWARM__STAT_INC(s, exits);
        if (reason == SWARM_EXIT_CRASH || reason == SWARM_EXIT_STACK_OVERFLOW)
            SWARM__STAT_INC(s, crashes);
    }
    swarm_exit_info_t info = {.pid = pid, .reason = reason};
    if (crash) {
        info.signo = crash->signo;
        info.fault_addr = crash->addr;
        info.fault_pc = crash->pc;
        if (crash->signo) {
            info.nframes = crash->nframes <= SWARM_EXIT_FRAMES ? crash->nframes : SWARM_EXIT_FRAMES;
            memcpy(info.frames, crash->frames, info.nframes * sizeof info.frames[0]);
        }
    }
    if ((reason == SWARM_EXIT_CRASH || reason == SWARM_EXIT_STACK_OVERFLOW) && !sw->cfg.quiet)
        crash_report(sw, pid, reason, crash, &info);
    if (sw->cfg.on_exit)
        sw->cfg.on_exit(sw, &info, sw->cfg.on_exit_ud);

    live_drop(sw);
}

/* ------------------------------------------------------------------ */
/* Small public calls about the running process. */

swarm_pid_t swarm_self(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? swarm__proc_pid(s->current) : SWARM_PID_NONE;
}

int swarm_yield(void)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    SWARM__STAT_INC(s, yields);
    swarm__sched_switch_out(s, s->current, SWARM__ACT_YIELD);
    return 0;
}

void swarm_check(void)
{
    swarm__sched_t *s = swarm__sched_self();
    if (s && s->current)
        swarm__sched_spend(s, 1);
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
    swarm_t *sw = swarm__pid_swarm_get(pid, s); /* as swarm_send */
    if (!sw)
        return 0;
    int alive = 0;
    swarm__proc_t *p = swarm__ptable_slot(&sw->ptable, pid);
    if (p && swarm__pid_index(pid) < swarm__ptable_used(&sw->ptable)) {
        uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
        uint32_t st = swarm__pstate_st(w) & SWARM__PS_MASK;
        alive = swarm__pstate_gen(w) == swarm__pid_gen(pid) && st != SWARM__PS_FREE && st != SWARM__PS_EXITING;
    }
    swarm__pid_swarm_put(sw, s);
    return alive;
}

char *swarm_pid_format(swarm_pid_t pid, char *buf, size_t len)
{
    if (len)
        snprintf(buf, len, "<%u.%u.%u>", swarm__pid_swarm(pid), swarm__pid_index(pid), swarm__pid_gen(pid));
    return buf;
}
