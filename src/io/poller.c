/*
 * io/poller.c - the netpoller: where an idle scheduler sleeps
 * (sched/poller.h), and how busy schedulers look at the fds now and then.
 *
 * One epoll instance per swarm; at most one scheduler polls it at a time,
 * the one that holds io_poll_lock (Go's netpoll has the same shape: one M
 * blocked in epoll_wait, the others asleep on their futex). An idle
 * scheduler that takes the lock blocks in epoll_wait until readiness, its
 * deadline, or a wake-up through the eventfd; the others sleep on their
 * park_word futex as before. While no fd is registered nobody touches
 * epoll: a swarm without I/O sleeps exactly as before.
 *
 * Waking the sleeper (swarm__poller_wake): the waker has moved park_word
 * away from PARK_SLEEPING (seq_cst exchange), then loads io_sleeper; the
 * sleeper stores io_sleeper, then loads park_word (both seq_cst). So
 * either the sleeper sees the new word and does not block, or the waker
 * sees the sleeper and writes the eventfd, which stays readable (level-
 * triggered) until the sleeper drains it: a write before the epoll_wait
 * still ends it. A stale write only costs the next poll a spurious return.
 */
#include "io/io.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "base/upcalls.h"
#include "sched/poller.h"
#include "sched/sched.h"
#include "swarmrt/error.h"


#define EVENTS 128
/* A busy scheduler polls when nobody has for this long. */
#define BUSY_POLL_NS 1000000

int swarm__io_init(swarm_t *sw)
{
    sw->io_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sw->io_epfd < 0)
        return -errno;
    sw->io_evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int r = sw->io_evfd < 0 ? -errno : 0;
    if (r == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
        if (epoll_ctl(sw->io_epfd, EPOLL_CTL_ADD, sw->io_evfd, &ev) < 0)
            r = -errno;
    }
    if (r == 0)
        r = swarm__io_fdtab_init(sw);
    if (r != 0) {
        if (sw->io_evfd >= 0)
            close(sw->io_evfd);
        close(sw->io_epfd);
        sw->io_epfd = sw->io_evfd = -1;
    }
    return r;
}

void swarm__io_destroy(swarm_t *sw)
{
    if (sw->io_epfd < 0)
        return;
    swarm__io_blocking_destroy(sw);
    swarm__io_fdtab_destroy(sw);
    close(sw->io_evfd);
    close(sw->io_epfd);
    sw->io_epfd = sw->io_evfd = -1;
}

/* Poll once (the caller holds io_poll_lock). Returns the processes woken. */
static unsigned poll_once(swarm_t *sw, int timeout_ms)
{
    struct epoll_event evs[EVENTS];
    int n = SWARM__SYS(epoll_wait)(sw->io_epfd, evs, EVENTS, timeout_ms);
    atomic_store_explicit(&sw->io_polled_ns, swarm__clock_ns(), memory_order_relaxed);
    return n > 0 ? swarm__io_dispatch(sw, evs, n) : 0;
}

static int poll_trylock(swarm_t *sw)
{
    return !atomic_load_explicit(&sw->io_poll_lock, memory_order_relaxed) &&
           !atomic_exchange_explicit(&sw->io_poll_lock, 1, memory_order_acquire);
}

static void poll_unlock(swarm_t *sw) { atomic_store_explicit(&sw->io_poll_lock, 0, memory_order_release); }

unsigned swarm__io_poll_busy(swarm__sched_t *s, int force)
{
    swarm_t *sw = s->swarm;
    if (!atomic_load_explicit(&sw->io_nfds, memory_order_relaxed))
        return 0;
    if (!force) {
        int64_t last = atomic_load_explicit(&sw->io_polled_ns, memory_order_relaxed);
        if (swarm__clock_ns() - last < BUSY_POLL_NS)
            return 0;
    }
    if (!poll_trylock(sw))
        return 0;
    unsigned woke = poll_once(sw, 0);
    poll_unlock(sw);
    return woke;
}

int swarm__io_poll_det(swarm_t *sw, int timeout_ms)
{
    if (!atomic_load_explicit(&sw->io_nfds, memory_order_relaxed))
        return 0;
    return (int)poll_once(sw, timeout_ms);
}

int swarm__poller_sleep(swarm__sched_t *s, uint32_t sleeping_value, int64_t timeout_ns)
{
    swarm_t *sw = s->swarm;
    if (atomic_load(&sw->io_nfds) && poll_trylock(sw)) {
        atomic_store(&sw->io_sleeper, s);
        unsigned woke = 0;
        int timed_out = 0;
        if (atomic_load(&s->park_word) == sleeping_value) {
            int ms = -1;
            if (timeout_ns >= 0) {
                int64_t m = (timeout_ns + 999999) / 1000000;
                ms = m > INT32_MAX ? INT32_MAX : (int)m;
            }
            struct epoll_event evs[EVENTS];
            int n = SWARM__SYS(epoll_wait)(sw->io_epfd, evs, EVENTS, ms);
            atomic_store(&sw->io_sleeper, NULL);
            atomic_store_explicit(&sw->io_polled_ns, swarm__clock_ns(), memory_order_relaxed);
            if (n > 0)
                woke = swarm__io_dispatch(sw, evs, n);
            timed_out = n == 0 && ms >= 0;
        } else {
            atomic_store(&sw->io_sleeper, NULL);
        }
        poll_unlock(sw);
        /* Processes made runnable: leave the idle list and run them. */
        return timed_out || woke;
    }
    return swarm__futex_wait(&s->park_word, sleeping_value, timeout_ns) == -ETIMEDOUT;
}

void swarm__poller_wake(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    if (atomic_load(&sw->io_sleeper) == s) {
        uint64_t one = 1;
        ssize_t r = write(sw->io_evfd, &one, sizeof one);
        (void)r; /* EAGAIN: the counter is full, so it is readable anyway */
        return;
    }
    swarm__futex_wake(&s->park_word, 1);
}
