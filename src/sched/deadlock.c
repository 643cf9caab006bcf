/*
 * sched/deadlock.c - "every process waits forever" detection.
 *
 * A swarm is deadlocked when every live process is parked in a receive with
 * no timer, nothing is runnable, no timer is armed on any scheduler and no
 * send or spawn from outside the swarm is under way: nothing inside can
 * wake anything any more (docs/design/runtime.md).
 *
 * The check runs only on the idle path, by a scheduler that is about to
 * sleep with no timer of its own, and only in swarms that watch for it.
 * Its snapshot is made consistent by two counters rather than by stopping
 * anyone:
 *
 *  - idle_epoch counts schedulers leaving the idle list. Every process that
 *    runs needs a scheduler off the list, so an epoch unchanged from before
 *    the scan to after it, with all schedulers on the list, means no process
 *    ran meanwhile: the states the scan read could only have been changed
 *    from outside the swarm.
 *  - outside_ops counts outside sends from just before their mailbox push
 *    to the end of their wake-up, and outside spawns from before they count
 *    the process live to its enqueue. A push the scan missed (it came after
 *    the scan read that mailbox) was preceded by its increment; if that send
 *    is still under way at the final read, the counter is nonzero; if it has
 *    finished, its wake-up put the process on the injector and popped an
 *    idle scheduler (or the injector still holds it). Either way the final
 *    re-check sees it. A send whose increment comes after the final read
 *    began after the deadlock was established. A check that gave up
 *    because an outside operation was under way is made again: the last
 *    operation to end while every scheduler sleeps wakes one of them, which
 *    finds nothing to do, goes back to sleep and checks.
 *
 * Cost: nothing on the hot path. Outside sends and spawns pay one atomic
 * add and sub each, only in watching swarms; a park stores the wait kind
 * (two plain stores); leaving the idle list bumps idle_epoch.
 */
#include <inttypes.h>
#include <stdio.h>

#include "base/sys.h"
#include "ptable/ptable.h"
#include "sched/sched.h"
#include "swarmrt.h"

#define REPORT_PIDS 16

typedef struct parked_view {
    uint64_t count;
    unsigned n;
    swarm_pid_t pid[REPORT_PIDS];
    uint32_t kind[REPORT_PIDS];
    uint32_t tag[REPORT_PIDS];
} parked_view_t;

/* No process runnable anywhere, no timer on any wheel? Read while every
 * scheduler is idle (or, in deterministic mode, by the only thread). */
static int queues_quiet(swarm_t *sw)
{
    if (swarm__plist_len(&sw->injector) || swarm__plist_len(&sw->high))
        return 0;
    /* A process waiting on an fd or a blocking call can be woken by the
     * outside world. */
    if (atomic_load(&sw->io_waiters))
        return 0;
    for (unsigned i = 0; i < sw->nsched; i++) {
        swarm__sched_t *v = &sw->scheds[i];
        if (swarm__runq_len(&v->runq) || atomic_load(&v->runnext) || swarm__plist_len(&v->inbox) ||
            swarm__plist_len(&v->pinned))
            return 0;
        /* relaxed: written before the scheduler's seq_cst npidle++ that
         * put it on the idle list (idle.c), which this scan observed. */
        if (!sw->deterministic && atomic_load_explicit(&v->idle_timers, memory_order_relaxed))
            return 0;
    }
    return 1;
}

/* Is every live process parked with its mailbox still marked empty (no
 * push since it parked)? Collects the first pids for the report. */
static int all_parked(swarm_t *sw, parked_view_t *pv)
{
    pv->count = 0;
    pv->n = 0;
    uint32_t used = swarm__ptable_used(&sw->ptable);
    for (uint32_t i = 0; i < used; i++) {
        swarm__proc_t *p = &sw->ptable.procs[i];
        uint64_t w = atomic_load(&p->state);
        uint32_t st = swarm__pstate_st(w) & SWARM__PS_MASK;
        if (st == SWARM__PS_FREE)
            continue;
        if (st != SWARM__PS_WAITING ||
            atomic_load(&p->mbox.head) != ((uintptr_t)&p->mbox.stub | SWARM__MBOX_EMPTY))
            return 0;
        /* The mark's CAS (after the process stored its wait kind) is what
         * this load read: the kind is visible. */
        if (pv->n < REPORT_PIDS) {
            pv->pid[pv->n] = swarm__pid_make(sw->id, swarm__pstate_gen(w), p->index);
            pv->kind[pv->n] = p->wait_kind;
            pv->tag[pv->n] = p->wait_tag;
            pv->n++;
        }
        pv->count++;
    }
    return pv->count > 0 && pv->count == atomic_load(&sw->live);
}

static void report(swarm_t *sw, const parked_view_t *pv)
{
    if (sw->cfg.quiet)
        return;
    /* One buffer, one write: reports of several swarms do not interleave. */
    char buf[256 + REPORT_PIDS * 96];
    size_t len = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(buf + len, sizeof buf - len, __VA_ARGS__);                              \
        if (k_ > 0)                                                                                \
            len = len + (size_t)k_ < sizeof buf ? len + (size_t)k_ : sizeof buf - 1;               \
    } while (0)
    PUT("swarmrt[%s]: deadlock: all %" PRIu64 " live process%s wait%s for a message that nothing "
        "in the swarm can send (no process runnable, no timer armed, no outside send under way)%s\n",
        sw->name, pv->count, pv->count == 1 ? "" : "es", pv->count == 1 ? "s" : "",
        sw->deadlock_mode == SWARM_DEADLOCK_RETURN ? "; swarm_wait returns SWARM_EDEADLK" : "");
    for (unsigned i = 0; i < pv->n; i++) {
        char pid[48];
        swarm__pid_format(pv->pid[i], pid, sizeof pid);
        switch (pv->kind[i]) {
        case SWARM_WAIT_RECV: PUT("swarmrt[%s]:   %s waits in swarm_recv (any message)\n", sw->name, pid); break;
        case SWARM_WAIT_RECV_TAG:
            PUT("swarmrt[%s]:   %s waits in swarm_recv_tag (tag %" PRIu32 ")\n", sw->name, pid, pv->tag[i]);
            break;
        case SWARM_WAIT_RECV_MATCH: PUT("swarmrt[%s]:   %s waits in swarm_recv_match (a match function)\n", sw->name, pid); break;
        case SWARM_WAIT_CHAN: PUT("swarmrt[%s]:   %s waits on a channel (send, receive or select)\n", sw->name, pid); break;
        case SWARM_WAIT_SYNC: PUT("swarmrt[%s]:   %s waits on a mutex, condition variable or semaphore\n", sw->name, pid); break;
        case SWARM_WAIT_HIBERNATE: PUT("swarmrt[%s]:   %s hibernates (swarm_hibernate: any message)\n", sw->name, pid); break;
        default: PUT("swarmrt[%s]:   %s waits (kind %" PRIu32 ")\n", sw->name, pid, pv->kind[i]); break;
        }
    }
    if (pv->count > pv->n)
        PUT("swarmrt[%s]:   ... and %" PRIu64 " more\n", sw->name, pv->count - pv->n);
#undef PUT
    fwrite(buf, 1, len, stderr);
    fflush(stderr);
}

/* Record the deadlock of the spell that began at epoch e (once), report it
 * and wake swarm_wait. */
static void found(swarm_t *sw, uint64_t e, const parked_view_t *pv)
{
    uint64_t old = atomic_load(&sw->deadlock_epoch);
    if (old == e + 1 || !atomic_compare_exchange_strong(&sw->deadlock_epoch, &old, e + 1))
        return; /* already reported for this spell */
    report(sw, pv);
    atomic_fetch_add(&sw->live_word, 1);
    swarm__futex_wake(&sw->live_word, INT32_MAX);
}

void swarm__deadlock_check(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    uint64_t e = atomic_load(&sw->idle_epoch);
    if (atomic_load(&sw->deadlock_epoch) == e + 1)
        return; /* this spell's deadlock is known */
    if (atomic_load(&sw->npidle) != sw->nsched || atomic_load(&sw->outside_ops) || !queues_quiet(sw) ||
        atomic_load(&sw->live) == 0)
        return;
    parked_view_t pv;
    if (!all_parked(sw, &pv))
        return;
    /* Nothing ran, nothing came from outside, nothing was queued meanwhile. */
    if (atomic_load(&sw->outside_ops) || atomic_load(&sw->idle_epoch) != e ||
        atomic_load(&sw->npidle) != sw->nsched || swarm__plist_len(&sw->injector) || swarm__plist_len(&sw->high))
        return;
    found(sw, e, &pv);
}

int swarm__deadlock_check_det(swarm_t *sw)
{
    uint64_t e = atomic_load(&sw->idle_epoch);
    if (atomic_load(&sw->deadlock_epoch) == e + 1)
        return 1;
    if (atomic_load(&sw->outside_ops) || !queues_quiet(sw) || atomic_load(&sw->live) == 0)
        return 0;
    parked_view_t pv;
    if (!all_parked(sw, &pv))
        return 0;
    if (atomic_load(&sw->outside_ops) || swarm__plist_len(&sw->injector) || swarm__plist_len(&sw->high))
        return 0;
    found(sw, e, &pv);
    return 1;
}

void swarm__deadlock_recheck(swarm_t *sw)
{
    /* A woken scheduler finds nothing, goes back to sleep and checks. */
    swarm__sched_wake_idle(sw);
}

int swarm__deadlock_active(swarm_t *sw)
{
    return atomic_load(&sw->deadlock_epoch) == atomic_load(&sw->idle_epoch) + 1;
}
