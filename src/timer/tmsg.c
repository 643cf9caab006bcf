/*
 * timer/tmsg.c - timer messages (swarmrt/timer.h: send_after,
 * start_timer, send_interval, cancel (also with the answer as a
 * message), read).
 *
 * A timer is a record in its swarm's table, keyed by ref, and an entry on
 * the wheel of the scheduler that armed it (sched/timers.c,
 * swarm__timer_arm_ctx). A wheel entry cannot be removed from another
 * thread, so cancel only marks the record; the entry still fires, sees
 * the mark, and the record goes then. The table lock orders cancel, read
 * and fire. Records left at destroy (their entries never fire) are freed
 * with the table.
 */
#include <string.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "msg/msg.h"
#include "ptable/names.h"
#include "ptable/registry.h"
#include "sched/sched.h"
#include "swarmrt.h"
#include "timer/tmsg.h"

enum { T_ACTIVE = 0, T_CANCELLED = 1, T_FIRING = 2 };
enum { K_AFTER = 0, K_START = 1, K_INTERVAL = 2 };

typedef struct swarm__tmsg {
    struct swarm__tmsg *next; /* hash chain [tmsg_lock] */
    swarm_t *sw;
    swarm_ref_t ref;
    swarm_pid_t to;       /* or, with by_name, */
    swarm_atom_t name;    /* the name it is resolved from when it fires */
    int by_name;
    uint32_t tag;
    int kind;
    int state;            /* [tmsg_lock] */
    int64_t deadline;     /* the swarm's ms clock [tmsg_lock] */
    int64_t interval;
    size_t size;
    unsigned char data[]; /* for K_START: the body a SWARM_TAG_TIMER message carries */
} tmsg_t;

/* The body of a SWARM_TAG_TIMER message. */
typedef struct timer_body {
    swarm_ref_t ref;
    uint32_t tag;
    unsigned char data[];
} timer_body_t;

static size_t bucket(const swarm_t *sw, swarm_ref_t r) { return (r.w[0] * 2654435761u ^ r.w[1]) & (sw->tmsg_cap - 1); }

/* [lock] The record of ref, or NULL. */
static tmsg_t **find(swarm_t *sw, swarm_ref_t ref)
{
    if (!sw->tmsg_tab)
        return NULL;
    for (tmsg_t **pp = &sw->tmsg_tab[bucket(sw, ref)]; *pp; pp = &(*pp)->next)
        if (swarm_ref_eq((*pp)->ref, ref))
            return pp;
    return NULL;
}

/* [lock] Room for one more: grow at load 1. */
static int reserve(swarm_t *sw)
{
    if (sw->tmsg_tab && sw->tmsg_n < sw->tmsg_cap)
        return 0;
    size_t cap = sw->tmsg_cap ? sw->tmsg_cap * 2 : 64;
    tmsg_t **tab = swarm__calloc(cap, sizeof *tab);
    if (!tab)
        return SWARM_ENOMEM;
    size_t old = sw->tmsg_cap;
    tmsg_t **otab = sw->tmsg_tab;
    sw->tmsg_tab = tab;
    sw->tmsg_cap = cap;
    for (size_t i = 0; i < old; i++) {
        for (tmsg_t *t = otab[i], *next; t; t = next) {
            next = t->next;
            size_t b = bucket(sw, t->ref);
            t->next = tab[b];
            tab[b] = t;
        }
    }
    swarm__free(otab);
    return 0;
}

/* [lock] Take t off the table and free it. */
static void unlink_free(swarm_t *sw, tmsg_t *t)
{
    tmsg_t **pp = find(sw, t->ref);
    if (pp) {
        *pp = t->next;
        sw->tmsg_n--;
    }
    swarm__free(t);
}

/* Is the target alive? (A timer whose target ended is gone.) */
static int target_alive(swarm_pid_t pid) { return swarm_is_alive(pid); }

/* The wheel fires a timer (a scheduler thread, its wheel locked). */
static int fire(void *ctx, int64_t now, int64_t *deadline)
{
    tmsg_t *t = ctx;
    swarm_t *sw = t->sw;
    pthread_mutex_lock(&sw->tmsg_lock);
    if (t->state == T_CANCELLED) {
        unlink_free(sw, t);
        pthread_mutex_unlock(&sw->tmsg_lock);
        return 0;
    }
    /* Gone for read and cancel before its message can be seen (a one-shot
     * timer; an interval stays active). */
    if (t->kind != K_INTERVAL)
        t->state = T_FIRING;
    pthread_mutex_unlock(&sw->tmsg_lock);
    swarm_pid_t to = t->by_name ? swarm__names_find(&sw->ptable.names, t->name) : t->to;
    int rc = to == SWARM_PID_NONE ? SWARM_ESRCH /* no process has the name now: dropped */
             : t->kind == K_START ? swarm__msg_send_kind(to, SWARM__SIG_MSG, SWARM_TAG_TIMER, 0, t->data, t->size)
                                  : swarm__msg_send_kind(to, SWARM__SIG_MSG, t->tag, 0, t->data, t->size);
    if (rc == SWARM_ENOMEM) { /* try again on the next tick */
        pthread_mutex_lock(&sw->tmsg_lock);
        if (t->state == T_FIRING)
            t->state = T_ACTIVE;
        pthread_mutex_unlock(&sw->tmsg_lock);
        *deadline = now + 1;
        return 1;
    }
    pthread_mutex_lock(&sw->tmsg_lock);
    if (t->kind == K_INTERVAL && rc == 0 && t->state == T_ACTIVE) {
        t->deadline += t->interval;
        if (t->deadline <= now)
            t->deadline = now + 1; /* (fell behind: no burst of catch-up sends) */
        *deadline = t->deadline;
        pthread_mutex_unlock(&sw->tmsg_lock);
        return 1;
    }
    unlink_free(sw, t);
    pthread_mutex_unlock(&sw->tmsg_lock);
    return 0;
}

/* pid, or (pid SWARM_PID_NONE, by_name) the name, resolved at fire. */
static int arm(int kind, int64_t ms, swarm_pid_t pid, int by_name, swarm_atom_t name, uint32_t tag, const void *data,
               size_t size, swarm_ref_t *ref)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (ms < 0 || (kind == K_INTERVAL && ms == 0) || tag >= SWARM_TAG_SYSTEM || (!data && size) ||
        (!by_name && pid == SWARM_PID_NONE))
        return SWARM_EINVAL;
    swarm_t *sw = s->swarm;
    size_t limit = sw->cfg.max_msg_size; /* (a name is resolved in the caller's swarm) */
    int alive = 1, rc = 0;
    if (!by_name) { /* the target's swarm decides the size limit */
        swarm__target_t tg;
        rc = swarm__pid_resolve(pid, sw->id, &tg);
        if (rc == SWARM_EINVAL)
            return rc;
        limit = rc == 0 ? tg.sw->cfg.max_msg_size : SIZE_MAX;
        alive = rc == 0 && tg.p && tg.live;
        if (rc == 0 && !tg.p)
            rc = SWARM_EINVAL;
        swarm__pid_release(&tg);
        if (rc == SWARM_EINVAL)
            return rc;
    }
    size_t body = kind == K_START ? sizeof(timer_body_t) + size : size;
    if (size > limit || body > limit)
        return SWARM_EMSGSIZE;
    swarm_ref_t r = swarm_make_ref();
    if (ref)
        *ref = r;
    if (!alive)
        return 0; /* Erlang: a ref, and a timer that is gone at once */
    tmsg_t *t = swarm__malloc(sizeof *t + body);
    if (!t)
        return SWARM_ENOMEM;
    *t = (tmsg_t){.sw = sw, .ref = r, .to = pid, .name = name, .by_name = by_name, .tag = tag, .kind = kind,
                  .state = T_ACTIVE, .interval = ms, .size = body};
    if (kind == K_START) {
        timer_body_t b = {.ref = r, .tag = tag};
        memcpy(t->data, &b, sizeof b);
        if (size)
            memcpy(t->data + sizeof b, data, size);
    } else if (size) {
        memcpy(t->data, data, size);
    }
    int64_t now = swarm__now_ms(sw);
    t->deadline = swarm__deadline_ms(now, ms);
    if (t->deadline == SWARM__NEVER)
        t->deadline = INT64_MAX - 1; /* (beyond the clock: never in practice) */
    pthread_mutex_lock(&sw->tmsg_lock);
    rc = reserve(sw);
    if (rc == 0) {
        size_t b = bucket(sw, r);
        t->next = sw->tmsg_tab[b];
        sw->tmsg_tab[b] = t;
        sw->tmsg_n++;
    }
    pthread_mutex_unlock(&sw->tmsg_lock);
    if (rc != 0) {
        swarm__free(t);
        return rc;
    }
    rc = swarm__timer_arm_ctx(s, t->deadline, fire, t);
    if (rc != 0) {
        pthread_mutex_lock(&sw->tmsg_lock);
        unlink_free(sw, t);
        pthread_mutex_unlock(&sw->tmsg_lock);
    }
    return rc;
}

int swarm_send_after(int64_t ms, swarm_pid_t pid, uint32_t tag, const void *data, size_t size, swarm_ref_t *ref)
{
    return arm(K_AFTER, ms, pid, 0, 0, tag, data, size, ref);
}

int swarm_send_after_name(int64_t ms, swarm_atom_t name, uint32_t tag, const void *data, size_t size,
                          swarm_ref_t *ref)
{
    return arm(K_AFTER, ms, SWARM_PID_NONE, 1, name, tag, data, size, ref);
}

int swarm_start_timer(int64_t ms, swarm_pid_t pid, uint32_t tag, const void *data, size_t size, swarm_ref_t *ref)
{
    return arm(K_START, ms, pid, 0, 0, tag, data, size, ref);
}

int swarm_send_interval(int64_t ms, swarm_pid_t pid, uint32_t tag, const void *data, size_t size, swarm_ref_t *ref)
{
    return arm(K_INTERVAL, ms, pid, 0, 0, tag, data, size, ref);
}

/* read (cancel 0) or cancel (1). */
static int lookup(swarm_ref_t ref, int64_t *left, int cancel)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    swarm_t *sw = s->swarm;
    int rc = SWARM_ENOENT;
    pthread_mutex_lock(&sw->tmsg_lock);
    tmsg_t **pp = find(sw, ref);
    tmsg_t *t = pp ? *pp : NULL;
    if (t && t->state == T_ACTIVE && (t->by_name || target_alive(t->to))) {
        int64_t l = t->deadline - swarm__now_ms(sw);
        if (left)
            *left = l > 0 ? l : 0;
        if (cancel)
            t->state = T_CANCELLED; /* the wheel entry frees it when it fires */
        rc = 0;
    }
    pthread_mutex_unlock(&sw->tmsg_lock);
    return rc;
}

int swarm_cancel_timer(swarm_ref_t ref, int64_t *left) { return lookup(ref, left, 1); }
int swarm_read_timer(swarm_ref_t ref, int64_t *left) { return lookup(ref, left, 0); }

int swarm_cancel_timer_async(swarm_ref_t ref)
{
    swarm_cancel_timer_result_t res = {.ref = ref, .left = -1};
    /* (lookup writes left only when it finds the timer.) */
    if (lookup(ref, &res.left, 1) == SWARM_ENOTPROC)
        return SWARM_ENOTPROC;
    return swarm__msg_send_kind(swarm_self(), SWARM__SIG_MSG, SWARM_TAG_CANCEL_TIMER, 0, &res, sizeof res);
}

int swarm_msg_cancel_timer(const swarm_msg_t *m, swarm_ref_t *ref, int64_t *left)
{
    if (!m || m->kind != SWARM__SIG_MSG || m->tag != SWARM_TAG_CANCEL_TIMER ||
        m->size != sizeof(swarm_cancel_timer_result_t))
        return 0;
    swarm_cancel_timer_result_t res;
    memcpy(&res, m->data, sizeof res);
    if (ref)
        *ref = res.ref;
    if (left)
        *left = res.left;
    return 1;
}

int swarm_msg_timer(const swarm_msg_t *m, swarm_ref_t *ref, uint32_t *tag, const void **data, size_t *size)
{
    if (!m || m->kind != SWARM__SIG_MSG || m->tag != SWARM_TAG_TIMER || m->size < sizeof(timer_body_t))
        return 0;
    const timer_body_t *b = (const timer_body_t *)m->data;
    if (ref)
        *ref = b->ref;
    if (tag)
        *tag = b->tag;
    if (data)
        *data = b->data;
    if (size)
        *size = m->size - sizeof *b;
    return 1;
}

void swarm__tmsg_init(swarm_t *sw)
{
    pthread_mutex_init(&sw->tmsg_lock, NULL);
    sw->tmsg_tab = NULL;
    sw->tmsg_cap = sw->tmsg_n = 0;
}

void swarm__tmsg_destroy(swarm_t *sw)
{
    for (size_t i = 0; i < sw->tmsg_cap; i++) {
        for (tmsg_t *t = sw->tmsg_tab[i], *next; t; t = next) {
            next = t->next;
            swarm__free(t);
        }
    }
    swarm__free(sw->tmsg_tab);
    sw->tmsg_tab = NULL;
    pthread_mutex_destroy(&sw->tmsg_lock);
}
