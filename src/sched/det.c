/*
 * sched/det.c - deterministic mode and the swarm's clock.
 *
 * Every scheduler's work runs on the calling thread, one slice at a time,
 * the next scheduler drawn from the seed; virtual time jumps to the next
 * timer when nothing can run. So a seed replays an interleaving exactly.
 */
#include "sched/internal.h"

#include <sched.h>
#include <time.h>

#include "base/deadline.h"
#include "base/sanitizer.h"
#include "base/sys.h"
#include "base/upcalls.h"
#include "sched/hibernate.h"
#include "swarmrt/error.h"

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
    unsigned polls = 0;
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
        int shareable = swarm__plist_len(&sw->injector) > 0 || swarm__plist_len(&sw->high) > 0;
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
        if (!n || ++polls % 61 == 0) {
            /* The fds: real time passes for them even in this mode. With
             * nothing to run, a process waiting on one gets a moment of
             * real time before the virtual clock jumps. */
            swarm__sched_set_self(&sw->scheds[0]);
            int woke = swarm__io_poll_det(sw, !n && atomic_load(&sw->io_waiters) ? 1 : 0);
            swarm__sched_set_self(saved);
            if (woke && !n)
                continue;
        }
        if (!n) {
            /* Out of work: the schedulers drop the stacks of the processes
             * that hibernated on them, as idle ones do (a process pushed
             * to meanwhile is woken: look again). */
            int flushed = 0;
            for (unsigned i = 0; i < sw->nsched; i++) {
                if (sw->scheds[i].hib_ndrops) {
                    swarm__sched_set_self(&sw->scheds[i]);
                    swarm__hib_flush(&sw->scheds[i]);
                    flushed = 1;
                }
            }
            swarm__sched_set_self(saved);
            if (flushed)
                continue;
            int64_t next = INT64_MAX;
            for (unsigned i = 0; i < sw->nsched; i++) {
                int64_t t = swarm__wheel_next(&sw->scheds[i].wheel);
                if (t < next)
                    next = t;
            }
            if (next == INT64_MAX && atomic_load(&sw->io_waiters))
                continue; /* only the outside world can wake anyone: keep polling */
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
        swarm__sched_t *s = &sw->scheds[cand[swarm__sched_rand(&sw->det_rng) % n]];
        swarm__sched_set_self(s);
        swarm__proc_t *p = swarm__sched_find_local(s);
        if (!p && sw->nsched > 1) {
            /* Nothing local: steal from someone, as an idle scheduler would. */
            swarm__sched_t *v = &sw->scheds[swarm__sched_rand(&sw->det_rng) % sw->nsched];
            if (v != s)
                p = swarm__sched_steal_from(s, v);
        }
        if (p) {
            /* A new spell: a later deadlock is reported again. relaxed:
             * deterministic mode runs the swarm on this one thread. */
            if (sw->deadlock_watch)
                atomic_fetch_add_explicit(&sw->idle_epoch, 1, memory_order_relaxed);
            swarm__sched_run_proc(s, p);
        }
        swarm__sched_set_self(saved);
    }
    swarm__sched_set_self(saved);
    return rc;
}

/* The swarm's clock: virtual in deterministic mode (it jumps to the next
 * timer when nothing can run), CLOCK_MONOTONIC otherwise. */
int64_t swarm__now_ms(swarm_t *sw)
{
    if (sw && sw->deterministic)
        return atomic_load_explicit(&sw->vclock_ms, memory_order_relaxed);
    return swarm__clock_ns() / 1000000;
}
