/*
 * proc/exit.c - ending a process, whatever the reason: the resource list
 * is walked (invariant 6: nothing of a dead process survives), the
 * slot gets its next generation, a crash is reported, the exit hook runs.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/upcalls.h"
#include "msg/sig.h"
#include "ptable/names.h"
#include "reason/reason.h"
#include "proc/proc.h"
#include "sched/compact.h"
#include "sched/sched.h"
#include "swarmrt.h"

static swarm__sched_t *exit_caller(const char *fn)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current) {
        fprintf(stderr, "swarmrt: %s() called outside a process\n", fn);
        abort();
    }
    return s;
}

SWARM_NORETURN void swarm_exit_with(swarm_reason_t r)
{
    swarm__sched_t *s = exit_caller("swarm_exit_with");
    if (!swarm__reason_valid(&r))
        r = swarm_reason(SWARM_ATOM_UNDEFINED);
    swarm__sig_exit(s, s->current, &r);
}

SWARM_NORETURN void swarm_exit(int reason)
{
    swarm__sched_t *s = exit_caller("swarm_exit");
    if (reason >= SWARM_EXIT_NORMAL && reason <= SWARM_EXIT_NOMEM)
        swarm__sched_exit(s, reason);
    int64_t v = reason;
    swarm_reason_t r = {SWARM_ATOM_EXIT, sizeof v, &v};
    swarm__sig_exit(s, s->current, &r);
}

/* The int form of a reason (swarm_exit_info_t.reason). */
static int legacy_reason(const swarm_reason_t *r)
{
    if (r->atom <= SWARM_ATOM_NOMEM)
        return (int)r->atom;
    if (r->atom == SWARM_ATOM_EXIT && r->size == sizeof(int64_t)) {
        int64_t v;
        memcpy(&v, r->data, sizeof v);
        return (int)v;
    }
    return SWARM_EXIT_ATOM;
}

/* "name+0x1a (object)" for a pc; a caller's frame (a return address) is
 * looked up one byte back, inside its call. Normal context (dladdr). */
static void format_pc(char *buf, size_t len, uintptr_t pc, int is_return)
{
    Dl_info di;
    uintptr_t look = is_return ? pc - 1 : pc;
    if (!dladdr((void *)look, &di) || !di.dli_fname) {
        snprintf(buf, len, "?");
        return;
    }
    const char *obj = strrchr(di.dli_fname, '/');
    obj = obj ? obj + 1 : di.dli_fname;
    if (di.dli_sname && di.dli_saddr)
        snprintf(buf, len, "%s+%#lx (%s)", di.dli_sname, (unsigned long)(pc - (uintptr_t)di.dli_saddr), obj);
    else
        snprintf(buf, len, "%s+%#lx", *obj ? obj : "?", (unsigned long)(pc - (uintptr_t)di.dli_fbase));
}

/* The crash report on stderr: one line, then the process's frames. */
static void crash_report(swarm_t *sw, swarm_pid_t pid, int reason, const swarm__crash_t *crash,
                         const swarm_exit_info_t *info)
{
    char buf[SWARM_PID_STRLEN];
    swarm_pid_format(pid, buf, sizeof buf);
    if (!crash || !crash->signo) {
        fprintf(stderr, "swarmrt[%s]: process %s ended: %s (stack canary overwritten)\n", sw->name, buf,
                swarm_exit_reason_str(reason));
        return;
    }
    char where[256];
    format_pc(where, sizeof where, crash->pc, 0);
    /* One write per line group: concurrent reports do not interleave much. */
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "swarmrt[%s]: process %s ended: %s (signal %d, %s, address %#lx, pc %#lx in %s)\n",
                     sw->name, buf, swarm_exit_reason_str(reason), crash->signo, strsignal(crash->signo),
                     (unsigned long)crash->addr, (unsigned long)crash->pc, where);
    for (unsigned i = 1; i < info->nframes && n > 0 && (size_t)n < sizeof text; i++) {
        format_pc(where, sizeof where, info->frames[i], 1);
        n += snprintf(text + n, sizeof text - (size_t)n, "    #%u %#lx %s\n", i,
                      (unsigned long)info->frames[i], where);
    }
    fputs(text, stderr);
}

void swarm__proc_cleanup(swarm_t *sw, swarm__sched_t *s, swarm__proc_t *p, int reason,
                         const swarm__crash_t *crash)
{
    uint64_t w = atomic_load_explicit(&p->state, memory_order_acquire);
    uint32_t gen = swarm__pstate_gen(w);
    swarm_pid_t pid = swarm__pid_make(sw->id, gen, p->index);
    atomic_store_explicit(&p->state, swarm__pstate_make(gen, SWARM__PS_EXITING), memory_order_release);
    p->exit_reason = reason; /* an atom; its payload, if any, is in p->sig */
    /* Its stack is whole again before its resource list (nodes on it) runs. */
    swarm__compact_exit(sw, p);
    /* (One that hibernates and never woke, at destroy: its continuation is
     * on its resource list; sp and flags are set afresh by the slot's next
     * spawn.) */
    /* The name goes first: it is free again when a DOWN or EXIT arrives. */
    swarm__names_release(&sw->ptable.names, p, pid);

    swarm__sig_exit_sweep(s, p);
    /* Invariant 6: everything the process got through the runtime goes,
     * newest first. */
    while (p->res) {
        swarm__res_t *r = p->res;
        swarm__res_remove(&p->res, r);
        r->release(r, p, s);
    }
    /* The reason outlives the slot: the exit hook reads it. */
    unsigned char why_data[SWARM_REASON_MAX];
    swarm_reason_t why = swarm__sig_exit_reason(p);
    if (why.size) {
        memcpy(why_data, why.data, why.size);
        why.data = why_data;
    }
    swarm__sig_free(s, p);
    if (reason == SWARM_EXIT_STACK_OVERFLOW)
        swarm__stack_free_deep(sw->stacks, &p->stack); /* every page dirty */
    else
        swarm__stack_free(sw->stacks, s ? s->index : SWARM__STACK_NO_CACHE, &p->stack);
    p->fn = NULL;
    p->arg = NULL;

    /* The slot is free for a new generation: the old pid is dead from here. */
    atomic_store_explicit(&p->state, swarm__pstate_make(gen + 1, SWARM__PS_FREE), memory_order_release);
    swarm__ptable_free(&sw->ptable, s ? s->index : SWARM__PTABLE_NO_CACHE, p);

    if (s) {
        SWARM__STAT_INC(s, exits);
        if (reason == SWARM_EXIT_CRASH || reason == SWARM_EXIT_STACK_OVERFLOW)
            SWARM__STAT_INC(s, crashes);
    }
    swarm_exit_info_t info = {.pid = pid, .why = why};
    info.reason = legacy_reason(&info.why);
    if (crash) {
        info.signo = crash->signo;
        info.fault_addr = crash->addr;
        info.fault_pc = crash->pc;
        if (crash->signo) {
            info.nframes = crash->nframes <= SWARM_EXIT_FRAMES ? crash->nframes : SWARM_EXIT_FRAMES;
            memcpy(info.frames, crash->frames, info.nframes * sizeof info.frames[0]);
        }
    }
    if ((reason == SWARM_EXIT_CRASH || reason == SWARM_EXIT_STACK_OVERFLOW) && !sw->cfg.quiet)
        crash_report(sw, pid, reason, crash, &info);
    if (sw->cfg.on_exit)
        sw->cfg.on_exit(sw, &info, sw->cfg.on_exit_ud);

    swarm__proc_live_drop(sw);
}
