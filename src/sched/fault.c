/*
 * sched/fault.c - crashes stay in their process (DESIGN invariant 7).
 *
 * Every scheduler thread has a sigaltstack sized from AT_MINSIGSTKSZ, and
 * SIGSEGV, SIGBUS, SIGILL and SIGFPE are handled on it. When the fault hit
 * a process (the interrupted stack pointer lies in the running process's
 * stack slot) the handler records what happened and rewrites the
 * interrupted context so that, when the handler returns, the thread
 * continues in crash_entry() at the top of the dead process's own stack
 * slot. crash_entry ends the process like swarm_exit would: the scheduler
 * releases its resources and reports it. No longjmp runs through user
 * frames; the dead frames are simply never resumed.
 *
 * A fault anywhere else (scheduler code, a thread outside the runtime), or
 * any fault with abort_on_fault set, gets the previous disposition back and
 * re-executes: the default action dumps core as usual.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "base/sys.h"
#include "runtime/swarm.h"
#include "sched/sched.h"
#include "swarmrt.h"

#if SWARM_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
#define NSIG_FAULT (sizeof fault_signals / sizeof fault_signals[0])
static struct sigaction previous[NSIG_FAULT];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_result;

/* Runs on the crashed process's stack, in normal (not signal) context. */
static SWARM_NO_ASAN void crash_entry(void)
{
    swarm__sched_t *s = swarm__sched_self();
#if SWARM_ASAN
    swarm__proc_t *p = s->current;
    /* The dead frames left poison in the shadow of this stack. */
    __asan_unpoison_memory_region(p->stack.base, (size_t)((char *)p->stack.top - (char *)p->stack.base));
#endif
    swarm_exit(s->crash.overflow ? SWARM_EXIT_STACK_OVERFLOW : SWARM_EXIT_CRASH);
}

static void restore_and_return(int sig)
{
    for (size_t i = 0; i < NSIG_FAULT; i++)
        if (fault_signals[i] == sig)
            sigaction(sig, &previous[i], NULL);
    /* Returning re-executes the faulting instruction under the previous
     * disposition (the default one dumps core). */
}

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = s ? s->current : NULL;
    if (!p || s->swarm->cfg.abort_on_fault) {
        restore_and_return(sig);
        return;
    }
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    uintptr_t addr = (uintptr_t)si->si_addr;
    uintptr_t base = (uintptr_t)p->stack.base, top = (uintptr_t)p->stack.top;
    /* Stack overflow: the stack pointer left the process's usable stack,
     * or the faulting address lies in the stack arena but not in that
     * stack (a guard, a chunk's floor, a slot not set up). Only processes
     * run on arena stacks and nothing else points into the arena, so
     * either means this process's stack ran out (a frame that jumped its
     * guard, or an overflow running down through unguarded CANARY slots),
     * whatever code was running: it ends this process, never the node. */
    int sp_out = sp < base || sp >= top;
    int arena_hit = (sig == SIGSEGV || sig == SIGBUS) && (addr < base || addr >= top) &&
                    swarm__stack_arena_contains(s->swarm->stacks, addr);
    if (sp_out && !arena_hit && !swarm__stack_arena_contains(s->swarm->stacks, sp) &&
        !(sp < base && base - sp <= swarm__stack_guard_size(s->swarm->stacks) + 4096)) {
        /* Not on a process stack: the runtime itself faulted. */
        restore_and_return(sig);
        return;
    }
    s->crash.signo = sig;
    s->crash.addr = addr;
    s->crash.pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    s->crash.overflow = (sig == SIGSEGV || sig == SIGBUS) && (arena_hit || sp_out);
    /* Continue in crash_entry on the top of the process's own slot, as if
     * called there: (rsp + 8) % 16 == 0 at entry, no frame pointer chain. */
    uintptr_t nsp = ((top - 256) & ~(uintptr_t)15) - 8;
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)nsp;
    uc->uc_mcontext.gregs[REG_RBP] = 0;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)crash_entry;
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIG_FAULT; i++) {
        if (sigaction(fault_signals[i], &sa, &previous[i]) != 0) {
            install_result = -1;
            return;
        }
    }
}

int swarm__fault_init(void)
{
    pthread_once(&install_once, install);
    return install_result;
}

int swarm__fault_thread_enter(swarm__sched_t *s)
{
    size_t min = (size_t)getauxval(AT_MINSIGSTKSZ);
    if (min < (size_t)MINSIGSTKSZ)
        min = (size_t)MINSIGSTKSZ;
    /* Room for the kernel's frame (AVX-512 state included) plus the handler. */
    size_t size = min * 4 + 64 * 1024;
    size_t page = swarm__page_size();
    size = (size + page - 1) & ~(page - 1);
    void *m = SWARM__SYS(mmap)(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return SWARM_ENOMEM;
    stack_t ss = {.ss_sp = m, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        SWARM__SYS(munmap)(m, size);
        return SWARM_ENOMEM;
    }
    s->altstack = m;
    s->altstack_size = size;
    return 0;
}

void swarm__fault_thread_leave(swarm__sched_t *s)
{
    if (!s->altstack)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    SWARM__SYS(munmap)(s->altstack, s->altstack_size);
    s->altstack = NULL;
}
