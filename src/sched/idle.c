/*
 * sched/idle.c - idle schedulers: the idle list and the spinning token.
 *
 * A scheduler that found nothing (own queues, injector, stealing) leaves
 * the spinning state, puts itself on the idle list, and only then (after a
 * seq_cst RMW) looks at every queue once more before it sleeps in the
 * poller. A submitter enqueues (seq_cst) and then wakes one idle scheduler
 * if nobody is spinning. The woken scheduler starts out spinning; a spinner
 * that finds work stops spinning and wakes another if it was the last
 * (Go's protocol). models/sched_idle.pml is this file, step for step.
 */
#include "sched/internal.h"

#include "arch/cpu.h"
#include "base/deadline.h"
#include "base/sys.h"
#include "sched/compact.h"
#include "sched/hibernate.h"
#include "sched/poller.h"

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
 * sleeps, PARK_SLEEPING once it sleeps in the poller, PARK_TOKEN once a
 * waker has handed it work. Only a sleeper costs the waker a wake-up
 * syscall. */
enum { PARK_IDLE = 0, PARK_TOKEN = 1, PARK_SLEEPING = 2 };

static void unpark(swarm__sched_t *s)
{
    /* release: the waker's writes (s->spinning) happen before the sleeper's
     * acquire load of park_word. */
    if (atomic_exchange_explicit(&s->park_word, PARK_TOKEN, memory_order_acq_rel) == PARK_SLEEPING)
        swarm__poller_wake(s);
}

/* Wake one idle scheduler to look for work, unless one is already looking. */
void swarm__sched_wakep(swarm_t *sw)
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
void swarm__sched_wake_sched(swarm__sched_t *s)
{
    if (s->swarm->deterministic)
        return;
    if (idle_remove(s->swarm, s))
        unpark(s);
}

void swarm__sched_wake_idle(swarm_t *sw)
{
    swarm__sched_wakep(sw);
}

void swarm__sched_wake_all(swarm_t *sw)
{
    for (unsigned i = 0; i < sw->nsched; i++) {
        swarm__sched_t *s = &sw->scheds[i];
        idle_remove(sw, s);
        unpark(s);
    }
}

void swarm__sched_stop_spinning(swarm__sched_t *s)
{
    s->spinning = 0;
    atomic_fetch_sub(&s->swarm->nspinning, 1);
    /* There may be more work than this scheduler can take. */
    swarm__sched_wakep(s->swarm);
}

/* Anything runnable anywhere this scheduler could take? */
static int work_visible(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    if (swarm__plist_len(&sw->injector) || swarm__plist_len(&sw->high) || swarm__plist_len(&s->inbox) ||
        swarm__plist_len(&s->pinned))
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
    /* acquire: pairs with unpark's exchange (the waker's writes first). */
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
 * awake and costs no syscalls on either side; a scheduler with
 * nothing to do still goes to sleep at once on a human time scale. */
#define IDLE_SPINS 2048

void swarm__sched_idle_park(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    /* Out of work: a moment to drop the stacks of processes that
     * hibernated here and to compact long-parked ones (before this
     * scheduler lists itself idle: a process either wakes goes on its
     * queue, and the check below finds it). */
    if (s->hib_ndrops)
        swarm__hib_flush(s);
    int64_t compact_due = swarm__compact_sweep(s);
    int was_spinning = s->spinning;
    if (was_spinning) {
        s->spinning = 0;
        atomic_fetch_sub(&sw->nspinning, 1);
    }
    /* Only this thread arms timers on its wheel, and not while it is idle
     * (a thief may fire some: that only makes the flag conservative). */
    int has_timers;
    int64_t own_due = swarm__sched_timers_next(s, &has_timers);
    /* relaxed: read by a deadlock check only after it saw this scheduler
     * on the idle list, which the seq_cst npidle++ below publishes. */
    atomic_store_explicit(&s->idle_timers, has_timers, memory_order_relaxed);
    pthread_mutex_lock(&sw->idle_lock);
    if (atomic_load(&sw->shutdown)) {
        pthread_mutex_unlock(&sw->idle_lock);
        return;
    }
    /* relaxed: no waker can touch park_word before it finds us on the idle
     * list, and it does so under idle_lock, after this store. */
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
        /* acquire: pairs with unpark's exchange. */
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
    if (compact_due != INT64_MAX) { /* back for the next sweep */
        int64_t until = swarm__ns_until(swarm__clock_ns(), swarm__ms_to_ns(compact_due));
        if (timeout_ns < 0 || until < timeout_ns)
            timeout_ns = until;
    }
    /* About to sleep: a good moment to give back stack memory freed
     * during the last burst (off the hot path, pitfall 14). */
    swarm__stack_scavenge(sw->stacks);
    swarm__pool_idle(&s->pool, swarm__clock_ns(), atomic_load(&sw->npidle) == sw->nsched);
    uint32_t idle = PARK_IDLE;
    if (atomic_compare_exchange_strong(&s->park_word, &idle, PARK_SLEEPING)) {
        SWARM__STAT_INC(s, parks);
        /* acquire: pairs with unpark's exchange (poller.h: a wake may be
         * spurious, the word decides). */
        while (atomic_load_explicit(&s->park_word, memory_order_acquire) == PARK_SLEEPING) {
            if (swarm__poller_sleep(s, PARK_SLEEPING, timeout_ns))
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
