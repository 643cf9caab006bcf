/*
 * proc/spawn.c - starting a process: a table slot, a stack, a first
 * context, the resource list, and a place on a run queue.
 */
#include <string.h>

#include "base/sanitizer.h"
#include "base/upcalls.h"
#include "msg/msg.h"
#include "msg/sig.h"
#include "proc/proc.h"
#include "sched/compact.h"
#include "sched/sched.h"
#include "swarmrt.h"

void swarm__proc_main(void *arg)
{
    swarm__proc_t *p = arg;
    swarm__san_switch_end(NULL);
    swarm_fn fn;
    void *fn_arg;
    void *cont = swarm__sched_take_resume(swarm__sched_self());
    if (cont) {
        /* Woken from hibernation: it goes on in its continuation (which
         * may also put it back to sleep, until a message comes). */
        swarm__msg_hibernate_resume(cont, &fn, &fn_arg);
    } else {
        fn = p->fn;
        fn_arg = p->arg;
        /* The words of fn and arg count from now on (ptable.h). */
        p->reductions = 0;
        p->save_seq = 0;
    }
    fn(fn_arg);
    swarm_exit(SWARM_EXIT_NORMAL); /* returning is a normal exit */
}

void swarm_spawn_opts_init(swarm_spawn_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->scheduler = SWARM_SCHED_ANY;
}

void swarm__proc_live_drop(swarm_t *sw)
{
    if (atomic_fetch_sub(&sw->live, 1) == 1) {
        atomic_fetch_add(&sw->live_word, 1);
        swarm__futex_wake(&sw->live_word, INT32_MAX);
    }
}

/* What a spawn_link / spawn_monitor ties between the spawner (running,
 * the caller) and the child before the child can run. */
typedef struct bind {
    swarm__proc_t *parent;
    int link;
    const swarm_ref_t *mon; /* the monitor's ref, or NULL */
    int task;               /* the child is a task of the parent (task/) */
} bind_t;

/* Tie child p to the spawner: both halves, or neither (SWARM_ENOMEM). */
static int bind_child(swarm__sched_t *s, const bind_t *b, swarm__proc_t *p, swarm_pid_t child)
{
    swarm_pid_t parent = swarm__ptable_pid(b->parent);
    if (b->link) {
        if (swarm__sig_link_add(s, b->parent, child) != 0)
            return SWARM_ENOMEM;
        if (swarm__sig_link_add(s, p, parent) != 0) {
            swarm__sig_link_del(b->parent, child);
            return SWARM_ENOMEM;
        }
    }
    if (b->mon) {
        if (swarm__sig_mon_add(s, b->parent, 1, *b->mon, child) != 0) {
            if (b->link)
                swarm__sig_link_del(b->parent, child);
            return SWARM_ENOMEM;
        }
        if (swarm__sig_mon_add(s, p, 0, *b->mon, parent) != 0) {
            swarm__sig_mon_del_out(b->parent, *b->mon, NULL);
            if (b->link)
                swarm__sig_link_del(b->parent, child);
            return SWARM_ENOMEM;
        }
    }
    if (b->task)
        p->sig->task_owner = parent; /* (p->sig exists: the monitor made it) */
    return 0;
}

/* *slow (if not NULL) = the stack came from the arena's slow path. */
static int spawn_common(swarm_t *sw, swarm__sched_t *s, swarm_pid_t *out, swarm_fn fn, void *arg,
                        const swarm_spawn_opts_t *opts, int *slow, const bind_t *bind)
{
    if (!fn)
        return SWARM_EINVAL;
    int hint = opts ? opts->scheduler : SWARM_SCHED_ANY;
    int prio = opts ? opts->priority : SWARM_PRIO_NORMAL;
    size_t size = opts && opts->stack_size ? opts->stack_size : sw->stack_size;
    uint32_t mbox_max = opts ? opts->mailbox_max : 0;
    int mbox_full = opts ? opts->mailbox_full : SWARM_MBOX_PARK;
    if (hint < SWARM_SCHED_ANY || (hint >= 0 && (unsigned)hint >= sw->nsched) ||
        size > SWARM_MAX_STACK_SIZE || !swarm__prio_valid(prio) || mbox_max > SWARM_MAILBOX_MAX ||
        mbox_full < SWARM_MBOX_PARK || mbox_full > SWARM_MBOX_DROP)
        return SWARM_EINVAL;
    if (atomic_load_explicit(&sw->shutdown, memory_order_relaxed))
        return SWARM_ESHUTDOWN;

    /* Reserve a table slot by counting the process live first: the table
     * is full exactly when max_procs processes are live (or being spawned),
     * and a reservation always finds its slot (ptable/ptable.h). */
    uint64_t live = atomic_fetch_add(&sw->live, 1) + 1;
    if (live > sw->ptable.max) {
        swarm__proc_live_drop(sw);
        return SWARM_EAGAIN;
    }
    unsigned cache = s ? s->index : SWARM__PTABLE_NO_CACHE;
    swarm__proc_t *p = swarm__ptable_alloc(&sw->ptable, cache);
    int r = swarm__stack_alloc(sw->stacks, s ? s->index : SWARM__STACK_NO_CACHE, size, &p->stack);
    if (r != 0) {
        swarm__ptable_free(&sw->ptable, cache, p);
        swarm__proc_live_drop(sw);
        return r;
    }
    if (slow)
        *slow = p->stack.slow;
    p->swarm = sw;
    p->swarm_id = (uint16_t)sw->id;
    p->fn = fn;
    p->arg = arg;
    p->flags = 0;
    p->prio = (int8_t)prio;
    p->low_skips = 0;
    p->wait_kind = SWARM_WAIT_NONE;
    p->exit_reason = SWARM_EXIT_NORMAL;
    p->timer = NULL;
    p->save_head = p->save_tail = p->held = NULL;
    p->save_len = 0;
    p->asan_fake_stack = NULL;
    p->res = NULL;
    p->sig = NULL;
    atomic_store_explicit(&p->sig_pending, 0, memory_order_relaxed);
    p->call_corr = 0;
    swarm__msg_attach(p);
    /* (The stack arena unpoisons a reused slot for ASan when it hands it
     * out.) One TSan fiber per table slot, reused by the slot's next
     * owners (its spawn happens after the previous owner's exit, so TSan
     * loses nothing): TSan counts fibers against its thread limit (8128). */
    if (SWARM_TSAN && !p->tsan_fiber)
        p->tsan_fiber = swarm__san_fiber_create();
    p->sp = NULL; /* not run yet: the scheduler enters swarm__proc_main on its stack */

    uint32_t gen = swarm__pstate_gen(atomic_load_explicit(&p->state, memory_order_relaxed));
    swarm__mbound_spawn(&sw->ptable, p->index, gen, mbox_max, mbox_full);
    if (bind && bind_child(s, bind, p, swarm__pid_make(sw->id, gen, p->index)) != 0) {
        swarm__sig_discard(s, p);
        swarm__stack_free(sw->stacks, s ? s->index : SWARM__STACK_NO_CACHE, &p->stack);
        swarm__ptable_free(&sw->ptable, cache, p);
        swarm__proc_live_drop(sw);
        return SWARM_ENOMEM;
    }
    /* (After the last failure above: a slot freed here never counts.) */
    swarm__compact_spawn(sw, p, opts ? opts->compact_after_ms : 0);
    uint64_t peak = atomic_load_explicit(&sw->peak, memory_order_relaxed);
    while (live > peak && !atomic_compare_exchange_weak(&sw->peak, &peak, live))
        ;
    if (out)
        *out = swarm__pid_make(sw->id, gen, p->index);
    if (s)
        SWARM__STAT_INC(s, spawns);
    else
        atomic_fetch_add_explicit(&sw->foreign_spawns, 1, memory_order_relaxed);
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNABLE), memory_order_release);
    swarm__sched_submit(sw, s, p, hint);
    return 0;
}

/* A spawn counts as 10 calls. One whose stack took the arena's slow path
 * (a lock, maybe mmap and a guard install) reads the slice clock too
 * (swarm__sched_spend_timed). */
#define SPAWN_REDUCTIONS 10

/* A spawn from inside a process of the same swarm. */
static int spawn_here(swarm__sched_t *s, swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts,
                      const bind_t *bind)
{
    int slow = 0;
    swarm__proc_t *me = s->current;
    int r = spawn_common(s->swarm, s, out, fn, arg, opts, &slow, bind);
    if (r == 0 && slow)
        swarm__sched_spend_timed(s, SPAWN_REDUCTIONS);
    else if (r == 0)
        swarm__sched_spend(s, SPAWN_REDUCTIONS);
    swarm__sig_poll(me); /* a switch point */
    return r;
}

int swarm_spawn(swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    return spawn_here(s, out, fn, arg, opts, NULL);
}

int swarm_spawn_link(swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    bind_t b = {.parent = s->current, .link = 1};
    return spawn_here(s, out, fn, arg, opts, &b);
}

int swarm__spawn_bound(swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts, int link,
                       swarm_ref_t *mon, int task)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    swarm_ref_t r = swarm_make_ref();
    bind_t b = {.parent = s->current, .link = link, .mon = mon ? &r : NULL, .task = task && mon};
    int rc = spawn_here(s, out, fn, arg, opts, &b);
    if (rc == 0 && mon)
        *mon = r;
    return rc;
}

int swarm_spawn_monitor(swarm_pid_t *out, swarm_ref_t *ref, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts)
{
    if (!ref)
        return swarm__sched_current() ? SWARM_EINVAL : SWARM_ENOTPROC;
    return swarm__spawn_bound(out, fn, arg, opts, 0, ref, 0);
}

int swarm_spawn_in(swarm_t *sw, swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts)
{
    if (!sw)
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    if (s && s->swarm == sw && s->current)
        return spawn_here(s, out, fn, arg, opts, NULL);
    swarm__outside_begin(sw);
    int r = spawn_common(sw, NULL, out, fn, arg, opts, NULL, NULL);
    swarm__outside_end(sw);
    return r;
}
