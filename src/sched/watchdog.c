/*
 * sched/watchdog.c - notice a process that holds a scheduler too long.
 *
 * No signal preemption of C code (pitfall 18): a process that loops without
 * a yield point keeps its scheduler. One watchdog thread per swarm samples
 * each scheduler's slice counter every watchdog_ms / 2; a counter that has
 * not moved while the scheduler thread consumed watchdog_ms of CPU time
 * means one process has held it that long. CPU time, not wall time: on a
 * loaded machine the kernel may keep a scheduler thread off the CPU for
 * longer than that, and that is no process's fault. The watchdog reports the pid once per slice,
 * marks the scheduler stuck and wakes an idle scheduler: while it is stuck,
 * other schedulers take every unpinned queue of it (ring, LIFO slot, inbox,
 * due timers; sched.c steal_stuck). Pinned processes wait for it.
 *
 * When every scheduler sleeps the watchdog sleeps too, until one wakes
 * (wakep/idle_park kick it): an idle swarm costs no CPU.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "runtime/swarm.h"
#include "sched/sched.h"
#include "swarmrt.h"

typedef struct wd_view {
    uint64_t seq;
    int64_t since_cpu_ns;
    int reported;
} wd_view_t;

/* CPU time consumed by a scheduler thread, or -1 if unknown. */
static int64_t thread_cpu_ns(swarm__sched_t *s)
{
    struct timespec ts;
    if (!atomic_load(&s->cpu_clock_ok) || clock_gettime(s->cpu_clock, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void swarm__watchdog_kick(swarm_t *sw)
{
    atomic_fetch_add_explicit(&sw->watchdog_word, 1, memory_order_release);
    swarm__futex_wake(&sw->watchdog_word, 1);
}

static void *watchdog_main(void *arg)
{
    swarm_t *sw = arg;
    /* Like the schedulers, leave the application's signals to its own threads. */
    sigset_t set;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int64_t limit_ns = swarm__ms_to_ns(sw->cfg.watchdog_ms);
    int64_t period_ns = limit_ns / 2 > 1000000 ? limit_ns / 2 : 1000000;
    wd_view_t *view = swarm__calloc(sw->nsched, sizeof *view);
    if (!view)
        return NULL;
    while (!atomic_load(&sw->shutdown)) {
        uint32_t word = atomic_load_explicit(&sw->watchdog_word, memory_order_acquire);
        if (atomic_load(&sw->watchdog_sleeping) && atomic_load(&sw->npidle) == sw->nsched) {
            swarm__futex_wait(&sw->watchdog_word, word, -1);
            continue;
        }
        swarm__futex_wait(&sw->watchdog_word, word, period_ns);
        for (unsigned i = 0; i < sw->nsched; i++) {
            swarm__sched_t *s = &sw->scheds[i];
            int64_t cpu = thread_cpu_ns(s);
            uint64_t seq = atomic_load_explicit(&s->slice_seq, memory_order_relaxed);
            swarm_pid_t pid = atomic_load_explicit(&s->running_pid, memory_order_relaxed);
            if (seq != view[i].seq || !pid || cpu < 0) {
                view[i].seq = seq;
                view[i].since_cpu_ns = cpu;
                view[i].reported = 0;
                atomic_store_explicit(&s->stuck, 0, memory_order_relaxed);
                continue;
            }
            int64_t held = cpu - view[i].since_cpu_ns;
            if (view[i].reported || held < limit_ns)
                continue;
            view[i].reported = 1;
            SWARM__STAT_INC(s, watchdog_reports);
            /* seq_cst, then wakep's seq_cst loads of the idle counts:
             * pairs with an idler's npidle++ then its load of stuck in
             * work_visible (sched.c), so either it sees the flag and stays
             * up, or this wakes it. */
            atomic_store(&s->stuck, 1);
            if (!sw->cfg.quiet) {
                char buf[SWARM_PID_STRLEN];
                fprintf(stderr,
                        "swarmrt[%s]: watchdog: process %s has held scheduler %u for %lld ms "
                        "without a yield point (add SWARM_CHECK() to long loops)\n",
                        sw->name, swarm_pid_format(pid, buf, sizeof buf), i, (long long)(held / 1000000));
            }
            /* Let an idle scheduler come and take this one's queue. */
            swarm__sched_wake_idle(sw);
        }
    }
    swarm__free(view);
    return NULL;
}

int swarm__watchdog_start(swarm_t *sw)
{
    if (sw->cfg.watchdog_ms == UINT32_MAX || sw->deterministic)
        return 0;
    int r = swarm__thread_start(&sw->watchdog, 256 * 1024, watchdog_main, sw);
    if (r != 0)
        return -r;
    sw->watchdog_started = 1;
    return 0;
}

void swarm__watchdog_stop(swarm_t *sw)
{
    if (!sw->watchdog_started)
        return;
    swarm__watchdog_kick(sw);
    swarm__thread_join(&sw->watchdog);
    sw->watchdog_started = 0;
}
