/*
 * msg/msg.c - send and receive.
 *
 * Receive keeps two receiver-private lists beside the queue: the save list
 * (entries popped while looking for a match, still in arrival order, always
 * older than anything in the queue) and the held list (delivered, not yet
 * freed). Selective receive scans the save list first, then pops.
 */
#include "msg/msg.h"
#include "msg/internal.h"
#include "msg/sig.h"

#include <string.h>

#include "arch/cpu.h"
#include "base/deadline.h"
#include "base/sanitizer.h"
#include "base/sys.h"
#include "mem/pool.h"
#include "ptable/registry.h"
#include "sched/compact.h"
#include "sched/sched.h"
#include "swarmrt.h"

/* What a receive wants. kind is also what the process reports it waits
 * for (swarm_process_info, deadlock reports). */
typedef struct matcher {
    int kind;                /* a swarm_wait_t */
    uint32_t tag;            /* RECV_TAG */
    swarm_match_fn fn;       /* RECV_MATCH; RECV_MARKED (NULL: any) */
    void *ctx;
    uint32_t corr;           /* CALL: the REPLY of this call, */
    const swarm_ref_t *mon;  /*    or the DOWN of this monitor */
    int marked;              /* look only at what joined the save list after */
    uint64_t mark;           /*    this save_seq (CALL, RECV_MARKED) */
    int msgs;                /* FD: any message ends the wait too (corr: the IO notice's token) */
    int no_compact;          /* FD: others use its stack while it waits (sched/compact.h) */
} matcher_t;

/* What the queue said about the wait under way, besides messages. */
typedef struct wait_news {
    int timed_out;   /* its timer came due */
    uint32_t io;     /* FD: the events of its IO notice (0: none yet) */
} wait_news_t;

static int matches(const matcher_t *mt, const swarm_msg_t *m)
{
    switch (mt->kind) {
    case SWARM_WAIT_RECV: return 1;
    case SWARM_WAIT_RECV_TAG: return m->tag == mt->tag;
    case SWARM_WAIT_RECV_MATCH: return mt->fn(m, mt->ctx) != 0;
    case SWARM_WAIT_RECV_MARKED: return !mt->fn || mt->fn(m, mt->ctx) != 0;
    case SWARM_WAIT_CALL:
        if (m->kind == SWARM__SIG_REPLY)
            return m->corr == mt->corr;
        return m->kind == SWARM__SIG_NOTE && m->tag == SWARM_TAG_DOWN &&
               swarm_ref_eq(((const swarm__sig_body_t *)m->data)->ref, *mt->mon);
    case SWARM_WAIT_FD: return mt->msgs;
    default: return 0; /* SLEEP */
    }
}

/* A payload is at most the receiver swarm's max_msg_size, which create
 * bounds by SWARM_LIMIT_MAX_MSG_SIZE: header plus payload cannot wrap. */
_Static_assert(SWARM_LIMIT_MAX_MSG_SIZE <= SIZE_MAX / 2 - sizeof(swarm_msg_t),
               "message header plus the largest payload must fit in size_t");

static void count_dropped(swarm_t *sw, swarm__sched_t *s, uint64_t n)
{
    if (!n)
        return;
    if (s && s->swarm == sw)
        SWARM__STAT_ADD(s, msgs_dropped, n);
    else
        atomic_fetch_add_explicit(&sw->foreign_dropped, n, memory_order_relaxed);
}

/* A send the receiver's swarm accepted: counted by the sending scheduler
 * when it belongs to that swarm, else in the swarm's shared counter. */
static void count_sent(swarm_t *sw, swarm__sched_t *s)
{
    if (s && s->swarm == sw)
        SWARM__STAT_INC(s, msgs_sent);
    else
        atomic_fetch_add_explicit(&sw->foreign_sent, 1, memory_order_relaxed);
}

/* A send refused with an error return: never queued, never sent. */
static int rejected(swarm_t *sw, int err)
{
    atomic_fetch_add_explicit(&sw->rejected, 1, memory_order_relaxed);
    return err;
}

/* Sends in a row into mailboxes whose receiver was not waiting, after
 * which the sender yields (send_common). */
#define OVERLOAD_SENDS 64

/* send_to's answer when a bounded mailbox is full and the sender should
 * park (never a SWARM_E* code). */
#define SEND_FULL 1

/* Kinds that count against a bounded mailbox (msg/bound.c). */
#define BOUNDED_KIND(k) ((k) == SWARM__SIG_MSG || (k) == SWARM__SIG_CALL || (k) == SWARM__SIG_CAST)

/* The send proper, with the receiver's swarm held (see swarm_send).
 * timeout: how long the sender may park on a full bounded mailbox (0:
 * not at all); SEND_FULL with *full set when it should. */
static int send_to(const swarm__target_t *t, swarm__sched_t *s, swarm_pid_t to, uint32_t kind, uint32_t tag,
                   uint32_t corr, const void *data, size_t size, int user, int64_t timeout,
                   swarm__mbound_t **full)
{
    swarm_t *sw = t->sw;
    /* Reserved tags: only the runtime's own messages (gen_server/, task/) use them. */
    if (!t->p || (user && tag >= SWARM_TAG_SYSTEM) || (!data && size))
        return rejected(sw, SWARM_EINVAL);
    if (size > sw->cfg.max_msg_size)
        return rejected(sw, SWARM_EMSGSIZE);
    swarm__proc_t *p = t->p;
    if (!t->live) {
        /* Dead or stale: refused (Erlang drops it silently; the caller
         * hears SWARM_ESRCH). Counted as rejected, not as sent: only
         * accepted messages enter sent = delivered + dropped + in flight. */
        return rejected(sw, SWARM_ESRCH);
    }
    swarm__proc_t *self = s ? s->current : NULL;

    swarm__mbound_t *b = BOUNDED_KIND(kind) ? swarm__mbound_of(t->pt, p->index) : NULL;
    if (SWARM_UNLIKELY(b != NULL)) {
        int rv = swarm__mbound_reserve(b, swarm__pid_gen(to));
        if (rv < 0)
            return rejected(sw, SWARM_ESRCH); /* it died meanwhile */
        if (rv > 0) {
            uint32_t policy = atomic_load_explicit(&b->policy, memory_order_relaxed);
            if (policy == SWARM_MBOX_DROP) {
                count_sent(sw, s);
                count_dropped(sw, s, 1);
                return 0;
            }
            if (policy == SWARM_MBOX_FAIL || timeout == 0 || !self || s->swarm != sw)
                return rejected(sw, SWARM_EAGAIN);
            *full = b;
            return SEND_FULL;
        }
    }
    swarm_msg_t *m = swarm__msg_alloc(s, size);
    if (!m) {
        if (b)
            swarm__mbound_unreserve(b, swarm__pid_gen(to));
        return rejected(sw, SWARM_ENOMEM);
    }
    m->to = to;
    m->from = self ? swarm__ptable_pid(self) : SWARM_PID_NONE;
    m->kind = kind;
    m->tag = tag;
    m->corr = corr;
    m->size = size;
    if (size)
        memcpy(m->data, data, size);

    /* Counted before the push: the receiver may count it delivered at once. */
    count_sent(sw, s);
    int outside = !s || s->swarm != sw;
    if (outside)
        swarm__outside_begin(sw); /* push to wake: deadlock detection waits */
    if (swarm__mbox_push(&p->mbox, &m->link)) {
        swarm__sched_wake(p);
        if (!outside)
            s->busy_sends = 0;
    } else if (!outside) {
        /* Not waiting: if it waits for a CPU (runnable, not running on
         * another scheduler, where it drains as we send), its queue grows
         * while we run (send_common gives way after a streak). */
        uint64_t st = atomic_load_explicit(&p->state, memory_order_relaxed);
        s->busy_sends = (swarm__pstate_st(st) & SWARM__PS_MASK) == SWARM__PS_RUNNABLE ? s->busy_sends + 1 : 0;
    }
    if (outside)
        swarm__outside_end(sw);
    return 0;
}

static int send_common(swarm_pid_t to, uint32_t kind, uint32_t tag, uint32_t corr, const void *data, size_t size,
                       int user, int64_t timeout);
static int64_t deadline_ms(swarm_t *sw, int64_t timeout_ms);

int swarm_send(swarm_pid_t to, uint32_t tag, const void *data, size_t size)
{
    return send_common(to, SWARM__SIG_MSG, tag, 0, data, size, 1, SWARM_INFINITE);
}

int swarm_send_timeout(swarm_pid_t to, uint32_t tag, const void *data, size_t size, int64_t timeout_ms)
{
    if (timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    return send_common(to, SWARM__SIG_MSG, tag, 0, data, size, 1, timeout_ms);
}

int swarm_try_send(swarm_pid_t to, uint32_t tag, const void *data, size_t size)
{
    return send_common(to, SWARM__SIG_MSG, tag, 0, data, size, 1, 0);
}

int swarm__msg_send_kind(swarm_pid_t to, uint32_t kind, uint32_t tag, uint32_t corr, const void *data, size_t size)
{
    return send_common(to, kind, tag, corr, data, size, 0, SWARM_INFINITE);
}

static int send_common(swarm_pid_t to, uint32_t kind, uint32_t tag, uint32_t corr, const void *data, size_t size,
                       int user, int64_t timeout)
{
    swarm__sched_t *s = swarm__sched_self();
    int64_t deadline = SWARM__NEVER; /* made when the sender first parks */
    int r;
    for (;;) {
        /* The receiver's swarm is held (unless it is the caller's own) so
         * it cannot be freed under this send; a swarm that is being or has
         * been destroyed is not found: SWARM_ESRCH. */
        swarm__target_t t;
        r = swarm__pid_resolve(to, s ? s->swarm->id : 0, &t);
        if (r != 0)
            return r; /* no swarm to count it against */
        swarm__mbound_t *full = NULL;
        r = send_to(&t, s, to, kind, tag, corr, data, size, user, timeout, &full);
        swarm__pid_release(&t);
        if (r != SEND_FULL)
            break;
        /* A full bounded mailbox of our own swarm: park until there may be
         * room, then try again (msg/bound.c). */
        if (deadline == SWARM__NEVER && timeout > 0)
            deadline = deadline_ms(s->swarm, timeout);
        int64_t left = SWARM_INFINITE;
        if (deadline != SWARM__NEVER) {
            int64_t now = swarm__now_ms(s->swarm);
            left = deadline > now ? deadline - now : 0;
        }
        r = left == 0 ? SWARM_ETIMEDOUT : swarm__mbound_wait(full, swarm__pid_gen(to), left);
        s = swarm__sched_self();
        if (r != 0)
            return rejected(s->swarm, r);
    }
    /* Outside the reference: spending may switch this process out. */
    if (r == 0 && s && s->current) {
        swarm__proc_t *me = s->current;
        if (SWARM_UNLIKELY(s->busy_sends >= OVERLOAD_SENDS)) {
            /* The overload defence of unbounded mailboxes (Erlang's send
             * penalty, in its simplest form): a process that keeps sending
             * to receivers that are not keeping up gives way, so they run
             * and its messages do not pile up unbounded. */
            s->busy_sends = 0;
            SWARM__STAT_INC(s, yields);
            swarm__sched_switch_out(s, me, SWARM__ACT_YIELD);
            s = swarm__sched_self();
        } else {
            swarm__sched_spend(s, 1);
        }
        swarm__sig_poll(me);
    }
    return r;
}

static void list_append(swarm_msg_t **head, swarm_msg_t **tail, swarm_msg_t *m)
{
    m->lnext = NULL;
    m->lprev = *tail;
    if (*tail)
        (*tail)->lnext = m;
    else
        *head = m;
    *tail = m;
}

/* Set m aside at the tail of the save list, numbered for receive marks. */
static void save_push(swarm__proc_t *p, swarm_msg_t *m)
{
    m->seq = (uint32_t)++p->save_seq;
    list_append(&p->save_head, &p->save_tail, m);
    p->save_len++;
}

/* The first entry of the save list a receive looks at: the head, or for
 * a marked one the first that joined after its mark. Walks back from the
 * tail, so it costs what arrived since the mark, not the whole list. The
 * list is in joining order and the mark at most 2^31 joins old (checked
 * by the callers), so the 32-bit numbers compare by their difference. */
static swarm_msg_t *scan_start(const swarm__proc_t *p, const matcher_t *mt)
{
    if (!mt->marked)
        return p->save_head;
    swarm_msg_t *m = p->save_tail;
    while (m && (int32_t)(m->seq - (uint32_t)mt->mark) > 0)
        m = m->lprev;
    return m ? m->lnext : p->save_head;
}

static void save_unlink(swarm__proc_t *p, swarm_msg_t *m)
{
    if (m->lprev)
        m->lprev->lnext = m->lnext;
    else
        p->save_head = m->lnext;
    if (m->lnext)
        m->lnext->lprev = m->lprev;
    else
        p->save_tail = m->lprev;
    p->save_len--;
}

/* A message left p's mailbox: its bounded mailbox has room for one more. */
static SWARM_NOINLINE void give_room(swarm__proc_t *p)
{
    swarm__mbound_t *b = swarm__mbound_of(&p->swarm->ptable, p->index);
    if (b)
        swarm__mbound_unreserve(b, swarm__pstate_gen(atomic_load_explicit(&p->state, memory_order_relaxed)));
}

/* Hand m to the process: it joins the held list until swarm_msg_free. */
static inline __attribute__((always_inline)) void deliver(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m,
                                                          swarm_msg_t **out)
{
    m->lprev = NULL;
    m->lnext = p->held;
    if (p->held)
        p->held->lprev = m;
    p->held = m;
    p->wait_kind = SWARM_WAIT_NONE; /* (the receive is over) */
    if (SWARM__SIG_COUNTED(m->kind))
        SWARM__STAT_INC(s, msgs_received);
    if (SWARM_UNLIKELY(atomic_load_explicit(&p->swarm->ptable.bounded_any, memory_order_relaxed)) &&
        BOUNDED_KIND(m->kind))
        give_room(p);
    *out = m;
}

/* The deadline of a receive, in the ms of the swarm's timers (virtual in
 * deterministic mode); SWARM__NEVER when it lies past int64_t's range. */
static int64_t deadline_ms(swarm_t *sw, int64_t timeout_ms)
{
    if (sw->deterministic)
        return swarm__deadline_ms(swarm__now_ms(sw), timeout_ms);
    /* Round up: the wait lasts at least timeout_ms. */
    return swarm__deadline_ms(swarm__ns_to_ms_ceil(swarm__clock_ns()), timeout_ms);
}

/* A receive's timer came due (sched/timers.c calls this on a scheduler
 * thread): push a timeout signal for that wait, waking the receiver if it
 * sleeps. Returns 0 or SWARM_ENOMEM (the timer retries a tick later). */
static int post_timeout(swarm__proc_t *p, swarm_pid_t pid, uint32_t wait_seq)
{
    swarm_msg_t *m = swarm__msg_alloc(swarm__sched_self(), 0);
    if (!m)
        return SWARM_ENOMEM;
    m->to = pid;
    m->from = SWARM_PID_NONE;
    m->kind = SWARM__SIG_TIMEOUT;
    m->tag = wait_seq;
    m->size = 0;
    if (swarm__mbox_push(&p->mbox, &m->link))
        swarm__sched_wake(p);
    return 0;
}

/* An entry the runtime posts to pid on its own behalf (no counting, no
 * user checks): an IO notice, a GIVE. Returns 0, or SWARM_ESRCH /
 * SWARM_EINVAL (pid gone or bad: nothing was queued), SWARM_ENOMEM. */
static int post(swarm_pid_t pid, uint32_t kind, uint32_t tag, uint32_t corr, const void *data, size_t size)
{
    swarm__sched_t *s = swarm__sched_self();
    swarm__target_t t;
    int r = swarm__pid_resolve(pid, s ? s->swarm->id : 0, &t);
    if (r != 0)
        return r;
    r = SWARM_ESRCH;
    if (t.live) {
        swarm_msg_t *m = swarm__msg_alloc(s && s->swarm == t.sw ? s : NULL, size);
        r = SWARM_ENOMEM;
        if (m) {
            m->to = pid;
            m->from = s && s->current ? swarm__ptable_pid(s->current) : SWARM_PID_NONE;
            m->kind = kind;
            m->tag = tag;
            m->corr = corr;
            if (size)
                memcpy(m->data, data, size);
            /* (a pid that died since the check: its slot's next owner
             * drops the entry as stale, which for a GIVE releases it) */
            if (swarm__mbox_push(&t.p->mbox, &m->link))
                swarm__sched_wake(t.p);
            r = 0;
        }
    }
    swarm__pid_release(&t);
    return r;
}

int swarm__msg_post_io(swarm_pid_t pid, uint32_t token, uint32_t events)
{
    return post(pid, SWARM__SIG_IO, events, token, NULL, 0);
}

int swarm__msg_post_give(swarm_pid_t pid, swarm__res_t *r)
{
    /* From here r is the receiver's: it takes it when it handles the
     * signal, or its exit (or the slot's next owner, or destroy) drops
     * the signal and so releases r. */
    return post(pid, SWARM__SIG_GIVE, 0, 0, &r, sizeof r);
}

/* An entry for this slot's previous owner. */
static void drop_stale(swarm__sched_t *s, swarm_msg_t *m)
{
    if (SWARM__SIG_IS_SIGNAL(m->kind)) {
        swarm__sig_drop(s, m);
        return;
    }
    if (SWARM__SIG_COUNTED(m->kind))
        SWARM__STAT_INC(s, msgs_dropped);
    swarm__msg_release(s, m);
}

void swarm__msg_save_append(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m)
{
    (void)s;
    save_push(p, m);
}

void swarm__msg_save_remove(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m)
{
    save_unlink(p, m);
    swarm__msg_release(s, m);
}

/* The next queued entry p should look at as a message (a message, or an
 * EXIT / DOWN made of a signal), or NULL when the queue is empty. On the
 * way: a timeout of p's current wait sets *timed_out (a late one is just
 * freed), stale entries are dropped, signals are handled (an exit signal
 * may end p here). */
static inline __attribute__((always_inline)) swarm_msg_t *next_entry(swarm__sched_t *s, swarm__proc_t *p,
                                                                   swarm_pid_t me, const matcher_t *mt,
                                                                   wait_news_t *news)
{
    swarm__mnode_t *n;
    while ((n = swarm__mbox_pop(&p->mbox))) {
        swarm_msg_t *m = (swarm_msg_t *)n;
        if (m->kind == SWARM__SIG_TIMEOUT) {
            if (m->to == me && p->timer && m->tag == atomic_load_explicit(&p->wait_seq, memory_order_relaxed))
                news->timed_out = 1;
            swarm__msg_release(s, m);
            continue;
        }
        if (m->kind == SWARM__SIG_IO) {
            /* Not for the fd wait under way: a late one (io/ keeps the
             * readiness it stood for). */
            if (m->to == me && mt && mt->kind == SWARM_WAIT_FD && m->corr == mt->corr)
                news->io |= m->tag;
            swarm__msg_release(s, m);
            continue;
        }
        if (m->to != me || (m->kind == SWARM__SIG_REPLY && m->corr != p->call_corr)) {
            drop_stale(s, m); /* for the slot's previous owner, or a late reply */
            continue;
        }
        if (SWARM__SIG_IS_SIGNAL(m->kind) && !(m = swarm__sig_handle(s, p, m)))
            continue;
        return m;
    }
    return NULL;
}

void swarm__msg_take_queue(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm_pid_t me = swarm__ptable_pid(p);
    wait_news_t news = {0}; /* (no wait is under way: any timeout or IO notice is a late one) */
    swarm_msg_t *m;
    while ((m = next_entry(s, p, me, NULL, &news))) {
        swarm__msg_save_append(s, p, m);
    }
}

/* The park's commit hook of a receive, on the scheduler's stack after the
 * switch: mark the mailbox EMPTY, which succeeds only if nothing was
 * pushed since the receiver last looked; from then on the one push that
 * finds the mark wakes it (mbox/mailbox.h, models/proc_park.pml). */
static int mbox_commit(swarm__proc_t *p, void *ctx)
{
    (void)ctx;
    return swarm__mbox_mark_empty(&p->mbox);
}

/* The receive loop behind swarm_recv*, and swarm_sleep (a receive that
 * matches nothing). Entries are examined oldest first: the save list, then
 * the queue; a timeout signal of the current wait ends it, and so does,
 * in an fd wait (SWARM_WAIT_FD), its IO notice: then it returns 1 with the
 * notice's events in *io. */
static int recv_common(const matcher_t *mt, swarm_msg_t **out, int64_t timeout_ms, uint32_t *io)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!out || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    swarm_t *sw = s->swarm;
    swarm_pid_t me = swarm__ptable_pid(p);
    /* SWARM__NEVER: no timer (SWARM_INFINITE, or a deadline too far to represent). */
    int64_t deadline = timeout_ms > 0 ? deadline_ms(sw, timeout_ms) : SWARM__NEVER;
    wait_news_t news = {0};

    for (;;) {
        for (swarm_msg_t *m = scan_start(p, mt); m; m = m->lnext) {
            if (matches(mt, m)) {
                save_unlink(p, m);
                swarm__timer_disarm(p);
                deliver(s, p, m, out);
                swarm__sched_spend(s, 1);
                return 0;
            }
        }
        swarm_msg_t *m;
        while ((m = next_entry(s, p, me, mt, &news))) {
            if (matches(mt, m)) {
                swarm__timer_disarm(p);
                deliver(s, p, m, out);
                swarm__sched_spend(s, 1);
                return 0;
            }
            save_push(p, m);
        }
        if (news.io) {
            swarm__timer_disarm(p);
            *io = news.io;
            swarm__sched_spend(s, 1);
            return 1;
        }
        if (timeout_ms == 0)
            return SWARM_ETIMEDOUT;
        if (news.timed_out || (deadline != SWARM__NEVER && swarm__now_ms(sw) >= deadline)) {
            swarm__timer_disarm(p);
            p->wait_kind = SWARM_WAIT_NONE;
            return SWARM_ETIMEDOUT;
        }
        if (swarm__mbox_busy(&p->mbox)) {
            /* A sender is between its exchange and its link: let it run. */
            swarm__sched_switch_out(s, p, SWARM__ACT_YIELD);
            s = swarm__sched_self();
            continue;
        }
        /* Arm once per wait; spurious wake-ups keep the same timer. */
        if (deadline != SWARM__NEVER && !p->timer && swarm__timer_arm(s, p, deadline, post_timeout) != 0) {
            /* No memory for a timer: poll instead of parking. */
            swarm__sched_switch_out(s, p, SWARM__ACT_YIELD);
            s = swarm__sched_self();
            continue;
        }
        /* The scheduler marks the mailbox empty once we are switched out
         * (or resumes us at once if something arrived). */
        p->wait_kind = (uint8_t)mt->kind;
        p->wait_tag = mt->tag;
        if (!mt->no_compact)
            swarm__compact_park(sw, p); /* woken through the mailbox only */
        swarm__sched_park(s, p, mbox_commit, NULL);
        s = swarm__sched_self();
        swarm__compact_unpark(sw, p);
    }
}

int swarm_recv(swarm_msg_t **out, int64_t timeout_ms)
{
    matcher_t mt = {.kind = SWARM_WAIT_RECV};
    return recv_common(&mt, out, timeout_ms, NULL);
}

int swarm_recv_tag(uint32_t tag, swarm_msg_t **out, int64_t timeout_ms)
{
    matcher_t mt = {.kind = SWARM_WAIT_RECV_TAG, .tag = tag};
    return recv_common(&mt, out, timeout_ms, NULL);
}

int swarm__msg_recv_call(uint32_t corr, const swarm_ref_t *mon, uint64_t mark, swarm_msg_t **out,
                         int64_t timeout_ms)
{
    swarm__proc_t *p = swarm__sched_current();
    if (!p)
        return SWARM_ENOTPROC;
    matcher_t mt = {.kind = SWARM_WAIT_CALL, .corr = corr, .mon = mon, .marked = 1, .mark = mark};
    p->call_corr = corr;
    int r = recv_common(&mt, out, timeout_ms, NULL);
    p->call_corr = 0;
    return r;
}

int swarm__msg_recv_io(uint32_t token, int msgs, uint32_t *events, swarm_msg_t **out, int64_t timeout_ms,
                       int compact)
{
    matcher_t mt = {.kind = SWARM_WAIT_FD, .corr = token, .msgs = msgs, .no_compact = !compact};
    swarm_msg_t *unused;
    *events = 0;
    return recv_common(&mt, out ? out : &unused, timeout_ms, events);
}

uint64_t swarm__msg_mark(void)
{
    swarm__sched_t *s = swarm__sched_self();
    swarm__msg_take_queue(s, s->current);
    return s->current->save_seq;
}

/* A mark's words: who took it and where its mailbox was. */
_Static_assert(sizeof(swarm_recv_mark_t) == 16, "swarm_recv_mark_t is two 64-bit words");

int swarm_recv_mark(swarm_recv_mark_t *mark)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!mark)
        return SWARM_EINVAL;
    swarm__proc_t *me = s->current;
    uint64_t seq = swarm__msg_mark();
    mark->owner = swarm__ptable_pid(me);
    mark->seq = seq;
    swarm__sig_poll(me); /* a switch point, as a receive */
    return 0;
}

/* Marks older than this many joins cannot be told apart from new ones by
 * the 32-bit numbers in the messages. */
#define MARK_SPAN ((uint64_t)1 << 31)

int swarm_recv_marked(const swarm_recv_mark_t *mark, swarm_match_fn match, void *ctx, swarm_msg_t **out,
                      int64_t timeout_ms)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!mark || mark->owner == SWARM_PID_NONE)
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    if (mark->owner != swarm__ptable_pid(p))
        return SWARM_EPERM;
    if (mark->seq > p->save_seq || p->save_seq - mark->seq >= MARK_SPAN)
        return SWARM_EINVAL;
    matcher_t mt = {.kind = SWARM_WAIT_RECV_MARKED, .fn = match, .ctx = ctx, .marked = 1, .mark = mark->seq};
    return recv_common(&mt, out, timeout_ms, NULL);
}

uint32_t swarm__msg_next_corr(void)
{
    swarm__proc_t *p = swarm__sched_current();
    if (++p->corr_seq == 0)
        p->corr_seq = 1;
    return p->corr_seq;
}

int swarm_recv_match(swarm_match_fn match, void *ctx, swarm_msg_t **out, int64_t timeout_ms)
{
    if (!match)
        return SWARM_EINVAL;
    matcher_t mt = {.kind = SWARM_WAIT_RECV_MATCH, .fn = match, .ctx = ctx};
    return recv_common(&mt, out, timeout_ms, NULL);
}

swarm_pid_t swarm_msg_sender(const swarm_msg_t *m) { return m->from; }
uint32_t swarm_msg_tag(const swarm_msg_t *m) { return m->tag; }
const void *swarm_msg_data(const swarm_msg_t *m) { return m->data; }
size_t swarm_msg_size(const swarm_msg_t *m) { return m->size; }

void swarm_msg_free(swarm_msg_t *m)
{
    if (!m)
        return;
    swarm__proc_t *p = swarm__sched_current();
    if (m->lprev)
        m->lprev->lnext = m->lnext;
    else if (p && p->held == m)
        p->held = m->lnext;
    if (m->lnext)
        m->lnext->lprev = m->lprev;
    swarm__msg_release(swarm__sched_self(), m);
}

int swarm__msg_set_aside(int64_t ms)
{
    /* A receive that matches nothing: messages arriving meanwhile are set
     * aside in order, the timeout ends it. */
    matcher_t mt = {.kind = SWARM_WAIT_SLEEP};
    swarm_msg_t *unused;
    int r = recv_common(&mt, &unused, ms, NULL);
    return r == SWARM_ETIMEDOUT ? 0 : r;
}

static int is_message(const swarm__mnode_t *n, const swarm__mailbox_t *mb)
{
    return n != &mb->stub && SWARM__SIG_COUNTED(((const swarm_msg_t *)n)->kind);
}

size_t swarm_mailbox_len(void)
{
    swarm__proc_t *p = swarm__sched_current();
    return p ? swarm__msg_count(p, NULL) : 0;
}

/* A message's share of *bytes in swarm__msg_count. */
static size_t msg_bytes(const swarm__mnode_t *n, const swarm__mailbox_t *mb)
{
    return is_message(n, mb) ? sizeof(swarm_msg_t) + ((const swarm_msg_t *)n)->size : 0;
}

size_t swarm__msg_count(swarm__proc_t *p, size_t *bytes)
{
    size_t n = p->save_len, b = 0;
    if (bytes) /* (EXIT and DOWN messages made of signals included) */
        for (swarm_msg_t *m = p->save_head; m; m = m->lnext)
            b += sizeof *m + m->size;
    /* Walk the queue from the consumer's end: only the consumer unlinks.
     * (A sender wrote a node's size before its push, which the acquire
     * load of the link that reaches the node pairs with.) */
    swarm__mnode_t *t = p->mbox.tail;
    n += (size_t)is_message(t, &p->mbox);
    b += msg_bytes(t, &p->mbox);
    for (swarm__mnode_t *q = atomic_load_explicit(&t->next, memory_order_acquire); q;
         q = atomic_load_explicit(&q->next, memory_order_acquire)) {
        n += (size_t)is_message(q, &p->mbox);
        b += msg_bytes(q, &p->mbox);
    }
    if (bytes)
        *bytes = b;
    return n;
}

uint64_t swarm__msg_drain(swarm__mailbox_t *mb)
{
    uint64_t n = 0;
    swarm__mnode_t *q;
    swarm__sched_t *s = swarm__sched_self();
    while ((q = swarm__mbox_pop(mb))) {
        n += (uint64_t)is_message(q, mb);
        if (SWARM__SIG_IS_SIGNAL(((swarm_msg_t *)q)->kind))
            swarm__sig_drop(s, (swarm_msg_t *)q);
        else
            swarm__msg_release(s, (swarm_msg_t *)q);
    }
    return n;
}

/* The process is ending (its resource list, ptable/res.h). */
static void msg_exit(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)r;
    swarm_t *sw = p->swarm;
    swarm__timer_drop(s, p);
    swarm__mbound_t *b = swarm__mbound_of(&sw->ptable, p->index);
    if (b) /* parked senders must not wait for room that never comes */
        swarm__mbound_exit(b, swarm__pstate_gen(atomic_load_explicit(&p->state, memory_order_relaxed)));
    uint64_t dropped = 0;
    while (p->held) {
        swarm_msg_t *m = p->held;
        p->held = m->lnext;
        swarm__msg_release(s, m);
    }
    while (p->save_head) {
        swarm_msg_t *m = p->save_head;
        p->save_head = m->lnext;
        dropped += SWARM__SIG_COUNTED(m->kind);
        swarm__msg_release(s, m);
    }
    p->save_tail = NULL;
    p->save_len = 0;
    for (int spins = 0;; spins++) {
        dropped += swarm__msg_drain(&p->mbox);
        /* A sender caught in its push window usually finishes in a moment;
         * whatever is left after a while is dropped (and counted) by the
         * slot's next owner or at destroy. */
        if (!swarm__mbox_busy(&p->mbox) || spins == 1000)
            break;
        SWARM_CPU_RELAX();
    }
    count_dropped(sw, s, dropped);
}

void swarm__msg_attach(swarm__proc_t *p)
{
    p->msg_res.release = msg_exit;
    swarm__res_add(&p->res, &p->msg_res);
}
