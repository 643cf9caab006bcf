/*
 * sched/run.c - the scheduler thread: its loop, switching to and from
 * processes, slices, the park primitive, and running one slice.
 *
 *  Park (process P, scheduler S). P switches to S with ACT_PARK and a
 *  commit hook. Only then, on S's stack, S stores WAITING and calls the
 *  hook; a hook that refuses (returns 0: the wait is already satisfied)
 *  makes P run again at once. Nobody can find P before the hook ran, so
 *  nobody can resume P before it is fully switched out (invariant
 *  3; models/proc_park.pml for the mailbox's hook, models/park_hook.pml
 *  for a lock-guarded wait queue's).
 *
 *  Wake. Whoever the hook lets find P (the one push that finds the
 *  mailbox's EMPTY mark, the one waker that dequeues P from a wait queue)
 *  stores RUNNABLE and enqueues P (queue.c: swarm__sched_wake); no other
 *  thread can, so no CAS is needed.
 */
#include "sched/internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "arch/switch.h"
#include "base/sanitizer.h"
#include "base/sys.h"
#include "sched/compact.h"
#include "sched/hibernate.h"
#include "base/upcalls.h"
#include "swarmrt/error.h"

/* The current scheduler: thread-local, read only through a call the
 * compiler cannot see through, so no TLS address survives a switch in a
 * register (invariant 4). */
static __thread swarm__sched_t *tls_sched;

SWARM_NOINLINE swarm__sched_t *swarm__sched_self(void)
{
    SWARM_BARRIER();
    return tls_sched;
}

SWARM_NOINLINE void swarm__sched_set_self(swarm__sched_t *s)
{
    SWARM_BARRIER();
    tls_sched = s;
}

/* Switching, with the sanitizers told which stack is live. */
static void switch_in(swarm__sched_t *s, swarm__proc_t *p)
{
    swarm__san_switch_begin(&s->asan_fake_stack, p->stack.base,
                            (size_t)((char *)p->stack.top - (char *)p->stack.base));
    swarm__san_fiber_switch(p->tsan_fiber);
    if (SWARM_UNLIKELY(!p->sp)) /* its first run: the process layer's entry */
        swarm__ctx_enter(&s->sp, p->stack.top, swarm__proc_main, p);
    else
        swarm__ctx_switch(&s->sp, p->sp);
    swarm__san_switch_end(s->asan_fake_stack);
}

void swarm__sched_switch_out(swarm__sched_t *s, swarm__proc_t *p, int action)
{
    s->action = action;
    /* An exiting process never comes back, nor do the frames of one that
     * hibernates: NULL lets ASan free its fake stack. */
    swarm__san_switch_begin(action == SWARM__ACT_EXIT || action == SWARM__ACT_HIBERNATE ? NULL
                                                                                     : &p->asan_fake_stack,
                            s->stack_bottom, s->stack_size);
    swarm__san_fiber_switch(s->tsan_fiber);
    swarm__ctx_switch(&p->sp, s->sp);
    /* Resumed, maybe on another thread: s is stale from here on. */
    swarm__san_switch_end(p->asan_fake_stack);
}

/* Has the slice lasted its time budget? Starts the slice's clock on the
 * first call. Never in deterministic mode (budget 0), where slices must
 * not depend on time. */
static int slice_budget_spent(swarm__sched_t *s)
{
    int64_t budget = s->swarm->slice_budget_ns;
    if (!budget)
        return 0;
    int64_t now = swarm__clock_ns();
    if (!s->slice_t0_ns)
        s->slice_t0_ns = now;
    return now - s->slice_t0_ns >= budget;
}

static SWARM_NOINLINE void slice_end(swarm__sched_t *s)
{
    SWARM__STAT_INC(s, yields);
    swarm__sched_switch_out(s, s->current, SWARM__ACT_YIELD);
}

/* A chunk is spent: start the next one, unless the slice is spent or has
 * lasted its time budget. */
static SWARM_NOINLINE void spend_slow(swarm__sched_t *s)
{
    if (--s->slice_chunks > 0 && !slice_budget_spent(s)) {
        s->reductions += SWARM__SLICE_CHUNK;
        return;
    }
    slice_end(s);
}

void swarm__sched_spend(swarm__sched_t *s, int32_t n)
{
    s->current->reductions += (uint64_t)n;
    s->reductions -= n;
    if (SWARM_UNLIKELY(s->reductions <= 0))
        spend_slow(s);
}

void swarm__sched_spend_timed(swarm__sched_t *s, int32_t n)
{
    s->current->reductions += (uint64_t)n;
    s->reductions -= n;
    if (SWARM_UNLIKELY(s->reductions <= 0))
        spend_slow(s);
    else if (slice_budget_spent(s))
        slice_end(s);
}

void swarm__sched_park(swarm__sched_t *s, swarm__proc_t *p, swarm__park_commit_fn commit, void *ctx)
{
    s->park_commit = commit;
    s->park_ctx = ctx;
    swarm__sched_switch_out(s, p, SWARM__ACT_PARK);
}

SWARM_NORETURN void swarm__sched_hibernate(swarm__sched_t *s, swarm__proc_t *p, swarm__park_commit_fn commit,
                                           void *cont)
{
    s->park_commit = commit;
    s->park_ctx = cont;
    swarm__sched_switch_out(s, p, SWARM__ACT_HIBERNATE);
    abort(); /* it starts afresh instead */
}

/* P switched out to hibernate: nothing on its stack is live any more
 * (its pages go in a batch: hibernate.h). */
static void hibernate(swarm__sched_t *s, swarm__proc_t *p)
{
    size_t len = (size_t)((char *)p->stack.top - (char *)p->stack.base);
    swarm__san_unpoison(p->stack.base, len); /* no red zone of a dead frame stays */
    p->sp = s->park_ctx;
    p->asan_fake_stack = NULL;
    p->flags |= SWARM__PF_HIBERNATED;
}

/* P is about to run and has no usable context: put its stack back, or
 * start it afresh if it hibernated. */
static SWARM_NOINLINE void unpark_slow(swarm__sched_t *s, swarm__proc_t *p)
{
    if (p->flags & SWARM__PF_COMPACTED) {
        swarm__compact_restore(s->swarm, p);
        return;
    }
    s->resume = p->sp;
    p->sp = NULL; /* switch_in enters the process layer's entry at the top */
    p->flags &= (uint16_t)~SWARM__PF_HIBERNATED;
}

SWARM_NORETURN void swarm__sched_exit(swarm__sched_t *s, int reason)
{
    swarm__proc_t *p = s->current;
    p->exit_reason = reason;
    swarm__sched_switch_out(s, p, SWARM__ACT_EXIT);
    abort(); /* an exited process is never resumed */
}

/* P is switched out: publish it as waiting, then run its park's commit
 * hook. Once the hook has published the wait, another thread may wake and
 * run P at once: do not touch P again. */
static int park_commit(swarm__sched_t *s, swarm__proc_t *p, uint32_t gen)
{
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_WAITING), memory_order_relaxed);
    /* The hook's publication (the mailbox mark's seq_cst CAS, a lock
     * release) orders the WAITING store before any waker's load. */
    if (s->park_commit(p, s->park_ctx))
        return 1;
    /* Refused: nobody could find P (the hook published nothing), so the
     * scheduler that stored WAITING is the only writer: relaxed. */
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNING), memory_order_relaxed);
    return 0;
}

void swarm__sched_run_proc(swarm__sched_t *s, swarm__proc_t *p)
{
    /* acquire: pairs with the release store of RUNNABLE by whoever made P
     * runnable (spawn, a yield below, swarm__sched_wake); the queue it came
     * through orders it too. release: senders that load the state (acquire,
     * swarm__ptable_live) see a live process. */
    uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
    uint32_t gen = swarm__pstate_gen(w);
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNING), memory_order_release);
    s->current = p;
    s->busy_sends = 0;
    /* relaxed: the watchdog only samples these (state.h). */
    atomic_store_explicit(&s->running_pid, swarm__pid_make(s->swarm->id, gen, p->index),
                          memory_order_relaxed);
    atomic_store_explicit(&s->slice_seq, atomic_load_explicit(&s->slice_seq, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    SWARM__STAT_INC(s, switches);
    if (SWARM_UNLIKELY(p->flags & (SWARM__PF_COMPACTED | SWARM__PF_HIBERNATED)))
        unpark_slow(s, p);

again:
    switch_in(s, p);

    s->current = NULL;
    atomic_store_explicit(&s->running_pid, 0, memory_order_relaxed);
    /* A broken canary, or a stack pointer saved below the usable stack (a
     * frame stepped over the guard without touching it): an overflow. */
    if (SWARM_UNLIKELY(swarm__stack_check(&p->stack) != 0 || (uintptr_t)p->sp < (uintptr_t)p->stack.base)) {
        swarm__crash_t c = {.signo = 0, .overflow = 1};
        swarm__proc_cleanup(s->swarm, s, p, SWARM_EXIT_STACK_OVERFLOW, &c);
        return;
    }
    switch (s->action) {
    case SWARM__ACT_YIELD:
        /* release: pairs with the acquire load at the top of this function
         * on whichever scheduler takes P next. */
        atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_RUNNABLE), memory_order_release);
        swarm__sched_requeue(s, p);
        break;
    case SWARM__ACT_HIBERNATE: /* it parks as any other wait; its stack goes later, in a batch */
    case SWARM__ACT_PARK: {
        int hib = s->action == SWARM__ACT_HIBERNATE;
        if (hib)
            hibernate(s, p);
        if (!park_commit(s, p, gen)) {
            /* Something arrived meanwhile: keep running it. */
            if (hib)
                unpark_slow(s, p); /* afresh, with the pages it has */
            s->current = p;
            atomic_store_explicit(&s->running_pid, swarm__pid_make(s->swarm->id, gen, p->index),
                                  memory_order_relaxed);
            goto again;
        }
        if (hib)
            swarm__hib_note(s, p, gen); /* (p itself may be running elsewhere already) */
        break;
    }
    case SWARM__ACT_EXIT:
        swarm__proc_cleanup(s->swarm, s, p, p->exit_reason, s->crash.signo || s->crash.overflow ? &s->crash : NULL);
        memset(&s->crash, 0, sizeof s->crash);
        break;
    default:
        abort();
    }
}

static swarm__proc_t *find_runnable(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    for (;;) {
        /* acquire: pairs with destroy's store of shutdown (then it wakes
         * every scheduler, idle.c swarm__sched_wake_all). */
        if (atomic_load_explicit(&sw->shutdown, memory_order_acquire))
            return NULL;
        swarm__proc_t *p = swarm__sched_find_local(s);
        if (!p)
            p = swarm__sched_steal_work(s);
        if (p) {
            if (s->spinning)
                swarm__sched_stop_spinning(s);
            return p;
        }
        /* The fds before sleeping; look again only if that readied someone. */
        if (swarm__io_poll_busy(s, 1) && (p = swarm__sched_find_local(s))) {
            if (s->spinning)
                swarm__sched_stop_spinning(s);
            return p;
        }
        swarm__sched_idle_park(s);
    }
}

/* The scheduler thread's last act: tell a waiting destroy. */
static void sched_exited(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    atomic_store(&s->exited, 1);
    atomic_fetch_add(&sw->sched_exit_word, 1);
    swarm__futex_wake(&sw->sched_exit_word, INT32_MAX);
}

static void *sched_main(void *arg)
{
    swarm__sched_t *s = arg;
    swarm__sched_set_self(s);
    /* Async signals go to other threads: a process may run on any scheduler
     * and must not see another's signal mask (pitfall 3). */
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, SIGSEGV);
    sigdelset(&set, SIGBUS);
    sigdelset(&set, SIGILL);
    sigdelset(&set, SIGFPE);
    sigdelset(&set, SIGABRT);
    sigdelset(&set, SIGTRAP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    swarm__fault_thread_enter(s);
    s->tid = (int)syscall(SYS_gettid);
    if (pthread_getcpuclockid(pthread_self(), &s->cpu_clock) == 0)
        atomic_store(&s->cpu_clock_ok, 1);
    swarm__san_thread_stack(&s->stack_bottom, &s->stack_size);
    s->tsan_fiber = swarm__san_fiber_current();
    swarm__proc_t *p;
    while ((p = find_runnable(s)))
        swarm__sched_run_proc(s, p);
    swarm__fault_thread_leave(s);
    swarm__sched_set_self(NULL);
    sched_exited(s);
    return NULL;
}

int swarm__sched_start(swarm__sched_t *s)
{
    int r = swarm__thread_start(&s->thread, 256 * 1024, sched_main, s);
    if (r != 0)
        return -r;
    s->thread_started = 1;
    return 0;
}

int swarm__sched_init(swarm__sched_t *s, swarm_t *sw, unsigned index)
{
    memset(s, 0, sizeof *s);
    s->swarm = sw;
    s->index = index;
    s->rng = (sw->cfg.deterministic_seed ? sw->cfg.deterministic_seed : (uint64_t)swarm__clock_ns()) ^
             (0x9E3779B97F4A7C15ull * (index + 1));
    if (!s->rng)
        s->rng = 1;
    swarm__wheel_init(&s->wheel, swarm__now_ms(sw));
    atomic_store_explicit(&s->timer_due, INT64_MAX, memory_order_relaxed);
    int r = swarm__plist_init(&s->inbox, sw->cfg.max_procs);
    if (r == 0 && (r = swarm__plist_init(&s->pinned, sw->cfg.max_procs)) != 0)
        swarm__plist_destroy(&s->inbox); /* a failed init leaves nothing behind */
    return r;
}

void swarm__sched_destroy(swarm__sched_t *s)
{
    for (size_t i = 0; i < s->timer_nblocks; i++)
        swarm__free(s->timer_blocks[i]);
    swarm__free(s->timer_blocks);
    s->timer_blocks = NULL;
    s->timer_nblocks = 0;
    s->timer_free = NULL;
    swarm__plist_destroy(&s->inbox);
    swarm__plist_destroy(&s->pinned);
}

