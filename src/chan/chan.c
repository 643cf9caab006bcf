/*
 * chan/chan.c - channels and select (swarmrt/chan.h, docs/design/chan.md).
 *
 * One spinlock guards a channel: its ring buffer, its closed flag and its
 * two wait queues (senders, receivers). Every operation is a select: a
 * send or a receive is a select of one case.
 *
 *   select(cases):
 *     set aside what the mailbox holds (signals take effect here)
 *     lock every case's channel, in address order
 *     try the cases in a random order; the first that can proceed does,
 *       serving a parked partner (claim it, copy, done, wake after unlock)
 *     none: queue a node per case, park; the hook marks the mailbox EMPTY
 *       and releases the locks (chan/waitq.h)
 *     woken: lock them again, take the nodes off; a node marked done was
 *       served (the partner copied the value): return its case; else loop
 *
 * A waker copies a value straight to or from the parked process's stack
 * (its node's elem): the stack never moves (invariant 1) and the process
 * cannot run until its claimer wakes it.
 */
#include "swarmrt/chan.h"

#include <string.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "chan/waitq.h"
#include "msg/sig.h"
#include "swarmrt/error.h"
#include "swarmrt/msg.h"

/* An unbounded channel holds at most this many elements (SWARM_ENOMEM past it). */
#define CHAN_UNBOUNDED_MAX ((uint32_t)1 << 31)
#define CACHE_LINE 64

struct swarm_chan {
    /* The first cache line: all that an operation touches under the lock
     * (at 2 schedulers every operation moves this line between cores). */
    _Atomic uint32_t lock;
    uint32_t esize;              /* [create] */
    uint32_t bufcap, head;       /* [lock] a ring of bufcap elements, the oldest at head */
    _Atomic uint32_t count;      /* [lock] written under it; swarm_chan_len reads it without */
    uint8_t closed;              /* [lock] */
    uint8_t unbounded;           /* [create] */
    unsigned char *buf;          /* [lock] */
    swarm__waitq_t sendq, recvq; /* [lock] */
    /* A line of its own: the references change when a process parks. */
    _Alignas(CACHE_LINE) _Atomic uint32_t refs;
    void *mem;                   /* what swarm__malloc returned; the channel is aligned inside it */
};

int swarm_chan_create(swarm_chan_t **out, size_t elem_size, size_t cap)
{
    if (!out || !elem_size || elem_size > SWARM_CHAN_ELEM_MAX || (cap != SWARM_CHAN_UNBOUNDED && cap > SWARM_CHAN_CAP_MAX))
        return SWARM_EINVAL;
    void *mem = swarm__calloc(1, sizeof(swarm_chan_t) + CACHE_LINE);
    if (!mem)
        return SWARM_ENOMEM;
    swarm_chan_t *ch = (swarm_chan_t *)(((uintptr_t)mem + CACHE_LINE - 1) & ~(uintptr_t)(CACHE_LINE - 1));
    ch->mem = mem;
    ch->esize = (uint32_t)elem_size;
    ch->unbounded = cap == SWARM_CHAN_UNBOUNDED;
    if (cap && !ch->unbounded) {
        if (!(ch->buf = swarm__malloc(cap * elem_size))) {
            swarm__free(mem);
            return SWARM_ENOMEM;
        }
        ch->bufcap = (uint32_t)cap;
    }
    atomic_init(&ch->refs, 1);
    *out = ch;
    return 0;
}

swarm_chan_t *swarm_chan_dup(swarm_chan_t *ch)
{
    /* relaxed: a new reference is made from one the caller holds. */
    atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
    return ch;
}

void swarm_chan_release(swarm_chan_t *ch)
{
    if (!ch)
        return;
    /* acq_rel: the last releaser sees every other holder's writes. */
    if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) != 1)
        return;
    swarm__free(ch->buf);
    swarm__free(ch->mem);
}

size_t swarm_chan_len(swarm_chan_t *ch)
{
    return atomic_load_explicit(&ch->count, memory_order_relaxed);
}

static uint32_t count_of(swarm_chan_t *ch) { return atomic_load_explicit(&ch->count, memory_order_relaxed); }
static void count_set(swarm_chan_t *ch, uint32_t n) { atomic_store_explicit(&ch->count, n, memory_order_relaxed); }

/* Ring buffer, under the lock (no division: i < 2 * bufcap). */
static void buf_put(swarm_chan_t *ch, const void *elem)
{
    uint32_t n = count_of(ch);
    size_t i = (size_t)ch->head + n;
    if (i >= ch->bufcap)
        i -= ch->bufcap;
    memcpy(ch->buf + i * ch->esize, elem, ch->esize);
    count_set(ch, n + 1);
}

static void buf_get(swarm_chan_t *ch, void *elem)
{
    memcpy(elem, ch->buf + (size_t)ch->head * ch->esize, ch->esize);
    if (++ch->head == ch->bufcap)
        ch->head = 0;
    count_set(ch, count_of(ch) - 1);
}

/* An unbounded channel's ring is full: double it, the elements in order. */
static int buf_grow(swarm_chan_t *ch)
{
    uint32_t n = count_of(ch);
    size_t cap = ch->bufcap ? (size_t)ch->bufcap * 2 : 16;
    if (cap > CHAN_UNBOUNDED_MAX || cap > SIZE_MAX / ch->esize)
        return SWARM_ENOMEM;
    unsigned char *b = swarm__malloc(cap * ch->esize);
    if (!b)
        return SWARM_ENOMEM;
    if (n) { /* (a first ring has no old one to copy) */
        size_t first = ch->bufcap - ch->head < n ? ch->bufcap - ch->head : n; /* up to the ring's end */
        memcpy(b, ch->buf + (size_t)ch->head * ch->esize, first * ch->esize);
        memcpy(b + first * ch->esize, ch->buf, (n - first) * ch->esize);
    }
    swarm__free(ch->buf);
    ch->buf = b;
    ch->bufcap = (uint32_t)cap;
    ch->head = 0;
    return 0;
}

static void served(swarm__waiter_t *w, int result, swarm__waiter_t **wake)
{
    w->result = result;
    w->done = 1;
    w->wnext = *wake;
    *wake = w;
}

/* Try one case under its channel's lock: 1 done (c->result set), 0 it
 * would wait, or SWARM_ENOMEM. Served partners join *wake. */
static int try_case(swarm_chan_case_t *c, swarm__waiter_t **wake)
{
    swarm_chan_t *ch = c->chan;
    swarm__waiter_t *w;
    if (c->op == SWARM_CHAN_SEND) {
        if (ch->closed) {
            c->result = SWARM_ECLOSED;
            return 1;
        }
        if ((w = swarm__waitq_take(&ch->recvq))) {
            memcpy(w->elem, c->elem, ch->esize);
            served(w, 0, wake);
        } else if (count_of(ch) < ch->bufcap) {
            buf_put(ch, c->elem);
        } else if (ch->unbounded) {
            int r = buf_grow(ch);
            if (r != 0)
                return r;
            buf_put(ch, c->elem);
        } else {
            return 0;
        }
        c->result = 0;
        return 1;
    }
    if (count_of(ch) > 0) {
        buf_get(ch, c->elem);
        /* Room now: the first parked sender's value joins the buffer. */
        if ((w = swarm__waitq_take(&ch->sendq))) {
            buf_put(ch, w->elem);
            served(w, 0, wake);
        }
    } else if ((w = swarm__waitq_take(&ch->sendq))) {
        memcpy(c->elem, w->elem, ch->esize); /* a rendezvous */
        served(w, 0, wake);
    } else if (ch->closed) {
        c->result = SWARM_ECLOSED;
        return 1;
    } else {
        return 0;
    }
    c->result = 0;
    return 1;
}

int swarm_chan_close(swarm_chan_t *ch)
{
    if (!ch)
        return SWARM_EINVAL;
    swarm__waiter_t *wake = NULL, *w;
    swarm__waitq_lock(&ch->lock);
    if (ch->closed) {
        swarm__waitq_unlock(&ch->lock);
        return SWARM_ECLOSED;
    }
    ch->closed = 1;
    /* (receivers wait only on an empty buffer: nothing to drain for them) */
    while ((w = swarm__waitq_take(&ch->recvq)))
        served(w, SWARM_ECLOSED, &wake);
    while ((w = swarm__waitq_take(&ch->sendq)))
        served(w, SWARM_ECLOSED, &wake);
    swarm__waitq_unlock(&ch->lock);
    swarm__waitq_wake_list(wake);
    return 0;
}

/* A node's release on its process's resource list: the process ended
 * (destroy) while the node was queued. */
static void waiter_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    swarm__waiter_t *w = SWARM_CONTAINER_OF(r, swarm__waiter_t, res);
    swarm_chan_t *ch = SWARM_CONTAINER_OF(w->lock, swarm_chan_t, lock);
    swarm__waitq_lock(w->lock);
    if (w->q)
        swarm__waitq_remove(w->q, w);
    swarm__waitq_unlock(w->lock);
    swarm_chan_release(ch);
}

/* A random number for the case order: the scheduler's generator (seeded
 * from the deterministic seed in that mode), or a shared one outside. */
static uint64_t next_rand(swarm__sched_t *s)
{
    static _Atomic uint64_t outside = 0x9E3779B97F4A7C15ull;
    uint64_t x = s ? s->rng : atomic_fetch_add_explicit(&outside, 0x9E3779B97F4A7C15ull, memory_order_relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    if (s)
        s->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void lock_all(_Atomic uint32_t *const *locks, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        swarm__waitq_lock(locks[i]);
}

static void unlock_all(_Atomic uint32_t *const *locks, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        swarm__waitq_unlock(locks[i]);
}

/* The select proper; ws: one node per case (the caller's storage). */
static int select_common(swarm_chan_case_t *cases, unsigned n, unsigned flags, int64_t timeout_ms,
                         swarm__waiter_t *ws, _Atomic uint32_t **locks, unsigned *order)
{
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = s ? s->current : NULL;
    int mailbox = (flags & SWARM_SELECT_MAILBOX) != 0;
    if ((timeout_ms != 0 || mailbox) && !p)
        return SWARM_ENOTPROC;

    /* The distinct channels' locks, in address order (deadlock-free). */
    unsigned nlocks = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!cases[i].chan)
            continue;
        _Atomic uint32_t *l = &cases[i].chan->lock;
        unsigned k = nlocks;
        while (k > 0 && (uintptr_t)locks[k - 1] > (uintptr_t)l)
            k--;
        if (k > 0 && locks[k - 1] == l)
            continue;
        memmove(&locks[k + 1], &locks[k], (nlocks - k) * sizeof *locks);
        locks[k] = l;
        nlocks++;
    }
    /* A random order of the cases (and the mailbox, as case n): Fisher-Yates. */
    unsigned total = n + (unsigned)mailbox;
    for (unsigned i = 0; i < total; i++)
        order[i] = i;
    for (unsigned i = total; i > 1; i--) {
        unsigned j = (unsigned)(next_rand(s) % i);
        unsigned t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }

    /* The deadline is read from the clock when the call first has to
     * wait: a call that completes at once reads no clock. */
    int64_t deadline = 0;
    int waited = 0;
    /* A process that parks holds a reference to each channel from its
     * first park until it returns, on its resource list: between two parks
     * it is queued nowhere, and a release by someone else must not free a
     * channel it is about to lock again; a kill anywhere after gives them
     * back. Before the first park the caller's own handle covers the call
     * (so an operation that completes at once pays nothing), and so it
     * does for a foreign thread, which never parks. */
    swarm_pid_t me = p ? swarm__ptable_pid(p) : SWARM_PID_NONE;
    int held = 0;
    int ret;
    for (;;) {
        int mb_ready = 0;
        if (p) {
            swarm__waitq_mailbox(s, p); /* signals take effect; may end p */
            mb_ready = mailbox && p->save_head != NULL;
        }
        swarm__waiter_t *wake = NULL;
        lock_all(locks, nlocks);
        ret = -1;
        for (unsigned k = 0; k < total && ret == -1; k++) {
            unsigned i = order[k];
            if (i == n) {
                if (mb_ready)
                    ret = (int)n;
                continue;
            }
            if (!cases[i].chan)
                continue;
            int r = try_case(&cases[i], &wake);
            if (r != 0)
                ret = r < 0 ? r : (int)i;
        }
        if (ret != -1) {
            unlock_all(locks, nlocks);
            swarm__waitq_wake_list(wake);
            break;
        }
        if (timeout_ms == 0) {
            unlock_all(locks, nlocks);
            ret = SWARM_EAGAIN;
            break;
        }
        if (!waited) {
            deadline = swarm__waitq_deadline(s->swarm, timeout_ms);
        } else if (deadline != SWARM__NEVER && swarm__now_ms(s->swarm) >= deadline) {
            unlock_all(locks, nlocks);
            ret = SWARM_ETIMEDOUT;
            break;
        }
        waited = 1;
        if (swarm__waitq_arm(s, p, deadline) != 0) {
            unlock_all(locks, nlocks);
            swarm__sched_switch_out(s, p, SWARM__ACT_YIELD); /* no memory for a timer: poll */
            s = swarm__sched_self();
            continue;
        }
        for (unsigned i = 0; !held && i < n; i++) {
            swarm_chan_t *ch = cases[i].chan;
            if (!ch)
                continue;
            swarm__waiter_t *w = &ws[i];
            /* Field by field: the fields not set here (links, result,
             * done) are set before every park, and a compound literal
             * costs a rep stos of the whole node. */
            w->p = p;
            w->pid = me;
            w->lock = &ch->lock;
            w->elem = cases[i].elem;
            w->index = i;
            w->res.release = waiter_release;
            swarm_chan_dup(ch);
            swarm__res_add(&p->res, &w->res);
        }
        held = 1;
        for (unsigned i = 0; i < n; i++) {
            swarm_chan_t *ch = cases[i].chan;
            if (!ch)
                continue;
            ws[i].done = 0;
            ws[i].result = 0;
            swarm__waitq_push(cases[i].op == SWARM_CHAN_SEND ? &ch->sendq : &ch->recvq, &ws[i]);
        }
        swarm__waitq_park(s, p, locks, nlocks, SWARM_WAIT_CHAN);
        s = swarm__sched_self();
        /* Take every node off its queue; a served one ends the select. */
        lock_all(locks, nlocks);
        int got = -1;
        for (unsigned i = 0; i < n; i++) {
            if (!cases[i].chan)
                continue;
            if (ws[i].q)
                swarm__waitq_remove(ws[i].q, &ws[i]);
            if (ws[i].done) {
                got = (int)i;
                cases[i].result = ws[i].result;
            }
        }
        unlock_all(locks, nlocks);
        if (got >= 0) {
            ret = got;
            break;
        }
    }
    if (p) {
        for (unsigned i = 0; held && i < n; i++) {
            if (!cases[i].chan)
                continue;
            swarm__res_remove(&p->res, &ws[i].res);
            swarm_chan_release(cases[i].chan);
        }
        p->wait_kind = SWARM_WAIT_NONE;
        swarm__timer_disarm(p);
        swarm__sched_spend(s, 1);
        swarm__sig_poll(p);
    }
    return ret;
}

static int check_timeout(int64_t timeout_ms)
{
    return timeout_ms < 0 && timeout_ms != SWARM_INFINITE ? SWARM_EINVAL : 0;
}

int swarm_chan_select(swarm_chan_case_t *cases, size_t n, unsigned flags, int64_t timeout_ms)
{
    if ((n && !cases) || n > SWARM_CHAN_SELECT_MAX || (flags & ~SWARM_SELECT_MAILBOX) || check_timeout(timeout_ms))
        return SWARM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (cases[i].chan && ((cases[i].op != SWARM_CHAN_SEND && cases[i].op != SWARM_CHAN_RECV) || !cases[i].elem))
            return SWARM_EINVAL;
    swarm__waiter_t ws[SWARM_CHAN_SELECT_MAX];
    _Atomic uint32_t *locks[SWARM_CHAN_SELECT_MAX];
    unsigned order[SWARM_CHAN_SELECT_MAX + 1];
    return select_common(cases, (unsigned)n, flags, timeout_ms, ws, locks, order);
}

/* A send or receive: a select of one case, after a fast path for one that
 * completes at once (no signal to handle first, the other side or the
 * buffer ready): one lock, no ordering, no shuffle, no clock. */
static int op1(swarm_chan_t *ch, swarm_chan_op_t op, void *elem, int64_t timeout_ms)
{
    if (!ch || !elem || check_timeout(timeout_ms))
        return SWARM_EINVAL;
    swarm_chan_case_t c = {.chan = ch, .op = op, .elem = elem};
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = s ? s->current : NULL;
    if (!p && timeout_ms != 0)
        return SWARM_ENOTPROC;
    if (!p || !swarm__mbox_busy(&p->mbox)) {
        swarm__waiter_t *wake = NULL;
        swarm__waitq_lock(&ch->lock);
        int r = try_case(&c, &wake);
        swarm__waitq_unlock(&ch->lock);
        if (r != 0) {
            swarm__waitq_wake_list(wake);
            if (p) {
                swarm__sched_spend(s, 1);
                swarm__sig_poll(p);
            }
            return r < 0 ? r : c.result;
        }
        if (timeout_ms == 0)
            return SWARM_EAGAIN;
    }
    swarm__waiter_t w;
    _Atomic uint32_t *lock;
    unsigned order;
    int r = select_common(&c, 1, 0, timeout_ms, &w, &lock, &order);
    return r == 0 ? c.result : r;
}

int swarm_chan_send(swarm_chan_t *ch, const void *elem, int64_t timeout_ms)
{
    return op1(ch, SWARM_CHAN_SEND, (void *)elem, timeout_ms);
}

int swarm_chan_recv(swarm_chan_t *ch, void *elem, int64_t timeout_ms)
{
    return op1(ch, SWARM_CHAN_RECV, elem, timeout_ms);
}
