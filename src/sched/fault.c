/*
 * sched/fault.c - crashes stay in their process (invariant 7).
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
 * The order of the rules while a process runs:
 *  1. the stack pointer outside the process's stack, or a faulting address
 *     in the stack arena outside it: the process's stack overflowed, in
 *     whatever code (its own, the runtime's, libc's): stack_overflow;
 *  2. the pc in the runtime's own code (the section swarmrt_text, see
 *     cmake/runtime-text.sh) or in the C library: a report and abort().
 *     A fault in the runtime is a bug in SwarmRT, not a crash of the
 *     process, and the runtime may hold one of its locks or be half-way
 *     through a queue operation. Code in libc may hold a process-wide lock
 *     (a malloc arena's, a stdio stream's): ending the process there would
 *     leave the lock held and hang every thread that takes it next (issue 7
 *     item 3: two schedulers blocked in free()). libc does not say which
 *     of its functions hold locks, so every fault with the pc in libc is
 *     treated so, also a strlen(NULL) from process code;
 *  3. anything else (the pc in the application's code or another library):
 *     the process crashed: SWARM_EXIT_CRASH.
 * A fault anywhere else (scheduler code, a thread outside the runtime), or
 * any fault with abort_on_fault set, gets the previous disposition back and
 * re-executes: the default action dumps core as usual.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <execinfo.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "arch/cpu.h"
#include "base/sanitizer.h"
#include "base/sys.h"
#include "sched/sched.h"
#include "swarmrt.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
#define NSIG_FAULT (sizeof fault_signals / sizeof fault_signals[0])
static struct sigaction previous[NSIG_FAULT];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_result;

/* ------------------------------------------------------------------ */
/* Whose code a pc lies in. Found once, at install; read by the handler. */

/* The linker defines these for the section cmake/runtime-text.sh puts the
 * library's code in; hidden, so each module finds its own. */
extern const char __start_swarmrt_text[] __attribute__((weak, visibility("hidden")));
extern const char __stop_swarmrt_text[] __attribute__((weak, visibility("hidden")));

#define MAX_SEGS 4
typedef struct code_object {
    const char *name;     /* for the report */
    uintptr_t base;       /* load address: pc - base is what addr2line takes */
    unsigned nseg;
    uintptr_t lo[MAX_SEGS], hi[MAX_SEGS];
} code_object_t;
static code_object_t runtime_code, libc_code;
static char runtime_name[256], libc_name[256];

static int in_object(const code_object_t *o, uintptr_t pc)
{
    for (unsigned i = 0; i < o->nseg; i++)
        if (pc >= o->lo[i] && pc < o->hi[i])
            return 1;
    return 0;
}

struct find_arg {
    uintptr_t addr;
    code_object_t *out;
    char *name;
    size_t name_len;
};

/* dl_iterate_phdr callback: the executable segments of the object that
 * holds addr. */
static int find_object(struct dl_phdr_info *info, size_t size, void *argv)
{
    (void)size;
    struct find_arg *a = argv;
    code_object_t o = {.base = (uintptr_t)info->dlpi_addr};
    int holds = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (a->addr >= lo && a->addr < hi)
            holds = 1;
        if ((ph->p_flags & PF_X) && o.nseg < MAX_SEGS) {
            o.lo[o.nseg] = lo;
            o.hi[o.nseg++] = hi;
        }
    }
    if (!holds)
        return 0;
    snprintf(a->name, a->name_len, "%s", info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "the program");
    o.name = a->name;
    *a->out = o;
    return 1;
}

static void find_code(void)
{
    struct find_arg la = {(uintptr_t)&gnu_get_libc_version, &libc_code, libc_name, sizeof libc_name};
    dl_iterate_phdr(find_object, &la);
    code_object_t rt = {0};
    struct find_arg ra = {(uintptr_t)&swarm__fault_init, &rt, runtime_name, sizeof runtime_name};
    dl_iterate_phdr(find_object, &ra);
    uintptr_t start = (uintptr_t)__start_swarmrt_text, stop = (uintptr_t)__stop_swarmrt_text;
    if (start && stop > start) {
        /* Exactly the library's code, linked shared or static. */
        runtime_code.name = runtime_name;
        runtime_code.base = rt.base;
        runtime_code.nseg = 1;
        runtime_code.lo[0] = start;
        runtime_code.hi[0] = stop;
    } else if (rt.nseg && strcmp(runtime_name, "the program") != 0) {
        runtime_code = rt; /* a shared library of its own: all of its code */
    }
}

/* Async-signal-safe formatting for the report. */
typedef struct outbuf {
    char b[768];
    size_t n;
} outbuf_t;

static void out_str(outbuf_t *o, const char *str)
{
    while (*str && o->n < sizeof o->b - 1)
        o->b[o->n++] = *str++;
}

static void out_num(outbuf_t *o, uint64_t v, unsigned radix)
{
    char t[24];
    int k = 0;
    do {
        t[k++] = "0123456789abcdef"[v % radix];
        v /= radix;
    } while (v);
    if (radix == 16)
        out_str(o, "0x");
    while (k && o->n < sizeof o->b - 1)
        o->b[o->n++] = t[--k];
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    default: return "signal";
    }
}

/* A fault in the runtime's code or in libc while process p ran: say so
 * and abort (see the top of the file). */
SWARM_NORETURN static void internal_fault(int sig, uintptr_t addr, uintptr_t pc, const swarm__sched_t *s,
                                          const swarm__proc_t *p, const code_object_t *where)
{
    int rt = where == &runtime_code;
    outbuf_t o = {.n = 0};
    out_str(&o, rt ? "swarmrt: internal fault in runtime code: " : "swarmrt: fault inside the C library: ");
    out_str(&o, sig_name(sig));
    out_str(&o, " (signal ");
    out_num(&o, (uint64_t)sig, 10);
    out_str(&o, ") at address ");
    out_num(&o, addr, 16);
    out_str(&o, ", pc ");
    out_num(&o, pc, 16);
    out_str(&o, " (");
    out_str(&o, where->name);
    out_str(&o, " +");
    out_num(&o, pc - where->base, 16);
    out_str(&o, "), while process <");
    swarm_pid_t pid = swarm__ptable_pid(p);
    out_num(&o, swarm__pid_swarm(pid), 10);
    out_str(&o, ".");
    out_num(&o, swarm__pid_index(pid), 10);
    out_str(&o, ".");
    out_num(&o, swarm__pid_gen(pid), 10);
    out_str(&o, "> of swarm \"");
    out_str(&o, s->swarm->name);
    out_str(&o, rt ? "\" ran. This is a bug in SwarmRT, not a crash of the process: it cannot be ended safely "
                     "(a runtime lock may be held). Aborting.\n"
                   : "\" ran. The C library may hold a lock here (malloc's, stdio's), so the process cannot be "
                     "ended safely: aborting. Check the arguments the process passed to the C library.\n");
    ssize_t w = write(STDERR_FILENO, o.b, o.n);
    (void)w;
    /* The name of the function, best effort: dladdr is not async-signal-
     * safe, but the report above is out and the node is ending anyway. */
    Dl_info di;
    if (dladdr((void *)pc, &di) && di.dli_sname) {
        o.n = 0;
        out_str(&o, "swarmrt: the faulting pc is in ");
        out_str(&o, di.dli_sname);
        out_str(&o, " +");
        out_num(&o, pc - (uintptr_t)di.dli_saddr, 16);
        out_str(&o, "\n");
        w = write(STDERR_FILENO, o.b, o.n);
        (void)w;
    }
    signal(SIGABRT, SIG_DFL);
    abort();
}

/* Runs on the crashed process's stack, in normal (not signal) context. */
static SWARM_NO_ASAN void crash_entry(void)
{
    swarm__sched_t *s = swarm__sched_self();
    swarm__proc_t *p = s->current;
    /* The dead frames left poison in the shadow of this stack. */
    swarm__san_unpoison(p->stack.base, (size_t)((char *)p->stack.top - (char *)p->stack.base));
    swarm__sched_exit(s, s->crash.overflow ? SWARM_EXIT_STACK_OVERFLOW : SWARM_EXIT_CRASH);
}

static void restore_and_return(int sig)
{
    for (size_t i = 0; i < NSIG_FAULT; i++)
        if (fault_signals[i] == sig)
            sigaction(sig, &previous[i], NULL);
    /* Returning re-executes the faulting instruction under the previous
     * disposition (the default one dumps core). */
}

/* The crashed process's own frames, innermost first, into s->crash.frames:
 * glibc's backtrace() (libgcc's DWARF unwinder, warmed up at install so it
 * loads nothing here) walks from this handler through the kernel's signal
 * frame into the process's frames, which start at the faulting pc. Bounded
 * by the frame count. The unwinder reads the process's stack as its CFI
 * says; should a corrupt stack make it fault, the nested fault jumps back
 * here (fault_handler, first lines) and the frames found so far are kept. */
static void capture_frames(swarm__sched_t *s, uintptr_t pc)
{
    void *raw[SWARM_EXIT_FRAMES + 8];
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        raw[i] = NULL;
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1) == 0) {
        s->crash.unwind_jmp = &jb;
        sigset_t faults;
        sigemptyset(&faults);
        sigaddset(&faults, SIGSEGV);
        sigaddset(&faults, SIGBUS);
        pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
        backtrace(raw, (int)(sizeof raw / sizeof raw[0]));
    }
    s->crash.unwind_jmp = NULL;
    unsigned n = 0;
    s->crash.frames[n++] = pc;
    size_t i = 0;
    while (i < sizeof raw / sizeof raw[0] && raw[i] && (uintptr_t)raw[i] != pc)
        i++; /* this handler, the signal trampoline */
    for (i++; i < sizeof raw / sizeof raw[0] && raw[i] && n < SWARM_EXIT_FRAMES; i++)
        s->crash.frames[n++] = (uintptr_t)raw[i];
    s->crash.nframes = n;
}

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    swarm__sched_t *s = swarm__sched_self();
    if (s && s->crash.unwind_jmp)
        siglongjmp(*(sigjmp_buf *)s->crash.unwind_jmp, 1); /* the unwinder faulted */
    swarm__proc_t *p = s ? s->current : NULL;
    if (!p || s->swarm->cfg.abort_on_fault) {
        restore_and_return(sig);
        return;
    }
    uintptr_t sp = swarm__arch_ctx_sp(uc);
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
        !(sp < base && base - sp <= swarm__stack_guard_size(s->swarm->stacks) + swarm__page_size())) {
        /* Not on a process stack: the runtime itself faulted. */
        restore_and_return(sig);
        return;
    }
    uintptr_t pc = swarm__arch_ctx_pc(uc);
    int overflow = (sig == SIGSEGV || sig == SIGBUS) && (arena_hit || sp_out);
    if (!overflow) {
        /* Rule 2: runtime or libc code, after the stack rule. */
        if (in_object(&runtime_code, pc))
            internal_fault(sig, addr, pc, s, p, &runtime_code);
        if (in_object(&libc_code, pc))
            internal_fault(sig, addr, pc, s, p, &libc_code);
    }
    s->crash.signo = sig;
    s->crash.addr = addr;
    s->crash.pc = pc;
    s->crash.overflow = overflow;
    /* An overflowed stack is not walked: its frames may lie in the guard. */
    s->crash.frames[0] = pc;
    s->crash.nframes = 1;
    if (!overflow)
        capture_frames(s, pc);
    /* Continue in crash_entry on the top of the process's own slot, as if
     * called there. */
    swarm__arch_ctx_redirect(uc, crash_entry, top, 256);
}

static void install(void)
{
    find_code();
    /* The first backtrace() loads libgcc's unwinder: not in a handler. */
    void *warm[2];
    backtrace(warm, 2);
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
