/*
 * io/fd.c - the fd table, fd waits, ownership and close (io/io.h).
 *
 * Entry lock: a spinlock held for a few stores (waiter, readiness,
 * generation); never across a syscall other than epoll_ctl at
 * registration and close, and never while parking.
 *
 *  Wait (process W on fd, events E):   Poller (event for fd, generation g):
 *   lock                                 lock
 *   E already ready? clear, unlock,      g stale? unlock, ignore
 *     return it                          waiter for E? take it out, unlock,
 *   waiter[E] = (W, token); unlock         post IO notice(token) to it
 *   park in the fd wait (msg/)           else remember E as ready; unlock
 *   lock; still the waiter? take out;
 *   else the notice was posted: if it
 *   did not end the wait, remember E
 *   as ready again; unlock
 *
 * So an edge is never lost: it either reaches the waiter, or sits in the
 * entry for the next wait. A notice that arrives after its wait ended is
 * dropped by msg/ (its token is not the current wait's).
 */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "arch/spin.h"
#include "base/deadline.h"
#include "base/sys.h"
#include "msg/msg.h"
#include "msg/sig.h"
#include "sched/sched.h"
#include "swarmrt/error.h"

#define CHUNK_BITS 10
#define CHUNK (1u << CHUNK_BITS)
#define NCHUNKS (SWARM_IO_MAX_FD / CHUNK)

enum { RD = 0, WR = 1 };

typedef struct waiter {
    swarm_pid_t pid;   /* SWARM_PID_NONE: nobody */
    uint32_t token;
} waiter_t;

/* Ownership of an fd: a node on the owner's resource list (ptable/res.h).
 * Only the owner touches its list, so a close by another process leaves
 * the node there; the entry then no longer points at it, and the owner's
 * exit just frees it. */
typedef struct own {
    swarm__res_t res;
    swarm_t *sw;
    int fd;
} own_t;

typedef struct swarm__fdent {
    _Atomic uint32_t lock;
    uint32_t gen;          /* bumped at registration and close */
    _Atomic uint8_t registered; /* in the epoll set (or always ready), this generation; read
                                   without the lock by the fast paths */
    uint8_t always;        /* epoll refuses it (a regular file): always ready */
    uint8_t ready;         /* SWARM_IO_READ / WRITE seen while nobody waited */
    _Atomic uint8_t stream;  /* a byte stream (SWARM__IO_STREAM), this generation */
    _Atomic uint8_t drained; /* the last read was short: see swarm__io_drained_set */
    _Atomic uint8_t ended;   /* the poller saw the peer's end (RDHUP, HUP, ERR): no hint */
    waiter_t w[2];
    own_t *own;            /* NULL: nobody owns it */
    swarm_pid_t owner;     /* whose list own is on (or is on its way to) */
    swarm_t *sw;
    int fd;
} fdent_t;

typedef struct swarm__fdtab {
    pthread_mutex_t grow;
    _Atomic(fdent_t *) chunk[NCHUNKS];
} fdtab_t;

static void ent_lock(fdent_t *e) { swarm__spin_lock(&e->lock); }
static void ent_unlock(fdent_t *e) { swarm__spin_unlock(&e->lock); }

static fdent_t *entry_find(swarm_t *sw, int fd)
{
    if (fd < 0 || fd >= SWARM_IO_MAX_FD)
        return NULL;
    fdent_t *c = atomic_load_explicit(&sw->fdtab->chunk[(unsigned)fd >> CHUNK_BITS], memory_order_acquire);
    return c ? &c[(unsigned)fd & (CHUNK - 1)] : NULL;
}

/* The entry of fd, its chunk made if need be. NULL: no memory, or fd out of range. */
static fdent_t *entry_get(swarm_t *sw, int fd)
{
    fdent_t *e = entry_find(sw, fd);
    if (e || fd < 0 || fd >= SWARM_IO_MAX_FD)
        return e;
    fdtab_t *t = sw->fdtab;
    unsigned ci = (unsigned)fd >> CHUNK_BITS;
    pthread_mutex_lock(&t->grow);
    fdent_t *c = atomic_load_explicit(&t->chunk[ci], memory_order_relaxed);
    if (!c && (c = swarm__calloc(CHUNK, sizeof *c))) {
        for (unsigned i = 0; i < CHUNK; i++) {
            c[i].fd = (int)(ci * CHUNK + i);
            c[i].sw = sw;
            c[i].w[RD].pid = c[i].w[WR].pid = SWARM_PID_NONE;
        }
        atomic_store_explicit(&t->chunk[ci], c, memory_order_release);
    }
    pthread_mutex_unlock(&t->grow);
    return c ? &c[(unsigned)fd & (CHUNK - 1)] : NULL;
}

/* Wake both waiters of a closing entry (outside its lock). */
static void post_closed(waiter_t w[2])
{
    for (int i = 0; i < 2; i++)
        if (w[i].pid != SWARM_PID_NONE)
            swarm__msg_post_io(w[i].pid, w[i].token, SWARM__IO_CLOSED);
}

/* Forget fd: waiters woken with CLOSED, out of the epoll set, the
 * generation bumped, no owner. The caller holds e's lock; it is released. */
static void forget_unlock(fdent_t *e)
{
    swarm_t *sw = e->sw;
    waiter_t w[2] = {e->w[RD], e->w[WR]};
    e->w[RD].pid = e->w[WR].pid = SWARM_PID_NONE;
    if (e->registered && !e->always) {
        SWARM__SYS(epoll_ctl)(sw->io_epfd, EPOLL_CTL_DEL, e->fd, NULL);
        atomic_fetch_sub(&sw->io_nfds, 1);
    }
    e->registered = 0;
    e->always = 0;
    e->ready = 0;
    e->own = NULL;
    e->owner = SWARM_PID_NONE;
    e->gen++;
    ent_unlock(e);
    post_closed(w);
}

/* The resource list's release: the owner ended (p), or nobody took a
 * given fd (p NULL). Close the fd if the node still stands for it. */
static void fd_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    own_t *o = (own_t *)r;
    fdent_t *e = entry_find(o->sw, o->fd);
    ent_lock(e);
    if (e->own == o) {
        forget_unlock(e);
        close(o->fd);
    } else {
        ent_unlock(e); /* closed already (by another process) */
    }
    swarm__free(o);
}

int swarm_close(int fd)
{
    swarm__sched_t *s = swarm__sched_self();
    if (fd < 0)
        return SWARM_EBADF;
    /* Outside a swarm, the fd is only closed: the fd tables are per swarm. */
    fdent_t *e = s ? entry_find(s->swarm, fd) : NULL;
    if (e) {
        ent_lock(e);
        own_t *o = e->own;
        swarm_pid_t owner = e->owner;
        forget_unlock(e);
        /* Only the owner touches its list: it unlinks and frees the node
         * now; after a close by anyone else the node stays on the owner's
         * list, no longer the entry's, and its release just frees it. */
        swarm__proc_t *me = s->current;
        if (o && me && swarm__ptable_pid(me) == owner) {
            swarm__res_remove(&me->res, &o->res);
            swarm__free(o);
        }
    }
    return close(fd) == 0 ? 0 : SWARM_EBADF;
}

int swarm__io_register(swarm_t *sw, int fd, unsigned flags)
{
    int own = (flags & SWARM__IO_OWN) != 0;
    fdent_t *e = entry_get(sw, fd);
    if (!e)
        return fd < 0 || fd >= SWARM_IO_MAX_FD ? SWARM_EBADF : SWARM_ENOMEM;
    /* Known already: no syscall (every I/O call comes through here; an
     * fcntl each time was 2 of the 5 syscalls of an echo round trip). */
    if (!own && atomic_load_explicit(&e->registered, memory_order_relaxed))
        return 0;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return SWARM_EBADF;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return SWARM_EBADF;
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *me = s ? s->current : NULL;
    own_t *o = NULL;
    if (own && me && !(o = swarm__malloc(sizeof *o)))
        return SWARM_ENOMEM;
    ent_lock(e);
    if (o && e->own) {
        ent_unlock(e);
        swarm__free(o);
        return SWARM_EEXIST;
    }
    if (!e->registered) {
        e->gen++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.u64 = ((uint64_t)e->gen << 32) | (uint32_t)fd};
        int r = SWARM__SYS(epoll_ctl)(sw->io_epfd, EPOLL_CTL_ADD, fd, &ev);
        if (r < 0 && errno == EEXIST) /* closed behind our back, number reused */
            r = SWARM__SYS(epoll_ctl)(sw->io_epfd, EPOLL_CTL_MOD, fd, &ev);
        int always = r < 0 && errno == EPERM; /* a regular file or a directory */
        if (r < 0 && !always) {
            int err = errno;
            ent_unlock(e);
            swarm__free(o);
            return err == ENOMEM || err == ENOSPC ? SWARM_ENOMEM : SWARM_EBADF;
        }
        e->registered = 1;
        e->always = (uint8_t)always;
        e->ready = 0;
        atomic_store_explicit(&e->stream, (flags & SWARM__IO_STREAM) != 0, memory_order_relaxed);
        atomic_store_explicit(&e->drained, 0, memory_order_relaxed);
        atomic_store_explicit(&e->ended, 0, memory_order_relaxed);
        if (!always)
            atomic_fetch_add(&sw->io_nfds, 1);
    }
    if (o) {
        o->res.release = fd_release;
        o->sw = sw;
        o->fd = fd;
        e->own = o;
        e->owner = swarm__ptable_pid(me);
        swarm__res_add(&me->res, &o->res);
    }
    ent_unlock(e);
    return 0;
}

int swarm_fd_adopt(int fd)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    return swarm__io_register(s->swarm, fd, SWARM__IO_OWN);
}

int swarm_fd_give(int fd, swarm_pid_t to)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    swarm__proc_t *me = s->current;
    swarm_pid_t mypid = swarm__ptable_pid(me);
    fdent_t *e = entry_find(s->swarm, fd);
    if (fd < 0 || fd >= SWARM_IO_MAX_FD || fcntl(fd, F_GETFD) < 0)
        return SWARM_EBADF;
    if (to == SWARM_PID_NONE)
        return SWARM_EINVAL;
    if (!e)
        return SWARM_EPERM;
    ent_lock(e);
    own_t *o = e->owner == mypid ? e->own : NULL;
    uint32_t gen = e->gen;
    ent_unlock(e);
    if (!o)
        return SWARM_EPERM;
    if (to == mypid)
        return 0;
    /* An fd given to us may still sit in our queue: take it first, so the
     * node is on our list before we unlink it (its giver set the owner
     * only after the GIVE was queued). */
    swarm__msg_take_queue(s, me);
    swarm__res_remove(&me->res, &o->res);
    int r = swarm__msg_post_give(to, &o->res);
    if (r != 0) {
        swarm__res_add(&me->res, &o->res);
        return r;
    }
    ent_lock(e);
    if (e->own == o && e->gen == gen) /* (else it was closed meanwhile) */
        e->owner = to;
    ent_unlock(e);
    return 0;
}

int64_t swarm__io_deadline(int64_t timeout_ms)
{
    swarm__sched_t *s = swarm__sched_self();
    return swarm__deadline_ms(swarm__now_ms(s ? s->swarm : NULL), timeout_ms);
}

int64_t swarm__io_timeout(int64_t deadline_ms)
{
    if (deadline_ms == SWARM__NEVER)
        return SWARM_INFINITE;
    swarm__sched_t *s = swarm__sched_self();
    int64_t now = swarm__now_ms(s ? s->swarm : NULL);
    return deadline_ms > now ? deadline_ms - now : 0;
}

/* An fd wait's node on the waiter's resource list, on its stack: if the
 * waiter is killed in the wait, its exit takes it out of the entry. */
typedef struct io_wait {
    swarm__res_t res;
    fdent_t *e;
    swarm_pid_t pid;
    uint32_t token;
    unsigned events;
} io_wait_t;

/* Take the wait out of the entry. Returns the events whose waiter slot
 * the poller (or a close) had already emptied for it: a notice is on its
 * way. */
static unsigned wait_end(io_wait_t *w)
{
    unsigned posted = 0;
    fdent_t *e = w->e;
    ent_lock(e);
    for (int i = 0; i < 2; i++) {
        if (!(w->events & (1u << i)))
            continue;
        if (e->w[i].pid == w->pid && e->w[i].token == w->token)
            e->w[i].pid = SWARM_PID_NONE;
        else
            posted |= 1u << i;
    }
    ent_unlock(e);
    return posted;
}

static void wait_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    io_wait_t *w = (io_wait_t *)r;
    wait_end(w);
    atomic_fetch_sub(&w->e->sw->io_waiters, 1);
}

/* Is fd ready for events now? poll(2) with no timeout. */
static unsigned ready_now(int fd, unsigned events)
{
    struct pollfd pfd = {.fd = fd, .events = (short)((events & SWARM_IO_READ ? POLLIN : 0) |
                                                     (events & SWARM_IO_WRITE ? POLLOUT : 0))};
    if (poll(&pfd, 1, 0) != 1)
        return 0;
    unsigned r = 0;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLRDHUP))
        r |= SWARM_IO_READ;
    if (pfd.revents & (POLLOUT | POLLHUP | POLLERR))
        r |= SWARM_IO_WRITE;
    return r & events;
}

int swarm__io_wait(int fd, unsigned events, swarm_msg_t **out, int64_t deadline_ms, int check)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!events || (events & ~(SWARM_IO_READ | SWARM_IO_WRITE)))
        return SWARM_EINVAL;
    swarm_t *sw = s->swarm;
    fdent_t *e = entry_find(sw, fd);
    if (!e || !e->registered) {
        int r = swarm__io_register(sw, fd, 0);
        if (r != 0)
            return r;
        e = entry_find(sw, fd);
    }
    swarm__proc_t *p = s->current;
    io_wait_t w = {.e = e, .pid = swarm__ptable_pid(p), .events = events};
    w.res.release = wait_release;
    if (e->always)
        return (int)events; /* a file: never waits */
    if (out && check) {
        /* A message already queued comes first (token 0 matches no
         * notice: tokens are never 0). */
        uint32_t none;
        if (swarm__msg_recv_io(0, 1, &none, out, 0, 0) == 0)
            return 0;
    }
    if (check) {
        /* Like poll(2): ready now counts, not only new edges. Forget the
         * remembered edges first: an edge after that is either seen by
         * the poll below or kept in the entry for the check after it. */
        ent_lock(e);
        e->ready &= (uint8_t)~events;
        ent_unlock(e);
        if (events & SWARM_IO_READ) /* the hint counted on those edges */
            atomic_store_explicit(&e->drained, 0, memory_order_relaxed);
        unsigned now = ready_now(fd, events);
        if (now)
            return (int)now;
    }
    ent_lock(e);
    if (!e->registered) { /* closed meanwhile */
        ent_unlock(e);
        return SWARM_EBADF;
    }
    unsigned got = e->ready & events;
    if (got) {
        e->ready &= (uint8_t)~got;
        ent_unlock(e);
        return (int)got;
    }
    for (int i = 0; i < 2; i++) {
        if ((events & (1u << i)) && e->w[i].pid != SWARM_PID_NONE && e->w[i].pid != w.pid) {
            ent_unlock(e);
            return SWARM_EBUSY;
        }
    }
    w.token = swarm__msg_next_corr();
    for (int i = 0; i < 2; i++)
        if (events & (1u << i))
            e->w[i] = (waiter_t){w.pid, w.token};
    ent_unlock(e);

    atomic_fetch_add(&sw->io_waiters, 1);
    swarm__res_add(&p->res, &w.res);
    uint32_t ev = 0;
    int r = swarm__msg_recv_io(w.token, out != NULL, &ev, out, swarm__io_timeout(deadline_ms), 1);
    s = swarm__sched_self();
    p = s->current;
    swarm__res_remove(&p->res, &w.res);
    unsigned posted = wait_end(&w);
    atomic_fetch_sub(&sw->io_waiters, 1);
    if (r == 1 && (ev & SWARM__IO_CLOSED))
        return SWARM_ECLOSED;
    /* A notice posted for this wait that did not end it: its readiness
     * goes back to the entry for the next wait (the notice is dropped). */
    unsigned lost = posted & ~(r == 1 ? ev : 0);
    if (lost) {
        ent_lock(e);
        if (e->registered)
            e->ready |= (uint8_t)lost;
        ent_unlock(e);
    }
    if (r == 1)
        return (int)(ev & events);
    return r; /* 0 with a message, or an error */
}

int swarm__io_is_stream(swarm_t *sw, int fd)
{
    fdent_t *e = entry_find(sw, fd);
    return e && atomic_load_explicit(&e->registered, memory_order_relaxed) &&
           atomic_load_explicit(&e->stream, memory_order_relaxed);
}

void swarm__io_drained_set(swarm_t *sw, int fd)
{
    fdent_t *e = entry_find(sw, fd);
    if (e && atomic_load_explicit(&e->stream, memory_order_relaxed))
        atomic_store_explicit(&e->drained, 1, memory_order_relaxed);
}

int swarm__io_drained_take(swarm_t *sw, int fd)
{
    fdent_t *e = entry_find(sw, fd);
    return e && atomic_load_explicit(&e->drained, memory_order_relaxed) &&
           atomic_exchange_explicit(&e->drained, 0, memory_order_relaxed) &&
           !atomic_load_explicit(&e->ended, memory_order_relaxed);
}

int swarm__io_has_waiter(int fd, unsigned events)
{
    swarm__sched_t *s = swarm__sched_self();
    fdent_t *e = s ? entry_find(s->swarm, fd) : NULL;
    if (!e)
        return 0;
    ent_lock(e);
    int r = ((events & SWARM_IO_READ) && e->w[RD].pid != SWARM_PID_NONE) ||
            ((events & SWARM_IO_WRITE) && e->w[WR].pid != SWARM_PID_NONE);
    ent_unlock(e);
    return r;
}

int swarm_fd_wait(int fd, unsigned events, int64_t timeout_ms)
{
    if (timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    if (fd < 0 || fd >= SWARM_IO_MAX_FD)
        return SWARM_EBADF;
    return swarm__io_wait(fd, events, NULL, swarm__io_deadline(timeout_ms), 1);
}

int swarm_recv_fd(int fd, unsigned events, swarm_msg_t **out, int64_t timeout_ms)
{
    if (!out || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    *out = NULL;
    if (fd < 0 || fd >= SWARM_IO_MAX_FD)
        return SWARM_EBADF;
    return swarm__io_wait(fd, events, out, swarm__io_deadline(timeout_ms), 1);
}

/* One epoll event: hand its readiness to the waiters, or keep it. */
static unsigned dispatch_one(swarm_t *sw, uint64_t data, uint32_t events)
{
    fdent_t *e = entry_find(sw, (int)(uint32_t)data);
    if (!e)
        return 0;
    unsigned ev = 0;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        ev |= SWARM_IO_READ;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        ev |= SWARM_IO_WRITE;
    waiter_t post[2] = {{SWARM_PID_NONE, 0}, {SWARM_PID_NONE, 0}};
    ent_lock(e);
    if (!e->registered || e->gen != (uint32_t)(data >> 32)) {
        ent_unlock(e); /* an event of the fd number's previous life */
        return 0;
    }
    /* The end of the stream (or an error) may come in the same event as
     * the last data: a short read of that data leaves the end unreported,
     * and no later edge will come for it. Set before the waiter is told
     * or the readiness kept, so the reader sees it (swarm__io_drained_take). */
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        atomic_store_explicit(&e->ended, 1, memory_order_relaxed);
    for (int i = 0; i < 2; i++) {
        if (!(ev & (1u << i)))
            continue;
        if (e->w[i].pid != SWARM_PID_NONE) {
            post[i] = e->w[i];
            e->w[i].pid = SWARM_PID_NONE;
        } else {
            e->ready |= (uint8_t)(1u << i);
        }
    }
    ent_unlock(e);
    unsigned woke = 0;
    /* One waiter for both events gets one notice. */
    if (post[RD].pid != SWARM_PID_NONE && post[WR].pid == post[RD].pid && post[WR].token == post[RD].token) {
        woke += swarm__msg_post_io(post[RD].pid, post[RD].token, SWARM_IO_READ | SWARM_IO_WRITE) == 0;
    } else {
        if (post[RD].pid != SWARM_PID_NONE)
            woke += swarm__msg_post_io(post[RD].pid, post[RD].token, SWARM_IO_READ) == 0;
        if (post[WR].pid != SWARM_PID_NONE)
            woke += swarm__msg_post_io(post[WR].pid, post[WR].token, SWARM_IO_WRITE) == 0;
    }
    return woke;
}

unsigned swarm__io_dispatch(swarm_t *sw, const struct epoll_event *evs, int n)
{
    unsigned woke = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == UINT64_MAX) { /* the eventfd: a wake-up */
            uint64_t v;
            ssize_t r = read(sw->io_evfd, &v, sizeof v);
            (void)r;
            continue;
        }
        woke += dispatch_one(sw, evs[i].data.u64, evs[i].events);
    }
    return woke;
}


int swarm__io_fdtab_init(swarm_t *sw)
{
    sw->fdtab = swarm__calloc(1, sizeof *sw->fdtab);
    if (!sw->fdtab)
        return SWARM_ENOMEM;
    pthread_mutex_init(&sw->fdtab->grow, NULL);
    return 0;
}

void swarm__io_fdtab_destroy(swarm_t *sw)
{
    fdtab_t *t = sw->fdtab;
    if (!t)
        return;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        fdent_t *c = atomic_load_explicit(&t->chunk[i], memory_order_relaxed);
        if (!c)
            continue;
        /* Owned fds were closed by their owners' ends; a given fd nobody
         * took was closed when its GIVE was dropped. What is left is
         * registered but not owned: the user's own fds, left open. */
        swarm__free(c);
    }
    pthread_mutex_destroy(&t->grow);
    swarm__free(t);
    sw->fdtab = NULL;
}
