/*
 * sync/sync.c - mutex, condition variable and semaphore for processes
 * (swarmrt/sync.h), on chan/'s wait queue (chan/waitq.h,
 * docs/design/chan.md).
 *
 * Every wait has the same shape: under the object's lock, take what is
 * free or queue a node and park (the hook marks the mailbox EMPTY and
 * releases the lock); whoever frees something claims the oldest waiter,
 * completes its operation (a semaphore unit is the waiter's) and wakes
 * it. A node not marked done was woken by something else (a message, a
 * signal, its timer): the loop looks again.
 *
 * The mutex wakes its oldest waiter to try again rather than handing
 * itself over: a running process that finds it free takes it (barging),
 * so a process that unlocks and locks again in a loop does not switch
 * out at every lock (a lock convoy: docs/design/chan.md, "Mutex"). A
 * woken waiter that loses goes back to the front of the queue; once one
 * has waited more than MUTEX_STARVE_MS, unlocks hand the mutex straight
 * to the oldest waiter (strict FIFO) until the queue drains or a waiter
 * is served quickly again. Only one woken waiter is on its way at a time.
 *
 * Owner death: a held mutex is on its owner's resource list; the owner's
 * exit, whatever caused it, releases it with "owner died", which the next
 * owner is told as SWARM_EOWNERDEAD.
 */
#include "swarmrt/sync.h"

#include <stddef.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "chan/waitq.h"
#include "msg/sig.h"
#include "swarmrt/error.h"
#include "swarmrt/msg.h"

struct swarm_mutex {
    _Atomic uint32_t lock;
    swarm_pid_t owner;     /* [lock] SWARM_PID_NONE: free */
    uint8_t dead;          /* [lock] free because its owner ended holding it */
    uint8_t woken;         /* [lock] a waiter was woken to try again and has not looked yet */
    uint8_t starving;      /* [lock] hand-over mode: an unlock gives m to the oldest waiter */
    swarm__res_t res;      /* on the owner's resource list (only the owner touches it) */
    swarm__waitq_t q;      /* [lock] */
};

struct swarm_cond {
    _Atomic uint32_t lock;
    swarm__waitq_t q;      /* [lock] */
};

struct swarm_sem {
    _Atomic uint32_t lock;
    uint32_t count;        /* [lock] */
    _Atomic uint32_t value; /* a copy of count for swarm_sem_value */
    swarm__waitq_t q;      /* [lock] */
};

/* The running process, or NULL. */
static swarm__proc_t *self_proc(swarm__sched_t *s) { return s ? s->current : NULL; }

static void node_init(swarm__waiter_t *w, swarm__proc_t *p, _Atomic uint32_t *lock,
                      void (*release)(swarm__res_t *, swarm__proc_t *, swarm__sched_t *))
{
    *w = (swarm__waiter_t){.p = p, .pid = swarm__ptable_pid(p), .lock = lock};
    w->res.release = release;
}

/* Queue w on q (lock held; at the front if front, else at the tail), park,
 * take w off again. Returns 1 if w was served (its result is valid), 0 if
 * the process was woken for another reason. s is stale afterwards. */
static int park_on(swarm__sched_t *s, swarm__proc_t *p, swarm__waitq_t *q, swarm__waiter_t *w, int front)
{
    if (front)
        swarm__waitq_push_front(q, w);
    else
        swarm__waitq_push(q, w);
    swarm__res_add(&p->res, &w->res);
    swarm__waitq_park(s, p, &w->lock, 1, SWARM_WAIT_SYNC);
    swarm__waitq_lock(w->lock);
    if (w->q)
        swarm__waitq_remove(w->q, w);
    int done = w->done;
    swarm__waitq_unlock(w->lock);
    swarm__res_remove(&p->res, &w->res);
    return done;
}

static int expired(swarm__sched_t *s, int64_t deadline)
{
    return deadline != SWARM__NEVER && swarm__now_ms(s->swarm) >= deadline;
}

/* After a wait (any outcome): its timer goes, and the call is a switch point. */
static int wait_end(swarm__proc_t *p, int r)
{
    p->wait_kind = SWARM_WAIT_NONE;
    swarm__timer_disarm(p);
    swarm__sched_t *s = swarm__sched_self();
    swarm__sched_spend(s, 1);
    swarm__sig_poll(p);
    return r;
}

/* ---- mutex ---- */

static void mutex_owner_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s);

int swarm_mutex_create(swarm_mutex_t **out)
{
    if (!out)
        return SWARM_EINVAL;
    swarm_mutex_t *m = swarm__calloc(1, sizeof *m);
    if (!m)
        return SWARM_ENOMEM;
    m->owner = SWARM_PID_NONE;
    m->res.release = mutex_owner_release;
    *out = m;
    return 0;
}

int swarm_mutex_destroy(swarm_mutex_t *m)
{
    if (!m)
        return SWARM_EINVAL;
    swarm__waitq_lock(&m->lock);
    int busy = m->owner != SWARM_PID_NONE || m->q.head;
    swarm__waitq_unlock(&m->lock);
    if (busy)
        return SWARM_EBUSY;
    swarm__free(m);
    return 0;
}

/* A woken waiter's result: it was woken to try again, it does not own m. */
#define MUTEX_RETRY 1
/* A waiter that has waited longer than this (ms) makes unlocks hand m over. */
#define MUTEX_STARVE_MS 1

/* m's owner lets go (dead: it ended holding m). Under m's lock; returns
 * the waiter to wake after unlocking, or NULL. Normal mode: m is free and
 * the oldest waiter is woken to try again (unless one is already on its
 * way). Starving: the oldest waiter is the owner at once. can_wake 0:
 * nobody is woken (a swarm being destroyed: its processes are not). */
static swarm__waiter_t *mutex_let_go(swarm_mutex_t *m, int dead, int can_wake)
{
    m->owner = SWARM_PID_NONE;
    m->dead = (uint8_t)dead;
    if (!can_wake || (m->woken && !m->starving))
        return NULL;
    swarm__waiter_t *w = swarm__waitq_take(&m->q);
    if (!w) {
        m->starving = 0;
        return NULL;
    }
    w->done = 1;
    if (m->starving) {
        m->owner = w->pid;
        m->dead = 0;
        w->result = dead ? SWARM_EOWNERDEAD : 0;
    } else {
        m->woken = 1;
        w->result = MUTEX_RETRY;
    }
    return w;
}

/* The owner ended holding m (its resource list: return, crash, kill, destroy). */
static void mutex_owner_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    swarm_mutex_t *m = SWARM_CONTAINER_OF(r, swarm_mutex_t, res);
    swarm__waitq_lock(&m->lock);
    swarm__waiter_t *w = mutex_let_go(m, 1, s != NULL);
    swarm__waitq_unlock(&m->lock);
    if (w)
        swarm__waitq_wake(w);
}

/* A mutex waiter's node: its process ended queued, or woken but before it
 * ran (kill, destroy): a woken waiter's turn passes to the next one, and
 * an m handed over passes on as from a dead owner. */
static void mutex_waiter_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    swarm__waiter_t *w = SWARM_CONTAINER_OF(r, swarm__waiter_t, res);
    swarm_mutex_t *m = SWARM_CONTAINER_OF(w->lock, swarm_mutex_t, lock);
    swarm__waiter_t *next = NULL;
    swarm__waitq_lock(&m->lock);
    if (w->q) {
        swarm__waitq_remove(w->q, w);
    } else if (w->done && w->result == MUTEX_RETRY) {
        m->woken = 0;
        if (m->owner == SWARM_PID_NONE)
            next = mutex_let_go(m, m->dead, s != NULL);
    } else if (w->done && m->owner == w->pid) {
        next = mutex_let_go(m, 1, s != NULL);
    }
    swarm__waitq_unlock(&m->lock);
    if (next)
        swarm__waitq_wake(next);
}

/* Lock m by deadline (the swarm's ms, SWARM__NEVER: none; MUTEX_LAZY:
 * timeout_ms from the first wait on, so that a lock that does not wait
 * reads no clock); try: once. */
#define MUTEX_LAZY (SWARM__NEVER - 1)
static int mutex_lock_until(swarm__sched_t *s, swarm__proc_t *p, swarm_mutex_t *m, int64_t deadline,
                            int64_t timeout_ms, int try)
{
    swarm_pid_t me = swarm__ptable_pid(p);
    swarm__waiter_t w;
    int waited = 0; /* parked before: the deadline may have passed, and a loser goes to the front */
    int64_t since = 0;
    int r;
    for (;;) {
        swarm__waitq_mailbox(s, p); /* signals take effect; may end p */
        swarm__waitq_lock(&m->lock);
        if (m->owner == me) {
            swarm__waitq_unlock(&m->lock);
            r = SWARM_EDEADLK;
            break;
        }
        if (m->owner == SWARM_PID_NONE) {
            r = m->dead ? SWARM_EOWNERDEAD : 0;
            m->dead = 0;
            m->owner = me;
            swarm__waitq_unlock(&m->lock);
            swarm__res_add(&p->res, &m->res);
            break;
        }
        if (try || (waited && expired(s, deadline))) {
            swarm__waitq_unlock(&m->lock);
            r = try ? SWARM_EAGAIN : SWARM_ETIMEDOUT;
            break;
        }
        if (deadline == MUTEX_LAZY)
            deadline = swarm__waitq_deadline(s->swarm, timeout_ms);
        if (swarm__waitq_arm(s, p, deadline) != 0) {
            swarm__waitq_unlock(&m->lock);
            swarm__sched_switch_out(s, p, SWARM__ACT_YIELD); /* no memory for a timer: poll */
            s = swarm__sched_self();
            waited = 1;
            continue;
        }
        int64_t now = swarm__now_ms(s->swarm);
        if (!waited)
            since = now;
        else if (now - since > MUTEX_STARVE_MS)
            m->starving = 1; /* from the next unlock on, m is handed over */
        node_init(&w, p, &m->lock, mutex_waiter_release);
        int served = park_on(s, p, &m->q, &w, waited);
        waited = 1;
        s = swarm__sched_self();
        if (!served)
            continue;
        swarm__waitq_lock(&m->lock);
        if (w.result == MUTEX_RETRY) {
            m->woken = 0; /* before anything can end p: see mutex_waiter_release */
            swarm__waitq_unlock(&m->lock);
            continue;
        }
        /* Handed over (starving): m is ours. Served quickly, or the last
         * waiter: back to the normal mode. */
        if (!m->q.head || swarm__now_ms(s->swarm) - since <= MUTEX_STARVE_MS)
            m->starving = 0;
        swarm__waitq_unlock(&m->lock);
        swarm__res_add(&p->res, &m->res);
        r = w.result;
        break;
    }
    return r;
}

int swarm_mutex_lock(swarm_mutex_t *m, int64_t timeout_ms)
{
    if (!m || timeout_ms < 0)
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = self_proc(s);
    if (!p)
        return SWARM_ENOTPROC;
    /* The call's switch point comes before m is taken: a process switched
     * out holding m would make every other locker wait for it. */
    swarm__sched_spend(s, 1);
    s = swarm__sched_self();
    int r = mutex_lock_until(s, p, m, timeout_ms ? MUTEX_LAZY : SWARM__NEVER, timeout_ms, timeout_ms == 0);
    p->wait_kind = SWARM_WAIT_NONE;
    if (p->timer)
        swarm__timer_disarm(p);
    swarm__sig_poll(p);
    return r;
}

/* Unlock m if p holds it: 0, or SWARM_EPERM. One lock round: the owner
 * check and the let-go in the same critical section. */
static int mutex_unlock_by(swarm__proc_t *p, swarm_mutex_t *m)
{
    swarm__waitq_lock(&m->lock);
    if (m->owner != swarm__ptable_pid(p)) {
        swarm__waitq_unlock(&m->lock);
        return SWARM_EPERM;
    }
    /* Off our list before m is free: the next owner puts the same node
     * on its own list. */
    swarm__res_remove(&p->res, &m->res);
    swarm__waiter_t *w = mutex_let_go(m, 0, 1);
    swarm__waitq_unlock(&m->lock);
    if (w)
        swarm__waitq_wake(w);
    return 0;
}

/* Does p hold m? (Only p can make it true or false: no lock needed for a
 * yes; the lock orders the read against a hand-over to p.) */
static int mutex_held_by(swarm_mutex_t *m, swarm__proc_t *p)
{
    swarm__waitq_lock(&m->lock);
    int held = m->owner == swarm__ptable_pid(p);
    swarm__waitq_unlock(&m->lock);
    return held;
}

int swarm_mutex_unlock(swarm_mutex_t *m)
{
    if (!m)
        return SWARM_EINVAL;
    swarm__proc_t *p = self_proc(swarm__sched_self());
    if (!p)
        return SWARM_ENOTPROC;
    return mutex_unlock_by(p, m);
}

/* ---- condition variable ---- */

int swarm_cond_create(swarm_cond_t **out)
{
    if (!out)
        return SWARM_EINVAL;
    swarm_cond_t *c = swarm__calloc(1, sizeof *c);
    if (!c)
        return SWARM_ENOMEM;
    *out = c;
    return 0;
}

int swarm_cond_destroy(swarm_cond_t *c)
{
    if (!c)
        return SWARM_EINVAL;
    swarm__waitq_lock(&c->lock);
    int busy = c->q.head != NULL;
    swarm__waitq_unlock(&c->lock);
    if (busy)
        return SWARM_EBUSY;
    swarm__free(c);
    return 0;
}

static void cond_waiter_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    swarm__waiter_t *w = SWARM_CONTAINER_OF(r, swarm__waiter_t, res);
    swarm__waitq_lock(w->lock);
    if (w->q)
        swarm__waitq_remove(w->q, w);
    swarm__waitq_unlock(w->lock);
}

int swarm_cond_wait(swarm_cond_t *c, swarm_mutex_t *m, int64_t timeout_ms)
{
    if (!c || !m || (timeout_ms < 0 && timeout_ms != SWARM_INFINITE))
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = self_proc(s);
    if (!p)
        return SWARM_ENOTPROC;
    if (!mutex_held_by(m, p))
        return SWARM_EPERM;
    int64_t deadline = swarm__waitq_deadline(s->swarm, timeout_ms);
    swarm__waiter_t w;
    int signalled = 0, first = 1;
    for (;;) {
        if (!first) {
            swarm__waitq_mailbox(s, p); /* signals take effect; may end p (m is not held) */
            if (expired(s, deadline))
                break;
        }
        if (swarm__waitq_arm(s, p, deadline) != 0) {
            swarm__sched_switch_out(s, p, SWARM__ACT_YIELD); /* no memory for a timer: poll */
            s = swarm__sched_self();
            continue;
        }
        swarm__waitq_lock(&c->lock);
        if (first) {
            /* Queued before m is let go: a signal after our unlock finds us. */
            node_init(&w, p, &c->lock, cond_waiter_release);
            swarm__waitq_push(&c->q, &w);
            mutex_unlock_by(p, m); /* held: checked above */
            swarm__waitq_remove(&c->q, &w); /* (park_on queues it again) */
            first = 0;
        } else {
            node_init(&w, p, &c->lock, cond_waiter_release);
        }
        if (park_on(s, p, &c->q, &w, 0)) {
            signalled = 1;
            s = swarm__sched_self();
            break;
        }
        s = swarm__sched_self();
    }
    swarm__timer_disarm(p);
    int r = mutex_lock_until(s, p, m, deadline, 0, 0);
    if (r == SWARM_ETIMEDOUT)
        r = SWARM_EBUSY;
    else if (r == 0)
        r = signalled ? 0 : SWARM_ETIMEDOUT;
    return wait_end(p, r);
}

static int cond_wake(swarm_cond_t *c, int all)
{
    if (!c)
        return SWARM_EINVAL;
    swarm__waiter_t *wake = NULL, *w;
    swarm__waitq_lock(&c->lock);
    while ((w = swarm__waitq_take(&c->q))) {
        w->result = 0;
        w->done = 1;
        w->wnext = wake;
        wake = w;
        if (!all)
            break;
    }
    swarm__waitq_unlock(&c->lock);
    swarm__waitq_wake_list(wake);
    return 0;
}

int swarm_cond_signal(swarm_cond_t *c) { return cond_wake(c, 0); }
int swarm_cond_broadcast(swarm_cond_t *c) { return cond_wake(c, 1); }

/* ---- semaphore ---- */

int swarm_sem_create(swarm_sem_t **out, uint32_t count)
{
    if (!out || count > SWARM_SEM_MAX)
        return SWARM_EINVAL;
    swarm_sem_t *sem = swarm__calloc(1, sizeof *sem);
    if (!sem)
        return SWARM_ENOMEM;
    sem->count = count;
    atomic_init(&sem->value, count);
    *out = sem;
    return 0;
}

int swarm_sem_destroy(swarm_sem_t *sem)
{
    if (!sem)
        return SWARM_EINVAL;
    swarm__waitq_lock(&sem->lock);
    int busy = sem->q.head != NULL;
    swarm__waitq_unlock(&sem->lock);
    if (busy)
        return SWARM_EBUSY;
    swarm__free(sem);
    return 0;
}

uint32_t swarm_sem_value(swarm_sem_t *sem)
{
    return atomic_load_explicit(&sem->value, memory_order_relaxed);
}

/* Under sem's lock: n units to the oldest waiters, the rest to count.
 * Served waiters join *wake (can_wake 0: none are, destroy). */
static void sem_give(swarm_sem_t *sem, uint32_t n, swarm__waiter_t **wake, int can_wake)
{
    swarm__waiter_t *w;
    for (; n && can_wake && (w = swarm__waitq_take(&sem->q)); n--) {
        w->result = 0;
        w->done = 1;
        w->wnext = *wake;
        *wake = w;
    }
    sem->count += n;
    atomic_store_explicit(&sem->value, sem->count, memory_order_relaxed);
}

/* A waiter ended queued, or after it was given a unit but before it ran
 * (destroy): the unit goes back. */
static void sem_waiter_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    swarm__waiter_t *w = SWARM_CONTAINER_OF(r, swarm__waiter_t, res);
    swarm_sem_t *sem = SWARM_CONTAINER_OF(w->lock, swarm_sem_t, lock);
    swarm__waiter_t *wake = NULL;
    swarm__waitq_lock(&sem->lock);
    if (w->q)
        swarm__waitq_remove(w->q, w);
    else if (w->done)
        sem_give(sem, 1, &wake, s != NULL);
    swarm__waitq_unlock(&sem->lock);
    swarm__waitq_wake_list(wake);
}

int swarm_sem_wait(swarm_sem_t *sem, int64_t timeout_ms)
{
    if (!sem || (timeout_ms < 0 && timeout_ms != SWARM_INFINITE))
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = self_proc(s);
    if (timeout_ms != 0 && !p)
        return SWARM_ENOTPROC;
    int64_t deadline = timeout_ms ? swarm__waitq_deadline(s->swarm, timeout_ms) : SWARM__NEVER;
    swarm__waiter_t w;
    int r;
    for (;;) {
        if (p)
            swarm__waitq_mailbox(s, p); /* signals take effect; may end p */
        swarm__waitq_lock(&sem->lock);
        if (sem->count > 0) {
            sem->count--;
            atomic_store_explicit(&sem->value, sem->count, memory_order_relaxed);
            swarm__waitq_unlock(&sem->lock);
            r = 0;
            break;
        }
        if (timeout_ms == 0 || expired(s, deadline)) {
            swarm__waitq_unlock(&sem->lock);
            r = timeout_ms == 0 ? SWARM_EAGAIN : SWARM_ETIMEDOUT;
            break;
        }
        if (swarm__waitq_arm(s, p, deadline) != 0) {
            swarm__waitq_unlock(&sem->lock);
            swarm__sched_switch_out(s, p, SWARM__ACT_YIELD); /* no memory for a timer: poll */
            s = swarm__sched_self();
            continue;
        }
        node_init(&w, p, &sem->lock, sem_waiter_release);
        int served = park_on(s, p, &sem->q, &w, 0);
        s = swarm__sched_self();
        if (served) {
            r = 0;
            break;
        }
    }
    return p ? wait_end(p, r) : r;
}

int swarm_sem_post(swarm_sem_t *sem, uint32_t n)
{
    if (!sem || !n)
        return SWARM_EINVAL;
    swarm__waiter_t *wake = NULL;
    swarm__waitq_lock(&sem->lock);
    if ((uint64_t)sem->count + n > SWARM_SEM_MAX) {
        swarm__waitq_unlock(&sem->lock);
        return SWARM_EINVAL;
    }
    sem_give(sem, n, &wake, 1);
    swarm__waitq_unlock(&sem->lock);
    swarm__waitq_wake_list(wake);
    return 0;
}
