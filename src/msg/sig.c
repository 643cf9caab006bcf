/*
 * msg/sig.c - signals on the receiving side (rules in sig.h).
 */
#include "msg/sig.h"

#include <string.h>

#include "base/sys.h"
#include "mem/pool.h"
#include "msg/internal.h"
#include "ptable/registry.h"
#include "reason/reason.h"
#include "sched/sched.h"
#include "swarmrt.h"
#include "swarmrt/signal.h"

/* ---- the signal state ---- */

static void psig_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s);

swarm__psig_t *swarm__sig_state(swarm__sched_t *s, swarm__proc_t *p)
{
    if (p->sig)
        return p->sig;
    swarm__psig_t *g = swarm__pool_alloc(s ? &s->pool : NULL, sizeof *g);
    if (!g)
        return NULL;
    memset(g, 0, offsetof(swarm__psig_t, exit_data));
    g->res.release = psig_release;
    swarm__res_add(&p->res, &g->res);
    p->sig = g;
    return g;
}

/* Grow an array of n elements of size sz to hold one more. */
static int grow(void **arr, uint32_t n, uint32_t *cap, size_t sz)
{
    if (n < *cap)
        return 0;
    uint32_t c = *cap ? *cap * 2 : 4;
    void *a = swarm__malloc((size_t)c * sz);
    if (!a)
        return SWARM_ENOMEM;
    if (n)
        memcpy(a, *arr, (size_t)n * sz);
    swarm__free(*arr);
    *arr = a;
    *cap = c;
    return 0;
}

static int link_find(const swarm__psig_t *g, swarm_pid_t pid)
{
    for (uint32_t i = 0; g && i < g->nlinks; i++)
        if (g->links[i] == pid)
            return (int)i;
    return -1;
}

int swarm__sig_linked(const swarm__proc_t *p, swarm_pid_t pid)
{
    return link_find(p->sig, pid) >= 0;
}

int swarm__sig_link_add(swarm__sched_t *s, swarm__proc_t *p, swarm_pid_t pid)
{
    swarm__psig_t *g = swarm__sig_state(s, p);
    if (!g)
        return SWARM_ENOMEM;
    if (link_find(g, pid) >= 0)
        return 0;
    if (grow((void **)&g->links, g->nlinks, &g->links_cap, sizeof *g->links))
        return SWARM_ENOMEM;
    g->links[g->nlinks++] = pid;
    return 0;
}

int swarm__sig_link_del(swarm__proc_t *p, swarm_pid_t pid)
{
    swarm__psig_t *g = p->sig;
    int i = link_find(g, pid);
    if (i < 0)
        return 0;
    g->links[i] = g->links[--g->nlinks];
    return 1;
}

int swarm__sig_mon_add(swarm__sched_t *s, swarm__proc_t *p, int out, swarm_ref_t ref, swarm_pid_t pid)
{
    swarm__psig_t *g = swarm__sig_state(s, p);
    if (!g)
        return SWARM_ENOMEM;
    swarm__mon_t **arr = out ? &g->out : &g->in;
    uint32_t *n = out ? &g->nout : &g->nin, *cap = out ? &g->out_cap : &g->in_cap;
    if (grow((void **)arr, *n, cap, sizeof **arr))
        return SWARM_ENOMEM;
    (*arr)[(*n)++] = (swarm__mon_t){ref, pid};
    return 0;
}

static int mon_del(swarm__mon_t *arr, uint32_t *n, swarm_ref_t ref, swarm_pid_t *pid)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (swarm_ref_eq(arr[i].ref, ref)) {
            if (pid)
                *pid = arr[i].pid;
            arr[i] = arr[--*n];
            return 1;
        }
    }
    return 0;
}

int swarm__sig_mon_del_out(swarm__proc_t *p, swarm_ref_t ref, swarm_pid_t *pid)
{
    return p->sig ? mon_del(p->sig->out, &p->sig->nout, ref, pid) : 0;
}

swarm_reason_t swarm__sig_exit_reason(swarm__proc_t *p)
{
    swarm_reason_t r = swarm_reason((swarm_atom_t)p->exit_reason);
    if (p->sig && p->sig->exit_size) {
        r.size = p->sig->exit_size;
        r.data = p->sig->exit_data;
    }
    return r;
}

SWARM_NORETURN void swarm__sig_exit(swarm__sched_t *s, swarm__proc_t *p, const swarm_reason_t *r)
{
    swarm_atom_t atom = r->atom;
    if (r->size) {
        swarm__psig_t *g = swarm__sig_state(s, p);
        if (g) {
            memcpy(g->exit_data, r->data, r->size);
            g->exit_size = r->size;
        } else {
            atom = SWARM_ATOM_NOMEM; /* no room for the payload: say so */
        }
    } else if (p->sig) {
        p->sig->exit_size = 0;
    }
    swarm__sched_exit(s, (int)atom);
}

/* ---- sending ---- */

static swarm__sig_body_t *body_of(swarm_msg_t *m) { return (swarm__sig_body_t *)m->data; }

static int sig_send_corr(swarm__sched_t *s, swarm_pid_t pid, swarm_pid_t from, uint32_t kind, const swarm_ref_t *ref,
                         const swarm_reason_t *reason, int linked, uint32_t corr);

int swarm__sig_send(swarm__sched_t *s, swarm_pid_t pid, swarm_pid_t from, uint32_t kind, const swarm_ref_t *ref,
                    const swarm_reason_t *reason, int linked)
{
    return sig_send_corr(s, pid, from, kind, ref, reason, linked, 0);
}

int swarm__sig_send_info(swarm__sched_t *s, swarm_pid_t pid, swarm_pid_t from, uint32_t corr)
{
    return sig_send_corr(s, pid, from, SWARM__SIG_INFO, NULL, NULL, 0, corr);
}

void swarm__sig_info(swarm__proc_t *p, swarm_process_info_t *out)
{
    memset(out, 0, sizeof *out);
    swarm__psig_t *g = p->sig;
    out->mailbox_len = swarm__msg_count(p, &out->mailbox_bytes);
    out->trap_exit = (p->flags & SWARM__PF_TRAP_EXIT) != 0;
    out->reductions = p->reductions;
    out->priority = p->prio;
    /* p answers itself: it waits for what the receive it answers from
     * waits for (none when it answers at another switch point). */
    out->wait = p->wait_kind;
    out->wait_tag = p->wait_kind == SWARM_WAIT_RECV_TAG ? p->wait_tag : 0;
    int64_t due = p->wait_kind != SWARM_WAIT_NONE ? swarm__timer_deadline(p) : INT64_MAX;
    out->wait_deadline_ms = due == INT64_MAX ? SWARM_INFINITE : due;
    /* p runs this on its own stack: its depth is from here to the top. */
    out->stack_size = (size_t)((char *)p->stack.top - (char *)p->stack.base);
    out->stack_used = (size_t)((char *)p->stack.top - (char *)__builtin_frame_address(0));
    size_t page = swarm__page_size();
    out->memory = sizeof *p + (out->stack_used + page - 1) / page * page + out->mailbox_bytes;
    uint32_t n1 = atomic_load_explicit(&p->name1, memory_order_relaxed);
    out->name = n1 ? n1 - 1 : SWARM_ATOM_UNDEFINED;
    if (g) {
        out->links = g->nlinks;
        out->monitors = g->nout;
        out->monitored_by = g->nin;
        out->heap_bytes = g->heap_bytes;
        out->memory += sizeof *g + g->heap_bytes;
        memcpy(out->label, g->label, sizeof out->label);
    }
}

static int sig_send_corr(swarm__sched_t *s, swarm_pid_t pid, swarm_pid_t from, uint32_t kind, const swarm_ref_t *ref,
                         const swarm_reason_t *reason, int linked, uint32_t corr)
{
    swarm__target_t t;
    int rc = swarm__pid_resolve(pid, s ? s->swarm->id : 0, &t);
    if (rc != 0)
        return rc;
    if (!t.p || !t.live) {
        swarm__pid_release(&t);
        return t.p ? SWARM_ESRCH : SWARM_EINVAL;
    }
    uint32_t size = reason ? reason->size : 0;
    swarm_msg_t *m = swarm__msg_alloc(s, sizeof(swarm__sig_body_t) + size);
    if (!m) {
        swarm__pid_release(&t);
        return SWARM_ENOMEM;
    }
    m->to = pid;
    m->from = from;
    m->kind = kind;
    m->tag = 0;
    m->corr = corr;
    swarm__sig_body_t *b = body_of(m);
    memset(b, 0, sizeof *b);
    if (ref)
        b->ref = *ref;
    b->atom = reason ? reason->atom : SWARM_ATOM_NORMAL;
    b->size = size;
    b->linked = (uint32_t)linked;
    b->pid = from;
    if (size)
        memcpy(b->data, reason->data, size);
    swarm_t *sw = t.sw;
    int outside = !s || s->swarm != sw;
    if (outside)
        swarm__outside_begin(sw);
    if (swarm__mbox_push(&t.p->mbox, &m->link))
        swarm__sched_wake(t.p);
    else if (kind == SWARM__SIG_EXIT || kind == SWARM__SIG_INFO)
        /* release: the push is visible before the flag (a running target
         * checks the flag at its switch points, then pops). */
        atomic_store_explicit(&t.p->sig_pending, 1, memory_order_release);
    if (outside)
        swarm__outside_end(sw);
    swarm__pid_release(&t);
    return 0;
}

/* ---- handling ---- */

/* Turn signal m into the message the process receives. */
static swarm_msg_t *as_note(swarm_msg_t *m, uint32_t tag)
{
    m->kind = SWARM__SIG_NOTE;
    m->tag = tag;
    return m;
}

/* The process ends with the signal's reason (payload copied before the
 * entry goes). */
SWARM_NORETURN static void die(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m, swarm_atom_t atom)
{
    swarm__sig_body_t *b = body_of(m);
    swarm_reason_t r = {atom, atom == b->atom ? b->size : 0, b->data};
    unsigned char copy[SWARM_REASON_MAX];
    if (r.size) {
        memcpy(copy, b->data, r.size);
        r.data = copy;
    }
    swarm__msg_release(s, m);
    swarm__sig_exit(s, p, &r);
}

static swarm_msg_t *handle_exit(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m)
{
    swarm__sig_body_t *b = body_of(m);
    int trapping = (p->flags & SWARM__PF_TRAP_EXIT) != 0;
    if (b->linked) {
        if (!swarm__sig_link_del(p, m->from))
            goto drop; /* unlinked meanwhile */
        if (trapping)
            return as_note(m, SWARM_TAG_EXIT);
        if (b->atom == SWARM_ATOM_NORMAL)
            goto drop;
        die(s, p, m, b->atom);
    }
    if (b->atom == SWARM_ATOM_KILL)
        die(s, p, m, SWARM_ATOM_KILLED);
    if (trapping)
        return as_note(m, SWARM_TAG_EXIT);
    if (b->atom == SWARM_ATOM_NORMAL && m->from != m->to)
        goto drop;
    die(s, p, m, b->atom);
drop:
    swarm__msg_release(s, m);
    return NULL;
}

swarm_msg_t *swarm__sig_handle(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m)
{
    swarm__sig_body_t *b = body_of(m);
    switch (m->kind) {
    case SWARM__SIG_EXIT:
        return handle_exit(s, p, m);
    case SWARM__SIG_LINK:
        if (swarm__sig_link_add(s, p, m->from) != 0) {
            /* No room to hold the link: the linker hears it as an exit. */
            swarm_reason_t r = swarm_reason(SWARM_ATOM_NOMEM);
            swarm__sig_send(s, m->from, m->to, SWARM__SIG_EXIT, NULL, &r, 1);
        }
        break;
    case SWARM__SIG_UNLINK:
        swarm__sig_link_del(p, m->from);
        break;
    case SWARM__SIG_MONITOR:
        if (swarm__sig_mon_add(s, p, 0, b->ref, m->from) != 0) {
            swarm_reason_t r = swarm_reason(SWARM_ATOM_NOMEM);
            swarm__sig_send(s, m->from, m->to, SWARM__SIG_DOWN, &b->ref, &r, 0);
        }
        break;
    case SWARM__SIG_DEMONITOR:
        if (p->sig)
            mon_del(p->sig->in, &p->sig->nin, b->ref, NULL);
        break;
    case SWARM__SIG_DOWN:
        if (swarm__sig_mon_del_out(p, b->ref, NULL))
            return as_note(m, SWARM_TAG_DOWN);
        break; /* demonitored */
    case SWARM__SIG_GIVE: {
        swarm__res_t *r;
        memcpy(&r, m->data, sizeof r);
        swarm__res_add(&p->res, r);
        break;
    }
    case SWARM__SIG_INFO: {
        swarm_process_info_t info;
        swarm__sig_info(p, &info);
        swarm__msg_send_kind(m->from, SWARM__SIG_REPLY, 0, m->corr, &info, sizeof info);
        break;
    }
    default:
        break;
    }
    swarm__msg_release(s, m);
    return NULL;
}

void swarm__sig_drop(swarm__sched_t *s, swarm_msg_t *m)
{
    swarm_reason_t noproc = swarm_reason(SWARM_ATOM_NOPROC);
    if (m->kind == SWARM__SIG_LINK)
        swarm__sig_send(s, m->from, m->to, SWARM__SIG_EXIT, NULL, &noproc, 1);
    else if (m->kind == SWARM__SIG_MONITOR)
        swarm__sig_send(s, m->from, m->to, SWARM__SIG_DOWN, &body_of(m)->ref, &noproc, 0);
    else if (m->kind == SWARM__SIG_GIVE) {
        swarm__res_t *r; /* nobody took it: give it back now */
        memcpy(&r, m->data, sizeof r);
        r->release(r, NULL, s);
    }
    swarm__msg_release(s, m);
}

void swarm__sig_exit_sweep(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm_pid_t me = swarm__ptable_pid(p);
    swarm__mnode_t *n;
    while ((n = swarm__mbox_pop(&p->mbox))) {
        swarm_msg_t *m = (swarm_msg_t *)n;
        if (m->to != me && SWARM__SIG_IS_SIGNAL(m->kind)) {
            swarm__sig_drop(s, m); /* for the slot's previous owner */
            continue;
        }
        if (!SWARM__SIG_IS_SIGNAL(m->kind)) {
            swarm__msg_save_append(s, p, m); /* the exit drain frees and counts them */
            continue;
        }
        switch (m->kind) {
        case SWARM__SIG_LINK:
        case SWARM__SIG_UNLINK:
        case SWARM__SIG_MONITOR:
        case SWARM__SIG_DEMONITOR:
        case SWARM__SIG_GIVE: /* taken, then given back by the resource walk */
            swarm__sig_handle(s, p, m); /* never ends p: these kinds cannot */
            break;
        default:
            swarm__msg_release(s, m);
            break;
        }
    }
}

void swarm__sig_poll_slow(swarm__proc_t *p)
{
    swarm__sched_t *s = swarm__sched_self(); /* p may have moved since the caller looked */
    atomic_store_explicit(&p->sig_pending, 0, memory_order_relaxed);
    swarm__msg_take_queue(s, p);
}

/* ---- the end of a process ---- */

static void psig_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    swarm__psig_t *g = (swarm__psig_t *)r;
    swarm_pid_t me = swarm__ptable_pid(p);
    swarm_reason_t why = swarm__sig_exit_reason(p);
    for (uint32_t i = 0; i < g->nlinks; i++)
        swarm__sig_send(s, g->links[i], me, SWARM__SIG_EXIT, NULL, &why, 1);
    for (uint32_t i = 0; i < g->nin; i++)
        swarm__sig_send(s, g->in[i].pid, me, SWARM__SIG_DOWN, &g->in[i].ref, &why, 0);
    for (uint32_t i = 0; i < g->nout; i++)
        swarm__sig_send(s, g->out[i].pid, me, SWARM__SIG_DEMONITOR, &g->out[i].ref, NULL, 0);
    swarm__free(g->links);
    swarm__free(g->out);
    swarm__free(g->in);
    while (g->heap) { /* its swarm_alloc memory (invariant 6) */
        swarm__heap_blk_t *b = g->heap;
        g->heap = b->next;
        swarm__pool_free(s ? &s->pool : NULL, b, sizeof *b + b->size);
    }
    /* The exit reason's payload is still needed by the exit hook: the
     * block goes when the slot is reused or freed (swarm__sig_free). */
    g->links = NULL;
    g->out = g->in = NULL;
    g->nlinks = g->nout = g->nin = 0;
    g->links_cap = g->out_cap = g->in_cap = 0;
}

void swarm__sig_discard(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm__psig_t *g = p->sig;
    if (!g)
        return;
    swarm__res_remove(&p->res, &g->res);
    swarm__free(g->links);
    swarm__free(g->out);
    swarm__free(g->in);
    swarm__sig_free(s, p);
}

void swarm__sig_free(swarm__sched_t *s, swarm__proc_t *p)
{
    if (p->sig) {
        swarm__pool_free(s ? &s->pool : NULL, p->sig, sizeof *p->sig);
        p->sig = NULL;
    }
}
