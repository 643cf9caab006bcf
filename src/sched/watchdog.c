/*
 * sched/watchdog.c - notice a process that holds a scheduler too long.
 *
 * No signal preemption of C code (pitfall 18): a process that loops without
 * a yield point, or that blocks in a system call (usleep, a blocking read),
 * keeps its scheduler thread. One watchdog thread per swarm samples each
 * scheduler's slice counter every watchdog_ms / 2. While the counter does not
 * move, the time the slice has held its scheduler is counted as
 *
 *   held = CPU time of the thread (its CPU-time clock)
 *        + time asleep in the kernel: over each sampling interval at whose
 *          end the thread is asleep (state S or D in /proc/self/task/<tid>/stat),
 *          the interval's wall time minus its CPU time minus the time the
 *          thread waited on a run queue (run_delay, /proc/self/task/<tid>/schedstat).
 *
 * Time the thread was runnable but kept off the CPU by the kernel (a loaded
 * machine) is no process's fault and is never counted. Once held reaches
 * watchdog_ms the watchdog reports the pid once per slice, saying whether
 * the process was running (CPU time dominates: a loop without a yield point)
 * or blocked in the kernel (a blocking system call), marks the scheduler
 * stuck and wakes an idle scheduler: while it is stuck, other schedulers take
 * every unpinned queue of it (ring, LIFO slot, inbox, due timers; queue.c
 * steal_stuck). Pinned processes wait for it. The sleep part is sampled: a
 * process that blocks in many short calls is counted for the intervals that
 * end while it sleeps. Where /proc cannot be read, only CPU time counts (a
 * blocking call is then not seen). All /proc reads happen on this thread.
 *
 * When every scheduler sleeps the watchdog sleeps too, until one wakes
 * (wakep/idle_park kick it): an idle swarm costs no CPU.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "sched/sched.h"
#include "swarmrt.h"

#define FD_UNOPENED (-2)

typedef struct wd_view {
    uint64_t seq;
    int reported;
    int schedstat_fd, stat_fd; /* FD_UNOPENED, or -1 when unavailable */
    int64_t since_cpu_ns;      /* CPU time when this slice was first seen */
    int64_t blocked_ns;        /* time asleep in the kernel since then */
    int64_t last_wall_ns, last_cpu_ns, last_wait_ns; /* the previous sample */
} wd_view_t;

/* CPU time consumed by a scheduler thread, or -1 if unknown. */
static int64_t thread_cpu_ns(swarm__sched_t *s)
{
    struct timespec ts;
    if (!atomic_load(&s->cpu_clock_ok) || clock_gettime(s->cpu_clock, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read the whole of a small /proc file of the scheduler's thread (opened
 * on first use) into buf; returns the length, or -1. */
static ssize_t task_read(swarm__sched_t *s, int *fd, const char *file, char *buf, size_t len)
{
    if (*fd == FD_UNOPENED) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/%s", s->tid, file);
        *fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (*fd < 0)
        return -1;
    ssize_t n = pread(*fd, buf, len - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* ns the thread has waited on a run queue (schedstat's second field), or -1. */
static int64_t thread_wait_ns(swarm__sched_t *s, wd_view_t *v)
{
    char buf[96];
    unsigned long long run, wait;
    if (task_read(s, &v->schedstat_fd, "schedstat", buf, sizeof buf) < 0 ||
        sscanf(buf, "%llu %llu", &run, &wait) != 2)
        return -1;
    return (int64_t)wait;
}

/* Is the thread asleep in the kernel (state S or D)? */
static int thread_asleep(swarm__sched_t *s, wd_view_t *v)
{
    char buf[512];
    if (task_read(s, &v->stat_fd, "stat", buf, sizeof buf) < 0)
        return 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold anything */
    if (!p || p[1] != ' ')
        return 0;
    return p[2] == 'S' || p[2] == 'D';
}

void swarm__watchdog_kick(swarm_t *sw)
{
    /* release: pairs with the watchdog's acquire load of the word before
     * it sleeps on it (a kick after that load makes the futex wait return). */
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
    for (unsigned i = 0; i < sw->nsched; i++)
        view[i].schedstat_fd = view[i].stat_fd = FD_UNOPENED;
    while (!atomic_load(&sw->shutdown)) {
        /* acquire: pairs with swarm__watchdog_kick's release increment. */
        uint32_t word = atomic_load_explicit(&sw->watchdog_word, memory_order_acquire);
        if (atomic_load(&sw->watchdog_sleeping) && atomic_load(&sw->npidle) == sw->nsched) {
            swarm__futex_wait(&sw->watchdog_word, word, -1);
            continue;
        }
        swarm__futex_wait(&sw->watchdog_word, word, period_ns);
        for (unsigned i = 0; i < sw->nsched; i++) {
            swarm__sched_t *s = &sw->scheds[i];
            wd_view_t *v = &view[i];
            /* relaxed: samples of the scheduler's relaxed stores (run.c);
             * a stale pair delays a report by one period at most. */
            uint64_t seq = atomic_load_explicit(&s->slice_seq, memory_order_relaxed);
            swarm_pid_t pid = atomic_load_explicit(&s->running_pid, memory_order_relaxed);
            int64_t cpu = pid ? thread_cpu_ns(s) : -1;
            int64_t wall = swarm__clock_ns();
            int64_t wait = cpu >= 0 ? thread_wait_ns(s, v) : -1;
            if (seq != v->seq || !pid || cpu < 0) {
                v->seq = seq;
                v->since_cpu_ns = cpu;
                v->blocked_ns = 0;
                v->last_wall_ns = wall;
                v->last_cpu_ns = cpu;
                v->last_wait_ns = wait;
                v->reported = 0;
                /* relaxed clear: the slice moved, so the scheduler is
                 * taking its own queues again; a thief that still sees the
                 * flag only takes work it may take anyway. */
                atomic_store_explicit(&s->stuck, 0, memory_order_relaxed);
                continue;
            }
            /* The same slice since the last sample. Asleep now: the part of
             * the interval spent neither on the CPU nor queued for it was
             * spent asleep in the kernel. */
            if (thread_asleep(s, v)) {
                int64_t off = (wall - v->last_wall_ns) - (cpu - v->last_cpu_ns);
                if (wait >= 0 && v->last_wait_ns >= 0)
                    off -= wait - v->last_wait_ns;
                if (off > 0)
                    v->blocked_ns += off;
            }
            v->last_wall_ns = wall;
            v->last_cpu_ns = cpu;
            v->last_wait_ns = wait;
            int64_t on_cpu = cpu - v->since_cpu_ns;
            int64_t held = on_cpu + v->blocked_ns;
            if (v->reported || held < limit_ns)
                continue;
            v->reported = 1;
            SWARM__STAT_INC(s, watchdog_reports);
            /* seq_cst, then wakep's seq_cst loads of the idle counts:
             * pairs with an idler's npidle++ then its load of stuck in
             * work_visible (idle.c), so either it sees the flag and stays
             * up, or this wakes it. */
            atomic_store(&s->stuck, 1);
            if (!sw->cfg.quiet) {
                char buf[SWARM_PID_STRLEN];
                swarm__pid_format(pid, buf, sizeof buf);
                if (v->blocked_ns > on_cpu)
                    fprintf(stderr,
                            "swarmrt[%s]: watchdog: process %s has held scheduler %u for %lld ms, "
                            "blocked in the kernel (%lld ms asleep in a system call such as sleep or "
                            "read, %lld ms on the CPU): other schedulers take its queues meanwhile\n",
                            sw->name, buf, i, (long long)(held / 1000000), (long long)(v->blocked_ns / 1000000),
                            (long long)(on_cpu / 1000000));
                else
                    fprintf(stderr,
                            "swarmrt[%s]: watchdog: process %s has held scheduler %u for %lld ms, "
                            "running without a yield point (add SWARM_CHECK() to long loops)\n",
                            sw->name, buf, i, (long long)(held / 1000000));
            }
            /* Let an idle scheduler come and take this one's queues. */
            swarm__sched_wake_idle(sw);
        }
    }
    for (unsigned i = 0; i < sw->nsched; i++) {
        if (view[i].schedstat_fd >= 0)
            close(view[i].schedstat_fd);
        if (view[i].stat_fd >= 0)
            close(view[i].stat_fd);
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
